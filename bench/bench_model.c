/* Model speed and memory: the machine's sgemm peak (1 and 2 threads), then
 * forward and forward+backward of the full torchaudio Wav2Letter and of the
 * small shipped architecture on a 10 s utterance — GFLOP/s, fraction of the
 * sgemm peak, seconds of audio per second — single utterances (OpenBLAS
 * threads inside each layer) and a batch of two (one utterance per OpenMP
 * thread). Last, the peak resident memory after a 35 s utterance's forward
 * and backward on the full model.
 *
 *   build/bench/bench_model [--quick]      (run from the repository root) */
#include "napkit/napkit.h"
#include "napkit/model.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Best of `reps` runs of a square sgemm of size n, in GFLOP/s. */
static double sgemm_peak(int threads, int n, int reps) {
    openblas_set_num_threads(threads);
    float *a = malloc((size_t)n * n * 4), *b = malloc((size_t)n * n * 4), *c = malloc((size_t)n * n * 4);
    for (size_t i = 0; i < (size_t)n * n; i++) a[i] = (float)(i % 7) - 3, b[i] = (float)(i % 5) - 2;
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        t = now() - t;
        if (t < best) best = t;
    }
    free(a), free(b), free(c);
    return 2.0 * n * n * n / best / 1e9;
}

static nk_model *random_model(const char *arch_path) {
    nk_arch a;
    nk_model *m;
    if (nk_arch_load(arch_path, &a) || nk_model_new(&a, &m)) {
        fprintf(stderr, "bench_model: %s\n", nk_last_error());
        exit(1);
    }
    nk_arch_free(&a);
    nk_model_init(m, 1);
    return m;
}

static float *random_features(int F, int T) {
    float *x = malloc((size_t)F * T * 4);
    uint64_t s = 42;
    for (size_t i = 0; i < (size_t)F * T; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((s >> 40) * 0x1.0p-24 * 2 - 1);
    }
    return x;
}

static void die_if(int rc) {
    if (rc) {
        fprintf(stderr, "bench_model: %s\n", nk_last_error());
        exit(1);
    }
}

/* Times forward and forward+backward (all parameter gradients) of one model. */
static void bench(const char *arch_path, double peak2, int reps) {
    nk_model *m = random_model(arch_path);
    const nk_arch *a = nk_model_arch(m);
    const int F = nk_arch_input_dim(a), L = a->n_layers, T = 1001; /* 10 s at 10 ms */
    const double seconds = 10.0;
    float *x = random_features(F, T);
    int lens[64];
    die_if(nk_arch_frames(a, T, lens));
    /* Backward does two products per forward one: the input and the weight gradient. */
    const double fwd_flops = nk_arch_flops_per_frame(a) * lens[L - 1];
    printf("\n%s: %zu parameters, %.2f GFLOP forward for 10 s (%d -> %d frames)\n", a->name,
           nk_model_param_count(m), fwd_flops / 1e9, T, lens[L - 1]);
    nk_workspace *ws[2];
    die_if(nk_workspace_new(m, &ws[0]));
    die_if(nk_workspace_new(m, &ws[1]));

    openblas_set_num_threads(2);
    for (int with_back = 0; with_back < 2; with_back++) {
        double best = 1e30;
        for (int r = 0; r < reps + 1; r++) { /* the first run sizes the arena */
            double t = now();
            die_if(nk_model_forward(m, ws[0], x, T));
            if (with_back) {
                nk_ws_zero_param_grads(ws[0]);
                nk_ws_log_probs_grad(ws[0])[0] = 1;
                die_if(nk_model_backward(m, ws[0], L, NK_RULE_GRADIENT, 1));
            }
            t = now() - t;
            if (r && t < best) best = t;
        }
        double flops = fwd_flops * (with_back ? 3 : 1);
        printf("  1 utterance,  2 BLAS threads, %-16s %6.3f s  %6.1f GFLOP/s  %5.1f%% of peak  %7.1f s audio/s\n",
               with_back ? "forward+backward" : "forward", best, flops / best / 1e9,
               100 * flops / best / 1e9 / peak2, seconds / best);
    }
    /* Two utterances at once, one per OpenMP thread, through the training pass. */
    const float *xs[2] = {x, x};
    const int Ts[2] = {T, T}, U[2] = {20, 20};
    int lab[20];
    for (int u = 0; u < 20; u++) lab[u] = 3 + u % 26;
    const int *labels[2] = {lab, lab};
    double nll[2], best = 1e30;
    for (int r = 0; r < reps + 1; r++) {
        double t = now();
        die_if(nk_model_ctc_batch(m, ws, 2, 2, xs, Ts, labels, U, nll));
        t = now() - t;
        if (r && t < best) best = t;
    }
    double flops = 2 * 3 * fwd_flops;
    printf("  2 utterances, 2 OpenMP threads, %-14s %6.3f s  %6.1f GFLOP/s  %5.1f%% of peak  %7.1f s audio/s\n",
           "ctc batch (f+b)", best, flops / best / 1e9, 100 * flops / best / 1e9 / peak2, 2 * seconds / best);
    nk_workspace_free(ws[0]);
    nk_workspace_free(ws[1]);
    free(x);
    nk_model_free(m);
}

static void memory_35s(void) {
    nk_model *m = random_model("models/arch/wav2letter-mfcc.json");
    const nk_arch *a = nk_model_arch(m);
    const int T = 3501; /* 35 s */
    float *x = random_features(nk_arch_input_dim(a), T);
    nk_workspace *ws;
    die_if(nk_workspace_new(m, &ws));
    die_if(nk_model_forward(m, ws, x, T));
    nk_ws_log_probs_grad(ws)[0] = 1;
    die_if(nk_model_backward(m, ws, a->n_layers, NK_RULE_GRADIENT, 1));
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("\npeak resident memory after a 35 s forward+backward of %s (with all parameter "
           "gradients): %.0f MiB (limit 2048 MiB)\n", a->name, ru.ru_maxrss / 1024.0);
    nk_workspace_free(ws);
    free(x);
    nk_model_free(m);
}

int main(int argc, char **argv) {
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    int reps = quick ? 1 : 3;
    /* Memory first, so the peak is this run's own and not the benchmarks'. */
    memory_35s();
    double p1 = sgemm_peak(1, 2048, reps + 1), p2 = sgemm_peak(2, 2048, reps + 1);
    printf("sgemm peak (2048³): 1 thread %.1f GFLOP/s, 2 threads %.1f GFLOP/s\n", p1, p2);
    bench("models/arch/wav2letter-mfcc.json", p2, reps);
    bench("models/arch/small.json", p2, reps);
    return 0;
}
