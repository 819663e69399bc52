/* NAPs and GradNAPs: a hand-made network whose responses and gradients are
 * known in closed form, local-cone gradients against full-utterance
 * backward passes, unbiased edges, thread independence, shards, merging,
 * resuming and bad input. */
#include "check.h"

#include "napkit/napkit.h"

#include <math.h>

/* ---- the hand-made network ----
 * x (1, T). Layer 0 (k 3, pad 1, relu): A0[0,t] = relu(x[t−1] + x[t] + x[t+1]),
 * A0[1,t] = relu(x[t]). Layer 1 (k 3, pad 1, linear): z[k,t] = b[k] +
 * Σ_c Σ_j V[k][c][j] A0[c, t+j−1]. So ∂z[k,t*]/∂A0[c,u] = V[k][c][u−t*+1] for
 * |u − t*| <= 1, else 0, and ∂z[k,t*]/∂z[c,u] = 1[c = k, u = t*]. */
static const char hand_json[] =
    "{\"name\": \"hand\", \"alphabet\": [\"_\", \"a\", \"b\"], \"blank\": 0,"
    " \"frontend\": {\"kind\": \"logmel\", \"n_mels\": 1},"
    " \"layers\": ["
    "  {\"type\": \"conv1d\", \"in\": 1, \"out\": 2, \"kernel\": 3, \"padding\": 1, \"activation\": \"relu\"},"
    "  {\"type\": \"conv1d\", \"in\": 2, \"out\": 3, \"kernel\": 3, \"padding\": 1, \"activation\": \"none\"}]}";

static const float V[3][2][3] = {{{0.1f, 0.2f, 0.3f}, {0.4f, 0.5f, 0.6f}},
                                 {{1.0f, -2.0f, 0.5f}, {-0.5f, 2.0f, 1.5f}},
                                 {{-1.0f, 3.0f, 0.25f}, {0.75f, -1.25f, 2.0f}}};
static const float Bias[3] = {0.0f, 0.5f, 0.25f};

static nk_model *hand_model(void) {
    nk_arch a;
    nk_model *m = NULL;
    CHECK_OK(nk_arch_parse(hand_json, "hand", &a));
    CHECK_OK(nk_model_new(&a, &m));
    nk_arch_free(&a);
    float *w0 = nk_model_params(m) + nk_model_layer_offset(m, 0);
    const float l0[2][3] = {{1, 1, 1}, {0, 1, 0}};
    memcpy(w0, l0, sizeof l0);
    w0[6] = w0[7] = 0; /* biases */
    float *w1 = nk_model_params(m) + nk_model_layer_offset(m, 1);
    memcpy(w1, V, sizeof V);
    memcpy(w1 + 18, Bias, sizeof Bias);
    return m;
}

enum { HT = 24 };
static float hx[HT];

static double relu(double v) { return v > 0 ? v : 0; }
static double xat(int t) { return t >= 0 && t < HT ? hx[t] : 0; }
static double A0(int c, int t) {
    if (t < 0 || t >= HT) return 0;
    return c == 0 ? relu(xat(t - 1) + xat(t) + xat(t + 1)) : relu(xat(t));
}
static double Z(int k, int t) {
    double z = Bias[k];
    for (int c = 0; c < 2; c++)
        for (int j = 0; j < 3; j++) z += V[k][c][j] * A0(c, t + j - 1);
    return z;
}
/* Closed-form ∂z[k,ts]/∂A^l[c,u]. */
static double grad(int l, int k, int ts, int c, int u) {
    if (l == 1) return c == k && u == ts;
    int j = u - ts + 1;
    return j >= 0 && j < 3 ? V[k][c][j] : 0;
}
static double act(int l, int c, int u) { return l == 0 ? A0(c, u) : Z(c, u); }

typedef struct {
    int group, frame, start, end, target; /* frames; span [start, end) */
} hand_event;

static const hand_event hev[] = {{0, 3, 2, 5, 1},  {0, 10, 9, 13, 1}, {0, 22, 20, 23, 1}, {0, 0, 0, 2, 1},
                                 {1, 5, 5, 6, 2},  {1, 12, 11, 14, 2}, {1, 23, 21, 24, 2}, {1, 16, 14, 18, 2}};
enum { NHEV = sizeof hev / sizeof hev[0], HW = 3 };

static double mode_value(nk_nap_mode mode, double a, double g) {
    switch (mode) {
    case NK_NAP_ACT: return a;
    case NK_NAP_GXA: return a * g;
    case NK_NAP_ABSGXA: return a * fabs(g);
    default: return g > 0 ? a : 0;
    }
}

/* The expected mean and SEM of group g, layer l, channel c, offset d, by brute force. */
static void hand_expect(nk_nap_mode mode, nk_nap_center center, int g, int l, int c, int d, double *mean,
                        double *sem) {
    double s = 0, ss = 0, n = 0;
    for (int e = 0; e < NHEV; e++) {
        const hand_event *v = &hev[e];
        if (v->group != g) continue;
        int u = v->frame;
        if (center == NK_NAP_CENTER_SPAN) u = v->start + (v->end - v->start - 1) / 2;
        if (center == NK_NAP_CENTER_GRAD) {
            double best = -1;
            for (int t = v->start; t < v->end; t++) {
                double r = 0;
                for (int cc = 0; cc < (l == 0 ? 2 : 3); cc++) r += fabs(grad(l, v->target, v->frame, cc, t) * act(l, cc, t));
                if (r > best) best = r, u = t;
            }
        }
        int t = u + d;
        if (t < 0 || t >= HT) continue;
        double val = mode_value(mode, act(l, c, t), grad(l, v->target, v->frame, c, t));
        s += val, ss += val * val, n++;
    }
    *mean = n ? s / n : NAN;
    *sem = n > 1 ? sqrt((ss - s * s / n) / (n - 1) / n) : NAN;
}

static nk_nap_event *hand_events(void) {
    static nk_nap_event ev[NHEV];
    for (int e = 0; e < NHEV; e++) /* 10 ms input frames, total stride 1 */
        ev[e] = (nk_nap_event){hev[e].group, hev[e].start * 0.01, hev[e].end * 0.01, hev[e].frame * 0.01,
                               hev[e].target};
    return ev;
}

static void check_hand(nk_nap_mode mode, nk_nap_center center) {
    nk_model *m = hand_model();
    int layers[] = {0, 1};
    nk_nap_config cfg = {mode, center, NK_NAP_TARGET_LOGIT, HW, 2, layers};
    const char *groups[] = {"a", "b"};
    nk_nap_sums *s = NULL;
    CHECK_OK(nk_nap_sums_new(nk_model_arch(m), &cfg, groups, 2, "{}", &s));
    nk_nap_utt u = {"hand", hx, HT, hand_events(), NHEV};
    CHECK_OK(nk_nap_run(m, s, &u, 1, 1, NULL, NULL));
    nk_nap_finalize_opts o;
    nk_nap_finalize_opts_default(&o);
    o.normalize = NK_NAP_NORM_NONE, o.min_count = 1;
    nk_nap_result r;
    CHECK_OK(nk_nap_finalize(s, &o, &r));
    CHECK(r.G == 2 && nk_nap_sums_n_events(s, 0) == 4 && nk_nap_sums_n_events(s, 1) == 4);
    const int W = 2 * HW + 1;
    double maxerr = 0;
    int nan_ok = 1;
    for (int g = 0; g < 2; g++)
        for (int l = 0; l < 2; l++) {
            const int C = l == 0 ? 2 : 3;
            for (int c = 0; c < C; c++)
                for (int d = -HW; d <= HW; d++) {
                    double em, es;
                    hand_expect(mode, center, g, l, c, d, &em, &es);
                    size_t k = ((size_t)g * C + c) * W + d + HW;
                    float gm = r.mean[l][k], gs = r.sem[l][k];
                    if (isnan(em) || isnan(es)) nan_ok &= isnan(em) ? isnan(gm) : isnan(gs);
                    if (!isnan(em)) maxerr = fmax(maxerr, fabs(gm - em));
                    if (!isnan(es)) maxerr = fmax(maxerr, fabs(gs - es));
                }
            for (int c = 0; c < C; c++) { /* flat = mean over the window */
                double sum = 0;
                int n = 0;
                for (int d = 0; d < W; d++) {
                    float v = r.mean[l][((size_t)g * C + c) * W + d];
                    if (!isnan(v)) sum += v, n++;
                }
                maxerr = fmax(maxerr, fabs(r.flat[l][g * C + c] - sum / n));
            }
        }
    if (maxerr > 1e-5) fprintf(stderr, "mode %s centre %s: max error %g\n", nk_nap_mode_names[mode],
                               nk_nap_center_names[center], maxerr);
    CHECK(maxerr <= 1e-5);
    CHECK(nan_ok);
    nk_nap_result_free(&r);
    nk_nap_sums_free(s);
    nk_model_free(m);
}

static void fill_hand_input(void) {
    for (int t = 0; t < HT; t++) hx[t] = (float)(sin(0.9 * t) + 0.3 * cos(2.3 * t) + 0.1);
}

static void test_hand_network_modes(void) {
    fill_hand_input();
    for (int mode = NK_NAP_ACT; mode <= NK_NAP_GRADMASK; mode++)
        for (int center = NK_NAP_CENTER_PEAK; center <= NK_NAP_CENTER_GRAD; center++)
            check_hand((nk_nap_mode)mode, (nk_nap_center)center);
}

/* ---- local cone == full-utterance backward ---- */

/* Strides, dilation, asymmetric reach and padding wider than the kernel's half:
 * every way a cone can be clipped at the utterance's edges. */
static const char tiny_json[] =
    "{\"name\": \"cones\", \"alphabet\": [\"_\", \" \", \"a\", \"b\"], \"blank\": 0,"
    " \"frontend\": {\"n_mels\": 3}, \"layers\": ["
    "  {\"type\": \"conv1d\", \"in\": 3, \"out\": 4, \"kernel\": 6, \"stride\": 2, \"padding\": 3},"
    "  {\"type\": \"conv1d\", \"in\": 4, \"out\": 5, \"kernel\": 3, \"dilation\": 3, \"padding\": 2,"
    "   \"activation\": \"hardtanh\"},"
    "  {\"type\": \"conv1d\", \"in\": 5, \"out\": 3, \"kernel\": 4, \"stride\": 3, \"padding\": 1},"
    "  {\"type\": \"conv1d\", \"in\": 3, \"out\": 6, \"kernel\": 1, \"activation\": \"none\"},"
    "  {\"type\": \"conv1d\", \"in\": 6, \"out\": 4, \"kernel\": 3, \"padding\": 2, \"activation\": \"none\"}]}";

static nk_model *model_from(const char *json, int is_path, uint64_t seed, float scale) {
    nk_arch a;
    nk_model *m = NULL;
    CHECK_OK(is_path ? nk_arch_load(json, &a) : nk_arch_parse(json, "test", &a));
    CHECK_OK(nk_model_new(&a, &m));
    nk_arch_free(&a);
    nk_model_init(m, seed);
    float *p = nk_model_params(m);
    for (size_t i = 0; i < nk_model_param_count(m); i++) p[i] *= scale;
    return m;
}

static float *random_input(int F, int T, unsigned seed) {
    float *x = malloc(sizeof(float) * F * T);
    for (int i = 0; i < F * T; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = ((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return x;
}

/* Compares cone gradients with full backward passes for the given output frames and
 * returns the number of values that differ in any bit; *maxrel the largest relative error. */
static long compare_cone(nk_model *m, const float *x, int T, const int *frames, int nf, nk_nap_target target,
                         double *maxrel) {
    const nk_arch *a = nk_model_arch(m);
    const int L = a->n_layers, K = a->n_classes;
    int layers[1] = {0};
    nk_nap_config cfg = {NK_NAP_GXA, NK_NAP_CENTER_PEAK, target, 2, 1, layers};
    const char *groups[] = {"g"};
    nk_nap_sums *s = NULL;
    nk_nap_worker *w = NULL;
    nk_workspace *full = NULL;
    CHECK_OK(nk_nap_sums_new(a, &cfg, groups, 1, NULL, &s));
    CHECK_OK(nk_nap_worker_new(m, s, &w));
    CHECK_OK(nk_workspace_new(m, &full));
    CHECK_OK(nk_nap_worker_utterance(w, x, T, NULL, 0));
    CHECK_OK(nk_model_forward(m, full, x, T));
    const int TL = nk_ws_frames(full, L - 1);
    long differ = 0;
    *maxrel = 0;
    /* every (frame, class) seed, packed NK_NAP_BATCH at a time, overlapping cones included */
    int ks[NK_NAP_BATCH], ts[NK_NAP_BATCH], nb = 0;
    for (int f = 0; f < nf; f++)
        for (int k = 0; k < K; k += K / 3) {
            ks[nb] = k, ts[nb] = frames[f] < 0 ? TL + frames[f] : frames[f];
            if (++nb < NK_NAP_BATCH && !(f == nf - 1 && k + K / 3 >= K)) continue;
            CHECK_OK(nk_nap_cone_grads(w, nb, ks, ts, target, 0));
            for (int b = 0; b < nb; b++) {
                nk_ws_zero_grads(full);
                if (target == NK_NAP_TARGET_LOGIT) nk_ws_grad(full, L - 1)[(size_t)ks[b] * TL + ts[b]] = 1;
                else nk_ws_log_probs_grad(full)[(size_t)ks[b] * TL + ts[b]] = 1;
                CHECK_OK(nk_model_backward(m, full, target == NK_NAP_TARGET_LOGIT ? L - 1 : L, NK_RULE_GRADIENT, 0));
                for (int l = 0; l < L - 1; l++) { /* layer L−1 holds the seed itself */
                    const int Tl = nk_ws_frames(full, l), C = a->layers[l].out;
                    int lo, hi;
                    const float *g = nk_nap_cone(w, b, l, &lo, &hi);
                    const float *ref = nk_ws_grad(full, l);
                    double refmax = 1e-30, err = 0;
                    for (int c = 0; c < C; c++)
                        for (int u = 0; u < Tl; u++) {
                            float want = ref[(size_t)c * Tl + u];
                            float got = u >= lo && u < hi ? g[(size_t)c * (hi - lo) + u - lo] : 0.0f;
                            differ += got != want;
                            refmax = fmax(refmax, fabs(want));
                            err = fmax(err, fabs(got - want));
                        }
                    *maxrel = fmax(*maxrel, err / refmax);
                }
            }
            nb = 0;
        }
    nk_workspace_free(full);
    nk_nap_worker_free(w);
    nk_nap_sums_free(s);
    return differ;
}

static void test_cone_equals_full_tiny(void) {
    nk_model *m = model_from(tiny_json, 0, 7, 2.5f);
    const int T = 97;
    float *x = random_input(3, T, 11);
    int frames[64];
    for (int i = 0; i < 18; i++) frames[i] = i; /* every output frame, edges included */
    for (int target = 0; target < 2; target++) {
        double maxrel;
        long differ = compare_cone(m, x, T, frames, 18, (nk_nap_target)target, &maxrel);
        if (differ) fprintf(stderr, "tiny, %s: %ld values differ, max rel err %g\n", nk_nap_target_names[target], differ, maxrel);
        CHECK(maxrel < 1e-6);
    }
    free(x);
    nk_model_free(m);
}

static void test_cone_equals_full_small(void) {
    nk_model *m = model_from("models/arch/small.json", 1, 3, 1.0f);
    const int T = 301; /* 3 s */
    float *x = random_input(40, T, 5);
    int frames[] = {0, 1, 2, 17, 60, 100, -40, -2, -1};
    for (int target = 0; target < 2; target++) {
        double maxrel;
        long differ = compare_cone(m, x, T, frames, sizeof frames / sizeof *frames, (nk_nap_target)target, &maxrel);
        printf("small model, %s seed: %ld values differ in some bit, max relative error %.3g\n",
               nk_nap_target_names[target], differ, maxrel);
        CHECK(maxrel < 1e-5);
    }
    free(x);
    nk_model_free(m);
}

/* ---- edges: a count per offset, not zero padding ---- */

static void test_edges_unbiased(void) {
    /* A pointwise network on a constant input: every activation is exactly 2. */
    static const char json[] =
        "{\"name\": \"pw\", \"alphabet\": [\"_\", \"a\"], \"blank\": 0, \"frontend\": {\"n_mels\": 1},"
        " \"layers\": [{\"type\": \"conv1d\", \"in\": 1, \"out\": 2, \"kernel\": 1},"
        "  {\"type\": \"conv1d\", \"in\": 2, \"out\": 2, \"kernel\": 1, \"activation\": \"none\"}]}";
    nk_model *m = model_from(json, 0, 1, 1.0f);
    float *p = nk_model_params(m);
    p[0] = 2, p[1] = 2, p[2] = 0, p[3] = 0;
    const int T = 30, w = 5, W = 2 * w + 1;
    float x[30];
    for (int t = 0; t < T; t++) x[t] = 1;
    int layers[] = {0};
    nk_nap_config cfg = {NK_NAP_ACT, NK_NAP_CENTER_PEAK, NK_NAP_TARGET_LOGIT, w, 1, layers};
    const char *groups[] = {"a_start", "b_end"};
    nk_nap_sums *s = NULL;
    CHECK_OK(nk_nap_sums_new(nk_model_arch(m), &cfg, groups, 2, NULL, &s));
    nk_nap_event ev[] = {{0, 0, 0, 0, -1}, {0, 0.01, 0.01, 0.01, -1}, {1, 0.29, 0.29, 0.29, -1}, {1, 0.27, 0.28, 0.28, -1}};
    nk_nap_utt u = {"u", x, T, ev, 4};
    CHECK_OK(nk_nap_run(m, s, &u, 1, 1, NULL, NULL));
    const double *count = nk_nap_sums_count(s, 0, 0);
    /* events at frames 0 and 1: offset −5 … −2 never inside, −1 once, 0 … 5 twice */
    for (int d = -w; d <= w; d++) CHECK(count[d + w] == (d < -1 ? 0 : d == -1 ? 1 : 2));
    nk_nap_finalize_opts o;
    nk_nap_finalize_opts_default(&o);
    o.normalize = NK_NAP_NORM_NONE, o.min_count = 1;
    nk_nap_result r;
    CHECK_OK(nk_nap_finalize(s, &o, &r));
    for (int g = 0; g < 2; g++)
        for (int c = 0; c < 2; c++)
            for (int d = 0; d < W; d++) {
                float v = r.mean[0][(g * 2 + c) * W + d];
                CHECK(isnan(v) || v == 2.0f); /* never pulled towards 0 */
            }
    CHECK(r.mean[0][0 * W + w + 5] == 2.0f && isnan(r.mean[0][0 * W + 0]));
    CHECK(r.flat[0][0] == 2.0f && r.flat[0][3] == 2.0f);
    nk_nap_result_free(&r);
    nk_nap_sums_free(s);
    nk_model_free(m);
}

/* ---- many utterances: threads, shards, merge, resume ---- */

enum { NU = 9 };
typedef struct {
    nk_model *m;
    float *x[NU];
    int T[NU];
    nk_nap_event *ev[NU];
    int n_ev[NU];
    char id[NU][16];
    nk_nap_utt u[NU];
} corpus;

static void corpus_make(corpus *c) {
    c->m = model_from(tiny_json, 0, 9, 1.0f);
    for (int i = 0; i < NU; i++) {
        c->T[i] = 60 + 13 * i;
        c->x[i] = random_input(3, c->T[i], 100 + i);
        double dur = c->T[i] * 0.01;
        c->n_ev[i] = 4 + i % 3;
        c->ev[i] = malloc(sizeof(nk_nap_event) * c->n_ev[i]);
        for (int e = 0; e < c->n_ev[i]; e++) {
            double peak = dur * (e + 0.5) / c->n_ev[i];
            c->ev[i][e] = (nk_nap_event){(i + e) % 3, peak - 0.04, peak + 0.05, peak, 2 + e % 2};
        }
        snprintf(c->id[i], sizeof c->id[i], "utt%02d", i);
        c->u[i] = (nk_nap_utt){c->id[i], c->x[i], c->T[i], c->ev[i], c->n_ev[i]};
    }
}

static void corpus_free(corpus *c) {
    for (int i = 0; i < NU; i++) free(c->x[i]), free(c->ev[i]);
    nk_model_free(c->m);
}

static const char *const cgroups[] = {"a", "b", "c"};
static int clayers[] = {0, 2, 4};

static nk_nap_sums *corpus_sums(corpus *c) {
    nk_nap_config cfg = {NK_NAP_GXA, NK_NAP_CENTER_GRAD, NK_NAP_TARGET_LOGPROB, 4, 3, clayers};
    nk_nap_sums *s = NULL;
    CHECK_OK(nk_nap_sums_new(nk_model_arch(c->m), &cfg, cgroups, 3, "{\"model\": \"tiny\"}", &s));
    return s;
}

/* Bitwise equality of two sums' data. */
static int sums_identical(const nk_nap_sums *a, const nk_nap_sums *b) {
    if (nk_nap_sums_n_groups(a) != nk_nap_sums_n_groups(b)) return 0;
    for (int g = 0; g < nk_nap_sums_n_groups(a); g++) {
        if (strcmp(nk_nap_sums_group(a, g), nk_nap_sums_group(b, g)) ||
            nk_nap_sums_n_events(a, g) != nk_nap_sums_n_events(b, g))
            return 0;
        for (int i = 0; i < 3; i++) {
            size_t n = (2 * 4 + 1) * (1 + 2 * (size_t)nk_nap_sums_channels(a, i));
            if (memcmp(nk_nap_sums_count(a, g, i), nk_nap_sums_count(b, g, i), n * sizeof(double))) return 0;
        }
    }
    return 1;
}

/* Largest relative difference between two sums' data. */
static double sums_maxrel(const nk_nap_sums *a, const nk_nap_sums *b) {
    double err = 0, ref = 1e-300;
    for (int g = 0; g < nk_nap_sums_n_groups(a); g++)
        for (int i = 0; i < 3; i++) {
            size_t n = (2 * 4 + 1) * (1 + 2 * (size_t)nk_nap_sums_channels(a, i));
            const double *x = nk_nap_sums_count(a, g, i), *y = nk_nap_sums_count(b, g, i);
            for (size_t j = 0; j < n; j++) err = fmax(err, fabs(x[j] - y[j])), ref = fmax(ref, fabs(y[j]));
        }
    return err / ref;
}

static void test_threads_do_not_change_sums(void) {
    corpus c;
    corpus_make(&c);
    nk_nap_sums *one = corpus_sums(&c), *two = corpus_sums(&c);
    CHECK_OK(nk_nap_run(c.m, one, c.u, NU, 1, NULL, NULL));
    CHECK_OK(nk_nap_run(c.m, two, c.u, NU, 2, NULL, NULL));
    CHECK(sums_identical(one, two));
    CHECK(nk_nap_sums_n_utts(one) == NU);
    int64_t total = 0;
    for (int g = 0; g < 3; g++) total += nk_nap_sums_n_events(one, g);
    CHECK(total + nk_nap_sums_n_skipped_events(one) == 4 * 3 + 5 * 3 + 6 * 3);
    nk_nap_sums_free(one), nk_nap_sums_free(two);
    corpus_free(&c);
}

static void test_shards_merge_to_single_run(void) {
    corpus c;
    corpus_make(&c);
    nk_nap_sums *all = corpus_sums(&c), *a = corpus_sums(&c), *b = corpus_sums(&c);
    CHECK_OK(nk_nap_run(c.m, all, c.u, NU, 2, NULL, NULL));
    CHECK_OK(nk_nap_run(c.m, a, c.u, 4, 1, NULL, NULL));
    CHECK_OK(nk_nap_run(c.m, b, c.u + 4, NU - 4, 2, NULL, NULL));
    char *pa = nk_path_join(check_tmpdir(), "a.shard"), *pb = nk_path_join(check_tmpdir(), "b.shard");
    CHECK_OK(nk_nap_sums_write(a, pa));
    CHECK_OK(nk_nap_sums_write(b, pb));
    nk_nap_sums *ra = NULL, *rb = NULL;
    CHECK_OK(nk_nap_sums_read(pa, &ra));
    CHECK_OK(nk_nap_sums_read(pb, &rb));
    CHECK(ra && rb && sums_identical(ra, a) && sums_identical(rb, b));
    if (ra && rb) {
        CHECK(!strcmp(nk_nap_sums_identity(ra), "{\"model\":\"tiny\"}"));
        CHECK(nk_nap_sums_has_utt(ra, "utt03") && !nk_nap_sums_has_utt(ra, "utt04"));
        CHECK_OK(nk_nap_sums_merge(ra, rb));
        CHECK(nk_nap_sums_n_utts(ra) == NU);
        double rel = sums_maxrel(ra, all);
        printf("merged shards vs single run: max relative difference of the sums %.3g (%s)\n", rel,
               sums_identical(ra, all) ? "bit-identical" : "rounding only");
        CHECK(rel < 1e-13);
        /* merging again counts utterances twice */
        CHECK(nk_nap_sums_merge(ra, rb) == NK_ERR_ARG);
        CHECK(strstr(nk_last_error(), "twice") != NULL);
        /* finalized outputs agree to float rounding */
        nk_nap_finalize_opts o;
        nk_nap_finalize_opts_default(&o);
        o.min_count = 1;
        nk_nap_result r1, r2;
        CHECK_OK(nk_nap_finalize(ra, &o, &r1));
        CHECK_OK(nk_nap_finalize(all, &o, &r2));
        for (int i = 0; i < 3; i++) {
            size_t n = (size_t)r1.G * r1.channels[i] * 9;
            CHECK(check_max_rel_err(r1.mean[i], r2.mean[i], n) < 1e-6);
            CHECK(check_max_rel_err(r1.sem[i], r2.sem[i], n) < 1e-5);
        }
        nk_nap_result_free(&r1), nk_nap_result_free(&r2);
    }
    /* groups are matched by name: a shard whose groups come in another order */
    nk_nap_config cfg = *nk_nap_sums_config(a);
    const char *other[] = {"c", "a", "d"};
    nk_nap_sums *x = NULL;
    CHECK_OK(nk_nap_sums_new(nk_model_arch(c.m), &cfg, other, 3, "{\"model\": \"tiny\"}", &x));
    CHECK_OK(nk_nap_sums_merge(x, a));
    CHECK(nk_nap_sums_n_groups(x) == 4 && !strcmp(nk_nap_sums_group(x, 3), "b"));
    CHECK(nk_nap_sums_n_events(x, 1) == nk_nap_sums_n_events(a, 0));
    /* different settings or runs do not merge */
    nk_nap_sums *y = NULL;
    cfg.window = 3;
    CHECK_OK(nk_nap_sums_new(nk_model_arch(c.m), &cfg, cgroups, 3, "{\"model\": \"tiny\"}", &y));
    CHECK(nk_nap_sums_merge(y, b) == NK_ERR_ARG);
    nk_nap_sums_free(y);
    cfg.window = 4;
    CHECK_OK(nk_nap_sums_new(nk_model_arch(c.m), &cfg, cgroups, 3, "{\"model\": \"other\"}", &y));
    CHECK(nk_nap_sums_merge(y, b) == NK_ERR_ARG);
    nk_nap_sums_free(y), nk_nap_sums_free(x);
    nk_nap_sums_free(ra), nk_nap_sums_free(rb);
    nk_nap_sums_free(all), nk_nap_sums_free(a), nk_nap_sums_free(b);
    free(pa), free(pb);
    corpus_free(&c);
}

static int stop_after_three(void *ctx, size_t done, const nk_nap_utt *u, const char *failed) {
    return done >= 3;
}

static void test_interrupt_and_resume(void) {
    corpus c;
    corpus_make(&c);
    nk_nap_sums *all = corpus_sums(&c), *part = corpus_sums(&c);
    CHECK_OK(nk_nap_run(c.m, all, c.u, NU, 1, NULL, NULL));
    CHECK(nk_nap_run(c.m, part, c.u, NU, 2, stop_after_three, NULL) == NK_ERR_INTERRUPTED);
    CHECK(nk_nap_sums_n_utts(part) == 3);
    char *p = nk_path_join(check_tmpdir(), "resume.shard");
    CHECK_OK(nk_nap_sums_write(part, p));
    nk_nap_sums *back = NULL;
    CHECK_OK(nk_nap_sums_read(p, &back));
    nk_nap_utt rest[NU];
    int n = 0;
    for (int i = 0; back && i < NU; i++)
        if (!nk_nap_sums_has_utt(back, c.u[i].id)) rest[n++] = c.u[i];
    CHECK(n == NU - 3);
    if (back) CHECK_OK(nk_nap_run(c.m, back, rest, n, 2, NULL, NULL));
    CHECK(back && sums_identical(back, all)); /* the same additions in the same order */
    nk_nap_sums_free(back), nk_nap_sums_free(part), nk_nap_sums_free(all);
    free(p);
    corpus_free(&c);
}

/* ---- bad input ---- */

static void test_bad_input(void) {
    nk_model *m = model_from(tiny_json, 0, 1, 1.0f);
    const nk_arch *a = nk_model_arch(m);
    nk_nap_sums *s = NULL;
    int bad_layer[] = {0, 5};
    nk_nap_config cfg = {NK_NAP_GXA, NK_NAP_CENTER_PEAK, NK_NAP_TARGET_LOGIT, 3, 2, bad_layer};
    const char *groups[] = {"a", "b"};
    CHECK(nk_nap_sums_new(a, &cfg, groups, 2, NULL, &s) == NK_ERR_ARG);
    CHECK(strstr(nk_last_error(), "layer 5 is out of range") != NULL);
    int unordered[] = {2, 1};
    cfg.layers = unordered;
    CHECK(nk_nap_sums_new(a, &cfg, groups, 2, NULL, &s) == NK_ERR_ARG);
    int ok_layers[] = {1, 3};
    cfg.layers = ok_layers;
    /* no groups: an MPI rank whose share has no events; finalizing it alone fails */
    CHECK_OK(nk_nap_sums_new(a, &cfg, groups, 0, NULL, &s));
    CHECK(nk_nap_sums_n_groups(s) == 0);
    nk_nap_finalize_opts none;
    nk_nap_finalize_opts_default(&none);
    nk_nap_result r0;
    CHECK(nk_nap_finalize(s, &none, &r0) == NK_ERR_EMPTY);
    nk_nap_sums_free(s);
    const char *twice[] = {"a", "a"};
    CHECK(nk_nap_sums_new(a, &cfg, twice, 2, NULL, &s) == NK_ERR_ARG);
    CHECK(nk_nap_sums_new(a, &cfg, groups, 2, "[1]", &s) == NK_ERR_ARG);
    cfg.window = -1;
    CHECK(nk_nap_sums_new(a, &cfg, groups, 2, NULL, &s) == NK_ERR_ARG);
    cfg.window = 3;
    CHECK_OK(nk_nap_sums_new(a, &cfg, groups, 2, NULL, &s));

    /* events beyond the end, without a target letter, NaN input */
    const int T = 50;
    float *x = random_input(3, T, 3);
    nk_nap_event ev[] = {{0, 0.1, 0.2, 0.15, 2}, {1, 5.0, 5.1, 5.05, 2}, {1, 0.2, 0.3, 0.25, -1}, {1, 0.2, 0.3, 0.25, 3}};
    nk_nap_utt u[2] = {{"ok", x, T, ev, 4}, {"nan", NULL, T, ev, 1}};
    float *xn = random_input(3, T, 4);
    xn[17] = NAN;
    u[1].x = xn;
    char failed[256] = "";
    CHECK_OK(nk_nap_run(m, s, u, 2, 1, NULL, NULL));
    CHECK(nk_nap_sums_n_utts(s) == 1 && nk_nap_sums_has_utt(s, "ok") && !nk_nap_sums_has_utt(s, "nan"));
    CHECK(nk_nap_sums_n_skipped_events(s) == 2);
    CHECK(nk_nap_sums_n_events(s, 0) == 1 && nk_nap_sums_n_events(s, 1) == 1);
    (void)failed;
    /* all groups below min_count */
    nk_nap_finalize_opts o;
    nk_nap_finalize_opts_default(&o);
    nk_nap_result r;
    CHECK(nk_nap_finalize(s, &o, &r) == NK_ERR_EMPTY);
    CHECK(strstr(nk_last_error(), "20") != NULL);
    o.min_count = 1, o.baseline = 1, o.baseline_from = -5, o.baseline_to = 0;
    CHECK(nk_nap_finalize(s, &o, &r) == NK_ERR_ARG);
    o.baseline_from = -3, o.baseline_to = -1;
    CHECK_OK(nk_nap_finalize(s, &o, &r));
    nk_nap_result_free(&r);

    /* broken shard files */
    char *p = nk_path_join(check_tmpdir(), "bad.shard");
    CHECK_OK(nk_nap_sums_write(s, p));
    char *buf;
    size_t size;
    CHECK_OK(nk_read_file(p, &buf, &size));
    nk_nap_sums *t = NULL;
    CHECK_OK(nk_write_file(p, buf, size - 8)); /* truncated */
    CHECK(nk_nap_sums_read(p, &t) == NK_ERR_FORMAT && strstr(nk_last_error(), "bad.shard"));
    CHECK_OK(nk_write_file(p, buf, 12));
    CHECK(nk_nap_sums_read(p, &t) == NK_ERR_FORMAT);
    buf[0] = 'X';
    CHECK_OK(nk_write_file(p, buf, size));
    CHECK(nk_nap_sums_read(p, &t) == NK_ERR_FORMAT && strstr(nk_last_error(), "magic"));
    buf[0] = 'N';
    char *win = strstr(buf + 16, "\"window\":3");
    if (win) win[9] = 'x';
    CHECK_OK(nk_write_file(p, buf, size));
    CHECK(nk_nap_sums_read(p, &t) == NK_ERR_FORMAT);
    CHECK(t == NULL);
    free(buf), free(p), free(x), free(xn);
    nk_nap_sums_free(s);
    nk_model_free(m);
}

/* ---- outputs ---- */

static void test_save_outputs(void) {
    corpus c;
    corpus_make(&c);
    nk_nap_sums *s = corpus_sums(&c);
    CHECK_OK(nk_nap_run(c.m, s, c.u, NU, 2, NULL, NULL));
    nk_nap_finalize_opts o;
    nk_nap_finalize_opts_default(&o);
    o.min_count = 13; /* drops the group with the fewest events */
    o.normalize = NK_NAP_NORM_ZSCORE;
    nk_nap_result r;
    CHECK_OK(nk_nap_finalize(s, &o, &r));
    int dropped = 0;
    for (int g = 0; g < 3; g++) dropped += nk_nap_sums_n_events(s, g) < 13;
    CHECK(r.n_dropped == dropped && r.G == 3 - dropped);
    /* group-mean subtraction: the profiles sum to zero over groups */
    double worst = 0;
    for (int i = 0; i < 3; i++) {
        size_t plane = (size_t)r.channels[i] * 9;
        for (size_t k = 0; k < plane; k++) {
            double sum = 0;
            for (int g = 0; g < r.G; g++) sum += r.mean[i][g * plane + k];
            worst = fmax(worst, fabs(sum));
        }
    }
    CHECK(worst < 1e-4);
    char *dir = nk_path_join(check_tmpdir(), "out");
    CHECK_OK(nk_nap_result_save(&r, s, &o, "{\"corpus\": [\"x\"]}", dir));
    char *f = nk_path_join(dir, "layer_02.npy");
    nk_array a;
    CHECK_OK(nk_npy_read(f, &a));
    CHECK(a.ndim == 3 && a.shape[0] == r.G && a.shape[1] == 3 && a.shape[2] == 9);
    nk_array_free(&a);
    free(f);
    f = nk_path_join(dir, "layer_04_flat.npy");
    CHECK_OK(nk_npy_read(f, &a));
    CHECK(a.ndim == 2 && a.shape[0] == r.G && a.shape[1] == 4);
    nk_array_free(&a);
    free(f);
    f = nk_path_join(dir, "naps.json");
    char *json;
    size_t size;
    CHECK_OK(nk_read_file(f, &json, &size));
    CHECK(strstr(json, "\"corpus\"") && strstr(json, "\"zscore\"") && strstr(json, "\"dropped\"") &&
          strstr(json, "\"gxa\"") && strstr(json, "layer_04"));
    free(json), free(f), free(dir);
    nk_nap_result_free(&r);
    nk_nap_sums_free(s);
    corpus_free(&c);
}

int main(void) {
    RUN(test_hand_network_modes);
    RUN(test_cone_equals_full_tiny);
    RUN(test_cone_equals_full_small);
    RUN(test_edges_unbiased);
    RUN(test_threads_do_not_change_sums);
    RUN(test_shards_merge_to_single_run);
    RUN(test_interrupt_and_resume);
    RUN(test_bad_input);
    RUN(test_save_outputs);
    return check_summary();
}
