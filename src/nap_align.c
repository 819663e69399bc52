/* Letter events straight from a model's CTC forced alignment of a dataset,
 * for NAP runs without an alignment folder. */
#include "napkit/nap.h"

#include "napkit/error.h"
#include "napkit/events.h"
#include "napkit/parallel.h"

#include <stdlib.h>
#include <string.h>

/* nk_nap_letter_events' job: a workspace and the current utterance's events per worker. */
typedef struct {
    const nk_model *m;
    const nk_dataset *d;
    nk_workspace **ws;
    nk_events *mine;
    nk_events *out;
} letter_run;

/* One utterance: forward pass, alignment, events into the worker's list. */
static int letters_work(void *ctx, int worker, size_t i) {
    letter_run *r = ctx;
    const nk_arch *a = nk_model_arch(r->m);
    const nk_example *x = nk_dataset_get(r->d, i);
    const int L = a->n_layers;
    const double frame_seconds = (double)a->frontend.hop * nk_arch_total_stride(a, L - 1) / a->frontend.sample_rate;
    nk_workspace *ws = r->ws[worker];
    int rc = nk_model_forward(r->m, ws, x->x, x->T);
    if (!rc)
        rc = nk_events_from_alignment(x->id, nk_ws_log_probs(ws), a->n_classes, nk_ws_frames(ws, L - 1), x->labels,
                                      x->U, a->blank, (const char *const *)a->alphabet, " ", frame_seconds,
                                      &r->mine[worker]);
    return rc;
}

/* In dataset order: the utterance's events, or its reason among the skipped. */
static int letters_commit(void *ctx, int worker, size_t i, int work_rc, const char *work_error) {
    letter_run *r = ctx;
    nk_events *mine = &r->mine[worker];
    int rc = NK_OK;
    (void)i;
    if (work_rc) {
        char *why = strdup(work_error), **s = why ? realloc(r->out->skipped, (r->out->n_skipped + 1) * sizeof *s) : NULL;
        if (!s) free(why), rc = nk_fail(NK_ERR_NOMEM, "naps: out of memory");
        else r->out->skipped = s, s[r->out->n_skipped++] = why;
    }
    for (size_t j = 0; !rc && !work_rc && j < mine->n; j++) rc = nk_events_add(r->out, &mine->ev[j]);
    nk_events_free(mine); /* empty again for the worker's next utterance */
    return rc;
}

int nk_nap_letter_events(const nk_model *m, const nk_dataset *d, int threads, nk_events *out) {
    memset(out, 0, sizeof *out);
    const size_t n = nk_dataset_size(d);
    const int W = nk_parallel_workers(n, threads);
    letter_run r = {m, d, calloc(W, sizeof(nk_workspace *)), calloc(W, sizeof(nk_events)), out};
    int rc = r.ws && r.mine ? NK_OK : nk_fail(NK_ERR_NOMEM, "naps: out of memory");
    for (int w = 0; !rc && w < W; w++) rc = nk_workspace_new(m, &r.ws[w]);
    if (!rc) rc = nk_parallel_for(n, W, letters_work, letters_commit, &r);
    for (int w = 0; w < W; w++) {
        if (r.ws) nk_workspace_free(r.ws[w]);
        if (r.mine) nk_events_free(&r.mine[w]);
    }
    free(r.ws), free(r.mine);
    if (rc) nk_events_free(out);
    return rc;
}
