/* safetensors: round trip, a file from an independent writer (the fixture
 * script), every kind of malformed file, and random corruption that must be
 * rejected cleanly, never crash. */
#include "check.h"
#include "napkit/napkit.h"
#include "napkit/safetensors.h"

#include <stdint.h>

/* A file image: 8-byte length, header text as given, then data_len bytes 0..255. */
static unsigned char *image(const char *header, size_t data_len, size_t *size) {
    size_t h = strlen(header);
    *size = 8 + h + data_len;
    unsigned char *b = malloc(*size);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    for (size_t i = 0; i < data_len; i++) b[8 + h + i] = (unsigned char)i;
    return b;
}

/* The header's length, from a file's first 8 bytes. */
static uint64_t header_len(const char *path) {
    char *bytes;
    uint64_t h = 0;
    if (nk_read_file(path, &bytes, NULL)) return 0;
    for (int i = 7; i >= 0; i--) h = h << 8 | (unsigned char)bytes[i];
    free(bytes);
    return h;
}

static void test_round_trip(void) {
    float a[6] = {1, -2, 3.5f, 0, 1e-30f, 7}, b[3] = {9, 8, 7};
    nk_st_entry e[3] = {{.name = "first", .ndim = 2, .shape = {2, 3}, .data = a},
                        {.name = "empty", .ndim = 1, .shape = {0}, .data = NULL},
                        {.name = "second", .ndim = 1, .shape = {3}, .data = b}};
    const char *meta[] = {"k1", "v1", "napkit.arch", "{\"x\": [1, 2]}"};
    char *path = nk_path_join(check_tmpdir(), "rt.safetensors");
    CHECK_OK(nk_st_write(path, e, 3, meta, 2));
    nk_safetensors *st;
    CHECK_OK(nk_st_open(path, &st));
    CHECK(nk_st_count(st) == 3);
    CHECK(!strcmp(nk_st_metadata(st, "k1"), "v1"));
    CHECK(!strcmp(nk_st_metadata(st, "napkit.arch"), "{\"x\": [1, 2]}"));
    CHECK(nk_st_metadata(st, "missing") == NULL);
    float got[6];
    long s23[2] = {2, 3}, s3[1] = {3}, s32[2] = {3, 2};
    CHECK_OK(nk_st_read_f32(st, "first", 2, s23, got));
    CHECK(!memcmp(got, a, sizeof a));
    CHECK_OK(nk_st_read_f32(st, "second", 1, s3, got));
    CHECK(!memcmp(got, b, sizeof b));
    CHECK(nk_st_find(st, "empty")->nbytes == 0);
    CHECK(nk_st_read_f32(st, "first", 2, s32, got) == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), "shape (2, 3), expected (3, 2)") && strstr(nk_last_error(), path));
    CHECK(nk_st_read_f32(st, "third", 1, s3, got) == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), "missing"));
    nk_st_close(st);
    /* The data starts 8-byte aligned, as the reference writer lays it out. */
    char *bytes;
    size_t size;
    CHECK_OK(nk_read_file(path, &bytes, &size));
    uint64_t h = header_len(path);
    CHECK((8 + h) % 8 == 0 && size == 8 + h + 9 * 4);
    free(bytes);
    free(path);
}

/* Setting one metadata value rewrites the header only: tensors of any dtype
 * and the other keys carry over. */
static void test_set_metadata(void) {
    size_t size;
    unsigned char *b = image("{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                             "\"i\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[6,8]}}", 8, &size);
    char *path = nk_path_join(check_tmpdir(), "meta.safetensors");
    CHECK_OK(nk_write_file(path, b, size));
    CHECK_OK(nk_st_set_metadata(path, "k", "v"));
    CHECK_OK(nk_st_set_metadata(path, "other", "o"));
    CHECK_OK(nk_st_set_metadata(path, "k", "w"));
    nk_safetensors *st;
    CHECK_OK(nk_st_open(path, &st));
    CHECK(nk_st_metadata(st, "k") && !strcmp(nk_st_metadata(st, "k"), "w"));
    CHECK(nk_st_metadata(st, "other") && !strcmp(nk_st_metadata(st, "other"), "o"));
    const nk_st_tensor *h = nk_st_find(st, "h"), *u = nk_st_find(st, "i");
    CHECK(h && h->nbytes == 6 && !memcmp(h->data, b + size - 8, 6));
    CHECK(u && u->nbytes == 2 && !memcmp(u->data, b + size - 2, 2));
    nk_st_close(st);
    CHECK((8 + header_len(path)) % 8 == 0);
    CHECK_OK(nk_st_set_metadata(path, "k", NULL));
    CHECK_OK(nk_st_open(path, &st));
    CHECK(nk_st_metadata(st, "k") == NULL && nk_st_metadata(st, "other") && nk_st_count(st) == 2);
    nk_st_close(st);
    free(path);
    path = nk_path_join(check_tmpdir(), "absent.safetensors");
    CHECK(nk_st_set_metadata(path, "k", "v") != 0 && strstr(nk_last_error(), path));
    free(path), free(b);
}

/* Written by tests/fixtures/make_wav2letter.py's own writer, data in scrambled order. */
static void test_python_written(void) {
    nk_safetensors *st;
    CHECK_OK(nk_st_open("tests/fixtures/wav2letter/tiny_torchaudio.safetensors", &st));
    CHECK(nk_st_count(st) == 6);
    CHECK(!strcmp(nk_st_metadata(st, "source"), "make_wav2letter.py"));
    const nk_st_tensor *t = nk_st_find(st, "module.acoustic_model.2.weight");
    CHECK(t && !strcmp(t->dtype, "F32") && t->ndim == 3 && t->shape[0] == 5 && t->shape[1] == 4 &&
          t->shape[2] == 3 && t->nbytes == 240);
    /* nk_st_at walks the data in offset order: the writer's order 4, 1, 0, 5, 3, 2. */
    CHECK(!strcmp(nk_st_at(st, 0)->name, "module.acoustic_model.4.weight"));
    CHECK(!strcmp(nk_st_at(st, 5)->name, "module.acoustic_model.2.weight"));
    nk_st_close(st);
}

static void test_malformed(void) {
    static const struct {
        const char *header;
        size_t data;
        const char *needle;
    } cases[] = {
        {"", 0, "does not start"},
        {"[1, 2]", 0, "does not start"},
        {"{\"a\": ", 0, "not a valid JSON"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}} x", 8, "junk"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2]}}", 8, "needs"},
        {"{\"a\": {\"dtype\": \"Q7\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8, "unknown dtype"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8, "needs 12 bytes"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", 8, "non-negative"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 8]}}", 8, "non-negative"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 16]}}", 8, "data_offsets"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", 8, "data_offsets"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0]}}", 8, "data_offsets"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1,1,1,1,1,1,1,1,1], \"data_offsets\": [0, 4]}}", 4, "dimensions"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [4503599627370496, 4], \"data_offsets\": [0, 8]}}", 8, "bytes"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
         " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12, "overlap"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
         " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}", 12, "hole"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 8, "cover 4 of 8"},
        {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
         " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8, "twice"},
        {"{\"__metadata__\": {\"k\": 3}}", 0, "not a string"},
        {"{\"__metadata__\": [1]}", 0, "must be one object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t size;
        unsigned char *b = image(cases[i].header, cases[i].data, &size);
        nk_safetensors *st = (nk_safetensors *)1;
        int rc = nk_st_parse(b, size, "bad.safetensors", &st);
        if (rc != NK_ERR_FORMAT || st || !strstr(nk_last_error(), cases[i].needle) ||
            strncmp(nk_last_error(), "bad.safetensors: ", 17)) {
            fprintf(stderr, "case %zu: rc %d, message \"%s\"\n", i, rc, nk_last_error());
            CHECK(0);
        }
        free(b);
    }
    /* Length field larger than the file, and a file too short for it. */
    size_t size;
    unsigned char *b = image("{}", 0, &size);
    nk_safetensors *st;
    b[0] = 200;
    CHECK(nk_st_parse(b, size, "x", &st) == NK_ERR_FORMAT && strstr(nk_last_error(), "exceeds"));
    b[0] = 2, b[7] = 0x80;
    CHECK(nk_st_parse(b, size, "x", &st) == NK_ERR_FORMAT && strstr(nk_last_error(), "exceeds"));
    CHECK(nk_st_parse(b, 5, "x", &st) == NK_ERR_FORMAT && strstr(nk_last_error(), "too short"));
    free(b);
    /* Empty header and non-F32 reads. */
    b = image("{\"i\": {\"dtype\": \"I64\", \"shape\": [], \"data_offsets\": [0, 8]}}", 8, &size);
    CHECK_OK(nk_st_parse(b, size, "x", &st));
    long none[1] = {0};
    float f[2];
    CHECK(nk_st_read_f32(st, "i", 0, none, f) == NK_ERR_FORMAT && strstr(nk_last_error(), "dtype I64"));
    nk_st_close(st);
    free(b);
    /* NaN weights are refused on read. */
    float nan_data[2] = {1, NAN};
    nk_st_entry e = {.name = "w", .ndim = 1, .shape = {2}, .data = nan_data};
    char *path = nk_path_join(check_tmpdir(), "nan.safetensors");
    CHECK_OK(nk_st_write(path, &e, 1, NULL, 0));
    CHECK_OK(nk_st_open(path, &st));
    long s2[1] = {2};
    CHECK(nk_st_read_f32(st, "w", 1, s2, f) == NK_ERR_NUMERIC);
    nk_st_close(st);
    free(path);
    CHECK(nk_st_open("/nonexistent.safetensors", &st) == NK_ERR_IO);
}

/* Corrupt a valid file at random bytes and truncate it at every length: the
 * parser accepts or rejects, never crashes (run under `make asan` too). */
static void test_corruption(void) {
    char *bytes;
    size_t size;
    CHECK_OK(nk_read_file("tests/fixtures/wav2letter/tiny_torchaudio.safetensors", &bytes, &size));
    unsigned char *copy = malloc(size);
    uint64_t rng = 12345;
    int rejected = 0;
    for (int trial = 0; trial < 3000; trial++) {
        memcpy(copy, bytes, size);
        for (int k = 0; k < 1 + trial % 4; k++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            /* Mostly inside the 8-byte length and the header, where structure lives. */
            size_t at = (rng >> 33) % (trial % 2 ? 300 : size);
            copy[at] = (unsigned char)(rng >> 17);
        }
        nk_safetensors *st;
        if (nk_st_parse(copy, size, "fuzz", &st) == NK_OK) {
            /* Touch every byte an accepted tensor claims (ASan flags any overrun). */
            size_t total = 0;
            unsigned sum = 0;
            for (int i = 0; i < nk_st_count(st); i++) {
                const nk_st_tensor *t = nk_st_at(st, i);
                for (size_t j = 0; j < t->nbytes; j++) sum += ((const unsigned char *)t->data)[j];
                total += t->nbytes;
            }
            CHECK(total < size && sum < 256u * size);
            nk_st_close(st);
        } else {
            rejected++;
        }
    }
    for (size_t n = 0; n < size; n++) {
        nk_safetensors *st;
        CHECK(nk_st_parse(bytes, n, "truncated", &st) == NK_ERR_FORMAT);
    }
    CHECK(rejected > 1000);
    free(copy);
    free(bytes);
}

int main(void) {
    RUN(test_round_trip);
    RUN(test_python_written);
    RUN(test_set_metadata);
    RUN(test_malformed);
    RUN(test_corruption);
    return check_summary();
}
