/* Elementwise activations and the log-softmax over classes, forward and backward. */
#include "napkit/model.h"

#include <math.h>

void nk_activation_forward(nk_activation act, const float *z, float *a, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = z[i];
        if (act == NK_ACT_RELU) v = v > 0 ? v : 0;
        else if (act == NK_ACT_HARDTANH) v = v < -1 ? -1 : v > 1 ? 1 : v;
        a[i] = v;
    }
}

/* The backward is a rule: the true derivative gates by where the activation
 * passes its input (PyTorch's convention at the kinks: relu' = [z > 0],
 * hardtanh' = [−1 < z < 1]); guided backprop additionally passes only positive
 * signal through gated activations. LRP rules will be further cases here. */
void nk_activation_backward(nk_activation act, nk_backward_rule rule, const float *z,
                            const float *g_a, float *g_z, size_t n) {
    if (act == NK_ACT_NONE) {
        for (size_t i = 0; i < n; i++) g_z[i] = g_a[i];
        return;
    }
    for (size_t i = 0; i < n; i++) {
        int pass = act == NK_ACT_RELU ? z[i] > 0 : (z[i] > -1 && z[i] < 1);
        if (rule == NK_RULE_GUIDED) pass = pass && g_a[i] > 0;
        g_z[i] = pass ? g_a[i] : 0;
    }
}

/* Columns are processed in blocks so the per-column max and sum stay on the
 * stack while rows are read contiguously. */
enum { BLOCK = 256 };

void nk_log_softmax_forward(const float *z, float *lp, int K, int T) {
    for (int t0 = 0; t0 < T; t0 += BLOCK) {
        int n = T - t0 < BLOCK ? T - t0 : BLOCK;
        float mx[BLOCK];
        double sum[BLOCK];
        for (int t = 0; t < n; t++) mx[t] = z[t0 + t], sum[t] = 0;
        for (int k = 1; k < K; k++)
            for (int t = 0; t < n; t++)
                if (z[(size_t)k * T + t0 + t] > mx[t]) mx[t] = z[(size_t)k * T + t0 + t];
        for (int k = 0; k < K; k++)
            for (int t = 0; t < n; t++) sum[t] += exp((double)z[(size_t)k * T + t0 + t] - mx[t]);
        for (int t = 0; t < n; t++) sum[t] = mx[t] + log(sum[t]);
        for (int k = 0; k < K; k++)
            for (int t = 0; t < n; t++)
                lp[(size_t)k * T + t0 + t] = (float)(z[(size_t)k * T + t0 + t] - sum[t]);
    }
}

void nk_log_softmax_backward(const float *lp, const float *g_lp, float *g_z, int K, int T) {
    for (int t0 = 0; t0 < T; t0 += BLOCK) {
        int n = T - t0 < BLOCK ? T - t0 : BLOCK;
        double sum[BLOCK] = {0};
        for (int k = 0; k < K; k++)
            for (int t = 0; t < n; t++) sum[t] += g_lp[(size_t)k * T + t0 + t];
        for (int k = 0; k < K; k++)
            for (int t = 0; t < n; t++) {
                size_t i = (size_t)k * T + t0 + t;
                g_z[i] += (float)(g_lp[i] - exp((double)lp[i]) * sum[t]);
            }
    }
}
