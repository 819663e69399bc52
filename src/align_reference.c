/* Reference timings for a corpus: the TextGrid of each utterance, found
 * anywhere below a folder by its name (<utt>.TextGrid, as the synthesizer
 * writes it beside the audio). */
#include "napkit/align.h"

#include "napkit/error.h"
#include "napkit/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    char **path; /* sorted by file name */
    size_t n, cap;
} tg_list;

static const char *base(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int cmp_base(const void *a, const void *b) {
    return strcmp(base(*(char *const *)a), base(*(char *const *)b));
}

static int add(tg_list *l, char *path) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        char **p = realloc(l->path, cap * sizeof *p);
        if (!p) return free(path), nk_fail(NK_ERR_NOMEM, "out of memory");
        l->path = p, l->cap = cap;
    }
    l->path[l->n++] = path;
    return NK_OK;
}

/* Collects the *.TextGrid files below dir (depth-first, sorted later). */
static int scan(const char *dir, tg_list *l, int depth) {
    DIR *d = opendir(dir);
    if (!d) return nk_fail(NK_ERR_IO, "%s: cannot open: %s", dir, strerror(errno));
    int rc = NK_OK;
    for (struct dirent *e; !rc && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char *path = nk_path_join(dir, e->d_name);
        struct stat sb;
        size_t len = strlen(e->d_name);
        if (!path) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
        else if (stat(path, &sb) != 0) free(path);
        else if (S_ISDIR(sb.st_mode) && depth < 16) rc = scan(path, l, depth + 1), free(path);
        else if (S_ISREG(sb.st_mode) && len > 9 && !strcmp(e->d_name + len - 9, ".TextGrid")) rc = add(l, path);
        else free(path);
    }
    closedir(d);
    return rc;
}

/* The reference of utterance id, or NULL. */
static const char *find(const tg_list *l, const char *id) {
    char name[512];
    snprintf(name, sizeof name, "%s.TextGrid", id);
    const char *key = name;
    char **hit = bsearch(&key, l->path, l->n, sizeof *l->path, cmp_base);
    return hit ? *hit : NULL;
}

int nk_align_quality_add_dir(nk_align_quality *q, const char *dir, const nk_dataset *d,
                             const nk_align_item *items, size_t *n_used, size_t *n_missing) {
    *n_used = *n_missing = 0;
    tg_list l = {0};
    int rc = scan(dir, &l, 0);
    if (!rc && l.n == 0) rc = nk_fail(NK_ERR_EMPTY, "%s: no .TextGrid files below it", dir);
    if (!rc) qsort(l.path, l.n, sizeof *l.path, cmp_base);
    for (size_t i = 0; !rc && i < nk_dataset_size(d); i++) {
        if (items[i].status != NK_ALIGN_OK) continue;
        const char *path = find(&l, nk_dataset_get(d, i)->id);
        if (!path) {
            ++*n_missing;
            continue;
        }
        nk_textgrid *tg = NULL;
        rc = nk_textgrid_read(path, &tg); /* its message names the file */
        if (!rc && (rc = nk_align_quality_add(q, &items[i].r, tg))) rc = nk_fail(rc, "%s: %s", path, nk_last_error());
        if (!rc) ++*n_used;
        nk_textgrid_free(tg);
    }
    for (size_t i = 0; i < l.n; i++) free(l.path[i]);
    free(l.path);
    return rc;
}
