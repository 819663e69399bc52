/* Inputs of `napkit cluster`: observation matrices, label lists, label → class
 * maps and the NAPs output folder (naps.json + layer_NN_flat.npy); and the
 * clusters.json it wrote, read back by `napkit plot`. */
#include "napkit/cluster.h"

#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/npy.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nk_strings_free(char **s, int n) {
    for (int i = 0; s && i < n; i++) free(s[i]);
    free(s);
}

int nk_matrix_read_f64(const char *path, double **X, int *n, int *d) {
    nk_array a;
    *X = NULL;
    int rc = nk_npy_read(path, &a);
    if (rc) return rc;
    if (a.ndim != 2 || a.shape[0] < 1 || a.shape[1] < 1 || a.shape[0] > 1000000 || a.shape[1] > 100000000 / a.shape[0]) {
        rc = nk_fail(NK_ERR_FORMAT, "%s: expected a 2-D (observations, features) array, got %d dimensions%s", path,
                     a.ndim, a.ndim == 2 ? " of an unsupported size" : "");
        nk_array_free(&a);
        return rc;
    }
    size_t m = nk_array_count(&a);
    double *x = malloc(sizeof(double) * m);
    if (!x) {
        nk_array_free(&a);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    }
    for (size_t i = 0; i < m; i++) {
        x[i] = a.dtype == NK_F64 ? ((double *)a.data)[i] : a.dtype == NK_F32 ? ((float *)a.data)[i] : ((int *)a.data)[i];
        if (!isfinite(x[i])) {
            rc = nk_fail(NK_ERR_NUMERIC, "%s: row %zu column %zu is not finite", path, i / a.shape[1], i % a.shape[1]);
            break;
        }
    }
    *n = (int)a.shape[0], *d = (int)a.shape[1];
    nk_array_free(&a);
    if (rc) free(x);
    else *X = x;
    return rc;
}

int nk_read_lines(const char *path, char ***lines, int *n) {
    char *text;
    size_t len;
    *lines = NULL, *n = 0;
    int rc = nk_read_file(path, &text, &len);
    if (rc) return rc;
    if (memchr(text, '\0', len)) {
        free(text);
        return nk_fail(NK_ERR_FORMAT, "%s: binary data (a NUL byte) in a text file", path);
    }
    int cap = 0, count = 0, oom = 0;
    char **out = NULL;
    for (char *p = text; *p && !oom;) {
        char *end = strchr(p, '\n');
        if (!end) end = p + strlen(p);
        int last = !*end;
        size_t l = end - p;
        while (l && (p[l - 1] == '\r' || p[l - 1] == ' ' || p[l - 1] == '\t')) l--;
        if (l > 0 || !last) { /* a final line without text is not a label */
            if (count == cap) {
                cap = cap ? 2 * cap : 64;
                char **grown = realloc(out, sizeof(char *) * cap);
                if (grown) out = grown;
                else oom = 1;
            }
            if (!oom && !(out[count] = strndup(p, l))) oom = 1;
            if (!oom) count++;
        }
        p = last ? end : end + 1;
    }
    free(text);
    if (oom) {
        nk_strings_free(out, count);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    }
    if (count == 0) {
        free(out);
        return nk_fail(NK_ERR_EMPTY, "%s: no lines", path);
    }
    *lines = out, *n = count;
    return NK_OK;
}

int nk_read_classes(const char *path, const char *const *labels, int n, int *classes, char ***names, int *n_classes) {
    char **lines;
    int m, rc = nk_read_lines(path, &lines, &m);
    *names = NULL, *n_classes = 0;
    if (rc) return rc;
    char **cn = calloc(m, sizeof(char *));
    int K = 0;
    for (int i = 0; i < n; i++) classes[i] = -1;
    for (int l = 0; l < m && !rc; l++) {
        if (!lines[l][0] || lines[l][0] == '#') continue;
        char *tab = strchr(lines[l], '\t');
        if (!tab || !tab[1]) {
            rc = nk_fail(NK_ERR_FORMAT, "%s: line %d: expected 'label<TAB>class'", path, l + 1);
            break;
        }
        *tab = '\0';
        int c = 0;
        while (c < K && strcmp(cn[c], tab + 1)) c++;
        if (c == K && !(cn[K++] = strdup(tab + 1))) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
        for (int i = 0; i < n; i++)
            if (!strcmp(labels[i], lines[l])) classes[i] = c;
    }
    nk_strings_free(lines, m);
    if (rc) {
        nk_strings_free(cn, K);
        return rc;
    }
    *names = cn, *n_classes = K;
    return NK_OK;
}

/* The "groups" of a naps.json as strings. */
static int naps_groups(const char *path, cJSON *root, char ***groups, int *G) {
    cJSON *g = cJSON_GetObjectItemCaseSensitive(root, "groups");
    int n = cJSON_GetArraySize(g);
    if (!cJSON_IsArray(g) || n < 1) return nk_fail(NK_ERR_FORMAT, "%s: no \"groups\" array of names", path);
    char **out = calloc(n, sizeof(char *));
    if (!out) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < n; i++) {
        cJSON *s = cJSON_GetArrayItem(g, i);
        if (!cJSON_IsString(s)) {
            nk_strings_free(out, n);
            return nk_fail(NK_ERR_FORMAT, "%s: group %d is not a string", path, i);
        }
        if (!(out[i] = strdup(s->valuestring))) {
            nk_strings_free(out, n);
            return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
        }
    }
    *groups = out, *G = n;
    return NK_OK;
}

static int read_json(const char *path, cJSON **root) {
    char *text;
    int rc = nk_read_file(path, &text, NULL);
    if (rc) return rc;
    *root = cJSON_Parse(text);
    free(text);
    return *root ? NK_OK : nk_fail(NK_ERR_FORMAT, "%s: not valid JSON", path);
}

int nk_naps_read_groups(const char *naps_json, char ***groups, int *n_groups) {
    cJSON *root;
    int rc = read_json(naps_json, &root);
    if (rc) return rc;
    rc = naps_groups(naps_json, root, groups, n_groups);
    cJSON_Delete(root);
    return rc;
}

int nk_naps_read_flat(const char *dir, int layer, double **X, int *n, int *d, char ***groups) {
    *X = NULL, *groups = NULL;
    char *json = nk_path_join(dir, "naps.json");
    if (!json) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", dir);
    cJSON *root;
    int G = 0, rc = read_json(json, &root);
    if (rc) {
        free(json);
        return rc;
    }
    rc = naps_groups(json, root, groups, &G);
    /* The layer's file name comes from its "name" in "layers"; a missing entry is an error. */
    char file[300] = "";
    cJSON *layers = cJSON_GetObjectItemCaseSensitive(root, "layers"), *l;
    cJSON_ArrayForEach(l, layers) {
        cJSON *idx = cJSON_GetObjectItemCaseSensitive(l, "index"), *name = cJSON_GetObjectItemCaseSensitive(l, "name");
        if (cJSON_IsNumber(idx) && idx->valueint == layer && cJSON_IsString(name) && !strchr(name->valuestring, '/'))
            snprintf(file, sizeof file, "%s_flat.npy", name->valuestring);
    }
    if (!rc && !file[0]) rc = nk_fail(NK_ERR_ARG, "%s: no layer with index %d in \"layers\"", json, layer);
    cJSON_Delete(root);
    char *npy = rc ? NULL : nk_path_join(dir, file);
    if (!rc) rc = npy ? nk_matrix_read_f64(npy, X, n, d) : nk_fail(NK_ERR_NOMEM, "%s: out of memory", dir);
    if (!rc && *n != G) {
        rc = nk_fail(NK_ERR_FORMAT, "%s: %d rows but %s lists %d groups", npy, *n, json, G);
        free(*X);
        *X = NULL;
    }
    if (rc) {
        nk_strings_free(*groups, G);
        *groups = NULL;
    }
    free(npy), free(json);
    return rc;
}

/* ---- a clusters.json read back for figures ---- */

void nk_cluster_saved_free(nk_cluster_saved *s) {
    nk_strings_free(s->labels, s->n);
    nk_strings_free(s->class_names, s->n_classes);
    free(s->order), free(s->flat), free(s->classes);
    memset(s, 0, sizeof *s);
}

/* An array of n ints in [lo, hi] (or NULL when absent and optional). */
static int read_ints(const char *path, cJSON *a, const char *what, int n, int lo, int hi, int **out) {
    *out = NULL;
    if (!a) return NK_OK;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
        return nk_fail(NK_ERR_FORMAT, "%s: \"%s\" must be an array of %d numbers", path, what, n);
    int *v = malloc(sizeof(int) * n), i = 0;
    if (!v) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsNumber(e) || e->valuedouble < lo || e->valuedouble > hi || e->valuedouble != (int)e->valuedouble) {
            free(v);
            return nk_fail(NK_ERR_FORMAT, "%s: \"%s\" entry %d is not an integer in %d … %d", path, what, i, lo, hi);
        }
        v[i++] = e->valueint;
    }
    *out = v;
    return NK_OK;
}

static int read_strings(const char *path, cJSON *a, const char *what, int n, char ***out) {
    *out = NULL;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
        return nk_fail(NK_ERR_FORMAT, "%s: \"%s\" must be an array of %d strings", path, what, n);
    char **v = calloc(n ? n : 1, sizeof(char *));
    int i = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!v || !cJSON_IsString(e) || !(v[i++] = strdup(e->valuestring))) {
            nk_strings_free(v, n);
            return v ? nk_fail(NK_ERR_FORMAT, "%s: \"%s\" entry %d is not a string", path, what, i - 1)
                     : nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
        }
    }
    *out = v;
    return NK_OK;
}

int nk_cluster_saved_read(const char *path, int n, nk_cluster_saved *s) {
    memset(s, 0, sizeof *s);
    cJSON *root;
    int rc = read_json(path, &root);
    if (rc) return rc;
    cJSON *nn = cJSON_GetObjectItemCaseSensitive(root, "n");
    if (!cJSON_IsNumber(nn) || nn->valueint != n)
        rc = nk_fail(NK_ERR_FORMAT, "%s: \"n\" is not %d, the size of the linkage", path, n);
    s->n = n;
    if (!rc) rc = read_strings(path, cJSON_GetObjectItemCaseSensitive(root, "labels"), "labels", n, &s->labels);
    if (!rc) rc = read_ints(path, cJSON_GetObjectItemCaseSensitive(root, "leaf_order"), "leaf_order", n, 0, n - 1, &s->order);
    cJSON *flat = cJSON_GetObjectItemCaseSensitive(root, "flat");
    if (!rc) rc = read_ints(path, cJSON_GetObjectItemCaseSensitive(flat, "clusters"), "clusters", n, 1, n, &s->flat);
    cJSON *cls = cJSON_GetObjectItemCaseSensitive(root, "classes");
    if (!rc && cls) {
        cJSON *names = cJSON_GetObjectItemCaseSensitive(cls, "names");
        s->n_classes = cJSON_GetArraySize(names);
        rc = read_strings(path, names, "names", s->n_classes, &s->class_names);
        if (!rc) rc = read_ints(path, cJSON_GetObjectItemCaseSensitive(cls, "of_observation"), "of_observation", n, -1,
                                s->n_classes - 1, &s->classes);
    }
    cJSON_Delete(root);
    if (!rc && !s->order) rc = nk_fail(NK_ERR_FORMAT, "%s: no \"leaf_order\"", path);
    if (rc) nk_cluster_saved_free(s);
    return rc;
}
