/* napkit model: import weights into a model file, create one, describe one,
 * store its onset delay. */
#include "cli.h"

#include "napkit/napkit.h"
#include "napkit/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_model_summary[] = "import, initialize or describe a model (.safetensors); store its onset delay";

static const char usage[] =
    "usage: napkit model import --arch ARCH.json --weights W.safetensors [--torchaudio] -o MODEL.safetensors\n"
    "       napkit model init --arch ARCH.json [--seed N] -o MODEL.safetensors\n"
    "       napkit model info MODEL.safetensors|ARCH.json\n"
    "       napkit model set-delay MODEL.safetensors (SECONDS | --from QUALITY.json | --clear)\n"
    "import      weights named layers.N.weight/bias, or with --torchaudio torchaudio Wav2Letter\n"
    "            names (acoustic_model.N.weight/bias, optional 'module.' prefix), convs in order of N\n"
    "init        PyTorch's default Conv1d initialization from a seeded generator (default seed 1)\n"
    "info        layers, parameters, receptive field, total stride, FLOPs per output frame, and\n"
    "            the onset delay when one is stored\n"
    "set-delay   stores the model's CTC onset delay in the file, which napkit align and napkit\n"
    "            report then subtract by default: SECONDS, or --from the quality.json of a\n"
    "            'napkit align --reference' run on training speakers (--boundary spike; its\n"
    "            delay_ms plus median error); --clear removes it. Everything else in the file\n"
    "            stays as it was. Training (napkit train, also with --init) leaves it out.\n";

static int info(const char *path) {
    nk_arch arch;
    nk_model *m = NULL;
    size_t len = strlen(path);
    int rc = len > 5 && !strcmp(path + len - 5, ".json") ? nk_arch_load(path, &arch)
                                                           : nk_model_load(path, &m);
    if (rc) return cli_fail("model");
    const nk_arch *a = m ? nk_model_arch(m) : &arch;
    const nk_frontend_config *fe = &a->frontend;
    printf("%s: %d layers, %d classes (blank %d = \"%s\")\n", a->name, a->n_layers, a->n_classes,
           a->blank, a->alphabet[a->blank]);
    printf("front end: %s, %d Hz, n_fft %d, win %d, hop %d, %d features, normalize %s\n",
           nk_feature_kind_names[fe->kind], fe->sample_rate, fe->n_fft, fe->win, fe->hop,
           nk_arch_input_dim(a), nk_normalize_names[fe->normalize]);
    printf("%-5s %6s %6s %6s %6s %7s %8s %-9s %11s %9s %6s\n", "layer", "in", "out", "kernel",
           "stride", "padding", "dilation", "act", "params", "receptive", "stride");
    for (int l = 0; l < a->n_layers; l++) {
        const nk_layer_spec *s = &a->layers[l];
        printf("%-5d %6d %6d %6d %6d %7d %8d %-9s %11zu %9d %6d\n", l, s->in, s->out, s->kernel,
               s->stride, s->padding, s->dilation, nk_activation_names[s->activation],
               (size_t)s->out * s->in * s->kernel + s->out, nk_arch_receptive_field(a, l),
               nk_arch_total_stride(a, l));
    }
    const int L = a->n_layers;
    double ms = 1000.0 * fe->hop / fe->sample_rate;
    printf("parameters: %zu\n", nk_arch_param_count(a));
    printf("receptive field: %d input frames (%.0f ms)\n", nk_arch_receptive_field(a, L - 1),
           nk_arch_receptive_field(a, L - 1) * ms);
    printf("total stride: %d input frames (%.0f ms per output frame)\n", nk_arch_total_stride(a, L - 1),
           nk_arch_total_stride(a, L - 1) * ms);
    printf("forward FLOPs per output frame: %.4g (%.3g GFLOP per second of audio)\n",
           nk_arch_flops_per_frame(a),
           nk_arch_flops_per_frame(a) * 1000.0 / (ms * nk_arch_total_stride(a, L - 1)) / 1e9);
    if (m && !isnan(nk_model_onset_delay(m))) printf("onset delay: %.0f ms\n", 1000 * nk_model_onset_delay(m));
    if (m) nk_model_free(m);
    else nk_arch_free(&arch);
    return EXIT_OK;
}

/* set-delay: args are MODEL [SECONDS]; exactly one of SECONDS, from and clear. */
static int set_delay(char *const *args, int n, const char *from, int clear) {
    if (n < 1 || n > 2 || (n == 2) + !!from + clear != 1)
        return cli_usage_error("model", "set-delay expects MODEL and one of SECONDS, --from QUALITY.json "
                                        "and --clear");
    double delay = NAN; /* --clear */
    int bad = n == 2 ? cli_double("model", "SECONDS", args[1], -10, 10, &delay)
              : from ? cli_delay_from("model", from, 0, &delay)
                     : EXIT_OK;
    if (bad) return bad;
    if (nk_model_file_set_onset_delay(args[0], delay)) return cli_fail("model");
    if (clear) printf("%s: onset delay removed\n", args[0]);
    else printf("%s: onset delay %.0f ms\n", args[0], 1000 * delay);
    return EXIT_OK;
}

int cmd_model(int argc, char **argv) {
    enum { O_ARCH = 256, O_WEIGHTS, O_TA, O_SEED, O_FROM, O_CLEAR };
    static const struct option opts[] = {
        {"arch", 1, 0, O_ARCH}, {"weights", 1, 0, O_WEIGHTS}, {"torchaudio", 0, 0, O_TA},
        {"seed", 1, 0, O_SEED}, {"from", 1, 0, O_FROM}, {"clear", 0, 0, O_CLEAR},
        {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *arch_path = NULL, *weights = NULL, *out = NULL, *from = NULL;
    int torchaudio = 0, seed = 1, bad = 0, clear = 0;
    for (int o; (o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1 && !bad;) {
        switch (o) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'o': out = optarg; break;
        case O_ARCH: arch_path = optarg; break;
        case O_WEIGHTS: weights = optarg; break;
        case O_TA: torchaudio = 1; break;
        case O_SEED: bad = cli_int("model", "--seed", optarg, 0, 2147483647, &seed); break;
        case O_FROM: from = optarg; break;
        case O_CLEAR: clear = 1; break;
        default: return cli_usage_error("model", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (bad) return bad;
    if (optind >= argc) return cli_usage_error("model", "expects an action: import, init, info or set-delay");
    const char *action = argv[optind];
    if (!strcmp(action, "set-delay")) return set_delay(argv + optind + 1, argc - optind - 1, from, clear);
    if (from || clear) return cli_usage_error("model", "--from and --clear are for set-delay");
    if (!strcmp(action, "info")) {
        if (optind + 2 != argc) return cli_usage_error("model", "info expects exactly one MODEL");
        return info(argv[optind + 1]);
    }
    int is_import = !strcmp(action, "import");
    if (!is_import && strcmp(action, "init"))
        return cli_usage_error("model", "unknown action '%s' (import, init, info or set-delay)", action);
    if (optind + 1 != argc) return cli_usage_error("model", "%s takes no positional arguments", action);
    if (!arch_path) return cli_usage_error("model", "%s needs --arch ARCH.json", action);
    if (!out) return cli_usage_error("model", "%s needs -o MODEL.safetensors", action);
    if (is_import && !weights) return cli_usage_error("model", "import needs --weights W.safetensors");
    if (!is_import && (weights || torchaudio))
        return cli_usage_error("model", "init takes no --weights or --torchaudio");

    nk_arch arch;
    if (nk_arch_load(arch_path, &arch)) return cli_fail("model");
    nk_model *m;
    int rc = is_import ? nk_model_import(&arch, weights, torchaudio, &m) : nk_model_new(&arch, &m);
    nk_arch_free(&arch);
    if (rc) return cli_fail("model");
    if (!is_import) nk_model_init(m, (uint64_t)seed);
    rc = nk_model_save(m, out);
    nk_model_free(m);
    return rc ? cli_fail("model") : EXIT_OK;
}
