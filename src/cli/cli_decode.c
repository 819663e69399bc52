/* The decoding options eval and transcribe share: greedy, or beam search with
 * an optional character language model. */
#include "cli.h"

#include "napkit/napkit.h"

#include <stdio.h>

void cli_decode_init(cli_decode *d) {
    *d = (cli_decode){0};
    nk_ctc_beam_defaults(&d->beam);
}

int cli_decode_option(const char *cmd, cli_decode *d, int option, const char *value) {
    d->beam_search = 1;
    switch (option) {
    case CLI_O_LM: d->lm_path = value; return 0;
    case CLI_O_BEAM: return cli_int(cmd, "--beam", value, 1, 10000, &d->beam.beam);
    case CLI_O_LM_WEIGHT: d->lm_weight_given = 1; return cli_double(cmd, "--lm-weight", value, 0, 100, &d->beam.lm_weight);
    default: return cli_double(cmd, "--bonus", value, -100, 100, &d->beam.bonus);
    }
}

int cli_decode_open(const char *cmd, cli_decode *d, const nk_arch *arch, const nk_ctc_beam_options **decode) {
    *decode = NULL;
    if (d->lm_weight_given && !d->lm_path) return cli_usage_error(cmd, "--lm-weight needs --lm");
    if (!d->beam_search) return EXIT_OK;
    nk_alphabet *alpha = NULL;
    if (d->lm_path && (nk_charlm_load(d->lm_path, &d->lm) ||
                       nk_alphabet_new((const char *const *)arch->alphabet, arch->n_classes, &alpha) ||
                       nk_charlm_check_alphabet(d->lm, alpha))) {
        nk_alphabet_free(alpha);
        return cli_fail(cmd);
    }
    nk_alphabet_free(alpha);
    d->beam.lm = d->lm;
    *decode = &d->beam;
    return EXIT_OK;
}

void cli_decode_describe(const cli_decode *d, char *buf, size_t n) {
    if (!d->beam_search) snprintf(buf, n, "greedy");
    else if (!d->lm) snprintf(buf, n, "beam %d, no LM (bonus %g)", d->beam.beam, d->beam.bonus);
    else snprintf(buf, n, "beam %d, LM %s (weight %g, bonus %g)", d->beam.beam, d->lm_path, d->beam.lm_weight,
                  d->beam.bonus);
}

void cli_decode_close(cli_decode *d) {
    nk_charlm_free(d->lm);
    d->lm = NULL;
}
