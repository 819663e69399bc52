#include "napkit/evaluate.h"

#include "napkit/ctc.h"
#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/text.h"

#include <cJSON.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nk_transcribe(const nk_model *m, const nk_alphabet *alpha, nk_workspace *ws, const float *x,
                  int T, char **text) {
    *text = NULL;
    const nk_arch *a = nk_model_arch(m);
    int rc = nk_model_forward(m, ws, x, T);
    if (rc) return rc;
    int Tout = nk_ws_frames(ws, a->n_layers - 1);
    int *labels = malloc((size_t)Tout * sizeof *labels), n;
    if (!labels) return nk_fail(NK_ERR_NOMEM, "out of memory");
    nk_ctc_greedy(nk_ws_log_probs(ws), a->n_classes, Tout, a->blank, labels, &n);
    rc = nk_alphabet_decode(alpha, labels, n, text);
    free(labels);
    return rc;
}

int nk_evaluate(const nk_model *m, const nk_dataset *d, int threads, nk_eval_item *items,
                nk_error_counts *total) {
    memset(total, 0, sizeof *total);
    size_t n = nk_dataset_size(d);
    nk_eval_item *own = items ? items : calloc(n ? n : 1, sizeof *own);
    if (!own) return nk_fail(NK_ERR_NOMEM, "evaluate: out of memory");
    if (threads < 1) threads = 1;
    const nk_arch *a = nk_model_arch(m);
    nk_alphabet *alpha;
    int alpha_rc = nk_alphabet_new((const char *const *)a->alphabet, a->n_classes, &alpha);
    if (alpha_rc) {
        if (!items) free(own);
        return alpha_rc;
    }
    int first_rc = NK_OK;
    char first_msg[300] = "";
    const int blas_threads = openblas_get_num_threads();
    if (threads > 1) openblas_set_num_threads(1);
#pragma omp parallel num_threads(threads)
    {
        nk_workspace *ws = NULL;
        int rc = nk_workspace_new(m, &ws);
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < n; i++) {
            const nk_example *e = nk_dataset_get(d, i);
            own[i].hypothesis = NULL;
            if (!rc) rc = nk_transcribe(m, alpha, ws, e->x, e->T, &own[i].hypothesis);
            if (!rc) rc = nk_error_counts_of(own[i].hypothesis, e->text, &own[i].counts);
            if (rc) {
#pragma omp critical(nk_evaluate_error)
                if (!first_rc) {
                    first_rc = rc;
                    snprintf(first_msg, sizeof first_msg, "%s: %s", e->id, nk_last_error());
                }
                rc = NK_OK; /* report the first failure, keep going */
            }
        }
        nk_workspace_free(ws);
    }
    if (threads > 1) openblas_set_num_threads(blas_threads);
    nk_alphabet_free(alpha);
    for (size_t i = 0; i < n; i++) {
        total->char_errors += own[i].counts.char_errors;
        total->char_count += own[i].counts.char_count;
        total->word_errors += own[i].counts.word_errors;
        total->word_count += own[i].counts.word_count;
        if (!items) free(own[i].hypothesis);
    }
    if (!items) free(own);
    return first_rc ? nk_fail(first_rc, "%s", first_msg) : NK_OK;
}

double nk_cer(const nk_error_counts *c) {
    return c->char_count ? (double)c->char_errors / c->char_count : 0.0;
}

double nk_wer(const nk_error_counts *c) {
    return c->word_count ? (double)c->word_errors / c->word_count : 0.0;
}

int nk_eval_write_json(const char *path, const nk_dataset *d, const nk_eval_item *items, const nk_error_counts *total) {
    cJSON *j = cJSON_CreateObject(), *utts = cJSON_CreateArray();
    cJSON_AddNumberToObject(j, "cer", nk_cer(total));
    cJSON_AddNumberToObject(j, "wer", nk_wer(total));
    cJSON_AddNumberToObject(j, "utterances", (double)nk_dataset_size(d));
    cJSON_AddNumberToObject(j, "hours", nk_dataset_seconds(d) / 3600);
    for (size_t i = 0; i < nk_dataset_size(d); i++) {
        const nk_example *e = nk_dataset_get(d, i);
        cJSON *u = cJSON_CreateObject();
        cJSON_AddStringToObject(u, "id", e->id);
        cJSON_AddStringToObject(u, "reference", e->text);
        cJSON_AddStringToObject(u, "hypothesis", items[i].hypothesis ? items[i].hypothesis : "");
        cJSON_AddNumberToObject(u, "char_errors", (double)items[i].counts.char_errors);
        cJSON_AddNumberToObject(u, "chars", (double)items[i].counts.char_count);
        cJSON_AddNumberToObject(u, "word_errors", (double)items[i].counts.word_errors);
        cJSON_AddNumberToObject(u, "words", (double)items[i].counts.word_count);
        cJSON_AddItemToArray(utts, u);
    }
    cJSON_AddItemToObject(j, "per_utterance", utts);
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    int rc = s ? nk_write_file(path, s, strlen(s)) : nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    free(s);
    return rc;
}
