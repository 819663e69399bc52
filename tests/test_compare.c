/* Comparing two models over a corpus: a model against itself (CKA 1 on the
 * diagonal, identity matching), thread-count independence, the frame grid,
 * and bad input. */
#include "check.h"

#include "napkit/compare.h"
#include "napkit/error.h"

#include <stdint.h>

static const char *arch_json(int hop, int stride0) {
    static char buf[1200];
    snprintf(buf, sizeof buf,
             "{\"name\": \"tiny\", \"alphabet\": [\"_\", \" \", \"a\", \"b\", \"c\"], \"blank\": 0,"
             " \"frontend\": {\"kind\": \"logmel\", \"n_mels\": 6, \"hop\": %d},"
             " \"layers\": ["
             "{\"type\": \"conv1d\", \"in\": 6, \"out\": 12, \"kernel\": 5, \"stride\": %d, \"padding\": 2, \"activation\": \"relu\"},"
             "{\"type\": \"conv1d\", \"in\": 12, \"out\": 10, \"kernel\": 3, \"stride\": 2, \"padding\": 1, \"activation\": \"relu\"},"
             "{\"type\": \"conv1d\", \"in\": 10, \"out\": 9, \"kernel\": 3, \"stride\": 1, \"padding\": 1, \"activation\": \"relu\"},"
             "{\"type\": \"conv1d\", \"in\": 9, \"out\": 5, \"kernel\": 1, \"stride\": 1, \"padding\": 0, \"activation\": \"none\"}]}",
             hop, stride0);
    return buf;
}

static nk_model *tiny(uint64_t seed, int hop, int stride0) {
    nk_arch a;
    nk_model *m = NULL;
    if (nk_arch_parse(arch_json(hop, stride0), "tiny", &a) || nk_model_new(&a, &m)) {
        fprintf(stderr, "tiny model: %s\n", nk_last_error());
        exit(1);
    }
    nk_arch_free(&a);
    nk_model_init(m, seed);
    /* Positive biases keep the ReLU units alive on random inputs. */
    const nk_arch *arch = nk_model_arch(m);
    for (int l = 0; l < arch->n_layers; l++) {
        float *bias = nk_model_params(m) + nk_model_layer_offset(m, l) +
                      (size_t)arch->layers[l].out * arch->layers[l].in * arch->layers[l].kernel;
        for (int c = 0; c < arch->layers[l].out; c++) bias[c] = 0.2f;
    }
    return m;
}

enum { N_UTT = 9, F = 6 };
static float *feats[N_UTT];
static nk_compare_utt utts[N_UTT];

static void make_corpus(void) {
    uint64_t s = 7;
    for (int i = 0; i < N_UTT; i++) {
        int T = 40 + 17 * i;
        feats[i] = malloc(sizeof(float) * F * T);
        for (int k = 0; k < F * T; k++) {
            s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
            feats[i][k] = (float)((double)((s * 2685821657736338717ull) >> 11) / 9007199254740992.0 * 2 - 1);
        }
        utts[i] = (nk_compare_utt){.id = "u", .xa = feats[i], .Ta = T, .xb = feats[i], .Tb = T};
    }
}

static const int all4[] = {0, 1, 2, 3};

static nk_cmp_moments *moments_for(const nk_model *a, const int *la, int na, const nk_model *b, const int *lb, int nb) {
    int ca[4], cb[4];
    for (int i = 0; i < na; i++) ca[i] = nk_model_arch(a)->layers[la[i]].out;
    for (int j = 0; j < nb; j++) cb[j] = nk_model_arch(b)->layers[lb[j]].out;
    nk_cmp_moments *m = NULL;
    CHECK_OK(nk_cmp_moments_new(na, ca, nb, cb, &m));
    return m;
}

static void test_self(void) {
    nk_model *a = tiny(1, 160, 1);
    nk_cmp_moments *m = moments_for(a, all4, 4, a, all4, 4);
    size_t used;
    CHECK_OK(nk_compare_run(a, all4, 4, a, all4, 4, utts, N_UTT, 1, NULL, NULL, m, &used));
    CHECK(used == N_UTT);
    double cka[16];
    CHECK_OK(nk_cka(m, cka));
    for (int i = 0; i < 4; i++) CHECK_NEAR(cka[i * 4 + i], 1.0, 1e-9);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            CHECK(cka[i * 4 + j] > 0 && cka[i * 4 + j] <= 1 + 1e-12);
            CHECK_NEAR(cka[i * 4 + j], cka[j * 4 + i], 1e-9); /* symmetric for a model with itself */
        }
    for (int l = 0; l < 4; l++) {
        int C = nk_model_arch(a)->layers[l].out, alive = 0;
        double *rho = malloc(sizeof(double) * C * C);
        CHECK_OK(nk_unit_corr(m, l, l, rho));
        nk_unit_matching um;
        CHECK_OK(nk_unit_match(rho, C, C, &um));
        for (int i = 0; i < C; i++) {
            if (isnan(rho[i * C + i])) continue;
            alive++;
            CHECK(um.match[i] == i);
            CHECK(um.semi[i] == i);
            CHECK_NEAR(um.match_corr[i], 1.0, 1e-9);
        }
        CHECK(alive >= C - 1);
        nk_unit_matching_free(&um);
        free(rho);
    }
    nk_cmp_moments_free(m);
    nk_model_free(a);
}

static void test_two_models_threads(void) {
    nk_model *a = tiny(1, 160, 1), *b = tiny(2, 160, 1);
    const int lb[] = {1, 3};
    nk_cmp_moments *m1 = moments_for(a, all4, 4, b, lb, 2), *m2 = moments_for(a, all4, 4, b, lb, 2);
    size_t used;
    CHECK_OK(nk_compare_run(a, all4, 4, b, lb, 2, utts, N_UTT, 1, NULL, NULL, m1, &used));
    CHECK_OK(nk_compare_run(a, all4, 4, b, lb, 2, utts, N_UTT, 2, NULL, NULL, m2, &used));
    double c1[8], c2[8];
    CHECK_OK(nk_cka(m1, c1));
    CHECK_OK(nk_cka(m2, c2));
    CHECK(memcmp(c1, c2, sizeof c1) == 0); /* bit-identical whatever the thread count */
    CHECK(c1[1 * 2 + 0] < 0.999);           /* different weights: not the same representation */
    nk_cmp_moments_free(m1), nk_cmp_moments_free(m2);
    nk_model_free(a), nk_model_free(b);
}

static void test_grid(void) {
    /* Layer 0 at stride 1, the rest at 2: layer 0 is sampled every 2nd frame. */
    nk_model *a = tiny(1, 160, 1), *b = tiny(3, 160, 2), *c = tiny(1, 100, 1);
    int S, sa[4], sb[4];
    CHECK_OK(nk_compare_grid(a, all4, 4, b, all4, 4, &S, sa, sb));
    CHECK(S == 4 && sa[0] == 4 && sa[1] == 2 && sa[3] == 2 && sb[0] == 2 && sb[1] == 1);
    CHECK(nk_compare_grid(a, all4, 4, c, all4, 4, &S, sa, sb) == NK_ERR_ARG);
    CHECK(strstr(nk_last_error(), "frame rates") != NULL);
    const int bad[] = {4};
    CHECK(nk_compare_grid(a, bad, 1, b, all4, 4, &S, sa, sb) == NK_ERR_ARG);

    /* Layer 0 of a (stride 1) against itself at the grid of layer 1 (stride 2):
     * the grid holds every 2nd frame, which is still the same representation. */
    const int l01[] = {0, 1};
    nk_cmp_moments *m = moments_for(a, l01, 2, a, l01, 2);
    size_t used;
    CHECK_OK(nk_compare_run(a, l01, 2, a, l01, 2, utts, N_UTT, 2, NULL, NULL, m, &used));
    /* n = Σ_utt (T_1 = ceil(T/2)) samples */
    double n = 0;
    for (int i = 0; i < N_UTT; i++) n += (utts[i].Ta - 1) / 2 + 1;
    CHECK_NEAR(nk_cmp_moments_count(m), n, 0);
    nk_cmp_moments_free(m);
    nk_model_free(a), nk_model_free(b), nk_model_free(c);
}

static int n_failed;
static int count_failures(void *ctx, size_t done, const nk_compare_utt *u, const char *failed) {
    if (failed) n_failed++;
    return 0;
}

static void test_bad_utterances(void) {
    nk_model *a = tiny(1, 160, 1);
    nk_compare_utt u[3] = {utts[0], {.id = "missing", .audio = "/nonexistent/x.flac"}, utts[1]};
    float bad[F * 30];
    for (int k = 0; k < F * 30; k++) bad[k] = k == 5 ? NAN : 0.1f;
    u[2] = (nk_compare_utt){.id = "nan", .xa = bad, .Ta = 30, .xb = bad, .Tb = 30};
    nk_cmp_moments *m = moments_for(a, all4, 4, a, all4, 4);
    size_t used;
    n_failed = 0;
    CHECK_OK(nk_compare_run(a, all4, 4, a, all4, 4, u, 3, 2, count_failures, NULL, m, &used));
    CHECK(used == 1 && n_failed == 2);
    CHECK(nk_compare_run(a, all4, 4, a, all4, 4, u + 1, 2, 1, NULL, NULL, m, &used) == NK_ERR_EMPTY);
    nk_cmp_moments_free(m);
    nk_model_free(a);
}

int main(void) {
    make_corpus();
    RUN(test_self);
    RUN(test_two_models_threads);
    RUN(test_grid);
    RUN(test_bad_utterances);
    for (int i = 0; i < N_UTT; i++) free(feats[i]);
    return check_summary();
}
