/* `napkit align` end to end on a toy whose truth is known: letters are tones
 * (a 300 Hz, b 900 Hz, c 2000 Hz) at known onsets, the model is set by hand
 * (a nearest-centroid classifier over the log-mel frames of the tones and of
 * silence), pronunciations come from a tiny lexicon. Checks the outputs,
 * onsets against the truth, the quality report and its sign under --delay,
 * a delay stored in the model, skipped utterances and exit codes. */
#include "check.h"

#include "napkit/napkit.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *ARCH =
    "{\"name\": \"tones\", \"blank\": 0, \"alphabet\": [\"_\", \" \", \"a\", \"b\", \"c\"],"
    " \"frontend\": {\"kind\": \"logmel\", \"n_mels\": 24},"
    " \"layers\": [{\"type\": \"conv1d\", \"in\": 24, \"out\": 5, \"kernel\": 1, \"stride\": 2,"
    " \"activation\": \"none\"}]}";
enum { K = 5, F = 24 };

/* Pronunciations: one phoneme per letter, so the truth needs no aligner. */
static const char *LEXICON = "CAB  K AE1 B\nAB  AE1 B\nBA  B AA1\nBAC  B AE1 K\nACB  AE1 K B\nCBA  K B AA1\n";
static const struct {
    const char *text; /* what is said (and transcribed, unless transcript is set) */
    const char *transcript;
    const char *ipa[9]; /* the truth phonemes, one per letter */
} UTT[] = {
    {"cab ab", NULL, {"k", "æ", "b", "æ", "b"}},
    {"ba bac", NULL, {"b", "ɑ", "b", "æ", "k"}},
    {"acb cba", NULL, {"æ", "k", "b", "k", "b", "ɑ"}},
    {"ab cab ba", NULL, {"æ", "b", "k", "æ", "b", "b", "ɑ"}},
    {"bac", NULL, {"b", "æ", "k"}},
    {"cba ab", NULL, {"k", "b", "ɑ", "æ", "b"}},
    {"ab", "abcabcabcabcabcabcabcabcabcabcabcabcabc", {0}}, /* too short for its transcript */
    {"ccc", "ab", {0}},                                     /* says something else */
};
enum { N_UTT = sizeof UTT / sizeof UTT[0], N_GOOD = 6 };

static char root[300];    /* the corpus */
static float onset[N_UTT][16]; /* truth onsets of the letters, seconds */

static double freq(char c) { return c == 'a' ? 300 : c == 'b' ? 900 : c == 'c' ? 2000 : 0; }

/* Tones of 0.15 s (ramped in and out) with 0.05 s of silence after each letter, 0.15 s more per
 * space; leading silence varies so onsets fall off the 20 ms frame grid. */
static void synth(int u, const char *wav, const char *tg_path) {
    const char *text = UTT[u].text;
    size_t n = (size_t)(1600 + 211 * u), total = n + 1600, k = 0;
    for (const char *p = text; *p; p++) total += *p == ' ' ? 2400 : 3200;
    float *x = calloc(total, sizeof *x);
    nk_textgrid *tg;
    int words, phones;
    CHECK_OK(nk_textgrid_new(0, total / 16000.0, &tg));
    CHECK_OK(nk_textgrid_add_tier(tg, "words", &words));
    CHECK_OK(nk_textgrid_add_tier(tg, "phones", &phones));
    for (const char *p = text; *p; p++) {
        if (*p == ' ') {
            n += 2400;
            continue;
        }
        onset[u][k] = (float)(n / 16000.0);
        for (int i = 0; i < 2400; i++) { /* 10 ms raised-cosine ramps: no clicks */
            double ramp = i < 160 ? i / 160.0 : 2400 - i < 160 ? (2400 - i) / 160.0 : 1;
            x[n + i] = (float)(0.5 * sin(M_PI * ramp / 2) * sin(M_PI * ramp / 2) * sin(2 * M_PI * freq(*p) * i / 16000));
        }
        if (UTT[u].ipa[0]) CHECK_OK(nk_textgrid_append(tg, phones, n / 16000.0, (n + 2400) / 16000.0, UTT[u].ipa[k]));
        n += 3200, k++;
    }
    CHECK_OK(nk_textgrid_finish(tg));
    CHECK_OK(nk_audio_write(wav, x, total, 16000));
    if (UTT[u].ipa[0]) CHECK_OK(nk_textgrid_write(tg_path, tg));
    nk_textgrid_free(tg);
    free(x);
}

/* A LibriSpeech-layout corpus: root/1/1/1-1-000U.wav, transcripts, truth TextGrids. */
static void make_corpus(void) {
    char dir[400], path[500], tg[500];
    snprintf(root, sizeof root, "%s/corpus", check_tmpdir());
    snprintf(dir, sizeof dir, "%s/1/1", root);
    CHECK_OK(nk_mkdirs(dir));
    snprintf(path, sizeof path, "%s/1-1.trans.txt", dir);
    FILE *f = fopen(path, "w");
    for (int u = 0; u < N_UTT; u++) {
        snprintf(path, sizeof path, "%s/1-1-%04d.wav", dir, u);
        snprintf(tg, sizeof tg, "%s/1-1-%04d.TextGrid", dir, u);
        synth(u, path, tg);
        fprintf(f, "1-1-%04d %s\n", u, UTT[u].transcript ? UTT[u].transcript : UTT[u].text);
    }
    fclose(f);
}

/* The hand-set model: logit_k(x) = μ_k·x − |μ_k|²/2 for the mean log-mel
 * frame μ_k of each letter's tone and of silence (the blank); the space
 * scores a little below the blank. */
static void make_model(const char *path) {
    nk_arch arch;
    CHECK_OK(nk_arch_parse(ARCH, "tones", &arch));
    nk_frontend *fe;
    CHECK_OK(nk_frontend_new(&arch.frontend, &fe));
    double mu[K][F] = {{0}}, count[K] = {0};
    for (int u = 0; u < N_GOOD; u++) {
        char wav[500];
        snprintf(wav, sizeof wav, "%s/1/1/1-1-%04d.wav", root, u);
        float *x;
        int f, T;
        CHECK_OK(nk_features_from_file(fe, wav, &x, &f, &T));
        for (int t = 0; t < T; t++) {
            int cls = 0; /* silence unless the frame's centre lies in a tone */
            const char *p = UTT[u].text;
            for (int k = 0; *p; p++) {
                if (*p == ' ') continue;
                if (t * 0.01 >= onset[u][k] && t * 0.01 < onset[u][k] + 0.15) cls = 2 + (*p - 'a');
                k++;
            }
            for (int i = 0; i < F; i++) mu[cls][i] += x[i * T + t];
            count[cls]++;
        }
        free(x);
    }
    nk_model *m;
    CHECK_OK(nk_model_new(&arch, &m));
    float *w = nk_model_params(m), *b = w + K * F;
    for (int k = 0; k < K; k++) {
        int src = k == 1 ? 0 : k;
        double norm = 0;
        for (int i = 0; i < F; i++) {
            double v = mu[src][i] / count[src];
            w[k * F + i] = (float)v, norm += v * v;
        }
        b[k] = (float)(-0.5 * norm - (k == 1 ? 2 : 0));
    }
    CHECK_OK(nk_model_save(m, path));
    nk_model_free(m);
    nk_frontend_free(fe);
    nk_arch_free(&arch);
}

static const char *napkit(void) {
    const char *p = getenv("NAPKIT");
    return p && *p ? p : "build/napkit";
}

static char err_path[400];

/* Runs `napkit FORMAT…` with stdout and stderr into files; returns the exit code. */
static int napkit_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int napkit_run(const char *fmt, ...) {
    char args[3000], cmd[4000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(err_path, sizeof err_path, "%s/err.txt", check_tmpdir());
    snprintf(cmd, sizeof cmd, "%s --quiet %s >%s/out.txt 2>%s", napkit(), args, check_tmpdir(), err_path);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* 1 when the last run's stderr holds s (else shows what it held). */
static int said(const char *s) {
    char *text = NULL;
    int found = !nk_read_file(err_path, &text, NULL) && strstr(text, s);
    if (!found) fprintf(stderr, "stderr: %s\n", text ? text : "(none)");
    free(text);
    return found;
}

static double num(const cJSON *o, const char *path) {
    char key[64];
    snprintf(key, sizeof key, "%s", path);
    for (char *k = strtok(key, "."); k && o; k = strtok(NULL, ".")) o = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(o) ? o->valuedouble : NAN;
}

static char model[400], lexicon[400], lp_model[400];

static void setup(void) {
    make_corpus();
    snprintf(model, sizeof model, "%s/tones.safetensors", check_tmpdir());
    make_model(model);
    snprintf(lexicon, sizeof lexicon, "%s/tones.dict", check_tmpdir());
    CHECK_OK(nk_write_file(lexicon, LEXICON, strlen(LEXICON)));
    nk_lp_model *lp;
    snprintf(lp_model, sizeof lp_model, "%s/lp.json", check_tmpdir());
    CHECK_OK(nk_lp_prior(&lp));
    CHECK_OK(nk_lp_model_save(lp, lp_model));
    nk_lp_model_free(lp);
}

static void test_align_and_quality(void) {
    char out[400];
    snprintf(out, sizeof out, "%s/out", check_tmpdir());
    CHECK(napkit_run("align --model %s %s -o %s --lexicon %s --lp-model %s --reference %s", model, root, out,
                     lexicon, lp_model, root) == 0);
    /* the two bad utterances are skipped and listed with their reasons */
    CHECK(said("1-1-0006: ") && said("frames are too few to align 39 letters"));
    CHECK(said("1-1-0007: path confidence"));
    cJSON *a = check_read_json(out, "alignment.json");
    CHECK(num(a, "counts.aligned") == N_GOOD && num(a, "counts.infeasible") == 1 &&
          num(a, "counts.low-confidence") == 1);
    cJSON *per = cJSON_GetObjectItemCaseSensitive(a, "per_utterance");
    CHECK(cJSON_GetArraySize(per) == N_UTT);
    CHECK(num(cJSON_GetArrayItem(per, 0), "confidence") > 0.9);
    CHECK(num(cJSON_GetArrayItem(per, 7), "confidence") < 0.1);
    CHECK(num(cJSON_GetArrayItem(per, 0), "path_confidence") > 0.9);
    CHECK(num(cJSON_GetArrayItem(per, 7), "path_confidence") < 0.1);
    cJSON_Delete(a);

    /* every phoneme of the truth is matched; onsets within one output frame */
    cJSON *q = check_read_json(out, "quality.json");
    CHECK(num(q, "utterances") == N_GOOD);
    CHECK(num(q, "all.reference") == 31 && num(q, "all.matched") == 31 && num(q, "all.predicted") == 31);
    CHECK(num(q, "all.within_50ms") == 1);
    CHECK(num(q, "all.within_20ms") >= 0.9);
    CHECK(num(q, "all.median_abs_error_ms") <= 15);
    CHECK(num(q, "per_class.plosive.matched") == 19 && num(q, "per_class.vowel.matched") == 12);
    cJSON_Delete(q);

    /* letters: events against the tone onsets, each carried by itself */
    char p[500], *text;
    snprintf(p, sizeof p, "%s/events.jsonl", out);
    CHECK_OK(nk_read_file(p, &text, NULL));
    int letters = 0, phones = 0, words = 0, worst_ms = 0, k = 0, last_u = -1;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *e = cJSON_Parse(line);
        const char *tier = cJSON_GetObjectItem(e, "tier")->valuestring;
        const char *utt = cJSON_GetObjectItem(e, "utt")->valuestring;
        int u = atoi(utt + 4);
        if (!strcmp(tier, "letters")) {
            if (u != last_u) k = 0, last_u = u;
            int err = (int)lround(1000 * fabs(num(e, "start") - onset[u][k++]));
            if (err > worst_ms) worst_ms = err;
            letters++;
            CHECK(num(e, "confidence") > 0.9);
        }
        phones += !strcmp(tier, "phones");
        words += !strcmp(tier, "words");
        CHECK(num(e, "start") <= num(e, "peak") && num(e, "peak") <= num(e, "end"));
        cJSON_Delete(e);
    }
    free(text);
    CHECK(letters == 31 && phones == 31 && words == 12);
    CHECK(worst_ms <= 20);
    /* the events reader of the NAP stage takes every line */
    nk_events ev;
    CHECK_OK(nk_events_read(p, &ev));
    CHECK(ev.n == 74 && ev.n_skipped == 0);
    nk_events_free(&ev);

    /* TextGrid tiers and the CTM */
    nk_textgrid *tg = NULL;
    snprintf(p, sizeof p, "%s/textgrids/1-1-0000.TextGrid", out);
    CHECK_OK(nk_textgrid_read(p, &tg));
    const nk_tier *w = tg ? nk_textgrid_tier(tg, "words") : NULL, *ph = tg ? nk_textgrid_tier(tg, "phones") : NULL;
    CHECK(w && ph && nk_textgrid_tier(tg, "letters"));
    if (w && ph) {
        CHECK(w->n == 5 && !strcmp(w->iv[1].text, "cab") && !strcmp(w->iv[3].text, "ab"));
        CHECK_NEAR(w->iv[1].xmin, onset[0][0], 0.02);
        CHECK(!strcmp(ph->iv[1].text, "k") && !strcmp(ph->iv[2].text, "æ"));
    }
    nk_textgrid_free(tg);
    snprintf(p, sizeof p, "%s/textgrids/1-1-0006.TextGrid", out);
    struct stat sb;
    CHECK(stat(p, &sb) != 0); /* skipped: no TextGrid */
    snprintf(p, sizeof p, "%s/words.ctm", out);
    CHECK_OK(nk_read_file(p, &text, NULL));
    CHECK(!strncmp(text, "1-1-0000 1 ", 11) && strstr(text, " cab ") && !strstr(text, "1-1-0006"));
    free(text);

    /* one thread gives the same events as two */
    char one[400], *x = NULL, *y = NULL;
    snprintf(one, sizeof one, "%s/one", check_tmpdir());
    CHECK(napkit_run("align --model %s %s -o %s --lexicon %s --lp-model %s --threads 1", model, root, one, lexicon,
                     lp_model) == 0);
    snprintf(p, sizeof p, "%s/events.jsonl", out);
    nk_read_file(p, &x, NULL);
    snprintf(p, sizeof p, "%s/events.jsonl", one);
    nk_read_file(p, &y, NULL);
    CHECK(x && y && !strcmp(x, y));
    free(x), free(y);
}

/* A delay shifts every onset earlier; the report measures exactly that shift. */
static void test_delay_and_arpabet(void) {
    char out[400];
    snprintf(out, sizeof out, "%s/late", check_tmpdir());
    CHECK(napkit_run("align --model %s %s -o %s --lexicon %s --lp-model %s --reference %s --delay 0.1 "
                     "--phone-set arpabet --threads 1",
                     model, root, out, lexicon, lp_model, root) == 0);
    cJSON *q = check_read_json(out, "quality.json"), *q0 = check_read_json(out, "../out/quality.json");
    CHECK_NEAR(num(q, "all.median_error_ms"), num(q0, "all.median_error_ms") - 100, 0.11);
    CHECK(num(q, "all.within_50ms") == 0 && num(q, "delay_ms") == 100);
    cJSON_Delete(q), cJSON_Delete(q0);
    /* --delay-from takes the measured delay back out: the median error returns to 0 */
    char back[400];
    snprintf(back, sizeof back, "%s/back", check_tmpdir());
    CHECK(napkit_run("align --model %s %s -o %s --lexicon %s --lp-model %s --reference %s --delay-from %s/quality.json",
                     model, root, back, lexicon, lp_model, root, out) == 0);
    q = check_read_json(back, "quality.json");
    CHECK(fabs(num(q, "all.median_error_ms")) <= 0.1 && num(q, "all.within_50ms") == 1);
    cJSON_Delete(q);
    CHECK(napkit_run("align --model %s %s -o %s --boundary midway --delay-from %s/quality.json", model, root, back,
                     out) == 2 && said("measured with --boundary spike"));
    char p[500], *text;
    snprintf(p, sizeof p, "%s/phones.ctm", out);
    CHECK_OK(nk_read_file(p, &text, NULL));
    CHECK(strstr(text, " K ") && strstr(text, " AE ") && strstr(text, " AA ") && !strstr(text, "æ"));
    free(text);
}

/* 1 when dir_a/name and dir_b/name hold the same bytes. */
static int same_file(const char *dir_a, const char *dir_b, const char *name) {
    char pa[600], pb[600], *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    snprintf(pa, sizeof pa, "%s/%s", dir_a, name);
    snprintf(pb, sizeof pb, "%s/%s", dir_b, name);
    int same = !nk_read_file(pa, &a, &na) && !nk_read_file(pb, &b, &nb) && na == nb && !memcmp(a, b, na);
    if (!same) fprintf(stderr, "%s and %s differ\n", pa, pb);
    free(a), free(b);
    return same;
}

/* The outputs of two runs agree file by file; quality.json but for the model's name. */
static int same_outputs(const char *dir_a, const char *dir_b) {
    static const char *const files[] = {"events.jsonl", "words.ctm", "letters.ctm", "phones.ctm",
                                        "alignment.json", "textgrids/1-1-0003.TextGrid"};
    int same = 1;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) same &= same_file(dir_a, dir_b, files[i]);
    cJSON *qa = check_read_json(dir_a, "quality.json"), *qb = check_read_json(dir_b, "quality.json");
    cJSON_DeleteItemFromObject(qa, "model"), cJSON_DeleteItemFromObject(qb, "model");
    same &= qa && qb && cJSON_Compare(qa, qb, 1);
    cJSON_Delete(qa), cJSON_Delete(qb);
    return same;
}

/* A delay stored in the model (napkit model set-delay) is what align subtracts
 * by default, exactly as the same --delay; an explicit delay overrides it. */
static void test_stored_delay(void) {
    char stored[400], explicit[400], zero[400], plain[400], delayed[400], *bytes;
    size_t size;
    snprintf(delayed, sizeof delayed, "%s/delayed.safetensors", check_tmpdir());
    CHECK_OK(nk_read_file(model, &bytes, &size));
    CHECK_OK(nk_write_file(delayed, bytes, size));
    free(bytes);
    CHECK(napkit_run("model set-delay %s 0.1", delayed) == 0);
    snprintf(stored, sizeof stored, "%s/stored", check_tmpdir());
    snprintf(explicit, sizeof explicit, "%s/explicit", check_tmpdir());
    snprintf(zero, sizeof zero, "%s/zero", check_tmpdir());
    snprintf(plain, sizeof plain, "%s/out", check_tmpdir()); /* test_align_and_quality's run: no delay */
    char opts[1500];
    snprintf(opts, sizeof opts, "--lexicon %s --lp-model %s --reference %s", lexicon, lp_model, root);
    CHECK(napkit_run("align --model %s %s -o %s %s", delayed, root, stored, opts) == 0);
    CHECK(napkit_run("align --model %s %s -o %s %s --delay 0.1", model, root, explicit, opts) == 0);
    CHECK(same_outputs(stored, explicit));
    cJSON *q = check_read_json(stored, "quality.json");
    CHECK(num(q, "delay_ms") == 100);
    cJSON_Delete(q);
    /* --delay overrides the stored one */
    CHECK(napkit_run("align --model %s %s -o %s %s --delay 0", delayed, root, zero, opts) == 0);
    CHECK(same_outputs(zero, plain));
    /* set-delay --from a run that subtracted a delay stores delay + residual: the delay the
     * first run measured, so aligning with it leaves no median error */
    CHECK(napkit_run("model set-delay %s --from %s/late/quality.json", delayed, check_tmpdir()) == 0);
    cJSON *late = check_read_json(check_tmpdir(), "late/quality.json"), *q0 = check_read_json(plain, "quality.json");
    nk_model *m;
    CHECK_OK(nk_model_load(delayed, &m));
    CHECK_NEAR(1000 * nk_model_onset_delay(m), num(late, "delay_ms") + num(late, "all.median_error_ms"), 1e-9);
    CHECK_NEAR(1000 * nk_model_onset_delay(m), num(q0, "all.median_error_ms"), 0.11);
    nk_model_free(m);
    cJSON_Delete(late), cJSON_Delete(q0);
    CHECK(napkit_run("align --model %s %s -o %s %s", delayed, root, stored, opts) == 0);
    q = check_read_json(stored, "quality.json");
    CHECK(fabs(num(q, "all.median_error_ms")) <= 0.1 && num(q, "all.within_50ms") == 1);
    cJSON_Delete(q);
    /* the stored delay holds for the spike boundary: a midway run leaves it out and says so */
    CHECK(napkit_run("align --model %s %s -o %s %s --boundary midway", delayed, root, zero, opts) == 0 &&
          said("holds for --boundary spike"));
    q = check_read_json(zero, "quality.json");
    CHECK(num(q, "delay_ms") == 0);
    cJSON_Delete(q);
}

static void test_errors(void) {
    char out[400], cache[400];
    snprintf(out, sizeof out, "%s/bad", check_tmpdir());
    CHECK(napkit_run("align --model %s %s", model, root) == 2 && said("needs --model, -o DIR"));
    CHECK(napkit_run("align --model %s %s -o %s --phone-set xsampa", model, root, out) == 2);
    CHECK(napkit_run("align --model %s %s -o %s --min-confidence 2", model, root, out) == 2);
    CHECK(napkit_run("align --model %s %s -o %s --boundary edge", model, root, out) == 2 && said("--boundary"));
    CHECK(napkit_run("align --model %s/nope.safetensors %s -o %s", check_tmpdir(), root, out) == 1 &&
          said("nope.safetensors"));
    snprintf(cache, sizeof cache, "%s/empty-cache", check_tmpdir());
    setenv("NAPKIT_CACHE", cache, 1);
    CHECK(napkit_run("align --model %s %s -o %s --language de", model, root, out) == 1 &&
          said("no letter-phoneme model for 'de'"));
    CHECK(napkit_run("align --model %s %s -o %s --lexicon %s --lp-model %s --reference %s/nowhere", model, root, out,
                     lexicon, lp_model, check_tmpdir()) == 1 &&
          said("nowhere"));
    /* a model holding a NaN is refused, naming the file */
    nk_model *m;
    CHECK_OK(nk_model_load(model, &m));
    nk_model_params(m)[3] = NAN;
    char nan_model[400];
    snprintf(nan_model, sizeof nan_model, "%s/nan.safetensors", check_tmpdir());
    CHECK_OK(nk_model_save(m, nan_model));
    nk_model_free(m);
    CHECK(napkit_run("align --model %s %s -o %s", nan_model, root, out) == 1 && said("nan.safetensors"));
}

int main(void) {
    setup();
    RUN(test_align_and_quality);
    RUN(test_delay_and_arpabet);
    RUN(test_stored_delay);
    RUN(test_errors);
    return check_summary();
}
