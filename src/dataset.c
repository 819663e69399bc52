#include "napkit/dataset.h"

#include "napkit/error.h"
#include "napkit/parallel.h"
#include "napkit/features.h"
#include "napkit/progress.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *id;
    size_t pos; /* position in the corpora's listing order */
} listed_utt;

struct nk_dataset {
    nk_example *ex;
    size_t n;
    int F;
    double seconds;
    nk_skipped *skipped;
    size_t n_skipped;
    nk_shard shard;
    listed_utt *listed; /* (n_unique) every listed id, sorted (index_listing) */
    size_t n_listed, n_unique;
};

static void free_example(nk_example *e) {
    free(e->id), free(e->text), free(e->x), free(e->labels);
}

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

/* Featurizes utts[0..n) into ex on `threads` threads; a failed utterance
 * leaves its reason in reasons[i]. Only a broken front end or lack of memory
 * fails the whole call. */
static int featurize_all(const nk_arch *arch, const nk_utterance **utts, size_t n, int threads,
                         int show_progress, nk_example *ex, char **reasons) {
    nk_alphabet *alpha;
    int rc = nk_alphabet_new((const char *const *)arch->alphabet, arch->n_classes, &alpha);
    if (rc) return rc;
    const int W = nk_parallel_workers(n, threads);
    featurize_run r = {calloc(W, sizeof(nk_frontend *)), alpha, utts, ex, reasons,
                       nk_progress_new("features", n, "s audio", show_progress), 0, 0};
    rc = r.fe ? NK_OK : nk_fail(NK_ERR_NOMEM, "dataset: out of memory");
    for (int w = 0; !rc && w < W; w++) rc = nk_frontend_new(&arch->frontend, &r.fe[w]);
    if (rc) rc = nk_fail(rc, "%s: front end: %s", arch->name, nk_last_error());
    if (!rc) rc = nk_parallel_for(n, W, featurize_work, featurize_commit, &r);
    nk_progress_finish(r.prog);
    for (int w = 0; r.fe && w < W; w++) nk_frontend_free(r.fe[w]);
    free(r.fe);
    nk_alphabet_free(alpha);
    return rc;
}

/* Keeps the good examples in corpus order and lists the rest (takes the reasons). */
static void keep_good(nk_dataset *d, const nk_utterance **utts, size_t n, nk_example *ex, char **reasons) {
    d->ex = ex;
    d->skipped = calloc(n ? n : 1, sizeof *d->skipped);
    for (size_t i = 0; i < n; i++) {
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
}

static int cmp_id(const void *a, const void *b) { return strcmp(((const listed_utt *)a)->id, ((const listed_utt *)b)->id); }

static int cmp_listed(const void *a, const void *b) {
    const listed_utt *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* Every listed id with its listing position, sorted by id, the first
 * position kept when an id repeats: any shard can then tell whose an
 * utterance is without the others' audio. */
static int index_listing(nk_dataset *d, const nk_utterance *const *all, size_t total) {
    if (!(d->listed = calloc(total ? total : 1, sizeof *d->listed)))
        return nk_fail(NK_ERR_NOMEM, "dataset: out of memory for %zu utterance ids", total);
    for (; d->n_unique < total; d->n_unique++) {
        listed_utt *u = &d->listed[d->n_unique];
        if (!(u->id = strdup(all[d->n_unique]->id)))
            return nk_fail(NK_ERR_NOMEM, "dataset: out of memory for %zu utterance ids", total);
        u->pos = d->n_unique;
    }
    qsort(d->listed, total, sizeof *d->listed, cmp_listed);
    size_t k = 0;
    for (size_t i = 0; i < total; i++) {
        if (k && !strcmp(d->listed[k - 1].id, d->listed[i].id)) free(d->listed[i].id);
        else d->listed[k++] = d->listed[i];
    }
    d->n_unique = k, d->n_listed = total;
    return NK_OK;
}

int nk_dataset_build(nk_corpus *const *corpora, int n, const nk_arch *arch, int threads,
                     int show_progress, nk_dataset **out) {
    return nk_dataset_build_shard(corpora, n, arch, (nk_shard){0, 1}, threads, show_progress, out);
}

int nk_dataset_build_shard(nk_corpus *const *corpora, int n, const nk_arch *arch, nk_shard shard,
                           int threads, int show_progress, nk_dataset **out) {
    *out = NULL;
    if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count)
        return nk_fail(NK_ERR_ARG, "dataset: shard %d of %d does not exist", shard.index, shard.count);
    size_t total = 0, k = 0;
    for (int c = 0; c < n; c++) total += nk_corpus_size(corpora[c]);
    const nk_utterance **utts = malloc((total ? total : 1) * sizeof *utts);
    nk_dataset *d = calloc(1, sizeof *d);
    int rc = utts && d ? NK_OK : nk_fail(NK_ERR_NOMEM, "dataset: out of memory for %zu utterances", total);
    for (int c = 0; !rc && c < n; c++)
        for (size_t i = 0; i < nk_corpus_size(corpora[c]); i++) utts[k++] = nk_corpus_get(corpora[c], i);
    if (!rc) rc = index_listing(d, utts, total);
    /* this shard's part, in listing order (utts is reused: k ≤ i) */
    k = 0;
    for (size_t i = 0; !rc && i < total; i++)
        if (i % (size_t)shard.count == (size_t)shard.index) utts[k++] = utts[i];
    nk_example *ex = rc ? NULL : calloc(k ? k : 1, sizeof *ex);
    char **reasons = rc ? NULL : calloc(k ? k : 1, sizeof *reasons);
    if (!rc && (!ex || !reasons)) rc = nk_fail(NK_ERR_NOMEM, "dataset: out of memory for %zu utterances", k);
    if (!rc) rc = featurize_all(arch, utts, k, threads, show_progress, ex, reasons);
    if (rc) {
        for (size_t i = 0; ex && reasons && i < k; i++) free_example(&ex[i]), free(reasons[i]);
        free(utts), free(ex), free(reasons);
        nk_dataset_free(d);
        return rc;
    }
    d->shard = shard;
    d->F = nk_arch_input_dim(arch);
    keep_good(d, utts, k, ex, reasons);
    free(reasons);
    free(utts);
    *out = d;
    return NK_OK;
}

void nk_dataset_free(nk_dataset *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) free_example(&d->ex[i]);
    for (size_t i = 0; i < d->n_skipped; i++) {
        free(d->skipped[i].file);
        free(d->skipped[i].reason);
    }
    for (size_t i = 0; i < d->n_unique; i++) free(d->listed[i].id);
    free(d->listed);
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
nk_shard nk_dataset_shard(const nk_dataset *d) { return d->shard; }
size_t nk_dataset_n_listed(const nk_dataset *d) { return d->n_listed; }

int nk_dataset_shard_of(const nk_dataset *d, const char *id) {
    listed_utt key = {(char *)id, 0};
    const listed_utt *hit = bsearch(&key, d->listed, d->n_unique, sizeof key, cmp_id);
    return hit ? (int)(hit->pos % (size_t)d->shard.count) : -1;
}
