/* The whole analysis in one process, written as one folder with an HTML page.
 *
 * For each model (one, or an English and a German one) over its corpora:
 * features, greedy transcription with CER/WER, forced alignment (onsets
 * against the synthesizer's TextGrids where they exist), GradNAPs of every
 * layer per phoneme, clustering of every layer's time-independent profiles
 * with purity/ARI/silhouette against the phonetic classes (phoneset.h), a
 * dendrogram and a heatmap per layer, ERP curves of each layer's most
 * selective unit, attribution maps of a few utterances and the top-activating
 * snippets of a few units; with two models, the comparison (CKA, unit
 * matching, profile similarity, topographic maps) on both models' audio.
 *
 *   DIR/index.html    the page: table of contents, captioned figures, tables
 *   DIR/report.json   every number of the page, for scripts (same inputs, same bytes)
 *   DIR/timing.json   seconds per stage (the only file that changes run to run)
 *   DIR/<name>/       eval.json, align/, naps/, cluster_LL/, erp_LL.png, attribution/, top/
 *   DIR/compare/      the `napkit compare` folder
 * Every file is written atomically; figures are PNG next to the page.
 *
 * Selectivity of a unit (docs/report.md): the one-way ANOVA F ratio of its
 * GradNAP values at the event (offset 0) across the kept groups,
 *   F = [Σ_g n_g (μ_g − μ)² / (G − 1)] / [Σ_g Σ_e (v_e − μ_g)² / (N − G)],
 * from the additive sums (count, sum, sum of squares), so it needs no second
 * pass over the data. */
#ifndef NAPKIT_REPORT_H
#define NAPKIT_REPORT_H

#include "napkit/cluster.h"
#include "napkit/nap.h"

#include <stdio.h>

typedef struct {
    const char *path;     /* model file; a training checkpoint loads as its model */
    const char *name;     /* short label ("en"); NULL: the file name up to its first dot */
    const char *language; /* "en": CMUdict then espeak-ng; another espeak-ng language otherwise */
    const char *const *corpora;
    int n_corpora;
    const char *lexicon;  /* CMUdict file for English; NULL: nk_lexicon_default_path() */
    const char *lp_model; /* letter↔phoneme model; NULL: the cache `napkit lexicon` fills */
    double delay;         /* seconds subtracted from aligned times (align.h); NAN (the default):
                             the model's stored onset delay, 0 when it has none */
} nk_report_model;

/* Called at the start of every stage with a short description, e.g.
 * "en: forced alignment"; the library itself prints nothing. */
typedef void (*nk_report_stage_fn)(void *ctx, const char *what);

typedef struct {
    nk_report_model model[2];
    int n_models;            /* 1, or 2 for the comparison (model[0] is A) */
    const char *out;
    int threads;             /* default 2 */
    size_t max_utterances;   /* per corpus; 0 = all */
    double min_confidence;   /* alignment: skip utterances below (default 0.3) */
    nk_nap_mode mode;        /* default gxa */
    int window;              /* ± frames (default 15) */
    long min_count;          /* groups with fewer events are dropped (default 20) */
    nk_linkage_method method; /* default average */
    nk_metric metric;        /* default correlation */
    int n_selective;         /* most selective units per layer in the tables (default 3) */
    int n_erp_groups;        /* groups drawn in each ERP figure (default 5) */
    int n_attributions;      /* utterances with an attribution map per model (default 2) */
    int ig_steps;            /* integrated-gradient steps to start from (default 32) */
    int n_top_units;         /* units with top-activating snippets per model (default 2) */
    int top_k;               /* snippets per unit (default 3) */
    int som_epochs;          /* topographic maps (default 300) */
    int show_progress;       /* progress lines on stderr */
    nk_report_stage_fn stage;
    void *stage_ctx;
} nk_report_config;

void nk_report_config_default(nk_report_config *c);

/* Runs everything and writes c->out. A stage that cannot run for a reason of
 * the data (a layer whose profiles are constant, no utterance aligned for
 * attribution) is recorded in report.json and the page as skipped with the
 * reason; only unusable inputs (a model, corpus or lexicon that cannot be
 * read, no utterance at all) fail. */
int nk_report_run(const nk_report_config *c);

/* The selectivity F of every unit of the i-th layer of s at window offset
 * `offset` (0 … 2w), over the G groups listed (indices into s's groups):
 * F is (C). A unit without variance within groups gets NaN. NK_ERR_ARG
 * unless G ≥ 2 and the groups hold more events than groups. */
int nk_report_selectivity(const nk_nap_sums *s, int i, const int *groups, int G, int offset, double *F);

/* The page of a report.json text (as nk_report_run writes it), written to
 * path atomically. Figures and data files are linked relative to the page. */
int nk_report_write_html(const char *report_json, const char *path);

/* Writes s with &, <, >, " and ' replaced by entities (NULL writes nothing). */
void nk_html_escape(FILE *fp, const char *s);

#endif
