#include "napkit/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct nk_progress {
    char what[64], unit[32];
    size_t total, done;
    double units, start, last_draw;
    int enabled;
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

nk_progress *nk_progress_new(const char *what, size_t total, const char *unit, int enabled) {
    nk_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    snprintf(p->what, sizeof p->what, "%s", what);
    snprintf(p->unit, sizeof p->unit, "%s", unit ? unit : "items");
    p->total = total;
    p->enabled = enabled;
    p->start = p->last_draw = now();
    return p;
}

static void format_duration(double s, char *buf, size_t n) {
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
}

static void draw(nk_progress *p, const char *extra, int final) {
    double elapsed = now() - p->start;
    char eta[32] = "?", took[32];
    if (p->done > 0 && p->done < p->total)
        format_duration(elapsed * (double)(p->total - p->done) / (double)p->done, eta, sizeof eta);
    format_duration(elapsed, took, sizeof took);
    double rate = elapsed > 0 ? p->units / elapsed : 0;
    fprintf(stderr, "\r\033[K%s %zu/%zu  %.1f %s/s  %s %s%s%s", p->what, p->done, p->total, rate,
            p->unit, final ? "took" : "ETA", final ? took : eta, extra ? "  " : "", extra ? extra : "");
    if (final) fputc('\n', stderr);
    fflush(stderr);
}

void nk_progress_update(nk_progress *p, size_t done, double units, const char *extra) {
    if (!p) return;
    p->done = done;
    p->units = units;
    double t = now();
    if (!p->enabled || (t - p->last_draw < 0.1 && done < p->total)) return;
    p->last_draw = t;
    draw(p, extra, 0);
}

void nk_progress_finish(nk_progress *p) {
    if (!p) return;
    if (p->enabled) draw(p, NULL, 1);
    free(p);
}
