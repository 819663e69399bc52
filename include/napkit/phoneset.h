/* The phone set: one inventory of IPA phonemes for English and German.
 *
 * Every phoneme napkit handles is a row of one static table, addressed by its
 * index (a "phone id"). A row holds the IPA symbol, the nearest CMUdict
 * ARPAbet phoneme (so English and German phonemes can be compared on the 39
 * CMUdict groups), the phonetic class, place of articulation (front/central/
 * back for vowels) and voicing. The 39 CMUdict phonemes each have one
 * canonical IPA row (AH and ER have two: ʌ/ə and ɝ/ɚ, chosen by stress), so
 * ARPAbet → IPA → ARPAbet is the identity. Rows such as ɛː, iː or ts exist for
 * German and for espeak-ng's English output; ts, pf, ʔ and the front rounded
 * vowels y ø œ have no English neighbour (arpabet NULL). */
#ifndef NAPKIT_PHONESET_H
#define NAPKIT_PHONESET_H

typedef enum {
    NK_PC_SILENCE,
    NK_PC_VOWEL,
    NK_PC_DIPHTHONG,
    NK_PC_PLOSIVE,
    NK_PC_FRICATIVE,
    NK_PC_AFFRICATE,
    NK_PC_NASAL,
    NK_PC_LIQUID,
    NK_PC_GLIDE,
    NK_PC_COUNT
} nk_phone_class;

typedef enum {
    NK_PLACE_NONE,
    NK_PLACE_BILABIAL,
    NK_PLACE_LABIODENTAL,
    NK_PLACE_DENTAL,
    NK_PLACE_ALVEOLAR,
    NK_PLACE_POSTALVEOLAR,
    NK_PLACE_PALATAL,
    NK_PLACE_LABIOVELAR,
    NK_PLACE_VELAR,
    NK_PLACE_UVULAR,
    NK_PLACE_GLOTTAL,
    NK_PLACE_FRONT, /* vowels: tongue position (a diphthong's first element) */
    NK_PLACE_CENTRAL,
    NK_PLACE_BACK,
    NK_PLACE_COUNT
} nk_place;

/* Which stress an ARPAbet phoneme must carry for this row to be its IPA. */
typedef enum {
    NK_CANON_NONE,       /* not the IPA of its ARPAbet phoneme (a near neighbour) */
    NK_CANON_ANY,        /* the IPA of `arpabet` at any stress */
    NK_CANON_UNSTRESSED, /* only at stress 0: ə = AH0, ɚ = ER0 */
    NK_CANON_STRESSED    /* only at stress 1 or 2: ʌ = AH1, ɝ = ER1 */
} nk_canon;

typedef struct {
    const char *ipa;     /* UTF-8, no stress or length marks beyond ː */
    const char *arpabet; /* nearest CMUdict phoneme without stress, or NULL */
    nk_canon canon;
    nk_phone_class cls;
    nk_place place;
    int voiced;          /* 1 voiced, 0 voiceless (vowels are voiced) */
} nk_phone_info;

/* Lower-case names, indexable by the enums, NULL-terminated. */
extern const char *const nk_phone_class_names[]; /* "silence", "vowel", … "glide" */
extern const char *const nk_place_names[];       /* "none", "bilabial", … "back" */

/* Number of rows; ids are 0 … nk_phone_count() − 1. Id 0 is silence ("_", SIL). */
int nk_phone_count(void);
/* Row `id`, or NULL when out of range. */
const nk_phone_info *nk_phone_at(int id);
/* 1 for vowels and diphthongs (the phonemes that carry ARPAbet stress digits). */
int nk_phone_is_syllabic(int id);

/* Id of an IPA phoneme: an exact row, or an accepted spelling of one ("g" for
 * ɡ, tie bars t͡ʃ, the marks ̯ ̩ and stress ˈ ˌ are ignored). −1 when unknown. */
int nk_phone_by_ipa(const char *ipa);
/* Id of the canonical row of an ARPAbet phoneme, case-insensitive, with or
 * without a stress digit ("AH0" → ə, "AH1" and "AH" → ʌ). *stress receives the
 * digit (0 when absent) unless stress is NULL. −1 when unknown. */
int nk_phone_by_arpabet(const char *arpabet, int *stress);

/* Splits an IPA string into phone ids by longest match against the table
 * (so "ɔːɹ" → ɔː ɹ and "aɪɚ" → aɪ ɚ), dropping stress marks into stress[]
 * (1 primary, 2 secondary, 0 none; it applies to the next phoneme), ties and
 * syllabicity marks. ids and stress hold up to max entries; *n receives the
 * count. Fails with NK_ERR_FORMAT naming the first unknown symbol, or
 * NK_ERR_ARG when more than max phonemes come out. Separator characters
 * (space, '_') split tokens. */
int nk_ipa_parse(const char *ipa, int *ids, int *stress, int max, int *n);

#endif
