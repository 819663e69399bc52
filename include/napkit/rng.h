/* napkit's one random number generator: splitmix64 (Steele, Lea and Flood
 * 2014). Its output depends only on the seed and the position in the stream,
 * so every seeded result (initial weights, shuffles, augmentation, noise) is
 * the same on every platform and for every thread count. The state is a bare
 * uint64_t: seed it with any value, copy it to fork a stream. */
#ifndef NAPKIT_RNG_H
#define NAPKIT_RNG_H

#include <stdint.h>

/* The splitmix64 finalizer: a bijective 64-bit mix, also for deriving seeds. */
uint64_t nk_rng_mix(uint64_t z);

/* The next 64 random bits. */
uint64_t nk_rng_next(uint64_t *state);

/* Uniform on [0, 1) with 53 random bits. */
double nk_rng_uniform(uint64_t *state);

/* Uniform integer in [0, n) (modulo: the bias is below n / 2^64); 0 for n = 0. */
uint64_t nk_rng_below(uint64_t *state, uint64_t n);

/* A standard normal draw (Box–Muller from two uniforms on (0, 1]). */
double nk_rng_normal(uint64_t *state);

#endif
