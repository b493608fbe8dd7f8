/*
 * tcp_out.c -- what to send now, and building segments (RFC 9293 3.10.4-3.10.5 for the
 * SEND side, 3.8 for windows).
 *
 * Every segment is handed to the netdev synchronously and output allocates nothing. A
 * payload that lies in one piece of the send ring goes out where it lies, its headers
 * written over the (saved) bytes in front of it; anything else is built in the stack's
 * one transmit buffer. Full-sized data segments (push_full) and segments without SYN or
 * SACK blocks (emit_plain, which pure ACKs take through ack_fast) have shorter builders
 * that put the same bytes on the wire as emit()'s general builder (out_words).
 */
#include "core/arch.h"
#include "core/ecn.h"
#include "core/fastopen.h"
#include "core/tcp_conn.h"
#include "core/conn_free.h"
#include "core/reqsk.h"
#include "core/cksum.h"
#include "core/ipv4.h"
#include "core/wr.h"

#include <assert.h>
#include <string.h>

static bool synchronized(const tw_socket *c)
{
    return c->state >= TW_STATE_ESTABLISHED && c->state != TW_STATE_CLOSED;
}

/* adv_window's receiver SWS avoidance for a space below one MSS (rare: a full buffer).
   The step is min(half the buffer, one MSS); below it the right edge stays. */
static __attribute__((noinline, cold)) uint32_t sws_space(const tw_socket *c, uint32_t space)
{
    uint32_t step = c->rcvbuf_cap / 2 < c->local_mss ? c->rcvbuf_cap / 2 : c->local_mss;
    if (space < step) {
        int32_t open = tw_seq_diff(c->rcv_adv, c->rcv_nxt);
        uint32_t cur = open > 0 ? (uint32_t)open : 0;
        space = cur < space ? cur : space;
    }
    /* A space below one unit of the window scale would be scaled away to a window of 0
       for good (a buffer smaller than 1 << rcv_wscale, and neither end could send
       again); one unit is offered instead, as Linux's __tcp_select_window aligns the
       window up to the scale ("so that it won't get scaled away"). Only a buffer the
       application lowered under a running connection is that small (the default one is
       at least a unit: tw_stack_new), and it keeps what it offers: a lowered buffer's
       space covers the edge advertised (tw_conn_rcv_space_rare). A larger buffer whose
       space fell below a unit is the SWS case above, where the window stays shut until
       a step's worth is free (RFC 9293 3.8.6.2.2; Linux's free_space < mss gives 0 there
       too). */
    uint32_t unit = 1u << c->rcv_wscale;
    if (space && c->rcvbuf_cap < unit) {
        space = unit;
    }
    return space;
}

/* adv_window_rn's window field for a space below one MSS, out of line: sws_space's
   space, then the field and the right edge it advertises. */
static __attribute__((noinline, cold)) uint16_t sws_window(tw_socket *c, uint32_t space,
                                                          tw_seq rn)
{
    space = sws_space(c, space);
    uint32_t win = space >> c->rcv_wscale;
    if (win == 0 && !(c->flags & TW_F_BUF_LOWERED)) {
        /* Less than a unit goes out as a window field of 0 (RFC 7323 2.3: the field is
           the window shifted down), and the peer takes the window as shut: the right
           edge it knows is RCV.NXT, whatever rcv_adv says of an edge offered before (RFC
           7323 2.4: the scale's rounding can take it back by less than a unit). Noted
           so, the read that frees a step's worth owes the window update
           (window_update_due_in, socket.c); left at the old edge, a read of less than the
           step after it sent nothing, and only the peer's zero-window probes, backing
           off, reopened the window (stall49 sweep: sim --set sndbuf=33 --set
           rcvbuf=100, a 128-byte buffer that received 33 bytes at a time: 0.7 s for each
           once the reader had nothing to send). The space still covers the old edge
           (RCV.NXT + space never moves left), so nothing sent up to it is refused. A
           lowered buffer keeps its edge: its space is that promise. */
        c->rcv_adv = rn;
        return 0;
    }
    /* (below one MSS: far below the field's 65535 units) */
    tw_seq edge = tw_seq_add(rn, win << c->rcv_wscale);
    if (tw_seq_gt(edge, c->rcv_adv)) {
        c->rcv_adv = edge;
    }
    return (uint16_t)win;
}

/* The window field to send, and the right edge it advertises (RFC 9293 3.8.6.2.2 asks
   not to move the right edge left; rounding by the scale can do so by less than one
   unit, which the acceptance test tolerates because it uses the real buffer space). */
/* tw_conn_rcv_space with tw_conn_rcv_space_rare's steps (a buffer limit lowered: the
   window already promised stays offered) written in, without its call, for tw_out_syn:
   it then keeps nothing across a call before the netdev's (asserted the same). */
static inline __attribute__((always_inline)) uint32_t rcv_space_nocall(const tw_socket *c,
                                                                       bool fresh)
{
    /* fresh: connect's socket, which has received nothing, and which neither a shutdown
       (refused in CLOSED) nor a lowered buffer (only on a socket that was started,
       socket.c tw_socket_set_bufsizes) has marked: connect takes only a fresh socket */
    assert(!fresh || (c->rcv.len == 0 && !(c->flags & (TW_F_SHUT_RD | TW_F_BUF_LOWERED))));
    if (fresh) {
        assert(c->rcvbuf_cap == tw_conn_rcv_space(c));
        return c->rcvbuf_cap;
    }
    uint32_t space;
    if (c->flags & (TW_F_SHUT_RD | TW_F_BUF_LOWERED)) {
        if ((c->flags & TW_F_SHUT_RD) && !tw_conn_rd_keep(c)) {
            space = c->rcvbuf_cap;
        } else if (!(c->flags & TW_F_BUF_LOWERED)) {
            space = c->rcvbuf_cap - c->rcv.len; /* (a read side shut that keeps receiving) */
        } else {
            space = c->rcv.len < c->rcvbuf_cap ? c->rcvbuf_cap - c->rcv.len : 0;
            int32_t open = tw_seq_diff(c->rcv_adv, c->rcv_nxt);
            if (open > 0 && (uint32_t)open > space) {
                space = (uint32_t)open;
            }
        }
    } else {
        space = c->rcvbuf_cap - c->rcv.len;
    }
    assert(space == tw_conn_rcv_space(c));
    return space;
}

/* adv_window given the space (tw_conn_rcv_space) and RCV.NXT (`rn`), for a caller that
   has them. */
static inline __attribute__((always_inline)) uint16_t adv_window_rn_as(tw_socket *c, bool syn,
                                                                       uint32_t space, tw_seq rn,
                                                                       bool edge_at_rn)
{
    assert(tw_seq_eq(rn, c->rcv_nxt));
    assert(space == tw_conn_rcv_space(c));
    uint32_t win;
    if (syn) {
        win = space > 65535u ? 65535u : space; /* RFC 7323 2.2: never scaled on SYN */
    } else {
        /* RFC 9293 3.8.6.2.2 (MUST-39), RFC 1122 4.2.3.3: receiver SWS avoidance. A
           window below min(half the buffer, one MSS) is silly: the right edge stays
           where it is (0 after a closed window) rather than open by a few bytes, as in
           BSD's tcp_output; window_update_due_in (socket.c) decides on updates. */
        if (__builtin_expect(space < c->local_mss, 0)) {
            return sws_window(c, space, rn); /* (step <= local_mss: the usual space passes) */
        }
        win = space >> c->rcv_wscale;
        if (win > 65535u) {
            win = 65535u;
        }
        tw_seq edge = tw_seq_add(rn, win << c->rcv_wscale);
        /* (edge_at_rn: the caller knows the edge advertised is RCV.NXT, which the new one
           never falls below) */
        assert(!edge_at_rn || tw_seq_eq(c->rcv_adv, rn));
        if (edge_at_rn || tw_seq_gt(edge, c->rcv_adv)) {
            c->rcv_adv = edge;
        }
    }
    return (uint16_t)win;
}

static inline __attribute__((always_inline)) uint16_t adv_window_rn(tw_socket *c, bool syn,
                                                                    uint32_t space, tw_seq rn)
{
    return adv_window_rn_as(c, syn, space, rn, false);
}

/* adv_window_rn with RCV.NXT read here. */
static inline __attribute__((always_inline)) uint16_t adv_window_of(tw_socket *c, bool syn,
                                                                    uint32_t space)
{
    return adv_window_rn(c, syn, space, c->rcv_nxt);
}

/* tw_conn_rcv_space with its usual case (neither side shut nor a limit lowered) marked
   likely: GCC laid it out of line, with a jump back. */
static inline __attribute__((always_inline)) uint32_t rcv_space_usual(const tw_socket *c)
{
    return __builtin_expect(!(c->flags & (TW_F_SHUT_RD | TW_F_BUF_LOWERED)), 1)
               ? c->rcvbuf_cap - c->rcv.len
               : tw_conn_rcv_space(c);
}

static inline __attribute__((always_inline)) uint16_t adv_window(tw_socket *c, bool syn)
{
    return adv_window_of(c, syn, rcv_space_usual(c));
}

static void trace_out(tw_stack *st, const tw_socket *c, const tw_tcp_hdr *h, bool retrans,
                      uint32_t raddr, const tw_trace_id *tid, uint8_t ip_ecn)
{
    if (!st->cfg.trace) {
        return;
    }
    tw_seg_summary sum;
    tw_conn_fill_summary(&sum, h, st->cfg.addr, raddr);
    sum.retransmit = retrans;
    sum.ip_ecn = ip_ecn;
    if (tid) {
        tw_trace_id_event(st, TW_TRACE_SEG_OUT, tid, &sum, tid->state);
    } else {
        tw_trace_conn(st, TW_TRACE_SEG_OUT, c, &sum, TW_STATE_CLOSED);
    }
}

void tw_trace_id_emit(tw_stack *st, tw_trace_kind kind, const tw_trace_id *id,
                      const tw_seg_summary *seg, tw_state old_state)
{
    tw_trace_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    ev.now = st->now;
    ev.conn_id = id->conn_id;
    ev.old_state = kind == TW_TRACE_STATE ? old_state : id->state;
    ev.new_state = id->state;
    ev.iss = id->iss;
    ev.irs = id->irs;
    ev.counter = TW_CNT_COUNT_;
    if (kind == TW_TRACE_TIMER) {
        ev.timer = TW_TIMER_RTO;
    }
    if (seg) {
        ev.seg = *seg;
    }
    st->cfg.trace(&ev, st->cfg.trace_ud);
}

#define HDR_ROOM TW_SND_HDR_ROOM /* (tcp_conn.h) */

/* Whether an ACK sent now carries SACK blocks (RFC 2018 4, RFC 2883): SACK in use, and a
   D-SACK to report, out-of-order data held or a FIN held beyond a hole (its sequence
   number is reported as Linux reports it, tcp_sack_blocks' TW_F_OOO_FIN). The usual
   case, none, is one test of c->flags (TW_F_HOLES mirrors c->ooo->n != 0). The rest
   asks the record again although the flag has answered: GCC then lays push_now out 2
   instructions shorter (measured). */
#define SACK_DUE_FLAGS (TW_F_DSACK | TW_F_HOLES | TW_F_OOO_FIN)
static inline bool sack_blocks_due(const tw_socket *c)
{
    assert(!(c->flags & TW_F_HOLES) == !(c->ooo && c->ooo->n));
    if (__builtin_expect(!(c->flags & SACK_DUE_FLAGS), 1)) {
        return false;
    }
    return (c->flags & TW_F_SACK) && ((c->flags & (TW_F_DSACK | TW_F_OOO_FIN)) || c->ooo->n);
}

static uint32_t load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* A segment about to leave carries the ACK of everything received: nothing is owed any
   more, and the delayed-ACK timer is disarmed so the host is not woken for nothing. `rn`
   is RCV.NXT, for a caller that has it (push_last_send). */
static inline __attribute__((always_inline)) void ack_carried_rn_set_as(tw_socket *c, tw_seq rn,
                                                                        uint32_t set,
                                                                        bool no_dack,
                                                                        bool held)
{
    assert(tw_seq_eq(rn, c->rcv_nxt));
    c->last_ack_sent = rn;
    /* held: tw_out_push_now_held's, whose caller (tcp_in.c, SYN-SENT's ACK of our SYN)
       has just set TW_F_ACK_LAZY for the ACK of the SYN+ACK, with TW_F_ACK_NOW clear and
       the SYN's timing ended: the flags' changes are one flip of their bits; and nothing
       was received in SYN-SENT (a SYN+ACK's data is not taken, S6), while only data
       counts in delack_bytes (tcp_in.c ack_policy_as): it is 0 already. */
    if (held) {
        assert((c->flags & (TW_F_ACK_NOW | TW_F_ACK_LAZY)) == TW_F_ACK_LAZY &&
               !(c->flags & set) && c->delack_bytes == 0);
        c->flags ^= TW_F_ACK_LAZY | set;
    } else {
        c->flags = (c->flags & ~(TW_F_ACK_NOW | TW_F_ACK_LAZY)) | set;
        c->delack_bytes = 0;
    }
    /* (no_dack: the caller knows no delayed-ACK timer runs) */
    assert(!no_dack || c->dack_at == TW_TIME_NEVER);
    if (!no_dack && c->dack_at != TW_TIME_NEVER) {
        tw_conn_dack_stop(c);
    }
}

static inline void ack_carried_rn_set(tw_socket *c, tw_seq rn, uint32_t set)
{
    ack_carried_rn_set_as(c, rn, set, false, false);
}

static inline void ack_carried_rn(tw_socket *c, tw_seq rn)
{
    ack_carried_rn_set(c, rn, 0);
}

static inline void ack_carried(tw_socket *c)
{
    ack_carried_rn(c, c->rcv_nxt);
}

/* The options of `o` as host-order 32-bit words, in tw_tcp_build_opts_any's layout
   (Linux's: SACK-permitted shares a word with the timestamp's kind and length) for the
   options a connection sends; returns the number of words (<= 10). */
static unsigned opt_words(const tw_tcp_opts *o, uint32_t *w)
{
    unsigned n = 0;
    if (o->present & TW_OPT_MSS) {
        w[n++] = 0x02040000u | o->mss; /* kind 2, length 4 */
    }
    if (o->present & TW_OPT_TS) {
        /* NOP, NOP or SACK-permitted (kind 4, length 2); then kind 8, length 10. */
        w[n++] = (o->present & TW_OPT_SACK_PERM) ? 0x0402080au : 0x0101080au;
        w[n++] = o->ts_val;
        w[n++] = o->ts_ecr;
    } else if (o->present & TW_OPT_SACK_PERM) {
        w[n++] = 0x01010402u;
    }
    if (o->present & TW_OPT_WSCALE) {
        w[n++] = 0x01030300u | o->wscale; /* NOP, kind 3, length 3 */
    }
    if ((o->present & TW_OPT_SACK) && o->sack_n) {
        /* As many blocks as fit the 40 bytes of options (RFC 2018 3). */
        unsigned k = o->sack_n;
        while (k && 4 + 8 * k > TW_TCP_MAX_OPT - 4 * n) {
            k--;
        }
        if (k) {
            w[n++] = 0x01010500u | (2 + 8 * k); /* NOP, NOP, kind 5 */
            for (unsigned i = 0; i < k; i++) {
                w[n++] = o->sack[i].start;
                w[n++] = o->sack[i].end;
            }
        }
    }
    return n;
}

/* Transmit IPv4 + a TCP header given as `nw` host-order words (w[4], checksum and
   urgent pointer, is not read: both are zero before the checksum) + `len` bytes of
   `ring` at `off`. The checksum is summed from the words as they are (RFC 1071: 32-bit
   words fold like their 16-bit halves) rather than re-read from the packet. A payload
   that lies in one piece of the ring with HDR_ROOM bytes before it is sent where it
   lies: the headers are written over the bytes in front of it, which are saved and put
   back once the netdev has copied the packet (it may keep no pointer, tcpwave.h). That
   saves one copy of every data byte; nothing runs on this stack during transmit, so the
   ring's bytes are never seen changed. */
static inline __attribute__((always_inline)) void send_words(tw_stack *st, uint32_t raddr, const uint32_t *w, unsigned nw, tw_ring *ring,
                       uint32_t off, uint32_t len)
{
    uint32_t hlen = nw * 4u;
    uint8_t *pkt = st->txbuf;
    uint8_t saved[HDR_ROOM];
    uint8_t *room = NULL;
    /* Both checksums are summed in the packet's byte order, as in emit_plain_body. */
    uint32_t nsrc = st->addr_net, ndst = tw_be32(raddr);
    uint64_t addr_sum = (uint64_t)nsrc + ndst;
    uint64_t sum = addr_sum + tw_cksum_be16_native(TW_IPPROTO_TCP + hlen + len);
    uint64_t psum = 0;
    if (len) {
        const uint8_t *p1, *p2;
        uint32_t n1, n2;
        tw_ring_pieces(ring, off, len, &p1, &n1, &p2, &n2);
        uint8_t *payload;
        if (n2 == 0 && (size_t)(p1 - ring->buf) >= HDR_ROOM) {
            payload = ring->buf + (p1 - ring->buf);
            room = payload - HDR_ROOM;
            memcpy(saved, room, HDR_ROOM);
            pkt = payload - TW_IPV4_HDR_LEN - hlen;
        } else {
            payload = pkt + TW_IPV4_HDR_LEN + hlen;
            memcpy(payload, p1, n1);
            if (n2) {
                memcpy(payload + n1, p2, n2);
            }
        }
        psum = tw_cksum_native(0, payload, len);
    }
    uint8_t *tcp = pkt + TW_IPV4_HDR_LEN;
    /* The option words straight-line, entered by one jump (at most 10 of them); plain
       adds (under 2^32 each), the 8-byte words' and the payload's after them. */
#define OPT_WORD(i)                                                                        \
    do {                                                                                   \
        uint32_t n_ = tw_be32(w[i]);                                                       \
        sum += n_;                                                                         \
        memcpy(tcp + 4 * (i), &n_, 4);                                                     \
    } while (0)
    switch (nw) {
    case 15:
        OPT_WORD(14);
        /* fallthrough */
    case 14:
        OPT_WORD(13);
        /* fallthrough */
    case 13:
        OPT_WORD(12);
        /* fallthrough */
    case 12:
        OPT_WORD(11);
        /* fallthrough */
    case 11:
        OPT_WORD(10);
        /* fallthrough */
    case 10:
        OPT_WORD(9);
        /* fallthrough */
    case 9:
        OPT_WORD(8);
        /* fallthrough */
    case 8:
        OPT_WORD(7);
        /* fallthrough */
    case 7:
        OPT_WORD(6);
        /* fallthrough */
    case 6:
        OPT_WORD(5);
        /* fallthrough */
    default:
        break;
    }
#undef OPT_WORD
    uint64_t h01 = tw_be64((uint64_t)w[0] << 32 | w[1]);
    uint64_t h23 = tw_be64((uint64_t)w[2] << 32 | w[3]);
    sum = len ? tw_cksum_add64x3(sum, h01, h23, psum) : tw_cksum_add64x2(sum, h01, h23);
    memcpy(tcp, &h01, 8);
    memcpy(tcp + 8, &h23, 8);
    uint32_t ck = tw_cksum_native_word16(tw_cksum_fin64(sum), 0);
    memcpy(tcp + 16, &ck, 4);
    tw_ipv4_build_native(pkt, addr_sum, nsrc, ndst, TW_IPPROTO_TCP, hlen + len,
                         TW_IPV4_ATOMIC_ID);
    tw_stack_transmit_tcp(st, pkt, TW_IPV4_HDR_LEN + hlen + len);
    if (room) {
        memcpy(room, saved, HDR_ROOM);
    } else {
        tw_txbuf_keep_set(st); /* (its options or payload lay there: stack.h TW_TXBUF_TS_AT) */
    }
}

/* What trace_out needs of a header built as words. */
static void trace_words(tw_stack *st, const tw_socket *c, const uint32_t *w,
                        const tw_tcp_opts *o, uint32_t len, bool retrans, uint32_t raddr,
                        const tw_trace_id *tid)
{
    tw_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    h.sport = (uint16_t)(w[0] >> 16);
    h.dport = (uint16_t)w[0];
    h.seq = w[1];
    h.ack = w[2];
    h.flags = (uint8_t)(w[3] >> 16);
    h.win = (uint16_t)w[3];
    /* Only the fields `present` names were set (the rest read as zero, as before). */
    h.o.present = o->present;
    if (o->present & TW_OPT_MSS) {
        h.o.mss = o->mss;
    }
    if (o->present & TW_OPT_WSCALE) {
        h.o.wscale = o->wscale;
    }
    if (o->present & TW_OPT_TS) {
        h.o.ts_val = o->ts_val;
        h.o.ts_ecr = o->ts_ecr;
    }
    if (o->present & TW_OPT_SACK) {
        h.o.sack_n = o->sack_n;
        memcpy(h.o.sack, o->sack, sizeof(h.o.sack));
    }
    h.payload_len = len;
    trace_out(st, c, &h, retrans, raddr, tid, 0);
}

/* The counters and trace of an outgoing segment, then the segment. Inline in the SYN and
   SYN+ACK senders (every connection sends one), where no payload and no RST fold away;
   out_words for the rest. */
static inline __attribute__((always_inline)) void out_words_as(
    tw_stack *st, const tw_socket *c, uint32_t raddr, uint32_t *w, const tw_tcp_opts *o,
    tw_ring *ring, uint32_t off, uint32_t len, bool retrans, const tw_trace_id *tid)
{
    unsigned nw = 5 + opt_words(o, w + 5);
    w[3] |= (uint32_t)nw << 28; /* data offset */
    tw_count(st, TW_CNT_TCP_TX_SEGMENTS);
    if (w[3] & ((uint32_t)TW_RST << 16)) {
        tw_count(st, TW_CNT_TCP_TX_RST);
    }
    if (retrans) {
        tw_count(st, TW_CNT_TCP_TX_RETRANS);
    }
    if (st->cfg.trace) {
        trace_words(st, c, w, o, len, retrans, raddr, tid);
    }
    send_words(st, raddr, w, nw, ring, off, len);
}

/* The option set two tcpwave (or Linux) ends offer each other on SYN and SYN+ACK. */
#define SYN_OPTS_ALL (TW_OPT_MSS | TW_OPT_SACK_PERM | TW_OPT_TS | TW_OPT_WSCALE)

/* The trace of a segment out_syn_all built, read back from the packet at `pkt` (as
   trace_plain does), so that the builder keeps none of its values for it. Out of line
   and cold: a stack without a trace hook never comes here. */
static __attribute__((noinline, cold)) void trace_syn_all(tw_stack *st, const tw_socket *c,
                                                          const tw_reqsk *r,
                                                          const uint8_t *pkt, bool retrans)
{
    const uint8_t *tcp = pkt + TW_IPV4_HDR_LEN;
    uint32_t w[4] = {tw_get32(tcp), tw_get32(tcp + 4), tw_get32(tcp + 8),
                     tw_get32(tcp + 12)};
    tw_tcp_opts o;
    o.present = SYN_OPTS_ALL;
    o.mss = tw_get16(tcp + 22);
    o.ts_val = tw_get32(tcp + 28);
    o.ts_ecr = tw_get32(tcp + 32);
    o.wscale = tcp[39];
    o.sack_n = 0;
    /* A half-open entry's segment is traced by its id (req_send). */
    tw_trace_id tid = {r ? r->id : 0, r ? r->iss : 0, r ? r->irs : 0, TW_STATE_SYN_RCVD};
    trace_words(st, c, w, &o, 0, retrans, tw_get32(pkt + 16), r ? &tid : NULL);
}

/* trace_syn_all's trace, then the netdev call. */
static __attribute__((noinline, cold)) void trace_syn_all_send(tw_stack *st, const tw_socket *c,
                                                               const tw_reqsk *r,
                                                               const uint8_t *pkt, bool retrans)
{
    if (st->ecn_users) {
        tw_ecn_mark(st, (uint8_t *)(uintptr_t)pkt, TW_IPV4_HDR_LEN + 40);
    }
    trace_syn_all(st, c, r, pkt, retrans);
    tw_stack_transmit_tcp(st, pkt, TW_IPV4_HDR_LEN + 40);
}

/* tw_be32 as a 64-bit value (its upper half zero), for a sum: on x86-64 GCC one bswap of
   the 32-bit register, which clears the upper half, said so to the compiler (it added a
   zero-extending move after its own: lifecycle -4). */
static inline uint64_t be32_wide(uint32_t v)
{
#if TW_ASM_X86
    uint64_t r = v;
    __asm__("bswap %k0" : "+r"(r));
    assert(r == tw_be32(v));
    return r;
#else
    return tw_be32(v);
#endif
}

/* A 32-bit field loaded as a 64-bit value (its upper half zero), for a sum and a store of
   its 4 bytes: on x86-64 GCC one 32-bit load, said to clear the upper half (the load's
   register then taken for the sum as it is, where GCC added a zero-extending move to a
   second register after it: the SYN+ACK's MSS word). */
static inline uint64_t load32_wide(const uint32_t *p)
{
#if TW_ASM_X86
    uint64_t r;
    __asm__("movl %1, %k0" : "=r"(r) : "m"(*p));
    assert(r == *p);
    return r;
#else
    return *p;
#endif
}

/* out_words_as for a SYN or SYN+ACK with all of SYN_OPTS_ALL: opt_words' layout (MSS;
   SACK-permitted, TS kind and length; TS value; TS echo; NOP, window scale) is a
   constant, so the five option words are written straight and send_words' header length
   folds. Same bytes on the wire as out_words_as; every connection sends one of these.
   The segment is a connection's SYN (r NULL) or a half-open entry's SYN+ACK (c NULL,
   r's listener giving MSS and window scale; a constant in each inline copy): each field
   is read where its word is made and stored, and the sum is taken from the stored words
   at the end, so that no word waits in a register for the others (the fields read first
   as arguments were all live at once: every callee-saved register saved). win: the
   SYN's window (RFC 7323 2.2: unscaled), computed by the caller. */
static inline __attribute__((always_inline)) int out_syn_all(
    tw_stack *st, tw_socket *c, tw_reqsk *r, uint16_t win, bool retrans, bool usual)
{
    /* (`usual`: connect's usual first SYN, the window 65,535 and the stack's MSS,
       stack.h syn_mssw: its acknowledgment number, data offset, flags and window, and
       its MSS word, lie in the SYN's place already (stack.h tw_syn_usual_set), neither
       made nor stored; any other SYN writes its own and puts those back after its
       netdev call (lifecycle -4 instr)) */
    assert(!usual || (!r && !retrans && c->local_mss == tw_conn_mss_for(st, 0) &&
                      win == 65535u));
    uint8_t flags = r ? TW_SYN | TW_ACK : TW_SYN;
    uint32_t w3 = 10u << 28 | (uint32_t)flags << 16 | win; /* data offset 10 */
    tw_count(st, TW_CNT_TCP_TX_SEGMENTS);
    if (retrans) {
        tw_count(st, TW_CNT_TCP_TX_RETRANS);
    }
    /* send_words' steps for these ten words (no payload): the MSS word (kind 2, length
       4), SACK-permitted with the TS kind and length (constant), the TS value and echo
       as one 8-byte word, NOP and window scale (kind 3, length 3), each stored as it is
       made; the header's words are summed in one carry chain (RFC 1071: the sum of the
       parts) with the pseudo-header (RFC 9293 3.1), the checksum and urgent pointer word
       stored once, with the sum (below). */
    /* (past the words st->txbuf keeps for the segments with timestamps: stack.h
       TW_TXBUF_TS_AT) */
    assert(st->txbuf_syn == st->txbuf + TW_TXBUF_SYN_AT &&
           st->txbuf_synack == st->txbuf + TW_TXBUF_SYNACK_AT);
    /* (a SYN+ACK in a place of its own, stack.h TW_TXBUF_SYNACK_AT: the SYN's keeps
       connect's usual SYN's words, `usual` below) */
    uint8_t *pkt = r ? st->txbuf_synack : st->txbuf_syn;
    uint8_t *tcp = pkt + TW_IPV4_HDR_LEN;
    /* raddr << 32 | rport << 16 | lport (the table key: tcp_conn.h, reqsk.h) */
    uint64_t key = r ? r->h.key : c->h.key;
    /* (a new peer's sums made first, while few values are held: asked further down, its
       steps took one more register to save) */
    /* (the key's address half loaded alone, for the compare and a new peer's steps:
       taken from the key's register, it was shifted and copied there) */
    uint32_t peer;
    const uint8_t *kp = (const uint8_t *)(r ? &r->h.key : &c->h.key);
    memcpy(&peer, kp + (tw_cksum_little_endian() ? 4 : 0), 4);
    assert(peer == (uint32_t)(key >> 32));
    if (__builtin_expect(peer != st->syn_peer, 0)) {
        tw_syn_memo_set(st, peer);
        /* (the addresses and the IPv4 header's third word as the packet keeps them, in
           both places: stack.h TW_TXBUF_SYN_AT, TW_TXBUF_SYNACK_AT) */
        memcpy(st->txbuf_syn + 12, st->syn_addr, 8);
        memcpy(st->txbuf_syn + 8, &st->syn_ipw, 4);
        memcpy(st->txbuf_synack + 12, st->syn_addr, 8);
        memcpy(st->txbuf_synack + 8, &st->syn_ipw, 4);
    }
    uint32_t pk = (uint32_t)key;
    uint64_t h01 = tw_be64((uint64_t)(pk << 16 | pk >> 16) << 32 | (r ? r->iss : c->iss.v));
    memcpy(tcp, &h01, 8);
    const tw_socket *mc = r ? r->listener : c; /* MSS and window scale (one load) */
    uint64_t h23;
    if (r && !retrans && tw_cksum_little_endian()) {
        /* (an entry's first SYN+ACK, tw_out_req_synack, made just after in_listen took
           the listener's syn_wnd for it: words 2 and 3 but RCV.NXT as the listener keeps
           them, tcp_conn.h synack_h23, and RCV.NXT swapped alone into the low half) */
        assert(win == mc->syn_wnd &&
               mc->synack_h23 == tw_be64(w3) &&
               (uint64_t)tw_be32(r->irs + 1) == tw_be64((uint64_t)(r->irs + 1) << 32));
        /* (be32_wide: GCC zero-extended its own swap's result with a move) */
        h23 = be32_wide(r->irs + 1) | mc->synack_h23;
    } else {
        h23 = tw_be64((uint64_t)(r ? r->irs + 1 : 0) << 32 | w3);
    }
    assert(!usual || memcmp(tcp + 8, &h23, 8) == 0);
    if (!usual) {
        memcpy(tcp + 8, &h23, 8);
    }
    /* (the word's bytes first in memory on either byte order, and as a 64-bit value
       with no zero extension of its own for the sum below: a 32-bit one took a move;
       on a little-endian host one bswap of the 32-bit register, be32_wide, where the
       swap of the 64-bit value took a shift before it) */
    uint32_t mssw = 0x02040000u | tw_conn_local_mss(mc);
    /* (a listener's word made already, in network order: tcp_conn.h synack_mssw) */
    assert(!r || mc->synack_mssw == tw_be32(mssw));
    /* (connect's usual SYN: the stack's word, in the packet already) */
    assert(!usual || st->syn_mssw == tw_be32(mssw));
    uint64_t n5 = r ? (tw_cksum_little_endian() ? load32_wide(&mc->synack_mssw)
                                                : (uint64_t)mc->synack_mssw << 32)
                  : tw_cksum_little_endian() ? be32_wide(mssw)
                                             : tw_be64((uint64_t)mssw << 32);
    assert(!usual || memcmp(tcp + 20, &n5, 4) == 0);
    if (!usual) {
        memcpy(tcp + 20, &n5, 4);
    }
    uint32_t n6 = tw_be32(0x0402080au);
    /* (it lies there already: stack.h TW_TXBUF_SYN_AT) */
    assert(memcmp(tcp + 24, &n6, 4) == 0);
    (void)n6;
    uint32_t ts_val = tw_ts_now(st, r ? r->ts_off : c->ts_offset);
    if (!r && !retrans) {
        /* (TS.Recent is unused until the SYN+ACK comes: in_syn_sent's usual echo test
           compares with it, tcp_in.c synack_ecr_bad) */
        c->ts_recent = ts_val;
    }
    uint64_t tv = (uint64_t)ts_val << 32 | (r ? r->ts_recent : 0);
    if (r && tw_cksum_little_endian()) {
        /* (TS.Recent and the offset as one word, the clock added to its upper half, as
           emit_plain_body's: reqsk.h puts ts_off after ts_recent; lifecycle -2 instr) */
        _Static_assert(offsetof(tw_reqsk, ts_off) == offsetof(tw_reqsk, ts_recent) + 4,
                       "ts_recent, ts_off");
        memcpy(&tv, &r->ts_recent, 8);
        tv += st->now_ms_hi;
        assert(tv == ((uint64_t)ts_val << 32 | r->ts_recent));
    }
    uint64_t h78 = tw_be64(tv);
    memcpy(tcp + 28, &h78, 8);
    /* NOP, kind 3, length 3, then the shift count's byte over the word's last */
    uint32_t n9 = tw_be32(0x01030300u);
    assert(memcmp(tcp + 36, &n9, 3) == 0); /* (as n6's: the first three bytes) */
    (void)n9;
    tcp[39] = r ? mc->wscale_offer : mc->rcv_wscale;
    /* (the addresses as they lie in the IPv4 header, and their sum, also for the
       connection's segments: kept for the last peer, stack.h syn_addr, set at the top) */
    assert(st->syn_addr[0] == st->addr_net &&
           st->syn_addr[1] == tw_be32((uint32_t)(key >> 32)) &&
           st->syn_addr[2] == tw_cksum_fold18((uint64_t)st->addr_net + st->syn_addr[1]));
    uint64_t addrs;
    memcpy(&addrs, st->syn_addr, 8);
    uint64_t addr_sum = st->syn_addr[2];
    if (!r) {
        /* The 4-tuple is settled (connect set it, or the SYN c answers did): the
           addresses every later segment of c carries (tcp_conn.h out_addr). */
        /* (the ports' word from h01, where it lies first: its low half as a native
           value on a little-endian host, its high half on a big-endian one) */
        assert(tw_conn_out_ports(c->h.key) ==
               (uint32_t)(tw_cksum_little_endian() ? h01 : h01 >> 32));
        memcpy(c->out_addr, &addrs, 8);
        tw_conn_out_asum_set(c, (uint32_t)addr_sum,
                             (uint32_t)(tw_cksum_little_endian() ? h01 : h01 >> 32));
    } else {
        /* the same for the entry's connection-to-be (reqsk.h out_ndst, out_afold: as
           syn_addr's last two lie) */
        _Static_assert(offsetof(tw_reqsk, out_afold) == offsetof(tw_reqsk, out_ndst) + 4,
                       "out_ndst, out_afold");
        memcpy(&r->out_ndst, &st->syn_addr[1], 8);
    }
    /* The IPv4 header: all of it lies there already (stack.h TW_TXBUF_SYN_AT): its
       first two words (version, length, DS 0; identification 0, DF), the same for every
       SYN and SYN+ACK, and its third (TTL, protocol, checksum) with the memo's
       addresses, for the memo's peer (syn_ipw, written with them above). The netdev
       wrapper that changes the DS field and TTL puts them back (stack.c
       ip_fields_xmit); ECN's marks no SYN or SYN+ACK ECT (ecn.c conn_marks). */
#ifndef NDEBUG
    tw_ipv4_nwords iw = tw_ipv4_native_words(TW_IPPROTO_TCP, 40, TW_IPV4_ATOMIC_ID);
    assert(st->syn_ipw == tw_ipv4_native_word2((uint32_t)addr_sum, TW_IPPROTO_TCP, 40,
                                               TW_IPV4_ATOMIC_ID));
    assert(memcmp(pkt, &iw.n0, 4) == 0 && memcmp(pkt + 4, &iw.n1, 4) == 0 &&
           memcmp(pkt + 8, &st->syn_ipw, 4) == 0 && memcmp(pkt + 12, &addrs, 8) == 0);
#endif
    /* The words 0-3 and the MSS word from their registers, the checksum's word left
       unwritten until its value is known (a 16-bit word's place in a 64-bit one does not
       change the one's-complement sum: RFC 1071 2(B)), the options' last two 8-byte
       words as they lie. */
    /* (a SYN+ACK's from the fold with the pseudo-header's last words, stack.h syn_psum:
       the option words' last 8 bytes then added last, never all ones, as the NOP's
       byte among them is 1) */
    assert(st->syn_psum == addr_sum + tw_cksum_be16_native(TW_IPPROTO_TCP + 40));
    /* (usual: the words kept read from the packet, the MSS word with the option word
       after it as one 8-byte word, and the timestamps' from their register, whose TSecr,
       0 in a SYN, the last word's first half is too: the same sum, RFC 1071 2(B)) */
    assert(!usual || (memcmp(tcp + 32, "\0\0\0\0", 4) == 0 &&
                      memcmp(tcp + 40, "\0\0\0\0", 4) == 0));
    uint64_t sum =
        r ? tw_cksum_add64x4_then_last(st->syn_psum, h01, tw_cksum_load64(tcp + 8), n5,
                                       tw_cksum_load64(tcp + 24),
                                       tw_cksum_load64(tcp + 32))
        : usual ? tw_cksum_add64x5_last(addr_sum, h01, tw_cksum_load64(tcp + 8),
                                        tw_cksum_load64(tcp + 20), h78,
                                        tw_cksum_load64(tcp + 32),
                                        tw_cksum_be16_native(TW_IPPROTO_TCP + 40))
                : tw_cksum_add64x5_last(addr_sum, h01, h23, n5, tw_cksum_load64(tcp + 24),
                                        tw_cksum_load64(tcp + 32),
                                        tw_cksum_be16_native(TW_IPPROTO_TCP + 40));
    uint32_t ck = tw_cksum_native_word16(tw_cksum_fin64(sum), 0);
    memcpy(tcp + 16, &ck, 4);
    if (__builtin_constant_p(retrans) && !retrans) {
        /* A connection's first SYN, a half-open entry's first SYN+ACK: through
           plain_xmit, as emit_plain_body's usual copies (tw_out_traced_xmit traces it
           on a traced stack), with no trace test (the builder keeps nothing for after
           this call). A half-open entry's: the netdev's answer returned, its caller
           counting a refusal (tcp_in.c has the stack kept anyway); a connection's SYN:
           the stack kept for the rare refusal's count */
        int rc = st->plain_xmit(pkt, TW_IPV4_HDR_LEN + 40, st->plain_ud);
        if (r) {
            return rc;
        }
        if (!usual) {
            tw_syn_usual_set(st); /* (its words put back: `usual`, above) */
        }
        if (__builtin_expect(rc != 0, 0)) {
            tw_count(st, TW_CNT_TX_DROPPED);
            return 0;
        }
        /* (0, the netdev's answer: returned as it lies in its register, for connect's
           result through syn_send, where the constant GCC knew it to be took a move of
           its own after the test; lifecycle -1 instr) */
        TW_OPAQUE(rc);
        return rc;
    } else if (st->cfg.trace) {
        /* (the netdev call after the trace, the builder keeping nothing for after it) */
        trace_syn_all_send(st, c, r, pkt, retrans);
    } else {
        tw_stack_transmit_tcp(st, pkt, TW_IPV4_HDR_LEN + 40);
    }
    if (!r && !usual) {
        tw_syn_usual_set(st); /* (as above) */
    }
    return 0;
}

static void out_words(tw_stack *st, const tw_socket *c, uint32_t raddr, uint32_t *w,
                      const tw_tcp_opts *o, tw_ring *ring, uint32_t off, uint32_t len,
                      bool retrans, const tw_trace_id *tid)
{
    out_words_as(st, c, raddr, w, o, ring, off, len, retrans, tid);
}

/* The trace of a segment emit_plain_body built, read back from its TCP header at `tcp`
   (the fields it sets: ports, numbers, flags, window, and the timestamps when the data
   offset says they are there), so that the inline builders keep none of them for it.
   Out of line and cold: a stack without a trace hook never comes here. */
static __attribute__((noinline, cold)) void trace_plain(tw_stack *st, const tw_socket *c,
                                                        const uint8_t *tcp, uint32_t len,
                                                        bool retrans)
{
    tw_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    h.sport = tw_get16(tcp);
    h.dport = tw_get16(tcp + 2);
    h.seq = tw_get32(tcp + 4);
    h.ack = tw_get32(tcp + 8);
    h.flags = tcp[13];
    h.win = tw_get16(tcp + 14);
    if (tcp[12] >> 4 == (TW_TCP_HDR_LEN + 12) / 4) {
        h.o.present = TW_OPT_TS; /* NOP, NOP, TS */
        h.o.ts_val = tw_get32(tcp + 24);
        h.o.ts_ecr = tw_get32(tcp + 28);
    }
    h.payload_len = len;
    trace_out(st, c, &h, retrans, c->raddr, NULL, tcp[1 - TW_IPV4_HDR_LEN] & 3u);
}

/* A traced stack's segment from emit_plain_body: its trace, then the netdev call, both
   here, so that the inline builders keep nothing for after this call (the length is read
   back from the IPv4 header). Not marked cold, its caller's test marked unlikely
   instead: GCC put the code after a cold call's join (push_now's RTO arm) in the cold
   section, two jumps more (lifecycle -1 instr). */
static __attribute__((noinline)) void trace_plain_send(tw_stack *st, const tw_socket *c,
                                                       const uint8_t *pkt, uint32_t len,
                                                       bool retrans)
{
    if (st->ecn_users) {
        tw_ecn_mark(st, (uint8_t *)(uintptr_t)pkt, tw_get16(pkt + 2)); /* (ecn.h) */
    }
    trace_plain(st, c, pkt + TW_IPV4_HDR_LEN, len, retrans);
    tw_stack_transmit_tcp(st, pkt, tw_get16(pkt + 2));
}

int tw_out_traced_xmit(const uint8_t *pkt, size_t len, void *ud)
{
    tw_stack *st = ud;
    assert(st->cfg.trace && len >= TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN);
    if (st->ecn_users) {
        tw_ecn_mark(st, (uint8_t *)(uintptr_t)pkt, len); /* (ecn.h: traced as sent) */
    }
    const uint8_t *tcp = pkt + TW_IPV4_HDR_LEN;
    uint64_t key = tw_tuple_key(tw_get32(pkt + 16), tw_get16(tcp + 2), tw_get16(tcp));
    if ((tcp[13] & (TW_SYN | TW_ACK)) == (TW_SYN | TW_ACK)) {
        /* A half-open entry's SYN+ACK (out_syn_all): the entry, in the connection table
           from before its first SYN+ACK (tcp_in.c in_listen), traced by its id. */
        tw_hnode *rn = tw_htab_find(&st->conns, key);
        assert(rn && tw_hnode_is_req(rn));
        if (rn && tw_hnode_is_req(rn)) { /* (always: an untraced segment rather than a
                                             crash otherwise) */
            const tw_reqsk *r = (const tw_reqsk *)rn;
            assert(&r->h == rn);
            trace_syn_all(st, NULL, r, pkt, false);
        }
        return st->dev.transmit(pkt, len, st->dev.ud);
    }
    /* The sender: the connection whose 4-tuple the segment carries (a plain builder's
       connection is in the table: it is synchronized or sends its first SYN, not yet
       given back). */
    tw_hnode *n = tw_htab_find(&st->conns, key);
    assert(n && !tw_hnode_is_req(n));
    const tw_socket *c = n && !tw_hnode_is_req(n) ? (const tw_socket *)n : NULL;
    if (!c) {
        /* (never: an untraced segment rather than a crash otherwise) */
    } else if (tcp[13] & TW_SYN) {
        trace_syn_all(st, c, NULL, pkt, false); /* (a connection's SYN: out_syn_all) */
    } else {
        trace_plain(st, c, tcp, (uint32_t)(len - TW_IPV4_HDR_LEN - (tcp[12] >> 4) * 4u), false);
    }
    return st->dev.transmit(pkt, len, st->dev.ud);
}

/* Where emit_plain_body's window field comes from: the caller's `win` (WIN_GIVEN), or
   worked out by the builder itself where the header's word is made (push_last_send's:
   adv_window_rn_as with the usual space, WIN_USUAL, or its edge-at-RCV.NXT case for the
   ACK of our SYN just processed, WIN_USUAL_FRESH). Worked out there, the field is not
   kept across the builder's first steps, where GCC spilled it to the stack (a request's
   and a response's builder: lifecycle -2 instr). Nothing before it in the builder
   changes what it reads (RCV.NXT, the buffer, the edge it notes), and no hook sees
   the later note of the edge (tcpwave.h). */
/* WIN_PLAIN, with either of the last two: the caller's test of the flags has ruled out
   a reading side shut and a lowered buffer (SPACE_RARE_FLAGS), so the space is the
   buffer's free room without rcv_space_usual's test of them (a request's and a
   response's builder: one test a data segment). */
/* SEG_FRONT, another bit of the same argument (which then says how the segment is
   made, not only its window): the payload is the send ring's only bytes, 16 to 128,
   TW_SND_HDR_ROOM bytes from the front of the ring's block (send's first write,
   tcp_out.c tw_out_send_first_push_leave): no test of its length or of the ring's end,
   no position to add, and the headers built in the free room in front of it, where
   the packet is sent from (emit_plain_body). */
/* SEG_HEAD, another: the payload is the ring's first bytes, its head at 0 (the held
   push's data, queued in SYN-SENT: tw_out_push_now_held), so it lies in one piece from
   the ring's start whatever its length (the ring holds it): only its length tells the
   copy (128 bytes at most) from emit_plain_long's case, and no position is added. */
/* SEG_RTO_IDLE, another, with WIN_GIVEN: an orphan's FIN alone with nothing in flight
   before it (push_fin_leave's idle copy), whose RTO push_last_send has started before
   the segment is built rather than after the netdev's call: the stack, not c, is then
   what lives across the call (for the call's end), and the rare refusal's count reads
   it there. */
enum {
    WIN_GIVEN,
    WIN_USUAL,
    WIN_USUAL_FRESH,
    WIN_PLAIN = 4,
    SEG_FRONT = 8,
    SEG_HEAD = 16,
    SEG_RTO_IDLE = 32
};
#define SPACE_RARE_FLAGS (TW_F_SHUT_RD | TW_F_BUF_LOWERED)

/* The window field as emit_plain_body's `win_mode` says (not WIN_GIVEN). */
static inline __attribute__((always_inline)) uint16_t win_of_mode(tw_socket *c, int win_mode,
                                                                   tw_seq rn)
{
    assert(win_mode != WIN_GIVEN);
    assert(!(win_mode & WIN_PLAIN) || !(c->flags & SPACE_RARE_FLAGS));
    bool fresh = (win_mode & ~(WIN_PLAIN | SEG_FRONT | SEG_HEAD)) == WIN_USUAL_FRESH;
    /* (fresh: the ACK of our SYN just processed, and nothing received in SYN-SENT, whose
       SYN+ACK's data is not taken: tcp_in.c, S6; the buffer is empty) */
    assert(!fresh || c->rcv.len == 0);
    uint32_t space = (win_mode & WIN_PLAIN)
                         ? (fresh ? c->rcvbuf_cap : c->rcvbuf_cap - c->rcv.len)
                         : rcv_space_usual(c);
    /* (fresh: a buffer of one MSS at least, push_last_as' test: receiver SWS avoidance's
       rare step, sws_window, is left out, and with it its call, across which the
       builder kept its values in a stack frame that the held push then set up for
       nothing) */
    bool front = (win_mode & SEG_FRONT) != 0; /* (the same test: send's first push) */
    assert(!(fresh || front) || space >= c->local_mss);
#if defined(__GNUC__)
    if ((fresh || front) && space < c->local_mss) {
        __builtin_unreachable();
    }
#endif
    return adv_window_rn_as(c, false, space, rn, fresh);
}

/* emit()'s segment when it carries neither SYN nor SACK blocks (data, FIN, RST+ACK,
   pure ACK: nearly every segment): the headers are written word by word where the
   packet lies, both checksums summed from the words as they are made (RFC 1071). Same
   bytes on the wire as out_words. Inline in its three callers (through emit_plain_as and
   emit_plain, below: emit, ack_fast, push_last): ack_fast's constants drop the payload,
   RST and retransmit branches; `ts` and `in_place` are constants in each copy. in_place:
   the payload (over 128 bytes) lies in one piece of the ring with HDR_ROOM bytes before
   it, and is sent where it lies, as in send_words; otherwise it is copied. `st` is c's
   stack, passed down because push_last has it in a register already (GCC loaded c->st
   again: lifecycle -4 instr). The window field: `win`, or as `win_mode` says (above). */
static inline __attribute__((always_inline)) int
emit_plain_body(tw_stack *st, tw_socket *c, uint8_t flags, tw_seq seq, uint32_t off, uint32_t len,
                bool retrans, uint16_t win, bool ts, bool in_place, tw_seq rn, int win_mode)
{
    assert(st == c->st);
    assert(len == 0 || (tw_seq_ge(seq, c->snd_una) && tw_seq_ge(seq, c->snd_buf_seq)));
    uint32_t hlen = ts ? TW_TCP_HDR_LEN + 12 : TW_TCP_HDR_LEN;
    bool front = (win_mode & SEG_FRONT) != 0;
    /* SEG_FRONT's payload lies TW_SND_HDR_ROOM bytes from the block's front (socket.c
       send_first_usual), the ring's only bytes: the room before it is free ring space
       (no ring data lies there: the ring does not wrap, head + len <= cap), and the
       headers are built there, the packet handed to the netdev where it lies (which
       keeps no pointer to it), with no copy of the payload. A retransmission rebuilds
       the segment from the ring as any other (emit): the bytes stay there. */
    assert(!front || (c->snd.head == TW_SND_HDR_ROOM &&
                      c->snd.head + c->snd.len <= c->snd.cap));
    /* A header with timestamps alone (a FIN, a pure ACK; len a constant 0 in the copy) is
       built in st->txbuf's ACK place (stack.h TW_TXBUF_ACK_AT), where the IPv4 header of
       the last one lies whole for its addresses (ack_addr), below. */
    bool ack_area = ts && __builtin_constant_p(len) && len == 0 && !in_place && !front;
    assert(st->txbuf_ack == st->txbuf + TW_TXBUF_ACK_AT);
    uint8_t *pkt = front      ? c->snd.buf + TW_SND_HDR_ROOM - TW_IPV4_HDR_LEN - hlen
                   : ack_area ? st->txbuf_ack
                              : st->txbuf;
    if (ack_area) {
        /* The IPv4 header in the ACK place is for the addresses of the last FIN or pure
           ACK built there (stack.h ack_addr): to the same addresses (the usual case: a
           client's or a server's connections go to one host after another) none of it is
           stored, where its words took four steps (the checksum word loaded from the SYN
           memo's, the first word, the addresses); to others it is written here, and the
           addresses noted, before the TCP header's values are made (made with them, it
           took a register more, saved and restored on every FIN and ACK). */
        uint64_t oaddrs, aaddrs;
        memcpy(&oaddrs, c->out_addr, 8);
        memcpy(&aaddrs, st->ack_addr, 8);
        if (__builtin_expect(oaddrs != aaddrs, 0)) {
            tw_ipv4_build_addrs_as(pkt, (uint32_t)c->out_asum, c->out_addr, TW_IPPROTO_TCP,
                                   hlen, TW_IPV4_ATOMIC_ID, true);
            /* (no connection's addresses are 0: our address is not, stack.c
               tw_stack_new) */
            assert(oaddrs != 0);
            memcpy(st->ack_addr, &oaddrs, 8);
        }
#ifndef NDEBUG
        tw_ipv4_nwords iw = tw_ipv4_native_words(TW_IPPROTO_TCP, hlen, TW_IPV4_ATOMIC_ID);
        uint32_t n2 = tw_ipv4_native_word2((uint32_t)c->out_asum, TW_IPPROTO_TCP, hlen,
                                           TW_IPV4_ATOMIC_ID);
        assert(memcmp(pkt, &iw.n0, 4) == 0 && memcmp(pkt + 4, &iw.n1, 4) == 0 &&
               memcmp(pkt + 8, &n2, 4) == 0 && memcmp(pkt + 12, &oaddrs, 8) == 0);
#endif
    }
    if (front) {
        /* (a new value for GCC: otherwise it kept the block's address as the stores' base
           and pkt apart for the netdev's call, a register more, saved and restored) */
        TW_OPAQUE(pkt);
    }
    /* A segment with timestamps built in st->txbuf finds the IPv4 header's second word
       and the options' first there (stack.h TW_TXBUF_TS_AT); one without, whose payload
       (if any) lies over the options' word, puts it back after its netdev call. One built
       elsewhere (in place, or SEG_FRONT's) writes them. */
    bool kept = ts && !in_place && !front;
    uint8_t saved[HDR_ROOM];
    uint8_t *room = NULL;
    uint64_t psum = 0; /* the payload's native sum (cksum.h) */
    /* The usual short payload lies between head and the ring's end, where it starts at
       head + off (tw_ring_pos' case without the wrap): one test, off + len at most the
       room from head to the end (no sum overflows: off <= cap). One that starts past the
       wrap or crosses it takes tw_ring_pieces (the same bytes). With timestamps it is
       copied and summed below, once the header's words are made: they join its carry
       chain. */
    assert(!front || (off == 0 && len - 16 <= 112 && len <= c->snd.len));
    bool at_head = (win_mode & SEG_HEAD) != 0;
    assert(!at_head || (c->snd.head == 0 && off == 0 && len != 0 && len <= c->snd.len &&
                        c->snd.len <= c->snd.cap));
    bool short_copy =
        front || (len && !in_place && len <= 128 &&
                  (at_head || off + len <= c->snd.cap - c->snd.head));
    /* (where it lies: its position in the ring, 0 at the front or the head) */
    uint32_t pos = front ? TW_SND_HDR_ROOM : at_head ? 0 : c->snd.head + off;
    if (len && !short_copy) {
        if (in_place) {
            /* In place, as in send_words: headers over the saved bytes in front. */
            uint8_t *at = c->snd.buf + tw_ring_pos(&c->snd, off);
            room = at - HDR_ROOM;
            memcpy(saved, room, HDR_ROOM);
            pkt = at - TW_IPV4_HDR_LEN - hlen;
            psum = tw_cksum_native(0, at, len);
        } else {
            const uint8_t *p1, *p2;
            uint32_t n1, n2;
            tw_ring_pieces(&c->snd, off, len, &p1, &n1, &p2, &n2);
            uint8_t *payload = pkt + TW_IPV4_HDR_LEN + hlen;
            memcpy(payload, p1, n1);
            if (n2) {
                memcpy(payload + n1, p2, n2);
            }
            psum = tw_cksum_native(0, payload, len);
        }
    }
    uint8_t *tcp = pkt + TW_IPV4_HDR_LEN;
    assert(tw_seq_eq(rn, c->rcv_nxt));
    uint32_t w2 = (flags & TW_ACK) ? rn.v : 0;
    bool rto_idle = (win_mode & SEG_RTO_IDLE) != 0;
    assert(!rto_idle || win_mode == (WIN_GIVEN | SEG_RTO_IDLE));
    if (!rto_idle && win_mode != WIN_GIVEN) {
        win = win_of_mode(c, win_mode, rn);
    }
    uint32_t w3 = (hlen / 4) << 28 | (uint32_t)flags << 16 | win;
    /* Both checksums are summed in the packet's own byte order (RFC 1071 2(B): the sum
       of byte-swapped words is the byte-swapped sum): each header word joins the sum as
       it is stored, two at a time as 8 bytes (tw_be64), the payload's sum as it is, and
       the checksums are stored without a swap. The address sum is shared by the
       pseudo-header (RFC 9293 3.1) and the IPv4 header. */
    /* The sequence number alone: the ports, the word before it, come with the address
       sum (below). */
    uint64_t nseq = be32_wide(seq.v);
    uint64_t h23 = tw_be64((uint64_t)w2 << 32 | w3);
    /* The addresses and their sum as prepared for the connection (tw_conn_out_prep),
       the ports' word in the sum's upper half (tcp_conn.h out_asum). */
    assert(c->out_addr[0] == st->addr_net && c->out_addr[1] == tw_be32(c->raddr));
    assert(c->out_asum >> 32 == tw_conn_out_ports(c->h.key));
    uint64_t addr_sum = c->out_asum;
    uint32_t tcp_len = hlen + len;
    /* The words under 2^32 join with plain adds first (no carry out of 64 bits: under
       2^35), then the 8-byte words, the address and ports' sum first, and the payload's
       sum with adds that carry around. */
    uint32_t h5 = tw_be32(0x0101080au); /* NOP, NOP, TS kind and length */
    uint64_t sum = nseq + tw_cksum_be16_native(TW_IPPROTO_TCP + tcp_len) + (ts ? h5 : 0);
    uint64_t h67 = 0;
    if (ts) {
        /* RFC 7323 3.2: once timestamps are in use every segment carries them, RSTs
           included (Linux does too): NOP, NOP, TS (tw_tcp_build_opts' layout). */
        uint64_t tv;
        if (tw_cksum_little_endian()) {
            /* TSval (tw_ts_now: the clock plus the offset, modulo 2^32) in the upper half
               of TS.Recent and the offset read as one word, where the offset lies
               (tcp_conn.h): the clock's addition carries nothing into TS.Recent, and
               whatever leaves the top is the modulo's. One load and one add, where the two
               halves took six steps with the shift and the or: lifecycle -8 instr). */
            _Static_assert(offsetof(tw_socket, ts_offset) == offsetof(tw_socket, ts_recent) + 4,
                           "ts_recent, ts_offset");
            memcpy(&tv, &c->ts_recent, 8);
            tv += st->now_ms_hi;
            assert(tv == ((uint64_t)tw_ts_now(st, c->ts_offset) << 32 | c->ts_recent));
        } else {
            tv = (uint64_t)tw_ts_now(st, c->ts_offset) << 32 | c->ts_recent;
        }
        h67 = tw_be64(tv);
        /* (kept: in st->txbuf the word lies there already, stack.h TW_TXBUF_TS_AT) */
        assert(!kept || memcmp(tcp + 20, &h5, 4) == 0);
        if (!kept) {
            memcpy(tcp + 20, &h5, 4);
        }
        memcpy(tcp + 24, &h67, 8);
    }
    /* The 8-byte words and the payload's sum in one carry chain (a payload of none,
       a constant, is left out of it). */
    /* The ports from the sum's word itself, stored whole where its upper half is the
       TCP header's first word: its lower half then lies where the IPv4 header's
       destination (little-endian) or the sequence number (big-endian) goes, stored
       after it. One store, where making the word took four steps a segment. */
    /* (in the ACK place the word before the ports, the destination's, is kept: the
       ports' word stored alone there) */
    if (ack_area) {
        /* (loaded from its own half of out_asum: a shift of the sum's register took a
           copy of it) */
        uint32_t ports;
        memcpy(&ports, (const uint8_t *)&c->out_asum + (tw_cksum_little_endian() ? 4 : 0), 4);
        assert(ports == (uint32_t)(addr_sum >> 32));
        memcpy(tcp, &ports, 4);
    } else if (tw_cksum_little_endian()) {
        memcpy(tcp - 4, &addr_sum, 8);
    } else {
        memcpy(tcp, &addr_sum, 8);
    }
    uint32_t nseq32 = (uint32_t)nseq;
    memcpy(tcp + 4, &nseq32, 4);
    memcpy(tcp + 8, &h23, 8);
    if (!ack_area) {
        /* (the address sum from addr_sum's register, which the payload's sum below takes
           anyway: read from c->out_asum again, it was loaded a second time after the
           header's stores, which might alias it: lifecycle -2 instr) */
        tw_ipv4_build_addrs_as(pkt, (uint32_t)addr_sum, c->out_addr, TW_IPPROTO_TCP,
                               tcp_len, TW_IPV4_ATOMIC_ID, kept);
    }
    if (front && !ts) {
        /* (SEG_FRONT's payload summed where it lies, right after the headers: no copy,
           and its address taken from pkt, the one pointer kept, rather than loaded from
           the ring again after the headers' stores) */
        assert(tcp + hlen == c->snd.buf + pos);
        sum = tw_cksum_short_word(tcp + hlen, len, addr_sum, pkt, TW_IPV4_HDR_LEN + 8, sum);
    } else if (front && ts) {
        assert(tcp + hlen == c->snd.buf + pos);
        sum = tw_cksum_short_words(tcp + hlen, len, addr_sum, pkt, TW_IPV4_HDR_LEN + 8,
                                   TW_IPV4_HDR_LEN + 24, sum);
    } else if (short_copy && !ts) {
        /* (as below, h23 the one word read back: no payload sum kept in a register
           across the header's making, which took a callee-saved one in the senders'
           builders; lifecycle -1 with cksum.h's tail) */
        sum = tw_cksum_copy_short_word(tcp + hlen, c->snd.buf + pos, len, addr_sum, pkt,
                                       TW_IPV4_HDR_LEN + 8, sum);
    } else if (short_copy && ts) {
        /* (h23 and h67 read back from the packet, where they lie at constant offsets from
           pkt, which is kept for the netdev's call anyway: given as values, GCC stored
           them on the stack across the copy's jump, cksum.h) */
        sum = tw_cksum_copy_short_words(tcp + hlen, c->snd.buf + pos, len, addr_sum,
                                        pkt, TW_IPV4_HDR_LEN + 8, TW_IPV4_HDR_LEN + 24, sum);
    } else if (__builtin_constant_p(len) && len == 0 && ack_area) {
        /* (the ACK place's: the address sum read again, from memory, as the chain's
           middle word, after the stores, and the timestamps' word as its start: loaded
           before into the register the chain starts from, it was copied to another
           one, lifecycle -7 instr) */
        uint64_t asum2;
        memcpy(&asum2, &c->out_asum, 8);
        assert(asum2 == addr_sum);
        sum = tw_cksum_add64x3_last(h67, h23, asum2, sum);
    } else if (__builtin_constant_p(len) && len == 0) {
        sum = ts ? tw_cksum_add64x3_last(addr_sum, h23, h67, sum)
                 : tw_cksum_add64x2_last(addr_sum, h23, sum);
    } else {
        sum = ts ? tw_cksum_add64x4_last(addr_sum, h23, h67, psum, sum)
                 : tw_cksum_add64x3_last(addr_sum, h23, psum, sum);
    }
    /* Then the checksum, and the urgent pointer (zero). */
    uint32_t ck = tw_cksum_native_word16(tw_cksum_fin64(sum), 0);
    memcpy(tcp + 16, &ck, 4);
    if (at_head || front) {
        /* (the held push's copy, tw_out_push_now_held_data, and send's first push's,
           tw_out_send_first_push_leave: the stack read again from c for the netdev's
           call, not kept from the start, and read again after it for the RTO and the
           call's end (push_now_in_as): only c then lives across the call, and the copy
           saves no second register and sets up no stack frame (lifecycle -1 net each:
           the loads against the frame's four instructions)) */
        st = c->st;
    }
    tw_count(st, TW_CNT_TCP_TX_SEGMENTS);
    if (flags & TW_RST) {
        tw_count(st, TW_CNT_TCP_TX_RST);
    }
    if (retrans) {
        tw_count(st, TW_CNT_TCP_TX_RETRANS);
    }
    int rc = 0; /* (the netdev's answer, 0, or 0 after a refusal's count) */
    if (__builtin_constant_p(retrans) && !retrans) {
        /* A copy that sends no retransmission (push_last's, ack_fast's, tw_out_ack_last's:
           all but emit's): through plain_xmit, which is the netdev's call, or for a traced
           stack tw_out_traced_xmit, which traces the segment first (as trace_plain_send
           would), so that no trace test is made here. */
        rc = st->plain_xmit(pkt, TW_IPV4_HDR_LEN + hlen + len, st->plain_ud);
        if (__builtin_expect(rc != 0, 0)) {
            /* tw_stack_transmit_tcp with the stack read again from c for the rare
               refusal's count, rather than kept across the netdev's call (c is kept
               anyway; not so with SEG_RTO_IDLE, whose caller keeps the stack). */
            tw_count(rto_idle ? st : c->st, TW_CNT_TX_DROPPED);
            rc = 0;
        } else {
            /* (0, the netdev's answer, as it lies in its register: the result of the
               copies whose caller returns it, close's FIN, tw_out_push_now_leave, where
               the constant GCC knew took a move of its own after the test; lifecycle
               -1 instr a close. The other copies drop it, and the empty asm with it.) */
            TW_OPAQUE(rc);
        }
    } else if (__builtin_expect(st->cfg.trace != NULL, 0)) {
        trace_plain_send(st, c, pkt, len, retrans);
    } else if (st->dev.transmit(pkt, TW_IPV4_HDR_LEN + hlen + len, st->dev.ud) != 0) {
        tw_count(c->st, TW_CNT_TX_DROPPED); /* (as above) */
    }
    if (in_place) {
        memcpy(room, saved, HDR_ROOM);
    } else if (!ts && len != 0 && !front) {
        tw_txbuf_keep_ts_set(c->st); /* (stack.h TW_TXBUF_TS_AT: its payload lay there) */
    }
    return rc;
}

/* emit_plain_body for a payload over 128 bytes, or a shorter one that does not lie
   between the ring's head and its end (it starts past the wrap or crosses it), out of
   line: in place when it lies in one piece of the ring with HDR_ROOM bytes before it (its
   conditions, on the ring position and the pieces, as tw_ring_pieces would tell them),
   else copied. The inline copies (every request, response, FIN and pure ACK) then keep
   no saved bytes, no pointer to them across the netdev call and no test for their
   restore (lifecycle -12 instructions), and know their payload (if any) is short and in
   one piece from head + off: tw_cksum_copy_short's test of the length is settled, and
   no copy calls libc's memcpy with the header's values kept across it (lifecycle -4). */
static __attribute__((noinline)) void emit_plain_long(tw_socket *c, uint8_t flags, tw_seq seq,
                                                      uint32_t off, uint32_t len,
                                                      bool retrans, uint16_t win)
{
    uint32_t pos = tw_ring_pos(&c->snd, off);
    bool ts = (c->flags & TW_F_TS) != 0;
    if (pos >= HDR_ROOM && c->snd.cap - pos >= len) {
        if (ts) {
            emit_plain_body(c->st, c, flags, seq, off, len, retrans, win, true, true, c->rcv_nxt,
                            WIN_GIVEN);
        } else {
            emit_plain_body(c->st, c, flags, seq, off, len, retrans, win, false, true, c->rcv_nxt,
                            WIN_GIVEN);
        }
    } else {
        if (ts) {
            emit_plain_body(c->st, c, flags, seq, off, len, retrans, win, true, false,
                            c->rcv_nxt, WIN_GIVEN);
        } else {
            emit_plain_body(c->st, c, flags, seq, off, len, retrans, win, false, false,
                            c->rcv_nxt, WIN_GIVEN);
        }
        /* (copied into st->txbuf: a datagram that reached the ACK place's or the SYN
           builder's words, an MTU over 65,344 bytes, puts them back, stack.h
           TW_TXBUF_KEPT_AT) */
        if (__builtin_expect(TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN + 12 + len > TW_TXBUF_KEPT_AT, 0)) {
            tw_txbuf_keep_set(c->st);
        }
    }
}

/* emit_plain_body, the payload sent in place when it can be (emit_plain_long), which
   also takes a short payload in two pieces or past the wrap. */
static inline __attribute__((always_inline)) int
emit_plain_as(tw_stack *st, tw_socket *c, uint8_t flags, tw_seq seq, uint32_t off, uint32_t len,
              bool retrans, uint16_t win, bool ts, tw_seq rn, int win_mode)
{
    /* (SEG_RTO_IDLE: the FIN alone, len 0, never here) */
    assert(!(win_mode & SEG_RTO_IDLE) || len == 0);
    if (!(win_mode & SEG_FRONT) &&
        (len > 128 || (!(win_mode & SEG_HEAD) && off + len > c->snd.cap - c->snd.head))) {
        if (win_mode != WIN_GIVEN) {
            win = win_of_mode(c, win_mode, rn);
        }
        emit_plain_long(c, flags, seq, off, len, retrans, win);
        return 0;
    }
    return emit_plain_body(st, c, flags, seq, off, len, retrans, win, ts, false, rn, win_mode);
}

/* emit_plain_as with `ts` a constant in each copy: the header length, data offset and
   IPv4 length that depend on it fold, instead of being chosen again at each use. The
   window field as `win_mode` says (push_last_send); emit_plain, below, given. */
static inline __attribute__((always_inline)) int emit_plain_w(tw_stack *st, tw_socket *c,
                                                              uint8_t flags, tw_seq seq,
                                                              uint32_t off, uint32_t len,
                                                              bool retrans, uint16_t win,
                                                              tw_seq rn, int win_mode)
{
    if (c->flags & TW_F_TS) {
        return emit_plain_as(st, c, flags, seq, off, len, retrans, win, true, rn, win_mode);
    }
    return emit_plain_as(st, c, flags, seq, off, len, retrans, win, false, rn, win_mode);
}
static inline __attribute__((always_inline)) void emit_plain(tw_stack *st, tw_socket *c,
                                                             uint8_t flags, tw_seq seq,
                                                             uint32_t off, uint32_t len,
                                                             bool retrans, uint16_t win, tw_seq rn)
{
    emit_plain_w(st, c, flags, seq, off, len, retrans, win, rn, WIN_GIVEN);
}

/* A segment of connection `c`: flags, seq, and `len` bytes of the send ring at `off`. */
static void emit(tw_socket *c, uint8_t flags, tw_seq seq, uint32_t off, uint32_t len,
                 bool retrans)
{
    tw_stack *st = c->st;
    tw_tcp_opts o;
    o.present = 0;
    o.sack_n = 0;
    bool syn = (flags & TW_SYN) != 0;
    if (!syn && (flags & TW_ACK) && ((flags & TW_RST) || !sack_blocks_due(c))) {
        uint16_t win = adv_window(c, false);
        ack_carried(c);
        emit_plain(c->st, c, flags, seq, off, len, retrans, win, c->rcv_nxt);
        return;
    }
    if (syn) {
        if (flags & TW_ACK) {
            /* SYN+ACK: answer exactly what was negotiated from the peer's SYN. */
            tw_tcp_opts peer;
            memset(&peer, 0, sizeof(peer));
            peer.present = (uint8_t)(((c->flags & TW_F_WS) ? TW_OPT_WSCALE : 0) |
                                     ((c->flags & TW_F_SACK) ? TW_OPT_SACK_PERM : 0) |
                                     ((c->flags & TW_F_TS) ? TW_OPT_TS : 0));
            peer.ts_val = c->ts_recent;
            tw_conn_syn_opts(c, &o, &peer);
        } else {
            tw_conn_syn_opts(c, &o, NULL);
        }
    } else {
        /* RFC 7323 3.2: once timestamps are in use every segment carries them, RSTs
           included (Linux does too); SACK blocks ride on ACKs only. */
        if (c->flags & TW_F_TS) {
            o.present = TW_OPT_TS;
            o.ts_val = tw_ts_now(st, c->ts_offset);
            o.ts_ecr = c->ts_recent;
        }
        if ((flags & TW_ACK) && !(flags & TW_RST) && sack_blocks_due(c)) {
            /* RFC 2018 3: at most 4 blocks, 3 when timestamps take their 12 bytes. */
            unsigned max = (c->flags & TW_F_TS) ? 3 : 4;
            o.sack_n = (uint8_t)tw_sack_blocks(c, o.sack, max);
            if (o.sack_n) {
                o.present |= TW_OPT_SACK;
            }
        }
    }
    assert(len == 0 || (tw_seq_ge(seq, c->snd_una) && tw_seq_ge(seq, c->snd_buf_seq)));
    uint16_t win = (flags & TW_RST) && !(flags & TW_ACK) ? 0 : adv_window(c, syn);
    uint32_t w[5 + TW_TCP_MAX_OPT / 4];
    w[0] = (uint32_t)c->lport << 16 | c->rport;
    w[1] = seq.v;
    w[2] = (flags & TW_ACK) ? c->rcv_nxt.v : 0;
    w[3] = (uint32_t)flags << 16 | win;
    w[4] = 0;
    if (flags & TW_ACK) {
        ack_carried(c);
    }
    out_words(st, c, c->raddr, w, &o, &c->snd, off, len, retrans, NULL);
}

void tw_out_bare(tw_stack *st, uint32_t raddr, uint16_t lport, uint16_t rport, uint32_t seq,
                 uint32_t ack, uint8_t flags, uint16_t win, const tw_tcp_opts *o)
{
    tw_tcp_opts none;
    if (!o) {
        none.present = 0;
        none.sack_n = 0;
        o = &none;
    }
    uint32_t w[5 + TW_TCP_MAX_OPT / 4];
    w[0] = (uint32_t)lport << 16 | rport;
    w[1] = seq;
    w[2] = ack;
    w[3] = (uint32_t)flags << 16 | win;
    w[4] = 0;
    out_words(st, NULL, raddr, w, o, NULL, 0, 0, false, NULL);
}

/* A connection's SYN: header words 0-4 (the ports from the table key's low half, rport <<
   16 | lport, one load) and its options (syn_other, tw_out_syn_fo). */
static inline void syn_words(tw_socket *c, uint32_t *w, tw_tcp_opts *o)
{
    uint32_t pk = (uint32_t)c->h.key;
    w[0] = pk << 16 | pk >> 16;
    w[1] = c->iss.v;
    w[2] = 0;
    w[3] = (uint32_t)TW_SYN << 16 | adv_window(c, true);
    w[4] = 0;
    tw_conn_syn_opts(c, o, NULL);
}

/* tw_out_syn's segment in its other cases, out of line: a SYN+ACK sent again from
   SYN-RECEIVED (emit), or a SYN with an option turned off (out_words); the usual SYN's
   builder then saves no register for their frames and calls. */
static __attribute__((noinline)) void syn_other(tw_socket *c, bool retransmit)
{
    tw_conn_out_prep(c->st, c); /* (as out_syn_all does) */
    if (!retransmit && (c->st->syn_opts & TW_SYN_OPTS_ECN) && c->state == TW_STATE_SYN_SENT) {
        tw_ecn_connect(c); /* RFC 3168 6.1.1: the SYN asks (ecn.c marks it) */
    }
    if (!retransmit && (c->flags & TW_F_EXTRAS) && c->opts && (c->opts->tfo & TW_TFO_CONNECT)) {
        tw_tfo_syn(c); /* connect_send's first SYN (RFC 7413 4.1.3, 4.2.1) */
        return;
    }
    if (c->state == TW_STATE_SYN_RCVD) {
        emit(c, TW_SYN | TW_ACK, c->iss, 0, 0, retransmit);
        return;
    }
    uint32_t w[5 + TW_TCP_MAX_OPT / 4];
    tw_tcp_opts o;
    syn_words(c, w, &o);
    out_words(c->st, c, c->raddr, w, &o, &c->snd, 0, 0, retransmit, NULL);
}

/* A simultaneous open's SYN+ACK after our Fast Open SYN with data (RFC 7413 4.2.1 with
   RFC 9293 3.5 figure 8): the SYN alone again, as Linux, but SND.MAX stays past the data,
   which was sent, so that the peer's SYN+ACK of it is acceptable in SYN-RECEIVED (RFC
   9293 3.10.7.4, as Linux's tcp_validate_incoming takes a SYN+ACK acknowledging all it
   sent) rather than answered with a reset. Out of line: simultaneous opens are rare. */
static __attribute__((noinline, cold)) bool syn_data_sent(const tw_socket *c)
{
    return c->opts && (c->opts->tfo & TW_TFO_SYN_DATA);
}

/* tw_out_syn's steps; `leave`: end the API call that sends the first SYN (connect) once
   the segment is handed to the netdev, so that the call's end is here, where st is
   already held across the netdev call, and connect keeps nothing across its call. `all`:
   connect found the stack's SYNs take all four options (stack.h connect_plain_below),
   so that syn_opts is not asked here. */
static inline __attribute__((always_inline)) int syn_send(tw_socket *c, bool retransmit,
                                                          bool leave, bool all)
{
    tw_stack *st = c->st;
    int rc = 0; /* (the call's result for `leave`: connect's, 0) */
    /* The send variables first, then the segment (no hook can see the order: tcpwave.h),
       so that the builder's netdev call ends the function. */
    /* RFC 9293 3.10.8: the user timeout runs in every state, so in SYN-SENT and
       SYN-RECEIVED it counts from the first SYN (not from the clock's epoch). connect
       sets it for its SYN, with the clock in hand (socket.c connect_start). */
    if (leave) {
        assert(c->stall_start == st->now);
    } else if (!retransmit) {
        c->stall_start = st->now;
    }
    /* Nothing but the SYN is ever sent before ESTABLISHED (data and a FIN wait for it:
       tw_out_push's synchronized test), so SND.MAX is ISS (the first SYN, set by connect)
       or ISS + 1 (one sent before): ISS + 1 is their maximum, without the comparison. */
    assert(tw_seq_eq(c->snd_max, c->iss) || tw_seq_eq(c->snd_max, tw_seq_add(c->iss, 1)) ||
           (c->flags & TW_F_EXTRAS)); /* (or a Fast Open SYN's data, sent no more: RFC 7413
                                         4.2.2, fastopen.c tw_tfo_syn_timeout) */
    if (leave) {
        /* connect set them so, with ISS + 1 in hand (socket.c connect_start) */
        assert(tw_seq_eq(c->snd_nxt, tw_seq_add(c->iss, 1)) &&
               tw_seq_eq(c->snd_max, c->snd_nxt));
    } else {
        c->snd_nxt = tw_seq_add(c->iss, 1);
        if (!(c->state == TW_STATE_SYN_RCVD && (c->flags & TW_F_EXTRAS) &&
              syn_data_sent(c))) {
            c->snd_max = c->snd_nxt;
        }
    }
    /* emit()'s steps for a SYN (no ACK: nothing carried, no SACK blocks), straight: every
       active open sends one, with tw_conn_syn_opts' choice when no option is turned off
       (stack.h syn_opts): all four. */
    /* (connect's first SYN: its socket has just entered SYN-SENT) */
    assert(!leave || c->state == TW_STATE_SYN_SENT);
    assert(!all || (leave && st->syn_opts == (TW_OPT_WSCALE | TW_OPT_SACK_PERM | TW_OPT_TS)));
    if (!all && ((!leave && c->state == TW_STATE_SYN_RCVD) ||
                 st->syn_opts != (TW_OPT_WSCALE | TW_OPT_SACK_PERM | TW_OPT_TS))) {
        syn_other(c, retransmit);
    } else {
        uint32_t space = rcv_space_nocall(c, leave); /* (adv_window's SYN case) */
        /* RFC 7323 2.2: never scaled on SYN (a buffer past the field's largest marked
           expected: the default's, whose window then takes no jump). (all: connect found
           no socket's buffer can be that small, stack.h connect_plain_below: the field's
           largest, with no test) */
        assert(!all || space > 65535u);
        rc = out_syn_all(st, c, NULL,
                         (uint16_t)(all || __builtin_expect(space > 65535u, 1) ? 65535u : space),
                         retransmit, all);
    }
    if (leave) {
        assert(!st->call_free);
        st->call_free = true;
    }
    return rc;
}

void tw_out_syn(tw_socket *c, bool retransmit)
{
    syn_send(c, retransmit, false, false);
}

int tw_out_syn_first_leave(tw_socket *c)
{
    return syn_send(c, false, true, false);
}

int tw_out_syn_first_all_leave(tw_socket *c)
{
    return syn_send(c, false, true, true);
}

/* see tcp_conn.h (rare: a close in SYN-RECEIVED, tw_conn_fin_syn_rcvd; a Fast Open
   child's data sent in SYN-RECEIVED, fastopen.h tw_tfo_sent_early) */
void tw_out_synack_again(tw_socket *c)
{
    assert(((c->flags & TW_F_SYN_UNACKED) && c->state != TW_STATE_SYN_RCVD) ||
           (c->state == TW_STATE_SYN_RCVD && tw_tfo_sent_early(c)));
    emit(c, TW_SYN | TW_ACK, c->iss, 0, 0, true);
}

/* emit()'s pure ACK when it carries no SACK block, the one a bulk receiver sends for
   every second segment: emit_plain inlined for it (no payload, no RST, no retransmit:
   the compiler drops those branches). Same bytes on the wire, same side effects as
   emit(). */
static bool ack_fast(tw_socket *c, tw_seq seq)
{
    if (sack_blocks_due(c)) {
        return false;
    }
    uint16_t win = adv_window(c, false);
    ack_carried(c);
    emit_plain(c->st, c, TW_ACK, seq, 0, 0, false, win, c->rcv_nxt);
    return true;
}

/* The sequence number of a segment without data (a pure ACK, a RST): one the peer can
   accept (RFC 9293 3.10.7.4, first check), or it drops the segment, ACK field and all.
   snd_max, not snd_nxt: after a timeout snd_nxt goes back to snd_una, and a number below
   what the peer already received is unacceptable (BSD numbers pure ACKs with snd_max
   too). But not beyond the right edge of the peer's window either: a peer that dropped
   data it had room for (a receiver under memory pressure does) and closed its window
   accepts only SEG.SEQ = RCV.NXT, and would ignore every ACK of its own data that we
   numbered snd_max; its retransmissions back off to minutes. Linux takes the window's
   edge likewise (tolerating the window scale's rounding). */
static inline tw_seq bare_seq(const tw_socket *c)
{
    tw_seq edge = tw_seq_add(c->snd_una, c->snd_wnd);
    if (__builtin_expect(tw_seq_gt(c->snd_max, edge), 0) &&
        (uint32_t)tw_seq_diff(c->snd_max, edge) >= (1u << c->snd_wscale)) {
        return edge;
    }
    return c->snd_max;
}

void tw_out_ack(tw_socket *c)
{
    tw_seq seq = bare_seq(c);
    if (!ack_fast(c, seq)) {
        emit(c, TW_ACK, seq, 0, 0, false);
    }
}

/* tw_out_ack_last's steps, `win` the window field of the whole buffer (min(rcvbuf_cap >>
   rcv_wscale, 65535)) for a caller that has it (the TIME-WAIT record's: timewait.c). */
static inline __attribute__((always_inline)) void ack_last_as(tw_socket *c, uint32_t win)
{
    /* bare_seq's number without its test: the segment it answers acknowledged our FIN,
       so everything we sent is acknowledged (tcp_conn.h), and SND.MAX is the window's
       left edge, never past its right one. */
    assert(tw_seq_eq(c->snd_una, c->snd_max) && tw_seq_eq(bare_seq(c), c->snd_max));
    tw_seq seq = c->snd_max;
    /* adv_window's field, without the right edge it notes (tw_out_ack_carried); the
       space from rcv_space_nocall, as tw_out_syn takes it: no call before the netdev's.
       An orphan's usual case first: the application's close shut its reading side,
       whose window stays open at the whole buffer (rcv_space_nocall's first case), and
       no SACK block to send (nor an extras block, TW_F_EXTRAS, which a read side shut
       that keeps receiving has: tw_conn_rd_keep, whose window is what it holds). */
    assert(win == ((c->rcvbuf_cap >> c->rcv_wscale) > 65535u ? 65535u
                                                               : (c->rcvbuf_cap >> c->rcv_wscale)));
    /* (an orphan's: tcp_in.c asks the flag before it calls; every orphan that lives has
       its reading side shut, socket.c close: the flags left to test are sack_blocks_due's
       and the extras') */
    assert((c->flags & (TW_F_ORPHAN | TW_F_SHUT_RD)) == (TW_F_ORPHAN | TW_F_SHUT_RD));
    if (__builtin_expect((c->flags & (SACK_DUE_FLAGS | TW_F_EXTRAS)) != 0, 0)) {
        if (sack_blocks_due(c)) {
            emit(c, TW_ACK, seq, 0, 0, false); /* (SACK blocks ride on it) */
            return;
        }
        win = rcv_space_nocall(c, false) >> c->rcv_wscale;
        win = win > 65535u ? 65535u : win;
    }
    emit_plain(c->st, c, TW_ACK, seq, 0, 0, false, (uint16_t)win, c->rcv_nxt);
}

void tw_out_ack_last(tw_socket *c)
{
    uint32_t win = c->rcvbuf_cap >> c->rcv_wscale;
    ack_last_as(c, win > 65535u ? 65535u : win);
}

void tw_out_ack_last_win(tw_socket *c, uint32_t win)
{
    ack_last_as(c, win);
}

/* (`leave`: tw_out_ack_last_free_leave's, a constant in each copy) */
static inline __attribute__((always_inline)) int ack_last_free_as(tw_socket *c, uint32_t win,
                                                                 bool leave)
{
    /* None of ack_last_as' rare flags: the one caller's segment had the closing ACK's
       shape (tcp_in.c closing_ack_shape, FIN-WAIT-1), which leaves a connection with any
       of them to the full steps, and nothing on the way sets one (tcp_in.c
       closing_ack_last, timewait.c make_in_as). Said to the compiler: ack_last_as' test
       of them folds away. */
    assert(!(c->flags & (SACK_DUE_FLAGS | TW_F_EXTRAS)));
#if defined(__GNUC__)
    if (c->flags & (SACK_DUE_FLAGS | TW_F_EXTRAS)) {
        __builtin_unreachable();
    }
    /* (a window field: said to the compiler, which then takes the register as it is,
       without a zero extension of its low 16 bits) */
    if (win > 65535u) {
        __builtin_unreachable();
    }
#endif
    ack_last_as(c, win);
    if (leave) {
        /* (the call's end once the netdev's call is made: what follows calls nothing
           outside the stack but the allocator's free, in its rare steps, and ends in tail
           calls) */
        assert(!c->st->call_free);
        c->st->call_free = true;
    }
    /* (after the ACK, where only c is kept across the call) */
    if (__builtin_expect(!(c->flags & TW_F_BOUND), 0)) {
        tw_timewait_record_takes_port(c->st, c);
    }
    /* (no extras before the ACK, and the netdev's call sets none, tcpwave.h: a hook calls
       nothing on the stack; said to the compiler, tw_conn_free's usual case does not ask
       again: lifecycle -3 instr) */
    assert(!(c->flags & TW_F_EXTRAS));
#if defined(__GNUC__)
    if (c->flags & TW_F_EXTRAS) {
        __builtin_unreachable();
    }
#endif
    /* (taken out of st->conns, its port's count the record's, its timer not held:
       timewait.c make_in_as; an orphan) */
    return tw_conn_free_in(c, TW_F_HASHED | TW_F_BOUND, true, true);
}

void tw_out_ack_last_free(tw_socket *c, uint32_t win)
{
    ack_last_free_as(c, win, false);
}

int tw_out_ack_last_free_leave(tw_socket *c, uint32_t win)
{
    return ack_last_free_as(c, win, true);
}

void tw_out_ack_carried(tw_socket *c)
{
    (void)adv_window(c, false); /* the same field again, for the edge it advertised */
    ack_carried(c);
}

void tw_out_rst_conn(tw_socket *c)
{
    /* RFC 9293 3.10.7.4 / ABORT: <SEQ=SND.NXT><CTL=RST>, numbered as a pure ACK; like
       Linux we also carry the ACK so the peer can validate it as an exact-match RST
       (RFC 5961). */
    emit(c, TW_RST | TW_ACK, bare_seq(c), 0, 0, false);
}

void tw_out_rst_reply(tw_stack *st, const tw_seg *s)
{
    /* RFC 9293 3.10.7.1: never answer a RST; with ACK set send <SEQ=SEG.ACK><CTL=RST>,
       otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
    if (s->flags & TW_RST) {
        return;
    }
    if (s->flags & TW_ACK) {
        tw_out_bare(st, s->raddr, s->h->dport, s->h->sport, s->ack.v, 0, TW_RST, 0, NULL);
    } else {
        tw_out_bare(st, s->raddr, s->h->dport, s->h->sport, 0, tw_seq_add(s->seq, tw_seg_len(s)).v,
                    TW_RST | TW_ACK, 0, NULL);
    }
}

bool tw_challenge_take(tw_stack *st)
{
    /* RFC 5961 7: limit challenge ACKs so they cannot be used as an amplifier; besides
       the per-connection limit, a budget per second for the whole stack when one is set
       (by default none, as Linux 6.x: a shared budget is itself a side channel). */
    if (st->cfg.challenge_ack_limit == UINT32_MAX) {
        tw_count(st, TW_CNT_TCP_CHALLENGE_ACK_SENT);
        return true;
    }
    if (st->now - st->chack_window >= TW_SEC(1)) {
        st->chack_window = st->now;
        st->chack_count = 0;
    }
    if (st->chack_count >= st->cfg.challenge_ack_limit) {
        tw_count(st, TW_CNT_TCP_CHALLENGE_ACK_LIMITED);
        return false;
    }
    st->chack_count++;
    tw_count(st, TW_CNT_TCP_CHALLENGE_ACK_SENT);
    return true;
}

/* One ACK per cfg.invalid_ratelimit per connection for what is not taken: segments
   without data out of the window or with an unacceptable ACK (ack_unacceptable) and
   challenges. Returns true when this one is to go unanswered; otherwise notes the
   time. */
bool tw_oow_rate_limited(tw_socket *c)
{
    tw_stack *st = c->st;
    if (st->cfg.no_invalid_ratelimit) {
        return false;
    }
    if (c->last_oow_ack && st->now - c->last_oow_ack < st->cfg.invalid_ratelimit) {
        return true;
    }
    c->last_oow_ack = st->now;
    return false;
}

void tw_out_challenge_ack(tw_socket *c)
{
    tw_stack *st = c->st;
    /* RFC 5961 7 leaves the throttle's form open; Linux's tcp_send_challenge_ack asks
       first, per connection, for one ACK per 500 ms (tcp_invalid_ratelimit), on the
       clock its ACKs for out-of-window segments share (tw_oow_rate_limited), and has the
       stack-wide budget off by default. Both here: a burst of forged RSTs or SYNs at one
       connection gets one ACK, not one each. */
    if (tw_oow_rate_limited(c)) {
        tw_count(st, TW_CNT_TCP_CHALLENGE_ACK_LIMITED);
        return;
    }
    if (tw_challenge_take(st)) {
        tw_out_ack(c);
    }
}

static uint8_t req_wscale(const tw_reqsk *r)
{
    return (r->opts & TW_OPT_WSCALE) ? r->listener->wscale_offer : 0;
}

static void req_send_general(tw_stack *st, const tw_reqsk *r, uint8_t flags, bool retransmit);

/* req_send's SYN+ACK: the usual answer (all four options) inline, straight, without an
   option set; the others through req_send_general, out of line, whose option set and
   words then take no room in the usual answer's frame. */
static inline __attribute__((always_inline)) int req_synack(tw_stack *st, tw_reqsk *r,
                                                           bool retransmit)
{
    if ((r->opts & (TW_OPT_WSCALE | TW_OPT_SACK_PERM | TW_OPT_TS)) !=
        (TW_OPT_WSCALE | TW_OPT_SACK_PERM | TW_OPT_TS)) {
        tw_req_out_prep(st, r); /* (out_syn_all's for the usual answer) */
        req_send_general(st, r, TW_SYN | TW_ACK, retransmit);
        return 0;
    }
    /* S2/S4: the SYN+ACK answers exactly what was negotiated (the same as a connection's,
       tcp_conn.c tw_conn_syn_opts); RFC 7323: its window unscaled (the one offered, kept:
       reqsk.h). */
    return out_syn_all(st, NULL, r, (uint16_t)r->rcv_wnd, retransmit, false);
}

/* A half-open entry's header words 0-4 (checksum word zero, data offset added by the
   sender): our ISS on its SYN+ACK, ISS + 1 on its ACK. */
static inline void req_words(const tw_reqsk *r, uint32_t *w, uint8_t flags, uint16_t win)
{
    w[0] = (uint32_t)(uint16_t)r->h.key << 16 | (uint16_t)(r->h.key >> 16);
    w[1] = (flags & TW_SYN) ? r->iss : r->iss + 1;
    w[2] = r->irs + 1;
    w[3] = (uint32_t)flags << 16 | win;
    w[4] = 0;
}

/* A half-open entry's options as negotiated: for its SYN+ACK (`syn`) exactly what the SYN
   offered and we take (S2/S4, the same as a connection's: tcp_conn.c tw_conn_syn_opts),
   for its ACK the timestamps alone. */
static inline void req_opts(tw_stack *st, const tw_reqsk *r, tw_tcp_opts *o, bool syn)
{
    o->sack_n = 0;
    o->present = 0;
    if (syn) {
        o->present = TW_OPT_MSS;
        o->mss = tw_conn_local_mss(r->listener);
        if (r->opts & TW_OPT_WSCALE) {
            o->present |= TW_OPT_WSCALE;
            o->wscale = req_wscale(r);
        }
        if (r->opts & TW_OPT_SACK_PERM) {
            o->present |= TW_OPT_SACK_PERM;
        }
    }
    if (r->opts & TW_OPT_TS) {
        o->present |= TW_OPT_TS;
        o->ts_val = tw_ts_now(st, r->ts_off);
        o->ts_ecr = r->ts_recent;
    }
}

/* A half-open entry's SYN+ACK without all four options, or its ACK: the option set as
   negotiated, through out_words. */
static __attribute__((noinline)) void req_send_general(tw_stack *st, const tw_reqsk *r,
                                                      uint8_t flags, bool retransmit)
{
    uint32_t raddr = (uint32_t)(r->h.key >> 32);
    uint32_t space = r->rcv_wnd; /* (the window offered, kept: reqsk.h) */
    uint16_t win;
    tw_tcp_opts o;
    req_opts(st, r, &o, flags & TW_SYN);
    if (flags & TW_SYN) {
        win = (uint16_t)space; /* RFC 7323: unscaled */
    } else {
        uint32_t sw = space >> req_wscale(r);
        win = (uint16_t)(sw > 65535u ? 65535u : sw);
    }
    uint32_t w[5 + TW_TCP_MAX_OPT / 4];
    req_words(r, w, flags, win);
    tw_trace_id tid = {r->id, r->iss, r->irs, TW_STATE_SYN_RCVD};
    out_words(st, NULL, raddr, w, &o, NULL, 0, 0, retransmit, &tid);
}

/* The Fast Open option's words (RFC 7413 4.1.1): kind 34 (or 254 with its magic), its
   length and the cookie (none: a request), then NOPs up to a word, as Linux writes it;
   returns the count. */
static unsigned fo_words(uint32_t *w, const tw_tfo_cookie *cookie)
{
    uint8_t b[4 + TW_FASTOPEN_COOKIE_MAX + 4];
    unsigned clen = cookie ? cookie->len : 0;
    unsigned n;
    if (cookie && cookie->exp) {
        n = 4 + clen; /* kind 254, length, magic 0xF989 (RFC 6994) */
        b[0] = 254;
        b[1] = (uint8_t)n;
        b[2] = 0xf9;
        b[3] = 0x89;
        memcpy(b + 4, cookie->val, clen);
    } else {
        n = 2 + clen;
        b[0] = 34;
        b[1] = (uint8_t)n;
        if (clen) {
            memcpy(b + 2, cookie->val, clen);
        }
    }
    while (n % 4) {
        b[n++] = 1; /* NOP */
    }
    for (unsigned i = 0; i < n / 4; i++) {
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
               (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
    }
    return n / 4;
}

/* out_words_as with the Fast Open option after the others (Linux's order). */
static void out_words_fo(tw_stack *st, const tw_socket *c, uint32_t raddr, uint32_t *w,
                         const tw_tcp_opts *o, const tw_tfo_cookie *cookie, tw_ring *ring,
                         uint32_t off, uint32_t len, const tw_trace_id *tid)
{
    unsigned nw = 5 + opt_words(o, w + 5);
    nw += fo_words(w + nw, cookie);
    assert(nw <= 15);
    w[3] |= (uint32_t)nw << 28; /* data offset */
    tw_count(st, TW_CNT_TCP_TX_SEGMENTS);
    if (st->cfg.trace) {
        tw_tcp_opts t = *o;
        t.present |= TW_OPT_FASTOPEN;
        trace_words(st, c, w, &t, len, false, raddr, tid);
    }
    send_words(st, raddr, w, nw, ring, off, len);
}

void tw_out_req_synack_fo(tw_stack *st, const tw_reqsk *r, const tw_tfo_cookie *cookie)
{
    /* req_send_general's SYN+ACK, with the cookie */
    tw_tcp_opts o;
    req_opts(st, r, &o, true);
    uint32_t w[5 + TW_TCP_MAX_OPT / 4];
    req_words(r, w, TW_SYN | TW_ACK, (uint16_t)r->rcv_wnd); /* RFC 7323: unscaled */
    tw_trace_id tid = {r->id, r->iss, r->irs, TW_STATE_SYN_RCVD};
    out_words_fo(st, NULL, (uint32_t)(r->h.key >> 32), w, &o, cookie, NULL, 0, 0, &tid);
}

void tw_out_syn_fo(tw_socket *c, const tw_tfo_cookie *cookie, uint32_t data)
{
    /* syn_other's SYN, with the option and `data` bytes from the send ring's front */
    uint32_t w[5 + TW_TCP_MAX_OPT / 4];
    tw_tcp_opts o;
    syn_words(c, w, &o);
    out_words_fo(c->st, c, c->raddr, w, &o, cookie, &c->snd, 0, data, NULL);
}

int tw_out_req_synack(tw_stack *st, tw_reqsk *r)
{
    return req_synack(st, r, false);
}

void tw_out_req_synack_again(tw_stack *st, tw_reqsk *r)
{
    req_synack(st, r, true);
}

void tw_out_req_ack(tw_stack *st, const tw_reqsk *r)
{
    req_send_general(st, r, TW_ACK, false);
}

/* Bytes presumed in the network: RFC 6675's pipe during SACK recovery, otherwise what
   was sent from snd_una up to snd_nxt (after a timeout snd_nxt goes back to snd_una). */
static uint32_t pipe_now(const tw_socket *c)
{
    if (c->ca_state == TW_CA_RECOVERY && (c->flags & TW_F_SACK)) {
        return tw_sack_pipe(c);
    }
    uint32_t out = (uint32_t)tw_seq_diff(c->snd_nxt, c->snd_una);
    if (c->ca_state == TW_CA_LOSS && c->sacked) {
        /* Going back after a timeout: what the peer SACKed is not in the network, nor
           a retransmission RACK found lost again (RFC 8985 6.2, RFC 6675 4 SetPipe). */
        uint32_t sk = tw_sack_below(c, c->snd_nxt);
        if (tw_conn_sbx(c)->nrelost) {
            sk += tw_sack_relost_bytes(c, c->snd_nxt);
        }
        out = out > sk ? out - sk : 0;
    }
    return out;
}

/* After a timeout, resending from snd_una skips what the peer has SACKed (RFC 6675 5.1
   keeps the scoreboard; Linux does the same). Returns how far the segment at snd_nxt may
   reach before the next SACKed range. */
static uint32_t skip_sacked(tw_socket *c, uint32_t n)
{
    if (c->ca_state != TW_CA_LOSS || !c->sb || !c->sb->n) {
        return n;
    }
    for (unsigned i = 0; i < c->sb->n; i++) {
        const tw_range *r = &tw_ranges_get(c->sb)[i];
        if (tw_seq_le(r->end, c->snd_nxt)) {
            continue;
        }
        if (tw_seq_le(r->start, c->snd_nxt)) {
            c->snd_nxt = r->end; /* inside a SACKed range: jump over it */
            continue;
        }
        uint32_t gap = (uint32_t)tw_seq_diff(r->start, c->snd_nxt);
        return n < gap ? n : gap;
    }
    return n;
}

/* The congestion window in force, with RFC 3042's limited transmit: the first two
   duplicate ACKs may each release one new segment. */
static uint32_t cwnd_now(const tw_socket *c)
{
    if (c->ca_state == TW_CA_DISORDER) {
        return c->cwnd + (c->dupacks < 2 ? c->dupacks : 2u) * c->snd_mss;
    }
    return c->cwnd;
}

/* Payload bytes one segment may carry now: snd_mss already leaves room for timestamps;
   SACK blocks riding on the segment take more (RFC 9293 3.7.1: Eff.snd.MSS is the MSS
   less the options sent; RFC 6691; Linux's tcp_current_mss does the same), so a segment
   never exceeds the peer's MSS nor the MTU. No floor: snd_mss is at least 36 (the peer's
   MSS is clamped to 48, less 12 for timestamps) and the blocks take at most 28 with
   timestamps, 36 without (then snd_mss is at least 48), so at least 8 bytes remain. */
static uint32_t seg_payload_max_sack(const tw_socket *c)
{
    unsigned n = ((c->flags & TW_F_DSACK) ? 1u : 0u) + (c->ooo ? c->ooo->n : 0u) +
                 (tw_sack_fin_alone(c) ? 1u : 0u);
    unsigned max = (c->flags & TW_F_TS) ? 3u : 4u;
    if (n > max) {
        n = max;
    }
    uint32_t extra = n ? 4u + 8u * n : 0u;
    assert(c->snd_mss > extra);
    return c->snd_mss - extra;
}

/* Inline for the usual case, no SACK block to carry (the same test as emit's plain
   case, which the compiler then shares): the whole MSS. */
static inline uint32_t seg_payload_max(const tw_socket *c)
{
    if (!sack_blocks_due(c)) {
        return c->snd_mss;
    }
    return seg_payload_max_sack(c);
}

uint32_t tw_out_resend(tw_socket *c, tw_seq seq, uint32_t maxlen)
{
    tw_seq data_end = tw_seq_add(c->snd_buf_seq, c->snd.len);
    if (tw_seq_lt(seq, c->snd_buf_seq)) {
        return 0;
    }
    if (tw_seq_ge(seq, data_end)) {
        if (tw_conn_fin_sent(c) && tw_seq_eq(seq, data_end)) {
            emit(c, TW_FIN | TW_ACK, seq, 0, 0, true);
            return 1;
        }
        return 0;
    }
    uint32_t n = (uint32_t)tw_seq_diff(data_end, seq);
    uint32_t most = seg_payload_max(c);
    if (n > most) {
        n = most;
    }
    if (n > maxlen) {
        n = maxlen;
    }
    /* A retransmission carries only what was sent before (below SND.MAX). The segment
       may hold more than the first one did (it sent SACK blocks that took payload room,
       or a smaller window cut it): bytes past SND.MAX would reach the peer while SND.MAX
       stayed put, and its ACK of them would then look like an ACK of unsent data and be
       dropped for ever (RFC 9293 3.10.7.4 fifth) -- both ends retransmitting until they
       gave up. Those bytes go out as new data, by push_segs. */
    if (tw_seq_ge(seq, c->snd_max)) {
        return 0;
    }
    uint32_t sent_before = (uint32_t)tw_seq_diff(c->snd_max, seq);
    if (n > sent_before) {
        n = sent_before;
    }
    uint8_t flags = TW_ACK;
    if (tw_seq_eq(tw_seq_add(seq, n), data_end)) {
        flags |= TW_PSH;
        if (tw_conn_fin_sent(c)) {
            flags |= TW_FIN;
        }
    }
    emit(c, flags, seq, (uint32_t)tw_seq_diff(seq, c->snd_buf_seq), n, true);
    if (c->sb) {
        tw_rack_sent(c, seq, n, true); /* RFC 8985 6 */
    }
    return n;
}

/* RFC 6675 NextSeg (1): retransmit the next hole that IsLost (below the lost point).
   Returns false when there is no hole left to resend. */
/* RFC 8985 6.2: a retransmission RACK found lost goes again first; the next one still a
   hole. Returns false when none is. */
static __attribute__((noinline, cold)) bool resend_relost(tw_socket *c)
{
    tw_sbx *x = tw_conn_sbx(c);
    while (x->nrelost) {
        tw_seq a = x->relost[0];
        x->nrelost--;
        memmove(&x->relost[0], &x->relost[1], x->nrelost * sizeof x->relost[0]);
        tw_seq start;
        uint32_t len;
        if (!tw_sack_hole(c, a, tw_seq_add(a, c->snd_mss), &start, &len) ||
            !tw_seq_eq(start, tw_seq_max(a, c->snd_una))) {
            continue; /* SACKed or acknowledged since */
        }
        uint32_t n = tw_out_resend(c, start, len);
        if (n) {
            c->total_retrans++;
            return true;
        }
    }
    return false;
}

static bool resend_hole(tw_socket *c)
{
    tw_seq start;
    uint32_t len;
    if (c->sb && tw_conn_sbx(c)->nrelost && resend_relost(c)) {
        return true;
    }
    if (!tw_sack_hole(c, c->high_rxt, tw_sack_lost_point(c), &start, &len)) {
        return false;
    }
    uint32_t n = tw_out_resend(c, start, len);
    if (!n) {
        return false;
    }
    c->total_retrans++;
    c->high_rxt = tw_seq_add(start, n);
    return true;
}

/* How many full segments push_full may send from snd_nxt (at most `max`): each with more
   than one MSS of new data waiting (so no PSH or FIN on it), room in both windows, and
   bytes in one piece of the ring with room for the headers in front of the first. */
static unsigned full_segs(const tw_socket *c, unsigned max, const uint8_t **p)
{
    uint32_t mss = c->snd_mss;
    tw_seq data_end = tw_seq_add(c->snd_buf_seq, c->snd.len);
    tw_seq win_end = tw_seq_add(c->snd_una, c->snd_wnd);
    uint32_t pipe = (uint32_t)tw_seq_diff(c->snd_nxt, c->snd_una);
    if (!tw_seq_gt(data_end, c->snd_nxt) || !tw_seq_gt(win_end, c->snd_nxt) || c->cwnd <= pipe ||
        mss == 0) {
        return 0;
    }
    uint32_t off = (uint32_t)tw_seq_diff(c->snd_nxt, c->snd_buf_seq);
    uint32_t pos = tw_ring_pos(&c->snd, off);
    if (pos < HDR_ROOM) {
        return 0;
    }
    uint32_t most = ((uint32_t)tw_seq_diff(data_end, c->snd_nxt) - 1) / mss; /* not to_end */
    uint32_t w = (uint32_t)tw_seq_diff(win_end, c->snd_nxt) / mss;
    uint32_t cw = (c->cwnd - pipe) / mss;
    uint32_t ring = (c->snd.cap - pos) / mss; /* before the wrap */
    most = most < w ? most : w;
    most = most < cw ? most : cw;
    most = most < ring ? most : ring;
    *p = c->snd.buf + pos;
    return most < max ? most : max;
}

/* Full-sized segments of new data, most of a bulk transfer (RFC 9293 3.10.4 with nothing
   unusual going on: open congestion state, nothing to retransmit or SACK). They differ
   only in sequence number, IPv4 length and id, and checksums, so the headers are built
   once (by emit's rules: same bytes on the wire) and each segment costs a copy of them,
   the sum of its payload and the sums of the changed fields (RFC 1071: the sum of the
   parts). Payloads go out where they lie in the ring, as in send_words. Returns segments
   sent; 0 when the next segment is not such a one (push_segs' steps take it). */
static void pto_arm_idle(tw_socket *c);
static void pto_restart(tw_socket *c, tw_seq top);
/* pto_restart's test of the clock, inline at each send of new sequence space with a
   flight out (one compare where the clock has not moved: a burst after an ACK); `top`:
   SND.MAX once the segment has gone. */
static inline __attribute__((always_inline)) void pto_restart_check(tw_socket *c, tw_seq top)
{
    if (__builtin_expect(c->stall_start != c->st->now, 0)) {
        pto_restart(c, top);
    }
}


static inline __attribute__((always_inline)) unsigned push_full(tw_socket *c, unsigned max_segs,
                                                                unsigned nnew)
{
    tw_stack *st = c->st;
    if (c->ca_state != TW_CA_OPEN || !tw_seq_eq(c->snd_nxt, c->snd_max) ||
        sack_blocks_due(c)) {
        return 0;
    }
    const uint8_t *p;
    unsigned n = full_segs(c, max_segs, &p);
    if (n == 0) {
        return 0;
    }
    /* The template: emit()'s header for an ACK without SACK blocks. */
    tw_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    h.sport = c->lport;
    h.dport = c->rport;
    h.ack = c->rcv_nxt.v;
    h.flags = TW_ACK;
    if (c->flags & TW_F_TS) {
        h.o.present = TW_OPT_TS;
        h.o.ts_val = tw_ts_now(st, c->ts_offset);
        h.o.ts_ecr = c->ts_recent;
    }
    h.win = adv_window(c, false);
    ack_carried(c);
    uint8_t tpl[HDR_ROOM];
    uint8_t *ttcp = tpl + TW_IPV4_HDR_LEN;
    size_t olen = tw_tcp_build_opts(ttcp + TW_TCP_HDR_LEN, &h.o);
    size_t hlen = TW_TCP_HDR_LEN + olen, htotal = TW_IPV4_HDR_LEN + hlen;
    tw_tcp_build_hdr(ttcp, &h, olen, st->cfg.addr, c->raddr, 0);
    uint32_t mss = c->snd_mss;
    /* The total length is the same for every segment: in the template. */
    /* The IPv4 header is the same for every segment (length, and the atomic id): whole,
       checksum included, in the template. */
    tw_ipv4_build(tpl, st->cfg.addr, c->raddr, TW_IPPROTO_TCP, (uint16_t)(hlen + mss),
                  TW_IPV4_ATOMIC_ID);
    memset(ttcp + 16, 0, 2); /* TCP checksum */
    /* With the pseudo-header's TCP length (RFC 9293 3.1), also the same for each. */
    uint64_t tcp_base = tw_cksum_add64(
        tw_cksum_native_words(
            tw_cksum_to_native(tw_cksum_pseudo(st->cfg.addr, c->raddr, TW_IPPROTO_TCP, 0)),
            ttcp, hlen / 4),
        tw_cksum_to_native((uint16_t)(hlen + mss)));
    /* PSH on every second full segment of the burst (push_segs' nnew counts them): a
       second template with the flag, and its sum (the flags byte is the low byte of the
       big-endian word at offset 12); each segment takes one or the other by its parity
       (2 instructions a segment where a flag set and added in the loop took 9). */
    uint8_t tpl_psh[HDR_ROOM];
    memcpy(tpl_psh, tpl, sizeof(tpl));
    tpl_psh[TW_IPV4_HDR_LEN + 13] = TW_ACK | TW_PSH;
    const uint8_t *const tpls[2] = {tpl, tpl_psh};
    const uint64_t bases[2] = {tcp_base, tw_cksum_add64(tcp_base, tw_cksum_to_native(TW_PSH))};
    unsigned ph = (nnew & 1u) ^ 1u; /* the next segment is the (nnew + 1)th */
    if (tw_seq_eq(c->snd_una, c->snd_max)) {
        c->stall_start = st->now; /* nothing was in flight */
        pto_arm_idle(c);
    } else {
        pto_restart_check(c, tw_seq_add(c->snd_nxt, n * mss)); /* RFC 8985 7.2 */
    }
    if (!(c->flags & TW_F_RTT_TIMING)) {
        c->flags |= TW_F_RTT_TIMING; /* RFC 6298 3, as in push_segs */
        c->rtt_seq = tw_seq_add(c->snd_nxt, mss);
        c->rtt_start = st->now;
    }
    for (const uint8_t *end = p + (size_t)n * mss; p != end; p += mss) {
        uint8_t *room = (uint8_t *)(uintptr_t)(p - HDR_ROOM);
        uint8_t saved[HDR_ROOM];
        memcpy(saved, room, HDR_ROOM);
        uint8_t *pkt = room + HDR_ROOM - htotal;
        ph ^= 1u;
        if (htotal == TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN + 12) {
            memcpy(pkt, tpls[ph], TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN + 12); /* with timestamps */
        } else {
            memcpy(pkt, tpls[ph], htotal);
        }
        uint8_t *tcp = pkt + TW_IPV4_HDR_LEN;
        tw_store_be32(tcp + 4, c->snd_nxt.v);
        tw_cksum_native_store(tcp + 16, tw_cksum_add64x2(bases[ph], load32(tcp + 4),
                                                         tw_cksum_native(0, p, mss)));
        tw_count(st, TW_CNT_TCP_TX_SEGMENTS);
        /* (through plain_xmit: a traced stack's tw_out_traced_xmit reads back what the
           template h says, trace_plain's fields) */
        if (st->plain_xmit(pkt, htotal + mss, st->plain_ud) != 0) {
            tw_count(st, TW_CNT_TX_DROPPED);
        }
        memcpy(room, saved, HDR_ROOM);
        c->snd_nxt = tw_seq_add(c->snd_nxt, mss);
    }
    c->snd_max = c->snd_nxt;
    if (__builtin_expect(c->sb != NULL, 0)) {
        tw_rack_sent(c, tw_seq_add(c->snd_nxt, (uint32_t)-(n * mss)), n * mss, false);
    }
    return n;
}

/* RFC 8985 7.2: "start or restart a loss probe PTO timer after transmitting new data".
   New data sent with nothing in flight (the ACK of everything stopped the timer) ran for
   the RTO: when the ACK(s) of that whole flight were lost, or its last segments, nothing
   came back and the sender waited out the RTO (rto_min, 200 ms, where Linux's
   tcp_schedule_loss_probe after tcp_write_xmit probes at 2 * SRTT). On a short path with
   lost ACKs most of a transfer's time went that way (5 % loss each way over TUN, 20 MB:
   64 RTOs, 20 s against the kernel's 2.4 s). Here the slot runs for the PTO instead (a
   one-segment flight's PTO gets the delayed-ACK allowance in on_early, and is then the
   RTO). Only for push_segs' sending from idle, not push_last's request or response. */
static __attribute__((noinline, cold)) void pto_arm_idle(tw_socket *c)
{
    if (c->rto_at != TW_TIME_NEVER || (c->flags & TW_F_PERSIST)) {
        return;
    }
    tw_time d = tw_conn_pto_or_rto(c->st, c);
    if (d < c->rto) {
        c->rto_at = tw_time_add(c->st->now, d);
        tw_conn_timer_update(c);
    }
}

/* RFC 8985 7.2: "start or restart a loss probe PTO timer after transmitting new data
   (that was not itself a loss probe)". New sequence space (data or the FIN) has just gone
   with a flight out: a running PTO now counts from this send, as Linux's
   tcp_schedule_loss_probe after each tcp_write_xmit that sent new data, capped by 7.2's
   rule that the probe is no later than the RTO would fire (stall_start + rto, or the
   deadline RACK's timer kept). The RTO's own deadline does not move (RFC 6298 5.1 restarts
   it only on an ACK of new data): on_early (tcp_timer.c) tells the PTO's expiry from it
   by stall_start, which is left alone, and finds the probe due there (stall_start + PTO
   is passed). Only a running PTO moves, and only later: a slot that runs for the RTO
   (push_last's request or response, a probe already sent) stays so; with SACKed data
   (c->sacked) RACK's reordering timer may hold the slot and is not pushed back. The probe's
   own sends come with the slot stopped (tcp_timer.c clears rto_at first). The caller has
   asked that the clock moved since stall_start was set: a send at the ACK's instant
   (whose ACK armed the PTO from now, tcp_in.c) or right after a send from idle has
   nothing to restart. */
static __attribute__((noinline, cold)) void pto_restart(tw_socket *c, tw_seq top)
{
    tw_stack *st = c->st;
    if (c->rto_at == TW_TIME_NEVER || (c->flags & (TW_F_PERSIST | TW_F_SYN_UNACKED)) ||
        c->sacked != 0 || c->state < TW_STATE_ESTABLISHED) {
        return;
    }
    if (tw_conn_pto_or_rto(st, c) >= c->rto) {
        return; /* no probe may follow: the slot is the RTO's */
    }
    /* (with the one-segment flight's delayed-ACK allowance, as on_early's) */
    tw_time pto = tw_conn_tlp_pto(c, (uint32_t)tw_seq_diff(top, c->snd_una));
    if (pto >= c->rto) {
        return;
    }
    tw_time due = tw_conn_rto_due(c);
    tw_time at = tw_time_add(st->now, pto);
    if (at > due) {
        at = due; /* RFC 8985 7.2: no later than the RTO */
    }
    /* (nor past the user timeout's end, RFC 9293 3.10.8, as tcp_timer.c's
       clamp_to_user_timeout keeps every deadline of the slot) */
    tw_time user_timeout = tw_conn_user_timeout(c);
    if (user_timeout && tw_time_add(c->stall_start, user_timeout) < at) {
        at = tw_time_add(c->stall_start, user_timeout);
    }
    if (at > c->rto_at) {
        c->rto_at = at;
        tw_conn_timer_update(c);
    }
}
/* TCP_CORK (or MSG_MORE's call) holds the short last segment of `held` bytes, which the
   window takes (Linux's tcp_nagle_check with TCP_NAGLE_CORK; a FIN queued lets it go).
   With nothing in flight the persist timer's slot runs for it, as Linux's probe timer
   (tcp_check_probe_timer: one RTO, at least rto_min, checked against Linux 6.18 over TUN),
   and its expiry sends it (on_persist, the window open: tw_out_probe_data); with data in
   flight the RTO runs, and the ACK of the flight comes back here. A window that opens
   after probes of a closed one starts the wait afresh, as Linux's tcp_ack_probe (which
   also does so for any pure ACK that comes meanwhile: not followed, this step does not
   know what called it). */
static __attribute__((noinline, cold)) void cork_hold(tw_socket *c, uint32_t held)
{
    tw_stack *st = c->st;
    tw_count(st, TW_CNT_TCP_CORK_HELD);
    if (!tw_seq_eq(c->snd_una, c->snd_max) ||
        ((c->flags & TW_F_PERSIST) &&
         ((c->persist_backoff & TW_PERSIST_BACKOFF) == 0 || c->snd_wnd < held))) {
        return;
    }
    tw_persist_start(c);
}

/* Send segments while data (or the FIN), the peer's window and the congestion window
   allow, at most `max_segs`. `probe` lets one byte go beyond a closed window (the first
   retransmission after a timeout doubles as a window probe). Returns segments sent. */
static unsigned push_segs(tw_socket *c, unsigned max_segs, bool probe)
{
    unsigned sent = 0;
    /* Full segments of new data sent in this burst: PSH on every second one. Linux's
       tcp_sendmsg builds its skbs of size_goal bytes, two segments (tcp_tso_autosize's
       floor, tcp_min_tso_segs, at any but the shortest RTTs); a write to an idle
       connection leaves each skb it fills with PSH on its last segment (GSO and TSO
       keep the header's PSH on the last segment of the skb), and its last skb has it
       too (tcp_push). Seen on Linux 6.18 over TUN (tests/oracle/t_psh.py: a 30000-byte
       write at MSS 1000 goes as ". P. . P. ...", whatever the window, all at once or
       ACK-clocked; a 2002-byte write at MSS 974 as ". P. P."). Counting from the
       burst's start rather than the write's keeps no state (struct tw_socket has no
       room); both agree when each burst is a whole number of skbs (a write sent at
       once, ACKs of every segment or of every second one). Not followed: skbs larger
       than two segments where Linux's pacing rate is high (RTTs of a millisecond or
       two; tests/oracle/t_psh.py with KPD_GSO=1 shows the skbs whole).
       RFC 9293 3.9.1 and RFC 1122 4.2.2.2 leave PSH's placement to the sender. */
    unsigned nnew = 0;
    bool nagle_counted = false;
    while (sent < max_segs) {
        if (c->ca_state < TW_CA_RECOVERY && !(c->flags & TW_F_FIN_QUEUED) &&
            tw_seq_eq(c->snd_nxt, tw_seq_add(c->snd_buf_seq, c->snd.len))) {
            break; /* nothing new to send and no hole to repair: the common ACK-only case */
        }
        /* More than a full segment waiting: push_full's case (its own tests follow). */
        if (!probe && tw_seq_gt(tw_seq_add(c->snd_buf_seq, c->snd.len),
                                tw_seq_add(c->snd_nxt, c->snd_mss))) {
            unsigned k = push_full(c, max_segs - sent, nnew);
            if (k) {
                sent += k;
                nnew += k;
                continue;
            }
        }
        uint32_t pipe = pipe_now(c);
        uint32_t cw = cwnd_now(c);
        uint32_t cwnd_room = cw > pipe ? cw - pipe : 0;
        /* RFC 6675 NextSeg: a hole before new data, on the same room: a segment as large
           as the SACK blocks it carries leave (RFC 6691), as new data below takes it. Gated
           by the full MSS instead, a room between the two let new data go ahead of a
           retransmission RACK found lost, round after round, until the RTO. */
        if (c->ca_state == TW_CA_RECOVERY && (c->flags & TW_F_SACK) &&
            cwnd_room >= seg_payload_max(c) && resend_hole(c)) {
            sent++;
            continue;
        }
        if (c->ca_state == TW_CA_LOSS && c->sb && tw_conn_sbx(c)->nrelost &&
            cwnd_room >= seg_payload_max(c) && resend_relost(c)) {
            sent++; /* (RFC 8985 6.2 after a timeout: before the go-back-N's next) */
            continue;
        }
        tw_seq data_end = tw_seq_add(c->snd_buf_seq, c->snd.len);
        tw_seq win_end = tw_seq_add(c->snd_una, c->snd_wnd);
        bool fin_q = (c->flags & TW_F_FIN_QUEUED) != 0;
        uint32_t upto = skip_sacked(c, UINT32_MAX);
        bool retrans = tw_seq_lt(c->snd_nxt, c->snd_max);
        if (tw_seq_lt(c->snd_nxt, data_end)) {
            uint32_t avail = (uint32_t)tw_seq_diff(data_end, c->snd_nxt);
            if (upto < avail) {
                avail = upto; /* stop before the next SACKed range */
            }
            uint32_t room = tw_seq_gt(win_end, c->snd_nxt)
                                ? (uint32_t)tw_seq_diff(win_end, c->snd_nxt)
                                : 0;
            uint32_t most = seg_payload_max(c);
            if (room == 0 && probe) {
                /* A window shrunk to nothing under data in flight (RFC 9293 3.8.6.2.1,
                   RFC 7323 2.4): the timeout's resend of the head is the window probe,
                   a whole segment as Linux's __tcp_retransmit_skb sends it (the peer
                   takes it if its buffer has room again); otherwise one byte. */
                room = tw_seq_eq(c->snd_nxt, c->snd_una) && retrans ? most : 1;
            }
            uint32_t n = avail < most ? avail : most;
            if (n > room) {
                n = room;
            }
            if (n == 0) {
                break; /* window closed: the persist timer takes over */
            }
            if (cwnd_room < n && !probe) {
                break; /* congestion window full (RFC 5681): wait for ACKs */
            }
            bool in_flight = !tw_seq_eq(c->snd_una, c->snd_max);
            if (n < most && n < avail && !probe && n < c->max_snd_wnd / 2) {
                /* RFC 9293 3.8.6.2.1: no runt segments into a small window; with nothing
                   in flight the persist timer is the override timeout (on_persist). */
                break;
            }
            if (n < most && n == avail && !fin_q && (c->flags & TW_F_CORK) && !probe &&
                !retrans) {
                cork_hold(c, n);
                break;
            }
            if (n < most && n == avail && !fin_q && !(c->flags & TW_F_NODELAY) &&
                !probe && !retrans && tw_seq_gt(c->snd_sml, c->snd_una)) {
                /* Nagle (RFC 9293 3.7.4) in Minshall's form, as Linux does it: hold a
                   small segment while an earlier small one is unacknowledged. */
                if (!nagle_counted) {
                    tw_count(c->st, TW_CNT_TCP_NAGLE_HELD);
                    nagle_counted = true;
                }
                break;
            }
            uint8_t flags = TW_ACK;
            bool fin = false;
            bool to_end = tw_seq_eq(tw_seq_add(c->snd_nxt, n), data_end);
            if (!retrans && n == c->snd_mss && !(++nnew & 1u)) {
                flags |= TW_PSH; /* (every second full segment: nnew above) */
            }
            if (to_end) {
                flags |= TW_PSH; /* the segment that empties the buffer asks for delivery */
                if (fin_q && (n < room || probe)) { /* (the FIN in the window too) */
                    flags |= TW_FIN;
                    fin = true;
                }
            }
            uint32_t off = (uint32_t)tw_seq_diff(c->snd_nxt, c->snd_buf_seq);
            if (!(c->flags & TW_F_RTT_TIMING) && !retrans) {
                /* RFC 6298 3: time one segment per RTT; Karn's rule excludes
                   retransmitted ones. */
                c->flags |= TW_F_RTT_TIMING;
                c->rtt_seq = tw_seq_add(c->snd_nxt, n);
                c->rtt_start = c->st->now;
            }
            if (!in_flight) {
                c->stall_start = c->st->now;
                pto_arm_idle(c);
            } else if (!retrans) {
                pto_restart_check(c, tw_seq_add(c->snd_nxt, n + (fin ? 1u : 0u))); /* 8985 7.2 */
            }
            emit(c, flags, c->snd_nxt, off, n, retrans);
            if (c->sb) {
                tw_rack_sent(c, c->snd_nxt, n, retrans); /* RFC 8985 6 */
            }
            c->snd_nxt = tw_seq_add(c->snd_nxt, n + (fin ? 1u : 0u));
            if (n < c->snd_mss && !retrans) {
                /* (Nagle's mark: new short segments only, as Linux's tcp_minshall_update,
                   so that a retransmission, such as a Fast Open SYN's data sent again
                   after a SYN+ACK that took the SYN alone, holds nothing back) */
                c->snd_sml = c->snd_nxt;
            }
        } else if (fin_q && tw_seq_eq(c->snd_nxt, data_end) &&
                   (probe || tw_seq_gt(win_end, c->snd_nxt))) {
            /* S10/S13: the FIN takes one sequence number of its own, so it waits for
               the window like data (RFC 9293 3.8.6.1: the persist timer probes a
               closed one; a retransmission or probe sends it regardless). */
            if (tw_seq_eq(c->snd_una, c->snd_max)) {
                c->stall_start = c->st->now;
            } else if (!retrans) {
                /* RFC 8985 7.2: the FIN is new sequence space */
                pto_restart_check(c, tw_seq_add(c->snd_nxt, 1));
            }
            emit(c, TW_FIN | TW_ACK, c->snd_nxt, 0, 0, retrans);
            c->snd_nxt = tw_seq_add(c->snd_nxt, 1);
        } else {
            break;
        }
        if (retrans) {
            c->total_retrans++;
        }
        c->snd_max = tw_seq_max(c->snd_max, c->snd_nxt);
        sent++;
    }
    return sent;
}

/* push_last's send variables for its segment [snd_nxt, nxt) (the Nagle mark, snd_sml,
   set where push_last tests the segment's size). */
static inline __attribute__((always_inline)) void push_last_sent(tw_socket *c, tw_seq nxt)
{
    c->snd_nxt = nxt;
    c->snd_max = nxt;
}

/* push_last's sending, once its tests have passed: the segment of `flags` with `avail`
   bytes of the ring at `off` (and the FIN when flags has it) from snd_nxt. Inline in
   each of push_last's two cases, so that each goes on straight to its own builder.
   `set`: flags to set with the ACK's change of them (a data segment's TW_F_RTT_TIMING).
   `orphan`: the caller knows the segment is an orphan's FIN alone (close's). `in_flight`:
   data was in flight before it, or the caller has set stall_start itself (push_last_data).
   `fresh`: push_last_as's (the ACK of our SYN just processed: no delayed-ACK timer). */
static inline __attribute__((always_inline)) int push_last_send(tw_stack *st, tw_socket *c,
                                                                 uint8_t flags, uint32_t off,
                                                                 uint32_t avail, bool in_flight,
                                                                 uint32_t set, tw_time now,
                                                                 bool orphan, bool fresh,
                                                                 bool plain, bool front,
                                                                 bool dack_off, bool rto_idle)
{
    assert(now == st->now);
    /* (rto_idle: push_fin_leave's idle copy, an orphan's FIN: SEG_RTO_IDLE) */
    assert(!rto_idle || (orphan && !in_flight));
    /* The FIN alone comes from close() (or a shutdown), and close shuts the reading
       side, whose window stays open at the whole buffer (tw_conn_rcv_space's first
       case): asked first there (as tw_out_ack_last does). */
    bool shut_first = avail == 0;
    /* (nothing in flight: a request's, a response's, a close's usual case) */
    if (__builtin_expect(!in_flight, 1)) {
        c->stall_start = now;
    }
    tw_seq seq = c->snd_nxt;
    tw_seq rn = c->rcv_nxt; /* (read once for the window, the ACK's note and its field) */
    tw_seq nxt = tw_seq_add(seq, avail + (flags & TW_FIN ? 1u : 0u));
    /* One call site, emit()'s plain case inlined (as ack_fast does): every request,
       response and FIN comes here, and the call into emit and its dispatch cost about
       as much as the rest of this function. The send variables are set before the
       segment is built, not after: no hook can see the order (tcpwave.h: a hook calls
       nothing on the stack), and the builder then ends the function, with only c and the
       stack kept across the netdev's call (lifecycle -36 instructions). */
    /* What the segment carries (ack_carried) noted before the window is worked out, which
       reads nothing it changes: the window is then not kept across the delayed-ACK
       timer's stop, a call (GCC kept it on the stack: lifecycle -3 instructions). The
       orphan's FIN keeps the other order (+1 a FIN measured with this one). */
    if (!orphan) {
        /* (dack_off: the caller knows no delayed-ACK timer runs, fresh's or asked) */
        ack_carried_rn_set_as(c, rn, set, fresh || dack_off, fresh);
        /* (the flags as stored made a new value for GCC, which otherwise asked the
           builder's tests of them, TW_F_TS's, of the value loaded before the change, and
           kept both: a copy on every segment here but the orphan's FIN; measured:
           lifecycle -1 instr. The held push's, fresh, made to memory instead, which an
           empty asm "may change": its flip of the bits is then one store to memory and
           the test reads them there; measured: lifecycle -2 instr more) */
        if (fresh) {
            __asm__("" : "+m"(c->flags));
        } else {
            uint32_t f = c->flags;
            TW_OPAQUE(f);
            c->flags = f;
        }
    }
    uint16_t win = 0;
    int win_mode;
    assert(!orphan || (shut_first && (c->flags & TW_F_ORPHAN)));
    if (orphan || (shut_first && __builtin_expect((c->flags & TW_F_ORPHAN) != 0, 1))) {
        /* An orphan (close: its reading side shut too) offers the whole buffer, and
           adv_window's other steps change nothing for it: the space is rcvbuf_cap, never
           below sws_space's step (at most half of it), and the right edge it notes
           (rcv_adv) is not needed: with the reading side shut the acceptance window is
           at least the whole buffer (tcp_in.c rcv_window), never below this edge, and
           window_update_due asks only while the reading side is open. Nobody can lower
           an orphan's buffer (the application has no handle). */
        assert(c->flags & TW_F_SHUT_RD);
        uint32_t w = c->rcvbuf_cap >> c->rcv_wscale;
        win = (uint16_t)(w > 65535u ? 65535u : w);
        /* (worked out here: in the builder, as WIN_USUAL's is, the FIN alone measured
           +2 instructions) */
        win_mode = WIN_GIVEN | (rto_idle ? SEG_RTO_IDLE : 0);
    } else {
        /* (fresh: SYN-SENT's ACK of our SYN set the edge at RCV.NXT, tcp_in.c) */
        /* (fresh, with data: the held push's, SND.NXT at SND.BUF, and the ring's head at
           0: send wrote it from a block's start, socket.c, and nothing is taken from a
           send ring before the ACK of our SYN but by Fast Open, an extras block, which
           push_last_as has sent to push_segs) */
        assert(!fresh || avail == 0 ||
               (off == 0 && c->snd.head == 0 && !(c->flags & TW_F_EXTRAS)));
        win_mode = (fresh ? WIN_USUAL_FRESH : WIN_USUAL) | (plain ? WIN_PLAIN : 0) |
                   (front ? SEG_FRONT : 0) | (fresh && avail != 0 ? SEG_HEAD : 0);
    }
    if (orphan) {
        /* (the orphan's FIN alone: its caller sends a delayed-ACK timer that runs to the
           general steps, tw_out_push_now_leave) */
        ack_carried_rn_set_as(c, rn, set, true, false);
        /* (the flags' change made to memory, which an empty asm "may change": the
           builder's TS test then reads them there, where GCC kept the flags as loaded
           for that test and changed a copy, a load, a copy, a mask and a store where one
           masked store did; measured: lifecycle -3 instr a FIN) */
        __asm__("" : "+m"(c->flags));
    }
    push_last_sent(c, nxt);
    if (rto_idle) {
        /* (push_fin_leave's idle copy: tw_rto_start_idle_as' usual steps, here before
           the segment is built rather than after the netdev's call, with the clock read
           for stall_start: only the stack then lives across the call, not c (lifecycle
           -2 instr). Its rare cases (the clock's ends, another timer waiting unplaced)
           asked by the caller, tw_out_push_now_leave; the reasons for the start at
           push_fin_leave. No hook sees the order (tcpwave.h: a hook calls nothing on the
           stack), and the RTO starts whatever the netdev answers, as it did after it.) */
        assert(c != st->timer_held && c->rto_at == TW_TIME_NEVER &&
               (c->misc_at & c->dack_at & c->ka_at) == TW_TIME_NEVER &&
               !tw_timer_armed(&c->timer) && !st->wheel.lazy);
        assert(tw_rto_now_usual(st, c));
        tw_time rto_at = now + c->rto;
        c->rto_at = rto_at;
        wheel_lazy_wait(&st->wheel, &c->timer, rto_at);
    }
    /* (the netdev's answer, 0: emit_plain_body) */
    return emit_plain_w(st, c, flags, seq, off, avail, false, win, rn, win_mode);
}

static bool push_last_front_dack(tw_socket *c);

/* push_last's data segment, with fin_q a constant in each of its two copies (push_last):
   the FIN's window test, the Nagle mark's FIN and the segment's flags fold, and no
   flag is kept across the steps to choose the builder at their end. */
static inline __attribute__((always_inline)) bool push_last_data(tw_stack *st, tw_socket *c,
                                                                 tw_seq end, uint32_t avail,
                                                                 bool fin_q, bool in_flight,
                                                                 bool fresh, bool plain,
                                                                 bool at_buf, bool front,
                                                                 bool front_dack, bool sml)
{
    /* (sml: SND.SML not set by the caller, SYN-SENT's usual SYN+ACK (tcp_in.c
       established_from_syn_ka's copy without keepalive): set here in both cases of the
       segment's size, rather than to SND.UNA there first and again here for a short
       segment; a segment this copy leaves to push_segs has it set before, push_now_in_as;
       lifecycle -1 instr) */
    assert(!sml || fresh);
    uint32_t most = c->snd_mss;
    if (avail > most) {
        return false; /* more than one segment (or the FIN already sent) */
    }
    /* Room for all of it in the peer's window and in the congestion window, and
       for a FIN queued behind it (its sequence number in the window too). Each
       size test is one compare: avail is 1..snd_mss, so a window edge at or below
       snd_nxt (a signed difference <= 0) is below avail too, and pipe + avail is
       at most cwnd exactly when cwnd > pipe and cwnd - pipe >= avail. pipe + avail
       is end - snd_una (pipe = snd_nxt - snd_una, below 2^31 with snd_una <=
       snd_nxt, and avail below 2^16: no wrap), one subtraction. */
    assert((uint64_t)(uint32_t)tw_seq_diff(c->snd_nxt, c->snd_una) + avail ==
           (uint32_t)tw_seq_diff(end, c->snd_una));
    tw_seq win_end = tw_seq_add(c->snd_una, c->snd_wnd);
    int32_t wroom = tw_seq_diff(win_end, c->snd_nxt);
    uint32_t flight_end = (uint32_t)tw_seq_diff(end, c->snd_una);
    if (__builtin_constant_p(in_flight) && !in_flight) {
        /* (a copy that knows nothing is in flight: snd_una is snd_nxt, push_last_as, so
           the room is the window and pipe + avail is avail, with no subtraction) */
        assert(tw_seq_eq(c->snd_una, c->snd_nxt) && c->snd_wnd <= INT32_MAX);
        wroom = (int32_t)c->snd_wnd;
        flight_end = avail;
    }
    /* (fresh: tw_cc_init has just made cwnd initial_cwnd segments, 1 at least, stack.c,
       so the segment, at most one, fits: no test of it) */
    assert(!fresh || c->cwnd >= most);
    /* (front: send's first push, nothing in flight and congestion control Open, its
       caller's test: cwnd is at least one segment there, as RFC 5681 3.1 keeps it (the
       loss window, one segment, its least: tw_cc_init, the RTO, the ends of a reduction
       and an idle restart never set less, tcp_in.c and above), and the segment is at
       most one: no test of it either. A window below one segment with nothing in flight
       would stall push_segs for good, no ACK left to open it: asserted, the ASan suite
       tells.) */
    assert(!front || c->cwnd >= avail);
    if (wroom < (int32_t)avail || (fin_q && wroom == (int32_t)avail) ||
        (!fresh && !front && flight_end > c->cwnd)) {
        return false;
    }
    /* (fresh: a receive buffer below one MSS, whose window takes receiver SWS avoidance's
       rare step, adv_window_rn_as, goes to push_segs too: win_of_mode then leaves it out) */
    /* (front: send's first push, whose buffer's free room (WIN_PLAIN) below one MSS goes
       there as well) */
    if ((fresh || front) &&
        __builtin_expect((fresh ? c->rcvbuf_cap : c->rcvbuf_cap - c->rcv.len) < c->local_mss,
                         0)) {
        return false;
    }
    /* Nagle's test (RFC 9293 3.8.6.2.1) asked only with data in flight: with none,
       snd_una is snd_max, which the end of the last short segment never passes, so
       it cannot hold the segment (a request or a response: one test, not four). */
    /* (sml: not set yet, nothing in flight either) */
    assert(sml || in_flight || !tw_seq_gt(c->snd_sml, c->snd_una));
    assert(!sml || !in_flight);
    /* (front: send's first push with a delayed-ACK timer running, which the segment's
       ACK stops, out of line, push_last_front_dack, before any of its steps: this copy
       then makes no call before the netdev's, and keeps nothing of the segment's in a
       stack frame across one; front_dack: that copy) */
    if (front && !front_dack && __builtin_expect(c->dack_at != TW_TIME_NEVER, 0)) {
        return push_last_front_dack(c);
    }
    /* The clock is read once for the RTT sample below and push_last_send's stall_start (a
       store to c between could alias st->now for the compiler, which read it again). */
    tw_time now = st->now;
    if (in_flight) {
        if (avail < most && !fin_q && !(c->flags & TW_F_NODELAY) &&
            tw_seq_gt(c->snd_sml, c->snd_una)) {
            return false; /* Nagle holds it (push_segs counts that) */
        }
        pto_restart_check(c, tw_seq_add(c->snd_nxt, avail + (fin_q ? 1u : 0u))); /* 8985 7.2 */
    } else {
        /* push_last_send's stall_start for a flight that starts with this segment (it is
           sent: no test is left to hold it), set in the branch that has asked: one test of
           in_flight, where GCC made two (push_last_send is then told "in flight") */
        c->stall_start = now;
    }
    /* RFC 6298 3: time this segment unless one is timed already. The flag itself is set
       with ack_carried's change of the flags (push_last_send's `set`: one store of them,
       not two; setting it when it is set already changes nothing). (fresh: the ACK of
       our SYN has ended the SYN's timing, tcp_in.c) */
    assert(!fresh || !(c->flags & TW_F_RTT_TIMING));
    /* With nothing in flight no segment is timed: the ACK that took SND.UNA to SND.MAX
       ended the timing (tcp_in.c ack_advance_as: its echo, or SEG.ACK past rtt_seq, which
       is at most SND.MAX), a timeout ends it (Karn), and from ESTABLISHED on the SYN's
       is over. A copy that knows nothing is in flight (push_last_as) asks no flag. */
    assert(in_flight || !(c->flags & TW_F_RTT_TIMING));
    if (fresh || (__builtin_constant_p(in_flight) && !in_flight) ||
        !(c->flags & TW_F_RTT_TIMING)) {
        c->rtt_seq = tw_seq_add(c->snd_nxt, avail);
        c->rtt_start = now;
    }
    /* (short: a request's, a response's, a bulk transfer's tail; GCC laid it out of
       line with a jump back) */
    if (__builtin_expect(avail < most, 1)) {
        /* RFC 9293 3.8.6.2.1 (Nagle): the end of the last short segment, set here
           where avail < most is tested already rather than in push_last_sent (nothing
           reads it in between) */
        c->snd_sml = tw_seq_add(c->snd_nxt, avail + (fin_q ? 1u : 0u));
    } else if (sml) {
        c->snd_sml = c->snd_una; /* (tw_cc_init_una_ka's value: no short segment sent) */
    }
    /* (at_buf: SND.NXT is SND.BUF, push_last_as) */
    uint32_t off = at_buf ? 0 : (uint32_t)tw_seq_diff(c->snd_nxt, c->snd_buf_seq);
    push_last_send(st, c, fin_q ? TW_ACK | TW_PSH | TW_FIN : TW_ACK | TW_PSH, off, avail,
                   true, TW_F_RTT_TIMING, now, false, fresh, plain, front,
                   front && !front_dack, false);
    return true;
}

/* The segment that ends a request, a response or the stream: all that is queued (at
   most one segment's worth) and the FIN if one is queued, or the FIN alone, with nothing
   retransmitted or in loss recovery and no SACK block to carry. It takes exactly the actions push_segs' steps take
   for it (their first turn sends this segment, the second finds nothing left); false,
   having done nothing, for any other case and whenever one of their tests (window,
   congestion window, Nagle) would hold or cut the segment: push_segs then decides. */
static inline __attribute__((always_inline)) bool push_last_as(tw_socket *c, bool flags_asked,
                                                               bool fresh, bool at_buf,
                                                               bool front, bool front_dack,
                                                               bool sml)
{
    /* SACK blocks to carry (emit's test, and seg_payload_max's): a receiver holding
       out-of-order data or a D-SACK to report is rare, and push_segs' steps take its
       segment (with the blocks, and the payload room they leave). */
    /* A persist timer running (a window closed before) goes there too, where
       tw_timer_after_send changes it: then push_now's timer step after the segment
       needs no test of it (no hook runs in between to set it: tcpwave.h). The two rare
       cases in one test of the flags, with sack_blocks_due's. */
    /* TCP_CORK (or a MSG_MORE call's push) too: push_segs holds its short segment. */
    /* (flags_asked: the caller has found none of the flags, send's test of them) */
    assert(!flags_asked || !(c->flags & (SACK_DUE_FLAGS | TW_F_PERSIST | TW_F_CORK)));
    /* A reading side shut or a lowered buffer (SPACE_RARE_FLAGS) goes to push_segs too
       for the callers that ask the flags here and know the state (`fresh`) or have asked
       them (send's test, TW_F_SEND_RARE has them): their window is then the buffer's free
       room, without rcv_space_usual's test (WIN_PLAIN). Not for the other callers: a
       close's data and FIN (its reading side shut) are push_last's too. */
    assert(!flags_asked || !(c->flags & SPACE_RARE_FLAGS));
    bool plain = flags_asked || fresh;
    /* (fresh: an extras block too, c->opts made for a socket option or Fast Open, whose
       SYN's data may leave SND.MAX past SND.NXT, tcp_in.c in_syn_sent: push_segs sends
       for it, and the test of SND.NXT against SND.MAX is left out, below) */
    /* (fresh: a FIN queued too, a shutdown in SYN-SENT: push_segs sends it, and the held
       push's copy is then made for its data alone, with no test of the flag or of an
       empty ring, below) */
    uint32_t rare = SACK_DUE_FLAGS | TW_F_PERSIST | TW_F_CORK |
                    (fresh ? SPACE_RARE_FLAGS | TW_F_EXTRAS | TW_F_FIN_QUEUED : 0);
    /* (fresh: tw_out_push_now_held's caller, tcp_in.c, has just processed the ACK of our
       SYN: congestion control Open (tw_cc_init), no delayed-ACK timer (nothing was
       received in SYN-SENT), the SYN's RTT timing ended) */
    assert(!fresh || (c->ca_state == TW_CA_OPEN && c->dack_at == TW_TIME_NEVER &&
                      !(c->flags & TW_F_RTT_TIMING)));
    /* (front: send's first write, into an empty ring: nothing sent is unacknowledged,
       tw_out_send_first_push_leave, so SND.NXT is SND.MAX) */
    assert(!front || (at_buf && tw_seq_eq(c->snd_nxt, c->snd_max)));
    /* (front: congestion control Open, not asked: send's test of the flags has sent a
       socket with an extras block elsewhere (socket.c send_open_extras), and without one
       no state but Open outlives an empty flight, as for the idle FIN,
       tw_out_push_now_leave) */
    assert(!front || (!(c->flags & TW_F_EXTRAS) && c->ca_state == TW_CA_OPEN));
    if (__builtin_expect((!fresh && !front && c->ca_state != TW_CA_OPEN) ||
                             (!front && !fresh && !tw_seq_eq(c->snd_nxt, c->snd_max)),
                         0) ||
        (!flags_asked &&
         __builtin_expect((c->flags & rare) != 0, 0) &&
         ((c->flags & (rare & ~SACK_DUE_FLAGS)) || sack_blocks_due(c)))) {
        return false;
    }
    /* (fresh without an extras block: SYN-SENT sent the SYN alone, so SND.MAX is ISS + 1,
       SND.NXT, tcp_out.c syn_send; SND.UNA is the SYN+ACK's ACK, ISS + 1) */
    assert(!fresh || tw_seq_eq(c->snd_nxt, c->snd_max));
    tw_stack *st = c->st;
    tw_seq end = tw_seq_add(c->snd_buf_seq, c->snd.len); /* of the data queued */
    /* (at_buf: the caller knows SND.BUF, SND.UNA and SND.NXT are one, here SND.MAX too:
       nothing in flight, without the test, and the ring's bytes are those to send, from
       its head) */
    assert(!at_buf ||
           (tw_seq_eq(c->snd_una, c->snd_nxt) && tw_seq_eq(c->snd_buf_seq, c->snd_nxt)));
    uint32_t avail = at_buf ? c->snd.len : (uint32_t)tw_seq_diff(end, c->snd_nxt);
    /* (flags_asked: send's test of the flags has found no FIN queued, socket.c) */
    assert(!flags_asked || !(c->flags & TW_F_FIN_QUEUED));
    /* (fresh: no FIN queued, the test of the rare flags; so data is, as the caller asks
       before it calls, tcp_in.c in_syn_sent) */
    assert(!fresh || (!(c->flags & TW_F_FIN_QUEUED) && avail != 0));
#if defined(__GNUC__)
    if (fresh && avail == 0) {
        __builtin_unreachable(); /* (said to the compiler: the copy's test of a payload) */
    }
#endif
    bool fin_q = !flags_asked && !fresh && (c->flags & TW_F_FIN_QUEUED) != 0;
    bool in_flight = !at_buf && !tw_seq_eq(c->snd_una, c->snd_max);
    if (!fresh && avail == 0) {
        /* Nothing new to send, so a FIN is queued: push_now runs only when data or a FIN
           waits or in recovery (tw_out_push's and tw_out_push_open's test; the callers
           of tw_out_push_now have just queued data or a FIN, tcp_conn.h), and recovery
           was ruled out above. */
        assert(fin_q);
        /* S10/S13: the FIN takes one sequence number of its own: outside the peer's
           window (closed, or filled by data in flight) it waits (push_segs, persist). */
        if (tw_seq_diff(tw_seq_add(c->snd_una, c->snd_wnd), c->snd_nxt) <= 0) {
            return false;
        }
        /* The FIN alone (a client's or a server's close after its last data was
           acknowledged): its own copy of push_last_data's steps, flags and lengths constants,
           no payload steps, and no second test of avail where they join. */
        if (in_flight) {
            pto_restart_check(c, tw_seq_add(c->snd_nxt, 1)); /* RFC 8985 7.2 */
        }
        push_last_send(st, c, TW_FIN | TW_ACK, 0, 0, in_flight, 0, st->now, false, fresh,
                       plain, false, false, false);
        return true;
    }
    /* (the two copies chosen here, by the flag read once: lifecycle -11 instr, where
       the flag, chosen between them only at the builder, was kept on the stack) */
    if (fin_q) {
        return push_last_data(st, c, end, avail, true, in_flight, fresh, plain, at_buf,
                              front, front_dack, sml);
    }
    return push_last_data(st, c, end, avail, false, in_flight, fresh, plain, at_buf, front,
                          front_dack, sml);
}

/* push_last_as for send's first push (tw_out_send_first_push_leave) when a delayed-ACK
   timer runs: its copy that stops it (ack_carried), out of line. */
static __attribute__((noinline, cold)) bool push_last_front_dack(tw_socket *c)
{
    return push_last_as(c, true, false, true, true, true, false);
}

/* A bare ACK that may wait for the end of this turn of the host's loop
   (tw_stack_next_deadline says "now"): an application that answers the data, or closes,
   in the meantime sends its reply or FIN with the ACK on it, one segment instead of two
   (RFC 1122 4.2.3.2 allows far longer delays; tcp_in.c's ack_soon keeps it to one held
   segment). Inline in tw_out_push, which holds most of them: ack_queue puts the
   connection on the held-ACK list, for a caller that has set TW_F_ACK_LAZY (push_tail
   finds it set; tw_out_ack_lazy, tcp_conn.h, sets it and does the same). */
static inline void ack_queue(tw_socket *c)
{
    if (!(c->flags & TW_F_ACK_QUEUED)) {
        c->flags |= TW_F_ACK_QUEUED;
        tw_out_ack_list_push(c->st, c);
    }
}

/* What tw_out_push does once the sending is done: the ACK still owed, and the timers. */
static inline __attribute__((always_inline)) void push_tail(tw_socket *c)
{
    /* A segment sent before carried the ACK and cleared both flags (emit). */
    if (c->flags & TW_F_ACK_NOW) {
        tw_out_ack(c);
    } else if (__builtin_expect((c->flags & TW_F_ACK_LAZY) != 0, 1)) {
        ack_queue(c); /* (the flag is set) */
    }
    /* tw_timer_after_send's cases, as push_open_in (tcp_in.c) tells them: with data in flight
       and no persist timer it only arms the RTO when none runs (tw_rto_arm: the usual
       case after a request, a response or a FIN), and does nothing when one runs; with
       nothing in flight, no RTO or persist timer running and an open window (a receiver
       after each data segment) it has nothing to do. */
    if (!tw_seq_eq(c->snd_una, c->snd_max)) {
        if (c->flags & TW_F_PERSIST) {
            tw_timer_after_send(c);
        } else if (c->rto_at == TW_TIME_NEVER) {
            tw_rto_arm(c);
        }
    } else if (c->rto_at != TW_TIME_NEVER || c->snd_wnd < c->snd_mss) {
        tw_timer_after_send(c);
    }
}

/* (push_now's body; `leave`: the API call's end after it, the netdev's calls made, and
   `ret` returned, for the API's calls that end with it: tw_out_push_now_leave and
   tw_out_send_push_leave) */
static inline __attribute__((always_inline)) tw_ssize push_now_in_as(tw_socket *c, bool leave,
                                                                     tw_ssize ret, bool held,
                                                                     bool flags_asked,
                                                                     bool at_buf, bool front,
                                                                     bool held_wheel)
{
    /* (held_wheel: tw_out_push_now_synack_data's held copy, whose wheel entry is set here
       from the RTO too, tcp_conn.h tw_conn_timer_syn_sent_data, not by its caller) */
    assert(!held_wheel || held);
    tw_stack *st = c->st; /* (for the RTO arm after the netdev's call: c->st not read again) */
    /* held: tw_out_push_now_held's caller, tcp_in.c's ACK of our SYN in SYN-SENT, has just
       initialised congestion control (tw_cc_init: Open) and stopped the RTO (rto_at
       never): neither asked again */
    assert(!held || (c->ca_state == TW_CA_OPEN && c->rto_at == TW_TIME_NEVER));
    if (push_last_as(c, flags_asked, held, at_buf, front, false, held_wheel)) {
        /* push_tail's steps, less those this case settles: the segment carried the ACK
           (ack_carried cleared both flags) and put data or the FIN in flight, and no
           persist timer runs. */
        assert(!(c->flags & TW_F_PERSIST)); /* (push_last's first test) */
        /* (front: send's first push, with nothing in flight before it and no persist
           timer, send's test of the flags: the RTO is not running, as for the idle FIN,
           push_fin_leave, and starts without the test) */
        if (held || front || c->rto_at == TW_TIME_NEVER) {
            /* (ack_carried stopped the delayed-ACK timer: the netdev call between can
               start none, tcpwave.h) */
            /* (leave: an API call's send, no segment under way, so c's timer is not
               held: tcp_in.c timer_hold holds one only while its segment is processed,
               and a hook calls nothing on the stack, tcpwave.h) */
            if (held) {
                /* (held: the caller sets the wheel entry from c's deadlines once the
                   segment is done, whatever changed: only the deadline here, but for
                   held_wheel's copy, which sets it itself) */
                assert(!leave && (st->timer_held == c || !st->timer_held));
                if (held_wheel) {
                    /* The usual clock (stack.h rto_now_below): the deadline neither
                       saturates nor is NEVER, so tw_conn_timer_syn_sent_data's test of
                       it is settled, with no saturating add (one compare where they
                       took two tests). */
                    tw_stack *s2 = c->st; /* (c->st: emit_plain_body) */
                    if (__builtin_expect(tw_rto_now_usual(s2, c), 1)) {
                        tw_time at = s2->now + c->rto;
                        c->rto_at = at;
                        assert(c->misc_at == TW_TIME_NEVER && c->dack_at == TW_TIME_NEVER &&
                               c->ka_at == TW_TIME_NEVER);
                        if (__builtin_expect(tw_timer_lazy(&c->timer), 1)) {
                            c->timer.expires = at;
                        } else {
                            tw_conn_timer_update_unheld(s2, c);
                        }
                    } else {
                        c->rto_at = tw_time_add(s2->now, c->rto);
                        tw_conn_timer_syn_sent_data(s2, c);
                    }
                } else {
                    c->rto_at = tw_time_add(c->st->now, c->rto); /* (c->st: emit_plain_body) */
                }
            } else if (front) {
                /* (front: no other deadline either, so c's wheel entry is not armed:
                   ack_carried stopped the delayed-ACK timer, misc_at is NEVER from
                   ESTABLISHED to CLOSE-WAIT, and send's test of the flags has sent a
                   keepalive socket elsewhere, socket.c send_open_extras) */
                assert(leave && !(c->flags & TW_F_KEEPALIVE));
                tw_rto_start_idle_as(c->st, c);
            } else {
                tw_rto_start_inline_as(st, c, true, leave);
            }
        }
    } else {
        if (held_wheel) {
            c->snd_sml = c->snd_una; /* (push_last_data's `sml`: not set by the caller) */
        }
        push_segs(c, ~0u, false);
        push_tail(c);
        if (held_wheel) {
            tw_conn_timer_syn_sent_data(c->st, c); /* (as above, the general case) */
        }
    }
    if (front) {
        st = c->st; /* (as the held push's: emit_plain_body) */
    }
    if (leave) {
        assert(!st->call_free);
        st->call_free = true;
    }
    return ret;
}
static inline __attribute__((always_inline)) tw_ssize push_now_in(tw_socket *c, bool leave,
                                                                  tw_ssize ret)
{
    return push_now_in_as(c, leave, ret, false, false, false, false, false);
}

/* tw_out_push's sending and the rest, out of line: the calls that find nothing to send
   (a receiver after each data segment) then save no registers for it, and those that
   send end here (a tail call). */
static __attribute__((noinline)) void push_now(tw_socket *c)
{
    push_now_in(c, false, 0);
}

/* tw_out_push_now_leave's general case, out of line (a tail call): the FIN alone, below,
   then saves only the registers its own steps need. */
static __attribute__((noinline)) int push_now_leave_general(tw_socket *c)
{
    return (int)push_now_in(c, true, 0);
}

/* tw_out_push_now_leave's FIN alone once its tests have passed: push_last_send's steps,
   then push_now_in's after push_last (the FIN is in flight, no persist timer), with the
   stack read again from c after the netdev's call: only c is kept across it (the idle
   copy keeps the stack instead: its RTO is started before the call). `in_flight` a
   constant in the idle copy. */
static inline __attribute__((always_inline)) int push_fin_leave(tw_socket *c, bool in_flight)
{
    assert(c->flags & TW_F_FIN_QUEUED); /* (close queued it: tcp_conn.h) */
    /* (close made c an orphan: socket.c close_usual, the only caller) */
    if (in_flight) {
        pto_restart_check(c, tw_seq_add(c->snd_nxt, 1)); /* RFC 8985 7.2 */
    }
    /* (idle: the RTO started before the segment is built, push_last_send's rto_idle,
       for the reasons below; the stack read here kept across the netdev's call for the
       call's end) */
    tw_stack *st = c->st;
    int rc = push_last_send(st, c, TW_FIN | TW_ACK, 0, 0, in_flight, 0, st->now, true, false,
                            false, false, false, !in_flight);
    if (in_flight) {
        st = c->st;
    }
    /* (the call's end first: the RTO arm calls nothing outside the stack, and its rare
       steps' calls then end the function, with nothing kept across them) */
    assert(!st->call_free);
    st->call_free = true;
    /* (an API call's: c's timer not held) */
    if (!in_flight) {
        /* The RTO is not running with nothing in flight, here outside the persist state
           (the caller's test of the flags): every start of it puts data, a SYN or a FIN
           in flight or finds them there (tcp_conn.h tw_rto_arm, push_now's, the persist
           timer's slot apart), and the ACK that takes SND.UNA to SND.MAX stops it
           (tcp_in.c ack_advance_as, the only step that moves SND.UNA from ESTABLISHED
           on before a FIN is sent). Started without the test. No other deadline is
           set either, and c's wheel entry is not armed (the caller's test of it): the
           delayed-ACK timer is off and ack_carried kept it so, misc_at
           is NEVER in ESTABLISHED and CLOSE-WAIT (set only in FIN-WAIT-2 and TIME-WAIT),
           and keepalive's is NEVER without TW_F_KEEPALIVE, which close's test of the
           flags sends to close_other (socket.c tw_socket_close). Started by
           push_last_send (rto_idle), before the segment is built. */
        return rc; /* (0: emit_plain_body, returned from the netdev's register) */
    }
    if (c->rto_at == TW_TIME_NEVER) {
        tw_rto_start_inline_as(st, c, true, true);
    }
    return 0;
}

/* tw_out_push_now_leave with data in the send ring (unacknowledged, as after a send
   and a close, or not all sent yet), out of line: the usual close, below, then keeps
   nothing of the ring's for it (lifecycle -2 instr). */
static __attribute__((noinline)) int push_now_leave_busy(tw_socket *c)
{
    /* push_last's tests for the FIN alone (a close after the last data was sent):
       nothing queued behind snd_nxt but the FIN, nothing in recovery, no SACK block to
       carry or persist timer, and the peer's window open for the FIN's sequence number
       (its right edge past snd_nxt, asked as snd_nxt - edge >= 0: a compare and its sign,
       where edge - snd_nxt <= 0 took a test besides); otherwise the general steps. */
    /* (snd_nxt - snd_una below 2^31: the two differences are never both -2^31) */
    assert(tw_seq_diff(c->snd_nxt, c->snd_una) >= 0);
    /* (the flags' rare cases, D-SACK, out-of-order data, a persist timer, asked by the
       caller: socket.c tw_socket_close) */
    assert(!(c->flags & (TW_F_DSACK | TW_F_HOLES | TW_F_PERSIST)));
    if (__builtin_expect(c->ca_state != TW_CA_OPEN || !tw_seq_eq(c->snd_nxt, c->snd_max), 0) ||
        !tw_seq_eq(c->snd_nxt, tw_seq_add(c->snd_buf_seq, c->snd.len)) ||
        tw_seq_diff(c->snd_nxt, tw_seq_add(c->snd_una, c->snd_wnd)) >= 0 ||
        __builtin_expect(c->dack_at != TW_TIME_NEVER, 0)) {
        return push_now_leave_general(c);
    }
    /* (the ring's bytes, all sent, are unacknowledged: data is in flight, as the ring
       holds what is not acknowledged from SND.UNA on, tw_out_push_now_leave) */
    assert(!tw_seq_eq(c->snd_una, c->snd_max));
    return push_fin_leave(c, true);
}


int tw_out_push_now_leave(tw_socket *c)
{
    /* An empty send ring (the usual close, after all that was sent has been
       acknowledged) first: the ring holds every byte unacknowledged or unsent, no FIN was
       sent before (close queues the first: socket.c tw_socket_close), no Fast Open data is
       in play (the caller has ruled out TW_F_EXTRAS) and the SYN is acknowledged from
       ESTABLISHED on, so SND.BUF, SND.UNA, SND.NXT and SND.MAX are one (tcp_conn.h's
       figure): push_last's tests of them are settled, and the peer's window is open for
       the FIN's sequence number when SND.WND is not 0. One test of the ring's length
       instead of three of the sequence numbers and the in-flight test. */
    if (__builtin_expect(c->snd.len == 0, 1)) {
        assert(tw_seq_eq(c->snd_buf_seq, c->snd_una) && tw_seq_eq(c->snd_una, c->snd_nxt) &&
               tw_seq_eq(c->snd_nxt, c->snd_max));
        assert(!(c->flags & (TW_F_DSACK | TW_F_HOLES | TW_F_PERSIST | TW_F_EXTRAS |
                             TW_F_KEEPALIVE)));
        /* Congestion control is Open, not asked: with nothing in flight and no extras
           block no state of recovery is left. Each is entered with data in flight
           (Disorder by a duplicate ACK, which needs data outstanding, tcp_in.c
           ack_accept; Recovery from it; Loss by an RTO, which runs only with data in
           flight, or by a smaller path MTU's resend, tcp_in.c) and RECOVER set to
           SND.MAX, which never goes back; the ACK that takes SND.UNA to SND.MAX passes
           on_new_ack (the only other ACK steps, header prediction's and the third
           segment's, take the Open state only), which leaves Recovery and Loss once
           SND.UNA reaches RECOVER and Disorder at once without a scoreboard (c->sb).
           The states that outlive it need an extras block: ECN's reduction (c->opts),
           a tail loss probe's wait and RACK (c->sb), Fast Open's Loss (c->opts), and
           TW_F_EXTRAS is never cleared once set. */
        assert(c->ca_state == TW_CA_OPEN);
        if (__builtin_expect(c->snd_wnd == 0, 0)) {
            return push_now_leave_general(c);
        }
        /* The RTO's deadline (tw_rto_start_idle_as' tw_time_add) and its rare cases
           asked here, before anything is done: a deadline saturated at NEVER or in its
           last tick, or another timer waiting unplaced (the wheel's lazy one), go to the
           general steps, which start it the same way; the segment's builder then starts
           it with stores alone, before the netdev's call (push_fin_leave). With the
           wheel's test, in one test of their or, c's own entry: armed, it has a deadline
           set, which can only be the delayed-ACK timer's (the RTO is not running with
           nothing in flight, misc_at is NEVER in ESTABLISHED and CLOSE-WAIT, keepalive's
           without TW_F_KEEPALIVE: push_fin_leave), and that case takes the general steps
           too; not armed, no deadline is set (an unheld entry is armed while one is:
           tcp_conn.h tw_conn_timer_started), the delayed-ACK timer's either. */
        tw_stack *st = c->st;
        if (__builtin_expect(!tw_rto_now_usual(st, c) ||
                                 ((uintptr_t)c->timer.pprev | (uintptr_t)st->wheel.lazy) != 0,
                             0)) {
            return push_now_leave_general(c);
        }
        assert(c->dack_at == TW_TIME_NEVER);
        return push_fin_leave(c, false);
    }
    return push_now_leave_busy(c); /* (a tail call) */
}

tw_ssize tw_out_send_push_leave(tw_socket *c, const void *buf, size_t n)
{
    (void)buf; /* (see tcp_conn.h) */
    tw_out_idle_check(c);
    return push_now_in_as(c, true, (tw_ssize)n, false, true, false, false, false);
}

tw_ssize tw_out_send_first_push_leave(tw_socket *c)
{
    tw_out_idle_check(c);
    /* The ring was empty (send's first write into a ring without a block), and every
       byte in flight is held in it, so nothing is: SND.BUF, SND.UNA, SND.NXT and SND.MAX
       are one (RFC 9293 3.3.1's sequence space, tcp_conn.h's figure: SND.BUF <= SND.UNA
       <= SND.NXT <= SND.MAX <= SND.BUF plus the ring's length, as no FIN is queued, send's
       test, and the SYN is acknowledged from ESTABLISHED on). */
    assert(tw_seq_eq(c->snd_una, c->snd_nxt) && tw_seq_eq(c->snd_nxt, c->snd_max) &&
           tw_seq_eq(c->snd_buf_seq, c->snd_nxt));
    /* The ring as send made it (socket.c send_first_usual): its block just taken, the
       write at its front, 16 to 128 bytes (tw_copy's in-line sizes): the builder's tests
       of a long payload, or one that would cross the ring's end, and the ring position's
       sum are left out (SEG_FRONT). Said to the compiler too, for push_last's tests of the
       length. */
    assert(c->snd.head == TW_SND_HDR_ROOM && c->snd.cap == TW_MEM_RING_BLOCK &&
           c->snd.len - 16 <= 112);
#if defined(__GNUC__)
    if (c->snd.len - 16 > 112) {
        __builtin_unreachable();
    }
#endif
    push_now_in_as(c, true, 0, false, true, true, true, false);
    /* (the ring held only this write, and sending takes nothing from it: the count, read
       from c, kept across the netdev's call, rather than the count on the stack) */
    return (tw_ssize)c->snd.len;
}

void tw_out_push_now_held(tw_socket *c)
{
    /* SYN-SENT's steps have just set SND.UNA to the SYN+ACK's ACK, which is ISS + 1, the
       SND.NXT and SND.BUF of SYN-SENT (connect), or the end of the Fast Open data it
       acknowledges, to which tw_tfo_synsent_ack has moved both, taking those bytes from
       the ring (tcp_in.c in_syn_sent, fastopen.c) */
    assert(tw_seq_eq(c->snd_una, c->snd_nxt) && tw_seq_eq(c->snd_buf_seq, c->snd_nxt));
    push_now_in_as(c, false, 0, true, false, true, false, false);
}

/* (`synack`: tw_out_push_now_synack_data's copy, below) */
static inline __attribute__((always_inline)) void push_now_held_data_in(tw_socket *c,
                                                                       bool synack)
{
    /* (the caller's test: data queued, no FIN; the copy then has no FIN-alone step) */
    assert(!(c->flags & TW_F_FIN_QUEUED) && c->snd.len != 0);
#if defined(__GNUC__)
    if ((c->flags & TW_F_FIN_QUEUED) || c->snd.len == 0) {
        __builtin_unreachable();
    }
#endif
    assert(tw_seq_eq(c->snd_una, c->snd_nxt) && tw_seq_eq(c->snd_buf_seq, c->snd_nxt));
    push_now_in_as(c, false, 0, true, synack, true, false, synack);
}

void tw_out_push_now_held_data(tw_socket *c)
{
    push_now_held_data_in(c, false);
}

void tw_out_push_now_synack_data(tw_socket *c)
{
    /* (push_now_held_data's steps, whose held ones only set the RTO's deadline, with
       tcp_in.c in_syn_sent's step after the push, tw_conn_timer_syn_sent_data, made here
       before its notification (no hook calls into the stack, tcpwave.h: the order is not
       seen): push_now_in_as's held_wheel) */
    assert(c->st->timer_held == NULL);
    /* (push_last_as's rare flags asked by the caller: tcp_in.c syn_sent_accept's plain
       test has TW_F_SEND_RARE and TW_F_CORK among its flags, with TW_F_FIN_QUEUED and
       TW_F_EXTRAS) */
    assert(!(c->flags & (TW_F_SEND_RARE | TW_F_CORK | TW_F_EXTRAS)));
    push_now_held_data_in(c, true);
}

/* see tcp_conn.h: push_now under a second name (no call of its own in between) */
#if defined(__GNUC__) && defined(__ELF__)
void tw_out_push_now(tw_socket *c) __attribute__((alias("push_now")));
#else
void tw_out_push_now(tw_socket *c)
{
    push_now(c);
}
#endif

void tw_out_push_open(tw_socket *c)
{
    assert(synchronized(c) && c->state != TW_STATE_TIME_WAIT);
    if (c->ca_state == TW_CA_RECOVERY || (c->flags & TW_F_FIN_QUEUED) ||
        !tw_seq_eq(c->snd_nxt, tw_seq_add(c->snd_buf_seq, c->snd.len))) {
        push_now(c);
        return;
    }
    push_tail(c);
}

void tw_out_push(tw_socket *c)
{
    if (!synchronized(c)) {
        return;
    }
    /* push_segs' first test, here too: a receiver with nothing to send (the usual case
       after a data segment) does not pay for the call. */
    if (c->state != TW_STATE_TIME_WAIT &&
        (c->ca_state == TW_CA_RECOVERY || (c->flags & TW_F_FIN_QUEUED) ||
         !tw_seq_eq(c->snd_nxt, tw_seq_add(c->snd_buf_seq, c->snd.len)))) {
        push_now(c);
        return;
    }
    push_tail(c);
}

void tw_out_forget_ack(tw_socket *c)
{
    /* c is on the list (TW_F_ACK_QUEUED, its caller's test) and is being given back:
       its own link and flag are left as they are, like the other fields tw_conn_free
       leaves (tw_conn_alloc zeroes the object). */
    assert(c->flags & TW_F_ACK_QUEUED);
    tw_socket **pp = &c->st->ack_head;
    while (*pp != c) {
        pp = &(*pp)->ack_next;
    }
    *pp = c->ack_next;
}

void tw_out_flush_acks(tw_stack *st)
{
    /* The list is pushed at its head: reverse it so ACKs leave in the order they became
       due. */
    tw_socket *rev = NULL;
    while (st->ack_head) {
        tw_socket *c = st->ack_head;
        st->ack_head = c->ack_next;
        c->ack_next = rev;
        rev = c;
    }
    while (rev) {
        tw_socket *c = rev;
        rev = c->ack_next;
        c->ack_next = NULL;
        c->flags &= ~TW_F_ACK_QUEUED;
        if ((c->flags & (TW_F_ACK_NOW | TW_F_ACK_LAZY)) && synchronized(c)) {
            tw_out_ack(c);
        }
    }
}

void tw_out_idle_restart(tw_socket *c)
{
    /* RFC 5681 4.1 (with RFC 2861's ssthresh, like Linux's tcp_cwnd_restart): after an
       idle time longer than the RTO, send no more than RW = min(IW, cwnd). Asked where
       the application's new data is about to leave (tw_out_idle_check); the other sends
       follow an ACK of new data (no idle time), a timer, or a window that opens after
       a closed-window wait (not asked: left alone). The last send time is not
       kept: with nothing in flight, stall_start (when the flight emptied, or the last
       send from an empty flight) stands for it; it is never earlier, so a restart is
       never early, and an arrival that acknowledges nothing new (a request after an
       idle time) does not hide the idle time, as the last arrival would (RFC 5681 4.1's
       persistent-HTTP case). Linux counts from its last send: it may restart sooner. */
    if (!tw_seq_eq(c->snd_una, c->snd_max)) {
        return;
    }
    uint32_t rw = c->st->cfg.initial_cwnd * (uint32_t)c->snd_mss;
    if (c->cwnd > rw) {
        uint32_t ss = c->cwnd - c->cwnd / 4;
        c->ssthresh = c->ssthresh > ss ? c->ssthresh : ss;
        c->cwnd = rw;
        if (c->ssthresh == UINT32_MAX) {
            /* Still the initial slow start (ssthresh unchanged): HyStart++ starts over
               with fresh rounds, RFC 9406 4.3's "MAY use HyStart++ to grow the restart
               window"; its room holds no algorithm state to keep. */
            memset(&c->cc, 0, sizeof c->cc);
        } else {
            c->cc.epoch_start = 0; /* (CUBIC: a new epoch once slow start ends) */
        }
    }
}

void tw_out_probe_data(tw_socket *c)
{
    (void)push_segs(c, 1, true); /* what the window takes, at most one segment */
}

void tw_out_probe(tw_socket *c)
{
    /* An already-acknowledged sequence number makes the peer answer with an ACK that
       carries its current window (RFC 9293 3.8.6.1, RFC 1122 4.2.3.6). */
    emit(c, TW_ACK, tw_seq_make(c->snd_una.v - 1), 0, 0, false);
}

void tw_out_retransmit(tw_socket *c)
{
    /* RFC 5681 3.1 (4) and RFC 6298 5.4-5.6: after a timeout, ssthresh halves (once per
       episode), cwnd drops to one segment, and sending restarts from snd_una; the rest
       follows in slow start as ACKs come back. Prior SACK information is dropped
       (RFC 2018 8). */
    if (c->ca_state != TW_CA_LOSS || tw_seq_ge(c->snd_una, c->recover)) {
        if (c->ca_state != TW_CA_RECOVERY) {
            tw_undo_begin(c); /* (in recovery: that episode's state is kept) */
        }
        c->ssthresh = tw_conn_cc(c)->on_loss(c, c->st->now);
    }
    tw_rtx_episode_mark(c); /* (tcp_in.c rtt_echo_ambiguous) */
    if (c->sb) {
        tw_sbx *x = tw_conn_sbx(c);
        x->nrelost = 0; /* (the go-back-N resends everything: RACK marks start over) */
        if (c->ca_state != TW_CA_LOSS || tw_seq_ge(c->snd_una, c->recover)) {
            x->loss_relost_cut = false;
        }
    }
    c->cwnd = c->snd_mss;
    c->ca_state = TW_CA_LOSS;
    c->recover = c->snd_max;
    c->dupacks = 0;
    c->rto_count++;
    if (c->retries > 1 || (c->sacked && tw_sack_below(c, tw_seq_add(c->snd_una, 1)))) {
        /* A second timeout on the same data: the receiver may have reneged on what it
           SACKed (RFC 2018 8), so forget the scoreboard and resend everything. So too
           when the left edge itself is SACKed (an ACK stopped inside a SACKed block: it
           reneged; Linux's tcp_timeout_mark_lost, is_reneg): RFC 2018 8 "MUST retransmit
           the segment at the left edge of the window after a retransmit timeout, whether
           or not the SACKed bit is on for that segment". */
        tw_sack_clear(c);
    }
    c->snd_nxt = c->snd_una;
    c->high_rxt = c->snd_una;
    c->flags &= ~TW_F_RTT_TIMING;
    if (!push_segs(c, 1, true) && tw_conn_fin_sent(c)) {
        tw_out_resend(c, c->snd_una, 1);
        c->total_retrans++;
    }
    if (c->snd_wnd == 0) {
        /* The resend went into a closed window, as its probe (push_segs): none of it
           lay in the window, so none of it is in flight. The go-back-N goes on from
           SND.UNA, not past the probe: when the peer's ACK takes part of it (a receiver
           trims to its window) and its window opens, the rest goes at once, where it
           waited for the next timeout (RFC 9293 3.8.6.2.1: the data between SND.UNA and
           SND.UNA + SND.WND is resent "normally"; Linux marks the queue lost at the
           timeout and resends it as the window and cwnd allow). Each timeout took 128
           bytes of a tiny window and doubled the RTO, until an orphan ran out of
           retries (stall49 sweep: sim --set rcvbuf=100 --set no_sack=1 --set
           no_timestamps=1 --loss 0.1 --reorder 0.3 --dup 0.1, 4 runs in 1,000).
           SND.MAX keeps the probe's end, so an ACK of it all is still taken. */
        c->snd_nxt = c->snd_una;
    }
}

bool tw_out_tlp(tw_socket *c)
{
    tw_stack *st = c->st;
    tw_sbx *x = tw_sbx_get(c);
    if (x == NULL) {
        return false; /* no memory: the RTO will do */
    }
    /* RFC 8985 7.3: "If a previously unsent segment exists AND the receive window allows
       new data to be sent", send it -- whatever the congestion window says (the probe
       stands for the ACKs the lost tail would have brought; Linux's tcp_send_loss_probe
       sends it past cwnd too): cwnd is lifted for this one segment. */
    tw_seq before = c->snd_max;
    if (tw_seq_eq(c->snd_nxt, c->snd_max)) {
        uint32_t cwnd = c->cwnd;
        uint32_t flight = (uint32_t)tw_seq_diff(c->snd_nxt, c->snd_una);
        c->cwnd = flight + c->snd_mss;
        /* (a corked short segment goes too: Linux's probe sends with TCP_NAGLE_OFF) */
        uint32_t cork = c->flags & TW_F_CORK;
        c->flags &= ~TW_F_CORK;
        (void)push_segs(c, 1, false);
        c->flags |= cork;
        c->cwnd = cwnd;
    }
    bool sent_new = tw_seq_gt(c->snd_max, before);
    if (!sent_new) {
        /* "Else retransmit the last segment": the highest-sequenced one (with the FIN
           when the FIN was sent). */
        tw_seq top = tw_conn_fin_sent(c) ? tw_seq_add(c->snd_max, (uint32_t)-1) : c->snd_max;
        uint32_t len = (uint32_t)tw_seq_diff(top, c->snd_una);
        uint32_t most = seg_payload_max(c);
        if (len > most) {
            len = most;
        }
        tw_seq seq = tw_seq_add(top, (uint32_t)-len);
        if (!tw_out_resend(c, seq, UINT32_MAX)) {
            return false;
        }
        c->total_retrans++;
        c->flags &= ~TW_F_RTT_TIMING; /* Karn */
        if (c->ca_state == TW_CA_OPEN) {
            c->ca_state = TW_CA_DISORDER; /* its ACKs off header prediction: tcp_in.c
                                             tlp_ack_wait (RFC 8985 7.4.2) */
        }
    } else {
        tw_count(st, TW_CNT_TCP_TLP_NEW_DATA);
    }
    tw_count(st, TW_CNT_TCP_TLP_PROBE);
    x->tlp_on = true;
    x->tlp_retrans = !sent_new;
    x->tlp_end = c->snd_max;
    return true;
}
