/* One word's IPA phonemes from libespeak-ng. */
#include "napkit/espeak.h"
#include "napkit/lexicon.h"

#include "napkit/error.h"
#include "napkit/phoneset.h"

#include <espeak-ng/speak_lib.h>
#include <stdio.h>
#include <string.h>

/* espeak-ng's phoneme mode: IPA, with '_' between phonemes so multi-symbol
 * phonemes (aɪ, tʃ, ts) need no guessing; words are separated by spaces. */
#define PHONEME_MODE (espeakPHONEMES_IPA | ('_' << 8))

/* Appends one espeak-ng token to buf as a '_'-separated IPA phoneme. Language
 * switch markers such as "(en)" are dropped; stress marks stay for the
 * parser. */
static int append_token(const char *tok, size_t n, int english, char *buf, size_t cap, size_t *len) {
    char t[64];
    if (n == 0) return 0;
    if (n >= sizeof t) return nk_fail(NK_ERR_FORMAT, "espeak-ng: phoneme '%.20s…' too long", tok);
    memcpy(t, tok, n);
    t[n] = 0;
    if (t[0] == '(' && t[n - 1] == ')') return 0;
    /* Split off leading stress marks to map the phoneme's name. */
    size_t marks = 0;
    while (!strncmp(t + marks, "ˈ", 2) || !strncmp(t + marks, "ˌ", 2)) marks += 2;
    const char *name = nk_espeak_ipa_name(t + marks);
    if (english && !strcmp(name, "ɾ")) name = "t";
    int k = snprintf(buf + *len, cap - *len, "%.*s%s_", (int)marks, t, name);
    if (k < 0 || (size_t)k >= cap - *len) return nk_fail(NK_ERR_ARG, "espeak-ng: word too long");
    *len += (size_t)k;
    return 0;
}

int nk_phonemize(const char *voice, const char *word, nk_pron *out) {
    out->n = 0;
    if (!word || !word[0]) return nk_fail(NK_ERR_ARG, "espeak-ng: empty word");
    int rc = nk_espeak_init();
    if (rc) return rc;
    char ipa[2048];
    size_t len = 0;
    int english = voice && !strncmp(voice, "en", 2);
    nk_espeak_lock();
    rc = nk_espeak_set_voice(voice);
    const void *p = word;
    while (!rc && p) {
        const char *s = espeak_TextToPhonemes(&p, espeakCHARS_UTF8, PHONEME_MODE);
        for (const char *t = s; t && *t && !rc;) {
            size_t n = strcspn(t, "_ ");
            rc = append_token(t, n, english, ipa, sizeof ipa, &len);
            t += n;
            if (*t) t++;
        }
    }
    nk_espeak_unlock();
    if (rc) return rc;
    ipa[len] = 0;
    int ids[NK_PRON_MAX], stress[NK_PRON_MAX], n;
    rc = nk_ipa_parse(ipa, ids, stress, NK_PRON_MAX, &n);
    if (rc) {
        char why[256];
        snprintf(why, sizeof why, "%s", nk_last_error());
        return nk_fail(rc, "espeak-ng: \"%s\" (%s): %s", word, voice, why);
    }
    if (n == 0) return nk_fail(NK_ERR_EMPTY, "espeak-ng: \"%s\" (%s) has no phonemes", word, voice);
    out->n = n;
    for (int i = 0; i < n; i++) out->phone[i] = ids[i], out->stress[i] = stress[i];
    return 0;
}
