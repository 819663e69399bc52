/* Feature visualization: what a unit wants to hear.
 *
 *  - Activation maximization in the model's input space (log-mel features):
 *    gradient ascent (Adam) on a unit, a channel, a whole layer (DeepDream) or
 *    a letter's logit. The input is parameterized: the inverse 2D DCT of
 *    frequency-scaled coefficients (favours low spatial frequencies), z-normalized
 *    as the front end normalizes an utterance, and softly bounded by tanh.
 *    Gaussian blur, random time/frequency jitter and optional L2 and
 *    total-variation penalties regularize it; seeded.
 *  - Rendering features back to audio: undo the normalization, mel → linear
 *    power through the pseudo-inverse of the front end's mel filterbank,
 *    Griffin–Lim phase reconstruction.
 *  - Top activating inputs: a streaming scan of a corpus that keeps the k
 *    utterance frames where each chosen unit is highest. */
#ifndef NAPKIT_FEATVIS_H
#define NAPKIT_FEATVIS_H

#include "napkit/corpus.h"
#include "napkit/model.h"

#include <stdint.h>

typedef enum {
    NK_FV_UNIT,    /* z^l[c, frame], the pre-activation */
    NK_FV_CHANNEL, /* mean over t of A^l[c, t] */
    NK_FV_LAYER,   /* mean over c, t of A^l[c, t]² (DeepDream) */
    NK_FV_LOGIT    /* logit c at `frame`, or its mean over frames when frame < 0 (before any activation) */
} nk_fv_objective;
extern const char *const nk_fv_objective_names[]; /* "unit", "channel", "layer", "logit", NULL */

typedef struct {
    nk_fv_objective objective;
    int layer, channel, frame; /* layer −1: the last (logits); frame −1: the middle (UNIT) */
    int T;                     /* input frames optimized */
    int steps;
    double lr;                 /* Adam step */
    double l2, tv;             /* penalties on the mean over cells of X² and of squared neighbour differences */
    int blur_every;            /* blur X every n steps (0: never) with σ = blur_sigma cells */
    double blur_sigma;
    int jitter_t, jitter_f;    /* random roll of X by up to ± frames / bands before each step */
    int normalize;             /* 1: X is z-normalized over all cells, as the front end's utterance normalization */
    double bound;              /* X = bound·tanh(·/bound), a soft bound |X| < bound (≤ 0: none) */
    int smooth;                /* 1: optimize the frequency-scaled DCT coefficients of X */
    double init_std;           /* X starts as N(0, init_std²) */
    uint64_t seed;
} nk_featvis_options;

/* 200 frames, 500 steps, Adam 0.1, no L2 or TV penalty, blur σ 1 every 5 steps,
 * jitter ±4 frames, normalized, bound 3, smooth, init 0.1, seed 1; objective
 * CHANNEL of the last layer's channel 0 (docs/attribution.md says why). */
void nk_featvis_options_default(nk_featvis_options *o);

/* Maximizes the objective from a seeded start: x receives X (F, T). trace (steps
 * + 1 entries, may be NULL) receives the objective h (without the penalties) of
 * the jittered input of each step, and last that of the result, unjittered.
 * h reads the pre-activation for UNIT and LOGIT, the activation for CHANNEL and
 * LAYER (see src/featvis.c). */
int nk_featvis(const nk_model *m, const nk_featvis_options *o, float *x, double *trace);

/* Audio of features X (F, T) in the model's front end (log-mel only): with
 * per-utterance normalization the level is restored as X·std + mean (natural-log
 * or dB units as the front end says), then mel power → linear power through the
 * pseudo-inverse of the front end's filterbank (negatives clipped), then
 * `iters` Griffin–Lim iterations from a seeded random phase. *samples (malloc'd,
 * n = (T − 1)·hop samples) peak at 0.9. */
int nk_features_to_audio(const nk_arch *a, const float *x, int T, double mean, double std, int iters,
                         uint64_t seed, float **samples, size_t *n);

/* Griffin–Lim: a signal whose STFT magnitude (Hann window of `win` samples
 * centred in n_fft, hop, torchaudio's centre padding) approximates mag
 * ((n_fft/2 + 1), T). out holds (T − 1)·hop samples. */
int nk_griffinlim(const float *mag, int n_fft, int win, int hop, int T, int iters, uint64_t seed, float *out);

/* ---- top activating inputs ---- */

typedef struct {
    float value;     /* the unit's activation */
    int utt, frame;  /* utterance index in the corpus, frame of the unit's layer */
} nk_top_hit;

/* Scans the corpus (utterances read one at a time through the model's front
 * end: memory is the hits, not the corpus) and keeps for each of n units
 * (layer[u], channel[u]) its k highest activations, at most one per utterance
 * (its peak frame). hits is (n, k), best first; n_hits[u] counts the filled
 * ones. Unreadable utterances are skipped and counted in *skipped. */
int nk_top_activations(const nk_model *m, const nk_corpus *c, int n, const int *layer, const int *channel, int k,
                       nk_top_hit *hits, int *n_hits, size_t *skipped);

/* Writes stem.wav (the audio of the input frames that frame `frame` of `layer`
 * sees, plus `context` frames each side) and stem.{pdf,svg,png}: the snippet's
 * spectrogram with unit (layer, channel)'s activation over it and the tiers of
 * the TextGrid beside the audio file (same stem), if there is one. */
int nk_top_write_snippet(const nk_model *m, const char *audio, int layer, int channel, int frame, int context,
                         const char *stem);

#endif
