/* splitmix64 and the draws built on it. */
#include "napkit/rng.h"

#include <math.h>

uint64_t nk_rng_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t nk_rng_next(uint64_t *state) { return nk_rng_mix(*state += 0x9E3779B97F4A7C15ull); }

double nk_rng_uniform(uint64_t *state) { return (double)(nk_rng_next(state) >> 11) * 0x1.0p-53; }

uint64_t nk_rng_below(uint64_t *state, uint64_t n) { return n ? nk_rng_next(state) % n : 0; }

double nk_rng_normal(uint64_t *state) {
    /* (0, 1], so the logarithm is finite: the uniform's 53-bit grid moved up one step. */
    const double u1 = nk_rng_uniform(state) + 0x1.0p-53;
    const double u2 = nk_rng_uniform(state) + 0x1.0p-53;
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}
