/* napkit lm: a character language model from the transcripts of corpora. */
#include "cli.h"

#include "napkit/napkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_lm_summary[] = "train a character n-gram language model for beam-search decoding";

static const char usage[] =
    "usage: napkit lm (--model MODEL | --lang en|de) [--order N] CORPUS… -o OUT.lm\n"
    "Trains an interpolated Kneser-Ney character n-gram model on the corpora's\n"
    "transcripts, normalized over the model's (or the language's) alphabet, for\n"
    "`napkit eval|transcribe --lm OUT.lm`. Audio is not read. Give it training-split\n"
    "transcripts only: dev or test text in the LM makes their error rates meaningless.\n"
    "  --order N            n-gram order, 1 to 10 (default 6)\n"
    "  --max-utterances N   use the first N of each corpus\n"
    "See docs/decoding.md.\n";

/* The transcripts of every corpus, appended to texts (n so far, grown as needed). */
static int add_corpus(const char *spec, const nk_alphabet *alpha, size_t max_u, char ***texts, size_t *n) {
    nk_corpus_options co;
    nk_corpus_options_default(&co, alpha);
    co.probe = 0; /* transcripts only */
    co.max_utterances = max_u;
    nk_corpus *c;
    if (nk_corpus_open(spec, &co, &c)) return cli_fail("lm");
    size_t m = nk_corpus_size(c), skipped = nk_corpus_n_skipped(c);
    char **grown = realloc(*texts, (*n + m + 1) * sizeof *grown);
    int ok = grown != NULL, rc = EXIT_OK;
    if (grown) *texts = grown;
    for (size_t i = 0; ok && i < m; i++) ok = ((*texts)[(*n)++] = strdup(nk_corpus_get(c, i)->text)) != NULL;
    if (!ok) {
        nk_fail(NK_ERR_NOMEM, "%s: out of memory", spec);
        rc = cli_fail("lm");
    }
    if (skipped)
        fprintf(stderr, "napkit lm: %s: skipped %zu transcript%s (napkit corpus skipped lists them)\n", spec, skipped,
                skipped == 1 ? "" : "s");
    nk_corpus_free(c);
    return rc;
}

int cmd_lm(int argc, char **argv) {
    enum { O_MODEL = 256, O_LANG, O_ORDER, O_MAXU };
    static const struct option opts[] = {{"model", 1, 0, O_MODEL}, {"lang", 1, 0, O_LANG}, {"order", 1, 0, O_ORDER},
                                         {"max-utterances", 1, 0, O_MAXU}, {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    static const char *const langs[] = {"en", "de", NULL};
    const char *model_path = NULL, *out = NULL;
    int bad = 0, lang = -1, order = 6, max_u = 0;
    for (int c; (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1 && !bad;) {
        switch (c) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'o': out = optarg; break;
        case O_MODEL: model_path = optarg; break;
        case O_LANG: bad = cli_choice("lm", "--lang", optarg, langs, &lang); break;
        case O_ORDER: bad = cli_int("lm", "--order", optarg, 1, 10, &order); break;
        case O_MAXU: bad = cli_int("lm", "--max-utterances", optarg, 1, 2000000000, &max_u); break;
        default: return cli_usage_error("lm", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (bad) return bad;
    if (!model_path == (lang < 0)) return cli_usage_error("lm", "needs one of --model and --lang");
    if (!out || optind >= argc) return cli_usage_error("lm", "needs at least one CORPUS and -o OUT.lm");
    nk_model *m = NULL;
    nk_alphabet *alpha = NULL;
    int rc = EXIT_OK;
    if (model_path ? nk_model_load(model_path, &m) ||
                         nk_alphabet_new((const char *const *)nk_model_arch(m)->alphabet, nk_model_arch(m)->n_classes, &alpha)
                   : nk_alphabet_builtin(langs[lang], &alpha))
        rc = cli_fail("lm");
    char **texts = NULL;
    size_t n = 0, bytes = 0;
    for (int i = optind; !rc && i < argc; i++) rc = add_corpus(argv[i], alpha, (size_t)max_u, &texts, &n);
    if (!rc && n == 0) { /* named here: the library knows no files */
        nk_fail(NK_ERR_EMPTY, "%s%s: no transcripts to train on", argv[optind], argc - optind > 1 ? " and the rest" : "");
        rc = cli_fail("lm");
    }
    nk_charlm *lm = NULL;
    if (!rc && (nk_charlm_train(alpha, order, (const char *const *)texts, n, &lm) || nk_charlm_save(lm, out)))
        rc = cli_fail("lm");
    for (size_t i = 0; !rc && i < n; i++) bytes += strlen(texts[i]);
    if (!rc) fprintf(stderr, "napkit lm: %zu transcripts (%zu bytes of text), order %d: wrote %s\n", n, bytes, order, out);
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
    nk_charlm_free(lm);
    nk_alphabet_free(alpha);
    nk_model_free(m);
    return rc;
}
