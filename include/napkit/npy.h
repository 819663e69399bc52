/* NumPy .npy arrays: float32, float64 and int32, C order.
 *
 * Writing uses format version 1.0 so every NumPy loads it; reading accepts
 * versions 1.0–3.0 and rejects anything it cannot represent exactly
 * (big-endian, Fortran order, other dtypes) with a message naming the file. */
#ifndef NAPKIT_NPY_H
#define NAPKIT_NPY_H

#include <stddef.h>

#define NK_NPY_MAX_DIMS 8

typedef enum { NK_F32, NK_F64, NK_I32 } nk_dtype;

typedef struct {
    nk_dtype dtype;
    int ndim;
    long shape[NK_NPY_MAX_DIMS];
    void *data; /* malloc'd, row-major */
} nk_array;

size_t nk_dtype_size(nk_dtype t);
size_t nk_array_count(const nk_array *a); /* product of the shape */
void nk_array_free(nk_array *a);

/* Writes an array atomically. */
int nk_npy_write(const char *path, nk_dtype dtype, int ndim, const long *shape, const void *data);
/* Reads an array of any supported dtype. */
int nk_npy_read(const char *path, nk_array *out);
/* Reads an array and converts it to float32 (NaN/Inf are rejected). */
int nk_npy_read_f32(const char *path, nk_array *out);
/* The same, but NaN and Inf pass: results where NaN marks a missing value
 * (a NAP offset no event reached) read back for figures. */
int nk_npy_read_f32_nan(const char *path, nk_array *out);

#endif
