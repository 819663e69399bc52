/* Shared helpers for the napkit subcommands: flag parsing and exit codes.
 *
 * Each subcommand lives in src/cli/cmd_NAME.c and defines
 *   const char cmd_NAME_summary[];          one line for `napkit --help`
 *   int cmd_NAME(int argc, char **argv);    argv[0] is "NAME"
 * The build finds them by file name; nothing else needs editing. */
#ifndef NAPKIT_CLI_H
#define NAPKIT_CLI_H

#include <getopt.h>

enum { EXIT_OK = 0, EXIT_USER_ERROR = 1, EXIT_USAGE = 2 };

/* Prints "napkit NAME: <message>" and returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "napkit NAME: <nk_last_error()>" and returns EXIT_USER_ERROR. */
int cli_fail(const char *cmd);

/* Strict number parsing for flag values: the whole string must be a number in
 * [lo, hi]. Return 0 on success, otherwise print a usage error and return EXIT_USAGE. */
int cli_int(const char *cmd, const char *flag, const char *s, long lo, long hi, int *out);
int cli_double(const char *cmd, const char *flag, const char *s, double lo, double hi, double *out);
/* Picks a value from a NULL-terminated list of names; returns its index via *out. */
int cli_choice(const char *cmd, const char *flag, const char *s, const char *const *names, int *out);

/* The onset delay (seconds) a `napkit align --reference` run measured, from
 * its quality.json: the delay it subtracted plus the median onset error it
 * still saw. The run's boundary must be `midway`'s (a delay holds for one
 * boundary only). Returns 0, or prints the error and returns the exit code. */
int cli_delay_from(const char *cmd, const char *path, int midway, double *delay);

/* Resets getopt so each subcommand parses its own argv from the start. */
void cli_reset_getopt(void);

/* 1 when stderr is a terminal and --quiet was not given: show progress. */
extern int cli_show_progress;

/* ---- corpora for subcommands that read them (train, eval, align, naps) ---- */
#include "napkit/dataset.h"

typedef struct {
    double min_duration, max_duration; /* seconds, 0 = no limit */
    size_t max_utterances;             /* 0 = all */
    int threads;
    nk_shard shard;                    /* this rank's part; {0, 0} = all (nk_dataset_build_shard) */
} cli_data_options;

/* Opens each corpus spec over arch's alphabet and featurizes it (or its
 * shard) with arch's front end. Skipped items are listed on stderr, the first
 * ten in full: audio failures by every shard (rank) for its own utterances,
 * under cli_rank_cmd's name; corpus level skips (the same listing in every
 * rank) by shard 0 only, which also alone shows progress. Returns 0, or prints the error and returns
 * EXIT_USER_ERROR. */
int cli_load_dataset(const char *cmd, const nk_arch *arch, char *const *specs, int n,
                     const cli_data_options *o, nk_dataset **out);

/* ---- decoding for eval and transcribe: greedy, or beam search with a language model ---- */
#include "napkit/ctc_beam.h"

enum { CLI_O_LM = 1000, CLI_O_BEAM, CLI_O_LM_WEIGHT, CLI_O_BONUS };
#define CLI_DECODE_OPTIONS \
    {"lm", 1, 0, CLI_O_LM}, {"beam", 1, 0, CLI_O_BEAM}, {"lm-weight", 1, 0, CLI_O_LM_WEIGHT}, {"bonus", 1, 0, CLI_O_BONUS}
#define CLI_DECODE_CASES case CLI_O_LM: case CLI_O_BEAM: case CLI_O_LM_WEIGHT: case CLI_O_BONUS
#define CLI_DECODE_USAGE \
    "  --beam N             decode by CTC prefix beam search with N prefixes (default:\n" \
    "                       greedy decoding; 16 when any of these options is given)\n" \
    "  --lm FILE            character language model for the beam search (napkit lm)\n" \
    "  --lm-weight X        its weight (default 0.5; needs --lm)\n" \
    "  --bonus X            score added per character (default 0)\n"

typedef struct {
    const char *lm_path;
    int beam_search, lm_weight_given; /* any decoding option given; --lm-weight given */
    nk_ctc_beam_options beam;
    nk_charlm *lm;
} cli_decode;

/* Greedy decoding, and the beam defaults for when an option asks for the beam search. */
void cli_decode_init(cli_decode *d);
/* Takes one of the CLI_DECODE_OPTIONS; returns 0 or EXIT_USAGE (printed). */
int cli_decode_option(const char *cmd, cli_decode *d, int option, const char *value);
/* After parsing: loads the language model and checks it is over arch's
 * alphabet. *decode receives NULL for greedy decoding, else the beam search's
 * options. Returns 0, or prints the error and returns its exit code. */
int cli_decode_open(const char *cmd, cli_decode *d, const nk_arch *arch, const nk_ctc_beam_options **decode);
/* The decoding settings in words: "greedy", or "beam 16, LM en.lm (weight 0.5, bonus 0)". */
void cli_decode_describe(const cli_decode *d, char *buf, size_t n);
void cli_decode_close(cli_decode *d);

/* ---- scale-out across processes (napkit naps under mpirun) ---- */

/* This process's place among those mpirun started: rank 0 of 1 when napkit is
 * built without OpenMPI or not started by mpirun. */
typedef struct {
    int rank, size;
} cli_ranks;

void cli_mpi_start(int *argc, char ***argv, cli_ranks *r);
/* Waits for every rank; returns 1 when all of them passed ok = 1. Every rank
 * must call it at the same point, whatever happened before. */
int cli_mpi_all_ok(const cli_ranks *r, int ok);
/* The sum of v over all ranks; every rank must call it at the same point. */
size_t cli_mpi_sum(const cli_ranks *r, size_t v);
/* The name a rank's messages go under: cmd, or "cmd (rank R of N)" when there
 * are several ranks, so that each reports its own share recognizably. */
const char *cli_rank_cmd(const char *cmd, int rank, int size, char *buf, size_t n);
void cli_mpi_stop(const cli_ranks *r);

#endif
