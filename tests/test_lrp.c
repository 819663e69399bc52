/* LRP against a slow explicit reference: every connection (out unit k at its
 * frame ← in unit j at its frame, weight w_jk) of every conv layer is
 * enumerated directly, the rule's contributions z_jk and denominators z_k are
 * formed per connection in double, and R_j = Σ_k z_jk / z_k · R_k. Also:
 * relevance conservation for ε → 0 with zero biases (every rule and input
 * rule), and LRP-ε = gradient × input for a ReLU net without biases. */
#include "check.h"
#include "napkit/napkit.h"

#define DIR "tests/fixtures/attrib/"

static nk_model *load_tiny(int zero_biases) {
    nk_model *m = NULL;
    if (nk_model_load(DIR "tiny.safetensors", &m)) {
        fprintf(stderr, "fixture: %s\n", nk_last_error());
        exit(1);
    }
    const nk_arch *a = nk_model_arch(m);
    for (int l = 0; zero_biases && l < a->n_layers; l++) {
        const nk_layer_spec *s = &a->layers[l];
        float *b = nk_model_params(m) + nk_model_layer_offset(m, l) + (size_t)s->out * s->in * s->kernel;
        memset(b, 0, s->out * sizeof *b);
    }
    return m;
}

/* ---- the reference ---- */

typedef struct {
    nk_attr_method rule;
    int input;          /* 1 at layer 0 with an input rule other than SAME */
    nk_lrp_input_rule in_rule;
    double gamma, eps, lo, hi;
    int sign;           /* αβ: +1 for the positive part, −1 for the negative */
} ref_rule;

/* z_jk of one connection (input value a, weight w). */
static double contribution(const ref_rule *r, double a, double w) {
    if (r->input && r->in_rule == NK_LRP_INPUT_ZB) return a * w - r->lo * fmax(w, 0) - r->hi * fmin(w, 0);
    if (r->input && r->in_rule == NK_LRP_INPUT_W2) return w * w;
    if (r->rule == NK_ATTR_LRP_AB) return r->sign > 0 ? fmax(a * w, 0) : fmin(a * w, 0);
    if (r->rule == NK_ATTR_LRP_GAMMA) return a * (w + r->gamma * fmax(w, 0));
    return a * w;
}

static double bias_term(const ref_rule *r, double b) {
    if (r->input || r->rule == NK_ATTR_LRP_AB) return 0;
    return r->rule == NK_ATTR_LRP_GAMMA ? b + r->gamma * fmax(b, 0) : b;
}

/* r_in (C_in, T_in) += scale · relevance of r_out through one layer under r. */
static void ref_layer(const nk_layer_spec *s, const float *w, const float *b, const float *a, int T_in,
                      const double *r_out, int T_out, const ref_rule *r, double scale, double *r_in) {
    const double eps = r->input || r->rule == NK_ATTR_LRP_AB ? 0 : r->eps;
    for (int o = 0; o < s->out; o++)
        for (int t = 0; t < T_out; t++) {
            double z = bias_term(r, b[o]);
            for (int pass = 0; pass < 2; pass++) { // pass 0 forms z_k, pass 1 hands out R_k
                if (pass == 1) z += z >= 0 ? eps : -eps;
                for (int c = 0; c < s->in; c++)
                    for (int j = 0; j < s->kernel; j++) {
                        int src = t * s->stride + j * s->dilation - s->padding;
                        if (src < 0 || src >= T_in) continue;
                        double zjk = contribution(r, a[c * T_in + src], w[(o * s->in + c) * s->kernel + j]);
                        if (pass == 0) z += zjk;
                        else if (z != 0) r_in[c * T_in + src] += scale * zjk / z * r_out[o * T_out + t];
                    }
            }
        }
}

static void ref_lrp(const nk_model *m, const nk_workspace *ws, const nk_target *tg, nk_attr_method rule,
                    const nk_attr_options *o, double *rel) {
    const nk_arch *a = nk_model_arch(m);
    const int F = nk_arch_input_dim(a), T = nk_ws_frames(ws, -1);
    double *r = calloc(4096, sizeof *r), *next = calloc(4096, sizeof *next);
    const int Tt = nk_ws_frames(ws, tg->layer);
    for (int t = tg->t0; t < tg->t1; t++) r[tg->channel * Tt + t] = nk_ws_act(ws, tg->layer)[tg->channel * Tt + t];
    float lo = nk_ws_input(ws)[0], hi = lo;
    for (int i = 0; i < F * T; i++) lo = fminf(lo, nk_ws_input(ws)[i]), hi = fmaxf(hi, nk_ws_input(ws)[i]);
    for (int l = tg->layer; l >= 0; l--) {
        const nk_layer_spec *s = &a->layers[l];
        const float *w = nk_model_params((nk_model *)m) + nk_model_layer_offset(m, l);
        const float *b = w + (size_t)s->out * s->in * s->kernel;
        const int T_in = nk_ws_frames(ws, l - 1), T_out = nk_ws_frames(ws, l);
        const float *in = l ? nk_ws_act(ws, l - 1) : nk_ws_input(ws);
        ref_rule rr = {rule, l == 0 && o->lrp_input != NK_LRP_INPUT_SAME, o->lrp_input, o->gamma, o->eps, lo, hi, 1};
        memset(next, 0, 4096 * sizeof *next);
        if (rule == NK_ATTR_LRP_AB && !rr.input) { // α · (z⁺ part) − β · (z⁻ part)
            ref_layer(s, w, b, in, T_in, r, T_out, &rr, o->alpha, next);
            rr.sign = -1;
            ref_layer(s, w, b, in, T_in, r, T_out, &rr, 1 - o->alpha, next);
        } else {
            ref_layer(s, w, b, in, T_in, r, T_out, &rr, 1, next);
        }
        double *tmp = r;
        r = next, next = tmp;
    }
    memcpy(rel, r, (size_t)F * T * sizeof *rel);
    free(r), free(next);
}

/* ---- tests ---- */

static float *input(void) {
    nk_array x = {0};
    if (nk_npy_read_f32(DIR "x.npy", &x)) exit(1);
    return x.data;
}

static void compare(const char *spec, nk_attr_method rule, nk_lrp_input_rule in_rule, double eps, double alpha) {
    nk_model *m = load_tiny(0);
    nk_workspace *ws;
    const int F = 8, T = 24;
    float *x = input(), *rel = malloc(sizeof(float) * F * T), *want = malloc(sizeof(float) * F * T);
    double *ref = malloc(sizeof(double) * F * T), lost;
    nk_target tg;
    nk_attr_options o;
    nk_attr_options_default(&o);
    o.lrp_input = in_rule, o.eps = eps, o.alpha = alpha;
    CHECK_OK(nk_workspace_new(m, &ws));
    CHECK_OK(nk_target_parse(spec, &tg));
    CHECK_OK(nk_target_resolve(m, ws, x, T, NULL, 0, &tg));
    CHECK_OK(nk_lrp(m, ws, &tg, rule, &o, rel, &lost));
    ref_lrp(m, ws, &tg, rule, &o, ref);
    for (int i = 0; i < F * T; i++) want[i] = (float)ref[i];
    double err = check_max_rel_err(rel, want, (size_t)F * T);
    if (err > 1e-4)
        fprintf(stderr, "%s %s input %s ε %g α %g: max rel error %.3g\n", spec, nk_attr_method_names[rule],
                nk_lrp_input_names[in_rule], eps, alpha, err);
    CHECK(err <= 1e-4);
    double mx = 0;
    for (int i = 0; i < F * T; i++) mx = fmax(mx, fabs(ref[i]));
    CHECK(mx > 1e-4);
    free(x), free(rel), free(want), free(ref);
    nk_workspace_free(ws);
    nk_model_free(m);
}

static void test_reference(void) {
    const char *specs[] = {"logit:2:5", "unit:1:3:7", "token:0"};
    for (int s = 0; s < 3; s++)
        for (int in = 0; in < 3; in++) {
            compare(specs[s], NK_ATTR_LRP_EPS, in, 0.01, 1);
            compare(specs[s], NK_ATTR_LRP_EPS, in, 0, 1);
            compare(specs[s], NK_ATTR_LRP_GAMMA, in, 1e-9, 1);
            compare(specs[s], NK_ATTR_LRP_AB, in, 0, 1);
            compare(specs[s], NK_ATTR_LRP_AB, in, 0, 2);
        }
}

/* Zero biases and ε → 0: the relevance that reaches X is the relevance at the top. */
static void test_conservation(void) {
    nk_model *m = load_tiny(1);
    nk_workspace *ws;
    const int F = 8, T = 24;
    float *x = input(), *rel = malloc(sizeof(float) * F * T);
    CHECK_OK(nk_workspace_new(m, &ws));
    const char *specs[] = {"logit:2:5", "logit:3:0", "unit:2:1:11", "token:1"};
    const nk_attr_method rules[] = {NK_ATTR_LRP_EPS, NK_ATTR_LRP_GAMMA, NK_ATTR_LRP_AB, NK_ATTR_LRP_AB};
    for (int s = 0; s < 4; s++)
        for (int r = 0; r < 4; r++)
            for (int in = 0; in < 3; in++) {
                nk_target tg;
                nk_attr_options o;
                nk_attr_options_default(&o);
                o.method = rules[r], o.lrp_input = in, o.alpha = r == 3 ? 2 : 1;
                nk_attr_report rep;
                CHECK_OK(nk_target_parse(specs[s], &tg));
                CHECK_OK(nk_target_resolve(m, ws, x, T, NULL, 0, &tg));
                CHECK_OK(nk_attribute(m, ws, x, T, &tg, &o, rel, &rep));
                CHECK(fabs(rep.y) > 1e-3);
                if (!(rep.completeness <= 1e-4 * fabs(rep.y)))
                    fprintf(stderr, "%s %s α %g input %s: ΣR(X) %.7g, R(top) %.7g\n", specs[s],
                            nk_attr_method_names[rules[r]], o.alpha, nk_lrp_input_names[in], rep.sum, rep.y);
                CHECK(rep.completeness <= 1e-4 * fabs(rep.y));
                CHECK_NEAR(rep.sum, rep.y, 1e-4 * fabs(rep.y));
            }
    free(x), free(rel);
    nk_workspace_free(ws);
    nk_model_free(m);
}

/* For a ReLU net without biases, LRP-0 (ε = 0, the same rule at the input) is gradient × input. */
static void test_lrp0_is_gradient_times_input(void) {
    nk_model *m = load_tiny(1);
    nk_workspace *ws;
    const int F = 8, T = 24;
    float *x = input(), *rel = malloc(sizeof(float) * F * T), *gxi = malloc(sizeof(float) * F * T);
    CHECK_OK(nk_workspace_new(m, &ws));
    nk_target tg;
    nk_attr_options o;
    nk_attr_options_default(&o);
    CHECK_OK(nk_target_parse("logit:1:6", &tg));
    CHECK_OK(nk_target_resolve(m, ws, x, T, NULL, 0, &tg));
    o.method = NK_ATTR_GXI;
    CHECK_OK(nk_attribute(m, ws, x, T, &tg, &o, gxi, NULL));
    o.method = NK_ATTR_LRP_EPS, o.eps = 0, o.lrp_input = NK_LRP_INPUT_SAME;
    CHECK_OK(nk_attribute(m, ws, x, T, &tg, &o, rel, NULL));
    CHECK(check_max_rel_err(rel, gxi, (size_t)F * T) < 1e-4);
    free(x), free(rel), free(gxi);
    nk_workspace_free(ws);
    nk_model_free(m);
}

int main(void) {
    RUN(test_reference);
    RUN(test_conservation);
    RUN(test_lrp0_is_gradient_times_input);
    return check_summary();
}
