/* Dendrograms: U-shaped links in leaf order, coloured by subtree below a
 * threshold (scipy's convention) or by given flat clusters, with an optional
 * strip showing each leaf's reference class. */
#include "plot_impl.h"

#include "napkit/cluster.h"
#include "napkit/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nk_dendrogram_opts_default(nk_dendrogram_opts *o) {
    memset(o, 0, sizeof *o);
    o->orientation = NK_DENDRO_TOP;
    o->color_threshold = -1;
}

/* Where leaves and heights go on the page. u is the leaf coordinate (leaf i of
 * the order at u = i + 0.5), h the merge height. */
typedef struct {
    int left;             /* orientation */
    double x0, y0, x1, y1; /* the link area */
    double n, hmax;
} layout;

static void place(const layout *L, double u, double h, double *x, double *y) {
    double s = u / L->n, t = h / L->hmax;
    if (L->left) *x = L->x1 - t * (L->x1 - L->x0), *y = L->y0 + s * (L->y1 - L->y0);
    else *x = L->x0 + s * (L->x1 - L->x0), *y = L->y1 - t * (L->y1 - L->y0);
}

static void line_to(cairo_t *cr, const layout *L, double u, double h) {
    double x, y;
    place(L, u, h, &x, &y);
    cairo_line_to(cr, x, y);
}

/* Group of each node (leaves 0 … n−1, merges n …): the flat cluster all its
 * leaves share, or −1. Colours go to groups with two or more leaves, numbered
 * in leaf order. Returns the colour index per node (−1: grey), malloc'd. */
static int *node_colours(const double *Z, int n, const int *order, const int *group) {
    if (n < 2) return NULL;
    size_t nodes = 2 * (size_t)n - 1;
    int *g = malloc(sizeof(int) * nodes), *colour = malloc(sizeof(int) * nodes);
    int *seen = NULL, maxg = 0;
    if (!g || !colour) goto fail;
    for (int i = 0; i < n; i++) maxg = group[i] > maxg ? group[i] : maxg;
    seen = malloc(sizeof(int) * (maxg + 1));
    if (!seen) goto fail;
    for (int i = 0; i <= maxg; i++) seen[i] = -1;
    int next = 0;
    for (int i = 0; i < n; i++) g[i] = group[i];
    for (int k = 0; k < n - 1; k++) {
        int a = g[(int)Z[4 * k]], b = g[(int)Z[4 * k + 1]];
        g[n + k] = a == b ? a : -1;
    }
    /* Number the groups of merges by the leftmost leaf of each group. */
    char *multi = calloc(maxg + 1, 1);
    if (!multi) goto fail;
    for (int k = 0; k < n - 1; k++)
        if (g[n + k] >= 0) multi[g[n + k]] = 1;
    for (int i = 0; i < n; i++) {
        int gi = group[order[i]];
        if (gi >= 0 && multi[gi] && seen[gi] < 0) seen[gi] = next++;
    }
    free(multi);
    for (size_t v = 0; v < nodes; v++) colour[v] = v >= (size_t)n && g[v] >= 0 ? seen[g[v]] : -1;
    free(g), free(seen);
    return colour;
fail:
    free(g), free(colour), free(seen);
    return NULL;
}

/* The flat group of every leaf used for colouring, or NULL for none. Clusters
 * are shifted to be ≥ 0; a threshold t groups leaves joined strictly below t. */
static int leaf_groups(const double *Z, int n, const nk_dendrogram_opts *o, double hmax, int **out) {
    *out = NULL;
    double t = o->color_threshold < 0 ? 0.7 * hmax : o->color_threshold;
    if (!o->clusters && !(t > 0)) return NK_OK;
    int *grp = malloc(sizeof(int) * n);
    if (!grp) return nk_fail(NK_ERR_NOMEM, "dendrogram: out of memory");
    if (o->clusters) {
        int lo = o->clusters[0];
        for (int i = 0; i < n; i++) lo = o->clusters[i] < lo ? o->clusters[i] : lo;
        for (int i = 0; i < n; i++) grp[i] = o->clusters[i] - lo;
    } else {
        int rc = nk_fcluster_distance(Z, n, nextafter(t, 0), grp);
        if (rc) {
            free(grp);
            return rc;
        }
    }
    *out = grp;
    return NK_OK;
}

int nk_plot_dendrogram(const double *Z, int n, const char *const *labels, const nk_dendrogram_opts *opts,
                       const nk_plot_style *style, const char *path) {
    int rc = nk_linkage_validate(Z, n, path);
    if (rc) return rc;
    nk_dendrogram_opts o;
    if (opts) o = *opts;
    else nk_dendrogram_opts_default(&o);
    if (o.classes)
        for (int i = 0; i < n; i++)
            if (o.classes[i] < -1 || o.classes[i] >= o.n_classes)
                return nk_fail(NK_ERR_ARG, "%s: class %d of leaf %d is outside 0 … %d", path, o.classes[i], i, o.n_classes - 1);
    nk_plot_style st;
    plot_style_resolve(style, &st);
    double f = st.font_size, hmax = 0;
    for (int k = 0; k < n - 1; k++) hmax = fmax(hmax, Z[4 * k + 2]);

    int *order = malloc(sizeof(int) * n), *grp = NULL, *colour = NULL;
    char (*num)[16] = labels ? NULL : malloc(16 * (size_t)n);
    const char **lab = malloc(sizeof(char *) * n);
    if (!order || !lab || (!labels && !num)) {
        free(order), free(lab), free(num);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    }
    for (int i = 0; i < n; i++) {
        if (!labels) snprintf(num[i], 16, "%d", i);
        lab[i] = labels ? labels[i] : num[i];
    }
    nk_leaves_list(Z, n, order);
    rc = leaf_groups(Z, n, &o, hmax, &grp);
    if (!rc && grp && !(colour = node_colours(Z, n, order, grp))) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);

    /* Sizes: leaves get 1.25 font heights each unless the caller fixed the size. */
    plot_fig fig = {0};
    double labw = 0, legw = 0;
    plot_fig probe;
    if (!rc) rc = plot_begin(&probe, "dendrogram", 100, 100, &st);
    if (!rc) {
        for (int i = 0; i < n; i++) labw = fmax(labw, plot_text_width(probe.cr, lab[i], f));
        for (int c = 0; o.classes && c < o.n_classes; c++)
            legw = fmax(legw, plot_text_width(probe.cr, o.class_names ? o.class_names[c] : "", f) + f * 2.2);
        plot_discard(&probe);
    }
    double strip = o.classes ? f * 1.1 : 0, top = f * (st.title ? 2.8 : 1.2);
    double axis_room = f * 6.5, leaf_room = f * 0.5 + strip + labw;
    int left = o.orientation == NK_DENDRO_LEFT;
    double W = st.width, H = st.height;
    /* Automatic sizes stop at 200 in; beyond that labels thin out instead. */
    if (left) {
        if (!(W > 0)) W = fmin(14400, fmax(240, axis_room + 150 + leaf_room + legw + f));
        if (!(H > 0)) H = fmin(14400, top + n * f * 1.25 + f * 4.5);
    } else {
        if (!(W > 0)) W = fmin(14400, fmax(240, axis_room + n * f * 1.25 + f + legw));
        if (!(H > 0)) H = fmin(14400, top + 150 + leaf_room + f);
    }
    if (!rc) rc = plot_begin(&fig, "dendrogram", W, H, &st);
    if (rc) {
        free(order), free(lab), free(num), free(grp), free(colour);
        return rc;
    }
    cairo_t *cr = fig.cr;
    layout L = {left, 0, 0, 0, 0, n, hmax > 0 ? hmax * 1.05 : 1};
    if (left) L.x0 = f, L.x1 = W - leaf_room - legw - f, L.y0 = top, L.y1 = H - f * 4.5;
    else L.x0 = axis_room, L.x1 = W - f - legw, L.y0 = top, L.y1 = H - leaf_room - f;

    /* Height axis. */
    cairo_set_source_rgb(cr, 0, 0, 0);
    const char *htitle = left ? (st.xlabel ? st.xlabel : "distance") : (st.ylabel ? st.ylabel : "distance");
    if (left) plot_axis(cr, L.x1, L.y1 + f * 0.5, L.x0, L.y1 + f * 0.5, 0, L.hmax, +1, f, htitle);
    else plot_axis(cr, L.x0 - f * 0.5, L.y1, L.x0 - f * 0.5, L.y0, 0, L.hmax, -1, f, htitle);

    /* Links: u of a node is the mean of its children's u, as in scipy. */
    double *u = malloc(sizeof(double) * (2 * (size_t)n - 1));
    if (!u) {
        plot_discard(&fig);
        free(order), free(lab), free(num), free(grp), free(colour);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    }
    for (int i = 0; i < n; i++) u[order[i]] = i + 0.5;
    cairo_set_line_width(cr, n > 60 ? 0.6 : 0.8);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
    for (int k = 0; k < n - 1; k++) {
        int a = (int)Z[4 * k], b = (int)Z[4 * k + 1];
        double ha = a < n ? 0 : Z[4 * (a - n) + 2], hb = b < n ? 0 : Z[4 * (b - n) + 2], h = Z[4 * k + 2];
        u[n + k] = (u[a] + u[b]) / 2;
        double rgb[3] = {0.35, 0.35, 0.35};
        if (colour && colour[n + k] >= 0) plot_category(colour[n + k], rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        double x, y;
        place(&L, u[a], ha, &x, &y);
        cairo_move_to(cr, x, y);
        line_to(cr, &L, u[a], h);
        line_to(cr, &L, u[b], h);
        line_to(cr, &L, u[b], hb);
        cairo_stroke(cr);
    }

    /* Leaves: class strip, then labels; thinned if the caller's size is too small. */
    double spacing = (left ? L.y1 - L.y0 : L.x1 - L.x0) / n;
    double lf = fmin(f, spacing * 0.85);
    int every = lf >= 3 ? 1 : (int)ceil(3 / lf);
    if (lf < 3) lf = 3;
    for (int i = 0; i < n; i++) {
        int leaf = order[i];
        double x, y;
        place(&L, i + 0.5, 0, &x, &y);
        /* One rectangle per run of equal classes, so no seams show between cells. */
        int c = o.classes ? o.classes[leaf] : -1;
        if (c >= 0 && (i == 0 || o.classes[order[i - 1]] != c)) {
            int run = 1;
            while (i + run < n && o.classes[order[i + run]] == c) run++;
            double rgb[3];
            plot_pastel(c, rgb);
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
            if (left) cairo_rectangle(cr, x + f * 0.3, y - spacing / 2, f * 0.8, spacing * run);
            else cairo_rectangle(cr, x - spacing / 2, y + f * 0.3, spacing * run, f * 0.8);
            cairo_fill(cr);
        }
        if (i % every) continue;
        cairo_set_source_rgb(cr, 0, 0, 0);
        if (left) plot_text(cr, x + f * 0.5 + strip, y, lab[leaf], lf, 0, 0.5, 0);
        else plot_text(cr, x, y + f * 0.5 + strip, lab[leaf], lf, 1, 0.5, 90);
    }
    if (o.classes && o.n_classes > 0) {
        double (*rgb)[3] = malloc(sizeof(double[3]) * o.n_classes);
        const char **names = malloc(sizeof(char *) * o.n_classes);
        if (rgb && names) {
            for (int c = 0; c < o.n_classes; c++) {
                plot_pastel(c, rgb[c]);
                names[c] = o.class_names ? o.class_names[c] : "";
            }
            plot_legend(cr, W - legw, L.y0, names, (const double(*)[3])rgb, o.n_classes, f, 0);
        }
        free(rgb), free(names);
    }

    char details[160], colouring[48];
    if (o.clusters) snprintf(colouring, sizeof colouring, "by flat clusters");
    else snprintf(colouring, sizeof colouring, "below %.6g", o.color_threshold < 0 ? 0.7 * hmax : o.color_threshold);
    snprintf(details, sizeof details, "leaves %d; orientation %s; colour %s; class strip %s", n, left ? "left" : "top",
             colouring, o.classes ? "yes" : "no");
    free(u), free(order), free(lab), free(num), free(grp), free(colour);
    return plot_finish(&fig, path, details);
}
