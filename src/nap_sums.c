/* NAP sums: creation, the utterance set, shard files and merging. */
#include "nap_impl.h"

#include "napkit/error.h"
#include "napkit/fileio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char shard_magic[8] = {'N', 'K', 'N', 'A', 'P', 'S', '1', '\n'};

cJSON *nap_config_json(const nk_nap_config *c) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "mode", nk_nap_mode_names[c->mode]);
    cJSON_AddStringToObject(o, "center", nk_nap_center_names[c->center]);
    cJSON_AddStringToObject(o, "target", nk_nap_target_names[c->target]);
    cJSON_AddNumberToObject(o, "window", c->window);
    cJSON_AddItemToObject(o, "layers", cJSON_CreateIntArray(c->layers, c->n_layers));
    return o;
}

void nk_nap_sums_free(nk_nap_sums *s) {
    if (!s) return;
    for (int g = 0; g < s->G; g++) free(s->groups[g]);
    for (size_t i = 0; i < s->n_utts; i++) free(s->utts[i]);
    free(s->cfg.layers), free(s->channels), free(s->identity), free(s->groups), free(s->n_events);
    free(s->off), free(s->data), free(s->utts), nk_strindex_free(&s->utt_index);
    free(s);
}

/* Checks a config against layer channel counts; origin prefixes the error. */
static int check_config(const nk_nap_config *c, const char *origin) {
    if (c->mode < NK_NAP_ACT || c->mode > NK_NAP_GRADMASK || c->center < NK_NAP_CENTER_PEAK ||
        c->center > NK_NAP_CENTER_GRAD || c->target < NK_NAP_TARGET_LOGIT || c->target > NK_NAP_TARGET_LOGPROB)
        return nk_fail(NK_ERR_ARG, "%s: unknown mode, centre or target", origin);
    if (c->window < 0 || c->window > NK_NAP_MAX_WINDOW)
        return nk_fail(NK_ERR_ARG, "%s: window %d is outside [0, %d]", origin, c->window, NK_NAP_MAX_WINDOW);
    if (c->n_layers < 1) return nk_fail(NK_ERR_ARG, "%s: no layers chosen", origin);
    for (int i = 1; i < c->n_layers; i++)
        if (c->layers[i] <= c->layers[i - 1])
            return nk_fail(NK_ERR_ARG, "%s: layers must be strictly increasing", origin);
    return NK_OK;
}

/* A sums object with the shape and no groups yet. */
static int sums_alloc(const nk_nap_config *cfg, const int *channels, const char *identity, nk_nap_sums **out) {
    *out = NULL;
    int rc = check_config(cfg, "naps");
    if (rc) return rc;
    cJSON *id = cJSON_Parse(identity ? identity : "{}");
    if (!cJSON_IsObject(id)) {
        cJSON_Delete(id);
        return nk_fail(NK_ERR_ARG, "naps: the identity is not a JSON object");
    }
    nk_nap_sums *s = calloc(1, sizeof *s);
    const int n = cfg->n_layers;
    if (s) {
        s->cfg = *cfg;
        s->cfg.layers = malloc(n * sizeof(int));
        s->channels = malloc(n * sizeof(int));
        s->off = malloc(n * sizeof(size_t));
        s->identity = cJSON_PrintUnformatted(id);
    }
    cJSON_Delete(id);
    if (!s || !s->cfg.layers || !s->channels || !s->off || !s->identity) {
        nk_nap_sums_free(s);
        return nk_fail(NK_ERR_NOMEM, "naps: out of memory");
    }
    const size_t W = 2 * (size_t)cfg->window + 1;
    for (int i = 0; i < n; i++) {
        s->cfg.layers[i] = cfg->layers[i];
        s->channels[i] = channels[i];
        s->off[i] = s->block;
        s->block += W * (1 + 2 * (size_t)channels[i]);
    }
    *out = s;
    return NK_OK;
}

static int find_group(const nk_nap_sums *s, const char *name) {
    for (int g = 0; g < s->G; g++)
        if (!strcmp(s->groups[g], name)) return g;
    return -1;
}

/* Appends a group with zero sums; returns its index or a negative error. */
static int add_group(nk_nap_sums *s, const char *name) {
    if (s->G == s->gcap) {
        int cap = s->gcap ? 2 * s->gcap : 16;
        char **gr = realloc(s->groups, cap * sizeof *gr);
        if (gr) s->groups = gr;
        int64_t *ne = realloc(s->n_events, cap * sizeof *ne);
        if (ne) s->n_events = ne;
        double *d = realloc(s->data, cap * s->block * sizeof *d);
        if (d) s->data = d;
        if (!gr || !ne || !d) return nk_fail(NK_ERR_NOMEM, "naps: out of memory for %d groups", cap);
        s->gcap = cap;
    }
    if (!(s->groups[s->G] = strdup(name))) return nk_fail(NK_ERR_NOMEM, "naps: out of memory");
    s->n_events[s->G] = 0;
    memset(s->data + s->G * s->block, 0, s->block * sizeof *s->data);
    return s->G++;
}

int nk_nap_sums_new(const nk_arch *arch, const nk_nap_config *cfg, const char *const *groups, int G,
                    const char *identity, nk_nap_sums **out) {
    *out = NULL;
    int *channels = malloc((cfg->n_layers > 0 ? cfg->n_layers : 1) * sizeof *channels);
    if (!channels) return nk_fail(NK_ERR_NOMEM, "naps: out of memory");
    int rc = NK_OK;
    for (int i = 0; !rc && i < cfg->n_layers; i++) {
        if (cfg->layers[i] < 0 || cfg->layers[i] >= arch->n_layers)
            rc = nk_fail(NK_ERR_ARG, "naps: layer %d is out of range (the model has layers 0 to %d)",
                         cfg->layers[i], arch->n_layers - 1);
        else channels[i] = arch->layers[cfg->layers[i]].out;
    }
    nk_nap_sums *s = NULL;
    if (!rc) rc = sums_alloc(cfg, channels, identity, &s);
    free(channels);
    for (int g = 0; !rc && g < G; g++) {
        if (find_group(s, groups[g]) >= 0) rc = nk_fail(NK_ERR_ARG, "naps: group \"%s\" is listed twice", groups[g]);
        else if ((rc = add_group(s, groups[g])) > 0) rc = NK_OK;
    }
    if (rc) {
        nk_nap_sums_free(s);
        return rc;
    }
    *out = s;
    return NK_OK;
}

const nk_nap_config *nk_nap_sums_config(const nk_nap_sums *s) { return &s->cfg; }
const char *nk_nap_sums_identity(const nk_nap_sums *s) { return s->identity; }
int nk_nap_sums_n_groups(const nk_nap_sums *s) { return s->G; }
const char *nk_nap_sums_group(const nk_nap_sums *s, int g) { return s->groups[g]; }
int64_t nk_nap_sums_n_events(const nk_nap_sums *s, int g) { return s->n_events[g]; }
int nk_nap_sums_channels(const nk_nap_sums *s, int i) { return s->channels[i]; }
size_t nk_nap_sums_n_utts(const nk_nap_sums *s) { return s->n_utts; }
const char *nk_nap_sums_utt(const nk_nap_sums *s, size_t i) { return s->utts[i]; }
int64_t nk_nap_sums_n_skipped_events(const nk_nap_sums *s) { return s->skipped_events; }

const double *nk_nap_sums_count(const nk_nap_sums *s, int g, int i) {
    return s->data + g * s->block + s->off[i];
}
const double *nk_nap_sums_sum(const nk_nap_sums *s, int g, int i) {
    return nk_nap_sums_count(s, g, i) + 2 * s->cfg.window + 1;
}
const double *nk_nap_sums_sumsq(const nk_nap_sums *s, int g, int i) {
    return nk_nap_sums_sum(s, g, i) + (size_t)s->channels[i] * (2 * s->cfg.window + 1);
}

/* ---- the set of summed utterances ---- */

int nk_nap_sums_has_utt(const nk_nap_sums *s, const char *id) {
    return nk_strindex_find(&s->utt_index, s->utts, id) >= 0;
}

/* Records utterance id as summed; fails if it already is. */
static int add_utt(nk_nap_sums *s, const char *id) {
    if (nk_nap_sums_has_utt(s, id)) return nk_fail(NK_ERR_ARG, "naps: utterance %s is summed twice", id);
    if (s->n_utts == s->utt_cap) {
        size_t cap = s->utt_cap ? 2 * s->utt_cap : 64;
        char **u = realloc(s->utts, cap * sizeof *u);
        if (!u) return nk_fail(NK_ERR_NOMEM, "naps: out of memory");
        s->utts = u, s->utt_cap = cap;
    }
    if (!(s->utts[s->n_utts] = strdup(id))) return nk_fail(NK_ERR_NOMEM, "naps: out of memory");
    return nk_strindex_add(&s->utt_index, s->utts, ++s->n_utts);
}

void nap_sums_add_block(nk_nap_sums *s, int g, const double *block, int64_t n_events) {
    double *d = s->data + g * s->block;
    for (size_t j = 0; j < s->block; j++) d[j] += block[j];
    s->n_events[g] += n_events;
}

int nap_sums_add_utt(nk_nap_sums *s, const char *id, int64_t skipped) {
    s->skipped_events += skipped;
    return add_utt(s, id);
}

/* ---- merging ---- */

static int same_shape(const nk_nap_sums *a, const nk_nap_sums *b) {
    if (a->cfg.mode != b->cfg.mode || a->cfg.center != b->cfg.center || a->cfg.target != b->cfg.target ||
        a->cfg.window != b->cfg.window || a->cfg.n_layers != b->cfg.n_layers)
        return 0;
    for (int i = 0; i < a->cfg.n_layers; i++)
        if (a->cfg.layers[i] != b->cfg.layers[i] || a->channels[i] != b->channels[i]) return 0;
    return 1;
}

int nk_nap_sums_merge(nk_nap_sums *into, const nk_nap_sums *from) {
    if (!same_shape(into, from))
        return nk_fail(NK_ERR_ARG, "naps merge: the shards were made with different settings (mode, centre, "
                                   "target, window or layers)");
    if (strcmp(into->identity, from->identity))
        return nk_fail(NK_ERR_ARG, "naps merge: the shards come from different runs (identity %s vs %s)",
                       into->identity, from->identity);
    for (size_t i = 0; i < from->n_utts; i++)
        if (nk_nap_sums_has_utt(into, from->utts[i]))
            return nk_fail(NK_ERR_ARG, "naps merge: utterance %s is in both shards (it would count twice)",
                           from->utts[i]);
    for (int g = 0; g < from->G; g++) {
        int k = find_group(into, from->groups[g]);
        if (k < 0 && (k = add_group(into, from->groups[g])) < 0) return k;
        nap_sums_add_block(into, k, from->data + g * from->block, from->n_events[g]);
    }
    into->skipped_events += from->skipped_events;
    for (size_t i = 0; i < from->n_utts; i++) {
        int rc = add_utt(into, from->utts[i]);
        if (rc) return rc;
    }
    return NK_OK;
}

/* ---- shard files ---- */

static cJSON *header_json(const nk_nap_sums *s) {
    cJSON *h = cJSON_CreateObject(), *id = cJSON_Parse(s->identity);
    cJSON *groups = cJSON_CreateArray(), *ne = cJSON_CreateArray(), *utts = cJSON_CreateArray();
    if (!h || !id || !groups || !ne || !utts) {
        cJSON_Delete(h), cJSON_Delete(id), cJSON_Delete(groups), cJSON_Delete(ne), cJSON_Delete(utts);
        return NULL;
    }
    cJSON_AddStringToObject(h, "format", "napkit naps shard");
    cJSON_AddNumberToObject(h, "version", 1);
    cJSON_AddItemToObject(h, "config", nap_config_json(&s->cfg));
    cJSON_AddItemToObject(h, "channels", cJSON_CreateIntArray(s->channels, s->cfg.n_layers));
    cJSON_AddItemToObject(h, "identity", id);
    for (int g = 0; g < s->G; g++) {
        cJSON_AddItemToArray(groups, cJSON_CreateString(s->groups[g]));
        cJSON_AddItemToArray(ne, cJSON_CreateNumber((double)s->n_events[g]));
    }
    cJSON_AddItemToObject(h, "groups", groups);
    cJSON_AddItemToObject(h, "n_events", ne);
    cJSON_AddNumberToObject(h, "skipped_events", (double)s->skipped_events);
    for (size_t i = 0; i < s->n_utts; i++) cJSON_AddItemToArray(utts, cJSON_CreateString(s->utts[i]));
    cJSON_AddItemToObject(h, "utterances", utts);
    return h;
}

static void put_u64(unsigned char *b, uint64_t v) {
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)b[i] << (8 * i);
    return v;
}

int nk_nap_sums_write(const nk_nap_sums *s, const char *path) {
    cJSON *h = header_json(s);
    char *text = h ? cJSON_PrintUnformatted(h) : NULL;
    cJSON_Delete(h);
    if (!text) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    nk_outfile f;
    int rc = nk_outfile_open(&f, path, 1);
    if (!rc) {
        unsigned char len[8], buf[8];
        size_t n = strlen(text), count = (size_t)s->G * s->block;
        put_u64(len, n);
        int ok = fwrite(shard_magic, 8, 1, f.fp) == 1 && fwrite(len, 8, 1, f.fp) == 1 &&
                 fwrite(text, 1, n, f.fp) == n;
        for (size_t i = 0; ok && i < count; i++) { /* little-endian whatever the host */
            uint64_t bits;
            memcpy(&bits, &s->data[i], 8);
            put_u64(buf, bits);
            ok = fwrite(buf, 8, 1, f.fp) == 1;
        }
        rc = ok ? nk_outfile_commit(&f) : nk_fail(NK_ERR_IO, "%s: write failed", path);
        if (!ok) nk_outfile_abort(&f);
    }
    free(text);
    return rc;
}

static const char *json_name(const cJSON *o, const char *key, const char *const *names, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v)) return key;
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], v->valuestring)) return *out = i, NULL;
    return key;
}

/* Integers of a JSON array into a malloc'd (n) array, each in [lo, hi]. */
static int json_ints(const cJSON *a, long lo, long hi, int **out, int *n) {
    *out = NULL;
    if (!cJSON_IsArray(a)) return 0;
    *n = cJSON_GetArraySize(a);
    if (!(*out = malloc((*n > 0 ? *n : 1) * sizeof **out))) return 0;
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, a) {
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi)
            return 0;
        (*out)[i++] = (int)v->valuedouble;
    }
    return 1;
}

/* Builds sums from a parsed header; data is read by the caller. */
static int sums_from_header(const cJSON *h, const char *path, nk_nap_sums **out) {
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(h, "config");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(c, "window");
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(h, "groups");
    const cJSON *ne = cJSON_GetObjectItemCaseSensitive(h, "n_events");
    const cJSON *utts = cJSON_GetObjectItemCaseSensitive(h, "utterances");
    const cJSON *sk = cJSON_GetObjectItemCaseSensitive(h, "skipped_events");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(h, "identity");
    nk_nap_config cfg = {0};
    int mode = 0, center = 0, target = 0, n_ch = 0, *channels = NULL;
    const char *bad = NULL;
    if (!cJSON_IsObject(c)) bad = "config";
    if (!bad) bad = json_name(c, "mode", nk_nap_mode_names, &mode);
    if (!bad) bad = json_name(c, "center", nk_nap_center_names, &center);
    if (!bad) bad = json_name(c, "target", nk_nap_target_names, &target);
    if (!bad && (!cJSON_IsNumber(w) || w->valuedouble < 0 || w->valuedouble > NK_NAP_MAX_WINDOW)) bad = "window";
    if (!bad && !json_ints(cJSON_GetObjectItemCaseSensitive(c, "layers"), 0, 100000, &cfg.layers, &cfg.n_layers))
        bad = "layers";
    if (!bad && (!json_ints(cJSON_GetObjectItemCaseSensitive(h, "channels"), 1, 1 << 20, &channels, &n_ch) ||
                 n_ch != cfg.n_layers))
        bad = "channels";
    if (!bad && !cJSON_IsObject(id)) bad = "identity";
    if (!bad && (!cJSON_IsArray(groups) || !cJSON_IsArray(ne) || cJSON_GetArraySize(groups) != cJSON_GetArraySize(ne)))
        bad = "groups";
    if (!bad && !cJSON_IsArray(utts)) bad = "utterances";
    if (!bad && !(cJSON_IsNumber(sk) && sk->valuedouble >= 0)) bad = "skipped_events";
    int rc = NK_OK;
    nk_nap_sums *s = NULL;
    char *idtext = bad ? NULL : cJSON_PrintUnformatted(id);
    if (bad) rc = nk_fail(NK_ERR_FORMAT, "%s: shard header field \"%s\" is missing or invalid", path, bad);
    else {
        cfg.mode = (nk_nap_mode)mode, cfg.center = (nk_nap_center)center, cfg.target = (nk_nap_target)target;
        cfg.window = (int)w->valuedouble;
        rc = sums_alloc(&cfg, channels, idtext, &s);
        if (rc) rc = nk_fail(rc, "%s: %s", path, nk_last_error());
    }
    free(idtext), free(cfg.layers), free(channels);
    const cJSON *g, *n = ne ? ne->child : NULL;
    if (!rc) cJSON_ArrayForEach(g, groups) {
        if (!cJSON_IsString(g) || find_group(s, g->valuestring) >= 0 || !cJSON_IsNumber(n) || n->valuedouble < 0) {
            rc = nk_fail(NK_ERR_FORMAT, "%s: invalid or repeated group in the shard header", path);
            break;
        }
        int k = add_group(s, g->valuestring);
        if (k < 0) {
            rc = k;
            break;
        }
        s->n_events[k] = (int64_t)n->valuedouble;
        n = n->next;
    }
    if (!rc) {
        s->skipped_events = (int64_t)sk->valuedouble;
        cJSON_ArrayForEach(g, utts) {
            rc = cJSON_IsString(g) ? add_utt(s, g->valuestring)
                                   : nk_fail(NK_ERR_FORMAT, "%s: an utterance id is not a string", path);
            if (rc) {
                rc = nk_fail(NK_ERR_FORMAT, "%s: %s", path, nk_last_error());
                break;
            }
        }
    }
    if (rc) nk_nap_sums_free(s);
    else *out = s;
    return rc;
}

int nk_nap_sums_read(const char *path, nk_nap_sums **out) {
    *out = NULL;
    char *buf;
    size_t size;
    int rc = nk_read_file(path, &buf, &size);
    if (rc) return rc;
    const unsigned char *b = (const unsigned char *)buf;
    uint64_t hlen = size >= 16 ? get_u64(b + 8) : 0;
    if (size < 16 || memcmp(buf, shard_magic, 8))
        rc = nk_fail(NK_ERR_FORMAT, "%s: not a napkit NAP shard (bad magic)", path);
    else if (hlen > size - 16)
        rc = nk_fail(NK_ERR_FORMAT, "%s: truncated shard (header of %llu bytes in a %zu-byte file)", path,
                     (unsigned long long)hlen, size);
    cJSON *h = rc ? NULL : cJSON_ParseWithLength(buf + 16, (size_t)hlen);
    if (!rc && !cJSON_IsObject(h)) rc = nk_fail(NK_ERR_FORMAT, "%s: the shard header is not a JSON object", path);
    nk_nap_sums *s = NULL;
    if (!rc) rc = sums_from_header(h, path, &s);
    cJSON_Delete(h);
    if (!rc) {
        size_t count = (size_t)s->G * s->block, have = (size - 16 - (size_t)hlen) / 8;
        if (have != count || (size - 16 - hlen) % 8)
            rc = nk_fail(NK_ERR_FORMAT, "%s: the shard holds %zu bytes of sums, its header says %zu", path,
                         (size_t)(size - 16 - hlen), count * 8);
        const unsigned char *d = b + 16 + hlen;
        for (size_t i = 0; !rc && i < count; i++) {
            uint64_t bits = get_u64(d + 8 * i);
            memcpy(&s->data[i], &bits, 8);
            if (!isfinite(s->data[i])) rc = nk_fail(NK_ERR_FORMAT, "%s: sum %zu is not finite", path, i);
        }
    }
    free(buf);
    if (rc) nk_nap_sums_free(s);
    else *out = s;
    return rc;
}
