/* One espeak-ng engine per process, behind a lock. */
#include "napkit/espeak.h"

#include "napkit/error.h"

#include <espeak-ng/speak_lib.h>
#include <pthread.h>
#include <string.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t engine = PTHREAD_MUTEX_INITIALIZER;
static int sample_rate; /* > 0 once initialized, < 0 when initialization failed */

static void init_engine(void) {
    int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL,
                                 espeakINITIALIZE_PHONEME_EVENTS | espeakINITIALIZE_PHONEME_IPA |
                                     espeakINITIALIZE_DONT_EXIT);
    sample_rate = rate > 0 ? rate : -1;
}

int nk_espeak_init(void) {
    pthread_once(&init_once, init_engine);
    if (sample_rate < 0)
        return nk_fail(NK_ERR_IO, "espeak-ng: cannot initialize (is espeak-ng-data installed?)");
    return 0;
}

int nk_espeak_sample_rate(void) { return sample_rate > 0 ? sample_rate : 0; }

void nk_espeak_lock(void) { pthread_mutex_lock(&engine); }

void nk_espeak_unlock(void) { pthread_mutex_unlock(&engine); }

/* The voice last selected here and espeak-ng's identifier for it. Selecting
 * a voice builds a new translator (slow, and espeak-ng 1.51 leaks ~1 kB per
 * call), so a repeated request is skipped while espeak-ng still reports the
 * same voice, i.e. nobody switched it behind our back. */
static char current_name[64], current_id[64];

int nk_espeak_set_voice(const char *voice) {
    if (!voice || !voice[0]) return nk_fail(NK_ERR_ARG, "espeak-ng: no voice given");
    espeak_VOICE *v = espeak_GetCurrentVoice();
    if (v && v->identifier && !strcmp(voice, current_name) && !strcmp(v->identifier, current_id))
        return 0;
    current_name[0] = 0;
    if (espeak_SetVoiceByName(voice) != EE_OK)
        return nk_fail(NK_ERR_ARG, "espeak-ng: unknown voice '%s'", voice);
    v = espeak_GetCurrentVoice();
    if (v && v->identifier && strlen(voice) < sizeof current_name &&
        strlen(v->identifier) < sizeof current_id) {
        strcpy(current_name, voice);
        strcpy(current_id, v->identifier);
    }
    return 0;
}

const char *nk_espeak_voice_for(const char *lang) {
    return lang && !strcmp(lang, "en") ? "en-us" : lang;
}

const char *nk_espeak_ipa_name(const char *name) { return strcmp(name, "??") ? name : "ʊɾ"; }
