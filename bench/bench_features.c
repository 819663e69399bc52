/* Front-end speed: seconds of audio turned into features per second of
 * wall-clock time, single thread, for the common configurations. */
#include "napkit/napkit.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void bench(const char *name, const nk_frontend_config *cfg, const float *x, size_t n) {
    nk_frontend *fe;
    if (nk_frontend_new(cfg, &fe)) {
        fprintf(stderr, "%s: %s\n", name, nk_last_error());
        exit(1);
    }
    size_t T = nk_frontend_frames(fe, n);
    float *y = malloc((size_t)nk_frontend_dim(fe) * T * sizeof *y);
    double seconds = (double)n / cfg->sample_rate, best = INFINITY;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        nk_frontend_compute(fe, x, n, y);
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    printf("%-28s %8.0f s of audio per second (%.1f ms for %.0f s)\n", name, seconds / best,
           best * 1e3, seconds);
    free(y);
    nk_frontend_free(fe);
}

int main(void) {
    openblas_set_num_threads(1);
    size_t n = 60 * 16000;
    float *x = malloc(n * sizeof *x);
    unsigned s = 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        x[i] = 0.3f * sinf(0.03f * i) + 0.05f * ((s >> 16) / 32768.0f - 1.0f);
    }
    printf("front end, single thread, 60 s of 16 kHz audio (best of 5)\n");
    nk_frontend_config c;
    nk_frontend_config_default(&c);
    c.normalize = NK_NORM_UTTERANCE;
    bench("logmel 40, n_fft 400", &c, x, n);
    c.kind = NK_FEAT_MFCC;
    c.log = NK_LOG_DB;
    c.top_db = 80;
    bench("mfcc 13 of 40 mel", &c, x, n);
    nk_frontend_config_default(&c);
    c.n_fft = 512;
    c.win = 512;
    c.hop = 128;
    c.n_mels = 128;
    c.log = NK_LOG_DB;
    c.normalize = NK_NORM_UTTERANCE;
    bench("logmel 128, n_fft 512, hop 128", &c, x, n);
    free(x);
    return 0;
}
