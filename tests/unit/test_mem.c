/*
 * test_mem.c -- allocator hook, memory budget and accounting (mem.h, STYLE 7.6).
 *
 * The budget is what keeps a SYN flood or a million idle connections from taking the
 * host down (SPEC S8): going over it must look exactly like the allocator failing, and
 * the live count must come back to zero when everything is freed.
 */
#include "core/mem.h"
#include "unit.h"

#include <string.h>

/* A recording allocator: fills new blocks with garbage so zalloc has something to clear,
   checks that free gets the size alloc got, and can be told to fail. */
typedef struct rec {
    size_t allocs, frees, live;
    size_t last_free_size;
    int fail;
} rec;

typedef struct hdr {
    size_t size;
    size_t pad; /* keep the user block 16-byte aligned */
} hdr;

static void *rec_alloc(size_t size, void *ud)
{
    rec *r = ud;
    if (r->fail) {
        return NULL;
    }
    hdr *h = malloc(sizeof(hdr) + size);
    if (!h) {
        return NULL;
    }
    h->size = size;
    memset(h + 1, 0xa5, size);
    r->allocs++;
    r->live += size;
    return h + 1;
}

static void rec_free(void *p, size_t size, void *ud)
{
    rec *r = ud;
    hdr *h = (hdr *)p - 1;
    assert_int_equal(h->size, size); /* tw_mem passes back the allocation size */
    r->frees++;
    r->live -= size;
    r->last_free_size = size;
    free(h);
}

static tw_allocator rec_allocator(rec *r)
{
    memset(r, 0, sizeof(*r));
    tw_allocator a = {rec_alloc, rec_free, r};
    return a;
}

static void test_mem_budget_enforced(void **state)
{
    (void)state;
    rec r;
    tw_allocator a = rec_allocator(&r);
    tw_mem m;
    tw_mem_init(&m, &a, 100);
    void *p60 = tw_mem_alloc(&m, 60);
    assert_non_null(p60);
    assert_null(tw_mem_alloc(&m, 41)); /* 101 > 100 */
    assert_int_equal(r.allocs, 1);     /* refused before the allocator is asked */
    void *p40 = tw_mem_alloc(&m, 40);  /* exactly at the budget */
    assert_non_null(p40);
    assert_int_equal(m.live, 100);
    assert_null(tw_mem_alloc(&m, 1));
    tw_mem_free(&m, p60, 60);
    assert_int_equal(m.live, 40);
    void *p = tw_mem_alloc(&m, 60); /* freed room is usable again */
    assert_non_null(p);
    tw_mem_free(&m, p, 60);
    tw_mem_free(&m, p40, 40);
    assert_int_equal(m.live, 0);
    assert_int_equal(m.peak, 100);
    assert_int_equal(r.live, 0);
    assert_int_equal(r.allocs, r.frees);
}

/* Sizes that would overflow `live + size` must be refused, not wrap around. */
static void test_mem_budget_no_overflow(void **state)
{
    (void)state;
    rec r;
    tw_allocator a = rec_allocator(&r);
    tw_mem m;
    tw_mem_init(&m, &a, 1000);
    void *p = tw_mem_alloc(&m, 10);
    assert_non_null(p);
    assert_null(tw_mem_alloc(&m, SIZE_MAX));
    assert_null(tw_mem_alloc(&m, SIZE_MAX - 5));
    assert_null(tw_mem_alloc(&m, 1001));
    assert_null(tw_mem_alloc(&m, 991));
    assert_int_equal(r.allocs, 1);
    assert_int_equal(m.live, 10);
    tw_mem_free(&m, p, 10);
}

static void test_mem_unlimited_accounting(void **state)
{
    (void)state;
    rec r;
    tw_allocator a = rec_allocator(&r);
    tw_mem m;
    tw_mem_init(&m, &a, 0); /* 0: no budget */
    void *ps[64];
    size_t total = 0, peak = 0;
    for (size_t i = 0; i < 64; i++) {
        ps[i] = tw_mem_alloc(&m, 1000 + i);
        assert_non_null(ps[i]);
        total += 1000 + i;
        UNIT_EQ(m.live, total, "after allocation %zu", i);
    }
    peak = total;
    for (size_t i = 0; i < 64; i += 2) {
        tw_mem_free(&m, ps[i], 1000 + i);
        total -= 1000 + i;
        UNIT_EQ(r.last_free_size, 1000 + i, "free %zu", i);
    }
    assert_int_equal(m.live, total);
    assert_int_equal(m.peak, peak);
    for (size_t i = 1; i < 64; i += 2) {
        tw_mem_free(&m, ps[i], 1000 + i);
    }
    assert_int_equal(m.live, 0);
    assert_int_equal(m.peak, peak);
    assert_int_equal(r.live, 0);
}

/* An allocator failure is returned as NULL and accounts nothing. */
static void test_mem_allocator_failure(void **state)
{
    (void)state;
    rec r;
    tw_allocator a = rec_allocator(&r);
    tw_mem m;
    tw_mem_init(&m, &a, 0);
    r.fail = 1;
    assert_null(tw_mem_alloc(&m, 10));
    assert_null(tw_mem_zalloc(&m, 10));
    assert_int_equal(m.live, 0);
    assert_int_equal(m.peak, 0);
    r.fail = 0;
    void *p = tw_mem_alloc(&m, 10);
    assert_non_null(p);
    tw_mem_free(&m, p, 10);
}

static void test_mem_zalloc_zeroes(void **state)
{
    (void)state;
    rec r;
    tw_allocator a = rec_allocator(&r);
    tw_mem m;
    tw_mem_init(&m, &a, 0);
    uint8_t *p = tw_mem_zalloc(&m, 333); /* rec_alloc filled it with a5 */
    assert_non_null(p);
    for (size_t i = 0; i < 333; i++) {
        UNIT_EQ(p[i], 0, "byte %zu", i);
    }
    tw_mem_free(&m, p, 333);
    assert_int_equal(m.live, 0);
}

static void test_mem_zero_size_and_null_free(void **state)
{
    (void)state;
    rec r;
    tw_allocator a = rec_allocator(&r);
    tw_mem m;
    tw_mem_init(&m, &a, 100);
    assert_null(tw_mem_alloc(&m, 0));
    assert_null(tw_mem_zalloc(&m, 0));
    tw_mem_free(&m, NULL, 50); /* ignored: live must not go below zero */
    assert_int_equal(m.live, 0);
    assert_int_equal(r.allocs, 0);
    assert_int_equal(r.frees, 0);
}

/* No allocator (or an incomplete one) means malloc/free, still accounted and budgeted. */
static void test_mem_default_allocator(void **state)
{
    (void)state;
    tw_mem m;
    tw_mem_init(&m, NULL, 64);
    void *p = tw_mem_alloc(&m, 64);
    assert_non_null(p);
    memset(p, 1, 64);
    assert_int_equal(m.live, 64);
    assert_null(tw_mem_alloc(&m, 1));
    tw_mem_free(&m, p, 64);
    assert_int_equal(m.live, 0);

    tw_allocator half = {rec_alloc, NULL, NULL};
    tw_mem_init(&m, &half, 0);
    p = tw_mem_alloc(&m, 8); /* must not call rec_alloc with a NULL ud */
    assert_non_null(p);
    tw_mem_free(&m, p, 8);
    assert_int_equal(m.live, 0);
}

/* Free lists: a given object comes back from the next take without the allocator; the
   lists are bounded, count in live, give way when the budget is short, and drain. */
static void test_mem_free_list_reuse_and_bound(void **state)
{
    (void)state;
    if (TW_MEM_CACHE_MAX == 0) {
        skip(); /* AddressSanitizer build: no free lists (mem.h) */
    }
    rec r;
    tw_allocator a = rec_allocator(&r);
    tw_mem m;
    tw_mem_init(&m, &a, 0);
    /* (A class with no hidden header: TW_MC_CONN's objects on their own have one, mem.h.) */
    void *p = tw_mem_take(&m, TW_MC_REQ, 256);
    assert_non_null(p);
    tw_mem_give(&m, TW_MC_REQ, p, 256);
    assert_int_equal(m.live, 256); /* still held from the allocator */
    assert_int_equal(tw_mem_cached(&m), 256);
    assert_int_equal(r.frees, 0);
    void *q = tw_mem_ztake(&m, TW_MC_REQ, 256);
    assert_ptr_equal(q, p);
    assert_int_equal(r.allocs, 1);
    assert_int_equal(tw_mem_cached(&m), 0);
    for (size_t i = 0; i < 256; i++) {
        UNIT_EQ(((unsigned char *)q)[i], 0, "byte %zu of a reused zeroed object", i);
    }
    tw_mem_give(&m, TW_MC_REQ, q, 256);
    /* Bounded: past TW_MEM_CACHE_MAX objects, give frees. */
    void *ps[TW_MEM_CACHE_MAX + 4];
    for (size_t i = 0; i < TW_MEM_CACHE_MAX + 4; i++) {
        ps[i] = tw_mem_take(&m, TW_MC_PORT, 32);
        assert_non_null(ps[i]);
    }
    for (size_t i = 0; i < TW_MEM_CACHE_MAX + 4; i++) {
        tw_mem_give(&m, TW_MC_PORT, ps[i], 32);
    }
    assert_int_equal(tw_mem_cached(&m), 256 + TW_MEM_CACHE_MAX * 32);
    assert_int_equal(m.live, tw_mem_cached(&m));
    assert_int_equal(r.live, m.live);
    tw_mem_drain(&m);
    assert_int_equal(m.live, 0);
    assert_int_equal(tw_mem_cached(&m), 0);
    assert_int_equal(r.live, 0);
    assert_int_equal(r.allocs, r.frees);
}

/* Ring blocks a listed connection object keeps (mem.h kept_at): counted in
   tw_mem_cached, returned with their object by tw_mem_drain and tw_mem_release_all. */
static void test_mem_kept_blocks(void **state)
{
    (void)state;
    if (TW_MEM_CACHE_MAX == 0) {
        skip(); /* AddressSanitizer build: no free lists (mem.h) */
    }
    rec r;
    tw_allocator a = rec_allocator(&r);
    tw_mem m;
    tw_mem_init(&m, &a, 0);
    tw_mem_keep_at(&m, 16, 32);
    for (int how = 0; how < 2; how++) {
        uint8_t *o = tw_mem_take(&m, TW_MC_CONN, 64);
        uint8_t *o2 = tw_mem_take(&m, TW_MC_CONN, 64);
        assert_non_null(o);
        assert_non_null(o2);
        void *b1 = tw_mem_take(&m, TW_MC_RING, TW_MEM_RING_BLOCK);
        void *b2 = tw_mem_take(&m, TW_MC_RING, TW_MEM_RING_BLOCK);
        assert_non_null(b1);
        assert_non_null(b2);
        memcpy(o + 16, &b1, sizeof(b1));
        memcpy(o + 32, &b2, sizeof(b2));
        memset(o2 + 16, 0, 24); /* (one that keeps none) */
        assert_int_equal(tw_mem_cached(&m), 0);
        tw_mem_give(&m, TW_MC_CONN, o, 64);
        tw_mem_give(&m, TW_MC_CONN, o2, 64);
        /* (the ring list's room untouched: kept blocks are not listed ones) */
        assert_int_equal(m.cache[TW_MC_RING].room, TW_MEM_CACHE_MAX);
        assert_int_equal(tw_mem_cached(&m), 2 * 64 + 2 * TW_MEM_RING_BLOCK);
        assert_int_equal(m.live, tw_mem_cached(&m) + 2 * TW_MEM_SOLO_HDR); /* (solo headers) */
        if (how == 0) {
            tw_mem_drain(&m);
        } else {
            tw_mem_release_all(&m, TW_MC_CONN);
        }
        assert_int_equal(m.live, 0);
        assert_int_equal(tw_mem_cached(&m), 0);
        assert_int_equal(r.live, 0);
        assert_int_equal(r.allocs, r.frees);
    }
}

/* Cached bytes never make an allocation fail that would succeed without them. */
static void test_mem_free_list_yields_to_budget(void **state)
{
    (void)state;
    if (TW_MEM_CACHE_MAX == 0) {
        skip(); /* AddressSanitizer build: no free lists (mem.h) */
    }
    rec r;
    tw_allocator a = rec_allocator(&r);
    tw_mem m;
    tw_mem_init(&m, &a, 1000);
    void *p = tw_mem_take(&m, TW_MC_RING, 600);
    assert_non_null(p);
    tw_mem_give(&m, TW_MC_RING, p, 600);
    void *big = tw_mem_alloc(&m, 900); /* fits only once the cached 600 go back */
    assert_non_null(big);
    assert_int_equal(tw_mem_cached(&m), 0);
    assert_int_equal(m.live, 900);
    assert_null(tw_mem_take(&m, TW_MC_RING, 600)); /* and the budget still holds */
    tw_mem_free(&m, big, 900);
    assert_int_equal(r.live, 0);
}

/* Slabs (mem.h): past TW_MEM_SLAB_FROM objects out, a class takes its objects from a few
   large allocations; objects given back go to their own slab, an emptied slab goes back to
   the allocator (one spare stays until drained), and everything returns to zero. */
static void test_mem_slabs(void **state)
{
    (void)state;
    if (!TW_MEM_SLABS) {
        skip(); /* AddressSanitizer build: no slabs (mem.h) */
    }
    enum { N = 3000, SZ = 488 };
    rec r;
    tw_allocator a = rec_allocator(&r);
    tw_mem m;
    tw_mem_init(&m, &a, 0);
    static void *ps[N];
    for (size_t i = 0; i < N; i++) {
        ps[i] = tw_mem_ztake(&m, TW_MC_CONN, SZ);
        assert_non_null(ps[i]);
        UNIT_EQ((uintptr_t)ps[i] % TW_MEM_SLAB_ALIGN, 0, "alignment of object %zu", i);
        for (size_t k = 0; k < SZ; k++) {
            UNIT_EQ(((unsigned char *)ps[i])[k], 0, "byte %zu of object %zu", k, i);
        }
        memset(ps[i], (int)(i & 0xff), SZ); /* objects must not overlap: checked below */
    }
    assert_true(r.allocs < N / 20); /* few allocations */
    assert_true(m.live < (size_t)N * SZ + (size_t)N * SZ / 8 + TW_MEM_SLAB_BYTES);
    assert_int_equal(r.live, m.live);
    for (size_t i = 0; i < N; i++) {
        for (size_t k = 0; k < SZ; k++) {
            UNIT_EQ(((unsigned char *)ps[i])[k], i & 0xff, "byte %zu of object %zu", k, i);
        }
    }
    /* Give back every other object, then take as many again: the holes are reused. */
    size_t allocs = r.allocs;
    for (size_t i = 0; i < N; i += 2) {
        tw_mem_give(&m, TW_MC_CONN, ps[i], SZ);
    }
    for (size_t i = 0; i < N; i += 2) {
        ps[i] = tw_mem_take(&m, TW_MC_CONN, SZ);
        assert_non_null(ps[i]);
    }
    assert_int_equal(r.allocs, allocs);
    /* Give back all: the slabs return to the allocator but for the spare and those that
       hold the free list's objects, until the drain. */
    for (size_t i = 0; i < N; i++) {
        tw_mem_give(&m, TW_MC_CONN, ps[N - 1 - i], SZ);
    }
    assert_int_equal(m.cache[TW_MC_CONN].room, 0);
    assert_true(tw_mem_cached(&m) >=
                (TW_MEM_CACHE_MAX - m.cache[TW_MC_CONN].room) * (size_t)SZ); /* (listed) */
    assert_true(m.live <= (TW_MEM_CACHE_MAX + 2) * (size_t)TW_MEM_SLAB_BYTES);
    tw_mem_drain(&m);
    assert_int_equal(m.live, 0);
    assert_int_equal(tw_mem_cached(&m), 0);
    assert_int_equal(r.live, 0);
    assert_int_equal(r.allocs, r.frees);
}

/* A slab that does not fit the budget does not make the take fail: the object comes on
   its own when it alone fits. */
static void test_mem_slab_yields_to_budget(void **state)
{
    (void)state;
    if (!TW_MEM_SLABS) {
        skip(); /* AddressSanitizer build: no slabs (mem.h) */
    }
    enum { SZ = 488 };
    rec r;
    tw_allocator a = rec_allocator(&r);
    tw_mem m;
    /* (objects of this class on their own carry the walk's header, mem.h) */
    size_t budget = (TW_MEM_SLAB_FROM + 1) * (SZ + TW_MEM_SOLO_HDR) + TW_MEM_RECV_RESERVE;
    tw_mem_init(&m, &a, budget);
    void *ps[TW_MEM_SLAB_FROM + 2];
    for (size_t i = 0; i < TW_MEM_SLAB_FROM + 1; i++) {
        ps[i] = tw_mem_take(&m, TW_MC_CONN, SZ);
        assert_non_null(ps[i]);
    }
    assert_int_equal(m.live, budget - TW_MEM_RECV_RESERVE);
    assert_null(tw_mem_take(&m, TW_MC_CONN, SZ));
    for (size_t i = 0; i < TW_MEM_SLAB_FROM + 1; i++) {
        tw_mem_give(&m, TW_MC_CONN, ps[i], SZ);
    }
    tw_mem_drain(&m);
    assert_int_equal(m.live, 0);
    assert_int_equal(r.live, 0);
}

/* A budget of two reserves or more keeps its last TW_MEM_RECV_RESERVE bytes for
   tw_mem_alloc_reserve (receive buffers): tw_mem_alloc stops short of them, whatever the
   free lists hold; a smaller budget keeps none. */
static void test_mem_budget_reserve(void **state)
{
    (void)state;
    rec r;
    tw_allocator a = rec_allocator(&r);
    tw_mem m;
    tw_mem_init(&m, &a, 3 * TW_MEM_RECV_RESERVE);
    assert_int_equal(m.reserve, TW_MEM_RECV_RESERVE);
    void *p = tw_mem_alloc(&m, 2 * TW_MEM_RECV_RESERVE);
    assert_non_null(p);
    assert_null(tw_mem_alloc(&m, 1)); /* the reserve is all that is left */
    void *q = tw_mem_alloc_reserve(&m, TW_MEM_RECV_RESERVE);
    assert_non_null(q);
    assert_null(tw_mem_alloc_reserve(&m, 1)); /* the whole budget taken */
    assert_int_equal(m.live, 3 * TW_MEM_RECV_RESERVE);
    tw_mem_free(&m, q, TW_MEM_RECV_RESERVE);
    tw_mem_free(&m, p, 2 * TW_MEM_RECV_RESERVE);
    assert_int_equal(r.live, 0);

    tw_mem_init(&m, &a, 2 * TW_MEM_RECV_RESERVE - 1);
    assert_int_equal(m.reserve, 0);
    p = tw_mem_alloc(&m, 2 * TW_MEM_RECV_RESERVE - 1);
    assert_non_null(p);
    tw_mem_free(&m, p, 2 * TW_MEM_RECV_RESERVE - 1);
    assert_int_equal(r.live, 0);
}

/* A class whose free list is off (a budgeted stack's ring blocks) gives every object back
   to the allocator at once and takes every one from it: nothing is held in a list, none
   is counted as cached, and a drain leaves the list off. */
static void test_mem_list_off(void **state)
{
    (void)state;
    rec r;
    tw_allocator a = rec_allocator(&r);
    tw_mem m;
    tw_mem_init(&m, &a, 0);
    tw_mem_list_off(&m, TW_MC_RING);
    for (int round = 0; round < 2; round++) {
        void *p = tw_mem_take(&m, TW_MC_RING, TW_MEM_RING_BLOCK);
        void *q = tw_mem_take(&m, TW_MC_RING, TW_MEM_RING_BLOCK);
        assert_non_null(p);
        assert_non_null(q);
        assert_int_equal(r.live, 2 * TW_MEM_RING_BLOCK);
        tw_mem_give(&m, TW_MC_RING, p, TW_MEM_RING_BLOCK);
        assert_int_equal(r.live, TW_MEM_RING_BLOCK);
        tw_mem_give2(&m, TW_MC_RING, q, tw_mem_take(&m, TW_MC_RING, TW_MEM_RING_BLOCK),
                     TW_MEM_RING_BLOCK);
        assert_int_equal(r.live, 0);
        assert_int_equal(m.live, 0);
        assert_int_equal(tw_mem_cached(&m), 0);
        assert_null(m.cache[TW_MC_RING].head);
        tw_mem_drain(&m);
    }
}

static void walk_count(void *obj, void *ud)
{
    size_t *seen = ud;
    /* live objects are marked, given-back ones not (past the free lists' link word) */
    if (((unsigned char *)obj)[40] == 0x5a) {
        seen[0]++;
    }
    seen[1]++;
}

/* tw_mem_walk visits every object of the walkable class, on its own or in a slab, and
   tw_mem_release_all gives back every byte, live objects included. */
static void test_mem_walk_and_release_all(void **state)
{
    (void)state;
    enum { N = 1000, SZ = 464 };
    rec r;
    tw_allocator a = rec_allocator(&r);
    tw_mem m;
    tw_mem_init(&m, &a, 0);
    static void *ps[N];
    for (size_t i = 0; i < N; i++) {
        ps[i] = tw_mem_take(&m, TW_MC_CONN, SZ);
        assert_non_null(ps[i]);
        memset(ps[i], 0x5a, SZ);
    }
    for (size_t i = 0; i < N; i += 3) {
        memset(ps[i], 0, SZ);
        tw_mem_give(&m, TW_MC_CONN, ps[i], SZ);
    }
    size_t seen[2] = {0, 0};
    tw_mem_walk(&m, TW_MC_CONN, walk_count, seen);
    assert_int_equal(seen[0], N - (N + 2) / 3);
    assert_true(seen[1] >= seen[0]);
    tw_mem_release_all(&m, TW_MC_CONN);
    assert_int_equal(m.live, 0);
    assert_int_equal(tw_mem_cached(&m), 0);
    assert_int_equal(r.live, 0);
    assert_int_equal(r.allocs, r.frees);
    /* The class works again afterwards. */
    void *p = tw_mem_take(&m, TW_MC_CONN, SZ);
    assert_non_null(p);
    tw_mem_give(&m, TW_MC_CONN, p, SZ);
    tw_mem_drain(&m);
    assert_int_equal(r.live, 0);
}

static int tx_drop(const uint8_t *pkt, size_t len, void *ud)
{
    (void)pkt;
    (void)len;
    (void)ud;
    return 0;
}

/* A stack (no packet goes anywhere) on the recording allocator `a`. */
static tw_stack *rec_stack(const tw_allocator *a)
{
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.addr = 0x0a000001u;
    cfg.allocator = a;
    tw_netdev dev = {.transmit = tx_drop, .mtu = 1500};
    tw_stack *st = NULL;
    assert_int_equal(tw_stack_new(&st, &cfg, &dev, 0), 0);
    return st;
}

/* A stack with many sockets and ports (past TW_MEM_SLAB_FROM: slabs) gives every byte
   back when they are closed, through the counting allocator (STYLE 7.6). */
static void test_mem_slabs_in_a_stack(void **state)
{
    (void)state;
    enum { N = 1000 };
    rec r;
    tw_allocator a = rec_allocator(&r);
    tw_stack *st = rec_stack(&a);
    size_t base = tw_stack_mem_live(st);
    static tw_socket *s[N];
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < N; i++) {
            assert_int_equal(tw_socket_open(st, &s[i]), 0);
            assert_int_equal(tw_socket_bind(s[i], (uint16_t)(20000 + i)), 0);
        }
        if (TW_MEM_SLABS) {
            assert_true(r.allocs < N); /* not one allocation per socket and port */
        }
        /* Every other one, then the rest: slabs are emptied out of order. */
        for (size_t i = 0; i < N; i += 2) {
            tw_socket_close(s[i], 0);
        }
        for (size_t i = 1; i < N; i += 2) {
            tw_socket_close(s[i], 0);
        }
        UNIT_EQ(tw_stack_mem_live(st), base, "round %d: an idle stack holds what a fresh one "
                "holds", round);
        assert_int_equal(r.live, base);
    }
    tw_stack_free(st);
    assert_int_equal(r.live, 0);
    assert_int_equal(r.allocs, r.frees);
}

/* tw_stack_free with every socket still open (past TW_MEM_SLAB_FROM: in slabs, found by
   walking the class, mem.h) gives every byte back, listeners and port entries included. */
static void test_mem_stack_free_with_sockets_open(void **state)
{
    (void)state;
    enum { N = 1000 };
    rec r;
    tw_allocator a = rec_allocator(&r);
    tw_stack *st = rec_stack(&a);
    for (size_t i = 0; i < N; i++) {
        tw_socket *s;
        assert_int_equal(tw_socket_open(st, &s), 0);
        assert_int_equal(tw_socket_bind(s, (uint16_t)(20000 + i)), 0);
        if (i % 10 == 0) {
            assert_int_equal(tw_socket_listen(s, 8, 0), 0);
        }
        if (i % 3 == 0) {
            tw_socket_close(s, 0); /* some given back: the walk passes them by */
        }
    }
    tw_stack_free(st);
    assert_int_equal(r.live, 0);
    assert_int_equal(r.allocs, r.frees);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mem_budget_enforced),
        cmocka_unit_test(test_mem_budget_no_overflow),
        cmocka_unit_test(test_mem_unlimited_accounting),
        cmocka_unit_test(test_mem_allocator_failure),
        cmocka_unit_test(test_mem_zalloc_zeroes),
        cmocka_unit_test(test_mem_zero_size_and_null_free),
        cmocka_unit_test(test_mem_default_allocator),
        cmocka_unit_test(test_mem_free_list_reuse_and_bound),
        cmocka_unit_test(test_mem_free_list_yields_to_budget),
        cmocka_unit_test(test_mem_kept_blocks),
        cmocka_unit_test(test_mem_slabs),
        cmocka_unit_test(test_mem_slab_yields_to_budget),
        cmocka_unit_test(test_mem_budget_reserve),
        cmocka_unit_test(test_mem_list_off),
        cmocka_unit_test(test_mem_slabs_in_a_stack),
        cmocka_unit_test(test_mem_walk_and_release_all),
        cmocka_unit_test(test_mem_stack_free_with_sockets_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
