/* Edit distance against an exhaustive recursion and hand-worked CER/WER
 * examples, including German letters, whitespace, empty texts and malformed UTF-8. */
#include "check.h"
#include "napkit/napkit.h"

#include <stdint.h>

// The definition itself, without the table: exponential, for tiny inputs only.
static size_t naive_distance(const int *a, size_t n, const int *b, size_t m) {
    if (n == 0) return m;
    if (m == 0) return n;
    size_t sub = naive_distance(a + 1, n - 1, b + 1, m - 1) + (a[0] != b[0]);
    size_t del = naive_distance(a + 1, n - 1, b, m) + 1;
    size_t ins = naive_distance(a, n, b + 1, m - 1) + 1;
    size_t best = sub < del ? sub : del;
    return best < ins ? best : ins;
}

static void test_distance_hand_worked(void) {
    int kitten[] = {'k', 'i', 't', 't', 'e', 'n'}, sitting[] = {'s', 'i', 't', 't', 'i', 'n', 'g'};
    CHECK(nk_edit_distance(kitten, 6, sitting, 7) == 3);
    CHECK(nk_edit_distance(sitting, 7, kitten, 6) == 3);
    int flaw[] = {'f', 'l', 'a', 'w'}, lawn[] = {'l', 'a', 'w', 'n'};
    CHECK(nk_edit_distance(flaw, 4, lawn, 4) == 2);
    CHECK(nk_edit_distance(NULL, 0, lawn, 4) == 4);
    CHECK(nk_edit_distance(flaw, 4, NULL, 0) == 4);
    CHECK(nk_edit_distance(NULL, 0, NULL, 0) == 0);
    CHECK(nk_edit_distance(flaw, 4, flaw, 4) == 0);
}

static void test_distance_against_recursion(void) {
    uint32_t x = 12345;
    for (int trial = 0; trial < 300; trial++) {
        int a[7], b[7];
        x = x * 1664525u + 1013904223u;
        size_t n = (x >> 29) % 7, m = ((x >> 26) & 7) % 7;
        for (size_t i = 0; i < 7; i++) {
            x = x * 1664525u + 1013904223u;
            a[i] = (int)(x >> 30), b[i] = (int)((x >> 28) & 3);
        }
        CHECK(nk_edit_distance(a, n, b, m) == naive_distance(a, n, b, m));
    }
}

// Long inputs: one row of the shorter length, and a known answer.
static void test_distance_long(void) {
    enum { N = 20000, M = 500 };
    int *a = malloc(sizeof(int) * N), b[M];
    for (int i = 0; i < N; i++) a[i] = i % 7;
    for (int j = 0; j < M; j++) b[j] = a[j];
    b[100] = 99;
    CHECK(nk_edit_distance(a, N, b, M) == N - M + 1);
    CHECK(nk_edit_distance(b, M, a, N) == N - M + 1);
    free(a);
}

static nk_error_counts counts(const char *hyp, const char *ref) {
    nk_error_counts c = {99, 99, 99, 99};
    int rc = nk_error_counts_of(hyp, ref, &c);
    if (rc) fprintf(stderr, "  %s\n", nk_last_error());
    return c;
}

static void test_cer_wer_hand_worked(void) {
    nk_error_counts c = counts("the cat sat", "the cat sat on the mat");
    CHECK(c.word_errors == 3 && c.word_count == 6);
    CHECK(c.char_errors == 11 && c.char_count == 22);
    c = counts("a bird sat", "a bard sat");
    CHECK(c.word_errors == 1 && c.word_count == 3);
    CHECK(c.char_errors == 1 && c.char_count == 10);
    // Word order matters; equal words are equal however they are spelled in memory.
    c = counts("sat cat the", "the cat sat");
    CHECK(c.word_errors == 2 && c.word_count == 3);
}

// German letters are one code point each, though two bytes in UTF-8.
static void test_cer_counts_code_points(void) {
    nk_error_counts c = counts("straße", "strasse");
    CHECK(c.char_count == 7 && c.char_errors == 2);
    CHECK(c.word_count == 1 && c.word_errors == 1);
    c = counts("über äpfel", "uber äpfel");
    CHECK(c.char_count == 10 && c.char_errors == 1);
    CHECK(c.word_count == 2 && c.word_errors == 1);
    c = counts("grüße", "grüße");
    CHECK(c.char_count == 5 && c.char_errors == 0 && c.word_errors == 0);
    c = counts("a\xF0\x9F\x98\x80", "ab"); // a four-byte code point is one character
    CHECK(c.char_count == 2 && c.char_errors == 1);
}

// Whitespace runs count as one space; leading and trailing whitespace not at all.
static void test_whitespace_normalized(void) {
    nk_error_counts c = counts("  the \t cat\n", "the cat");
    CHECK(c.char_errors == 0 && c.char_count == 7);
    CHECK(c.word_errors == 0 && c.word_count == 2);
    c = counts("thecat", "the cat");
    CHECK(c.char_errors == 1 && c.word_errors == 2 && c.word_count == 2);
}

static void test_empty_texts(void) {
    nk_error_counts c = counts("", "");
    CHECK(c.char_errors == 0 && c.char_count == 0 && c.word_errors == 0 && c.word_count == 0);
    c = counts("", "ab c");
    CHECK(c.char_errors == 4 && c.char_count == 4 && c.word_errors == 2 && c.word_count == 2);
    c = counts(" ab cd ", "   ");
    CHECK(c.char_errors == 5 && c.char_count == 0 && c.word_errors == 2 && c.word_count == 0);
}

static void test_invalid_utf8_is_an_error(void) {
    static const char *bad[] = {
        "ab\xFF",             // never valid
        "ab\xC3",             // truncated two-byte sequence
        "\xC3(",              // continuation byte missing
        "\x80",               // lone continuation byte
        "\xC0\xAF",           // overlong '/'
        "\xE0\x80\xAF",       // overlong, three bytes
        "\xED\xA0\x80",       // UTF-16 surrogate
        "\xF4\x90\x80\x80",   // above U+10FFFF
    };
    nk_error_counts c;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(nk_error_counts_of(bad[i], "ok", &c) == NK_ERR_FORMAT);
        CHECK(strstr(nk_last_error(), "hypothesis") && strstr(nk_last_error(), "UTF-8"));
        CHECK(nk_error_counts_of("ok", bad[i], &c) == NK_ERR_FORMAT);
        CHECK(strstr(nk_last_error(), "reference") != NULL);
    }
    CHECK(nk_error_counts_of("ab\xFF", "x", &c) == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), "byte 2") != NULL);
    CHECK(nk_error_counts_of(NULL, "x", &c) == NK_ERR_ARG);
    CHECK(nk_error_counts_of("x", "x", NULL) == NK_ERR_ARG);
}

int main(void) {
    RUN(test_distance_hand_worked);
    RUN(test_distance_against_recursion);
    RUN(test_distance_long);
    RUN(test_cer_wer_hand_worked);
    RUN(test_cer_counts_code_points);
    RUN(test_whitespace_normalized);
    RUN(test_empty_texts);
    RUN(test_invalid_utf8_is_an_error);
    return check_summary();
}
