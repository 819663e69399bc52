/* A corpus made ready for a model: every utterance's features under the
 * model's front end and its transcript as labels over the model's alphabet,
 * held in memory. Training and evaluation both consume it.
 *
 * Building reads and featurizes the audio in parallel (one front end per
 * thread); an utterance whose audio fails or whose text does not encode is
 * skipped and listed with its reason, never fatal. */
#ifndef NAPKIT_DATASET_H
#define NAPKIT_DATASET_H

#include "napkit/arch.h"
#include "napkit/corpus.h"

#include <stddef.h>

typedef struct {
    char *id;       /* utterance id */
    char *text;     /* normalized transcript */
    float *x;       /* (F, T) features */
    int T;
    int *labels;    /* (U) class indices, never the blank */
    int U;
    double seconds; /* audio duration */
} nk_example;

typedef struct nk_dataset nk_dataset;

/* One of `count` parts of a corpus, for processes that split it (napkit naps
 * under mpirun): the utterances whose position i in the corpora's listing
 * order (corpus after corpus, as listed, before any audio is read) has
 * i % count == index. {0, 1} is the whole corpus. Deciding on the listing
 * lets every process pick its part without reading anyone's audio. */
typedef struct {
    int index, count;
} nk_shard;

/* Featurizes all utterances of n corpora (opened over the same alphabet as
 * arch) with arch's front end, on `threads` threads. show_progress draws a
 * progress line on stderr. */
int nk_dataset_build(nk_corpus *const *corpora, int n, const nk_arch *arch, int threads,
                     int show_progress, nk_dataset **out);
/* The same for one shard: only its utterances are read and featurized (and
 * only their failures are listed as skipped); the dataset still knows every
 * listed id, for nk_dataset_shard_of. */
int nk_dataset_build_shard(nk_corpus *const *corpora, int n, const nk_arch *arch, nk_shard shard,
                           int threads, int show_progress, nk_dataset **out);
void nk_dataset_free(nk_dataset *d);

size_t nk_dataset_size(const nk_dataset *d);
const nk_example *nk_dataset_get(const nk_dataset *d, size_t i);
int nk_dataset_dim(const nk_dataset *d);         /* F */
double nk_dataset_seconds(const nk_dataset *d);  /* total audio */
/* Utterances skipped while building (corpus-level skips are the corpus's). */
size_t nk_dataset_n_skipped(const nk_dataset *d);
const nk_skipped *nk_dataset_skipped(const nk_dataset *d, size_t i);

nk_shard nk_dataset_shard(const nk_dataset *d);
/* Utterances the corpora list, in all shards (featurized or not). */
size_t nk_dataset_n_listed(const nk_dataset *d);
/* The shard that takes utterance `id` (the first listed, should an id repeat);
 * −1 when the corpora do not list it. */
int nk_dataset_shard_of(const nk_dataset *d, const char *id);

#endif
