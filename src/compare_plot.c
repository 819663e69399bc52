/* Figures of the model comparison that plot.h has no function for: the
 * tanglegram of two profile trees and the per-phoneme topographic maps. Drawn
 * with the plot module's private helpers, so they share its fonts, formats
 * and metadata. */
#include "plot_impl.h"

#include "napkit/cluster.h"
#include "napkit/compare.h"
#include "napkit/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Position along the leaf axis (leaf k of the order at k + 0.5) and height of every node. */
static int node_positions(const double *Z, int n, double *pos, double *h, double *hmax) {
    int *order = malloc(sizeof(int) * n);
    int rc = order ? nk_leaves_list(Z, n, order) : nk_fail(NK_ERR_NOMEM, "tanglegram: out of memory");
    for (int k = 0; !rc && k < n; k++) pos[order[k]] = k + 0.5, h[order[k]] = 0;
    *hmax = 0;
    for (int k = 0; !rc && k < n - 1; k++) {
        int a = (int)Z[4 * k], b = (int)Z[4 * k + 1];
        pos[n + k] = 0.5 * (pos[a] + pos[b]), h[n + k] = Z[4 * k + 2];
        *hmax = fmax(*hmax, h[n + k]);
    }
    if (!(*hmax > 0)) *hmax = 1;
    free(order);
    return rc;
}

/* U-shaped links of one tree; x = root_x at hmax, leaf_x at height 0. */
static void draw_tree(cairo_t *cr, const double *Z, int n, const double *pos, const double *h, double hmax,
                      double leaf_x, double root_x, double y0, double step) {
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cr, 0.6);
    for (int k = 0; k < n - 1; k++) {
        int a = (int)Z[4 * k], b = (int)Z[4 * k + 1];
        double xa = leaf_x + (root_x - leaf_x) * h[a] / hmax, xb = leaf_x + (root_x - leaf_x) * h[b] / hmax;
        double xm = leaf_x + (root_x - leaf_x) * h[n + k] / hmax;
        cairo_move_to(cr, xa, y0 + pos[a] * step);
        cairo_line_to(cr, xm, y0 + pos[a] * step);
        cairo_line_to(cr, xm, y0 + pos[b] * step);
        cairo_line_to(cr, xb, y0 + pos[b] * step);
        cairo_stroke(cr);
    }
}

/* Swaps the children of B's merges so that, bottom up, the child whose leaves
 * sit higher in A's order comes first: fewer crossing lines, same tree. */
static void untangle(double *Zb, int n, const double *pos_a) {
    double *mean = malloc(sizeof(double) * (2 * (size_t)n - 1));
    if (!mean) return; /* the figure is still right, only more tangled */
    for (int i = 0; i < n; i++) mean[i] = pos_a[i];
    for (int k = 0; k < n - 1; k++) {
        int a = (int)Zb[4 * k], b = (int)Zb[4 * k + 1];
        double sa = a < n ? 1 : Zb[4 * (a - n) + 3], sb = b < n ? 1 : Zb[4 * (b - n) + 3];
        if (mean[a] > mean[b]) Zb[4 * k] = b, Zb[4 * k + 1] = a;
        mean[n + k] = (sa * mean[a] + sb * mean[b]) / (sa + sb);
    }
    free(mean);
}

int nk_plot_tanglegram(const double *Za, const double *Zb, int n, const char *const *labels, const char *name_a,
                       const char *name_b, const nk_plot_style *style, const char *path) {
    if (n < 2) return nk_fail(NK_ERR_ARG, "%s: a tanglegram needs 2 leaves (got %d)", path, n);
    int rc = nk_linkage_validate(Za, n, "tanglegram tree A");
    if (!rc) rc = nk_linkage_validate(Zb, n, "tanglegram tree B");
    if (rc) return rc;
    const size_t nodes = 2 * (size_t)n - 1;
    double *pa = malloc(sizeof(double) * nodes * 4), *ha = pa + nodes, *pb = pa + 2 * nodes, *hb = pa + 3 * nodes;
    if (!pa) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    double ma, mb, *zb = malloc(sizeof(double) * 4 * (n - 1));
    rc = zb ? node_positions(Za, n, pa, ha, &ma) : nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    if (!rc) {
        memcpy(zb, Zb, sizeof(double) * 4 * (n - 1));
        untangle(zb, n, pa);
        rc = node_positions(zb, n, pb, hb, &mb);
    }
    nk_plot_style st;
    plot_style_resolve(style, &st);
    const double font = st.font_size, step = fmax(font * 1.3, 4), tree_w = 110, gap = 70;
    plot_fig f;
    /* Label width from a scratch figure's context: text metrics need a cairo context. */
    double lw = 0;
    if (!rc) rc = plot_begin(&f, "tanglegram", 100, 100, style);
    if (!rc) {
        for (int i = 0; i < n; i++) lw = fmax(lw, plot_text_width(f.cr, labels[i], font));
        plot_discard(&f);
    }
    const double top = font * (st.title ? 4.5 : 3), W = 2 * (10 + tree_w + 4 + lw) + gap, H = top + n * step + 10;
    if (!rc) rc = plot_begin(&f, "tanglegram", W, H, style);
    if (!rc) {
        cairo_t *cr = f.cr;
        const double la = 10 + tree_w, rb = W - 10 - tree_w; /* leaf edges of the trees */
        cairo_set_source_rgb(cr, 0, 0, 0); /* plot_begin drew the title */
        plot_text(cr, 10 + tree_w / 2, top - font * 1.2, name_a, font, 0.5, 1, 0);
        plot_text(cr, W - 10 - tree_w / 2, top - font * 1.2, name_b, font, 0.5, 1, 0);
        draw_tree(cr, Za, n, pa, ha, ma, la, 10, top, step);
        draw_tree(cr, zb, n, pb, hb, mb, rb, W - 10, top, step);
        for (int i = 0; i < n; i++) {
            const double ya = top + pa[i] * step, yb = top + pb[i] * step;
            cairo_set_source_rgb(cr, 0, 0, 0);
            plot_text(cr, la + 4, ya, labels[i], font, 0, 0.5, 0);
            plot_text(cr, rb - 4, yb, labels[i], font, 1, 0.5, 0);
            double rgb[3];
            plot_category(fabs(pa[i] - pb[i]) < 0.75 ? 0 : 3, rgb); /* same place: blue, moved: red */
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
            cairo_set_line_width(cr, 0.5);
            cairo_move_to(cr, la + 8 + lw, ya);
            cairo_line_to(cr, rb - 8 - lw, yb);
            cairo_stroke(cr);
        }
        char details[64];
        snprintf(details, sizeof details, "leaves %d", n);
        rc = plot_finish(&f, path, details);
    }
    free(pa), free(zb);
    return rc;
}

int nk_plot_topomaps(const float *img_a, const float *img_b, int G, int rows, int cols, const char *const *labels,
                     const char *name_a, const char *name_b, const nk_plot_style *style, const char *path) {
    if (G < 1 || rows < 1 || cols < 1) return nk_fail(NK_ERR_EMPTY, "%s: no maps to draw", path);
    nk_plot_style st;
    plot_style_resolve(style, &st);
    double lim = 0;
    for (size_t k = 0; k < (size_t)G * rows * cols; k++) {
        if (isfinite(img_a[k])) lim = fmax(lim, fabs(img_a[k]));
        if (isfinite(img_b[k])) lim = fmax(lim, fabs(img_b[k]));
    }
    if (!(lim > 0)) lim = 1;
    const char *cmap = st.cmap ? st.cmap : "rdbu";
    const double font = st.font_size, cell = fmax(60.0 / (rows > cols ? rows : cols), 1.5);
    const double mw = cols * cell, mh = rows * cell, pw = 2 * mw + 4 + 14, ph = mh + font * 1.6 + 8;
    const int per_row = G < 4 ? G : 4, n_rows = (G + per_row - 1) / per_row;
    const double top = font * (st.title ? 5 : 2.5), W = 10 + per_row * pw, H = top + n_rows * ph + 24;
    plot_fig f;
    int rc = plot_begin(&f, "topomaps", W, H, style);
    if (rc) return rc;
    cairo_t *cr = f.cr;
    cairo_set_source_rgb(cr, 0, 0, 0); /* plot_begin drew the title */
    char sub[200];
    snprintf(sub, sizeof sub, "each panel: %s (left) | %s (right); colour ±%.2f", name_a, name_b, lim);
    plot_text(cr, W / 2, top - font * 1.4, sub, font * 0.9, 0.5, 1, 0);
    for (int g = 0; g < G; g++) {
        const double x0 = 10 + (g % per_row) * pw, y0 = top + (g / per_row) * ph;
        cairo_set_source_rgb(cr, 0, 0, 0);
        plot_text(cr, x0 + mw + 2, y0 + font * 0.2, labels[g], font, 0.5, 0, 0);
        for (int side = 0; side < 2; side++) {
            const float *img = (side ? img_b : img_a) + (size_t)g * rows * cols;
            const double ox = x0 + side * (mw + 4), oy = y0 + font * 1.4;
            for (int r = 0; r < rows; r++)
                for (int q = 0; q < cols; q++) {
                    double rgb[3] = {0.92, 0.92, 0.92}, v = img[r * cols + q];
                    if (isfinite(v)) nk_colormap(cmap, 0.5 + 0.5 * v / lim, rgb);
                    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
                    cairo_rectangle(cr, ox + q * cell, oy + r * cell, cell + 0.05, cell + 0.05);
                    cairo_fill(cr);
                }
        }
    }
    char details[96];
    snprintf(details, sizeof details, "maps %d; grid %d x %d; range %.6g", G, rows, cols, lim);
    return plot_finish(&f, path, details);
}
