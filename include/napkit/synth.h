/* Speech synthesis with libespeak-ng, with the synthesizer's own word and
 * phoneme timings as a TextGrid: the ground truth the aligner is tested on.
 *
 * espeak-ng keeps global state (shared with the phonemizer through
 * napkit/espeak.h), so a process has at most one nk_synth and synthesis is
 * serial; run several processes for parallelism. Each utterance is spoken in
 * a child process forked from the engine as initialized with its voice
 * selected (a "voice process" per voice does the selecting once and forks the
 * children), so the same text, voice and seed give the same samples whatever
 * was spoken before (in a process that has not phonemized with the shared
 * engine in between). */
#ifndef NAPKIT_SYNTH_H
#define NAPKIT_SYNTH_H

#include "napkit/text.h"
#include "napkit/textgrid.h"

#include <stddef.h>

typedef struct nk_synth nk_synth;

typedef struct {
    const char *voice; // espeak-ng voice with optional variant: "en-us", "en-gb-x-rp+m3", "de+f2"
    int rate;          // words per minute, 80–450 (espeak-ng's default is 175)
    int pitch;         // base pitch 0–100 (50 is the voice's normal)
    int range;         // pitch range 0–100 (0 monotone, 50 normal)
} nk_voice;

/* Initializes espeak-ng (its data from the default location). Fails with
 * NK_ERR_ARG if this process already holds an nk_synth. */
int nk_synth_new(nk_synth **out);
void nk_synth_free(nk_synth *s);

/* Checks that espeak-ng knows the voice and its parameters are in range. */
int nk_synth_check_voice(nk_synth *s, const nk_voice *v);

/* Speaks UTF-8 text and returns mono audio at sample_rate (*samples is
 * malloc'd, n samples) and a TextGrid over the audio with two interval tiers:
 *   "words"  one interval per word espeak-ng reports, labelled with that
 *            word's text normalized over the alphabet (a hyphenated compound
 *            espeak-ng speaks as one word keeps its space: "weißenburg
 *            gunzenhausen"); from the word's start (including a stop's
 *            closure) to the end of its last phoneme;
 *   "phones" one interval per phoneme event, labelled in IPA as espeak-ng
 *            names it (stress marks are not phonemes and do not appear);
 *            pauses are empty intervals.
 * seed seeds the synthesizer's noise source, so output depends only on
 * (text, voice, seed). Text that fails normalization fails here too. */
int nk_synth_speak(nk_synth *s, const nk_voice *v, const nk_alphabet *a, const char *text,
                   unsigned seed, int sample_rate, float **samples, size_t *n, nk_textgrid **tg);

/* A synthesized corpus in the LibriSpeech layout, from a JSON recipe
 * (corpora/recipes/NAME.json, documented in corpora/docs/corpora.md):
 *   OUT/<name>/{train,dev,test}/<spk>/<chapter>/<spk>-<chapter>-<utt>.flac
 *   (16 kHz) with a .TextGrid beside each and <spk>-<chapter>.trans.txt
 *   (normalized transcripts), OUT/<name>/SPEAKERS.TXT (what each speaker id
 *   is: voice, variant, rate, pitch, range, subset) and
 *   OUT/<name>/SKIPPED.TXT (sentences left out, with the reason).
 * Speakers (voice+variant × rate × pitch) are drawn with the recipe's seed;
 * whole speakers and whole sentences are held out for dev and test, so dev
 * and test sentences never occur in train. Only speakers with
 * index % n_shards == shard are synthesized (run shards as separate
 * processes; together they write exactly what one process would). The same
 * recipe gives byte-identical files. An utterance espeak-ng cannot speak
 * stops the run with its id and the reason. progress (may be NULL) is called after
 * each utterance with the utterances done and planned in this shard. */
typedef struct {
    size_t sentences;         // distinct sentences used
    size_t sentences_skipped; // left out (normalization, length, duplicates)
    size_t speakers;          // speakers in the recipe (all shards)
    size_t utterances;        // written by this shard
    double seconds;           // audio written by this shard
} nk_synth_corpus_stats;

typedef void (*nk_synth_progress)(void *ctx, size_t done, size_t total, double seconds);

int nk_synth_corpus(const char *recipe, const char *out_dir, int shard, int n_shards,
                    nk_synth_progress progress, void *ctx, nk_synth_corpus_stats *stats);

#endif
