#include "napkit/fileio.h"

#include "napkit/error.h"

#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int nk_outfile_open(nk_outfile *f, const char *path, int want_stream) {
    memset(f, 0, sizeof *f);
    size_t n = strlen(path) + 32;
    f->path = strdup(path);
    f->tmp_path = malloc(n);
    if (!f->path || !f->tmp_path) {
        nk_outfile_abort(f);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    }
    snprintf(f->tmp_path, n, "%s.tmp.%ld", path, (long)getpid());
    if (want_stream) {
        f->fp = fopen(f->tmp_path, "wb");
        if (!f->fp) {
            int e = errno;
            nk_outfile_abort(f);
            return nk_fail(NK_ERR_IO, "%s: cannot create: %s", path, strerror(e));
        }
    }
    return NK_OK;
}

static void outfile_release(nk_outfile *f) {
    free(f->path);
    free(f->tmp_path);
    f->path = f->tmp_path = NULL;
    f->fp = NULL;
}

int nk_outfile_commit(nk_outfile *f) {
    int failed = 0, e = 0;
    if (f->fp) {
        if (fflush(f->fp) != 0 || ferror(f->fp)) { failed = 1; e = errno; }
        if (fclose(f->fp) != 0 && !failed) { failed = 1; e = errno; }
        f->fp = NULL;
    }
    if (!failed && rename(f->tmp_path, f->path) != 0) { failed = 1; e = errno; }
    if (failed) {
        int rc = nk_fail(NK_ERR_IO, "%s: cannot write: %s", f->path, strerror(e));
        remove(f->tmp_path);
        outfile_release(f);
        return rc;
    }
    outfile_release(f);
    return NK_OK;
}

void nk_outfile_abort(nk_outfile *f) {
    if (f->fp) fclose(f->fp);
    if (f->tmp_path) remove(f->tmp_path);
    outfile_release(f);
}

int nk_write_file(const char *path, const void *data, size_t size) {
    nk_outfile f;
    int rc = nk_outfile_open(&f, path, 1);
    if (rc) return rc;
    if (size && fwrite(data, 1, size, f.fp) != size) {
        int e = errno;
        nk_outfile_abort(&f);
        return nk_fail(NK_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    }
    return nk_outfile_commit(&f);
}

int nk_write_json(const char *path, const struct cJSON *j) {
    char *text = j ? cJSON_Print(j) : NULL;
    if (!text) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    size_t len = strlen(text);
    char *grown = realloc(text, len + 2);
    if (!grown) {
        free(text);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    }
    grown[len] = '\n';
    int rc = nk_write_file(path, grown, len + 1);
    free(grown);
    return rc;
}

int nk_write_json_in(const char *dir, const char *name, const struct cJSON *j) {
    char *path = nk_path_join(dir, name);
    int rc = path ? nk_write_json(path, j) : nk_fail(NK_ERR_NOMEM, "%s: out of memory", dir);
    free(path);
    return rc;
}

int nk_read_file(const char *path, char **data, size_t *size) {
    *data = NULL;
    if (size) *size = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return nk_fail(NK_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) {
            fclose(fp);
            return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
        }
        len += fread(buf + len, 1, cap - len, fp);
        if (len < cap) break;
        cap *= 2;
        char *grown = realloc(buf, cap + 1);
        if (!grown) free(buf);
        buf = grown;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return nk_fail(NK_ERR_IO, "%s: read error", path);
    }
    buf[len] = '\0';
    *data = buf;
    if (size) *size = len;
    return NK_OK;
}

int nk_mkdirs(const char *path) {
    char *p = strdup(path);
    if (!p) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                int rc = nk_fail(NK_ERR_IO, "%s: cannot create directory: %s", p, strerror(errno));
                free(p);
                return rc;
            }
            *s = c;
            if (c == '\0') break;
        }
    }
    free(p);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return nk_fail(NK_ERR_IO, "%s: not a directory", path);
    return NK_OK;
}

char *nk_path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *s = malloc(a + b + 2);
    if (!s) return NULL;
    memcpy(s, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/') s[k++] = '/';
    memcpy(s + k, name, b + 1);
    return s;
}
