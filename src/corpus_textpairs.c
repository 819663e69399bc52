/* <ID>.<audio> beside <ID>.txt holding its transcript; a folder whose data/
 * holds the pairs works too. One speaker, named after the folder. */
#include "corpus_impl.h"

#include "napkit/error.h"
#include "napkit/fileio.h"

#include <stdlib.h>
#include <string.h>

int corpus_read_textpairs(nk_corpus *c, const char *path) {
    char *data_dir = nk_path_join(path, "data");
    const char *dir = data_dir && corpus_is_dir(data_dir) ? data_dir : path;
    char *speaker = corpus_speaker_from_dir(dir);
    corpus_folder f;
    int rc = speaker ? corpus_folder_open(&f, dir) : nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    if (rc) {
        free(speaker);
        free(data_dir);
        return rc;
    }
    size_t pairs = 0;
    for (size_t i = 0; i < f.n && !rc; i++) {
        size_t len = strlen(f.names[i]);
        if (len <= 4 || strcmp(f.names[i] + len - 4, ".txt")) continue;
        char *txt = nk_path_join(dir, f.names[i]), *id = strndup(f.names[i], len - 4), *text = NULL;
        if (!txt || !id) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", dir);
        else if (nk_read_file(txt, &text, NULL)) rc = corpus_skip(c, txt, "%s", nk_last_error());
        else {
            pairs++;
            rc = corpus_folder_add(c, &f, id, text, speaker, txt);
        }
        free(text);
        free(id);
        free(txt);
    }
    int rc2 = corpus_folder_close(c, &f);
    if (!rc && !pairs) rc = nk_fail(NK_ERR_FORMAT, "%s: no <id>.txt transcripts (not a textpairs folder)", dir);
    free(speaker);
    free(data_dir);
    return rc ? rc : rc2;
}
