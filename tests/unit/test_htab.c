/*
 * test_htab.c -- the intrusive 4-tuple hash table (htab.h): insert, find, remove, growth,
 * many keys, and graceful behaviour when growth runs out of memory.
 */
#include "core/htab.h"
#include "unit.h"

#include <string.h>

typedef struct item {
    tw_hnode node;
    int id;
} item;

static size_t chain_len_total(const tw_htab *h)
{
    size_t n = 0;
    for (size_t i = 0; i <= h->mask; i++) {
        for (const tw_hnode *e = h->b[i]; e; e = e->next) {
            n++;
        }
    }
    return n;
}

static void test_htab_tuple_key_packing(void **state)
{
    (void)state;
    assert_int_equal(tw_tuple_key(0xc0000201u, 40000, 8080),
                     0xc00002019c401f90ull); /* addr | 0x9c40 | 0x1f90 */
    assert_int_equal(tw_tuple_key(0xffffffffu, 0xffff, 0xffff), UINT64_MAX);
    /* no field bleeds into another */
    assert_true(tw_tuple_key(1, 0, 0) != tw_tuple_key(0, 1, 0));
    assert_true(tw_tuple_key(0, 1, 0) != tw_tuple_key(0, 0, 1));
    assert_true(tw_tuple_key(0, 0x8000, 0) != tw_tuple_key(0, 0, 0x8000));
}

static void test_htab_insert_find_remove(void **state)
{
    (void)state;
    tw_mem m;
    tw_mem_init(&m, NULL, 0);
    tw_htab h;
    assert_int_equal(tw_htab_init(&h, &m, 10, 0x1234), 0);
    assert_int_equal(h.mask + 1, 16); /* rounded up, at least 16 */
    item a = {.node.key = tw_tuple_key(0xc0000201u, 40000, 80), .id = 1};
    item b = {.node.key = tw_tuple_key(0xc0000201u, 40001, 80), .id = 2};
    item c = {.node.key = tw_tuple_key(0xc0000202u, 40000, 80), .id = 3};
    assert_null(tw_htab_find(&h, a.node.key));
    tw_htab_insert(&h, &m, &a.node);
    tw_htab_insert(&h, &m, &b.node);
    tw_htab_insert(&h, &m, &c.node);
    assert_int_equal(tw_htab_count(&h), 3);
    assert_ptr_equal(tw_htab_find(&h, a.node.key), &a.node);
    assert_ptr_equal(tw_htab_find(&h, b.node.key), &b.node);
    assert_ptr_equal(tw_htab_find(&h, c.node.key), &c.node);
    assert_null(tw_htab_find(&h, tw_tuple_key(0xc0000201u, 40002, 80)));
    tw_htab_remove(&h, &b.node);
    assert_int_equal(tw_htab_count(&h), 2);
    assert_null(tw_htab_find(&h, b.node.key));
    assert_ptr_equal(tw_htab_find(&h, a.node.key), &a.node);
    assert_ptr_equal(tw_htab_find(&h, c.node.key), &c.node);
    /* removing a node that is not in the table changes nothing */
    tw_htab_remove(&h, &b.node);
    assert_int_equal(tw_htab_count(&h), 2);
    tw_htab_remove(&h, &a.node);
    tw_htab_remove(&h, &c.node);
    assert_int_equal(tw_htab_count(&h), 0);
    assert_int_equal(chain_len_total(&h), 0);
    tw_htab_free(&h, &m);
    assert_int_equal(m.live, 0);
}

/* Every entry stays findable while the table doubles; the bucket array doubles exactly
   when count exceeds the bucket count, and the old arrays are freed. */
static void test_htab_grow_keeps_entries(void **state)
{
    (void)state;
    tw_mem m;
    tw_mem_init(&m, NULL, 0);
    tw_htab h;
    assert_int_equal(tw_htab_init(&h, &m, 16, 99), 0);
    enum { N = 1000 };
    static item items[N];
    for (int i = 0; i < N; i++) {
        items[i].node.key = tw_tuple_key(0x0a000000u + (uint32_t)i, (uint16_t)(1024 + i), 443);
        items[i].id = i;
        tw_htab_insert(&h, &m, &items[i].node);
        UNIT_EQ(tw_htab_count(&h) <= h.mask + 1, 1, "load above 1 after %d inserts", i);
        for (int j = 0; j <= i; j += 37) {
            UNIT_EQ((uintptr_t)tw_htab_find(&h, items[j].node.key), (uintptr_t)&items[j].node,
                    "after inserting %d, key %d", i, j);
        }
    }
    assert_int_equal(tw_htab_count(&h), N);
    assert_int_equal(h.mask + 1, 1024); /* 16 doubled until it holds 1000 */
    assert_int_equal(chain_len_total(&h), N);
    /* only the current bucket array is live */
    assert_int_equal(m.live, (h.mask + 1) * sizeof(*h.b));
    tw_htab_free(&h, &m);
    assert_int_equal(m.live, 0);
}

/* Many keys that differ in one field only (the SYN-flood pattern: one port, many source
   addresses; one address, many ports) spread over the buckets and are all found. */
static void many_keys_random_ops(bool tagged, const char *seed_name)
{
    tw_mem m;
    tw_mem_init(&m, NULL, 0);
    tw_htab h;
    unit_rng r = unit_rng_seeded(seed_name);
    if (tagged) {
        assert_int_equal(tw_htab_init_tagged(&h, &m, 64, unit_next(&r)), 0);
    } else {
        assert_int_equal(tw_htab_init(&h, &m, 64, unit_next(&r)), 0);
    }
    enum { N = 20000 };
    static item items[N];
    static bool in[N];
    for (int i = 0; i < N; i++) {
        /* half vary the port only, half the address only */
        items[i].node.key = i % 2 ? tw_tuple_key(0xc0000201u, (uint16_t)i, 80)
                                  : tw_tuple_key(0x0a000000u + (uint32_t)i, 40000, 80);
        items[i].id = i;
        in[i] = false;
    }
    size_t count = 0;
    for (int step = 0; step < 200000; step++) {
        int i = (int)unit_below(&r, N);
        if (in[i]) {
            tw_htab_remove(&h, &items[i].node);
            count--;
        } else {
            tw_htab_insert(&h, &m, &items[i].node);
            count++;
        }
        in[i] = !in[i];
        int j = (int)unit_below(&r, N);
        tw_hnode *f = tw_htab_find(&h, items[j].node.key);
        UNIT_EQ((uintptr_t)f, in[j] ? (uintptr_t)&items[j].node : 0, "step %d key %d", step, j);
    }
    assert_int_equal(tw_htab_count(&h), count);
    assert_int_equal(chain_len_total(&h), count);
    for (int i = 0; i < N; i++) {
        UNIT_EQ(tw_htab_find(&h, items[i].node.key) != NULL, in[i], "final check, key %d", i);
    }
    /* the keyed mix spreads the entries: no chain is absurdly long */
    size_t longest = 0;
    for (size_t b = 0; b <= h.mask; b++) {
        size_t len = 0;
        for (const tw_hnode *e = h.b[b]; e; e = e->next) {
            len++;
        }
        longest = len > longest ? len : longest;
    }
    print_message("%zu entries, %zu buckets, longest chain %zu\n", count, h.mask + 1, longest);
    assert_true(longest < 16);
    if (tagged) {
        /* Each bucket's tag has at least the bits of the entries in its chain (removal
           may leave a bit behind, never lose one). */
        for (size_t b = 0; b <= h.mask; b++) {
            uint8_t t = 0;
            for (const tw_hnode *e = h.b[b]; e; e = e->next) {
                t |= tw_htab_tag_bit(tw_htab_hash(&h, e->key));
            }
            UNIT_EQ(h.tag[b] & t, t, "tag of bucket %zu", b);
        }
    }
    tw_htab_free(&h, &m);
    assert_int_equal(m.live, 0);
}

static void test_htab_many_keys_random_ops(void **state)
{
    (void)state;
    many_keys_random_ops(false, __func__);
}

/* The same with tags (htab.h): a tag never hides an entry that is there. */
static void test_htab_tagged_many_keys_random_ops(void **state)
{
    (void)state;
    many_keys_random_ops(true, __func__);
}

/* Removal leaves the entry's tag bit; the first lookup that walks the chain for nothing
   clears it, so a stale bit costs one walk, not one per lookup (htab.h). */
static void test_htab_tag_stale_bit_cleared_by_lookup(void **state)
{
    (void)state;
    tw_mem m;
    tw_mem_init(&m, NULL, 0);
    tw_htab h;
    assert_int_equal(tw_htab_init_tagged(&h, &m, 64, 99), 0);
    /* Two keys in one bucket with different tag bits. */
    item a = {.node.key = tw_tuple_key(0xc0000201u, 40000, 80)};
    uint64_t xa = tw_htab_hash(&h, a.node.key);
    item b = {.node.key = 0};
    for (uint16_t p = 40001; p != 0; p++) {
        uint64_t k = tw_tuple_key(0xc0000201u, p, 80), x = tw_htab_hash(&h, k);
        if ((x & h.mask) == (xa & h.mask) && tw_htab_tag_bit(x) != tw_htab_tag_bit(xa)) {
            b.node.key = k;
            break;
        }
    }
    assert_true(b.node.key != 0);
    size_t i = (size_t)(xa & h.mask);
    uint8_t bit_a = tw_htab_tag_bit(xa), bit_b = tw_htab_tag_bit(tw_htab_hash(&h, b.node.key));
    tw_htab_insert(&h, &m, &a.node);
    tw_htab_insert(&h, &m, &b.node);
    assert_int_equal(h.tag[i], bit_a | bit_b);
    tw_htab_remove(&h, &b.node);
    assert_int_equal(h.tag[i], bit_a | bit_b); /* stale: the chain was not read */
    assert_null(tw_htab_find(&h, b.node.key));
    assert_int_equal(h.tag[i], bit_a); /* exact after the walk */
    assert_ptr_equal(tw_htab_find(&h, a.node.key), &a.node);
    tw_htab_remove(&h, &a.node);
    assert_null(tw_htab_find(&h, a.node.key));
    assert_int_equal(h.tag[i], 0);
    tw_htab_free(&h, &m);
    assert_int_equal(m.live, 0);
}

/* Growth that fails for lack of memory keeps the old table: inserts still succeed (longer
   chains), everything is still found (htab.h). */
static void test_htab_grow_failure_keeps_working(void **state)
{
    (void)state;
    tw_mem m;
    tw_mem_init(&m, NULL, 16 * sizeof(tw_hnode *)); /* room for the first array only */
    tw_htab h;
    assert_int_equal(tw_htab_init(&h, &m, 16, 7), 0);
    static item items[200];
    for (int i = 0; i < 200; i++) {
        items[i].node.key = (uint64_t)i * 0x10001u;
        tw_htab_insert(&h, &m, &items[i].node);
    }
    assert_int_equal(h.mask + 1, 16);
    assert_int_equal(tw_htab_count(&h), 200);
    for (int i = 0; i < 200; i++) {
        UNIT_EQ((uintptr_t)tw_htab_find(&h, items[i].node.key), (uintptr_t)&items[i].node, "key %d",
                i);
    }
    tw_htab_free(&h, &m);
    assert_int_equal(m.live, 0);
}

static void test_htab_init_out_of_memory(void **state)
{
    (void)state;
    tw_mem m;
    tw_mem_init(&m, NULL, 8); /* less than 16 bucket pointers */
    tw_htab h;
    assert_int_equal(tw_htab_init(&h, &m, 16, 0), TW_ERR_NOMEM);
    assert_int_equal(m.live, 0);
}

/* The seed changes the bucket of a key (a peer that does not know it cannot aim). */
static void test_htab_seed_changes_buckets(void **state)
{
    (void)state;
    tw_htab a = {.mask = 1023, .seed = 1}, b = {.mask = 1023, .seed = 2};
    int same = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        uint64_t k = tw_tuple_key(0xc0000201u, (uint16_t)i, 80);
        same += tw_htab_index(&a, k) == tw_htab_index(&b, k);
        UNIT_EQ(tw_htab_index(&a, k) <= a.mask, 1, "key %u", i);
    }
    assert_true(same < 20); /* about 1 in 1024 expected */
}

/* After a burst the table halves back to its initial size, entries still found. */
static void test_htab_shrinks_after_burst(void **state)
{
    (void)state;
    tw_mem m;
    tw_mem_init(&m, NULL, 0);
    tw_htab h;
    assert_int_equal(tw_htab_init(&h, &m, 16, 7), 0);
    enum { N = 1000 };
    static item items[N];
    for (int i = 0; i < N; i++) {
        items[i].node.key = tw_tuple_key(0x0a000000u + (uint32_t)i, 1024, 443);
        tw_htab_insert(&h, &m, &items[i].node);
    }
    assert_int_equal(h.mask + 1, 1024);
    for (int i = 0; i < N - 3; i++) {
        tw_htab_remove(&h, &items[i].node);
        UNIT_EQ(tw_htab_count(&h) >= (h.mask + 1) / 4 || h.mask + 1 == 16, 1, "after removing %d", i);
    }
    assert_int_equal(h.mask + 1, 16);
    assert_int_equal(m.live, 16 * sizeof(*h.b));
    for (int i = N - 3; i < N; i++) {
        UNIT_EQ((uintptr_t)tw_htab_find(&h, items[i].node.key), (uintptr_t)&items[i].node,
                "key %d", i);
    }
    tw_htab_free(&h, &m);
    assert_int_equal(m.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_htab_tuple_key_packing),
        cmocka_unit_test(test_htab_insert_find_remove),
        cmocka_unit_test(test_htab_tagged_many_keys_random_ops),
        cmocka_unit_test(test_htab_tag_stale_bit_cleared_by_lookup),
        cmocka_unit_test(test_htab_grow_keeps_entries),
        cmocka_unit_test(test_htab_many_keys_random_ops),
        cmocka_unit_test(test_htab_grow_failure_keeps_working),
        cmocka_unit_test(test_htab_init_out_of_memory),
        cmocka_unit_test(test_htab_seed_changes_buckets),
        cmocka_unit_test(test_htab_shrinks_after_burst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
