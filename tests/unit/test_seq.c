/*
 * test_seq.c -- sequence-number arithmetic modulo 2^32 (SPEC S19, RFC 9293 3.4).
 *
 * The tables sit astride the wrap point on purpose: a connection whose ISN is near
 * 2^32 - 1 must compare, add and measure windows exactly as one whose ISN is small.
 */
#include "core/seq.h"
#include "unit.h"

/* a ? b for every comparison, and b - a as a signed distance. */
typedef struct cmp_case {
    uint32_t a, b;
    int32_t diff; /* b - a */
} cmp_case;

/* |diff| < 2^31 in every row: RFC 1982 3.2 leaves a distance of exactly 2^31 undefined
   (tested apart below). */
static const cmp_case cmp_cases[] = {
    {0, 0, 0},
    {0, 1, 1},
    {1, 0, -1},
    {0xffffffffu, 0, 1}, /* the wrap itself */
    {0, 0xffffffffu, -1},
    {0xfffffff0u, 0x10u, 0x20}, /* a window straddling 0 */
    {0x10u, 0xfffffff0u, -0x20},
    {0xffffffffu, 0xffffffffu, 0},
    {0x7fffffffu, 0x80000000u, 1}, /* the sign bit is not special */
    {0x80000000u, 0x7fffffffu, -1},
    {0, 0x7fffffffu, 0x7fffffff}, /* farthest "ahead" */
    {0x7fffffffu, 0, -0x7fffffff},
    {0, 0x80000001u, -0x7fffffff}, /* one past half the circle: now behind */
    {0x80000001u, 0, 0x7fffffff},
    {0xc0000000u, 0x3fffffffu, 0x7fffffff},
    {0x3fffffffu, 0xc0000000u, -0x7fffffff},
    {0xfffffc00u, 0x00000400u, 0x800},
    {4000000000u, 4000065535u, 65535},
    {4294901760u, 65535u, 131071},
};

static void test_seq_s19_compare_across_wrap(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cmp_cases) / sizeof(cmp_cases[0]); i++) {
        const cmp_case *c = &cmp_cases[i];
        tw_seq a = tw_seq_make(c->a), b = tw_seq_make(c->b);
#define ROW "row %zu: a=0x%08x b=0x%08x", i, c->a, c->b
        UNIT_EQ(tw_seq_diff(b, a), c->diff, ROW);
        UNIT_EQ(tw_seq_diff(a, b), -c->diff, ROW);
        UNIT_EQ(tw_seq_lt(a, b), c->diff > 0, ROW);
        UNIT_EQ(tw_seq_le(a, b), c->diff >= 0, ROW);
        UNIT_EQ(tw_seq_gt(a, b), c->diff < 0, ROW);
        UNIT_EQ(tw_seq_ge(a, b), c->diff <= 0, ROW);
        UNIT_EQ(tw_seq_eq(a, b), c->diff == 0, ROW);
        UNIT_EQ(tw_seq_max(a, b).v, c->diff >= 0 ? c->b : c->a, ROW);
        UNIT_EQ(tw_seq_min(a, b).v, c->diff >= 0 ? c->a : c->b, ROW);
        /* a + (b - a) lands on b, whichever side of the wrap */
        UNIT_EQ(tw_seq_add(a, (uint32_t)c->diff).v, c->b, ROW);
#undef ROW
    }
}

/* RFC 1982 3.2: at a distance of exactly 2^31 the order is undefined. seq.h resolves it
   by the sign of the 32-bit difference, as Linux's before() and after() do: each is
   both "before" and "after" the other. What must hold is that eq is false and diff is
   INT32_MIN both ways, and that each comparison is its converse's mirror and its
   opposite's negation there too (gt(a, b) is lt(b, a), le is not gt, ge is not lt). */
static void test_seq_s19_half_circle_is_undefined_but_consistent(void **state)
{
    (void)state;
    static const uint32_t starts[] = {0, 1, 0x7fffffffu, 0x80000000u, 0xffffffffu};
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        tw_seq a = tw_seq_make(starts[i]), b = tw_seq_add(a, 0x80000000u);
        assert_false(tw_seq_eq(a, b));
        assert_int_equal(tw_seq_diff(b, a), INT32_MIN);
        assert_int_equal(tw_seq_diff(a, b), INT32_MIN);
        assert_int_equal(tw_seq_lt(a, b), tw_seq_lt(b, a));
        assert_int_equal(tw_seq_gt(a, b), tw_seq_lt(b, a));
        assert_int_equal(tw_seq_gt(b, a), tw_seq_lt(a, b));
        assert_int_equal(tw_seq_le(a, b), !tw_seq_gt(a, b));
        assert_int_equal(tw_seq_ge(a, b), !tw_seq_lt(a, b));
    }
}

static void test_seq_s19_add_wraps(void **state)
{
    (void)state;
    static const struct {
        uint32_t a, n, sum;
    } rows[] = {
        {0xffffffffu, 1, 0},
        {0xffffffffu, 2, 1},
        {0xfffffff0u, 0x20, 0x10},
        {0x80000000u, 0x80000000u, 0},
        {0, 0xffffffffu, 0xffffffffu},
        {12345, 0, 12345},
        {0xfffffffeu, 0xffffffffu, 0xfffffffdu}, /* adding 2^32 - 1 is subtracting 1 */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        tw_seq s = tw_seq_add(tw_seq_make(rows[i].a), rows[i].n);
        UNIT_EQ(s.v, rows[i].sum, "row %zu", i);
        /* a FIN or SYN occupies one number: seq+1 is after seq even at the wrap (S10) */
        if (rows[i].n == 1) {
            assert_true(tw_seq_gt(s, tw_seq_make(rows[i].a)));
        }
    }
}

/* tw_seq_in(x, lo, hi): lo <= x < hi; the receive-window test of RFC 9293 3.10.7.4. */
static void test_seq_s19_in_window_across_wrap(void **state)
{
    (void)state;
    static const struct {
        uint32_t x, lo, hi;
        bool in;
    } rows[] = {
        {0xfffffff0u, 0xfffffff0u, 0x10u, true}, /* lo itself */
        {0xffffffffu, 0xfffffff0u, 0x10u, true},
        {0, 0xfffffff0u, 0x10u, true},
        {0xfu, 0xfffffff0u, 0x10u, true},         /* hi - 1 */
        {0x10u, 0xfffffff0u, 0x10u, false},       /* hi is excluded */
        {0xffffffefu, 0xfffffff0u, 0x10u, false}, /* lo - 1 */
        {0x80000000u, 0xfffffff0u, 0x10u, false}, /* far away */
        {5, 5, 5, false},                         /* empty window holds nothing */
        {0, 0, 0, false},
        {0xffffffffu, 0xffffffffu, 0, true}, /* one-byte window at the wrap */
        {0, 0xffffffffu, 0, false},
        {100, 0, 0xffffffffu, true}, /* the largest window */
        {0xfffffffeu, 0, 0xffffffffu, true},
        {0xffffffffu, 0, 0xffffffffu, false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        UNIT_EQ(tw_seq_in(tw_seq_make(rows[i].x), tw_seq_make(rows[i].lo), tw_seq_make(rows[i].hi)),
                rows[i].in, "row %zu: x=0x%08x lo=0x%08x hi=0x%08x", i, rows[i].x, rows[i].lo,
                rows[i].hi);
    }
}

/* Same relations for random points anywhere on the circle: a + d for 0 < d < 2^31 is
   after a, a - d before it, whatever a is. */
static void test_seq_s19_random_points(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    for (int i = 0; i < 200000; i++) {
        uint32_t a = (uint32_t)unit_next(&r);
        /* bias a quarter of the points to within 64 K of the wrap */
        if (i % 4 == 0) {
            a = 0u - (uint32_t)unit_below(&r, 65536) - 1u;
        }
        uint32_t d = 1 + (uint32_t)unit_below(&r, 0x7fffffffu);
        tw_seq s = tw_seq_make(a), ahead = tw_seq_add(s, d), behind = tw_seq_add(s, 0u - d);
        if (!tw_seq_lt(s, ahead) || tw_seq_gt(s, ahead) || !tw_seq_gt(s, behind) ||
            tw_seq_diff(ahead, s) != (int32_t)d || tw_seq_diff(behind, s) != -(int32_t)d ||
            !tw_seq_in(s, s, ahead) || tw_seq_in(ahead, s, ahead) ||
            tw_seq_max(s, ahead).v != ahead.v || tw_seq_min(s, behind).v != behind.v) {
            fail_msg("a=0x%08x d=0x%08x", a, d);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seq_s19_compare_across_wrap),
        cmocka_unit_test(test_seq_s19_half_circle_is_undefined_but_consistent),
        cmocka_unit_test(test_seq_s19_add_wraps),
        cmocka_unit_test(test_seq_s19_in_window_across_wrap),
        cmocka_unit_test(test_seq_s19_random_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
