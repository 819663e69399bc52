/* One model's part of napkit report: data, transcription, alignment,
 * GradNAPs, then per layer clustering, heatmap, selective units and ERP
 * curves, attribution maps and top-activating snippets. */
#include "report_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NOMEM nk_fail(NK_ERR_NOMEM, "out of memory")

void rp_model_free(rp_model *pm) {
    for (size_t i = 0; pm->items && i < nk_dataset_size(pm->d); i++) nk_align_result_free(&pm->items[i].r);
    for (int i = 0; pm->corpora && i < pm->spec->n_corpora; i++) nk_corpus_free(pm->corpora[i]);
    if (pm->have_naps) nk_nap_result_free(&pm->naps);
    nk_nap_sums_free(pm->sums);
    nk_dataset_free(pm->d);
    nk_alphabet_free(pm->alpha);
    nk_model_free(pm->m);
    cJSON_Delete(pm->json);
    free(pm->items), free(pm->corpora), free(pm->best_unit), free(pm->best_F), free(pm->name), free(pm->dir);
    memset(pm, 0, sizeof *pm);
}

/* ---- data ---- */

static int load_data(rp_run *run, rp_model *pm) {
    const nk_report_model *sp = pm->spec;
    const nk_arch *a = nk_model_arch(pm->m);
    int rc = nk_alphabet_new((const char *const *)a->alphabet, a->n_classes, &pm->alpha);
    if (!rc && !(pm->corpora = calloc((size_t)sp->n_corpora + 1, sizeof *pm->corpora))) rc = NOMEM;
    cJSON *list = cJSON_AddArrayToObject(pm->json, "corpora");
    for (int i = 0; !rc && i < sp->n_corpora; i++) {
        nk_corpus_options co;
        nk_corpus_options_default(&co, pm->alpha);
        co.max_utterances = run->cfg->max_utterances;
        if ((rc = nk_corpus_open(sp->corpora[i], &co, &pm->corpora[i]))) break;
        const nk_corpus *c = pm->corpora[i];
        cJSON *o = cJSON_CreateObject(), *sk = cJSON_CreateArray();
        cJSON_AddStringToObject(o, "corpus", sp->corpora[i]);
        cJSON_AddStringToObject(o, "layout", nk_corpus_layout(c));
        cJSON_AddNumberToObject(o, "utterances", (double)nk_corpus_size(c));
        cJSON_AddNumberToObject(o, "speakers", (double)nk_corpus_n_speakers(c));
        cJSON_AddNumberToObject(o, "hours", nk_corpus_duration(c) / 3600);
        cJSON_AddNumberToObject(o, "skipped", (double)nk_corpus_n_skipped(c));
        for (size_t k = 0; k < nk_corpus_n_skipped(c) && k < 10; k++) {
            char line[600];
            snprintf(line, sizeof line, "%s: %s", nk_corpus_skipped(c, k)->file, nk_corpus_skipped(c, k)->reason);
            cJSON_AddItemToArray(sk, cJSON_CreateString(line));
        }
        cJSON_AddItemToObject(o, "skipped_first", sk);
        cJSON_AddItemToArray(list, o);
    }
    if (!rc) rc = nk_dataset_build(pm->corpora, sp->n_corpora, a, run->cfg->threads, run->cfg->show_progress, &pm->d);
    if (!rc && nk_dataset_size(pm->d) == 0)
        rc = nk_fail(NK_ERR_EMPTY, "%s: the corpora hold no usable utterance", pm->name);
    if (!rc) {
        cJSON_AddNumberToObject(pm->json, "utterances", (double)nk_dataset_size(pm->d));
        cJSON_AddNumberToObject(pm->json, "hours", nk_dataset_seconds(pm->d) / 3600);
        cJSON_AddNumberToObject(pm->json, "audio_skipped", (double)nk_dataset_n_skipped(pm->d));
    }
    return rc;
}

/* ---- transcription ---- */

static int evaluate(rp_run *run, rp_model *pm) {
    const size_t n = nk_dataset_size(pm->d);
    nk_eval_item *items = calloc(n + 1, sizeof *items);
    nk_error_counts total;
    char *path = rp_path(run, "%s/eval.json", pm->name);
    int rc = items && path ? nk_evaluate(pm->m, pm->d, run->cfg->threads, NULL, items, &total) : NOMEM;
    if (!rc) rc = nk_eval_write_json(path, pm->d, items, &total, NULL);
    if (!rc) {
        cJSON *e = cJSON_AddObjectToObject(pm->json, "eval");
        cJSON_AddItemToObject(e, "cer", rp_number(nk_cer(&total)));
        cJSON_AddItemToObject(e, "wer", rp_number(nk_wer(&total)));
        cJSON_AddNumberToObject(e, "utterances", (double)n);
        cJSON_AddStringToObject(e, "file", strchr(path, '/') ? path + strlen(run->cfg->out) + 1 : path);
    }
    for (size_t i = 0; items && i < n; i++) free(items[i].hypothesis);
    free(items), free(path);
    return rc;
}

/* ---- alignment ---- */

/* A corpus spec's folder, where reference TextGrids lie: "LAYOUT:PATH" → PATH,
 * and a file (a manifest, a .tsv) → the folder holding it. malloc'd. */
static char *spec_dir(const char *spec) {
    const char *colon = strchr(spec, ':');
    for (int i = 0; colon && nk_corpus_layout_names[i]; i++)
        if (strlen(nk_corpus_layout_names[i]) == (size_t)(colon - spec) && !strncmp(spec, nk_corpus_layout_names[i], colon - spec))
            spec = colon + 1;
    struct stat st;
    if (stat(spec, &st) || S_ISDIR(st.st_mode)) return strdup(spec);
    const char *slash = strrchr(spec, '/');
    return slash ? strndup(spec, slash - spec) : strdup(".");
}

static cJSON *onset_json(const nk_onset_stats *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "reference", s->n_ref);
    cJSON_AddNumberToObject(o, "matched", s->n_matched);
    cJSON_AddItemToObject(o, "within_20ms", rp_number(s->within_20ms));
    cJSON_AddItemToObject(o, "within_50ms", rp_number(s->within_50ms));
    cJSON_AddItemToObject(o, "median_abs_error_ms", rp_number(1000 * s->median_abs));
    cJSON_AddItemToObject(o, "median_error_ms", rp_number(1000 * s->median_signed));
    return o;
}

/* Phoneme onsets against the TextGrids beside the audio, where there are any. */
static int onsets(rp_model *pm, cJSON *al) {
    nk_align_quality *q;
    size_t used = 0;
    int rc = nk_align_quality_new(&q);
    for (int i = 0; !rc && i < pm->spec->n_corpora; i++) {
        size_t u = 0, missing;
        char *dir = spec_dir(pm->spec->corpora[i]);
        rc = dir ? nk_align_quality_add_dir(q, dir, pm->d, pm->items, &u, &missing) : NOMEM;
        if (rc == NK_ERR_EMPTY) rc = NK_OK, u = 0; /* real recordings: no reference timings */
        used += u;
        free(dir);
    }
    if (!rc && used) {
        nk_onset_stats s;
        nk_align_quality_stats(q, -1, &s);
        cJSON *o = onset_json(&s), *per = cJSON_AddObjectToObject(o, "per_class");
        cJSON_AddNumberToObject(o, "utterances", (double)used);
        for (int c = 0; c < NK_PC_COUNT; c++) {
            nk_align_quality_stats(q, c, &s);
            if (s.n_matched) cJSON_AddItemToObject(per, nk_phone_class_names[c], onset_json(&s));
        }
        cJSON_AddItemToObject(al, "onsets", o);
    }
    nk_align_quality_free(q);
    return rc;
}

static int align(rp_run *run, rp_model *pm) {
    const nk_report_model *sp = pm->spec;
    const size_t n = nk_dataset_size(pm->d);
    nk_align_config ac;
    nk_lexicon *lex = NULL;
    nk_lp_model *lp = NULL;
    char *dir = rp_path(run, "%s/align", pm->name);
    int rc = dir ? nk_align_config_init(&ac, nk_model_arch(pm->m)) : NOMEM;
    /* the report aligns at the spike boundary, where a stored delay applies */
    const double delay = isnan(sp->delay) ? nk_align_model_delay(pm->m, 0) : sp->delay;
    if (!rc && !strcmp(sp->language, "en")) rc = nk_lexicon_load(sp->lexicon ? sp->lexicon : nk_lexicon_default_path(), &lex);
    if (!rc) rc = nk_lp_model_for(sp->language, nk_espeak_voice_for(sp->language), lex, sp->lp_model, NULL, &lp);
    if (!rc && !(pm->items = calloc(n + 1, sizeof *pm->items))) rc = NOMEM;
    if (!rc) {
        ac.lexicon = lex, ac.lp = lp, ac.voice = nk_espeak_voice_for(sp->language), ac.delay = delay;
        rc = nk_align_dataset(pm->m, pm->d, &ac, run->cfg->min_confidence, run->cfg->threads, run->cfg->show_progress,
                              pm->items);
    }
    if (!rc) rc = nk_align_write_dir(dir, pm->d, pm->items, 0);
    size_t ok = 0;
    double conf = 0;
    for (size_t i = 0; !rc && i < n; i++)
        if (pm->items[i].status == NK_ALIGN_OK) ok++, conf += pm->items[i].r.confidence;
    if (!rc && ok == 0) rc = nk_fail(NK_ERR_EMPTY, "%s: no utterance could be aligned (see %s/alignment.json)", pm->name, dir);
    if (!rc) {
        cJSON *al = cJSON_AddObjectToObject(pm->json, "align");
        cJSON_AddNumberToObject(al, "aligned", (double)ok);
        cJSON_AddNumberToObject(al, "utterances", (double)n);
        cJSON_AddItemToObject(al, "confidence", rp_number(conf / ok));
        cJSON_AddNumberToObject(al, "delay_ms", 1000 * delay);
        cJSON_AddStringToObject(al, "dir", dir + strlen(run->cfg->out) + 1);
        rc = onsets(pm, al);
    }
    nk_lexicon_free(lex);
    nk_lp_model_free(lp);
    free(dir);
    return rc;
}

/* ---- GradNAPs ---- */

typedef struct {
    nk_progress *p;
    double seconds, frame_seconds;
    size_t failed;
} nap_progress;

static int after_utterance(void *ctx, size_t done, const nk_nap_utt *u, const char *failed) {
    nap_progress *c = ctx;
    if (failed) c->failed++;
    else c->seconds += u->T * c->frame_seconds;
    nk_progress_update(c->p, done, c->seconds, NULL);
    return 0;
}

static int naps(rp_run *run, rp_model *pm) {
    const nk_report_config *cfg = run->cfg;
    const nk_arch *a = nk_model_arch(pm->m);
    const size_t n = nk_dataset_size(pm->d);
    nk_events ev = {0};
    nk_nap_grouped g = {0};
    nk_nap_config nc = {.mode = cfg->mode, .window = cfg->window, .n_layers = a->n_layers};
    nk_nap_utt *u = calloc(n + 1, sizeof *u);
    char *events = rp_path(run, "%s/align/events.jsonl", pm->name), *dir = rp_path(run, "%s/naps", pm->name);
    char *identity = NULL, *extra = NULL;
    int rc = u && events && dir && (nc.layers = malloc(sizeof(int) * a->n_layers)) ? NK_OK : NOMEM;
    for (int l = 0; !rc && l < a->n_layers; l++) nc.layers[l] = l;
    if (!rc) rc = nk_events_read(events, &ev);
    if (!rc) rc = nk_nap_group_events(&ev, NK_NAP_GROUP_PHONEME, a, pm->d, &g);
    if (!rc) {
        identity = nk_nap_identity(pm->m, NK_NAP_GROUP_PHONEME, "events.jsonl");
        extra = nk_nap_run_info(a, &nc, pm->spec->path, "align", pm->spec->corpora, pm->spec->n_corpora, n, NULL);
        rc = identity && extra ? nk_nap_sums_new(a, &nc, (const char *const *)g.groups, g.G, identity, &pm->sums) : NOMEM;
    }
    size_t n_u = 0;
    for (size_t i = 0; !rc && i < n; i++)
        if (g.n_ev[i]) {
            const nk_example *x = nk_dataset_get(pm->d, i);
            u[n_u++] = (nk_nap_utt){x->id, x->x, x->T, g.ev[i], g.n_ev[i]};
        }
    nap_progress np = {nk_progress_new("GradNAPs", n_u, "s audio", cfg->show_progress), 0,
                       (double)a->frontend.hop / a->frontend.sample_rate, 0};
    if (!rc) rc = nk_nap_run(pm->m, pm->sums, u, n_u, cfg->threads, after_utterance, &np);
    nk_progress_finish(np.p);
    nk_nap_finalize_opts fo;
    nk_nap_finalize_opts_default(&fo);
    fo.min_count = cfg->min_count;
    if (!rc && !(rc = nk_nap_finalize(pm->sums, &fo, &pm->naps))) pm->have_naps = 1;
    if (!rc) rc = nk_nap_result_save(&pm->naps, pm->sums, &fo, extra, dir);
    if (!rc) {
        cJSON *o = cJSON_AddObjectToObject(pm->json, "naps"), *kept = cJSON_AddArrayToObject(o, "groups"),
              *dropped = cJSON_AddArrayToObject(o, "dropped");
        long long events_n = 0;
        for (int k = 0; k < pm->naps.G; k++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "group", nk_nap_sums_group(pm->sums, pm->naps.group[k]));
            cJSON_AddNumberToObject(e, "events", (double)nk_nap_sums_n_events(pm->sums, pm->naps.group[k]));
            events_n += nk_nap_sums_n_events(pm->sums, pm->naps.group[k]);
            cJSON_AddItemToArray(kept, e);
        }
        for (int k = 0; k < pm->naps.n_dropped; k++)
            cJSON_AddItemToArray(dropped, cJSON_CreateString(nk_nap_sums_group(pm->sums, pm->naps.dropped[k])));
        cJSON_AddNumberToObject(o, "events", (double)events_n);
        cJSON_AddNumberToObject(o, "utterances", (double)nk_nap_sums_n_utts(pm->sums));
        cJSON_AddNumberToObject(o, "failed_utterances", (double)np.failed);
        cJSON_AddNumberToObject(o, "skipped_events", (double)nk_nap_sums_n_skipped_events(pm->sums));
        cJSON_AddStringToObject(o, "dir", dir + strlen(cfg->out) + 1);
    }
    nk_events_free(&ev);
    nk_nap_grouped_free(&g);
    free(u), free(events), free(dir), free(identity), free(extra), free(nc.layers);
    return rc;
}

/* ---- per layer: clusters, heatmap, selective units, ERP ---- */

/* Phonetic class of each group (phoneset.h), as indices into the classes present. */
static int group_classes(const nk_nap_sums *s, const nk_nap_result *r, const char **labels, int *classes,
                         const char **names) {
    int present[NK_PC_COUNT] = {0}, n_present = 0, of[NK_PC_COUNT];
    for (int g = 0; g < r->G; g++) {
        labels[g] = nk_nap_sums_group(s, r->group[g]);
        int id = nk_phone_by_ipa(labels[g]);
        classes[g] = id >= 0 ? (int)nk_phone_at(id)->cls : -1;
        if (classes[g] >= 0) present[classes[g]] = 1;
    }
    for (int c = 0; c < NK_PC_COUNT; c++)
        if (present[c]) of[c] = n_present, names[n_present++] = nk_phone_class_names[c];
    for (int g = 0; g < r->G; g++)
        if (classes[g] >= 0) classes[g] = of[classes[g]];
    return n_present;
}

static int by_key_desc(const void *a, const void *b, void *key) {
    double x = ((const double *)key)[*(const int *)a], y = ((const double *)key)[*(const int *)b];
    if (isnan(x) || isnan(y)) return isnan(x) - isnan(y); /* NaN last */
    return x < y ? 1 : x > y ? -1 : *(const int *)a - *(const int *)b;
}

/* Indices 0 … n−1 sorted by key, largest first, NaN last, ties by index. */
static void order_desc(const double *key, int n, int *order) {
    for (int i = 0; i < n; i++) order[i] = i;
    qsort_r(order, n, sizeof *order, by_key_desc, (void *)key);
}

static double frame_ms(const nk_arch *a, int l) {
    return 1000.0 * nk_arch_total_stride(a, l) * a->frontend.hop / a->frontend.sample_rate;
}

/* ERP curves of unit u of the i-th layer for its n_groups groups with the
 * largest mean at the event. */
static int erp_figure(rp_run *run, rp_model *pm, int i, int u, const char **labels, cJSON *lj) {
    const nk_nap_result *r = &pm->naps;
    const int G = r->G, C = r->channels[i], W = 2 * r->window + 1, l = i; /* every layer is in the run */
    const int n = G < run->cfg->n_erp_groups ? G : run->cfg->n_erp_groups;
    double *at0 = malloc(sizeof(double) * G);
    int *order = malloc(sizeof(int) * G);
    float *mean = malloc(sizeof(float) * n * W), *sem = malloc(sizeof(float) * n * W), *x = malloc(sizeof(float) * W);
    const char **names = malloc(sizeof(char *) * (n + 1));
    char *path = rp_path(run, "%s/erp_%02d.png", pm->name, l);
    int rc = at0 && order && mean && sem && x && names && path ? NK_OK : NOMEM;
    const nk_arch *a = nk_model_arch(pm->m);
    cJSON *groups = rc ? NULL : cJSON_CreateArray();
    for (int g = 0; !rc && g < G; g++) at0[g] = r->mean[i][((size_t)g * C + u) * W + r->window];
    if (!rc) order_desc(at0, G, order);
    for (int k = 0; !rc && k < n; k++) {
        const size_t off = ((size_t)order[k] * C + u) * W;
        memcpy(mean + (size_t)k * W, r->mean[i] + off, sizeof(float) * W);
        memcpy(sem + (size_t)k * W, r->sem[i] + off, sizeof(float) * W);
        names[k] = labels[order[k]];
        cJSON_AddItemToArray(groups, cJSON_CreateString(names[k]));
    }
    for (int t = 0; !rc && t < W; t++) x[t] = (float)((t - r->window) * frame_ms(a, l));
    if (!rc) {
        char title[160];
        nk_plot_style st;
        nk_plot_style_default(&st);
        snprintf(title, sizeof title, "%s layer %d, unit %d: GradNAP around the phoneme", pm->name, l, u);
        st.title = title, st.xlabel = "time relative to the phoneme (ms)", st.ylabel = "GradNAP (group-mean removed)";
        st.dpi = 150;
        rc = nk_plot_erp(mean, sem, n, W, names, x, &st, path);
    }
    if (!rc) {
        cJSON *e = cJSON_AddObjectToObject(lj, "erp");
        cJSON_AddNumberToObject(e, "unit", u);
        cJSON_AddItemToObject(e, "groups", groups);
        groups = NULL;
        rp_figure(run, pm->name, "layers", path + strlen(run->cfg->out) + 1,
                  "ERP curves of layer %d's most selective unit (%d): mean GradNAP (%s, group mean removed) ± SEM of "
                  "the %d phonemes with the largest value at the event, over ±%d frames (±%.0f ms) around each "
                  "phoneme's peak frame.",
                  l, u, nk_nap_mode_names[run->cfg->mode], n, r->window, r->window * frame_ms(a, l));
    }
    cJSON_Delete(groups);
    free(at0), free(order), free(mean), free(sem), free(x), free(names), free(path);
    return rc;
}

static int layer_analysis(rp_run *run, rp_model *pm, int i, cJSON *layers) {
    const nk_report_config *cfg = run->cfg;
    const nk_nap_result *r = &pm->naps;
    const int G = r->G, C = r->channels[i], l = i; /* every layer is in the run: the i-th is layer i */
    const char **labels = malloc(sizeof(char *) * G), *class_names[NK_PC_COUNT];
    int *classes = malloc(sizeof(int) * G), *col = malloc(sizeof(int) * C);
    double *F = malloc(sizeof(double) * C), *X = malloc(sizeof(double) * G * C);
    char *dir = rp_path(run, "%s/cluster_%02d", pm->name, l), *heat = rp_path(run, "%s/cluster_%02d/heatmap.png", pm->name, l),
         *dendro = rp_path(run, "%s/cluster_%02d/dendrogram.png", pm->name, l);
    nk_cluster_result cr = {0};
    cJSON *lj = cJSON_CreateObject();
    cJSON_AddItemToArray(layers, lj);
    cJSON_AddNumberToObject(lj, "layer", l);
    cJSON_AddNumberToObject(lj, "units", C);
    cJSON_AddNumberToObject(lj, "groups", G);
    int rc = labels && classes && col && F && X && dir && heat && dendro ? NK_OK : NOMEM;
    if (rc) goto done;
    int n_cls = group_classes(pm->sums, r, labels, classes, class_names);
    /* Selectivity: which units tell the phonemes apart at the event. */
    if (G >= 2 && !nk_report_selectivity(pm->sums, i, r->group, G, r->window, F)) {
        order_desc(F, C, col);
        cJSON *sel = cJSON_AddArrayToObject(lj, "selective");
        for (int k = 0; k < C && k < cfg->n_selective && isfinite(F[col[k]]); k++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "unit", col[k]);
            cJSON_AddItemToObject(o, "F", rp_number(F[col[k]]));
            cJSON_AddItemToArray(sel, o);
        }
        if (isfinite(F[col[0]])) pm->best_unit[l] = col[0], pm->best_F[l] = F[col[0]];
    } else {
        for (int c = 0; c < C; c++) col[c] = c;
    }
    /* Clustering of the time-independent profiles against the phonetic classes. */
    for (size_t k = 0; k < (size_t)G * C; k++) X[k] = r->flat[i][k];
    nk_cluster_config cc;
    nk_cluster_config_default(&cc);
    cc.method = cfg->method, cc.metric = cfg->metric, cc.optimal_order = 1, cc.k = n_cls >= 2 ? n_cls : 0;
    char input[64];
    snprintf(input, sizeof input, "naps (layer %d)", l);
    if (G < 2 || nk_cluster_analyze(X, G, C, &cc, classes, &cr)) {
        cJSON_AddStringToObject(lj, "skipped", G < 2 ? "fewer than 2 groups" : nk_last_error());
        goto done;
    }
    nk_plot_style st;
    nk_plot_style_default(&st);
    st.dpi = 150;
    char title[160];
    snprintf(title, sizeof title, "%s layer %d: phoneme GradNAP profiles", pm->name, l);
    st.title = title;
    rc = nk_cluster_write_dir(dir, input, &cc, &cr, labels, classes, class_names, n_cls, -1, &st, "dendrogram.png");
    if (!rc) {
        nk_matrix_axes ax;
        nk_matrix_axes_default(&ax);
        ax.row_labels = labels, ax.clabel = "GradNAP";
        snprintf(title, sizeof title, "%s layer %d: phonemes × units", pm->name, l);
        st.xlabel = "unit (most selective first)";
        float *M = malloc(sizeof(float) * G * C);
        for (size_t k = 0; M && k < (size_t)G * C; k++) M[k] = r->flat[i][k];
        rc = M ? nk_plot_heatmap(M, G, C, cr.order, col, &ax, &st, heat) : NOMEM;
        free(M);
    }
    if (rc) goto done;
    cJSON_AddItemToObject(lj, "purity", rp_number(cr.purity));
    cJSON_AddItemToObject(lj, "ari", rp_number(cr.ari));
    cJSON_AddItemToObject(lj, "silhouette_classes", rp_number(cr.silhouette_classes));
    cJSON_AddItemToObject(lj, "silhouette", rp_number(cr.silhouette));
    cJSON_AddItemToObject(lj, "cophenetic", rp_number(cr.cophenetic));
    cJSON_AddNumberToObject(lj, "clusters", cr.n_flat);
    cJSON_AddNumberToObject(lj, "classes", n_cls);
    cJSON_AddStringToObject(lj, "dir", dir + strlen(cfg->out) + 1);
    rp_figure(run, pm->name, "layers", dendro + strlen(cfg->out) + 1,
              "Layer %d: dendrogram of the %d phonemes' time-independent GradNAPs (%s, mean over ±%d frames, group "
              "mean removed; %s linkage, %s distance, optimal leaf order), cut into %d clusters (link colours); the "
              "strip shows each phoneme's phonetic class. Purity %.2f, ARI %.2f against the %d classes.",
              l, G, nk_nap_mode_names[cfg->mode], r->window, nk_linkage_method_names[cfg->method],
              nk_metric_names[cfg->metric], cr.n_flat, cr.purity, cr.ari, n_cls);
    rp_figure(run, pm->name, "layers", heat + strlen(cfg->out) + 1,
              "Layer %d: heatmap of the time-independent GradNAPs, phonemes (rows, in the dendrogram's leaf order) × "
              "%d units (columns, by selectivity F, most selective first); red above, blue below the mean over "
              "phonemes.",
              l, C);
    if (pm->best_unit[l] >= 0) rc = erp_figure(run, pm, i, pm->best_unit[l], labels, lj);
done:
    nk_cluster_result_free(&cr);
    free(labels), free(classes), free(col), free(F), free(X), free(dir), free(heat), free(dendro);
    return rc;
}

/* ---- attribution ---- */

static void safe_name(const char *id, char *out, size_t cap) {
    snprintf(out, cap, "%s", id);
    for (char *p = out; *p; p++)
        if (*p == '/' || *p == ' ') *p = '_';
}

static int attribution(rp_run *run, rp_model *pm) {
    const nk_report_config *cfg = run->cfg;
    const nk_arch *a = nk_model_arch(pm->m);
    const int F = nk_arch_input_dim(a);
    nk_workspace *ws = NULL;
    cJSON *list = cJSON_AddArrayToObject(pm->json, "attributions");
    int rc = nk_workspace_new(pm->m, &ws), done = 0;
    for (size_t i = 0; !rc && i < nk_dataset_size(pm->d) && done < cfg->n_attributions; i++) {
        if (pm->items[i].status != NK_ALIGN_OK) continue;
        const nk_example *x = nk_dataset_get(pm->d, i);
        nk_target tg;
        nk_attr_options o;
        nk_attr_report rep;
        nk_textgrid *grid = NULL;
        nk_attr_options_default(&o);
        o.method = NK_ATTR_IG, o.steps = cfg->ig_steps;
        char stem[256];
        safe_name(x->id, stem, sizeof stem);
        char *npy = rp_path(run, "%s/attribution/%s.npy", pm->name, stem);
        char *png = rp_path(run, "%s/attribution/%s.png", pm->name, stem);
        char *dir = rp_path(run, "%s/attribution", pm->name);
        float *map = malloc(sizeof(float) * F * x->T);
        rc = npy && png && dir && map ? nk_target_parse("ctc", &tg) : NOMEM;
        if (!rc && !(rc = nk_target_resolve(pm->m, ws, x->x, x->T, x->labels, x->U, &tg))) {
            rc = nk_attribute(pm->m, ws, x->x, x->T, &tg, &o, map, &rep);
            nk_target_clear(&tg);
        }
        if (!rc) rc = nk_mkdirs(dir);
        if (!rc) rc = nk_npy_write(npy, NK_F32, 2, (long[]){F, x->T}, map);
        if (!rc) rc = nk_align_textgrid(&pm->items[i].r, 0, &grid);
        if (!rc) {
            char title[300];
            snprintf(title, sizeof title, "%s: integrated gradients of log p(transcript) — %s", pm->name, x->id);
            rc = nk_attr_plot(x->x, F, x->T, map, rep.rows, (double)a->frontend.hop / a->frontend.sample_rate, grid,
                              "IG", title, NULL, png);
        }
        if (!rc) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "utterance", x->id);
            cJSON_AddStringToObject(e, "text", x->text);
            cJSON_AddStringToObject(e, "method", "ig");
            cJSON_AddNumberToObject(e, "steps", rep.steps);
            cJSON_AddItemToObject(e, "y", rp_number(rep.y));
            cJSON_AddItemToObject(e, "y_baseline", rp_number(rep.y_baseline));
            cJSON_AddItemToObject(e, "completeness_error", rp_number(rep.completeness));
            cJSON_AddStringToObject(e, "npy", npy + strlen(cfg->out) + 1);
            cJSON_AddStringToObject(e, "file", png + strlen(cfg->out) + 1);
            cJSON_AddItemToArray(list, e);
            rp_figure(run, pm->name, "attribution", png + strlen(cfg->out) + 1,
                      "Integrated gradients (%d steps from an all-zero baseline, the mean of the normalized features) of "
                      "the CTC log-likelihood of the transcript \"%s\" (utterance %s; y = %.3g, completeness error "
                      "%.2g): red cells raise it, blue lower it; the forced alignment's words and phonemes below.",
                      rep.steps, x->text, x->id, rep.y, rep.completeness);
            done++;
        }
        nk_textgrid_free(grid);
        free(npy), free(png), free(dir), free(map);
    }
    nk_workspace_free(ws);
    return rc;
}

/* ---- top-activating snippets ---- */

static int top_snippets(rp_run *run, rp_model *pm) {
    const nk_report_config *cfg = run->cfg;
    const int L = nk_model_arch(pm->m)->n_layers, n_units = cfg->n_top_units, k = cfg->top_k;
    int layer[16], channel[16], n = 0;
    /* units spread over the depth: the most selective unit of evenly spaced layers */
    for (int j = 0; j < n_units && j < 16; j++) {
        int l = (int)((j + 1.0) * (L - 1) / (n_units + 1) + 0.5);
        if (l < L && pm->best_unit[l] >= 0) layer[n] = l, channel[n] = pm->best_unit[l], n++;
    }
    cJSON *list = cJSON_AddArrayToObject(pm->json, "top");
    if (n == 0 || k < 1) return NK_OK;
    nk_top_hit *hits = malloc(sizeof *hits * n * k);
    int *n_hits = malloc(sizeof(int) * n);
    size_t skipped;
    int rc = hits && n_hits ? nk_top_activations(pm->m, pm->corpora[0], n, layer, channel, k, hits, n_hits, &skipped)
                            : NOMEM;
    for (int u = 0; !rc && u < n; u++) {
        cJSON *o = cJSON_CreateObject(), *h = cJSON_AddArrayToObject(o, "hits");
        cJSON_AddNumberToObject(o, "layer", layer[u]);
        cJSON_AddNumberToObject(o, "unit", channel[u]);
        cJSON_AddItemToObject(o, "F", rp_number(pm->best_F[layer[u]]));
        cJSON_AddItemToArray(list, o);
        for (int r = 0; !rc && r < n_hits[u]; r++) {
            const nk_top_hit *t = &hits[(size_t)u * k + r];
            const nk_utterance *utt = nk_corpus_get(pm->corpora[0], t->utt);
            char *dir = rp_path(run, "%s/top", pm->name), *stem = rp_path(run, "%s/top/unit_%02d_%d_rank_%d", pm->name,
                                                                           layer[u], channel[u], r);
            rc = dir && stem ? nk_mkdirs(dir) : NOMEM;
            if (!rc) rc = nk_top_write_snippet(pm->m, utt->audio, layer[u], channel[u], t->frame, 20, stem);
            if (!rc) {
                const char *rel = stem + strlen(cfg->out) + 1;
                char file[600], wav[600];
                snprintf(file, sizeof file, "%s.png", rel), snprintf(wav, sizeof wav, "%s.wav", rel);
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "utterance", utt->id);
                cJSON_AddNumberToObject(e, "frame", t->frame);
                cJSON_AddItemToObject(e, "activation", rp_number(t->value));
                cJSON_AddStringToObject(e, "file", file);
                cJSON_AddStringToObject(e, "wav", wav);
                cJSON_AddItemToArray(h, e);
                rp_figure(run, pm->name, "top", file,
                          "Top-activating input %d of %d for layer %d, unit %d (its most selective unit, F = %.3g) over "
                          "%s: utterance %s at frame %d (activation %.3g); the snippet is the unit's receptive field "
                          "plus 20 frames each side, with the unit's activation over the spectrogram; audio: %s.wav.",
                          r + 1, n_hits[u], layer[u], channel[u], pm->best_F[layer[u]], pm->spec->corpora[0], utt->id,
                          t->frame, t->value, strrchr(rel, '/') + 1);
            }
            free(dir), free(stem);
        }
    }
    free(hits), free(n_hits);
    return rc;
}

/* ---- the whole model ---- */

char *rp_model_name(const nk_report_model *sp) {
    if (sp->name) return strdup(sp->name);
    const char *b = strrchr(sp->path, '/');
    b = b ? b + 1 : sp->path;
    return strndup(b, strcspn(b, "."));
}

int rp_model_run(rp_run *run, rp_model *pm) {
    const nk_report_model *sp = pm->spec;
    const nk_report_config *cfg = run->cfg;
    pm->name = rp_model_name(sp);
    pm->dir = pm->name ? rp_path(run, "%s", pm->name) : NULL;
    pm->json = cJSON_CreateObject();
    if (!pm->dir || !pm->json) return NOMEM;
    rp_stage(run, "%s: loading the model and the corpora, features", pm->name);
    int rc = nk_model_load(sp->path, &pm->m);
    if (!rc) rc = nk_mkdirs(pm->dir);
    if (rc) return rc;
    const nk_arch *a = nk_model_arch(pm->m);
    cJSON_AddStringToObject(pm->json, "name", pm->name);
    cJSON_AddStringToObject(pm->json, "model", sp->path);
    cJSON_AddStringToObject(pm->json, "language", sp->language);
    cJSON_AddStringToObject(pm->json, "arch", a->name);
    cJSON_AddNumberToObject(pm->json, "parameters", (double)nk_model_param_count(pm->m));
    cJSON_AddNumberToObject(pm->json, "layers", a->n_layers);
    pm->best_unit = malloc(sizeof(int) * a->n_layers), pm->best_F = malloc(sizeof(double) * a->n_layers);
    if (!pm->best_unit || !pm->best_F) return NOMEM;
    for (int l = 0; l < a->n_layers; l++) pm->best_unit[l] = -1, pm->best_F[l] = NAN;
    rc = load_data(run, pm);
    if (!rc) rp_stage(run, "%s: transcription (greedy CTC), CER and WER", pm->name), rc = evaluate(run, pm);
    if (!rc) rp_stage(run, "%s: forced alignment (words, letters, phonemes)", pm->name), rc = align(run, pm);
    if (!rc) rp_stage(run, "%s: GradNAPs of every layer per phoneme", pm->name), rc = naps(run, pm);
    if (!rc) {
        rp_stage(run, "%s: clusters, heatmaps, selective units and ERP curves per layer", pm->name);
        cJSON *layers = cJSON_AddArrayToObject(pm->json, "per_layer");
        for (int i = 0; !rc && i < pm->naps.n_layers; i++) rc = layer_analysis(run, pm, i, layers);
    }
    if (!rc && cfg->n_attributions > 0)
        rp_stage(run, "%s: attribution maps (integrated gradients)", pm->name), rc = attribution(run, pm);
    if (!rc && cfg->n_top_units > 0)
        rp_stage(run, "%s: top-activating snippets", pm->name), rc = top_snippets(run, pm);
    return rc;
}
