/* Speech corpora on disk: a list of utterances with normalized transcripts.
 *
 * One reader per layout, chosen from the path or forced with "LAYOUT:PATH":
 *   librispeech  <root>/<subset>/<spk>/<chapter>/<spk>-<chapter>-<utt>.<audio>
 *                with <spk>-<chapter>.trans.txt ("ID TRANSCRIPT" lines); the
 *                root, a subset, a speaker or a chapter folder all work; any
 *                audio extension (flac, wav, mp3, ogg, opus) stands for .flac.
 *   commonvoice  Mozilla Common Voice: a .tsv with `path` and `sentence`
 *                columns (and `client_id` as speaker), audio in clips/; a
 *                folder means its validated.tsv.
 *   manifest     a text file of "AUDIO<TAB>TRANSCRIPT[<TAB>SPEAKER]" lines,
 *                audio paths relative to the manifest; # starts a comment.
 *   metadata     LJSpeech-style metadata.csv ("ID|TEXT" or "ID|TEXT|NORMALIZED",
 *                the last column is used), audio <ID>.<audio> in wavs/, data/
 *                or beside the file; one speaker named after the folder.
 *   textpairs    <ID>.<audio> beside <ID>.txt (one transcript per file); a
 *                folder whose data/ holds them works too; one speaker named
 *                after the folder.
 * Transcripts are normalized over an alphabet (text.h). An utterance whose
 * transcript fails normalization, whose audio is missing or unreadable, or
 * whose transcript line is missing is skipped and listed with the reason;
 * nothing is silently dropped. Order is deterministic (sorted by path). */
#ifndef NAPKIT_CORPUS_H
#define NAPKIT_CORPUS_H

#include "napkit/text.h"

#include <stddef.h>

typedef struct {
    char *id;       // utterance id, e.g. "84-121550-0000"
    char *audio;    // path to the audio file
    char *text;     // normalized transcript
    char *raw_text; // transcript as found
    char *speaker;  // speaker id, e.g. "84"
    double duration; // seconds from the audio header, -1 when not probed
} nk_utterance;

typedef struct {
    char *file;   // the file the problem is in (audio, transcript, manifest)
    char *reason; // e.g. "contains a digit ('3')", "no transcript line"
} nk_skipped;

typedef struct {
    const nk_alphabet *alphabet; // required: transcripts are normalized over it
    int probe;                   // read each audio header: duration, readability
    double min_duration;         // seconds; 0 = no limit (needs probe)
    double max_duration;         // seconds; 0 = no limit (needs probe)
    size_t max_utterances;       // 0 = all (taken after shuffling)
    int shuffle;                 // shuffle with seed (deterministic)
    unsigned long long seed;
} nk_corpus_options;

typedef struct nk_corpus nk_corpus;

/* Defaults: probe on, no duration limits, all utterances, no shuffle, seed 0. */
void nk_corpus_options_default(nk_corpus_options *o, const nk_alphabet *alphabet);

/* Reads a corpus. spec is a path (layout detected) or "LAYOUT:PATH". Fails
 * only when the corpus as a whole cannot be read (no such path, unknown
 * layout, unreadable transcript file); bad utterances are skipped. */
int nk_corpus_open(const char *spec, const nk_corpus_options *opt, nk_corpus **out);
void nk_corpus_free(nk_corpus *c);

/* The layout read ("librispeech", …) and how many utterances the duration
 * filter removed (not counted as skipped: they are fine, just out of range). */
const char *nk_corpus_layout(const nk_corpus *c);
size_t nk_corpus_filtered(const nk_corpus *c);

size_t nk_corpus_size(const nk_corpus *c);
const nk_utterance *nk_corpus_get(const nk_corpus *c, size_t i);
size_t nk_corpus_n_skipped(const nk_corpus *c);
const nk_skipped *nk_corpus_skipped(const nk_corpus *c, size_t i);
/* Distinct speakers, and the total duration of probed utterances (seconds). */
size_t nk_corpus_n_speakers(const nk_corpus *c);
double nk_corpus_duration(const nk_corpus *c);

/* Splits by speaker: whole speakers go to dev and test (about dev_frac and
 * test_frac of the speakers, at least one each when the fraction is > 0),
 * chosen by a seeded shuffle; the rest is train. Fails with
 * NK_ERR_INFEASIBLE when there are too few speakers. parts[0..2] receive
 * train, dev and test (free each). */
int nk_corpus_split(const nk_corpus *c, double dev_frac, double test_frac, unsigned long long seed,
                    nk_corpus *parts[3]);

/* Names of the layouts, NULL-terminated. */
extern const char *const nk_corpus_layout_names[];

#endif
