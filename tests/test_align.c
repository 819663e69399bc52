/* Alignment → events on hand-made log-prob matrices: letter, word and phoneme
 * spans worked out by hand, silent letters and split groups, delay and
 * clamping, bad input, the TextGrid/CTM/JSON outputs, and the onset quality
 * measure against a hand-made reference. */
#include "check.h"

#include "napkit/align.h"
#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/phoneset.h"

#include <cjson/cJSON.h>

static const char *ALPHA[] = {"_", " ", "a", "b", "c"};
enum { K = 5, BL = 0, SP = 1, A = 2, B = 3, C = 4 };

/* (K, T) log-probs where frame t emits path[t] with probability p and every
 * other class shares the rest. */
static float *peaky(const int *path, int T, double p) {
    float *lp = malloc((size_t)K * T * sizeof *lp);
    for (int t = 0; t < T; t++)
        for (int k = 0; k < K; k++) lp[k * T + t] = (float)log(k == path[t] ? p : (1 - p) / (K - 1));
    return lp;
}

static void config(nk_align_config *c) {
    memset(c, 0, sizeof *c);
    c->alphabet = ALPHA, c->n_classes = K, c->blank = BL, c->separator = SP;
    c->frame_seconds = 0.02;
}

/* "ab c" over 12 frames: _ _ a _ _ b _ ␣ _ c _ _ */
static const int PATH[12] = {BL, BL, A, BL, BL, B, BL, SP, BL, C, BL, BL};
static const int LABELS[4] = {A, B, SP, C};

static void test_phone_spans_by_hand(void) {
    /* ship: sh|ʃ i|ɪ p|p, letters [0,2) [2,3) [3,5) [5,8) */
    double s1[] = {0, 2, 3, 5}, e1[] = {2, 3, 5, 8}, ps[8], pe[8];
    int car[8];
    nk_lp_group g1[] = {{0, 2, 0, 1}, {2, 1, 1, 1}, {3, 1, 2, 1}};
    double ship[][2] = {{0, 3}, {3, 5}, {5, 8}};
    nk_align_phone_spans(s1, e1, g1, 3, ps, pe, car);
    for (int p = 0; p < 3; p++) CHECK(ps[p] == ship[p][0] && pe[p] == ship[p][1]);
    CHECK(car[0] == 0 && car[1] == 2 && car[2] == 3);
    /* knight: k|- n|n i|aɪ g|- h|- t|t, one frame per letter: the silent k
     * goes to n (word start), g and h to aɪ */
    double s2[] = {0, 1, 2, 3, 4, 5}, e2[] = {1, 2, 3, 4, 5, 6};
    nk_lp_group g2[] = {{0, 1, 0, 0}, {1, 1, 0, 1}, {2, 1, 1, 1}, {3, 1, 2, 0}, {4, 1, 2, 0}, {5, 1, 2, 1}};
    double knight[][2] = {{0, 2}, {2, 5}, {5, 6}};
    nk_align_phone_spans(s2, e2, g2, 6, ps, pe, car);
    for (int p = 0; p < 3; p++) CHECK(ps[p] == knight[p][0] && pe[p] == knight[p][1]);
    CHECK(car[0] == 1 && car[1] == 2 && car[2] == 5);
    /* box: b|b o|ɑ x|k s — the two phonemes of x share its span */
    double s3[] = {0, 2, 4}, e3[] = {2, 4, 8};
    nk_lp_group g3[] = {{0, 1, 0, 1}, {1, 1, 1, 1}, {2, 1, 2, 2}};
    double box[][2] = {{0, 2}, {2, 4}, {4, 6}, {6, 8}};
    nk_align_phone_spans(s3, e3, g3, 3, ps, pe, car);
    for (int p = 0; p < 4; p++) CHECK(ps[p] == box[p][0] && pe[p] == box[p][1]);
    CHECK(car[2] == 2 && car[3] == 2);
}

static void test_letters_and_words(void) {
    nk_align_config c;
    config(&c);
    float *lp = peaky(PATH, 12, 0.9);
    nk_align_result r;
    CHECK_OK(nk_align_utterance(&c, lp, 12, LABELS, 4, 0, &r));
    /* a [2,5) b [5,7) ␣ [7,9); c is last: median of 3, 2, 2 frames = 2 → [9,11) */
    double want[][3] = {{0.04, 0.10, 0.04}, {0.10, 0.14, 0.10}, {0.18, 0.22, 0.18}};
    const char *sym[] = {"a", "b", "c"};
    CHECK(r.n[NK_TIER_LETTERS] == 3 && r.n[NK_TIER_WORDS] == 2 && r.n[NK_TIER_PHONES] == 0);
    for (int i = 0; i < 3 && i < r.n[NK_TIER_LETTERS]; i++) {
        const nk_align_event *e = &r.ev[NK_TIER_LETTERS][i];
        CHECK_NEAR(e->start, want[i][0], 1e-9);
        CHECK_NEAR(e->end, want[i][1], 1e-9);
        CHECK_NEAR(e->peak, want[i][2], 1e-9);
        CHECK_NEAR(e->confidence, 0.9, 1e-5);
        CHECK(!strcmp(e->label, sym[i]) && !strcmp(e->letter, sym[i]) && e->phone == -1);
        CHECK(e->word == (i < 2 ? 0 : 1));
    }
    const nk_align_event *w = r.ev[NK_TIER_WORDS];
    CHECK(!strcmp(w[0].label, "ab") && !strcmp(w[1].label, "c") && !w[0].letter);
    CHECK_NEAR(w[0].start, 0.04, 1e-9);
    CHECK_NEAR(w[0].end, 0.14, 1e-9);
    CHECK_NEAR(w[1].start, 0.18, 1e-9);
    CHECK_NEAR(w[1].end, 0.22, 1e-9);
    CHECK_NEAR(r.confidence, 0.9, 1e-5);
    CHECK_NEAR(r.path_confidence, 0.9, 1e-5); /* every frame of the path has posterior 0.9 */
    CHECK_NEAR(r.duration, 0.24, 1e-9);
    nk_align_result_free(&r);

    /* a 50 ms delay moves everything earlier, clamped at 0; a 0.2 s utterance clamps c's end */
    c.delay = 0.05;
    CHECK_OK(nk_align_utterance(&c, lp, 12, LABELS, 4, 0.2, &r));
    const nk_align_event *e = r.ev[NK_TIER_LETTERS];
    CHECK(e[0].start == 0 && e[0].peak == 0);
    CHECK_NEAR(e[0].end, 0.05, 1e-9);
    CHECK_NEAR(e[2].start, 0.13, 1e-9);
    CHECK_NEAR(e[2].end, 0.17, 1e-9);
    nk_align_result_free(&r);
    c.delay = 0;
    CHECK_OK(nk_align_utterance(&c, lp, 12, LABELS, 4, 0.2, &r));
    CHECK_NEAR(r.ev[NK_TIER_LETTERS][2].end, 0.2, 1e-9);
    nk_align_result_free(&r);

    /* midway: boundaries at 4, 6.5 (space), 8.5; a reaches back by the median
     * lead 0.5 to 1.5, c runs for the median length 2.5 */
    c.midway = 1;
    CHECK_OK(nk_align_utterance(&c, lp, 12, LABELS, 4, 0, &r));
    double mid[][3] = {{0.03, 0.08, 0.04}, {0.08, 0.13, 0.10}, {0.17, 0.22, 0.18}};
    for (int i = 0; i < 3; i++) {
        CHECK_NEAR(r.ev[NK_TIER_LETTERS][i].start, mid[i][0], 1e-9);
        CHECK_NEAR(r.ev[NK_TIER_LETTERS][i].end, mid[i][1], 1e-9);
        CHECK_NEAR(r.ev[NK_TIER_LETTERS][i].peak, mid[i][2], 1e-9);
    }
    CHECK_NEAR(r.ev[NK_TIER_WORDS][0].end, 0.13, 1e-9);
    nk_align_result_free(&r);
    free(lp);
}

/* A config with phonemes: a lexicon in plain CMUdict format and the prior
 * letter-phoneme model. */
typedef struct {
    nk_align_config c;
    nk_lexicon *lex;
    nk_lp_model *lp;
} phonetic;

static void phonetic_open(phonetic *ph) {
    char path[256];
    snprintf(path, sizeof path, "%s/tiny.dict", check_tmpdir());
    const char *dict = "AB  AE1 B\nC  S IY1\n";
    CHECK_OK(nk_write_file(path, dict, strlen(dict)));
    CHECK_OK(nk_lexicon_load(path, &ph->lex));
    CHECK_OK(nk_lp_prior(&ph->lp));
    config(&ph->c);
    ph->c.lexicon = ph->lex, ph->c.lp = ph->lp, ph->c.voice = "en-us";
}

static void phonetic_close(phonetic *ph) {
    nk_lp_model_free(ph->lp);
    nk_lexicon_free(ph->lex);
}

/* "ab c" aligned with phonemes at posterior 0.8. */
static void align_with_phones(double duration, nk_align_result *r) {
    phonetic ph;
    phonetic_open(&ph);
    float *lp = peaky(PATH, 12, 0.8);
    CHECK_OK(nk_align_utterance(&ph.c, lp, 12, LABELS, 4, duration, r));
    free(lp);
    phonetic_close(&ph);
}

static void test_phones(void) {
    nk_align_result r;
    align_with_phones(0, &r);
    /* ab → a|æ b|b; c → c|s i: s and i share c's [0.18, 0.22) */
    int ids[] = {nk_phone_by_arpabet("AE", NULL), nk_phone_by_arpabet("B", NULL), nk_phone_by_arpabet("S", NULL),
                 nk_phone_by_arpabet("IY", NULL)};
    double want[][2] = {{0.04, 0.10}, {0.10, 0.14}, {0.18, 0.20}, {0.20, 0.22}};
    const char *letter[] = {"a", "b", "c", "c"};
    CHECK(r.n[NK_TIER_PHONES] == 4);
    for (int i = 0; i < 4 && i < r.n[NK_TIER_PHONES]; i++) {
        const nk_align_event *e = &r.ev[NK_TIER_PHONES][i];
        CHECK(e->phone == ids[i] && !strcmp(e->label, nk_phone_at(ids[i])->ipa));
        CHECK(!strcmp(e->letter, letter[i]));
        CHECK_NEAR(e->start, want[i][0], 1e-9);
        CHECK_NEAR(e->end, want[i][1], 1e-9);
        CHECK(e->peak >= e->start && e->peak <= e->end);
        CHECK_NEAR(e->confidence, 0.8, 1e-5);
    }
    /* i's span starts after c's spike: its peak is clamped to its start */
    if (r.n[NK_TIER_PHONES] == 4) CHECK_NEAR(r.ev[NK_TIER_PHONES][3].peak, 0.20, 1e-9);
    nk_align_result_free(&r);
}

static void test_bad_input(void) {
    nk_align_config c;
    config(&c);
    float *lp = peaky(PATH, 12, 0.9);
    nk_align_result r;
    int aa[] = {A, A, A, A, A, A, A};
    CHECK(nk_align_utterance(&c, lp, 12, aa, 7, 0, &r) == NK_ERR_INFEASIBLE);
    CHECK(strstr(nk_last_error(), "12 frames are too few to align 7 letters") != NULL);
    CHECK(r.n[NK_TIER_LETTERS] == 0 && !r.words);
    int blank[] = {A, BL};
    CHECK(nk_align_utterance(&c, lp, 12, blank, 2, 0, &r) == NK_ERR_ARG);
    int out_of_range[] = {A, 9};
    CHECK(nk_align_utterance(&c, lp, 12, out_of_range, 2, 0, &r) == NK_ERR_ARG);
    CHECK(nk_align_utterance(&c, lp, 12, LABELS, 0, 0, &r) == NK_ERR_ARG);
    for (int i = 0; i < K * 12; i++) lp[i] = NAN;
    CHECK(nk_align_utterance(&c, lp, 12, LABELS, 4, 0, &r) != NK_OK);
    free(lp);

    /* a word the lexicon lacks and espeak-ng cannot say is named */
    phonetic ph;
    phonetic_open(&ph);
    lp = peaky(PATH, 12, 0.9);
    ph.c.voice = "no-such-voice";
    int bc[] = {B, C};
    CHECK(nk_align_utterance(&ph.c, lp, 12, bc, 2, 0, &r) != NK_OK);
    CHECK(strstr(nk_last_error(), "word \"bc\"") != NULL);
    free(lp);
    phonetic_close(&ph);
}

static void test_outputs(void) {
    nk_align_result r;
    align_with_phones(0.25, &r);
    const char *dir = check_tmpdir();
    char path[300];

    /* TextGrid: three tiers covering [0, 0.25] with pauses as empty intervals */
    nk_textgrid *tg, *back;
    CHECK_OK(nk_align_textgrid(&r, 1, &tg));
    snprintf(path, sizeof path, "%s/u.TextGrid", dir);
    CHECK_OK(nk_textgrid_write(path, tg));
    CHECK_OK(nk_textgrid_read(path, &back));
    const nk_tier *words = nk_textgrid_tier(back, "words"), *letters = nk_textgrid_tier(back, "letters"),
                  *phones = nk_textgrid_tier(back, "phones");
    CHECK(words && letters && phones && back->n_tiers == 3);
    CHECK_NEAR(back->xmax, 0.25, 1e-9);
    if (words && letters && phones) {
        const char *wl[] = {"", "ab", "", "c", ""};
        CHECK(words->n == 5);
        for (int i = 0; i < 5 && i < words->n; i++) CHECK(!strcmp(words->iv[i].text, wl[i]));
        CHECK_NEAR(words->iv[1].xmin, 0.04, 1e-9);
        CHECK_NEAR(words->iv[3].xmax, 0.22, 1e-9);
        const char *ll[] = {"", "a", "b", "", "c", ""};
        CHECK(letters->n == 6);
        for (int i = 0; i < 6 && i < letters->n; i++) CHECK(!strcmp(letters->iv[i].text, ll[i]));
        const char *pl[] = {"", "AE", "B", "", "S", "IY", ""}; /* --phone-set arpabet */
        CHECK(phones->n == 7);
        for (int i = 0; i < 7 && i < phones->n; i++) CHECK(!strcmp(phones->iv[i].text, pl[i]));
    }
    nk_textgrid_free(tg);
    nk_textgrid_free(back);

    /* CTM: "utt 1 start duration label confidence" */
    char *text;
    size_t size;
    nk_outfile f;
    snprintf(path, sizeof path, "%s/words.ctm", dir);
    CHECK_OK(nk_outfile_open(&f, path, 1));
    CHECK_OK(nk_align_write_ctm(f.fp, "u1", &r, NK_TIER_WORDS, 0));
    CHECK_OK(nk_align_write_ctm(f.fp, "u1", &r, NK_TIER_PHONES, 0));
    CHECK_OK(nk_outfile_commit(&f));
    CHECK_OK(nk_read_file(path, &text, &size));
    CHECK(!strcmp(text, "u1 1 0.040 0.100 ab 0.800\nu1 1 0.180 0.040 c 0.800\n"
                        "u1 1 0.040 0.060 æ 0.800\nu1 1 0.100 0.040 b 0.800\n"
                        "u1 1 0.180 0.020 s 0.800\nu1 1 0.200 0.020 i 0.800\n"));
    free(text);

    /* events: one JSON object per line, the fixed format */
    snprintf(path, sizeof path, "%s/events.jsonl", dir);
    CHECK_OK(nk_outfile_open(&f, path, 1));
    CHECK_OK(nk_align_write_events(f.fp, "u1", &r));
    CHECK_OK(nk_outfile_commit(&f));
    CHECK_OK(nk_read_file(path, &text, &size));
    int lines = 0, phones_seen = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        CHECK(o != NULL);
        if (!o) continue;
        lines++;
        const char *tier = cJSON_GetObjectItem(o, "tier")->valuestring;
        const char *label = cJSON_GetObjectItem(o, "label")->valuestring;
        double start = cJSON_GetObjectItem(o, "start")->valuedouble, end = cJSON_GetObjectItem(o, "end")->valuedouble,
               peak = cJSON_GetObjectItem(o, "peak")->valuedouble;
        CHECK(!strcmp(cJSON_GetObjectItem(o, "utt")->valuestring, "u1"));
        CHECK(start <= peak && peak <= end);
        CHECK_NEAR(cJSON_GetObjectItem(o, "confidence")->valuedouble, 0.8, 1e-9);
        cJSON *letter = cJSON_GetObjectItem(o, "letter"), *cls = cJSON_GetObjectItem(o, "class"),
              *arpa = cJSON_GetObjectItem(o, "phone_arpabet");
        if (!strcmp(tier, "phones") && !strcmp(label, "s")) {
            phones_seen++;
            CHECK(!strcmp(letter->valuestring, "c") && !strcmp(cls->valuestring, "fricative"));
            CHECK(!strcmp(arpa->valuestring, "S"));
            CHECK_NEAR(start, 0.18, 1e-9);
            CHECK_NEAR(end, 0.2, 1e-9);
            CHECK_NEAR(peak, 0.18, 1e-9);
        } else if (!strcmp(tier, "phones") && !strcmp(label, "æ")) {
            phones_seen++;
            CHECK(!strcmp(cls->valuestring, "vowel") && !strcmp(arpa->valuestring, "AE"));
        } else if (!strcmp(tier, "words")) {
            CHECK(!letter && !cls && !arpa);
        } else if (!strcmp(tier, "letters")) {
            CHECK(!strcmp(letter->valuestring, label) && !cls);
        }
        cJSON_Delete(o);
    }
    CHECK(lines == 2 + 3 + 4 && phones_seen == 2);
    free(text);
    nk_align_result_free(&r);
}

/* A result holding phonemes (IPA) at the given onsets, 0.1 s each. */
static nk_align_result phones_at(const char *const *ipa, const double *onset, int n) {
    nk_align_result r = {0};
    r.ev[NK_TIER_PHONES] = calloc((size_t)n, sizeof(nk_align_event));
    r.n[NK_TIER_PHONES] = n;
    for (int i = 0; i < n; i++) {
        int id = nk_phone_by_ipa(ipa[i]);
        r.ev[NK_TIER_PHONES][i] = (nk_align_event){ipa[i], onset[i], onset[i] + 0.1, onset[i], 1, "x", id, 0};
    }
    return r;
}

static void test_quality_by_hand(void) {
    /* reference k æ t ə b (espeak-style ɐ for the ə), with a pause */
    nk_textgrid *ref;
    int t;
    CHECK_OK(nk_textgrid_new(0, 1, &ref));
    CHECK_OK(nk_textgrid_add_tier(ref, "words", &t));
    CHECK_OK(nk_textgrid_add_tier(ref, "phones", &t));
    const char *rl[] = {"k", "æ", "t", "ɐ", "", "b"};
    double rs[] = {0.10, 0.20, 0.30, 0.40, 0.5, 0.60};
    for (int i = 0; i < 6; i++) CHECK_OK(nk_textgrid_append(ref, t, rs[i], i < 5 ? rs[i] + 0.1 : 0.7, rl[i]));
    CHECK_OK(nk_textgrid_finish(ref));
    /* predicted k æ ʃ ə ɪ b: ʃ against t is a different class (not matched),
     * ɪ is an insertion; matched errors k +0.01, æ −0.03, ə +0.06, b +0.015 */
    const char *pl[] = {"k", "æ", "ʃ", "ə", "ɪ", "b"};
    double po[] = {0.11, 0.17, 0.30, 0.46, 0.55, 0.615};
    nk_align_result r = phones_at(pl, po, 6);
    nk_align_quality *q;
    CHECK_OK(nk_align_quality_new(&q));
    CHECK_OK(nk_align_quality_add(q, &r, ref));
    nk_onset_stats s;
    nk_align_quality_stats(q, -1, &s);
    CHECK(s.n_ref == 5 && s.n_pred == 6 && s.n_matched == 4);
    CHECK_NEAR(s.within_20ms, 0.5, 1e-12);
    CHECK_NEAR(s.within_50ms, 0.75, 1e-12);
    CHECK_NEAR(s.median_abs, 0.5 * (0.015 + 0.03), 1e-9);
    CHECK_NEAR(s.median_signed, 0.5 * (0.01 + 0.015), 1e-9);
    CHECK_NEAR(s.mean_signed, (0.01 - 0.03 + 0.06 + 0.015) / 4, 1e-9);
    nk_align_quality_stats(q, NK_PC_PLOSIVE, &s);
    CHECK(s.n_ref == 3 && s.n_pred == 2 && s.n_matched == 2);
    CHECK_NEAR(s.within_20ms, 1, 1e-12);
    nk_align_quality_stats(q, NK_PC_VOWEL, &s);
    CHECK(s.n_matched == 2);
    CHECK_NEAR(s.median_abs, 0.045, 1e-9);
    nk_align_quality_stats(q, NK_PC_NASAL, &s);
    CHECK(s.n_matched == 0 && isnan(s.within_50ms) && isnan(s.median_abs));
    /* a second utterance adds up; a reference without phones fails */
    CHECK_OK(nk_align_quality_add(q, &r, ref));
    nk_align_quality_stats(q, -1, &s);
    CHECK(s.n_ref == 10 && s.n_matched == 8);
    nk_textgrid *bare;
    CHECK_OK(nk_textgrid_new(0, 1, &bare));
    CHECK(nk_align_quality_add(q, &r, bare) == NK_ERR_FORMAT);
    nk_textgrid_free(bare);
    nk_textgrid_free(ref);
    nk_align_quality_free(q);
    nk_align_result_free(&r);
}

int main(void) {
    RUN(test_phone_spans_by_hand);
    RUN(test_letters_and_words);
    RUN(test_phones);
    RUN(test_bad_input);
    RUN(test_outputs);
    RUN(test_quality_by_hand);
    return check_summary();
}
