/* Comparing two models over a corpus: a model against itself (CKA 1 on the
 * diagonal, identity matching), thread-count independence, the frame grid,
 * and bad input. */
#include "check.h"

#include "napkit/cluster.h"
#include "napkit/compare.h"
#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/npy.h"

#include <sys/stat.h>

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


static double noise(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ull) >> 11) / 9007199254740992.0 * 2 - 1;
}

static void test_group_ipa(void) {
    CHECK(!strcmp(nk_group_ipa("AH0"), "ə"));
    CHECK(!strcmp(nk_group_ipa("SH"), "ʃ"));
    CHECK(!strcmp(nk_group_ipa("ʃ"), "ʃ"));
    CHECK(!strcmp(nk_group_ipa("t͡ʃ"), nk_group_ipa("CH")));
    CHECK(!strcmp(nk_group_ipa("no-such"), "no-such"));
}

enum { G = 9, CA = 20, CB = 23 };

/* Profiles: B's unit perm[i] is A's unit i scaled, shifted (per unit) and noisy; B has extra units. */
static void profiles(double *Pa, double *Pb, int *perm, double noise_level) {
    uint64_t s = 3;
    for (int i = 0; i < CA; i++) perm[i] = (i * 7 + 3) % CB; /* distinct for CB = 23 (prime) */
    double centre[3][CA]; /* three phoneme classes, so the trees have a structure to agree on */
    for (int k = 0; k < 3 * CA; k++) centre[k / CA][k % CA] = noise(&s);
    for (int k = 0; k < G * CA; k++) Pa[k] = centre[(k / CA) % 3][k % CA] + 0.4 * noise(&s);
    for (int k = 0; k < G * CB; k++) Pb[k] = noise(&s);
    for (int g = 0; g < G; g++)
        for (int i = 0; i < CA; i++)
            Pb[g * CB + perm[i]] = 2.0 * Pa[g * CA + i] + 0.5 * i + noise_level * noise(&s);
}

static void test_profile_similarity(void) {
    double Pa[G * CA], Pb[G * CB], R[G * G], same, diff, ident;
    int perm[CB], wrong[CA];
    profiles(Pa, Pb, perm, 0.0);
    CHECK_OK(nk_profile_similarity(Pa, G, CA, Pb, CB, perm, R, &same, &diff, &ident));
    CHECK_NEAR(same, 1.0, 1e-12); /* z-scoring per unit removes the scale and shift */
    CHECK(diff < 0.3 && ident == 1.0);
    profiles(Pa, Pb, perm, 0.5);
    CHECK_OK(nk_profile_similarity(Pa, G, CA, Pb, CB, perm, R, &same, &diff, &ident));
    CHECK(same > 0.8 && same > diff + 0.5);
    /* Matching the wrong units destroys the correspondence. */
    for (int i = 0; i < CA; i++) wrong[i] = perm[(i + 1) % CA];
    double same_w;
    CHECK_OK(nk_profile_similarity(Pa, G, CA, Pb, CB, wrong, R, &same_w, &diff, &ident));
    CHECK(same_w < 0.5);
    for (int i = 0; i < CA; i++) wrong[i] = -1;
    CHECK(nk_profile_similarity(Pa, G, CA, Pb, CB, wrong, R, &same, &diff, &ident) == NK_ERR_EMPTY);
}

static void test_tree_cophenetic(void) {
    /* ((0,1),(2,3)) vs the same tree, and vs ((0,2),(1,3)). */
    const double Z1[] = {0, 1, 1, 2, 2, 3, 1.5, 2, 4, 5, 3, 4};
    const double Z2[] = {0, 2, 1, 2, 1, 3, 1.5, 2, 4, 5, 3, 4};
    double r;
    CHECK_OK(nk_tree_cophenetic_corr(Z1, Z1, 4, &r));
    CHECK_NEAR(r, 1.0, 1e-12);
    CHECK_OK(nk_tree_cophenetic_corr(Z1, Z2, 4, &r));
    CHECK(r < 0.5);
}

/* A NAPs folder with one layer (index 0) of flat profiles P (G, C). */
static void naps_dir(const char *dir, const char *const *groups, const double *P, int C) {
    mkdir(dir, 0755);
    char path[512], json[1024] = "{\"groups\": [";
    for (int g = 0; g < G; g++) snprintf(json + strlen(json), sizeof json - strlen(json), "%s\"%s\"", g ? ", " : "", groups[g]);
    strcat(json, "], \"layers\": [{\"index\": 0, \"name\": \"layer_00\"}]}");
    snprintf(path, sizeof path, "%s/naps.json", dir);
    CHECK_OK(nk_write_file(path, json, strlen(json)));
    long shape[2] = {G, C};
    snprintf(path, sizeof path, "%s/layer_00_flat.npy", dir);
    CHECK_OK(nk_npy_write(path, NK_F64, 2, shape, P));
}

static int exists(const char *dir, const char *name) {
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 && st.st_size > 0;
}

static void test_profiles_and_topomaps(void) {
    /* A names phonemes in IPA, B in ARPAbet and in another order, plus one phoneme A lacks. */
    static const char *const ga[G] = {"p", "b", "t", "d", "k", "ɡ", "s", "z", "ʃ"};
    static const char *const gb[G] = {"SH", "Z", "S", "G", "K", "D", "T", "B", "NG"};
    static const int b_of_a[G] = {-1, 7, 6, 5, 4, 3, 2, 1, 0}; /* row of B holding A's phoneme */
    double Pa[G * CA], Pb0[G * CB], Pb[G * CB];
    int perm[CB];
    profiles(Pa, Pb0, perm, 0.2);
    for (int g = 0; g < G; g++) {
        int row = g == 0 ? 8 : b_of_a[g]; /* B's NG row gets A's p profile: not shared anyway */
        memcpy(Pb + row * CB, Pb0 + g * CB, sizeof(double) * CB);
    }
    char da[256], db[256], out[256];
    snprintf(da, sizeof da, "%s/naps_a", check_tmpdir());
    snprintf(db, sizeof db, "%s/naps_b", check_tmpdir());
    snprintf(out, sizeof out, "%s/cmp", check_tmpdir());
    naps_dir(da, ga, Pa, CA);
    naps_dir(db, gb, Pb, CB);
    CHECK_OK(nk_mkdirs(out));
    double Pa8[8 * CA], Pb8[8 * CB];
    int ca, cb, n;
    char **ph;
    double *Xa, *Xb;
    CHECK_OK(nk_shared_profiles(da, db, 0, &Xa, &ca, &Xb, &cb, &ph, &n));
    CHECK(n == 8 && ca == CA && cb == CB && !strcmp(ph[0], "b") && !strcmp(ph[7], "ʃ"));
    memcpy(Pa8, Pa + CA, sizeof Pa8), memcpy(Pb8, Pb0 + CB, sizeof Pb8);
    CHECK(memcmp(Xa, Pa8, sizeof Pa8) == 0 && memcmp(Xb, Pb8, sizeof Pb8) == 0);
    free(Xa), free(Xb);
    nk_strings_free(ph, n);

    /* The unit matching a corpus run would give: perm. */
    nk_compare_result r = {0};
    int pair = 0;
    nk_unit_matching um = {.na = CA, .nb = CB, .match = perm};
    r.n_pairs = 1, r.pair = &pair, r.um = &um;
    nk_profile_result pr;
    CHECK_OK(nk_compare_profiles(da, db, &r, "A", "B", NULL, out, &pr));
    CHECK(pr.n_layers == 1 && pr.G == 8);
    CHECK(pr.layers[0].same > 0.9 && pr.layers[0].identification == 1.0);
    CHECK(pr.layers[0].cophenetic > 0.9); /* B's profiles are A's, scaled: similar trees */
    CHECK(exists(out, "profile_similarity.json") && exists(out, "tanglegram_00.png") && exists(out, "profile_corr_00.svg"));

    nk_topo_config tc;
    nk_topo_config_default(&tc);
    tc.epochs = 100;
    nk_topo_result tr;
    CHECK_OK(nk_compare_topomaps(da, db, &tc, "A", "B", NULL, out, &tr));
    CHECK(tr.G == 8 && tr.rows * tr.cols >= CA + CB);
    CHECK(tr.same > tr.different + 0.3); /* matching units share cells: the maps agree per phoneme */
    CHECK(exists(out, "topomap_00.png") && exists(out, "topomap_00.json"));
    nk_compare_info info = {"A", "B", "a.safetensors", "b.safetensors", NULL, 0, 1, 0, 1};
    double cka = 0.5;
    r.na = r.nb = 1, r.la = r.lb = &pair, r.cka = &cka;
    double mc[CA], sc[CA];
    int semi[CA];
    for (int i = 0; i < CA; i++) mc[i] = sc[i] = 0.5, semi[i] = perm[i];
    um.match_corr = mc, um.semi_corr = sc, um.semi = semi;
    CHECK_OK(nk_compare_summary_write(&info, &r, &pr, &tr, out));
    CHECK(exists(out, "summary.md"));
    nk_profile_result_free(&pr);
    CHECK(nk_compare_profiles(da, "/nonexistent", &r, "A", "B", NULL, out, &pr) != 0);
}

int main(void) {
    make_corpus();
    RUN(test_self);
    RUN(test_two_models_threads);
    RUN(test_grid);
    RUN(test_bad_utterances);
    RUN(test_group_ipa);
    RUN(test_profile_similarity);
    RUN(test_tree_cophenetic);
    RUN(test_profiles_and_topomaps);
    for (int i = 0; i < N_UTT; i++) free(feats[i]);
    return check_summary();
}
