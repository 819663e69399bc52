/* Corpora → datasets for the subcommands, with the skipped items reported. */
#include "cli.h"

#include "napkit/napkit.h"

#include <stdio.h>
#include <stdlib.h>

static void report_skipped(const char *cmd, const char *what, size_t n,
                           const nk_skipped *(*get)(const void *, size_t), const void *from) {
    if (n == 0) return;
    fprintf(stderr, "napkit %s: %s: skipped %zu item%s:\n", cmd, what, n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n && i < 10; i++) {
        const nk_skipped *s = get(from, i);
        fprintf(stderr, "  %s: %s\n", s->file, s->reason);
    }
    if (n > 10) fprintf(stderr, "  … and %zu more\n", n - 10);
}

static const nk_skipped *corpus_skip(const void *c, size_t i) { return nk_corpus_skipped(c, i); }
static const nk_skipped *dataset_skip(const void *d, size_t i) { return nk_dataset_skipped(d, i); }

int cli_load_dataset(const char *cmd, const nk_arch *arch, char *const *specs, int n,
                     const cli_data_options *o, nk_dataset **out) {
    *out = NULL;
    nk_alphabet *alpha;
    if (nk_alphabet_new((const char *const *)arch->alphabet, arch->n_classes, &alpha)) return cli_fail(cmd);
    const nk_shard shard = o->shard.count ? o->shard : (nk_shard){0, 1};
    const int first = shard.index == 0; /* reports what every rank sees alike */
    char name[96];
    const char *who = cli_rank_cmd(cmd, shard.index, shard.count, name, sizeof name);
    nk_corpus **corpora = calloc((size_t)n, sizeof *corpora);
    int rc = corpora ? 0 : EXIT_USER_ERROR;
    for (int i = 0; !rc && i < n; i++) {
        nk_corpus_options co;
        nk_corpus_options_default(&co, alpha);
        co.min_duration = o->min_duration;
        co.max_duration = o->max_duration;
        co.max_utterances = o->max_utterances;
        if (nk_corpus_open(specs[i], &co, &corpora[i])) {
            rc = cli_fail(cmd);
            break;
        }
        if (first) report_skipped(cmd, specs[i], nk_corpus_n_skipped(corpora[i]), corpus_skip, corpora[i]);
    }
    if (!rc && nk_dataset_build_shard(corpora, n, arch, shard, o->threads, cli_show_progress && first, out))
        rc = cli_fail(who);
    if (!rc) report_skipped(who, "audio", nk_dataset_n_skipped(*out), dataset_skip, *out);
    for (int i = 0; corpora && i < n; i++) nk_corpus_free(corpora[i]);
    free(corpora);
    nk_alphabet_free(alpha);
    return rc;
}
