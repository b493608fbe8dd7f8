/*
 * tcp_cc_newreno.c -- Reno/NewReno congestion window growth (RFC 5681 3.1) with
 * Appropriate Byte Counting (RFC 3465). The NewReno part proper, partial ACKs during
 * fast recovery (RFC 6582), is in the shared recovery code.
 */
#include "core/tcp_cc.h"
#include "core/tcp_conn.h"

uint32_t tw_cc_slow_start(tw_socket *c, uint32_t acked, const tw_tcp_opts *o)
{
    if (c->cwnd >= c->ssthresh) {
        return acked;
    }
    /* RFC 3465 2.2: grow by the bytes acknowledged, at most 2*SMSS per ACK. */
    uint32_t cap = 2u * c->snd_mss;
    uint32_t inc = acked < cap ? acked : cap;
    if (c->ssthresh == UINT32_MAX && !c->st->cfg.no_hystart) {
        /* RFC 9406 4.3: HyStart++ in the initial slow start only, ssthresh at its
           initial value; later slow starts (after a timeout) stop at the ssthresh the
           loss gave. (L, the limit on the bytes one ACK counts, stays RFC 3465's 2*SMSS
           of the rest of tcpwave's slow start: RFC 9406 4.3 suggests 8 for a sender
           without pacing; Linux caps none.) */
        tw_hystart_on_ack(c, inc, o);
        return 0;
    }
    uint32_t room = c->ssthresh - c->cwnd;
    if (inc < room) {
        c->cwnd += inc;
        return 0;
    }
    /* RFC 5681 3.1: only what is left once cwnd reaches ssthresh counts for congestion
       avoidance, within the same 2*SMSS. Bytes over that limit are not "left": a
       cumulative ACK that jumps over megabytes after a timeout (one hole, the rest
       received) would otherwise hand them all to congestion avoidance and CUBIC's Reno
       estimate would open the window by thousands of segments at once. */
    c->cwnd = c->ssthresh;
    uint32_t left = acked - room;
    return left < cap ? left : cap;
}

static void newreno_on_ack(tw_socket *c, uint32_t acked, const tw_tcp_opts *o)
{
    acked = tw_cc_slow_start(c, acked, o);
    if (!acked) {
        return;
    }
    /* RFC 5681 3.1 congestion avoidance: one SMSS per cwnd of acknowledged bytes. */
    c->cc.ca_acked += acked;
    if (c->cc.ca_acked >= c->cwnd) {
        c->cc.ca_acked -= c->cwnd;
        c->cwnd += c->snd_mss;
    }
}

static uint32_t newreno_on_loss(tw_socket *c, tw_time now)
{
    (void)now;
    if (c->ssthresh == UINT32_MAX) {
        tw_hystart_end(c); /* (RFC 9406 4.2: a loss ends slow start, CSS or not) */
    }
    /* RFC 5681 (4): ssthresh = max(FlightSize / 2, 2*SMSS). */
    uint32_t flight = (uint32_t)tw_seq_diff(c->snd_max, c->snd_una);
    if (c->ca_state == TW_CA_DISORDER && flight > c->cwnd) {
        /* RFC 5681 3.2 step 2: "additional data sent in limited transmit MUST NOT be
           included in this calculation"; those are the bytes beyond cwnd (RFC 3042). */
        flight = c->cwnd;
    }
    uint32_t half = flight / 2;
    c->cc.ca_acked = 0;
    return half > 2u * c->snd_mss ? half : 2u * c->snd_mss;
}

const tw_cc_ops tw_cc_newreno = {"newreno", newreno_on_ack, newreno_on_loss};

const tw_cc_ops *tw_cc_get(tw_cc_algo algo)
{
    return algo == TW_CC_NEWRENO ? &tw_cc_newreno : &tw_cc_cubic;
}
