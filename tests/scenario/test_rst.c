/*
 * test_rst.c -- resets: RST generation for segments that find no connection, RST
 * validation with RFC 5961 challenge ACKs and their rate limit, SYN on a synchronized
 * connection, and abort (SPEC R3, R4; RFC 9293 3.5.2, 3.5.3, 3.10.7; RFC 5961 3, 4, 7).
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 1000u

/* R3 (RFC 9293 3.10.7.1, CLOSED): a segment for no connection gets a RST: with ACK set,
   <SEQ=SEG.ACK><CTL=RST>; without, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, where
   SEG.LEN counts the data and the SYN/FIN. */
static void test_r03_no_connection_gets_rst(void **state)
{
    tw_t *t = *state;
    TW_SEND(t, T0, IN(.dport = 9999, .flags = TW_SYN, .seq = 5000));
    TW_EXPECT(t, OUT(.sport = 9999, .flags = TW_RST | TW_ACK, .seq = 0, .ack = 5001, .win = 0));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, T0 + TW_MS(1), IN(.dport = 9999, .flags = TW_ACK, .seq = 5001, .ack = 777));
    TW_EXPECT(t, OUT(.sport = 9999, .flags = TW_RST, .seq = 777, .ack = 0, .win = 0));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, T0 + TW_MS(2), IN(.dport = 9999, .flags = TW_ACK | TW_PSH, .seq = 5001,
                                 .ack = 0x80000000u, .len = 100));
    TW_EXPECT(t, OUT(.sport = 9999, .flags = TW_RST, .seq = 0x80000000u, .ack = 0, .win = 0));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, T0 + TW_MS(3), IN(.dport = 9999, .flags = TW_FIN, .seq = 100, .len = 10));
    TW_EXPECT(t, OUT(.sport = 9999, .flags = TW_RST | TW_ACK, .seq = 0, .ack = 111, .win = 0));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_NO_SOCKET), 4);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TX_RST), 4);
    TW_ASSERT_IDLE(t);
}

/* R3 (RFC 9293 3.10.7.1, 3.10.7.2): never a RST for a RST, whether the port is closed or
   has a listener. */
static void test_r03_never_rst_for_rst(void **state)
{
    tw_t *t = *state;
    TW_SEND(t, T0, IN(.dport = 9999, .flags = TW_RST, .seq = 5000));
    TW_SEND(t, T0, IN(.dport = 9999, .flags = TW_RST | TW_ACK, .seq = 5000, .ack = 9));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_RST_NO_SOCKET), 2);
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    TW_SEND(t, T0, IN(.flags = TW_RST, .seq = 5000));
    TW_SEND(t, T0, IN(.flags = TW_RST | TW_ACK, .seq = 5000, .ack = 9));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_LISTEN_RST), 2);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TX_RST), 0);
    assert_int_equal(tw_socket_state(l), TW_STATE_LISTEN);
    tw_socket_close(l, T0);
    TW_ASSERT_IDLE(t);
}

/* R3 + R4 (RFC 9293 3.10.7.4 second check; RFC 5961 3.2): a RST whose sequence number is
   exactly RCV.NXT resets the connection: CLOSED, the outstanding data's timer is gone,
   and the application sees "connection reset" on recv and send. Nothing is sent. */
static void test_r03_exact_rst_resets(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    assert_int_equal(tw_socket_send(c, "unacked", 7, tw_t_now(t)), 7);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = y + 1, .ack = PEER_ISS + 1, .win = 65535,
                     .len = 7));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_DEADLINE(t, tw_t_now(t) + TW_T_RTO);
    TW_SEND(t, tw_t_now(t) + TW_MS(50), IN(.flags = TW_RST, .seq = PEER_ISS + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(c), TW_ERR_RESET);
    assert_int_equal(tw_socket_events(c) & (TW_EV_CLOSED | TW_EV_ERROR),
                     TW_EV_CLOSED | TW_EV_ERROR);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_RST_ACCEPTED), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CONN_RESET), 1);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    TW_EXPECT_NO_DEADLINE(t);
    char b[8];
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), TW_ERR_RESET);
    assert_int_equal(tw_socket_send(c, "x", 1, tw_t_now(t)), TW_ERR_RESET);
    assert_string_equal(tw_strerror(tw_socket_error(c)), "connection reset by peer");
    tw_socket_close(c, tw_t_now(t));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R3 (RFC 5961 3.2): a RST inside the window but not at RCV.NXT gets a challenge ACK
   <SEQ=SND.NXT><ACK=RCV.NXT> and changes nothing; the genuine peer then answers with the
   exact RST, which is accepted. */
static void test_r03_in_window_rst_gets_challenge_ack(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_RST, .seq = PEER_ISS + 1 + 100));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y + 1, .ack = PEER_ISS + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    /* (600 ms later: a connection sends one challenge ACK per 500 ms, as Linux) */
    TW_SEND(t, tw_t_now(t) + TW_MS(600),
            IN(.flags = TW_RST | TW_ACK, .seq = PEER_ISS + 1 + 60000, .ack = y + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y + 1, .ack = PEER_ISS + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_ESTABLISHED);
    assert_int_equal(tw_socket_error(c), 0);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_RST_IN_WINDOW), 2);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CHALLENGE_ACK_SENT), 2);
    TW_EXPECT_NO_DEADLINE(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_RST, .seq = PEER_ISS + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_error(c), TW_ERR_RESET);
    tw_socket_close(c, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

/* R3 (RFC 5961 3.2, RFC 9293 3.10.7.4 first check): a RST outside the window, ahead of it
   or already behind RCV.NXT, is dropped silently. */
static void test_r03_out_of_window_rst_ignored(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_RST, .seq = PEER_ISS + 1 + 300000));
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_RST, .seq = PEER_ISS));
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_RST | TW_ACK, .seq = PEER_ISS - 5000, .ack = y + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_RST_OUT_OF_WINDOW), 3);
    assert_int_equal(tw_socket_state(c), TW_STATE_ESTABLISHED);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TX_SEGMENTS), 1); /* the SYN+ACK only */
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = y + 1, .ack = PEER_ISS + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R3 (RFC 5961 4.2, RFC 9293 3.10.7.4 fourth check): a SYN on a synchronized connection,
   in the window or not, gets an ACK and changes nothing -- in ESTABLISHED and after a
   half-close alike. */
static void test_r03_syn_on_synchronized_gets_challenge_ack(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t v = PEER_ISS + 1, u = y + 1;
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_SYN, .seq = v + 10));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_SYN_CHALLENGE), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CHALLENGE_ACK_SENT), 1);
    /* The peer restarted with a fresh, far-away ISN: out of the window, ACKed as well
       (600 ms later: one challenge ACK per 500 ms per connection, as Linux). */
    TW_SEND(t, tw_t_now(t) + TW_MS(600), IN(.flags = TW_SYN, .seq = v + 0x40000000u));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_ESTABLISHED);

    assert_int_equal(tw_socket_shutdown(c, TW_SHUT_WR, tw_t_now(t)), 0);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_ACK, .seq = v, .ack = u + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_FIN_WAIT_2);
    TW_SEND(t, tw_t_now(t) + TW_MS(600), IN(.flags = TW_SYN | TW_ACK, .seq = v, .ack = u + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_FIN_WAIT_2);
    /* All three SYNs, the out-of-window one too, are challenged (and so rate-limited):
       RFC 5961 4.2 "irrespective of the sequence number", as Linux does. */
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_SYN_CHALLENGE), 3);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u + 1, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R3 (RFC 5961 7): challenge ACKs can be limited per second for the whole stack
   (challenge_ack_limit, here 1000, Linux's tcp_challenge_ack_limit of before 6.0;
   the default is no such budget, below); beyond it they are suppressed and counted,
   and the next second gets a fresh budget. RSTs and SYNs share the budget. */
static void test_r03_challenge_ack_rate_limit(void **state)
{
    /* The stack-wide budget alone: without the per-connection limit (tested below), one
       connection can spend it all. */
    tw_t_free(*state);
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.no_invalid_ratelimit = true;
    cfg.challenge_ack_limit = 1000;
    tw_t *t = *state = tw_t_new(&cfg);
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t v = PEER_ISS + 1, u = y + 1;
    tw_time t1 = tw_t_now(t) + TW_MS(10);
    for (uint32_t i = 0; i < 1000; i++) {
        tw_t_seg in = i % 2 ? IN(.flags = TW_SYN, .seq = v + 1 + i)
                            : IN(.flags = TW_RST, .seq = v + 1 + i);
        tw_t_send_at(t, t1, &in, __FILE__, __LINE__);
        TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v, .win = 65535));
        TW_EXPECT_NOTHING(t);
    }
    TW_SEND(t, t1 + TW_MS(999), IN(.flags = TW_RST, .seq = v + 5));
    TW_SEND(t, t1 + TW_MS(999), IN(.flags = TW_SYN, .seq = v + 5));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CHALLENGE_ACK_SENT), 1000);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CHALLENGE_ACK_LIMITED), 2);
    assert_int_equal(tw_socket_state(c), TW_STATE_ESTABLISHED);
    TW_SEND(t, t1 + TW_SEC(1), IN(.flags = TW_RST, .seq = v + 5));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CHALLENGE_ACK_SENT), 1001);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R3: by default no stack-wide budget (Linux 6.x, tcp_challenge_ack_limit INT_MAX: a
   shared budget is an off-path side channel, CVE-2016-5696): without the
   per-connection limit every one of 1500 in-window RSTs in a second is challenged. */
static void test_r03_challenge_ack_no_stack_budget(void **state)
{
    tw_t_free(*state);
    tw_config cfg;
    tw_config_init(&cfg);
    assert_true(cfg.challenge_ack_limit == UINT32_MAX);
    cfg.no_invalid_ratelimit = true;
    tw_t *t = *state = tw_t_new(&cfg);
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t v = PEER_ISS + 1, u = y + 1;
    tw_time t1 = tw_t_now(t) + TW_MS(10);
    for (uint32_t i = 0; i < 1500; i++) {
        tw_t_seg in = IN(.flags = TW_RST, .seq = v + 1 + i);
        tw_t_send_at(t, t1, &in, __FILE__, __LINE__);
        TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v, .win = 65535));
        TW_EXPECT_NOTHING(t);
    }
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CHALLENGE_ACK_SENT), 1500);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CHALLENGE_ACK_LIMITED), 0);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R3 (RFC 5961 7): the limit is configurable (challenge_ack_limit). */
static void test_r03_challenge_ack_limit_configurable(void **state)
{
    tw_t_free(*state);
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.challenge_ack_limit = 2;
    cfg.no_invalid_ratelimit = true;
    tw_t *t = *state = tw_t_new(&cfg);
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t v = PEER_ISS + 1, u = y + 1;
    tw_time t1 = tw_t_now(t);
    for (int i = 0; i < 2; i++) {
        TW_SEND(t, t1, IN(.flags = TW_RST, .seq = v + 9));
        TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v, .win = 65535));
    }
    TW_SEND(t, t1 + TW_MS(500), IN(.flags = TW_RST, .seq = v + 9));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CHALLENGE_ACK_LIMITED), 1);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R3 (RFC 9293 3.10.7.3, SYN-SENT): a RST is accepted only with an ACK of our SYN; then
   the connection is refused. Without ACK, or with a wrong ACK, it is dropped -- and a RST
   is never answered with a RST. */
static void test_r03_rst_in_syn_sent(void **state)
{
    tw_t *t = *state;
    tw_socket *s = tw_t_connect(t, PEER, PPORT, LPORT);
    tw_t_seg syn = TW_EXPECT(t, OUT(.flags = TW_SYN, .any = TW_T_ANY_SEQ | TW_T_ANY_OPTS,
                                    .win = 65535));
    uint32_t x = syn.seq;
    TW_SEND(t, T0 + TW_MS(10), IN(.flags = TW_RST, .seq = 0));
    TW_SEND(t, T0 + TW_MS(20), IN(.flags = TW_RST | TW_ACK, .seq = 0, .ack = x + 5));
    TW_SEND(t, T0 + TW_MS(30), IN(.flags = TW_RST | TW_ACK, .seq = 0, .ack = x));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(s), TW_STATE_SYN_SENT);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_SYNSENT_NOACK_DROP), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_BAD_ACK), 2);
    TW_EXPECT_DEADLINE(t, T0 + TW_SEC(1));
    TW_SEND(t, T0 + TW_MS(40), IN(.flags = TW_RST | TW_ACK, .seq = 0, .ack = x + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(s), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(s), TW_ERR_REFUSED);
    assert_true(tw_socket_events(s) & TW_EV_ERROR);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CONN_REFUSED), 1);
    TW_EXPECT_NO_DEADLINE(t);
    tw_socket_close(s, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

/* R3 (RFC 9293 3.10.7.4 second check): in FIN-WAIT-2 a valid RST reports a reset; in
   LAST-ACK (after our close) it just ends the connection with nothing left. */
static void test_r03_rst_in_closing_states(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t v = PEER_ISS + 1, u = y + 1;
    assert_int_equal(tw_socket_shutdown(c, TW_SHUT_WR, tw_t_now(t)), 0);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_ACK, .seq = v, .ack = u + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_FIN_WAIT_2);
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_RST, .seq = v));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(c), TW_ERR_RESET);
    tw_socket_close(c, tw_t_now(t));
    TW_ASSERT_IDLE(t);

    c = TW_PASSIVE_OPEN(t, PEER_ISS + 5000, &y);
    v = PEER_ISS + 5001;
    u = y + 1;
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_FIN | TW_ACK, .seq = v, .ack = u));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 1, .win = 65535));
    tw_socket_close(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_RST, .seq = v + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_RST_ACCEPTED), 2);
    TW_ASSERT_IDLE(t);
}

/* R4 (RFC 9293 3.10.4 CLOSE; RFC 2525 2.17): closing with received data the application
   never read loses data, so it aborts: RST <SEQ=SND.NXT> (with ACK, like Linux), the
   connection is gone at once, and the peer's next segment finds no connection. */
static void test_r04_close_with_unread_data_sends_rst(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t v = PEER_ISS + 1, u = y + 1;
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_ACK | TW_PSH, .seq = v, .ack = u,
                                           .data = "unread bytes", .len = 12));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 12, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_rx_pending(c), 12);
    tw_socket_close(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u, .ack = v + 12, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CONN_ABORTED), 1);
    TW_ASSERT_IDLE(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_ACK | TW_PSH, .seq = v + 12, .ack = u,
                                           .len = 5));
    TW_EXPECT(t, OUT(.flags = TW_RST, .seq = u, .ack = 0, .win = 0));
    TW_EXPECT_NOTHING(t);
}

/* R4 (SO_LINGER with time 0): close() aborts with RST even with nothing unread. */
static void test_r04_linger0_close_sends_rst(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    assert_int_equal(tw_socket_set_linger0(c, true), 0);
    tw_socket_close(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = y + 1, .ack = PEER_ISS + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CONN_ABORTED), 1);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 0);
    TW_ASSERT_IDLE(t);
}

/* R4 (RFC 9293 3.10.5 ABORT): abort sends RST <SEQ=SND.NXT> in a synchronized state,
   discarding queued data; in SYN-SENT there is nobody to tell. */
static void test_r04_abort(void **state)
{
    tw_t *t = *state;
    uint32_t x;
    tw_socket *s = TW_ACTIVE_OPEN(t, PEER_ISS, &x);
    char big[3000];
    memset(big, 'q', sizeof big);
    assert_int_equal(tw_socket_send(s, big, sizeof big, tw_t_now(t)), 3000);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = x + 1, .ack = PEER_ISS + 1, .win = 65535,
                     .len = 1460));
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = x + 1461, .ack = PEER_ISS + 1,
                     .win = 65535, .len = 1460));
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = x + 2921, .ack = PEER_ISS + 1,
                     .win = 65535, .len = 80));
    TW_EXPECT_NOTHING(t);
    tw_socket_abort(s, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = x + 3001, .ack = PEER_ISS + 1,
                     .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);

    s = tw_t_connect(t, PEER, PPORT, LPORT);
    TW_EXPECT(t, OUT(.flags = TW_SYN, .any = TW_T_ANY_SEQ | TW_T_ANY_OPTS, .win = 65535));
    tw_socket_abort(s, tw_t_now(t));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* The connection table's one-entry cache (tcp_in.c conn_find) stays exact: a connection
   that took data, then was reset (socket still held, same 4-tuple bytes) or aborted
   (freed), and a new incarnation of the same 4-tuple: its segments reach the new one. */
static void test_r04_tuple_reused_after_reset_and_abort(void **state)
{
    tw_t *t = *state;
    char b[64];
    uint32_t y1;
    tw_socket *c1 = TW_PASSIVE_OPEN(t, PEER_ISS, &y1);
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK | TW_PSH, .seq = PEER_ISS + 1, .ack = y1 + 1, .len = 10));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y1 + 1, .ack = PEER_ISS + 11, .any = TW_T_ANY_WIN));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_recv(c1, b, sizeof b, tw_t_now(t)), 10);
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_RST, .seq = PEER_ISS + 11));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c1), TW_STATE_CLOSED);

    /* Second incarnation while c1 is still held. */
    uint32_t y2, iss2 = PEER_ISS + 500000;
    tw_socket *c2 = TW_PASSIVE_OPEN(t, iss2, &y2);
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK | TW_PSH, .seq = iss2 + 1, .ack = y2 + 1, .len = 20));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y2 + 1, .ack = iss2 + 21, .any = TW_T_ANY_WIN));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_recv(c2, b, sizeof b, tw_t_now(t)), 20);
    assert_int_equal(tw_socket_recv(c1, b, sizeof b, tw_t_now(t)), TW_ERR_RESET);
    tw_socket_close(c1, tw_t_now(t));
    tw_socket_abort(c2, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = y2 + 1, .ack = iss2 + 21,
                     .any = TW_T_ANY_WIN));
    TW_EXPECT_NOTHING(t);

    /* Third incarnation after c2 was freed: found, and its data is its own. */
    uint32_t y3, iss3 = PEER_ISS + 900000;
    tw_socket *c3 = TW_PASSIVE_OPEN(t, iss3, &y3);
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK | TW_PSH, .seq = iss3 + 1, .ack = y3 + 1, .len = 30));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y3 + 1, .ack = iss3 + 31, .any = TW_T_ANY_WIN));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_recv(c3, b, sizeof b, tw_t_now(t)), 30);
    /* A segment of the freed incarnation finds no connection in the new one's window
       and is answered as unacceptable (RFC 9293 3.10.7.4 first check). */
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK | TW_PSH, .seq = iss2 + 21, .ack = y2 + 1, .len = 5));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y3 + 1, .ack = iss3 + 31, .any = TW_T_ANY_WIN));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_rx_pending(c3), 0);
    tw_socket_abort(c3, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = y3 + 1, .ack = iss3 + 31,
                     .any = TW_T_ANY_WIN));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TW_T_CASE(test_r03_no_connection_gets_rst),
        TW_T_CASE(test_r03_never_rst_for_rst),
        TW_T_CASE(test_r03_exact_rst_resets),
        TW_T_CASE(test_r03_in_window_rst_gets_challenge_ack),
        TW_T_CASE(test_r03_out_of_window_rst_ignored),
        TW_T_CASE(test_r03_syn_on_synchronized_gets_challenge_ack),
        TW_T_CASE(test_r03_challenge_ack_rate_limit),
        TW_T_CASE(test_r03_challenge_ack_no_stack_budget),
        TW_T_CASE(test_r03_challenge_ack_limit_configurable),
        TW_T_CASE(test_r03_rst_in_syn_sent),
        TW_T_CASE(test_r03_rst_in_closing_states),
        TW_T_CASE(test_r04_close_with_unread_data_sends_rst),
        TW_T_CASE(test_r04_linger0_close_sends_rst),
        TW_T_CASE(test_r04_abort),
        TW_T_CASE(test_r04_tuple_reused_after_reset_and_abort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
