/* Attribution targets: parsing, resolving against an utterance, the value y
 * and its gradient ∂y/∂X. */
#include "napkit/attrib.h"

#include "napkit/ctc.h"
#include "napkit/error.h"
#include "napkit/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Parses n non-negative integers separated by ':' that make up all of s. */
static int parse_ints(const char *s, int *v, int n) {
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        long x = strtol(s, &end, 10);
        if (end == s || errno || x < 0 || x > (1 << 30) || *s == '+' || *s == '-') return -1;
        v[i] = (int)x;
        if (*end != (i + 1 < n ? ':' : '\0')) return -1;
        s = end + 1;
    }
    return 0;
}

int nk_target_parse(const char *spec, nk_target *out) {
    memset(out, 0, sizeof *out);
    int v[3];
    if (!strncmp(spec, "logit:", 6) && !parse_ints(spec + 6, v, 2)) {
        out->kind = NK_TARGET_LOGIT, out->layer = -1, out->channel = v[0], out->t0 = v[1];
        out->t1 = v[1] + 1;
    } else if (!strncmp(spec, "token:", 6) && !parse_ints(spec + 6, v, 1)) {
        out->kind = NK_TARGET_TOKEN, out->layer = -1, out->token = v[0];
    } else if (!strncmp(spec, "unit:", 5) && !parse_ints(spec + 5, v, 3)) {
        out->kind = NK_TARGET_UNIT, out->layer = v[0], out->channel = v[1], out->t0 = v[2];
        out->t1 = v[2] + 1;
    } else if (!strcmp(spec, "ctc")) {
        out->kind = NK_TARGET_CTC, out->layer = -1;
    } else {
        return nk_fail(NK_ERR_ARG, "target '%s': expected logit:K:T, token:N, unit:L:C:T or ctc", spec);
    }
    return NK_OK;
}

void nk_target_clear(nk_target *tg) {
    free(tg->labels);
    tg->labels = NULL;
    tg->n_labels = 0;
}

int nk_target_labels(const nk_arch *a, const char *text, int **labels, int *U) {
    *labels = NULL, *U = 0;
    if (a->blank != 0)
        return nk_fail(NK_ERR_ARG, "%s: transcripts need the blank at class 0 (it is %d)", a->name, a->blank);
    nk_alphabet *alpha;
    int rc = nk_alphabet_new((const char *const *)a->alphabet, a->n_classes, &alpha);
    if (rc) return rc;
    char *norm = NULL;
    if (!(rc = nk_text_normalize(alpha, text, &norm)) && !(*labels = malloc((strlen(norm) + 1) * sizeof **labels)))
        rc = nk_fail(NK_ERR_NOMEM, "transcript: out of memory");
    if (!rc) rc = nk_alphabet_encode(alpha, norm, *labels, U);
    if (rc) free(*labels), *labels = NULL;
    free(norm);
    nk_alphabet_free(alpha);
    return rc;
}

/* The n-th token of the greedy path: runs of one non-blank argmax class
 * (a class change or a blank starts a new token). */
static int greedy_token(const float *lp, int K, int TL, int blank, int n, nk_target *tg) {
    int count = 0, prev = blank, found = 0;
    for (int t = 0; t < TL; t++) {
        int best = 0;
        for (int k = 1; k < K; k++)
            if (lp[(size_t)k * TL + t] > lp[(size_t)best * TL + t]) best = k;
        if (found) {
            if (best != tg->channel) break;
            tg->t1 = t + 1;
        } else if (best != blank && best != prev && count++ == n) {
            found = 1, tg->channel = best, tg->t0 = t, tg->t1 = t + 1;
        }
        prev = best;
    }
    if (!found)
        return nk_fail(NK_ERR_ARG, "target token:%d: the greedy transcript has only %d tokens", n, count);
    return NK_OK;
}

static int resolve_token(const nk_arch *a, const float *lp, int TL, const int *labels, int U,
                         nk_target *tg) {
    if (!labels) return greedy_token(lp, a->n_classes, TL, a->blank, tg->token, tg);
    if (tg->token >= U)
        return nk_fail(NK_ERR_ARG, "target token:%d: the transcript has only %d tokens", tg->token, U);
    nk_ctc_span *spans = malloc((size_t)U * sizeof *spans);
    if (!spans) return nk_fail(NK_ERR_NOMEM, "target: out of memory");
    double score;
    int rc = nk_ctc_align(lp, a->n_classes, TL, labels, U, a->blank, spans, NULL, &score);
    if (rc == NK_ERR_INFEASIBLE)
        rc = nk_fail(rc, "target token:%d: %d output frames are too few for %d letters", tg->token, TL, U);
    if (!rc) tg->channel = labels[tg->token], tg->t0 = spans[tg->token].start, tg->t1 = spans[tg->token].end;
    free(spans);
    return rc;
}

int nk_target_resolve(const nk_model *m, nk_workspace *ws, const float *x, int T, const int *labels,
                      int U, nk_target *tg) {
    const nk_arch *a = nk_model_arch(m);
    const int L = a->n_layers, K = a->n_classes;
    for (int i = 0; i < U; i++)
        if (labels[i] < 0 || labels[i] >= K || labels[i] == a->blank)
            return nk_fail(NK_ERR_ARG, "target: transcript label %d is not a letter of %s", labels[i], a->name);
    int rc = nk_model_forward(m, ws, x, T);
    if (rc) return rc;
    if (tg->layer < 0) tg->layer = L - 1;
    if (tg->layer >= L)
        return nk_fail(NK_ERR_ARG, "target: layer %d is outside the model's %d layers", tg->layer, L);
    const int TL = nk_ws_frames(ws, L - 1);
    const float *lp = nk_ws_log_probs(ws);
    if (tg->kind == NK_TARGET_TOKEN) {
        rc = resolve_token(a, lp, TL, labels, U, tg);
    } else if (tg->kind == NK_TARGET_CTC) {
        nk_target_clear(tg);
        if (!(tg->labels = malloc(((size_t)(labels ? U : TL) + 1) * sizeof *tg->labels)))
            return nk_fail(NK_ERR_NOMEM, "target: out of memory");
        if (labels) memcpy(tg->labels, labels, (size_t)U * sizeof *labels), tg->n_labels = U;
        else nk_ctc_greedy(lp, K, TL, a->blank, tg->labels, &tg->n_labels);
        double nll;
        rc = nk_ctc_loss(lp, K, TL, tg->labels, tg->n_labels, a->blank, &nll, NULL);
        if (rc == NK_ERR_INFEASIBLE)
            rc = nk_fail(rc, "target ctc: %d output frames are too few for %d letters", TL, tg->n_labels);
    } else {
        const int C = a->layers[tg->layer].out, Tl = nk_ws_frames(ws, tg->layer);
        if (tg->channel >= C || tg->t0 >= Tl)
            rc = nk_fail(NK_ERR_ARG, "target: %s %d at frame %d is outside layer %d (%d channels, %d frames)",
                         tg->kind == NK_TARGET_LOGIT ? "class" : "unit", tg->channel, tg->t0, tg->layer, C, Tl);
    }
    return rc;
}

double nk_target_value(const nk_workspace *ws, const nk_target *tg) {
    const nk_arch *a = nk_ws_arch(ws);
    const int TL = nk_ws_frames(ws, a->n_layers - 1);
    if (tg->kind == NK_TARGET_CTC) {
        double nll;
        nk_ctc_loss(nk_ws_log_probs(ws), a->n_classes, TL, tg->labels, tg->n_labels, a->blank, &nll, NULL);
        return -nll;
    }
    const int Tl = nk_ws_frames(ws, tg->layer);
    const float *A = nk_ws_act(ws, tg->layer) + (size_t)tg->channel * Tl;
    double y = 0;
    for (int t = tg->t0; t < tg->t1 && t < Tl; t++) y += A[t];
    return y;
}

int nk_target_backward(const nk_model *m, nk_workspace *ws, const nk_target *tg, nk_backward_rule rule) {
    const nk_arch *a = nk_ws_arch(ws);
    const int L = a->n_layers;
    int top = tg->layer;
    nk_ws_zero_grads(ws);
    if (tg->kind == NK_TARGET_CTC) {
        const int TL = nk_ws_frames(ws, L - 1);
        float *g = nk_ws_log_probs_grad(ws);
        double nll;
        nk_ctc_loss(nk_ws_log_probs(ws), a->n_classes, TL, tg->labels, tg->n_labels, a->blank, &nll, g);
        for (size_t i = 0; i < (size_t)a->n_classes * TL; i++) g[i] = -g[i]; /* y = −nll */
        top = L;
    } else {
        const int Tl = nk_ws_frames(ws, tg->layer);
        float *g = nk_ws_grad(ws, tg->layer) + (size_t)tg->channel * Tl;
        for (int t = tg->t0; t < tg->t1 && t < Tl; t++) g[t] = 1;
    }
    return nk_model_backward(m, ws, top, rule, 0);
}

int nk_target_gradient(const nk_model *m, nk_workspace *ws, const float *x, int T, const nk_target *tg,
                       nk_backward_rule rule, float *grad, double *y) {
    int rc = nk_model_forward(m, ws, x, T);
    if (!rc && y) *y = nk_target_value(ws, tg);
    if (!rc) rc = nk_target_backward(m, ws, tg, rule);
    if (!rc) memcpy(grad, nk_ws_input_grad(ws), (size_t)nk_arch_input_dim(nk_model_arch(m)) * T * sizeof *grad);
    return rc;
}
