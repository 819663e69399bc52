/* Scores of a flat clustering: silhouette (sklearn silhouette_score on a
 * precomputed distance matrix), purity and adjusted Rand index against
 * reference classes (sklearn adjusted_rand_score). */
#include "napkit/cluster.h"

#include "napkit/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Maps arbitrary int labels to 0 … K−1 (in increasing label order); returns K or −1. */
static int dense_labels(const int *labels, int n, int *out) {
    int *sorted = malloc(sizeof(int) * n);
    if (!sorted) return -1;
    memcpy(sorted, labels, sizeof(int) * n);
    qsort(sorted, n, sizeof(int), cmp_int);
    int K = 0;
    for (int i = 0; i < n; i++)
        if (i == 0 || sorted[i] != sorted[i - 1]) sorted[K++] = sorted[i];
    for (int i = 0; i < n; i++) out[i] = (int)((int *)bsearch(&labels[i], sorted, K, sizeof(int), cmp_int) - sorted);
    free(sorted);
    return K;
}

int nk_silhouette(const double *D, int n, const int *labels, double *score) {
    if (n < 3) return nk_fail(NK_ERR_ARG, "silhouette: need at least 3 observations (got %d)", n);
    int *lab = malloc(sizeof(int) * n), *count = calloc(n, sizeof(int));
    double *sum = malloc(sizeof(double) * n); /* distances from one point to each cluster */
    int K = lab && count && sum ? dense_labels(labels, n, lab) : -1;
    if (K < 0) {
        free(lab), free(count), free(sum);
        return nk_fail(NK_ERR_NOMEM, "silhouette: out of memory for n = %d", n);
    }
    if (K < 2 || K > n - 1) {
        free(lab), free(count), free(sum);
        return nk_fail(NK_ERR_ARG, "silhouette: needs 2 to n-1 = %d distinct labels (got %d)", n - 1, K);
    }
    for (int i = 0; i < n; i++) count[lab[i]]++;
    double total = 0;
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < K; c++) sum[c] = 0;
        for (int j = 0; j < n; j++)
            if (j != i) sum[lab[j]] += D[nk_condensed_index(n, i, j)];
        /* A point alone in its cluster scores 0, as in sklearn. */
        if (count[lab[i]] == 1) continue;
        double a = sum[lab[i]] / (count[lab[i]] - 1), b = INFINITY;
        for (int c = 0; c < K; c++)
            if (c != lab[i]) b = fmin(b, sum[c] / count[c]);
        double den = fmax(a, b);
        if (den > 0) total += (b - a) / den;
    }
    *score = total / n;
    free(lab), free(count), free(sum);
    return NK_OK;
}

/* The contingency table of two labellings: table is (Ka, Kb), malloc'd. */
static int contingency(const int *a, const int *b, int n, int *Ka, int *Kb, long **table) {
    int *la = malloc(sizeof(int) * n), *lb = malloc(sizeof(int) * n);
    *table = NULL;
    *Ka = la && lb ? dense_labels(a, n, la) : -1;
    *Kb = *Ka >= 0 ? dense_labels(b, n, lb) : -1;
    if (*Kb >= 0) *table = calloc((size_t)*Ka * *Kb, sizeof(long));
    if (*table)
        for (int i = 0; i < n; i++) (*table)[(size_t)la[i] * *Kb + lb[i]]++;
    free(la), free(lb);
    return *table ? NK_OK : nk_fail(NK_ERR_NOMEM, "contingency table: out of memory for n = %d", n);
}

int nk_purity(const int *clusters, const int *classes, int n, double *purity) {
    if (n < 1) return nk_fail(NK_ERR_ARG, "purity: no observations");
    int K, C;
    long *t;
    int rc = contingency(clusters, classes, n, &K, &C, &t);
    if (rc) return rc;
    long hit = 0;
    for (int k = 0; k < K; k++) {
        long best = 0;
        for (int c = 0; c < C; c++) best = t[(size_t)k * C + c] > best ? t[(size_t)k * C + c] : best;
        hit += best;
    }
    free(t);
    *purity = (double)hit / n;
    return NK_OK;
}

int nk_adjusted_rand(const int *a, const int *b, int n, double *ari) {
    if (n < 1) return nk_fail(NK_ERR_ARG, "adjusted Rand index: no observations");
    int Ka, Kb;
    long *t;
    int rc = contingency(a, b, n, &Ka, &Kb, &t);
    if (rc) return rc;
    /* Pair confusion counts, as sklearn's pair_confusion_matrix. */
    double ss = 0, sa = 0, sb = 0;
    for (int i = 0; i < Ka; i++) {
        double row = 0;
        for (int j = 0; j < Kb; j++) row += t[(size_t)i * Kb + j], ss += (double)t[(size_t)i * Kb + j] * t[(size_t)i * Kb + j];
        sa += row * row;
    }
    for (int j = 0; j < Kb; j++) {
        double col = 0;
        for (int i = 0; i < Ka; i++) col += t[(size_t)i * Kb + j];
        sb += col * col;
    }
    free(t);
    double tp = ss - n, fp = sb - ss, fn = sa - ss, tn = (double)n * n - fp - fn - ss;
    if (fn == 0 && fp == 0) *ari = 1.0;
    else *ari = 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
    return NK_OK;
}
