/* unit.h -- a tiny unit-test harness: CHECK records a failure and goes on;
 * each test binary ends with the plain "N passed, N failed" line and exits
 * non-zero when anything failed. */
#ifndef PERCORE_UNIT_H
#define PERCORE_UNIT_H

#include <stdio.h>
#include <stdlib.h>

static int unit_pass, unit_fail;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            unit_pass++;                                                                           \
        } else {                                                                                   \
            unit_fail++;                                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define UNIT_DONE()                                                                                \
    do {                                                                                           \
        printf("%d passed, %d failed\n", unit_pass, unit_fail);                                    \
        return unit_fail ? 1 : 0;                                                                  \
    } while (0)

#endif
