/* Attribution methods built on the target gradient: saliency, gradient×input,
 * SmoothGrad, integrated gradients, guided backprop, and the dispatcher that
 * also reaches Grad-CAM, occlusion and LRP. */
#include "napkit/attrib.h"

#include "napkit/error.h"
#include "napkit/parallel.h"
#include "napkit/rng.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const nk_attr_method_names[] = {"saliency", "gxi", "smoothgrad", "ig", "guided", "gradcam",
                                            "guided-gradcam", "occlusion", "lrp-eps", "lrp-ab",
                                            "lrp-gamma", NULL};
const char *const nk_lrp_input_names[] = {"zb", "w2", "same", NULL};

void nk_attr_options_default(nk_attr_options *o) {
    memset(o, 0, sizeof *o);
    o->method = NK_ATTR_SALIENCY;
    o->samples = 25;
    o->noise = 0.15;
    o->seed = 1;
    o->steps = 50;
    o->max_steps = 3200;
    o->ig_tolerance = NK_IG_TOLERANCE;
    o->cam_layer = -1;
    o->cam_window = -1;
    o->patch_t = 10, o->patch_f = 0, o->stride_t = 5, o->stride_f = 0;
    o->eps = 1e-9, o->gamma = 0.25, o->alpha = 1;
    o->lrp_input = NK_LRP_INPUT_ZB;
}

/* nk_attr_parallel on nk_parallel_for: worker w uses workspace w[w] (the
 * caller's for worker 0) and buffer w; combine runs in job order. */
typedef struct {
    nk_workspace **w;
    float *buf;
    size_t buf_floats;
    nk_attr_job job;
    nk_attr_combine combine;
    void *ctx;
} attr_run;

static int attr_work(void *ctx, int worker, size_t i) {
    attr_run *r = ctx;
    return r->job(r->ctx, (int)i, r->w[worker], r->buf + (size_t)worker * r->buf_floats);
}

static int attr_commit(void *ctx, int worker, size_t i, int work_rc, const char *work_error) {
    attr_run *r = ctx;
    if (work_rc) return nk_fail(work_rc, "%s", work_error);
    r->combine(r->ctx, (int)i, r->buf + (size_t)worker * r->buf_floats);
    return NK_OK;
}

int nk_attr_parallel(const nk_model *m, nk_workspace *ws, int n, size_t buf_floats, nk_attr_job job,
                     nk_attr_combine combine, void *ctx) {
    const int W = nk_parallel_workers(n > 0 ? (size_t)n : 0, omp_get_max_threads());
    attr_run r = {calloc(W, sizeof(nk_workspace *)), malloc((size_t)W * buf_floats * sizeof(float)), buf_floats,
                  job, combine, ctx};
    int rc = r.w && r.buf ? NK_OK : nk_fail(NK_ERR_NOMEM, "attribution: out of memory for %d workers", W);
    if (r.w) r.w[0] = ws;
    for (int w = 1; !rc && w < W; w++) rc = nk_workspace_new(m, &r.w[w]);
    if (!rc) rc = nk_parallel_for(n > 0 ? (size_t)n : 0, W, attr_work, attr_commit, &r);
    for (int w = 1; r.w && w < W; w++) nk_workspace_free(r.w[w]);
    free(r.w), free(r.buf);
    return rc;
}

/* What the SmoothGrad and IG jobs share: the problem and the map being summed. */
typedef struct {
    const nk_model *m;
    const float *x;
    size_t n;
    int T;
    const nk_target *tg;
    const nk_attr_options *o;
    float *map;
    double sigma;
    double a0, da; /* IG: job i evaluates the path at α = a0 + i·da */
} grad_job;

/* SmoothGrad (Smilkov et al. 2017): the mean gradient over noisy copies of X.
 * Sample i draws its noise from the stream seeded with seed + i·C, so the map
 * does not depend on how samples are spread over threads. */
static int smoothgrad_job(void *ctx, int i, nk_workspace *ws, float *buf) {
    const grad_job *c = ctx;
    uint64_t state = c->o->seed + (uint64_t)i * 0x632BE59BD9B4E019ull;
    for (size_t k = 0; k < c->n; k++) buf[k] = c->x[k] + (float)(c->sigma * nk_rng_normal(&state));
    return nk_target_gradient(c->m, ws, buf, c->T, c->tg, NK_RULE_GRADIENT, buf + c->n, NULL);
}

/* Integrated gradients (Sundararajan et al. 2017), right Riemann sum over m steps:
 * IG = (X − X̄) ⊙ (1/m) Σ_{i=1..m} ∂y/∂X (X̄ + (i/m)(X − X̄)). */
static int ig_job(void *ctx, int i, nk_workspace *ws, float *buf) {
    const grad_job *c = ctx;
    const float a = (float)(c->a0 + i * c->da), *bl = c->o->baseline;
    for (size_t k = 0; k < c->n; k++) buf[k] = (bl ? bl[k] : 0) + a * (c->x[k] - (bl ? bl[k] : 0));
    return nk_target_gradient(c->m, ws, buf, c->T, c->tg, NK_RULE_GRADIENT, buf + c->n, NULL);
}

static void add_gradient(void *ctx, int i, const float *buf) {
    const grad_job *c = ctx;
    for (size_t k = 0; k < c->n; k++) c->map[k] += buf[c->n + k];
}

static int smoothgrad(const nk_model *m, nk_workspace *ws, const float *x, size_t n, int T, const nk_target *tg,
                      const nk_attr_options *o, float *map) {
    float lo = x[0], hi = x[0];
    for (size_t i = 1; i < n; i++) lo = x[i] < lo ? x[i] : lo, hi = x[i] > hi ? x[i] : hi;
    grad_job c = {m, x, n, T, tg, o, map, o->noise * (hi - lo), 0, 0};
    memset(map, 0, n * sizeof *map);
    int rc = nk_attr_parallel(m, ws, o->samples, 2 * n, smoothgrad_job, add_gradient, &c);
    for (size_t i = 0; i < n; i++) map[i] /= o->samples;
    return rc;
}

/* Σ_k (X − X̄)_k · G_k / m: the sum of the map that gradient sums G over m points give. */
static double ig_total(const float *x, const float *bl, const float *g, size_t n, int m) {
    double total = 0;
    for (size_t k = 0; k < n; k++) total += (double)(x[k] - (bl ? bl[k] : 0)) * g[k];
    return total / m;
}

static int integrated_gradients(const nk_model *m, nk_workspace *ws, const float *x, size_t n, int T,
                                const nk_target *tg, const nk_attr_options *o, float *map, nk_attr_report *rep) {
    const float *bl = o->baseline;
    float *zero = bl ? NULL : calloc(n, sizeof *zero);
    if (!bl && !zero) return nk_fail(NK_ERR_NOMEM, "ig: out of memory");
    int rc = nk_model_forward(m, ws, bl ? bl : zero, T);
    free(zero);
    if (rc) return rc;
    rep->y_baseline = nk_target_value(ws, tg);
    const double dy = rep->y - rep->y_baseline;
    /* map sums the gradients at the points i/steps; each doubling adds the
     * midpoints (2i − 1)/(2·steps), which makes it the sum at 2·steps. */
    grad_job c = {m, x, n, T, tg, o, map, 0, 1.0 / o->steps, 1.0 / o->steps};
    memset(map, 0, n * sizeof *map);
    int steps = o->steps, jobs = o->steps;
    for (;;) {
        if ((rc = nk_attr_parallel(m, ws, jobs, 2 * n, ig_job, add_gradient, &c))) return rc;
        double total = ig_total(x, bl, map, n, steps);
        rep->completeness = fabs(total - dy);
        const double scale = fmax(fabs(dy), fabs(total));
        rep->completeness_share = scale > 0 ? rep->completeness / scale : 0;
        if (o->ig_tolerance == 0 || !(rep->completeness_share > o->ig_tolerance) || 2L * steps > o->max_steps)
            break;
        c.a0 = 0.5 / steps, c.da = 1.0 / steps;
        jobs = steps;
        steps *= 2;
    }
    for (size_t k = 0; k < n; k++) map[k] *= (x[k] - (bl ? bl[k] : 0)) / steps;
    rep->steps = steps;
    return NK_OK;
}

static int check_options(const nk_attr_options *o, const nk_target *tg) {
    if (o->method < 0 || o->method >= NK_ATTR_N_METHODS)
        return nk_fail(NK_ERR_ARG, "attribution: unknown method %d", (int)o->method);
    if (o->method == NK_ATTR_SMOOTHGRAD && (o->samples < 1 || !(o->noise >= 0) || !isfinite(o->noise)))
        return nk_fail(NK_ERR_ARG, "smoothgrad: needs samples ≥ 1 and a finite noise level ≥ 0");
    if (o->method == NK_ATTR_IG && (o->steps < 1 || !(o->ig_tolerance >= 0)))
        return nk_fail(NK_ERR_ARG, "ig: needs steps ≥ 1 and a tolerance ≥ 0 (got %d, %g)", o->steps,
                       o->ig_tolerance);
    if (o->method >= NK_ATTR_LRP_EPS && tg->kind == NK_TARGET_CTC)
        return nk_fail(NK_ERR_ARG, "%s: LRP needs a logit, token or unit target, not the CTC loss",
                       nk_attr_method_names[o->method]);
    if (o->method >= NK_ATTR_LRP_EPS &&
        (!(o->eps >= 0) || !(o->gamma >= 0) || !(o->alpha >= 1) || !isfinite(o->eps + o->gamma + o->alpha)))
        return nk_fail(NK_ERR_ARG, "lrp: needs ε ≥ 0, γ ≥ 0 and α ≥ 1 (β = α − 1)");
    return NK_OK;
}

int nk_attribute(const nk_model *m, nk_workspace *ws, const float *x, int T, const nk_target *tg,
                 const nk_attr_options *o, float *map, nk_attr_report *rep) {
    const nk_arch *a = nk_model_arch(m);
    const size_t n = (size_t)nk_arch_input_dim(a) * T;
    nk_attr_report dummy;
    if (!rep) rep = &dummy;
    memset(rep, 0, sizeof *rep);
    rep->rows = nk_arch_input_dim(a);
    int rc = check_options(o, tg);
    if (rc) return rc;
    if (!(rc = nk_model_forward(m, ws, x, T))) rep->y = nk_target_value(ws, tg);
    switch (rc ? NK_ATTR_N_METHODS : o->method) {
    case NK_ATTR_SALIENCY:
    case NK_ATTR_GXI:
    case NK_ATTR_GUIDED: /* on the forward pass just made */
        rc = nk_target_backward(m, ws, tg, o->method == NK_ATTR_GUIDED ? NK_RULE_GUIDED : NK_RULE_GRADIENT);
        if (!rc) memcpy(map, nk_ws_input_grad(ws), n * sizeof *map);
        if (!rc && o->method == NK_ATTR_GXI)
            for (size_t i = 0; i < n; i++) map[i] *= x[i];
        break;
    case NK_ATTR_SMOOTHGRAD: rc = smoothgrad(m, ws, x, n, T, tg, o, map); break;
    case NK_ATTR_IG: rc = integrated_gradients(m, ws, x, n, T, tg, o, map, rep); break;
    case NK_ATTR_GRADCAM:
    case NK_ATTR_GUIDED_GRADCAM: rc = nk_attr_gradcam(m, ws, x, T, tg, o, map, &rep->rows); break;
    case NK_ATTR_OCCLUSION: rc = nk_attr_occlusion(m, ws, x, T, tg, o, map); break;
    case NK_ATTR_LRP_EPS:
    case NK_ATTR_LRP_AB:
    case NK_ATTR_LRP_GAMMA:
        rc = nk_lrp(m, ws, tg, o->method, o, map, &rep->completeness);
        rep->completeness = fabs(rep->completeness);
        break;
    default: break;
    }
    if (rc) return rc;
    const size_t count = rep->rows == 1 ? (size_t)T : n;
    for (size_t i = 0; i < count; i++) rep->sum += map[i];
    return NK_OK;
}
