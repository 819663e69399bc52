/* Phoneme onsets of an alignment against reference timings (the synthetic
 * corpora's TextGrids): label sequences matched by Needleman–Wunsch, onset
 * errors of matched pairs collected per phonetic class. */
#include "napkit/align.h"

#include "align_impl.h"
#include "napkit/error.h"
#include "napkit/nw.h"
#include "napkit/phoneset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct nk_align_quality {
    double *err; /* seconds, predicted − reference onset, per matched pair */
    int *cls;    /* the reference phoneme's class */
    size_t n, cap;
    int n_ref[NK_PC_COUNT], n_pred[NK_PC_COUNT];
};

int nk_align_quality_new(nk_align_quality **out) {
    *out = calloc(1, sizeof **out);
    return *out ? NK_OK : nk_fail(NK_ERR_NOMEM, "out of memory");
}

void nk_align_quality_free(nk_align_quality *q) {
    if (!q) return;
    free(q->err), free(q->cls), free(q);
}

/* 3 identical, 2 the same CMUdict phoneme, 1 the same class, −1 otherwise
 * (an unknown reference label, id −1, matches nothing). */
static float phone_score(int x, int y, void *ctx) {
    const nk_phone_info *a = nk_phone_at(x), *b = nk_phone_at(y);
    if (!a || !b) return -1;
    if (x == y) return 3;
    if (a->arpabet && b->arpabet && !strcmp(a->arpabet, b->arpabet)) return 2;
    return a->cls == b->cls ? 1 : -1;
}

/* A reference label's phone id: the label itself, or the first phoneme of a
 * sequence such as "aɪə"; −1 when unknown. */
static int ref_phone(const char *label) {
    int id = nk_phone_by_ipa(label);
    if (id >= 0) return id;
    int ids[NK_PRON_MAX], stress[NK_PRON_MAX], n;
    if (nk_ipa_parse(label, ids, stress, NK_PRON_MAX, &n) || n < 1) return -1;
    return ids[0];
}

static int record(nk_align_quality *q, double err, int cls) {
    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 1024;
        double *e = realloc(q->err, cap * sizeof *e);
        if (e) q->err = e;
        int *c = realloc(q->cls, cap * sizeof *c);
        if (c) q->cls = c;
        if (!e || !c) return nk_fail(NK_ERR_NOMEM, "out of memory");
        q->cap = cap;
    }
    q->err[q->n] = err, q->cls[q->n++] = cls;
    return NK_OK;
}

int nk_align_quality_add(nk_align_quality *q, const nk_align_result *r, const nk_textgrid *ref) {
    const nk_tier *tier = nk_textgrid_tier(ref, "phones");
    if (!tier) return nk_fail(NK_ERR_FORMAT, "the reference TextGrid has no \"phones\" tier");
    int np = r->n[NK_TIER_PHONES], nr = 0;
    int *ids = malloc(((size_t)tier->n + (size_t)np + 1) * sizeof *ids);
    double *onset = malloc(((size_t)tier->n + 1) * sizeof *onset);
    nk_nw_pair *pairs = malloc(((size_t)tier->n + (size_t)np + 1) * sizeof *pairs);
    int rc = ids && onset && pairs ? NK_OK : nk_fail(NK_ERR_NOMEM, "out of memory");
    for (int i = 0; !rc && i < tier->n; i++) {
        if (!tier->iv[i].text[0]) continue;
        onset[nr] = tier->iv[i].xmin;
        ids[nr++] = ref_phone(tier->iv[i].text);
    }
    int *pred = ids + nr;
    for (int i = 0; !rc && i < np; i++) pred[i] = r->ev[NK_TIER_PHONES][i].phone;
    int n_pairs = 0;
    double score;
    nk_nw_scoring sc = {.score = phone_score, .gap_open = -1, .gap_extend = -1};
    if (!rc) rc = nk_nw_align(pred, np, ids, nr, &sc, pairs, &n_pairs, &score);
    for (int k = 0; !rc && k < n_pairs; k++) {
        int a = pairs[k].a, b = pairs[k].b;
        if (a < 0 || b < 0 || phone_score(pred[a], ids[b], NULL) < 1) continue;
        rc = record(q, r->ev[NK_TIER_PHONES][a].start - onset[b], nk_phone_at(ids[b])->cls);
    }
    if (!rc) {
        for (int i = 0; i < nr; i++)
            if (ids[i] >= 0) q->n_ref[nk_phone_at(ids[i])->cls]++;
        for (int i = 0; i < np; i++) q->n_pred[nk_phone_at(pred[i])->cls]++;
    }
    free(ids), free(onset), free(pairs);
    return rc;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double nk_align_median(double *v, size_t n) {
    if (!n) return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void nk_align_quality_stats(const nk_align_quality *q, int cls, nk_onset_stats *out) {
    memset(out, 0, sizeof *out);
    for (int c = 0; c < NK_PC_COUNT; c++)
        if (cls < 0 || c == cls) out->n_ref += q->n_ref[c], out->n_pred += q->n_pred[c];
    double *v = malloc((q->n ? q->n : 1) * 2 * sizeof *v), *a = v ? v + (q->n ? q->n : 1) : NULL;
    size_t n = 0, in20 = 0, in50 = 0;
    double sum = 0;
    for (size_t i = 0; v && i < q->n; i++) {
        if (cls >= 0 && q->cls[i] != cls) continue;
        double e = q->err[i];
        v[n] = e, a[n++] = fabs(e), sum += e;
        in20 += fabs(e) <= 0.020 + 1e-9;
        in50 += fabs(e) <= 0.050 + 1e-9;
    }
    out->n_matched = (int)n;
    out->within_20ms = n ? (double)in20 / n : NAN;
    out->within_50ms = n ? (double)in50 / n : NAN;
    out->mean_signed = n ? sum / n : NAN;
    out->median_signed = v ? nk_align_median(v, n) : NAN;
    out->median_abs = v ? nk_align_median(a, n) : NAN;
    free(v);
}
