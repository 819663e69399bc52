/* A minimal test harness in the SQLite spirit: plain asserts that count.
 *
 * A test file defines static void test_xxx(void) functions and a main that
 * runs them with RUN(test_xxx) and ends with `return check_summary();`, which
 * prints "N passed, N failed" (tests, not checks) as the last line. Tests run
 * from the repository root, so fixtures are at tests/fixtures/. */
#ifndef NAPKIT_CHECK_H
#define NAPKIT_CHECK_H

#include "napkit/error.h"
#include "napkit/fileio.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_tests_passed, check_tests_failed, check_current_failed;
static const char *check_current_name;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__,        \
                    check_current_name, #cond);                                         \
            check_current_failed++;                                                     \
        }                                                                               \
    } while (0)

/* |a - b| <= tol, reporting both values. */
#define CHECK_NEAR(a, b, tol)                                                           \
    do {                                                                                \
        double check_a_ = (a), check_b_ = (b);                                          \
        if (!(fabs(check_a_ - check_b_) <= (tol))) {                                    \
            fprintf(stderr, "%s:%d: %s: %s = %.9g, %s = %.9g, tolerance %.3g\n",        \
                    __FILE__, __LINE__, check_current_name, #a, check_a_, #b, check_b_, \
                    (double)(tol));                                                     \
            check_current_failed++;                                                     \
        }                                                                               \
    } while (0)

/* A library call that must succeed (return 0); prints nk_last_error otherwise. */
#define CHECK_OK(call)                                                                  \
    do {                                                                                \
        int check_rc_ = (call);                                                         \
        if (check_rc_ != 0) {                                                           \
            fprintf(stderr, "%s:%d: %s: %s returned %d: %s\n", __FILE__, __LINE__,      \
                    check_current_name, #call, check_rc_, nk_last_error());             \
            check_current_failed++;                                                     \
        }                                                                               \
    } while (0)

#define RUN(fn)                                                                         \
    do {                                                                                \
        check_current_name = #fn;                                                       \
        check_current_failed = 0;                                                       \
        fn();                                                                           \
        if (check_current_failed) {                                                     \
            check_tests_failed++;                                                       \
            fprintf(stderr, "FAIL %s\n", #fn);                                          \
        } else {                                                                        \
            check_tests_passed++;                                                       \
        }                                                                               \
    } while (0)

static inline int check_summary(void) {
    printf("%d passed, %d failed\n", check_tests_passed, check_tests_failed);
    return check_tests_failed ? 1 : 0;
}

/* Max relative error of got against want: max|g - w| / max(max|w|, tiny). The
 * denominator is the reference's largest magnitude, so values near zero do not
 * blow the ratio up. */
static inline double check_max_rel_err(const float *got, const float *want, size_t n) {
    double maxerr = 0, maxref = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (d > maxerr || isnan(d)) maxerr = isnan(d) ? INFINITY : d;
        if (fabs(want[i]) > maxref) maxref = fabs(want[i]);
    }
    return maxerr / maxref;
}

/* A fresh temporary directory for a test's outputs (removed by the runner's
 * cleanup only when the test passes is not worth the complexity: it is /tmp). */
static inline const char *check_tmpdir(void) {
    static char dir[64];
    if (!dir[0]) {
        strcpy(dir, "/tmp/napkit-test-XXXXXX");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    return dir;
}

/* dir/name parsed as JSON (cJSON_Delete it), or NULL when unreadable. */
static inline cJSON *check_read_json(const char *dir, const char *name) {
    char *path = nk_path_join(dir, name), *text = NULL;
    cJSON *j = path && !nk_read_file(path, &text, NULL) ? cJSON_Parse(text) : NULL;
    free(path);
    free(text);
    return j;
}

#endif
