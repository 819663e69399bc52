#include "napkit/arch.h"

#include "napkit/error.h"
#include "napkit/fileio.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const nk_activation_names[] = {"none", "relu", "hardtanh", NULL};

/* Reads an optional integer field into *v (left unchanged when absent). */
static int get_int(const cJSON *obj, const char *key, long lo, long hi, const char *where,
                   const char *origin, int *v) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) return NK_OK;
    double d = cJSON_IsNumber(it) ? it->valuedouble : NAN;
    if (!(d == floor(d)) || d < lo || d > hi)
        return nk_fail(NK_ERR_FORMAT, "%s: %s\"%s\" must be an integer in [%ld, %ld]", origin,
                       where, key, lo, hi);
    *v = (int)d;
    return NK_OK;
}

static int get_double(const cJSON *obj, const char *key, const char *where, const char *origin,
                      double *v) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) return NK_OK;
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
        return nk_fail(NK_ERR_FORMAT, "%s: %s\"%s\" must be a number", origin, where, key);
    *v = it->valuedouble;
    return NK_OK;
}

/* Reads an optional name field, mapping it through a NULL-terminated table. */
static int get_name(const cJSON *obj, const char *key, const char *const *names,
                    const char *where, const char *origin, int *v) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) return NK_OK;
    if (cJSON_IsString(it)) {
        for (int i = 0; names[i]; i++) {
            if (!strcmp(it->valuestring, names[i])) {
                *v = i;
                return NK_OK;
            }
        }
    }
    return nk_fail(NK_ERR_FORMAT, "%s: %s\"%s\" has an unknown value (expected %s%s%s...)", origin,
                   where, key, names[0], names[1] ? " or " : "", names[1] ? names[1] : "");
}

static int parse_frontend(const cJSON *fe, const char *origin, nk_frontend_config *c) {
    nk_frontend_config_default(c);
    if (!fe) return NK_OK;
    if (!cJSON_IsObject(fe)) return nk_fail(NK_ERR_FORMAT, "%s: \"frontend\" must be an object", origin);
    const char *w = "frontend ";
    int kind = c->kind, scale = c->mel_scale, log_kind = c->log, norm = c->normalize;
    int rc = get_name(fe, "kind", nk_feature_kind_names, w, origin, &kind);
    if (!rc) rc = get_int(fe, "sample_rate", 1000, 384000, w, origin, &c->sample_rate);
    if (!rc) rc = get_int(fe, "n_fft", 16, 65536, w, origin, &c->n_fft);
    if (!rc) rc = get_int(fe, "win", 1, 65536, w, origin, &c->win);
    if (!rc) rc = get_int(fe, "hop", 1, 65536, w, origin, &c->hop);
    if (!rc) rc = get_int(fe, "n_mels", 1, 4096, w, origin, &c->n_mels);
    if (!rc) rc = get_int(fe, "n_mfcc", 1, 4096, w, origin, &c->n_mfcc);
    if (!rc) rc = get_name(fe, "mel_scale", nk_mel_scale_names, w, origin, &scale);
    if (!rc) rc = get_int(fe, "slaney_norm", 0, 1, w, origin, &c->slaney_norm);
    if (!rc) rc = get_double(fe, "f_min", w, origin, &c->f_min);
    if (!rc) rc = get_double(fe, "f_max", w, origin, &c->f_max);
    if (!rc) rc = get_name(fe, "log", nk_log_kind_names, w, origin, &log_kind);
    if (!rc) rc = get_double(fe, "log_offset", w, origin, &c->log_offset);
    if (!rc) rc = get_double(fe, "top_db", w, origin, &c->top_db);
    if (!rc) rc = get_name(fe, "normalize", nk_normalize_names, w, origin, &norm);
    if (rc) return rc;
    c->kind = (nk_feature_kind)kind;
    c->mel_scale = (nk_mel_scale)scale;
    c->log = (nk_log_kind)log_kind;
    c->normalize = (nk_normalize)norm;
    if (nk_frontend_config_check(c))
        return nk_fail(NK_ERR_FORMAT, "%s: frontend: %s", origin, nk_last_error());
    return NK_OK;
}

static int parse_layer(const cJSON *js, int l, const char *origin, nk_layer_spec *s) {
    char where[32];
    snprintf(where, sizeof where, "layer %d: ", l);
    if (!cJSON_IsObject(js)) return nk_fail(NK_ERR_FORMAT, "%s: %smust be an object", origin, where);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(js, "type");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "conv1d"))
        return nk_fail(NK_ERR_FORMAT, "%s: %s\"type\" must be \"conv1d\"", origin, where);
    *s = (nk_layer_spec){.in = 0, .out = 0, .kernel = 0, .stride = 1, .padding = 0,
                         .dilation = 1, .activation = NK_ACT_RELU};
    int act = s->activation;
    int rc = get_int(js, "in", 1, 65536, where, origin, &s->in);
    if (!rc) rc = get_int(js, "out", 1, 65536, where, origin, &s->out);
    if (!rc) rc = get_int(js, "kernel", 1, 4096, where, origin, &s->kernel);
    if (!rc) rc = get_int(js, "stride", 1, 1024, where, origin, &s->stride);
    if (!rc) rc = get_int(js, "padding", 0, 65536, where, origin, &s->padding);
    if (!rc) rc = get_int(js, "dilation", 1, 1024, where, origin, &s->dilation);
    if (!rc) rc = get_name(js, "activation", nk_activation_names, where, origin, &act);
    if (rc) return rc;
    s->activation = (nk_activation)act;
    if (!s->in || !s->out || !s->kernel)
        return nk_fail(NK_ERR_FORMAT, "%s: %s\"in\", \"out\" and \"kernel\" are required", origin, where);
    return NK_OK;
}

static int frontend_dim(const nk_frontend_config *c) {
    return c->kind == NK_FEAT_POWER ? c->n_fft / 2 + 1 : c->kind == NK_FEAT_MFCC ? c->n_mfcc : c->n_mels;
}

/* Cross-field consistency: chained channels, front end → first layer, last layer → alphabet. */
static int check_arch(const nk_arch *a, const char *origin) {
    if (frontend_dim(&a->frontend) != a->layers[0].in)
        return nk_fail(NK_ERR_FORMAT, "%s: the front end gives %d features but layer 0 takes %d",
                       origin, frontend_dim(&a->frontend), a->layers[0].in);
    for (int l = 1; l < a->n_layers; l++)
        if (a->layers[l].in != a->layers[l - 1].out)
            return nk_fail(NK_ERR_FORMAT, "%s: layer %d takes %d channels but layer %d gives %d",
                           origin, l, a->layers[l].in, l - 1, a->layers[l - 1].out);
    if (a->layers[a->n_layers - 1].out != a->n_classes)
        return nk_fail(NK_ERR_FORMAT, "%s: the last layer gives %d channels but the alphabet has %d",
                       origin, a->layers[a->n_layers - 1].out, a->n_classes);
    for (int i = 0; i < a->n_classes; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(a->alphabet[i], a->alphabet[j]))
                return nk_fail(NK_ERR_FORMAT, "%s: alphabet entry \"%s\" appears twice", origin,
                               a->alphabet[i]);
    return NK_OK;
}

static int parse_root(const cJSON *root, const char *origin, nk_arch *a) {
    if (!cJSON_IsObject(root)) return nk_fail(NK_ERR_FORMAT, "%s: not a JSON object", origin);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
    a->name = strdup(cJSON_IsString(name) ? name->valuestring : "unnamed");
    const cJSON *alpha = cJSON_GetObjectItemCaseSensitive(root, "alphabet");
    int K = cJSON_IsArray(alpha) ? cJSON_GetArraySize(alpha) : 0;
    if (K < 2 || K > 65536)
        return nk_fail(NK_ERR_FORMAT, "%s: \"alphabet\" must be an array of 2 to 65536 strings", origin);
    a->alphabet = calloc(K, sizeof *a->alphabet);
    if (!a->name || !a->alphabet) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", origin);
    a->n_classes = K;
    int k = 0;
    for (const cJSON *s = alpha->child; s; s = s->next, k++) {
        if (!cJSON_IsString(s) || !s->valuestring[0])
            return nk_fail(NK_ERR_FORMAT, "%s: alphabet entry %d must be a non-empty string", origin, k);
        if (!(a->alphabet[k] = strdup(s->valuestring)))
            return nk_fail(NK_ERR_NOMEM, "%s: out of memory", origin);
    }
    int rc = get_int(root, "blank", 0, K - 1, "", origin, &a->blank);
    if (rc) return rc;
    rc = parse_frontend(cJSON_GetObjectItemCaseSensitive(root, "frontend"), origin, &a->frontend);
    if (rc) return rc;
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
    int L = cJSON_IsArray(layers) ? cJSON_GetArraySize(layers) : 0;
    if (L < 1 || L > 1024)
        return nk_fail(NK_ERR_FORMAT, "%s: \"layers\" must be an array of 1 to 1024 layers", origin);
    if (!(a->layers = calloc(L, sizeof *a->layers)))
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", origin);
    a->n_layers = L;
    int l = 0;
    for (const cJSON *js = layers->child; js; js = js->next, l++)
        if ((rc = parse_layer(js, l, origin, &a->layers[l]))) return rc;
    return check_arch(a, origin);
}

int nk_arch_parse(const char *json, const char *origin, nk_arch *out) {
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_Parse(json);
    if (!root) return nk_fail(NK_ERR_FORMAT, "%s: invalid JSON near \"%.20s\"", origin,
                              cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
    int rc = parse_root(root, origin, out);
    cJSON_Delete(root);
    if (rc) nk_arch_free(out);
    return rc;
}

int nk_arch_load(const char *path, nk_arch *out) {
    char *text;
    memset(out, 0, sizeof *out);
    int rc = nk_read_file(path, &text, NULL);
    if (rc) return rc;
    rc = nk_arch_parse(text, path, out);
    free(text);
    return rc;
}

static cJSON *frontend_to_json(const nk_frontend_config *c) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", nk_feature_kind_names[c->kind]);
    cJSON_AddNumberToObject(o, "sample_rate", c->sample_rate);
    cJSON_AddNumberToObject(o, "n_fft", c->n_fft);
    cJSON_AddNumberToObject(o, "win", c->win);
    cJSON_AddNumberToObject(o, "hop", c->hop);
    cJSON_AddNumberToObject(o, "n_mels", c->n_mels);
    cJSON_AddNumberToObject(o, "n_mfcc", c->n_mfcc);
    cJSON_AddStringToObject(o, "mel_scale", nk_mel_scale_names[c->mel_scale]);
    cJSON_AddNumberToObject(o, "slaney_norm", c->slaney_norm);
    cJSON_AddNumberToObject(o, "f_min", c->f_min);
    cJSON_AddNumberToObject(o, "f_max", c->f_max);
    cJSON_AddStringToObject(o, "log", nk_log_kind_names[c->log]);
    cJSON_AddNumberToObject(o, "log_offset", c->log_offset);
    cJSON_AddNumberToObject(o, "top_db", c->top_db);
    cJSON_AddStringToObject(o, "normalize", nk_normalize_names[c->normalize]);
    return o;
}

char *nk_arch_to_json(const nk_arch *a) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "name", a->name);
    cJSON_AddItemToObject(root, "alphabet",
                          cJSON_CreateStringArray((const char *const *)a->alphabet, a->n_classes));
    cJSON_AddNumberToObject(root, "blank", a->blank);
    cJSON_AddItemToObject(root, "frontend", frontend_to_json(&a->frontend));
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    for (int l = 0; l < a->n_layers; l++) {
        const nk_layer_spec *s = &a->layers[l];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", "conv1d");
        cJSON_AddNumberToObject(o, "in", s->in);
        cJSON_AddNumberToObject(o, "out", s->out);
        cJSON_AddNumberToObject(o, "kernel", s->kernel);
        cJSON_AddNumberToObject(o, "stride", s->stride);
        cJSON_AddNumberToObject(o, "padding", s->padding);
        cJSON_AddNumberToObject(o, "dilation", s->dilation);
        cJSON_AddStringToObject(o, "activation", nk_activation_names[s->activation]);
        cJSON_AddItemToArray(layers, o);
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

/* A copy through JSON keeps one source of truth for every field. */
int nk_arch_copy(const nk_arch *a, nk_arch *out) {
    char *text = nk_arch_to_json(a);
    if (!text) return nk_fail(NK_ERR_NOMEM, "architecture: out of memory");
    int rc = nk_arch_parse(text, a->name, out);
    free(text);
    return rc;
}

void nk_arch_free(nk_arch *a) {
    if (a->alphabet)
        for (int k = 0; k < a->n_classes; k++) free(a->alphabet[k]);
    free(a->alphabet);
    free(a->layers);
    free(a->name);
    memset(a, 0, sizeof *a);
}

int nk_arch_input_dim(const nk_arch *a) { return a->layers[0].in; }

size_t nk_arch_param_count(const nk_arch *a) {
    size_t n = 0;
    for (int l = 0; l < a->n_layers; l++) {
        const nk_layer_spec *s = &a->layers[l];
        n += (size_t)s->out * s->in * s->kernel + s->out;
    }
    return n;
}

int nk_arch_frames(const nk_arch *a, int T, int *lens) {
    long t = T;
    for (int l = 0; l < a->n_layers; l++) {
        const nk_layer_spec *s = &a->layers[l];
        long span = (long)s->dilation * (s->kernel - 1) + 1;
        long n = t + 2L * s->padding - span;
        if (n < 0)
            return nk_fail(NK_ERR_ARG, "%d input frames are too few: layer %d gets %ld frames "
                                       "(padding %d each side) but its kernel spans %ld",
                           T, l, t, s->padding, span);
        t = n / s->stride + 1;
        lens[l] = (int)t;
    }
    return NK_OK;
}

int nk_arch_receptive_field(const nk_arch *a, int layer) {
    long rf = 1, jump = 1;
    for (int l = 0; l <= layer && l < a->n_layers; l++) {
        rf += (long)(a->layers[l].kernel - 1) * a->layers[l].dilation * jump;
        jump *= a->layers[l].stride;
    }
    return (int)rf;
}

int nk_arch_total_stride(const nk_arch *a, int layer) {
    long jump = 1;
    for (int l = 0; l <= layer && l < a->n_layers; l++) jump *= a->layers[l].stride;
    return (int)jump;
}

double nk_arch_flops_per_frame(const nk_arch *a) {
    /* Layer l runs stride(l+1..L-1) times per final output frame. */
    double flops = 0, later = 1;
    for (int l = a->n_layers - 1; l >= 0; l--) {
        const nk_layer_spec *s = &a->layers[l];
        flops += 2.0 * s->out * s->in * s->kernel * later;
        later *= s->stride;
    }
    return flops;
}
