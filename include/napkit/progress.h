/* A progress line for long runs: "what  done/total  rate  ETA  extra".
 *
 * The library prints nothing unless asked: a progress handle made with
 * enabled = 0 (stderr not a terminal, or --quiet) is silent. The line is
 * redrawn in place at most ten times a second. */
#ifndef NAPKIT_PROGRESS_H
#define NAPKIT_PROGRESS_H

#include <stddef.h>

typedef struct nk_progress nk_progress;

/* `unit` names what the rate counts, e.g. "s audio" (rate = units per second). */
nk_progress *nk_progress_new(const char *what, size_t total, const char *unit, int enabled);
/* done items of total; `units` processed so far (e.g. seconds of audio); extra
 * is appended to the line (e.g. "loss 1.23"), may be NULL. */
void nk_progress_update(nk_progress *p, size_t done, double units, const char *extra);
/* Draws the final line and a newline; frees the handle. */
void nk_progress_finish(nk_progress *p);

#endif
