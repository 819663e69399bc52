/* napkit sanity: the model-randomization test of attribution methods over a
 * corpus, as a table (JSON, CSV) and similarity-vs-depth figures. */
#include "cli.h"

#include "napkit/napkit.h"
#include "napkit/sanity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_sanity_summary[] = "model-randomization sanity checks of attribution methods";

static const char usage[] =
    "usage: napkit sanity --model MODEL CORPUS... [--methods M1,M2,...] [--target SPEC] -o DIR\n"
    "                     [--mode cascade|independent|both] [--seed N] [--max-utterances N]\n"
    "--methods   attribution methods (default saliency,gxi,ig,guided,gradcam,guided-gradcam,lrp-eps)\n"
    "--target    token:mid (default: each utterance's middle token of its forced-aligned transcript),\n"
    "            or any target of 'napkit attribute' (token:N, logit:K:T, unit:L:C:T, ctc)\n"
    "--mode      cascading re-initialization from the top, one layer at a time, or both (default)\n"
    "--seed      seed of the re-initialized weights (PyTorch's Conv1d default init), default 1\n"
    "--max-utterances N   use the first N utterances (default 20)\n"
    "Writes into DIR: sanity.json, sanity.csv (mode, step, layer, method, Spearman of |S|, Spearman\n"
    "of S, SSIM, standard errors, n) and sanity_MODE_METRIC.{pdf,svg,png}: one curve per method.\n";

static const char *const metric_names[] = {"spearman_abs", "spearman", "ssim"};

static int write_table(const char *dir, const nk_arch *a, const int *modes, int n_modes, const int *methods, int nm,
                       const nk_sanity_sim *const *res) {
    const int L = a->n_layers;
    size_t cap = 256 + (size_t)n_modes * (L + 1) * nm * 400, len = 0, jl = 0;
    char *csv = malloc(cap), *json = malloc(cap);
    if (!csv || !json) {
        free(csv), free(json);
        return nk_fail(NK_ERR_NOMEM, "sanity: out of memory");
    }
    len += snprintf(csv, cap, "mode,step,layer,method,spearman_abs,spearman,ssim,spearman_abs_sem,spearman_sem,ssim_sem,n\n");
    jl += snprintf(json, cap, "{\"model\": \"%s\", \"layers\": %d, \"rows\": [\n", a->name, L);
    for (int i = 0; i < n_modes; i++)
        for (int s = 0; s <= L; s++)
            for (int k = 0; k < nm; k++) {
                const nk_sanity_sim *r = &res[i][s * nm + k];
                const char *mode = nk_sanity_mode_names[modes[i]], *meth = nk_attr_method_names[methods[k]];
                len += snprintf(csv + len, cap - len, "%s,%d,%d,%s,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%d\n", mode, s,
                                s ? L - s : -1, meth, r->spearman_abs, r->spearman, r->ssim, r->spearman_abs_sem,
                                r->spearman_sem, r->ssim_sem, r->n);
                jl += snprintf(json + jl, cap - jl,
                               "  {\"mode\": \"%s\", \"step\": %d, \"layer\": %d, \"method\": \"%s\", "
                               "\"spearman_abs\": %.6f, \"spearman\": %.6f, \"ssim\": %.6f, \"spearman_abs_sem\": %.6f, "
                               "\"spearman_sem\": %.6f, \"ssim_sem\": %.6f, \"n\": %d}%s\n",
                               mode, s, s ? L - s : -1, meth, r->spearman_abs, r->spearman, r->ssim,
                               r->spearman_abs_sem, r->spearman_sem, r->ssim_sem, r->n,
                               i == n_modes - 1 && s == L && k == nm - 1 ? "" : ",");
            }
    jl += snprintf(json + jl, cap - jl, "]}\n");
    char *p1 = nk_path_join(dir, "sanity.csv"), *p2 = nk_path_join(dir, "sanity.json");
    int rc = p1 && p2 ? nk_write_file(p1, csv, len) : nk_fail(NK_ERR_NOMEM, "out of memory");
    if (!rc) rc = nk_write_file(p2, json, jl);
    free(p1), free(p2), free(csv), free(json);
    return rc;
}

/* One figure per mode and metric: similarity vs. step, one curve per method. */
static int write_figures(const char *dir, const nk_arch *a, const int *modes, int n_modes, const int *methods, int nm,
                         const nk_sanity_sim *const *res, const char *settings) {
    const int L = a->n_layers, S = L + 1;
    float *mean = malloc(sizeof(float) * nm * S), *sem = malloc(sizeof(float) * nm * S);
    const char *labels[NK_ATTR_N_METHODS];
    int rc = mean && sem ? 0 : nk_fail(NK_ERR_NOMEM, "out of memory");
    for (int k = 0; k < nm; k++) labels[k] = nk_attr_method_names[methods[k]];
    for (int i = 0; i < n_modes && !rc; i++)
        for (int q = 0; q < 3 && !rc; q++) {
            for (int k = 0; k < nm; k++)
                for (int s = 0; s < S; s++) {
                    const nk_sanity_sim *r = &res[i][s * nm + k];
                    const double v[6] = {r->spearman_abs, r->spearman, r->ssim, r->spearman_abs_sem, r->spearman_sem,
                                         r->ssim_sem};
                    mean[k * S + s] = (float)v[q], sem[k * S + s] = (float)v[q + 3];
                }
            char name[64], title[96];
            snprintf(name, sizeof name, "sanity_%s_%s", nk_sanity_mode_names[modes[i]], metric_names[q]);
            snprintf(title, sizeof title, "%s randomization of %s: %s", nk_sanity_mode_names[modes[i]], a->name,
                     metric_names[q]);
            nk_plot_style st;
            nk_plot_style_default(&st);
            st.title = title, st.settings = settings, st.ylabel = metric_names[q];
            st.xlabel = modes[i] == NK_SANITY_CASCADE ? "layers re-initialized, from the top"
                                                      : "step s: layer L - s re-initialized alone";
            char *path = nk_path_join(dir, name);
            rc = path ? nk_plot_erp(mean, sem, nm, S, labels, NULL, &st, path) : nk_fail(NK_ERR_NOMEM, "out of memory");
            free(path);
        }
    free(mean), free(sem);
    return rc;
}

/* Parses a comma-separated list of method names. */
static int parse_methods(const char *s, int *methods, int *n) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    *n = 0;
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*n == NK_ATTR_N_METHODS) return cli_usage_error("sanity", "--methods lists too many methods");
        int bad = cli_choice("sanity", "--methods", tok, nk_attr_method_names, &methods[(*n)++]);
        if (bad) return bad;
    }
    return *n ? 0 : cli_usage_error("sanity", "--methods is empty");
}

int cmd_sanity(int argc, char **argv) {
    enum { O_MODEL = 256, O_METHODS, O_TARGET, O_MODE, O_SEED, O_MAX };
    static const struct option opts[] = {
        {"model", 1, 0, O_MODEL}, {"methods", 1, 0, O_METHODS}, {"target", 1, 0, O_TARGET},
        {"mode", 1, 0, O_MODE}, {"seed", 1, 0, O_SEED}, {"max-utterances", 1, 0, O_MAX},
        {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    static const char *const mode_names[] = {"cascade", "independent", "both", NULL};
    const char *model_path = NULL, *dir = NULL, *target = "token:mid";
    int methods[NK_ATTR_N_METHODS] = {NK_ATTR_SALIENCY, NK_ATTR_GXI,      NK_ATTR_IG,     NK_ATTR_GUIDED,
                                      NK_ATTR_GRADCAM,  NK_ATTR_GUIDED_GRADCAM, NK_ATTR_LRP_EPS};
    int nm = 7, mode = 2, seed = 1, max_utts = 20, bad = 0;
    for (int c; (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1 && !bad;) {
        switch (c) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'o': dir = optarg; break;
        case O_MODEL: model_path = optarg; break;
        case O_METHODS: bad = parse_methods(optarg, methods, &nm); break;
        case O_TARGET: target = optarg; break;
        case O_MODE: bad = cli_choice("sanity", "--mode", optarg, mode_names, &mode); break;
        case O_SEED: bad = cli_int("sanity", "--seed", optarg, 0, 2147483647, &seed); break;
        case O_MAX: bad = cli_int("sanity", "--max-utterances", optarg, 1, 1000000, &max_utts); break;
        default: return cli_usage_error("sanity", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (bad) return bad;
    if (!model_path) return cli_usage_error("sanity", "needs --model MODEL");
    if (optind >= argc) return cli_usage_error("sanity", "needs at least one CORPUS");
    if (!dir) return cli_usage_error("sanity", "needs -o DIR");
    const int mid = !strcmp(target, "token:mid");
    nk_target proto;
    if (!mid && nk_target_parse(target, &proto)) return cli_usage_error("sanity", "%s", nk_last_error());

    nk_model *m;
    if (nk_model_load(model_path, &m)) return cli_fail("sanity");
    const nk_arch *a = nk_model_arch(m);
    nk_dataset *data = NULL;
    cli_data_options dopt = {.max_utterances = (size_t)max_utts, .threads = 2};
    int rc = cli_load_dataset("sanity", a, argv + optind, argc - optind, &dopt, &data);
    if (rc) {
        nk_model_free(m);
        return rc;
    }
    const int n = (int)nk_dataset_size(data), L = a->n_layers;
    const float **x = calloc(n, sizeof *x);
    int *T = calloc(n, sizeof *T), modes[2] = {mode == 1, 1}, n_modes = mode == 2 ? 2 : 1;
    nk_target *tg = calloc(n, sizeof *tg);
    nk_attr_options *o = calloc(nm, sizeof *o);
    nk_sanity_sim *res[2] = {calloc((size_t)(L + 1) * nm, sizeof **res), calloc((size_t)(L + 1) * nm, sizeof **res)};
    nk_workspace *ws = NULL;
    rc = !x || !T || !tg || !o || !res[0] || !res[1] ? nk_fail(NK_ERR_NOMEM, "out of memory") : nk_workspace_new(m, &ws);
    if (!rc && !n) rc = nk_fail(NK_ERR_EMPTY, "%s: no utterances", argv[optind]);
    for (int k = 0; k < nm && !rc; k++) nk_attr_options_default(&o[k]), o[k].method = (nk_attr_method)methods[k];
    for (int u = 0; u < n && !rc; u++) {
        const nk_example *ex = nk_dataset_get(data, u);
        x[u] = ex->x, T[u] = ex->T;
        if (mid) tg[u] = (nk_target){.kind = NK_TARGET_TOKEN, .layer = -1, .token = ex->U / 2};
        else tg[u] = proto;
        if ((rc = nk_target_resolve(m, ws, ex->x, ex->T, ex->labels, ex->U, &tg[u]))) {
            char why[400];
            snprintf(why, sizeof why, "%s", nk_last_error());
            rc = nk_fail(rc, "%s: %s", ex->id, why);
        }
    }
    for (int i = 0; i < n_modes && !rc; i++) {
        if (cli_show_progress) fprintf(stderr, "sanity: %s randomization over %d utterances\n",
                                       nk_sanity_mode_names[modes[i]], n);
        rc = nk_sanity_run(m, n, x, T, tg, o, nm, (nk_sanity_mode)modes[i], (uint64_t)seed, res[i]);
    }
    if (!rc) rc = nk_mkdirs(dir);
    if (!rc) rc = write_table(dir, a, modes, n_modes, methods, nm, (const nk_sanity_sim *const *)res);
    char *settings = nk_plot_command_line(argc, argv);
    if (!rc) rc = write_figures(dir, a, modes, n_modes, methods, nm, (const nk_sanity_sim *const *)res, settings);
    free(settings);
    for (int u = 0; tg && u < n; u++) nk_target_clear(&tg[u]);
    free(x), free(T), free(tg), free(o), free(res[0]), free(res[1]);
    nk_workspace_free(ws);
    nk_dataset_free(data);
    nk_model_free(m);
    return rc ? cli_fail("sanity") : EXIT_OK;
}
