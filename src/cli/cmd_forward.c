/* napkit forward: one utterance through a model; every layer's output saved. */
#include "cli.h"

#include "napkit/napkit.h"
#include "napkit/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_forward_summary[] = "run a model on one utterance and save every layer's output";

static const char usage[] =
    "usage: napkit forward --model MODEL (AUDIO | --features X.npy) -o DIR\n"
    "Writes into DIR: logits.npy (K, T'), log_probs.npy (K, T'), layer_NN.npy (C, T') for\n"
    "every layer, transcript.txt (greedy CTC decoding), and features.npy (F, T) for AUDIO.\n"
    "AUDIO goes through the model's own front end; X.npy must be float (F, T).\n";

static int write_transcript(const nk_model *m, const nk_workspace *ws, const char *dir) {
    const nk_arch *a = nk_model_arch(m);
    const int TL = nk_ws_frames(ws, a->n_layers - 1);
    if (a->blank != 0)
        return nk_fail(NK_ERR_ARG, "%s: text decoding needs the blank at index 0 (it is %d)",
                       a->name, a->blank);
    nk_alphabet *alpha;
    int rc = nk_alphabet_new((const char *const *)a->alphabet, a->n_classes, &alpha);
    if (rc) return rc;
    int *labels = malloc((size_t)TL * sizeof *labels), n;
    char *text = NULL;
    if (!labels) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
    if (!rc) {
        nk_ctc_greedy(nk_ws_log_probs(ws), a->n_classes, TL, a->blank, labels, &n);
        rc = nk_alphabet_decode(alpha, labels, n, &text);
    }
    char *path = rc ? NULL : nk_path_join(dir, "transcript.txt");
    if (path) {
        size_t len = strlen(text);
        text[len] = '\n'; /* the terminator's place holds the newline; write len+1 bytes */
        rc = nk_write_file(path, text, len + 1);
        text[len] = '\0';
        if (!rc) printf("%s\n", text);
    }
    free(path);
    free(text);
    free(labels);
    nk_alphabet_free(alpha);
    return rc;
}

static int save(const char *dir, const char *name, long rows, long cols, const float *data) {
    char *path = nk_path_join(dir, name);
    if (!path) return nk_fail(NK_ERR_NOMEM, "out of memory");
    long shape[2] = {rows, cols};
    int rc = nk_npy_write(path, NK_F32, 2, shape, data);
    free(path);
    return rc;
}

int cmd_forward(int argc, char **argv) {
    enum { O_MODEL = 256, O_FEATURES };
    static const struct option opts[] = {{"model", 1, 0, O_MODEL}, {"features", 1, 0, O_FEATURES},
                                         {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *model_path = NULL, *features = NULL, *dir = NULL;
    for (int o; (o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1;) {
        switch (o) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'o': dir = optarg; break;
        case O_MODEL: model_path = optarg; break;
        case O_FEATURES: features = optarg; break;
        default: return cli_usage_error("forward", "unknown option '%s'", argv[optind - 1]);
        }
    }
    const char *audio = optind < argc ? argv[optind] : NULL;
    if (argc - optind > 1) return cli_usage_error("forward", "expects at most one AUDIO file");
    if (!model_path) return cli_usage_error("forward", "needs --model MODEL");
    if (!audio == !features) return cli_usage_error("forward", "needs either AUDIO or --features X.npy");
    if (!dir) return cli_usage_error("forward", "needs -o DIR");

    nk_model *m;
    if (nk_model_load(model_path, &m)) return cli_fail("forward");
    const nk_arch *a = nk_model_arch(m);
    float *x = NULL;
    int T, rc = audio ? nk_model_features_from_audio(m, audio, &x, &T)
                      : nk_model_features_from_npy(m, features, &x, &T);
    nk_workspace *ws = NULL;
    if (!rc) rc = nk_workspace_new(m, &ws);
    if (!rc) rc = nk_model_forward(m, ws, x, T);
    if (!rc) rc = nk_mkdirs(dir);
    const int L = a->n_layers, TL = rc ? 0 : nk_ws_frames(ws, L - 1);
    if (!rc && audio) rc = save(dir, "features.npy", nk_arch_input_dim(a), T, x);
    if (!rc) rc = save(dir, "logits.npy", a->n_classes, TL, nk_ws_act(ws, L - 1));
    if (!rc) rc = save(dir, "log_probs.npy", a->n_classes, TL, nk_ws_log_probs(ws));
    if (!rc) rc = nk_ws_save_layers(ws, dir, 0);
    if (!rc) rc = write_transcript(m, ws, dir);
    free(x);
    nk_workspace_free(ws);
    nk_model_free(m);
    return rc ? cli_fail("forward") : EXIT_OK;
}
