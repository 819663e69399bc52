/* Linkage timings for n = 2000 and 5000 observations (average and ward, plus
 * the other algorithms), in seconds on this machine.
 *
 *   bench_cluster                 random data (64 features, fixed seed)
 *   bench_cluster X.npy [Z_OUT]   the rows of X.npy (2-D); with Z_OUT, also saves
 *                                 the average linkage for comparison
 * bench/bench_cluster_scipy.py runs this and SciPy on the same data, side by side. */
#include "napkit/cluster.h"
#include "napkit/error.h"
#include "napkit/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Times pdist and each method on X (n, d); prints one line per method. */
static int bench(const double *X, int n, int d, const char *zout) {
    size_t m = (size_t)n * (n - 1) / 2;
    double *D = malloc(sizeof(double) * m), *Z = malloc(sizeof(double) * 4 * (n - 1));
    if (!D || !Z) return fprintf(stderr, "out of memory\n"), 1;
    double t0 = now();
    if (nk_pdist(X, n, d, NK_METRIC_EUCLIDEAN, D)) return fprintf(stderr, "%s\n", nk_last_error()), 1;
    printf("n=%d d=%d pdist %.3f s\n", n, d, now() - t0);
    static const nk_linkage_method methods[] = {NK_LINK_AVERAGE, NK_LINK_WARD, NK_LINK_SINGLE, NK_LINK_COMPLETE,
                                                NK_LINK_CENTROID};
    for (size_t k = 0; k < sizeof methods / sizeof *methods; k++) {
        t0 = now();
        if (nk_linkage(D, n, methods[k], Z)) return fprintf(stderr, "%s\n", nk_last_error()), 1;
        printf("n=%d d=%d linkage %s %.3f s\n", n, d, nk_linkage_method_names[methods[k]], now() - t0);
        if (zout && methods[k] == NK_LINK_AVERAGE) {
            long shape[2] = {n - 1, 4};
            if (nk_npy_write(zout, NK_F64, 2, shape, Z)) return fprintf(stderr, "%s\n", nk_last_error()), 1;
        }
    }
    free(D), free(Z);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1) {
        nk_array a;
        if (nk_npy_read(argv[1], &a) || a.dtype != NK_F64 || a.ndim != 2)
            return fprintf(stderr, "%s: need a 2-D float64 .npy (%s)\n", argv[1], nk_last_error()), 1;
        int rc = bench(a.data, (int)a.shape[0], (int)a.shape[1], argc > 2 ? argv[2] : NULL);
        nk_array_free(&a);
        return rc;
    }
    static const int sizes[] = {2000, 5000};
    int d = 64;
    for (int s = 0; s < 2; s++) {
        int n = sizes[s];
        double *X = malloc(sizeof(double) * n * d);
        if (!X) return 1;
        srand(12345);
        for (int i = 0; i < n * d; i++) X[i] = rand() / (double)RAND_MAX - 0.5;
        int rc = bench(X, n, d, NULL);
        free(X);
        if (rc) return rc;
    }
    return 0;
}
