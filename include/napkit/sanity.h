/* Sanity checks for attribution maps: model randomization (Adebayo et al.
 * 2018). Layers are re-initialized the way training initializes them
 * (nk_model_init: PyTorch's Conv1d default), from the top down (cascading,
 * cumulative) or one at a time (independent), and each method's maps are
 * compared with the trained model's by Spearman rank correlation (of |S| and
 * of S) and SSIM. A method that explains the model should lose similarity as
 * its layers are randomized. */
#ifndef NAPKIT_SANITY_H
#define NAPKIT_SANITY_H

#include "napkit/attrib.h"

#include <stddef.h>

/* Spearman rank correlation of a and b (n values; ties get average ranks).
 * 0 when either is constant. */
double nk_spearman(const float *a, const float *b, size_t n);
/* Mean SSIM of two maps (rows, cols) over all win × win windows (win × 1
 * along time when rows = 1), each map min-max normalized to [0, 1] first;
 * C1 = 0.01², C2 = 0.03². win is clamped to the map's size. */
double nk_ssim(const float *a, const float *b, int rows, int cols, int win);

typedef enum { NK_SANITY_CASCADE, NK_SANITY_INDEPENDENT } nk_sanity_mode;
extern const char *const nk_sanity_mode_names[]; /* "cascade", "independent", NULL */

/* Similarity of one method's maps at one randomization step: means and
 * standard errors over the utterances. */
typedef struct {
    double spearman_abs, spearman, ssim;
    double spearman_abs_sem, spearman_sem, ssim_sem;
    int n;
} nk_sanity_sim;

/* Runs the randomization test. x[u] (F, T[u]) are the utterances and tg[u]
 * their targets, resolved on m (the targets stay fixed while weights change).
 * methods[0 .. n_methods−1] are the attribution settings compared. out is
 * ((L + 1), n_methods): step 0 compares the model with itself (1, 1, 1); step
 * s ≥ 1 re-initializes layers L−1 … L−s (cascade) or layer L−s alone
 * (independent), with weights from nk_model_init(seed). An utterance whose
 * map cannot be computed at some step fails the run. */
int nk_sanity_run(const nk_model *m, int n_utts, const float *const *x, const int *T, const nk_target *tg,
                  const nk_attr_options *methods, int n_methods, nk_sanity_mode mode, uint64_t seed,
                  nk_sanity_sim *out);

#endif
