/* CTC loss, gradient, greedy decoding and forced alignment against independent
 * references: PyTorch fixtures (tests/fixtures/make_ctc.py), finite differences
 * and brute-force enumeration of every frame-level path on tiny trellises. */
#include "check.h"
#include "napkit/napkit.h"

#include <math.h>
#include <stdint.h>

static uint64_t rng_state = 88172645463325252ull;

static double uniform(void) { // xorshift64, in [0, 1)
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (rng_state >> 11) * (1.0 / 9007199254740992.0);
}

// lp (K, T): log-softmax over classes of uniform logits in [-scale, scale).
static void random_log_probs(float *lp, int K, int T, double scale) {
    for (int t = 0; t < T; t++) {
        double z[64], m = -INFINITY, sum = 0;
        for (int k = 0; k < K; k++) z[k] = scale * (2 * uniform() - 1), m = fmax(m, z[k]);
        for (int k = 0; k < K; k++) sum += exp(z[k] - m);
        for (int k = 0; k < K; k++) lp[k * T + t] = (float)(z[k] - m - log(sum));
    }
}

/* Every frame-level path of a K^T trellis that collapses to `labels`: the
 * log of the summed probability and the best path (its frame labels). */
static void brute_force(const float *lp, int K, int T, const int *labels, int U, int blank,
                        double *logsum, double *best, int *best_path) {
    double sum = 0;
    *best = -INFINITY;
    long n = 1;
    for (int t = 0; t < T; t++) n *= K;
    for (long p = 0; p < n; p++) {
        int path[16], out[16], n_out = 0, prev = -1;
        long q = p;
        double score = 0;
        for (int t = 0; t < T; t++) {
            path[t] = (int)(q % K);
            q /= K;
            score += lp[path[t] * T + t];
            if (path[t] != prev && path[t] != blank) out[n_out++] = path[t];
            prev = path[t];
        }
        if (n_out != U || (U && memcmp(out, labels, sizeof(int) * U))) continue;
        sum += exp(score);
        if (score > *best) {
            *best = score;
            memcpy(best_path, path, sizeof(int) * T);
        }
    }
    *logsum = log(sum);
}

// K = 3 with blank 0, and K = 2 with blank 1 (the speechless layout: blank last).
static void test_loss_brute_force(void) {
    static const int targets3[][3] = {{0}, {1}, {1, 1}, {1, 2}, {2, 1, 2}, {1, 1, 1}, {2, 2, 1}};
    static const int lengths3[] = {0, 1, 2, 2, 3, 3, 3};
    static const int targets2[][3] = {{0}, {0}, {0, 0}, {0, 0, 0}};
    static const int lengths2[] = {0, 1, 2, 3};
    for (int K = 2; K <= 3; K++)
        for (int T = 1; T <= 6; T++)
            for (int c = 0; c < (K == 3 ? 7 : 4); c++) {
                int U = K == 3 ? lengths3[c] : lengths2[c], blank = K == 3 ? 0 : 1;
                const int *labels = K == 3 ? targets3[c] : targets2[c];
                float lp[3 * 6];
                random_log_probs(lp, K, T, 2.0);
                int repeats = 0;
                for (int u = 1; u < U; u++) repeats += labels[u] == labels[u - 1];
                double nll, logsum, best;
                int path[6];
                int rc = nk_ctc_loss(lp, K, T, labels, U, blank, &nll, NULL);
                if (T < U + repeats) {
                    CHECK(rc == NK_ERR_INFEASIBLE);
                    CHECK(isinf(nll) && nll > 0);
                    continue;
                }
                CHECK_OK(rc);
                brute_force(lp, K, T, labels, U, blank, &logsum, &best, path);
                CHECK_NEAR(nll, -logsum, 1e-9 * (1 + fabs(logsum)));
            }
}

// Central differences of the double nll over each float log-prob (unnormalized
// inputs too: the gradient is the true partial derivative).
static void test_loss_finite_differences(void) {
    static const int targets[][4] = {{1, 2, 3}, {2, 2, 1}, {3, 3, 3}, {0}};
    static const int lengths[] = {3, 3, 3, 0};
    enum { K = 4, T = 8 };
    for (int c = 0; c < 4; c++) {
        float lp[K * T], grad[K * T];
        random_log_probs(lp, K, T, 1.5);
        for (int i = 0; i < K * T; i++) lp[i] += (float)(0.3 * uniform()); // not normalized
        double nll;
        CHECK_OK(nk_ctc_loss(lp, K, T, targets[c], lengths[c], 0, &nll, grad));
        double maxerr = 0;
        for (int i = 0; i < K * T; i++) {
            float x = lp[i], xp = x + 1e-3f, xm = x - 1e-3f;
            double fp, fm;
            lp[i] = xp;
            nk_ctc_loss(lp, K, T, targets[c], lengths[c], 0, &fp, NULL);
            lp[i] = xm;
            nk_ctc_loss(lp, K, T, targets[c], lengths[c], 0, &fm, NULL);
            lp[i] = x;
            maxerr = fmax(maxerr, fabs((fp - fm) / ((double)xp - xm) - grad[i]));
        }
        CHECK(maxerr < 2e-5);
        if (maxerr >= 2e-5) fprintf(stderr, "  target %d: max gradient error %g\n", c, maxerr);
    }
}

// Occupancies are posteriors over states: −Σ_k grad[k, t] = 1 at every frame.
static void test_occupancy_sums_to_one(void) {
    enum { K = 29, T = 120 };
    float lp[K * T], grad[K * T];
    random_log_probs(lp, K, T, 6.0);
    int labels[50];
    for (int u = 0; u < 50; u++) labels[u] = 1 + (int)(uniform() * 27);
    labels[7] = labels[6]; // at least one repeat
    double nll;
    CHECK_OK(nk_ctc_loss(lp, K, T, labels, 50, 28, &nll, grad));
    CHECK(isfinite(nll) && nll > 0);
    for (int t = 0; t < T; t++) {
        double sum = 0;
        for (int k = 0; k < K; k++) {
            sum -= grad[k * T + t];
            CHECK(grad[k * T + t] <= 0);
        }
        CHECK_NEAR(sum, 1.0, 1e-5);
    }
}

static int read_case(int i, const char *name, nk_array *a) {
    char path[128];
    snprintf(path, sizeof path, "tests/fixtures/ctc/case%d_%s.npy", i, name);
    int rc = nk_npy_read(path, a);
    if (rc) fprintf(stderr, "%s\n", nk_last_error());
    return rc;
}

/* torch's logits gradient through log-softmax equals g − p·Σ_k g for our
 * d nll / d log_probs g (p = softmax). */
static void test_loss_matches_torch(void) {
    for (int i = 0; i < 6; i++) {
        nk_array logits, labels, info, nll_ref, grad_ref;
        CHECK_OK(read_case(i, "logits", &logits));
        CHECK_OK(read_case(i, "labels", &labels));
        CHECK_OK(read_case(i, "info", &info));
        CHECK_OK(read_case(i, "nll", &nll_ref));
        CHECK_OK(read_case(i, "grad", &grad_ref));
        if (check_current_failed) return;
        const int *inf = info.data;
        int K = inf[0], T = inf[1], U = inf[2], blank = inf[3];
        const float *z = logits.data;
        float *lp = malloc(sizeof(float) * K * T), *grad = malloc(sizeof(float) * K * T);
        float *gz = malloc(sizeof(float) * K * T), *want = malloc(sizeof(float) * K * T);
        for (int t = 0; t < T; t++) {
            double m = -INFINITY, sum = 0;
            for (int k = 0; k < K; k++) m = fmax(m, z[k * T + t]);
            for (int k = 0; k < K; k++) sum += exp(z[k * T + t] - m);
            for (int k = 0; k < K; k++) lp[k * T + t] = (float)(z[k * T + t] - m - log(sum));
        }
        double nll;
        CHECK_OK(nk_ctc_loss(lp, K, T, labels.data, U, blank, &nll, grad));
        double ref = ((double *)nll_ref.data)[0];
        CHECK_NEAR(nll, ref, 1e-6 * (1 + fabs(ref)));
        for (int t = 0; t < T; t++) {
            double gsum = 0;
            for (int k = 0; k < K; k++) gsum += grad[k * T + t];
            for (int k = 0; k < K; k++)
                gz[k * T + t] = (float)(grad[k * T + t] - exp(lp[k * T + t]) * gsum);
        }
        for (int j = 0; j < K * T; j++) want[j] = (float)((double *)grad_ref.data)[j];
        double err = check_max_rel_err(gz, want, (size_t)K * T);
        CHECK(err < 1e-5);
        if (err >= 1e-5) fprintf(stderr, "  case %d: logits gradient rel err %g\n", i, err);
        free(lp), free(grad), free(gz), free(want);
        nk_array_free(&logits), nk_array_free(&labels), nk_array_free(&info);
        nk_array_free(&nll_ref), nk_array_free(&grad_ref);
    }
}

static void test_loss_infeasible_and_bad_input(void) {
    float lp[3 * 4], grad[3 * 4];
    random_log_probs(lp, 3, 4, 1.0);
    double nll = 0;
    for (int i = 0; i < 12; i++) grad[i] = 7;
    int aab[] = {1, 1, 2}, aa[] = {1, 1}, aba[] = {1, 2, 1};
    CHECK(nk_ctc_loss(lp, 3, 3, aab, 3, 0, &nll, grad) == NK_ERR_INFEASIBLE);
    CHECK(isinf(nll));
    for (int i = 0; i < 9; i++) CHECK(grad[i] == 0);
    CHECK(nk_ctc_loss(lp, 3, 1, aa, 2, 0, &nll, grad) == NK_ERR_INFEASIBLE);
    CHECK_OK(nk_ctc_loss(lp, 3, 3, aba, 3, 0, &nll, grad));
    CHECK_OK(nk_ctc_loss(lp, 3, 4, aab, 3, 0, &nll, grad));
    CHECK(isfinite(nll));
    int with_blank[] = {1, 0}, out_of_range[] = {3};
    CHECK(nk_ctc_loss(lp, 3, 4, with_blank, 2, 0, &nll, grad) == NK_ERR_ARG);
    CHECK(strstr(nk_last_error(), "blank") != NULL);
    CHECK(nk_ctc_loss(lp, 3, 4, out_of_range, 1, 0, &nll, grad) == NK_ERR_ARG);
    CHECK(nk_ctc_loss(lp, 3, 4, aa, 2, 3, &nll, grad) == NK_ERR_ARG);
    CHECK(nk_ctc_loss(lp, 3, 0, aa, 0, 0, &nll, grad) == NK_ERR_ARG);
    CHECK(nk_ctc_loss(NULL, 3, 4, aa, 2, 0, &nll, grad) == NK_ERR_ARG);
    lp[5] = NAN;
    CHECK(nk_ctc_loss(lp, 3, 4, aa, 2, 0, &nll, grad) == NK_ERR_NUMERIC);
    // A zero-probability frame for every class a path can use is infeasible, not NaN.
    random_log_probs(lp, 3, 4, 1.0);
    for (int t = 0; t < 4; t++) lp[0 * 4 + t] = lp[1 * 4 + t] = -INFINITY;
    CHECK(nk_ctc_loss(lp, 3, 4, aa, 1, 0, &nll, grad) == NK_ERR_INFEASIBLE);
    CHECK(isinf(nll));
    // Gradients stay finite for -inf entries off every path.
    random_log_probs(lp, 3, 4, 1.0);
    for (int t = 0; t < 4; t++) lp[2 * 4 + t] = -INFINITY;
    CHECK_OK(nk_ctc_loss(lp, 3, 4, aa, 2, 0, &nll, grad));
    for (int i = 0; i < 12; i++) CHECK(isfinite(grad[i]));
}

static void test_empty_target_is_all_blanks(void) {
    float lp[4 * 5];
    random_log_probs(lp, 4, 5, 2.0);
    double nll, want = 0;
    for (int t = 0; t < 5; t++) want -= lp[2 * 5 + t];
    CHECK_OK(nk_ctc_loss(lp, 4, 5, NULL, 0, 2, &nll, NULL));
    CHECK_NEAR(nll, want, 1e-9);
    double score;
    CHECK_OK(nk_ctc_align(lp, 4, 5, NULL, 0, 2, NULL, NULL, &score));
    CHECK_NEAR(score, -want, 1e-9);
}

// Sets frame t's argmax to class k (other classes at −5).
static void peak(float *lp, int K, int T, int t, int k) {
    for (int j = 0; j < K; j++) lp[j * T + t] = j == k ? -0.1f : -5.0f;
}

static void test_greedy(void) {
    enum { K = 4, T = 10 };
    // frames: a a ∅ a b b ∅ ∅ c c  →  a a b c
    static const int frames[T] = {1, 1, 0, 1, 2, 2, 0, 0, 3, 3};
    float lp[K * T];
    for (int t = 0; t < T; t++) peak(lp, K, T, t, frames[t]);
    int out[T], n = -1;
    nk_ctc_greedy(lp, K, T, 0, out, &n);
    CHECK(n == 4);
    CHECK(out[0] == 1 && out[1] == 1 && out[2] == 2 && out[3] == 3);
    // Blank last (index 3): frames ∅ ∅ → nothing; a tie goes to the lowest index.
    float tie[2 * 2] = {-0.7f, -0.7f, -0.7f, -0.7f};
    nk_ctc_greedy(tie, 2, 2, 1, out, &n);
    CHECK(n == 1 && out[0] == 0);
    nk_ctc_greedy(tie, 2, 2, 0, out, &n);
    CHECK(n == 0);
    nk_ctc_greedy(lp, K, 0, 0, out, &n);
    CHECK(n == 0);
}

static void test_align_brute_force(void) {
    static const int targets[][3] = {{1}, {1, 1}, {1, 2}, {2, 1, 2}, {1, 1, 2}, {2, 2, 2}};
    static const int lengths[] = {1, 2, 2, 3, 3, 3};
    for (int trial = 0; trial < 4; trial++)
        for (int T = 1; T <= 6; T++)
            for (int c = 0; c < 6; c++) {
                enum { K = 3 };
                int U = lengths[c];
                const int *labels = targets[c];
                float lp[K * 6];
                random_log_probs(lp, K, T, 2.0);
                nk_ctc_span spans[3];
                int frames[6];
                double score;
                int rc = nk_ctc_align(lp, K, T, labels, U, 0, spans, frames, &score);
                int repeats = 0;
                for (int u = 1; u < U; u++) repeats += labels[u] == labels[u - 1];
                if (T < U + repeats) {
                    CHECK(rc == NK_ERR_INFEASIBLE);
                    continue;
                }
                CHECK_OK(rc);
                double logsum, best;
                int path[6];
                brute_force(lp, K, T, labels, U, 0, &logsum, &best, path);
                CHECK_NEAR(score, best, 1e-9);
                CHECK(memcmp(frames, path, sizeof(int) * T) == 0);
                // Spans: each label's contiguous run on the path, in order.
                int t = 0;
                for (int u = 0; u < U; u++) {
                    while (t < T && path[t] == 0) t++;
                    CHECK(spans[u].label == labels[u] && spans[u].start == t);
                    while (t < T && path[t] == labels[u] && (t == spans[u].start || path[t - 1] != 0))
                        t++;
                    CHECK(spans[u].end == t);
                    CHECK(spans[u].peak >= spans[u].start && spans[u].peak < spans[u].end);
                    CHECK(spans[u].confidence > 0 && spans[u].confidence <= 1);
                }
            }
}

static void test_align_repeats_need_blank(void) {
    enum { K = 3, T = 3 };
    float lp[K * T];
    // The network says "a a a", but "aa" can only be a ∅ a.
    for (int t = 0; t < T; t++) peak(lp, K, T, t, 1);
    int aa[] = {1, 1}, frames[T];
    nk_ctc_span spans[2];
    double score;
    CHECK_OK(nk_ctc_align(lp, K, T, aa, 2, 0, spans, frames, &score));
    CHECK(frames[0] == 1 && frames[1] == 0 && frames[2] == 1);
    CHECK(spans[0].start == 0 && spans[0].end == 1 && spans[1].start == 2 && spans[1].end == 3);
    CHECK_NEAR(score, -0.1 - 5.0 - 0.1, 1e-6);
    CHECK(nk_ctc_align(lp, K, 2, aa, 2, 0, spans, frames, &score) == NK_ERR_INFEASIBLE);
    CHECK(isinf(score) && score < 0);
}

static void test_align_peak_and_confidence(void) {
    enum { K = 3, T = 6 };
    // frames ∅ a a a b ∅ with a's posterior 0.5, 0.9, 0.7
    static const int frames_want[T] = {0, 1, 1, 1, 2, 0};
    static const float pa[3] = {0.5f, 0.9f, 0.7f};
    float lp[K * T];
    for (int t = 0; t < T; t++) peak(lp, K, T, t, frames_want[t]);
    for (int i = 0; i < 3; i++) {
        lp[1 * T + 1 + i] = logf(pa[i]);
        lp[0 * T + 1 + i] = lp[2 * T + 1 + i] = logf((1 - pa[i]) / 2);
    }
    int ab[] = {1, 2}, frames[T];
    nk_ctc_span spans[2];
    double score;
    CHECK_OK(nk_ctc_align(lp, K, T, ab, 2, 0, spans, frames, &score));
    CHECK(memcmp(frames, frames_want, sizeof frames) == 0);
    CHECK(spans[0].start == 1 && spans[0].end == 4 && spans[0].peak == 2);
    CHECK_NEAR(spans[0].confidence, (0.5 + 0.9 + 0.7) / 3, 1e-6);
    CHECK(spans[1].start == 4 && spans[1].end == 5 && spans[1].peak == 4);
    CHECK_NEAR(spans[1].confidence, exp(-0.1), 1e-6);
}

// Uniform scores tie everywhere: the documented rule (end in the final blank,
// prefer staying) emits labels as early as possible, the same every time.
static void test_align_ties_are_deterministic(void) {
    enum { K = 3, T = 6 };
    float lp[K * T];
    for (int i = 0; i < K * T; i++) lp[i] = -logf(3);
    int ab[] = {1, 2}, frames[T];
    nk_ctc_span spans[2];
    double score;
    CHECK_OK(nk_ctc_align(lp, K, T, ab, 2, 0, spans, frames, &score));
    static const int want[T] = {1, 2, 0, 0, 0, 0};
    CHECK(memcmp(frames, want, sizeof want) == 0);
    CHECK_NEAR(score, -6 * log(3), 1e-5);
}

// When the greedy path collapses to the target, it is the Viterbi path.
static void test_align_agrees_with_greedy(void) {
    enum { K = 29, T = 200 };
    static float lp[K * T];
    random_log_probs(lp, K, T, 8.0);
    int labels[T], U, frames[T];
    nk_ctc_greedy(lp, K, T, 0, labels, &U);
    CHECK(U > 50);
    nk_ctc_span *spans = malloc(sizeof(nk_ctc_span) * U);
    double score, want = 0;
    CHECK_OK(nk_ctc_align(lp, K, T, labels, U, 0, spans, frames, &score));
    for (int t = 0; t < T; t++) {
        int best = 0;
        for (int k = 1; k < K; k++)
            if (lp[k * T + t] > lp[best * T + t]) best = k;
        want += lp[best * T + t];
        CHECK(frames[t] == best);
    }
    CHECK_NEAR(score, want, 1e-6 * fabs(want));
    free(spans);
}

int main(void) {
    RUN(test_loss_brute_force);
    RUN(test_loss_finite_differences);
    RUN(test_occupancy_sums_to_one);
    RUN(test_loss_matches_torch);
    RUN(test_loss_infeasible_and_bad_input);
    RUN(test_empty_target_is_all_blanks);
    RUN(test_greedy);
    RUN(test_align_brute_force);
    RUN(test_align_repeats_need_blank);
    RUN(test_align_peak_and_confidence);
    RUN(test_align_ties_are_deterministic);
    RUN(test_align_agrees_with_greedy);
    return check_summary();
}
