#include "napkit/audio.h"

#include "napkit/error.h"
#include "napkit/fileio.h"

#include <math.h>
#include <sndfile.h>
#include <soxr.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int nk_audio_resample(const float *in, size_t n_in, int rate_in, int rate_out, float **out,
                      size_t *n_out) {
    *out = NULL;
    *n_out = 0;
    if (rate_in <= 0 || rate_out <= 0)
        return nk_fail(NK_ERR_ARG, "cannot resample from %d Hz to %d Hz", rate_in, rate_out);
    size_t cap = (size_t)ceil((double)n_in * rate_out / rate_in) + 16;
    float *y = malloc(cap * sizeof *y);
    if (!y) return nk_fail(NK_ERR_NOMEM, "out of memory resampling %zu samples", n_in);
    if (rate_in == rate_out) {
        memcpy(y, in, n_in * sizeof *y);
        *out = y;
        *n_out = n_in;
        return NK_OK;
    }
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    size_t done = 0;
    soxr_error_t e = soxr_oneshot(rate_in, rate_out, 1, in, n_in, NULL, y, cap, &done, &io, &q, NULL);
    if (e) {
        free(y);
        return nk_fail(NK_ERR_NUMERIC, "resampling %d Hz to %d Hz failed: %s", rate_in, rate_out, e);
    }
    *out = y;
    *n_out = done;
    return NK_OK;
}

/* libsndfile quietly shortens a WAV/AIFF whose data chunk runs past the end
 * of the file, noting "data : 32000 (should be 10000)" in its log. Such a file
 * was cut off (a crashed copy, a partial download): report it as truncated. */
static int data_chunk_truncated(SNDFILE *sf, long long *declared, long long *present) {
    char log[8192];
    sf_command(sf, SFC_GET_LOG_INFO, log, sizeof log);
    for (const char *p = log; (p = strstr(p, "data :")) != NULL; p++) {
        if (sscanf(p, "data : %lld (should be %lld)", declared, present) == 2 && *present < *declared)
            return 1;
    }
    return 0;
}

int nk_audio_read(const char *path, int sample_rate, float **samples, size_t *n) {
    *samples = NULL;
    *n = 0;
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf) return nk_fail(NK_ERR_FORMAT, "%s: cannot read audio: %s", path, sf_strerror(NULL));
    if (info.frames <= 0 || info.channels <= 0 || info.samplerate <= 0) {
        sf_close(sf);
        return nk_fail(NK_ERR_EMPTY, "%s: no audio samples in file", path);
    }
    long long declared, present;
    if (data_chunk_truncated(sf, &declared, &present)) {
        sf_close(sf);
        return nk_fail(NK_ERR_FORMAT, "%s: truncated audio (data chunk declares %lld bytes, file holds %lld)",
                       path, declared, present);
    }
    /* Some formats (MP3) report an estimated length; read in blocks until EOF. */
    size_t ch = (size_t)info.channels, cap = (size_t)info.frames, got = 0;
    float *mono = malloc(cap * sizeof *mono), *block = malloc(4096 * ch * sizeof *block);
    for (;;) {
        if (!mono || !block) {
            free(mono);
            free(block);
            sf_close(sf);
            return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
        }
        sf_count_t r = sf_readf_float(sf, block, 4096);
        if (r <= 0) break;
        if (got + (size_t)r > cap) {
            cap = 2 * (got + (size_t)r);
            float *grown = realloc(mono, cap * sizeof *mono);
            if (!grown) free(mono);
            mono = grown;
            if (!mono) continue;
        }
        for (sf_count_t i = 0; i < r; i++) {
            double s = 0;
            for (size_t c = 0; c < ch; c++) s += block[i * ch + c];
            mono[got + i] = (float)(s / ch);
        }
        got += (size_t)r;
    }
    free(block);
    int sferr = sf_error(sf);
    const char *sfmsg = sf_strerror(sf);
    char reason[256];
    snprintf(reason, sizeof reason, "%s", sfmsg);
    sf_close(sf);
    if (sferr != SF_ERR_NO_ERROR) {
        free(mono);
        return nk_fail(NK_ERR_FORMAT, "%s: cannot decode audio: %s", path, reason);
    }
    if (got == 0) {
        free(mono);
        return nk_fail(NK_ERR_EMPTY, "%s: no audio samples in file", path);
    }
    /* A header that promises more frames than the file holds means truncation.
     * MP3 lengths are only estimates, so they are not held to it. */
    if ((info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG && got < (size_t)info.frames) {
        free(mono);
        return nk_fail(NK_ERR_FORMAT, "%s: truncated audio (read %zu of %lld frames)", path, got,
                       (long long)info.frames);
    }
    for (size_t i = 0; i < got; i++) {
        if (!isfinite(mono[i])) {
            free(mono);
            return nk_fail(NK_ERR_NUMERIC, "%s: sample %zu is not finite", path, i);
        }
    }
    if (info.samplerate == sample_rate) {
        *samples = mono;
        *n = got;
        return NK_OK;
    }
    int rc = nk_audio_resample(mono, got, info.samplerate, sample_rate, samples, n);
    free(mono);
    if (rc) return nk_fail(rc, "%s: %s", path, nk_last_error());
    return NK_OK;
}

static int format_for(const char *path) {
    const char *dot = strrchr(path, '.');
    if (dot && !strcasecmp(dot, ".wav")) return SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    if (dot && !strcasecmp(dot, ".flac")) return SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
    if (dot && !strcasecmp(dot, ".ogg")) return SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    return 0;
}

int nk_audio_write(const char *path, const float *samples, size_t n, int sample_rate) {
    SF_INFO info = {.samplerate = sample_rate, .channels = 1, .format = format_for(path)};
    if (!info.format)
        return nk_fail(NK_ERR_ARG, "%s: unknown audio extension (use .wav, .flac or .ogg)", path);
    nk_outfile f;
    int rc = nk_outfile_open(&f, path, 0);
    if (rc) return rc;
    SNDFILE *sf = sf_open(f.tmp_path, SFM_WRITE, &info);
    if (!sf) {
        rc = nk_fail(NK_ERR_IO, "%s: cannot write audio: %s", path, sf_strerror(NULL));
        nk_outfile_abort(&f);
        return rc;
    }
    /* Clip instead of wrapping when converting to 16-bit integers. */
    sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    sf_count_t w = sf_write_float(sf, samples, (sf_count_t)n);
    int bad = w != (sf_count_t)n;
    if (sf_close(sf) != 0 || bad) {
        nk_outfile_abort(&f);
        return nk_fail(NK_ERR_IO, "%s: cannot write audio", path);
    }
    return nk_outfile_commit(&f);
}
