/* Work over utterances (or samples, patches, …) on OpenMP threads, the one
 * way every napkit stage does it.
 *
 * nk_parallel_for runs work(ctx, worker, i) for i in [0, n) on
 * nk_parallel_workers(n, threads) workers, dynamically scheduled so long and
 * short items balance. Each item's own OpenMP loops and OpenBLAS get the
 * threads the workers leave (threads / workers, at least one): one thread in
 * all for threads = 1, both cores for one item at threads = 2; each item's
 * arithmetic is the same whatever the thread count. commit (may be NULL)
 * runs after each item, for i = 0, 1, 2, … in that order and one at a time,
 * on the worker that did i: the place to add a worker's results to shared
 * sums (bit-identical for any thread count), to record a failure, or to
 * report progress. It receives work's return code and error message.
 *
 * A failing work call does not stop the run: commit decides what it means.
 * A commit returning non-zero stops it — items not yet started are skipped —
 * and nk_parallel_for returns that code with commit's message. Per-worker
 * state (workspaces, buffers) is the caller's, indexed by `worker`. */
#ifndef NAPKIT_PARALLEL_H
#define NAPKIT_PARALLEL_H

#include <stddef.h>

typedef int (*nk_par_work)(void *ctx, int worker, size_t i);
typedef int (*nk_par_commit)(void *ctx, int worker, size_t i, int work_rc, const char *work_error);

/* Workers nk_parallel_for will use: threads clamped to [1, max(n, 1)]. */
int nk_parallel_workers(size_t n, int threads);

int nk_parallel_for(size_t n, int threads, nk_par_work work, nk_par_commit commit, void *ctx);

#endif
