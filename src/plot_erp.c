/* ERP curves: one line per group over time, a shaded ±SEM band around it. */
#include "plot_impl.h"

#include "napkit/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    double x0, y0, x1, y1;     /* plot area */
    double xlo, xhi, ylo, yhi; /* data ranges */
} frame;

static double px(const frame *F, double x) { return F->x0 + (x - F->xlo) / (F->xhi - F->xlo) * (F->x1 - F->x0); }
static double py(const frame *F, double y) { return F->y1 - (y - F->ylo) / (F->yhi - F->ylo) * (F->y1 - F->y0); }

/* Traces the runs of finite points of m + sign·s as paths (s may be NULL). With
 * band set, each run is closed back along m − s and filled. */
static void trace(cairo_t *cr, const frame *F, const float *x, const float *m, const float *s, int T, int band) {
    for (int a = 0; a < T;) {
        while (a < T && !(isfinite(m[a]) && (!s || isfinite(s[a])))) a++;
        int b = a;
        while (b < T && isfinite(m[b]) && (!s || isfinite(s[b]))) b++;
        if (b > a) {
            for (int t = a; t < b; t++) cairo_line_to(cr, px(F, x[t]), py(F, m[t] + (band ? s[t] : 0)));
            if (band) {
                for (int t = b - 1; t >= a; t--) cairo_line_to(cr, px(F, x[t]), py(F, m[t] - s[t]));
                cairo_close_path(cr);
                cairo_fill(cr);
            } else {
                cairo_stroke(cr);
            }
        }
        a = b;
    }
}

int nk_plot_erp(const float *mean, const float *sem, int n_groups, int n_times, const char *const *labels,
                const float *x, const nk_plot_style *style, const char *path) {
    if (n_groups < 1 || n_times < 2)
        return nk_fail(NK_ERR_EMPTY, "%s: ERP needs at least 1 group and 2 time points (got %d x %d)", path, n_groups, n_times);
    nk_plot_style st;
    plot_style_resolve(style, &st);
    double f = st.font_size;
    float *xs = malloc(sizeof(float) * n_times);
    char (*num)[16] = malloc(16 * (size_t)n_groups);
    const char **names = malloc(sizeof(char *) * n_groups);
    double (*rgb)[3] = malloc(sizeof(double[3]) * n_groups);
    if (!xs || !num || !names || !rgb) {
        free(xs), free(num), free(names), free(rgb);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    }
    frame F = {0, 0, 0, 0, INFINITY, -INFINITY, INFINITY, -INFINITY};
    int rc = NK_OK;
    for (int t = 0; t < n_times && !rc; t++) {
        xs[t] = x ? x[t] : (float)t;
        if (!isfinite(xs[t]) || (t > 0 && !(xs[t] > xs[t - 1])))
            rc = nk_fail(NK_ERR_ARG, "%s: time axis must be finite and increasing (point %d is %g)", path, t, xs[t]);
        F.xlo = fmin(F.xlo, xs[t]), F.xhi = fmax(F.xhi, xs[t]);
    }
    for (int g = 0; g < n_groups; g++) {
        snprintf(num[g], 16, "%d", g);
        names[g] = labels ? labels[g] : num[g];
        plot_category(g, rgb[g]);
        for (int t = 0; t < n_times; t++) {
            double m = mean[(size_t)g * n_times + t], s = sem ? fabs(sem[(size_t)g * n_times + t]) : 0;
            if (isfinite(m) && isfinite(s)) F.ylo = fmin(F.ylo, m - s), F.yhi = fmax(F.yhi, m + s);
        }
    }
    if (!rc && !isfinite(F.ylo)) rc = nk_fail(NK_ERR_NUMERIC, "%s: every ERP value is NaN or infinite", path);
    plot_fig fig;
    double legw = 0;
    if (!rc) rc = plot_begin(&fig, "erp", 100, 100, &st);
    if (!rc) {
        for (int g = 0; g < n_groups; g++) legw = fmax(legw, plot_text_width(fig.cr, names[g], f));
        plot_discard(&fig);
        legw += f * 3;
        double W = st.width > 0 ? st.width : 240 + legw, H = st.height > 0 ? st.height : fmax(170, n_groups * f * 1.35 + f * 8);
        rc = plot_begin(&fig, "erp", W, H, &st);
        F.x0 = f * 6.5, F.x1 = W - legw - f, F.y0 = f * (st.title ? 2.8 : 1.2), F.y1 = H - f * 4.5;
        if (!rc && !(F.x1 - F.x0 >= 20 && F.y1 - F.y0 >= 20)) {
            plot_discard(&fig);
            rc = nk_fail(NK_ERR_ARG, "%s: figure size leaves no room for the curves", path);
        }
    }
    if (rc) {
        free(xs), free(num), free(names), free(rgb);
        return rc;
    }
    cairo_t *cr = fig.cr;
    double pad = (F.yhi - F.ylo) * 0.05;
    if (!(pad > 0)) pad = fabs(F.yhi) * 0.1 + 1e-6;
    F.ylo -= pad, F.yhi += pad;

    /* Reference lines at the event (x = 0) and at y = 0. */
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 0.5);
    double dash[] = {2, 2};
    cairo_set_dash(cr, dash, 2, 0);
    if (F.xlo < 0 && F.xhi > 0) cairo_move_to(cr, px(&F, 0), F.y0), cairo_line_to(cr, px(&F, 0), F.y1), cairo_stroke(cr);
    if (F.ylo < 0 && F.yhi > 0) cairo_move_to(cr, F.x0, py(&F, 0)), cairo_line_to(cr, F.x1, py(&F, 0)), cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);

    cairo_save(cr);
    cairo_rectangle(cr, F.x0, F.y0, F.x1 - F.x0, F.y1 - F.y0);
    cairo_clip(cr);
    for (int g = 0; sem && g < n_groups; g++) {
        cairo_set_source_rgba(cr, rgb[g][0], rgb[g][1], rgb[g][2], 0.22);
        trace(cr, &F, xs, mean + (size_t)g * n_times, sem + (size_t)g * n_times, n_times, 1);
    }
    cairo_set_line_width(cr, 1.0);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (int g = 0; g < n_groups; g++) {
        cairo_set_source_rgb(cr, rgb[g][0], rgb[g][1], rgb[g][2]);
        trace(cr, &F, xs, mean + (size_t)g * n_times, NULL, n_times, 0);
    }
    cairo_restore(cr);

    cairo_set_source_rgb(cr, 0, 0, 0);
    plot_axis(cr, F.x0, F.y1, F.x1, F.y1, F.xlo, F.xhi, +1, f, st.xlabel ? st.xlabel : "time relative to event (frames)");
    plot_axis(cr, F.x0, F.y1, F.x0, F.y0, F.ylo, F.yhi, -1, f, st.ylabel ? st.ylabel : "mean response");
    plot_legend(cr, F.x1 + f, F.y0, names, (const double(*)[3])rgb, n_groups, f, 1);

    char details[120];
    snprintf(details, sizeof details, "groups %d; times %d; band %s", n_groups, n_times, sem ? "sem" : "none");
    free(xs), free(num), free(names), free(rgb);
    return plot_finish(&fig, path, details);
}
