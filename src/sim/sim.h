/*
 * sim.h -- an in-memory network joining several tcpwave stacks on virtual time.
 *
 * Each stack added to a tw_sim gets a netdev whose transmit puts the packet on a queue of
 * in-flight packets, delivered to the stack owning the destination address after the
 * link delay. Impairments (loss, duplication, reordering, delay, jitter) are drawn from a
 * seeded generator, so a run is a pure function of its seed. Time moves only inside
 * tw_sim_run_*: the simulator delivers packets and fires stack timers in time order.
 *
 *   tw_sim_new(&sim, seed)
 *   tw_sim_add_stack(sim, &cfg, &a); tw_sim_add_stack(sim, &cfg2, &b);
 *   ... socket calls with tw_sim_now(sim) ...
 *   tw_sim_run_until(sim, tw_sim_now(sim) + TW_MS(100));
 */
#ifndef TW_SIM_H
#define TW_SIM_H

#include "tcpwave.h"

typedef struct tw_sim tw_sim;

typedef struct tw_sim_impair {
    double loss;      /* probability a packet is dropped */
    double dup;       /* probability a packet is delivered twice */
    double reorder;   /* probability a packet is held back by an extra `reorder_delay` */
    tw_time reorder_delay;
    tw_time delay;    /* one-way propagation delay */
    tw_time jitter;   /* uniform extra delay in [0, jitter] (may reorder) */
    double burst_loss; /* Gilbert-Elliott: probability a good link turns bad per packet;
                          a bad link loses half its packets and turns good with 0.3 */
    double corrupt;   /* probability one random bit of the packet is flipped */
    uint64_t rate_bps; /* bottleneck rate per direction (bits/s), 0 = unlimited */
    uint32_t queue_pkts; /* bottleneck queue (1500-byte packets); tail drop beyond; 0 = 100 */
    /* ECN (RFC 3168 5), when above 0: an ECT packet that loss or the queue would drop is
       marked CE and delivered instead, as an ECN router marks rather than drops, and any
       other ECT packet is marked with this probability. */
    double ecn_mark;
} tw_sim_impair;

/* Decide the fate of one packet: return 0 to pass it, nonzero to drop it. Called before
   impairments, for every packet; `from`/`to` are stack indexes (order of add_stack). */
typedef int (*tw_sim_filter_fn)(const uint8_t *pkt, size_t len, int from, int to, void *ud);
/* Observe every packet when it is delivered (after impairments), e.g. for pcap. */
typedef void (*tw_sim_tap_fn)(const uint8_t *pkt, size_t len, tw_time now, int from, int to,
                              void *ud);

/* Returns 0 or TW_ERR_NOMEM. Virtual time starts at `start` (use e.g. TW_SEC(1)). */
int tw_sim_new(tw_sim **out, uint64_t seed, tw_time start);
/* Frees the simulator and every stack in it. */
void tw_sim_free(tw_sim *sim);
/* Create a stack on the network (cfg->addr must be unique; cfg->entropy is filled from
   the seed when all zero). mtu 0 means 1500. Returns its index or a TW_ERR_*. */
int tw_sim_add_stack(tw_sim *sim, const tw_config *cfg, uint16_t mtu, tw_stack **out);
tw_stack *tw_sim_stack(const tw_sim *sim, int idx);
void tw_sim_set_impair(tw_sim *sim, const tw_sim_impair *imp);
void tw_sim_set_filter(tw_sim *sim, tw_sim_filter_fn fn, void *ud);
void tw_sim_set_tap(tw_sim *sim, tw_sim_tap_fn fn, void *ud);
tw_time tw_sim_now(const tw_sim *sim);
/* Deliver packets and fire timers in time order until virtual time `until`. */
void tw_sim_run_until(tw_sim *sim, tw_time until);
/* Run until nothing is in flight and no stack has a deadline before `limit`; returns the
   time reached. */
tw_time tw_sim_run_idle(tw_sim *sim, tw_time limit);
/* Packets in flight now; packets sent, dropped, duplicated so far. */
size_t tw_sim_in_flight(const tw_sim *sim);
/* Packets dropped by the bottleneck queue, corrupted. */
uint64_t tw_sim_queue_drops(const tw_sim *sim);
uint64_t tw_sim_corrupted(const tw_sim *sim);
/* Packets marked CE (ecn_mark). */
uint64_t tw_sim_ce_marked(const tw_sim *sim);
uint64_t tw_sim_sent(const tw_sim *sim);
uint64_t tw_sim_dropped(const tw_sim *sim);
/* A deterministic pseudo-random 64-bit value from the simulator's generator. */
uint64_t tw_sim_rand(tw_sim *sim);

/* ---- seeded two-stack transfers (used by `tcpwave sim`, the soak test, benchmarks) -- */

#define TW_SIM_XFER_CONNS_MAX 64

typedef struct tw_sim_xfer {
    uint64_t seed;
    uint64_t bytes_c2s, bytes_s2c; /* payload each way */
    tw_sim_impair imp;
    tw_cc_algo cc;
    bool no_sack, no_timestamps, no_wscale;
    bool ecn;                      /* both ends ask for ECN (RFC 3168; tcpwave sim --set
                                      ecn=1); 0: the stack default (accept only) */
    uint32_t rcvbuf, sndbuf;       /* 0: stack default (auto-tuned); a size given is
                                      fixed (no auto-tuning of that buffer) */
    /* rcvbuf is only the receive buffer's first size, auto-tuned from there (as tcpwave
       sim --set rcvbuf=N: the window scale then covers the ceiling, and one unit of it
       can exceed the buffer) */
    bool rcvbuf_tuned;
    uint16_t mtu;                  /* 0: 1500 */
    tw_time time_limit;            /* virtual; 0: 1 hour plus 100 RTO backoffs */
    tw_time msl;                   /* 0: 1 s */
    tw_time rto_initial, rto_max;  /* 0: stack defaults */
    uint8_t syn_retries, retries;  /* 0: stack defaults */
    uint8_t orphan_retries;        /* 0: the stack's default (8, Linux's) */
    uint32_t conns;                /* connections at once, each carrying bytes_c2s and
                                      bytes_s2c (the same streams); 0: 1, at most
                                      TW_SIM_XFER_CONNS_MAX */
    size_t mem_spare;              /* > 0: each stack's memory budget
                                      (tw_config.max_memory) is what it holds once made
                                      plus this; 0: no budget */
    bool cork;                     /* both ends write in random sizes (from the seed), now
                                      and then with MSG_MORE, and turn TCP_CORK on and
                                      off as they go */
    void (*trace)(const tw_trace_event *ev, void *ud); /* both stacks' events, or NULL */
    void *trace_ud;
} tw_sim_xfer;

typedef struct tw_sim_xfer_result {
    bool ok;                       /* every byte right both ways, both ends closed cleanly,
                                      no connection, record or live byte left */
    char why[200];
    tw_time duration;              /* virtual time from connect until both ends closed */
    double goodput_c2s, goodput_s2c; /* payload bits per virtual second */
    uint64_t retrans, fast_retransmits, rtos; /* both ends together */
    tw_state final_client, final_server; /* each end's state when its application closed */
    uint64_t packets, dropped;
} tw_sim_xfer_result;

/* Run one transfer: the client connects, both send their bytes (generated from the seed,
   checked with a hash), the client half-closes first while the server keeps sending,
   then the server closes; TIME-WAIT runs out. Returns 0 (see r->ok) or TW_ERR_NOMEM. */
int tw_sim_transfer(const tw_sim_xfer *x, tw_sim_xfer_result *r);

#endif
