/* napkit eval: CER and WER of a model on corpora, greedy or beam-search decoded. */
#include "cli.h"

#include "napkit/napkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_eval_summary[] = "character and word error rates of a model on corpora";

static const char usage[] =
    "usage: napkit eval --model MODEL CORPUS… [-o RESULTS.json] [options]\n"
    "  --threads N          utterances in parallel (default 2)\n"
    "  --max-duration S     skip longer utterances (default none)\n"
    "  --max-utterances N   evaluate the first N of each corpus\n"
    CLI_DECODE_USAGE
    "Prints corpus CER and WER (and the beam search's settings when used); -o\n"
    "writes every utterance's reference, hypothesis and error counts as JSON.\n";

int cmd_eval(int argc, char **argv) {
    enum { O_MODEL = 256, O_THREADS, O_MAXDUR, O_MAXU };
    static const struct option opts[] = {
        {"model", 1, 0, O_MODEL}, {"threads", 1, 0, O_THREADS}, {"max-duration", 1, 0, O_MAXDUR},
        {"max-utterances", 1, 0, O_MAXU}, {"output", 1, 0, 'o'}, CLI_DECODE_OPTIONS, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *model_path = NULL, *out = NULL;
    cli_data_options data = {.threads = 2};
    int bad = 0, max_u = 0;
    cli_decode dec;
    cli_decode_init(&dec);
    for (int c; (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1 && !bad;) {
        switch (c) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'o': out = optarg; break;
        case O_MODEL: model_path = optarg; break;
        case O_THREADS: bad = cli_int("eval", "--threads", optarg, 1, 256, &data.threads); break;
        case O_MAXDUR: bad = cli_double("eval", "--max-duration", optarg, 0.1, 1e6, &data.max_duration); break;
        case O_MAXU: bad = cli_int("eval", "--max-utterances", optarg, 1, 2000000000, &max_u); break;
        CLI_DECODE_CASES: bad = cli_decode_option("eval", &dec, c, optarg); break;
        default: return cli_usage_error("eval", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (bad) return bad;
    if (!model_path || optind >= argc) return cli_usage_error("eval", "needs --model and at least one CORPUS");
    data.max_utterances = (size_t)max_u;
    nk_model *m;
    if (nk_model_load(model_path, &m)) return cli_fail("eval");
    nk_dataset *d = NULL;
    const nk_ctc_beam_options *decode;
    int rc = cli_decode_open("eval", &dec, nk_model_arch(m), &decode);
    if (!rc) rc = cli_load_dataset("eval", nk_model_arch(m), argv + optind, argc - optind, &data, &d);
    nk_eval_item *items = NULL;
    nk_error_counts total;
    if (!rc) {
        items = calloc(nk_dataset_size(d) + 1, sizeof *items);
        if (!items || nk_evaluate(m, d, data.threads, decode, items, &total)) rc = cli_fail("eval");
    }
    if (!rc) {
        char how[400];
        cli_decode_describe(&dec, how, sizeof how);
        printf("utterances %zu  hours %.3f  CER %.2f%%  WER %.2f%%", nk_dataset_size(d), nk_dataset_seconds(d) / 3600,
               100 * nk_cer(&total), 100 * nk_wer(&total));
        printf(decode ? "  decoding %s\n" : "\n", how); /* greedy: the line scripts know */
        if (out && nk_eval_write_json(out, d, items, &total, how)) rc = cli_fail("eval");
    }
    for (size_t i = 0; items && i < nk_dataset_size(d); i++) free(items[i].hypothesis);
    free(items);
    nk_dataset_free(d);
    cli_decode_close(&dec);
    nk_model_free(m);
    return rc;
}
