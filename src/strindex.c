#include "strindex.h"

#include "napkit/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t fnv1a(const char *k) {
    uint64_t h = 1469598103934665603u;
    for (; *k; k++) h = (h ^ (unsigned char)*k) * 1099511628211u;
    return (size_t)h;
}

/* The slot of key, or of the empty slot where it would go. */
static size_t slot_of(const nk_strindex *x, char *const *strs, const char *key) {
    size_t i = fnv1a(key) & (x->cap - 1);
    while (x->slot[i] && strcmp(strs[x->slot[i] - 1], key)) i = (i + 1) & (x->cap - 1);
    return i;
}

long nk_strindex_find(const nk_strindex *x, char *const *strs, const char *key) {
    if (!x->cap) return -1;
    size_t s = x->slot[slot_of(x, strs, key)];
    return s ? (long)s - 1 : -1;
}

int nk_strindex_add(nk_strindex *x, char *const *strs, size_t n) {
    if (2 * n > x->cap) { /* grow and re-index the first n − 1 */
        size_t cap = x->cap ? 2 * x->cap : 128;
        while (2 * n > cap) cap *= 2;
        size_t *slot = calloc(cap, sizeof *slot);
        if (!slot) return nk_fail(NK_ERR_NOMEM, "out of memory");
        free(x->slot);
        x->slot = slot, x->cap = cap;
        for (size_t i = 0; i + 1 < n; i++) x->slot[slot_of(x, strs, strs[i])] = i + 1;
    }
    x->slot[slot_of(x, strs, strs[n - 1])] = n;
    return NK_OK;
}

void nk_strindex_free(nk_strindex *x) {
    free(x->slot);
    x->slot = NULL, x->cap = 0;
}
