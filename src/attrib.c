/* Attribution methods built on the target gradient: saliency, gradient×input,
 * SmoothGrad, integrated gradients, guided backprop, and the dispatcher that
 * also reaches Grad-CAM, occlusion and LRP. */
#include "napkit/attrib.h"

#include "napkit/error.h"

#include <math.h>
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
    o->cam_layer = -1;
    o->cam_window = -1;
    o->patch_t = 10, o->patch_f = 0, o->stride_t = 5, o->stride_f = 0;
    o->eps = 1e-9, o->gamma = 0.25, o->alpha = 1;
    o->lrp_input = NK_LRP_INPUT_ZB;
}

double nk_attr_normal(uint64_t *state) {
    double u[2];
    for (int i = 0; i < 2; i++) { /* splitmix64 → (0, 1] */
        uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        u[i] = ((double)(z >> 11) + 1) * 0x1.0p-53;
    }
    return sqrt(-2 * log(u[0])) * cos(2 * M_PI * u[1]);
}

/* SmoothGrad (Smilkov et al. 2017): the mean gradient over noisy copies of X. */
static int smoothgrad(const nk_model *m, nk_workspace *ws, const float *x, size_t n, int T,
                      const nk_target *tg, const nk_attr_options *o, float *map, float *xn, float *g) {
    float lo = x[0], hi = x[0];
    for (size_t i = 1; i < n; i++) lo = x[i] < lo ? x[i] : lo, hi = x[i] > hi ? x[i] : hi;
    const double sigma = o->noise * (hi - lo);
    uint64_t state = o->seed;
    memset(map, 0, n * sizeof *map);
    for (int s = 0; s < o->samples; s++) {
        for (size_t i = 0; i < n; i++) xn[i] = x[i] + (float)(sigma * nk_attr_normal(&state));
        int rc = nk_target_gradient(m, ws, xn, T, tg, NK_RULE_GRADIENT, g, NULL);
        if (rc) return rc;
        for (size_t i = 0; i < n; i++) map[i] += g[i] / o->samples;
    }
    return NK_OK;
}

/* Integrated gradients (Sundararajan et al. 2017), right Riemann sum:
 * IG = (X − X̄) ⊙ (1/m) Σ_{i=1..m} ∂y/∂X (X̄ + (i/m)(X − X̄)). */
static int integrated_gradients(const nk_model *m, nk_workspace *ws, const float *x, size_t n, int T,
                                const nk_target *tg, const nk_attr_options *o, float *map, float *xi,
                                float *g, nk_attr_report *rep) {
    const float *bl = o->baseline;
    int rc = nk_model_forward(m, ws, bl ? bl : memset(xi, 0, n * sizeof *xi), T);
    if (rc) return rc;
    rep->y_baseline = nk_target_value(ws, tg);
    memset(map, 0, n * sizeof *map);
    for (int s = 1; s <= o->steps; s++) {
        const float a = (float)s / o->steps;
        for (size_t i = 0; i < n; i++) {
            float b = bl ? bl[i] : 0;
            xi[i] = b + a * (x[i] - b);
        }
        if ((rc = nk_target_gradient(m, ws, xi, T, tg, NK_RULE_GRADIENT, g, NULL))) return rc;
        for (size_t i = 0; i < n; i++) map[i] += g[i];
    }
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        map[i] *= (x[i] - (bl ? bl[i] : 0)) / o->steps;
        total += map[i];
    }
    rep->completeness = fabs(total - (rep->y - rep->y_baseline));
    return NK_OK;
}

static int check_options(const nk_attr_options *o, const nk_target *tg) {
    if (o->method < 0 || o->method >= NK_ATTR_N_METHODS)
        return nk_fail(NK_ERR_ARG, "attribution: unknown method %d", (int)o->method);
    if (o->method == NK_ATTR_SMOOTHGRAD && (o->samples < 1 || !(o->noise >= 0) || !isfinite(o->noise)))
        return nk_fail(NK_ERR_ARG, "smoothgrad: needs samples ≥ 1 and a finite noise level ≥ 0");
    if (o->method == NK_ATTR_IG && o->steps < 1)
        return nk_fail(NK_ERR_ARG, "ig: needs steps ≥ 1 (got %d)", o->steps);
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
    /* Two scratch inputs: a modified X and a gradient. */
    float *buf = malloc(2 * n * sizeof *buf);
    if (!buf) return nk_fail(NK_ERR_NOMEM, "attribution: out of memory for %zu frames", (size_t)T);
    float *x2 = buf, *g = buf + n;
    if (!(rc = nk_model_forward(m, ws, x, T))) rep->y = nk_target_value(ws, tg);
    switch (rc ? NK_ATTR_N_METHODS : o->method) {
    case NK_ATTR_SALIENCY:
    case NK_ATTR_GXI:
    case NK_ATTR_GUIDED:
        rc = nk_target_gradient(m, ws, x, T, tg, o->method == NK_ATTR_GUIDED ? NK_RULE_GUIDED : NK_RULE_GRADIENT,
                                map, NULL);
        if (!rc && o->method == NK_ATTR_GXI)
            for (size_t i = 0; i < n; i++) map[i] *= x[i];
        break;
    case NK_ATTR_SMOOTHGRAD: rc = smoothgrad(m, ws, x, n, T, tg, o, map, x2, g); break;
    case NK_ATTR_IG: rc = integrated_gradients(m, ws, x, n, T, tg, o, map, x2, g, rep); break;
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
    free(buf);
    if (rc) return rc;
    const size_t count = rep->rows == 1 ? (size_t)T : n;
    for (size_t i = 0; i < count; i++) rep->sum += map[i];
    return NK_OK;
}
