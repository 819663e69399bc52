/* napkit cluster: hierarchical clustering of the rows of a matrix (or of a NAPs
 * layer) → linkage.npy, clusters.json and a dendrogram. */
#include "cli.h"

#include "napkit/cluster.h"
#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/npy.h"
#include "napkit/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_cluster_summary[] = "hierarchical clustering of NAPs or any matrix, with dendrogram and scores";

static const char usage[] =
    "usage: napkit cluster INPUT.npy -o OUT [options]\n"
    "       napkit cluster --naps-dir DIR --layer N -o OUT [options]\n"
    "  INPUT.npy               (observations, features) float32/float64/int32\n"
    "  --naps-dir DIR --layer N  cluster layer N's time-independent NAPs of a NAPs output folder,\n"
    "                          labelled with its group names\n"
    "  --labels FILE           one label per line (default: row numbers)\n"
    "  --naps-json FILE        labels from the \"groups\" of a naps.json\n"
    "  --method M              single|complete|average|weighted|ward|centroid|median (default ward)\n"
    "  --metric M              euclidean|sqeuclidean|cityblock|cosine|correlation|chebyshev\n"
    "                          (default euclidean; ward/centroid/median need euclidean)\n"
    "  --optimal-order         reorder leaves to minimise distances between neighbours\n"
    "  --k N                   flat clusters: at most N (default: the number of classes with\n"
    "                          --classes, else cut at 0.7 x the top merge height)\n"
    "  --classes FILE          reference class per label, lines 'label<TAB>class': adds purity,\n"
    "                          ARI, class silhouette and a class strip to the dendrogram\n"
    "  --title TEXT            dendrogram title\n"
    "  --orientation top|left  dendrogram layout (default top up to 40 leaves, else left)\n"
    "Writes OUT/linkage.npy ((n-1, 4) float64, scipy layout), OUT/clusters.json and\n"
    "OUT/dendrogram.{pdf,svg,png}. Restyle the figure later with 'napkit plot dendrogram OUT'.\n";

/* Labels: from a file, a naps.json, or row numbers; checked against n. */
static int load_labels(const char *file, const char *naps_json, int n, char ***labels) {
    int m = 0, rc;
    if (file || naps_json) {
        rc = file ? nk_read_lines(file, labels, &m) : nk_naps_read_groups(naps_json, labels, &m);
        if (!rc && m != n) {
            nk_strings_free(*labels, m);
            *labels = NULL;
            rc = nk_fail(NK_ERR_FORMAT, "%s: %d labels for %d observations", file ? file : naps_json, m, n);
        }
        return rc;
    }
    *labels = calloc(n, sizeof(char *));
    for (int i = 0; *labels && i < n; i++)
        if (((*labels)[i] = malloc(16))) snprintf((*labels)[i], 16, "%d", i);
    return *labels ? NK_OK : nk_fail(NK_ERR_NOMEM, "out of memory");
}

static int cluster_main(int argc, char **argv, const char *cmdline) {
    enum { O_LABELS = 256, O_NAPSJSON, O_NAPSDIR, O_LAYER, O_METHOD, O_METRIC, O_OPT, O_K, O_CLASSES, O_TITLE, O_ORIENT };
    static const struct option opts[] = {
        {"labels", 1, 0, O_LABELS}, {"naps-json", 1, 0, O_NAPSJSON}, {"naps-dir", 1, 0, O_NAPSDIR},
        {"layer", 1, 0, O_LAYER}, {"method", 1, 0, O_METHOD}, {"metric", 1, 0, O_METRIC},
        {"optimal-order", 0, 0, O_OPT}, {"k", 1, 0, O_K}, {"classes", 1, 0, O_CLASSES},
        {"title", 1, 0, O_TITLE}, {"orientation", 1, 0, O_ORIENT}, {"output", 1, 0, 'o'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    static const char *const orientations[] = {"top", "left", NULL};
    nk_cluster_config c;
    nk_cluster_config_default(&c);
    const char *out = NULL, *labels_file = NULL, *naps_json = NULL, *naps_dir = NULL, *classes_file = NULL,
               *title = NULL;
    int layer = -1, method = c.method, metric = c.metric, orient = -1, bad = 0;
    for (int o; (o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1 && !bad;) {
        switch (o) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'o': out = optarg; break;
        case O_LABELS: labels_file = optarg; break;
        case O_NAPSJSON: naps_json = optarg; break;
        case O_NAPSDIR: naps_dir = optarg; break;
        case O_LAYER: bad = cli_int("cluster", "--layer", optarg, 0, 100000, &layer); break;
        case O_METHOD: bad = cli_choice("cluster", "--method", optarg, nk_linkage_method_names, &method); break;
        case O_METRIC: bad = cli_choice("cluster", "--metric", optarg, nk_metric_names, &metric); break;
        case O_OPT: c.optimal_order = 1; break;
        case O_K: bad = cli_int("cluster", "--k", optarg, 1, 1000000, &c.k); break;
        case O_CLASSES: classes_file = optarg; break;
        case O_TITLE: title = optarg; break;
        case O_ORIENT: bad = cli_choice("cluster", "--orientation", optarg, orientations, &orient); break;
        default: return cli_usage_error("cluster", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (bad) return bad;
    if (!out) return cli_usage_error("cluster", "needs -o OUT (a directory)");
    if (naps_dir ? optind != argc : optind != argc - 1)
        return cli_usage_error("cluster", naps_dir ? "takes no INPUT with --naps-dir" : "expects exactly one INPUT.npy");
    if (naps_dir && layer < 0) return cli_usage_error("cluster", "--naps-dir needs --layer N");
    if (!naps_dir && layer >= 0) return cli_usage_error("cluster", "--layer needs --naps-dir");
    if (labels_file && naps_json) return cli_usage_error("cluster", "give --labels or --naps-json, not both");
    if (naps_dir && (labels_file || naps_json))
        return cli_usage_error("cluster", "--naps-dir takes its labels from naps.json");
    c.method = (nk_linkage_method)method, c.metric = (nk_metric)metric;
    if (nk_linkage_needs_euclidean(c.method) && c.metric != NK_METRIC_EUCLIDEAN)
        return cli_usage_error("cluster", "--method %s needs --metric euclidean", nk_linkage_method_names[method]);

    double *X = NULL;
    char **labels = NULL, **class_names = NULL;
    int n = 0, d = 0, n_classes = 0, *classes = NULL, rc;
    char input[1100];
    if (naps_dir) {
        snprintf(input, sizeof input, "%s (layer %d)", naps_dir, layer);
        rc = nk_naps_read_flat(naps_dir, layer, &X, &n, &d, &labels);
    } else {
        snprintf(input, sizeof input, "%s", argv[optind]);
        rc = nk_matrix_read_f64(argv[optind], &X, &n, &d);
        if (!rc) rc = load_labels(labels_file, naps_json, n, &labels);
    }
    if (!rc && n < 2) rc = nk_fail(NK_ERR_EMPTY, "%s: need at least 2 observations to cluster", input);
    if (!rc && classes_file) {
        classes = malloc(sizeof(int) * n);
        rc = classes ? nk_read_classes(classes_file, (const char *const *)labels, n, classes, &class_names, &n_classes)
                     : nk_fail(NK_ERR_NOMEM, "out of memory");
        if (!rc && c.k == 0) c.k = n_classes;
    }
    nk_cluster_result r = {0};
    if (!rc) rc = nk_cluster_analyze(X, n, d, &c, classes, &r);
    if (!rc) {
        nk_plot_style st;
        nk_plot_style_default(&st);
        st.title = title;
        st.settings = cmdline;
        rc = nk_cluster_write_dir(out, input, &c, &r, (const char *const *)labels, classes,
                                  (const char *const *)class_names, n_classes, orient, &st, NULL);
    }
    if (!rc) {
        printf("%d observations, %s/%s: cophenetic correlation %.4f, %d flat clusters, silhouette %.4f", n,
               nk_linkage_method_names[c.method], nk_metric_names[c.metric], r.cophenetic, r.n_flat, r.silhouette);
        if (classes) printf(", purity %.4f, ARI %.4f", r.purity, r.ari);
        printf(" -> %s\n", out);
    }
    nk_cluster_result_free(&r);
    free(X), free(classes);
    nk_strings_free(labels, n);
    nk_strings_free(class_names, n_classes);
    return rc ? cli_fail("cluster") : EXIT_OK;
}

int cmd_cluster(int argc, char **argv) {
    /* The figure records the command line, taken before getopt permutes argv. */
    char *cmdline = nk_plot_command_line(argc, argv);
    int rc = cluster_main(argc, argv, cmdline);
    free(cmdline);
    return rc;
}
