/* Pronunciations: CMUdict for English, libespeak-ng for every language.
 *
 * A pronunciation is a sequence of phone ids (phoneset.h) with a stress level
 * per phoneme. CMUdict keeps its ARPAbet stress digits (AH0 is ə, AH1 is ʌ);
 * espeak-ng's IPA stress marks ˈ ˌ become stress 1 and 2. Group by
 * nk_phone_at(id)->arpabet to get CMUdict's 39 stress-free phonemes, or by id
 * for IPA phonemes.
 *
 * The lexicon loads either CMUdict file format, line by line:
 *   Festival (Debian's festlex-cmu, /usr/share/festival/dicts/cmu/cmudict-0.4.out):
 *     ("costume" nil (((k aa) 0) ((s t uw m) 1)))   syllables with stress; ax = AH0
 *   plain CMUdict:
 *     COSTUME  K AA1 S T UW0 M    with ;;; comments, # trailing comments and
 *     COSTUME(2) …                variants
 * Words are stored in lower case; a word's variants keep file order. Lines
 * that do not parse are skipped and counted, with their line numbers in
 * nk_lexicon_report(), so one bad line never loses the dictionary. */
#ifndef NAPKIT_LEXICON_H
#define NAPKIT_LEXICON_H

#include <stddef.h>

#define NK_PRON_MAX 64

typedef struct {
    int n;
    int phone[NK_PRON_MAX];  /* phone ids */
    int stress[NK_PRON_MAX]; /* 0 unstressed, 1 primary, 2 secondary; 0 for consonants */
} nk_pron;

typedef enum { NK_SOURCE_CMUDICT, NK_SOURCE_ESPEAK } nk_pron_source;
extern const char *const nk_pron_source_names[]; /* "cmudict", "espeak-ng", NULL */

typedef struct nk_lexicon nk_lexicon;

/* The CMUdict file napkit uses by default: $NAPKIT_CMUDICT when set, else
 * Festival's copy from Debian's festlex-cmu. */
const char *nk_lexicon_default_path(void);

/* Loads a CMUdict file (either format). Fails with NK_ERR_IO when the file
 * cannot be read and NK_ERR_FORMAT when no line parses (the message names
 * the file and the first bad line). */
int nk_lexicon_load(const char *path, nk_lexicon **out);
void nk_lexicon_free(nk_lexicon *lex);

int nk_lexicon_n_words(const nk_lexicon *lex);
/* Word i (lower case UTF-8) in order of first appearance; NULL out of range. */
const char *nk_lexicon_word(const nk_lexicon *lex, int i);
int nk_lexicon_n_variants(const nk_lexicon *lex, int i);
/* Index of a word (matched in lower case), or −1 when absent. */
int nk_lexicon_find(const nk_lexicon *lex, const char *word);
/* Variant v of word i. NK_ERR_ARG when i or v is out of range. */
int nk_lexicon_pron(const nk_lexicon *lex, int i, int v, nk_pron *out);
/* Number of skipped lines; *report (unless NULL) receives a line such as
 * "3 bad lines: 17 (unknown phone 'qq'), 90 (no phonemes), …" or "". */
int nk_lexicon_n_bad(const nk_lexicon *lex, const char **report);

/* One word's phonemes from libespeak-ng (voice as for nk_espeak_set_voice,
 * e.g. nk_espeak_voice_for("de")). A word espeak-ng reads as several (digits,
 * abbreviations) gives all their phonemes in order. espeak-ng's en-us flap ɾ
 * becomes t, as CMUdict writes it. Thread-safe (serialized on the engine
 * lock). NK_ERR_EMPTY when the word has no phonemes (punctuation). */
int nk_phonemize(const char *voice, const char *word, nk_pron *out);

/* A word's pronunciation: the lexicon's first variant when lex holds the
 * word, otherwise espeak-ng with `voice`. *source says which (may be NULL). */
int nk_pronounce(const nk_lexicon *lex, const char *voice, const char *word, nk_pron *out,
                 nk_pron_source *source);

/* Formats a pronunciation into buf: ARPAbet with stress digits on vowels
 * ("SH IH1 P"; a phoneme without an ARPAbet neighbour is shown as its IPA in
 * brackets, "[ts]") or IPA with stress marks ("ʃ ˈɪ p"). Truncates to cap. */
void nk_pron_format(const nk_pron *p, int arpabet, char *buf, size_t cap);

#endif
