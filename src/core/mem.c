/*
 * mem.c -- allocator hook, memory budget and accounting, per-class free lists (mem.h).
 * The only file that may call malloc/free (the default allocator).
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

static bool over_budget(const tw_mem *m, size_t size)
{
    return m->budget && (size > m->budget || m->live > m->budget - size);
}

void *tw_mem_alloc(tw_mem *m, size_t size)
{
    if (size == 0) {
        return NULL;
    }
    if (over_budget(m, size)) {
        /* The free lists must never make an allocation fail that would succeed without
           them. */
        tw_mem_drain(m);
        if (over_budget(m, size)) {
            return NULL;
        }
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

void *tw_mem_take(tw_mem *m, enum tw_mem_class cls, size_t size)
{
    tw_mem_cache *c = &m->cache[cls];
    void *p = c->head;
    if (!p) {
        return tw_mem_alloc(m, size);
    }
    memcpy(&c->head, p, sizeof(void *));
    c->n--;
    m->cached -= size;
    return p;
}

void *tw_mem_ztake(tw_mem *m, enum tw_mem_class cls, size_t size)
{
    void *p = tw_mem_take(m, cls, size);
    if (p) {
        memset(p, 0, size);
    }
    return p;
}

void tw_mem_give(tw_mem *m, enum tw_mem_class cls, void *p, size_t size)
{
    if (!p) {
        return;
    }
    tw_mem_cache *c = &m->cache[cls];
    if (c->n + 1 > TW_MEM_CACHE_MAX) { /* (not >=: TW_MEM_CACHE_MAX may be 0) */
        tw_mem_free(m, p, size);
        return;
    }
    c->size = (uint32_t)size;
    memcpy(p, &c->head, sizeof(void *));
    c->head = p;
    c->n++;
    m->cached += size;
}

void tw_mem_drain(tw_mem *m)
{
    for (unsigned i = 0; i < TW_MC_COUNT_; i++) {
        tw_mem_cache *c = &m->cache[i];
        while (c->head) {
            void *p = c->head;
            memcpy(&c->head, p, sizeof(void *));
            m->cached -= c->size;
            m->live -= c->size;
            m->a.free(p, c->size, m->a.ud);
        }
        c->n = 0;
    }
}
