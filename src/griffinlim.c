/* From features back to audio: Griffin–Lim phase reconstruction (Griffin &
 * Lim 1984) and the mel → linear step through the pseudo-inverse of the
 * front end's mel filterbank.
 * The filterbank is the model's own front end's (whatever mel scale and
 * normalization it uses). */
#include "napkit/featvis.h"

#include "napkit/attrib.h"
#include "napkit/error.h"
#include "napkit/features.h"
#include "napkit/rng.h"

#include <complex.h> /* before fftw3.h: fftwf_complex is then float complex */
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Griffin–Lim ---- */

typedef struct {
    int n_fft, win, hop, T, nf;
    size_t n;                /* signal samples */
    float *w;                /* (n_fft) periodic Hann of win samples, centred */
    float *frame, *pad, *norm;
    fftwf_complex *spec;
    fftwf_plan r2c, c2r;
} stft;

static int stft_new(stft *s, int n_fft, int win, int hop, int T) {
    *s = (stft){.n_fft = n_fft, .win = win, .hop = hop, .T = T, .nf = n_fft / 2 + 1, .n = (size_t)(T - 1) * hop};
    const size_t padded = s->n + n_fft;
    s->w = calloc(n_fft, sizeof *s->w);
    s->pad = malloc(padded * sizeof *s->pad);
    s->norm = calloc(padded, sizeof *s->norm);
    s->frame = fftwf_alloc_real(n_fft);
    s->spec = fftwf_alloc_complex(s->nf);
    if (!s->w || !s->pad || !s->norm || !s->frame || !s->spec) return nk_fail(NK_ERR_NOMEM, "griffin-lim: out of memory");
    s->r2c = fftwf_plan_dft_r2c_1d(n_fft, s->frame, s->spec, FFTW_ESTIMATE);
    s->c2r = fftwf_plan_dft_c2r_1d(n_fft, s->spec, s->frame, FFTW_ESTIMATE);
    if (!s->r2c || !s->c2r) return nk_fail(NK_ERR_NOMEM, "griffin-lim: no FFTW plan for n_fft %d", n_fft);
    const int off = (n_fft - win) / 2;
    for (int j = 0; j < win; j++) s->w[off + j] = (float)(0.5 - 0.5 * cos(2 * M_PI * j / win));
    for (int t = 0; t < T; t++) // Σ w² under each output sample, for the least-squares inverse
        for (int j = 0; j < n_fft; j++) s->norm[(size_t)t * hop + j] += s->w[j] * s->w[j];
    return NK_OK;
}

static void stft_free(stft *s) {
    if (s->r2c) fftwf_destroy_plan(s->r2c);
    if (s->c2r) fftwf_destroy_plan(s->c2r);
    fftwf_free(s->frame);
    fftwf_free(s->spec);
    free(s->w), free(s->pad), free(s->norm);
}

/* Y (nf, T) complex = STFT of y (n samples) with reflect padding of n_fft/2. */
static void stft_forward(stft *s, const float *y, float complex *Y) {
    const long h = s->n_fft / 2, n = (long)s->n;
    for (long i = 0; i < n + 2 * h; i++) {
        long k = i - h;
        k = k < 0 ? -k : k >= n ? 2 * (n - 1) - k : k;
        s->pad[i] = y[k < 0 ? 0 : k >= n ? n - 1 : k];
    }
    for (int t = 0; t < s->T; t++) {
        for (int j = 0; j < s->n_fft; j++) s->frame[j] = s->pad[(size_t)t * s->hop + j] * s->w[j];
        fftwf_execute(s->r2c);
        for (int f = 0; f < s->nf; f++) Y[(size_t)f * s->T + t] = s->spec[f];
    }
}

/* y (n) = the least-squares inverse STFT of Y (windowed overlap-add / Σ w²). */
static void stft_inverse(stft *s, const float complex *Y, float *y) {
    memset(s->pad, 0, (s->n + s->n_fft) * sizeof *s->pad);
    for (int t = 0; t < s->T; t++) {
        for (int f = 0; f < s->nf; f++) s->spec[f] = Y[(size_t)f * s->T + t];
        fftwf_execute(s->c2r);
        for (int j = 0; j < s->n_fft; j++) s->pad[(size_t)t * s->hop + j] += s->frame[j] / s->n_fft * s->w[j];
    }
    for (size_t i = 0; i < s->n; i++) {
        size_t k = i + s->n_fft / 2;
        y[i] = s->norm[k] > 1e-8f ? s->pad[k] / s->norm[k] : 0;
    }
}

int nk_griffinlim(const float *mag, int n_fft, int win, int hop, int T, int iters, uint64_t seed, float *out) {
    if (T < 2 || hop < 1 || win < 1 || win > n_fft || iters < 0)
        return nk_fail(NK_ERR_ARG, "griffin-lim: needs T ≥ 2 frames, hop ≥ 1, 1 ≤ win ≤ n_fft, iterations ≥ 0");
    stft s;
    int rc = stft_new(&s, n_fft, win, hop, T);
    float complex *Y = rc ? NULL : malloc((size_t)s.nf * T * sizeof *Y);
    if (!rc && !Y) rc = nk_fail(NK_ERR_NOMEM, "griffin-lim: out of memory");
    uint64_t state = seed;
    for (size_t i = 0; !rc && i < (size_t)s.nf * T; i++) Y[i] = mag[i] * cexpf(I * (float)(M_PI * nk_rng_normal(&state)));
    for (int it = 0; !rc && it < iters; it++) { // project onto consistent spectrograms, then onto |Y| = mag
        stft_inverse(&s, Y, out);
        stft_forward(&s, out, Y);
        for (size_t i = 0; i < (size_t)s.nf * T; i++) {
            float a = cabsf(Y[i]);
            Y[i] = a > 0 ? mag[i] * Y[i] / a : mag[i];
        }
    }
    if (!rc) stft_inverse(&s, Y, out);
    free(Y);
    stft_free(&s);
    return rc;
}

/* ---- the mel filterbank and its pseudo-inverse ---- */

/* Solves the symmetric positive definite system A x = b (n × n, A overwritten
 * by its Cholesky factor; b by x), with a ridge of 1e-10 · trace/n. */
static int spd_solve(double *A, int n, double *b, int nrhs) {
    double tr = 0;
    for (int i = 0; i < n; i++) tr += A[(size_t)i * n + i];
    for (int i = 0; i < n; i++) A[(size_t)i * n + i] += 1e-10 * tr / n + 1e-300;
    for (int j = 0; j < n; j++) {
        double d = A[(size_t)j * n + j];
        for (int k = 0; k < j; k++) d -= A[(size_t)j * n + k] * A[(size_t)j * n + k];
        if (!(d > 0)) return nk_fail(NK_ERR_NUMERIC, "mel inverse: the system is not positive definite");
        A[(size_t)j * n + j] = sqrt(d);
        for (int i = j + 1; i < n; i++) {
            double v = A[(size_t)i * n + j];
            for (int k = 0; k < j; k++) v -= A[(size_t)i * n + k] * A[(size_t)j * n + k];
            A[(size_t)i * n + j] = v / A[(size_t)j * n + j];
        }
    }
    for (int r = 0; r < nrhs; r++) {
        double *x = b + (size_t)r * n;
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < i; k++) x[i] -= A[(size_t)i * n + k] * x[k];
            x[i] /= A[(size_t)i * n + i];
        }
        for (int i = n - 1; i >= 0; i--) {
            for (int k = i + 1; k < n; k++) x[i] -= A[(size_t)k * n + i] * x[k];
            x[i] /= A[(size_t)i * n + i];
        }
    }
    return NK_OK;
}

/* fb (n_mels, nf) of the front end c, in double for the solves below. */
static int front_end_filterbank(const nk_frontend_config *c, double *fb) {
    nk_frontend *fe;
    int rc = nk_frontend_new(c, &fe);
    if (rc) return rc;
    const float *f = nk_frontend_mel_filterbank(fe);
    for (size_t i = 0; i < (size_t)c->n_mels * (c->n_fft / 2 + 1); i++) fb[i] = f[i];
    nk_frontend_free(fe);
    return NK_OK;
}

/* Refines the power spectrum p (nf, T) ≥ 0 so that fb · p matches the mel
 * energies mel (M, T) in the KL sense (multiplicative updates, Lee & Seung
 * 2001): relative errors count, so quiet bands come back as well as loud ones,
 * which the clipped pseudo-inverse alone does not do. */
static void refine_power(const double *fb, int M, int nf, const double *mel, int T, int iters, float *p) {
    double *est = malloc(sizeof(double) * M), *colsum = calloc(nf, sizeof(double)), *num = malloc(sizeof(double) * nf);
    if (!est || !colsum || !num) goto out; /* the pseudo-inverse stays: still a valid answer */
    for (int m = 0; m < M; m++)
        for (int k = 0; k < nf; k++) colsum[k] += fb[(size_t)m * nf + k];
    for (int t = 0; t < T; t++) {
        double floor = 0;
        for (int m = 0; m < M; m++) floor += mel[(size_t)m * T + t] / M;
        for (int k = 0; k < nf; k++) p[(size_t)k * T + t] += (float)(1e-3 * floor / nf); /* zeros cannot grow */
        for (int it = 0; it < iters; it++) {
            for (int m = 0; m < M; m++) {
                double e = 0;
                for (int k = 0; k < nf; k++) e += fb[(size_t)m * nf + k] * p[(size_t)k * T + t];
                est[m] = e > 0 ? mel[(size_t)m * T + t] / e : 0;
            }
            for (int k = 0; k < nf; k++) num[k] = 0;
            for (int m = 0; m < M; m++)
                for (int k = 0; k < nf; k++) num[k] += fb[(size_t)m * nf + k] * est[m];
            for (int k = 0; k < nf; k++) p[(size_t)k * T + t] *= colsum[k] > 0 ? (float)(num[k] / colsum[k]) : 0;
        }
    }
out:
    free(est), free(colsum), free(num);
}

int nk_features_to_audio(const nk_arch *a, const float *x, int T, double mean, double std, int iters,
                         uint64_t seed, float **samples, size_t *n) {
    const nk_frontend_config *c = &a->frontend;
    *samples = NULL, *n = 0;
    if (c->kind != NK_FEAT_LOGMEL)
        return nk_fail(NK_ERR_ARG, "%s: only log-mel features can be rendered as audio (front end is %s)", a->name,
                       nk_feature_kind_names[c->kind]);
    if (T < 2) return nk_fail(NK_ERR_ARG, "features to audio: needs at least 2 frames");
    const int nf = c->n_fft / 2 + 1, M = c->n_mels;
    double *fb = malloc(sizeof(double) * M * nf), *FF = calloc((size_t)M * M, sizeof *FF);
    double *mel = malloc(sizeof(double) * M * T), *rhs = malloc(sizeof(double) * M * T);
    float *power = malloc(sizeof(float) * nf * T), *out = malloc(sizeof(float) * (T - 1) * c->hop);
    int rc = fb && FF && mel && rhs && power && out ? front_end_filterbank(c, fb) : nk_fail(NK_ERR_NOMEM, "out of memory");
    if (!rc) {
        for (int m = 0; m < M; m++) // mel energies (M, T); rhs holds them frame by frame for the solve
            for (int t = 0; t < T; t++) {
                double v = x[(size_t)m * T + t];
                if (c->normalize != NK_NORM_NONE) v = v * std + mean;
                v = c->log == NK_LOG_DB ? pow(10, v / 10) : exp(v) - c->log_offset;
                mel[(size_t)m * T + t] = rhs[(size_t)t * M + m] = v > 0 ? v : 0;
            }
        for (int i = 0; i < M; i++) // pinv(fb) = fbᵀ (fb fbᵀ)⁻¹
            for (int j = 0; j < M; j++) {
                double v = 0;
                for (int k = 0; k < nf; k++) v += fb[(size_t)i * nf + k] * fb[(size_t)j * nf + k];
                FF[(size_t)i * M + j] = v;
            }
        rc = spd_solve(FF, M, rhs, T);
    }
    if (!rc) {
        for (int k = 0; k < nf; k++)
            for (int t = 0; t < T; t++) {
                double p = 0;
                for (int m = 0; m < M; m++) p += fb[(size_t)m * nf + k] * rhs[(size_t)t * M + m];
                power[(size_t)k * T + t] = (float)(p > 0 ? p : 0);
            }
        refine_power(fb, M, nf, mel, T, 100, power);
        for (size_t i = 0; i < (size_t)nf * T; i++) power[i] = sqrtf(power[i]);
        rc = nk_griffinlim(power, c->n_fft, c->win, c->hop, T, iters, seed, out);
    }
    float peak = 0;
    for (size_t i = 0; !rc && i < (size_t)(T - 1) * c->hop; i++) peak = fmaxf(peak, fabsf(out[i]));
    for (size_t i = 0; !rc && peak > 0 && i < (size_t)(T - 1) * c->hop; i++) out[i] *= 0.9f / peak;
    free(fb), free(FF), free(mel), free(rhs), free(power);
    if (rc) free(out);
    else *samples = out, *n = (size_t)(T - 1) * c->hop;
    return rc;
}
