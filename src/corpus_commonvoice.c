/* Mozilla Common Voice: a .tsv with a header naming `path` and `sentence`
 * (and `client_id`, the speaker); the audio is in clips/ beside it. */
#include "corpus_impl.h"

#include "napkit/error.h"
#include "napkit/fileio.h"

#include <stdlib.h>
#include <string.h>

/* Splits a line at tabs in place; returns the number of fields (≤ max). */
static int split_tabs(char *line, char **fields, int max) {
    int n = 0;
    for (char *p = line; n < max;) {
        fields[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab) break;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

enum { MAX_COLUMNS = 64 };

int corpus_read_commonvoice(nk_corpus *c, const char *path) {
    char *tsv = corpus_is_dir(path) ? nk_path_join(path, "validated.tsv") : strdup(path);
    char *dir = tsv ? corpus_dirname(tsv) : NULL, *clips = dir ? nk_path_join(dir, "clips") : NULL;
    char *data = NULL;
    int rc = clips ? nk_read_file(tsv, &data, NULL) : nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    char *cursor = data, *line = rc ? NULL : corpus_next_line(&cursor), *col[MAX_COLUMNS];
    int n_col = line ? split_tabs(line, col, MAX_COLUMNS) : 0, i_path = -1, i_text = -1, i_spk = -1;
    for (int i = 0; i < n_col; i++) {
        if (!strcmp(col[i], "path")) i_path = i;
        if (!strcmp(col[i], "sentence")) i_text = i;
        if (!strcmp(col[i], "client_id")) i_spk = i;
    }
    if (!rc && (i_path < 0 || i_text < 0))
        rc = nk_fail(NK_ERR_FORMAT, "%s: header has no `path` and `sentence` columns (not Common Voice)", tsv);
    for (int lineno = 2; !rc && (line = corpus_next_line(&cursor)); lineno++) {
        if (!*line) continue;
        char *f[MAX_COLUMNS];
        int n = split_tabs(line, f, MAX_COLUMNS);
        if (n <= i_path || n <= i_text || (i_spk >= 0 && n <= i_spk)) {
            rc = corpus_skip(c, tsv, "line %d: %d columns, the header has %d", lineno, n, n_col);
            continue;
        }
        char *audio = nk_path_join(clips, f[i_path]);
        char *id = strndup(f[i_path], strcspn(f[i_path], "."));
        if (!audio || !id) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", tsv);
        else if (!corpus_is_file(audio)) rc = corpus_skip(c, tsv, "%s: no audio file %s", id, audio);
        else rc = corpus_add(c, id, audio, f[i_text], i_spk >= 0 ? f[i_spk] : "unknown", tsv);
        free(audio);
        free(id);
    }
    free(data);
    free(clips);
    free(dir);
    free(tsv);
    return rc;
}
