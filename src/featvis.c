/* Activation maximization in the model's input space: gradient ascent with
 * Adam on X (F, T), or on its frequency-scaled 2D DCT coefficients, with L2,
 * total variation, blur, jitter and clamping as regularizers (Erhan et al.
 * 2009; Simonyan et al. 2013; Mahendran & Vedaldi 2015; Yosinski et al. 2015;
 * Olah et al. 2017). */
#include "napkit/featvis.h"

#include "napkit/attrib.h"
#include "napkit/error.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const nk_fv_objective_names[] = {"unit", "channel", "layer", "logit", NULL};

void nk_featvis_options_default(nk_featvis_options *o) {
    *o = (nk_featvis_options){.objective = NK_FV_CHANNEL, .layer = -1, .channel = 0, .frame = -1, .T = 200,
                              .steps = 500, .lr = 0.05, .l2 = 1e-3, .tv = 1e-2, .blur_every = 10,
                              .blur_sigma = 1, .jitter_t = 4, .jitter_f = 0, .clamp = 3, .smooth = 1,
                              .init_std = 0.1, .seed = 1};
}

/* An integer uniform in [−j, j] from the same seeded stream as the noise. */
static int uniform_int(uint64_t *state, int j) {
    if (j == 0) return 0;
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (int)((z ^ (z >> 31)) % (uint64_t)(2 * j + 1)) - j;
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

/* Writes the objective's seeds into ws's gradient at layer l; returns h. */
static double seed_objective(const nk_featvis_options *o, nk_workspace *ws, int l) {
    const int C = nk_ws_arch(ws)->layers[l].out, Tl = nk_ws_frames(ws, l);
    const float *A = nk_ws_act(ws, l);
    float *g = nk_ws_grad(ws, l);
    double h = 0;
    if (o->objective == NK_FV_LAYER) {
        for (size_t i = 0; i < (size_t)C * Tl; i++) h += (double)A[i] * A[i] / ((double)C * Tl), g[i] = 2 * A[i] / ((float)C * Tl);
        return h;
    }
    const float *a = A + (size_t)o->channel * Tl;
    float *gc = g + (size_t)o->channel * Tl;
    int t0 = 0, t1 = Tl;
    if (o->objective == NK_FV_UNIT || (o->objective == NK_FV_LOGIT && o->frame >= 0))
        t0 = o->frame >= 0 ? (o->frame < Tl ? o->frame : Tl - 1) : Tl / 2, t1 = t0 + 1;
    for (int t = t0; t < t1; t++) h += a[t] / (double)(t1 - t0), gc[t] = 1.0f / (t1 - t0);
    return h;
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

int nk_featvis(const nk_model *m, const nk_featvis_options *o, float *x, double *trace) {
    const nk_arch *a = nk_model_arch(m);
    const int F = nk_arch_input_dim(a), T = o->T, L = a->n_layers;
    const int l = o->objective == NK_FV_LOGIT || o->layer < 0 ? L - 1 : o->layer;
    if (l >= L) return nk_fail(NK_ERR_ARG, "featvis: layer %d is outside the model's %d layers", o->layer, L);
    if (o->objective != NK_FV_LAYER && (o->channel < 0 || o->channel >= a->layers[l].out))
        return nk_fail(NK_ERR_ARG, "featvis: channel %d is outside layer %d's %d channels", o->channel, l,
                       a->layers[l].out);
    if (o->steps < 1 || !(o->lr > 0) || !(o->l2 >= 0) || !(o->tv >= 0) || !(o->init_std >= 0) ||
        o->jitter_t < 0 || o->jitter_f < 0 || (o->blur_every > 0 && !(o->blur_sigma > 0)) ||
        !isfinite(o->lr + o->l2 + o->tv + o->init_std + o->clamp))
        return nk_fail(NK_ERR_ARG, "featvis: steps ≥ 1, lr > 0, finite penalties ≥ 0 and blur σ > 0 are required");
    const size_t N = (size_t)F * T;
    nk_workspace *ws = NULL;
    dct2 d = {0};
    float *mem = calloc(6 * N, sizeof *mem);
    int rc = mem ? nk_workspace_new(m, &ws) : nk_fail(NK_ERR_NOMEM, "featvis: out of memory");
    if (!rc && o->smooth) rc = dct2_new(&d, F, T);
    float *p = mem, *xj = mem + N, *g = mem + 2 * N, *m1 = mem + 3 * N, *m2 = mem + 4 * N, *tmp = mem + 5 * N;
    uint64_t state = o->seed;
    if (!rc) {
        for (size_t i = 0; i < N; i++) x[i] = (float)(o->init_std * nk_attr_normal(&state));
        if (o->smooth) dct2_apply(&d, x, p, 0, 1);
    }
    for (int s = 0; s < o->steps && !rc; s++) {
        if (o->smooth) dct2_apply(&d, p, x, 1, 0);
        const int dt = uniform_int(&state, o->jitter_t), df = uniform_int(&state, o->jitter_f);
        roll(x, F, T, df, dt, xj);
        if ((rc = nk_model_forward(m, ws, xj, T))) break;
        const double h = seed_objective(o, ws, l);
        if (trace) trace[s] = h;
        if ((rc = nk_model_backward(m, ws, l, NK_RULE_GRADIENT, 0))) break;
        roll(nk_ws_input_grad(ws), F, T, -df, -dt, g);
        add_penalties(x, F, T, o->l2, o->tv, g);
        float *param = o->smooth ? p : x;
        if (o->smooth) dct2_apply(&d, g, g, 0, 0);
        const double c1 = 1 - pow(0.9, s + 1), c2 = 1 - pow(0.999, s + 1);
        for (size_t i = 0; i < N; i++) { // Adam, ascending
            m1[i] = 0.9f * m1[i] + 0.1f * g[i];
            m2[i] = 0.999f * m2[i] + 0.001f * g[i] * g[i];
            param[i] += (float)(o->lr * (m1[i] / c1) / (sqrt(m2[i] / c2) + 1e-8));
        }
        const int do_blur = o->blur_every > 0 && (s + 1) % o->blur_every == 0;
        if (!(o->clamp > 0) && !do_blur) continue;
        if (o->smooth) dct2_apply(&d, p, x, 1, 0);
        if (do_blur) blur(x, F, T, o->blur_sigma, tmp);
        for (size_t i = 0; o->clamp > 0 && i < N; i++) x[i] = fmaxf(fminf(x[i], (float)o->clamp), (float)-o->clamp);
        if (o->smooth) dct2_apply(&d, x, p, 0, 1);
    }
    if (!rc && o->smooth) dct2_apply(&d, p, x, 1, 0);
    for (size_t i = 0; !rc && o->clamp > 0 && i < N; i++) x[i] = fmaxf(fminf(x[i], (float)o->clamp), (float)-o->clamp);
    if (o->smooth) dct2_free(&d);
    nk_workspace_free(ws);
    free(mem);
    return rc;
}
