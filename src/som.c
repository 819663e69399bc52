/* Kohonen self-organizing map with one-to-one cell assignment. */
#include "napkit/som.h"

#include "napkit/error.h"
#include "napkit/hungarian.h"
#include "napkit/rng.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void nk_som_config_default(nk_som_config *c, int n) {
    int side = 1;
    while (side * side < n) side++;
    c->rows = c->cols = side;
    c->epochs = 1000;
    c->sigma0 = side / 2.0 > 0.5 ? side / 2.0 : 0.5;
    c->sigma1 = 0.5;
    c->lr0 = 0.5, c->lr1 = 0.01;
    c->seed = 1;
}

void nk_som_free(nk_som *s) {
    free(s->codebook), free(s->cell);
    memset(s, 0, sizeof *s);
}

static double dist2(const double *a, const double *b, int d) {
    double s = 0;
    for (int k = 0; k < d; k++) s += (a[k] - b[k]) * (a[k] - b[k]);
    return s;
}

static int best_cell(const double *cb, int cells, int d, const double *x) {
    int best = 0;
    double bd = INFINITY;
    for (int k = 0; k < cells; k++) {
        double v = dist2(cb + (size_t)k * d, x, d);
        if (v < bd) bd = v, best = k;
    }
    return best;
}

int nk_som_fit(const double *X, int n, int d, const nk_som_config *c, nk_som *out) {
    memset(out, 0, sizeof *out);
    if (n < 1 || d < 1) return nk_fail(NK_ERR_ARG, "som: needs at least one sample and one dimension (%d × %d)", n, d);
    if (c->rows < 1 || c->cols < 1 || (long)c->rows * c->cols < n || (long)c->rows * c->cols > 1L << 20)
        return nk_fail(NK_ERR_ARG, "som: a %d × %d grid cannot hold %d samples one per cell", c->rows, c->cols, n);
    if (c->epochs < 1 || !(c->sigma0 > 0) || !(c->sigma1 > 0) || !(c->lr0 > 0) || !(c->lr1 > 0) || c->lr0 > 1)
        return nk_fail(NK_ERR_ARG, "som: epochs must be ≥ 1, widths and rates positive, rates ≤ 1");
    for (size_t k = 0; k < (size_t)n * d; k++)
        if (!isfinite(X[k])) return nk_fail(NK_ERR_NUMERIC, "som: sample %zu, dimension %zu is %g", k / d, k % d, X[k]);
    const int cells = c->rows * c->cols;
    out->rows = c->rows, out->cols = c->cols, out->d = d, out->n = n;
    out->codebook = malloc(sizeof(double) * cells * d);
    out->cell = malloc(sizeof(int) * n);
    int *order = malloc(sizeof(int) * n);
    double *cost = malloc(sizeof(double) * (size_t)n * cells);
    if (!out->codebook || !out->cell || !order || !cost) {
        free(order), free(cost);
        nk_som_free(out);
        return nk_fail(NK_ERR_NOMEM, "som: out of memory for %d cells", cells);
    }
    uint64_t rng = c->seed;
    /* Start from random samples with a little jitter, so identical samples still differ. */
    for (int k = 0; k < cells; k++) {
        const double *x = X + (size_t)(nk_rng_below(&rng, (uint64_t)n)) * d;
        for (int j = 0; j < d; j++) out->codebook[(size_t)k * d + j] = x[j] + 1e-3 * (nk_rng_uniform(&rng) - 0.5);
    }
    const double steps = (double)c->epochs * n;
    long step = 0;
    for (int e = 0; e < c->epochs; e++) {
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = (int)nk_rng_below(&rng, (uint64_t)(i + 1)), t = order[i];
            order[i] = order[j], order[j] = t;
        }
        for (int i = 0; i < n; i++, step++) {
            const double f = step / steps;
            const double sigma = c->sigma0 * pow(c->sigma1 / c->sigma0, f), lr = c->lr0 * pow(c->lr1 / c->lr0, f);
            const double *x = X + (size_t)order[i] * d;
            const int b = best_cell(out->codebook, cells, d, x), br = b / c->cols, bc = b % c->cols;
            const int reach = (int)ceil(3 * sigma); /* beyond 3σ the pull is below 1 % */
            for (int r = br - reach; r <= br + reach; r++) {
                if (r < 0 || r >= c->rows) continue;
                for (int q = bc - reach; q <= bc + reach; q++) {
                    if (q < 0 || q >= c->cols) continue;
                    const double g = lr * exp(-((r - br) * (r - br) + (q - bc) * (q - bc)) / (2 * sigma * sigma));
                    double *w = out->codebook + ((size_t)r * c->cols + q) * d;
                    for (int j = 0; j < d; j++) w[j] += g * (x[j] - w[j]);
                }
            }
        }
    }
    double q = 0;
    for (int i = 0; i < n; i++) {
        const double *x = X + (size_t)i * d;
        q += sqrt(dist2(out->codebook + (size_t)best_cell(out->codebook, cells, d, x) * d, x, d));
        for (int k = 0; k < cells; k++) cost[(size_t)i * cells + k] = dist2(out->codebook + (size_t)k * d, x, d);
    }
    out->qerr = q / n;
    int rc = nk_linear_sum_assignment(cost, n, cells, 0, out->cell, NULL);
    free(order), free(cost);
    if (rc) nk_som_free(out);
    return rc;
}
