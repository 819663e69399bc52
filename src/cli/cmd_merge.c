/* napkit merge: NAP shard files → the outputs of one run over all of them. */
#include "naps_cli.h"

#include "napkit/napkit.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>

const char cmd_merge_summary[] = "combine NAP shard files (napkit naps) into one result";

static const char usage[] =
    "usage: napkit merge SHARD... -o OUT [options]\n"
    "Adds the sums of shards written by 'napkit naps' (OUT/naps.shard) on parts of a corpus;\n"
    "they must share model, grouping and settings, and no utterance may be in two of them.\n" NAPS_FINALIZE_USAGE
    "Writes the same files as 'napkit naps' into OUT, including the merged naps.shard.\n";

int cmd_merge(int argc, char **argv) {
    static const struct option opts[] = {NAPS_FINALIZE_OPTIONS, {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *cmd = "merge", *out = NULL;
    nk_nap_finalize_opts fin;
    nk_nap_finalize_opts_default(&fin);
    int bad = 0;
    for (int o; (o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1 && !bad;) {
        switch (o) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'o': out = optarg; break;
        case NAPS_O_NORM: case NAPS_O_FLAT: case NAPS_O_MINCOUNT: case NAPS_O_BASELINE:
            bad = naps_finalize_flag(cmd, o, optarg, &fin);
            break;
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (bad) return bad;
    if (!out) return cli_usage_error(cmd, "needs -o OUT");
    if (optind >= argc) return cli_usage_error(cmd, "needs at least one SHARD");
    nk_nap_sums *all = NULL;
    int rc = nk_nap_sums_read(argv[optind], &all);
    for (int i = optind + 1; !rc && i < argc; i++) {
        nk_nap_sums *s = NULL;
        rc = nk_nap_sums_read(argv[i], &s);
        if (!rc && (rc = nk_nap_sums_merge(all, s))) rc = nk_fail(rc, "%s: %s", argv[i], nk_last_error());
        nk_nap_sums_free(s);
    }
    if (rc) {
        nk_nap_sums_free(all);
        return cli_fail(cmd);
    }
    cJSON *ex = cJSON_CreateObject(), *from = cJSON_CreateArray();
    for (int i = optind; i < argc; i++) cJSON_AddItemToArray(from, cJSON_CreateString(argv[i]));
    cJSON_AddItemToObject(ex, "merged_from", from);
    char *extra = cJSON_PrintUnformatted(ex);
    cJSON_Delete(ex);
    rc = naps_write_outputs(cmd, all, &fin, extra, out);
    free(extra);
    nk_nap_sums_free(all);
    return rc;
}
