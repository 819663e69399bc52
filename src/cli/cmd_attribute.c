/* napkit attribute: an attribution map of one target over the input features,
 * as .npy, a JSON report and a figure. */
#include "cli.h"

#include "napkit/napkit.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_attribute_summary[] = "attribution maps: saliency, IG, Grad-CAM, occlusion, LRP, …";

static const char usage[] =
    "usage: napkit attribute --model MODEL (AUDIO | --features X.npy) --method METHOD --target TARGET\n"
    "                        [options] -o DIR\n"
    "METHOD  saliency | gxi | smoothgrad | ig | guided | gradcam | guided-gradcam | occlusion |\n"
    "        lrp-eps | lrp-ab | lrp-gamma\n"
    "TARGET  logit:K:T    the logit of class K at output frame T\n"
    "        token:N      the N-th token (from 0) over its frames: of --text's forced alignment,\n"
    "                     else of the greedy transcript\n"
    "        unit:L:C:T   unit C of layer L at its frame T (after the activation)\n"
    "        ctc          log p(--text | X) (= −CTC loss), or of the greedy transcript\n"
    "--text TEXT          reference transcript for token and ctc targets\n"
    "--textgrid FILE      alignment whose tiers (words, phones) go under the figure\n"
    "--layer L            Grad-CAM layer (default: the one below the last)\n"
    "--window W           Grad-CAM: average gradients over ±W frames of that layer around the\n"
    "                     target (default: all frames)\n"
    "--samples N --noise S --seed N   SmoothGrad (25, 0.15 of the range of X, 1)\n"
    "--steps M            integrated gradients: steps to start from (50), doubled while the map\n"
    "                     misses more than --ig-tolerance (0.05) of y(X) - y(baseline), up to\n"
    "                     --max-steps (3200); --ig-tolerance 0 keeps exactly M\n"
    "--baseline X.npy     IG and occlusion baseline (default zeros: the mean of normalized features)\n"
    "--patch T[xF] --stride T[xF]     occlusion patch and stride in frames × bands (10, 5; all bands)\n"
    "--eps E --gamma G --alpha A      LRP (1e-9, 0.25, 1 with β = α − 1)\n"
    "--lrp-input zb|w2|same           LRP rule for the input layer (zb)\n"
    "--no-figure          write only the arrays and the report\n"
    "Writes into DIR: attribution.npy ((F, T), or (T) for gradcam), attribution.json (the target,\n"
    "y(X), Σ map and, for ig and LRP, the completeness error) and attribution.{pdf,svg,png}.\n";

/* "T" or "TxF" → two positive ints (F stays as given when absent). */
static int parse_pair(const char *flag, const char *s, int *t, int *f) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    char *x = strchr(buf, 'x');
    if (x) *x = '\0';
    if (cli_int("attribute", flag, buf, 1, 1 << 20, t)) return EXIT_USAGE;
    return x ? cli_int("attribute", flag, x + 1, 1, 1 << 20, f) : 0;
}

static int write_report(const char *dir, const char *method, const char *target, const nk_target *tg,
                        const nk_attr_report *r, int F, int T) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "method", method);
    cJSON_AddStringToObject(j, "target", target);
    if (tg->kind != NK_TARGET_CTC) {
        cJSON_AddNumberToObject(j, "layer", tg->layer);
        cJSON_AddNumberToObject(j, "channel", tg->channel);
        cJSON_AddNumberToObject(j, "frame_start", tg->t0);
        cJSON_AddNumberToObject(j, "frame_end", tg->t1);
    } else {
        cJSON_AddNumberToObject(j, "n_labels", tg->n_labels);
    }
    cJSON_AddNumberToObject(j, "rows", r->rows);
    cJSON_AddNumberToObject(j, "input_dim", F);
    cJSON_AddNumberToObject(j, "frames", T);
    cJSON_AddNumberToObject(j, "y", r->y);
    cJSON_AddNumberToObject(j, "sum", r->sum);
    if (!strcmp(method, "ig")) {
        cJSON_AddNumberToObject(j, "y_baseline", r->y_baseline);
        cJSON_AddNumberToObject(j, "steps", r->steps);
    }
    if (!strcmp(method, "ig") || !strncmp(method, "lrp", 3))
        cJSON_AddNumberToObject(j, "completeness_error", r->completeness);
    int rc = nk_write_json_in(dir, "attribution.json", j);
    cJSON_Delete(j);
    return rc;
}

int cmd_attribute(int argc, char **argv) {
    enum { O_MODEL = 256, O_FEATURES, O_METHOD, O_TARGET, O_TEXT, O_TEXTGRID, O_LAYER, O_WINDOW, O_SAMPLES,
           O_NOISE, O_SEED, O_STEPS, O_MAX_STEPS, O_IG_TOL, O_BASELINE, O_PATCH, O_STRIDE, O_EPS, O_GAMMA, O_ALPHA, O_LRP_INPUT,
           O_NO_FIGURE };
    static const struct option opts[] = {
        {"model", 1, 0, O_MODEL}, {"features", 1, 0, O_FEATURES}, {"method", 1, 0, O_METHOD},
        {"target", 1, 0, O_TARGET}, {"text", 1, 0, O_TEXT}, {"textgrid", 1, 0, O_TEXTGRID},
        {"layer", 1, 0, O_LAYER}, {"window", 1, 0, O_WINDOW}, {"samples", 1, 0, O_SAMPLES},
        {"noise", 1, 0, O_NOISE}, {"seed", 1, 0, O_SEED}, {"steps", 1, 0, O_STEPS},
        {"max-steps", 1, 0, O_MAX_STEPS}, {"ig-tolerance", 1, 0, O_IG_TOL},
        {"baseline", 1, 0, O_BASELINE}, {"patch", 1, 0, O_PATCH}, {"stride", 1, 0, O_STRIDE},
        {"eps", 1, 0, O_EPS}, {"gamma", 1, 0, O_GAMMA}, {"alpha", 1, 0, O_ALPHA},
        {"lrp-input", 1, 0, O_LRP_INPUT}, {"no-figure", 0, 0, O_NO_FIGURE}, {"output", 1, 0, 'o'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *model_path = NULL, *features = NULL, *dir = NULL, *target = NULL, *text = NULL;
    const char *textgrid = NULL, *baseline = NULL;
    int method = -1, bad = 0, figure = 1, seed = 1, lrp_input = NK_LRP_INPUT_ZB;
    nk_attr_options o;
    nk_attr_options_default(&o);
    for (int c; (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1 && !bad;) {
        switch (c) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'o': dir = optarg; break;
        case O_MODEL: model_path = optarg; break;
        case O_FEATURES: features = optarg; break;
        case O_METHOD: bad = cli_choice("attribute", "--method", optarg, nk_attr_method_names, &method); break;
        case O_TARGET: target = optarg; break;
        case O_TEXT: text = optarg; break;
        case O_TEXTGRID: textgrid = optarg; break;
        case O_LAYER: bad = cli_int("attribute", "--layer", optarg, 0, 1000, &o.cam_layer); break;
        case O_WINDOW: bad = cli_int("attribute", "--window", optarg, 0, 1 << 20, &o.cam_window); break;
        case O_SAMPLES: bad = cli_int("attribute", "--samples", optarg, 1, 100000, &o.samples); break;
        case O_NOISE: bad = cli_double("attribute", "--noise", optarg, 0, 100, &o.noise); break;
        case O_SEED: bad = cli_int("attribute", "--seed", optarg, 0, 2147483647, &seed); break;
        case O_STEPS: bad = cli_int("attribute", "--steps", optarg, 1, 100000, &o.steps); break;
        case O_MAX_STEPS: bad = cli_int("attribute", "--max-steps", optarg, 1, 1000000, &o.max_steps); break;
        case O_IG_TOL: bad = cli_double("attribute", "--ig-tolerance", optarg, 0, 1, &o.ig_tolerance); break;
        case O_BASELINE: baseline = optarg; break;
        case O_PATCH: bad = parse_pair("--patch", optarg, &o.patch_t, &o.patch_f); break;
        case O_STRIDE: bad = parse_pair("--stride", optarg, &o.stride_t, &o.stride_f); break;
        case O_EPS: bad = cli_double("attribute", "--eps", optarg, 0, 1e6, &o.eps); break;
        case O_GAMMA: bad = cli_double("attribute", "--gamma", optarg, 0, 1e6, &o.gamma); break;
        case O_ALPHA: bad = cli_double("attribute", "--alpha", optarg, 1, 1e6, &o.alpha); break;
        case O_LRP_INPUT: bad = cli_choice("attribute", "--lrp-input", optarg, nk_lrp_input_names, &lrp_input); break;
        case O_NO_FIGURE: figure = 0; break;
        default: return cli_usage_error("attribute", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (bad) return bad;
    const char *audio = optind < argc ? argv[optind] : NULL;
    if (argc - optind > 1) return cli_usage_error("attribute", "expects at most one AUDIO file");
    if (!model_path) return cli_usage_error("attribute", "needs --model MODEL");
    if (!audio == !features) return cli_usage_error("attribute", "needs either AUDIO or --features X.npy");
    if (method < 0) return cli_usage_error("attribute", "needs --method (see --help)");
    if (!target) return cli_usage_error("attribute", "needs --target logit:K:T|token:N|unit:L:C:T|ctc");
    if (!dir) return cli_usage_error("attribute", "needs -o DIR");
    o.method = (nk_attr_method)method, o.seed = (uint64_t)seed, o.lrp_input = (nk_lrp_input_rule)lrp_input;
    nk_target tg;
    if (nk_target_parse(target, &tg)) return cli_usage_error("attribute", "%s", nk_last_error());

    nk_model *m;
    if (nk_model_load(model_path, &m)) return cli_fail("attribute");
    const nk_arch *a = nk_model_arch(m);
    const int F = nk_arch_input_dim(a);
    float *x = NULL, *map = NULL;
    int T = 0, U = 0, *labels = NULL;
    nk_array bl = {0};
    nk_textgrid *grid = NULL;
    nk_workspace *ws = NULL;
    nk_attr_report rep;
    int rc = audio ? nk_model_features_from_audio(m, audio, &x, &T) : nk_model_features_from_npy(m, features, &x, &T);
    if (!rc && text) rc = nk_target_labels(a, text, &labels, &U);
    if (!rc && baseline && !(rc = nk_npy_read_f32(baseline, &bl)) &&
        (bl.ndim != 2 || bl.shape[0] != F || bl.shape[1] != T))
        rc = nk_fail(NK_ERR_FORMAT, "%s: the baseline must be (%d, %d) like the features", baseline, F, T);
    o.baseline = bl.data;
    if (!rc && textgrid) rc = nk_textgrid_read(textgrid, &grid);
    if (!rc) rc = nk_workspace_new(m, &ws);
    if (!rc) rc = nk_target_resolve(m, ws, x, T, labels, U, &tg);
    if (!rc && !(map = malloc((size_t)F * T * sizeof *map))) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
    if (!rc) rc = nk_attribute(m, ws, x, T, &tg, &o, map, &rep);
    if (!rc) rc = nk_mkdirs(dir);
    char *path = rc ? NULL : nk_path_join(dir, "attribution.npy");
    if (path) {
        long shape[2] = {rep.rows, T};
        rc = rep.rows == 1 ? nk_npy_write(path, NK_F32, 1, shape + 1, map) : nk_npy_write(path, NK_F32, 2, shape, map);
        free(path);
    }
    if (!rc) rc = write_report(dir, nk_attr_method_names[method], target, &tg, &rep, F, T);
    if (!rc && figure) {
        char title[160], *settings = nk_plot_command_line(argc, argv);
        snprintf(title, sizeof title, "%s of %s", nk_attr_method_names[method], target);
        path = nk_path_join(dir, "attribution");
        rc = nk_attr_plot(x, F, T, map, rep.rows, (double)a->frontend.hop / a->frontend.sample_rate, grid, NULL,
                          title, settings, path);
        free(path), free(settings);
    }
    if (!rc && (o.method == NK_ATTR_IG || o.method >= NK_ATTR_LRP_EPS))
        fprintf(stderr, "y(X) = %.6g, sum of the map = %.6g, completeness error %.3g\n", rep.y, rep.sum,
                rep.completeness);
    if (!rc && o.method == NK_ATTR_IG) fprintf(stderr, "integrated gradients over %d steps\n", rep.steps);
    /* A Riemann sum that has not resolved a steep stretch of the path gives a
     * map that does not add up, silently: on a trained model 50 steps can miss
     * 40 % of y(X) − y(baseline). The steps double until it adds up; when the
     * cap stops them short of the tolerance (a fixed count: of the default
     * one), say so, whatever --quiet says. */
    const double tolerance = o.ig_tolerance > 0 ? o.ig_tolerance : NK_IG_TOLERANCE;
    if (!rc && o.method == NK_ATTR_IG && rep.completeness_share > tolerance)
        fprintf(stderr,
                "napkit attribute: warning: the map misses %.0f%% of y(X) - y(baseline) at %d steps; "
                "raise %s until the completeness error is small\n",
                100 * rep.completeness_share, rep.steps,
                o.ig_tolerance == 0 ? "--steps (or drop --ig-tolerance 0)" : "--max-steps");
    free(x), free(map), free(labels);
    nk_array_free(&bl);
    nk_textgrid_free(grid);
    nk_target_clear(&tg);
    nk_workspace_free(ws);
    nk_model_free(m);
    return rc ? cli_fail("attribute") : EXIT_OK;
}
