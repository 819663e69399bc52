/* napkit align: CTC forced alignment of corpora → TextGrids, CTMs and events,
 * and the phoneme onsets' quality against reference TextGrids. */
#include "cli.h"

#include "napkit/napkit.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char cmd_align_summary[] = "forced alignment: word, letter and phoneme TextGrids, CTMs and events";

static const char usage[] =
    "usage: napkit align --model MODEL CORPUS… -o DIR [options]\n"
    "  --language LANG      en: CMUdict, espeak-ng for missing words; other languages\n"
    "                       (de): espeak-ng (default en)\n"
    "  --lexicon FILE       CMUdict file (default: $NAPKIT_CMUDICT or festlex-cmu); English\n"
    "  --lp-model FILE      letter-phoneme model (default: the cached one; English trains it\n"
    "                       from CMUdict on first use)\n"
    "  --phone-set SET      ipa or arpabet labels in TextGrids and CTMs (default ipa)\n"
    "  --min-confidence X   skip utterances whose path confidence (geometric mean posterior\n"
    "                       of the Viterbi path over all frames) is below X (default 0.25)\n"
    "  --delay S            the model's onset delay, subtracted from every time (default:\n"
    "                       the delay stored in the model by 'napkit model set-delay', else 0;\n"
    "                       a stored delay holds for --boundary spike only)\n"
    "  --delay-from FILE    the delay a --reference run measured: its quality.json\n"
    "                       (delay_ms + median error; estimate it on training speakers)\n"
    "  --boundary B         where a label starts: spike (its first Viterbi frame) or midway\n"
    "                       (the middle of the blanks before it) (default spike)\n"
    "  --reference DIR      compare phoneme onsets with DIR's <utt>.TextGrid files (the\n"
    "                       synthetic corpora's truth): prints a summary, writes quality.json\n"
    "  --threads N          utterances in parallel (default 2)\n"
    "  --max-duration S     skip longer utterances\n"
    "  --max-utterances N   align the first N of each corpus\n"
    "Writes DIR/textgrids/<utt>.TextGrid (tiers words, letters, phones), DIR/words.ctm,\n"
    "letters.ctm, phones.ctm, DIR/events.jsonl and DIR/alignment.json (every utterance's\n"
    "status and confidence). Skipped utterances (too short for the transcript, low\n"
    "confidence, no pronunciation) are listed, never guessed. docs/alignment.md has more.\n";

static void report_skipped(const nk_dataset *d, const nk_align_item *items) {
    size_t shown = 0, n = 0;
    for (size_t i = 0; i < nk_dataset_size(d); i++) {
        if (items[i].status == NK_ALIGN_OK) continue;
        if (n++ == 0) fprintf(stderr, "napkit align: skipped utterances:\n");
        if (shown < 10) fprintf(stderr, "  %s: %s\n", nk_dataset_get(d, i)->id, items[i].reason), shown++;
    }
    if (n > shown) fprintf(stderr, "  … and %zu more (DIR/alignment.json lists them all)\n", n - shown);
}

static cJSON *stats_json(const nk_onset_stats *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "reference", s->n_ref);
    cJSON_AddNumberToObject(o, "predicted", s->n_pred);
    cJSON_AddNumberToObject(o, "matched", s->n_matched);
    if (s->n_matched) { /* shares to 0.01 %, errors to 0.1 ms */
        cJSON_AddNumberToObject(o, "within_20ms", round(1e4 * s->within_20ms) / 1e4);
        cJSON_AddNumberToObject(o, "within_50ms", round(1e4 * s->within_50ms) / 1e4);
        cJSON_AddNumberToObject(o, "median_abs_error_ms", round(1e4 * s->median_abs) / 10);
        cJSON_AddNumberToObject(o, "median_error_ms", round(1e4 * s->median_signed) / 10);
        cJSON_AddNumberToObject(o, "mean_error_ms", round(1e4 * s->mean_signed) / 10);
    }
    return o;
}

static void print_stats(const char *what, const nk_onset_stats *s) {
    printf("  %-12s %6d of %6d matched  within 20 ms %5.1f%%  within 50 ms %5.1f%%  median |err| %5.1f ms"
           "  median err %+6.1f ms\n", what, s->n_matched, s->n_ref, 100 * s->within_20ms, 100 * s->within_50ms,
           1000 * s->median_abs, 1000 * s->median_signed);
}

/* Compares with the reference, prints the figures and writes DIR/quality.json. */
static int quality(const char *ref_dir, const char *out_dir, const nk_dataset *d, const nk_align_item *items,
                   const char *lang, const char *model, const nk_align_config *cfg) {
    nk_align_quality *q;
    size_t used, missing;
    if (nk_align_quality_new(&q)) return cli_fail("align");
    if (nk_align_quality_add_dir(q, ref_dir, d, items, &used, &missing)) {
        nk_align_quality_free(q);
        return cli_fail("align");
    }
    if (missing) fprintf(stderr, "napkit align: %zu aligned utterances have no reference in %s\n", missing, ref_dir);
    cJSON *j = cJSON_CreateObject(), *per = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "language", lang);
    cJSON_AddStringToObject(j, "model", model);
    cJSON_AddStringToObject(j, "reference", ref_dir);
    cJSON_AddNumberToObject(j, "delay_ms", 1000 * cfg->delay);
    cJSON_AddStringToObject(j, "boundary", cfg->midway ? "midway" : "spike");
    cJSON_AddNumberToObject(j, "utterances", (double)used);
    nk_onset_stats s;
    nk_align_quality_stats(q, -1, &s);
    cJSON_AddItemToObject(j, "all", stats_json(&s));
    printf("phoneme onsets against %s (%zu utterances, boundary %s, delay %.0f ms):\n", ref_dir, used,
           cfg->midway ? "midway" : "spike", 1000 * cfg->delay);
    print_stats("all", &s);
    for (int c = 0; c < NK_PC_COUNT; c++) {
        nk_align_quality_stats(q, c, &s);
        if (!s.n_ref && !s.n_pred) continue;
        cJSON_AddItemToObject(per, nk_phone_class_names[c], stats_json(&s));
        if (s.n_matched) print_stats(nk_phone_class_names[c], &s);
    }
    cJSON_AddItemToObject(j, "per_class", per);
    int rc = nk_write_json_in(out_dir, "quality.json", j);
    cJSON_Delete(j);
    nk_align_quality_free(q);
    return rc ? cli_fail("align") : EXIT_OK;
}

/* The delay when no option names one: the model's stored one, which was
 * measured at the spike boundary and so is left out, with a note, for midway. */
static double model_delay(const nk_model *m, int midway) {
    double stored = nk_model_onset_delay(m);
    if (midway && !isnan(stored))
        fprintf(stderr, "napkit align: the model's onset delay (%.0f ms) holds for --boundary spike; "
                        "not subtracted (give --delay or --delay-from for midway)\n", 1000 * stored);
    return nk_align_model_delay(m, midway);
}

int cmd_align(int argc, char **argv) {
    enum { O_MODEL = 256, O_LANG, O_LEX, O_LP, O_PHONESET, O_MINCONF, O_DELAY, O_REF, O_THREADS, O_MAXDUR, O_MAXU, O_BOUNDARY, O_DELAYFROM };
    static const struct option opts[] = {
        {"model", 1, 0, O_MODEL},        {"language", 1, 0, O_LANG},     {"lexicon", 1, 0, O_LEX},
        {"lp-model", 1, 0, O_LP},        {"phone-set", 1, 0, O_PHONESET}, {"min-confidence", 1, 0, O_MINCONF},
        {"delay", 1, 0, O_DELAY},        {"reference", 1, 0, O_REF},      {"threads", 1, 0, O_THREADS},
        {"max-duration", 1, 0, O_MAXDUR}, {"max-utterances", 1, 0, O_MAXU}, {"output", 1, 0, 'o'},
        {"boundary", 1, 0, O_BOUNDARY},  {"delay-from", 1, 0, O_DELAYFROM}, {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    static const char *const phone_sets[] = {"ipa", "arpabet", NULL}, *const boundaries[] = {"spike", "midway", NULL};
    const char *model_path = NULL, *out = NULL, *lang = "en", *lex_path = NULL, *lp_path = NULL, *ref = NULL,
               *delay_path = NULL;
    cli_data_options data = {.threads = 2};
    double min_conf = NK_ALIGN_MIN_CONFIDENCE, delay = NAN; /* NAN: the model's */
    int bad = 0, max_u = 0, arpabet = 0, midway = 0;
    for (int c; (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1 && !bad;) {
        switch (c) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'o': out = optarg; break;
        case O_MODEL: model_path = optarg; break;
        case O_LANG: lang = optarg; break;
        case O_LEX: lex_path = optarg; break;
        case O_LP: lp_path = optarg; break;
        case O_PHONESET: bad = cli_choice("align", "--phone-set", optarg, phone_sets, &arpabet); break;
        case O_MINCONF: bad = cli_double("align", "--min-confidence", optarg, 0, 1, &min_conf); break;
        case O_DELAY: bad = cli_double("align", "--delay", optarg, -10, 10, &delay); break;
        case O_BOUNDARY: bad = cli_choice("align", "--boundary", optarg, boundaries, &midway); break;
        case O_DELAYFROM: delay_path = optarg; break;
        case O_REF: ref = optarg; break;
        case O_THREADS: bad = cli_int("align", "--threads", optarg, 1, 256, &data.threads); break;
        case O_MAXDUR: bad = cli_double("align", "--max-duration", optarg, 0.1, 1e6, &data.max_duration); break;
        case O_MAXU: bad = cli_int("align", "--max-utterances", optarg, 1, 2000000000, &max_u); break;
        default: return cli_usage_error("align", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (bad) return bad;
    if (!model_path || !out || optind >= argc)
        return cli_usage_error("align", "needs --model, -o DIR and at least one CORPUS");
    if (delay_path && (bad = cli_delay_from("align", delay_path, midway, &delay))) return bad;
    int english = !strcmp(lang, "en");
    if (lex_path && !english) return cli_usage_error("align", "--lexicon is for --language en only");
    data.max_utterances = (size_t)max_u;

    /* A training checkpoint (model plus optimizer state) aligns as well as the model. */
    nk_model *m = NULL;
    nk_safetensors *st = NULL;
    nk_lexicon *lex = NULL;
    nk_lp_model *lp = NULL;
    nk_dataset *d = NULL;
    nk_align_item *items = NULL;
    nk_align_config cfg;
    int rc = nk_model_load_extra(model_path, &m, &st) ? cli_fail("align") : EXIT_OK;
    if (st) nk_st_close(st);
    if (!rc && nk_align_config_init(&cfg, nk_model_arch(m))) rc = cli_fail("align");
    if (!rc && english && nk_lexicon_load(lex_path ? lex_path : nk_lexicon_default_path(), &lex))
        rc = cli_fail("align");
    if (!rc && nk_lp_model_for(lang, nk_espeak_voice_for(lang), lex, lp_path, NULL, &lp)) rc = cli_fail("align");
    if (!rc && isnan(delay)) delay = model_delay(m, midway);
    if (!rc) {
        cfg.lexicon = lex, cfg.lp = lp, cfg.voice = nk_espeak_voice_for(lang), cfg.delay = delay;
        cfg.midway = midway;
        rc = cli_load_dataset("align", nk_model_arch(m), argv + optind, argc - optind, &data, &d);
    }
    if (!rc && !(items = calloc(nk_dataset_size(d) + 1, sizeof *items))) {
        nk_fail(NK_ERR_NOMEM, "out of memory");
        rc = cli_fail("align");
    }
    if (!rc && nk_align_dataset(m, d, &cfg, min_conf, data.threads, cli_show_progress, items)) rc = cli_fail("align");
    if (!rc && nk_align_write_dir(out, d, items, arpabet)) rc = cli_fail("align");
    if (!rc) {
        size_t n = nk_dataset_size(d), ok = 0;
        double conf = 0, path = 0;
        for (size_t i = 0; i < n; i++)
            if (items[i].status == NK_ALIGN_OK) ok++, conf += items[i].r.confidence, path += items[i].r.path_confidence;
        report_skipped(d, items);
        printf("aligned %zu of %zu utterances, mean letter confidence %.3f, path confidence %.3f, "
               "onset delay %.0f ms\n", ok, n, ok ? conf / ok : NAN, ok ? path / ok : NAN, 1000 * delay);
        if (ok == 0) {
            fprintf(stderr, "napkit align: no utterance could be aligned\n");
            rc = EXIT_USER_ERROR;
        }
    }
    if (!rc && ref) rc = quality(ref, out, d, items, lang, model_path, &cfg);
    for (size_t i = 0; items && i < nk_dataset_size(d); i++) nk_align_result_free(&items[i].r);
    free(items);
    nk_dataset_free(d);
    nk_lp_model_free(lp);
    nk_lexicon_free(lex);
    nk_model_free(m);
    return rc;
}
