/* The acoustic model: a stack of 1D convolutions, its forward pass with every
 * layer's output cached, and a backward pass that starts from seeds at any
 * layer (or the log-probs) and reaches every activation, the input features
 * and the parameters.
 *
 * Shapes: the input X is (F, T), layer l's output A^l is (C_l, T_l), the
 * logits are the last layer's output (K, T'), log-probs = log_softmax over K.
 *
 *   nk_model *m;      nk_model_load("en.safetensors", &m);
 *   nk_workspace *ws; nk_workspace_new(m, &ws);
 *   nk_model_forward(m, ws, x, T);                     // caches A^0 .. A^{L-1}
 *   nk_ws_grad(ws, L - 1)[k * T' + t] = 1;             // seed d logit[k, t]
 *   nk_model_backward(m, ws, L - 1, NK_RULE_GRADIENT, 0);
 *   nk_ws_input_grad(ws);                              // (F, T) saliency
 *
 * A model is read-only during forward/backward, so threads may share one
 * model with a workspace each. */
#ifndef NAPKIT_MODEL_H
#define NAPKIT_MODEL_H

#include "napkit/arch.h"
#include "napkit/safetensors.h"

#include <stddef.h>
#include <stdint.h>

typedef struct nk_model nk_model;
typedef struct nk_workspace nk_workspace;

/* ---- the model: architecture + all parameters in one buffer ---- */

/* A model with all parameters zero. The arch is copied. */
int nk_model_new(const nk_arch *arch, nk_model **out);
void nk_model_free(nk_model *m);
const nk_arch *nk_model_arch(const nk_model *m);
size_t nk_model_param_count(const nk_model *m);
/* All parameters, layer by layer: weight (out, in, kernel) then bias (out). */
float *nk_model_params(nk_model *m);
/* Gradients in the same layout (filled by nk_model_ctc_batch). */
float *nk_model_grads(nk_model *m);
/* Offset of layer l's weight in the parameter buffer; its bias follows the weight. */
size_t nk_model_layer_offset(const nk_model *m, int l);
/* PyTorch's Conv1d initialization: weights and biases U(−1/√fan_in, 1/√fan_in),
 * fan_in = in·kernel, from a seeded generator (same seed, same model). */
void nk_model_init(nk_model *m, uint64_t seed);
typedef enum {
    NK_INIT_PYTORCH, /* as nk_model_init */
    NK_INIT_KAIMING, /* weights U(−√(3g/fan_in), √(3g/fan_in)), g = 2 before a ReLU, else 1;
                      * biases 0: activations keep their scale through a deep ReLU stack */
} nk_init_scheme;
void nk_model_init_with(nk_model *m, nk_init_scheme scheme, uint64_t seed);
/* Starts `m` from a narrower trained model `src` without changing what it
 * computes (Net2Net-style growth): src's weights and biases fill the leading
 * block of every layer, the weights from m's extra input channels into src's
 * output channels are zeroed, and the extra units keep m's own (random)
 * incoming weights, so they learn from the first step while the logits stay
 * src's exactly. m and src need the same front end, alphabet, layer count,
 * kernels, strides, paddings, dilations and activations, and m at least src's
 * channels; an equal architecture makes m a copy. The onset delay is not
 * carried over (m's extra units move it once trained). */
int nk_model_grow(nk_model *m, const nk_model *src, const char *src_name);
/* The CTC onset delay of these weights in seconds: how late the model's spikes
 * come after the sounds (measured with `napkit align --reference`, spike
 * boundary), which alignment subtracts by default. NAN when unknown, as for a
 * new model; setting NAN removes it. Training clears it (nk_train). */
double nk_model_onset_delay(const nk_model *m);
void nk_model_set_onset_delay(nk_model *m, double seconds);

/* Model files: one .safetensors with tensors layers.N.weight (out, in, kernel)
 * and layers.N.bias (out), F32, and the architecture JSON in __metadata__
 * under "napkit.arch"; the onset delay, when known, under
 * "napkit.onset_delay" (seconds as decimal text). Loading fails, naming the
 * file, when that value is not a number of seconds in [−10, 10]. */
int nk_model_load(const char *path, nk_model **out);
int nk_model_save(const nk_model *m, const char *path);
/* The same file with extra F32 tensors and metadata pairs (meta[2i] = key,
 * meta[2i+1] = value) beside the model's own: training checkpoints. */
int nk_model_save_extra(const nk_model *m, const char *path, const nk_st_entry *extra, int n_extra,
                        const char *const *meta, int n_meta);
/* Loads the model from a file that may hold extra tensors; *st stays open for
 * the caller to read them (close it with nk_st_close). nk_model_load, in
 * contrast, rejects a file holding anything but the model, except a training
 * checkpoint, which loads as the model of its last epoch. */
int nk_model_load_extra(const char *path, nk_model **out, nk_safetensors **st);
/* Stores the onset delay in a model file (NAN removes it), rewriting the file
 * atomically with every tensor and every other metadata value (the training
 * recipe, a checkpoint's optimizer state) kept byte for byte. The file must
 * load as a model. */
int nk_model_file_set_onset_delay(const char *path, double seconds);
/* Builds a model from an architecture and a weights file. With torchaudio set,
 * the weights carry torchaudio Wav2Letter names (acoustic_model.N.weight with
 * an optional "module." prefix; conv N, in order of N, is layer l) — otherwise
 * napkit's own names. Every tensor must be used and have the layer's shape. */
int nk_model_import(const nk_arch *arch, const char *weights_path, int torchaudio, nk_model **out);

/* ---- forward and backward over one utterance ---- */

/* A workspace holds one utterance's activations, gradients and scratch. It is
 * sized on the first forward and grows only for a longer utterance. */
int nk_workspace_new(const nk_model *m, nk_workspace **out);
void nk_workspace_free(nk_workspace *ws);

/* x is (F, T) with F = nk_arch_input_dim; it is copied. Fails for NaN/Inf input
 * and for utterances too short for the network. Zeroes all gradient buffers. */
int nk_model_forward(const nk_model *m, nk_workspace *ws, const float *x, int T);

/* The architecture of the workspace's model. */
const nk_arch *nk_ws_arch(const nk_workspace *ws);
/* Frames of layer l's output; l = −1 gives the input's T. */
int nk_ws_frames(const nk_workspace *ws, int l);
const float *nk_ws_input(const nk_workspace *ws);         /* (F, T) */
const float *nk_ws_preact(const nk_workspace *ws, int l); /* (C_l, T_l) before the activation */
const float *nk_ws_act(const nk_workspace *ws, int l);    /* (C_l, T_l) after; l = L−1: logits */
const float *nk_ws_log_probs(const nk_workspace *ws);     /* (K, T') */

/* How a backward pass crosses an activation. GRADIENT is the true derivative;
 * GUIDED (guided backprop) also drops negative incoming signal. */
typedef enum { NK_RULE_GRADIENT, NK_RULE_GUIDED } nk_backward_rule;

/* Seeds and results of the backward pass. nk_ws_grad(l) is (C_l, T_l): write
 * seeds d y / d A^l there (for any l); after nk_model_backward it holds the
 * total gradient. nk_ws_log_probs_grad is (K, T'), a seed on the log-probs. */
float *nk_ws_grad(nk_workspace *ws, int l);
float *nk_ws_log_probs_grad(nk_workspace *ws);
const float *nk_ws_input_grad(const nk_workspace *ws);     /* (F, T) */
/* Parameter gradients (model layout), accumulated over backward calls made with
 * want_params; NULL before the first such call. */
float *nk_ws_param_grads(nk_workspace *ws);
/* Clears the activation, log-prob and input gradients (not the parameter
 * gradients), to run another backward on the same forward. */
void nk_ws_zero_grads(nk_workspace *ws);
void nk_ws_zero_param_grads(nk_workspace *ws);

/* Propagates the seeds from layer `top` down to the input: top in [0, L−1]
 * starts at that layer's output (seeds above it are ignored); top = L starts
 * at the log-probs (through log-softmax into the logits). Seeds at several
 * layers add up. With want_params, d y / d θ is added to nk_ws_param_grads. */
int nk_model_backward(const nk_model *m, nk_workspace *ws, int top, nk_backward_rule rule,
                      int want_params);

/* ---- inputs and outputs of a pass ---- */

/* Features for the model: audio through the model's own front end, or a
 * float32 .npy of shape (F, T) checked against the first layer. *x is
 * malloc'd (F, T). Errors name the file. */
int nk_model_features_from_audio(const nk_model *m, const char *path, float **x, int *T);
int nk_model_features_from_npy(const nk_model *m, const char *path, float **x, int *T);
/* Writes every layer's output (grads = 0: layer_NN.npy) or its gradient
 * (grads = 1: layer_NN_grad.npy) as (C_l, T_l) float32 into dir. */
int nk_ws_save_layers(const nk_workspace *ws, const char *dir, int grads);

/* ---- training: a batch of utterances with CTC ---- */

/* Forward, CTC loss and backward for B utterances of different lengths.
 * x[b] is (F, T[b]), labels[b] has U[b] entries. nll[b] receives the summed
 * CTC negative log-likelihood (INFINITY when T' is too short for the labels;
 * such an utterance adds no gradient). The model's gradient buffer receives
 * Σ_b d nll_b / d θ. Utterances run in parallel on the n_ws workspaces (one
 * OpenMP thread each, OpenBLAS single-threaded meanwhile); gradients are
 * summed in the order b = 0, 1, …, so the result does not depend on n_ws. */
int nk_model_ctc_batch(nk_model *m, nk_workspace **ws, int n_ws, int B, const float *const *x,
                       const int *T, const int *const *labels, const int *U, double *nll);

/* ---- layer primitives (one job each; the model's passes are built from them) ---- */

/* Scratch floats a conv layer needs for T_out output frames (its im2col buffer). */
size_t nk_conv1d_scratch(const nk_layer_spec *s, int T_out);
/* out (C_out, T_out) = w (C_out, C_in·k) ∗ x (C_in, T_in) + b, through sgemm. */
void nk_conv1d_forward(const nk_layer_spec *s, const float *w, const float *b, const float *x,
                       int T_in, float *out, int T_out, float *scratch);
/* From g_out (C_out, T_out): g_x (C_in, T_in) += ∂/∂x, g_w (C_out, C_in, k) += ∂/∂w and
 * g_b (C_out) += ∂/∂b. Each of g_x, g_w (with g_b) may be NULL to skip it. */
void nk_conv1d_backward(const nk_layer_spec *s, const float *w, const float *x, int T_in,
                        const float *g_out, int T_out, float *g_x, float *g_w, float *g_b,
                        float *scratch);
/* a = act(z), elementwise over n values (a may equal z). */
void nk_activation_forward(nk_activation act, const float *z, float *a, size_t n);
/* g_z = rule(act, z, g_a): the activation's backward (g_z may equal g_a). */
void nk_activation_backward(nk_activation act, nk_backward_rule rule, const float *z,
                            const float *g_a, float *g_z, size_t n);
/* Log-softmax over the K rows of each column: z, lp (K, T). */
void nk_log_softmax_forward(const float *z, float *lp, int K, int T);
/* g_z (K, T) += g_lp − softmax · Σ_k g_lp, per column. */
void nk_log_softmax_backward(const float *lp, const float *g_lp, float *g_z, int K, int T);

#endif
