#include "napkit/ctc_beam.h"

#include "napkit/error.h"

#include <math.h>
#include <stdlib.h>

/* A prefix: a node of the tree of every prefix the search has made, so that a
 * prefix is extended by a label once, whatever frame it happens at, and its
 * language model score is computed once. */
typedef struct {
    int parent, label, length;
    int child, sibling;       /* first child and next sibling; −1 for none */
    double lm;                /* lm_weight · log P_lm(prefix) + bonus · length */
    double pb, pnb;           /* log P_ctc of the prefix ending in blank / in its last label, up to this frame */
    double next_pb, next_pnb; /* the same one frame on */
    int frame;                /* the frame next_pb, next_pnb are for; −1 for none */
} beam_node;

typedef struct {
    double score;
    int node;
} beam_candidate;

typedef struct {
    const nk_ctc_beam_options *o;
    beam_node *nodes;
    int n_nodes, cap_nodes;
    beam_candidate *cand; /* the prefixes the current frame reached */
    int n_cand, cap_cand;
} beam_search;

void nk_ctc_beam_defaults(nk_ctc_beam_options *o) {
    *o = (nk_ctc_beam_options){.beam = 16, .prune = 10, .lm = NULL, .lm_weight = 0.5, .bonus = 0};
}

static double log_add(double a, double b) {
    if (a < b) {
        double t = a;
        a = b, b = t;
    }
    return b == -INFINITY ? a : a + log1p(exp(b - a));
}

static int grow(void **p, int *cap, size_t size) {
    int c = *cap ? 2 * *cap : 256;
    void *q = realloc(*p, (size_t)c * size);
    if (!q) return nk_fail(NK_ERR_NOMEM, "beam search: out of memory");
    *p = q, *cap = c;
    return NK_OK;
}

/* lm_weight · log P_lm(next | the prefix at node), next a label or EOS. */
static double lm_term(const beam_search *s, int node, int next) {
    const nk_ctc_beam_options *o = s->o;
    if (!o->lm || o->lm_weight == 0) return 0;
    int hist[NK_CHARLM_MAX_ORDER], n = nk_charlm_order(o->lm) - 1;
    if (n > s->nodes[node].length) n = s->nodes[node].length;
    for (int i = n - 1; i >= 0; i--, node = s->nodes[node].parent) hist[i] = s->nodes[node].label;
    return o->lm_weight * nk_charlm_logprob(o->lm, hist, n, next);
}

/* The child of prefix p by label c, made when new; −1 when out of memory. */
static int child(beam_search *s, int p, int c) {
    int q = s->nodes[p].child;
    while (q >= 0 && s->nodes[q].label != c) q = s->nodes[q].sibling;
    if (q >= 0) return q;
    if (s->n_nodes == s->cap_nodes && grow((void **)&s->nodes, &s->cap_nodes, sizeof *s->nodes)) return -1;
    q = s->n_nodes++;
    s->nodes[q] = (beam_node){.parent = p, .label = c, .length = s->nodes[p].length + 1, .child = -1,
                              .sibling = s->nodes[p].child, .lm = s->nodes[p].lm + s->o->bonus + lm_term(s, p, c),
                              .frame = -1};
    s->nodes[p].child = q;
    return q;
}

/* Adds probability (log) to node q's blank- or label-ending share at frame t. */
static int reach(beam_search *s, int q, int t, int blank_ending, double logp) {
    beam_node *n = &s->nodes[q];
    if (n->frame != t) {
        if (s->n_cand == s->cap_cand && grow((void **)&s->cand, &s->cap_cand, sizeof *s->cand)) return NK_ERR_NOMEM;
        s->cand[s->n_cand++].node = q;
        n->frame = t, n->next_pb = n->next_pnb = -INFINITY;
    }
    if (blank_ending) n->next_pb = log_add(n->next_pb, logp);
    else n->next_pnb = log_add(n->next_pnb, logp);
    return NK_OK;
}

static int by_score(const void *a, const void *b) {
    const beam_candidate *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->node > y->node) - (x->node < y->node); /* ties: the older prefix, for determinism */
}

/* One frame: every kept prefix extended by blank and by each class not pruned. */
static int step(beam_search *s, const float *lp, int K, int T, int t, int blank, const beam_candidate *beam, int n_beam) {
    float best = -INFINITY;
    for (int k = 0; k < K; k++) best = fmaxf(best, lp[k * T + t]);
    int rc = NK_OK;
    for (int i = 0; !rc && i < n_beam; i++) {
        const int p = beam[i].node;
        const double pb = s->nodes[p].pb, pnb = s->nodes[p].pnb, total = log_add(pb, pnb);
        rc = reach(s, p, t, 1, total + lp[blank * T + t]);
        for (int c = 0; !rc && c < K; c++) {
            const double x = lp[c * T + t];
            if (c == blank || (s->o->prune > 0 && x < best - s->o->prune)) continue;
            const int q = child(s, p, c);
            if (q < 0) return NK_ERR_NOMEM;
            if (c == s->nodes[p].label) { /* a repeat extends only after a blank; otherwise it collapses into p */
                rc = reach(s, p, t, 0, pnb + x);
                if (!rc) rc = reach(s, q, t, 0, pb + x);
            } else {
                rc = reach(s, q, t, 0, total + x);
            }
        }
    }
    return rc;
}

int nk_ctc_beam(const float *log_probs, int K, int T, int blank, const nk_ctc_beam_options *o, int *labels_out,
                int *n_out) {
    *n_out = 0;
    if (o->beam < 1) return nk_fail(NK_ERR_ARG, "beam search: beam %d, needs at least 1", o->beam);
    if (o->lm && (blank != 0 || nk_charlm_eos(o->lm) != K))
        return nk_fail(NK_ERR_ARG, "beam search: the language model needs %d classes with the blank first, not %d with blank %d",
                       nk_charlm_eos(o->lm), K, blank);
    beam_search s = {.o = o};
    beam_candidate *beam = malloc((size_t)o->beam * sizeof *beam);
    int rc = beam && !grow((void **)&s.nodes, &s.cap_nodes, sizeof *s.nodes) ? NK_OK
                                                                           : nk_fail(NK_ERR_NOMEM, "beam search: out of memory");
    int n_beam = 1;
    if (!rc) {
        s.nodes[0] = (beam_node){.parent = -1, .label = -1, .child = -1, .sibling = -1, .pnb = -INFINITY, .frame = -1};
        s.n_nodes = 1;
        beam[0].node = 0;
    }
    for (int t = 0; !rc && t < T; t++) {
        s.n_cand = 0;
        rc = step(&s, log_probs, K, T, t, blank, beam, n_beam);
        for (int i = 0; !rc && i < s.n_cand; i++) {
            beam_node *n = &s.nodes[s.cand[i].node];
            s.cand[i].score = log_add(n->next_pb, n->next_pnb) + n->lm;
        }
        if (rc) break;
        qsort(s.cand, (size_t)s.n_cand, sizeof *s.cand, by_score);
        n_beam = s.n_cand < o->beam ? s.n_cand : o->beam;
        for (int i = 0; i < n_beam; i++) {
            beam_node *n = &s.nodes[s.cand[i].node];
            n->pb = n->next_pb, n->pnb = n->next_pnb;
            beam[i] = s.cand[i];
        }
    }
    int best = 0;
    double best_score = -INFINITY;
    for (int i = 0; !rc && i < n_beam; i++) {
        const int p = beam[i].node;
        const double score = log_add(s.nodes[p].pb, s.nodes[p].pnb) + s.nodes[p].lm + lm_term(&s, p, K); /* K: the LM's EOS */
        if (score > best_score) best = p, best_score = score;
    }
    if (!rc) {
        *n_out = s.nodes[best].length;
        for (int p = best, i = *n_out - 1; i >= 0; p = s.nodes[p].parent, i--) labels_out[i] = s.nodes[p].label;
    }
    free(beam), free(s.nodes), free(s.cand);
    return rc;
}
