/* Lexicon: Festival and plain CMUdict parsing, tolerance of bad lines,
 * espeak-ng phonemization and the CMUdict → espeak-ng fallback. */
#include "check.h"

#include "napkit/napkit.h"

#include <time.h>

static nk_lexicon *cmudict;

static const char *fmt(const nk_pron *p, int arpabet) {
    static char buf[2][512];
    nk_pron_format(p, arpabet, buf[arpabet], sizeof buf[0]);
    return buf[arpabet];
}

static void test_festival_cmudict(void) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK_OK(nk_lexicon_load(nk_lexicon_default_path(), &cmudict));
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (!cmudict) return;
    printf("loaded %d CMUdict words in %.3f s\n", nk_lexicon_n_words(cmudict),
           (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec));
    CHECK(nk_lexicon_n_words(cmudict) > 100000);
    CHECK(nk_lexicon_n_bad(cmudict, NULL) == 0);
    nk_pron p;
    /* ("costume" nil (((k aa) 0) ((s t uw m) 1))): stress per syllable. */
    int w = nk_lexicon_find(cmudict, "costume");
    CHECK(w >= 0);
    CHECK_OK(nk_lexicon_pron(cmudict, w, 0, &p));
    CHECK(!strcmp(fmt(&p, 1), "K AA0 S T UW1 M"));
    CHECK(!strcmp(fmt(&p, 0), "k ɑ s t ˈu m"));
    /* ax is AH0 = ə; "a" has two entries (dt and n) in file order. */
    w = nk_lexicon_find(cmudict, "A");
    CHECK(w >= 0 && nk_lexicon_n_variants(cmudict, w) == 2);
    CHECK_OK(nk_lexicon_pron(cmudict, w, 0, &p));
    CHECK(!strcmp(fmt(&p, 1), "AH0"));
    CHECK_OK(nk_lexicon_pron(cmudict, w, 1, &p));
    CHECK(!strcmp(fmt(&p, 1), "EY1"));
    CHECK(nk_lexicon_pron(cmudict, w, 2, &p) == NK_ERR_ARG);
    /* Capitalized Festival entries are found in lower case. */
    CHECK(nk_lexicon_find(cmudict, "afrocentric") >= 0);
    CHECK(nk_lexicon_find(cmudict, "qqqxz") == -1);
    CHECK(nk_lexicon_find(cmudict, "") == -1);
    w = nk_lexicon_find(cmudict, "psychology");
    CHECK_OK(nk_lexicon_pron(cmudict, w, 0, &p));
    CHECK(!strcmp(fmt(&p, 1), "S AY0 K AA1 L AH0 JH IY0"));
}

static void test_plain_cmudict_and_bad_lines(void) {
    const char *path = "/tmp/napkit-test-lexicon-plain.dict";
    const char *text = ";;; a comment\n"
                       "HELLO  HH AH0 L OW1\n"
                       "WORLD  W ER1 L D  # trailing comment\n"
                       "HELLO(2)  HH EH0 L OW1\n"
                       "BROKEN  QQ AH1\n"
                       "\n"
                       "EMPTY\n"
                       "DON'T  D OW1 N T\n"
                       "(\"festival\" nil (((f eh s) 1) ((t ax) 0) ((v ax l) 0)))\n"
                       "(\"bad\" nil (((b ae d) x)))\n";
    CHECK_OK(nk_write_file(path, text, strlen(text)));
    nk_lexicon *lex = NULL;
    CHECK_OK(nk_lexicon_load(path, &lex));
    if (!lex) return;
    CHECK(nk_lexicon_n_words(lex) == 4);
    const char *report;
    CHECK(nk_lexicon_n_bad(lex, &report) == 3);
    /* Bad lines are named by number and reason. */
    CHECK(strstr(report, "5 (unknown phone 'QQ')") != NULL);
    CHECK(strstr(report, "7 (no phonemes)") != NULL);
    CHECK(strstr(report, "10 (bad stress)") != NULL);
    int w = nk_lexicon_find(lex, "hello");
    CHECK(w == 0 && nk_lexicon_n_variants(lex, w) == 2);
    nk_pron p;
    CHECK_OK(nk_lexicon_pron(lex, w, 1, &p));
    CHECK(!strcmp(fmt(&p, 1), "HH EH0 L OW1"));
    CHECK_OK(nk_lexicon_pron(lex, nk_lexicon_find(lex, "world"), 0, &p));
    CHECK(!strcmp(fmt(&p, 1), "W ER1 L D"));
    CHECK(!strcmp(fmt(&p, 0), "w ˈɝ l d"));
    CHECK(nk_lexicon_find(lex, "don't") >= 0);
    CHECK_OK(nk_lexicon_pron(lex, nk_lexicon_find(lex, "festival"), 0, &p));
    CHECK(!strcmp(fmt(&p, 1), "F EH1 S T AH0 V AH0 L"));
    nk_lexicon_free(lex);
}

static void test_unusable_files(void) {
    nk_lexicon *lex = NULL;
    CHECK(nk_lexicon_load("/nonexistent/cmudict", &lex) == NK_ERR_IO);
    CHECK(lex == NULL);
    const char *path = "/tmp/napkit-test-lexicon-garbage.dict";
    const char garbage[] = "\x01\x02(((\n\"unterminated\n(\"x\" nil ((\n\xff\xfe ZZ\n";
    CHECK_OK(nk_write_file(path, garbage, sizeof garbage - 1));
    CHECK(nk_lexicon_load(path, &lex) == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), path) != NULL && strstr(nk_last_error(), "line 1") != NULL);
    CHECK(lex == NULL);
    CHECK_OK(nk_write_file(path, "", 0));
    CHECK(nk_lexicon_load(path, &lex) == NK_ERR_FORMAT);
}

static void test_espeak(void) {
    nk_pron p;
    CHECK_OK(nk_phonemize("de", "Straße", &p));
    CHECK(!strcmp(fmt(&p, 0), "ʃ t ɾ ˈɑː s ə"));
    CHECK_OK(nk_phonemize("de", "Pfeffer", &p));
    CHECK(!strcmp(fmt(&p, 0), "pf ˈɛ f ɜ"));
    CHECK_OK(nk_phonemize("de", "Burg", &p)); /* espeak-ng's unnamed UR → ʊ ɾ */
    CHECK(!strcmp(fmt(&p, 0), "b ˈʊ ɾ k"));
    CHECK_OK(nk_phonemize(nk_espeak_voice_for("en"), "water", &p)); /* no flap */
    CHECK(!strcmp(fmt(&p, 1), "W AO1 T ER0"));
    CHECK(nk_phonemize("de", "", &p) == NK_ERR_ARG);
    CHECK(nk_phonemize("xx-nonexistent", "haus", &p) == NK_ERR_ARG);
    CHECK(strstr(nk_last_error(), "xx-nonexistent") != NULL);
}

static void test_fallback(void) {
    if (!cmudict) return;
    nk_pron p;
    nk_pron_source src;
    CHECK_OK(nk_pronounce(cmudict, "en-us", "ship", &p, &src));
    CHECK(src == NK_SOURCE_CMUDICT && !strcmp(fmt(&p, 1), "SH IH1 P"));
    CHECK_OK(nk_pronounce(cmudict, "en-us", "napkitish", &p, &src));
    CHECK(src == NK_SOURCE_ESPEAK && p.n >= 6);
    CHECK(!strcmp(nk_pron_source_names[src], "espeak-ng"));
    CHECK_OK(nk_pronounce(NULL, "de", "schön", &p, &src));
    CHECK(src == NK_SOURCE_ESPEAK && !strcmp(fmt(&p, 0), "ʃ ˈøː n"));
    CHECK(!strcmp(fmt(&p, 1), "SH [øː] N"));
}

int main(void) {
    RUN(test_festival_cmudict);
    RUN(test_plain_cmudict_and_bad_lines);
    RUN(test_unusable_files);
    RUN(test_espeak);
    RUN(test_fallback);
    nk_lexicon_free(cmudict);
    return check_summary();
}
