/* The full torchaudio Wav2Letter (num_features=40, 29 classes) against PyTorch:
 * logits, log-probs, the CTC loss of "hello world", and the CTC gradients of
 * the input, every layer and every bias, plus a logit-seeded input gradient.
 * (Only the first 256 rows of the 2000-channel layers' gradients are stored,
 * to keep the fixtures small; the input gradient flows through all of them.
 * The biases come from biases.npy: nudged so no ReLU sits on its kink, where
 * float rounding order — e.g. OpenBLAS's thread count — would flip a gate.)
 * Fixtures and the weight generator: tests/fixtures/make_wav2letter.py. */
#include "check.h"
#include "napkit/napkit.h"
#include "napkit/model.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>

#define DIR "tests/fixtures/wav2letter/"

/* The generator of make_wav2letter.py: counter i → uniform [0, 1). */
static double splitmix_uniform(uint64_t seed, uint64_t i) {
    uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

static nk_model *fixture_model(uint64_t seed) {
    nk_arch a;
    nk_model *m = NULL;
    CHECK_OK(nk_arch_load("models/arch/wav2letter-mfcc.json", &a));
    CHECK_OK(nk_model_new(&a, &m));
    CHECK(nk_model_param_count(m) == 23606529);
    float *p = nk_model_params(m);
    uint64_t i = 0;
    for (int l = 0; l < a.n_layers; l++) {
        const nk_layer_spec *s = &a.layers[l];
        size_t nw = (size_t)s->out * s->in * s->kernel;
        double bound = sqrt(6.0 / ((double)s->in * s->kernel));
        for (size_t j = 0; j < nw; j++, i++) p[i] = (float)((2 * splitmix_uniform(seed, i) - 1) * bound);
        for (int j = 0; j < s->out; j++, i++) p[i] = (float)((2 * splitmix_uniform(seed, i) - 1) * 0.1);
    }
    /* The generator's biases, nudged away from ReLU kinks (make_wav2letter.py). */
    nk_array b;
    CHECK_OK(nk_npy_read_f32(DIR "biases.npy", &b));
    size_t k = 0;
    for (int l = 0; l < a.n_layers && b.data; l++) {
        const nk_layer_spec *s = &a.layers[l];
        CHECK(k + s->out <= nk_array_count(&b));
        float *bias = p + nk_model_layer_offset(m, l) + (size_t)s->out * s->in * s->kernel;
        for (int j = 0; j < s->out; j++) {
            CHECK(fabs(bias[j] - ((float *)b.data)[k + j]) < 0.01); /* only nudged */
            bias[j] = ((float *)b.data)[k + j];
        }
        k += s->out;
    }
    CHECK(k == nk_array_count(&b));
    nk_array_free(&b);
    nk_arch_free(&a);
    return m;
}

static float *load(const char *name, long rows, long cols) {
    nk_array arr;
    int rc = nk_npy_read_f32(name, &arr);
    CHECK_OK(rc);
    if (rc) return calloc(rows * cols, 4);
    CHECK(arr.shape[0] == rows && (arr.ndim == 1 ? cols == 1 : arr.shape[1] == cols));
    return arr.data;
}

static void check_close(const char *what, const float *got, const float *want, size_t n, double tol) {
    double e = check_max_rel_err(got, want, n);
    fprintf(stderr, "%-22s max rel err %.2e\n", what, e);
    CHECK(e <= tol);
}

static void test_wav2letter_matches_torch(void) {
    char *text;
    CHECK_OK(nk_read_file(DIR "meta.json", &text, NULL));
    cJSON *meta = cJSON_Parse(text);
    free(text);
    const int T = cJSON_GetObjectItem(meta, "input_frames")->valueint;
    const int Tp = cJSON_GetObjectItem(meta, "output_frames")->valueint;
    const int big_rows = cJSON_GetObjectItem(meta, "big_rows")->valueint;
    const double want_loss = cJSON_GetObjectItem(meta, "loss")->valuedouble;
    const uint64_t seed = (uint64_t)cJSON_GetObjectItem(meta, "seed")->valuedouble;
    const int k_seed = cJSON_GetArrayItem(cJSON_GetObjectItem(meta, "logit_seed"), 0)->valueint;
    const int t_seed = cJSON_GetArrayItem(cJSON_GetObjectItem(meta, "logit_seed"), 1)->valueint;
    const cJSON *jl = cJSON_GetObjectItem(meta, "labels");
    int U = cJSON_GetArraySize(jl), labels[64];
    for (int u = 0; u < U && u < 64; u++) labels[u] = cJSON_GetArrayItem(jl, u)->valueint;
    cJSON_Delete(meta);

    nk_model *m = fixture_model(seed);
    const nk_arch *a = nk_model_arch(m);
    const int L = a->n_layers, K = a->n_classes;
    /* torchaudio's length rule for the first layer, floor((T − 2)/2) + 2, and
     * the k=32 layer's extra frame. */
    int lens[16];
    CHECK_OK(nk_arch_frames(a, T, lens));
    CHECK(lens[0] == (T - 2) / 2 + 2 - 1 && lens[L - 1] == Tp && Tp == (T - 2) / 2 + 2);

    float *x = load(DIR "input.npy", 40, T);
    nk_workspace *ws;
    CHECK_OK(nk_workspace_new(m, &ws));
    CHECK_OK(nk_model_forward(m, ws, x, T));
    float *logits = load(DIR "logits.npy", K, Tp), *lp = load(DIR "log_probs.npy", K, Tp);
    check_close("logits", nk_ws_act(ws, L - 1), logits, (size_t)K * Tp, 1e-4);
    check_close("log-probs", nk_ws_log_probs(ws), lp, (size_t)K * Tp, 1e-4);

    double nll;
    CHECK_OK(nk_ctc_loss(nk_ws_log_probs(ws), K, Tp, labels, U, a->blank, &nll, nk_ws_log_probs_grad(ws)));
    fprintf(stderr, "ctc loss %.6f, torch %.6f\n", nll, want_loss);
    CHECK(fabs(nll - want_loss) <= 1e-4 * fabs(want_loss));
    CHECK_OK(nk_model_backward(m, ws, L, NK_RULE_GRADIENT, 1));

    float *gx = load(DIR "input_grad_ctc.npy", 40, T);
    check_close("input grad (ctc)", nk_ws_input_grad(ws), gx, 40 * (size_t)T, 1e-3);
    for (int l = 0; l < L; l++) {
        char name[64], what[32];
        int C = a->layers[l].out, rows = C > big_rows ? big_rows : C;
        snprintf(name, sizeof name, DIR "layer_%02d_grad_ctc.npy", l);
        snprintf(what, sizeof what, "layer %02d grad (ctc)", l);
        float *g = load(name, rows, lens[l]);
        /* The first `rows` channels are the first rows of the (C, T') array. */
        check_close(what, nk_ws_grad(ws, l), g, (size_t)rows * lens[l], 1e-3);
        free(g);
    }
    /* Bias gradients, all layers concatenated. */
    int n_bias = 0;
    for (int l = 0; l < L; l++) n_bias += a->layers[l].out;
    float *gb = load(DIR "bias_grad_ctc.npy", n_bias, 1), *got = malloc(n_bias * 4);
    for (int l = 0, k = 0; l < L; l++) {
        const nk_layer_spec *s = &a->layers[l];
        memcpy(got + k, nk_ws_param_grads(ws) + nk_model_layer_offset(m, l) + (size_t)s->out * s->in * s->kernel,
               s->out * 4);
        k += s->out;
    }
    check_close("bias grads (ctc)", got, gb, n_bias, 1e-3);

    /* Seeded on one pre-softmax logit. */
    nk_ws_zero_grads(ws);
    nk_ws_grad(ws, L - 1)[k_seed * Tp + t_seed] = 1;
    CHECK_OK(nk_model_backward(m, ws, L - 1, NK_RULE_GRADIENT, 0));
    float *gl = load(DIR "input_grad_logit.npy", 40, T);
    double gmax = 0;
    for (int i = 0; i < 40 * T; i++) gmax = fmax(gmax, fabs(gl[i]));
    CHECK(gmax > 1e-3); /* the seeded logit is active: a real gradient */
    check_close("input grad (logit)", nk_ws_input_grad(ws), gl, 40 * (size_t)T, 1e-3);

    free(x), free(logits), free(lp), free(gx), free(gb), free(got), free(gl);
    nk_workspace_free(ws);
    nk_model_free(m);
}

int main(void) {
    RUN(test_wav2letter_matches_torch);
    return check_summary();
}
