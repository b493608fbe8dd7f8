/*
 * mem.h -- every allocation of the stack goes through here (STYLE 7.6).
 *
 * The configured allocator is called and live bytes are accounted against the budget;
 * going over the budget behaves exactly like the allocator returning NULL, so every
 * caller has one failure path to handle.
 */
#ifndef TW_CORE_MEM_H
#define TW_CORE_MEM_H

#include <stddef.h>
#include "tcpwave.h"

typedef struct tw_mem {
    tw_allocator a;
    size_t budget; /* 0: unlimited */
    size_t live, peak;
} tw_mem;

void tw_mem_init(tw_mem *m, const tw_allocator *a, size_t budget);
/* NULL when the allocator fails or the budget would be exceeded. */
void *tw_mem_alloc(tw_mem *m, size_t size);
/* Like tw_mem_alloc, zero-filled. */
void *tw_mem_zalloc(tw_mem *m, size_t size);
/* `size` must be the size given at allocation. NULL is ignored. */
void tw_mem_free(tw_mem *m, void *p, size_t size);

#endif
