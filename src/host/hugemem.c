/*
 * hugemem.c -- an allocator (tw_config.allocator) for a stack that holds many connections:
 * the blocks a stack asks for in bulk come from memory advised for transparent huge pages
 * (madvise(MADV_HUGEPAGE)), everything else from malloc.
 *
 * Why: a million idle connections are about 1 GB touched for the first time. With 4 KiB
 * pages that is a quarter of a million page faults, and a TLB miss on most probes of the
 * connection table; on a virtual machine both cost several microseconds or hundreds of
 * nanoseconds. With 2 MiB pages the faults are 500 times fewer and the table's probes
 * mostly hit the TLB. The kernel gives huge pages only if
 * /sys/kernel/mm/transparent_hugepage/enabled is `madvise` or `always` and it finds free
 * 2 MiB ranges (its `defrag` setting says how hard it tries); otherwise this memory is
 * ordinary 4 KiB pages and the allocator is merely a little wasteful.
 *
 * What goes where, by size (the stack gives free() the size it allocated):
 *
 *   size <  16 KiB            malloc (sockets below a slab's worth, ring blocks, ...)
 *   16 KiB ..= 64 KiB         one 64 KiB block from a region (connection and port slabs)
 *   64 KiB < size < 1 MiB     malloc (socket buffers)
 *   size >= 1 MiB             a mapping of its own, 2 MiB aligned (large hash tables)
 *
 * Regions are 32 MiB, 2 MiB aligned; their blocks are handed out in address order and a
 * freed block goes to a free list for reuse. Regions go back to the system only when the
 * allocator is freed (tw_host_hugemem_free), after every stack using it. No lock: one
 * allocator serves the stacks of one thread.
 */
#include "host/host.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)
#define REGION_BYTES ((size_t)32 << 20)
#define BLOCK_BYTES ((size_t)64 << 10)
#define BLOCK_MIN ((size_t)16 << 10)
#define OWN_MIN ((size_t)1 << 20)

typedef struct region {
    struct region *next;
    uint8_t *base;
} region;

typedef struct hugemem {
    region *regions;
    uint8_t *bump, *end; /* the current region's blocks not yet handed out */
    void *free_blocks;   /* freed blocks, linked through their first word */
} hugemem;

/* A 2 MiB-aligned anonymous mapping of `bytes` (a multiple of 2 MiB), advised for huge
   pages; NULL on failure. */
static void *map_aligned(size_t bytes)
{
    size_t over = bytes + HUGE_PAGE;
    uint8_t *p = mmap(NULL, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    uintptr_t u = (uintptr_t)p;
    uint8_t *a = (uint8_t *)((u + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (a > p) {
        munmap(p, (size_t)(a - p));
    }
    size_t tail = (size_t)(p + over - (a + bytes));
    if (tail) {
        munmap(a + bytes, tail);
    }
    (void)madvise(a, bytes, MADV_HUGEPAGE); /* advice: without THP the memory still works */
    return a;
}

static size_t own_bytes(size_t size)
{
    return (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

static void *block_alloc(hugemem *h)
{
    void *p = h->free_blocks;
    if (p) {
        h->free_blocks = *(void **)p;
        return p;
    }
    if (h->bump == h->end) {
        region *r = malloc(sizeof(*r));
        uint8_t *base = r ? map_aligned(REGION_BYTES) : NULL;
        if (!base) {
            free(r);
            return NULL;
        }
        r->base = base;
        r->next = h->regions;
        h->regions = r;
        h->bump = base;
        h->end = base + REGION_BYTES;
    }
    p = h->bump;
    h->bump += BLOCK_BYTES;
    return p;
}

static void *hm_alloc(size_t size, void *ud)
{
    hugemem *h = ud;
    if (size >= BLOCK_MIN && size <= BLOCK_BYTES) {
        return block_alloc(h);
    }
    if (size >= OWN_MIN) {
        return map_aligned(own_bytes(size));
    }
    return malloc(size);
}

static void hm_free(void *p, size_t size, void *ud)
{
    hugemem *h = ud;
    if (!p) {
        return;
    }
    if (size >= BLOCK_MIN && size <= BLOCK_BYTES) {
        *(void **)p = h->free_blocks;
        h->free_blocks = p;
    } else if (size >= OWN_MIN) {
        munmap(p, own_bytes(size));
    } else {
        free(p);
    }
}

int tw_host_hugemem_new(tw_allocator *out)
{
    hugemem *h = calloc(1, sizeof(*h));
    if (!h) {
        return -ENOMEM;
    }
    out->alloc = hm_alloc;
    out->free = hm_free;
    out->ud = h;
    return 0;
}

void tw_host_hugemem_free(tw_allocator *a)
{
    hugemem *h = a ? a->ud : NULL;
    if (!h) {
        return;
    }
    while (h->regions) {
        region *r = h->regions;
        h->regions = r->next;
        munmap(r->base, REGION_BYTES);
        free(r);
    }
    free(h);
    a->ud = NULL;
}
