/* A plain manifest: "AUDIO<TAB>TRANSCRIPT[<TAB>SPEAKER]" per line, audio
 * paths relative to the manifest's folder; blank lines and # comments skipped. */
#include "corpus_impl.h"

#include "napkit/error.h"
#include "napkit/fileio.h"

#include <stdlib.h>
#include <string.h>

int corpus_read_manifest(nk_corpus *c, const char *path) {
    char *data, *dir = corpus_dirname(path);
    int rc = dir ? nk_read_file(path, &data, NULL) : nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    if (rc) {
        free(dir);
        return rc;
    }
    char *cursor = data, *line;
    for (int lineno = 1; !rc && (line = corpus_next_line(&cursor)); lineno++) {
        if (!*line || *line == '#') continue;
        char *text = strchr(line, '\t');
        if (!text) {
            rc = corpus_skip(c, path, "line %d: expected AUDIO<TAB>TRANSCRIPT", lineno);
            continue;
        }
        *text++ = '\0';
        char *speaker = strchr(text, '\t');
        if (speaker) *speaker++ = '\0';
        const char *base = strrchr(line, '/');
        base = base ? base + 1 : line;
        char *audio = line[0] == '/' ? strdup(line) : nk_path_join(dir, line);
        char *id = strndup(base, strcspn(base, "."));
        if (!audio || !id) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
        else if (!corpus_is_file(audio)) rc = corpus_skip(c, path, "line %d: no audio file %s", lineno, audio);
        else rc = corpus_add(c, id, audio, text, speaker && *speaker ? speaker : "unknown", path);
        free(audio);
        free(id);
    }
    free(data);
    free(dir);
    return rc;
}
