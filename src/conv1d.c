/* 1D convolution forward and backward through OpenBLAS sgemm (im2col). */
#include "napkit/model.h"

#include <cblas.h>
#include <string.h>

/* A 1×1, stride-1, unpadded layer is a plain matrix product on its input. */
static int pointwise(const nk_layer_spec *s) {
    return s->kernel == 1 && s->stride == 1 && s->padding == 0;
}

size_t nk_conv1d_scratch(const nk_layer_spec *s, int T_out) {
    return pointwise(s) ? 0 : (size_t)s->in * s->kernel * T_out;
}

/* Moves data between x (C_in, T_in) and its column matrix cols (C_in·k, T_out),
 * cols[c·k + j][t] = x[c][t·stride + j·dilation − padding] (zero outside x).
 * gather: fill cols from x (im2col). Otherwise scatter-add cols into x (col2im,
 * the adjoint), which is how the input gradient leaves the column matrix. */
static void im2col_transfer(const nk_layer_spec *s, float *x, int T_in, float *cols, int T_out,
                            int gather) {
    const int k = s->kernel, stride = s->stride;
    const size_t work = (size_t)s->in * k * T_out;
#pragma omp parallel for schedule(static) if (work > (1u << 18))
    for (int c = 0; c < s->in; c++) {
        float *xr = x + (size_t)c * T_in;
        for (int j = 0; j < k; j++) {
            float *row = cols + ((size_t)c * k + j) * T_out;
            long off = (long)j * s->dilation - s->padding;
            /* Frames t with 0 <= t·stride + off < T_in. */
            long t0 = off >= 0 ? 0 : (-off + stride - 1) / stride;
            long t1 = T_in - 1 - off < 0 ? 0 : (T_in - 1 - off) / stride + 1;
            if (t1 > T_out) t1 = T_out;
            if (t0 > t1) t0 = t1;
            if (gather) {
                memset(row, 0, t0 * sizeof *row);
                if (stride == 1) memcpy(row + t0, xr + t0 + off, (t1 - t0) * sizeof *row);
                else
                    for (long t = t0; t < t1; t++) row[t] = xr[t * stride + off];
                memset(row + t1, 0, (T_out - t1) * sizeof *row);
            } else {
                for (long t = t0; t < t1; t++) xr[t * stride + off] += row[t];
            }
        }
    }
}

void nk_conv1d_forward(const nk_layer_spec *s, const float *w, const float *b, const float *x,
                       int T_in, float *out, int T_out, float *scratch) {
    const int rows = s->in * s->kernel;
    const float *cols = x;
    if (!pointwise(s)) {
        im2col_transfer(s, (float *)x, T_in, scratch, T_out, 1); /* gather only reads x */
        cols = scratch;
    }
    for (int o = 0; o < s->out; o++)
        for (int t = 0; t < T_out; t++) out[(size_t)o * T_out + t] = b[o];
    // out (C_out, T_out) += w (C_out, rows) · cols (rows, T_out)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->out, T_out, rows, 1.0f, w, rows,
                cols, T_out, 1.0f, out, T_out);
}

void nk_conv1d_backward(const nk_layer_spec *s, const float *w, const float *x, int T_in,
                        const float *g_out, int T_out, float *g_x, float *g_w, float *g_b,
                        float *scratch) {
    const int rows = s->in * s->kernel;
    if (g_w) {
        const float *cols = x;
        if (!pointwise(s)) {
            im2col_transfer(s, (float *)x, T_in, scratch, T_out, 1);
            cols = scratch;
        }
        // g_w (C_out, rows) += g_out (C_out, T_out) · cols^T (T_out, rows)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->out, rows, T_out, 1.0f, g_out,
                    T_out, cols, T_out, 1.0f, g_w, rows);
        for (int o = 0; o < s->out; o++) {
            float sum = 0;
            for (int t = 0; t < T_out; t++) sum += g_out[(size_t)o * T_out + t];
            g_b[o] += sum;
        }
    }
    if (g_x) {
        // g_cols (rows, T_out) = w^T (rows, C_out) · g_out (C_out, T_out); pointwise: straight into g_x
        if (pointwise(s)) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rows, T_out, s->out, 1.0f, w, rows,
                        g_out, T_out, 1.0f, g_x, T_in);
        } else {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rows, T_out, s->out, 1.0f, w, rows,
                        g_out, T_out, 0.0f, scratch, T_out);
            im2col_transfer(s, g_x, T_in, scratch, T_out, 0);
        }
    }
}
