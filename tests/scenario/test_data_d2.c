/*
 * test_data_d2.c -- SPEC D2: flow control with window scaling, zero windows and persist
 * probes (RFC 9293 3.8.6, 3.10.7.4 fifth step; RFC 7323 2; RFC 1122 4.2.2.17; RFC 5482
 * and issue 6 for the user timeout under a closed window).
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 4999u /* the peer's first data byte is 5000 */

static uint8_t pat[65536];

static int setup(void **state)
{
    for (size_t i = 0; i < sizeof pat; i++) {
        pat[i] = (uint8_t)(i * 13u + 1u + (i >> 9));
    }
    *state = tw_t_new(NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    tw_t_free(*state);
    return 0;
}

/* The peer's pure ACK of our byte `ack` (relative to our first data byte) with window
   field `w`. */
#define PACK(ackoff, w) IN(.flags = TW_ACK, .seq = c.rcv, .ack = c.snd + (ackoff), .win = (w))
/* Our data segment at offset `off`, `n` bytes, window field `w`. */
#define ODATA(fl, off, n, w)                                                                \
    OUT(.flags = (fl), .seq = c.snd + (off), .ack = c.rcv, .win = (w), .len = (n),           \
        .data = pat + (off))

/* Exact timer checks after an input (see TW_SETTLE). */
#define RUN_TO(t, at)                                                                      \
    do {                                                                                   \
        TW_SETTLE(t);                                                                      \
        TW_RUN_TO((t), (at));                                                              \
    } while (0)
#define DEADLINE(t, at)                                                                    \
    do {                                                                                   \
        TW_SETTLE(t);                                                                      \
        TW_EXPECT_DEADLINE((t), (at));                                                     \
    } while (0)

static void abort_idle(tw_t *t, tw_socket *s, uint32_t seq, uint32_t ack, uint16_t win)
{
    tw_socket_abort(s, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = seq, .ack = ack, .win = win));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* D2 (RFC 7323 2.2-2.3): both shifts are used once negotiated. The peer's window field 23
   with its shift 7 means 2944 bytes: exactly two full segments go out, and the 24 bytes
   left are not sent as a runt while data is in flight (RFC 9293 3.8.6.2.1, sender SWS
   avoidance). Our own field is the free buffer >> 7: the default buffer may grow to
   6 MiB (auto-tuning), which takes a shift of 7, as Linux offers. */
static void test_d02_window_scale_both_directions(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .opts = TW_OPT_WSCALE,
                               .peer_wscale = 7, .peer_win = 23);
    assert_int_equal(c.wscale, 7); /* 6 MiB need a shift of 7 */
    tw_socket_info i;
    tw_socket_info_get(c.s, &i);
    assert_true(i.has_wscale);
    assert_int_equal(i.snd_wscale, 7);
    assert_int_equal(i.rcv_wscale, 7);
    assert_int_equal(i.snd_wnd, 23u << 7);
    assert_int_equal(i.rcv_wnd, 131072);

    tw_time t1 = tw_t_now(t);
    assert_int_equal(tw_socket_send(c.s, pat, 6000, t1), 6000);
    TW_EXPECT_EXACT(t, ODATA(TW_ACK, 0, 1460, 1024));
    TW_EXPECT_EXACT(t, ODATA(TW_ACK | TW_PSH, 1460, 1460, 1024));
    TW_EXPECT_NOTHING(t);
    DEADLINE(t, t1 + TW_T_RTO);

    /* The peer acknowledges both and sends 1000 bytes, window again 2944 bytes. */
    TW_SEND(t, t1 + TW_MS(100),
            IN(.flags = TW_ACK, .seq = c.rcv, .ack = c.snd + 2920, .win = 23, .len = 1000));
    TW_EXPECT_EXACT(t, OUT(.flags = TW_ACK, .seq = c.snd + 2920, .ack = c.rcv + 1000,
                           .win = (131072 - 1000) >> 7, .len = 1460, .data = pat + 2920));
    TW_EXPECT_EXACT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = c.snd + 4380, .ack = c.rcv + 1000,
                           .win = (131072 - 1000) >> 7, .len = 1460, .data = pat + 4380));
    TW_EXPECT_NOTHING(t);
    /* A larger window lets the last 160 bytes go. */
    TW_SEND(t, t1 + TW_MS(200),
            IN(.flags = TW_ACK, .seq = c.rcv + 1000, .ack = c.snd + 5840, .win = 512));
    TW_EXPECT_EXACT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = c.snd + 5840, .ack = c.rcv + 1000,
                           .win = (131072 - 1000) >> 7, .len = 160, .data = pat + 5840));
    TW_EXPECT_NOTHING(t);
    tw_socket_info_get(c.s, &i);
    assert_int_equal(i.snd_wnd, 512u << 7);
    TW_SEND(t, t1 + TW_MS(300),
            IN(.flags = TW_ACK, .seq = c.rcv + 1000, .ack = c.snd + 6000, .win = 512));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_NO_DEADLINE(t);
    abort_idle(t, c.s, c.snd + 6000, c.rcv + 1000, (131072 - 1000) >> 7);
}

/* D2 (RFC 7323 2.3): a shift above 14 is taken as 14. */
static void test_d02_window_scale_above_14_is_14(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .opts = TW_OPT_WSCALE,
                               .peer_wscale = 15, .peer_win = 1);
    tw_socket_info i;
    tw_socket_info_get(c.s, &i);
    assert_int_equal(i.snd_wscale, 14);
    assert_int_equal(i.snd_wnd, 1u << 14);
    abort_idle(t, c.s, c.snd, c.rcv, 1024);
}

/* D2 (RFC 9293 3.10.7.4 fifth step): the send window is taken only from segments newer
   than the last update (SND.WL1/SND.WL2). A reordered older ACK that says "window 0"
   changes nothing; sending goes on. */
static void test_d02_old_ack_does_not_shrink_window(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS);
    tw_time t1 = tw_t_now(t);
    assert_int_equal(tw_socket_send(c.s, pat, 2000, t1), 2000);
    TW_EXPECT_EXACT(t, ODATA(TW_ACK, 0, 1460, 65535));
    TW_EXPECT_EXACT(t, ODATA(TW_ACK | TW_PSH, 1460, 540, 65535));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, t1 + TW_MS(100), PACK(2000, 40000));
    TW_EXPECT_NOTHING(t);
    /* The ACK of the first segment was delayed in the network: older ack, window 0. */
    TW_SEND(t, t1 + TW_MS(101), PACK(1460, 0));
    TW_EXPECT_NOTHING(t);
    tw_socket_info i;
    tw_socket_info_get(c.s, &i);
    assert_int_equal(i.snd_wnd, 40000);
    assert_int_equal(tw_socket_send(c.s, pat + 2000, 1000, tw_t_now(t)), 1000);
    TW_EXPECT_EXACT(t, ODATA(TW_ACK | TW_PSH, 2000, 1000, 65535));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(100), PACK(3000, 40000));
    TW_EXPECT_NOTHING(t);
    abort_idle(t, c.s, c.snd + 3000, c.rcv, 65535);
}

/* D2 (RFC 9293 3.8.6, 3.10.7.4 first step; RFC 1122 4.2.2.17): our receive window
   shrinks as data waits unread and reaches zero; a zero-window probe from the peer,
   either with one new byte (BSD style) or at an old sequence number (Linux style), is
   answered with an ACK that repeats the zero window and nothing is taken; reading opens
   the window and a window update goes out once it grew by an MSS (receiver SWS
   avoidance, RFC 9293 3.8.6.2.2). */
static void test_d02_receive_window_closes_and_reopens(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .rcvbuf = 4096);
    assert_int_equal(c.wscale, 0);
    TW_SEND(t, tw_t_now(t) + TW_MS(5), IN(.flags = TW_ACK, .seq = 5000, .ack = c.snd,
                                          .len = 1460, .data = pat));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd, .ack = 6460, .win = 4096 - 1460));
    TW_SEND(t, tw_t_now(t) + TW_MS(1), IN(.flags = TW_ACK, .seq = 6460, .ack = c.snd,
                                          .len = 1460, .data = pat + 1460));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd, .ack = 7920, .win = 4096 - 2920));
    TW_SEND(t, tw_t_now(t) + TW_MS(1), IN(.flags = TW_ACK | TW_PSH, .seq = 7920, .ack = c.snd,
                                          .len = 1176, .data = pat + 2920));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd, .ack = 9096, .win = 0));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_rx_pending(c.s), 4096);

    TW_SEND(t, tw_t_now(t) + TW_MS(200), IN(.flags = TW_ACK, .seq = 9096, .ack = c.snd,
                                            .len = 1, .data = pat + 4096));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd, .ack = 9096, .win = 0));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(400), IN(.flags = TW_ACK, .seq = 9095, .ack = c.snd));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd, .ack = 9096, .win = 0));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_rx_pending(c.s), 4096);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_BYTES_DELIVERED), 4096);

    /* Reading 1000 bytes is less than an MSS of new window: no update yet (SWS). */
    uint8_t b[4096];
    assert_int_equal(tw_socket_recv(c.s, b, 1000, tw_t_now(t)), 1000);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_recv(c.s, b + 1000, 1000, tw_t_now(t)), 1000);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd, .ack = 9096, .win = 2000));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_recv(c.s, b + 2000, sizeof b - 2000, tw_t_now(t)), 2096);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd, .ack = 9096, .win = 4096));
    TW_EXPECT_NOTHING(t);
    assert_memory_equal(b, pat, 4096);
    /* The peer's byte that was refused comes again and is taken now. */
    TW_SEND(t, tw_t_now(t) + TW_MS(1), IN(.flags = TW_ACK, .seq = 9096, .ack = c.snd,
                                          .len = 1, .data = pat + 4096));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd, .ack = 9097, .win = 4095));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_recv(c.s, b, sizeof b, tw_t_now(t)), 1);
    assert_int_equal(b[0], pat[4096]);
    abort_idle(t, c.s, c.snd, 9097, 4096);
}

/* The peer acknowledged our first 1000 bytes 100 ms after they left (a second 100 ms
   sample: RTTVAR 37.5 ms, RTO 100 + max(150, 200) = 300 ms, Linux's floor on the
   variance term) and closed its window; then the application
   queues 2000 bytes at `*p`. */
static tw_t_conn zero_window_with_data(tw_t *t, tw_time *p)
{
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS);
    tw_time t1 = tw_t_now(t);
    assert_int_equal(tw_socket_send(c.s, pat, 1000, t1), 1000);
    TW_EXPECT_EXACT(t, ODATA(TW_ACK | TW_PSH, 0, 1000, 65535));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, t1 + TW_MS(100), PACK(1000, 0));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_NO_DEADLINE(t); /* no data waiting: no persist timer yet */
    tw_socket_info i;
    tw_socket_info_get(c.s, &i);
    assert_int_equal(i.rto, TW_MS(300));
    assert_int_equal(i.snd_wnd, 0);
    *p = t1 + TW_MS(200);
    tw_t_advance(t, *p);
    assert_int_equal(tw_socket_send(c.s, pat + 1000, 2000, *p), 2000);
    TW_EXPECT_NOTHING(t); /* the window is closed */
    assert_int_equal(tw_socket_tx_pending(c.s), 2000);
    return c;
}

/* D2 (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17): with data waiting behind a zero window the
   persist timer sends probes, the first after one RTO (300 ms), then backing off
   exponentially up to rto_max (120 s) and never giving up while the peer answers. A
   probe is, like Linux's, an empty segment at SND.UNA - 1 that the peer must ACK. When
   the window opens, the data goes at once and the persist timer gives way to the RTO. */
static void test_d02_zero_window_probes_back_off_then_reopen(void **state)
{
    tw_t *t = *state;
    tw_time p;
    tw_t_conn c = zero_window_with_data(t, &p);
    static const uint32_t gaps_ms[] = {300,   600,   1200,   2400,   4800,   9600,
                                       19200, 38400, 76800, 120000, 120000, 120000};
    tw_time at = p;
    for (unsigned k = 0; k < sizeof gaps_ms / sizeof gaps_ms[0]; k++) {
        at += TW_MS(gaps_ms[k]);
        RUN_TO(t, at);
        TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd + 999, .ack = c.rcv, .win = 65535));
        TW_EXPECT_NOTHING(t);
        assert_int_equal(tw_t_counter(t, TW_CNT_TCP_PERSIST_PROBE), k + 1);
        /* The peer answers at once, still with a zero window. */
        TW_SEND(t, at, PACK(1000, 0));
        TW_EXPECT_NOTHING(t);
    }
    tw_socket_info i;
    tw_socket_info_get(c.s, &i);
    assert_int_equal(i.persist_probes, 12);
    assert_int_equal(i.total_retrans, 0);
    assert_int_equal(i.rto_count, 0);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RTO_FIRED), 0);
    assert_int_equal(tw_socket_state(c.s), TW_STATE_ESTABLISHED);

    /* The window opens (a pure window update): the queued bytes go now. */
    tw_time o = at + TW_SEC(5);
    TW_SEND(t, o, PACK(1000, 8192));
    TW_EXPECT_EXACT(t, ODATA(TW_ACK, 1000, 1460, 65535));
    TW_EXPECT_EXACT(t, ODATA(TW_ACK | TW_PSH, 2460, 540, 65535));
    TW_EXPECT_NOTHING(t);
    DEADLINE(t, o + TW_MS(300)); /* the RTO, not a probe */
    TW_SEND(t, o + TW_MS(100), PACK(3000, 8192));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_NO_DEADLINE(t);
    assert_int_equal(tw_socket_tx_pending(c.s), 0);
    abort_idle(t, c.s, c.snd + 3000, c.rcv, 65535);
}

/* D2 + issue 6 (RFC 9293 3.8.6.1 and 3.10.8 user timeout; RFC 5482; Linux
   tcp_clamp_probe0_to_user_timeout): a peer that answers every probe but keeps its
   window at zero cannot hold the connection beyond the user timeout: it is aborted with
   TIMEDOUT exactly when the timeout has run since the first probe (Linux's
   icsk_probes_tstamp; it ran from when the window held data back, 300 ms earlier), no
   later probe is sent, and closing the socket then leaves nothing behind. */
static void test_d02_zero_window_forever_user_timeout(void **state)
{
    tw_t *t = *state;
    tw_time p;
    tw_t_conn c = zero_window_with_data(t, &p);
    assert_int_equal(tw_socket_set_user_timeout(c.s, TW_SEC(10)), 0);
    tw_time at = p;
    static const uint32_t gaps_ms[] = {300, 600, 1200, 2400, 4800};
    for (unsigned k = 0; k < sizeof gaps_ms / sizeof gaps_ms[0]; k++) {
        at += TW_MS(gaps_ms[k]);
        RUN_TO(t, at);
        TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd + 999, .ack = c.rcv, .win = 65535));
        TW_EXPECT_NOTHING(t);
        TW_SEND(t, at, PACK(1000, 0));
        TW_EXPECT_NOTHING(t);
    }
    /* The next probe would be due at p + 18.9 s; the user timeout ends 10 s after the
       first probe, at p + 10.3 s. */
    RUN_TO(t, p + TW_MS(10300));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c.s), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(c.s), TW_ERR_TIMEDOUT);
    assert_true(tw_socket_events(c.s) & TW_EV_ERROR);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_USER_TIMEDOUT), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CONN_TIMEDOUT), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_PERSIST_PROBE), 5);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    TW_EXPECT_NO_DEADLINE(t);
    assert_int_equal(tw_socket_send(c.s, "x", 1, tw_t_now(t)), TW_ERR_TIMEDOUT);
    /* A late window update finds no connection. */
    TW_SEND(t, tw_t_now(t) + TW_SEC(1), PACK(1000, 8192));
    TW_EXPECT(t, OUT(.flags = TW_RST, .seq = c.snd + 1000, .ack = 0, .win = 0));
    TW_EXPECT_NOTHING(t);
    tw_socket_close(c.s, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

/* D2 (RFC 1122 4.2.2.17 allows a closed window for ever only while the peer answers the
   probes; Linux's probe timer): a peer that vanished behind a zero window answers no
   probe; after `retries` unanswered probes (3 here) the next expiry fails the
   connection with TIMEDOUT, without a further probe. */
static void test_d02_zero_window_unanswered_probes_time_out(void **state)
{
    tw_t_free(*state);
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.retries = 3;
    tw_t *t = *state = tw_t_new(&cfg);
    tw_time p;
    tw_t_conn c = zero_window_with_data(t, &p);
    static const uint32_t at_ms[] = {300, 900, 2100};
    for (unsigned k = 0; k < 3; k++) {
        RUN_TO(t, p + TW_MS(at_ms[k]));
        TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd + 999, .ack = c.rcv, .win = 65535));
        TW_EXPECT_NOTHING(t);
    }
    RUN_TO(t, p + TW_MS(4500));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c.s), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(c.s), TW_ERR_TIMEDOUT);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_PERSIST_PROBE), 3);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CONN_TIMEDOUT), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_USER_TIMEDOUT), 0);
    TW_EXPECT_NO_DEADLINE(t);
    tw_socket_close(c.s, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

/* D2 + issue 6 (RFC 9293 3.10.8; RFC 6429 lets a sender in persist give up): the
   application closed its socket with 2000 bytes and the FIN still queued behind a zero
   window. The orphan keeps probing, the peer keeps answering "window 0", and the user
   timeout still bounds it: 10 s after the first probe (p + 10.3 s, as Linux counts it)
   the orphan is gone and every byte it held is free. */
static void test_d02_orphan_behind_zero_window_freed_at_user_timeout(void **state)
{
    tw_t *t = *state;
    tw_time p;
    tw_t_conn c = zero_window_with_data(t, &p);
    assert_int_equal(tw_socket_set_user_timeout(c.s, TW_SEC(10)), 0);
    tw_t_advance(t, p + TW_MS(100));
    assert_int_equal(tw_socket_close(c.s, tw_t_now(t)), 0);
    TW_EXPECT_NOTHING(t); /* the FIN waits behind the data */
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 1);
    tw_time at = p;
    static const uint32_t gaps_ms[] = {300, 600, 1200, 2400, 4800};
    for (unsigned k = 0; k < sizeof gaps_ms / sizeof gaps_ms[0]; k++) {
        at += TW_MS(gaps_ms[k]);
        RUN_TO(t, at);
        TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd + 999, .ack = c.rcv, .win = 65535));
        TW_EXPECT_NOTHING(t);
        TW_SEND(t, at, PACK(1000, 0));
        TW_EXPECT_NOTHING(t);
    }
    RUN_TO(t, p + TW_MS(10300));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_USER_TIMEDOUT), 1);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    TW_ASSERT_IDLE(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_d02_window_scale_both_directions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d02_window_scale_above_14_is_14, setup, teardown),
        cmocka_unit_test_setup_teardown(test_d02_old_ack_does_not_shrink_window, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d02_receive_window_closes_and_reopens, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d02_zero_window_probes_back_off_then_reopen,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_d02_zero_window_forever_user_timeout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d02_zero_window_unanswered_probes_time_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d02_orphan_behind_zero_window_freed_at_user_timeout,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
