/* nk_parallel_for: commits in item order, the threads an item's own loops get,
 * and a stopping commit. */
#include "napkit/parallel.h"

#include "check.h"

#include <cblas.h>
#include <omp.h>

enum { N_MAX = 64 };

typedef struct {
    int omp[N_MAX], blas[N_MAX]; // what each item saw for its own loops
    size_t order[N_MAX], n_committed;
    int stop_at; // commit fails at this item (−1: never)
} probe;

static int probe_work(void *ctx, int worker, size_t i) {
    probe *p = ctx;
    (void)worker;
    p->omp[i] = omp_get_max_threads();
    p->blas[i] = openblas_get_num_threads();
    return i == 3 ? nk_fail(NK_ERR_FORMAT, "item %zu is bad", i) : NK_OK;
}

static int probe_commit(void *ctx, int worker, size_t i, int work_rc, const char *work_error) {
    probe *p = ctx;
    (void)worker;
    /* The work's own failure arrives here with its message. */
    if ((i == 3) != (work_rc == NK_ERR_FORMAT) || (i == 3 && !strstr(work_error, "item 3 is bad")))
        return nk_fail(NK_ERR_ARG, "commit %zu saw the wrong work result", i);
    p->order[p->n_committed++] = i;
    return (int)i == p->stop_at ? nk_fail(NK_ERR_IO, "stopped at %zu", i) : NK_OK;
}

static int run(probe *p, size_t n, int threads, int stop_at) {
    memset(p, 0, sizeof *p);
    p->stop_at = stop_at;
    return nk_parallel_for(n, threads, probe_work, probe_commit, p);
}

static void test_commit_order(void) {
    probe p;
    for (int threads = 1; threads <= 4; threads++) {
        CHECK_OK(run(&p, 40, threads, -1));
        CHECK(p.n_committed == 40);
        for (size_t i = 0; i < p.n_committed; i++) CHECK(p.order[i] == i);
    }
}

/* threads = 1 means one thread in all (a one-thread team would otherwise let
 * an item's nested OpenMP loops start their own threads); one item alone gets
 * every thread; many items get one each. OpenBLAS is restored afterwards. */
static void test_inner_threads(void) {
    const int blas_before = openblas_get_num_threads();
    struct { size_t n; int threads, inner; } cases[] = {{10, 1, 1}, {1, 2, 2}, {10, 2, 1}, {2, 4, 2}, {1, 1, 1}};
    probe p;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        CHECK_OK(run(&p, cases[c].n, cases[c].threads, -1));
        for (size_t i = 0; i < cases[c].n; i++) CHECK(p.omp[i] == cases[c].inner && p.blas[i] == cases[c].inner);
        CHECK(openblas_get_num_threads() == blas_before);
    }
}

static void test_stopping_commit(void) {
    probe p;
    for (int threads = 1; threads <= 2; threads++) {
        CHECK(run(&p, 40, threads, 5) == NK_ERR_IO);
        CHECK(strstr(nk_last_error(), "stopped at 5") != NULL);
        CHECK(p.n_committed == 6 && p.order[5] == 5); // nothing is committed after the stop
    }
}

int main(void) {
    RUN(test_commit_order);
    RUN(test_inner_threads);
    RUN(test_stopping_commit);
    return check_summary();
}
