/* napkit lexicon: words → phonemes (CMUdict or espeak-ng) and their
 * letter↔phoneme alignment. */
#include "cli.h"

#include "napkit/napkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_lexicon_summary[] = "show words' phonemes (CMUdict / espeak-ng) and letter-phoneme alignment";

static const char usage[] =
    "usage: napkit lexicon [options] WORD...\n"
    "  --language LANG      en (CMUdict, espeak-ng for missing words) or any espeak-ng\n"
    "                       language/voice such as de (default en)\n"
    "  --lexicon FILE       CMUdict file, Festival or plain format (default: $NAPKIT_CMUDICT\n"
    "                       or Debian's festlex-cmu copy); English only\n"
    "  --model FILE         letter-phoneme model (JSON) to use instead of the cache\n"
    "  --train-text FILE    (re)train the model on the words of this text, phonemized\n"
    "                       with espeak-ng (needed once for languages without a lexicon)\n"
    "Prints one line per word: word, source, ARPAbet, IPA, alignment (\"sh|ʃ i|ɪ p|p\").\n"
    "Trained models are cached in $NAPKIT_CACHE (default ~/.cache/napkit).\n";

int cmd_lexicon(int argc, char **argv) {
    enum { O_LANG = 256, O_LEX, O_MODEL, O_TRAIN };
    static const struct option opts[] = {{"language", 1, 0, O_LANG}, {"lexicon", 1, 0, O_LEX},
                                         {"model", 1, 0, O_MODEL},   {"train-text", 1, 0, O_TRAIN},
                                         {"help", 0, 0, 'h'},        {0, 0, 0, 0}};
    const char *lang = "en", *lex_path = NULL, *model_path = NULL, *train_text = NULL;
    for (int o; (o = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        switch (o) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case O_LANG: lang = optarg; break;
        case O_LEX: lex_path = optarg; break;
        case O_MODEL: model_path = optarg; break;
        case O_TRAIN: train_text = optarg; break;
        default: return cli_usage_error("lexicon", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return cli_usage_error("lexicon", "expects at least one WORD");
    int english = !strcmp(lang, "en");
    if (lex_path && !english) return cli_usage_error("lexicon", "--lexicon is for --language en only");
    const char *voice = nk_espeak_voice_for(lang);
    nk_lexicon *lex = NULL;
    if (english) {
        const char *path = lex_path ? lex_path : nk_lexicon_default_path();
        if (nk_lexicon_load(path, &lex)) return cli_fail("lexicon");
        const char *report;
        if (nk_lexicon_n_bad(lex, &report)) fprintf(stderr, "napkit lexicon: %s: %s\n", path, report);
    }
    nk_lp_model *m = NULL;
    /* The model is only needed for the alignment column; --model/--train-text
     * must work, a missing cache for a new language only loses that column. */
    if (nk_lp_model_for(lang, voice, lex, model_path, train_text, &m) && (model_path || train_text)) {
        nk_lexicon_free(lex);
        return cli_fail("lexicon");
    }
    if (!m) fprintf(stderr, "napkit lexicon: %s (no alignments)\n", nk_last_error());
    int status = EXIT_OK;
    for (int i = optind; i < argc; i++) {
        nk_pron p;
        nk_pron_source src;
        if (nk_pronounce(lex, voice, argv[i], &p, &src)) {
            fprintf(stderr, "napkit lexicon: %s\n", nk_last_error());
            status = EXIT_USER_ERROR;
            continue;
        }
        char arpa[512], ipa[512], align[1024] = "";
        nk_pron_format(&p, 1, arpa, sizeof arpa);
        nk_pron_format(&p, 0, ipa, sizeof ipa);
        nk_lp_group g[2 * NK_PRON_MAX];
        int n;
        if (m && !nk_lp_align(m, argv[i], &p, g, &n)) nk_lp_format(argv[i], &p, g, n, align, sizeof align);
        else if (m) fprintf(stderr, "napkit lexicon: %s\n", nk_last_error());
        printf("%s\t%s\t%s\t/%s/\t%s\n", argv[i], nk_pron_source_names[src], arpa, ipa, align);
    }
    nk_lp_model_free(m);
    nk_lexicon_free(lex);
    return status;
}
