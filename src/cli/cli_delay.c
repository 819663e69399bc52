/* Onset delays measured by `napkit align --reference`, read back from its
 * quality.json (napkit align --delay-from, napkit model set-delay --from). */
#include "cli.h"

#include "napkit/fileio.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

/* The run subtracted delay_ms and still saw the median error, so the model's
 * delay is their sum: a run that already subtracted a delay measures it too. */
int cli_delay_from(const char *cmd, const char *path, int midway, double *delay) {
    char *text;
    if (nk_read_file(path, &text, NULL)) return cli_fail(cmd);
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "delay_ms"),
                *b = cJSON_GetObjectItemCaseSensitive(j, "boundary"),
                *e = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "all"), "median_error_ms");
    int rc = EXIT_OK;
    if (!cJSON_IsNumber(d) || !cJSON_IsNumber(e) || !cJSON_IsString(b))
        rc = cli_usage_error(cmd, "%s: not a quality.json with delay_ms, boundary and all.median_error_ms", path);
    else if (strcmp(b->valuestring, midway ? "midway" : "spike"))
        rc = cli_usage_error(cmd, "%s: measured with --boundary %s, not %s", path, b->valuestring,
                             midway ? "midway" : "spike");
    else
        *delay = (d->valuedouble + e->valuedouble) / 1000;
    cJSON_Delete(j);
    return rc;
}
