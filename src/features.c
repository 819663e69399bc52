#include "napkit/features.h"

#include "napkit/audio.h"
#include "napkit/error.h"

#include <cblas.h>
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const nk_feature_kind_names[] = {"power", "logmel", "mfcc", NULL};
const char *const nk_mel_scale_names[] = {"htk", "slaney", NULL};
const char *const nk_log_kind_names[] = {"natural", "db", NULL};
const char *const nk_normalize_names[] = {"none", "utterance", "band", NULL};

struct nk_frontend {
    nk_frontend_config cfg;
    int n_freq;        /* n_fft/2 + 1 */
    float *window;     /* (n_fft) periodic Hann of length win, zero-padded and centred */
    float *mel_fb;     /* (n_mels, n_freq) */
    float *dct;        /* (n_mfcc, n_mels), orthonormal DCT-II */
    float *frame;      /* (n_fft) FFTW input */
    fftwf_complex *spectrum; /* (n_freq) FFTW output */
    fftwf_plan plan;
};

void nk_frontend_config_default(nk_frontend_config *c) {
    *c = (nk_frontend_config){
        .kind = NK_FEAT_LOGMEL, .sample_rate = 16000, .n_fft = 400, .win = 400, .hop = 160,
        .n_mels = 40, .n_mfcc = 13, .mel_scale = NK_MEL_HTK, .slaney_norm = 0,
        .f_min = 0, .f_max = 0, .log = NK_LOG_NATURAL, .log_offset = 1e-6, .top_db = 0,
        .normalize = NK_NORM_NONE,
    };
}

static double f_max_of(const nk_frontend_config *c) {
    return c->f_max > 0 ? c->f_max : c->sample_rate / 2.0;
}

int nk_frontend_config_equal(const nk_frontend_config *a, const nk_frontend_config *b) {
    return a->kind == b->kind && a->sample_rate == b->sample_rate && a->n_fft == b->n_fft && a->win == b->win &&
           a->hop == b->hop && a->n_mels == b->n_mels && a->n_mfcc == b->n_mfcc && a->mel_scale == b->mel_scale &&
           a->slaney_norm == b->slaney_norm && a->f_min == b->f_min && a->f_max == b->f_max && a->log == b->log &&
           a->log_offset == b->log_offset && a->top_db == b->top_db && a->normalize == b->normalize;
}

int nk_frontend_config_check(const nk_frontend_config *c) {
    if (c->sample_rate < 1000 || c->sample_rate > 384000)
        return nk_fail(NK_ERR_ARG, "sample_rate %d Hz is out of range [1000, 384000]", c->sample_rate);
    if (c->n_fft < 16 || c->n_fft > 65536)
        return nk_fail(NK_ERR_ARG, "n_fft %d is out of range [16, 65536]", c->n_fft);
    if (c->win < 1 || c->win > c->n_fft)
        return nk_fail(NK_ERR_ARG, "window length %d must be in [1, n_fft=%d]", c->win, c->n_fft);
    if (c->hop < 1) return nk_fail(NK_ERR_ARG, "hop %d must be positive", c->hop);
    if (c->kind != NK_FEAT_POWER && (c->n_mels < 1 || c->n_mels > c->n_fft / 2 + 1))
        return nk_fail(NK_ERR_ARG, "n_mels %d must be in [1, n_fft/2+1=%d]", c->n_mels, c->n_fft / 2 + 1);
    if (c->kind == NK_FEAT_MFCC && (c->n_mfcc < 1 || c->n_mfcc > c->n_mels))
        return nk_fail(NK_ERR_ARG, "n_mfcc %d must be in [1, n_mels=%d]", c->n_mfcc, c->n_mels);
    if (c->f_min < 0 || c->f_min >= f_max_of(c) || f_max_of(c) > c->sample_rate / 2.0)
        return nk_fail(NK_ERR_ARG, "mel range [%g, %g] Hz must satisfy 0 <= f_min < f_max <= %g",
                       c->f_min, f_max_of(c), c->sample_rate / 2.0);
    if (c->log == NK_LOG_NATURAL && !(c->log_offset > 0))
        return nk_fail(NK_ERR_ARG, "log offset %g must be positive", c->log_offset);
    return NK_OK;
}

static double hz_to_mel(double f, nk_mel_scale s) {
    if (s == NK_MEL_HTK) return 2595.0 * log10(1.0 + f / 700.0);
    /* Slaney: linear below 1 kHz, logarithmic above. */
    const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
    const double logstep = log(6.4) / 27.0;
    return f < min_log_hz ? f / f_sp : min_log_mel + log(f / min_log_hz) / logstep;
}

static double mel_to_hz(double m, nk_mel_scale s) {
    if (s == NK_MEL_HTK) return 700.0 * (pow(10.0, m / 2595.0) - 1.0);
    const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
    const double logstep = log(6.4) / 27.0;
    return m < min_log_mel ? f_sp * m : min_log_hz * exp(logstep * (m - min_log_mel));
}

/* Triangular filters between mel-spaced points, as torchaudio's melscale_fbanks
 * builds them: bin frequencies linspace(0, sr/2, n_freq), filter m rising from
 * f[m] to f[m+1] and falling to f[m+2]; optional Slaney area normalization. */
static void build_mel_filterbank(const nk_frontend_config *c, int n_freq, float *fb) {
    int M = c->n_mels;
    double m_lo = hz_to_mel(c->f_min, c->mel_scale), m_hi = hz_to_mel(f_max_of(c), c->mel_scale);
    double *f_pts = malloc((size_t)(M + 2) * sizeof *f_pts);
    for (int i = 0; i < M + 2; i++) f_pts[i] = mel_to_hz(m_lo + (m_hi - m_lo) * i / (M + 1), c->mel_scale);
    for (int m = 0; m < M; m++) {
        double lo = f_pts[m], mid = f_pts[m + 1], hi = f_pts[m + 2];
        double enorm = c->slaney_norm ? 2.0 / (hi - lo) : 1.0;
        for (int k = 0; k < n_freq; k++) {
            double f = (double)(c->sample_rate / 2) * k / (n_freq - 1);
            double up = (f - lo) / (mid - lo), down = (hi - f) / (hi - mid);
            double w = fmax(0.0, fmin(up, down));
            fb[(size_t)m * n_freq + k] = (float)(w * enorm);
        }
    }
    free(f_pts);
}

/* Orthonormal DCT-II: dct[k][n] = sqrt(2/N) cos(pi/N (n + 1/2) k), row 0 scaled by 1/sqrt(2). */
static void build_dct(int n_mfcc, int n_mels, float *dct) {
    for (int k = 0; k < n_mfcc; k++)
        for (int n = 0; n < n_mels; n++)
            dct[(size_t)k * n_mels + n] = (float)(cos(M_PI / n_mels * (n + 0.5) * k) *
                                                  sqrt(2.0 / n_mels) * (k == 0 ? M_SQRT1_2 : 1.0));
}

int nk_frontend_new(const nk_frontend_config *c, nk_frontend **out) {
    *out = NULL;
    int rc = nk_frontend_config_check(c);
    if (rc) return rc;
    nk_frontend *fe = calloc(1, sizeof *fe);
    if (!fe) return nk_fail(NK_ERR_NOMEM, "out of memory for the front end");
    fe->cfg = *c;
    fe->n_freq = c->n_fft / 2 + 1;
    fe->window = calloc((size_t)c->n_fft, sizeof *fe->window);
    fe->frame = fftwf_alloc_real((size_t)c->n_fft);
    fe->spectrum = fftwf_alloc_complex((size_t)fe->n_freq);
    if (c->kind != NK_FEAT_POWER) fe->mel_fb = malloc((size_t)c->n_mels * fe->n_freq * sizeof(float));
    if (c->kind == NK_FEAT_MFCC) fe->dct = malloc((size_t)c->n_mfcc * c->n_mels * sizeof(float));
    if (!fe->window || !fe->frame || !fe->spectrum || (c->kind != NK_FEAT_POWER && !fe->mel_fb) ||
        (c->kind == NK_FEAT_MFCC && !fe->dct)) {
        nk_frontend_free(fe);
        return nk_fail(NK_ERR_NOMEM, "out of memory for the front end");
    }
    /* Periodic Hann of length win, centred in the n_fft frame (torch.stft pads it). */
    int left = (c->n_fft - c->win) / 2;
    for (int i = 0; i < c->win; i++) fe->window[left + i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * i / c->win));
    if (fe->mel_fb) build_mel_filterbank(c, fe->n_freq, fe->mel_fb);
    if (fe->dct) build_dct(c->n_mfcc, c->n_mels, fe->dct);
    /* FFTW's planner is not thread-safe; executing a plan is. */
#pragma omp critical(nk_fftw_planner)
    fe->plan = fftwf_plan_dft_r2c_1d(c->n_fft, fe->frame, fe->spectrum, FFTW_ESTIMATE);
    if (!fe->plan) {
        nk_frontend_free(fe);
        return nk_fail(NK_ERR_NOMEM, "FFTW could not plan an FFT of size %d", c->n_fft);
    }
    *out = fe;
    return NK_OK;
}

void nk_frontend_free(nk_frontend *fe) {
    if (!fe) return;
    if (fe->plan) {
#pragma omp critical(nk_fftw_planner)
        fftwf_destroy_plan(fe->plan);
    }
    free(fe->window);
    fftwf_free(fe->frame);
    fftwf_free(fe->spectrum);
    free(fe->mel_fb);
    free(fe->dct);
    free(fe);
}

const nk_frontend_config *nk_frontend_config_of(const nk_frontend *fe) { return &fe->cfg; }
const float *nk_frontend_mel_filterbank(const nk_frontend *fe) { return fe->mel_fb; }

int nk_frontend_dim(const nk_frontend *fe) {
    switch (fe->cfg.kind) {
    case NK_FEAT_POWER: return fe->n_freq;
    case NK_FEAT_LOGMEL: return fe->cfg.n_mels;
    default: return fe->cfg.n_mfcc;
    }
}

size_t nk_frontend_frames(const nk_frontend *fe, size_t n_samples) {
    size_t pad = (size_t)(fe->cfg.n_fft / 2);
    return 1 + (n_samples + 2 * pad - (size_t)fe->cfg.n_fft) / (size_t)fe->cfg.hop;
}

/* Sample i of the signal extended by reflection at both ends (torch "reflect":
 * the edge sample is not repeated). Valid for -n < i < 2n - 1. */
static float reflect_at(const float *x, long n, long i) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
    return x[i];
}

/* power is (T, n_freq): |STFT|² of each frame. */
static void stft_power(nk_frontend *fe, const float *x, size_t n, size_t T, float *power) {
    int n_fft = fe->cfg.n_fft, pad = n_fft / 2;
    for (size_t t = 0; t < T; t++) {
        long start = (long)(t * (size_t)fe->cfg.hop) - pad;
        for (int i = 0; i < n_fft; i++) fe->frame[i] = fe->window[i] * reflect_at(x, (long)n, start + i);
        fftwf_execute(fe->plan);
        /* Interleaved (re, im) view: fftwf_complex may be a C99 complex here. */
        const float *s = (const float *)fe->spectrum;
        float *row = power + t * fe->n_freq;
        for (int k = 0; k < fe->n_freq; k++) row[k] = s[2 * k] * s[2 * k] + s[2 * k + 1] * s[2 * k + 1];
    }
}

static void apply_log(const nk_frontend_config *c, float *x, size_t count) {
    if (c->log == NK_LOG_NATURAL) {
        for (size_t i = 0; i < count; i++) x[i] = logf(x[i] + (float)c->log_offset);
        return;
    }
    float top = -INFINITY;
    for (size_t i = 0; i < count; i++) {
        x[i] = 10.0f * log10f(fmaxf(x[i], 1e-10f));
        top = fmaxf(top, x[i]);
    }
    if (c->top_db > 0)
        for (size_t i = 0; i < count; i++) x[i] = fmaxf(x[i], top - (float)c->top_db);
}

/* z-normalizes `rows` runs of `len` values each (len spans the whole (F,T)
 * array for per-utterance norm, one band for per-band norm). A constant run
 * (silence) is only centred: dividing by a zero deviation would invent noise. */
static void znorm_rows(float *x, size_t rows, size_t len) {
    for (size_t r = 0; r < rows; r++) {
        float *v = x + r * len;
        double sum = 0, sq = 0;
        for (size_t i = 0; i < len; i++) sum += v[i];
        double mean = sum / len;
        for (size_t i = 0; i < len; i++) sq += (v[i] - mean) * (v[i] - mean);
        double sd = sqrt(sq / len);
        double scale = sd > 1e-8 ? 1.0 / sd : 1.0;
        for (size_t i = 0; i < len; i++) v[i] = (float)((v[i] - mean) * scale);
    }
}

int nk_frontend_compute(nk_frontend *fe, const float *samples, size_t n, float *out) {
    const nk_frontend_config *c = &fe->cfg;
    if (n < 2) return nk_fail(NK_ERR_EMPTY, "audio of %zu samples is too short for features", n);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(samples[i])) return nk_fail(NK_ERR_NUMERIC, "audio sample %zu is not finite", i);
    size_t T = nk_frontend_frames(fe, n);
    int F = nk_frontend_dim(fe);
    float *power = malloc(T * fe->n_freq * sizeof *power);
    float *mel = c->kind == NK_FEAT_MFCC ? malloc((size_t)c->n_mels * T * sizeof *mel) : NULL;
    if (!power || (c->kind == NK_FEAT_MFCC && !mel)) {
        free(power);
        free(mel);
        return nk_fail(NK_ERR_NOMEM, "out of memory for %zu feature frames", T);
    }
    stft_power(fe, samples, n, T, power);
    if (c->kind == NK_FEAT_POWER) {
        for (size_t t = 0; t < T; t++)
            for (int k = 0; k < F; k++) out[(size_t)k * T + t] = power[t * fe->n_freq + k];
    } else {
        /* mel (n_mels, T) = mel_fb (n_mels, n_freq) · powerᵀ */
        float *dst = c->kind == NK_FEAT_MFCC ? mel : out;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->n_mels, (int)T, fe->n_freq, 1.0f,
                    fe->mel_fb, fe->n_freq, power, fe->n_freq, 0.0f, dst, (int)T);
        apply_log(c, dst, (size_t)c->n_mels * T);
        if (c->kind == NK_FEAT_MFCC) /* mfcc (n_mfcc, T) = dct (n_mfcc, n_mels) · mel */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->n_mfcc, (int)T, c->n_mels, 1.0f,
                        fe->dct, c->n_mels, mel, (int)T, 0.0f, out, (int)T);
    }
    free(power);
    free(mel);
    if (c->normalize == NK_NORM_UTTERANCE) znorm_rows(out, 1, (size_t)F * T);
    else if (c->normalize == NK_NORM_BAND) znorm_rows(out, (size_t)F, T);
    return NK_OK;
}

int nk_features_from_file(nk_frontend *fe, const char *path, float **out, int *F, int *T) {
    *out = NULL;
    float *pcm;
    size_t n;
    int rc = nk_audio_read(path, fe->cfg.sample_rate, &pcm, &n);
    if (rc) return rc;
    size_t frames = nk_frontend_frames(fe, n);
    *F = nk_frontend_dim(fe);
    *T = (int)frames;
    *out = malloc((size_t)*F * frames * sizeof **out);
    if (!*out) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory for features", path);
    else if ((rc = nk_frontend_compute(fe, pcm, n, *out)) != 0) {
        rc = nk_fail(rc, "%s: %s", path, nk_last_error());
        free(*out);
        *out = NULL;
    }
    free(pcm);
    return rc;
}

void nk_features_stretch(const float *x, int F, int T, float *y, int T2) {
    /* Frame t2 of y sits at position t2 · (T−1)/(T2−1) of x. */
    const double step = T2 > 1 ? (double)(T - 1) / (T2 - 1) : 0;
    for (int f = 0; f < F; f++) {
        const float *in = x + (size_t)f * T;
        float *out = y + (size_t)f * T2;
        for (int t2 = 0; t2 < T2; t2++) {
            double pos = t2 * step;
            int t = pos < T - 1 ? (int)pos : T - 1;
            out[t2] = t < T - 1 ? in[t] + (float)(pos - t) * (in[t + 1] - in[t]) : in[t];
        }
    }
}
