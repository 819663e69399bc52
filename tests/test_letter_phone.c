/* Letter↔phoneme alignment learned from CMUdict (English) and from espeak-ng
 * pronunciations of a German word list: tricky words in both languages,
 * structural invariants over the whole lexicon, model files. */
#include "check.h"

#include "napkit/napkit.h"

static nk_lexicon *cmudict;
static nk_lp_model *english, *german;

static void test_train_english(void) {
    CHECK_OK(nk_lexicon_load(nk_lexicon_default_path(), &cmudict));
    if (!cmudict) return;
    nk_lp_data *d;
    CHECK_OK(nk_lp_data_new(&d));
    CHECK_OK(nk_lp_data_add_lexicon(d, cmudict, 0));
    CHECK(nk_lp_data_size(d) == nk_lexicon_n_words(cmudict));
    nk_lp_stats st;
    CHECK_OK(nk_lp_train(d, NULL, &english, &st));
    nk_lp_data_free(d);
    printf("English: %d words, %d passes, %d still flipping\n", st.words, st.iterations, st.changed);
    CHECK(st.iterations < 20); /* settled before the iteration cap */
    CHECK(st.changed < st.words / 500);
}

static void test_train_german(void) {
    char *text;
    size_t size;
    CHECK_OK(nk_read_file("tests/fixtures/lexicon/de_words.txt", &text, &size));
    if (!text) return;
    nk_lp_data *d;
    CHECK_OK(nk_lp_data_new(&d));
    char *save = NULL;
    for (char *w = strtok_r(text, "\n", &save); w; w = strtok_r(NULL, "\n", &save)) {
        nk_pron p;
        CHECK_OK(nk_phonemize("de", w, &p));
        CHECK_OK(nk_lp_data_add(d, w, &p));
    }
    free(text);
    nk_lp_stats st;
    CHECK_OK(nk_lp_train(d, NULL, &german, &st));
    nk_lp_data_free(d);
    printf("German: %d words, %d passes, %d still flipping\n", st.words, st.iterations, st.changed);
    CHECK(st.words > 2000 && st.changed == 0);
}

/* The alignment of word as "sh|ʃ i|ɪ p|p". */
static const char *aligned(const nk_lp_model *m, const nk_lexicon *lex, const char *voice,
                           const char *word) {
    static char buf[512];
    nk_pron p;
    nk_lp_group g[2 * NK_PRON_MAX];
    int n;
    buf[0] = 0;
    if (nk_pronounce(lex, voice, word, &p, NULL) || nk_lp_align(m, word, &p, g, &n)) {
        fprintf(stderr, "%s: %s\n", word, nk_last_error());
        return buf;
    }
    nk_lp_format(word, &p, g, n, buf, sizeof buf);
    return buf;
}

static void expect(const nk_lp_model *m, const nk_lexicon *lex, const char *voice, const char *word,
                   const char *want) {
    const char *got = aligned(m, lex, voice, word);
    if (strcmp(got, want)) {
        fprintf(stderr, "%s: got \"%s\", want \"%s\"\n", word, got, want);
        CHECK(!strcmp(got, want));
    }
}

static void test_tricky_english(void) {
    if (!english) return;
    /* digraphs, trigraphs, silent letters, one letter → two phonemes */
    expect(english, cmudict, "en-us", "ship", "sh|ʃ i|ɪ p|p");
    expect(english, cmudict, "en-us", "thought", "th|θ ough|ɔ t|t");
    expect(english, cmudict, "en-us", "knight", "k|- n|n i|aɪ g|- h|- t|t");
    expect(english, cmudict, "en-us", "phone", "ph|f o|oʊ n|n e|-");
    expect(english, cmudict, "en-us", "box", "b|b o|ɑ x|k s");
    expect(english, cmudict, "en-us", "queue", "q|k u|j eue|u");
    expect(english, cmudict, "en-us", "judge", "j|dʒ u|ʌ dge|dʒ");
    expect(english, cmudict, "en-us", "psychology", "p|- s|s y|aɪ ch|k o|ɑ l|l o|ə g|dʒ y|i");
    expect(english, cmudict, "en-us", "through", "th|θ r|ɹ ough|u");
    expect(english, cmudict, "en-us", "character", "ch|k a|ɛ r|ɹ a|ɪ c|k t|t er|ɚ");
    expect(english, cmudict, "en-us", "laugh", "l|l au|æ gh|f");
}

static void test_tricky_german(void) {
    if (!german) return;
    expect(german, NULL, "de", "schön", "sch|ʃ ö|øː n|n");
    expect(german, NULL, "de", "Schiff", "sch|ʃ i|ɪ ff|f");
    expect(german, NULL, "de", "Bier", "b|b ie|iː r|ɾ");
    expect(german, NULL, "de", "mein", "m|m ei|aɪ n|n");
    expect(german, NULL, "de", "Straße", "s|ʃ t|t r|ɾ a|ɑː ß|s e|ə");
    expect(german, NULL, "de", "Ich", "i|ɪ ch|ç");
    expect(german, NULL, "de", "Mädchen", "m|m ä|ɛː d|d ch|ç e|ə n|n");
    expect(german, NULL, "de", "Zug", "z|ts u|uː g|k");
    expect(german, NULL, "de", "Pfeffer", "pf|pf e|ɛ ff|f er|ɜ");
    expect(german, NULL, "de", "Tschüss", "tsch|tʃ ü|y ss|s");
}

/* Over all of CMUdict: groups tile letters and phonemes in order, every
 * phoneme has letters, silent groups are single letters. */
static void test_invariants(void) {
    if (!english) return;
    int bad = 0, silent = 0, multi = 0, n_words = nk_lexicon_n_words(cmudict);
    for (int w = 0; w < n_words; w++) {
        nk_pron p;
        nk_lp_group g[2 * NK_PRON_MAX];
        int n, ok = 1;
        const char *word = nk_lexicon_word(cmudict, w);
        if (nk_lexicon_pron(cmudict, w, 0, &p) || nk_lp_align(english, word, &p, g, &n)) {
            bad++;
            continue;
        }
        int next_l = 0, next_p = 0;
        for (int i = 0; i < n; i++) {
            ok &= g[i].letter_start == next_l && g[i].n_letters >= 1;
            ok &= g[i].n_phones == 0 ? g[i].n_letters == 1 : g[i].phone_start == next_p;
            next_l += g[i].n_letters;
            next_p += g[i].n_phones;
            silent += g[i].n_phones == 0;
            multi += g[i].n_letters > 1;
        }
        ok &= next_p == p.n && next_l == (int)strlen(word); /* CMUdict words are ASCII */
        bad += !ok;
    }
    CHECK(bad == 0);
    printf("CMUdict: %d silent letters, %d multi-letter groups\n", silent, multi);
    CHECK(silent > 10000 && multi > 10000);
}

static void test_model_file(void) {
    if (!german || !english) return;
    char path[256];
    snprintf(path, sizeof path, "%s/lp_en.json", check_tmpdir());
    CHECK_OK(nk_lp_model_save(english, path));
    nk_lp_model *m = NULL;
    CHECK_OK(nk_lp_model_load(path, &m));
    if (!m) return;
    /* The reloaded model aligns every CMUdict word the same way. */
    int differ = 0;
    for (int w = 0; w < nk_lexicon_n_words(cmudict); w++) {
        char a[512];
        const char *word = nk_lexicon_word(cmudict, w);
        snprintf(a, sizeof a, "%s", aligned(english, cmudict, "en-us", word));
        differ += strcmp(a, aligned(m, cmudict, "en-us", word)) != 0;
    }
    CHECK(differ == 0);
    for (unsigned c = 'a'; c <= 'z'; c++)
        for (int p = 0; p < nk_phone_count(); p++)
            CHECK_NEAR(nk_lp_score(m, c, p), nk_lp_score(english, c, p), 1e-4);
    nk_lp_model_free(m);
    m = NULL;
    CHECK_OK(nk_lp_model_save(german, path));
    CHECK_OK(nk_lp_model_load(path, &m));
    if (!m) return;
    const char *words[] = {"Tschüss", "Mädchen", "Pfeffer", "Weißenburg", "Häuser"};
    for (int i = 0; i < 5; i++) {
        char a[512];
        snprintf(a, sizeof a, "%s", aligned(german, NULL, "de", words[i]));
        CHECK(!strcmp(a, aligned(m, NULL, "de", words[i])));
    }
    nk_lp_model_free(m);
    /* Broken files fail with the path named, never crash. */
    const char *broken[] = {"", "{", "[]", "{\"format\":\"napkit-letter-phone\"}",
                            "{\"format\":\"napkit-letter-phone\",\"gap\":-1,\"silent\":-1,\"letters\":[\"a\"],"
                            "\"phones\":[\"_\",\"b\"],\"scores\":[[0]],\"cohesion\":[[0]]}",
                            "{\"format\":\"napkit-letter-phone\",\"gap\":-1,\"silent\":-1,\"letters\":[\"b\",\"a\"],"
                            "\"phones\":[\"_\"],\"scores\":[[0],[0]],\"cohesion\":[[0,0],[0,0]]}",
                            "{\"format\":\"napkit-letter-phone\",\"gap\":-1,\"silent\":-1,\"letters\":[\"a\"],"
                            "\"phones\":[\"_\"],\"scores\":[[\"x\"]],\"cohesion\":[[0]]}",
                            "{\"format\":\"napkit-letter-phone\",\"gap\":-1,\"silent\":-1,\"letters\":[\"a\"],"
                            "\"phones\":[\"_\"],\"scores\":[[0]],\"cohesion\":[[0,1]]}"};
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        CHECK_OK(nk_write_file(path, broken[i], strlen(broken[i])));
        m = NULL;
        CHECK(nk_lp_model_load(path, &m) == NK_ERR_FORMAT);
        CHECK(m == NULL && strstr(nk_last_error(), path) != NULL);
    }
}

static void test_bad_input(void) {
    nk_lp_model *m;
    CHECK_OK(nk_lp_prior(&m));
    if (!m) return;
    nk_pron p = {.n = 1, .phone = {nk_phone_by_arpabet("B", NULL)}};
    nk_lp_group g[128];
    int n;
    CHECK(nk_lp_align(m, "b\xff", &p, g, &n) == NK_ERR_ARG);
    CHECK(nk_lp_align(m, "", &p, g, &n) == NK_ERR_ARG);
    nk_pron empty = {.n = 0};
    CHECK(nk_lp_align(m, "b", &empty, g, &n) == NK_ERR_ARG);
    nk_pron wrong = {.n = 1, .phone = {9999}};
    CHECK(nk_lp_align(m, "b", &wrong, g, &n) == NK_ERR_ARG);
    /* Letters the model has never seen still align (score 0). */
    CHECK_OK(nk_lp_align(m, "ж", &p, g, &n));
    CHECK(n == 1 && g[0].n_phones == 1);
    nk_lp_model_free(m);
    nk_lp_data *d;
    CHECK_OK(nk_lp_data_new(&d));
    nk_lp_model *out = NULL;
    CHECK(nk_lp_train(d, NULL, &out, NULL) == NK_ERR_EMPTY);
    CHECK_OK(nk_lp_data_add(d, "b", &p));
    nk_lp_options o;
    nk_lp_options_default(&o);
    o.gap = NAN;
    CHECK(nk_lp_train(d, &o, &out, NULL) == NK_ERR_ARG && out == NULL);
    nk_lp_data_free(d);
}

int main(void) {
    RUN(test_train_english);
    RUN(test_train_german);
    RUN(test_tricky_english);
    RUN(test_tricky_german);
    RUN(test_invariants);
    RUN(test_model_file);
    RUN(test_bad_input);
    nk_lp_model_free(english);
    nk_lp_model_free(german);
    nk_lexicon_free(cmudict);
    return check_summary();
}
