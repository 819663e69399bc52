#include "napkit/evaluate.h"

#include "napkit/ctc.h"
#include "napkit/error.h"
#include "napkit/parallel.h"
#include "napkit/nw.h"
#include "napkit/fileio.h"
#include "napkit/text.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A language model must be over the model's alphabet: its labels are the model's classes. */
static int check_decoder(const nk_alphabet *alpha, const nk_ctc_beam_options *decode) {
    return decode && decode->lm ? nk_charlm_check_alphabet(decode->lm, alpha) : NK_OK;
}

static int transcribe(const nk_model *m, const nk_alphabet *alpha, nk_workspace *ws, const float *x, int T,
                      const nk_ctc_beam_options *decode, char **text) {
    *text = NULL;
    const nk_arch *a = nk_model_arch(m);
    int rc = nk_model_forward(m, ws, x, T);
    if (rc) return rc;
    int Tout = nk_ws_frames(ws, a->n_layers - 1);
    int *labels = malloc((size_t)Tout * sizeof *labels), n = 0;
    if (!labels) return nk_fail(NK_ERR_NOMEM, "out of memory");
    if (decode) rc = nk_ctc_beam(nk_ws_log_probs(ws), a->n_classes, Tout, a->blank, decode, labels, &n);
    else nk_ctc_greedy(nk_ws_log_probs(ws), a->n_classes, Tout, a->blank, labels, &n);
    if (!rc) rc = nk_alphabet_decode(alpha, labels, n, text);
    free(labels);
    return rc;
}

int nk_transcribe(const nk_model *m, const nk_alphabet *alpha, nk_workspace *ws, const float *x,
                  int T, const nk_ctc_beam_options *decode, char **text) {
    *text = NULL;
    int rc = check_decoder(alpha, decode);
    return rc ? rc : transcribe(m, alpha, ws, x, T, decode, text);
}

/* nk_evaluate's job: one workspace per worker; the first failure is kept. */
typedef struct {
    const nk_model *m;
    const nk_alphabet *alpha;
    const nk_ctc_beam_options *decode;
    const nk_dataset *d;
    nk_workspace **ws;
    nk_eval_item *items;
    int first_rc;
    char first_msg[300];
} eval_run;

static int eval_work(void *ctx, int worker, size_t i) {
    eval_run *r = ctx;
    const nk_example *e = nk_dataset_get(r->d, i);
    r->items[i].hypothesis = NULL;
    int rc = transcribe(r->m, r->alpha, r->ws[worker], e->x, e->T, r->decode, &r->items[i].hypothesis);
    return rc ? rc : nk_error_counts_of(r->items[i].hypothesis, e->text, &r->items[i].counts);
}

static int eval_commit(void *ctx, int worker, size_t i, int work_rc, const char *work_error) {
    eval_run *r = ctx;
    (void)worker;
    if (work_rc && !r->first_rc) { /* report the first failure, keep going */
        r->first_rc = work_rc;
        snprintf(r->first_msg, sizeof r->first_msg, "%s: %s", nk_dataset_get(r->d, i)->id, work_error);
    }
    return NK_OK;
}

int nk_evaluate(const nk_model *m, const nk_dataset *d, int threads, const nk_ctc_beam_options *decode,
                nk_eval_item *items, nk_error_counts *total) {
    memset(total, 0, sizeof *total);
    size_t n = nk_dataset_size(d);
    const int W = nk_parallel_workers(n, threads);
    const nk_arch *a = nk_model_arch(m);
    eval_run r = {.m = m, .decode = decode, .d = d, .items = items ? items : calloc(n ? n : 1, sizeof *items),
                  .ws = calloc(W, sizeof(nk_workspace *))};
    nk_alphabet *alpha = NULL;
    int rc = r.items && r.ws ? NK_OK : nk_fail(NK_ERR_NOMEM, "evaluate: out of memory");
    if (!rc) rc = nk_alphabet_new((const char *const *)a->alphabet, a->n_classes, &alpha);
    if (!rc) rc = check_decoder(alpha, decode);
    r.alpha = alpha;
    for (int w = 0; !rc && w < W; w++) rc = nk_workspace_new(m, &r.ws[w]);
    if (!rc) rc = nk_parallel_for(n, W, eval_work, eval_commit, &r);
    for (size_t i = 0; !rc && i < n; i++) {
        total->char_errors += r.items[i].counts.char_errors;
        total->char_count += r.items[i].counts.char_count;
        total->word_errors += r.items[i].counts.word_errors;
        total->word_count += r.items[i].counts.word_count;
    }
    if (!items && r.items)
        for (size_t i = 0; i < n; i++) free(r.items[i].hypothesis);
    if (!items) free(r.items);
    for (int w = 0; r.ws && w < W; w++) nk_workspace_free(r.ws[w]);
    free(r.ws);
    nk_alphabet_free(alpha);
    if (!rc && r.first_rc) rc = nk_fail(r.first_rc, "%s", r.first_msg);
    return rc;
}

/* Code points of a UTF-8 string; *cp is malloc'd. */
static int code_points(const char *s, int **cp, int *n) {
    size_t len = strlen(s);
    *n = 0;
    *cp = malloc((len + 1) * sizeof **cp);
    if (!*cp) return nk_fail(NK_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < len;) {
        unsigned c;
        int k = nk_utf8_decode(s + i, len - i, &c);
        if (k == 0) {
            free(*cp);
            *cp = NULL;
            return nk_fail(NK_ERR_FORMAT, "invalid UTF-8 at byte %zu of \"%s\"", i, s);
        }
        (*cp)[(*n)++] = (int)c;
        i += (size_t)k;
    }
    return NK_OK;
}

static float same_or_not(int x, int y, void *ctx) {
    (void)ctx;
    return x == y ? 1.0f : -1.0f;
}

/* Appends code point c (or '*' for c < 0) to the UTF-8 string at *p. */
static void put_code_point(char **p, int c) {
    unsigned u = c < 0 ? '*' : (unsigned)c;
    if (u < 0x80) *(*p)++ = (char)u;
    else if (u < 0x800) *(*p)++ = (char)(0xC0 | u >> 6), *(*p)++ = (char)(0x80 | (u & 0x3F));
    else if (u < 0x10000)
        *(*p)++ = (char)(0xE0 | u >> 12), *(*p)++ = (char)(0x80 | (u >> 6 & 0x3F)), *(*p)++ = (char)(0x80 | (u & 0x3F));
    else
        *(*p)++ = (char)(0xF0 | u >> 18), *(*p)++ = (char)(0x80 | (u >> 12 & 0x3F)),
        *(*p)++ = (char)(0x80 | (u >> 6 & 0x3F)), *(*p)++ = (char)(0x80 | (u & 0x3F));
}

int nk_transcript_align(const char *reference, const char *hypothesis, char **ref_line, char **hyp_line) {
    *ref_line = *hyp_line = NULL;
    int *a = NULL, *b = NULL, n = 0, m = 0, n_pairs = 0;
    int rc = code_points(reference, &a, &n);
    if (!rc) rc = code_points(hypothesis, &b, &m);
    nk_nw_pair *pairs = rc ? NULL : malloc((size_t)(n + m + 1) * sizeof *pairs);
    if (!rc && !pairs) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
    nk_nw_scoring sc = {.score = same_or_not, .gap_open = -1, .gap_extend = -1};
    double score;
    if (!rc) rc = nk_nw_align(a, n, b, m, &sc, pairs, &n_pairs, &score);
    if (!rc) {
        *ref_line = malloc(4 * (size_t)n_pairs + 1);
        *hyp_line = malloc(4 * (size_t)n_pairs + 1);
        if (!*ref_line || !*hyp_line) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
    }
    if (!rc) {
        char *r = *ref_line, *h = *hyp_line;
        for (int i = 0; i < n_pairs; i++) {
            put_code_point(&r, pairs[i].a >= 0 ? a[pairs[i].a] : -1);
            put_code_point(&h, pairs[i].b >= 0 ? b[pairs[i].b] : -1);
        }
        *r = *h = '\0';
    } else {
        free(*ref_line), free(*hyp_line);
        *ref_line = *hyp_line = NULL;
    }
    free(a), free(b), free(pairs);
    return rc;
}

double nk_cer(const nk_error_counts *c) {
    return c->char_count ? (double)c->char_errors / c->char_count : 0.0;
}

double nk_wer(const nk_error_counts *c) {
    return c->word_count ? (double)c->word_errors / c->word_count : 0.0;
}

int nk_eval_write_json(const char *path, const nk_dataset *d, const nk_eval_item *items, const nk_error_counts *total,
                       const char *decoding) {
    cJSON *j = cJSON_CreateObject(), *utts = cJSON_CreateArray();
    cJSON_AddStringToObject(j, "decoding", decoding ? decoding : "greedy");
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
        char *ref_line, *hyp_line;
        if (!nk_transcript_align(e->text, items[i].hypothesis ? items[i].hypothesis : "", &ref_line, &hyp_line)) {
            cJSON *al = cJSON_AddObjectToObject(u, "alignment");
            cJSON_AddStringToObject(al, "reference", ref_line);
            cJSON_AddStringToObject(al, "hypothesis", hyp_line);
            free(ref_line), free(hyp_line);
        }
        cJSON_AddItemToArray(utts, u);
    }
    cJSON_AddItemToObject(j, "per_utterance", utts);
    int rc = nk_write_json(path, j);
    cJSON_Delete(j);
    return rc;
}
