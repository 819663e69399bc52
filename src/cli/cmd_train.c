/* napkit train: CTC training of an architecture on corpora. */
#include "cli.h"

#include "napkit/napkit.h"

#include <cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_train_summary[] = "train a model with CTC on corpora (Adam, checkpoints, resume)";

static const char usage[] =
    "usage: napkit train --arch ARCH.json --train CORPUS [--train CORPUS…] [--dev CORPUS]\n"
    "                    -o MODEL.safetensors [options]\n"
    "  --epochs N            passes over the training data (default 30)\n"
    "  --batch-seconds S     audio per batch (default 60)\n"
    "  --lr X                peak learning rate of Adam (default 1e-3)\n"
    "  --warmup N            warm-up steps (default 300), then cosine decay to 5%\n"
    "  --clip X              global gradient-norm clip (default 5, 0 = off)\n"
    "  --seed N              initialization, batching and augmentation seed (default 1)\n"
    "  --weights S           random initialization: kaiming (default; He et al., for ReLU\n"
    "                        stacks) or pytorch (Conv1d's default, as napkit model init)\n"
    "  --threads N           utterances in parallel (default 1); the model does not depend on it\n"
    "  --no-augment          no SpecAugment time/frequency masks\n"
    "  --tempo X             tempo perturbation: each utterance's frames stretched by a factor\n"
    "                        drawn from [1-X, 1+X] each epoch (default 0 = off; 0.1 is the\n"
    "                        0.9-1.1 range of Kaldi's speed perturbation)\n"
    "  --max-duration S      skip longer utterances (default 20)\n"
    "  --checkpoint PATH     written after every epoch (default MODEL.ckpt)\n"
    "  --resume CKPT         continue a run from its checkpoint; give the run's options\n"
    "                        again (all but --epochs and --threads must match the ones\n"
    "                        the checkpoint records, or it refuses)\n"
    "  --init MODEL          start from a trained model's weights instead of random ones;\n"
    "                        a narrower model (fewer channels) is grown into --arch\n"
    "                        (its training recipe is kept in the new file's, as init_training)\n"
    "Extra arguments after the options are more training corpora.\n";

typedef struct {
    int epochs;
} progress_ctx;

static int print_epoch(const nk_epoch_report *r, void *ctx) {
    const progress_ctx *p = ctx;
    printf("epoch %d/%d  step %d  loss %.4f", r->epoch, p->epochs, r->step, r->train_loss);
    if (r->dev_cer >= 0) printf("  dev CER %.2f%%  WER %.2f%%", 100 * r->dev_cer, 100 * r->dev_wer);
    printf("  %.1f s audio/s  %.0f s", r->audio_per_second, r->seconds);
    if (r->skipped) printf("  (%zu too short)", r->skipped);
    printf("\n");
    fflush(stdout);
    return 0;
}

/* The training recipe goes into the model file for its model card. */
static char *recipe_json(const nk_train_options *o, const nk_dataset *train, const nk_dataset *dev,
                         char *const *train_specs, int n_train, const char *dev_spec, const char *weights,
                         const char *init, const char *init_training, double dev_cer, double dev_wer) {
    cJSON *j = cJSON_CreateObject(), *specs = cJSON_AddArrayToObject(j, "train");
    for (int i = 0; i < n_train; i++) cJSON_AddItemToArray(specs, cJSON_CreateString(train_specs[i]));
    if (dev_spec) cJSON_AddStringToObject(j, "dev", dev_spec);
    cJSON_AddNumberToObject(j, "train_hours", nk_dataset_seconds(train) / 3600);
    cJSON_AddNumberToObject(j, "train_utterances", (double)nk_dataset_size(train));
    if (dev) cJSON_AddNumberToObject(j, "dev_utterances", (double)nk_dataset_size(dev));
    cJSON_AddNumberToObject(j, "epochs", o->epochs);
    cJSON_AddNumberToObject(j, "batch_seconds", o->batch_seconds);
    cJSON_AddNumberToObject(j, "lr", o->lr);
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    if (init) cJSON_AddStringToObject(j, "init", init);
    else cJSON_AddStringToObject(j, "weights", weights);
    /* The --init model's own recipe, so a file trained in several cycles
     * records all of them, each inside the next. */
    cJSON *before = init_training ? cJSON_Parse(init_training) : NULL;
    if (before) cJSON_AddItemToObject(j, "init_training", before);
    cJSON_AddBoolToObject(j, "specaugment", o->time_masks > 0);
    if (o->tempo > 0) cJSON_AddNumberToObject(j, "tempo", o->tempo);
    if (dev_cer >= 0) {
        cJSON_AddNumberToObject(j, "dev_cer", dev_cer);
        cJSON_AddNumberToObject(j, "dev_wer", dev_wer);
    }
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

int cmd_train(int argc, char **argv) {
    enum { O_ARCH = 256, O_TRAIN, O_DEV, O_EPOCHS, O_BATCH, O_LR, O_WARMUP, O_CLIP, O_SEED,
           O_THREADS, O_NOAUG, O_TEMPO, O_MAXDUR, O_CKPT, O_RESUME, O_INIT, O_WEIGHTS };
    static const struct option opts[] = {
        {"arch", 1, 0, O_ARCH}, {"train", 1, 0, O_TRAIN}, {"dev", 1, 0, O_DEV},
        {"epochs", 1, 0, O_EPOCHS}, {"batch-seconds", 1, 0, O_BATCH}, {"lr", 1, 0, O_LR},
        {"warmup", 1, 0, O_WARMUP}, {"clip", 1, 0, O_CLIP}, {"seed", 1, 0, O_SEED},
        {"threads", 1, 0, O_THREADS}, {"no-augment", 0, 0, O_NOAUG}, {"tempo", 1, 0, O_TEMPO},
        {"max-duration", 1, 0, O_MAXDUR}, {"checkpoint", 1, 0, O_CKPT}, {"resume", 1, 0, O_RESUME},
        {"init", 1, 0, O_INIT}, {"weights", 1, 0, O_WEIGHTS}, {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    nk_train_options o;
    nk_train_options_default(&o);
    const char *arch_path = NULL, *dev_spec = NULL, *out = NULL, *ckpt = NULL, *resume = NULL, *init = NULL;
    char **train_specs = calloc((size_t)argc + 1, sizeof *train_specs);
    int n_train = 0, bad = 0, seed = 1, scheme = NK_INIT_KAIMING;
    static const char *const schemes[] = {[NK_INIT_PYTORCH] = "pytorch", [NK_INIT_KAIMING] = "kaiming", NULL};
    cli_data_options data = {.max_duration = 20, .threads = 1};
    for (int c; (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1 && !bad;) {
        switch (c) {
        case 'h': fputs(usage, stdout); free(train_specs); return EXIT_OK;
        case 'o': out = optarg; break;
        case O_ARCH: arch_path = optarg; break;
        case O_TRAIN: train_specs[n_train++] = optarg; break;
        case O_DEV: dev_spec = optarg; break;
        case O_EPOCHS: bad = cli_int("train", "--epochs", optarg, 1, 100000, &o.epochs); break;
        case O_BATCH: bad = cli_double("train", "--batch-seconds", optarg, 1, 1e5, &o.batch_seconds); break;
        case O_LR: bad = cli_double("train", "--lr", optarg, 1e-8, 10, &o.lr); break;
        case O_WARMUP: bad = cli_int("train", "--warmup", optarg, 1, 10000000, &o.warmup_steps); break;
        case O_CLIP: bad = cli_double("train", "--clip", optarg, 0, 1e9, &o.clip_norm); break;
        case O_SEED: bad = cli_int("train", "--seed", optarg, 0, 2000000000, &seed); break;
        case O_THREADS: bad = cli_int("train", "--threads", optarg, 1, 256, &o.threads); break;
        case O_NOAUG: o.time_masks = o.freq_masks = 0; break;
        case O_TEMPO: bad = cli_double("train", "--tempo", optarg, 0, 0.5, &o.tempo); break;
        case O_MAXDUR: bad = cli_double("train", "--max-duration", optarg, 0.1, 1e5, &data.max_duration); break;
        case O_CKPT: ckpt = optarg; break;
        case O_RESUME: resume = optarg; break;
        case O_INIT: init = optarg; break;
        case O_WEIGHTS: bad = cli_choice("train", "--weights", optarg, schemes, &scheme); break;
        default: free(train_specs); return cli_usage_error("train", "unknown option '%s'", argv[optind - 1]);
        }
    }
    while (!bad && optind < argc) train_specs[n_train++] = argv[optind++];
    if (!bad && (!arch_path || !out || n_train == 0))
        bad = cli_usage_error("train", "needs --arch, at least one --train corpus and -o");
    if (bad) {
        free(train_specs);
        return bad;
    }
    o.seed = (uint64_t)seed;
    o.show_progress = cli_show_progress;
    data.threads = o.threads;
    char default_ckpt[4096];
    snprintf(default_ckpt, sizeof default_ckpt, "%s.ckpt", out);
    o.checkpoint = ckpt ? ckpt : default_ckpt;

    nk_arch arch;
    nk_model *m = NULL;
    char *init_training = NULL; /* the --init model's recipe */
    nk_dataset *train = NULL, *dev = NULL;
    int rc = EXIT_OK;
    if (nk_arch_load(arch_path, &arch)) {
        free(train_specs);
        return cli_fail("train");
    }
    if (nk_model_new(&arch, &m)) {
        rc = cli_fail("train");
    } else {
        nk_model_init_with(m, (nk_init_scheme)scheme, o.seed);
        /* --init: the trained model's weights, grown into --arch when that is
         * wider, and its recipe (read from the same open file). */
        nk_model *src = NULL;
        nk_safetensors *st = NULL;
        if (init && (nk_model_load_extra(init, &src, &st) || nk_model_grow(m, src, init))) rc = cli_fail("train");
        const char *before = st ? nk_st_metadata(st, "napkit.training") : NULL;
        if (!rc && before && !(init_training = strdup(before))) rc = cli_fail("train");
        nk_st_close(st);
        nk_model_free(src);
    }
    const nk_arch *a = &arch;
    if (!rc) rc = cli_load_dataset("train", a, train_specs, n_train, &data, &train);
    if (!rc && dev_spec) rc = cli_load_dataset("train", a, (char *const *)&dev_spec, 1, &data, &dev);
    if (!rc) {
        fprintf(stderr, "napkit train: %zu training utterances (%.2f h)", nk_dataset_size(train),
                nk_dataset_seconds(train) / 3600);
        if (dev) fprintf(stderr, ", %zu dev utterances (%.2f h)", nk_dataset_size(dev), nk_dataset_seconds(dev) / 3600);
        fprintf(stderr, ", %zu parameters\n", nk_model_param_count(m));
    }
    nk_epoch_report last = {.dev_cer = -1};
    progress_ctx pc = {.epochs = o.epochs};
    if (!rc && nk_train(m, train, dev, &o, resume, print_epoch, &pc)) rc = cli_fail("train");
    if (!rc && dev) {
        nk_error_counts c;
        if (nk_evaluate(m, dev, o.threads, NULL, NULL, &c)) rc = cli_fail("train");
        last.dev_cer = nk_cer(&c);
        last.dev_wer = nk_wer(&c);
    }
    if (!rc) {
        char *recipe = recipe_json(&o, train, dev, train_specs, n_train, dev_spec, schemes[scheme], init, init_training,
                                   last.dev_cer, last.dev_wer);
        const char *meta[2] = {"napkit.training", recipe};
        if (!recipe || nk_model_save_extra(m, out, NULL, 0, meta, 1)) rc = cli_fail("train");
        free(recipe);
        if (!rc) fprintf(stderr, "napkit train: wrote %s\n", out);
    }
    nk_dataset_free(train);
    nk_dataset_free(dev);
    nk_model_free(m);
    nk_arch_free(&arch);
    free(train_specs);
    free(init_training);
    return rc;
}
