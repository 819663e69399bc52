/* Corpus readers on small trees of each layout, built in a temporary folder
 * (tiny FLAC/WAV files, hand-written transcripts), including broken ones:
 * missing transcript lines, missing and unreadable audio, unknown characters.
 * Then filters, splits, and the real recordings in ../shared/corpora when
 * present. */
#include "check.h"

#include "napkit/napkit.h"

#include <stdlib.h>
#include <string.h>

static nk_alphabet *en, *de;
static char root[512];

/* Writes a file below root, creating folders. */
static void put(const char *rel, const char *text) {
    char path[1024], dir[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    CHECK_OK(nk_mkdirs(dir));
    CHECK_OK(nk_write_file(path, text, strlen(text)));
}

/* Writes `seconds` of a quiet tone as audio below root. */
static void put_audio(const char *rel, double seconds) {
    char path[1024], dir[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    CHECK_OK(nk_mkdirs(dir));
    size_t n = (size_t)(seconds * 16000);
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = 0.1f * sinf(0.05f * (float)i);
    CHECK_OK(nk_audio_write(path, x, n, 16000));
    free(x);
}

static nk_corpus *open_corpus(const char *spec, const nk_alphabet *a) {
    nk_corpus_options o;
    nk_corpus_options_default(&o, a);
    nk_corpus *c = NULL;
    CHECK_OK(nk_corpus_open(spec, &o, &c));
    return c;
}

/* Whether some skipped item's file ends with `file` and its reason has `reason`. */
static int has_skip(const nk_corpus *c, const char *file, const char *reason) {
    for (size_t i = 0; i < nk_corpus_n_skipped(c); i++) {
        const nk_skipped *s = nk_corpus_skipped(c, i);
        size_t a = strlen(s->file), b = strlen(file);
        if (a >= b && !strcmp(s->file + a - b, file) && strstr(s->reason, reason)) return 1;
    }
    for (size_t i = 0; i < nk_corpus_n_skipped(c); i++)
        fprintf(stderr, "  skipped: %s: %s\n", nk_corpus_skipped(c, i)->file, nk_corpus_skipped(c, i)->reason);
    fprintf(stderr, "  (looked for %s: %s)\n", file, reason);
    return 0;
}

static const nk_utterance *find(const nk_corpus *c, const char *id) {
    for (size_t i = 0; i < nk_corpus_size(c); i++)
        if (!strcmp(nk_corpus_get(c, i)->id, id)) return nk_corpus_get(c, i);
    return NULL;
}

static void make_librispeech(void) {
    put_audio("ls/dev/11/22/11-22-0000.flac", 0.5);
    put_audio("ls/dev/11/22/11-22-0001.wav", 1.0);  // any audio extension
    put_audio("ls/dev/11/22/11-22-0002.flac", 0.5); // no transcript line
    put_audio("ls/dev/11/22/11-22-0004.flac", 0.5); // transcript has a digit
    put("ls/dev/11/22/11-22-0005.flac", "not audio at all"); // unreadable
    put("ls/dev/11/22/11-22.trans.txt",
        "11-22-0000 HELLO WORLD\n11-22-0001 IT'S A TEST\r\n11-22-0003 NO AUDIO HERE\n"
        "11-22-0004 CHAPTER 4\n11-22-0005 BROKEN FILE\nLONELYID\n\n");
    put_audio("ls/dev/33/44/33-44-0000.flac", 2.0);
    put("ls/dev/33/44/33-44.trans.txt", "33-44-0000 SECOND SPEAKER\n");
    put("ls/LICENSE.TXT", "not a transcript\n");
}

static void test_librispeech(void) {
    make_librispeech();
    char spec[1024];
    snprintf(spec, sizeof spec, "%s/ls", root);
    nk_corpus *c = open_corpus(spec, en);
    if (!c) return;
    CHECK(!strcmp(nk_corpus_layout(c), "librispeech"));
    CHECK(nk_corpus_size(c) == 3);
    CHECK(nk_corpus_n_speakers(c) == 2);
    const nk_utterance *u = find(c, "11-22-0001");
    CHECK(u && !strcmp(u->text, "it's a test") && !strcmp(u->raw_text, "IT'S A TEST"));
    CHECK(u && !strcmp(u->speaker, "11") && strstr(u->audio, "ls/dev/11/22/11-22-0001.wav"));
    CHECK(u && fabs(u->duration - 1.0) < 1e-3);
    u = find(c, "33-44-0000");
    CHECK(u && !strcmp(u->text, "second speaker") && !strcmp(u->speaker, "33"));
    CHECK_NEAR(nk_corpus_duration(c), 3.5, 1e-3);
    CHECK(nk_corpus_n_skipped(c) == 5);
    CHECK(has_skip(c, "11-22-0002.flac", "no transcript"));
    CHECK(has_skip(c, "11-22.trans.txt", "11-22-0003: no audio file"));
    CHECK(has_skip(c, "11-22.trans.txt", "11-22-0004: contains a digit ('4')"));
    CHECK(has_skip(c, "11-22-0005.flac", "11-22-0005: unreadable audio"));
    CHECK(has_skip(c, "11-22.trans.txt", "line 6: no transcript after the id 'LONELYID'"));
    nk_corpus_free(c);

    /* A subset, a speaker and a chapter folder read the same way. */
    const char *below[] = {"ls/dev", "ls/dev/11", "ls/dev/11/22"};
    const size_t want[] = {3, 2, 2};
    for (int i = 0; i < 3; i++) {
        snprintf(spec, sizeof spec, "%s/%s", root, below[i]);
        c = open_corpus(spec, en);
        CHECK(c && nk_corpus_size(c) == want[i]);
        nk_corpus_free(c);
    }
    /* Without probing, unreadable audio is not noticed and durations are unknown. */
    nk_corpus_options o;
    nk_corpus_options_default(&o, en);
    o.probe = 0;
    snprintf(spec, sizeof spec, "librispeech:%s/ls", root);
    CHECK_OK(nk_corpus_open(spec, &o, &c));
    CHECK(c && nk_corpus_size(c) == 4 && nk_corpus_get(c, 0)->duration == -1);
    nk_corpus_free(c);
    /* A folder with no transcripts at all is an error, not an empty corpus. */
    put("empty/readme.md", "nothing\n");
    snprintf(spec, sizeof spec, "librispeech:%s/empty", root);
    nk_corpus_options_default(&o, en);
    CHECK(nk_corpus_open(spec, &o, &c) == NK_ERR_FORMAT && !c);
    CHECK(strstr(nk_last_error(), "no *.trans.txt"));
    snprintf(spec, sizeof spec, "%s/does-not-exist", root);
    CHECK(nk_corpus_open(spec, &o, &c) == NK_ERR_IO && strstr(nk_last_error(), "does-not-exist"));
    o.alphabet = NULL;
    CHECK(nk_corpus_open(spec, &o, &c) == NK_ERR_ARG);
}

static void test_commonvoice(void) {
    put("cv/validated.tsv",
        "client_id\tpath\tsentence\tup_votes\n"
        "aaa\tcv_1.flac\tDieses Fahrrad gehört nicht mir.\t2\n"
        "bbb\tcv_2.flac\tDas fehlt.\t1\n"
        "aaa\tcv_3.flac\tTom & Jerry\t2\n"
        "ccc\tcv_4.flac\n"
        "ccc\tcv_5.flac\t\u201eStra\u00dfe\u201c \u2013 sagte sie\t0\n");
    put_audio("cv/clips/cv_1.flac", 1.0);
    put_audio("cv/clips/cv_3.flac", 1.0);
    put_audio("cv/clips/cv_4.flac", 1.0);
    put_audio("cv/clips/cv_5.flac", 1.0);
    char spec[1024];
    snprintf(spec, sizeof spec, "%s/cv", root);
    nk_corpus *c = open_corpus(spec, de);
    if (!c) return;
    CHECK(!strcmp(nk_corpus_layout(c), "commonvoice"));
    CHECK(nk_corpus_size(c) == 2);
    const nk_utterance *u = find(c, "cv_1");
    CHECK(u && !strcmp(u->text, "dieses fahrrad gehört nicht mir") && !strcmp(u->speaker, "aaa"));
    u = find(c, "cv_5");
    CHECK(u && !strcmp(u->text, "straße sagte sie") && !strcmp(u->speaker, "ccc"));
    CHECK(nk_corpus_n_skipped(c) == 3);
    CHECK(has_skip(c, "validated.tsv", "cv_2: no audio file"));
    CHECK(has_skip(c, "validated.tsv", "cv_3: unknown character '&'"));
    CHECK(has_skip(c, "validated.tsv", "line 5: 2 columns, the header has 4"));
    nk_corpus_free(c);
    /* The same with the English alphabet: umlauts and ß transliterate. */
    snprintf(spec, sizeof spec, "%s/cv/validated.tsv", root);
    c = open_corpus(spec, en);
    CHECK(c && find(c, "cv_5") && !strcmp(find(c, "cv_5")->text, "strasse sagte sie"));
    nk_corpus_free(c);
    put("cv2/other.tsv", "client_id\tfile\ttext\nx\ty\tz\n");
    snprintf(spec, sizeof spec, "commonvoice:%s/cv2/other.tsv", root);
    nk_corpus_options o;
    nk_corpus_options_default(&o, en);
    CHECK(nk_corpus_open(spec, &o, &c) == NK_ERR_FORMAT && strstr(nk_last_error(), "not Common Voice"));
}

static void test_manifest(void) {
    put_audio("mf/audio/a.flac", 0.5);
    put_audio("mf/audio/b.wav", 1.5);
    put("mf/list.txt",
        "# comment line\n"
        "audio/a.flac\tFirst one.\tanna\n"
        "audio/b.wav\tSecond \u2014 one\n"
        "audio/c.flac\tmissing audio\tbob\n"
        "no tab on this line\n"
        "audio/a.flac\tCaf\u00e9 \u00fcber 9\n");
    char spec[1024];
    snprintf(spec, sizeof spec, "%s/mf/list.txt", root);
    nk_corpus *c = open_corpus(spec, en);
    if (!c) return;
    CHECK(!strcmp(nk_corpus_layout(c), "manifest"));
    CHECK(nk_corpus_size(c) == 2);
    CHECK(nk_corpus_get(c, 0) && !strcmp(nk_corpus_get(c, 0)->text, "first one"));
    CHECK(nk_corpus_get(c, 0) && !strcmp(nk_corpus_get(c, 0)->speaker, "anna"));
    CHECK(nk_corpus_get(c, 1) && !strcmp(nk_corpus_get(c, 1)->text, "second one"));
    CHECK(nk_corpus_get(c, 1) && !strcmp(nk_corpus_get(c, 1)->speaker, "unknown"));
    CHECK(nk_corpus_get(c, 1) && !strcmp(nk_corpus_get(c, 1)->id, "b"));
    CHECK(nk_corpus_n_skipped(c) == 3);
    CHECK(has_skip(c, "list.txt", "line 4: no audio file"));
    CHECK(has_skip(c, "list.txt", "line 5: expected AUDIO<TAB>TRANSCRIPT"));
    CHECK(has_skip(c, "list.txt", "a: contains a digit ('9')"));
    nk_corpus_free(c);
}

static void test_metadata_and_textpairs(void) {
    put("kerstin/metadata.csv", "k_1|Erster Satz.\nk_2|Zweiter|zweiter satz normalisiert\nk_3|Ohne Audio\nbroken line\n");
    put_audio("kerstin/data/k_1.flac", 0.5);
    put_audio("kerstin/data/k_2.flac", 0.5);
    put_audio("kerstin/data/k_9.flac", 0.5); // no transcript
    char spec[1024];
    snprintf(spec, sizeof spec, "%s/kerstin", root);
    nk_corpus *c = open_corpus(spec, de);
    if (c) {
        CHECK(!strcmp(nk_corpus_layout(c), "metadata"));
        CHECK(nk_corpus_size(c) == 2);
        CHECK(find(c, "k_1") && !strcmp(find(c, "k_1")->text, "erster satz"));
        CHECK(find(c, "k_2") && !strcmp(find(c, "k_2")->text, "zweiter satz normalisiert"));
        CHECK(find(c, "k_1") && !strcmp(find(c, "k_1")->speaker, "kerstin"));
        CHECK(nk_corpus_n_skipped(c) == 3);
        CHECK(has_skip(c, "metadata.csv", "k_3: no audio file"));
        CHECK(has_skip(c, "metadata.csv", "line 4: expected ID|TEXT"));
        CHECK(has_skip(c, "k_9.flac", "no transcript"));
    }
    nk_corpus_free(c);

    put_audio("kathleen/data/arctic_1.flac", 0.5);
    put("kathleen/data/arctic_1.txt", "Author of the danger trail, Philip Steels, etc.\n");
    put_audio("kathleen/data/arctic_2.flac", 0.5);
    put("kathleen/data/arctic_2.txt", "\u4f60\u597d\n");
    put_audio("kathleen/data/arctic_3.flac", 0.5); // no .txt
    put("kathleen/data/arctic_4.txt", "No audio for me.\n");
    put("kathleen/README.md", "about\n");
    snprintf(spec, sizeof spec, "%s/kathleen", root);
    c = open_corpus(spec, en);
    if (c) {
        CHECK(!strcmp(nk_corpus_layout(c), "textpairs"));
        CHECK(nk_corpus_size(c) == 1);
        CHECK(find(c, "arctic_1") && !strcmp(find(c, "arctic_1")->text, "author of the danger trail philip steels etc"));
        CHECK(find(c, "arctic_1") && !strcmp(find(c, "arctic_1")->speaker, "kathleen"));
        CHECK(nk_corpus_n_skipped(c) == 3);
        CHECK(has_skip(c, "arctic_2.txt", "unknown character"));
        CHECK(has_skip(c, "arctic_3.flac", "no transcript"));
        CHECK(has_skip(c, "arctic_4.txt", "arctic_4: no audio file"));
    }
    nk_corpus_free(c);
}

/* Five speakers with durations 0.5, 1.0, …, 2.5 s, two utterances each. */
static void make_speakers(void) {
    char text[4096] = "", rel[256];
    for (int s = 0; s < 5; s++) {
        for (int k = 0; k < 2; k++) {
            snprintf(rel, sizeof rel, "spk/s%d_%d.flac", s, k);
            put_audio(rel, 0.5 * (s + 1));
            char line[128];
            snprintf(line, sizeof line, "s%d_%d.flac\tutterance\tspeaker%d\n", s, k, s);
            strcat(text, line);
        }
    }
    put("spk/manifest.tsv", text);
}

static void test_filters(void) {
    make_speakers();
    char spec[1024];
    snprintf(spec, sizeof spec, "manifest:%s/spk/manifest.tsv", root);
    nk_corpus_options o;
    nk_corpus_options_default(&o, en);
    o.min_duration = 0.9;
    o.max_duration = 2.1;
    nk_corpus *c;
    CHECK_OK(nk_corpus_open(spec, &o, &c));
    CHECK(c && nk_corpus_size(c) == 6 && nk_corpus_filtered(c) == 4 && nk_corpus_n_skipped(c) == 0);
    for (size_t i = 0; c && i < nk_corpus_size(c); i++)
        CHECK(nk_corpus_get(c, i)->duration >= 0.9 && nk_corpus_get(c, i)->duration <= 2.1);
    nk_corpus_free(c);

    /* Shuffling: the same seed gives the same order; another seed another. */
    char order[3][64] = {"", "", ""};
    const unsigned long long seeds[3] = {7, 7, 8};
    for (int r = 0; r < 3; r++) {
        nk_corpus_options_default(&o, en);
        o.shuffle = 1;
        o.seed = seeds[r];
        o.max_utterances = 6;
        CHECK_OK(nk_corpus_open(spec, &o, &c));
        CHECK(c && nk_corpus_size(c) == 6);
        for (size_t i = 0; c && i < nk_corpus_size(c); i++) strcat(order[r], nk_corpus_get(c, i)->id);
        nk_corpus_free(c);
    }
    CHECK(!strcmp(order[0], order[1]));
    CHECK(strcmp(order[0], order[2]));
    /* Without shuffling, max_utterances keeps the first in path order. */
    nk_corpus_options_default(&o, en);
    o.max_utterances = 3;
    CHECK_OK(nk_corpus_open(spec, &o, &c));
    CHECK(c && nk_corpus_size(c) == 3 && !strcmp(nk_corpus_get(c, 2)->id, "s1_0"));
    nk_corpus_free(c);
    /* Bad ranges are refused. */
    nk_corpus_options_default(&o, en);
    o.min_duration = 3;
    o.max_duration = 2;
    CHECK(nk_corpus_open(spec, &o, &c) == NK_ERR_ARG);
    o.probe = 0;
    o.min_duration = 0;
    CHECK(nk_corpus_open(spec, &o, &c) == NK_ERR_ARG && strstr(nk_last_error(), "probing"));
}

static void test_split_by_speaker(void) {
    char spec[1024];
    snprintf(spec, sizeof spec, "%s/spk/manifest.tsv", root);
    nk_corpus *c = open_corpus(spec, en), *parts[3], *again[3];
    if (!c) return;
    CHECK_OK(nk_corpus_split(c, 0.2, 0.2, 42, parts));
    CHECK_OK(nk_corpus_split(c, 0.2, 0.2, 42, again));
    if (parts[0]) {
        CHECK(nk_corpus_n_speakers(parts[0]) == 3 && nk_corpus_size(parts[0]) == 6);
        CHECK(nk_corpus_n_speakers(parts[1]) == 1 && nk_corpus_size(parts[1]) == 2);
        CHECK(nk_corpus_n_speakers(parts[2]) == 1 && nk_corpus_size(parts[2]) == 2);
        /* No speaker is in two parts; the split is deterministic. */
        for (int p = 0; p < 3; p++)
            for (int q = p + 1; q < 3; q++)
                for (size_t i = 0; i < nk_corpus_size(parts[p]); i++)
                    for (size_t j = 0; j < nk_corpus_size(parts[q]); j++)
                        CHECK(strcmp(nk_corpus_get(parts[p], i)->speaker, nk_corpus_get(parts[q], j)->speaker));
        CHECK(!strcmp(nk_corpus_get(parts[1], 0)->speaker, nk_corpus_get(again[1], 0)->speaker));
        CHECK(!strcmp(nk_corpus_get(parts[2], 0)->speaker, nk_corpus_get(again[2], 0)->speaker));
    }
    for (int p = 0; p < 3; p++) {
        nk_corpus_free(parts[p]);
        nk_corpus_free(again[p]);
    }
    CHECK(nk_corpus_split(c, 0.5, 0.5, 1, parts) == NK_ERR_ARG);
    CHECK(nk_corpus_split(c, 0.6, 0.3, 1, parts) == NK_ERR_INFEASIBLE && !parts[0]);
    nk_corpus_free(c);
}

/* The real recordings, when ../shared/corpora is beside the checkout. */
static void test_shared_corpora(void) {
    static const struct {
        const char *spec, *lang, *layout;
        size_t utterances, speakers;
    } real[] = {
        {"../shared/corpora/en/librispeech-dev-clean-mp3/LibriSpeech/dev-clean", "en", "librispeech", 1302, 40},
        {"../shared/corpora/en/kathleen", "en", "textpairs", 1620, 1},
        {"../shared/corpora/de/kerstin", "de", "metadata", 1370, 1},
        {"../shared/corpora/de/commonvoice-sample", "de", "commonvoice", 49, 0},
    };
    FILE *fp = fopen("../shared/corpora/README.md", "r");
    if (!fp) {
        fprintf(stderr, "test_shared_corpora: ../shared/corpora is absent, skipped\n");
        return;
    }
    fclose(fp);
    for (size_t i = 0; i < sizeof real / sizeof real[0]; i++) {
        nk_corpus_options o;
        nk_corpus_options_default(&o, !strcmp(real[i].lang, "en") ? en : de);
        o.probe = 0; // headers of 4000 files: the reader, not libsndfile, is under test
        nk_corpus *c;
        CHECK_OK(nk_corpus_open(real[i].spec, &o, &c));
        if (!c) continue;
        CHECK(!strcmp(nk_corpus_layout(c), real[i].layout));
        if (nk_corpus_size(c) != real[i].utterances)
            fprintf(stderr, "  %s: %zu utterances, want %zu\n", real[i].spec, nk_corpus_size(c), real[i].utterances);
        CHECK(nk_corpus_size(c) == real[i].utterances);
        if (real[i].speakers == 1) CHECK(nk_corpus_n_speakers(c) == 1);
        nk_corpus_free(c);
    }
}

int main(void) {
    snprintf(root, sizeof root, "%s/corpus", check_tmpdir());
    if (nk_alphabet_builtin("en", &en) || nk_alphabet_builtin("de", &de)) return 1;
    RUN(test_librispeech);
    RUN(test_commonvoice);
    RUN(test_manifest);
    RUN(test_metadata_and_textpairs);
    RUN(test_filters);
    RUN(test_split_by_speaker);
    RUN(test_shared_corpora);
    nk_alphabet_free(en);
    nk_alphabet_free(de);
    return check_summary();
}
