/* Colour maps for matrices and palettes for categories. */
#include "plot_impl.h"

#include "napkit/error.h"

#include <math.h>
#include <string.h>

const char *const nk_colormap_names[] = {"rdbu", "coolwarm", "viridis", "magma", "gray", NULL};

/* Evenly spaced anchors, interpolated linearly in sRGB (as matplotlib's
 * LinearSegmentedColormap). rdbu is ColorBrewer RdBu reversed, so negative
 * values are blue; viridis and magma are sampled from matplotlib. */
static const unsigned rdbu[] = {0x053061, 0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xf7f7f7,
                                0xfddbc7, 0xf4a582, 0xd6604d, 0xb2182b, 0x67001f};
static const unsigned coolwarm[] = {0x3b4cc0, 0x6282ea, 0x8db0fe, 0xb8d0f9, 0xdddcdc,
                                    0xf5c4ad, 0xf49a7b, 0xde604d, 0xb40426};
static const unsigned viridis[] = {0x440154, 0x482878, 0x3e4989, 0x31688e, 0x26828e,
                                   0x1f9e89, 0x35b779, 0x6ece58, 0xb5de2b, 0xfde725};
static const unsigned magma[] = {0x000004, 0x180f3d, 0x440f76, 0x721f81, 0x9e2f7f,
                                 0xcd4071, 0xf1605d, 0xfd9668, 0xfeca8d, 0xfcfdbf};
static const unsigned gray[] = {0x000000, 0xffffff};

static const struct {
    const unsigned *anchors;
    int n;
} maps[] = {{rdbu, 11}, {coolwarm, 9}, {viridis, 10}, {magma, 10}, {gray, 2}};

static void hex_rgb(unsigned c, double rgb[3]) {
    rgb[0] = (c >> 16 & 255) / 255.0, rgb[1] = (c >> 8 & 255) / 255.0, rgb[2] = (c & 255) / 255.0;
}

int plot_cmap_index(const char *name) {
    for (int i = 0; nk_colormap_names[i]; i++)
        if (!strcmp(name, nk_colormap_names[i])) return i;
    return -1;
}

int plot_cmap_diverging(const char *name) { return !strcmp(name, "rdbu") || !strcmp(name, "coolwarm"); }

int nk_colormap(const char *name, double t, double rgb[3]) {
    int m = name ? plot_cmap_index(name) : -1;
    if (m < 0) return nk_fail(NK_ERR_ARG, "unknown colour map '%s' (rdbu, coolwarm, viridis, magma, gray)", name ? name : "(null)");
    if (!(t > 0)) t = 0; /* NaN too */
    if (t > 1) t = 1;
    double pos = t * (maps[m].n - 1);
    int i = (int)pos < maps[m].n - 1 ? (int)pos : maps[m].n - 2;
    double f = pos - i, a[3], b[3];
    hex_rgb(maps[m].anchors[i], a);
    hex_rgb(maps[m].anchors[i + 1], b);
    for (int k = 0; k < 3; k++) rgb[k] = a[k] + f * (b[k] - a[k]);
    return NK_OK;
}

/* Tableau 10 without its grey, which marks links above the colour threshold. */
static const unsigned category[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                    0x8c564b, 0xe377c2, 0xbcbd22, 0x17becf};
/* ColorBrewer Set2 then Set3: light colours for class strips. */
static const unsigned pastel[] = {0x66c2a5, 0xfc8d62, 0x8da0cb, 0xe78ac3, 0xa6d854, 0xffd92f,
                                  0xe5c494, 0xb3b3b3, 0x8dd3c7, 0xffffb3, 0xbebada, 0xfb8072,
                                  0x80b1d3, 0xfdb462, 0xb3de69, 0xfccde5};

void plot_category(int i, double rgb[3]) { hex_rgb(category[(unsigned)i % 9], rgb); }
void plot_pastel(int i, double rgb[3]) { hex_rgb(pastel[(unsigned)i % 16], rgb); }
