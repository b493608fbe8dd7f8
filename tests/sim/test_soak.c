/*
 * test_soak.c -- seeded two-stack transfers across a matrix of impairments (SPEC D1-D4,
 * issue #3): random sizes both ways, the client half-closes first, every byte checked by
 * hash, both ends closed with nothing left. A failure prints the exact command that
 * replays it.
 *
 *   sim_soak [--runs N] [--seed S] [--case NAME] [--bytes N] [--list]
 *
 * TW_SOAK_TRACE=1 in the environment prints every trace event of the runs (a failing
 * seed's replay, narrated).
 * Runs are spread over the cases in turn; run i of a case uses seed S + i.
 */
#include "sim/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct soak_case {
    const char *name;
    tw_sim_impair imp;
    tw_cc_algo cc;
    bool no_sack, no_ts, no_wscale;
    uint16_t mtu;
    uint32_t rcvbuf, sndbuf;
    bool rcvbuf_tuned; /* rcvbuf the first size only, auto-tuned (tcpwave sim --set) */
    tw_time rto_initial, rto_max, time_limit;
    uint8_t retries, orphan_retries;
    uint64_t max_bytes; /* 0: --bytes */
    bool cork;
    bool ecn;
    size_t mem_spare; /* > 0: each stack's memory budget, over what it holds once made */
    uint32_t conns;   /* connections at once (0: 1) */
} soak_case;

static void print_event(const tw_trace_event *e, void *ud)
{
    (void)ud;
    static const char *kinds[] = {"?", "in", "out", "state", "drop", "timer"};
    const tw_seg_summary *g = &e->seg;
    printf("%12.6f conn %llu %-5s %-12s", (double)e->now / 1e9, (unsigned long long)e->conn_id,
           kinds[e->kind <= TW_TRACE_TIMER ? e->kind : 0], tw_state_name(e->new_state));
    if (e->kind == TW_TRACE_SEG_IN || e->kind == TW_TRACE_SEG_OUT ||
        (e->kind == TW_TRACE_DROP && g->saddr)) {
        printf(" %08x:%u>%u fl %02x seq %u ack %u len %u win %u", g->saddr, g->sport, g->dport,
               g->flags, g->seq - (e->kind == TW_TRACE_SEG_OUT ? e->iss : e->irs), g->ack, g->len,
               g->win);
    }
    if (e->kind == TW_TRACE_DROP) {
        printf(" %s", tw_counter_name(e->counter));
    }
    if (e->kind == TW_TRACE_TIMER) {
        printf(" timer %d", (int)e->timer);
    }
    printf("\n");
}

static const soak_case cases[] = {
    {.name = "clean", .imp = {.delay = TW_MS(5)}},
    {.name = "loss1", .imp = {.loss = 0.01, .delay = TW_MS(10)}},
    {.name = "loss5", .imp = {.loss = 0.05, .delay = TW_MS(10)}},
    {.name = "loss10", .imp = {.loss = 0.10, .delay = TW_MS(10)}},
    /* (a client that closed with data in flight is an orphan, which gives up after 8
       retransmissions, as Linux's tcp_orphan_retries: at 20 % loss each way a segment and
       its ACK fail 8 times running in about 1 run in 1,000, a legitimate abort, not the
       failure this soak looks for; its orphans get Linux's tcp_retries2 instead) */
    {.name = "loss20", .imp = {.loss = 0.20, .delay = TW_MS(10)}, .max_bytes = 60000,
     .orphan_retries = 15},
    {.name = "burst", .imp = {.burst_loss = 0.02, .delay = TW_MS(10)}},
    {.name = "reorder", .imp = {.reorder = 0.1, .reorder_delay = TW_MS(4), .delay = TW_MS(5)}},
    {.name = "jitter", .imp = {.delay = TW_MS(10), .jitter = TW_MS(8)}},
    {.name = "dup", .imp = {.dup = 0.1, .delay = TW_MS(5)}},
    {.name = "corrupt", .imp = {.corrupt = 0.05, .delay = TW_MS(5)}},
    {.name = "mixed",
     .imp = {.loss = 0.03, .dup = 0.02, .reorder = 0.05, .reorder_delay = TW_MS(3),
             .corrupt = 0.01, .delay = TW_MS(10), .jitter = TW_MS(2)}},
    {.name = "bottleneck",
     .imp = {.delay = TW_MS(10), .rate_bps = 10000000, .queue_pkts = 20}},
    {.name = "newreno_loss5", .imp = {.loss = 0.05, .delay = TW_MS(10)}, .cc = TW_CC_NEWRENO},
    {.name = "nosack_loss5", .imp = {.loss = 0.05, .delay = TW_MS(10)}, .no_sack = true},
    {.name = "nots_reorder", .imp = {.loss = 0.02, .reorder = 0.1, .delay = TW_MS(5)},
     .no_ts = true},
    {.name = "tiny_window", .imp = {.loss = 0.02, .delay = TW_MS(5)}, .rcvbuf = 2048,
     .sndbuf = 4096, .max_bytes = 40000},
    /* TCP_CORK and MSG_MORE turned on and off at random among writes of random sizes
       (tw_sim_xfer.cork): the corked bytes' wait, its timer and the FIN that takes them,
       under loss and in a small window */
    {.name = "cork_loss5", .imp = {.loss = 0.05, .delay = TW_MS(10)}, .cork = true},
    {.name = "cork_tiny_window", .imp = {.loss = 0.02, .delay = TW_MS(5)}, .rcvbuf = 2048,
     .sndbuf = 4096, .max_bytes = 40000, .cork = true},
    /* From the mix48 sweep of the space the cases above leave (README, "Impairment
       sweep"): extremes and combinations. Points where a side legitimately runs out of
       retransmissions (an orphan's 8, Linux's tcp_orphan_retries, on a link that loses
       a third of the round trips) get tcp_retries2's 15, as loss20. */
    /* A one-packet queue at 1 Gbit/s: retransmissions lost in it, SACK blocks both ways
       (RACK's lost retransmission once waited behind new data until the RTO) */
    {.name = "queue1_gbit", .imp = {.delay = TW_MS(1), .rate_bps = 1000000000, .queue_pkts = 1}},
    {.name = "burst_queue2",
     .imp = {.burst_loss = 0.05, .delay = TW_MS(10), .rate_bps = 10000000, .queue_pkts = 2},
     .orphan_retries = 15},
    {.name = "reorder_dup_heavy",
     .imp = {.reorder = 0.5, .dup = 0.5, .reorder_delay = TW_MS(20), .delay = TW_MS(5)}},
    {.name = "corrupt20", .imp = {.corrupt = 0.20, .delay = TW_MS(10)}, .max_bytes = 60000,
     .orphan_retries = 15},
    {.name = "jitter_over_delay", .imp = {.delay = TW_MS(1), .jitter = TW_MS(100)}},
    {.name = "mss536_nosack_nots",
     .imp = {.loss = 0.02, .reorder = 0.3, .dup = 0.1, .delay = TW_MS(10)}, .mtu = 576,
     .no_sack = true, .no_ts = true, .max_bytes = 50000},
    {.name = "newreno_bare", .imp = {.loss = 0.05, .reorder = 0.1, .delay = TW_MS(10)},
     .cc = TW_CC_NEWRENO, .no_sack = true, .no_ts = true, .no_wscale = true},
    {.name = "bufs300", .imp = {.loss = 0.05, .delay = TW_MS(10)}, .rcvbuf = 300,
     .sndbuf = 300, .max_bytes = 20000},
    /* Buffers of a few bytes: the send ring's head once lay past the end of a buffer
       of sndbuf's size (heap overflow), and a receive buffer below one unit of the
       window scale advertised a window of 0 for good */
    {.name = "sndbuf1", .imp = {.delay = TW_MS(5)}, .rcvbuf = 128, .sndbuf = 1,
     .max_bytes = 1500},
    {.name = "rcvbuf100", .imp = {.loss = 0.02, .delay = TW_MS(5)}, .rcvbuf = 100,
     .max_bytes = 3000},
    /* Both ends resending over the other's 100-byte buffer under loss and reordering
       (tcpwave sim --set rcvbuf=100 --loss 0.05 --reorder 0.2 --bytes 3000 stalled 2
       runs in 300): each took part of the other's resent segment, then refused every
       later one, which began before its RCV.NXT and ended past its right edge, ACK and
       all, and each numbered its pure ACKs behind the other's RCV.NXT: both ends in
       FIN-WAIT-1 for ever (RFC 9293 3.10.7.4's test read as an overlap fixed it;
       r05_segment_over_whole_window) */
    {.name = "rcvbuf100_reorder",
     .imp = {.loss = 0.05, .reorder = 0.2, .reorder_delay = TW_MS(20), .delay = TW_MS(10)},
     .rcvbuf = 100, .rcvbuf_tuned = true, .max_bytes = 3000},
    /* The same without SACK and timestamps: the one 128-byte unit offered over the
       100-byte buffer was taken only in part, every full window's tail refused and
       each resend at a backed-off RTO (3 runs in 4 failed; the default buffer is now
       at least one unit of the scale, tw_stack_new) */
    {.name = "rcvbuf100_bare",
     .imp = {.loss = 0.02, .reorder = 0.1, .reorder_delay = TW_MS(20), .delay = TW_MS(10)},
     .rcvbuf = 100, .rcvbuf_tuned = true, .no_sack = true, .no_ts = true, .max_bytes = 3000},
    /* ECN with every ECT packet marked CE, half the packets duplicated: each end
       reduces by PRR (Linux's CWR state) on ACKs of segments cut short by the SACK
       blocks they carried. PRR counted in bytes and a lost retransmission's stale
       entry (taken for news) left the window below one segment with nothing in
       flight: no ACK or timer came to move it (5 runs in 100 of the repro's mix,
       found by scripts/sim_random.sh; s18_ecn_cwr_short_segment) */
    {.name = "ecn_ce_dup",
     .imp = {.ecn_mark = 1, .dup = 0.5, .burst_loss = 0.1, .delay = TW_MS(1),
             .jitter = TW_MS(100)},
     .ecn = true, .orphan_retries = 15},
    /* A memory budget with room for a listener, a connection, the receive reserve and
       a few ring blocks, both ends writing at once: each end's send buffer filled the
       budget with unacknowledged data, leaving none to take in the other's, and an end
       that had read everything could not write while its empty receive buffer kept its
       blocks (a stall for good in every run of tcpwave sim --set max_memory=105000
       --bytes 300000; test_limits' budget tests) */
    {.name = "budget_both_ways", .imp = {.loss = 0.01, .reorder = 0.05},
     .mem_spare = 2400 + 4096 + 3 * 4096, .orphan_retries = 15},
    /* Eight connections at once over one lossy link, and then under a budget that holds
       them, the receive reserve and six ring blocks: the blocks go round by the
       connections' idle ones given back (tw_conn_reclaim's walk; before it, every run
       stalled). With four blocks, 8 runs in 500 lost a connection: its third segment
       found no memory for the child while the others' buffers held it all, its
       half-open entry ran out of SYN+ACK retries, and the client's next segment met a
       RST, as a server without memory for a connection answers (Linux drops that ACK
       too). */
    {.name = "conns8", .imp = {.loss = 0.02, .jitter = TW_MS(5)}, .conns = 8,
     .max_bytes = 100000, .orphan_retries = 15},
    {.name = "budget_conns8", .imp = {.loss = 0.01}, .conns = 8,
     .mem_spare = 8 * 600 + 2400 + 4096 + 6 * 4096, .max_bytes = 100000,
     .orphan_retries = 15},
    {.name = "delay2s", .imp = {.loss = 0.05, .delay = TW_SEC(2)}, .max_bytes = 100000,
     .orphan_retries = 15},
    /* One-hour RTT: only testable because nothing reads a clock. The timers are told
       (as a satellite-link operator would) to wait longer than the path takes. */
    {.name = "hour_rtt", .imp = {.delay = TW_SEC(1800)}, .rto_initial = TW_SEC(3 * 3600),
     .rto_max = TW_SEC(6 * 3600), .time_limit = TW_SEC(40 * 3600), .max_bytes = 200000},
};
#define NCASES (sizeof cases / sizeof cases[0])

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static void usage(void)
{
    fprintf(stderr, "usage: sim_soak [--runs N] [--seed S] [--case NAME] [--bytes N] [--list]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned long runs = 170;
    uint64_t seed = 1, bytes = 300000;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            runs = strtoul(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--case") && i + 1 < argc) {
            only = argv[++i];
        } else if (!strcmp(argv[i], "--bytes") && i + 1 < argc) {
            bytes = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--list")) {
            for (size_t c = 0; c < NCASES; c++) {
                printf("%s\n", cases[c].name);
            }
            return 0;
        } else {
            usage();
        }
    }
    if (only) {
        size_t c = 0;
        while (c < NCASES && strcmp(cases[c].name, only)) {
            c++;
        }
        if (c == NCASES) {
            fprintf(stderr, "sim_soak: no case named %s (see --list)\n", only);
            return 2;
        }
    }
    unsigned long passed = 0, failed = 0;
    for (unsigned long i = 0; i < runs; i++) {
        const soak_case *k = NULL;
        uint64_t s;
        if (only) {
            for (size_t c = 0; c < NCASES; c++) {
                if (!strcmp(cases[c].name, only)) {
                    k = &cases[c];
                }
            }
            s = seed + i;
        } else {
            k = &cases[i % NCASES];
            s = seed + i / NCASES;
        }
        tw_sim_xfer x;
        memset(&x, 0, sizeof x);
        x.seed = s;
        x.imp = k->imp;
        x.cc = k->cc;
        x.no_sack = k->no_sack;
        x.no_timestamps = k->no_ts;
        x.no_wscale = k->no_wscale;
        x.mtu = k->mtu;
        x.rcvbuf = k->rcvbuf;
        x.rcvbuf_tuned = k->rcvbuf_tuned;
        x.sndbuf = k->sndbuf;
        x.rto_initial = k->rto_initial;
        x.rto_max = k->rto_max;
        x.time_limit = k->time_limit;
        x.syn_retries = k->retries;
        x.orphan_retries = k->orphan_retries;
        x.cork = k->cork;
        x.ecn = k->ecn;
        x.mem_spare = k->mem_spare;
        x.conns = k->conns;
        if (getenv("TW_SOAK_TRACE")) {
            x.trace = print_event;
        }
        uint64_t max = k->max_bytes ? k->max_bytes : bytes;
        x.bytes_c2s = mix(s * 3 + 1) % (max + 1);
        x.bytes_s2c = mix(s * 3 + 2) % (max + 1);
        tw_sim_xfer_result r;
        if (tw_sim_transfer(&x, &r) != 0) {
            r.ok = false;
            snprintf(r.why, sizeof r.why, "out of memory in the simulator");
        }
        if (r.ok) {
            passed++;
        } else {
            failed++;
            printf("FAIL case %s seed %llu: %s\n  repro: %s --case %s --seed %llu --runs 1 "
                   "--bytes %llu\n",
                   k->name, (unsigned long long)s, r.why, argv[0], k->name,
                   (unsigned long long)s, (unsigned long long)max);
        }
    }
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed ? 1 : 0;
}
