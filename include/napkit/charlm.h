/* A character n-gram language model over a CTC alphabet, for beam-search
 * decoding (ctc_beam.h).
 *
 * Its symbols are the alphabet's labels 1 … K−1 (the blank, label 0, is never
 * predicted) plus an end-of-sentence symbol, label K = nk_charlm_eos(lm). A
 * sentence is padded on the left with order − 1 start symbols, so the first
 * characters are predicted from "sentence start" contexts. Smoothing is
 * interpolated Kneser–Ney (Chen & Goodman 1998) with one discount per order,
 * D = n1 / (n1 + 2 n2) from the counts of counts, kept in [0.1, 0.9] so that
 * the lower orders always get some mass; the lowest order backs off to the
 * uniform distribution over the K predictable symbols. For every history the
 * probabilities of the K − 1 labels and EOS therefore sum to 1, and none is 0.
 *
 * File format (.lm, little-endian, written atomically):
 *   "NKCHARLM"  u32 version (1)  u32 order  u32 K (alphabet size, blank included)
 *   K × (u32 byte length, UTF-8 bytes)          the alphabet, blank first
 *   order × f64                                 discounts D_1 … D_order
 *   order × (u64 count, count × (u64 key, u32 c)) the n-grams of each order:
 *       key packs the symbols oldest first, ceil(log2(K + 1)) bits each
 *       (0 = sentence start, K = EOS), c the Kneser–Ney count (the raw count
 *       at the highest order and for n-grams that begin at sentence start,
 *       otherwise the number of distinct symbols seen before the n-gram)
 * and nothing after. */
#ifndef NAPKIT_CHARLM_H
#define NAPKIT_CHARLM_H

#include "napkit/text.h"

#include <stddef.h>

typedef struct nk_charlm nk_charlm;

/* The highest order a model may have (fewer when the alphabet is large: the
 * n-gram's symbols must fit 64 bits). */
#define NK_CHARLM_MAX_ORDER 12

/* Trains an order-`order` model on n normalized transcripts over alphabet a
 * (each encoded with nk_alphabet_encode; one that fails is an error naming
 * its index; none at all is NK_ERR_EMPTY). Seconds for millions of characters. */
int nk_charlm_train(const nk_alphabet *a, int order, const char *const *texts, size_t n, nk_charlm **out);
void nk_charlm_free(nk_charlm *lm);

/* Natural log of P(next | history). history holds n_history labels in
 * [1, K), oldest first (only the last order − 1 count; fewer are padded with
 * sentence start); next is a label in [1, K) or nk_charlm_eos(lm). NAN when
 * an argument is out of range. */
double nk_charlm_logprob(const nk_charlm *lm, const int *history, int n_history, int next);
int nk_charlm_eos(const nk_charlm *lm);
int nk_charlm_order(const nk_charlm *lm);
const nk_alphabet *nk_charlm_alphabet(const nk_charlm *lm);

/* NK_OK when the model was built over exactly alphabet a (same symbols, same
 * order); otherwise NK_ERR_ARG naming the model's file and the first
 * difference. */
int nk_charlm_check_alphabet(const nk_charlm *lm, const nk_alphabet *a);

int nk_charlm_save(const nk_charlm *lm, const char *path);
/* Refuses anything but a complete, well-formed file, naming it and the reason. */
int nk_charlm_load(const char *path, nk_charlm **out);

#endif
