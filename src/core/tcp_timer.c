/*
 * tcp_timer.c -- connection timers: retransmission (RFC 6298), TIME-WAIT (S15) and
 * orphan reaping (R7), and the RTT estimator.
 *
 * Each connection has one wheel entry armed at the earliest of rto_at and misc_at; which
 * deadline is due is decided here when it fires.
 */
#include "core/fastopen.h"
#include "core/ecn.h"
#include "core/tcp_conn.h"

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

static bool user_timeout_ok(tw_socket *c);
static bool on_early(tw_socket *c);

/* RFC 9293 3.10.8 (user timeout), issue 6: the abort comes when the user timeout runs
   out, not at the first backed-off expiry after it, so a peer that never ACKs or keeps
   its window closed holds the connection no longer than asked (as Linux does with
   tcp_clamp_rto_to_user_timeout and tcp_clamp_probe0_to_user_timeout). */
static tw_time clamp_to_user_timeout(const tw_socket *c, tw_time at)
{
    tw_time user_timeout = tw_conn_user_timeout(c);
    if (user_timeout) {
        tw_time end = tw_time_add(c->stall_start, user_timeout);
        if (end < at) {
            at = end;
        }
    }
    return at;
}

/* Linux's tcp_model_timeout: how long `boundary` expiries take with the timeout doubling
   from rto_min up to rto_max (924.6 s for tcp_retries2 = 15 with 200 ms and 120 s). */
static tw_time retries_timeout(const tw_config *cfg, unsigned boundary)
{
    tw_time base = cfg->rto_min ? cfg->rto_min : 1;
    unsigned thresh = 0;
    while (thresh < 62 && (base << (thresh + 1)) <= cfg->rto_max) {
        thresh++; /* ilog2(rto_max / rto_min) */
    }
    if (boundary <= thresh) {
        return ((2ull << boundary) - 1) * base;
    }
    return ((2ull << thresh) - 1) * base + (tw_time)(boundary - thresh) * cfg->rto_max;
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
        /* (one more for a child opened by Fast Open, as Linux's
           tcp_fastopen_synack_timer: it may have been accepted already) */
        limit = st->cfg.synack_retries + (tw_tfo_child_queued(c) ? 1u : 0u);
    } else if (c->flags & TW_F_ORPHAN) {
        limit = st->cfg.orphan_retries;
    } else {
        limit = st->cfg.retries;
    }
    if (!user_timeout_ok(c)) {
        return false;
    }
    bool out = c->retries >= limit;
    if (c->state >= TW_STATE_ESTABLISHED && !st->cfg.retries_count) {
        /* Linux's retransmits_timed_out: tcp_retries2 (and orphan_retries) bound the time
           since the data waited for an ACK, not the count, by the time `limit`
           expiries would take from rto_min doubling to rto_max; a large RTO then gives
           up after fewer retransmissions, a small one after more. (From stall_start,
           the last progress, where Linux counts from the head's first sending: no
           earlier.) At least one retransmission first. */
        out = c->retries > 0 && st->now - c->stall_start >= retries_timeout(&st->cfg, limit);
    }
    if (out && c->snd_wnd == 0 && c->state >= TW_STATE_ESTABLISHED &&
        !(c->flags & (TW_F_ORPHAN | TW_F_SYN_UNACKED)) &&
        st->now - c->last_rcv <= 2 * st->cfg.rto_max) {
        /* The peer shrank its window to nothing under our data (RFC 7323 2.4) and these
           resends are its window probes: RFC 1122 4.2.2.17 keeps them going for as long
           as the peer answers. As Linux (tcp_retransmit_timer's zero-window case,
           tcp_rtx_probe0_timed_out): given up only after 2 * rto_max without a word
           from the peer (or by the user timeout, above); an orphan is not kept. */
        out = false;
    }
    if (out) {
        /* S9: out of retries: the attempt fails with a clear error, nothing left: the
           soft error an ICMP message reported since the last new ACK if there is one
           (RFC 1122 4.2.3.9, Linux's tcp_write_err), else TW_ERR_TIMEDOUT. */
        tw_count(st, TW_CNT_TCP_CONN_TIMEDOUT);
        tw_conn_done(c, tw_conn_timeout_err(c));
        return false;
    }
    c->retries++;
    /* RFC 6298 5.5: back off the timer. Karn: no RTT sample from what is resent. */
    c->rto = c->rto * 2 > st->cfg.rto_max ? st->cfg.rto_max : c->rto * 2;
    c->flags &= ~TW_F_RTT_TIMING;
    if (c->state == TW_STATE_SYN_SENT || c->state == TW_STATE_SYN_RCVD) {
        c->total_retrans++;
        /* (Fast Open: RFC 7413 4.2.2, no data on the SYN sent again; a child's SYN+ACK
           with data sent after it: fastopen.c) */
        if (!(c->flags & TW_F_EXTRAS) || !tw_tfo_syn_timeout(c)) {
            tw_out_syn(c, true);
        }
    } else if (c->flags & TW_F_SYN_UNACKED) {
        /* FIN-WAIT-1 entered from SYN-RECEIVED (tw_conn_fin_syn_rcvd): the oldest
           unacknowledged is our SYN, sent again as it was; the FIN follows once the SYN
           is acknowledged (as Linux retransmits the queue's head, its SYN+ACK). */
        c->total_retrans++;
        tw_out_synack_again(c);
    } else {
        if (c->flags & TW_F_EXTRAS) {
            tw_ecn_rto(c); /* (ECN's reduction under way ends: ecn.h) */
        }
        tw_out_retransmit(c);
    }
    c->rto_at = clamp_to_user_timeout(c, tw_time_add(st->now, c->rto));
    return true;
}

/* RFC 8985 7.2: a probe may go out when SACK is in use, the connection is not in loss
   recovery (Open or Disorder: Linux asks for Open, RACK's reordering timer covering
   Disorder there), TLP is on, data is outstanding, and no earlier probe is still
   unanswered: one probe per tail, until the cumulative ACK passes TLP.end_seq. */
static bool tlp_may_probe(const tw_socket *c)
{
    const tw_sbx *x = tw_conn_sbx(c);
    return (c->flags & TW_F_SACK) && c->ca_state <= TW_CA_DISORDER && !c->st->cfg.no_tlp &&
        c->srtt != 0 && !tw_seq_eq(c->snd_una, c->snd_max) &&
        (x == NULL || !x->tlp_on || tw_seq_ge(c->snd_una, x->tlp_end));
}

/* The tail loss probe goes now (traced); RFC 8985 7.3: after it the RTO runs, not another
   PTO. Returns that RTO's deadline, TW_TIME_NEVER when no probe could go. */
static tw_time probe_then_rto(tw_socket *c)
{
    trace_timer(c, TW_TIMER_TLP);
    return tw_out_tlp(c) ? tw_time_add(c->st->now, c->rto) : TW_TIME_NEVER;
}

/* The retransmission slot ran out before the RTO was due (stall_start + rto, or the
   deadline RACK's timer kept, rto_due): it ran for the probe timeout
   (tw_conn_pto_or_rto) or RACK's reordering timer (tw_rack_act). RFC 8985 6.3: RACK's
   detection; 7.2-7.3: the probe if one may go, the RTO re-armed after it; otherwise
   the slot waits for what is due next. Returns false when the connection was freed
   (the user timeout). */
static __attribute__((noinline, cold)) bool on_early(tw_socket *c)
{
    tw_stack *st = c->st;
    if (!user_timeout_ok(c)) {
        return false;
    }
    tw_sbx *x = tw_conn_sbx(c);
    tw_time due = tw_conn_rto_due(c);
    tw_time next = due;
    if (tw_rack_active(c)) {
        tw_time t = tw_rack_detect(c);
        tw_rack_act(c, 0);
        if (c->ca_state >= TW_CA_RECOVERY) {
            tw_out_push(c); /* what was marked lost goes again (RFC 6675 NextSeg; after
                               a timeout a retransmission lost again) */
        }
        if (t && tw_time_add(st->now, t) < next) {
            next = tw_time_add(st->now, t);
        }
    }
    if (tlp_may_probe(c)) {
        /* RFC 8985 7.2: the PTO, at most the RTO */
        tw_time pto = tw_conn_tlp_pto(c, (uint32_t)tw_seq_diff(c->snd_max, c->snd_una));
        if (pto < c->rto) {
            tw_time at = tw_time_add(c->stall_start, pto);
            if (!tw_time_reached(at, st->now)) {
                next = at < next ? at : next;
            } else {
                tw_time after = probe_then_rto(c);
                if (after != TW_TIME_NEVER) {
                    due = next = after;
                    x = tw_conn_sbx(c); /* (made by the probe) */
                }
            }
        }
    }
    if (x != NULL) {
        x->rto_due = due;
    }
    if (c->rto_at == TW_TIME_NEVER || next < c->rto_at) {
        c->rto_at = clamp_to_user_timeout(c, next);
    }
    return true;
}

/* The RTO is due with no probe sent for this tail: the PTO was not shorter than the RTO
   (a one-segment flight's PTO carries the delayed-ACK allowance, so a lone FIN's or a
   short RTT's most often is not). RFC 8985 7.2: "if the time at which an RTO would fire
   is sooner than the computed time for the PTO, then the sender schedules a TLP to be
   sent at that RTO time", as Linux's tcp_schedule_loss_probe puts the probe in the
   RTO's place: the probe goes now, with no back-off and no window cut, and the RTO runs
   after it (7.3). True when the probe went. */
static __attribute__((noinline, cold)) bool rto_as_probe(tw_socket *c)
{
    /* (Open only, as Linux's tcp_schedule_loss_probe: in Disorder it arms no probe,
       RACK's reordering timer being there, and the RTO comes. The user timeout is
       on_rto's to check: rto_at is clamped to it, below, and the expiry after the probe
       is the RTO's.) */
    if (c->state < TW_STATE_ESTABLISHED || (c->flags & TW_F_SYN_UNACKED) ||
        c->ca_state != TW_CA_OPEN || !tlp_may_probe(c)) {
        return false;
    }
    tw_time due = probe_then_rto(c);
    if (due == TW_TIME_NEVER) {
        return false;
    }
    tw_sbx *x = tw_conn_sbx(c); /* (made by the probe) */
    if (x != NULL) {
        x->rto_due = due;
    }
    c->rto_at = clamp_to_user_timeout(c, due);
    return true;
}

void tw_keepalive_reset(tw_socket *c)
{
    c->ka_sent = 0;
    /* RFC 1122 4.2.3.6: any idle synchronized connection, as Linux, whose keepalive
       timer runs in every state but CLOSED, LISTEN and SYN-SENT (TIME-WAIT has nobody to
       probe: the peer closed); a setting changed after a close must not stop it. */
    if ((c->flags & TW_F_KEEPALIVE) && c->state >= TW_STATE_ESTABLISHED &&
        c->state < TW_STATE_TIME_WAIT) {
        c->ka_at = tw_time_add(c->last_rcv, tw_conn_ka_idle(c));
    } else {
        c->ka_at = TW_TIME_NEVER;
    }
}

void tw_persist_start(tw_socket *c)
{
    tw_stack *st = c->st;
    c->flags |= TW_F_PERSIST;
    c->persist_backoff &= (uint8_t)~TW_PERSIST_BACKOFF; /* (the soft error stays) */
    c->stall_start = st->now;
    tw_time d = c->rto < st->cfg.rto_min ? st->cfg.rto_min : c->rto;
    c->rto_at = tw_time_add(st->now, d);
    tw_conn_timer_update(c);
}

void tw_timer_after_send_slow(tw_socket *c)
{
    bool outstanding = !tw_seq_eq(c->snd_una, c->snd_max);
    tw_seq data_end = tw_seq_add(c->snd_buf_seq, c->snd.len);
    /* data not yet sent, or a FIN queued and never sent (it waits for the window) */
    bool waiting = tw_seq_lt(c->snd_nxt, data_end) ||
                   ((c->flags & TW_F_FIN_QUEUED) && !tw_seq_gt(c->snd_max, data_end));
    if (outstanding) {
        if (c->flags & TW_F_PERSIST) {
            c->flags &= ~TW_F_PERSIST;
            c->rto_at = TW_TIME_NEVER;
        }
        tw_rto_arm(c);
    } else if (waiting) {
        /* RFC 9293 3.8.6.1: a closed window with data (or the FIN) waiting: probe it
           (D2). A window too small for the sender's SWS rule (3.8.6.2.1) waits here
           too, and so does a short segment TCP_CORK or MSG_MORE holds (tcp_out.c
           cork_hold), as Linux's tcp_check_probe_timer: nothing else holds data with
           nothing in flight. */
        if (!(c->flags & TW_F_PERSIST)) {
            tw_persist_start(c);
        }
    } else if (c->rto_at != TW_TIME_NEVER) {
        c->flags &= ~TW_F_PERSIST;
        c->rto_at = TW_TIME_NEVER;
        tw_conn_timer_update(c);
    }
}

/* RFC 5482 / Linux TCP_USER_TIMEOUT. Returns false when the connection was aborted. */
static bool user_timeout_ok(tw_socket *c)
{
    tw_stack *st = c->st;
    tw_time user_timeout = tw_conn_user_timeout(c);
    if (user_timeout && st->now - c->stall_start >= user_timeout) {
        tw_count(st, TW_CNT_TCP_USER_TIMEDOUT);
        tw_count(st, TW_CNT_TCP_CONN_TIMEDOUT);
        tw_conn_done(c, tw_conn_timeout_err(c)); /* (Linux: tcp_write_err) */
        return false;
    }
    return true;
}

static bool on_persist(tw_socket *c)
{
    tw_stack *st = c->st;
    trace_timer(c, TW_TIMER_PERSIST);
    /* With the window taking all that waits, TCP_CORK or MSG_MORE held it (tcp_out.c
       cork_hold): the wait is the application's, not the peer's, and no user timeout
       counts it (Linux's probe timer starts that clock at its first probe). */
    tw_seq data_end = tw_seq_add(c->snd_buf_seq, c->snd.len);
    bool corked = !(c->flags & TW_F_FIN_QUEUED) && tw_seq_gt(data_end, c->snd_nxt) &&
                  tw_seq_le(data_end, tw_seq_add(c->snd_una, c->snd_wnd));
    if (!corked && !user_timeout_ok(c)) {
        return false;
    }
    unsigned limit = (c->flags & TW_F_ORPHAN) ? st->cfg.orphan_retries : st->cfg.retries;
    unsigned backoff = c->persist_backoff & TW_PERSIST_BACKOFF;
    tw_time base = c->rto < st->cfg.rto_min ? st->cfg.rto_min : c->rto;
    if ((c->flags & TW_F_ORPHAN) && backoff >= limit &&
        (backoff >= 16 || (base << backoff) >= st->cfg.rto_max)) {
        /* RFC 1122 4.2.2.17 keeps a zero window open for ever while the peer answers,
           for the application's sake; an orphan has none. As Linux's tcp_probe_timer
           (tcp_orphan_retries with its "alive" test), once the probe interval has
           reached rto_max and orphan_retries probes have gone, an orphan is given up
           even though its probes are answered: a peer that keeps its window shut
           cannot hold the memory for ever (10 probes, about 6 minutes). */
        tw_count(st, TW_CNT_TCP_CONN_TIMEDOUT);
        tw_conn_done(c, tw_conn_timeout_err(c)); /* (Linux: tcp_write_err) */
        return false;
    }
    if (c->probes_out >= limit) {
        /* Like Linux's probe timer: a peer that answers no probe at all is gone (RFC
           1122 4.2.2.17 allows a closed window for ever only while it keeps ACKing). */
        tw_count(st, TW_CNT_TCP_CONN_TIMEDOUT);
        tw_conn_done(c, tw_conn_timeout_err(c)); /* (Linux: tcp_write_err) */
        return false;
    }
    if ((c->persist_backoff & TW_PERSIST_BACKOFF) == 0 && c->snd_wnd == 0 &&
        tw_conn_user_timeout(c)) {
        /* TCP_USER_TIMEOUT under a closed window counts from the first probe, as Linux's
           icsk_probes_tstamp (tcp_probe_timer, tcp_clamp_probe0_to_user_timeout): the
           data has not left before it (RFC 5482: the time sent data may stay
           unacknowledged). Checked against Linux 6.18 over TUN: 3 s after the first
           probe (d03_user_timeout_zero_window.pkt). */
        c->stall_start = st->now;
    }
    tw_count(st, TW_CNT_TCP_PERSIST_PROBE);
    c->persist_probes++;
    c->probes_out++;
    if (c->snd_wnd) {
        /* RFC 9293 3.8.6.2.1 (4), RFC 1122 4.2.3.4: the override timeout of the sender's
           SWS avoidance: send what the small window takes; the RTO then takes over. */
        tw_out_probe_data(c);
        tw_timer_after_send_slow(c);
        return true;
    }
    tw_out_probe(c);
    /* Back off like the retransmission timer (RFC 9293 3.8.6.1), capped at rto_max. */
    if ((c->persist_backoff & TW_PERSIST_BACKOFF) < 16) {
        c->persist_backoff++;
    }
    tw_time d = base << (c->persist_backoff & TW_PERSIST_BACKOFF);
    if (d > st->cfg.rto_max || d < base) {
        d = st->cfg.rto_max;
    }
    c->rto_at = clamp_to_user_timeout(c, tw_time_add(st->now, d));
    return true;
}

static bool on_keepalive(tw_socket *c)
{
    tw_stack *st = c->st;
    /* RFC 1122 4.2.3.6: keep-alives test an idle connection. With data in flight or
       waiting (or a FIN not yet sent) the retransmission or persist timer already asks
       the peer and ends the connection if it is gone; a keep-alive count running beside
       it would abort long before the retries do. Look again one idle time later, as
       Linux's tcp_keepalive_timer does ("alive without keepalive"). */
    if (!tw_seq_eq(c->snd_una, c->snd_max) || c->snd.len ||
        ((c->flags & TW_F_FIN_QUEUED) && !tw_conn_fin_sent(c))) {
        c->ka_at = tw_time_add(st->now, tw_conn_ka_idle(c));
        return true;
    }
    tw_time idle = st->now - c->last_rcv;
    if (c->ka_sent == 0 && idle < tw_conn_ka_idle(c)) {
        c->ka_at = tw_time_add(c->last_rcv, tw_conn_ka_idle(c)); /* traffic came meanwhile */
        return true;
    }
    trace_timer(c, TW_TIMER_KEEPALIVE);
    /* With a user timeout set (RFC 5482, RFC 9293 3.10.8), it bounds the silence in
       place of the probe count: once a probe is out, the peer silent that long is gone
       (Linux's tcp_keepalive_timer, the same test). */
    tw_time user_timeout = tw_conn_user_timeout(c);
    if (user_timeout ? c->ka_sent > 0 && idle >= user_timeout
                     : c->ka_sent >= tw_conn_ka_probes(c)) {
        /* RFC 1122 4.2.3.6: the peer is gone. Like Linux, tell it with a RST in case
           it is only deaf. */
        tw_count(st, TW_CNT_TCP_KEEPALIVE_TIMEDOUT);
        tw_count(st, TW_CNT_TCP_CONN_TIMEDOUT);
        tw_out_rst_conn(c);
        tw_conn_done(c, TW_ERR_TIMEDOUT);
        return false;
    }
    tw_count(st, TW_CNT_TCP_KEEPALIVE_PROBE);
    c->ka_sent++;
    tw_out_probe(c);
    c->ka_at = tw_time_add(st->now, tw_conn_ka_intvl(c));
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
        bool alive;
        if (c->flags & TW_F_PERSIST) {
            alive = on_persist(c);
        } else if ((__builtin_expect(!tw_time_reached(tw_time_add(c->stall_start, c->rto), st->now),
                                     0) ||
                    (c->sb != NULL && tw_conn_sbx(c)->rto_due > st->now)) &&
                   c->state >= TW_STATE_ESTABLISHED && !(c->flags & TW_F_SYN_UNACKED)) {
            /* armed by tw_conn_pto_or_rto or tw_rack_act: before the RTO is due */
            alive = on_early(c);
        } else if (rto_as_probe(c)) {
            alive = true;
        } else {
            alive = on_rto(c);
        }
        if (!alive) {
            return;
        }
    }
    if (tw_time_reached(c->dack_at, st->now)) {
        c->dack_at = TW_TIME_NEVER;
        trace_timer(c, TW_TIMER_DELACK);
        tw_count(st, TW_CNT_TCP_DELAYED_ACK);
        tw_out_ack(c);
    }
    if (tw_time_reached(c->ka_at, st->now)) {
        c->ka_at = TW_TIME_NEVER;
        if (!on_keepalive(c)) {
            return;
        }
    }
    tw_conn_timer_update(c);
}
