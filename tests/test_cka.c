/* Linear CKA and unit correlations from streamed moments, against NumPy's Gram-form
 * CKA and np.corrcoef (tests/fixtures/make_compare.py); invariances; edge cases. */
#include "check.h"

#include "napkit/compare.h"
#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/npy.h"

#include <cjson/cJSON.h>
#include <stdint.h>

#define FIX "tests/fixtures/compare/"

/* A fixture (n, p) float32 as a stack (p, n) float64. */
static double *load_T(const char *name, int *n, int *p) {
    char path[256];
    snprintf(path, sizeof path, FIX "%s.npy", name);
    nk_array a;
    if (nk_npy_read(path, &a) || a.dtype != NK_F32 || a.ndim != 2) {
        fprintf(stderr, "%s: %s\n", path, nk_last_error());
        exit(1);
    }
    *n = (int)a.shape[0], *p = (int)a.shape[1];
    double *x = malloc(sizeof(double) * *n * *p);
    for (int i = 0; i < *n; i++)
        for (int j = 0; j < *p; j++) x[(size_t)j * *n + i] = ((float *)a.data)[(size_t)i * *p + j];
    nk_array_free(&a);
    return x;
}

static double expect(const char *key) {
    char *text;
    if (nk_read_file(FIX "expected.json", &text, NULL)) return NAN;
    cJSON *root = cJSON_Parse(text);
    free(text);
    double v = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "cka"), key)->valuedouble;
    cJSON_Delete(root);
    return v;
}

/* Streams stacks xa (PA, n), xb (PB, n) in uneven chunks (copies, since a chunk
 * of a (P, n) stack is not contiguous). */
static void stream(nk_cmp_moments *m, const double *xa, size_t PA, const double *xb, size_t PB, int n) {
    static const int chunks[] = {1, 7, 50, 123, 3, 200};
    double *ca = malloc(sizeof(double) * PA * n), *cb = malloc(sizeof(double) * PB * n);
    for (int t0 = 0, k = 0; t0 < n; k++) {
        int len = chunks[k % 6];
        if (t0 + len > n) len = n - t0;
        for (size_t r = 0; r < PA; r++) memcpy(ca + r * len, xa + r * n + t0, sizeof(double) * len);
        for (size_t r = 0; r < PB; r++) memcpy(cb + r * len, xb + r * n + t0, sizeof(double) * len);
        CHECK_OK(nk_cmp_moments_add(m, ca, cb, len));
        t0 += len;
    }
    free(ca), free(cb);
}

static int n, px, p1, p2;
static double *X, *Y1, *Y2;

static void test_cka_numpy(void) {
    /* A = [X], B = [Y1, Y2, X] */
    size_t PB = p1 + p2 + px;
    double *xb = malloc(sizeof(double) * PB * n);
    memcpy(xb, Y1, sizeof(double) * p1 * n);
    memcpy(xb + (size_t)p1 * n, Y2, sizeof(double) * p2 * n);
    memcpy(xb + (size_t)(p1 + p2) * n, X, sizeof(double) * px * n);
    int ca[] = {px}, cb[] = {p1, p2, px};
    nk_cmp_moments *m;
    CHECK_OK(nk_cmp_moments_new(1, ca, 3, cb, &m));
    stream(m, X, px, xb, PB, n);
    CHECK_NEAR(nk_cmp_moments_count(m), n, 0);
    double cka[3];
    CHECK_OK(nk_cka(m, cka));
    CHECK_NEAR(cka[0], expect("X_Y1"), 1e-10);
    CHECK_NEAR(cka[1], expect("X_Y2"), 1e-10);
    CHECK_NEAR(cka[2], 1.0, 1e-12);
    CHECK(cka[0] > 0.3 && cka[1] < 0.1); /* the fixture's related and unrelated pairs */

    /* Pearson per unit pair against np.corrcoef. */
    nk_array want;
    CHECK_OK(nk_npy_read(FIX "corr_X_Y1.npy", &want));
    double *rho = malloc(sizeof(double) * px * p1), err = 0;
    CHECK_OK(nk_unit_corr(m, 0, 0, rho));
    for (int k = 0; k < px * p1; k++) err = fmax(err, fabs(rho[k] - ((double *)want.data)[k]));
    CHECK(err < 1e-10);
    CHECK(nk_unit_corr(m, 0, 3, rho) == NK_ERR_ARG);
    free(rho);
    nk_array_free(&want);

    /* Two halves merged equal one pass. */
    nk_cmp_moments *h1, *h2;
    CHECK_OK(nk_cmp_moments_new(1, ca, 3, cb, &h1));
    CHECK_OK(nk_cmp_moments_new(1, ca, 3, cb, &h2));
    int half = n / 3;
    double *a1 = malloc(sizeof(double) * px * n), *b1 = malloc(sizeof(double) * PB * n);
    for (int part = 0; part < 2; part++) {
        int t0 = part ? half : 0, len = part ? n - half : half;
        for (int r = 0; r < px; r++) memcpy(a1 + (size_t)r * len, X + (size_t)r * n + t0, sizeof(double) * len);
        for (size_t r = 0; r < PB; r++) memcpy(b1 + r * len, xb + r * n + t0, sizeof(double) * len);
        CHECK_OK(nk_cmp_moments_add(part ? h2 : h1, a1, b1, len));
    }
    CHECK_OK(nk_cmp_moments_merge(h1, h2));
    double merged[3];
    CHECK_OK(nk_cka(h1, merged));
    for (int j = 0; j < 3; j++) CHECK_NEAR(merged[j], cka[j], 1e-12);
    nk_cmp_moments *other;
    int cc[] = {px + 1};
    CHECK_OK(nk_cmp_moments_new(1, cc, 3, cb, &other));
    CHECK(nk_cmp_moments_merge(h1, other) == NK_ERR_ARG);
    nk_cmp_moments_free(other), nk_cmp_moments_free(h1), nk_cmp_moments_free(h2);
    free(a1), free(b1), free(xb);
    nk_cmp_moments_free(m);
}

static uint64_t rs = 99;
static double gauss(void) {
    double u = 0;
    for (int k = 0; k < 12; k++) {
        rs ^= rs >> 12, rs ^= rs << 25, rs ^= rs >> 27;
        u += (double)((rs * 2685821657736338717ull) >> 11) / 9007199254740992.0;
    }
    return u - 6;
}

/* CKA(X·M + c, Y1) for a p×p matrix M (applied to the stack as Mᵀ X) and offset c. */
static double cka_transformed(const double *M, double scale, double offset) {
    double *xt = calloc((size_t)px * n, sizeof(double));
    for (int i = 0; i < px; i++)
        for (int k = 0; k < px; k++)
            for (int t = 0; t < n; t++) xt[(size_t)i * n + t] += M[k * px + i] * X[(size_t)k * n + t];
    for (size_t k = 0; k < (size_t)px * n; k++) xt[k] = scale * xt[k] + offset;
    int ca[] = {px}, cb[] = {p1};
    nk_cmp_moments *m;
    double c = NAN;
    CHECK_OK(nk_cmp_moments_new(1, ca, 1, cb, &m));
    CHECK_OK(nk_cmp_moments_add(m, xt, Y1, n));
    CHECK_OK(nk_cka(m, &c));
    nk_cmp_moments_free(m);
    free(xt);
    return c;
}

static void test_invariances(void) {
    /* A random orthogonal Q by Gram–Schmidt on Gaussian columns. */
    double *Q = malloc(sizeof(double) * px * px), *I = calloc((size_t)px * px, sizeof(double));
    for (int k = 0; k < px * px; k++) Q[k] = gauss();
    for (int j = 0; j < px; j++) {
        for (int i = 0; i < j; i++) {
            double d = 0;
            for (int k = 0; k < px; k++) d += Q[k * px + i] * Q[k * px + j];
            for (int k = 0; k < px; k++) Q[k * px + j] -= d * Q[k * px + i];
        }
        double nrm = 0;
        for (int k = 0; k < px; k++) nrm += Q[k * px + j] * Q[k * px + j];
        for (int k = 0; k < px; k++) Q[k * px + j] /= sqrt(nrm);
    }
    for (int i = 0; i < px; i++) I[i * px + i] = 1;
    const double ref = expect("X_Y1");
    CHECK_NEAR(cka_transformed(I, 1, 0), ref, 1e-10);
    CHECK_NEAR(cka_transformed(Q, 1, 0), ref, 1e-10);     /* orthogonal transform */
    CHECK_NEAR(cka_transformed(I, 37.5, 0), ref, 1e-10);  /* isotropic scaling */
    CHECK_NEAR(cka_transformed(Q, 0.02, 5.0), ref, 1e-9); /* and a shift (centring) */
    /* An anisotropic scaling is not an invariance: it must change CKA. */
    for (int i = 0; i < px; i++) I[i * px + i] = i < px / 2 ? 10 : 0.1;
    CHECK(fabs(cka_transformed(I, 1, 0) - ref) > 1e-3);
    free(Q), free(I);
}

static void test_edge_cases(void) {
    enum { N = 50 };
    double a[2 * N], b[N];
    for (int t = 0; t < N; t++) a[t] = 0, a[N + t] = 3.0, b[t] = gauss(); /* a dead layer: zero and constant units */
    int ca[] = {2}, cb[] = {1};
    nk_cmp_moments *m;
    CHECK_OK(nk_cmp_moments_new(1, ca, 1, cb, &m));
    double c;
    CHECK(nk_cka(m, &c) == NK_ERR_EMPTY);
    CHECK_OK(nk_cmp_moments_add(m, a, b, N));
    CHECK_OK(nk_cka(m, &c));
    CHECK(isnan(c));
    double rho[2];
    CHECK_OK(nk_unit_corr(m, 0, 0, rho));
    CHECK(isnan(rho[0]) && isnan(rho[1]));
    a[7] = NAN;
    CHECK(nk_cmp_moments_add(m, a, b, N) == NK_ERR_NUMERIC);
    CHECK(strstr(nk_last_error(), "unit 0 frame 7") != NULL);
    nk_cmp_moments_free(m);
    int bad[] = {0};
    CHECK(nk_cmp_moments_new(1, bad, 1, cb, &m) == NK_ERR_ARG);
    CHECK(nk_cmp_moments_new(0, ca, 1, cb, &m) == NK_ERR_ARG);
}

static void test_matching(void) {
    /* Semi-matching is many-to-one, the bipartite matching one-to-one. */
    const double rho[] = {0.9, 0.8, 0.1,  /* A0 */
                          0.85, 0.2, 0.3, /* A1: also prefers B0 */
                          NAN, NAN, NAN}; /* A2: constant */
    nk_unit_matching um;
    CHECK_OK(nk_unit_match(rho, 3, 3, &um));
    CHECK(um.semi[0] == 0 && um.semi[1] == 0 && um.semi[2] == -1);
    CHECK(um.match[0] == 1 && um.match[1] == 0 && um.match[2] == 2); /* 0.8 + 0.85 > 0.9 + 0.3 */
    CHECK(um.n_constant_a == 1 && um.n_constant_b == 0);
    CHECK_NEAR(um.mean_match, (0.8 + 0.85) / 2, 1e-15);
    CHECK_NEAR(um.mean_semi, (0.9 + 0.85) / 2, 1e-15);
    CHECK(isnan(um.match_corr[2]));
    nk_unit_matching_free(&um);
}

int main(void) {
    int n1, n2;
    X = load_T("cka_X", &n, &px);
    Y1 = load_T("cka_Y1", &n1, &p1);
    Y2 = load_T("cka_Y2", &n2, &p2);
    if (n1 != n || n2 != n) return 1;
    RUN(test_cka_numpy);
    RUN(test_invariances);
    RUN(test_edge_cases);
    RUN(test_matching);
    free(X), free(Y1), free(Y2);
    return check_summary();
}
