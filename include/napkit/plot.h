/* Paper-ready figures with cairo: vector PDF and SVG, and PNG.
 *
 * Every figure function takes a style (NULL for the defaults) and a path. A
 * path ending in .pdf, .svg or .png writes that format; any other path is a
 * stem and gets all three (`out/dendrogram` → out/dendrogram.{pdf,svg,png}).
 * Files are written atomically. Text is DejaVu Sans. The same input gives
 * byte-identical files, and each file carries the settings that made it: the
 * PDF Subject/Keywords, an SVG <desc>, a PNG tEXt "Description" chunk.
 *
 * Matrices are float32, row-major, (rows, cols) as everywhere in napkit. */
#ifndef NAPKIT_PLOT_H
#define NAPKIT_PLOT_H

typedef struct {
    double width, height; /* points (1/72 in); 0 = sized from the content for a paper column */
    double font_size;     /* points, default 7 */
    double dpi;           /* PNG resolution, default 300 */
    const char *title;    /* NULL: no title */
    const char *xlabel, *ylabel; /* NULL: the figure's default axis titles */
    const char *cmap;     /* colour map name (nk_colormap_names); NULL: the figure's default */
    const char *settings; /* extra text for the metadata, e.g. the command that made the data */
} nk_plot_style;

void nk_plot_style_default(nk_plot_style *s);
/* "napkit ARGV…" as one malloc'd string, for nk_plot_style.settings (NULL if out of memory). */
char *nk_plot_command_line(int argc, char **argv);

/* "rdbu" (diverging, blue < 0 < red), "coolwarm", "viridis", "magma", "gray"; NULL-terminated. */
extern const char *const nk_colormap_names[];
/* Colour of t in [0, 1] (clamped) under a named map; fails on an unknown name. */
int nk_colormap(const char *name, double t, double rgb[3]);

/* ---- dendrogram ---- */

typedef enum {
    NK_DENDRO_TOP, /* root at the top, leaves along the bottom, labels rotated */
    NK_DENDRO_LEFT /* root at the left, leaves down the right side, labels horizontal */
} nk_dendro_orientation;

typedef struct {
    nk_dendro_orientation orientation;
    /* Links of subtrees whose merges all lie below the threshold get one colour per
     * subtree. < 0: 0.7 × the largest height (scipy's default); 0: no colours. */
    double color_threshold;
    const int *clusters;            /* (n) flat cluster of each observation: colours by cluster instead */
    const int *classes;             /* (n) reference class index per observation (−1: none) → colour strip */
    const char *const *class_names; /* (n_classes) legend of the strip */
    int n_classes;
} nk_dendrogram_opts;

void nk_dendrogram_opts_default(nk_dendrogram_opts *o);

/* Draws the linkage Z (n-1, 4) with leaves in leaves_list order. labels is (n),
 * NULL for indices; opts and style may be NULL. */
int nk_plot_dendrogram(const double *Z, int n, const char *const *labels, const nk_dendrogram_opts *opts,
                       const nk_plot_style *style, const char *path);

/* ---- matrices: heatmaps, spectrograms, attribution maps, CKA matrices ---- */

typedef struct {
    const char *const *row_labels; /* (rows) names, or NULL for a numeric axis y0 + i·dy */
    const char *const *col_labels; /* (cols) names, or NULL for a numeric axis x0 + j·dx */
    double x0, dx, y0, dy;         /* numeric axes; dx = 0 (or dy = 0) means indices 0, 1, … */
    double vmin, vmax;             /* colour range; vmin == vmax: automatic (symmetric about 0 for
                                      diverging maps, data min … max otherwise) */
    const char *clabel;            /* colour bar title, NULL for none */
    int origin_lower;              /* 1: row 0 at the bottom (spectrograms); 0: at the top */
} nk_matrix_axes;

void nk_matrix_axes_default(nk_matrix_axes *ax);

/* A matrix as an image with axes and a colour bar. M is (rows, cols); NaN cells
 * are drawn light grey. Default colour map: rdbu if M has both signs, else viridis. */
int nk_plot_matrix(const float *M, int rows, int cols, const nk_matrix_axes *ax, const nk_plot_style *style,
                   const char *path);

/* nk_plot_matrix after permuting rows and columns (row_order/col_order: (rows)/(cols)
 * indices into M, e.g. dendrogram leaf orders; NULL keeps the order). Labels in ax
 * are given in M's original order and permuted along. Default map: rdbu centred at 0. */
int nk_plot_heatmap(const float *M, int rows, int cols, const int *row_order, const int *col_order,
                    const nk_matrix_axes *ax, const nk_plot_style *style, const char *path);

/* ---- ERP curves ---- */

/* One curve per group over time with a ±SEM band. mean and sem are (n_groups,
 * n_times) (sem may be NULL); x is (n_times) positions (NULL: 0 … n_times−1),
 * e.g. frame offsets relative to the event; labels is (n_groups) or NULL. */
int nk_plot_erp(const float *mean, const float *sem, int n_groups, int n_times, const char *const *labels,
                const float *x, const nk_plot_style *style, const char *path);

#endif
