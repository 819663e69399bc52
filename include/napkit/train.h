/* Training with CTC: Adam with warm-up and cosine decay, global gradient-norm
 * clipping, length-bucketed batches, tempo perturbation and SpecAugment masks,
 * a checkpoint after every epoch, exact resume.
 *
 * Determinism: batch composition and order, and every augmentation (tempo
 * factor, masks), derive from (seed, epoch, utterance) alone, and nk_model_ctc_batch sums
 * gradients in utterance order, so the same seed gives the same model for
 * any thread count, and a resumed run equals an uninterrupted one. */
#ifndef NAPKIT_TRAIN_H
#define NAPKIT_TRAIN_H

#include "napkit/dataset.h"
#include "napkit/model.h"

#include <stdint.h>

typedef struct {
    int epochs;             /* default 30 */
    double batch_seconds;   /* audio per batch, default 60 s */
    double lr;              /* peak learning rate, default 1e-3 */
    int warmup_steps;       /* linear warm-up, default 300 */
    double final_lr_frac;   /* cosine decay to lr × this at the last step, default 0.05 */
    double clip_norm;       /* global gradient-norm clip, default 5; ≤ 0 = off */
    double beta1, beta2, eps; /* Adam, default 0.9, 0.999, 1e-8 */
    int threads;            /* utterances in parallel, default 1 */
    uint64_t seed;          /* default 1 */
    int time_masks, time_mask_max; /* SpecAugment: masks per utterance and max width (frames) */
    int freq_masks, freq_mask_max; /* … and over feature rows; 0 masks = off */
    double tempo;           /* tempo perturbation: frames stretched by a factor from
                               [1 − tempo, 1 + tempo] (nk_features_stretch); 0 = off (default) */
    const char *checkpoint; /* written atomically after every epoch (NULL = none) */
    int show_progress;      /* progress line on stderr */
} nk_train_options;

void nk_train_options_default(nk_train_options *o);

typedef struct {
    int epoch;              /* 1-based */
    int step;               /* optimizer steps so far */
    double train_loss;      /* mean CTC loss per label over the epoch */
    size_t skipped;         /* utterances too short for their labels */
    double dev_cer, dev_wer; /* −1 without a dev set */
    double audio_per_second; /* training throughput, seconds of audio per second */
    double seconds;         /* wall-clock time of the epoch */
} nk_epoch_report;

/* Called after each epoch (after the checkpoint is written); a non-zero
 * return stops training early (the checkpoint stays valid). */
typedef int (*nk_epoch_callback)(const nk_epoch_report *r, void *ctx);

/* Trains m in place on train (dev may be NULL). With resume set, m, the
 * optimizer and the epoch counter are restored from that checkpoint first
 * (its architecture must equal m's, and the options it records must equal o's
 * but for epochs, threads, checkpoint and show_progress: NK_ERR_ARG names the
 * first that differs). Fails for an empty training set. Clears
 * m's onset delay (nk_model_onset_delay): it held for the old weights only. */
int nk_train(nk_model *m, const nk_dataset *train, const nk_dataset *dev,
             const nk_train_options *o, const char *resume, nk_epoch_callback cb, void *ctx);

#endif
