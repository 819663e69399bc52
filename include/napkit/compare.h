/* Comparing two networks layer by layer (an English and a German model, or a
 * model and itself): linear CKA between every pair of layers, Pearson
 * correlation between units with semi-matching and one-to-one matching
 * (convergent learning), and the similarity of phoneme profiles.
 *
 * Samples are (utterance, frame) pairs on one common frame grid: the coarsest
 * total stride S among the compared layers of both models; a layer with
 * stride S_l contributes every (S/S_l)-th frame, and frames past the shortest
 * layer are dropped, so every sample has a value in every layer. Both models
 * must share the front end's sample rate and hop (the same audio time per
 * frame). Frames are aligned by index: conv padding that keeps lengths also
 * keeps frame centres, as in every shipped architecture.
 *
 * Everything is computed from streamed second moments in double precision —
 * per layer XᵀX, across models XᵀY, and the column sums — so memory is
 * O(p²) in the number of units and does not grow with the corpus:
 *   C_xy = Σ x yᵀ − (Σx)(Σy)ᵀ / n          (centred cross-products)
 *   CKA(X, Y) = ‖C_yx‖²_F / (‖C_xx‖_F ‖C_yy‖_F)     (Kornblith et al. 2019)
 *   ρ_ij = C_xy[i,j] / √(C_xx[i,i] C_yy[j,j])        (Li et al. 2016) */
#ifndef NAPKIT_COMPARE_H
#define NAPKIT_COMPARE_H

#include "napkit/model.h"

#include <stddef.h>

/* ---- streamed moments of two stacks of layers ---- */

typedef struct nk_cmp_moments nk_cmp_moments;

/* Moments for na layers of A with ca[i] units each and nb layers of B. */
int nk_cmp_moments_new(int na, const int *ca, int nb, const int *cb, nk_cmp_moments **out);
void nk_cmp_moments_free(nk_cmp_moments *m);
void nk_cmp_moments_zero(nk_cmp_moments *m);
/* Adds n samples. xa is (PA, n) with PA = Σ ca: layer 0's units in the first
 * ca[0] rows, then layer 1's, …; xb is (PB, n) likewise. Fails on NaN/Inf. */
int nk_cmp_moments_add(nk_cmp_moments *m, const double *xa, const double *xb, long n);
/* into += from (same layer shapes). Adding shards in a fixed order gives a
 * result independent of how the samples were split. */
int nk_cmp_moments_merge(nk_cmp_moments *into, const nk_cmp_moments *from);
double nk_cmp_moments_count(const nk_cmp_moments *m);

/* Linear CKA of layer i of A with layer j of B for all pairs: cka is (na, nb).
 * A layer without variance gives NaN. Fails with NK_ERR_EMPTY below 2 samples. */
int nk_cka(const nk_cmp_moments *m, double *cka);
/* Pearson correlation of every unit of A's layer i with every unit of B's
 * layer j: rho is (ca[i], cb[j]); a unit without variance gives NaN in its row
 * or column. */
int nk_unit_corr(const nk_cmp_moments *m, int i, int j, double *rho);

/* ---- unit correspondence ---- */

typedef struct {
    int na, nb;           /* units of A and of B */
    int *semi;            /* (na) best partner j = argmax_j ρ_ij (many-to-one), −1 for a constant unit */
    double *semi_corr;    /* (na) ρ at semi, NaN when semi = −1 */
    int *match;           /* (na) one-to-one partner maximizing Σ ρ (Hungarian), −1 unmatched */
    double *match_corr;   /* (na) ρ at match, NaN when unmatched or constant */
    double mean_semi, mean_match; /* means over the finite entries */
    int n_constant_a, n_constant_b; /* units without variance (dead units) */
} nk_unit_matching;

/* From rho (na, nb) with NaN for constant units (treated as ρ = 0 when matching). */
int nk_unit_match(const double *rho, int na, int nb, nk_unit_matching *out);
void nk_unit_matching_free(nk_unit_matching *m);

/* ---- a corpus through both models ---- */

/* One utterance: features for each model, or NULL to compute them from
 * `audio` with that model's front end (once, when the two front ends agree). */
typedef struct {
    const char *id;
    const char *audio;
    const float *xa; /* (F_a, Ta) or NULL */
    int Ta;
    const float *xb; /* (F_b, Tb) or NULL */
    int Tb;
} nk_compare_utt;

/* The common grid for the chosen layers of both models: S (in input frames)
 * and each layer's step S/S_l. Fails when the front ends differ in sample
 * rate or hop, or a layer's stride does not divide S. step_a (na), step_b (nb). */
int nk_compare_grid(const nk_model *a, const int *la, int na, const nk_model *b, const int *lb, int nb,
                    int *stride, int *step_a, int *step_b);

/* Called after each utterance in corpus order (failed: NULL or why it was
 * skipped). Return nonzero to stop: nk_compare_run then returns NK_ERR_INTERRUPTED. */
typedef int (*nk_compare_callback)(void *ctx, size_t done, const nk_compare_utt *u, const char *failed);

/* Forwards every utterance through both models and streams the moments of
 * layers la (na indices) of A and lb of B into m (made by the caller with
 * those layers' channel counts; it is zeroed first). Utterances run on
 * `threads` threads and are added in corpus order, so the result does not
 * depend on the thread count. A failing utterance (unreadable audio, too
 * short) is reported to cb and skipped; *n_used counts the others. */
int nk_compare_run(const nk_model *a, const int *la, int na, const nk_model *b, const int *lb, int nb,
                   const nk_compare_utt *u, size_t n, int threads, nk_compare_callback cb, void *ctx,
                   nk_cmp_moments *m, size_t *n_used);

#endif
