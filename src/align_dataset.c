/* Forced alignment of a whole dataset: model forward and alignment per
 * utterance in parallel, a bad utterance skipped with its reason. */
#include "napkit/align.h"

#include "napkit/error.h"
#include "napkit/parallel.h"
#include "napkit/progress.h"

#include <stdlib.h>
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

/* nk_align_dataset's job: one workspace per worker, progress in utterance order. */
typedef struct {
    const nk_model *m;
    const nk_dataset *d;
    const nk_align_config *c;
    double min_confidence;
    nk_workspace **ws;
    nk_align_item *items;
    nk_progress *prog;
    size_t done;
    double seconds;
} align_run;

static int align_work(void *ctx, int worker, size_t i) {
    align_run *r = ctx;
    align_one(r->m, r->ws[worker], nk_dataset_get(r->d, i), r->c, r->min_confidence, &r->items[i]);
    return NK_OK; /* a failed utterance is recorded in its item */
}

static int align_commit(void *ctx, int worker, size_t i, int work_rc, const char *work_error) {
    align_run *r = ctx;
    (void)worker, (void)work_rc, (void)work_error;
    r->done++, r->seconds += nk_dataset_get(r->d, i)->seconds;
    nk_progress_update(r->prog, r->done, r->seconds, NULL);
    return NK_OK;
}

int nk_align_dataset(const nk_model *m, const nk_dataset *d, const nk_align_config *c,
                     double min_confidence, int threads, int show_progress, nk_align_item *items) {
    const size_t n = nk_dataset_size(d);
    const int W = nk_parallel_workers(n, threads);
    align_run r = {m, d, c, min_confidence, calloc(W, sizeof(nk_workspace *)), items, NULL, 0, 0};
    int rc = r.ws ? NK_OK : nk_fail(NK_ERR_NOMEM, "align: out of memory");
    for (int w = 0; !rc && w < W; w++) rc = nk_workspace_new(m, &r.ws[w]);
    if (!rc) {
        r.prog = nk_progress_new("align", n, "s audio", show_progress);
        rc = nk_parallel_for(n, W, align_work, align_commit, &r);
        nk_progress_finish(r.prog);
    }
    for (int w = 0; r.ws && w < W; w++) nk_workspace_free(r.ws[w]);
    free(r.ws);
    return rc;
}
