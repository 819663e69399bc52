/* napkit error codes and messages.
 *
 * Every library function that can fail returns 0 or a negative nk_err. The
 * failing function also records a one-line message naming the file and the
 * reason (thread-local, like errno), read with nk_last_error(). */
#ifndef NAPKIT_ERROR_H
#define NAPKIT_ERROR_H

typedef enum {
    NK_OK = 0,
    NK_ERR_IO = -1,       /* a file could not be opened, read or written */
    NK_ERR_FORMAT = -2,   /* a file's contents are malformed or unsupported */
    NK_ERR_ARG = -3,      /* a caller passed an invalid argument */
    NK_ERR_NOMEM = -4,    /* an allocation failed */
    NK_ERR_NUMERIC = -5,  /* NaN/Inf or another numerical failure */
    NK_ERR_EMPTY = -6,    /* the input holds no data (zero samples, no events) */
    NK_ERR_INFEASIBLE = -7, /* no solution exists (e.g. alignment too short) */
    NK_ERR_INTERRUPTED = -8 /* stopped by a signal; work so far was saved */
} nk_err;

/* Short generic description of a code, e.g. "malformed file". */
const char *nk_strerror(int err);

/* The message recorded by the last failing call in this thread, e.g.
 * "a.wav: truncated file (read 1200 of 48000 frames)". Never NULL. */
const char *nk_last_error(void);

/* Records a message (printf-style) and returns err, so callers can write
 * `return nk_fail(NK_ERR_IO, "%s: %s", path, strerror(errno));`. The previous
 * message may be an argument: `nk_fail(rc, "%s: %s", path, nk_last_error())`. */
int nk_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
