/* napkit featvis: what a unit wants to hear — activation maximization rendered
 * to a spectrogram and audio, and the corpus frames where units fire most. */
#include "cli.h"

#include "napkit/featvis.h"
#include "napkit/napkit.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_featvis_summary[] = "feature visualization: activation maximization and top activating inputs";

static const char usage[] =
    "usage: napkit featvis maximize --model MODEL [options] -o DIR\n"
    "       napkit featvis top --model MODEL CORPUS... --units L:C[,L:C...] [-k K] [--context N] -o DIR\n"
    "maximize: gradient ascent (Adam) in log-mel space on\n"
    "  --objective unit|channel|layer|logit   (channel)  unit: z[C, frame] (before the ReLU);\n"
    "                      channel: mean of A[C, ·] over frames; layer: mean of A² (DeepDream);\n"
    "                      logit: class C at --frame or over all frames\n"
    "  --layer L (last)  --channel C (0)  --frame T (middle for unit, all for logit)\n"
    "  --frames N (200)  --steps N (500)  --lr X (0.1)  --l2 X (0)  --tv X (0)\n"
    "  --blur-every N (5) --blur-sigma X (1)  --jitter T[xF] (4x0)  --bound X (3: X = 3 tanh(./3); 0: none)\n"
    "  --no-normalize (X is not z-normalized like an utterance: its contrast is free, and h with it)\n"
    "  --no-smooth (optimize X itself, not its frequency-scaled DCT)  --init X (0.1)  --seed N (1)\n"
    "  --level MEAN:STD  log-mel level restored for audio under utterance normalization (-2.3:3.6)\n"
    "  --gl-iters N      Griffin-Lim iterations (100)\n"
    "  writes featvis.npy (F, T), trace.npy (the objective per step, then the result's), featvis.{pdf,svg,png},\n"
    "  featvis.wav and featvis.json (h at the start and of the result; X's range, spread and share of cells\n"
    "  within 10% of the bound)\n"
    "top: scans the corpus (one utterance in memory at a time) for each unit's K highest peaks (one per\n"
    "  utterance; K = 8) and writes unit_L_C/rank_NN.{wav,pdf,svg,png}: the audio the peak frame sees plus\n"
    "  --context frames (20) each side, its spectrogram with the unit's activation and the TextGrid tiers\n"
    "  beside the audio; top.json lists the hits. Several corpora are ranked each on its own, into\n"
    "  unit_L_C/corpus_N/ (N from 0 in command-line order).\n";

static int parse_pair(const char *flag, const char *s, char sep, double *a, double *b) {
    char buf[64], *end;
    snprintf(buf, sizeof buf, "%s", s);
    char *mid = strchr(buf, sep);
    if (mid) *mid = '\0';
    *a = strtod(buf, &end);
    if (end == buf || *end || (mid && (*b = strtod(mid + 1, &end), end == mid + 1 || *end)))
        return cli_usage_error("featvis", "%s wants numbers like A%cB, got '%s'", flag, sep, s);
    return 0;
}

/* The layer the objective reads (logits for LOGIT, as nk_featvis does). */
static int objective_layer(const nk_arch *a, const nk_featvis_options *o) {
    return o->objective == NK_FV_LOGIT || o->layer < 0 ? a->n_layers - 1 : o->layer;
}

static int plot_result(const nk_arch *a, const nk_featvis_options *o, const float *x, double h, const char *dir,
                       const char *settings) {
    char title[160];
    snprintf(title, sizeof title, "%s %d:%d of %s after %d steps (objective %.4g)", nk_fv_objective_names[o->objective],
             objective_layer(a, o), o->channel, a->name, o->steps, h);
    nk_matrix_axes ax;
    nk_matrix_axes_default(&ax);
    ax.origin_lower = 1, ax.dx = (double)a->frontend.hop / a->frontend.sample_rate, ax.clabel = "X";
    nk_plot_style st;
    nk_plot_style_default(&st);
    st.title = title, st.settings = settings, st.cmap = "magma", st.xlabel = "time (s)", st.ylabel = "mel band";
    char *path = nk_path_join(dir, "featvis");
    int rc = path ? nk_plot_matrix(x, nk_arch_input_dim(a), o->T, &ax, &st, path) : NK_ERR_NOMEM;
    free(path);
    return rc;
}

/* featvis.json and one line on stdout: the objective at the start and of the
 * result, and how X sits in its range — the share of cells within 10 % of the
 * bound tells a pattern from a run into the bound. */
static int summarize(const nk_arch *a, const nk_featvis_options *o, const float *x, const double *trace,
                     const char *dir) {
    const size_t N = (size_t)nk_arch_input_dim(a) * o->T;
    double lo = x[0], hi = x[0], sum = 0, ss = 0, near = 0;
    for (size_t i = 0; i < N; i++) {
        lo = fmin(lo, x[i]), hi = fmax(hi, x[i]), sum += x[i];
        near += o->bound > 0 && fabs(x[i]) > 0.9 * o->bound;
    }
    const double mean = sum / N;
    for (size_t i = 0; i < N; i++) ss += (x[i] - mean) * (x[i] - mean);
    const int layer = objective_layer(a, o);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "objective", nk_fv_objective_names[o->objective]);
    cJSON_AddNumberToObject(j, "layer", layer);
    cJSON_AddNumberToObject(j, "channel", o->channel);
    cJSON_AddNumberToObject(j, "steps", o->steps);
    cJSON_AddNumberToObject(j, "h_start", trace[0]);
    cJSON_AddNumberToObject(j, "h_last_step", trace[o->steps - 1]);
    cJSON_AddNumberToObject(j, "h_result", trace[o->steps]);
    cJSON_AddNumberToObject(j, "x_min", lo);
    cJSON_AddNumberToObject(j, "x_max", hi);
    cJSON_AddNumberToObject(j, "x_mean", mean);
    cJSON_AddNumberToObject(j, "x_std", sqrt(ss / N));
    cJSON_AddNumberToObject(j, "bound", o->bound);
    cJSON_AddNumberToObject(j, "near_bound", near / N);
    int rc = nk_write_json_in(dir, "featvis.json", j);
    cJSON_Delete(j);
    if (!rc)
        printf("%s %d:%d: h %.4g -> %.4g after %d steps; X in [%.2f, %.2f], std %.2f, %.2f%% of cells within 10%% of "
               "the bound\n",
               nk_fv_objective_names[o->objective], layer, o->channel, trace[0], trace[o->steps], o->steps, lo, hi,
               sqrt(ss / N), 100 * near / N);
    return rc;
}

static int write_audio(const nk_arch *a, const nk_featvis_options *o, const float *x, double mean, double std,
                       int gl_iters, const char *dir) {
    float *audio = NULL;
    size_t n = 0;
    int rc = nk_features_to_audio(a, x, o->T, mean, std, gl_iters, o->seed, &audio, &n);
    char *path = rc ? NULL : nk_path_join(dir, "featvis.wav");
    if (path) rc = nk_audio_write(path, audio, n, a->frontend.sample_rate);
    free(path), free(audio);
    return rc;
}

static int maximize(nk_model *m, const nk_featvis_options *o, double mean, double std, int gl_iters,
                    const char *dir, const char *settings) {
    const nk_arch *a = nk_model_arch(m);
    const int F = nk_arch_input_dim(a);
    float *x = malloc(sizeof(float) * F * o->T);
    double *trace = malloc(sizeof(double) * (o->steps + 1)); /* each step's h, then the result's */
    int rc = x && trace ? nk_featvis(m, o, x, trace) : nk_fail(NK_ERR_NOMEM, "out of memory");
    if (!rc) rc = nk_mkdirs(dir);
    char *path = rc ? NULL : nk_path_join(dir, "featvis.npy");
    if (path) rc = nk_npy_write(path, NK_F32, 2, (long[]){F, o->T}, x);
    free(path);
    path = rc ? NULL : nk_path_join(dir, "trace.npy");
    if (path) rc = nk_npy_write(path, NK_F64, 1, (long[]){o->steps + 1}, trace);
    free(path);
    if (!rc) rc = plot_result(a, o, x, trace[o->steps], dir, settings);
    if (!rc) rc = summarize(a, o, x, trace, dir);
    if (!rc && a->frontend.kind == NK_FEAT_LOGMEL) rc = write_audio(a, o, x, mean, std, gl_iters, dir);
    free(x), free(trace);
    return rc;
}

static int top(nk_model *m, char *const *specs, int n_specs, const char *units, int k, int context, const char *dir) {
    const nk_arch *a = nk_model_arch(m);
    int layer[64], channel[64], n = 0, rc = 0;
    for (const char *s = units; *s && n < 64; n++) {
        char *end;
        layer[n] = (int)strtol(s, &end, 10);
        if (*end != ':') return cli_usage_error("featvis", "--units wants L:C[,L:C...], got '%s'", units);
        channel[n] = (int)strtol(end + 1, &end, 10);
        if (*end && *end != ',') return cli_usage_error("featvis", "--units wants L:C[,L:C...], got '%s'", units);
        s = *end ? end + 1 : end;
    }
    nk_alphabet *alpha;
    if ((rc = nk_alphabet_new((const char *const *)a->alphabet, a->n_classes, &alpha))) return rc;
    nk_top_hit *hits = malloc(sizeof *hits * n * k);
    int *n_hits = malloc(sizeof *n_hits * n);
    FILE *js = NULL;
    nk_outfile out;
    char *path = nk_path_join(dir, "top.json");
    rc = hits && n_hits && path ? nk_mkdirs(dir) : nk_fail(NK_ERR_NOMEM, "out of memory");
    if (!rc && !(rc = nk_outfile_open(&out, path, 1))) js = out.fp;
    if (js) fprintf(js, "[\n");
    for (int c = 0; c < n_specs && !rc; c++) {
        nk_corpus *corpus;
        nk_corpus_options co;
        nk_corpus_options_default(&co, alpha);
        size_t skipped;
        if ((rc = nk_corpus_open(specs[c], &co, &corpus))) break;
        rc = nk_top_activations(m, corpus, n, layer, channel, k, hits, n_hits, &skipped);
        if (skipped) fprintf(stderr, "napkit featvis: %s: %zu unreadable utterances skipped\n", specs[c], skipped);
        for (int u = 0; u < n && !rc; u++)
            for (int r = 0; r < n_hits[u] && !rc; r++) {
                const nk_top_hit *h = &hits[(size_t)u * k + r];
                const nk_utterance *utt = nk_corpus_get(corpus, h->utt);
                char stem[4096];
                snprintf(stem, sizeof stem, "%s/unit_%d_%d", dir, layer[u], channel[u]);
                if (n_specs > 1) /* each corpus has its own ranks: keep them apart */
                    snprintf(stem + strlen(stem), sizeof stem - strlen(stem), "/corpus_%d", c);
                if ((rc = nk_mkdirs(stem))) break;
                snprintf(stem + strlen(stem), sizeof stem - strlen(stem), "/rank_%02d", r);
                rc = nk_top_write_snippet(m, utt->audio, layer[u], channel[u], h->frame, context, stem);
                int lo, hi; /* the peak frame's receptive field: its centre is the time reported */
                nk_attr_input_span(a, layer[u], h->frame, h->frame + 1, &lo, &hi);
                fprintf(js, "%s  {\"corpus\": \"%s\", \"layer\": %d, \"channel\": %d, \"rank\": %d, \"utterance\": \"%s\", "
                            "\"audio\": \"%s\", \"frame\": %d, \"center_seconds\": %.3f, \"activation\": %.6g, \"files\": \"%s\"}",
                        c || u || r ? ",\n" : "", specs[c], layer[u], channel[u], r, utt->id, utt->audio, h->frame,
                        (lo + hi - 1) / 2.0 * a->frontend.hop / a->frontend.sample_rate,
                        h->value, stem);
            }
        nk_corpus_free(corpus);
    }
    if (js) {
        fprintf(js, "\n]\n");
        if (rc) nk_outfile_abort(&out);
        else rc = nk_outfile_commit(&out);
    }
    free(hits), free(n_hits), free(path);
    nk_alphabet_free(alpha);
    return rc;
}

int cmd_featvis(int argc, char **argv) {
    enum { O_MODEL = 256, O_OBJECTIVE, O_LAYER, O_CHANNEL, O_FRAME, O_FRAMES, O_STEPS, O_LR, O_L2, O_TV, O_BLUR_EVERY,
           O_BLUR_SIGMA, O_JITTER, O_BOUND, O_NO_NORMALIZE, O_NO_SMOOTH, O_INIT, O_SEED, O_LEVEL, O_GL, O_UNITS, O_CONTEXT };
    static const struct option opts[] = {
        {"model", 1, 0, O_MODEL}, {"objective", 1, 0, O_OBJECTIVE}, {"layer", 1, 0, O_LAYER},
        {"channel", 1, 0, O_CHANNEL}, {"frame", 1, 0, O_FRAME}, {"frames", 1, 0, O_FRAMES}, {"steps", 1, 0, O_STEPS},
        {"lr", 1, 0, O_LR}, {"l2", 1, 0, O_L2}, {"tv", 1, 0, O_TV}, {"blur-every", 1, 0, O_BLUR_EVERY},
        {"blur-sigma", 1, 0, O_BLUR_SIGMA}, {"jitter", 1, 0, O_JITTER}, {"bound", 1, 0, O_BOUND},
        {"no-normalize", 0, 0, O_NO_NORMALIZE},
        {"no-smooth", 0, 0, O_NO_SMOOTH}, {"init", 1, 0, O_INIT}, {"seed", 1, 0, O_SEED}, {"level", 1, 0, O_LEVEL},
        {"gl-iters", 1, 0, O_GL}, {"units", 1, 0, O_UNITS}, {"context", 1, 0, O_CONTEXT}, {"output", 1, 0, 'o'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const int is_top = !strcmp(argv[1], "top");
    if (!is_top && strcmp(argv[1], "maximize")) return cli_usage_error("featvis", "unknown mode '%s' (maximize or top)", argv[1]);
    nk_featvis_options o;
    nk_featvis_options_default(&o);
    const char *model_path = NULL, *dir = NULL, *units = NULL;
    double mean = -2.3, std = 3.6, jt = o.jitter_t, jf = o.jitter_f;
    int bad = 0, objective = o.objective, gl = 100, k = 8, context = 20, seed = 1;
    argc--, argv++;
    for (int c; (c = getopt_long(argc, argv, "o:k:h", opts, NULL)) != -1 && !bad;) {
        switch (c) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'o': dir = optarg; break;
        case 'k': bad = cli_int("featvis", "-k", optarg, 1, 10000, &k); break;
        case O_MODEL: model_path = optarg; break;
        case O_OBJECTIVE: bad = cli_choice("featvis", "--objective", optarg, nk_fv_objective_names, &objective); break;
        case O_LAYER: bad = cli_int("featvis", "--layer", optarg, 0, 1000, &o.layer); break;
        case O_CHANNEL: bad = cli_int("featvis", "--channel", optarg, 0, 1 << 20, &o.channel); break;
        case O_FRAME: bad = cli_int("featvis", "--frame", optarg, 0, 1 << 20, &o.frame); break;
        case O_FRAMES: bad = cli_int("featvis", "--frames", optarg, 2, 1 << 20, &o.T); break;
        case O_STEPS: bad = cli_int("featvis", "--steps", optarg, 1, 1 << 24, &o.steps); break;
        case O_LR: bad = cli_double("featvis", "--lr", optarg, 1e-12, 1e6, &o.lr); break;
        case O_L2: bad = cli_double("featvis", "--l2", optarg, 0, 1e6, &o.l2); break;
        case O_TV: bad = cli_double("featvis", "--tv", optarg, 0, 1e6, &o.tv); break;
        case O_BLUR_EVERY: bad = cli_int("featvis", "--blur-every", optarg, 0, 1 << 24, &o.blur_every); break;
        case O_BLUR_SIGMA: bad = cli_double("featvis", "--blur-sigma", optarg, 1e-3, 1e3, &o.blur_sigma); break;
        case O_JITTER: bad = parse_pair("--jitter", optarg, 'x', &jt, &jf); break;
        case O_BOUND: bad = cli_double("featvis", "--bound", optarg, 0, 1e6, &o.bound); break;
        case O_NO_NORMALIZE: o.normalize = 0; break;
        case O_NO_SMOOTH: o.smooth = 0; break;
        case O_INIT: bad = cli_double("featvis", "--init", optarg, 0, 1e3, &o.init_std); break;
        case O_SEED: bad = cli_int("featvis", "--seed", optarg, 0, 2147483647, &seed); break;
        case O_LEVEL: bad = parse_pair("--level", optarg, ':', &mean, &std); break;
        case O_GL: bad = cli_int("featvis", "--gl-iters", optarg, 0, 100000, &gl); break;
        case O_UNITS: units = optarg; break;
        case O_CONTEXT: bad = cli_int("featvis", "--context", optarg, 0, 1 << 20, &context); break;
        default: return cli_usage_error("featvis", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (bad) return bad;
    if (!model_path) return cli_usage_error("featvis", "needs --model MODEL");
    if (!dir) return cli_usage_error("featvis", "needs -o DIR");
    if (is_top && (!units || optind >= argc)) return cli_usage_error("featvis", "top needs CORPUS and --units L:C");
    if (!is_top && optind < argc) return cli_usage_error("featvis", "maximize takes no positional arguments");
    if (!(jt >= 0 && jt <= 1e6 && jf >= 0 && jf <= 1e6)) return cli_usage_error("featvis", "--jitter must be ≥ 0");
    o.objective = (nk_fv_objective)objective, o.seed = (uint64_t)seed, o.jitter_t = (int)jt, o.jitter_f = (int)jf;
    nk_model *m;
    if (nk_model_load(model_path, &m)) return cli_fail("featvis");
    char *settings = nk_plot_command_line(argc, argv);
    int rc = is_top ? top(m, argv + optind, argc - optind, units, k, context, dir)
                    : maximize(m, &o, mean, std, gl, dir, settings);
    free(settings);
    nk_model_free(m);
    if (rc > 0) return rc; /* a usage error, already reported */
    return rc ? cli_fail("featvis") : EXIT_OK;
}
