/* safetensors files: 8-byte little-endian header length N, N bytes of JSON
 * header, then the raw tensor bytes.
 *
 *   {"__metadata__": {"key": "value", ...},
 *    "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END]}, ...}
 *
 * Offsets are relative to the byte after the header, END exclusive. Reading
 * checks everything before any data is used: the header length against the
 * file size, the JSON, every dtype, shape and offset pair (size = prod(shape) ×
 * dtype size), that the tensors tile the data buffer without holes or overlap,
 * and that no name repeats. Writing produces exactly that layout, F32 only. */
#ifndef NAPKIT_SAFETENSORS_H
#define NAPKIT_SAFETENSORS_H

#include <stddef.h>

#define NK_ST_MAX_DIMS 8

typedef struct {
    const char *name;
    char dtype[8];     /* "F32", "F16", "I64", ... as in the file */
    int ndim;
    long shape[NK_ST_MAX_DIMS];
    size_t nbytes;
    const void *data;  /* inside the file buffer: not aligned, copy with memcpy */
} nk_st_tensor;

typedef struct nk_safetensors nk_safetensors;

int nk_st_open(const char *path, nk_safetensors **out);
/* Same checks on a file already in memory; `origin` names it in errors. The
 * buffer is copied. */
int nk_st_parse(const void *bytes, size_t size, const char *origin, nk_safetensors **out);
void nk_st_close(nk_safetensors *st);

int nk_st_count(const nk_safetensors *st);
const nk_st_tensor *nk_st_at(const nk_safetensors *st, int i); /* in data-offset order */
const nk_st_tensor *nk_st_find(const nk_safetensors *st, const char *name);
/* A __metadata__ value, or NULL when the key is absent. */
const char *nk_st_metadata(const nk_safetensors *st, const char *key);

/* Copies an F32 tensor of exactly the given shape into out; a missing tensor,
 * another dtype or another shape fails with a message naming file and tensor. */
int nk_st_read_f32(const nk_safetensors *st, const char *name, int ndim, const long *shape,
                   float *out);

/* One tensor to write. */
typedef struct {
    const char *name;
    int ndim;
    long shape[NK_ST_MAX_DIMS];
    const float *data;
} nk_st_entry;

/* Writes F32 tensors (in the given order) and string metadata (n_meta
 * key/value pairs, keys in meta[2i], values in meta[2i+1]) atomically. */
int nk_st_write(const char *path, const nk_st_entry *tensors, int n, const char *const *meta,
                int n_meta);
/* Sets one __metadata__ value of an existing file (value NULL removes the
 * key), atomically; every tensor (any dtype) and every other key stay as
 * they were. */
int nk_st_set_metadata(const char *path, const char *key, const char *value);

#endif
