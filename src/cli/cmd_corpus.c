/* napkit corpus: what a corpus reader sees in a folder. */
#include "cli.h"

#include "napkit/napkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_corpus_summary[] = "inspect a corpus: summary, utterances, skipped items";

static const char usage[] =
    "usage: napkit corpus info|list|skipped CORPUS [options]\n"
    "  info      layout, utterances, speakers, hours, skipped items (first 10)\n"
    "  list      one line per utterance: ID SPEAKER SECONDS AUDIO TRANSCRIPT (tab-separated)\n"
    "  skipped   one line per skipped item: FILE REASON (tab-separated)\n"
    "CORPUS is a folder or file (layout detected) or LAYOUT:PATH with LAYOUT one of\n"
    "librispeech, commonvoice, manifest, metadata, textpairs.\n"
    "  --lang en|de            alphabet for transcript normalization (default en)\n"
    "  --no-probe              do not open audio headers (no durations, faster)\n"
    "  --min-duration S  --max-duration S   keep utterances in this range (seconds)\n"
    "  --max-utterances N      keep the first N (after shuffling)\n"
    "  --shuffle  --seed N     deterministic shuffle\n";

int cmd_corpus(int argc, char **argv) {
    enum { O_LANG = 256, O_NOPROBE, O_MIN, O_MAX, O_MAXU, O_SHUF, O_SEED };
    static const struct option opts[] = {
        {"lang", 1, 0, O_LANG}, {"no-probe", 0, 0, O_NOPROBE}, {"min-duration", 1, 0, O_MIN},
        {"max-duration", 1, 0, O_MAX}, {"max-utterances", 1, 0, O_MAXU}, {"shuffle", 0, 0, O_SHUF},
        {"seed", 1, 0, O_SEED}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    static const char *const langs[] = {"en", "de", NULL};
    static const char *const actions[] = {"info", "list", "skipped", NULL};
    int lang = 0, bad = 0, max_u = 0, seed = 0;
    nk_corpus_options o;
    nk_corpus_options_default(&o, NULL);
    for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1 && !bad;) {
        switch (c) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case O_LANG: bad = cli_choice("corpus", "--lang", optarg, langs, &lang); break;
        case O_NOPROBE: o.probe = 0; break;
        case O_MIN: bad = cli_double("corpus", "--min-duration", optarg, 0, 1e6, &o.min_duration); break;
        case O_MAX: bad = cli_double("corpus", "--max-duration", optarg, 0, 1e6, &o.max_duration); break;
        case O_MAXU: bad = cli_int("corpus", "--max-utterances", optarg, 1, 2000000000, &max_u); break;
        case O_SHUF: o.shuffle = 1; break;
        case O_SEED: bad = cli_int("corpus", "--seed", optarg, 0, 2000000000, &seed); break;
        default: return cli_usage_error("corpus", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (bad) return bad;
    int action;
    if (optind != argc - 2) return cli_usage_error("corpus", "expects an action and a CORPUS");
    if (cli_choice("corpus", "action", argv[optind], actions, &action)) return EXIT_USAGE;
    o.max_utterances = (size_t)max_u;
    o.seed = (unsigned long long)seed;
    nk_alphabet *a;
    nk_corpus *c;
    if (nk_alphabet_builtin(langs[lang], &a)) return cli_fail("corpus");
    o.alphabet = a;
    int rc = nk_corpus_open(argv[optind + 1], &o, &c);
    if (rc) {
        nk_alphabet_free(a);
        return cli_fail("corpus");
    }
    size_t n = nk_corpus_size(c), ns = nk_corpus_n_skipped(c);
    if (action == 0) {
        printf("layout      %s\nutterances  %zu\nspeakers    %zu\n", nk_corpus_layout(c), n,
               nk_corpus_n_speakers(c));
        if (o.probe) printf("hours       %.3f\n", nk_corpus_duration(c) / 3600);
        printf("filtered    %zu (duration out of range)\nskipped     %zu\n", nk_corpus_filtered(c), ns);
        for (size_t i = 0; i < ns && i < 10; i++)
            printf("  %s: %s\n", nk_corpus_skipped(c, i)->file, nk_corpus_skipped(c, i)->reason);
        if (ns > 10) printf("  … %zu more (napkit corpus skipped)\n", ns - 10);
    } else if (action == 1) {
        for (size_t i = 0; i < n; i++) {
            const nk_utterance *u = nk_corpus_get(c, i);
            printf("%s\t%s\t%.3f\t%s\t%s\n", u->id, u->speaker, u->duration, u->audio, u->text);
        }
    } else {
        for (size_t i = 0; i < ns; i++)
            printf("%s\t%s\n", nk_corpus_skipped(c, i)->file, nk_corpus_skipped(c, i)->reason);
    }
    nk_corpus_free(c);
    nk_alphabet_free(a);
    return EXIT_OK;
}
