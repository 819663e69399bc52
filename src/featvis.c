/* Activation maximization in the model's input space: gradient ascent with
 * Adam on X (F, T) through a parameterization (frequency-scaled 2D DCT
 * coefficients, utterance normalization, a tanh bound), with blur, jitter and
 * optional L2 and total-variation penalties as regularizers (Erhan et al.
 * 2009; Simonyan et al. 2013; Mahendran & Vedaldi 2015; Yosinski et al. 2015;
 * Olah et al. 2017). */
#include "napkit/featvis.h"

#include "napkit/attrib.h"
#include "napkit/error.h"
#include "napkit/rng.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const nk_fv_objective_names[] = {"unit", "channel", "layer", "logit", NULL};

void nk_featvis_options_default(nk_featvis_options *o) {
    *o = (nk_featvis_options){.objective = NK_FV_CHANNEL, .layer = -1, .channel = 0, .frame = -1, .T = 200,
                              .steps = 500, .lr = 0.1, .l2 = 0, .tv = 0, .blur_every = 5, .blur_sigma = 1,
                              .jitter_t = 4, .jitter_f = 0, .normalize = 1, .bound = 3, .smooth = 1, .init_std = 0.1,
                              .seed = 1};
}

/* An integer uniform in [−j, j] from the same seeded stream as the noise. */
static int uniform_int(uint64_t *state, int j) {
    return j ? (int)nk_rng_below(state, (uint64_t)(2 * j + 1)) - j : 0;
}

/* out (F, T) = X rolled by (df, dt) cells (cyclically); sign −1 rolls back. */
static void roll(const float *x, int F, int T, int df, int dt, float *out) {
    for (int f = 0; f < F; f++)
        for (int t = 0; t < T; t++)
            out[(size_t)(((f + df) % F + F) % F) * T + ((t + dt) % T + T) % T] = x[(size_t)f * T + t];
}

/* Separable Gaussian blur in place; taps that fall outside are dropped and the
 * kernel renormalized. tmp is (F, T). */
static void blur(float *x, int F, int T, double sigma, float *tmp) {
    const int r = (int)ceil(3 * sigma);
    for (int pass = 0; pass < 2; pass++) {
        const int rows = pass ? T : F, len = pass ? F : T;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < len; j++) {
                double acc = 0, wsum = 0;
                for (int d = -r; d <= r; d++) {
                    if (j + d < 0 || j + d >= len) continue;
                    double w = exp(-0.5 * d * d / (sigma * sigma));
                    size_t k = pass ? (size_t)(j + d) * T + i : (size_t)i * T + j + d;
                    acc += w * x[k], wsum += w;
                }
                tmp[pass ? (size_t)j * T + i : (size_t)i * T + j] = (float)(acc / wsum);
            }
        memcpy(x, tmp, (size_t)F * T * sizeof *x);
    }
}

/* Orthonormal 2D DCT-II and its inverse through FFTW, with the smooth
 * parameterization's scale: X = idct(scale ⊙ P), so ∂J/∂P = scale ⊙ dct(∂J/∂X). */
typedef struct {
    int F, T;
    float *buf, *scale;
    fftwf_plan fwd, inv;
} dct2;

static int dct2_new(dct2 *d, int F, int T) {
    d->F = F, d->T = T;
    d->buf = fftwf_malloc(sizeof(float) * F * T);
    d->scale = malloc(sizeof(float) * F * T);
    if (!d->buf || !d->scale) return nk_fail(NK_ERR_NOMEM, "featvis: out of memory");
    d->fwd = fftwf_plan_r2r_2d(F, T, d->buf, d->buf, FFTW_REDFT10, FFTW_REDFT10, FFTW_ESTIMATE);
    d->inv = fftwf_plan_r2r_2d(F, T, d->buf, d->buf, FFTW_REDFT01, FFTW_REDFT01, FFTW_ESTIMATE);
    /* ∝ 1 / spatial frequency (cycles per cell), √(F·T) at DC: a unit step of a
     * low-frequency coefficient then moves X about as much as a unit step of a
     * cell does without the parameterization. */
    const double n = F > T ? F : T, dc = sqrt((double)F * T);
    for (int a = 0; a < F; a++)
        for (int b = 0; b < T; b++) {
            double r = sqrt((a / (2.0 * F)) * (a / (2.0 * F)) + (b / (2.0 * T)) * (b / (2.0 * T)));
            d->scale[(size_t)a * T + b] = (float)(dc / (fmax(r, 1 / (2 * n)) * 2 * n));
        }
    return d->fwd && d->inv ? NK_OK : nk_fail(NK_ERR_NOMEM, "featvis: no FFTW plan for %d x %d", F, T);
}

static void dct2_free(dct2 *d) {
    if (d->fwd) fftwf_destroy_plan(d->fwd);
    if (d->inv) fftwf_destroy_plan(d->inv);
    fftwf_free(d->buf);
    free(d->scale);
}

/* Per-index factors of the orthonormal transform over FFTW's unnormalized one. */
static double ortho(int k, int n, int inverse) {
    return inverse ? (k ? 1 / sqrt(2.0 * n) : 1 / sqrt((double)n)) : (k ? 1 / sqrt(2.0 * n) : 0.5 / sqrt((double)n));
}

/* out = scale ⊙ dct(in) (forward), or idct(scale ⊙ in) (inverse); with unscale,
 * the forward divides by the scale instead (projecting X back onto P). */
static void dct2_apply(dct2 *d, const float *in, float *out, int inverse, int unscale) {
    const size_t N = (size_t)d->F * d->T;
    for (size_t i = 0; i < N; i++) d->buf[i] = inverse ? in[i] * d->scale[i] : in[i];
    if (inverse)
        for (int a = 0; a < d->F; a++)
            for (int b = 0; b < d->T; b++) d->buf[(size_t)a * d->T + b] *= (float)(ortho(a, d->F, 1) * ortho(b, d->T, 1));
    fftwf_execute(inverse ? d->inv : d->fwd);
    for (int a = 0; a < d->F; a++)
        for (int b = 0; b < d->T; b++) {
            size_t i = (size_t)a * d->T + b;
            if (inverse) out[i] = d->buf[i];
            else {
                float v = d->buf[i] * (float)(ortho(a, d->F, 0) * ortho(b, d->T, 0));
                out[i] = unscale ? v / d->scale[i] : v * d->scale[i];
            }
        }
}

/* Seeds ∂h/∂A^l (*pre = 0) or ∂h/∂z^l (*pre = 1) for the objective, written
 * into g (C_l, T_l); returns h.
 * unit and logit read the pre-activation z^l: a ReLU unit silent for the
 * current input has no gradient through A = max(z, 0) and would never move,
 * while z always has one (and where A > 0 the two agree).
 * channel reads A^l, the unit's firing averaged over frames: the mean of z would
 * also reward raising the frames where the unit stays silent, and a unit that
 * fires in a few frames (as speech units do) ends up barely silent everywhere.
 * While no frame fires, its seed is the frame with the largest z instead (h is
 * then 0), so a silent channel is woken up rather than left without a gradient. */
static double objective_seeds(const nk_featvis_options *o, nk_workspace *ws, int l, float *g, int *pre) {
    const int C = nk_ws_arch(ws)->layers[l].out, Tl = nk_ws_frames(ws, l);
    const float *A = nk_ws_act(ws, l), *z = nk_ws_preact(ws, l) + (size_t)o->channel * Tl;
    float *gc = g + (size_t)o->channel * Tl;
    double h = 0;
    memset(g, 0, (size_t)C * Tl * sizeof *g);
    *pre = 0;
    if (o->objective == NK_FV_LAYER) {
        for (size_t i = 0; i < (size_t)C * Tl; i++) h += (double)A[i] * A[i] / ((double)C * Tl), g[i] = 2 * A[i] / ((float)C * Tl);
        return h;
    }
    if (o->objective == NK_FV_CHANNEL) {
        int best = 0;
        for (int t = 0; t < Tl; t++) h += A[(size_t)o->channel * Tl + t] / (double)Tl, gc[t] = 1.0f / Tl;
        for (int t = 1; t < Tl; t++) best = z[t] > z[best] ? t : best;
        if (nk_ws_arch(ws)->layers[l].activation != NK_ACT_RELU || z[best] > 0) return h;
        memset(gc, 0, (size_t)Tl * sizeof *gc);
        gc[best] = 1.0f / Tl, *pre = 1;
        return h;
    }
    int t0 = 0, t1 = Tl;
    if (o->objective == NK_FV_UNIT || o->frame >= 0)
        t0 = o->frame >= 0 ? (o->frame < Tl ? o->frame : Tl - 1) : Tl / 2, t1 = t0 + 1;
    for (int t = t0; t < t1; t++) h += z[t] / (double)(t1 - t0), gc[t] = 1.0f / (t1 - t0);
    *pre = 1;
    return h;
}

/* ∂h/∂X into gx (F, T) after a forward pass of X: seeds at the output of layer l
 * go through the model's backward from l; seeds at its pre-activation cross the
 * layer's own conv backward first, then the model's backward from l − 1.
 * scratch holds nk_conv1d_scratch(layer l) floats, gl C_l·T_l. */
static int objective_gradient(const nk_model *m, nk_workspace *ws, const nk_featvis_options *o, int l, float *gl,
                              float *scratch, float *gx, double *h) {
    const nk_layer_spec *s = &nk_model_arch(m)->layers[l];
    const int F = nk_arch_input_dim(nk_model_arch(m)), T = nk_ws_frames(ws, -1), Tl = nk_ws_frames(ws, l);
    int pre, rc;
    *h = objective_seeds(o, ws, l, gl, &pre);
    if (!pre) {
        memcpy(nk_ws_grad(ws, l), gl, (size_t)s->out * Tl * sizeof *gl);
        rc = nk_model_backward(m, ws, l, NK_RULE_GRADIENT, 0);
    } else {
        const float *w = nk_model_params((nk_model *)m) + nk_model_layer_offset(m, l);
        float *below = l ? nk_ws_grad(ws, l - 1) : gx; /* zeroed by the forward pass / here */
        if (!l) memset(gx, 0, (size_t)F * T * sizeof *gx);
        nk_conv1d_backward(s, w, l ? nk_ws_act(ws, l - 1) : nk_ws_input(ws), nk_ws_frames(ws, l - 1), gl, Tl, below,
                           NULL, NULL, scratch);
        if (!l) return NK_OK;
        rc = nk_model_backward(m, ws, l - 1, NK_RULE_GRADIENT, 0);
    }
    if (!rc) memcpy(gx, nk_ws_input_grad(ws), (size_t)F * T * sizeof *gx);
    return rc;
}

/* ∂/∂X of −λ₂·mean(X²) − λ_tv·mean of squared neighbour differences, added to g. */
static void add_penalties(const float *x, int F, int T, double l2, double tv, float *g) {
    const double N = (double)F * T;
    for (int f = 0; f < F; f++)
        for (int t = 0; t < T; t++) {
            size_t i = (size_t)f * T + t;
            double d = 2 * x[i] * l2, s = 0;
            if (t > 0) s += x[i] - x[i - 1];
            if (t + 1 < T) s += x[i] - x[i + 1];
            if (f > 0) s += x[i] - x[i - T];
            if (f + 1 < F) s += x[i] - x[i + T];
            g[i] -= (float)((d + 2 * tv * s) / N);
        }
}

/* The parameterization P → Y → X:
 *   Y = idct(scale ⊙ P) (smooth) or P;
 *   with normalize, Y is z-normalized over all cells (and P rescaled to match)
 *       before X is made from it: the front end's utterance normalization, so X
 *       has the level and contrast of every input the model was trained on and
 *       h cannot grow by scaling X up (without it h is about linear in the
 *       contrast of X and the ascent runs into whatever bound there is).
 *       Renormalizing P each step, not only dividing by std Y in the forward
 *       map, keeps an Adam step of lr the same relative change of X all along;
 *   X = bound·tanh(Y / bound) (bound > 0), or Y: a soft bound with a gradient
 *       everywhere, where a hard clamp would stop the cells it holds. */
typedef struct {
    const nk_featvis_options *o;
    size_t N;
    dct2 d;
    float *p, *y; /* P and Y (N each) */
} param;

/* Y = the image of P. */
static void param_image(param *q) {
    if (q->o->smooth) dct2_apply(&q->d, q->p, q->y, 1, 0);
    else memcpy(q->y, q->p, q->N * sizeof *q->y);
}

/* P = the coefficients of the image Y. */
static void param_set_image(param *q) {
    if (q->o->smooth) dct2_apply(&q->d, q->y, q->p, 0, 1);
    else memcpy(q->p, q->y, q->N * sizeof *q->p);
}

/* x = X(P), Y kept for param_backward; with normalize, P and Y are first
 * rescaled so that Y has mean 0 and standard deviation 1. */
static void param_forward(param *q, float *x) {
    const nk_featvis_options *o = q->o;
    param_image(q);
    if (o->normalize) {
        double s = 0, ss = 0;
        for (size_t i = 0; i < q->N; i++) s += q->y[i];
        const double mean = s / q->N;
        for (size_t i = 0; i < q->N; i++) ss += (q->y[i] - mean) * (q->y[i] - mean);
        const double std = sqrt(ss / q->N) + 1e-30;
        for (size_t i = 0; i < q->N; i++) q->y[i] = (float)((q->y[i] - mean) / std);
        param_set_image(q);
    }
    for (size_t i = 0; i < q->N; i++) x[i] = o->bound > 0 ? (float)(o->bound * tanh(q->y[i] / o->bound)) : q->y[i];
}

/* g: ∂J/∂X in, ∂J/∂P out (x = X(P) from the last param_forward). */
static void param_backward(param *q, const float *x, float *g) {
    const nk_featvis_options *o = q->o;
    if (o->bound > 0)
        for (size_t i = 0; i < q->N; i++) g[i] *= (float)(1 - (x[i] / o->bound) * (x[i] / o->bound));
    if (o->normalize) { /* through Z = (Y − mean Y) / std Y at std Y = 1: (I − 1·1ᵀ/N − Y·Yᵀ/N) */
        double gm = 0, gy = 0;
        for (size_t i = 0; i < q->N; i++) gm += g[i], gy += (double)g[i] * q->y[i];
        gm /= q->N, gy /= q->N;
        for (size_t i = 0; i < q->N; i++) g[i] = (float)(g[i] - gm - q->y[i] * gy);
    }
    if (o->smooth) dct2_apply(&q->d, g, g, 0, 0);
}

/* Blurs the image Y and takes P back from it. Blurring Y, not X, keeps the
 * parameterization's normalization and bound out of it. */
static void param_blur(param *q, int F, int T, float *tmp) {
    param_image(q);
    blur(q->y, F, T, q->o->blur_sigma, tmp);
    param_set_image(q);
}

static int check_options(const nk_arch *a, const nk_featvis_options *o, int l) {
    if (l >= a->n_layers)
        return nk_fail(NK_ERR_ARG, "featvis: layer %d is outside the model's %d layers", o->layer, a->n_layers);
    if (o->objective != NK_FV_LAYER && (o->channel < 0 || o->channel >= a->layers[l].out))
        return nk_fail(NK_ERR_ARG, "featvis: channel %d is outside layer %d's %d channels", o->channel, l,
                       a->layers[l].out);
    if (o->steps < 1 || !(o->lr > 0) || !(o->l2 >= 0) || !(o->tv >= 0) || !(o->init_std >= 0) ||
        o->jitter_t < 0 || o->jitter_f < 0 || (o->blur_every > 0 && !(o->blur_sigma > 0)) ||
        !isfinite(o->lr + o->l2 + o->tv + o->init_std + o->bound))
        return nk_fail(NK_ERR_ARG, "featvis: steps ≥ 1, lr > 0, finite penalties ≥ 0 and blur σ > 0 are required");
    if (o->normalize && !(o->init_std > 0))
        return nk_fail(NK_ERR_ARG, "featvis: a normalized input needs a random start (init > 0)");
    return NK_OK;
}

/* One Adam step ascending J (bias-corrected moments m1, m2; s counts from 0). */
static void adam_step(float *param_, const float *g, float *m1, float *m2, size_t N, double lr, int s) {
    const double c1 = 1 - pow(0.9, s + 1), c2 = 1 - pow(0.999, s + 1);
    for (size_t i = 0; i < N; i++) {
        m1[i] = 0.9f * m1[i] + 0.1f * g[i];
        m2[i] = 0.999f * m2[i] + 0.001f * g[i] * g[i];
        param_[i] += (float)(lr * (m1[i] / c1) / (sqrt(m2[i] / c2) + 1e-8));
    }
}

/* Buffers of one run: the rolled input, ∂J/∂X (then ∂J/∂P), Adam's moments,
 * a spare (F, T), and the objective layer's seeds and conv scratch. */
typedef struct {
    float *mem, *xj, *g, *m1, *m2, *tmp, *gl, *scratch;
} buffers;

static int buffers_new(buffers *b, const nk_arch *a, int l, int T, param *q) {
    const size_t N = (size_t)nk_arch_input_dim(a) * T;
    int *lens = malloc(sizeof(int) * a->n_layers), rc = lens ? nk_arch_frames(a, T, lens) : NK_ERR_NOMEM;
    if (rc == NK_OK) {
        b->mem = calloc(7 * N, sizeof *b->mem);
        b->gl = malloc(sizeof(float) * a->layers[l].out * lens[l]);
        b->scratch = malloc(sizeof(float) * (nk_conv1d_scratch(&a->layers[l], lens[l]) + 1));
    }
    free(lens);
    if (rc == NK_ERR_ARG) return rc; /* reported by nk_arch_frames */
    if (rc || !b->mem || !b->gl || !b->scratch) return nk_fail(NK_ERR_NOMEM, "featvis: out of memory");
    b->xj = b->mem + N, b->g = b->mem + 2 * N, b->m1 = b->mem + 3 * N, b->m2 = b->mem + 4 * N, b->tmp = b->mem + 5 * N;
    q->p = b->mem, q->y = b->mem + 6 * N;
    return NK_OK;
}

static void buffers_free(buffers *b) { free(b->mem), free(b->gl), free(b->scratch); }

/* ∂J/∂P into b->g for x = X(P), the input rolled by a random jitter first
 * (transformation robustness: the pattern must work wherever it lands); *h is
 * the objective of the rolled input. */
static int ascent_gradient(const nk_model *m, nk_workspace *ws, const nk_featvis_options *o, int l, param *q,
                           const float *x, buffers *b, uint64_t *state, double *h) {
    const int F = nk_arch_input_dim(nk_model_arch(m)), T = o->T;
    const int dt = uniform_int(state, o->jitter_t), df = uniform_int(state, o->jitter_f);
    roll(x, F, T, df, dt, b->xj);
    int rc = nk_model_forward(m, ws, b->xj, T);
    if (!rc) rc = objective_gradient(m, ws, o, l, b->gl, b->scratch, b->tmp, h);
    if (rc) return rc;
    roll(b->tmp, F, T, -df, -dt, b->g);
    add_penalties(x, F, T, o->l2, o->tv, b->g);
    param_backward(q, x, b->g);
    return NK_OK;
}

int nk_featvis(const nk_model *m, const nk_featvis_options *o, float *x, double *trace) {
    const nk_arch *a = nk_model_arch(m);
    const int F = nk_arch_input_dim(a), T = o->T;
    const int l = o->objective == NK_FV_LOGIT || o->layer < 0 ? a->n_layers - 1 : o->layer;
    int rc = check_options(a, o, l);
    if (rc) return rc;
    const size_t N = (size_t)F * T;
    nk_workspace *ws = NULL;
    param q = {.o = o, .N = N};
    buffers b = {0};
    rc = buffers_new(&b, a, l, T, &q);
    if (!rc) rc = nk_workspace_new(m, &ws);
    if (!rc && o->smooth) rc = dct2_new(&q.d, F, T);
    uint64_t state = o->seed;
    if (!rc) {
        for (size_t i = 0; i < N; i++) q.y[i] = (float)(o->init_std * nk_rng_normal(&state));
        param_set_image(&q);
    }
    for (int s = 0; s < o->steps && !rc; s++) {
        /* Blur between steps, never after the last: the result is an ascent step's. */
        if (o->blur_every > 0 && s > 0 && s % o->blur_every == 0) param_blur(&q, F, T, b.tmp);
        param_forward(&q, x);
        double h = 0;
        if (!(rc = ascent_gradient(m, ws, o, l, &q, x, &b, &state, &h))) adam_step(q.p, b.g, b.m1, b.m2, N, o->lr, s);
        if (trace) trace[s] = h;
    }
    if (!rc) param_forward(&q, x);
    if (!rc && trace && !(rc = nk_model_forward(m, ws, x, T))) /* the result's own h, unjittered */
        trace[o->steps] = objective_seeds(o, ws, l, b.gl, &(int){0});
    if (o->smooth) dct2_free(&q.d);
    nk_workspace_free(ws);
    buffers_free(&b);
    return rc;
}
