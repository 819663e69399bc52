/* Attribution: which parts of the input features X (F, T) make a target y
 * large. Every method runs on the model's cached forward and its backward with
 * seeds at the target (model.h); docs/attribution.md has the formulas.
 *
 *   nk_target tg;  nk_target_parse("logit:5:40", &tg);
 *   nk_target_resolve(m, ws, x, T, NULL, 0, &tg);      // checks it against X
 *   nk_attr_options o;  nk_attr_options_default(&o);  o.method = NK_ATTR_IG;
 *   float *map = malloc(F * T * sizeof *map);           // (F, T), or (T) for Grad-CAM
 *   nk_attr_report r;
 *   nk_attribute(m, ws, x, T, &tg, &o, map, &r);        // r.completeness: |ΣIG − Δy|
 *
 * Targets (the scalar y that is explained):
 *   logit:K:T    the logit of class K at output frame T (after the last layer's activation)
 *   token:N      the summed logit of the N-th token over its frames (N from 0): the
 *                Viterbi alignment of a given transcript, else the greedy path
 *   unit:L:C:T   the output of unit C of layer L at its frame T (after the activation)
 *   ctc          the CTC log-likelihood log p(text | X) of a given transcript, else of
 *                the greedy transcript (= −loss, so positive maps support the text) */
#ifndef NAPKIT_ATTRIB_H
#define NAPKIT_ATTRIB_H

#include "napkit/model.h"
#include "napkit/textgrid.h"

#include <stdint.h>

typedef enum {
    NK_ATTR_SALIENCY,       /* ∂y/∂X */
    NK_ATTR_GXI,            /* X ⊙ ∂y/∂X */
    NK_ATTR_SMOOTHGRAD,     /* mean of ∂y/∂X at X + N(0, σ²) */
    NK_ATTR_IG,             /* integrated gradients from a baseline X̄ */
    NK_ATTR_GUIDED,         /* guided backpropagation */
    NK_ATTR_GRADCAM,        /* Grad-CAM time profile (T), upsampled to input frames */
    NK_ATTR_GUIDED_GRADCAM, /* guided backprop ⊙ Grad-CAM */
    NK_ATTR_OCCLUSION,      /* y(X) − y(X with a patch set to the baseline), averaged */
    NK_ATTR_LRP_EPS,        /* LRP-ε */
    NK_ATTR_LRP_AB,         /* LRP-αβ */
    NK_ATTR_LRP_GAMMA,      /* LRP-γ */
    NK_ATTR_N_METHODS
} nk_attr_method;
/* "saliency", "gxi", "smoothgrad", "ig", "guided", "gradcam", "guided-gradcam",
 * "occlusion", "lrp-eps", "lrp-ab", "lrp-gamma", NULL */
extern const char *const nk_attr_method_names[];

typedef enum { NK_TARGET_LOGIT, NK_TARGET_TOKEN, NK_TARGET_UNIT, NK_TARGET_CTC } nk_target_kind;

typedef struct {
    nk_target_kind kind;
    int layer;   /* layer whose output holds y (LOGIT/TOKEN: the last) */
    int channel; /* class or unit */
    int t0, t1;  /* y = Σ over that layer's frames [t0, t1) */
    int token;   /* TOKEN: which token (resolved into channel, t0, t1) */
    int *labels; /* CTC: the transcript (malloc'd by nk_target_resolve) */
    int n_labels;
} nk_target;

/* Parses "logit:K:T", "token:N", "unit:L:C:T" or "ctc". */
int nk_target_parse(const char *spec, nk_target *out);
/* Checks the target against the model and X (F, T) and fills in what depends
 * on them: a token's class and frames, a CTC target's transcript. labels (U
 * class indices) is the reference transcript or NULL (then the greedy decoding
 * of X is used). Runs a forward pass on ws. */
int nk_target_resolve(const nk_model *m, nk_workspace *ws, const float *x, int T, const int *labels,
                      int U, nk_target *tg);
void nk_target_clear(nk_target *tg);
/* A transcript as labels over the model's alphabet (normalized first; the
 * blank must be class 0). *labels is malloc'd (U entries). */
int nk_target_labels(const nk_arch *a, const char *text, int **labels, int *U);
/* y of the forward pass held in ws (a resolved target). */
double nk_target_value(const nk_workspace *ws, const nk_target *tg);
/* Seeds y on the forward pass held in ws and runs the backward pass (all
 * gradients of ws then hold ∂y/∂·). */
int nk_target_backward(const nk_model *m, nk_workspace *ws, const nk_target *tg, nk_backward_rule rule);
/* Runs a forward pass on X and leaves ∂y/∂X (F, T) in grad; *y receives y(X)
 * (may be NULL). rule GUIDED gives guided backprop. */
int nk_target_gradient(const nk_model *m, nk_workspace *ws, const float *x, int T, const nk_target *tg,
                       nk_backward_rule rule, float *grad, double *y);

typedef enum {
    NK_LRP_INPUT_ZB,   /* z^B with l, h = the utterance's min and max of X (default) */
    NK_LRP_INPUT_W2,   /* w² */
    NK_LRP_INPUT_SAME  /* the rule of the other layers */
} nk_lrp_input_rule;
extern const char *const nk_lrp_input_names[]; /* "zb", "w2", "same", NULL */

typedef struct {
    nk_attr_method method;
    /* SmoothGrad: samples, noise σ as a fraction of max(X) − min(X), seed. */
    int samples;
    double noise;
    uint64_t seed;
    /* Integrated gradients: m = steps to start from, then doubled (every gradient
     * reused: the new points fall halfway between the old) while the map misses
     * more than ig_tolerance of y(X) − y(X̄) (|ΣIG − Δy| > tol·max(|Δy|, |ΣIG|)),
     * up to max_steps. ig_tolerance 0: exactly `steps`. IG and occlusion:
     * baseline X̄ (F, T), NULL = zeros. */
    int steps, max_steps;
    double ig_tolerance;
    const float *baseline;
    /* Grad-CAM layer (−1: the one below the last) and the half-width in that
     * layer's frames of the window around the target whose gradients are
     * averaged (< 0: all frames, as in the paper). */
    int cam_layer;
    int cam_window;
    /* Occlusion: patch size and stride in frames and bands (patch_f ≤ 0: all bands). */
    int patch_t, patch_f, stride_t, stride_f;
    /* LRP: ε (ε and γ rules), γ, α (β = α − 1), the input layer's rule. */
    double eps, gamma, alpha;
    nk_lrp_input_rule lrp_input;
} nk_attr_options;

/* The share of y(X) − y(X̄) an IG map may miss by default (ig_tolerance). */
#define NK_IG_TOLERANCE 0.05

/* SmoothGrad 25 samples, σ 0.15, seed 1; IG from 50 steps, doubled up to 3200
 * until within 5 % (a trained model's path is steep in places); Grad-CAM layer −1 with
 * all frames; occlusion 10 frames × all bands, stride 5; ε 1e-9, γ 0.25, α 1; z^B. */
void nk_attr_options_default(nk_attr_options *o);

typedef struct {
    int rows;            /* F, or 1 for Grad-CAM (the map is then (T)) */
    double y;            /* the target at X */
    double y_baseline;   /* IG: the target at X̄ */
    int steps;           /* IG: the steps the map was summed over */
    double sum;          /* Σ of the map */
    /* IG: |ΣIG − (y(X) − y(X̄))|. LRP: |ΣR(X) − ΣR(top)|, the relevance lost on the
     * way down (to biases and stabilizers). 0 for the other methods. */
    double completeness;
    /* IG: completeness / max(|Δy|, |ΣIG|), the share the tolerance judges
     * (the map's sum stands in when Δy is tiny). 0 for the other methods. */
    double completeness_share;
} nk_attr_report;

/* The attribution map of a resolved target: map is (F, T), or (T) for Grad-CAM.
 * rep may be NULL. Leaves an arbitrary forward pass in ws. */
int nk_attribute(const nk_model *m, nk_workspace *ws, const float *x, int T, const nk_target *tg,
                 const nk_attr_options *o, float *map, nk_attr_report *rep);

/* ---- the pieces, for callers that want them alone ---- */

/* Grad-CAM at layer l for the forward pass in ws: cam (T_l) = ReLU(Σ_c α_c A^l[c, ·])
 * with α_c the mean of ∂y/∂A^l[c, t] over the window (see nk_attr_options). */
int nk_gradcam_layer(const nk_model *m, nk_workspace *ws, const nk_target *tg, int l, int window,
                     float *cam);
/* Stretches a profile over layer l's frames (T_l) onto T input frames: each layer
 * frame sits at the centre of its receptive field, linear in between, held flat
 * beyond the first and last centres. */
void nk_attr_upsample(const nk_arch *a, int l, const float *v, int T_l, float *out, int T);

/* Grad-CAM (rows = 1: map is (T)) or guided Grad-CAM (rows = F: map is (F, T)),
 * as o->method says. */
int nk_attr_gradcam(const nk_model *m, nk_workspace *ws, const float *x, int T, const nk_target *tg,
                    const nk_attr_options *o, float *map, int *rows);
/* Occlusion: map (F, T) is the mean over the patches covering each cell of
 * y(X) − y(X with the patch set to the baseline). */
int nk_attr_occlusion(const nk_model *m, nk_workspace *ws, const float *x, int T, const nk_target *tg,
                      const nk_attr_options *o, float *map);

/* LRP from the target down to X for the forward pass in ws: relevance starts as
 * y's own terms (A^l[c, t] over the span) and is redistributed layer by layer;
 * rel is (F, T). *lost receives ΣR(top) − ΣR(X) (may be NULL). */
int nk_lrp(const nk_model *m, nk_workspace *ws, const nk_target *tg, nk_attr_method rule,
           const nk_attr_options *o, float *rel, double *lost);

/* The attribution figure (path as in plot.h: .pdf/.svg/.png, or a stem for all
 * three): X (F, T) as a spectrogram; the map (rows = F: (F, T); rows = 1: a
 * time profile (T)) over a grey copy of it, red > 0 > blue, its axis titled
 * map_label (NULL: "attribution"); then each tier of `tiers` (NULL: none) and a
 * time axis at frame_s seconds per frame. title and settings (the command line,
 * for the metadata) may be NULL. */
int nk_attr_plot(const float *x, int F, int T, const float *map, int rows, double frame_s, const nk_textgrid *tiers,
                 const char *map_label, const char *title, const char *settings, const char *path);

/* Runs job(ctx, i, ws_i, buf_i) for i = 0 … n−1 on up to omp_get_max_threads()
 * threads, each with its own workspace (ws and fresh ones) and buffer of
 * buf_floats, then combine(ctx, i, buf_i) on the calling thread in the order of
 * i — so sums come out the same for any thread count. OpenBLAS runs one thread
 * per worker meanwhile. The first failing job's error is returned. */
typedef int (*nk_attr_job)(void *ctx, int i, nk_workspace *ws, float *buf);
typedef void (*nk_attr_combine)(void *ctx, int i, const float *buf);
int nk_attr_parallel(const nk_model *m, nk_workspace *ws, int n, size_t buf_floats, nk_attr_job job,
                     nk_attr_combine combine, void *ctx);
/* Input frames [*lo, *hi) that frames [t0, t1) of layer l read (before
 * clipping to the utterance: padding lies outside). */
void nk_attr_input_span(const nk_arch *a, int l, int t0, int t1, int *lo, int *hi);

#endif
