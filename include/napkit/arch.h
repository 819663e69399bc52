/* Network architectures: a stack of 1D convolutions described in JSON.
 *
 *   {"name": "small", "alphabet": ["_", " ", "'", "a", ...], "blank": 0,
 *    "frontend": {"kind": "logmel", "n_mels": 40, "normalize": "utterance", ...},
 *    "layers": [{"type": "conv1d", "in": 40, "out": 128, "kernel": 48, "stride": 2,
 *                "padding": 23, "dilation": 1, "activation": "relu"}, ...]}
 *
 * The last layer's output (after its own activation) is the logits, (K, T');
 * log-softmax over the K classes always follows. docs/model-files.md has the
 * full field list and defaults. */
#ifndef NAPKIT_ARCH_H
#define NAPKIT_ARCH_H

#include "napkit/features.h"

#include <stddef.h>

typedef enum { NK_ACT_NONE, NK_ACT_RELU, NK_ACT_HARDTANH } nk_activation;
extern const char *const nk_activation_names[]; /* "none", "relu", "hardtanh", NULL */

typedef struct {
    int in, out;     /* channels */
    int kernel, stride, padding, dilation;
    nk_activation activation;
} nk_layer_spec;

typedef struct {
    char *name;
    int n_classes;        /* K = number of alphabet entries */
    char **alphabet;      /* K UTF-8 strings; alphabet[blank] is the CTC blank
                             (text.h's nk_alphabet_new builds the text codec) */
    int blank;
    nk_frontend_config frontend;
    int n_layers;
    nk_layer_spec *layers;
} nk_arch;

/* Parses and checks an architecture; `origin` (a file name) prefixes errors. */
int nk_arch_parse(const char *json, const char *origin, nk_arch *out);
int nk_arch_load(const char *path, nk_arch *out);
/* Compact JSON text (malloc'd) that nk_arch_parse reads back to an equal arch. */
char *nk_arch_to_json(const nk_arch *a);
int nk_arch_copy(const nk_arch *a, nk_arch *out);
void nk_arch_free(nk_arch *a);

/* Input feature rows the first layer expects (= layers[0].in). */
int nk_arch_input_dim(const nk_arch *a);
size_t nk_arch_param_count(const nk_arch *a);
/* Output frames of every layer for T input frames: lens[l] for l < n_layers,
 * by the conv formula floor((T + 2p − d(k−1) − 1)/s) + 1. Fails with NK_ERR_ARG
 * when an utterance is too short to give a layer at least one frame. */
int nk_arch_frames(const nk_arch *a, int T, int *lens);
/* Input frames that one output frame of `layer` sees, and its stride in input frames. */
int nk_arch_receptive_field(const nk_arch *a, int layer);
int nk_arch_total_stride(const nk_arch *a, int layer);
/* Multiply-adds ×2 of the whole forward pass per output frame of the last layer. */
double nk_arch_flops_per_frame(const nk_arch *a);

#endif
