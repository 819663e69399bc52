/* Linear sum assignment against brute force and SciPy's linear_sum_assignment
 * (tests/fixtures/make_compare.py). */
#include "check.h"

#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/hungarian.h"
#include "napkit/npy.h"

#include <cjson/cJSON.h>
#include <stdint.h>

#define FIX "tests/fixtures/compare/"

static uint64_t rng_state = 12345;
static double uniform(void) { /* xorshift64*: reproducible test data */
    rng_state ^= rng_state >> 12, rng_state ^= rng_state << 25, rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* Best total over every injective map of the smaller side into the larger. */
static double brute(const double *c, int n, int m, int maximize, int *used, int i) {
    if (i == (n < m ? n : m)) return 0;
    double best = maximize ? -INFINITY : INFINITY;
    for (int j = 0; j < (n < m ? m : n); j++) {
        if (used[j]) continue;
        used[j] = 1;
        double v = (n <= m ? c[i * m + j] : c[j * m + i]) + brute(c, n, m, maximize, used, i + 1);
        used[j] = 0;
        if (maximize ? v > best : v < best) best = v;
    }
    return best;
}

/* col is a valid assignment: min(n, m) rows assigned, distinct columns. */
static int valid(const int *col, int n, int m) {
    int seen[64] = {0}, k = 0;
    for (int i = 0; i < n; i++) {
        if (col[i] < 0) continue;
        if (col[i] >= m || seen[col[i]]++) return 0;
        k++;
    }
    return k == (n < m ? n : m);
}

static void test_brute_force(void) {
    for (int trial = 0; trial < 300; trial++) {
        int n = 1 + (int)(uniform() * 7), m = 1 + (int)(uniform() * 7), maximize = trial & 1;
        double c[49];
        for (int k = 0; k < n * m; k++) c[k] = uniform() * 20 - 10;
        int col[7], used[7] = {0};
        double total;
        CHECK_OK(nk_linear_sum_assignment(c, n, m, maximize, col, &total));
        CHECK(valid(col, n, m));
        CHECK_NEAR(total, brute(c, n, m, maximize, used, 0), 1e-9);
    }
}

/* Integer costs with many ties: the optimum is unique in value, not in cells. */
static void test_ties(void) {
    for (int trial = 0; trial < 100; trial++) {
        int n = 2 + trial % 5, m = 2 + (trial / 5) % 5, col[7], used[7] = {0};
        double c[49], total;
        for (int k = 0; k < n * m; k++) c[k] = (int)(uniform() * 3);
        CHECK_OK(nk_linear_sum_assignment(c, n, m, 0, col, &total));
        CHECK(valid(col, n, m));
        CHECK_NEAR(total, brute(c, n, m, 0, used, 0), 1e-12);
    }
}

static void test_scipy_fixtures(void) {
    char *text;
    CHECK_OK(nk_read_file(FIX "expected.json", &text, NULL));
    cJSON *root = cJSON_Parse(text), *lsa = cJSON_GetObjectItem(root, "lsa"), *e;
    free(text);
    CHECK(cJSON_GetArraySize(lsa) == 7);
    cJSON_ArrayForEach(e, lsa) {
        char path[256];
        snprintf(path, sizeof path, FIX "lsa_%s.npy", e->string);
        nk_array a;
        CHECK_OK(nk_npy_read(path, &a));
        if (a.dtype != NK_F64 || a.ndim != 2) continue;
        int n = (int)a.shape[0], m = (int)a.shape[1], *col = malloc(sizeof(int) * n);
        for (int maximize = 0; maximize < 2; maximize++) {
            cJSON *want = cJSON_GetObjectItem(e, maximize ? "max" : "min");
            double total;
            CHECK_OK(nk_linear_sum_assignment(a.data, n, m, maximize, col, &total));
            int same = 1;
            for (int i = 0; i < n; i++) same &= col[i] == cJSON_GetArrayItem(cJSON_GetObjectItem(want, "col"), i)->valueint;
            if (!same) fprintf(stderr, "%s %s: assignment differs from SciPy\n", e->string, maximize ? "max" : "min");
            CHECK(same);
            CHECK_NEAR(total, cJSON_GetObjectItem(want, "total")->valuedouble, 1e-9);
        }
        free(col);
        nk_array_free(&a);
    }
    cJSON_Delete(root);
}

static void test_identity_of_correlations(void) {
    /* A correlation matrix whose diagonal dominates matches each unit to itself. */
    enum { N = 40 };
    static double c[N * N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) c[i * N + j] = i == j ? 1.0 : uniform() * 1.8 - 0.9;
    int col[N];
    CHECK_OK(nk_linear_sum_assignment(c, N, N, 1, col, NULL));
    for (int i = 0; i < N; i++) CHECK(col[i] == i);
}

static void test_bad_input(void) {
    double c[4] = {1, 2, NAN, 4};
    int col[2];
    CHECK(nk_linear_sum_assignment(c, 2, 2, 0, col, NULL) == NK_ERR_NUMERIC);
    CHECK(strstr(nk_last_error(), "cost[1, 0]") != NULL);
    c[2] = INFINITY;
    CHECK(nk_linear_sum_assignment(c, 2, 2, 1, col, NULL) == NK_ERR_NUMERIC);
    CHECK(nk_linear_sum_assignment(c, 0, 2, 0, col, NULL) == NK_ERR_ARG);
}

static void test_large_square(void) {
    /* 300 × 300: the optimum must beat every one of many random permutations. */
    enum { N = 300 };
    double *c = malloc(sizeof(double) * N * N), total;
    int *col = malloc(sizeof(int) * N), perm[N];
    for (int k = 0; k < N * N; k++) c[k] = uniform();
    CHECK_OK(nk_linear_sum_assignment(c, N, N, 0, col, &total));
    for (int i = 0; i < N; i++) perm[i] = i;
    for (int t = 0; t < 200; t++) {
        for (int i = N - 1; i > 0; i--) {
            int j = (int)(uniform() * (i + 1)), s = perm[i];
            perm[i] = perm[j], perm[j] = s;
        }
        double s = 0;
        for (int i = 0; i < N; i++) s += c[i * N + perm[i]];
        CHECK(total <= s);
    }
    free(c), free(col);
}

int main(void) {
    RUN(test_brute_force);
    RUN(test_ties);
    RUN(test_scipy_fixtures);
    RUN(test_identity_of_correlations);
    RUN(test_bad_input);
    RUN(test_large_square);
    return check_summary();
}
