/* Agglomerative clustering, compatible with scipy.cluster.hierarchy.
 *
 * Observations are the rows of X (n, d), float64. Pairwise distances are kept
 * in condensed form: D is (n(n-1)/2) with D[nk_condensed_index(n, i, j)] the
 * distance between rows i < j, exactly as scipy.spatial.distance.pdist.
 *
 * A linkage Z is (n-1, 4) float64, row k = (id_a, id_b, height, size): the
 * clusters id_a and id_b (ids < n are observations, n+k is the cluster made by
 * row k) merge at `height` into a cluster of `size` observations. nk_linkage
 * returns the same matrix as scipy.cluster.hierarchy.linkage (same merges,
 * heights equal up to rounding, id_a < id_b) on data without ties.
 *
 * Flat cluster labels follow scipy.cluster.hierarchy.fcluster: 1 … K in the
 * order the clusters are met left to right in the tree. Reference labels
 * (classes) given to the metrics may be any ints. */
#ifndef NAPKIT_CLUSTER_H
#define NAPKIT_CLUSTER_H

#include "napkit/plot.h"

#include <stddef.h>

typedef enum {
    NK_METRIC_EUCLIDEAN,
    NK_METRIC_SQEUCLIDEAN,
    NK_METRIC_CITYBLOCK,
    NK_METRIC_COSINE,      /* 1 − u·v / (|u| |v|); zero rows are an error */
    NK_METRIC_CORRELATION, /* cosine of the mean-centred rows; constant rows are an error */
    NK_METRIC_CHEBYSHEV
} nk_metric;

typedef enum {
    NK_LINK_SINGLE,   /* minimum spanning tree */
    NK_LINK_COMPLETE, /* nearest-neighbour chain … */
    NK_LINK_AVERAGE,
    NK_LINK_WEIGHTED,
    NK_LINK_WARD,     /* … (ward needs Euclidean distances) */
    NK_LINK_CENTROID, /* generic algorithm (Müllner 2011); Euclidean distances */
    NK_LINK_MEDIAN
} nk_linkage_method;

/* NULL-terminated names in enum order ("euclidean", …; "single", …), for flags. */
extern const char *const nk_metric_names[];
extern const char *const nk_linkage_method_names[];

/* 1 for ward, centroid and median: their heights are only meaningful for Euclidean D. */
int nk_linkage_needs_euclidean(nk_linkage_method method);

/* Position of the pair (i, j), i != j, in a condensed matrix of n observations. */
static inline size_t nk_condensed_index(size_t n, size_t i, size_t j) {
    if (i > j) { size_t t = i; i = j; j = t; }
    return n * i - i * (i + 1) / 2 + (j - i - 1);
}

/* Pairwise distances. X is (n, d), D is (n(n-1)/2). Fails on NaN/Inf in X and on
 * rows the metric cannot handle (zero rows for cosine, constant rows for correlation). */
int nk_pdist(const double *X, int n, int d, nk_metric metric, double *D);

/* Hierarchical clustering of the condensed distances D (n ≥ 2, finite, ≥ 0).
 * Z is (n-1, 4). D is not modified. */
int nk_linkage(const double *D, int n, nk_linkage_method method, double *Z);

/* Checks that Z is a well-formed linkage of n observations (ids, sizes, finite
 * heights); `what` names Z in the error message (e.g. a file name). */
int nk_linkage_validate(const double *Z, int n, const char *what);

/* The leaves from left to right (scipy leaves_list). order is (n). */
int nk_leaves_list(const double *Z, int n, int *order);

/* Cophenetic distances coph (n(n-1)/2, may be NULL) and, when D is given, their
 * Pearson correlation with D in *corr (scipy cophenet). */
int nk_cophenet(const double *Z, int n, const double *D, double *coph, double *corr);

/* Reorders Z in place (swapping the children of some rows) so that the sum of
 * distances between adjacent leaves is minimal: Bar-Joseph, Gifford and
 * Jaakkola (2001), as scipy optimal_leaf_ordering. O(n³) time (3 s for n = 2000),
 * 24·n² bytes of memory. */
int nk_optimal_leaf_ordering(double *Z, int n, const double *D);

/* Flat clusters (labels is (n), values 1 … K): at most k clusters (fcluster
 * criterion "maxclust"), or cut where merge heights exceed t ("distance"). */
int nk_fcluster_maxclust(const double *Z, int n, int k, int *labels);
int nk_fcluster_distance(const double *Z, int n, double t, int *labels);

/* Mean silhouette coefficient (sklearn silhouette_score with a precomputed
 * distance matrix). Needs 2 ≤ number of distinct labels ≤ n − 1. */
int nk_silhouette(const double *D, int n, const int *labels, double *score);
/* Purity of clusters against reference classes: Σ_cluster max_class count / n. */
int nk_purity(const int *clusters, const int *classes, int n, double *purity);
/* Adjusted Rand index (sklearn adjusted_rand_score). */
int nk_adjusted_rand(const int *a, const int *b, int n, double *ari);

/* ---- the whole analysis, as `napkit cluster` runs it ---- */

typedef struct {
    nk_linkage_method method; /* default ward */
    nk_metric metric;         /* default euclidean */
    int optimal_order;        /* reorder leaves optimally (Bar-Joseph) */
    int k;                    /* flat clusters: at most k; 0 cuts at 0.7 × the top height (the
                                 dendrogram colour threshold) */
} nk_cluster_config;

typedef struct {
    int n;
    double *D;         /* (n(n-1)/2) condensed distances */
    double *Z;         /* (n-1, 4) linkage */
    int *order;        /* (n) leaves left to right */
    int *flat;         /* (n) flat cluster 1 … n_flat of each observation */
    int n_flat;
    double threshold;  /* the cut height when k == 0, else NAN */
    double cophenetic; /* cophenetic correlation; NAN when all heights are equal */
    double silhouette; /* of the flat clusters; NAN unless 2 ≤ n_flat ≤ n−1 */
    /* With reference classes (NAN otherwise): silhouette of the classes (all
     * observations need a class), purity and ARI over observations with a class. */
    double silhouette_classes, purity, ari;
} nk_cluster_result;

void nk_cluster_config_default(nk_cluster_config *c);
/* X is (n, d); classes (n, −1 for none) may be NULL. Fails if the method needs
 * Euclidean distances and the metric is another. */
int nk_cluster_analyze(const double *X, int n, int d, const nk_cluster_config *c, const int *classes,
                       nk_cluster_result *r);
void nk_cluster_result_free(nk_cluster_result *r);
/* clusters.json: settings, labels, leaf order, flat clusters, scores; class
 * names and per-observation classes when given (classes may be NULL). */
int nk_cluster_write_json(const char *path, const char *input, const nk_cluster_config *c,
                          const nk_cluster_result *r, const char *const *labels, const int *classes,
                          const char *const *class_names, int n_classes);

/* The folder `napkit cluster` writes: dir/linkage.npy ((n-1, 4) float64),
 * dir/clusters.json and the dendrogram dir/<figure> (a plot.h path: a stem
 * such as "dendrogram" gives PDF, SVG and PNG; NULL means "dendrogram"),
 * leaves coloured by flat cluster with a class strip when classes are given.
 * orientation: an nk_dendro_orientation, or −1 for top up to 40 leaves, else
 * left. style may be NULL. */
int nk_cluster_write_dir(const char *dir, const char *input, const nk_cluster_config *c, const nk_cluster_result *r,
                         const char *const *labels, const int *classes, const char *const *class_names, int n_classes,
                         int orientation, const nk_plot_style *style, const char *figure);

/* What figures need back from a clusters.json (written for n observations). */
typedef struct {
    int n;
    char **labels;      /* (n) */
    int *order;         /* (n) leaf order */
    int *flat;          /* (n) flat clusters, or NULL */
    int *classes;       /* (n) class per observation (−1 none), or NULL */
    char **class_names; /* (n_classes) */
    int n_classes;
} nk_cluster_saved;

int nk_cluster_saved_read(const char *path, int n, nk_cluster_saved *s);
void nk_cluster_saved_free(nk_cluster_saved *s);

/* ---- inputs ---- */

/* A 2-D .npy (float32, float64 or int32) as float64 (n, d); NaN/Inf rejected. */
int nk_matrix_read_f64(const char *path, double **X, int *n, int *d);
/* One string per line (trailing CR and blanks trimmed); free with nk_strings_free. */
int nk_read_lines(const char *path, char ***lines, int *n);
void nk_strings_free(char **s, int n);
/* "label<TAB>class" lines ('#' comments): classes[i] is the class index of
 * labels[i] (−1 if unlisted); class names in order of first appearance. */
int nk_read_classes(const char *path, const char *const *labels, int n, int *classes, char ***names,
                    int *n_classes);
/* A NAPs output folder: groups from DIR/naps.json and layer `layer`'s
 * time-independent profiles DIR/<name>_flat.npy (G, C) as float64. */
int nk_naps_read_flat(const char *dir, int layer, double **X, int *n, int *d, char ***groups);
/* Just the "groups" of a naps.json. */
int nk_naps_read_groups(const char *naps_json, char ***groups, int *n_groups);

#endif
