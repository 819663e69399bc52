/* Phoneme profiles of two models compared on their shared IPA phonemes:
 * profile correlations through the unit matching, and the two trees. */
#include "napkit/compare.h"

#include "napkit/cluster.h"
#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/npy.h"
#include "napkit/phoneset.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *nk_group_ipa(const char *label) {
    int id = nk_phone_by_ipa(label);
    if (id < 0) id = nk_phone_by_arpabet(label, NULL);
    return id >= 0 ? nk_phone_at(id)->ipa : label;
}

int nk_shared_profiles(const char *naps_a, const char *naps_b, int layer, double **Pa, int *ca, double **Pb, int *cb,
                       char ***phonemes, int *G) {
    double *Xa = NULL, *Xb = NULL;
    char **ga = NULL, **gb = NULL;
    int na = 0, nb = 0;
    *Pa = *Pb = NULL, *phonemes = NULL, *G = 0;
    int rc = nk_naps_read_flat(naps_a, layer, &Xa, &na, ca, &ga);
    if (!rc) rc = nk_naps_read_flat(naps_b, layer, &Xb, &nb, cb, &gb);
    int *ia = malloc(sizeof(int) * (na + 1)), *ib = malloc(sizeof(int) * (na + 1)), g = 0;
    if (!rc && (!ia || !ib)) rc = nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    for (int i = 0; !rc && i < na; i++) {
        const char *key = nk_group_ipa(ga[i]);
        int dup = 0;
        for (int k = 0; k < g; k++) dup |= !strcmp(nk_group_ipa(ga[ia[k]]), key);
        for (int j = 0; !dup && j < nb; j++)
            if (!strcmp(nk_group_ipa(gb[j]), key)) {
                ia[g] = i, ib[g++] = j;
                break;
            }
    }
    if (!rc && g < 2)
        rc = nk_fail(NK_ERR_EMPTY, "%s and %s: %d shared phonemes in layer %d (need 2; groups are mapped to IPA)",
                     naps_a, naps_b, g, layer);
    if (!rc) {
        *Pa = malloc(sizeof(double) * g * *ca), *Pb = malloc(sizeof(double) * g * *cb);
        *phonemes = calloc(g, sizeof(char *));
        if (!*Pa || !*Pb || !*phonemes) rc = nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    }
    for (int k = 0; !rc && k < g; k++) {
        memcpy(*Pa + (size_t)k * *ca, Xa + (size_t)ia[k] * *ca, sizeof(double) * *ca);
        memcpy(*Pb + (size_t)k * *cb, Xb + (size_t)ib[k] * *cb, sizeof(double) * *cb);
        if (!((*phonemes)[k] = strdup(nk_group_ipa(ga[ia[k]])))) rc = nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    }
    if (rc) {
        free(*Pa), free(*Pb);
        if (*phonemes) nk_strings_free(*phonemes, g);
        *Pa = *Pb = NULL, *phonemes = NULL;
    } else {
        *G = g;
    }
    free(Xa), free(Xb), free(ia), free(ib);
    if (ga) nk_strings_free(ga, na);
    if (gb) nk_strings_free(gb, nb);
    return rc;
}

/* Column c of P (G, C) z-scored over the rows into z (G); 0 if constant. */
static int zscore_col(const double *P, int G, int C, int c, double *z) {
    double m = 0, v = 0;
    for (int g = 0; g < G; g++) m += P[(size_t)g * C + c];
    m /= G;
    for (int g = 0; g < G; g++) v += (P[(size_t)g * C + c] - m) * (P[(size_t)g * C + c] - m);
    const double sd = sqrt(v / G);
    if (!(sd > 1e-12 * (fabs(m) + 1e-300))) return 0;
    for (int g = 0; g < G; g++) z[g] = (P[(size_t)g * C + c] - m) / sd;
    return 1;
}

static double pearson(const double *x, const double *y, int n) {
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) mx += x[i], my += y[i];
    mx /= n, my /= n;
    for (int i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

int nk_profile_similarity(const double *Pa, int G, int ca, const double *Pb, int cb, const int *match, double *R,
                          double *same, double *different, double *identification) {
    /* za, zb (G, U): the z-scored profiles of the usable matched pairs, phoneme-major. */
    double *za = malloc(sizeof(double) * G * ca), *zb = malloc(sizeof(double) * G * ca);
    double *ta = malloc(sizeof(double) * G), *tb = malloc(sizeof(double) * G);
    double *ra = malloc(sizeof(double) * ca), *rb = malloc(sizeof(double) * ca);
    int rc = za && zb && ta && tb && ra && rb ? NK_OK : nk_fail(NK_ERR_NOMEM, "compare: out of memory"), U = 0;
    for (int i = 0; !rc && i < ca; i++) {
        if (match[i] < 0 || match[i] >= cb || !zscore_col(Pa, G, ca, i, ta) || !zscore_col(Pb, G, cb, match[i], tb))
            continue;
        for (int g = 0; g < G; g++) za[(size_t)g * ca + U] = ta[g], zb[(size_t)g * ca + U] = tb[g];
        U++;
    }
    if (!rc && U < 3) rc = nk_fail(NK_ERR_EMPTY, "compare: only %d matched units vary over the phonemes (need 3)", U);
    double s = 0, d = 0;
    int hits = 0;
    for (int g = 0; !rc && g < G; g++) {
        int best = 0;
        for (int h = 0; h < G; h++) {
            for (int u = 0; u < U; u++) ra[u] = za[(size_t)g * ca + u], rb[u] = zb[(size_t)h * ca + u];
            double r = pearson(ra, rb, U);
            R[(size_t)g * G + h] = r;
            if (g == h) s += r;
            else d += r;
            if (r > R[(size_t)g * G + best] || isnan(R[(size_t)g * G + best])) best = h;
        }
        hits += best == g;
    }
    if (!rc) *same = s / G, *different = G > 1 ? d / ((double)G * (G - 1)) : NAN, *identification = (double)hits / G;
    free(za), free(zb), free(ta), free(tb), free(ra), free(rb);
    return rc;
}

int nk_tree_cophenetic_corr(const double *Za, const double *Zb, int n, double *corr) {
    const size_t m = (size_t)n * (n - 1) / 2;
    if (n < 3) return nk_fail(NK_ERR_ARG, "compare: cophenetic correlation of trees needs 3 leaves (have %d)", n);
    double *ca = malloc(sizeof(double) * m), *cb = malloc(sizeof(double) * m);
    int rc = ca && cb ? NK_OK : nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    if (!rc) rc = nk_cophenet(Za, n, NULL, ca, NULL);
    if (!rc) rc = nk_cophenet(Zb, n, NULL, cb, NULL);
    if (!rc) *corr = pearson(ca, cb, (int)m);
    free(ca), free(cb);
    return rc;
}

void nk_profile_result_free(nk_profile_result *r) {
    if (r->phonemes) nk_strings_free(r->phonemes, r->G);
    free(r->layers);
    memset(r, 0, sizeof *r);
}

/* Ward tree of the rows of P (G, C), leaves optimally ordered (fewer crossings). */
static int tree(const double *P, int G, int C, double *Z) {
    double *D = malloc(sizeof(double) * G * (G - 1) / 2);
    int rc = D ? nk_pdist(P, G, C, NK_METRIC_EUCLIDEAN, D) : nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    if (!rc) rc = nk_linkage(D, G, NK_LINK_WARD, Z);
    if (!rc) rc = nk_optimal_leaf_ordering(Z, G, D);
    free(D);
    return rc;
}

/* One layer: the numbers into *pl, the figures into dir. */
static int profile_layer(const char *naps_a, const char *naps_b, int layer, const nk_unit_matching *um,
                         const char *name_a, const char *name_b, const nk_plot_style *style, const char *dir,
                         nk_profile_layer *pl, char ***phonemes, int *G_out) {
    double *Pa, *Pb;
    int ca, cb, G;
    char **ph;
    int rc = nk_shared_profiles(naps_a, naps_b, layer, &Pa, &ca, &Pb, &cb, &ph, &G);
    if (rc) return rc;
    if (ca != um->na || cb != um->nb)
        rc = nk_fail(NK_ERR_FORMAT, "%s, %s: layer %d profiles have %d and %d units, the models %d and %d", naps_a,
                     naps_b, layer, ca, cb, um->na, um->nb);
    double *R = malloc(sizeof(double) * G * G), *Za = malloc(sizeof(double) * 4 * G), *Zb = malloc(sizeof(double) * 4 * G);
    float *Rf = malloc(sizeof(float) * G * G);
    if (!rc && (!R || !Za || !Zb || !Rf)) rc = nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    memset(pl, 0, sizeof *pl);
    pl->layer = layer, pl->G = G;
    for (int i = 0; !rc && i < ca; i++) pl->units += um->match[i] >= 0;
    if (!rc) rc = nk_profile_similarity(Pa, G, ca, Pb, cb, um->match, R, &pl->same, &pl->different, &pl->identification);
    if (!rc && G >= 3) {
        rc = tree(Pa, G, ca, Za);
        if (!rc) rc = tree(Pb, G, cb, Zb);
        if (!rc) rc = nk_tree_cophenetic_corr(Za, Zb, G, &pl->cophenetic);
    } else {
        pl->cophenetic = NAN;
    }
    nk_plot_style st;
    if (style) st = *style;
    else nk_plot_style_default(&st);
    char path[512], title[160], xl[100], yl[100];
    if (!rc && G >= 3) {
        snprintf(title, sizeof title, "Layer %d: profile trees (cophenetic r = %.2f)", layer, pl->cophenetic);
        st.title = title;
        snprintf(path, sizeof path, "%s/tanglegram_%02d", dir, layer);
        rc = nk_plot_tanglegram(Za, Zb, G, (const char *const *)ph, name_a, name_b, &st, path);
    }
    if (!rc) {
        for (int k = 0; k < G * G; k++) Rf[k] = (float)R[k];
        nk_matrix_axes ax;
        nk_matrix_axes_default(&ax);
        ax.row_labels = ax.col_labels = (const char *const *)ph;
        ax.vmin = -1, ax.vmax = 1, ax.clabel = "profile correlation";
        snprintf(title, sizeof title, "Layer %d: profiles across models (same %.2f, different %.2f)", layer, pl->same,
                 pl->different);
        snprintf(xl, sizeof xl, "%s phoneme", name_b);
        snprintf(yl, sizeof yl, "%s phoneme", name_a);
        st.title = title, st.xlabel = xl, st.ylabel = yl;
        if (!st.cmap) st.cmap = "rdbu";
        snprintf(path, sizeof path, "%s/profile_corr_%02d", dir, layer);
        rc = nk_plot_matrix(Rf, G, G, &ax, &st, path);
    }
    if (!rc && !*phonemes) *phonemes = ph, *G_out = G, ph = NULL;
    if (ph) nk_strings_free(ph, G);
    free(Pa), free(Pb), free(R), free(Za), free(Zb), free(Rf);
    return rc;
}

int nk_compare_profiles(const char *naps_a, const char *naps_b, const nk_compare_result *r, const char *name_a,
                        const char *name_b, const nk_plot_style *style, const char *dir, nk_profile_result *out) {
    memset(out, 0, sizeof *out);
    out->layers = calloc(r->n_pairs + 1, sizeof *out->layers);
    if (!out->layers) return nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "layers");
    cJSON_AddStringToObject(root, "naps_a", naps_a);
    cJSON_AddStringToObject(root, "naps_b", naps_b);
    cJSON_AddStringToObject(root, "profile_correlation",
                            "Pearson over one-to-one matched unit pairs of per-unit z-scored flat profiles");
    cJSON_AddStringToObject(root, "trees", "Ward linkage of the raw flat profiles, Euclidean");
    int rc = NK_OK;
    for (int p = 0; !rc && p < r->n_pairs; p++) {
        nk_profile_layer *pl = &out->layers[out->n_layers];
        rc = profile_layer(naps_a, naps_b, r->pair[p], &r->um[p], name_a, name_b, style, dir, pl, &out->phonemes, &out->G);
        if (rc == NK_ERR_ARG) { /* the layer is not in both NAPs folders: not an error */
            rc = NK_OK;
            continue;
        }
        if (rc) break;
        out->n_layers++;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "layer", pl->layer);
        cJSON_AddNumberToObject(o, "phonemes", pl->G);
        cJSON_AddNumberToObject(o, "matched_units", pl->units);
        cJSON_AddNumberToObject(o, "same", pl->same);
        cJSON_AddNumberToObject(o, "different", pl->different);
        cJSON_AddNumberToObject(o, "identification", pl->identification);
        if (isfinite(pl->cophenetic)) cJSON_AddNumberToObject(o, "cophenetic", pl->cophenetic);
        else cJSON_AddNullToObject(o, "cophenetic");
        cJSON_AddItemToArray(arr, o);
    }
    if (!rc && out->n_layers == 0)
        rc = nk_fail(NK_ERR_EMPTY, "%s, %s: no compared layer is in both NAPs folders", naps_a, naps_b);
    if (!rc) cJSON_AddItemToObject(root, "phonemes", cJSON_CreateStringArray((const char *const *)out->phonemes, out->G));
    if (!rc) rc = nk_write_json_in(dir, "profile_similarity.json", root);
    cJSON_Delete(root);
    if (rc) nk_profile_result_free(out);
    return rc;
}
