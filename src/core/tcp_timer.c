/*
 * tcp_timer.c -- connection timers: retransmission (RFC 6298), TIME-WAIT (S15) and
 * orphan reaping (R7), and the RTT estimator.
 *
 * Each connection has one wheel entry armed at the earliest of rto_at and misc_at; which
 * deadline is due is decided here when it fires.
 */
#include "core/tcp_conn.h"

static tw_time clamp_rto(const tw_stack *st, tw_time rto)
{
    if (rto < st->cfg.rto_min) {
        rto = st->cfg.rto_min;
    }
    if (rto > st->cfg.rto_max) {
        rto = st->cfg.rto_max;
    }
    return rto;
}

void tw_rtt_sample(tw_socket *c, tw_time r)
{
    /* RFC 6298 2.2-2.3, with alpha = 1/8 and beta = 1/4; the clock granularity G is the
       wheel's tick. */
    if (c->srtt == 0) {
        c->srtt = r ? r : 1;
        c->rttvar = r / 2;
    } else {
        tw_time delta = c->srtt > r ? c->srtt - r : r - c->srtt;
        c->rttvar = (3 * c->rttvar + delta) / 4;
        c->srtt = (7 * c->srtt + r) / 8;
    }
    tw_time k = 4 * c->rttvar;
    c->rto = clamp_rto(c->st, c->srtt + (k > TW_TICK ? k : TW_TICK));
}

void tw_rto_arm(tw_socket *c)
{
    if (c->rto_at == TW_TIME_NEVER) {
        c->rto_at = tw_time_add(c->st->now, c->rto);
        tw_conn_timer_update(c);
    }
}

static void trace_timer(tw_socket *c, tw_timer_kind kind)
{
    tw_stack *st = c->st;
    if (!st->cfg.trace) {
        return;
    }
    tw_trace_event ev = {0};
    ev.kind = TW_TRACE_TIMER;
    ev.now = st->now;
    ev.conn_id = c->id;
    ev.sock = c;
    ev.old_state = ev.new_state = (tw_state)c->state;
    ev.iss = c->iss.v;
    ev.irs = c->irs.v;
    ev.counter = TW_CNT_COUNT_;
    ev.timer = kind;
    st->cfg.trace(&ev, st->cfg.trace_ud);
}

/* Returns false when the connection was freed. */
static bool on_rto(tw_socket *c)
{
    tw_stack *st = c->st;
    tw_count(st, TW_CNT_TCP_RTO_FIRED);
    trace_timer(c, TW_TIMER_RTO);
    unsigned limit;
    if (c->state == TW_STATE_SYN_SENT) {
        limit = st->cfg.syn_retries;
    } else if (c->state == TW_STATE_SYN_RCVD) {
        limit = st->cfg.synack_retries;
    } else if (c->flags & TW_F_ORPHAN) {
        limit = st->cfg.orphan_retries;
    } else {
        limit = st->cfg.retries;
    }
    if (c->retries >= limit) {
        /* S9: out of retries: the attempt fails with a clear error, nothing left. */
        tw_count(st, TW_CNT_TCP_CONN_TIMEDOUT);
        tw_conn_done(c, TW_ERR_TIMEDOUT);
        return false;
    }
    c->retries++;
    /* RFC 6298 5.5: back off the timer. Karn: no RTT sample from what is resent. */
    c->rto = c->rto * 2 > st->cfg.rto_max ? st->cfg.rto_max : c->rto * 2;
    c->flags &= ~TW_F_RTT_TIMING;
    if (c->state == TW_STATE_SYN_SENT || c->state == TW_STATE_SYN_RCVD) {
        c->total_retrans++;
        tw_out_syn(c, true);
    } else {
        tw_out_retransmit(c);
    }
    c->rto_at = tw_time_add(st->now, c->rto);
    return true;
}

void tw_conn_on_timer(tw_socket *c)
{
    tw_stack *st = c->st;
    if (tw_time_reached(c->misc_at, st->now)) {
        c->misc_at = TW_TIME_NEVER;
        if (c->state == TW_STATE_TIME_WAIT) {
            trace_timer(c, TW_TIMER_TIME_WAIT); /* S15: 2*MSL elapsed */
            tw_conn_done(c, 0);
            return;
        }
        if (c->state == TW_STATE_FIN_WAIT_2 && (c->flags & TW_F_ORPHAN)) {
            /* R7: the peer never sent its FIN; nobody is waiting for this connection. */
            trace_timer(c, TW_TIMER_ORPHAN);
            tw_count(st, TW_CNT_TCP_ORPHAN_REAPED);
            tw_conn_done(c, 0);
            return;
        }
    }
    if (tw_time_reached(c->rto_at, st->now)) {
        c->rto_at = TW_TIME_NEVER;
        if (!on_rto(c)) {
            return;
        }
    }
    tw_conn_timer_update(c);
}
