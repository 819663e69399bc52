/* The gradient of one output frame on its local cone.
 *
 * Output frame t of the last layer depends on a contiguous range of frames of
 * every lower layer (its receptive field). Walking down, layer l's frames
 * [lo, hi) read layer l−1's frames [lo·s − p, (hi−1)·s − p + d(k−1)], clipped
 * to the utterance; the gradient is zero outside. So the backward runs the
 * model's own layer primitives on these sub-ranges only, with the padding
 * shifted so a sub-range's first output reads its first input: the same
 * products and sums as a full-utterance backward restricted to the frames it
 * can reach, at a cost set by the receptive field, not the utterance. */
#include "nap_worker.h"

#include "napkit/error.h"

#include <string.h>

/* Widest cone (frames) at each layer: 1 at the top, growing downwards. */
void nap_cone_widths(const nk_arch *a, int *width) {
    const int L = a->n_layers;
    width[L - 1] = 1;
    for (int l = L - 1; l > 0; l--) {
        const nk_layer_spec *s = &a->layers[l];
        width[l - 1] = (width[l] - 1) * s->stride + s->dilation * (s->kernel - 1) + 1;
    }
}

int nk_nap_cone_grad(nk_nap_worker *w, int k, int t, nk_nap_target target, int lowest,
                     const float *const **g, const int **lo, const int **hi) {
    const nk_arch *a = w->arch;
    const int L = a->n_layers, K = a->n_classes;
    if (nk_ws_frames(w->ws, -1) <= 0) return nk_fail(NK_ERR_ARG, "naps: the worker holds no forward pass");
    const int TL = nk_ws_frames(w->ws, L - 1);
    if (k < 0 || k >= K || t < 0 || t >= TL || lowest < 0 || lowest >= L)
        return nk_fail(NK_ERR_ARG, "naps: seed (class %d, frame %d, lowest layer %d) is outside (%d, %d, %d)", k, t,
                       lowest, K, TL, L);
    w->lo[L - 1] = t, w->hi[L - 1] = t + 1;
    float *top = w->g[L - 1];
    if (target == NK_NAP_TARGET_LOGIT) {
        memset(top, 0, K * sizeof *top);
        top[k] = 1;
    } else { /* through the model's own log-softmax backward, on frame t's column only */
        const float *lp = nk_ws_log_probs(w->ws);
        float *col = w->column, *seed = w->column + K;
        for (int j = 0; j < K; j++) col[j] = lp[(size_t)j * TL + t], seed[j] = j == k;
        memset(top, 0, K * sizeof *top);
        nk_log_softmax_backward(col, seed, top, K, 1);
    }
    const float *params = nk_model_params((nk_model *)w->model);
    for (int l = L - 1; l > lowest; l--) {
        const nk_layer_spec *s = &a->layers[l];
        const int n = w->hi[l] - w->lo[l], Tl = nk_ws_frames(w->ws, l), Tin = nk_ws_frames(w->ws, l - 1);
        const float *z = nk_ws_preact(w->ws, l);
        for (int c = 0; c < s->out; c++)
            nk_activation_backward(s->activation, NK_RULE_GRADIENT, z + (size_t)c * Tl + w->lo[l],
                                   w->g[l] + (size_t)c * n, w->gz + (size_t)c * n, (size_t)n);
        long first = (long)w->lo[l] * s->stride - s->padding;
        long last = (long)(w->hi[l] - 1) * s->stride - s->padding + (long)s->dilation * (s->kernel - 1);
        w->lo[l - 1] = first < 0 ? 0 : (int)first;
        w->hi[l - 1] = last + 1 > Tin ? Tin : (int)(last + 1);
        if (w->hi[l - 1] <= w->lo[l - 1]) { /* the cone reads padding only: nothing below */
            for (int m = l - 1; m >= lowest; m--) w->lo[m] = w->hi[m] = 0;
            break;
        }
        const int n_in = w->hi[l - 1] - w->lo[l - 1];
        memset(w->g[l - 1], 0, (size_t)s->in * n_in * sizeof(float));
        nk_layer_spec local = *s;
        local.padding = (int)(w->lo[l - 1] - first);
        nk_conv1d_backward(&local, params + nk_model_layer_offset(w->model, l), NULL, n_in, w->gz, n, w->g[l - 1],
                           NULL, NULL, w->scratch);
    }
    *g = (const float *const *)w->g;
    *lo = w->lo, *hi = w->hi;
    return NK_OK;
}
