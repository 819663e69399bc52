/* CTC over the blank-extended trellis l' = (∅, l1, ∅, l2, …, lU, ∅), S = 2U + 1.
 *
 * The loss and the forced alignment share one forward recursion: the loss
 * combines predecessors with log-sum-exp (alpha), the alignment with max and a
 * back-pointer (Viterbi delta). Tables are double and (T, S); cells that cannot
 * lie on a complete path (s > 2t + 1, or too far behind to reach the end) stay
 * −inf and are never computed. Everything is serial: callers parallelize
 * across utterances. */
#include "napkit/ctc.h"

#include "napkit/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int S;
    int *ext;            // (S,) class emitted in each state: blank, l1, blank, …, lU, blank
    unsigned char *skip; // (S,) 1 where state s may also be entered from s − 2
} trellis;

/* Checks arguments and finite log-probs; NK_ERR_INFEASIBLE when T is shorter
 * than the labels plus the blanks forced between repeated labels. */
static int check_problem(const char *who, const float *log_probs, int K, int T, const int *labels,
                         int U, int blank) {
    if (!log_probs || K < 1 || T < 1 || U < 0 || (U > 0 && !labels))
        return nk_fail(NK_ERR_ARG, "%s: need log_probs with K >= 1 classes, T >= 1 frames, U >= 0 "
                       "labels (got K=%d, T=%d, U=%d)", who, K, T, U);
    if (U > (1 << 28))
        return nk_fail(NK_ERR_ARG, "%s: %d labels is more than the trellis can index", who, U);
    if (blank < 0 || blank >= K)
        return nk_fail(NK_ERR_ARG, "%s: blank %d outside [0, %d)", who, blank, K);
    int repeats = 0;
    for (int u = 0; u < U; u++) {
        if (labels[u] < 0 || labels[u] >= K || labels[u] == blank)
            return nk_fail(NK_ERR_ARG, "%s: label %d at position %d is %s", who, labels[u], u,
                           labels[u] == blank ? "the blank" : "not a class index");
        if (u > 0 && labels[u] == labels[u - 1]) repeats++;
    }
    for (size_t i = 0; i < (size_t)K * T; i++)
        if (isnan(log_probs[i]) || log_probs[i] == INFINITY)
            return nk_fail(NK_ERR_NUMERIC, "%s: log-prob of class %zu at frame %zu is %g", who,
                           i / (size_t)T, i % (size_t)T, (double)log_probs[i]);
    if (T < U + repeats)
        return nk_fail(NK_ERR_INFEASIBLE, "%s: %d frames cannot hold %d labels with %d repeats",
                       who, T, U, repeats);
    return 0;
}

static void trellis_init(trellis *tr, const int *labels, int U, int blank) {
    tr->S = 2 * U + 1;
    for (int s = 0; s < tr->S; s++) {
        tr->ext[s] = s % 2 ? labels[s / 2] : blank;
        tr->skip[s] = s >= 2 && s % 2 && tr->ext[s] != tr->ext[s - 2];
    }
}

/* log(exp(a) + exp(b) + exp(c)) around the largest term, calling exp only for
 * the finite smaller ones (blank states have at most two predecessors). */
static double logsumexp3(double a, double b, double c) {
    double m, r1, r2;
    if (a >= b) m = a, r1 = b;
    else m = b, r1 = a;
    if (c > m) r2 = m, m = c;
    else r2 = c;
    if (m == -INFINITY) return -INFINITY;
    double sum = 1;
    if (r1 != -INFINITY) sum += exp(r1 - m);
    if (r2 != -INFINITY) sum += exp(r2 - m);
    return sum == 1 ? m : m + log(sum);
}

// First and last state at frame t that can lie on a complete path.
static int state_lo(int S, int T, int t) { return S - 2 * (T - t) > 0 ? S - 2 * (T - t) : 0; }
static int state_hi(int S, int t) { return 2 * t + 1 < S - 1 ? 2 * t + 1 : S - 1; }

/* table is (T, S): alpha[t, s] = log-sum over prefixes ending in s at t (bp == NULL),
 * or delta[t, s] = best prefix score with bp[t, s] ∈ {0, 1, 2} the step into s.
 * Ties go to the smaller step (stay, then advance by one, then skip). */
static void trellis_forward(const float *lp, int T, const trellis *tr, double *table,
                            unsigned char *bp) {
    int S = tr->S;
    for (int t = 0; t < T; t++) {
        double *row = table + (size_t)t * S;
        const double *prev = row - S;
        int lo = state_lo(S, T, t), hi = state_hi(S, t);
        for (int s = 0; s < S; s++) row[s] = -INFINITY;
        for (int s = lo; s <= hi; s++) {
            double in = 0; // t == 0: a path may start in state 0 or 1
            if (t > 0) {
                double x0 = prev[s], x1 = s >= 1 ? prev[s - 1] : -INFINITY;
                double x2 = tr->skip[s] ? prev[s - 2] : -INFINITY;
                if (bp) {
                    int step = 0;
                    in = x0;
                    if (x1 > in) in = x1, step = 1;
                    if (x2 > in) in = x2, step = 2;
                    bp[(size_t)t * S + s] = (unsigned char)step;
                } else {
                    in = logsumexp3(x0, x1, x2);
                }
            }
            row[s] = in + lp[(size_t)tr->ext[s] * T + t];
        }
    }
}

/* One allocation per call: `doubles` doubles, then `ints` ints, then `bytes` bytes. */
static double *workspace(size_t doubles, size_t ints, size_t bytes, int **p_ints,
                         unsigned char **p_bytes) {
    double *w = malloc(doubles * sizeof(double) + ints * sizeof(int) + bytes + 1);
    if (!w) return NULL;
    *p_ints = (int *)(w + doubles);
    *p_bytes = (unsigned char *)(*p_ints + ints);
    return w;
}

int nk_ctc_loss(const float *log_probs, int K, int T, const int *labels, int U, int blank,
                double *nll, float *grad) {
    if (nll) *nll = INFINITY;
    if (grad && K > 0 && T > 0) memset(grad, 0, sizeof(float) * (size_t)K * T);
    int rc = check_problem("ctc loss", log_probs, K, T, labels, U, blank);
    if (rc) return rc;
    trellis tr;
    int S = 2 * U + 1;
    // alpha (T, S), two beta rows (S each), occupancy per class (K)
    double *alpha = workspace((size_t)T * S + 2 * (size_t)S + K, (size_t)S, (size_t)S, &tr.ext,
                              &tr.skip);
    if (!alpha) return nk_fail(NK_ERR_NOMEM, "ctc loss: no memory for a %d x %d trellis", T, S);
    trellis_init(&tr, labels, U, blank);
    trellis_forward(log_probs, T, &tr, alpha, NULL);

    const double *last = alpha + (size_t)(T - 1) * S;
    double logz = logsumexp3(last[S - 1], S >= 2 ? last[S - 2] : -INFINITY, -INFINITY);
    if (logz == -INFINITY) {
        free(alpha);
        return nk_fail(NK_ERR_INFEASIBLE, "ctc loss: every alignment has zero probability");
    }
    if (nll) *nll = -logz;
    if (!grad) {
        free(alpha);
        return 0;
    }

    /* beta[t, s] = log-prob of frames t+1 … T−1 given state s at t, so the
     * occupancy of s at t is exp(alpha + beta − logz) and sums to 1 over s. */
    double *beta = alpha + (size_t)T * S, *next = beta + S, *occ = next + S;
    for (int s = 0; s < S; s++) beta[s] = s >= S - 2 ? 0 : -INFINITY;
    for (int t = T - 1; t >= 0; t--) {
        if (t < T - 1) {
            // next holds beta at t+1; fold in frame t+1's emission, then combine successors.
            for (int s = 0; s < S; s++) next[s] += log_probs[(size_t)tr.ext[s] * T + t + 1];
            int lo = state_lo(S, T, t), hi = state_hi(S, t);
            for (int s = 0; s < S; s++) beta[s] = -INFINITY;
            for (int s = lo; s <= hi; s++)
                beta[s] = logsumexp3(next[s], s + 1 < S ? next[s + 1] : -INFINITY,
                                     s + 2 < S && tr.skip[s + 2] ? next[s + 2] : -INFINITY);
        }
        for (int k = 0; k < K; k++) occ[k] = 0;
        const double *a = alpha + (size_t)t * S;
        for (int s = state_lo(S, T, t); s <= state_hi(S, t); s++)
            occ[tr.ext[s]] += exp(a[s] + beta[s] - logz);
        for (int k = 0; k < K; k++) grad[(size_t)k * T + t] = (float)-occ[k];
        double *swap = beta;
        beta = next;
        next = swap;
    }
    free(alpha);
    return 0;
}

void nk_ctc_greedy(const float *log_probs, int K, int T, int blank, int *labels_out, int *n_out) {
    int n = 0, prev = -1;
    for (int t = 0; log_probs && K > 0 && t < T; t++) {
        int best = 0; // ties (and NaN) go to the lowest class index
        for (int k = 1; k < K; k++)
            if (log_probs[(size_t)k * T + t] > log_probs[(size_t)best * T + t]) best = k;
        if (best != prev && best != blank) labels_out[n++] = best;
        prev = best;
    }
    *n_out = n;
}

int nk_ctc_align(const float *log_probs, int K, int T, const int *labels, int U, int blank,
                 nk_ctc_span *spans, int *frame_labels, double *score) {
    if (score) *score = -INFINITY;
    int rc = check_problem("ctc align", log_probs, K, T, labels, U, blank);
    if (rc) return rc;
    if (U > 0 && !spans) return nk_fail(NK_ERR_ARG, "ctc align: spans is NULL");
    trellis tr;
    int S = 2 * U + 1;
    unsigned char *bp;
    int *tmp;
    // delta (T, S) doubles; ext (S) and path (T) ints; skip (S) and bp (T, S) bytes
    double *delta = workspace((size_t)T * S, (size_t)S + T, (size_t)S + (size_t)T * S, &tmp, &bp);
    if (!delta) return nk_fail(NK_ERR_NOMEM, "ctc align: no memory for a %d x %d trellis", T, S);
    tr.ext = tmp;
    tr.skip = bp;
    bp += S;
    int *path = tmp + S;
    trellis_init(&tr, labels, U, blank);
    trellis_forward(log_probs, T, &tr, delta, bp);

    const double *last = delta + (size_t)(T - 1) * S;
    int s = S >= 2 && last[S - 2] > last[S - 1] ? S - 2 : S - 1; // ties end in the final blank
    double best = last[s];
    if (best == -INFINITY) {
        free(delta);
        return nk_fail(NK_ERR_INFEASIBLE, "ctc align: every alignment has zero probability");
    }
    for (int t = T - 1; t >= 0; t--) {
        path[t] = s;
        if (t > 0) s -= bp[(size_t)t * S + s];
    }

    for (int u = 0; u < U; u++) spans[u] = (nk_ctc_span){labels[u], -1, -1, -1, 0};
    for (int t = 0; t < T; t++) {
        int st = path[t];
        if (frame_labels) frame_labels[t] = tr.ext[st];
        if (st % 2 == 0) continue;
        nk_ctc_span *sp = &spans[st / 2];
        if (sp->start < 0) sp->start = t;
        sp->end = t + 1; // the path is monotone, so each label's frames are contiguous
    }
    for (int u = 0; u < U; u++) {
        nk_ctc_span *sp = &spans[u];
        const float *row = log_probs + (size_t)sp->label * T;
        double sum = 0;
        sp->peak = sp->start;
        for (int t = sp->start; t < sp->end; t++) {
            sum += exp(row[t]);
            if (row[t] > row[sp->peak]) sp->peak = t;
        }
        sp->confidence = (float)(sum / (sp->end - sp->start));
    }
    if (score) *score = best;
    free(delta);
    return 0;
}
