/* Needleman–Wunsch with affine gaps (Gotoh): three states per cell,
 *   M: a_i aligned with b_j,  X: a_i against a gap (up),  Y: b_j against a gap (left),
 * with every state reachable from every other, so linear gaps (open == extend)
 * give exactly the textbook recursion and its diagonal-up-left tie order.
 * Scores live in two rolling rows; the traceback keeps one byte per cell:
 * bits 0–1, 2–3, 4–5 hold the predecessor state of M, X and Y there. */
#include "napkit/nw.h"

#include "napkit/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { ST_M, ST_X, ST_Y };

// Best of three predecessor scores; ties go to the earlier state (M, X, Y).
static double best3(double m, double x, double y, int *arg) {
    double v = m;
    *arg = ST_M;
    if (x > v) v = x, *arg = ST_X;
    if (y > v) v = y, *arg = ST_Y;
    return v;
}

static int check_symbols(const char *which, const int *s, int n, int n_sym) {
    for (int i = 0; i < n; i++)
        if (s[i] < 0 || s[i] >= n_sym)
            return nk_fail(NK_ERR_ARG, "nw align: symbol %d at position %d of %s outside the "
                           "%d-symbol matrix", s[i], i, which, n_sym);
    return 0;
}

int nk_nw_align(const int *a, int n, const int *b, int m, const nk_nw_scoring *sc,
                nk_nw_pair *pairs, int *n_pairs, double *score) {
    if (n < 0 || m < 0 || (n && !a) || (m && !b) || !sc || !pairs || !n_pairs)
        return nk_fail(NK_ERR_ARG, "nw align: invalid arguments (n=%d, m=%d)", n, m);
    if (!sc->matrix && !sc->score)
        return nk_fail(NK_ERR_ARG, "nw align: no substitution matrix or score function");
    if (!isfinite(sc->gap_open) || !isfinite(sc->gap_extend))
        return nk_fail(NK_ERR_ARG, "nw align: gap scores must be finite (open %g, extend %g)",
                       (double)sc->gap_open, (double)sc->gap_extend);
    if (sc->matrix) {
        int rc = check_symbols("a", a, n, sc->n_sym_a);
        if (!rc) rc = check_symbols("b", b, m, sc->n_sym_b);
        if (rc) return rc;
    }
    size_t W = (size_t)m + 1;
    // rows: M, X, Y for the previous and the current i (W each); then traceback (n+1, W)
    double *rows = malloc(6 * W * sizeof(double) + ((size_t)n + 1) * W);
    if (!rows) return nk_fail(NK_ERR_NOMEM, "nw align: no memory for %d x %d cells", n, m);
    double *pM = rows, *pX = pM + W, *pY = pX + W, *cM = pY + W, *cX = cM + W, *cY = cX + W;
    unsigned char *tb = (unsigned char *)(cY + W);
    double go = sc->gap_open, ge = sc->gap_extend;

    for (int i = 0; i <= n; i++) {
        for (int j = 0; j <= m; j++) {
            unsigned char *cell = tb + (size_t)i * W + j;
            int am = ST_M, ax = ST_M, ay = ST_M;
            double vm = -INFINITY, vx = -INFINITY, vy = -INFINITY;
            if (i == 0 && j == 0) vm = 0;
            if (i > 0 && j > 0) {
                double s = sc->matrix ? sc->matrix[(size_t)a[i - 1] * sc->n_sym_b + b[j - 1]]
                                      : sc->score(a[i - 1], b[j - 1], sc->ctx);
                if (isnan(s) || s == INFINITY) {
                    free(rows);
                    return nk_fail(NK_ERR_NUMERIC, "nw align: score of symbols %d and %d is %g",
                                   a[i - 1], b[j - 1], s);
                }
                vm = best3(pM[j - 1], pX[j - 1], pY[j - 1], &am) + s;
            }
            if (i > 0) vx = best3(pM[j] + go, pX[j] + ge, pY[j] + go, &ax);
            if (j > 0) vy = best3(cM[j - 1] + go, cX[j - 1] + go, cY[j - 1] + ge, &ay);
            cM[j] = vm, cX[j] = vx, cY[j] = vy;
            *cell = (unsigned char)(am | ax << 2 | ay << 4);
        }
        double *t;
        t = pM, pM = cM, cM = t;
        t = pX, pX = cX, cX = t;
        t = pY, pY = cY, cY = t;
    }

    int st;
    double total = best3(pM[m], pX[m], pY[m], &st);
    int i = n, j = m, k = 0;
    while (i > 0 || j > 0) {
        int prev = tb[(size_t)i * W + j] >> (2 * st) & 3;
        if (st == ST_M) pairs[k++] = (nk_nw_pair){--i, --j};
        else if (st == ST_X) pairs[k++] = (nk_nw_pair){--i, -1};
        else pairs[k++] = (nk_nw_pair){-1, --j};
        st = prev;
    }
    for (int l = 0; l < k / 2; l++) {
        nk_nw_pair t = pairs[l];
        pairs[l] = pairs[k - 1 - l];
        pairs[k - 1 - l] = t;
    }
    *n_pairs = k;
    if (score) *score = total;
    free(rows);
    return 0;
}
