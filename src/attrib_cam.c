/* Grad-CAM (Selvaraju et al. 2017) on a 1D conv layer, its upsampling to
 * input frames, and guided Grad-CAM. */
#include "napkit/attrib.h"

#include "napkit/error.h"

#include <stdlib.h>
#include <string.h>

int nk_gradcam_layer(const nk_model *m, nk_workspace *ws, const nk_target *tg, int l, int window,
                     float *cam) {
    const nk_arch *a = nk_model_arch(m);
    if (l < 0 || l >= a->n_layers || (tg->kind != NK_TARGET_CTC && l > tg->layer))
        return nk_fail(NK_ERR_ARG, "gradcam: layer %d is not at or below the target's layer %d", l, tg->layer);
    int rc = nk_target_backward(m, ws, tg, NK_RULE_GRADIENT);
    if (rc) return rc;
    const int C = a->layers[l].out, Tl = nk_ws_frames(ws, l);
    const float *A = nk_ws_act(ws, l), *G = nk_ws_grad(ws, l);
    /* The window is centred on the target's middle frame mapped to layer l. */
    int lo = 0, hi = Tl;
    if (window >= 0 && tg->kind != NK_TARGET_CTC) {
        long ratio = nk_arch_total_stride(a, tg->layer) / nk_arch_total_stride(a, l);
        long c = (long)(tg->t0 + tg->t1 - 1) / 2 * ratio;
        lo = c - window < 0 ? 0 : (int)(c - window);
        hi = c + window + 1 > Tl ? Tl : (int)(c + window + 1);
    }
    memset(cam, 0, (size_t)Tl * sizeof *cam);
    for (int c = 0; c < C; c++) {
        double alpha = 0; // α_c = mean over the window of ∂y/∂A[c, t]
        for (int t = lo; t < hi; t++) alpha += G[(size_t)c * Tl + t];
        alpha /= hi - lo;
        for (int t = 0; t < Tl; t++) cam[t] += (float)alpha * A[(size_t)c * Tl + t];
    }
    for (int t = 0; t < Tl; t++) cam[t] = cam[t] > 0 ? cam[t] : 0;
    return NK_OK;
}

/* Output frame t of layer l reads input frames t·S + first … t·S + first + RF − 1,
 * with first = −Σ_i padding_i · stride(0..i−1) and S the total stride. */
static long first_input(const nk_arch *a, int l) {
    long first = 0, jump = 1;
    for (int i = 0; i <= l; i++) {
        first -= (long)a->layers[i].padding * jump;
        jump *= a->layers[i].stride;
    }
    return first;
}

void nk_attr_input_span(const nk_arch *a, int l, int t0, int t1, int *lo, int *hi) {
    const long S = nk_arch_total_stride(a, l), first = first_input(a, l);
    *lo = (int)(t0 * S + first);
    *hi = (int)((t1 - 1) * S + first + nk_arch_receptive_field(a, l));
}

void nk_attr_upsample(const nk_arch *a, int l, const float *v, int T_l, float *out, int T) {
    /* Each layer frame sits at the centre of the input frames it reads. */
    const double S = nk_arch_total_stride(a, l), c0 = first_input(a, l) + (nk_arch_receptive_field(a, l) - 1) / 2.0;
    for (int i = 0; i < T; i++) {
        double u = (i - c0) / S;
        if (u <= 0 || T_l == 1) out[i] = v[0];
        else if (u >= T_l - 1) out[i] = v[T_l - 1];
        else {
            int j = (int)u;
            double f = u - j;
            out[i] = (float)((1 - f) * v[j] + f * v[j + 1]);
        }
    }
}

int nk_attr_gradcam(const nk_model *m, nk_workspace *ws, const float *x, int T, const nk_target *tg,
                    const nk_attr_options *o, float *map, int *rows) {
    const nk_arch *a = nk_model_arch(m);
    const int F = nk_arch_input_dim(a), guided = o->method == NK_ATTR_GUIDED_GRADCAM;
    const int l = o->cam_layer >= 0 ? o->cam_layer : a->n_layers > 1 ? a->n_layers - 2 : 0;
    int rc = nk_model_forward(m, ws, x, T);
    if (rc) return rc;
    const int Tl = nk_ws_frames(ws, l);
    float *cam = malloc(((size_t)Tl + T) * sizeof *cam), *up = cam + Tl;
    if (!cam) return nk_fail(NK_ERR_NOMEM, "gradcam: out of memory");
    rc = nk_gradcam_layer(m, ws, tg, l, o->cam_window, cam);
    if (!rc) nk_attr_upsample(a, l, cam, Tl, guided ? up : map, T);
    if (!rc && guided) rc = nk_target_gradient(m, ws, x, T, tg, NK_RULE_GUIDED, map, NULL);
    if (!rc && guided)
        for (int f = 0; f < F; f++)
            for (int t = 0; t < T; t++) map[(size_t)f * T + t] *= up[t];
    free(cam);
    *rows = guided ? F : 1;
    return rc;
}
