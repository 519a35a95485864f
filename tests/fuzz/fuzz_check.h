/* fuzz_check.h — the property check of the fuzz targets that share it: CHECK(c) prints the
 * target's name, file, line and the failed condition, then aborts (libFuzzer keeps the input).
 * Define FUZZ_NAME before including. */
#ifndef TF_FUZZ_CHECK_H
#define TF_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, FUZZ_NAME ": %s:%d: %s\n", __FILE__, __LINE__, #c);                    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
