/* What `napkit naps` and `napkit merge` share: the finalize flags and the
 * step that turns sums into the output folder. */
#ifndef NAPKIT_NAPS_CLI_H
#define NAPKIT_NAPS_CLI_H

#include "cli.h"

#include "napkit/nap.h"

/* getopt codes of the finalize flags, above any command's own. */
enum { NAPS_O_NORM = 512, NAPS_O_FLAT, NAPS_O_MINCOUNT, NAPS_O_BASELINE };

#define NAPS_FINALIZE_OPTIONS                                                              \
    {"normalize", 1, 0, NAPS_O_NORM}, {"flat", 1, 0, NAPS_O_FLAT},                         \
        {"min-count", 1, 0, NAPS_O_MINCOUNT}, {"baseline", 1, 0, NAPS_O_BASELINE}

#define NAPS_FINALIZE_USAGE                                                                \
    "  --normalize none|groupmean|zscore  across groups (default groupmean)\n"            \
    "  --flat mean|zero           time-independent profile: mean over the window or offset 0\n" \
    "  --min-count N              drop groups with fewer events (default 20)\n"           \
    "  --baseline A:B             subtract each profile's mean over offsets A..B\n"

/* Applies one finalize flag; returns 0 or the usage exit code. */
int naps_finalize_flag(const char *cmd, int opt, const char *arg, nk_nap_finalize_opts *o);

/* Writes OUT/naps.shard, then finalizes s into OUT (arrays, groups.txt,
 * naps.json with `extra`), listing dropped groups on stderr. */
int naps_write_outputs(const char *cmd, const nk_nap_sums *s, const nk_nap_finalize_opts *o, const char *extra,
                       const char *out);

/* OUT/naps.shard (malloc'd). */
char *naps_shard_path(const char *out);

#endif
