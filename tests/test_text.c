/* Alphabets and transcript normalization against hand-worked expectations. */
#include "check.h"

#include "napkit/napkit.h"

#include <stdlib.h>
#include <string.h>

/* Normalizes `in` and checks the result (want NULL: must fail with `err`). */
static void expect(const nk_alphabet *a, const char *in, const char *want, int err, const char *reason) {
    char *got = NULL;
    int rc = nk_text_normalize(a, in, &got);
    if (want) {
        CHECK(rc == 0);
        if (rc) fprintf(stderr, "  normalize(\"%s\"): %s\n", in, nk_last_error());
        if (got && strcmp(got, want)) fprintf(stderr, "  normalize(\"%s\") = \"%s\", want \"%s\"\n", in, got, want);
        CHECK(got && !strcmp(got, want));
    } else {
        CHECK(rc == err);
        CHECK(got == NULL);
        if (reason && !strstr(nk_last_error(), reason))
            fprintf(stderr, "  normalize(\"%s\") failed with \"%s\", want it to say \"%s\"\n", in,
                    nk_last_error(), reason);
        CHECK(!reason || strstr(nk_last_error(), reason));
    }
    free(got);
}

static void test_builtin_alphabets(void) {
    nk_alphabet *en, *de;
    CHECK_OK(nk_alphabet_builtin("en", &en));
    CHECK_OK(nk_alphabet_builtin("de", &de));
    CHECK(nk_alphabet_size(en) == 29);
    CHECK(nk_alphabet_size(de) == 33);
    CHECK(!strcmp(nk_alphabet_symbol(en, 0), "_"));
    CHECK(!strcmp(nk_alphabet_symbol(en, 1), " "));
    CHECK(!strcmp(nk_alphabet_symbol(en, 2), "'"));
    CHECK(!strcmp(nk_alphabet_symbol(en, 3), "a"));
    CHECK(!strcmp(nk_alphabet_symbol(en, 28), "z"));
    CHECK(!strcmp(nk_alphabet_symbol(de, 32), "ß"));
    CHECK(nk_alphabet_symbol(en, 29) == NULL);
    CHECK(nk_alphabet_symbol(en, -1) == NULL);
    nk_alphabet *x;
    CHECK(nk_alphabet_builtin("fr", &x) == NK_ERR_ARG && x == NULL);
    nk_alphabet_free(en);
    nk_alphabet_free(de);
}

static void test_alphabet_validation(void) {
    nk_alphabet *a;
    const char *dup[] = {"_", " ", "a", "a"};
    CHECK(nk_alphabet_new(dup, 4, &a) == NK_ERR_ARG && !a);
    CHECK(strstr(nk_last_error(), "twice"));
    const char *nospace[] = {"_", "a", "b"};
    CHECK(nk_alphabet_new(nospace, 3, &a) == NK_ERR_ARG);
    const char *empty[] = {"_", " ", ""};
    CHECK(nk_alphabet_new(empty, 3, &a) == NK_ERR_ARG);
    const char *bad_utf8[] = {"_", " ", "\xc3"};
    CHECK(nk_alphabet_new(bad_utf8, 3, &a) == NK_ERR_ARG);
    CHECK(nk_alphabet_new(dup, 1, &a) == NK_ERR_ARG);
}

static void test_encode_decode(void) {
    nk_alphabet *de;
    CHECK_OK(nk_alphabet_builtin("de", &de));
    const char *text = "grüße an's";
    int labels[32], n;
    CHECK_OK(nk_alphabet_encode(de, text, labels, &n));
    /* g r ü ß e ␠ a n ' s */
    int want[] = {9, 20, 31, 32, 7, 1, 3, 16, 2, 21};
    CHECK(n == 10);
    for (int i = 0; i < n && i < 10; i++) CHECK(labels[i] == want[i]);
    /* Decoding drops blanks wherever they are. */
    int with_blanks[] = {0, 9, 20, 0, 31, 32, 7, 1, 3, 0, 16, 2, 21, 0};
    char *back;
    CHECK_OK(nk_alphabet_decode(de, with_blanks, 14, &back));
    CHECK(back && !strcmp(back, text));
    free(back);
    int bad[] = {3, 33};
    CHECK(nk_alphabet_decode(de, bad, 2, &back) == NK_ERR_ARG && !back);
    CHECK(nk_alphabet_encode(de, "abc1", labels, &n) == NK_ERR_ARG);
    CHECK(strstr(nk_last_error(), "character 3"));
    nk_alphabet_free(de);

    /* A model alphabet with a multi-character symbol: longest match wins. */
    const char *syms[] = {"<b>", " ", "a", "ch", "c", "h"};
    nk_alphabet *m;
    CHECK_OK(nk_alphabet_new(syms, 6, &m));
    CHECK_OK(nk_alphabet_encode(m, "cha ch c h", labels, &n));
    int want2[] = {3, 2, 1, 3, 1, 4, 1, 5};
    CHECK(n == 8);
    for (int i = 0; i < n && i < 8; i++) CHECK(labels[i] == want2[i]);
    nk_alphabet_free(m);
}

static void test_normalize_english(void) {
    nk_alphabet *en;
    CHECK_OK(nk_alphabet_builtin("en", &en));
    expect(en, "BUT WITH FULL RAVISHMENT", "but with full ravishment", 0, NULL);
    expect(en, "  Hello,   World!  ", "hello world", 0, NULL);
    expect(en, "Author of the danger trail, Philip Steels, etc.", "author of the danger trail philip steels etc", 0, NULL);
    expect(en, "Don\u2019t say \u201cno\u201d \u2014 it\u2019s fine.", "don't say no it's fine", 0, NULL);
    expect(en, "rock`n`roll", "rock'n'roll", 0, NULL);
    expect(en, "'Tis the boys' toys", "tis the boys toys", 0, NULL);
    expect(en, "self-evident\u2013true", "self evident true", 0, NULL);
    expect(en, "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 fa\u00e7ade", "cafe naive resume facade", 0, NULL);
    expect(en, "\u00c9COLE \u00c0 \u00c7A", "ecole a ca", 0, NULL);
    /* The English alphabet has no umlauts or sharp s: obvious spellings. */
    expect(en, "\u00dcber Gr\u00f6\u00dfe \u00c4rger", "uber grosse arger", 0, NULL);
    expect(en, "\u00c6sop's \u0152uvre", "aesop's oeuvre", 0, NULL);
    expect(en, "Dvo\u0159\u00e1k \u0141\u00f3d\u017a", "dvorak lodz", 0, NULL);
    expect(en, "line\none\ttab", "line one tab", 0, NULL);
    expect(en, "In 1984 we", NULL, NK_ERR_FORMAT, "digit ('1')");
    expect(en, "Tom & Jerry", NULL, NK_ERR_FORMAT, "unknown character '&' (U+0026)");
    expect(en, "\u041f\u0440\u0438\u0432\u0435\u0442", NULL, NK_ERR_FORMAT, "U+041F");
    expect(en, "50% off", NULL, NK_ERR_FORMAT, "digit");
    expect(en, "bad \xff byte", NULL, NK_ERR_FORMAT, "invalid UTF-8 at byte 4");
    expect(en, "overlong \xc0\xaf", NULL, NK_ERR_FORMAT, "invalid UTF-8");
    expect(en, " ... !? -- ", NULL, NK_ERR_EMPTY, "empty");
    expect(en, "", NULL, NK_ERR_EMPTY, NULL);
    nk_alphabet_free(en);
}

static void test_normalize_german(void) {
    nk_alphabet *de;
    CHECK_OK(nk_alphabet_builtin("de", &de));
    expect(de, "Sie ist nach der Kreisstadt Wei\u00dfenburg des Landkreises Wei\u00dfenburg-Gunzenhausen benannt.",
           "sie ist nach der kreisstadt weißenburg des landkreises weißenburg gunzenhausen benannt", 0, NULL);
    expect(de, "\u00c4RGER \u00dcBER \u00d6L", "ärger über öl", 0, NULL);
    expect(de, "GROSSE STRA\u1e9eE", "grosse straße", 0, NULL);
    expect(de, "\u201eNein\u201c, sagte sie \u201aleise\u2018.", "nein sagte sie leise", 0, NULL);
    expect(de, "Caf\u00e9 cr\u00e8me", "cafe creme", 0, NULL);
    expect(de, "gibt's", "gibt's", 0, NULL);
    expect(de, "Am 3. Mai", NULL, NK_ERR_FORMAT, "digit ('3')");
    nk_alphabet_free(de);

    /* A German alphabet without apostrophe: apostrophes separate words. */
    const char *syms[] = {"_", " ", "a", "b", "e", "g", "i", "s", "t", "ä"};
    nk_alphabet *small;
    CHECK_OK(nk_alphabet_new(syms, 10, &small));
    expect(small, "gibt's \u00e4s", "gibt s äs", 0, NULL);
    expect(small, "\u00df", "ss", 0, NULL);
    expect(small, "\u00f6", NULL, NK_ERR_FORMAT, "unknown character '\u00f6' (U+00F6)");
    nk_alphabet_free(small);
}

static void test_utf8_decode(void) {
    unsigned cp;
    CHECK(nk_utf8_decode("a", 1, &cp) == 1 && cp == 'a');
    CHECK(nk_utf8_decode("\u00e4", 2, &cp) == 2 && cp == 0xE4);
    CHECK(nk_utf8_decode("\u20ac", 3, &cp) == 3 && cp == 0x20AC);
    CHECK(nk_utf8_decode("\U0001F600", 4, &cp) == 4 && cp == 0x1F600);
    CHECK(nk_utf8_decode("\u20ac", 2, &cp) == 0);       // truncated
    CHECK(nk_utf8_decode("\xed\xa0\x80", 3, &cp) == 0); // surrogate
    CHECK(nk_utf8_decode("\x80", 1, &cp) == 0);         // stray continuation
    CHECK(nk_utf8_decode("", 0, &cp) == 0);
}

int main(void) {
    RUN(test_builtin_alphabets);
    RUN(test_alphabet_validation);
    RUN(test_encode_decode);
    RUN(test_normalize_english);
    RUN(test_normalize_german);
    RUN(test_utf8_decode);
    return check_summary();
}
