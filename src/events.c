/* Events files (JSON Lines) and letter events from a CTC forced alignment. */
#include "napkit/events.h"

#include "napkit/ctc.h"
#include "napkit/error.h"
#include "napkit/fileio.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const nk_tier_names[] = {"words", "letters", "phones", NULL};

void nk_events_free(nk_events *e) {
    if (!e) return;
    for (size_t i = 0; i < e->n; i++) {
        free(e->ev[i].utt), free(e->ev[i].label), free(e->ev[i].letter), free(e->ev[i].cls);
        free(e->ev[i].arpabet);
    }
    for (size_t i = 0; i < e->n_skipped; i++) free(e->skipped[i]);
    free(e->ev);
    free(e->skipped);
    memset(e, 0, sizeof *e);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int nk_events_add(nk_events *e, const nk_event *ev) {
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 256;
        nk_event *p = realloc(e->ev, cap * sizeof *p);
        if (!p) return nk_fail(NK_ERR_NOMEM, "events: out of memory");
        e->ev = p, e->cap = cap;
    }
    nk_event *d = &e->ev[e->n];
    *d = *ev;
    d->utt = strdup(ev->utt), d->label = strdup(ev->label);
    d->letter = dup_or_null(ev->letter), d->cls = dup_or_null(ev->cls), d->arpabet = dup_or_null(ev->arpabet);
    if (!d->utt || !d->label || (ev->letter && !d->letter) || (ev->cls && !d->cls) ||
        (ev->arpabet && !d->arpabet)) {
        free(d->utt), free(d->label), free(d->letter), free(d->cls), free(d->arpabet);
        return nk_fail(NK_ERR_NOMEM, "events: out of memory");
    }
    e->n++;
    return NK_OK;
}

/* A non-empty string member, or NULL with *why set when it is missing (required) or not a string. */
static const char *string_member(const cJSON *o, const char *key, int required, const char **why) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        if (required) *why = "missing";
        return NULL;
    }
    if (!cJSON_IsString(v) || !v->valuestring[0]) {
        *why = "not a non-empty string";
        return NULL;
    }
    return v->valuestring;
}

/* A finite number member; absent → *out = dflt (or *why = "missing" when required). */
static int number_member(const cJSON *o, const char *key, int required, double dflt, double *out,
                         const char **why) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = dflt;
    if (!v) {
        if (required) *why = "missing";
        return !required;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        *why = "not a finite number";
        return 0;
    }
    *out = v->valuedouble;
    return 1;
}

/* Parses one line into ev (strings point into o); returns a reason or NULL. */
static const char *parse_line(const cJSON *o, nk_event *ev, char *buf, size_t bufsz) {
    if (!cJSON_IsObject(o)) return "not a JSON object";
    const char *why = NULL;
    const char *keys[] = {"utt", "tier", "label"};
    const char *vals[3];
    for (int i = 0; i < 3; i++) {
        vals[i] = string_member(o, keys[i], 1, &why);
        if (!vals[i]) return snprintf(buf, bufsz, "\"%s\" is %s", keys[i], why), buf;
    }
    int tier = -1;
    for (int i = 0; nk_tier_names[i]; i++)
        if (!strcmp(vals[1], nk_tier_names[i])) tier = i;
    if (tier < 0) return snprintf(buf, bufsz, "unknown tier \"%s\" (phones, letters or words)", vals[1]), buf;
    const char *nkeys[] = {"start", "end", "peak", "confidence"};
    double num[4];
    for (int i = 0; i < 4; i++) {
        double dflt = i == 2 ? NAN : 1.0;
        if (!number_member(o, nkeys[i], i < 2, dflt, &num[i], &why))
            return snprintf(buf, bufsz, "\"%s\" is %s", nkeys[i], why), buf;
    }
    if (isnan(num[2])) num[2] = 0.5 * (num[0] + num[1]);
    if (!(num[0] >= 0 && num[0] <= num[1]))
        return snprintf(buf, bufsz, "start %g and end %g do not make a span (0 <= start <= end)", num[0], num[1]), buf;
    if (!(num[2] >= num[0] && num[2] <= num[1]))
        return snprintf(buf, bufsz, "peak %g lies outside the span [%g, %g]", num[2], num[0], num[1]), buf;
    why = NULL;
    const char *letter = string_member(o, "letter", 0, &why);
    if (why) return snprintf(buf, bufsz, "\"letter\" is %s", why), buf;
    const char *cls = string_member(o, "class", 0, &why);
    if (why) return snprintf(buf, bufsz, "\"class\" is %s", why), buf;
    const char *arpabet = string_member(o, "phone_arpabet", 0, &why);
    if (why) return snprintf(buf, bufsz, "\"phone_arpabet\" is %s", why), buf;
    *ev = (nk_event){(char *)vals[0], (nk_tier_kind)tier, (char *)vals[2], num[0], num[1], num[2], num[3],
                     (char *)letter, (char *)cls, (char *)arpabet};
    return NULL;
}

static int add_skipped(nk_events *e, const char *path, size_t line, const char *why) {
    char **p = realloc(e->skipped, (e->n_skipped + 1) * sizeof *p);
    if (!p) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    e->skipped = p;
    size_t len = strlen(path) + strlen(why) + 32;
    if (!(p[e->n_skipped] = malloc(len))) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    snprintf(p[e->n_skipped++], len, "%s:%zu: %s", path, line, why);
    return NK_OK;
}

int nk_events_read(const char *path, nk_events *out) {
    memset(out, 0, sizeof *out);
    char *text;
    size_t size;
    int rc = nk_read_file(path, &text, &size);
    if (rc) return rc;
    char *p = text, reason[256];
    for (size_t line = 1; !rc && p < text + size; line++) {
        char *nl = memchr(p, '\n', (size_t)(text + size - p));
        char *end = nl ? nl : text + size;
        *end = 0;
        char *q = p;
        while (*q == ' ' || *q == '\t' || *q == '\r') q++;
        if (*q) {
            const char *why = NULL;
            nk_event ev;
            cJSON *o = strlen(p) == (size_t)(end - p) ? cJSON_Parse(p) : NULL;
            if (!o) why = strlen(p) == (size_t)(end - p) ? "not valid JSON" : "contains a NUL byte";
            else why = parse_line(o, &ev, reason, sizeof reason);
            rc = why ? add_skipped(out, path, line, why) : nk_events_add(out, &ev);
            cJSON_Delete(o);
        }
        p = end + 1;
    }
    free(text);
    if (rc) nk_events_free(out);
    return rc;
}

/* Three decimals: times to the millisecond, as the format shows them. */
static double round3(double x) { return (double)(long long)(x * 1000 + 0.5) / 1000; }

int nk_event_write_line(FILE *fp, const nk_event *v) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return nk_fail(NK_ERR_NOMEM, "%s: out of memory writing events", v->utt);
    cJSON_AddStringToObject(o, "utt", v->utt);
    cJSON_AddStringToObject(o, "tier", nk_tier_names[v->tier]);
    cJSON_AddStringToObject(o, "label", v->label);
    cJSON_AddNumberToObject(o, "start", round3(v->start));
    cJSON_AddNumberToObject(o, "end", round3(v->end));
    cJSON_AddNumberToObject(o, "peak", round3(v->peak));
    cJSON_AddNumberToObject(o, "confidence", round3(v->confidence));
    if (v->letter) cJSON_AddStringToObject(o, "letter", v->letter);
    if (v->cls) cJSON_AddStringToObject(o, "class", v->cls);
    if (v->arpabet) cJSON_AddStringToObject(o, "phone_arpabet", v->arpabet);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    int bad = !s || fprintf(fp, "%s\n", s) < 0;
    free(s);
    return bad ? nk_fail(NK_ERR_IO, "%s: writing events failed", v->utt) : NK_OK;
}

int nk_events_write(const char *path, const nk_events *e) {
    nk_outfile f;
    int rc = nk_outfile_open(&f, path, 1);
    for (size_t i = 0; !rc && i < e->n; i++)
        if ((rc = nk_event_write_line(f.fp, &e->ev[i])) != 0) rc = nk_fail(rc, "%s: %s", path, nk_last_error());
    if (!rc) return nk_outfile_commit(&f);
    nk_outfile_abort(&f);
    return rc;
}

int nk_events_from_alignment(const char *utt, const float *log_probs, int K, int T, const int *labels,
                             int U, int blank, const char *const *alphabet, const char *skip,
                             double frame_seconds, nk_events *out) {
    if (U <= 0) return NK_OK;
    nk_ctc_span *spans = malloc((size_t)U * sizeof *spans);
    if (!spans) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", utt);
    double score;
    int rc = nk_ctc_align(log_probs, K, T, labels, U, blank, spans, NULL, &score);
    if (rc == NK_ERR_INFEASIBLE)
        rc = nk_fail(rc, "%s: %d frames are too few to align %d labels", utt, T, U);
    for (int u = 0; !rc && u < U; u++) {
        const char *sym = alphabet[spans[u].label];
        if (skip && !strcmp(sym, skip)) continue;
        nk_event ev = {(char *)utt, NK_TIER_LETTERS, (char *)sym, spans[u].start * frame_seconds,
                       spans[u].end * frame_seconds, spans[u].peak * frame_seconds, spans[u].confidence,
                       (char *)sym, NULL, NULL};
        rc = nk_events_add(out, &ev);
    }
    free(spans);
    return rc;
}
