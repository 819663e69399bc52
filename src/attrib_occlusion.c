/* Occlusion (Zeiler & Fergus 2014): slide a patch over X, set it to the
 * baseline and record how much the target drops. Patches are evaluated in
 * parallel; those outside the input frames a logit, token or unit target can
 * see change nothing and are not run. */
#include "napkit/attrib.h"

#include "napkit/error.h"

#include <stdlib.h>
#include <string.h>

/* Patch starts 0, stride, 2·stride, … and a last one flush with the end, so
 * every patch has full size and every cell is covered. */
static int n_starts(int len, int patch, int stride) {
    if (patch >= len) return 1;
    int n = (len - patch) / stride + 1;
    return n + ((n - 1) * stride + patch < len);
}

static int start_at(int i, int len, int patch, int stride) {
    int s = i * stride;
    return s + patch > len ? (len > patch ? len - patch : 0) : s;
}

typedef struct {
    const nk_model *m;
    const float *x, *baseline;
    int F, T, pt, pf, st, sf, nt;
    int seen_lo, seen_hi; /* input frames the target depends on */
    const nk_target *tg;
    double y;
    float *map, *count;
} occ;

static void patch_of(const occ *c, int i, int *t0, int *f0) {
    *t0 = start_at(i % c->nt, c->T, c->pt, c->st);
    *f0 = start_at(i / c->nt, c->F, c->pf, c->sf);
}

/* buf: the occluded input (F, T), then y − y(occluded) in buf[F·T]. */
static int occlude(void *ctx, int i, nk_workspace *ws, float *buf) {
    const occ *c = ctx;
    const size_t n = (size_t)c->F * c->T;
    int t0, f0;
    patch_of(c, i, &t0, &f0);
    buf[n] = 0;
    if (t0 + c->pt <= c->seen_lo || t0 >= c->seen_hi) return NK_OK;
    memcpy(buf, c->x, n * sizeof *buf);
    for (int f = f0; f < f0 + c->pf; f++)
        for (int t = t0; t < t0 + c->pt; t++) {
            size_t j = (size_t)f * c->T + t;
            buf[j] = c->baseline ? c->baseline[j] : 0;
        }
    int rc = nk_model_forward(c->m, ws, buf, c->T);
    if (!rc) buf[n] = (float)(c->y - nk_target_value(ws, c->tg));
    return rc;
}

static void add_drop(void *ctx, int i, const float *buf) {
    occ *c = ctx;
    const float drop = buf[(size_t)c->F * c->T];
    int t0, f0;
    patch_of(c, i, &t0, &f0);
    for (int f = f0; f < f0 + c->pf; f++)
        for (int t = t0; t < t0 + c->pt; t++) {
            size_t j = (size_t)f * c->T + t;
            c->map[j] += drop, c->count[j] += 1;
        }
}

int nk_attr_occlusion(const nk_model *m, nk_workspace *ws, const float *x, int T, const nk_target *tg,
                      const nk_attr_options *o, float *map) {
    const nk_arch *a = nk_model_arch(m);
    const int F = nk_arch_input_dim(a);
    occ c = {.m = m, .x = x, .baseline = o->baseline, .F = F, .T = T, .tg = tg, .map = map};
    c.pt = o->patch_t < T ? o->patch_t : T, c.pf = o->patch_f > 0 && o->patch_f < F ? o->patch_f : F;
    c.st = o->stride_t > 0 ? o->stride_t : c.pt, c.sf = o->stride_f > 0 ? o->stride_f : c.pf;
    if (c.pt < 1) return nk_fail(NK_ERR_ARG, "occlusion: the patch needs at least one frame");
    c.nt = n_starts(T, c.pt, c.st);
    c.seen_lo = 0, c.seen_hi = T;
    if (tg->kind != NK_TARGET_CTC) nk_attr_input_span(a, tg->layer, tg->t0, tg->t1, &c.seen_lo, &c.seen_hi);
    const size_t n = (size_t)F * T;
    if (!(c.count = calloc(n, sizeof *c.count))) return nk_fail(NK_ERR_NOMEM, "occlusion: out of memory");
    int rc = nk_model_forward(m, ws, x, T);
    if (!rc) {
        c.y = nk_target_value(ws, tg);
        memset(map, 0, n * sizeof *map);
        rc = nk_attr_parallel(m, ws, c.nt * n_starts(F, c.pf, c.sf), n + 1, occlude, add_drop, &c);
    }
    for (size_t j = 0; j < n && !rc; j++) map[j] /= c.count[j];
    free(c.count);
    return rc;
}
