#include "napkit/dataset.h"

#include "napkit/error.h"
#include "napkit/parallel.h"
#include "napkit/features.h"
#include "napkit/progress.h"

#include <stdlib.h>
#include <string.h>

struct nk_dataset {
    nk_example *ex;
    size_t n;
    int F;
    double seconds;
    nk_skipped *skipped;
    size_t n_skipped;
};

/* One utterance → example; on failure *reason receives a malloc'd message. */
static int featurize(nk_frontend *fe, const nk_alphabet *alpha, const nk_utterance *u,
                     nk_example *e, char **reason) {
    memset(e, 0, sizeof *e);
    int F, rc = nk_features_from_file(fe, u->audio, &e->x, &F, &e->T);
    if (!rc) {
        e->labels = malloc((strlen(u->text) + 1) * sizeof *e->labels);
        rc = e->labels ? nk_alphabet_encode(alpha, u->text, e->labels, &e->U)
                       : nk_fail(NK_ERR_NOMEM, "out of memory");
    }
    if (rc) {
        *reason = strdup(nk_last_error());
        free(e->x);
        free(e->labels);
        memset(e, 0, sizeof *e);
        return rc;
    }
    e->id = strdup(u->id);
    e->text = strdup(u->text);
    e->seconds = (double)e->T * nk_frontend_config_of(fe)->hop / nk_frontend_config_of(fe)->sample_rate;
    return NK_OK;
}

/* nk_dataset_build's job: one front end per worker; progress in corpus order. */
typedef struct {
    nk_frontend **fe;
    const nk_alphabet *alpha;
    const nk_utterance **utts;
    nk_example *ex;
    char **reasons;
    nk_progress *prog;
    size_t done;
    double seconds;
} featurize_run;

static int featurize_work(void *ctx, int worker, size_t i) {
    featurize_run *r = ctx;
    featurize(r->fe[worker], r->alpha, r->utts[i], &r->ex[i], &r->reasons[i]);
    return NK_OK; /* a failed utterance is recorded with its reason */
}

static int featurize_commit(void *ctx, int worker, size_t i, int work_rc, const char *work_error) {
    featurize_run *r = ctx;
    (void)worker, (void)work_rc, (void)work_error;
    r->done++, r->seconds += r->ex[i].seconds;
    nk_progress_update(r->prog, r->done, r->seconds, NULL);
    return NK_OK;
}

int nk_dataset_build(nk_corpus *const *corpora, int n, const nk_arch *arch, int threads,
                     int show_progress, nk_dataset **out) {
    *out = NULL;
    nk_alphabet *alpha;
    int rc = nk_alphabet_new((const char *const *)arch->alphabet, arch->n_classes, &alpha);
    if (rc) return rc;
    size_t total = 0;
    for (int c = 0; c < n; c++) total += nk_corpus_size(corpora[c]);
    const nk_utterance **utts = malloc((total ? total : 1) * sizeof *utts);
    nk_example *ex = calloc(total ? total : 1, sizeof *ex);
    char **reasons = calloc(total ? total : 1, sizeof *reasons);
    nk_dataset *d = calloc(1, sizeof *d);
    if (!utts || !ex || !reasons || !d) {
        free(utts), free(ex), free(reasons), free(d);
        nk_alphabet_free(alpha);
        return nk_fail(NK_ERR_NOMEM, "dataset: out of memory for %zu utterances", total);
    }
    size_t k = 0;
    for (int c = 0; c < n; c++)
        for (size_t i = 0; i < nk_corpus_size(corpora[c]); i++) utts[k++] = nk_corpus_get(corpora[c], i);

    const int W = nk_parallel_workers(total, threads);
    featurize_run r = {calloc(W, sizeof(nk_frontend *)), alpha, utts, ex, reasons,
                       nk_progress_new("features", total, "s audio", show_progress), 0, 0};
    rc = r.fe ? NK_OK : nk_fail(NK_ERR_NOMEM, "dataset: out of memory");
    for (int w = 0; !rc && w < W; w++) rc = nk_frontend_new(&arch->frontend, &r.fe[w]);
    if (rc) rc = nk_fail(rc, "%s: front end: %s", arch->name, nk_last_error());
    if (!rc) rc = nk_parallel_for(total, W, featurize_work, featurize_commit, &r);
    nk_progress_finish(r.prog);
    for (int w = 0; r.fe && w < W; w++) nk_frontend_free(r.fe[w]);
    free(r.fe);
    nk_alphabet_free(alpha);
    if (rc) {
        for (size_t i = 0; i < total; i++) free(reasons[i]);
        free(utts), free(ex), free(reasons), free(d);
        return rc;
    }
    /* Keep the good ones in corpus order; list the rest. */
    d->ex = ex;
    d->F = nk_arch_input_dim(arch);
    d->skipped = calloc(total ? total : 1, sizeof *d->skipped);
    for (size_t i = 0; i < total; i++) {
        if (reasons[i]) {
            if (d->skipped) {
                d->skipped[d->n_skipped].file = strdup(utts[i]->audio);
                d->skipped[d->n_skipped].reason = reasons[i];
                d->n_skipped++;
            } else {
                free(reasons[i]);
            }
            continue;
        }
        d->seconds += ex[i].seconds;
        ex[d->n++] = ex[i];
    }
    free(reasons);
    free(utts);
    *out = d;
    return NK_OK;
}

void nk_dataset_free(nk_dataset *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->ex[i].id);
        free(d->ex[i].text);
        free(d->ex[i].x);
        free(d->ex[i].labels);
    }
    for (size_t i = 0; i < d->n_skipped; i++) {
        free(d->skipped[i].file);
        free(d->skipped[i].reason);
    }
    free(d->skipped);
    free(d->ex);
    free(d);
}

size_t nk_dataset_size(const nk_dataset *d) { return d->n; }
const nk_example *nk_dataset_get(const nk_dataset *d, size_t i) { return &d->ex[i]; }
int nk_dataset_dim(const nk_dataset *d) { return d->F; }
double nk_dataset_seconds(const nk_dataset *d) { return d->seconds; }
size_t nk_dataset_n_skipped(const nk_dataset *d) { return d->n_skipped; }
const nk_skipped *nk_dataset_skipped(const nk_dataset *d, size_t i) { return &d->skipped[i]; }
