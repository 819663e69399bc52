#include "napkit/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_message[1024];

const char *nk_strerror(int err) {
    switch (err) {
    case NK_OK: return "no error";
    case NK_ERR_IO: return "input/output error";
    case NK_ERR_FORMAT: return "malformed or unsupported file";
    case NK_ERR_ARG: return "invalid argument";
    case NK_ERR_NOMEM: return "out of memory";
    case NK_ERR_NUMERIC: return "numerical error";
    case NK_ERR_EMPTY: return "empty input";
    case NK_ERR_INFEASIBLE: return "infeasible";
    case NK_ERR_INTERRUPTED: return "interrupted";
    default: return "unknown error";
    }
}

const char *nk_last_error(void) { return last_message; }

/* Formats into a scratch buffer first: callers may pass nk_last_error() itself
 * as an argument to prefix it ("%s: %s", path, nk_last_error()). */
int nk_fail(int err, const char *fmt, ...) {
    char message[sizeof last_message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    memcpy(last_message, message, sizeof message);
    return err;
}
