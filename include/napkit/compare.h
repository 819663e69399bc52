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
#include "napkit/plot.h"

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
/* Units of A's layer i and B's layer j. */
int nk_cmp_moments_units(const nk_cmp_moments *m, int i, int j, int *ca, int *cb);

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
    double mean_semi, mean_match; /* means over A's varying units (a constant partner counts 0) */
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

/* ---- the activation comparison as `napkit compare` reports it ---- */

typedef struct {
    int na, nb;
    int *la, *lb;          /* compared layer indices of A and B */
    double *cka;           /* (na, nb) */
    double samples;        /* (utterance, frame) samples behind every number */
    int n_pairs;           /* layer pairs compared unit by unit: the same index in both models */
    int *pair;             /* (n_pairs) the layer index */
    double **rho;          /* per pair (C_A, C_B) unit correlations */
    nk_unit_matching *um;  /* per pair */
} nk_compare_result;

/* CKA of every layer pair and unit matching for each layer index present in
 * both la and lb, from moments streamed over those layers. */
int nk_compare_analyze(const nk_cmp_moments *m, const int *la, int na, const int *lb, int nb, nk_compare_result *r);
void nk_compare_result_free(nk_compare_result *r);
/* Writes into dir: cka.npy (na, nb) float64 and the cka figure (A layers ×
 * B layers); per pair corr_LL.npy (C_A, C_B) float32, matching_LL.json
 * (semi and one-to-one partners with their correlations, means, constant
 * units), matching_LL (the correlation matrix with rows sorted by matched
 * correlation and columns by partner) and matched_LL (matched correlations
 * sorted) figures. name_a/name_b label the axes; style may be NULL. */
int nk_compare_write(const nk_compare_result *r, const char *name_a, const char *name_b, const nk_plot_style *style,
                     const char *dir);

/* ---- phoneme profiles of both models (NAPs / GradNAPs folders) ----
 *
 * Group names of either model (IPA or ARPAbet) are mapped onto IPA
 * (phoneset.h); the phonemes both models have are compared. Per layer:
 *   profile correlation  R[g,h] = Pearson over matched unit pairs (i, π(i)) of
 *                        z_A[g,i] and z_B[h,π(i)], with π the layer's one-to-one
 *                        unit matching and z each unit's profile z-scored over
 *                        the shared phonemes;
 *   same / different     mean of R on / off the diagonal;
 *   identification       fraction of phonemes g whose best h is g;
 *   cophenetic           Pearson correlation of the two models' cophenetic
 *                        distances (Ward trees of the raw profiles). */

/* The IPA name of a group label (IPA spelling or ARPAbet, stress digits
 * allowed), or the label itself when it is neither (letters stay letters). */
const char *nk_group_ipa(const char *label);

/* Layer `layer`'s flat profiles from both NAPs folders, restricted to the
 * phonemes both have (in A's group order): Pa (G, ca), Pb (G, cb), phonemes
 * (G) IPA names (free with nk_strings_free). NK_ERR_EMPTY below 2 shared. */
int nk_shared_profiles(const char *naps_a, const char *naps_b, int layer, double **Pa, int *ca, double **Pb, int *cb,
                       char ***phonemes, int *G);

/* Pa (G, ca) and Pb (G, cb): profiles of the same G phonemes; match (ca): B
 * partner of each A unit (−1 none). R (G, G). Units constant over the
 * phonemes in either model are left out. NK_ERR_EMPTY below 3 usable pairs. */
int nk_profile_similarity(const double *Pa, int G, int ca, const double *Pb, int cb, const int *match, double *R,
                          double *same, double *different, double *identification);
/* Pearson correlation between the cophenetic distances of two linkages (n-1, 4) over the same n leaves. */
int nk_tree_cophenetic_corr(const double *Za, const double *Zb, int n, double *corr);

typedef struct {
    int layer;
    int G;              /* shared phonemes */
    int units;          /* matched unit pairs */
    double same, different, identification, cophenetic;
} nk_profile_layer;

typedef struct {
    int n_layers;
    nk_profile_layer *layers;
    int G;              /* shared phonemes (of the first layer) */
    char **phonemes;    /* (G) IPA */
} nk_profile_result;

/* For every matched layer of r present in both folders: the numbers above,
 * profile_similarity.json, and per layer a tanglegram_LL figure (A's tree left,
 * B's right, lines joining the same phoneme) and profile_corr_LL (R). */
int nk_compare_profiles(const char *naps_a, const char *naps_b, const nk_compare_result *r, const char *name_a,
                        const char *name_b, const nk_plot_style *style, const char *dir, nk_profile_result *out);
void nk_profile_result_free(nk_profile_result *r);

/* ---- topographic maps ----
 *
 * The units of one layer of both models are laid out together on one 2-D grid
 * by a self-organizing map (som.h) of their profiles over the shared phonemes
 * (z-scored per unit), one unit per cell. Per phoneme, each model's image is
 * its units' profile values at their cells, smoothed by a Gaussian (σ = 1
 * cell, normalized over that model's cells). "Similar activations" shows as
 * a high correlation between the two models' images of the same phoneme. */

typedef struct {
    int layer;          /* default 0 */
    int epochs;         /* default 1000 */
    unsigned long long seed; /* default 1 */
} nk_topo_config;

typedef struct {
    int layer, rows, cols, G;
    double same, different; /* mean image correlation across models, same / different phoneme */
    double qerr;            /* SOM quantization error */
} nk_topo_result;

void nk_topo_config_default(nk_topo_config *c);
/* Writes topomap_LL figures (per phoneme: A's and B's image) and topomap_LL.json
 * (grid, cell of every unit, per-phoneme image correlations). */
int nk_compare_topomaps(const char *naps_a, const char *naps_b, const nk_topo_config *c, const char *name_a,
                        const char *name_b, const nk_plot_style *style, const char *dir, nk_topo_result *out);
void nk_topo_result_free(nk_topo_result *r);

/* ---- figures (compare_plot.c, on plot.h's conventions) ---- */

/* Two dendrograms facing each other over the same n leaves: A's tree on the
 * left (root left), B's on the right (root right), a line joining each leaf's
 * two positions. Za, Zb (n-1, 4); labels (n). */
int nk_plot_tanglegram(const double *Za, const double *Zb, int n, const char *const *labels, const char *name_a,
                       const char *name_b, const nk_plot_style *style, const char *path);
/* One panel per phoneme: A's and B's (rows, cols) images side by side, one
 * diverging colour scale for all. img_a, img_b (G, rows, cols); NaN cells blank. */
int nk_plot_topomaps(const float *img_a, const float *img_b, int G, int rows, int cols, const char *const *labels,
                     const char *name_a, const char *name_b, const nk_plot_style *style, const char *path);

/* ---- summary.md ---- */

typedef struct {
    const char *name_a, *name_b, *path_a, *path_b;
    const char *const *corpora;
    int n_corpora;
    size_t n_used, n_failed; /* utterances */
    double seconds;          /* audio (from the corpus headers) */
} nk_compare_info;

/* A short Markdown report of the findings with the numbers; p and t may be NULL. */
int nk_compare_summary_write(const nk_compare_info *info, const nk_compare_result *r, const nk_profile_result *p,
                             const nk_topo_result *t, const char *dir);

#endif
