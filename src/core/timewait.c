/*
 * timewait.c -- compact TIME-WAIT records (SPEC S14-S17, RFC 9293 3.10.7.4 TIME-WAIT,
 * RFC 1337, RFC 6191). Layout and rationale in timewait.h.
 */
#include "core/timewait.h"

#include <string.h>

static void trace_tw(tw_stack *st, const tw_tw *t, tw_trace_kind kind, tw_state old_state,
                     tw_state new_state, const tw_seg_summary *seg)
{
    if (!st->cfg.trace) {
        return;
    }
    tw_trace_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    ev.now = st->now;
    ev.conn_id = t->conn_id;
    ev.old_state = old_state;
    ev.new_state = new_state;
    ev.counter = TW_CNT_COUNT_;
    if (seg) {
        ev.seg = *seg;
    } else {
        ev.seg.saddr = st->cfg.addr;
        ev.seg.daddr = (uint32_t)(t->h.key >> 32);
        ev.seg.sport = (uint16_t)t->h.key;
        ev.seg.dport = (uint16_t)(t->h.key >> 16);
    }
    if (kind == TW_TRACE_TIMER) {
        ev.timer = TW_TIMER_TIME_WAIT;
    }
    st->cfg.trace(&ev, st->cfg.trace_ud);
}

bool tw_timewait_enter(tw_socket *c)
{
    tw_stack *st = c->st;
    if (st->cfg.max_time_wait && st->tws.count >= st->cfg.max_time_wait) {
        return false;
    }
    tw_tw *t = tw_mem_zalloc(&st->mem, sizeof(*t));
    if (!t) {
        return false;
    }
    t->kind = TW_OBJ_TIMEWAIT;
    t->h.key = tw_tuple_key(c->raddr, c->rport, c->lport);
    t->flags = (c->flags & TW_F_TS) ? TW_TWF_TS : 0;
    t->rcv_wscale = c->rcv_wscale;
    t->snd_nxt = c->snd_nxt.v;
    t->rcv_nxt = c->rcv_nxt.v;
    t->ts_recent = c->ts_recent;
    t->conn_id = (uint32_t)c->id;
    uint32_t space = c->rcvbuf_cap >> c->rcv_wscale;
    t->win = (uint16_t)(space > 65535u ? 65535u : space);
    tw_htab_insert(&st->tws, &st->mem, &t->h);
    /* S15: keep the end set when TIME-WAIT began (c->misc_at, restarted by S16); a
       close() during TIME-WAIT must not start a fresh 2*MSL. */
    tw_wheel_arm(&st->wheel, &t->timer, tw_time_to_tick(c->misc_at));
    tw_conn_free(c);
    return true;
}

void tw_timewait_free(tw_stack *st, tw_tw *t)
{
    tw_wheel_cancel(&st->wheel, &t->timer);
    tw_htab_remove(&st->tws, &t->h);
    tw_mem_free(&st->mem, t, sizeof(*t));
    tw_stack_trim_if_idle(st);
}

static void tw_send_ack(tw_stack *st, const tw_tw *t)
{
    uint32_t raddr = (uint32_t)(t->h.key >> 32);
    uint16_t rport = (uint16_t)(t->h.key >> 16), lport = (uint16_t)t->h.key;
    tw_tcp_opts o;
    memset(&o, 0, sizeof(o));
    if (t->flags & TW_TWF_TS) {
        o.present = TW_OPT_TS;
        o.ts_val = tw_ts_now(st, tw_ts_offset(st, raddr, rport, lport));
        o.ts_ecr = t->ts_recent;
    }
    tw_out_bare(st, raddr, lport, rport, t->snd_nxt, t->rcv_nxt, TW_ACK, t->win, &o);
}

bool tw_timewait_input(tw_stack *st, tw_tw *t, const tw_seg *s, uint32_t *isn_floor)
{
    trace_tw(st, t, TW_TRACE_SEG_IN, TW_STATE_TIME_WAIT, TW_STATE_TIME_WAIT, &s->sum);
    if (s->flags & TW_RST) {
        /* RFC 1337: a RST must not end TIME-WAIT early (TIME-WAIT assassination). */
        tw_drop(st, TW_CNT_TCP_RX_TW_RST_IGNORED, &s->sum, NULL);
        return true;
    }
    if ((s->flags & TW_SYN) && !(s->flags & TW_ACK)) {
        /* S17, RFC 6191: a new SYN may take the 4-tuple over only when it is surely from
           a newer incarnation: a newer timestamp when both used them, else a sequence
           number above everything the old connection received. */
        bool newer;
        if ((t->flags & TW_TWF_TS) && (s->h->o.present & TW_OPT_TS)) {
            newer = (int32_t)(s->h->o.ts_val - t->ts_recent) > 0;
        } else {
            newer = tw_seq_gt(s->seq, tw_seq_make(t->rcv_nxt));
        }
        if (newer && isn_floor) {
            tw_count(st, TW_CNT_TCP_TW_REUSED);
            /* Our next ISN must lie above anything the old incarnation sent (Linux adds
               65535 + 2 to the old snd_nxt likewise). */
            *isn_floor = t->snd_nxt + 65535u + 2u;
            trace_tw(st, t, TW_TRACE_STATE, TW_STATE_TIME_WAIT, TW_STATE_CLOSED, NULL);
            tw_timewait_free(st, t);
            return false;
        }
        tw_drop(st, TW_CNT_TCP_RX_TW_SEGMENT, &s->sum, NULL);
        tw_send_ack(st, t);
        return true;
    }
    tw_drop(st, TW_CNT_TCP_RX_TW_SEGMENT, &s->sum, NULL);
    if (s->flags & TW_FIN) {
        /* S16: the peer's FIN again: our last ACK was lost. ACK and restart 2*MSL. */
        tw_wheel_arm(&st->wheel, &t->timer,
                     tw_time_to_tick(tw_time_add(st->now, 2 * st->cfg.msl)));
        tw_send_ack(st, t);
    } else if (s->data_len || !tw_seq_eq(s->seq, tw_seq_make(t->rcv_nxt))) {
        /* RFC 9293 3.10.7.4: an unacceptable segment gets an ACK. */
        tw_send_ack(st, t);
    }
    return true;
}

void tw_timewait_on_timer(tw_stack *st, tw_tw *t)
{
    tw_count(st, TW_CNT_TCP_TW_RECYCLED_TIMEOUT);
    trace_tw(st, t, TW_TRACE_TIMER, TW_STATE_TIME_WAIT, TW_STATE_TIME_WAIT, NULL);
    trace_tw(st, t, TW_TRACE_STATE, TW_STATE_TIME_WAIT, TW_STATE_CLOSED, NULL);
    tw_htab_remove(&st->tws, &t->h);
    tw_mem_free(&st->mem, t, sizeof(*t));
    tw_stack_trim_if_idle(st);
}
