/* napkit grad: gradients of one target (a logit, or the CTC loss of a text)
 * with respect to the input features and every layer's output. */
#include "cli.h"

#include "napkit/napkit.h"
#include "napkit/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_grad_summary[] = "gradients of a logit or a CTC loss w.r.t. the input and every layer";

static const char usage[] =
    "usage: napkit grad --model MODEL (AUDIO | --features X.npy)\n"
    "                   (--target-logit K:T | --target-ctc TEXT) -o DIR [--rule gradient|guided]\n"
    "--target-logit K:T  seed d logit[K, T] = 1 on the last layer's output (after its\n"
    "                    activation: what logits.npy of 'napkit forward' holds)\n"
    "--target-ctc TEXT   the CTC negative log-likelihood of TEXT (normalized to the alphabet)\n"
    "--rule guided       guided backprop through the ReLUs instead of the plain gradient\n"
    "Writes into DIR: input_grad.npy (F, T), layer_NN_grad.npy (C, T') for every layer and,\n"
    "for --target-ctc, loss.txt (the summed negative log-likelihood, not divided by length).\n";

static const char *const rule_names[] = {"gradient", "guided", NULL};

/* Seeds the log-probs with d nll / d log_probs of `text`; *nll receives the loss. */
static int seed_ctc(const nk_model *m, nk_workspace *ws, const char *text, double *nll) {
    const nk_arch *a = nk_model_arch(m);
    int *labels = NULL, U = 0;
    int rc = nk_target_labels(a, text, &labels, &U);
    if (rc) rc = nk_fail(rc, "--target-ctc \"%s\": %s", text, nk_last_error());
    if (!rc) {
        rc = nk_ctc_loss(nk_ws_log_probs(ws), a->n_classes, nk_ws_frames(ws, a->n_layers - 1),
                         labels, U, a->blank, nll, nk_ws_log_probs_grad(ws));
        if (rc == NK_ERR_INFEASIBLE)
            rc = nk_fail(rc, "--target-ctc \"%s\": %d output frames are too few for %d letters",
                         text, nk_ws_frames(ws, a->n_layers - 1), U);
    }
    free(labels);
    return rc;
}

int cmd_grad(int argc, char **argv) {
    enum { O_MODEL = 256, O_FEATURES, O_LOGIT, O_CTC, O_RULE };
    static const struct option opts[] = {
        {"model", 1, 0, O_MODEL}, {"features", 1, 0, O_FEATURES}, {"target-logit", 1, 0, O_LOGIT},
        {"target-ctc", 1, 0, O_CTC}, {"rule", 1, 0, O_RULE}, {"output", 1, 0, 'o'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *model_path = NULL, *features = NULL, *dir = NULL, *logit = NULL, *text = NULL;
    int rule = NK_RULE_GRADIENT, bad = 0;
    for (int o; (o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1 && !bad;) {
        switch (o) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'o': dir = optarg; break;
        case O_MODEL: model_path = optarg; break;
        case O_FEATURES: features = optarg; break;
        case O_LOGIT: logit = optarg; break;
        case O_CTC: text = optarg; break;
        case O_RULE: bad = cli_choice("grad", "--rule", optarg, rule_names, &rule); break;
        default: return cli_usage_error("grad", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (bad) return bad;
    const char *audio = optind < argc ? argv[optind] : NULL;
    if (argc - optind > 1) return cli_usage_error("grad", "expects at most one AUDIO file");
    if (!model_path) return cli_usage_error("grad", "needs --model MODEL");
    if (!audio == !features) return cli_usage_error("grad", "needs either AUDIO or --features X.npy");
    if (!logit == !text) return cli_usage_error("grad", "needs exactly one of --target-logit and --target-ctc");
    if (!dir) return cli_usage_error("grad", "needs -o DIR");
    int k = 0, t = 0;
    if (logit) {
        char ks[32], *colon = strchr(logit, ':');
        if (!colon || colon - logit >= (long)sizeof ks)
            return cli_usage_error("grad", "--target-logit wants K:T, got '%s'", logit);
        memcpy(ks, logit, colon - logit);
        ks[colon - logit] = '\0';
        if (cli_int("grad", "--target-logit class", ks, 0, 1 << 20, &k) ||
            cli_int("grad", "--target-logit frame", colon + 1, 0, 1 << 30, &t))
            return EXIT_USAGE;
    }

    nk_model *m;
    if (nk_model_load(model_path, &m)) return cli_fail("grad");
    const nk_arch *a = nk_model_arch(m);
    const int L = a->n_layers;
    float *x = NULL;
    int T, rc = audio ? nk_model_features_from_audio(m, audio, &x, &T)
                      : nk_model_features_from_npy(m, features, &x, &T);
    nk_workspace *ws = NULL;
    double nll = 0;
    if (!rc) rc = nk_workspace_new(m, &ws);
    if (!rc) rc = nk_model_forward(m, ws, x, T);
    if (!rc && logit) {
        const int TL = nk_ws_frames(ws, L - 1);
        if (k >= a->n_classes || t >= TL)
            rc = nk_fail(NK_ERR_ARG, "--target-logit %d:%d is outside the logits (%d classes, %d frames)",
                         k, t, a->n_classes, TL);
        else nk_ws_grad(ws, L - 1)[(size_t)k * TL + t] = 1;
    }
    if (!rc && text) rc = seed_ctc(m, ws, text, &nll);
    if (!rc) rc = nk_model_backward(m, ws, logit ? L - 1 : L, (nk_backward_rule)rule, 0);
    if (!rc) rc = nk_mkdirs(dir);
    char *path = rc ? NULL : nk_path_join(dir, "input_grad.npy");
    if (path) {
        long shape[2] = {nk_arch_input_dim(a), T};
        rc = nk_npy_write(path, NK_F32, 2, shape, nk_ws_input_grad(ws));
        free(path);
    }
    if (!rc) rc = nk_ws_save_layers(ws, dir, 1);
    if (!rc && text) {
        char line[64];
        int len = snprintf(line, sizeof line, "%.9g\n", nll);
        path = nk_path_join(dir, "loss.txt");
        rc = nk_write_file(path, line, len);
        free(path);
    }
    free(x);
    nk_workspace_free(ws);
    nk_model_free(m);
    return rc ? cli_fail("grad") : EXIT_OK;
}
