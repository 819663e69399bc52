#include "napkit/synth.h"

#include "napkit/audio.h"
#include "napkit/error.h"
#include "napkit/espeak.h"

#include <errno.h>
#include <espeak-ng/speak_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* One event as espeak-ng reported it, copied out of its buffers. */
typedef struct {
    int type;     // espeakEVENT_WORD or espeakEVENT_PHONEME
    int ms;       // audio position in milliseconds
    int text_pos; // 1-based character position in the text (WORD)
    char ipa[9];  // phoneme name, NUL-terminated (espeak-ng's field holds 8 bytes)
} synth_event;

struct nk_synth {
    int rate; // espeak-ng's output rate (22050 Hz)
    short *pcm;
    size_t n_pcm, cap_pcm;
    synth_event *ev;
    size_t n_ev, cap_ev;
    int failed; // a buffer could not grow inside the callback
};

/* espeak-ng's callback takes no context pointer: the one live synthesizer. */
static nk_synth *live;

static int collect(short *wav, int n, espeak_EVENT *events) {
    nk_synth *s = live;
    if (!s || s->failed) return 1;
    if (wav && n > 0) {
        if (s->n_pcm + (size_t)n > s->cap_pcm) {
            size_t cap = 2 * (s->n_pcm + (size_t)n);
            short *grown = realloc(s->pcm, cap * sizeof *grown);
            if (!grown) return s->failed = 1;
            s->pcm = grown;
            s->cap_pcm = cap;
        }
        memcpy(s->pcm + s->n_pcm, wav, (size_t)n * sizeof *wav);
        s->n_pcm += (size_t)n;
    }
    for (espeak_EVENT *e = events; e && e->type != espeakEVENT_LIST_TERMINATED; e++) {
        if (e->type != espeakEVENT_WORD && e->type != espeakEVENT_PHONEME) continue;
        if (s->n_ev == s->cap_ev) {
            size_t cap = s->cap_ev ? 2 * s->cap_ev : 256;
            synth_event *grown = realloc(s->ev, cap * sizeof *grown);
            if (!grown) return s->failed = 1;
            s->ev = grown;
            s->cap_ev = cap;
        }
        synth_event *d = &s->ev[s->n_ev++];
        memset(d, 0, sizeof *d);
        d->type = e->type;
        d->ms = e->audio_position;
        d->text_pos = e->text_position;
        if (e->type == espeakEVENT_PHONEME) memcpy(d->ipa, e->id.string, 8);
    }
    return 0;
}

int nk_synth_new(nk_synth **out) {
    *out = NULL;
    if (live) return nk_fail(NK_ERR_ARG, "espeak-ng: this process already has a synthesizer");
    int rc = nk_espeak_init();
    if (rc) return rc;
    nk_espeak_lock();
    espeak_SetSynthCallback(collect);
    nk_espeak_unlock();
    nk_synth *s = calloc(1, sizeof *s);
    if (!s) return nk_fail(NK_ERR_NOMEM, "out of memory creating a synthesizer");
    s->rate = nk_espeak_sample_rate();
    live = s;
    *out = s;
    return NK_OK;
}

void nk_synth_free(nk_synth *s) {
    if (!s) return;
    if (live == s) live = NULL;
    free(s->pcm);
    free(s->ev);
    free(s);
}

static int set_voice(const nk_voice *v) {
    if (!v->voice || !v->voice[0]) return nk_fail(NK_ERR_ARG, "espeak-ng: no voice given");
    if ((v->rate && (v->rate < espeakRATE_MINIMUM || v->rate > espeakRATE_MAXIMUM)) ||
        v->pitch < 0 || v->pitch > 100 || v->range < 0 || v->range > 100)
        return nk_fail(NK_ERR_ARG, "espeak-ng: voice %s: rate %d (80–450), pitch %d or range %d (0–100) out of range",
                       v->voice, v->rate, v->pitch, v->range);
    int rc = nk_espeak_set_voice(v->voice);
    if (rc) return rc;
    espeak_SetParameter(espeakRATE, v->rate ? v->rate : espeakRATE_NORMAL, 0);
    espeak_SetParameter(espeakPITCH, v->pitch, 0);
    espeak_SetParameter(espeakRANGE, v->range, 0);
    return NK_OK;
}

/* What a synthesis child sends back before its samples and events. */
typedef struct {
    int rc;
    size_t n_pcm, n_ev;
    char msg[512];
} child_report;

static int write_all(int fd, const void *buf, size_t n) {
    for (const char *p = buf; n;) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t n) {
    for (char *p = buf; n;) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Runs espeak-ng in a child process forked from the freshly initialized
 * engine and collects its samples and events into s. espeak-ng carries state
 * from one utterance to the next (the same text twice in one process gives
 * different samples), so a child per utterance is what makes the output
 * depend only on (text, voice, seed) and not on what was spoken before.
 * text NULL only selects the voice (a check). */
static int speak_in_child(nk_synth *s, const nk_voice *v, const char *text, unsigned seed) {
    int fd[2];
    if (pipe(fd)) return nk_fail(NK_ERR_IO, "espeak-ng: cannot create a pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return nk_fail(NK_ERR_IO, "espeak-ng: cannot fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fd[0]);
        s->n_pcm = s->n_ev = 0;
        s->failed = 0;
        child_report h = {set_voice(v), 0, 0, ""};
        if (!h.rc && text) {
            srand(seed); // espeak-ng's noise sources draw from rand()
            espeak_ERROR e = espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL);
            if (e != EE_OK) h.rc = nk_fail(NK_ERR_IO, "espeak-ng: synthesis failed (error %d) for \"%.40s\"", (int)e, text);
            else if (s->failed) h.rc = nk_fail(NK_ERR_NOMEM, "espeak-ng: out of memory collecting audio");
        }
        if (!h.rc) {
            h.n_pcm = s->n_pcm;
            h.n_ev = s->n_ev;
        }
        snprintf(h.msg, sizeof h.msg, "%s", nk_last_error());
        int bad = write_all(fd[1], &h, sizeof h) || write_all(fd[1], s->pcm, h.n_pcm * sizeof *s->pcm) ||
                  write_all(fd[1], s->ev, h.n_ev * sizeof *s->ev);
        _exit(bad ? 1 : 0);
    }
    close(fd[1]);
    child_report h;
    int rc = read_all(fd[0], &h, sizeof h) ? NK_ERR_IO : NK_OK;
    if (!rc && !h.rc) {
        short *pcm = realloc(s->pcm, (h.n_pcm + 1) * sizeof *pcm);
        if (pcm) s->pcm = pcm;
        synth_event *ev = realloc(s->ev, (h.n_ev + 1) * sizeof *ev);
        if (ev) s->ev = ev;
        if (!pcm || !ev) rc = NK_ERR_NOMEM;
        else if (read_all(fd[0], s->pcm, h.n_pcm * sizeof *pcm) || read_all(fd[0], s->ev, h.n_ev * sizeof *ev))
            rc = NK_ERR_IO;
        s->n_pcm = h.n_pcm;
        s->n_ev = h.n_ev;
    }
    close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (rc == NK_ERR_NOMEM) return nk_fail(rc, "espeak-ng: out of memory receiving audio");
    if (rc || !WIFEXITED(status) || WEXITSTATUS(status))
        return nk_fail(NK_ERR_IO, "espeak-ng: synthesis process failed (%s %d)",
                       WIFSIGNALED(status) ? "signal" : "exit status",
                       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    return h.rc ? nk_fail(h.rc, "%s", h.msg) : NK_OK;
}

int nk_synth_check_voice(nk_synth *s, const nk_voice *v) {
    if (live != s) return nk_fail(NK_ERR_ARG, "espeak-ng: synthesizer is not live");
    nk_espeak_lock();
    int rc = speak_in_child(s, v, NULL, 0);
    nk_espeak_unlock();
    return rc;
}

/* Byte offset of the character at 0-based index `chars` (clamped to the end). */
static size_t char_offset(const char *text, int chars) {
    size_t len = strlen(text), i = 0;
    for (int c = 0; c < chars && i < len; c++) {
        unsigned cp;
        int k = nk_utf8_decode(text + i, len - i, &cp);
        i += k ? (size_t)k : 1;
    }
    return i;
}

/* Word w's label: its stretch of text, from its start (the first word from
 * the text's start) to the next word's start, normalized. Empty stretches
 * (punctuation only) give "" and no word interval. */
static int word_label(const nk_alphabet *a, const char *text, const synth_event *ev, size_t n_ev,
                      size_t w, int first, char **label) {
    *label = NULL;
    size_t from = first ? 0 : char_offset(text, ev[w].text_pos - 1), to = strlen(text);
    for (size_t k = w + 1; k < n_ev; k++) {
        if (ev[k].type == espeakEVENT_WORD && ev[k].text_pos > ev[w].text_pos) {
            to = char_offset(text, ev[k].text_pos - 1);
            break;
        }
    }
    char *span = strndup(text + from, to > from ? to - from : 0);
    if (!span) return nk_fail(NK_ERR_NOMEM, "out of memory labelling words");
    int rc = nk_text_normalize(a, span, label);
    free(span);
    if (rc == NK_ERR_EMPTY) {
        *label = strdup("");
        return *label ? NK_OK : nk_fail(NK_ERR_NOMEM, "out of memory labelling words");
    }
    return rc;
}

/* Events → tiers. A phoneme runs from its event to the next event (phoneme,
 * pause or word); the first phoneme of a word starts at the word's event, so
 * a stop's closure belongs to the stop. A word runs from its first phoneme's
 * start to its last phoneme's end. */
static int build_tiers(nk_synth *s, const nk_alphabet *a, const char *text, nk_textgrid *tg) {
    int tw, tp, rc;
    if ((rc = nk_textgrid_add_tier(tg, "words", &tw)) || (rc = nk_textgrid_add_tier(tg, "phones", &tp)))
        return rc;
    const synth_event *ev = s->ev;
    double pending = -1; // a word event's time until its first phoneme takes it
    double phone_start = 0, word_start = -1, word_end = -1;
    const char *phone = NULL;
    char *word = NULL;
    int words_seen = 0;
    for (size_t k = 0; !rc; k++) {
        int end = k == s->n_ev, is_word = !end && ev[k].type == espeakEVENT_WORD;
        double t = end ? tg->xmax : ev[k].ms / 1000.0;
        if (t > tg->xmax) t = tg->xmax;
        if (phone) {
            rc = nk_textgrid_append(tg, tp, phone_start, t, phone);
            if (phone[0]) word_end = t;
            phone = NULL;
        }
        if (!rc && (is_word || end) && word && word[0] && word_start >= 0)
            rc = nk_textgrid_append(tg, tw, word_start, word_end, word);
        if (rc || end) break;
        if (is_word) {
            free(word);
            rc = word_label(a, text, ev, s->n_ev, k, words_seen++ == 0, &word);
            word_start = word_end = -1;
            pending = t;
        } else {
            phone = nk_espeak_ipa_name(ev[k].ipa);
            phone_start = phone[0] && pending >= 0 ? pending : t;
            pending = -1;
            if (phone[0] && word_start < 0) word_start = phone_start;
        }
    }
    free(word);
    return rc ? rc : nk_textgrid_finish(tg);
}

int nk_synth_speak(nk_synth *s, const nk_voice *v, const nk_alphabet *a, const char *text,
                   unsigned seed, int sample_rate, float **samples, size_t *n, nk_textgrid **tg) {
    *samples = NULL;
    *n = 0;
    *tg = NULL;
    if (live != s) return nk_fail(NK_ERR_ARG, "espeak-ng: synthesizer is not live");
    char *check;
    int rc = nk_text_normalize(a, text, &check);
    if (rc) return rc;
    free(check);
    nk_espeak_lock();
    rc = speak_in_child(s, v, text, seed);
    nk_espeak_unlock();
    if (rc) return rc;
    if (s->n_pcm == 0) return nk_fail(NK_ERR_EMPTY, "espeak-ng: no audio for \"%.40s\"", text);
    float *x = malloc(s->n_pcm * sizeof *x);
    if (!x) return nk_fail(NK_ERR_NOMEM, "out of memory converting %zu samples", s->n_pcm);
    for (size_t i = 0; i < s->n_pcm; i++) x[i] = s->pcm[i] / 32768.0f;
    rc = nk_audio_resample(x, s->n_pcm, s->rate, sample_rate, samples, n);
    free(x);
    if (rc) return rc;
    if ((rc = nk_textgrid_new(0, (double)*n / sample_rate, tg)) || (rc = build_tiers(s, a, text, *tg))) {
        free(*samples);
        *samples = NULL;
        *n = 0;
        nk_textgrid_free(*tg);
        *tg = NULL;
    }
    return rc;
}
