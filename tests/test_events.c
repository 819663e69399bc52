/* Events files: reading (with malformed lines), writing, and letter events
 * from a CTC forced alignment. */
#include "check.h"

#include "napkit/napkit.h"

#include <math.h>

static char *tmp_path(const char *name) { return nk_path_join(check_tmpdir(), name); }

static void test_read_good_and_bad_lines(void) {
    char *p = tmp_path("events.jsonl");
    const char *text =
        "{\"utt\": \"u1\", \"tier\": \"phones\", \"label\": \"\xca\x83\", \"start\": 0.412, \"end\": 0.498,"
        " \"peak\": 0.450, \"confidence\": 0.83, \"letter\": \"s\", \"class\": \"fricative\"}\n"
        "\n"
        "{\"utt\": \"u1\", \"tier\": \"letters\", \"label\": \"a\", \"start\": 1, \"end\": 1.2}\r\n"
        "{\"utt\": \"u2\", \"tier\": \"syllables\", \"label\": \"a\", \"start\": 0, \"end\": 1}\n"
        "{\"utt\": \"u2\", \"tier\": \"words\", \"label\": \"hello\", \"start\": 0.5, \"end\": 0.2}\n"
        "{\"utt\": \"u2\", \"tier\": \"words\", \"label\": \"hello\", \"start\": 0.1, \"end\": 0.2, \"peak\": 0.3}\n"
        "not json at all\n"
        "[1, 2]\n"
        "{\"tier\": \"words\", \"label\": \"x\", \"start\": 0, \"end\": 1}\n"
        "{\"utt\": \"u3\", \"tier\": \"words\", \"label\": \"x\", \"start\": \"0\", \"end\": 1}\n"
        "{\"utt\": \"u3\", \"tier\": \"words\", \"label\": \"x\", \"start\": 0, \"end\": 1, \"letter\": 5}\n"
        "{\"utt\": \"u4\", \"tier\": \"words\", \"label\": \"last\", \"start\": 2, \"end\": 3}"; /* no newline */
    CHECK_OK(nk_write_file(p, text, strlen(text)));
    nk_events e;
    CHECK_OK(nk_events_read(p, &e));
    CHECK(e.n == 3);
    CHECK(e.n_skipped == 8);
    if (e.n == 3) {
        CHECK(!strcmp(e.ev[0].utt, "u1") && e.ev[0].tier == NK_TIER_PHONES && !strcmp(e.ev[0].label, "\xca\x83"));
        CHECK_NEAR(e.ev[0].start, 0.412, 1e-12);
        CHECK_NEAR(e.ev[0].peak, 0.450, 1e-12);
        CHECK_NEAR(e.ev[0].confidence, 0.83, 1e-12);
        CHECK(!strcmp(e.ev[0].letter, "s") && !strcmp(e.ev[0].cls, "fricative"));
        /* peak defaults to the centre, confidence to 1, letter and class to NULL */
        CHECK_NEAR(e.ev[1].peak, 1.1, 1e-12);
        CHECK_NEAR(e.ev[1].confidence, 1, 0);
        CHECK(e.ev[1].letter == NULL && e.ev[1].cls == NULL && e.ev[1].tier == NK_TIER_LETTERS);
        CHECK(!strcmp(e.ev[2].label, "last"));
    }
    if (e.n_skipped == 8) {
        /* file:line and the reason */
        char want[512];
        snprintf(want, sizeof want, "%s:4: unknown tier", p);
        CHECK(!strncmp(e.skipped[0], want, strlen(want)));
        CHECK(strstr(e.skipped[1], ":5: ") && strstr(e.skipped[1], "span"));
        CHECK(strstr(e.skipped[2], ":6: ") && strstr(e.skipped[2], "peak"));
        CHECK(strstr(e.skipped[3], ":7: ") && strstr(e.skipped[3], "not valid JSON"));
        CHECK(strstr(e.skipped[4], ":8: ") && strstr(e.skipped[4], "object"));
        CHECK(strstr(e.skipped[5], ":9: ") && strstr(e.skipped[5], "\"utt\" is missing"));
        CHECK(strstr(e.skipped[6], ":10: ") && strstr(e.skipped[6], "\"start\""));
        CHECK(strstr(e.skipped[7], ":11: ") && strstr(e.skipped[7], "\"letter\""));
    }
    /* round trip, with the phone fields an alignment writes */
    nk_event extra = {"u9", NK_TIER_PHONES, "ʃ", 0.412, 0.498, 0.45, 0.833, "s", "fricative", "SH"};
    CHECK_OK(nk_events_add(&e, &extra));
    char *q = tmp_path("events2.jsonl");
    CHECK_OK(nk_events_write(q, &e));
    nk_events f;
    CHECK_OK(nk_events_read(q, &f));
    CHECK(f.n == e.n && f.n_skipped == 0);
    for (size_t i = 0; i < f.n && i < e.n; i++) {
        CHECK(!strcmp(f.ev[i].utt, e.ev[i].utt) && !strcmp(f.ev[i].label, e.ev[i].label));
        CHECK(f.ev[i].start == e.ev[i].start && f.ev[i].end == e.ev[i].end && f.ev[i].peak == e.ev[i].peak);
        CHECK((f.ev[i].letter == NULL) == (e.ev[i].letter == NULL));
    }
    const nk_event *last = f.n ? &f.ev[f.n - 1] : NULL;
    CHECK(last && last->arpabet && !strcmp(last->arpabet, "SH") && !strcmp(last->cls, "fricative"));
    /* One line, times to the millisecond. */
    char *line = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&line, &len);
    nk_event fine = extra;
    fine.start = 0.41249, fine.confidence = 0.83351;
    CHECK_OK(nk_event_write_line(mem, &fine));
    fclose(mem);
    CHECK(line && strstr(line, "\"start\":0.412,") && strstr(line, "\"confidence\":0.834,") &&
          strstr(line, "\"phone_arpabet\":\"SH\"") && line[len - 1] == '\n');
    free(line);
    nk_events_free(&f);
    nk_events_free(&e);
    free(p), free(q);
}

static void test_read_missing_and_binary(void) {
    nk_events e;
    CHECK(nk_events_read("/nonexistent/events.jsonl", &e) == NK_ERR_IO);
    CHECK(strstr(nk_last_error(), "/nonexistent/events.jsonl") != NULL);
    char *p = tmp_path("binary.jsonl");
    const char bin[] = "{\"utt\": \"u\"\0\xff\xfe}\n\x01\x02\x03\n";
    CHECK_OK(nk_write_file(p, bin, sizeof bin - 1));
    CHECK_OK(nk_events_read(p, &e));
    CHECK(e.n == 0 && e.n_skipped == 2);
    nk_events_free(&e);
    free(p);
}

/* A peaky log-prob matrix: label l is certain on its frames, blank elsewhere. */
static void test_from_alignment(void) {
    const char *alphabet[] = {"_", " ", "a", "b"};
    enum { K = 4, T = 12 };
    int path[T] = {0, 2, 2, 0, 1, 0, 3, 0, 0, 2, 0, 0}; /* "a b a" with blanks */
    float lp[K * T];
    for (int t = 0; t < T; t++)
        for (int k = 0; k < K; k++) lp[k * T + t] = k == path[t] ? logf(0.97f) : logf(0.01f);
    int labels[] = {2, 1, 3, 1, 2};
    nk_events e = {0};
    CHECK_OK(nk_events_from_alignment("utt", lp, K, T, labels, 5, 0, alphabet, " ", 0.02, &e));
    CHECK(e.n == 3);
    if (e.n == 3) {
        CHECK(!strcmp(e.ev[0].label, "a") && !strcmp(e.ev[0].letter, "a") && e.ev[0].tier == NK_TIER_LETTERS);
        CHECK_NEAR(e.ev[0].start, 1 * 0.02, 1e-12);
        CHECK_NEAR(e.ev[0].end, 3 * 0.02, 1e-12);
        CHECK(e.ev[0].peak >= e.ev[0].start && e.ev[0].peak < e.ev[0].end);
        CHECK(!strcmp(e.ev[1].label, "b"));
        CHECK_NEAR(e.ev[1].peak, 6 * 0.02, 1e-12);
        CHECK_NEAR(e.ev[2].peak, 9 * 0.02, 1e-12);
        CHECK(e.ev[2].confidence > 0.9);
    }
    nk_events_free(&e);
    /* too short for its transcript */
    int many[] = {2, 2, 2, 2, 2, 2, 2};
    CHECK(nk_events_from_alignment("short", lp, K, T, many, 7, 0, alphabet, NULL, 0.02, &e) == NK_ERR_INFEASIBLE);
    CHECK(strstr(nk_last_error(), "short") != NULL);
    nk_events_free(&e);
}

int main(void) {
    RUN(test_read_good_and_bad_lines);
    RUN(test_read_missing_and_binary);
    RUN(test_from_alignment);
    return check_summary();
}
