/* Forward and backward of the conv stack against an independent reference: a
 * naive double-precision implementation written here (direct loops, no BLAS),
 * differentiated by central finite differences. Checked per layer type (conv
 * with stride/padding/dilation/1×1, each activation, log-softmax) and for a
 * whole small net seeded at every layer, at the log-probs and through CTC. */
#include "check.h"
#include "napkit/napkit.h"
#include "napkit/model.h"

#include <math.h>
#include <stdint.h>

static uint64_t rng = 0x243F6A8885A308D3ull;

static double uniform(double lo, double hi) { // splitmix64 → [lo, hi)
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return lo + (hi - lo) * (double)(z >> 11) * 0x1.0p-53;
}

static void fill(float *v, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++) v[i] = (float)uniform(lo, hi);
}

/* ---- the reference: naive convolution in double ---- */

static double *to_double(const float *v, size_t n) {
    double *d = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) d[i] = v[i];
    return d;
}


// out (C_out, T_out) = conv(x (C_in, T_in)) with w (C_out, C_in, k), b (C_out)
static void ref_conv(const nk_layer_spec *s, const double *w, const double *b, const double *x,
                     int T_in, double *out, int T_out) {
    for (int o = 0; o < s->out; o++)
        for (int t = 0; t < T_out; t++) {
            double acc = b[o];
            for (int c = 0; c < s->in; c++)
                for (int j = 0; j < s->kernel; j++) {
                    int src = t * s->stride + j * s->dilation - s->padding;
                    if (src >= 0 && src < T_in)
                        acc += w[((size_t)o * s->in + c) * s->kernel + j] * x[(size_t)c * T_in + src];
                }
            out[(size_t)o * T_out + t] = acc;
        }
}

static double ref_act(nk_activation act, double z) {
    if (act == NK_ACT_RELU) return z > 0 ? z : 0;
    if (act == NK_ACT_HARDTANH) return z < -1 ? -1 : z > 1 ? 1 : z;
    return z;
}

/* A small net in double: parameters p (model layout), seeds r[l] on each layer
 * output and r_lp on the log-probs. The scalar objective is
 *   y = Σ_{l ≥ from} <r[l], A^l> + (with_lp) <r_lp, log_softmax(A^{L-1})>,
 * computed from layer `from`'s output `a_from` (the input X when from = −1). */
typedef struct {
    const nk_arch *arch;
    const nk_model *m;
    double *p;
    int T, lens[16];
    float *r[16], *r_lp;
} ref_net;

/* Layers from+1 .. upto of the reference net, starting from layer `from`'s
 * output a_from (the input X when from = −1). pre[l] and post[l] (malloc'd,
 * NULL elsewhere) receive each layer's output before and after its activation. */
static void ref_layers(const ref_net *n, int from, const double *a_from, int upto, double **pre,
                       double **post) {
    const nk_arch *a = n->arch;
    const double *in = a_from;
    for (int l = 0; l < 16; l++) pre[l] = post[l] = NULL;
    for (int l = from + 1; l < a->n_layers && l <= upto; l++) {
        const nk_layer_spec *s = &a->layers[l];
        size_t cnt = (size_t)s->out * n->lens[l];
        const double *w = n->p + nk_model_layer_offset(n->m, l);
        pre[l] = malloc(cnt * sizeof(double));
        post[l] = malloc(cnt * sizeof(double));
        ref_conv(s, w, w + (size_t)s->out * s->in * s->kernel, in, l ? n->lens[l - 1] : n->T,
                 pre[l], n->lens[l]);
        for (size_t i = 0; i < cnt; i++) post[l][i] = ref_act(s->activation, pre[l][i]);
        in = post[l];
    }
}

static void ref_free_layers(double **pre, double **post) {
    for (int l = 0; l < 16; l++) free(pre[l]), free(post[l]);
}

// lp (K, T) = log_softmax over the rows of z (K, T), in double
static void ref_log_softmax(const double *z, double *lp, int K, int T) {
    for (int t = 0; t < T; t++) {
        double mx = -INFINITY, sum = 0;
        for (int k = 0; k < K; k++) mx = fmax(mx, z[(size_t)k * T + t]);
        for (int k = 0; k < K; k++) sum += exp(z[(size_t)k * T + t] - mx);
        for (int k = 0; k < K; k++) lp[(size_t)k * T + t] = z[(size_t)k * T + t] - mx - log(sum);
    }
}

static double ref_objective(const ref_net *n, int from, const double *a_from, int upto, int with_lp) {
    const nk_arch *a = n->arch;
    const int L = a->n_layers;
    double y = 0, *pre[16], *post[16];
    if (from >= 0)
        for (size_t i = 0; i < (size_t)a->layers[from].out * n->lens[from]; i++)
            y += n->r[from][i] * a_from[i];
    ref_layers(n, from, a_from, upto, pre, post);
    for (int l = from + 1; l < L && l <= upto; l++)
        for (size_t i = 0; i < (size_t)a->layers[l].out * n->lens[l]; i++) y += n->r[l][i] * post[l][i];
    if (with_lp && upto >= L - 1) {
        const size_t cnt = (size_t)a->n_classes * n->lens[L - 1];
        double *lp = malloc(cnt * sizeof(double));
        ref_log_softmax(from == L - 1 ? a_from : post[L - 1], lp, a->n_classes, n->lens[L - 1]);
        for (size_t i = 0; i < cnt; i++) y += n->r_lp[i] * lp[i];
        free(lp);
    }
    ref_free_layers(pre, post);
    return y;
}

/* Central difference of ref_objective with respect to v[i] (v is a_from or p). */
static double fd(const ref_net *n, int from, double *a_from, int upto, int with_lp, double *v, size_t i) {
    const double h = 1e-6, keep = v[i];
    v[i] = keep + h;
    double up = ref_objective(n, from, a_from, upto, with_lp);
    v[i] = keep - h;
    double down = ref_objective(n, from, a_from, upto, with_lp);
    v[i] = keep;
    return (up - down) / (2 * h);
}

/* max |got − want| / max |want| over n values, want in double. */
static double rel_err(const float *got, const double *want, size_t n) {
    double err = 0, ref = 1e-30;
    for (size_t i = 0; i < n; i++) {
        err = fmax(err, fabs(got[i] - want[i]));
        ref = fmax(ref, fabs(want[i]));
    }
    return err / ref;
}

/* Stride, padding, dilation, 1×1 and every activation, in five layers. */
static const char tiny_json[] =
    "{\"name\": \"tiny\", \"alphabet\": [\"_\", \" \", \"a\", \"b\"], \"blank\": 0,"
    " \"frontend\": {\"kind\": \"logmel\", \"n_mels\": 3},"
    " \"layers\": ["
    "  {\"type\": \"conv1d\", \"in\": 3, \"out\": 4, \"kernel\": 5, \"stride\": 2, \"padding\": 2},"
    "  {\"type\": \"conv1d\", \"in\": 4, \"out\": 5, \"kernel\": 3, \"dilation\": 2, \"padding\": 1,"
    "   \"activation\": \"hardtanh\"},"
    "  {\"type\": \"conv1d\", \"in\": 5, \"out\": 3, \"kernel\": 4, \"stride\": 3},"
    "  {\"type\": \"conv1d\", \"in\": 3, \"out\": 6, \"kernel\": 1, \"activation\": \"none\"},"
    "  {\"type\": \"conv1d\", \"in\": 6, \"out\": 4, \"kernel\": 1, \"activation\": \"relu\"}]}";

static nk_model *tiny_model(void) {
    nk_arch a;
    nk_model *m = NULL;
    CHECK_OK(nk_arch_parse(tiny_json, "tiny", &a));
    CHECK_OK(nk_model_new(&a, &m));
    nk_arch_free(&a);
    nk_model_init(m, 7);
    float *p = nk_model_params(m);
    for (size_t i = 0; i < nk_model_param_count(m); i++) p[i] *= 2.5f; /* reach hardtanh's flats */
    return m;
}

/* ---- per layer type ---- */

static void test_conv_layer_types(void) {
    const nk_layer_spec specs[] = {
        {3, 4, 5, 2, 2, 1, NK_ACT_NONE}, {4, 3, 3, 1, 0, 2, NK_ACT_NONE},
        {2, 5, 4, 3, 3, 1, NK_ACT_NONE}, {5, 6, 1, 1, 0, 1, NK_ACT_NONE},
        {3, 2, 1, 2, 1, 1, NK_ACT_NONE}, {2, 3, 7, 1, 9, 3, NK_ACT_NONE},
    };
    for (size_t c = 0; c < sizeof specs / sizeof specs[0]; c++) {
        const nk_layer_spec *s = &specs[c];
        const int T_in = 17;
        long n = T_in + 2L * s->padding - (long)s->dilation * (s->kernel - 1) - 1;
        const int T_out = (int)(n / s->stride + 1);
        size_t nx = (size_t)s->in * T_in, nw = (size_t)s->out * s->in * s->kernel,
               ny = (size_t)s->out * T_out;
        float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc(s->out * 4), *y = malloc(ny * 4),
              *g = malloc(ny * 4), *gx = calloc(nx, 4), *gw = calloc(nw, 4), *gb = calloc(s->out, 4),
              *scratch = malloc((nk_conv1d_scratch(s, T_out) + 1) * 4);
        double *xd = malloc(nx * 8), *wd = malloc(nw * 8), *bd = malloc(s->out * 8), *yd = malloc(ny * 8);
        fill(x, nx, -1, 1), fill(w, nw, -1, 1), fill(b, s->out, -1, 1), fill(g, ny, -1, 1);
        for (size_t i = 0; i < nx; i++) xd[i] = x[i];
        for (size_t i = 0; i < nw; i++) wd[i] = w[i];
        for (int i = 0; i < s->out; i++) bd[i] = b[i];
        nk_conv1d_forward(s, w, b, x, T_in, y, T_out, scratch);
        ref_conv(s, wd, bd, xd, T_in, yd, T_out);
        CHECK(rel_err(y, yd, ny) < 1e-6);
        nk_conv1d_backward(s, w, x, T_in, g, T_out, gx, gw, gb, scratch);
        /* The layer is linear, so <g, conv(·)> differenced by a unit step is exact in double. */
        double *want = malloc((nx > nw ? nx : nw) * 8), *yp = malloc(ny * 8);
        for (int which = 0; which < 3; which++) {
            double *v = which == 0 ? xd : which == 1 ? wd : bd;
            size_t cnt = which == 0 ? nx : which == 1 ? nw : (size_t)s->out;
            for (size_t i = 0; i < cnt; i++) {
                double keep = v[i], dy = 0;
                v[i] = keep + 1;
                ref_conv(s, wd, bd, xd, T_in, yp, T_out);
                for (size_t k = 0; k < ny; k++) dy += g[k] * (yp[k] - yd[k]);
                v[i] = keep;
                want[i] = dy;
            }
            const float *got = which == 0 ? gx : which == 1 ? gw : gb;
            double e = rel_err(got, want, cnt);
            if (!(e < 1e-5)) fprintf(stderr, "spec %zu, %s: rel err %g\n", c, which == 0 ? "x" : which == 1 ? "w" : "b", e);
            CHECK(e < 1e-5);
        }
        /* Input gradients accumulate: a second backward doubles them. */
        for (size_t i = 0; i < nx; i++) want[i] = 2.0 * gx[i];
        nk_conv1d_backward(s, w, x, T_in, g, T_out, gx, NULL, NULL, scratch);
        CHECK(rel_err(gx, want, nx) < 1e-6);
        free(want), free(yp), free(x), free(w), free(b), free(y), free(g), free(gx), free(gw);
        free(gb), free(scratch), free(xd), free(wd), free(bd), free(yd);
    }
}

static void test_activations(void) {
    const nk_activation acts[] = {NK_ACT_NONE, NK_ACT_RELU, NK_ACT_HARDTANH};
    enum { N = 200 };
    float z[N], a[N], g[N], gz[N];
    fill(z, N, -3, 3), fill(g, N, -1, 1);
    for (int c = 0; c < 3; c++) {
        nk_activation_forward(acts[c], z, a, N);
        nk_activation_backward(acts[c], NK_RULE_GRADIENT, z, g, gz, N);
        for (int i = 0; i < N; i++) {
            CHECK(a[i] == (float)ref_act(acts[c], z[i]));
            double h = 1e-6, d = (ref_act(acts[c], z[i] + h) - ref_act(acts[c], z[i] - h)) / (2 * h);
            CHECK_NEAR(gz[i], g[i] * d, 1e-6);
        }
        /* Guided backprop: the gradient gate, and only positive signal. */
        nk_activation_backward(acts[c], NK_RULE_GUIDED, z, g, gz, N);
        for (int i = 0; i < N; i++) {
            double d = acts[c] == NK_ACT_NONE ? 1 : (ref_act(acts[c], z[i] + 1e-6) != ref_act(acts[c], z[i] - 1e-6));
            double want = acts[c] == NK_ACT_NONE ? g[i] : (g[i] > 0 ? g[i] * d : 0);
            CHECK(gz[i] == (float)want);
        }
    }
    /* In place, as the pass uses it. */
    memcpy(a, z, sizeof z);
    nk_activation_forward(NK_ACT_RELU, a, a, N);
    for (int i = 0; i < N; i++) CHECK(a[i] == (z[i] > 0 ? z[i] : 0));
}

static void test_log_softmax(void) {
    enum { K = 7, T = 300 }; /* more than one column block */
    static float z[K * T], lp[K * T], g[K * T], gz[K * T];
    static double want[K * T];
    fill(z, K * T, -30, 30), fill(g, K * T, -1, 1);
    nk_log_softmax_forward(z, lp, K, T);
    double *zd = to_double(z, K * T);
    ref_log_softmax(zd, want, K, T);
    free(zd);
    CHECK(rel_err(lp, want, K * T) < 1e-6);
    /* Backward vs finite differences of <g, log_softmax(z)> in double, per column. */
    nk_log_softmax_backward(lp, g, gz, K, T);
    for (int t = 0; t < T; t += 37)
        for (int k = 0; k < K; k++) {
            double d[2];
            for (int side = 0; side < 2; side++) {
                double zz[K], mx = -INFINITY, sum = 0, y = 0;
                for (int q = 0; q < K; q++) zz[q] = z[q * T + t] + (q == k ? (side ? -1e-6 : 1e-6) : 0);
                for (int q = 0; q < K; q++) mx = fmax(mx, zz[q]);
                for (int q = 0; q < K; q++) sum += exp(zz[q] - mx);
                for (int q = 0; q < K; q++) y += g[q * T + t] * (zz[q] - mx - log(sum));
                d[side] = y;
            }
            CHECK_NEAR(gz[k * T + t], (d[0] - d[1]) / 2e-6, 1e-5);
        }
}

/* ---- the whole net ---- */

/* A ref_net mirroring model m, with random seeds everywhere. */
static void ref_setup(ref_net *n, nk_model *m, int T) {
    memset(n, 0, sizeof *n);
    n->m = m;
    n->arch = nk_model_arch(m);
    n->T = T;
    CHECK_OK(nk_arch_frames(n->arch, T, n->lens));
    size_t np = nk_model_param_count(m);
    n->p = malloc(np * sizeof(double));
    for (size_t i = 0; i < np; i++) n->p[i] = nk_model_params(m)[i];
    for (int l = 0; l < n->arch->n_layers; l++) {
        size_t cnt = (size_t)n->arch->layers[l].out * n->lens[l];
        n->r[l] = malloc(cnt * sizeof(float));
        fill(n->r[l], cnt, -1, 1);
    }
    size_t nlp = (size_t)n->arch->n_classes * n->lens[n->arch->n_layers - 1];
    n->r_lp = malloc(nlp * sizeof(float));
    fill(n->r_lp, nlp, -1, 1);
}

static void ref_free(ref_net *n) {
    free(n->p);
    free(n->r_lp);
    for (int l = 0; l < 16; l++) free(n->r[l]);
}

/* Writes the ref_net's seeds into the workspace (layers ≤ upto; log-probs if with_lp). */
static void seed(ref_net *n, nk_workspace *ws, int upto, int with_lp) {
    for (int l = 0; l <= upto && l < n->arch->n_layers; l++)
        memcpy(nk_ws_grad(ws, l), n->r[l], (size_t)n->arch->layers[l].out * n->lens[l] * sizeof(float));
    if (with_lp)
        memcpy(nk_ws_log_probs_grad(ws), n->r_lp,
               (size_t)n->arch->n_classes * n->lens[n->arch->n_layers - 1] * sizeof(float));
}

static void test_whole_net_gradients(void) {
    nk_model *m = tiny_model();
    const nk_arch *a = nk_model_arch(m);
    const int T = 40, F = 3, L = a->n_layers;
    float x[3 * 40];
    fill(x, F * T, -2, 2);
    ref_net n;
    ref_setup(&n, m, T);
    nk_workspace *ws;
    CHECK_OK(nk_workspace_new(m, &ws));
    CHECK_OK(nk_model_forward(m, ws, x, T));
    for (int l = 0; l < L; l++) CHECK(nk_ws_frames(ws, l) == n.lens[l]);
    CHECK(nk_ws_frames(ws, -1) == T);

    /* Forward: every layer before and after its activation, and the log-probs. */
    double *xd = to_double(x, F * T), *pre[16], *post[16];
    ref_layers(&n, -1, xd, L, pre, post);
    for (int l = 0; l < L; l++) {
        size_t cnt = (size_t)a->layers[l].out * n.lens[l];
        CHECK(rel_err(nk_ws_preact(ws, l), pre[l], cnt) < 1e-5);
        CHECK(rel_err(nk_ws_act(ws, l), post[l], cnt) < 1e-5);
    }
    double lp[4 * 20];
    ref_log_softmax(post[L - 1], lp, a->n_classes, n.lens[L - 1]);
    CHECK(rel_err(nk_ws_log_probs(ws), lp, a->n_classes * n.lens[L - 1]) < 1e-5);
    ref_free_layers(pre, post);

    /* Backward from seeds at every layer and at the log-probs. */
    seed(&n, ws, L - 1, 1);
    CHECK_OK(nk_model_backward(m, ws, L, NK_RULE_GRADIENT, 1));
    double *want = malloc(4096 * sizeof(double));
    for (size_t i = 0; i < (size_t)F * T; i++) want[i] = fd(&n, -1, xd, L, 1, xd, i);
    CHECK(rel_err(nk_ws_input_grad(ws), want, F * T) < 1e-4);
    for (int l = 0; l < L; l++) {
        size_t cnt = (size_t)a->layers[l].out * n.lens[l];
        double *al = to_double(nk_ws_act(ws, l), cnt);
        for (size_t i = 0; i < cnt; i++) want[i] = fd(&n, l, al, L, 1, al, i);
        double e = rel_err(nk_ws_grad(ws, l), want, cnt);
        if (!(e < 1e-4)) fprintf(stderr, "layer %d grad rel err %g\n", l, e);
        CHECK(e < 1e-4);
        free(al);
    }
    size_t np = nk_model_param_count(m);
    CHECK(np < 4096);
    for (size_t i = 0; i < np; i++) want[i] = fd(&n, -1, xd, L, 1, n.p, i);
    CHECK(rel_err(nk_ws_param_grads(ws), want, np) < 1e-4);

    /* Starting lower: seeds at layers ≤ 2 only; the rest is ignored. */
    nk_ws_zero_grads(ws);
    seed(&n, ws, L - 1, 1);
    CHECK_OK(nk_model_backward(m, ws, 2, NK_RULE_GRADIENT, 0));
    for (size_t i = 0; i < (size_t)F * T; i++) want[i] = fd(&n, -1, xd, 2, 0, xd, i);
    CHECK(rel_err(nk_ws_input_grad(ws), want, F * T) < 1e-4);

    /* Repeating a backward after clearing gives the same input gradient. */
    float first[3 * 40];
    memcpy(first, nk_ws_input_grad(ws), sizeof first);
    nk_ws_zero_grads(ws);
    seed(&n, ws, 2, 0);
    CHECK_OK(nk_model_backward(m, ws, 2, NK_RULE_GRADIENT, 0));
    CHECK(!memcmp(first, nk_ws_input_grad(ws), sizeof first));

    CHECK(nk_model_backward(m, ws, L + 1, NK_RULE_GRADIENT, 0) == NK_ERR_ARG);
    free(want);
    free(xd);
    ref_free(&n);
    nk_workspace_free(ws);
    nk_model_free(m);
}

/* Guided backprop through the net equals the same chain done by hand with the
 * primitives: the rule is applied at every gated activation. */
static void test_guided_rule(void) {
    nk_model *m = tiny_model();
    const nk_arch *a = nk_model_arch(m);
    const int T = 40, L = a->n_layers;
    float x[3 * 40];
    fill(x, 3 * T, -2, 2);
    nk_workspace *ws;
    CHECK_OK(nk_workspace_new(m, &ws));
    CHECK_OK(nk_model_forward(m, ws, x, T));
    const int TL = nk_ws_frames(ws, L - 1);
    nk_ws_grad(ws, L - 1)[2 * TL + 1] = 1;
    CHECK_OK(nk_model_backward(m, ws, L - 1, NK_RULE_GUIDED, 0));
    /* By hand. */
    float *g = calloc(4096, 4), *gz = calloc(4096, 4), *gin = calloc(4096, 4), *scratch = calloc(4096, 4);
    g[2 * TL + 1] = 1;
    for (int l = L - 1; l >= 0; l--) {
        const nk_layer_spec *s = &a->layers[l];
        int T_in = nk_ws_frames(ws, l - 1);
        nk_activation_backward(s->activation, NK_RULE_GUIDED, nk_ws_preact(ws, l), g, gz,
                               (size_t)s->out * nk_ws_frames(ws, l));
        memset(gin, 0, 4096 * 4);
        nk_conv1d_backward(s, nk_model_params(m) + nk_model_layer_offset(m, l),
                           l ? nk_ws_act(ws, l - 1) : nk_ws_input(ws), T_in, gz, nk_ws_frames(ws, l),
                           gin, NULL, NULL, scratch);
        if (l) CHECK(!memcmp(gin, nk_ws_grad(ws, l - 1), (size_t)s->in * T_in * 4));
        memcpy(g, gin, 4096 * 4);
    }
    CHECK(!memcmp(g, nk_ws_input_grad(ws), 3 * T * 4));
    free(g), free(gz), free(gin), free(scratch);
    nk_workspace_free(ws);
    nk_model_free(m);
}

/* One workspace across lengths: long, short, long gives the fresh results. */
static void test_workspace_reuse(void) {
    nk_model *m = tiny_model();
    const int L = nk_model_arch(m)->n_layers;
    float x[3 * 90];
    fill(x, 3 * 90, -2, 2);
    nk_workspace *fresh, *ws;
    CHECK_OK(nk_workspace_new(m, &fresh));
    CHECK_OK(nk_workspace_new(m, &ws));
    int lens[] = {90, 25, 90, 60};
    for (int i = 0; i < 4; i++) {
        /* x is (3, T): take the first T frames of each row into a packed copy. */
        int T = lens[i];
        float xs[3 * 90];
        for (int f = 0; f < 3; f++) memcpy(xs + f * T, x + f * 90, T * 4);
        CHECK_OK(nk_model_forward(m, ws, xs, T));
        nk_ws_log_probs_grad(ws)[0] = 1;
        CHECK_OK(nk_model_backward(m, ws, L, NK_RULE_GRADIENT, 0));
        CHECK_OK(nk_model_forward(m, fresh, xs, T));
        nk_ws_log_probs_grad(fresh)[0] = 1;
        CHECK_OK(nk_model_backward(m, fresh, L, NK_RULE_GRADIENT, 0));
        int TL = nk_ws_frames(ws, L - 1);
        CHECK(!memcmp(nk_ws_log_probs(ws), nk_ws_log_probs(fresh), 4 * TL * 4));
        CHECK(!memcmp(nk_ws_input_grad(ws), nk_ws_input_grad(fresh), 3 * T * 4));
        nk_workspace_free(fresh);
        CHECK_OK(nk_workspace_new(m, &fresh));
    }
    nk_workspace_free(fresh);
    nk_workspace_free(ws);
    nk_model_free(m);
}

static void test_bad_input(void) {
    nk_model *m = tiny_model();
    nk_workspace *ws;
    CHECK_OK(nk_workspace_new(m, &ws));
    float x[3 * 40];
    fill(x, 3 * 40, -1, 1);
    CHECK(nk_model_backward(m, ws, 0, NK_RULE_GRADIENT, 0) == NK_ERR_ARG); /* no forward yet */
    x[17] = NAN;
    CHECK(nk_model_forward(m, ws, x, 40) == NK_ERR_NUMERIC);
    CHECK(strstr(nk_last_error(), "not finite") != NULL);
    x[17] = 0;
    CHECK(nk_model_forward(m, ws, x, 0) == NK_ERR_ARG);
    /* Layer 2 (kernel 4, no padding) needs 4 frames of layer 1, i.e. T ≥ 11. */
    CHECK(nk_model_forward(m, ws, x, 10) == NK_ERR_ARG);
    CHECK(strstr(nk_last_error(), "too few") != NULL);
    CHECK_OK(nk_model_forward(m, ws, x, 11));
    /* Overflowing weights are caught, not passed on as NaN. */
    nk_model_params(m)[0] = 3e38f;
    nk_model_params(m)[1] = 3e38f;
    for (int i = 0; i < 3 * 40; i++) x[i] = 1e30f;
    CHECK(nk_model_forward(m, ws, x, 40) == NK_ERR_NUMERIC);
    CHECK(nk_model_backward(m, ws, 0, NK_RULE_GRADIENT, 0) == NK_ERR_ARG);
    nk_workspace_free(ws);
    nk_model_free(m);
}

/* ---- through CTC ---- */

/* The CTC-seeded input gradient against a finite difference of the CTC loss
 * (nk_ctc_loss on the double reference's log-probs) along a random direction. */
static void test_ctc_seeded(void) {
    nk_model *m = tiny_model();
    const nk_arch *a = nk_model_arch(m);
    const int T = 90, F = 3, L = a->n_layers, K = a->n_classes;
    float x[3 * 90], dir[3 * 90];
    fill(x, F * T, -2, 2), fill(dir, F * T, -1, 1);
    nk_workspace *ws;
    CHECK_OK(nk_workspace_new(m, &ws));
    CHECK_OK(nk_model_forward(m, ws, x, T));
    const int TL = nk_ws_frames(ws, L - 1), labels[] = {2, 3, 3, 1, 2};
    double nll;
    CHECK_OK(nk_ctc_loss(nk_ws_log_probs(ws), K, TL, labels, 5, 0, &nll, nk_ws_log_probs_grad(ws)));
    CHECK_OK(nk_model_backward(m, ws, L, NK_RULE_GRADIENT, 0));
    double analytic = 0;
    for (int i = 0; i < F * T; i++) analytic += dir[i] * nk_ws_input_grad(ws)[i];
    /* Reference: double forward to logits, log-softmax, float CTC. */
    ref_net n;
    ref_setup(&n, m, T);
    double y[2];
    for (int side = 0; side < 2; side++) {
        double *xd = malloc(F * T * sizeof(double)), *pre[16], *post[16], lpd[4 * 64];
        for (int i = 0; i < F * T; i++) xd[i] = x[i] + (side ? -1e-3 : 1e-3) * dir[i];
        ref_layers(&n, -1, xd, L, pre, post);
        ref_log_softmax(post[L - 1], lpd, K, TL);
        float lp[4 * 64];
        for (int i = 0; i < K * TL; i++) lp[i] = (float)lpd[i];
        CHECK_OK(nk_ctc_loss(lp, K, TL, labels, 5, 0, &y[side], NULL));
        ref_free_layers(pre, post);
        free(xd);
    }
    double numeric = (y[0] - y[1]) / 2e-3;
    fprintf(stderr, "ctc directional derivative: analytic %.6f, numeric %.6f\n", analytic, numeric);
    CHECK(fabs(analytic - numeric) <= 2e-3 * fmax(1, fabs(numeric)));
    ref_free(&n);
    nk_workspace_free(ws);
    nk_model_free(m);
}

/* The batched CTC pass: the same loss and gradients for 1 and 2 workspaces
 * (bit for bit), equal to the per-utterance passes summed in order; an
 * infeasible utterance gets an infinite loss and adds nothing. */
static void test_ctc_batch(void) {
    nk_model *m = tiny_model();
    const nk_arch *a = nk_model_arch(m);
    const int L = a->n_layers, B = 4;
    const size_t np = nk_model_param_count(m);
    const int T[] = {90, 60, 30, 75};
    const int l0[] = {2, 3, 1, 2}, l1[] = {3, 3}, l2[] = {2, 3, 2, 3, 2, 3, 2}, l3[] = {1};
    const int *labels[] = {l0, l1, l2, l3}, U[] = {4, 2, 7, 1};
    float *x[4];
    for (int b = 0; b < B; b++) x[b] = malloc(3 * T[b] * 4), fill(x[b], 3 * T[b], -2, 2);
    nk_workspace *ws[2];
    CHECK_OK(nk_workspace_new(m, &ws[0]));
    CHECK_OK(nk_workspace_new(m, &ws[1]));
    double nll1[4], nll2[4];
    CHECK_OK(nk_model_ctc_batch(m, ws, 1, B, (const float *const *)x, T, labels, U, nll1));
    float *g1 = malloc(np * 4);
    memcpy(g1, nk_model_grads(m), np * 4);
    CHECK_OK(nk_model_ctc_batch(m, ws, 2, B, (const float *const *)x, T, labels, U, nll2));
    CHECK(!memcmp(g1, nk_model_grads(m), np * 4));
    CHECK(!memcmp(nll1, nll2, sizeof nll1));
    CHECK(isinf(nll1[2])); /* T=30 gives 4 output frames, too few for 7 labels */
    /* By hand. */
    float *sum = calloc(np, 4);
    for (int b = 0; b < B; b++) {
        if (b == 2) continue;
        double nll;
        nk_ws_zero_param_grads(ws[0]);
        CHECK_OK(nk_model_forward(m, ws[0], x[b], T[b]));
        CHECK_OK(nk_ctc_loss(nk_ws_log_probs(ws[0]), a->n_classes, nk_ws_frames(ws[0], L - 1),
                             labels[b], U[b], 0, &nll, nk_ws_log_probs_grad(ws[0])));
        CHECK_OK(nk_model_backward(m, ws[0], L, NK_RULE_GRADIENT, 1));
        CHECK(nll == nll1[b]);
        for (size_t i = 0; i < np; i++) sum[i] += nk_ws_param_grads(ws[0])[i];
    }
    CHECK(!memcmp(sum, g1, np * 4));
    free(sum), free(g1);
    for (int b = 0; b < B; b++) free(x[b]);
    nk_workspace_free(ws[0]);
    nk_workspace_free(ws[1]);
    nk_model_free(m);
}

static void test_init(void) {
    nk_model *m = tiny_model(), *m2 = tiny_model();
    CHECK(!memcmp(nk_model_params(m), nk_model_params(m2), nk_model_param_count(m) * 4));
    nk_model_init(m, 7);
    const nk_arch *a = nk_model_arch(m);
    for (int l = 0; l < a->n_layers; l++) {
        const nk_layer_spec *s = &a->layers[l];
        double bound = 1 / sqrt((double)s->in * s->kernel), mx = 0;
        const float *p = nk_model_params(m) + nk_model_layer_offset(m, l);
        for (size_t i = 0; i < (size_t)s->out * s->in * s->kernel + s->out; i++) mx = fmax(mx, fabs(p[i]));
        CHECK(mx <= bound && mx > 0.5 * bound);
    }
    nk_model_free(m);
    nk_model_free(m2);
}

/* Kaiming initialization keeps the scale of the activations through a deep
 * ReLU stack (the reason to train with it), where PyTorch's default loses a
 * factor of about √6 per layer; weights stay in their bound, biases are zero. */
static void test_init_kaiming(void) {
    enum { L = 10, C = 64, F = 16, T = 200 };
    char json[4096];
    int n = snprintf(json, sizeof json,
                     "{\"name\": \"deep\", \"alphabet\": [\"_\", \"a\"], \"blank\": 0,"
                     " \"frontend\": {\"kind\": \"logmel\", \"n_mels\": %d}, \"layers\": [", F);
    for (int l = 0; l < L; l++)
        n += snprintf(json + n, sizeof json - n,
                      "{\"type\": \"conv1d\", \"in\": %d, \"out\": %d, \"kernel\": 7, \"padding\": 3}%s",
                      l ? C : F, l < L - 1 ? C : 2, l < L - 1 ? ", " : "]}");
    nk_arch a;
    nk_model *m = NULL;
    nk_workspace *ws = NULL;
    CHECK_OK(nk_arch_parse(json, "deep", &a));
    CHECK_OK(nk_model_new(&a, &m));
    nk_arch_free(&a);
    CHECK_OK(nk_workspace_new(m, &ws));
    float *x = malloc(sizeof(float) * F * T);
    fill(x, (size_t)F * T, -1.7f, 1.7f); /* about unit variance, like normalized features */
    double ratio[2];
    for (int scheme = NK_INIT_PYTORCH; scheme <= NK_INIT_KAIMING; scheme++) {
        nk_model_init_with(m, (nk_init_scheme)scheme, 3);
        CHECK_OK(nk_model_forward(m, ws, x, T));
        double rms[2]; /* of layer 0's and layer L−2's pre-activations, the input-driven part */
        for (int k = 0; k < 2; k++) {
            const int l = k ? L - 2 : 0;
            const float *z = nk_ws_preact(ws, l);
            double sq = 0; /* about each channel's mean over time: the biases' share left out */
            for (int c = 0; c < C; c++) {
                double mean = 0;
                for (int t = 0; t < T; t++) mean += z[c * T + t] / T;
                for (int t = 0; t < T; t++) sq += (z[c * T + t] - mean) * (z[c * T + t] - mean);
            }
            rms[k] = sqrt(sq / (C * T));
        }
        ratio[scheme] = rms[1] / rms[0];
        const nk_arch *ar = nk_model_arch(m);
        for (int l = 0; l < ar->n_layers && scheme == NK_INIT_KAIMING; l++) {
            const nk_layer_spec *sp = &ar->layers[l];
            const size_t nw = (size_t)sp->out * sp->in * sp->kernel;
            const double bound = sqrt(3 * (sp->activation == NK_ACT_RELU ? 2.0 : 1.0) / (sp->in * sp->kernel));
            const float *p = nk_model_params(m) + nk_model_layer_offset(m, l);
            double mx = 0, bias = 0;
            for (size_t i = 0; i < nw; i++) mx = fmax(mx, fabs(p[i]));
            for (int i = 0; i < sp->out; i++) bias = fmax(bias, fabs(p[nw + i]));
            CHECK(mx <= bound && mx > 0.9 * bound);
            CHECK(bias == 0);
        }
    }
    CHECK(ratio[NK_INIT_KAIMING] > 0.1 && ratio[NK_INIT_KAIMING] < 3);
    CHECK(ratio[NK_INIT_PYTORCH] < 0.01);
    free(x);
    nk_workspace_free(ws);
    nk_model_free(m);
}

/* tiny_json with every hidden layer wider (the input features and classes as they are). */
static const char wide_json[] =
    "{\"name\": \"wide\", \"alphabet\": [\"_\", \" \", \"a\", \"b\"], \"blank\": 0,"
    " \"frontend\": {\"kind\": \"logmel\", \"n_mels\": 3},"
    " \"layers\": ["
    "  {\"type\": \"conv1d\", \"in\": 3, \"out\": 6, \"kernel\": 5, \"stride\": 2, \"padding\": 2},"
    "  {\"type\": \"conv1d\", \"in\": 6, \"out\": 8, \"kernel\": 3, \"dilation\": 2, \"padding\": 1,"
    "   \"activation\": \"hardtanh\"},"
    "  {\"type\": \"conv1d\", \"in\": 8, \"out\": 5, \"kernel\": 4, \"stride\": 3},"
    "  {\"type\": \"conv1d\", \"in\": 5, \"out\": 9, \"kernel\": 1, \"activation\": \"none\"},"
    "  {\"type\": \"conv1d\", \"in\": 9, \"out\": 4, \"kernel\": 1, \"activation\": \"relu\"}]}";

static nk_model *model_from_json(const char *json, uint64_t seed) {
    nk_arch a;
    nk_model *m = NULL;
    CHECK_OK(nk_arch_parse(json, "test", &a));
    CHECK_OK(nk_model_new(&a, &m));
    nk_arch_free(&a);
    nk_model_init(m, seed);
    return m;
}

/* Growing a trained model into a wider architecture keeps its log-probs, and
 * the zeroed weights into the old units get gradients (they learn); an equal
 * architecture copies; a narrower one, another alphabet or front end fails. */
static void test_grow(void) {
    nk_model *small = tiny_model(), *wide = model_from_json(wide_json, 9);
    nk_model_set_onset_delay(small, 0.05);
    CHECK_OK(nk_model_grow(wide, small, "small.safetensors"));
    CHECK(isnan(nk_model_onset_delay(wide)));
    const int T = 60, F = 3;
    float x[3 * 60];
    fill(x, (size_t)F * T, -2, 2);
    nk_workspace *ws_s, *ws_w;
    CHECK_OK(nk_workspace_new(small, &ws_s));
    CHECK_OK(nk_workspace_new(wide, &ws_w));
    CHECK_OK(nk_model_forward(small, ws_s, x, T));
    CHECK_OK(nk_model_forward(wide, ws_w, x, T));
    const int L = nk_model_arch(small)->n_layers, K = nk_model_arch(small)->n_classes;
    const int Tout = nk_ws_frames(ws_s, L - 1);
    CHECK(nk_ws_frames(ws_w, L - 1) == Tout);
    double worst = 0;
    for (int i = 0; i < K * Tout; i++)
        worst = fmax(worst, fabs(nk_ws_log_probs(ws_s)[i] - nk_ws_log_probs(ws_w)[i]));
    CHECK(worst < 1e-5);
    /* Layer 1's extra inputs (channels 4, 5 of layer 0) into its old outputs start at 0 and learn. */
    const float *first = (const float *)x;
    const int labels[] = {2, 3, 2}, U = 3;
    const int *lab = labels;
    double nll;
    CHECK_OK(nk_model_ctc_batch(wide, &ws_w, 1, 1, &first, &T, &lab, &U, &nll));
    const nk_layer_spec *s1 = &nk_model_arch(wide)->layers[1];
    const size_t w1 = nk_model_layer_offset(wide, 1);
    double zero_block = 0, grad_block = 0;
    for (int o = 0; o < 5; o++)
        for (int i = 4; i < s1->in; i++)
            for (int k = 0; k < s1->kernel; k++) {
                size_t j = w1 + ((size_t)o * s1->in + i) * s1->kernel + k;
                zero_block += fabs(nk_model_params(wide)[j]);
                grad_block += fabs(nk_model_grads(wide)[j]);
            }
    CHECK(zero_block == 0 && grad_block > 0);
    /* Equal architecture: a copy. */
    nk_model *copy = tiny_model();
    nk_model_init(copy, 3);
    CHECK_OK(nk_model_grow(copy, small, "small.safetensors"));
    CHECK(!memcmp(nk_model_params(copy), nk_model_params(small), nk_model_param_count(small) * 4));
    /* Narrower, another alphabet: refused, naming the file and the reason. */
    CHECK(nk_model_grow(small, wide, "wide.safetensors") == NK_ERR_ARG);
    CHECK(strstr(nk_last_error(), "wide.safetensors") && strstr(nk_last_error(), "channels"));
    nk_arch a;
    CHECK_OK(nk_arch_parse(wide_json, "test", &a));
    free(a.alphabet[3]);
    a.alphabet[3] = strdup("c");
    nk_model *other = NULL;
    CHECK_OK(nk_model_new(&a, &other));
    CHECK(nk_model_grow(other, small, "small.safetensors") == NK_ERR_ARG);
    CHECK(strstr(nk_last_error(), "alphabet"));
    nk_arch_free(&a);
    nk_model_free(other);
    nk_model_free(copy);
    nk_workspace_free(ws_s);
    nk_workspace_free(ws_w);
    nk_model_free(small);
    nk_model_free(wide);
}

int main(void) {
    RUN(test_conv_layer_types);
    RUN(test_activations);
    RUN(test_log_softmax);
    RUN(test_whole_net_gradients);
    RUN(test_guided_rule);
    RUN(test_workspace_reuse);
    RUN(test_bad_input);
    RUN(test_ctc_seeded);
    RUN(test_ctc_batch);
    RUN(test_init);
    RUN(test_init_kaiming);
    RUN(test_grow);
    return check_summary();
}
