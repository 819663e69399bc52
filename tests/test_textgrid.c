/* TextGrids: building, validation, writing and reading Praat's long and short
 * formats, and clear errors on broken files (hand-written Praat fixtures in
 * tests/fixtures/corpus/textgrid/). */
#include "check.h"

#include "napkit/napkit.h"

#include <stdlib.h>
#include <string.h>

#define FIX "tests/fixtures/corpus/textgrid/"

static void test_build_fills_gaps(void) {
    nk_textgrid *tg;
    int w, p;
    CHECK_OK(nk_textgrid_new(0, 2.0, &tg));
    CHECK_OK(nk_textgrid_add_tier(tg, "words", &w));
    CHECK_OK(nk_textgrid_add_tier(tg, "phones", &p));
    CHECK(w == 0 && p == 1);
    CHECK_OK(nk_textgrid_append(tg, w, 0.2, 0.9, "hello"));
    CHECK_OK(nk_textgrid_append(tg, w, 0.9, 1.5, "world"));
    CHECK_OK(nk_textgrid_append(tg, p, 0.2, 0.5, "h"));
    CHECK_OK(nk_textgrid_append(tg, p, 0.5, 0.5, "x"));  // zero length: dropped
    CHECK_OK(nk_textgrid_append(tg, p, 0.6, 0.7, ""));   // gap then silence: one empty interval
    CHECK_OK(nk_textgrid_append(tg, p, 0.7, 0.9, "oʊ"));
    /* Before finishing, the tiers stop short of xmax. */
    CHECK(nk_textgrid_validate(tg) == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), "not at xmax"));
    CHECK_OK(nk_textgrid_finish(tg));
    CHECK_OK(nk_textgrid_validate(tg));
    const nk_tier *tw = nk_textgrid_tier(tg, "words"), *tp = nk_textgrid_tier(tg, "phones");
    CHECK(tw && tp && !nk_textgrid_tier(tg, "nope"));
    /* words: "" [0,.2) hello [.2,.9) world [.9,1.5) "" [1.5,2] */
    CHECK(tw->n == 4);
    CHECK(!strcmp(tw->iv[0].text, "") && tw->iv[0].xmax == 0.2);
    CHECK(!strcmp(tw->iv[1].text, "hello") && !strcmp(tw->iv[2].text, "world"));
    CHECK(!strcmp(tw->iv[3].text, "") && tw->iv[3].xmin == 1.5 && tw->iv[3].xmax == 2.0);
    /* phones: "" h "" oʊ "" */
    CHECK(tp->n == 5);
    CHECK(!strcmp(tp->iv[2].text, "") && tp->iv[2].xmin == 0.5 && tp->iv[2].xmax == 0.7);
    CHECK(!strcmp(tp->iv[3].text, "oʊ"));
    /* Overlaps, reversal and leaving the range are refused. */
    CHECK(nk_textgrid_append(tg, w, 1.0, 1.8, "late") == NK_ERR_ARG);
    CHECK(nk_textgrid_append(tg, w, 2.0, 2.5, "past") == NK_ERR_ARG);
    CHECK(nk_textgrid_append(tg, 7, 0, 1, "x") == NK_ERR_ARG);
    nk_textgrid_free(tg);
    CHECK(nk_textgrid_new(1, 1, &tg) == NK_ERR_ARG);
    CHECK(nk_textgrid_new(0, NAN, &tg) == NK_ERR_ARG);
}

static void test_write_read_roundtrip(void) {
    nk_textgrid *tg, *back;
    int w, p;
    CHECK_OK(nk_textgrid_new(0, 1.2345678901, &tg));
    CHECK_OK(nk_textgrid_add_tier(tg, "words", &w));
    CHECK_OK(nk_textgrid_add_tier(tg, "phones", &p));
    CHECK_OK(nk_textgrid_append(tg, w, 0.011, 0.7, "say \"grüße\""));
    CHECK_OK(nk_textgrid_append(tg, p, 0.011, 0.1, "s"));
    CHECK_OK(nk_textgrid_append(tg, p, 0.1, 0.3, "eɪ"));
    CHECK_OK(nk_textgrid_append(tg, p, 0.3, 0.7, "ɡʁyːsə"));
    CHECK_OK(nk_textgrid_finish(tg));
    char path[256];
    snprintf(path, sizeof path, "%s/roundtrip.TextGrid", check_tmpdir());
    CHECK_OK(nk_textgrid_write(path, tg));
    CHECK_OK(nk_textgrid_read(path, &back));
    CHECK(back != NULL);
    if (back) {
        CHECK(back->n_tiers == 2);
        CHECK_NEAR(back->xmax, tg->xmax, 1e-12);
        for (int t = 0; t < 2 && back->n_tiers == 2; t++) {
            CHECK(!strcmp(back->tiers[t].name, tg->tiers[t].name));
            CHECK(back->tiers[t].n == tg->tiers[t].n);
            for (int i = 0; i < tg->tiers[t].n && i < back->tiers[t].n; i++) {
                CHECK_NEAR(back->tiers[t].iv[i].xmin, tg->tiers[t].iv[i].xmin, 1e-12);
                CHECK_NEAR(back->tiers[t].iv[i].xmax, tg->tiers[t].iv[i].xmax, 1e-12);
                CHECK(!strcmp(back->tiers[t].iv[i].text, tg->tiers[t].iv[i].text));
            }
        }
    }
    /* The file is Praat's long format with doubled quotes. */
    char *text;
    CHECK_OK(nk_read_file(path, &text, NULL));
    CHECK(text && !strncmp(text, "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n", 51));
    CHECK(text && strstr(text, "text = \"say \"\"grüße\"\"\""));
    CHECK(text && strstr(text, "intervals: size = 5"));
    free(text);
    nk_textgrid_free(back);
    /* An invalid grid is not written. */
    nk_textgrid *open;
    CHECK_OK(nk_textgrid_new(0, 1, &open));
    CHECK_OK(nk_textgrid_add_tier(open, "words", &w));
    snprintf(path, sizeof path, "%s/invalid.TextGrid", check_tmpdir());
    CHECK(nk_textgrid_write(path, open) == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), "invalid.TextGrid") && strstr(nk_last_error(), "no intervals"));
    nk_textgrid_free(open);
    nk_textgrid_free(tg);
}

static void test_read_praat_files(void) {
    nk_textgrid *tg;
    CHECK_OK(nk_textgrid_read(FIX "praat_long.TextGrid", &tg));
    if (tg) {
        /* The point tier is skipped; the interval tiers keep their order. */
        CHECK(tg->n_tiers == 2);
        CHECK(tg->xmin == 0 && tg->xmax == 1.5);
        const nk_tier *w = nk_textgrid_tier(tg, "words"), *p = nk_textgrid_tier(tg, "phones");
        CHECK(w && w->n == 3 && !strcmp(w->iv[1].text, "grüße \"quoted\""));
        CHECK(w && w->iv[1].xmin == 0.25 && w->iv[1].xmax == 1.1);
        CHECK(p && p->n == 4 && !strcmp(p->iv[1].text, "ɡ") && !strcmp(p->iv[2].text, "ʁyːsə"));
        nk_textgrid_free(tg);
    }
    CHECK_OK(nk_textgrid_read(FIX "praat_short.TextGrid", &tg));
    if (tg) {
        CHECK(tg->n_tiers == 1 && tg->tiers[0].n == 2);
        CHECK(!strcmp(tg->tiers[0].iv[0].text, "hello") && tg->tiers[0].iv[0].xmax == 0.75);
        CHECK(!strcmp(tg->tiers[0].iv[1].text, "world") && tg->tiers[0].iv[1].xmax == 2);
        nk_textgrid_free(tg);
    }
}

/* A broken file fails with the file's name and the reason in the message. */
static void expect_broken(const char *name, const char *reason) {
    char path[256];
    snprintf(path, sizeof path, FIX "%s", name);
    nk_textgrid *tg = (nk_textgrid *)1;
    int rc = nk_textgrid_read(path, &tg);
    CHECK(rc == NK_ERR_FORMAT || rc == NK_ERR_IO);
    CHECK(tg == NULL);
    if (!strstr(nk_last_error(), name) || !strstr(nk_last_error(), reason))
        fprintf(stderr, "  %s: got \"%s\", want it to name the file and say \"%s\"\n", name,
                nk_last_error(), reason);
    CHECK(strstr(nk_last_error(), name) && strstr(nk_last_error(), reason));
}

static void test_read_broken_files(void) {
    expect_broken("gap.TextGrid", "gap or overlap");
    expect_broken("overlap.TextGrid", "gap or overlap");
    expect_broken("truncated.TextGrid", "expected");
    expect_broken("unterminated.TextGrid", "unterminated string");
    expect_broken("not_textgrid.TextGrid", "not \"TextGrid\"");
    expect_broken("beyond_xmax.TextGrid", "not at xmax");
    expect_broken("missing.TextGrid", "cannot open");
    /* Garbage and UTF-16 inputs. */
    char path[256];
    snprintf(path, sizeof path, "%s/garbage.TextGrid", check_tmpdir());
    CHECK_OK(nk_write_file(path, "\x01\x02\x00\x03", 4));
    nk_textgrid *tg;
    CHECK(nk_textgrid_read(path, &tg) == NK_ERR_FORMAT && !tg);
    snprintf(path, sizeof path, "%s/utf16.TextGrid", check_tmpdir());
    CHECK_OK(nk_write_file(path, "\xff\xfe" "F\0i\0", 6));
    CHECK(nk_textgrid_read(path, &tg) == NK_ERR_FORMAT && strstr(nk_last_error(), "UTF-16"));
    snprintf(path, sizeof path, "%s/huge_count.TextGrid", check_tmpdir());
    const char *huge = "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n0\n1\n<exists>\n1\n"
                       "\"IntervalTier\"\n\"w\"\n0\n1\n99999999999\n";
    CHECK_OK(nk_write_file(path, huge, strlen(huge)));
    CHECK(nk_textgrid_read(path, &tg) == NK_ERR_FORMAT && strstr(nk_last_error(), "bad interval count"));
}

int main(void) {
    RUN(test_build_fills_gaps);
    RUN(test_write_read_roundtrip);
    RUN(test_read_praat_files);
    RUN(test_read_broken_files);
    return check_summary();
}
