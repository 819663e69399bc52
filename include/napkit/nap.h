/* NAPs and GradNAPs: ERP-style neuron activation profiles.
 *
 * For every event (a phone, letter, … of an utterance) and every chosen layer
 * l, a window of the layer's output A^l (C_l, T_l) is cut around the event's
 * centre frame u: R[c, δ] = f(A^l[c, u + δ]), δ = −w … w, and summed per group.
 * f is the mode:
 *   act       A                       (plain NAP)
 *   gxa       A · ∂y/∂A               (GradNAP)
 *   absgxa    A · |∂y/∂A|
 *   gradmask  A · 1[∂y/∂A > 0]
 * where y is the event's target score: the logit (or log-prob) of the event's
 * letter at its peak output frame, for that event alone. The gradient of one
 * output frame reaches only its receptive field, so it is computed on that
 * local cone from the utterance's cached forward pass (nap_cone.c): the cost
 * per event does not depend on the utterance length, and it equals the
 * full-utterance gradient.
 *
 * Frames: an event time τ (seconds) falls on frame round(τ / (hop·S_l / sr))
 * of layer l, S_l = nk_arch_total_stride. Window frames outside [0, T_l) are
 * not counted (a count per offset, never zero padding), so edge events do
 * not bias the mean.
 *
 * Sums are additive: count per (group, layer, offset), sum and sum of squares
 * per (group, layer, channel, offset), in double. Shards of a corpus merge
 * exactly (up to the rounding of the additions) and a run is resumable. */
#ifndef NAPKIT_NAP_H
#define NAPKIT_NAP_H

#include "napkit/dataset.h"
#include "napkit/events.h"
#include "napkit/model.h"

#include <stddef.h>
#include <stdint.h>

typedef enum { NK_NAP_ACT, NK_NAP_GXA, NK_NAP_ABSGXA, NK_NAP_GRADMASK } nk_nap_mode;
typedef enum { NK_NAP_CENTER_PEAK, NK_NAP_CENTER_SPAN, NK_NAP_CENTER_GRAD } nk_nap_center;
typedef enum { NK_NAP_TARGET_LOGIT, NK_NAP_TARGET_LOGPROB } nk_nap_target;
extern const char *const nk_nap_mode_names[];   /* "act", "gxa", "absgxa", "gradmask", NULL */
extern const char *const nk_nap_center_names[]; /* "peak", "span", "grad", NULL */
extern const char *const nk_nap_target_names[]; /* "logit", "logprob", NULL */

#define NK_NAP_MAX_WINDOW 1000

typedef struct {
    nk_nap_mode mode;     /* default act */
    nk_nap_center center; /* default peak; span: the middle frame of [start, end); grad:
                             argmax_u Σ_c |∂y/∂A[c,u] · A[c,u]| over the span's frames */
    nk_nap_target target; /* default logit */
    int window;           /* w: offsets −w … w in frames of each layer (default 15) */
    int n_layers;         /* chosen layers, strictly increasing indices */
    int *layers;
} nk_nap_config;

/* One event resolved for a model: group index, times in seconds, and the
 * target class (the letter's index in the alphabet; −1: none, which only
 * plain `act` with a non-grad centre can use). */
typedef struct {
    int group;
    double start, end, peak;
    int target;
} nk_nap_event;

/* ---- sums: what a run accumulates, what a shard file holds ---- */

typedef struct nk_nap_sums nk_nap_sums;

/* Empty sums for G groups (names, unique; G may be 0: groups are added by
 * merging) over cfg's layers of arch.
 * identity is a JSON object text (model, grouping, events source, …) that
 * shards must share to merge; it is stored verbatim. cfg is copied. */
int nk_nap_sums_new(const nk_arch *arch, const nk_nap_config *cfg, const char *const *groups, int G,
                    const char *identity, nk_nap_sums **out);
void nk_nap_sums_free(nk_nap_sums *s);

const nk_nap_config *nk_nap_sums_config(const nk_nap_sums *s);
const char *nk_nap_sums_identity(const nk_nap_sums *s);
int nk_nap_sums_n_groups(const nk_nap_sums *s);
const char *nk_nap_sums_group(const nk_nap_sums *s, int g);
int64_t nk_nap_sums_n_events(const nk_nap_sums *s, int g);
int nk_nap_sums_channels(const nk_nap_sums *s, int i); /* C of the i-th chosen layer */
/* count (W), sum and sumsq (C, W) of group g, i-th chosen layer; W = 2w+1. */
const double *nk_nap_sums_count(const nk_nap_sums *s, int g, int i);
const double *nk_nap_sums_sum(const nk_nap_sums *s, int g, int i);
const double *nk_nap_sums_sumsq(const nk_nap_sums *s, int g, int i);
/* Utterances already summed (for --resume and for merge's overlap check). */
size_t nk_nap_sums_n_utts(const nk_nap_sums *s);
const char *nk_nap_sums_utt(const nk_nap_sums *s, size_t i);
int nk_nap_sums_has_utt(const nk_nap_sums *s, const char *id);
/* Events skipped so far: no target letter for a gradient mode, or outside the utterance. */
int64_t nk_nap_sums_n_skipped_events(const nk_nap_sums *s);

/* Shard file: "NKNAPS1\n", a little-endian uint64 header length, a JSON
 * header (config, identity, groups, event counts, layers, utterances) and the
 * sums as little-endian float64. Written atomically. */
int nk_nap_sums_write(const nk_nap_sums *s, const char *path);
int nk_nap_sums_read(const char *path, nk_nap_sums **out);
/* Adds `from` into `into`: same config and identity, no utterance in both
 * (that would count it twice); groups are matched by name, new ones appended. */
int nk_nap_sums_merge(nk_nap_sums *into, const nk_nap_sums *from);

/* ---- accumulation ---- */

/* Per-thread state: a workspace, cone buffers and one utterance's partial sums. */
typedef struct nk_nap_worker nk_nap_worker;
int nk_nap_worker_new(const nk_model *m, const nk_nap_sums *s, nk_nap_worker **out);
void nk_nap_worker_free(nk_nap_worker *w);

/* Forward pass of x (F, T) and every event's windows into the worker's
 * partial sums (replacing the previous utterance's). */
int nk_nap_worker_utterance(nk_nap_worker *w, const float *x, int T, const nk_nap_event *ev, int n);
/* Adds the worker's partial sums into s and records utterance `id` as done. */
int nk_nap_sums_add(nk_nap_sums *s, nk_nap_worker *w, const char *id);

/* Events per packed backward pass. */
#define NK_NAP_BATCH 16

/* The gradients ∂y_b/∂A^l of n <= NK_NAP_BATCH targets (class k[b] at output
 * frame t[b]) on their local cones, for layers l >= lowest, from the worker's
 * cached forward pass, in one packed backward pass (nap_cone.c). Exposed for
 * tests; nk_nap_worker_utterance uses it. */
int nk_nap_cone_grads(nk_nap_worker *w, int n, const int *k, const int *t, nk_nap_target target, int lowest);
/* Event b's gradient at layer l: (C_l, hi − lo) values for frames [lo, hi),
 * valid until the next nk_nap_cone_grads. */
const float *nk_nap_cone(const nk_nap_worker *w, int b, int l, int *lo, int *hi);
/* The worker's workspace (its forward pass). */
nk_workspace *nk_nap_worker_ws(nk_nap_worker *w);

typedef struct {
    const char *id;
    const float *x; /* (F, T) */
    int T;
    const nk_nap_event *ev;
    int n_ev;
} nk_nap_utt;

/* Called after each utterance is added, in order (done: utterances added by
 * this call so far; failed: NULL or the utterance's error). Return nonzero to
 * stop early: nk_nap_run then returns NK_ERR_INTERRUPTED. */
typedef int (*nk_nap_callback)(void *ctx, size_t done, const nk_nap_utt *u, const char *failed);

/* Sums the n utterances into s on `threads` threads. Utterances are added in
 * index order whatever the thread count, so the result does not depend on
 * it. A failing utterance is reported to cb and skipped. */
int nk_nap_run(const nk_model *m, nk_nap_sums *s, const nk_nap_utt *u, size_t n, int threads,
               nk_nap_callback cb, void *ctx);

/* Letter events of every utterance of d from the model's own CTC forced
 * alignment against its transcript (nk_events_from_alignment; the word
 * separator " " gives no event), on `threads` threads, in dataset order.
 * Utterances whose alignment is infeasible (or whose forward pass fails) give
 * no events and are listed in out->skipped as "ID: reason". */
int nk_nap_letter_events(const nk_model *m, const nk_dataset *d, int threads, nk_events *out);

/* ---- events of a corpus, grouped for a run ---- */

typedef enum { NK_NAP_GROUP_PHONEME, NK_NAP_GROUP_LETTER, NK_NAP_GROUP_CLASS, NK_NAP_GROUP_WORD } nk_nap_grouping;
extern const char *const nk_nap_grouping_names[]; /* "phoneme", "letter", "class", "word", NULL */
/* The events tier a grouping reads (phones for phoneme and class). */
nk_tier_kind nk_nap_grouping_tier(nk_nap_grouping kind);

typedef struct {
    char **groups;           /* (G) distinct labels, sorted (byte order) */
    int G;
    nk_nap_event **ev;       /* (n_utts) each dataset utterance's events, NULL when none */
    int *n_ev;               /* (n_utts) */
    size_t n_utts;
    size_t n_no_label;       /* events of the tier without the label the grouping needs ("class") */
    size_t n_missing_events; /* events whose utterance is not in the dataset … */
    const char **missing;    /* … and those utterance ids, each once, sorted (n_missing; they
                                point into the events, which must outlive this) */
    size_t n_missing;
} nk_nap_grouped;

/* Matches the events of the grouping's tier to d's utterances by id and
 * groups them by label (or "class"); each event's target is its letter's
 * class index in arch (−1 when it has none). NK_ERR_EMPTY when the tier has
 * no events or none refers to an utterance of d.
 * When d is one shard of several (nk_dataset_build_shard), only the events
 * of its own utterances are grouped and counted (events of utterances the
 * corpora do not list are shard 0's), so the shards' missing and unlabelled
 * events add up to one run's; the groups are those of its own events (G may
 * be 0: merging the shards' sums unites them); NK_ERR_EMPTY only when no
 * event refers to an utterance of any shard. */
int nk_nap_group_events(const nk_events *e, nk_nap_grouping kind, const nk_arch *arch, const nk_dataset *d,
                        nk_nap_grouped *out);
void nk_nap_grouped_free(nk_nap_grouped *g);

/* A run's identity for nk_nap_sums_new (malloc'd JSON, NULL when out of
 * memory): {"model_hash": FNV-1a of the parameters, "arch", "group", "events"}. */
char *nk_nap_identity(nk_model *m, nk_nap_grouping kind, const char *events);
/* What naps.json records beside the identity (the `extra` of
 * nk_nap_result_save; malloc'd JSON, NULL when out of memory): the corpora,
 * their utterance count, the model and alignment paths (align may be NULL),
 * each chosen layer's frame duration in ms ("frame_ms", which ERP figures
 * read) and the command line (may be NULL). */
char *nk_nap_run_info(const nk_arch *arch, const nk_nap_config *cfg, const char *model, const char *align,
                      const char *const *corpora, int n_corpora, size_t n_utts, const char *command);

/* ---- finalize: means, SEM, normalization, time-independent profiles ---- */

typedef enum { NK_NAP_NORM_NONE, NK_NAP_NORM_GROUPMEAN, NK_NAP_NORM_ZSCORE } nk_nap_norm;
typedef enum { NK_NAP_FLAT_MEAN, NK_NAP_FLAT_ZERO } nk_nap_flat;
extern const char *const nk_nap_norm_names[]; /* "none", "groupmean", "zscore", NULL */
extern const char *const nk_nap_flat_names[]; /* "mean", "zero", NULL */

typedef struct {
    nk_nap_norm normalize; /* default groupmean: subtract the mean over kept groups per (c, δ) */
    nk_nap_flat flat;      /* time-independent profile: mean over δ (default) or δ = 0 */
    int64_t min_count;     /* groups with fewer events are dropped (default 20) */
    int baseline;          /* 1: subtract each (g, c)'s mean over δ ∈ [baseline_from, baseline_to] */
    int baseline_from, baseline_to;
} nk_nap_finalize_opts;

void nk_nap_finalize_opts_default(nk_nap_finalize_opts *o);

typedef struct {
    int G;                  /* kept groups, sorted by name (byte order) */
    int *group;             /* (G) index into the sums' groups */
    int n_dropped;
    int *dropped;           /* (n_dropped) sums' indices of dropped groups */
    int n_layers, window;
    int *channels;          /* (n_layers) */
    float **mean, **sem;    /* per layer (G, C, 2w+1); offsets never seen are NaN */
    float **flat;           /* per layer (G, C) */
} nk_nap_result;

/* Means, SEM and profiles. mean is normalized as asked; sem = sqrt(var/n) of
 * the raw values (divided by the same per-neuron scale under zscore). Fails
 * with NK_ERR_EMPTY when no group has min_count events. */
int nk_nap_finalize(const nk_nap_sums *s, const nk_nap_finalize_opts *o, nk_nap_result *out);
void nk_nap_result_free(nk_nap_result *r);
/* Writes dir/layer_NN.npy, layer_NN_sem.npy, layer_NN_flat.npy (NN = layer
 * index), groups.txt (kept groups, one per line) and naps.json (groups,
 * counts, dropped groups, layers and shapes, every setting, the identity and
 * `extra`: a JSON object text or NULL). */
int nk_nap_result_save(const nk_nap_result *r, const nk_nap_sums *s, const nk_nap_finalize_opts *o,
                       const char *extra, const char *dir);

#endif
