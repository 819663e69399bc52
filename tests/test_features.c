/* The front end against torchaudio fixtures (tests/fixtures/make_frontend.py). */
#include "check.h"

#include "napkit/napkit.h"

#include <cJSON.h>

static const char *DIR = "tests/fixtures/frontend";

static int name_index(const char *const *names, const char *s) {
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], s)) return i;
    return -1;
}

static void config_from_case(const cJSON *c, nk_frontend_config *cfg) {
    nk_frontend_config_default(cfg);
    cfg->kind = name_index(nk_feature_kind_names, cJSON_GetObjectItem(c, "kind")->valuestring);
    cfg->n_fft = cJSON_GetObjectItem(c, "n_fft")->valueint;
    cfg->win = cJSON_GetObjectItem(c, "win")->valueint;
    cfg->hop = cJSON_GetObjectItem(c, "hop")->valueint;
    cfg->n_mels = cJSON_GetObjectItem(c, "n_mels")->valueint;
    cfg->n_mfcc = cJSON_GetObjectItem(c, "n_mfcc")->valueint;
    cfg->mel_scale = name_index(nk_mel_scale_names, cJSON_GetObjectItem(c, "mel_scale")->valuestring);
    cfg->slaney_norm = cJSON_GetObjectItem(c, "slaney_norm")->valueint;
    cfg->f_min = cJSON_GetObjectItem(c, "f_min")->valuedouble;
    cfg->f_max = cJSON_GetObjectItem(c, "f_max")->valuedouble;
    cfg->log = name_index(nk_log_kind_names, cJSON_GetObjectItem(c, "log")->valuestring);
    cfg->top_db = cJSON_GetObjectItem(c, "top_db")->valuedouble;
}

/* Every fixture case: max relative error ≤ 1e-4 (the bound for log-mel). */
static void test_matches_torchaudio(void) {
    char *json;
    char path[256];
    snprintf(path, sizeof path, "%s/cases.json", DIR);
    CHECK_OK(nk_read_file(path, &json, NULL));
    cJSON *root = cJSON_Parse(json);
    CHECK(root != NULL);
    float *pcm;
    size_t n;
    snprintf(path, sizeof path, "%s/signal.wav", DIR);
    CHECK_OK(nk_audio_read(path, 16000, &pcm, &n));
    CHECK(n == 5 * 16000);
    const cJSON *c;
    int cases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases")) {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        nk_frontend_config cfg;
        config_from_case(c, &cfg);
        nk_frontend *fe;
        CHECK_OK(nk_frontend_new(&cfg, &fe));
        nk_array want;
        snprintf(path, sizeof path, "%s/%s.npy", DIR, name);
        CHECK_OK(nk_npy_read_f32(path, &want));
        int F = nk_frontend_dim(fe);
        size_t T = nk_frontend_frames(fe, n);
        if (!(want.ndim == 2 && want.shape[0] == F && (size_t)want.shape[1] == T)) {
            fprintf(stderr, "case %s: fixture shape does not match (%d, %zu)\n", name, F, T);
            CHECK(0);
            nk_array_free(&want);
            nk_frontend_free(fe);
            continue;
        }
        float *got = malloc((size_t)F * T * sizeof *got);
        CHECK_OK(nk_frontend_compute(fe, pcm, n, got));
        double err = check_max_rel_err(got, want.data, (size_t)F * T);
        if (err > 1e-4) fprintf(stderr, "case %s: max relative error %.3g\n", name, err);
        CHECK(err <= 1e-4);
        free(got);
        nk_array_free(&want);
        nk_frontend_free(fe);
        cases++;
    }
    CHECK(cases >= 6);
    free(pcm);
    cJSON_Delete(root);
    free(json);
}

/* A plan is made once and executed many times: repeated runs are identical. */
static void test_reuse_is_deterministic(void) {
    nk_frontend_config cfg;
    nk_frontend_config_default(&cfg);
    nk_frontend *fe;
    CHECK_OK(nk_frontend_new(&cfg, &fe));
    size_t n = 8000;
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = sinf(0.05f * i) + 0.1f * sinf(0.71f * i);
    size_t T = nk_frontend_frames(fe, n);
    CHECK(T == 1 + n / 160);
    float *a = malloc(40 * T * sizeof *a), *b = malloc(40 * T * sizeof *b);
    CHECK_OK(nk_frontend_compute(fe, x, n, a));
    CHECK_OK(nk_frontend_compute(fe, x, n, b));
    CHECK(memcmp(a, b, 40 * T * sizeof *a) == 0);
    free(a);
    free(b);
    free(x);
    nk_frontend_free(fe);
}

static void moments(const float *v, size_t n, size_t stride, double *mean, double *sd) {
    double s = 0, q = 0;
    for (size_t i = 0; i < n; i++) s += v[i * stride];
    *mean = s / n;
    for (size_t i = 0; i < n; i++) q += (v[i * stride] - *mean) * (v[i * stride] - *mean);
    *sd = sqrt(q / n);
}

/* Tempo stretching is linear interpolation with the end frames aligned
 * (torch's interpolate(mode="linear", align_corners=True)): exact on a ramp,
 * the original frames wherever a new frame lands on one. */
static void test_stretch(void) {
    enum { F = 3, T = 11 };
    float x[F * T], y[F * 41];
    for (int f = 0; f < F; f++)
        for (int t = 0; t < T; t++) x[f * T + t] = (float)(100 * f + 3 * t + (t % 2) * 0.5 * (t % 3));
    const int lengths[] = {11, 21, 6, 41, 8, 2, 1};
    for (size_t k = 0; k < sizeof lengths / sizeof *lengths; k++) {
        int T2 = lengths[k];
        nk_features_stretch(x, F, T, y, T2);
        double step = T2 > 1 ? (double)(T - 1) / (T2 - 1) : 0;
        for (int f = 0; f < F; f++)
            for (int t2 = 0; t2 < T2; t2++) {
                double pos = t2 * step;
                int t = (int)floor(pos);
                float got = y[f * T2 + t2];
                if (pos == t) CHECK(got == x[f * T + t]); /* lands on a frame */
                else CHECK(fabs(got - (x[f * T + t] + (pos - t) * (x[f * T + t + 1] - x[f * T + t]))) < 1e-4);
            }
        CHECK(y[T2 - 1] == x[T2 > 1 ? T - 1 : 0]); /* the last frame kept (the first for T2 = 1) */
    }
    /* On a ramp the stretched rows are the ramp at the new spacing. */
    for (int t = 0; t < T; t++) x[t] = (float)(2 * t);
    nk_features_stretch(x, 1, T, y, 6);
    for (int t2 = 0; t2 < 6; t2++) CHECK(fabs(y[t2] - 4 * t2) < 1e-5);
    /* A one-frame utterance stays constant. */
    nk_features_stretch(x, 1, 1, y, 4);
    for (int t2 = 0; t2 < 4; t2++) CHECK(y[t2] == x[0]);
}

static void test_normalization(void) {
    size_t n = 16000;
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = 0.3f * sinf(0.02f * i * (1 + i / 8000.0f));
    for (int mode = NK_NORM_UTTERANCE; mode <= NK_NORM_BAND; mode++) {
        nk_frontend_config cfg;
        nk_frontend_config_default(&cfg);
        cfg.normalize = mode;
        nk_frontend *fe;
        CHECK_OK(nk_frontend_new(&cfg, &fe));
        size_t T = nk_frontend_frames(fe, n);
        float *y = malloc(40 * T * sizeof *y);
        CHECK_OK(nk_frontend_compute(fe, x, n, y));
        double mean, sd;
        if (mode == NK_NORM_UTTERANCE) {
            moments(y, 40 * T, 1, &mean, &sd);
            CHECK_NEAR(mean, 0, 1e-5);
            CHECK_NEAR(sd, 1, 1e-4);
        } else {
            for (int f = 0; f < 40; f++) {
                moments(y + f * T, T, 1, &mean, &sd);
                CHECK_NEAR(mean, 0, 1e-5);
                CHECK_NEAR(sd, 1, 1e-4);
            }
        }
        free(y);
        nk_frontend_free(fe);
    }
    free(x);
}

/* Silence has zero variance: normalization must centre it, not divide by 0. */
static void test_silence_stays_finite(void) {
    nk_frontend_config cfg;
    nk_frontend_config_default(&cfg);
    cfg.normalize = NK_NORM_BAND;
    nk_frontend *fe;
    CHECK_OK(nk_frontend_new(&cfg, &fe));
    float x[4000] = {0};
    size_t T = nk_frontend_frames(fe, 4000);
    float *y = malloc(40 * T * sizeof *y);
    CHECK_OK(nk_frontend_compute(fe, x, 4000, y));
    for (size_t i = 0; i < 40 * T; i++) CHECK(y[i] == 0.0f);
    free(y);
    nk_frontend_free(fe);
}

static void test_bad_settings_and_input(void) {
    nk_frontend_config cfg;
    nk_frontend *fe = NULL;
    nk_frontend_config_default(&cfg);
    cfg.win = 500; /* longer than n_fft */
    CHECK(nk_frontend_new(&cfg, &fe) == NK_ERR_ARG && fe == NULL);
    CHECK(strstr(nk_last_error(), "window") != NULL);
    nk_frontend_config_default(&cfg);
    cfg.f_max = 9000; /* above Nyquist */
    CHECK(nk_frontend_new(&cfg, &fe) == NK_ERR_ARG);
    nk_frontend_config_default(&cfg);
    cfg.kind = NK_FEAT_MFCC;
    cfg.n_mfcc = 41;
    CHECK(nk_frontend_new(&cfg, &fe) == NK_ERR_ARG);
    nk_frontend_config_default(&cfg);
    CHECK_OK(nk_frontend_new(&cfg, &fe));
    float x[1000], y[40 * 8];
    for (int i = 0; i < 1000; i++) x[i] = 0.1f;
    x[500] = NAN;
    CHECK(nk_frontend_compute(fe, x, 1000, y) == NK_ERR_NUMERIC);
    CHECK(nk_frontend_compute(fe, x, 1, y) == NK_ERR_EMPTY);
    nk_frontend_free(fe);
}

int main(void) {
    RUN(test_matches_torchaudio);
    RUN(test_reuse_is_deterministic);
    RUN(test_normalization);
    RUN(test_stretch);
    RUN(test_silence_stays_finite);
    RUN(test_bad_settings_and_input);
    return check_summary();
}
