/* Axes with "nice" ticks (steps of 1, 2 or 5 × 10^k) and legends. */
#include "plot_impl.h"

#include <math.h>
#include <stdio.h>

/* The tick step closest to span / target among 1, 2, 5 × 10^k (no 2.5, so
 * integer axes such as indices keep integer ticks); *decimals
 * is the number of digits after the point that labels need. */
static double nice_step(double span, int target, int *decimals) {
    double raw = span / target, p = pow(10, floor(log10(raw))), m = raw / p;
    double nice = m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10;
    int d = -(int)floor(log10(nice * p) + 1e-9);
    *decimals = d > 0 ? d : 0;
    return nice * p;
}

double plot_axis(cairo_t *cr, double x0, double y0, double x1, double y1, double lo, double hi, int side,
                 double font, const char *title) {
    int horiz = y0 == y1;
    double len = horiz ? fabs(x1 - x0) : fabs(y1 - y0);
    if (!(hi > lo) || !isfinite(hi - lo)) hi = lo + 1; /* a constant range still gets a valid axis */
    int target = (int)(len / (font * (horiz ? 6 : 4)));
    int decimals;
    double step = nice_step(hi - lo, target < 2 ? 2 : target, &decimals);
    double tick = font * 0.4, gap = font * 0.3, reach = 0;
    cairo_set_line_width(cr, 0.6);
    cairo_move_to(cr, x0, y0);
    cairo_line_to(cr, x1, y1);
    cairo_stroke(cr);
    long first = (long)ceil(lo / step - 1e-9), last = (long)floor(hi / step + 1e-9);
    for (long i = first; i <= last; i++) {
        double v = i * step, t = (v - lo) / (hi - lo);
        double px = x0 + t * (x1 - x0), py = y0 + t * (y1 - y0);
        char label[32];
        snprintf(label, sizeof label, "%.*f", decimals, i == 0 ? 0.0 : v);
        cairo_move_to(cr, px, py);
        if (horiz) {
            cairo_line_to(cr, px, py + side * tick);
            cairo_stroke(cr);
            plot_text(cr, px, py + side * (tick + gap), label, font, 0.5, side > 0 ? 0 : 1, 0);
        } else {
            cairo_line_to(cr, px + side * tick, py);
            cairo_stroke(cr);
            plot_text(cr, px + side * (tick + gap), py, label, font, side > 0 ? 0 : 1, 0.5, 0);
            double w = plot_text_width(cr, label, font);
            if (w > reach) reach = w;
        }
    }
    reach = tick + gap + (horiz ? font * 1.2 : reach);
    if (title && *title) {
        double d = reach + gap;
        if (horiz) plot_text(cr, (x0 + x1) / 2, y0 + side * d, title, font, 0.5, side > 0 ? 0 : 1, 0);
        else plot_text(cr, x0 + side * d, (y0 + y1) / 2, title, font, 0.5, side > 0 ? 0 : 1, 90);
        reach = d + font * 1.2;
    }
    return reach;
}

double plot_legend(cairo_t *cr, double x, double y, const char *const *names, const double (*rgb)[3], int n,
                   double font, int line) {
    double row = font * 1.35, sw = font * (line ? 1.6 : 0.9);
    for (int i = 0; i < n; i++) {
        double cy = y + (i + 0.5) * row;
        cairo_set_source_rgb(cr, rgb[i][0], rgb[i][1], rgb[i][2]);
        if (line) {
            cairo_set_line_width(cr, 1.2);
            cairo_move_to(cr, x, cy);
            cairo_line_to(cr, x + sw, cy);
            cairo_stroke(cr);
        } else {
            cairo_rectangle(cr, x, cy - sw / 2, sw, sw);
            cairo_fill(cr);
        }
        cairo_set_source_rgb(cr, 0, 0, 0);
        plot_text(cr, x + sw + font * 0.4, cy, names[i], font, 0, 0.5, 0);
    }
    return n * row;
}
