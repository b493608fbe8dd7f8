/*
 * test_close.c -- releasing a connection: the four-way close from both sides, half-close
 * and simultaneous close (SPEC S10-S14, R2; RFC 9293 3.6, 3.10.4 CLOSE, 3.10.7.4).
 *
 * Letters follow the SPEC: the side that closes first has next sequence number u, the
 * other v; w is the passive side's sequence number when it sends its own FIN.
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 1000u

/* S10 + S11 + S14, we close first (RFC 9293 3.10.4 CLOSE in ESTABLISHED, 3.10.7.4 fifth
   and eighth steps): FIN+ACK seq=u ack=v -> FIN-WAIT-1; its ACK -> FIN-WAIT-2 with no
   timer while the application holds the socket; the peer's FIN seq=w -> ACK seq=u+1
   ack=w+1 and TIME-WAIT for 2*MSL. */
static void test_s10_s11_s14_active_close(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;

    tw_time t1 = tw_t_now(t) + TW_MS(10);
    tw_t_advance(t, t1);
    assert_int_equal(tw_socket_shutdown(c, TW_SHUT_WR, t1), 0);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_FIN_WAIT_1);
    TW_EXPECT_DEADLINE(t, t1 + TW_T_RTO);
    assert_int_equal(tw_socket_send(c, "x", 1, t1), TW_ERR_CLOSED);

    /* S11: the FIN took one sequence number: the peer acknowledges u+1. */
    TW_SEND(t, t1 + TW_MS(50), IN(.flags = TW_ACK, .seq = v, .ack = u + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_FIN_WAIT_2);
    TW_EXPECT_NO_DEADLINE(t);
    tw_socket_info info;
    tw_socket_info_get(c, &info);
    assert_int_equal(info.snd_una, u + 1);
    assert_int_equal(info.snd_nxt, u + 1);

    /* S13/S14 from the closer's side: w = v since the peer sent no data. */
    uint32_t w = v;
    tw_time t2 = t1 + TW_SEC(2);
    TW_SEND(t, t2, IN(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_TIME_WAIT);
    assert_true(tw_socket_events(c) & TW_EV_PEER_CLOSED);
    char b[4];
    assert_int_equal(tw_socket_recv(c, b, sizeof b, t2), 0);
    TW_RUN_TO(t, t2 + TW_SEC(60));
    assert_int_equal(tw_socket_state(c), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(c), 0);
    assert_true(tw_socket_events(c) & TW_EV_CLOSED);
    assert_false(tw_socket_events(c) & TW_EV_ERROR);
    TW_EXPECT_NOTHING(t);
    tw_socket_close(c, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

/* S11 + S13 + S14, the peer closes first (RFC 9293 3.10.7.4 eighth step, 3.10.4 CLOSE in
   CLOSE-WAIT): its FIN seq=u gets ACK seq=v ack=u+1, CLOSE-WAIT and end-of-stream; our
   close sends FIN+ACK seq=w ack=u+1 -> LAST-ACK; its ACK of w+1 -> CLOSED at once, the
   passive side never enters TIME-WAIT. */
static void test_s11_s13_s14_passive_close(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = PEER_ISS + 1, v = y + 1;

    tw_time t1 = tw_t_now(t) + TW_MS(5);
    TW_SEND(t, t1, IN(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = v, .ack = u + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_CLOSE_WAIT);
    assert_int_equal(tw_socket_events(c) & (TW_EV_PEER_CLOSED | TW_EV_READABLE),
                     TW_EV_PEER_CLOSED | TW_EV_READABLE);
    char b[4];
    assert_int_equal(tw_socket_recv(c, b, sizeof b, t1), 0); /* end of stream */
    TW_EXPECT_NO_DEADLINE(t);

    /* S13 */
    uint32_t w = v;
    tw_time t2 = t1 + TW_SEC(1);
    tw_t_advance(t, t2);
    tw_socket_close(c, t2);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    TW_EXPECT_DEADLINE(t, t2 + TW_T_RTO);

    /* S14: the last ACK frees the connection, no TIME-WAIT on this side. */
    TW_SEND(t, t2 + TW_MS(100), IN(.flags = TW_ACK, .seq = u + 1, .ack = w + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 0);
    TW_ASSERT_IDLE(t);
}

/* S13/S14 with the application still holding the socket: LAST-ACK -> CLOSED is visible
   as a clean close (no error), and the late close() frees it. */
static void test_s14_last_ack_closed_without_error(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = PEER_ISS + 1, v = y + 1;
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = v, .ack = u + 1, .win = 65535));
    assert_int_equal(tw_socket_shutdown(c, TW_SHUT_WR, tw_t_now(t)), 0);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = v, .ack = u + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_LAST_ACK);
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = u + 1, .ack = v + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(c), 0);
    assert_int_equal(tw_socket_events(c) & (TW_EV_CLOSED | TW_EV_ERROR), TW_EV_CLOSED);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    TW_EXPECT_NO_DEADLINE(t);
    tw_socket_close(c, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

/* S12 (RFC 9293 3.6, 3.10.4 SEND in CLOSE-WAIT): after the peer's FIN we may go on
   sending; the data is sent and acknowledged normally, then our FIN follows it. */
static void test_s12_close_wait_keeps_sending(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = PEER_ISS + 1, v = y + 1;
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = v, .ack = u + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_CLOSE_WAIT);
    assert_true(tw_socket_events(c) & TW_EV_WRITABLE);

    tw_time t1 = tw_t_now(t) + TW_MS(20);
    tw_t_advance(t, t1);
    char data[300];
    memset(data, 'r', sizeof data);
    assert_int_equal(tw_socket_send(c, data, 300, t1), 300);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = v, .ack = u + 1, .win = 65535, .len = 300));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_DEADLINE(t, t1 + TW_T_RTO);
    TW_SEND(t, t1 + TW_MS(100), IN(.flags = TW_ACK, .seq = u + 1, .ack = v + 300));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_tx_pending(c), 0);
    TW_EXPECT_NO_DEADLINE(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_CLOSE_WAIT);

    uint32_t w = v + 300;
    tw_socket_close(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = u + 1, .ack = w + 1));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S12 (RFC 9293 3.10.7.4 seventh step in FIN-WAIT-1/FIN-WAIT-2): after our FIN we keep
   receiving and acknowledging data, both before and after the peer acknowledges it. */
static void test_s12_fin_wait_keeps_receiving(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    assert_int_equal(tw_socket_shutdown(c, TW_SHUT_WR, tw_t_now(t)), 0);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);

    /* Data that does not yet acknowledge our FIN: still FIN-WAIT-1. */
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK | TW_PSH, .seq = v, .ack = u, .data = "first part", .len = 10));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = v + 10, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_FIN_WAIT_1);
    char b[32];
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), 10);
    assert_memory_equal(b, "first part", 10);

    /* Data that acknowledges the FIN: FIN-WAIT-2, and the data still arrives. */
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK | TW_PSH, .seq = v + 10, .ack = u + 1, .data = "second", .len = 6));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = v + 16, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_FIN_WAIT_2);
    TW_EXPECT_NO_DEADLINE(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = v + 16, .ack = u + 1, .data = "third", .len = 5));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = v + 21, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), 11);
    assert_memory_equal(b, "secondthird", 11);
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), TW_ERR_AGAIN);

    uint32_t w = v + 21;
    tw_time t2 = tw_t_now(t) + TW_MS(10);
    TW_SEND(t, t2, IN(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_TIME_WAIT);
    assert_int_equal(tw_socket_recv(c, b, sizeof b, t2), 0);
    tw_socket_close(c, t2);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    TW_RUN_TO(t, t2 + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S10 with the article's letters on the client: connect (x), data both ways, close; the
   FIN carries seq=u ack=v and the whole close runs to TIME-WAIT's end. */
static void test_s10_client_close_after_data(void **state)
{
    tw_t *t = *state;
    uint32_t x;
    tw_socket *s = TW_ACTIVE_OPEN(t, PEER_ISS, &x);
    uint32_t y = PEER_ISS;
    assert_int_equal(tw_socket_send(s, "request", 7, tw_t_now(t)), 7);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = x + 1, .ack = y + 1, .win = 65535, .len = 7));
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK | TW_PSH, .seq = y + 1, .ack = x + 8,
                                             .data = "response", .len = 8));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = x + 8, .ack = y + 9, .win = 65535));
    TW_EXPECT_NOTHING(t);
    char b[16];
    assert_int_equal(tw_socket_recv(s, b, sizeof b, tw_t_now(t)), 8);

    uint32_t u = x + 8, v = y + 9;
    tw_socket_close(s, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = v, .ack = u + 1));
    TW_EXPECT_NOTHING(t);
    uint32_t w = v;
    tw_time t2 = tw_t_now(t) + TW_MS(300);
    TW_SEND(t, t2, IN(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    TW_RUN_TO(t, t2 + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R2 (RFC 9293 3.5 figure 13, 3.10.7.4 eighth step): FIN-WAIT-1 receiving a FIN that does
   not acknowledge ours -> CLOSING (ACK seq=u+1 ack=w+1); our FIN is still timed and is
   retransmitted; its ACK -> TIME-WAIT. */
static void test_r02_simultaneous_close_via_closing(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, w = PEER_ISS + 1;
    tw_time t1 = tw_t_now(t);
    assert_int_equal(tw_socket_shutdown(c, TW_SHUT_WR, t1), 0);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = w, .win = 65535));
    TW_EXPECT_NOTHING(t);

    /* The FINs cross: the peer's acknowledges only up to u. */
    TW_SEND(t, t1 + TW_MS(10), IN(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_CLOSING);
    assert_true(tw_socket_events(c) & TW_EV_PEER_CLOSED);
    TW_EXPECT_DEADLINE(t, t1 + TW_T_RTO);

    /* The peer's ACK of our FIN got lost: ours goes again after the RTO. */
    TW_RUN_TO(t, t1 + TW_T_RTO);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_CLOSING);

    tw_time t2 = t1 + TW_T_RTO + TW_MS(100);
    TW_SEND(t, t2, IN(.flags = TW_ACK, .seq = w + 1, .ack = u + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_TIME_WAIT);
    TW_EXPECT_DEADLINE(t, t2 + TW_SEC(60));
    tw_socket_close(c, t2);
    TW_RUN_TO(t, t2 + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R2 (RFC 9293 3.10.7.4 eighth step, FIN-WAIT-1): a FIN+ACK that also acknowledges our FIN
   goes straight to TIME-WAIT (the RFC's "TIME-WAIT state, start the time-wait timer"). */
static void test_r02_fin_ack_of_our_fin_straight_to_time_wait(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, w = PEER_ISS + 1;
    tw_socket_close(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = w, .win = 65535));
    TW_EXPECT_NOTHING(t);
    tw_time t1 = tw_t_now(t) + TW_MS(100);
    TW_SEND(t, t1, IN(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    TW_RUN_TO(t, t1 + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R2 with the application's socket: CLOSING's ACK of our FIN reaches TIME-WAIT with the
   socket still readable at end of stream. Also: a duplicate of the peer's FIN in CLOSING
   is acknowledged again (RFC 9293 3.10.7.4 eighth step: "remain in the CLOSING state"). */
static void test_r02_closing_repeated_fin_reacked(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, w = PEER_ISS + 1;
    assert_int_equal(tw_socket_shutdown(c, TW_SHUT_WR, tw_t_now(t)), 0);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = w, .win = 65535));
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_CLOSING);
    tw_time t3 = tw_t_now(t) + TW_MS(10);
    TW_SEND(t, t3, IN(.flags = TW_ACK, .seq = w + 1, .ack = u + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_TIME_WAIT);
    char b[4];
    assert_int_equal(tw_socket_recv(c, b, sizeof b, t3), 0);
    tw_socket_close(c, t3);
    TW_RUN_TO(t, t3 + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S11 + S13 (RFC 9293 3.10.7.4 eighth step, CLOSE-WAIT and LAST-ACK: "remain in the
   state"): a retransmitted FIN (our ACK was lost) is acknowledged again, before and after
   our own FIN; data after the peer's FIN is not taken (seventh step: "ignore the segment
   text"; Linux sends nothing for it either). */
static void test_s11_s13_repeated_fin_reacked(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = PEER_ISS + 1, v = y + 1;
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = v, .ack = u + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(200), IN(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = v, .ack = u + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_CLOSE_WAIT);
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = u + 1, .ack = v, .data = "after", .len = 5));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_DATA_AFTER_FIN), 1);
    assert_int_equal(tw_socket_rx_pending(c), 0);

    tw_time t1 = tw_t_now(t) + TW_MS(10);
    tw_t_advance(t, t1);
    tw_socket_close(c, t1);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = v, .ack = u + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, t1 + TW_MS(100), IN(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = v + 1, .ack = u + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    TW_EXPECT_DEADLINE(t, t1 + TW_T_RTO); /* our FIN is still timed */
    TW_SEND(t, t1 + TW_MS(200), IN(.flags = TW_ACK, .seq = u + 1, .ack = v + 1));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S14 with reordering (RFC 9293 3.10.7.4 seventh and eighth steps): the peer's FIN
   arrives before its last data; it is held (duplicate ACK, still FIN-WAIT-2) and takes
   effect when the hole fills: one ACK covers data and FIN, then TIME-WAIT. */
static void test_s14_fin_beyond_a_hole(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    assert_int_equal(tw_socket_shutdown(c, TW_SHUT_WR, tw_t_now(t)), 0);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = v, .ack = u + 1));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_FIN | TW_ACK, .seq = v + 6, .ack = u + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_FIN_WAIT_2);
    assert_false(tw_socket_events(c) & TW_EV_PEER_CLOSED);
    tw_time t2 = tw_t_now(t) + TW_MS(10);
    TW_SEND(t, t2, IN(.flags = TW_ACK, .seq = v, .ack = u + 1, .data = "hole!!", .len = 6));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = v + 7, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_TIME_WAIT);
    char b[8];
    assert_int_equal(tw_socket_recv(c, b, sizeof b, t2), 6);
    assert_memory_equal(b, "hole!!", 6);
    assert_int_equal(tw_socket_recv(c, b, sizeof b, t2), 0);
    tw_socket_close(c, t2);
    TW_RUN_TO(t, t2 + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S10 (RFC 9293 3.10.4 CLOSE in ESTABLISHED: "queue this until all preceding SENDs have
   been segmentized, then form a FIN segment"): data still queued behind a small peer
   window leaves first, and the FIN rides on its last segment; FIN-WAIT-1 starts at the
   close, and the FIN still takes its own sequence number. */
static void test_s10_fin_follows_queued_data(void **state)
{
    tw_t *t = *state;
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    TW_SEND(t, T0, IN(.flags = TW_SYN, .seq = PEER_ISS, .win = 300));
    tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1, .win = 65535,
                                   .opts = TW_OPT_MSS, .mss = 1460, .any = TW_T_ANY_SEQ));
    TW_SEND(t, T0 + TW_T_RTT, IN(.flags = TW_ACK, .seq = PEER_ISS + 1, .ack = sa.seq + 1,
                                 .win = 300));
    tw_socket *c;
    assert_int_equal(tw_socket_accept(l, &c, tw_t_now(t)), 0);
    tw_socket_close(l, tw_t_now(t));
    uint32_t u = sa.seq + 1, v = PEER_ISS + 1;
    char d[500];
    memset(d, 'q', sizeof d);
    assert_int_equal(tw_socket_send(c, d, sizeof d, tw_t_now(t)), 500);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v, .win = 65535, .len = 300));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_shutdown(c, TW_SHUT_WR, tw_t_now(t)), 0);
    TW_EXPECT_NOTHING(t); /* the FIN waits behind 200 queued bytes */
    assert_int_equal(tw_socket_state(c), TW_STATE_FIN_WAIT_1);
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = v, .ack = u + 300,
                                            .win = 1000));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_PSH | TW_ACK, .seq = u + 300, .ack = v, .win = 65535,
                     .len = 200));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = v, .ack = u + 501,
                                            .win = 1000));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_FIN_WAIT_2);
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_FIN | TW_ACK, .seq = v, .ack = u + 501));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 501, .ack = v + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    tw_socket_close(c, tw_t_now(t));
    TW_RUN_TO(t, tw_t_now(t) + TW_SEC(60));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TW_T_CASE(test_s10_s11_s14_active_close),
        TW_T_CASE(test_s11_s13_s14_passive_close),
        TW_T_CASE(test_s14_last_ack_closed_without_error),
        TW_T_CASE(test_s12_close_wait_keeps_sending),
        TW_T_CASE(test_s12_fin_wait_keeps_receiving),
        TW_T_CASE(test_s10_client_close_after_data),
        TW_T_CASE(test_s10_fin_follows_queued_data),
        TW_T_CASE(test_s11_s13_repeated_fin_reacked),
        TW_T_CASE(test_s14_fin_beyond_a_hole),
        TW_T_CASE(test_r02_simultaneous_close_via_closing),
        TW_T_CASE(test_r02_fin_ack_of_our_fin_straight_to_time_wait),
        TW_T_CASE(test_r02_closing_repeated_fin_reacked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
