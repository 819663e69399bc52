#include "napkit/npy.h"

#include "napkit/error.h"
#include "napkit/fileio.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dtype_descr(nk_dtype t) {
    switch (t) {
    case NK_F32: return "<f4";
    case NK_F64: return "<f8";
    default: return "<i4";
    }
}

size_t nk_dtype_size(nk_dtype t) { return t == NK_F64 ? 8 : 4; }

size_t nk_array_count(const nk_array *a) {
    size_t n = 1;
    for (int i = 0; i < a->ndim; i++) n *= (size_t)a->shape[i];
    return n;
}

void nk_array_free(nk_array *a) {
    free(a->data);
    a->data = NULL;
    a->ndim = 0;
}

int nk_npy_write(const char *path, nk_dtype dtype, int ndim, const long *shape, const void *data) {
    if (ndim < 0 || ndim > NK_NPY_MAX_DIMS)
        return nk_fail(NK_ERR_ARG, "%s: cannot write an array of %d dimensions", path, ndim);
    char dict[512];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                       dtype_descr(dtype));
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return nk_fail(NK_ERR_ARG, "%s: negative dimension", path);
        len += snprintf(dict + len, sizeof dict - len, ndim == 1 ? "%ld," : (i ? ", %ld" : "%ld"),
                        shape[i]);
        count *= (size_t)shape[i];
    }
    len += snprintf(dict + len, sizeof dict - len, "), }");
    /* Magic (6) + version (2) + header length (2) + dict padded with spaces and
     * a newline to a multiple of 64 bytes, as NumPy writes it. */
    size_t header = 10 + (size_t)len + 1;
    size_t padded = (header + 63) / 64 * 64;
    nk_outfile f;
    int rc = nk_outfile_open(&f, path, 1);
    if (rc) return rc;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    uint16_t hlen = (uint16_t)(padded - 10);
    pre[8] = hlen & 0xff;
    pre[9] = hlen >> 8;
    fwrite(pre, 1, 10, f.fp);
    fwrite(dict, 1, (size_t)len, f.fp);
    for (size_t i = header; i < padded; i++) fputc(' ', f.fp);
    fputc('\n', f.fp);
    fwrite(data, nk_dtype_size(dtype), count, f.fp);
    return nk_outfile_commit(&f);
}

/* Finds `'key':` in the header dict and returns a pointer past the colon. */
static const char *dict_value(const char *dict, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(dict, pat);
    if (!p) return NULL;
    p = strchr(p + strlen(pat), ':');
    if (!p) return NULL;
    p++;
    while (isspace((unsigned char)*p)) p++;
    return p;
}

static int parse_header(const char *path, const char *dict, nk_array *a) {
    const char *descr = dict_value(dict, "descr");
    const char *fortran = dict_value(dict, "fortran_order");
    const char *shape = dict_value(dict, "shape");
    if (!descr || !fortran || !shape)
        return nk_fail(NK_ERR_FORMAT, "%s: .npy header lacks descr, fortran_order or shape", path);
    if (!strncmp(descr, "'<f4'", 5)) a->dtype = NK_F32;
    else if (!strncmp(descr, "'<f8'", 5)) a->dtype = NK_F64;
    else if (!strncmp(descr, "'<i4'", 5)) a->dtype = NK_I32;
    else {
        char d[16] = {0};
        sscanf(descr, "'%15[^']", d);
        return nk_fail(NK_ERR_FORMAT, "%s: unsupported dtype '%s' (napkit reads <f4, <f8, <i4)", path, d);
    }
    if (strncmp(fortran, "False", 5) != 0)
        return nk_fail(NK_ERR_FORMAT, "%s: Fortran-ordered arrays are not supported", path);
    if (*shape != '(') return nk_fail(NK_ERR_FORMAT, "%s: malformed shape in .npy header", path);
    const char *p = shape + 1;
    a->ndim = 0;
    for (;;) {
        while (isspace((unsigned char)*p) || *p == ',') p++;
        if (*p == ')') break;
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || a->ndim == NK_NPY_MAX_DIMS)
            return nk_fail(NK_ERR_FORMAT, "%s: malformed shape in .npy header", path);
        a->shape[a->ndim++] = v;
        p = end;
    }
    return NK_OK;
}

int nk_npy_read(const char *path, nk_array *out) {
    memset(out, 0, sizeof *out);
    char *buf;
    size_t size;
    int rc = nk_read_file(path, &buf, &size);
    if (rc) return rc;
    const unsigned char *u = (const unsigned char *)buf;
    if (size < 10 || memcmp(u, "\x93NUMPY", 6) != 0) {
        free(buf);
        return nk_fail(NK_ERR_FORMAT, "%s: not a .npy file (bad magic)", path);
    }
    size_t hlen, hstart;
    if (u[6] == 1) {
        hlen = u[8] | (size_t)u[9] << 8;
        hstart = 10;
    } else if ((u[6] == 2 || u[6] == 3) && size >= 12) {
        hlen = u[8] | (size_t)u[9] << 8 | (size_t)u[10] << 16 | (size_t)u[11] << 24;
        hstart = 12;
    } else {
        int major = u[6], minor = u[7];
        free(buf);
        return nk_fail(NK_ERR_FORMAT, "%s: unsupported .npy version %d.%d", path, major, minor);
    }
    if (hstart + hlen > size) {
        free(buf);
        return nk_fail(NK_ERR_FORMAT, "%s: truncated .npy header", path);
    }
    char *dict = strndup(buf + hstart, hlen);
    rc = dict ? parse_header(path, dict, out) : nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    free(dict);
    if (rc) {
        free(buf);
        return rc;
    }
    size_t bytes = nk_array_count(out) * nk_dtype_size(out->dtype);
    size_t have = size - hstart - hlen;
    if (have < bytes) {
        free(buf);
        return nk_fail(NK_ERR_FORMAT, "%s: truncated .npy data (%zu of %zu bytes)", path, have, bytes);
    }
    out->data = malloc(bytes ? bytes : 1);
    if (!out->data) {
        free(buf);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(out->data, buf + hstart + hlen, bytes);
    free(buf);
    return NK_OK;
}

static int read_as_f32(const char *path, nk_array *out, int require_finite) {
    int rc = nk_npy_read(path, out);
    if (rc) return rc;
    size_t n = nk_array_count(out);
    if (out->dtype != NK_F32) {
        float *f = malloc(n ? n * sizeof *f : 1);
        if (!f) {
            nk_array_free(out);
            return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
        }
        for (size_t i = 0; i < n; i++)
            f[i] = out->dtype == NK_F64 ? (float)((double *)out->data)[i]
                                        : (float)((int32_t *)out->data)[i];
        free(out->data);
        out->data = f;
        out->dtype = NK_F32;
    }
    const float *f = out->data;
    for (size_t i = 0; require_finite && i < n; i++) {
        if (!isfinite(f[i])) {
            nk_array_free(out);
            return nk_fail(NK_ERR_NUMERIC, "%s: element %zu is not finite", path, i);
        }
    }
    return NK_OK;
}

int nk_npy_read_f32(const char *path, nk_array *out) { return read_as_f32(path, out, 1); }

int nk_npy_read_f32_nan(const char *path, nk_array *out) { return read_as_f32(path, out, 0); }
