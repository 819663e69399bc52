/* Top activating inputs: a streaming scan of a corpus for the frames where
 * chosen units fire most, and the snippets (audio, spectrogram with the
 * unit's activation and the phone tier) that show them. */
#include "napkit/featvis.h"

#include "napkit/attrib.h"
#include "napkit/audio.h"
#include "napkit/error.h"
#include "napkit/textgrid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Inserts a hit into a best-first list of at most k (kept sorted; ties keep the
 * earlier utterance first). */
static void insert(nk_top_hit *list, int *n, int k, nk_top_hit h) {
    if (*n == k && list[k - 1].value >= h.value) return;
    int i = *n < k ? (*n)++ : k - 1;
    for (; i > 0 && list[i - 1].value < h.value; i--) list[i] = list[i - 1];
    list[i] = h;
}

int nk_top_activations(const nk_model *m, const nk_corpus *c, int n, const int *layer, const int *channel, int k,
                       nk_top_hit *hits, int *n_hits, size_t *skipped) {
    const nk_arch *a = nk_model_arch(m);
    if (n < 1 || k < 1) return nk_fail(NK_ERR_ARG, "top activations: needs at least one unit and k ≥ 1");
    for (int u = 0; u < n; u++)
        if (layer[u] < 0 || layer[u] >= a->n_layers || channel[u] < 0 || channel[u] >= a->layers[layer[u]].out)
            return nk_fail(NK_ERR_ARG, "top activations: unit %d:%d is not in %s", layer[u], channel[u], a->name);
    nk_workspace *ws;
    int rc = nk_workspace_new(m, &ws);
    if (rc) return rc;
    memset(n_hits, 0, (size_t)n * sizeof *n_hits);
    *skipped = 0;
    for (size_t i = 0; i < nk_corpus_size(c); i++) {
        float *x = NULL;
        int T;
        if (nk_model_features_from_audio(m, nk_corpus_get(c, i)->audio, &x, &T) || nk_model_forward(m, ws, x, T)) {
            (*skipped)++;
            free(x);
            continue;
        }
        free(x);
        for (int u = 0; u < n; u++) {
            const int Tl = nk_ws_frames(ws, layer[u]);
            const float *A = nk_ws_act(ws, layer[u]) + (size_t)channel[u] * Tl;
            int best = 0;
            for (int t = 1; t < Tl; t++) best = A[t] > A[best] ? t : best;
            insert(hits + (size_t)u * k, &n_hits[u], k, (nk_top_hit){A[best], (int)i, best});
        }
    }
    nk_workspace_free(ws);
    return NK_OK;
}

/* The TextGrid beside an audio file (same stem), cut to [t0, t1) seconds and
 * shifted to start at 0; NULL when there is none. */
static nk_textgrid *tiers_for(const char *audio, double t0, double t1) {
    char path[4096];
    snprintf(path, sizeof path, "%s", audio);
    char *dot = strrchr(path, '.');
    if (!dot || strlen(path) + 10 > sizeof path) return NULL;
    strcpy(dot, ".TextGrid");
    nk_textgrid *full = NULL, *cut = NULL;
    if (nk_textgrid_read(path, &full) || nk_textgrid_new(0, t1 - t0, &cut)) {
        nk_textgrid_free(full);
        return NULL;
    }
    for (int i = 0; i < full->n_tiers; i++) {
        int tier;
        if (nk_textgrid_add_tier(cut, full->tiers[i].name, &tier)) break;
        for (int j = 0; j < full->tiers[i].n; j++) {
            const nk_interval *iv = &full->tiers[i].iv[j];
            double a = iv->xmin > t0 ? iv->xmin : t0, b = iv->xmax < t1 ? iv->xmax : t1;
            if (b > a) nk_textgrid_append(cut, tier, a - t0, b - t0, iv->text);
        }
    }
    nk_textgrid_finish(cut);
    nk_textgrid_free(full);
    return cut;
}

int nk_top_write_snippet(const nk_model *m, const char *audio, int layer, int channel, int frame, int context,
                         const char *stem) {
    const nk_arch *a = nk_model_arch(m);
    const int F = nk_arch_input_dim(a), hop = a->frontend.hop, sr = a->frontend.sample_rate;
    float *x = NULL, *pcm = NULL, *seg = NULL, *act = NULL;
    size_t n = 0;
    int T, lo, hi;
    nk_workspace *ws = NULL;
    nk_attr_input_span(a, layer, frame, frame + 1, &lo, &hi);
    int rc = nk_model_features_from_audio(m, audio, &x, &T);
    if (!rc) rc = nk_audio_read(audio, sr, &pcm, &n);
    if (!rc) rc = nk_workspace_new(m, &ws);
    if (!rc) rc = nk_model_forward(m, ws, x, T);
    lo = lo - context < 0 ? 0 : lo - context, hi = hi + context > T ? T : hi + context;
    const int len = hi - lo, Tl = rc ? 0 : nk_ws_frames(ws, layer);
    if (!rc && (len < 2 || frame >= Tl)) rc = nk_fail(NK_ERR_ARG, "%s: frame %d of layer %d is outside the utterance", audio, frame, layer);
    if (!rc && (!(seg = malloc(sizeof(float) * F * len)) || !(act = malloc(sizeof(float) * T))))
        rc = nk_fail(NK_ERR_NOMEM, "snippet: out of memory");
    if (!rc) { // the snippet's features and the unit's activation stretched over input frames
        for (int f = 0; f < F; f++) memcpy(seg + (size_t)f * len, x + (size_t)f * T + lo, len * sizeof *seg);
        nk_attr_upsample(a, layer, nk_ws_act(ws, layer) + (size_t)channel * Tl, Tl, act, T);
        size_t s0 = (size_t)lo * hop, s1 = (size_t)hi * hop < n ? (size_t)hi * hop : n;
        char path[4096];
        snprintf(path, sizeof path, "%s.wav", stem);
        rc = nk_audio_write(path, pcm + s0, s1 > s0 ? s1 - s0 : 0, sr);
    }
    if (!rc) {
        const double t0 = (double)lo * hop / sr, t1 = (double)hi * hop / sr;
        nk_textgrid *tiers = tiers_for(audio, t0, t1);
        char title[256];
        int c0, c1; /* the frame's receptive field, for the time in the title */
        nk_attr_input_span(a, layer, frame, frame + 1, &c0, &c1);
        snprintf(title, sizeof title, "unit %d:%d at %.2f s of %s (activation %.3g)", layer, channel,
                 (c0 + c1 - 1) / 2.0 * hop / sr, strrchr(audio, '/') ? strrchr(audio, '/') + 1 : audio,
                 nk_ws_act(ws, layer)[(size_t)channel * Tl + frame]);
        rc = nk_attr_plot(seg, F, len, act + lo, 1, (double)hop / sr, tiers, "activation", title, NULL, stem);
        nk_textgrid_free(tiers);
    }
    free(x), free(pcm), free(seg), free(act);
    nk_workspace_free(ws);
    return rc;
}
