/* napkit synth: speech from text with espeak-ng — one sentence, or a whole
 * corpus from a recipe. */
#include "cli.h"

#include "napkit/napkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char cmd_synth_summary[] = "synthesize speech with espeak-ng: a sentence, or a corpus from a recipe";

static const char usage[] =
    "usage: napkit synth TEXT -o OUT.flac [--voice V] [--rate WPM] [--pitch P] [--range R] [--lang en|de]\n"
    "       napkit synth --recipe RECIPE.json -o OUT_DIR [--shard I/N]\n"
    "One sentence: writes OUT.flac (16 kHz) and OUT.TextGrid (tiers words, phones).\n"
    "  --voice V      espeak-ng voice and variant (default en-us; e.g. en-gb-x-rp+m3, de+f2)\n"
    "  --rate WPM     words per minute, 80–450 (default 175)\n"
    "  --pitch P  --range R   0–100 (default 50, 50)\n"
    "  --lang en|de   alphabet for the word labels (default: from the voice)\n"
    "  --seed N       noise seed (default 1)\n"
    "A recipe (corpora/recipes/*.json) gives a corpus in the LibriSpeech layout under\n"
    "OUT_DIR/<name>/{train,dev,test}; --shard I/N synthesizes every N-th speaker from\n"
    "the I-th (0-based), for running N processes side by side.\n";

static void show_progress(void *ctx, size_t done, size_t total, double seconds) {
    nk_progress_update(ctx, done, seconds, NULL);
    (void)total;
}

static int synth_corpus(const char *recipe, const char *out, const char *shard_spec) {
    int shard = 0, n_shards = 1;
    if (shard_spec && (sscanf(shard_spec, "%d/%d", &shard, &n_shards) != 2 || n_shards < 1 ||
                       shard < 0 || shard >= n_shards))
        return cli_usage_error("synth", "--shard wants I/N with 0 ≤ I < N, got '%s'", shard_spec);
    nk_progress *p = nk_progress_new("synth", 0, "s audio", cli_show_progress);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nk_synth_corpus_stats st;
    int rc = nk_synth_corpus(recipe, out, shard, n_shards, p ? show_progress : NULL, p, &st);
    nk_progress_finish(p);
    if (rc) return cli_fail("synth");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    fprintf(stderr,
            "napkit synth: %zu utterances, %.2f h of audio from %zu sentences (%zu left out, see SKIPPED.TXT), "
            "%zu speakers; %.1f s wall, %.0f s audio per second\n",
            st.utterances, st.seconds / 3600, st.sentences, st.sentences_skipped, st.speakers, wall,
            wall > 0 ? st.seconds / wall : 0);
    return EXIT_OK;
}

int cmd_synth(int argc, char **argv) {
    enum { O_VOICE = 256, O_RATE, O_PITCH, O_RANGE, O_LANG, O_SEED, O_RECIPE, O_SHARD };
    static const struct option opts[] = {
        {"voice", 1, 0, O_VOICE}, {"rate", 1, 0, O_RATE}, {"pitch", 1, 0, O_PITCH},
        {"range", 1, 0, O_RANGE}, {"lang", 1, 0, O_LANG}, {"seed", 1, 0, O_SEED},
        {"recipe", 1, 0, O_RECIPE}, {"shard", 1, 0, O_SHARD}, {"output", 1, 0, 'o'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    static const char *const langs[] = {"en", "de", NULL};
    nk_voice v = {"en-us", 175, 50, 50};
    const char *out = NULL, *recipe = NULL, *shard = NULL;
    int lang = -1, seed = 1, bad = 0;
    for (int c; (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1 && !bad;) {
        switch (c) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'o': out = optarg; break;
        case O_VOICE: v.voice = optarg; break;
        case O_RATE: bad = cli_int("synth", "--rate", optarg, 80, 450, &v.rate); break;
        case O_PITCH: bad = cli_int("synth", "--pitch", optarg, 0, 100, &v.pitch); break;
        case O_RANGE: bad = cli_int("synth", "--range", optarg, 0, 100, &v.range); break;
        case O_LANG: bad = cli_choice("synth", "--lang", optarg, langs, &lang); break;
        case O_SEED: bad = cli_int("synth", "--seed", optarg, 0, 2000000000, &seed); break;
        case O_RECIPE: recipe = optarg; break;
        case O_SHARD: shard = optarg; break;
        default: return cli_usage_error("synth", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (bad) return bad;
    if (!out) return cli_usage_error("synth", "needs -o");
    if (recipe) {
        if (optind != argc) return cli_usage_error("synth", "--recipe takes no TEXT");
        return synth_corpus(recipe, out, shard);
    }
    if (optind != argc - 1) return cli_usage_error("synth", "expects exactly one TEXT (or --recipe)");
    size_t len = strlen(out);
    if (len < 6 || strcmp(out + len - 5, ".flac"))
        return cli_usage_error("synth", "-o must name a .flac file");
    if (lang < 0) lang = !strncmp(v.voice, "de", 2) ? 1 : 0;
    nk_alphabet *a;
    nk_synth *s;
    if (nk_alphabet_builtin(langs[lang], &a)) return cli_fail("synth");
    if (nk_synth_new(&s)) {
        nk_alphabet_free(a);
        return cli_fail("synth");
    }
    float *x = NULL;
    size_t n = 0;
    nk_textgrid *tg = NULL;
    char *tg_path = malloc(len + 5);
    int rc = tg_path ? nk_synth_speak(s, &v, a, argv[optind], (unsigned)seed, 16000, &x, &n, &tg) : NK_ERR_NOMEM;
    if (!rc) {
        memcpy(tg_path, out, len - 5);
        strcpy(tg_path + len - 5, ".TextGrid");
        rc = nk_audio_write(out, x, n, 16000);
        if (!rc) rc = nk_textgrid_write(tg_path, tg);
    }
    free(tg_path);
    free(x);
    nk_textgrid_free(tg);
    nk_synth_free(s);
    nk_alphabet_free(a);
    return rc ? cli_fail("synth") : EXIT_OK;
}
