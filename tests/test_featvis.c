/* Feature visualization: one Adam step of activation maximization against
 * finite differences of the regularized objective; the objective rising over a
 * run (with and without the smooth parameterization), seeded; Griffin–Lim and
 * the mel pseudo-inverse round trip through the front end; the top activating
 * inputs of a small corpus against a brute-force scan. */
#include "check.h"
#include "napkit/featvis.h"
#include "napkit/napkit.h"

#define TINY "tests/fixtures/attrib/tiny.safetensors"

static nk_model *tiny(void) { // tests/fixtures/make_attrib.py
    nk_model *m = NULL;
    return nk_model_load(TINY, &m) ? NULL : m;
}

/* J(X) = h(X) − λ₂·mean(X²) − λ_tv·mean of squared neighbour differences, directly. */
static double objective(const nk_model *m, nk_workspace *ws, const float *x, int F, int T, const nk_featvis_options *o) {
    if (nk_model_forward(m, ws, x, T)) return NAN;
    const int l = o->layer, Tl = nk_ws_frames(ws, l);
    double h = 0, l2 = 0, tv = 0;
    for (int t = 0; t < Tl; t++) h += nk_ws_act(ws, l)[o->channel * Tl + t] / Tl;
    for (int f = 0; f < F; f++)
        for (int t = 0; t < T; t++) {
            double v = x[f * T + t];
            l2 += v * v;
            if (t + 1 < T) tv += (x[f * T + t + 1] - v) * (x[f * T + t + 1] - v);
            if (f + 1 < F) tv += (x[(f + 1) * T + t] - v) * (x[(f + 1) * T + t] - v);
        }
    return h - o->l2 * l2 / (F * T) - o->tv * tv / (F * T);
}

/* Adam's first step moves every cell by lr·sign(∂J/∂X). */
static void test_first_step(void) {
    nk_model *m = tiny();
    nk_workspace *ws;
    CHECK(m && !nk_workspace_new(m, &ws));
    const int F = 8, T = 24;
    nk_featvis_options o;
    nk_featvis_options_default(&o);
    o.objective = NK_FV_CHANNEL, o.layer = 2, o.channel = 3, o.T = T, o.steps = 1, o.lr = 1e-3, o.blur_every = 0;
    o.jitter_t = 0, o.clamp = 0, o.smooth = 0, o.init_std = 1, o.l2 = 0.5, o.tv = 0.3, o.seed = 9;
    float x0[8 * 24], x1[8 * 24];
    uint64_t state = 9;
    for (int i = 0; i < F * T; i++) x0[i] = (float)nk_attr_normal(&state);
    CHECK_OK(nk_featvis(m, &o, x1, NULL));
    int checked = 0, off = 0;
    for (int i = 0; i < F * T; i++) {
        float keep = x0[i], h = 1e-2f;
        x0[i] = keep + h;
        double up = objective(m, ws, x0, F, T, &o);
        x0[i] = keep - h;
        double down = objective(m, ws, x0, F, T, &o);
        x0[i] = keep;
        double g = (up - down) / (2 * h);
        if (fabs(g) < 1e-4) continue; /* sign undetermined within rounding */
        /* A cell whose ±h step crosses a ReLU kink has a one-sided quotient: allow
         * one in a hundred. */
        if (fabs(x1[i] - x0[i] - (g > 0 ? 1e-3 : -1e-3)) > 2e-5) {
            fprintf(stderr, "cell %d: step %g, finite difference %g\n", i, x1[i] - x0[i], g);
            off++;
        }
        checked++;
    }
    CHECK(checked > F * T / 2 && off <= F * T / 100);
    nk_workspace_free(ws);
    nk_model_free(m);
}

static void test_objective_rises(void) {
    nk_model *m = tiny();
    const int F = 8, T = 40;
    for (int smooth = 0; smooth < 2; smooth++) {
        nk_featvis_options o;
        nk_featvis_options_default(&o);
        o.objective = NK_FV_CHANNEL, o.layer = 2, o.channel = 1, o.T = T, o.steps = 60, o.smooth = smooth;
        o.lr = 0.1, o.init_std = 1;
        double trace[60], again[60];
        float *x = malloc(sizeof(float) * F * T), *y = malloc(sizeof(float) * F * T);
        CHECK_OK(nk_featvis(m, &o, x, trace));
        printf("featvis smooth=%d: h %.4g -> %.4g\n", smooth, trace[0], trace[59]);
        CHECK(trace[59] > trace[0] + 0.3);
        CHECK_OK(nk_featvis(m, &o, y, again));
        CHECK(!memcmp(x, y, sizeof(float) * F * T)); /* seeded */
        for (int i = 0; i < F * T; i++) CHECK(fabsf(x[i]) <= 3);
        const nk_fv_objective other[3] = {NK_FV_LAYER, NK_FV_UNIT, NK_FV_LOGIT};
        for (int k = 0; k < 3; k++) {
            o.objective = other[k], o.frame = k == 1 ? 10 : -1, o.channel = k == 2 ? 2 : 1;
            CHECK_OK(nk_featvis(m, &o, y, again));
            printf("  %s: h %.4g -> %.4g\n", nk_fv_objective_names[other[k]], again[0], again[59]);
            CHECK(again[59] > again[0]);
        }
        free(x), free(y);
    }
    nk_featvis_options o;
    nk_featvis_options_default(&o);
    o.layer = 9;
    float x[8 * 200];
    CHECK(nk_featvis(m, &o, x, NULL) == NK_ERR_ARG);
    o.layer = 1, o.channel = 12;
    CHECK(nk_featvis(m, &o, x, NULL) == NK_ERR_ARG);
    o.channel = 0, o.lr = NAN;
    CHECK(nk_featvis(m, &o, x, NULL) == NK_ERR_ARG);
    nk_model_free(m);
}

/* A test signal: a gliding harmonic tone with noise bursts, 0.6 s at 16 kHz. */
static float *test_signal(size_t n) {
    float *s = malloc(n * sizeof *s);
    uint64_t state = 5;
    double phase = 0;
    for (size_t i = 0; i < n; i++) {
        double f0 = 150 + 200.0 * i / n;
        phase += 2 * M_PI * f0 / 16000;
        s[i] = (float)(0.3 * sin(phase) + 0.15 * sin(3 * phase) + 0.1 * sin(7 * phase));
        if ((i / 1600) % 3 == 2) s[i] += (float)(0.05 * nk_attr_normal(&state));
    }
    return s;
}

static double spectral_convergence(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) num += (a[i] - b[i]) * (a[i] - b[i]), den += (double)a[i] * a[i];
    return sqrt(num / den);
}

static void test_griffinlim(void) {
    nk_frontend_config c;
    nk_frontend_config_default(&c);
    c.kind = NK_FEAT_POWER;
    nk_frontend *fe;
    CHECK_OK(nk_frontend_new(&c, &fe));
    const size_t n = 9600;
    const int T = (int)nk_frontend_frames(fe, n), nf = 201;
    float *s = test_signal(n), *P = malloc(sizeof(float) * nf * T), *Q = malloc(sizeof(float) * nf * T);
    float *y = malloc(sizeof(float) * n);
    CHECK_OK(nk_frontend_compute(fe, s, n, P));
    for (int i = 0; i < nf * T; i++) P[i] = sqrtf(P[i]);
    CHECK_OK(nk_griffinlim(P, 400, 400, 160, T, 0, 1, y));
    CHECK_OK(nk_frontend_compute(fe, y, n, Q));
    for (int i = 0; i < nf * T; i++) Q[i] = sqrtf(Q[i]);
    double sc0 = spectral_convergence(P, Q, (size_t)nf * T);
    CHECK_OK(nk_griffinlim(P, 400, 400, 160, T, 100, 1, y));
    CHECK_OK(nk_frontend_compute(fe, y, n, Q));
    for (int i = 0; i < nf * T; i++) Q[i] = sqrtf(Q[i]);
    double sc = spectral_convergence(P, Q, (size_t)nf * T);
    printf("griffin-lim spectral convergence: random phase %.3f, 100 iterations %.3f\n", sc0, sc);
    CHECK(sc < 0.15 && sc < sc0 / 3);
    free(s), free(P), free(Q), free(y);
    nk_frontend_free(fe);
}

/* Log-mel features → audio → the same front end: the log-mel comes back. */
static void test_features_to_audio(void) {
    nk_arch a;
    CHECK_OK(nk_arch_load("models/arch/small.json", &a));
    nk_frontend_config raw = a.frontend;
    raw.normalize = NK_NORM_NONE;
    nk_frontend *fn, *fr;
    CHECK_OK(nk_frontend_new(&a.frontend, &fn));
    CHECK_OK(nk_frontend_new(&raw, &fr));
    const size_t n = 9600;
    const int T = (int)nk_frontend_frames(fn, n), F = 40;
    float *s = test_signal(n), *X = malloc(sizeof(float) * F * T), *R = malloc(sizeof(float) * F * T);
    float *B = malloc(sizeof(float) * F * T), *audio = NULL;
    CHECK_OK(nk_frontend_compute(fn, s, n, X));
    CHECK_OK(nk_frontend_compute(fr, s, n, R));
    double mean = 0, var = 0;
    for (int i = 0; i < F * T; i++) mean += R[i] / (F * T);
    for (int i = 0; i < F * T; i++) var += (R[i] - mean) * (R[i] - mean) / (F * T);
    size_t got;
    CHECK_OK(nk_features_to_audio(&a, X, T, mean, sqrt(var), 60, 1, &audio, &got));
    CHECK(got == n);
    CHECK_OK(nk_frontend_compute(fn, audio, got, B));
    double sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < F * T; i++) sxy += X[i] * B[i], sxx += X[i] * X[i], syy += B[i] * B[i];
    double r = sxy / sqrt(sxx * syy); /* both are z-normalized */
    printf("features -> audio -> features: correlation %.3f\n", r);
    CHECK(r > 0.9);
    free(audio);
    a.frontend.kind = NK_FEAT_MFCC;
    CHECK(nk_features_to_audio(&a, X, T, mean, 1, 1, 1, &audio, &got) == NK_ERR_ARG && !audio);
    free(s), free(X), free(R), free(B);
    nk_frontend_free(fn);
    nk_frontend_free(fr);
    nk_arch_free(&a);
}

/* Five utterances in a manifest; each unit's top 3 against every activation. */
static void test_top_activations(void) {
    const char *dir = check_tmpdir();
    char path[512], manifest[4096] = "";
    for (int u = 0; u < 5; u++) {
        size_t n = 4800 + 1600 * u;
        float *s = test_signal(n);
        for (size_t i = 0; i < n; i++) s[i] *= 0.5f + 0.3f * u;
        snprintf(path, sizeof path, "%s/u%d.wav", dir, u);
        CHECK_OK(nk_audio_write(path, s, n, 16000));
        snprintf(manifest + strlen(manifest), sizeof manifest - strlen(manifest), "u%d.wav\tab\n", u);
        free(s);
    }
    snprintf(path, sizeof path, "%s/list.tsv", dir);
    CHECK_OK(nk_write_file(path, manifest, strlen(manifest)));
    nk_model *m = tiny();
    nk_alphabet *alpha;
    nk_corpus *c;
    nk_corpus_options co;
    CHECK_OK(nk_alphabet_new((const char *const *)nk_model_arch(m)->alphabet, 5, &alpha));
    nk_corpus_options_default(&co, alpha);
    char spec[600];
    snprintf(spec, sizeof spec, "manifest:%s", path);
    CHECK_OK(nk_corpus_open(spec, &co, &c));
    CHECK(nk_corpus_size(c) == 5);
    const int layer[2] = {1, 3}, channel[2] = {3, 2};
    nk_top_hit hits[2 * 3];
    int n_hits[2];
    size_t skipped;
    CHECK_OK(nk_top_activations(m, c, 2, layer, channel, 3, hits, n_hits, &skipped));
    CHECK(skipped == 0 && n_hits[0] == 3 && n_hits[1] == 3);
    nk_workspace *ws;
    CHECK_OK(nk_workspace_new(m, &ws));
    for (int u = 0; u < 2; u++) {
        float peak[5];
        for (int i = 0; i < 5; i++) { // brute force: each utterance's peak
            float *x;
            int T;
            CHECK_OK(nk_model_features_from_audio(m, nk_corpus_get(c, i)->audio, &x, &T));
            CHECK_OK(nk_model_forward(m, ws, x, T));
            const int Tl = nk_ws_frames(ws, layer[u]);
            peak[i] = -INFINITY;
            for (int t = 0; t < Tl; t++) peak[i] = fmaxf(peak[i], nk_ws_act(ws, layer[u])[channel[u] * Tl + t]);
            free(x);
        }
        for (int r = 0; r < 3; r++) {
            const nk_top_hit *h = &hits[u * 3 + r];
            CHECK_NEAR(h->value, peak[h->utt], 0);
            int better = 0;
            for (int i = 0; i < 5; i++) better += peak[i] > h->value;
            CHECK(better == r); /* exactly r utterances beat rank r */
        }
    }
    snprintf(path, sizeof path, "%s/snippet", dir);
    CHECK_OK(nk_top_write_snippet(m, nk_corpus_get(c, hits[0].utt)->audio, 1, 3, hits[0].frame, 5, path));
    snprintf(path, sizeof path, "%s/snippet.wav", dir);
    float *back;
    size_t nb;
    CHECK_OK(nk_audio_read(path, 16000, &back, &nb));
    CHECK(nb > 1600);
    free(back);
    snprintf(path, sizeof path, "%s/snippet.png", dir);
    char *png;
    size_t size;
    CHECK_OK(nk_read_file(path, &png, &size));
    CHECK(size > 1000 && !memcmp(png, "\x89PNG", 4));
    free(png);
    CHECK(nk_top_activations(m, c, 1, (int[]){7}, channel, 3, hits, n_hits, &skipped) == NK_ERR_ARG);
    nk_workspace_free(ws);
    nk_corpus_free(c);
    nk_alphabet_free(alpha);
    nk_model_free(m);
}

int main(void) {
    RUN(test_first_step);
    RUN(test_objective_rises);
    RUN(test_griffinlim);
    RUN(test_features_to_audio);
    RUN(test_top_activations);
    return check_summary();
}
