/* Training pass over a batch: forward, CTC loss and backward per utterance,
 * utterances in parallel on private workspaces, gradients reduced in order.
 *
 * Why per-utterance workspaces and not a padded batch: utterances differ in
 * length, and padding would both waste work and leak the zero padding into
 * the convolutions' edges; each utterance alone is exactly the single-utterance
 * pass the attribution code uses. */
#include "napkit/model.h"

#include "napkit/ctc.h"
#include "napkit/error.h"
#include "napkit/parallel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int one_utterance(const nk_model *m, nk_workspace *ws, const float *x, int T,
                         const int *labels, int U, double *nll) {
    const nk_arch *a = nk_model_arch(m);
    nk_ws_zero_param_grads(ws);
    int rc = nk_model_forward(m, ws, x, T);
    if (rc) return rc;
    rc = nk_ctc_loss(nk_ws_log_probs(ws), a->n_classes, nk_ws_frames(ws, a->n_layers - 1), labels,
                     U, a->blank, nll, nk_ws_log_probs_grad(ws));
    if (rc == NK_ERR_INFEASIBLE) {
        *nll = INFINITY;
        return NK_OK;
    }
    return rc ? rc : nk_model_backward(m, ws, a->n_layers, NK_RULE_GRADIENT, 1);
}

/* nk_model_ctc_batch's job: utterance b on worker w's workspace; its
 * parameter gradients are added to the model's in utterance order. */
typedef struct {
    const nk_model *m;
    nk_workspace **ws;
    const float *const *x;
    const int *T, *const *labels, *U;
    double *nll;
    float *grads;
    int first_rc;
    char first_msg[300];
} ctc_batch;

static int ctc_batch_work(void *ctx, int w, size_t b) {
    ctc_batch *c = ctx;
    return one_utterance(c->m, c->ws[w], c->x[b], c->T[b], c->labels[b], c->U[b], &c->nll[b]);
}

static int ctc_batch_commit(void *ctx, int w, size_t b, int work_rc, const char *work_error) {
    ctc_batch *c = ctx;
    if (work_rc) {
        c->nll[b] = NAN;
        if (!c->first_rc) {
            c->first_rc = work_rc;
            snprintf(c->first_msg, sizeof c->first_msg, "utterance %zu: %s", b, work_error);
        }
        return NK_OK;
    }
    if (isinf(c->nll[b])) return NK_OK; /* too short for its labels: no gradient */
    const float *g = nk_ws_param_grads(c->ws[w]);
    const size_t np = nk_model_param_count(c->m);
    for (size_t p = 0; p < np; p++) c->grads[p] += g[p];
    return NK_OK;
}

int nk_model_ctc_batch(nk_model *m, nk_workspace **ws, int n_ws, int B, const float *const *x,
                       const int *T, const int *const *labels, const int *U, double *nll) {
    if (n_ws < 1 || B < 0) return nk_fail(NK_ERR_ARG, "ctc batch: %d workspaces, %d utterances", n_ws, B);
    ctc_batch c = {m, ws, x, T, labels, U, nll, nk_model_grads(m), NK_OK, ""};
    memset(c.grads, 0, nk_model_param_count(m) * sizeof *c.grads);
    /* No more threads than utterances: the spare ones would go to OpenBLAS
     * inside an utterance, and its multi-threaded sgemm does not give the
     * one-threaded bits on every CPU (it differs on AMD EPYC), so a batch of
     * one would make the trained model depend on --threads. */
    int rc = nk_parallel_for((size_t)B, B < n_ws ? B : n_ws, ctc_batch_work, ctc_batch_commit, &c);
    if (!rc && c.first_rc) rc = nk_fail(c.first_rc, "%s", c.first_msg);
    return rc;
}
