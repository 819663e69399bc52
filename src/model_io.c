/* Model files: load, save and import of .safetensors weights. */
#include "napkit/model.h"

#include "napkit/error.h"
#include "napkit/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARCH_KEY "napkit.arch"
#define DELAY_KEY "napkit.onset_delay"
/* Seconds: as `napkit align --delay` allows; anything beyond is a broken file. */
#define MAX_DELAY 10.0

/* Copies every layer's weight and bias from st, names[2l] and names[2l+1]. */
static int read_layers(nk_model *m, const nk_safetensors *st, const char *path,
                       char *const *names) {
    const nk_arch *a = nk_model_arch(m);
    for (int l = 0; l < a->n_layers; l++) {
        const nk_layer_spec *s = &a->layers[l];
        float *w = nk_model_params(m) + nk_model_layer_offset(m, l);
        long wshape[3] = {s->out, s->in, s->kernel}, bshape[1] = {s->out};
        int rc = nk_st_read_f32(st, names[2 * l], 3, wshape, w);
        if (!rc) rc = nk_st_read_f32(st, names[2 * l + 1], 1, bshape, w + (size_t)s->out * s->in * s->kernel);
        if (rc) return rc;
    }
    return NK_OK;
}

static char **napkit_names(int L) {
    char **names = calloc(2 * L, sizeof *names);
    for (int i = 0; names && i < 2 * L; i++) {
        char buf[48];
        snprintf(buf, sizeof buf, "layers.%d.%s", i / 2, i % 2 ? "bias" : "weight");
        names[i] = strdup(buf);
    }
    return names;
}

static void free_names(char **names, int n) {
    for (int i = 0; names && i < n; i++) free(names[i]);
    free(names);
}

/* A torchaudio conv's position: the integers of "acoustic_model.0.0" or
 * "acoustic_model.16", compared as a tuple so waveform models order too. */
typedef struct {
    int path[4], depth;
    const char *weight, *bias;
} ta_conv;

static int ta_cmp(const void *a, const void *b) {
    const ta_conv *x = a, *y = b;
    for (int i = 0; i < x->depth && i < y->depth; i++)
        if (x->path[i] != y->path[i]) return x->path[i] < y->path[i] ? -1 : 1;
    return x->depth - y->depth;
}

/* Parses "[module.]acoustic_model.N[.M…].weight|bias". */
static int ta_parse(const char *name, ta_conv *c, int *is_bias) {
    if (!strncmp(name, "module.", 7)) name += 7;
    if (strncmp(name, "acoustic_model.", 15)) return 0;
    const char *p = name + 15;
    c->depth = 0;
    while (*p >= '0' && *p <= '9' && c->depth < 4) {
        char *end;
        long v = strtol(p, &end, 10);
        if (v > 100000 || *end != '.') return 0;
        c->path[c->depth++] = (int)v;
        p = end + 1;
    }
    if (!c->depth) return 0;
    *is_bias = !strcmp(p, "bias");
    return *is_bias || !strcmp(p, "weight");
}

/* Maps torchaudio names onto layers in the order of their module paths. */
static int torchaudio_names(const nk_safetensors *st, const char *path, int L, char ***out) {
    int n = nk_st_count(st), found = 0;
    ta_conv *convs = calloc(n ? n : 1, sizeof *convs);
    if (!convs) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    int rc = NK_OK;
    for (int i = 0; i < n && !rc; i++) {
        const char *name = nk_st_at(st, i)->name;
        ta_conv c = {0};
        int is_bias, j;
        if (!ta_parse(name, &c, &is_bias)) {
            rc = nk_fail(NK_ERR_FORMAT, "%s: tensor \"%s\" is not a torchaudio Wav2Letter conv "
                                        "parameter (acoustic_model.N.weight/bias)", path, name);
            break;
        }
        for (j = 0; j < found && ta_cmp(&convs[j], &c); j++) {}
        if (j == found) convs[found++] = c;
        if (is_bias) convs[j].bias = name;
        else convs[j].weight = name;
    }
    if (!rc && found != L)
        rc = nk_fail(NK_ERR_FORMAT, "%s: holds %d convolutions but the architecture has %d layers",
                     path, found, L);
    qsort(convs, found, sizeof *convs, ta_cmp);
    char **names = rc ? NULL : calloc(2 * L, sizeof *names);
    if (!rc && !names) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    for (int l = 0; !rc && l < L; l++) {
        if (!convs[l].weight || !convs[l].bias) {
            rc = nk_fail(NK_ERR_FORMAT, "%s: convolution %d (\"%s\") lacks its %s", path, l,
                         convs[l].weight ? convs[l].weight : convs[l].bias,
                         convs[l].weight ? "bias" : "weight");
            break;
        }
        names[2 * l] = strdup(convs[l].weight);
        names[2 * l + 1] = strdup(convs[l].bias);
        if (!names[2 * l] || !names[2 * l + 1]) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    }
    free(convs);
    if (rc) free_names(names, 2 * L);
    else *out = names;
    return rc;
}

/* The shared tail of load and import: a model for arch filled from st. */
static int model_from(const nk_arch *arch, const nk_safetensors *st, const char *path,
                      int torchaudio, nk_model **out) {
    char **names = NULL;
    int L = arch->n_layers, rc;
    if (torchaudio) {
        rc = torchaudio_names(st, path, L, &names);
    } else {
        names = napkit_names(L);
        rc = names ? NK_OK : nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    }
    nk_model *m = NULL;
    if (!rc) rc = nk_model_new(arch, &m);
    if (!rc) rc = read_layers(m, st, path, names);
    free_names(names, 2 * L);
    if (rc) nk_model_free(m);
    else *out = m;
    return rc;
}

/* The onset delay as metadata text: the shortest decimal that reads back as
 * the same double, so a stored 0.121 stays "0.121". */
static void format_delay(double seconds, char buf[32]) {
    for (int digits = 6; digits <= 17; digits++) {
        snprintf(buf, 32, "%.*g", digits, seconds);
        if (strtod(buf, NULL) == seconds) return;
    }
}

/* The stored onset delay, NAN when the file has none. */
static int read_delay(const nk_safetensors *st, const char *path, double *seconds) {
    const char *text = nk_st_metadata(st, DELAY_KEY);
    *seconds = NAN;
    if (!text) return NK_OK;
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !(fabs(v) <= MAX_DELAY))
        return nk_fail(NK_ERR_FORMAT, "%s: __metadata__ \"" DELAY_KEY "\" is \"%.40s\", not an onset "
                                      "delay in seconds within ±%g", path, text, MAX_DELAY);
    *seconds = v;
    return NK_OK;
}

/* Reads a model from an open file; the file may hold extra tensors only when
 * the caller asked for them (training checkpoints). */
static int model_from_file(const nk_safetensors *st, const char *path, nk_model **out) {
    const char *json = nk_st_metadata(st, ARCH_KEY);
    nk_arch arch;
    double delay;
    int rc = read_delay(st, path, &delay);
    if (rc) return rc;
    if (!json) rc = nk_fail(NK_ERR_FORMAT, "%s: no \"" ARCH_KEY "\" in __metadata__: not a napkit "
                                           "model (import weights with 'napkit model import')", path);
    else rc = nk_arch_parse(json, path, &arch);
    if (!rc) {
        rc = model_from(&arch, st, path, 0, out);
        nk_arch_free(&arch);
    }
    if (!rc) nk_model_set_onset_delay(*out, delay);
    return rc;
}

int nk_model_load(const char *path, nk_model **out) {
    *out = NULL;
    nk_safetensors *st;
    int rc = nk_st_open(path, &st);
    if (rc) return rc;
    rc = model_from_file(st, path, out);
    /* A training checkpoint (napkit.train metadata) also holds the optimizer's
     * state; it loads as the model of its epoch. Anything else must hold only
     * the model. */
    if (!rc && !nk_st_metadata(st, "napkit.train") && nk_st_count(st) != 2 * nk_model_arch(*out)->n_layers) {
        rc = nk_fail(NK_ERR_FORMAT, "%s: holds %d tensors but %s has %d layers (weight and bias each)",
                     path, nk_st_count(st), nk_model_arch(*out)->name, nk_model_arch(*out)->n_layers);
        nk_model_free(*out);
        *out = NULL;
    }
    nk_st_close(st);
    return rc;
}

int nk_model_load_extra(const char *path, nk_model **out, nk_safetensors **st) {
    *out = NULL;
    int rc = nk_st_open(path, st);
    if (rc) return rc;
    rc = model_from_file(*st, path, out);
    if (rc) {
        nk_st_close(*st);
        *st = NULL;
    }
    return rc;
}

int nk_model_import(const nk_arch *arch, const char *weights_path, int torchaudio, nk_model **out) {
    *out = NULL;
    nk_safetensors *st;
    int rc = nk_st_open(weights_path, &st);
    if (rc) return rc;
    rc = model_from(arch, st, weights_path, torchaudio, out);
    if (!rc && nk_st_count(st) != 2 * arch->n_layers) {
        rc = nk_fail(NK_ERR_FORMAT, "%s: holds %d tensors but %s has %d layers (weight and bias each)",
                     weights_path, nk_st_count(st), arch->name, arch->n_layers);
        nk_model_free(*out);
        *out = NULL;
    }
    nk_st_close(st);
    return rc;
}

int nk_model_save(const nk_model *m, const char *path) {
    return nk_model_save_extra(m, path, NULL, 0, NULL, 0);
}

int nk_model_save_extra(const nk_model *m, const char *path, const nk_st_entry *extra, int n_extra,
                        const char *const *meta, int n_meta) {
    const nk_arch *a = nk_model_arch(m);
    int L = a->n_layers;
    char **names = napkit_names(L);
    nk_st_entry *e = calloc(2 * L + n_extra, sizeof *e);
    const char **all_meta = calloc(2 * (n_meta + 3), sizeof *all_meta);
    char *json = nk_arch_to_json(a), delay[32];
    int rc = NK_OK, n_own = 2;
    if (!names || !e || !all_meta || !json) {
        rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    } else {
        for (int l = 0; l < L; l++) {
            const nk_layer_spec *s = &a->layers[l];
            const float *w = nk_model_params((nk_model *)m) + nk_model_layer_offset(m, l);
            e[2 * l] = (nk_st_entry){.name = names[2 * l], .ndim = 3,
                                     .shape = {s->out, s->in, s->kernel}, .data = w};
            e[2 * l + 1] = (nk_st_entry){.name = names[2 * l + 1], .ndim = 1, .shape = {s->out},
                                         .data = w + (size_t)s->out * s->in * s->kernel};
        }
        for (int i = 0; i < n_extra; i++) e[2 * L + i] = extra[i];
        all_meta[0] = ARCH_KEY;
        all_meta[1] = json;
        all_meta[2] = "format";
        all_meta[3] = "pt";
        if (!isnan(nk_model_onset_delay(m))) {
            format_delay(nk_model_onset_delay(m), delay);
            all_meta[2 * n_own] = DELAY_KEY;
            all_meta[2 * n_own++ + 1] = delay;
        }
        for (int i = 0; i < 2 * n_meta; i++) all_meta[2 * n_own + i] = meta[i];
        rc = nk_st_write(path, e, 2 * L + n_extra, all_meta, n_meta + n_own);
    }
    free(json);
    free(all_meta);
    free(e);
    free_names(names, 2 * L);
    return rc;
}

int nk_model_file_set_onset_delay(const char *path, double seconds) {
    if (!isnan(seconds) && !(fabs(seconds) <= MAX_DELAY))
        return nk_fail(NK_ERR_ARG, "%s: onset delay %g s is outside ±%g s", path, seconds, MAX_DELAY);
    /* Only a file that loads as a model gets a delay (a checkpoint does too). */
    nk_model *m;
    nk_safetensors *st;
    int rc = nk_model_load_extra(path, &m, &st);
    if (rc) return rc;
    nk_st_close(st);
    nk_model_free(m);
    char text[32];
    if (!isnan(seconds)) format_delay(seconds, text);
    return nk_st_set_metadata(path, DELAY_KEY, isnan(seconds) ? NULL : text);
}
