/* Timing of the CTC loss + gradient and forced alignment at utterance sizes
 * (K = 29 letters, 20 ms frames: T = 500 is 10 s of speech), of greedy and
 * beam-search decoding (with an order-8 character LM trained on
 * corpora/text/en.txt when run from the repository root), and of
 * Needleman–Wunsch on word-sized sequences. Single thread. */
#include "napkit/napkit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

// Random log-softmax outputs (K, T): logits uniform in [0, spread), plus
// `peak` on one class per frame (the blank on 60 % of the frames), which makes
// them as peaky as a trained network's.
static void fill_peaky(float *lp, int K, int T, double spread, double peak) {
    for (int t = 0; t < T; t++) {
        double m = -INFINITY, sum = 0;
        const int top = rand() % 10 < 6 ? 0 : 1 + rand() % (K - 1);
        for (int k = 0; k < K; k++) {
            lp[k * T + t] = (float)(spread * rand() / RAND_MAX + (k == top ? peak : 0));
            m = fmax(m, lp[k * T + t]);
        }
        for (int k = 0; k < K; k++) sum += exp(lp[k * T + t] - m);
        for (int k = 0; k < K; k++) lp[k * T + t] -= (float)(m + log(sum));
    }
}

/* An order-8 LM over the English alphabet from the sentences of en.txt, or NULL. */
static nk_charlm *train_lm(const nk_alphabet *a) {
    FILE *f = fopen("corpora/text/en.txt", "r");
    if (!f) return NULL;
    char line[4096], **texts = NULL;
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        char *text;
        line[strcspn(line, "\n")] = 0;
        if (nk_text_normalize(a, line, &text)) continue;
        char **grown = realloc(texts, (n + 1) * sizeof *texts);
        if (!grown) break;
        texts = grown;
        texts[n++] = text;
    }
    fclose(f);
    nk_charlm *lm = NULL;
    if (n && nk_charlm_train(a, 8, (const char *const *)texts, n, &lm)) fprintf(stderr, "%s\n", nk_last_error());
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
    return lm;
}

/* Seconds of audio decoded per second (20 ms frames), greedy and beam search. */
static void bench_decoding(void) {
    enum { K = 29, T = 500, REPS = 20 };
    nk_alphabet *a;
    if (nk_alphabet_builtin("en", &a) || nk_alphabet_size(a) != K) return;
    nk_charlm *lm = train_lm(a);
    float *lp = malloc(sizeof(float) * K * T);
    int *labels = malloc(sizeof(int) * T), n;
    fill_peaky(lp, K, T, 4, 8); /* a trained model's peaks stand out by several nats */
    nk_ctc_beam_options o;
    nk_ctc_beam_defaults(&o);
    printf("decoding 10 s (T = %d): ", T);
    for (int which = 0; which < 3; which++) {
        if (which == 2 && !lm) break;
        o.lm = which == 2 ? lm : NULL;
        double t0 = now();
        for (int r = 0; r < REPS; r++) {
            if (which == 0) nk_ctc_greedy(lp, K, T, 0, labels, &n);
            else if (nk_ctc_beam(lp, K, T, 0, &o, labels, &n)) fprintf(stderr, "%s\n", nk_last_error());
        }
        static const char *const names[] = {"greedy", "beam 16", "beam 16 + LM"};
        printf("%s%s %.0f s audio/s", which ? ", " : "", names[which], 10.0 * REPS / (now() - t0));
    }
    printf("\n");
    free(lp), free(labels);
    nk_charlm_free(lm);
    nk_alphabet_free(a);
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
        fill_peaky(lp, K, T, 8, 0);
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

    bench_decoding();

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
