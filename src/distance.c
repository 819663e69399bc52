/* Pairwise distances between the rows of a matrix, as scipy.spatial.distance.pdist. */
#include "napkit/cluster.h"

#include "napkit/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const nk_metric_names[] = {"euclidean", "sqeuclidean", "cityblock", "cosine",
                                       "correlation", "chebyshev", NULL};

static double dist_sqeuclidean(const double *u, const double *v, int d) {
    double s = 0;
    for (int k = 0; k < d; k++) s += (u[k] - v[k]) * (u[k] - v[k]);
    return s;
}

static double dist_cityblock(const double *u, const double *v, int d) {
    double s = 0;
    for (int k = 0; k < d; k++) s += fabs(u[k] - v[k]);
    return s;
}

static double dist_chebyshev(const double *u, const double *v, int d) {
    double m = 0;
    for (int k = 0; k < d; k++) m = fmax(m, fabs(u[k] - v[k]));
    return m;
}

/* 1 − cos(u, v) given the squared norms; clipped like scipy so rounding never
 * yields a distance below 0 or above 2. */
static double dist_cosine(const double *u, const double *v, int d, double nu, double nv) {
    double dot = 0;
    for (int k = 0; k < d; k++) dot += u[k] * v[k];
    double c = dot / sqrt(nu * nv);
    if (fabs(c) > 1) c = copysign(1, c);
    return 1 - c;
}

int nk_pdist(const double *X, int n, int d, nk_metric metric, double *D) {
    if (n < 1 || d < 1) return nk_fail(NK_ERR_ARG, "pdist: need n >= 1 rows and d >= 1 columns (got %d x %d)", n, d);
    if ((unsigned)metric > NK_METRIC_CHEBYSHEV) return nk_fail(NK_ERR_ARG, "pdist: unknown metric %d", (int)metric);
    for (size_t i = 0; i < (size_t)n * d; i++)
        if (!isfinite(X[i]))
            return nk_fail(NK_ERR_NUMERIC, "pdist: row %zu column %zu is not finite", i / d, i % d);

    /* Correlation is the cosine distance of the mean-centred rows; both need the norms. */
    const double *Y = X;
    double *centred = NULL, *norm2 = NULL;
    if (metric == NK_METRIC_COSINE || metric == NK_METRIC_CORRELATION) {
        norm2 = malloc(sizeof(double) * n);
        if (metric == NK_METRIC_CORRELATION) centred = malloc(sizeof(double) * n * d);
        if (!norm2 || (metric == NK_METRIC_CORRELATION && !centred)) {
            free(norm2);
            free(centred);
            return nk_fail(NK_ERR_NOMEM, "pdist: out of memory for %d x %d", n, d);
        }
        for (int i = 0; i < n; i++) {
            const double *x = X + (size_t)i * d;
            double mean = 0, s = 0;
            if (centred) {
                for (int k = 0; k < d; k++) mean += x[k];
                mean /= d;
                for (int k = 0; k < d; k++) centred[(size_t)i * d + k] = x[k] - mean;
                x = centred + (size_t)i * d;
            }
            for (int k = 0; k < d; k++) s += x[k] * x[k];
            if (!(s > 0)) {
                free(norm2);
                free(centred);
                return nk_fail(NK_ERR_NUMERIC, "pdist: row %d is %s, so its %s distance is undefined", i,
                               centred ? "constant" : "all zeros", nk_metric_names[metric]);
            }
            norm2[i] = s;
        }
        if (centred) Y = centred;
    }

    #pragma omp parallel for schedule(dynamic, 16)
    for (int i = 0; i < n - 1; i++) {
        const double *u = Y + (size_t)i * d;
        /* D[base + j] is the pair (i, j), j > i (unsigned wrap-around keeps it exact for i = 0). */
        size_t base = nk_condensed_index(n, i, i + 1) - (size_t)(i + 1);
        /* One loop per metric, so each inner loop is a plain call the compiler can inline. */
        switch (metric) {
        case NK_METRIC_EUCLIDEAN:
            for (int j = i + 1; j < n; j++) D[base + j] = sqrt(dist_sqeuclidean(u, Y + (size_t)j * d, d));
            break;
        case NK_METRIC_SQEUCLIDEAN:
            for (int j = i + 1; j < n; j++) D[base + j] = dist_sqeuclidean(u, Y + (size_t)j * d, d);
            break;
        case NK_METRIC_CITYBLOCK:
            for (int j = i + 1; j < n; j++) D[base + j] = dist_cityblock(u, Y + (size_t)j * d, d);
            break;
        case NK_METRIC_CHEBYSHEV:
            for (int j = i + 1; j < n; j++) D[base + j] = dist_chebyshev(u, Y + (size_t)j * d, d);
            break;
        default:
            for (int j = i + 1; j < n; j++) D[base + j] = dist_cosine(u, Y + (size_t)j * d, d, norm2[i], norm2[j]);
        }
    }
    free(norm2);
    free(centred);
    return NK_OK;
}
