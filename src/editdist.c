/* Levenshtein distance and per-utterance CER/WER counts.
 *
 * Texts are normalized the way jiwer's default CER/WER transforms do it:
 * runs of whitespace become one space and both ends are trimmed, so a stray
 * newline or double space is not counted as an error. Case and punctuation are
 * left alone (the alphabet decides those). Characters are UTF-8 code points,
 * so German ä ö ü ß count as one; malformed UTF-8 is an error. */
#include "napkit/editdist.h"

#include "napkit/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One row of the dynamic programme over the shorter sequence: O(min(n, m))
 * memory. Returns SIZE_MAX if that row cannot be allocated. */
size_t nk_edit_distance(const int *a, size_t n, const int *b, size_t m) {
    if (m > n) {
        const int *t = a;
        a = b, b = t;
        size_t s = n;
        n = m, m = s;
    }
    if (m == 0) return n;
    size_t *row = malloc((m + 1) * sizeof *row); // row[j] = distance(a[:i], b[:j])
    if (!row) return SIZE_MAX;
    for (size_t j = 0; j <= m; j++) row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[m];
    free(row);
    return d;
}

static int is_space(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Decodes one UTF-8 sequence at s, rejecting overlong forms, surrogates and
 * code points above U+10FFFF. Returns its length in bytes, 0 if malformed. */
static int utf8_next(const unsigned char *s, int *cp) {
    static const int min_of_len[5] = {0, 0, 0x80, 0x800, 0x10000};
    int len = s[0] < 0x80 ? 1 : s[0] >= 0xC0 && s[0] < 0xE0 ? 2 : s[0] >= 0xE0 && s[0] < 0xF0 ? 3
            : s[0] >= 0xF0 && s[0] < 0xF8 ? 4 : 0;
    if (len <= 1) return *cp = s[0], len;
    int c = s[0] & (0x7F >> len);
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0; // also stops at the terminating NUL
        c = c << 6 | (s[i] & 0x3F);
    }
    if (c < min_of_len[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return len;
}

/* Code points of text, normalized (see the top of the file), into a malloc'd
 * array; a text of B bytes has at most B code points. */
static int decode(const char *who, const char *text, int **out, size_t *n) {
    if (!text) return nk_fail(NK_ERR_ARG, "error counts: %s is NULL", who);
    int *cps = malloc((strlen(text) + 1) * sizeof *cps);
    if (!cps) return nk_fail(NK_ERR_NOMEM, "error counts: no memory for the %s", who);
    const unsigned char *s = (const unsigned char *)text;
    size_t k = 0;
    int pending_space = 0;
    for (size_t i = 0; s[i];) {
        int cp, len = utf8_next(s + i, &cp);
        if (!len) {
            free(cps);
            return nk_fail(NK_ERR_FORMAT, "error counts: %s: invalid UTF-8 at byte %zu", who, i);
        }
        i += (size_t)len;
        if (is_space(cp)) {
            pending_space = k > 0;
            continue;
        }
        if (pending_space) cps[k++] = ' ';
        pending_space = 0;
        cps[k++] = cp;
    }
    *out = cps;
    *n = k;
    return 0;
}

typedef struct {
    const int *cp; // the word's code points inside a decoded text
    size_t len;
    size_t index;  // position in the combined hypothesis + reference word list
} word;

static int word_cmp(const void *pa, const void *pb) {
    const word *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    for (size_t i = 0; i < n; i++)
        if (a->cp[i] != b->cp[i]) return a->cp[i] < b->cp[i] ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

// Splits a normalized text at its single spaces; returns the word count.
static size_t split_words(const int *cps, size_t n, word *w, size_t first) {
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && cps[j] != ' ') j++;
        w[k] = (word){cps + i, j - i, first + k};
        k++;
        i = j + 1;
    }
    return k;
}

/* Word ids: equal words get equal ids (sort, then number the distinct runs). */
static int word_ids(const int *hyp, size_t nh, const int *ref, size_t nr, int **ids,
                    size_t *n_hyp, size_t *n_ref) {
    size_t cap = (nh + 1) / 2 + (nr + 1) / 2 + 1; // a word takes a code point and a space
    word *w = malloc(cap * sizeof *w);
    int *id = malloc(cap * sizeof *id);
    if (!w || !id) {
        free(w), free(id);
        return nk_fail(NK_ERR_NOMEM, "error counts: no memory for %zu words", cap);
    }
    *n_hyp = split_words(hyp, nh, w, 0);
    *n_ref = split_words(ref, nr, w + *n_hyp, *n_hyp);
    size_t total = *n_hyp + *n_ref;
    qsort(w, total, sizeof *w, word_cmp);
    for (size_t i = 0, next = 0; i < total; i++) {
        if (i > 0 && word_cmp(&w[i - 1], &w[i])) next++;
        id[w[i].index] = (int)next;
    }
    free(w);
    *ids = id;
    return 0;
}

int nk_error_counts_of(const char *hypothesis, const char *reference, nk_error_counts *out) {
    if (!out) return nk_fail(NK_ERR_ARG, "error counts: out is NULL");
    int *hyp = NULL, *ref = NULL, *ids = NULL;
    size_t nh, nr, wh = 0, wr = 0;
    int rc = decode("hypothesis", hypothesis, &hyp, &nh);
    if (!rc) rc = decode("reference", reference, &ref, &nr);
    if (!rc) rc = word_ids(hyp, nh, ref, nr, &ids, &wh, &wr);
    if (!rc) {
        out->char_errors = nk_edit_distance(hyp, nh, ref, nr);
        out->char_count = nr;
        out->word_errors = nk_edit_distance(ids, wh, ids + wh, wr);
        out->word_count = wr;
        if (out->char_errors == SIZE_MAX || out->word_errors == SIZE_MAX)
            rc = nk_fail(NK_ERR_NOMEM, "error counts: no memory for the edit distance");
    }
    free(hyp), free(ref), free(ids);
    return rc;
}
