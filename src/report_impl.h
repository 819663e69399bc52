/* Internals of napkit report shared by report.c (the run, the comparison,
 * report.json) and report_model.c (one model's analysis). */
#ifndef NAPKIT_REPORT_IMPL_H
#define NAPKIT_REPORT_IMPL_H

#include "napkit/napkit.h"

#include <cJSON.h>

/* The run: settings, where things go, the figure list and the stage clock. */
typedef struct {
    const nk_report_config *cfg;
    cJSON *figures; /* [{"section", "file", "caption"}] in page order */
    cJSON *timing;  /* {"stage": seconds} */
    char *stage;    /* the stage running, for timing */
    double t_stage;
} rp_run;

/* Starts a stage: closes the previous one's clock and tells the caller. */
void rp_stage(rp_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds a figure (file relative to the page) with its caption to the page
 * section of `model` (a model's name, or "compare") and `kind` ("layers",
 * "attribution", "top", "compare"). */
void rp_figure(rp_run *run, const char *model, const char *kind, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* A JSON number, or null when v is NaN/Inf (JSON has no NaN). */
cJSON *rp_number(double v);
/* out/rel joined (malloc'd); rel is printf-style. */
char *rp_path(const rp_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One model's analysis and what the comparison needs from it. */
typedef struct {
    const nk_report_model *spec;
    char *name;      /* label and folder under out/ */
    char *dir;       /* out/<name> */
    nk_model *m;
    nk_alphabet *alpha;  /* the corpora normalize transcripts over it */
    nk_corpus **corpora; /* (spec->n_corpora) */
    nk_dataset *d;
    nk_align_item *items; /* (dataset size) */
    nk_nap_sums *sums;
    nk_nap_result naps;
    int have_naps;
    int *best_unit;  /* (n_layers) the most selective unit of each layer, −1 none */
    double *best_F;  /* (n_layers) */
    cJSON *json;     /* the model's entry in report.json */
} rp_model;

/* The model's label (malloc'd): its name, else the file name up to the first dot. */
char *rp_model_name(const nk_report_model *sp);
/* Loads the model and its corpora and runs the whole per-model analysis
 * into out/<name>/, filling pm->json. */
int rp_model_run(rp_run *run, rp_model *pm);
void rp_model_free(rp_model *pm);

#endif
