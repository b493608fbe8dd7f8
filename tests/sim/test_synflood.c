/*
 * test_synflood.c -- SPEC S8 / issue #6: a SYN flood from spoofed sources while
 * legitimate clients connect, send and close.
 *
 *   sim_synflood [--syns N] [--clients N] [--seed S]
 *
 * The server's SYN queue fills with half-open connections to addresses that never
 * answer; past it, SYN cookies (RFC 4987) answer without state. Every legitimate
 * connection must complete and carry its bytes both ways, and the server's memory must
 * stay below a bound that does not grow with the flood. Prints the figures and ends
 * with "N passed, N failed".
 */
#include "sim/sim.h"
#include "tw_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SRV 0x0a000002u
#define CLI 0x0a000001u
#define PORT 80
#define MEM_BOUND (8u << 20) /* server memory above its idle footprint, any flood size */

/* A SYN with MSS, SACK-permitted, timestamps and window scale, from a spoofed source
   (built by the test fixture's own packet builder). */
static size_t spoofed_syn(uint8_t *b, size_t cap, uint32_t src, uint16_t sport, uint32_t seq,
                          uint32_t ts)
{
    tw_t_seg s = {.src = src, .dst = SRV, .sport = sport, .dport = PORT, .seq = seq,
                  .flags = TW_SYN, .win = 64240,
                  .opts = TW_OPT_MSS | TW_OPT_SACK_PERM | TW_OPT_TS | TW_OPT_WSCALE,
                  .mss = 1460, .ts_val = ts, .wscale = 7};
    return tw_t_build(&s, b, cap);
}

typedef struct client {
    tw_socket *s;
    int sent, got, done;
} client;

int main(int argc, char **argv)
{
    unsigned long syns = 1000000, nclients = 1000;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--syns") && i + 1 < argc) {
            syns = strtoul(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--clients") && i + 1 < argc) {
            nclients = strtoul(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 0);
        } else {
            fprintf(stderr, "usage: sim_synflood [--syns N] [--clients N] [--seed S]\n");
            return 2;
        }
    }
    tw_sim *sim;
    tw_sim_new(&sim, seed, TW_SEC(1));
    tw_sim_impair imp = {.delay = TW_MS(5)};
    tw_sim_set_impair(sim, &imp);
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.addr = SRV;
    tw_stack *ss, *cs;
    tw_sim_add_stack(sim, &cfg, 0, &ss);
    cfg.addr = CLI;
    tw_sim_add_stack(sim, &cfg, 0, &cs);
    tw_socket *l;
    tw_socket_open(ss, &l);
    tw_socket_bind(l, PORT);
    tw_socket_listen(l, 128, tw_sim_now(sim));
    size_t base = tw_stack_mem_live(ss);
    client *cl = calloc(nclients, sizeof(*cl));
    tw_socket **srv = calloc(nclients * 2 + 16, sizeof(*srv));
    size_t nsrv = 0;
    unsigned long per_client = nclients ? syns / nclients : syns;
    unsigned long injected = 0, started = 0, completed = 0;
    uint64_t rng = seed * 0x9e3779b97f4a7c15ull + 1;
    uint8_t pkt[128];
    size_t peak = 0;
    tw_time now = tw_sim_now(sim);
    tw_time limit = now + TW_SEC(600);
    while (now < limit && (completed < nclients || injected < syns)) {
        /* The flood: a burst of spoofed SYNs every millisecond. */
        for (unsigned long k = 0; k < per_client && injected < syns; k++, injected++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            uint32_t src = 0x0b000000u | (uint32_t)(rng & 0x00ffffffu); /* 11.0.0.0/8 */
            size_t n = spoofed_syn(pkt, sizeof pkt, src, (uint16_t)(1024 + (rng >> 40) % 60000),
                                   (uint32_t)(rng >> 16), (uint32_t)rng);
            tw_stack_input(ss, pkt, n, now);
        }
        if (started < nclients) {
            client *c = &cl[started++];
            tw_socket_open(cs, &c->s);
            tw_socket_connect(c->s, SRV, PORT, now);
            tw_socket_send(c->s, "hello", 5, now);
        }
        tw_sim_run_until(sim, now + TW_MS(1));
        now = tw_sim_now(sim);
        tw_socket *a;
        while (tw_socket_accept(l, &a, now) == 0) {
            srv[nsrv++] = a;
        }
        for (size_t i = 0; i < nsrv; i++) {
            char buf[16];
            if (!srv[i]) {
                continue;
            }
            tw_ssize r = tw_socket_recv(srv[i], buf, sizeof buf, now);
            if (r == 5) {
                tw_socket_send(srv[i], "world", 5, now);
                tw_socket_close(srv[i], now);
                srv[i] = NULL;
            } else if (r < 0 && r != TW_ERR_AGAIN) {
                tw_socket_close(srv[i], now);
                srv[i] = NULL;
            }
        }
        for (unsigned long i = 0; i < started; i++) {
            client *c = &cl[i];
            if (c->done) {
                continue;
            }
            char buf[16];
            tw_ssize r = tw_socket_recv(c->s, buf, sizeof buf, now);
            if (r == 5 && !memcmp(buf, "world", 5)) {
                c->got = 1;
            }
            if (r == 0 || (r < 0 && r != TW_ERR_AGAIN)) {
                c->done = 1;
                completed += c->got && r == 0;
                tw_socket_close(c->s, now);
            }
        }
        size_t m = tw_stack_mem_live(ss) - base;
        if (m > peak) {
            peak = m;
        }
    }
    unsigned long ok = 0;
    for (unsigned long i = 0; i < nclients; i++) {
        ok += cl[i].got && cl[i].done;
    }
    printf("synflood: %lu spoofed SYNs, %lu/%lu legitimate connections completed with their "
           "data\n",
           injected, ok, nclients);
    printf("synflood: SYN+ACKs with cookies %llu, cookie connections %llu, SYN queue drops "
           "%llu\n",
           (unsigned long long)tw_stack_counter(ss, TW_CNT_TCP_SYNCOOKIE_SENT),
           (unsigned long long)tw_stack_counter(ss, TW_CNT_TCP_SYNCOOKIE_OK),
           (unsigned long long)tw_stack_counter(ss, TW_CNT_TCP_RX_LISTEN_OVERFLOW));
    printf("synflood: server peak memory above idle %zu bytes (bound %u)\n", peak, MEM_BOUND);
    bool pass = ok == nclients && peak < MEM_BOUND;
    printf("%d passed, %d failed\n", pass ? 1 : 0, pass ? 0 : 1);
    tw_socket_close(l, now);
    tw_sim_free(sim);
    free(cl);
    free(srv);
    return pass ? 0 : 1;
}
