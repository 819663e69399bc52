/* Throughput of NAP accumulation (nk_nap_run) in seconds of audio per second,
 * for --mode act and --mode gxa, all layers, window 15, on one and two
 * threads. Model: models/en.safetensors when it exists, otherwise small.json
 * randomly initialized. Input: the front end's fixture signal (5 s) repeated
 * as 24 utterances, with a letter event every 80 ms (12.5 per second, about
 * the letter rate of read English) targeting a letter. OpenBLAS runs on one
 * thread; "threads" is nk_nap_run's (and OpenMP's) thread count. */
#include "napkit/napkit.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(void) {
    nk_model *m = NULL;
    const char *which = "models/en.safetensors";
    if (nk_model_load(which, &m)) {
        nk_arch a;
        which = "models/arch/small.json (random init, seed 1)";
        if (nk_arch_load("models/arch/small.json", &a) || nk_model_new(&a, &m)) {
            fprintf(stderr, "bench_naps: %s\n", nk_last_error());
            return 1;
        }
        nk_arch_free(&a);
        nk_model_init(m, 1);
    }
    const nk_arch *a = nk_model_arch(m);
    nk_frontend *fe;
    float *x;
    int F, T;
    if (nk_frontend_new(&a->frontend, &fe) || nk_features_from_file(fe, "tests/fixtures/frontend/signal.wav", &x, &F, &T)) {
        fprintf(stderr, "bench_naps: %s\n", nk_last_error());
        return 1;
    }
    nk_frontend_free(fe);
    const double frame = (double)a->frontend.hop / a->frontend.sample_rate, seconds = T * frame;
    enum { NU = 24, G = 26 };
    const int n_ev = (int)(seconds / 0.08);
    nk_nap_event *ev = malloc(sizeof *ev * n_ev);
    for (int e = 0; e < n_ev; e++) {
        double peak = 0.04 + 0.08 * e;
        ev[e] = (nk_nap_event){e % G, peak - 0.04, peak + 0.04, peak, 3 + e % G};
    }
    nk_nap_utt u[NU];
    char ids[NU][8];
    for (int i = 0; i < NU; i++) {
        snprintf(ids[i], sizeof ids[i], "u%02d", i);
        u[i] = (nk_nap_utt){ids[i], x, T, ev, n_ev};
    }
    const char *groups[G];
    char names[G][2];
    for (int g = 0; g < G; g++) names[g][0] = (char)('a' + g), names[g][1] = 0, groups[g] = names[g];
    int layers[64];
    for (int l = 0; l < a->n_layers; l++) layers[l] = l;
    printf("model: %s; %d utterances of %.2f s, %d events each, all %d layers, window 15\n", which, NU, seconds, n_ev,
           a->n_layers);
    printf("%-8s %8s %12s %14s %14s\n", "mode", "threads", "seconds", "audio s / s", "events / s");
    openblas_set_num_threads(1);
    const nk_nap_mode modes[] = {NK_NAP_ACT, NK_NAP_GXA};
    for (int mi = 0; mi < 2; mi++)
        for (int threads = 1; threads <= 2; threads++) {
            nk_nap_config cfg = {modes[mi], NK_NAP_CENTER_PEAK, NK_NAP_TARGET_LOGIT, 15, a->n_layers, layers};
            nk_nap_sums *s;
            omp_set_num_threads(threads); /* one thread means one: also inside the conv's im2col */
            if (nk_nap_sums_new(a, &cfg, groups, G, NULL, &s)) return 1;
            double t0 = now();
            if (nk_nap_run(m, s, u, NU, threads, NULL, NULL)) {
                fprintf(stderr, "bench_naps: %s\n", nk_last_error());
                return 1;
            }
            double dt = now() - t0;
            printf("%-8s %8d %12.3f %14.1f %14.0f\n", nk_nap_mode_names[modes[mi]], threads, dt, NU * seconds / dt,
                   NU * n_ev / dt);
            nk_nap_sums_free(s);
        }
    free(ev), free(x);
    nk_model_free(m);
    return 0;
}
