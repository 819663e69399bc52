/* CTC prefix beam search against brute force: with a beam that holds every
 * prefix the search is exact, so its answer must be the best of all label
 * sequences, each scored independently (nk_ctc_loss, nk_charlm_logprob). */
#include "check.h"
#include "napkit/napkit.h"

#include <math.h>
#include <stdint.h>

static uint64_t rng = 1234567;

// lp (K, T): log-softmax over classes of uniform logits in [-scale, scale).
static void random_log_probs(float *lp, int K, int T, double scale) {
    for (int t = 0; t < T; t++) {
        double z[8], m = -INFINITY, sum = 0;
        for (int k = 0; k < K; k++) z[k] = scale * (2 * nk_rng_uniform(&rng) - 1), m = fmax(m, z[k]);
        for (int k = 0; k < K; k++) sum += exp(z[k] - m);
        for (int k = 0; k < K; k++) lp[k * T + t] = (float)(z[k] - m - log(sum));
    }
}

/* A sequence's score as the decoder defines it, computed directly:
 * −nll + lm_weight · (Σ log P_lm(label | before) + log P_lm(EOS | all)) + bonus · U. */
static double score_of(const float *lp, int K, int T, int blank, const int *labels, int U, const nk_ctc_beam_options *o) {
    double nll;
    if (nk_ctc_loss(lp, K, T, labels, U, blank, &nll, NULL)) return -INFINITY;
    double s = -nll + o->bonus * U;
    for (int u = 0; o->lm && u <= U; u++)
        s += o->lm_weight * nk_charlm_logprob(o->lm, labels, u, u < U ? labels[u] : nk_charlm_eos(o->lm));
    return s;
}

/* The best of every label sequence of length 0 … T (labels are the non-blank classes). */
static double brute_force_best(const float *lp, int K, int T, int blank, const nk_ctc_beam_options *o) {
    double best = -INFINITY;
    for (int U = 0; U <= T; U++) {
        long n = 1;
        for (int u = 0; u < U; u++) n *= K - 1;
        for (long i = 0; i < n; i++) {
            int labels[8];
            long q = i;
            for (int u = 0; u < U; u++, q /= K - 1) labels[u] = (int)(q % (K - 1)) + (blank == 0);
            best = fmax(best, score_of(lp, K, T, blank, labels, U, o));
        }
    }
    return best;
}

/* Decodes with o and checks the result scores as well as the brute-force best. */
static void check_exact(const float *lp, int K, int T, int blank, const nk_ctc_beam_options *o) {
    int labels[8], n = -1;
    CHECK_OK(nk_ctc_beam(lp, K, T, blank, o, labels, &n));
    double got = score_of(lp, K, T, blank, labels, n, o), want = brute_force_best(lp, K, T, blank, o);
    CHECK_NEAR(got, want, 1e-9 * (1 + fabs(want)));
}

static nk_ctc_beam_options wide(const nk_charlm *lm, double lm_weight, double bonus) {
    nk_ctc_beam_options o;
    nk_ctc_beam_defaults(&o);
    o.beam = 5000, o.prune = 0, o.lm = lm, o.lm_weight = lm_weight, o.bonus = bonus;
    return o;
}

// No LM: K = 3 or 4 with blank 0, and K = 3 with the blank last; T up to 6.
static void test_exact_without_lm(void) {
    for (int layout = 0; layout < 3; layout++)
        for (int T = 1; T <= 6; T++)
            for (int trial = 0; trial < 8; trial++) {
                const int K = layout == 1 ? 4 : 3, blank = layout == 2 ? K - 1 : 0;
                float lp[4 * 6];
                random_log_probs(lp, K, T, 2.5);
                nk_ctc_beam_options o = wide(NULL, 0, trial % 3 - 1.0); /* bonus −1, 0, 1 */
                check_exact(lp, K, T, blank, &o);
            }
}

static const char *const abc_symbols[] = {"_", " ", "a", "b", "c"};

static nk_charlm *train(int order, const char *const *texts, size_t n) {
    nk_alphabet *a;
    nk_charlm *lm = NULL;
    CHECK_OK(nk_alphabet_new(abc_symbols, 5, &a));
    CHECK_OK(nk_charlm_train(a, order, texts, n, &lm));
    nk_alphabet_free(a);
    return lm;
}

// With a language model (orders 1–3, weights and bonuses of both signs) the
// exact search still finds the best sequence, EOS term included.
static void test_exact_with_lm(void) {
    const char *texts[] = {"ab ab", "abc", "ca", "b", "aab cab", "cc"};
    for (int order = 1; order <= 3; order++) {
        nk_charlm *lm = train(order, texts, 6);
        if (!lm) return;
        for (int T = 1; T <= 5; T++)
            for (int trial = 0; trial < 6; trial++) {
                float lp[5 * 5];
                random_log_probs(lp, 5, T, 2.0);
                nk_ctc_beam_options o = wide(lm, 0.3 + trial * 0.4, trial % 2 ? 0.8 : -0.5);
                check_exact(lp, 5, T, 0, &o);
            }
        nk_charlm_free(lm);
    }
}

// argmax of f(s) + bonus·|s| grows no shorter as the bonus grows (exact search).
static void test_bonus_monotone(void) {
    for (int trial = 0; trial < 20; trial++) {
        float lp[4 * 6];
        random_log_probs(lp, 4, 6, 2.0);
        int prev = -1, ok = 1;
        for (double bonus = -3; bonus <= 3; bonus += 0.5) {
            int labels[6], n;
            nk_ctc_beam_options o = wide(NULL, 0, bonus);
            CHECK_OK(nk_ctc_beam(lp, 4, 6, 0, &o, labels, &n));
            ok &= n >= prev;
            prev = n;
        }
        CHECK(ok);
    }
}

// Frames that are nearly certain leave one candidate: any beam, even 1 wide,
// with the default pruning, gives the greedy answer.
static void test_certain_frames_are_greedy(void) {
    enum { K = 5, T = 40 };
    for (int trial = 0; trial < 20; trial++) {
        float lp[K * T];
        for (int t = 0; t < T; t++) {
            int hot = (int)nk_rng_below(&rng, K);
            for (int k = 0; k < K; k++) lp[k * T + t] = k == hot ? -1e-6f : -15.0f - (float)nk_rng_uniform(&rng);
        }
        int greedy[T], beam[T], n_greedy, n_beam;
        nk_ctc_greedy(lp, K, T, 0, greedy, &n_greedy);
        for (int width = 1; width <= 16; width *= 4) {
            nk_ctc_beam_options o;
            nk_ctc_beam_defaults(&o);
            o.beam = width;
            CHECK_OK(nk_ctc_beam(lp, K, T, 0, &o, beam, &n_beam));
            CHECK(n_beam == n_greedy && !memcmp(beam, greedy, sizeof(int) * n_greedy));
        }
    }
}

/* Decodes "a, blank, then a or b" (log P(a) = log pa at the last frame) with lm. */
static void decode_tie(const nk_charlm *lm, double pa, int *labels, int *n) {
    enum { K = 5, T = 3 };
    float lp[K * T];
    for (int i = 0; i < K * T; i++) lp[i] = -30;
    lp[2 * T + 0] = 0;                         /* a */
    lp[0 * T + 1] = 0;                         /* blank */
    lp[2 * T + 2] = (float)log(pa);            /* a … */
    lp[3 * T + 2] = (float)log(1 - pa - 1e-9); /* … or b */
    nk_ctc_beam_options o;
    nk_ctc_beam_defaults(&o);
    o.lm = lm, o.lm_weight = 1;
    CHECK_OK(nk_ctc_beam(lp, K, T, 0, &o, labels, n));
}

// "aa" and "ab" tie acoustically (or nearly: 0.55 against 0.45); an LM that
// has only seen "ab" picks "ab", one that has only seen "aa" picks "aa".
static void test_lm_breaks_ties(void) {
    const char *ab_texts[] = {"ab", "ab ab"}, *aa_texts[] = {"aa", "aa aa"};
    nk_charlm *ab = train(3, ab_texts, 2), *aa = train(3, aa_texts, 2);
    if (!ab || !aa) return;
    for (int i = 0; i < 2; i++) {
        const double pa[] = {0.5, 0.55};
        int labels[3], n;
        decode_tie(ab, pa[i], labels, &n);
        CHECK(n == 2 && labels[0] == 2 && labels[1] == 3);
        decode_tie(aa, 1 - pa[i], labels, &n);
        CHECK(n == 2 && labels[0] == 2 && labels[1] == 2);
    }
    nk_charlm_free(ab), nk_charlm_free(aa);
}

// lm_weight 0 and bonus 0: the same as no LM, with the default beam and pruning.
static void test_zero_weight_is_no_lm(void) {
    const char *texts[] = {"abc abc", "cab"};
    nk_charlm *lm = train(4, texts, 2);
    if (!lm) return;
    enum { K = 5, T = 60 };
    for (int trial = 0; trial < 10; trial++) {
        float lp[K * T];
        random_log_probs(lp, K, T, 3.0);
        int a[T], b[T], na, nb;
        nk_ctc_beam_options o;
        nk_ctc_beam_defaults(&o);
        CHECK_OK(nk_ctc_beam(lp, K, T, 0, &o, a, &na));
        o.lm = lm, o.lm_weight = 0, o.bonus = 0;
        CHECK_OK(nk_ctc_beam(lp, K, T, 0, &o, b, &nb));
        CHECK(na == nb && !memcmp(a, b, sizeof(int) * na));
    }
    nk_charlm_free(lm);
}

static void test_arguments(void) {
    float lp[3] = {0, -1, -2};
    int labels[1], n = 7;
    nk_ctc_beam_options o;
    nk_ctc_beam_defaults(&o);
    CHECK(o.beam == 16 && o.prune == 10 && o.lm == NULL);
    o.beam = 0;
    CHECK(nk_ctc_beam(lp, 3, 1, 0, &o, labels, &n) == NK_ERR_ARG && n == 0);
    o.beam = 4;
    CHECK_OK(nk_ctc_beam(lp, 3, 0, 0, &o, labels, &n)); /* no frames: the empty transcript */
    CHECK(n == 0);
}

int main(void) {
    RUN(test_exact_without_lm);
    RUN(test_exact_with_lm);
    RUN(test_bonus_monotone);
    RUN(test_certain_frames_are_greedy);
    RUN(test_lm_breaks_ties);
    RUN(test_zero_weight_is_no_lm);
    RUN(test_arguments);
    return check_summary();
}
