/* napkit naps: NAPs / GradNAPs of a model over a corpus, per group and layer. */
#include "naps_cli.h"

#include "napkit/napkit.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char cmd_naps_summary[] = "neuron activation profiles (NAPs, GradNAPs) per phoneme/letter and layer";

static const char usage[] =
    "usage: napkit naps --model M [--align DIR] CORPUS... -o OUT [options]\n"
    "  --align DIR                events from DIR/events.jsonl; without it, letter events from\n"
    "                             the model's own CTC forced alignment of each transcript\n"
    "  --group phoneme|letter|class|word  what to average over (default phoneme with --align,\n"
    "                             letter without)\n"
    "  --layers all|0,3,9         layers (default all)\n"
    "  --mode act|gxa|absgxa|gradmask  plain NAP or gradient-adjusted (default act)\n"
    "  --target logit|logprob     score whose gradient gxa uses (default logit)\n"
    "  --window W                 offsets -W..W frames around each event (default 15)\n"
    "  --center peak|span|grad    window centre (default peak)\n" NAPS_FINALIZE_USAGE
    "  --threads N                utterances in parallel (default 1)\n"
    "  --resume                   continue from OUT/naps.shard, skipping its utterances\n"
    "  --checkpoint SEC           save OUT/naps.shard this often (default 30)\n"
    "  --max-utterances N         the first N of each corpus\n"
    "Writes OUT/layer_NN.npy (G, C, 2W+1) means, layer_NN_sem.npy, layer_NN_flat.npy (G, C),\n"
    "groups.txt, naps.json and naps.shard (the sums, for --resume and 'napkit merge').\n"
    "Ctrl-C or kill saves the shard; run again with --resume to continue.\n";

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { interrupted = sig; }

/* ---- shared with napkit merge (naps_cli.h) ---- */

int naps_finalize_flag(const char *cmd, int opt, const char *arg, nk_nap_finalize_opts *o) {
    int v, bad = 0;
    switch (opt) {
    case NAPS_O_NORM: bad = cli_choice(cmd, "--normalize", arg, nk_nap_norm_names, &v), o->normalize = v; break;
    case NAPS_O_FLAT: bad = cli_choice(cmd, "--flat", arg, nk_nap_flat_names, &v), o->flat = v; break;
    case NAPS_O_MINCOUNT: bad = cli_int(cmd, "--min-count", arg, 1, 2000000000, &v), o->min_count = v; break;
    case NAPS_O_BASELINE: {
        char extra;
        if (sscanf(arg, "%d:%d%c", &o->baseline_from, &o->baseline_to, &extra) != 2)
            return cli_usage_error(cmd, "--baseline expects A:B offsets, e.g. -15:-10 (got '%s')", arg);
        o->baseline = 1;
        break;
    }
    }
    return bad;
}

char *naps_shard_path(const char *out) { return nk_path_join(out, "naps.shard"); }

int naps_write_outputs(const char *cmd, const nk_nap_sums *s, const nk_nap_finalize_opts *o, const char *extra,
                       const char *out) {
    char *shard = naps_shard_path(out);
    int rc = nk_mkdirs(out);
    if (!rc) rc = shard ? nk_nap_sums_write(s, shard) : nk_fail(NK_ERR_NOMEM, "out of memory");
    free(shard);
    nk_nap_result r;
    if (!rc) rc = nk_nap_finalize(s, o, &r);
    if (rc) return cli_fail(cmd);
    if (r.n_dropped) {
        fprintf(stderr, "napkit %s: dropped %d group%s with fewer than %lld events:", cmd, r.n_dropped,
                r.n_dropped == 1 ? "" : "s", (long long)o->min_count);
        for (int k = 0; k < r.n_dropped; k++)
            fprintf(stderr, " %s (%lld)", nk_nap_sums_group(s, r.dropped[k]),
                    (long long)nk_nap_sums_n_events(s, r.dropped[k]));
        fputc('\n', stderr);
    }
    rc = nk_nap_result_save(&r, s, o, extra, out);
    if (!rc && cli_show_progress)
        fprintf(stderr, "napkit %s: %d groups, %d layers, %zu utterances → %s\n", cmd, r.G, r.n_layers,
                nk_nap_sums_n_utts(s), out);
    nk_nap_result_free(&r);
    return rc ? cli_fail(cmd) : EXIT_OK;
}

/* ---- naps ---- */

/* "all" or a comma list of layer indices → sorted, unique. */
static int parse_layers(const char *arg, int L, int **layers, int *n) {
    *layers = malloc(sizeof(int) * (L > 0 ? L : 1));
    *n = 0;
    if (!*layers) return nk_fail(NK_ERR_NOMEM, "out of memory");
    if (!strcmp(arg, "all")) {
        for (int l = 0; l < L; l++) (*layers)[(*n)++] = l;
        return NK_OK;
    }
    unsigned char *seen = calloc(L > 0 ? L : 1, 1);
    const char *p = arg;
    int rc = seen ? NK_OK : nk_fail(NK_ERR_NOMEM, "out of memory");
    while (!rc && *p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || (*end && *end != ','))
            rc = nk_fail(NK_ERR_ARG, "--layers: '%s' is not 'all' or a list like 0,3,9", arg);
        else if (v < 0 || v >= L)
            rc = nk_fail(NK_ERR_ARG, "--layers: layer %ld is out of range (the model has layers 0 to %d)", v, L - 1);
        else seen[v] = 1;
        p = *end ? end + 1 : end;
    }
    for (int l = 0; !rc && l < L; l++)
        if (seen[l]) (*layers)[(*n)++] = l;
    free(seen);
    return rc;
}

static void list_some(const char *cmd, const char *what, char *const *items, size_t n) {
    if (!n) return;
    fprintf(stderr, "napkit %s: %s: %zu\n", cmd, what, n);
    for (size_t i = 0; i < n && i < 10; i++) fprintf(stderr, "  %s\n", items[i]);
    if (n > 10) fprintf(stderr, "  … and %zu more\n", n - 10);
}

/* Groups the events, warning about those the corpus cannot take. */
static int resolve_events(const char *cmd, const nk_events *e, int kind, const nk_arch *arch, const nk_dataset *d,
                          nk_nap_grouped *r) {
    if (nk_nap_group_events(e, kind, arch, d, r)) return -1;
    if (r->n_missing) { /* a clear warning, once per utterance */
        char what[128];
        snprintf(what, sizeof what, "%zu events skipped: their utterance is not in the corpus; utterances",
                 r->n_missing_events);
        list_some(cmd, what, (char *const *)r->missing, r->n_missing);
    }
    if (r->n_no_label) fprintf(stderr, "napkit %s: %zu events without a \"class\" skipped\n", cmd, r->n_no_label);
    return 0;
}

typedef struct {
    const char *who; /* "naps", or "naps (rank R of N)" under mpirun */
    nk_progress *progress;
    nk_nap_sums *sums;
    const char *shard;
    double checkpoint, last, seconds, frame_seconds;
    size_t n_failed;
} run_ctx;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int after_utterance(void *ctx, size_t done, const nk_nap_utt *u, const char *failed) {
    run_ctx *c = ctx;
    if (failed) {
        if (c->n_failed++ < 10) fprintf(stderr, "\nnapkit %s: skipped utterance %s: %s\n", c->who, u->id, failed);
    } else {
        c->seconds += u->T * c->frame_seconds;
    }
    nk_progress_update(c->progress, done, c->seconds, NULL);
    if (c->checkpoint > 0 && now() - c->last >= c->checkpoint) {
        if (nk_nap_sums_write(c->sums, c->shard))
            fprintf(stderr, "\nnapkit %s: checkpoint failed: %s\n", c->who, nk_last_error());
        c->last = now();
    }
    return interrupted != 0;
}

typedef struct {
    const char *model, *align, *out;
    int kind, threads, resume, max_u;
    const char *layers;
    double checkpoint;
    nk_nap_config cfg;
    nk_nap_finalize_opts fin;
} naps_args;

/* Under mpirun each rank sums every size-th utterance into its own shard;
 * rank 0 then adds the shards in rank order (so the result is the same for
 * the same number of ranks) and writes the outputs. */
static char *rank_shard_path(const char *out, const cli_ranks *k) {
    if (k->size == 1) return naps_shard_path(out);
    char name[64];
    snprintf(name, sizeof name, "naps.shard.rank%d", k->rank);
    return nk_path_join(out, name);
}

static int merge_rank_shards(const char *out, const cli_ranks *k, nk_nap_sums *s) {
    int rc = NK_OK;
    for (int r = 1; !rc && r < k->size; r++) {
        cli_ranks other = {r, k->size};
        char *p = rank_shard_path(out, &other);
        nk_nap_sums *part = NULL;
        rc = p ? nk_nap_sums_read(p, &part) : nk_fail(NK_ERR_NOMEM, "out of memory");
        if (!rc) rc = nk_nap_sums_merge(s, part);
        nk_nap_sums_free(part);
        free(p);
    }
    return rc;
}

/* The rank's share of the corpus: every size-th utterance of the listing. */
static int load_share(const char *who, const naps_args *a, const nk_arch *arch, char *const *corpora, int n_corpora,
                      const cli_ranks *ranks, nk_dataset **d) {
    cli_data_options o = {0, 0, (size_t)a->max_u, a->threads, {ranks->rank, ranks->size}};
    int rc = cli_load_dataset("naps", arch, corpora, n_corpora, &o, d);
    if (!rc && ranks->size > 1)
        fprintf(stderr, "napkit %s: featurized %zu of the corpus's %zu utterances\n", who, nk_dataset_size(*d),
                nk_dataset_n_listed(*d));
    return rc;
}

/* Events from --align DIR (the same file on every rank: rank 0 reports its
 * malformed lines), or the model's letter alignment of the rank's share. */
static int load_events(const char *who, const naps_args *a, nk_model *m, const nk_dataset *d, const cli_ranks *ranks,
                       nk_events *ev) {
    if (a->align) {
        char *p = nk_path_join(a->align, "events.jsonl");
        int rc = !p || nk_events_read(p, ev) ? cli_fail(who) : EXIT_OK;
        if (!rc && ranks->rank == 0) list_some("naps", "malformed event lines skipped", ev->skipped, ev->n_skipped);
        free(p);
        return rc;
    }
    if (nk_nap_letter_events(m, d, a->threads, ev)) return cli_fail(who);
    list_some(who, "utterances without a forced alignment (skipped)", ev->skipped, ev->n_skipped);
    return EXIT_OK;
}

static int run(const naps_args *a, char *const *corpora, int n_corpora, int argc, char **argv,
               const cli_ranks *ranks) {
    /* Under mpirun every rank featurizes (and force-aligns) only its own share
     * of the corpus, so what it reports about utterances is its own: `who`
     * says which rank speaks. */
    const char *cmd = "naps";
    char name[64];
    const char *who = cli_rank_cmd(cmd, ranks->rank, ranks->size, name, sizeof name);
    nk_model *m = NULL;
    nk_dataset *d = NULL;
    nk_events ev = {0};
    nk_nap_grouped r = {0};
    nk_nap_sums *s = NULL;
    nk_nap_utt *u = NULL;
    char *identity = NULL, *extra = NULL, *shard = rank_shard_path(a->out, ranks);
    nk_nap_config cfg = a->cfg;
    int rc = EXIT_OK;
    if (nk_model_load(a->model, &m)) return free(shard), cli_fail(cmd);
    const nk_arch *arch = nk_model_arch(m);
    if (parse_layers(a->layers, arch->n_layers, &cfg.layers, &cfg.n_layers)) rc = cli_fail(cmd);
    if (!rc) rc = load_share(who, a, arch, corpora, n_corpora, ranks, &d);
    if (!rc) rc = load_events(who, a, m, d, ranks, &ev);
    if (!rc && resolve_events(who, &ev, a->kind, arch, d, &r)) rc = cli_fail(who);
    if (!rc) {
        identity = nk_nap_identity(m, a->kind, a->align ? "events.jsonl" : "ctc-forced-alignment");
        if (!identity) rc = cli_fail(cmd);
        else if (nk_nap_sums_new(arch, &cfg, (const char *const *)r.groups, r.G, identity, &s)) rc = cli_fail(cmd);
    }
    if (!rc && a->resume) {
        nk_nap_sums *old = NULL;
        FILE *f = fopen(shard, "rb");
        if (f) {
            fclose(f);
            if (nk_nap_sums_read(shard, &old) || nk_nap_sums_merge(s, old))
                rc = cli_usage_error(who, "cannot resume from %s: %s", shard, nk_last_error());
            else if (cli_show_progress)
                fprintf(stderr, "napkit %s: resuming: %zu utterances already summed\n", who, nk_nap_sums_n_utts(s));
            nk_nap_sums_free(old);
        }
    }
    size_t n = 0, no_events = 0;
    const size_t total = d ? nk_dataset_size(d) : 0;
    if (!rc && !(u = calloc(total + 1, sizeof *u))) rc = cli_fail(cmd);
    for (size_t i = 0; !rc && i < total; i++) {
        const nk_example *x = nk_dataset_get(d, i);
        if (!r.n_ev[i]) no_events++;
        else if (!nk_nap_sums_has_utt(s, x->id)) u[n++] = (nk_nap_utt){x->id, x->x, x->T, r.ev[i], r.n_ev[i]};
    }
    if (!rc && no_events && cli_show_progress)
        fprintf(stderr, "napkit %s: %zu utterances have no events\n", who, no_events);
    if (!rc) {
        run_ctx c = {who, nk_progress_new("naps", n, "s audio", cli_show_progress && ranks->rank == 0), s, shard,
                     a->checkpoint, now(), 0, (double)arch->frontend.hop / arch->frontend.sample_rate, 0};
        struct sigaction sa = {0}, old_int, old_term;
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, &old_int), sigaction(SIGTERM, &sa, &old_term);
        int run_rc = nk_mkdirs(a->out);
        if (!run_rc) run_rc = nk_nap_run(m, s, u, n, a->threads, after_utterance, &c);
        sigaction(SIGINT, &old_int, NULL), sigaction(SIGTERM, &old_term, NULL);
        nk_progress_finish(c.progress);
        if (c.n_failed > 10) fprintf(stderr, "napkit %s: … and %zu more utterances skipped\n", who, c.n_failed - 10);
        if (run_rc == NK_ERR_INTERRUPTED) {
            rc = nk_nap_sums_write(s, shard) ? cli_fail(who) : EXIT_USER_ERROR;
            if (rc == EXIT_USER_ERROR)
                fprintf(stderr, "napkit %s: interrupted: %zu utterances saved in %s; run again with --resume\n",
                        who, nk_nap_sums_n_utts(s), shard);
        } else if (run_rc) {
            rc = cli_fail(who);
        }
    }
    size_t n_corpus = total; /* featurized utterances, for naps.json */
    if (ranks->size > 1) {
        if (!rc && nk_nap_sums_write(s, shard)) rc = cli_fail(who);
        n_corpus = cli_mpi_sum(ranks, n_corpus);
        if (!cli_mpi_all_ok(ranks, rc == EXIT_OK)) rc = rc ? rc : EXIT_USER_ERROR;
        if (!rc && ranks->rank > 0) rc = -1; /* done: rank 0 writes the outputs */
        if (!rc && merge_rank_shards(a->out, ranks, s)) rc = cli_fail(cmd);
        if (!rc && nk_nap_sums_n_groups(s) == 0) { /* one rank's share may have no events; all of them not */
            nk_fail(NK_ERR_EMPTY, "no events to sum: none of the %d ranks' utterances has any", ranks->size);
            rc = cli_fail(cmd);
        }
    }
    if (!rc && nk_nap_sums_n_skipped_events(s))
        fprintf(stderr, "napkit naps: %lld events skipped (beyond their utterance's end, or no target letter for %s)\n",
                (long long)nk_nap_sums_n_skipped_events(s), nk_nap_mode_names[cfg.mode]);
    if (!rc) {
        char *line = nk_plot_command_line(argc, argv);
        extra = nk_nap_run_info(arch, &cfg, a->model, a->align, (const char *const *)corpora, n_corpora, n_corpus,
                                line);
        free(line);
        rc = extra ? naps_write_outputs(cmd, s, &a->fin, extra, a->out) : cli_fail(cmd);
    }
    free(u), free(identity), free(extra), free(shard), free(cfg.layers);
    nk_nap_sums_free(s);
    nk_nap_grouped_free(&r);
    nk_events_free(&ev);
    nk_dataset_free(d);
    nk_model_free(m);
    return rc < 0 ? EXIT_OK : rc;
}

int cmd_naps(int argc, char **argv) {
    enum { O_MODEL = 256, O_ALIGN, O_GROUP, O_LAYERS, O_MODE, O_TARGET, O_WINDOW, O_CENTER, O_THREADS, O_RESUME,
           O_CKPT, O_MAXU };
    static const struct option opts[] = {
        {"model", 1, 0, O_MODEL}, {"align", 1, 0, O_ALIGN}, {"group", 1, 0, O_GROUP}, {"layers", 1, 0, O_LAYERS},
        {"mode", 1, 0, O_MODE}, {"target", 1, 0, O_TARGET}, {"window", 1, 0, O_WINDOW}, {"center", 1, 0, O_CENTER},
        {"threads", 1, 0, O_THREADS}, {"resume", 0, 0, O_RESUME}, {"checkpoint", 1, 0, O_CKPT},
        {"max-utterances", 1, 0, O_MAXU}, NAPS_FINALIZE_OPTIONS, {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    const char *cmd = "naps";
    naps_args a = {0};
    a.kind = -1, a.threads = 1, a.checkpoint = 30, a.layers = "all";
    a.cfg.window = 15;
    nk_nap_finalize_opts_default(&a.fin);
    int bad = 0, v;
    for (int o; (o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1 && !bad;) {
        switch (o) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'o': a.out = optarg; break;
        case O_MODEL: a.model = optarg; break;
        case O_ALIGN: a.align = optarg; break;
        case O_GROUP: bad = cli_choice(cmd, "--group", optarg, nk_nap_grouping_names, &a.kind); break;
        case O_LAYERS: a.layers = optarg; break;
        case O_MODE: bad = cli_choice(cmd, "--mode", optarg, nk_nap_mode_names, &v), a.cfg.mode = v; break;
        case O_TARGET: bad = cli_choice(cmd, "--target", optarg, nk_nap_target_names, &v), a.cfg.target = v; break;
        case O_CENTER: bad = cli_choice(cmd, "--center", optarg, nk_nap_center_names, &v), a.cfg.center = v; break;
        case O_WINDOW: bad = cli_int(cmd, "--window", optarg, 0, NK_NAP_MAX_WINDOW, &a.cfg.window); break;
        case O_THREADS: bad = cli_int(cmd, "--threads", optarg, 1, 256, &a.threads); break;
        case O_RESUME: a.resume = 1; break;
        case O_CKPT: bad = cli_double(cmd, "--checkpoint", optarg, 0, 1e9, &a.checkpoint); break;
        case O_MAXU: bad = cli_int(cmd, "--max-utterances", optarg, 1, 2000000000, &a.max_u); break;
        case NAPS_O_NORM: case NAPS_O_FLAT: case NAPS_O_MINCOUNT: case NAPS_O_BASELINE:
            bad = naps_finalize_flag(cmd, o, optarg, &a.fin);
            break;
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (bad) return bad;
    if (!a.model) return cli_usage_error(cmd, "needs --model M");
    if (!a.out) return cli_usage_error(cmd, "needs -o OUT");
    if (optind >= argc) return cli_usage_error(cmd, "needs at least one CORPUS");
    if (a.kind < 0) a.kind = a.align ? NK_NAP_GROUP_PHONEME : NK_NAP_GROUP_LETTER;
    if (!a.align && a.kind != NK_NAP_GROUP_LETTER)
        return cli_usage_error(cmd, "--group %s needs --align DIR (without it only letter events exist)",
                               nk_nap_grouping_names[a.kind]);
    if (a.fin.baseline && !(a.fin.baseline_from >= -a.cfg.window && a.fin.baseline_from <= a.fin.baseline_to &&
                            a.fin.baseline_to <= a.cfg.window))
        return cli_usage_error(cmd, "--baseline %d:%d must lie inside the window -%d..%d", a.fin.baseline_from,
                               a.fin.baseline_to, a.cfg.window, a.cfg.window);
    cli_ranks ranks;
    cli_mpi_start(&argc, &argv, &ranks);
    int rc = run(&a, argv + optind, argc - optind, argc, argv, &ranks);
    cli_mpi_stop(&ranks);
    return rc;
}
