/* The phone table: IPA ↔ ARPAbet, phonetic class, place and voicing. */
#include "napkit/phoneset.h"

#include "napkit/error.h"

#include <string.h>
#include <strings.h>

const char *const nk_phone_class_names[] = {"silence",   "vowel",     "diphthong", "plosive",
                                            "fricative", "affricate", "nasal",     "liquid",
                                            "glide",     NULL};
const char *const nk_place_names[] = {"none",     "bilabial", "labiodental", "dental", "alveolar",
                                      "postalveolar", "palatal", "labiovelar", "velar", "uvular",
                                      "glottal",  "front",    "central",     "back",   NULL};

#define V NK_PC_VOWEL
#define DI NK_PC_DIPHTHONG
#define PL NK_PC_PLOSIVE
#define FR NK_PC_FRICATIVE
#define AF NK_PC_AFFRICATE
#define NA NK_PC_NASAL
#define LI NK_PC_LIQUID
#define GL NK_PC_GLIDE

/* Rows 1–41 are CMUdict's 39 phonemes (AH and ER twice); the rest are their
 * near neighbours from German and from espeak-ng's English. The nearest
 * ARPAbet of a German vowel follows the usual transcription of German loans
 * in CMUdict ("Bach" B AA K: x → K). espeak-ng's German ɜ is the vocalized r
 * [ɐ] of "Vater", hence AH rather than ER. */
static const nk_phone_info phones[] = {
    {"_", "SIL", NK_CANON_ANY, NK_PC_SILENCE, NK_PLACE_NONE, 0},
    /* CMUdict vowels */
    {"ɑ", "AA", NK_CANON_ANY, V, NK_PLACE_BACK, 1},
    {"æ", "AE", NK_CANON_ANY, V, NK_PLACE_FRONT, 1},
    {"ʌ", "AH", NK_CANON_STRESSED, V, NK_PLACE_BACK, 1},
    {"ə", "AH", NK_CANON_UNSTRESSED, V, NK_PLACE_CENTRAL, 1},
    {"ɔ", "AO", NK_CANON_ANY, V, NK_PLACE_BACK, 1},
    {"aʊ", "AW", NK_CANON_ANY, DI, NK_PLACE_FRONT, 1},
    {"aɪ", "AY", NK_CANON_ANY, DI, NK_PLACE_FRONT, 1},
    {"ɛ", "EH", NK_CANON_ANY, V, NK_PLACE_FRONT, 1},
    {"ɝ", "ER", NK_CANON_STRESSED, V, NK_PLACE_CENTRAL, 1},
    {"ɚ", "ER", NK_CANON_UNSTRESSED, V, NK_PLACE_CENTRAL, 1},
    {"eɪ", "EY", NK_CANON_ANY, DI, NK_PLACE_FRONT, 1},
    {"ɪ", "IH", NK_CANON_ANY, V, NK_PLACE_FRONT, 1},
    {"i", "IY", NK_CANON_ANY, V, NK_PLACE_FRONT, 1},
    {"oʊ", "OW", NK_CANON_ANY, DI, NK_PLACE_BACK, 1},
    {"ɔɪ", "OY", NK_CANON_ANY, DI, NK_PLACE_BACK, 1},
    {"ʊ", "UH", NK_CANON_ANY, V, NK_PLACE_BACK, 1},
    {"u", "UW", NK_CANON_ANY, V, NK_PLACE_BACK, 1},
    /* CMUdict consonants */
    {"b", "B", NK_CANON_ANY, PL, NK_PLACE_BILABIAL, 1},
    {"tʃ", "CH", NK_CANON_ANY, AF, NK_PLACE_POSTALVEOLAR, 0},
    {"d", "D", NK_CANON_ANY, PL, NK_PLACE_ALVEOLAR, 1},
    {"ð", "DH", NK_CANON_ANY, FR, NK_PLACE_DENTAL, 1},
    {"f", "F", NK_CANON_ANY, FR, NK_PLACE_LABIODENTAL, 0},
    {"ɡ", "G", NK_CANON_ANY, PL, NK_PLACE_VELAR, 1},
    {"h", "HH", NK_CANON_ANY, FR, NK_PLACE_GLOTTAL, 0},
    {"dʒ", "JH", NK_CANON_ANY, AF, NK_PLACE_POSTALVEOLAR, 1},
    {"k", "K", NK_CANON_ANY, PL, NK_PLACE_VELAR, 0},
    {"l", "L", NK_CANON_ANY, LI, NK_PLACE_ALVEOLAR, 1},
    {"m", "M", NK_CANON_ANY, NA, NK_PLACE_BILABIAL, 1},
    {"n", "N", NK_CANON_ANY, NA, NK_PLACE_ALVEOLAR, 1},
    {"ŋ", "NG", NK_CANON_ANY, NA, NK_PLACE_VELAR, 1},
    {"p", "P", NK_CANON_ANY, PL, NK_PLACE_BILABIAL, 0},
    {"ɹ", "R", NK_CANON_ANY, LI, NK_PLACE_ALVEOLAR, 1},
    {"s", "S", NK_CANON_ANY, FR, NK_PLACE_ALVEOLAR, 0},
    {"ʃ", "SH", NK_CANON_ANY, FR, NK_PLACE_POSTALVEOLAR, 0},
    {"t", "T", NK_CANON_ANY, PL, NK_PLACE_ALVEOLAR, 0},
    {"θ", "TH", NK_CANON_ANY, FR, NK_PLACE_DENTAL, 0},
    {"v", "V", NK_CANON_ANY, FR, NK_PLACE_LABIODENTAL, 1},
    {"w", "W", NK_CANON_ANY, GL, NK_PLACE_LABIOVELAR, 1},
    {"j", "Y", NK_CANON_ANY, GL, NK_PLACE_PALATAL, 1},
    {"z", "Z", NK_CANON_ANY, FR, NK_PLACE_ALVEOLAR, 1},
    {"ʒ", "ZH", NK_CANON_ANY, FR, NK_PLACE_POSTALVEOLAR, 1},
    /* long and other vowels (German; espeak-ng English) */
    {"ɑː", "AA", NK_CANON_NONE, V, NK_PLACE_BACK, 1},
    {"aː", "AA", NK_CANON_NONE, V, NK_PLACE_CENTRAL, 1},
    {"a", "AA", NK_CANON_NONE, V, NK_PLACE_CENTRAL, 1},
    {"ɒ", "AA", NK_CANON_NONE, V, NK_PLACE_BACK, 1},
    {"ɐ", "AH", NK_CANON_NONE, V, NK_PLACE_CENTRAL, 1},
    {"ɜ", "AH", NK_CANON_NONE, V, NK_PLACE_CENTRAL, 1},
    {"ɜː", "ER", NK_CANON_NONE, V, NK_PLACE_CENTRAL, 1},
    {"ɔː", "AO", NK_CANON_NONE, V, NK_PLACE_BACK, 1},
    {"ɛː", "EH", NK_CANON_NONE, V, NK_PLACE_FRONT, 1},
    {"e", "EY", NK_CANON_NONE, V, NK_PLACE_FRONT, 1},
    {"eː", "EY", NK_CANON_NONE, V, NK_PLACE_FRONT, 1},
    {"iː", "IY", NK_CANON_NONE, V, NK_PLACE_FRONT, 1},
    {"ᵻ", "IH", NK_CANON_NONE, V, NK_PLACE_CENTRAL, 1},
    {"o", "OW", NK_CANON_NONE, V, NK_PLACE_BACK, 1},
    {"oː", "OW", NK_CANON_NONE, V, NK_PLACE_BACK, 1},
    {"uː", "UW", NK_CANON_NONE, V, NK_PLACE_BACK, 1},
    {"y", NULL, NK_CANON_NONE, V, NK_PLACE_FRONT, 1},
    {"yː", NULL, NK_CANON_NONE, V, NK_PLACE_FRONT, 1},
    {"ʏ", NULL, NK_CANON_NONE, V, NK_PLACE_FRONT, 1},
    {"ø", NULL, NK_CANON_NONE, V, NK_PLACE_FRONT, 1},
    {"øː", NULL, NK_CANON_NONE, V, NK_PLACE_FRONT, 1},
    {"œ", NULL, NK_CANON_NONE, V, NK_PLACE_FRONT, 1},
    {"ɑ̃", "AA", NK_CANON_NONE, V, NK_PLACE_BACK, 1},
    {"ɔ̃", "AO", NK_CANON_NONE, V, NK_PLACE_BACK, 1},
    {"ɛ̃", "EH", NK_CANON_NONE, V, NK_PLACE_FRONT, 1},
    {"œ̃", NULL, NK_CANON_NONE, V, NK_PLACE_FRONT, 1},
    /* diphthongs */
    {"ɔø", "OY", NK_CANON_NONE, DI, NK_PLACE_BACK, 1},
    {"ɔʏ", "OY", NK_CANON_NONE, DI, NK_PLACE_BACK, 1},
    {"ʊɐ", "UH", NK_CANON_NONE, DI, NK_PLACE_BACK, 1},
    {"ɛɪ", "EY", NK_CANON_NONE, DI, NK_PLACE_FRONT, 1},
    {"əʊ", "OW", NK_CANON_NONE, DI, NK_PLACE_CENTRAL, 1},
    /* consonants */
    {"ts", NULL, NK_CANON_NONE, AF, NK_PLACE_ALVEOLAR, 0},
    {"dz", NULL, NK_CANON_NONE, AF, NK_PLACE_ALVEOLAR, 1},
    {"pf", NULL, NK_CANON_NONE, AF, NK_PLACE_LABIODENTAL, 0},
    {"ç", "HH", NK_CANON_NONE, FR, NK_PLACE_PALATAL, 0},
    {"x", "K", NK_CANON_NONE, FR, NK_PLACE_VELAR, 0},
    {"ʁ", "R", NK_CANON_NONE, FR, NK_PLACE_UVULAR, 1},
    {"ʀ", "R", NK_CANON_NONE, LI, NK_PLACE_UVULAR, 1},
    {"r", "R", NK_CANON_NONE, LI, NK_PLACE_ALVEOLAR, 1},
    {"ɾ", "R", NK_CANON_NONE, LI, NK_PLACE_ALVEOLAR, 1},
    {"ɫ", "L", NK_CANON_NONE, LI, NK_PLACE_ALVEOLAR, 1},
    {"ʔ", NULL, NK_CANON_NONE, PL, NK_PLACE_GLOTTAL, 0},
    {"ɲ", "N", NK_CANON_NONE, NA, NK_PLACE_PALATAL, 1},
    {"ʝ", "Y", NK_CANON_NONE, FR, NK_PLACE_PALATAL, 1},
    {"ɣ", "G", NK_CANON_NONE, FR, NK_PLACE_VELAR, 1},
    {"χ", "K", NK_CANON_NONE, FR, NK_PLACE_UVULAR, 0},
};

#define N_PHONES ((int)(sizeof phones / sizeof phones[0]))

int nk_phone_count(void) { return N_PHONES; }

const nk_phone_info *nk_phone_at(int id) { return id >= 0 && id < N_PHONES ? &phones[id] : NULL; }

int nk_phone_is_syllabic(int id) {
    return id >= 0 && id < N_PHONES && (phones[id].cls == V || phones[id].cls == DI);
}

/* Marks that do not change which phoneme a symbol is: primary and secondary
 * stress (ˈ ˌ), the tie bars (t͡ʃ, t͜ʃ), non-syllabic ̯ and syllabic ̩ ̍. */
static int mark_len(const char *s, int *stress) {
    static const struct { const char *utf8; int stress; } marks[] = {
        {"ˈ", 1}, {"ˌ", 2}, {"\u0361", 0}, {"\u035c", 0}, {"\u032f", 0}, {"\u0329", 0}, {"\u030d", 0}};
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        size_t n = strlen(marks[i].utf8);
        if (!strncmp(s, marks[i].utf8, n)) {
            *stress = marks[i].stress;
            return (int)n;
        }
    }
    return 0;
}

/* Length of the longest table symbol at the start of s (whose marks were
 * already removed), via *id; ASCII g stands for ɡ. */
static int longest_match(const char *s, int *id) {
    int best = 0;
    for (int i = 1; i < N_PHONES; i++) {
        int n = (int)strlen(phones[i].ipa);
        if (n > best && !strncmp(s, phones[i].ipa, n)) {
            best = n;
            *id = i;
        }
    }
    if (best == 0 && s[0] == 'g') {
        *id = nk_phone_by_arpabet("G", NULL);
        best = 1;
    }
    return best;
}

/* Copies s without marks into buf (cap bytes). Returns the stress seen. */
static int strip_marks(const char *s, char *buf, size_t cap) {
    int stress = 0;
    size_t o = 0;
    while (*s && o + 1 < cap) {
        int st = 0, n = mark_len(s, &st);
        if (n) {
            if (st) stress = st;
            s += n;
        } else {
            buf[o++] = *s++;
        }
    }
    buf[o] = 0;
    return stress;
}

int nk_phone_by_ipa(const char *ipa) {
    if (!ipa) return -1;
    char buf[64];
    strip_marks(ipa, buf, sizeof buf);
    if (!strcmp(buf, "g")) return nk_phone_by_arpabet("G", NULL);
    for (int i = 0; i < N_PHONES; i++)
        if (!strcmp(buf, phones[i].ipa)) return i;
    return -1;
}

int nk_phone_by_arpabet(const char *arpabet, int *stress) {
    if (!arpabet) return -1;
    size_t n = strlen(arpabet);
    int st = 0;
    if (n > 1 && arpabet[n - 1] >= '0' && arpabet[n - 1] <= '2') {
        st = arpabet[n - 1] - '0';
        n--;
    }
    if (stress) *stress = st;
    for (int i = 0; i < N_PHONES; i++) {
        const nk_phone_info *p = &phones[i];
        if (!p->arpabet || p->canon == NK_CANON_NONE || strlen(p->arpabet) != n ||
            strncasecmp(p->arpabet, arpabet, n))
            continue;
        if (p->canon == NK_CANON_ANY || (p->canon == NK_CANON_UNSTRESSED) == (st == 0)) return i;
    }
    return -1;
}

int nk_ipa_parse(const char *ipa, int *ids, int *stress, int max, int *n) {
    *n = 0;
    int pending = 0;
    const char *s = ipa;
    while (*s) {
        int st = 0, k = mark_len(s, &st);
        if (k) {
            if (st) pending = st;
            s += k;
            continue;
        }
        if (*s == ' ' || *s == '_') {
            s++;
            continue;
        }
        /* Match against the symbol with any marks inside it removed (t͡ʃ). */
        char buf[32];
        size_t take = 0;
        while (s[take] && s[take] != ' ' && s[take] != '_' && take < sizeof buf - 1) take++;
        memcpy(buf, s, take);
        buf[take] = 0;
        char clean[32];
        strip_marks(buf, clean, sizeof clean);
        int id = -1, len = longest_match(clean, &id);
        if (len == 0) {
            unsigned char c = (unsigned char)clean[0];
            int cl = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
            return nk_fail(NK_ERR_FORMAT, "unknown IPA symbol '%.*s' in \"%s\"", cl, clean, ipa);
        }
        if (*n >= max) return nk_fail(NK_ERR_ARG, "\"%s\": more than %d phonemes", ipa, max);
        ids[*n] = id;
        stress[*n] = 0;
        if (nk_phone_is_syllabic(id) && pending) {
            stress[*n] = pending;
            pending = 0;
        }
        (*n)++;
        /* Advance over the bytes of s that produced the match, skipping marks. */
        for (int used = 0; used < len;) {
            int st2 = 0, mk = mark_len(s, &st2);
            if (mk) {
                if (st2) pending = st2;
                s += mk;
            } else {
                s++;
                used++;
            }
        }
    }
    return 0;
}
