/* CTC: loss and gradient, greedy decoding, Viterbi forced alignment.
 *
 * All functions take per-frame class scores laid out as the model emits them:
 * log_probs is (K, T) row-major — class-major, log_probs[k * T + t]. Labels are
 * class indices in [0, K) and never the blank. */
#ifndef NAPKIT_CTC_H
#define NAPKIT_CTC_H

/* Negative log-likelihood of `labels` (length U ≥ 0) under CTC with the given
 * blank, summed over the utterance (not divided by length), computed in log
 * space. If grad is not NULL it receives d nll / d log_probs (K, T): the true
 * partial derivative, −(occupancy of class k at frame t); the model's backward
 * turns it into a logits gradient through log-softmax (p − occupancy).
 * Returns NK_ERR_INFEASIBLE (nll = +inf, grad zeroed) when T < U + repeats. */
int nk_ctc_loss(const float *log_probs, int K, int T, const int *labels, int U, int blank,
                double *nll, float *grad);

/* Greedy (best path) decoding: argmax per frame, collapse repeats, drop blanks.
 * labels_out must hold T entries; *n_out receives the length. */
void nk_ctc_greedy(const float *log_probs, int K, int T, int blank, int *labels_out, int *n_out);

/* One aligned label: frames [start, end) of the Viterbi path that emit it,
 * its peak frame (highest posterior inside the span) and a confidence in
 * [0, 1] (mean posterior of the label over its span). */
typedef struct {
    int label;
    int start, end;
    int peak;
    float confidence;
} nk_ctc_span;

/* Viterbi forced alignment of `labels` over the blank-extended trellis.
 * spans (U entries) receive each label's frames; frame_labels (T entries, may
 * be NULL) the per-frame label of the best path (blank where it emits blank);
 * *score the path's total log-probability. NK_ERR_INFEASIBLE when T is too short. */
int nk_ctc_align(const float *log_probs, int K, int T, const int *labels, int U, int blank,
                 nk_ctc_span *spans, int *frame_labels, double *score);

#endif
