/* Self-organizing map: determinism with a seed, one sample per cell,
 * neighbourhood preservation on data with a known layout, bad input. */
#include "check.h"

#include "napkit/error.h"
#include "napkit/som.h"

/* Points on a 2-D 6 × 6 lattice embedded in 3-D (the third coordinate small). */
static void lattice(double *X) {
    for (int i = 0; i < 36; i++) X[3 * i] = i / 6, X[3 * i + 1] = i % 6, X[3 * i + 2] = 0.01 * (i % 5);
}

static void test_determinism(void) {
    double X[108];
    lattice(X);
    nk_som_config c;
    nk_som_config_default(&c, 36);
    c.epochs = 200;
    CHECK(c.rows == 6 && c.cols == 6);
    nk_som a, b, d;
    CHECK_OK(nk_som_fit(X, 36, 3, &c, &a));
    CHECK_OK(nk_som_fit(X, 36, 3, &c, &b));
    CHECK(memcmp(a.codebook, b.codebook, sizeof(double) * 36 * 3) == 0);
    CHECK(memcmp(a.cell, b.cell, sizeof(int) * 36) == 0);
    c.seed = 2;
    CHECK_OK(nk_som_fit(X, 36, 3, &c, &d));
    CHECK(memcmp(a.codebook, d.codebook, sizeof(double) * 36 * 3) != 0);
    nk_som_free(&a), nk_som_free(&b), nk_som_free(&d);
}

static void test_layout(void) {
    double X[108];
    lattice(X);
    nk_som_config c;
    nk_som_config_default(&c, 36);
    c.epochs = 300;
    nk_som s;
    CHECK_OK(nk_som_fit(X, 36, 3, &c, &s));
    /* One sample per cell. */
    int used[36] = {0}, dup = 0;
    for (int i = 0; i < 36; i++) dup += used[s.cell[i]]++ > 0;
    CHECK(dup == 0);
    /* Lattice neighbours land on nearby cells: mean grid distance of neighbour pairs
     * is small, far below that of random pairs (~3.1 on a 6 × 6 grid). */
    double sum = 0;
    int pairs = 0;
    for (int i = 0; i < 36; i++)
        for (int j = i + 1; j < 36; j++) {
            double dx = X[3 * i] - X[3 * j], dy = X[3 * i + 1] - X[3 * j + 1];
            if (dx * dx + dy * dy != 1) continue;
            int ri = s.cell[i] / 6, ci = s.cell[i] % 6, rj = s.cell[j] / 6, cj = s.cell[j] % 6;
            sum += sqrt((ri - rj) * (ri - rj) + (ci - cj) * (ci - cj)), pairs++;
        }
    CHECK(pairs == 60);
    CHECK(sum / pairs < 1.6);
    CHECK(s.qerr < 0.5);
    nk_som_free(&s);
}

static void test_bad_input(void) {
    double X[6] = {1, 2, 3, 4, NAN, 6};
    nk_som_config c;
    nk_som_config_default(&c, 3);
    nk_som s;
    CHECK(nk_som_fit(X, 3, 2, &c, &s) == NK_ERR_NUMERIC);
    X[4] = 5;
    c.rows = 1, c.cols = 2;
    CHECK(nk_som_fit(X, 3, 2, &c, &s) == NK_ERR_ARG); /* 2 cells for 3 samples */
    nk_som_config_default(&c, 3);
    c.lr0 = 0;
    CHECK(nk_som_fit(X, 3, 2, &c, &s) == NK_ERR_ARG);
    nk_som_config_default(&c, 1);
    CHECK_OK(nk_som_fit(X, 1, 2, &c, &s)); /* a single sample on a 1 × 1 grid */
    CHECK(s.cell[0] == 0);
    nk_som_free(&s);
}

int main(void) {
    RUN(test_determinism);
    RUN(test_layout);
    RUN(test_bad_input);
    return check_summary();
}
