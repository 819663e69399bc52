/* NAP accumulation: an utterance's events → windows → partial sums, and the
 * driver that runs utterances on threads and adds them in order. */
#include "nap_worker.h"

#include "napkit/error.h"
#include "napkit/parallel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const nk_nap_mode_names[] = {"act", "gxa", "absgxa", "gradmask", NULL};
const char *const nk_nap_center_names[] = {"peak", "span", "grad", NULL};
const char *const nk_nap_target_names[] = {"logit", "logprob", NULL};

void nk_nap_worker_free(nk_nap_worker *w) {
    if (!w) return;
    for (int b = 0; b < NK_NAP_BATCH; b++) {
        for (int l = 0; w->g && w->g[b] && l < w->arch->n_layers; l++) free(w->g[b][l]);
        if (w->g) free(w->g[b]);
        if (w->lo) free(w->lo[b]);
        if (w->hi) free(w->hi[b]);
    }
    nk_workspace_free(w->ws);
    free(w->lo), free(w->hi), free(w->g), free(w->gz), free(w->gx), free(w->scratch), free(w->column);
    free(w->part), free(w->n_events), free(w->touched), free(w->is_touched);
    free(w);
}

int nk_nap_worker_new(const nk_model *m, const nk_nap_sums *s, nk_nap_worker **out) {
    *out = NULL;
    const nk_arch *a = nk_model_arch(m);
    const int L = a->n_layers, G = s->G;
    for (int i = 0; i < s->cfg.n_layers; i++)
        if (s->cfg.layers[i] >= L || s->channels[i] != a->layers[s->cfg.layers[i]].out)
            return nk_fail(NK_ERR_ARG, "naps: the sums do not fit model %s (layer %d)", a->name, s->cfg.layers[i]);
    nk_nap_worker *w = calloc(1, sizeof *w);
    int *width = malloc(L * sizeof *width);
    int ok = w && width;
    if (ok) {
        w->model = m, w->arch = a, w->sums = s;
        w->frame_seconds = (double)a->frontend.hop / a->frontend.sample_rate;
        w->lo = calloc(NK_NAP_BATCH, sizeof *w->lo), w->hi = calloc(NK_NAP_BATCH, sizeof *w->hi);
        w->g = calloc(NK_NAP_BATCH, sizeof *w->g);
        w->part = calloc((size_t)G * s->block, sizeof *w->part);
        w->column = malloc(2 * (size_t)a->n_classes * sizeof *w->column);
        w->n_events = calloc(G, sizeof *w->n_events);
        w->touched = malloc(G * sizeof *w->touched), w->is_touched = calloc(G, 1);
        ok = w->lo && w->hi && w->g && w->part && w->column && w->n_events && w->touched && w->is_touched &&
             !nk_workspace_new(m, &w->ws);
    }
    if (ok) {
        nap_cone_widths(a, width);
        for (int b = 0; ok && b < NK_NAP_BATCH; b++) {
            ok = (w->lo[b] = calloc(L, sizeof(int))) && (w->hi[b] = calloc(L, sizeof(int))) &&
                 (w->g[b] = calloc(L, sizeof(float *)));
            for (int l = 0; ok && l < L; l++) {
                size_t n = (size_t)a->layers[l].out * width[l];
                ok = (w->g[b][l] = malloc((n > (size_t)a->n_classes ? n : (size_t)a->n_classes) * sizeof(float))) != NULL;
            }
        }
        /* packed buffers for the backward of layers 1 … L−1 (layer 0's input gradient is never needed) */
        size_t gz = 1, gx = 1, scratch = 1;
        for (int l = 1; l < L; l++) {
            nk_layer_spec packed = a->layers[l];
            packed.padding = 0;
            const size_t N = (size_t)NK_NAP_BATCH * nap_slot_columns(&packed, width[l]);
            if (N * packed.out > gz) gz = N * packed.out;
            if (N * packed.stride * packed.in > gx) gx = N * packed.stride * packed.in;
            if (nk_conv1d_scratch(&packed, (int)N) > scratch) scratch = nk_conv1d_scratch(&packed, (int)N);
        }
        ok = ok && (w->gz = malloc(gz * sizeof(float))) && (w->gx = malloc(gx * sizeof(float))) &&
             (w->scratch = malloc(scratch * sizeof(float)));
    }
    free(width);
    if (!ok) {
        nk_nap_worker_free(w);
        return nk_fail(NK_ERR_NOMEM, "naps: out of memory for a worker");
    }
    *out = w;
    return NK_OK;
}

nk_workspace *nk_nap_worker_ws(nk_nap_worker *w) { return w->ws; }

/* Frame of layer l (total stride S) for time tau; INT_MIN-ish when far outside. */
static long frame_of(const nk_nap_worker *w, int l, double tau) {
    double f = floor(tau / (w->frame_seconds * nk_arch_total_stride(w->arch, l)) + 0.5);
    return f < -1e9 ? -1000000000L : f > 1e9 ? 1000000000L : (long)f;
}

/* Event b's gradient at (c, u) of layer l (zero outside its cone). */
static inline float cone_at(const nk_nap_worker *w, int b, int l, int c, long u) {
    const int lo = w->lo[b][l], hi = w->hi[b][l];
    if (u < lo || u >= hi) return 0;
    return w->g[b][l][(size_t)c * (hi - lo) + (u - lo)];
}

/* GradNAP centre: the frame of the span with the largest Σ_c |∂y/∂A · A| (first on ties). */
static long grad_centre(const nk_nap_worker *w, int b, int l, const nk_nap_event *e, long fallback) {
    const int Tl = nk_ws_frames(w->ws, l), C = w->arch->layers[l].out;
    const float *A = nk_ws_act(w->ws, l);
    long u0 = frame_of(w, l, e->start), u1 = frame_of(w, l, e->end);
    if (u1 <= u0) u1 = u0 + 1;
    if (u0 < w->lo[b][l]) u0 = w->lo[b][l];
    if (u1 > w->hi[b][l]) u1 = w->hi[b][l];
    long best = fallback;
    double best_r = -1;
    for (long u = u0; u < u1 && u < Tl; u++) {
        double r = 0;
        for (int c = 0; c < C; c++) r += fabs((double)cone_at(w, b, l, c, u) * A[(size_t)c * Tl + u]);
        if (r > best_r) best_r = r, best = u;
    }
    return best;
}

/* Adds event e's window of the i-th chosen layer to block (count, sum, sumsq);
 * b is its slot in the last cone pass. */
static void add_window(nk_nap_worker *w, int b, int i, const nk_nap_event *e, double *block) {
    const nk_nap_config *cfg = &w->sums->cfg;
    const int l = cfg->layers[i], Tl = nk_ws_frames(w->ws, l), C = w->sums->channels[i], win = cfg->window;
    const size_t W = 2 * (size_t)win + 1;
    const float *A = nk_ws_act(w->ws, l);
    long u = frame_of(w, l, e->peak);
    if (cfg->center == NK_NAP_CENTER_SPAN) { /* the middle frame of [start, end), the earlier of two */
        long f0 = frame_of(w, l, e->start), f1 = frame_of(w, l, e->end);
        u = f1 > f0 ? f0 + (f1 - f0 - 1) / 2 : f0;
    }
    if (cfg->center == NK_NAP_CENTER_GRAD) u = grad_centre(w, b, l, e, u);
    long d0 = -u > -win ? -u : -win, d1 = Tl - 1 - u < win ? Tl - 1 - u : win; /* frames inside [0, Tl) */
    double *count = block + w->sums->off[i], *sum = count + W, *sumsq = sum + (size_t)C * W;
    for (long d = d0; d <= d1; d++) count[d + win] += 1;
    for (int c = 0; c < C; c++) {
        const float *row = A + (size_t)c * Tl;
        for (long d = d0; d <= d1; d++) {
            double a = row[u + d], v = a;
            if (cfg->mode != NK_NAP_ACT) {
                double g = cone_at(w, b, l, c, u + d);
                v = cfg->mode == NK_NAP_GXA ? a * g : cfg->mode == NK_NAP_ABSGXA ? a * fabs(g) : g > 0 ? a : 0;
            }
            sum[(size_t)c * W + d + win] += v;
            sumsq[(size_t)c * W + d + win] += v * v;
        }
    }
}

/* One batch of events: their cone gradients (when needed) in one pass, then their windows. */
static int add_batch(nk_nap_worker *w, const nk_nap_event *const *batch, const int *k, const int *t, int n,
                     int need_grad) {
    const nk_nap_config *cfg = &w->sums->cfg;
    if (need_grad) {
        int rc = nk_nap_cone_grads(w, n, k, t, cfg->target, cfg->layers[0]);
        if (rc) return rc;
    }
    for (int b = 0; b < n; b++) {
        const int g = batch[b]->group;
        double *block = w->part + g * w->sums->block;
        for (int i = 0; i < cfg->n_layers; i++) add_window(w, b, i, batch[b], block);
        if (!w->is_touched[g]) w->is_touched[g] = 1, w->touched[w->n_touched++] = g;
        w->n_events[g]++;
    }
    return NK_OK;
}

int nk_nap_worker_utterance(nk_nap_worker *w, const float *x, int T, const nk_nap_event *ev, int n) {
    const nk_nap_sums *s = w->sums;
    const nk_nap_config *cfg = &s->cfg;
    for (int j = 0; j < w->n_touched; j++) {
        int g = w->touched[j];
        memset(w->part + g * s->block, 0, s->block * sizeof *w->part);
        w->n_events[g] = 0, w->is_touched[g] = 0;
    }
    w->n_touched = 0, w->skipped = 0;
    int rc = nk_model_forward(w->model, w->ws, x, T);
    if (rc) return rc;
    const int L = w->arch->n_layers, TL = nk_ws_frames(w->ws, L - 1);
    const int need_grad = cfg->mode != NK_NAP_ACT || cfg->center == NK_NAP_CENTER_GRAD;
    const nk_nap_event *batch[NK_NAP_BATCH];
    int k[NK_NAP_BATCH], t[NK_NAP_BATCH], nb = 0;
    for (int j = 0; !rc && j < n; j++) {
        const nk_nap_event *e = &ev[j];
        if (e->group < 0 || e->group >= s->G)
            return nk_fail(NK_ERR_ARG, "naps: event %d has group %d of %d", j, e->group, s->G);
        long f = frame_of(w, L - 1, e->peak);
        if (f < 0 || f >= TL || !(e->start <= e->peak && e->peak <= e->end) ||
            (need_grad && (e->target < 0 || e->target >= w->arch->n_classes))) {
            w->skipped++; /* beyond the utterance's end (a stale alignment), or no target letter */
            continue;
        }
        batch[nb] = e, k[nb] = e->target, t[nb] = (int)f;
        if (++nb == NK_NAP_BATCH) rc = add_batch(w, batch, k, t, nb, need_grad), nb = 0;
    }
    if (!rc && nb) rc = add_batch(w, batch, k, t, nb, need_grad);
    return rc;
}

int nk_nap_sums_add(nk_nap_sums *s, nk_nap_worker *w, const char *id) {
    if (w->sums != s && (w->sums->G != s->G || w->sums->block != s->block))
        return nk_fail(NK_ERR_ARG, "naps: the worker was made for other sums");
    int rc = nap_sums_add_utt(s, id, w->skipped);
    if (rc) return rc;
    /* In group order, so the additions do not depend on the order events came in. */
    for (int g = 0; g < s->G; g++)
        if (w->is_touched[g]) nap_sums_add_block(s, g, w->part + g * s->block, w->n_events[g]);
    return NK_OK;
}

/* nk_nap_run's job: one worker per thread, sums added in utterance order. */
typedef struct {
    nk_nap_sums *s;
    const nk_nap_utt *u;
    nk_nap_worker **w;
    nk_nap_callback cb;
    void *ctx;
    size_t done;
} nap_run;

static int nap_run_work(void *ctx, int worker, size_t i) {
    nap_run *r = ctx;
    return nk_nap_worker_utterance(r->w[worker], r->u[i].x, r->u[i].T, r->u[i].ev, r->u[i].n_ev);
}

static int nap_run_commit(void *ctx, int worker, size_t i, int work_rc, const char *work_error) {
    nap_run *r = ctx;
    int rc = work_rc ? NK_OK : nk_nap_sums_add(r->s, r->w[worker], r->u[i].id);
    r->done++;
    if (rc) return rc;
    if (r->cb && r->cb(r->ctx, r->done, &r->u[i], work_error))
        return nk_fail(NK_ERR_INTERRUPTED, "naps: stopped after %zu utterances", r->done);
    return NK_OK;
}

int nk_nap_run(const nk_model *m, nk_nap_sums *s, const nk_nap_utt *u, size_t n, int threads,
               nk_nap_callback cb, void *ctx) {
    if (n == 0) return NK_OK; /* e.g. an MPI rank whose share has no events: its sums may have no groups */
    const int W = nk_parallel_workers(n, threads);
    nap_run r = {s, u, calloc(W, sizeof(nk_nap_worker *)), cb, ctx, 0};
    int rc = r.w ? NK_OK : nk_fail(NK_ERR_NOMEM, "naps: out of memory");
    for (int i = 0; !rc && i < W; i++) rc = nk_nap_worker_new(m, s, &r.w[i]);
    if (!rc) rc = nk_parallel_for(n, W, nap_run_work, nap_run_commit, &r);
    for (int i = 0; r.w && i < W; i++) nk_nap_worker_free(r.w[i]);
    free(r.w);
    return rc;
}
