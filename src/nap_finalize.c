/* From sums to profiles: means, SEM, baseline, normalization across groups,
 * time-independent profiles, and the output folder. */
#include "nap_impl.h"

#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/npy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const nk_nap_norm_names[] = {"none", "groupmean", "zscore", NULL};
const char *const nk_nap_flat_names[] = {"mean", "zero", NULL};

void nk_nap_finalize_opts_default(nk_nap_finalize_opts *o) {
    memset(o, 0, sizeof *o);
    o->normalize = NK_NAP_NORM_GROUPMEAN;
    o->flat = NK_NAP_FLAT_MEAN;
    o->min_count = 20;
}

void nk_nap_result_free(nk_nap_result *r) {
    if (!r) return;
    for (int i = 0; i < r->n_layers; i++) {
        if (r->mean) free(r->mean[i]);
        if (r->sem) free(r->sem[i]);
        if (r->flat) free(r->flat[i]);
    }
    free(r->group), free(r->dropped), free(r->channels), free(r->mean), free(r->sem), free(r->flat);
    memset(r, 0, sizeof *r);
}

/* Mean of the non-NaN values v[0], v[stride], … (n of them); NaN if none. */
static double nanmean(const float *v, int n, size_t stride) {
    double sum = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i * stride])) sum += v[i * stride], k++;
    return k ? sum / k : NAN;
}

/* One layer: mean and sem (G, C, W) from the sums, then baseline and normalization. */
static void layer_profiles(const nk_nap_sums *s, const nk_nap_finalize_opts *o, const nk_nap_result *r, int i) {
    const int G = r->G, C = r->channels[i], w = r->window, W = 2 * w + 1;
    float *mean = r->mean[i], *sem = r->sem[i];
    for (int gi = 0; gi < G; gi++) {
        const int g = r->group[gi];
        const double *count = nk_nap_sums_count(s, g, i), *sum = nk_nap_sums_sum(s, g, i),
                     *sumsq = nk_nap_sums_sumsq(s, g, i);
        for (int c = 0; c < C; c++)
            for (int d = 0; d < W; d++) {
                const size_t k = (size_t)c * W + d, out = (size_t)gi * C * W + k;
                const double n = count[d];
                double var = n > 1 ? (sumsq[k] - sum[k] * sum[k] / n) / (n - 1) : NAN;
                mean[out] = n > 0 ? (float)(sum[k] / n) : NAN;
                sem[out] = n > 1 ? (float)sqrt((var > 0 ? var : 0) / n) : NAN;
            }
    }
    if (o->baseline)
        for (size_t gc = 0; gc < (size_t)G * C; gc++) {
            float *row = mean + gc * W;
            double b = nanmean(row + w + o->baseline_from, o->baseline_to - o->baseline_from + 1, 1);
            for (int d = 0; d < W; d++) row[d] -= (float)b;
        }
    if (o->normalize == NK_NAP_NORM_NONE) return;
    const size_t plane = (size_t)C * W;
    for (size_t k = 0; k < plane; k++) {
        double m = nanmean(mean + k, G, plane);
        for (int gi = 0; gi < G; gi++) mean[gi * plane + k] -= (float)m;
    }
    if (o->normalize != NK_NAP_NORM_ZSCORE) return;
    for (int c = 0; c < C; c++) { /* per neuron: the spread over groups and offsets */
        double ss = 0;
        int k = 0;
        for (int gi = 0; gi < G; gi++)
            for (int d = 0; d < W; d++) {
                float v = mean[gi * plane + (size_t)c * W + d];
                if (!isnan(v)) ss += (double)v * v, k++;
            }
        double sd = k ? sqrt(ss / k) : 0;
        if (!(sd > 0)) continue;
        for (int gi = 0; gi < G; gi++)
            for (int d = 0; d < W; d++) {
                mean[gi * plane + (size_t)c * W + d] /= (float)sd;
                sem[gi * plane + (size_t)c * W + d] /= (float)sd;
            }
    }
}

/* Group indices ordered by their names (insertion sort: a few hundred groups at most). */
static void sort_by_name(const nk_nap_sums *s, int *g, int n) {
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(nk_nap_sums_group(s, g[j - 1]), nk_nap_sums_group(s, g[j])) > 0; j--) {
            int t = g[j];
            g[j] = g[j - 1], g[j - 1] = t;
        }
}

int nk_nap_finalize(const nk_nap_sums *s, const nk_nap_finalize_opts *o, nk_nap_result *r) {
    memset(r, 0, sizeof *r);
    const nk_nap_config *cfg = nk_nap_sums_config(s);
    const int Gall = nk_nap_sums_n_groups(s), w = cfg->window;
    if (o->baseline && !(o->baseline_from >= -w && o->baseline_from <= o->baseline_to && o->baseline_to <= w))
        return nk_fail(NK_ERR_ARG, "naps: baseline offsets %d:%d are not inside the window [-%d, %d]",
                       o->baseline_from, o->baseline_to, w, w);
    r->group = malloc((Gall + 1) * sizeof(int)), r->dropped = malloc((Gall + 1) * sizeof(int));
    r->n_layers = cfg->n_layers, r->window = w;
    r->channels = malloc(r->n_layers * sizeof(int));
    r->mean = calloc(r->n_layers, sizeof(float *)), r->sem = calloc(r->n_layers, sizeof(float *));
    r->flat = calloc(r->n_layers, sizeof(float *));
    int ok = r->group && r->dropped && r->channels && r->mean && r->sem && r->flat;
    for (int g = 0; ok && g < Gall; g++) {
        if (nk_nap_sums_n_events(s, g) >= o->min_count && nk_nap_sums_n_events(s, g) > 0) r->group[r->G++] = g;
        else r->dropped[r->n_dropped++] = g;
    }
    /* by name, so merged shards (groups in order of discovery) give the same files as one run */
    if (ok) sort_by_name(s, r->group, r->G), sort_by_name(s, r->dropped, r->n_dropped);
    if (ok && r->G == 0) {
        nk_nap_result_free(r);
        return nk_fail(NK_ERR_EMPTY, "naps: no group has %lld or more events (%d groups, all dropped)",
                       (long long)o->min_count, Gall);
    }
    const int W = 2 * w + 1;
    for (int i = 0; ok && i < r->n_layers; i++) {
        const int C = r->channels[i] = nk_nap_sums_channels(s, i);
        const size_t n = (size_t)r->G * C * W;
        ok = (r->mean[i] = malloc(n * sizeof(float))) && (r->sem[i] = malloc(n * sizeof(float))) &&
             (r->flat[i] = malloc((size_t)r->G * C * sizeof(float)));
        if (!ok) break;
        layer_profiles(s, o, r, i);
        for (size_t gc = 0; gc < (size_t)r->G * C; gc++)
            r->flat[i][gc] = o->flat == NK_NAP_FLAT_ZERO ? r->mean[i][gc * W + w] : (float)nanmean(r->mean[i] + gc * W, W, 1);
    }
    if (!ok) {
        nk_nap_result_free(r);
        return nk_fail(NK_ERR_NOMEM, "naps: out of memory for the profiles");
    }
    return NK_OK;
}

static cJSON *finalize_json(const nk_nap_finalize_opts *o) {
    cJSON *f = cJSON_CreateObject();
    if (!f) return NULL;
    cJSON_AddStringToObject(f, "normalize", nk_nap_norm_names[o->normalize]);
    cJSON_AddStringToObject(f, "flat", nk_nap_flat_names[o->flat]);
    cJSON_AddNumberToObject(f, "min_count", (double)o->min_count);
    if (o->baseline) {
        int b[2] = {o->baseline_from, o->baseline_to};
        cJSON_AddItemToObject(f, "baseline", cJSON_CreateIntArray(b, 2));
    } else {
        cJSON_AddNullToObject(f, "baseline");
    }
    return f;
}

/* naps.json: what the arrays hold and every setting that made them. */
static char *result_json(const nk_nap_result *r, const nk_nap_sums *s, const nk_nap_finalize_opts *o,
                         const char *extra) {
    const nk_nap_config *cfg = nk_nap_sums_config(s);
    cJSON *j = cJSON_CreateObject(), *groups = cJSON_CreateArray(), *counts = cJSON_CreateArray();
    cJSON *dropped = cJSON_CreateArray(), *layers = cJSON_CreateArray();
    cJSON *id = cJSON_Parse(nk_nap_sums_identity(s)), *ex = extra ? cJSON_Parse(extra) : NULL;
    char *text = NULL;
    if (j && groups && counts && dropped && layers && id) {
        for (int gi = 0; gi < r->G; gi++) {
            cJSON_AddItemToArray(groups, cJSON_CreateString(nk_nap_sums_group(s, r->group[gi])));
            cJSON_AddItemToArray(counts, cJSON_CreateNumber((double)nk_nap_sums_n_events(s, r->group[gi])));
        }
        for (int k = 0; k < r->n_dropped; k++) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "group", nk_nap_sums_group(s, r->dropped[k]));
            cJSON_AddNumberToObject(d, "count", (double)nk_nap_sums_n_events(s, r->dropped[k]));
            cJSON_AddItemToArray(dropped, d);
        }
        for (int i = 0; i < r->n_layers; i++) {
            char name[64];
            cJSON *l = cJSON_CreateObject();
            int shape[3] = {r->G, r->channels[i], 2 * r->window + 1};
            cJSON_AddNumberToObject(l, "index", cfg->layers[i]);
            snprintf(name, sizeof name, "layer_%02d", cfg->layers[i]);
            cJSON_AddStringToObject(l, "name", name);
            cJSON_AddNumberToObject(l, "channels", r->channels[i]);
            cJSON_AddItemToObject(l, "shape", cJSON_CreateIntArray(shape, 3));
            cJSON_AddItemToArray(layers, l);
        }
        cJSON_AddItemToObject(j, "groups", groups), groups = NULL;
        cJSON_AddItemToObject(j, "counts", counts), counts = NULL;
        cJSON_AddItemToObject(j, "dropped", dropped), dropped = NULL;
        cJSON_AddItemToObject(j, "layers", layers), layers = NULL;
        cJSON_AddItemToObject(j, "config", nap_config_json(cfg));
        cJSON_AddItemToObject(j, "finalize", finalize_json(o));
        cJSON_AddItemToObject(j, "identity", id), id = NULL;
        cJSON_AddNumberToObject(j, "utterances", (double)nk_nap_sums_n_utts(s));
        cJSON_AddNumberToObject(j, "skipped_events", (double)nk_nap_sums_n_skipped_events(s));
        if (cJSON_IsObject(ex)) {
            cJSON *it;
            cJSON_ArrayForEach(it, ex) cJSON_AddItemReferenceToObject(j, it->string, it);
        }
        text = cJSON_Print(j);
    }
    cJSON_Delete(j), cJSON_Delete(groups), cJSON_Delete(counts), cJSON_Delete(dropped), cJSON_Delete(layers);
    cJSON_Delete(id), cJSON_Delete(ex);
    return text;
}

/* dir/<stem><suffix>.npy */
static int save_array(const char *dir, const char *stem, const char *suffix, int ndim, const long *shape,
                      const float *data) {
    char name[96];
    snprintf(name, sizeof name, "%s%s.npy", stem, suffix);
    char *p = nk_path_join(dir, name);
    int rc = p ? nk_npy_write(p, NK_F32, ndim, shape, data) : nk_fail(NK_ERR_NOMEM, "out of memory");
    free(p);
    return rc;
}

int nk_nap_result_save(const nk_nap_result *r, const nk_nap_sums *s, const nk_nap_finalize_opts *o,
                       const char *extra, const char *dir) {
    int rc = nk_mkdirs(dir);
    const nk_nap_config *cfg = nk_nap_sums_config(s);
    for (int i = 0; !rc && i < r->n_layers; i++) {
        char stem[32];
        snprintf(stem, sizeof stem, "layer_%02d", cfg->layers[i]);
        long shape[3] = {r->G, r->channels[i], 2 * r->window + 1};
        rc = save_array(dir, stem, "", 3, shape, r->mean[i]);
        if (!rc) rc = save_array(dir, stem, "_sem", 3, shape, r->sem[i]);
        if (!rc) rc = save_array(dir, stem, "_flat", 2, shape, r->flat[i]);
    }
    size_t len = 1;
    for (int gi = 0; gi < r->G; gi++) len += strlen(nk_nap_sums_group(s, r->group[gi])) + 1;
    char *lines = rc ? NULL : malloc(len), *json = rc ? NULL : result_json(r, s, o, extra);
    if (!rc && (!lines || !json)) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", dir);
    if (!rc) {
        char *p = lines;
        for (int gi = 0; gi < r->G; gi++) p += sprintf(p, "%s\n", nk_nap_sums_group(s, r->group[gi]));
        char *path = nk_path_join(dir, "groups.txt");
        rc = path ? nk_write_file(path, lines, (size_t)(p - lines)) : nk_fail(NK_ERR_NOMEM, "out of memory");
        free(path);
    }
    if (!rc) {
        char *path = nk_path_join(dir, "naps.json");
        rc = path ? nk_write_file(path, json, strlen(json)) : nk_fail(NK_ERR_NOMEM, "out of memory");
        free(path);
    }
    free(lines), free(json);
    return rc;
}
