/* LibriSpeech layout: <spk>/<chapter>/<spk>-<chapter>-<utt>.<audio> with
 * <spk>-<chapter>.trans.txt ("ID TRANSCRIPT" per line), found at any depth
 * below the given folder (root, subset, speaker or chapter). */
#include "corpus_impl.h"

#include "napkit/error.h"
#include "napkit/fileio.h"

#include <stdlib.h>
#include <string.h>

/* Folders deeper than this below the start are not LibriSpeech. */
#define MAX_DEPTH 6

static int read_trans(nk_corpus *c, const char *dir, const char *path) {
    char *data;
    int rc = nk_read_file(path, &data, NULL);
    if (rc) return rc;
    corpus_folder f;
    if ((rc = corpus_folder_open(&f, dir))) {
        free(data);
        return rc;
    }
    char *cursor = data, *line;
    for (int lineno = 1; !rc && (line = corpus_next_line(&cursor)); lineno++) {
        if (!*line) continue;
        char *sep = strpbrk(line, " \t");
        if (!sep) {
            rc = corpus_skip(c, path, "line %d: no transcript after the id '%s'", lineno, line);
            continue;
        }
        *sep = '\0';
        /* The speaker is the id's first field: 84 in 84-121550-0000. */
        char *speaker = strndup(line, strcspn(line, "-"));
        rc = speaker ? corpus_folder_add(c, &f, line, sep + 1, speaker, path)
                     : nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
        free(speaker);
    }
    int rc2 = corpus_folder_close(c, &f);
    free(data);
    return rc ? rc : rc2;
}

static int walk(nk_corpus *c, const char *dir, int depth, int *found) {
    char **names;
    size_t n;
    int rc = corpus_list_dir(dir, &names, &n);
    for (size_t i = 0; i < n && !rc; i++) {
        char *path = nk_path_join(dir, names[i]);
        size_t len = strlen(names[i]);
        if (!path) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", dir);
        else if (len > 10 && !strcmp(names[i] + len - 10, ".trans.txt")) {
            (*found)++;
            rc = read_trans(c, dir, path);
        } else if (depth < MAX_DEPTH && corpus_is_dir(path)) {
            rc = walk(c, path, depth + 1, found);
        }
        free(path);
    }
    corpus_free_names(names, n);
    return rc;
}

int corpus_read_librispeech(nk_corpus *c, const char *path) {
    int found = 0;
    int rc = walk(c, path, 0, &found);
    if (!rc && !found)
        rc = nk_fail(NK_ERR_FORMAT, "%s: no *.trans.txt below this folder (not a LibriSpeech layout)", path);
    return rc;
}
