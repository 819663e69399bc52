/* Atomic output files and directories.
 *
 * Every output napkit writes goes to a temporary name beside its target and
 * is renamed into place only when complete, so a crash or a kill never leaves
 * half a file under the real name. */
#ifndef NAPKIT_FILEIO_H
#define NAPKIT_FILEIO_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    FILE *fp;     /* open for writing on tmp_path (NULL when opened with no stream) */
    char *path;   /* final name */
    char *tmp_path; /* "<path>.tmp.<pid>"; libraries that write by name use this */
} nk_outfile;

/* Opens `path` for atomic writing. With want_stream=0 no FILE is opened and the
 * caller writes tmp_path itself (libsndfile, cairo). */
int nk_outfile_open(nk_outfile *f, const char *path, int want_stream);
/* Flushes, closes and renames tmp_path to path. On failure removes tmp_path. */
int nk_outfile_commit(nk_outfile *f);
/* Closes and removes tmp_path; the target is untouched. Safe to call twice. */
void nk_outfile_abort(nk_outfile *f);

/* Writes `size` bytes to `path` atomically. */
int nk_write_file(const char *path, const void *data, size_t size);
/* Writes a JSON document (cJSON), indented and ending in a newline, atomically;
 * nk_write_json_in writes it as dir/name. */
struct cJSON;
int nk_write_json(const char *path, const struct cJSON *j);
int nk_write_json_in(const char *dir, const char *name, const struct cJSON *j);
/* Reads a whole file into a NUL-terminated malloc'd buffer. */
int nk_read_file(const char *path, char **data, size_t *size);
/* Creates a directory and its parents (mkdir -p). */
int nk_mkdirs(const char *path);
/* Joins a directory and a file name into a malloc'd path. */
char *nk_path_join(const char *dir, const char *name);

#endif
