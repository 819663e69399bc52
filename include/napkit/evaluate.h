/* Transcription (greedy or beam search) and its character and word error rates. */
#ifndef NAPKIT_EVALUATE_H
#define NAPKIT_EVALUATE_H

#include "napkit/ctc_beam.h"
#include "napkit/dataset.h"
#include "napkit/editdist.h"
#include "napkit/model.h"

/* One utterance's transcript, malloc'd; alpha is the model's alphabet
 * (nk_alphabet_new over its arch), ws the caller's workspace. decode NULL
 * decodes greedily (nk_ctc_greedy), otherwise by beam search with those
 * options (nk_ctc_beam); its language model, if any, must be over alpha. */
int nk_transcribe(const nk_model *m, const nk_alphabet *alpha, nk_workspace *ws, const float *x,
                  int T, const nk_ctc_beam_options *decode, char **text);

typedef struct {
    char *hypothesis;       /* malloc'd transcript */
    nk_error_counts counts; /* against the example's reference text */
} nk_eval_item;

/* Transcribes every example on `threads` threads (decode as for
 * nk_transcribe: NULL is greedy) and sums the error counts (corpus CER =
 * char_errors / char_count, WER likewise). items (size of the dataset, may be
 * NULL) receive the per-utterance results; free each hypothesis. Results do
 * not depend on the thread count. */
int nk_evaluate(const nk_model *m, const nk_dataset *d, int threads, const nk_ctc_beam_options *decode,
                nk_eval_item *items, nk_error_counts *total);

/* Writes the results as JSON: how they were decoded (`decoding`: the given
 * words, NULL for "greedy"), corpus cer, wer, utterances, hours, and per
 * utterance its id, reference, hypothesis and error counts. */
int nk_eval_write_json(const char *path, const nk_dataset *d, const nk_eval_item *items, const nk_error_counts *total,
                       const char *decoding);

/* Where the recognition errors are: reference and hypothesis laid side by side
 * by Needleman–Wunsch over characters (UTF-8 code points; match +1,
 * substitution −1, gap −1), a gap shown as '*'. *ref_line and *hyp_line are
 * malloc'd and equally long in characters: "the c*at" over "th* cut". */
int nk_transcript_align(const char *reference, const char *hypothesis, char **ref_line, char **hyp_line);

double nk_cer(const nk_error_counts *c);
double nk_wer(const nk_error_counts *c);

#endif
