/* A corpus through two models: per utterance, both forward passes, every
 * compared layer put on the common frame grid and stacked, and the stack's
 * moments streamed into the total in corpus order. */
#include "napkit/compare.h"

#include "napkit/error.h"
#include "napkit/parallel.h"
#include "napkit/features.h"

#include <stdlib.h>
#include <string.h>

static int check_layers(const nk_arch *arch, const int *l, int n, const char *which) {
    for (int i = 0; i < n; i++)
        if (l[i] < 0 || l[i] >= arch->n_layers)
            return nk_fail(NK_ERR_ARG, "compare: model %s (%s) has no layer %d (it has %d)", which, arch->name, l[i],
                           arch->n_layers);
    return NK_OK;
}

int nk_compare_grid(const nk_model *a, const int *la, int na, const nk_model *b, const int *lb, int nb,
                    int *stride, int *step_a, int *step_b) {
    const nk_arch *A = nk_model_arch(a), *B = nk_model_arch(b);
    int rc = check_layers(A, la, na, "A");
    if (!rc) rc = check_layers(B, lb, nb, "B");
    if (rc) return rc;
    if (A->frontend.sample_rate != B->frontend.sample_rate || A->frontend.hop != B->frontend.hop)
        return nk_fail(NK_ERR_ARG, "compare: %s and %s have different frame rates (%d Hz / hop %d vs %d Hz / hop %d)",
                       A->name, B->name, A->frontend.sample_rate, A->frontend.hop, B->frontend.sample_rate,
                       B->frontend.hop);
    int S = 1;
    for (int i = 0; i < na; i++) S = nk_arch_total_stride(A, la[i]) > S ? nk_arch_total_stride(A, la[i]) : S;
    for (int j = 0; j < nb; j++) S = nk_arch_total_stride(B, lb[j]) > S ? nk_arch_total_stride(B, lb[j]) : S;
    for (int side = 0; side < 2; side++) {
        const nk_arch *M = side ? B : A;
        const int *l = side ? lb : la, n = side ? nb : na;
        int *step = side ? step_b : step_a;
        for (int i = 0; i < n; i++) {
            int s = nk_arch_total_stride(M, l[i]);
            if (S % s)
                return nk_fail(NK_ERR_ARG, "compare: layer %d of %s has stride %d, which does not divide the common %d",
                               l[i], M->name, s, S);
            step[i] = S / s;
        }
    }
    *stride = S;
    return NK_OK;
}

/* Per-thread state. */
typedef struct {
    nk_workspace *wa, *wb;
    nk_frontend *fa, *fb; /* fb is NULL when B shares A's front end */
    double *xa, *xb;      /* stacks (PA, cap), (PB, cap) */
    long cap;
    nk_cmp_moments *m;    /* this utterance's moments */
} worker;

typedef struct {
    const nk_model *a, *b;
    const int *la, *lb, *step_a, *step_b;
    int na, nb;
    size_t PA, PB;        /* stack heights */
} job;

static void worker_free(worker *w) {
    nk_workspace_free(w->wa), nk_workspace_free(w->wb);
    nk_frontend_free(w->fa), nk_frontend_free(w->fb);
    free(w->xa), free(w->xb);
    nk_cmp_moments_free(w->m);
}

static int worker_new(const job *j, const int *ca, const int *cb, worker *w) {
    memset(w, 0, sizeof *w);
    const nk_arch *A = nk_model_arch(j->a), *B = nk_model_arch(j->b);
    int rc = nk_workspace_new(j->a, &w->wa);
    if (!rc) rc = nk_workspace_new(j->b, &w->wb);
    if (!rc) rc = nk_frontend_new(&A->frontend, &w->fa);
    if (!rc && !nk_frontend_config_equal(&A->frontend, &B->frontend)) rc = nk_frontend_new(&B->frontend, &w->fb);
    if (!rc) rc = nk_cmp_moments_new(j->na, ca, j->nb, cb, &w->m);
    return rc;
}

/* Copies layer rows onto the grid: frame t of the grid is frame t·step of the layer. */
static void stack(nk_workspace *ws, const int *l, const int *step, int n, long T, double *x) {
    const nk_arch *arch = nk_ws_arch(ws);
    for (int i = 0; i < n; i++) {
        const int C = arch->layers[l[i]].out, Tl = nk_ws_frames(ws, l[i]);
        const float *act = nk_ws_act(ws, l[i]);
        for (int c = 0; c < C; c++, x += T)
            for (long t = 0; t < T; t++) x[t] = act[(size_t)c * Tl + t * step[i]];
    }
}

/* Shortest grid length over the compared layers of one pass. */
static long grid_frames(const nk_workspace *ws, const int *l, const int *step, int n, long T) {
    for (int i = 0; i < n; i++) {
        long g = (nk_ws_frames(ws, l[i]) - 1) / step[i] + 1;
        if (g < T) T = g;
    }
    return T;
}

static int features(nk_frontend *fe, const nk_compare_utt *u, const float *given, int given_T, float **own,
                    const float **x, int *T) {
    if (given) {
        *x = given, *T = given_T;
        return NK_OK;
    }
    if (!u->audio) return nk_fail(NK_ERR_ARG, "%s: neither features nor an audio path", u->id ? u->id : "utterance");
    int F;
    int rc = nk_features_from_file(fe, u->audio, own, &F, T);
    *x = *own;
    return rc;
}

/* The utterance's moments into w->m. */
static int one_utterance(const job *j, worker *w, const nk_compare_utt *u) {
    float *own_a = NULL, *own_b = NULL;
    const float *xa = NULL, *xb = NULL;
    int Ta = 0, Tb = 0;
    int rc = features(w->fa, u, u->xa, u->Ta, &own_a, &xa, &Ta);
    if (!rc) {
        if (u->xb || w->fb) rc = features(w->fb, u, u->xb, u->Tb, &own_b, &xb, &Tb);
        else xb = xa, Tb = Ta; /* same front end: the same features */
    }
    if (!rc) rc = nk_model_forward(j->a, w->wa, xa, Ta);
    if (!rc) rc = nk_model_forward(j->b, w->wb, xb, Tb);
    free(own_a), free(own_b);
    if (rc) return rc;
    long T = grid_frames(w->wa, j->la, j->step_a, j->na, 1L << 30);
    T = grid_frames(w->wb, j->lb, j->step_b, j->nb, T);
    if (T > w->cap) {
        free(w->xa), free(w->xb);
        w->xa = malloc(sizeof(double) * j->PA * T), w->xb = malloc(sizeof(double) * j->PB * T);
        w->cap = w->xa && w->xb ? T : 0;
        if (!w->cap) return nk_fail(NK_ERR_NOMEM, "%s: out of memory for %ld frames", u->id, T);
    }
    stack(w->wa, j->la, j->step_a, j->na, T, w->xa);
    stack(w->wb, j->lb, j->step_b, j->nb, T, w->xb);
    nk_cmp_moments_zero(w->m);
    return nk_cmp_moments_add(w->m, w->xa, w->xb, T);
}

/* nk_compare_run's job: per-worker moments, merged in utterance order. */
typedef struct {
    const job *j;
    worker *w;
    const nk_compare_utt *u;
    nk_cmp_moments *m;
    nk_compare_callback cb;
    void *ctx;
    size_t done, used;
} compare_run;

static int compare_work(void *ctx, int wk, size_t i) {
    compare_run *r = ctx;
    return one_utterance(r->j, &r->w[wk], &r->u[i]);
}

static int compare_commit(void *ctx, int wk, size_t i, int work_rc, const char *work_error) {
    compare_run *r = ctx;
    int rc = work_rc ? NK_OK : nk_cmp_moments_merge(r->m, r->w[wk].m);
    r->done++;
    if (rc) return rc;
    if (!work_rc) r->used++;
    if (r->cb && r->cb(r->ctx, r->done, &r->u[i], work_error))
        return nk_fail(NK_ERR_INTERRUPTED, "compare: stopped after %zu utterances", r->done);
    return NK_OK;
}

int nk_compare_run(const nk_model *a, const int *la, int na, const nk_model *b, const int *lb, int nb,
                   const nk_compare_utt *u, size_t n, int threads, nk_compare_callback cb, void *ctx,
                   nk_cmp_moments *m, size_t *n_used) {
    *n_used = 0;
    int S, *step_a = malloc(sizeof(int) * (na > 0 ? na : 1)), *step_b = malloc(sizeof(int) * (nb > 0 ? nb : 1));
    /* units per compared layer: ca of A, cu of B */
    int *ca = malloc(sizeof(int) * (na > 0 ? na : 1)), *cu = malloc(sizeof(int) * (nb > 0 ? nb : 1));
    if (!step_a || !step_b || !ca || !cu) {
        free(step_a), free(step_b), free(ca), free(cu);
        return nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    }
    int rc = nk_compare_grid(a, la, na, b, lb, nb, &S, step_a, step_b);
    job j = {a, b, la, lb, step_a, step_b, na, nb, 0, 0};
    for (int i = 0; !rc && i < na; i++) ca[i] = nk_model_arch(a)->layers[la[i]].out, j.PA += ca[i];
    for (int i = 0; !rc && i < nb; i++) cu[i] = nk_model_arch(b)->layers[lb[i]].out, j.PB += cu[i];
    const int W = nk_parallel_workers(n, threads);
    worker *w = calloc(W, sizeof *w);
    if (!rc && !w) rc = nk_fail(NK_ERR_NOMEM, "compare: out of memory");
    for (int t = 0; !rc && t < W; t++) rc = worker_new(&j, ca, cu, &w[t]);
    if (!rc) nk_cmp_moments_zero(m);
    compare_run r = {&j, w, u, m, cb, ctx, 0, 0};
    if (!rc) rc = nk_parallel_for(n, W, compare_work, compare_commit, &r);
    *n_used = r.used;
    if (!rc && *n_used == 0) rc = nk_fail(NK_ERR_EMPTY, "compare: none of %zu utterances could be used", n);
    for (int t = 0; w && t < W; t++) worker_free(&w[t]);
    free(w), free(step_a), free(step_b), free(ca), free(cu);
    return rc;
}
