/* Forced alignment → events: the words, letters and phonemes of an utterance
 * in time, and how well phoneme onsets match a reference.
 *
 * One utterance (docs/alignment.md has the reasoning and measured figures):
 *   log-probs (K, T') ──nk_ctc_align──▶ each transcript label's Viterbi span
 *   letters   a label runs from its first frame to the next label's first
 *             frame (CTC is peaky: the blanks after a spike belong to it);
 *             the last label keeps the median such length
 *   words     the letters between separators (" "); the separator's own
 *             span is the pause between two words
 *   phonemes  nk_pronounce + nk_lp_align cut a word into letter groups; a
 *             sounding group runs from its first letter's start to the next
 *             sounding group's (a silent letter's time goes to the phoneme
 *             before it, or after it at the start of a word); a group's
 *             phonemes share its span evenly
 * Output frame t starts at t × frame_seconds − delay seconds (clamped to the
 * utterance). Confidence is the CTC alignment's: a letter's mean posterior
 * over its Viterbi span; words and phonemes take the mean of their letters. */
#ifndef NAPKIT_ALIGN_H
#define NAPKIT_ALIGN_H

#include "napkit/arch.h"
#include "napkit/dataset.h"
#include "napkit/events.h"
#include "napkit/letter_phone.h"
#include "napkit/lexicon.h"
#include "napkit/model.h"
#include "napkit/textgrid.h"

#include <stdio.h>

/* Default threshold on an utterance's path confidence: below it the transcript
 * probably does not match the audio (docs/alignment.md has the measurement). */
#define NK_ALIGN_MIN_CONFIDENCE 0.25

typedef struct {
    const char *const *alphabet; /* K symbols, alphabet[blank] the CTC blank */
    int n_classes, blank;
    int separator;               /* class index of the word separator " " */
    double frame_seconds;        /* seconds per output frame */
    double delay;                /* seconds subtracted from every time: the model's onset delay
                                    (nk_align_model_delay gives the stored one) */
    int midway;                  /* 1: a label starts midway between the previous label's last
                                    frame and its own first, not at its first frame */
    const nk_lexicon *lexicon;   /* pronunciations first looked up here; may be NULL */
    const char *voice;           /* espeak-ng voice for words the lexicon lacks */
    const nk_lp_model *lp;       /* letter↔phoneme model; NULL: no phones */
} nk_align_config;

/* Alphabet, blank, separator and frame_seconds (total stride of the last
 * layer × hop / sample rate) from an architecture; delay 0, no lexicon,
 * voice and lp model (the caller sets them). NK_ERR_ARG when the alphabet
 * has no " ". The config points into arch, which must outlive it. */
int nk_align_config_init(nk_align_config *c, const nk_arch *arch);
/* The delay to subtract when the caller names none: the model's stored onset
 * delay (nk_model_onset_delay). It is measured with the spike boundary, so a
 * midway alignment gets 0, as does a model without one. */
double nk_align_model_delay(const nk_model *m, int midway);

typedef struct {
    const char *label;  /* word (owned by the result), alphabet symbol, or IPA (static) */
    double start, end;  /* seconds, the interval [start, end) */
    double peak;        /* seconds: peak-posterior frame of the carrying letter, in [start, end] */
    float confidence;
    const char *letter; /* letters: the symbol; phones: first letter of its group; words: NULL */
    int phone;          /* phone id (phoneset.h) for phones, −1 otherwise */
    int word;           /* index of the word in the utterance */
} nk_align_event;

typedef struct {
    nk_align_event *ev[NK_N_TIERS]; /* per tier, in time order */
    int n[NK_N_TIERS];
    double confidence; /* mean confidence of the letters (separators excluded) */
    double path_confidence; /* geometric mean over all frames of the Viterbi path's posteriors
                               (blanks included): what --min-confidence judges */
    double duration;   /* seconds: the utterance, every time lies in [0, duration] */
    char *words;       /* storage of the word labels */
} nk_align_result;

/* Aligns one utterance: log_probs (K, T) of the model, labels (U ≥ 1) its
 * transcript over the alphabet, duration its audio length in seconds (≤ 0:
 * T × frame_seconds). NK_ERR_INFEASIBLE when T is too short for the labels;
 * NK_ERR_ARG (message naming the word) when a word has no pronunciation or
 * letter↔phoneme alignment. `out` is zeroed first and owns its memory. */
int nk_align_utterance(const nk_align_config *c, const float *log_probs, int T, const int *labels,
                       int U, double duration, nk_align_result *out);
void nk_align_result_free(nk_align_result *r);

/* Phoneme spans of one word. Letter i spans [start[i], end[i]) (in time
 * order, contiguous); groups come from nk_lp_align and cover n_phones
 * phonemes. Phoneme p receives [ps[p], pe[p]) and carrier[p], the index of
 * its group's first letter (see the top of this file for the rule). */
void nk_align_phone_spans(const double *start, const double *end, const nk_lp_group *g, int n_groups,
                          double *ps, double *pe, int *carrier);

/* ---- a corpus ---- */

typedef enum {
    NK_ALIGN_OK,
    NK_ALIGN_INFEASIBLE,     /* fewer frames than the transcript needs */
    NK_ALIGN_LOW_CONFIDENCE, /* path confidence below the threshold */
    NK_ALIGN_FAILED          /* forward pass, pronunciation or memory */
} nk_align_status;
extern const char *const nk_align_status_names[]; /* "aligned", "infeasible", "low-confidence", "failed" */

typedef struct {
    nk_align_status status;
    char reason[256];  /* why it was skipped; "" when aligned */
    nk_align_result r; /* filled for OK and LOW_CONFIDENCE */
} nk_align_item;

/* Runs the model over every utterance of d and aligns it, on `threads`
 * threads (results do not depend on the count). An utterance whose path
 * confidence is below min_confidence is LOW_CONFIDENCE: a transcript that
 * does not match its audio leaves frames the path must explain with labels
 * the model does not predict there (docs/alignment.md has the measurement). items (nk_dataset_size(d)
 * entries) receive each utterance's outcome; an utterance that fails is
 * skipped with its reason, never fatal. Fails only when no workspace can be
 * made. show_progress draws a progress line on stderr. */
int nk_align_dataset(const nk_model *m, const nk_dataset *d, const nk_align_config *c,
                     double min_confidence, int threads, int show_progress, nk_align_item *items);

/* ---- outputs ---- */

/* Phone label: IPA, or with arpabet the nearest CMUdict phoneme (its IPA
 * when there is none, e.g. German pf). */
const char *nk_align_phone_label(int phone, int arpabet);

/* The three interval tiers "words", "letters", "phones" over [0, duration],
 * empty intervals where nothing is aligned (pauses). */
int nk_align_textgrid(const nk_align_result *r, int arpabet, nk_textgrid **out);
/* Appends one tier as CTM lines "UTT 1 START DURATION LABEL CONFIDENCE". */
int nk_align_write_ctm(FILE *fp, const char *utt, const nk_align_result *r, nk_tier_kind tier,
                       int arpabet);
/* Appends every event as one JSON line (events.h's format) with, for
 * phones, "phone_arpabet" when the phoneme has a CMUdict neighbour. */
int nk_align_write_events(FILE *fp, const char *utt, const nk_align_result *r);

/* Writes a corpus's alignments into dir (created as needed):
 *   textgrids/<utt>.TextGrid  per aligned utterance ('/' in ids becomes '_')
 *   words.ctm, letters.ctm, phones.ctm   one CTM per tier, utterances in order
 *   events.jsonl              every event of every aligned utterance
 *   alignment.json            counts per status; per utterance its status,
 *                             mean letter and path confidence, skip reason
 * Only NK_ALIGN_OK items give alignments. Every file is written atomically. */
int nk_align_write_dir(const char *dir, const nk_dataset *d, const nk_align_item *items, int arpabet);

/* ---- quality against reference timings ---- */

/* Accumulates phoneme onset errors over utterances. */
typedef struct nk_align_quality nk_align_quality;

int nk_align_quality_new(nk_align_quality **out);
void nk_align_quality_free(nk_align_quality *q);
/* Matches r's phonemes with the non-empty intervals of the reference's
 * "phones" tier (IPA labels) by Needleman–Wunsch over the labels: identical
 * phonemes score 3, the same CMUdict phoneme 2, the same class 1, others −1,
 * gaps −1. Pairs of the same class or closer count as matched; their onset
 * error (predicted − reference start) is recorded under the reference's
 * class. NK_ERR_FORMAT when the reference has no "phones" tier. */
int nk_align_quality_add(nk_align_quality *q, const nk_align_result *r, const nk_textgrid *ref);

typedef struct {
    int n_ref, n_pred, n_matched; /* reference and predicted phonemes, matched pairs */
    double within_20ms, within_50ms; /* shares of matched onsets with |error| ≤ 20 / 50 ms */
    double median_abs;             /* seconds */
    double median_signed, mean_signed; /* seconds: a systematic delay shows here */
} nk_onset_stats;

/* Adds every aligned item (NK_ALIGN_OK) of d against its reference: the
 * file <utt id>.TextGrid anywhere below dir, as the synthesizer writes it
 * beside the audio. *n_used counts the utterances compared, *n_missing the
 * aligned ones without a reference. A malformed reference fails, naming it. */
int nk_align_quality_add_dir(nk_align_quality *q, const char *dir, const nk_dataset *d,
                             const nk_align_item *items, size_t *n_used, size_t *n_missing);

/* Statistics over all phonemes (cls = −1) or one phonetic class (nk_phone_class):
 * n_ref and n_pred count phonemes of that class, shares and medians are NaN
 * without matched pairs. */
void nk_align_quality_stats(const nk_align_quality *q, int cls, nk_onset_stats *out);

#endif
