/* Alphabets and transcript normalization.
 *
 * An alphabet is the model's output symbol list, blank first, as carried in
 * the architecture JSON: ["_", " ", "'", "a", …, "z"] (English) plus
 * "ä", "ö", "ü", "ß" (German). Normalization maps raw transcript text onto an
 * alphabet: lowercase (UTF-8 aware), obvious transliterations (é→e, ç→c,
 * curly quotes→', dashes→space, ä→a when the alphabet has no ä, ß→ss when it
 * has no ß), punctuation dropped. Anything it cannot map (digits, other
 * scripts, symbols such as & or %) makes the whole transcript fail with a
 * reason, so an utterance is skipped and reported, never silently mangled. */
#ifndef NAPKIT_TEXT_H
#define NAPKIT_TEXT_H

#include <stddef.h>

typedef struct nk_alphabet nk_alphabet;

/* Builds an alphabet from n UTF-8 symbols; symbols[0] is the CTC blank. Fails
 * on empty, duplicate or invalid UTF-8 symbols, or when there is no " ". */
int nk_alphabet_new(const char *const *symbols, int n, nk_alphabet **out);
/* The built-in alphabets: "en" (_, space, ', a–z: 29 symbols) and "de"
 * (the English one plus ä ö ü ß: 33 symbols). */
int nk_alphabet_builtin(const char *lang, nk_alphabet **out);
void nk_alphabet_free(nk_alphabet *a);

int nk_alphabet_size(const nk_alphabet *a);
/* Symbol i (0 is the blank); NULL when i is out of range. */
const char *nk_alphabet_symbol(const nk_alphabet *a, int i);

/* Normalized text → label indices (never the blank). labels must hold
 * strlen(text) entries; *n receives the count. A symbol outside the alphabet
 * fails with NK_ERR_ARG naming it and its character position. */
int nk_alphabet_encode(const nk_alphabet *a, const char *text, int *labels, int *n);
/* Label indices → malloc'd text; blanks are dropped (CTC collapsing is the
 * ctc module's job). Out-of-range labels fail with NK_ERR_ARG. */
int nk_alphabet_decode(const nk_alphabet *a, const int *labels, int n, char **text);

/* Raw transcript → malloc'd normalized text over the alphabet: words
 * separated by single spaces, no leading or trailing space; an apostrophe is
 * kept only between two letters ("don't", not "'tis" or "boys'"). Fails with
 * NK_ERR_FORMAT and a reason such as "unknown character '&' (U+0026)",
 * "contains a digit ('1')" or "invalid UTF-8 at byte 7", or NK_ERR_EMPTY when
 * nothing is left. The message names no file: callers prefix it. */
int nk_text_normalize(const nk_alphabet *a, const char *in, char **out);

/* Decodes one UTF-8 code point from s (at most len bytes) into *cp. Returns
 * the number of bytes used (1–4), or 0 on malformed input or len == 0. */
int nk_utf8_decode(const char *s, size_t len, unsigned *cp);

#endif
