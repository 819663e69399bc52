/* Saliency, guided backprop and Grad-CAM against PyTorch on a tiny conv net
 * (tests/fixtures/make_attrib.py: guided ReLU as a custom autograd function,
 * Grad-CAM computed directly with autograd on the layer's output). */
#include "check.h"
#include "napkit/napkit.h"

#define DIR "tests/fixtures/attrib/"

static nk_model *m;
static nk_workspace *ws;
static nk_array x;

static void check_against(const char *name, const float *got, size_t n) {
    nk_array want = {0};
    CHECK_OK(nk_npy_read_f32(name, &want));
    CHECK(nk_array_count(&want) == n);
    if (nk_array_count(&want) != n) return;
    double err = check_max_rel_err(got, want.data, n);
    if (err > 1e-5) fprintf(stderr, "%s: max relative error %.3g\n", name, err);
    CHECK(err <= 1e-5);
    nk_array_free(&want);
}

static void input_map(const char *spec, const int *labels, int U, nk_attr_method method, const char *ref) {
    const int T = (int)x.shape[1];
    nk_target tg;
    nk_attr_options o;
    nk_attr_options_default(&o);
    o.method = method;
    float *map = malloc(sizeof(float) * 8 * T);
    CHECK_OK(nk_target_parse(spec, &tg));
    CHECK_OK(nk_target_resolve(m, ws, x.data, T, labels, U, &tg));
    CHECK_OK(nk_attribute(m, ws, x.data, T, &tg, &o, map, NULL));
    check_against(ref, map, (size_t)8 * T);
    nk_target_clear(&tg);
    free(map);
}

static const int labels[] = {2, 3, 4, 2}; /* meta.json */

static void test_saliency(void) { input_map("logit:2:5", NULL, 0, NK_ATTR_SALIENCY, DIR "saliency_logit.npy"); }
static void test_guided_logit(void) { input_map("logit:2:5", NULL, 0, NK_ATTR_GUIDED, DIR "guided_logit.npy"); }
static void test_guided_ctc(void) { input_map("ctc", labels, 4, NK_ATTR_GUIDED, DIR "guided_ctc.npy"); }

static void test_gradcam(void) {
    const int T = (int)x.shape[1];
    nk_target tg;
    CHECK_OK(nk_target_parse("logit:2:5", &tg));
    CHECK_OK(nk_target_resolve(m, ws, x.data, T, NULL, 0, &tg));
    const int Tl = nk_ws_frames(ws, 2);
    float *cam = malloc(sizeof(float) * Tl);
    CHECK_OK(nk_gradcam_layer(m, ws, &tg, 2, -1, cam));
    check_against(DIR "gradcam_global.npy", cam, Tl);
    CHECK_OK(nk_gradcam_layer(m, ws, &tg, 2, 2, cam));
    check_against(DIR "gradcam_window.npy", cam, Tl);
    /* The method: the global profile upsampled to input frames; guided Grad-CAM
     * is guided backprop times that, per frame. */
    nk_attr_options o;
    nk_attr_options_default(&o);
    o.method = NK_ATTR_GRADCAM, o.cam_layer = 2;
    float *map = malloc(sizeof(float) * 8 * T), *up = malloc(sizeof(float) * T), *gb = malloc(sizeof(float) * 8 * T);
    nk_attr_report r;
    CHECK_OK(nk_gradcam_layer(m, ws, &tg, 2, -1, cam));
    nk_attr_upsample(nk_model_arch(m), 2, cam, Tl, up, T);
    CHECK_OK(nk_attribute(m, ws, x.data, T, &tg, &o, map, &r));
    CHECK(r.rows == 1);
    for (int t = 0; t < T; t++) CHECK_NEAR(map[t], up[t], 1e-7);
    o.method = NK_ATTR_GUIDED_GRADCAM;
    CHECK_OK(nk_attribute(m, ws, x.data, T, &tg, &o, map, &r));
    CHECK(r.rows == 8);
    CHECK_OK(nk_target_gradient(m, ws, x.data, T, &tg, NK_RULE_GUIDED, gb, NULL));
    for (int i = 0; i < 8 * T; i++) CHECK_NEAR(map[i], gb[i] * up[i % T], 1e-7);
    free(cam), free(map), free(up), free(gb);
}

int main(void) {
    if (nk_model_load(DIR "tiny.safetensors", &m) || nk_npy_read_f32(DIR "x.npy", &x) || nk_workspace_new(m, &ws)) {
        fprintf(stderr, "fixture: %s\n", nk_last_error());
        return 1;
    }
    RUN(test_saliency);
    RUN(test_guided_logit);
    RUN(test_guided_ctc);
    RUN(test_gradcam);
    nk_array_free(&x);
    nk_workspace_free(ws);
    nk_model_free(m);
    return check_summary();
}
