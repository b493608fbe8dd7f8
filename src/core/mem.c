/*
 * mem.c -- allocator hook, memory budget and accounting, per-class free lists (mem.h).
 * The only file that may call malloc/free (the default allocator).
 */
#include "core/mem.h"

#include <assert.h>
#include <stdbool.h>
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
    for (unsigned i = 0; i < TW_MC_COUNT_; i++) {
        m->cache[i].room = (uint32_t)TW_MEM_CACHE_MAX; /* (every list empty) */
    }
    m->budget = budget;
    m->reserve = budget >= 2 * (size_t)TW_MEM_RECV_RESERVE ? TW_MEM_RECV_RESERVE : 0;
}

static bool over(const tw_mem *m, size_t size, size_t limit)
{
    return m->budget && (size > limit || m->live > limit - size);
}

static void *alloc_within(tw_mem *m, size_t size, size_t limit)
{
    if (size == 0) {
        return NULL;
    }
    if (over(m, size, limit)) {
        /* The free lists must never make an allocation fail that would succeed without
           them. */
        tw_mem_drain(m);
        if (over(m, size, limit)) {
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

void *tw_mem_alloc(tw_mem *m, size_t size)
{
    return alloc_within(m, size, m->budget - m->reserve);
}

void *tw_mem_alloc_reserve(tw_mem *m, size_t size)
{
    return alloc_within(m, size, m->budget);
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

/* ---- slabs (mem.h) ---------------------------------------------------------------- */

struct tw_slab {
    struct tw_slab *next, *prev; /* in the class's avail list while it has room */
    void *free;      /* objects given back, linked through their first word */
    size_t bytes;    /* of the allocation */
    uint32_t nobj;   /* objects it holds */
    uint32_t carved; /* objects handed out at least once since it was last empty */
    uint32_t used;   /* objects out now */
};

#define SLAB_HDR ((sizeof(struct tw_slab) + 15u) & ~(size_t)15u)

static bool slab_class(enum tw_mem_class cls)
{
    /* Ring blocks are 4 KiB: few would fit, and a busy connection grows past them.
       Half-open entries come and go, bounded by the listeners' SYN queues. */
    return TW_MEM_SLABS && (cls == TW_MC_CONN || cls == TW_MC_PORT);
}

static size_t slab_obj_size(size_t size)
{
    return (size + TW_MEM_SLAB_ALIGN - 1) & ~(size_t)(TW_MEM_SLAB_ALIGN - 1);
}

static bool slab_full(const struct tw_slab *s)
{
    return !s->free && s->carved == s->nobj;
}

/* (No pointer into tw_mem: tw_stack_new copies it.) */
static void slab_link(tw_mem_cache *c, struct tw_slab *s)
{
    s->next = c->avail;
    s->prev = NULL;
    if (c->avail) {
        c->avail->prev = s;
    }
    c->avail = s;
}

static void slab_unlink(tw_mem_cache *c, struct tw_slab *s)
{
    if (s->prev) {
        s->prev->next = s->next;
    } else {
        c->avail = s->next;
    }
    if (s->next) {
        s->next->prev = s->prev;
    }
    s->next = NULL;
    s->prev = NULL;
}

/* Index of the first directory entry above address `u`. Addresses of different
   allocations are compared as integers. */
static uint32_t dir_upper(const tw_mem_cache *c, uintptr_t u)
{
    uint32_t lo = 0, hi = c->ndir;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)c->dir[mid] <= u) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* The slab holding p, or NULL (an object allocated on its own). */
static struct tw_slab *slab_of(const tw_mem_cache *c, const void *p)
{
    uintptr_t u = (uintptr_t)p;
    uint32_t i = dir_upper(c, u);
    if (i == 0) {
        return NULL;
    }
    struct tw_slab *s = c->dir[i - 1];
    return u < (uintptr_t)s + s->bytes ? s : NULL;
}

static void slab_release(tw_mem *m, tw_mem_cache *c, struct tw_slab *s)
{
    uint32_t i = dir_upper(c, (uintptr_t)s) - 1; /* s is in the directory */
    memmove(&c->dir[i], &c->dir[i + 1], (c->ndir - i - 1) * sizeof(*c->dir));
    c->ndir--;
    tw_mem_free(m, s, s->bytes);
    if (c->ndir == 0) {
        tw_mem_free(m, c->dir, c->dircap * sizeof(*c->dir));
        c->dir = NULL;
        c->dircap = 0;
    }
}

static struct tw_slab *slab_new(tw_mem *m, tw_mem_cache *c, size_t osz)
{
    size_t max = (TW_MEM_SLAB_BYTES - SLAB_HDR) / osz;
    size_t nobj = c->out / 4;
    if (nobj > max) {
        nobj = max;
    }
    if (nobj < 8) {
        if (max < 8) {
            return NULL; /* too big an object for slabs */
        }
        nobj = 8;
    }
    if (c->ndir == c->dircap) {
        uint32_t ncap = c->dircap ? c->dircap * 2 : 16;
        struct tw_slab **nd = tw_mem_alloc(m, ncap * sizeof(*nd));
        if (!nd) {
            return NULL;
        }
        if (c->ndir) {
            memcpy(nd, c->dir, c->ndir * sizeof(*nd));
        }
        tw_mem_free(m, c->dir, c->dircap * sizeof(*c->dir));
        c->dir = nd;
        c->dircap = ncap;
    }
    size_t bytes = SLAB_HDR + nobj * osz;
    struct tw_slab *s = tw_mem_alloc(m, bytes);
    if (!s) {
        if (c->ndir == 0) { /* (the directory was made for this slab) */
            tw_mem_free(m, c->dir, c->dircap * sizeof(*c->dir));
            c->dir = NULL;
            c->dircap = 0;
        }
        return NULL;
    }
    memset(s, 0, sizeof(*s));
    s->bytes = bytes;
    s->nobj = (uint32_t)nobj;
    /* Allocators mostly hand out rising addresses: the new slab usually goes last. */
    uint32_t i = dir_upper(c, (uintptr_t)s);
    memmove(&c->dir[i + 1], &c->dir[i], (c->ndir - i) * sizeof(*c->dir));
    c->dir[i] = s;
    c->ndir++;
    return s;
}

/* An object from the class's slabs, a new slab if none has room; NULL if there is no
   memory for a slab (the caller then allocates the object on its own). */
static void *slab_take(tw_mem *m, tw_mem_cache *c, size_t size)
{
    size_t osz = slab_obj_size(size);
    struct tw_slab *s = c->avail;
    if (!s) {
        s = c->spare;
        if (s) {
            c->spare = NULL;
        } else if (!(s = slab_new(m, c, osz))) {
            return NULL;
        }
        slab_link(c, s);
    }
    void *p = s->free;
    if (p) {
        memcpy(&s->free, p, sizeof(void *));
    } else {
        p = (uint8_t *)s + SLAB_HDR + (size_t)s->carved++ * osz;
    }
    s->used++;
    if (slab_full(s)) {
        slab_unlink(c, s);
    }
    return p;
}

/* ---- objects on their own, for the walkable class (mem.h) ------------------------- */

struct tw_mem_solo {
    struct tw_mem_solo *next, **pprev;
};

_Static_assert(sizeof(struct tw_mem_solo) <= TW_MEM_SOLO_HDR, "the header fits its room");

static bool walkable(enum tw_mem_class cls)
{
    return cls == TW_MC_CONN;
}

static void *solo_alloc(tw_mem *m, tw_mem_cache *c, size_t size)
{
    struct tw_mem_solo *h = tw_mem_alloc(m, size + TW_MEM_SOLO_HDR);
    if (!h) {
        return NULL;
    }
    h->next = c->solo;
    if (c->solo) {
        c->solo->pprev = &h->next;
    }
    c->solo = h;
    h->pprev = &c->solo;
    return (uint8_t *)h + TW_MEM_SOLO_HDR;
}

static void solo_free(tw_mem *m, void *p, size_t size)
{
    struct tw_mem_solo *h = (struct tw_mem_solo *)(void *)((uint8_t *)p - TW_MEM_SOLO_HDR);
    *h->pprev = h->next;
    if (h->next) {
        h->next->pprev = h->pprev;
    }
    tw_mem_free(m, h, size + TW_MEM_SOLO_HDR);
}

/* Back to its slab, or to the allocator when it was allocated on its own. */
static void obj_release(tw_mem *m, tw_mem_cache *c, void *p, size_t size)
{
    struct tw_slab *s = c->ndir ? slab_of(c, p) : NULL;
    if (!s) {
        if (walkable((enum tw_mem_class)(c - m->cache))) {
            solo_free(m, p, size);
        } else {
            tw_mem_free(m, p, size);
        }
        return;
    }
    bool was_full = slab_full(s);
    s->used--;
    if (s->used == 0) {
        if (!was_full) {
            slab_unlink(c, s);
        }
        if (c->spare) {
            slab_release(m, c, s);
        } else {
            /* Start it afresh: the next objects are carved from its start again. */
            s->free = NULL;
            s->carved = 0;
            c->spare = s;
        }
        return;
    }
    memcpy(p, &s->free, sizeof(void *));
    s->free = p;
    if (was_full) {
        slab_link(c, s);
    }
}

/* ---- per-class free lists ------------------------------------------------------------ */

void *tw_mem_take_slow(tw_mem *m, enum tw_mem_class cls, size_t size)
{
    tw_mem_cache *c = &m->cache[cls];
    void *p = NULL;
    assert(!slab_class(cls) || tw_mem_counts_out(cls)); /* (slabs are sized by out) */
    if (slab_class(cls) && (c->avail || c->spare || c->out >= TW_MEM_SLAB_FROM)) {
        p = slab_take(m, c, size);
    }
    if (!p) {
        p = walkable(cls) ? solo_alloc(m, c, size) : tw_mem_alloc(m, size);
        if (!p) {
            return NULL;
        }
    }
    c->size = (uint32_t)size;
    if (tw_mem_counts_out(cls)) {
        c->out++;
    }
    return p;
}

void tw_mem_give_slow(tw_mem *m, enum tw_mem_class cls, void *p, size_t size)
{
    tw_mem_cache *c = &m->cache[cls];
    if (tw_mem_counts_out(cls)) {
        c->out--;
    }
    obj_release(m, c, p, size);
}

void tw_mem_keep_at(tw_mem *m, size_t a, size_t b)
{
    assert(!m->cache[TW_MC_CONN].head && a && b && a < 65536 && b < 65536);
    m->kept_at[0] = (uint16_t)a;
    m->kept_at[1] = (uint16_t)b;
}

/* The blocks connection object p keeps (tw_mem kept_at): counted (`release` false), or
   returned to the allocator, their pointers cleared. */
static size_t kept_blocks(tw_mem *m, void *p, bool release)
{
    size_t n = 0;
    for (unsigned i = 0; i < 2; i++) {
        if (!m->kept_at[i]) {
            continue;
        }
        void *blk;
        memcpy(&blk, (uint8_t *)p + m->kept_at[i], sizeof(blk));
        if (blk) {
            n++;
            if (release) {
                assert(!(m->list_off & (1u << TW_MC_RING)));
                tw_mem_free(m, blk, TW_MEM_RING_BLOCK); /* (the ring class: no slabs) */
                blk = NULL;
                memcpy((uint8_t *)p + m->kept_at[i], &blk, sizeof(blk));
            }
        }
    }
    return n;
}

size_t tw_mem_cached(const tw_mem *m)
{
    size_t n = 0;
    for (unsigned i = 0; i < TW_MC_COUNT_; i++) {
        const tw_mem_cache *c = &m->cache[i];
        uint32_t listed = (m->list_off & (1u << i)) ? 0u : (uint32_t)TW_MEM_CACHE_MAX - c->room;
        n += (size_t)listed * c->size + (c->spare ? c->spare->bytes : 0);
    }
    /* (the blocks the connection list's objects keep: tw_mem kept_at) */
    for (void *p = m->cache[TW_MC_CONN].head; p; memcpy(&p, p, sizeof(p))) {
        n += kept_blocks((tw_mem *)m, p, false) * TW_MEM_RING_BLOCK;
    }
    return n;
}

void tw_mem_list_off(tw_mem *m, enum tw_mem_class cls)
{
    assert(!m->cache[cls].head);
    m->list_off |= (uint8_t)(1u << cls);
    m->cache[cls].room = 0;
}

void tw_mem_drain(tw_mem *m)
{
    for (unsigned i = 0; i < TW_MC_COUNT_; i++) {
        tw_mem_cache *c = &m->cache[i];
        while (c->head) {
            void *p = c->head;
            memcpy(&c->head, p, sizeof(void *));
            if (i == TW_MC_CONN) {
                kept_blocks(m, p, true);
            }
            obj_release(m, c, p, c->size);
        }
        c->room = (m->list_off & (1u << i)) ? 0u : (uint32_t)TW_MEM_CACHE_MAX;
        if (c->spare) {
            struct tw_slab *s = c->spare;
            c->spare = NULL;
            slab_release(m, c, s);
        }
    }
}

void tw_mem_walk(tw_mem *m, enum tw_mem_class cls, void (*fn)(void *obj, void *ud), void *ud)
{
    tw_mem_cache *c = &m->cache[cls];
    for (struct tw_mem_solo *h = c->solo; h; h = h->next) {
        fn((uint8_t *)h + TW_MEM_SOLO_HDR, ud);
    }
    size_t osz = slab_obj_size(c->size);
    for (uint32_t i = 0; i < c->ndir; i++) {
        struct tw_slab *s = c->dir[i];
        uint8_t *base = (uint8_t *)s + SLAB_HDR;
        for (uint32_t k = 0; k < s->carved; k++) {
            fn(base + (size_t)k * osz, ud);
        }
    }
}

void tw_mem_release_all(tw_mem *m, enum tw_mem_class cls)
{
    tw_mem_cache *c = &m->cache[cls];
    if (cls == TW_MC_CONN) {
        for (void *p = c->head; p; memcpy(&p, p, sizeof(p))) {
            kept_blocks(m, p, true);
        }
    }
    c->head = NULL;
    c->room = (uint32_t)TW_MEM_CACHE_MAX; /* (an empty list's) */
    while (c->solo) {
        struct tw_mem_solo *h = c->solo;
        c->solo = h->next;
        tw_mem_free(m, h, c->size + TW_MEM_SOLO_HDR);
    }
    c->spare = NULL;
    for (uint32_t i = 0; i < c->ndir; i++) {
        tw_mem_free(m, c->dir[i], c->dir[i]->bytes);
    }
    tw_mem_free(m, c->dir, c->dircap * sizeof(*c->dir));
    c->dir = NULL;
    c->ndir = c->dircap = 0;
    c->avail = NULL;
    c->out = 0;
}
