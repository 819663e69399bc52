/* Map similarities (Spearman against SciPy values, SSIM against a direct
 * computation and its invariances) and the model-randomization run. */
#include "check.h"
#include "napkit/napkit.h"
#include "napkit/sanity.h"

static void test_spearman(void) {
    const float a[] = {1, 2, 2, 3}, b[] = {1, 2, 3, 4};
    CHECK_NEAR(nk_spearman(a, b, 4), 0.9486832980505139, 1e-12); /* scipy.stats.spearmanr */
    float x[20], y[20];
    for (int i = 0; i < 20; i++) x[i] = (float)(round(sin(i * 0.7) * 10) / 10), y[i] = (float)cos(i * 0.3);
    CHECK_NEAR(nk_spearman(x, y, 20), 0.04229650682098991, 1e-12); /* scipy 1.10, ties in x */
    float z[20];
    for (int i = 0; i < 20; i++) z[i] = expf(y[i]); /* monotone: ranks unchanged */
    CHECK_NEAR(nk_spearman(y, z, 20), 1, 1e-12);
    for (int i = 0; i < 20; i++) z[i] = -y[i];
    CHECK_NEAR(nk_spearman(y, z, 20), -1, 1e-12);
    float c[4] = {5, 5, 5, 5};
    CHECK_NEAR(nk_spearman(a, c, 4), 0, 0);
}

static void test_ssim(void) {
    float a[3 * 9], b[3 * 9];
    for (int i = 0; i < 27; i++) a[i] = (float)sin(i * 0.9), b[i] = (float)(3 * a[i] + 2);
    CHECK_NEAR(nk_ssim(a, a, 3, 9, 7), 1, 1e-12);
    CHECK_NEAR(nk_ssim(a, b, 3, 9, 7), 1, 1e-6); /* min-max normalization removes scale and offset */
    /* One 1D window of 7 points, by hand: x = [0..6]/6, y = x reversed. */
    float u[7], v[7];
    for (int i = 0; i < 7; i++) u[i] = (float)i, v[i] = (float)(6 - i);
    double m = 0.5, var = 0, cov = 0;
    for (int i = 0; i < 7; i++) var += (i / 6.0 - m) * (i / 6.0 - m), cov += (i / 6.0 - m) * ((6 - i) / 6.0 - m);
    var /= 6, cov /= 6;
    double want = (2 * m * m + 1e-4) * (2 * cov + 9e-4) / ((2 * m * m + 1e-4) * (2 * var + 9e-4));
    CHECK_NEAR(nk_ssim(u, v, 1, 7, 7), want, 1e-9);
    CHECK(nk_ssim(u, v, 1, 7, 7) < -0.9);
}

static nk_model *tiny(void) { // tests/fixtures/make_attrib.py
    nk_model *m = NULL;
    return nk_model_load("tests/fixtures/attrib/tiny.safetensors", &m) ? NULL : m;
}

static void test_randomization(void) {
    nk_model *m = tiny();
    nk_workspace *ws;
    CHECK(m && !nk_workspace_new(m, &ws));
    enum { U = 3, NM = 4, L = 4 };
    float *x[U];
    int T[U] = {24, 30, 40};
    nk_target tg[U];
    uint64_t state = 17;
    for (int u = 0; u < U; u++) {
        x[u] = malloc(sizeof(float) * 8 * T[u]);
        for (int i = 0; i < 8 * T[u]; i++) x[u][i] = (float)nk_rng_normal(&state);
        CHECK_OK(nk_target_parse("logit:2:5", &tg[u]));
        CHECK_OK(nk_target_resolve(m, ws, x[u], T[u], NULL, 0, &tg[u]));
    }
    nk_attr_options o[NM];
    const nk_attr_method methods[NM] = {NK_ATTR_SALIENCY, NK_ATTR_GXI, NK_ATTR_GRADCAM, NK_ATTR_LRP_EPS};
    for (int k = 0; k < NM; k++) nk_attr_options_default(&o[k]), o[k].method = methods[k];
    nk_sanity_sim cas[(L + 1) * NM], ind[(L + 1) * NM];
    CHECK_OK(nk_sanity_run(m, U, (const float *const *)x, T, tg, o, NM, NK_SANITY_CASCADE, 5, cas));
    CHECK_OK(nk_sanity_run(m, U, (const float *const *)x, T, tg, o, NM, NK_SANITY_INDEPENDENT, 5, ind));
    for (int k = 0; k < NM; k++) {
        CHECK_NEAR(cas[k].spearman, 1, 1e-12);
        CHECK_NEAR(cas[k].ssim, 1, 1e-12);
        CHECK(cas[k].n == U);
        /* Step 1 re-initializes the top layer in both modes: the same model. */
        CHECK_NEAR(cas[NM + k].spearman_abs, ind[NM + k].spearman_abs, 1e-12);
        /* Everything random: saliency no longer looks like the trained model's. */
        for (int s = 0; s <= L; s++) {
            const nk_sanity_sim *c = &cas[s * NM + k];
            CHECK(fabs(c->spearman) <= 1 && fabs(c->spearman_abs) <= 1 && c->ssim <= 1 + 1e-12 && c->spearman_sem >= 0);
        }
    }
    CHECK(cas[L * NM + 0].spearman < 0.5);
    /* A fresh seed reproduces the run exactly; another seed does not. */
    nk_sanity_sim again[(L + 1) * NM];
    CHECK_OK(nk_sanity_run(m, U, (const float *const *)x, T, tg, o, NM, NK_SANITY_CASCADE, 5, again));
    int same = 1;
    for (int i = 0; i < (L + 1) * NM; i++) same &= again[i].spearman == cas[i].spearman && again[i].ssim == cas[i].ssim;
    CHECK(same);
    CHECK_OK(nk_sanity_run(m, U, (const float *const *)x, T, tg, o, NM, NK_SANITY_CASCADE, 6, again));
    CHECK(again[L * NM].spearman != cas[L * NM].spearman);
    CHECK(nk_sanity_run(m, 0, (const float *const *)x, T, tg, o, NM, NK_SANITY_CASCADE, 5, again) == NK_ERR_EMPTY);
    for (int u = 0; u < U; u++) free(x[u]);
    nk_workspace_free(ws);
    nk_model_free(m);
}

int main(void) {
    RUN(test_spearman);
    RUN(test_ssim);
    RUN(test_randomization);
    return check_summary();
}
