/* Model comparison cost: streaming the moments of all 11 layers of two small
 * models (1565 units each), the whole corpus pass (two forwards + moments) on
 * 1 and 2 threads, the Hungarian method and the SOM. Prints figures. */
#include "napkit/napkit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static uint64_t rs = 42;
static double uni(void) {
    rs ^= rs >> 12, rs ^= rs << 25, rs ^= rs >> 27;
    return (double)((rs * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

int main(void) {
    nk_arch arch;
    if (nk_arch_load("models/arch/small.json", &arch)) {
        fprintf(stderr, "bench_compare: %s\n", nk_last_error());
        return 1;
    }
    nk_model *a, *b;
    if (nk_model_new(&arch, &a) || nk_model_new(&arch, &b)) return 1;
    nk_model_init(a, 1), nk_model_init(b, 2);
    const int L = arch.n_layers;
    int layers[64], c[64];
    size_t P = 0;
    for (int l = 0; l < L; l++) layers[l] = l, c[l] = arch.layers[l].out, P += c[l];

    /* Moments alone: one 3 s utterance (150 frames on the grid), as dgemm + dsyrk in double. */
    const int n = 150;
    double *xa = malloc(sizeof(double) * P * n), *xb = malloc(sizeof(double) * P * n);
    for (size_t k = 0; k < P * n; k++) xa[k] = uni(), xb[k] = uni();
    nk_cmp_moments *m;
    if (nk_cmp_moments_new(L, c, L, c, &m)) return 1;
    double t0 = now();
    int reps = 20;
    for (int r = 0; r < reps; r++) nk_cmp_moments_add(m, xa, xb, n);
    double dt = (now() - t0) / reps;
    printf("moments of %zu + %zu units, %d frames: %.1f ms per utterance (%.1f GFLOP/s)\n", P, P, n, 1e3 * dt,
           2.0 * P * P * n / dt / 1e9);
    double *cka = malloc(sizeof(double) * L * L);
    t0 = now();
    nk_cka(m, cka);
    printf("CKA of %d × %d layer pairs from the moments: %.1f ms\n", L, L, 1e3 * (now() - t0));

    /* The corpus pass: 40 utterances of 3 s (300 input frames) of random features. */
    enum { U = 40, T = 300 };
    const int F = nk_arch_input_dim(&arch);
    float *x = malloc(sizeof(float) * F * T);
    for (int k = 0; k < F * T; k++) x[k] = (float)(2 * uni() - 1);
    nk_compare_utt u[U];
    for (int i = 0; i < U; i++) u[i] = (nk_compare_utt){.id = "u", .xa = x, .Ta = T, .xb = x, .Tb = T};
    for (int threads = 1; threads <= 2; threads++) {
        size_t used;
        t0 = now();
        if (nk_compare_run(a, layers, L, b, layers, L, u, U, threads, NULL, NULL, m, &used)) return 1;
        dt = now() - t0;
        printf("corpus pass, %d thread%s: %.0f ms per 3 s utterance (%.1f× real time)\n", threads,
               threads > 1 ? "s" : "", 1e3 * dt / U, 3.0 * U / dt);
    }

    /* Hungarian on correlation-like matrices. */
    for (int N = 128; N <= 512; N *= 2) {
        double *cost = malloc(sizeof(double) * N * N);
        int *col = malloc(sizeof(int) * N);
        for (int k = 0; k < N * N; k++) cost[k] = 2 * uni() - 1;
        t0 = now();
        nk_linear_sum_assignment(cost, N, N, 1, col, NULL);
        printf("Hungarian %d × %d: %.1f ms\n", N, N, 1e3 * (now() - t0));
        free(cost), free(col);
    }

    /* SOM: 256 units (two 128-unit layers) × 25 phonemes, 1000 epochs. */
    double *X = malloc(sizeof(double) * 256 * 25);
    for (int k = 0; k < 256 * 25; k++) X[k] = uni();
    nk_som_config sc;
    nk_som_config_default(&sc, 256);
    nk_som s;
    t0 = now();
    if (nk_som_fit(X, 256, 25, &sc, &s)) return 1;
    printf("SOM 256 units × 25 dims on 16 × 16, %d epochs: %.2f s\n", sc.epochs, now() - t0);
    nk_som_free(&s);
    free(X), free(x), free(xa), free(xb), free(cka);
    nk_cmp_moments_free(m);
    nk_model_free(a), nk_model_free(b);
    nk_arch_free(&arch);
    return 0;
}
