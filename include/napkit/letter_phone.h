/* Letter↔phoneme alignment of words, with scores learned from a lexicon.
 *
 * A word's letters (UTF-8 code points, lower-cased: ä ö ü ß are single
 * letters) and its phonemes are cut into groups, in order, that cover both:
 *   n_letters ≥ 1, n_phones ≥ 1   a grapheme and what it spells:
 *                                 sh → ʃ, igh → aɪ, x → k s, pf → pf
 *   n_letters ≥ 1, n_phones = 0   a silent letter (one group per letter)
 * Every phoneme lands in a group with at least one letter, so each letter has
 * either its group's phonemes or none. How groups arise (docs/pronunciations.md):
 * Needleman–Wunsch (nw.h) pairs letters with phonemes one to one; a letter left
 * over joins the neighbouring pair whose phoneme it scores best with, or stays
 * silent when silence scores best; a phoneme left over joins the neighbouring
 * pair whose letter scores best with it.
 *
 * Scores s(letter, phoneme) start from a small prior (vowel letters ↔ vowel
 * phonemes, consonant letters ↔ their obvious phonemes) and are re-estimated
 * as smoothed log-odds (pointwise mutual information) of the letter–phoneme
 * co-occurrences in the groups of all training words, silence (phone id 0)
 * included, until no word's groups change. */
#ifndef NAPKIT_LETTER_PHONE_H
#define NAPKIT_LETTER_PHONE_H

#include "napkit/lexicon.h"

typedef struct {
    int letter_start, n_letters; /* code-point positions in the word */
    int phone_start, n_phones;   /* positions in the pronunciation; n_phones 0 = silent */
} nk_lp_group;

/* Training words: (word, pronunciation) pairs, stored compactly. */
typedef struct nk_lp_data nk_lp_data;
int nk_lp_data_new(nk_lp_data **out);
void nk_lp_data_free(nk_lp_data *d);
/* Adds a word (UTF-8; lower-cased here) with its pronunciation. Fails with
 * NK_ERR_ARG for invalid UTF-8, an empty word or pronunciation, or a word
 * longer than NK_PRON_MAX letters. */
int nk_lp_data_add(nk_lp_data *d, const char *word, const nk_pron *p);
/* Adds the first variant of the first max_words words of a lexicon (all when
 * max_words ≤ 0). */
int nk_lp_data_add_lexicon(nk_lp_data *d, const nk_lexicon *lex, int max_words);
int nk_lp_data_size(const nk_lp_data *d);

typedef struct nk_lp_model nk_lp_model;

typedef struct {
    int max_iter;  /* EM iterations at most (default 20) */
    float gap;     /* Needleman–Wunsch gap score (default −1) */
    float smooth;  /* additive smoothing of the log-odds counts (default 1) */
    float silent;  /* a leftover letter stays silent unless it scores at least this
                      with a neighbouring phoneme (default −1) */
} nk_lp_options;

typedef struct {
    int iterations;  /* alignment passes with learned scores */
    int changed;     /* words whose groups changed in the last pass (0 = converged) */
    int words;       /* training words */
} nk_lp_stats;

void nk_lp_options_default(nk_lp_options *o);
/* Learns the score table from the data. stats may be NULL. */
int nk_lp_train(const nk_lp_data *d, const nk_lp_options *o, nk_lp_model **out, nk_lp_stats *stats);
/* The model with the prior scores only (what training starts from). */
int nk_lp_prior(nk_lp_model **out);
void nk_lp_model_free(nk_lp_model *m);

/* Score of letter (a Unicode code point) with phone id (0 = silent). */
float nk_lp_score(const nk_lp_model *m, unsigned letter, int phone);

/* Aligns one word. groups must hold (letters + phonemes) entries; *n_groups
 * receives the count. The word is lower-cased; letters the model has not
 * seen score 0 with everything. NK_ERR_ARG for invalid UTF-8, an empty word
 * or pronunciation, or more than NK_PRON_MAX letters. */
int nk_lp_align(const nk_lp_model *m, const char *word, const nk_pron *p, nk_lp_group *groups,
                int *n_groups);

/* Formats an alignment as "sh|ʃ i|ɪ p|p" (letters lower-cased, "x|k s" for
 * two phonemes, "e|-" for a silent letter) into buf, truncated to cap. */
void nk_lp_format(const char *word, const nk_pron *p, const nk_lp_group *groups, int n_groups,
                  char *buf, size_t cap);

/* The model as JSON: letters, phones (IPA, so caches survive changes of the
 * phone table), scores, gap and training statistics. Written atomically. */
int nk_lp_model_save(const nk_lp_model *m, const char *path);
int nk_lp_model_load(const char *path, nk_lp_model **out);

/* Where a language's trained model is cached (malloc'd):
 * $NAPKIT_CACHE, else $XDG_CACHE_HOME/napkit, else $HOME/.cache/napkit, then
 * "letter_phone_<lang>.json". NULL when no directory can be determined. */
char *nk_lp_cache_path(const char *lang);

/* Adds the distinct words of a text file (letters only), phonemized with the
 * espeak-ng voice, to d: training data for languages without a lexicon. */
int nk_lp_data_add_text(nk_lp_data *d, const char *path, const char *voice);

/* The letter↔phoneme model of a language, the one way every command gets it:
 * from `path` when given; else from the cache (nk_lp_cache_path) unless
 * train_text asks for retraining; else trained — on the words of train_text
 * (phonemized with voice) or on the lexicon — and cached. A cache that cannot
 * be written only costs the next run a retraining. Fails with NK_ERR_ARG when
 * there is nothing to train on (no lexicon, no text, no cache). */
int nk_lp_model_for(const char *lang, const char *voice, const nk_lexicon *lex, const char *path,
                    const char *train_text, nk_lp_model **out);

#endif
