#include "napkit/textgrid.h"

#include "napkit/error.h"
#include "napkit/fileio.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Boundaries closer than this are the same boundary: tolerates the rounding
 * of times printed by other tools without accepting real gaps or overlaps. */
#define TG_EPS 1e-6

int nk_textgrid_new(double xmin, double xmax, nk_textgrid **out) {
    *out = NULL;
    if (!isfinite(xmin) || !isfinite(xmax) || !(xmin < xmax))
        return nk_fail(NK_ERR_ARG, "TextGrid needs xmin < xmax, got [%g, %g]", xmin, xmax);
    nk_textgrid *tg = calloc(1, sizeof *tg);
    if (!tg) return nk_fail(NK_ERR_NOMEM, "out of memory creating a TextGrid");
    tg->xmin = xmin;
    tg->xmax = xmax;
    *out = tg;
    return NK_OK;
}

void nk_textgrid_free(nk_textgrid *tg) {
    if (!tg) return;
    for (int t = 0; t < tg->n_tiers; t++) {
        for (int i = 0; i < tg->tiers[t].n; i++) free(tg->tiers[t].iv[i].text);
        free(tg->tiers[t].iv);
        free(tg->tiers[t].name);
    }
    free(tg->tiers);
    free(tg);
}

int nk_textgrid_add_tier(nk_textgrid *tg, const char *name, int *tier) {
    nk_tier *grown = realloc(tg->tiers, (size_t)(tg->n_tiers + 1) * sizeof *grown);
    if (!grown) return nk_fail(NK_ERR_NOMEM, "out of memory adding a tier");
    tg->tiers = grown;
    nk_tier *t = &tg->tiers[tg->n_tiers];
    memset(t, 0, sizeof *t);
    if (!(t->name = strdup(name))) return nk_fail(NK_ERR_NOMEM, "out of memory adding a tier");
    *tier = tg->n_tiers++;
    return NK_OK;
}

static int push(nk_tier *t, double start, double end, const char *label) {
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 16;
        nk_interval *grown = realloc(t->iv, (size_t)cap * sizeof *grown);
        if (!grown) return nk_fail(NK_ERR_NOMEM, "out of memory growing tier '%s'", t->name);
        t->iv = grown;
        t->cap = cap;
    }
    char *s = strdup(label);
    if (!s) return nk_fail(NK_ERR_NOMEM, "out of memory growing tier '%s'", t->name);
    t->iv[t->n++] = (nk_interval){start, end, s};
    return NK_OK;
}

/* Gaps merge: an empty label right after an empty interval extends it. */
static int extend_or_push(nk_tier *t, double start, double end, const char *label) {
    if (!label[0] && t->n && !t->iv[t->n - 1].text[0]) {
        t->iv[t->n - 1].xmax = end;
        return NK_OK;
    }
    return push(t, start, end, label);
}

int nk_textgrid_append(nk_textgrid *tg, int tier, double start, double end, const char *label) {
    if (tier < 0 || tier >= tg->n_tiers) return nk_fail(NK_ERR_ARG, "no tier %d", tier);
    nk_tier *t = &tg->tiers[tier];
    double last = t->n ? t->iv[t->n - 1].xmax : tg->xmin;
    if (!isfinite(start) || !isfinite(end) || start < last - TG_EPS || end < start - TG_EPS ||
        end > tg->xmax + TG_EPS)
        return nk_fail(NK_ERR_ARG, "tier '%s': interval [%g, %g] '%s' overlaps [.., %g] or leaves [%g, %g]",
                       t->name, start, end, label, last, tg->xmin, tg->xmax);
    if (start < last + TG_EPS) start = last;
    if (end > tg->xmax) end = tg->xmax;
    int rc;
    if (start > last && (rc = extend_or_push(t, last, start, ""))) return rc;
    if (end <= start + TG_EPS) return NK_OK;
    return extend_or_push(t, start, end, label);
}

int nk_textgrid_finish(nk_textgrid *tg) {
    /* A zero-length empty interval at xmax: append fills the gap before it. */
    for (int t = 0; t < tg->n_tiers; t++) {
        int rc = nk_textgrid_append(tg, t, tg->xmax, tg->xmax, "");
        if (rc) return rc;
    }
    return NK_OK;
}

const nk_tier *nk_textgrid_tier(const nk_textgrid *tg, const char *name) {
    for (int t = 0; t < tg->n_tiers; t++)
        if (!strcmp(tg->tiers[t].name, name)) return &tg->tiers[t];
    return NULL;
}

int nk_textgrid_validate(const nk_textgrid *tg) {
    if (!isfinite(tg->xmin) || !isfinite(tg->xmax) || !(tg->xmin < tg->xmax))
        return nk_fail(NK_ERR_FORMAT, "TextGrid range [%g, %g] is empty or not finite", tg->xmin, tg->xmax);
    for (int k = 0; k < tg->n_tiers; k++) {
        const nk_tier *t = &tg->tiers[k];
        if (t->n == 0) return nk_fail(NK_ERR_FORMAT, "tier '%s' has no intervals", t->name);
        for (int i = 0; i < t->n; i++) {
            const nk_interval *v = &t->iv[i];
            double want = i ? t->iv[i - 1].xmax : tg->xmin;
            if (!isfinite(v->xmin) || !isfinite(v->xmax) || !(v->xmin < v->xmax))
                return nk_fail(NK_ERR_FORMAT, "tier '%s' interval %d [%g, %g] is empty or reversed",
                               t->name, i + 1, v->xmin, v->xmax);
            if (fabs(v->xmin - want) > TG_EPS)
                return nk_fail(NK_ERR_FORMAT, "tier '%s' interval %d starts at %g, not at %g (%s)",
                               t->name, i + 1, v->xmin, want, i ? "gap or overlap" : "xmin");
        }
        if (fabs(t->iv[t->n - 1].xmax - tg->xmax) > TG_EPS)
            return nk_fail(NK_ERR_FORMAT, "tier '%s' ends at %g, not at xmax %g", t->name,
                           t->iv[t->n - 1].xmax, tg->xmax);
    }
    return NK_OK;
}

/* Prefixes the last error message with the file (copied first: nk_fail
 * formats into the buffer nk_last_error() points at). */
static int fail_in(int rc, const char *path, const char *what) {
    char msg[768];
    snprintf(msg, sizeof msg, "%s", nk_last_error());
    return nk_fail(rc, "%s: %s%s", path, what, msg);
}

static void put_string(FILE *fp, const char *s) {
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"') fputc('"', fp); // Praat doubles quotes inside strings
        fputc(*s, fp);
    }
    fputc('"', fp);
}

int nk_textgrid_write(const char *path, const nk_textgrid *tg) {
    int rc = nk_textgrid_validate(tg);
    if (rc) return fail_in(rc, path, "not written: ");
    nk_outfile f;
    if ((rc = nk_outfile_open(&f, path, 1))) return rc;
    FILE *fp = f.fp;
    fprintf(fp, "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\n");
    fprintf(fp, "xmin = %.15g \nxmax = %.15g \ntiers? <exists> \nsize = %d \nitem []: \n", tg->xmin,
            tg->xmax, tg->n_tiers);
    for (int k = 0; k < tg->n_tiers; k++) {
        const nk_tier *t = &tg->tiers[k];
        fprintf(fp, "    item [%d]:\n        class = \"IntervalTier\" \n        name = ", k + 1);
        put_string(fp, t->name);
        fprintf(fp, " \n        xmin = %.15g \n        xmax = %.15g \n        intervals: size = %d \n",
                tg->xmin, tg->xmax, t->n);
        for (int i = 0; i < t->n; i++) {
            fprintf(fp, "        intervals [%d]:\n            xmin = %.15g \n            xmax = %.15g \n"
                        "            text = ", i + 1, t->iv[i].xmin, t->iv[i].xmax);
            put_string(fp, t->iv[i].text);
            fputs(" \n", fp);
        }
    }
    return nk_outfile_commit(&f);
}

/* Praat's text formats: the long one is the short one's values with labels
 * ("xmin =", "item [1]:") around them, so reading only the values — numbers,
 * quoted strings and <flags> — reads both. */
typedef struct {
    const char *p, *end, *path;
    int line;
} tg_lexer;

enum { TOK_END, TOK_NUM, TOK_STR, TOK_FLAG };

/* Next value token. Strings and flags are malloc'd into *str. */
static int lex(tg_lexer *L, int *kind, double *num, char **str) {
    *str = NULL;
    for (;;) {
        if (L->p >= L->end) { *kind = TOK_END; return NK_OK; }
        unsigned char c = (unsigned char)*L->p;
        if (c == '\n') { L->line++; L->p++; }
        else if (isspace(c) || c == '=' || c == ':' || c == '?') L->p++;
        else if (isalpha(c)) while (L->p < L->end && (isalnum((unsigned char)*L->p) || *L->p == '_')) L->p++;
        else if (c == '[') {
            while (L->p < L->end && *L->p != ']' && *L->p != '\n') L->p++;
            if (L->p < L->end && *L->p == ']') L->p++;
        } else break;
    }
    const char *s = L->p;
    if (*s == '"') {
        size_t cap = 16, n = 0;
        char *buf = malloc(cap);
        for (L->p++;; L->p++) {
            if (!buf) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", L->path);
            if (L->p >= L->end) {
                free(buf);
                return nk_fail(NK_ERR_FORMAT, "%s: line %d: unterminated string", L->path, L->line);
            }
            if (*L->p == '"') {
                if (L->p + 1 < L->end && L->p[1] == '"') L->p++;
                else { L->p++; break; }
            }
            if (*L->p == '\n') L->line++;
            if (n + 2 > cap) {
                char *grown = realloc(buf, cap *= 2);
                if (!grown) free(buf);
                buf = grown;
                if (!buf) continue;
            }
            buf[n++] = *L->p;
        }
        buf[n] = '\0';
        *kind = TOK_STR;
        *str = buf;
        return NK_OK;
    }
    if (*s == '<') {
        const char *e = memchr(s, '>', (size_t)(L->end - s));
        if (!e) return nk_fail(NK_ERR_FORMAT, "%s: line %d: unterminated <flag>", L->path, L->line);
        *str = strndup(s + 1, (size_t)(e - s - 1));
        if (!*str) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", L->path);
        L->p = e + 1;
        *kind = TOK_FLAG;
        return NK_OK;
    }
    char tmp[64];
    size_t n = 0;
    while (L->p < L->end && n < sizeof tmp - 1 && !isspace((unsigned char)*L->p)) tmp[n++] = *L->p++;
    tmp[n] = '\0';
    char *e;
    *num = strtod(tmp, &e);
    if (n == 0 || *e || !isfinite(*num))
        return nk_fail(NK_ERR_FORMAT, "%s: line %d: expected a number, found '%s'", L->path, L->line, tmp);
    *kind = TOK_NUM;
    return NK_OK;
}

static int expect_num(tg_lexer *L, const char *what, double *v) {
    int kind;
    char *s;
    int rc = lex(L, &kind, v, &s);
    if (rc) return rc;
    free(s);
    if (kind != TOK_NUM) return nk_fail(NK_ERR_FORMAT, "%s: line %d: expected %s", L->path, L->line, what);
    return NK_OK;
}

static int expect_str(tg_lexer *L, const char *what, int want_kind, char **s) {
    int kind;
    double v;
    int rc = lex(L, &kind, &v, s);
    if (rc) return rc;
    if (kind != want_kind) {
        free(*s);
        *s = NULL;
        return nk_fail(NK_ERR_FORMAT, "%s: line %d: expected %s", L->path, L->line, what);
    }
    return NK_OK;
}

/* A count that cannot exceed what the file could hold (guards allocations). */
static int expect_count(tg_lexer *L, const char *what, int *n) {
    double v;
    int rc = expect_num(L, what, &v);
    if (rc) return rc;
    if (v < 0 || v != floor(v) || v > (double)(L->end - L->p))
        return nk_fail(NK_ERR_FORMAT, "%s: line %d: bad %s %g", L->path, L->line, what, v);
    *n = (int)v;
    return NK_OK;
}

static int parse(tg_lexer *L, nk_textgrid **out) {
    char *s = NULL;
    int rc = expect_str(L, "\"ooTextFile\"", TOK_STR, &s);
    if (!rc && strcmp(s, "ooTextFile")) rc = nk_fail(NK_ERR_FORMAT, "%s: not a Praat text file", L->path);
    free(s);
    s = NULL;
    if (!rc) rc = expect_str(L, "\"TextGrid\"", TOK_STR, &s);
    if (!rc && strcmp(s, "TextGrid"))
        rc = nk_fail(NK_ERR_FORMAT, "%s: object class is \"%s\", not \"TextGrid\"", L->path, s);
    free(s);
    s = NULL;
    double xmin, xmax;
    if (!rc) rc = expect_num(L, "xmin", &xmin);
    if (!rc) rc = expect_num(L, "xmax", &xmax);
    if (!rc) rc = expect_str(L, "<exists> or <absent>", TOK_FLAG, &s);
    if (rc) return rc;
    int has_tiers = !strcmp(s, "exists");
    free(s);
    if ((rc = nk_textgrid_new(xmin, xmax, out))) return fail_in(rc, L->path, "");
    int n_tiers = 0;
    if (has_tiers && (rc = expect_count(L, "tier count", &n_tiers))) return rc;
    for (int k = 0; k < n_tiers; k++) {
        char *cls = NULL, *name = NULL;
        int n, tier = -1;
        double txmin, txmax;
        rc = expect_str(L, "tier class", TOK_STR, &cls);
        if (!rc) rc = expect_str(L, "tier name", TOK_STR, &name);
        if (!rc) rc = expect_num(L, "tier xmin", &txmin);
        if (!rc) rc = expect_num(L, "tier xmax", &txmax);
        if (!rc) rc = expect_count(L, "interval count", &n);
        int intervals = !rc && !strcmp(cls, "IntervalTier");
        if (!rc && !intervals && strcmp(cls, "TextTier"))
            rc = nk_fail(NK_ERR_FORMAT, "%s: line %d: unknown tier class \"%s\"", L->path, L->line, cls);
        if (!rc && intervals) rc = nk_textgrid_add_tier(*out, name, &tier);
        free(cls);
        free(name);
        for (int i = 0; i < n && !rc; i++) {
            double a, b = 0;
            char *text = NULL;
            rc = expect_num(L, "interval xmin", &a);
            if (!rc && intervals) rc = expect_num(L, "interval xmax", &b);
            if (!rc) rc = expect_str(L, "interval text", TOK_STR, &text);
            /* Stored as read; validation below says what is wrong with it. */
            if (!rc && intervals) rc = push(&(*out)->tiers[tier], a, b, text);
            free(text);
        }
        if (rc) return rc;
    }
    int kind;
    double v;
    if ((rc = lex(L, &kind, &v, &s))) return rc;
    free(s);
    if (kind != TOK_END) return nk_fail(NK_ERR_FORMAT, "%s: line %d: trailing data", L->path, L->line);
    if ((rc = nk_textgrid_validate(*out))) return fail_in(rc, L->path, "");
    return NK_OK;
}

int nk_textgrid_read(const char *path, nk_textgrid **out) {
    *out = NULL;
    char *data;
    size_t size;
    int rc = nk_read_file(path, &data, &size);
    if (rc) return rc;
    const char *p = data;
    if (size >= 2 && ((unsigned char)p[0] == 0xFF || (unsigned char)p[0] == 0xFE)) {
        free(data);
        return nk_fail(NK_ERR_FORMAT, "%s: UTF-16 TextGrids are not supported (save as UTF-8)", path);
    }
    if (size >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3;
    if (memchr(p, '\0', size - (size_t)(p - data))) {
        free(data);
        return nk_fail(NK_ERR_FORMAT, "%s: binary data in a text TextGrid", path);
    }
    tg_lexer L = {p, data + size, path, 1};
    rc = parse(&L, out);
    free(data);
    if (rc) {
        nk_textgrid_free(*out);
        *out = NULL;
    }
    return rc;
}
