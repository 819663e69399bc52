/* Timing of the CTC loss + gradient, forced alignment and greedy decoding at
 * utterance sizes (K = 29 letters, 20 ms frames: T = 500 is 10 s of speech),
 * and of Needleman–Wunsch on word-sized sequences. Single thread. */
#include "napkit/napkit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

// Peaky random log-softmax outputs (K, T), like a trained network's.
static void fill(float *lp, int K, int T) {
    for (int t = 0; t < T; t++) {
        double m = -INFINITY, sum = 0;
        for (int k = 0; k < K; k++) {
            lp[k * T + t] = (float)(8.0 * rand() / RAND_MAX);
            m = fmax(m, lp[k * T + t]);
        }
        for (int k = 0; k < K; k++) sum += exp(lp[k * T + t] - m);
        for (int k = 0; k < K; k++) lp[k * T + t] -= (float)(m + log(sum));
    }
}

int main(void) {
    enum { K = 29 };
    static const int sizes[][2] = {{200, 60}, {500, 150}, {1000, 300}};
    printf("%-22s %10s %12s %12s %12s\n", "T x U (K=29)", "cells", "loss ms", "loss+grad ms",
           "align ms");
    for (int c = 0; c < 3; c++) {
        int T = sizes[c][0], U = sizes[c][1];
        float *lp = malloc(sizeof(float) * K * T), *grad = malloc(sizeof(float) * K * T);
        int *labels = malloc(sizeof(int) * U);
        nk_ctc_span *spans = malloc(sizeof(nk_ctc_span) * U);
        fill(lp, K, T);
        for (int u = 0; u < U; u++) labels[u] = 1 + rand() % (K - 1);
        double nll, score, ms[3];
        int reps = 20;
        for (int which = 0; which < 3; which++) {
            double t0 = now();
            for (int r = 0; r < reps; r++) {
                int rc = which == 2 ? nk_ctc_align(lp, K, T, labels, U, 0, spans, NULL, &score)
                                    : nk_ctc_loss(lp, K, T, labels, U, 0, &nll, which ? grad : NULL);
                if (rc) {
                    fprintf(stderr, "%s\n", nk_last_error());
                    return 1;
                }
            }
            ms[which] = (now() - t0) / reps * 1e3;
        }
        char name[32];
        snprintf(name, sizeof name, "%d x %d", T, U);
        printf("%-22s %10d %12.3f %12.3f %12.3f\n", name, T * (2 * U + 1), ms[0], ms[1], ms[2]);
        free(lp), free(grad), free(labels), free(spans);
    }

    enum { N = 12, M = 10, REPS = 100000 };
    float sub[40 * 40];
    for (int i = 0; i < 40 * 40; i++) sub[i] = (float)(rand() % 5 - 2);
    nk_nw_scoring sc = {sub, 40, 40, NULL, NULL, -1, -1};
    int a[N], b[M], k;
    nk_nw_pair pairs[N + M];
    for (int i = 0; i < N; i++) a[i] = rand() % 40;
    for (int j = 0; j < M; j++) b[j] = rand() % 40;
    double score, t0 = now();
    for (int r = 0; r < REPS; r++) nk_nw_align(a, N, b, M, &sc, pairs, &k, &score);
    printf("nw align %d x %d: %.2f us per word pair\n", N, M, (now() - t0) / REPS * 1e6);
    return 0;
}
