/* Architecture JSON: the shipped files, derived sizes against hand counts and
 * torchaudio's documented figures, round trips, and malformed input. */
#include "check.h"
#include "napkit/napkit.h"
#include "napkit/arch.h"

static void test_wav2letter_figures(void) {
    nk_arch a;
    CHECK_OK(nk_arch_load("models/arch/wav2letter-mfcc.json", &a));
    CHECK(a.n_layers == 11 && a.n_classes == 29 && a.blank == 0);
    CHECK(!strcmp(a.alphabet[0], "_") && !strcmp(a.alphabet[1], " ") && !strcmp(a.alphabet[2], "'"));
    CHECK(!strcmp(a.alphabet[3], "a") && !strcmp(a.alphabet[28], "z"));
    CHECK(a.frontend.kind == NK_FEAT_MFCC && a.frontend.n_mfcc == 40);
    /* methods.md §1.2: 23,282,529 parameters for F = 13; F = 40 adds 27·250·48. */
    CHECK(nk_arch_param_count(&a) == 23282529 + 27 * 250 * 48);
    CHECK(nk_arch_receptive_field(&a, a.n_layers - 1) == 194);
    CHECK(nk_arch_receptive_field(&a, 0) == 48 && nk_arch_receptive_field(&a, 1) == 60);
    CHECK(nk_arch_total_stride(&a, a.n_layers - 1) == 2);
    /* Per output frame: 2·(40·48·250 + 7·250·7·250 + 250·32·2000 + 2000² + 2000·29). */
    double flops = 2.0 * (40 * 48 * 250 + 7 * 250 * 7 * 250 + 250 * 32 * 2000 + 2000.0 * 2000 + 2000 * 29);
    CHECK_NEAR(nk_arch_flops_per_frame(&a), flops, 1);
    /* torchaudio: L_out = floor((L − 2)/2) + 2. */
    int lens[11];
    for (int T = 2; T < 400; T++) {
        CHECK_OK(nk_arch_frames(&a, T, lens));
        CHECK(lens[10] == (T - 2) / 2 + 2);
    }
    CHECK(nk_arch_frames(&a, 1, lens) == NK_ERR_ARG);
    nk_arch_free(&a);
}

static void test_small_archs(void) {
    nk_arch en, de;
    CHECK_OK(nk_arch_load("models/arch/small.json", &en));
    CHECK_OK(nk_arch_load("models/arch/small-de.json", &de));
    CHECK(en.n_classes == 29 && de.n_classes == 33);
    CHECK(!strcmp(de.alphabet[29], "ä") && !strcmp(de.alphabet[32], "ß"));
    /* 40·128·48 + 7·128·128·7 + 128·256·31 + 256² + 256·K weights, plus biases. */
    size_t want = 40 * 128 * 48 + 128 + 7 * (128 * 128 * 7 + 128) + 128 * 256 * 31 + 256 + 256 * 256 + 256 + 256 * 29 + 29;
    CHECK(nk_arch_param_count(&en) == want);
    CHECK(want > 1000000 && want < 2200000);
    CHECK(en.frontend.kind == NK_FEAT_LOGMEL && en.frontend.n_mels == 40 &&
          en.frontend.normalize == NK_NORM_UTTERANCE && en.frontend.hop == 160);
    CHECK(en.layers[en.n_layers - 1].activation == NK_ACT_NONE);
    CHECK(nk_arch_receptive_field(&en, en.n_layers - 1) == 48 + 7 * 6 * 2 + 30 * 2);
    nk_arch_free(&en);
    nk_arch_free(&de);
}

static void test_round_trip_and_defaults(void) {
    const char *json =
        "{\"name\": \"d\", \"alphabet\": [\"_\", \"a\"], \"frontend\": {\"kind\": \"power\", \"n_fft\": 16,"
        " \"win\": 16, \"hop\": 4},"
        " \"layers\": [{\"type\": \"conv1d\", \"in\": 9, \"out\": 2, \"kernel\": 3}]}";
    nk_arch a, b;
    CHECK_OK(nk_arch_parse(json, "d.json", &a));
    /* Defaults: blank 0, stride 1, padding 0, dilation 1, relu. */
    CHECK(a.blank == 0 && a.layers[0].stride == 1 && a.layers[0].padding == 0);
    CHECK(a.layers[0].dilation == 1 && a.layers[0].activation == NK_ACT_RELU);
    CHECK(a.frontend.sample_rate == 16000 && a.frontend.normalize == NK_NORM_NONE);
    char *text = nk_arch_to_json(&a);
    CHECK_OK(nk_arch_parse(text, "again", &b));
    char *text2 = nk_arch_to_json(&b);
    CHECK(!strcmp(text, text2));
    CHECK(!memcmp(&a.frontend, &b.frontend, sizeof a.frontend));
    CHECK(!memcmp(a.layers, b.layers, sizeof *a.layers));
    free(text), free(text2);
    nk_arch_free(&a);
    nk_arch_free(&b);
}

/* Every malformed architecture fails with NK_ERR_FORMAT and a message naming
 * the file and the offending field. */
static void test_malformed(void) {
    static const struct {
        const char *json, *needle;
    } cases[] = {
        {"{", "invalid JSON"},
        {"[1]", "not a JSON object"},
        {"{\"alphabet\": [\"_\"], \"layers\": []}", "alphabet"},
        {"{\"alphabet\": [\"_\", \"\"], \"layers\": []}", "non-empty"},
        {"{\"alphabet\": [\"_\", 3], \"layers\": []}", "non-empty string"},
        {"{\"alphabet\": [\"_\", \"a\", \"a\"], \"frontend\": {\"n_mels\": 3},"
         " \"layers\": [{\"type\": \"conv1d\", \"in\": 3, \"out\": 3, \"kernel\": 1}]}", "twice"},
        {"{\"alphabet\": [\"_\", \"a\"], \"blank\": 2, \"layers\": []}", "\"blank\""},
        {"{\"alphabet\": [\"_\", \"a\"], \"layers\": []}", "\"layers\""},
        {"{\"alphabet\": [\"_\", \"a\"], \"frontend\": {\"kind\": \"wavelet\"}, \"layers\": [{}]}", "\"kind\""},
        {"{\"alphabet\": [\"_\", \"a\"], \"frontend\": {\"hop\": 0}, \"layers\": [{}]}", "\"hop\""},
        {"{\"alphabet\": [\"_\", \"a\"], \"frontend\": {\"win\": 800}, \"layers\": [{}]}", "frontend"},
        {"{\"alphabet\": [\"_\", \"a\"], \"layers\": [{\"type\": \"lstm\"}]}", "\"type\""},
        {"{\"alphabet\": [\"_\", \"a\"], \"layers\": [{\"type\": \"conv1d\", \"in\": 40, \"out\": 2}]}", "required"},
        {"{\"alphabet\": [\"_\", \"a\"], \"layers\": [{\"type\": \"conv1d\", \"in\": 40, \"out\": 2,"
         " \"kernel\": 2.5}]}", "\"kernel\""},
        {"{\"alphabet\": [\"_\", \"a\"], \"layers\": [{\"type\": \"conv1d\", \"in\": 40, \"out\": 2,"
         " \"kernel\": 3, \"stride\": 0}]}", "\"stride\""},
        {"{\"alphabet\": [\"_\", \"a\"], \"layers\": [{\"type\": \"conv1d\", \"in\": 40, \"out\": 2,"
         " \"kernel\": 3, \"activation\": \"gelu\"}]}", "\"activation\""},
        {"{\"alphabet\": [\"_\", \"a\"], \"layers\": [{\"type\": \"conv1d\", \"in\": 13, \"out\": 2,"
         " \"kernel\": 3}]}", "front end gives 40"},
        {"{\"alphabet\": [\"_\", \"a\"], \"layers\": [{\"type\": \"conv1d\", \"in\": 40, \"out\": 5,"
         " \"kernel\": 3}, {\"type\": \"conv1d\", \"in\": 4, \"out\": 2, \"kernel\": 1}]}", "layer 1 takes 4"},
        {"{\"alphabet\": [\"_\", \"a\", \"b\"], \"layers\": [{\"type\": \"conv1d\", \"in\": 40, \"out\": 2,"
         " \"kernel\": 3}]}", "alphabet has 3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nk_arch a;
        int rc = nk_arch_parse(cases[i].json, "bad.json", &a);
        CHECK(rc == NK_ERR_FORMAT);
        if (rc != NK_ERR_FORMAT || !strstr(nk_last_error(), cases[i].needle) ||
            strncmp(nk_last_error(), "bad.json: ", 10)) {
            fprintf(stderr, "case %zu: rc %d, message \"%s\"\n", i, rc, nk_last_error());
            CHECK(0);
        }
        CHECK(a.layers == NULL && a.alphabet == NULL); /* nothing leaks on failure */
    }
    nk_arch a;
    CHECK(nk_arch_load("/nonexistent/arch.json", &a) == NK_ERR_IO);
}

static void test_too_short(void) {
    nk_arch a;
    CHECK_OK(nk_arch_load("models/arch/small.json", &a));
    int lens[16];
    /* The k=48, p=23 layer needs 2 frames; the k=31 layer keeps the length. */
    CHECK(nk_arch_frames(&a, 1, lens) == NK_ERR_ARG);
    CHECK(strstr(nk_last_error(), "too few") != NULL);
    CHECK_OK(nk_arch_frames(&a, 2, lens));
    CHECK(lens[a.n_layers - 1] == 1);
    nk_arch_free(&a);
}

int main(void) {
    RUN(test_wav2letter_figures);
    RUN(test_small_archs);
    RUN(test_round_trip_and_defaults);
    RUN(test_malformed);
    RUN(test_too_short);
    return check_summary();
}
