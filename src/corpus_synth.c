/* A synthesized corpus from a JSON recipe: sentences × speakers → the
 * LibriSpeech layout with TextGrids. Planning (which speaker says which
 * sentence) is done in full by every shard, so shards agree; synthesis then
 * covers only the shard's speakers. */
#include "corpus_impl.h"
#include "strindex.h"

#include "napkit/audio.h"
#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/synth.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TRAIN, DEV, TEST };
static const char *const subset_names[] = {"train", "dev", "test"};

typedef struct {
    char *name, *lang;
    char **sentence_files, **train_files, **voices, **variants;
    int n_files, n_train_files, n_voices, n_variants;
    int *rates, *pitches, n_rates, n_pitches;
    int range, n_speakers, dev_speakers, test_speakers, dev_sentences, test_sentences;
    int train_copies, min_words, max_words, max_sentences, max_train_sentences, speaker_base, seed;
} recipe;

typedef struct {
    int id, subset, rate, pitch;
    char voice[96];
    char **text; // sentences this speaker says, in order (pointers into the sentence list)
    int n_text, cap_text;
} speaker;

static void free_strings(char **s, int n) {
    for (int i = 0; i < n; i++) free(s[i]);
    free(s);
}

static void recipe_free(recipe *r) {
    free(r->name);
    free(r->lang);
    free_strings(r->sentence_files, r->n_files);
    free_strings(r->train_files, r->n_train_files);
    free_strings(r->voices, r->n_voices);
    free_strings(r->variants, r->n_variants);
    free(r->rates);
    free(r->pitches);
}

/* An integer field with a default and a range. */
static int get_int(const char *path, const cJSON *j, const char *key, int def, int lo, int hi, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v) {
        *out = def;
        return NK_OK;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != (int)v->valuedouble || v->valuedouble < lo || v->valuedouble > hi)
        return nk_fail(NK_ERR_FORMAT, "%s: \"%s\" must be an integer in [%d, %d]", path, key, lo, hi);
    *out = (int)v->valuedouble;
    return NK_OK;
}

/* A required non-empty array of strings or of integers in [lo, hi]. */
static int get_array(const char *path, const cJSON *j, const char *key, int strings, int lo, int hi,
                     void **out, int *n) {
    *out = NULL;
    *n = 0;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, key), *v;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0)
        return nk_fail(NK_ERR_FORMAT, "%s: \"%s\" must be a non-empty array", path, key);
    int count = cJSON_GetArraySize(a);
    void *items = calloc((size_t)count, strings ? sizeof(char *) : sizeof(int));
    if (!items) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    cJSON_ArrayForEach(v, a) {
        int ok = strings ? cJSON_IsString(v)
                         : cJSON_IsNumber(v) && v->valuedouble == (int)v->valuedouble &&
                               v->valuedouble >= lo && v->valuedouble <= hi;
        char *s = ok && strings ? strdup(v->valuestring) : NULL;
        if (!ok || (strings && !s)) {
            if (strings) free_strings(items, *n);
            else free(items);
            return ok ? nk_fail(NK_ERR_NOMEM, "%s: out of memory", path)
                      : nk_fail(NK_ERR_FORMAT, "%s: \"%s\" item %d must be %s", path, key, *n + 1,
                                strings ? "a string" : "an integer in range");
        }
        if (strings) ((char **)items)[(*n)++] = s;
        else ((int *)items)[(*n)++] = (int)v->valuedouble;
    }
    *out = items;
    return NK_OK;
}

static int get_string(const char *path, const cJSON *j, const char *key, char **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return nk_fail(NK_ERR_FORMAT, "%s: \"%s\" must be a non-empty string", path, key);
    *out = strdup(v->valuestring);
    return *out ? NK_OK : nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
}

static int recipe_read(const char *path, recipe *r) {
    memset(r, 0, sizeof *r);
    char *text;
    int rc = nk_read_file(path, &text, NULL);
    if (rc) return rc;
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return nk_fail(NK_ERR_FORMAT, "%s: not a JSON object", path);
    }
    if (!rc) rc = get_string(path, j, "name", &r->name);
    if (!rc) rc = get_string(path, j, "lang", &r->lang);
    if (!rc) rc = get_array(path, j, "sentences", 1, 0, 0, (void **)&r->sentence_files, &r->n_files);
    /* Optional: sentences for the train split only (dev and test come from "sentences"). */
    if (!rc && cJSON_GetObjectItemCaseSensitive(j, "train_sentences"))
        rc = get_array(path, j, "train_sentences", 1, 0, 0, (void **)&r->train_files, &r->n_train_files);
    if (!rc) rc = get_array(path, j, "voices", 1, 0, 0, (void **)&r->voices, &r->n_voices);
    if (!rc) rc = get_array(path, j, "variants", 1, 0, 0, (void **)&r->variants, &r->n_variants);
    if (!rc) rc = get_array(path, j, "rates", 0, 80, 450, (void **)&r->rates, &r->n_rates);
    if (!rc) rc = get_array(path, j, "pitches", 0, 0, 100, (void **)&r->pitches, &r->n_pitches);
    if (!rc) rc = get_int(path, j, "range", 50, 0, 100, &r->range);
    if (!rc) rc = get_int(path, j, "speakers", 8, 3, 100000, &r->n_speakers);
    if (!rc) rc = get_int(path, j, "dev_speakers", 1, 1, 100000, &r->dev_speakers);
    if (!rc) rc = get_int(path, j, "test_speakers", 1, 1, 100000, &r->test_speakers);
    if (!rc) rc = get_int(path, j, "dev_sentences", 10, 1, 10000000, &r->dev_sentences);
    if (!rc) rc = get_int(path, j, "test_sentences", 10, 1, 10000000, &r->test_sentences);
    if (!rc) rc = get_int(path, j, "train_copies", 1, 1, 1000, &r->train_copies);
    if (!rc) rc = get_int(path, j, "min_words", 1, 1, 1000, &r->min_words);
    if (!rc) rc = get_int(path, j, "max_words", 40, 1, 1000, &r->max_words);
    if (!rc) rc = get_int(path, j, "max_sentences", 0, 0, 10000000, &r->max_sentences);
    if (!rc) rc = get_int(path, j, "max_train_sentences", 0, 0, 10000000, &r->max_train_sentences);
    if (!rc) rc = get_int(path, j, "speaker_base", 1000, 1, 100000000, &r->speaker_base);
    if (!rc) rc = get_int(path, j, "seed", 1, 0, 2000000000, &r->seed);
    cJSON_Delete(j);
    long combos = (long)r->n_voices * r->n_variants * r->n_rates * r->n_pitches;
    if (!rc && r->n_speakers > combos)
        rc = nk_fail(NK_ERR_FORMAT, "%s: %d speakers, but only %ld voice/variant/rate/pitch combinations",
                     path, r->n_speakers, combos);
    if (!rc && r->dev_speakers + r->test_speakers >= r->n_speakers)
        rc = nk_fail(NK_ERR_FORMAT, "%s: dev_speakers + test_speakers leave no train speaker", path);
    if (!rc && r->train_copies > r->n_speakers - r->dev_speakers - r->test_speakers)
        rc = nk_fail(NK_ERR_FORMAT, "%s: train_copies exceeds the train speakers", path);
    if (rc) recipe_free(r);
    return rc;
}

/* Reads, normalizes and deduplicates the sentence lists (paths relative to
 * the recipe's folder): "sentences" first, then "train_sentences", so a
 * train-only line that repeats a dev or test sentence is the one dropped.
 * *n_main counts the first kind. What is left out goes to *skipped as text. */
static int read_sentences(const char *recipe_path, const recipe *r, const nk_alphabet *a,
                          char ***out, int *n, int *n_main, char **skipped, size_t *n_skipped) {
    char *dir = corpus_dirname(recipe_path), **norms = NULL;
    nk_strindex seen = {0};
    size_t cap = 0, scap = 0, slen = 0;
    int rc = dir ? NK_OK : nk_fail(NK_ERR_NOMEM, "out of memory");
    *out = NULL;
    *n = 0;
    *skipped = NULL;
    *n_skipped = 0;
    *n_main = 0;
    for (int f = 0; f < r->n_files + r->n_train_files && !rc; f++) {
        const char *name = f < r->n_files ? r->sentence_files[f] : r->train_files[f - r->n_files];
        if (f == r->n_files) *n_main = *n;
        char *path = name[0] == '/' ? strdup(name) : nk_path_join(dir, name);
        char *data = NULL, *cursor, *line;
        rc = path ? nk_read_file(path, &data, NULL) : nk_fail(NK_ERR_NOMEM, "out of memory");
        cursor = data;
        for (int lineno = 1; !rc && (line = corpus_next_line(&cursor)); lineno++) {
            if (!*line) continue;
            char *norm = NULL, reason[256] = "";
            int err = nk_text_normalize(a, line, &norm), words = 0;
            if (err == NK_ERR_NOMEM) rc = err;
            else if (err) snprintf(reason, sizeof reason, "%s", nk_last_error());
            for (char *p = norm; p && *p; p++) words += p == norm || p[-1] == ' ';
            if (!err && (words < r->min_words || words > r->max_words))
                snprintf(reason, sizeof reason, "%d words, outside [%d, %d]", words, r->min_words, r->max_words);
            /* Exact duplicates (after normalization) would leak across splits. */
            if (!err && !reason[0] && nk_strindex_find(&seen, norms, norm) >= 0)
                snprintf(reason, sizeof reason, "duplicate sentence");
            if (!rc && !reason[0]) {
                if (*n == (int)cap) {
                    cap = cap ? 2 * cap : 1024;
                    char **grown = realloc(*out, cap * sizeof *grown), **ngrown = NULL;
                    if (grown) *out = grown;
                    if (grown && (ngrown = realloc(norms, cap * sizeof *ngrown))) norms = ngrown;
                    if (!ngrown) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
                }
                /* Keep the original text: espeak-ng reads its punctuation. */
                if (!rc && !((*out)[*n] = strdup(line))) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
                if (!rc) {
                    norms[(*n)++] = norm;
                    norm = NULL;
                    rc = nk_strindex_add(&seen, norms, (size_t)*n);
                }
            } else if (!rc) {
                size_t need = strlen(path) + strlen(reason) + 32;
                if (slen + need >= scap) {
                    scap = 2 * (slen + need) + 4096;
                    char *grown = realloc(*skipped, scap);
                    if (!grown) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
                    else *skipped = grown;
                }
                if (!rc) slen += (size_t)sprintf(*skipped + slen, "%s:%d\t%s\n", path, lineno, reason);
                (*n_skipped)++;
            }
            free(norm);
        }
        free(data);
        free(path);
    }
    free(dir);
    nk_strindex_free(&seen);
    free_strings(norms, *n);
    if (!r->n_train_files) *n_main = *n;
    if (!rc && *n_main < r->dev_sentences + r->test_sentences + (*n > *n_main ? 0 : 1))
        rc = nk_fail(NK_ERR_FORMAT, "%s: %d usable sentences cannot fill %d dev, %d test and the train sentences",
                     recipe_path, *n_main, r->dev_sentences, r->test_sentences);
    return rc;
}

static int assign(speaker *s, char *text) {
    if (s->n_text == s->cap_text) {
        s->cap_text = s->cap_text ? 2 * s->cap_text : 64;
        char **grown = realloc(s->text, (size_t)s->cap_text * sizeof *grown);
        if (!grown) return nk_fail(NK_ERR_NOMEM, "out of memory planning the corpus");
        s->text = grown;
    }
    s->text[s->n_text++] = text;
    return NK_OK;
}

/* Draws speakers from the voice/variant/rate/pitch product and gives each
 * subset's sentences to that subset's speakers, round robin. Dev and test
 * sentences come from the first n_main (the recipe's "sentences"); the train
 * split gets the rest of them, then the train-only ones in a shuffled order,
 * up to max_train_sentences. Returns the number of sentences used. */
static int plan(const recipe *r, char **sent, int n_sent, int n_main, speaker *spk, int *n_used) {
    long combos = (long)r->n_voices * r->n_variants * r->n_rates * r->n_pitches;
    long *pick = malloc((size_t)combos * sizeof *pick);
    if (!pick) return nk_fail(NK_ERR_NOMEM, "out of memory planning the corpus");
    for (long i = 0; i < combos; i++) pick[i] = i;
    corpus_shuffle(pick, (size_t)combos, sizeof *pick, (unsigned long long)r->seed);
    for (int i = 0; i < r->n_speakers; i++) {
        long c = pick[i];
        int pi = (int)(c % r->n_pitches), ri = (int)(c / r->n_pitches % r->n_rates);
        int vi = (int)(c / r->n_pitches / r->n_rates % r->n_variants);
        int oi = (int)(c / r->n_pitches / r->n_rates / r->n_variants);
        speaker *s = &spk[i];
        s->id = r->speaker_base + i;
        s->subset = i < r->dev_speakers ? DEV : i < r->dev_speakers + r->test_speakers ? TEST : TRAIN;
        s->rate = r->rates[ri];
        s->pitch = r->pitches[pi];
        snprintf(s->voice, sizeof s->voice, "%s%s%s", r->voices[oi], r->variants[vi][0] ? "+" : "",
                 r->variants[vi]);
    }
    free(pick);
    corpus_shuffle(sent, (size_t)n_main, sizeof *sent, (unsigned long long)r->seed + 1);
    corpus_shuffle(sent + n_main, (size_t)(n_sent - n_main), sizeof *sent, (unsigned long long)r->seed + 2);
    int n_dev = r->dev_sentences, n_test = r->test_sentences;
    int main_train = (r->max_sentences && n_main > r->max_sentences ? r->max_sentences : n_main) - n_dev - n_test;
    if (main_train < 0) main_train = 0;
    int n_train = main_train + (n_sent - n_main);
    if (r->max_train_sentences && n_train > r->max_train_sentences) n_train = r->max_train_sentences;
    *n_used = n_dev + n_test + n_train;
    int n_train_spk = r->n_speakers - r->dev_speakers - r->test_speakers;
    speaker *dev = spk, *test = spk + r->dev_speakers, *train = test + r->test_speakers;
    int rc = NK_OK;
    for (int i = 0; i < n_dev && !rc; i++) rc = assign(&dev[i % r->dev_speakers], sent[i]);
    for (int i = 0; i < n_test && !rc; i++) rc = assign(&test[i % r->test_speakers], sent[n_dev + i]);
    /* Copy k of train sentence i goes to speaker i·copies + k: distinct speakers per sentence. */
    for (int i = 0; i < n_train && !rc; i++) {
        char *text = i < main_train ? sent[n_dev + n_test + i] : sent[n_main + i - main_train];
        for (int k = 0; k < r->train_copies && !rc; k++)
            rc = assign(&train[((long)i * r->train_copies + k) % n_train_spk], text);
    }
    return rc;
}

static int write_speakers(const char *path, const recipe *r, const speaker *spk) {
    size_t cap = 256 + (size_t)r->n_speakers * 160, len = 0;
    char *buf = malloc(cap);
    if (!buf) return nk_fail(NK_ERR_NOMEM, "out of memory");
    len += (size_t)snprintf(buf + len, cap - len,
                            "; synthesized speakers of corpus %s (espeak-ng), seed %d\n"
                            "; ID | SUBSET | VOICE+VARIANT | RATE (wpm) | PITCH | RANGE | UTTERANCES\n",
                            r->name, r->seed);
    for (int i = 0; i < r->n_speakers; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%-6d | %-5s | %-24s | %3d | %3d | %3d | %d\n",
                                spk[i].id, subset_names[spk[i].subset], spk[i].voice, spk[i].rate,
                                spk[i].pitch, r->range, spk[i].n_text);
    int rc = nk_write_file(path, buf, len);
    free(buf);
    return rc;
}

/* Synthesizes one speaker's utterances into <subset>/<id>/<chapter>/. */
static int speak_speaker(nk_synth *syn, const recipe *r, const nk_alphabet *a, const speaker *s,
                         const char *root, nk_synth_corpus_stats *st, nk_synth_progress progress,
                         void *ctx, size_t *done, size_t total) {
    enum { CHAPTER = 1 };
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/%s/%d/%d", root, subset_names[s->subset], s->id, CHAPTER);
    int rc = nk_mkdirs(dir);
    size_t cap = 4096, len = 0;
    char *trans = rc ? NULL : malloc(cap);
    if (!rc && !trans) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
    nk_voice v = {s->voice, s->rate, s->pitch, r->range};
    for (int u = 0; u < s->n_text && !rc; u++) {
        char id[64];
        snprintf(id, sizeof id, "%d-%d-%04d", s->id, CHAPTER, u);
        float *x = NULL;
        size_t n = 0;
        nk_textgrid *tg = NULL;
        unsigned seed = (unsigned)(r->seed * 2654435761u) ^ (unsigned)(s->id * 40503u) ^ (unsigned)u;
        rc = nk_synth_speak(syn, &v, a, s->text[u], seed, 16000, &x, &n, &tg);
        if (rc) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", nk_last_error());
            rc = nk_fail(rc, "%s: utterance %s (%s): %s", r->name, id, s->voice, msg);
        }
        snprintf(path, sizeof path, "%s/%s.flac", dir, id);
        if (!rc) rc = nk_audio_write(path, x, n, 16000);
        snprintf(path, sizeof path, "%s/%s.TextGrid", dir, id);
        if (!rc) rc = nk_textgrid_write(path, tg);
        char *norm = NULL;
        if (!rc) rc = nk_text_normalize(a, s->text[u], &norm);
        if (!rc && len + strlen(norm) + 80 > cap) {
            cap = 2 * (len + strlen(norm) + 80);
            char *grown = realloc(trans, cap);
            if (!grown) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
            else trans = grown;
        }
        if (!rc) {
            len += (size_t)sprintf(trans + len, "%s %s\n", id, norm);
            st->utterances++;
            st->seconds += (double)n / 16000;
            ++*done;
            if (progress) progress(ctx, *done, total, st->seconds);
        }
        free(norm);
        free(x);
        nk_textgrid_free(tg);
    }
    snprintf(path, sizeof path, "%s/%d-%d.trans.txt", dir, s->id, CHAPTER);
    if (!rc) rc = nk_write_file(path, trans, len);
    free(trans);
    return rc;
}

int nk_synth_corpus(const char *recipe_path, const char *out_dir, int shard, int n_shards,
                    nk_synth_progress progress, void *ctx, nk_synth_corpus_stats *stats) {
    memset(stats, 0, sizeof *stats);
    if (n_shards < 1 || shard < 0 || shard >= n_shards)
        return nk_fail(NK_ERR_ARG, "shard %d of %d is out of range", shard, n_shards);
    recipe r;
    int rc = recipe_read(recipe_path, &r);
    if (rc) return rc;
    nk_alphabet *a = NULL;
    char **sent = NULL, *skipped = NULL, *root = NULL, *path = NULL;
    int n_sent = 0, n_main = 0, n_used = 0;
    speaker *spk = calloc((size_t)r.n_speakers, sizeof *spk);
    nk_synth *syn = NULL;
    if (!spk) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
    if (!rc) rc = nk_alphabet_builtin(r.lang, &a);
    if (!rc) rc = read_sentences(recipe_path, &r, a, &sent, &n_sent, &n_main, &skipped,
                                  &stats->sentences_skipped);
    if (!rc) rc = plan(&r, sent, n_sent, n_main, spk, &n_used);
    if (!rc && !(root = nk_path_join(out_dir, r.name))) rc = nk_fail(NK_ERR_NOMEM, "out of memory");
    if (!rc) rc = nk_mkdirs(root);
    /* The shared files are the same from every shard: shard 0 writes them. */
    if (!rc && shard == 0 && (path = nk_path_join(root, "SPEAKERS.TXT"))) rc = write_speakers(path, &r, spk);
    free(path);
    if (!rc && shard == 0 && (path = nk_path_join(root, "SKIPPED.TXT")))
        rc = nk_write_file(path, skipped ? skipped : "", skipped ? strlen(skipped) : 0);
    free(path);
    size_t total = 0, done = 0;
    for (int i = 0; i < r.n_speakers; i++)
        if (i % n_shards == shard) total += (size_t)spk[i].n_text;
    stats->sentences = (size_t)n_used;
    stats->speakers = (size_t)r.n_speakers;
    if (!rc) rc = nk_synth_new(&syn);
    /* A misspelt voice fails now, not after an hour of audio. */
    for (int i = 0; i < r.n_speakers && !rc; i++) {
        nk_voice v = {spk[i].voice, spk[i].rate, spk[i].pitch, r.range};
        if ((rc = nk_synth_check_voice(syn, &v))) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", nk_last_error());
            rc = nk_fail(rc, "%s: speaker %d: %s", recipe_path, spk[i].id, msg);
        }
    }
    for (int i = 0; i < r.n_speakers && !rc; i++)
        if (i % n_shards == shard)
            rc = speak_speaker(syn, &r, a, &spk[i], root, stats, progress, ctx, &done, total);
    nk_synth_free(syn);
    for (int i = 0; spk && i < r.n_speakers; i++) free(spk[i].text);
    free(spk);
    free_strings(sent, n_sent);
    free(skipped);
    free(root);
    nk_alphabet_free(a);
    recipe_free(&r);
    return rc;
}
