/*
 * mem.c -- allocator hook, memory budget and accounting. The only file that may call
 * malloc/free (the default allocator).
 */
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

static void *default_alloc(size_t size, void *ud)
{
    (void)ud;
    return malloc(size);
}

static void default_free(void *p, size_t size, void *ud)
{
    (void)size;
    (void)ud;
    free(p);
}

void tw_mem_init(tw_mem *m, const tw_allocator *a, size_t budget)
{
    memset(m, 0, sizeof(*m));
    if (a && a->alloc && a->free) {
        m->a = *a;
    } else {
        m->a.alloc = default_alloc;
        m->a.free = default_free;
        m->a.ud = NULL;
    }
    m->budget = budget;
}

void *tw_mem_alloc(tw_mem *m, size_t size)
{
    if (size == 0) {
        return NULL;
    }
    if (m->budget && (size > m->budget || m->live > m->budget - size)) {
        return NULL;
    }
    void *p = m->a.alloc(size, m->a.ud);
    if (!p) {
        return NULL;
    }
    m->live += size;
    if (m->live > m->peak) {
        m->peak = m->live;
    }
    return p;
}

void *tw_mem_zalloc(tw_mem *m, size_t size)
{
    void *p = tw_mem_alloc(m, size);
    if (p) {
        memset(p, 0, size);
    }
    return p;
}

void tw_mem_free(tw_mem *m, void *p, size_t size)
{
    if (!p) {
        return;
    }
    m->live -= size;
    m->a.free(p, size, m->a.ud);
}
