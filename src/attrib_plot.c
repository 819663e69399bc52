/* The attribution figure: the spectrogram, the attribution laid over a grey
 * copy of it, and the alignment tiers (words, phones) of a TextGrid below,
 * all on one time axis. Drawn with the plot module's private helpers
 * (plot_impl.h: figure setup, text, axes), since plot.h has no multi-panel
 * figure. */
#include "plot_impl.h"

#include "napkit/attrib.h"
#include "napkit/error.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* An h × w image (row 0 at the bottom) of either the spectrogram under a colour
 * map, or, with map set, the attribution over a grey spectrogram: each cell's
 * colour is mixed in proportion to |map| / amax. map is (h, w), or (w) when
 * map_rows = 1 (a time profile shared by all rows). */
static cairo_surface_t *image(const float *x, int h, int w, float xlo, float xhi, const float *map, int map_rows,
                              double amax, const char *cmap) {
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(img)) return img;
    unsigned char *px = cairo_image_surface_get_data(img);
    const int stride = cairo_image_surface_get_stride(img);
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            size_t k = (size_t)i * w + j;
            double s = (x[k] - xlo) / (xhi - xlo), rgb[3];
            if (!map) {
                nk_colormap(cmap, s, rgb);
            } else {
                /* Opacity √(|v| / max): sparse maps stay visible where they are small. */
                double v = map[map_rows == 1 ? (size_t)j : k], a = sqrt(fmin(fabs(v) / amax, 1)), c[3];
                nk_colormap("rdbu", 0.5 + 0.5 * v / amax, c);
                for (int q = 0; q < 3; q++) rgb[q] = (1 - a) * (0.35 + 0.6 * s) + a * c[q];
            }
            uint32_t u = (uint32_t)lround(rgb[0] * 255) << 16 | (uint32_t)lround(rgb[1] * 255) << 8 |
                         (uint32_t)lround(rgb[2] * 255);
            memcpy(px + (size_t)(h - 1 - i) * stride + 4 * (size_t)j, &u, 4);
        }
    cairo_surface_mark_dirty(img);
    return img;
}

static void panel(cairo_t *cr, cairo_surface_t *img, double x, double y, double w, double h) {
    cairo_save(cr);
    cairo_rectangle(cr, x, y, w, h);
    cairo_clip(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, w / cairo_image_surface_get_width(img), h / cairo_image_surface_get_height(img));
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 0.6);
    cairo_rectangle(cr, x, y, w, h);
    cairo_stroke(cr);
}

/* One tier as a row of labelled intervals between t0 and t1 seconds. */
static void tier_row(cairo_t *cr, const nk_tier *t, double x, double y, double w, double h, double t1, double f) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 0.5);
    cairo_rectangle(cr, x, y, w, h);
    cairo_stroke(cr);
    for (int i = 0; i < t->n; i++) {
        const nk_interval *iv = &t->iv[i];
        if (iv->xmin >= t1) break;
        double a = x + w * iv->xmin / t1, b = x + w * fmin(iv->xmax, t1) / t1;
        cairo_move_to(cr, a, y);
        cairo_line_to(cr, a, y + h);
        cairo_stroke(cr);
        double size = fmin(f, (b - a) / fmax(1, strlen(iv->text)) * 1.6);
        if (iv->text[0] && size >= 2.5) plot_text(cr, (a + b) / 2, y + h / 2, iv->text, size, 0.5, 0.5, 0);
    }
    plot_text(cr, x - f * 0.4, y + h / 2, t->name, f, 1, 0.5, 0);
}

int nk_attr_plot(const float *x, int F, int T, const float *map, int rows, double frame_s, const nk_textgrid *tiers,
                 const char *map_label, const char *title, const char *settings, const char *path) {
    if (F < 1 || T < 2 || (rows != 1 && rows != F) || !(frame_s > 0))
        return nk_fail(NK_ERR_ARG, "%s: attribution figure needs F ≥ 1, T ≥ 2 and a map of F or 1 rows", path);
    float xlo = INFINITY, xhi = -INFINITY;
    double amax = 0;
    for (size_t i = 0; i < (size_t)F * T; i++) xlo = fminf(xlo, x[i]), xhi = fmaxf(xhi, x[i]);
    for (size_t i = 0; i < (size_t)rows * T; i++) amax = fmax(amax, fabs(map[i]));
    if (!(amax > 0) || !isfinite(amax)) amax = 1; /* an all-zero map shows the grey spectrogram */
    if (!(xhi > xlo)) xhi = xlo + 1;
    nk_plot_style st;
    nk_plot_style_default(&st);
    st.title = title, st.settings = settings;
    const double f = st.font_size, left = f * 7, right = f * 8, top = f * (title ? 2.8 : 1.2);
    const double pw = 440, ph = fmin(fmax(F * 2.0, 60), 110), gap = f * 1.2, th = f * 2;
    const int nt = tiers ? tiers->n_tiers : 0;
    const double height = top + 2 * ph + gap + nt * (th + f * 0.3) + f * 4.5;
    plot_fig fig;
    int rc = plot_begin(&fig, "attribution", left + pw + right, height, &st);
    if (rc) return rc;
    cairo_t *cr = fig.cr;
    const double t1 = T * frame_s;
    cairo_surface_t *img = image(x, F, T, xlo, xhi, NULL, 0, 1, "magma");
    panel(cr, img, left, top, pw, ph);
    cairo_surface_destroy(img);
    plot_axis(cr, left, top + ph, left, top, 0, F, -1, f, "mel band");
    const double y2 = top + ph + gap;
    img = image(x, F, T, xlo, xhi, map, rows, amax, NULL);
    panel(cr, img, left, y2, pw, ph);
    cairo_surface_destroy(img);
    plot_axis(cr, left, y2 + ph, left, y2, 0, F, -1, f, map_label ? map_label : "attribution");
    /* Colour bar of the attribution: −amax … amax. */
    double bx = left + pw + f, bh = ph;
    for (int i = 0; i < 64; i++) {
        double rgb[3];
        nk_colormap("rdbu", 1 - (i + 0.5) / 64, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, bx, y2 + bh * i / 64, f * 0.9, bh / 64 + 0.2);
        cairo_fill(cr);
    }
    char lim[32];
    snprintf(lim, sizeof lim, "+%.3g", amax);
    plot_text(cr, bx + f * 1.3, y2, lim, f, 0, 0, 0);
    plot_text(cr, bx + f * 1.3, y2 + bh / 2, "0", f, 0, 0.5, 0);
    lim[0] = '-';
    plot_text(cr, bx + f * 1.3, y2 + bh, lim, f, 0, 1, 0);
    double y = y2 + ph + f * 0.3;
    for (int i = 0; i < nt; i++, y += th + f * 0.3) tier_row(cr, &tiers->tiers[i], left, y, pw, th, t1, f);
    plot_axis(cr, left, y, left + pw, y, 0, t1, +1, f, "time (s)");
    char details[160];
    snprintf(details, sizeof details, "attribution %s map; %d x %d frames of %.4g s; |map| max %.6g",
             rows == 1 ? "time profile" : "F x T", F, T, frame_s, amax);
    return plot_finish(&fig, path, details);
}
