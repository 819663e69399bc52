/* The spectrogram front end: STFT (FFTW) → power → mel → log → MFCC → normalization.
 *
 * Numerics follow torchaudio's Spectrogram/MelSpectrogram/AmplitudeToDB/MFCC
 * with center=True, reflect padding, a periodic Hann window and power=2.
 * A front end is planned once (window, filterbank, FFTW plan) and executed
 * many times, like an FFTW plan; one handle must not be used by two threads
 * at once (make one per thread). */
#ifndef NAPKIT_FEATURES_H
#define NAPKIT_FEATURES_H

#include <stddef.h>

typedef enum { NK_FEAT_POWER, NK_FEAT_LOGMEL, NK_FEAT_MFCC } nk_feature_kind;
typedef enum { NK_MEL_HTK, NK_MEL_SLANEY } nk_mel_scale;
typedef enum { NK_LOG_NATURAL, NK_LOG_DB } nk_log_kind;
typedef enum { NK_NORM_NONE, NK_NORM_UTTERANCE, NK_NORM_BAND } nk_normalize;

typedef struct {
    nk_feature_kind kind;
    int sample_rate;     /* Hz, default 16000 */
    int n_fft;           /* default 400 */
    int win;             /* window length ≤ n_fft, centred in the frame; default 400 */
    int hop;             /* default 160 */
    int n_mels;          /* default 40 */
    int n_mfcc;          /* default 13 */
    nk_mel_scale mel_scale; /* default HTK (torchaudio's default) */
    int slaney_norm;     /* 1: area-normalize mel filters (torchaudio norm="slaney") */
    double f_min, f_max; /* Hz; f_max ≤ 0 means sample_rate / 2 */
    nk_log_kind log;     /* natural: ln(x + log_offset); db: 10·log10(max(x, 1e-10)) */
    double log_offset;   /* default 1e-6 (torchaudio MFCC log_mels) */
    double top_db;       /* dB only: clamp to max − top_db per utterance; ≤ 0 = off */
    nk_normalize normalize; /* default none */
} nk_frontend_config;

extern const char *const nk_feature_kind_names[];  /* "power", "logmel", "mfcc", NULL */
extern const char *const nk_mel_scale_names[];     /* "htk", "slaney", NULL */
extern const char *const nk_log_kind_names[];      /* "natural", "db", NULL */
extern const char *const nk_normalize_names[];     /* "none", "utterance", "band", NULL */

void nk_frontend_config_default(nk_frontend_config *c);
/* Checks ranges and consistency; the message names the bad setting. */
int nk_frontend_config_check(const nk_frontend_config *c);
/* 1 when both configurations give the same features. */
int nk_frontend_config_equal(const nk_frontend_config *a, const nk_frontend_config *b);

typedef struct nk_frontend nk_frontend;

int nk_frontend_new(const nk_frontend_config *c, nk_frontend **out);
void nk_frontend_free(nk_frontend *fe);
const nk_frontend_config *nk_frontend_config_of(const nk_frontend *fe);

/* The mel filterbank the front end applies to power spectra, (n_mels,
 * n_fft/2+1) row-major; NULL for power features. For inverting features. */
const float *nk_frontend_mel_filterbank(const nk_frontend *fe);

/* Output size: F rows (n_fft/2+1, n_mels or n_mfcc) and T = 1 + n/hop frames. */
int nk_frontend_dim(const nk_frontend *fe);
size_t nk_frontend_frames(const nk_frontend *fe, size_t n_samples);

/* out is (F, T), row-major, T = nk_frontend_frames(n). n must be ≥ 2 (reflect
 * padding needs a neighbour) and every sample finite. */
int nk_frontend_compute(nk_frontend *fe, const float *samples, size_t n, float *out);

/* Convenience: reads audio at the front end's rate and computes features;
 * *out is malloc'd (F, T). */
int nk_features_from_file(nk_frontend *fe, const char *path, float **out, int *F, int *T);

/* Resamples (F, T) features x to (F, T2) y in time by linear interpolation,
 * first and last frames kept: what a pitch-preserving tempo change by T / T2
 * does to a spectrogram, to good approximation (training's tempo perturbation).
 * T, T2 ≥ 1; y must not overlap x. */
void nk_features_stretch(const float *x, int F, int T, float *y, int T2);

#endif
