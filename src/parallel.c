#include "napkit/parallel.h"

#include "napkit/error.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

int nk_parallel_workers(size_t n, int threads) {
    if (threads < 1) threads = 1;
    if ((size_t)threads > n) threads = n > 0 ? (int)n : 1;
    return threads;
}

int nk_parallel_for(size_t n, int threads, nk_par_work work, nk_par_commit commit, void *ctx) {
    const int W = nk_parallel_workers(n, threads);
    /* Threads left for each item's own loops (im2col's OpenMP, OpenBLAS): one
     * when the workers use them all. A one-thread team is not an "active"
     * region, so without this an item's nested loops would start threads of
     * their own, and --threads 1 would busy-wait on a second core. */
    const int inner = threads > W ? threads / W : 1;
    int rc = NK_OK, stop = 0;
    char *stop_msg = NULL; /* messages are thread-local: carried out of the region */
    const int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(inner);
#pragma omp parallel for ordered schedule(dynamic, 1) num_threads(W)
    for (size_t i = 0; i < n; i++) {
        const int me = omp_get_thread_num();
        omp_set_num_threads(inner);
        int stopping, wrc = 0;
#pragma omp atomic read
        stopping = stop;
        char *err = NULL;
        if (!stopping && (wrc = work(ctx, me, i)) != 0) err = strdup(nk_last_error());
#pragma omp ordered
        if (!stop && commit) {
            int crc = commit(ctx, me, i, wrc, wrc ? (err ? err : "unknown error") : NULL);
            if (crc) {
                rc = crc;
                stop_msg = strdup(nk_last_error());
#pragma omp atomic write
                stop = 1;
            }
        }
        free(err);
    }
    openblas_set_num_threads(blas_threads);
    if (rc) nk_fail(rc, "%s", stop_msg ? stop_msg : "stopped");
    free(stop_msg);
    return rc;
}
