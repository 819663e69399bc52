/* Events of an events file matched to a dataset's utterances and grouped for
 * a NAP run (phonemes, letters, classes or words), and the run's identity.
 * `napkit naps --align` and `napkit report` share it. */
#include "napkit/nap.h"

#include "napkit/error.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const nk_nap_grouping_names[] = {"phoneme", "letter", "class", "word", NULL};
static const nk_tier_kind grouping_tier[] = {NK_TIER_PHONES, NK_TIER_LETTERS, NK_TIER_PHONES, NK_TIER_WORDS};

nk_tier_kind nk_nap_grouping_tier(nk_nap_grouping kind) { return grouping_tier[kind]; }

typedef struct {
    const char *id;
    size_t index;
} utt_key;

static int cmp_key(const void *a, const void *b) { return strcmp(((const utt_key *)a)->id, ((const utt_key *)b)->id); }
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int alphabet_index(const nk_arch *a, const char *s) {
    for (int k = 0; s && k < a->n_classes; k++)
        if (k != a->blank && !strcmp(a->alphabet[k], s)) return k;
    return -1;
}

/* With d one shard of several, every event is handled by one process: the
 * one whose shard takes its utterance, or shard 0 for an utterance the
 * corpora do not list (so that exactly one process reports it). */
static int event_shard(const nk_dataset *d, const char *utt) {
    const int k = nk_dataset_shard_of(d, utt);
    return k < 0 ? 0 : k;
}

void nk_nap_grouped_free(nk_nap_grouped *r) {
    for (int g = 0; g < r->G; g++) free(r->groups[g]);
    for (size_t i = 0; r->ev && i < r->n_utts; i++) free(r->ev[i]);
    free(r->groups), free(r->ev), free(r->n_ev), free(r->missing);
    memset(r, 0, sizeof *r);
}

int nk_nap_group_events(const nk_events *e, nk_nap_grouping kind, const nk_arch *arch, const nk_dataset *d,
                        nk_nap_grouped *r) {
    const size_t n = nk_dataset_size(d);
    const nk_tier_kind tier = grouping_tier[kind];
    memset(r, 0, sizeof *r);
    r->n_utts = n;
    utt_key *keys = malloc(sizeof *keys * (n + 1));
    int *match = malloc(sizeof *match * (e->n + 1)); /* dataset index per event, −1: none */
    char **names = malloc(sizeof *names * (e->n + 1));
    r->missing = malloc(sizeof *r->missing * (e->n + 1));
    r->ev = calloc(n + 1, sizeof *r->ev), r->n_ev = calloc(n + 1, sizeof *r->n_ev);
    r->groups = malloc(sizeof *r->groups * (e->n + 1));
    if (!keys || !match || !names || !r->missing || !r->ev || !r->n_ev || !r->groups) {
        free(keys), free(match), free(names);
        nk_nap_grouped_free(r);
        return nk_fail(NK_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) keys[i] = (utt_key){nk_dataset_get(d, i)->id, i};
    qsort(keys, n, sizeof *keys, cmp_key);
    const nk_shard shard = nk_dataset_shard(d);
    size_t n_names = 0, n_tier = 0, n_known = 0; /* n_known: labelled events of any shard's utterances */
    const char *unknown = NULL;                   /* the first labelled event's utterance that none has */
    for (size_t j = 0; j < e->n; j++) {
        const nk_event *v = &e->ev[j];
        match[j] = -1;
        if (v->tier != tier) continue;
        n_tier++;
        const char *label = kind == NK_NAP_GROUP_CLASS ? v->cls : v->label;
        const int owner = shard.count > 1 ? event_shard(d, v->utt) : 0;
        if (owner != shard.index) { /* another process sums (and reports) it */
            if (label && nk_dataset_shard_of(d, v->utt) >= 0) n_known++;
            else if (label && !unknown) unknown = v->utt;
            continue;
        }
        if (!label) {
            r->n_no_label++;
            continue;
        }
        utt_key k = {v->utt, 0}, *hit = bsearch(&k, keys, n, sizeof *keys, cmp_key);
        if (!hit) {
            r->missing[r->n_missing_events++] = v->utt;
            if (!unknown) unknown = v->utt;
            continue;
        }
        match[j] = (int)hit->index;
        r->n_ev[hit->index]++;
        names[n_names++] = (char *)label;
        n_known++;
    }
    int rc = NK_OK;
    if (shard.count > 1 && e->n == 0) rc = NK_OK; /* a shard whose utterances gave no events: nothing to sum */
    else if (n_tier == 0) rc = nk_fail(NK_ERR_EMPTY, "the events hold no %s events", nk_tier_names[tier]);
    else if (n_known == 0)
        rc = nk_fail(NK_ERR_EMPTY, "none of the %zu %s events refers to an utterance of the corpus (e.g. %s)", n_tier,
                     nk_tier_names[tier], unknown ? unknown : "-");
    /* the utterances events refer to but the corpus lacks, each once */
    qsort(r->missing, r->n_missing_events, sizeof *r->missing, cmp_str);
    for (size_t j = 0; j < r->n_missing_events; j++)
        if (!r->n_missing || strcmp(r->missing[r->n_missing - 1], r->missing[j])) r->missing[r->n_missing++] = r->missing[j];
    /* groups: the distinct labels, sorted */
    qsort(names, n_names, sizeof *names, cmp_str);
    for (size_t j = 0; !rc && j < n_names; j++)
        if (!r->G || strcmp(r->groups[r->G - 1], names[j])) {
            if (!(r->groups[r->G] = strdup(names[j]))) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
            else r->G++;
        }
    for (size_t i = 0; !rc && i < n; i++)
        if (r->n_ev[i] && !(r->ev[i] = malloc(sizeof **r->ev * r->n_ev[i]))) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
    memset(r->n_ev, 0, sizeof *r->n_ev * n);
    for (size_t j = 0; !rc && j < e->n; j++) {
        if (match[j] < 0) continue;
        const nk_event *v = &e->ev[j];
        const char *label = kind == NK_NAP_GROUP_CLASS ? v->cls : v->label;
        char **g = bsearch(&label, r->groups, r->G, sizeof *r->groups, cmp_str);
        const char *letter = v->tier == NK_TIER_LETTERS ? v->label : v->letter;
        r->ev[match[j]][r->n_ev[match[j]]++] =
            (nk_nap_event){(int)(g - r->groups), v->start, v->end, v->peak, alphabet_index(arch, letter)};
    }
    free(keys), free(match), free(names);
    if (rc) nk_nap_grouped_free(r);
    return rc;
}

char *nk_nap_identity(nk_model *m, nk_nap_grouping kind, const char *events) {
    /* FNV-1a of the parameters: which weights made the profiles. */
    const unsigned char *p = (const unsigned char *)nk_model_params(m);
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < nk_model_param_count(m) * sizeof(float); i++) h = (h ^ p[i]) * 1099511628211u;
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
    cJSON *id = cJSON_CreateObject();
    cJSON_AddStringToObject(id, "model_hash", hex);
    cJSON_AddStringToObject(id, "arch", nk_model_arch(m)->name);
    cJSON_AddStringToObject(id, "group", nk_nap_grouping_names[kind]);
    cJSON_AddStringToObject(id, "events", events);
    char *text = cJSON_PrintUnformatted(id);
    cJSON_Delete(id);
    if (!text) nk_fail(NK_ERR_NOMEM, "out of memory");
    return text;
}

char *nk_nap_run_info(const nk_arch *arch, const nk_nap_config *cfg, const char *model, const char *align,
                      const char *const *corpora, int n_corpora, size_t n_utts, const char *command) {
    cJSON *ex = cJSON_CreateObject(), *specs = cJSON_AddArrayToObject(ex, "corpus");
    for (int i = 0; i < n_corpora; i++) cJSON_AddItemToArray(specs, cJSON_CreateString(corpora[i]));
    cJSON_AddNumberToObject(ex, "corpus_utterances", (double)n_utts);
    cJSON_AddStringToObject(ex, "model", model);
    if (align) cJSON_AddStringToObject(ex, "align", align);
    /* Frame duration of each layer, so figures can label offsets in ms. */
    cJSON *fms = cJSON_AddObjectToObject(ex, "frame_ms");
    for (int i = 0; i < cfg->n_layers; i++) {
        char name[32];
        snprintf(name, sizeof name, "layer_%02d", cfg->layers[i]);
        cJSON_AddNumberToObject(fms, name, 1000.0 * nk_arch_total_stride(arch, cfg->layers[i]) * arch->frontend.hop /
                                               arch->frontend.sample_rate);
    }
    if (command) cJSON_AddStringToObject(ex, "command", command);
    char *text = cJSON_PrintUnformatted(ex);
    cJSON_Delete(ex);
    if (!text) nk_fail(NK_ERR_NOMEM, "out of memory");
    return text;
}
