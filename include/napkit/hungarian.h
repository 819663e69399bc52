/* Linear sum assignment (the Hungarian method), as scipy.optimize.linear_sum_assignment.
 *
 * Given a cost matrix (n, m), pick min(n, m) cells, at most one per row and
 * one per column, with the least total cost (or the greatest, with maximize).
 * Shortest augmenting paths with row/column potentials (Kuhn–Munkres in the
 * Jonker–Volgenant form): O(min(n,m)² · max(n,m)) time, O(n + m) extra memory
 * besides a transposed copy when n > m. On matrices without ties it returns
 * the same assignment as SciPy. */
#ifndef NAPKIT_HUNGARIAN_H
#define NAPKIT_HUNGARIAN_H

/* cost is (n, m), row-major, finite. col (n) receives the column assigned to
 * each row, −1 for the n − m rows left out when n > m. *total (may be NULL)
 * receives the summed cost of the assigned cells. Fails with NK_ERR_ARG for
 * n or m < 1 and with NK_ERR_NUMERIC naming the first NaN/Inf cell. */
int nk_linear_sum_assignment(const double *cost, int n, int m, int maximize, int *col, double *total);

#endif
