/* Needleman–Wunsch global alignment of two integer sequences.
 *
 * Scores are maximized. Aligning symbol x of `a` with symbol y of `b` scores
 * from a substitution matrix or a callback; a gap of length L scores
 * gap_open + (L − 1)·gap_extend (linear gaps: gap_open == gap_extend, so
 * F[i,0] = i·d as in the textbook recursion). Gap scores are usually negative.
 * O(n·m) time, one byte of traceback per cell. Ties are broken in the fixed
 * order diagonal, up (gap in b), left (gap in a), at every cell of the
 * traceback, so the result depends only on the inputs. */
#ifndef NAPKIT_NW_H
#define NAPKIT_NW_H

/* Score of aligning symbol x (from a) with symbol y (from b). May return
 * −INFINITY to forbid a pair; must not return NaN or +inf. */
typedef float (*nk_nw_score_fn)(int x, int y, void *ctx);

typedef struct {
    /* (n_sym_a, n_sym_b) row-major: matrix[x * n_sym_b + y]; symbols must lie in
     * [0, n_sym_a) and [0, n_sym_b). When NULL, `score(x, y, ctx)` is used. */
    const float *matrix;
    int n_sym_a, n_sym_b;
    nk_nw_score_fn score;
    void *ctx;
    float gap_open;   /* score of a gap's first position */
    float gap_extend; /* score of each further position of the same gap */
} nk_nw_scoring;

/* One column of the alignment: indices into a and b, −1 for a gap. */
typedef struct {
    int a, b;
} nk_nw_pair;

/* Aligns a (n symbols) with b (m symbols). pairs must hold n + m entries; it
 * receives the columns in order and *n_pairs their count; *score the total.
 * Either sequence may be empty. Errors: NK_ERR_ARG for symbols outside the
 * matrix or non-finite gap scores, NK_ERR_NUMERIC for a NaN/+inf substitution
 * score. Finite gaps make every pair of sequences alignable. */
int nk_nw_align(const int *a, int n, const int *b, int m, const nk_nw_scoring *sc,
                nk_nw_pair *pairs, int *n_pairs, double *score);

#endif
