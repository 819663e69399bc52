/* Topographic maps: both models' units of one layer on one SOM grid, and
 * per phoneme each model's smoothed image of its units' profile values. */
#include "napkit/compare.h"

#include "napkit/cluster.h"
#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/som.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nk_topo_config_default(nk_topo_config *c) {
    c->layer = 0;
    c->epochs = 1000;
    c->seed = 1;
}

void nk_topo_result_free(nk_topo_result *r) { memset(r, 0, sizeof *r); }

/* Unit c's profile over the G phonemes, z-scored, into row c of U (n, G); zeros if constant. */
static void unit_rows(const double *P, int G, int C, double *U) {
    for (int c = 0; c < C; c++) {
        double m = 0, v = 0;
        for (int g = 0; g < G; g++) m += P[(size_t)g * C + c];
        m /= G;
        for (int g = 0; g < G; g++) v += (P[(size_t)g * C + c] - m) * (P[(size_t)g * C + c] - m);
        const double sd = sqrt(v / G);
        for (int g = 0; g < G; g++) U[(size_t)c * G + g] = sd > 0 ? (P[(size_t)g * C + c] - m) / sd : 0;
    }
}

/* Image (rows, cols) of values v at cells, Gaussian-smoothed (σ = 1 cell) and
 * normalized by the weights of the occupied cells, so empty cells are filled
 * from their neighbours. */
static void smooth_image(const int *cell, const double *v, int n, int rows, int cols, float *img) {
    for (int r = 0; r < rows; r++)
        for (int q = 0; q < cols; q++) {
            double s = 0, w = 0;
            for (int i = 0; i < n; i++) {
                const int dr = cell[i] / cols - r, dq = cell[i] % cols - q;
                if (dr * dr + dq * dq > 9) continue; /* 3σ */
                const double g = exp(-0.5 * (dr * dr + dq * dq));
                s += g * v[i], w += g;
            }
            img[r * cols + q] = w > 0 ? (float)(s / w) : NAN;
        }
}

static double image_corr(const float *a, const float *b, int n) {
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(a[i]) && !isnan(b[i])) ma += a[i], mb += b[i], k++;
    if (k < 3) return NAN;
    ma /= k, mb /= k;
    for (int i = 0; i < n; i++)
        if (!isnan(a[i]) && !isnan(b[i]))
            sab += (a[i] - ma) * (b[i] - mb), saa += (a[i] - ma) * (a[i] - ma), sbb += (b[i] - mb) * (b[i] - mb);
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}

int nk_compare_topomaps(const char *naps_a, const char *naps_b, const nk_topo_config *c, const char *name_a,
                        const char *name_b, const nk_plot_style *style, const char *dir, nk_topo_result *out) {
    memset(out, 0, sizeof *out);
    double *Pa, *Pb;
    int ca, cb, G;
    char **ph;
    int rc = nk_shared_profiles(naps_a, naps_b, c->layer, &Pa, &ca, &Pb, &cb, &ph, &G);
    if (rc) return rc;
    const int n = ca + cb;
    double *U = malloc(sizeof(double) * n * G), *v = malloc(sizeof(double) * (ca > cb ? ca : cb));
    nk_som som = {0};
    nk_som_config sc;
    nk_som_config_default(&sc, n);
    sc.epochs = c->epochs, sc.seed = c->seed;
    const int cells = sc.rows * sc.cols;
    float *ia = malloc(sizeof(float) * G * cells), *ib = malloc(sizeof(float) * G * cells);
    double *corr = malloc(sizeof(double) * G * G);
    if (!U || !v || !ia || !ib || !corr) rc = nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    if (!rc) {
        unit_rows(Pa, G, ca, U);
        unit_rows(Pb, G, cb, U + (size_t)ca * G);
        rc = nk_som_fit(U, n, G, &sc, &som);
    }
    for (int g = 0; !rc && g < G; g++)
        for (int side = 0; side < 2; side++) {
            const int C = side ? cb : ca, first = side ? ca : 0;
            for (int i = 0; i < C; i++) v[i] = U[(size_t)(first + i) * G + g];
            smooth_image(som.cell + first, v, C, sc.rows, sc.cols, (side ? ib : ia) + (size_t)g * cells);
        }
    double same = 0, diff = 0;
    for (int g = 0; !rc && g < G; g++)
        for (int h = 0; h < G; h++) {
            corr[g * G + h] = image_corr(ia + (size_t)g * cells, ib + (size_t)h * cells, cells);
            if (g == h) same += corr[g * G + h];
            else diff += corr[g * G + h];
        }
    if (!rc) {
        out->layer = c->layer, out->rows = sc.rows, out->cols = sc.cols, out->G = G, out->qerr = som.qerr;
        out->same = same / G, out->different = G > 1 ? diff / ((double)G * (G - 1)) : NAN;
        nk_plot_style st;
        if (style) st = *style;
        else nk_plot_style_default(&st);
        char title[200], path[512];
        snprintf(title, sizeof title, "Layer %d on one SOM grid (%d × %d): z-scored profiles per phoneme; "
                 "same-phoneme image r = %.2f, different %.2f", c->layer, sc.rows, sc.cols, out->same, out->different);
        st.title = title;
        snprintf(path, sizeof path, "%s/topomap_%02d", dir, c->layer);
        rc = nk_plot_topomaps(ia, ib, G, sc.rows, sc.cols, (const char *const *)ph, name_a, name_b, &st, path);
    }
    if (!rc) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "layer", c->layer);
        cJSON_AddNumberToObject(o, "rows", sc.rows);
        cJSON_AddNumberToObject(o, "cols", sc.cols);
        cJSON_AddNumberToObject(o, "epochs", sc.epochs);
        cJSON_AddNumberToObject(o, "seed", (double)sc.seed);
        cJSON_AddNumberToObject(o, "quantization_error", som.qerr);
        cJSON_AddItemToObject(o, "cells_a", cJSON_CreateIntArray(som.cell, ca));
        cJSON_AddItemToObject(o, "cells_b", cJSON_CreateIntArray(som.cell + ca, cb));
        cJSON_AddItemToObject(o, "phonemes", cJSON_CreateStringArray((const char *const *)ph, G));
        cJSON *pc = cJSON_AddArrayToObject(o, "image_corr_same_phoneme");
        for (int g = 0; g < G; g++)
            cJSON_AddItemToArray(pc, isfinite(corr[g * G + g]) ? cJSON_CreateNumber(corr[g * G + g]) : cJSON_CreateNull());
        cJSON_AddNumberToObject(o, "mean_same", out->same);
        cJSON_AddNumberToObject(o, "mean_different", out->different);
        char name[64];
        snprintf(name, sizeof name, "topomap_%02d.json", c->layer);
        rc = nk_write_json_in(dir, name, o);
        cJSON_Delete(o);
    }
    nk_som_free(&som);
    nk_strings_free(ph, G);
    free(Pa), free(Pb), free(U), free(v), free(ia), free(ib), free(corr);
    return rc;
}
