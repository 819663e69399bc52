/* Letter events straight from a model's CTC forced alignment of a dataset,
 * for NAP runs without an alignment folder. */
#include "napkit/nap.h"

#include "napkit/error.h"
#include "napkit/events.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One utterance: forward pass, alignment, events into *ev; on failure *why gets the reason. */
static void align_one(const nk_model *m, nk_workspace *ws, const nk_example *x, nk_events *ev, char **why) {
    const nk_arch *a = nk_model_arch(m);
    const int L = a->n_layers;
    const double frame_seconds =
        (double)a->frontend.hop * nk_arch_total_stride(a, L - 1) / a->frontend.sample_rate;
    int rc = nk_model_forward(m, ws, x->x, x->T);
    if (!rc)
        rc = nk_events_from_alignment(x->id, nk_ws_log_probs(ws), a->n_classes, nk_ws_frames(ws, L - 1), x->labels,
                                      x->U, a->blank, (const char *const *)a->alphabet, " ", frame_seconds, ev);
    if (rc) *why = strdup(nk_last_error());
}

int nk_nap_letter_events(const nk_model *m, const nk_dataset *d, int threads, nk_events *out) {
    memset(out, 0, sizeof *out);
    const size_t n = nk_dataset_size(d);
    if (threads < 1) threads = 1;
    nk_events *per = calloc(n + 1, sizeof *per);
    char **why = calloc(n + 1, sizeof *why);
    nk_workspace **ws = calloc(threads, sizeof *ws);
    int rc = per && why && ws ? NK_OK : nk_fail(NK_ERR_NOMEM, "naps: out of memory");
    for (int i = 0; !rc && i < threads; i++) rc = nk_workspace_new(m, &ws[i]);
    const int blas_threads = openblas_get_num_threads();
    if (!rc) {
        if (threads > 1) openblas_set_num_threads(1);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (size_t i = 0; i < n; i++) align_one(m, ws[omp_get_thread_num()], nk_dataset_get(d, i), &per[i], &why[i]);
        if (threads > 1) openblas_set_num_threads(blas_threads);
    }
    for (size_t i = 0; !rc && i < n; i++) { /* in dataset order, whatever the threads did */
        for (size_t j = 0; !rc && j < per[i].n; j++) rc = nk_events_add(out, &per[i].ev[j]);
        if (!rc && why[i]) {
            char **s = realloc(out->skipped, (out->n_skipped + 1) * sizeof *s);
            if (!s) rc = nk_fail(NK_ERR_NOMEM, "naps: out of memory");
            else out->skipped = s, s[out->n_skipped++] = why[i], why[i] = NULL;
        }
    }
    for (size_t i = 0; per && i < n; i++) nk_events_free(&per[i]), free(why[i]);
    for (int i = 0; ws && i < threads; i++) nk_workspace_free(ws[i]);
    free(per), free(why), free(ws);
    if (rc) nk_events_free(out);
    return rc;
}
