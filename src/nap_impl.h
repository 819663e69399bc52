/* Internals shared by the nap*.c files: the layout of the sums. */
#ifndef NAPKIT_NAP_IMPL_H
#define NAPKIT_NAP_IMPL_H

#include "strindex.h"
#include "napkit/nap.h"

#include <cjson/cJSON.h>

/* Per group one block of doubles; per chosen layer i, at off[i]:
 * count (W), sum (C_i, W), sumsq (C_i, W), W = 2w+1. */
struct nk_nap_sums {
    nk_nap_config cfg; /* layers owned */
    int *channels;     /* (cfg.n_layers) */
    char *identity;    /* compact JSON object */
    int G, gcap;
    char **groups;
    int64_t *n_events; /* (G) */
    int64_t skipped_events;
    size_t block, *off;
    double *data; /* (G, block) */
    char **utts;
    size_t n_utts, utt_cap;
    nk_strindex utt_index; /* finds an id in utts */
};

/* The accumulation settings as a JSON object (mode, center, target, window, layers). */
cJSON *nap_config_json(const nk_nap_config *c);

/* Adds one group's block of sums and its event count. */
void nap_sums_add_block(nk_nap_sums *s, int g, const double *block, int64_t n_events);
/* Records utterance id as summed (failing if it already is) and its skipped events. */
int nap_sums_add_utt(nk_nap_sums *s, const char *id, int64_t skipped);

#endif
