/* The espeak-ng synthesizer: deterministic audio, valid TextGrids whose words
 * spell the normalized transcript, and a tiny corpus recipe end to end. */
#include "check.h"

#include "napkit/napkit.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static nk_synth *syn;
static nk_alphabet *en, *de;

/* Speaks text and checks the TextGrid against the audio and the transcript. */
static void speak_and_check(const nk_voice *v, const nk_alphabet *a, const char *text, const char *words) {
    float *x;
    size_t n;
    nk_textgrid *tg;
    CHECK_OK(nk_synth_speak(syn, v, a, text, 5, 16000, &x, &n, &tg));
    if (!tg) return;
    CHECK(n > 16000 / 4);
    CHECK_NEAR(tg->xmax, (double)n / 16000, 1e-9);
    CHECK_OK(nk_textgrid_validate(tg));
    double energy = 0;
    for (size_t i = 0; i < n; i++) energy += (double)x[i] * x[i];
    CHECK(energy / n > 1e-4); // speech, not silence
    const nk_tier *w = nk_textgrid_tier(tg, "words"), *p = nk_textgrid_tier(tg, "phones");
    CHECK(w && p);
    /* The non-empty word labels, joined, are the normalized transcript. */
    char joined[1024] = "";
    for (int i = 0; w && i < w->n; i++) {
        if (!w->iv[i].text[0]) continue;
        if (joined[0]) strcat(joined, " ");
        strcat(joined, w->iv[i].text);
    }
    if (strcmp(joined, words)) fprintf(stderr, "  words \"%s\", want \"%s\"\n", joined, words);
    CHECK(!strcmp(joined, words));
    /* Every word holds phones, and every phone label is IPA (no "??"). */
    int phones = 0;
    for (int i = 0; p && i < p->n; i++) {
        phones += p->iv[i].text[0] != 0;
        CHECK(!strstr(p->iv[i].text, "??"));
    }
    CHECK(phones >= (int)strlen(words) / 2);
    for (int i = 0; w && p && i < w->n; i++) {
        if (!w->iv[i].text[0]) continue;
        int inside = 0;
        for (int k = 0; k < p->n; k++)
            inside += p->iv[k].text[0] && p->iv[k].xmin >= w->iv[i].xmin - 1e-9 && p->iv[k].xmax <= w->iv[i].xmax + 1e-9;
        CHECK(inside >= 1);
    }
    free(x);
    nk_textgrid_free(tg);
}

static void test_textgrids(void) {
    nk_voice v = {"en-us+f3", 175, 50, 50};
    speak_and_check(&v, en, "Hello world, this is a test.", "hello world this is a test");
    nk_voice g = {"de+m2", 160, 40, 50};
    speak_and_check(&g, de, "Die Weißenburg-Gunzenhausen Straße, gibt's.",
                    "die weißenburg gunzenhausen straße gibt's");
    speak_and_check(&g, de, "Ursprünglich wurde die Burg übergeben.", "ursprünglich wurde die burg übergeben");
}

/* Same text, voice and seed: identical samples and TextGrid, also after
 * speaking something else in between (espeak-ng keeps global state). */
static void test_determinism(void) {
    nk_voice v = {"en-gb-x-rp+klatt", 200, 60, 50}, other = {"en-us+m1", 150, 30, 70};
    float *x[2], *y;
    size_t n[2], ny;
    nk_textgrid *tg[2], *tgy;
    const char *text = "The quick brown fox jumps over the lazy dog.";
    CHECK_OK(nk_synth_speak(syn, &v, en, text, 9, 16000, &x[0], &n[0], &tg[0]));
    CHECK_OK(nk_synth_speak(syn, &other, en, "Something else entirely.", 3, 16000, &y, &ny, &tgy));
    CHECK_OK(nk_synth_speak(syn, &v, en, text, 9, 16000, &x[1], &n[1], &tg[1]));
    CHECK(n[0] == n[1] && !memcmp(x[0], x[1], n[0] * sizeof(float)));
    CHECK(tg[0]->tiers[1].n == tg[1]->tiers[1].n);
    for (int i = 0; i < tg[0]->tiers[1].n && i < tg[1]->tiers[1].n; i++)
        CHECK(tg[0]->tiers[1].iv[i].xmin == tg[1]->tiers[1].iv[i].xmin &&
              !strcmp(tg[0]->tiers[1].iv[i].text, tg[1]->tiers[1].iv[i].text));
    /* A different voice really sounds different. */
    CHECK(ny != n[0] || memcmp(y, x[0], ny * sizeof(float)));
    for (int k = 0; k < 2; k++) {
        free(x[k]);
        nk_textgrid_free(tg[k]);
    }
    free(y);
    nk_textgrid_free(tgy);
}

/* Kills this process's children (the synthesizer's voice process). */
static int kill_children(void) {
    int killed = 0;
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[300];
        int pid, ppid;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (f && fscanf(f, "%d %*s %*c %d", &pid, &ppid) == 2 && ppid == getpid())
            killed += kill(pid, SIGKILL) == 0;
        if (f) fclose(f);
    }
    if (d) closedir(d);
    return killed;
}

/* A voice process killed between utterances is replaced: the next utterance
 * comes out as if nothing had happened. */
static void test_voice_process_killed(void) {
    nk_voice v = {"en-us+f2", 175, 50, 50};
    float *x[2];
    size_t n[2];
    nk_textgrid *tg[2];
    CHECK_OK(nk_synth_speak(syn, &v, en, "A killed helper is replaced.", 4, 16000, &x[0], &n[0], &tg[0]));
    CHECK(kill_children() == 1);
    usleep(100000); // until the kernel has closed its socket
    CHECK_OK(nk_synth_speak(syn, &v, en, "A killed helper is replaced.", 4, 16000, &x[1], &n[1], &tg[1]));
    CHECK(x[0] && x[1] && n[0] == n[1] && !memcmp(x[0], x[1], n[0] * sizeof(float)));
    for (int k = 0; k < 2; k++) {
        free(x[k]);
        nk_textgrid_free(tg[k]);
    }
}

static void test_bad_input(void) {
    float *x;
    size_t n;
    nk_textgrid *tg;
    nk_voice bad = {"xx-nonexistent", 175, 50, 50}, fast = {"en-us", 1000, 50, 50}, ok = {"en-us", 175, 50, 50};
    CHECK(nk_synth_speak(syn, &bad, en, "hello", 1, 16000, &x, &n, &tg) == NK_ERR_ARG && !x && !tg);
    CHECK(strstr(nk_last_error(), "unknown voice 'xx-nonexistent'"));
    CHECK(nk_synth_speak(syn, &fast, en, "hello", 1, 16000, &x, &n, &tg) == NK_ERR_ARG);
    CHECK(nk_synth_speak(syn, &ok, en, "In 1984", 1, 16000, &x, &n, &tg) == NK_ERR_FORMAT);
    CHECK(nk_synth_check_voice(syn, &bad) == NK_ERR_ARG && nk_synth_check_voice(syn, &ok) == 0);
    nk_synth *second;
    CHECK(nk_synth_new(&second) == NK_ERR_ARG && !second);
}

/* Whether two files exist, are non-empty and hold the same bytes. */
static int same_bytes(const char *p, const char *q) {
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    int same = !nk_read_file(p, &a, &na) && !nk_read_file(q, &b, &nb) && na > 0 && na == nb &&
               !memcmp(a, b, na);
    free(a);
    free(b);
    return same;
}

/* A tiny recipe, twice into two folders and once in two shards: identical
 * bytes; speakers and sentences of dev/test are never in train. */
static void test_corpus_recipe(void) {
    char dir[512], recipe[600], sentences[600];
    snprintf(dir, sizeof dir, "%s/synth", check_tmpdir());
    CHECK_OK(nk_mkdirs(dir));
    snprintf(sentences, sizeof sentences, "%s/sentences.txt", dir);
    const char *text = "The cat sat on the mat.\nA dog barked twice.\nIt rained all day.\n"
                       "She sold sea shells.\nWe met at noon.\nHe read a book.\nThey left early.\n"
                       "Call me at 5.\nThe cat sat on the mat!\nGood night.\n";
    CHECK_OK(nk_write_file(sentences, text, strlen(text)));
    snprintf(recipe, sizeof recipe, "%s/tiny.json", dir);
    const char *json = "{\"name\": \"tiny\", \"lang\": \"en\", \"sentences\": [\"sentences.txt\"],"
                       " \"voices\": [\"en-us\", \"en\"], \"variants\": [\"\", \"f2\"], \"rates\": [160, 190],"
                       " \"pitches\": [50], \"speakers\": 4, \"dev_speakers\": 1, \"test_speakers\": 1,"
                       " \"dev_sentences\": 2, \"test_sentences\": 2, \"train_copies\": 2, \"speaker_base\": 500}";
    CHECK_OK(nk_write_file(recipe, json, strlen(json)));
    nk_synth_free(syn); // nk_synth_corpus makes its own
    syn = NULL;
    char out[3][700];
    nk_synth_corpus_stats st;
    for (int k = 0; k < 3; k++) {
        snprintf(out[k], sizeof out[k], "%s/out%d", dir, k);
        if (k < 2) CHECK_OK(nk_synth_corpus(recipe, out[k], 0, 1, NULL, NULL, &st));
        else {
            CHECK_OK(nk_synth_corpus(recipe, out[k], 1, 2, NULL, NULL, &st));
            CHECK_OK(nk_synth_corpus(recipe, out[k], 0, 2, NULL, NULL, &st));
        }
    }
    /* 8 usable sentences (one has a digit, one repeats): 2 dev + 2 test + 4 train × 2 copies. */
    CHECK(st.sentences == 8 && st.sentences_skipped == 2 && st.speakers == 4);
    char path[3][900];
    nk_alphabet *a = en;
    nk_corpus_options o;
    nk_corpus_options_default(&o, a);
    nk_corpus *c;
    snprintf(path[0], sizeof path[0], "%s/tiny", out[0]);
    CHECK_OK(nk_corpus_open(path[0], &o, &c));
    CHECK(c && nk_corpus_size(c) == 12 && nk_corpus_n_skipped(c) == 0 && nk_corpus_n_speakers(c) == 4);
    for (size_t i = 0; c && i < nk_corpus_size(c); i++) {
        const nk_utterance *u = nk_corpus_get(c, i);
        /* Byte-identical across runs and shards: audio, TextGrid. */
        for (int k = 1; k < 3; k++) {
            const char *rel = u->audio + strlen(out[0]);
            snprintf(path[k], sizeof path[k], "%s%s", out[k], rel);
            CHECK(same_bytes(u->audio, path[k]));
        }
        char *tgp = malloc(strlen(u->audio) + sizeof ".TextGrid");
        strcpy(tgp, u->audio);
        strcpy(strrchr(tgp, '.'), ".TextGrid");
        char *tgk = malloc(strlen(tgp) + 16);
        sprintf(tgk, "%s%s", out[2], tgp + strlen(out[0]));
        CHECK(same_bytes(tgp, tgk));
        free(tgk);
        nk_textgrid *tg;
        CHECK_OK(nk_textgrid_read(tgp, &tg));
        CHECK(tg && fabs(tg->xmax - u->duration) < 1e-3);
        nk_textgrid_free(tg);
        free(tgp);
        /* dev/test sentences never appear in train. */
        int held_out = strstr(u->audio, "/dev/") || strstr(u->audio, "/test/");
        for (size_t j = 0; held_out && j < nk_corpus_size(c); j++)
            if (strstr(nk_corpus_get(c, j)->audio, "/train/")) CHECK(strcmp(nk_corpus_get(c, j)->text, u->text));
    }
    nk_corpus_free(c);
    for (int k = 1; k < 3; k++) {
        const char *files[] = {"SPEAKERS.TXT", "SKIPPED.TXT", "train/502/1/502-1.trans.txt"};
        for (int f = 0; f < 3; f++) {
            char p0[1024], pk[1024];
            snprintf(p0, sizeof p0, "%s/tiny/%s", out[0], files[f]);
            snprintf(pk, sizeof pk, "%s/tiny/%s", out[k], files[f]);
            CHECK(same_bytes(p0, pk));
        }
    }
    CHECK(nk_synth_corpus(recipe, out[0], 2, 2, NULL, NULL, &st) == NK_ERR_ARG);
    const char *bad = "{\"name\": \"bad\", \"lang\": \"en\", \"sentences\": [\"sentences.txt\"], \"voices\": [\"en-us\"],"
                      " \"variants\": [\"\"], \"rates\": [175], \"pitches\": [50], \"speakers\": 4}";
    CHECK_OK(nk_write_file(recipe, bad, strlen(bad)));
    CHECK(nk_synth_corpus(recipe, out[0], 0, 1, NULL, NULL, &st) == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), "tiny.json") && strstr(nk_last_error(), "combinations"));
    CHECK_OK(nk_synth_new(&syn));
}

/* Train-only sentences ("train_sentences") reach the train split only, after
 * the main ones and up to max_train_sentences; one that repeats a main
 * sentence is dropped, so it cannot leak into dev or test. Lifting the cap
 * only adds utterances: every file of the capped corpus is in the uncapped
 * one, byte for byte (so a cap is a reproducible subset of the full corpus). */
static void test_train_only_sentences(void) {
    char dir[512], recipe[600], file[700], out[700], root[800], out_all[700], other[1200];
    snprintf(dir, sizeof dir, "%s/synth-extra", check_tmpdir());
    CHECK_OK(nk_mkdirs(dir));
    const char *main_text = "one two three.\nfour five six.\nseven eight nine.\nten eleven.\ntwelve thirteen.\n";
    const char *extra_text = "red green blue.\nFour five six!\nblack white.\nyellow pink.\ngrey brown.\n";
    snprintf(file, sizeof file, "%s/main.txt", dir);
    CHECK_OK(nk_write_file(file, main_text, strlen(main_text)));
    snprintf(file, sizeof file, "%s/extra.txt", dir);
    CHECK_OK(nk_write_file(file, extra_text, strlen(extra_text)));
    snprintf(recipe, sizeof recipe, "%s/extra.json", dir);
    const char *json = "{\"name\": \"extra\", \"lang\": \"en\", \"sentences\": [\"main.txt\"],"
                       " \"train_sentences\": [\"extra.txt\"], \"max_train_sentences\": %d,"
                       " \"voices\": [\"en-us\"], \"variants\": [\"\", \"f2\"], \"rates\": [160, 190],"
                       " \"pitches\": [50], \"speakers\": 3, \"dev_speakers\": 1, \"test_speakers\": 1,"
                       " \"dev_sentences\": 1, \"test_sentences\": 1, \"speaker_base\": 700}";
    char text[1024];
    nk_synth_corpus_stats st, st_all;
    nk_synth_free(syn); // one engine per process: nk_synth_corpus makes its own
    syn = NULL;
    snprintf(out_all, sizeof out_all, "%s/out-all", dir);
    snprintf(text, sizeof text, json, 0);
    CHECK_OK(nk_write_file(recipe, text, strlen(text)));
    CHECK_OK(nk_synth_corpus(recipe, out_all, 0, 1, NULL, NULL, &st_all));
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(text, sizeof text, json, 5);
    CHECK_OK(nk_write_file(recipe, text, strlen(text)));
    CHECK_OK(nk_synth_corpus(recipe, out, 0, 1, NULL, NULL, &st));
    CHECK_OK(nk_synth_new(&syn));
    /* 5 main + 4 distinct extras; 1 dev + 1 test + 3 main train + 2 extras
     * (+ the other 2 extras without the cap). */
    CHECK(st.sentences == 7 && st.sentences_skipped == 1 && st.utterances == 7);
    CHECK(st_all.sentences == 9 && st_all.sentences_skipped == 1 && st_all.utterances == 9);
    nk_corpus_options o;
    nk_corpus_options_default(&o, en);
    nk_corpus *c = NULL;
    snprintf(root, sizeof root, "%s/extra", out);
    CHECK_OK(nk_corpus_open(root, &o, &c));
    int main_in_train = 0, extra_in_train = 0;
    for (size_t i = 0; c && i < nk_corpus_size(c); i++) {
        const nk_utterance *u = nk_corpus_get(c, i);
        int is_extra = strstr("red green blue|black white|yellow pink|grey brown", u->text) != NULL;
        snprintf(other, sizeof other, "%s%s", out_all, u->audio + strlen(out));
        CHECK(same_bytes(u->audio, other));
        if (strstr(u->audio, "/train/")) {
            main_in_train += !is_extra;
            extra_in_train += is_extra;
        } else {
            CHECK(!is_extra); // dev and test come from the main list only
        }
    }
    CHECK(c && nk_corpus_size(c) == 7 && main_in_train == 3 && extra_in_train == 2);
    nk_corpus_free(c);
}

int main(void) {
    if (nk_alphabet_builtin("en", &en) || nk_alphabet_builtin("de", &de) || nk_synth_new(&syn)) {
        fprintf(stderr, "%s\n", nk_last_error());
        return 1;
    }
    RUN(test_textgrids);
    RUN(test_determinism);
    RUN(test_voice_process_killed);
    RUN(test_bad_input);
    RUN(test_corpus_recipe);
    RUN(test_train_only_sentences);
    nk_synth_free(syn);
    nk_alphabet_free(en);
    nk_alphabet_free(de);
    return check_summary();
}
