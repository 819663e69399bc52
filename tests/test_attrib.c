/* Attribution methods against independent computations: central finite
 * differences of the target for saliency (every target kind), the definition
 * of SmoothGrad, gradient×input and occlusion re-evaluated by plain forward
 * passes, integrated gradients' completeness on the small model, Grad-CAM's
 * upsampling on a known geometry, and bad targets and options. */
#include "check.h"
#include "napkit/napkit.h"

#include <omp.h>
#include <stdint.h>

/* The fixture's tiny net (tests/fixtures/make_attrib.py): weights large enough
 * that units are clearly on or off, so finite differences rarely cross a kink. */
static nk_model *tiny(void) {
    nk_model *m = NULL;
    return nk_model_load("tests/fixtures/attrib/tiny.safetensors", &m) ? NULL : m;
}

static float *randn(size_t n, uint64_t seed) {
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = (float)nk_rng_normal(&seed);
    return x;
}

/* y at X through a plain forward pass (the reference every method is judged by). */
static double y_at(const nk_model *m, nk_workspace *ws, const float *x, int T, const nk_target *tg) {
    if (nk_model_forward(m, ws, x, T)) return NAN;
    return nk_target_value(ws, tg);
}

/* Saliency of `spec` against central differences of y over every input cell. */
static void check_saliency_fd(const char *spec, const int *labels, int U) {
    nk_model *m = tiny();
    nk_workspace *ws;
    CHECK(m && !nk_workspace_new(m, &ws));
    const int F = 8, T = 24;
    float *x = randn((size_t)F * T, 11), *map = malloc(sizeof(float) * F * T), *fd = malloc(sizeof(float) * F * T);
    nk_target tg;
    CHECK_OK(nk_target_parse(spec, &tg));
    CHECK_OK(nk_target_resolve(m, ws, x, T, labels, U, &tg));
    nk_attr_options o;
    nk_attr_options_default(&o);
    nk_attr_report r;
    CHECK_OK(nk_attribute(m, ws, x, T, &tg, &o, map, &r));
    const float h = 1e-2f;
    for (int i = 0; i < F * T; i++) {
        float keep = x[i];
        x[i] = keep + h;
        double up = y_at(m, ws, x, T, &tg);
        x[i] = keep - h;
        double down = y_at(m, ws, x, T, &tg);
        x[i] = keep;
        fd[i] = (float)((up - down) / (2 * h));
    }
    /* A cell whose ±h step crosses a ReLU kink has a one-sided difference quotient:
     * allow one such cell in a hundred, and no other deviation above 0.2% of the
     * largest gradient. */
    double max = 0;
    for (int i = 0; i < F * T; i++) max = fabs(fd[i]) > max ? fabs(fd[i]) : max;
    int off = 0;
    for (int i = 0; i < F * T; i++)
        if (fabs(map[i] - fd[i]) > 2e-3 * max) {
            fprintf(stderr, "%s: cell %d: saliency %g, finite difference %g\n", spec, i, map[i], fd[i]);
            off++;
        }
    CHECK(off <= F * T / 100);
    CHECK_NEAR(r.y, y_at(m, ws, x, T, &tg), 1e-6);
    CHECK(max > 1e-3); /* the check saw a real gradient */
    nk_target_clear(&tg);
    free(x), free(map), free(fd);
    nk_workspace_free(ws);
    nk_model_free(m);
}

static void test_saliency_logit(void) { check_saliency_fd("logit:2:5", NULL, 0); }
static void test_saliency_unit(void) { check_saliency_fd("unit:1:4:7", NULL, 0); }
static void test_saliency_token_greedy(void) { check_saliency_fd("token:0", NULL, 0); }
static void test_saliency_token_aligned(void) {
    const int labels[] = {2, 3, 4};
    check_saliency_fd("token:1", labels, 3);
}
static void test_saliency_ctc(void) {
    const int labels[] = {2, 3, 4, 2};
    check_saliency_fd("ctc", labels, 4);
}

/* Token targets: the aligned token covers frames where its label is emitted;
 * the greedy token is the argmax class over its frames. */
static void test_token_targets(void) {
    nk_model *m = tiny();
    nk_workspace *ws;
    CHECK(m && !nk_workspace_new(m, &ws));
    const int F = 8, T = 24, K = 5;
    float *x = randn((size_t)F * T, 5);
    const int labels[] = {2, 3, 4};
    nk_target tg;
    CHECK_OK(nk_target_parse("token:2", &tg));
    CHECK_OK(nk_target_resolve(m, ws, x, T, labels, 3, &tg));
    CHECK(tg.channel == 4 && tg.t0 < tg.t1 && tg.t1 <= nk_ws_frames(ws, 3));
    CHECK_OK(nk_target_parse("token:0", &tg));
    CHECK_OK(nk_target_resolve(m, ws, x, T, NULL, 0, &tg));
    const int TL = nk_ws_frames(ws, 3);
    const float *lp = nk_ws_log_probs(ws);
    for (int t = tg.t0; t < tg.t1; t++)
        for (int k = 0; k < K; k++) CHECK(lp[k * TL + t] <= lp[tg.channel * TL + t]);
    CHECK(tg.channel != 0);
    CHECK_OK(nk_target_parse("token:99", &tg));
    CHECK(nk_target_resolve(m, ws, x, T, NULL, 0, &tg) == NK_ERR_ARG);
    CHECK(nk_target_resolve(m, ws, x, T, labels, 3, &tg) == NK_ERR_ARG);
    free(x);
    nk_workspace_free(ws);
    nk_model_free(m);
}

/* Runs one method on the tiny model at logit:2:5; returns the map (F, T). */
static float *run(nk_attr_options *o, const float *x, nk_attr_report *r) {
    nk_model *m = tiny();
    nk_workspace *ws;
    nk_target tg;
    float *map = malloc(sizeof(float) * 8 * 24);
    CHECK(m && !nk_workspace_new(m, &ws));
    CHECK_OK(nk_target_parse("logit:2:5", &tg));
    CHECK_OK(nk_target_resolve(m, ws, x, 24, NULL, 0, &tg));
    CHECK_OK(nk_attribute(m, ws, x, 24, &tg, o, map, r));
    nk_workspace_free(ws);
    nk_model_free(m);
    return map;
}

static void test_gxi_and_smoothgrad(void) {
    const size_t n = 8 * 24;
    float *x = randn(n, 9);
    nk_attr_options o;
    nk_attr_report r;
    nk_attr_options_default(&o);
    float *sal = run(&o, x, &r);
    o.method = NK_ATTR_GXI;
    float *gxi = run(&o, x, &r);
    for (size_t i = 0; i < n; i++) CHECK_NEAR(gxi[i], sal[i] * x[i], 1e-7);
    o.method = NK_ATTR_SMOOTHGRAD;
    o.noise = 0;
    float *sg0 = run(&o, x, &r);
    CHECK(check_max_rel_err(sg0, sal, n) < 1e-5); /* no noise: the mean of equal gradients */
    /* With noise: the mean of saliency maps at X + σ·N(0, 1) from the same stream. */
    o.noise = 0.1, o.samples = 4, o.seed = 42;
    float *sg = run(&o, x, &r), *want = calloc(n, sizeof *want), *xn = malloc(n * sizeof *xn);
    float lo = x[0], hi = x[0];
    for (size_t i = 0; i < n; i++) lo = fminf(lo, x[i]), hi = fmaxf(hi, x[i]);
    nk_attr_options plain;
    nk_attr_options_default(&plain);
    for (int s = 0; s < 4; s++) {
        uint64_t state = 42 + (uint64_t)s * 0x632BE59BD9B4E019ull; /* sample s's stream */
        for (size_t i = 0; i < n; i++) xn[i] = x[i] + (float)(0.1 * (hi - lo) * nk_rng_normal(&state));
        float *g = run(&plain, xn, &r);
        for (size_t i = 0; i < n; i++) want[i] += g[i] / 4;
        free(g);
    }
    CHECK(check_max_rel_err(sg, want, n) < 1e-5);
    CHECK(check_max_rel_err(sg, sal, n) > 1e-3); /* the noise did something */
    free(x), free(sal), free(gxi), free(sg0), free(sg), free(want), free(xn);
}

/* Occlusion with non-overlapping full-band patches and with single cells:
 * each cell's value is y(X) − y(X with its patch at the baseline). */
static void test_occlusion(void) {
    nk_model *m = tiny();
    nk_workspace *ws;
    CHECK(m && !nk_workspace_new(m, &ws));
    const int F = 8, T = 24;
    float *x = randn((size_t)F * T, 4), *map = malloc(sizeof(float) * F * T), *xo = malloc(sizeof(float) * F * T);
    float *base = randn((size_t)F * T, 8);
    nk_target tg;
    CHECK_OK(nk_target_parse("logit:2:5", &tg));
    CHECK_OK(nk_target_resolve(m, ws, x, T, NULL, 0, &tg));
    const double y = y_at(m, ws, x, T, &tg);
    nk_attr_options o;
    nk_attr_options_default(&o);
    o.method = NK_ATTR_OCCLUSION, o.patch_t = 3, o.stride_t = 3, o.baseline = base;
    CHECK_OK(nk_attribute(m, ws, x, T, &tg, &o, map, NULL));
    for (int p = 0; p < T / 3; p++) {
        memcpy(xo, x, sizeof(float) * F * T);
        for (int f = 0; f < F; f++)
            for (int t = 3 * p; t < 3 * p + 3; t++) xo[f * T + t] = base[f * T + t];
        double drop = y - y_at(m, ws, xo, T, &tg);
        for (int f = 0; f < F; f++)
            for (int t = 3 * p; t < 3 * p + 3; t++) CHECK_NEAR(map[f * T + t], drop, 1e-5);
    }
    o.patch_t = o.patch_f = o.stride_t = o.stride_f = 1, o.baseline = NULL;
    CHECK_OK(nk_attribute(m, ws, x, T, &tg, &o, map, NULL));
    int nonzero = 0;
    for (int i = 0; i < F * T; i++) {
        memcpy(xo, x, sizeof(float) * F * T);
        xo[i] = 0;
        CHECK_NEAR(map[i], y - y_at(m, ws, xo, T, &tg), 1e-5);
        nonzero += map[i] != 0;
    }
    CHECK(nonzero > F * T / 4);
    /* Overlapping patches still cover every cell (no NaN from a zero count). */
    o.patch_t = 10, o.stride_t = 4, o.patch_f = 3, o.stride_f = 2;
    CHECK_OK(nk_attribute(m, ws, x, T, &tg, &o, map, NULL));
    for (int i = 0; i < F * T; i++) CHECK(isfinite(map[i]));
    free(x), free(map), free(xo), free(base);
    nk_workspace_free(ws);
    nk_model_free(m);
}

/* small.json with Kaiming weights: the activations keep their scale through
 * the 11 layers, so y(X) − y(0) is not tiny. */
static nk_model *kaiming_small(nk_workspace **ws) {
    nk_arch a;
    nk_model *m = NULL;
    CHECK_OK(nk_arch_load("models/arch/small.json", &a));
    CHECK_OK(nk_model_new(&a, &m));
    nk_arch_free(&a);
    nk_model_init_with(m, NK_INIT_KAIMING, 5);
    CHECK_OK(nk_workspace_new(m, ws));
    return m;
}

/* Integrated gradients on the small model: ΣIG = y(X) − y(0) within 1% at m = 256. */
static void test_ig_completeness(void) {
    nk_workspace *ws = NULL;
    nk_model *m = kaiming_small(&ws);
    const int F = 40, T = 80;
    float *x = randn((size_t)F * T, 2), *map = malloc(sizeof(float) * F * T);
    const char *specs[] = {"logit:7:20", "unit:8:3:10", "ctc"};
    for (int s = 0; s < 3; s++) {
        nk_target tg;
        CHECK_OK(nk_target_parse(specs[s], &tg));
        CHECK_OK(nk_target_resolve(m, ws, x, T, NULL, 0, &tg));
        nk_attr_options o;
        nk_attr_options_default(&o);
        o.method = NK_ATTR_IG, o.steps = 256, o.ig_tolerance = 0;
        nk_attr_report r;
        CHECK_OK(nk_attribute(m, ws, x, T, &tg, &o, map, &r));
        const double dy = r.y - r.y_baseline;
        printf("ig %-12s y(X) %.6g  y(0) %.6g  ΣIG %.6g  completeness error %.3g (%.3g%%)\n", specs[s], r.y,
               r.y_baseline, r.sum, r.completeness, 100 * r.completeness / fabs(dy));
        CHECK(r.steps == 256);
        CHECK(fabs(dy) > 1e-3);
        CHECK(r.completeness <= 0.01 * fabs(dy));
        CHECK_NEAR(r.completeness, fabs(r.sum - dy), 1e-6 * fabs(dy) + 1e-9);
        nk_target_clear(&tg);
    }
    free(x), free(map);
    nk_workspace_free(ws);
    nk_model_free(m);
}

/* Adaptive IG doubles from `steps` until the map adds up: it stops at the first
 * doubling within the tolerance, gives the map a fixed run of that many steps
 * gives (the earlier gradients reused, not recomputed), and stops at max_steps. */
static void test_ig_adaptive(void) {
    nk_workspace *ws = NULL;
    nk_model *m = kaiming_small(&ws);
    const int F = 40, T = 80;
    const size_t n = (size_t)F * T;
    float *x = randn(n, 3), *map = malloc(sizeof(float) * n), *fixed = malloc(sizeof(float) * n);
    nk_target tg;
    CHECK_OK(nk_target_parse("ctc", &tg));
    CHECK_OK(nk_target_resolve(m, ws, x, T, NULL, 0, &tg));
    nk_attr_options o;
    nk_attr_options_default(&o);
    o.method = NK_ATTR_IG, o.steps = 2, o.ig_tolerance = 0.002;
    nk_attr_report r, f;
    CHECK_OK(nk_attribute(m, ws, x, T, &tg, &o, map, &r));
    const double dy = fabs(r.y - r.y_baseline);
    printf("adaptive ig: %d steps, completeness error %.3g (%.3g%%)\n", r.steps, r.completeness,
           100 * r.completeness / dy);
    CHECK(r.steps > 2 && r.steps <= o.max_steps && (r.steps & (r.steps - 1)) == 0);
    CHECK(r.completeness <= o.ig_tolerance * fmax(dy, fabs(r.sum)));
    /* the share the report carries is the one the tolerance judged */
    CHECK_NEAR(r.completeness_share, r.completeness / fmax(dy, fabs(r.sum)), 1e-4 * r.completeness_share + 1e-12);
    nk_attr_options one = o;
    one.steps = r.steps, one.ig_tolerance = 0;
    CHECK_OK(nk_attribute(m, ws, x, T, &tg, &one, fixed, &f));
    double diff = 0, scale = 0;
    for (size_t k = 0; k < n; k++) diff = fmax(diff, fabs(map[k] - fixed[k])), scale = fmax(scale, fabs(fixed[k]));
    CHECK(f.steps == r.steps && diff <= 1e-5 * scale);
    one.steps = r.steps / 2; /* one doubling fewer was not enough */
    CHECK_OK(nk_attribute(m, ws, x, T, &tg, &one, fixed, &f));
    CHECK(f.completeness > o.ig_tolerance * fmax(dy, fabs(f.sum)));
    nk_attr_options capped = o;
    capped.max_steps = r.steps / 2 + 1; /* the doubling to r.steps would pass it */
    CHECK_OK(nk_attribute(m, ws, x, T, &tg, &capped, fixed, &f));
    CHECK(f.steps == r.steps / 2);
    nk_target_clear(&tg);
    free(x), free(map), free(fixed);
    nk_workspace_free(ws);
    nk_model_free(m);
}

/* SmoothGrad, IG and occlusion spread samples over threads; the maps must
 * not depend on how many. */
static void test_thread_count(void) {
    const size_t n = 8 * 24;
    float *x = randn(n, 12);
    const nk_attr_method methods[] = {NK_ATTR_SMOOTHGRAD, NK_ATTR_IG, NK_ATTR_OCCLUSION};
    for (int k = 0; k < 3; k++) {
        nk_attr_options o;
        nk_attr_options_default(&o);
        o.method = methods[k], o.samples = 5, o.steps = 7;
        nk_attr_report r;
        omp_set_num_threads(1);
        float *one = run(&o, x, &r);
        omp_set_num_threads(3);
        float *three = run(&o, x, &r);
        CHECK(!memcmp(one, three, n * sizeof *one));
        free(one), free(three);
    }
    omp_set_num_threads(2);
    free(x);
}

/* Upsampling: small.json's first layer (kernel 48, stride 2, padding 23) puts
 * output frame t at input frame 2t + 0.5, the centre of frames 2t − 23 … 2t + 24. */
static void test_upsample(void) {
    nk_arch a;
    CHECK_OK(nk_arch_load("models/arch/small.json", &a));
    float v[10], out[20];
    for (int t = 0; t < 10; t++) v[t] = (float)t;
    nk_attr_upsample(&a, 0, v, 10, out, 20);
    CHECK_NEAR(out[0], 0, 0);
    for (int i = 1; i < 19; i++) CHECK_NEAR(out[i], (i - 0.5) / 2, 1e-6);
    CHECK_NEAR(out[19], 9, 0);
    /* Layer 1 adds a kernel 7, padding 3 layer: same centres. */
    nk_attr_upsample(&a, 1, v, 10, out, 20);
    for (int i = 1; i < 19; i++) CHECK_NEAR(out[i], (i - 0.5) / 2, 1e-6);
    nk_arch_free(&a);
}

static void test_bad_input(void) {
    nk_target tg;
    const char *bad[] = {"logit:1", "logit:a:3", "logit:-1:2", "unit:1:2", "token:", "ctc:1", "foo", "logit:1:2:3", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK(nk_target_parse(bad[i], &tg) == NK_ERR_ARG);
    nk_model *m = tiny();
    nk_workspace *ws;
    CHECK(m && !nk_workspace_new(m, &ws));
    const int F = 8, T = 24;
    float *x = randn((size_t)F * T, 1), *map = malloc(sizeof(float) * F * T);
    const char *outside[] = {"logit:5:0", "logit:0:12", "unit:4:0:0", "unit:1:12:0", "unit:0:0:12"};
    for (size_t i = 0; i < sizeof outside / sizeof *outside; i++) {
        CHECK_OK(nk_target_parse(outside[i], &tg));
        CHECK(nk_target_resolve(m, ws, x, T, NULL, 0, &tg) == NK_ERR_ARG);
    }
    const int blank[] = {0};
    CHECK_OK(nk_target_parse("ctc", &tg));
    CHECK(nk_target_resolve(m, ws, x, T, blank, 1, &tg) == NK_ERR_ARG);
    const int many[] = {2, 2, 2, 2, 2, 2, 2}; /* needs 13 frames, there are 12 */
    CHECK(nk_target_resolve(m, ws, x, T, many, 7, &tg) == NK_ERR_INFEASIBLE);
    CHECK_OK(nk_target_resolve(m, ws, x, T, many, 6, &tg));
    nk_attr_options o;
    nk_attr_options_default(&o);
    o.method = NK_ATTR_LRP_EPS;
    CHECK(nk_attribute(m, ws, x, T, &tg, &o, map, NULL) == NK_ERR_ARG); /* LRP of the CTC loss */
    nk_target_clear(&tg);
    CHECK_OK(nk_target_parse("logit:1:1", &tg));
    CHECK_OK(nk_target_resolve(m, ws, x, T, NULL, 0, &tg));
    o.method = NK_ATTR_IG, o.steps = 0;
    CHECK(nk_attribute(m, ws, x, T, &tg, &o, map, NULL) == NK_ERR_ARG);
    o.method = NK_ATTR_SMOOTHGRAD, o.noise = NAN;
    CHECK(nk_attribute(m, ws, x, T, &tg, &o, map, NULL) == NK_ERR_ARG);
    o.method = NK_ATTR_GRADCAM, o.cam_layer = 3;
    CHECK_OK(nk_attribute(m, ws, x, T, &tg, &o, map, NULL));
    nk_target unit;
    CHECK_OK(nk_target_parse("unit:1:0:0", &unit));
    CHECK_OK(nk_target_resolve(m, ws, x, T, NULL, 0, &unit));
    CHECK(nk_attribute(m, ws, x, T, &unit, &o, map, NULL) == NK_ERR_ARG); /* layer above the target */
    o.method = NK_ATTR_SALIENCY;
    x[5] = NAN;
    CHECK(nk_attribute(m, ws, x, T, &tg, &o, map, NULL) == NK_ERR_NUMERIC);
    free(x), free(map);
    nk_workspace_free(ws);
    nk_model_free(m);
}

int main(void) {
    RUN(test_saliency_logit);
    RUN(test_saliency_unit);
    RUN(test_saliency_token_greedy);
    RUN(test_saliency_token_aligned);
    RUN(test_saliency_ctc);
    RUN(test_token_targets);
    RUN(test_gxi_and_smoothgrad);
    RUN(test_occlusion);
    RUN(test_ig_completeness);
    RUN(test_ig_adaptive);
    RUN(test_thread_count);
    RUN(test_upsample);
    RUN(test_bad_input);
    return check_summary();
}
