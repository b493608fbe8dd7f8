/*
 * test_ranges.c -- out-of-order ranges above rcv_nxt (ranges.h; RFC 9293 3.10.7.4,
 * seventh step: segments beyond RCV.NXT are kept for later; SPEC D1).
 *
 * Every table runs at several bases, one of them just below 2^32, so that merging and
 * ordering are also checked across the sequence wrap (S19).
 */
#include "core/ranges.h"
#include "core/mem.h"
#include "unit.h"

#include <string.h>

static const uint32_t bases[] = {0, 1000, 0x7ffffff0u, 0xffffffe0u, 0xfffffffbu};
#define NBASES (sizeof(bases) / sizeof(bases[0]))

typedef struct span {
    uint32_t s, e; /* relative to the base */
} span;

typedef struct merge_case {
    const char *what;
    span add[6];
    size_t nadd;
    span want[6];
    size_t nwant;
} merge_case;

static const merge_case merge_cases[] = {
    {"one range", {{10, 20}}, 1, {{10, 20}}, 1},
    {"two disjoint, in order", {{10, 20}, {30, 40}}, 2, {{10, 20}, {30, 40}}, 2},
    {"two disjoint, reversed", {{30, 40}, {10, 20}}, 2, {{10, 20}, {30, 40}}, 2},
    {"adjacent after", {{10, 20}, {20, 30}}, 2, {{10, 30}}, 1},
    {"adjacent before", {{20, 30}, {10, 20}}, 2, {{10, 30}}, 1},
    {"one-byte gap stays a hole", {{10, 20}, {21, 30}}, 2, {{10, 20}, {21, 30}}, 2},
    {"overlap at the end", {{10, 20}, {15, 25}}, 2, {{10, 25}}, 1},
    {"overlap at the start", {{10, 20}, {5, 12}}, 2, {{5, 20}}, 1},
    {"contained", {{10, 20}, {12, 18}}, 2, {{10, 20}}, 1},
    {"containing", {{12, 18}, {10, 20}}, 2, {{10, 20}}, 1},
    {"duplicate", {{10, 20}, {10, 20}}, 2, {{10, 20}}, 1},
    {"fills a hole exactly", {{10, 20}, {30, 40}, {20, 30}}, 3, {{10, 40}}, 1},
    {"bridges three", {{10, 20}, {30, 40}, {50, 60}, {15, 55}}, 4, {{10, 60}}, 1},
    {"touches the second only", {{10, 20}, {30, 40}, {25, 35}}, 3, {{10, 20}, {25, 40}}, 2},
    {"extends the last", {{10, 20}, {30, 40}, {35, 50}}, 3, {{10, 20}, {30, 50}}, 2},
    {"between two, touching neither",
     {{10, 20}, {40, 50}, {25, 35}},
     3,
     {{10, 20}, {25, 35}, {40, 50}},
     3},
    {"covers everything", {{10, 20}, {30, 40}, {50, 60}, {0, 100}}, 4, {{0, 100}}, 1},
    {"empty range ignored", {{10, 20}, {30, 30}}, 2, {{10, 20}}, 1},
    {"backwards range ignored", {{10, 20}, {40, 30}}, 2, {{10, 20}}, 1},
    {"a range that reaches across 2^31 is fine", {{0, 0x7fffffffu}}, 1, {{0, 0x7fffffffu}}, 1},
};

static void check_ranges(const tw_ranges *rs, uint32_t base, const span *want, size_t n,
                         const char *what)
{
    UNIT_EQ(rs->n, n, "%s, base 0x%08x", what, base);
    for (size_t i = 0; i < n; i++) {
        UNIT_EQ(rs->inl[i].start.v, base + want[i].s, "%s, base 0x%08x, range %zu start", what, base,
                i);
        UNIT_EQ(rs->inl[i].end.v, base + want[i].e, "%s, base 0x%08x, range %zu end", what, base, i);
    }
}

static void test_ranges_merge_table(void **state)
{
    (void)state;
    for (size_t b = 0; b < NBASES; b++) {
        for (size_t i = 0; i < sizeof(merge_cases) / sizeof(merge_cases[0]); i++) {
            const merge_case *c = &merge_cases[i];
            tw_ranges rs;
            memset(&rs, 0, sizeof(rs));
            uint32_t bytes = 0;
            for (size_t k = 0; k < c->nadd; k++) {
                UNIT_EQ(tw_ranges_add(&rs, tw_seq_make(bases[b] + c->add[k].s),
                                      tw_seq_make(bases[b] + c->add[k].e)),
                        true, "%s, base 0x%08x, add %zu", c->what, bases[b], k);
            }
            check_ranges(&rs, bases[b], c->want, c->nwant, c->what);
            for (size_t k = 0; k < c->nwant; k++) {
                bytes += c->want[k].e - c->want[k].s;
            }
            UNIT_EQ(tw_ranges_bytes(&rs), bytes, "%s, base 0x%08x", c->what, bases[b]);
        }
    }
}

/* Fill all 16 entries with ranges [20k+10, 20k+15), k = 0..15. */
static void fill16(tw_ranges *rs, uint32_t base)
{
    memset(rs, 0, sizeof(*rs));
    for (uint32_t k = 0; k < TW_RANGES_MAX; k++) {
        assert_true(
            tw_ranges_add(rs, tw_seq_make(base + 20 * k + 10), tw_seq_make(base + 20 * k + 15)));
    }
    assert_int_equal(rs->n, TW_RANGES_MAX);
}

/* A 17th hole cannot be recorded: the add fails and changes nothing (the caller drops the
   segment, TCP_RX_OOO_DROP). Adds that merge still succeed when full. */
static void test_ranges_overflow_at_16(void **state)
{
    (void)state;
    for (size_t b = 0; b < NBASES; b++) {
        uint32_t base = bases[b];
        tw_ranges rs, before;
        fill16(&rs, base);
        before = rs;
        /* before the first, after the last, and in a middle hole */
        static const span fresh[] = {{0, 5}, {400, 410}, {16, 29}};
        for (size_t i = 0; i < 3; i++) {
            UNIT_EQ(
                tw_ranges_add(&rs, tw_seq_make(base + fresh[i].s), tw_seq_make(base + fresh[i].e)),
                false, "base 0x%08x fresh %zu", base, i);
            assert_memory_equal(&rs, &before, sizeof(rs));
        }
        /* adjacent to the first: merges, count unchanged */
        assert_true(tw_ranges_add(&rs, tw_seq_make(base + 5), tw_seq_make(base + 10)));
        assert_int_equal(rs.n, TW_RANGES_MAX);
        assert_int_equal(rs.inl[0].start.v, base + 5);
        /* adjacent to the last */
        assert_true(tw_ranges_add(&rs, tw_seq_make(base + 315), tw_seq_make(base + 320)));
        assert_int_equal(rs.n, TW_RANGES_MAX);
        assert_int_equal(rs.inl[15].end.v, base + 320);
        /* bridging two frees an entry ... */
        assert_true(tw_ranges_add(&rs, tw_seq_make(base + 15), tw_seq_make(base + 30)));
        assert_int_equal(rs.n, TW_RANGES_MAX - 1);
        assert_int_equal(rs.inl[0].end.v, base + 35);
        /* ... which a new hole can then use */
        assert_true(tw_ranges_add(&rs, tw_seq_make(base + 400), tw_seq_make(base + 410)));
        assert_int_equal(rs.n, TW_RANGES_MAX);
        assert_int_equal(rs.inl[15].start.v, base + 400);
    }
}

/* Past the 16 held in the record, tw_ranges_grow gives the ranges an array of their own
   (64, 256, then 1024), the ranges kept in order; at 1024 it refuses, and so it does when
   the memory budget refuses (nothing changed then). tw_ranges_release gives it back. */
static void test_ranges_grow_past_16(void **state)
{
    (void)state;
    for (size_t b = 0; b < NBASES; b++) {
        uint32_t base = bases[b];
        tw_mem m;
        tw_mem_init(&m, NULL, 0);
        tw_ranges rs;
        fill16(&rs, base);
        static const unsigned caps[] = {64, 256, 1024};
        unsigned ci = 0;
        for (uint32_t k = TW_RANGES_MAX; k < TW_RANGES_EXT_MAX; k++) {
            tw_seq s = tw_seq_make(base + 20 * k + 10), e = tw_seq_make(base + 20 * k + 15);
            if (!tw_ranges_add(&rs, s, e)) {
                UNIT_EQ(rs.n, k, "base 0x%08x: refused at %u", base, k);
                assert_true(tw_ranges_grow(&rs, &m));
                assert_int_equal(rs.ext_cap, caps[ci]);
                assert_int_equal(m.live, caps[ci] * sizeof(tw_range));
                ci++;
                assert_true(tw_ranges_add(&rs, s, e));
            }
        }
        assert_int_equal(ci, 3);
        assert_int_equal(rs.n, TW_RANGES_EXT_MAX);
        const tw_range *r = tw_ranges_get(&rs);
        for (uint32_t k = 0; k < TW_RANGES_EXT_MAX; k++) {
            UNIT_EQ(r[k].start.v, base + 20 * k + 10, "base 0x%08x range %u", base, k);
            UNIT_EQ(r[k].end.v, base + 20 * k + 15, "base 0x%08x range %u", base, k);
        }
        uint32_t held = tw_ranges_bytes(&rs);
        assert_int_equal(held, 5u * TW_RANGES_EXT_MAX);
        assert_false(tw_ranges_add(&rs, tw_seq_make(base + 20 * TW_RANGES_EXT_MAX + 10),
                                   tw_seq_make(base + 20 * TW_RANGES_EXT_MAX + 15)));
        assert_false(tw_ranges_grow(&rs, &m)); /* the most */
        /* a pull and a trim work on the array as on the record */
        assert_int_equal(tw_ranges_pull(&rs, tw_seq_make(base + 10)).v, base + 15);
        tw_ranges_trim(&rs, tw_seq_make(base + 20 * 100 + 12));
        assert_int_equal(rs.n, TW_RANGES_EXT_MAX - 100);
        assert_int_equal(tw_ranges_get(&rs)[0].start.v, base + 20 * 100 + 12);
        tw_ranges_release(&rs, &m);
        assert_null(rs.ext);
        assert_int_equal(m.live, 0);
        /* A budget too small for the next array: refused, nothing changed. */
        tw_mem_init(&m, NULL, 64 * sizeof(tw_range) - 1);
        tw_ranges full, before;
        fill16(&full, base);
        before = full;
        assert_false(tw_ranges_grow(&full, &m));
        assert_memory_equal(&full, &before, sizeof(full));
        assert_int_equal(m.live, 0);
    }
}

static void test_ranges_pull(void **state)
{
    (void)state;
    for (size_t b = 0; b < NBASES; b++) {
        uint32_t base = bases[b];
        tw_ranges rs;
        memset(&rs, 0, sizeof(rs));
        tw_seq B = tw_seq_make(base);
        /* nothing held: rcv_nxt stays */
        assert_int_equal(tw_ranges_pull(&rs, tw_seq_add(B, 7)).v, base + 7);
        assert_true(tw_ranges_add(&rs, tw_seq_add(B, 10), tw_seq_add(B, 20)));
        assert_true(tw_ranges_add(&rs, tw_seq_add(B, 30), tw_seq_add(B, 40)));
        assert_true(tw_ranges_add(&rs, tw_seq_add(B, 50), tw_seq_add(B, 60)));
        /* a hole before r[0]: nothing moves */
        assert_int_equal(tw_ranges_pull(&rs, tw_seq_add(B, 9)).v, base + 9);
        assert_int_equal(rs.n, 3);
        /* in-order data reached r[0].start exactly */
        assert_int_equal(tw_ranges_pull(&rs, tw_seq_add(B, 10)).v, base + 20);
        assert_int_equal(rs.n, 2);
        assert_int_equal(rs.inl[0].start.v, base + 30);
        /* in-order data overlapped into r[0] */
        assert_int_equal(tw_ranges_pull(&rs, tw_seq_add(B, 35)).v, base + 40);
        assert_int_equal(rs.n, 1);
        /* in-order data went past r[0] entirely: never below upto */
        assert_int_equal(tw_ranges_pull(&rs, tw_seq_add(B, 70)).v, base + 70);
        assert_int_equal(rs.n, 0);
        assert_int_equal(tw_ranges_bytes(&rs), 0);
    }
}

/* Random adds and pulls in a 2 KB window against a bitmap: after every step the ranges
   are sorted, non-empty, disjoint and non-adjacent, and cover exactly the bitmap. */
#define WIN 2048
static void bitmap_check(const tw_ranges *rs, const bool *bits, uint32_t base, int step)
{
    uint32_t pos = 0;
    for (unsigned i = 0; i < rs->n; i++) {
        uint32_t s = rs->inl[i].start.v - base, e = rs->inl[i].end.v - base;
        UNIT_EQ(s < e && e <= WIN, 1, "step %d range %u [%u, %u) malformed", step, i, s, e);
        UNIT_EQ(i == 0 || s > pos, 1, "step %d range %u not after a hole", step, i);
        for (; pos < s; pos++) {
            UNIT_EQ(bits[pos], 0, "step %d: byte %u held by no range", step, pos);
        }
        for (; pos < e; pos++) {
            UNIT_EQ(bits[pos], 1, "step %d: byte %u in range %u but never added", step, pos, i);
        }
    }
    for (; pos < WIN; pos++) {
        UNIT_EQ(bits[pos], 0, "step %d: byte %u held by no range", step, pos);
    }
}

static void test_ranges_random_against_bitmap(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    for (size_t b = 0; b < NBASES; b++) {
        uint32_t base = bases[b];
        tw_ranges rs;
        memset(&rs, 0, sizeof(rs));
        bool bits[WIN] = {false};
        unsigned refused = 0, pulls = 0;
        for (int step = 0; step < 20000; step++) {
            if (unit_below(&r, 50) == 0) {
                /* pull: the model drops its first run if it starts at or before upto */
                uint32_t upto = (uint32_t)unit_below(&r, WIN);
                pulls++;
                uint32_t s = 0;
                while (s < WIN && !bits[s]) {
                    s++;
                }
                uint32_t e = s;
                while (e < WIN && bits[e]) {
                    e++;
                }
                uint32_t want = upto;
                if (s < WIN && s <= upto) {
                    want = e > upto ? e : upto;
                    memset(bits + s, 0, e - s);
                }
                UNIT_EQ(tw_ranges_pull(&rs, tw_seq_make(base + upto)).v, base + want,
                        "step %d pull", step);
            } else {
                uint32_t s = (uint32_t)unit_below(&r, WIN);
                uint32_t len = 1 + (uint32_t)unit_below(&r, 40);
                uint32_t e = s + len > WIN ? WIN : s + len;
                tw_ranges before = rs;
                if (tw_ranges_add(&rs, tw_seq_make(base + s), tw_seq_make(base + e))) {
                    memset(bits + s, 1, e - s);
                } else {
                    /* refused only when full and the range touches none */
                    refused++;
                    UNIT_EQ(before.n, TW_RANGES_MAX, "step %d refused while not full", step);
                    assert_memory_equal(&rs, &before, sizeof(rs));
                    for (uint32_t k = s > 0 ? s - 1 : 0; k < e + 1 && k < WIN; k++) {
                        UNIT_EQ(bits[k], 0, "step %d refused a range touching byte %u", step, k);
                    }
                }
            }
            bitmap_check(&rs, bits, base, step);
            uint32_t held = 0;
            for (uint32_t k = 0; k < WIN; k++) {
                held += bits[k];
            }
            UNIT_EQ(tw_ranges_bytes(&rs), held, "step %d", step);
        }
        print_message("base 0x%08x: %u pulls, %u adds refused (full)\n", base, pulls, refused);
        assert_true(refused > 0); /* the overflow path was exercised */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges_merge_table),
        cmocka_unit_test(test_ranges_overflow_at_16),
        cmocka_unit_test(test_ranges_grow_past_16),
        cmocka_unit_test(test_ranges_pull),
        cmocka_unit_test(test_ranges_random_against_bitmap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
