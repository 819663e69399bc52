/* Unit correspondence from a correlation matrix: semi-matching (each unit of
 * A to its best partner in B, many-to-one) and the one-to-one matching that
 * maximizes the summed correlation (Li et al. 2016, via the Hungarian method). */
#include "napkit/compare.h"

#include "napkit/error.h"
#include "napkit/hungarian.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nk_unit_matching_free(nk_unit_matching *m) {
    free(m->semi), free(m->semi_corr), free(m->match), free(m->match_corr);
    memset(m, 0, sizeof *m);
}

/* Mean over the units of A that vary (semi ≥ 0); a NaN value (partner
 * constant) counts as 0, as in the matching, so the one-to-one mean never
 * exceeds the semi-matching mean. NaN when no unit varies. */
static double unit_mean(const double *v, const int *semi, int n) {
    double s = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (semi[i] >= 0) s += isnan(v[i]) ? 0 : v[i], k++;
    return k ? s / k : NAN;
}

/* 1 when row r (stride 1, n values) or column (stride n) is all NaN: a constant unit. */
static int all_nan(const double *v, int n, size_t stride) {
    for (int i = 0; i < n; i++)
        if (!isnan(v[i * stride])) return 0;
    return 1;
}

int nk_unit_match(const double *rho, int na, int nb, nk_unit_matching *out) {
    memset(out, 0, sizeof *out);
    if (na < 1 || nb < 1) return nk_fail(NK_ERR_ARG, "compare: unit matching of %d × %d units", na, nb);
    out->na = na, out->nb = nb;
    out->semi = malloc(sizeof(int) * na), out->match = malloc(sizeof(int) * na);
    out->semi_corr = malloc(sizeof(double) * na), out->match_corr = malloc(sizeof(double) * na);
    double *w = malloc(sizeof(double) * (size_t)na * nb);
    if (!out->semi || !out->match || !out->semi_corr || !out->match_corr || !w) {
        free(w);
        nk_unit_matching_free(out);
        return nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    }
    for (int i = 0; i < na; i++) {
        const double *r = rho + (size_t)i * nb;
        int best = -1;
        for (int j = 0; j < nb; j++)
            if (!isnan(r[j]) && (best < 0 || r[j] > r[best])) best = j;
        out->semi[i] = best;
        out->semi_corr[i] = best >= 0 ? r[best] : NAN;
        out->n_constant_a += all_nan(r, nb, 1);
    }
    for (int j = 0; j < nb; j++) out->n_constant_b += all_nan(rho + j, na, nb);
    /* A constant unit correlates with nothing: weight 0, so it never displaces a real match. */
    for (size_t k = 0; k < (size_t)na * nb; k++) w[k] = isnan(rho[k]) ? 0 : rho[k];
    int rc = nk_linear_sum_assignment(w, na, nb, 1, out->match, NULL);
    free(w);
    if (rc) {
        nk_unit_matching_free(out);
        return rc;
    }
    for (int i = 0; i < na; i++) out->match_corr[i] = out->match[i] >= 0 ? rho[(size_t)i * nb + out->match[i]] : NAN;
    out->mean_semi = unit_mean(out->semi_corr, out->semi, na);
    out->mean_match = unit_mean(out->match_corr, out->semi, na);
    return NK_OK;
}
