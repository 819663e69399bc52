/* An index over a caller's growing array of distinct strings: open
 * addressing on FNV-1a, slots hold position + 1 (0 = empty), at most half
 * full. The strings stay the caller's; the index only finds them.
 *
 *   nk_strindex x = {0};
 *   if (nk_strindex_find(&x, strs, key) < 0) { strs[n++] = key; nk_strindex_add(&x, strs, n); }
 *   nk_strindex_free(&x); */
#ifndef NAPKIT_STRINDEX_H
#define NAPKIT_STRINDEX_H

#include <stddef.h>

typedef struct {
    size_t *slot;
    size_t cap;
} nk_strindex;

/* Position of key in strs, or −1. */
long nk_strindex_find(const nk_strindex *x, char *const *strs, const char *key);
/* Indexes strs[n − 1], the string just appended (not already present). */
int nk_strindex_add(nk_strindex *x, char *const *strs, size_t n);
void nk_strindex_free(nk_strindex *x);

#endif
