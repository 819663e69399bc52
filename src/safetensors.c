#include "napkit/safetensors.h"

#include "napkit/error.h"
#include "napkit/fileio.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reference implementation refuses headers above 100 MB; so do we. */
#define MAX_HEADER (100u << 20)

struct nk_safetensors {
    char *origin;          /* the file name, for messages */
    unsigned char *bytes;  /* the whole file */
    size_t size;
    cJSON *header;
    cJSON *metadata;       /* inside header, or NULL */
    int n;
    nk_st_tensor *tensors; /* sorted by data offset */
};

static const struct {
    const char *name;
    size_t size;
} dtypes[] = {{"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
              {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
              {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8}};

static size_t dtype_size(const char *name) {
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (!strcmp(name, dtypes[i].name)) return dtypes[i].size;
    return 0;
}

/* A JSON number that is an exact non-negative integer below 2^53. */
static int get_count(const cJSON *it, uint64_t *v) {
    if (!cJSON_IsNumber(it)) return 0;
    double d = it->valuedouble;
    if (!(d >= 0 && d < 9007199254740992.0 && d == floor(d))) return 0;
    *v = (uint64_t)d;
    return 1;
}

static int parse_entry(const cJSON *e, const char *origin, size_t data_size, nk_st_tensor *t) {
    t->name = e->string;
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsObject(e) || !cJSON_IsString(dtype) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs))
        return nk_fail(NK_ERR_FORMAT, "%s: tensor \"%s\" needs \"dtype\", \"shape\" and "
                                      "\"data_offsets\"", origin, t->name);
    size_t esize = dtype_size(dtype->valuestring);
    if (!esize || strlen(dtype->valuestring) >= sizeof t->dtype)
        return nk_fail(NK_ERR_FORMAT, "%s: tensor \"%s\" has unknown dtype \"%.16s\"", origin,
                       t->name, dtype->valuestring);
    strcpy(t->dtype, dtype->valuestring);
    t->ndim = cJSON_GetArraySize(shape);
    if (t->ndim > NK_ST_MAX_DIMS)
        return nk_fail(NK_ERR_FORMAT, "%s: tensor \"%s\" has %d dimensions (at most %d)", origin,
                       t->name, t->ndim, NK_ST_MAX_DIMS);
    /* Bound the product by the data size so it cannot overflow. */
    uint64_t count = 1, dim;
    int i = 0;
    for (const cJSON *d = shape->child; d; d = d->next, i++) {
        if (!get_count(d, &dim))
            return nk_fail(NK_ERR_FORMAT, "%s: tensor \"%s\": shape entries must be non-negative "
                                          "integers", origin, t->name);
        t->shape[i] = (long)dim;
        if (dim && count > data_size / dim) count = (uint64_t)data_size + 1;
        else count *= dim;
    }
    uint64_t begin, end;
    if (cJSON_GetArraySize(offs) != 2 || !get_count(offs->child, &begin) ||
        !get_count(offs->child->next, &end) || begin > end || end > data_size)
        return nk_fail(NK_ERR_FORMAT, "%s: tensor \"%s\": data_offsets must be [BEGIN, END] with "
                                      "0 <= BEGIN <= END <= %zu (the data size)", origin, t->name,
                       data_size);
    if (count > data_size || count * esize != end - begin)
        return nk_fail(NK_ERR_FORMAT, "%s: tensor \"%s\": shape needs %llu bytes of %s but "
                                      "data_offsets give %llu", origin, t->name,
                       (unsigned long long)(count * esize), t->dtype,
                       (unsigned long long)(end - begin));
    t->nbytes = end - begin;
    t->data = (const void *)(uintptr_t)begin; /* made absolute once the buffer is known */
    return NK_OK;
}

static int by_offset(const void *a, const void *b) {
    const nk_st_tensor *s = a, *t = b;
    uintptr_t x = (uintptr_t)s->data, y = (uintptr_t)t->data;
    /* Empty tensors sort before a tensor starting at the same offset. */
    if (x == y) return s->nbytes < t->nbytes ? -1 : s->nbytes > t->nbytes;
    return x < y ? -1 : 1;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const nk_st_tensor *)a)->name, ((const nk_st_tensor *)b)->name);
}

/* Checks a header already parsed as JSON and fills the tensor table. */
static int parse_tensors(nk_safetensors *st, const char *origin, size_t data_size) {
    int n = 0;
    for (const cJSON *e = st->header->child; e; e = e->next) {
        if (!strcmp(e->string, "__metadata__")) {
            if (st->metadata || !cJSON_IsObject(e))
                return nk_fail(NK_ERR_FORMAT, "%s: \"__metadata__\" must be one object", origin);
            for (const cJSON *m = e->child; m; m = m->next)
                if (!cJSON_IsString(m))
                    return nk_fail(NK_ERR_FORMAT, "%s: metadata \"%s\" is not a string", origin,
                                   m->string);
            st->metadata = (cJSON *)e;
        } else {
            n++;
        }
    }
    st->tensors = calloc(n ? n : 1, sizeof *st->tensors);
    if (!st->tensors) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", origin);
    int i = 0;
    for (const cJSON *e = st->header->child; e; e = e->next) {
        if (e == st->metadata) continue;
        int rc = parse_entry(e, origin, data_size, &st->tensors[i++]);
        if (rc) return rc;
    }
    st->n = n;
    qsort(st->tensors, n, sizeof *st->tensors, by_name);
    for (i = 1; i < n; i++)
        if (!strcmp(st->tensors[i].name, st->tensors[i - 1].name))
            return nk_fail(NK_ERR_FORMAT, "%s: tensor \"%s\" appears twice", origin, st->tensors[i].name);
    /* Sorted by offset, the tensors must tile [0, data_size) exactly. */
    qsort(st->tensors, n, sizeof *st->tensors, by_offset);
    size_t pos = 0;
    for (i = 0; i < n; i++) {
        nk_st_tensor *t = &st->tensors[i];
        size_t begin = (uintptr_t)t->data;
        if (begin != pos)
            return nk_fail(NK_ERR_FORMAT, "%s: tensor \"%s\" starts at byte %zu of the data but "
                                          "the previous one ends at %zu (%s)", origin, t->name,
                           begin, pos, begin < pos ? "overlap" : "hole");
        pos = begin + t->nbytes;
        t->data = st->bytes + (st->size - data_size) + begin;
    }
    if (pos != data_size)
        return nk_fail(NK_ERR_FORMAT, "%s: the tensors cover %zu of %zu data bytes", origin, pos,
                       data_size);
    return NK_OK;
}

/* Takes ownership of bytes (malloc'd) whatever happens. */
static int parse_owned(unsigned char *bytes, size_t size, const char *origin, nk_safetensors **out) {
    *out = NULL;
    nk_safetensors *st = calloc(1, sizeof *st);
    if (!st) {
        free(bytes);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", origin);
    }
    st->bytes = bytes;
    st->size = size;
    if (!(st->origin = strdup(origin))) {
        nk_st_close(st);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", origin);
    }
    int rc;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0 && size >= 8; i--) hlen = hlen << 8 | bytes[i];
    const char *end = NULL;
    if (size < 8) {
        rc = nk_fail(NK_ERR_FORMAT, "%s: %zu bytes is too short for a safetensors file", origin, size);
    } else if (hlen > size - 8 || hlen > MAX_HEADER) {
        rc = nk_fail(NK_ERR_FORMAT, "%s: header length %llu exceeds the file (%zu bytes) or the "
                                    "100 MB limit", origin, (unsigned long long)hlen, size);
    } else if (hlen < 2 || bytes[8] != '{') {
        rc = nk_fail(NK_ERR_FORMAT, "%s: the header does not start with '{'", origin);
    } else if (!(st->header = cJSON_ParseWithLengthOpts((const char *)bytes + 8, hlen, &end, 0)) ||
               !cJSON_IsObject(st->header)) {
        rc = nk_fail(NK_ERR_FORMAT, "%s: the header is not a valid JSON object", origin);
    } else {
        rc = NK_OK;
        for (; end < (const char *)bytes + 8 + hlen; end++)
            if (*end != ' ' && *end != '\0')
                rc = nk_fail(NK_ERR_FORMAT, "%s: junk after the header JSON", origin);
        if (!rc) rc = parse_tensors(st, origin, size - 8 - hlen);
    }
    if (rc) nk_st_close(st);
    else *out = st;
    return rc;
}

int nk_st_open(const char *path, nk_safetensors **out) {
    char *bytes;
    size_t size;
    *out = NULL;
    int rc = nk_read_file(path, &bytes, &size);
    return rc ? rc : parse_owned((unsigned char *)bytes, size, path, out);
}

int nk_st_parse(const void *bytes, size_t size, const char *origin, nk_safetensors **out) {
    *out = NULL;
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", origin);
    memcpy(copy, bytes, size);
    return parse_owned(copy, size, origin, out);
}

void nk_st_close(nk_safetensors *st) {
    if (!st) return;
    cJSON_Delete(st->header);
    free(st->tensors);
    free(st->bytes);
    free(st->origin);
    free(st);
}

int nk_st_count(const nk_safetensors *st) { return st->n; }

const nk_st_tensor *nk_st_at(const nk_safetensors *st, int i) {
    return i >= 0 && i < st->n ? &st->tensors[i] : NULL;
}

const nk_st_tensor *nk_st_find(const nk_safetensors *st, const char *name) {
    for (int i = 0; i < st->n; i++)
        if (!strcmp(st->tensors[i].name, name)) return &st->tensors[i];
    return NULL;
}

const char *nk_st_metadata(const nk_safetensors *st, const char *key) {
    const cJSON *v = st->metadata ? cJSON_GetObjectItemCaseSensitive(st->metadata, key) : NULL;
    return v ? v->valuestring : NULL;
}

static void format_shape(char *buf, size_t cap, int ndim, const long *shape) {
    size_t len = snprintf(buf, cap, "(");
    for (int i = 0; i < ndim && len < cap; i++)
        len += snprintf(buf + len, cap - len, i ? ", %ld" : "%ld", shape[i]);
    if (len < cap) snprintf(buf + len, cap - len, ")");
}

int nk_st_read_f32(const nk_safetensors *st, const char *name, int ndim, const long *shape,
                   float *out) {
    const nk_st_tensor *t = nk_st_find(st, name);
    const char *origin = st->origin;
    if (!t) return nk_fail(NK_ERR_FORMAT, "%s: tensor \"%s\" is missing", origin, name);
    if (strcmp(t->dtype, "F32"))
        return nk_fail(NK_ERR_FORMAT, "%s: tensor \"%s\" has dtype %s, expected F32", origin,
                       name, t->dtype);
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
    if (!same) {
        char want[128], got[128];
        format_shape(want, sizeof want, ndim, shape);
        format_shape(got, sizeof got, t->ndim, t->shape);
        return nk_fail(NK_ERR_FORMAT, "%s: tensor \"%s\" has shape %s, expected %s", origin, name,
                       got, want);
    }
    memcpy(out, t->data, t->nbytes);
    for (size_t i = 0; i < t->nbytes / 4; i++)
        if (!isfinite(out[i]))
            return nk_fail(NK_ERR_NUMERIC, "%s: tensor \"%s\" holds a NaN or infinity at element %zu",
                           origin, name, i);
    return NK_OK;
}

static size_t entry_count(const nk_st_entry *e) {
    size_t count = 1;
    for (int d = 0; d < e->ndim; d++) count *= (size_t)e->shape[d];
    return count;
}

/* Opens path for atomic writing and writes the 8-byte length and the header,
 * padded with spaces so the data starts 8-byte aligned, as the reference
 * writer does; the caller writes the data and commits. */
static int open_with_header(nk_outfile *f, const char *path, const cJSON *header) {
    char *json = cJSON_PrintUnformatted(header);
    if (!json) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    size_t len = strlen(json), padded = (8 + len + 7) / 8 * 8 - 8;
    unsigned char prefix[8];
    for (int i = 0; i < 8; i++) prefix[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    int rc = nk_outfile_open(f, path, 1);
    if (!rc) {
        fwrite(prefix, 1, 8, f->fp);
        fwrite(json, 1, len, f->fp);
        for (size_t i = len; i < padded; i++) fputc(' ', f->fp);
    }
    free(json);
    return rc;
}

int nk_st_write(const char *path, const nk_st_entry *tensors, int n, const char *const *meta,
                int n_meta) {
    cJSON *h = cJSON_CreateObject();
    if (n_meta > 0) {
        cJSON *m = cJSON_AddObjectToObject(h, "__metadata__");
        for (int i = 0; i < n_meta; i++) cJSON_AddStringToObject(m, meta[2 * i], meta[2 * i + 1]);
    }
    size_t offset = 0;
    for (int i = 0; i < n; i++) {
        const nk_st_entry *e = &tensors[i];
        cJSON *o = cJSON_AddObjectToObject(h, e->name);
        cJSON_AddStringToObject(o, "dtype", "F32");
        cJSON *shape = cJSON_AddArrayToObject(o, "shape");
        for (int d = 0; d < e->ndim; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber(e->shape[d]));
        cJSON *offs = cJSON_AddArrayToObject(o, "data_offsets");
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)offset));
        offset += entry_count(e) * sizeof(float);
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)offset));
    }
    nk_outfile f;
    int rc = open_with_header(&f, path, h);
    cJSON_Delete(h);
    if (rc) return rc;
    for (int i = 0; i < n; i++) /* empty tensors may have no data pointer */
        if (entry_count(&tensors[i])) fwrite(tensors[i].data, sizeof(float), entry_count(&tensors[i]), f.fp);
    return nk_outfile_commit(&f);
}

int nk_st_set_metadata(const char *path, const char *key, const char *value) {
    nk_safetensors *st;
    int rc = nk_st_open(path, &st);
    if (rc) return rc;
    cJSON *meta = st->metadata;
    if (!meta && value) meta = cJSON_AddObjectToObject(st->header, "__metadata__");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, key);
    if (value && !cJSON_AddStringToObject(meta, key, value)) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    /* The tensors tile the data at the end of the file (checked on open), and
     * their offsets count from the data's start, so the bytes carry over as
     * they are behind the new header. */
    size_t data_size = 0;
    for (int i = 0; i < st->n; i++) data_size += st->tensors[i].nbytes;
    nk_outfile f;
    if (!rc) rc = open_with_header(&f, path, st->header);
    if (!rc) {
        fwrite(st->bytes + st->size - data_size, 1, data_size, f.fp);
        rc = nk_outfile_commit(&f);
    }
    nk_st_close(st);
    return rc;
}
