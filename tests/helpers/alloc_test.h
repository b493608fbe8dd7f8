/*
 * alloc_test.h -- a counting allocator for tests: tracks live bytes and allocations,
 * and can fail the N-th allocation (SQLite's out-of-memory loop, STYLE 7.13).
 */
#ifndef TW_ALLOC_TEST_H
#define TW_ALLOC_TEST_H

#include <stddef.h>
#include <stdint.h>
#include "tcpwave.h"

typedef struct tw_t_alloc {
    tw_allocator a;      /* pass &x.a in tw_config.allocator */
    size_t live;         /* bytes currently allocated */
    size_t peak;
    uint64_t calls;      /* allocation calls so far */
    uint64_t fail_nth;   /* 0: never fail; N: allocation number N returns NULL */
    uint64_t failures;   /* allocations that were made to fail */
} tw_t_alloc;

void tw_t_alloc_init(tw_t_alloc *x, uint64_t fail_nth);

#endif
