/* Phone set: ARPAbet ↔ IPA round trips, classes, IPA parsing, espeak-ng's
 * German phonemes all known. */
#include "check.h"

#include "napkit/napkit.h"

static const char *const cmudict_phones[] = {
    "AA", "AE", "AH", "AO", "AW", "AY", "B",  "CH", "D", "DH", "EH", "ER", "EY",
    "F",  "G",  "HH", "IH", "IY", "JH", "K",  "L",  "M", "N",  "NG", "OW", "OY",
    "P",  "R",  "S",  "SH", "T",  "TH", "UH", "UW", "V", "W",  "Y",  "Z",  "ZH"};

static void test_cmudict_round_trip(void) {
    int n = (int)(sizeof cmudict_phones / sizeof cmudict_phones[0]);
    CHECK(n == 39);
    for (int i = 0; i < n; i++)
        for (int stress = 0; stress <= 2; stress++) {
            char name[24];
            snprintf(name, sizeof name, "%s%d", cmudict_phones[i], stress);
            int st, id = nk_phone_by_arpabet(name, &st);
            CHECK(id > 0);
            if (id <= 0) continue;
            const nk_phone_info *p = nk_phone_at(id);
            CHECK(st == stress);
            CHECK(!strcmp(p->arpabet, cmudict_phones[i]));
            CHECK(p->canon != NK_CANON_NONE);
            CHECK(nk_phone_by_ipa(p->ipa) == id); /* IPA back to the same row */
        }
    CHECK(!strcmp(nk_phone_at(nk_phone_by_arpabet("AH0", NULL))->ipa, "ə"));
    CHECK(!strcmp(nk_phone_at(nk_phone_by_arpabet("ah1", NULL))->ipa, "ʌ"));
    CHECK(!strcmp(nk_phone_at(nk_phone_by_arpabet("ER0", NULL))->ipa, "ɚ"));
    CHECK(!strcmp(nk_phone_at(nk_phone_by_arpabet("JH", NULL))->ipa, "dʒ"));
    CHECK(nk_phone_by_arpabet("QQ", NULL) == -1);
    CHECK(nk_phone_by_arpabet("", NULL) == -1);
    CHECK(nk_phone_by_arpabet(NULL, NULL) == -1);
}

static void test_table_consistent(void) {
    int n = nk_phone_count();
    CHECK(n > 60);
    CHECK(nk_phone_at(0)->cls == NK_PC_SILENCE);
    CHECK(nk_phone_at(-1) == NULL && nk_phone_at(n) == NULL);
    for (int i = 0; i < n; i++) {
        const nk_phone_info *p = nk_phone_at(i);
        CHECK(p->cls >= 0 && p->cls < NK_PC_COUNT);
        CHECK(p->place >= 0 && p->place < NK_PLACE_COUNT);
        CHECK(nk_phone_by_ipa(p->ipa) == i); /* IPA symbols are unique */
        /* The nearest ARPAbet of every row is a real CMUdict phoneme. */
        if (p->arpabet && i > 0) CHECK(nk_phone_by_arpabet(p->arpabet, NULL) > 0);
        int syl = nk_phone_is_syllabic(i);
        CHECK(syl == (p->cls == NK_PC_VOWEL || p->cls == NK_PC_DIPHTHONG));
        if (syl) CHECK(p->voiced);
    }
    CHECK(nk_phone_at(nk_phone_by_ipa("ʃ"))->cls == NK_PC_FRICATIVE);
    CHECK(nk_phone_at(nk_phone_by_ipa("ʃ"))->place == NK_PLACE_POSTALVEOLAR);
    CHECK(nk_phone_at(nk_phone_by_ipa("b"))->voiced == 1);
    CHECK(nk_phone_at(nk_phone_by_ipa("p"))->voiced == 0);
    CHECK(nk_phone_at(nk_phone_by_ipa("aɪ"))->cls == NK_PC_DIPHTHONG);
    CHECK(nk_phone_at(nk_phone_by_ipa("t͡ʃ"))->cls == NK_PC_AFFRICATE); /* tie bar ignored */
    CHECK(nk_phone_by_ipa("g") == nk_phone_by_ipa("ɡ"));
    CHECK(!strcmp(nk_phone_class_names[NK_PC_GLIDE], "glide"));
    CHECK(!strcmp(nk_place_names[NK_PLACE_BACK], "back"));
}

static void test_ipa_parse(void) {
    int ids[16], st[16], n;
    CHECK_OK(nk_ipa_parse("ʃtɾˈɑːsə", ids, st, 16, &n));
    const char *want[] = {"ʃ", "t", "ɾ", "ɑː", "s", "ə"};
    CHECK(n == 6);
    for (int i = 0; i < n && i < 6; i++) CHECK(!strcmp(nk_phone_at(ids[i])->ipa, want[i]));
    CHECK(n == 6 && st[3] == 1 && st[0] == 0 && st[5] == 0);
    /* Stress before an onset goes to the syllable's vowel; ties and separators. */
    CHECK_OK(nk_ipa_parse("ˌt͡ʃ_ɔːɹ aɪɚ", ids, st, 16, &n));
    CHECK(n == 5);
    if (n == 5) {
        CHECK(!strcmp(nk_phone_at(ids[0])->ipa, "tʃ") && st[0] == 0);
        CHECK(!strcmp(nk_phone_at(ids[1])->ipa, "ɔː") && st[1] == 2);
        CHECK(!strcmp(nk_phone_at(ids[2])->ipa, "ɹ"));
        CHECK(!strcmp(nk_phone_at(ids[3])->ipa, "aɪ") && !strcmp(nk_phone_at(ids[4])->ipa, "ɚ"));
    }
    CHECK_OK(nk_ipa_parse("bʌtn̩", ids, st, 16, &n)); /* syllabic mark dropped */
    CHECK(n == 4 && !strcmp(nk_phone_at(ids[3])->ipa, "n"));
    CHECK(nk_ipa_parse("aʘb", ids, st, 16, &n) == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), "ʘ") != NULL);
    CHECK(nk_ipa_parse("papapa", ids, st, 3, &n) == NK_ERR_ARG);
    CHECK_OK(nk_ipa_parse("", ids, st, 16, &n));
    CHECK(n == 0);
}

/* Every phoneme espeak-ng produces for the German word list has a row with a
 * class; the inventory is the German one (ç, x, ts, pf, øː, ʏ/y, ɔø …). */
static void test_espeak_german_inventory(void) {
    char *text;
    size_t size;
    CHECK_OK(nk_read_file("tests/fixtures/lexicon/de_words.txt", &text, &size));
    if (!text) return;
    int seen[256] = {0}, words = 0, failed = 0;
    char *save = NULL; /* espeak-ng itself uses strtok */
    for (char *w = strtok_r(text, "\n", &save); w; w = strtok_r(NULL, "\n", &save)) {
        nk_pron p;
        if (nk_phonemize("de", w, &p)) {
            fprintf(stderr, "%s\n", nk_last_error());
            failed++;
            continue;
        }
        words++;
        for (int i = 0; i < p.n; i++) {
            const nk_phone_info *ph = nk_phone_at(p.phone[i]);
            CHECK(ph && p.phone[i] > 0 && ph->cls > NK_PC_SILENCE && ph->cls < NK_PC_COUNT);
            if (p.phone[i] < 256) seen[p.phone[i]] = 1;
        }
    }
    free(text);
    CHECK(failed == 0);
    CHECK(words > 2000);
    int distinct = 0;
    for (int i = 0; i < 256; i++) distinct += seen[i];
    CHECK(distinct >= 40);
    const char *german[] = {"ç", "x", "ts", "pf", "øː", "yː", "ɔø", "aʊ", "ɜ", "ʊ", "ŋ"};
    for (size_t i = 0; i < sizeof german / sizeof german[0]; i++) {
        int id = nk_phone_by_ipa(german[i]);
        CHECK(id > 0 && seen[id]);
        if (id <= 0 || !seen[id]) fprintf(stderr, "German phoneme %s not seen\n", german[i]);
    }
    printf("espeak-ng de: %d words, %d distinct phonemes\n", words, distinct);
}

int main(void) {
    RUN(test_cmudict_round_trip);
    RUN(test_table_consistent);
    RUN(test_ipa_parse);
    RUN(test_espeak_german_inventory);
    return check_summary();
}
