/* Linear sum assignment by shortest augmenting paths with potentials: each
 * row in turn is added to the matching along the cheapest path of reduced
 * costs (Dijkstra over columns), then the potentials absorb the path length.
 * The classic O(n²m) formulation for n ≤ m; a wider-than-tall problem is
 * solved on the transpose. */
#include "napkit/hungarian.h"

#include "napkit/error.h"

#include <math.h>
#include <stdlib.h>

/* a is (n, m) with n ≤ m (minimize). row_of_col (m) receives the row matched
 * to each column or −1. */
static int solve(const double *a, int n, int m, int *row_of_col) {
    /* 1-based potentials u (rows), v (columns); p[j] is the row on column j, way[j]
     * the previous column on the shortest path; column 0 is the path's virtual root. */
    double *u = calloc(n + 1, sizeof(double)), *v = calloc(m + 1, sizeof(double));
    double *minv = malloc(sizeof(double) * (m + 1));
    int *p = calloc(m + 1, sizeof(int)), *way = calloc(m + 1, sizeof(int));
    char *used = malloc(m + 1);
    if (!u || !v || !minv || !p || !way || !used) {
        free(u), free(v), free(minv), free(p), free(way), free(used);
        return nk_fail(NK_ERR_NOMEM, "assignment: out of memory for %d × %d", n, m);
    }
    for (int i = 1; i <= n; i++) {
        p[0] = i;
        int j0 = 0;
        for (int j = 0; j <= m; j++) minv[j] = INFINITY, used[j] = 0;
        do {
            used[j0] = 1;
            const int i0 = p[j0];
            const double *row = a + (size_t)(i0 - 1) * m;
            double delta = INFINITY;
            int j1 = 0;
            for (int j = 1; j <= m; j++) {
                if (used[j]) continue;
                double cur = row[j - 1] - u[i0] - v[j];
                if (cur < minv[j]) minv[j] = cur, way[j] = j0;
                if (minv[j] < delta) delta = minv[j], j1 = j;
            }
            for (int j = 0; j <= m; j++) {
                if (used[j]) u[p[j]] += delta, v[j] -= delta;
                else minv[j] -= delta;
            }
            j0 = j1;
        } while (p[j0] != 0);
        do { /* flip the path's matched and unmatched edges */
            int j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
    for (int j = 1; j <= m; j++) row_of_col[j - 1] = p[j] - 1;
    free(u), free(v), free(minv), free(p), free(way), free(used);
    return NK_OK;
}

int nk_linear_sum_assignment(const double *cost, int n, int m, int maximize, int *col, double *total) {
    if (n < 1 || m < 1) return nk_fail(NK_ERR_ARG, "assignment: empty cost matrix (%d × %d)", n, m);
    for (size_t k = 0; k < (size_t)n * m; k++)
        if (!isfinite(cost[k]))
            return nk_fail(NK_ERR_NUMERIC, "assignment: cost[%zu, %zu] is %g", k / m, k % m, cost[k]);
    /* Work on a tall-or-square copy (rows ≤ columns), negated to maximize. */
    const int tr = n > m, r = tr ? m : n, c = tr ? n : m;
    double *a = malloc(sizeof(double) * (size_t)n * m);
    int *row_of_col = malloc(sizeof(int) * c);
    if (!a || !row_of_col) {
        free(a), free(row_of_col);
        return nk_fail(NK_ERR_NOMEM, "assignment: out of memory for %d × %d", n, m);
    }
    const double sign = maximize ? -1.0 : 1.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) a[tr ? (size_t)j * n + i : (size_t)i * m + j] = sign * cost[(size_t)i * m + j];
    int rc = solve(a, r, c, row_of_col);
    if (!rc) {
        for (int i = 0; i < n; i++) col[i] = -1;
        for (int j = 0; j < c; j++) {
            if (row_of_col[j] < 0) continue;
            if (tr) col[j] = row_of_col[j]; /* transposed: column j of a is row j of cost */
            else col[row_of_col[j]] = j;
        }
        if (total) {
            double s = 0;
            for (int i = 0; i < n; i++)
                if (col[i] >= 0) s += cost[(size_t)i * m + col[i]];
            *total = s;
        }
    }
    free(a), free(row_of_col);
    return rc;
}
