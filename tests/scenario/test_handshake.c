/*
 * test_handshake.c -- the three-way handshake, from the listener's and the client's
 * side (SPEC S1-S7, R1; RFC 9293 3.5, 3.10.7.2, 3.10.7.3).
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 1000u

/* S2 (RFC 9293 3.10.7.2): LISTEN + SYN -> SYN+ACK seq=y ack=x+1, child in SYN-RECEIVED,
   listener stays in LISTEN; options answered only as offered (S4). */
static void test_s02_listen_syn_gets_synack(void **state)
{
    tw_t *t = *state;
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    TW_SEND(t, T0, IN(.flags = TW_SYN, .seq = PEER_ISS, .opts = TW_OPT_MSS, .mss = 1400));
    tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1, .win = 65535,
                                   .opts = TW_OPT_MSS, .mss = 1460, .any = TW_T_ANY_SEQ));
    (void)sa;
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(l), TW_STATE_LISTEN);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_PASSIVE_OPENS), 1);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    tw_socket *c;
    assert_int_equal(tw_socket_accept(l, &c, tw_t_now(t)), TW_ERR_AGAIN); /* S3: not yet */
    tw_socket_close(l, tw_t_now(t));
    /* closing the listener drops the half-open child silently, as Linux (6.18, over
       TUN): the peer's next segment draws the RST */
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
}

/* S3 + S5 (RFC 9293 3.10.7.4): the third segment must ack y+1; it may carry data, which
   is delivered once ESTABLISHED; only then does accept() return the connection. */
static void test_s03_s05_third_segment_with_data(void **state)
{
    tw_t *t = *state;
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    TW_SEND(t, T0, IN(.flags = TW_SYN, .seq = PEER_ISS));
    tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1, .win = 65535,
                                   .opts = TW_OPT_MSS, .mss = 1460, .any = TW_T_ANY_SEQ));
    uint32_t y = sa.seq;
    TW_SEND(t, T0 + TW_MS(10), IN(.flags = TW_ACK | TW_PSH, .seq = PEER_ISS + 1, .ack = y + 1,
                                  .data = "GET /", .len = 5));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = y + 1, .ack = PEER_ISS + 6, .any = TW_T_ANY_WIN));
    TW_EXPECT_NOTHING(t);
    tw_socket *c;
    assert_int_equal(tw_socket_accept(l, &c, tw_t_now(t)), 0);
    assert_int_equal(tw_socket_state(c), TW_STATE_ESTABLISHED);
    char buf[16];
    assert_int_equal(tw_socket_recv(c, buf, sizeof buf, tw_t_now(t)), 5);
    assert_memory_equal(buf, "GET /", 5);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_ESTABLISHED), 1);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = y + 1, .ack = PEER_ISS + 6,
                     .any = TW_T_ANY_WIN));
    tw_socket_close(l, tw_t_now(t));
    TW_EXPECT_NOTHING(t);
}

/* S3 (RFC 9293 3.10.7.4 fifth, SYN-RECEIVED): an ACK that does not ack y+1 gets
   <SEQ=SEG.ACK><CTL=RST> and the connection stays half-open. */
static void test_s03_bad_third_ack_gets_rst(void **state)
{
    tw_t *t = *state;
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    TW_SEND(t, T0, IN(.flags = TW_SYN, .seq = PEER_ISS));
    tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1, .win = 65535,
                                   .opts = TW_OPT_MSS, .mss = 1460, .any = TW_T_ANY_SEQ));
    TW_SEND(t, T0 + TW_MS(1), IN(.flags = TW_ACK, .seq = PEER_ISS + 1, .ack = sa.seq + 77));
    TW_EXPECT(t, OUT(.flags = TW_RST, .seq = sa.seq + 77, .ack = 0, .win = 0));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_BAD_ACK), 1);
    tw_socket *c;
    assert_int_equal(tw_socket_accept(l, &c, tw_t_now(t)), TW_ERR_AGAIN);
    tw_socket_close(l, tw_t_now(t));
    TW_EXPECT_NOTHING(t); /* (the half-open entry goes silently) */
}

/* S1 + S3 + S4 (RFC 9293 3.10.7.3): connect sends SYN with our options; SYN+ACK with
   ack=x+1 -> ESTABLISHED and ACK seq=x+1 ack=y+1; options used only when both offered. */
static void test_s01_s03_active_open(void **state)
{
    tw_t *t = *state;
    tw_socket *s = tw_t_connect(t, PEER, PPORT, LPORT);
    tw_t_seg syn = TW_EXPECT(t, OUT(.flags = TW_SYN, .ack = 0, .win = 65535,
                                    .opts = TW_OPT_MSS | TW_OPT_SACK_PERM | TW_OPT_TS |
                                            TW_OPT_WSCALE,
                                    .mss = 1460, .wscale = 7, .ts_ecr = 0,
                                    .any = TW_T_ANY_SEQ | TW_T_ANY_TSVAL));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(s), TW_STATE_SYN_SENT);
    uint32_t x = syn.seq;
    /* The peer offers only MSS 1000: no timestamps, no scaling, no SACK. */
    TW_SEND(t, T0 + TW_MS(20), IN(.flags = TW_SYN | TW_ACK, .seq = PEER_ISS, .ack = x + 1,
                                  .win = 5000, .opts = TW_OPT_MSS, .mss = 1000));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = x + 1, .ack = PEER_ISS + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(s), TW_STATE_ESTABLISHED);
    tw_socket_info info;
    tw_socket_info_get(s, &info);
    assert_int_equal(info.snd_mss, 1000);
    assert_false(info.has_timestamps);
    assert_false(info.has_wscale);
    assert_false(info.has_sack);
    assert_int_equal(info.snd_wnd, 5000);
    assert_true(tw_socket_events(s) & TW_EV_CONNECTED);
    tw_socket_abort(s, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = x + 1, .ack = PEER_ISS + 1, .win = 65535));
}

/* S4: without an MSS option the peer's MSS is 536. */
static void test_s04_no_mss_means_536(void **state)
{
    tw_t *t = *state;
    tw_socket *s = tw_t_connect(t, PEER, PPORT, LPORT);
    tw_t_seg syn = TW_EXPECT(t, OUT(.flags = TW_SYN, .any = TW_T_ANY_SEQ | TW_T_ANY_OPTS,
                                    .win = 65535));
    TW_SEND(t, T0, IN(.flags = TW_SYN | TW_ACK, .seq = PEER_ISS, .ack = syn.seq + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = syn.seq + 1, .ack = PEER_ISS + 1, .win = 65535));
    tw_socket_info info;
    tw_socket_info_get(s, &info);
    assert_int_equal(info.peer_mss, 536);
    assert_int_equal(info.snd_mss, 536);
    tw_socket_abort(s, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = syn.seq + 1, .ack = PEER_ISS + 1,
                     .win = 65535));
}

/* S6: payload on a SYN is neither acknowledged nor delivered. */
static void test_s06_syn_payload_not_buffered(void **state)
{
    tw_t *t = *state;
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    TW_SEND(t, T0, IN(.flags = TW_SYN, .seq = PEER_ISS, .data = "early", .len = 5));
    tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1, .win = 65535,
                                   .opts = TW_OPT_MSS, .mss = 1460, .any = TW_T_ANY_SEQ));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_SYN_DATA_IGNORED), 1);
    TW_SEND(t, T0, IN(.flags = TW_ACK, .seq = PEER_ISS + 1, .ack = sa.seq + 1));
    TW_EXPECT_NOTHING(t);
    tw_socket *c;
    assert_int_equal(tw_socket_accept(l, &c, tw_t_now(t)), 0);
    char buf[8];
    assert_int_equal(tw_socket_recv(c, buf, sizeof buf, tw_t_now(t)), TW_ERR_AGAIN);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = sa.seq + 1, .ack = PEER_ISS + 1,
                     .win = 65535));
    tw_socket_close(l, tw_t_now(t));
}

/* S6 (client side): data on a SYN+ACK is not acknowledged either. */
static void test_s06_synack_payload_not_acked(void **state)
{
    tw_t *t = *state;
    tw_socket *s = tw_t_connect(t, PEER, PPORT, LPORT);
    tw_t_seg syn = TW_EXPECT(t, OUT(.flags = TW_SYN, .any = TW_T_ANY_SEQ | TW_T_ANY_OPTS,
                                    .win = 65535));
    TW_SEND(t, T0, IN(.flags = TW_SYN | TW_ACK, .seq = PEER_ISS, .ack = syn.seq + 1,
                      .data = "hi", .len = 2));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = syn.seq + 1, .ack = PEER_ISS + 1, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_rx_pending(s), 0);
    tw_socket_abort(s, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = syn.seq + 1, .ack = PEER_ISS + 1,
                     .win = 65535));
}

/* S7 (RFC 9293 3.10.7.3, figure 8): a SYN+ACK acking some other SYN gets RST seq=SEG.ACK;
   we stay in SYN-SENT and the real SYN+ACK then completes. */
static void test_s07_stale_synack_gets_rst(void **state)
{
    tw_t *t = *state;
    tw_socket *s = tw_t_connect(t, PEER, PPORT, LPORT);
    tw_t_seg syn = TW_EXPECT(t, OUT(.flags = TW_SYN, .any = TW_T_ANY_SEQ | TW_T_ANY_OPTS,
                                    .win = 65535));
    uint32_t x = syn.seq;
    TW_SEND(t, T0 + TW_MS(50), IN(.flags = TW_SYN | TW_ACK, .seq = 7000, .ack = x + 4242));
    TW_EXPECT(t, OUT(.flags = TW_RST, .seq = x + 4242, .ack = 0, .win = 0));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(s), TW_STATE_SYN_SENT);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_BAD_ACK), 1);
    TW_SEND(t, T0 + TW_MS(100), IN(.flags = TW_SYN | TW_ACK, .seq = PEER_ISS, .ack = x + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = x + 1, .ack = PEER_ISS + 1, .win = 65535));
    assert_int_equal(tw_socket_state(s), TW_STATE_ESTABLISHED);
    tw_socket_abort(s, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = x + 1, .ack = PEER_ISS + 1, .win = 65535));
}

/* S7 (server side): SYN-RECEIVED made by an old duplicate SYN; the client's RST (seq =
   the ack it got) frees the half-open connection; the listener is untouched and the
   real SYN then completes. */
static void test_s07_synrcvd_freed_by_rst(void **state)
{
    tw_t *t = *state;
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    TW_SEND(t, T0, IN(.flags = TW_SYN, .seq = 90));
    tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = 91, .win = 65535,
                                   .opts = TW_OPT_MSS, .mss = 1460, .any = TW_T_ANY_SEQ));
    TW_SEND(t, T0 + TW_MS(1), IN(.flags = TW_RST, .seq = 91));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_SYNRCVD_RST), 1);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    assert_int_equal(tw_socket_state(l), TW_STATE_LISTEN);
    TW_SEND(t, T0 + TW_MS(2), IN(.flags = TW_SYN, .seq = PEER_ISS));
    sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1, .win = 65535,
                          .opts = TW_OPT_MSS, .mss = 1460, .any = TW_T_ANY_SEQ));
    TW_SEND(t, T0 + TW_MS(3), IN(.flags = TW_ACK, .seq = PEER_ISS + 1, .ack = sa.seq + 1));
    TW_EXPECT_NOTHING(t);
    tw_socket *c;
    assert_int_equal(tw_socket_accept(l, &c, tw_t_now(t)), 0);
    tw_socket_close(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = sa.seq + 1, .ack = PEER_ISS + 1,
                     .win = 65535));
    tw_socket_close(l, tw_t_now(t));
}

/* R1 (RFC 9293 3.5 figure 7): simultaneous open. SYN-SENT + SYN -> SYN-RECEIVED and a
   SYN+ACK from the same ISS; the peer's SYN+ACK completes it. */
static void test_r01_simultaneous_open(void **state)
{
    tw_t *t = *state;
    tw_socket *s = tw_t_connect(t, PEER, PPORT, LPORT);
    tw_t_seg syn = TW_EXPECT(t, OUT(.flags = TW_SYN, .any = TW_T_ANY_SEQ | TW_T_ANY_OPTS,
                                    .win = 65535));
    uint32_t x = syn.seq;
    TW_SEND(t, T0 + TW_MS(5), IN(.flags = TW_SYN, .seq = 300));
    TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .seq = x, .ack = 301, .win = 65535,
                     .opts = TW_OPT_MSS, .mss = 1460));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(s), TW_STATE_SYN_RCVD);
    TW_SEND(t, T0 + TW_MS(6), IN(.flags = TW_SYN | TW_ACK, .seq = 300, .ack = x + 1));
    assert_int_equal(tw_socket_state(s), TW_STATE_ESTABLISHED);
    /* Its SYN is old news (below RCV.NXT), answered with an ACK as Linux does. */
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = x + 1, .ack = 301, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_send(s, "x", 1, tw_t_now(t)), 1);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = x + 1, .ack = 301, .win = 65535, .len = 1));
    tw_socket_abort(s, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = x + 2, .ack = 301, .win = 65535));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TW_T_CASE(test_s02_listen_syn_gets_synack),
        TW_T_CASE(test_s03_s05_third_segment_with_data),
        TW_T_CASE(test_s03_bad_third_ack_gets_rst),
        TW_T_CASE(test_s01_s03_active_open),
        TW_T_CASE(test_s04_no_mss_means_536),
        TW_T_CASE(test_s06_syn_payload_not_buffered),
        TW_T_CASE(test_s06_synack_payload_not_acked),
        TW_T_CASE(test_s07_stale_synack_gets_rst),
        TW_T_CASE(test_s07_synrcvd_freed_by_rst),
        TW_T_CASE(test_r01_simultaneous_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
