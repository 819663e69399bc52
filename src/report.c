/* napkit report: the run (stages, figures, report.json, timing.json), unit
 * selectivity and the comparison of two models. */
#include "report_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOMEM nk_fail(NK_ERR_NOMEM, "out of memory")

void nk_report_config_default(nk_report_config *c) {
    memset(c, 0, sizeof *c);
    c->threads = 2;
    c->min_confidence = NK_ALIGN_MIN_CONFIDENCE;
    c->mode = NK_NAP_GXA;
    c->window = 15;
    c->min_count = 20;
    c->method = NK_LINK_AVERAGE;
    c->metric = NK_METRIC_CORRELATION;
    c->n_selective = 3;
    c->n_erp_groups = 5;
    c->n_attributions = 2;
    c->ig_steps = 32;
    c->n_top_units = 2;
    c->top_k = 3;
    c->som_epochs = 300;
    c->model[0].delay = c->model[1].delay = NAN; /* each model's stored one */
}

/* ---- helpers shared with report_model.c ---- */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void stage_end(rp_run *run) {
    if (run->stage) cJSON_AddNumberToObject(run->timing, run->stage, round(100 * (now() - run->t_stage)) / 100);
    free(run->stage);
    run->stage = NULL;
}

void rp_stage(rp_run *run, const char *fmt, ...) {
    stage_end(run);
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    run->stage = strdup(what);
    run->t_stage = now();
    if (run->cfg->stage) run->cfg->stage(run->cfg->stage_ctx, what);
}

void rp_figure(rp_run *run, const char *model, const char *kind, const char *file, const char *fmt, ...) {
    char caption[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(caption, sizeof caption, fmt, ap);
    va_end(ap);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "model", model);
    cJSON_AddStringToObject(f, "kind", kind);
    cJSON_AddStringToObject(f, "file", file);
    cJSON_AddStringToObject(f, "caption", caption);
    cJSON_AddItemToArray(run->figures, f);
}

cJSON *rp_number(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

char *rp_path(const rp_run *run, const char *fmt, ...) {
    char rel[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rel, sizeof rel, fmt, ap);
    va_end(ap);
    size_t n = strlen(run->cfg->out) + strlen(rel) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", run->cfg->out, rel);
    return p;
}

/* ---- selectivity ---- */

int nk_report_selectivity(const nk_nap_sums *s, int i, const int *groups, int G, int offset, double *F) {
    const nk_nap_config *nc = nk_nap_sums_config(s);
    const int W = 2 * nc->window + 1, C = i >= 0 && i < nc->n_layers ? nk_nap_sums_channels(s, i) : 0;
    if (C <= 0 || offset < 0 || offset >= W || G < 2) return nk_fail(NK_ERR_ARG, "selectivity: bad layer, offset or groups");
    double N = 0;
    for (int g = 0; g < G; g++) N += nk_nap_sums_count(s, groups[g], i)[offset];
    if (N <= G) return nk_fail(NK_ERR_ARG, "selectivity: %.0f events for %d groups", N, G);
    for (int c = 0; c < C; c++) {
        double total = 0, between = 0, within = 0;
        for (int g = 0; g < G; g++) total += nk_nap_sums_sum(s, groups[g], i)[(size_t)c * W + offset];
        const double mu = total / N;
        for (int g = 0; g < G; g++) {
            const double n = nk_nap_sums_count(s, groups[g], i)[offset];
            if (n <= 0) continue;
            const double sum = nk_nap_sums_sum(s, groups[g], i)[(size_t)c * W + offset],
                         sq = nk_nap_sums_sumsq(s, groups[g], i)[(size_t)c * W + offset], mg = sum / n;
            between += n * (mg - mu) * (mg - mu);
            within += sq - sum * mg; /* Σ (v − μ_g)² = Σ v² − n μ_g² */
        }
        between /= G - 1;
        within /= N - G;
        /* rounding can leave a tiny negative or zero spread for a constant unit */
        F[c] = within > 1e-12 * (between + fabs(mu * mu) + 1e-300) ? between / within : NAN;
    }
    return NK_OK;
}

/* ---- the comparison of two models ---- */

static int compare_progress(void *ctx, size_t done, const nk_compare_utt *u, const char *failed) {
    nk_progress_update(ctx, done, (double)done, NULL);
    return 0;
}

static int compare(rp_run *run, rp_model *pa, rp_model *pb, cJSON *root) {
    const nk_report_config *cfg = run->cfg;
    const nk_arch *A = nk_model_arch(pa->m), *B = nk_model_arch(pb->m);
    const int L = A->n_layers < B->n_layers ? A->n_layers : B->n_layers;
    int *layers = malloc(sizeof(int) * L), *ca = malloc(sizeof(int) * L), *cb = malloc(sizeof(int) * L);
    /* every utterance of both models' corpora: the comparison runs on audio */
    size_t n = 0, used = 0, failed = 0;
    for (int k = 0; k < 2; k++) {
        const rp_model *pm = k ? pb : pa;
        for (int i = 0; i < pm->spec->n_corpora; i++) n += nk_corpus_size(pm->corpora[i]);
    }
    nk_compare_utt *u = calloc(n + 1, sizeof *u);
    char *dir = rp_path(run, "compare"), *naps_a = rp_path(run, "%s/naps", pa->name),
         *naps_b = rp_path(run, "%s/naps", pb->name);
    nk_cmp_moments *m = NULL;
    nk_compare_result res = {0};
    nk_profile_result pr = {0};
    nk_topo_result tr = {0};
    int rc = layers && ca && cb && u && dir && naps_a && naps_b ? NK_OK : NOMEM;
    n = 0;
    for (int k = 0; !rc && k < 2; k++) {
        const rp_model *pm = k ? pb : pa;
        for (int i = 0; i < pm->spec->n_corpora; i++)
            for (size_t j = 0; j < nk_corpus_size(pm->corpora[i]); j++) {
                const nk_utterance *x = nk_corpus_get(pm->corpora[i], j);
                u[n++] = (nk_compare_utt){.id = x->id, .audio = x->audio};
            }
    }
    for (int l = 0; !rc && l < L; l++) layers[l] = l, ca[l] = A->layers[l].out, cb[l] = B->layers[l].out;
    if (!rc) rc = nk_cmp_moments_new(L, ca, L, cb, &m);
    if (!rc) {
        nk_progress *p = nk_progress_new("compare", n, "utt", cfg->show_progress);
        /* failures are counted from the result: used + failed = n */
        rc = nk_compare_run(pa->m, layers, L, pb->m, layers, L, u, n, cfg->threads, compare_progress, p, m, &used);
        nk_progress_finish(p);
        failed = n - used;
    }
    nk_plot_style st;
    nk_plot_style_default(&st);
    st.dpi = 150;
    if (!rc) rc = nk_compare_analyze(m, layers, L, layers, L, &res);
    if (!rc) rc = nk_compare_write(&res, pa->name, pb->name, &st, dir);
    if (!rc) rc = nk_compare_profiles(naps_a, naps_b, &res, pa->name, pb->name, &st, dir, &pr);
    nk_topo_config tc;
    nk_topo_config_default(&tc);
    tc.epochs = cfg->som_epochs, tc.layer = L / 2;
    if (!rc) rc = nk_compare_topomaps(naps_a, naps_b, &tc, pa->name, pb->name, &st, dir, &tr);
    if (!rc) {
        const char *specs[16];
        int n_specs = 0;
        for (int k = 0; k < 2; k++) {
            const rp_model *pm = k ? pb : pa;
            for (int i = 0; i < pm->spec->n_corpora && n_specs < 16; i++) specs[n_specs++] = pm->spec->corpora[i];
        }
        nk_compare_info info = {pa->name, pb->name, pa->spec->path, pb->spec->path, specs, n_specs, used, failed, 0};
        rc = nk_compare_summary_write(&info, &res, &pr, &tr, dir);
    }
    if (!rc) {
        cJSON *c = cJSON_AddObjectToObject(root, "compare"), *cka = cJSON_AddArrayToObject(c, "cka");
        cJSON_AddStringToObject(c, "a", pa->name);
        cJSON_AddStringToObject(c, "b", pb->name);
        cJSON_AddStringToObject(c, "dir", "compare");
        cJSON_AddNumberToObject(c, "utterances", (double)used);
        cJSON_AddNumberToObject(c, "failed", (double)failed);
        cJSON_AddNumberToObject(c, "samples", res.samples);
        for (int i = 0; i < L; i++) {
            cJSON *row = cJSON_CreateArray();
            for (int j = 0; j < L; j++) cJSON_AddItemToArray(row, rp_number(res.cka[i * L + j]));
            cJSON_AddItemToArray(cka, row);
        }
        cJSON *per = cJSON_AddArrayToObject(c, "per_layer");
        for (int p = 0; p < res.n_pairs; p++) {
            const int l = res.pair[p];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "layer", l);
            cJSON_AddItemToObject(o, "cka", rp_number(res.cka[l * L + l]));
            cJSON_AddItemToObject(o, "mean_match", rp_number(res.um[p].mean_match));
            cJSON_AddItemToObject(o, "mean_semi", rp_number(res.um[p].mean_semi));
            for (int k = 0; k < pr.n_layers; k++)
                if (pr.layers[k].layer == l) {
                    cJSON_AddNumberToObject(o, "shared_phonemes", pr.layers[k].G);
                    cJSON_AddItemToObject(o, "profile_same", rp_number(pr.layers[k].same));
                    cJSON_AddItemToObject(o, "profile_different", rp_number(pr.layers[k].different));
                    cJSON_AddItemToObject(o, "identification", rp_number(pr.layers[k].identification));
                    cJSON_AddItemToObject(o, "tree_cophenetic", rp_number(pr.layers[k].cophenetic));
                }
            cJSON_AddItemToArray(per, o);
        }
        cJSON *t = cJSON_AddObjectToObject(c, "topomap");
        cJSON_AddNumberToObject(t, "layer", tr.layer);
        cJSON_AddNumberToObject(t, "rows", tr.rows);
        cJSON_AddNumberToObject(t, "cols", tr.cols);
        cJSON_AddItemToObject(t, "same", rp_number(tr.same));
        cJSON_AddItemToObject(t, "different", rp_number(tr.different));
        rp_figure(run, "compare", "compare", "compare/cka.png",
                  "Linear CKA between every layer of %s (rows) and of %s (columns), from activations of both models on "
                  "the same %zu utterances (%s's and %s's corpora; %.0f frames on a common frame grid).",
                  pa->name, pb->name, used, pa->name, pb->name, res.samples);
        const int shown[3] = {1, L / 2, L - 2};
        for (int k = 0; k < 3; k++) {
            char file[64];
            snprintf(file, sizeof file, "compare/matched_%02d.png", shown[k]);
            rp_figure(run, "compare", "compare", file,
                      "Layer %d: Pearson correlation of each %s unit with its one-to-one (Hungarian) partner in %s, "
                      "sorted; mean %.2f (semi-matching %.2f).",
                      shown[k], pa->name, pb->name, res.um[shown[k]].mean_match, res.um[shown[k]].mean_semi);
        }
        for (int k = 0; k < pr.n_layers; k++)
            if (pr.layers[k].layer == L / 2) {
                char file[64];
                snprintf(file, sizeof file, "compare/tanglegram_%02d.png", L / 2);
                rp_figure(run, "compare", "compare", file,
                          "Layer %d: Ward trees of the %d phonemes both models have (IPA), %s left and %s right, "
                          "lines joining the same phoneme; cophenetic correlation of the trees %.2f.",
                          L / 2, pr.layers[k].G, pa->name, pb->name, pr.layers[k].cophenetic);
            }
        char file[64];
        snprintf(file, sizeof file, "compare/topomap_%02d.png", tr.layer);
        rp_figure(run, "compare", "compare", file,
                  "Layer %d of both models laid out on one %d × %d self-organizing map (%d epochs) of the units' "
                  "z-scored profiles over the shared phonemes; per phoneme, each model's image (Gaussian-smoothed, "
                  "σ = 1 cell). Image correlation across models: same phoneme %.2f, different %.2f.",
                  tr.layer, tr.rows, tr.cols, cfg->som_epochs, tr.same, tr.different);
    }
    nk_profile_result_free(&pr);
    nk_topo_result_free(&tr);
    nk_compare_result_free(&res);
    nk_cmp_moments_free(m);
    free(layers), free(ca), free(cb), free(u), free(dir), free(naps_a), free(naps_b);
    return rc;
}

/* ---- the run ---- */

static cJSON *settings_json(const nk_report_config *c) {
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "mode", nk_nap_mode_names[c->mode]);
    cJSON_AddNumberToObject(s, "window", c->window);
    cJSON_AddStringToObject(s, "normalize", "groupmean");
    cJSON_AddNumberToObject(s, "min_count", (double)c->min_count);
    cJSON_AddStringToObject(s, "linkage", nk_linkage_method_names[c->method]);
    cJSON_AddStringToObject(s, "metric", nk_metric_names[c->metric]);
    cJSON_AddNumberToObject(s, "min_confidence", c->min_confidence);
    cJSON_AddNumberToObject(s, "max_utterances", (double)c->max_utterances);
    cJSON_AddStringToObject(s, "selectivity", "one-way ANOVA F of the GradNAP values at the event across phonemes");
    cJSON_AddNumberToObject(s, "ig_steps", c->ig_steps);
    cJSON_AddNumberToObject(s, "top_k", c->top_k);
    cJSON_AddNumberToObject(s, "som_epochs", c->som_epochs);
    return s;
}

int nk_report_run(const nk_report_config *c) {
    if (!c->out || c->n_models < 1 || c->n_models > 2 || c->threads < 1)
        return nk_fail(NK_ERR_ARG, "report: needs an output folder, one or two models and threads >= 1");
    for (int k = 0; k < c->n_models; k++)
        if (!c->model[k].path || !c->model[k].language || c->model[k].n_corpora < 1)
            return nk_fail(NK_ERR_ARG, "report: model %d needs a file, a language and at least one corpus", k + 1);
    /* each model's outputs go to a folder of its name, beside compare/ */
    char *names[2] = {NULL, NULL};
    int bad = 0;
    for (int k = 0; k < c->n_models && !bad; k++) {
        const char *n = names[k] = rp_model_name(&c->model[k]);
        if (!n) bad = NOMEM;
        else if (!*n || strchr(n, '/') || !strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, "compare"))
            bad = nk_fail(NK_ERR_ARG, "report: '%s' cannot name a model's folder (empty, '/', '.', '..' or 'compare')", n);
    }
    if (!bad && c->n_models == 2 && !strcmp(names[0], names[1]))
        bad = nk_fail(NK_ERR_ARG, "report: both models are named '%s'; give them different names", names[0]);
    free(names[0]), free(names[1]);
    if (bad) return bad;
    rp_run run = {c, cJSON_CreateArray(), cJSON_CreateObject(), NULL, 0};
    rp_model pm[2] = {{0}};
    cJSON *root = cJSON_CreateObject();
    const double t0 = now();
    int rc = run.figures && run.timing && root ? nk_mkdirs(c->out) : NOMEM;
    if (!rc) {
        cJSON_AddStringToObject(root, "napkit", NK_VERSION);
        cJSON_AddItemToObject(root, "settings", settings_json(c));
    }
    cJSON *models = rc ? NULL : cJSON_AddArrayToObject(root, "models");
    for (int k = 0; !rc && k < c->n_models; k++) {
        pm[k].spec = &c->model[k];
        rc = rp_model_run(&run, &pm[k]);
        if (!rc) {
            cJSON_AddItemToArray(models, pm[k].json);
            pm[k].json = NULL;
        }
    }
    if (!rc && c->n_models == 2) {
        rp_stage(&run, "%s vs %s: CKA, unit matching, phoneme profiles, topographic maps", pm[0].name, pm[1].name);
        rc = compare(&run, &pm[0], &pm[1], root);
    }
    if (!rc) {
        rp_stage(&run, "writing report.json and index.html");
        cJSON_AddItemToObject(root, "figures", run.figures);
        run.figures = NULL;
        char *text = cJSON_Print(root), *page = rp_path(&run, "index.html");
        rc = text && page ? nk_write_json_in(run.cfg->out, "report.json", root) : NOMEM;
        if (!rc) rc = nk_report_write_html(text, page);
        free(text), free(page);
    }
    stage_end(&run);
    cJSON_AddNumberToObject(run.timing, "total", round(100 * (now() - t0)) / 100);
    if (!rc) rc = nk_write_json_in(run.cfg->out, "timing.json", run.timing);
    for (int k = 0; k < 2; k++) rp_model_free(&pm[k]);
    cJSON_Delete(root), cJSON_Delete(run.figures), cJSON_Delete(run.timing);
    return rc;
}
