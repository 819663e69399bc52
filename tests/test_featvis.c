/* Feature visualization: one Adam step of activation maximization against
 * finite differences of the regularized objective, on X itself and through the
 * normalized, bounded parameterization (pre-activation objectives at the first
 * and a hidden layer); the objective rising over a run (with and without the
 * smooth parameterization), seeded; the default run on a model with trained
 * activation scales staying off the bound where the unnormalized one runs into
 * it; Griffin–Lim and the mel pseudo-inverse round trip through the front end;
 * the top activating inputs of a small corpus against a brute-force scan. */
#include "check.h"
#include "napkit/featvis.h"
#include "napkit/napkit.h"

#define TINY "tests/fixtures/attrib/tiny.safetensors"

static nk_model *tiny(void) { // tests/fixtures/make_attrib.py
    nk_model *m = NULL;
    return nk_model_load(TINY, &m) ? NULL : m;
}

/* J(X) = h(X) − λ₂·mean(X²) − λ_tv·mean of squared neighbour differences, directly;
 * h is the channel's mean activation (CHANNEL) or the pre-activation at the
 * middle frame (UNIT). */
static double objective(const nk_model *m, nk_workspace *ws, const float *x, int F, int T, const nk_featvis_options *o) {
    if (nk_model_forward(m, ws, x, T)) return NAN;
    const int l = o->layer, Tl = nk_ws_frames(ws, l);
    double h = 0, l2 = 0, tv = 0;
    if (o->objective == NK_FV_UNIT) h = nk_ws_preact(ws, l)[o->channel * Tl + Tl / 2];
    else
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
    o.jitter_t = 0, o.normalize = 0, o.bound = 0, o.smooth = 0, o.init_std = 1, o.l2 = 0.5, o.tv = 0.3, o.seed = 9;
    float x0[8 * 24], x1[8 * 24];
    uint64_t state = 9;
    for (int i = 0; i < F * T; i++) x0[i] = (float)nk_rng_normal(&state);
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

/* X(P) = b·tanh(Z/b), Z = P z-normalized over all cells: the parameterization
 * without the DCT, directly. */
static void normalized_bounded(const float *p, int n, double b, float *x) {
    double mean = 0, var = 0;
    for (int i = 0; i < n; i++) mean += p[i] / (double)n;
    for (int i = 0; i < n; i++) var += (p[i] - mean) * (p[i] - mean) / n;
    for (int i = 0; i < n; i++) x[i] = (float)(b * tanh((p[i] - mean) / sqrt(var) / b));
}

/* Through the normalization and the bound, Adam's first step moves the
 * (renormalized) parameter P by lr·sign(∂J/∂P): the result must be X of
 * P0 + lr·sign of the finite differences of J(X(P)). Pre-activation objectives
 * at layer 0 (the layer's own conv backward alone) and layer 2. */
static void test_first_step_normalized(void) {
    nk_model *m = tiny();
    nk_workspace *ws;
    CHECK(m && !nk_workspace_new(m, &ws));
    enum { F = 8, T = 24, N = F * T };
    const double lr = 1e-3, b = 1.5; /* a bound the cells reach, so tanh' matters */
    for (int layer = 0; layer <= 2; layer += 2) {
        nk_featvis_options o;
        nk_featvis_options_default(&o);
        o.objective = NK_FV_UNIT, o.layer = layer, o.channel = 1, o.T = T, o.steps = 1, o.lr = lr;
        o.blur_every = 0, o.jitter_t = 0, o.smooth = 0, o.bound = b, o.init_std = 0.3, o.l2 = 0.5, o.tv = 0.3,
        o.seed = 4;
        float p0[N], p1[N], x0[N], x1[N], want[N];
        uint64_t state = 4;
        for (int i = 0; i < N; i++) p0[i] = (float)(0.3 * nk_rng_normal(&state));
        normalized_bounded(p0, N, 1e30, p0); /* the renormalized P: z-scores (tanh is the identity there) */
        CHECK_OK(nk_featvis(m, &o, x1, NULL));
        int checked = 0, off = 0;
        for (int i = 0; i < N; i++) {
            float keep = p0[i], h = 1e-3f;
            p0[i] = keep + h;
            normalized_bounded(p0, N, b, x0);
            double up = objective(m, ws, x0, F, T, &o);
            p0[i] = keep - h;
            normalized_bounded(p0, N, b, x0);
            double down = objective(m, ws, x0, F, T, &o);
            p0[i] = keep;
            double g = (up - down) / (2 * h);
            p1[i] = keep + (float)(g > 0 ? lr : -lr);
            checked += fabs(g) >= 1e-4; /* sign determined within rounding */
        }
        normalized_bounded(p1, N, b, want);
        for (int i = 0; i < N; i++) off += fabsf(x1[i] - want[i]) > 0.2 * lr; /* a flipped sign moves a cell by ~2·lr */
        printf("first step through the parameterization, layer %d: %d of %d cells signed, %d off\n", layer, checked,
               N, off);
        CHECK(checked > N / 2 && off <= N / 50);
    }
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
        double trace[61], again[61];
        float *x = malloc(sizeof(float) * F * T), *y = malloc(sizeof(float) * F * T);
        CHECK_OK(nk_featvis(m, &o, x, trace));
        printf("featvis smooth=%d: h %.4g -> %.4g (result %.4g)\n", smooth, trace[0], trace[59], trace[60]);
        CHECK(trace[60] > trace[0] + 0.3); /* the result; the jittered steps' h wanders */
        CHECK_OK(nk_featvis(m, &o, y, again));
        CHECK(!memcmp(x, y, sizeof(float) * F * T)); /* seeded */
        for (int i = 0; i < F * T; i++) CHECK(fabsf(x[i]) < 3);
        const nk_fv_objective other[3] = {NK_FV_LAYER, NK_FV_UNIT, NK_FV_LOGIT};
        for (int k = 0; k < 3; k++) {
            o.objective = other[k], o.frame = k == 1 ? 10 : -1, o.channel = k == 2 ? 2 : 1;
            CHECK_OK(nk_featvis(m, &o, y, again));
            printf("  %s: h %.4g -> %.4g (result %.4g)\n", nk_fv_objective_names[other[k]], again[0], again[59],
                   again[60]);
            CHECK(again[60] > again[0]);
        }
        o.objective = NK_FV_CHANNEL, o.channel = 1, o.normalize = 0, o.init_std = 0.1; /* X itself, unnormalized */
        CHECK_OK(nk_featvis(m, &o, y, again));
        printf("  unnormalized channel: h %.4g -> %.4g\n", again[0], again[60]);
        CHECK(again[60] > again[0] + 0.3);
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
    o.lr = 0.1, o.init_std = 0; /* a normalized start cannot be all zeros */
    CHECK(nk_featvis(m, &o, x, NULL) == NK_ERR_ARG);
    nk_model_free(m);
}

/* The small architecture with PyTorch's initialization ×√6 (as in test_attrib):
 * activations keep their scale through the 11 layers, as in a trained model. */
static nk_model *scaled_small(void) {
    nk_arch a;
    nk_model *m = NULL;
    if (nk_arch_load("models/arch/small.json", &a)) return NULL;
    int rc = nk_model_new(&a, &m);
    nk_arch_free(&a);
    if (rc) return NULL;
    nk_model_init(m, 5);
    for (int l = 0; l < nk_model_arch(m)->n_layers; l++) {
        const nk_layer_spec *s = &nk_model_arch(m)->layers[l];
        float *w = nk_model_params(m) + nk_model_layer_offset(m, l);
        for (size_t i = 0; i < (size_t)s->out * s->in * s->kernel; i++) w[i] *= sqrtf(6);
    }
    return m;
}

/* Share of cells within 10% of the bound. */
static double near_bound(const float *x, int n, double bound) {
    int k = 0;
    for (int i = 0; i < n; i++) k += fabsf(x[i]) > 0.9 * bound;
    return (double)k / n;
}

/* The default run settles on a pattern: cells off the bound, X with an
 * utterance's mean and spread, h risen. Unnormalized (the former default, with
 * its L2 and TV weights), h grows with the contrast of X and the cells pile up
 * at the bound — what this guards against. */
static void test_default_off_bound(void) {
    nk_model *m = scaled_small();
    CHECK(m != NULL);
    if (!m) return;
    enum { F = 40, T = 100, STEPS = 120, N = F * T };
    const struct { nk_fv_objective objective; int layer, channel; } runs[] = {
        {NK_FV_UNIT, 1, 5}, {NK_FV_CHANNEL, 4, 7}, {NK_FV_LOGIT, -1, 7}};
    float *x = malloc(sizeof(float) * N);
    double trace[STEPS + 1], worst_raw = 0;
    for (int r = 0; r < 3; r++) {
        nk_featvis_options o;
        nk_featvis_options_default(&o);
        o.objective = runs[r].objective, o.layer = runs[r].layer, o.channel = runs[r].channel, o.T = T;
        o.steps = STEPS;
        CHECK_OK(nk_featvis(m, &o, x, trace));
        double mean = 0, var = 0, near = near_bound(x, N, o.bound);
        for (int i = 0; i < N; i++) mean += x[i] / (double)N;
        for (int i = 0; i < N; i++) var += (x[i] - mean) * (x[i] - mean) / N;
        o.normalize = 0, o.l2 = 1e-3, o.tv = 1e-2, o.blur_every = 10, o.lr = 0.05;
        double h_raw[STEPS + 1];
        CHECK_OK(nk_featvis(m, &o, x, h_raw));
        const double near_raw = near_bound(x, N, o.bound);
        printf("%s %d:%d: h %.3g -> %.3g, mean %.3f, std %.3f, %.2f%% near the bound (unnormalized: %.1f%%, h %.3g)\n",
               nk_fv_objective_names[o.objective], runs[r].layer, runs[r].channel, trace[0], trace[STEPS], mean,
               sqrt(var), 100 * near, 100 * near_raw, h_raw[STEPS]);
        CHECK(near < 0.01 && fabs(mean) < 0.05 && sqrt(var) > 0.7 && sqrt(var) <= 1);
        CHECK(trace[STEPS] > trace[0] + 1);
        worst_raw = fmax(worst_raw, near_raw);
    }
    CHECK(worst_raw > 0.1); /* the bound check above can fail */
    free(x);
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
        if ((i / 1600) % 3 == 2) s[i] += (float)(0.05 * nk_rng_normal(&state));
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
    RUN(test_first_step_normalized);
    RUN(test_objective_rises);
    RUN(test_default_off_bound);
    RUN(test_griffinlim);
    RUN(test_features_to_audio);
    RUN(test_top_activations);
    return check_summary();
}
