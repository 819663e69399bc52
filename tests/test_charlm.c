/* The character language model: normalized distributions for every history
 * at every order, Kneser–Ney values worked out by hand, save/load round trip,
 * refusal of broken files and of another alphabet. */
#include "check.h"
#include "napkit/napkit.h"

#include <math.h>
#include <stdint.h>

static const char *const abc_symbols[] = {"_", " ", "a", "b", "c"}; /* K = 5: labels 1–4, EOS 5 */

static nk_alphabet *abc(void) {
    nk_alphabet *a = NULL;
    CHECK_OK(nk_alphabet_new(abc_symbols, 5, &a));
    return a;
}

/* n random texts over " abc" (lengths 0–39), skewed towards "ab" so that
 * some continuations are far likelier than others; free with free_texts. */
static char **random_texts(uint64_t *rng, size_t n) {
    char **t = malloc(n * sizeof *t);
    for (size_t i = 0; i < n; i++) {
        size_t len = nk_rng_below(rng, 40);
        t[i] = malloc(len + 1);
        for (size_t j = 0; j < len; j++)
            t[i][j] = j && t[i][j - 1] == 'a' && nk_rng_uniform(rng) < 0.7 ? 'b' : " abc"[nk_rng_below(rng, 4)];
        t[i][len] = '\0';
    }
    return t;
}

static void free_texts(char **t, size_t n) {
    for (size_t i = 0; i < n; i++) free(t[i]);
    free(t);
}

static nk_charlm *random_lm(int order, size_t n_texts) {
    uint64_t rng = 42;
    char **texts = random_texts(&rng, n_texts);
    nk_alphabet *a = abc();
    nk_charlm *lm = NULL;
    CHECK_OK(nk_charlm_train(a, order, (const char *const *)texts, n_texts, &lm));
    free_texts(texts, n_texts);
    nk_alphabet_free(a);
    return lm;
}

// Σ over the 4 labels and EOS of P(next | history) is 1, for random histories
// of every length (shorter than the context, as long, longer) at orders 1–7.
static void test_sums_to_one(void) {
    uint64_t rng = 7;
    for (int order = 1; order <= 7; order++) {
        nk_charlm *lm = random_lm(order, 300);
        if (!lm) return;
        CHECK(nk_charlm_eos(lm) == 5 && nk_charlm_order(lm) == order);
        double worst = 0;
        for (int trial = 0; trial < 300; trial++) {
            int hist[12], n = (int)nk_rng_below(&rng, (uint64_t)order + 3);
            for (int i = 0; i < n; i++) hist[i] = 1 + (int)nk_rng_below(&rng, 4);
            double sum = 0;
            for (int next = 1; next <= 5; next++) sum += exp(nk_charlm_logprob(lm, hist, n, next));
            worst = fmax(worst, fabs(sum - 1));
        }
        CHECK(worst < 1e-9);
        if (!(worst < 1e-9)) fprintf(stderr, "  order %d: |sum - 1| up to %g\n", order, worst);
        nk_charlm_free(lm);
    }
}

// Order 2 on the one text "ab": bigrams (start a) (a b) (b EOS), each once;
// continuation counts a = b = EOS = 1; no count is 2, so D = 0.5 at both
// orders. Uniform over " ", a, b, c, EOS: 1/5. P1(a) = P1(b) = P1(EOS) =
// (1 − ½)/3 + ½·(3/3)·⅕ = 4/15, P1(" ") = P1(c) = 1/10.
static void test_hand_computed(void) {
    nk_alphabet *a = abc();
    nk_charlm *lm = NULL;
    const char *text = "ab";
    CHECK_OK(nk_charlm_train(a, 2, &text, 1, &lm));
    if (!lm) return;
    const int la = 2, lb = 3, lspace = 1, eos = 5;
    CHECK_NEAR(exp(nk_charlm_logprob(lm, &la, 1, lb)), 0.5 + 0.5 * 4.0 / 15, 1e-12);   // (1 − D)/1 + D·1·P1(b)
    CHECK_NEAR(exp(nk_charlm_logprob(lm, &la, 1, lspace)), 0.5 / 10, 1e-12);           // D·1·P1(" ")
    CHECK_NEAR(exp(nk_charlm_logprob(lm, NULL, 0, la)), 0.5 + 0.5 * 4.0 / 15, 1e-12);  // from sentence start
    CHECK_NEAR(exp(nk_charlm_logprob(lm, &lb, 1, la)), 0.5 * 4.0 / 15, 1e-12);         // b was only followed by EOS
    CHECK_NEAR(exp(nk_charlm_logprob(lm, &lb, 1, eos)), 0.5 + 0.5 * 4.0 / 15, 1e-12);
    CHECK_NEAR(exp(nk_charlm_logprob(lm, &lspace, 1, la)), 4.0 / 15, 1e-12);           // unseen context: P1
    CHECK(isnan(nk_charlm_logprob(lm, &la, 1, 0)) && isnan(nk_charlm_logprob(lm, &la, 1, 6)));
    nk_charlm_free(lm);
    /* "abab": bigrams (start a) 1, (a b) 2, (b a) 1, (b EOS) 1, so D2 = 3/(3 + 2) = 0.6;
     * continuation counts a 2 (after start and b), b 1 (raw 2), EOS 1, so
     * D1 = 2/(2 + 2) = 0.5 and P1(a) = 1.5/4 + 0.5·(3/4)·⅕ = 0.45, P1(b) = 0.2. */
    text = "abab";
    CHECK_OK(nk_charlm_train(a, 2, &text, 1, &lm));
    if (!lm) return;
    CHECK_NEAR(exp(nk_charlm_logprob(lm, &lspace, 1, lb)), 0.2, 1e-12);
    CHECK_NEAR(exp(nk_charlm_logprob(lm, &lspace, 1, la)), 0.45, 1e-12);
    CHECK_NEAR(exp(nk_charlm_logprob(lm, &la, 1, lb)), 1.4 / 2 + 0.6 * 0.5 * 0.2, 1e-12);
    CHECK_NEAR(exp(nk_charlm_logprob(lm, &lb, 1, la)), 0.4 / 2 + 0.6 * 1.0 * 0.45, 1e-12);
    nk_charlm_free(lm);
    nk_alphabet_free(a);
}

// A seen continuation beats an unseen one, in a context and at sentence start.
static void test_prefers_seen(void) {
    nk_alphabet *a = abc();
    nk_charlm *lm = NULL;
    const char *texts[] = {"ab ab ab", "ab ab", "ab"};
    CHECK_OK(nk_charlm_train(a, 3, texts, 3, &lm));
    if (!lm) return;
    const int hist[] = {2, 3, 1, 2}; /* "ab a" */
    CHECK(nk_charlm_logprob(lm, hist, 4, 3) > nk_charlm_logprob(lm, hist, 4, 4) + 2); /* b, not c, after " a" */
    CHECK(nk_charlm_logprob(lm, NULL, 0, 2) > nk_charlm_logprob(lm, NULL, 0, 3) + 2); /* texts start with a */
    CHECK(nk_charlm_logprob(lm, hist, 2, 5) > nk_charlm_logprob(lm, hist, 2, 4) + 2); /* "ab" may end */
    nk_charlm_free(lm);
    nk_alphabet_free(a);
}

static void test_train_errors(void) {
    nk_alphabet *a = abc();
    nk_charlm *lm = NULL;
    const char *texts[] = {"ab", "a3c"};
    CHECK(nk_charlm_train(a, 3, texts, 2, &lm) == NK_ERR_ARG && lm == NULL);
    CHECK(strstr(nk_last_error(), "text 1") != NULL);
    CHECK(nk_charlm_train(a, 0, texts, 1, &lm) == NK_ERR_ARG);
    CHECK(nk_charlm_train(a, NK_CHARLM_MAX_ORDER + 1, texts, 1, &lm) == NK_ERR_ARG);
    CHECK(nk_charlm_train(a, 3, texts, 0, &lm) == NK_ERR_EMPTY && lm == NULL); /* nothing to learn from */
    nk_alphabet_free(a);
}

static char *tmp_path(const char *name) { return nk_path_join(check_tmpdir(), name); }

static void test_save_load(void) {
    nk_charlm *lm = random_lm(5, 200), *back = NULL;
    char *path = tmp_path("rt.lm");
    CHECK_OK(nk_charlm_save(lm, path));
    CHECK_OK(nk_charlm_load(path, &back));
    if (!lm || !back) return;
    CHECK(nk_charlm_order(back) == 5 && nk_charlm_eos(back) == 5);
    CHECK_OK(nk_charlm_check_alphabet(back, nk_charlm_alphabet(lm)));
    uint64_t rng = 3;
    int same = 1;
    for (int trial = 0; trial < 2000; trial++) {
        int hist[8], n = (int)nk_rng_below(&rng, 7), next = 1 + (int)nk_rng_below(&rng, 5);
        for (int i = 0; i < n; i++) hist[i] = 1 + (int)nk_rng_below(&rng, 4);
        same &= nk_charlm_logprob(lm, hist, n, next) == nk_charlm_logprob(back, hist, n, next);
    }
    CHECK(same);
    nk_charlm_free(lm), nk_charlm_free(back);
    free(path);
}

/* The load of `bytes` (n of them) must fail with code err and the path in the message. */
static void check_refused(const char *name, const void *bytes, size_t n, int err) {
    char *path = tmp_path(name);
    nk_charlm *lm = NULL;
    CHECK_OK(nk_write_file(path, bytes, n));
    int rc = nk_charlm_load(path, &lm);
    CHECK(rc == err && lm == NULL);
    CHECK(strstr(nk_last_error(), path) != NULL);
    if (rc != err) fprintf(stderr, "  %s (%zu bytes): rc %d: %s\n", name, n, rc, nk_last_error());
    free(path);
}

// Every truncation, trailing bytes, flipped bytes in the header and the
// n-grams, another file altogether, a missing file.
static void test_bad_files(void) {
    nk_charlm *lm = random_lm(3, 50);
    char *path = tmp_path("good.lm"), *data = NULL;
    size_t size = 0;
    CHECK_OK(nk_charlm_save(lm, path));
    CHECK_OK(nk_read_file(path, &data, &size));
    if (!data) return;
    for (size_t cut = 0; cut < size; cut += cut < 64 ? 1 : 97) check_refused("cut.lm", data, cut, NK_ERR_FORMAT);
    check_refused("cut.lm", data, size - 1, NK_ERR_FORMAT);
    char *longer = malloc(size + 1);
    memcpy(longer, data, size);
    longer[size] = 0;
    check_refused("trailing.lm", longer, size + 1, NK_ERR_FORMAT);
    memcpy(longer, data, size);
    longer[0] = 'X';                  /* magic */
    check_refused("magic.lm", longer, size, NK_ERR_FORMAT);
    memcpy(longer, data, size);
    longer[12] = 99;                  /* order */
    check_refused("order.lm", longer, size, NK_ERR_FORMAT);
    memcpy(longer, data, size);
    memset(longer + size - 12, 0xFF, 8); /* the last n-gram's key: symbols out of range */
    check_refused("key.lm", longer, size, NK_ERR_FORMAT);
    memcpy(longer, data, size);
    memset(longer + size - 4, 0, 4);  /* the last n-gram's count */
    check_refused("count.lm", longer, size, NK_ERR_FORMAT);
    check_refused("text.lm", "hello, world\n", 13, NK_ERR_FORMAT);
    nk_charlm *none = NULL;
    char *missing = tmp_path("missing.lm");
    CHECK(nk_charlm_load(missing, &none) == NK_ERR_IO && strstr(nk_last_error(), missing));
    free(missing), free(longer), free(data), free(path);
    nk_charlm_free(lm);
}

// A model over one alphabet refuses another: the check, and the beam search
// when the class count differs; the message names the model's file.
static void test_alphabet_mismatch(void) {
    nk_alphabet *en, *de;
    CHECK_OK(nk_alphabet_builtin("en", &en));
    CHECK_OK(nk_alphabet_builtin("de", &de));
    nk_charlm *lm = NULL, *back = NULL;
    const char *text = "guten tag";
    CHECK_OK(nk_charlm_train(de, 4, &text, 1, &lm));
    char *path = tmp_path("de.lm");
    CHECK_OK(nk_charlm_save(lm, path));
    CHECK_OK(nk_charlm_load(path, &back));
    if (!back) return;
    CHECK_OK(nk_charlm_check_alphabet(back, de));
    CHECK(nk_charlm_check_alphabet(back, en) == NK_ERR_ARG);
    CHECK(strstr(nk_last_error(), path) && strstr(nk_last_error(), "another alphabet"));
    nk_alphabet *swapped;
    const char *sym[] = {"_", " ", "'", "b", "a"};
    CHECK_OK(nk_alphabet_new(sym, 5, &swapped));
    nk_charlm *small = random_lm(2, 10);
    CHECK(nk_charlm_check_alphabet(small, swapped) == NK_ERR_ARG); /* same size, other symbols */
    float lp[29 * 2] = {0};
    int labels[2], n;
    nk_ctc_beam_options o;
    nk_ctc_beam_defaults(&o);
    o.lm = back;
    CHECK(nk_ctc_beam(lp, 29, 2, 0, &o, labels, &n) == NK_ERR_ARG);
    nk_charlm_free(small), nk_charlm_free(lm), nk_charlm_free(back);
    nk_alphabet_free(swapped), nk_alphabet_free(en), nk_alphabet_free(de);
    free(path);
}

int main(void) {
    RUN(test_sums_to_one);
    RUN(test_hand_computed);
    RUN(test_prefers_seen);
    RUN(test_train_errors);
    RUN(test_save_load);
    RUN(test_bad_files);
    RUN(test_alphabet_mismatch);
    return check_summary();
}
