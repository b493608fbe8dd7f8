/*
 * test_lifecycle.c -- whole connection lifecycles between two stacks over the simulated
 * link (issue #2): handshake with the request on the third segment (S5), response,
 * half-close with the server still sending (S12), four-way close (S10-S14), TIME-WAIT
 * expiry (S15). Run clean, then once per packet with that packet dropped (every
 * handshake and close segment in turn, S9/S16 retransmissions), then under seeded
 * impairments (D1), then with every allocation failing in turn (out-of-memory loop).
 * Every run must end with both sides closed and zero live bytes.
 */
#include "tw_test.h"
#include "sim/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI 0x0a000001u
#define SRV 0x0a000002u
#define PORT 80
#define REQ_LEN 100u
#define RESP_LEN 5000u
#define TAIL_LEN 3000u

typedef struct drop_ctx {
    long target; /* index of the packet to drop, -1 for none */
    long seen;
} drop_ctx;

static int drop_nth(const uint8_t *pkt, size_t len, int from, int to, void *ud)
{
    (void)pkt;
    (void)len;
    (void)from;
    (void)to;
    drop_ctx *d = ud;
    return d->seen++ == d->target;
}

typedef struct run_result {
    bool ok;             /* the lifecycle completed with every byte right */
    bool clean;          /* no connection, no TIME-WAIT left, no live bytes */
    long packets;
    char why[160];
} run_result;

static uint8_t pattern(size_t i, unsigned salt)
{
    return (uint8_t)((i * 131u + salt * 7u) ^ (i >> 8));
}

typedef struct side {
    tw_socket *s;
    size_t sent, got;
    uint8_t buf[RESP_LEN + TAIL_LEN];
    bool shut, eof, closed;
} side;

static size_t send_pattern(side *x, size_t total, unsigned salt, tw_time now)
{
    uint8_t chunk[1024];
    while (x->sent < total) {
        size_t n = total - x->sent < sizeof chunk ? total - x->sent : sizeof chunk;
        for (size_t i = 0; i < n; i++) {
            chunk[i] = pattern(x->sent + i, salt);
        }
        tw_ssize w = tw_socket_send(x->s, chunk, n, now);
        if (w <= 0) {
            break;
        }
        x->sent += (size_t)w;
    }
    return x->sent;
}

static void read_all(side *x, tw_time now)
{
    for (;;) {
        uint8_t tmp[2048];
        tw_ssize n = tw_socket_recv(x->s, tmp, sizeof tmp, now);
        if (n > 0) {
            size_t room = sizeof x->buf - x->got;
            memcpy(x->buf + x->got, tmp, (size_t)n < room ? (size_t)n : room);
            x->got += (size_t)n;
        } else {
            if (n == 0) {
                x->eof = true;
            }
            return;
        }
    }
}

/* One lifecycle; `fail_nth` != 0 makes that allocation fail (both stacks share one
   counting allocator). */
static run_result run_once(uint64_t seed, long drop, const tw_sim_impair *imp, uint64_t fail_nth,
                           tw_t_alloc *alloc)
{
    run_result r = {false, false, 0, ""};
    tw_t_alloc_init(alloc, fail_nth);
    tw_sim *sim;
    if (tw_sim_new(&sim, seed, TW_SEC(1)) != 0) {
        snprintf(r.why, sizeof r.why, "sim");
        return r;
    }
    drop_ctx d = {drop, 0};
    tw_sim_set_filter(sim, drop_nth, &d);
    tw_sim_set_impair(sim, imp);
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.allocator = &alloc->a;
    cfg.msl = TW_SEC(2);
    cfg.addr = CLI;
    tw_stack *cs, *ss;
    int rc1 = tw_sim_add_stack(sim, &cfg, 0, &cs);
    cfg.addr = SRV;
    int rc2 = rc1 >= 0 ? tw_sim_add_stack(sim, &cfg, 0, &ss) : -1;
    if (rc1 < 0 || rc2 < 0) {
        tw_sim_free(sim);
        r.clean = alloc->live == 0;
        snprintf(r.why, sizeof r.why, "stack_new failed");
        return r;
    }
    side cli = {0}, srv = {0};
    static side zero;
    (void)zero;
    tw_socket *l = NULL;
    tw_time now = tw_sim_now(sim);
    bool setup_ok = tw_socket_open(ss, &l) == 0 && tw_socket_bind(l, PORT) == 0 &&
                    tw_socket_listen(l, 4, now) == 0 && tw_socket_open(cs, &cli.s) == 0 &&
                    tw_socket_connect(cli.s, SRV, PORT, now) == 0;
    if (setup_ok) {
        send_pattern(&cli, REQ_LEN, 1, now); /* queued before the SYN+ACK: rides the third
                                                segment (S5) */
    }
    tw_time limit = now + TW_SEC(600);
    while (setup_ok && now < limit && !(cli.closed && srv.closed)) {
        tw_sim_run_until(sim, now + TW_MS(5));
        now = tw_sim_now(sim);
        if (cli.sent < REQ_LEN) {
            send_pattern(&cli, REQ_LEN, 1, now);
        }
        if (!srv.s && tw_socket_accept(l, &srv.s, now) != 0) {
            srv.s = NULL;
        }
        if (srv.s && !srv.closed) {
            read_all(&srv, now);
            if (srv.got >= REQ_LEN) {
                send_pattern(&srv, RESP_LEN, 2, now);
            }
            if (srv.eof && srv.sent >= RESP_LEN) {
                /* S12: the client has half-closed; the server still sends. */
                send_pattern(&srv, RESP_LEN + TAIL_LEN, 2, now);
                if (srv.sent == RESP_LEN + TAIL_LEN) {
                    tw_socket_close(srv.s, now); /* S13 */
                    srv.closed = true;
                }
            }
            if (tw_socket_error(srv.s) && !srv.closed) {
                snprintf(r.why, sizeof r.why, "server error %s",
                         tw_error_name(tw_socket_error(srv.s)));
                tw_socket_close(srv.s, now);
                srv.closed = true;
            }
        }
        if (!cli.closed) {
            read_all(&cli, now);
            if (cli.got >= RESP_LEN && !cli.shut) {
                tw_socket_shutdown(cli.s, TW_SHUT_WR, now); /* S10: the client closes first */
                cli.shut = true;
            }
            if (cli.eof || tw_socket_error(cli.s)) {
                if (tw_socket_error(cli.s)) {
                    snprintf(r.why, sizeof r.why, "client error %s",
                             tw_error_name(tw_socket_error(cli.s)));
                }
                tw_socket_close(cli.s, now);
                cli.closed = true;
            }
        }
    }
    bool bytes_ok = cli.got == RESP_LEN + TAIL_LEN && srv.got == REQ_LEN;
    for (size_t i = 0; bytes_ok && i < cli.got; i++) {
        bytes_ok = cli.buf[i] == pattern(i, 2);
    }
    for (size_t i = 0; bytes_ok && i < srv.got; i++) {
        bytes_ok = srv.buf[i] == pattern(i, 1);
    }
    /* S15: after 2*MSL (and any retransmissions) nothing is left. */
    tw_sim_run_idle(sim, now + TW_SEC(600));
    r.ok = setup_ok && cli.closed && srv.closed && bytes_ok && r.why[0] == 0;
    if (!r.ok && !r.why[0]) {
        snprintf(r.why, sizeof r.why, "incomplete: setup=%d cli.got=%zu srv.got=%zu closed=%d/%d",
                 setup_ok, cli.got, srv.got, cli.closed, srv.closed);
    }
    bool nothing_left = tw_stack_conn_count(cs) == 0 && tw_stack_conn_count(ss) == 0 &&
                        tw_stack_time_wait_count(cs) == 0 && tw_stack_time_wait_count(ss) == 0;
    if (!setup_ok) {
        if (cli.s && !cli.closed) {
            tw_socket_close(cli.s, now);
        }
        nothing_left = true; /* partial setups are only checked for leaks */
    }
    if (l) {
        tw_socket_close(l, tw_sim_now(sim));
    }
    if (srv.s && !srv.closed) {
        tw_socket_close(srv.s, tw_sim_now(sim));
    }
    r.packets = d.seen;
    tw_sim_free(sim);
    r.clean = nothing_left && alloc->live == 0;
    return r;
}

static void test_lifecycle_clean(void **state)
{
    (void)state;
    tw_t_alloc a;
    run_result r = run_once(1, -1, NULL, 0, &a);
    if (!r.ok || !r.clean) {
        fail_msg("clean lifecycle: %s clean=%d", r.why, r.clean);
    }
    print_message("clean lifecycle: %ld packets\n", r.packets);
    assert_true(r.packets > 10);
}

/* Drop each packet of the clean run in turn: SYN, SYN+ACK, the third segment, data,
   each FIN and each ACK of a FIN (S9, S16, D1). */
static void test_lifecycle_drop_each_packet(void **state)
{
    (void)state;
    tw_t_alloc a;
    run_result clean = run_once(1, -1, NULL, 0, &a);
    assert_true(clean.ok);
    for (long k = 0; k < clean.packets; k++) {
        run_result r = run_once(1, k, NULL, 0, &a);
        if (!r.ok || !r.clean) {
            fail_msg("drop of packet %ld of %ld: %s (clean=%d)", k, clean.packets, r.why,
                     r.clean);
        }
    }
}

/* D1 under seeded loss, duplication, reordering and jitter. */
static void test_lifecycle_impaired_seeds(void **state)
{
    (void)state;
    tw_t_alloc a;
    tw_sim_impair imp = {.loss = 0.05, .dup = 0.05, .reorder = 0.05,
                         .reorder_delay = TW_MS(3), .delay = TW_MS(10), .jitter = TW_MS(2)};
    for (uint64_t seed = 1; seed <= 60; seed++) {
        run_result r = run_once(seed, -1, &imp, 0, &a);
        if (!r.ok || !r.clean) {
            fail_msg("seed %llu: %s (clean=%d)", (unsigned long long)seed, r.why, r.clean);
        }
    }
}

/* Out-of-memory loop: make allocation number n fail, for n = 1, 2, ... until a run
   makes no allocation fail; never a crash, never a leak. */
static void test_lifecycle_oom_loop(void **state)
{
    (void)state;
    tw_t_alloc a;
    unsigned runs = 0;
    for (uint64_t n = 1; n < 100000; n++) {
        run_result r = run_once(7, -1, NULL, n, &a);
        runs++;
        if (!r.clean) {
            fail_msg("allocation %llu failing leaked %zu bytes or left state (%s)",
                     (unsigned long long)n, a.live, r.why);
        }
        if (a.failures == 0) {
            assert_true(r.ok);
            break;
        }
    }
    print_message("oom loop: %u runs, every allocation point failed once\n", runs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle_clean),
        cmocka_unit_test(test_lifecycle_drop_each_packet),
        cmocka_unit_test(test_lifecycle_impaired_seeds),
        cmocka_unit_test(test_lifecycle_oom_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
