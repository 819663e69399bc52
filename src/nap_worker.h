/* Internals shared by the nap*.c files: a worker's state. */
#ifndef NAPKIT_NAP_WORKER_H
#define NAPKIT_NAP_WORKER_H

#include "nap_impl.h"

struct nk_nap_worker {
    const nk_model *model;
    const nk_arch *arch;
    const nk_nap_sums *sums; /* shape of the partial sums (groups fixed at creation) */
    nk_workspace *ws;
    int **lo, **hi;    /* (NK_NAP_BATCH, L) each event's cone, frames [lo, hi) of each layer */
    float ***g;        /* (NK_NAP_BATCH, L) cone gradients (C_l, widest cone of layer l) */
    float *gz, *gx;    /* packed pre-activation and input gradients of one layer */
    float *scratch;    /* im2col buffer of the packed backward */
    float *column;     /* (2K) one frame's log-probs and seed */
    double *part;      /* (G, block) this utterance's sums */
    int64_t *n_events; /* (G) this utterance's events per group */
    int *touched, n_touched; /* groups with events in this utterance */
    unsigned char *is_touched;
    int64_t skipped;
    double frame_seconds; /* one input frame: hop / sample rate */
};

/* Widest cone of one output frame at each layer (L entries). */
void nap_cone_widths(const nk_arch *a, int *width);
/* Packed output columns one event's slot takes in layer s's backward for an n-frame cone. */
int nap_slot_columns(const nk_layer_spec *s, int n);

#endif
