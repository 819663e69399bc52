/* Model files: save/load round trip, torchaudio import (a file written by the
 * fixture script's own safetensors writer), and bad files. */
#include "check.h"
#include "napkit/napkit.h"
#include "napkit/model.h"
#include "napkit/safetensors.h"

/* The three convs of tiny_torchaudio.safetensors: 3→4 k5, 4→5 k3, 5→4 k1. */
static const char tiny_json[] =
    "{\"name\": \"tiny\", \"alphabet\": [\"_\", \" \", \"a\", \"b\"],"
    " \"frontend\": {\"kind\": \"logmel\", \"n_mels\": 3},"
    " \"layers\": [{\"type\": \"conv1d\", \"in\": 3, \"out\": 4, \"kernel\": 5, \"padding\": 2},"
    "  {\"type\": \"conv1d\", \"in\": 4, \"out\": 5, \"kernel\": 3, \"stride\": 2},"
    "  {\"type\": \"conv1d\", \"in\": 5, \"out\": 4, \"kernel\": 1, \"activation\": \"none\"}]}";
#define TINY_TA "tests/fixtures/wav2letter/tiny_torchaudio.safetensors"

static void test_import_torchaudio(void) {
    nk_arch a;
    nk_model *m;
    CHECK_OK(nk_arch_parse(tiny_json, "tiny", &a));
    CHECK_OK(nk_model_import(&a, TINY_TA, 1, &m));
    nk_array want;
    CHECK_OK(nk_npy_read_f32("tests/fixtures/wav2letter/tiny_params.npy", &want));
    CHECK(nk_array_count(&want) == nk_model_param_count(m));
    CHECK(!memcmp(want.data, nk_model_params(m), nk_model_param_count(m) * 4));
    nk_array_free(&want);
    nk_model_free(m);
    /* The same file under napkit's names is missing its tensors. */
    CHECK(nk_model_import(&a, TINY_TA, 0, &m) == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), "layers.0.weight") && strstr(nk_last_error(), "missing"));
    nk_arch_free(&a);
    /* A different layer count or shape is refused. */
    const char *two = "{\"name\": \"two\", \"alphabet\": [\"_\", \" \", \"a\", \"b\"],"
                      " \"frontend\": {\"kind\": \"logmel\", \"n_mels\": 3},"
                      " \"layers\": [{\"type\": \"conv1d\", \"in\": 3, \"out\": 4, \"kernel\": 5}]}";
    CHECK_OK(nk_arch_parse(two, "two", &a));
    CHECK(nk_model_import(&a, TINY_TA, 1, &m) == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), "holds 3 convolutions but the architecture has 1 layers"));
    nk_arch_free(&a);
    const char *wide = "{\"name\": \"wide\", \"alphabet\": [\"_\", \" \", \"a\", \"b\"],"
                       " \"frontend\": {\"kind\": \"logmel\", \"n_mels\": 3},"
                       " \"layers\": [{\"type\": \"conv1d\", \"in\": 3, \"out\": 4, \"kernel\": 7},"
                       "  {\"type\": \"conv1d\", \"in\": 4, \"out\": 5, \"kernel\": 3},"
                       "  {\"type\": \"conv1d\", \"in\": 5, \"out\": 4, \"kernel\": 1}]}";
    CHECK_OK(nk_arch_parse(wide, "wide", &a));
    CHECK(nk_model_import(&a, TINY_TA, 1, &m) == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), "shape (4, 3, 5), expected (4, 3, 7)"));
    nk_arch_free(&a);
}

/* torchaudio names in unusual shapes: the waveform model's nested
 * acoustic_model.0.0 / acoustic_model.1.N, a missing bias, a stray tensor. */
static void test_import_names(void) {
    nk_arch a;
    nk_model *m;
    CHECK_OK(nk_arch_parse(tiny_json, "tiny", &a));
    float w0[60], b0[4], w1[60], b1[5], w2[20], b2[4];
    for (int i = 0; i < 60; i++) w0[i] = i, w1[i] = 100 + i;
    for (int i = 0; i < 20; i++) w2[i] = 200 + i;
    for (int i = 0; i < 4; i++) b0[i] = -i, b2[i] = -200 - i;
    for (int i = 0; i < 5; i++) b1[i] = -100 - i;
    nk_st_entry e[7] = {
        {.name = "acoustic_model.1.10.weight", .ndim = 3, .shape = {4, 5, 1}, .data = w2},
        {.name = "acoustic_model.1.2.weight", .ndim = 3, .shape = {5, 4, 3}, .data = w1},
        {.name = "acoustic_model.0.0.weight", .ndim = 3, .shape = {4, 3, 5}, .data = w0},
        {.name = "acoustic_model.1.2.bias", .ndim = 1, .shape = {5}, .data = b1},
        {.name = "acoustic_model.0.0.bias", .ndim = 1, .shape = {4}, .data = b0},
        {.name = "acoustic_model.1.10.bias", .ndim = 1, .shape = {4}, .data = b2},
        {.name = "decoder.weight", .ndim = 1, .shape = {4}, .data = b2},
    };
    char *path = nk_path_join(check_tmpdir(), "nested.safetensors");
    CHECK_OK(nk_st_write(path, e, 6, NULL, 0));
    CHECK_OK(nk_model_import(&a, path, 1, &m));
    /* 1.10 sorts after 1.2 numerically, not as text. */
    const float *p = nk_model_params(m);
    CHECK(p[0] == 0 && p[60] == 0 && p[63] == -3 && p[64] == 100 && p[124] == -100);
    CHECK(p[nk_model_layer_offset(m, 2)] == 200 && p[nk_model_param_count(m) - 1] == -203);
    nk_model_free(m);
    CHECK_OK(nk_st_write(path, e, 7, NULL, 0));
    CHECK(nk_model_import(&a, path, 1, &m) == NK_ERR_FORMAT && strstr(nk_last_error(), "decoder.weight"));
    CHECK_OK(nk_st_write(path, e, 5, NULL, 0));
    CHECK(nk_model_import(&a, path, 1, &m) == NK_ERR_FORMAT && strstr(nk_last_error(), "lacks its bias"));
    free(path);
    nk_arch_free(&a);
}

static void test_save_load(void) {
    nk_arch a;
    nk_model *m, *back;
    CHECK_OK(nk_arch_load("models/arch/small-de.json", &a));
    CHECK_OK(nk_model_new(&a, &m));
    nk_model_init(m, 99);
    char *path = nk_path_join(check_tmpdir(), "small-de.safetensors");
    CHECK_OK(nk_model_save(m, path));
    CHECK_OK(nk_model_load(path, &back));
    CHECK(nk_model_param_count(back) == nk_model_param_count(m));
    CHECK(!memcmp(nk_model_params(back), nk_model_params(m), nk_model_param_count(m) * 4));
    char *j1 = nk_arch_to_json(nk_model_arch(m)), *j2 = nk_arch_to_json(nk_model_arch(back));
    CHECK(!strcmp(j1, j2));
    CHECK(!strcmp(nk_model_arch(back)->alphabet[32], "ß"));
    free(j1), free(j2);
    nk_model_free(back);

    /* Plain weights without the architecture are not a model file. */
    CHECK(nk_model_load(TINY_TA, &back) == NK_ERR_FORMAT && strstr(nk_last_error(), "napkit.arch"));
    /* Truncated model file. */
    char *bytes;
    size_t size;
    CHECK_OK(nk_read_file(path, &bytes, &size));
    CHECK_OK(nk_write_file(path, bytes, size - 100));
    CHECK(nk_model_load(path, &back) == NK_ERR_FORMAT && strstr(nk_last_error(), path));
    free(bytes);
    free(path);
    nk_model_free(m);
    nk_arch_free(&a);
}

/* The tiny architecture with zero weights, or the torchaudio fixture's. */
static nk_model *tiny_model(int imported) {
    nk_arch a;
    nk_model *m = NULL;
    CHECK_OK(nk_arch_parse(tiny_json, "tiny", &a));
    CHECK_OK(imported ? nk_model_import(&a, TINY_TA, 1, &m) : nk_model_new(&a, &m));
    nk_arch_free(&a);
    CHECK(isnan(nk_model_onset_delay(m))); /* new and imported weights have no delay */
    return m;
}

/* The tiny model with the given delay, saved to name. */
static char *tiny_with_delay(const char *name, double delay) {
    nk_model *m = tiny_model(1);
    nk_model_set_onset_delay(m, delay);
    char *path = nk_path_join(check_tmpdir(), name);
    CHECK_OK(nk_model_save(m, path));
    nk_model_free(m);
    return path;
}

/* The delay's metadata text in a file, or NULL. malloc'd. */
static char *delay_text(const char *path) {
    nk_safetensors *st;
    if (nk_st_open(path, &st)) return NULL;
    const char *v = nk_st_metadata(st, "napkit.onset_delay");
    char *copy = v ? strdup(v) : NULL;
    nk_st_close(st);
    return copy;
}

static void test_onset_delay_round_trip(void) {
    nk_model *m = tiny_model(0), *back;
    char *path = nk_path_join(check_tmpdir(), "no-delay.safetensors");
    CHECK_OK(nk_model_save(m, path));
    char *text = delay_text(path);
    CHECK(text == NULL); /* nothing written when unknown */
    CHECK_OK(nk_model_load(path, &back));
    CHECK(isnan(nk_model_onset_delay(back)));
    nk_model_free(back);
    free(text), free(path), nk_model_free(m);

    /* stored as the shortest exact decimal; load and load_extra both read it */
    path = tiny_with_delay("delay.safetensors", 0.121);
    text = delay_text(path);
    CHECK(text && !strcmp(text, "0.121"));
    CHECK_OK(nk_model_load(path, &back));
    CHECK(nk_model_onset_delay(back) == 0.121);
    nk_model_free(back);
    nk_safetensors *st;
    CHECK_OK(nk_model_load_extra(path, &back, &st));
    CHECK(nk_model_onset_delay(back) == 0.121);
    nk_st_close(st), nk_model_free(back);
    free(text), free(path);
    path = tiny_with_delay("odd-delay.safetensors", 1.0 / 3);
    CHECK_OK(nk_model_load(path, &back));
    CHECK(nk_model_onset_delay(back) == 1.0 / 3);
    nk_model_free(back);
    free(path);
}

static void test_onset_delay_malformed(void) {
    nk_model *m = tiny_model(0), *back;
    char *path = nk_path_join(check_tmpdir(), "bad-delay.safetensors");
    static const char *const bad[] = {"121 ms", "", "nan", "inf", "11", "0.1x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *meta[2] = {"napkit.onset_delay", bad[i]};
        CHECK_OK(nk_model_save_extra(m, path, NULL, 0, meta, 1));
        back = NULL;
        CHECK(nk_model_load(path, &back) == NK_ERR_FORMAT && back == NULL);
        CHECK(strstr(nk_last_error(), path) && strstr(nk_last_error(), "napkit.onset_delay") &&
              strstr(nk_last_error(), "not an onset delay in seconds"));
        nk_safetensors *st = NULL;
        CHECK(nk_model_load_extra(path, &back, &st) == NK_ERR_FORMAT && back == NULL && st == NULL);
    }
    const char *meta[2] = {"napkit.onset_delay", "-0.02"}; /* early spikes are odd but valid */
    CHECK_OK(nk_model_save_extra(m, path, NULL, 0, meta, 1));
    CHECK_OK(nk_model_load(path, &back));
    CHECK(nk_model_onset_delay(back) == -0.02);
    nk_model_free(back);
    free(path);
    nk_model_free(m);
}

/* Setting the delay in a file keeps everything else: other metadata, extra
 * tensors (a checkpoint's), the weights. */
static void test_onset_delay_in_file(void) {
    nk_model *m = tiny_model(1), *back;
    float extra_data[3] = {1, 2, 3};
    nk_st_entry extra = {.name = "adam.m", .ndim = 1, .shape = {3}, .data = extra_data};
    const char *meta[2] = {"napkit.training", "{\"epochs\": 3}"};
    char *path = nk_path_join(check_tmpdir(), "kept.safetensors");
    CHECK_OK(nk_model_save_extra(m, path, &extra, 1, meta, 1));
    CHECK_OK(nk_model_file_set_onset_delay(path, 0.039));
    nk_safetensors *st;
    CHECK_OK(nk_model_load_extra(path, &back, &st));
    CHECK(nk_model_onset_delay(back) == 0.039);
    CHECK(!memcmp(nk_model_params(back), nk_model_params(m), nk_model_param_count(m) * 4));
    CHECK(st && nk_st_metadata(st, "napkit.training") && !strcmp(nk_st_metadata(st, "napkit.training"), "{\"epochs\": 3}"));
    float got[3] = {0};
    long shape[1] = {3};
    CHECK_OK(nk_st_read_f32(st, "adam.m", 1, shape, got));
    CHECK(!memcmp(got, extra_data, sizeof got));
    nk_st_close(st), nk_model_free(back);
    /* NAN removes it */
    CHECK_OK(nk_model_file_set_onset_delay(path, NAN));
    char *text = delay_text(path);
    CHECK(text == NULL);
    CHECK_OK(nk_model_load_extra(path, &back, &st));
    CHECK(isnan(nk_model_onset_delay(back)) && nk_st_metadata(st, "napkit.training"));
    nk_st_close(st), nk_model_free(back);
    /* only model files, only sane delays; the file stays as it was */
    char *before, *after;
    size_t n_before, n_after;
    CHECK_OK(nk_read_file(TINY_TA, &before, &n_before));
    CHECK(nk_model_file_set_onset_delay(TINY_TA, 0.1) == NK_ERR_FORMAT && strstr(nk_last_error(), "napkit.arch"));
    CHECK_OK(nk_read_file(TINY_TA, &after, &n_after));
    CHECK(n_before == n_after && !memcmp(before, after, n_after));
    CHECK(nk_model_file_set_onset_delay(path, 12) == NK_ERR_ARG && strstr(nk_last_error(), path));
    free(before), free(after), free(text), free(path);
    nk_model_free(m);
}

int main(void) {
    RUN(test_import_torchaudio);
    RUN(test_import_names);
    RUN(test_save_load);
    RUN(test_onset_delay_round_trip);
    RUN(test_onset_delay_malformed);
    RUN(test_onset_delay_in_file);
    return check_summary();
}
