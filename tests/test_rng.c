/* The shared generator against splitmix64's published outputs, and the draws
 * built on it against their distributions. */
#include "check.h"
#include "napkit/napkit.h"

#include <math.h>
#include <stdint.h>

/* Vigna's reference splitmix64.c from state 0, and the seed-1234567 vector
 * that other ports (Java's SplittableRandom mixer) are checked against. */
static void test_published_outputs(void) {
    uint64_t s = 0;
    CHECK(nk_rng_next(&s) == 0xE220A8397B1DCDAFull);
    CHECK(nk_rng_next(&s) == 0x6E789E6AA1B965F4ull);
    CHECK(nk_rng_next(&s) == 0x06C45D188009454Full);
    s = 1234567;
    CHECK(nk_rng_next(&s) == 6457827717110365317ull);
    CHECK(nk_rng_next(&s) == 3203168211198807973ull);
    CHECK(nk_rng_next(&s) == 9817491932198370423ull);
    /* The finalizer is the step without the increment. */
    CHECK(nk_rng_mix(0x9E3779B97F4A7C15ull) == 0xE220A8397B1DCDAFull);
}

/* A copied state replays the stream: what seeded results rely on. */
static void test_copy_replays(void) {
    uint64_t a = 42, b;
    nk_rng_next(&a);
    b = a;
    for (int i = 0; i < 10; i++) CHECK(nk_rng_next(&a) == nk_rng_next(&b));
}

static void test_uniform_and_below(void) {
    uint64_t s = 7;
    const int n = 200000;
    double sum = 0, lo = 1, hi = 0;
    int counts[7] = {0};
    for (int i = 0; i < n; i++) {
        double u = nk_rng_uniform(&s);
        sum += u;
        lo = fmin(lo, u), hi = fmax(hi, u);
        uint64_t k = nk_rng_below(&s, 7);
        CHECK(k < 7);
        if (k < 7) counts[k]++;
    }
    CHECK(lo >= 0 && hi < 1);
    CHECK_NEAR(sum / n, 0.5, 0.003); /* 4.6 standard errors of the mean */
    for (int k = 0; k < 7; k++) CHECK_NEAR(counts[k], n / 7.0, 4 * sqrt(n / 7.0)); /* 4 binomial sd */
    uint64_t before = s;
    CHECK(nk_rng_below(&s, 0) == 0);
    CHECK(s == before); /* no draw for an empty range */
}

static void test_normal_moments(void) {
    uint64_t s = 3;
    const int n = 200000;
    double m1 = 0, m2 = 0, m4 = 0;
    for (int i = 0; i < n; i++) {
        double z = nk_rng_normal(&s);
        CHECK(isfinite(z));
        m1 += z, m2 += z * z, m4 += z * z * z * z;
    }
    m1 /= n, m2 /= n, m4 /= n;
    CHECK_NEAR(m1, 0, 0.01); /* each about 4.5 standard errors */
    CHECK_NEAR(m2, 1, 0.015);
    CHECK_NEAR(m4, 3, 0.1); /* the kurtosis of a normal, not of a uniform sum */
}

int main(void) {
    RUN(test_published_outputs);
    RUN(test_copy_replays);
    RUN(test_uniform_and_below);
    RUN(test_normal_moments);
    return check_summary();
}
