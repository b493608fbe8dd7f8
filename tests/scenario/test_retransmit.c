/*
 * test_retransmit.c -- retransmission of SYN, SYN+ACK and FIN with exponential back-off
 * and a clear timed-out error when the retries run out (SPEC S9; RFC 9293 3.8.1, 3.8.3;
 * RFC 6298 5), and the data retransmission timer (SPEC D3; RFC 6298 2, 3, 5, Karn).
 *
 * Defaults (tw_config_init): initial RTO 1 s, syn_retries 7, synack_retries 5, retries 15,
 * rto_max 120 s: the Linux values except syn_retries (Linux's 6 would give up after 127 s,
 * under RFC 1122 4.2.3.5's 3 minutes), so a connect() to a silent peer fails after
 * 1+2+4+8+16+32+64 s and a last wait of 120 s (rto_max): 247 s.
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 1000u

/* Our SYN, whole; `any` adds TW_T_ANY_SEQ for the first one (the ISN is checked in
   test_isn.c). */
#define OUR_SYN_ANY(x, any_)                                                                \
    OUT(.flags = TW_SYN, .seq = (x), .ack = 0, .win = 65535,                               \
        .opts = TW_OPT_MSS | TW_OPT_SACK_PERM | TW_OPT_TS | TW_OPT_WSCALE, .mss = 1460,       \
        .wscale = 7, .ts_ecr = 0, .any = TW_T_ANY_TSVAL | (any_))
#define OUR_SYN(x) OUR_SYN_ANY(x, 0)

static uint32_t info_retransmits(const tw_socket *s)
{
    tw_socket_info i;
    tw_socket_info_get(s, &i);
    return i.retransmits;
}

/* S9 (RFC 9293 3.8.1, RFC 6298 5.5): an unanswered SYN is sent again, identical, after
   1, 2, 4, 8, 16, 32 and 64 s; 120 s (rto_max) after the seventh copy, at 247 s (RFC 1122
   4.2.3.5: not before 3 minutes), connect() fails with TIMEDOUT, no segment is sent at the
   end and nothing of the connection is left. */
static void test_s09_syn_backoff_then_timedout(void **state)
{
    tw_t *t = *state;
    tw_socket *s = tw_t_connect(t, PEER, PPORT, LPORT);
    tw_t_seg syn = TW_EXPECT(t, OUR_SYN_ANY(0, TW_T_ANY_SEQ));
    TW_EXPECT_NOTHING(t);
    uint32_t x = syn.seq;
    tw_time at = T0, rto = TW_SEC(1);
    for (uint32_t i = 1; i <= 7; i++) {
        at += rto;
        TW_RUN_TO(t, at);
        TW_EXPECT(t, OUR_SYN(x));
        TW_EXPECT_NOTHING(t);
        assert_int_equal(tw_socket_state(s), TW_STATE_SYN_SENT);
        assert_int_equal(info_retransmits(s), i);
        assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TX_RETRANS), i);
        rto *= 2;
    }
    at += TW_SEC(120); /* 128 s, held to rto_max */
    assert_int_equal(at, T0 + TW_SEC(247));
    TW_RUN_TO(t, at);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(s), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(s), TW_ERR_TIMEDOUT);
    assert_int_equal(tw_socket_events(s) & (TW_EV_CLOSED | TW_EV_ERROR | TW_EV_CONNECTED),
                     TW_EV_CLOSED | TW_EV_ERROR);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CONN_TIMEDOUT), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RTO_FIRED), 8);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    TW_EXPECT_NO_DEADLINE(t);
    char b[4];
    assert_int_equal(tw_socket_recv(s, b, sizeof b, at), TW_ERR_TIMEDOUT);
    assert_int_equal(tw_socket_send(s, "x", 1, at), TW_ERR_TIMEDOUT);

    /* The 4-tuple is free: a late SYN+ACK finds no connection (RFC 9293 3.10.7.1). */
    TW_SEND(t, at + TW_SEC(1), IN(.flags = TW_SYN | TW_ACK, .seq = PEER_ISS, .ack = x + 1));
    TW_EXPECT(t, OUT(.flags = TW_RST, .seq = x + 1, .ack = 0, .win = 0));
    TW_EXPECT_NOTHING(t);
    tw_socket_close(s, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

/* S9 with a configured limit: syn_retries 2 fails after 1 + 2 + 4 s. */
static void test_s09_syn_retries_configurable(void **state)
{
    tw_t_free(*state);
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.syn_retries = 2;
    tw_t *t = *state = tw_t_new(&cfg);
    tw_socket *s = tw_t_connect(t, PEER, PPORT, LPORT);
    tw_t_seg syn = TW_EXPECT(t, OUR_SYN_ANY(0, TW_T_ANY_SEQ));
    TW_RUN_TO(t, T0 + TW_SEC(1));
    TW_EXPECT(t, OUR_SYN(syn.seq));
    TW_RUN_TO(t, T0 + TW_SEC(3));
    TW_EXPECT(t, OUR_SYN(syn.seq));
    TW_EXPECT_NOTHING(t);
    TW_RUN_TO(t, T0 + TW_SEC(7));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_error(s), TW_ERR_TIMEDOUT);
    assert_int_equal(tw_socket_state(s), TW_STATE_CLOSED);
    tw_socket_close(s, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

/* S9 + RFC 6298 5.7 and Karn (section 3): after a retransmitted SYN the handshake gives
   no RTT sample, and "the RTO MUST be re-initialized to 3 seconds when data transmission
   begins" (Linux: TCP_TIMEOUT_FALLBACK). */
static void test_s09_syn_retransmitted_then_rto_3s(void **state)
{
    tw_t *t = *state;
    tw_socket *s = tw_t_connect(t, PEER, PPORT, LPORT);
    tw_t_seg syn = TW_EXPECT(t, OUR_SYN_ANY(0, TW_T_ANY_SEQ));
    uint32_t x = syn.seq;
    TW_RUN_TO(t, T0 + TW_SEC(1));
    TW_EXPECT(t, OUR_SYN(x));
    TW_EXPECT_NOTHING(t);
    tw_time t1 = T0 + TW_SEC(1) + TW_MS(100);
    TW_SEND(t, t1, IN(.flags = TW_SYN | TW_ACK, .seq = PEER_ISS, .ack = x + 1,
                      .opts = TW_OPT_MSS, .mss = 1460));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = x + 1, .ack = PEER_ISS + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(s), TW_STATE_ESTABLISHED);
    TW_EXPECT_NO_DEADLINE(t);
    tw_socket_info i;
    tw_socket_info_get(s, &i);
    assert_int_equal(i.srtt, 0); /* Karn: the ambiguous SYN+ACK is not a sample */
    assert_int_equal(i.rto, TW_SEC(3));
    assert_int_equal(i.retransmits, 0);
    assert_int_equal(tw_socket_send(s, "data", 4, t1), 4);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = x + 1, .ack = PEER_ISS + 1, .win = 65535,
                     .len = 4));
    TW_EXPECT_NOTHING(t);
    TW_RUN_TO(t, t1 + TW_SEC(3));
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = x + 1, .ack = PEER_ISS + 1, .win = 65535,
                     .len = 4));
    TW_EXPECT_NOTHING(t);
    tw_socket_abort(s, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = x + 5, .ack = PEER_ISS + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S9 + RFC 6298 5.7 on the passive side: the SYN+ACK was retransmitted, so the third ACK
   gives no sample and the data phase starts with a 3 s RTO. */
static void test_s09_synack_retransmitted_then_rto_3s(void **state)
{
    tw_t *t = *state;
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    TW_SEND(t, T0, IN(.flags = TW_SYN, .seq = PEER_ISS));
    tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1, .win = 65535,
                                   .opts = TW_OPT_MSS, .mss = 1460, .any = TW_T_ANY_SEQ));
    uint32_t y = sa.seq;
    TW_RUN_TO(t, T0 + TW_SEC(1));
    TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .seq = y, .ack = PEER_ISS + 1, .win = 65535,
                     .opts = TW_OPT_MSS, .mss = 1460));
    TW_EXPECT_NOTHING(t);
    tw_time t1 = T0 + TW_SEC(1) + TW_MS(100);
    TW_SEND(t, t1, IN(.flags = TW_ACK, .seq = PEER_ISS + 1, .ack = y + 1));
    TW_EXPECT_NOTHING(t);
    tw_socket *c;
    assert_int_equal(tw_socket_accept(l, &c, t1), 0);
    tw_socket_close(l, t1);
    TW_EXPECT_NO_DEADLINE(t);
    tw_socket_info i;
    tw_socket_info_get(c, &i);
    assert_int_equal(i.srtt, 0);
    assert_int_equal(i.rto, TW_SEC(3));
    assert_int_equal(tw_socket_send(c, "data", 4, t1), 4);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = y + 1, .ack = PEER_ISS + 1, .win = 65535,
                     .len = 4));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_DEADLINE(t, t1 + TW_SEC(3));
    TW_SEND(t, t1 + TW_MS(100), IN(.flags = TW_ACK, .seq = PEER_ISS + 1, .ack = y + 5));
    TW_EXPECT_NOTHING(t);
    tw_socket_info_get(c, &i);
    assert_int_equal(i.srtt, TW_MS(100)); /* the first real sample sets the estimator */
    assert_int_equal(i.rto, TW_MS(300));
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = y + 5, .ack = PEER_ISS + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S9 (RFC 9293 3.8.1; Linux tcp_synack_retries): an unanswered SYN+ACK is sent again after
   1, 2, 4, 8 and 16 s; 32 s after the fifth copy the half-open connection is dropped
   silently, the listener is untouched and a late third ACK finds nothing. */
static void test_s09_synack_backoff_then_dropped(void **state)
{
    tw_t *t = *state;
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    TW_SEND(t, T0, IN(.flags = TW_SYN, .seq = PEER_ISS));
    tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1, .win = 65535,
                                   .opts = TW_OPT_MSS, .mss = 1460, .any = TW_T_ANY_SEQ));
    TW_EXPECT_NOTHING(t);
    uint32_t y = sa.seq;
    tw_time at = T0, rto = TW_SEC(1);
    for (uint32_t i = 1; i <= 5; i++) {
        at += rto;
        TW_RUN_TO(t, at);
        TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .seq = y, .ack = PEER_ISS + 1, .win = 65535,
                         .opts = TW_OPT_MSS, .mss = 1460));
        TW_EXPECT_NOTHING(t);
        assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TX_RETRANS), i);
        assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
        rto *= 2;
    }
    at += rto;
    assert_int_equal(at, T0 + TW_SEC(63));
    TW_RUN_TO(t, at);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CONN_TIMEDOUT), 1);
    assert_int_equal(tw_socket_state(l), TW_STATE_LISTEN);
    TW_EXPECT_NO_DEADLINE(t);
    tw_socket *c;
    assert_int_equal(tw_socket_accept(l, &c, at), TW_ERR_AGAIN);
    /* The third ACK arrives too late: the listener answers it with a RST. */
    TW_SEND(t, at + TW_SEC(1), IN(.flags = TW_ACK, .seq = PEER_ISS + 1, .ack = y + 1));
    TW_EXPECT(t, OUT(.flags = TW_RST, .seq = y + 1, .ack = 0, .win = 0));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_LISTEN_ACK), 1);
    tw_socket_close(l, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

/* S9 (Linux tcp_check_req): the peer repeating its SYN means our SYN+ACK was lost; the
   same SYN+ACK goes again at once and restarts the entry's timer (1 s from the answer,
   not from the first SYN+ACK), the connection stays half-open and then completes. */
static void test_s09_repeated_syn_gets_synack_again(void **state)
{
    tw_t *t = *state;
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    TW_SEND(t, T0, IN(.flags = TW_SYN, .seq = PEER_ISS));
    tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1, .win = 65535,
                                   .opts = TW_OPT_MSS, .mss = 1460, .any = TW_T_ANY_SEQ));
    TW_SEND(t, T0 + TW_MS(500), IN(.flags = TW_SYN, .seq = PEER_ISS));
    TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .seq = sa.seq, .ack = PEER_ISS + 1, .win = 65535,
                     .opts = TW_OPT_MSS, .mss = 1460));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    TW_EXPECT_DEADLINE(t, T0 + TW_MS(1500));
    TW_SEND(t, T0 + TW_MS(1400), IN(.flags = TW_ACK, .seq = PEER_ISS + 1, .ack = sa.seq + 1));
    TW_EXPECT_NOTHING(t);
    tw_socket *c;
    assert_int_equal(tw_socket_accept(l, &c, tw_t_now(t)), 0);
    assert_int_equal(tw_socket_state(c), TW_STATE_ESTABLISHED);
    TW_EXPECT_NO_DEADLINE(t);
    tw_socket_close(l, tw_t_now(t));
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = sa.seq + 1, .ack = PEER_ISS + 1,
                     .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S9 for the FIN (RFC 9293 3.8.3 R2, RFC 6298 5.5): our FIN is retransmitted with the RTO
   doubling up to rto_max (120 s); after `retries` (15) copies the connection fails with
   TIMEDOUT and nothing more is sent. */
static void test_s09_fin_backoff_then_timedout(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    tw_time at = tw_t_now(t);
    assert_int_equal(tw_socket_shutdown(c, TW_SHUT_WR, at), 0);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    tw_time rto = TW_T_RTO;
    for (uint32_t i = 1; i <= 15; i++) {
        at += rto;
        TW_RUN_TO(t, at);
        TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v, .win = 65535));
        TW_EXPECT_NOTHING(t);
        assert_int_equal(tw_socket_state(c), TW_STATE_FIN_WAIT_1);
        assert_int_equal(info_retransmits(c), i);
        rto = rto * 2 > TW_SEC(120) ? TW_SEC(120) : rto * 2;
    }
    at += rto;
    TW_RUN_TO(t, at);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(c), TW_ERR_TIMEDOUT);
    assert_true(tw_socket_events(c) & TW_EV_ERROR);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CONN_TIMEDOUT), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TX_RETRANS), 15);
    TW_EXPECT_NO_DEADLINE(t);
    tw_socket_close(c, at);
    TW_ASSERT_IDLE(t);
}

/* D3 (RFC 6298 2.2, 2.3, 3, 5.5, 5.7 note): RTO = SRTT + max(G, 4*RTTVAR) with alpha 1/8,
   beta 1/4; a retransmission doubles it and, by Karn's rule, the ACK of retransmitted
   data gives no sample, so the backed-off RTO stays until a fresh sample collapses it. */
static void test_d03_rto_estimator_and_karn(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t v = PEER_ISS + 1, snd = y + 1;
    tw_socket_info i;
    tw_socket_info_get(c, &i);
    assert_int_equal(i.srtt, TW_MS(100)); /* first sample R: SRTT = R, RTTVAR = R/2 */
    assert_int_equal(i.rttvar, TW_MS(50));
    assert_int_equal(i.rto, TW_MS(300));

    char data[100];
    memset(data, 'd', sizeof data);
    tw_time t1 = tw_t_now(t) + TW_MS(10);
    tw_t_advance(t, t1);
    assert_int_equal(tw_socket_send(c, data, 100, t1), 100);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = snd, .ack = v, .win = 65535, .len = 100));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_DEADLINE(t, t1 + TW_MS(300));
    /* A 200 ms sample: RTTVAR = 3/4*50 + 1/4*100 = 62.5, SRTT = 7/8*100 + 1/8*200 = 112.5,
       RTO = 112.5 + 4*62.5 = 362.5 ms. */
    TW_SEND(t, t1 + TW_MS(200), IN(.flags = TW_ACK, .seq = v, .ack = snd + 100));
    TW_EXPECT_NOTHING(t);
    snd += 100;
    tw_socket_info_get(c, &i);
    assert_int_equal(i.srtt, TW_US(112500));
    assert_int_equal(i.rttvar, TW_US(62500));
    assert_int_equal(i.rto, TW_US(362500));
    TW_EXPECT_NO_DEADLINE(t); /* 5.2: all data acknowledged, timer off */

    tw_time t2 = tw_t_now(t) + TW_MS(10);
    tw_t_advance(t, t2);
    assert_int_equal(tw_socket_send(c, data, 100, t2), 100);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = snd, .ack = v, .win = 65535, .len = 100));
    TW_EXPECT_NOTHING(t);
    TW_RUN_TO(t, t2 + TW_US(362500));
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = snd, .ack = v, .win = 65535, .len = 100));
    TW_EXPECT_NOTHING(t);
    tw_time t3 = tw_t_now(t);
    tw_socket_info_get(c, &i);
    assert_int_equal(i.rto, TW_US(725000)); /* 5.5 */
    assert_int_equal(i.retransmits, 1);
    TW_EXPECT_DEADLINE(t, t3 + TW_US(725000));
    /* The ACK could be for either copy: no sample (Karn), RTO stays backed off. */
    TW_SEND(t, t3 + TW_MS(50), IN(.flags = TW_ACK, .seq = v, .ack = snd + 100));
    TW_EXPECT_NOTHING(t);
    snd += 100;
    tw_socket_info_get(c, &i);
    assert_int_equal(i.srtt, TW_US(112500));
    assert_int_equal(i.rttvar, TW_US(62500));
    assert_int_equal(i.rto, TW_US(725000));
    assert_int_equal(i.retransmits, 0);
    assert_int_equal(i.total_retrans, 1);

    tw_time t4 = tw_t_now(t) + TW_MS(10);
    tw_t_advance(t, t4);
    assert_int_equal(tw_socket_send(c, data, 100, t4), 100);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = snd, .ack = v, .win = 65535, .len = 100));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_DEADLINE(t, t4 + TW_US(725000));
    /* A fresh 100 ms sample collapses the RTO: RTTVAR = 3/4*62.5 + 1/4*12.5 = 50,
       SRTT = 7/8*112.5 + 1/8*100 = 110.9375, RTO = 310.9375 ms. */
    TW_SEND(t, t4 + TW_MS(100), IN(.flags = TW_ACK, .seq = v, .ack = snd + 100));
    TW_EXPECT_NOTHING(t);
    tw_socket_info_get(c, &i);
    assert_int_equal(i.srtt, 110937500u);
    assert_int_equal(i.rttvar, TW_MS(50));
    assert_int_equal(i.rto, 310937500u);
    TW_EXPECT_NO_DEADLINE(t);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = snd + 100, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* D3 (RFC 6298 5.3, 5.4): an ACK for part of the outstanding data restarts the timer;
   on expiry only the earliest unacknowledged segment is retransmitted, and the rest
   follows once that is acknowledged. The peer sent no MSS, so segments are 536 bytes. */
static void test_d03_partial_ack_restarts_timer(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t v = PEER_ISS + 1, snd = y + 1;
    char data[1500];
    memset(data, 'p', sizeof data);
    tw_time t1 = tw_t_now(t);
    assert_int_equal(tw_socket_send(c, data, 1500, t1), 1500);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = snd, .ack = v, .win = 65535, .len = 536));
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = snd + 536, .ack = v, .win = 65535,
                     .len = 536));
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = snd + 1072, .ack = v, .win = 65535,
                     .len = 428));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_DEADLINE(t, t1 + TW_T_RTO);
    tw_time t2 = t1 + TW_MS(100);
    TW_SEND(t, t2, IN(.flags = TW_ACK, .seq = v, .ack = snd + 536));
    TW_EXPECT_NOTHING(t);
    tw_socket_info i;
    tw_socket_info_get(c, &i);
    /* A second 100 ms sample: RTTVAR = 3/4*50 + 0 = 37.5, RTO = 100 + max(150, 200) = 300
       ms (the 200 ms floor on the variance term, as Linux's), and the timer restarts from
       this ACK (5.3). */
    assert_int_equal(i.rto, TW_MS(300));
    TW_EXPECT_DEADLINE(t, t2 + TW_MS(300));
    TW_RUN_TO(t, t2 + TW_MS(300));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = snd + 536, .ack = v, .win = 65535, .len = 536));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = v, .ack = snd + 1072));
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = snd + 1072, .ack = v, .win = 65535,
                     .len = 428));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = v, .ack = snd + 1500));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_tx_pending(c), 0);
    TW_EXPECT_NO_DEADLINE(t);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = snd + 1500, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TW_T_CASE(test_s09_syn_backoff_then_timedout),
        TW_T_CASE(test_s09_syn_retries_configurable),
        TW_T_CASE(test_s09_syn_retransmitted_then_rto_3s),
        TW_T_CASE(test_s09_synack_retransmitted_then_rto_3s),
        TW_T_CASE(test_s09_synack_backoff_then_dropped),
        TW_T_CASE(test_s09_repeated_syn_gets_synack_again),
        TW_T_CASE(test_s09_fin_backoff_then_timedout),
        TW_T_CASE(test_d03_rto_estimator_and_karn),
        TW_T_CASE(test_d03_partial_ack_restarts_timer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
