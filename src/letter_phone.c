/* Letter↔phoneme alignment: NW pairs, grouping of leftovers, EM on log-odds. */
#include "napkit/letter_phone.h"

#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/nw.h"
#include "napkit/phoneset.h"
#include "napkit/text.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCORE_CLAMP 8.0f /* |log-odds| cap: one odd pair must not dominate an alignment */

struct nk_lp_data {
    unsigned *letters;  /* code points of all words back to back */
    uint8_t *phones;    /* phone ids of all words back to back */
    int *letter_off, *phone_off; /* (n + 1) */
    int n, alloc;
    size_t n_letters, letters_cap, n_phones, phones_cap;
};

struct nk_lp_model {
    int n_letters;    /* rows 0 … n_letters−1 are letters[], row n_letters scores 0 (unseen) */
    unsigned *letters; /* sorted code points */
    int n_phones;     /* columns: phone ids, 0 = silent */
    float *scores;    /* (n_letters + 1, n_phones) */
    float *cohesion;  /* (n_letters + 1, n_letters + 1): log-odds that two adjacent
                         letters share a group (ch, au); −SCORE_CLAMP before training */
    float gap;
    float silent;     /* score of leaving a letter silent */
    nk_lp_stats stats;
};

static int utf8_encode(unsigned c, char *s);

/* ---- letters ---- */

static unsigned lower(unsigned c) {
    if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;
    return c;
}

/* Decodes a word into lower-case code points; *n receives the count. */
static int word_letters(const char *word, unsigned *cp, int *n) {
    size_t len = word ? strlen(word) : 0;
    *n = 0;
    if (len == 0) return nk_fail(NK_ERR_ARG, "letter-phone: empty word");
    for (size_t i = 0; i < len;) {
        unsigned c;
        int k = nk_utf8_decode(word + i, len - i, &c);
        if (k == 0) return nk_fail(NK_ERR_ARG, "letter-phone: \"%s\": invalid UTF-8 at byte %zu", word, i);
        if (*n >= NK_PRON_MAX)
            return nk_fail(NK_ERR_ARG, "letter-phone: \"%s\": more than %d letters", word, NK_PRON_MAX);
        cp[(*n)++] = lower(c);
        i += (size_t)k;
    }
    return 0;
}

static int is_vowel_letter(unsigned c) {
    static const unsigned v[] = {'a', 'e', 'i', 'o', 'u', 'y', 0xE4, 0xF6, 0xFC, 0xE0, 0xE1, 0xE2,
                                 0xE8, 0xE9, 0xEA, 0xEB, 0xEC, 0xED, 0xEE, 0xEF, 0xF2, 0xF3, 0xF4,
                                 0xF9, 0xFA, 0xFB, 0xE6, 0x153};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (v[i] == c) return 1;
    return 0;
}

/* Whether `name` is one of the space-separated words of `list`. */
static int in_list(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0)) return 1;
    return 0;
}

/* The prior: +2 for a plausible letter–phoneme pair (vowel letter ↔ vowel,
 * consonant letter ↔ the phonemes it obviously spells, by ARPAbet neighbour
 * or IPA), 0 for a consonant letter with another consonant, −1 for letters
 * with the wrong kind of phoneme; silence −2, except e, whose silence is
 * common enough in English to be the starting guess (0). */
static float prior_score(unsigned c, int phone) {
    static const struct { unsigned letter; const char *arpabet, *ipa; } obvious[] = {
        {'b', "B", ""},          {'c', "K S CH SH", "ts ç x"}, {'d', "D T", ""},
        {'f', "F V", ""},        {'g', "G JH K ZH", ""},       {'h', "HH", "x"},
        {'j', "JH Y ZH", ""},    {'k', "K", ""},               {'l', "L", ""},
        {'m', "M", ""},          {'n', "N NG", ""},            {'p', "P F", "pf"},
        {'q', "K", ""},          {'r', "R ER", "ɜ ɐ"},         {'s', "S Z SH ZH", "ts"},
        {'t', "T TH DH SH CH", "ts"}, {'v', "V F", ""},        {'w', "W V", ""},
        {'x', "K S Z", ""},      {'y', "Y", ""},               {'z', "Z S", "ts"},
        {0xDF, "S", ""},         {0xE7, "S", ""},              {'u', "W", ""}};
    if (phone == 0) return c == 'e' ? 0.0f : -2.0f;
    const nk_phone_info *ph = nk_phone_at(phone);
    for (size_t i = 0; i < sizeof obvious / sizeof obvious[0]; i++)
        if (obvious[i].letter == c && ((ph->arpabet && in_list(obvious[i].arpabet, ph->arpabet)) ||
                                       in_list(obvious[i].ipa, ph->ipa)))
            return 2.0f;
    int syllabic = nk_phone_is_syllabic(phone);
    if (is_vowel_letter(c)) return syllabic ? 2.0f : -1.0f;
    return syllabic ? -1.0f : 0.0f;
}

/* ---- training data ---- */

int nk_lp_data_new(nk_lp_data **out) {
    *out = calloc(1, sizeof **out);
    return *out ? 0 : nk_fail(NK_ERR_NOMEM, "letter-phone: out of memory");
}

void nk_lp_data_free(nk_lp_data *d) {
    if (!d) return;
    free(d->letters);
    free(d->phones);
    free(d->letter_off);
    free(d->phone_off);
    free(d);
}

int nk_lp_data_size(const nk_lp_data *d) { return d->n; }

static int reserve(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 4096;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q) return nk_fail(NK_ERR_NOMEM, "letter-phone: out of memory");
    *p = q;
    *cap = n;
    return 0;
}

int nk_lp_data_add(nk_lp_data *d, const char *word, const nk_pron *p) {
    unsigned cp[NK_PRON_MAX];
    int n, rc = word_letters(word, cp, &n);
    if (rc) return rc;
    if (p->n <= 0 || p->n > NK_PRON_MAX)
        return nk_fail(NK_ERR_ARG, "letter-phone: \"%s\": %d phonemes", word, p->n);
    size_t alloc = (size_t)d->alloc;
    if (reserve((void **)&d->letter_off, &alloc, (size_t)d->n + 2, sizeof(int))) return NK_ERR_NOMEM;
    alloc = (size_t)d->alloc;
    if (reserve((void **)&d->phone_off, &alloc, (size_t)d->n + 2, sizeof(int))) return NK_ERR_NOMEM;
    d->alloc = (int)alloc;
    if (reserve((void **)&d->letters, &d->letters_cap, d->n_letters + (size_t)n, sizeof(unsigned)) ||
        reserve((void **)&d->phones, &d->phones_cap, d->n_phones + (size_t)p->n, 1))
        return NK_ERR_NOMEM;
    if (d->n == 0) d->letter_off[0] = d->phone_off[0] = 0;
    memcpy(d->letters + d->n_letters, cp, (size_t)n * sizeof(unsigned));
    for (int i = 0; i < p->n; i++) {
        if (p->phone[i] <= 0 || p->phone[i] >= nk_phone_count())
            return nk_fail(NK_ERR_ARG, "letter-phone: \"%s\": bad phone id %d", word, p->phone[i]);
        d->phones[d->n_phones + (size_t)i] = (uint8_t)p->phone[i];
    }
    d->n_letters += (size_t)n;
    d->n_phones += (size_t)p->n;
    d->n++;
    d->letter_off[d->n] = (int)d->n_letters;
    d->phone_off[d->n] = (int)d->n_phones;
    return 0;
}

int nk_lp_data_add_lexicon(nk_lp_data *d, const nk_lexicon *lex, int max_words) {
    int n = nk_lexicon_n_words(lex);
    if (max_words > 0 && max_words < n) n = max_words;
    for (int w = 0; w < n; w++) {
        nk_pron p;
        int rc = nk_lexicon_pron(lex, w, 0, &p);
        if (!rc) rc = nk_lp_data_add(d, nk_lexicon_word(lex, w), &p);
        if (rc) return rc;
    }
    return 0;
}

/* ---- model ---- */

void nk_lp_options_default(nk_lp_options *o) {
    o->max_iter = 20;
    o->gap = -1.0f;
    o->smooth = 1.0f;
    o->silent = -1.0f;
}

static int model_new(const unsigned *letters, int n_letters, nk_lp_model **out) {
    nk_lp_model *m = calloc(1, sizeof *m);
    if (!m) return nk_fail(NK_ERR_NOMEM, "letter-phone: out of memory");
    m->n_letters = n_letters;
    m->n_phones = nk_phone_count();
    m->letters = malloc(((size_t)n_letters + 1) * sizeof(unsigned));
    m->scores = calloc(((size_t)n_letters + 1) * (size_t)m->n_phones, sizeof(float));
    m->cohesion = malloc(((size_t)n_letters + 1) * ((size_t)n_letters + 1) * sizeof(float));
    if (!m->letters || !m->scores || !m->cohesion) {
        nk_lp_model_free(m);
        return nk_fail(NK_ERR_NOMEM, "letter-phone: out of memory");
    }
    memcpy(m->letters, letters, (size_t)n_letters * sizeof(unsigned));
    for (size_t i = 0; i < ((size_t)n_letters + 1) * ((size_t)n_letters + 1); i++)
        m->cohesion[i] = -SCORE_CLAMP;
    nk_lp_options o;
    nk_lp_options_default(&o);
    m->gap = o.gap;
    m->silent = o.silent;
    *out = m;
    return 0;
}

void nk_lp_model_free(nk_lp_model *m) {
    if (!m) return;
    free(m->letters);
    free(m->scores);
    free(m->cohesion);
    free(m);
}

static int cmp_unsigned(const void *a, const void *b) {
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

/* Row of a letter; unseen letters get the all-zero last row. */
static int letter_row(const nk_lp_model *m, unsigned c) {
    const unsigned *hit = bsearch(&c, m->letters, (size_t)m->n_letters, sizeof c, cmp_unsigned);
    return hit ? (int)(hit - m->letters) : m->n_letters;
}

static void set_prior(nk_lp_model *m) {
    for (int l = 0; l < m->n_letters; l++)
        for (int p = 0; p < m->n_phones; p++)
            m->scores[(size_t)l * m->n_phones + p] = prior_score(m->letters[l], p);
}

int nk_lp_prior(nk_lp_model **out) {
    /* a–z and the German letters; others score 0 as unseen letters do. */
    unsigned letters[30];
    int n = 0;
    for (unsigned c = 'a'; c <= 'z'; c++) letters[n++] = c;
    letters[n++] = 0xDF, letters[n++] = 0xE4, letters[n++] = 0xF6, letters[n++] = 0xFC;
    int rc = model_new(letters, n, out);
    if (!rc) set_prior(*out);
    return rc;
}

float nk_lp_score(const nk_lp_model *m, unsigned letter, int phone) {
    if (phone < 0 || phone >= m->n_phones) return 0.0f;
    return m->scores[(size_t)letter_row(m, lower(letter)) * m->n_phones + phone];
}

/* ---- aligning one word ---- */

static float S(const nk_lp_model *m, int row, int phone) { return m->scores[(size_t)row * m->n_phones + phone]; }

/* Score of letter row r joining a group whose phoneme is p next to letter
 * row `beside` (left: beside precedes r): the letter–phoneme score, or the
 * pair's cohesion when that is higher (au in "laugh" spells æ together,
 * though u alone rarely does). */
static float join_score(const nk_lp_model *m, int r, int p, int first, int second) {
    float s = S(m, r, p), c = m->cohesion[(size_t)first * (m->n_letters + 1) + second];
    return c > s ? c : s;
}

/* Groups for letters rows[0..n) and phones ph[0..k). groups holds n + k. */
static int align_rows(const nk_lp_model *m, const int *rows, int n, const int *ph, int k,
                      nk_lp_group *groups, int *n_groups) {
    nk_nw_pair pairs[2 * NK_PRON_MAX];
    int np;
    nk_nw_scoring sc = {.matrix = m->scores, .n_sym_a = m->n_letters + 1, .n_sym_b = m->n_phones,
                        .gap_open = m->gap, .gap_extend = m->gap};
    int rc = nk_nw_align(rows, n, ph, k, &sc, pairs, &np, NULL);
    if (rc) return rc;
    /* Anchors are the matched columns; owner[] says which anchor each letter
     * and phoneme joins (−1: a silent letter). */
    int anchor_l[NK_PRON_MAX], anchor_p[NK_PRON_MAX], na = 0;
    int owner_l[NK_PRON_MAX], owner_p[NK_PRON_MAX];
    for (int c = 0; c < np; c++)
        if (pairs[c].a >= 0 && pairs[c].b >= 0) {
            anchor_l[na] = pairs[c].a, anchor_p[na] = pairs[c].b;
            owner_l[pairs[c].a] = owner_p[pairs[c].b] = na++;
        }
    if (na == 0) {
        /* Nothing pairs up: all letters spell all phonemes (or are silent). */
        groups[0] = (nk_lp_group){0, n, 0, k};
        if (k == 0) {
            for (int i = 0; i < n; i++) groups[i] = (nk_lp_group){i, 1, 0, 0};
            *n_groups = n;
        } else {
            *n_groups = 1;
        }
        return 0;
    }
    /* Runs between anchors a−1 and a (a = 0: before the first, a = na: after the last). */
    for (int a = 0; a <= na; a++) {
        int l0 = a ? anchor_l[a - 1] + 1 : 0, l1 = a < na ? anchor_l[a] : n;
        int p0 = a ? anchor_p[a - 1] + 1 : 0, p1 = a < na ? anchor_p[a] : k;
        int has_left = a > 0, has_right = a < na;
        /* Letters: the first i1 join the left anchor, the last (l1 − l0 − i2)
         * the right one, those between are silent; best total score wins,
         * ties prefer joining the left, then the right. */
        int len = l1 - l0, best1 = 0, best2 = has_left ? len : 0;
        float best = -INFINITY;
        for (int i1 = has_left ? len : 0; i1 >= 0; i1--) {
            for (int i2 = has_right ? i1 : len; i2 <= len; i2++) {
                float s = 0;
                for (int i = 0; i < len; i++) {
                    int r = rows[l0 + i];
                    s += i < i1 ? join_score(m, r, ph[anchor_p[a - 1]], rows[l0 + i - 1], r)
                       : i < i2 ? m->silent
                                : join_score(m, r, ph[anchor_p[a]], r, rows[l0 + i + 1]);
                }
                if (s > best) best = s, best1 = i1, best2 = i2;
            }
        }
        /* Letters left silent beside phonemes left over in the same run
         * spell those phonemes (NW gapped both rather than pair them). */
        int mid = best2 > best1 && p1 > p0 ? na + a : -1;
        for (int i = 0; i < len; i++)
            owner_l[l0 + i] = i < best1 ? a - 1 : i < best2 ? mid : a;
        if (mid >= 0) {
            for (int j = p0; j < p1; j++) owner_p[j] = mid;
            continue;
        }
        /* Phonemes: the first j1 join the left anchor, the rest the right. */
        int plen = p1 - p0, bestj = has_left ? plen : 0;
        best = -INFINITY;
        for (int j1 = has_left ? plen : 0; j1 >= (has_right ? 0 : plen); j1--) {
            float s = 0;
            for (int j = 0; j < plen; j++)
                s += j < j1 ? S(m, rows[anchor_l[a - 1]], ph[p0 + j]) : S(m, rows[anchor_l[a]], ph[p0 + j]);
            if (s > best) best = s, bestj = j1;
        }
        for (int j = 0; j < plen; j++) owner_p[p0 + j] = j < bestj ? a - 1 : a;
    }
    /* Emit groups in letter order: an anchor's group starts at its first letter. */
    int g = 0;
    for (int i = 0; i < n;) {
        int o = owner_l[i];
        if (o < 0) {
            groups[g++] = (nk_lp_group){i, 1, 0, 0};
            i++;
            continue;
        }
        int j = i;
        while (j < n && owner_l[j] == o) j++;
        int q0 = 0;
        while (q0 < k && owner_p[q0] != o) q0++;
        int q1 = q0;
        while (q1 < k && owner_p[q1] == o) q1++;
        groups[g++] = (nk_lp_group){i, j - i, q0, q1 - q0};
        i = j;
    }
    *n_groups = g;
    return 0;
}

int nk_lp_align(const nk_lp_model *m, const char *word, const nk_pron *p, nk_lp_group *groups,
                int *n_groups) {
    unsigned cp[NK_PRON_MAX];
    int n, rows[NK_PRON_MAX];
    *n_groups = 0;
    int rc = word_letters(word, cp, &n);
    if (rc) return rc;
    if (p->n <= 0 || p->n > NK_PRON_MAX)
        return nk_fail(NK_ERR_ARG, "letter-phone: \"%s\": %d phonemes", word, p->n);
    for (int i = 0; i < p->n; i++)
        if (p->phone[i] <= 0 || p->phone[i] >= m->n_phones)
            return nk_fail(NK_ERR_ARG, "letter-phone: \"%s\": bad phone id %d", word, p->phone[i]);
    for (int i = 0; i < n; i++) rows[i] = letter_row(m, cp[i]);
    rc = align_rows(m, rows, n, p->phone, p->n, groups, n_groups);
    if (rc) {
        char why[256];
        snprintf(why, sizeof why, "%s", nk_last_error());
        return nk_fail(rc, "letter-phone: \"%s\": %s", word, why);
    }
    return 0;
}

/* Appends str to buf (cap bytes, *len used), truncating. */
static void append(char *buf, size_t cap, size_t *len, const char *str) {
    size_t n = strlen(str);
    if (*len + 1 >= cap) return;
    if (n > cap - *len - 1) n = cap - *len - 1;
    memcpy(buf + *len, str, n);
    *len += n;
    buf[*len] = 0;
}

void nk_lp_format(const char *word, const nk_pron *p, const nk_lp_group *g, int n_groups, char *buf,
                  size_t cap) {
    unsigned cp[NK_PRON_MAX];
    int n;
    size_t len = 0;
    if (cap) buf[0] = 0;
    if (word_letters(word, cp, &n)) return;
    for (int i = 0; i < n_groups; i++) {
        if (g[i].letter_start < 0 || g[i].letter_start + g[i].n_letters > n) return;
        if (i) append(buf, cap, &len, " ");
        for (int l = 0; l < g[i].n_letters; l++) {
            char u[5];
            utf8_encode(cp[g[i].letter_start + l], u);
            append(buf, cap, &len, u);
        }
        append(buf, cap, &len, g[i].n_phones ? "|" : "|-");
        for (int j = 0; j < g[i].n_phones; j++) {
            const nk_phone_info *ph = nk_phone_at(p->phone[g[i].phone_start + j]);
            if (j) append(buf, cap, &len, " ");
            append(buf, cap, &len, ph ? ph->ipa : "?");
        }
    }
}

/* ---- training ---- */

/* Log-odds of co-occurrence: log((c + α) / (c_l·c_p/N + α)), clamped. */
static void scores_from_counts(nk_lp_model *m, const double *count, float smooth) {
    int L = m->n_letters, P = m->n_phones;
    double *row = calloc((size_t)L, sizeof(double)), *col = calloc((size_t)P, sizeof(double)), N = 0;
    if (!row || !col) {
        free(row), free(col);
        return; /* keep the previous scores; training still terminates */
    }
    for (int l = 0; l < L; l++)
        for (int p = 0; p < P; p++) {
            double c = count[(size_t)l * P + p];
            row[l] += c, col[p] += c, N += c;
        }
    for (int l = 0; l < L; l++)
        for (int p = 0; p < P; p++) {
            double expect = N > 0 ? row[l] * col[p] / N : 0;
            double s = log((count[(size_t)l * P + p] + smooth) / (expect + smooth));
            m->scores[(size_t)l * P + p] = (float)fmax(-SCORE_CLAMP, fmin(SCORE_CLAMP, s));
        }
    free(row);
    free(col);
}

static uint64_t groups_hash(const nk_lp_group *g, int n) {
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < n; i++) {
        h = (h ^ (uint64_t)g[i].n_letters) * 1099511628211ull;
        h = (h ^ (uint64_t)g[i].n_phones) * 1099511628211ull;
    }
    return h;
}

int nk_lp_train(const nk_lp_data *d, const nk_lp_options *opt, nk_lp_model **out, nk_lp_stats *stats) {
    *out = NULL;
    nk_lp_options o;
    if (opt) o = *opt;
    else nk_lp_options_default(&o);
    if (d->n == 0) return nk_fail(NK_ERR_EMPTY, "letter-phone: no training words");
    if (o.max_iter < 1 || !isfinite(o.gap) || o.gap > 0 || !(o.smooth > 0))
        return nk_fail(NK_ERR_ARG, "letter-phone: bad options (max_iter %d, gap %g, smooth %g)",
                       o.max_iter, (double)o.gap, (double)o.smooth);
    /* The letter inventory: the distinct code points of the data. */
    unsigned *sorted = malloc(d->n_letters * sizeof(unsigned));
    if (!sorted) return nk_fail(NK_ERR_NOMEM, "letter-phone: out of memory");
    memcpy(sorted, d->letters, d->n_letters * sizeof(unsigned));
    qsort(sorted, d->n_letters, sizeof(unsigned), cmp_unsigned);
    int L = 0;
    for (size_t i = 0; i < d->n_letters; i++)
        if (i == 0 || sorted[i] != sorted[i - 1]) sorted[L++] = sorted[i];
    nk_lp_model *m;
    int rc = model_new(sorted, L, &m);
    free(sorted);
    if (rc) return rc;
    m->gap = o.gap;
    m->silent = o.silent;
    set_prior(m);

    int P = m->n_phones;
    int *rows = malloc(d->n_letters * sizeof(int)), *ph = malloc(d->n_phones * sizeof(int));
    double *count = malloc((size_t)L * P * sizeof(double));
    double *same = malloc((size_t)(L + 1) * (L + 1) * sizeof(double)),
           *pairs = malloc((size_t)(L + 1) * (L + 1) * sizeof(double));
    /* Each word's groups (hashed) in the last two passes. */
    uint64_t *sig = calloc(2 * (size_t)d->n, sizeof(uint64_t));
    if (!rows || !ph || !count || !sig || !same || !pairs) rc = nk_fail(NK_ERR_NOMEM, "letter-phone: out of memory");
    for (size_t i = 0; !rc && i < d->n_letters; i++) rows[i] = letter_row(m, d->letters[i]);
    for (size_t i = 0; !rc && i < d->n_phones; i++) ph[i] = d->phones[i];

    nk_lp_stats st = {0, d->n, d->n};
    int use_cohesion = 0, cohesion_used = 0;
    /* Pass 0 aligns with the prior; each later pass with the scores from the
     * previous pass's counts, until the groups stop changing. */
    for (int pass = 0; !rc && pass <= o.max_iter; pass++) {
        memset(count, 0, (size_t)L * P * sizeof(double));
        memset(same, 0, (size_t)(L + 1) * (L + 1) * sizeof(double));
        memset(pairs, 0, (size_t)(L + 1) * (L + 1) * sizeof(double));
        int changed = 0, novel = 0;
        for (int w = 0; w < d->n && !rc; w++) {
            const int *r = rows + d->letter_off[w], *q = ph + d->phone_off[w];
            int n = d->letter_off[w + 1] - d->letter_off[w], k = d->phone_off[w + 1] - d->phone_off[w];
            nk_lp_group g[2 * NK_PRON_MAX];
            int ng;
            rc = align_rows(m, r, n, q, k, g, &ng);
            if (rc) break;
            uint64_t h = groups_hash(g, ng), *last = sig + 2 * (size_t)w;
            changed += h != last[0];
            novel += h != last[0] && h != last[1];
            last[1] = last[0];
            last[0] = h;
            for (int i = 0; i < ng; i++) {
                for (int a = 0; a + 1 < g[i].n_letters; a++)
                    same[(size_t)r[g[i].letter_start + a] * (L + 1) + r[g[i].letter_start + a + 1]] += 1;
                for (int a = 0; a < g[i].n_letters; a++) {
                    double *c = count + (size_t)r[g[i].letter_start + a] * P;
                    if (g[i].n_phones == 0) c[0] += 1;
                    for (int b = 0; b < g[i].n_phones; b++) c[q[g[i].phone_start + b]] += 1;
                }
            }
            for (int a = 0; a + 1 < n; a++) pairs[(size_t)r[a] * (L + 1) + r[a + 1]] += 1;
        }
        if (rc) break;
        scores_from_counts(m, count, o.smooth);
        for (size_t i = 0; use_cohesion && i < (size_t)(L + 1) * (L + 1); i++)
            if (pairs[i] > 0) {
                double c = log((same[i] + o.smooth) / (pairs[i] - same[i] + o.smooth));
                m->cohesion[i] = (float)fmax(-SCORE_CLAMP, fmin(SCORE_CLAMP, c));
            }
        st.iterations = pass;
        st.changed = changed;
        /* Cohesion joins in once the letter–phoneme scores have settled:
         * learned from the prior's guesses it would freeze them (kn → n). */
        /* Settled when every word repeats one of its last two alignments: a
         * few words flip between two equally good ones forever. */
        int settled = novel == 0;
        if (pass > 0 && settled && cohesion_used) break;
        cohesion_used = use_cohesion;
        if (pass > 0 && (settled || pass >= o.max_iter / 2)) use_cohesion = 1;
    }
    free(rows);
    free(ph);
    free(count);
    free(same);
    free(pairs);
    free(sig);
    if (rc) {
        nk_lp_model_free(m);
        return rc;
    }
    m->stats = st;
    if (stats) *stats = st;
    *out = m;
    return 0;
}

/* ---- files ---- */

static int utf8_encode(unsigned c, char *s) {
    if (c < 0x80) return s[0] = (char)c, s[1] = 0, 1;
    if (c < 0x800) return s[0] = (char)(0xC0 | c >> 6), s[1] = (char)(0x80 | (c & 63)), s[2] = 0, 2;
    if (c < 0x10000) {
        s[0] = (char)(0xE0 | c >> 12), s[1] = (char)(0x80 | ((c >> 6) & 63));
        s[2] = (char)(0x80 | (c & 63)), s[3] = 0;
        return 3;
    }
    s[0] = (char)(0xF0 | c >> 18), s[1] = (char)(0x80 | ((c >> 12) & 63));
    s[2] = (char)(0x80 | ((c >> 6) & 63)), s[3] = (char)(0x80 | (c & 63)), s[4] = 0;
    return 4;
}

int nk_lp_model_save(const nk_lp_model *m, const char *path) {
    cJSON *root = cJSON_CreateObject(), *letters = cJSON_CreateArray(), *phones = cJSON_CreateArray(),
          *scores = cJSON_CreateArray(), *cohesion = cJSON_CreateArray();
    int ok = root && letters && phones && scores && cohesion;
    if (ok) {
        cJSON_AddItemToObject(root, "format", cJSON_CreateString("napkit-letter-phone"));
        cJSON_AddItemToObject(root, "version", cJSON_CreateNumber(1));
        cJSON_AddItemToObject(root, "gap", cJSON_CreateNumber(m->gap));
        cJSON_AddItemToObject(root, "silent", cJSON_CreateNumber(m->silent));
        cJSON_AddItemToObject(root, "words", cJSON_CreateNumber(m->stats.words));
        cJSON_AddItemToObject(root, "iterations", cJSON_CreateNumber(m->stats.iterations));
        cJSON_AddItemToObject(root, "changed", cJSON_CreateNumber(m->stats.changed));
        cJSON_AddItemToObject(root, "letters", letters);
        cJSON_AddItemToObject(root, "phones", phones);
        cJSON_AddItemToObject(root, "scores", scores);
        cJSON_AddItemToObject(root, "cohesion", cohesion);
        for (int l = 0; l < m->n_letters; l++) {
            char s[5];
            utf8_encode(m->letters[l], s);
            cJSON_AddItemToArray(letters, cJSON_CreateString(s));
            /* Rounded to 1e-4: the file stays small and diffable. */
            cJSON *row = cJSON_CreateArray();
            for (int p = 0; p < m->n_phones; p++)
                cJSON_AddItemToArray(row, cJSON_CreateNumber(round(S(m, l, p) * 1e4) / 1e4));
            cJSON_AddItemToArray(scores, row);
            row = cJSON_CreateArray();
            for (int k = 0; k < m->n_letters; k++)
                cJSON_AddItemToArray(row, cJSON_CreateNumber(
                    round(m->cohesion[(size_t)l * (m->n_letters + 1) + k] * 1e4) / 1e4));
            cJSON_AddItemToArray(cohesion, row);
        }
        for (int p = 0; p < m->n_phones; p++)
            cJSON_AddItemToArray(phones, cJSON_CreateString(nk_phone_at(p)->ipa));
    } else {
        cJSON_Delete(letters), cJSON_Delete(phones), cJSON_Delete(scores), cJSON_Delete(cohesion);
    }
    int rc = ok ? nk_write_json(path, root) : nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    cJSON_Delete(root);
    return rc;
}

int nk_lp_model_load(const char *path, nk_lp_model **out) {
    *out = NULL;
    char *text;
    size_t size;
    int rc = nk_read_file(path, &text, &size);
    if (rc) return rc;
    cJSON *root = cJSON_ParseWithLength(text, size);
    free(text);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *letters = cJSON_GetObjectItemCaseSensitive(root, "letters");
    const cJSON *phones = cJSON_GetObjectItemCaseSensitive(root, "phones");
    const cJSON *scores = cJSON_GetObjectItemCaseSensitive(root, "scores");
    const cJSON *gap = cJSON_GetObjectItemCaseSensitive(root, "gap");
    const cJSON *silent = cJSON_GetObjectItemCaseSensitive(root, "silent");
    const cJSON *cohesion = cJSON_GetObjectItemCaseSensitive(root, "cohesion");
    if (!root || !cJSON_IsString(fmt) || strcmp(fmt->valuestring, "napkit-letter-phone") ||
        !cJSON_IsArray(letters) || !cJSON_IsArray(phones) || !cJSON_IsArray(scores) ||
        !cJSON_IsNumber(gap) || !isfinite(gap->valuedouble) || !cJSON_IsNumber(silent) ||
        !isfinite(silent->valuedouble) || !cJSON_IsArray(cohesion) ||
        cJSON_GetArraySize(cohesion) != cJSON_GetArraySize(letters) ||
        cJSON_GetArraySize(letters) != cJSON_GetArraySize(scores) || cJSON_GetArraySize(letters) < 1) {
        cJSON_Delete(root);
        return nk_fail(NK_ERR_FORMAT, "%s: not a napkit letter-phone model", path);
    }
    int L = cJSON_GetArraySize(letters), F = cJSON_GetArraySize(phones);
    unsigned *cp = malloc((size_t)L * sizeof(unsigned));
    int *col = malloc(((size_t)F + 1) * sizeof(int));
    if (!cp || !col) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    for (int l = 0; !rc && l < L; l++) {
        const cJSON *s = cJSON_GetArrayItem(letters, l);
        unsigned c;
        int k = cJSON_IsString(s) ? nk_utf8_decode(s->valuestring, strlen(s->valuestring), &c) : 0;
        if (k == 0 || s->valuestring[k] != 0 || (l > 0 && c <= cp[l - 1]))
            rc = nk_fail(NK_ERR_FORMAT, "%s: letter %d is not one code point in ascending order", path, l);
        else cp[l] = c;
    }
    /* Columns are matched to the phone table by IPA; unknown ones are dropped. */
    for (int p = 0; !rc && p < F; p++) {
        const cJSON *s = cJSON_GetArrayItem(phones, p);
        col[p] = cJSON_IsString(s) ? nk_phone_by_ipa(s->valuestring) : -1;
        if (!cJSON_IsString(s) || (p == 0 && col[p] != 0))
            rc = nk_fail(NK_ERR_FORMAT, "%s: phone %d is not an IPA string (phone 0 must be \"_\")", path, p);
    }
    nk_lp_model *m = NULL;
    if (!rc) rc = model_new(cp, L, &m);
    for (int l = 0; !rc && l < L; l++) {
        const cJSON *row = cJSON_GetArrayItem(scores, l);
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != F) {
            rc = nk_fail(NK_ERR_FORMAT, "%s: score row %d does not have %d entries", path, l, F);
            break;
        }
        for (int p = 0; p < F && !rc; p++) {
            const cJSON *v = cJSON_GetArrayItem(row, p);
            if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
                rc = nk_fail(NK_ERR_FORMAT, "%s: score [%d][%d] is not a finite number", path, l, p);
            else if (col[p] >= 0) m->scores[(size_t)l * m->n_phones + col[p]] = (float)v->valuedouble;
        }
    }
    for (int l = 0; !rc && l < L; l++) {
        const cJSON *row = cJSON_GetArrayItem(cohesion, l);
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != L) {
            rc = nk_fail(NK_ERR_FORMAT, "%s: cohesion row %d does not have %d entries", path, l, L);
            break;
        }
        for (int k = 0; k < L && !rc; k++) {
            const cJSON *v = cJSON_GetArrayItem(row, k);
            if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
                rc = nk_fail(NK_ERR_FORMAT, "%s: cohesion [%d][%d] is not a finite number", path, l, k);
            else m->cohesion[(size_t)l * (L + 1) + k] = (float)v->valuedouble;
        }
    }
    if (!rc) {
        m->gap = (float)gap->valuedouble;
        m->silent = (float)silent->valuedouble;
        const cJSON *it;
        if (cJSON_IsNumber(it = cJSON_GetObjectItemCaseSensitive(root, "words"))) m->stats.words = it->valueint;
        if (cJSON_IsNumber(it = cJSON_GetObjectItemCaseSensitive(root, "iterations"))) m->stats.iterations = it->valueint;
        if (cJSON_IsNumber(it = cJSON_GetObjectItemCaseSensitive(root, "changed"))) m->stats.changed = it->valueint;
    }
    free(cp);
    free(col);
    cJSON_Delete(root);
    if (rc) {
        nk_lp_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

char *nk_lp_cache_path(const char *lang) {
    const char *env = getenv("NAPKIT_CACHE"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[4096];
    if (env && env[0]) snprintf(dir, sizeof dir, "%s", env);
    else if (xdg && xdg[0]) snprintf(dir, sizeof dir, "%s/napkit", xdg);
    else if (home && home[0]) snprintf(dir, sizeof dir, "%s/.cache/napkit", home);
    else return NULL;
    char name[256];
    snprintf(name, sizeof name, "letter_phone_%s.json", lang);
    return nk_path_join(dir, name);
}

int nk_lp_data_add_text(nk_lp_data *d, const char *path, const char *voice) {
    char *text;
    size_t size;
    int rc = nk_read_file(path, &text, &size);
    if (rc) return rc;
    int added = 0;
    static const char separators[] = " \t\r\n.,;:!?\"()[]{}«»„“”‚‘’/0123456789-";
    char *save = NULL; /* espeak-ng uses strtok itself */
    for (char *w = strtok_r(text, separators, &save); w; w = strtok_r(NULL, separators, &save)) {
        nk_pron p;
        if (nk_phonemize(voice, w, &p) || nk_lp_data_add(d, w, &p)) continue; /* odd tokens are skipped */
        added++;
    }
    free(text);
    return added ? NK_OK : nk_fail(NK_ERR_EMPTY, "%s: no words to train on", path);
}

int nk_lp_model_for(const char *lang, const char *voice, const nk_lexicon *lex, const char *path,
                    const char *train_text, nk_lp_model **out) {
    *out = NULL;
    if (path) return nk_lp_model_load(path, out);
    char *cache = nk_lp_cache_path(lang);
    if (!train_text && cache && access(cache, R_OK) == 0) {
        int rc = nk_lp_model_load(cache, out);
        free(cache);
        return rc;
    }
    if (!train_text && !lex) {
        int rc = nk_fail(NK_ERR_ARG, "no letter-phoneme model for '%s' in %s: train one once from a text "
                                     "(napkit lexicon --language %s --train-text FILE WORD)",
                         lang, cache ? cache : "the cache", lang);
        free(cache);
        return rc;
    }
    nk_lp_data *d;
    int rc = nk_lp_data_new(&d);
    if (!rc) rc = train_text ? nk_lp_data_add_text(d, train_text, voice) : nk_lp_data_add_lexicon(d, lex, 0);
    if (!rc) rc = nk_lp_train(d, NULL, out, NULL);
    nk_lp_data_free(d);
    if (!rc && cache) {
        char *dir = strdup(cache), *slash = dir ? strrchr(dir, '/') : NULL;
        if (slash) *slash = '\0';
        if (dir && !nk_mkdirs(dir)) nk_lp_model_save(*out, cache);
        free(dir);
    }
    free(cache);
    return rc;
}
