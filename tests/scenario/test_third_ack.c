/*
 * test_third_ack.c -- the third segment of a passive open (tcp_in.c third_ack, its
 * short path, and in_synchronized, the full steps of RFC 9293 3.10.7.4 for SYN-RECEIVED).
 *
 * The third ACK in its common shape (ACK, maybe PSH, at RCV.NXT, text that fits, the
 * connection's options with a TSval PAWS accepts, SEG.ACK = ISS + 1) takes a short path;
 * the others take the full steps. Every scenario here runs twice, on a traced and an
 * untraced stack: the same segments out, the same counters, the same states.
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 1000u

/* The application aborts c: RST <SEQ=SND.NXT><ACK=RCV.NXT> (RFC 9293 3.10.5), then
   nothing more is sent and nothing is left allocated. */
#define ABORT_AND_CHECK_IDLE(t, c, seq_, ack_, any_)                                       \
    do {                                                                                   \
        tw_socket_abort((c), tw_t_now(t));                                                 \
        TW_EXPECT((t), OUT(.flags = TW_RST | TW_ACK, .seq = (seq_), .ack = (ack_),         \
                           .any = (any_)));                                                \
        TW_EXPECT_NOTHING(t);                                                              \
        TW_ASSERT_IDLE(t);                                                                 \
    } while (0)
#define PEER_TS 5000u


static const char req[64] = "GET /0123456789abcdef0123456789abcdef0123456789abcdef HTTP/1.0\r";

/* The listener and the peer's SYN: with timestamps and window scaling (shift 7) when
   `opts`, else MSS only. Returns our ISS. */
static uint32_t syn_in(tw_t *t, tw_socket **l, bool opts)
{
    *l = tw_t_listen(t, LPORT, 8);
    if (opts) {
        TW_SEND(t, T0, IN(.flags = TW_SYN, .seq = PEER_ISS,
                          .opts = TW_OPT_MSS | TW_OPT_TS | TW_OPT_WSCALE, .mss = 1460,
                          .wscale = 7, .ts_val = PEER_TS));
        tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1,
                                       .win = 65535, .ts_ecr = PEER_TS,
                                       .any = TW_T_ANY_SEQ | TW_T_ANY_OPTS));
        return sa.seq;
    }
    TW_SEND(t, T0, IN(.flags = TW_SYN, .seq = PEER_ISS, .opts = TW_OPT_MSS, .mss = 1460));
    tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1, .win = 65535,
                                   .opts = TW_OPT_MSS, .mss = 1460, .any = TW_T_ANY_SEQ));
    return sa.seq;
}

static tw_socket *accept_one(tw_t *t, tw_socket *l, tw_state want)
{
    tw_socket *c;
    assert_int_equal(tw_socket_accept(l, &c, tw_t_now(t)), 0);
    assert_int_equal(tw_socket_state(c), want);
    tw_socket_close(l, tw_t_now(t));
    return c;
}

static void recv_req(tw_t *t, tw_socket *c)
{
    char buf[128];
    assert_int_equal(tw_socket_recv(c, buf, sizeof buf, tw_t_now(t)), 64);
    assert_memory_equal(buf, req, 64);
}

/* S3 + S5, no options: ESTABLISHED, the request delivered and ACKed, the send window
   the third ACK's (not the SYN's), an RTT sample from the handshake. */
static void plain(tw_t *t)
{
    tw_socket *l;
    uint32_t y = syn_in(t, &l, false);
    TW_SEND(t, T0 + TW_MS(100), IN(.flags = TW_ACK | TW_PSH, .seq = PEER_ISS + 1,
                                   .ack = y + 1, .win = 3000, .data = req, .len = 64));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y + 1, .ack = PEER_ISS + 65, .any = TW_T_ANY_WIN));
    TW_EXPECT_NOTHING(t);
    tw_socket *c = accept_one(t, l, TW_STATE_ESTABLISHED);
    tw_socket_info info;
    tw_socket_info_get(c, &info);
    assert_int_equal(info.snd_wnd, 3000);
    assert_int_equal(info.srtt, TW_MS(100));
    assert_int_equal(info.rcv_nxt, PEER_ISS + 65);
    assert_int_equal(info.snd_una, y + 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_ESTABLISHED), 1);
    recv_req(t, c);
    ABORT_AND_CHECK_IDLE(t, c, y + 1, PEER_ISS + 65, TW_T_ANY_WIN);
}

static void test_plain(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(plain);
}

/* With timestamps and window scaling: the window is scaled (RFC 7323 2.3), TS.Recent
   becomes the third ACK's TSval (4.3: its ACK echoes it), the echo times the RTT. */
static void timestamps(tw_t *t)
{
    tw_socket *l;
    uint32_t y = syn_in(t, &l, true);
    TW_SEND(t, T0 + TW_MS(100), IN(.flags = TW_ACK | TW_PSH, .seq = PEER_ISS + 1, .ack = y + 1,
                                   .win = 100, .opts = TW_OPT_TS, .ts_val = PEER_TS + 7,
                                   .ts_ecr = 1, .data = req, .len = 64));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y + 1, .ack = PEER_ISS + 65, .opts = TW_OPT_TS,
                     .ts_ecr = PEER_TS + 7, .any = TW_T_ANY_WIN | TW_T_ANY_TSVAL));
    TW_EXPECT_NOTHING(t);
    tw_socket *c = accept_one(t, l, TW_STATE_ESTABLISHED);
    tw_socket_info info;
    tw_socket_info_get(c, &info);
    assert_true(info.has_timestamps);
    assert_int_equal(info.snd_wnd, 100u << 7);
    recv_req(t, c);
    ABORT_AND_CHECK_IDLE(t, c, y + 1, PEER_ISS + 65, TW_T_ANY_WIN | TW_T_ANY_OPTS);
}

static void test_timestamps(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(timestamps);
}

/* RFC 7323 5.3: a third ACK with a TSval older than the SYN's is ACKed and dropped, the
   connection stays half-open; the next, with a good TSval, completes it. */
static void paws_old(tw_t *t)
{
    tw_socket *l;
    uint32_t y = syn_in(t, &l, true);
    TW_SEND(t, T0 + TW_MS(100), IN(.flags = TW_ACK | TW_PSH, .seq = PEER_ISS + 1, .ack = y + 1,
                                   .opts = TW_OPT_TS, .ts_val = PEER_TS - 1, .ts_ecr = 1,
                                   .data = req, .len = 64));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y + 1, .ack = PEER_ISS + 1, .opts = TW_OPT_TS,
                     .ts_ecr = PEER_TS, .any = TW_T_ANY_WIN | TW_T_ANY_TSVAL));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_PAWS_REJECTED), 1);
    tw_socket *c;
    assert_int_equal(tw_socket_accept(l, &c, tw_t_now(t)), TW_ERR_AGAIN);
    TW_SEND(t, T0 + TW_MS(110), IN(.flags = TW_ACK | TW_PSH, .seq = PEER_ISS + 1, .ack = y + 1,
                                   .opts = TW_OPT_TS, .ts_val = PEER_TS + 1, .ts_ecr = 1,
                                   .data = req, .len = 64));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y + 1, .ack = PEER_ISS + 65, .opts = TW_OPT_TS,
                     .ts_ecr = PEER_TS + 1, .any = TW_T_ANY_WIN | TW_T_ANY_TSVAL));
    TW_EXPECT_NOTHING(t);
    c = accept_one(t, l, TW_STATE_ESTABLISHED);
    recv_req(t, c);
    ABORT_AND_CHECK_IDLE(t, c, y + 1, PEER_ISS + 65, TW_T_ANY_WIN | TW_T_ANY_OPTS);
}

static void test_paws_old(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(paws_old);
}

/* The request and the peer's FIN on the third segment: ESTABLISHED, then CLOSE-WAIT
   (S11) in the same segment; one ACK covers both. */
static void with_fin(tw_t *t)
{
    tw_socket *l;
    uint32_t y = syn_in(t, &l, false);
    TW_SEND(t, T0 + TW_MS(100), IN(.flags = TW_ACK | TW_PSH | TW_FIN, .seq = PEER_ISS + 1,
                                   .ack = y + 1, .data = req, .len = 64));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y + 1, .ack = PEER_ISS + 66, .any = TW_T_ANY_WIN));
    TW_EXPECT_NOTHING(t);
    tw_socket *c = accept_one(t, l, TW_STATE_CLOSE_WAIT);
    recv_req(t, c);
    tw_socket_close(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = y + 1, .ack = PEER_ISS + 66,
                     .any = TW_T_ANY_WIN));
    TW_SEND(t, T0 + TW_MS(200), IN(.flags = TW_ACK, .seq = PEER_ISS + 66, .ack = y + 2));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

static void test_with_fin(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(with_fin);
}

/* The third segment's text beyond RCV.NXT (its first byte lost): ESTABLISHED (the ACK is
   acceptable), the bytes held, a duplicate ACK at once (RFC 5681 4.2); the missing
   byte then delivers all. */
static void out_of_order(tw_t *t)
{
    tw_socket *l;
    uint32_t y = syn_in(t, &l, false);
    TW_SEND(t, T0 + TW_MS(100), IN(.flags = TW_ACK | TW_PSH, .seq = PEER_ISS + 2,
                                   .ack = y + 1, .data = req + 1, .len = 63));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y + 1, .ack = PEER_ISS + 1, .any = TW_T_ANY_WIN));
    TW_EXPECT_NOTHING(t);
    tw_socket *c = accept_one(t, l, TW_STATE_ESTABLISHED);
    TW_SEND(t, T0 + TW_MS(110), IN(.flags = TW_ACK, .seq = PEER_ISS + 1, .ack = y + 1,
                                   .data = req, .len = 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y + 1, .ack = PEER_ISS + 65, .any = TW_T_ANY_WIN));
    TW_EXPECT_NOTHING(t);
    recv_req(t, c);
    ABORT_AND_CHECK_IDLE(t, c, y + 1, PEER_ISS + 65, TW_T_ANY_WIN);
}

static void test_out_of_order(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(out_of_order);
}

/* A pure third ACK (no text), then the request: nothing sent for the ACK. */
static void pure_ack(tw_t *t)
{
    tw_socket *l;
    uint32_t y = syn_in(t, &l, false);
    TW_SEND(t, T0 + TW_MS(100), IN(.flags = TW_ACK, .seq = PEER_ISS + 1, .ack = y + 1));
    TW_EXPECT_NOTHING(t);
    tw_socket *c = accept_one(t, l, TW_STATE_ESTABLISHED);
    TW_SEND(t, T0 + TW_MS(110), IN(.flags = TW_ACK | TW_PSH, .seq = PEER_ISS + 1,
                                   .ack = y + 1, .data = req, .len = 64));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y + 1, .ack = PEER_ISS + 65, .any = TW_T_ANY_WIN));
    recv_req(t, c);
    ABORT_AND_CHECK_IDLE(t, c, y + 1, PEER_ISS + 65, TW_T_ANY_WIN);
}

static void test_pure_ack(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(pure_ack);
}

/* Segments with flags the usual parse leaves to the full parser -- none at all, ECE
   alone -- at a SYN queue entry: dropped (no ACK bit) and counted once on either stack
   (the untraced one's entry steps ask the flags after the checksum's count: tcp_in.c
   req_input); the entry stays, and the third ACK then opens. */
static void bad_flags(tw_t *t)
{
    tw_socket *l;
    uint32_t y = syn_in(t, &l, false);
    uint64_t segs = tw_t_counter(t, TW_CNT_TCP_RX_SEGMENTS);
    TW_SEND(t, T0 + TW_MS(50), IN(.flags = 0, .seq = PEER_ISS + 1, .ack = y + 1));
    TW_SEND(t, T0 + TW_MS(60), IN(.flags = TW_ECE, .seq = PEER_ISS + 1, .ack = y + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_SEGMENTS), segs + 2);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_NO_ACK_FLAG), 2);

    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    TW_SEND(t, T0 + TW_MS(100), IN(.flags = TW_ACK, .seq = PEER_ISS + 1, .ack = y + 1));
    TW_EXPECT_NOTHING(t);
    tw_socket *c = accept_one(t, l, TW_STATE_ESTABLISHED);
    ABORT_AND_CHECK_IDLE(t, c, y + 1, PEER_ISS + 1, TW_T_ANY_WIN);
}

static void test_bad_flags(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(bad_flags);
}

/* Two SYN queue entries, the later one the stack's cached one (stack.h last_req): a RST
   ends it (the cache let go of with it: its peer's ACK then meets the listener, which
   answers with a RST, RFC 9293 3.10.7.2), and the earlier one's third ACK is found in the
   table and opens. */
static void two_entries(tw_t *t)
{
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    uint32_t y[2];
    for (uint16_t i = 0; i < 2; i++) {
        TW_SEND(t, T0, IN(.sport = (uint16_t)(PPORT + i), .flags = TW_SYN, .seq = PEER_ISS,
                          .opts = TW_OPT_MSS, .mss = 1460));
        tw_t_seg sa = TW_EXPECT(t, OUT(.dport = (uint16_t)(PPORT + i), .flags = TW_SYN | TW_ACK,
                                       .ack = PEER_ISS + 1, .win = 65535, .opts = TW_OPT_MSS,
                                       .mss = 1460, .any = TW_T_ANY_SEQ));
        y[i] = sa.seq;
    }
    uint16_t p1 = PPORT + 1;
    TW_SEND(t, T0 + TW_MS(50), IN(.sport = p1, .flags = TW_RST, .seq = PEER_ISS + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    TW_SEND(t, T0 + TW_MS(60), IN(.sport = p1, .flags = TW_ACK, .seq = PEER_ISS + 1,
                                  .ack = y[1] + 1));
    TW_EXPECT(t, OUT(.dport = p1, .flags = TW_RST, .seq = y[1] + 1, .win = 0));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, T0 + TW_MS(100), IN(.flags = TW_ACK, .seq = PEER_ISS + 1, .ack = y[0] + 1));
    TW_EXPECT_NOTHING(t);
    tw_socket *c = accept_one(t, l, TW_STATE_ESTABLISHED);
    ABORT_AND_CHECK_IDLE(t, c, y[0] + 1, PEER_ISS + 1, TW_T_ANY_WIN);
}

static void test_two_entries(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(two_entries);
}

/* A request on the third segment with a wrong checksum, while a block for its ring is on
   the free list (the first connection's, aborted under the listener): the untraced stack sums
   the request as it copies it into that block (tcp_in.c input_unsummed). Dropped and
   counted, the SYN queue entry and the free list as they were; the peer's segment again,
   right, then opens as usual. With `small`, the listener's receive buffer is set below a
   block before the second SYN: third_ack gives the block back and makes the ring as
   tw_conn_rcv_reserve does. */
static void bad_sum_text_in(tw_t *t, bool small)
{
    tw_socket *l;
    uint32_t y = syn_in(t, &l, false);
    TW_SEND(t, T0 + TW_MS(10), IN(.flags = TW_ACK | TW_PSH, .seq = PEER_ISS + 1, .ack = y + 1,
                                  .win = 3000, .data = req, .len = 64));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y + 1, .ack = PEER_ISS + 65, .any = TW_T_ANY_WIN));
    tw_socket *c1;
    assert_int_equal(tw_socket_accept(l, &c1, tw_t_now(t)), 0);
    recv_req(t, c1);
    tw_socket_abort(c1, tw_t_now(t)); /* (its ring's block to the free list) */
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = y + 1, .ack = PEER_ISS + 65,
                     .any = TW_T_ANY_WIN));
    uint16_t p2 = PPORT + 1;
    if (small) {
        assert_int_equal(tw_socket_set_bufsizes(l, 1024, 0), 0);
    }
    TW_SEND(t, T0 + TW_MS(20), IN(.sport = p2, .flags = TW_SYN, .seq = PEER_ISS,
                                  .opts = TW_OPT_MSS, .mss = 1460));
    tw_t_seg sa = TW_EXPECT(t, OUT(.dport = p2, .flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1,
                                   .win = small ? 1024 : 65535, .opts = TW_OPT_MSS,
                                   .mss = 1460, .any = TW_T_ANY_SEQ));
    uint32_t y2 = sa.seq;
    uint8_t pkt[1600];
    tw_t_seg third = IN(.sport = p2, .flags = TW_ACK | TW_PSH, .seq = PEER_ISS + 1,
                        .ack = y2 + 1, .win = 3000, .data = req, .len = 64);
    size_t n = tw_t_build(&third, pkt, sizeof pkt);
    pkt[n - 1] ^= 0x01; /* the request's last byte: the TCP checksum no longer holds */
    tw_t_send_raw(t, T0 + TW_MS(30), pkt, n);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_BAD_CSUM), 1);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    TW_SEND(t, T0 + TW_MS(40), third);
    TW_EXPECT(t, OUT(.dport = p2, .flags = TW_ACK, .seq = y2 + 1, .ack = PEER_ISS + 65,
                     .any = TW_T_ANY_WIN));
    TW_EXPECT_NOTHING(t);
    tw_socket *c2 = accept_one(t, l, TW_STATE_ESTABLISHED);
    recv_req(t, c2);
    tw_socket_abort(c2, tw_t_now(t));
    TW_EXPECT(t, OUT(.dport = p2, .flags = TW_RST | TW_ACK, .seq = y2 + 1, .ack = PEER_ISS + 65,
                     .any = TW_T_ANY_WIN));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

static void bad_sum_text(tw_t *t)
{
    bad_sum_text_in(t, false);
}

static void bad_sum_text_small(tw_t *t)
{
    bad_sum_text_in(t, true);
}

static void test_bad_sum_text(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(bad_sum_text);
    tw_t_traced_and_untraced(bad_sum_text_small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_paws_old),     cmocka_unit_test(test_with_fin),
        cmocka_unit_test(test_out_of_order), cmocka_unit_test(test_pure_ack),
        cmocka_unit_test(test_bad_flags),    cmocka_unit_test(test_two_entries),
        cmocka_unit_test(test_bad_sum_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
