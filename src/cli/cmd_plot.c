/* napkit plot: redraws a figure from saved outputs with other styling. */
#include "cli.h"

#include "napkit/cluster.h"

#include <cJSON.h>
#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/npy.h"
#include "napkit/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_plot_summary[] = "draw a dendrogram, heatmap or ERP figure from saved outputs";

static const char usage[] =
    "usage: napkit plot dendrogram DIR [-o OUT] [options]   DIR from 'napkit cluster'\n"
    "       napkit plot heatmap MATRIX.npy -o OUT [options]\n"
    "       napkit plot erp MEAN.npy -o OUT [options]\n"
    "       napkit plot erp NAPS_DIR --layer L --neuron C [--groups a,e,i] -o OUT\n"
    "OUT ending in .pdf/.svg/.png writes that format, any other OUT all three.\n"
    "style:\n"
    "  --width PT --height PT     figure size in points (default: from the content)\n"
    "  --font-size PT             default 7\n"
    "  --dpi N                    PNG resolution (default 300)\n"
    "  --title T --xlabel T --ylabel T\n"
    "  --cmap rdbu|coolwarm|viridis|magma|gray\n"
    "dendrogram (default OUT: DIR/dendrogram):\n"
    "  --orientation top|left     --threshold H (colour subtrees below H instead of the saved\n"
    "                             flat clusters; 0: no colours)   --no-classes\n"
    "heatmap: MATRIX (rows, cols), or (G, C, T) with --group g for neurons x time\n"
    "  --rows-from DIR --cols-from DIR  order (and label) rows/columns by a clustering's leaves\n"
    "  --row-labels FILE --col-labels FILE   --vmin V --vmax V   --clabel T\n"
    "  --x0 X --dx DX             numeric column axis (e.g. time offsets)\n"
    "erp: MEAN (G, T), or (G, C, T) with --neuron c; --sem SEM.npy of the same shape\n"
    "  --labels FILE (one per group)   --x0 X --dx DX (time axis, default 0, 1, ...)\n"
    "  from a 'napkit naps' folder: layer L's means, SEM bands and group names, the\n"
    "  time axis in ms; --groups keeps only the named groups, in that order\n";

typedef struct {
    const char *rows_from, *cols_from, *row_labels, *col_labels, *labels, *sem, *groups;
    int orient, no_classes, group, neuron, layer;
    double threshold, x0, dx;
    int has_threshold, has_x;
    nk_matrix_axes ax;
} plot_args;

/* A float32 view of an .npy: 2-D as is, 3-D (A, B, T) sliced at index `pick` of A
 * (heatmap: one group → (C, T)) or of B (erp: one neuron → (G, T)). */
static int load_2d(const char *path, int pick, int axis, nk_array *a, float **m, int *rows, int *cols) {
    int rc = nk_npy_read_f32_nan(path, a);
    *m = NULL;
    if (rc) return rc;
    if (a->ndim == 2 && pick < 0) {
        *rows = (int)a->shape[0], *cols = (int)a->shape[1];
        *m = a->data;
        return NK_OK;
    }
    if (a->ndim != 3 || pick < 0)
        rc = nk_fail(NK_ERR_FORMAT, "%s: expected a 2-D array%s (got %d dimensions)", path,
                     pick >= 0 ? " or a 3-D one" : "; a 3-D one needs --group or --neuron", a->ndim);
    else if (pick >= a->shape[axis])
        rc = nk_fail(NK_ERR_ARG, "%s: index %d is beyond axis %d of size %ld", path, pick, axis, a->shape[axis]);
    if (rc) {
        nk_array_free(a);
        return rc;
    }
    long A = a->shape[0], B = a->shape[1], T = a->shape[2];
    float *src = a->data;
    if (axis == 0) {
        memmove(src, src + pick * B * T, sizeof(float) * B * T);
        *rows = (int)B;
    } else { /* gather row (g, pick, :) for every g */
        for (long g = 0; g < A; g++) memmove(src + g * T, src + (g * B + pick) * T, sizeof(float) * T);
        *rows = (int)A;
    }
    *cols = (int)T;
    *m = src;
    return NK_OK;
}

static int read_labels(const char *path, int n, char ***labels) {
    int m, rc = nk_read_lines(path, labels, &m);
    if (!rc && m != n) {
        nk_strings_free(*labels, m);
        *labels = NULL;
        rc = nk_fail(NK_ERR_FORMAT, "%s: %d labels for %d entries", path, m, n);
    }
    return rc;
}

/* Leaf order and labels of a 'napkit cluster' output folder for n items. */
static int read_clustering(const char *dir, int n, nk_cluster_saved *s) {
    char *p = nk_path_join(dir, "clusters.json");
    int rc = p ? nk_cluster_saved_read(p, n, s) : nk_fail(NK_ERR_NOMEM, "out of memory");
    free(p);
    return rc;
}

static int plot_dendrogram(const char *dir, const char *out, const plot_args *a, nk_plot_style *st) {
    char *zp = nk_path_join(dir, "linkage.npy");
    nk_array z = {0};
    int rc = zp ? nk_npy_read(zp, &z) : nk_fail(NK_ERR_NOMEM, "out of memory");
    if (!rc && (z.dtype != NK_F64 || z.ndim != 2 || z.shape[1] != 4 || z.shape[0] < 1 || z.shape[0] > 10000000))
        rc = nk_fail(NK_ERR_FORMAT, "%s: expected a float64 (n-1, 4) linkage", zp);
    int n = rc ? 0 : (int)z.shape[0] + 1;
    nk_cluster_saved s = {0};
    if (!rc) rc = nk_linkage_validate(z.data, n, zp);
    if (!rc) rc = read_clustering(dir, n, &s);
    char *def = NULL;
    if (!rc) {
        nk_dendrogram_opts o;
        nk_dendrogram_opts_default(&o);
        o.orientation = a->orient >= 0 ? (nk_dendro_orientation)a->orient : n > 40 ? NK_DENDRO_LEFT : NK_DENDRO_TOP;
        if (a->has_threshold) o.color_threshold = a->threshold;
        else o.clusters = s.flat;
        if (!a->no_classes) o.classes = s.classes, o.class_names = (const char *const *)s.class_names, o.n_classes = s.n_classes;
        if (!out) out = def = nk_path_join(dir, "dendrogram");
        rc = out ? nk_plot_dendrogram(z.data, n, (const char *const *)s.labels, &o, st, out)
                 : nk_fail(NK_ERR_NOMEM, "out of memory");
    }
    nk_cluster_saved_free(&s);
    nk_array_free(&z);
    free(zp), free(def);
    return rc;
}

static int plot_heatmap(const char *in, const char *out, plot_args *a, nk_plot_style *st) {
    nk_array arr = {0};
    float *M;
    int rows = 0, cols = 0;
    int rc = load_2d(in, a->group, 0, &arr, &M, &rows, &cols);
    nk_cluster_saved rs = {0}, cs = {0};
    char **rl = NULL, **cl = NULL;
    if (!rc && a->rows_from) rc = read_clustering(a->rows_from, rows, &rs);
    if (!rc && a->cols_from) rc = read_clustering(a->cols_from, cols, &cs);
    if (!rc && a->row_labels) rc = read_labels(a->row_labels, rows, &rl);
    if (!rc && a->col_labels) rc = read_labels(a->col_labels, cols, &cl);
    if (!rc) {
        a->ax.row_labels = (const char *const *)(rl ? rl : rs.labels);
        a->ax.col_labels = (const char *const *)(cl ? cl : cs.labels);
        if (a->has_x) a->ax.x0 = a->x0, a->ax.dx = a->dx;
        rc = nk_plot_heatmap(M, rows, cols, rs.order, cs.order, &a->ax, st, out);
    }
    nk_cluster_saved_free(&rs), nk_cluster_saved_free(&cs);
    nk_strings_free(rl, rows), nk_strings_free(cl, cols);
    nk_array_free(&arr);
    return rc;
}

/* Keeps the rows of mean (and sem) whose labels are listed in `wanted`
 * ("a,e,i"), in that order. */
static int pick_groups(const char *wanted, float *mean, float *sem, int T, char **labels, int *G) {
    char *list = strdup(wanted), *save = NULL;
    int n = 0, rc = list ? NK_OK : nk_fail(NK_ERR_NOMEM, "out of memory");
    float *m2 = malloc(sizeof(float) * (size_t)*G * T), *s2 = malloc(sizeof(float) * (size_t)*G * T);
    char **l2 = calloc((size_t)*G, sizeof *l2);
    if (!rc && (!m2 || !s2 || !l2)) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
    for (char *tok = rc ? NULL : strtok_r(list, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
        int g = 0;
        while (g < *G && strcmp(labels[g], tok) != 0) g++;
        if (g == *G) rc = nk_fail(NK_ERR_ARG, "--groups: no group '%s'", tok);
        else if (n == *G) rc = nk_fail(NK_ERR_ARG, "--groups: more names than groups");
        else {
            memcpy(m2 + (size_t)n * T, mean + (size_t)g * T, sizeof(float) * T);
            if (sem) memcpy(s2 + (size_t)n * T, sem + (size_t)g * T, sizeof(float) * T);
            l2[n++] = strdup(labels[g]);
        }
    }
    if (!rc) {
        memcpy(mean, m2, sizeof(float) * (size_t)n * T);
        if (sem) memcpy(sem, s2, sizeof(float) * (size_t)n * T);
        for (int g = 0; g < *G; g++) free(labels[g]), labels[g] = l2[g];
        *G = n;
    } else {
        for (int g = 0; l2 && g < *G; g++) free(l2[g]);
    }
    free(list), free(m2), free(s2), free(l2);
    return rc;
}

/* A 'napkit naps' folder: file names of layer L and the frame duration in ms. */
static int naps_dir_files(const char *dir, int layer, char **mean, char **sem, char **labels, double *frame_ms) {
    char name[64], *json = NULL, *p = nk_path_join(dir, "naps.json");
    int rc = p ? nk_read_file(p, &json, NULL) : nk_fail(NK_ERR_NOMEM, "out of memory");
    cJSON *j = rc ? NULL : cJSON_Parse(json);
    if (!rc && !j) rc = nk_fail(NK_ERR_FORMAT, "%s: not valid JSON", p);
    snprintf(name, sizeof name, "layer_%02d", layer);
    const cJSON *ms = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "frame_ms"), name);
    *frame_ms = cJSON_IsNumber(ms) ? ms->valuedouble : 1.0;
    snprintf(name, sizeof name, "layer_%02d.npy", layer);
    *mean = nk_path_join(dir, name);
    snprintf(name, sizeof name, "layer_%02d_sem.npy", layer);
    *sem = nk_path_join(dir, name);
    *labels = nk_path_join(dir, "groups.txt");
    cJSON_Delete(j), free(json), free(p);
    return rc;
}

static int plot_erp(const char *in, const char *out, const plot_args *a, nk_plot_style *st) {
    nk_array m = {0}, s = {0};
    float *mean, *sem = NULL, *x = NULL;
    int G = 0, T = 0, G2, T2, rc = NK_OK;
    char **labels = NULL, *dmean = NULL, *dsem = NULL, *dlabels = NULL;
    const char *mean_path = in, *sem_path = a->sem, *labels_path = a->labels;
    double x0 = a->x0, dx = a->dx, frame_ms = 0;
    if (a->layer >= 0) {
        rc = naps_dir_files(in, a->layer, &dmean, &dsem, &dlabels, &frame_ms);
        mean_path = dmean, sem_path = sem_path ? sem_path : dsem, labels_path = labels_path ? labels_path : dlabels;
    }
    if (!rc) rc = load_2d(mean_path, a->neuron, 1, &m, &mean, &G, &T);
    if (!rc && sem_path) {
        rc = load_2d(sem_path, a->neuron, 1, &s, &sem, &G2, &T2);
        if (!rc && (G2 != G || T2 != T))
            rc = nk_fail(NK_ERR_FORMAT, "%s: shape (%d, %d) differs from the mean's (%d, %d)", sem_path, G2, T2, G, T);
    }
    if (!rc && labels_path) rc = read_labels(labels_path, G, &labels);
    if (!rc && a->groups) {
        if (!labels) rc = nk_fail(NK_ERR_ARG, "--groups needs group names (--labels or a naps folder)");
        else rc = pick_groups(a->groups, mean, sem, T, labels, &G);
    }
    /* A naps window runs −w … w frames; label it in ms unless told otherwise. */
    if (!rc && a->layer >= 0 && !a->has_x) x0 = -(T / 2) * frame_ms, dx = frame_ms;
    if (!rc && (a->has_x || a->layer >= 0)) {
        if (!(x = malloc(sizeof(float) * T))) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
        for (int t = 0; x && t < T; t++) x[t] = (float)(x0 + t * dx);
        if (a->layer >= 0 && !st->xlabel) st->xlabel = "time relative to event (ms)";
    }
    if (!rc) rc = nk_plot_erp(mean, sem, G, T, (const char *const *)labels, x, st, out);
    nk_strings_free(labels, G);
    free(x), free(dmean), free(dsem), free(dlabels);
    nk_array_free(&m), nk_array_free(&s);
    return rc;
}

static int plot_main(int argc, char **argv, const char *settings) {
    enum { O_W = 256, O_H, O_FONT, O_DPI, O_TITLE, O_XL, O_YL, O_CMAP, O_ORIENT, O_THR, O_NOCLS, O_ROWSF, O_COLSF,
           O_RL, O_CL, O_VMIN, O_VMAX, O_CLABEL, O_X0, O_DX, O_GROUP, O_NEURON, O_SEM, O_LABELS, O_LAYER, O_GROUPS };
    static const struct option opts[] = {
        {"width", 1, 0, O_W}, {"height", 1, 0, O_H}, {"font-size", 1, 0, O_FONT}, {"dpi", 1, 0, O_DPI},
        {"title", 1, 0, O_TITLE}, {"xlabel", 1, 0, O_XL}, {"ylabel", 1, 0, O_YL}, {"cmap", 1, 0, O_CMAP},
        {"orientation", 1, 0, O_ORIENT}, {"threshold", 1, 0, O_THR}, {"no-classes", 0, 0, O_NOCLS},
        {"rows-from", 1, 0, O_ROWSF}, {"cols-from", 1, 0, O_COLSF}, {"row-labels", 1, 0, O_RL},
        {"col-labels", 1, 0, O_CL}, {"vmin", 1, 0, O_VMIN}, {"vmax", 1, 0, O_VMAX}, {"clabel", 1, 0, O_CLABEL},
        {"x0", 1, 0, O_X0}, {"dx", 1, 0, O_DX}, {"group", 1, 0, O_GROUP}, {"neuron", 1, 0, O_NEURON},
        {"sem", 1, 0, O_SEM}, {"labels", 1, 0, O_LABELS}, {"layer", 1, 0, O_LAYER}, {"groups", 1, 0, O_GROUPS}, {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    static const char *const kinds[] = {"dendrogram", "heatmap", "erp", NULL};
    static const char *const orientations[] = {"top", "left", NULL};
    nk_plot_style st;
    nk_plot_style_default(&st);
    plot_args a = {0};
    a.orient = a.group = a.neuron = a.layer = -1;
    a.dx = 1;
    nk_matrix_axes_default(&a.ax);
    double vmin = 0, vmax = 0;
    int cmap = -1, bad = 0, has_vmin = 0, has_vmax = 0;
    const char *out = NULL;
    const char *cmd = "plot";
    for (int o; (o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1 && !bad;) {
        switch (o) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'o': out = optarg; break;
        case O_W: bad = cli_double(cmd, "--width", optarg, 20, 14400, &st.width); break;
        case O_H: bad = cli_double(cmd, "--height", optarg, 20, 14400, &st.height); break;
        case O_FONT: bad = cli_double(cmd, "--font-size", optarg, 2, 72, &st.font_size); break;
        case O_DPI: bad = cli_double(cmd, "--dpi", optarg, 10, 2400, &st.dpi); break;
        case O_TITLE: st.title = optarg; break;
        case O_XL: st.xlabel = optarg; break;
        case O_YL: st.ylabel = optarg; break;
        case O_CMAP: bad = cli_choice(cmd, "--cmap", optarg, nk_colormap_names, &cmap); break;
        case O_ORIENT: bad = cli_choice(cmd, "--orientation", optarg, orientations, &a.orient); break;
        case O_THR: bad = cli_double(cmd, "--threshold", optarg, 0, 1e300, &a.threshold), a.has_threshold = 1; break;
        case O_NOCLS: a.no_classes = 1; break;
        case O_ROWSF: a.rows_from = optarg; break;
        case O_COLSF: a.cols_from = optarg; break;
        case O_RL: a.row_labels = optarg; break;
        case O_CL: a.col_labels = optarg; break;
        case O_VMIN: bad = cli_double(cmd, "--vmin", optarg, -1e300, 1e300, &vmin), has_vmin = 1; break;
        case O_VMAX: bad = cli_double(cmd, "--vmax", optarg, -1e300, 1e300, &vmax), has_vmax = 1; break;
        case O_CLABEL: a.ax.clabel = optarg; break;
        case O_X0: bad = cli_double(cmd, "--x0", optarg, -1e300, 1e300, &a.x0), a.has_x = 1; break;
        case O_DX: bad = cli_double(cmd, "--dx", optarg, -1e300, 1e300, &a.dx), a.has_x = 1; break;
        case O_GROUP: bad = cli_int(cmd, "--group", optarg, 0, 100000000, &a.group); break;
        case O_NEURON: bad = cli_int(cmd, "--neuron", optarg, 0, 100000000, &a.neuron); break;
        case O_SEM: a.sem = optarg; break;
        case O_LABELS: a.labels = optarg; break;
        case O_LAYER: bad = cli_int(cmd, "--layer", optarg, 0, 100000, &a.layer); break;
        case O_GROUPS: a.groups = optarg; break;
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (bad) return bad;
    int kind;
    if (optind + 2 != argc) return cli_usage_error(cmd, "expects a figure kind and one input (see --help)");
    if (cli_choice(cmd, "figure kind", argv[optind], kinds, &kind)) return EXIT_USAGE;
    if (kind != 0 && !out) return cli_usage_error(cmd, "%s needs -o OUT", kinds[kind]);
    if (has_vmin != has_vmax || (has_vmin && !(vmin < vmax)))
        return cli_usage_error(cmd, "--vmin and --vmax go together, with vmin < vmax");
    if (a.has_x && !(a.dx != 0)) return cli_usage_error(cmd, "--dx must not be 0");
    a.ax.vmin = vmin, a.ax.vmax = vmax;
    if (cmap >= 0) st.cmap = nk_colormap_names[cmap];
    st.settings = settings;
    const char *in = argv[optind + 1];
    int rc = kind == 0 ? plot_dendrogram(in, out, &a, &st) : kind == 1 ? plot_heatmap(in, out, &a, &st)
                                                                       : plot_erp(in, out, &a, &st);
    return rc ? cli_fail(cmd) : EXIT_OK;
}

int cmd_plot(int argc, char **argv) {
    /* The figure records the command line, taken before getopt permutes argv. */
    char *settings = nk_plot_command_line(argc, argv);
    int rc = plot_main(argc, argv, settings);
    free(settings);
    return rc;
}
