/* Layer-wise relevance propagation (Bach et al. 2015; Montavon et al. 2019)
 * through the conv stack, on the activations cached by the forward pass.
 *
 * Every rule has the form z_k = Σ_terms Σ_j in_j w_jk (+ bias), s_k = R_k / z_k,
 * R_j = Σ_terms in_j Σ_k w_jk s_k: one conv forward and one conv backward (its
 * input gradient) per term, so the layer primitives of model.h do the work.
 *   ε:   terms (a, w), bias b, z + ε·sign(z)
 *   γ:   terms (a, w + γw⁺), bias b + γb⁺, z + ε·sign(z)
 *   αβ:  α · [(a⁺, w⁺), (a⁻, w⁻)] − β · [(a⁺, w⁻), (a⁻, w⁺)], no bias
 *   z^B: (x, w), (l, −w⁺), (h, −w⁻) with l, h = min and max of X, no bias
 *   w²:  (1, w²), no bias
 * ReLU layers pass relevance through unchanged: a unit with a = 0 receives none
 * from the rule below it anyway. */
#include "napkit/attrib.h"

#include "napkit/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const float *in; /* (C_in, T_in) */
    const float *w;  /* (C_out, C_in, k) */
} term;

typedef struct {
    float *z, *tmp, *s; /* (C_out, T_out) */
    float *c;           /* (C_in, T_in) input gradient of one term */
    float *in[2];       /* (C_in, T_in) transformed inputs */
    float *w[2];        /* transformed weights */
    float *bias, *zero; /* (C_out) */
    float *scratch;
} lrp_buf;

/* r_in (C_in, T_in) += scale · Σ_terms in ⊙ convᵀ(w, R_out / stab(z)). */
static void propagate(const nk_layer_spec *ls, const term *terms, int n, const float *bias, double eps,
                      const float *r_out, int T_out, int T_in, float scale, float *r_in, lrp_buf *b) {
    const size_t no = (size_t)ls->out * T_out, ni = (size_t)ls->in * T_in;
    for (int i = 0; i < n; i++) {
        nk_conv1d_forward(ls, terms[i].w, i ? b->zero : bias, terms[i].in, T_in, i ? b->tmp : b->z, T_out,
                          b->scratch);
        if (i)
            for (size_t k = 0; k < no; k++) b->z[k] += b->tmp[k];
    }
    for (size_t k = 0; k < no; k++) {
        double den = b->z[k] + (b->z[k] >= 0 ? eps : -eps);
        b->s[k] = den != 0 ? (float)(r_out[k] / den) : 0;
    }
    for (int i = 0; i < n; i++) {
        memset(b->c, 0, ni * sizeof *b->c);
        nk_conv1d_backward(ls, terms[i].w, terms[i].in, T_in, b->s, T_out, b->c, NULL, NULL, b->scratch);
        for (size_t j = 0; j < ni; j++) r_in[j] += scale * terms[i].in[j] * b->c[j];
    }
}

/* Relevance of layer l's input from that of its output, under `rule`. */
static void lrp_layer(const nk_model *m, const nk_workspace *ws, int l, nk_attr_method rule,
                      nk_lrp_input_rule in_rule, const nk_attr_options *o, const float *r_out, float *r_in,
                      lrp_buf *b) {
    const nk_layer_spec *ls = &nk_model_arch(m)->layers[l];
    const int T_out = nk_ws_frames(ws, l), T_in = nk_ws_frames(ws, l - 1);
    const size_t nw = (size_t)ls->out * ls->in * ls->kernel, ni = (size_t)ls->in * T_in;
    const float *w = nk_model_params((nk_model *)m) + nk_model_layer_offset(m, l), *bias = w + nw;
    const float *a = l ? nk_ws_act(ws, l - 1) : nk_ws_input(ws);
    memset(r_in, 0, ni * sizeof *r_in);
    if (l == 0 && in_rule == NK_LRP_INPUT_ZB) {
        float lo = a[0], hi = a[0];
        for (size_t j = 1; j < ni; j++) lo = a[j] < lo ? a[j] : lo, hi = a[j] > hi ? a[j] : hi;
        for (size_t j = 0; j < ni; j++) b->in[0][j] = lo, b->in[1][j] = hi;
        for (size_t i = 0; i < nw; i++) b->w[0][i] = -(w[i] > 0 ? w[i] : 0), b->w[1][i] = -(w[i] < 0 ? w[i] : 0);
        term t[3] = {{a, w}, {b->in[0], b->w[0]}, {b->in[1], b->w[1]}};
        propagate(ls, t, 3, b->zero, 0, r_out, T_out, T_in, 1, r_in, b);
    } else if (l == 0 && in_rule == NK_LRP_INPUT_W2) {
        for (size_t j = 0; j < ni; j++) b->in[0][j] = 1;
        for (size_t i = 0; i < nw; i++) b->w[0][i] = w[i] * w[i];
        term t = {b->in[0], b->w[0]};
        propagate(ls, &t, 1, b->zero, 0, r_out, T_out, T_in, 1, r_in, b);
    } else if (rule == NK_ATTR_LRP_AB) {
        for (size_t j = 0; j < ni; j++) b->in[0][j] = a[j] > 0 ? a[j] : 0, b->in[1][j] = a[j] < 0 ? a[j] : 0;
        for (size_t i = 0; i < nw; i++) b->w[0][i] = w[i] > 0 ? w[i] : 0, b->w[1][i] = w[i] < 0 ? w[i] : 0;
        term pos[2] = {{b->in[0], b->w[0]}, {b->in[1], b->w[1]}};
        term neg[2] = {{b->in[0], b->w[1]}, {b->in[1], b->w[0]}};
        propagate(ls, pos, 2, b->zero, 0, r_out, T_out, T_in, (float)o->alpha, r_in, b);
        if (o->alpha > 1) propagate(ls, neg, 2, b->zero, 0, r_out, T_out, T_in, (float)(1 - o->alpha), r_in, b);
    } else if (rule == NK_ATTR_LRP_GAMMA) {
        for (size_t i = 0; i < nw; i++) b->w[0][i] = w[i] + (float)o->gamma * (w[i] > 0 ? w[i] : 0);
        for (int k = 0; k < ls->out; k++) b->bias[k] = bias[k] + (float)o->gamma * (bias[k] > 0 ? bias[k] : 0);
        term t = {a, b->w[0]};
        propagate(ls, &t, 1, b->bias, o->eps, r_out, T_out, T_in, 1, r_in, b);
    } else {
        term t = {a, w};
        propagate(ls, &t, 1, bias, o->eps, r_out, T_out, T_in, 1, r_in, b);
    }
}

int nk_lrp(const nk_model *m, nk_workspace *ws, const nk_target *tg, nk_attr_method rule,
           const nk_attr_options *o, float *rel, double *lost) {
    const nk_arch *a = nk_model_arch(m);
    if (tg->kind == NK_TARGET_CTC)
        return nk_fail(NK_ERR_ARG, "lrp: needs a logit, token or unit target, not the CTC loss");
    if (rule != NK_ATTR_LRP_EPS && rule != NK_ATTR_LRP_AB && rule != NK_ATTR_LRP_GAMMA)
        return nk_fail(NK_ERR_ARG, "lrp: method %d is not an LRP rule", (int)rule);
    /* Sizes of the largest layer buffers among the layers relevance crosses. */
    size_t n_act = (size_t)nk_arch_input_dim(a) * nk_ws_frames(ws, -1), n_w = 0, n_c = 0, n_s = 0;
    for (int l = 0; l <= tg->layer; l++) {
        const nk_layer_spec *s = &a->layers[l];
        size_t n = (size_t)s->out * nk_ws_frames(ws, l), nw = (size_t)s->out * s->in * s->kernel;
        size_t sc = nk_conv1d_scratch(s, nk_ws_frames(ws, l));
        n_act = n > n_act ? n : n_act, n_w = nw > n_w ? nw : n_w;
        n_c = (size_t)s->out > n_c ? (size_t)s->out : n_c, n_s = sc > n_s ? sc : n_s;
    }
    float *mem = calloc(8 * n_act + 2 * n_w + 2 * n_c + n_s, sizeof *mem);
    if (!mem) return nk_fail(NK_ERR_NOMEM, "lrp: out of memory");
    lrp_buf b;
    float *p = mem, *r[2];
    b.z = p, p += n_act;
    b.tmp = p, p += n_act;
    b.s = p, p += n_act;
    b.c = p, p += n_act;
    b.in[0] = p, p += n_act;
    b.in[1] = p, p += n_act;
    r[0] = p, p += n_act;
    r[1] = p, p += n_act;
    b.w[0] = p, p += n_w;
    b.w[1] = p, p += n_w;
    b.bias = p, p += n_c;
    b.zero = p, p += n_c;
    b.scratch = p;
    /* R at the top: y's own terms. */
    const int Tl = nk_ws_frames(ws, tg->layer);
    const float *A = nk_ws_act(ws, tg->layer) + (size_t)tg->channel * Tl;
    double top = 0;
    for (int t = tg->t0; t < tg->t1 && t < Tl; t++) r[0][(size_t)tg->channel * Tl + t] = A[t], top += A[t];
    int cur = 0;
    for (int l = tg->layer; l >= 0; l--, cur ^= 1)
        lrp_layer(m, ws, l, rule, o->lrp_input, o, r[cur], l ? r[cur ^ 1] : rel, &b);
    if (lost) {
        double sum = 0;
        for (size_t j = 0; j < (size_t)nk_arch_input_dim(a) * nk_ws_frames(ws, -1); j++) sum += rel[j];
        *lost = top - sum;
    }
    free(mem);
    return NK_OK;
}
