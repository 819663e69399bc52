/* The activation comparison's numbers and files: CKA matrix, per-layer unit
 * correlations and matchings, and their figures. */
#include "napkit/compare.h"

#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/npy.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nk_compare_result_free(nk_compare_result *r) {
    for (int p = 0; p < r->n_pairs; p++) {
        if (r->rho) free(r->rho[p]);
        if (r->um) nk_unit_matching_free(&r->um[p]);
    }
    free(r->la), free(r->lb), free(r->cka), free(r->pair), free(r->rho), free(r->um);
    memset(r, 0, sizeof *r);
}

static int *copy_ints(const int *v, int n) {
    int *c = malloc(sizeof(int) * n);
    if (c) memcpy(c, v, sizeof(int) * n);
    return c;
}

int nk_compare_analyze(const nk_cmp_moments *m, const int *la, int na, const int *lb, int nb, nk_compare_result *r) {
    memset(r, 0, sizeof *r);
    r->na = na, r->nb = nb;
    r->samples = nk_cmp_moments_count(m);
    r->la = copy_ints(la, na), r->lb = copy_ints(lb, nb);
    r->cka = malloc(sizeof(double) * na * nb);
    r->pair = malloc(sizeof(int) * na);
    r->rho = calloc(na, sizeof(double *));
    r->um = calloc(na, sizeof(nk_unit_matching));
    int rc = r->la && r->lb && r->cka && r->pair && r->rho && r->um ? NK_OK : nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    if (!rc) rc = nk_cka(m, r->cka);
    for (int i = 0; !rc && i < na; i++)
        for (int j = 0; !rc && j < nb; j++) {
            if (la[i] != lb[j]) continue;
            const int p = r->n_pairs++;
            int ca, cb;
            r->pair[p] = la[i];
            rc = nk_cmp_moments_units(m, i, j, &ca, &cb);
            if (!rc && !(r->rho[p] = malloc(sizeof(double) * ca * cb))) rc = nk_fail(NK_ERR_NOMEM, "compare: out of memory");
            if (!rc) rc = nk_unit_corr(m, i, j, r->rho[p]);
            if (!rc) rc = nk_unit_match(r->rho[p], ca, cb, &r->um[p]);
        }
    if (rc) nk_compare_result_free(r);
    return rc;
}

/* A number, or null for NaN (JSON has no NaN). */
static void add_num(cJSON *o, const char *key, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

static cJSON *num_array(const double *v, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
    return a;
}

static int write_matching_json(const nk_compare_result *r, int p, const char *dir) {
    const nk_unit_matching *u = &r->um[p];
    int above[3] = {0, 0, 0}; /* matched correlations above 0.5, 0.7, 0.9 */
    for (int i = 0; i < u->na; i++)
        for (int k = 0; k < 3; k++) above[k] += u->match_corr[i] > 0.5 + 0.2 * k;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "layer", r->pair[p]);
    cJSON_AddNumberToObject(o, "units_a", u->na);
    cJSON_AddNumberToObject(o, "units_b", u->nb);
    cJSON_AddNumberToObject(o, "samples", r->samples);
    add_num(o, "mean_semi", u->mean_semi);
    add_num(o, "mean_match", u->mean_match);
    cJSON_AddNumberToObject(o, "matched_above_0.5", above[0]);
    cJSON_AddNumberToObject(o, "matched_above_0.7", above[1]);
    cJSON_AddNumberToObject(o, "matched_above_0.9", above[2]);
    cJSON_AddNumberToObject(o, "constant_units_a", u->n_constant_a);
    cJSON_AddNumberToObject(o, "constant_units_b", u->n_constant_b);
    cJSON_AddItemToObject(o, "semi", cJSON_CreateIntArray(u->semi, u->na));
    cJSON_AddItemToObject(o, "semi_corr", num_array(u->semi_corr, u->na));
    cJSON_AddItemToObject(o, "match", cJSON_CreateIntArray(u->match, u->na));
    cJSON_AddItemToObject(o, "match_corr", num_array(u->match_corr, u->na));
    char name[64];
    snprintf(name, sizeof name, "matching_%02d.json", r->pair[p]);
    int rc = nk_write_json_in(dir, name, o);
    cJSON_Delete(o);
    return rc;
}

/* Descending by value, NaN last; ties by index (deterministic). */
static const double *sort_key;
static int by_value_desc(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    double x = sort_key[i], y = sort_key[j];
    if (isnan(x) != isnan(y)) return isnan(x) ? 1 : -1;
    if (x != y && !isnan(x)) return x > y ? -1 : 1;
    return i - j;
}
static void order_desc(const double *v, int n, int *order) {
    for (int i = 0; i < n; i++) order[i] = i;
    sort_key = v;
    qsort(order, n, sizeof(int), by_value_desc);
}

static int plot_matching(const nk_compare_result *r, int p, const char *name_a, const char *name_b,
                         const nk_plot_style *style, const char *dir) {
    const nk_unit_matching *u = &r->um[p];
    const int na = u->na, nb = u->nb;
    float *M = malloc(sizeof(float) * na * nb), *curves = malloc(sizeof(float) * 2 * na);
    int *rows = malloc(sizeof(int) * na), *cols = malloc(sizeof(int) * nb), rc = NK_OK;
    char *used = calloc(nb, 1);
    if (!M || !curves || !rows || !cols || !used) rc = nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    char path[512], title[200], xl[120], yl[120];
    nk_plot_style st;
    if (style) st = *style;
    else nk_plot_style_default(&st);
    if (!rc) {
        for (size_t k = 0; k < (size_t)na * nb; k++) M[k] = (float)r->rho[p][k];
        /* Rows by matched correlation; column k is row k's partner, unmatched columns after. */
        order_desc(u->match_corr, na, rows);
        int c = 0;
        for (int k = 0; k < na; k++)
            if (u->match[rows[k]] >= 0) cols[c++] = u->match[rows[k]], used[u->match[rows[k]]] = 1;
        for (int j = 0; j < nb; j++)
            if (!used[j]) cols[c++] = j;
        nk_matrix_axes ax;
        nk_matrix_axes_default(&ax);
        ax.vmin = -1, ax.vmax = 1, ax.clabel = "Pearson r";
        snprintf(title, sizeof title, "Layer %d: unit correlations, ordered by the matching", r->pair[p]);
        snprintf(xl, sizeof xl, "%s units (partner order)", name_b);
        snprintf(yl, sizeof yl, "%s units (by matched r)", name_a);
        st.title = title, st.xlabel = xl, st.ylabel = yl;
        if (!st.cmap) st.cmap = "rdbu";
        snprintf(path, sizeof path, "%s/matching_%02d", dir, r->pair[p]);
        rc = nk_plot_heatmap(M, na, nb, rows, cols, &ax, &st, path);
    }
    if (!rc) {
        for (int k = 0; k < na; k++) curves[k] = (float)u->match_corr[rows[k]];
        int *semi_order = rows; /* reused: rows are no longer needed */
        order_desc(u->semi_corr, na, semi_order);
        for (int k = 0; k < na; k++) curves[na + k] = (float)u->semi_corr[semi_order[k]];
        static const char *const labels[] = {"one-to-one (Hungarian)", "semi-matching (best partner)"};
        snprintf(title, sizeof title, "Layer %d: matched correlations, sorted", r->pair[p]);
        snprintf(xl, sizeof xl, "%s unit rank", name_a);
        st.title = title, st.xlabel = xl, st.ylabel = "Pearson r with partner";
        st.cmap = style ? style->cmap : NULL;
        snprintf(path, sizeof path, "%s/matched_%02d", dir, r->pair[p]);
        rc = nk_plot_erp(curves, NULL, 2, na, labels, NULL, &st, path);
    }
    free(M), free(curves), free(rows), free(cols), free(used);
    return rc;
}

static int plot_cka(const nk_compare_result *r, const char *name_a, const char *name_b, const nk_plot_style *style,
                    const char *dir) {
    float *M = malloc(sizeof(float) * r->na * r->nb);
    char **rl = calloc(r->na, sizeof(char *)), **cl = calloc(r->nb, sizeof(char *));
    int rc = M && rl && cl ? NK_OK : nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    for (int i = 0; !rc && i < r->na; i++) rc = asprintf(&rl[i], "%d", r->la[i]) < 0 ? NK_ERR_NOMEM : 0;
    for (int j = 0; !rc && j < r->nb; j++) rc = asprintf(&cl[j], "%d", r->lb[j]) < 0 ? NK_ERR_NOMEM : 0;
    if (!rc) {
        for (int k = 0; k < r->na * r->nb; k++) M[k] = (float)r->cka[k];
        nk_matrix_axes ax;
        nk_matrix_axes_default(&ax);
        ax.row_labels = (const char *const *)rl, ax.col_labels = (const char *const *)cl;
        ax.vmin = 0, ax.vmax = 1, ax.clabel = "linear CKA";
        nk_plot_style st;
        if (style) st = *style;
        else nk_plot_style_default(&st);
        char xl[120], yl[120], path[512];
        snprintf(xl, sizeof xl, "%s layer", name_b);
        snprintf(yl, sizeof yl, "%s layer", name_a);
        st.xlabel = xl, st.ylabel = yl;
        if (!st.title) st.title = "Linear CKA between layers";
        if (!st.cmap) st.cmap = "viridis";
        snprintf(path, sizeof path, "%s/cka", dir);
        rc = nk_plot_matrix(M, r->na, r->nb, &ax, &st, path);
    }
    for (int i = 0; rl && i < r->na; i++) free(rl[i]);
    for (int j = 0; cl && j < r->nb; j++) free(cl[j]);
    free(M), free(rl), free(cl);
    return rc;
}

int nk_compare_write(const nk_compare_result *r, const char *name_a, const char *name_b, const nk_plot_style *style,
                     const char *dir) {
    int rc = nk_mkdirs(dir);
    char *path = rc ? NULL : nk_path_join(dir, "cka.npy");
    long shape[2] = {r->na, r->nb};
    if (!rc) rc = path ? nk_npy_write(path, NK_F64, 2, shape, r->cka) : nk_fail(NK_ERR_NOMEM, "%s: out of memory", dir);
    free(path);
    if (!rc) rc = plot_cka(r, name_a, name_b, style, dir);
    for (int p = 0; !rc && p < r->n_pairs; p++) {
        const int na = r->um[p].na, nb = r->um[p].nb;
        float *f = malloc(sizeof(float) * na * nb);
        char name[64];
        snprintf(name, sizeof name, "corr_%02d.npy", r->pair[p]);
        path = nk_path_join(dir, name);
        if (!f || !path) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", dir);
        for (size_t k = 0; !rc && k < (size_t)na * nb; k++) f[k] = (float)r->rho[p][k];
        long sh[2] = {na, nb};
        if (!rc) rc = nk_npy_write(path, NK_F32, 2, sh, f);
        free(f), free(path);
        if (!rc) rc = write_matching_json(r, p, dir);
        if (!rc) rc = plot_matching(r, p, name_a, name_b, style, dir);
    }
    return rc;
}
