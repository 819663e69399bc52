/* Reading a linkage as a tree: validation, leaf order, cophenetic distances,
 * flat clusters. Traversals are iterative (a chain-shaped tree of 10⁵ leaves
 * would overflow the C stack) and visit left child (column 0) before right. */
#include "napkit/cluster.h"

#include "napkit/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int nk_linkage_validate(const double *Z, int n, const char *what) {
    if (n < 2) return nk_fail(NK_ERR_FORMAT, "%s: a linkage needs at least 2 observations (got %d)", what, n);
    char *used = calloc(2 * (size_t)n - 1, 1);
    double *size = malloc(sizeof(double) * (2 * (size_t)n - 1));
    if (!used || !size) {
        free(used), free(size);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", what);
    }
    int rc = NK_OK;
    for (int i = 0; i < n; i++) size[i] = 1;
    for (int k = 0; k < n - 1 && rc == NK_OK; k++) {
        const double *r = Z + 4 * (size_t)k;
        double a = r[0], b = r[1];
        if (!(a >= 0 && b >= 0 && a < n + k && b < n + k && a == floor(a) && b == floor(b) && a != b))
            rc = nk_fail(NK_ERR_FORMAT, "%s: row %d merges ids %g and %g (must be distinct ids below %d)", what,
                         k, a, b, n + k);
        else if (used[(int)a] || used[(int)b])
            rc = nk_fail(NK_ERR_FORMAT, "%s: row %d merges a cluster that was already merged", what, k);
        else if (!isfinite(r[2]) || r[2] < 0)
            rc = nk_fail(NK_ERR_FORMAT, "%s: row %d has height %g (must be finite and >= 0)", what, k, r[2]);
        else if (r[3] != size[(int)a] + size[(int)b])
            rc = nk_fail(NK_ERR_FORMAT, "%s: row %d has size %g, its children hold %g", what, k, r[3],
                         size[(int)a] + size[(int)b]);
        else {
            used[(int)a] = used[(int)b] = 1;
            size[n + k] = r[3];
        }
    }
    free(used), free(size);
    return rc;
}

static int child(const double *Z, int node, int n, int side) { return (int)Z[4 * (size_t)(node - n) + side]; }

int nk_leaves_list(const double *Z, int n, int *order) {
    int *stack = malloc(sizeof(int) * n);
    if (!stack) return nk_fail(NK_ERR_NOMEM, "leaves_list: out of memory for n = %d", n);
    int top = 0, m = 0;
    stack[top++] = 2 * n - 2;
    while (top > 0) {
        int v = stack[--top];
        if (v < n) {
            order[m++] = v;
        } else {
            stack[top++] = child(Z, v, n, 1);
            stack[top++] = child(Z, v, n, 0);
        }
    }
    free(stack);
    return NK_OK;
}

int nk_cophenet(const double *Z, int n, const double *D, double *coph, double *corr) {
    size_t m = (size_t)n * (n - 1) / 2;
    int *order = malloc(sizeof(int) * n), *start = malloc(sizeof(int) * (2 * (size_t)n - 1));
    double *c = coph ? coph : malloc(sizeof(double) * m);
    if (!order || !start || !c) {
        free(order), free(start);
        if (!coph) free(c);
        return nk_fail(NK_ERR_NOMEM, "cophenet: out of memory for n = %d", n);
    }
    nk_leaves_list(Z, n, order);
    /* Every subtree is a contiguous run of the leaf order: node v covers
     * order[start[v] … start[v] + size(v) − 1]. */
    for (int i = 0; i < n; i++) start[order[i]] = i;
    for (int k = 0; k < n - 1; k++) {
        int a = (int)Z[4 * k], b = (int)Z[4 * k + 1];
        start[n + k] = start[a] < start[b] ? start[a] : start[b];
    }
    for (int k = 0; k < n - 1; k++) {
        int a = (int)Z[4 * k], b = (int)Z[4 * k + 1];
        int na = a < n ? 1 : (int)Z[4 * (a - n) + 3], nb = b < n ? 1 : (int)Z[4 * (b - n) + 3];
        for (int i = start[a]; i < start[a] + na; i++)
            for (int j = start[b]; j < start[b] + nb; j++) c[nk_condensed_index(n, order[i], order[j])] = Z[4 * k + 2];
    }
    if (D && corr) {
        double md = 0, mc = 0, sdc = 0, sdd = 0, scc = 0;
        for (size_t i = 0; i < m; i++) md += D[i], mc += c[i];
        md /= m, mc /= m;
        for (size_t i = 0; i < m; i++) {
            double y = D[i] - md, z = c[i] - mc;
            sdc += y * z, sdd += y * y, scc += z * z;
        }
        *corr = sdc / sqrt(sdd * scc);
    }
    free(order), free(start);
    if (!coph) free(c);
    return NK_OK;
}

/* md[k] = the largest height in the subtree of cluster n+k: a criterion that
 * grows towards the root even when heights have inversions (centroid, median). */
static double *max_heights(const double *Z, int n) {
    double *md = malloc(sizeof(double) * (n - 1));
    if (!md) return NULL;
    for (int k = 0; k < n - 1; k++) {
        double h = Z[4 * k + 2];
        for (int s = 0; s < 2; s++) {
            int c = (int)Z[4 * k + s];
            if (c >= n && md[c - n] > h) h = md[c - n];
        }
        md[k] = h;
    }
    return md;
}

/* Numbers flat clusters as scipy's cluster_monocrit does: a depth-first walk
 * where a cluster gets its number when its top node is entered, and a leaf
 * outside any cluster when its parent is left. With labels NULL it only counts.
 * Returns the number of clusters, or −1 if out of memory. */
static int monocrit_labels(const double *Z, int n, const double *md, double cutoff, int *labels) {
    int *stack = malloc(sizeof(int) * n);
    char *entered = calloc(n - 1, 1);
    if (!stack || !entered) {
        free(stack), free(entered);
        return -1;
    }
    int top = 0, nc = 0, leader = -1;
    stack[top++] = n - 2;
    while (top > 0) {
        int r = stack[top - 1];
        int a = (int)Z[4 * r], b = (int)Z[4 * r + 1];
        if (leader == -1 && md[r] <= cutoff) leader = r, nc++;
        if (a >= n && !entered[a - n]) {
            entered[a - n] = 1;
            stack[top++] = a - n;
            continue;
        }
        if (b >= n && !entered[b - n]) {
            entered[b - n] = 1;
            stack[top++] = b - n;
            continue;
        }
        for (int s = 0; s < 2; s++) {
            int c = s ? b : a;
            if (c >= n) continue;
            if (leader == -1) nc++;
            if (labels) labels[c] = nc;
        }
        if (leader == r) leader = -1;
        top--;
    }
    free(stack), free(entered);
    return nc;
}

int nk_fcluster_distance(const double *Z, int n, double t, int *labels) {
    if (isnan(t)) return nk_fail(NK_ERR_ARG, "fcluster: the distance threshold is NaN");
    double *md = max_heights(Z, n);
    int nc = md ? monocrit_labels(Z, n, md, t, labels) : -1;
    free(md);
    return nc < 0 ? nk_fail(NK_ERR_NOMEM, "fcluster: out of memory for n = %d", n) : NK_OK;
}

int nk_fcluster_maxclust(const double *Z, int n, int k, int *labels) {
    if (k < 1) return nk_fail(NK_ERR_ARG, "fcluster: need at least 1 cluster (got %d)", k);
    if (k >= n) {
        for (int i = 0; i < n; i++) labels[i] = i + 1;
        return NK_OK;
    }
    double *md = max_heights(Z, n);
    if (!md) return nk_fail(NK_ERR_NOMEM, "fcluster: out of memory for n = %d", n);
    /* Bisect over the rows for the smallest criterion value that gives at
     * most k clusters (md is non-decreasing along rows for sorted linkages). */
    int lo = -1, hi = n - 1, nc = 0;
    while (hi - lo > 1 && nc >= 0) {
        int mid = (lo + hi) >> 1;
        nc = monocrit_labels(Z, n, md, md[mid], NULL);
        if (nc > k) lo = mid;
        else hi = mid;
    }
    if (nc >= 0) nc = monocrit_labels(Z, n, md, md[hi], labels);
    free(md);
    return nc < 0 ? nk_fail(NK_ERR_NOMEM, "fcluster: out of memory for n = %d", n) : NK_OK;
}
