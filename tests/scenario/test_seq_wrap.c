/*
 * test_seq_wrap.c -- connections across the 2^32 wrap of sequence numbers (SPEC S19;
 * RFC 9293 3.4: "all arithmetic dealing with sequence numbers must be performed modulo
 * 2**32"). The peer's ISN is put just below the wrap by the test; ours by choosing the
 * moment of the SYN, since RFC 6528's ISN advances with the clock (R6).
 */
#include "tw_test.h"

#include <string.h>

/* S19, the peer's numbers wrap: its ISN is 0xfffffff0, its data runs across zero in and
   out of order, a stale pre-wrap duplicate is recognised as old, and its FIN lies past
   the wrap. */
static void test_s19_peer_sequence_wraps(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, 0xfffffff0u, &y);
    uint32_t u = y + 1, v = 0xfffffff1u;
    char a[32], b[64];
    for (int i = 0; i < 32; i++) {
        a[i] = (char)('A' + i % 26);
    }
    /* Out of order: the part after the wrap first. */
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = v + 15, .ack = u, .data = a + 15, .len = 17));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = 0xfffffff1u, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_rx_pending(c), 0);
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = v, .ack = u, .data = a, .len = 15));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = 0x00000011u, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), 32);
    assert_memory_equal(b, a, 32);
    v += 32;
    assert_int_equal(v, 0x11u);
    /* A duplicate of the pre-wrap bytes is old, not 4 GB ahead. */
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = 0xfffffff1u, .ack = u, .data = a, .len = 10));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_DUP_DATA), 1);
    assert_int_equal(tw_socket_rx_pending(c), 0);
    /* Our reply, acknowledged with a post-wrap ACK of the peer. */
    assert_int_equal(tw_socket_send(c, "pong", 4, tw_t_now(t)), 4);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = u, .ack = v, .win = 65535, .len = 4));
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = v, .ack = u + 4));
    TW_EXPECT_NOTHING(t);
    u += 4;
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_FIN | TW_ACK, .seq = v, .ack = u));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_CLOSE_WAIT);
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), 0);
    tw_socket_close(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v + 1, .win = 65535));
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = v + 1, .ack = u + 1));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S19 at the edge: the peer's ISN is 0xffffffff, so its SYN+ACK is acknowledged with 0
   and its first byte is sequence number 0. */
static void test_s19_peer_isn_ffffffff(void **state)
{
    tw_t *t = *state;
    uint32_t x;
    tw_socket *s = TW_ACTIVE_OPEN(t, 0xffffffffu, &x);
    tw_socket_info i;
    tw_socket_info_get(s, &i);
    assert_int_equal(i.irs, 0xffffffffu);
    assert_int_equal(i.rcv_nxt, 0);
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK | TW_PSH, .seq = 0, .ack = x + 1, .data = "zero", .len = 4));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = x + 1, .ack = 4, .win = 65535));
    TW_EXPECT_NOTHING(t);
    char b[8];
    assert_int_equal(tw_socket_recv(s, b, sizeof b, tw_t_now(t)), 4);
    tw_socket_abort(s, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = x + 1, .ack = 4, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* Our SYN+ACK's ISN for the fixture's 4-tuple if the SYN arrives at `at` (the half-open
   connection is then reset by the peer). */
static uint32_t probe_isn(tw_t *t, tw_time at)
{
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    TW_SEND(t, at, IN(.flags = TW_SYN, .seq = 5));
    tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = 6, .win = 65535,
                                   .opts = TW_OPT_MSS, .mss = 1460, .any = TW_T_ANY_SEQ));
    TW_SEND(t, at, IN(.flags = TW_RST, .seq = 6));
    TW_EXPECT_NOTHING(t);
    tw_socket_close(l, at);
    return sa.seq;
}

/* S19, our numbers wrap: the SYN is timed so that our ISN lies 0x100 below the wrap.
   Data segments, a retransmission after a timeout, the ACKs that cover them and our FIN
   all cross or follow the wrap. The peer sent no MSS: segments are 536 bytes. */
static void test_s19_our_sequence_wraps(void **state)
{
    tw_t *t = *state;
    uint32_t y0 = probe_isn(t, T0);
    uint32_t y1 = probe_isn(t, T0 + TW_SEC(1));
    uint32_t per_sec = y1 - y0;
    assert_true(per_sec > 0);
    uint32_t want = 0xffffff00u;
    tw_time at = T0 + TW_SEC(1) + (tw_time)(want - y1) * TW_SEC(1) / per_sec;
    tw_t_advance(t, at);
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, 1000, &y);
    assert_true(0u - y <= 0x1000u && 0u - y >= 0x100u); /* 256 bytes to 4 KB below the wrap */
    uint32_t u = y + 1, v = 1001;

    char d[1000];
    for (size_t i = 0; i < sizeof d; i++) {
        d[i] = (char)i;
    }
    tw_time t1 = tw_t_now(t);
    assert_int_equal(tw_socket_send(c, d, 1000, t1), 1000);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v, .win = 65535, .len = 536));
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = u + 536, .ack = v, .win = 65535,
                     .len = 464));
    TW_EXPECT_NOTHING(t);
    /* Only the first segment arrives; the second is retransmitted after the RTO. */
    TW_SEND(t, t1 + TW_MS(100), IN(.flags = TW_ACK, .seq = v, .ack = u + 536));
    TW_EXPECT_NOTHING(t);
    tw_socket_info i;
    tw_socket_info_get(c, &i);
    assert_int_equal(i.snd_una, u + 536);
    assert_int_equal(i.bytes_in_flight, 464);
    TW_RUN_TO(t, t1 + TW_MS(100) + TW_MS(300)); /* RTO 100 + max(150, 200) ms */
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = u + 536, .ack = v, .win = 65535,
                     .len = 464));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = v, .ack = u + 1000));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_NO_DEADLINE(t);
    assert_int_equal(tw_socket_tx_pending(c), 0);
    u += 1000;
    assert_true(u < 0x1000u); /* past the wrap */

    tw_socket_close(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    tw_time fin = tw_t_now(t) + TW_MS(100);
    TW_SEND(t, fin, IN(.flags = TW_FIN | TW_ACK, .seq = v, .ack = u + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = v + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_RUN_TO(t, fin + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TW_T_CASE(test_s19_peer_sequence_wraps),
        TW_T_CASE(test_s19_peer_isn_ffffffff),
        TW_T_CASE(test_s19_our_sequence_wraps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
