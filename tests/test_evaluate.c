/* Recognition errors laid out: reference vs hypothesis by Needleman–Wunsch. */
#include "check.h"

#include "napkit/napkit.h"

static void expect_alignment(const char *ref, const char *hyp, const char *want_ref, const char *want_hyp) {
    char *r = NULL, *h = NULL;
    CHECK_OK(nk_transcript_align(ref, hyp, &r, &h));
    if (!r || !h || strcmp(r, want_ref) != 0 || strcmp(h, want_hyp) != 0) {
        fprintf(stderr, "  \"%s\" vs \"%s\": got \"%s\" / \"%s\", want \"%s\" / \"%s\"\n", ref, hyp,
                r ? r : "(null)", h ? h : "(null)", want_ref, want_hyp);
        CHECK(0);
    }
    free(r);
    free(h);
}

static void test_hand_worked(void) {
    expect_alignment("the cat", "th cut", "the cat", "th* cut");   /* deletion, substitution */
    expect_alignment("a cat", "a cart", "a ca*t", "a cart");        /* insertion */
    expect_alignment("schön", "schon", "schön", "schon");            /* one code point each */
    expect_alignment("straße", "strasse", "stra*ße", "strasse");     /* ß → ss: sub + ins */
    expect_alignment("ab", "", "ab", "**");
    expect_alignment("", "xy", "**", "xy");
    expect_alignment("", "", "", "");
}

static void test_bad_utf8(void) {
    char *r, *h;
    CHECK(nk_transcript_align("ok", "bad \xff", &r, &h) == NK_ERR_FORMAT);
    CHECK(r == NULL && h == NULL);
    CHECK(strstr(nk_last_error(), "invalid UTF-8") != NULL);
}

int main(void) {
    RUN(test_hand_worked);
    RUN(test_bad_utf8);
    return check_summary();
}
