/*
 * test_orphan.c -- connections the application closed and forgot (SPEC R7; RFC 9293
 * 3.10.4 CLOSE, 3.8.3; RFC 1122 4.2.2.13; Linux tcp_fin_timeout and tcp_orphan_retries).
 *
 * After close() the stack finishes the close alone. An orphan waiting in FIN-WAIT-2 for a
 * FIN that never comes is reclaimed after fin_timeout (60 s); one whose FIN is never
 * acknowledged (FIN-WAIT-1, LAST-ACK) after orphan_retries (8) retransmissions. Nothing is
 * sent when they go (Linux does the same), and nothing is left.
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 1000u

/* R7: close() in ESTABLISHED, the peer ACKs our FIN at *at and then falls silent. */
static void orphan_in_fin_wait_2(tw_t *t, uint32_t *u, uint32_t *v, tw_time *at)
{
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    *u = y + 1;
    *v = PEER_ISS + 1;
    tw_socket_close(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = *u, .ack = *v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    *at = tw_t_now(t) + TW_MS(100);
    TW_SEND(t, *at, IN(.flags = TW_ACK, .seq = *v, .ack = *u + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
}

/* R7 (Linux tcp_fin_timeout): an orphan in FIN-WAIT-2 is reclaimed exactly fin_timeout
   after it got there; nothing is sent; a late FIN then finds no connection. */
static void test_r07_fin_wait_2_orphan_reaped(void **state)
{
    tw_t *t = *state;
    uint32_t u, v;
    tw_time at;
    orphan_in_fin_wait_2(t, &u, &v, &at);
    TW_RUN_TO(t, at + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_ORPHAN_REAPED), 1);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 0);
    TW_ASSERT_IDLE(t);
    TW_SEND(t, tw_t_now(t) + TW_SEC(1), IN(.flags = TW_FIN | TW_ACK, .seq = v, .ack = u + 1));
    TW_EXPECT(t, OUT(.flags = TW_RST, .seq = u + 1, .ack = 0, .win = 0));
    TW_EXPECT_NOTHING(t);
}

/* R7 with fin_timeout configured to 5 s. */
static void test_r07_fin_timeout_configurable(void **state)
{
    tw_t_free(*state);
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.fin_timeout = TW_SEC(5);
    tw_t *t = *state = tw_t_new(&cfg);
    uint32_t u, v;
    tw_time at;
    orphan_in_fin_wait_2(t, &u, &v, &at);
    TW_RUN_TO(t, at + TW_SEC(5));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_ORPHAN_REAPED), 1);
    TW_ASSERT_IDLE(t);
}

/* R7 + S14: the peer's FIN before fin_timeout completes the close normally (ACK, then a
   TIME-WAIT record of its own 2*MSL); the orphan timer is gone. */
static void test_r07_orphan_completes_before_timeout(void **state)
{
    tw_t *t = *state;
    uint32_t u, v;
    tw_time at;
    orphan_in_fin_wait_2(t, &u, &v, &at);
    tw_time fin = at + TW_SEC(59);
    TW_SEND(t, fin, IN(.flags = TW_FIN | TW_ACK, .seq = v, .ack = u + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = v + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    TW_RUN_TO(t, fin + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_ORPHAN_REAPED), 0);
    TW_ASSERT_IDLE(t);
}

/* R7 applies to orphans only: after shutdown() the application still owns the
   connection and FIN-WAIT-2 has no timer however long the peer waits; once it calls
   close() the fin_timeout starts. */
static void test_r07_held_fin_wait_2_not_reaped(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    assert_int_equal(tw_socket_shutdown(c, TW_SHUT_WR, tw_t_now(t)), 0);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = v, .ack = u + 1));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_NO_DEADLINE(t);
    tw_t_advance(t, tw_t_now(t) + TW_SEC(3600));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_FIN_WAIT_2);
    tw_time closed = tw_t_now(t);
    tw_socket_close(c, closed);
    TW_EXPECT_NOTHING(t);
    TW_RUN_TO(t, closed + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_ORPHAN_REAPED), 1);
    TW_ASSERT_IDLE(t);
}

/* Our FIN from an orphan is retransmitted with back-off (RTO 300 ms after the handshake)
   orphan_retries times; one RTO after the last copy the orphan is reclaimed. */
static void expect_orphan_fin_until_reaped(tw_t *t, tw_time sent, unsigned retries,
                                           uint32_t seq, uint32_t ack)
{
    tw_time at = sent, rto = TW_T_RTO;
    for (unsigned i = 1; i <= retries; i++) {
        at += rto;
        TW_RUN_TO(t, at);
        TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = seq, .ack = ack, .win = 65535));
        TW_EXPECT_NOTHING(t);
        assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
        rto *= 2;
    }
    at += rto;
    TW_RUN_TO(t, at);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TX_RETRANS), retries);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CONN_TIMEDOUT), 1);
    TW_ASSERT_IDLE(t);
}

/* R7 (Linux tcp_orphan_retries): a LAST-ACK orphan whose FIN is never acknowledged goes
   after 8 retransmissions, 0.3 * (2^9 - 1) = 153.3 s after the FIN; a late ACK then
   finds no connection. */
static void test_r07_last_ack_orphan_reaped_after_retries(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = PEER_ISS + 1, w = y + 1;
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_FIN | TW_ACK, .seq = u, .ack = w));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = w, .ack = u + 1, .win = 65535));
    tw_time sent = tw_t_now(t) + TW_MS(10);
    tw_t_advance(t, sent);
    tw_socket_close(c, sent);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    expect_orphan_fin_until_reaped(t, sent, 8, w, u + 1);
    assert_int_equal(tw_t_now(t), sent + TW_MS(153300));
    TW_SEND(t, tw_t_now(t) + TW_SEC(1), IN(.flags = TW_ACK, .seq = u + 1, .ack = w + 1));
    TW_EXPECT(t, OUT(.flags = TW_RST, .seq = w + 1, .ack = 0, .win = 0));
    TW_EXPECT_NOTHING(t);
}

/* R7: a FIN-WAIT-1 orphan (the peer never acknowledges our FIN) goes the same way. */
static void test_r07_fin_wait_1_orphan_reaped_after_retries(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    tw_time sent = tw_t_now(t);
    tw_socket_close(c, sent);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = y + 1, .ack = PEER_ISS + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    expect_orphan_fin_until_reaped(t, sent, 8, y + 1, PEER_ISS + 1);
}

/* R7 with orphan_retries configured to 2 (a held socket would use `retries`, 15). */
static void test_r07_orphan_retries_configurable(void **state)
{
    tw_t_free(*state);
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.orphan_retries = 2;
    tw_t *t = *state = tw_t_new(&cfg);
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    tw_time sent = tw_t_now(t);
    tw_socket_close(c, sent);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = y + 1, .ack = PEER_ISS + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    expect_orphan_fin_until_reaped(t, sent, 2, y + 1, PEER_ISS + 1);
}

/* R7 + R4 (RFC 1122 4.2.2.13: data arriving after CLOSE SHOULD get a RST): nobody will
   read new data for an orphan, so it resets the connection and goes at once. The RST is
   Linux's reply to the segment (tcp_v4_send_reset): <SEQ=SEG.ACK><CTL=RST>, no ACK. */
static void test_r07_orphan_receiving_data_resets(void **state)
{
    tw_t *t = *state;
    uint32_t u, v;
    tw_time at;
    orphan_in_fin_wait_2(t, &u, &v, &at);
    TW_SEND(t, at + TW_SEC(1), IN(.flags = TW_ACK | TW_PSH, .seq = v, .ack = u + 1, .len = 10));
    TW_EXPECT(t, OUT(.flags = TW_RST, .seq = u + 1, .ack = 0, .win = 0));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_DATA_AFTER_CLOSE), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CONN_ABORTED), 1);
    TW_ASSERT_IDLE(t);
}

/* R7 bound on their number (max_orphans; Linux tcp_max_orphans): a close() that would
   exceed it aborts with RST instead of leaving one more orphan behind. */
static void test_r07_max_orphans_resets_beyond_limit(void **state)
{
    tw_t_free(*state);
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.max_orphans = 1;
    tw_t *t = *state = tw_t_new(&cfg);
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    tw_socket *c[2];
    uint32_t y[2];
    for (int i = 0; i < 2; i++) {
        uint16_t pp = (uint16_t)(PPORT + i);
        TW_SEND(t, T0, IN(.sport = pp, .flags = TW_SYN, .seq = PEER_ISS));
        tw_t_seg sa = TW_EXPECT(t, OUT(.dport = pp, .flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1,
                                       .win = 65535, .opts = TW_OPT_MSS, .mss = 1460,
                                       .any = TW_T_ANY_SEQ));
        y[i] = sa.seq;
        TW_SEND(t, T0 + TW_MS(100), IN(.sport = pp, .flags = TW_ACK, .seq = PEER_ISS + 1,
                                       .ack = y[i] + 1));
        TW_EXPECT_NOTHING(t);
        assert_int_equal(tw_socket_accept(l, &c[i], tw_t_now(t)), 0);
    }
    tw_socket_close(l, tw_t_now(t));
    tw_socket_close(c[0], tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = y[0] + 1, .ack = PEER_ISS + 1,
                     .win = 65535));
    tw_socket_close(c[1], tw_t_now(t));
    TW_EXPECT(t, OUT(.dport = PPORT + 1, .flags = TW_RST | TW_ACK, .seq = y[1] + 1,
                     .ack = PEER_ISS + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_LIMIT_ORPHANS), 1);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_FIN | TW_ACK, .seq = PEER_ISS + 1,
                                           .ack = y[0] + 2));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y[0] + 2, .ack = PEER_ISS + 2, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_RUN_TO(t, tw_t_now(t) + TW_SEC(60));
    TW_ASSERT_IDLE(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TW_T_CASE(test_r07_fin_wait_2_orphan_reaped),
        TW_T_CASE(test_r07_fin_timeout_configurable),
        TW_T_CASE(test_r07_orphan_completes_before_timeout),
        TW_T_CASE(test_r07_held_fin_wait_2_not_reaped),
        TW_T_CASE(test_r07_last_ack_orphan_reaped_after_retries),
        TW_T_CASE(test_r07_fin_wait_1_orphan_reaped_after_retries),
        TW_T_CASE(test_r07_orphan_retries_configurable),
        TW_T_CASE(test_r07_orphan_receiving_data_resets),
        TW_T_CASE(test_r07_max_orphans_resets_beyond_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
