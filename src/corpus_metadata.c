/* LJSpeech-style metadata.csv: "ID|TEXT" or "ID|TEXT|NORMALIZED" (the last
 * column is used), audio <ID>.<audio> in wavs/, data/ or beside the file.
 * One speaker, named after the folder. */
#include "corpus_impl.h"

#include "napkit/error.h"
#include "napkit/fileio.h"

#include <stdlib.h>
#include <string.h>

int corpus_read_metadata(nk_corpus *c, const char *path) {
    char *csv = corpus_is_dir(path) ? nk_path_join(path, "metadata.csv") : strdup(path);
    char *dir = csv ? corpus_dirname(csv) : NULL, *speaker = dir ? corpus_speaker_from_dir(dir) : NULL;
    char *data = NULL, *audio_dir = NULL;
    int rc = speaker ? nk_read_file(csv, &data, NULL) : nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    static const char *const subdirs[] = {"wavs", "data", "."};
    for (int i = 0; !rc && i < 3 && !audio_dir; i++) {
        char *d = nk_path_join(dir, subdirs[i]);
        if (d && corpus_is_dir(d)) audio_dir = d;
        else free(d);
    }
    corpus_folder f;
    if (!rc && !(rc = corpus_folder_open(&f, audio_dir))) {
        char *cursor = data, *line;
        for (int lineno = 1; !rc && (line = corpus_next_line(&cursor)); lineno++) {
            if (!*line) continue;
            char *bar = strchr(line, '|'), *last = strrchr(line, '|');
            if (!bar) {
                rc = corpus_skip(c, csv, "line %d: expected ID|TEXT", lineno);
                continue;
            }
            *bar = '\0';
            rc = corpus_folder_add(c, &f, line, last + 1, speaker, csv);
        }
        int rc2 = corpus_folder_close(c, &f);
        if (!rc) rc = rc2;
    }
    free(data);
    free(audio_dir);
    free(speaker);
    free(dir);
    free(csv);
    return rc;
}
