/* CTC training: batches, augmentation, Adam, schedule, checkpoints. */
#include "napkit/train.h"

#include "napkit/error.h"
#include "napkit/evaluate.h"
#include "napkit/features.h"
#include "napkit/progress.h"
#include "napkit/rng.h"
#include "napkit/safetensors.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void nk_train_options_default(nk_train_options *o) {
    *o = (nk_train_options){
        .epochs = 30, .batch_seconds = 60, .lr = 1e-3, .warmup_steps = 300, .final_lr_frac = 0.05,
        .clip_norm = 5, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .threads = 1, .seed = 1,
        .time_masks = 2, .time_mask_max = 20, .freq_masks = 2, .freq_mask_max = 6,
    };
}

/* ---- deterministic randomness: a generator per (seed, epoch, stream) ---- */

static uint64_t rng_for(uint64_t seed, uint64_t epoch, uint64_t stream) {
    return nk_rng_mix(seed * 0x9E3779B97F4A7C15ull ^ nk_rng_mix(epoch + 1) ^ nk_rng_mix(stream + 0x51ED));
}

static void shuffle(size_t *v, size_t n, uint64_t *r) {
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)nk_rng_below(r, i), t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* ---- batches: shuffle, sort pools of similar length, cut by audio seconds ---- */

typedef struct {
    size_t *idx;    /* example indices of all batches, back to back */
    size_t *start;  /* batch b is idx[start[b] .. start[b+1]) */
    size_t n;
} batches;

static const nk_dataset *sort_ds; /* qsort has no context argument */
static int by_length(const void *a, const void *b) {
    int ta = nk_dataset_get(sort_ds, *(const size_t *)a)->T, tb = nk_dataset_get(sort_ds, *(const size_t *)b)->T;
    if (ta != tb) return ta < tb ? -1 : 1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : *(const size_t *)a > *(const size_t *)b;
}

/* Pools of ~32 batches' worth are sorted by length so a batch holds similar
 * lengths (little idle time in the parallel rounds), while the shuffle before
 * gives each epoch new company for each utterance. */
static int make_batches(const nk_dataset *d, double batch_seconds, uint64_t seed, int epoch, batches *out) {
    size_t n = nk_dataset_size(d);
    out->idx = malloc(n * sizeof *out->idx);
    out->start = malloc((n + 1) * sizeof *out->start);
    if (!out->idx || !out->start) return nk_fail(NK_ERR_NOMEM, "train: out of memory for batches");
    for (size_t i = 0; i < n; i++) out->idx[i] = i;
    uint64_t r = rng_for(seed, (uint64_t)epoch, 0);
    shuffle(out->idx, n, &r);
    sort_ds = d;
    double pool_seconds = 32 * batch_seconds, acc = 0;
    size_t pool_start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || acc >= pool_seconds) {
            qsort(out->idx + pool_start, i - pool_start, sizeof *out->idx, by_length);
            pool_start = i;
            acc = 0;
        }
        if (i < n) acc += nk_dataset_get(d, out->idx[i])->seconds;
    }
    out->n = 0;
    acc = 0;
    for (size_t i = 0; i < n; i++) {
        double s = nk_dataset_get(d, out->idx[i])->seconds;
        if (i == 0 || acc + s > batch_seconds) {
            out->start[out->n++] = i;
            acc = 0;
        }
        acc += s;
    }
    out->start[out->n] = n;
    /* Shuffle the order of whole batches. */
    size_t *order = malloc(out->n * sizeof *order), *idx2 = malloc(n * sizeof *idx2),
           *start2 = malloc((out->n + 1) * sizeof *start2);
    if (!order || !idx2 || !start2) {
        free(order), free(idx2), free(start2);
        return nk_fail(NK_ERR_NOMEM, "train: out of memory for batches");
    }
    for (size_t b = 0; b < out->n; b++) order[b] = b;
    shuffle(order, out->n, &r);
    size_t k = 0;
    for (size_t b = 0; b < out->n; b++) {
        start2[b] = k;
        for (size_t i = out->start[order[b]]; i < out->start[order[b] + 1]; i++) idx2[k++] = out->idx[i];
    }
    start2[out->n] = n;
    free(out->idx);
    free(out->start);
    free(order);
    out->idx = idx2;
    out->start = start2;
    return NK_OK;
}

/* ---- augmentation: tempo perturbation, then SpecAugment masks ---- */

/* The frame count after a tempo change by a factor drawn from [1 − tempo, 1 + tempo]
 * (above 1 is faster: fewer frames). No draw when tempo is off, so the masks
 * of a run without it stay what they were before it existed. */
static int tempo_frames(uint64_t *r, double tempo, int T) {
    if (tempo <= 0) return T;
    long T2 = lround(T / (1 + tempo * (2 * nk_rng_uniform(r) - 1)));
    return T2 > 1 ? (int)T2 : 1;
}

/* Time and feature-row masks set to 0, the mean after normalization. */
static void mask(const nk_train_options *o, uint64_t *r, float *x, int F, int T) {
    for (int m = 0; m < o->time_masks; m++) {
        int w = (int)nk_rng_below(r, (uint64_t)o->time_mask_max + 1);
        if (w >= T) continue;
        int t0 = (int)nk_rng_below(r, (uint64_t)(T - w));
        for (int f = 0; f < F; f++) memset(x + (size_t)f * T + t0, 0, (size_t)w * sizeof *x);
    }
    for (int m = 0; m < o->freq_masks; m++) {
        int w = (int)nk_rng_below(r, (uint64_t)o->freq_mask_max + 1);
        if (w >= F) continue;
        int f0 = (int)nk_rng_below(r, (uint64_t)(F - w));
        memset(x + (size_t)f0 * T, 0, (size_t)w * T * sizeof *x);
    }
}

/* Example e's (F, T) features as this epoch sees them, in *buf (grown as
 * needed); returns their frame count, or 0 when out of memory. Everything
 * drawn derives from (seed, epoch, example). */
static int augment(const nk_train_options *o, int epoch, size_t example, const nk_example *e, int F, float **buf) {
    uint64_t r = rng_for(o->seed, (uint64_t)epoch, example + 1);
    int T = tempo_frames(&r, o->tempo, e->T);
    float *x = realloc(*buf, (size_t)F * T * sizeof *x);
    if (!x) return 0;
    *buf = x;
    if (T == e->T) memcpy(x, e->x, (size_t)F * T * sizeof *x);
    else nk_features_stretch(e->x, F, e->T, x, T);
    mask(o, &r, x, F, T);
    return T;
}

/* ---- optimizer ---- */

typedef struct {
    float *m, *v; /* first and second moments, model parameter layout */
    int step;
    int epoch;    /* epochs completed */
} adam_state;

static double lr_at(const nk_train_options *o, int step, int total_steps) {
    if (step < o->warmup_steps) return o->lr * (step + 1) / o->warmup_steps;
    double span = total_steps > o->warmup_steps ? total_steps - o->warmup_steps : 1;
    double p = fmin(1.0, (step - o->warmup_steps) / span);
    return o->lr * (o->final_lr_frac + (1 - o->final_lr_frac) * 0.5 * (1 + cos(M_PI * p)));
}

/* Scales g by `scale`, clips its global norm, and applies one Adam step. */
static void adam_step(const nk_train_options *o, adam_state *s, float *p, float *g, size_t n,
                      double scale, double lr) {
    double sq = 0;
    for (size_t i = 0; i < n; i++) {
        g[i] = (float)(g[i] * scale);
        sq += (double)g[i] * g[i];
    }
    double norm = sqrt(sq), clip = o->clip_norm > 0 && norm > o->clip_norm ? o->clip_norm / norm : 1;
    s->step++;
    const float b1 = (float)o->beta1, b2 = (float)o->beta2;
    const double c1 = 1 - pow(o->beta1, s->step), c2 = 1 - pow(o->beta2, s->step);
    const float step_size = (float)(lr / c1), eps = (float)o->eps, inv_sqrt_c2 = (float)(1 / sqrt(c2));
    for (size_t i = 0; i < n; i++) {
        float gi = (float)(g[i] * clip);
        s->m[i] = b1 * s->m[i] + (1 - b1) * gi;
        s->v[i] = b2 * s->v[i] + (1 - b2) * gi * gi;
        p[i] -= step_size * s->m[i] / (sqrtf(s->v[i]) * inv_sqrt_c2 + eps);
    }
}

/* ---- checkpoints: the model file plus the optimizer's moments and counters ---- */

#define TRAIN_KEY "napkit.train"

/* The options that shape the run's trajectory (threads do not). A resumed run
 * must use the same ones, or it would silently train differently from the run
 * it continues, so the checkpoint records them and resume compares. Epochs
 * may differ: a run is lengthened or cut short on purpose (the cosine decay
 * then spans the new count). */
enum { N_TRAJECTORY = 14 };
static const char *const trajectory_names[N_TRAJECTORY] = {
    "batch_seconds", "lr", "warmup_steps", "final_lr_frac", "clip_norm", "beta1", "beta2",
    "eps", "seed", "time_masks", "time_mask_max", "freq_masks", "freq_mask_max", "tempo"};

static void trajectory(const nk_train_options *o, double v[N_TRAJECTORY]) {
    const double x[N_TRAJECTORY] = {o->batch_seconds, o->lr, o->warmup_steps, o->final_lr_frac,
                                    o->clip_norm, o->beta1, o->beta2, o->eps, (double)o->seed, o->time_masks,
                                    o->time_mask_max, o->freq_masks, o->freq_mask_max, o->tempo};
    memcpy(v, x, sizeof x);
}

static int save_checkpoint(const nk_model *m, const adam_state *s, const nk_train_options *o, const char *path) {
    long n = (long)nk_model_param_count(m);
    nk_st_entry extra[2] = {{.name = "adam.m", .ndim = 1, .shape = {n}, .data = s->m},
                            {.name = "adam.v", .ndim = 1, .shape = {n}, .data = s->v}};
    cJSON *j = cJSON_CreateObject(), *opts = cJSON_AddObjectToObject(j, "options");
    cJSON_AddNumberToObject(j, "epoch", s->epoch);
    cJSON_AddNumberToObject(j, "step", s->step);
    double v[N_TRAJECTORY];
    trajectory(o, v);
    for (int i = 0; i < N_TRAJECTORY; i++) cJSON_AddNumberToObject(opts, trajectory_names[i], v[i]);
    char *json = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!json) return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    const char *meta[2] = {TRAIN_KEY, json};
    int rc = nk_model_save_extra(m, path, extra, 2, meta, 1);
    free(json);
    return rc;
}

/* NK_OK when the checkpoint's recorded options equal o's, else names the first that differs. */
static int same_trajectory(const cJSON *recorded, const nk_train_options *o, const char *path) {
    double v[N_TRAJECTORY];
    trajectory(o, v);
    for (int i = 0; i < N_TRAJECTORY; i++) {
        const cJSON *r = cJSON_GetObjectItem(recorded, trajectory_names[i]);
        if (!cJSON_IsNumber(r))
            return nk_fail(NK_ERR_FORMAT, "%s: the checkpoint does not record option %s", path, trajectory_names[i]);
        if (r->valuedouble != v[i])
            return nk_fail(NK_ERR_ARG, "%s: cannot resume: the checkpoint's run had %s %.15g, this one has %.15g "
                           "(resume with the options of the run it continues)", path, trajectory_names[i],
                           r->valuedouble, v[i]);
    }
    return NK_OK;
}

static int load_checkpoint(nk_model *m, adam_state *s, const nk_train_options *o, const char *path) {
    nk_model *ck;
    nk_safetensors *st;
    int rc = nk_model_load_extra(path, &ck, &st);
    if (rc) return rc;
    char *a = nk_arch_to_json(nk_model_arch(m)), *b = nk_arch_to_json(nk_model_arch(ck));
    long n = (long)nk_model_param_count(m);
    const char *json = nk_st_metadata(st, TRAIN_KEY);
    cJSON *meta = json ? cJSON_Parse(json) : NULL;
    const cJSON *epoch = cJSON_GetObjectItem(meta, "epoch"), *step = cJSON_GetObjectItem(meta, "step");
    if (!a || !b) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    else if (strcmp(a, b) != 0) rc = nk_fail(NK_ERR_ARG, "%s: checkpoint architecture differs from the model being trained", path);
    else if (!cJSON_IsNumber(epoch) || !cJSON_IsNumber(step) || epoch->valueint < 0 || step->valueint < 0)
        rc = nk_fail(NK_ERR_FORMAT, "%s: no valid \"" TRAIN_KEY "\" metadata: not a training checkpoint", path);
    else rc = same_trajectory(cJSON_GetObjectItem(meta, "options"), o, path);
    if (!rc) rc = nk_st_read_f32(st, "adam.m", 1, &n, s->m);
    if (!rc) rc = nk_st_read_f32(st, "adam.v", 1, &n, s->v);
    if (!rc) {
        memcpy(nk_model_params(m), nk_model_params(ck), (size_t)n * sizeof(float));
        s->epoch = epoch->valueint;
        s->step = step->valueint;
    }
    cJSON_Delete(meta);
    free(a);
    free(b);
    nk_st_close(st);
    nk_model_free(ck);
    return rc;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One epoch over the training set; fills the loss, skip and speed fields of r. */
static int train_epoch(nk_model *m, nk_workspace **ws, const nk_dataset *d, const nk_train_options *o,
                       adam_state *s, int total_steps, nk_epoch_report *r) {
    const int F = nk_dataset_dim(d), epoch = s->epoch + 1;
    batches bt = {0};
    int rc = make_batches(d, o->batch_seconds, o->seed, epoch, &bt);
    size_t max_b = 0;
    for (size_t b = 0; !rc && b < bt.n; b++)
        if (bt.start[b + 1] - bt.start[b] > max_b) max_b = bt.start[b + 1] - bt.start[b];
    const float **x = calloc(max_b + 1, sizeof *x);
    float **aug = calloc(max_b + 1, sizeof *aug);
    const int **labels = calloc(max_b + 1, sizeof *labels);
    int *T = calloc(max_b + 1, sizeof *T), *U = calloc(max_b + 1, sizeof *U);
    double *nll = calloc(max_b + 1, sizeof *nll);
    if (!rc && (!x || !aug || !labels || !T || !U || !nll)) rc = nk_fail(NK_ERR_NOMEM, "train: out of memory");
    nk_progress *prog = nk_progress_new("epoch", nk_dataset_size(d), "s audio", o->show_progress);
    double loss = 0, tokens = 0, audio = 0, t0 = now();
    size_t done = 0;
    const int augmenting = o->time_masks > 0 || o->freq_masks > 0 || o->tempo > 0;
    for (size_t b = 0; !rc && b < bt.n; b++) {
        int B = (int)(bt.start[b + 1] - bt.start[b]);
        for (int i = 0; i < B && !rc; i++) {
            size_t k = bt.idx[bt.start[b] + i];
            const nk_example *e = nk_dataset_get(d, k);
            T[i] = e->T;
            U[i] = e->U;
            labels[i] = e->labels;
            x[i] = e->x;
            audio += e->seconds;
            if (augmenting) {
                if (!(T[i] = augment(o, epoch, k, e, F, &aug[i]))) {
                    rc = nk_fail(NK_ERR_NOMEM, "train: out of memory");
                    break;
                }
                x[i] = aug[i];
            }
        }
        if (!rc) rc = nk_model_ctc_batch(m, ws, o->threads, B, x, T, labels, U, nll);
        if (rc) break;
        double batch_loss = 0, batch_tokens = 0;
        for (int i = 0; i < B; i++) {
            if (isinf(nll[i])) {
                r->skipped++;
                continue;
            }
            batch_loss += nll[i];
            batch_tokens += U[i] > 0 ? U[i] : 1;
        }
        if (!isfinite(batch_loss)) {
            rc = nk_fail(NK_ERR_NUMERIC, "train: loss became %g at step %d (learning rate too high?)", batch_loss, s->step);
            break;
        }
        if (batch_tokens > 0)
            adam_step(o, s, nk_model_params(m), nk_model_grads(m), nk_model_param_count(m), 1.0 / batch_tokens,
                      lr_at(o, s->step, total_steps));
        loss += batch_loss;
        tokens += batch_tokens;
        done += (size_t)B;
        char extra[64];
        snprintf(extra, sizeof extra, "epoch %d  loss %.3f", epoch, tokens > 0 ? loss / tokens : 0);
        nk_progress_update(prog, done, audio, extra);
    }
    nk_progress_finish(prog);
    for (size_t i = 0; i <= max_b && aug; i++) free(aug[i]);
    free(aug), free(x), free(labels), free(T), free(U), free(nll);
    free(bt.idx), free(bt.start);
    r->train_loss = tokens > 0 ? loss / tokens : NAN;
    r->seconds = now() - t0;
    r->audio_per_second = audio / r->seconds;
    return rc;
}

int nk_train(nk_model *m, const nk_dataset *train, const nk_dataset *dev,
             const nk_train_options *o, const char *resume, nk_epoch_callback cb, void *ctx) {
    if (nk_dataset_size(train) == 0) return nk_fail(NK_ERR_EMPTY, "train: the training set is empty");
    if (o->threads < 1 || o->epochs < 1 || !(o->batch_seconds > 0) || !(o->lr > 0) || o->warmup_steps < 1)
        return nk_fail(NK_ERR_ARG, "train: threads, epochs, batch seconds, learning rate and warm-up must be positive");
    if (nk_dataset_dim(train) != nk_arch_input_dim(nk_model_arch(m)))
        return nk_fail(NK_ERR_ARG, "train: features have %d rows, the model wants %d", nk_dataset_dim(train),
                       nk_arch_input_dim(nk_model_arch(m)));
    /* A measured onset delay belongs to the weights it was measured on; the
     * trained weights (also from --init) must be measured anew. */
    nk_model_set_onset_delay(m, NAN);
    size_t n = nk_model_param_count(m);
    adam_state s = {.m = calloc(n, sizeof(float)), .v = calloc(n, sizeof(float))};
    nk_workspace **ws = calloc((size_t)o->threads, sizeof *ws);
    int rc = s.m && s.v && ws ? NK_OK : nk_fail(NK_ERR_NOMEM, "train: out of memory for the optimizer");
    for (int i = 0; !rc && i < o->threads; i++) rc = nk_workspace_new(m, &ws[i]);
    if (!rc && resume) rc = load_checkpoint(m, &s, o, resume);
    const int total_steps = o->epochs * (int)ceil(nk_dataset_seconds(train) / o->batch_seconds);
    while (!rc && s.epoch < o->epochs) {
        nk_epoch_report r = {.epoch = s.epoch + 1, .dev_cer = -1, .dev_wer = -1};
        rc = train_epoch(m, ws, train, o, &s, total_steps, &r);
        if (rc) break;
        s.epoch++;
        r.step = s.step;
        if (dev && nk_dataset_size(dev) > 0) {
            nk_error_counts c;
            rc = nk_evaluate(m, dev, o->threads, NULL, NULL, &c);
            if (rc) break;
            r.dev_cer = nk_cer(&c);
            r.dev_wer = nk_wer(&c);
        }
        if (o->checkpoint && (rc = save_checkpoint(m, &s, o, o->checkpoint)) != 0) break;
        if (cb && cb(&r, ctx)) break;
    }
    for (int i = 0; ws && i < o->threads; i++) nk_workspace_free(ws[i]);
    free(ws);
    free(s.m);
    free(s.v);
    return rc;
}
