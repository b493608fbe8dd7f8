/*
 * test_time_wait.c -- TIME-WAIT: 2*MSL, the re-ACK of a retransmitted FIN, old segments
 * and reuse of the 4-tuple by a newer SYN (SPEC S15-S17; RFC 9293 3.6.1, 3.10.7.4
 * TIME-WAIT; RFC 1337; RFC 6191; RFC 1122 4.2.2.13).
 *
 * TIME-WAIT exists in two shapes: the full connection while the application still holds
 * the socket (after shutdown()), and the compact record once it is closed (close()). Both
 * are tested. Letters: we close first with next sequence number u; the peer's FIN is at w.
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 1000u

typedef struct tw_ctx {
    tw_socket *c; /* NULL once closed (record) */
    uint32_t u, w;
    tw_time at; /* when TIME-WAIT began */
} tw_ctx;

/* Passive open, we close first (close() or shutdown()), the peer ACKs and sends its FIN
   100 ms later: TIME-WAIT at `at`. */
static tw_ctx reach_time_wait(tw_t *t, bool keep_socket, uint32_t peer_data)
{
    tw_ctx x;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    x.u = y + 1;
    uint32_t v = PEER_ISS + 1;
    if (keep_socket) {
        assert_int_equal(tw_socket_shutdown(c, TW_SHUT_WR, tw_t_now(t)), 0);
    } else {
        tw_socket_close(c, tw_t_now(t));
    }
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = x.u, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = v, .ack = x.u + 1));
    TW_EXPECT_NOTHING(t);
    if (peer_data) {
        /* Half-close: the peer still sends (only to a socket that can read it). */
        TW_SEND(t, tw_t_now(t) + TW_MS(10),
                IN(.flags = TW_ACK, .seq = v, .ack = x.u + 1, .len = peer_data));
        TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = x.u + 1, .ack = v + peer_data, .win = 65535));
        char b[256];
        assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), (tw_ssize)peer_data);
    }
    x.w = v + peer_data;
    x.at = tw_t_now(t) + TW_MS(100);
    TW_SEND(t, x.at, IN(.flags = TW_FIN | TW_ACK, .seq = x.w, .ack = x.u + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = x.u + 1, .ack = x.w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    x.c = keep_socket ? c : NULL;
    if (keep_socket) {
        assert_int_equal(tw_socket_state(c), TW_STATE_TIME_WAIT);
        assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    } else {
        assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
        assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    }
    return x;
}

/* S15 (RFC 9293 3.10.7.4 TIME-WAIT, 3.6.1): the compact record lasts exactly 2*MSL
   (60 s by default), then the 4-tuple is forgotten: a late FIN finds no connection. */
static void test_s15_record_lasts_2msl(void **state)
{
    tw_t *t = *state;
    tw_ctx x = reach_time_wait(t, false, 0);
    TW_RUN_TO(t, x.at + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 0);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TW_RECYCLED_TIMEOUT), 1);
    TW_ASSERT_IDLE(t);
    TW_SEND(t, tw_t_now(t) + TW_SEC(1), IN(.flags = TW_FIN | TW_ACK, .seq = x.w, .ack = x.u + 1));
    TW_EXPECT(t, OUT(.flags = TW_RST, .seq = x.u + 1, .ack = 0, .win = 0));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_NO_SOCKET), 1);
}

/* S15 with MSL configured to 5 s, on the full connection the application holds: TIME-WAIT
   ends after 10 s with a clean CLOSED (no error). */
static void test_s15_msl_configurable_held_socket(void **state)
{
    tw_t_free(*state);
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.msl = TW_SEC(5);
    tw_t *t = *state = tw_t_new(&cfg);
    tw_ctx x = reach_time_wait(t, true, 0);
    TW_RUN_TO(t, x.at + TW_SEC(10));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(x.c), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(x.c), 0);
    assert_int_equal(tw_socket_events(x.c) & (TW_EV_CLOSED | TW_EV_ERROR), TW_EV_CLOSED);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    tw_socket_close(x.c, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

/* S15: closing the socket while it is in TIME-WAIT shrinks it to a record but does not
   extend TIME-WAIT: it still ends 2*MSL after it began. */
static void test_s15_close_during_time_wait_keeps_its_end(void **state)
{
    tw_t *t = *state;
    tw_ctx x = reach_time_wait(t, true, 0);
    tw_t_advance(t, x.at + TW_SEC(30));
    tw_socket_close(x.c, tw_t_now(t));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    TW_RUN_TO(t, x.at + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S16 (RFC 9293 3.10.7.4 TIME-WAIT, eighth step): the peer's FIN again means our last ACK
   was lost: ACK it again (seq=u+1 ack=w+1) and restart the 2*MSL timer from now. */
static void test_s16_record_reacks_fin_and_restarts(void **state)
{
    tw_t *t = *state;
    tw_ctx x = reach_time_wait(t, false, 0);
    tw_time again = x.at + TW_SEC(20);
    TW_SEND(t, again, IN(.flags = TW_FIN | TW_ACK, .seq = x.w, .ack = x.u + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = x.u + 1, .ack = x.w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    /* Not at the first deadline (x.at + 60 s): TW_RUN_TO fails if a timer fires before. */
    TW_RUN_TO(t, again + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S16 on the full connection the application still holds. */
static void test_s16_held_socket_reacks_fin_and_restarts(void **state)
{
    tw_t *t = *state;
    tw_ctx x = reach_time_wait(t, true, 0);
    tw_time again = x.at + TW_SEC(45);
    TW_SEND(t, again, IN(.flags = TW_FIN | TW_ACK, .seq = x.w, .ack = x.u + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = x.u + 1, .ack = x.w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(x.c), TW_STATE_TIME_WAIT);
    TW_RUN_TO(t, again + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(x.c), TW_STATE_CLOSED);
    tw_socket_close(x.c, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

/* S16 from the passive side (RFC 9293 3.10.7.4 LAST-ACK; RFC 6298 5.5): our FIN from
   LAST-ACK is retransmitted with back-off until the last ACK arrives, then CLOSED. */
static void test_s16_last_ack_retransmits_fin(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = PEER_ISS + 1, w = y + 1;
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_FIN | TW_ACK, .seq = u, .ack = w));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = w, .ack = u + 1, .win = 65535));
    tw_time t1 = tw_t_now(t) + TW_MS(10);
    tw_t_advance(t, t1);
    tw_socket_close(c, t1);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_RUN_TO(t, t1 + TW_T_RTO);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_RUN_TO(t, t1 + 3 * TW_T_RTO);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TX_RETRANS), 2);
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = u + 1, .ack = w + 1));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S17 (RFC 9293 3.10.7.4 first check in TIME-WAIT): an old data segment of this
   incarnation is answered with an ACK and never delivered; a bare duplicate of the
   peer's last ACK needs no answer; the old segment does not restart 2*MSL, the
   acceptable ACK does (RFC 9293 3.10.7.4 fifth, TIME-WAIT; Linux's
   tcp_timewait_state_process too). */
static void test_s17_old_segments_acked_not_accepted(void **state)
{
    tw_t *t = *state;
    tw_ctx x = reach_time_wait(t, false, 0);
    TW_SEND(t, x.at + TW_SEC(1), IN(.flags = TW_ACK | TW_PSH, .seq = x.w - 10, .ack = x.u,
                                     .len = 10));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = x.u + 1, .ack = x.w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, x.at + TW_SEC(2), IN(.flags = TW_ACK, .seq = x.w + 1, .ack = x.u + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_TW_SEGMENT), 2);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    TW_RUN_TO(t, x.at + TW_SEC(62)); /* (2*MSL from the acceptable ACK, 2 s in) */
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S17 (RFC 6191 2, RFC 5961 4): a SYN that is not newer than the old incarnation (its
   sequence number at or below what we received, no timestamps) does not take the 4-tuple
   over: it gets an ACK, like Linux's TIME-WAIT does, and TIME-WAIT keeps its end. */
static void test_s17_old_syn_does_not_reuse(void **state)
{
    tw_t *t = *state;
    tw_ctx x = reach_time_wait(t, false, 0);
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    TW_SEND(t, x.at + TW_SEC(1), IN(.flags = TW_SYN, .seq = PEER_ISS));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = x.u + 1, .ack = x.w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, x.at + TW_SEC(2), IN(.flags = TW_SYN, .seq = x.w + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = x.u + 1, .ack = x.w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TW_REUSED), 0);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_PASSIVE_OPENS), 1); /* the first one only */
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    tw_socket_close(l, tw_t_now(t));
    TW_RUN_TO(t, x.at + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S17 (RFC 6191 1: TIME-WAIT is left early only "to allow a new incarnation"; RFC 9293
   3.10.7.4 fourth check / RFC 5961 4.2): with no listener to take the 4-tuple, even a
   newer SYN does not end TIME-WAIT: it gets an ACK, like Linux's TIME-WAIT answers a SYN
   it cannot hand to a listener, and the record stays for its 2*MSL. */
static void test_s17_newer_syn_without_listener_keeps_time_wait(void **state)
{
    tw_t *t = *state;
    tw_ctx x = reach_time_wait(t, false, 0);
    TW_SEND(t, x.at + TW_SEC(5), IN(.flags = TW_SYN, .seq = x.w + 100000));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = x.u + 1, .ack = x.w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TW_REUSED), 0);
    TW_RUN_TO(t, x.at + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S17 (RFC 6191 2 without timestamps; RFC 1122 4.2.2.13): a SYN above everything the old
   incarnation received takes the 4-tuple over at once; our new ISN lies above everything
   the old incarnation sent, and an old duplicate of the earlier data is not accepted as
   data of the new connection. */
static void test_s17_newer_syn_reuses_tuple(void **state)
{
    tw_t *t = *state;
    tw_ctx x = reach_time_wait(t, false, 0);
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    uint32_t nx = x.w + 100000; /* the peer's new ISN */
    tw_time t1 = x.at + TW_SEC(5);
    TW_SEND(t, t1, IN(.flags = TW_SYN, .seq = nx));
    tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = nx + 1, .win = 65535,
                                   .opts = TW_OPT_MSS, .mss = 1460, .any = TW_T_ANY_SEQ));
    TW_EXPECT_NOTHING(t);
    assert_true((int32_t)(sa.seq - (x.u + 1)) > 0);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TW_REUSED), 1);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 0);
    TW_SEND(t, t1 + TW_MS(100), IN(.flags = TW_ACK, .seq = nx + 1, .ack = sa.seq + 1));
    TW_EXPECT_NOTHING(t);
    tw_socket *c;
    assert_int_equal(tw_socket_accept(l, &c, tw_t_now(t)), 0);
    tw_socket_close(l, tw_t_now(t));
    /* An old duplicate from the first incarnation (below the new RCV.NXT). */
    TW_SEND(t, t1 + TW_MS(200), IN(.flags = TW_ACK | TW_PSH, .seq = x.w - 20, .ack = x.u + 1,
                                   .len = 20));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = sa.seq + 1, .ack = nx + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_rx_pending(c), 0);
    assert_int_equal(tw_socket_state(c), TW_STATE_ESTABLISHED);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = sa.seq + 1, .ack = nx + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S17 with timestamps (RFC 6191 2; RFC 7323 4.3): when both incarnations use timestamps,
   the SYN's TSval decides, not its sequence number, compared with the last TSval seen
   (TS.Recent, not the SYN's): an older TSval is refused even with a higher ISN; a newer
   one reuses the 4-tuple even with a lower ISN. */
static void test_s17_rfc6191_timestamps_decide(void **state)
{
    tw_t *t = *state;
    tw_t_seg syn = IN(.flags = TW_SYN, .seq = PEER_ISS, .opts = TW_OPT_TS, .ts_val = 50000);
    tw_t_seg sa;
    tw_socket *c = tw_t_passive_open(t, PEER_ISS, &syn, &sa, __FILE__, __LINE__);
    uint32_t u = sa.seq + 1, w = PEER_ISS + 1;
    /* The third ACK carried TSval 50001 (fixture), now TS.Recent. */
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_ACK | TW_PSH, .seq = w, .ack = u,
                                           .opts = TW_OPT_TS, .ts_val = 60000,
                                           .ts_ecr = sa.ts_val, .len = 10));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = w + 10, .win = 65535, .opts = TW_OPT_TS,
                     .ts_ecr = 60000, .any = TW_T_ANY_TSVAL));
    TW_EXPECT_NOTHING(t);
    w += 10;
    char b[16];
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), 10);
    tw_socket_close(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = w, .win = 65535,
                     .opts = TW_OPT_TS, .ts_ecr = 60000, .any = TW_T_ANY_TSVAL));
    TW_EXPECT_NOTHING(t);
    tw_time at = tw_t_now(t) + TW_MS(100);
    TW_SEND(t, at, IN(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 1, .opts = TW_OPT_TS,
                      .ts_val = 60001, .ts_ecr = sa.ts_val));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w + 1, .win = 65535,
                     .opts = TW_OPT_TS, .ts_ecr = 60001, .any = TW_T_ANY_TSVAL));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    tw_socket *l = tw_t_listen(t, LPORT, 8);

    /* Higher ISN, TSval newer than the SYN's but older than the last one seen: refused,
       ACKed (echoing TS.Recent). */
    TW_SEND(t, at + TW_SEC(1), IN(.flags = TW_SYN, .seq = w + 500000, .opts = TW_OPT_TS,
                                  .ts_val = 55000));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w + 1, .win = 65535,
                     .opts = TW_OPT_TS, .ts_ecr = 60001, .any = TW_T_ANY_TSVAL));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TW_REUSED), 0);

    /* Lower ISN, newer TSval: the new incarnation starts above the old sequence space. */
    TW_SEND(t, at + TW_SEC(2), IN(.flags = TW_SYN, .seq = 7, .opts = TW_OPT_TS,
                                  .ts_val = 61000));
    tw_t_seg sa2 = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = 8, .win = 65535,
                                    .opts = TW_OPT_MSS | TW_OPT_TS, .mss = 1460,
                                    .ts_ecr = 61000, .any = TW_T_ANY_SEQ | TW_T_ANY_TSVAL));
    TW_EXPECT_NOTHING(t);
    assert_true((int32_t)(sa2.seq - (u + 1)) > 0);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TW_REUSED), 1);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 0);
    tw_socket_close(l, tw_t_now(t));
    TW_EXPECT_NOTHING(t); /* (the half-open entry goes silently, as on Linux) */
    TW_ASSERT_IDLE(t);
}

/* S17 on the active side: the port of a 4-tuple in TIME-WAIT is refused to bind() unless
   SO_REUSEADDR is set (as Linux refuses it: its TIME-WAIT sockets hold their port,
   inet_csk_bind_conflict); with it, a connection that used no timestamps still holds
   its 4-tuple to the end of TIME-WAIT: connect() says EADDRNOTAVAIL (no PAWS to keep
   old duplicates out; Linux 6.18's tcp_twsk_unique, checked over TUN). With timestamps
   the connect takes the record's place above the old incarnation (RFC 6191's rule
   applied to our own SYN): script s17_connect_over_time_wait_ts. */
static void test_s17_connect_over_time_wait(void **state)
{
    tw_t *t = *state;
    uint32_t x;
    tw_socket *s = TW_ACTIVE_OPEN(t, PEER_ISS, &x);
    /* SO_REUSEADDR (set after bind, as Linux lets it be): the TIME-WAIT record keeps it,
       and a later bind with it may share the port (Linux: both sockets' flags). */
    assert_int_equal(tw_socket_set_reuseaddr(s, true), 0);
    uint32_t u = x + 1, w = PEER_ISS + 1;
    tw_socket_close(s, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = w, .win = 65535));
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);

    tw_socket *s2;
    assert_int_equal(tw_socket_open(tw_t_stack(t), &s2), 0);
    assert_int_equal(tw_socket_bind(s2, LPORT), TW_ERR_ADDRINUSE);
    TW_EXPECT_NOTHING(t);
    /* The refused bind left the socket as it was: no port, no 4-tuple, no ISN, CLOSED. */
    tw_socket_info info;
    assert_int_equal(tw_socket_info_get(s2, &info), 0);
    assert_int_equal(info.local_port, 0);
    assert_int_equal(info.remote_addr, 0);
    assert_int_equal(info.remote_port, 0);
    assert_int_equal(info.iss, 0);
    assert_int_equal(info.state, TW_STATE_CLOSED);
    tw_socket_close(s2, tw_t_now(t));

    assert_int_equal(tw_socket_open(tw_t_stack(t), &s2), 0);
    assert_int_equal(tw_socket_set_reuseaddr(s2, true), 0);
    assert_int_equal(tw_socket_bind(s2, LPORT), 0);
    assert_int_equal(tw_socket_connect(s2, PEER, PPORT, tw_t_now(t)), TW_ERR_ADDRNOTAVAIL);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    tw_socket_close(s2, tw_t_now(t));
    TW_EXPECT_NOTHING(t);
    TW_RUN_TO(t, tw_stack_next_deadline(tw_t_stack(t))); /* the end of 2*MSL */
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 0);
    TW_ASSERT_IDLE(t);
}

/* S17 + RFC 1337 (TIME-WAIT assassination): a RST, even with the exact sequence number,
   does not end TIME-WAIT early; nothing is sent and 2*MSL runs to its end. */
static void test_s17_rfc1337_rst_ignored_by_record(void **state)
{
    tw_t *t = *state;
    tw_ctx x = reach_time_wait(t, false, 0);
    TW_SEND(t, x.at + TW_SEC(3), IN(.flags = TW_RST, .seq = x.w + 1));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, x.at + TW_SEC(4), IN(.flags = TW_RST | TW_ACK, .seq = x.w + 1, .ack = x.u + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_TW_RST_IGNORED), 2);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    TW_RUN_TO(t, x.at + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* RFC 1337 on the full connection the application holds. */
static void test_s17_rfc1337_rst_ignored_by_held_socket(void **state)
{
    tw_t *t = *state;
    tw_ctx x = reach_time_wait(t, true, 0);
    TW_SEND(t, x.at + TW_SEC(3), IN(.flags = TW_RST | TW_ACK, .seq = x.w + 1, .ack = x.u + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_TW_RST_IGNORED), 1);
    assert_int_equal(tw_socket_state(x.c), TW_STATE_TIME_WAIT);
    assert_int_equal(tw_socket_error(x.c), 0);
    TW_RUN_TO(t, x.at + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(x.c), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(x.c), 0);
    tw_socket_close(x.c, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

/* S15 after a half-close with data: TIME-WAIT's ACK carries the right numbers. */
static void test_s15_time_wait_after_half_close_data(void **state)
{
    tw_t *t = *state;
    tw_ctx x = reach_time_wait(t, true, 200);
    assert_int_equal(x.w, PEER_ISS + 201);
    tw_socket_close(x.c, x.at);
    TW_SEND(t, x.at + TW_SEC(1), IN(.flags = TW_FIN | TW_ACK, .seq = x.w, .ack = x.u + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = x.u + 1, .ack = x.w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_RUN_TO(t, x.at + TW_SEC(61));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* With max_time_wait 1 and one record held: a second connection (from PPORT + 1) passes
   through a passive open and closes actively; its FIN+ACK answered, it stays a full
   connection in TIME-WAIT (no record may be made) and re-ACKs the peer's repeated FIN 1 s
   later. Returns when that repeated FIN arrived (its 2*MSL starts again there). */
static tw_time second_conn_waits_in_full(tw_t *t)
{
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    uint16_t p2 = PPORT + 1;
    TW_SEND(t, tw_t_now(t), IN(.sport = p2, .flags = TW_SYN, .seq = PEER_ISS));
    tw_t_seg sa = TW_EXPECT(t, OUT(.dport = p2, .flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1,
                                   .win = 65535, .opts = TW_OPT_MSS, .mss = 1460,
                                   .any = TW_T_ANY_SEQ));
    TW_SEND(t, tw_t_now(t) + TW_MS(100),
            IN(.sport = p2, .flags = TW_ACK, .seq = PEER_ISS + 1, .ack = sa.seq + 1));
    tw_socket *c;
    assert_int_equal(tw_socket_accept(l, &c, tw_t_now(t)), 0);
    tw_socket_close(l, tw_t_now(t));
    tw_socket_close(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.dport = p2, .flags = TW_FIN | TW_ACK, .seq = sa.seq + 1,
                     .ack = PEER_ISS + 1, .win = 65535));
    tw_time at2 = tw_t_now(t) + TW_MS(100);
    TW_SEND(t, at2, IN(.sport = p2, .flags = TW_FIN | TW_ACK, .seq = PEER_ISS + 1,
                       .ack = sa.seq + 2));
    TW_EXPECT(t, OUT(.dport = p2, .flags = TW_ACK, .seq = sa.seq + 2, .ack = PEER_ISS + 2,
                     .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    TW_SEND(t, at2 + TW_SEC(1), IN(.sport = p2, .flags = TW_FIN | TW_ACK, .seq = PEER_ISS + 1,
                                   .ack = sa.seq + 2));
    TW_EXPECT(t, OUT(.dport = p2, .flags = TW_ACK, .seq = sa.seq + 2, .ack = PEER_ISS + 2,
                     .win = 65535));
    TW_EXPECT_NOTHING(t);
    return at2 + TW_SEC(1);
}

static tw_t *new_with_one_record(void **state, bool traced)
{
    tw_t_free(*state);
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.max_time_wait = 1;
    return *state = traced ? tw_t_new(&cfg) : tw_t_new_untraced(&cfg);
}

/* S15 with a bound on TIME-WAIT records (max_time_wait): past it no compact record is
   made, but TIME-WAIT is not cut short either -- RFC 1122 4.2.2.13 says a connection
   closed actively MUST linger 2*MSL (Linux drops it instead; the RFC wins here): the
   connection waits in full, re-ACKs the FIN and is gone after 2*MSL. */
static void test_s15_max_time_wait(void **state)
{
    tw_t *t = new_with_one_record(state, true);
    tw_ctx x = reach_time_wait(t, false, 0);
    tw_time fin2 = second_conn_waits_in_full(t);
    TW_RUN_TO(t, x.at + TW_SEC(60));
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 0);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    TW_RUN_TO(t, fin2 + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* The same untraced: nothing traces, so the FIN+ACK that acknowledges our FIN takes
   tcp_in.c's short path for an orphan (closing_ack_last), which makes the record without
   the full connection's steps; when no record may be made, the connection stays in
   TIME-WAIT all the same (RFC 1122 4.2.2.13), re-ACKs a repeated FIN and is gone after
   2*MSL. */
static void test_s15_max_time_wait_untraced(void **state)
{
    tw_t *t = new_with_one_record(state, false);
    reach_time_wait(t, false, 0);
    tw_time fin2 = second_conn_waits_in_full(t);
    tw_t_advance(t, fin2 + TW_SEC(59));
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1); /* (its 2*MSL began again) */
    tw_t_advance(t, fin2 + TW_SEC(61));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 0);
    TW_ASSERT_IDLE(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TW_T_CASE(test_s15_record_lasts_2msl),
        TW_T_CASE(test_s15_msl_configurable_held_socket),
        TW_T_CASE(test_s15_close_during_time_wait_keeps_its_end),
        TW_T_CASE(test_s15_time_wait_after_half_close_data),
        TW_T_CASE(test_s15_max_time_wait),
        TW_T_CASE(test_s15_max_time_wait_untraced),
        TW_T_CASE(test_s16_record_reacks_fin_and_restarts),
        TW_T_CASE(test_s16_held_socket_reacks_fin_and_restarts),
        TW_T_CASE(test_s16_last_ack_retransmits_fin),
        TW_T_CASE(test_s17_old_segments_acked_not_accepted),
        TW_T_CASE(test_s17_old_syn_does_not_reuse),
        TW_T_CASE(test_s17_newer_syn_reuses_tuple),
        TW_T_CASE(test_s17_newer_syn_without_listener_keeps_time_wait),
        TW_T_CASE(test_s17_rfc6191_timestamps_decide),
        TW_T_CASE(test_s17_connect_over_time_wait),
        TW_T_CASE(test_s17_rfc1337_rst_ignored_by_record),
        TW_T_CASE(test_s17_rfc1337_rst_ignored_by_held_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
