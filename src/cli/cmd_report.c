/* napkit report: the whole analysis of one or two models into one folder
 * with an HTML page (report.h). */
#include "cli.h"

#include "napkit/napkit.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char cmd_report_summary[] = "the whole analysis of one or two models as one HTML page with report.json";

static const char usage[] =
    "usage: napkit report --model M [--model-b M2 --corpus-b CORPUS...] CORPUS... -o DIR [options]\n"
    "  --model M / --model-b M2      model files (a training checkpoint works); with --model-b the two\n"
    "                                networks are compared on both models' audio\n"
    "  CORPUS... / --corpus-b CORPUS corpora of model A (positional) and of model B (repeatable)\n"
    "  --name NAME --name-b NAME     labels and folder names (default: the file names up to the dot)\n"
    "  --language L --language-b L   en (CMUdict, then espeak-ng) or an espeak-ng language\n"
    "                                (default en and de)\n"
    "  --lexicon FILE                CMUdict file for English (default: festlex-cmu)\n"
    "  --lp-model FILE --lp-model-b FILE  letter-phoneme models (default: the cache `napkit lexicon` fills)\n"
    "  --threads N                   (default 2)\n"
    "  --max-utterances N            the first N of each corpus\n"
    "  --min-confidence X            alignment: skip utterances whose path confidence is below\n"
    "                                X (default 0.25, as napkit align)\n"
    "  --delay S --delay-b S         the models' onset delays in seconds, subtracted from aligned\n"
    "                                times (see napkit align --delay; default: the delay stored in\n"
    "                                each model by 'napkit model set-delay', else 0)\n"
    "  --mode act|gxa|absgxa|gradmask  NAP mode (default gxa: GradNAPs)\n"
    "  --window W                    ± frames around each phoneme (default 15)\n"
    "  --min-count N                 drop phonemes with fewer events (default 20)\n"
    "  --attributions N              utterances with an attribution map per model (default 2)\n"
    "  --ig-steps N                  integrated-gradient steps to start from (default 32; doubled\n"
    "                                until the map is within 5 % of y(X) - y(baseline))\n"
    "  --top-units N --top-k K       units with top-activating snippets, snippets each (default 2, 3)\n"
    "  --som-epochs N                topographic-map training (default 300)\n"
    "  --quiet                       no stage lines or progress\n"
    "Writes DIR/index.html (open it in a browser; no network needed), DIR/report.json (the numbers),\n"
    "DIR/timing.json, and per model DIR/NAME/ (eval.json, align/, naps/, cluster_LL/, erp_LL.png,\n"
    "attribution/, top/) and DIR/compare/. docs/report.md describes every section.\n";

typedef struct {
    time_t t0;
    int quiet;
} stage_ctx;

static void on_stage(void *ctx, const char *what) {
    stage_ctx *c = ctx;
    if (c->quiet) return;
    const long t = (long)difftime(time(NULL), c->t0);
    fprintf(stderr, "== [%2ld:%02ld] %s\n", t / 60, t % 60, what);
}

/* The headline numbers, from the report.json just written. */
static void headline(const char *dir) {
    char *path = nk_path_join(dir, "report.json"), *text = NULL;
    if (!path || nk_read_file(path, &text, NULL)) {
        free(path);
        return;
    }
    cJSON *r = cJSON_Parse(text), *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(r, "models")) {
        const cJSON *ev = cJSON_GetObjectItem(m, "eval"), *al = cJSON_GetObjectItem(m, "align"), *l;
        double best = -1;
        int layer = -1;
        cJSON_ArrayForEach(l, cJSON_GetObjectItem(m, "per_layer")) {
            const cJSON *p = cJSON_GetObjectItem(l, "purity");
            if (cJSON_IsNumber(p) && p->valuedouble > best) best = p->valuedouble, layer = cJSON_GetObjectItem(l, "layer")->valueint;
        }
        printf("%s: CER %.2f%%  WER %.2f%%  aligned %d of %d", cJSON_GetObjectItem(m, "name")->valuestring,
               100 * cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "cer")),
               100 * cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "wer")),
               (int)cJSON_GetNumberValue(cJSON_GetObjectItem(al, "aligned")),
               (int)cJSON_GetNumberValue(cJSON_GetObjectItem(al, "utterances")));
        if (layer >= 0) printf("  best class purity %.2f (layer %d)", best, layer);
        printf("\n");
    }
    cJSON *c = cJSON_GetObjectItem(r, "compare");
    if (c) {
        printf("CKA of the same layer (%s vs %s):", cJSON_GetObjectItem(c, "a")->valuestring,
               cJSON_GetObjectItem(c, "b")->valuestring);
        cJSON *l;
        cJSON_ArrayForEach(l, cJSON_GetObjectItem(c, "per_layer")) {
            const cJSON *v = cJSON_GetObjectItem(l, "cka");
            if (cJSON_IsNumber(v)) printf(" %.2f", v->valuedouble);
            else printf(" -");
        }
        printf("\n");
    }
    cJSON_Delete(r);
    free(text), free(path);
}

int cmd_report(int argc, char **argv) {
    enum { O_MODEL = 256, O_MODEL_B, O_CORPUS_B, O_NAME, O_NAME_B, O_LANG, O_LANG_B, O_LEX, O_LP, O_LP_B, O_THREADS,
           O_MAXU, O_MINCONF, O_DELAY, O_DELAY_B, O_MODE, O_WINDOW, O_MINCOUNT, O_ATTR, O_IG, O_TOPU, O_TOPK, O_SOM, O_QUIET };
    static const struct option opts[] = {
        {"model", 1, 0, O_MODEL}, {"model-b", 1, 0, O_MODEL_B}, {"corpus-b", 1, 0, O_CORPUS_B},
        {"name", 1, 0, O_NAME}, {"name-b", 1, 0, O_NAME_B}, {"language", 1, 0, O_LANG}, {"language-b", 1, 0, O_LANG_B},
        {"lexicon", 1, 0, O_LEX}, {"lp-model", 1, 0, O_LP}, {"lp-model-b", 1, 0, O_LP_B},
        {"threads", 1, 0, O_THREADS}, {"max-utterances", 1, 0, O_MAXU}, {"min-confidence", 1, 0, O_MINCONF},
        {"delay", 1, 0, O_DELAY}, {"delay-b", 1, 0, O_DELAY_B},
        {"mode", 1, 0, O_MODE}, {"window", 1, 0, O_WINDOW}, {"min-count", 1, 0, O_MINCOUNT},
        {"attributions", 1, 0, O_ATTR}, {"ig-steps", 1, 0, O_IG}, {"top-units", 1, 0, O_TOPU}, {"top-k", 1, 0, O_TOPK},
        {"som-epochs", 1, 0, O_SOM}, {"quiet", 0, 0, O_QUIET}, {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    nk_report_config c;
    nk_report_config_default(&c);
    nk_report_model *A = &c.model[0], *B = &c.model[1];
    A->language = "en", B->language = "de";
    char **corpora_b = calloc((size_t)argc + 1, sizeof *corpora_b);
    int bad = 0, v, max_u = 0, quiet = 0, n_b = 0;
    if (!corpora_b) return cli_fail("report");
    for (int o; (o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1 && !bad;) {
        switch (o) {
        case 'h': fputs(usage, stdout); free(corpora_b); return EXIT_OK;
        case 'o': c.out = optarg; break;
        case O_MODEL: A->path = optarg; break;
        case O_MODEL_B: B->path = optarg; break;
        case O_CORPUS_B: corpora_b[n_b++] = optarg; break;
        case O_NAME: A->name = optarg; break;
        case O_NAME_B: B->name = optarg; break;
        case O_LANG: A->language = optarg; break;
        case O_LANG_B: B->language = optarg; break;
        case O_LEX: A->lexicon = B->lexicon = optarg; break;
        case O_LP: A->lp_model = optarg; break;
        case O_LP_B: B->lp_model = optarg; break;
        case O_THREADS: bad = cli_int("report", "--threads", optarg, 1, 256, &c.threads); break;
        case O_MAXU: bad = cli_int("report", "--max-utterances", optarg, 1, 2000000000, &max_u); break;
        case O_MINCONF: bad = cli_double("report", "--min-confidence", optarg, 0, 1, &c.min_confidence); break;
        case O_DELAY: bad = cli_double("report", "--delay", optarg, -10, 10, &A->delay); break;
        case O_DELAY_B: bad = cli_double("report", "--delay-b", optarg, -10, 10, &B->delay); break;
        case O_MODE: bad = cli_choice("report", "--mode", optarg, nk_nap_mode_names, &v), c.mode = v; break;
        case O_WINDOW: bad = cli_int("report", "--window", optarg, 0, NK_NAP_MAX_WINDOW, &c.window); break;
        case O_MINCOUNT: bad = cli_int("report", "--min-count", optarg, 1, 2000000000, &v), c.min_count = v; break;
        case O_ATTR: bad = cli_int("report", "--attributions", optarg, 0, 1000, &c.n_attributions); break;
        case O_IG: bad = cli_int("report", "--ig-steps", optarg, 1, 100000, &c.ig_steps); break;
        case O_TOPU: bad = cli_int("report", "--top-units", optarg, 0, 16, &c.n_top_units); break;
        case O_TOPK: bad = cli_int("report", "--top-k", optarg, 1, 100, &c.top_k); break;
        case O_SOM: bad = cli_int("report", "--som-epochs", optarg, 1, 1000000, &c.som_epochs); break;
        case O_QUIET: quiet = 1; break;
        default: free(corpora_b); return cli_usage_error("report", "unknown option '%s'", argv[optind - 1]);
        }
    }
    const char *problem = bad                   ? NULL
                          : !A->path            ? "needs --model M"
                          : !c.out              ? "needs -o DIR"
                          : optind >= argc      ? "needs at least one CORPUS for --model"
                          : !B->path != !n_b    ? "--model-b and --corpus-b go together"
                                                : NULL;
    if (bad || problem) {
        free(corpora_b);
        return bad ? bad : cli_usage_error("report", "%s", problem);
    }
    A->corpora = (const char *const *)argv + optind, A->n_corpora = argc - optind;
    B->corpora = (const char *const *)corpora_b, B->n_corpora = n_b;
    c.n_models = B->path ? 2 : 1;
    c.max_utterances = (size_t)max_u;
    c.show_progress = cli_show_progress && !quiet;
    stage_ctx sc = {time(NULL), quiet};
    c.stage = on_stage, c.stage_ctx = &sc;
    int rc = nk_report_run(&c) ? cli_fail("report") : EXIT_OK;
    if (!rc) {
        headline(c.out);
        printf("report: %s/index.html (%.0f s)\n", c.out, difftime(time(NULL), sc.t0));
    }
    free(corpora_b);
    return rc;
}
