/* Levenshtein edit distance and the error rates built on it. */
#ifndef NAPKIT_EDITDIST_H
#define NAPKIT_EDITDIST_H

#include <stddef.h>

/* Minimum number of substitutions, insertions and deletions turning a into b. */
size_t nk_edit_distance(const int *a, size_t n, const int *b, size_t m);

/* Errors and reference length for one utterance: characters (UTF-8 code
 * points, spaces included) for CER, space-separated words for WER. Summing
 * errors and lengths over a corpus gives the corpus CER/WER. */
typedef struct {
    size_t char_errors, char_count;
    size_t word_errors, word_count;
} nk_error_counts;

int nk_error_counts_of(const char *hypothesis, const char *reference, nk_error_counts *out);

#endif
