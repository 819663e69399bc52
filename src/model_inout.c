/* What goes into a forward pass (features from audio or .npy) and what comes
 * out of one (every layer's output or gradient as .npy). */
#include "napkit/model.h"

#include "napkit/error.h"
#include "napkit/features.h"
#include "napkit/fileio.h"
#include "napkit/npy.h"

#include <stdio.h>
#include <stdlib.h>

int nk_model_features_from_audio(const nk_model *m, const char *path, float **x, int *T) {
    *x = NULL;
    nk_frontend *fe;
    int rc = nk_frontend_new(&nk_model_arch(m)->frontend, &fe);
    if (rc) return rc;
    int F;
    rc = nk_features_from_file(fe, path, x, &F, T);
    nk_frontend_free(fe);
    return rc;
}

int nk_model_features_from_npy(const nk_model *m, const char *path, float **x, int *T) {
    *x = NULL;
    nk_array arr;
    int rc = nk_npy_read_f32(path, &arr);
    if (rc) return rc;
    const int F = nk_arch_input_dim(nk_model_arch(m));
    if (arr.ndim != 2 || arr.shape[0] != F || arr.shape[1] < 1 || arr.shape[1] > (1 << 30)) {
        rc = nk_fail(NK_ERR_FORMAT, "%s: features must have shape (%d, T) for %s, got %d dimensions "
                                    "(%ld, %ld)", path, F, nk_model_arch(m)->name, arr.ndim,
                     arr.ndim > 0 ? arr.shape[0] : 0L, arr.ndim > 1 ? arr.shape[1] : 0L);
        nk_array_free(&arr);
        return rc;
    }
    *x = arr.data;
    *T = (int)arr.shape[1];
    return NK_OK;
}

int nk_ws_save_layers(const nk_workspace *ws, const char *dir, int grads) {
    const nk_arch *a = nk_ws_arch(ws);
    for (int l = 0; l < a->n_layers; l++) {
        char name[32];
        snprintf(name, sizeof name, grads ? "layer_%02d_grad.npy" : "layer_%02d.npy", l);
        char *path = nk_path_join(dir, name);
        if (!path) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", dir);
        long shape[2] = {a->layers[l].out, nk_ws_frames(ws, l)};
        int rc = nk_npy_write(path, NK_F32, 2, shape,
                              grads ? nk_ws_grad((nk_workspace *)ws, l) : nk_ws_act(ws, l));
        free(path);
        if (rc) return rc;
    }
    return NK_OK;
}
