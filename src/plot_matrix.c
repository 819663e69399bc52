/* Matrix images with labelled or numeric axes and a colour bar: NAP heatmaps,
 * spectrograms, attribution maps, similarity matrices. Cells are one image
 * drawn with nearest-neighbour filtering, so a 128 × 2000 spectrogram costs
 * the same as a 40 × 40 heatmap and cells stay sharp in every format. */
#include "plot_impl.h"

#include "napkit/error.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nk_matrix_axes_default(nk_matrix_axes *ax) { memset(ax, 0, sizeof *ax); }

/* A w × h image of colours for values v (index (i, j) → v[i·stride + j]) under cmap on [lo, hi]. */
static cairo_surface_t *colour_image(const float *v, int h, int w, const char *cmap, double lo, double hi) {
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(img)) return img;
    unsigned char *px = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            double x = v[(size_t)i * w + j], rgb[3] = {0.85, 0.85, 0.85};
            if (isfinite(x)) nk_colormap(cmap, (x - lo) / (hi - lo), rgb);
            uint32_t c = (uint32_t)lround(rgb[0] * 255) << 16 | (uint32_t)lround(rgb[1] * 255) << 8 |
                         (uint32_t)lround(rgb[2] * 255);
            memcpy(px + (size_t)i * stride + 4 * (size_t)j, &c, 4);
        }
    cairo_surface_mark_dirty(img);
    return img;
}

/* Paints img stretched over the rectangle (x, y, w, h), flipped vertically if asked. */
static void paint_image(cairo_t *cr, cairo_surface_t *img, double x, double y, double w, double h, int flip) {
    int iw = cairo_image_surface_get_width(img), ih = cairo_image_surface_get_height(img);
    cairo_save(cr);
    cairo_rectangle(cr, x, y, w, h);
    cairo_clip(cr);
    cairo_translate(cr, x, flip ? y + h : y);
    cairo_scale(cr, w / iw, (flip ? -h : h) / ih);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_paint(cr);
    cairo_restore(cr);
}

/* Names along one side of the image: at most one per 3 pt, in a font that fits the cells. */
static void draw_labels(cairo_t *cr, const char *const *labels, int n, double start, double cell, double at,
                        int vertical_axis, double font) {
    double lf = fmin(font, fabs(cell) * 0.9);
    int every = lf >= 3 ? 1 : (int)ceil(3 / lf);
    if (lf < 3) lf = 3;
    for (int i = 0; i < n; i += every) {
        double c = start + (i + 0.5) * cell;
        if (vertical_axis) plot_text(cr, at, c, labels[i], lf, 1, 0.5, 0);
        else plot_text(cr, c, at, labels[i], lf, 1, 0.5, 90);
    }
}

static double max_label_width(cairo_t *cr, const char *const *labels, int n, double font) {
    double w = 0;
    for (int i = 0; labels && i < n; i++) w = fmax(w, plot_text_width(cr, labels[i], font));
    return w;
}

int nk_plot_matrix(const float *M, int rows, int cols, const nk_matrix_axes *axes, const nk_plot_style *style,
                   const char *path) {
    if (rows < 1 || cols < 1) return nk_fail(NK_ERR_EMPTY, "%s: matrix of %d x %d has no cells", path, rows, cols);
    nk_matrix_axes ax;
    if (axes) ax = *axes;
    else nk_matrix_axes_default(&ax);
    nk_plot_style st;
    plot_style_resolve(style, &st);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < (size_t)rows * cols; i++)
        if (isfinite(M[i])) lo = fmin(lo, M[i]), hi = fmax(hi, M[i]);
    if (!isfinite(lo)) lo = 0, hi = 0; /* all NaN: grey cells, a nominal range */
    if (!st.cmap) st.cmap = lo < 0 && hi > 0 ? "rdbu" : "viridis";
    if (plot_cmap_index(st.cmap) < 0) return nk_colormap(st.cmap, 0, (double[3]){0});
    if (ax.vmin < ax.vmax) {
        lo = ax.vmin, hi = ax.vmax;
    } else if (plot_cmap_diverging(st.cmap)) {
        hi = fmax(fabs(lo), fabs(hi)), lo = -hi; /* centred at 0 */
    }
    if (!(hi > lo)) lo -= 1, hi += 1;
    if (!(ax.dx != 0)) ax.x0 = 0, ax.dx = 1;
    if (!(ax.dy != 0)) ax.y0 = 0, ax.dy = 1;
    double f = st.font_size;

    plot_fig fig;
    int rc = plot_begin(&fig, "matrix", 100, 100, &st);
    if (rc) return rc;
    /* Room left of and below the image: names (plus the axis title), or a numeric axis. */
    double rnames = ax.row_labels ? max_label_width(fig.cr, ax.row_labels, rows, f) + f * 0.5 : 0;
    double cnames = ax.col_labels ? max_label_width(fig.cr, ax.col_labels, cols, f) + f * 0.5 : 0;
    double rlw = ax.row_labels ? rnames + (st.ylabel ? f * 1.8 : 0) + f * 0.5 : f * 6.5;
    double clw = ax.col_labels ? cnames + (st.xlabel ? f * 1.8 : 0) + f * 0.5 : f * 4;
    plot_discard(&fig);
    double top = f * (st.title ? 2.8 : 1.2), right = f * (ax.clabel ? 8 : 6.5);
    double pw = st.width > 0 ? st.width - rlw - right : fmin(fmax(cols * (ax.col_labels ? f * 1.2 : 3), 150), 480);
    double ph = st.height > 0 ? st.height - top - clw : fmin(fmax(rows * (ax.row_labels ? f * 1.2 : 3), 100), 700);
    if (!(pw >= 10 && ph >= 10)) return nk_fail(NK_ERR_ARG, "%s: figure size leaves no room for the matrix", path);
    rc = plot_begin(&fig, "matrix", rlw + pw + right, top + ph + clw, &st);
    if (rc) return rc;
    cairo_t *cr = fig.cr;
    double x0 = rlw, y0 = top;

    cairo_surface_t *img = colour_image(M, rows, cols, st.cmap, lo, hi);
    paint_image(cr, img, x0, y0, pw, ph, ax.origin_lower);
    cairo_surface_destroy(img);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 0.6);
    cairo_rectangle(cr, x0, y0, pw, ph);
    cairo_stroke(cr);

    /* Rows: names, or a numeric axis over the cell edges. */
    if (ax.row_labels) {
        double start = ax.origin_lower ? y0 + ph : y0, cell = (ax.origin_lower ? -ph : ph) / rows;
        draw_labels(cr, ax.row_labels, rows, start, cell, x0 - f * 0.4, 1, f);
        if (st.ylabel) plot_text(cr, x0 - rnames - f * 0.4, y0 + ph / 2, st.ylabel, f, 0.5, 1, 90);
    } else {
        double a = ax.y0 - ax.dy / 2, b = ax.y0 + (rows - 0.5) * ax.dy;
        double ya = ax.origin_lower ? y0 + ph : y0, yb = ax.origin_lower ? y0 : y0 + ph;
        plot_axis(cr, x0, a < b ? ya : yb, x0, a < b ? yb : ya, fmin(a, b), fmax(a, b), -1, f, st.ylabel);
    }
    if (ax.col_labels) {
        draw_labels(cr, ax.col_labels, cols, x0, pw / cols, y0 + ph + f * 0.4, 0, f);
        if (st.xlabel) plot_text(cr, x0 + pw / 2, y0 + ph + cnames + f * 0.4, st.xlabel, f, 0.5, 0, 0);
    } else {
        double a = ax.x0 - ax.dx / 2, b = ax.x0 + (cols - 0.5) * ax.dx;
        plot_axis(cr, a < b ? x0 : x0 + pw, y0 + ph, a < b ? x0 + pw : x0, y0 + ph, fmin(a, b), fmax(a, b), +1, f,
                  st.xlabel);
    }

    /* Colour bar: 256 steps from lo (bottom) to hi (top). */
    float ramp[256];
    for (int i = 0; i < 256; i++) ramp[i] = (float)(lo + (hi - lo) * (255 - i) / 255.0);
    double bx = x0 + pw + f, bw = f * 0.9, bh = fmin(ph, 150);
    img = colour_image(ramp, 256, 1, st.cmap, lo, hi);
    paint_image(cr, img, bx, y0, bw, bh, 0);
    cairo_surface_destroy(img);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, bx, y0, bw, bh);
    cairo_stroke(cr);
    plot_axis(cr, bx + bw, y0 + bh, bx + bw, y0, lo, hi, +1, f, ax.clabel);

    char details[200];
    snprintf(details, sizeof details, "matrix %d x %d; range %.6g .. %.6g; origin %s", rows, cols, lo, hi,
             ax.origin_lower ? "lower" : "upper");
    return plot_finish(&fig, path, details);
}

int nk_plot_heatmap(const float *M, int rows, int cols, const int *row_order, const int *col_order,
                    const nk_matrix_axes *axes, const nk_plot_style *style, const char *path) {
    if (rows < 1 || cols < 1) return nk_fail(NK_ERR_EMPTY, "%s: matrix of %d x %d has no cells", path, rows, cols);
    for (int s = 0; s < 2; s++) {
        const int *ord = s ? col_order : row_order;
        int len = s ? cols : rows;
        for (int i = 0; ord && i < len; i++)
            if (ord[i] < 0 || ord[i] >= len)
                return nk_fail(NK_ERR_ARG, "%s: %s order has index %d outside 0 … %d", path, s ? "column" : "row",
                               ord[i], len - 1);
    }
    nk_matrix_axes ax;
    if (axes) ax = *axes;
    else nk_matrix_axes_default(&ax);
    nk_plot_style st;
    plot_style_resolve(style, &st);
    if (!st.cmap) st.cmap = "rdbu";
    float *P = malloc(sizeof(float) * rows * cols);
    const char **rl = malloc(sizeof(char *) * rows), **cl = malloc(sizeof(char *) * cols);
    if (!P || !rl || !cl) {
        free(P), free(rl), free(cl);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    }
    for (int i = 0; i < rows; i++) {
        int r = row_order ? row_order[i] : i;
        for (int j = 0; j < cols; j++) P[(size_t)i * cols + j] = M[(size_t)r * cols + (col_order ? col_order[j] : j)];
        if (ax.row_labels) rl[i] = ax.row_labels[r];
    }
    for (int j = 0; j < cols && ax.col_labels; j++) cl[j] = ax.col_labels[col_order ? col_order[j] : j];
    /* A permuted axis without names shows the original indices, not a numeric scale. */
    char (*num)[12] = malloc(12 * (size_t)(rows + cols));
    if (!num) {
        free(P), free(rl), free(cl);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    }
    for (int i = 0; row_order && !ax.row_labels && i < rows; i++) snprintf(num[i], 12, "%d", row_order[i]), rl[i] = num[i];
    for (int j = 0; col_order && !ax.col_labels && j < cols; j++)
        snprintf(num[rows + j], 12, "%d", col_order[j]), cl[j] = num[rows + j];
    if (ax.row_labels || row_order) ax.row_labels = rl;
    if (ax.col_labels || col_order) ax.col_labels = cl;
    int rc = nk_plot_matrix(P, rows, cols, &ax, &st, path);
    free(P), free(rl), free(cl), free(num);
    return rc;
}
