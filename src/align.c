/* Forced alignment of one utterance → word, letter and phoneme events. */
#include "napkit/align.h"

#include "align_impl.h"
#include "napkit/ctc.h"
#include "napkit/error.h"
#include "napkit/phoneset.h"
#include "napkit/text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int nk_align_config_init(nk_align_config *c, const nk_arch *arch) {
    memset(c, 0, sizeof *c);
    c->alphabet = (const char *const *)arch->alphabet;
    c->n_classes = arch->n_classes;
    c->blank = arch->blank;
    c->separator = -1;
    for (int k = 0; k < arch->n_classes; k++)
        if (!strcmp(arch->alphabet[k], " ")) c->separator = k;
    if (c->separator < 0) return nk_fail(NK_ERR_ARG, "%s: the alphabet has no word separator \" \"", arch->name);
    const nk_frontend_config *f = &arch->frontend;
    c->frame_seconds = (double)nk_arch_total_stride(arch, arch->n_layers - 1) * f->hop / f->sample_rate;
    return NK_OK;
}

double nk_align_model_delay(const nk_model *m, int midway) {
    double d = nk_model_onset_delay(m);
    return midway || isnan(d) ? 0 : d;
}

void nk_align_result_free(nk_align_result *r) {
    if (!r) return;
    for (int t = 0; t < NK_N_TIERS; t++) free(r->ev[t]);
    free(r->words);
    memset(r, 0, sizeof *r);
}

void nk_align_phone_spans(const double *start, const double *end, const nk_lp_group *g, int n_groups,
                          double *ps, double *pe, int *carrier) {
    const nk_lp_group *last = &g[n_groups - 1];
    double word_end = end[last->letter_start + last->n_letters - 1];
    int first = 1;
    for (int i = 0; i < n_groups; i++) {
        if (!g[i].n_phones) continue;
        double s = first ? start[0] : start[g[i].letter_start], e = word_end;
        for (int j = i + 1; j < n_groups; j++)
            if (g[j].n_phones) {
                e = start[g[j].letter_start];
                break;
            }
        for (int k = 0; k < g[i].n_phones; k++) {
            int p = g[i].phone_start + k;
            ps[p] = s + (e - s) * k / g[i].n_phones;
            pe[p] = s + (e - s) * (k + 1) / g[i].n_phones;
            carrier[p] = g[i].letter_start;
        }
        first = 0;
    }
}

/* Appends an event to a tier, growing it. */
static int push(nk_align_result *r, nk_tier_kind t, const nk_align_event *ev, int *cap) {
    if (r->n[t] == cap[t]) {
        int c = cap[t] ? 2 * cap[t] : 64;
        nk_align_event *p = realloc(r->ev[t], (size_t)c * sizeof *p);
        if (!p) return nk_fail(NK_ERR_NOMEM, "out of memory aligning");
        r->ev[t] = p, cap[t] = c;
    }
    r->ev[t][r->n[t]++] = *ev;
    return NK_OK;
}

static double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

/* One utterance's frame → seconds mapping and its letter spans in frames. */
typedef struct {
    const nk_align_config *c;
    const nk_ctc_span *span; /* U raw Viterbi spans */
    const double *ls, *le;   /* U extended spans, frames */
    double duration;
} utt_frames;

static double seconds(const utt_frames *u, double frame) {
    return clamp(frame * u->c->frame_seconds - u->c->delay, 0, u->duration);
}

/* An event over frames [s, e) carried by label u (its peak, clamped into the span). */
static nk_align_event event_at(const utt_frames *u, int label, double s, double e, const char *text,
                               float conf, int word) {
    nk_align_event ev = {text, seconds(u, s), seconds(u, e), 0, conf, NULL, -1, word};
    ev.peak = clamp(seconds(u, u->span[label].peak), ev.start, ev.end);
    return ev;
}

/* The phonemes of the word made of labels [u0, u1), spelled `word`. */
static int word_phones(const utt_frames *u, int u0, int u1, const char *word, int w, nk_align_result *r,
                       int *cap) {
    const nk_align_config *c = u->c;
    nk_pron p;
    int rc = nk_pronounce(c->lexicon, c->voice, word, &p, NULL);
    if (rc) return nk_fail(rc, "word \"%s\": no pronunciation: %s", word, nk_last_error());
    nk_lp_group g[2 * NK_PRON_MAX];
    int n_groups;
    if ((rc = nk_lp_align(c->lp, word, &p, g, &n_groups))) return rc;
    const nk_lp_group *last = &g[n_groups - 1];
    if (last->letter_start + last->n_letters != u1 - u0)
        return nk_fail(NK_ERR_ARG, "word \"%s\": %d letters in the alphabet but %d for the lexicon", word,
                       u1 - u0, last->letter_start + last->n_letters);
    double ps[NK_PRON_MAX], pe[NK_PRON_MAX];
    int carrier[NK_PRON_MAX];
    nk_align_phone_spans(u->ls + u0, u->le + u0, g, n_groups, ps, pe, carrier);
    for (int i = 0; !rc && i < n_groups; i++) {
        double conf = 0;
        for (int l = 0; l < g[i].n_letters; l++) conf += u->span[u0 + g[i].letter_start + l].confidence;
        conf /= g[i].n_letters;
        for (int k = 0; !rc && k < g[i].n_phones; k++) {
            int ph = g[i].phone_start + k, label = u0 + carrier[ph];
            nk_align_event ev = event_at(u, label, ps[ph], pe[ph], nk_phone_at(p.phone[ph])->ipa, (float)conf, w);
            ev.letter = c->alphabet[u->span[label].label];
            ev.phone = p.phone[ph];
            rc = push(r, NK_TIER_PHONES, &ev, cap);
        }
    }
    return rc;
}

/* Extended spans in frames. A label starts at its first Viterbi frame, or
 * with midway at the middle of the blanks before it (the first label then
 * reaches back by the others' median lead, not before frame 0), and runs to
 * the next label's start; the last keeps the others' median length (at least
 * its own span, at most T). */
static int extend_spans(const nk_ctc_span *s, int U, int T, int midway, double *ls, double *le) {
    for (int u = 0; u < U; u++) ls[u] = midway && u ? 0.5 * (s[u - 1].end + s[u].start) : s[u].start;
    for (int u = 0; u < U; u++) le[u] = u + 1 < U ? ls[u + 1] : s[u].end;
    if (U < 2) return NK_OK;
    double *v = malloc((size_t)(U - 1) * sizeof *v);
    if (!v) return nk_fail(NK_ERR_NOMEM, "out of memory aligning");
    if (midway) {
        for (int u = 1; u < U; u++) v[u - 1] = s[u].start - ls[u];
        ls[0] = fmax(0, s[0].start - nk_align_median(v, (size_t)(U - 1)));
    }
    for (int u = 0; u + 1 < U; u++) v[u] = le[u] - ls[u];
    double e = fmin(T, ls[U - 1] + nk_align_median(v, (size_t)(U - 1)));
    if (e > le[U - 1]) le[U - 1] = e;
    free(v);
    return NK_OK;
}

/* Words, letters and phonemes from the spans. */
static int build_events(const utt_frames *u, const int *labels, int U, nk_align_result *r) {
    const nk_align_config *c = u->c;
    size_t bytes = 1;
    for (int i = 0; i < U; i++) bytes += strlen(c->alphabet[labels[i]]) + 1;
    if (!(r->words = malloc(bytes))) return nk_fail(NK_ERR_NOMEM, "out of memory aligning");
    int cap[NK_N_TIERS] = {0}, rc = NK_OK, n_letters = 0, w = 0;
    char *text = r->words;
    double conf_sum = 0;
    for (int u0 = 0; !rc && u0 < U;) {
        if (labels[u0] == c->separator) {
            u0++;
            continue;
        }
        int u1 = u0;
        double word_conf = 0;
        char *word = text;
        for (; u1 < U && labels[u1] != c->separator; u1++) {
            const char *sym = c->alphabet[labels[u1]];
            text = stpcpy(text, sym);
            nk_align_event ev = event_at(u, u1, u->ls[u1], u->le[u1], sym, u->span[u1].confidence, w);
            ev.letter = sym;
            if ((rc = push(r, NK_TIER_LETTERS, &ev, cap))) return rc;
            word_conf += u->span[u1].confidence;
        }
        *text++ = 0;
        n_letters += u1 - u0;
        conf_sum += word_conf;
        nk_align_event ev = event_at(u, u0, u->ls[u0], u->le[u1 - 1], word, (float)(word_conf / (u1 - u0)), w);
        rc = push(r, NK_TIER_WORDS, &ev, cap);
        if (!rc && c->lp) rc = word_phones(u, u0, u1, word, w, r, cap);
        u0 = u1, w++;
    }
    r->confidence = n_letters ? conf_sum / n_letters : 0;
    return rc;
}

int nk_align_utterance(const nk_align_config *c, const float *log_probs, int T, const int *labels,
                       int U, double duration, nk_align_result *out) {
    memset(out, 0, sizeof *out);
    if (U < 1 || T < 1) return nk_fail(NK_ERR_ARG, "nothing to align (%d labels, %d frames)", U, T);
    for (int i = 0; i < U; i++)
        if (labels[i] < 0 || labels[i] >= c->n_classes || labels[i] == c->blank)
            return nk_fail(NK_ERR_ARG, "label %d at position %d is not a letter of the alphabet", labels[i], i);
    nk_ctc_span *span = malloc((size_t)U * sizeof *span);
    double *ls = malloc(2 * (size_t)U * sizeof *ls);
    if (!span || !ls) {
        free(span), free(ls);
        return nk_fail(NK_ERR_NOMEM, "out of memory aligning");
    }
    double score;
    int rc = nk_ctc_align(log_probs, c->n_classes, T, labels, U, c->blank, span, NULL, &score);
    if (rc == NK_ERR_INFEASIBLE)
        rc = nk_fail(rc, "%d frames are too few to align %d letters", T, U);
    else if (!rc && !isfinite(score))
        rc = nk_fail(NK_ERR_NUMERIC, "the alignment's score is %g (NaN or infinite log-probs?)", score);
    if (!rc) rc = extend_spans(span, U, T, c->midway, ls, ls + U);
    out->duration = duration > 0 ? duration : T * c->frame_seconds;
    out->path_confidence = exp(score / T);
    utt_frames u = {c, span, ls, ls + U, out->duration};
    if (!rc) rc = build_events(&u, labels, U, out);
    free(span), free(ls);
    if (rc) nk_align_result_free(out);
    return rc;
}
