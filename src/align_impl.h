/* Internal helpers shared by the align module's files. */
#ifndef NAPKIT_ALIGN_IMPL_H
#define NAPKIT_ALIGN_IMPL_H

#include <stddef.h>

/* Median of n values (the mean of the middle two for even n; NaN for n = 0).
 * Sorts v in place. */
double nk_align_median(double *v, size_t n);

#endif
