/* Occlusion (Zeiler & Fergus 2014): slide a patch over X, set it to the
 * baseline and record how much the target drops. */
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

int nk_attr_occlusion(const nk_model *m, nk_workspace *ws, const float *x, int T, const nk_target *tg,
                      const nk_attr_options *o, float *map) {
    const int F = nk_arch_input_dim(nk_model_arch(m));
    const int pt = o->patch_t < T ? o->patch_t : T, pf = o->patch_f > 0 && o->patch_f < F ? o->patch_f : F;
    const int st = o->stride_t > 0 ? o->stride_t : pt, sf = o->stride_f > 0 ? o->stride_f : pf;
    if (pt < 1) return nk_fail(NK_ERR_ARG, "occlusion: the patch needs at least one frame");
    const size_t n = (size_t)F * T;
    float *xo = malloc(2 * n * sizeof *xo), *count = xo + n;
    if (!xo) return nk_fail(NK_ERR_NOMEM, "occlusion: out of memory");
    int rc = nk_model_forward(m, ws, x, T);
    const double y = rc ? 0 : nk_target_value(ws, tg);
    memcpy(xo, x, n * sizeof *x);
    memset(map, 0, n * sizeof *map);
    memset(count, 0, n * sizeof *count);
    const int nt = n_starts(T, pt, st), nf = n_starts(F, pf, sf);
    for (int i = 0; i < nt * nf && !rc; i++) {
        const int t0 = start_at(i % nt, T, pt, st), f0 = start_at(i / nt, F, pf, sf);
        for (int f = f0; f < f0 + pf; f++)
            for (int t = t0; t < t0 + pt; t++) {
                size_t j = (size_t)f * T + t;
                xo[j] = o->baseline ? o->baseline[j] : 0;
            }
        if ((rc = nk_model_forward(m, ws, xo, T))) break;
        const float drop = (float)(y - nk_target_value(ws, tg));
        for (int f = f0; f < f0 + pf; f++)
            for (int t = t0; t < t0 + pt; t++) {
                size_t j = (size_t)f * T + t;
                map[j] += drop, count[j] += 1, xo[j] = x[j];
            }
    }
    for (size_t j = 0; j < n && !rc; j++) map[j] /= count[j];
    free(xo);
    return rc;
}
