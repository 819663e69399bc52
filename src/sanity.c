/* Model-randomization sanity checks (Adebayo et al. 2018) and the map
 * similarities they report: Spearman rank correlation and SSIM. */
#include "napkit/sanity.h"

#include "napkit/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const nk_sanity_mode_names[] = {"cascade", "independent", NULL};

typedef struct {
    float v;
    size_t i;
} ranked;

static int by_value(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    return x->v < y->v ? -1 : x->v > y->v ? 1 : (x->i > y->i) - (x->i < y->i);
}

/* r[i] = the average 1-based rank of v[i] (ties share their mean rank). */
static void ranks(const float *v, size_t n, ranked *tmp, double *r) {
    for (size_t i = 0; i < n; i++) tmp[i].v = v[i], tmp[i].i = i;
    qsort(tmp, n, sizeof *tmp, by_value);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && tmp[j + 1].v == tmp[i].v) j++;
        for (size_t k = i; k <= j; k++) r[tmp[k].i] = (i + j) / 2.0 + 1;
        i = j + 1;
    }
}

double nk_spearman(const float *a, const float *b, size_t n) {
    ranked *tmp = malloc(n * sizeof *tmp);
    double *ra = malloc(n * sizeof *ra), *rb = malloc(n * sizeof *rb), rho = 0;
    if (tmp && ra && rb && n > 1) {
        ranks(a, n, tmp, ra);
        ranks(b, n, tmp, rb);
        double m = (n + 1) / 2.0, sab = 0, saa = 0, sbb = 0; // Pearson of the ranks
        for (size_t i = 0; i < n; i++) {
            sab += (ra[i] - m) * (rb[i] - m);
            saa += (ra[i] - m) * (ra[i] - m);
            sbb += (rb[i] - m) * (rb[i] - m);
        }
        rho = saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
    }
    free(tmp), free(ra), free(rb);
    return rho;
}

/* v min-max normalized to [0, 1] (all 0 when constant). */
static void normalize01(const float *v, size_t n, double *out) {
    float lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) lo = fminf(lo, v[i]), hi = fmaxf(hi, v[i]);
    for (size_t i = 0; i < n; i++) out[i] = hi > lo ? (v[i] - lo) / ((double)hi - lo) : 0;
}

double nk_ssim(const float *a, const float *b, int rows, int cols, int win) {
    const size_t n = (size_t)rows * cols;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), total = 0;
    const int wr = rows == 1 ? 1 : win < rows ? win : rows, wc = win < cols ? win : cols;
    const double C1 = 1e-4, C2 = 9e-4;
    long count = 0;
    if (!x || !y) {
        free(x), free(y);
        return NAN;
    }
    normalize01(a, n, x);
    normalize01(b, n, y);
    for (int i = 0; i + wr <= rows; i++)
        for (int j = 0; j + wc <= cols; j++) {
            double mx = 0, my = 0, vx = 0, vy = 0, cxy = 0, k = (double)wr * wc;
            for (int p = i; p < i + wr; p++)
                for (int q = j; q < j + wc; q++) mx += x[(size_t)p * cols + q], my += y[(size_t)p * cols + q];
            mx /= k, my /= k;
            for (int p = i; p < i + wr; p++)
                for (int q = j; q < j + wc; q++) {
                    double dx = x[(size_t)p * cols + q] - mx, dy = y[(size_t)p * cols + q] - my;
                    vx += dx * dx, vy += dy * dy, cxy += dx * dy;
                }
            vx /= k - 1 > 0 ? k - 1 : 1, vy /= k - 1 > 0 ? k - 1 : 1, cxy /= k - 1 > 0 ? k - 1 : 1;
            total += (2 * mx * my + C1) * (2 * cxy + C2) / ((mx * mx + my * my + C1) * (vx + vy + C2));
            count++;
        }
    free(x), free(y);
    return total / count;
}

/* Copies layer l's weights and bias from src into dst (same architecture). */
static void copy_layer(nk_model *dst, const nk_model *src, int l) {
    const nk_layer_spec *s = &nk_model_arch(dst)->layers[l];
    size_t off = nk_model_layer_offset(dst, l), n = (size_t)s->out * s->in * s->kernel + s->out;
    memcpy(nk_model_params(dst) + off, nk_model_params((nk_model *)src) + off, n * sizeof(float));
}

/* Accumulates the three similarities of one map pair into sums s[0..5] (Σv, Σv²). */
static void add_similarity(const float *ref, const float *got, float *abs_ref, float *abs_got, int rows, int T,
                           double *s) {
    const size_t n = (size_t)rows * T;
    for (size_t i = 0; i < n; i++) abs_ref[i] = fabsf(ref[i]), abs_got[i] = fabsf(got[i]);
    double v[3] = {nk_spearman(abs_ref, abs_got, n), nk_spearman(ref, got, n), nk_ssim(abs_ref, abs_got, rows, T, 7)};
    for (int k = 0; k < 3; k++) s[2 * k] += v[k], s[2 * k + 1] += v[k] * v[k];
}

static void finish(const double *s, int n, nk_sanity_sim *out) {
    double mean[3], sem[3];
    for (int k = 0; k < 3; k++) {
        mean[k] = s[2 * k] / n;
        double var = n > 1 ? (s[2 * k + 1] - n * mean[k] * mean[k]) / (n - 1) : 0;
        sem[k] = var > 0 ? sqrt(var / n) : 0;
    }
    *out = (nk_sanity_sim){mean[0], mean[1], mean[2], sem[0], sem[1], sem[2], n};
}

int nk_sanity_run(const nk_model *m, int n_utts, const float *const *x, const int *T, const nk_target *tg,
                  const nk_attr_options *methods, int n_methods, nk_sanity_mode mode, uint64_t seed,
                  nk_sanity_sim *out) {
    const nk_arch *a = nk_model_arch(m);
    const int L = a->n_layers, F = nk_arch_input_dim(a);
    if (n_utts < 1 || n_methods < 1) return nk_fail(NK_ERR_EMPTY, "sanity: needs at least one utterance and method");
    int maxT = 0;
    for (int u = 0; u < n_utts; u++) maxT = T[u] > maxT ? T[u] : maxT;
    const size_t cell = (size_t)F * maxT;
    nk_model *w = NULL, *r = NULL;
    nk_workspace *ws = NULL;
    float *orig = malloc((size_t)n_utts * n_methods * cell * sizeof *orig);
    float *map = malloc(3 * cell * sizeof *map);
    int *rows = malloc((size_t)n_methods * sizeof *rows);
    double *sums = calloc((size_t)(L + 1) * n_methods * 6, sizeof *sums);
    int rc = !orig || !map || !rows || !sums ? nk_fail(NK_ERR_NOMEM, "sanity: out of memory") : 0;
    if (!rc) rc = nk_model_new(a, &w);
    if (!rc) rc = nk_model_new(a, &r);
    if (!rc) rc = nk_workspace_new(w, &ws);
    if (!rc) {
        nk_model_init(r, seed);
        memcpy(nk_model_params(w), nk_model_params((nk_model *)m), nk_model_param_count(m) * sizeof(float));
    }
    nk_attr_report rep;
    for (int u = 0; u < n_utts && !rc; u++) // the trained model's maps
        for (int k = 0; k < n_methods && !rc; k++) {
            rc = nk_attribute(w, ws, x[u], T[u], &tg[u], &methods[k], orig + ((size_t)u * n_methods + k) * cell, &rep);
            rows[k] = rep.rows;
        }
    for (int step = 0; step <= L && !rc; step++) {
        if (step && mode == NK_SANITY_INDEPENDENT)
            memcpy(nk_model_params(w), nk_model_params((nk_model *)m), nk_model_param_count(m) * sizeof(float));
        if (step) copy_layer(w, r, L - step);
        for (int u = 0; u < n_utts && !rc; u++)
            for (int k = 0; k < n_methods && !rc; k++) {
                const float *ref = orig + ((size_t)u * n_methods + k) * cell;
                if (step && (rc = nk_attribute(w, ws, x[u], T[u], &tg[u], &methods[k], map, &rep))) break;
                add_similarity(ref, step ? map : ref, map + cell, map + 2 * cell, rows[k], T[u],
                               sums + ((size_t)step * n_methods + k) * 6);
            }
    }
    for (int i = 0; i < (L + 1) * n_methods && !rc; i++) finish(sums + (size_t)i * 6, n_utts, &out[i]);
    free(orig), free(map), free(rows), free(sums);
    nk_workspace_free(ws);
    nk_model_free(w);
    nk_model_free(r);
    return rc;
}
