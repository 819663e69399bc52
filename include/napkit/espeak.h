/* libespeak-ng's process-wide state, shared by every module that uses it
 * (the phonemizer in src/phonemize.c, the synthesizer in src/synth.c).
 *
 * espeak-ng has one global engine: it is initialized once per process and
 * never terminated (re-initializing after espeak_Terminate is not reliable),
 * and every call into it (voice selection, phonemization, synthesis) must
 * happen between nk_espeak_lock() and nk_espeak_unlock(). The engine is set
 * up for synchronous output with IPA phoneme events, which is what the
 * synthesizer needs; the phonemizer does not care. */
#ifndef NAPKIT_ESPEAK_H
#define NAPKIT_ESPEAK_H

/* Initializes espeak-ng once (thread-safe; later calls return the first
 * result). Data come from the default location (Debian's espeak-ng-data) or
 * $ESPEAK_DATA_PATH. Fails with NK_ERR_IO when the data cannot be loaded. */
int nk_espeak_init(void);
/* Output sample rate of the engine (22050 Hz for espeak-ng 1.51); 0 before init. */
int nk_espeak_sample_rate(void);

/* The global engine lock (not recursive). */
void nk_espeak_lock(void);
void nk_espeak_unlock(void);

/* Selects a voice ("en-us", "de", "de+f2"); call with the lock held. Fails
 * with NK_ERR_ARG for an unknown voice. */
int nk_espeak_set_voice(const char *voice);

/* The espeak-ng voice for a language code: "en" → "en-us" (CMUdict is
 * American English), anything else is passed through ("de", "fr", "en-gb"). */
const char *nk_espeak_voice_for(const char *lang);

/* IPA name of an espeak-ng phoneme as it reports it. espeak-ng 1.51 has no IPA
 * spelling for German UR (/ʊ/ + r, as in "Burg") and reports "??"; this maps
 * it to "ʊɾ" and returns any other name unchanged. */
const char *nk_espeak_ipa_name(const char *name);

#endif
