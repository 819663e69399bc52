/* Datasets split into shards (one per MPI rank of `napkit naps`): each shard
 * reads only its own utterances, lists only its own failures, and tells
 * whose any listed utterance is; events grouped against the shards add up to
 * the events grouped against the whole corpus. */
#include "check.h"

#include "napkit/napkit.h"

#include <math.h>

enum { N_UTT = 7, BAD = 3 }; /* u3.wav is not audio */

static const char arch_json[] =
    "{\"name\": \"toy\", \"alphabet\": [\"_\", \" \", \"a\", \"b\"], \"blank\": 0,"
    " \"frontend\": {\"kind\": \"logmel\", \"n_mels\": 8},"
    " \"layers\": [{\"type\": \"conv1d\", \"in\": 8, \"out\": 4, \"kernel\": 3, \"padding\": 1}]}";

/* N_UTT utterances of a few tones each; returns the manifest path. */
static const char *toy_corpus(void) {
    static char manifest[512];
    const char *dir = check_tmpdir();
    snprintf(manifest, sizeof manifest, "%s/toy.tsv", dir);
    FILE *f = fopen(manifest, "w");
    float x[8000];
    for (int i = 0; i < N_UTT; i++) {
        char wav[512];
        snprintf(wav, sizeof wav, "%s/u%d.wav", dir, i);
        for (int t = 0; t < 8000; t++) x[t] = (float)(0.3 * sin(2 * M_PI * (200 + 100 * i) * t / 16000));
        if (i == BAD) {
            FILE *w = fopen(wav, "w");
            fputs("not a wav file", w);
            fclose(w);
        } else {
            CHECK_OK(nk_audio_write(wav, x, 4000 + 500 * i, 16000));
        }
        fprintf(f, "u%d.wav\t%s\n", i, i % 2 ? "ab a" : "ba");
    }
    fclose(f);
    return manifest;
}

static nk_dataset *load(const nk_arch *a, const char *manifest, nk_shard shard) {
    nk_alphabet *alpha;
    nk_corpus *c;
    nk_dataset *d = NULL;
    CHECK_OK(nk_alphabet_new((const char *const *)a->alphabet, a->n_classes, &alpha));
    nk_corpus_options o;
    nk_corpus_options_default(&o, alpha);
    o.probe = 0; /* so the broken file fails at featurizing (a probe would skip it while listing) */
    CHECK_OK(nk_corpus_open(manifest, &o, &c));
    CHECK_OK(nk_dataset_build_shard(&c, 1, a, shard, 2, 0, &d));
    nk_corpus_free(c);
    nk_alphabet_free(alpha);
    return d;
}

static const nk_example *find(const nk_dataset *d, const char *id) {
    for (size_t i = 0; i < nk_dataset_size(d); i++)
        if (!strcmp(nk_dataset_get(d, i)->id, id)) return nk_dataset_get(d, i);
    return NULL;
}

static nk_arch arch;
static const char *manifest;

static void test_shards_split_the_listing(void) {
    nk_dataset *all = load(&arch, manifest, (nk_shard){0, 1});
    CHECK(nk_dataset_size(all) == N_UTT - 1 && nk_dataset_n_skipped(all) == 1 && nk_dataset_n_listed(all) == N_UTT);
    size_t total = 0;
    for (int k = 0; k < 3; k++) {
        nk_dataset *d = load(&arch, manifest, (nk_shard){k, 3});
        total += nk_dataset_size(d);
        CHECK(nk_dataset_n_listed(d) == N_UTT);
        CHECK(nk_dataset_shard(d).index == k && nk_dataset_shard(d).count == 3);
        /* its utterances are listing positions k, k+3, …, in order, with the same features */
        size_t j = 0;
        for (int i = k; i < N_UTT; i += 3) {
            if (i == BAD) continue;
            char id[16];
            snprintf(id, sizeof id, "u%d", i);
            const nk_example *x = nk_dataset_get(d, j++), *y = find(all, id);
            CHECK(!strcmp(x->id, id) && y && x->T == y->T);
            CHECK(y && !memcmp(x->x, y->x, sizeof(float) * nk_dataset_dim(d) * x->T));
        }
        CHECK(j == nk_dataset_size(d));
        /* only the shard that took the broken file reads it and lists it */
        CHECK(nk_dataset_n_skipped(d) == (k == BAD % 3));
        CHECK(nk_dataset_shard_of(d, "u4") == 1 && nk_dataset_shard_of(d, "u3") == 0);
        CHECK(nk_dataset_shard_of(d, "nowhere") == -1);
        nk_dataset_free(d);
    }
    CHECK(total == nk_dataset_size(all));
    nk_dataset_free(all);
    nk_corpus *none[1] = {NULL};
    nk_dataset *d = NULL;
    CHECK(nk_dataset_build_shard(none, 0, &arch, (nk_shard){3, 3}, 1, 0, &d) == NK_ERR_ARG && !d);
    CHECK(nk_dataset_build_shard(none, 0, &arch, (nk_shard){0, 0}, 1, 0, &d) == NK_ERR_ARG && !d);
}

/* Two events per listed utterance, one of an utterance nobody lists, one without a class. */
static void toy_events(nk_events *e) {
    memset(e, 0, sizeof *e);
    for (int i = 0; i < N_UTT; i++) {
        char id[16];
        snprintf(id, sizeof id, "u%d", i);
        nk_event a = {id, NK_TIER_PHONES, "a", 0.05, 0.1, 0.07, 1, "a", "vowel", NULL};
        nk_event b = {id, NK_TIER_PHONES, i < 2 ? "b" : "p", 0.1, 0.2, 0.15, 1, "b", i == 5 ? NULL : "stop", NULL};
        CHECK_OK(nk_events_add(e, &a));
        CHECK_OK(nk_events_add(e, &b));
    }
    nk_event lost = {"nowhere", NK_TIER_PHONES, "a", 0.1, 0.2, 0.15, 1, "a", "vowel", NULL};
    CHECK_OK(nk_events_add(e, &lost));
}

static size_t n_grouped(const nk_nap_grouped *g) {
    size_t n = 0;
    for (size_t i = 0; i < g->n_utts; i++) n += g->n_ev[i];
    return n;
}

static void test_events_split_with_the_shards(void) {
    nk_events e;
    toy_events(&e);
    nk_dataset *all = load(&arch, manifest, (nk_shard){0, 1});
    nk_nap_grouped whole, part;
    CHECK_OK(nk_nap_group_events(&e, NK_NAP_GROUP_CLASS, &arch, all, &whole));
    /* u3's audio is broken and "nowhere" is not listed: both missing in one run */
    CHECK(whole.n_missing == 2 && whole.n_missing_events == 3 && whole.n_no_label == 1);
    size_t missing = 0, no_label = 0, grouped = 0;
    for (int k = 0; k < 3; k++) {
        nk_dataset *d = load(&arch, manifest, (nk_shard){k, 3});
        CHECK_OK(nk_nap_group_events(&e, NK_NAP_GROUP_CLASS, &arch, d, &part));
        missing += part.n_missing_events, no_label += part.n_no_label, grouped += n_grouped(&part);
        /* shard 0 took u3 and reports "nowhere" too */
        CHECK(part.n_missing == (k == 0 ? 2u : 0u));
        CHECK(part.G == 2 && !strcmp(part.groups[0], "stop") && !strcmp(part.groups[1], "vowel"));
        nk_nap_grouped_free(&part);
        nk_dataset_free(d);
    }
    CHECK(missing == whole.n_missing_events && no_label == whole.n_no_label && grouped == n_grouped(&whole));
    nk_nap_grouped_free(&whole);
    /* a shard whose utterances gave no events at all has nothing to sum, which is no error */
    nk_events none = {0};
    nk_dataset *d = load(&arch, manifest, (nk_shard){1, 3});
    CHECK_OK(nk_nap_group_events(&none, NK_NAP_GROUP_LETTER, &arch, d, &part));
    CHECK(part.G == 0 && n_grouped(&part) == 0);
    nk_nap_grouped_free(&part);
    /* events of no listed utterance at all are an error in every shard */
    nk_events lost = {0};
    CHECK_OK(nk_events_add(&lost, &e.ev[e.n - 1]));
    CHECK(nk_nap_group_events(&lost, NK_NAP_GROUP_PHONEME, &arch, d, &part) == NK_ERR_EMPTY);
    nk_events_free(&lost);
    nk_dataset_free(d);
    nk_dataset_free(all);
    nk_events_free(&e);
}

int main(void) {
    CHECK_OK(nk_arch_parse(arch_json, "toy", &arch));
    manifest = toy_corpus();
    RUN(test_shards_split_the_listing);
    RUN(test_events_split_with_the_shards);
    nk_arch_free(&arch);
    return check_summary();
}
