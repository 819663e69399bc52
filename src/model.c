/* The model: an architecture and all its parameters in one contiguous buffer. */
#include "napkit/model.h"

#include "napkit/error.h"
#include "napkit/features.h"
#include "napkit/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct nk_model {
    nk_arch arch;
    size_t n_params;
    size_t *offset;   /* (L) start of layer l's weight; its bias follows */
    float *params;
    float *grads;
    double onset_delay; /* seconds; NAN: not measured for these weights */
};

int nk_model_new(const nk_arch *arch, nk_model **out) {
    *out = NULL;
    nk_model *m = calloc(1, sizeof *m);
    if (!m) return nk_fail(NK_ERR_NOMEM, "model: out of memory");
    int rc = nk_arch_copy(arch, &m->arch);
    if (rc) {
        free(m);
        return rc;
    }
    m->onset_delay = NAN; /* fresh weights have no measured delay */
    m->n_params = nk_arch_param_count(arch);
    m->offset = malloc(arch->n_layers * sizeof *m->offset);
    m->params = calloc(m->n_params, sizeof *m->params);
    m->grads = calloc(m->n_params, sizeof *m->grads);
    if (!m->offset || !m->params || !m->grads) {
        nk_model_free(m);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory for %zu parameters", arch->name,
                       nk_arch_param_count(arch));
    }
    size_t off = 0;
    for (int l = 0; l < arch->n_layers; l++) {
        const nk_layer_spec *s = &arch->layers[l];
        m->offset[l] = off;
        off += (size_t)s->out * s->in * s->kernel + s->out;
    }
    *out = m;
    return NK_OK;
}

void nk_model_free(nk_model *m) {
    if (!m) return;
    nk_arch_free(&m->arch);
    free(m->offset);
    free(m->params);
    free(m->grads);
    free(m);
}

const nk_arch *nk_model_arch(const nk_model *m) { return &m->arch; }
size_t nk_model_param_count(const nk_model *m) { return m->n_params; }
float *nk_model_params(nk_model *m) { return m->params; }
float *nk_model_grads(nk_model *m) { return m->grads; }
size_t nk_model_layer_offset(const nk_model *m, int l) { return m->offset[l]; }
double nk_model_onset_delay(const nk_model *m) { return m->onset_delay; }
void nk_model_set_onset_delay(nk_model *m, double seconds) { m->onset_delay = seconds; }

/* Fills every layer's weights with U(−w, w) and its biases with U(−b, b), where
 * (w, b) come from the layer's fan_in and activation under `scheme`. */
void nk_model_init_with(nk_model *m, nk_init_scheme scheme, uint64_t seed) {
    uint64_t state = seed;
    for (int l = 0; l < m->arch.n_layers; l++) {
        const nk_layer_spec *s = &m->arch.layers[l];
        const double fan_in = (double)s->in * s->kernel;
        /* PyTorch: kaiming_uniform(a=√5) on the weight and its bias rule both
         * give 1/√fan_in, which keeps only a third of the variance a ReLU layer
         * needs: deep stacks start with outputs that barely depend on the
         * input. Kaiming (He et al. 2015): variance gain/fan_in with gain 2
         * before a ReLU, 1 before none or hardtanh, and zero biases. */
        const double gain = s->activation == NK_ACT_RELU ? 2.0 : 1.0;
        const double w = scheme == NK_INIT_KAIMING ? sqrt(3 * gain / fan_in) : 1 / sqrt(fan_in);
        const double b = scheme == NK_INIT_KAIMING ? 0 : 1 / sqrt(fan_in);
        const size_t n_weights = (size_t)s->out * s->in * s->kernel, n = n_weights + s->out;
        float *p = m->params + m->offset[l];
        for (size_t i = 0; i < n; i++) {
            p[i] = (float)((2 * nk_rng_uniform(&state) - 1) * (i < n_weights ? w : b));
        }
    }
}

void nk_model_init(nk_model *m, uint64_t seed) { nk_model_init_with(m, NK_INIT_PYTORCH, seed); }

/* Why src cannot seed m, or NULL. */
static const char *growth_mismatch(const nk_arch *a, const nk_arch *b) {
    if (!nk_frontend_config_equal(&a->frontend, &b->frontend)) return "front end";
    if (a->n_classes != b->n_classes || a->blank != b->blank) return "alphabet";
    for (int k = 0; k < a->n_classes; k++)
        if (strcmp(a->alphabet[k], b->alphabet[k])) return "alphabet";
    if (a->n_layers != b->n_layers) return "number of layers";
    for (int l = 0; l < a->n_layers; l++) {
        const nk_layer_spec *x = &a->layers[l], *y = &b->layers[l];
        if (x->kernel != y->kernel || x->stride != y->stride || x->padding != y->padding ||
            x->dilation != y->dilation || x->activation != y->activation)
            return "layer shapes";
        if (x->in < y->in || x->out < y->out) return "channels (it is wider)";
    }
    if (a->layers[0].in != b->layers[0].in) return "input features";
    return NULL;
}

int nk_model_grow(nk_model *m, const nk_model *src, const char *src_name) {
    const char *why = growth_mismatch(&m->arch, &src->arch);
    if (why)
        return nk_fail(NK_ERR_ARG, "%s: cannot start %s from it: different %s", src_name, m->arch.name, why);
    for (int l = 0; l < m->arch.n_layers; l++) {
        const nk_layer_spec *d = &m->arch.layers[l], *s = &src->arch.layers[l];
        const int k = d->kernel;
        float *dw = m->params + m->offset[l], *db = dw + (size_t)d->out * d->in * k;
        const float *sw = src->params + src->offset[l], *sb = sw + (size_t)s->out * s->in * k;
        for (int o = 0; o < s->out; o++) {
            float *row = dw + (size_t)o * d->in * k;
            memcpy(row, sw + (size_t)o * s->in * k, (size_t)s->in * k * sizeof *row);
            memset(row + (size_t)s->in * k, 0, (size_t)(d->in - s->in) * k * sizeof *row);
            db[o] = sb[o];
        }
    }
    m->onset_delay = NAN;
    return NK_OK;
}
