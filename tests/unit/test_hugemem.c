/*
 * test_hugemem.c -- the host layer's allocator for stacks holding many connections
 * (src/host/hugemem.c): every size class gives usable, disjoint memory; freed slab blocks
 * are reused; large tables are 2 MiB aligned; a stack run on it with thousands of sockets
 * gives every byte back. Whether the kernel backs it with huge pages is its business
 * (madvise is advice), so nothing here depends on it.
 */
#include "host/host.h"
#include "unit.h"

#include <stdint.h>
#include <string.h>

static void fill(uint8_t *p, size_t n, uint8_t v)
{
    memset(p, v, n);
}

static bool filled(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != v) {
            return false;
        }
    }
    return true;
}

/* Every class (malloc'd small, slab block, mid-size malloc, own mapping) hands out
   writable memory that no other live allocation overlaps. */
static void test_hugemem_classes_disjoint(void **state)
{
    (void)state;
    tw_allocator a;
    assert_int_equal(tw_host_hugemem_new(&a), 0);
    static const size_t sizes[] = {1, 100, 16383, 16384, 40000, 65536, 65537, 300000,
                                   (1u << 20) - 1, 1u << 20, (3u << 20) + 5};
    enum { N = sizeof(sizes) / sizeof(sizes[0]) };
    uint8_t *p[N];
    for (size_t i = 0; i < N; i++) {
        p[i] = a.alloc(sizes[i], a.ud);
        assert_non_null(p[i]);
        fill(p[i], sizes[i], (uint8_t)(i + 1));
    }
    for (size_t i = 0; i < N; i++) {
        UNIT_EQ(filled(p[i], sizes[i], (uint8_t)(i + 1)), true, "size %zu overwritten",
                sizes[i]);
        if (sizes[i] >= (1u << 20)) {
            UNIT_EQ((uintptr_t)p[i] % (2u << 20), 0, "size %zu not 2 MiB aligned", sizes[i]);
        }
    }
    for (size_t i = 0; i < N; i++) {
        a.free(p[i], sizes[i], a.ud);
    }
    a.free(NULL, 100, a.ud);
    tw_host_hugemem_free(&a);
    assert_null(a.ud);
    tw_host_hugemem_free(&a); /* twice, or on nothing: no harm */
    tw_host_hugemem_free(NULL);
}

/* Slab-sized blocks: more than one 32 MiB region's worth, all distinct and 64 KiB apart
   at least; a freed block is the next one handed out. */
static void test_hugemem_blocks_reused(void **state)
{
    (void)state;
    tw_allocator a;
    assert_int_equal(tw_host_hugemem_new(&a), 0);
    enum { NB = 600 }; /* 600 x 64 KiB = 37.5 MiB: two regions */
    static uint8_t *b[NB];
    for (size_t i = 0; i < NB; i++) {
        b[i] = a.alloc(65536, a.ud);
        assert_non_null(b[i]);
        fill(b[i], 65536, (uint8_t)i);
    }
    for (size_t i = 0; i < NB; i++) {
        UNIT_EQ(filled(b[i], 65536, (uint8_t)i), true, "block %zu overwritten", i);
    }
    uint8_t *freed = b[123];
    a.free(freed, 65536, a.ud);
    uint8_t *again = a.alloc(20000, a.ud); /* any size of the class takes a block */
    assert_ptr_equal(again, freed);
    b[123] = again;
    for (size_t i = 0; i < NB; i++) {
        a.free(b[i], i == 123 ? 20000 : 65536, a.ud);
    }
    tw_host_hugemem_free(&a);
}

static int drop_tx(const uint8_t *pkt, size_t len, void *ud)
{
    (void)pkt;
    (void)len;
    (void)ud;
    return 0;
}

/* A stack on the allocator: 5,000 connecting sockets (slabs from blocks, a connection
   table that doubles past a block's size), all closed, the stack freed, then the
   allocator. ASan sees no leak and no stray access. */
static void test_hugemem_stack_round_trip(void **state)
{
    (void)state;
    tw_allocator a;
    assert_int_equal(tw_host_hugemem_new(&a), 0);
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.addr = 0x0a000001;
    cfg.allocator = &a;
    memset(cfg.entropy, 7, sizeof(cfg.entropy));
    tw_netdev dev = {drop_tx, NULL, 1500};
    tw_stack *st;
    assert_int_equal(tw_stack_new(&st, &cfg, &dev, 0), 0);
    size_t live0 = tw_stack_mem_live(st);
    enum { NS = 5000 };
    static tw_socket *s[NS];
    for (size_t i = 0; i < NS; i++) {
        assert_int_equal(tw_socket_open(st, &s[i]), 0);
        UNIT_EQ(tw_socket_connect(s[i], 0x0a000002u, 80, 0), 0,
                "connect %zu", i);
    }
    for (size_t i = 0; i < NS; i++) {
        assert_int_equal(tw_socket_close(s[i], 0), 0);
    }
    UNIT_EQ(tw_stack_mem_live(st), live0, "after closing every socket");
    tw_stack_free(st);
    tw_host_hugemem_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hugemem_classes_disjoint),
        cmocka_unit_test(test_hugemem_blocks_reused),
        cmocka_unit_test(test_hugemem_stack_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
