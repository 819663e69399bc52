/* The gradients of output frames on their local cones, many events per pass.
 *
 * Output frame t of the last layer depends on a contiguous range of frames of
 * every lower layer (its receptive field). Walking down, layer l's frames
 * [lo, hi) read layer l−1's frames [lo·s − p, (hi−1)·s − p + d(k−1)], clipped
 * to the utterance; the gradient is zero outside. So the backward runs on
 * these sub-ranges only, at a cost set by the receptive field, not by the
 * utterance.
 *
 * Packing: the events of a batch sit side by side in one buffer per layer,
 * each in its own slot, and one call of the model's conv backward serves
 * them all (one sgemm with many columns instead of many thin ones, whose
 * weight packing would dominate). Event b's output slot starts at column V_b
 * and its input slot at V_b·s; the layer runs unpadded on the packed buffer,
 * so slot b reads exactly the unclipped range above, and slots are spaced so
 * their read ranges never meet: what an event sends to frames outside the
 * utterance lands in its own slot's margin and is dropped. Overlapping cones
 * are no obstacle. Each event gets the same products and sums as a
 * full-utterance backward restricted to the frames it reaches. */
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

/* Output columns layer l's slot needs for an n-frame cone: its read range, in strides. */
int nap_slot_columns(const nk_layer_spec *s, int n) {
    if (n == 0) return 0;
    int span = (n - 1) * s->stride + s->dilation * (s->kernel - 1) + 1;
    return (span + s->stride - 1) / s->stride;
}

const float *nk_nap_cone(const nk_nap_worker *w, int b, int l, int *lo, int *hi) {
    *lo = w->lo[b][l], *hi = w->hi[b][l];
    return w->g[b][l];
}

int nk_nap_cone_grads(nk_nap_worker *w, int n, const int *k, const int *t, nk_nap_target target, int lowest) {
    const nk_arch *a = w->arch;
    const int L = a->n_layers, K = a->n_classes;
    if (nk_ws_frames(w->ws, -1) <= 0) return nk_fail(NK_ERR_ARG, "naps: the worker holds no forward pass");
    const int TL = nk_ws_frames(w->ws, L - 1);
    if (n < 0 || n > NK_NAP_BATCH || lowest < 0 || lowest >= L)
        return nk_fail(NK_ERR_ARG, "naps: %d events (at most %d) down to layer %d of %d", n, NK_NAP_BATCH, lowest, L);
    const float *lp = nk_ws_log_probs(w->ws);
    for (int b = 0; b < n; b++) {
        if (k[b] < 0 || k[b] >= K || t[b] < 0 || t[b] >= TL)
            return nk_fail(NK_ERR_ARG, "naps: seed (class %d, frame %d) is outside (%d, %d)", k[b], t[b], K, TL);
        w->lo[b][L - 1] = t[b], w->hi[b][L - 1] = t[b] + 1;
        float *top = w->g[b][L - 1];
        memset(top, 0, K * sizeof *top);
        if (target == NK_NAP_TARGET_LOGIT) {
            top[k[b]] = 1;
        } else { /* through the model's own log-softmax backward, on frame t's column only */
            float *col = w->column, *seed = w->column + K;
            for (int j = 0; j < K; j++) col[j] = lp[(size_t)j * TL + t[b]], seed[j] = j == k[b];
            nk_log_softmax_backward(col, seed, top, K, 1);
        }
    }
    const float *params = nk_model_params((nk_model *)w->model);
    for (int l = L - 1; l > lowest; l--) {
        const nk_layer_spec *s = &a->layers[l];
        const int Tl = nk_ws_frames(w->ws, l), Tin = nk_ws_frames(w->ws, l - 1);
        const float *z = nk_ws_preact(w->ws, l);
        int N = 0, V[NK_NAP_BATCH];
        for (int b = 0; b < n; b++) V[b] = N, N += nap_slot_columns(s, w->hi[b][l] - w->lo[b][l]);
        const int Nin = N * s->stride;
        // gz (C_out, N): each event's pre-activation gradient in its slot, zeros between
        memset(w->gz, 0, (size_t)s->out * N * sizeof(float));
        for (int b = 0; b < n; b++) {
            const int nb = w->hi[b][l] - w->lo[b][l];
            for (int c = 0; nb && c < s->out; c++)
                nk_activation_backward(s->activation, NK_RULE_GRADIENT, z + (size_t)c * Tl + w->lo[b][l],
                                       w->g[b][l] + (size_t)c * nb, w->gz + (size_t)c * N + V[b], (size_t)nb);
        }
        // gx (C_in, Nin) = conv backward of the packed buffer, unpadded
        memset(w->gx, 0, (size_t)s->in * Nin * sizeof(float));
        nk_layer_spec packed = *s;
        packed.padding = 0;
        if (N > 0)
            nk_conv1d_backward(&packed, params + nk_model_layer_offset(w->model, l), NULL, Nin, w->gz, N, w->gx,
                               NULL, NULL, w->scratch);
        for (int b = 0; b < n; b++) { /* each event's frames inside the utterance, out of its slot */
            const int nb = w->hi[b][l] - w->lo[b][l];
            long first = (long)w->lo[b][l] * s->stride - s->padding;
            long last = (long)(w->hi[b][l] - 1) * s->stride - s->padding + (long)s->dilation * (s->kernel - 1);
            int lo = first < 0 ? 0 : (int)first, hi = last + 1 > Tin ? Tin : (int)(last + 1);
            if (nb == 0 || hi <= lo) lo = hi = 0; /* the cone reads padding only */
            w->lo[b][l - 1] = lo, w->hi[b][l - 1] = hi;
            const float *src = w->gx + (size_t)V[b] * s->stride + (lo - first);
            for (int c = 0; hi > lo && c < s->in; c++)
                memcpy(w->g[b][l - 1] + (size_t)c * (hi - lo), src + (size_t)c * Nin, (size_t)(hi - lo) * sizeof(float));
        }
    }
    return NK_OK;
}
