/* Time of every attribution method for one 10 s utterance (1000 frames) with
 * the default settings (SmoothGrad 25 samples, IG 50 steps, occlusion 10-frame
 * full-band patches at stride 5), plus one forward and one backward pass for
 * scale. The model is models/en.safetensors when it exists, else a randomly
 * initialized models/arch/small.json (the same architecture). */
#include "napkit/napkit.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(void) {
    fprintf(stderr, "bench_attrib: %s\n", nk_last_error());
    exit(1);
}

int main(void) {
    nk_model *m;
    const char *which = "models/en.safetensors";
    if (access(which, R_OK) == 0) {
        if (nk_model_load(which, &m)) die();
    } else {
        nk_arch a;
        which = "models/arch/small.json (random init)";
        if (nk_arch_load("models/arch/small.json", &a) || nk_model_new(&a, &m)) die();
        nk_arch_free(&a);
        nk_model_init(m, 1);
    }
    const int F = nk_arch_input_dim(nk_model_arch(m)), T = 1000;
    uint64_t seed = 3;
    float *x = malloc(sizeof(float) * F * T), *map = malloc(sizeof(float) * F * T);
    for (int i = 0; i < F * T; i++) x[i] = (float)nk_rng_normal(&seed);
    nk_workspace *ws;
    nk_target tg;
    if (nk_workspace_new(m, &ws) || nk_target_parse("logit:5:250", &tg) || nk_target_resolve(m, ws, x, T, NULL, 0, &tg))
        die();
    printf("model %s, %d features x %d frames (10 s), target logit:5:250, OpenMP threads %d\n", which, F, T,
           omp_get_max_threads());
    double t0 = now();
    for (int i = 0; i < 5; i++) nk_model_forward(m, ws, x, T);
    double fwd = (now() - t0) / 5;
    t0 = now();
    for (int i = 0; i < 5; i++) nk_target_backward(m, ws, &tg, NK_RULE_GRADIENT);
    printf("%-16s %9.1f ms\n%-16s %9.1f ms\n", "forward", fwd * 1e3, "backward", (now() - t0) / 5 * 1e3);
    for (int k = 0; k < NK_ATTR_N_METHODS; k++) {
        nk_attr_options o;
        nk_attr_options_default(&o);
        o.method = (nk_attr_method)k;
        nk_attr_report r;
        t0 = now();
        if (nk_attribute(m, ws, x, T, &tg, &o, map, &r)) die();
        double dt = now() - t0;
        printf("%-16s %9.1f ms", nk_attr_method_names[k], dt * 1e3);
        if (k == NK_ATTR_IG || k >= NK_ATTR_LRP_EPS) printf("   completeness error %.3g of y = %.4g", r.completeness, r.y);
        printf("\n");
    }
    free(x), free(map);
    nk_workspace_free(ws);
    nk_model_free(m);
    return 0;
}
