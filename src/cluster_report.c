/* The clustering analysis behind `napkit cluster`, and its clusters.json. */
#include "napkit/cluster.h"

#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/npy.h"
#include "napkit/plot.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void nk_cluster_config_default(nk_cluster_config *c) {
    memset(c, 0, sizeof *c);
    c->method = NK_LINK_WARD;
    c->metric = NK_METRIC_EUCLIDEAN;
}

void nk_cluster_result_free(nk_cluster_result *r) {
    free(r->D), free(r->Z), free(r->order), free(r->flat);
    memset(r, 0, sizeof *r);
}

/* Purity and ARI over the observations that have a class. */
static int class_scores(nk_cluster_result *r, const int *classes, int n) {
    int *a = malloc(sizeof(int) * n), *b = malloc(sizeof(int) * n), m = 0, rc = NK_OK;
    if (!a || !b) rc = nk_fail(NK_ERR_NOMEM, "cluster: out of memory");
    for (int i = 0; !rc && i < n; i++)
        if (classes[i] >= 0) a[m] = r->flat[i], b[m++] = classes[i];
    if (!rc && m > 0) rc = nk_purity(a, b, m, &r->purity);
    if (!rc && m > 0) rc = nk_adjusted_rand(b, a, m, &r->ari);
    free(a), free(b);
    return rc;
}

int nk_cluster_analyze(const double *X, int n, int d, const nk_cluster_config *c, const int *classes,
                       nk_cluster_result *r) {
    memset(r, 0, sizeof *r);
    r->threshold = r->cophenetic = r->silhouette = r->silhouette_classes = r->purity = r->ari = NAN;
    if (n < 2) return nk_fail(NK_ERR_ARG, "cluster: need at least 2 observations (got %d)", n);
    if (nk_linkage_needs_euclidean(c->method) && c->metric != NK_METRIC_EUCLIDEAN)
        return nk_fail(NK_ERR_ARG, "cluster: method %s needs the euclidean metric (got %s)",
                       nk_linkage_method_names[c->method], nk_metric_names[c->metric]);
    if (c->k < 0) return nk_fail(NK_ERR_ARG, "cluster: k must be >= 0 (got %d)", c->k);
    size_t m = (size_t)n * (n - 1) / 2;
    r->n = n;
    r->D = malloc(sizeof(double) * m);
    r->Z = malloc(sizeof(double) * 4 * (n - 1));
    r->order = malloc(sizeof(int) * n);
    r->flat = malloc(sizeof(int) * n);
    int rc = r->D && r->Z && r->order && r->flat ? NK_OK : nk_fail(NK_ERR_NOMEM, "cluster: out of memory for n = %d", n);
    if (!rc) rc = nk_pdist(X, n, d, c->metric, r->D);
    if (!rc) rc = nk_linkage(r->D, n, c->method, r->Z);
    if (!rc && c->optimal_order) rc = nk_optimal_leaf_ordering(r->Z, n, r->D);
    if (!rc) rc = nk_leaves_list(r->Z, n, r->order);
    if (!rc) rc = nk_cophenet(r->Z, n, r->D, NULL, &r->cophenetic);
    if (!rc && c->k > 0) {
        rc = nk_fcluster_maxclust(r->Z, n, c->k, r->flat);
    } else if (!rc) {
        double top = 0;
        for (int k = 0; k < n - 1; k++) top = fmax(top, r->Z[4 * k + 2]);
        r->threshold = 0.7 * top;
        /* Strictly below the threshold, as the dendrogram colours it. */
        rc = nk_fcluster_distance(r->Z, n, nextafter(r->threshold, 0), r->flat);
    }
    if (!rc) {
        r->n_flat = 0;
        for (int i = 0; i < n; i++) r->n_flat = r->flat[i] > r->n_flat ? r->flat[i] : r->n_flat;
        if (r->n_flat >= 2 && r->n_flat <= n - 1) rc = nk_silhouette(r->D, n, r->flat, &r->silhouette);
    }
    if (!rc && classes) {
        int known = 0, distinct = 0, *seen = calloc(n, sizeof(int));
        for (int i = 0; seen && i < n; i++) {
            known += classes[i] >= 0;
            if (classes[i] >= 0 && classes[i] < n && !seen[classes[i]]++) distinct++;
        }
        free(seen);
        if (known == n && distinct >= 2 && distinct <= n - 1) rc = nk_silhouette(r->D, n, classes, &r->silhouette_classes);
        if (!rc) rc = class_scores(r, classes, n);
    }
    if (rc) nk_cluster_result_free(r);
    return rc;
}

/* NaN has no JSON spelling: undefined scores are null. */
static cJSON *number_or_null(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

static cJSON *int_array(const int *v, int n, int offset) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i] + offset));
    return a;
}

int nk_cluster_write_json(const char *path, const char *input, const nk_cluster_config *c,
                          const nk_cluster_result *r, const char *const *labels, const int *classes,
                          const char *const *class_names, int n_classes) {
    int n = r->n;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "input", input ? input : "");
    cJSON_AddNumberToObject(root, "n", n);
    cJSON_AddStringToObject(root, "method", nk_linkage_method_names[c->method]);
    cJSON_AddStringToObject(root, "metric", nk_metric_names[c->metric]);
    cJSON_AddBoolToObject(root, "optimal_order", c->optimal_order);
    cJSON *lab = cJSON_AddArrayToObject(root, "labels");
    for (int i = 0; lab && labels && i < n; i++) cJSON_AddItemToArray(lab, cJSON_CreateString(labels[i]));
    cJSON_AddItemToObject(root, "leaf_order", int_array(r->order, n, 0));
    cJSON *flat = cJSON_AddObjectToObject(root, "flat");
    if (flat) {
        cJSON_AddStringToObject(flat, "criterion", c->k > 0 ? "maxclust" : "distance");
        if (c->k > 0) cJSON_AddNumberToObject(flat, "k", c->k);
        else cJSON_AddItemToObject(flat, "threshold", number_or_null(r->threshold));
        cJSON_AddNumberToObject(flat, "n_clusters", r->n_flat);
        cJSON_AddItemToObject(flat, "clusters", int_array(r->flat, n, 0));
    }
    cJSON_AddItemToObject(root, "cophenetic_correlation", number_or_null(r->cophenetic));
    cJSON_AddItemToObject(root, "silhouette", number_or_null(r->silhouette));
    if (classes) {
        cJSON *cls = cJSON_AddObjectToObject(root, "classes");
        cJSON *names = cls ? cJSON_AddArrayToObject(cls, "names") : NULL;
        for (int k = 0; names && k < n_classes; k++) cJSON_AddItemToArray(names, cJSON_CreateString(class_names[k]));
        if (cls) cJSON_AddItemToObject(cls, "of_observation", int_array(classes, n, 0));
        cJSON_AddItemToObject(root, "silhouette_classes", number_or_null(r->silhouette_classes));
        cJSON_AddItemToObject(root, "purity", number_or_null(r->purity));
        cJSON_AddItemToObject(root, "ari", number_or_null(r->ari));
    }
    int rc = nk_write_json(path, root);
    cJSON_Delete(root);
    return rc;
}

int nk_cluster_write_dir(const char *dir, const char *input, const nk_cluster_config *c, const nk_cluster_result *r,
                         const char *const *labels, const int *classes, const char *const *class_names, int n_classes,
                         int orientation, const nk_plot_style *style, const char *figure) {
    const int n = r->n;
    int rc = nk_mkdirs(dir);
    char *path = NULL;
    if (!rc) {
        long shape[2] = {n - 1, 4};
        rc = (path = nk_path_join(dir, "linkage.npy")) ? nk_npy_write(path, NK_F64, 2, shape, r->Z)
                                                        : nk_fail(NK_ERR_NOMEM, "out of memory");
        free(path);
    }
    if (!rc) {
        rc = (path = nk_path_join(dir, "clusters.json"))
                 ? nk_cluster_write_json(path, input, c, r, labels, classes, class_names, n_classes)
                 : nk_fail(NK_ERR_NOMEM, "out of memory");
        free(path);
    }
    if (!rc) {
        nk_dendrogram_opts dopt;
        nk_dendrogram_opts_default(&dopt);
        dopt.orientation = orientation >= 0 ? (nk_dendro_orientation)orientation : n > 40 ? NK_DENDRO_LEFT : NK_DENDRO_TOP;
        dopt.clusters = r->flat;
        dopt.classes = classes, dopt.class_names = class_names, dopt.n_classes = n_classes;
        rc = (path = nk_path_join(dir, figure ? figure : "dendrogram"))
                 ? nk_plot_dendrogram(r->Z, n, labels, &dopt, style, path)
                 : nk_fail(NK_ERR_NOMEM, "out of memory");
        free(path);
    }
    return rc;
}
