/* napkit featvis: what a unit wants to hear — activation maximization rendered
 * to a spectrogram and audio, and the corpus frames where units fire most. */
#include "cli.h"

#include "napkit/featvis.h"
#include "napkit/napkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_featvis_summary[] = "feature visualization: activation maximization and top activating inputs";

static const char usage[] =
    "usage: napkit featvis maximize --model MODEL [options] -o DIR\n"
    "       napkit featvis top --model MODEL CORPUS... --units L:C[,L:C...] [-k K] [--context N] -o DIR\n"
    "maximize: gradient ascent (Adam) in log-mel space on\n"
    "  --objective unit|channel|layer|logit   (channel)  unit: A[C, frame]; channel: mean over frames;\n"
    "                      layer: mean of A² (DeepDream); logit: class C at --frame or over all frames\n"
    "  --layer L (last)  --channel C (0)  --frame T (middle for unit, all for logit)\n"
    "  --frames N (200)  --steps N (500)  --lr X (0.05)  --l2 X (1e-3)  --tv X (1e-2)\n"
    "  --blur-every N (10) --blur-sigma X (1)  --jitter T[xF] (4x0)  --clamp X (3; 0: off)\n"
    "  --no-smooth (optimize X itself, not its frequency-scaled DCT)  --init X (0.1)  --seed N (1)\n"
    "  --level MEAN:STD  log-mel level restored for audio under utterance normalization (-2.3:3.6)\n"
    "  --gl-iters N      Griffin-Lim iterations (100)\n"
    "  writes featvis.npy (F, T), trace.npy (the objective per step), featvis.{pdf,svg,png}, featvis.wav\n"
    "top: scans the corpus (one utterance in memory at a time) for each unit's K highest peaks (one per\n"
    "  utterance; K = 8) and writes unit_L_C/rank_NN.{wav,pdf,svg,png}: the audio the peak frame sees plus\n"
    "  --context frames (20) each side, its spectrogram with the unit's activation and the TextGrid tiers\n"
    "  beside the audio; top.json lists the hits.\n";

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

static int maximize(nk_model *m, const nk_featvis_options *o, double mean, double std, int gl_iters,
                    const char *dir, const char *settings) {
    const nk_arch *a = nk_model_arch(m);
    const int F = nk_arch_input_dim(a);
    float *x = malloc(sizeof(float) * F * o->T), *audio = NULL;
    double *trace = malloc(sizeof(double) * o->steps);
    size_t n = 0;
    int rc = x && trace ? nk_featvis(m, o, x, trace) : nk_fail(NK_ERR_NOMEM, "out of memory");
    if (!rc) rc = nk_mkdirs(dir);
    char *path = rc ? NULL : nk_path_join(dir, "featvis.npy");
    if (path) rc = nk_npy_write(path, NK_F32, 2, (long[]){F, o->T}, x);
    free(path);
    path = rc ? NULL : nk_path_join(dir, "trace.npy");
    if (path) rc = nk_npy_write(path, NK_F64, 1, (long[]){o->steps}, trace);
    free(path);
    if (!rc) {
        char title[160];
        snprintf(title, sizeof title, "%s %d:%d of %s after %d steps (objective %.4g)",
                 nk_fv_objective_names[o->objective], o->layer < 0 ? a->n_layers - 1 : o->layer, o->channel,
                 a->name, o->steps, trace[o->steps - 1]);
        nk_matrix_axes ax;
        nk_matrix_axes_default(&ax);
        ax.origin_lower = 1, ax.dx = (double)a->frontend.hop / a->frontend.sample_rate, ax.clabel = "X";
        nk_plot_style st;
        nk_plot_style_default(&st);
        st.title = title, st.settings = settings, st.cmap = "magma", st.xlabel = "time (s)", st.ylabel = "mel band";
        path = nk_path_join(dir, "featvis");
        rc = nk_plot_matrix(x, F, o->T, &ax, &st, path);
        free(path);
    }
    if (!rc && a->frontend.kind == NK_FEAT_LOGMEL) {
        rc = nk_features_to_audio(a, x, o->T, mean, std, gl_iters, o->seed, &audio, &n);
        path = rc ? NULL : nk_path_join(dir, "featvis.wav");
        if (path) rc = nk_audio_write(path, audio, n, a->frontend.sample_rate);
        free(path);
    }
    free(x), free(trace), free(audio);
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
           O_BLUR_SIGMA, O_JITTER, O_CLAMP, O_NO_SMOOTH, O_INIT, O_SEED, O_LEVEL, O_GL, O_UNITS, O_CONTEXT };
    static const struct option opts[] = {
        {"model", 1, 0, O_MODEL}, {"objective", 1, 0, O_OBJECTIVE}, {"layer", 1, 0, O_LAYER},
        {"channel", 1, 0, O_CHANNEL}, {"frame", 1, 0, O_FRAME}, {"frames", 1, 0, O_FRAMES}, {"steps", 1, 0, O_STEPS},
        {"lr", 1, 0, O_LR}, {"l2", 1, 0, O_L2}, {"tv", 1, 0, O_TV}, {"blur-every", 1, 0, O_BLUR_EVERY},
        {"blur-sigma", 1, 0, O_BLUR_SIGMA}, {"jitter", 1, 0, O_JITTER}, {"clamp", 1, 0, O_CLAMP},
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
        case O_CLAMP: bad = cli_double("featvis", "--clamp", optarg, 0, 1e6, &o.clamp); break;
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
