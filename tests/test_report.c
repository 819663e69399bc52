/* napkit report: unit selectivity against a brute-force one-way ANOVA, HTML
 * escaping, and the whole report of two small random models over a toy
 * corpus — sections, figures, report.json against independent recomputation
 * (CER from nk_evaluate, purity from clusters.json), determinism. */
#include "check.h"

#include "napkit/napkit.h"

#include <cjson/cJSON.h>
#include <sys/stat.h>

/* ---- selectivity ---- */

/* One conv layer with kernel 1 and no activation: the NAP value of unit c at
 * an event is A[c, frame], which the test reads from a plain forward pass. */
static const char *LINEAR =
    "{\"name\": \"linear\", \"blank\": 0, \"alphabet\": [\"_\", \" \", \"a\", \"b\"],"
    " \"frontend\": {\"kind\": \"logmel\", \"n_mels\": 6},"
    " \"layers\": [{\"type\": \"conv1d\", \"in\": 6, \"out\": 4, \"kernel\": 1, \"activation\": \"none\"}]}";

static void test_selectivity_is_anova_f(void) {
    enum { G = 3, C = 4, T = 60, N_UTT = 3, N_EV = 9 };
    nk_arch arch;
    nk_model *m;
    CHECK_OK(nk_arch_parse(LINEAR, "linear", &arch));
    CHECK_OK(nk_model_new(&arch, &m));
    nk_model_init(m, 7);
    nk_nap_config cfg = {.mode = NK_NAP_ACT, .window = 2, .n_layers = 1, .layers = (int[]){0}};
    const char *groups[G] = {"x", "y", "z"};
    nk_nap_sums *s;
    CHECK_OK(nk_nap_sums_new(&arch, &cfg, groups, G, "{}", &s));
    float x[N_UTT][6 * T];
    nk_nap_event ev[N_UTT][N_EV];
    nk_nap_utt u[N_UTT];
    uint64_t state = 11;
    for (int i = 0; i < N_UTT; i++) {
        for (int k = 0; k < 6 * T; k++) x[i][k] = (float)nk_rng_normal(&state);
        for (int e = 0; e < N_EV; e++) { /* group e % G at frame 5 + 6e (10 ms frames) */
            double t = (5 + 6 * e) * 0.01;
            ev[i][e] = (nk_nap_event){(e + i) % G, t - 0.005, t + 0.005, t, -1};
        }
        static const char *const ids[N_UTT] = {"u0", "u1", "u2"};
        u[i] = (nk_nap_utt){ids[i], x[i], T, ev[i], N_EV};
    }
    CHECK_OK(nk_nap_run(m, s, u, N_UTT, 1, NULL, NULL));
    double F[C];
    CHECK_OK(nk_report_selectivity(s, 0, (int[]){0, 1, 2}, G, cfg.window, F));
    /* brute force: collect every event's value, two-pass ANOVA */
    nk_workspace *ws;
    CHECK_OK(nk_workspace_new(m, &ws));
    double v[G][N_UTT * N_EV][C];
    int n[G] = {0};
    for (int i = 0; i < N_UTT; i++) {
        CHECK_OK(nk_model_forward(m, ws, x[i], T));
        const float *A = nk_ws_act(ws, 0);
        for (int e = 0; e < N_EV; e++) {
            int g = ev[i][e].group, f = 5 + 6 * e;
            for (int c = 0; c < C; c++) v[g][n[g]][c] = A[c * T + f];
            n[g]++;
        }
    }
    for (int c = 0; c < C; c++) {
        double mean[G], all = 0, between = 0, within = 0;
        int N = 0;
        for (int g = 0; g < G; g++) {
            mean[g] = 0;
            for (int k = 0; k < n[g]; k++) mean[g] += v[g][k][c];
            all += mean[g];
            mean[g] /= n[g];
            N += n[g];
        }
        all /= N;
        for (int g = 0; g < G; g++) {
            between += n[g] * (mean[g] - all) * (mean[g] - all);
            for (int k = 0; k < n[g]; k++) within += (v[g][k][c] - mean[g]) * (v[g][k][c] - mean[g]);
        }
        double want = (between / (G - 1)) / (within / (N - G));
        CHECK_NEAR(F[c], want, 1e-6 * want + 1e-9);
    }
    /* bad arguments */
    CHECK(nk_report_selectivity(s, 1, (int[]){0, 1, 2}, G, 0, F) == NK_ERR_ARG);
    CHECK(nk_report_selectivity(s, 0, (int[]){0, 1, 2}, G, 5, F) == NK_ERR_ARG);
    CHECK(nk_report_selectivity(s, 0, (int[]){0}, 1, 0, F) == NK_ERR_ARG);
    nk_workspace_free(ws);
    nk_nap_sums_free(s);
    nk_model_free(m);
    nk_arch_free(&arch);
}

/* ---- HTML ---- */

static void test_html_escape(void) {
    char *buf;
    size_t len;
    FILE *fp = open_memstream(&buf, &len);
    nk_html_escape(fp, "a<b>&\"c'd ə");
    nk_html_escape(fp, NULL);
    fclose(fp);
    CHECK(!strcmp(buf, "a&lt;b&gt;&amp;&quot;c&#39;d ə"));
    free(buf);
    const char *dir = check_tmpdir();
    char path[300];
    snprintf(path, sizeof path, "%s/bad.html", dir);
    CHECK(nk_report_write_html("{not json", path) == NK_ERR_FORMAT);
    CHECK(nk_report_write_html("{\"models\": 3}", path) == NK_ERR_FORMAT);
    struct stat st;
    CHECK(stat(path, &st) != 0); /* nothing written */
}

/* ---- the whole report ---- */

static const char *TEXTS[] = {"a bad cab", "the cat sat", "a bad dog", "he had a hat", "set the date", "see the sea"};
enum { N_TEXTS = sizeof TEXTS / sizeof TEXTS[0] };
static char corpus[300], lexicon[300], lp[300], model_a[300], model_b[300];

/* Copies of the 5 s front-end fixture with different transcripts, a CMUdict
 * with their words, the letter↔phoneme prior and two random small models. */
static void make_inputs(void) {
    char dir[100], path[400];
    snprintf(dir, sizeof dir, "%s/corpus", check_tmpdir()); /* alone: no TextGrids of reports below it */
    CHECK_OK(nk_mkdirs(dir));
    snprintf(corpus, sizeof corpus, "%s/corpus.tsv", dir);
    FILE *f = fopen(corpus, "w");
    char *wav;
    size_t n;
    CHECK_OK(nk_read_file("tests/fixtures/frontend/signal.wav", &wav, &n));
    for (int i = 0; i < N_TEXTS; i++) {
        snprintf(path, sizeof path, "%s/u%d.wav", dir, i);
        CHECK_OK(nk_write_file(path, wav, n));
        fprintf(f, "u%d.wav\t%s\n", i, TEXTS[i]);
    }
    fclose(f);
    free(wav);
    snprintf(lexicon, sizeof lexicon, "%s/cmudict.txt", dir);
    f = fopen(lexicon, "w");
    fputs("A  AH0\nBAD  B AE1 D\nCAB  K AE1 B\nTHE  DH AH0\nCAT  K AE1 T\nSAT  S AE1 T\nDOG  D AO1 G\nHE  HH IY1\n"
          "HAD  HH AE1 D\nHAT  HH AE1 T\nSET  S EH1 T\nDATE  D EY1 T\nSEE  S IY1\nSEA  S IY1\n",
          f);
    fclose(f);
    nk_lp_model *p;
    snprintf(lp, sizeof lp, "%s/lp.json", dir);
    CHECK_OK(nk_lp_prior(&p));
    CHECK_OK(nk_lp_model_save(p, lp));
    nk_lp_model_free(p);
    nk_arch arch;
    CHECK_OK(nk_arch_load("models/arch/small.json", &arch));
    for (int k = 0; k < 2; k++) {
        nk_model *m;
        CHECK_OK(nk_model_new(&arch, &m));
        nk_model_init(m, 3 + k);
        nk_model_set_onset_delay(m, k ? 0.05 : 0.03); /* a's is used, b's overridden (small_config) */
        snprintf(k ? model_b : model_a, sizeof model_a, "%s/%s.safetensors", dir, k ? "b" : "a");
        CHECK_OK(nk_model_save(m, k ? model_b : model_a));
        nk_model_free(m);
    }
    nk_arch_free(&arch);
}

static void small_config(nk_report_config *c, const char *out, int n_models) {
    static const char *corpora[1];
    corpora[0] = corpus;
    nk_report_config_default(c);
    c->out = out;
    c->n_models = n_models;
    c->min_confidence = 0, c->min_count = 1, c->window = 4, c->ig_steps = 4, c->som_epochs = 20, c->top_k = 2;
    for (int k = 0; k < n_models; k++)
        c->model[k] = (nk_report_model){k ? model_b : model_a, k ? "b" : "<a&>", "en", corpora, 1, lexicon, lp,
                                        k ? 0.02 : NAN};
}

static cJSON *read_json(const char *path) {
    char *text;
    if (nk_read_file(path, &text, NULL)) return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    return j;
}

static int is_png(const char *path) {
    unsigned char sig[8] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t got = fread(sig, 1, 8, f);
    fclose(f);
    return got == 8 && !memcmp(sig, "\x89PNG\r\n\x1a\n", 8);
}

static double json_num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Purity recomputed from a clusters.json's flat clusters and classes. */
static double purity_of(const char *path) {
    cJSON *j = read_json(path);
    const cJSON *flat = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "flat"), "clusters"),
                *cls = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "classes"), "of_observation");
    int n = cJSON_GetArraySize(flat), count[64][16] = {{0}}, used = 0;
    for (int i = 0; i < n; i++) {
        int f = cJSON_GetArrayItem(flat, i)->valueint, c = cJSON_GetArrayItem(cls, i)->valueint;
        if (c >= 0 && f < 64 && c < 16) count[f][c]++, used++;
    }
    double sum = 0;
    for (int f = 0; f < 64; f++) {
        int best = 0;
        for (int c = 0; c < 16; c++) best = count[f][c] > best ? count[f][c] : best;
        sum += best;
    }
    cJSON_Delete(j);
    return used ? sum / used : NAN;
}

static void test_report_end_to_end(void) {
    make_inputs();
    char out[300], path[700];
    snprintf(out, sizeof out, "%s/report", check_tmpdir());
    nk_report_config c;
    small_config(&c, out, 2);
    CHECK_OK(nk_report_run(&c));

    snprintf(path, sizeof path, "%s/report.json", out);
    cJSON *r = read_json(path);
    CHECK(r != NULL);
    const cJSON *models = cJSON_GetObjectItem(r, "models"), *a = cJSON_GetArrayItem(models, 0);
    CHECK(cJSON_GetArraySize(models) == 2);

    /* CER and WER: the same as nk_evaluate on the same data */
    nk_model *m;
    nk_alphabet *alpha;
    nk_corpus *corp;
    nk_dataset *d;
    nk_corpus_options co;
    CHECK_OK(nk_model_load(model_a, &m));
    const nk_arch *arch = nk_model_arch(m);
    CHECK_OK(nk_alphabet_new((const char *const *)arch->alphabet, arch->n_classes, &alpha));
    nk_corpus_options_default(&co, alpha);
    CHECK_OK(nk_corpus_open(corpus, &co, &corp));
    CHECK_OK(nk_dataset_build(&corp, 1, arch, 1, 0, &d));
    nk_error_counts total;
    CHECK_OK(nk_evaluate(m, d, 1, NULL, NULL, &total));
    const cJSON *ev = cJSON_GetObjectItem(a, "eval");
    CHECK_NEAR(json_num(ev, "cer"), nk_cer(&total), 1e-12);
    CHECK_NEAR(json_num(ev, "wer"), nk_wer(&total), 1e-12);
    CHECK(json_num(a, "utterances") == N_TEXTS);
    /* a's delay is the one stored in its file; b's option overrides b's stored one */
    CHECK_NEAR(json_num(cJSON_GetObjectItem(a, "align"), "delay_ms"), 30, 1e-9);
    CHECK_NEAR(json_num(cJSON_GetObjectItem(cJSON_GetArrayItem(models, 1), "align"), "delay_ms"), 20, 1e-9);
    nk_dataset_free(d);
    nk_corpus_free(corp);
    nk_alphabet_free(alpha);
    nk_model_free(m);

    /* every layer: scores in range, purity as its clusters.json says, a dendrogram and heatmap */
    const cJSON *layers = cJSON_GetObjectItem(a, "per_layer"), *l;
    CHECK(cJSON_GetArraySize(layers) == 11);
    int scored = 0;
    cJSON_ArrayForEach(l, layers) {
        if (cJSON_GetObjectItem(l, "skipped")) continue;
        scored++;
        double p = json_num(l, "purity");
        CHECK(p > 0 && p <= 1);
        snprintf(path, sizeof path, "%s/%s/clusters.json", out, cJSON_GetObjectItem(l, "dir")->valuestring);
        CHECK_NEAR(p, purity_of(path), 1e-12);
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(l, "selective")) == 3);
        const cJSON *erp = cJSON_GetObjectItem(l, "erp");
        CHECK(json_num(erp, "unit") == json_num(cJSON_GetArrayItem(cJSON_GetObjectItem(l, "selective"), 0), "unit"));
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(erp, "groups")) == 5);
    }
    CHECK(scored >= 9);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(a, "attributions")) == 2);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(a, "top")) == 2);

    /* the comparison: an 11 × 11 CKA matrix with values in [0, 1] */
    const cJSON *cmp = cJSON_GetObjectItem(r, "compare"), *row;
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cmp, "cka")) == 11);
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(cmp, "cka")) {
        CHECK(cJSON_GetArraySize(row) == 11);
        for (int j = 0; j < 11; j++) {
            double v = cJSON_GetArrayItem(row, j)->valuedouble;
            CHECK(v >= 0 && v <= 1 + 1e-9);
        }
    }

    /* figures: files exist as PNGs, each shown once on the page */
    char *page;
    snprintf(path, sizeof path, "%s/index.html", out);
    CHECK_OK(nk_read_file(path, &page, NULL));
    const cJSON *figs = cJSON_GetObjectItem(r, "figures"), *f;
    int n_figs = 0, n_img = 0;
    cJSON_ArrayForEach(f, figs) {
        const char *file = cJSON_GetObjectItem(f, "file")->valuestring;
        snprintf(path, sizeof path, "%s/%s", out, file);
        CHECK(is_png(path));
        n_figs++;
        char needle[600];
        snprintf(needle, sizeof needle, "<img src=\"%s\"", file);
        if (!strstr(file, "<")) CHECK(strstr(page, needle) != NULL);
    }
    for (const char *p = page; (p = strstr(p, "<img ")); p++) n_img++;
    CHECK(n_figs == n_img);
    CHECK(n_figs > 11 * 3 * 2); /* dendrogram, heatmap and ERP per layer and model, and more */
    /* sections, and the awkward model name escaped everywhere */
    static const char *const ids[] = {"id=\"overview\"", "id=\"settings\"", "id=\"compare\"", "id=\"files\"",
                                      "id=\"b-data\"", "id=\"b-align\"", "id=\"b-naps\"", "id=\"b-layers\"",
                                      "id=\"b-attribution\"", "id=\"b-top\"", "id=\"&lt;a&amp;&gt;-layers\""};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) CHECK(strstr(page, ids[k]) != NULL);
    CHECK(strstr(page, "<a&>") == NULL);
    CHECK(strstr(page, "http") == NULL); /* nothing from the network */
    free(page);
    cJSON_Delete(r);
}

static void test_report_is_deterministic(void) {
    char out[2][300];
    for (int k = 0; k < 2; k++) {
        snprintf(out[k], sizeof out[k], "%s/det%d", check_tmpdir(), k);
        nk_report_config c;
        small_config(&c, out[k], 1);
        c.n_attributions = 1, c.n_top_units = 1;
        c.threads = 1 + k; /* and independent of the thread count */
        CHECK_OK(nk_report_run(&c));
    }
    static const char *const files[] = {"report.json", "index.html", "<a&>/naps/layer_05.npy",
                                        "<a&>/cluster_07/clusters.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p0[700], p1[700], *t0, *t1;
        size_t n0, n1;
        snprintf(p0, sizeof p0, "%s/%s", out[0], files[i]);
        snprintf(p1, sizeof p1, "%s/%s", out[1], files[i]);
        CHECK_OK(nk_read_file(p0, &t0, &n0));
        CHECK_OK(nk_read_file(p1, &t1, &n1));
        CHECK(n0 == n1 && !memcmp(t0, t1, n0));
        free(t0), free(t1);
    }
}

static void test_report_bad_input(void) {
    nk_report_config c;
    small_config(&c, NULL, 1);
    CHECK(nk_report_run(&c) == NK_ERR_ARG); /* no output folder */
    char out[300];
    snprintf(out, sizeof out, "%s/bad", check_tmpdir());
    small_config(&c, out, 1);
    c.model[0].path = "/nonexistent/model.safetensors";
    CHECK(nk_report_run(&c) != 0);
    CHECK(strstr(nk_last_error(), "/nonexistent/model.safetensors") != NULL);
    small_config(&c, out, 2);
    c.model[1].name = c.model[0].name;
    CHECK(nk_report_run(&c) == NK_ERR_ARG); /* one folder for two models: refused before any work */
    CHECK(strstr(nk_last_error(), "different names") != NULL);
    c.model[1].name = "compare";
    CHECK(nk_report_run(&c) == NK_ERR_ARG);
    c.model[1].name = "../up";
    CHECK(nk_report_run(&c) == NK_ERR_ARG);
    small_config(&c, out, 1);
    c.model[0].lp_model = NULL, c.model[0].language = "xx-none";
    setenv("NAPKIT_CACHE", check_tmpdir(), 1); /* an empty cache: no letter-phoneme model */
    CHECK(nk_report_run(&c) == NK_ERR_ARG);
    CHECK(strstr(nk_last_error(), "napkit lexicon") != NULL);
}

int main(void) {
    RUN(test_selectivity_is_anova_f);
    RUN(test_html_escape);
    RUN(test_report_end_to_end);
    RUN(test_report_is_deterministic);
    RUN(test_report_bad_input);
    return check_summary();
}
