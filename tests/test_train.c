/* Training: the loss falls on a learnable toy task (with tempo perturbation
 * too), the thread count does not change the model, and a resumed run equals
 * an uninterrupted one. */
#include "check.h"

#include "napkit/napkit.h"

#include <stdint.h>

/* Letters are tones: a = 300 Hz, b = 900 Hz, c = 2000 Hz, 0.15 s each with
 * 0.05 s of silence after; a space is 0.15 s of silence. */
static const char *ARCH =
    "{\"name\": \"toy\", \"blank\": 0,"
    " \"alphabet\": [\"_\", \" \", \"'\", \"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\","
    " \"j\", \"k\", \"l\", \"m\", \"n\", \"o\", \"p\", \"q\", \"r\", \"s\", \"t\", \"u\", \"v\", \"w\","
    " \"x\", \"y\", \"z\"],"
    " \"frontend\": {\"kind\": \"logmel\", \"n_mels\": 24, \"normalize\": \"utterance\"},"
    " \"layers\": [{\"type\": \"conv1d\", \"in\": 24, \"out\": 64, \"kernel\": 5, \"stride\": 2, \"padding\": 2, \"activation\": \"relu\"},"
    "  {\"type\": \"conv1d\", \"in\": 64, \"out\": 64, \"kernel\": 3, \"padding\": 1, \"activation\": \"relu\"},"
    "  {\"type\": \"conv1d\", \"in\": 64, \"out\": 29, \"kernel\": 1, \"activation\": \"none\"}]}";

static const char *TEXTS[] = {"abc", "cab", "ba ca", "a bc", "cc ab", "bac", "acb ba", "cba",
                              "ab", "bca c", "aa b", "c b a"};
enum { N_UTT = sizeof TEXTS / sizeof TEXTS[0] };

/* One tone per letter, 150 ms each plus 50 ms of silence, all durations
 * divided by speed. */
static void synth_tones(const char *text, double speed, const char *path) {
    size_t cap = 16000 * 8, n = 0;
    float *x = calloc(cap, sizeof *x);
    const int tone = (int)(2400 / speed), gap = (int)(800 / speed);
    n += 1600; /* leading silence */
    for (const char *p = text; *p; p++) {
        double f = *p == 'a' ? 300 : *p == 'b' ? 900 : *p == 'c' ? 2000 : 0;
        for (int i = 0; i < tone; i++) x[n + i] = f > 0 ? (float)(0.5 * sin(2 * M_PI * f * i / 16000)) : 0;
        n += tone + (f > 0 ? gap : 0);
    }
    n += 1600;
    nk_audio_write(path, x, n, 16000);
    free(x);
}

static nk_dataset *toy_dataset(nk_arch *arch, double speed) {
    char manifest[512];
    const char *dir = check_tmpdir();
    snprintf(manifest, sizeof manifest, "%s/toy-%g.tsv", dir, speed);
    FILE *f = fopen(manifest, "w");
    for (int i = 0; i < N_UTT; i++) {
        char wav[512];
        snprintf(wav, sizeof wav, "%s/u%02d-%g.wav", dir, i, speed);
        synth_tones(TEXTS[i], speed, wav);
        fprintf(f, "u%02d-%g.wav\t%s\n", i, speed, TEXTS[i]);
    }
    fclose(f);
    nk_alphabet *alpha;
    nk_corpus *c;
    nk_dataset *d = NULL;
    CHECK_OK(nk_alphabet_new((const char *const *)arch->alphabet, arch->n_classes, &alpha));
    nk_corpus_options o;
    nk_corpus_options_default(&o, alpha);
    CHECK_OK(nk_corpus_open(manifest, &o, &c));
    CHECK_OK(nk_dataset_build(&c, 1, arch, 2, 0, &d));
    CHECK(d && nk_dataset_size(d) == N_UTT);
    nk_corpus_free(c);
    nk_alphabet_free(alpha);
    return d;
}

static nk_arch arch;
static nk_dataset *data;

static void toy_options(nk_train_options *o, int epochs) {
    nk_train_options_default(o);
    o->epochs = epochs;
    o->batch_seconds = 4;
    o->lr = 3e-3;
    o->warmup_steps = 5;
    o->seed = 7;
    o->time_mask_max = 5; /* masks scaled to 1 s toy utterances */
    o->freq_mask_max = 3;
    o->tempo = 0.15; /* so the thread-count and resume tests cover tempo perturbation too */
}

typedef struct {
    double loss[128];
    double cer[128];
    int stop_after;
} history;

static int record(const nk_epoch_report *r, void *ctx) {
    history *h = ctx;
    h->loss[r->epoch] = r->train_loss;
    h->cer[r->epoch] = r->dev_cer;
    return h->stop_after && r->epoch >= h->stop_after;
}

static nk_model *fresh_model(void) {
    nk_model *m;
    CHECK_OK(nk_model_new(&arch, &m));
    nk_model_init(m, 7);
    return m;
}

static void test_loss_falls(void) {
    nk_train_options o;
    toy_options(&o, 60);
    o.time_masks = o.freq_masks = 0; /* the toy task is small enough to learn exactly */
    o.tempo = 0;
    nk_model *m = fresh_model();
    history h = {0};
    CHECK_OK(nk_train(m, data, data, &o, NULL, record, &h));
    fprintf(stderr, "toy loss %.3f → %.3f, CER %.3f → %.3f\n", h.loss[1], h.loss[60], h.cer[1], h.cer[60]);
    CHECK(h.loss[60] < 0.5 * h.loss[1]);
    CHECK(h.cer[60] < h.cer[1]);
    CHECK(h.cer[60] < 0.1);
    nk_model_free(m);
}

static void test_threads_do_not_matter(void) {
    nk_train_options o;
    toy_options(&o, 3);
    nk_model *a = fresh_model(), *b = fresh_model();
    o.threads = 1;
    CHECK_OK(nk_train(a, data, NULL, &o, NULL, NULL, NULL));
    o.threads = 2;
    CHECK_OK(nk_train(b, data, NULL, &o, NULL, NULL, NULL));
    CHECK(memcmp(nk_model_params(a), nk_model_params(b), nk_model_param_count(a) * sizeof(float)) == 0);
    nk_model_free(a);
    nk_model_free(b);
}

static void test_resume_equals_uninterrupted(void) {
    char *ck_a = nk_path_join(check_tmpdir(), "a.ckpt"), *ck_b = nk_path_join(check_tmpdir(), "b.ckpt");
    nk_train_options o;
    toy_options(&o, 4);
    nk_model *a = fresh_model(), *b = fresh_model(), *c = fresh_model();
    o.checkpoint = ck_a;
    CHECK_OK(nk_train(a, data, NULL, &o, NULL, NULL, NULL));
    /* Interrupted after epoch 2, then resumed into a model that starts elsewhere. */
    history h = {.stop_after = 2};
    o.checkpoint = ck_b;
    CHECK_OK(nk_train(b, data, NULL, &o, NULL, record, &h));
    nk_model_init(c, 99);
    CHECK_OK(nk_train(c, data, NULL, &o, ck_b, NULL, NULL));
    CHECK(memcmp(nk_model_params(a), nk_model_params(c), nk_model_param_count(a) * sizeof(float)) == 0);
    /* Other options would train differently from the run resumed: refused by name. */
    o.tempo = 0.1;
    CHECK(nk_train(c, data, NULL, &o, ck_b, NULL, NULL) == NK_ERR_ARG);
    CHECK(strstr(nk_last_error(), "had tempo 0.15, this one has 0.1 ") && strstr(nk_last_error(), "b.ckpt"));
    toy_options(&o, 4);
    o.lr *= 2;
    CHECK(nk_train(c, data, NULL, &o, ck_b, NULL, NULL) == NK_ERR_ARG);
    CHECK(strstr(nk_last_error(), "had lr 0.003") != NULL);
    toy_options(&o, 4);
    o.threads = 2; /* does not change the model: accepted */
    o.checkpoint = ck_b;
    nk_model_init(c, 99);
    CHECK_OK(nk_train(c, data, NULL, &o, ck_b, NULL, NULL));
    CHECK(memcmp(nk_model_params(a), nk_model_params(c), nk_model_param_count(a) * sizeof(float)) == 0);
    /* The checkpoint is itself a loadable model file of the final epoch. */
    nk_model *ck;
    nk_safetensors *st;
    CHECK_OK(nk_model_load_extra(ck_a, &ck, &st));
    CHECK(memcmp(nk_model_params(a), nk_model_params(ck), nk_model_param_count(a) * sizeof(float)) == 0);
    nk_st_close(st);
    nk_model_free(ck);
    CHECK_OK(nk_model_load(ck_a, &ck)); /* a checkpoint is a model for analysis too */
    CHECK(memcmp(nk_model_params(a), nk_model_params(ck), nk_model_param_count(a) * sizeof(float)) == 0);
    nk_model_free(ck);
    /* A model file is not a checkpoint. */
    char *plain = nk_path_join(check_tmpdir(), "plain.safetensors");
    CHECK_OK(nk_model_save(a, plain));
    CHECK(nk_train(c, data, NULL, &o, plain, NULL, NULL) == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), "checkpoint") != NULL);
    free(plain);
    nk_model_free(a);
    nk_model_free(b);
    nk_model_free(c);
    free(ck_a);
    free(ck_b);
}

/* Tempo perturbation is for speech faster or slower than the training data:
 * trained on the toy tones with it, the model reads the same tones played
 * 1.25 times as fast far better than one trained without it. */
static void test_tempo_perturbation(void) {
    nk_dataset *fast = toy_dataset(&arch, 1.25);
    nk_train_options o;
    toy_options(&o, 60);
    o.time_masks = o.freq_masks = 0;
    double cer[2];
    for (int i = 0; i < 2; i++) {
        o.tempo = i ? 0.15 : 0;
        nk_model *m = fresh_model();
        history h = {0};
        CHECK_OK(nk_train(m, data, fast, &o, NULL, record, &h));
        fprintf(stderr, "toy, tempo %.2f: loss %.3f → %.3f, CER at 1.25× speed %.3f\n", o.tempo, h.loss[1],
                h.loss[60], h.cer[60]);
        CHECK(h.loss[60] < 0.5 * h.loss[1]);
        cer[i] = h.cer[60];
        nk_model_free(m);
    }
    CHECK(cer[1] < 0.5 * cer[0]);
    nk_dataset_free(fast);
}

/* A delay measured on the starting weights does not hold for the trained
 * ones (napkit train --init): training drops it, checkpoints never carry it. */
static void test_training_drops_onset_delay(void) {
    nk_train_options o;
    toy_options(&o, 1);
    char *ck = nk_path_join(check_tmpdir(), "delay.ckpt");
    o.checkpoint = ck;
    nk_model *m = fresh_model(), *back = NULL;
    nk_model_set_onset_delay(m, 0.1);
    CHECK_OK(nk_train(m, data, NULL, &o, NULL, NULL, NULL));
    CHECK(isnan(nk_model_onset_delay(m)));
    CHECK_OK(nk_model_load(ck, &back));
    CHECK(back && isnan(nk_model_onset_delay(back)));
    nk_model_free(back);
    nk_model_free(m);
    free(ck);
}

int main(void) {
    if (nk_arch_parse(ARCH, "toy arch", &arch)) {
        fprintf(stderr, "%s\n", nk_last_error());
        return 1;
    }
    data = toy_dataset(&arch, 1);
    if (!data) return check_summary();
    RUN(test_loss_falls);
    RUN(test_threads_do_not_matter);
    RUN(test_resume_equals_uninterrupted);
    RUN(test_tempo_perturbation);
    RUN(test_training_drops_onset_delay);
    nk_dataset_free(data);
    nk_arch_free(&arch);
    return check_summary();
}
