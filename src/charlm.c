#include "napkit/charlm.h"

#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/rng.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A hash table of n-grams or of contexts, in parallel arrays (12 or 16 bytes
 * a slot: millions of n-grams at order 8 must fit a laptop). For an n-gram,
 * count is its Kneser–Ney count; for a context, the sum of its n-grams'
 * counts, and types (contexts only) how many n-grams it has. count 0 marks
 * an empty slot. Linear probing; cap is 0 or a power of 2, at most ¾ full. */
typedef struct {
    uint64_t *key;
    uint32_t *count, *types;
    size_t cap, n;
    int with_types;
} lm_table;

struct nk_charlm {
    nk_alphabet *alpha;
    char *source;    /* the file it came from, for messages */
    int order, K;    /* K: the alphabet's size, and the EOS label */
    int bits;        /* per symbol in a key */
    double discount[NK_CHARLM_MAX_ORDER];
    lm_table grams[NK_CHARLM_MAX_ORDER];    /* [k − 1]: the n-grams of order k */
    lm_table contexts[NK_CHARLM_MAX_ORDER]; /* [k − 1]: their contexts (k − 1 symbols) */
};

static const char magic[8] = "NKCHARLM";

static uint64_t low_bits(int n) { return n >= 64 ? UINT64_MAX : ((uint64_t)1 << n) - 1; }

/* key's slot, or the empty one where it would go. */
static size_t slot(const lm_table *t, uint64_t key) {
    size_t i = nk_rng_mix(key) & (t->cap - 1);
    while (t->count[i] && t->key[i] != key) i = (i + 1) & (t->cap - 1);
    return i;
}

/* key's slot, or −1. */
static long find(const lm_table *t, uint64_t key) {
    if (!t->cap) return -1;
    size_t i = slot(t, key);
    return t->count[i] ? (long)i : -1;
}

static void table_free(lm_table *t) {
    free(t->key), free(t->count), free(t->types);
    *t = (lm_table){.with_types = t->with_types};
}

/* Rehashes into the smallest power-of-2 capacity that holds n entries. */
static int reserve(lm_table *t, size_t n) {
    size_t cap = 1024;
    while (4 * n > 3 * cap) cap *= 2;
    if (cap <= t->cap) return NK_OK;
    lm_table g = {.key = malloc(cap * sizeof *g.key), .count = calloc(cap, sizeof *g.count),
                  .types = t->with_types ? malloc(cap * sizeof *g.types) : NULL, .cap = cap, .n = t->n,
                  .with_types = t->with_types};
    if (!g.key || !g.count || (t->with_types && !g.types)) {
        table_free(&g);
        return nk_fail(NK_ERR_NOMEM, "language model: out of memory");
    }
    for (size_t i = 0; i < t->cap; i++)
        if (t->count[i]) {
            size_t j = slot(&g, t->key[i]);
            g.key[j] = t->key[i], g.count[j] = t->count[i];
            if (g.types) g.types[j] = t->types[i];
        }
    table_free(t);
    *t = g;
    return NK_OK;
}

/* Adds count (> 0) to key's entry, and 1 to its types in a context table,
 * creating it; *added tells whether it is new. */
static int upsert(lm_table *t, uint64_t key, uint32_t count, int *added) {
    if (4 * (t->n + 1) > 3 * t->cap && reserve(t, 2 * (t->n + 1))) return NK_ERR_NOMEM;
    size_t i = slot(t, key);
    *added = !t->count[i];
    t->n += (size_t)*added;
    t->key[i] = key;
    t->count[i] += count;
    if (t->with_types) t->types[i] = *added ? 1 : t->types[i] + 1;
    return NK_OK;
}

static int lm_new(const char *const *symbols, int K, int order, const char *source, nk_charlm **out) {
    *out = NULL;
    nk_charlm *lm = calloc(1, sizeof *lm);
    if (!lm || !(lm->source = strdup(source))) {
        free(lm);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", source);
    }
    lm->order = order, lm->K = K;
    for (int k = 0; k < NK_CHARLM_MAX_ORDER; k++) lm->contexts[k].with_types = 1;
    while ((1 << lm->bits) <= K) lm->bits++;
    int rc = nk_alphabet_new(symbols, K, &lm->alpha);
    if (rc) rc = nk_fail(rc, "%s: alphabet: %s", source, nk_last_error());
    else if (order < 1 || order > NK_CHARLM_MAX_ORDER || order * lm->bits > 64)
        rc = nk_fail(NK_ERR_ARG, "%s: order %d: an alphabet of %d symbols allows orders 1 to %d", source, order, K,
                     64 / lm->bits < NK_CHARLM_MAX_ORDER ? 64 / lm->bits : NK_CHARLM_MAX_ORDER);
    if (rc) nk_charlm_free(lm);
    else *out = lm;
    return rc;
}

void nk_charlm_free(nk_charlm *lm) {
    if (!lm) return;
    for (int k = 0; k < NK_CHARLM_MAX_ORDER; k++) table_free(&lm->grams[k]), table_free(&lm->contexts[k]);
    nk_alphabet_free(lm->alpha);
    free(lm->source);
    free(lm);
}

/* Counts the highest-order n-grams of one sentence: order − 1 sentence starts,
 * the labels, EOS. labels holds strlen(text) + 1 entries. */
static int count_sentence(nk_charlm *lm, const char *text, int *labels) {
    int n, added, rc = nk_alphabet_encode(lm->alpha, text, labels, &n);
    labels[n++] = lm->K;
    uint64_t key = 0, mask = low_bits(lm->order * lm->bits);
    for (int i = 0; !rc && i < n; i++) {
        key = (key << lm->bits | (uint64_t)labels[i]) & mask;
        rc = upsert(&lm->grams[lm->order - 1], key, 1, &added);
    }
    return rc;
}

/* The contexts of every order, from the n-grams' Kneser–Ney counts. */
static int build_contexts(nk_charlm *lm) {
    int rc = NK_OK, added;
    for (int k = 0; !rc && k < lm->order; k++)
        for (size_t i = 0; !rc && i < lm->grams[k].cap; i++)
            if (lm->grams[k].count[i]) rc = upsert(&lm->contexts[k], lm->grams[k].key[i] >> lm->bits, lm->grams[k].count[i], &added);
    return rc;
}

/* The lower orders from the highest one, then the discounts. Below the
 * highest order an n-gram's Kneser–Ney count is the number of distinct
 * n-grams one symbol longer that end in it (the contexts it continues),
 * except for one that begins at sentence start: only the start precedes it,
 * so it keeps its raw count, the sum of theirs (which begin at sentence start
 * too, and so hold raw counts themselves). */
static int finish_training(nk_charlm *lm) {
    int rc = NK_OK, added;
    for (int k = lm->order - 1; !rc && k >= 1; k--) {
        const lm_table *longer = &lm->grams[k];
        for (size_t i = 0; !rc && i < longer->cap; i++) {
            if (!longer->count[i]) continue;
            uint64_t suffix = longer->key[i] & low_bits(k * lm->bits);
            int at_start = suffix >> ((k - 1) * lm->bits) == 0;
            rc = upsert(&lm->grams[k - 1], suffix, at_start ? longer->count[i] : 1, &added);
        }
    }
    for (int k = 0; !rc && k < lm->order; k++) {
        size_t n1 = 0, n2 = 0;
        for (size_t i = 0; i < lm->grams[k].cap; i++) {
            n1 += lm->grams[k].count[i] == 1;
            n2 += lm->grams[k].count[i] == 2;
        }
        double D = n1 && n2 ? (double)n1 / (double)(n1 + 2 * n2) : 0.5;
        lm->discount[k] = fmin(fmax(D, 0.1), 0.9);
    }
    return rc ? rc : build_contexts(lm);
}

int nk_charlm_train(const nk_alphabet *a, int order, const char *const *texts, size_t n, nk_charlm **out) {
    *out = NULL;
    if (n == 0) return nk_fail(NK_ERR_EMPTY, "language model: no transcripts to train on");
    int K = nk_alphabet_size(a);
    const char **symbols = malloc((size_t)K * sizeof *symbols);
    if (!symbols) return nk_fail(NK_ERR_NOMEM, "language model: out of memory");
    for (int i = 0; i < K; i++) symbols[i] = nk_alphabet_symbol(a, i);
    nk_charlm *lm;
    int rc = lm_new(symbols, K, order, "language model", &lm);
    free(symbols);
    for (size_t i = 0; !rc && i < n; i++) {
        int *labels = malloc((strlen(texts[i]) + 1) * sizeof *labels);
        rc = labels ? count_sentence(lm, texts[i], labels) : nk_fail(NK_ERR_NOMEM, "language model: out of memory");
        if (rc) rc = nk_fail(rc, "language model: text %zu: %s", i, nk_last_error());
        free(labels);
    }
    if (!rc) rc = finish_training(lm);
    if (rc) nk_charlm_free(lm);
    else *out = lm;
    return rc;
}

double nk_charlm_logprob(const nk_charlm *lm, const int *history, int n_history, int next) {
    if (next < 1 || next > lm->K || n_history < 0) return NAN;
    uint64_t h = 0; /* the last order − 1 symbols, newest in the low bits; 0s are sentence starts */
    for (int i = n_history > lm->order - 1 ? n_history - (lm->order - 1) : 0; i < n_history; i++) {
        if (history[i] < 1 || history[i] >= lm->K) return NAN;
        h = h << lm->bits | (uint64_t)history[i];
    }
    double p = 1.0 / lm->K; /* uniform over the K − 1 labels and EOS */
    for (int k = 1; k <= lm->order; k++) {
        uint64_t ctx = h & low_bits((k - 1) * lm->bits);
        const lm_table *contexts = &lm->contexts[k - 1], *grams = &lm->grams[k - 1];
        const long c = find(contexts, ctx);
        if (c < 0) break; /* an unseen context: the longer ones are unseen too */
        const long g = find(grams, ctx << lm->bits | (uint64_t)next);
        const double D = lm->discount[k - 1];
        p = (fmax((g >= 0 ? grams->count[g] : 0) - D, 0) + D * contexts->types[c] * p) / contexts->count[c];
    }
    return log(p);
}

int nk_charlm_eos(const nk_charlm *lm) { return lm->K; }
int nk_charlm_order(const nk_charlm *lm) { return lm->order; }
const nk_alphabet *nk_charlm_alphabet(const nk_charlm *lm) { return lm->alpha; }

int nk_charlm_check_alphabet(const nk_charlm *lm, const nk_alphabet *a) {
    if (nk_alphabet_size(a) != lm->K)
        return nk_fail(NK_ERR_ARG, "%s: language model over another alphabet (%d symbols, the model has %d)",
                       lm->source, lm->K, nk_alphabet_size(a));
    for (int i = 0; i < lm->K; i++)
        if (strcmp(nk_alphabet_symbol(a, i), nk_alphabet_symbol(lm->alpha, i)))
            return nk_fail(NK_ERR_ARG, "%s: language model over another alphabet (symbol %d is \"%s\", the model's \"%s\")",
                           lm->source, i, nk_alphabet_symbol(lm->alpha, i), nk_alphabet_symbol(a, i));
    return NK_OK;
}

/* ---- the file ---- */

static unsigned char *put(unsigned char *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) *p++ = (unsigned char)(v >> 8 * i);
    return p;
}

int nk_charlm_save(const nk_charlm *lm, const char *path) {
    size_t size = sizeof magic + 12 + 8 * (size_t)lm->order;
    for (int i = 0; i < lm->K; i++) size += 4 + strlen(nk_alphabet_symbol(lm->alpha, i));
    for (int k = 0; k < lm->order; k++) size += 8 + 12 * lm->grams[k].n;
    unsigned char *buf = malloc(size), *p = buf;
    if (!buf) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    memcpy(p, magic, sizeof magic), p += sizeof magic;
    p = put(put(put(p, 1, 4), (uint64_t)lm->order, 4), (uint64_t)lm->K, 4);
    for (int i = 0; i < lm->K; i++) {
        const char *s = nk_alphabet_symbol(lm->alpha, i);
        p = put(p, strlen(s), 4);
        memcpy(p, s, strlen(s)), p += strlen(s);
    }
    for (int k = 0; k < lm->order; k++) {
        uint64_t bits;
        memcpy(&bits, &lm->discount[k], sizeof bits);
        p = put(p, bits, 8);
    }
    for (int k = 0; k < lm->order; k++) {
        p = put(p, lm->grams[k].n, 8);
        for (size_t i = 0; i < lm->grams[k].cap; i++)
            if (lm->grams[k].count[i]) p = put(put(p, lm->grams[k].key[i], 8), lm->grams[k].count[i], 4);
    }
    int rc = nk_write_file(path, buf, size);
    free(buf);
    return rc;
}

/* A file being read: get() fails naming the file once the bytes run out. */
typedef struct {
    const unsigned char *p;
    size_t left;
    const char *path;
} lm_reader;

static int truncated(const lm_reader *r) {
    return nk_fail(NK_ERR_FORMAT, "%s: truncated language model file", r->path);
}

static int get(lm_reader *r, int bytes, uint64_t *v) {
    *v = 0;
    if (r->left < (size_t)bytes) return truncated(r);
    for (int i = 0; i < bytes; i++) *v |= (uint64_t)r->p[i] << 8 * i;
    r->p += bytes, r->left -= (size_t)bytes;
    return NK_OK;
}

/* The alphabet, then the model's tables: everything after the order. */
static int read_alphabet(lm_reader *r, int K, int order, nk_charlm **out) {
    char **symbols = calloc((size_t)K, sizeof *symbols);
    int rc = symbols ? NK_OK : nk_fail(NK_ERR_NOMEM, "%s: out of memory", r->path);
    for (int i = 0; !rc && i < K; i++) {
        uint64_t len;
        rc = get(r, 4, &len);
        if (!rc && len > r->left) rc = truncated(r);
        if (!rc && !(symbols[i] = strndup((const char *)r->p, len))) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", r->path);
        if (!rc) r->p += len, r->left -= len;
    }
    if (!rc) rc = lm_new((const char *const *)symbols, K, order, r->path, out);
    for (int i = 0; symbols && i < K; i++) free(symbols[i]);
    free(symbols);
    return rc;
}

/* One order's n-grams: every symbol a sentence start, a label or EOS, the
 * last one not a sentence start, each n-gram once, counts positive. */
static int read_grams(lm_reader *r, nk_charlm *lm, int k) {
    uint64_t n, key, count;
    int rc = get(r, 8, &n), added;
    if (!rc && n > r->left / 12) return truncated(r);
    if (!rc) rc = reserve(&lm->grams[k - 1], n);
    for (uint64_t i = 0; !rc && i < n; i++) {
        rc = get(r, 8, &key);
        if (!rc) rc = get(r, 4, &count);
        int ok = !rc && count > 0 && (key & ~low_bits(k * lm->bits)) == 0 && (key & low_bits(lm->bits)) != 0;
        for (int s = 0; ok && s < k; s++) ok = (key >> s * lm->bits & low_bits(lm->bits)) <= (uint64_t)lm->K;
        if (!rc && !ok) rc = nk_fail(NK_ERR_FORMAT, "%s: malformed %d-gram %llu", r->path, k, (unsigned long long)i);
        if (!rc) rc = upsert(&lm->grams[k - 1], key, (uint32_t)count, &added);
        if (!rc && !added) rc = nk_fail(NK_ERR_FORMAT, "%s: %d-gram %llu appears twice", r->path, k, (unsigned long long)i);
    }
    return rc;
}

static int parse(lm_reader *r, nk_charlm **out) {
    uint64_t version, order, K, bits;
    if (r->left < sizeof magic || memcmp(r->p, magic, sizeof magic))
        return nk_fail(NK_ERR_FORMAT, "%s: not a napkit language model (bad magic)", r->path);
    r->p += sizeof magic, r->left -= sizeof magic;
    int rc = get(r, 4, &version);
    if (!rc && version != 1) rc = nk_fail(NK_ERR_FORMAT, "%s: unsupported language model version %llu", r->path, (unsigned long long)version);
    if (!rc) rc = get(r, 4, &order);
    if (!rc) rc = get(r, 4, &K);
    if (!rc && (order < 1 || order > NK_CHARLM_MAX_ORDER || K < 2 || K > 65535))
        rc = nk_fail(NK_ERR_FORMAT, "%s: malformed header (order %llu, %llu symbols)", r->path, (unsigned long long)order,
                     (unsigned long long)K);
    nk_charlm *lm = NULL;
    if (!rc) rc = read_alphabet(r, (int)K, (int)order, &lm);
    for (int k = 0; !rc && k < lm->order; k++) {
        rc = get(r, 8, &bits);
        memcpy(&lm->discount[k], &bits, sizeof bits);
        /* 0 < D ≤ 1 keeps every distribution normalized with no zero probability */
        if (!rc && !(lm->discount[k] > 0 && lm->discount[k] <= 1))
            rc = nk_fail(NK_ERR_FORMAT, "%s: discount of order %d is %g, not in (0, 1]", r->path, k + 1, lm->discount[k]);
    }
    for (int k = 1; !rc && k <= lm->order; k++) rc = read_grams(r, lm, k);
    if (!rc && r->left) rc = nk_fail(NK_ERR_FORMAT, "%s: %zu bytes of garbage after the language model", r->path, r->left);
    if (!rc) rc = build_contexts(lm);
    if (rc) nk_charlm_free(lm);
    else *out = lm;
    return rc;
}

int nk_charlm_load(const char *path, nk_charlm **out) {
    *out = NULL;
    char *data;
    size_t size;
    int rc = nk_read_file(path, &data, &size);
    if (rc) return rc;
    lm_reader r = {(const unsigned char *)data, size, path};
    rc = parse(&r, out);
    free(data);
    return rc;
}
