/*
 * test_api_misuse.c -- the socket API refuses misuse with a clear TW_ERR_* and changes
 * nothing (tcpwave.h's conventions): NULL pointers, calls in the wrong state, arguments
 * out of range, and calls made from inside a hook (TW_ERR_BUSY). Each refusal is counted
 * (API_REFUSED), sends nothing, leaks nothing, and the socket stays usable for a correct
 * call afterwards.
 */
#include "tw_test.h"

#include <string.h>

/* NULL where a pointer is required: TW_ERR_INVAL; the read-only queries answer a neutral
   value instead of crashing. */
static void test_api_null_pointers(void **state)
{
    tw_t *t = *state;
    tw_stack *st = tw_t_stack(t);
    tw_time now = tw_t_now(t);
    tw_socket *s = NULL;
    uint8_t buf[8] = {0};

    assert_int_equal(tw_socket_open(NULL, &s), TW_ERR_INVAL);
    assert_int_equal(tw_socket_open(st, NULL), TW_ERR_INVAL);
    assert_int_equal(tw_socket_bind(NULL, 80), TW_ERR_INVAL);
    assert_int_equal(tw_socket_set_reuseaddr(NULL, true), TW_ERR_INVAL);
    assert_int_equal(tw_socket_listen(NULL, 4, now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_accept(NULL, &s, now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_connect(NULL, PEER, 80, now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_send(NULL, buf, sizeof(buf), now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_recv(NULL, buf, sizeof(buf), now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_shutdown(NULL, TW_SHUT_WR, now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_close(NULL, now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_abort(NULL, now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_set_linger0(NULL, true), TW_ERR_INVAL);
    assert_int_equal(tw_socket_set_bufsizes(NULL, 4096, 4096), TW_ERR_INVAL);
    assert_int_equal(tw_socket_set_mss(NULL, 1000), TW_ERR_INVAL);
    assert_int_equal(tw_socket_set_nodelay(NULL, true), TW_ERR_INVAL);
    assert_int_equal(tw_socket_set_cork(NULL, true), TW_ERR_INVAL);
    assert_int_equal(tw_socket_send_flags(NULL, buf, sizeof(buf), TW_MSG_MORE, now),
                     TW_ERR_INVAL);
    assert_int_equal(tw_socket_set_keepalive(NULL, true, 0, 0, 0), TW_ERR_INVAL);
    assert_int_equal(tw_socket_set_user_timeout(NULL, TW_SEC(5)), TW_ERR_INVAL);
    assert_int_equal(tw_socket_set_tos(NULL, 0xb8), TW_ERR_INVAL);
    assert_int_equal(tw_socket_set_cc(NULL, TW_CC_NEWRENO), TW_ERR_INVAL);
    assert_int_equal(tw_socket_info_get(NULL, NULL), TW_ERR_INVAL);
    assert_int_equal(tw_socket_error(NULL), TW_ERR_INVAL);
    assert_int_equal(tw_socket_events(NULL), 0);
    assert_int_equal(tw_socket_state(NULL), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_rx_pending(NULL), 0);
    assert_int_equal(tw_socket_tx_pending(NULL), 0);
    tw_socket_set_user(NULL, buf);
    assert_null(tw_socket_user(NULL));
    assert_int_equal(tw_stack_input(NULL, buf, sizeof(buf), now), TW_ERR_INVAL);
    assert_int_equal(tw_stack_input(st, NULL, 20, now), TW_ERR_INVAL);
    assert_int_equal(tw_stack_on_timeout(NULL, now), TW_ERR_INVAL);

    /* The socket's own buffers: NULL only with a length of 0. */
    assert_int_equal(tw_socket_open(st, &s), TW_OK);
    assert_int_equal(tw_socket_send(s, NULL, 10, now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_recv(s, NULL, 10, now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_accept(s, NULL, now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_info_get(s, NULL), TW_ERR_INVAL);
    assert_int_equal(tw_socket_send(s, NULL, 0, now), TW_ERR_NOTCONN);
    assert_int_equal(tw_socket_recv(s, NULL, 0, now), TW_ERR_NOTCONN);
    assert_int_equal(tw_socket_close(s, now), TW_OK);

    /* Descriptions never NULL, unknown values named as such. */
    assert_string_equal(tw_strerror(12345), "unknown error");
    assert_string_equal(tw_error_name(12345), "?");
    assert_string_equal(tw_counter_name((enum tw_counter)9999), "?");
    assert_int_equal(tw_stack_counter(st, (enum tw_counter)9999), 0);
    assert_int_equal(tw_stack_counter(NULL, TW_CNT_TX_PACKETS), 0);

    /* Counted where there is a stack to count on: open(st, NULL), input(st, NULL), and
       the six calls on `s`; the calls with no socket or stack have none. */
    assert_int_equal(tw_t_counter(t, TW_CNT_API_REFUSED), 8);
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* A fresh socket: only bind, connect, listen (after bind) and the settings make sense. */
static int drop_tx(const uint8_t *pkt, size_t len, void *ud)
{
    (void)pkt;
    (void)len;
    (void)ud;
    return 0;
}

/* tw_stack_new's answer for cfg and dev; a stack it makes is freed at once. */
static int stack_new_result(const tw_config *cfg, const tw_netdev *dev)
{
    tw_stack *st = NULL;
    int r = tw_stack_new(&st, cfg, dev, 0);
    if (r == TW_OK) {
        assert_non_null(st);
        tw_stack_free(st);
    } else {
        assert_null(st);
    }
    return r;
}

/* Configuration out of range is refused with TW_ERR_INVAL, not taken and wrapped: an
   initial window past TW_INITIAL_CWND_MAX segments (cwnd in bytes is a 32-bit count), a
   SYN backlog past TW_SYN_BACKLOG_MAX (a listener's 16-bit count of its SYN queue), an
   MTU below 576 (RFC 791/1122: every host takes 576-byte datagrams). */
static void test_api_config_bounds(void **state)
{
    (void)state;
    tw_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.addr = 0x0a000001u;
    tw_netdev dev = {.transmit = drop_tx, .ud = NULL, .mtu = 1500};
    cfg.initial_cwnd = TW_INITIAL_CWND_MAX + 1;
    assert_int_equal(stack_new_result(&cfg, &dev), TW_ERR_INVAL);
    cfg.initial_cwnd = 3000000u; /* (times an MSS of 1448 wraps 32 bits) */
    assert_int_equal(stack_new_result(&cfg, &dev), TW_ERR_INVAL);
    cfg.initial_cwnd = TW_INITIAL_CWND_MAX;
    assert_int_equal(stack_new_result(&cfg, &dev), TW_OK);
    cfg.initial_cwnd = 0; /* the default */
    cfg.syn_backlog = TW_SYN_BACKLOG_MAX + 1;
    assert_int_equal(stack_new_result(&cfg, &dev), TW_ERR_INVAL);
    cfg.syn_backlog = TW_SYN_BACKLOG_MAX;
    assert_int_equal(stack_new_result(&cfg, &dev), TW_OK);
    cfg.syn_backlog = 0;
    dev.mtu = 575;
    assert_int_equal(stack_new_result(&cfg, &dev), TW_ERR_INVAL);
}

static void test_api_fresh_socket_wrong_calls(void **state)
{
    tw_t *t = *state;
    tw_stack *st = tw_t_stack(t);
    tw_time now = tw_t_now(t);
    tw_socket *s, *other = NULL;
    uint8_t buf[8] = {0};
    assert_int_equal(tw_socket_open(st, &s), TW_OK);

    assert_int_equal(tw_socket_accept(s, &other, now), TW_ERR_STATE);
    assert_null(other);
    assert_int_equal(tw_socket_send(s, buf, sizeof(buf), now), TW_ERR_NOTCONN);
    assert_int_equal(tw_socket_recv(s, buf, sizeof(buf), now), TW_ERR_NOTCONN);
    assert_int_equal(tw_socket_shutdown(s, TW_SHUT_WR, now), TW_ERR_NOTCONN);
    assert_int_equal(tw_socket_shutdown(s, 7, now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_shutdown(s, -1, now), TW_ERR_INVAL);
    /* Arguments out of range. */
    assert_int_equal(tw_socket_set_bufsizes(s, 10, 0), TW_ERR_INVAL);
    assert_int_equal(tw_socket_set_bufsizes(s, 0, 64u << 20), TW_ERR_INVAL);
    assert_int_equal(tw_socket_set_mss(s, 10), TW_ERR_INVAL);
    assert_int_equal(tw_socket_set_cc(s, (tw_cc_algo)99), TW_ERR_INVAL);
    /* Destinations no segment may go to (RFC 1122 4.2.3.10 for the SYN's address). */
    assert_int_equal(tw_socket_connect(s, 0, 80, now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_connect(s, PEER, 0, now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_connect(s, LOCAL, 80, now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_connect(s, 0xffffffffu, 80, now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_connect(s, 0xe0000001u, 80, now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_connect(s, 0x7f000001u, 80, now), TW_ERR_INVAL); /* 127/8 */
    assert_int_equal(tw_socket_state(s), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(s), 0);
    assert_int_equal(tw_t_counter(t, TW_CNT_API_REFUSED), 16);
    TW_EXPECT_NOTHING(t);

    /* None of that changed anything: a correct connect still works. */
    assert_int_equal(tw_socket_connect(s, PEER, PPORT, now), TW_OK);
    TW_EXPECT(t, OUT(.flags = TW_SYN, .any = TW_T_ANY_SEQ | TW_T_ANY_PORT | TW_T_ANY_OPTS |
                                               TW_T_ANY_WIN));
    assert_int_equal(tw_socket_abort(s, now), TW_OK);
    TW_EXPECT_NOTHING(t); /* (nothing was synchronized: no RST for a SYN-SENT abort) */
    TW_ASSERT_IDLE(t);
}

/* listen() on a socket bound to no port binds a free ephemeral one first, as Linux's
   inet_autobind does (it was refused with TW_ERR_STATE); the port is then the
   listener's: bind() to it is refused, a SYN to it is answered. */
static void test_api_listen_autobinds(void **state)
{
    tw_t *t = *state;
    tw_stack *st = tw_t_stack(t);
    tw_time now = tw_t_now(t);
    tw_socket *l, *b, *c = NULL;
    tw_socket_info info;
    assert_int_equal(tw_socket_open(st, &l), TW_OK);
    assert_int_equal(tw_socket_listen(l, 4, now), TW_OK);
    assert_int_equal(tw_socket_state(l), TW_STATE_LISTEN);
    assert_int_equal(tw_socket_info_get(l, &info), TW_OK);
    assert_true(info.local_port >= 32768 && info.local_port <= 60999);
    assert_int_equal(tw_socket_open(st, &b), TW_OK);
    assert_int_equal(tw_socket_set_reuseaddr(b, true), TW_OK);
    assert_int_equal(tw_socket_bind(b, info.local_port), TW_ERR_ADDRINUSE);
    assert_int_equal(tw_socket_close(b, now), TW_OK);
    TW_SEND(t, now, IN(.flags = TW_SYN, .seq = 1000, .dport = info.local_port));
    tw_t_seg synack;
    assert_true(tw_t_pop(t, &synack));
    assert_int_equal(synack.flags, TW_SYN | TW_ACK);
    assert_int_equal(synack.sport, info.local_port);
    TW_SEND(t, now, IN(.flags = TW_ACK, .seq = 1001, .ack = synack.seq + 1,
                       .dport = info.local_port));
    assert_int_equal(tw_socket_accept(l, &c, now), TW_OK);
    assert_int_equal(tw_t_counter(t, TW_CNT_API_REFUSED), 0);
    assert_int_equal(tw_socket_abort(c, now), TW_OK);
    assert_int_equal(tw_socket_close(l, now), TW_OK);
    tw_t_seg rst;
    assert_true(tw_t_pop(t, &rst));
    assert_int_equal(rst.flags & TW_RST, TW_RST);
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* shutdown(SHUT_RD) on a listener stops it listening, as Linux's does (it was
   TW_ERR_NOTCONN): the connection waiting in its accept queue is reset, accept() is then
   refused, a new SYN to the port is answered with RST, and the socket, still bound to
   its port, listens again. */
static void test_api_shutdown_listener(void **state)
{
    tw_t *t = *state;
    tw_stack *st = tw_t_stack(t);
    tw_time now = tw_t_now(t);
    tw_socket *l, *c = NULL;
    assert_int_equal(tw_socket_open(st, &l), TW_OK);
    assert_int_equal(tw_socket_bind(l, LPORT), TW_OK);
    assert_int_equal(tw_socket_listen(l, 4, now), TW_OK);
    TW_SEND(t, now, IN(.flags = TW_SYN, .seq = 1000));
    tw_t_seg synack;
    assert_true(tw_t_pop(t, &synack));
    TW_SEND(t, now, IN(.flags = TW_ACK, .seq = 1001, .ack = synack.seq + 1));
    assert_int_equal(tw_stack_conn_count(st), 1);
    assert_int_equal(tw_socket_shutdown(l, TW_SHUT_RD, now), TW_OK);
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = synack.seq + 1, .ack = 1001,
                     .any = TW_T_ANY_WIN));
    assert_int_equal(tw_stack_conn_count(st), 0);
    assert_int_equal(tw_socket_state(l), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_accept(l, &c, now), TW_ERR_STATE);
    assert_null(c);
    assert_int_equal(tw_socket_shutdown(l, TW_SHUT_RD, now), TW_ERR_NOTCONN);
    TW_SEND(t, now, IN(.flags = TW_SYN, .seq = 5000));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = 0, .ack = 5001, .win = 0));
    assert_int_equal(tw_socket_listen(l, 4, now), TW_OK);
    TW_SEND(t, now, IN(.flags = TW_SYN, .seq = 7000));
    assert_true(tw_t_pop(t, &synack));
    assert_int_equal(synack.flags, TW_SYN | TW_ACK);
    assert_int_equal(synack.ack, 7001);
    assert_int_equal(tw_socket_close(l, now), TW_OK);
    TW_EXPECT_NOTHING(t); /* (the half-open one goes silently, as on Linux) */
    TW_ASSERT_IDLE(t);
}

/* Bound, listening and connecting sockets refuse what their state does not allow. */
static void test_api_state_errors(void **state)
{
    tw_t *t = *state;
    tw_stack *st = tw_t_stack(t);
    tw_time now = tw_t_now(t);
    uint8_t buf[8] = {0};
    tw_socket *a, *b, *got = NULL;

    assert_int_equal(tw_socket_open(st, &a), TW_OK);
    assert_int_equal(tw_socket_bind(a, LPORT), TW_OK);
    assert_int_equal(tw_socket_bind(a, LPORT + 1), TW_ERR_STATE); /* bound already */
    assert_int_equal(tw_socket_open(st, &b), TW_OK);
    assert_int_equal(tw_socket_bind(b, LPORT), TW_ERR_ADDRINUSE);
    /* SO_REUSEADDR after bind (not misuse: Linux takes it): it weighs in the binds that
       follow. With it on both, b shares the port until a listens; then b is refused
       again and let go. */
    assert_int_equal(tw_socket_set_reuseaddr(b, true), TW_OK);
    assert_int_equal(tw_socket_bind(b, LPORT), TW_ERR_ADDRINUSE); /* a has not set it */
    assert_int_equal(tw_socket_set_reuseaddr(a, true), TW_OK);
    assert_int_equal(tw_socket_bind(b, LPORT), TW_OK);
    assert_int_equal(tw_socket_close(b, now), TW_OK);
    assert_int_equal(tw_socket_set_reuseaddr(a, false), TW_OK);
    assert_int_equal(tw_socket_open(st, &b), TW_OK);
    assert_int_equal(tw_socket_set_reuseaddr(b, true), TW_OK);
    assert_int_equal(tw_socket_bind(b, LPORT), TW_ERR_ADDRINUSE); /* a cleared it */
    assert_int_equal(tw_socket_listen(a, -1, now), TW_ERR_INVAL); /* (0 is Linux's one) */
    assert_int_equal(tw_socket_listen(a, 70000, now), TW_ERR_INVAL);
    assert_int_equal(tw_socket_listen(a, 4, now), TW_OK);
    /* listen() again sets a new backlog, as on Linux (inet_listen); not misuse. */
    assert_int_equal(tw_socket_listen(a, 2, now), TW_OK);
    assert_int_equal(tw_socket_listen(a, -1, now), TW_ERR_INVAL); /* (0 is Linux's one) */
    assert_int_equal(tw_socket_connect(a, PEER, PPORT, now), TW_ERR_STATE);
    assert_int_equal(tw_socket_send(a, buf, sizeof(buf), now), TW_ERR_STATE);
    assert_int_equal(tw_socket_recv(a, buf, sizeof(buf), now), TW_ERR_STATE);
    assert_int_equal(tw_socket_shutdown(a, TW_SHUT_WR, now), TW_OK); /* (Linux: nothing) */
    /* (not misuse: a listener's MSS and buffer sizes apply to the connections it takes
       from then on) */
    assert_int_equal(tw_socket_set_bufsizes(a, 4096, 4096), TW_OK);
    assert_int_equal(tw_socket_set_mss(a, 1000), TW_OK);
    assert_int_equal(tw_socket_accept(a, &got, now), TW_ERR_AGAIN); /* not misuse */
    assert_null(got);
    assert_int_equal(tw_socket_state(a), TW_STATE_LISTEN);

    /* A connecting socket: no second connect, no listen, no more settings of the
       handshake; send is allowed (S5: it leaves with the third segment). */
    assert_int_equal(tw_socket_connect(b, PEER, PPORT, now), TW_OK);
    TW_EXPECT(t, OUT(.flags = TW_SYN, .any = TW_T_ANY_SEQ | TW_T_ANY_PORT | TW_T_ANY_OPTS |
                                               TW_T_ANY_WIN));
    assert_int_equal(tw_socket_connect(b, PEER, PPORT, now), TW_ERR_STATE);
    assert_int_equal(tw_socket_bind(b, 9), TW_ERR_STATE);
    assert_int_equal(tw_socket_listen(b, 4, now), TW_ERR_STATE);
    assert_int_equal(tw_socket_set_mss(b, 1000), TW_ERR_STATE);
    assert_int_equal(tw_socket_set_bufsizes(b, 4096, 4096), TW_OK); /* (as Linux allows) */
    assert_int_equal(tw_socket_recv(b, buf, sizeof(buf), now), TW_ERR_AGAIN);
    assert_int_equal(tw_socket_send(b, buf, sizeof(buf), now), (tw_ssize)sizeof(buf));
    assert_int_equal(tw_t_counter(t, TW_CNT_API_REFUSED), 11);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(b), TW_STATE_SYN_SENT);
    assert_int_equal(tw_socket_close(b, now), TW_OK);
    assert_int_equal(tw_socket_close(a, now), TW_OK);
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* After the peer reset the connection: the error is reported, and further sends say so
   instead of queueing data that can never leave. */
static void test_api_after_reset(void **state)
{
    tw_t *t = *state;
    uint32_t iss;
    tw_socket *c = TW_PASSIVE_OPEN(t, 1000, &iss);
    tw_time now = tw_t_now(t);
    TW_SEND(t, now, IN(.flags = TW_RST | TW_ACK, .seq = 1001, .ack = iss + 1));
    uint8_t buf[8] = {0};
    assert_true(tw_socket_events(c) & TW_EV_ERROR);
    assert_int_equal(tw_socket_error(c), TW_ERR_RESET);
    assert_int_equal(tw_socket_send(c, buf, sizeof(buf), now), TW_ERR_RESET);
    assert_int_equal(tw_socket_recv(c, buf, sizeof(buf), now), TW_ERR_RESET);
    assert_int_equal(tw_socket_connect(c, PEER, PPORT, now), TW_ERR_STATE);
    assert_int_equal(tw_socket_shutdown(c, TW_SHUT_WR, now), TW_ERR_NOTCONN);
    /* The reset is the network's doing, not misuse; connect and shutdown are. */
    assert_int_equal(tw_t_counter(t, TW_CNT_API_REFUSED), 2);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_close(c, now), TW_OK);
    TW_ASSERT_IDLE(t);
}

/* Calls from inside a hook get TW_ERR_BUSY and do nothing (tcpwave.h: no function may be
   called from a hook on the same stack). The notify hook here tries every call that
   changes something, once, when the connection becomes readable. */
struct reentry {
    tw_stack *st;
    tw_socket *s;
    bool tried;
    int rc[19];
};

static void reenter(tw_socket *s, unsigned ev, void *ud)
{
    struct reentry *r = ud;
    if (r->tried || s != r->s || !(ev & TW_EV_READABLE)) {
        return;
    }
    r->tried = true;
    uint8_t buf[8] = {0};
    tw_socket *x = NULL;
    tw_time now = TW_SEC(100);
    int i = 0;
    r->rc[i++] = (int)tw_socket_send(s, buf, sizeof(buf), now);
    r->rc[i++] = (int)tw_socket_recv(s, buf, sizeof(buf), now);
    r->rc[i++] = tw_socket_shutdown(s, TW_SHUT_WR, now);
    r->rc[i++] = tw_socket_close(s, now);
    r->rc[i++] = tw_socket_abort(s, now);
    r->rc[i++] = tw_socket_open(r->st, &x);
    r->rc[i++] = tw_stack_on_timeout(r->st, now);
    r->rc[i++] = tw_stack_input(r->st, buf, sizeof(buf), now);
    r->rc[i++] = tw_socket_set_nodelay(s, true);
    r->rc[i++] = tw_socket_set_keepalive(s, true, 0, 0, 0);
    r->rc[i++] = tw_socket_set_cc(s, TW_CC_NEWRENO);
    r->rc[i++] = tw_socket_set_linger0(s, true);
    r->rc[i++] = tw_socket_set_user_timeout(s, TW_SEC(1));
    r->rc[i++] = tw_socket_set_bufsizes(s, 4096, 4096);
    r->rc[i++] = tw_socket_set_mss(s, 1000);
    r->rc[i++] = tw_socket_set_reuseaddr(s, true);
    r->rc[i++] = tw_socket_set_cork(s, true);
    r->rc[i++] = (int)tw_socket_send_flags(s, buf, sizeof(buf), TW_MSG_MORE, now);
    r->rc[i++] = tw_socket_set_tos(s, 0xb8);
}

/* A passive open's child takes its listener's congestion control (tw_socket_set_cc on
   the listener), as Linux's child takes its listener's, whatever the stack's default:
   both ways, against each default. */
static void test_api_child_takes_listener_cc(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        tw_config cfg;
        tw_config_init(&cfg);
        cfg.cc = d ? TW_CC_NEWRENO : TW_CC_CUBIC;
        tw_cc_algo want = d ? TW_CC_CUBIC : TW_CC_NEWRENO;
        tw_t *t = tw_t_new(&cfg);
        tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = 1000, .cc = want);
        tw_socket_info info;
        assert_int_equal(tw_socket_info_get(c.s, &info), 0);
        assert_int_equal(info.cc, want);
        tw_t_free(t);
    }
}

static void test_api_busy_from_hook(void **state)
{
    (void)state;
    static struct reentry r;
    memset(&r, 0, sizeof(r));
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.notify = reenter;
    cfg.notify_ud = &r;
    tw_t *t = tw_t_new(&cfg);
    r.st = tw_t_stack(t);
    uint32_t iss;
    r.s = TW_PASSIVE_OPEN(t, 1000, &iss);
    tw_time now = tw_t_now(t);
    TW_SEND(t, now, IN(.flags = TW_ACK | TW_PSH, .seq = 1001, .ack = iss + 1, .len = 10));
    assert_true(r.tried);
    for (int i = 0; i < 19; i++) {
        if (r.rc[i] != TW_ERR_BUSY) {
            fail_msg("call %d from the notify hook returned %d, not TW_ERR_BUSY", i, r.rc[i]);
        }
    }
    assert_int_equal(tw_t_counter(t, TW_CNT_API_REFUSED), 19);
    /* Nothing happened: the data is still there, the connection open, no FIN, no RST,
       no setting changed. */
    tw_socket_info info;
    assert_int_equal(tw_socket_info_get(r.s, &info), TW_OK);
    assert_int_equal(info.state, TW_STATE_ESTABLISHED);
    assert_int_equal(info.rx_pending, 10);
    assert_false(info.nodelay);
    assert_false(info.keepalive);
    assert_false(info.cork);
    assert_int_equal(info.cc, TW_CC_CUBIC);
    uint8_t buf[16];
    assert_int_equal(tw_socket_recv(r.s, buf, sizeof(buf), now), 10);
    tw_t_advance(t, now + TW_MS(200));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = iss + 1, .ack = 1011, .any = TW_T_ANY_WIN));
    TW_EXPECT_NOTHING(t);
    /* linger0 was refused too: a close now is the orderly one (FIN, no RST). */
    assert_int_equal(tw_socket_close(r.s, now + TW_MS(200)), TW_OK);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = iss + 1, .ack = 1011, .any = TW_T_ANY_WIN));
    TW_SEND(t, now + TW_MS(300), IN(.flags = TW_FIN | TW_ACK, .seq = 1011, .ack = iss + 2));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = iss + 2, .ack = 1012, .any = TW_T_ANY_WIN));
    tw_t_free(t);
}

/* TCP Fast Open's calls (RFC 7413): NULLs, a negative queue length, the wrong states and
   a client with Fast Open turned off are refused, counted, and change nothing: the
   socket connects normally afterwards. */
static void test_api_fastopen_misuse(void **state)
{
    tw_t *t = *state;
    tw_stack *st = tw_t_stack(t);
    tw_time now = tw_t_now(t);
    uint8_t buf[8] = {0};
    assert_int_equal(tw_socket_set_fastopen(NULL, 4), TW_ERR_INVAL);
    assert_int_equal(tw_socket_connect_send(NULL, PEER, 80, buf, 1, now), TW_ERR_INVAL);
    assert_int_equal(tw_stack_fastopen_cookie(NULL, PEER, NULL, 0), 0);
    assert_int_equal(tw_stack_fastopen_cookie(st, PEER, buf, sizeof(buf)), 0);
    uint8_t key[16] = {1};
    assert_int_equal(tw_stack_set_fastopen_key(NULL, key, NULL), TW_ERR_INVAL);
    assert_int_equal(tw_stack_set_fastopen_key(st, NULL, NULL), TW_ERR_INVAL);
    tw_socket *s, *l;
    assert_int_equal(tw_socket_open(st, &s), TW_OK);
    uint64_t refused = tw_t_counter(t, TW_CNT_API_REFUSED);
    assert_int_equal(tw_socket_set_fastopen(s, -1), TW_ERR_INVAL);
    assert_int_equal(tw_socket_connect_send(s, PEER, 80, NULL, 1, now), TW_ERR_INVAL);
    assert_int_equal(tw_t_counter(t, TW_CNT_API_REFUSED), refused + 2);
    /* a listener: no connect_send; set_fastopen is its setting */
    assert_int_equal(tw_socket_open(st, &l), TW_OK);
    assert_int_equal(tw_socket_bind(l, 80), TW_OK);
    assert_int_equal(tw_socket_listen(l, 4, now), TW_OK);
    assert_int_equal(tw_socket_set_fastopen(l, 4), TW_OK);
    assert_int_equal(tw_socket_connect_send(l, PEER, 80, buf, 1, now), TW_ERR_STATE);
    TW_EXPECT_NOTHING(t);
    /* a connection: neither */
    assert_int_equal(tw_socket_connect(s, PEER, 80, now), TW_OK);
    tw_t_seg syn;
    assert_true(tw_t_pop(t, &syn)); /* (its SYN) */
    assert_int_equal(syn.flags, TW_SYN);
    assert_int_equal(tw_socket_set_fastopen(s, 4), TW_ERR_STATE);
    assert_int_equal(tw_socket_connect_send(s, PEER, 80, buf, 1, now), TW_ERR_STATE);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_close(s, now), TW_OK);
    assert_int_equal(tw_socket_close(l, now), TW_OK);
}

/* A client with Fast Open off (tw_config.fastopen without TW_FASTOPEN_CLIENT): as Linux's
   sendto(MSG_FASTOPEN), TW_ERR_OPNOTSUPP, nothing sent. */
static void test_api_fastopen_client_off(void **state)
{
    (void)state;
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.fastopen = 0;
    tw_t *t = tw_t_new(&cfg);
    tw_socket *s;
    uint8_t buf[8] = {0};
    assert_int_equal(tw_socket_open(tw_t_stack(t), &s), TW_OK);
    assert_int_equal(tw_socket_connect_send(s, PEER, 80, buf, sizeof(buf), tw_t_now(t)),
                     TW_ERR_OPNOTSUPP);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(s), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_close(s, tw_t_now(t)), TW_OK);
    tw_t_free(t);
}

/* A read of 0 bytes with data waiting returns 0 and takes nothing, with a buffer or with
   none (NULL is allowed for 0 bytes: nothing may be copied to it, not even 0 bytes by
   memcpy, which UBSan checks). Not misuse: nothing is counted. */
static void test_api_zero_length_read(void **state)
{
    tw_t *t = *state;
    uint32_t iss;
    tw_socket *c = TW_PASSIVE_OPEN(t, 1000, &iss);
    tw_time now = tw_t_now(t);
    TW_SEND(t, now, IN(.flags = TW_ACK | TW_PSH, .seq = 1001, .ack = iss + 1, .len = 10));
    uint8_t buf[16];
    assert_int_equal(tw_socket_recv(c, NULL, 0, now), 0);
    assert_int_equal(tw_socket_recv(c, buf, 0, now), 0);
    assert_int_equal(tw_socket_rx_pending(c), 10);
    assert_int_equal(tw_t_counter(t, TW_CNT_API_REFUSED), 0);
    assert_int_equal(tw_socket_recv(c, buf, sizeof(buf), now), 10);
    tw_t_advance(t, now + TW_MS(200));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = iss + 1, .ack = 1011, .any = TW_T_ANY_WIN));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_close(c, now + TW_MS(200)), TW_OK);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = iss + 1, .ack = 1011, .any = TW_T_ANY_WIN));
    TW_SEND(t, now + TW_MS(300), IN(.flags = TW_FIN | TW_ACK, .seq = 1011, .ack = iss + 2));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = iss + 2, .ack = 1012, .any = TW_T_ANY_WIN));
}

/* Not misuse, but its contract (tcpwave.h, tw_socket_bind): a port a socket bound with
   bind() is its own. connect's ephemeral choice passes over it (as Linux's does over
   ports bind() holds), so that socket can still connect to the same peer; ports
   connect chose are shared between different peers. */
static void test_api_ephemeral_skips_bound_port(void **state)
{
    tw_t *t = *state;
    tw_stack *st = tw_t_stack(t);
    tw_time now = tw_t_now(t);
    tw_socket *x, *b;
    tw_socket_info ix, ib;
    assert_int_equal(tw_socket_open(st, &x), TW_OK);
    assert_int_equal(tw_socket_connect(x, PEER, PPORT, now), TW_OK);
    assert_int_equal(tw_socket_info_get(x, &ix), TW_OK);
    /* The ports connect tries next for this peer, taken with bind() (none of them
       before: the first would have been the one chosen). */
    enum { N = 8 };
    tw_socket *bound[N];
    for (int i = 0; i < N; i++) {
        assert_int_equal(tw_socket_open(st, &bound[i]), TW_OK);
        assert_int_equal(tw_socket_bind(bound[i], (uint16_t)(ix.local_port + 1 + i)), TW_OK);
    }
    assert_int_equal(tw_socket_open(st, &b), TW_OK);
    assert_int_equal(tw_socket_connect(b, PEER, PPORT, now), TW_OK);
    assert_int_equal(tw_socket_info_get(b, &ib), TW_OK);
    for (int i = 0; i < N; i++) {
        assert_int_not_equal(ib.local_port, ix.local_port + 1 + i);
    }
    /* Each bound socket still connects to that peer from its own port. */
    for (int i = 0; i < N; i++) {
        assert_int_equal(tw_socket_connect(bound[i], PEER, PPORT, now), TW_OK);
    }
    assert_int_equal(tw_t_counter(t, TW_CNT_API_REFUSED), 0);
    /* (SYN-SENT: aborting sends nothing) */
    for (int i = 0; i < N; i++) {
        assert_int_equal(tw_socket_abort(bound[i], now), TW_OK);
    }
    assert_int_equal(tw_socket_abort(x, now), TW_OK);
    assert_int_equal(tw_socket_abort(b, now), TW_OK);
    tw_t_seg syn;
    while (tw_t_pop(t, &syn)) {
        assert_int_equal(syn.flags, TW_SYN); /* the SYNs */
    }
}

/* ---- bind() and a port's owners (Linux's bind bucket) ---------------------------------- */

static tw_socket *bound_socket(tw_stack *st, uint16_t port, bool reuse, int want)
{
    tw_socket *b;
    assert_int_equal(tw_socket_open(st, &b), TW_OK);
    assert_int_equal(tw_socket_set_reuseaddr(b, reuse), TW_OK);
    assert_int_equal(tw_socket_bind(b, port), want);
    return b;
}

/* bind() on `port` (with and without SO_REUSEADDR) answers as Linux's did (checked on
   Linux 6.x, 127.0.0.1, in a private network namespace): `plain` and `reuse` the codes;
   with SO_REUSEADDR and success, listen() on it too. */
static void bind_matrix(tw_t *t, uint16_t port, int plain, int reuse)
{
    tw_stack *st = tw_t_stack(t);
    tw_socket *b = bound_socket(st, port, false, plain);
    assert_int_equal(tw_socket_close(b, tw_t_now(t)), TW_OK);
    b = bound_socket(st, port, true, reuse);
    if (reuse == TW_OK) {
        assert_int_equal(tw_socket_listen(b, 1, tw_t_now(t)), TW_OK);
    }
    assert_int_equal(tw_socket_close(b, tw_t_now(t)), TW_OK);
}

/* An active open from `port` (SO_REUSEADDR `reuse`) to the peer, closed by us first:
   a TIME-WAIT record on the port. */
static void client_time_wait(tw_t *t, uint16_t port, bool reuse)
{
    tw_stack *st = tw_t_stack(t);
    tw_socket *c = bound_socket(st, port, reuse, TW_OK);
    assert_int_equal(tw_socket_connect(c, PEER, PPORT, tw_t_now(t)), TW_OK);
    tw_t_seg syn = TW_EXPECT(t, OUT(.flags = TW_SYN, .sport = port, .any = TW_T_ANY_SEQ |
                                    TW_T_ANY_ACK | TW_T_ANY_WIN | TW_T_ANY_OPTS));
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_SYN | TW_ACK, .dport = port, .seq = 1000,
                               .ack = syn.seq + 1, .opts = TW_OPT_MSS, .mss = 1460));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .sport = port, .seq = syn.seq + 1, .ack = 1001,
                     .any = TW_T_ANY_WIN | TW_T_ANY_OPTS));
    assert_int_equal(tw_socket_close(c, tw_t_now(t)), TW_OK);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .sport = port, .seq = syn.seq + 1, .ack = 1001,
                     .any = TW_T_ANY_WIN | TW_T_ANY_OPTS));
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_FIN | TW_ACK, .dport = port, .seq = 1001,
                               .ack = syn.seq + 2));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .sport = port, .seq = syn.seq + 2, .ack = 1002,
                     .any = TW_T_ANY_WIN | TW_T_ANY_OPTS));
}

/* A passive open on LPORT from the peer's port `pport`, accepted. */
static tw_socket *server_child(tw_t *t, tw_socket *l, uint16_t pport)
{
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_SYN, .sport = pport, .seq = 5000, .opts = TW_OPT_MSS,
                               .mss = 1460));
    tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .dport = pport, .ack = 5001,
                                   .any = TW_T_ANY_SEQ | TW_T_ANY_WIN | TW_T_ANY_OPTS));
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_ACK, .sport = pport, .seq = 5001, .ack = sa.seq + 1));
    tw_socket *c;
    assert_int_equal(tw_socket_accept(l, &c, tw_t_now(t)), TW_OK);
    (void)sa;
    return c;
}

/* ...closed by us first: a TIME-WAIT record on LPORT. */
static void server_time_wait(tw_t *t, tw_socket *l, uint16_t pport)
{
    tw_socket *c = server_child(t, l, pport);
    tw_socket_info in;
    assert_int_equal(tw_socket_info_get(c, &in), TW_OK);
    assert_int_equal(tw_socket_close(c, tw_t_now(t)), TW_OK);
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .dport = pport, .seq = in.iss + 1, .ack = 5001,
                     .any = TW_T_ANY_WIN | TW_T_ANY_OPTS));
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_FIN | TW_ACK, .sport = pport, .seq = 5001,
                               .ack = in.iss + 2));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .dport = pport, .seq = in.iss + 2, .ack = 5002,
                     .any = TW_T_ANY_WIN | TW_T_ANY_OPTS));
}

/* A port's owners, as Linux's bind bucket holds them (inet_bind_conflict): the sockets
   bound to it, its listener's children (accepted, the listener gone) and the TIME-WAIT
   records of any of them, each with its own SO_REUSEADDR (a TIME-WAIT socket keeps its
   socket's, tw_reuse; a child takes its listener's). bind() shares the port only when
   this socket and every owner set SO_REUSEADDR and none listens. With many connections
   and records on the stack (bind() asks the port's counts, not a walk of both tables),
   both sides, every combination of the flags, as Linux answered them. tcpwave took a
   port held by TIME-WAIT or connections with SO_REUSEADDR whatever the old socket's
   flag was. */
static void test_api_bind_port_owners(void **state)
{
    tw_t *t = *state;
    tw_stack *st = tw_t_stack(t);
    enum { N = 600 };
    /* Client side: TIME-WAIT records from ports 20000 + i, SO_REUSEADDR on odd ones. */
    for (int i = 0; i < N; i++) {
        client_time_wait(t, (uint16_t)(20000 + i), i & 1);
    }
    assert_int_equal(tw_stack_time_wait_count(st), N);
    for (int i = 0; i < N; i += 37) {
        bind_matrix(t, (uint16_t)(20000 + i), TW_ERR_ADDRINUSE,
                    (i & 1) ? TW_OK : TW_ERR_ADDRINUSE);
    }
    /* A port next to them, never used: free to both. */
    bind_matrix(t, 20000 + N, TW_OK, TW_OK);

    /* Server side, both flags on the listener: accepted children kept open, others closed
       by us (TIME-WAIT records), the listener then closed. */
    for (int lr = 0; lr < 2; lr++) {
        uint16_t lport = LPORT;
        tw_socket *l = bound_socket(st, lport, lr, TW_OK);
        assert_int_equal(tw_socket_listen(l, N, tw_t_now(t)), TW_OK);
        /* While it listens: nobody else, with or without the flag. */
        bind_matrix(t, lport, TW_ERR_ADDRINUSE, TW_ERR_ADDRINUSE);
        tw_socket *live[N / 2];
        for (int i = 0; i < N / 2; i++) {
            live[i] = server_child(t, l, (uint16_t)(30000 + lr * N + i));
            server_time_wait(t, l, (uint16_t)(31000 + lr * N + i));
        }
        bind_matrix(t, lport, TW_ERR_ADDRINUSE, TW_ERR_ADDRINUSE);
        assert_int_equal(tw_socket_close(l, tw_t_now(t)), TW_OK);
        TW_EXPECT_NOTHING(t);
        bind_matrix(t, lport, TW_ERR_ADDRINUSE, lr ? TW_OK : TW_ERR_ADDRINUSE);
        /* The live children gone (aborted: RST), the records still hold it. */
        for (int i = 0; i < N / 2; i++) {
            assert_int_equal(tw_socket_abort(live[i], tw_t_now(t)), TW_OK);
            TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .dport = (uint16_t)(30000 + lr * N + i),
                             .any = TW_T_ANY_SEQ | TW_T_ANY_ACK | TW_T_ANY_WIN | TW_T_ANY_OPTS));
        }
        bind_matrix(t, lport, TW_ERR_ADDRINUSE, lr ? TW_OK : TW_ERR_ADDRINUSE);
        /* 2*MSL on: the records end, and with them the port's last owners. */
        tw_t_advance(t, tw_t_now(t) + TW_SEC(61));
        assert_int_equal(tw_stack_time_wait_count(st), 0);
        bind_matrix(t, lport, TW_OK, TW_OK);
        bind_matrix(t, 20001, TW_OK, TW_OK);
    }
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* connect() after a refused one starts over (Linux: the socket is unconnected again
   after the failure is reported): a new SYN from the port bind() gave, with the
   settings given before (SO_REUSEADDR kept: its port still shared); a port connect chose
   is let go of and chosen again. Nothing leaks. */
static void test_api_connect_after_refused(void **state)
{
    tw_t *t = *state;
    tw_stack *st = tw_t_stack(t);
    tw_socket *s, *u;
    assert_int_equal(tw_socket_open(st, &s), TW_OK);
    assert_int_equal(tw_socket_set_reuseaddr(s, true), TW_OK);
    assert_int_equal(tw_socket_set_nodelay(s, true), TW_OK);
    assert_int_equal(tw_socket_bind(s, 5000), TW_OK);
    assert_int_equal(tw_socket_open(st, &u), TW_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tw_socket_connect(s, PEER, PPORT, tw_t_now(t)), TW_OK);
        tw_t_seg syn = TW_EXPECT(t, OUT(.flags = TW_SYN, .sport = 5000, .any = TW_T_ANY_SEQ |
                                        TW_T_ANY_ACK | TW_T_ANY_WIN | TW_T_ANY_OPTS));
        assert_int_equal(tw_socket_connect(u, PEER, PPORT, tw_t_now(t)), TW_OK);
        tw_t_seg usyn = TW_EXPECT(t, OUT(.flags = TW_SYN, .any = TW_T_ANY_SEQ | TW_T_ANY_ACK |
                                         TW_T_ANY_WIN | TW_T_ANY_OPTS | TW_T_ANY_PORT));
        TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_RST | TW_ACK, .dport = 5000, .seq = 0,
                                               .ack = syn.seq + 1, .win = 0));
        TW_SEND(t, tw_t_now(t), IN(.flags = TW_RST | TW_ACK, .dport = usyn.sport, .seq = 0,
                                   .ack = usyn.seq + 1, .win = 0));
        assert_int_equal(tw_socket_state(s), TW_STATE_CLOSED);
        assert_int_equal(tw_socket_error(s), TW_ERR_REFUSED);
        assert_int_equal(tw_socket_state(u), TW_STATE_CLOSED);
        /* The port bind() gave is still held, shared with SO_REUSEADDR only. */
        tw_socket *b;
        assert_int_equal(tw_socket_open(st, &b), TW_OK);
        assert_int_equal(tw_socket_bind(b, 5000), TW_ERR_ADDRINUSE);
        assert_int_equal(tw_socket_set_reuseaddr(b, true), TW_OK);
        assert_int_equal(tw_socket_bind(b, 5000), TW_OK);
        assert_int_equal(tw_socket_close(b, tw_t_now(t)), TW_OK);
        /* The port connect chose is free again. */
        assert_int_equal(tw_socket_open(st, &b), TW_OK);
        assert_int_equal(tw_socket_bind(b, usyn.sport), TW_OK);
        assert_int_equal(tw_socket_close(b, tw_t_now(t)), TW_OK);
    }
    assert_int_equal(tw_socket_close(s, tw_t_now(t)), TW_OK);
    assert_int_equal(tw_socket_close(u, tw_t_now(t)), TW_OK);
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* RFC 9293 3.10.7.3: a reset in SYN-SENT ends the attempt and with it the data queued
   for it (SEND in SYN-SENT queues, 3.10.2): a connect() that starts over on the same
   socket sends only what is written after it (socket.c connect_renew_failed; Linux's
   tcp_reset purges the write queue). The fuzz harness had assumed the opposite
   (fuzz_input reproducer connect_again_after_reset_stream_restart). */
static void test_api_connect_after_refused_drops_queued(void **state)
{
    tw_t *t = *state;
    tw_stack *st = tw_t_stack(t);
    tw_socket *s;
    assert_int_equal(tw_socket_open(st, &s), TW_OK);
    assert_int_equal(tw_socket_set_nodelay(s, true), TW_OK);
    assert_int_equal(tw_socket_bind(s, LPORT), TW_OK);
    assert_int_equal(tw_socket_connect(s, PEER, PPORT, tw_t_now(t)), TW_OK);
    tw_t_seg syn = TW_EXPECT(t, OUT(.flags = TW_SYN, .any = TW_T_ANY_SEQ | TW_T_ANY_ACK |
                                    TW_T_ANY_WIN | TW_T_ANY_OPTS));
    assert_int_equal(tw_socket_send(s, "oldbytes", 8, tw_t_now(t)), 8);
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_RST | TW_ACK, .seq = 0, .ack = syn.seq + 1, .win = 0));
    assert_int_equal(tw_socket_state(s), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(s), TW_ERR_REFUSED);
    assert_int_equal(tw_socket_connect(s, PEER, PPORT, tw_t_now(t)), TW_OK);
    syn = TW_EXPECT(t, OUT(.flags = TW_SYN, .any = TW_T_ANY_SEQ | TW_T_ANY_ACK | TW_T_ANY_WIN |
                                                   TW_T_ANY_OPTS));
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_SYN | TW_ACK, .seq = 1000, .ack = syn.seq + 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = syn.seq + 1, .ack = 1001, .any = TW_T_ANY_WIN));
    TW_EXPECT_NOTHING(t); /* (nothing of the first attempt's bytes) */
    assert_int_equal(tw_socket_send(s, "newbytes", 8, tw_t_now(t)), 8);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = syn.seq + 1, .ack = 1001,
                     .data = "newbytes", .len = 8, .any = TW_T_ANY_WIN));
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_ACK, .seq = 1001, .ack = syn.seq + 9));
    assert_int_equal(tw_socket_abort(s, tw_t_now(t)), TW_OK);
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = syn.seq + 9, .ack = 1001,
                     .any = TW_T_ANY_WIN)); /* (and the handle released) */
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* Ephemeral port exhaustion: with every port of the range (32768-60999, Linux's) taken
   by a connection to one peer's port, the next connect() to it fails with
   TW_ERR_ADDRNOTAVAIL (Linux's EADDRNOTAVAIL), not misuse and with nothing sent; the
   socket is left as it was and connects to another port of the peer, since ports chosen
   by connect are shared between different 4-tuples. Freeing the stack frees them all
   (the sanitizer build checks for leaks). */
static void test_api_ephemeral_exhaustion(void **state)
{
    (void)state;
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.addr = LOCAL;
    tw_netdev dev = {.transmit = drop_tx, .ud = NULL, .mtu = 1500};
    tw_stack *st = NULL;
    assert_int_equal(tw_stack_new(&st, &cfg, &dev, T0), TW_OK);
    enum { N = 60999 - 32768 + 1 };
    tw_socket *s = NULL;
    for (int i = 0; i < N; i++) {
        assert_int_equal(tw_socket_open(st, &s), TW_OK);
        if (tw_socket_connect(s, PEER, PPORT, T0) != TW_OK) {
            fail_msg("connect %d of %d failed", i + 1, N);
        }
    }
    uint64_t tx = tw_stack_counter(st, TW_CNT_TX_PACKETS);
    assert_int_equal(tx, N);
    assert_int_equal(tw_socket_open(st, &s), TW_OK);
    assert_int_equal(tw_socket_connect(s, PEER, PPORT, T0), TW_ERR_ADDRNOTAVAIL);
    assert_int_equal(tw_stack_counter(st, TW_CNT_TX_PACKETS), tx);
    assert_int_equal(tw_stack_counter(st, TW_CNT_API_REFUSED), 0);
    assert_int_equal(tw_socket_state(s), TW_STATE_CLOSED);
    tw_socket_info info;
    assert_int_equal(tw_socket_info_get(s, &info), TW_OK);
    assert_int_equal(info.remote_addr, 0);
    assert_int_equal(info.local_port, 0);
    assert_int_equal(tw_socket_connect(s, PEER, PPORT + 1, T0), TW_OK);
    assert_int_equal(tw_stack_counter(st, TW_CNT_TX_PACKETS), tx + 1);
    assert_int_equal(tw_stack_conn_count(st), N + 1);
    tw_stack_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TW_T_CASE(test_api_null_pointers),
        cmocka_unit_test(test_api_config_bounds),
        TW_T_CASE(test_api_fresh_socket_wrong_calls),
        TW_T_CASE(test_api_state_errors),
        TW_T_CASE(test_api_after_reset),
        cmocka_unit_test(test_api_child_takes_listener_cc),
        cmocka_unit_test(test_api_busy_from_hook),
        TW_T_CASE(test_api_zero_length_read),
        TW_T_CASE(test_api_ephemeral_skips_bound_port),
        cmocka_unit_test(test_api_ephemeral_exhaustion),
        TW_T_CASE(test_api_bind_port_owners),
        TW_T_CASE(test_api_connect_after_refused),
        TW_T_CASE(test_api_connect_after_refused_drops_queued),
        TW_T_CASE(test_api_listen_autobinds),
        TW_T_CASE(test_api_shutdown_listener),
        TW_T_CASE(test_api_fastopen_misuse),
        cmocka_unit_test(test_api_fastopen_client_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
