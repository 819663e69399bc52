#include "napkit/text.h"

#include "napkit/error.h"

#include <stdlib.h>
#include <string.h>

struct nk_alphabet {
    int n;
    char **sym; // sym[0] is the blank
};

int nk_utf8_decode(const char *s, size_t len, unsigned *cp) {
    const unsigned char *u = (const unsigned char *)s;
    if (len == 0) return 0;
    int need;
    unsigned c;
    if (u[0] < 0x80) { *cp = u[0]; return 1; }
    else if ((u[0] & 0xE0) == 0xC0) { need = 2; c = u[0] & 0x1F; }
    else if ((u[0] & 0xF0) == 0xE0) { need = 3; c = u[0] & 0x0F; }
    else if ((u[0] & 0xF8) == 0xF0) { need = 4; c = u[0] & 0x07; }
    else return 0;
    if ((size_t)need > len) return 0;
    for (int i = 1; i < need; i++) {
        if ((u[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (u[i] & 0x3F);
    }
    /* Reject overlong forms, surrogates and values past U+10FFFF. */
    static const unsigned min_for[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min_for[need] || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) return 0;
    *cp = c;
    return need;
}

static int utf8_encode(unsigned cp, char *out) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Lowercase for ASCII, Latin-1 and Latin Extended-A: the scripts whose
 * letters normalization can keep or transliterate; others pass unchanged. */
static unsigned to_lower(unsigned c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
    if (c == 0x130) return 'i';
    if (((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) && !(c & 1)) return c + 1;
    if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) && (c & 1)) return c + 1;
    if (c == 0x178) return 0xFF;
    if (c == 0x1E9E) return 0xDF; // capital sharp s
    return c;
}

/* Lowercase letters with an obvious ASCII spelling. ä ö ü ß only apply when
 * the alphabet lacks them (a German alphabet keeps them). */
static const struct {
    const char *from, *to;
} translit[] = {
    {"àáâãäåāăą", "a"}, {"æ", "ae"}, {"çćĉċč", "c"}, {"ďđð", "d"}, {"èéêëēĕėęě", "e"},
    {"ĝğġģ", "g"}, {"ĥħ", "h"}, {"ìíîïĩīĭįı", "i"}, {"ĵ", "j"}, {"ķ", "k"}, {"ĺļľŀł", "l"},
    {"ñńņňŉ", "n"}, {"òóôõöøōŏő", "o"}, {"œ", "oe"}, {"ŕŗř", "r"}, {"śŝşšſ", "s"}, {"ß", "ss"},
    {"ţťŧ", "t"}, {"þ", "th"}, {"ùúûüũūŭůűų", "u"}, {"ŵ", "w"}, {"ýÿŷ", "y"}, {"źżž", "z"},
};
/* Word separators: whitespace, hyphens and dashes, punctuation. */
static const char separators[] =
    " \t\r\n\v\f\u00a0\u2002\u2003\u2009\u202f"
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
    ".,;:!?\"\u201c\u201d\u201e\u201f\u00ab\u00bb\u2039\u203a\u201a()[]{}\u2026/\\_*\u00a1\u00bf\u00b7";
/* Written as an apostrophe: ' and its typographic and accent look-alikes. */
static const char apostrophes[] = "'\u2019\u2018`\u00b4\u02bb\u02bc\u2032";

static int in_set(const char *set, unsigned c) {
    size_t len = strlen(set);
    for (size_t i = 0; i < len;) {
        unsigned d;
        int k = nk_utf8_decode(set + i, len - i, &d);
        if (k == 0) return 0;
        if (d == c) return 1;
        i += (size_t)k;
    }
    return 0;
}

/* Index of the symbol spelled by the first len bytes of s, or -1. */
static int symbol_index(const nk_alphabet *a, const char *s, size_t len) {
    for (int i = 1; i < a->n; i++)
        if (strlen(a->sym[i]) == len && !memcmp(a->sym[i], s, len)) return i;
    return -1;
}

int nk_alphabet_new(const char *const *symbols, int n, nk_alphabet **out) {
    *out = NULL;
    if (n < 2) return nk_fail(NK_ERR_ARG, "alphabet needs a blank and at least one symbol, got %d", n);
    for (int i = 0; i < n; i++) {
        const char *s = symbols[i];
        size_t len = s ? strlen(s) : 0;
        if (!len) return nk_fail(NK_ERR_ARG, "alphabet symbol %d is empty", i);
        for (size_t k = 0; k < len;) {
            unsigned cp;
            int used = nk_utf8_decode(s + k, len - k, &cp);
            if (!used) return nk_fail(NK_ERR_ARG, "alphabet symbol %d is not valid UTF-8", i);
            k += (size_t)used;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(symbols[j], s))
                return nk_fail(NK_ERR_ARG, "alphabet symbol '%s' appears twice (%d and %d)", s, j, i);
    }
    nk_alphabet *a = calloc(1, sizeof *a);
    if (a) a->sym = calloc((size_t)n, sizeof *a->sym);
    if (!a || !a->sym) {
        free(a);
        return nk_fail(NK_ERR_NOMEM, "out of memory building an alphabet");
    }
    for (a->n = 0; a->n < n; a->n++) {
        if (!(a->sym[a->n] = strdup(symbols[a->n]))) {
            nk_alphabet_free(a);
            return nk_fail(NK_ERR_NOMEM, "out of memory building an alphabet");
        }
    }
    if (symbol_index(a, " ", 1) < 0) {
        nk_alphabet_free(a);
        return nk_fail(NK_ERR_ARG, "alphabet has no space symbol \" \"");
    }
    *out = a;
    return NK_OK;
}

int nk_alphabet_builtin(const char *lang, nk_alphabet **out) {
    static const char *const syms[] = {"_", " ", "'", "a", "b", "c", "d", "e", "f", "g", "h",
                                       "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s",
                                       "t", "u", "v", "w", "x", "y", "z", "ä", "ö", "ü", "ß"};
    *out = NULL;
    if (lang && !strcmp(lang, "en")) return nk_alphabet_new(syms, 29, out);
    if (lang && !strcmp(lang, "de")) return nk_alphabet_new(syms, 33, out);
    return nk_fail(NK_ERR_ARG, "no built-in alphabet for language '%s' (use en or de)",
                   lang ? lang : "(null)");
}

void nk_alphabet_free(nk_alphabet *a) {
    if (!a) return;
    for (int i = 0; i < a->n; i++) free(a->sym[i]);
    free(a->sym);
    free(a);
}

int nk_alphabet_size(const nk_alphabet *a) { return a->n; }

const char *nk_alphabet_symbol(const nk_alphabet *a, int i) {
    return i >= 0 && i < a->n ? a->sym[i] : NULL;
}

int nk_alphabet_encode(const nk_alphabet *a, const char *text, int *labels, int *n) {
    *n = 0;
    size_t len = strlen(text);
    for (size_t i = 0, chars = 0; i < len; chars++) {
        /* Longest match first, so multi-character symbols win over their prefixes. */
        int best = -1;
        size_t best_len = 0;
        for (int s = 1; s < a->n; s++) {
            size_t sl = strlen(a->sym[s]);
            if (sl > best_len && sl <= len - i && !memcmp(a->sym[s], text + i, sl)) {
                best = s;
                best_len = sl;
            }
        }
        if (best < 0) {
            unsigned cp = 0;
            nk_utf8_decode(text + i, len - i, &cp);
            return nk_fail(NK_ERR_ARG, "character %zu (U+%04X) is not in the alphabet", chars, cp);
        }
        labels[(*n)++] = best;
        i += best_len;
    }
    return NK_OK;
}

int nk_alphabet_decode(const nk_alphabet *a, const int *labels, int n, char **text) {
    *text = NULL;
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= a->n)
            return nk_fail(NK_ERR_ARG, "label %d at position %d is outside the alphabet (size %d)",
                           labels[i], i, a->n);
        if (labels[i]) len += strlen(a->sym[labels[i]]);
    }
    char *s = malloc(len + 1), *p = s;
    if (!s) return nk_fail(NK_ERR_NOMEM, "out of memory decoding %d labels", n);
    for (int i = 0; i < n; i++) {
        if (!labels[i]) continue;
        size_t l = strlen(a->sym[labels[i]]);
        memcpy(p, a->sym[labels[i]], l);
        p += l;
    }
    *p = '\0';
    *text = s;
    return NK_OK;
}

/* The spelling of lowercase c over the alphabet: the letter itself when the
 * alphabet has it, else its transliteration when every letter of that is in
 * the alphabet; NULL otherwise. buf holds at least 8 bytes. */
static const char *spell(const nk_alphabet *a, unsigned c, char *buf) {
    int k = utf8_encode(c, buf);
    buf[k] = '\0';
    if (symbol_index(a, buf, (size_t)k) > 0) return buf;
    for (size_t t = 0; t < sizeof translit / sizeof translit[0]; t++) {
        if (!in_set(translit[t].from, c)) continue;
        for (const char *p = translit[t].to; *p; p++)
            if (symbol_index(a, p, 1) < 0) return NULL;
        return translit[t].to;
    }
    return NULL;
}

int nk_text_normalize(const nk_alphabet *a, const char *in, char **out) {
    *out = NULL;
    size_t len = strlen(in);
    /* Each input code point yields at most 2 ASCII letters or itself (≤ 4 bytes). */
    char *s = malloc(2 * len + 8);
    if (!s) return nk_fail(NK_ERR_NOMEM, "out of memory normalizing %zu bytes", len);
    int keep_apostrophe = symbol_index(a, "'", 1) > 0;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        int k = nk_utf8_decode(in + i, len - i, &cp);
        if (!k) {
            free(s);
            return nk_fail(NK_ERR_FORMAT, "invalid UTF-8 at byte %zu", i);
        }
        char buf[8];
        const char *sp;
        unsigned c = to_lower(cp);
        if (in_set(apostrophes, c)) {
            if (keep_apostrophe) s[o++] = '\'';
            else if (o && s[o - 1] != ' ') s[o++] = ' ';
        } else if (c < 0x20 || in_set(separators, c)) {
            if (o && s[o - 1] != ' ') s[o++] = ' ';
        } else if ((sp = spell(a, c, buf))) {
            size_t l = strlen(sp);
            memcpy(s + o, sp, l);
            o += l;
        } else {
            int r;
            if (c >= '0' && c <= '9') r = nk_fail(NK_ERR_FORMAT, "contains a digit ('%c')", (int)c);
            else r = nk_fail(NK_ERR_FORMAT, "unknown character '%.*s' (U+%04X)", k, in + i, cp);
            free(s);
            return r;
        }
        i += (size_t)k;
    }
    /* Keep an apostrophe only between two letters; then collapse spaces. */
    size_t w = 0;
    for (size_t r = 0; r < o; r++) {
        char c = s[r];
        if (c == '\'') {
            int left = w > 0 && s[w - 1] != ' ' && s[w - 1] != '\'';
            int right = r + 1 < o && s[r + 1] != ' ' && s[r + 1] != '\'';
            if (!(left && right)) c = ' ';
        }
        if (c == ' ' && (w == 0 || s[w - 1] == ' ')) continue;
        s[w++] = c;
    }
    while (w && s[w - 1] == ' ') w--;
    s[w] = '\0';
    if (!w) {
        free(s);
        return nk_fail(NK_ERR_EMPTY, "empty transcript after normalization");
    }
    *out = s;
    return NK_OK;
}
