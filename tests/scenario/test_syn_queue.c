/*
 * test_syn_queue.c -- half-open connections are bounded (SPEC S8; RFC 9293 3.10.7.2,
 * RFC 4987 3.1; Linux tcp_max_syn_backlog and the listen backlog).
 *
 * SYN cookies are turned off here (syncookies = TW_SYNCOOKIES_OFF, Linux's
 * tcp_syncookies = 0) to see the queues themselves: a SYN beyond the SYN queue, or
 * arriving while the accept queue is full, is dropped unanswered and counted, and costs
 * no memory. Cookies are tested elsewhere.
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 1000u

static int setup(void **state)
{
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.syncookies = TW_SYNCOOKIES_OFF;
    *state = tw_t_new(&cfg);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    tw_t_free(*state);
    return 0;
}

static tw_t *with_syn_backlog(void **state, uint32_t n)
{
    tw_t_free(*state);
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.syncookies = TW_SYNCOOKIES_OFF;
    cfg.syn_backlog = n;
    return *state = tw_t_new(&cfg);
}

/* A SYN from source address `src`, port `sp`; returns our SYN+ACK's sequence number. */
static uint32_t syn_in(tw_t *t, uint32_t src, uint16_t sp)
{
    TW_SEND(t, tw_t_now(t), IN(.src = src, .sport = sp, .flags = TW_SYN, .seq = PEER_ISS));
    tw_t_seg sa = TW_EXPECT(t, OUT(.dst = src, .dport = sp, .flags = TW_SYN | TW_ACK,
                                   .ack = PEER_ISS + 1, .win = 65535, .opts = TW_OPT_MSS,
                                   .mss = 1460, .any = TW_T_ANY_SEQ));
    TW_EXPECT_NOTHING(t);
    return sa.seq;
}

/* The peer of a half-open connection gives up with a RST (S7), freeing it. */
static void rst_in(tw_t *t, uint32_t src, uint16_t sp)
{
    TW_SEND(t, tw_t_now(t), IN(.src = src, .sport = sp, .flags = TW_RST, .seq = PEER_ISS + 1));
    TW_EXPECT_NOTHING(t);
}

/* S8: with syn_backlog 4, four SYNs get SYN+ACKs; a flood of 1000 more from spoofed
   addresses is dropped unanswered and counted, and holds no memory beyond the four.
   When a half-open connection goes, a new SYN is answered again. */
static void test_s08_syn_queue_bounded(void **state)
{
    tw_t *t = with_syn_backlog(state, 4);
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    for (uint16_t i = 0; i < 4; i++) {
        syn_in(t, PEER, (uint16_t)(PPORT + i));
    }
    size_t mem = tw_stack_mem_live(tw_t_stack(t));
    for (uint32_t i = 0; i < 1000; i++) {
        TW_SEND(t, tw_t_now(t), IN(.src = PEER + 1 + i, .sport = (uint16_t)(1024 + i),
                                   .flags = TW_SYN, .seq = i));
    }
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_LISTEN_OVERFLOW), 1000);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_PASSIVE_OPENS), 4);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 4);
    assert_int_equal(tw_stack_mem_live(tw_t_stack(t)), mem);

    rst_in(t, PEER, PPORT);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 3);
    syn_in(t, PEER, 7000);
    TW_SEND(t, tw_t_now(t), IN(.sport = 7001, .flags = TW_SYN, .seq = 5));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_LISTEN_OVERFLOW), 1001);

    for (uint16_t i = 1; i < 4; i++) {
        rst_in(t, PEER, (uint16_t)(PPORT + i));
    }
    rst_in(t, PEER, 7000);
    tw_socket_close(l, tw_t_now(t));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S8, the default bound (syn_backlog 0): the listen backlog, as in Linux 6.x
   (inet_csk_reqsk_queue_is_full: qlen > sk_max_ack_backlog, so backlog + 1 entries, as
   the accept queue; Linux 6.18 held 9 half-open entries for listen(fd, 8), 1 for 0). */
static void test_s08_default_syn_queue_bound(void **state)
{
    tw_t *t = *state;
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    for (uint16_t i = 0; i < 9; i++) {
        syn_in(t, PEER, (uint16_t)(PPORT + i));
    }
    TW_SEND(t, tw_t_now(t), IN(.sport = 9, .flags = TW_SYN, .seq = 5));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_LISTEN_OVERFLOW), 1);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 9);
    for (uint16_t i = 0; i < 9; i++) {
        rst_in(t, PEER, (uint16_t)(PPORT + i));
    }
    tw_socket_close(l, tw_t_now(t));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S8 + S3, the accept queue (listen backlog 1: as in Linux, backlog + 1 = two
   connections may wait, sk_acceptq_is_full): two completed connections wait for
   accept(); a third's final ACK is dropped (Linux, tcp_abort_on_overflow = 0) and it
   stays half-open, and new SYNs are dropped while the queue is full. After accept()
   makes room, the retransmitted SYN+ACK brings the peer's ACK back and it completes. */
static void test_s08_accept_queue_bounded(void **state)
{
    tw_t *t = with_syn_backlog(state, 8); /* room for three half-open: the accept queue is
                                             what this test is about */
    tw_socket *l = tw_t_listen(t, LPORT, 1);
    uint32_t y[3];
    for (uint16_t i = 0; i < 3; i++) {
        y[i] = syn_in(t, PEER, (uint16_t)(PPORT + i));
    }
    tw_time t1 = T0 + TW_MS(100);
    for (uint16_t i = 0; i < 3; i++) {
        TW_SEND(t, t1, IN(.sport = (uint16_t)(PPORT + i), .flags = TW_ACK, .seq = PEER_ISS + 1,
                          .ack = y[i] + 1));
    }
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_LISTEN_OVERFLOW), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_ESTABLISHED), 2);
    assert_true(tw_socket_events(l) & TW_EV_ACCEPTABLE);
    TW_SEND(t, t1, IN(.sport = 9, .flags = TW_SYN, .seq = 5));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_LISTEN_OVERFLOW), 2);

    tw_socket *c[3];
    assert_int_equal(tw_socket_accept(l, &c[0], t1), 0);
    uint16_t p2 = PPORT + 2;
    TW_RUN_TO(t, T0 + TW_SEC(1)); /* the third one's SYN+ACK, again */
    TW_EXPECT(t, OUT(.dport = p2, .flags = TW_SYN | TW_ACK, .seq = y[2], .ack = PEER_ISS + 1,
                     .win = 65535, .opts = TW_OPT_MSS, .mss = 1460));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, T0 + TW_SEC(1) + TW_MS(100),
            IN(.sport = p2, .flags = TW_ACK, .seq = PEER_ISS + 1, .ack = y[2] + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_ESTABLISHED), 3);
    assert_int_equal(tw_socket_accept(l, &c[1], tw_t_now(t)), 0);
    assert_int_equal(tw_socket_accept(l, &c[2], tw_t_now(t)), 0);
    assert_int_equal(tw_socket_accept(l, &c[0], tw_t_now(t)), TW_ERR_AGAIN);
    tw_socket_close(l, tw_t_now(t));
    TW_EXPECT_NOTHING(t);
    for (int i = 0; i < 3; i++) {
        tw_socket_info info;
        tw_socket_info_get(c[i], &info);
        assert_int_equal(info.state, TW_STATE_ESTABLISHED);
        tw_socket_abort(c[i], tw_t_now(t));
        TW_EXPECT(t, OUT(.dport = info.remote_port, .flags = TW_RST | TW_ACK, .seq = info.snd_nxt,
                         .ack = PEER_ISS + 1, .win = 65535));
    }
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S2, S8: a listener that closes drops its own half-open entries silently (found in the
   connection table: tcp_in.c tw_req_close_listener), and only those: another listener's,
   spread over the same table, stay and complete. The closed one's peer then meets no
   connection (RFC 9293 3.10.7.1: a RST for its ACK). */
static void test_s08_listener_close_drops_its_entries_only(void **state)
{
    tw_t *t = with_syn_backlog(state, 8);
    tw_socket *a = tw_t_listen(t, LPORT, 8);
    tw_socket *b = tw_t_listen(t, LPORT + 1, 8);
    uint32_t ya[3], yb[3];
    for (uint16_t i = 0; i < 3; i++) {
        ya[i] = syn_in(t, PEER, (uint16_t)(PPORT + i));
        TW_SEND(t, tw_t_now(t), IN(.sport = (uint16_t)(PPORT + i), .dport = LPORT + 1,
                                   .flags = TW_SYN, .seq = PEER_ISS));
        tw_t_seg sa = TW_EXPECT(t, OUT(.sport = LPORT + 1, .dport = (uint16_t)(PPORT + i),
                                       .flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1,
                                       .win = 65535, .opts = TW_OPT_MSS, .mss = 1460,
                                       .any = TW_T_ANY_SEQ));
        yb[i] = sa.seq;
    }
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 6);
    tw_socket_close(a, tw_t_now(t));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CONN_ABORTED), 3);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 3);
    TW_SEND(t, tw_t_now(t), IN(.sport = PPORT, .flags = TW_ACK, .seq = PEER_ISS + 1,
                               .ack = ya[0] + 1));
    TW_EXPECT(t, OUT(.dport = PPORT, .flags = TW_RST, .seq = ya[0] + 1));
    TW_EXPECT_NOTHING(t);
    tw_socket *c[3];
    for (uint16_t i = 0; i < 3; i++) {
        TW_SEND(t, tw_t_now(t), IN(.sport = (uint16_t)(PPORT + i), .dport = LPORT + 1,
                                   .flags = TW_ACK, .seq = PEER_ISS + 1, .ack = yb[i] + 1));
        TW_EXPECT_NOTHING(t);
        assert_int_equal(tw_socket_accept(b, &c[i], tw_t_now(t)), 0);
    }
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_ESTABLISHED), 3);
    for (int i = 0; i < 3; i++) {
        tw_socket_info info;
        tw_socket_info_get(c[i], &info);
        assert_int_equal(info.state, TW_STATE_ESTABLISHED);
        tw_socket_abort(c[i], tw_t_now(t));
        TW_EXPECT(t, OUT(.sport = LPORT + 1, .dport = info.remote_port,
                         .flags = TW_RST | TW_ACK, .seq = info.snd_nxt, .ack = PEER_ISS + 1,
                         .win = 65535));
    }
    tw_socket_close(b, tw_t_now(t));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S8's limits asked in one test of the listener's (tcp_in.c in_listen_fo, tcp_conn.h
   syn_plain_below), which a Fast Open listener's setting turns off for every listener,
   one made before it too (tw_stack_syn_plain_off): their SYNs then take listen_admit,
   where Fast Open is asked. Seen here through TW_FASTOPEN_SERVER_NO_COOKIE, which asks
   every SYN with data: at a listener without a Fast Open queue it is counted as Fast Open
   off, and only once some listener has one (before that, no listener's SYN asks). */
static void test_s08_fastopen_listener_later(void **state)
{
    tw_t_free(*state);
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.syncookies = TW_SYNCOOKIES_OFF;
    cfg.fastopen = TW_FASTOPEN_SERVER | TW_FASTOPEN_SERVER_NO_COOKIE;
    tw_t *t = *state = tw_t_new(&cfg);
    static const char data[8] = "request";
    tw_socket *a = tw_t_listen(t, LPORT, 8);
    for (uint16_t i = 0; i < 2; i++) {
        if (i == 1) {
            tw_socket *b = tw_t_listen(t, LPORT + 1, 8);
            assert_int_equal(tw_socket_set_fastopen(b, 4), 0);
            tw_socket_close(b, tw_t_now(t));
        }
        TW_SEND(t, tw_t_now(t), IN(.sport = (uint16_t)(PPORT + i), .flags = TW_SYN,
                                   .seq = PEER_ISS, .data = data, .len = 8));
        TW_EXPECT(t, OUT(.dport = (uint16_t)(PPORT + i), .flags = TW_SYN | TW_ACK,
                         .ack = PEER_ISS + 1, .win = 65535, .opts = TW_OPT_MSS, .mss = 1460,
                         .any = TW_T_ANY_SEQ));
        TW_EXPECT_NOTHING(t);
        assert_int_equal(tw_t_counter(t, TW_CNT_TCP_FASTOPEN_PASSIVE_OFF), i);
    }
    tw_socket_close(a, tw_t_now(t));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_s08_syn_queue_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_s08_default_syn_queue_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_s08_accept_queue_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_s08_listener_close_drops_its_entries_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_s08_fastopen_listener_later, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
