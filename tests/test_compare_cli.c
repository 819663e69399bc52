/* `napkit compare` end to end on a tiny model and a generated corpus: a model
 * against itself (CKA 1 on the diagonal, identity matching), outputs, exit codes. */
#include "check.h"

#include "napkit/audio.h"
#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/model.h"
#include "napkit/npy.h"

#include <cjson/cJSON.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *napkit(void) {
    const char *p = getenv("NAPKIT");
    return p && *p ? p : "build/napkit";
}

/* Runs `napkit --quiet ARGS`; returns its exit code. */
static int run(const char *args) {
    char cmd[5000];
    snprintf(cmd, sizeof cmd, "%s --quiet compare %s >%s/out.txt 2>%s/err.txt", napkit(), args, check_tmpdir(),
             check_tmpdir());
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char model_path[512], model2_path[512], corpus[1024];

/* A small model over a 40-band log-mel front end, and four tone-and-noise utterances in a manifest. */
static void setup(void) {
    static const char arch[] =
        "{\"name\": \"tiny\", \"alphabet\": [\"_\", \" \", \"a\", \"b\"], \"blank\": 0,"
        " \"frontend\": {\"kind\": \"logmel\", \"n_mels\": 16, \"normalize\": \"utterance\"},"
        " \"layers\": ["
        "{\"type\": \"conv1d\", \"in\": 16, \"out\": 12, \"kernel\": 9, \"stride\": 2, \"padding\": 4, \"activation\": \"relu\"},"
        "{\"type\": \"conv1d\", \"in\": 12, \"out\": 10, \"kernel\": 3, \"stride\": 1, \"padding\": 1, \"activation\": \"relu\"},"
        "{\"type\": \"conv1d\", \"in\": 10, \"out\": 4, \"kernel\": 1, \"stride\": 1, \"padding\": 0, \"activation\": \"none\"}]}";
    nk_arch a;
    nk_model *m;
    if (nk_arch_parse(arch, "tiny", &a) || nk_model_new(&a, &m)) exit(1);
    nk_arch_free(&a);
    for (int seed = 1; seed <= 2; seed++) {
        nk_model_init(m, seed);
        snprintf(seed == 1 ? model_path : model2_path, 512, "%s/tiny%d.safetensors", check_tmpdir(), seed);
        CHECK_OK(nk_model_save(m, seed == 1 ? model_path : model2_path));
    }
    nk_model_free(m);
    char dir[256], path[600], manifest[4096] = "";
    snprintf(dir, sizeof dir, "%s/corpus", check_tmpdir());
    mkdir(dir, 0755);
    enum { SR = 16000, N = SR };
    float *x = malloc(sizeof(float) * N);
    uint32_t s = 1;
    for (int u = 0; u < 4; u++) {
        for (int i = 0; i < N; i++) {
            s = s * 1664525u + 1013904223u;
            x[i] = 0.3f * sinf(2 * 3.14159265f * (200 + 150 * u + 100 * (i * 4 / N)) * i / SR) +
                   0.05f * ((float)(s >> 8) / 16777216.0f - 0.5f);
        }
        snprintf(path, sizeof path, "%s/u%d.wav", dir, u);
        CHECK_OK(nk_audio_write(path, x, N, SR));
        snprintf(manifest + strlen(manifest), sizeof manifest - strlen(manifest), "u%d.wav\tab ba\n", u);
    }
    free(x);
    snprintf(corpus, sizeof corpus, "%s/list.tsv", dir);
    CHECK_OK(nk_write_file(corpus, manifest, strlen(manifest)));
}

static void test_self_comparison(void) {
    char out[256], args[4096], p[600];
    snprintf(out, sizeof out, "%s/self", check_tmpdir());
    snprintf(args, sizeof args, "--model-a %s --model-b %s --corpus manifest:%s --name-a X --name-b Y --threads 2 -o %s",
             model_path, model_path, corpus, out);
    CHECK(run(args) == 0);
    nk_array cka;
    snprintf(p, sizeof p, "%s/cka.npy", out);
    CHECK_OK(nk_npy_read(p, &cka));
    CHECK(cka.dtype == NK_F64 && cka.ndim == 2 && cka.shape[0] == 3 && cka.shape[1] == 3);
    for (int l = 0; l < 3 && cka.data; l++) CHECK_NEAR(((double *)cka.data)[l * 3 + l], 1.0, 1e-9);
    nk_array_free(&cka);
    for (int l = 0; l < 3; l++) {
        char name[64];
        snprintf(name, sizeof name, "matching_%02d.json", l);
        cJSON *j = check_read_json(out, name), *match = cJSON_GetObjectItem(j, "match"), *corr = cJSON_GetObjectItem(j, "match_corr");
        CHECK(j && cJSON_GetArraySize(match) == (l == 0 ? 12 : l == 1 ? 10 : 4));
        for (int i = 0; i < cJSON_GetArraySize(match); i++)
            if (cJSON_IsNumber(cJSON_GetArrayItem(corr, i))) CHECK(cJSON_GetArrayItem(match, i)->valueint == i);
        cJSON_Delete(j);
    }
    struct stat st;
    snprintf(p, sizeof p, "%s/summary.md", out);
    CHECK(stat(p, &st) == 0 && st.st_size > 200);
    snprintf(p, sizeof p, "%s/cka.png", out);
    CHECK(stat(p, &st) == 0);
    snprintf(p, sizeof p, "%s/matching_01.svg", out);
    CHECK(stat(p, &st) == 0);
}

static void test_two_models_and_layers(void) {
    char out[256], args[4096];
    snprintf(out, sizeof out, "%s/two", check_tmpdir());
    snprintf(args, sizeof args, "--model-a %s --model-b %s manifest:%s --layers 0,2 -o %s", model_path, model2_path,
             corpus, out);
    CHECK(run(args) == 0);
    cJSON *j = check_read_json(out, "matching_02.json");
    CHECK(j && cJSON_GetObjectItem(j, "layer")->valueint == 2);
    cJSON_Delete(j);
    char p[600];
    struct stat st;
    snprintf(p, sizeof p, "%s/matching_01.json", out);
    CHECK(stat(p, &st) != 0); /* layer 1 was not asked for */
}

static void test_errors(void) {
    char args[4096];
    CHECK(run("--model-a a.safetensors -o /tmp/x") == 2);
    snprintf(args, sizeof args, "--model-a %s --model-b %s --corpus manifest:%s --layers 0,7 -o %s/e", model_path,
             model_path, corpus, check_tmpdir());
    CHECK(run(args) == 2);
    snprintf(args, sizeof args, "--model-a /nonexistent.safetensors --model-b %s --corpus manifest:%s -o %s/e",
             model_path, corpus, check_tmpdir());
    CHECK(run(args) == 1);
    snprintf(args, sizeof args, "--model-a %s --model-b %s --corpus manifest:%s --naps-a %s -o %s/e", model_path,
             model_path, corpus, check_tmpdir(), check_tmpdir());
    CHECK(run(args) == 2); /* --naps-a without --naps-b */
    snprintf(args, sizeof args, "--model-a %s --model-b %s --corpus manifest:%s --naps-a /nonexistent --naps-b /nonexistent -o %s/e",
             model_path, model_path, corpus, check_tmpdir());
    CHECK(run(args) == 1);
}

int main(void) {
    setup();
    RUN(test_self_comparison);
    RUN(test_two_models_and_layers);
    RUN(test_errors);
    return check_summary();
}
