/* Streamed second moments of two stacks of layers, and linear CKA from them.
 *
 * Per utterance the caller hands in the stacked activations (P, n); the
 * cross-products go through dgemm (A × B, all layer pairs at once) and dsyrk
 * (each layer with itself, upper triangle only), accumulated in double. */
#include "napkit/compare.h"

#include "napkit/error.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct nk_cmp_moments {
    int na, nb;
    int *ca, *cb;        /* units per layer */
    size_t *oa, *ob;     /* first row of each layer in the stacks; oa[na] = PA */
    size_t *ga, *gb;     /* offset of each layer's Gram block in gram_a / gram_b */
    double n;            /* samples */
    double *sum_a, *sum_b;   /* (PA), (PB) */
    double *gram_a, *gram_b; /* per layer (c, c), upper triangle valid */
    double *cross;           /* (PA, PB) */
};

static int offsets(int n, const int *c, int **cc, size_t **o, size_t **g, const char *which) {
    *cc = malloc(sizeof(int) * (n > 0 ? n : 1));
    *o = malloc(sizeof(size_t) * (n + 1));
    *g = malloc(sizeof(size_t) * (n + 1));
    if (!*cc || !*o || !*g) return nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    (*o)[0] = (*g)[0] = 0;
    for (int i = 0; i < n; i++) {
        if (c[i] < 1) return nk_fail(NK_ERR_ARG, "compare: layer %d of model %s has %d units", i, which, c[i]);
        (*cc)[i] = c[i];
        (*o)[i + 1] = (*o)[i] + c[i];
        (*g)[i + 1] = (*g)[i] + (size_t)c[i] * c[i];
    }
    return NK_OK;
}

int nk_cmp_moments_new(int na, const int *ca, int nb, const int *cb, nk_cmp_moments **out) {
    *out = NULL;
    if (na < 1 || nb < 1) return nk_fail(NK_ERR_ARG, "compare: needs at least one layer of each model");
    nk_cmp_moments *m = calloc(1, sizeof *m);
    if (!m) return nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    m->na = na, m->nb = nb;
    int rc = offsets(na, ca, &m->ca, &m->oa, &m->ga, "A");
    if (!rc) rc = offsets(nb, cb, &m->cb, &m->ob, &m->gb, "B");
    if (!rc) {
        const size_t PA = m->oa[na], PB = m->ob[nb];
        m->sum_a = calloc(PA, sizeof(double));
        m->sum_b = calloc(PB, sizeof(double));
        m->gram_a = calloc(m->ga[na], sizeof(double));
        m->gram_b = calloc(m->gb[nb], sizeof(double));
        m->cross = calloc(PA * PB, sizeof(double));
        if (!m->sum_a || !m->sum_b || !m->gram_a || !m->gram_b || !m->cross)
            rc = nk_fail(NK_ERR_NOMEM, "compare: out of memory for %zu × %zu moments", PA, PB);
    }
    if (rc) {
        nk_cmp_moments_free(m);
        return rc;
    }
    *out = m;
    return NK_OK;
}

void nk_cmp_moments_free(nk_cmp_moments *m) {
    if (!m) return;
    free(m->ca), free(m->cb), free(m->oa), free(m->ob), free(m->ga), free(m->gb);
    free(m->sum_a), free(m->sum_b), free(m->gram_a), free(m->gram_b), free(m->cross);
    free(m);
}

void nk_cmp_moments_zero(nk_cmp_moments *m) {
    const size_t PA = m->oa[m->na], PB = m->ob[m->nb];
    m->n = 0;
    memset(m->sum_a, 0, sizeof(double) * PA);
    memset(m->sum_b, 0, sizeof(double) * PB);
    memset(m->gram_a, 0, sizeof(double) * m->ga[m->na]);
    memset(m->gram_b, 0, sizeof(double) * m->gb[m->nb]);
    memset(m->cross, 0, sizeof(double) * PA * PB);
}

double nk_cmp_moments_count(const nk_cmp_moments *m) { return m->n; }

int nk_cmp_moments_units(const nk_cmp_moments *m, int i, int j, int *ca, int *cb) {
    if (i < 0 || i >= m->na || j < 0 || j >= m->nb)
        return nk_fail(NK_ERR_ARG, "compare: no layer pair (%d, %d) among %d × %d", i, j, m->na, m->nb);
    *ca = m->ca[i], *cb = m->cb[j];
    return NK_OK;
}

/* Column sums and each layer's Gram matrix of one stack x (P, n). */
static void add_side(int L, const int *c, const size_t *o, const size_t *g, const double *x, long n, double *sum,
                     double *gram) {
    for (size_t r = 0; r < o[L]; r++) {
        double s = 0;
        for (long t = 0; t < n; t++) s += x[r * n + t];
        sum[r] += s;
    }
    for (int i = 0; i < L; i++)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, c[i], (int)n, 1.0, x + o[i] * n, (int)n, 1.0,
                    gram + g[i], c[i]);
}

int nk_cmp_moments_add(nk_cmp_moments *m, const double *xa, const double *xb, long n) {
    const size_t PA = m->oa[m->na], PB = m->ob[m->nb];
    if (n < 1) return NK_OK;
    if (n > 1L << 30) return nk_fail(NK_ERR_ARG, "compare: %ld samples in one call (limit 2^30)", n);
    for (size_t k = 0; k < PA * n; k++)
        if (!isfinite(xa[k])) return nk_fail(NK_ERR_NUMERIC, "compare: model A unit %zu frame %zu is %g", k / n, k % n, xa[k]);
    for (size_t k = 0; k < PB * n; k++)
        if (!isfinite(xb[k])) return nk_fail(NK_ERR_NUMERIC, "compare: model B unit %zu frame %zu is %g", k / n, k % n, xb[k]);
    add_side(m->na, m->ca, m->oa, m->ga, xa, n, m->sum_a, m->gram_a);
    add_side(m->nb, m->cb, m->ob, m->gb, xb, n, m->sum_b, m->gram_b);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)PA, (int)PB, (int)n, 1.0, xa, (int)n, xb, (int)n, 1.0,
                m->cross, (int)PB);
    m->n += (double)n;
    return NK_OK;
}

static int same_shape(const nk_cmp_moments *a, const nk_cmp_moments *b) {
    if (a->na != b->na || a->nb != b->nb) return 0;
    for (int i = 0; i < a->na; i++)
        if (a->ca[i] != b->ca[i]) return 0;
    for (int j = 0; j < a->nb; j++)
        if (a->cb[j] != b->cb[j]) return 0;
    return 1;
}

static void add_to(double *into, const double *from, size_t n) {
    for (size_t k = 0; k < n; k++) into[k] += from[k];
}

int nk_cmp_moments_merge(nk_cmp_moments *into, const nk_cmp_moments *from) {
    if (!same_shape(into, from)) return nk_fail(NK_ERR_ARG, "compare: merging moments of different layers");
    const size_t PA = into->oa[into->na], PB = into->ob[into->nb];
    into->n += from->n;
    add_to(into->sum_a, from->sum_a, PA);
    add_to(into->sum_b, from->sum_b, PB);
    add_to(into->gram_a, from->gram_a, into->ga[into->na]);
    add_to(into->gram_b, from->gram_b, into->gb[into->nb]);
    add_to(into->cross, from->cross, PA * PB);
    return NK_OK;
}

/* ‖C‖_F of a layer's centred Gram block from its upper triangle; 0 for a layer
 * whose variance is at rounding level relative to its raw second moments. */
static double gram_norm(const double *g, const double *s, int c, double n) {
    double f = 0, raw = 0;
    for (int i = 0; i < c; i++) {
        raw += g[(size_t)i * c + i];
        for (int j = i; j < c; j++) {
            double v = g[(size_t)i * c + j] - s[i] * s[j] / n;
            f += (i == j ? 1 : 2) * v * v;
        }
    }
    return sqrt(f) > 1e-12 * raw ? sqrt(f) : 0;
}

int nk_cka(const nk_cmp_moments *m, double *cka) {
    if (m->n < 2) return nk_fail(NK_ERR_EMPTY, "compare: CKA needs at least 2 samples (have %.0f)", m->n);
    const size_t PB = m->ob[m->nb];
    double *na = malloc(sizeof(double) * m->na), *nb = malloc(sizeof(double) * m->nb);
    if (!na || !nb) {
        free(na), free(nb);
        return nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    }
    for (int i = 0; i < m->na; i++) na[i] = gram_norm(m->gram_a + m->ga[i], m->sum_a + m->oa[i], m->ca[i], m->n);
    for (int j = 0; j < m->nb; j++) nb[j] = gram_norm(m->gram_b + m->gb[j], m->sum_b + m->ob[j], m->cb[j], m->n);
    for (int i = 0; i < m->na; i++)
        for (int j = 0; j < m->nb; j++) {
            double f = 0;
            for (size_t r = m->oa[i]; r < m->oa[i + 1]; r++)
                for (size_t k = m->ob[j]; k < m->ob[j + 1]; k++) {
                    double v = m->cross[r * PB + k] - m->sum_a[r] * m->sum_b[k] / m->n;
                    f += v * v;
                }
            /* A constant layer has no direction to compare: NaN, not 0/0 noise. */
            cka[i * m->nb + j] = na[i] > 0 && nb[j] > 0 ? f / (na[i] * nb[j]) : NAN;
        }
    free(na), free(nb);
    return NK_OK;
}

int nk_unit_corr(const nk_cmp_moments *m, int i, int j, double *rho) {
    int ca, cb, rc = nk_cmp_moments_units(m, i, j, &ca, &cb);
    if (rc) return rc;
    if (m->n < 2) return nk_fail(NK_ERR_EMPTY, "compare: correlations need at least 2 samples (have %.0f)", m->n);
    const size_t PB = m->ob[m->nb];
    const double *sa = m->sum_a + m->oa[i], *sb = m->sum_b + m->ob[j];
    const double *ga = m->gram_a + m->ga[i], *gb = m->gram_b + m->gb[j];
    for (int r = 0; r < ca; r++) {
        double vr = ga[(size_t)r * ca + r] - sa[r] * sa[r] / m->n;
        for (int k = 0; k < cb; k++) {
            double vk = gb[(size_t)k * cb + k] - sb[k] * sb[k] / m->n;
            double c = m->cross[(m->oa[i] + r) * PB + m->ob[j] + k] - sa[r] * sb[k] / m->n;
            /* Variance at rounding level relative to the raw second moment counts as constant. */
            int flat = vr <= 1e-12 * ga[(size_t)r * ca + r] || vk <= 1e-12 * gb[(size_t)k * cb + k];
            double p = flat ? NAN : c / sqrt(vr * vk);
            rho[(size_t)r * cb + k] = p > 1 ? 1 : p < -1 ? -1 : p;
        }
    }
    return NK_OK;
}
