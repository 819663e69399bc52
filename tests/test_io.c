/* .npy round trips, atomic files, and audio input including broken files. */
#include "check.h"

#include "napkit/napkit.h"

#include <sndfile.h>
#include <stdint.h>
#include <unistd.h>

static char *tmp(const char *name) { return nk_path_join(check_tmpdir(), name); }

static void test_npy_round_trip(void) {
    char *p = tmp("a.npy");
    float f[6] = {1, -2, 3.5f, 4, 5, 6e-7f};
    double d[3] = {1e300, -0.5, 2};
    int32_t i[4] = {-1, 0, 7, 2147483647};
    long s23[2] = {2, 3}, s3[1] = {3}, s4[3] = {1, 2, 2};
    nk_array a;
    CHECK_OK(nk_npy_write(p, NK_F32, 2, s23, f));
    CHECK_OK(nk_npy_read(p, &a));
    CHECK(a.dtype == NK_F32 && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3);
    CHECK(memcmp(a.data, f, sizeof f) == 0);
    nk_array_free(&a);
    CHECK_OK(nk_npy_write(p, NK_F64, 1, s3, d));
    CHECK_OK(nk_npy_read(p, &a));
    CHECK(a.dtype == NK_F64 && a.ndim == 1 && a.shape[0] == 3 && memcmp(a.data, d, sizeof d) == 0);
    nk_array_free(&a);
    CHECK_OK(nk_npy_write(p, NK_I32, 3, s4, i));
    CHECK_OK(nk_npy_read_f32(p, &a));
    CHECK(a.dtype == NK_F32 && a.ndim == 3 && ((float *)a.data)[2] == 7.0f);
    nk_array_free(&a);
    /* Scalars have shape (). */
    CHECK_OK(nk_npy_write(p, NK_F32, 0, NULL, f));
    CHECK_OK(nk_npy_read(p, &a));
    CHECK(a.ndim == 0 && nk_array_count(&a) == 1 && ((float *)a.data)[0] == 1.0f);
    nk_array_free(&a);
    /* The header is padded to 64 bytes as NumPy writes it. */
    char *raw;
    size_t size;
    CHECK_OK(nk_read_file(p, &raw, &size));
    size_t hlen = (unsigned char)raw[8] | (size_t)(unsigned char)raw[9] << 8;
    CHECK((10 + hlen) % 64 == 0 && raw[10 + hlen - 1] == '\n');
    free(raw);
    free(p);
}

static void test_npy_rejects_malformed(void) {
    char *p = tmp("bad.npy");
    nk_array a;
    CHECK(nk_npy_read("/nonexistent/x.npy", &a) == NK_ERR_IO);
    CHECK(strstr(nk_last_error(), "/nonexistent/x.npy") != NULL);
    CHECK_OK(nk_write_file(p, "hello world", 11));
    CHECK(nk_npy_read(p, &a) == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), "bad magic") != NULL);
    /* Truncated data: shape promises 100 floats. */
    float f[100] = {0};
    long s[1] = {100};
    CHECK_OK(nk_npy_write(p, NK_F32, 1, s, f));
    CHECK_OK(truncate(p, 128 + 40));
    CHECK(nk_npy_read(p, &a) == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), "truncated") != NULL);
    /* Unsupported dtype and Fortran order. */
    const char *hdrs[] = {"{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }",
                          "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }",
                          "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
                          "{'descr': '<f4', 'fortran_order': False, 'shape': (x,), }"};
    for (int k = 0; k < 4; k++) {
        char buf[128] = "\x93NUMPY\x01\x00";
        size_t n = strlen(hdrs[k]);
        buf[8] = (char)n;
        buf[9] = 0;
        memcpy(buf + 10, hdrs[k], n);
        memset(buf + 10 + n, 0, 8);
        CHECK_OK(nk_write_file(p, buf, 10 + n + 8));
        CHECK(nk_npy_read(p, &a) == NK_ERR_FORMAT);
    }
    /* NaN is refused where float input is expected. */
    f[3] = NAN;
    CHECK_OK(nk_npy_write(p, NK_F32, 1, s, f));
    CHECK(nk_npy_read_f32(p, &a) == NK_ERR_NUMERIC);
    CHECK_OK(nk_npy_read_f32_nan(p, &a));
    CHECK(a.dtype == NK_F32 && isnan(((float *)a.data)[3]));
    nk_array_free(&a);
    free(p);
}

/* An aborted output leaves neither the target nor a temporary behind. */
static void test_atomic_output(void) {
    char *p = tmp("atomic.txt");
    CHECK_OK(nk_write_file(p, "old", 3));
    nk_outfile f;
    CHECK_OK(nk_outfile_open(&f, p, 1));
    fputs("new but unfinished", f.fp);
    char *tmp_path = strdup(f.tmp_path);
    CHECK(access(tmp_path, F_OK) == 0);
    nk_outfile_abort(&f);
    CHECK(access(tmp_path, F_OK) != 0);
    char *s;
    CHECK_OK(nk_read_file(p, &s, NULL));
    CHECK(strcmp(s, "old") == 0);
    free(s);
    free(tmp_path);
    CHECK(nk_write_file("/nonexistent-dir/x", "a", 1) == NK_ERR_IO);
    char *deep = tmp("d1/d2/d3");
    CHECK_OK(nk_mkdirs(deep));
    CHECK(access(deep, F_OK) == 0);
    free(deep);
    free(p);
}

static void write_wav(const char *path, int rate, int channels, const float *x, long frames, int fmt) {
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = SF_FORMAT_WAV | fmt};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (sf) {
        sf_writef_float(sf, x, frames);
        sf_close(sf);
    }
}

static void test_audio_mix_and_resample(void) {
    char *p = tmp("stereo48k.wav");
    long n = 48000;
    float *x = malloc(2 * n * sizeof *x);
    /* Left 1 kHz, right silent: the mono mix is half the sine. */
    for (long i = 0; i < n; i++) {
        x[2 * i] = 0.8f * sinf(2 * (float)M_PI * 1000.0f * i / 48000.0f);
        x[2 * i + 1] = 0.0f;
    }
    write_wav(p, 48000, 2, x, n, SF_FORMAT_FLOAT);
    float *y;
    size_t m;
    CHECK_OK(nk_audio_read(p, 16000, &y, &m));
    CHECK(m >= 15990 && m <= 16010);
    /* Away from the edges the resampled signal is the 1 kHz sine at 0.4. */
    double err = 0;
    for (size_t i = 1000; i < 15000; i++)
        err = fmax(err, fabs(y[i] - 0.4 * sin(2 * M_PI * 1000.0 * i / 16000.0)));
    CHECK(err < 1e-3);
    free(y);
    free(x);
    free(p);
}

static void test_audio_write_read(void) {
    float x[1600];
    for (int i = 0; i < 1600; i++) x[i] = 0.5f * sinf(0.1f * i);
    const char *names[] = {"w.wav", "w.flac", "w.ogg"};
    for (int k = 0; k < 3; k++) {
        char *p = tmp(names[k]);
        CHECK_OK(nk_audio_write(p, x, 1600, 16000));
        float *y;
        size_t m;
        CHECK_OK(nk_audio_read(p, 16000, &y, &m));
        if (k < 2) { /* lossless PCM16 */
            CHECK(m == 1600);
            for (int i = 0; i < 1600 && i < (int)m; i++) CHECK_NEAR(y[i], x[i], 1.0 / 32768 + 1e-6);
        } else {
            CHECK(m >= 1500);
        }
        free(y);
        free(p);
    }
    CHECK(nk_audio_write("/tmp/x.mp4", x, 10, 16000) == NK_ERR_ARG);
}

static void test_audio_bad_files(void) {
    float *y;
    size_t m;
    CHECK(nk_audio_read("/nonexistent/a.wav", 16000, &y, &m) != 0);
    CHECK(strstr(nk_last_error(), "/nonexistent/a.wav") != NULL);

    char *empty = tmp("empty.wav");
    CHECK_OK(nk_write_file(empty, "", 0));
    CHECK(nk_audio_read(empty, 16000, &y, &m) != 0);
    CHECK(strstr(nk_last_error(), "empty.wav") != NULL);

    char *garbage = tmp("garbage.flac");
    CHECK_OK(nk_write_file(garbage, "RIFF....this is not audio at all", 32));
    CHECK(nk_audio_read(garbage, 16000, &y, &m) != 0);
    CHECK(strstr(nk_last_error(), "garbage.flac") != NULL);

    /* A valid header with zero frames. */
    char *zero = tmp("zero.wav");
    write_wav(zero, 16000, 1, NULL, 0, SF_FORMAT_PCM_16);
    CHECK(nk_audio_read(zero, 16000, &y, &m) == NK_ERR_EMPTY);
    CHECK(strstr(nk_last_error(), "zero.wav") != NULL);

    /* Truncated: the header promises 16000 frames, the file holds fewer. */
    char *cut = tmp("cut.wav");
    float x[16000] = {0};
    write_wav(cut, 16000, 1, x, 16000, SF_FORMAT_PCM_16);
    CHECK_OK(truncate(cut, 44 + 2 * 5000));
    int rc = nk_audio_read(cut, 16000, &y, &m);
    CHECK(rc == NK_ERR_FORMAT);
    if (rc == NK_OK) free(y);
    CHECK(strstr(nk_last_error(), "truncated") != NULL);

    /* A FLAC stream cut in the middle: fewer frames decode than STREAMINFO promises. */
    char *cutflac = tmp("cut.flac");
    float *noise = malloc(48000 * sizeof *noise);
    for (int i = 0; i < 48000; i++) noise[i] = 0.3f * sinf(0.37f * i) * sinf(0.0013f * i);
    CHECK_OK(nk_audio_write(cutflac, noise, 48000, 16000));
    CHECK_OK(truncate(cutflac, 20000));
    rc = nk_audio_read(cutflac, 16000, &y, &m);
    CHECK(rc != NK_OK);
    if (rc == NK_OK) free(y);
    CHECK(strstr(nk_last_error(), "cut.flac") != NULL);
    free(noise);
    free(cutflac);

    /* NaN samples in a float WAV. */
    char *nan = tmp("nan.wav");
    x[100] = NAN;
    write_wav(nan, 16000, 1, x, 16000, SF_FORMAT_FLOAT);
    CHECK(nk_audio_read(nan, 16000, &y, &m) == NK_ERR_NUMERIC);
    free(empty);
    free(garbage);
    free(zero);
    free(cut);
    free(nan);
}

/* Real recordings in the shared corpora: MP3 at 48 kHz and Ogg Vorbis. */
static void test_audio_real_formats(void) {
    const char *files[] = {"../shared/corpora/de/commonvoice-sample/clips/common_voice_de_17332094.mp3",
                           "../shared/corpora/en/kathleen/data/arctic_a0001_1592748574.ogg"};
    for (int k = 0; k < 2; k++) {
        if (access(files[k], R_OK) != 0) {
            fprintf(stderr, "skipping %s: not present\n", files[k]);
            continue;
        }
        float *y;
        size_t m;
        CHECK_OK(nk_audio_read(files[k], 16000, &y, &m));
        CHECK(m > 16000 / 2); /* every clip is longer than half a second */
        double peak = 0;
        for (size_t i = 0; i < m; i++) peak = fmax(peak, fabs(y[i]));
        CHECK(peak > 0.01 && peak <= 1.5);
        free(y);
    }
}

/* Prefixing the previous message with nk_fail must not garble it. */
static void test_error_prefix(void) {
    nk_fail(NK_ERR_IO, "inner reason %d", 42);
    CHECK(nk_fail(NK_ERR_FORMAT, "%s: %s", "outer.wav", nk_last_error()) == NK_ERR_FORMAT);
    CHECK(strcmp(nk_last_error(), "outer.wav: inner reason 42") == 0);
    CHECK(strcmp(nk_strerror(NK_ERR_FORMAT), "malformed or unsupported file") == 0);
}

int main(void) {
    RUN(test_error_prefix);
    RUN(test_npy_round_trip);
    RUN(test_npy_rejects_malformed);
    RUN(test_atomic_output);
    RUN(test_audio_mix_and_resample);
    RUN(test_audio_write_read);
    RUN(test_audio_bad_files);
    RUN(test_audio_real_formats);
    return check_summary();
}
