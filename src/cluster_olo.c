/* Optimal leaf ordering (Bar-Joseph, Gifford, Jaakkola, Bioinformatics 2001).
 *
 * Among the 2^(n-1) leaf orders a dendrogram allows (swap the children of any
 * node), find the one with the least sum of distances between adjacent leaves.
 * M[u][w] is the cost of the best order of the subtree at lca(u, w) that
 * starts with leaf u and ends with leaf w; for a node with children A and B,
 *   M[u][w] = min over m in A, k in B of M[u][m] + D[m][k] + M[k][w],
 * with m on the other side of A from u (m = u if A is a leaf) and likewise k.
 * Split as T[u][k] = min_m M[u][m] + D[m][k], then M[u][w] = min_k T[u][k] +
 * M[k][w], this is O(n³). Leaves are indexed by position in the current leaf
 * order, so every subtree is a contiguous range and the loops are dense. */
#include "napkit/cluster.h"

#include "napkit/error.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    int n;
    const double *Z;
    int *start, *size; /* range of node v (leaf or n+k) in the leaf order */
    double *Dp, *M, *T; /* (n, n), indexed by leaf positions */
} olo;

/* The range of u's partner within node c: the other child's leaves, or u itself for a leaf. */
static void partner_range(const olo *o, int c, int u, int *lo, int *hi) {
    if (c < o->n) {
        *lo = u, *hi = u + 1;
        return;
    }
    int l = (int)o->Z[4 * (c - o->n)], r = (int)o->Z[4 * (c - o->n) + 1];
    int inl = u >= o->start[l] && u < o->start[l] + o->size[l];
    int other = inl ? r : l;
    *lo = o->start[other], *hi = o->start[other] + o->size[other];
}

/* The cheapest (m, k) joining an order of child a ending at m with one of child
 * b starting at k, for fixed outer ends u in a and w in b. Returns the cost. */
static double best_join(const olo *o, int a, int b, int u, int w, int *bm, int *bk) {
    int n = o->n, m0, m1, k0, k1;
    partner_range(o, a, u, &m0, &m1);
    partner_range(o, b, w, &k0, &k1);
    double best = INFINITY;
    for (int m = m0; m < m1; m++)
        for (int k = k0; k < k1; k++) {
            double c = o->M[(size_t)u * n + m] + o->Dp[(size_t)m * n + k] + o->M[(size_t)k * n + w];
            if (c < best) best = c, *bm = m, *bk = k;
        }
    return best;
}

static void fill_node(olo *o, int a, int b) {
    int n = o->n;
    int a0 = o->start[a], a1 = a0 + o->size[a], b0 = o->start[b], b1 = b0 + o->size[b];
    for (int u = a0; u < a1; u++) {
        int m0, m1;
        partner_range(o, a, u, &m0, &m1);
        for (int k = b0; k < b1; k++) {
            double t = INFINITY;
            for (int m = m0; m < m1; m++) t = fmin(t, o->M[(size_t)u * n + m] + o->Dp[(size_t)m * n + k]);
            o->T[(size_t)u * n + k] = t;
        }
    }
    for (int w = b0; w < b1; w++) {
        int k0, k1;
        partner_range(o, b, w, &k0, &k1);
        for (int u = a0; u < a1; u++) {
            double best = INFINITY;
            for (int k = k0; k < k1; k++) best = fmin(best, o->T[(size_t)u * n + k] + o->M[(size_t)k * n + w]);
            o->M[(size_t)u * n + w] = o->M[(size_t)w * n + u] = best;
        }
    }
}

int nk_optimal_leaf_ordering(double *Z, int n, const double *D) {
    if (n < 3) return NK_OK; /* one order up to reversal */
    olo o = {n, Z, malloc(sizeof(int) * (2 * n - 1)), malloc(sizeof(int) * (2 * n - 1)),
             malloc(sizeof(double) * n * n), calloc((size_t)n * n, sizeof(double)), malloc(sizeof(double) * n * n)};
    int *order = malloc(sizeof(int) * n);
    /* Reconstruction stack: (node, first leaf, last leaf), at most one entry per node. */
    int *stack = malloc(sizeof(int) * 3 * (2 * n - 1));
    if (!o.start || !o.size || !o.Dp || !o.M || !o.T || !order || !stack) {
        free(o.start), free(o.size), free(o.Dp), free(o.M), free(o.T), free(order), free(stack);
        return nk_fail(NK_ERR_NOMEM, "optimal leaf ordering: out of memory for n = %d", n);
    }
    nk_leaves_list(Z, n, order);
    for (int i = 0; i < n; i++) o.start[order[i]] = i, o.size[order[i]] = 1;
    for (int k = 0; k < n - 1; k++) {
        int a = (int)Z[4 * k], b = (int)Z[4 * k + 1];
        o.start[n + k] = o.start[a] < o.start[b] ? o.start[a] : o.start[b];
        o.size[n + k] = o.size[a] + o.size[b];
    }
    for (int i = 0; i < n; i++) {
        o.Dp[(size_t)i * n + i] = 0;
        for (int j = i + 1; j < n; j++)
            o.Dp[(size_t)i * n + j] = o.Dp[(size_t)j * n + i] = D[nk_condensed_index(n, order[i], order[j])];
    }
    for (int k = 0; k < n - 1; k++) fill_node(&o, (int)Z[4 * k], (int)Z[4 * k + 1]);

    /* The root keeps its children in place; pick its best outer ends. */
    int root = 2 * n - 2, l = (int)Z[4 * (n - 2)], r = (int)Z[4 * (n - 2) + 1], bu = 0, bw = 0;
    double best = INFINITY;
    for (int u = o.start[l]; u < o.start[l] + o.size[l]; u++)
        for (int w = o.start[r]; w < o.start[r] + o.size[r]; w++)
            if (o.M[(size_t)u * n + w] < best) best = o.M[(size_t)u * n + w], bu = u, bw = w;
    int top = 0;
    stack[top++] = root, stack[top++] = bu, stack[top++] = bw;
    while (top > 0) {
        int w = stack[--top], u = stack[--top], v = stack[--top];
        if (v < n) continue;
        double *row = Z + 4 * (size_t)(v - n);
        int a = (int)row[0], b = (int)row[1];
        if (!(u >= o.start[a] && u < o.start[a] + o.size[a])) { /* u lies under b: b goes first */
            row[0] = b, row[1] = a;
            int t = a; a = b; b = t;
        }
        int m = u, k = w;
        best_join(&o, a, b, u, w, &m, &k);
        stack[top++] = a, stack[top++] = u, stack[top++] = m;
        stack[top++] = b, stack[top++] = k, stack[top++] = w;
    }
    free(o.start), free(o.size), free(o.Dp), free(o.M), free(o.T), free(order), free(stack);
    return NK_OK;
}
