/* The corpus object: utterances, skipped items, filters and splits. The
 * per-layout readers live in corpus_<layout>.c. */
#include "corpus_impl.h"

#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/rng.h"

#include <dirent.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Indexes into nk_corpus_layout_names and readers. */
enum { LIBRISPEECH, COMMONVOICE, MANIFEST, METADATA, TEXTPAIRS };
const char *const nk_corpus_layout_names[] = {"librispeech", "commonvoice", "manifest", "metadata",
                                              "textpairs", NULL};
static int (*const readers[])(nk_corpus *, const char *) = {
    corpus_read_librispeech, corpus_read_commonvoice, corpus_read_manifest, corpus_read_metadata,
    corpus_read_textpairs};

void nk_corpus_options_default(nk_corpus_options *o, const nk_alphabet *alphabet) {
    memset(o, 0, sizeof *o);
    o->alphabet = alphabet;
    o->probe = 1;
}

static void free_utterance(nk_utterance *u) {
    free(u->id);
    free(u->audio);
    free(u->text);
    free(u->raw_text);
    free(u->speaker);
}

void nk_corpus_free(nk_corpus *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) free_utterance(&c->utt[i]);
    for (size_t i = 0; i < c->n_skip; i++) {
        free(c->skip[i].file);
        free(c->skip[i].reason);
    }
    free(c->utt);
    free(c->skip);
    free(c);
}

/* Grows *items (of `size` bytes each) to hold one more. */
static int reserve(void **items, size_t *cap, size_t n, size_t size) {
    if (n < *cap) return NK_OK;
    size_t ncap = *cap ? 2 * *cap : 64;
    void *grown = realloc(*items, ncap * size);
    if (!grown) return nk_fail(NK_ERR_NOMEM, "out of memory listing utterances");
    *items = grown;
    *cap = ncap;
    return NK_OK;
}

int corpus_skip(nk_corpus *c, const char *file, const char *fmt, ...) {
    int rc = reserve((void **)&c->skip, &c->cap_skip, c->n_skip, sizeof *c->skip);
    if (rc) return rc;
    char reason[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    nk_skipped *s = &c->skip[c->n_skip];
    s->file = strdup(file);
    s->reason = strdup(reason);
    if (!s->file || !s->reason) {
        free(s->file);
        free(s->reason);
        return nk_fail(NK_ERR_NOMEM, "out of memory listing skipped items");
    }
    c->n_skip++;
    return NK_OK;
}

int corpus_add(nk_corpus *c, const char *id, const char *audio, const char *raw_text,
               const char *speaker, const char *text_file) {
    char *text;
    int rc = nk_text_normalize(c->alphabet, raw_text, &text);
    if (rc == NK_ERR_NOMEM) return rc;
    if (rc) return corpus_skip(c, text_file, "%s: %s", id, nk_last_error());
    if ((rc = reserve((void **)&c->utt, &c->cap, c->n, sizeof *c->utt))) {
        free(text);
        return rc;
    }
    nk_utterance u = {strdup(id), strdup(audio), text, strdup(raw_text), strdup(speaker), -1};
    if (!u.id || !u.audio || !u.raw_text || !u.speaker) {
        free_utterance(&u);
        return nk_fail(NK_ERR_NOMEM, "out of memory listing utterances");
    }
    c->utt[c->n++] = u;
    return NK_OK;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int corpus_list_dir(const char *dir, char ***names, size_t *n) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return nk_fail(NK_ERR_IO, "%s: cannot list folder", dir);
    size_t cap = 0;
    int rc = NK_OK;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if ((rc = reserve((void **)names, &cap, *n, sizeof **names))) break;
        if (!((*names)[*n] = strdup(e->d_name))) {
            rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory listing folder", dir);
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (rc) {
        corpus_free_names(*names, *n);
        *names = NULL;
        *n = 0;
        return rc;
    }
    if (*n) qsort(*names, *n, sizeof **names, cmp_names);
    return NK_OK;
}

void corpus_free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

static const char *const audio_ext[] = {"flac", "wav", "mp3", "ogg", "opus", NULL};

int corpus_is_audio(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    for (int i = 0; audio_ext[i]; i++)
        if (!strcasecmp(dot + 1, audio_ext[i])) return 1;
    return 0;
}

long corpus_find_audio(char **names, size_t n, const char *stem) {
    size_t len = strlen(stem);
    /* Names sharing the stem sort together, from the stem's lower bound on. */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(names[mid], stem) < 0) lo = mid + 1;
        else hi = mid;
    }
    for (size_t i = lo; i < n && !strncmp(names[i], stem, len); i++)
        if (names[i][len] == '.' && !strchr(names[i] + len + 1, '.') && corpus_is_audio(names[i]))
            return (long)i;
    return -1;
}

int corpus_folder_open(corpus_folder *f, const char *dir) {
    memset(f, 0, sizeof *f);
    int rc = corpus_list_dir(dir, &f->names, &f->n);
    if (rc) return rc;
    f->dir = strdup(dir);
    f->used = calloc(f->n + 1, 1);
    if (!f->dir || !f->used) {
        corpus_free_names(f->names, f->n);
        free(f->dir);
        free(f->used);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", dir);
    }
    return NK_OK;
}

int corpus_folder_add(nk_corpus *c, corpus_folder *f, const char *id, const char *raw_text,
                      const char *speaker, const char *text_file) {
    long k = corpus_find_audio(f->names, f->n, id);
    if (k < 0) return corpus_skip(c, text_file, "%s: no audio file %s/%s.*", id, f->dir, id);
    f->used[k] = 1;
    char *audio = nk_path_join(f->dir, f->names[k]);
    if (!audio) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", f->dir);
    int rc = corpus_add(c, id, audio, raw_text, speaker, text_file);
    free(audio);
    return rc;
}

int corpus_folder_close(nk_corpus *c, corpus_folder *f) {
    int rc = NK_OK;
    for (size_t i = 0; i < f->n && !rc; i++) {
        if (f->used[i] || !corpus_is_audio(f->names[i])) continue;
        char *audio = nk_path_join(f->dir, f->names[i]);
        rc = audio ? corpus_skip(c, audio, "no transcript for this audio file")
                   : nk_fail(NK_ERR_NOMEM, "%s: out of memory", f->dir);
        free(audio);
    }
    corpus_free_names(f->names, f->n);
    free(f->dir);
    free(f->used);
    memset(f, 0, sizeof *f);
    return rc;
}

char *corpus_dirname(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

int corpus_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int corpus_is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *corpus_next_line(char **cursor) {
    char *s = *cursor;
    if (!s || !*s) return NULL;
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        *cursor = nl + 1;
    } else {
        *cursor = s + strlen(s);
    }
    size_t len = strlen(s);
    if (len && s[len - 1] == '\r') s[len - 1] = '\0';
    return s;
}

char *corpus_speaker_from_dir(const char *dir) {
    char *copy = strdup(dir);
    if (!copy) return NULL;
    for (int pass = 0; pass < 2; pass++) {
        size_t len = strlen(copy);
        while (len > 1 && copy[len - 1] == '/') copy[--len] = '\0';
        char *slash = strrchr(copy, '/');
        const char *base = slash ? slash + 1 : copy;
        int generic = !strcmp(base, "data") || !strcmp(base, "wavs") || !strcmp(base, "clips") ||
                      !strcmp(base, ".");
        if (!generic || !slash || pass) {
            char *name = strdup(base);
            free(copy);
            return name;
        }
        *slash = '\0';
    }
    free(copy);
    return NULL;
}

void corpus_shuffle(void *items, size_t n, size_t size, unsigned long long seed) {
    unsigned char *p = items, tmp[256];
    if (size > sizeof tmp) return;
    uint64_t st = seed;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)nk_rng_below(&st, i);
        memcpy(tmp, p + (i - 1) * size, size);
        memcpy(p + (i - 1) * size, p + j * size, size);
        memcpy(p + j * size, tmp, size);
    }
}

/* A Common Voice .tsv names `path` and `sentence` in its header line. */
static int is_commonvoice_tsv(const char *path) {
    size_t len = strlen(path);
    if (len < 4 || strcmp(path + len - 4, ".tsv")) return 0;
    FILE *fp = fopen(path, "r");
    char head[4096] = "";
    if (!fp) return 0;
    if (!fgets(head, sizeof head, fp)) head[0] = '\0';
    fclose(fp);
    head[strcspn(head, "\r\n")] = '\t';
    return strstr(head, "path\t") && strstr(head, "sentence\t");
}

static int detect(const char *path, int *layout) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (corpus_is_file(path)) {
        if (!strcmp(base, "metadata.csv")) *layout = METADATA;
        else *layout = is_commonvoice_tsv(path) ? COMMONVOICE : MANIFEST;
        return NK_OK;
    }
    if (!corpus_is_dir(path)) return nk_fail(NK_ERR_IO, "%s: no such file or folder", path);
    char *p = nk_path_join(path, "validated.tsv"), *q = nk_path_join(path, "metadata.csv");
    if (!p || !q) {
        free(p);
        free(q);
        return nk_fail(NK_ERR_NOMEM, "out of memory");
    }
    int cv = corpus_is_file(p), md = corpus_is_file(q);
    free(p);
    free(q);
    if (cv) *layout = COMMONVOICE;
    else if (md) *layout = METADATA;
    else {
        /* A folder of <id>.txt beside <id>.<audio> (or its data/) is textpairs. */
        char **names;
        size_t n;
        int rc = corpus_list_dir(path, &names, &n);
        if (rc) return rc;
        int pairs = 0, data = 0;
        for (size_t i = 0; i < n && !pairs; i++) {
            size_t l = strlen(names[i]);
            if (l > 4 && !strcmp(names[i] + l - 4, ".txt") && !strstr(names[i], ".trans.txt")) {
                names[i][l - 4] = '\0';
                pairs = corpus_find_audio(names, n, names[i]) >= 0;
                names[i][l - 4] = '.';
            }
            data |= !strcmp(names[i], "data");
        }
        corpus_free_names(names, n);
        *layout = pairs || data ? TEXTPAIRS : LIBRISPEECH;
    }
    return NK_OK;
}

/* Drops utterances outside the duration range (probed durations). */
static void filter_duration(nk_corpus *c, double lo, double hi) {
    size_t w = 0;
    for (size_t i = 0; i < c->n; i++) {
        double d = c->utt[i].duration;
        if ((lo > 0 && d < lo) || (hi > 0 && d > hi)) {
            free_utterance(&c->utt[i]);
            c->n_filtered++;
        } else {
            c->utt[w++] = c->utt[i];
        }
    }
    c->n = w;
}

/* Reads each audio header: the duration, and whether libsndfile can open it.
 * Unreadable files move to the skipped list. */
static int probe(nk_corpus *c) {
    size_t w = 0;
    for (size_t i = 0; i < c->n; i++) {
        nk_utterance *u = &c->utt[i];
        SF_INFO info = {0};
        SNDFILE *sf = sf_open(u->audio, SFM_READ, &info);
        if (sf && info.frames > 0 && info.samplerate > 0) {
            u->duration = (double)info.frames / info.samplerate;
            sf_close(sf);
            c->utt[w++] = *u;
            continue;
        }
        int rc = corpus_skip(c, u->audio, "%s: unreadable audio: %s", u->id,
                             sf ? "no samples" : sf_strerror(NULL));
        if (sf) sf_close(sf);
        free_utterance(u);
        if (rc) {
            /* Keep the list consistent: move the unvisited rest down. */
            memmove(c->utt + w, c->utt + i + 1, (c->n - i - 1) * sizeof *c->utt);
            c->n = w + c->n - i - 1;
            return rc;
        }
    }
    c->n = w;
    return NK_OK;
}

int nk_corpus_open(const char *spec, const nk_corpus_options *opt, nk_corpus **out) {
    *out = NULL;
    if (!opt || !opt->alphabet) return nk_fail(NK_ERR_ARG, "%s: corpus needs an alphabet", spec);
    if (!opt->probe && (opt->min_duration > 0 || opt->max_duration > 0))
        return nk_fail(NK_ERR_ARG, "%s: duration limits need probing the audio", spec);
    if (opt->min_duration < 0 || opt->max_duration < 0 ||
        (opt->max_duration > 0 && opt->max_duration < opt->min_duration))
        return nk_fail(NK_ERR_ARG, "%s: bad duration range [%g, %g]", spec, opt->min_duration,
                       opt->max_duration);
    int layout = -1;
    const char *path = spec, *colon = strchr(spec, ':');
    for (int i = 0; colon && nk_corpus_layout_names[i]; i++) {
        if ((size_t)(colon - spec) == strlen(nk_corpus_layout_names[i]) &&
            !strncmp(spec, nk_corpus_layout_names[i], (size_t)(colon - spec))) {
            layout = i;
            path = colon + 1;
        }
    }
    int rc = layout < 0 ? detect(path, &layout) : NK_OK;
    if (rc) return rc;
    nk_corpus *c = calloc(1, sizeof *c);
    if (!c) return nk_fail(NK_ERR_NOMEM, "out of memory opening %s", path);
    c->alphabet = opt->alphabet;
    c->layout = nk_corpus_layout_names[layout];
    if ((rc = readers[layout](c, path)) || (opt->probe && (rc = probe(c)))) {
        nk_corpus_free(c);
        return rc;
    }
    filter_duration(c, opt->min_duration, opt->max_duration);
    if (opt->shuffle) corpus_shuffle(c->utt, c->n, sizeof *c->utt, opt->seed);
    while (opt->max_utterances && c->n > opt->max_utterances) free_utterance(&c->utt[--c->n]);
    *out = c;
    return NK_OK;
}

const char *nk_corpus_layout(const nk_corpus *c) { return c->layout; }
size_t nk_corpus_filtered(const nk_corpus *c) { return c->n_filtered; }
size_t nk_corpus_size(const nk_corpus *c) { return c->n; }
const nk_utterance *nk_corpus_get(const nk_corpus *c, size_t i) { return i < c->n ? &c->utt[i] : NULL; }
size_t nk_corpus_n_skipped(const nk_corpus *c) { return c->n_skip; }
const nk_skipped *nk_corpus_skipped(const nk_corpus *c, size_t i) {
    return i < c->n_skip ? &c->skip[i] : NULL;
}

double nk_corpus_duration(const nk_corpus *c) {
    double total = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->utt[i].duration > 0) total += c->utt[i].duration;
    return total;
}

/* The distinct speaker ids, sorted; *n receives the count. Pointers into c. */
static int speakers(const nk_corpus *c, const char ***out, size_t *n) {
    *n = 0;
    const char **s = malloc((c->n ? c->n : 1) * sizeof *s);
    if (!s) return nk_fail(NK_ERR_NOMEM, "out of memory listing speakers");
    for (size_t i = 0; i < c->n; i++) s[i] = c->utt[i].speaker;
    qsort(s, c->n, sizeof *s, cmp_names);
    for (size_t i = 0; i < c->n; i++)
        if (*n == 0 || strcmp(s[*n - 1], s[i])) s[(*n)++] = s[i];
    *out = s;
    return NK_OK;
}

size_t nk_corpus_n_speakers(const nk_corpus *c) {
    const char **s;
    size_t n;
    if (speakers(c, &s, &n)) return 0;
    free(s);
    return n;
}

static int copy_utterance(nk_corpus *dst, const nk_utterance *u) {
    int rc = reserve((void **)&dst->utt, &dst->cap, dst->n, sizeof *dst->utt);
    if (rc) return rc;
    nk_utterance v = {strdup(u->id), strdup(u->audio), strdup(u->text), strdup(u->raw_text),
                      strdup(u->speaker), u->duration};
    if (!v.id || !v.audio || !v.text || !v.raw_text || !v.speaker) {
        free_utterance(&v);
        return nk_fail(NK_ERR_NOMEM, "out of memory splitting a corpus");
    }
    dst->utt[dst->n++] = v;
    return NK_OK;
}

int nk_corpus_split(const nk_corpus *c, double dev_frac, double test_frac, unsigned long long seed,
                    nk_corpus *parts[3]) {
    parts[0] = parts[1] = parts[2] = NULL;
    if (!(dev_frac >= 0 && test_frac >= 0 && dev_frac + test_frac < 1))
        return nk_fail(NK_ERR_ARG, "split fractions dev %g and test %g must be ≥ 0 and sum below 1",
                       dev_frac, test_frac);
    const char **spk;
    size_t ns;
    int rc = speakers(c, &spk, &ns);
    if (rc) return rc;
    size_t n_dev = dev_frac > 0 ? (size_t)(dev_frac * ns + 0.5) : 0;
    size_t n_test = test_frac > 0 ? (size_t)(test_frac * ns + 0.5) : 0;
    if (dev_frac > 0 && n_dev == 0) n_dev = 1;
    if (test_frac > 0 && n_test == 0) n_test = 1;
    if (n_dev + n_test >= ns) {
        free(spk);
        return nk_fail(NK_ERR_INFEASIBLE, "%zu speakers cannot give %zu dev, %zu test and some train speakers",
                       ns, n_dev, n_test);
    }
    corpus_shuffle(spk, ns, sizeof *spk, seed);
    for (int p = 0; p < 3 && !rc; p++) {
        if (!(parts[p] = calloc(1, sizeof *parts[p]))) rc = nk_fail(NK_ERR_NOMEM, "out of memory splitting");
        else *parts[p] = (nk_corpus){.alphabet = c->alphabet, .layout = c->layout};
    }
    for (size_t i = 0; i < c->n && !rc; i++) {
        int part = 0;
        for (size_t k = 0; k < n_dev + n_test; k++)
            if (!strcmp(spk[k], c->utt[i].speaker)) part = k < n_dev ? 1 : 2;
        rc = copy_utterance(parts[part], &c->utt[i]);
    }
    free(spk);
    if (rc) {
        for (int p = 0; p < 3; p++) {
            nk_corpus_free(parts[p]);
            parts[p] = NULL;
        }
    }
    return rc;
}
