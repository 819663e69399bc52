/* Figures: formats, metadata, determinism, colours where they belong, bad input. */
#include "check.h"

#include "napkit/cluster.h"
#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/plot.h"

#include <cairo.h>
#include <dirent.h>
#include <sys/stat.h>

static char *path_in_tmp(const char *name) { return nk_path_join(check_tmpdir(), name); }

static char *slurp(const char *path, size_t *len) {
    char *data = NULL;
    if (nk_read_file(path, &data, len)) return NULL;
    return data;
}

static int contains(const char *data, size_t len, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= len; i++)
        if (!memcmp(data + i, needle, k)) return 1;
    return 0;
}

static int same_file(const char *a, const char *b) {
    size_t la, lb;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    int same = x && y && la == lb && !memcmp(x, y, la);
    free(x), free(y);
    return same;
}

/* Seven observations in three well separated groups; Z from nk_linkage. */
static void small_tree(double *Z) {
    double X[7] = {0, 0.1, 0.25, 5, 5.2, 20, 20.3};
    double D[21];
    nk_pdist(X, 7, 1, NK_METRIC_EUCLIDEAN, D);
    nk_linkage(D, 7, NK_LINK_AVERAGE, Z);
}

static const char *const names7[] = {"AA", "AE", "AH", "S", "SH", "M", "N"};

static void test_all_formats_with_metadata(void) {
    double Z[24];
    small_tree(Z);
    nk_plot_style st;
    nk_plot_style_default(&st);
    st.title = "layer 3 <test> & more";
    st.settings = "napkit cluster in.npy --method average";
    char *stem = path_in_tmp("dendro");
    CHECK_OK(nk_plot_dendrogram(Z, 7, names7, NULL, &st, stem));
    static const char *const ext[] = {".pdf", ".svg", ".png"};
    for (int i = 0; i < 3; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s%s", stem, ext[i]);
        size_t len;
        char *data = slurp(p, &len);
        CHECK(data != NULL && len > 100);
        if (!data) continue;
        CHECK(contains(data, len, "napkit cluster in.npy --method average"));
        if (i == 0) CHECK(!memcmp(data, "%PDF", 4) && contains(data, len, "20000101000000"));
        if (i == 1) {
            CHECK(contains(data, len, "<desc>napkit "));
            CHECK(contains(data, len, "<title>layer 3 &lt;test&gt; &amp; more</title>"));
        }
        if (i == 2) CHECK(!memcmp(data, "\x89PNG", 4) && contains(data, len, "tEXtDescription"));
        free(data);
    }
    /* The PNG stays readable (chunk CRCs right) and has the size the style asks for. */
    char p[512];
    snprintf(p, sizeof p, "%s.png", stem);
    cairo_surface_t *img = cairo_image_surface_create_from_png(p);
    CHECK(cairo_surface_status(img) == CAIRO_STATUS_SUCCESS);
    cairo_surface_destroy(img);
    free(stem);

    char *one = path_in_tmp("only.svg"), *other = path_in_tmp("only.png");
    st.width = 144, st.height = 100, st.dpi = 144;
    CHECK_OK(nk_plot_dendrogram(Z, 7, names7, NULL, &st, one));
    struct stat sb;
    CHECK(stat(one, &sb) == 0 && stat(other, &sb) != 0);
    CHECK_OK(nk_plot_dendrogram(Z, 7, names7, NULL, &st, other));
    img = cairo_image_surface_create_from_png(other);
    CHECK(cairo_image_surface_get_width(img) == 288 && cairo_image_surface_get_height(img) == 200);
    cairo_surface_destroy(img);
    free(one), free(other);
}

static void test_deterministic_bytes(void) {
    double Z[24];
    small_tree(Z);
    float M[12] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12}, sem[12];
    for (int i = 0; i < 12; i++) sem[i] = 0.5f;
    for (int run = 0; run < 2; run++) {
        char name[32];
        snprintf(name, sizeof name, "det%d", run);
        char *stem = path_in_tmp(name);
        char d[600], h[600], e[600];
        snprintf(d, sizeof d, "%s_d", stem), snprintf(h, sizeof h, "%s_h", stem), snprintf(e, sizeof e, "%s_e", stem);
        CHECK_OK(nk_plot_dendrogram(Z, 7, names7, NULL, NULL, d));
        CHECK_OK(nk_plot_heatmap(M, 3, 4, NULL, NULL, NULL, NULL, h));
        CHECK_OK(nk_plot_erp(M, sem, 3, 4, NULL, NULL, NULL, e));
        free(stem);
    }
    static const char *const figs[] = {"_d", "_h", "_e"};
    static const char *const ext[] = {".pdf", ".svg", ".png"};
    for (int f = 0; f < 3; f++)
        for (int x = 0; x < 3; x++) {
            char a[600], b[600];
            snprintf(a, sizeof a, "%s/det0%s%s", check_tmpdir(), figs[f], ext[x]);
            snprintf(b, sizeof b, "%s/det1%s%s", check_tmpdir(), figs[f], ext[x]);
            if (!same_file(a, b)) fprintf(stderr, "%s and %s differ\n", a, b);
            CHECK(same_file(a, b));
        }
}

/* "rgb(r%,g%,b%)" as cairo's SVG writer spells a colour. */
static void svg_colour(const double rgb[3], char *out, size_t n) {
    size_t k = 0;
    for (int c = 0; c < 3; c++) {
        char v[32];
        snprintf(v, sizeof v, "%f", rgb[c] * 100);
        size_t l = strlen(v);
        while (v[l - 1] == '0') v[--l] = 0; /* cairo writes 100 and 5.490196, not 100.000000 */
        if (v[l - 1] == '.') v[--l] = 0;
        k += snprintf(out + k, n - k, "%s%s%%", c ? "," : "rgb(", v);
    }
    snprintf(out + k, n - k, ")");
}

static void test_dendrogram_colours_follow_clusters(void) {
    double Z[24];
    small_tree(Z);
    /* Tableau blue, orange, green, red as the palette defines them. */
    const double tab[4][3] = {{0x1f / 255., 0x77 / 255., 0xb4 / 255.}, {0xff / 255., 0x7f / 255., 0x0e / 255.},
                              {0x2c / 255., 0xa0 / 255., 0x2c / 255.}, {0xd6 / 255., 0x27 / 255., 0x28 / 255.}};
    nk_dendrogram_opts o;
    nk_dendrogram_opts_default(&o);
    int k3[7] = {1, 1, 1, 2, 2, 3, 3};
    o.clusters = k3;
    char *p = path_in_tmp("col.svg");
    CHECK_OK(nk_plot_dendrogram(Z, 7, names7, &o, NULL, p));
    size_t len;
    char *svg = slurp(p, &len), c[96];
    for (int i = 0; i < 4 && svg; i++) {
        svg_colour(tab[i], c, sizeof c);
        CHECK(contains(svg, len, c) == (i < 3)); /* three clusters, three colours */
    }
    free(svg);
    /* No colouring at all with threshold 0 and no clusters. */
    o.clusters = NULL, o.color_threshold = 0;
    CHECK_OK(nk_plot_dendrogram(Z, 7, names7, &o, NULL, p));
    svg = slurp(p, &len);
    svg_colour(tab[0], c, sizeof c);
    CHECK(svg && !contains(svg, len, c));
    free(svg);
    /* A threshold of 3 cuts these data into the same three groups; the default,
     * 0.7 × the top height (about 12), leaves two: {0 … 4} merge at about 5. */
    for (int t = 0; t < 2; t++) {
        o.color_threshold = t ? -1 : 3;
        CHECK_OK(nk_plot_dendrogram(Z, 7, names7, &o, NULL, p));
        svg = slurp(p, &len);
        for (int i = 0; i < 4 && svg; i++) {
            svg_colour(tab[i], c, sizeof c);
            CHECK(contains(svg, len, c) == (i < 3 - t));
        }
        free(svg);
    }
    /* Class strip and left orientation render too. */
    int cls[7] = {0, 0, 0, 1, 1, 2, -1};
    const char *cn[3] = {"vowel", "fricative", "nasal"};
    o.classes = cls, o.class_names = cn, o.n_classes = 3, o.orientation = NK_DENDRO_LEFT;
    CHECK_OK(nk_plot_dendrogram(Z, 7, NULL, &o, NULL, p));
    cls[6] = 3;
    CHECK(nk_plot_dendrogram(Z, 7, NULL, &o, NULL, p) == NK_ERR_ARG);
    free(p);
}

/* Mean position and count of the pixels of exactly one colour in a PNG. */
static int centroid(const char *png, unsigned rgb, double *cx, double *cy) {
    cairo_surface_t *img = cairo_image_surface_create_from_png(png);
    if (cairo_surface_status(img)) return 0;
    int w = cairo_image_surface_get_width(img), h = cairo_image_surface_get_height(img);
    int stride = cairo_image_surface_get_stride(img);
    unsigned char *px = cairo_image_surface_get_data(img);
    double sx = 0, sy = 0;
    int n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned v;
            memcpy(&v, px + (size_t)y * stride + 4 * x, 4);
            if ((v & 0xffffff) == rgb) sx += x, sy += y, n++;
        }
    cairo_surface_destroy(img);
    if (n) *cx = sx / n, *cy = sy / n;
    return n;
}

static void test_heatmap_order_and_centring(void) {
    /* One +1 cell at (0, 0) among −1s; after swapping the rows it is bottom left.
     * Centred at 0, +1 is the darkest red (0x67001f) and −1 the darkest blue. */
    float M[4] = {1, -1, -1, -1};
    int rows[2] = {1, 0};
    const char *rl[2] = {"first", "second"}, *cl[2] = {"a", "b"};
    nk_matrix_axes ax;
    nk_matrix_axes_default(&ax);
    ax.row_labels = rl, ax.col_labels = cl;
    char *p = path_in_tmp("heat.png");
    CHECK_OK(nk_plot_heatmap(M, 2, 2, rows, NULL, &ax, NULL, p));
    double rx, ry, bx, by;
    CHECK(centroid(p, 0x67001f, &rx, &ry) && centroid(p, 0x053061, &bx, &by));
    CHECK(rx < bx && ry > by);
    /* Without the permutation the red cell is top left. */
    CHECK_OK(nk_plot_heatmap(M, 2, 2, NULL, NULL, &ax, NULL, p));
    CHECK(centroid(p, 0x67001f, &rx, &ry) && centroid(p, 0x053061, &bx, &by));
    CHECK(rx < bx && ry < by);
    /* An explicit range clamps: with vmax = 2 the cells 2 and 4 both get the top
     * colour of viridis (0xfde725); with vmax = 4 only one does. */
    float P[4] = {0, 1, 2, 4};
    nk_matrix_axes_default(&ax);
    nk_plot_style st;
    nk_plot_style_default(&st);
    st.cmap = "viridis";
    ax.vmin = 0, ax.vmax = 2;
    CHECK_OK(nk_plot_matrix(P, 2, 2, &ax, &st, p));
    int two = centroid(p, 0xfde725, &rx, &ry);
    ax.vmax = 4;
    CHECK_OK(nk_plot_matrix(P, 2, 2, &ax, &st, p));
    int one = centroid(p, 0xfde725, &rx, &ry);
    CHECK(one > 1000 && two > 1.8 * one && two < 2.2 * one);
    free(p);
}

static void test_colormaps(void) {
    double c[3];
    CHECK_OK(nk_colormap("rdbu", 0.5, c));
    CHECK_NEAR(c[0], 0xf7 / 255., 1e-12);
    CHECK_OK(nk_colormap("viridis", 0, c));
    CHECK_NEAR(c[0], 0x44 / 255., 1e-12);
    CHECK_OK(nk_colormap("viridis", 7, c)); /* clamped */
    CHECK_NEAR(c[2], 0x25 / 255., 1e-12);
    CHECK_OK(nk_colormap("gray", 0.25, c));
    CHECK_NEAR(c[1], 0.25, 1e-12);
    CHECK(nk_colormap("jet", 0.5, c) == NK_ERR_ARG);
}

static int tmp_leftovers(void) {
    DIR *d = opendir(check_tmpdir());
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
    if (d) closedir(d);
    return n;
}

static void test_bad_input(void) {
    char *p = path_in_tmp("bad");
    double Z[8] = {0, 1, 1, 2, 0, 2, 2, 3}; /* row 1 reuses observation 0 */
    CHECK(nk_plot_dendrogram(Z, 3, NULL, NULL, NULL, p) == NK_ERR_FORMAT);
    float M[4] = {NAN, NAN, NAN, 1};
    CHECK(nk_plot_matrix(M, 0, 2, NULL, NULL, p) == NK_ERR_EMPTY);
    CHECK_OK(nk_plot_matrix(M, 2, 2, NULL, NULL, p)); /* NaN cells are grey, not an error */
    int order[2] = {0, 2};
    CHECK(nk_plot_heatmap(M, 2, 2, order, NULL, NULL, NULL, p) == NK_ERR_ARG);
    nk_plot_style st;
    nk_plot_style_default(&st);
    st.cmap = "nope";
    CHECK(nk_plot_matrix(M, 2, 2, NULL, &st, p) == NK_ERR_ARG);
    nk_plot_style_default(&st);
    st.width = 5;
    CHECK(nk_plot_erp(M, NULL, 2, 2, NULL, NULL, &st, p) == NK_ERR_ARG);
    float allnan[4] = {NAN, NAN, NAN, NAN}, x[2] = {1, 1};
    CHECK(nk_plot_erp(allnan, NULL, 2, 2, NULL, NULL, NULL, p) == NK_ERR_NUMERIC);
    CHECK(nk_plot_erp(M, NULL, 2, 2, NULL, x, NULL, p) == NK_ERR_ARG);
    CHECK_OK(nk_plot_erp(M, M, 2, 2, NULL, NULL, NULL, p)); /* NaN points break the curve */
    /* Invalid UTF-8 in labels is drawn as '?'. */
    double Zok[4] = {0, 1, 1, 2};
    const char *bad[2] = {"a\xff\xfe", "\xc3(b"};
    CHECK_OK(nk_plot_dendrogram(Zok, 2, bad, NULL, NULL, p));
    char *missing = path_in_tmp("no/such/dir/fig.svg");
    CHECK(nk_plot_dendrogram(Zok, 2, NULL, NULL, NULL, missing) == NK_ERR_IO);
    CHECK(strstr(nk_last_error(), "no/such/dir/fig.svg") != NULL);
    CHECK(tmp_leftovers() == 0);
    free(missing), free(p);
}

int main(void) {
    RUN(test_all_formats_with_metadata);
    RUN(test_deterministic_bytes);
    RUN(test_dendrogram_colours_follow_clusters);
    RUN(test_heatmap_order_and_centring);
    RUN(test_colormaps);
    RUN(test_bad_input);
    return check_summary();
}
