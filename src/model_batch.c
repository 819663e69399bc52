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

#include <cblas.h>
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

int nk_model_ctc_batch(nk_model *m, nk_workspace **ws, int n_ws, int B, const float *const *x,
                       const int *T, const int *const *labels, const int *U, double *nll) {
    if (n_ws < 1 || B < 0) return nk_fail(NK_ERR_ARG, "ctc batch: %d workspaces, %d utterances", n_ws, B);
    const size_t np = nk_model_param_count(m);
    float *grads = nk_model_grads(m);
    memset(grads, 0, np * sizeof *grads);
    int *rcs = calloc(n_ws, sizeof *rcs);
    char (*msgs)[256] = calloc(n_ws, sizeof *msgs);
    if (!rcs || !msgs) {
        free(rcs);
        free(msgs);
        return nk_fail(NK_ERR_NOMEM, "ctc batch: out of memory");
    }
    /* Inside the parallel region each utterance runs single-threaded OpenBLAS. */
    const int blas_threads = openblas_get_num_threads();
    if (n_ws > 1) openblas_set_num_threads(1);
    int first_rc = NK_OK;
    char first_msg[300] = "";
    for (int b0 = 0; b0 < B; b0 += n_ws) {
        const int n = B - b0 < n_ws ? B - b0 : n_ws;
#pragma omp parallel for num_threads(n) schedule(static, 1) if (n > 1)
        for (int i = 0; i < n; i++) {
            int b = b0 + i;
            rcs[i] = one_utterance(m, ws[i], x[b], T[b], labels[b], U[b], &nll[b]);
            if (rcs[i]) snprintf(msgs[i], sizeof msgs[i], "%s", nk_last_error());
        }
        /* Sum in utterance order, whatever the number of workspaces. */
        for (int i = 0; i < n; i++) {
            if (rcs[i]) {
                nll[b0 + i] = NAN;
                if (!first_rc) {
                    first_rc = rcs[i];
                    snprintf(first_msg, sizeof first_msg, "utterance %d: %s", b0 + i, msgs[i]);
                }
                continue;
            }
            if (isinf(nll[b0 + i])) continue;
            const float *g = nk_ws_param_grads(ws[i]);
            for (size_t p = 0; p < np; p++) grads[p] += g[p];
        }
    }
    if (n_ws > 1) openblas_set_num_threads(blas_threads);
    free(rcs);
    free(msgs);
    return first_rc ? nk_fail(first_rc, "%s", first_msg) : NK_OK;
}
