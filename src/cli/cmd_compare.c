/* napkit compare: two models layer by layer over the same audio — CKA, unit
 * matching, phoneme-profile similarity and topographic maps. */
#include "cli.h"

#include "napkit/napkit.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_compare_summary[] = "compare two models: layer CKA, unit matching, profile similarity, topographic maps";

static const char usage[] =
    "usage: napkit compare --model-a A --model-b B --corpus CORPUS... -o DIR [options]\n"
    "  --corpus CORPUS       a corpus (repeatable; extra arguments are corpora too); the\n"
    "                        utterances present under both models' alphabets are used\n"
    "  --name-a NAME --name-b NAME  labels in figures and the summary (default: file names)\n"
    "  --layers all|0,3,9    layers compared (default all); CKA for every pair, unit\n"
    "                        matching for the same index in both models\n"
    "  --naps-a DIR --naps-b DIR  NAPs/GradNAPs folders ('napkit naps'): profile similarity\n"
    "                        on shared IPA phonemes, tanglegrams and topographic maps\n"
    "  --som-layer L         layer of the topographic maps (default 0)\n"
    "  --som-epochs N        SOM training epochs (default 1000)\n"
    "  --seed N              SOM seed (default 1)\n"
    "  --threads N           utterances in parallel (default 2)\n"
    "  --max-utterances N    the first N of each corpus\n"
    "  --quiet               no progress line\n"
    "Writes DIR/cka.npy, cka.{pdf,svg,png}, per layer corr_LL.npy, matching_LL.json,\n"
    "matching_LL and matched_LL figures; with NAPs profile_similarity.json, tanglegram_LL\n"
    "and topomap_LL figures; and summary.md with the numbers.\n";

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { interrupted = sig; }

/* "all" or a comma list → layer indices in [0, L), in the order given, no repeats. */
static int layer_list(const char *arg, int L, int *out, int *n) {
    *n = 0;
    if (!strcmp(arg, "all")) {
        for (int l = 0; l < L; l++) out[(*n)++] = l;
        return 0;
    }
    for (const char *p = arg; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || (*end && *end != ',')) return cli_usage_error("compare", "--layers: '%s' is not 'all' or a list like 0,3,9", arg);
        if (v < 0 || v >= L) return cli_usage_error("compare", "--layers: no layer %ld (the models have layers 0 to %d)", v, L - 1);
        for (int k = 0; k < *n; k++)
            if (out[k] == v) return cli_usage_error("compare", "--layers: layer %ld given twice", v);
        out[(*n)++] = (int)v;
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* "models/en.safetensors" → "en" (malloc'd). */
static char *stem(const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    char *s = strdup(b), *dot = s ? strchr(s, '.') : NULL;
    if (dot && dot != s) *dot = '\0';
    return s;
}

static int load_model(const char *path, nk_model **m) {
    nk_safetensors *st = NULL;
    int rc = nk_model_load_extra(path, m, &st); /* a training checkpoint works as well */
    if (st) nk_st_close(st);
    return rc;
}

/* The utterances every corpus holds under both alphabets, in corpus order. */
typedef struct {
    nk_corpus **c; /* (2 n): A's opening and B's of each spec */
    int n;
    nk_compare_utt *u;
    size_t n_utt, n_dropped;
    double seconds;
} corpus_set;

static void corpus_set_free(corpus_set *s) {
    for (int i = 0; s->c && i < 2 * s->n; i++) nk_corpus_free(s->c[i]);
    free(s->c), free(s->u);
}

static int open_corpora(char *const *specs, int n, const nk_arch *A, const nk_arch *B, size_t max_utt, corpus_set *s) {
    memset(s, 0, sizeof *s);
    s->n = n;
    s->c = calloc(2 * (size_t)n, sizeof *s->c);
    nk_alphabet *alpha[2] = {NULL, NULL};
    int rc = s->c ? 0 : nk_fail(NK_ERR_NOMEM, "out of memory");
    for (int side = 0; !rc && side < 2; side++) {
        const nk_arch *arch = side ? B : A;
        rc = nk_alphabet_new((const char *const *)arch->alphabet, arch->n_classes, &alpha[side]);
    }
    size_t total = 0;
    for (int i = 0; !rc && i < 2 * n; i++) {
        nk_corpus_options co;
        nk_corpus_options_default(&co, alpha[i & 1]);
        co.max_utterances = max_utt;
        rc = nk_corpus_open(specs[i / 2], &co, &s->c[i]);
        if (!rc && !(i & 1)) total += nk_corpus_size(s->c[i]);
    }
    s->u = rc ? NULL : malloc(sizeof *s->u * (total + 1));
    if (!rc && !s->u) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
    for (int i = 0; !rc && i < n; i++) {
        const nk_corpus *ca = s->c[2 * i], *cb = s->c[2 * i + 1];
        /* Both openings list utterances sorted by path: walk them together. */
        size_t j = 0, nb = nk_corpus_size(cb);
        for (size_t k = 0; k < nk_corpus_size(ca); k++) {
            const nk_utterance *ua = nk_corpus_get(ca, k);
            while (j < nb && strcmp(nk_corpus_get(cb, j)->audio, ua->audio) < 0) j++;
            if (j < nb && !strcmp(nk_corpus_get(cb, j)->audio, ua->audio)) {
                s->u[s->n_utt++] = (nk_compare_utt){.id = ua->id, .audio = ua->audio};
                s->seconds += ua->duration > 0 ? ua->duration : 0;
            } else {
                s->n_dropped++;
            }
        }
    }
    nk_alphabet_free(alpha[0]), nk_alphabet_free(alpha[1]);
    return rc;
}

typedef struct {
    nk_progress *p;
    size_t n_failed;
} run_ctx;

static int after_utterance(void *ctx, size_t done, const nk_compare_utt *u, const char *failed) {
    run_ctx *c = ctx;
    if (failed && c->n_failed++ < 10) fprintf(stderr, "\nnapkit compare: skipped utterance %s: %s\n", u->id, failed);
    nk_progress_update(c->p, done, (double)done, NULL);
    return interrupted != 0;
}

int cmd_compare(int argc, char **argv) {
    enum { O_MA = 256, O_MB, O_CORPUS, O_NA, O_NB, O_LAYERS, O_NAPSA, O_NAPSB, O_SOML, O_SOME, O_SEED, O_THREADS,
           O_MAXU, O_QUIET };
    static const struct option opts[] = {
        {"model-a", 1, 0, O_MA}, {"model-b", 1, 0, O_MB}, {"corpus", 1, 0, O_CORPUS}, {"name-a", 1, 0, O_NA},
        {"name-b", 1, 0, O_NB}, {"layers", 1, 0, O_LAYERS}, {"naps-a", 1, 0, O_NAPSA}, {"naps-b", 1, 0, O_NAPSB},
        {"som-layer", 1, 0, O_SOML}, {"som-epochs", 1, 0, O_SOME}, {"seed", 1, 0, O_SEED},
        {"threads", 1, 0, O_THREADS}, {"max-utterances", 1, 0, O_MAXU}, {"quiet", 0, 0, O_QUIET},
        {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *path_a = NULL, *path_b = NULL, *out = NULL, *layers_arg = "all", *naps_a = NULL, *naps_b = NULL;
    char *name_a = NULL, *name_b = NULL;
    char **specs = calloc(argc + 1, sizeof *specs);
    int n_specs = 0, som_layer = 0, som_epochs = 1000, seed = 1, threads = 2, max_utt = 0, bad = 0;
    if (!specs) return cli_fail("compare");
    for (int o; (o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1 && !bad;) {
        switch (o) {
        case 'h': fputs(usage, stdout); free(specs); return EXIT_OK;
        case 'o': out = optarg; break;
        case O_MA: path_a = optarg; break;
        case O_MB: path_b = optarg; break;
        case O_CORPUS: specs[n_specs++] = optarg; break;
        case O_NA: name_a = optarg; break;
        case O_NB: name_b = optarg; break;
        case O_LAYERS: layers_arg = optarg; break;
        case O_NAPSA: naps_a = optarg; break;
        case O_NAPSB: naps_b = optarg; break;
        case O_SOML: bad = cli_int("compare", "--som-layer", optarg, 0, 10000, &som_layer); break;
        case O_SOME: bad = cli_int("compare", "--som-epochs", optarg, 1, 1000000, &som_epochs); break;
        case O_SEED: bad = cli_int("compare", "--seed", optarg, 0, 2000000000, &seed); break;
        case O_THREADS: bad = cli_int("compare", "--threads", optarg, 1, 256, &threads); break;
        case O_MAXU: bad = cli_int("compare", "--max-utterances", optarg, 1, 2000000000, &max_utt); break;
        case O_QUIET: cli_show_progress = 0; break;
        default: free(specs); return cli_usage_error("compare", "unknown option '%s'", argv[optind - 1]);
        }
    }
    while (!bad && optind < argc) specs[n_specs++] = argv[optind++];
    const char *problem = bad            ? NULL
                          : !path_a || !path_b ? "needs --model-a and --model-b"
                          : !n_specs   ? "needs at least one --corpus"
                          : !out       ? "needs -o DIR"
                          : !naps_a != !naps_b ? "--naps-a and --naps-b go together"
                                                 : NULL;
    if (bad || problem) {
        free(specs);
        return bad ? bad : cli_usage_error("compare", "%s", problem);
    }
    char *own_a = name_a ? NULL : stem(path_a), *own_b = name_b ? NULL : stem(path_b);
    if (!name_a) name_a = own_a;
    if (!name_b) name_b = own_b;

    nk_model *a = NULL, *b = NULL;
    int rc = EXIT_OK;
    if (load_model(path_a, &a) || load_model(path_b, &b)) rc = cli_fail("compare");
    const nk_arch *A = a ? nk_model_arch(a) : NULL, *B = b ? nk_model_arch(b) : NULL;
    int L = A && B ? (A->n_layers < B->n_layers ? A->n_layers : B->n_layers) : 0;
    int *layers = malloc(sizeof(int) * (L + 1)), n_layers = 0;
    if (!rc && !layers) rc = cli_fail("compare");
    if (!rc) rc = layer_list(layers_arg, L, layers, &n_layers);
    if (!rc && naps_a && (som_layer >= L)) rc = cli_usage_error("compare", "--som-layer %d: the models have layers 0 to %d", som_layer, L - 1);
    corpus_set cs = {0};
    if (!rc && open_corpora(specs, n_specs, A, B, (size_t)max_utt, &cs)) rc = cli_fail("compare");
    if (!rc && cs.n_dropped)
        fprintf(stderr, "napkit compare: %zu utterances readable under only one model's alphabet were left out\n", cs.n_dropped);
    for (int i = 0; !rc && i < 2 * n_specs; i++)
        if (nk_corpus_n_skipped(cs.c[i]) && !(i & 1))
            fprintf(stderr, "napkit compare: %s: skipped %zu items (first: %s: %s)\n", specs[i / 2],
                    nk_corpus_n_skipped(cs.c[i]), nk_corpus_skipped(cs.c[i], 0)->file, nk_corpus_skipped(cs.c[i], 0)->reason);

    nk_cmp_moments *m = NULL;
    nk_compare_result res = {0};
    size_t used = 0;
    run_ctx ctx = {0};
    if (!rc) {
        int *ca = malloc(sizeof(int) * (n_layers + 1)), *cb = malloc(sizeof(int) * (n_layers + 1));
        for (int i = 0; ca && cb && i < n_layers; i++) ca[i] = A->layers[layers[i]].out, cb[i] = B->layers[layers[i]].out;
        if (!ca || !cb || nk_cmp_moments_new(n_layers, ca, n_layers, cb, &m)) rc = cli_fail("compare");
        free(ca), free(cb);
    }
    if (!rc) {
        signal(SIGINT, on_signal), signal(SIGTERM, on_signal);
        ctx.p = nk_progress_new("compare", cs.n_utt, "utt", cli_show_progress);
        int r = nk_compare_run(a, layers, n_layers, b, layers, n_layers, cs.u, cs.n_utt, threads, after_utterance, &ctx, m, &used);
        nk_progress_finish(ctx.p);
        signal(SIGINT, SIG_DFL), signal(SIGTERM, SIG_DFL);
        if (ctx.n_failed) fprintf(stderr, "napkit compare: %zu utterances skipped\n", ctx.n_failed);
        if (r) rc = cli_fail("compare");
    }
    nk_plot_style st;
    nk_plot_style_default(&st);
    st.settings = nk_plot_command_line(argc, argv);
    if (!rc && (nk_compare_analyze(m, layers, n_layers, layers, n_layers, &res) ||
                nk_compare_write(&res, name_a, name_b, &st, out)))
        rc = cli_fail("compare");

    nk_profile_result pr = {0};
    nk_topo_result tr = {0};
    if (!rc && naps_a) {
        nk_topo_config tc;
        nk_topo_config_default(&tc);
        tc.layer = som_layer, tc.epochs = som_epochs, tc.seed = (unsigned)seed;
        if (nk_compare_profiles(naps_a, naps_b, &res, name_a, name_b, &st, out, &pr) ||
            nk_compare_topomaps(naps_a, naps_b, &tc, name_a, name_b, &st, out, &tr))
            rc = cli_fail("compare");
    }
    if (!rc) {
        nk_compare_info info = {name_a, name_b, path_a, path_b, (const char *const *)specs, n_specs, used,
                                cs.n_utt - used, cs.seconds};
        if (nk_compare_summary_write(&info, &res, naps_a ? &pr : NULL, naps_a ? &tr : NULL, out)) rc = cli_fail("compare");
        else if (cli_show_progress)
            fprintf(stderr, "napkit compare: %zu utterances, %.0f frames, %d layers → %s\n", used, res.samples, n_layers, out);
    }
    nk_profile_result_free(&pr);
    nk_topo_result_free(&tr);
    nk_compare_result_free(&res);
    nk_cmp_moments_free(m);
    corpus_set_free(&cs);
    free((char *)st.settings), free(layers), free(own_a), free(own_b), free(specs);
    nk_model_free(a), nk_model_free(b);
    return rc;
}
