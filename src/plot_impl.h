/* Private helpers shared by the src/plot*.c files: a figure drawn once into a
 * cairo recording surface and replayed into PDF, SVG and PNG; text, axes,
 * palettes. Not installed. */
#ifndef NAPKIT_PLOT_IMPL_H
#define NAPKIT_PLOT_IMPL_H

#include "napkit/plot.h"

#include <cairo.h>
#include <stddef.h>

typedef struct {
    cairo_surface_t *rec; /* recording surface: the figure in points */
    cairo_t *cr;
    double w, h;          /* size in points */
    nk_plot_style st;     /* the caller's style with defaults filled in */
    const char *kind;     /* "dendrogram", "heatmap", … for the metadata */
} plot_fig;

/* Starts a figure of w × h points on a white background. */
int plot_begin(plot_fig *f, const char *kind, double w, double h, const nk_plot_style *style);
/* Writes the figure to path (one format or all three, see plot.h) with the
 * style and `details` (figure-specific settings) in the metadata; frees f. */
int plot_finish(plot_fig *f, const char *path, const char *details);
/* Frees f without writing anything. */
void plot_discard(plot_fig *f);

/* Style with every default filled in (st may be NULL). */
void plot_style_resolve(const nk_plot_style *st, nk_plot_style *out);

/* Text in DejaVu Sans at `size` points. (x, y) is the anchor point; ax, ay in
 * [0, 1] place it within the text box (0,0 top left; 0.5,0.5 centre; 1,1
 * bottom right) before rotating by `angle` degrees (counter-clockwise).
 * Invalid UTF-8 is shown as '?'. */
void plot_text(cairo_t *cr, double x, double y, const char *s, double size, double ax, double ay, double angle);
double plot_text_width(cairo_t *cr, const char *s, double size);

/* An axis along a horizontal (y0 == y1) or vertical (x0 == x1) segment, value
 * lo at (x0, y0) and hi at (x1, y1), with "nice" ticks. side = +1 puts ticks
 * and labels below / right of the line, −1 above / left. Returns the distance
 * from the line to the far edge of the tick labels (to place more text). */
double plot_axis(cairo_t *cr, double x0, double y0, double x1, double y1, double lo, double hi, int side,
                 double font, const char *title);

/* Index of a colour map name in nk_colormap_names, or −1; 1 if the map is diverging. */
int plot_cmap_index(const char *name);
int plot_cmap_diverging(const char *name);

/* Distinct colours: plot_category for clusters and curves (Tableau 10),
 * plot_pastel for reference classes (so the two never look alike). */
void plot_category(int i, double rgb[3]);
void plot_pastel(int i, double rgb[3]);

/* Draws a legend box of coloured swatches at (x, y) (top left); returns its height. */
double plot_legend(cairo_t *cr, double x, double y, const char *const *names, const double (*rgb)[3], int n,
                   double font, int line);

/* printf into a growing string (for metadata); returns 0 or NK_ERR_NOMEM. */
typedef struct {
    char *s;
    size_t len, cap;
} plot_str;
int plot_str_add(plot_str *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int plot_str_bytes(plot_str *b, const void *data, size_t n);

#endif
