/*
 * test_socket.c -- socket.c's copies of a small request and answer (16 to 64 bytes, and
 * a few around them): the usual write's and read's 32-byte moves (copy.h tw_copy_wide)
 * and the gate's way that a machine without them takes (st->copy_narrow: send_gate,
 * recv_gate) carry the same bytes, with the same results, between two stacks.
 */
#include "core/tcp_conn.h"
#include "core/cksum.h"
#include "core/copy.h"
#include "unit.h"

#include <string.h>

#define CLI 0x0a000001u
#define SRV 0x0a000002u

/* The packets in flight between the two stacks: each stack's netdev queues its own. */
typedef struct wire {
    uint8_t pkt[64][1600];
    size_t len[64];
    unsigned n;
} wire;

static wire to_srv, to_cli;

static int tx_queue(const uint8_t *pkt, size_t len, void *ud)
{
    wire *w = ud;
    assert_true(w->n < 64 && len <= sizeof(w->pkt[0]));
    memcpy(w->pkt[w->n], pkt, len);
    w->len[w->n++] = len;
    return 0;
}

/* Every packet delivered, the replies they cause too, until both ways are empty. */
static void pump(tw_stack *c, tw_stack *s, tw_time now)
{
    while (to_srv.n || to_cli.n) {
        static wire w;
        w = to_srv;
        to_srv.n = 0;
        for (unsigned i = 0; i < w.n; i++) {
            tw_stack_input(s, w.pkt[i], w.len[i], now);
        }
        w = to_cli;
        to_cli.n = 0;
        for (unsigned i = 0; i < w.n; i++) {
            tw_stack_input(c, w.pkt[i], w.len[i], now);
        }
    }
}

/* One round on the two stacks: a connection from client port `port`, a request and an
   answer of `len` bytes each, the close, at times from `t` on. */
static void round_trip_to(tw_stack *c, tw_stack *s, tw_socket *l, uint16_t dport, uint16_t port,
                          size_t len, tw_time t)
{
    tw_socket *k = NULL, *a = NULL;
    assert_int_equal(tw_socket_open(c, &k), 0);
    assert_int_equal(tw_socket_bind(k, port), 0);
    assert_int_equal(tw_socket_connect(k, SRV, dport, t + 1), 0);
    uint8_t req[128], resp[128], got[256];
    for (size_t i = 0; i < sizeof req; i++) {
        req[i] = (uint8_t)(i * 7 + len + port);
        resp[i] = (uint8_t)(i * 13 + len + 1 + port);
    }
    /* queued in SYN-SENT: the request leaves with the third segment */
    assert_int_equal(tw_socket_send(k, req, len, t + 1), (tw_ssize)len);
    pump(c, s, t + 1);
    assert_int_equal(tw_socket_accept(l, &a, t + 2), 0);
    memset(got, 0xee, sizeof got);
    assert_int_equal(tw_socket_recv(a, got, len, t + 2), (tw_ssize)len);
    assert_memory_equal(got, req, len);
    assert_int_equal(got[len], 0xee);
    /* the answer from ESTABLISHED */
    assert_int_equal(tw_socket_send(a, resp, len, t + 2), (tw_ssize)len);
    pump(c, s, t + 2);
    memset(got, 0xee, sizeof got);
    assert_int_equal(tw_socket_recv(k, got, sizeof got, t + 3), (tw_ssize)len);
    assert_memory_equal(got, resp, len);
    assert_int_equal(got[len], 0xee);
    assert_int_equal(tw_socket_recv(k, got, sizeof got, t + 3), TW_ERR_AGAIN);
    assert_int_equal(tw_socket_close(k, t + 3), 0);
    pump(c, s, t + 3);
    assert_int_equal(tw_socket_recv(a, got, 1, t + 4), 0); /* end of stream */
    assert_int_equal(tw_socket_close(a, t + 4), 0);
    pump(c, s, t + 4);
}

static void round_trip(tw_stack *c, tw_stack *s, tw_socket *l, uint16_t port, size_t len,
                       tw_time t)
{
    round_trip_to(c, s, l, 80, port, len, t);
}

/* A client stack (CLI) and a server stack (SRV), default settings, whose packets go to
   the queues to_srv and to_cli (emptied). */
static void stacks_new(tw_stack **c, tw_stack **s)
{
    tw_config cfg;
    to_srv.n = to_cli.n = 0;
    tw_config_init(&cfg);
    cfg.addr = CLI;
    tw_netdev dc = {.transmit = tx_queue, .ud = &to_srv, .mtu = 1500};
    assert_int_equal(tw_stack_new(c, &cfg, &dc, 1), 0);
    cfg.addr = SRV;
    tw_netdev ds = {.transmit = tx_queue, .ud = &to_cli, .mtu = 1500};
    assert_int_equal(tw_stack_new(s, &cfg, &ds, 1), 0);
}

/* Lifecycles with a request and an answer of `len` bytes each, copy_narrow as `narrow` on
   both stacks (the gate's way when set). Three rounds on the same stacks: from the second
   on, the freed connections' parked receive blocks take the request's and the first
   answer's payloads as they are summed (tcp_in.c input_unsummed, copy_sum64). */
static void lifecycle(size_t len, bool narrow)
{
    tw_stack *c = NULL, *s = NULL;
    stacks_new(&c, &s);
    c->copy_narrow = narrow;
    s->copy_narrow = narrow;
    tw_socket *l = NULL;
    assert_int_equal(tw_socket_open(s, &l), 0);
    assert_int_equal(tw_socket_bind(l, 80), 0);
    assert_int_equal(tw_socket_listen(l, 8, 1), 0);
    for (unsigned r = 0; r < 3; r++) {
        round_trip(c, s, l, (uint16_t)(40000 + r), len, 10 * r);
    }
    assert_int_equal(tw_socket_close(l, 40), 0);
    tw_stack_free(c);
    tw_stack_free(s);
}

static void test_small_copies(void **state)
{
    (void)state;
    static const size_t lens[] = {1, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100, 128};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        lifecycle(lens[i], true);
#if TW_COPY_WIDE
        if (!tw_cksum_have_avx2()) {
            continue; /* (no 32-byte moves on this CPU: the gate's way only) */
        }
#endif
        lifecycle(lens[i], false);
    }
}

/* The listener a SYN last found (stack.h listen_last, tcp_in.c input_demux_in): SYNs to
   two ports in turn, each taken by its own listener; a listener closed and another made
   on its port takes the next SYN (the cache emptied with the port's listener: with a
   stale one, accept on the new one would find nothing, and ASan the freed one read). */
static void test_listener_cache(void **state)
{
    (void)state;
    tw_stack *c = NULL, *s = NULL;
    stacks_new(&c, &s);
    tw_socket *l80 = NULL, *l81 = NULL;
    assert_int_equal(tw_socket_open(s, &l80), 0);
    assert_int_equal(tw_socket_bind(l80, 80), 0);
    assert_int_equal(tw_socket_listen(l80, 8, 1), 0);
    assert_int_equal(tw_socket_open(s, &l81), 0);
    assert_int_equal(tw_socket_bind(l81, 81), 0);
    assert_int_equal(tw_socket_listen(l81, 8, 1), 0);
    uint16_t port = 40000;
    tw_time t = 0;
    for (unsigned r = 0; r < 2; r++, t += 10) {
        round_trip_to(c, s, l80, 80, port++, 64, t);
        round_trip_to(c, s, l81, 81, port++, 64, t + 5);
    }
    round_trip_to(c, s, l81, 81, port++, 64, t);
    t += 10;
    round_trip_to(c, s, l81, 81, port++, 64, t); /* (81 cached) */
    t += 10;
    assert_int_equal(tw_socket_close(l81, t), 0);
    assert_int_equal(tw_socket_open(s, &l81), 0);
    assert_int_equal(tw_socket_bind(l81, 81), 0);
    assert_int_equal(tw_socket_listen(l81, 8, 1), 0);
    round_trip_to(c, s, l81, 81, port++, 64, t + 1);
    round_trip_to(c, s, l80, 80, port++, 64, t + 5);
    assert_int_equal(tw_socket_close(l80, t + 9), 0);
    assert_int_equal(tw_socket_close(l81, t + 9), 0);
    tw_stack_free(c);
    tw_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_copies),
        cmocka_unit_test(test_listener_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
