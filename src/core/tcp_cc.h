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
#include "core/seq.h"

struct tw_socket;

/* HyStart++ (RFC 9406) in the initial slow start: its state lives in tw_cc_state's room
   while ssthresh has its initial value (UINT32_MAX, tw_cc_init), where neither
   algorithm uses its own fields (CUBIC's and NewReno's are for congestion avoidance and
   the reduction, and are all zero until then: tw_conn_alloc zeroes them, and the first
   reduction or the end of HyStart++ sets ssthresh). Whoever moves ssthresh from its
   initial value zeroes the room first (the algorithms' on_loss through tw_hystart_end,
   the end of CSS), so that the algorithm starts from the state it has always started
   from; a restart after idle in the initial slow start zeroes it too (tcp_out.c
   tw_out_idle_restart: HyStart++ starts over). An undo (tcp_sack.c) restores the room
   and ssthresh together. */
typedef struct tw_hystart {
    tw_time last_min;   /* lastRoundMinRTT (TW_TIME_NEVER: infinity) */
    tw_time cur_min;    /* currentRoundMinRTT */
    tw_time css_base;   /* cssBaselineMinRtt */
    tw_seq window_end;  /* the round ends when SND.UNA reaches it */
    uint8_t phase;      /* TW_HS_*: 0 (zeroed) until the first ACK it sees */
    uint8_t samples;    /* rttSampleCount (saturates) */
    uint8_t css_rounds; /* rounds of CSS ended, the partial first among them */
    uint8_t css_frac;   /* CSS growth below one byte (bytes % CSS_GROWTH_DIVISOR) */
} tw_hystart;

#define TW_HS_NONE 0
#define TW_HS_SS 1  /* standard slow start, watching the round's RTT */
#define TW_HS_CSS 2 /* Conservative Slow Start */

typedef struct tw_cc_state {
    union {
        struct {
            /* CUBIC (RFC 9438 4): */
            uint32_t w_max;      /* bytes, cwnd before the last reduction */
            uint32_t w_est;      /* bytes, Reno-friendly estimate (4.3) */
            uint32_t cwnd_epoch; /* bytes, cwnd at the start of the epoch */
            /* NewReno congestion avoidance (RFC 5681 3.1, bytes_acked as in RFC 3465);
               here, between the 32-bit fields and the 64-bit ones, so the struct has no
               padding: */
            uint32_t ca_acked;
            tw_time epoch_start; /* 0: no epoch */
            double k;            /* seconds to reach w_max again */
            double frac;         /* growth below one byte, carried to the next ACK */
        };
        tw_hystart hs; /* while ssthresh == UINT32_MAX (above) */
    };
} tw_cc_state;

struct tw_tcp_opts;

typedef struct tw_cc_ops {
    const char *name;
    /* cwnd growth for `acked` newly acknowledged bytes, outside recovery; `o`: the ACK's
       options (HyStart++'s RTT sample from its timestamp echo; NULL: none). */
    void (*on_ack)(struct tw_socket *c, uint32_t acked, const struct tw_tcp_opts *o);
    /* A loss was detected (fast retransmit or RTO): return the new ssthresh. */
    uint32_t (*on_loss)(struct tw_socket *c, tw_time now);
} tw_cc_ops;

extern const tw_cc_ops tw_cc_newreno;
extern const tw_cc_ops tw_cc_cubic;

const tw_cc_ops *tw_cc_get(tw_cc_algo algo);
/* Slow start with Appropriate Byte Counting (RFC 3465, L = 2*SMSS); returns the bytes
   left over once cwnd reached ssthresh. Shared by every algorithm. In the initial slow
   start HyStart++ (RFC 9406) takes the ACK (tw_hystart_on_ack) unless turned off
   (tw_config.no_hystart). */
uint32_t tw_cc_slow_start(struct tw_socket *c, uint32_t acked, const struct tw_tcp_opts *o);

/* tcp_cc_hystart.c: HyStart++'s steps for an ACK in the initial slow start that grows
   cwnd by `inc` bytes in standard slow start (min(N, L*SMSS)): grows cwnd itself (by
   inc, or inc / CSS_GROWTH_DIVISOR in CSS) and may end slow start (ssthresh = cwnd). */
void tw_hystart_on_ack(struct tw_socket *c, uint32_t inc, const struct tw_tcp_opts *o);
/* ssthresh is about to leave its initial value for a congestion signal (a loss, an ECE:
   the algorithms' on_loss): HyStart++ ends, its room goes back to the algorithm zeroed. */
void tw_hystart_end(struct tw_socket *c);

#endif
