/* Internals shared by the corpus readers (src/corpus_*.c) and corpus.c. */
#ifndef NAPKIT_CORPUS_IMPL_H
#define NAPKIT_CORPUS_IMPL_H

#include "napkit/corpus.h"

#include <stddef.h>

struct nk_corpus {
    const nk_alphabet *alphabet;
    const char *layout;
    nk_utterance *utt;
    size_t n, cap;
    nk_skipped *skip;
    size_t n_skip, cap_skip;
    size_t n_filtered;
};

/* Adds an utterance after normalizing raw_text; a transcript that does not
 * normalize is recorded as skipped (file: text_file) instead. Only running
 * out of memory fails. */
int corpus_add(nk_corpus *c, const char *id, const char *audio, const char *raw_text,
               const char *speaker, const char *text_file);
/* Records a skipped item. Only running out of memory fails. */
int corpus_skip(nk_corpus *c, const char *file, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A folder's sorted listing, and which audio files transcripts have claimed. */
typedef struct {
    char *dir;
    char **names;
    size_t n;
    unsigned char *used;
} corpus_folder;
int corpus_folder_open(corpus_folder *f, const char *dir);
/* Adds utterance `id` with the folder's audio <id>.<audio extension>, or
 * records "no audio file" against text_file. */
int corpus_folder_add(nk_corpus *c, corpus_folder *f, const char *id, const char *raw_text,
                      const char *speaker, const char *text_file);
/* Records each audio file no transcript claimed ("no transcript"); frees f. */
int corpus_folder_close(nk_corpus *c, corpus_folder *f);
/* The folder part of a path ("." for a bare name); malloc'd. */
char *corpus_dirname(const char *path);

/* The sorted names in a directory (no "." or ".."); free with corpus_free_names. */
int corpus_list_dir(const char *dir, char ***names, size_t *n);
void corpus_free_names(char **names, size_t n);
/* 1 if name ends in an audio extension (flac, wav, mp3, ogg, opus). */
int corpus_is_audio(const char *name);
/* Index of the audio file named <stem>.<audio extension> in a sorted listing, or -1. */
long corpus_find_audio(char **names, size_t n, const char *stem);
int corpus_is_dir(const char *path);
int corpus_is_file(const char *path);
/* Next line of a buffer, split in place (strips \r\n); NULL at the end. */
char *corpus_next_line(char **cursor);
/* The last path component of dir, skipping a trailing "data", "wavs" or
 * "clips" (the folder naming a single-speaker corpus); malloc'd. */
char *corpus_speaker_from_dir(const char *dir);

/* Fisher–Yates shuffle of n items of `size` bytes. */
void corpus_shuffle(void *items, size_t n, size_t size, unsigned long long seed);

int corpus_read_librispeech(nk_corpus *c, const char *path);
int corpus_read_commonvoice(nk_corpus *c, const char *path);
int corpus_read_manifest(nk_corpus *c, const char *path);
int corpus_read_metadata(nk_corpus *c, const char *path);
int corpus_read_textpairs(nk_corpus *c, const char *path);

#endif
