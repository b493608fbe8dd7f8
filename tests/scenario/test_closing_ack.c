/*
 * test_closing_ack.c -- the closing ACKs' short path (tcp_in.c closing_ack) against the
 * full steps of RFC 9293 3.10.7.4.
 *
 * The last ACK in LAST-ACK and the FIN+ACK that acknowledges our FIN in FIN-WAIT-1 take
 * a short path when the segment has the common shape, and, for an orphan that nobody
 * traces, skip the fifth check's updates that die with the connection. Every scenario
 * here runs twice: on a traced stack (the full updates) and on an untraced one (the
 * short path): the same segments out, the same counters, the same states.
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 1000u


/* The peer closed first; we close (an orphan) and send our FIN: LAST-ACK. *u is the
   peer's next sequence number, *w our FIN's. */
static tw_socket *to_last_ack(tw_t *t, uint32_t *u, uint32_t *w, bool orphan)
{
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    *u = PEER_ISS + 1;
    *w = y + 1;
    TW_SEND(t, tw_t_now(t) + TW_MS(5), IN(.flags = TW_FIN | TW_ACK, .seq = *u, .ack = *w));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = *w, .ack = *u + 1, .win = 65535));
    *u += 1;
    if (orphan) {
        tw_socket_close(c, tw_t_now(t));
    } else {
        assert_int_equal(tw_socket_shutdown(c, TW_SHUT_WR, tw_t_now(t)), 0);
    }
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = *w, .ack = *u, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    return c;
}

/* S14: the last ACK of an orphan frees it: nothing sent, nothing left. */
static void last_ack_closes(tw_t *t)
{
    uint32_t u, w;
    to_last_ack(t, &u, &w, true);
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = u, .ack = w + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 0);
    TW_ASSERT_IDLE(t);
}

static void test_last_ack_closes(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(last_ack_closes);
}

/* LAST-ACK, segments the short path must leave to the full steps, each answered as RFC
   9293 3.10.7.4 (and RFC 5961) ask; then the right ACK closes. (All within our FIN's
   first RTO, and one empty segment among those answered -- the RST's challenge -- as
   empty unacceptable segments and challenges share a per-connection rate limit,
   tw_oow_rate_limited.) */
static void last_ack_unacceptable(tw_t *t)
{
    uint32_t u, w;
    to_last_ack(t, &u, &w, true);
    tw_time at = tw_t_now(t);
    /* First check: out of the window (an old FIN+ACK repeated, acknowledging our FIN):
       ACK, drop. */
    TW_SEND(t, at += TW_MS(30), IN(.flags = TW_FIN | TW_ACK, .seq = u - 1, .ack = w + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = w + 1, .ack = u, .win = 65535));
    TW_EXPECT_NOTHING(t);
    /* ... and beyond the window (with data: always answered, ack_unacceptable). */
    TW_SEND(t, at += TW_MS(30), IN(.flags = TW_ACK, .seq = u + 200000, .ack = w + 1,
                                   .data = "0123456789", .len = 10));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = w + 1, .ack = u, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_DUP_DATA), 1); /* (the old FIN) */
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_OUT_OF_WINDOW), 1);
    /* An ACK that does not cover our FIN: nothing happens, still LAST-ACK. */
    TW_SEND(t, at += TW_MS(30), IN(.flags = TW_ACK, .seq = u, .ack = w));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    /* Second check: an in-window RST that is not exact: challenge ACK. */
    TW_SEND(t, at += TW_MS(30), IN(.flags = TW_RST | TW_ACK, .seq = u + 1, .ack = w + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = w + 1, .ack = u, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    /* Fifth check, RFC 5961 5.2: an ACK of data never sent (its text dropped with it)
       gets a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT>, on the RST's clock: 30 ms after
       it, held back (Linux's tcp_send_challenge_ack, data or not). */
    TW_SEND(t, at += TW_MS(30), IN(.flags = TW_ACK, .seq = u, .ack = w + 2,
                                   .data = "0123456789", .len = 10));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_ACK_UNSENT), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CHALLENGE_ACK_LIMITED), 1);
    /* Data after the peer's FIN (not the short path's shape): the fifth check takes its
       ACK of our FIN first, and the connection closes before the text is looked at. */
    TW_SEND(t, at += TW_MS(30), IN(.flags = TW_ACK, .seq = u, .ack = w + 1,
                                                .data = "0123456789", .len = 10));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_DATA_AFTER_FIN), 0);
    TW_ASSERT_IDLE(t);
}

static void test_last_ack_unacceptable(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(last_ack_unacceptable);
}

/* LAST-ACK with the socket still held (shutdown, not close): the full steps, a clean
   close the application sees. */
static void last_ack_held(tw_t *t)
{
    uint32_t u, w;
    tw_socket *c = to_last_ack(t, &u, &w, false);
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = u, .ack = w + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(c), 0);
    tw_socket_close(c, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

static void test_last_ack_held(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(last_ack_held);
}

/* LAST-ACK with data of ours unacknowledged before the FIN: an ACK of part of it, then of
   the data alone, each in the short path's shape (the peer's FIN seen, as in every
   LAST-ACK), leave the connection in LAST-ACK with nothing sent; the ACK of the FIN
   closes it. */
static void last_ack_partial(tw_t *t)
{
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = PEER_ISS + 1, w = y + 1;
    tw_time at = tw_t_now(t) + TW_MS(5);
    TW_SEND(t, at, IN(.flags = TW_FIN | TW_ACK, .seq = u, .ack = w));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = w, .ack = u + 1, .win = 65535));
    u += 1;
    assert_int_equal(tw_socket_send(c, "0123456789", 10, at), 10);
    tw_socket_close(c, at);
    TW_EXPECT(t, OUT(.flags = TW_PSH | TW_ACK, .seq = w, .ack = u, .win = 65535, .len = 10));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = w + 10, .ack = u, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, at += TW_MS(30), IN(.flags = TW_ACK, .seq = u, .ack = w + 4));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    TW_SEND(t, at += TW_MS(1), IN(.flags = TW_ACK | TW_PSH, .seq = u, .ack = w + 10));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    TW_SEND(t, at += TW_MS(1), IN(.flags = TW_ACK, .seq = u, .ack = w + 11));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

static void test_last_ack_partial(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(last_ack_partial);
}

/* LAST-ACK with timestamps (RFC 7323): the last ACK with a TSval older than TS.Recent is
   an old duplicate (PAWS, 5.3): ACKed and dropped, still LAST-ACK; the next one closes. */
static void last_ack_paws(tw_t *t)
{
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .opts = TW_OPT_TS, .peer_tsval = 100);
    uint32_t u = c.rcv, w = c.snd;
    tw_time at = tw_t_now(t) + TW_MS(5);
    TW_SEND(t, at, IN(.flags = TW_FIN | TW_ACK, .seq = u, .ack = w, .opts = TW_OPT_TS,
                      .ts_val = 101, .ts_ecr = 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = w, .ack = u + 1, .win = 65535,
                     .opts = TW_OPT_TS, .ts_val = tw_t_tsval(t, &c), .ts_ecr = 101));
    u += 1;
    tw_socket_close(c.s, at);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u, .win = 65535,
                     .opts = TW_OPT_TS, .ts_val = tw_t_tsval(t, &c), .ts_ecr = 101));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, at += TW_MS(30), IN(.flags = TW_ACK, .seq = u, .ack = w + 1, .opts = TW_OPT_TS,
                                   .ts_val = 50, .ts_ecr = 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = w + 1, .ack = u, .win = 65535,
                     .opts = TW_OPT_TS, .ts_val = tw_t_tsval(t, &c), .ts_ecr = 101));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_PAWS_REJECTED), 1);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    TW_SEND(t, at += TW_MS(30), IN(.flags = TW_ACK, .seq = u, .ack = w + 1, .opts = TW_OPT_TS,
                                   .ts_val = 102, .ts_ecr = 1));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

static void test_last_ack_paws(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(last_ack_paws);
}

/* We close first (an orphan): FIN-WAIT-1. *u is our FIN's sequence number, *w the
   peer's next. */
static void to_fin_wait_1(tw_t *t, uint32_t *u, uint32_t *w)
{
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    *u = y + 1;
    *w = PEER_ISS + 1;
    tw_socket_close(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = *u, .ack = *w, .win = 65535));
    TW_EXPECT_NOTHING(t);
}

/* R2: FIN+ACK of our FIN: the last ACK, TIME-WAIT (a record), gone after 2*MSL. */
static void fin_wait_1_fin_ack(tw_t *t)
{
    uint32_t u, w;
    to_fin_wait_1(t, &u, &w);
    tw_time t1 = tw_t_now(t) + TW_MS(100);
    TW_SEND(t, t1, IN(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    /* S16: the peer's FIN again: ACKed from TIME-WAIT. */
    TW_SEND(t, t1 + TW_SEC(1), IN(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    tw_t_advance(t, t1 + TW_SEC(62));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

static void test_fin_wait_1_fin_ack(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(fin_wait_1_fin_ack);
}

/* FIN-WAIT-1, shapes the short path leaves to the full steps. */
static void fin_wait_1_other(tw_t *t)
{
    uint32_t u, w;
    to_fin_wait_1(t, &u, &w);
    tw_time at = tw_t_now(t);
    /* A FIN+ACK that does not cover our FIN: CLOSING (R2), its FIN ACKed. */
    TW_SEND(t, at += TW_MS(30), IN(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    /* Then the ACK of our FIN: TIME-WAIT. */
    TW_SEND(t, at += TW_MS(30), IN(.flags = TW_ACK, .seq = w + 1, .ack = u + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    tw_t_advance(t, at + TW_SEC(62));
    TW_ASSERT_IDLE(t);
}

static void test_fin_wait_1_other(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(fin_wait_1_other);
}

/* FIN-WAIT-1: a FIN+ACK beyond RCV.NXT (a hole before it) acknowledges our FIN (FIN-WAIT-2)
   but its FIN waits: a duplicate ACK asks for the hole; an ACK of unsent data is
   answered and dropped. */
static void fin_wait_1_fin_beyond_hole(tw_t *t)
{
    uint32_t u, w;
    to_fin_wait_1(t, &u, &w);
    tw_time at = tw_t_now(t);
    TW_SEND(t, at += TW_MS(30), IN(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 2));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_ACK_UNSENT), 1);
    TW_SEND(t, at += TW_MS(30), IN(.flags = TW_FIN | TW_ACK, .seq = w + 5, .ack = u + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 0);
    /* The orphan in FIN-WAIT-2 then goes after fin_timeout. */
    tw_t_advance(t, at + TW_SEC(61));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

static void test_fin_wait_1_fin_beyond_hole(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(fin_wait_1_fin_beyond_hole);
}

/* FIN-WAIT-1 with timestamps (RFC 7323): a FIN+ACK of our FIN whose TSval is older than
   TS.Recent is an old duplicate (PAWS, 5.3): ACKed and dropped, nothing changes; the
   next one is taken, and our last ACK echoes its TSval (TS.Recent, 4.3). */
static void fin_wait_1_paws(tw_t *t)
{
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .opts = TW_OPT_TS, .peer_tsval = 100);
    uint32_t u = c.snd, w = c.rcv;
    tw_socket_close(c.s, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = w, .win = 65535,
                     .opts = TW_OPT_TS, .ts_val = tw_t_tsval(t, &c), .ts_ecr = 101));
    TW_EXPECT_NOTHING(t);
    tw_time at = tw_t_now(t) + TW_MS(30);
    TW_SEND(t, at, IN(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 1, .opts = TW_OPT_TS,
                      .ts_val = 50, .ts_ecr = 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w, .win = 65535,
                     .opts = TW_OPT_TS, .ts_val = tw_t_tsval(t, &c), .ts_ecr = 101));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_PAWS_REJECTED), 1);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    TW_SEND(t, at += TW_MS(30), IN(.flags = TW_FIN | TW_ACK, .seq = w, .ack = u + 1,
                                   .opts = TW_OPT_TS, .ts_val = 102, .ts_ecr = 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 1, .ack = w + 1, .win = 65535,
                     .opts = TW_OPT_TS, .ts_val = tw_t_tsval(t, &c), .ts_ecr = 102));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    assert_int_equal(tw_stack_time_wait_count(tw_t_stack(t)), 1);
    tw_t_advance(t, at + TW_SEC(62));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

static void test_fin_wait_1_paws(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(fin_wait_1_paws);
}

/* Combinations of flags the usual parse leaves to the full parser -- SYN+FIN+ACK in
   SYN-SENT (taken without its FIN, as Linux), no flag at all in LAST-ACK (not the closing
   ACK's shape; dropped) -- are counted once, on either stack: the untraced one's usual
   packet function leaves the test of the flags to those steps (tcp_in.c in_conn), after
   the checksum's count. */
static void bad_flags_counted_once(tw_t *t)
{
    tw_socket *s = tw_t_connect(t, PEER, PPORT + 1, LPORT + 1);
    tw_t_seg syn = TW_EXPECT(t, OUT(.sport = LPORT + 1, .dport = PPORT + 1, .flags = TW_SYN,
                                    .ack = 0, .win = 65535,
                                    .any = TW_T_ANY_SEQ | TW_T_ANY_OPTS));
    uint64_t segs = tw_t_counter(t, TW_CNT_TCP_RX_SEGMENTS);
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.sport = PPORT + 1, .dport = LPORT + 1, .flags = TW_SYN | TW_FIN | TW_ACK,
               .seq = PEER_ISS, .ack = syn.seq + 1));
    TW_EXPECT(t, OUT(.sport = LPORT + 1, .dport = PPORT + 1, .flags = TW_ACK,
                     .seq = syn.seq + 1, .ack = PEER_ISS + 1, .win = 65535,
                     .any = TW_T_ANY_OPTS));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_SYN_DATA_IGNORED), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_SEGMENTS), segs + 1);
    assert_int_equal(tw_socket_state(s), TW_STATE_ESTABLISHED);
    tw_socket_abort(s, tw_t_now(t));
    TW_EXPECT(t, OUT(.sport = LPORT + 1, .dport = PPORT + 1, .flags = TW_RST | TW_ACK,
                     .seq = syn.seq + 1, .ack = PEER_ISS + 1, .win = 65535,
                     .any = TW_T_ANY_OPTS));
    TW_EXPECT_NOTHING(t);

    uint32_t u, w;
    to_last_ack(t, &u, &w, true);
    segs = tw_t_counter(t, TW_CNT_TCP_RX_SEGMENTS);
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = 0, .seq = u, .ack = w + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_NO_ACK_FLAG), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_SEGMENTS), segs + 1);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_ACK, .seq = u, .ack = w + 1));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

static void test_bad_flags_counted_once(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(bad_flags_counted_once);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_last_ack_closes),
        cmocka_unit_test(test_last_ack_unacceptable),
        cmocka_unit_test(test_last_ack_held),
        cmocka_unit_test(test_last_ack_partial),
        cmocka_unit_test(test_last_ack_paws),
        cmocka_unit_test(test_fin_wait_1_fin_ack),
        cmocka_unit_test(test_fin_wait_1_other),
        cmocka_unit_test(test_fin_wait_1_fin_beyond_hole),
        cmocka_unit_test(test_fin_wait_1_paws),
        cmocka_unit_test(test_bad_flags_counted_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
