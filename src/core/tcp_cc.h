/*
 * tcp_cc.h -- congestion control behind a small interface (SPEC D4; RFC 5681, RFC 9438).
 *
 * The connection keeps cwnd and ssthresh in bytes; an algorithm decides how cwnd grows
 * on new ACKs outside loss recovery and what ssthresh becomes on a loss. Loss recovery
 * itself (fast retransmit, NewReno partial ACKs, SACK-based recovery, RTO) is
 * algorithm-independent and lives in tcp_in.c / tcp_out.c.
 */
#ifndef TW_CORE_TCP_CC_H
#define TW_CORE_TCP_CC_H

#include "tcpwave.h"

struct tw_socket;

typedef struct tw_cc_state {
    /* CUBIC (RFC 9438 4): */
    uint32_t w_max;       /* bytes, cwnd before the last reduction */
    uint32_t w_est;       /* bytes, Reno-friendly estimate (4.3) */
    uint32_t cwnd_epoch;  /* bytes, cwnd at the start of the epoch */
    /* NewReno congestion avoidance (RFC 5681 3.1, bytes_acked as in RFC 3465); here,
       between the 32-bit fields and the 64-bit ones, so the struct has no padding: */
    uint32_t ca_acked;
    tw_time epoch_start;  /* 0: no epoch */
    double k;             /* seconds to reach w_max again */
    double frac;          /* growth below one byte, carried to the next ACK */
} tw_cc_state;

typedef struct tw_cc_ops {
    const char *name;
    /* cwnd growth for `acked` newly acknowledged bytes, outside recovery. */
    void (*on_ack)(struct tw_socket *c, uint32_t acked, tw_time now);
    /* A loss was detected (fast retransmit or RTO): return the new ssthresh. */
    uint32_t (*on_loss)(struct tw_socket *c, tw_time now);
} tw_cc_ops;

extern const tw_cc_ops tw_cc_newreno;
extern const tw_cc_ops tw_cc_cubic;

const tw_cc_ops *tw_cc_get(tw_cc_algo algo);
/* Slow start with Appropriate Byte Counting (RFC 3465, L = 2*SMSS); returns the bytes
   left over once cwnd reached ssthresh. Shared by every algorithm. */
uint32_t tw_cc_slow_start(struct tw_socket *c, uint32_t acked);

#endif
