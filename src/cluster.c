/* Agglomerative clustering on a condensed distance matrix.
 *
 * Three algorithms, chosen by method as scipy does (Müllner, "Modern
 * hierarchical, agglomerative clustering algorithms", arXiv:1109.2378):
 *   single                          minimum spanning tree (Prim), O(n²)
 *   complete/average/weighted/ward  nearest-neighbour chain, O(n²)
 *   centroid/median                 generic algorithm with a heap of lower
 *                                   bounds, O(n²) typical, O(n³) worst
 * The first two produce merges out of height order; they are sorted (stably)
 * and relabelled with a union-find, so ids match scipy's numbering. */
#include "napkit/cluster.h"

#include "napkit/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const nk_linkage_method_names[] = {"single", "complete", "average", "weighted",
                                               "ward", "centroid", "median", NULL};

int nk_linkage_needs_euclidean(nk_linkage_method method) {
    return method == NK_LINK_WARD || method == NK_LINK_CENTROID || method == NK_LINK_MEDIAN;
}

/* Lance–Williams update: distance from cluster i to the union of x and y,
 * given d(x,i), d(y,i), d(x,y) and the cluster sizes. */
static double update_distance(nk_linkage_method m, double dxi, double dyi, double dxy, int nx, int ny,
                              int ni) {
    switch (m) {
    case NK_LINK_SINGLE: return fmin(dxi, dyi);
    case NK_LINK_COMPLETE: return fmax(dxi, dyi);
    case NK_LINK_AVERAGE: return (nx * dxi + ny * dyi) / (nx + ny);
    case NK_LINK_WEIGHTED: return 0.5 * (dxi + dyi);
    case NK_LINK_WARD: {
        double t = 1.0 / (nx + ny + ni);
        return sqrt((ni + nx) * t * dxi * dxi + (ni + ny) * t * dyi * dyi - ni * t * dxy * dxy);
    }
    case NK_LINK_CENTROID:
        return sqrt(((nx * dxi * dxi) + (ny * dyi * dyi) - (double)nx * ny * dxy * dxy / (nx + ny)) /
                    (nx + ny));
    case NK_LINK_MEDIAN: return sqrt(0.5 * (dxi * dxi + dyi * dyi) - 0.25 * dxy * dxy);
    }
    return NAN;
}

/* ---- relabelling of merges found out of order ---- */

static const double *sort_heights; /* qsort has no context pointer; set just before sorting */

static int cmp_by_height(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    double hi = sort_heights[4 * i + 2], hj = sort_heights[4 * j + 2];
    if (hi != hj) return hi < hj ? -1 : 1;
    return (i > j) - (i < j); /* stable, like numpy's mergesort */
}

static int uf_find(int *parent, int x) {
    int root = x;
    while (parent[root] != root) root = parent[root];
    while (parent[x] != root) {
        int next = parent[x];
        parent[x] = root;
        x = next;
    }
    return root;
}

/* Z holds merges as pairs of observation/cluster representatives; sorts them
 * by height and renames each side to the id of the cluster it belongs to. */
static int sort_and_label(double *Z, int n) {
    int m = n - 1;
    int *order = malloc(sizeof(int) * m), *parent = malloc(sizeof(int) * (2 * n - 1)),
        *size = malloc(sizeof(int) * (2 * n - 1));
    double *sorted = malloc(sizeof(double) * 4 * m);
    if (!order || !parent || !size || !sorted) {
        free(order), free(parent), free(size), free(sorted);
        return nk_fail(NK_ERR_NOMEM, "linkage: out of memory for n = %d", n);
    }
    for (int i = 0; i < m; i++) order[i] = i;
    sort_heights = Z;
    qsort(order, m, sizeof(int), cmp_by_height);
    for (int i = 0; i < m; i++) memcpy(sorted + 4 * i, Z + 4 * order[i], 4 * sizeof(double));
    for (int i = 0; i < 2 * n - 1; i++) parent[i] = i, size[i] = 1;
    for (int i = 0; i < m; i++) {
        int a = uf_find(parent, (int)sorted[4 * i]), b = uf_find(parent, (int)sorted[4 * i + 1]);
        int c = n + i;
        parent[a] = parent[b] = c;
        size[c] = size[a] + size[b];
        Z[4 * i] = a < b ? a : b;
        Z[4 * i + 1] = a < b ? b : a;
        Z[4 * i + 2] = sorted[4 * i + 2];
        Z[4 * i + 3] = size[c];
    }
    free(order), free(parent), free(size), free(sorted);
    return NK_OK;
}

/* ---- single: Prim's minimum spanning tree ---- */

static int linkage_mst(const double *D, int n, double *Z) {
    char *merged = calloc(n, 1);
    double *best = malloc(sizeof(double) * n); /* distance of each point to the tree */
    if (!merged || !best) {
        free(merged), free(best);
        return nk_fail(NK_ERR_NOMEM, "linkage: out of memory for n = %d", n);
    }
    for (int i = 0; i < n; i++) best[i] = INFINITY;
    int x = 0, y = 0;
    for (int k = 0; k < n - 1; k++) {
        double cur = INFINITY;
        merged[x] = 1;
        size_t c = (size_t)x - 1, r = x < n - 1 ? nk_condensed_index(n, x, x + 1) : 0;
        for (int i = 0; i < n; i++) {
            size_t pos = i < x ? c : r + (i - x - 1);
            if (i < x) c += n - i - 2;
            if (merged[i]) continue;
            if (best[i] > D[pos]) best[i] = D[pos];
            if (best[i] < cur) cur = best[i], y = i;
        }
        Z[4 * k] = x, Z[4 * k + 1] = y, Z[4 * k + 2] = cur, Z[4 * k + 3] = 0;
        x = y;
    }
    free(merged), free(best);
    return sort_and_label(Z, n);
}

/* ---- complete, average, weighted, ward: nearest-neighbour chain ---- */

/* Condensed storage keeps the pairs (i, x) of one x in two runs: a column
 * for i < x (positions step by n − i − 2) and a contiguous row for i > x.
 * The loops below walk both runs with running positions instead of calling
 * nk_condensed_index per element, which is the hot path of the O(n²) methods. */

/* Replaces row/column y of the working matrix W with the distances to the
 * merged cluster x ∪ y (x < y); x is dropped (size 0). */
static void merge_rows(double *W, int n, int *size, nk_linkage_method m, int x, int y, double dxy) {
    int nx = size[x], ny = size[y];
    size[x] = 0;
    size[y] = nx + ny;
    size_t cx = (size_t)x - 1, cy = (size_t)y - 1; /* column positions of (0, x) and (0, y) */
    size_t rx = nk_condensed_index(n, x, x + 1), ry = y < n - 1 ? nk_condensed_index(n, y, y + 1) : 0;
    for (int i = 0; i < n; i++) {
        if (size[i] && i != y) {
            size_t ix = i < x ? cx : rx + (i - x - 1), iy = i < y ? cy : ry + (i - y - 1);
            W[iy] = update_distance(m, W[ix], W[iy], dxy, nx, ny, size[i]);
        }
        if (i < x) cx += n - i - 2;
        if (i < y) cy += n - i - 2;
    }
}

/* The alive cluster nearest to x, scanning i = 0 … n−1 in order and keeping
 * the first strict minimum below *dist (which holds the starting bound). */
static int nearest(const double *W, int n, const int *size, int x, int y, double *dist) {
    double best = *dist;
    size_t c = (size_t)x - 1;
    for (int i = 0; i < x; c += n - i - 2, i++)
        if (size[i] && W[c] < best) best = W[c], y = i;
    size_t r = x < n - 1 ? nk_condensed_index(n, x, x + 1) : 0;
    for (int i = x + 1; i < n; i++, r++)
        if (size[i] && W[r] < best) best = W[r], y = i;
    *dist = best;
    return y;
}

static int linkage_nn_chain(double *W, int n, nk_linkage_method m, double *Z) {
    int *size = malloc(sizeof(int) * n), *chain = malloc(sizeof(int) * n);
    if (!size || !chain) {
        free(size), free(chain);
        return nk_fail(NK_ERR_NOMEM, "linkage: out of memory for n = %d", n);
    }
    for (int i = 0; i < n; i++) size[i] = 1;
    int len = 0;
    for (int k = 0; k < n - 1; k++) {
        if (len == 0) {
            for (int i = 0; i < n; i++)
                if (size[i]) { chain[len++] = i; break; }
        }
        int x, y = 0;
        double cur;
        for (;;) {
            x = chain[len - 1];
            /* Prefer the previous chain element on ties, so the chain cannot cycle. */
            if (len > 1) {
                y = chain[len - 2];
                cur = W[nk_condensed_index(n, x, y)];
            } else {
                cur = INFINITY;
            }
            y = nearest(W, n, size, x, y, &cur);
            if (len > 1 && y == chain[len - 2]) break;
            chain[len++] = y;
        }
        len -= 2;
        if (x > y) { int t = x; x = y; y = t; }
        Z[4 * k] = x, Z[4 * k + 1] = y, Z[4 * k + 2] = cur, Z[4 * k + 3] = 0;
        merge_rows(W, n, size, m, x, y, cur);
    }
    free(size), free(chain);
    return sort_and_label(Z, n);
}

/* ---- centroid, median: generic algorithm ---- */

/* Binary min-heap over keys 0 … size-1 whose values can change. */
typedef struct {
    int size, *key_at, *pos_of;
    double *val;
} heap;

static void heap_swap(heap *h, int i, int j) {
    double v = h->val[i]; h->val[i] = h->val[j]; h->val[j] = v;
    int ki = h->key_at[i], kj = h->key_at[j];
    h->key_at[i] = kj, h->key_at[j] = ki;
    h->pos_of[ki] = j, h->pos_of[kj] = i;
}

static void heap_sift_up(heap *h, int i) {
    while (i > 0 && h->val[(i - 1) >> 1] > h->val[i]) {
        heap_swap(h, i, (i - 1) >> 1);
        i = (i - 1) >> 1;
    }
}

static void heap_sift_down(heap *h, int i) {
    for (int c = 2 * i + 1; c < h->size; c = 2 * i + 1) {
        if (c + 1 < h->size && h->val[c + 1] < h->val[c]) c++;
        if (!(h->val[i] > h->val[c])) break;
        heap_swap(h, i, c);
        i = c;
    }
}

static void heap_change(heap *h, int key, double v) {
    int i = h->pos_of[key];
    double old = h->val[i];
    h->val[i] = v;
    if (v < old) heap_sift_up(h, i);
    else heap_sift_down(h, i);
}

/* Nearest alive cluster above x: the candidate the heap keeps for x. */
static int nearest_above(const double *W, int n, const int *size, int x, double *dist) {
    size_t r = nk_condensed_index(n, x, x + 1);
    int y = -1;
    double best = INFINITY;
    for (int i = x + 1; i < n; i++, r++)
        if (size[i] && W[r] < best) best = W[r], y = i;
    *dist = best;
    return y;
}

static int linkage_generic(double *W, int n, nk_linkage_method m, double *Z) {
    int *size = malloc(sizeof(int) * n), *id = malloc(sizeof(int) * n), *nbr = malloc(sizeof(int) * n);
    heap h = {n - 1, malloc(sizeof(int) * n), malloc(sizeof(int) * n), malloc(sizeof(double) * n)};
    if (!size || !id || !nbr || !h.key_at || !h.pos_of || !h.val) {
        free(size), free(id), free(nbr), free(h.key_at), free(h.pos_of), free(h.val);
        return nk_fail(NK_ERR_NOMEM, "linkage: out of memory for n = %d", n);
    }
    for (int i = 0; i < n; i++) size[i] = 1, id[i] = i;
    /* Cluster n-1 is always the larger of a pair, so it never dies and every
     * other alive cluster has a neighbour above it. */
    for (int x = 0; x < n - 1; x++) {
        nbr[x] = nearest_above(W, n, size, x, &h.val[x]);
        h.key_at[x] = h.pos_of[x] = x;
    }
    for (int i = (n - 1) / 2 - 1; i >= 0; i--) heap_sift_down(&h, i);

    for (int k = 0; k < n - 1; k++) {
        int x = 0, y = 0;
        double dist = 0;
        /* Pop lower bounds until one is exact; n − k refreshes always suffice. */
        for (int i = 0; i < n - k; i++) {
            x = h.key_at[0], dist = h.val[0], y = nbr[x];
            if (dist == W[nk_condensed_index(n, x, y)]) break;
            y = nbr[x] = nearest_above(W, n, size, x, &dist);
            heap_change(&h, x, dist);
        }
        heap_swap(&h, 0, h.size - 1);
        h.size--;
        heap_sift_down(&h, 0);

        int a = id[x] < id[y] ? id[x] : id[y], b = id[x] < id[y] ? id[y] : id[x];
        Z[4 * k] = a, Z[4 * k + 1] = b, Z[4 * k + 2] = dist, Z[4 * k + 3] = size[x] + size[y];
        merge_rows(W, n, size, m, x, y, dist);
        id[y] = n + k;

        for (int z = 0; z < x; z++)
            if (size[z] && nbr[z] == x) nbr[z] = y;
        for (int z = 0; z < y; z++) {
            if (!size[z]) continue;
            double d = W[nk_condensed_index(n, z, y)];
            if (d < h.val[h.pos_of[z]]) {
                nbr[z] = y;
                heap_change(&h, z, d);
            }
        }
        if (y < n - 1) {
            double d;
            nbr[y] = nearest_above(W, n, size, y, &d);
            heap_change(&h, y, d);
        }
    }
    free(size), free(id), free(nbr), free(h.key_at), free(h.pos_of), free(h.val);
    return NK_OK;
}

int nk_linkage(const double *D, int n, nk_linkage_method method, double *Z) {
    if (n < 2) return nk_fail(NK_ERR_ARG, "linkage: need at least 2 observations (got %d)", n);
    if ((unsigned)method > NK_LINK_MEDIAN) return nk_fail(NK_ERR_ARG, "linkage: unknown method %d", (int)method);
    size_t m = (size_t)n * (n - 1) / 2;
    for (size_t i = 0; i < m; i++)
        if (!isfinite(D[i]) || D[i] < 0)
            return nk_fail(NK_ERR_NUMERIC, "linkage: distance %zu is %g (must be finite and >= 0)", i, D[i]);
    if (method == NK_LINK_SINGLE) return linkage_mst(D, n, Z);
    double *W = malloc(sizeof(double) * m); /* the working copy the updates overwrite */
    if (!W) return nk_fail(NK_ERR_NOMEM, "linkage: out of memory for %zu distances", m);
    memcpy(W, D, sizeof(double) * m);
    int rc = method == NK_LINK_CENTROID || method == NK_LINK_MEDIAN ? linkage_generic(W, n, method, Z)
                                                                     : linkage_nn_chain(W, n, method, Z);
    free(W);
    return rc;
}
