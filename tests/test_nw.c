/* Needleman–Wunsch against the textbook examples, hand-worked ties and an
 * exhaustive enumeration of every alignment of short sequences. */
#include "check.h"
#include "napkit/napkit.h"

#include <stdint.h>

// Total score of an alignment, recomputed from its columns (affine gaps).
static double alignment_score(const int *a, const int *b, const nk_nw_pair *p, int k,
                              const float *matrix, int n_sym_b, float go, float ge) {
    double s = 0;
    for (int c = 0; c < k; c++) {
        if (p[c].a >= 0 && p[c].b >= 0) s += matrix[a[p[c].a] * n_sym_b + b[p[c].b]];
        else if (c > 0 && (p[c].a < 0) == (p[c - 1].a < 0) && (p[c].b < 0) == (p[c - 1].b < 0))
            s += ge; // continues a gap on the same side
        else
            s += go;
    }
    return s;
}

// Every column is used once and in order: a valid global alignment.
static int valid_alignment(const nk_nw_pair *p, int k, int n, int m) {
    int i = 0, j = 0;
    for (int c = 0; c < k; c++) {
        if (p[c].a < 0 && p[c].b < 0) return 0;
        if (p[c].a >= 0 && p[c].a != i++) return 0;
        if (p[c].b >= 0 && p[c].b != j++) return 0;
    }
    return i == n && j == m;
}

// Best score over all alignments by enumerating them (columns appended in order).
static double enumerate(const int *a, int n, const int *b, int m, nk_nw_pair *cols, int k,
                        int i, int j, const float *matrix, int n_sym_b, float go, float ge) {
    if (i == n && j == m) return alignment_score(a, b, cols, k, matrix, n_sym_b, go, ge);
    double best = -INFINITY;
    if (i < n && j < m) {
        cols[k] = (nk_nw_pair){i, j};
        best = fmax(best, enumerate(a, n, b, m, cols, k + 1, i + 1, j + 1, matrix, n_sym_b, go, ge));
    }
    if (i < n) {
        cols[k] = (nk_nw_pair){i, -1};
        best = fmax(best, enumerate(a, n, b, m, cols, k + 1, i + 1, j, matrix, n_sym_b, go, ge));
    }
    if (j < m) {
        cols[k] = (nk_nw_pair){-1, j};
        best = fmax(best, enumerate(a, n, b, m, cols, k + 1, i, j + 1, matrix, n_sym_b, go, ge));
    }
    return best;
}

// Symbols as indices into an alphabet string.
static int encode(const char *alphabet, const char *s, int *out) {
    int n = 0;
    for (; s[n]; n++) out[n] = (int)(strchr(alphabet, s[n]) - alphabet);
    return n;
}

// Match +1, mismatch −1, gap −1 over {A, C, G, T}: GATTACA / GCATGCG scores 0.
static void test_textbook_dna(void) {
    float sub[16];
    for (int x = 0; x < 4; x++)
        for (int y = 0; y < 4; y++) sub[x * 4 + y] = x == y ? 1 : -1;
    nk_nw_scoring sc = {sub, 4, 4, NULL, NULL, -1, -1};
    int a[8], b[8];
    int n = encode("ACGT", "GATTACA", a), m = encode("ACGT", "GCATGCG", b);
    nk_nw_pair p[16], cols[16];
    int k;
    double score;
    CHECK_OK(nk_nw_align(a, n, b, m, &sc, p, &k, &score));
    CHECK_NEAR(score, 0, 0);
    CHECK(valid_alignment(p, k, n, m));
    CHECK_NEAR(alignment_score(a, b, p, k, sub, 4, -1, -1), 0, 0);
    CHECK_NEAR(enumerate(a, n, b, m, cols, 0, 0, 0, sub, 4, -1, -1), 0, 0);
}

/* Durbin, Eddy, Krogh & Mitchison, Biological Sequence Analysis (1998), §2.3:
 * HEAGAWGHEE against PAWHEAE with BLOSUM50 and gap −8 scores 1, as
 *   HEAGAWGHE-E
 *   --P-AW-HEAE */
static void test_textbook_durbin_blosum50(void) {
    static const char *alphabet = "HEAGWP";
    static const float blosum50[36] = {
        //  H   E   A   G   W   P
        10, 0, -2, -2, -3, -2,  // H
        0, 6, -1, -3, -3, -1,   // E
        -2, -1, 5, 0, -3, -1,   // A
        -2, -3, 0, 8, -3, -2,   // G
        -3, -3, -3, -3, 15, -4, // W
        -2, -1, -1, -2, -4, 10, // P
    };
    nk_nw_scoring sc = {blosum50, 6, 6, NULL, NULL, -8, -8};
    int a[16], b[16];
    int n = encode(alphabet, "HEAGAWGHEE", a), m = encode(alphabet, "PAWHEAE", b);
    nk_nw_pair p[32];
    int k;
    double score;
    CHECK_OK(nk_nw_align(a, n, b, m, &sc, p, &k, &score));
    CHECK_NEAR(score, 1, 0);
    CHECK(valid_alignment(p, k, n, m));
    // Rendered as two rows of letters with '-' for gaps.
    char top[32] = {0}, bottom[32] = {0};
    for (int c = 0; c < k; c++) {
        top[c] = p[c].a >= 0 ? alphabet[a[p[c].a]] : '-';
        bottom[c] = p[c].b >= 0 ? alphabet[b[p[c].b]] : '-';
    }
    CHECK(strcmp(top, "HEAGAWGHE-E") == 0);
    CHECK(strcmp(bottom, "--P-AW-HEAE") == 0);
    if (check_current_failed) fprintf(stderr, "  got %s / %s\n", top, bottom);
}

static void test_ties(void) {
    float sub[4] = {1, -1, -1, 1};
    nk_nw_scoring sc = {sub, 2, 2, NULL, NULL, -1, -1};
    nk_nw_pair p[4];
    int k;
    double score;
    // "00" vs "0": 0/0 then 1/gap, or 0/gap then 1/0 (both 0); the traceback
    // from the end prefers the diagonal, so the gap comes first.
    int aa[] = {0, 0}, a0[] = {0};
    CHECK_OK(nk_nw_align(aa, 2, a0, 1, &sc, p, &k, &score));
    CHECK(k == 2 && p[0].a == 0 && p[0].b == -1 && p[1].a == 1 && p[1].b == 0);
    CHECK_NEAR(score, 0, 0);
    // Mismatch −2 ties with two gaps: the diagonal wins.
    sub[1] = sub[2] = -2;
    int a1[] = {1};
    CHECK_OK(nk_nw_align(a0, 1, a1, 1, &sc, p, &k, &score));
    CHECK(k == 1 && p[0].a == 0 && p[0].b == 0);
    CHECK_NEAR(score, -2, 0);
    // Mismatch −5: up and left tie; up wins at the last cell, so a's gap column is last.
    sub[1] = sub[2] = -5;
    CHECK_OK(nk_nw_align(a0, 1, a1, 1, &sc, p, &k, &score));
    CHECK(k == 2 && p[0].a == -1 && p[0].b == 0 && p[1].a == 0 && p[1].b == -1);
    CHECK_NEAR(score, -2, 0);
}

static void test_empty_sequences(void) {
    float sub[4] = {1, -1, -1, 1};
    nk_nw_scoring sc = {sub, 2, 2, NULL, NULL, -3, -1};
    int b[] = {0, 1, 1};
    nk_nw_pair p[3];
    int k = -1;
    double score;
    CHECK_OK(nk_nw_align(NULL, 0, NULL, 0, &sc, p, &k, &score));
    CHECK(k == 0 && score == 0);
    CHECK_OK(nk_nw_align(NULL, 0, b, 3, &sc, p, &k, &score));
    CHECK(k == 3 && score == -3 - 1 - 1);
    for (int j = 0; j < 3; j++) CHECK(p[j].a == -1 && p[j].b == j);
    CHECK_OK(nk_nw_align(b, 3, NULL, 0, &sc, p, &k, &score));
    CHECK(k == 3 && p[2].a == 2 && p[2].b == -1 && score == -5);
}

// Affine gaps keep a gap in one piece: ABCD / AD with open −3, extend −1.
static void test_affine_gap(void) {
    float sub[16];
    for (int x = 0; x < 4; x++)
        for (int y = 0; y < 4; y++) sub[x * 4 + y] = x == y ? 2 : -2;
    nk_nw_scoring sc = {sub, 4, 4, NULL, NULL, -3, -1};
    int a[] = {0, 1, 2, 3}, b[] = {0, 3};
    nk_nw_pair p[6];
    int k;
    double score;
    CHECK_OK(nk_nw_align(a, 4, b, 2, &sc, p, &k, &score));
    CHECK_NEAR(score, 2 - 3 - 1 + 2, 0);
    CHECK(k == 4 && p[0].b == 0 && p[1].b == -1 && p[2].b == -1 && p[3].a == 3 && p[3].b == 1);
}

// Random short sequences: the optimum over all alignments, linear and affine.
static void test_against_enumeration(void) {
    uint32_t x = 2024;
    float sub[9];
    for (int trial = 0; trial < 200; trial++) {
        int a[5], b[5];
        x = x * 1664525u + 1013904223u;
        int n = (int)(x >> 29) % 6, m = (int)((x >> 26) & 7) % 6;
        for (int i = 0; i < 5; i++) {
            x = x * 1664525u + 1013904223u;
            a[i] = (int)(x >> 30) % 3, b[i] = (int)((x >> 27) & 3) % 3;
        }
        for (int i = 0; i < 9; i++) {
            x = x * 1664525u + 1013904223u;
            sub[i] = (float)((int)(x >> 28) - 6) / 2; // halves in [−3, 4.5]: exact ties happen
        }
        float go = trial % 2 ? -2.5f : -1.0f, ge = -1.0f;
        nk_nw_scoring sc = {sub, 3, 3, NULL, NULL, go, ge};
        nk_nw_pair p[10], cols[10];
        int k;
        double score;
        CHECK_OK(nk_nw_align(a, n, b, m, &sc, p, &k, &score));
        CHECK(valid_alignment(p, k, n, m));
        CHECK_NEAR(score, enumerate(a, n, b, m, cols, 0, 0, 0, sub, 3, go, ge), 1e-12);
        CHECK_NEAR(alignment_score(a, b, p, k, sub, 3, go, ge), score, 1e-12);
    }
}

static float forbid_mismatch(int x, int y, void *ctx) {
    return x == y ? *(float *)ctx : -INFINITY;
}

static void test_callback_scoring(void) {
    float match = 2;
    nk_nw_scoring sc = {NULL, 0, 0, forbid_mismatch, &match, -1, -1};
    int a[] = {5, 6, 7}, b[] = {5, 9, 7};
    nk_nw_pair p[6];
    int k;
    double score;
    CHECK_OK(nk_nw_align(a, 3, b, 3, &sc, p, &k, &score));
    CHECK_NEAR(score, 2 - 1 - 1 + 2, 0);
    CHECK(k == 4 && p[0].a == 0 && p[0].b == 0 && p[3].a == 2 && p[3].b == 2);
    CHECK(p[1].a >= 0 ? p[2].b == 1 : p[2].a == 1);
}

static void test_bad_input(void) {
    float sub[4] = {1, -1, -1, 1};
    nk_nw_scoring sc = {sub, 2, 2, NULL, NULL, -1, -1};
    int good[] = {0, 1}, bad[] = {0, 2};
    nk_nw_pair p[4];
    int k;
    double score;
    CHECK(nk_nw_align(good, 2, bad, 2, &sc, p, &k, &score) == NK_ERR_ARG);
    CHECK(strstr(nk_last_error(), "symbol 2") != NULL);
    sc.gap_open = NAN;
    CHECK(nk_nw_align(good, 2, good, 2, &sc, p, &k, &score) == NK_ERR_ARG);
    sc.gap_open = -1;
    sub[1] = NAN;
    CHECK(nk_nw_align(good, 2, good, 2, &sc, p, &k, &score) == NK_ERR_NUMERIC);
    sc.matrix = NULL;
    CHECK(nk_nw_align(good, 2, good, 2, &sc, p, &k, &score) == NK_ERR_ARG);
    CHECK(nk_nw_align(good, -1, good, 2, &sc, p, &k, &score) == NK_ERR_ARG);
}

int main(void) {
    RUN(test_textbook_dna);
    RUN(test_textbook_durbin_blosum50);
    RUN(test_ties);
    RUN(test_empty_sequences);
    RUN(test_affine_gap);
    RUN(test_against_enumeration);
    RUN(test_callback_scoring);
    RUN(test_bad_input);
    return check_summary();
}
