/* CTC prefix beam search (Hannun et al. 2014, "First-pass large vocabulary
 * continuous speech recognition using bi-directional recurrent DNNs"),
 * optionally with a character language model (charlm.h) — the alternative to
 * nk_ctc_greedy when the best label sequence, not the best frame path, is wanted.
 *
 * A prefix's score is
 *   log P_ctc(prefix) + lm_weight · log P_lm(prefix) + bonus · length
 * where P_ctc sums over every frame path that collapses to the prefix (kept
 * per prefix as "ends in blank" and "ends in its last label", in log space),
 * and, once the frames are done, lm_weight · log P_lm(EOS | prefix) is added
 * before the best prefix is picked. The bonus (torchaudio's word_score, per
 * character here) offsets the LM's cost per character, which would otherwise
 * favour short transcripts. */
#ifndef NAPKIT_CTC_BEAM_H
#define NAPKIT_CTC_BEAM_H

#include "napkit/charlm.h"

typedef struct {
    int beam;            /* prefixes kept after each frame */
    double prune;        /* skip a class at a frame when its log prob is more than
                          * this below the frame's best (the blank never); ≤ 0 keeps all */
    const nk_charlm *lm; /* NULL: no language model (lm_weight is then unused) */
    double lm_weight;
    double bonus;        /* added per label of the prefix */
} nk_ctc_beam_options;

/* beam 16, prune 10, no LM, lm_weight 0.5, bonus 0 (docs/decoding.md says why). */
void nk_ctc_beam_defaults(nk_ctc_beam_options *o);

/* Decodes log_probs (K, T) class-major, as nk_ctc_greedy does: labels_out
 * (T entries) receives the best prefix, *n_out its length. With a language
 * model the blank must be class 0 and K the LM's alphabet size (NK_ERR_ARG
 * otherwise); NK_ERR_NOMEM when the prefix tree cannot grow. */
int nk_ctc_beam(const float *log_probs, int K, int T, int blank, const nk_ctc_beam_options *o, int *labels_out,
                int *n_out);

#endif
