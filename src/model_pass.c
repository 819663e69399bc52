/* Forward and backward over one utterance, with every activation cached in
 * one arena that is laid out per utterance length. */
#include "napkit/model.h"

#include "napkit/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct nk_workspace {
    const nk_arch *arch;  /* the model's; the model outlives its workspaces */
    size_t n_params;
    int T;                /* input frames of the cached forward (0: none yet) */
    int *lens;            /* (L) output frames per layer */
    float *arena;
    size_t cap;           /* floats in the arena */
    float *x, *gx;        /* (F, T) input and its gradient */
    float **z, **a, **g;  /* (L) per layer: pre-activation, output, output gradient */
    float *lp, *glp;      /* (K, T') log-probs and their gradient */
    float *gz;            /* (max C_l·T_l) pre-activation gradient of the current layer */
    float *scratch;       /* im2col buffer, the largest any layer needs */
    size_t grad_begin, grad_end; /* arena range holding gradients (zeroed together) */
    float *pgrads;        /* (n_params), allocated on first use */
};

int nk_workspace_new(const nk_model *m, nk_workspace **out) {
    *out = NULL;
    nk_workspace *ws = calloc(1, sizeof *ws);
    const nk_arch *a = nk_model_arch(m);
    if (ws) {
        ws->arch = a;
        ws->n_params = nk_model_param_count(m);
        ws->lens = calloc(a->n_layers, sizeof *ws->lens);
        ws->z = calloc(a->n_layers, sizeof *ws->z);
        ws->a = calloc(a->n_layers, sizeof *ws->a);
        ws->g = calloc(a->n_layers, sizeof *ws->g);
    }
    if (!ws || !ws->lens || !ws->z || !ws->a || !ws->g) {
        nk_workspace_free(ws);
        return nk_fail(NK_ERR_NOMEM, "workspace: out of memory");
    }
    *out = ws;
    return NK_OK;
}

void nk_workspace_free(nk_workspace *ws) {
    if (!ws) return;
    free(ws->lens);
    free(ws->z);
    free(ws->a);
    free(ws->g);
    free(ws->arena);
    free(ws->pgrads);
    free(ws);
}

/* Carves the arena for T input frames (lens already set), growing it when needed:
 * [x | z_0 a_0 … | lp | gradients: gx g_0 … glp | gz | scratch]. */
static int layout(nk_workspace *ws, int T) {
    const nk_arch *a = ws->arch;
    const int L = a->n_layers, F = nk_arch_input_dim(a), K = a->n_classes, TL = ws->lens[L - 1];
    size_t acts = 0, biggest = 0, scratch = 0;
    for (int l = 0; l < L; l++) {
        size_t n = (size_t)a->layers[l].out * ws->lens[l];
        size_t s = nk_conv1d_scratch(&a->layers[l], ws->lens[l]);
        acts += n;
        if (n > biggest) biggest = n;
        if (s > scratch) scratch = s;
    }
    size_t need = 2 * (size_t)F * T + 3 * acts + 2 * (size_t)K * TL + biggest + scratch;
    if (need > ws->cap) {
        free(ws->arena);
        ws->arena = malloc(need * sizeof *ws->arena);
        ws->cap = ws->arena ? need : 0;
        if (!ws->arena)
            return nk_fail(NK_ERR_NOMEM, "workspace: out of memory for %zu MB of activations",
                           need * sizeof(float) >> 20);
    }
    float *p = ws->arena;
    ws->x = p, p += (size_t)F * T;
    for (int l = 0; l < L; l++) {
        size_t n = (size_t)a->layers[l].out * ws->lens[l];
        ws->z[l] = p, p += n;
        ws->a[l] = p, p += n;
    }
    ws->lp = p, p += (size_t)K * TL;
    ws->grad_begin = p - ws->arena;
    ws->gx = p, p += (size_t)F * T;
    for (int l = 0; l < L; l++) ws->g[l] = p, p += (size_t)a->layers[l].out * ws->lens[l];
    ws->glp = p, p += (size_t)K * TL;
    ws->grad_end = p - ws->arena;
    ws->gz = p, p += biggest;
    ws->scratch = p;
    ws->T = T;
    return NK_OK;
}

static int all_finite(const float *v, size_t n) {
    int ok = 1;
    for (size_t i = 0; i < n; i++) ok &= isfinite(v[i]); /* no early exit: vectorizes */
    return ok;
}

int nk_model_forward(const nk_model *m, nk_workspace *ws, const float *x, int T) {
    const nk_arch *a = nk_model_arch(m);
    const int L = a->n_layers, F = nk_arch_input_dim(a);
    if (ws->arch != a) return nk_fail(NK_ERR_ARG, "forward: the workspace belongs to another model");
    ws->T = 0;
    if (T < 1) return nk_fail(NK_ERR_ARG, "forward: the input has no frames");
    for (size_t i = 0; i < (size_t)F * T; i++)
        if (!isfinite(x[i]))
            return nk_fail(NK_ERR_NUMERIC, "forward: input feature %zu of frame %zu is not finite",
                           i / T, i % T);
    int rc = nk_arch_frames(a, T, ws->lens);
    if (!rc) rc = layout(ws, T);
    if (rc) return rc;
    memcpy(ws->x, x, (size_t)F * T * sizeof *x);
    const float *params = nk_model_params((nk_model *)m);
    for (int l = 0; l < L; l++) {
        const nk_layer_spec *s = &a->layers[l];
        const float *w = params + nk_model_layer_offset(m, l);
        const float *b = w + (size_t)s->out * s->in * s->kernel;
        const float *in = l ? ws->a[l - 1] : ws->x;
        int T_in = l ? ws->lens[l - 1] : T;
        const size_t n = (size_t)s->out * ws->lens[l];
        nk_conv1d_forward(s, w, b, in, T_in, ws->z[l], ws->lens[l], ws->scratch);
        /* Checked before the activation: a ReLU would turn NaN into 0 silently. */
        if (!all_finite(ws->z[l], n)) {
            ws->T = 0;
            return nk_fail(NK_ERR_NUMERIC, "forward: layer %d of %s overflowed (non-finite output)",
                           l, a->name);
        }
        nk_activation_forward(s->activation, ws->z[l], ws->a[l], n);
    }
    nk_log_softmax_forward(ws->a[L - 1], ws->lp, a->n_classes, ws->lens[L - 1]);
    nk_ws_zero_grads(ws);
    return NK_OK;
}

const nk_arch *nk_ws_arch(const nk_workspace *ws) { return ws->arch; }
int nk_ws_frames(const nk_workspace *ws, int l) { return l < 0 ? ws->T : ws->lens[l]; }
const float *nk_ws_input(const nk_workspace *ws) { return ws->x; }
const float *nk_ws_preact(const nk_workspace *ws, int l) { return ws->z[l]; }
const float *nk_ws_act(const nk_workspace *ws, int l) { return ws->a[l]; }
const float *nk_ws_log_probs(const nk_workspace *ws) { return ws->lp; }
float *nk_ws_grad(nk_workspace *ws, int l) { return ws->g[l]; }
float *nk_ws_log_probs_grad(nk_workspace *ws) { return ws->glp; }
const float *nk_ws_input_grad(const nk_workspace *ws) { return ws->gx; }
float *nk_ws_param_grads(nk_workspace *ws) { return ws->pgrads; }

void nk_ws_zero_grads(nk_workspace *ws) {
    if (ws->T)
        memset(ws->arena + ws->grad_begin, 0, (ws->grad_end - ws->grad_begin) * sizeof(float));
}

void nk_ws_zero_param_grads(nk_workspace *ws) {
    if (ws->pgrads) memset(ws->pgrads, 0, ws->n_params * sizeof *ws->pgrads);
}

int nk_model_backward(const nk_model *m, nk_workspace *ws, int top, nk_backward_rule rule,
                      int want_params) {
    const nk_arch *a = nk_model_arch(m);
    const int L = a->n_layers;
    if (ws->arch != a || !ws->T)
        return nk_fail(NK_ERR_ARG, "backward: the workspace holds no forward pass of this model");
    if (top < 0 || top > L)
        return nk_fail(NK_ERR_ARG, "backward: start layer %d is outside [0, %d]", top, L);
    if (want_params && !ws->pgrads && !(ws->pgrads = calloc(ws->n_params, sizeof(float))))
        return nk_fail(NK_ERR_NOMEM, "backward: out of memory for %zu parameter gradients",
                       ws->n_params);
    if (top == L) {
        nk_log_softmax_backward(ws->lp, ws->glp, ws->g[L - 1], a->n_classes, ws->lens[L - 1]);
        top = L - 1;
    }
    const float *params = nk_model_params((nk_model *)m);
    for (int l = top; l >= 0; l--) {
        const nk_layer_spec *s = &a->layers[l];
        const size_t off = nk_model_layer_offset(m, l), wsize = (size_t)s->out * s->in * s->kernel;
        nk_activation_backward(s->activation, rule, ws->z[l], ws->g[l], ws->gz,
                               (size_t)s->out * ws->lens[l]);
        nk_conv1d_backward(s, params + off, l ? ws->a[l - 1] : ws->x, l ? ws->lens[l - 1] : ws->T,
                           ws->gz, ws->lens[l], l ? ws->g[l - 1] : ws->gx,
                           want_params ? ws->pgrads + off : NULL,
                           want_params ? ws->pgrads + off + wsize : NULL, ws->scratch);
    }
    return NK_OK;
}
