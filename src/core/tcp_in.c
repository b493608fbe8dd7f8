/*
 * tcp_in.c -- SEGMENT ARRIVES (RFC 9293 3.10.7).
 *
 * tw_tcp_input() demultiplexes a segment tw_stack_input has validated (connection,
 * TIME-WAIT record, listener, nothing); then one function per state group: in_closed
 * (3.10.7.1), in_listen (3.10.7.2), in_syn_sent (3.10.7.3) and, for the other states,
 * the RFC's checks in its order: in_check_seq (first), in_check_rst (second),
 * in_check_syn (fourth), in_process_ack (fifth), in_process_text (seventh),
 * in_process_fin (eighth). The sixth (URG) is RFC 6093's reading: urgent data is
 * delivered inline like any other byte.
 *
 * Functions that may free the connection return IN_DONE; the caller must not touch it
 * after that.
 */
#include "core/arch.h"
#include "core/tcp_conn.h"
#include "core/timewait.h"
#include "core/syncookie.h"
#include "core/reqsk.h"
#include "core/fastopen.h"
#include "core/ecn.h"

#include <string.h>

typedef enum in_result {
    IN_CONTINUE = 0,
    IN_DONE = 1, /* segment consumed; the connection may have been freed */
} in_result;

/* An ACK that may wait for the end of the host's turn (tw_out_push). Only one segment's
   ACK is ever held: a second one in the same turn sends it (RFC 5681 4.2 / RFC 1122
   4.2.3.2: at least every second segment). ACKs that signal loss, a filled hole, a
   window edge or a repeated FIN are never held (TW_F_ACK_NOW). */
static inline __attribute__((always_inline)) void ack_soon(tw_stack *st, tw_socket *c)
{
    assert(c->st == st); /* (given apart: see fast_do) */
    uint32_t seg = (uint32_t)st->counters[TW_CNT_TCP_RX_SEGMENTS];
    /* (the flags read and written once: the segment's store could alias them) */
    uint32_t f = c->flags;
    if ((f & TW_F_ACK_LAZY) && c->lazy_seg != seg) {
        f |= TW_F_ACK_NOW;
    }
    c->flags = f | TW_F_ACK_LAZY;
    c->lazy_seg = seg;
}

/* ack_soon with the flags changed in memory (an orl each: the rare one, a second segment
   in the turn, apart), for ack_policy_as's first segments, whose caller reads the flags
   again from memory after it: GCC otherwise kept them loaded for the one store, its test
   of TW_F_ACK_LAZY made on the register (measured: lifecycle -2 instr, as fin_in_order_in
   does for the peer's FIN). */
static inline __attribute__((always_inline)) void ack_soon_mem(tw_stack *st, tw_socket *c)
{
#if TW_ASM_X86
    assert(c->st == st); /* (given apart: see fast_do) */
    uint32_t seg = (uint32_t)st->counters[TW_CNT_TCP_RX_SEGMENTS];
    if ((c->flags & TW_F_ACK_LAZY) && c->lazy_seg != seg) {
        __asm__("orl %[set], %[f]" : [f] "+m"(c->flags) : [set] "i"((int32_t)TW_F_ACK_NOW) : "cc");
    }
    __asm__("orl %[set], %[f]" : [f] "+m"(c->flags) : [set] "i"((int32_t)TW_F_ACK_LAZY) : "cc");
    c->lazy_seg = seg;
#else
    ack_soon(st, c);
#endif
}

static bool synced_rcv_state(const tw_socket *c)
{
    /* States in which new data from the peer is accepted (RFC 9293 3.10.7.4 seventh). */
    return c->state == TW_STATE_ESTABLISHED || c->state == TW_STATE_FIN_WAIT_1 ||
           c->state == TW_STATE_FIN_WAIT_2;
}

/* ---- CLOSED (3.10.7.1) ---- */

/* (out of line and cold: a segment for a closed port is rare, and the usual packet's
   function, which inlines its steps for a segment of no connection, then makes the
   header's address only on this way; measured: lifecycle -1 instr) */
static __attribute__((noinline, cold)) void in_closed(tw_stack *st, const tw_seg *s)
{
    /* R3: a segment for no connection gets a RST, but never a RST for a RST. */
    if (s->flags & TW_RST) {
        tw_drop(st, TW_CNT_TCP_RX_RST_NO_SOCKET, &s->sum, NULL);
        return;
    }
    tw_drop(st, TW_CNT_TCP_RX_NO_SOCKET, &s->sum, NULL);
    tw_out_rst_reply(st, s);
}

/* While one segment is processed, the connection's timer is held: its deadlines may
   change several times, and the wheel is told once at the end (or not at all when the
   connection is freed on the way, tw_conn_free lets go of it). */
static inline void timer_hold(tw_stack *st, tw_socket *c)
{
    st->timer_held = c;
    st->timer_dirty = false;
}

static inline void timer_release(tw_stack *st, tw_socket *c)
{
    if (st->timer_held) {
        st->timer_held = NULL;
        if (st->timer_dirty) {
            tw_conn_timer_update_unheld(st, c);
        }
    }
}

/* tw_conn_timer_update with its held case inline: while a segment is processed the
   usual change of a deadline only marks the held timer dirty, and costs no call. */
static inline void timer_changed_in(tw_stack *st, tw_socket *c)
{
    assert(c->st == st);
    if (c == st->timer_held) {
        st->timer_dirty = true;
    } else {
        tw_conn_timer_update_unheld(st, c);
    }
}

static inline void timer_changed(tw_socket *c)
{
    timer_changed_in(c->st, c);
}

/* tw_conn_set_state where the caller may know that nothing traces (`may_trace` false: the
   usual packet's function, which a traced stack's packets do not take). */
static inline __attribute__((always_inline)) void set_state_mt(tw_socket *c, tw_state s,
                                                               bool may_trace)
{
    if (may_trace) {
        tw_conn_set_state(c, s);
    } else {
        tw_conn_set_state_untraced(c, s);
    }
}

/* ---- LISTEN (3.10.7.2) ---- */

static void in_synchronized(tw_socket *c, tw_seg *s);
static inline __attribute__((always_inline)) void in_promoted(tw_stack *st, tw_socket *c, tw_seg *s,
                                                              const tw_tcp_hdr *h, bool usual,
                                                              tw_reqsk *r, tw_socket *l,
                                                              uint32_t ts_recent, uint32_t space,
                                                              uint8_t *blk, bool may_trace,
                                                              bool quick, unsigned pm);
/* A receive ring's first block that input_unsummed filled with a third segment's text
   (`blk`) when the segment takes the full steps (which copy the text from the packet
   again) or is dropped: nothing to do. The block is the parked receive block of the
   connection object the child takes (the connection free list's first: tcp_conn.h
   tw_conn_rings_kept), so it stays that object's: listed still, or the child's, whose
   ring takes its text where it is placed (tw_conn_rcv_reserve: the parked block). */
static inline void third_blk_back(tw_stack *st, uint8_t *blk)
{
    (void)st;
    (void)blk;
}

/* A child of listener `l` for the peer of segment `s`, whose 4-tuple's key is `key`
   (tw_tuple_key), not yet in any state, with trace identity `id`, and the flags `more`
   besides its own (req_promote's: the one store of them all, where a second read them
   back, as a store through the entry might have changed them). Inline in its
   callers: a passive open's third segment pays no frame for it. */
/* (`promoted`, a constant: req_promote's, which fills three more runs of the object
   whole, tcp_conn.h TW_CONN_CHILD_PROMOTED; `rq`, req_promote's entry, whose SYN+ACK
   worked out the addresses' fields: NULL for a SYN cookie's or Fast Open's child) */
static inline __attribute__((always_inline)) tw_socket *new_child(tw_stack *st, tw_socket *l,
                                                                  const tw_seg *s, uint64_t key,
                                                                  uint32_t id, uint32_t more,
                                                                  bool promoted, const tw_reqsk *rq,
                                                                  unsigned wide_as)
{
    assert(l->st == st); /* (given apart: the caller's, in a register) */
    /* (the free list's object with the template's runs for the fields set below left
       zero, tcp_conn.h tw_conn_init_as; the slow path's with them, overwritten alike) */
    tw_socket *c =
        tw_conn_alloc_in(st, id, (promoted ? TW_CONN_CHILD_PROMOTED : TW_CONN_CHILD) | wide_as);
    if (!c) {
        tw_drop(st, TW_CNT_RX_NOMEM, &s->sum, l);
        return NULL;
    }
    /* (TW_F_CHILD: l is its port's listener) TW_F_REUSE: like Linux's child, which is
       put in its listener's bind bucket with the listener's SO_REUSEADDR
       (__inet_inherit_port). It holds no count of its port while the listener is there
       (which holds the port for it: bind() and listen() are refused, connect's choice
       passes it by); listener_stop counts the accepted ones as the port's owners when
       it goes, and a TIME-WAIT record of one takes a count when made (timewait.c
       make_in). All of the flags, stored whole (the congestion control's is the
       listener's, as Linux's child takes its listener's, not the stack's default). */
    c->flags = more | TW_F_PASSIVE | TW_F_CHILD |
               (l->flags & (TW_F_NODELAY | TW_F_CC_NEWRENO | TW_F_KEEPALIVE | TW_F_CORK |
                            TW_F_REUSE));
    /* Like Linux, a child takes the listener's socket options: Nagle, TCP_CORK (checked
       against Linux 6.18 over TUN), congestion control, SO_KEEPALIVE, and SO_LINGER 0,
       the keepalive times and TCP_USER_TIMEOUT (in opts: SO_LINGER 0 always, the others
       when set away from the defaults), copied before the child is one of l's: freed on
       failure, it is nobody's (its flags cleared first: not yet l's child, whose count
       tw_conn_free would take down). */
    /* (TW_CONN_AS_LISTED: req_promote's quick copies, which have found l without them:
       promote_quick_ok) */
    assert(!(wide_as & TW_CONN_AS_LISTED) || !l->opts);
    if (!(wide_as & TW_CONN_AS_LISTED) && __builtin_expect(l->opts != NULL, 0)) {
        c->opts = tw_mem_alloc(&st->mem, sizeof(*c->opts));
        if (!c->opts) {
            c->flags = 0;
            tw_conn_free(c);
            tw_drop(st, TW_CNT_RX_NOMEM, &s->sum, l);
            return NULL;
        }
        *c->opts = *l->opts;
        c->flags |= TW_F_EXTRAS;
    }
    /* raddr, rport and lport: the key's bytes (tcp_conn.h), stored as one */
    /* (s->raddr is not set for a SYN queue entry's segment, nor the ports in s->h:
       input_unsummed; the entry's key is its segment's 4-tuple) */
    assert((uint16_t)key == l->lport && (s->raddr == 0 || key >> 32 == s->raddr));
    c->h.key = key;
    if (rq) {
        /* (the entry's SYN+ACK worked out the peer's address and the sum: reqsk.h) */
        assert(rq->out_ndst == tw_be32((uint32_t)(key >> 32)) &&
               rq->out_afold == tw_cksum_fold18((uint64_t)st->addr_net + rq->out_ndst));
        tw_conn_out_prep_as(c, st->addr_net, rq->out_ndst, rq->out_afold);
    } else {
        tw_conn_out_prep(st, c);
    }
    c->sndbuf_cap = l->sndbuf_cap;
    c->rcvbuf_cap = l->rcvbuf_cap;
    c->local_mss = l->local_mss;
    c->rcv_wscale = l->wscale_offer; /* tw_wscale_for(c->rcvbuf_cap) */
    return c;
}

/* S8 / RFC 4987: answer a SYN without keeping any state; the SYN+ACK's ISN (and, with
   timestamps, our TSval) carries what the connection will need. */
static void send_cookie_synack(tw_socket *l, const tw_seg *s)
{
    tw_stack *st = l->st;
    const tw_tcp_opts *po = &s->h->o;
    uint16_t mss;
    uint16_t pm = (po->present & TW_OPT_MSS) && po->mss ? po->mss : 536; /* (0: none) */
    uint32_t isn = tw_cookie_make(st, s->raddr, s->h->sport, l->lport, s->seq.v, pm, &mss);
    tw_tcp_opts o;
    memset(&o, 0, sizeof(o));
    o.present = TW_OPT_MSS;
    o.mss = tw_conn_local_mss(l);
    bool ecn = false;
    if ((po->present & TW_OPT_TS) && !st->cfg.no_timestamps) {
        /* Without timestamps there is nowhere to keep window scale and SACK: the
           connection then goes without them, as on Linux. */
        bool ws = (po->present & TW_OPT_WSCALE) && !st->cfg.no_wscale;
        bool sack = (po->present & TW_OPT_SACK_PERM) && !st->cfg.no_sack;
        /* RFC 3168 6.1.1, an ECN-setup SYN: agreed in the cookie's TSval (Linux: only
           there, so not without timestamps) */
        ecn = (s->flags & (TW_ECE | TW_CWR)) == (TW_ECE | TW_CWR) && st->cfg.ecn != TW_ECN_OFF;
        uint32_t off = tw_ts_offset(st, s->raddr, s->h->sport, l->lport);
        o.present |= TW_OPT_TS;
        o.ts_val = tw_cookie_ts_encode(tw_ts_now(st, off), ws ? po->wscale : -1, sack, ecn);
        o.ts_ecr = po->ts_val;
        if (ws) {
            o.present |= TW_OPT_WSCALE;
            o.wscale = l->wscale_offer;
        }
        if (sack) {
            o.present |= TW_OPT_SACK_PERM;
        }
    }
    if (s->data_len) {
        tw_count(st, TW_CNT_TCP_RX_SYN_DATA_IGNORED); /* S6 */
    }
    uint16_t win = l->syn_wnd;
    assert(win == tw_syn_wnd(l->rcvbuf_cap));
    tw_count(st, TW_CNT_TCP_SYNCOOKIE_SENT);
    l->cookie_time = st->now ? st->now : 1;
    tw_out_bare(st, s->raddr, l->lport, s->h->sport, isn, tw_seq_add(s->seq, 1).v,
                (uint8_t)(TW_SYN | TW_ACK | (ecn ? TW_ECE : 0)), win, &o);
}

/* The third segment of a cookie handshake: rebuild the connection from the cookie. */
static void in_cookie_ack(tw_socket *l, tw_seg *s)
{
    tw_stack *st = l->st;
    uint16_t mss;
    tw_cookie_result r = tw_cookie_check(st, s->raddr, s->h->sport, l->lport, s->seq.v - 1,
                                         s->ack.v - 1, &mss);
    if (r != TW_COOKIE_OK) {
        tw_drop(st, r == TW_COOKIE_EXPIRED ? TW_CNT_TCP_SYNCOOKIE_EXPIRED
                                           : TW_CNT_TCP_SYNCOOKIE_FAILED,
                &s->sum, l);
        tw_out_rst_reply(st, s);
        return;
    }
    if (l->acc_len > l->backlog ||
        (st->cfg.max_connections && st->nconns >= st->cfg.max_connections)) {
        tw_drop(st, TW_CNT_TCP_RX_LISTEN_OVERFLOW, &s->sum, l);
        return;
    }
    tw_socket *c = new_child(st, l, s, tw_tuple_key(s->raddr, s->h->sport, l->lport),
                             (uint32_t)++st->next_conn_id, 0, false, NULL, 0);
    if (!c) {
        return;
    }
    tw_tcp_opts peer; /* what tw_conn_apply_peer_syn reads of it (present says which) */
    peer.present = TW_OPT_MSS;
    peer.mss = mss;
    const tw_tcp_opts *o = &s->h->o;
    bool ecn = false;
    if ((o->present & TW_OPT_TS) && !st->cfg.no_timestamps) {
        int ws;
        bool sack;
        tw_cookie_ts_decode(o->ts_ecr, &ws, &sack, &ecn);
        peer.present |= TW_OPT_TS;
        peer.ts_val = o->ts_val;
        if (ws >= 0) {
            peer.present |= TW_OPT_WSCALE;
            peer.wscale = (uint8_t)ws;
        }
        if (sack) {
            peer.present |= TW_OPT_SACK_PERM;
        }
    }
    c->irs = tw_seq_make(s->seq.v - 1);
    c->rcv_nxt = s->seq;
    c->rcv_adv = c->rcv_nxt;
    c->last_ack_sent = c->rcv_nxt; /* our SYN+ACK acknowledged the SYN (RFC 7323 4.3) */
    c->iss = tw_seq_make(s->ack.v - 1);
    c->ts_offset = tw_ts_offset(st, c->raddr, c->rport, c->lport);
    c->snd_una = c->iss;
    c->snd_nxt = s->ack;
    c->snd_max = s->ack;
    c->snd_buf_seq = s->ack;
    tw_conn_apply_peer_syn(c, &peer);
    if (ecn && st->cfg.ecn != TW_ECN_OFF) {
        tw_ecn_use(st);
        tw_ecn_child(c); /* RFC 3168 6.1.1: agreed in the SYN+ACK (the cookie's bit) */
    }
    c->snd_wl1 = c->irs;
    c->snd_wl2 = c->iss;
    tw_count(st, TW_CNT_TCP_SYNCOOKIE_OK);
    tw_count(st, TW_CNT_TCP_PASSIVE_OPENS);
    l->syn_len++;
    tw_conn_hash(c);
    tw_conn_set_state(c, TW_STATE_SYN_RCVD);
    tw_trace_conn(st, TW_TRACE_SEG_IN, c, &s->sum, TW_STATE_SYN_RCVD);
    in_synchronized(c, s);
}

/* S8: the accept queue and the SYN queue are each bounded by the backlog, as in Linux
   (or the SYN queue by syn_backlog when set); past the SYN queue, SYN cookies; and the
   stack's max_connections. True when the SYN may open a SYN queue entry; false when it
   was answered with a cookie or dropped. Out of line: in_listen asks it only when a
   setting or a full queue may say no. */
static __attribute__((noinline)) bool listen_admit(tw_stack *st, tw_socket *l, tw_seg *s,
                                                   bool have_floor, uint32_t isn_floor)
{
    /* (in_listen_fo's one test asks it past syn_plain_below, which acc_len | syn_len
       may pass with both within the backlog: the stack's defaults then let the SYN
       through as there) */
    if (st->syn_plain && l->acc_len <= l->backlog && l->syn_len <= l->backlog) {
        return true;
    }
    if (l->acc_len > l->backlog) {
        tw_drop(st, TW_CNT_TCP_RX_LISTEN_OVERFLOW, &s->sum, l);
        return false;
    }
    /* The backlog's bound as Linux 6.x's (inet_csk_reqsk_queue_is_full: qlen >
       sk_max_ack_backlog, as the accept queue's): backlog + 1 entries, so that listen(fd,
       0) still takes a connection with a plain SYN+ACK; syn_backlog, when set, as many
       as it says. */
    bool syn_full = st->cfg.syn_backlog ? l->syn_len >= st->cfg.syn_backlog
                                        : l->syn_len > l->backlog;
    if (syn_full || st->cfg.syncookies == TW_SYNCOOKIES_ALWAYS) {
        if (st->cfg.syncookies == TW_SYNCOOKIES_ALWAYS ||
            st->cfg.syncookies == TW_SYNCOOKIES_ON_OVERFLOW) { /* (then syn_full) */
            send_cookie_synack(l, s);
            return false;
        }
        tw_drop(st, TW_CNT_TCP_RX_LISTEN_OVERFLOW, &s->sum, l);
        return false;
    }
    if (st->cfg.max_connections && st->nconns >= st->cfg.max_connections) {
        tw_drop(st, TW_CNT_TCP_LIMIT_CONNS, &s->sum, l);
        return false;
    }
    /* RFC 7413 4.1.2 / 4.2: Fast Open, only past S8's limits. A SYN answered with a SYN
       cookie above never gets here, as on Linux (tcp_conn_request: no Fast Open with
       want_cookie): its data is ignored and its SYN+ACK carries no Fast Open cookie. A
       SYN that ended a TIME-WAIT record takes it too, its ISS above RFC 6191's floor, as
       Linux (tcp_conn_request: tcp_try_fastopen with the tw_isn; checked against 6.18
       over TUN, tests/oracle/t_tfo_after_tw.py). */
    if ((st->cfg.fastopen & TW_FASTOPEN_SERVER) &&
        tw_tfo_listen(st, l, s, have_floor, isn_floor)) {
        return false;
    }
    return true;
}

/* Inline in input_demux_in: the SYN of every passive open pays no frame of its own (and in
   in_listen_after_tw, where `have_floor` is true: RFC 6191's ISN floor `isn_floor`). */
/* A SYN queue entry's SYN with ECE or CWR set (in_listen), out of line: an ECN-setup SYN
   (RFC 3168 6.1.1: both), which Linux's tcp_ecn 1 and 2 accept, makes the entry's
   SYN+ACK agree (ECE alone: ecn.c) and its connection an ECN one (req_promote). */
static __attribute__((noinline, cold)) void listen_ecn(tw_reqsk *r, const tw_seg *s)
{
    tw_stack *st = r->listener->st;
    if ((s->flags & (TW_ECE | TW_CWR)) == (TW_ECE | TW_CWR) && st->cfg.ecn != TW_ECN_OFF) {
        r->opts = (uint8_t)(r->opts | TW_REQ_ECN);
        tw_ecn_use(st);
    }
}

/* A SYN without RST, ACK or FIN: what a listener takes (in_listen_fo), and never one of
   the bad combinations (tw_tcp_flags_bad). */
static inline __attribute__((unused)) bool syn_alone_of(const tw_seg *s)
{
    return (s->flags & (TW_RST | TW_ACK | TW_SYN | TW_FIN)) == TW_SYN;
}

/* tw_htab_insert_tagged of a SYN queue entry into a table that grows first, out of line
   with the stack given: the usual SYN's steps (in_listen_fo, in the usual packet's
   function) then keep no address of st->mem aside for it. */
static __attribute__((noinline, cold)) void req_insert_grow(tw_stack *st, tw_reqsk *r,
                                                            uint64_t hash)
{
    tw_htab_insert_tagged(&st->conns, &st->mem, &r->h, hash);
}

/* A SYN queue entry's SYN+ACK timer (in_listen_fo) while another timer waits unplaced:
   wheel.h tw_wheel_arm_lazy_fresh_at's slow way, out of line, its deadline worked out
   here (the usual way's caller then keeps no copy of it). */
static __attribute__((noinline, cold)) void req_timer_arm_slow(tw_stack *st, tw_reqsk *r)
{
    r->timer.pprev = NULL; /* (an entry just taken: its link holds whatever it held) */
    tw_wheel_arm_lazy_slow(&st->wheel, &r->timer, tw_time_add(st->now, st->cfg.rto_initial));
}

static inline __attribute__((always_inline)) void in_listen_fo(tw_stack *st, tw_socket *l,
                                                               tw_seg *s, const tw_tcp_hdr *h,
                                                               uint64_t key, bool have_floor,
                                                               uint32_t isn_floor, bool may_trace,
                                                               const tw_tfo_cookie *fo,
                                                               bool syn_alone)
{
    assert(l->st == st); /* (given apart: the caller's, in a register) */
    /* (`h`: s->h, given apart as the caller has it: read through s, it was loaded again
       after the entry's stores, which might alias s as far as the compiler knows; the
       usual SYN's steps leave s->h unset, seg_init, for the rare ones that read it to set
       it: listen_admit's call below) */
    assert(s->h == NULL || h == s->h);
    /* (RFC 9293 3.10.7.2's first three checks -- RST, ACK, SYN -- asked one by one only
       for a segment that is not a SYN alone, in one test) */
    /* (`syn_alone`: the caller's own test found SYN without RST, ACK or FIN, syn_alone_of,
       and no text, ECE or CWR: input_unsummed) */
    assert(!syn_alone || syn_alone_of(s));
    if (!syn_alone && (s->flags & (TW_RST | TW_ACK | TW_SYN)) != TW_SYN) {
        if (s->flags & TW_RST) {
            tw_drop(st, TW_CNT_TCP_RX_LISTEN_RST, &s->sum, l);
            return;
        }
        if (s->flags & TW_ACK) {
            if (!(s->flags & TW_SYN) && st->cfg.syncookies != TW_SYNCOOKIES_OFF &&
                l->cookie_time && st->now - l->cookie_time <= 3 * TW_COOKIE_PERIOD) {
                in_cookie_ack(l, s);
                return;
            }
            /* An ACK at a listener acknowledges nothing we sent: <SEQ=SEG.ACK><CTL=RST>. */
            tw_drop(st, TW_CNT_TCP_RX_LISTEN_ACK, &s->sum, l);
            tw_out_rst_reply(st, s);
            return;
        }
        tw_drop(st, TW_CNT_TCP_RX_LISTEN_NOSYN, &s->sum, l); /* (no SYN: the rest) */
        return;
    }
    /* SYN+FIN: RFC 9293 3.10.7.2 would open with it and take the FIN in SYN-RECEIVED;
       Linux drops it (tcp_rcv_state_process, TCP_LISTEN: "if (th->fin) goto discard",
       SKB_DROP_REASON_TCP_FLAGS), a scanner's probe that then learns nothing. tcpwave
       does as Linux. Asked only where the full parser's segments come (may_trace): the
       usual parse refuses SYN+FIN (tw_tcp_parse_usual_part), so the usual packet's
       function keeps no test for it. */
    assert(may_trace || !(s->flags & TW_FIN));
    if (may_trace && (s->flags & TW_FIN)) {
        tw_drop(st, TW_CNT_TCP_RX_BAD_FLAGS, &s->sum, l);
        return;
    }
    /* S8's limits (listen_admit) asked in full only when a setting changes them or a
       queue is at its bound: with the stack's defaults (st->syn_plain) and room in both
       queues they let the SYN through, and only that is asked here, in one test of the
       listener's (syn_plain_below: 0 without st->syn_plain, else backlog + 1, and
       acc_len | syn_len is at least the larger of the two); past it, the exact test. */
    /* (`fo`: tw_in_listen_cookie's copy, whose SYN listen_admit has let through: NULL,
       a constant, in every other) */
    assert(l->syn_plain_below == (st->syn_plain ? l->backlog + 1u : 0u));
    if (!fo && __builtin_expect((uint16_t)(l->acc_len | l->syn_len) >= l->syn_plain_below, 0)) {
        s->h = h; /* (read there: send_cookie_synack, tw_tfo_listen) */
        if (!listen_admit(st, l, s, have_floor, isn_floor)) {
            return;
        }
    }
    /* S2, S8: the half-open connection is a small entry; the connection object comes
       with the third segment (req_input). */
    tw_reqsk *r = tw_mem_take(&st->mem, TW_MC_REQ, sizeof(*r));
    if (!r && (!tw_conn_reclaim_all(st) || !(r = tw_mem_take(&st->mem, TW_MC_REQ, sizeof(*r))))) {
        tw_drop(st, TW_CNT_RX_NOMEM, &s->sum, l);
        return;
    }
    const tw_config *cfg = &st->cfg;
    const tw_tcp_opts *po = &h->o;
    /* Every field is set below rather than zeroed first: ts_recent or sent_us as opts
       has TW_OPT_TS or not (the one of the two then read), h.next by the table's
       insertion, the timer's next when it is placed (wheel.h). */
    /* The SYN+ACK's retransmission (sent below). Placed only if still armed when the
       wheel next changes: the third segment usually frees the entry first (wheel.h;
       _fresh: an entry just taken has no timer armed, and its link, not yet set, is
       cleared only where tw_wheel_arm_lazy_slow reads it). */
    /* (wheel.h tw_wheel_arm_lazy_fresh_at's steps, with the deadline worked out on each
       way apart: the usual one's kept no copy of it for the slow call's argument) */
    if (__builtin_expect(st->wheel.lazy != NULL, 0)) {
        req_timer_arm_slow(st, r);
    } else {
        wheel_lazy_wait(&st->wheel, &r->timer, tw_time_add(st->now, cfg->rto_initial));
    }
    r->kind = TW_OBJ_REQ;
    r->retries = 0;
    assert(key == tw_tuple_key(s->raddr, h->sport, l->lport));
    r->h.key = key; /* (the segment's 4-tuple, as the listener's port is its own) */
    r->listener = l;
    r->irs = s->seq.v;
    /* The peer's MSS as the connection takes it (req_promote; tw_conn_apply_peer_syn's
       rule): an option of 0 or none is 536 (RFC 9293 3.7.1), clamped at 48 below. */
    /* (mss is 0 with the option absent: tcp_hdr.h tw_tcp_opts_mss_or_0) */
    uint16_t pm = tw_tcp_opts_mss_or_0(po);
    if (__builtin_expect(pm < st->mss_slow, 0)) { /* (one test for the usual MSS) */
        pm = tw_peer_mss_slow(st, s->raddr, pm); /* (and a path MTU learnt: RFC 1191) */
    }
    r->peer_mss = pm;
    r->peer_win = h->win;
    assert(l->syn_wnd == tw_syn_wnd(l->rcvbuf_cap));
    /* rcv_wnd, and oow_at 0 (no repeated SYN answered yet), in one store (GCC merges
       only constants) */
    _Static_assert(offsetof(tw_reqsk, oow_at) == offsetof(tw_reqsk, rcv_wnd) + 2 &&
                       sizeof(r->rcv_wnd) == 2 && sizeof(r->oow_at) == 2,
                   "rcv_wnd, oow_at");
    uint32_t wnd_oow = tw_cksum_little_endian() ? l->syn_wnd : (uint32_t)l->syn_wnd << 16;
    memcpy((uint8_t *)r + offsetof(tw_reqsk, rcv_wnd), &wnd_oow, 4);
    /* S4: an option is used only if both sides offer it (ours: st->syn_opts, the
       configuration's). */
    /* The peer's window scale with them: the option's value, 0 without it as every
       parser leaves it, masked by whether we offer the option (no test). Both pairs of
       bytes side by side (the option block's flags and window scale, the stack's masks,
       the entry's fields): one 16-bit AND, whatever the byte order. */
    _Static_assert(offsetof(tw_tcp_opts, wscale) == offsetof(tw_tcp_opts, present) + 1 &&
                       offsetof(tw_stack, syn_wscale_mask) == offsetof(tw_stack, syn_opts) + 1 &&
                       offsetof(tw_reqsk, snd_wscale) == offsetof(tw_reqsk, opts) + 1,
                   "present/wscale, syn_opts/syn_wscale_mask, opts/snd_wscale");
    assert((po->present & TW_OPT_WSCALE) || po->wscale == 0);
    assert(st->syn_wscale_mask == ((st->syn_opts & TW_OPT_WSCALE) ? 0xffu : 0u));
    uint16_t ow, mask;
    memcpy(&ow, &po->present, 2);
    memcpy(&mask, &st->syn_opts, 2);
    ow &= mask;
    memcpy(&r->opts, &ow, 2);
    uint8_t opts = (uint8_t)(tw_cksum_little_endian() ? ow : ow >> 8);
    assert(opts == (po->present & st->syn_opts) &&
           r->snd_wscale == (po->wscale & st->syn_wscale_mask));
    /* (`syn_alone`: the usual SYN, which has neither: input_unsummed) */
    assert(!syn_alone || !(s->flags & (TW_ECE | TW_CWR)));
    if (!syn_alone && __builtin_expect(s->flags & (TW_ECE | TW_CWR), 0)) {
        listen_ecn(r, s); /* (a SYN with ECE or CWR set: RFC 3168) */
    }
    if (opts & TW_OPT_TS) {
        r->ts_recent = po->ts_val;
    } else {
        /* (read only for an RTT sample without timestamps: req_promote) */
        r->sent_us = (uint32_t)(st->now / TW_US(1));
    }
    uint32_t iss, ts_off;
    /* (the hash's last word, lport << 16 | sport, as the key's low half turned by 16
       bits, tw_tuple_key: one rotate, where the two ports' loads, shift and or took four) */
    uint32_t kc = (uint32_t)key;
    assert((kc << 16 | kc >> 16) == ((uint32_t)l->lport << 16 | h->sport));
    tw_isn_ts_c(st, s->raddr, kc << 16 | kc >> 16, &iss, &ts_off);
    if (have_floor && tw_seq_lt(tw_seq_make(iss), tw_seq_make(isn_floor))) {
        iss = isn_floor; /* RFC 6191: the new incarnation starts above the old one */
    }
    r->iss = iss;
    r->id = tw_stack_next_id(st);
    r->ts_off = ts_off;
    /* In the connection table (stack.h conns), which conn_find has just asked: the key is
       in neither kind there. (seg.hash: the key's) */
    /* (s->hash read once: the entry's stores might alias it as far as the compiler
       knows, which then loaded it again for r->hash) */
    uint64_t hash = s->hash;
    r->hash = hash;
    if (__builtin_expect(tw_htab_full(&st->conns), 0)) {
        req_insert_grow(st, r, hash);
    } else { /* (tw_htab_insert_tagged's steps, its growth apart) */
        tw_htab_push_tagged(&st->conns, &r->h, hash);
        tw_htab_counted(&st->conns);
    }
    st->last_req = r; /* (its third segment comes next: conn_find) */
    l->syn_len++;
    st->nconns++;
    /* (`syn_alone`: the usual SYN, which has no text, input_unsummed) */
    assert(!syn_alone || s->data_len == 0);
    if (!syn_alone && s->data_len) {
        /* S6: no data is buffered for a half-open connection; the SYN+ACK acknowledges
           only the SYN and the peer sends the bytes again. */
        tw_count(st, TW_CNT_TCP_RX_SYN_DATA_IGNORED);
    }
    tw_count(st, TW_CNT_TCP_PASSIVE_OPENS);
    if (may_trace && st->cfg.trace) { /* (the ids are built only then; no hook sees the
                                           counters) */
        tw_trace_id tid = {r->id, r->iss, r->irs, TW_STATE_CLOSED};
        tw_trace_id_event(st, TW_TRACE_SEG_IN, &tid, &s->sum, TW_STATE_CLOSED);
        tid.state = TW_STATE_SYN_RCVD;
        tw_trace_id_event(st, TW_TRACE_STATE, &tid, NULL, TW_STATE_CLOSED);
    }
    if (fo) {
        tw_req_out_prep(st, r); /* (tw_out_req_synack's making sets them: reqsk.h) */
        tw_out_req_synack_fo(st, r, fo); /* RFC 7413 4.1.2: the cookie rides on it */
        return;
    }
    if (__builtin_expect(tw_out_req_synack(st, r) != 0, 0)) {
        tw_count(st, TW_CNT_TX_DROPPED);
    }
}

static inline __attribute__((always_inline)) void in_listen(tw_stack *st, tw_socket *l,
                                                            tw_seg *s, const tw_tcp_hdr *h,
                                                            uint64_t key, bool have_floor,
                                                            uint32_t isn_floor, bool may_trace,
                                                            bool syn_alone)
{
    in_listen_fo(st, l, s, h, key, have_floor, isn_floor, may_trace, NULL, syn_alone);
}

/* see fastopen.h: in_listen with the cookie for the SYN+ACK, out of line (Fast Open's
   SYNs only). */
void tw_in_listen_cookie(tw_socket *l, tw_seg *s, const tw_tfo_cookie *cookie, bool have_floor,
                         uint32_t isn_floor)
{
    in_listen_fo(l->st, l, s, s->h, tw_tuple_key(s->raddr, s->h->sport, l->lport), have_floor,
                 isn_floor, true, cookie, false);
}

/* see fastopen.h. RFC 7413 4.2: a SYN with a valid cookie opens the connection at once:
   the child is made in SYN-RECEIVED from the SYN (as in_cookie_ack makes one from its
   ACK), takes the SYN's data (the exception to S6), and goes to the accept queue at once,
   as on Linux (tcp_fastopen_create_child), so that accept + recv read the data before the
   third segment comes; its SYN+ACK acknowledges the data, and its ACK later completes
   the handshake in place (syn_rcvd_acked, tw_tfo_child_acked). */
bool tw_in_listen_fastopen(tw_socket *l, tw_seg *s, bool have_floor, uint32_t isn_floor)
{
    tw_stack *st = l->st;
    uint64_t key = tw_tuple_key(s->raddr, s->h->sport, l->lport);
    tw_socket *c = new_child(st, l, s, key, (uint32_t)++st->next_conn_id, 0, false, NULL, 0);
    if (!c) {
        return false;
    }
    tw_sock_opts *o = tw_conn_opts_get(c);
    if (!o) {
        c->flags &= ~TW_F_CHILD; /* (not yet one of l's: new_child's own failure's case) */
        tw_conn_free(c);
        tw_drop(st, TW_CNT_RX_NOMEM, &s->sum, l);
        return false;
    }
    o->tfo = TW_TFO_CHILD | TW_TFO_PENDING;
    o->tfo_qlen = 0;
    o->tfo_pending = 0;
    uint32_t iss, ts_off;
    tw_isn_ts(st, s->raddr, s->h->sport, l->lport, &iss, &ts_off);
    if (have_floor && tw_seq_lt(tw_seq_make(iss), tw_seq_make(isn_floor))) {
        iss = isn_floor; /* RFC 6191: the new incarnation starts above the old one */
    }
    c->irs = s->seq;
    c->rcv_nxt = tw_seq_add(s->seq, 1);
    c->iss = tw_seq_make(iss);
    c->ts_offset = ts_off;
    c->snd_una = c->iss;
    c->snd_nxt = c->iss; /* (tw_out_syn below sends the SYN+ACK from ISS) */
    c->snd_max = c->iss;
    c->snd_buf_seq = tw_seq_add(c->iss, 1);
    tw_conn_apply_peer_syn(c, &s->h->o);
    c->snd_wnd = s->h->win; /* unscaled in a SYN (RFC 7323 2.2) */
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = s->seq;
    c->snd_wl2 = c->iss;
    uint32_t n = s->data_len;
    if (n) {
        /* RFC 7413 4.2: the data is accepted, up to the window we offer. */
        uint32_t room = tw_conn_rcv_space(c);
        if (n > room) {
            n = room;
        }
        if (n && !tw_conn_rcv_reserve(c, n)) {
            n = 0; /* (not taken: the SYN+ACK acknowledges the SYN alone, 4.2.2) */
            tw_count(st, TW_CNT_RX_NOMEM);
        }
        if (n) {
            tw_ring_write_at(&c->rcv, 0, s->data, n);
            tw_ring_commit(&c->rcv, n);
            c->rcv_nxt = tw_seq_add(c->rcv_nxt, n);
            c->bytes_received += n;
            st->counters[TW_CNT_TCP_RX_BYTES_DELIVERED] += n;
            st->counters[TW_CNT_TCP_FASTOPEN_DATA_DELIVERED] += n;
            o->tfo |= TW_TFO_DATA_ACKED;
        }
    }
    if ((s->flags & (TW_ECE | TW_CWR)) == (TW_ECE | TW_CWR) && st->cfg.ecn != TW_ECN_OFF) {
        /* RFC 3168 6.1.1: an ECN-setup SYN, agreed as a SYN queue entry's (listen_ecn):
           Linux settles ECN on the request before its Fast Open step
           (tcp_conn_request), so its child opened at the SYN is an ECN one too. */
        tw_ecn_use(st);
        tw_ecn_child(c);
    }
    c->rcv_adv = c->rcv_nxt;
    c->last_ack_sent = c->rcv_nxt;
    tw_count(st, TW_CNT_TCP_PASSIVE_OPENS);
    l->syn_len++; /* (tw_listener_enqueue_to takes it down again) */
    l->opts->tfo_pending++; /* (tw_tfo_listen made l's block) */
    tw_conn_hash(c);
    tw_conn_set_state(c, TW_STATE_SYN_RCVD);
    tw_trace_conn(st, TW_TRACE_SEG_IN, c, &s->sum, TW_STATE_SYN_RCVD);
    tw_listener_enqueue_to(l, c); /* (room: listen_admit asked) */
    tw_out_syn(c, false);
    tw_rto_arm(c);
    if (st->cfg.notify) {
        tw_conn_notify_acceptable(l);
    }
    return true;
}

/* in_listen for a SYN that ended a TIME-WAIT record (RFC 6191: its ISN above
   `isn_floor`). Out of line: the usual SYN's inline copy then keeps no floor. */
static __attribute__((noinline)) void in_listen_after_tw(tw_socket *l, tw_seg *s, uint64_t key,
                                                         uint32_t isn_floor)
{
    in_listen(l->st, l, s, s->h, key, true, isn_floor, true, false);
}

/* tw_mem_give of an entry past a full free list, out of line with the stack given: the
   usual case's caller (req_promote) then keeps no address of st->mem aside for it. */
static __attribute__((noinline, cold)) void req_give_full(tw_stack *st, tw_reqsk *r)
{
    tw_mem_give(&st->mem, TW_MC_REQ, r, sizeof(*r));
}

/* tw_req_free with the key's hash known. Inline: the entry of every passive open ends
   here when its third segment comes (req_promote). `promoted`: the connection made from
   the entry has taken its place in the table (tw_htab_replace_in), in the listener's SYN
   queue count and in the stack's connection count (syn_len and nconns left as they
   are), and the entry's timer is stopped (req_promote). */
/* (`room`: the caller has found room in the entries' free list, promote_quick_ok) */
static inline __attribute__((always_inline)) void req_free_hashed(tw_stack *st, tw_reqsk *r,
                                                                  uint64_t hash, bool promoted,
                                                                  bool room)
{
    if (!promoted) {
        /* tw_wheel_cancel's steps without its clearing the link of an entry given back
           (its next user sets it: in_listen); req_promote's own otherwise */
        if (tw_timer_lazy(&r->timer)) {
            st->wheel.lazy = NULL; /* (the lazy one is not counted: wheel.h) */
        } else if (r->timer.pprev) {
            tw_wheel_cancel_placed(&st->wheel, &r->timer);
        }
        /* (a live entry is in the table from in_listen's insertion until here) */
        if (tw_htab_unlink_in(&st->conns, &r->h, hash)) {
            tw_htab_shrink(&st->conns);
        }
        r->listener->syn_len--;
        st->nconns--;
        if (st->last_req == r) {
            st->last_req = NULL;
        }
    } else {
        st->last_req = NULL; /* (the promoted one, usually: see req_promote) */
    }
    /* (the list's room taken with its test: mem.h tw_mem_list_take_room) */
    if (room) {
        tw_mem_give_room(&st->mem, TW_MC_REQ, r);
    } else if (__builtin_expect(!tw_mem_list_take_room(&st->mem.cache[TW_MC_REQ], 1), 0)) {
        req_give_full(st, r);
    } else {
        tw_mem_give_taken(&st->mem, TW_MC_REQ, r);
    }
}

void tw_req_free(tw_stack *st, tw_reqsk *r)
{
    if (r->opts & TW_REQ_ECN) {
        tw_ecn_unuse(st); /* (ecn.h) */
    }
    req_free_hashed(st, r, tw_htab_hash(&st->conns, r->h.key), false, false);
}

/* The half-open entry ends: trace it and free it. */
static void req_end(tw_stack *st, tw_reqsk *r)
{
    tw_trace_id tid = {r->id, r->iss, r->irs, TW_STATE_CLOSED};
    tw_trace_id_event(st, TW_TRACE_STATE, &tid, NULL, TW_STATE_SYN_RCVD);
    tw_req_free(st, r);
}

void tw_req_close_listener(tw_socket *l)
{
    tw_stack *st = l->st;
    /* The listener's entries are found in the connection table (no list of their own:
       its links cost every passive open a dozen instructions, and the listener's end,
       socket.c listener_stop, walks the table for its children anyway). Not shrunk
       while walked. */
    if (!l->syn_len || !st->conns.b) { /* (syn_len counts the entries, and more) */
        return;
    }
    bool fixed = st->conns.fixed;
    tw_htab_set_fixed(&st->conns, true);
    for (size_t i = 0; i <= st->conns.mask; i++) {
        for (tw_hnode *n = st->conns.b[i], *next; n; n = next) {
            next = n->next;
            if (tw_hnode_is_req(n) && ((tw_reqsk *)n)->listener == l) {
                /* Silently, as Linux (its request sockets outlive the listener
                   unanswered: checked against 6.18 over TUN): RFC 9293 3.10.4 says
                   nothing of the half-open connections a LISTEN has spawned, and the
                   peer's next segment meets no connection and draws the RST of
                   3.10.7.1 then, or, with its SYN again, a new listener on the port
                   takes it afresh (a RST now would reset that attempt). */
                tw_count(st, TW_CNT_TCP_CONN_ABORTED);
                req_end(st, (tw_reqsk *)n);
            }
        }
    }
    tw_htab_set_fixed(&st->conns, fixed);
}

/* RFC 6298 5.5: the SYN+ACK's timeout doubles with each retry, capped at rto_max. */
static tw_time synack_backoff(const tw_config *cfg, tw_time rto, unsigned retries)
{
    for (unsigned i = 0; i < retries && rto < cfg->rto_max; i++) {
        rto *= 2;
    }
    return rto > cfg->rto_max ? cfg->rto_max : rto;
}

void tw_req_on_timer(tw_stack *st, tw_reqsk *r)
{
    tw_count(st, TW_CNT_TCP_RTO_FIRED);
    tw_trace_id tid = {r->id, r->iss, r->irs, TW_STATE_SYN_RCVD};
    tw_trace_id_event(st, TW_TRACE_TIMER, &tid, NULL, TW_STATE_SYN_RCVD);
    if (r->retries >= st->cfg.synack_retries) {
        /* S9: the peer never completed the handshake: the entry goes, silently. */
        tw_count(st, TW_CNT_TCP_CONN_TIMEDOUT);
        req_end(st, r);
        return;
    }
    r->retries++;
    tw_time rto = synack_backoff(&st->cfg, st->cfg.rto_initial, r->retries);
    tw_out_req_synack_again(st, r);
    tw_wheel_arm(&st->wheel, &r->timer, tw_time_to_tick(tw_time_add(st->now, rto)));
}

/* Or'ed with req_promote_in's `wide_as` by a quick copy (TW_CONN_AS_LISTED) that has
   found the segment's text, if any, in place in blk, with a buffer that holds it
   (req_promote_usual_wide): third_ack asks none of it. */
#define PROMOTE_PLACED 0x100u
/* (and one that has found no text, or the entry's timestamps on: PROMOTE_EMPTY,
   PROMOTE_TS) */
#define PROMOTE_EMPTY 0x200u
#define PROMOTE_TS 0x400u
/* A quick copy stores SND.UNA as third_ack leaves it, ISS + 1 (SEG.ACK, req_input's usual
   shape), where the steps between read it only in asserts, which a Debug build makes:
   there it takes ISS first, and the ACK's step moves it, as for the others. */
#ifdef NDEBUG
#define PROMOTE_UNA_SET 1
#else
#define PROMOTE_UNA_SET 0
#endif

/* The third segment acknowledged our SYN+ACK: build the connection from the entry and
   let the SYN-RECEIVED processing (3.10.7.4) take the segment (`usual`: it has
   req_input's usual shape; `may_trace` false: the usual packet's function's, whose stack
   does not trace, tw_stack_input). */
static inline __attribute__((always_inline)) void
req_promote_in(tw_stack *st, tw_reqsk *r, tw_seg *s, const tw_tcp_hdr *h, bool usual, uint8_t *blk,
               bool may_trace, unsigned wide_as)
{
    tw_socket *l = r->listener;
    /* (`quick`: the quick copies', whose segment and entry promote_quick_ok has found
       free of every case below that would call out of line) */
    bool quick = (wide_as & TW_CONN_AS_LISTED) != 0;
    assert(!quick || (usual && !may_trace));
    /* The option flags of tw_conn_apply_peer_syn's steps (below) and the flags
       SYN-RECEIVED's state change would set (see there), with the child's own
       (measured: lifecycle -4 instr against setting them after). */
    unsigned on = r->opts;
    uint32_t more = ((on * 0x110u) & (TW_F_WS | TW_F_TS | TW_F_SACK)) | /* (tcp_conn.c asserts) */
                    TW_F_HASHED | TW_F_COUNTED | TW_F_STARTED;
    /* The usual third segment's copy (an untraced stack's) sets TW_F_CONNECTED too, which
       third_ack's ESTABLISHED would set (established_from_syn_ka): nothing reads it
       before, and in_promoted clears it for a segment third_ack does not take (measured:
       lifecycle -1 instr against setting it there). */
    if (usual && !may_trace) {
        more |= TW_F_CONNECTED;
    }
    /* The quick copy with text in place (PROMOTE_PLACED: nothing fails after this) sets
       the flags of the ACK that text owes, held (third_text_ack), with the others
       (measured: lifecycle -1 instr against their own store there). */
    if (wide_as & PROMOTE_PLACED) {
        more |= TW_F_ACK_LAZY | TW_F_ACK_QUEUED;
    }
    /* (the entry's key, the segment's 4-tuple, and its id: its segments were traced so) */
    tw_socket *c = new_child(st, l, s, r->h.key, r->id, more, true, r, wide_as);
    if (!quick && !c) {
        if (blk) {
            third_blk_back(st, blk);
        }
        return; /* dropped: our SYN+ACK retransmission brings the ACK back */
    }
    c->irs = tw_seq_make(r->irs);
    c->rcv_nxt = tw_seq_add(c->irs, 1);
    c->rcv_adv = tw_seq_add(c->rcv_nxt, r->rcv_wnd);
    c->last_ack_sent = c->rcv_nxt; /* our SYN+ACK acknowledged the SYN (RFC 7323 4.3) */
    c->iss = tw_seq_make(r->iss);
    c->ts_offset = r->ts_off; /* the one hash at the SYN gave it with the ISS */
    /* (a quick copy's SND.UNA as third_ack's ACK of our SYN leaves it, which the steps
       between read only in asserts: stored once, PROMOTE_UNA_SET; measured: lifecycle
       -2 instr, 4,028.9 -> 4,026.9) */
    c->snd_una = (quick && PROMOTE_UNA_SET) ? tw_seq_add(c->iss, 1) : c->iss;
    c->snd_nxt = tw_seq_add(c->iss, 1);
    /* (SND.MAX, SND.BUF_SEQ, IRS, RCV.NXT here, the window and SND.WL1/2 by in_promoted
       on either of its ways, the link by tw_htab_replace_in: new_child's object has them
       unset, tcp_conn.h TW_CONN_CHILD_PROMOTED) */
    c->snd_max = c->snd_nxt;
    c->snd_buf_seq = c->snd_nxt;
    /* tw_conn_apply_peer_syn's steps for the SYN as the entry kept it (in_listen): its
       options both ends offered (S4: already masked with st->syn_opts), the peer's
       window scale (0 unless offered) and MSS option (0 if absent: 536, S4 / RFC 9293
       3.7.1, clamped at 64 as there). c, just made, has none of the three option
       flags, but those set with `more` above. */
    assert(!(on & ~(unsigned)(st->syn_opts | TW_REQ_ECN)) &&
           ((on & TW_OPT_WSCALE) || !r->snd_wscale) &&
           (c->flags & (TW_F_WS | TW_F_TS | TW_F_SACK)) ==
               (more & (TW_F_WS | TW_F_TS | TW_F_SACK)));
    uint16_t pm = r->peer_mss; /* (536 for none, clamped at 48: in_listen) */
    c->peer_mss = pm;
    c->snd_wscale = r->snd_wscale;
    if (!(on & TW_OPT_WSCALE)) {
        c->rcv_wscale = 0; /* RFC 7323 2.2: both or neither */
    }
    uint16_t mss = pm < c->local_mss ? pm : c->local_mss;
    /* (TS.Recent from the SYN, with timestamps: in_promoted stores it where the
       connection stays in SYN-RECEIVED, third_ack replaces it with the segment's) */
    uint32_t ts_recent = r->ts_recent;
    assert(!(wide_as & PROMOTE_TS) || (on & TW_OPT_TS));
    /* (timestamps, the default: laid out first) */
    if ((wide_as & PROMOTE_TS) || __builtin_expect(on & TW_OPT_TS, 1)) {
        mss = (uint16_t)(mss - 12); /* RFC 7323: the option rides in every segment */
    }
    c->snd_mss = mss;
    /* The flags SYN-RECEIVED's state change (tw_conn_set_state) would set, counting the
       connection in st->nconns -- where the entry, which c replaces, is counted already
       (req_free_hashed leaves the count as it is) -- and TW_F_HASHED, as c goes in the
       table below: set with the others (`more`: nothing reads them before). */
    assert((c->flags & (TW_F_HASHED | TW_F_COUNTED | TW_F_STARTED | TW_F_CONNECTED)) ==
           (TW_F_HASHED | TW_F_COUNTED | TW_F_STARTED | (more & TW_F_CONNECTED)));
    /* (tw_conn_rcv_space of a child just made, for third_ack_ok: nothing received and
       its read side open, so its buffer's room whole, but for a buffer lowered under the
       SYN+ACK's window) */
    uint32_t space = c->rcvbuf_cap;
    assert(!quick || r->rcv_wnd <= c->rcvbuf_cap);
    if (!quick && __builtin_expect(r->rcv_wnd > c->rcvbuf_cap, 0)) {
        /* The listener's buffer was lowered since our SYN+ACK: the window it offered
           stays (RFC 9293 3.8.6.2.2), as after set_bufsizes on a connection. */
        c->flags |= TW_F_BUF_LOWERED;
        space = tw_conn_rcv_space(c);
    }
    /* (`quick`: 0 as tw_conn_alloc left it, the SYN+ACK sent once: promote_quick_ok) */
    assert(!quick || (r->retries == 0 && c->total_retrans == 0));
    if (!quick) {
        c->total_retrans = r->retries; /* RFC 6298 5.7 looks at it */
    }

    if (!(wide_as & PROMOTE_TS) && !(on & TW_OPT_TS) && (quick || r->retries == 0)) {
        /* RFC 6298: the handshake's RTT (Karn: only when nothing was retransmitted;
           with timestamps the ACK's echo times it instead). */
        tw_rtt_sample(c, TW_US((uint32_t)(st->now / TW_US(1)) - r->sent_us));
    }
    assert(!quick || !(on & TW_REQ_ECN));
    if (!quick && __builtin_expect(on & TW_REQ_ECN, 0)) {
        tw_ecn_child(c); /* RFC 3168 6.1.1: agreed in the SYN+ACK (counted: in_listen) */
    }
    /* The entry's timer stopped here (req_free_hashed leaves it to this caller; its
       deadline, for in_promoted's full steps, read there, before the entry is freed) */
    assert(!quick || tw_timer_lazy(&r->timer));
    if (quick || __builtin_expect(tw_timer_lazy(&r->timer), 1)) {
        st->wheel.lazy = NULL; /* (the lazy one is not counted: wheel.h) */
    } else {
        /* (the link loaded again, from the entry hidden by an empty asm: kept from the
           test above, it took a load into a register and a compare where the compare
           read memory: measured lifecycle -1 instr) */
        tw_reqsk *rr = r;
        TW_OPAQUE(rr);
        if (rr->timer.pprev) {
            tw_wheel_cancel_placed(&st->wheel, &rr->timer);
        }
    }
    /* The entry was found by the segment's 4-tuple, the connection has the same one,
       and both tables have one seed: the lookup's hash serves both. */
    /* tw_conn_hash_hashed's steps without its test (a child just made is in no table; its
       flag is set above): c takes the entry's place in its chain, of the same 4-tuple
       (the table's count and size as they were), with the stack in a register (the
       lookup's cache takes it too). */
    assert(c->h.key == tw_tuple_key(c->raddr, c->rport, c->lport));
    /* (the entry's hash: s->hash is not set when conn_find found it as st->last_req;
       clearing that cache, req_free_hashed, drops at most another entry's) */
    uint64_t hash = r->hash;
    tw_htab_replace_in(&st->conns, &r->h, &c->h, hash);
    /* (the entry freed by in_promoted, req_free_hashed) */
    c->hash = hash;
    st->last_conn = c;
    /* SYN-RECEIVED, with the flags above: what tw_conn_set_state does besides, for a
       stack that traces, is the trace of the change, which the entry's SYN-RECEIVED had
       (in_listen). */
    assert(c->state == TW_STATE_CLOSED && tw_conn_edge_legal(TW_STATE_CLOSED,
                                                              TW_STATE_SYN_RCVD));
    /* (the state's store itself in in_promoted) */
    in_promoted(st, c, s, h, usual, r, l, ts_recent, space, blk, may_trace, quick, wide_as);
}

/* req_promote_in for each value of `usual`, a constant in each: the usual third segment's
   copy keeps no flag across its calls and asks none (third_ack_ok), the other's has no
   third_ack. */
/* (`h`: the segment's header, s->h, which the usual third segment's caller leaves unset:
   set before the steps that read it there, in_promoted's full ones) */
/* Two copies, for a stack with AVX2 (st->conn_wide_on, the child made with 32-byte
   stores) and one without, which st->req_promote_usual picks between (tw_in_promote_init):
   its call through the pointer is one instruction as the direct call was, and the
   copy asks no flag (measured: lifecycle -2 instr). */
static __attribute__((noinline)) void req_promote_usual_narrow_full(tw_stack *st, tw_reqsk *r,
                                                                    tw_seg *s, uint8_t *blk,
                                                                    const tw_tcp_hdr *h)
{
    req_promote_in(st, r, s, h, true, blk, false, TW_CONN_AS_NARROW);
}

/* Whether the usual third segment's promotion takes none of the steps that call out of
   line, but for its text's placing (req_promote_in's `quick`, TW_CONN_AS_LISTED): the
   connection free list not empty, a listener without extra options (its child takes
   none) or keepalive, no ECN, a SYN+ACK sent once (so that syn_rto_fallback has nothing
   to do: an entry that retried is the rare one), the SYN+ACK's window and the text
   within the listener's buffer (third_ack_ok's room, the buffer whole as the window fits
   it), the entry's timer the lazy one, and room in the entries' free list for the entry
   (third_ack_ok's option and PAWS tests: promote_quick_way). Asked before any step, so that a segment
   that fails them is promoted by the full copy as if this had not been (nothing changed
   yet). The quick copy, with no call left but the listener's notification, its last
   step, keeps what it holds in registers that need no saving, and its tests are these
   (measured: lifecycle -7 instr against the one copy, 4,048.9 -> 4,041.9). */
static inline __attribute__((always_inline)) bool promote_quick_ok(const tw_stack *st,
                                                                  const tw_reqsk *r,
                                                                  const tw_seg *s)
{
    const tw_socket *l = r->listener;
    uint32_t n = s->data_len, cap = l->rcvbuf_cap;
    /* (the SYN+ACK's retries, 0, and ECN's flag in one test of the two adjacent bytes) */
    _Static_assert(offsetof(tw_reqsk, opts) == offsetof(tw_reqsk, retries) + 1,
                   "retries, opts");
    uint16_t retries_opts;
    memcpy(&retries_opts, &r->retries, sizeof retries_opts);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    const uint16_t retries_ecn = 0xff00u | TW_REQ_ECN;
#else
    const uint16_t retries_ecn = 0x00ffu | (TW_REQ_ECN << 8);
#endif
    if (!st->mem.cache[TW_MC_CONN].head || l->opts || (retries_opts & retries_ecn) ||
        r->rcv_wnd > cap || n > cap || !tw_timer_lazy(&r->timer) ||
        (l->flags & TW_F_KEEPALIVE) || !st->mem.cache[TW_MC_REQ].room) {
        return false;
    }
    return true;
}

/* A quick copy's segment whose text is not in place (promote_text_placed): third_ack
   places it, with calls, in a copy of its own, so that the usual one keeps nothing
   across a call (measured: lifecycle -2 instr against its own copy's call). */
static __attribute__((noinline)) void req_promote_usual_narrow_text(tw_stack *st, tw_reqsk *r,
                                                                    tw_seg *s, uint8_t *blk,
                                                                    const tw_tcp_hdr *h)
{
    req_promote_in(st, r, s, h, true, blk, false, TW_CONN_AS_NARROW | TW_CONN_AS_LISTED);
}

static __attribute__((noinline)) void req_promote_usual_narrow_empty(tw_stack *st, tw_reqsk *r,
                                                                     tw_seg *s, uint8_t *blk,
                                                                     const tw_tcp_hdr *h)
{
    req_promote_in(st, r, s, h, true, blk, false,
                   TW_CONN_AS_NARROW | TW_CONN_AS_LISTED | PROMOTE_TS | PROMOTE_EMPTY);
}

/* Which copy takes the usual third segment: the full one for a segment
   promote_quick_ok refuses or whose options or TSval third_ack_ok refuses (the
   connection's own options, RFC 7323 PAWS 5.3: the child's TW_F_TS is the entry's
   TW_OPT_TS, req_promote_in's `more`); else a quick one, with
   timestamps and text in place (blk, with a buffer that holds it) the usual one, with
   timestamps and no text its own (PROMOTE_EMPTY), and any other (no timestamps, or a
   text not in place) the one that asks (measured: lifecycle -12 instr, 4,041.9 -> 4,029.9, against one quick copy asking them). */
enum { PROMOTE_WAY_FULL, PROMOTE_WAY_TEXT, PROMOTE_WAY_EMPTY, PROMOTE_WAY_PLACED };
static inline __attribute__((always_inline)) int promote_quick_way(const tw_stack *st,
                                                                  const tw_reqsk *r,
                                                                  const tw_seg *s,
                                                                  const uint8_t *blk,
                                                                  const tw_tcp_hdr *h)
{
    if (!promote_quick_ok(st, r, s)) {
        return PROMOTE_WAY_FULL;
    }
    if (__builtin_expect(!(r->opts & TW_OPT_TS), 0)) {
        return h->o.present == 0 ? PROMOTE_WAY_TEXT : PROMOTE_WAY_FULL;
    }
    if (h->o.present != TW_OPT_TS || (int32_t)(h->o.ts_val - r->ts_recent) < 0) {
        return PROMOTE_WAY_FULL;
    }
    if (blk) {
        return TW_MEM_RING_BLOCK <= r->listener->rcvbuf_cap ? PROMOTE_WAY_PLACED
                                                             : PROMOTE_WAY_TEXT;
    }
    return s->data_len == 0 ? PROMOTE_WAY_EMPTY : PROMOTE_WAY_TEXT;
}

/* A width's usual promotion: its quick way's copy by promote_quick_way, the placed one in
   line. (`full`, `text`, `empty`: that width's copies, constants after inlining, so each
   is a direct call) */
typedef void promote_copy_fn(tw_stack *st, tw_reqsk *r, tw_seg *s, uint8_t *blk,
                             const tw_tcp_hdr *h);
static inline __attribute__((always_inline)) void
req_promote_usual_as(tw_stack *st, tw_reqsk *r, tw_seg *s, uint8_t *blk, const tw_tcp_hdr *h,
                     unsigned as, promote_copy_fn *full, promote_copy_fn *text,
                     promote_copy_fn *empty)
{
    switch (promote_quick_way(st, r, s, blk, h)) {
    case PROMOTE_WAY_FULL:
        full(st, r, s, blk, h);
        return;
    case PROMOTE_WAY_TEXT:
        text(st, r, s, blk, h);
        return;
    case PROMOTE_WAY_EMPTY:
        empty(st, r, s, blk, h);
        return;
    default:
        req_promote_in(st, r, s, h, true, blk, false,
                       as | TW_CONN_AS_LISTED | PROMOTE_TS | PROMOTE_PLACED);
    }
}

static __attribute__((noinline)) void req_promote_usual_narrow(tw_stack *st, tw_reqsk *r,
                                                               tw_seg *s, uint8_t *blk,
                                                               const tw_tcp_hdr *h)
{
    req_promote_usual_as(st, r, s, blk, h, TW_CONN_AS_NARROW, req_promote_usual_narrow_full,
                         req_promote_usual_narrow_text, req_promote_usual_narrow_empty);
}

#if TW_CONN_WIDE
static __attribute__((noinline)) void req_promote_usual_wide_full(tw_stack *st, tw_reqsk *r,
                                                                  tw_seg *s, uint8_t *blk,
                                                                  const tw_tcp_hdr *h)
{
    req_promote_in(st, r, s, h, true, blk, false, TW_CONN_AS_WIDE);
}

static __attribute__((noinline)) void req_promote_usual_wide_text(tw_stack *st, tw_reqsk *r,
                                                                  tw_seg *s, uint8_t *blk,
                                                                  const tw_tcp_hdr *h)
{
    req_promote_in(st, r, s, h, true, blk, false, TW_CONN_AS_WIDE | TW_CONN_AS_LISTED);
}

static __attribute__((noinline)) void req_promote_usual_wide_empty(tw_stack *st, tw_reqsk *r,
                                                                   tw_seg *s, uint8_t *blk,
                                                                   const tw_tcp_hdr *h)
{
    req_promote_in(st, r, s, h, true, blk, false,
                   TW_CONN_AS_WIDE | TW_CONN_AS_LISTED | PROMOTE_TS | PROMOTE_EMPTY);
}

static __attribute__((noinline)) void req_promote_usual_wide(tw_stack *st, tw_reqsk *r,
                                                             tw_seg *s, uint8_t *blk,
                                                             const tw_tcp_hdr *h)
{
    req_promote_usual_as(st, r, s, blk, h, TW_CONN_AS_WIDE, req_promote_usual_wide_full,
                         req_promote_usual_wide_text, req_promote_usual_wide_empty);
}
#endif

void tw_in_promote_init(tw_stack *st)
{
    st->req_promote_usual = req_promote_usual_narrow;
#if TW_CONN_WIDE
    if (st->conn_wide_on) {
        st->req_promote_usual = req_promote_usual_wide;
    }
#endif
}

/* req_promote_usual for the full parser's segments (input_demux_in: req_input's
   may_trace), whose stack may trace: the usual packet's copy above, which a traced
   stack's packets never take (tw_stack_input), leaves out the trace hook's test of
   its state change (established_from_syn_ka; measured: lifecycle -2 instr). */
static __attribute__((noinline)) void req_promote_usual_traced(tw_stack *st, tw_reqsk *r,
                                                               tw_seg *s, uint8_t *blk,
                                                               const tw_tcp_hdr *h)
{
    req_promote_in(st, r, s, h, true, blk, true, 0);
}

static __attribute__((noinline)) void req_promote_other(tw_stack *st, tw_reqsk *r, tw_seg *s,
                                                        uint8_t *blk)
{
    req_promote_in(st, r, s, s->h, false, blk, true, 0);
}

/* A repeated SYN on a SYN queue entry: true when its SYN+ACK is held back. As Linux's
   tcp_check_req (tcp_oow_rate_limited, LINUX_MIB_TCPACKSKIPPEDSYNRECV), the first repeat
   is answered, and then at most one per cfg.invalid_ratelimit (500 ms) per entry: a
   peer (or a forger) that repeats its SYN in a burst gets one SYN+ACK, not one each.
   The time kept in 4 ms units over 16 bits (reqsk.h oow_at): honoured for limits up to
   262 s, well past an entry's life. Out of line: a repeated SYN is rare. */
static __attribute__((noinline)) bool req_synack_limited(tw_stack *st, tw_reqsk *r,
                                                         const tw_seg *s)
{
    if (st->cfg.no_invalid_ratelimit) {
        return false;
    }
    uint32_t now4 = (uint32_t)(st->now_ms >> 2) & 0xffffu;
    uint64_t lim = (st->cfg.invalid_ratelimit + TW_MS(4) - 1) / TW_MS(4);
    lim = lim < 0xffffu ? lim : 0xffffu;
    if (r->oow_at != 0 && ((now4 - r->oow_at) & 0xffffu) < lim) {
        tw_drop(st, TW_CNT_TCP_ACK_SKIPPED_SYN_RECV, &s->sum, NULL);
        return true;
    }
    now4 += now4 == 0; /* (0 is "not yet": 4 ms off at worst) */
    r->oow_at = (uint16_t)now4;
    return false;
}

/* The peer repeated its SYN on a SYN queue entry: our SYN+ACK again unless held back
   (req_synack_limited). As Linux's tcp_check_req, an answered repeat also restarts the
   entry's timer from now with the back-off it has reached (reqsk_timeout: the initial
   RTO doubled per expiry so far): the SYN+ACK just sent is as good as one the timer sent,
   and the next one waits a full interval behind it rather than following it at once.
   (RFC 6298 5.1 would leave a running timer alone; the RFCs leave the repeat's answer to
   the implementation.) Out of line: rare. */
static __attribute__((noinline, cold)) void req_syn_repeated(tw_stack *st, tw_reqsk *r,
                                                             const tw_seg *s)
{
    if (req_synack_limited(st, r, s)) {
        return;
    }
    tw_out_req_synack_again(st, r);
    if (r->timer.pprev) { /* (armed: the entry is waiting for its third segment) */
        tw_time rto = synack_backoff(&st->cfg, st->cfg.rto_initial, r->retries);
        tw_wheel_arm(&st->wheel, &r->timer, tw_time_to_tick(tw_time_add(st->now, rto)));
    }
}

/* The ACK for a segment outside a SYN queue entry's window (req_checks). As Linux's
   tcp_check_req (tcp_oow_rate_limited): one of length 0, or with a SYN, is answered at
   most once per cfg.invalid_ratelimit per entry, the limit repeated SYNs share. */
static __attribute__((noinline, cold)) void req_oow_ack(tw_stack *st, tw_reqsk *r,
                                                        const tw_seg *s)
{
    if ((s->len != 0 && !(s->flags & TW_SYN)) || !req_synack_limited(st, r, s)) {
        tw_out_req_ack(st, r);
    }
}

/* A SYN in the window of a SYN queue entry (req_checks): RFC 9293 3.10.7.4 fourth check
   (RFC 1122 4.2.2.20 (e)), SYN-RECEIVED from a passive OPEN: "return this connection to
   the LISTEN state and return" -- the entry goes, nothing is sent, and the peer's next
   SYN makes a fresh one. (Linux's tcp_check_req also frees it, and answers with a RST
   as RFC 793 did; RFC 9293 sends nothing, and the RST would refuse a peer that merely
   restarted its attempt.) Out of line: rare. */
static __attribute__((noinline, cold)) void req_syn_in_window(tw_stack *st, tw_reqsk *r,
                                                              const tw_seg *s)
{
    tw_drop(st, TW_CNT_TCP_SYNRCVD_SYN_FREED, &s->sum, NULL);
    req_end(st, r);
}

/* RFC 9293 3.10.7.4's checks for a segment on a SYN queue entry up to the fifth's
   SYN-RECEIVED ACK check; false when they consumed it. Out of line: the usual third
   segment never asks them (req_input), and the entry's frame stays lean without them. */
static __attribute__((noinline)) bool req_checks(tw_stack *st, tw_reqsk *r, tw_seg *s,
                                                 tw_seq rcv_nxt)
{
    s->len = tw_seg_len(s);
    if ((s->flags & TW_SYN) && tw_seq_eq(s->seq, tw_seq_make(r->irs))) {
        if (!(s->flags & TW_ACK)) {
            /* The peer repeated its SYN: our SYN+ACK was lost. Send it again (at most
               one per cfg.invalid_ratelimit, as Linux). */
            req_syn_repeated(st, r, s);
            return false;
        }
        /* A SYN+ACK at the peer's ISN is no third segment (only a simultaneous open's
           socket, not an entry, has sent a SYN the peer could be answering): its SYN
           lies before RCV.NXT, and as the first check finds it it is answered with an
           ACK (under the entry's limit) and dropped; the entry waits on. With a FIN
           too, whose octet is at RCV.NXT: the same, as Linux 6.18 does (checked over
           TUN), rather than a SYN in the window that would free the entry. (With a RST:
           out of the window below, ignored.) */
        if (!(s->flags & TW_RST)) {
            tw_drop(st, TW_CNT_TCP_RX_OUT_OF_WINDOW, &s->sum, NULL);
            req_oow_ack(st, r, s);
            return false;
        }
    }
    /* First check (3.10.7.4): RCV.WND is what our SYN+ACK offered (RFC 7323 2.2: a
       SYN's window is never scaled). */
    uint32_t wnd = r->rcv_wnd;
    tw_seq end = tw_seq_add(rcv_nxt, wnd);
    bool ok = s->len == 0 ? tw_seq_in(s->seq, rcv_nxt, end)
                          : (tw_seq_in(s->seq, rcv_nxt, end) ||
                             tw_seq_in(tw_seq_add(s->seq, s->len - 1), rcv_nxt, end));
    if (!ok) {
        if (s->flags & TW_RST) {
            tw_drop(st, TW_CNT_TCP_RX_RST_OUT_OF_WINDOW, &s->sum, NULL);
            return false;
        }
        tw_drop(st, TW_CNT_TCP_RX_OUT_OF_WINDOW, &s->sum, NULL);
        req_oow_ack(st, r, s);
        return false;
    }
    if ((s->flags & (TW_SYN | TW_RST)) == TW_SYN) {
        /* RFC 9293 3.10.7.4 fourth check: a SYN in the window on a connection a
           passive OPEN made returns it to LISTEN (RFC 5961 4.2's challenge ACK is for
           the synchronized states; this one is not). Linux frees the entry too. */
        req_syn_in_window(st, r, s);
        return false;
    }
    if (s->flags & TW_RST) {
        if (!tw_seq_eq(s->seq, rcv_nxt)) {
            tw_drop(st, TW_CNT_TCP_RX_RST_IN_WINDOW, &s->sum, NULL); /* RFC 5961 3.2 */
            if (tw_challenge_take(st)) {
                tw_out_req_ack(st, r);
            }
            return false;
        }
        /* S7: the half-open connection an old duplicate SYN made goes away; the
           listener is untouched. */
        tw_count(st, TW_CNT_TCP_RX_RST_ACCEPTED);
        tw_count(st, TW_CNT_TCP_SYNRCVD_RST);
        req_end(st, r);
        return false;
    }
    if (!(s->flags & TW_ACK)) {
        tw_drop(st, TW_CNT_TCP_RX_NO_ACK_FLAG, &s->sum, NULL);
        return false;
    }
    if (s->ack.v != r->iss + 1) {
        /* S3: the third segment must acknowledge exactly our SYN. */
        tw_drop(st, TW_CNT_TCP_RX_BAD_ACK, &s->sum, NULL);
        /* (the peer's address and the ports from the entry's key, tw_tuple_key: the
           usual packet's function sets s->raddr only for a segment of no connection and
           no entry, seg_init, and leaves an entry's segment's ports out of s->h,
           input_unsummed) */
        tw_out_bare(st, (uint32_t)(r->h.key >> 32), (uint16_t)r->h.key,
                    (uint16_t)(r->h.key >> 16), s->ack.v, 0, TW_RST, 0, NULL);
        return false;
    }
    return true;
}

/* A usual packet's segment that in_conn or req_input finds with a bad combination of
   flags, for the full parser to drop (false): usual_sum_ok has counted it, and the full
   parser counts it (stack.c input_checked), so it is not counted here. Cold: such
   segments are rare. */
/* The flags of `s` loaded again for the bad combinations' test (tw_tcp_flags_bad) of a
   segment the usual steps' own flags tests did not take, from s hidden by an empty asm:
   kept in a register from those tests, that register was copied before them on every
   segment (measured: lifecycle -1 instr). */
static inline __attribute__((always_inline)) bool flags_bad_again(const tw_seg *s)
{
    TW_OPAQUE(s);
    return tw_tcp_flags_bad(s->flags);
}

static __attribute__((noinline, cold)) bool usual_flags_bad(tw_stack *st)
{
    assert(st->counters[TW_CNT_TCP_RX_SEGMENTS] != 0);
    st->counters[TW_CNT_TCP_RX_SEGMENTS]--;
    return false;
}

/* A segment for a SYN queue entry. Inline in its callers (input_demux_in, and
   input_unsummed for the usual packet's): the third segment of every passive open costs
   no frame of its own. False, having done nothing, for a usual packet's segment
   (may_trace false) with a bad combination of flags: the full parser's (usual_flags_bad). */
/* (`h`: the segment's header, s->h, which the usual packet's function leaves unset: set
   here before the steps that read it, the usual third segment's taking `h` apart) */
static inline __attribute__((always_inline)) bool
req_input(tw_stack *st, tw_reqsk *r, tw_seg *s, const tw_tcp_hdr *h, bool may_trace, uint8_t *blk)
{
    if (may_trace && st->cfg.trace) { /* (the id is built only then) */
        tw_trace_id tid = {r->id, r->iss, r->irs, TW_STATE_SYN_RCVD};
        tw_trace_id_event(st, TW_TRACE_SEG_IN, &tid, &s->sum, TW_STATE_SYN_RCVD);
    }
    tw_seq rcv_nxt = tw_seq_make(r->irs + 1);
    /* The usual third segment -- ACK (PSH allowed) at RCV.NXT, SEG.ACK = ISS + 1, a window
       open -- passes every check of req_checks without acting (no SYN; first check:
       SEG.SEQ = RCV.NXT inside a nonempty window; no RST; the ACK bit; exactly our SYN
       acknowledged): they are asked only for the others. */
    /* (the window is open always: the listener's buffer, whose least it is with 65535,
       is never 0 -- cfg.rcvbuf 0 takes the default at tw_stack_new, and
       tw_socket_set_bufsizes sets it to 1024 at least or leaves it) */
    assert(r->rcv_wnd != 0);
    bool usual = (s->flags & (uint8_t)~TW_PSH) == TW_ACK && tw_seq_eq(s->seq, rcv_nxt) &&
                 s->ack.v == r->iss + 1;
    if (!usual) {
        s->h = h;
        if (blk) {
            third_blk_back(st, blk); /* (the full steps copy the text, if any) */
            blk = NULL;
        }
        /* (the usual parse leaves the flags to the steps: the usual shape's test above
           refuses every bad combination, so only the others ask them) */
        if (!may_trace && flags_bad_again(s)) {
            return usual_flags_bad(st);
        }
        /* (RCV.NXT made again from the entry hidden by an empty asm: kept from the usual
           test, its register was copied before it: see flags_bad_again) */
        const tw_reqsk *rr = r;
        TW_OPAQUE(rr);
        if (!req_checks(st, r, s, tw_seq_make(rr->irs + 1))) {
            return true;
        }
    }
    tw_socket *l = r->listener;
    if (l->acc_len > l->backlog) {
        /* Accept queue full: like Linux, ignore the ACK; the SYN+ACK retransmission will
           bring it back once there is room. */
        if (blk) {
            third_blk_back(st, blk);
        }
        tw_drop(st, TW_CNT_TCP_RX_LISTEN_OVERFLOW, &s->sum, NULL);
        return true;
    }
    if (usual && !may_trace) {
        st->req_promote_usual(st, r, s, blk, h);
    } else if (usual) {
        req_promote_usual_traced(st, r, s, blk, h);
    } else {
        req_promote_other(st, r, s, blk);
    }
    return true;
}

/* ---- SYN-SENT (3.10.7.3) ---- */

/* ESTABLISHED from SYN-SENT or SYN-RECEIVED; `may_fin` false for a caller that knows no
   FIN is queued (third_ack's unaccepted child: one test less); `child` true for
   third_ack's child just made (tw_cc_init); `may_ka` false for a caller that knows c has
   no keepalive (tw_cc_init_una_ka) and, SYN-SENT's usual SYN+ACK's copy, no extras
   block either, so that c is Open: a connection without one never leaves Open in
   SYN-SENT (the SYN's timeout sends the SYN again, tcp_timer.c, not
   tw_out_retransmit, and a smaller path MTU's Loss asks more than its one SYN in
   flight, tcp_in.c; Fast Open's Loss has the block); `ask_rto` false for a caller that
   has taken syn_rto_fallback's step itself. */
static inline __attribute__((always_inline)) void syn_rto_fallback(tw_stack *st, tw_socket *c);
/* (`conn_set`: the untraced caller has set TW_F_CONNECTED itself, in its own store of
   the flags, and counted TW_CNT_TCP_ESTABLISHED, syn_sent_accept: with the count in
   each of its two copies GCC loaded the counter before their branch and added to a
   copy, where one add to memory did) */
static inline __attribute__((always_inline)) void
established_from_syn_ka_as(tw_stack *st, tw_socket *c, bool may_fin, bool may_trace, bool child,
                           tw_seq una, bool may_ka, bool ask_rto, bool conn_set)
{
    assert(c->st == st); /* (given apart: see fast_do) */
    assert(!conn_set || (!may_trace && !child && (c->flags & TW_F_CONNECTED)));
    /* tw_conn_set_state's steps, the connection never ESTABLISHED before (SYN-SENT and
       SYN-RECEIVED are reached from no synchronized state): it is counted now, without
       the test of TW_F_CONNECTED, always clear here. */
    /* (but for third_ack's child of an untraced stack, which req_promote made with the
       flag: `child` and not `may_trace` is req_promote_usual's copy alone) */
    bool connected = (child || conn_set) && !may_trace;
    assert(!connected || conn_set || (c->flags & TW_F_CHILD));
    assert((c->flags & TW_F_CONNECTED) == (connected ? TW_F_CONNECTED : 0) &&
           (c->state == TW_STATE_SYN_SENT || c->state == TW_STATE_SYN_RCVD));
    if (may_trace && __builtin_expect(st->cfg.trace != NULL, 0)) {
        tw_conn_set_state_full(c, TW_STATE_ESTABLISHED);
    } else {
        assert(tw_conn_edge_legal((tw_state)c->state, TW_STATE_ESTABLISHED));
        if (!connected) {
            c->flags |= TW_F_CONNECTED;
        }
        if (!conn_set) {
            tw_count(st, TW_CNT_TCP_ESTABLISHED);
        }
        c->state = TW_STATE_ESTABLISHED;
        if (!may_trace && child) {
            /* (third_ack's child's flags read again below from memory, which an empty
               asm "may change": without the trace test's branch GCC kept them in a
               register from the store above, two copies and a load where one store to
               memory did) */
            __asm__("" : "+m"(c->flags));
        }
    }
    if (ask_rto) {
        syn_rto_fallback(st, c);
    }
    assert(may_ka || !(c->flags & TW_F_EXTRAS));
    /* (!may_ka and not a child: SYN-SENT's usual copy, whose caller sets SND.SML,
       in_syn_sent; a child from a quick promotion, also !may_ka, needs it set here) */
    tw_cc_init_una_ka(st, c, child, una, may_ka, !may_ka, may_ka || child);
    if (may_fin && (c->flags & TW_F_FIN_QUEUED)) {
        /* shutdown(WR) during the handshake: the FIN follows at once. */
        tw_conn_set_state(c, TW_STATE_FIN_WAIT_1);
    }
}

/* RFC 6298 5.7: the SYN or SYN+ACK was retransmitted, so there is no RTT sample (Karn)
   and the backed-off handshake RTO MUST NOT carry over: start the data phase at 3 s
   (Linux: TCP_TIMEOUT_FALLBACK). A sample taken later collapses it (S9). */
static inline __attribute__((always_inline)) void syn_rto_fallback(tw_stack *st, tw_socket *c)
{
    if (c->total_retrans && c->srtt == 0) { /* (the rare one first) */
        c->rto = TW_SEC(3) < st->cfg.rto_max ? TW_SEC(3) : st->cfg.rto_max;
    }
}

static inline __attribute__((always_inline)) void
established_from_syn_ka(tw_stack *st, tw_socket *c, bool may_fin, bool may_trace, bool child,
                        tw_seq una, bool may_ka, bool ask_rto)
{
    established_from_syn_ka_as(st, c, may_fin, may_trace, child, una, may_ka, ask_rto, false);
}


/* RFC 7323 5 (PAWS: an echo must be of a time we sent) applied to the SYN+ACK, as Linux's
   tcp_rcv_synsent_state_process (PAWSActiveRejected): a nonzero TSecr must lie between
   the TSval of our first SYN and now, else the SYN+ACK answers no SYN of this
   connection (an old duplicate, or forged) although its ACK number fits. The age of
   the echo, now's TSval less TSecr, is then at most the first SYN's age (stall_start:
   its time, tcp_out.c tw_out_syn). A SYN+ACK without timestamps, or with TSecr 0, is
   taken (RFC 7323 3.2: TSecr is meaningful only when nonzero there), and so is any when
   our SYN offered none. Cold: in_syn_sent asks only for an echo other than the TSval
   of a SYN sent once. */
static __attribute__((noinline, cold)) bool synack_ecr_bad(const tw_stack *st,
                                                           const tw_socket *c,
                                                           const tw_seg *s,
                                                           const tw_tcp_hdr *h)
{
    uint32_t ecr = h->o.ts_ecr;
    uint32_t age = tw_ts_now(st, c->ts_offset) - ecr;
    return (s->flags & TW_ACK) && (h->o.present & st->syn_opts & TW_OPT_TS) && ecr != 0 &&
           age > (uint32_t)(st->now_ms - tw_div_tick(c->stall_start));
}

/* SYN-SENT's refusals of a SYN+ACK (or an ACK), counted under `why`:
   <SEQ=SEG.ACK><CTL=RST> unless it is a RST, and SYN-SENT goes on (its SYN timer runs).
   - S7: an ACK that does not cover our SYN answers an old duplicate SYN
     (TW_CNT_TCP_RX_BAD_ACK);
   - a TSecr our SYN did not send (TW_CNT_TCP_RX_SYNACK_BAD_ECR): refused as an ACK of
     another SYN (RFC 9293 3.10.7.3), as Linux's reset_and_undo; checked against Linux
     6.18 over TUN (a TSecr 100 s ahead or behind: R seq SEG.ACK, still connecting; TSecr
     0 taken).
   Cold: only such segments. */
static __attribute__((noinline, cold)) bool syn_sent_refuse(tw_stack *st, tw_socket *c,
                                                            const tw_seg *s, enum tw_counter why)
{
    tw_drop(st, why, &s->sum, c);
    if (!(s->flags & TW_RST)) {
        tw_out_bare(st, c->raddr, c->lport, c->rport, s->ack.v, 0, TW_RST, 0, NULL);
    }
    return false;
}

static inline __attribute__((always_inline)) bool syn_sent_accept(tw_stack *st, tw_socket *c,
                                                                 const tw_seg *s,
                                                                 const tw_tcp_hdr *h,
                                                                 bool may_trace, bool has_ack,
                                                                 bool held);

/* Inline in in_conn (itself inline in the usual packet's function): the SYN+ACK of every
   active open pays no frame of its own. Returns true when it has let go of the timer
   in_conn holds (the SYN+ACK that takes c to ESTABLISHED: timer_release's steps, known
   to have something to tell the wheel), false for in_conn to let go of it. */
/* The usual SYN+ACK: ACK and SYN, without RST, FIN, ECE or CWR. */
static inline bool syn_sent_usual(const tw_seg *s)
{
    return (s->flags & (TW_RST | TW_SYN | TW_FIN | TW_ECE | TW_CWR | TW_ACK)) ==
           (TW_SYN | TW_ACK);
}

static inline __attribute__((always_inline)) bool in_syn_sent(tw_stack *st, tw_socket *c,
                                                             const tw_seg *s,
                                                             const tw_tcp_hdr *h,
                                                             bool may_trace, bool usual)
{
    assert(c->st == st); /* (given apart: see fast_do) */
    assert(usual == syn_sent_usual(s));
    /* The usual SYN+ACK (`usual`: syn_sent_usual, the caller's test) first: the checks
       below take it the same way in the same order (the ACK's, TSecr's, then the
       flags', which it passes), and the steps after them then know it has an ACK. */
    if (__builtin_expect(usual, 1)) {
        assert(tw_seq_eq(c->snd_max, tw_seq_add(c->iss, 1)) || (c->flags & TW_F_EXTRAS));
        /* (ISS + 1 as SND.BUF holds it in SYN-SENT: connect set it so, and only the ACK
           of our SYN moves it, after this test (an ACK's steps, or Fast Open's
           tw_tfo_synsent_ack): one load, where ISS's took an add after it) */
        assert(tw_seq_eq(c->snd_buf_seq, tw_seq_add(c->iss, 1)));
        if (s->ack.v != c->snd_buf_seq.v &&
            !((c->flags & TW_F_EXTRAS) && tw_tfo_synsent_ack(c, s->ack))) {
            return syn_sent_refuse(st, c, s, TW_CNT_TCP_RX_BAD_ACK);
        }
        if (__builtin_expect(h->o.ts_ecr != c->ts_recent, 0) &&
            synack_ecr_bad(st, c, s, h)) {
            return syn_sent_refuse(st, c, s, TW_CNT_TCP_RX_SYNACK_BAD_ECR);
        }
        return syn_sent_accept(st, c, s, h, may_trace, true, false);
    }
    /* (s hidden by an empty asm: the flags loaded again for the other segments' tests,
       the usual test's register then not copied before it: see flags_bad_again) */
    TW_OPAQUE(s);
    bool has_ack = (s->flags & TW_ACK) != 0;
    /* RFC 9293 3.10.7.3's test, SEG.ACK =< ISS or SEG.ACK > SND.NXT, is SEG.ACK != ISS + 1
       here: only the SYN was sent, and its first sending (in connect, before any segment
       can come for c: tw_stack_input refuses a call from within a hook) made SND.NXT =
       SND.MAX = ISS + 1 (tw_out_syn), which nothing changes in SYN-SENT; every other
       value is at or below ISS, or above ISS + 1, in sequence space. */
    /* (Fast Open's SYN with data put it beyond, its bytes not yet acknowledged) */
    assert(tw_seq_eq(c->snd_max, tw_seq_add(c->iss, 1)) || (c->flags & TW_F_EXTRAS));
    if (has_ack && s->ack.v != c->iss.v + 1 &&
        !((c->flags & TW_F_EXTRAS) && !(s->flags & TW_RST) && tw_tfo_synsent_ack(c, s->ack))) {
        return syn_sent_refuse(st, c, s, TW_CNT_TCP_RX_BAD_ACK);
    }
    /* (the usual SYN+ACK echoes the TSval of our one SYN, which out_syn_all left in
       TS.Recent: one compare; any other segment, TSecr 0 without the option, asks
       synack_ecr_bad) */
    if (__builtin_expect(h->o.ts_ecr != c->ts_recent, 0) && synack_ecr_bad(st, c, s, h)) {
        return syn_sent_refuse(st, c, s, TW_CNT_TCP_RX_SYNACK_BAD_ECR);
    }
    /* (RST, no SYN, and a SYN with ECE or CWR in one test) */
    if ((s->flags & (TW_RST | TW_SYN | TW_ECE | TW_CWR)) != TW_SYN) {
        if (s->flags & TW_RST) {
            if (!has_ack) {
                tw_drop(st, TW_CNT_TCP_RX_SYNSENT_NOACK_DROP, &s->sum, c);
                return false;
            }
            tw_count(st, TW_CNT_TCP_RX_RST_ACCEPTED);
            tw_count(st, TW_CNT_TCP_CONN_REFUSED);
            tw_conn_done(c, TW_ERR_REFUSED);
            return false;
        }
        if (!(s->flags & TW_SYN)) {
            tw_drop(st, TW_CNT_TCP_RX_SYNSENT_NOACK_DROP, &s->sum, c);
            return false;
        }
        /* RFC 3168 6.1.1: a SYN+ACK with ECE alone agrees to the ECN our SYN asked for
           (one without says no: the connection, never marked OK, goes without) */
        if (has_ack && (c->flags & TW_F_EXTRAS)) {
            tw_ecn_synack(c, s->flags);
        } else if (c->flags & TW_F_EXTRAS) {
            tw_ecn_syn(c, s->flags); /* (a simultaneous open's SYN: ecn.c) */
        }
    }
    return syn_sent_accept(st, c, s, h, may_trace, has_ack, true);
}

/* tw_conn_notify_in after SYN-SENT's usual ACK of our SYN, its events known in the usual
   case: ESTABLISHED (no FIN queued), no shutdown, no FIN from the peer, and nothing to
   read (nothing was received in SYN-SENT, and a SYN's data is not taken: S6), so only
   the send ring's room is asked (tw_conn_events_nonlistener's first case) */
static inline __attribute__((always_inline)) void syn_sent_notify(tw_stack *st, tw_socket *c)
{
    if (st->cfg.notify) {
        assert(c->state == TW_STATE_ESTABLISHED && c->rcv.len == 0 &&
               tw_conn_events(c) ==
                   (TW_EV_CONNECTED | (c->snd.len < c->sndbuf_cap ? TW_EV_WRITABLE : 0)));
        st->cfg.notify(c, TW_EV_CONNECTED | (c->snd.len < c->sndbuf_cap ? TW_EV_WRITABLE : 0u),
                       st->cfg.notify_ud);
    }
}

/* The flags that send a SYN+ACK's connection to syn_sent_accept's general steps (its
   `plain` test): an orphan or a child, a FIN queued or received, keepalive, an extras
   block, and the push's rare flags (tcp_conn.h TW_F_SEND_RARE, TW_F_CORK). */
#define SYN_SENT_RARE_FLAGS                                                                \
    (TW_F_ORPHAN | TW_F_CHILD | TW_F_FIN_QUEUED | TW_F_PEER_FIN | TW_F_KEEPALIVE |          \
     TW_F_EXTRAS | TW_F_SEND_RARE | TW_F_CORK)

/* in_syn_sent's steps after its checks (`has_ack`: the segment's ACK bit, a constant for
   the usual SYN+ACK's copy; `held`: c's timer held, timer_hold, by in_conn for every
   SYN-SENT segment but the usual SYN+ACK, whose copy tells the wheel once at its end
   without the hold's stores: see in_conn). */
static inline __attribute__((always_inline)) bool syn_sent_accept(tw_stack *st, tw_socket *c,
                                                                 const tw_seg *s,
                                                                 const tw_tcp_hdr *h,
                                                                 bool may_trace, bool has_ack,
                                                                 bool held)
{
    assert(held == (st->timer_held == c) && (held || !st->timer_held));
    /* A FIN with the SYN is not taken, as a SYN's data is not (S6): the ACK we send
       covers the SYN alone and the peer sends its FIN again. RFC 9293 3.10.7.3 would go
       on to its sixth step; Linux's tcp_rcv_synsent_state_process discards everything
       after the SYN, and tcpwave does as Linux. (Asked only for the full parser's
       segments, may_trace: the usual parse refuses SYN+FIN.) */
    assert(may_trace || !(s->flags & TW_FIN));
    if (may_trace && (s->flags & TW_FIN)) {
        tw_count(st, TW_CNT_TCP_RX_SYN_DATA_IGNORED);
    }
    /* (SEG.SEQ and SEG.ACK read once: the stores to c could alias s for the compiler) */
    tw_seq seq = s->seq, ack = s->ack;
    c->irs = seq;
    c->rcv_nxt = tw_seq_add(seq, 1);
    c->rcv_adv = c->rcv_nxt;
    /* (its body inline: the SYN+ACK's options are read from the frame, no call;
       measured: lifecycle -5 instr) */
    /* (`defer`: the usual SYN+ACK's copy of the usual parse (not held, no trace), whose
       flags are stored once, below, with the option flags among them: nothing reads
       c->flags' option flags before that store, and only its RTT flag is read, from
       `f`) */
    bool defer = !held && !may_trace;
    assert(!defer || has_ack);
    uint32_t f = tw_conn_apply_peer_syn_flags(st, c, &h->o, true, !defer);
    if (may_trace && (c->flags & TW_F_EXTRAS) && has_ack) {
        /* (Fast Open: the option sends the SYN+ACK to the full parser, so only its copy
           of these steps asks) */
        tw_tfo_synack(c, h, s->ack);
    }
    c->snd_wnd = h->win; /* unscaled in a SYN (RFC 7323 2.2) */
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = seq;
    /* (!may_trace: the usual parse's copy, whose segment has no text, in_conn_sum) */
    assert(may_trace || s->data_len == 0);
    if (may_trace && s->data_len) {
        tw_count(st, TW_CNT_TCP_RX_SYN_DATA_IGNORED); /* S6 */
    }
    if (has_ack) {
        /* S3: our SYN is acknowledged; ESTABLISHED, and the third segment goes out
           carrying queued data when there is some (S5). */
        /* (the retransmission count cleared only where it is not 0 already, the rare
           case, which takes no sample: Karn) */
        /* (the usual parse's copy, !may_trace, takes syn_rto_fallback's step here, in
           the two branches that take no sample: the sample's makes SRTT nonzero, so
           that its test is false after it, and is then not asked; nothing between here
           and established_from_syn_ka reads or changes the RTO, and this copy's stack has
           no trace hook to see it set before the state: in_conn_sum) */
        /* (the timing flag asked first, the retransmission count only without it: in
           SYN-SENT the flag says the SYN went once -- connect sets it, and the SYN's
           timeout, the only step that counts a retry, clears it with the count
           (tcp_timer.c on_rto), which no step of SYN-SENT sets again (a push sends
           nothing before ESTABLISHED, tcp_out.c tw_out_push) -- so that with it the
           count is 0, asserted; measured: lifecycle -2 instr against the count's test
           first) */
        /* S3; S5: data the application writes at once rides on it. ack_soon's steps for a
           connection that owes no ACK yet: in SYN-SENT it has received nothing. (Before
           established_from_syn_ka, which does not read it: the flag is set in the same store
           as the others here, not after its byte stores made the flags be loaded again;
           measured: lifecycle -3 instr.) */
        /* (the untraced copies' TW_F_CONNECTED too, established_from_syn_ka's (`conn_set`),
           and each branch's flags made apart: with the timing flag known set and the
           two others known clear, the three changes are one add, one lea where a copy,
           an AND and an OR took three; measured: lifecycle -2 instr) */
        assert(!(c->flags & (TW_F_ACK_LAZY | TW_F_ACK_NOW | TW_F_CONNECTED)));
        assert(!defer || (f & ~(TW_F_WS | TW_F_TS | TW_F_SACK)) ==
                             (c->flags & ~(TW_F_WS | TW_F_TS | TW_F_SACK)));
        const uint32_t set = TW_F_ACK_LAZY | (may_trace ? 0u : TW_F_CONNECTED);
        uint32_t fl = defer ? f : c->flags, fs;
        if (__builtin_expect(fl & TW_F_RTT_TIMING, 1)) {
            assert(c->retries == 0);
            fs = fl + (set - TW_F_RTT_TIMING); /* (set's bits clear in fl: asserted) */
            /* (fresh: a connection's first sample -- connect takes only a socket never
               started, and SYN-SENT takes no other) */
            tw_rtt_sample_first(st, c, st->now - c->rtt_start);
            assert(c->srtt != 0);
        } else {
            /* (not timed: the SYN sent again, or Fast Open's data resent smaller,
               tw_conn_pmtu, with no retry counted; the count cleared either way) */
            c->retries = 0;
            if (!may_trace) {
                syn_rto_fallback(st, c);
            }
            fs = fl | set;
        }
        c->lazy_seg = (uint32_t)st->counters[TW_CNT_TCP_RX_SEGMENTS];
        c->snd_una = ack;
        c->snd_wl2 = ack;
        c->rto_at = TW_TIME_NEVER;
        c->flags = fs;
        if (!may_trace) {
            tw_count(st, TW_CNT_TCP_ESTABLISHED); /* (established_from_syn_ka_as's, conn_set) */
        }
        /* timer_changed's held case, or for the usual SYN+ACK no hold: tw_out_push_now_held
           may start the RTO again below, only its deadline; the wheel is told once, at
           the end, whatever changed (a step that tells it itself on the way, the
           keepalive's start, tw_cc_init_una, has it placed, which the end asks) */
        assert(held == (st->timer_held == c));
        /* The usual case's flags in one test before the push, its FIN test among them:
           none of them changes on the way (established_from_syn_ka sets CONNECTED alone, and
           its FIN-WAIT-1 and keepalive steps are for a FIN queued and a keepalive
           socket, outside the usual case; the push changes only the RTT and ACK flags,
           and a hook makes no call into the stack: tcpwave.h), so the notification's and
           the timer's tests below take the same answer. Asked before
           established_from_syn_ka, whose copy for the usual case then asks neither the FIN
           nor the keepalive flag (measured: lifecycle -5 instr). */
        /* (an extras block, Fast Open's or ECN's, sent to the general steps too: the
           usual case's connection is then Open, established_from_syn_ka's may_ka) */
        /* (and the push's rare flags, push_last_as's, in the same test: TW_F_SEND_RARE
           and TW_F_CORK, which a connection in SYN-SENT has only when set by an option,
           so that the usual push asks none, tcp_out.c tw_out_push_now_synack_data;
           measured: lifecycle -2 instr) */
        uint32_t nf = fs;
        bool plain = !(nf & SYN_SENT_RARE_FLAGS);
        if (__builtin_expect(plain, 1)) {
            /* (SND.UNA: just set) */
            established_from_syn_ka_as(st, c, false, may_trace, false, ack, false, may_trace,
                                       !may_trace);
        } else {
            established_from_syn_ka_as(st, c, true, may_trace, false, ack, true, may_trace,
                                       !may_trace);
        }
        /* tw_out_push: synchronized now, not in TIME-WAIT or recovery, so its sending
           step when data or a FIN waits (S5: the request queued during the handshake),
           without its tests. Its data test, SND.NXT != SND.BUF + the ring's length, is
           the ring's length alone: SND.NXT is SND.BUF here (tw_out_push_now_held's
           assertion: connect set both to ISS + 1, and Fast Open's SYN+ACK moves both to
           the ACK, tw_tfo_synsent_ack). */
        assert(tw_seq_eq(c->snd_nxt, c->snd_buf_seq));
        assert(!((nf ^ c->flags) & SYN_SENT_RARE_FLAGS));
        if (__builtin_expect(plain, 1)) {
            if (!held && c->snd.len != 0) {
                /* The usual SYN+ACK's, its timer not held: the push, with the wheel's
                   step below made there (tcp_out.c tw_out_push_now_synack_data: the
                   deadline it has just set in hand), then the notification */
                tw_out_push_now_synack_data(c);
                syn_sent_notify(st, c);
                return true;
            }
            /* (tw_cc_init_una_ka's SND.SML, left by this copy to the push above, which
               sets it: tcp_out.c push_last_data's `sml`) */
            c->snd_sml = ack;
            if (c->snd.len != 0) {
                tw_out_push_now_held_data(c); /* (the wheel set below, unconditionally) */
            } else {
                tw_out_push(c);
            }
            syn_sent_notify(st, c);
            /* timer_release's steps: the timer is still held (a hook makes no call that
               could let it go or free c: tcpwave.h), and its RTO changed (stopped above) */
            assert(held == (st->timer_held == c));
            if (held) {
                st->timer_held = NULL;
            }
            tw_conn_timer_syn_sent_data(st, c);
            return true;
        }
        if (nf & TW_F_FIN_QUEUED) {
            tw_out_push_now_held(c); /* (the wheel set below, unconditionally) */
        } else if (c->snd.len != 0) {
            tw_out_push_now_held_data(c); /* (the same) */
        } else {
            tw_out_push(c);
        }
        if (!(nf & (TW_F_ORPHAN | TW_F_CHILD)) && st->cfg.notify) {
            tw_conn_notify_emit(c);
        }
        assert(held == (st->timer_held == c));
        if (held) {
            st->timer_held = NULL;
        }
        tw_conn_timer_update_unheld(st, c);
        return true;
    }
    /* R1: simultaneous open. Both SYNs crossed; answer with SYN+ACK from the same ISS. */
    c->snd_wl2 = c->iss;
    tw_conn_set_state(c, TW_STATE_SYN_RCVD);
    c->flags &= ~TW_F_RTT_TIMING;
    tw_out_syn(c, false);
    tw_rto_arm(c);
    return false;
}

/* ---- the synchronized states (3.10.7.4) ---- */

/* The receive window used for acceptance: the space we really have, or what we already
   advertised if that is more (data up to an advertised edge is never refused). */
static uint32_t rcv_window(const tw_socket *c)
{
    uint32_t space = tw_conn_rcv_space(c);
    uint32_t adv = tw_seq_gt(c->rcv_adv, c->rcv_nxt)
                       ? (uint32_t)tw_seq_diff(c->rcv_adv, c->rcv_nxt)
                       : 0;
    return space > adv ? space : adv;
}

/* First check: RFC 9293 3.10.7.4's acceptability test (R5). Its four cases ask that a
   segment begin or end in the window; read as the overlap it stands for (the section
   goes on: a segment that straddles RCV.NXT has its new part processed; with RCV.WND
   zero "special allowance" is made for valid ACKs), as BSD and Linux (tcp_sequence)
   read it, two segments that the literal cases refuse are taken:

       RCV.NXT               RCV.NXT+RCV.WND
          |<------ window ------>|
     [====|======================|====]   data over the whole window: trimmed both ways
     [====]                               (with RCV.WND 0: the ACK at RCV.NXT, no data)
                                 .        length 0 at the right edge: the ACK of a sender
                                          that filled our window (SEG.SEQ = its SND.NXT)

   Refusing them kept both ends of a transfer with tiny buffers from ever reading each
   other's ACKs: each took part of the other's retransmission (data over the whole
   window, every later one refused) and numbered its ACKs where the other end had
   already moved past (sim --set rcvbuf=100 --seed 0x118c63). A RST keeps the literal
   test (RFC 5961 3.2: one outside the window is dropped silently). */
static bool seq_acceptable(const tw_socket *c, tw_seq seq, uint32_t len, uint8_t flags)
{
    uint32_t wnd = rcv_window(c);
    tw_seq end = tw_seq_add(c->rcv_nxt, wnd);
    if (flags & TW_RST) {
        if (wnd == 0) {
            return tw_seq_eq(seq, c->rcv_nxt);
        }
        tw_seq last = tw_seq_add(seq, len ? len - 1 : 0);
        return tw_seq_in(seq, c->rcv_nxt, end) || tw_seq_in(last, c->rcv_nxt, end);
    }
    if (len == 0) {
        return tw_seq_ge(seq, c->rcv_nxt) && tw_seq_le(seq, end);
    }
    /* [seq, seq + len) holds RCV.NXT or more, and begins inside the window (at RCV.NXT
       when it is zero: 1 byte there is the zero-window probe, answered with the ACK). */
    if (!tw_seq_gt(tw_seq_add(seq, len), c->rcv_nxt)) {
        return false;
    }
    return wnd == 0 ? tw_seq_le(seq, c->rcv_nxt) : tw_seq_lt(seq, end);
}

/* S15: the application still holds the socket (or no record could be made): the full
   connection waits 2*MSL itself, in TIME-WAIT, with nothing left to send. */
static inline __attribute__((always_inline)) void time_wait_stay(tw_socket *c)
{
    c->rto_at = TW_TIME_NEVER; /* (a record has no RTO: set for the full connection) */
    tw_conn_ring_free(c->st, &c->snd);
    tw_conn_timer_update(c);
    tw_conn_notify(c);
}

/* Entering TIME-WAIT: inline where the usual close takes it (fin_in_order, FIN-WAIT-2's
   FIN: every active closer's), a call elsewhere (enter_time_wait). (closing_ack_last has
   its own copy of these steps for an orphan that nothing traces.) */
static inline __attribute__((always_inline)) void time_wait_steps(tw_socket *c)
{
    tw_stack *st = c->st;
    tw_conn_set_state(c, TW_STATE_TIME_WAIT);
    /* S15: TIME-WAIT ends 2*MSL from now, whether it is spent in a record made now or
       by a later close() (tw_timewait_enter keeps this end) or in the full connection. */
    c->misc_at = tw_time_add(st->now, st->time_wait_len);
    if ((c->flags & TW_F_ORPHAN) && tw_timewait_enter(c)) {
        return; /* c is now a compact record (tw_conn_free gave its send ring back) */
    }
    time_wait_stay(c);
}

static void enter_time_wait(tw_socket *c)
{
    time_wait_steps(c);
}

/* The ACK that answers an unacceptable segment (out of window, PAWS, ACK of unsent or
   long-gone data). Two ends that disagree about the sequence space (after a blind
   injection, say) would answer each other's empty ACKs forever (RFC 5961 10); like Linux
   (tcp_invalid_ratelimit) answer at most one such empty segment per cfg.invalid_ratelimit
   (500 ms), a clock challenge ACKs share. Segments that carry data, SYN or FIN are
   always answered. */
static void ack_unacceptable(tw_socket *c, const tw_seg *s)
{
    assert(s->len != UINT32_MAX);
    if (s->len == 0 && tw_oow_rate_limited(c)) {
        return;
    }
    tw_out_ack(c);
}

static in_result in_check_seq(tw_socket *c, tw_seg *s)
{
    tw_stack *st = c->st;
    if (tw_seq_eq(s->seq, c->rcv_nxt) && s->data_len <= tw_conn_rcv_space(c)) {
        /* The usual segment: at RCV.NXT it is acceptable whatever the window (all four
           cases of the test below), and it has nothing to trim. */
        return IN_CONTINUE;
    }
    assert(s->len != UINT32_MAX);
    if (!seq_acceptable(c, s->seq, s->len, s->flags)) {
        if (s->flags & TW_RST) {
            /* RFC 5961 3.2: out-of-window RSTs are dropped silently. */
            tw_drop(st, TW_CNT_TCP_RX_RST_OUT_OF_WINDOW, &s->sum, c);
            return IN_DONE;
        }
        bool old = s->len && tw_seq_le(tw_seq_add(s->seq, s->len), c->rcv_nxt);
        tw_drop(st, old ? TW_CNT_TCP_RX_DUP_DATA : TW_CNT_TCP_RX_OUT_OF_WINDOW, &s->sum, c);
        if (old && (c->flags & TW_F_SACK)) {
            /* RFC 2883: tell the sender this data arrived twice (a spurious
               retransmission it can learn from). A FIN's sequence number is reported
               with it, and a FIN alone too: as Linux (tcp_data_queue, tcp_send_dupack:
               SEG.SEQ to SEG.SEQ + SEG.LEN), the peer's repeated FIN in CLOSE-WAIT,
               CLOSING or LAST-ACK is answered <nop,nop,sack FIN:FIN+1>. */
            tw_count(st, TW_CNT_TCP_RX_DSACK);
            c->flags |= TW_F_DSACK;
            c->dsack_start = tw_seq_add(s->seq, s->len - s->data_len -
                                                    ((s->flags & TW_FIN) ? 1u : 0u));
            c->dsack_end = tw_seq_add(s->seq, s->len);
        }
        ack_unacceptable(c, s);
        return IN_DONE;
    }
    /* Trim what lies before rcv_nxt (already received) and beyond the window. */
    if (tw_seq_lt(s->seq, c->rcv_nxt)) {
        uint32_t cut = (uint32_t)tw_seq_diff(c->rcv_nxt, s->seq);
        if (s->flags & TW_SYN) {
            cut--; /* the SYN sits before the data; step four deals with it */
        }
        if (cut > s->data_len) {
            cut = s->data_len;
        }
        if (cut) { /* (s->data is set only with data: seg_init) */
            if ((c->flags & TW_F_SACK) && !(s->flags & TW_FIN)) {
                /* RFC 2883 (and Linux's tcp_data_queue): the part that arrived twice
                   is reported, SEG.SEQ to RCV.NXT. (Not with a FIN, which Linux's
                   tcp_fin takes with the SACK state cleared, the report with it.) */
                tw_count(c->st, TW_CNT_TCP_RX_DSACK);
                c->flags |= TW_F_DSACK;
                c->dsack_start = tw_seq_add(c->rcv_nxt, (uint32_t)0 - cut);
                c->dsack_end = c->rcv_nxt;
            }
            s->data += cut;
            s->data_len -= cut;
        }
        s->seq = tw_seq_add(s->seq, cut + ((s->flags & TW_SYN) ? 1u : 0u));
    }
    uint32_t wnd = tw_conn_rcv_space(c);
    uint32_t off = (uint32_t)tw_seq_diff(s->seq, c->rcv_nxt);
    uint32_t room = off < wnd ? wnd - off : 0;
    if (s->data_len > room) {
        s->data_len = room;
        s->flags &= (uint8_t)~TW_FIN; /* the FIN lies beyond the window too */
        /* RFC 9293 3.10.7.4 first check and RFC 1122 4.2.2.17: what lies beyond the
           window is not taken but must be answered with an ACK carrying our window; a
           zero-window probe with one new byte (BSD, Windows) relies on it (D2). */
        c->flags |= TW_F_ACK_NOW;
    }
    return IN_CONTINUE;
}

static in_result in_check_rst(tw_socket *c, const tw_seg *s, tw_seq orig_seq)
{
    tw_stack *st = c->st;
    if (!(s->flags & TW_RST)) {
        return IN_CONTINUE;
    }
    if (!tw_seq_eq(orig_seq, c->rcv_nxt)) {
        /* R3, RFC 5961 3.2: in the window but not exact: challenge ACK. */
        tw_drop(st, TW_CNT_TCP_RX_RST_IN_WINDOW, &s->sum, c);
        tw_out_challenge_ack(c);
        return IN_DONE;
    }
    switch (c->state) {
    case TW_STATE_SYN_RCVD:
        tw_count(st, TW_CNT_TCP_RX_RST_ACCEPTED);
        if (c->flags & TW_F_PASSIVE) {
            /* S7: the half-open connection made by an old duplicate SYN goes away; the
               listener is untouched. */
            tw_count(st, TW_CNT_TCP_SYNRCVD_RST);
            /* (one opened by Fast Open is in the accept queue, or accepted: its
               application sees "connection reset", as on Linux; tcp_conn.c) */
            tw_conn_done(c, tw_tfo_child_queued(c) ? TW_ERR_RESET : 0);
        } else {
            tw_count(st, TW_CNT_TCP_CONN_REFUSED);
            tw_conn_done(c, TW_ERR_REFUSED);
        }
        return IN_DONE;
    case TW_STATE_CLOSING:
    case TW_STATE_LAST_ACK:
        tw_count(st, TW_CNT_TCP_RX_RST_ACCEPTED);
        tw_conn_done(c, 0);
        return IN_DONE;
    default:
        tw_count(st, TW_CNT_TCP_RX_RST_ACCEPTED);
        tw_count(st, TW_CNT_TCP_CONN_RESET);
        tw_conn_done(c, TW_ERR_RESET); /* R4: the application sees "connection reset" */
        return IN_DONE;
    }
}

static in_result in_check_syn(tw_socket *c, const tw_seg *s)
{
    if (!(s->flags & TW_SYN)) {
        return IN_CONTINUE;
    }
    /* R3, RFC 5961 4.2 (and RFC 9293 3.10.7.4 fourth): any SYN on a synchronized
       connection gets a challenge ACK; a real restart of the peer then sends a RST with
       the exact sequence number. */
    tw_drop(c->st, TW_CNT_TCP_RX_SYN_CHALLENGE, &s->sum, c);
    tw_out_challenge_ack(c);
    return IN_DONE;
}

/* RFC 6298 3: an RTT sample must not be ambiguous. Timestamps make one from any ACK of
   new data (RFC 7323 4.1), but in a loss episode an echo older than its latest
   retransmission (RFC 3522 2: the Eifel test) is an earlier transmission's, while the
   ACK may answer the retransmission: a duplicate below RCV.NXT is answered and dropped
   (RFC 7323 5.3 R2) before its TSval could become TS.Recent (R3; Linux and tcpwave's
   receiver alike), so after an RTO resent what had arrived (its ACK lost), now - TSecr
   is the RTO's wait plus a round trip. Such an ACK gives no sample. The episode
   ends once SND.UNA passes the data it had sent (the ACK that ends it still judged by
   it). */
static __attribute__((noinline, cold)) bool rtt_echo_ambiguous(tw_socket *c, uint32_t ecr,
                                                               tw_seq ack)
{
    tw_sbx *x = tw_conn_sbx(c);
    if (x == NULL || !x->rtx_ts_on) {
        return false;
    }
    bool old = (int32_t)(ecr - x->rtx_ts) < 0;
    if (tw_seq_ge(ack, x->rtx_end)) {
        x->rtx_ts_on = false;
    }
    if (old && c->srtt) {
        /* The back-off ends all the same: new data was acknowledged, the path works
           (Linux's icsk_backoff goes to 0 on this ACK, whose echo it samples). The RTO
           is SRTT's and RTTVAR's as they stand (RFC 6298 2.3), with no sample. */
        const tw_config *cfg = &c->st->cfg;
        tw_time k = 4 * c->rttvar;
        tw_time rto = c->srtt + (k > cfg->rto_min ? k : cfg->rto_min);
        c->rto = rto > cfg->rto_max ? cfg->rto_max : rto;
    }
    return old;
}

/* `h` is s->h (given apart: the usual packet's function has it in its own frame);
   `usual` says the segment passed usual_opts (it carries timestamps if the connection
   uses them: a constant where the caller knows it); `unheld` that c's timer is not held
   (header prediction, fast_do: ESTABLISHED), so the RTO's change goes to the wheel
   without asking; `una_set` that SND.UNA is SEG.ACK already (third_ack for req_promote_in's
   quick copies, PROMOTE_UNA_SET). */
static inline __attribute__((always_inline)) void
ack_advance_as(tw_stack *st, tw_socket *c, const tw_seg *s, const tw_tcp_hdr *h, bool usual,
               bool first, bool unheld, bool una_set)
{
    assert(c->st == st);
    tw_seq ack = s->ack;
    const tw_tcp_opts *o = &h->o;
    /* (`usual` without the TS flag's test: a connection without timestamps has had
       usual_opts find no option, so the usual parse's TSecr 0, which the next test
       refuses) */
    assert(!usual || (c->flags & TW_F_TS) || o->ts_ecr == 0);
    if ((usual || ((c->flags & TW_F_TS) && (o->present & TW_OPT_TS))) && o->ts_ecr != 0 &&
        (int32_t)(tw_ts_now(st, c->ts_offset) - o->ts_ecr) >= 0) {
        /* RFC 7323 4.1 (RTTM): the echoed timestamp times this ACK, retransmission or
           not, so Karn's ambiguity does not arise. */
        uint32_t ms = tw_ts_now(st, c->ts_offset) - o->ts_ecr;
        /* (`first`: a child times nothing itself -- its SYN+ACK was the entry's, whose
           sample without timestamps req_promote took -- so the flag is clear) */
        assert(!first || !(c->flags & TW_F_RTT_TIMING));
#if TW_ASM_X86
        if (unheld) {
            /* (header prediction's copy: the flag cleared in memory, one andl: GCC loaded
               the flags before the echo's tests, where the other case reads them too,
               and cleared and stored them from that register, two more; measured:
               lifecycle -2 instr, and one an ACK in bulk) */
            __asm__("andl %[clr], %[f]"
                    : [f] "+m"(c->flags)
                    : [clr] "i"((int32_t)~TW_F_RTT_TIMING)
                    : "cc");
        } else if (!first) {
            c->flags &= ~TW_F_RTT_TIMING;
        }
#else
        if (!first) {
            c->flags &= ~TW_F_RTT_TIMING;
        }
#endif
        /* (header prediction's ACKs, `unheld`, come in the Open state: no episode) */
        if (unheld || first || __builtin_expect(c->ca_state == TW_CA_OPEN, 1) ||
            !rtt_echo_ambiguous(c, o->ts_ecr, ack)) {
            /* (`first`: a child with timestamps has no sample yet, req_promote taking
               one only without them) */
            if (first && ms == 0) {
                /* (a child's first sample, of half a millisecond: its RTO is the
                   stack's, tw_rtt_sample_first_half_ms) */
                tw_rtt_sample_first_half_ms(st, c);
            } else {
                tw_rtt_sample_as(st, c, ms ? TW_MS(ms) : TW_US(500), first);
            }
        }
    } else if (!first && (c->flags & TW_F_RTT_TIMING) && tw_seq_ge(ack, c->rtt_seq)) {
        c->flags &= ~TW_F_RTT_TIMING;
        tw_rtt_sample_in(st, c, st->now - c->rtt_start);
    }
    /* `first`: the ACK of our SYN alone (third_ack), which acknowledges no byte of the
       send ring (SND.BUF = ISS + 1 = SEG.ACK = SND.NXT = SND.MAX, req_promote), on a
       child with no SACK scoreboard in use: the tests below that act on data, snd_nxt
       and the scoreboard have nothing to do, and all is acknowledged. */
    assert(!first || (tw_seq_eq(ack, c->snd_buf_seq) && tw_seq_eq(ack, c->snd_nxt) &&
                      tw_seq_eq(ack, c->snd_max) && !(c->sb && c->sb->n)));
    /* `unheld`: header prediction's new ACK, in ESTABLISHED with no FIN queued (fast_ok),
       so with no FIN sent: SND.BUF is SND.UNA there (every ACK that moves one moves the
       other as far, the SYN being acknowledged in ESTABLISHED), and SEG.ACK is beyond
       it, acknowledging bytes of the ring, without the test. */
    assert(!unheld || (tw_seq_eq(c->snd_buf_seq, c->snd_una) && tw_seq_gt(ack, c->snd_una)));
    if (!first && (unheld || tw_seq_gt(ack, c->snd_buf_seq))) {
        uint32_t acked = (uint32_t)tw_seq_diff(ack, c->snd_buf_seq);
        if (acked >= c->snd.len) {
            /* All of it (the rest acknowledges our FIN): the ring starts over, with no
               position to compute, TW_SND_HDR_ROOM bytes from its front (a ring's
               buffer holds more: 1 KiB at least), so that what is written next lies in
               one piece with room for its headers in front, and a payload of more than
               128 bytes is then sent where it lies (tcp_out.c emit_plain_as, push_full)
               rather than copied. (A ring without a buffer -- a FIN acknowledged with no
               data ever sent -- has no position to keep: whatever makes its buffer
               sets its head, send_dst, tw_conn_ring_reserve, tw_ring_move.) */
            acked = c->snd.len;
            c->snd.head = TW_SND_HDR_ROOM;
            c->snd.len = 0;
        } else {
            tw_ring_consume(&c->snd, acked);
        }
        /* (`unheld`: the ring holds every byte up to SND.MAX, no FIN after them, so
           SEG.ACK is at most its end: SND.BUF moves to SEG.ACK) */
        assert(!unheld || tw_seq_eq(tw_seq_add(c->snd_buf_seq, acked), ack));
        c->snd_buf_seq = unheld ? ack : tw_seq_add(c->snd_buf_seq, acked);
        c->bytes_acked += acked;
    }
    assert(!una_set || tw_seq_eq(c->snd_una, ack));
    if (!una_set) {
        c->snd_una = ack;
    }
    if (!first && tw_seq_lt(c->snd_nxt, ack)) {
        c->snd_nxt = ack;
    }
    /* (c->sacked is the scoreboard's byte count, kept by every change of it, tcp_sack.c,
       and its ranges are never empty, ranges.c: not 0 exactly when it holds a range --
       one load for the usual ACK's test, no scoreboard) */
    assert((c->sacked != 0) == (c->sb && c->sb->n));
    /* (`unheld`: header prediction's new ACK, for which fast_ok found no byte SACKed, and
       nothing since has changed the scoreboard: no test. Its answer was not kept: the
       payload's copy into the receive ring, bytes stored through a char pointer, may
       alias c for GCC, which then loaded c->sacked again; measured with fast_do's
       prior_flight after the call: lifecycle -6 instr, two segments) */
    assert(!unheld || c->sacked == 0);
    if (!first && !unheld && c->sacked) {
        tw_sack_trim(c); /* no call for the usual ACK: no SACK scoreboard */
    }
    /* (`first`: third_ack has stored it, with the time it loads once) */
    assert(!first || c->stall_start == st->now);
    if (!first) {
        c->stall_start = st->now;
    }
    /* (a child has had no RTO expiry nor probe: zeroed when made, tw_conn_alloc) */
    assert(!first || (c->retries == 0 && c->persist_backoff == 0));
    if (!first) {
        c->retries = 0;
        c->persist_backoff = 0;
    }
    /* RFC 6298 5.2/5.3: stop the timer when all is acknowledged, else restart it. (A
       child's RTO was never started -- its SYN+ACK's timer was the entry's -- so for
       `first` it stays stopped, and the deadlines are the caller's to tell the wheel.) */
    assert(!first || c->rto_at == TW_TIME_NEVER);
    if (!first) {
        /* (SND.UNA is `ack`, stored above: compared in its register) */
        if (__builtin_expect(tw_seq_eq(ack, c->snd_max), 1)) {
            c->rto_at = TW_TIME_NEVER;
        } else {
            c->rto_at = tw_time_add(st->now, tw_conn_pto_or_rto(st, c)); /* RFC 8985 7.2 */
        }
        if (unheld) {
            /* (timer_changed_in's other case; header prediction's ESTABLISHED has no
               FIN-WAIT-2 or TIME-WAIT deadline) */
            tw_conn_timer_update_unheld_as(st, c, true);
        } else {
            timer_changed_in(st, c);
        }
    }
}

static inline __attribute__((always_inline)) void ack_advance(tw_stack *st, tw_socket *c,
                                                             const tw_seg *s,
                                                             const tw_tcp_hdr *h, bool usual)
{
    ack_advance_as(st, c, s, h, usual, false, false, false);
}

/* RFC 6937 3.1: "At the beginning of recovery": prr_delivered = prr_out = 0 and
   RecoverFS = snd.nxt - snd.una (FlightSize; snd_max here: snd_nxt is only ever behind
   it after a timeout). The state lives in the loss-recovery extras, made now for a
   connection without SACK too; without memory the recovery goes as RFC 6675/6582 alone
   (prr_on stays false). */
static __attribute__((noinline, cold)) void prr_begin(tw_socket *c)
{
    tw_sbx *x = tw_sbx_get(c);
    if (x == NULL) {
        return;
    }
    x->prr_on = true;
    x->prr_delivered = 0;
    x->prr_out = 0;
    x->prr_recover_fs = (uint32_t)tw_seq_diff(c->snd_max, c->snd_una);
    x->prr_sacked = c->sacked;
    x->prr_lost = c->snd_una;
    /* Without SACK the duplicate ACKs before this one stand for delivered segments
       (RFC 6937 3: one SMSS each), still in flight as far as snd_una tells: not counted
       in prr_delivered (they came before the recovery) but kept out of pipe's estimate.
       The ACK that starts the recovery adds its own (on_dupack). */
    x->prr_dup = c->dupacks > 1 ? (uint32_t)(c->dupacks - 1) * c->snd_mss : 0;
}

/* enter_recovery for a connection in ECN's reduction (ecn.h tw_ecn_cwr_on): true when
   it is, and then the reduction goes on as the recovery's. RFC 3168 6.1.2: the window is
   reduced once per window of data, ECE or loss ("SHOULD NOT decrease ... ssthresh, if
   it has been decreased within the last round trip time"); Linux's tcp_enter_recovery
   in its CWR state keeps the ssthresh and the PRR count under way (no new
   tcp_init_cwnd_reduction), and no undo (no D-SACK can show an ECE spurious). */
static __attribute__((noinline, cold)) bool ecn_cwr_recovery(tw_socket *c)
{
    if (!tw_ecn_cwr_on(c)) {
        return false;
    }
    c->opts->ecn &= (uint8_t)~TW_ECN_F_PRR;
    return true;
}

/* RFC 6582 3.2 / RFC 6675 5: fast retransmit, then recovery until `recover`. */
static void enter_recovery(tw_socket *c)
{
    tw_stack *st = c->st;
    tw_count(st, TW_CNT_TCP_FAST_RETRANS);
    c->fast_retransmits++;
    /* (a loss in ECN's reduction: ecn_cwr_recovery) */
    bool cwr = __builtin_expect(c->flags & TW_F_EXTRAS, 0) && ecn_cwr_recovery(c);
    if (!cwr) {
        tw_undo_begin(c);
        c->ssthresh = tw_conn_cc(c)->on_loss(c, st->now);
    }
    c->recover = c->snd_max;
    c->ca_state = TW_CA_RECOVERY;
    c->flags &= ~TW_F_RTT_TIMING; /* Karn */
    c->high_rxt = c->snd_una;
    tw_rtx_episode_mark(c);
    if (!st->cfg.no_prr && !cwr) {
        prr_begin(c); /* (before the fast retransmit, which counts in prr_out) */
    }
    uint32_t n = tw_out_resend(c, c->snd_una, c->snd_mss);
    if (n) {
        c->total_retrans++;
        c->high_rxt = tw_seq_add(c->snd_una, n);
    }
    /* With SACK, pipe accounts for what left the network (RFC 6675); without it,
       NewReno inflates cwnd by the three segments the duplicate ACKs stand for. */
    c->cwnd = (c->flags & TW_F_SACK) ? c->ssthresh : c->ssthresh + 3u * c->snd_mss;
    c->rto_at = tw_time_add(st->now, c->rto);
    timer_changed(c);
}

void tw_rack_act(tw_socket *c, tw_time timeout)
{
    tw_stack *st = c->st;
    tw_sbx *x = tw_conn_sbx(c);
    if (tw_seq_gt(x->rack_lost, c->snd_una) && c->ca_state <= TW_CA_DISORDER &&
        tw_seq_ge(c->snd_una, c->recover)) {
        enter_recovery(c); /* RFC 8985 6.2 step 5: a loss marked; RFC 6675 5 from here */
    }
    if (c->ca_state == TW_CA_LOSS && x->nrelost && !x->loss_relost_cut) {
        /* RFC 5681 3.1: a retransmission lost again after the timeout is another
           congestion signal, answered once (Linux enters Recovery from Loss with a new
           reduction); the segment goes again at once (tcp_out.c push_segs). */
        x->loss_relost_cut = true;
        c->ssthresh = tw_conn_cc(c)->on_loss(c, st->now);
        if (c->cwnd > c->ssthresh) {
            c->cwnd = c->ssthresh;
        }
    }
    if (timeout && c->rto_at != TW_TIME_NEVER) {
        /* RFC 8985 6.3: the reordering timer, in the retransmission timer's slot; the
           RTO's deadline is kept (tcp_timer.c on_early tells them apart). */
        tw_time at = tw_time_add(st->now, timeout);
        if (at < c->rto_at) {
            if (x->rto_due < c->rto_at) {
                x->rto_due = c->rto_at;
            }
            c->rto_at = at;
            timer_changed(c);
        }
    }
}

/* RFC 8985 6.2 with SACK news: RACK's state and marks (out of line, SACK ACKs only). */
static __attribute__((noinline, cold)) void rack_on_sack(tw_socket *c)
{
    if (tw_rack_active(c)) {
        tw_rack_act(c, tw_rack_on_ack(c));
    }
}

/* RFC 8985 7.4.2: the ACKs after a probe that resent the last segment tell whether it
   repaired a loss. A probe leaves the connection in Disorder (tw_out_tlp), so that its
   ACKs take this path rather than header prediction's. True while the answer is still
   to come (the connection stays in Disorder). */
static __attribute__((noinline, cold)) bool tlp_ack_wait(tw_socket *c)
{
    tw_sbx *x = tw_conn_sbx(c);
    if (!x->tlp_on || !x->tlp_retrans) {
        return false; /* (no retransmitted probe, or its answer came: tw_rack_dsack) */
    }
    if (!tw_seq_gt(c->snd_una, x->tlp_end)) {
        return true; /* the probe not acknowledged yet, or no further data: its D-SACK
                        (both copies arrived) may still come */
    }
    /* "SEG.ACK > TLP.end_seq" with no D-SACK for the probe: the original was lost and
       the probe repaired it, a loss that congestion control must answer (as Linux's
       tcp_process_tlp_ack: a reduction to ssthresh, once). */
    x->tlp_retrans = false;
    c->ssthresh = tw_conn_cc(c)->on_loss(c, c->st->now);
    if (c->cwnd > c->ssthresh) {
        c->cwnd = c->ssthresh;
    }
    tw_count(c->st, TW_CNT_TCP_TLP_RECOVERY);
    return false;
}

/* The end of a SACK recovery. RFC 8985 6.2 step 4: a widened reordering window lasts 16
   recoveries (those without a D-SACK since it grew). */
static __attribute__((noinline, cold)) void rack_recovery_end(tw_socket *c)
{
    tw_sbx *x = tw_conn_sbx(c);
    if (x->reo_wnd_persist && --x->reo_wnd_persist == 0) {
        x->reo_wnd_mult = 1;
    }
    if (!tw_seq_eq(c->snd_una, c->snd_max) && c->rto_at != TW_TIME_NEVER) {
        /* RFC 8985 7.2: out of recovery with data in flight, a probe may follow again
           (ack_advance armed the RTO, still in recovery then). */
        c->rto_at = tw_time_add(c->st->now, tw_conn_pto_or_rto(c->st, c));
        timer_changed(c);
    }
}

/* The end of the recovery after a timeout (Loss to Open). RFC 8985 7.2: with data in
   flight a probe may follow again, as after a fast recovery (rack_recovery_end):
   ack_advance armed the RTO, still in Loss then (Linux schedules the probe once the ACK
   has moved CA_Loss to CA_Open). */
static __attribute__((noinline, cold)) void loss_recovery_end(tw_socket *c)
{
    if (!tw_seq_eq(c->snd_una, c->snd_max) && c->rto_at != TW_TIME_NEVER) {
        c->rto_at = tw_time_add(c->st->now, tw_conn_pto_or_rto(c->st, c));
        timer_changed(c);
    }
}

/* RFC 6937 3.1, on an ACK during fast recovery that delivered data: the congestion
   window for what may be sent now, sndcnt above pipe (push_segs sends while cwnd -
   pipe allows: for the sending, pipe is tcp_out.c's pipe_now, RFC 6675's with SACK,
   snd.nxt - snd.una without). `acked` is what the ACK moved snd.una by, `dup` true for
   a duplicate ACK without SACK. Counted in bytes; the proportional part is rounded up to
   whole segments, as Linux's tcp_cwnd_reduction counts segments (a byte count would
   hold a segment back for an ACK). `entry` for the ACK that started the recovery: its
   fast retransmit, sent already, is the first of the sndcnt counted as before it (as
   Linux counts it, and RFC 6937's sndcnt on that ACK covers it). */
static __attribute__((noinline, cold)) void prr_ack(tw_socket *c, uint32_t acked, bool dup,
                                                    bool entry)
{
    tw_sbx *x = tw_conn_sbx(c);
    uint32_t mss = c->snd_mss;
    uint32_t flight = (uint32_t)tw_seq_diff(c->snd_nxt, c->snd_una);
    uint32_t delivered, pipe, base;
    if (c->flags & TW_F_SACK) {
        /* DeliveredData = change in snd.una + change in SACKed bytes (what the cumulative
           ACK took off the scoreboard is in `acked`) */
        int64_t dd = (int64_t)acked + (int64_t)c->sacked - (int64_t)x->prr_sacked;
        delivered = dd > 0 ? (uint32_t)dd : 0; /* (below 0: reneging) */
        x->prr_sacked = c->sacked;
        /* (a retransmission RACK found lost is out of it until it is resent,
           tcp_sack.c tw_sack_pipe: its resending is part of sndcnt, as Linux's) */
        pipe = base = tw_sack_pipe(c);
    } else if (dup) {
        delivered = mss; /* RFC 6937 3: a duplicate ACK without SACK stands for one SMSS */
        x->prr_dup += mss;
        base = flight;
        pipe = flight > x->prr_dup ? flight - x->prr_dup : 0;
    } else {
        /* ... and a cumulative ACK for what it acknowledged less what its duplicate ACKs
           counted already */
        uint32_t d = acked < x->prr_dup ? acked : x->prr_dup;
        x->prr_dup -= d;
        delivered = acked - d;
        base = flight;
        pipe = flight > x->prr_dup ? flight - x->prr_dup : 0;
    }
    if (delivered == 0) {
        return; /* (Linux's tcp_cwnd_reduction: nothing to scale; the window stays) */
    }
    x->prr_delivered += delivered;
    bool newly_lost = false;
    if (c->flags & TW_F_SACK) {
        tw_seq lp = tw_sack_lost_point(c);
        /* (a lost retransmission counts while it still waits to go again: the list
           keeps entries an ACK has since covered until a resend looks at them, and one
           of those taken for news kept the extra MSS back for good: see below) */
        newly_lost = (x->nrelost != 0 && tw_sack_relost_bytes(c, c->snd_max) != 0) ||
                     tw_seq_gt(lp, tw_seq_max(x->prr_lost, c->snd_una));
        x->prr_lost = tw_seq_max(lp, x->prr_lost);
    }
    uint32_t fr = entry ? x->prr_out : 0; /* (all sent since prr_begin: the retransmit) */
    uint32_t out = x->prr_out - fr;
    if (c->flags & TW_F_SACK) {
        pipe -= fr < pipe ? fr : pipe; /* (without SACK the estimate never counted it) */
    }
    uint32_t sndcnt;
    if (pipe > c->ssthresh) {
        /* RFC 6937 3.1: proportional: sndcnt = CEIL(prr_delivered * ssthresh /
           RecoverFS) - prr_out */
        uint64_t fs = x->prr_recover_fs ? x->prr_recover_fs : 1;
        uint64_t want = ((uint64_t)x->prr_delivered * c->ssthresh + fs - 1) / fs;
        want = (want + mss - 1) / mss * mss;
        sndcnt = want > out ? (uint32_t)(want - out) : 0;
    } else {
        /* RFC 6937 3.1 PRR-SSRB: limit = MAX(prr_delivered - prr_out, DeliveredData)
           + MSS, sndcnt = MIN(ssthresh - pipe, limit). The extra MSS only on an ACK that
           moved snd.una and showed no new loss, as Linux (FLAG_SND_UNA_ADVANCED without
           newly lost segments) and RFC 6937's revision (draft-ietf-tcpm-prr-rfc6937bis,
           its SafeACK) have it: on a duplicate ACK the reduction is not ahead of the
           delivery it answers. */
        uint32_t d = x->prr_delivered > out ? x->prr_delivered - out : 0;
        uint32_t limit = d > delivered ? d : delivered;
        /* Without SACK a NewReno recovery's partial ACK marks the next hole lost
           (Linux's tcp_newreno_mark_lost: newly lost), so no extra MSS there; in ECN's
           reduction (Linux's CWR state, RFC 3168 6.1.2) nothing is marked lost, and
           an ACK of new data has it with or without SACK, as in Linux. */
        if (acked && !newly_lost &&
            ((c->flags & TW_F_SACK) || c->ca_state != TW_CA_RECOVERY)) {
            limit += mss; /* (no hole newly counted lost, no retransmission lost again) */
        }
        /* Whole segments, as Linux counts them (tcp_cwnd_reduction works in packets):
           an ACK of a segment shorter than the MSS (one that carried SACK blocks, a
           short write) delivered one segment. Counted in bytes, with nothing left in
           flight, the window came out below one segment: nothing could be sent, and no
           ACK or timer was left to change that. */
        limit = (limit + mss - 1) / mss * mss;
        uint32_t room = c->ssthresh - pipe;
        sndcnt = room < limit ? room : limit;
    }
    sndcnt = sndcnt > fr ? sndcnt - fr : 0;
    c->cwnd = base + sndcnt;
}

/* ---- ECN's reduction (RFC 3168 6.1.2) by PRR, as Linux's CWR state ---- */

/* The end of the reduction: Linux's tcp_end_cwnd_reduction (cwnd = ssthresh), the Open
   state again. */
static void ecn_cwr_end(tw_socket *c)
{
    c->opts->ecn &= (uint8_t)~TW_ECN_F_PRR;
    tw_conn_sbx(c)->prr_on = false;
    c->cwnd = c->ssthresh;
    c->ca_state = TW_CA_OPEN;
    c->dupacks = 0;
}

/* An ECE that reduces (ecn.c tw_ecn_ece), on an ACK that acknowledged `acked` bytes with
   `prior_flight` in flight before it. RFC 3168 6.1.2 halves the window "as for a
   loss"; Linux (tcp_enter_cwr) takes ssthresh down at once and brings cwnd to it over
   the round trip with PRR (RFC 6937 3.1: each ACK lets sndcnt out, in proportion to
   what it delivered), rather than cwnd at once, which stalls the sender for most of a
   round trip and then sends in a burst. The state meanwhile is Disorder (ACKs off
   header prediction, cwnd not grown: on_new_ack asks tw_ecn_cwr_on first), until an
   ACK goes past what was in flight at the ECE (ecn_recover: Linux's high_seq; past it,
   as Linux holds CWR until the CWR flag's segment is acknowledged), or a loss turns it
   into a recovery (ecn_cwr_recovery), or a timeout ends it (ecn.c tw_ecn_rto). Without
   PRR (no_prr, or no memory for its state) the reduction is at once, as before. */
static __attribute__((noinline, cold)) void ecn_cwr_enter(tw_socket *c, uint32_t acked,
                                                          uint32_t prior_flight)
{
    tw_stack *st = c->st;
    c->ssthresh = tw_conn_cc(c)->on_loss(c, st->now);
    tw_sbx *x = st->cfg.no_prr ? NULL : tw_sbx_get(c);
    if (x == NULL) {
        c->cwnd = c->ssthresh;
        return;
    }
    prr_begin(c);
    /* RecoverFS: the flight this ACK was part of (its delivery counts below, as Linux's
       tcp_cwnd_reduction counts the ECE's ACK); no duplicate ACK before it stands for
       delivered data of this reduction. */
    x->prr_recover_fs = prior_flight;
    x->prr_dup = 0;
    c->opts->ecn |= TW_ECN_F_PRR;
    if (c->ca_state == TW_CA_OPEN) {
        c->ca_state = TW_CA_DISORDER;
    }
    if (acked) {
        prr_ack(c, acked, false, false);
    }
}

/* An ACK of new data in the reduction (on_new_ack): PRR's count, unless it SACKs news too
   (then on_dupack counts it, from sack_on_new_ack: once); the end once past
   ecn_recover. */
static __attribute__((noinline, cold)) void ecn_cwr_ack(tw_socket *c, uint32_t acked,
                                                        uint32_t sacked)
{
    if (tw_seq_gt(c->snd_una, c->opts->ecn_recover)) {
        ecn_cwr_end(c);
        return;
    }
    if (!sacked) {
        prr_ack(c, acked, false, false);
    }
}

static void on_dupack_in(tw_socket *c, bool dup);

/* A duplicate ACK, or an ACK with SACK news (RFC 6675 5): `acked` what it moved snd.una
   by, `sacked` the bytes it SACKed anew. PRR (RFC 6937 3.1) counts the ACK that starts
   a recovery too: prr_begin took the scoreboard as it stands after it. */
static void on_dupack(tw_socket *c, bool dup, uint32_t acked, uint32_t sacked)
{
    bool was = c->ca_state == TW_CA_RECOVERY;
    on_dupack_in(c, dup);
    if (c->ca_state == TW_CA_RECOVERY && c->sb && tw_conn_sbx(c)->prr_on) {
        tw_sbx *x = tw_conn_sbx(c);
        if (!was) {
            x->prr_sacked -= sacked < x->prr_sacked ? sacked : x->prr_sacked;
        }
        prr_ack(c, acked, dup && !(c->flags & TW_F_SACK), !was);
    } else if (__builtin_expect(c->flags & TW_F_EXTRAS, 0) && tw_ecn_cwr_on(c)) {
        prr_ack(c, acked, dup && !(c->flags & TW_F_SACK), false); /* (ECN's reduction) */
    }
}

static void on_dupack_in(tw_socket *c, bool dup)
{
    if (dup && c->dupacks < 255) {
        c->dupacks++;
    }
    if ((c->flags & TW_F_SACK) && tw_rack_active(c)) {
        /* RFC 8985 6.2: RACK decides what is lost (with RFC 6675's rule while no
           reordering was seen, tcp_sack.c tw_sack_lost_point): enter recovery on its
           marks. */
        if (c->ca_state == TW_CA_OPEN) {
            c->ca_state = TW_CA_DISORDER; /* RFC 3042 limited transmit applies from here */
        }
        rack_on_sack(c);
        if (c->ca_state == TW_CA_RECOVERY || c->ca_state == TW_CA_LOSS) {
            return;
        }
        if (!tw_conn_sbx(c)->reo_seen && tw_seq_ge(c->snd_una, c->recover) &&
            (c->dupacks >= 3 || c->sacked > 2u * c->snd_mss)) {
            enter_recovery(c); /* (RFC 6675 5, as RACK's reo_wnd 0 would) */
        } else if (dup && c->dupacks <= 2) {
            tw_count(c->st, TW_CNT_TCP_LIMITED_TRANSMIT);
        }
        return;
    }
    if (c->ca_state == TW_CA_RECOVERY) {
        if (dup && !(c->flags & TW_F_SACK) && !(c->sb && tw_conn_sbx(c)->prr_on)) {
            c->cwnd += c->snd_mss; /* RFC 6582 3.2 step 3: inflate (PRR instead: on_dupack) */
        }
        return;
    }
    if (c->ca_state == TW_CA_LOSS) {
        return; /* after a timeout, duplicate ACKs do not start another recovery */
    }
    c->ca_state = TW_CA_DISORDER; /* RFC 3042 limited transmit applies from here */
    bool lost = c->dupacks >= 3 ||
                ((c->flags & TW_F_SACK) && c->sacked > 2u * c->snd_mss); /* RFC 6675 5 */
    if (lost && tw_seq_ge(c->snd_una, c->recover)) {
        enter_recovery(c);
    } else if (dup && c->dupacks <= 2) {
        tw_count(c->st, TW_CNT_TCP_LIMITED_TRANSMIT);
    }
}

/* RFC 6675 5: an ACK that SACKs new data is a duplicate ACK "regardless of its status as
   a cumulative acknowledgment": one that also moves SND.UNA may show IsLost(HighACK + 1)
   (more than DupThresh - 1 segments SACKed above it) and start loss recovery at once, as
   Linux's tcp_fastretrans_alert does for FLAG_DATA_SACKED. Out of line: SACK blocks on
   an ACK of new data only. */
static __attribute__((noinline, cold)) void sack_on_new_ack(tw_socket *c, uint32_t acked,
                                                            uint32_t sacked)
{
    if (c->ca_state == TW_CA_OPEN || c->ca_state == TW_CA_DISORDER) {
        on_dupack(c, false, acked, sacked);
    } else if ((c->ca_state == TW_CA_RECOVERY && !(c->sb && tw_conn_sbx(c)->prr_on)) ||
               c->ca_state == TW_CA_LOSS) {
        rack_on_sack(c); /* lost retransmissions, new marks (RFC 8985 6.2) */
    } /* (with PRR on_new_ack's recovery_partial_ack took them, before PRR's count) */
}

/* on_new_ack in the Open state (header prediction's, fast_ok: no state to leave), without
   the state's tests: the same steps. */
static inline __attribute__((always_inline)) void on_new_ack_open(tw_stack *st, tw_socket *c,
                                                                 uint32_t acked,
                                                                 uint32_t prior_flight,
                                                                 const tw_tcp_opts *o)
{
    assert(c->ca_state == TW_CA_OPEN && c->st == st);
    (void)st; /* (the algorithm reads the time from c->st: CUBIC in congestion avoidance) */
    c->dupacks = 0;
    if (prior_flight * 2u > c->cwnd) { /* (on_new_ack's `grow`) */
        tw_conn_cc(c)->on_ack(c, acked, o);
    }
}

/* The end of a fast recovery (RFC 6582 3.2 step 3, the full ACK). */
static __attribute__((noinline, cold)) void recovery_full_ack(tw_socket *c)
{
    if (c->sb && tw_conn_sbx(c)->prr_on) {
        /* RFC 6582 3.2 step 3 option (2), cwnd = ssthresh, as Linux ends a reduction
           (tcp_end_cwnd_reduction); PRR has kept the flight near ssthresh (RFC 6937 3),
           so no burst follows. */
        tw_conn_sbx(c)->prr_on = false;
        c->cwnd = c->ssthresh;
        return;
    }
    if (!c->st->cfg.no_prr && c->sb) {
        return; /* undone (tcp_sack.c undo ends PRR): the restored window stays, as
                   Linux's (its undo marker cleared, no reduction to end) */
    }
    /* RFC 6582 3.2 step 3 (full ACK), option (1). */
    uint32_t flight = (uint32_t)tw_seq_diff(c->snd_max, c->snd_una);
    uint32_t f = (flight > c->snd_mss ? flight : c->snd_mss) + c->snd_mss;
    c->cwnd = f < c->ssthresh ? f : c->ssthresh;
}

/* A partial ACK in a fast recovery under PRR: with SACK news RACK's marks first (RFC
   8985 6.2; sack_on_new_ack's step, taken here so that PRR sees the pipe they leave),
   without SACK the next hole resent (RFC 6582 3.2 step 4), then PRR's count for what
   may go next (RFC 6937 3.1). */
static __attribute__((noinline, cold)) void recovery_partial_ack(tw_socket *c, uint32_t acked,
                                                                 uint32_t sacked)
{
    if (c->flags & TW_F_SACK) {
        if (sacked) {
            rack_on_sack(c);
        }
        if (c->ca_state != TW_CA_RECOVERY) {
            return;
        }
    } else {
        uint32_t n = tw_out_resend(c, c->snd_una, c->snd_mss);
        if (n) {
            c->total_retrans++;
        }
    }
    prr_ack(c, acked, false, false);
}

static inline __attribute__((always_inline)) void on_new_ack(tw_socket *c, uint32_t acked,
                                                             uint32_t prior_flight,
                                                             uint32_t sacked,
                                                             const tw_tcp_opts *o)
{
    tw_stack *st = c->st;
    /* Grow cwnd only when it was really used (RFC 7661's point: an application-limited
       sender learns nothing about the path): while the flight was more than half of it,
       as Linux's tcp_is_cwnd_limited lets slow start grow cwnd to twice what was in
       flight and no further (cwnd < 2 * max_packets_out). */
    bool grow = prior_flight * 2u > c->cwnd;
    if (c->ca_state == TW_CA_RECOVERY) {
        if (tw_seq_ge(c->snd_una, c->recover)) {
            recovery_full_ack(c);
            c->ca_state = TW_CA_OPEN;
            c->dupacks = 0;
            if (c->sb) {
                rack_recovery_end(c);
            }
            return;
        }
        tw_count(st, TW_CNT_TCP_PARTIAL_ACK);
        if (tw_seq_lt(c->high_rxt, c->snd_una)) {
            c->high_rxt = c->snd_una;
        }
        if (c->sb && tw_conn_sbx(c)->prr_on) {
            recovery_partial_ack(c, acked, sacked);
            return;
        }
        if (!(c->flags & TW_F_SACK)) {
            /* RFC 6582 3.2 step 4: resend the next hole, deflate by what was acked. */
            uint32_t n = tw_out_resend(c, c->snd_una, c->snd_mss);
            if (n) {
                c->total_retrans++;
            }
            c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
            if (acked >= c->snd_mss) {
                c->cwnd += c->snd_mss;
            }
            if (c->cwnd < c->snd_mss) {
                c->cwnd = c->snd_mss;
            }
        }
        return;
    }
    if (c->ca_state == TW_CA_LOSS && tw_seq_ge(c->snd_una, c->recover)) {
        c->ca_state = TW_CA_OPEN;
        loss_recovery_end(c);
    } else if (c->ca_state == TW_CA_DISORDER) {
        if (__builtin_expect(c->flags & TW_F_EXTRAS, 0) && tw_ecn_cwr_on(c)) {
            ecn_cwr_ack(c, acked, sacked); /* (ECN's reduction: no growth) */
            return;
        }
        if (!c->sb || !tlp_ack_wait(c)) {
            c->ca_state = TW_CA_OPEN;
        }
    }
    c->dupacks = 0;
    if (grow) {
        tw_conn_cc(c)->on_ack(c, acked, o);
    }
}

static inline __attribute__((always_inline)) in_result ack_accept(tw_socket *c, const tw_seg *s);
static __attribute__((noinline, cold)) in_result ack_accept_ecn(tw_socket *c, const tw_seg *s);
static inline __attribute__((always_inline)) void note_ts_recent(tw_socket *c, const tw_seg *s,
                                                               tw_seq seq);

/* RFC 9293 3.10.7.4 fifth, SYN-RECEIVED STATE, for an ACK in SND.UNA < SEG.ACK =<
   SND.NXT: "enter ESTABLISHED state and continue processing" with the send window from
   this segment (the SYN's was unscaled). syn_rcvd_acked's steps once the listener `l`
   of a passive child has queued it for accept (NULL for an active open's); `child`
   true when the caller knows c is a passive child, l not NULL (third_ack: two tests
   less, measured lifecycle -2 instr). */
static inline __attribute__((always_inline)) void syn_rcvd_queued_in(tw_stack *st, tw_socket *c,
                                                                     const tw_seg *s,
                                                                     const tw_tcp_hdr *h,
                                                                     tw_socket *l, bool child,
                                                                     bool may_trace, bool quick)
{
    assert(c->st == st); /* (given apart: see fast_do) */
    c->snd_wnd = (uint32_t)h->win << c->snd_wscale;
    c->max_snd_wnd = c->snd_wnd;
    /* SND.WL1 = SEG.SEQ, SND.WL2 = SEG.ACK: side by side in both, one 8-byte copy */
    _Static_assert(offsetof(tw_socket, snd_wl1) == offsetof(tw_socket, snd_wl2) + 4 &&
                       offsetof(tw_seg, seq) == offsetof(tw_seg, ack) + 4,
                   "wl2/wl1, ack/seq");
    memcpy(&c->snd_wl2, &s->ack, 8);
    /* (an unaccepted child has no FIN queued: nobody could shut it) */
    assert(!child || (l && !(c->flags & TW_F_FIN_QUEUED)));
    /* (`quick`: the caller knows c has no keepalive, nor an extras block, and that its
       SYN+ACK was sent once, so that syn_rto_fallback has nothing to do: third_ack for
       req_promote_in's quick copies, promote_quick_ok) */
    assert(!quick || !c->total_retrans);
    /* (SND.UNA as it was, ISS: a quick copy's has it moved already, PROMOTE_UNA_SET) */
    assert(!child || tw_seq_eq(c->snd_una, c->iss) ||
           (quick && tw_seq_eq(c->snd_una, tw_seq_add(c->iss, 1))));
    established_from_syn_ka(st, c, !child, may_trace, child, quick ? c->iss : c->snd_una,
                            !quick, !quick);
    if (child) {
        /* (third_ack tells l at its end, once the segment's text is in place: nothing of
           its own is then kept across the application's call) */
    } else if (l) {
        /* (c is l's unaccepted child, whose notification tw_conn_notify passes over; a
           listener is neither a child nor an orphan: tw_conn_notify's test is the hook's) */
        assert(!(l->flags & (TW_F_ORPHAN | TW_F_CHILD)));
        if (st->cfg.notify) { /* (l->st: one stack) */
            /* (l has just queued c, tw_listener_enqueue_to: tw_conn_notify_acceptable's
               call in line, the stack at hand) */
            assert(l->st == st && l->acc_len != 0 && tw_conn_events(l) == TW_EV_ACCEPTABLE);
            st->cfg.notify(l, TW_EV_ACCEPTABLE, st->cfg.notify_ud);
        }
    } else {
        tw_conn_notify(c);
    }
}

static inline __attribute__((always_inline)) void syn_rcvd_queued(tw_socket *c,
                                                                  const tw_seg *s,
                                                                  tw_socket *l)
{
    syn_rcvd_queued_in(c->st, c, s, s->h, l, false, true, false);
}

/* Accept queue full: like Linux, ignore the ACK; our SYN+ACK retransmission will bring
   it back once there is room. */
static in_result syn_rcvd_full(tw_socket *c, const tw_seg *s)
{
    tw_drop(c->st, TW_CNT_TCP_RX_LISTEN_OVERFLOW, &s->sum, c);
    return IN_DONE;
}

/* syn_rcvd_acked for a child opened by Fast Open, out of line. A SYN+ACK timeout with
   data sent after it (fastopen.c tw_tfo_syn_timeout) left the Loss state, one segment's
   window and SND.NXT at ISS + 1: kept, so that the data goes again from the first byte
   in slow start (RFC 5681 3.1) rather than in a fresh initial window. */
static __attribute__((noinline, cold)) in_result tfo_syn_rcvd_acked(tw_socket *c,
                                                                    const tw_seg *s)
{
    bool loss = c->ca_state == TW_CA_LOSS;
    uint32_t cwnd = c->cwnd, ssthresh = c->ssthresh;
    tw_seq recover = c->recover;
    syn_rcvd_queued(c, s, NULL);
    if (loss) {
        c->ca_state = TW_CA_LOSS;
        c->cwnd = cwnd;
        c->ssthresh = ssthresh;
        c->recover = recover;
    }
    return IN_CONTINUE;
}

/* The fifth check's SYN-RECEIVED step for in_process_ack (third_ack, which knows c's
   listener, takes its steps itself: tw_listener_enqueue_to, syn_rcvd_queued). */
static inline __attribute__((always_inline)) in_result syn_rcvd_acked(tw_socket *c,
                                                                      const tw_seg *s)
{
    tw_socket *l = NULL; /* a passive child's listener (TW_F_CHILD) */
    if ((c->flags & TW_F_PASSIVE) && (c->flags & TW_F_EXTRAS) && tw_tfo_child_acked(c)) {
        /* opened by Fast Open: in the accept queue (or accepted) since its SYN */
        return tfo_syn_rcvd_acked(c, s);
    } else if ((c->flags & TW_F_PASSIVE) && !(l = tw_listener_enqueue(c))) {
        return syn_rcvd_full(c, s);
    }
    syn_rcvd_queued(c, s, l);
    return IN_CONTINUE;
}

/* CLOSE in SYN-RECEIVED (RFC 9293 3.10.4): "If no SENDs have been issued and there is
   no pending data to send, then form a FIN segment and send it, and enter FIN-WAIT-1
   state"; Linux's tcp_close_state takes SYN_RECV to FIN_WAIT1 and sends the FIN at once.
   Our SYN is not acknowledged yet (TW_F_SYN_UNACKED): a timeout sends the SYN+ACK again
   (tcp_timer.c), the peer's repeated SYN is answered with it (in_synchronized), and the
   ACK that covers it takes the SYN-RECEIVED steps that ESTABLISHED would have taken
   (syn_acked_late). Only an active open's connection gets here (a passive child in
   SYN-RECEIVED is no application's to close). */
void tw_conn_fin_syn_rcvd(tw_socket *c)
{
    tw_stack *st = c->st;
    assert(c->state == TW_STATE_SYN_RCVD && (c->flags & TW_F_FIN_QUEUED) && c->snd.len == 0 &&
           !(c->flags & (TW_F_CHILD | TW_F_SYN_UNACKED)));
    c->flags |= TW_F_SYN_UNACKED;
    tw_cc_init(st, c, false); /* (the FIN is sent under ESTABLISHED's rules) */
    tw_conn_set_state(c, TW_STATE_FIN_WAIT_1);
    tw_out_push(c);
}

/* The ACK of our SYN (and maybe of our FIN) in FIN-WAIT-1 entered from SYN-RECEIVED
   (tw_conn_fin_syn_rcvd): SYN-RECEIVED's fifth-check steps (RFC 9293 3.10.7.4) but the
   state change, which the close made: the send window from this segment (the SYN's was
   unscaled), and the connection counts as established (its application, after a
   shutdown, sees it connected). The rest is ack_accept's. */
static __attribute__((noinline, cold)) void syn_acked_late(tw_socket *c, const tw_seg *s)
{
    tw_stack *st = c->st;
    c->flags &= ~TW_F_SYN_UNACKED;
    c->snd_wnd = (uint32_t)s->h->win << c->snd_wscale;
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = s->seq;
    c->snd_wl2 = s->ack;
    if (!(c->flags & TW_F_CONNECTED)) {
        c->flags |= TW_F_CONNECTED;
        tw_count(st, TW_CNT_TCP_ESTABLISHED);
    }
    /* RFC 6298 5.7, as syn_rto_fallback: no handshake sample, no backed-off RTO */
    if (c->total_retrans && c->srtt == 0) {
        c->rto = TW_SEC(3) < st->cfg.rto_max ? TW_SEC(3) : st->cfg.rto_max;
    }
}

static in_result in_process_ack(tw_socket *c, const tw_seg *s, tw_seq orig_seq)
{
    tw_stack *st = c->st;
    if (!(s->flags & TW_ACK)) {
        tw_drop(st, TW_CNT_TCP_RX_NO_ACK_FLAG, &s->sum, c);
        return IN_DONE;
    }
    if (c->state == TW_STATE_SYN_RCVD) {
        if (!(tw_seq_lt(c->snd_una, s->ack) && tw_seq_le(s->ack, c->snd_max))) {
            /* S3: the third segment must acknowledge exactly our SYN. */
            tw_drop(st, TW_CNT_TCP_RX_BAD_ACK, &s->sum, c);
            tw_out_bare(st, c->raddr, c->lport, c->rport, s->ack.v, 0, TW_RST, 0, NULL);
            return IN_DONE;
        }
        if (syn_rcvd_acked(c, s)) {
            return IN_DONE;
        }
    } else if ((c->flags & TW_F_SYN_UNACKED) && tw_seq_gt(s->ack, c->iss) &&
               tw_seq_le(s->ack, c->snd_max)) {
        syn_acked_late(c, s);
    }
    /* RFC 5961 5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT]; others
       are dropped, data and all, and answered with a challenge ACK: as Linux's tcp_ack
       (tcp_send_challenge_ack), limited per connection even when the segment carries
       data (a blind injector's data gets one ACK per 500 ms, not one each). */
    if (tw_seq_gt(s->ack, c->snd_max)) {
        tw_drop(st, TW_CNT_TCP_RX_ACK_UNSENT, &s->sum, c);
        tw_out_challenge_ack(c);
        return IN_DONE;
    }
    /* MAX.SND.WND, but never reaching below our ISS: an ACK of what we never sent is as
       forged as one too old (Linux: min(max_window, bytes_acked), bytes_acked counting
       the SYN and the FIN as SND.UNA - ISS does). */
    uint32_t back = c->snd_una.v - c->iss.v;
    back = back < c->max_snd_wnd ? back : c->max_snd_wnd;
    tw_seq oldest = tw_seq_make(c->snd_una.v - back);
    if (tw_seq_lt(s->ack, oldest)) {
        tw_drop(st, TW_CNT_TCP_RX_OLD_ACK, &s->sum, c);
        tw_out_challenge_ack(c);
        return IN_DONE;
    }
    /* RFC 7323 4.3 with RFC 9293 3.10.7.4 fifth: TS.Recent only from a segment whose ACK
       is acceptable. One dropped above (or by the RST, SYN and ACK-flag checks) leaves
       no trace: a forged or stray segment's TSval would otherwise stay in TS.Recent and
       make PAWS drop the peer's real segments (Linux updates it in tcp_ack, after the
       same checks). Its ACK echoes the TS.Recent of before. */
    note_ts_recent(c, s, orig_seq);
    /* ECE or CWR set: ECN's steps around the same (ack_accept_ecn; a CE mark: tw_tcp_input). */
    if (__builtin_expect(s->flags & (TW_ECE | TW_CWR), 0)) {
        return ack_accept_ecn(c, s);
    }
    return ack_accept(c, s);
}

/* ack_accept for a segment with ECE or CWR set, out of
   line: on an ECN connection the receiver's side first (RFC 3168 6.1.3: CWR ends the
   echo, CE starts it), then the ACK, then the sender's reduction for an ECE (6.1.2),
   which needs the window the ACK left. Ignored without ECN (6.1.1: the flags mean
   nothing then; a SYN's ECE and CWR belong to the handshake). */
static __attribute__((noinline, cold)) in_result ack_accept_ecn(tw_socket *c, const tw_seg *s)
{
    if (!tw_ecn_ok(c) || (s->flags & TW_SYN)) {
        return ack_accept(c, s);
    }
    if (!c->st->rx_ce) {
        tw_ecn_rx(c, s->flags, false); /* (a CE-marked one's: in_ce, before the steps) */
    }
    /* (ECE of an old ACK is not taken: Linux's tcp_ack returns before it) */
    bool ece = (s->flags & TW_ECE) && tw_seq_ge(s->ack, c->snd_una);
    uint32_t prior_flight = (uint32_t)tw_seq_diff(c->snd_max, c->snd_una);
    tw_seq una = c->snd_una;
    uint32_t cwnd = c->cwnd;
    if (ack_accept(c, s) == IN_DONE) {
        return IN_DONE;
    }
    if (ece && tw_ecn_ece(c, prior_flight)) {
        /* (the ECE's ACK grows no window, as Linux's tcp_cong_control in its CWR state:
           the reduction starts from the window it found) */
        c->cwnd = cwnd < c->cwnd ? cwnd : c->cwnd;
        uint32_t acked = tw_seq_gt(c->snd_una, una) ? (uint32_t)tw_seq_diff(c->snd_una, una) : 0;
        ecn_cwr_enter(c, acked, prior_flight);
    }
    return IN_CONTINUE;
}

/* The fifth check's steps for an acceptable ACK (RFC 9293 3.10.7.4): the send window,
   what it acknowledges, and the closing states' transitions. Shared by in_process_ack
   and the closing ACK's short path (closing_ack_shape). */
static inline __attribute__((always_inline)) in_result ack_accept(tw_socket *c, const tw_seg *s)
{
    tw_stack *st = c->st;
    c->probes_out = 0; /* the peer is alive: unanswered-probe count starts over */
    uint32_t wnd = (uint32_t)s->h->win << c->snd_wscale;
    bool same_wnd = wnd == c->snd_wnd;
    if (tw_seq_ge(s->ack, c->snd_una) &&
        (tw_seq_lt(c->snd_wl1, s->seq) ||
         (tw_seq_eq(c->snd_wl1, s->seq) && tw_seq_le(c->snd_wl2, s->ack)))) {
        /* RFC 9293 3.10.7.4 fifth: update the send window only from newer segments. */
        c->snd_wnd = wnd;
        if (c->snd_wnd > c->max_snd_wnd) {
            c->max_snd_wnd = c->snd_wnd;
        }
        c->snd_wl1 = s->seq;
        c->snd_wl2 = s->ack;
    }
    uint32_t newly_sacked =
        (s->h->o.present & TW_OPT_SACK) ? tw_sack_on_ack(c, &s->h->o, s->ack) : 0;
    if (tw_seq_gt(s->ack, c->snd_una)) {
        uint32_t prior_flight = (uint32_t)tw_seq_diff(c->snd_max, c->snd_una);
        uint32_t acked = (uint32_t)tw_seq_diff(s->ack, c->snd_una);
        ack_advance(c->st, c, s, s->h, false);
        on_new_ack(c, acked, prior_flight, newly_sacked, &s->h->o);
        if (__builtin_expect(newly_sacked != 0, 0)) {
            sack_on_new_ack(c, acked, newly_sacked);
        }
        tw_conn_notify(c);
    } else if (tw_seq_lt(s->ack, c->snd_una)) {
        tw_count(st, TW_CNT_TCP_RX_OLD_ACK); /* old duplicate: ignored, text still used */
    } else if (!tw_seq_eq(c->snd_una, c->snd_max)) {
        /* RFC 5681 2 (duplicate ACK): nothing new acknowledged, no data, no SYN/FIN,
           same window, data outstanding. With SACK in use, RFC 6675 2 replaces that
           definition: a duplicate ACK is one that SACKs data not yet SACKed (between
           HighACK and HighData), so an ACK without new SACK information -- a window
           probe's answer, a repeated ACK, one whose blocks lie outside what was sent --
           is not counted (Linux: a SACK connection counts SACKed segments, never bare
           duplicate ACKs). */
        bool dup = (c->flags & TW_F_SACK)
                       ? newly_sacked != 0
                       : s->data_len == 0 && !(s->flags & (TW_SYN | TW_FIN)) && same_wnd;
        if (dup || newly_sacked) {
            on_dupack(c, dup, 0, newly_sacked);
        }
    }
    bool fin_acked = tw_conn_fin_sent(c) && tw_conn_fin_acked(c, c->snd_una);
    switch (c->state) {
    case TW_STATE_FIN_WAIT_1:
        if (fin_acked) {
            tw_conn_set_state(c, TW_STATE_FIN_WAIT_2); /* S11 */
            if (c->flags & TW_F_ORPHAN) {
                c->misc_at = tw_time_add(st->now, st->cfg.fin_timeout); /* R7 */
                timer_changed(c);
            }
        }
        break;
    case TW_STATE_CLOSING:
        if (fin_acked) {
            enter_time_wait(c); /* R2 */
            return IN_DONE;
        }
        break;
    case TW_STATE_LAST_ACK:
        if (fin_acked) {
            tw_conn_done(c, 0); /* S14: the passive closer is CLOSED first */
            return IN_DONE;
        }
        break;
    default:
        break;
    }
    return IN_CONTINUE;
}

/* tw_ranges_pull on the out-of-order record, TW_F_HOLES kept equal to c->ooo->n != 0
   (the only ways its ranges change are this, in_process_text's tw_ranges_add and
   ooo_past_fin). */
static tw_seq ooo_pull(tw_socket *c, tw_seq upto)
{
    tw_seq next = tw_ranges_pull(c->ooo, upto);
    /* One segment may cover several held ranges (a repacketized retransmission: 1:6001
       over 1001:3001 and 4001:5001): every range it reaches goes, each one's end taken
       if beyond, or one left below RCV.NXT would be reported in SACK blocks and the
       bytes held past it not delivered. */
    while (c->ooo->n && !tw_seq_gt(tw_ranges_get(c->ooo)[0].start, next)) {
        next = tw_ranges_pull(c->ooo, next);
    }
    if (!c->ooo->n) {
        c->flags &= ~TW_F_HOLES;
    }
    return next;
}

/* `data` is NULL when the bytes are in the ring already (input_unsummed). `holes` is
   c->flags & TW_F_HOLES, which every caller has asked already. */
static inline __attribute__((always_inline)) void deliver_in_order(tw_stack *st, tw_socket *c,
                                                                   const uint8_t *data, uint32_t n,
                                                                   bool holes)
{
    assert(holes == (c->ooo && c->ooo->n) && c->st == st);
    if (data) {
        tw_ring_write_at(&c->rcv, 0, data, n);
    }
    tw_ring_commit(&c->rcv, n);
    c->rcv_nxt = tw_seq_add(c->rcv_nxt, n);
    if (holes) {
        tw_seq next = ooo_pull(c, c->rcv_nxt);
        uint32_t more = (uint32_t)tw_seq_diff(next, c->rcv_nxt);
        tw_ring_commit(&c->rcv, more);
        c->rcv_nxt = next;
        n += more;
    }
    c->bytes_received += n;
    st->counters[TW_CNT_TCP_RX_BYTES_DELIVERED] += n;
}

/* RFC 5681 4.2 / RFC 1122 4.2.3.2: ACK at least every second full-sized segment and
   within the delayed-ACK time; like Linux, the first segments of a connection are ACKed
   at once (quick-ACK mode) so slow start is not slowed by the receiver. */
static inline __attribute__((always_inline)) void ack_policy_as(tw_stack *st, tw_socket *c,
                                                                uint32_t n, bool unheld)
{
    assert(c->st == st);
    /* (a connection's first segments: the usual case first) */
#if TW_ASM_X86
    /* The count taken down in memory first, its borrow telling that it was 0 already,
       when it is put back: one subb and its jump for a first segment, where the count
       was loaded, tested and stored (measured: lifecycle -3 instr); a count at 0 pays
       as before, the subb, the jump and the store against the load, test and jump. */
    bool none;
    __asm__("subb $1, %[q]" : [q] "+m"(c->quickack), "=@ccc"(none));
    if (__builtin_expect(!none, 1)) {
        ack_soon_mem(st, c);
        return;
    }
    c->quickack = 0;
#else
    if (__builtin_expect(c->quickack != 0, 1)) {
        c->quickack--;
        ack_soon_mem(st, c);
        return;
    }
#endif
    if (st->cfg.no_delayed_ack) {
        ack_soon(st, c);
        return;
    }
    c->delack_bytes += n;
    uint32_t full = c->rcv_mss ? c->rcv_mss : 536u;
    if (c->delack_bytes >= 2u * full) {
        c->flags |= TW_F_ACK_NOW;
    } else if (c->dack_at == TW_TIME_NEVER) {
        tw_conn_dack_start_as(st, c, tw_time_add(st->now, st->cfg.delayed_ack), unheld);
    }
}

/* ack_policy_as for a caller that may hold c's timer (`unheld` true: fast_do's, whose
   header prediction runs outside any segment's hold; tw_conn_dack_start_as). */
static inline __attribute__((always_inline)) void ack_policy(tw_stack *st, tw_socket *c, uint32_t n)
{
    ack_policy_as(st, c, n, false);
}

/* The segment's text cannot be kept (no memory for it, or no room to note an out-of-order
   range): it is dropped and counted, not acknowledged, and the peer sends it again. Its
   ACK has been taken by then (RFC 9293 3.10.7.4 fifth comes before the seventh), so what
   that ACK allows is sent and the timers set, as after any segment: otherwise a sender
   whose flight the ACK emptied, with data still queued, would wait for ever with no timer
   running (found by fuzz_input). Out of line: rare. */
static __attribute__((noinline)) in_result drop_text(tw_socket *c, const tw_seg *s,
                                                      enum tw_counter why)
{
    tw_drop(c->st, why, &s->sum, c);
    tw_out_push(c);
    return IN_DONE;
}

/* RFC 2883 4 (its example 5, "duplicate of out-of-order data"): text above RCV.NXT that
   we already hold is reported in a D-SACK block too, first, before the SACK block that
   holds it (Linux: tcp_data_queue_ofo's tcp_dsack_set for a whole or partial overlap).
   The first island it overlaps gives the block. Out of line: out-of-order text only. */
static __attribute__((noinline, cold)) void ooo_dsack(tw_socket *c, tw_seq start, tw_seq end)
{
    for (unsigned i = 0; i < c->ooo->n; i++) {
        const tw_range *r = &tw_ranges_get(c->ooo)[i];
        if (tw_seq_lt(start, r->end) && tw_seq_gt(end, r->start)) {
            tw_count(c->st, TW_CNT_TCP_RX_DSACK);
            c->flags |= TW_F_DSACK;
            c->dsack_start = tw_seq_gt(start, r->start) ? start : r->start;
            c->dsack_end = tw_seq_lt(end, r->end) ? end : r->end;
            return;
        }
    }
}

/* in_process_text's steps once the text is to be taken: in order, delivered; beyond
   RCV.NXT, held. In line there; in_text_taken is its out-of-line copy for a read side
   shut that keeps receiving (shut_rd_text). */
static inline __attribute__((always_inline)) in_result text_take(tw_stack *st, tw_socket *c,
                                                                 const tw_seg *s)
{
    uint32_t off = (uint32_t)tw_seq_diff(s->seq, c->rcv_nxt);
    if (!tw_conn_rcv_reserve(c, c->rcv.len + off + s->data_len)) {
        return drop_text(c, s, TW_CNT_RX_NOMEM);
    }
    if (off == 0) {
        bool had_holes = (c->flags & TW_F_HOLES) != 0;
        if (__builtin_expect(had_holes, 0) && (c->flags & TW_F_SACK)) {
            /* RFC 2883 4.2: in-order data that also covers bytes held out of order
               reports them as duplicates, the first such range (Linux's tcp_ofo_queue,
               tcp_dsack_extend). */
            ooo_dsack(c, s->seq, tw_seq_add(s->seq, s->data_len));
        }
        deliver_in_order(st, c, s->data, s->data_len, had_holes);
        if (had_holes) {
            c->flags |= TW_F_ACK_NOW; /* RFC 5681 4.2: ACK at once when a hole fills */
        } else {
            ack_policy(st, c, s->data_len);
        }
        tw_conn_notify(c);
        return IN_CONTINUE;
    }
    c->flags |= TW_F_ACK_NOW; /* RFC 5681 4.2: an out-of-order segment is ACKed at once */
    /* Out of order: keep the bytes where they belong in the ring and remember the range
       (RFC 9293 3.10.7.4 seventh: segments beyond RCV.NXT may be held). */
    if (!c->ooo) {
        tw_ooo *no = tw_mem_zalloc(&st->mem, sizeof(*no));
        if (!no) {
            return drop_text(c, s, TW_CNT_RX_NOMEM);
        }
        c->ooo = &no->r;
        c->flags |= TW_F_EXTRAS;
    }
    tw_ooo *o = tw_conn_ooo(c);
    memmove(&o->sack_recent[1], &o->sack_recent[0],
            sizeof(o->sack_recent) - sizeof(o->sack_recent[0]));
    o->sack_recent[0] = s->seq;
    if (o->sack_nrecent < TW_SACK_RECENT) {
        o->sack_nrecent++;
    }
    if ((c->flags & (TW_F_SACK | TW_F_HOLES)) == (TW_F_SACK | TW_F_HOLES)) {
        ooo_dsack(c, s->seq, tw_seq_add(s->seq, s->data_len));
    }
    tw_seq end = tw_seq_add(s->seq, s->data_len);
    if (!tw_ranges_add_grow(c->ooo, &st->mem, s->seq, end)) {
        return drop_text(c, s, TW_CNT_TCP_RX_OOO_DROP); /* (TW_RANGES_EXT_MAX, or memory) */
    }
    c->flags |= TW_F_HOLES;
    tw_ring_write_at(&c->rcv, off, s->data, s->data_len);
    tw_count(st, TW_CNT_TCP_RX_OOO);
    return IN_CONTINUE;
}

static __attribute__((noinline, cold)) in_result in_text_taken(tw_stack *st, tw_socket *c,
                                                         const tw_seg *s)
{
    return text_take(st, c, s);
}


/* Text for a connection whose application shut its read side (shutdown SHUT_RD, not
   closed: in_process_text took an orphan's before). In FIN-WAIT-1 or FIN-WAIT-2 new
   data resets, as Linux's tcp_rcv_state_process (RCV_SHUTDOWN there: "RFC 1122 says we
   MUST send a reset", 4.2.2.13, nobody will read it): <SEQ=SEG.ACK><CTL=RST>, the
   application told ECONNRESET. Otherwise, with tw_conn_rd_keep, the text is received
   as ever (Linux's SHUT_RD: the data stays readable, checked against Linux 6.18 over
   TUN, conf/shut_rd_data_readable.pkt); IN_CONTINUE then means taken, else that
   in_process_text discards it (TW_F_SHUT_RD alone). Cold: a read side shut only. */
static __attribute__((noinline, cold)) in_result shut_rd_text(tw_stack *st, tw_socket *c,
                                                              const tw_seg *s)
{
    if ((c->state == TW_STATE_FIN_WAIT_1 || c->state == TW_STATE_FIN_WAIT_2) &&
        tw_seq_gt(tw_seq_add(s->seq, s->data_len), c->rcv_nxt)) {
        tw_drop(st, TW_CNT_TCP_RX_DATA_AFTER_CLOSE, &s->sum, c);
        assert(s->flags & TW_ACK);
        tw_out_bare(st, c->raddr, c->lport, c->rport, s->ack.v, 0, TW_RST, 0, NULL);
        tw_count(st, TW_CNT_TCP_CONN_ABORTED);
        tw_conn_done(c, TW_ERR_RESET);
        return IN_DONE;
    }
    if (tw_conn_rd_keep(c)) {
        return in_text_taken(st, c, s);
    }
    return IN_CONTINUE;
}

/* Inline in in_synchronized, its one caller (third_ack takes its in-order case's steps
   itself). */
static inline __attribute__((always_inline)) in_result in_process_text(tw_socket *c,
                                                                      const tw_seg *s)
{
    tw_stack *st = c->st;
    if (s->data_len == 0) {
        return IN_CONTINUE;
    }
    if (!synced_rcv_state(c)) {
        /* CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: the peer's FIN came before; RFC 9293
           3.10.7.4 seventh: "ignore the segment text" (Linux sends nothing either). */
        tw_drop(st, TW_CNT_TCP_RX_DATA_AFTER_FIN, &s->sum, c);
        return IN_CONTINUE;
    }
    if (c->flags & TW_F_ORPHAN) {
        /* Nobody will ever read this: tell the peer at once (RFC 1122 4.2.2.13: new data
           after CLOSE SHOULD get a RST) rather than ACK data that is thrown away. Linux
           answers with its reply to the segment (tcp_rcv_state_process returns 1 and
           tcp_v4_send_reset follows): <SEQ=SEG.ACK><CTL=RST>, no ACK, no options, so a
           peer that has not yet seen our FIN (SEG.ACK = its RCV.NXT) accepts it exactly
           (RFC 5961 3.2) rather than answer a challenge ACK. */
        tw_drop(st, TW_CNT_TCP_RX_DATA_AFTER_CLOSE, &s->sum, c);
        /* (The connection's 4-tuple, not the header's: header prediction's segment
           carries no ports in s->h. A segment here has ACK: in_synchronized's check.) */
        assert(s->flags & TW_ACK);
        tw_out_bare(st, c->raddr, c->lport, c->rport, s->ack.v, 0, TW_RST, 0, NULL);
        tw_count(st, TW_CNT_TCP_CONN_ABORTED);
        tw_conn_done(c, TW_ERR_ABORTED);
        return IN_DONE;
    }
    if (s->data_len > c->rcv_mss) {
        c->rcv_mss = (uint16_t)(s->data_len < tw_conn_local_mss(c) ? s->data_len
                                                                  : tw_conn_local_mss(c));
    }
    if (c->flags & TW_F_SHUT_RD) {
        in_result r = shut_rd_text(st, c, s);
        if (r != IN_CONTINUE || tw_conn_rd_keep(c)) {
            return r; /* (reset, or received as before: shut_rd_text) */
        }
        c->flags |= TW_F_ACK_NOW;
        if (tw_seq_eq(s->seq, c->rcv_nxt)) {
            c->rcv_nxt = tw_seq_add(c->rcv_nxt, s->data_len); /* read side shut: discard */
            if (c->flags & TW_F_HOLES) {
                /* RFC 2018 8: what was reported with SACK before the read side was shut
                   stays received; RCV.NXT moves past it like past data that is read, so
                   no SACK block is left behind the ACK and nothing is sent twice. */
                c->rcv_nxt = ooo_pull(c, c->rcv_nxt);
            }
        }
        return IN_CONTINUE;
    }
    return text_take(st, c, s);
}

/* Inline (a few instructions but for the TIME-WAIT case): every connection takes one
   FIN, on header prediction's path or the closing ACK's. `state` is c's, a constant
   where the caller knows it (only its case is then compiled there). `predicted`: header
   prediction's FIN (fast_do: ESTABLISHED, and fast_ok let no orphan, no shutdown and no
   FIN queued by), whose events in CLOSE-WAIT are then known but for the send ring's
   room. */
static inline __attribute__((always_inline)) in_result fin_in_order_in(tw_stack *st,
                                                                       tw_socket *c,
                                                                       tw_state state,
                                                                       bool ooo_fin,
                                                                       bool may_trace,
                                                                       bool predicted)
{
    assert(state == (tw_state)c->state && c->st == st);
    /* (`ooo_fin` false: the caller knows no out-of-order FIN is noted, nothing to clear) */
    assert(ooo_fin || !(c->flags & TW_F_OOO_FIN));
    c->rcv_nxt = tw_seq_add(c->rcv_nxt, 1); /* S10: the FIN consumes a sequence number */
#if TW_ASM_X86
    if (predicted && !ooo_fin) {
        /* The steps below, the flags' changes in memory: the rare one (ack_soon's second
           segment in a turn) apart, then the peer's FIN and ack_soon's mark in one
           step, and the notify's test below reads them from memory too: GCC otherwise
           kept the flags loaded and two copies of them (measured: lifecycle
           4,473.8 -> 4,470.8) */
        uint32_t seg = (uint32_t)st->counters[TW_CNT_TCP_RX_SEGMENTS];
        if ((c->flags & TW_F_ACK_LAZY) && c->lazy_seg != seg) {
            c->flags |= TW_F_ACK_NOW;
        }
        __asm__("orl %[set], %[f]"
                : [f] "+m"(c->flags)
                : [set] "i"((int32_t)(TW_F_PEER_FIN | TW_F_ACK_LAZY))
                : "cc");
        c->lazy_seg = seg; /* (S11: a close() in this turn sends FIN+ACK, S13) */
    } else
#endif
    {
        c->flags |= TW_F_PEER_FIN;
        if (ooo_fin) {
            c->flags &= ~TW_F_OOO_FIN;
        }
        ack_soon(st, c); /* S11: a close() in this turn sends FIN+ACK, S13 */
    }
    switch (state) {
    case TW_STATE_SYN_RCVD:
    case TW_STATE_ESTABLISHED:
        set_state_mt(c, TW_STATE_CLOSE_WAIT, may_trace); /* S11 */
        break;
    case TW_STATE_FIN_WAIT_1:
        set_state_mt(c, TW_STATE_CLOSING, may_trace); /* R2: our FIN is not acknowledged yet */
        break;
    case TW_STATE_FIN_WAIT_2:
        tw_out_ack(c); /* S14: the last ACK, before the record shrinks */
        time_wait_steps(c);
        return IN_DONE;
    default:
        break;
    }
    if (predicted) {
        /* (tw_conn_notify_in: tw_conn_events_nonlistener's CLOSE-WAIT case) */
        assert(state == TW_STATE_ESTABLISHED && c->state == TW_STATE_CLOSE_WAIT &&
               !(c->flags & (TW_F_ORPHAN | TW_F_SHUT_RD | TW_F_FIN_QUEUED)));
        if (!(c->flags & TW_F_CHILD) && st->cfg.notify) {
            unsigned ev = TW_EV_CONNECTED | TW_EV_PEER_CLOSED | TW_EV_READABLE |
                          (c->snd.len < c->sndbuf_cap ? TW_EV_WRITABLE : 0u);
            assert(ev == tw_conn_events(c));
            st->cfg.notify(c, ev, st->cfg.notify_ud);
        }
        return IN_CONTINUE;
    }
    tw_conn_notify_in(st, c);
    return IN_CONTINUE;
}

/* The peer's FIN taken with text still held beyond it: nothing lies past the end of
   the peer's stream (RFC 9293 3.10.7.4 eighth: the FIN "implies PUSH for any segment
   text not yet delivered" and ends it), so the islands go and no SACK block reports
   them again, as Linux's tcp_fin empties its out-of-order queue. Cold: a peer that sent
   past its own FIN. */
static __attribute__((noinline, cold)) void ooo_past_fin(tw_socket *c)
{
    c->ooo->n = 0;
    tw_conn_ooo(c)->sack_nrecent = 0;
    c->flags &= ~TW_F_HOLES;
}

static inline __attribute__((always_inline)) in_result fin_in_order(tw_socket *c)
{
    if (__builtin_expect(c->flags & TW_F_HOLES, 0)) {
        ooo_past_fin(c);
    }
    return fin_in_order_in(c->st, c, (tw_state)c->state, true, true, false);
}

/* A FIN beyond a hole on a SACK connection, before in_process_fin notes it: its
   sequence number is reported in the SACK blocks (tcp_sack.c sack_blocks_fin), a FIN
   alone as the most recent arrival (RFC 2018 4), and the same FIN again as a duplicate
   (RFC 2883 4: a D-SACK block for it, unless the segment's text gave one), as Linux's
   out-of-order queue reports it (checked against Linux 6.18 over TUN: a lone early FIN
   at 11 is answered sack 11:12, again sack 11:12 11:12). Cold: early FINs only. */
static __attribute__((noinline, cold)) void ooo_fin_sack(tw_socket *c, const tw_seg *s,
                                                         tw_seq fin_seq)
{
    if ((c->flags & TW_F_OOO_FIN) && tw_seq_eq(c->ooo_fin_seq, fin_seq) &&
        !(c->flags & TW_F_DSACK)) {
        tw_count(c->st, TW_CNT_TCP_RX_DSACK);
        c->flags |= TW_F_DSACK;
        c->dsack_start = fin_seq;
        c->dsack_end = tw_seq_add(fin_seq, 1);
    }
    if (s->data_len == 0 && c->ooo) {
        tw_ooo *o = tw_conn_ooo(c);
        memmove(&o->sack_recent[1], &o->sack_recent[0],
                sizeof(o->sack_recent) - sizeof(o->sack_recent[0]));
        o->sack_recent[0] = fin_seq;
        if (o->sack_nrecent < TW_SACK_RECENT) {
            o->sack_nrecent++;
        }
    }
}

static in_result in_process_fin(tw_socket *c, const tw_seg *s)
{
    if (s->flags & TW_FIN) {
        tw_seq fin_seq = tw_seq_add(s->seq, s->data_len);
        if (c->flags & TW_F_PEER_FIN) {
            c->flags |= TW_F_ACK_NOW; /* a repeated FIN: ACK it again */
            return IN_CONTINUE;
        }
        if (tw_seq_gt(fin_seq, c->rcv_nxt)) {
            /* The FIN lies beyond a hole: remember it for when the hole fills. Like any
               out-of-order segment it is ACKed at once (RFC 5681 4.2, as Linux does), so
               the duplicate ACK tells the peer what is missing (S14). */
            if (c->flags & TW_F_SACK) {
                ooo_fin_sack(c, s, fin_seq);
            }
            c->flags |= TW_F_OOO_FIN | TW_F_ACK_NOW;
            c->ooo_fin_seq = fin_seq;
            return IN_CONTINUE;
        }
        if (tw_seq_lt(fin_seq, c->rcv_nxt)) {
            return IN_CONTINUE;
        }
        return fin_in_order(c);
    }
    if ((c->flags & TW_F_OOO_FIN) && tw_seq_eq(c->ooo_fin_seq, c->rcv_nxt) &&
        synced_rcv_state(c)) {
        return fin_in_order(c);
    }
    return IN_CONTINUE;
}

/* A segment PAWS would refuse that is only a disordered duplicate ACK: no text, SYN or
   FIN, at RCV.NXT, SEG.ACK = SND.UNA, the send window in force and no newer SND.WL1,
   and a TSval behind TS.Recent by no more
   than 1.2 RTOs in milliseconds. Paths that reorder (jitter, several queues) deliver
   the peer's ACKs out of their order; RFC 7323 5.3 guards against old duplicates from
   an earlier wrap, which none of these is: it repeats what the connection knows, but
   its SACK blocks are news the recovery needs. Linux takes it the same way
   (tcp_disordered_ack_check). Cold: only a segment that failed PAWS asks. */
static __attribute__((noinline, cold)) bool paws_disordered_ack(const tw_socket *c,
                                                                const tw_seg *s)
{
    if (!(s->flags & TW_ACK) || (s->flags & (TW_SYN | TW_FIN)) || s->data_len != 0 ||
        !tw_seq_eq(s->seq, c->rcv_nxt) || !tw_seq_eq(s->ack, c->snd_una)) {
        return false;
    }
    /* The window it carries is the one in force (Linux: one that would not update
       it): the fifth check's window step then changes nothing, and an older, smaller
       offer cannot shrink the send window. */
    if (tw_seq_gt(s->seq, c->snd_wl1) || ((uint32_t)s->h->win << c->snd_wscale) != c->snd_wnd) {
        return false;
    }
    uint64_t replay_ms = (uint64_t)(c->rto / TW_MS(1)) * 6u / 5u;
    return (uint32_t)(c->ts_recent - s->h->o.ts_val) <= replay_ms;
}

/* RFC 7323 5.3 (D5): PAWS. A segment whose timestamp is older than TS.Recent is an old
   duplicate from an earlier wrap of the sequence space: ACK and drop it. TS.Recent
   older than 24 days is no longer trusted (5.5). A disordered duplicate ACK passes
   (paws_disordered_ack). */
static in_result in_check_paws(tw_socket *c, const tw_seg *s)
{
    tw_stack *st = c->st;
    const tw_tcp_opts *o = &s->h->o;
    if (!(c->flags & TW_F_TS) || !(o->present & TW_OPT_TS) || (s->flags & TW_RST)) {
        return IN_CONTINUE;
    }
    if ((int32_t)(o->ts_val - c->ts_recent) >= 0 ||
        st->now - c->ts_recent_stamp >= TW_SEC(24u * 24u * 3600u)) {
        return IN_CONTINUE;
    }
    if (paws_disordered_ack(c, s)) {
        return IN_CONTINUE;
    }
    tw_drop(st, TW_CNT_TCP_RX_PAWS_REJECTED, &s->sum, c);
    ack_unacceptable(c, s);
    return IN_DONE;
}

/* TS.Recent from a segment the connection takes (RFC 7323 4.3). */
static inline __attribute__((always_inline)) void note_ts_recent(tw_socket *c, const tw_seg *s,
                                                               tw_seq seq)
{
    tw_stack *st = c->st;
    const tw_tcp_opts *o = &s->h->o;
    /* RFC 7323 5.5: a TS.Recent older than 24 days is invalid, so the segment PAWS let
       through replaces it even with a smaller TSval (Linux tcp_paws_check does the
       same); otherwise PAWS would stay off for the rest of the connection. */
    if ((c->flags & TW_F_TS) && (o->present & TW_OPT_TS) && tw_seq_le(seq, c->last_ack_sent) &&
        ((int32_t)(o->ts_val - c->ts_recent) >= 0 ||
         st->now - c->ts_recent_stamp >= TW_SEC(24u * 24u * 3600u) /* stale */)) {
        c->ts_recent = o->ts_val;
        c->ts_recent_stamp = st->now;
    }
}

/* An acceptable segment arrived: TS.Recent (RFC 7323 4.3) and the idle clock for
   keepalive. */
static inline __attribute__((always_inline)) void note_arrival(tw_socket *c, const tw_seg *s,
                                                             tw_seq seq)
{
    note_ts_recent(c, s, seq);
    c->last_rcv = c->st->now;
    c->ka_sent = 0;
}

/* note_arrival for a segment usual_opts accepted: with timestamps on, it carries one
   PAWS let through (RFC 7323 5.3), so only Last.ACK.sent is left to ask (4.3). */
static inline __attribute__((always_inline)) void note_arrival_usual(tw_stack *st, tw_socket *c,
                                                                    const tw_seg *s,
                                                                    const tw_tcp_hdr *h)
{
    assert(c->st == st);
    /* Without the TS flag's test: a connection without timestamps has had usual_opts
       find no option, so the usual parse's TSval 0 (tcp_hdr.h), and TS.Recent and its
       stamp are read only with TW_F_TS (PAWS, the timestamps we send, TIME-WAIT's
       record): the stores change nothing anyone reads. */
    assert((c->flags & TW_F_TS) || (h->o.present == 0 && h->o.ts_val == 0));
    if (tw_seq_le(s->seq, c->last_ack_sent)) {
        c->ts_recent = h->o.ts_val;
        c->ts_recent_stamp = st->now;
    }
    c->last_rcv = st->now;
    c->ka_sent = 0;
}

/* A closing ACK's last step left to the usual packet's function (tw_stack_input),
   which ends in it, a tail call that also ends tw_stack_input's call: LAST-ACK's free
   (tw_conn_free_orphan_found_leave), or FIN-WAIT-1's TIME-WAIT record with room for it
   (tw_timewait_make_found_ack_leave). Given as `end` to closing_ack_last and the steps
   that lead there; NULL elsewhere (in_conn), where the step is made at once. */
typedef enum { USUAL_END_NONE, USUAL_END_FREE, USUAL_END_TW } usual_end_kind;
typedef struct usual_end {
    tw_socket *c;
    usual_end_kind kind;
} usual_end;

/* SEG.SEQ read back from the segment, for header prediction's and the closing ACKs'
   SEG.SEQ = RCV.NXT test: the usual packet's function has SEG.ACK and SEG.SEQ in one
   register as the parse swapped them (seg_init's `ack_seq`, SEG.SEQ its upper half),
   from which GCC took SEG.SEQ with a copy and a shift before the compare; the load from
   the segment, stored by then (seg_init), is one step for the two (volatile: a load GCC
   may not replace with that register's; measured: lifecycle -4 instr, four segments). */
static inline __attribute__((always_inline)) tw_seq seg_seq_loaded(const tw_seg *s)
{
    return tw_seq_make(*(const volatile uint32_t *)&s->seq.v);
}

/* The segment's FIN bit, tested in the segment (x86-64: testb on memory, asm goto), for
   the steps whose flags a test before took apart and GCC kept loaded, or copied, for it
   (closing_ack_last; header prediction's FIN step after a new ACK's steps, which then
   loads no flags again: measured there lifecycle -3 instr, bulk -1.5 per KiB). */
static inline __attribute__((always_inline)) bool seg_fin(const tw_seg *s)
{
#if TW_ASM_X86
    __asm__ goto("testb %[fin], %[f]\n\tjz %l[nofin]"
                 :
                 : [f] "m"(s->flags), [fin] "i"(TW_FIN)
                 : "cc"
                 : nofin);
    return true;
nofin:
    return false;
#else
    return (s->flags & TW_FIN) != 0;
#endif
}

/* SEG.SEQ = `rcv_nxt`, SEG.SEQ read from the segment as seg_seq_loaded does, as the
   compare's memory operand (x86-64: GCC folds no volatile load into a compare, and
   loaded both into registers; RCV.NXT's register is the one its caller keeps; measured:
   lifecycle -1 instr, FIN-WAIT-1's closing ACK). */
static inline __attribute__((always_inline)) bool seg_seq_at(const tw_seg *s, tw_seq rcv_nxt)
{
#if TW_ASM_X86
    __asm__ goto("cmpl %[rn], %[seq]\n\tjne %l[other]"
                 :
                 : [seq] "m"(s->seq.v), [rn] "r"(rcv_nxt.v)
                 : "cc"
                 : other);
    return true;
other:
    return false;
#else
    return tw_seq_eq(seg_seq_loaded(s), rcv_nxt);
#endif
}

/* The segment carries the options this connection always sends (timestamps or none) and,
   with timestamps, a TSval that PAWS accepts (RFC 7323 5.3): what every short path asks
   before it skips the full option and PAWS steps. */
static inline __attribute__((always_inline)) bool usual_opts(const tw_socket *c,
                                                            const tw_tcp_opts *o)
{
    bool ts = (c->flags & TW_F_TS) != 0;
#if TW_ASM_X86
    /* (each way's compare with the options' byte as its memory operand: GCC loaded the
       byte into a register once for the two; measured: lifecycle -4 instr, one in
       each of header prediction and the closing ACKs, bulk -1.1 per KiB) */
    if (ts) {
        __asm__ goto("cmpb %[want], %[p]\n\tjne %l[other]"
                     :
                     : [p] "m"(o->present), [want] "i"(TW_OPT_TS)
                     : "cc"
                     : other);
        return (int32_t)(o->ts_val - c->ts_recent) >= 0;
    }
    __asm__ goto("cmpb $0, %[p]\n\tjne %l[other]" : : [p] "m"(o->present) : "cc" : other);
    return true;
other:
    return false;
#else
    return o->present == (ts ? TW_OPT_TS : 0) &&
           (!ts || (int32_t)(o->ts_val - c->ts_recent) >= 0);
#endif
}

/* The ACKs that close a connection -- in FIN-WAIT-1 the ACK of our FIN, alone or with
   the peer's FIN (the usual close: FIN-WAIT-1 to TIME-WAIT in one segment), and in
   LAST-ACK the last ACK -- in their common shape: at RCV.NXT, no data, no SYN or RST,
   the options the connection always sends with a TSval PAWS accepts, an ACK in
   (SND.UNA, SND.MAX], no out-of-order FIN waiting, our SYN acknowledged (not so after
   a close in SYN-RECEIVED, TW_F_SYN_UNACKED: tested with the out-of-order FIN's flag,
   in one mask; in the same mask, FIN-WAIT-1's last ACK's rare cases, a D-SACK or
   out-of-order data to report and an extras block, which tcp_out.c
   tw_out_ack_last_free then does not ask: such a connection takes the full steps, as a
   closing ACK of another shape does) and, with a FIN, no FIN seen before
   (which FIN-WAIT-1, the one state that takes a FIN here, never has: asserted below).
   (LAST-ACK has always seen the peer's FIN -- CLOSE-WAIT came first -- and its shape
   here has none: the eighth check has nothing to do for it, whatever it saw.) For such a
   segment every check of RFC 9293 3.10.7.4 up to the fifth passes without acting
   (first: SEG.SEQ = RCV.NXT with nothing to trim; PAWS, RFC 7323 5.3; second and
   fourth: no RST, no SYN; fifth: SND.UNA < SEG.ACK =< SND.NXT, inside RFC 5961 5.2's
   range), the seventh has no text, and the eighth finds its FIN in order: closing_ack
   then takes the same steps in the same order. Anything else takes the full steps.
   The ACK's range is left to closing_ack_in, asked after closing_ack_last, whose orphan
   asks a narrower one of its own (measured: lifecycle -4 instr against asking both). */
/* (`state`: c's, FIN-WAIT-1 or LAST-ACK, a constant: in_conn asks the state once and
   takes a copy of this and closing_ack_last for each of the two, which then ask it
   neither again) */
static inline __attribute__((always_inline)) bool
closing_ack_shape(const tw_socket *c, const tw_seg *s, const tw_tcp_hdr *h, tw_state state)
{
    assert(c->state == state &&
           (state == TW_STATE_FIN_WAIT_1 || state == TW_STATE_LAST_ACK));
    /* (LAST-ACK has no out-of-order FIN noted: the peer's FIN came in order, which
       clears it, and one is noted only before that, in_process_fin) */
    assert(c->state != TW_STATE_LAST_ACK || !(c->flags & TW_F_OOO_FIN));
    /* (LAST-ACK's shape has no FIN: asked in the flags' one test) */
    if ((s->flags & (uint8_t)~(state == TW_STATE_FIN_WAIT_1 ? TW_PSH | TW_FIN : TW_PSH)) !=
            TW_ACK ||
        (state == TW_STATE_FIN_WAIT_1 &&
         (c->flags & (TW_F_OOO_FIN | TW_F_SYN_UNACKED | TW_F_DSACK | TW_F_HOLES | TW_F_EXTRAS))) ||
        s->data_len != 0 || !seg_seq_at(s, c->rcv_nxt) || !usual_opts(c, &h->o)) {
        return false;
    }
    /* A FIN here is in FIN-WAIT-1 (asked above), which has seen none: the peer's FIN takes
       every state that receives it out of ESTABLISHED, SYN-RECEIVED or FIN-WAIT-1
       (fin_in_order_in), and FIN-WAIT-1 is entered only from the first two. */
    assert(!((s->flags & TW_FIN) && (c->flags & TW_F_PEER_FIN)));
    return true;
}

/* closing_ack_shape's ACK in (SND.UNA, SND.MAX]. */
static inline __attribute__((always_inline)) bool closing_ack_in(const tw_socket *c,
                                                                 const tw_seg *s)
{
    /* (SND.UNA, SND.MAX]: above the RFC 5961 5.2 floor SND.UNA - MAX.SND.WND too, which
       lies below SND.UNA by less than 2^30 (a window scaled by at most 14, RFC 7323
       2.3), with SND.MAX above SND.UNA by no more than the largest window plus a probe's
       byte or a FIN: the floor's test passes for every such ACK (asserted). */
    bool in = tw_seq_gt(s->ack, c->snd_una) && tw_seq_le(s->ack, c->snd_max);
    assert(!in || !tw_seq_lt(s->ack, tw_seq_make(c->snd_una.v - c->max_snd_wnd)));
    return in;
}

/* closing_ack's first case, inline in in_conn, for a segment of closing_ack_shape: the
   segment that ends an orphan (LAST-ACK) or takes it to TIME-WAIT (FIN-WAIT-1) then makes
   one call, not two. Returns false, having done nothing, for closing_ack's other case.
   (Our FIN was sent when the ACK covers it: SEG.ACK =< SND.MAX is asked here, so
   tw_conn_fin_sent is not.) */
static inline __attribute__((always_inline)) bool closing_ack_last(tw_stack *st, tw_socket *c,
                                                                  tw_seg *s, const tw_tcp_hdr *h,
                                                                  bool may_trace, tw_state state,
                                                                  usual_end *end)
{
    assert(c->st == st && c->state == state); /* (`state`: see closing_ack_shape) */
    /* (an orphan, and tw_conn_fin_acked's comparison: its FIN is queued, as in every
       FIN-WAIT-1 and LAST-ACK -- close and shutdown queue it as they enter them, and
       nothing takes the flag back -- so the flag's test is left out) */
    assert(c->flags & TW_F_FIN_QUEUED);
    /* (SEG.ACK beyond the data's end and at most SND.MAX: closing_ack_in's range too, as
       SND.UNA is at most the end of the data in FIN-WAIT-1 and LAST-ACK, whose FIN,
       after it, is not yet acknowledged) */
    /* (LAST-ACK's orphan without an extras block, TW_F_EXTRAS, asked in the same test:
       as FIN-WAIT-1's shape leaves such a connection to the full steps, which free its
       extras; its free, tw_conn_free_orphan_found, then does not ask. The flag toggled
       and both bits tested, where the orphan's bit alone took one test and the free's
       extras another; measured: lifecycle -1 instr) */
    if ((state == TW_STATE_LAST_ACK
             ? ((c->flags ^ TW_F_ORPHAN) & (TW_F_ORPHAN | TW_F_EXTRAS)) == 0
             : (c->flags & TW_F_ORPHAN) != 0) &&
        !(may_trace && st->cfg.trace) &&
        tw_seq_gt(s->ack, tw_seq_add(c->snd_buf_seq, c->snd.len)) &&
        tw_seq_le(s->ack, c->snd_max)) {
        assert(closing_ack_in(c, s));
        assert(tw_conn_fin_acked(c, s->ack));
        assert(tw_conn_fin_sent(c));
        /* Our FIN is acknowledged and nobody holds the socket (no tw_socket_info, no
           trace): what the fifth check would still update -- RTT, congestion window,
           send window, retransmission timer, the FIN-WAIT-2 timer -- ends with the
           connection in this very segment, and is not computed. */
        if (state == TW_STATE_LAST_ACK) {
            /* RFC 9293 3.10.7.4 fifth, LAST-ACK STATE: "The only thing that can arrive
               in this state is an acknowledgment of our FIN. If our FIN is now
               acknowledged, delete the TCB, enter the CLOSED state, and return." (S14)
               tw_conn_done's steps for an orphan, without its call, and without the
               change to CLOSED, which only a trace would see (there is none: asked
               above) of an object given back at once. */
            /* (an orphan: asked above; counted until CLOSED; found by the lookup) */
            if (end) {
                end->c = c;
                end->kind = USUAL_END_FREE;
                return true;
            }
            tw_conn_free_orphan_found(st, c);
            return true;
        }
        /* (the FIN's bit tested in memory: kept from closing_ack_shape's test, the flags
           were copied before it; measured: lifecycle -1 instr) */
        if (seg_fin(s)) {
            /* FIN-WAIT-1: "if the FIN segment is now acknowledged, then enter FIN-WAIT-2
               and continue processing in that state" -- SND.UNA (and SND.NXT) as the
               ESTABLISHED processing leaves them, for the TIME-WAIT the eighth check
               enters (its record keeps SND.NXT, and TS.Recent from note_arrival:
               closing_ack_shape asked usual_opts). */
            tw_seq ack = s->ack;
            /* note_arrival_usual's TS.Recent, which the record keeps (and the last ACK
               echoes); its clocks (TS.Recent's age, the idle time) only for a
               connection that stays (below). */
            /* (without the TS flag's test, as note_arrival_usual: closing_ack_shape asked
               usual_opts, so a connection without timestamps stores TSval 0, read by
               nobody) */
            assert((c->flags & TW_F_TS) || (h->o.present == 0 && h->o.ts_val == 0));
            /* (RCV.NXT for SEG.SEQ, equal to it (closing_ack_shape), which the shape's
               test left in a register for RCV.NXT's step below: SEG.SEQ's load from the
               segment is not made; measured: lifecycle -1 instr) */
            assert(tw_seq_eq(s->seq, c->rcv_nxt));
#ifndef NDEBUG
            bool ts_new = tw_seq_le(c->rcv_nxt, c->last_ack_sent); /* (asked again below) */
#endif
            if (tw_seq_le(c->rcv_nxt, c->last_ack_sent)) {
                c->ts_recent = h->o.ts_val;
            }
            /* (SND.NXT as ack_advance would leave it, its greater of SND.NXT and SEG.ACK:
               SEG.ACK, which acknowledges our FIN, the last we sent, is SND.MAX, never
               below SND.NXT; stored below, after the usual way's end) */
            assert(tw_seq_eq(ack, c->snd_max) && tw_seq_le(c->snd_nxt, ack));
            /* SND.UNA = SEG.ACK only for a connection that stays (below): the record
               keeps SND.NXT, and the last ACK is numbered SND.MAX (tcp_out.c
               ack_last_as), so neither reads it; stored here too in a checking build,
               where ack_last_as asserts it. */
#ifndef NDEBUG
            c->snd_una = ack;
#endif
            /* S11: FIN-WAIT-2, then fin_in_order_in's FIN-WAIT-2 steps (S14: the last
               ACK, then TIME-WAIT) without its ack_soon: the ACK sent at once clears what
               that would note (ack_carried). FIN-WAIT-2 on the way only a trace would
               see (there is none), and the state changes once, below, from FIN-WAIT-1
               to TIME-WAIT (an edge of the diagram). */
            c->rcv_nxt = tw_seq_add(c->rcv_nxt, 1); /* S10 */
            /* time_wait_steps for an orphan nothing traces: what only the connection
               reads -- note_arrival's clocks, the peer's FIN noted, the change to
               TIME-WAIT -- only when it stays (the record is made from the rest). */
            /* (the usual packet's function: the record's making, with room for it, is
               its end, a tail call, tw_timewait_make_found_ack_leave; the test is
               tw_timewait_enter_ack's, which then does not ask again. TIME-WAIT's end,
               now + 2*MSL, is the record's own there, timewait.c make_in_as: c->misc_at
               is set only for the other ways, where c may stay or the record take it) */
            assert(st->timer_held != c);
            if (end && __builtin_expect(st->tws.count < st->tws.room, 1)) {
                end->c = c;
                end->kind = USUAL_END_TW;
                return true;
            }
            /* (SND.NXT = SEG.ACK (above) only here too: the usual way's record, made
               with `ack`, takes SND.MAX, equal to it, make_in_as) */
            c->snd_nxt = ack;
            c->misc_at = tw_time_add(st->now, st->time_wait_len);
            if (!tw_timewait_enter_ack(st, c)) { /* (the last ACK sent in it) */
                c->snd_una = ack;
                /* (TS.Recent's test again, from RCV.NXT before the FIN's step: the
                   usual way then keeps no answer of it in a register of its own;
                   measured: lifecycle -1 instr) */
                /* (nothing on the way has sent an ACK that notes Last.ACK.sent, or
                   changed RCV.NXT but the FIN's step) */
                assert(ts_new == tw_seq_le(tw_seq_make(c->rcv_nxt.v - 1u), c->last_ack_sent));
                if (tw_seq_le(tw_seq_make(c->rcv_nxt.v - 1u), c->last_ack_sent)) {
                    c->ts_recent_stamp = st->now;
                }
                c->last_rcv = st->now;
                c->ka_sent = 0;
                c->flags |= TW_F_PEER_FIN; /* (no out-of-order FIN: closing_ack_shape) */
                tw_out_ack_carried(c);
                tw_conn_set_state(c, TW_STATE_TIME_WAIT);
                time_wait_stay(c);
            }
            return true;
        }
    }
    return false;
}

static void closing_ack(tw_socket *c, tw_seg *s)
{
    note_arrival(c, s, s->seq);
    if (ack_accept(c, s) || ((s->flags & TW_FIN) && fin_in_order(c))) {
        return;
    }
    tw_out_push(c);
}

/* S17, RFC 6191 (RFC 1122 4.2.2.13): a SYN alone at a connection in TIME-WAIT that the
   application still holds (no close yet: a compact record answers otherwise,
   tw_timewait_input, with the same rule). One surely from a newer incarnation -- a newer
   timestamp when both used them, or an equal one with a higher sequence number, else a
   sequence number above all the old connection received -- ends TIME-WAIT early and goes
   to the port's listener, whose new connection's ISN starts above anything the old one
   sent. Without a listener, or for an older SYN, false: the caller's challenge ACK
   answers it (RFC 5961 4.2). Out of line: rare. */
static __attribute__((noinline, cold)) bool time_wait_new_syn(tw_socket *c, tw_seg *s)
{
    tw_stack *st = c->st;
    tw_socket *l = tw_port_listener(st, c->lport);
    if (!l) {
        return false;
    }
    const tw_tcp_opts *o = &s->h->o;
    bool newer;
    if ((c->flags & TW_F_TS) && (o->present & TW_OPT_TS)) {
        int32_t d = (int32_t)(o->ts_val - c->ts_recent);
        newer = d > 0 || (d == 0 && tw_seq_gt(s->seq, c->rcv_nxt));
    } else {
        newer = tw_seq_gt(s->seq, c->rcv_nxt);
    }
    if (!newer) {
        return false;
    }
    tw_count(st, TW_CNT_TCP_TW_REUSED);
    uint32_t isn_floor = c->snd_nxt.v + 65535u + 2u; /* (as tw_timewait_input's) */
    uint64_t key = c->h.key;
    /* The steps for a segment of no connection read these (seg_init): the 4-tuple's
       hash is the one c was hashed with, until tw_conn_done takes it out; the ports in
       the header, which the usual parse leaves out for a known connection's segment
       (input_unsummed), in a copy. */
    s->raddr = c->raddr;
    s->hash = c->hash;
    tw_tcp_hdr h = *s->h;
    tw_tcp_usual_ports(&h, (uint32_t)c->rport << 16 | c->lport);
    s->h = &h;
    tw_conn_done(c, 0); /* CLOSED, as if 2*MSL had run out; the handle stays */
    in_listen_after_tw(l, s, key, isn_floor);
    return true;
}

/* A segment for a connection in TIME-WAIT that the application still holds: answered
   exactly as the compact record answers (timewait.c tw_timewait_judge, one rule for
   both), with the connection's own window, TS.Recent and rate limit. Out of line: rare. */
static __attribute__((noinline, cold)) void time_wait_in(tw_socket *c, tw_seg *s)
{
    tw_stack *st = c->st;
    if ((s->flags & (TW_SYN | TW_ACK | TW_FIN | TW_RST)) == TW_SYN && time_wait_new_syn(c, s)) {
        return;
    }
    /* (TS.Recent older than 24 days is no longer valid, RFC 7323 5.5: no PAWS then) */
    bool ts = (c->flags & TW_F_TS) && st->now - c->ts_recent_stamp < TW_SEC(24u * 24u * 3600u);
    unsigned r = tw_timewait_judge(st, c, s, c->rcv_nxt, rcv_window(c), ts, c->ts_recent);
    if (r & TW_TWJ_TS) {
        c->ts_recent = s->h->o.ts_val;
        c->ts_recent_stamp = st->now;
    }
    if (r & TW_TWJ_RESTART) {
        c->misc_at = tw_time_add(st->now, st->time_wait_len);
        timer_changed(c);
    }
    if (r & TW_TWJ_CHALLENGE) {
        tw_out_challenge_ack(c);
    } else if ((r & TW_TWJ_ACK) && !((r & TW_TWJ_LIMIT) && tw_oow_rate_limited(c))) {
        tw_out_ack(c);
    }
}

static void in_synchronized(tw_socket *c, tw_seg *s)
{
    s->len = tw_seg_len(s); /* as it came: in_check_seq trims data_len, not len */
    if (__builtin_expect(c->state == TW_STATE_TIME_WAIT, 0)) {
        time_wait_in(c, s);
        return;
    }
    /* A simultaneous open's peer that repeats its SYN (no ACK) is not taken here: the SYN
       lies below RCV.NXT, so RFC 9293 3.10.7.4's first check answers it with an ACK
       <SEQ=SND.NXT><ACK=RCV.NXT>, and Linux (tcp_validate_incoming, for which it is in the
       window: SEG.SEQ + 1 = RCV.WUP) sends its challenge ACK for a SYN (RFC 5961 4.2):
       the same ACK, limited per connection (500 ms) and by the stack's budget. The fourth
       check below does that (in_check_syn). Not our SYN+ACK again: Linux sends that
       only for a request (a SYN queue entry or a Fast Open child: tcp_check_req). */
    if ((c->state == TW_STATE_SYN_RCVD || (c->flags & TW_F_SYN_UNACKED)) &&
        (s->flags & TW_SYN) && tw_seq_eq(s->seq, c->irs) &&
        ((s->flags & TW_ACK) || (c->flags & TW_F_PASSIVE))) {
        if (!(s->flags & TW_ACK)) {
            /* A passive connection's peer (a Fast Open child: fastopen.c) repeated its
               SYN: our SYN+ACK was lost. Send it again, at most once per
               cfg.invalid_ratelimit, as a SYN queue entry (req_synack_limited) and
               Linux's out-of-window answers (its clock: tw_oow_rate_limited). */
            if (tw_oow_rate_limited(c)) {
                tw_drop(c->st, TW_CNT_TCP_ACK_SKIPPED_SYN_RECV, &s->sum, c);
                return;
            }
            if ((c->flags & TW_F_SYN_UNACKED) ||
                ((c->flags & TW_F_EXTRAS) && tw_tfo_sent_early(c))) {
                tw_out_synack_again(c); /* (SND.MAX stays past data sent: fastopen.h) */
            } else {
                tw_out_syn(c, true);
            }
            return;
        }
        /* R1: the SYN+ACK of a simultaneous open repeats the peer's SYN; what matters is
           its ACK. Drop the SYN and go on as with the third segment. (Not with a FIN:
           challenged below, as Linux's tcp_validate_incoming does, whose repeat must
           end at SEG.SEQ + 1.) */
        if (!(s->flags & TW_FIN)) {
            /* (its ECE and CWR too: on a SYN they negotiate ECN, RFC 3168 6.1.1, and
               signal no congestion; Linux's tcp_ecn_rcv_ecn_echo passes over a SYN's) */
            s->flags &= (uint8_t) ~(TW_SYN | TW_ECE | TW_CWR);
            s->seq = tw_seq_add(s->seq, 1);
            s->len--;
            /* Its SYN lay below RCV.NXT, which the first check answers with an ACK
               (Linux ACKs it too): the peer learns we are ESTABLISHED. */
            c->flags |= TW_F_ACK_NOW;
        }
    }
    tw_seq orig_seq = s->seq;
    if ((s->flags & TW_SYN) && !(s->flags & TW_RST)) {
        /* RFC 9293 3.10.7.4 fourth / RFC 5961 4.2: a SYN on a synchronized connection
           gets a (rate-limited) challenge ACK "irrespective of the sequence number", so
           it is taken before the window check, whose ACKs are not rate-limited. */
        in_check_syn(c, s);
        return;
    }
    if (in_check_paws(c, s) || in_check_seq(c, s)) {
        return;
    }
    /* The idle clock only: TS.Recent waits for the ACK check (in_process_ack). */
    c->last_rcv = c->st->now;
    c->ka_sent = 0;
    if (in_check_rst(c, s, orig_seq) || in_check_syn(c, s) || in_process_ack(c, s, orig_seq) ||
        in_process_text(c, s) || in_process_fin(c, s)) {
        return;
    }
    tw_out_push(c);
}

/* The third segment of a passive open, on the connection req_promote has just made in
   SYN-RECEIVED, in its common shape: ACK (PSH allowed), at RCV.NXT with text that fits
   the window, the options the connection always sends with a TSval PAWS accepts, and
   SND.UNA < SEG.ACK =< SND.NXT. For it every check of RFC 9293 3.10.7.4 before the
   fifth passes without acting (first: SEG.SEQ = RCV.NXT, nothing to trim; PAWS, RFC
   7323 5.3; second and fourth: no RST, no SYN); the fifth's SYN-RECEIVED ACK check
   passes and, with the window this segment brings, so does RFC 5961 5.2's floor (which
   SEG.ACK = SND.UNA + 1 always passes: asserted); the seventh takes the text in order and the eighth has no
   FIN. third_ack then takes the same steps in the same order, less those that have
   nothing to do for such a segment. Anything else (a FIN, a SYN, a RST, an old TSval,
   data beyond RCV.NXT...) takes the full steps.
   Given req_input's usual shape (ACK with at most PSH, SEG.SEQ = IRS + 1 = RCV.NXT,
   SEG.ACK = ISS + 1 = SND.MAX, so SND.UNA < SEG.ACK =< SND.NXT) what is left to ask: the
   text fits, the options, PAWS. */
static inline __attribute__((always_inline)) bool third_ack_ok(const tw_socket *c, const tw_seg *s,
                                                               const tw_tcp_hdr *h, bool usual,
                                                               uint32_t ts_recent, uint32_t space)
{
    /* (`space`: tw_conn_rcv_space, as req_promote worked it out) */
    assert(c->rcv.len == 0 && !(c->flags & TW_F_SHUT_RD) && space == tw_conn_rcv_space(c));
    /* (usual_opts with TS.Recent as the SYN gave it, `ts_recent`, not yet stored:
       in_promoted) */
    bool ts = (c->flags & TW_F_TS) != 0;
    if (!usual || s->data_len > space || h->o.present != (ts ? TW_OPT_TS : 0) ||
        (ts && (int32_t)(h->o.ts_val - ts_recent) < 0)) {
        return false;
    }
    assert((s->flags & (uint8_t)~TW_PSH) == TW_ACK && tw_seq_eq(s->seq, c->rcv_nxt) &&
           tw_seq_lt(c->snd_una, s->ack) && tw_seq_le(s->ack, c->snd_max));
    /* RFC 5961 5.2's floor, SND.UNA less the window (the segment's: the largest seen
       yet), lies below SND.UNA by less than 2^30 (a window scaled by at most 14, RFC 7323
       2.3), and SEG.ACK = SND.UNA + 1: the floor's test always passes (asserted). */
    assert(c->snd_wscale <= 14 &&
           !tw_seq_lt(s->ack, tw_seq_make(c->snd_una.v - ((uint32_t)h->win << c->snd_wscale))));
    return true;
}

/* The listener l has just queued a child (third_ack's): tw_conn_notify_acceptable's call
   in line, the stack at hand. Last in third_ack, as Linux wakes the listener once the
   child has taken the segment (tcp_child_process): the application that accepts in its
   callback finds the text in place, and the steps keep nothing of their own across its
   call. (l: neither a child nor an orphan, tw_conn_notify's test being the hook's) */
static inline __attribute__((always_inline)) void third_ack_notify(tw_stack *st, tw_socket *l)
{
    assert(!(l->flags & (TW_F_ORPHAN | TW_F_CHILD)));
    if (st->cfg.notify) {
        assert(l->st == st && l->acc_len != 0 && tw_conn_events(l) == TW_EV_ACCEPTABLE);
        st->cfg.notify(l, TW_EV_ACCEPTABLE, st->cfg.notify_ud);
    }
}

/* third_ack's first text where input_unsummed has not placed it (blk NULL: a length it
   does not copy in passing, or no parked block) or where the buffer is smaller than a
   block: false when it was dropped for want of memory, the listener told. */
static inline __attribute__((always_inline)) bool third_text_place(tw_stack *st, tw_socket *c,
                                                                   tw_seg *s, tw_socket *l,
                                                                   const uint8_t *blk, uint32_t n)
{
    if (!blk && n <= TW_MEM_RING_BLOCK && TW_MEM_RING_BLOCK <= c->rcvbuf_cap &&
        (c->rcv.buf || st->mem.cache[TW_MC_RING].head)) {
        /* tw_conn_rcv_reserve_in's usual case for a ring without a block (its parked
           one, else the first block from the free list), and the text to its front
           (head 0, nothing in it: no wrap to work out, as tw_ring_write_at would). */
        tw_conn_ring_first_block(st, &c->rcv);
        c->rcv.cap = TW_MEM_RING_BLOCK;
        tw_copy(c->rcv.buf, s->data, n);
        deliver_in_order(st, c, NULL, n, false);
        return true;
    }
    /* (a buffer smaller than a block: the text from the packet where tw_conn_rcv_reserve
       makes room, in blk, which is parked, too) */
    if (!tw_conn_rcv_reserve(c, n)) {
        c->quickack = 16; /* (the text not taken: it counts for nothing) */
        drop_text(c, s, TW_CNT_RX_NOMEM);
        third_ack_notify(st, l);
        return false;
    }
    deliver_in_order(st, c, s->data, n, false);
    return true;
}

/* ack_policy's steps for third_ack's first text, in the quick-ACK mode tw_cc_init has
   just set (syn_rcvd_queued): ack_soon's for a connection that owes no ACK yet
   (TW_F_ACK_LAZY and its segment, no ACK_NOW), then push_tail's for that ACK, held for
   the end of the turn (tw_out_ack_lazy's, on no list yet). */
/* (`flagged`: req_promote_in has set the two flags, PROMOTE_PLACED) */
static inline __attribute__((always_inline)) void third_text_ack(tw_stack *st, tw_socket *c,
                                                                 bool flagged)
{
    assert(c->quickack == 15);
    c->lazy_seg = (uint32_t)st->counters[TW_CNT_TCP_RX_SEGMENTS];
    if (flagged) {
        assert(c->flags & TW_F_ACK_LAZY);
        tw_out_ack_list_push(st, c);
    } else {
        tw_out_ack_lazy_unqueued(st, c);
    }
}

static inline __attribute__((always_inline)) void third_ack(tw_stack *st, tw_socket *c, tw_seg *s,
                                                           const tw_tcp_hdr *h, tw_socket *l,
                                                           tw_reqsk *r, uint8_t *blk,
                                                           bool may_trace, bool quick,
                                                           unsigned pm)
{
    /* A child just made: nobody holds it, so nothing is queued to close, shut or out of
       order, and in ESTABLISHED the fifth check's state switch does nothing. */
    assert(!(c->flags & (TW_F_FIN_QUEUED | TW_F_SHUT_RD | TW_F_ORPHAN | TW_F_OOO_FIN |
                         TW_F_PEER_FIN)) &&
           !c->ooo);
    /* note_arrival's steps: TS.Recent from this segment (RFC 7323 4.3: its TSval passed
       PAWS, third_ack_ok, and SEG.SEQ = RCV.NXT = Last.ACK.sent, req_promote); the idle
       clock starts here too (tw_cc_init_una_ka leaves a child's to its caller), with no
       keepalive probe sent yet. */
    assert(tw_seq_eq(s->seq, c->last_ack_sent) && !c->ka_sent && c->st == st);
    /* (the time loaded once: TS.Recent's stamp, and the idle clock and the stall's start
       that tw_cc_init_una_ka and ack_advance_as leave to a child's caller, stored here
       before anything reads them: each store through c could alias st->now for GCC,
       which loaded it again for each; measured: lifecycle -1 instr) */
    tw_time now = st->now;
    assert(!(pm & PROMOTE_TS) || (c->flags & TW_F_TS));
    if ((pm & PROMOTE_TS) || (c->flags & TW_F_TS)) {
        c->ts_recent = h->o.ts_val;
        c->ts_recent_stamp = now;
    }
    c->last_rcv = now;
    c->stall_start = now;
    /* req_promote's entry `r` freed here (c counts in l->syn_len, st->nconns instead):
       after the flags' test above, which its stores would otherwise make GCC load again */
    req_free_hashed(st, r, c->hash, true, quick);
    /* syn_rcvd_acked's steps with c's listener known, whose accept queue has room
       (req_input made sure of it, and nothing has queued a child since). */
    assert((c->flags & TW_F_CHILD) && l == tw_conn_listener(c));
    tw_listener_enqueue_to(l, c); /* (a child just made: its link is clear) */
    syn_rcvd_queued_in(st, c, s, h, l, true, may_trace, quick); /* (l, a child's listener) */
    /* ack_accept's steps for this segment, without those that have nothing to do:
       syn_rcvd_queued took the send window from it (SND.WL1 = SEG.SEQ, SND.WL2 = SEG.ACK,
       so the update's test passes and would store the same values again); it has no SACK
       blocks (usual_opts); SEG.ACK = SND.UNA + 1 = SND.MAX acknowledges our SYN and no
       more, in the Open state tw_cc_init has just set; nobody can hold a child not yet
       accepted, so it has no probe out and no notification of its own (tw_conn_notify);
       and ESTABLISHED has no closing transition. */
    assert(c->state == TW_STATE_ESTABLISHED && (c->flags & TW_F_CHILD) && !c->probes_out &&
           tw_seq_eq(c->snd_wl1, s->seq) && tw_seq_eq(c->snd_wl2, s->ack) &&
           c->snd_wnd == (uint32_t)h->win << c->snd_wscale && !(h->o.present & TW_OPT_SACK) &&
           c->ca_state == TW_CA_OPEN && !c->dupacks &&
           tw_seq_eq(s->ack, tw_seq_add(c->snd_una, 1)) && tw_seq_eq(s->ack, c->snd_max));
    ack_advance_as(st, c, s, h, true, true, false, quick && PROMOTE_UNA_SET);
    /* The deadlines so far: the RTO stays stopped (ack_advance_as), and a child made
       with every deadline off (tw_conn_alloc) has only the keepalive's that tw_cc_init
       may have set (syn_rcvd_queued), of which it told the wheel (tw_cc_init). */
    assert(c->misc_at == TW_TIME_NEVER && c->dack_at == TW_TIME_NEVER &&
           (c->ka_at == TW_TIME_NEVER || (c->flags & TW_F_KEEPALIVE)) &&
           tw_timer_armed(&c->timer) == (c->ka_at != TW_TIME_NEVER) && c != st->timer_held);
    /* on_new_ack's growth for a flight of 1 (the SYN), 1 acknowledged, would need a
       cwnd of 2 bytes or less: tw_cc_init has just made it initial_cwnd (1 at least)
       segments of snd_mss, which is 36 at least (the peer's MSS clamped at 48,
       req_promote, ours from an MTU of 576 or more or a user's MSS of 88 or more,
       tw_socket_set_mss; less 12 for timestamps), so it never grows here. */
    assert(c->cwnd > 2u);
    /* tw_out_push's steps for it: nothing to send (nobody writes on a child not yet
       accepted) and nothing in flight (our SYN acknowledged, the RTO stopped), so only
       the ACK its text owes is left (push_tail; tw_timer_after_send has nothing to do). A
       child has owed no ACK before (none of the three flags: it has received nothing,
       tw_conn_alloc), so a segment without text owes none either. (Asked before the
       text's steps, which change none of it.) */
    assert(!c->snd.len && tw_seq_eq(c->snd_nxt, c->snd_max) &&
           tw_seq_eq(c->snd_una, c->snd_max) && c->rto_at == TW_TIME_NEVER &&
           !(c->flags & TW_F_PERSIST) && c->ca_state == TW_CA_OPEN &&
           (c->flags & (TW_F_ACK_NOW | TW_F_ACK_LAZY | TW_F_ACK_QUEUED)) ==
               ((pm & PROMOTE_PLACED) ? TW_F_ACK_LAZY | TW_F_ACK_QUEUED : 0u));
    /* (the text's length read once: the copy's stores could alias s for the compiler) */
    uint32_t n = s->data_len;
    /* (`pm`: req_promote_in's quick copies that know whether there is text) */
    assert(!(pm & PROMOTE_PLACED) || n);
    assert(!(pm & PROMOTE_EMPTY) || !n);
    if ((pm & PROMOTE_PLACED) || (!(pm & PROMOTE_EMPTY) && n)) {
        /* The quick-ACK count (tw_cc_init_una leaves a child's to here): the 16 first
           segments, less this one, ACKed at once (ack_policy's steps below, one store). */
        c->quickack = 15;
        /* in_process_text's steps for this text: in ESTABLISHED, at RCV.NXT (nothing out
           of order yet, nothing shut or orphaned: asserted above), on a child, whose
           largest payload seen is none yet (0, tw_conn_alloc): this text's is larger. */
        assert(c->rcv_mss == 0);
        uint32_t m = tw_conn_local_mss(c); /* (as fast_do's, for the same reason) */
        if (n < m) {
            m = n;
        }
        c->rcv_mss = (uint16_t)m;
        /* (a child's first text: nothing received before, no ring yet, or its parked
           block, tcp_conn.h tw_conn_rings_kept, which is blk when there is one: blk was
           the parked block of the connection list's first object when input_unsummed
           looked, and nothing takes or gives a connection object between its look and
           new_child's take, which is that object: req_input and req_promote_in call
           neither before it) */
        assert(c->rcv.len == 0 && c->rcv.head == 0 && !c->rcv.cap);
        assert(!blk || c->rcv.buf == blk);
        /* (`placed`: req_promote_in's quick copy that has found the text there:
           req_promote_usual_wide) */
        assert(!(pm & PROMOTE_PLACED) || (blk && TW_MEM_RING_BLOCK <= c->rcvbuf_cap));
        if ((pm & PROMOTE_PLACED) || (blk && __builtin_expect(TW_MEM_RING_BLOCK <= c->rcvbuf_cap, 1))) {
            /* The ring's first block, its parked one, the text in it already
               (input_unsummed, for a buffer that holds it). */
            assert(n <= TW_MEM_RING_BLOCK);
            c->rcv.cap = TW_MEM_RING_BLOCK;
            deliver_in_order(st, c, NULL, n, false);
        } else if (!third_text_place(st, c, s, l, blk, n)) {
            return;
        }
        third_text_ack(st, c, (pm & PROMOTE_PLACED) != 0);
    } else {
        c->quickack = 16; /* (no text: tw_cc_init_una's count) */
    }
    third_ack_notify(st, l);
}

/* The third segment left the connection it was promoted to in SYN-RECEIVED: PAWS refused
   its TSval (RFC 7323 5.3), or the accept queue had no room. Our SYN+ACK is still
   unacknowledged and only its retransmission brings the ACK back, as the entry's timer
   would have done (Linux keeps the request sock and its timer in both cases): the
   connection's RTO takes over on the entry's schedule, with its retries counted against
   synack_retries (on_rto), and the connection does not wait for ever. */
static void synack_rto_take_over(tw_socket *c, tw_time synack_at)
{
    c->retries = (uint8_t)c->total_retrans; /* the entry's retries (req_promote) */
    c->rto = synack_backoff(&c->st->cfg, c->rto, c->retries);
    c->rto_at = tw_time_of_tick(tw_time_to_tick(synack_at)); /* (the tick the entry had) */
    timer_changed(c);
}

/* The send window of a connection in SYN-RECEIVED, c->snd_wnd as the SYN gave it
   (unscaled, RFC 7323 2.2), last updated by the SYN: SND.WL1 = IRS, SND.WL2 = ISS. */
static inline __attribute__((always_inline)) void syn_rcvd_window(tw_socket *c)
{
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = c->irs;
    c->snd_wl2 = c->iss;
}

/* req_promote's connection, l's child, takes its third segment: through the full steps
   with its wheel entry set once at the end as in_conn does it, or through third_ack. The
   SYN's send window (`peer_win`, unscaled) and TS.Recent with its time (`ts_recent`, the
   SYN's TSval as the entry kept it, with timestamps) are set where the connection may
   stay in SYN-RECEIVED: third_ack's segment replaces them before anything reads them
   (syn_rcvd_queued, note_arrival's steps: third_ack_ok's PAWS test takes `ts_recent`
   itself; measured lifecycle -1 against req_promote storing it first). `space`: the
   child's receive room, as req_promote worked it out (third_ack_ok; lifecycle -1 against
   asking the flags again). */
static inline __attribute__((always_inline)) void in_promoted(tw_stack *st, tw_socket *c, tw_seg *s,
                                                              const tw_tcp_hdr *h, bool usual,
                                                              tw_reqsk *r, tw_socket *l,
                                                              uint32_t ts_recent, uint32_t space,
                                                              uint8_t *blk, bool may_trace,
                                                              bool quick, unsigned pm)
{
    assert(c->st == st); /* (given apart: the caller's, in a register) */
    assert(c->state == TW_STATE_CLOSED); /* (req_promote: SYN-RECEIVED's store is here) */
    assert(!quick || third_ack_ok(c, s, h, usual, ts_recent, space));
    if (quick || third_ack_ok(c, s, h, usual, ts_recent, space)) {
        /* Not held: third_ack changes one deadline (the RTO, not started, is stopped),
           told to the wheel as it is made. It takes c to ESTABLISHED before anything
           reads its state (its listener's queue, tw_listener_enqueue_to, and
           syn_rcvd_queued's window steps read none; established_from_syn_ka stores
           ESTABLISHED), so SYN-RECEIVED's store is left out there (measured: lifecycle
           -1 instr), but for the asserts of the change, which a Debug build makes. */
#ifndef NDEBUG
        c->state = TW_STATE_SYN_RCVD;
#endif
        /* (which frees the entry) */
        third_ack(st, c, s, h, l, r, blk, may_trace, quick, pm);
        return;
    }
    /* The entry's SYN+ACK deadline and the SYN's window, read only here, before the
       entry is freed (measured: lifecycle -2 instr against req_promote reading them for
       both ways): the deadline a time while the entry's timer waited unplaced (wheel.h
       lazy: the usual case), else a tick (placed, or armed again by tw_req_on_timer).
       req_promote's stop of the timer leaves both as they were (a placed timer's link
       cleared, never TW_TIMER_LAZY). */
    tw_time synack_at = r->timer.expires;
    if (!tw_timer_lazy(&r->timer)) {
        synack_at = tw_time_of_tick(synack_at);
    }
    uint16_t peer_win = r->peer_win;
    req_free_hashed(st, r, c->hash, true, false); /* (c counts in l->syn_len, st->nconns) */
    if (usual && !may_trace) {
        c->flags &= ~TW_F_CONNECTED; /* (req_promote's, for third_ack alone) */
    }
    c->state = TW_STATE_SYN_RCVD;
    s->h = h; /* (for the full steps: the usual third segment's caller left it unset) */
    if (blk) {
        third_blk_back(st, blk);
    }
    if (c->flags & TW_F_TS) {
        c->ts_recent = ts_recent; /* (the SYN's, as the entry kept it: req_promote) */
        c->ts_recent_stamp = st->now;
    }
    c->snd_wnd = peer_win;
    timer_hold(st, c);
    syn_rcvd_window(c);
    in_synchronized(c, s);
    if (st->timer_held == c && c->state == TW_STATE_SYN_RCVD) { /* (held: not freed) */
        /* (the same values again: only leaving SYN-RECEIVED changes them) */
        syn_rcvd_window(c);
        synack_rto_take_over(c, synack_at);
    }
    timer_release(st, c);
}

/* tw_out_push_open at the end of header prediction (ESTABLISHED, or CLOSE-WAIT after
   its FIN), the ACK owed there most often marked TW_F_ACK_LAZY (ack_soon, ack_policy):
   when there is nothing to send, no ACK to send now and no timer for
   tw_timer_after_send to change (push_tail's cases), its one step left -- the ACK held
   on the stack's list for the end of the turn (ack_queue) -- is done here, without the
   call. The notify callback in between may have sent (the segment carried the ACK and
   cleared the flag) or written more: all is asked again. With nothing waiting,
   tw_timer_after_send changes something only when data is in flight without an RTO
   timer (or under the persist timer), or when nothing is in flight and a timer runs;
   nothing in flight, nothing waiting and no RTO timer: it does nothing whatever the
   window. */
/* (`lazy`: the caller knows an ACK is owed by the end of this turn, TW_F_ACK_LAZY set:
   header prediction's FIN, fin_in_order_in; the queue's test is then of its own flag
   alone, measured: lifecycle -2 instr) */
static inline __attribute__((always_inline)) void push_open_in(tw_stack *st, tw_socket *c,
                                                               bool lazy)
{
    uint32_t f = c->flags;
    assert(!lazy || (f & TW_F_ACK_LAZY));
    if (c->ca_state == TW_CA_RECOVERY || (f & (TW_F_FIN_QUEUED | TW_F_ACK_NOW)) ||
        !tw_seq_eq(c->snd_nxt, tw_seq_add(c->snd_buf_seq, c->snd.len)) ||
        (!tw_seq_eq(c->snd_una, c->snd_max)
             ? (f & TW_F_PERSIST) || c->rto_at == TW_TIME_NEVER
             : c->rto_at != TW_TIME_NEVER)) {
        tw_out_push_open(c);
        return;
    }
    if (lazy ? !(f & TW_F_ACK_QUEUED)
             : (f & (TW_F_ACK_LAZY | TW_F_ACK_QUEUED)) == TW_F_ACK_LAZY) {
        c->flags = f | TW_F_ACK_QUEUED;
        tw_out_ack_list_push(st, c);
    }
}

/* Header prediction (Van Jacobson's, as BSD and Linux have it): the two segments a bulk
   transfer is made of, in-order data that acknowledges nothing new and a pure ACK of new
   data, take only the actions RFC 9293 3.10.7.4's steps would take for them. Predicted:
   ESTABLISHED, ACK with at most PSH, SEG.SEQ = RCV.NXT, the options the connection
   always sends (timestamps or none) with a TSval PAWS accepts, nothing queued to close
   or out of order; SEG.ACK = SND.UNA with data that fits the window, or SND.UNA <
   SEG.ACK <= SND.MAX outside loss recovery, with or without such data (a request's
   answer acknowledges the request: the fifth check's new-ACK steps, then the seventh's
   in-order text, as in_process_ack and in_process_text take them for this segment).
   The send window is taken as the fifth check takes it. A FIN may follow the data (or
   come alone, acknowledging new data or not): in ESTABLISHED, with nothing trimmed and
   no FIN seen before, it is in order, and the eighth check's steps follow. Everything
   else, or nothing changed yet, returns false for the full steps.
   fast_ok is the test (with data and a receive ring too small or not there yet, it
   allocates the ring when `grow` is NULL, else sets *grow for the caller to do it once the
   checksum is known right: 2 for a ring without a block whose data fits one first-size
   block, 1 otherwise);
   fast_do the actions, the payload already in the ring when `placed`. Both take s->h
   as `h`: the usual packet's function has it in its own frame, where it is read without
   the pointer's load. */
static inline __attribute__((always_inline)) bool fast_ok(tw_socket *c, const tw_seg *s,
                                                        const tw_tcp_hdr *h, uint8_t *grow)
{
    if (c->state != TW_STATE_ESTABLISHED ||
        (s->flags & (uint8_t)~(TW_PSH | TW_FIN)) != TW_ACK ||
        !tw_seq_eq(seg_seq_loaded(s), c->rcv_nxt) ||
        (c->flags & (TW_F_ORPHAN | TW_F_SHUT_RD | TW_F_FIN_QUEUED | TW_F_OOO_FIN)) ||
        !usual_opts(c, &h->o)) {
        return false;
    }
    /* (the Open state and no byte SACKed in one test of the two fields' or, the Open
       state being 0: one load, an or from memory and a jump, where each took a compare
       and a jump of its own; measured: lifecycle -1 instr, GCC placing a jump more
       after the 64-byte copy of the first answer, input_unsummed) */
    _Static_assert(TW_CA_OPEN == 0, "Open is 0");
    /* (SND.UNA - SEG.ACK, one compare whose sign and zero flags both tests take: a new
       ACK by its sign, tw_seq_gt's, asked first, then any other but SEG.ACK = SND.UNA
       refused; `new_ack` read again below, where GCC then knows SEG.ACK != SND.UNA for
       a new one. Measured: lifecycle -4 instr, 4,048.9 -> 4,044.9, bulk 1,227.5 ->
       1,227.4 per KiB, against the equality asked first, whose compare GCC made again
       out of line for the sign, and again for a segment without data.) */
    int32_t una_less_ack = (int32_t)(c->snd_una.v - s->ack.v);
    bool new_ack = una_less_ack < 0; /* (tw_seq_gt(s->ack, c->snd_una)) */
    if (new_ack) {
        if (tw_seq_gt(s->ack, c->snd_max) || (c->ca_state | c->sacked) != 0) {
            return false; /* unsent ACK, or recovery state to keep */
        }
    } else if (una_less_ack != 0) {
        return false; /* old ACK */
    }
    if (s->data_len) {
        /* In order, within the window (first check trims nothing), no hole to fill. */
        uint32_t need = c->rcv.len + s->data_len;
        if ((c->flags & TW_F_HOLES) ||
            need > c->rcvbuf_cap) { /* tw_conn_rcv_space(), the read side being open */
            return false;
        }
        /* (room for need, at least 1 byte, is a capacity, which means a block: ring_free.
           A capacity is 0 or at least a block, tcp_conn.c tw_conn_ring_grow, so a ring
           without room for need, within one block, has none: no block, or a parked one,
           tcp_conn.h tw_conn_rings_kept) */
        assert(need >= 1 && (c->rcv.cap == 0 || c->rcv.cap >= TW_MEM_RING_BLOCK));
        assert(c->rcv.cap == 0 || c->rcv.buf);
        if (need > c->rcv.cap) {
            if (grow) {
                /* 2: a ring without capacity (no block, or a parked one), the data within
                   one first-size block (input_unsummed takes its parked block or one from
                   the free list, and places the payload in it as it sums it); 1: anything
                   else. (Only what is loaded already is asked here: the rest, there, costs
                   the segments that fit nothing.) */
                *grow = need <= TW_MEM_RING_BLOCK ? 2 : 1;
            } else if (!tw_conn_rcv_reserve(c, need)) {
                return false;
            }
        }
    } else if (!new_ack) {
        /* (the flags loaded again here, from s hidden by an empty asm: kept from the
           first test, their register was copied before it on every segment; measured:
           lifecycle -2 instr) */
        const tw_seg *sf = s;
        TW_OPAQUE(sf);
        if (!(sf->flags & TW_FIN)) {
            return false; /* a duplicate ACK (or a window probe's answer) */
        }
    }
    return true;
}

static inline __attribute__((always_inline)) void fast_do(tw_stack *st, tw_socket *c, tw_seg *s,
                                                        const tw_tcp_hdr *h, bool placed,
                                                        bool may_trace, bool empty)
{
    assert(!empty || s->data_len == 0);
    /* (`st` is c's, the caller's in a register: c->st is loaded again after each call) */
    assert(c->st == st && (may_trace || !st->cfg.trace));
    if (may_trace) {
        tw_trace_conn(st, TW_TRACE_SEG_IN, c, &s->sum, TW_STATE_CLOSED);
    }
    note_arrival_usual(st, c, s, h); /* (fast_ok asked usual_opts) */
    /* Fifth check: the send window from a newer segment, as in_process_ack takes it (the
       first answer after a handshake brings the scaled window in place of the SYN's). */
    c->probes_out = 0;
    tw_seq seq = s->seq, ack = s->ack; /* (read once: the byte stores above may alias) */
    if (tw_seq_lt(c->snd_wl1, seq) ||
        (tw_seq_eq(c->snd_wl1, seq) && tw_seq_le(c->snd_wl2, ack))) {
        uint32_t wnd = (uint32_t)h->win << c->snd_wscale;
        c->snd_wnd = wnd;
        if (wnd > c->max_snd_wnd) {
            c->max_snd_wnd = wnd;
        }
        c->snd_wl1 = seq;
        c->snd_wl2 = ack;
    }
    if (!tw_seq_eq(ack, c->snd_una)) {
        tw_seq una = c->snd_una;
        uint32_t acked = (uint32_t)tw_seq_diff(ack, una);
        /* (fast_ok asked usual_opts; header prediction holds no timer: no segment's
           steps are under way, timer_release let go of the last one's) */
        assert(st->timer_held == NULL);
        ack_advance_as(st, c, s, h, true, false, true, false);
        /* (the flight before the ACK from SND.MAX, which ack_advance_as leaves as it
           found it, and SND.UNA before it, kept for `acked`: worked out before the
           call, GCC kept it on the stack across it once ack_advance_as's sacked test
           was gone for `unheld`: the two, lifecycle -6 instr) */
        uint32_t prior_flight = (uint32_t)tw_seq_diff(c->snd_max, una);
        on_new_ack_open(st, c, acked, prior_flight, &h->o); /* (fast_ok: Open, a new ACK) */
    }
    uint32_t n = empty ? 0 : s->data_len; /* (the same) */
    if (n) {
        /* Seventh: in_process_text's in-order case. */
        if (n > c->rcv_mss) {
            /* (the least of the two as a local the compare may replace: written as one
               conditional expression, GCC kept the local MSS and moved a copy of it;
               measured: lifecycle -1 instr, and -1 in third_ack) */
            uint32_t m = tw_conn_local_mss(c);
            if (n < m) {
                m = n;
            }
            c->rcv_mss = (uint16_t)m;
        }
        deliver_in_order(st, c, placed ? NULL : s->data, n, false); /* (fast_ok) */
        assert(st->timer_held == NULL); /* (header prediction holds no timer) */
        ack_policy_as(st, c, n, true);
    }
    if (seg_fin(s)) {
        /* Eighth: the FIN right after the data, in order (S11: ESTABLISHED to
           CLOSE-WAIT; fin_in_order notifies). */
        /* (fast_ok: nothing changed the state, no out-of-order FIN) */
        fin_in_order_in(st, c, TW_STATE_ESTABLISHED, false, may_trace, true);
        /* (CLOSE-WAIT; the FIN's ACK owed: fin_in_order_in set TW_F_ACK_LAZY, and the
           notify hook calls nothing on the stack, tcpwave.h) */
        push_open_in(st, c, true);
    } else {
        /* tw_conn_notify_in with the events of header prediction's ESTABLISHED: fast_ok
           let no orphan, no shutdown and no FIN queued by, and one without the peer's
           FIN is not in CLOSE-WAIT (tw_conn_events_nonlistener's first case: the two
           rings' tests alone) */
        if (!(c->flags & TW_F_CHILD) && st->cfg.notify) {
            assert(c->state == TW_STATE_ESTABLISHED &&
                   !(c->flags & (TW_F_ORPHAN | TW_F_SHUT_RD | TW_F_FIN_QUEUED | TW_F_PEER_FIN)));
            /* (the two terms added, no bit in common: GCC then makes them with one lea
               rather than an or of each made apart; measured: lifecycle -2 instr) */
            unsigned ev = (c->snd.len < c->sndbuf_cap ? TW_EV_WRITABLE : 0u) +
                          (c->rcv.len != 0 ? TW_EV_CONNECTED | TW_EV_READABLE : TW_EV_CONNECTED);
            assert(ev == tw_conn_events(c));
            st->cfg.notify(c, ev, st->cfg.notify_ud);
        }
        push_open_in(st, c, false);
    }
}

/* Inline: in the usual packet's function (input_unsummed) the segments header prediction
   does not take -- a SYN+ACK, the closing ACKs -- then cost no frame of their own. `h` is
   s->h, given apart as fast_ok takes it, and `st` c's stack (the caller's, in a register). */
static inline __attribute__((always_inline)) bool usual_sum_ok(tw_stack *st, tw_seg *s,
                                                               const tw_tcp_usual *u,
                                                               uint64_t sum);
/* in_conn_sum's steps for a segment in FIN-WAIT-1 or LAST-ACK (`state`, a constant in
   each copy): whether it has a closing ACK's shape (*closing), then its sum (the shape
   has no payload: the headers' alone) and closing_ack_last. Returns 1 or 0 when the
   segment is done with (in_conn_sum's answer), -1 when in_conn_sum goes on. */
static inline __attribute__((always_inline)) int
closing_ack_in_state(tw_stack *st, tw_socket *c, tw_seg *s, const tw_tcp_hdr *h, bool may_trace,
                     const tw_tcp_usual *u, uint64_t sum, bool *closing, tw_state state,
                     usual_end *end)
{
    *closing = closing_ack_shape(c, s, h, state);
    if (*closing && u) {
        assert(u->payload_len == 0);
        if (!tw_cksum_native_ok_nz(sum)) {
            return 0;
        }
        tw_count(st, TW_CNT_TCP_RX_SEGMENTS);
    }
    if (*closing && closing_ack_last(st, c, s, h, may_trace, state, end)) {
        return 1;
    }
    return -1;
}

/* (`u`, `sum`: for the usual packet's function, its segment not yet summed (NULL: summed),
   whose checksum is asked here before any step acts, after the closing ACK's shape,
   which has no payload: a closing ACK's sum then asks no payload, usual_sum_ok's test;
   measured: lifecycle -2 instr, with fast_ok's state test then a load the steps here
   use again) */
static inline __attribute__((always_inline)) bool in_conn_sum(tw_stack *st, tw_socket *c,
                                                            tw_seg *s, const tw_tcp_hdr *h,
                                                            bool may_trace, const tw_tcp_usual *u,
                                                            uint64_t sum, usual_end *end)
{
    /* (the empty cache's entry, no stack's, only with `u`: see below) */
    assert((c->st == st || (u && c == TW_CONN_NONE)) && (may_trace || !st->cfg.trace) &&
           (!u || !may_trace));
    if (may_trace) {
        tw_trace_conn(st, TW_TRACE_SEG_IN, c, &s->sum, TW_STATE_CLOSED);
    }
    /* (may_trace false: the usual parse's segment, whose flags nobody has asked yet,
       input_unsummed; a bad combination returns false, having done nothing, for the
       full parser to drop. Asked only where the steps' own tests do not refuse every
       such one: closing_ack_shape takes an ACK with at most PSH and FIN.) */
    /* One timer update for the whole segment (tw_conn_timer_update): an ACK that stops
       the RTO and a reply that starts it again, or a FIN-WAIT-2 timer that TIME-WAIT
       replaces at once, then cost the wheel one change, or none. The connection may be
       freed on the way (tw_conn_free lets go of it). */
    /* The states by their order (tcpwave.h tw_state): FIN-WAIT-1 and LAST-ACK after
       ESTABLISHED, SYN-SENT before it, in one compare's two outcomes, the one that header
       prediction's state test (fast_ok) made already where it came first (measured:
       lifecycle -2.0 instr, 4,197.9 -> 4,195.9, against the three states asked in turn:
       the closing ACKs' states one compare fewer each, SYN-SENT one jump more). */
    _Static_assert(TW_STATE_SYN_SENT < TW_STATE_ESTABLISHED &&
                       TW_STATE_FIN_WAIT_1 > TW_STATE_ESTABLISHED &&
                       TW_STATE_LAST_ACK > TW_STATE_ESTABLISHED,
                   "the states' order");
    bool closing = false;
    int done = -1;
    if (c->state > TW_STATE_ESTABLISHED) {
        /* (asked here, not in in_synchronized: its other callers have a connection in
           SYN-RECEIVED, which is never a closing ACK's) */
        /* Not held when closing_ack_last takes it: the connection went (tw_conn_free, or
           a TIME-WAIT record made from it), or, with no room for the record, stays in
           TIME-WAIT, whose one timer update time_wait_stay makes itself (nothing before
           it changes a deadline that the wheel is not told of there). */
        /* (the state asked once, a copy of the closing ACK's steps for each of its two
           states: measured: lifecycle -5 instr against asking it in each step) */
        /* (a closing ACK's shape has no payload: its sum is the headers' alone) */
        if (c->state == TW_STATE_FIN_WAIT_1) {
            done = closing_ack_in_state(st, c, s, h, may_trace, u, sum, &closing,
                                        TW_STATE_FIN_WAIT_1, end);
        } else if (c->state == TW_STATE_LAST_ACK) {
            done = closing_ack_in_state(st, c, s, h, may_trace, u, sum, &closing,
                                        TW_STATE_LAST_ACK, end);
        }
    } else if (c->state == TW_STATE_SYN_SENT) {
        /* (a segment with text, rare in SYN-SENT, goes to the full parser, with the same
           outcome (S6: a SYN+ACK's text is not taken): the usual parse's copy, which
           alone has may_trace false, then has none, whose sum here and whose count in
           syn_sent_accept it does not ask; measured: lifecycle -2 instr) */
        if (u && (u->payload_len != 0 || !usual_sum_ok(st, s, u, sum))) {
            return false;
        }
        assert(may_trace || s->data_len == 0);
        /* (the usual SYN+ACK's flags, in_syn_sent's first test, passes the bad
           combinations' test: asked only for the others) */
        bool usual = syn_sent_usual(s);
        if (!usual && !may_trace && flags_bad_again(s)) {
            return usual_flags_bad(st);
        }
        /* (the usual SYN+ACK's steps hold no timer: their one change the wheel is not
           told of at once, the RTO's start by tw_out_push_now_held, is set at their
           end, syn_sent_accept; a refusal changes none) */
        if (!usual) {
            timer_hold(st, c);
        }
        if (!in_syn_sent(st, c, s, h, may_trace, usual)) {
            timer_release(st, c);
        }
        return true;
    }
    if (done >= 0) {
        return done;
    }
    /* The empty cache's entry (conn_find: key 0, state CLOSED, so that none of the
       states' ways above took it): the full parsers, before anything is done or counted.
       (Only the usual packet's function can be given it, `u` set.) */
    if (u && __builtin_expect(c == TW_CONN_NONE, 0)) {
        return false;
    }
    if (u && !closing && !usual_sum_ok(st, s, u, sum)) {
        return false;
    }
    closing = closing && closing_ack_in(c, s);
    assert(!closing || !tw_tcp_flags_bad(s->flags));
    if (!may_trace && !closing && flags_bad_again(s)) {
        return usual_flags_bad(st);
    }
    timer_hold(st, c);
    s->h = h;
    if (closing) {
        closing_ack(c, s);
    } else {
        in_synchronized(c, s);
    }
    timer_release(st, c);
    return true;
}

static inline __attribute__((always_inline)) bool in_conn(tw_stack *st, tw_socket *c, tw_seg *s,
                                                        const tw_tcp_hdr *h, bool may_trace)
{
    return in_conn_sum(st, c, s, h, may_trace, NULL, 0, NULL);
}

/* The segment from its header: `h` for the window, options and ports (all that is read
   through s->h; the usual parse's ports join it for input_demux only), the rest given
   apart (tw_stack_input leaves it out of `h`). s->h itself is left to the caller,
   set before s goes to a step out of line: the inline ones (fast_ok, fast_do, in_conn's
   own) take `h` apart, and the usual packet's function then never stores it. */
/* (`ack_seq`: SEG.ACK and SEG.SEQ as two uint32_t side by side lie in memory, tcp_hdr.h
   tw_get32x2_rev, stored as they are: one 8-byte store) */
static inline __attribute__((always_inline)) void
seg_init(tw_seg *s, const tw_stack *st, const tw_tcp_hdr *h, uint32_t src, uint32_t ports,
         uint64_t ack_seq, uint8_t flags, uint32_t data_len, bool may_trace)
{
#ifndef NDEBUG
    s->h = NULL; /* (unset: see above) */
    s->raddr = 0; /* (unset: see below; no segment accepted comes from 0.0.0.0) */
    s->data = NULL; /* (unset: see below; a misplaced reader faults) */
#endif
    /* s->raddr is left to the caller too: only the steps for a segment of no connection
       read it (in_listen, in_cookie_ack, in_closed's reply, all after
       input_demux_in's lookups, which assert it; for a known connection it is c->raddr),
       so the usual packet's function stores it only then. */
    _Static_assert(offsetof(tw_seg, seq) == offsetof(tw_seg, ack) + 4 && sizeof(tw_seq) == 4,
                   "ack, seq");
    memcpy(&s->ack, &ack_seq, 8);
    s->flags = flags;
    /* s->data as s->raddr (above): left to the caller, read only with data (data_len),
       which the usual packet's function stores where it has some */
    s->data_len = data_len;
    /* SYN and FIN each take a sequence number (both: only from the full parser,
       tw_tcp_parse). s->len is left to the steps that read it (in_synchronized,
       req_checks): the short paths never do. */
#ifndef NDEBUG
    s->len = UINT32_MAX; /* (unset: the readers assert it was set) */
#endif
    if (may_trace && st->cfg.trace) {
        /* read only by trace events; the usual parse leaves seq, ack, length and flags
           out of the header struct, so they are passed as found, and the option fields
           it leaves unset are filled in a copy */
        tw_tcp_hdr th = *h;
        tw_tcp_opts_usual_fill(&th.o);
        tw_tcp_usual_ports(&th, ports);
        uint32_t sa[2];
        memcpy(sa, &ack_seq, 8);
        tw_conn_fill_summary_as(&s->sum, &th, src, st->cfg.addr, sa[1], sa[0], data_len, flags);
        s->sum.ip_ecn = st->rx_ce ? 3u : 0u; /* (a CE mark: the only ECN field TCP is given) */
    }
}

/* in_conn out of line, for input_demux (the full parser's segments, and the usual
   packet's whose ring could not grow): the steps for a segment of no connection there
   then keep their registers. */
static __attribute__((noinline)) void in_conn_call(tw_stack *st, tw_socket *c, tw_seg *s,
                                                   const tw_tcp_hdr *h)
{
    (void)in_conn(st, c, s, h, true); /* (true: the full parser asked the flags) */
}

/* The demultiplexing after the connection table's lookup (`n`, found or not). Inline in
   the usual packet's function for a segment of no connection (a SYN, the third segment
   of a passive open: two of a lifecycle's seven), which then makes no call of its own
   (measured: lifecycle -26 instr); input_demux out of line for the rest. */
/* (`syn_alone`: the caller found the segment a SYN without RST, ACK or FIN, syn_alone_of,
   which in_listen then does not ask again, and without text, ECE or CWR) */
/* (`h`: the segment's header, s->h, which the usual SYN's caller leaves unset: set here
   before the steps out of line that read it, in_listen's own taking `h` apart) */
static inline __attribute__((always_inline)) void input_demux_in(tw_stack *st, tw_seg *s,
                                                                 const tw_tcp_hdr *h, uint64_t key,
                                                                 tw_hnode *n, tw_hnode *rq,
                                                                 bool may_trace, bool syn_alone)
{
    if (rq) {
        /* A SYN queue entry's (conn_find): its 4-tuple has no TIME-WAIT record, as the
           entry was made only with none there (a SYN that a record let in ended the
           record: tw_timewait_input), and a record comes only from a connection of the
           table, where the entry's key has no other. */
        assert(!n && tw_timewait_find(st, key) == NULL);
        /* (input_unsummed's is apart) */
        (void)req_input(st, (tw_reqsk *)rq, s, h, may_trace, NULL);
        return;
    }
    if (n) {
        tw_socket *c = (tw_socket *)n;
        if (fast_ok(c, s, h, NULL)) {
            fast_do(st, c, s, h, false, may_trace, false);
        } else {
            in_conn_call(st, c, s, h);
        }
        return;
    }
    assert(s->raddr != 0); /* (set for a segment of no connection: seg_init) */
    bool have_floor = false;
    uint32_t isn_floor; /* (set by tw_timewait_input when have_floor) */
    tw_socket *l = NULL; /* the port's listener: looked up only when asked (not for a
                            SYN queue entry's segment, the third of every passive open) */
    if (st->tws.count) {
        /* conn_find's hash: the TIME-WAIT table shares the connection table's seed. */
        tw_tw *tw = tw_timewait_find_pre(st, key, s->hash);
        if (tw) {
            s->h = h;
            /* S17: only a listener can start the new incarnation a newer SYN asks for;
               without one TIME-WAIT keeps the 4-tuple (NULL floor: no reuse). */
            l = tw_port_listener(st, h->dport);
            if (tw_timewait_input(st, tw, s, l ? &isn_floor : NULL)) {
                return;
            }
            have_floor = true;
        }
    }
    if (!have_floor) {
        /* The listener a SYN last found, asked first (stack.h listen_last: exact, as
           it is emptied when its port's listener goes; the empty cache's UINT32_MAX is
           no port): then one compare and a load, with no NULL test, where the table's
           lookup took eight steps (measured: lifecycle -4 instr). The destination
           port from the key (tw_tuple_key's low half), h's read only past the compare:
           GCC otherwise loaded it first for both ways, with a copy. */
        if (__builtin_expect((uint16_t)key == st->listen_last_port, 1)) {
            l = st->listen_last;
            assert(l != NULL && l == tw_port_listener(st, h->dport));
            goto listener;
        }
        /* (stack.h tw_port_listener's steps with the port widened to the index's size
           first: from the 32-bit form GCC worked out the leaf's index with a shift
           more) */
        size_t dp = h->dport;
        l = st->listen[dp / TW_LISTEN_LEAF]->s[dp % TW_LISTEN_LEAF];
        assert(l == tw_port_listener(st, h->dport));
        if (l) {
            st->listen_last_port = (uint32_t)dp; /* (the next SYN's first guess) */
            st->listen_last = l;
        }
    }
    if (l) {
        assert(h->dport != 0); /* (stack.c tw_port_listen) */
        if (have_floor) {
            in_listen_after_tw(l, s, key, isn_floor);
            return;
        }
    listener: /* (the cached listener's way, which has no floor) */
        assert(h->dport != 0 && !have_floor);
        in_listen(st, l, s, h, key, false, 0, may_trace, syn_alone);
        return;
    }
    /* The usual SYN's destination port 0 (`syn_alone`: input_unsummed asked only its
       source port, tw_tcp_usual_ports_bad's other half): no listener has it (socket.c
       tw_socket_listen binds a port first, never 0: stack.c tw_port_listen), nor a
       TIME-WAIT record (a connection's local port is never 0), so it comes here, where
       it is dropped as the full parser drops it (stack.c input_checked: counted in
       TCP_RX_SEGMENTS, which usual_sum_ok has done, then tw_tcp_parse's drop, after the
       checksum, which usual_sum_ok has asked too). */
    if (syn_alone && __builtin_expect(h->dport == 0, 0)) {
        tw_drop(st, TW_CNT_TCP_RX_BAD_PORT, NULL, NULL);
        return;
    }
    s->h = h;
    in_closed(st, s);
}

static __attribute__((noinline)) void input_demux(tw_stack *st, tw_seg *s, uint64_t key,
                                                  tw_hnode *n, tw_hnode *rq)
{
    input_demux_in(st, s, s->h, key, n, rq, true, false);
}

/* The connection table's lookup for a segment, with two one-entry caches in front
   (stack.h last_conn, then last_req): exact, since the cached connection and entry are
   in the table (each is dropped when it leaves it) and keys in the table are unique.
   The connection found, or NULL with *rq the SYN queue entry found (the table holds
   both: stack.h conns) or NULL. `usual`: for the usual packet's function, which may be
   given the empty cache's entry (tcp_conn.h TW_CONN_NONE, key 0), and gives its segment
   to the full parsers there (in_conn_sum); else that entry is passed over. */
static inline __attribute__((always_inline)) tw_hnode *conn_find(tw_stack *st, tw_seg *s,
                                                               uint64_t key, tw_hnode **rq,
                                                               bool usual)
{
    tw_socket *c = st->last_conn;
    *rq = NULL;
    assert(c != NULL);
    if (c->h.key == key && (usual || c != TW_CONN_NONE)) {
        return &c->h;
    }
    /* The SYN queue entry last made, the next segment's of a passive open (stack.h
       last_req): found without the hash (s->hash is left unset: the entry has its own,
       and a segment of a SYN queue entry takes no step that reads s->hash). */
    tw_reqsk *r = st->last_req;
    if (r && r->h.key == key) {
        assert(tw_htab_find(&st->conns, key) == &r->h);
        *rq = &r->h;
        return NULL;
    }
    /* Kept for the rest of the demultiplexing when no connection is found (a SYN
       queue entry's insertion, its connection's taking its place; a connection's
       insertion). */
    s->hash = tw_htab_hash(&st->conns, key);
    tw_hnode *n = tw_htab_find_tagged(&st->conns, key, s->hash);
    if (n) {
        if (__builtin_expect(tw_hnode_is_req(n), 0)) {
            *rq = n; /* (never the cache's: it holds connections only) */
            return NULL;
        }
        st->last_conn = (tw_socket *)n;
    }
    return n;
}

/* A CE-marked segment (RFC 3168 5; stack.h rx_ce) for connection c, before its steps:
   data the window takes on an ECN connection makes the receiver echo ECE until a CWR
   (6.1.3). Before the steps, so that the ACK they send carries it; as Linux, only for
   data (tcp_ecn_check_ce from tcp_event_data_recv and the out-of-order queue). */
static __attribute__((noinline, cold)) void in_ce(tw_socket *c, const tw_seg *s)
{
    if (tw_ecn_ok(c) && s->data_len && synced_rcv_state(c) &&
        seq_acceptable(c, s->seq, s->data_len, s->flags)) {
        tw_ecn_rx(c, s->flags, true);
    }
}

void tw_tcp_input(tw_stack *st, const tw_tcp_hdr *h, uint32_t src)
{
    tw_seg s;
    uint64_t ack_seq;
    const uint32_t as[2] = {h->ack, h->seq}; /* (seg_init's order) */
    memcpy(&ack_seq, as, 8);
    seg_init(&s, st, h, src, (uint32_t)h->sport << 16 | h->dport, ack_seq, h->flags, h->payload_len,
             true);
    s.h = h;
    s.raddr = src;
    s.data = h->payload;
    uint64_t key = tw_tuple_key(src, h->sport, h->dport);
    tw_hnode *rq;
    tw_hnode *n = conn_find(st, &s, key, &rq, false);
    if (__builtin_expect(st->rx_ce, 0) && n) {
        in_ce((tw_socket *)n, &s);
    }
    input_demux(st, &s, key, n, rq);
}

/* The usual packet's checksum ended with its payload's sum (`sum`: the headers' and the
   pseudo-header's, tw_tcp_parse_usual_part), and the payload noted for the steps that
   read it; false for a bad sum. In line for both of input_unsummed's ways (a segment of
   no connection, a known connection's that header prediction does not take). */
static inline __attribute__((always_inline)) bool usual_sum_ok(tw_stack *st, tw_seg *s,
                                                               const tw_tcp_usual *u,
                                                               uint64_t sum)
{
    if (u->payload_len) {
        sum = tw_cksum_native_short(sum, u->payload, u->payload_len);
        s->data = u->payload;
    }
    if (!tw_cksum_native_ok_nz(sum)) {
        return false;
    }
    tw_count(st, TW_CNT_TCP_RX_SEGMENTS);
    return true;
}

/* tw_ipv4_bad_source for the source of a SYN of no connection: the peer hashed last
   (st->good_peer, isn_mid_peer's) passed that test (tcp_conn.c tw_tuple_hash_new_peer:
   each peer hashed is a segment's source or connect's address, both asked it, and our
   address does not change; an AES-NI stack's first peer, TW_ISN_FIRST_PEER, is a good
   address), so for that peer, most often the one whose SYNs come again, nothing is
   asked (without AES-NI no peer is kept: TW_GOOD_PEER_NONE, which no source is). */
static inline __attribute__((always_inline)) bool syn_bad_source(const tw_stack *st,
                                                                 uint32_t src)
{
    assert(st->good_peer == TW_GOOD_PEER_NONE || st->good_peer <= UINT32_MAX);
    if ((uint64_t)src == st->good_peer) {
        assert(!tw_ipv4_bad_source(src, st->cfg.addr));
        return false;
    }
    return tw_ipv4_bad_source(src, st->cfg.addr);
}

/* tw_cksum_copy_words64 for 64 bytes (the usual answer's payload, placed in a receive
   ring's first block as it is summed): on a machine with AVX2 (the stack's copy_narrow
   clear, as socket.c's call_gate asks it) the copy as two 32-byte moves
   (copy.h tw_copy_wide64), where it took four 16-byte ones, the sum as there (the same
   chain over the same eight words); else tw_cksum_copy_words64's own. (The byte's test
   and five steps where the 16-byte moves took eight: measured, lifecycle -2 instr, the
   request's copy into its child's block and the answer's into its ring's.) */
static inline __attribute__((always_inline)) uint64_t copy_sum64(const tw_stack *st,
                                                                 uint8_t *dst,
                                                                 const uint8_t *src,
                                                                 uint64_t sum)
{
#if TW_COPY_WIDE
    if (__builtin_expect(!st->copy_narrow, 1)) {
        tw_copy_wide64(dst, src);
        return tw_cksum_chain(sum, src, 8, 0);
    }
#else
    (void)st;
#endif
    return tw_cksum_copy_words64(dst, src, 64, sum);
}

/* `h` holds only what tw_tcp_parse_usual_part puts there; the rest is in `u`, but for
   the flags and the payload's length, which it puts in `s`. The ports join `h` for
   input_demux's steps, the only ones that read them there (in_conn's, for a known
   connection, do not). */
static inline __attribute__((always_inline)) bool input_unsummed(tw_stack *st, tw_tcp_hdr *h,
                                                                 const tw_tcp_usual *u, tw_seg *s,
                                                                 usual_end *end)
{
    uint64_t key = u->key; /* tw_tuple_key */
    uint64_t sum = u->tcp_sum;
    /* (its flags and payload length: there already, the parse put them there) */
    seg_init(s, st, h, (uint32_t)(key >> 32), (uint32_t)key, u->ack_seq, s->flags, s->data_len,
             false);
    tw_hnode *rq;
    tw_hnode *n = conn_find(st, s, key, &rq, true);
    tw_socket *c = (tw_socket *)n;
    /* RFC 1122 3.2.1.3 and the zero ports, the tests tw_tcp_parse_usual_part leaves out.
       A connection's peer passed the first when the connection was made (a SYN's source
       here, connect's address there: connect refuses the same addresses), and its key
       holds its two ports, never 0 (a SYN from port 0 is dropped, connect refuses port 0,
       a local port is never 0): so only a packet the table does not know is asked (our
       address never changes). The same holds for a SYN queue entry's (made from a SYN
       that passed them: in_listen), looked up here for that, before input_demux_in's
       steps, which take its answer (the third segment of every passive open). */
    /* (marked unlikely: the segments of no connection, a SYN and a passive open's third,
       are the fewer; only the layout depends on it) */
    if (__builtin_expect(!n, 0)) {
        /* Their steps to the end here, apart from a known connection's: those then do
           not ask again which of the two it is (measured: lifecycle -18 instr). */
        if (rq) {
            /* A SYN queue entry's (the third segment of a passive open): its steps read
               no ports from the header (the entry's key has them: req_checks' reset,
               and the connection's for in_promoted's steps, as for a known
               connection's segment), so they are not stored. */
            tw_reqsk *r = (tw_reqsk *)rq;
            uint8_t *blk = NULL;
            uint32_t plen = s->data_len;
            /* (4 to 128 bytes in whole words in one test: plen - 4 has no bit outside
               those of 124 -- 0 wraps to a large value) */
            /* (64 bytes, a request's usual size, asked first: tw_cksum_copy_words64's own
               first test, which GCC then leaves out on that way, and the bits' test not
               asked for it; measured: lifecycle -5 instr with the same below) */
            /* (the connection free list's first object, which the child takes, its receive
               block kept: tcp_conn.h tw_conn_rings_kept) */
            const tw_socket *nc = st->mem.cache[TW_MC_CONN].head;
            if ((plen == 64 || ((plen - 4u) & ~124u) == 0) && nc && nc->rcv.cap) {
                /* Text (a request), which the connection's ring takes in its first block
                   (third_ack): the parked receive block of the object the child takes,
                   the text copied to its front with the checksum summed in the same pass
                   (as header prediction's first data); a wrong one leaves the block as
                   it was, and so does whatever takes the segment other than third_ack
                   (third_blk_back), as third_ack does for a buffer smaller than a block
                   (the rare listener's: asked there, not here). (Without such a block,
                   the text is summed first and third_ack takes one from the free list.) */
                blk = nc->rcv.buf;
                /* (64 bytes, a request's usual size, with the first answer's copy below,
                   copy_sum64) */
                sum = __builtin_expect(plen == 64, 1)
                          ? copy_sum64(st, blk, u->payload, sum)
                          : tw_cksum_copy_words64(blk, u->payload, plen, sum);
                if (!tw_cksum_native_ok_nz(sum)) {
                    /* (out of line: in line, the free list's address for its slow
                       path's call was made on the usual way too; measured: lifecycle
                       -1 instr) */
                    third_blk_back(st, blk);
                    return false;
                }
                tw_count(st, TW_CNT_TCP_RX_SEGMENTS);
                s->data = u->payload;
            } else if (!usual_sum_ok(st, s, u, sum)) {
                return false;
            }
            /* input_demux_in's steps for it, the flags asked there (req_input, which sets
               s->h where it is read) */
            assert(tw_timewait_find(st, key) == NULL);
            return req_input(st, r, s, h, false, blk);
        }
        /* A SYN alone (no RST, ACK or FIN), the usual segment here (a passive open's
           first), takes the steps below; the others of no connection and no entry (an
           ACK or RST to a TIME-WAIT record or a closed port, a bad combination of flags
           the parse left to us, see below) the full parser's, with the same outcome:
           they are the fewer, and the SYN then asks neither the bad combinations nor,
           in in_listen, the flags again. */
        /* (a SYN with text too, rare, the same way: the full parser's steps, with the
           same outcome (S6: the text is not taken). The usual SYN then has none, whose
           sum usual_sum_ok and whose count in_listen (`syn_alone`) do not ask; measured:
           lifecycle -2 instr) */
        /* (and an ECN-setup SYN, ECE and CWR set (RFC 3168 6.1.1), rare too: the usual
           SYN has neither, whose test in_listen then does not make; measured: lifecycle
           -2 instr) */
        assert(u->payload_len == s->data_len);
        if ((s->flags & (TW_RST | TW_ACK | TW_SYN | TW_FIN | TW_ECE | TW_CWR)) != TW_SYN ||
            u->payload_len != 0) {
            return false;
        }
        assert(syn_alone_of(s));
        /* (seg_init: read only for no connection and no SYN queue entry) */
        s->raddr = (uint32_t)(key >> 32);
        /* (the source port's half of tw_tcp_usual_ports_bad: the destination port 0 is
           asked only where no listener is found, input_demux_in, as no listener has it) */
        if (syn_bad_source(st, s->raddr) || ((uint32_t)key >> 16) == 0) {
            return false;
        }
        if (!usual_sum_ok(st, s, u, sum)) {
            return false;
        }
        tw_tcp_usual_ports(h, (uint32_t)key);
        input_demux_in(st, s, h, key, NULL, NULL, false, true);
        return true;
    }
    /* SYN with FIN or RST, and no flag at all, go to the full parser (tw_tcp_parse drops
       them, counted): rare. The usual parse leaves the test to here, where header
       prediction's flags test (fast_ok: ACK, with at most PSH and FIN) already refuses
       every such segment, so that only the segments it does not take pay for it. */
    uint8_t grow = 0;
    if (fast_ok(c, s, h, &grow)) {
        assert(!tw_tcp_flags_bad(s->flags)); /* (see above) */
        /* (grow 2: the ring has no capacity, so no block either, tcp_conn.c ring_free, or
           a parked one, tcp_conn.h tw_conn_rings_kept) */
        assert(grow != 2 || c->rcv.cap == 0);
        if (grow == 2 && TW_MEM_RING_BLOCK <= c->rcvbuf_cap &&
            (c->rcv.buf || st->mem.cache[TW_MC_RING].head)) {
            /* The connection's first data (a client's first answer), its ring's first
               block on the free list (tw_conn_rcv_reserve's usual case): the block is
               taken and the payload copied to its front (a fresh ring is empty at head 0)
               with the checksum summed in the same pass, as tw_ring_write_sum does for a
               ring with room (up to 128 bytes, a request's or an answer's, in line:
               tw_cksum_copy_short); on a wrong checksum the block goes back as it came (the
               list's head again, its counts as they were), so that nothing has changed.
               (Measured: lifecycle -46 instr against summing first, then copying.) */
            tw_ring *r = &c->rcv;
            assert(r->len == 0 && r->head == 0);
            /* (its parked block, else the free list's) */
            bool parked = r->buf != NULL;
            if (!parked) {
                r->buf = tw_mem_take(&st->mem, TW_MC_RING, TW_MEM_RING_BLOCK);
            }
            r->cap = TW_MEM_RING_BLOCK;
            uint32_t plen = s->data_len;
            /* (4 to 128 bytes in whole words, an answer's usual size: tw_cksum_copy_words64's
               tests by the bits of the length, cheaper than tw_cksum_copy_short's jump) */
            /* (64 first, as for the third segment's text above) */
            /* (64 bytes marked expected, its copy with the length a constant: GCC then
               lays that copy in the way, where it put it out of it, behind a jump back
               to the test of the sum shared with the other lengths; measured:
               lifecycle -1 instr) */
            sum = __builtin_expect(plen == 64, 1)
                      ? copy_sum64(st, r->buf, u->payload, sum)
                  : ((plen - 4u) & ~124u) == 0
                      ? tw_cksum_copy_words64(r->buf, u->payload, plen, sum)
                  : plen <= 128 ? tw_cksum_copy_short(r->buf, u->payload, plen, sum)
                                : tw_cksum_copy_native(sum, r->buf, u->payload, plen);
            if (!tw_cksum_native_ok_nz(sum)) {
                if (!parked) {
                    tw_mem_give(&st->mem, TW_MC_RING, r->buf, TW_MEM_RING_BLOCK);
                    r->buf = NULL;
                }
                r->cap = 0; /* (a parked block parked again) */
                return false;
            }
            tw_count(st, TW_CNT_TCP_RX_SEGMENTS);
        } else if (grow) {
            /* The first data of a connection whose ring's block is not on the free list,
               or more than the ring holds: summed first, so that a wrong checksum changes
               nothing, then the ring, as input_demux's fast_ok would make it. */
            if (!tw_cksum_native_ok_nz(tw_cksum_native_short(sum, u->payload, s->data_len))) {
                return false;
            }
            tw_count(st, TW_CNT_TCP_RX_SEGMENTS);
            s->data = u->payload; /* (for input_demux's steps) */
            if (!tw_conn_rcv_reserve(c, c->rcv.len + s->data_len)) {
                tw_tcp_usual_ports(h, (uint32_t)key);
                s->h = h;
                input_demux(st, s, key, n, NULL); /* the full steps drop it (RX_NOMEM) */
                return true;
            }
            /* (placed here, as in the other cases: fast_do's steps below change nothing
               of the receive ring before they commit it) */
            tw_ring_write_at(&c->rcv, 0, u->payload, s->data_len);
        } else {
            if (s->data_len) {
                /* In-order data for a ring with room (and no out-of-order bytes after the
                   readable ones: fast_ok): the checksum is summed as the payload is copied
                   where it will be read from; a wrong one leaves the copy uncommitted. */
                if (!tw_cksum_native_ok_nz(
                        tw_ring_write_sum(&c->rcv, sum, u->payload, s->data_len))) {
                    return false;
                }
            } else {
                if (!tw_cksum_native_ok_nz(sum)) {
                    return false;
                }
                tw_count(st, TW_CNT_TCP_RX_SEGMENTS);
                /* A segment without text (a pure ACK, a FIN): fast_do's own copy, which
                   then asks no length again after the ACK's steps (`empty`), where the
                   one copy for both asked it a third time; measured: lifecycle -4 instr,
                   4,045.9 -> 4,041.9, the client's FIN; bulk -0.4 per KiB, a bulk
                   sender's ACKs) */
                fast_do(st, c, s, h, true, false, true);
                return true;
            }
            tw_count(st, TW_CNT_TCP_RX_SEGMENTS);
        }
        /* The same steps here as through input_demux (fast_ok has no side effect given
           `grow`): one inline copy of them, and no call for a bulk sender's ACKs. Any
           data is in the ring already, each case above having placed it (`placed`
           true: a constant, no flag kept across the steps; measured: lifecycle -10
           instr against a flag set per case). */
        fast_do(st, c, s, h, true, false, false);
        return true;
    }
    /* what input_demux does with it (fast_ok said no above), the flags asked there, its
       checksum asked there too (in_conn_sum) */
    return in_conn_sum(st, c, s, h, false, u, sum, end);
}

/* see tcpwave.h. The usual packet's gate, parse and input in one function: one frame and
   one call per packet (tcp_conn.h). */
int tw_stack_input(tw_stack *st, const uint8_t *pkt, size_t len, tw_time now)
{
    /* Both of the usual packet's length bounds in one unsigned compare (a short length
       wraps to a large `rest`): at least an IPv4 and a TCP header, which the usual parse
       then does not ask again (tw_tcp_parse_usual_part takes `rest`), and at most 65535.
       (len first, alone: GCC otherwise merges it and the pointer tests into flag
       arithmetic, more instructions for the call that passes them all) */
    /* (`len` is not read past this: the steps below take `rest`, and the cold ways make
       the length again from it, so that `rest` is made in len's own register with no
       copy) */
    size_t rest = len - (TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN);
    if (__builtin_expect(rest > 65535 - (TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN), 0)) {
        return tw_stack_input_odd_len(st, pkt, rest, now);
    }
    /* Both pointers' NULL tests in one: two pointers with no bit in common, which either
       being NULL makes so, take the length's cold way (tw_stack_input_odd_len), which asks
       each apart and refuses the misuse as here (tw_stack_input_refused), and takes two
       valid pointers that merely share no bit (in practice none: a stack's and a
       packet's addresses share their upper bits) through the full parsers and steps, a
       traced stack's, with the same outcome (measured: lifecycle -14 instr against the
       two tests). */
    if (__builtin_expect(((uintptr_t)st & (uintptr_t)pkt) == 0, 0)) {
        return tw_stack_input_odd_len(st, pkt, rest, now);
    }
    assert(st != NULL && pkt != NULL);
    /* call_free and traced, adjacent bytes, asked in one step (measured: lifecycle -19
       instr, 6,674 -> 6,655, against the usual packet's function asking cfg.trace
       itself) that also takes the call: the two as a 16-bit word, less 1, are 0 only for
       (1, 0), a free untraced stack, which that leaves as (0, 0), in its call (stack.h);
       any other word goes to tw_stack_input_gated, which adds the 1 back first. */
    _Static_assert(offsetof(tw_stack, traced) == offsetof(tw_stack, call_free) + 1, "gate");
    bool gated;
#if TW_ASM_X86_FLAGS
    /* (one subw on memory, its zero flag the answer: GCC made a load, a subtraction, a
       store and a test of the C form. The two bytes as the operands, as socket.c
       guard_take's: a 16-bit word of may_alias type GCC takes as a write that may change
       anything) */
    __asm__("subw $1, %0" : "+m"(st->call_free), "+m"(st->traced), "=@ccnz"(gated));
#else
    uint16_t gate;
    memcpy(&gate, &st->call_free, 2);
    gate = (uint16_t)(gate - 1u);
    memcpy(&st->call_free, &gate, 2);
    gated = gate != 0;
#endif
    if (__builtin_expect(gated, 0)) {
        return tw_stack_input_gated(st, pkt, rest, now);
    }
    assert(!st->call_free && !st->traced);
    if (__builtin_expect(now != st->now, 0)) {
        tw_stack_input_moved(st, pkt, rest, now);
    }
    /* IP_RX_PACKETS is not counted here: every packet taken in this far is counted once
       further on, as a TCP segment (TCP_RX_SEGMENTS) or, if not one, in IP_RX_PACKETS' own
       count (input_checked); tw_stack_counter adds the two. One increment per packet. */
    usual_end end = {NULL, USUAL_END_NONE}; /* (closing_ack_last's, below) */
    /* The segment's locals in a block of their own, which ends before the two calls
       that end a connection's closing ACK (LAST-ACK's free, the TIME-WAIT record's
       making, both left here by closing_ack_last, `end`): GCC makes a call a tail call
       only when no local whose address was taken can still be in use, and takes them
       as in use to the end of their scope (measured: lifecycle -2 instr each). */
    {
        tw_tcp_hdr h; /* only win and o are written (tw_tcp_parse_usual_part) */
        tw_tcp_usual u;
        tw_seg s; /* (its flags and data_len written by the parse: input_unsummed) */
        /* A traced stack's packets take the full parsers and steps (the same outcome, and
           they trace: tw_stack_input sends them there), so the usual steps here are
           compiled without their trace tests (`may_trace` false). */
        assert(!st->cfg.trace && !st->traced);
        assert(rest <= 65535 - (TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN));
        _Static_assert(offsetof(tw_seg, flags) == offsetof(tw_seg, doff_raw) + 1, "doff, flags");
        if (!tw_tcp_parse_usual_part(&h, &u, pkt, &rest, &st->addr_net, &s.doff_raw, &s.data_len)) {
            return tw_stack_input_slow(st, pkt, rest + (TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN));
        }
        if (!input_unsummed(st, &h, &u, &s, &end)) {
            /* The packet found again from its parse, up to its IPv4 total length: the full
               parsers read nothing after it (link padding), and `pkt` and `len` need no
               registers of their own through the usual steps. */
            uint32_t ip_tcp = TW_IPV4_HDR_LEN + tw_tcp_doff_len(s.doff_raw);
            return tw_stack_input_slow(st, u.payload - ip_tcp, ip_tcp + u.payload_len);
        }
    }
    if (end.kind == USUAL_END_FREE) {
        return tw_conn_free_orphan_found_leave(st, end.c);
    }
    if (end.kind == USUAL_END_TW) {
        return tw_timewait_make_found_ack_leave(end.c, st);
    }
    st->call_free = true;
    return 0;
}

/* ---- ICMP errors (RFC 1122 4.2.3.9, RFC 5927, RFC 1191) ---- */

/* The error an ICMP message reports, as Linux's tcp_v4_err gives it: Destination
   Unreachable by its code (icmp_err_convert: the net codes network unreachable, port
   unreachable refused, protocol unreachable ENOPROTOOPT, source route failed
   EOPNOTSUPP, host unknown EHOSTDOWN, source host isolated ENONET, the rest host
   unreachable), Time Exceeded host unreachable, Parameter Problem a protocol error. */
static int icmp_err_of(uint8_t type, uint8_t code)
{
    if (type == TW_ICMP_TIME_EXCEEDED) {
        return TW_ERR_HOSTUNREACH;
    }
    if (type == TW_ICMP_PARAM_PROBLEM) {
        return TW_ERR_PROTO;
    }
    switch (code) {
    case 0:
    case 6:
    case 9:
    case 11:
        return TW_ERR_NETUNREACH;
    case 2:
        return TW_ERR_NOPROTOOPT;
    case 3:
        return TW_ERR_REFUSED;
    case 5:
        return TW_ERR_OPNOTSUPP;
    case 7:
        return TW_ERR_HOSTDOWN;
    case 8:
        return TW_ERR_NONET;
    default:
        return TW_ERR_HOSTUNREACH;
    }
}

/* RFC 1191 5 and 7: a "fragmentation needed" from a router older than RFC 1191 has 0 in
   the Next-Hop MTU field; the path MTU is then taken as the largest plateau of 7's table
   below the quoted datagram's Total Length. 4.2BSD-derived routers return that length
   with the header length added, so a length not below our current estimate `est` is
   first reduced by the quoted header's length (RFC 1191 5, Note). */
static __attribute__((noinline, cold)) uint32_t icmp_plateau_mtu(const tw_icmp_quote *q,
                                                                   uint32_t est)
{
    static const uint16_t plateaus[] = {32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296};
    uint32_t tl = q->tot_len;
    if (tl >= est) {
        tl = tl > q->ihl ? tl - q->ihl : 0;
    }
    for (size_t i = 0; i < sizeof(plateaus) / sizeof(plateaus[0]); i++) {
        if (plateaus[i] < tl) {
            return plateaus[i];
        }
    }
    return 68; /* (RFC 791's minimum; the caller's floor is higher) */
}

/* RFC 1191 6.3: a path MTU learnt is kept per destination (Linux: the route's PMTU
   exception) for TW_PMTU_LIFE, so that the next connection to that address starts with
   segments that fit (tw_pmtu_clamp) instead of losing its first full one again. A slot
   of the address, or a free one, or else the one nearest its end (expired ones first),
   takes it; never raised by a message (RFC 1191 3), only by the end of its time (6.3's
   aging). The peer's MSS of a connection to it is capped so (tw_peer_mss_slow). */
static __attribute__((noinline, cold)) void tw_pmtu_learn(tw_stack *st, uint32_t addr,
                                                          uint32_t mtu)
{
    size_t pick = TW_PMTU_SLOTS;
    for (size_t i = 0; i < st->pmtu_n; i++) {
        if (st->pmtu[i].addr == addr) {
            if (tw_time_reached(st->pmtu[i].expires, st->now) || mtu < st->pmtu[i].mtu) {
                st->pmtu[i].mtu = mtu;
            }
            st->pmtu[i].expires = tw_time_add(st->now, TW_PMTU_LIFE);
            return;
        }
        if (pick == TW_PMTU_SLOTS || st->pmtu[i].expires < st->pmtu[pick].expires) {
            pick = i; /* (the one nearest its end, expired ones first) */
        }
    }
    if (st->pmtu_n < TW_PMTU_SLOTS) {
        pick = st->pmtu_n++;
    }
    st->mss_slow = 65535; /* (every SYN's MSS now asks tw_peer_mss_slow) */
    st->pmtu[pick].addr = addr;
    st->pmtu[pick].mtu = mtu;
    st->pmtu[pick].expires = tw_time_add(st->now, TW_PMTU_LIFE);
}

uint16_t tw_peer_mss_slow(tw_stack *st, uint32_t addr, uint16_t pm)
{
    if (pm < TW_PEER_MSS_MIN) {
        pm = pm ? TW_PEER_MSS_MIN : 536;
    }
    size_t i = 0;
    while (i < st->pmtu_n) {
        if (tw_time_reached(st->pmtu[i].expires, st->now)) {
            /* aged out (RFC 1191 6.3): the slot goes, the last one moved into it */
            st->pmtu[i] = st->pmtu[--st->pmtu_n];
            continue;
        }
        if (st->pmtu[i].addr == addr) {
            uint32_t cap = st->pmtu[i].mtu - 40u;
            return cap < pm ? (uint16_t)cap : pm;
        }
        i++;
    }
    if (st->pmtu_n == 0) {
        st->mss_slow = TW_PEER_MSS_MIN; /* (all aged out: the usual test again) */
    }
    return pm;
}

/* Fragmentation needed (RFC 1191): lower the MSS to the next-hop MTU (not below Linux's
   floor, a path MTU of 552; RFC 1191 3: never below 68, never raised by the message) and,
   once synchronized, send what is in flight again at once in the new size (Linux:
   tcp_v4_mtu_reduced, tcp_simple_retransmit; cwnd unchanged, the rest follows by the
   usual recovery). Linux resends only the segments larger than the new MSS: a flight no
   larger than it held none, and nothing is sent again. */
static __attribute__((noinline, cold)) void icmp_frag_needed(tw_stack *st, tw_socket *c,
                                                             const tw_icmp_quote *q)
{
    uint32_t opt = (c->flags & TW_F_TS) ? 12u : 0u;
    uint32_t pmtu = q->mtu ? q->mtu : icmp_plateau_mtu(q, c->snd_mss + 40u + opt);
    if (pmtu < 552) {
        pmtu = 552;
    }
    uint32_t mss = pmtu - 40u - opt;
    tw_count(st, TW_CNT_ICMP_RX_FRAG_NEEDED);
    tw_pmtu_learn(st, c->raddr, pmtu);
    if (c->state == TW_STATE_SYN_SENT) {
        /* No segment size yet (the SYN+ACK's MSS option sets it): the estimate is kept
           in local_mss, which tw_conn_apply_peer_syn takes the peer's MSS against and a
           SYN sent again offers, as Linux's route keeps the path MTU that
           tcp_finish_connect's tcp_sync_mss and tcp_advertise_mss read. */
        if (mss < c->local_mss) {
            c->local_mss = (uint16_t)mss;
        }
        if ((c->flags & TW_F_EXTRAS) && tw_tfo_syn_frag_needed(c)) {
            /* a Fast Open SYN with data, too large for the path (RFC 1191; RFC 7413
               4.2.2): the SYN again at once, without the data and offering the new
               size, as Linux (tcp_simple_retransmit) */
            c->total_retrans++;
            tw_out_syn(c, true);
        }
        return;
    }
    if (mss >= c->snd_mss) {
        return;
    }
    c->snd_mss = (uint16_t)mss;
    if (c->state != TW_STATE_SYN_RCVD && c->snd_max.v - c->snd_una.v > mss) {
        /* What is in flight may have been too large: send it again from SND.UNA in the
           new size, as the window allows, in the Loss state without a cwnd cut (Linux:
           tcp_simple_retransmit marks it lost, keeps cwnd, enters Loss). */
        c->ca_state = TW_CA_LOSS;
        c->recover = c->snd_max;
        c->dupacks = 0;
        c->snd_nxt = c->snd_una;
        c->high_rxt = c->snd_una;
        c->flags &= ~TW_F_RTT_TIMING; /* Karn */
        tw_out_push(c);
    }
}

/* An ICMP error about the SYN+ACK of a half-open entry (reqsk.h), as Linux's tcp_req_err:
   RFC 5927 4.1's check is that the quoted sequence number is the entry's ISS (the one
   octet in flight); then net or host unreachable, Time Exceeded and Parameter Problem
   drop the entry (no application holds it to be told), the rest are ignored. */
static __attribute__((noinline, cold)) void icmp_req(tw_stack *st, tw_reqsk *r,
                                                     const tw_icmp_quote *q)
{
    if (q->seq != r->iss) {
        tw_drop(st, TW_CNT_ICMP_RX_TCP_OUT_OF_WINDOW, NULL, NULL);
        return;
    }
    if (q->type == TW_ICMP_TIME_EXCEEDED || q->type == TW_ICMP_PARAM_PROBLEM ||
        (q->type == TW_ICMP_DEST_UNREACH && q->code <= 1)) {
        tw_count(st, TW_CNT_ICMP_RX_TCP_REQ_DROPPED);
        req_end(st, r);
        return;
    }
    tw_drop(st, TW_CNT_ICMP_RX_IGNORED, NULL, NULL);
}

/* An ICMP error message about one of our segments. RFC 1122 4.2.3.9: TCP MUST act on it.
   RFC 5927 4.1 (and Linux's tcp_v4_err): only if the quoted sequence number lies in
   SND.UNA..SND.NXT, so that a blind attacker cannot use it. Then, as Linux:
   - Source Quench is ignored (RFC 6633: deprecated), Redirect too (a matter for routing);
   - Destination Unreachable code 4, fragmentation needed: icmp_frag_needed (RFC 1191);
   - any other Destination Unreachable, Time Exceeded or Parameter Problem in SYN-SENT
     or SYN-RECEIVED: the connection fails with the message's error (tcp_v4_err's
     tcp_done_with_error);
   - on a synchronized connection it is a soft error (RFC 1122 4.2.3.9: Destination
     Unreachable codes 0, 1, 5, Time Exceeded and Parameter Problem MUST NOT abort; RFC
     5461 treats the hard codes alike, as Linux does without IP_RECVERR): counted and kept
     until the next new ACK, to be the connection's error should it time out meanwhile
     (tw_conn_soft_err_set).
   A half-open entry of the SYN queue: icmp_req. TIME-WAIT and closed tuples: ignored. */
void tw_tcp_icmp_err(tw_stack *st, const tw_icmp_quote *q)
{
    uint64_t key = tw_tuple_key(q->raddr, q->rport, q->lport);
    tw_hnode *n = tw_htab_find(&st->conns, key);
    if (n && tw_hnode_is_req(n)) {
        icmp_req(st, (tw_reqsk *)n, q);
        return;
    }
    tw_socket *c = (tw_socket *)n;
    if (!c || c->state == TW_STATE_LISTEN || c->state == TW_STATE_CLOSED ||
        c->state == TW_STATE_TIME_WAIT || (q->type == TW_ICMP_DEST_UNREACH && q->code > 15)) {
        tw_drop(st, TW_CNT_ICMP_RX_TCP_NO_CONN, NULL, NULL);
        return;
    }
    tw_seq seq = {q->seq};
    if (tw_seq_lt(seq, c->snd_una) || tw_seq_gt(seq, c->snd_max)) {
        tw_drop(st, TW_CNT_ICMP_RX_TCP_OUT_OF_WINDOW, NULL, c);
        return;
    }
    if (q->type == TW_ICMP_SOURCE_QUENCH || q->type == TW_ICMP_REDIRECT) {
        tw_drop(st, TW_CNT_ICMP_RX_IGNORED, NULL, c);
        return;
    }
    if (q->type == TW_ICMP_DEST_UNREACH && q->code == 4) {
        icmp_frag_needed(st, c, q);
        return;
    }
    int err = icmp_err_of(q->type, q->code);
    if (c->state == TW_STATE_SYN_SENT || c->state == TW_STATE_SYN_RCVD) {
        tw_count(st, TW_CNT_ICMP_RX_TCP_ABORT);
        tw_conn_done(c, err);
        return;
    }
    tw_count(st, TW_CNT_ICMP_RX_TCP_SOFT_ERROR);
    tw_conn_soft_err_set(c, err); /* (Linux: sk->sk_err_soft) */
}
