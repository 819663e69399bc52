/* CMUdict loader (Festival and plain formats) with a hash table by word. */
#include "napkit/lexicon.h"

#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/phoneset.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const nk_pron_source_names[] = {"cmudict", "espeak-ng", NULL};

#define FESTIVAL_CMUDICT "/usr/share/festival/dicts/cmu/cmudict-0.4.out"
#define REPORT_MAX 5 /* bad lines listed by line number in the report */

struct nk_lexicon {
    char *words;        /* NUL-terminated words back to back */
    size_t words_len, words_cap;
    size_t *word_off;   /* (n_words) */
    int *first, *n_var; /* (n_words): the word's variants are prons first … first+n_var−1 */
    int n_words, words_alloc;
    uint8_t *phone, *stress; /* phones of all prons back to back */
    size_t phones_len, phones_cap;
    size_t *pron_off;   /* (n_prons + 1) */
    int *pron_word;     /* (n_prons), used while loading */
    int n_prons, prons_alloc;
    int *slots;         /* open-addressing hash: word index + 1, 0 = empty */
    size_t n_slots;
    int n_bad;
    char report[256];
};

const char *nk_lexicon_default_path(void) {
    const char *env = getenv("NAPKIT_CMUDICT");
    return env && env[0] ? env : FESTIVAL_CMUDICT;
}

static uint64_t hash_word(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)tolower((unsigned char)s[i])) * 1099511628211ull;
    return h;
}

/* Slot holding word s (n bytes, any case), or the empty slot where it goes. */
static size_t find_slot(const nk_lexicon *lex, const char *s, size_t n) {
    size_t mask = lex->n_slots - 1, i = hash_word(s, n) & mask;
    while (lex->slots[i]) {
        const char *w = lex->words + lex->word_off[lex->slots[i] - 1];
        if (!strncasecmp(w, s, n) && w[n] == 0) break;
        i = (i + 1) & mask;
    }
    return i;
}

static int grow(void **p, int *alloc, int need, size_t elem) {
    if (need <= *alloc) return 0;
    int n = *alloc ? *alloc : 1024;
    while (n < need) n *= 2;
    void *q = realloc(*p, (size_t)n * elem);
    if (!q) return nk_fail(NK_ERR_NOMEM, "lexicon: out of memory");
    *p = q;
    *alloc = n;
    return 0;
}

static int rehash(nk_lexicon *lex) {
    free(lex->slots);
    lex->n_slots = lex->n_slots ? lex->n_slots * 2 : 1 << 16;
    lex->slots = calloc(lex->n_slots, sizeof *lex->slots);
    if (!lex->slots) return nk_fail(NK_ERR_NOMEM, "lexicon: out of memory");
    for (int w = 0; w < lex->n_words; w++) {
        const char *s = lex->words + lex->word_off[w];
        lex->slots[find_slot(lex, s, strlen(s))] = w + 1;
    }
    return 0;
}

/* Index of word s (n bytes), adding it in lower case when new; −1 on failure. */
static int intern(nk_lexicon *lex, const char *s, size_t n) {
    if ((size_t)lex->n_words * 2 >= lex->n_slots && rehash(lex)) return -1;
    size_t slot = find_slot(lex, s, n);
    if (lex->slots[slot]) return lex->slots[slot] - 1;
    if (grow((void **)&lex->word_off, &lex->words_alloc, lex->n_words + 1, sizeof *lex->word_off))
        return -1;
    if (lex->words_len + n + 1 > lex->words_cap) {
        size_t cap = lex->words_cap ? lex->words_cap * 2 : 1 << 20;
        while (cap < lex->words_len + n + 1) cap *= 2;
        char *q = realloc(lex->words, cap);
        if (!q) return nk_fail(NK_ERR_NOMEM, "lexicon: out of memory"), -1;
        lex->words = q;
        lex->words_cap = cap;
    }
    char *w = lex->words + lex->words_len;
    for (size_t i = 0; i < n; i++) w[i] = (char)tolower((unsigned char)s[i]);
    w[n] = 0;
    lex->word_off[lex->n_words] = lex->words_len;
    lex->words_len += n + 1;
    lex->slots[slot] = ++lex->n_words;
    return lex->n_words - 1;
}

/* One parsed line, before it is committed to the lexicon. */
typedef struct {
    const char *word;
    size_t word_len;
    int n, phone[NK_PRON_MAX], stress[NK_PRON_MAX];
    const char *error; /* reason the line is bad */
    char bad_phone[16];
} line_parse;

/* Appends ARPAbet phone `name` (len bytes, Festival lower case or plain upper
 * case, optional stress digit) with syllable stress `syl` (−1: from the
 * name's digit). Festival's ax is AH0. */
static void add_phone(line_parse *lp, const char *name, size_t len, int syl) {
    if (lp->error) return;
    char buf[8];
    if (len == 0 || len >= sizeof buf) {
        lp->error = "bad phone";
        snprintf(lp->bad_phone, sizeof lp->bad_phone, "%.*s", (int)(len < 15 ? len : 15), name);
        return;
    }
    memcpy(buf, name, len);
    buf[len] = 0;
    if (syl >= 0 && !strcmp(buf, "ax")) strcpy(buf, "AH"), syl = 0;
    int st, id = nk_phone_by_arpabet(buf, &st);
    if (id >= 0 && syl >= 0 && nk_phone_is_syllabic(id)) {
        char b2[24];
        snprintf(b2, sizeof b2, "%s%d", buf, syl);
        id = nk_phone_by_arpabet(b2, &st);
    }
    if (id < 0 || id == 0) {
        lp->error = "unknown phone";
        snprintf(lp->bad_phone, sizeof lp->bad_phone, "%s", buf);
        return;
    }
    if (lp->n >= NK_PRON_MAX) {
        lp->error = "too many phonemes";
        return;
    }
    lp->phone[lp->n] = id;
    lp->stress[lp->n] = nk_phone_is_syllabic(id) ? st : 0;
    lp->n++;
}

/* ("word" pos (((p p) 1) ((p) 0))) */
static void parse_festival(const char *s, const char *end, line_parse *lp) {
    const char *p = s + 1;
    while (p < end && isspace((unsigned char)*p)) p++;
    if (p >= end || *p != '"') { lp->error = "no quoted word"; return; }
    const char *w = ++p;
    while (p < end && *p != '"') p++;
    if (p >= end || p == w) { lp->error = "no quoted word"; return; }
    lp->word = w;
    lp->word_len = (size_t)(p - w);
    p++;
    /* Skip the part-of-speech field up to the syllable list. */
    while (p < end && *p != '(') p++;
    if (p + 1 >= end || p[1] != '(') { lp->error = "no syllable list"; return; }
    p++;
    while (p < end && !lp->error) {
        while (p < end && isspace((unsigned char)*p)) p++;
        if (p < end && *p == ')') break; /* end of the syllable list */
        if (p + 1 >= end || p[0] != '(' || p[1] != '(') { lp->error = "malformed syllable"; return; }
        p += 2;
        const char *ph = p;
        while (p < end && *p != ')') p++;
        const char *ph_end = p;
        if (p >= end) { lp->error = "malformed syllable"; return; }
        p++;
        char *num_end;
        long stress = strtol(p, &num_end, 10);
        if (num_end == p || stress < 0 || stress > 2) { lp->error = "bad stress"; return; }
        p = num_end;
        while (p < end && isspace((unsigned char)*p)) p++;
        if (p >= end || *p != ')') { lp->error = "malformed syllable"; return; }
        p++;
        for (const char *q = ph; q < ph_end;) {
            while (q < ph_end && isspace((unsigned char)*q)) q++;
            const char *t = q;
            while (q < ph_end && !isspace((unsigned char)*q)) q++;
            if (q > t) add_phone(lp, t, (size_t)(q - t), (int)stress);
        }
    }
}

/* WORD(2)  P H1 O N E   # comment */
static void parse_plain(const char *s, const char *end, line_parse *lp) {
    const char *p = s;
    while (p < end && !isspace((unsigned char)*p)) p++;
    lp->word = s;
    lp->word_len = (size_t)(p - s);
    /* Strip a variant suffix "(2)". */
    if (lp->word_len > 3 && s[lp->word_len - 1] == ')') {
        const char *o = memchr(s, '(', lp->word_len);
        if (o && o > s) lp->word_len = (size_t)(o - s);
    }
    while (p < end && *p != '#' && !lp->error) {
        while (p < end && isspace((unsigned char)*p)) p++;
        const char *t = p;
        while (p < end && !isspace((unsigned char)*p)) p++;
        if (p > t && *t != '#') add_phone(lp, t, (size_t)(p - t), -1);
        if (*t == '#') break;
    }
}

static void note_bad(nk_lexicon *lex, long line, const line_parse *lp) {
    if (++lex->n_bad > REPORT_MAX) return;
    size_t len = strlen(lex->report);
    snprintf(lex->report + len, sizeof lex->report - len, "%s%ld (%s%s%s%s)", len ? ", " : "", line,
             lp->error, lp->bad_phone[0] ? " '" : "", lp->bad_phone, lp->bad_phone[0] ? "'" : "");
}

static int add_pron(nk_lexicon *lex, const line_parse *lp) {
    int w = intern(lex, lp->word, lp->word_len);
    if (w < 0) return NK_ERR_NOMEM;
    if (grow((void **)&lex->pron_word, &lex->prons_alloc, lex->n_prons + 1, sizeof(int)))
        return NK_ERR_NOMEM;
    if (lex->phones_len + (size_t)lp->n > lex->phones_cap) {
        size_t cap = lex->phones_cap ? lex->phones_cap * 2 : 1 << 20;
        uint8_t *a = realloc(lex->phone, cap), *b = a ? realloc(lex->stress, cap) : NULL;
        if (a) lex->phone = a;
        if (!b) return nk_fail(NK_ERR_NOMEM, "lexicon: out of memory");
        lex->stress = b;
        lex->phones_cap = cap;
    }
    for (int i = 0; i < lp->n; i++) {
        lex->phone[lex->phones_len + i] = (uint8_t)lp->phone[i];
        lex->stress[lex->phones_len + i] = (uint8_t)lp->stress[i];
    }
    /* pron_off is built after loading; record each pron's start in the word slot order. */
    lex->pron_word[lex->n_prons++] = w;
    lex->phones_len += (size_t)lp->n;
    return 0;
}

/* Orders the prons by word (stable), so a word's variants are contiguous. */
static int group_by_word(nk_lexicon *lex, const size_t *start) {
    int W = lex->n_words, P = lex->n_prons;
    lex->first = calloc((size_t)W + 1, sizeof(int));
    lex->n_var = calloc((size_t)W + 1, sizeof(int));
    lex->pron_off = malloc(((size_t)P + 1) * sizeof(size_t));
    uint8_t *phone = malloc(lex->phones_len + 1), *stress = malloc(lex->phones_len + 1);
    int *next = malloc(((size_t)W + 1) * sizeof(int));
    if (!lex->first || !lex->n_var || !lex->pron_off || !phone || !stress || !next) {
        free(phone), free(stress), free(next);
        return nk_fail(NK_ERR_NOMEM, "lexicon: out of memory");
    }
    for (int p = 0; p < P; p++) lex->n_var[lex->pron_word[p]]++;
    for (int w = 0, acc = 0; w < W; w++) lex->first[w] = acc, next[w] = acc, acc += lex->n_var[w];
    int *slot_of = lex->pron_word; /* reused: pron p goes to slot_of[p] */
    for (int p = 0; p < P; p++) slot_of[p] = next[slot_of[p]]++;
    size_t *len = malloc(((size_t)P + 1) * sizeof(size_t));
    if (!len) {
        free(phone), free(stress), free(next);
        return nk_fail(NK_ERR_NOMEM, "lexicon: out of memory");
    }
    for (int p = 0; p < P; p++) len[slot_of[p]] = start[p + 1] - start[p];
    lex->pron_off[0] = 0;
    for (int q = 0; q < P; q++) lex->pron_off[q + 1] = lex->pron_off[q] + len[q];
    for (int p = 0; p < P; p++) {
        size_t dst = lex->pron_off[slot_of[p]], n = start[p + 1] - start[p];
        memcpy(phone + dst, lex->phone + start[p], n);
        memcpy(stress + dst, lex->stress + start[p], n);
    }
    free(len);
    free(next);
    free(lex->phone);
    free(lex->stress);
    free(lex->pron_word);
    lex->pron_word = NULL;
    lex->phone = phone;
    lex->stress = stress;
    return 0;
}

int nk_lexicon_load(const char *path, nk_lexicon **out) {
    *out = NULL;
    char *data;
    size_t size;
    int rc = nk_read_file(path, &data, &size);
    if (rc) return rc;
    nk_lexicon *lex = calloc(1, sizeof *lex);
    size_t *start = NULL;
    int n_start = 0;
    char first_bad[200] = "";
    if (!lex) {
        free(data);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    }
    long line = 0;
    for (char *s = data; s < data + size && !rc;) {
        char *end = memchr(s, '\n', (size_t)(data + size - s));
        if (!end) end = data + size;
        line++;
        char *t = s, *e = end;
        while (t < e && isspace((unsigned char)*t)) t++;
        while (e > t && isspace((unsigned char)e[-1])) e--;
        /* Blank lines, comments and Festival's "MNCL" header carry nothing. */
        if (t < e && *t != ';' && *t != '#' && !(e - t == 4 && !memcmp(t, "MNCL", 4))) {
            line_parse lp = {0};
            if (*t == '(') parse_festival(t, e, &lp);
            else parse_plain(t, e, &lp);
            if (!lp.error && lp.n == 0) lp.error = "no phonemes";
            if (!lp.error && memchr(lp.word, '\0', lp.word_len)) lp.error = "NUL byte in word";
            if (lp.error) {
                if (!first_bad[0])
                    snprintf(first_bad, sizeof first_bad, "line %ld: %s%s%s%s", line, lp.error,
                             lp.bad_phone[0] ? " '" : "", lp.bad_phone, lp.bad_phone[0] ? "'" : "");
                note_bad(lex, line, &lp);
            } else {
                if (lex->n_prons + 2 > n_start) {
                    int n = n_start ? n_start * 2 : 1 << 16;
                    size_t *q = realloc(start, (size_t)n * sizeof *start);
                    if (!q) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
                    else start = q, n_start = n;
                }
                if (!rc) {
                    start[lex->n_prons] = lex->phones_len;
                    rc = add_pron(lex, &lp);
                }
            }
        }
        s = end + 1;
    }
    free(data);
    if (!rc && lex->n_prons == 0)
        rc = nk_fail(NK_ERR_FORMAT, "%s: no pronunciation parses%s%s", path, first_bad[0] ? "; " : "",
                     first_bad);
    if (!rc) {
        start[lex->n_prons] = lex->phones_len;
        rc = group_by_word(lex, start);
    }
    free(start);
    if (rc) {
        nk_lexicon_free(lex);
        return rc;
    }
    if (lex->n_bad) {
        char list[sizeof lex->report];
        memcpy(list, lex->report, sizeof list);
        snprintf(lex->report, sizeof lex->report, "%d bad line%s: %.200s%s", lex->n_bad,
                 lex->n_bad > 1 ? "s" : "", list, lex->n_bad > REPORT_MAX ? ", …" : "");
    }
    *out = lex;
    return 0;
}

void nk_lexicon_free(nk_lexicon *lex) {
    if (!lex) return;
    free(lex->words);
    free(lex->word_off);
    free(lex->first);
    free(lex->n_var);
    free(lex->phone);
    free(lex->stress);
    free(lex->pron_off);
    free(lex->pron_word);
    free(lex->slots);
    free(lex);
}

int nk_lexicon_n_words(const nk_lexicon *lex) { return lex->n_words; }

const char *nk_lexicon_word(const nk_lexicon *lex, int i) {
    return i >= 0 && i < lex->n_words ? lex->words + lex->word_off[i] : NULL;
}

int nk_lexicon_n_variants(const nk_lexicon *lex, int i) {
    return i >= 0 && i < lex->n_words ? lex->n_var[i] : 0;
}

int nk_lexicon_find(const nk_lexicon *lex, const char *word) {
    if (!word || !word[0]) return -1;
    int w = lex->slots[find_slot(lex, word, strlen(word))];
    return w - 1;
}

int nk_lexicon_pron(const nk_lexicon *lex, int i, int v, nk_pron *out) {
    if (i < 0 || i >= lex->n_words || v < 0 || v >= lex->n_var[i])
        return nk_fail(NK_ERR_ARG, "lexicon: no variant %d of word %d", v, i);
    int p = lex->first[i] + v;
    size_t a = lex->pron_off[p], b = lex->pron_off[p + 1];
    out->n = (int)(b - a);
    for (int k = 0; k < out->n; k++) {
        out->phone[k] = lex->phone[a + k];
        out->stress[k] = lex->stress[a + k];
    }
    return 0;
}

int nk_lexicon_n_bad(const nk_lexicon *lex, const char **report) {
    if (report) *report = lex->report;
    return lex->n_bad;
}

int nk_pronounce(const nk_lexicon *lex, const char *voice, const char *word, nk_pron *out,
                 nk_pron_source *source) {
    int w = lex ? nk_lexicon_find(lex, word) : -1;
    if (source) *source = w >= 0 ? NK_SOURCE_CMUDICT : NK_SOURCE_ESPEAK;
    return w >= 0 ? nk_lexicon_pron(lex, w, 0, out) : nk_phonemize(voice, word, out);
}

void nk_pron_format(const nk_pron *p, int arpabet, char *buf, size_t cap) {
    size_t len = 0;
    if (cap) buf[0] = 0;
    for (int i = 0; i < p->n && len + 1 < cap; i++) {
        const nk_phone_info *ph = nk_phone_at(p->phone[i]);
        const char *sep = i ? " " : "";
        int k;
        if (!ph) k = snprintf(buf + len, cap - len, "%s?", sep);
        else if (!arpabet)
            k = snprintf(buf + len, cap - len, "%s%s%s", sep,
                         p->stress[i] == 1 ? "ˈ" : p->stress[i] == 2 ? "ˌ" : "", ph->ipa);
        else if (!ph->arpabet) k = snprintf(buf + len, cap - len, "%s[%s]", sep, ph->ipa);
        else if (nk_phone_is_syllabic(p->phone[i]))
            k = snprintf(buf + len, cap - len, "%s%s%d", sep, ph->arpabet, p->stress[i]);
        else k = snprintf(buf + len, cap - len, "%s%s", sep, ph->arpabet);
        if (k < 0) break;
        len += (size_t)k < cap - len ? (size_t)k : cap - len - 1;
    }
}
