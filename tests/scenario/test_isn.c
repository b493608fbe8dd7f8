/*
 * test_isn.c -- initial sequence numbers (SPEC R6, S1; RFC 9293 3.4.1; RFC 6528 3):
 * ISN = M + F(local address, local port, remote address, remote port, secret key), M a
 * 4-microsecond clock and F a keyed hash. So ISNs of different 4-tuples are unrelated,
 * depend on the stack's secret (its entropy), and for one 4-tuple advance with time.
 */
#include "tw_test.h"

#include <string.h>

/* connect() from `lport` at the fixture's current time; returns our SYN's sequence
   number and aborts the attempt (in SYN-SENT nothing is sent for that). */
static uint32_t active_isn(tw_t *t, uint16_t lport, uint16_t rport)
{
    tw_socket *s = tw_t_connect(t, PEER, rport, lport);
    tw_t_seg syn = TW_EXPECT(t, OUT(.sport = lport, .dport = rport, .flags = TW_SYN,
                                    .win = 65535, .any = TW_T_ANY_SEQ | TW_T_ANY_OPTS));
    TW_EXPECT_NOTHING(t);
    tw_socket_abort(s, tw_t_now(t));
    TW_EXPECT_NOTHING(t);
    return syn.seq;
}

/* A SYN from the peer's port `pport` at time `at`; returns our SYN+ACK's sequence number.
   The peer then resets the half-open connection (S7), leaving nothing behind. */
static uint32_t passive_isn(tw_t *t, tw_time at, uint16_t pport)
{
    TW_SEND(t, at, IN(.sport = pport, .flags = TW_SYN, .seq = 77));
    tw_t_seg sa = TW_EXPECT(t, OUT(.dport = pport, .flags = TW_SYN | TW_ACK, .ack = 78,
                                   .win = 65535, .opts = TW_OPT_MSS, .mss = 1460,
                                   .any = TW_T_ANY_SEQ));
    TW_SEND(t, at, IN(.sport = pport, .flags = TW_RST, .seq = 78));
    TW_EXPECT_NOTHING(t);
    return sa.seq;
}

/* The ISNs of n 4-tuples look unrelated: all distinct, not a constant step apart, and
   every one of the 32 bits takes both values across the set. */
static void assert_unrelated(const uint32_t *isn, unsigned n)
{
    uint32_t ones = 0, zeros = 0;
    bool same_step = true;
    for (unsigned i = 0; i < n; i++) {
        ones |= isn[i];
        zeros |= ~isn[i];
        for (unsigned j = 0; j < i; j++) {
            assert_true(isn[i] != isn[j]);
        }
        if (i >= 2 && isn[i] - isn[i - 1] != isn[1] - isn[0]) {
            same_step = false;
        }
    }
    assert_false(same_step);
    assert_int_equal(ones, 0xffffffffu);
    assert_int_equal(zeros, 0xffffffffu);
}

/* R6 + S1 (RFC 6528 3): at one instant, the ISNs of 64 active opens from neighbouring
   local ports, and of 64 passive opens from neighbouring peer ports, are unrelated. */
static void test_r06_isn_unrelated_across_tuples(void **state)
{
    tw_t *t = *state;
    uint32_t isn[64];
    for (unsigned i = 0; i < 64; i++) {
        isn[i] = active_isn(t, (uint16_t)(20000 + i), PPORT);
    }
    assert_unrelated(isn, 64);
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    for (unsigned i = 0; i < 64; i++) {
        isn[i] = passive_isn(t, T0, (uint16_t)(PPORT + i));
    }
    assert_unrelated(isn, 64);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_SYNRCVD_RST), 64);
    tw_socket_close(l, T0);
    TW_ASSERT_IDLE(t);
}

/* R6 (RFC 6528 3, the secret key): the same 4-tuple at the same instant gets a different
   ISN from a stack with different entropy, and the same ISN with the same entropy (the
   key, not some hidden randomness, makes the difference). */
static void test_r06_isn_keyed_by_entropy(void **state)
{
    tw_t *t = *state;
    uint32_t base = active_isn(t, LPORT, PPORT);
    uint32_t other[4];
    for (unsigned k = 0; k < 4; k++) {
        tw_config cfg;
        tw_config_init(&cfg);
        memset(cfg.entropy, 0x11 * (int)(k + 1), sizeof cfg.entropy);
        cfg.entropy[31] = (uint8_t)k; /* one byte differs between k = 0 and a copy */
        tw_t *t2 = tw_t_new(&cfg);
        other[k] = active_isn(t2, LPORT, PPORT);
        TW_ASSERT_IDLE(t2);
        tw_t_free(t2);
        assert_true(other[k] != base);
    }
    for (unsigned k = 0; k < 4; k++) {
        for (unsigned j = 0; j < k; j++) {
            assert_true(other[k] != other[j]);
        }
    }
    /* One bit of difference in the entropy is enough. */
    tw_config a, b;
    tw_config_init(&a);
    memset(a.entropy, 0x33, sizeof a.entropy);
    b = a;
    b.entropy[0] ^= 1;
    tw_t *ta = tw_t_new(&a), *ta2 = tw_t_new(&a), *tb = tw_t_new(&b);
    uint32_t ia = active_isn(ta, LPORT, PPORT), ia2 = active_isn(ta2, LPORT, PPORT);
    uint32_t ib = active_isn(tb, LPORT, PPORT);
    tw_t_free(ta);
    tw_t_free(ta2);
    tw_t_free(tb);
    assert_int_equal(ia, ia2);
    assert_true(ia != ib);
    TW_ASSERT_IDLE(t);
}

/* R6 (RFC 6528 3, RFC 9293 3.4.1): for one 4-tuple the ISN advances with the clock,
   one unit per 4 microseconds, so a new incarnation starts ahead of an older one. */
static void test_r06_isn_increases_with_time(void **state)
{
    tw_t *t = *state;
    static const tw_time steps[] = {TW_US(4), TW_MS(1), TW_SEC(1), TW_SEC(60), TW_SEC(3000)};
    uint32_t prev = active_isn(t, LPORT, PPORT);
    for (unsigned k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        tw_t_advance(t, tw_t_now(t) + steps[k]);
        uint32_t isn = active_isn(t, LPORT, PPORT);
        assert_true((int32_t)(isn - prev) > 0);
        assert_int_equal(isn - prev, (uint32_t)(steps[k] / TW_US(4)));
        prev = isn;
    }
    /* Two connects within the same 4 us share M: same ISN (allowed, nothing overlaps). */
    assert_int_equal(active_isn(t, LPORT, PPORT), prev);
    TW_ASSERT_IDLE(t);
}

/* R6 on the passive side: the SYN+ACK's ISN of one 4-tuple advances with time too. */
static void test_r06_passive_isn_increases_with_time(void **state)
{
    tw_t *t = *state;
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    uint32_t y0 = passive_isn(t, T0, PPORT);
    uint32_t y1 = passive_isn(t, T0 + TW_SEC(2), PPORT);
    uint32_t y2 = passive_isn(t, T0 + TW_SEC(2) + TW_MS(7), PPORT);
    assert_int_equal(y1 - y0, 500000u);
    assert_int_equal(y2 - y1, 1750u);
    tw_socket_close(l, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TW_T_CASE(test_r06_isn_unrelated_across_tuples),
        TW_T_CASE(test_r06_isn_keyed_by_entropy),
        TW_T_CASE(test_r06_isn_increases_with_time),
        TW_T_CASE(test_r06_passive_isn_increases_with_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
