/* napkit transcribe: transcripts of audio files, greedy or beam-search decoded. */
#include "cli.h"

#include "napkit/napkit.h"

#include <stdio.h>
#include <stdlib.h>

const char cmd_transcribe_summary[] = "print the transcript of audio files";

static const char usage[] =
    "usage: napkit transcribe --model MODEL AUDIO… [options]\n"
    CLI_DECODE_USAGE
    "Prints one line per file: the transcript (prefixed by the file name and a tab\n"
    "when several files are given). A file that cannot be read is reported and\n"
    "skipped; the exit code is then 1.\n";

int cmd_transcribe(int argc, char **argv) {
    static const struct option opts[] = {{"model", 1, 0, 'm'}, CLI_DECODE_OPTIONS, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *model_path = NULL;
    cli_decode dec;
    cli_decode_init(&dec);
    int bad = 0;
    for (int c; (c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1 && !bad;) {
        switch (c) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'm': model_path = optarg; break;
        CLI_DECODE_CASES: bad = cli_decode_option("transcribe", &dec, c, optarg); break;
        default: return cli_usage_error("transcribe", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (bad) return bad;
    if (!model_path || optind >= argc) return cli_usage_error("transcribe", "needs --model and AUDIO files");
    nk_model *m;
    if (nk_model_load(model_path, &m)) return cli_fail("transcribe");
    const nk_arch *a = nk_model_arch(m);
    nk_frontend *fe = NULL;
    nk_workspace *ws = NULL;
    nk_alphabet *alpha = NULL;
    const nk_ctc_beam_options *decode;
    int rc = cli_decode_open("transcribe", &dec, a, &decode);
    if (!rc && (nk_frontend_new(&a->frontend, &fe) || nk_workspace_new(m, &ws) ||
                nk_alphabet_new((const char *const *)a->alphabet, a->n_classes, &alpha)))
        rc = cli_fail("transcribe");
    int failed = 0;
    for (int i = optind; !rc && i < argc; i++) {
        float *x = NULL;
        char *text = NULL;
        int F, T;
        if (nk_features_from_file(fe, argv[i], &x, &F, &T) || nk_transcribe(m, alpha, ws, x, T, decode, &text)) {
            failed = cli_fail("transcribe"); /* report it, go on with the next file */
        } else if (argc - optind > 1) {
            printf("%s\t%s\n", argv[i], text);
        } else {
            printf("%s\n", text);
        }
        free(x);
        free(text);
    }
    nk_alphabet_free(alpha);
    cli_decode_close(&dec);
    nk_workspace_free(ws);
    nk_frontend_free(fe);
    nk_model_free(m);
    return rc ? rc : failed;
}
