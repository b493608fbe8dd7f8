/*
 * test_wheel.c -- the hierarchical timing wheel (wheel.h): arm, cancel and re-arm at
 * every level, far-future timers, huge jumps of time, the next() contract, and a long
 * randomized run against a brute-force list of deadlines.
 *
 * The stack sleeps until tw_wheel_next(); if next() were ever later than the earliest
 * timer, a retransmission or the end of TIME-WAIT (S15) would fire late, so that bound is
 * checked after every operation.
 */
#include "core/wheel.h"
#include "core/stack.h"
#include "unit.h"

#include <string.h>

/* Pop everything due; returns how many, checks each was due. */
static size_t pop_all(tw_wheel *w, tw_timer **out, size_t cap)
{
    size_t n = 0;
    tw_timer *t;
    while ((t = tw_wheel_pop(w)) != NULL) {
        assert_false(tw_timer_armed(t));
        assert_true(t->expires <= w->now);
        if (n < cap) {
            out[n] = t;
        }
        n++;
    }
    return n;
}

static void test_wheel_level0_arm_advance_pop(void **state)
{
    (void)state;
    tw_wheel w;
    tw_wheel_init(&w, 1000);
    tw_timer t = {0};
    assert_int_equal(tw_wheel_next(&w), UINT64_MAX);
    tw_wheel_arm(&w, &t, 1005);
    assert_true(tw_timer_armed(&t));
    assert_int_equal(tw_wheel_count(&w), 1);
    assert_int_equal(tw_wheel_next(&w), 1005);
    tw_wheel_advance(&w, 1004);
    assert_null(tw_wheel_pop(&w));
    assert_int_equal(tw_wheel_next(&w), 1005);
    tw_wheel_advance(&w, 1005);
    assert_int_equal(tw_wheel_next(&w), 1005); /* due: next is now */
    assert_ptr_equal(tw_wheel_pop(&w), &t);
    assert_false(tw_timer_armed(&t));
    assert_null(tw_wheel_pop(&w));
    assert_int_equal(tw_wheel_count(&w), 0);
    assert_int_equal(tw_wheel_next(&w), UINT64_MAX);
}

/* A deadline at or before now is due at once (a zero RTO after a clock jump, say). */
static void test_wheel_past_deadline_due_at_once(void **state)
{
    (void)state;
    tw_wheel w;
    tw_wheel_init(&w, 500);
    tw_timer a = {0}, b = {0};
    tw_wheel_arm(&w, &a, 500);
    tw_wheel_arm(&w, &b, 3);
    assert_int_equal(tw_wheel_count(&w), 2);
    assert_int_equal(tw_wheel_next(&w), 500);
    tw_timer *out[2];
    assert_int_equal(pop_all(&w, out, 2), 2);
    assert_int_equal(tw_wheel_count(&w), 0);
}

/* The layout example drawn in wheel.h: e and n differ first in group 1, so the timer sits
   at level 1 in the slot named by e's group 1; next() reports that slot's start. */
static void test_wheel_layout_example(void **state)
{
    (void)state;
    uint64_t n = (7ull << 12) | (5ull << 6) | 60, e = (7ull << 12) | (12ull << 6) | 33;
    tw_wheel w;
    tw_wheel_init(&w, n);
    tw_timer t = {0};
    tw_wheel_arm(&w, &t, e);
    assert_int_equal(w.pending[0], 0);
    assert_int_equal(w.pending[1], 1ull << 12);
    assert_ptr_equal(w.slot[1][12], &t);
    assert_int_equal(tw_wheel_next(&w), (7ull << 12) | (12ull << 6));
    /* moving to the slot's start cascades it to level 0, where next() is exact */
    tw_wheel_advance(&w, tw_wheel_next(&w));
    assert_null(tw_wheel_pop(&w));
    assert_int_equal(w.pending[1], 0);
    assert_int_equal(w.pending[0], 1ull << 33);
    assert_int_equal(tw_wheel_next(&w), e);
    tw_wheel_advance(&w, e);
    assert_ptr_equal(tw_wheel_pop(&w), &t);
}

static void test_wheel_cancel_and_rearm(void **state)
{
    (void)state;
    tw_wheel w;
    tw_wheel_init(&w, 0);
    tw_timer a = {0}, b = {0}, c = {0};
    tw_wheel_cancel(&w, &a); /* not armed: nothing happens */
    assert_int_equal(tw_wheel_count(&w), 0);
    tw_wheel_arm(&w, &a, 10);
    tw_wheel_arm(&w, &b, 10); /* same slot */
    tw_wheel_arm(&w, &c, 5000);
    tw_wheel_cancel(&w, &a);
    assert_false(tw_timer_armed(&a));
    assert_int_equal(tw_wheel_count(&w), 2);
    assert_int_equal(w.pending[0], 1ull << 10); /* b still there */
    tw_wheel_cancel(&w, &b);
    assert_int_equal(w.pending[0], 0); /* last one out clears the bit */
    /* 5000 = 1 << 12 | 14 << 6 | 8 differs from 0 first in group 2: level 2, slot 1,
       and next() is that slot's start */
    assert_int_equal(w.pending[2], 1ull << 1);
    assert_int_equal(tw_wheel_next(&w), 4096);
    /* re-arm earlier, from level 2 down to level 0: moves, does not duplicate */
    tw_wheel_arm(&w, &c, 20);
    assert_int_equal(tw_wheel_count(&w), 1);
    assert_int_equal(w.pending[1], 0);
    assert_int_equal(w.pending[2], 0);
    assert_int_equal(tw_wheel_next(&w), 20);
    tw_wheel_advance(&w, 10000);
    tw_timer *out[3];
    assert_int_equal(pop_all(&w, out, 3), 1);
    assert_ptr_equal(out[0], &c);
    /* cancel of a due-but-unpopped timer takes it off the expired list */
    tw_wheel_arm(&w, &a, 10001);
    tw_wheel_advance(&w, 10001);
    tw_wheel_cancel(&w, &a);
    assert_int_equal(tw_wheel_count(&w), 0);
    assert_null(tw_wheel_pop(&w));
    assert_int_equal(tw_wheel_next(&w), UINT64_MAX);
    /* time never runs backwards */
    tw_wheel_advance(&w, 5);
    assert_int_equal(w.now, 10001);
}

/* One timer per level boundary, then one jump over all of them. */
static void test_wheel_huge_gap_fires_everything_due(void **state)
{
    (void)state;
    /* clang-format off */
    static const uint64_t at[] = {
        1,          63,         64,         65,         4095,          4096,
        262143,     262144,     1ull << 30, 1ull << 36, (1ull << 40) + 7, 1ull << 54,
        1ull << 59, 1ull << 60, 1ull << 62, (1ull << 63) + 12345,
        UINT64_MAX - 1, UINT64_MAX,
    };
    /* clang-format on */
    enum { N = sizeof(at) / sizeof(at[0]) };
    uint64_t jumps[] = {64, 1ull << 36, (1ull << 62) - 1, UINT64_MAX - 2, UINT64_MAX};
    tw_wheel w;
    tw_wheel_init(&w, 0);
    tw_timer t[N];
    memset(t, 0, sizeof(t));
    for (size_t i = 0; i < N; i++) {
        tw_wheel_arm(&w, &t[i], at[i]);
    }
    assert_int_equal(tw_wheel_count(&w), N);
    size_t fired = 0;
    for (size_t j = 0; j < sizeof(jumps) / sizeof(jumps[0]); j++) {
        tw_wheel_advance(&w, jumps[j]);
        size_t want = 0;
        for (size_t i = 0; i < N; i++) {
            want += at[i] <= jumps[j];
        }
        tw_timer *out[N];
        size_t got = pop_all(&w, out, N);
        fired += got;
        UNIT_EQ(fired, want, "after the jump to 0x%llx", (unsigned long long)jumps[j]);
        UNIT_EQ(tw_wheel_count(&w), N - want, "after the jump to 0x%llx", (unsigned long long)jumps[j]);
        if (want < N) {
            size_t first = want; /* at[] is sorted: the earliest still armed */
            UNIT_EQ(tw_wheel_next(&w) <= at[first], 1, "next after the jump to 0x%llx",
                    (unsigned long long)jumps[j]);
        }
    }
    assert_int_equal(fired, N);
    assert_int_equal(tw_wheel_next(&w), UINT64_MAX);
}

/* The stack's loop: sleep until next(), advance there, pop. Every timer must fire at
   exactly its own tick, never early and never late, however far away it was armed. */
static void test_wheel_driven_by_next_fires_on_time(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    enum { N = 3000 };
    static tw_timer t[N];
    memset(t, 0, sizeof(t));
    tw_wheel w;
    uint64_t start = unit_next(&r) >> 4;
    tw_wheel_init(&w, start);
    for (size_t i = 0; i < N; i++) {
        unsigned bits = (unsigned)unit_below(&r, 50);
        tw_wheel_arm(&w, &t[i], start + 1 + (unit_next(&r) >> (63 - bits)));
    }
    size_t fired = 0;
    for (int step = 0; step < 1000000 && tw_wheel_count(&w); step++) {
        uint64_t next = tw_wheel_next(&w);
        UNIT_EQ(next >= w.now, 1, "step %d", step);
        tw_wheel_advance(&w, next);
        tw_timer *p;
        while ((p = tw_wheel_pop(&w)) != NULL) {
            UNIT_EQ(p->expires, w.now, "timer %td fired at the wrong tick", p - t);
            fired++;
        }
    }
    assert_int_equal(fired, N);
}

/* Brute-force reference: an array of (armed, expires). */
typedef struct ref {
    bool armed;
    uint64_t expires;
} ref;

static uint64_t random_delta(unit_rng *r)
{
    switch (unit_below(r, 6)) {
    case 0:
        return unit_below(r, 64); /* level 0 */
    case 1:
        return unit_below(r, 4096);
    case 2:
        return unit_below(r, 1u << 24);
    case 3:
        return unit_below(r, 1ull << 40);
    case 4:
        return unit_next(r) >> unit_below(r, 64); /* anything, far future included */
    default:
        return 1 + unit_below(r, 300);
    }
}

static void test_wheel_random_against_brute_force(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    enum { N = 400 };
    static tw_timer t[N];
    static ref model[N];
    memset(t, 0, sizeof(t));
    memset(model, 0, sizeof(model));
    tw_wheel w;
    tw_wheel_init(&w, unit_below(&r, 1ull << 40));
    size_t fired = 0, exact = 0;
    for (int step = 0; step < 200000; step++) {
        size_t i = (size_t)unit_below(&r, N);
        switch (unit_below(&r, 8)) {
        case 0:
        case 1:
        case 2: { /* arm or re-arm; sometimes in the past */
            uint64_t d = random_delta(&r);
            uint64_t e = unit_below(&r, 20) == 0
                             ? w.now - (d < w.now ? d : w.now)
                             : (d > UINT64_MAX - w.now ? UINT64_MAX : w.now + d);
            tw_wheel_arm(&w, &t[i], e);
            model[i].armed = true;
            model[i].expires = e;
            break;
        }
        case 3:
            tw_wheel_cancel(&w, &t[i]);
            model[i].armed = false;
            break;
        default: { /* advance: mostly to next() or a bit past it, sometimes by a lot */
            uint64_t to;
            uint64_t next = tw_wheel_next(&w);
            switch (unit_below(&r, 4)) {
            case 0:
                to = next;
                break;
            case 1: /* up to 2^40 ticks (35 years of milliseconds) at once */
                to = w.now + unit_below(&r, 1ull << unit_below(&r, 41));
                break;
            default:
                to = w.now + 1 + unit_below(&r, 64);
                break;
            }
            if (to < w.now || (next != UINT64_MAX && to > next && unit_below(&r, 2))) {
                to = next; /* keep most runs in the part of time where timers are */
            }
            if (to == UINT64_MAX) {
                to = w.now + unit_below(&r, 1000); /* don't end time early */
            }
            tw_wheel_advance(&w, to);
            tw_timer *p;
            while ((p = tw_wheel_pop(&w)) != NULL) {
                size_t k = (size_t)(p - t);
                UNIT_EQ(model[k].armed, 1, "step %d: timer %zu popped but not armed", step, k);
                UNIT_EQ(model[k].expires <= w.now, 1, "step %d: timer %zu popped early", step, k);
                model[k].armed = false;
                fired++;
            }
            break;
        }
        }
        /* after every operation: the contract of count, next() and pending timers */
        size_t armed = 0;
        uint64_t min = UINT64_MAX;
        for (size_t k = 0; k < N; k++) {
            if (model[k].armed) {
                armed++;
                UNIT_EQ(tw_timer_armed(&t[k]), 1, "step %d timer %zu", step, k);
                min = model[k].expires < min ? model[k].expires : min;
            } else {
                UNIT_EQ(tw_timer_armed(&t[k]), 0, "step %d timer %zu", step, k);
            }
        }
        UNIT_EQ(tw_wheel_count(&w), armed, "step %d", step);
        uint64_t next = tw_wheel_next(&w);
        if (armed == 0) {
            UNIT_EQ(next, UINT64_MAX, "step %d", step);
            continue;
        }
        if (min <= w.now) {
            UNIT_EQ(next, w.now, "step %d: a timer is due", step); /* only after arm */
            continue;
        }
        UNIT_EQ(next <= min, 1, "step %d: next 0x%llx later than the earliest 0x%llx", step,
                (unsigned long long)next, (unsigned long long)min);
        UNIT_EQ(next > w.now, 1, "step %d: next 0x%llx not after now 0x%llx", step,
                (unsigned long long)next, (unsigned long long)w.now);
        if ((min ^ w.now) < TW_WHEEL_SLOTS) {
            UNIT_EQ(next, min, "step %d: earliest timer is at level 0", step);
            exact++;
        }
    }
    print_message("%zu timers fired, next() exact at level 0 %zu times\n", fired, exact);
    assert_true(fired > 1000);
    assert_true(exact > 1000);
}

/* tw_wheel_arm_lazy_at cannot be told from tw_wheel_arm: two wheels take the same random
   operations, one arming eagerly only, the other lazily half of the time (by a time: a
   third of those anywhere in the tick before the deadline's, which rounds up to it, the
   others on its edge); after every
   operation both report the same next() and count, and they pop the same timers in the
   same order (the stack's firing order). */
static void test_wheel_lazy_arm_same_as_arm(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    enum { N = 64 };
    static tw_timer a[N], b[N];
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    tw_wheel wa, wb;
    uint64_t start = unit_below(&r, 1ull << 30);
    tw_wheel_init(&wa, start);
    tw_wheel_init(&wb, start);
    size_t lazy = 0, lazy_at = 0, pops = 0;
    for (int step = 0; step < 200000; step++) {
        size_t i = (size_t)unit_below(&r, N);
        switch (unit_below(&r, 6)) {
        case 0:
        case 1:
        case 2: {
            uint64_t e = unit_below(&r, 20) == 0 ? wa.now - unit_below(&r, 3)
                                                 : wa.now + random_delta(&r) % 5000;
            tw_wheel_arm(&wa, &a[i], e);
            if (unit_below(&r, 2)) {
                /* (the lazy arms take a time: one on the tick's edge, or within it) */
                tw_time at = e * TW_TICK;
                if (e > 0 && unit_below(&r, 3) == 0) {
                    at -= unit_below(&r, TW_TICK);
                    lazy_at++;
                }
                assert_true(tw_time_to_tick(at) == e);
                tw_wheel_arm_lazy_at(&wb, &b[i], at);
                lazy++;
            } else {
                tw_wheel_arm(&wb, &b[i], e);
            }
            break;
        }
        case 3:
            tw_wheel_cancel(&wa, &a[i]);
            tw_wheel_cancel(&wb, &b[i]);
            break;
        default: {
            uint64_t next = tw_wheel_next(&wa);
            uint64_t to = next != UINT64_MAX && unit_below(&r, 2) ? next
                                                                  : wa.now + unit_below(&r, 70);
            tw_wheel_advance(&wa, to);
            tw_wheel_advance(&wb, to);
            tw_timer *pa, *pb;
            do {
                pa = tw_wheel_pop(&wa);
                pb = tw_wheel_pop(&wb);
                UNIT_EQ(pa ? (long)(pa - a) : -1L, pb ? (long)(pb - b) : -1L,
                        "step %d: pop order", step);
                pops += pa != NULL;
            } while (pa);
            break;
        }
        }
        UNIT_EQ(tw_wheel_next(&wa), tw_wheel_next(&wb), "step %d: next()", step);
        UNIT_EQ(tw_wheel_count(&wa), tw_wheel_count(&wb), "step %d: count", step);
        for (size_t k = 0; k < N; k++) {
            UNIT_EQ(tw_timer_armed(&a[k]), tw_timer_armed(&b[k]), "step %d: timer %zu armed",
                    step, k);
        }
    }
    assert_true(lazy > 10000 && lazy_at > 3000 && pops > 10000);
}

/* The deadline-to-tick conversion rounds up (a timer never fires before its deadline),
   NEVER stays NEVER, and times within a tick of NEVER, where its add would wrap, too. */
static uint64_t ref_ticks(tw_time t)
{
    return t == TW_TIME_NEVER ? UINT64_MAX : t / TW_TICK + (t % TW_TICK != 0);
}

static void test_time_to_tick_rounds_up(void **state)
{
    (void)state;
    const tw_time edges[] = {0, 1, TW_TICK - 1, TW_TICK, TW_TICK + 1, 5 * TW_TICK,
                             5 * TW_TICK + 1, TW_TIME_NEVER - 2 * TW_TICK,
                             TW_TIME_NEVER - TW_TICK, TW_TIME_NEVER - TW_TICK + 1,
                             TW_TIME_NEVER - (TW_TIME_NEVER % TW_TICK),
                             TW_TIME_NEVER - (TW_TIME_NEVER % TW_TICK) + 1,
                             TW_TIME_NEVER - (TW_TIME_NEVER % TW_TICK) - 1,
                             TW_TIME_NEVER - 1, TW_TIME_NEVER};
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        UNIT_EQ(tw_time_to_tick(edges[i]), ref_ticks(edges[i]), "edge %zu", i);
    }
    unit_rng r = unit_rng_seeded(__func__);
    for (int i = 0; i < 100000; i++) {
        tw_time t = unit_next(&r) >> (unit_next(&r) % 64);
        UNIT_EQ(tw_time_to_tick(t), ref_ticks(t), "iteration %d", i);
        UNIT_EQ(tw_time_to_tick(TW_TIME_NEVER - (t % (3 * TW_TICK))),
                ref_ticks(TW_TIME_NEVER - (t % (3 * TW_TICK))), "near NEVER %d", i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wheel_level0_arm_advance_pop),
        cmocka_unit_test(test_wheel_past_deadline_due_at_once),
        cmocka_unit_test(test_wheel_layout_example),
        cmocka_unit_test(test_wheel_cancel_and_rearm),
        cmocka_unit_test(test_wheel_huge_gap_fires_everything_due),
        cmocka_unit_test(test_wheel_driven_by_next_fires_on_time),
        cmocka_unit_test(test_wheel_random_against_brute_force),
        cmocka_unit_test(test_wheel_lazy_arm_same_as_arm),
        cmocka_unit_test(test_time_to_tick_rounds_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
