/* Forced alignment of a whole dataset: model forward and alignment per
 * utterance in parallel, a bad utterance skipped with its reason. */
#include "napkit/align.h"

#include "napkit/error.h"
#include "napkit/progress.h"

#include <cblas.h>
#include <stdio.h>
#include <string.h>

const char *const nk_align_status_names[] = {"aligned", "infeasible", "low-confidence", "failed", NULL};

/* One utterance: forward, align, judge the confidence. */
static void align_one(const nk_model *m, nk_workspace *ws, const nk_example *e, const nk_align_config *c,
                      double min_confidence, nk_align_item *it) {
    memset(it, 0, sizeof *it);
    int rc = nk_model_forward(m, ws, e->x, e->T);
    if (!rc) {
        int T = nk_ws_frames(ws, nk_model_arch(m)->n_layers - 1);
        rc = nk_align_utterance(c, nk_ws_log_probs(ws), T, e->labels, e->U, e->seconds, &it->r);
    }
    if (rc) {
        it->status = rc == NK_ERR_INFEASIBLE ? NK_ALIGN_INFEASIBLE : NK_ALIGN_FAILED;
        snprintf(it->reason, sizeof it->reason, "%s", nk_last_error());
    } else if (it->r.path_confidence < min_confidence) {
        it->status = NK_ALIGN_LOW_CONFIDENCE;
        snprintf(it->reason, sizeof it->reason, "path confidence %.3f is below %.3f (mean letter confidence %.3f)",
                 it->r.path_confidence, min_confidence, it->r.confidence);
    }
}

int nk_align_dataset(const nk_model *m, const nk_dataset *d, const nk_align_config *c,
                     double min_confidence, int threads, int show_progress, nk_align_item *items) {
    size_t n = nk_dataset_size(d), done = 0;
    if (threads < 1) threads = 1;
    nk_progress *prog = nk_progress_new("align", n, "s audio", show_progress);
    double seconds = 0;
    int ws_rc = NK_OK;
    char ws_msg[256] = "";
    const int blas_threads = openblas_get_num_threads();
    if (threads > 1) openblas_set_num_threads(1);
#pragma omp parallel num_threads(threads)
    {
        nk_workspace *ws = NULL;
        int rc = nk_workspace_new(m, &ws);
        if (rc) {
#pragma omp critical(nk_align_progress)
            if (!ws_rc) ws_rc = rc, snprintf(ws_msg, sizeof ws_msg, "%s", nk_last_error());
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < n; i++) {
            const nk_example *e = nk_dataset_get(d, i);
            if (rc) {
                memset(&items[i], 0, sizeof items[i]);
                items[i].status = NK_ALIGN_FAILED;
                snprintf(items[i].reason, sizeof items[i].reason, "%s", ws_msg);
            } else {
                align_one(m, ws, e, c, min_confidence, &items[i]);
            }
#pragma omp critical(nk_align_progress)
            {
                done++, seconds += e->seconds;
                if (prog) nk_progress_update(prog, done, seconds, NULL);
            }
        }
        nk_workspace_free(ws);
    }
    if (threads > 1) openblas_set_num_threads(blas_threads);
    if (prog) nk_progress_finish(prog);
    return ws_rc ? nk_fail(ws_rc, "%s", ws_msg) : NK_OK;
}
