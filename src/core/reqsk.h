/*
 * reqsk.h -- half-open connections as small entries (SPEC S8, RFC 4987 3.2/3.3).
 *
 * A SYN at a listener makes no connection object, only this 96-byte record in the stack's
 * connection table (stack.h conns, beside the connections: its kind byte tells it apart);
 * the full connection is built, and takes the entry's place there, when the third segment
 * acknowledges our SYN+ACK (or from a SYN cookie once the SYN queue is full). Layout
 * shared with the other timed objects (tcp_conn.h): hash node, wheel timer, kind byte.
 *
 *   0  tw_hnode  next, key (raddr | rport | lport)          16
 *   16 tw_timer  SYN+ACK retransmission                     24
 *   40 kind, retries, opts (offered options we accept), peer wscale, peer MSS, window
 *   48 irs, iss, ts_recent or sent_us (first SYN+ACK in us, for the handshake RTT sample
 *      without timestamps), ts_off (our TSval offset, from the same hash as iss; after
 *      ts_recent: the SYN+ACK's builder loads both as one word, tcp_out.c out_syn_all)
 *   64 rcv_wnd (the window our SYN+ACK offers), id (trace identity of the
 *      connection-to-be), listener
 *   80 hash (the key's in the connection table, for the entry found without it: stack.h
 *      last_req)
 *   88 out_ndst, out_afold (the peer's address in network order and the addresses' sum,
 *      as its connection's out_addr[1] and out_asum take them: tw_req_out_prep)
 * A listener keeps no list of its entries: the table holds them all, and the listener's
 * end walks it anyway (tcp_in.c tw_req_close_listener).
 */
#ifndef TW_CORE_REQSK_H
#define TW_CORE_REQSK_H

#include "core/tcp_conn.h"

typedef struct tw_reqsk {
    tw_hnode h;
    tw_timer timer;
    uint8_t kind;
    uint8_t retries;
    uint8_t opts;       /* TW_OPT_WSCALE | TW_OPT_SACK_PERM | TW_OPT_TS negotiated, and
                           TW_REQ_ECN */
    uint8_t snd_wscale; /* the peer's */
    uint16_t peer_mss;  /* the peer's MSS as c->peer_mss takes it (in_listen) */
    uint16_t peer_win;  /* the SYN's window */
    uint32_t irs, iss;
    union {
        uint32_t ts_recent; /* opts & TW_OPT_TS */
        uint32_t sent_us;   /* otherwise: low 32 bits of the time in us (RTTs far below
                               the 71 min wrap) */
    };
    uint32_t ts_off;
    /* Our receive window from the SYN+ACK on (unscaled, RFC 7323 2.2): the listener's
       buffer when the SYN came. Kept, as it was promised: a buffer lowered on the
       listener since then does not take it back (RFC 9293 3.8.6.2.2). */
    uint16_t rcv_wnd;
    /* When our SYN+ACK last answered a repeated SYN, in 4 ms units modulo 2^16 (0: not
       yet): one such answer per cfg.invalid_ratelimit (tcp_in.c req_synack_limited).
       (In the room rcv_wnd left before id: the entry does not grow.) */
    uint16_t oow_at;
    uint32_t id;
    struct tw_socket *listener;
    uint64_t hash; /* tw_htab_hash of h.key in st->conns */
    /* The peer's address as it lies in a header and both addresses' native sum made
       under 2^18 (tcp_conn.h out_addr[1], out_asum): set by the SYN+ACK's making, which
       works them out for its own headers (tcp_out.c out_syn_all; the others through
       tw_req_out_prep), and taken whole by the connection (tcp_in.c new_child), which
       then makes no fold of its own (measured: lifecycle -3 instr, 8 bytes an entry). */
    uint32_t out_ndst, out_afold;
} tw_reqsk;

/* r->opts: the SYN asked for ECN and we accept it (RFC 3168 6.1.1); a bit no option
   takes */
#define TW_REQ_ECN 0x80u

_Static_assert(sizeof(tw_reqsk) <= 96, "a half-open entry stays small");

/* r->out_ndst and r->out_afold from the key and our address, for the SYN+ACKs that do not
   work them out themselves (tcp_out.c req_synack's other options, the Fast Open one). */
static inline void tw_req_out_prep(const tw_stack *st, tw_reqsk *r)
{
    uint32_t ndst = tw_be32((uint32_t)(r->h.key >> 32));
    r->out_ndst = ndst;
    r->out_afold = tw_cksum_fold18((uint64_t)st->addr_net + ndst);
}

/* tcp_in.c */
void tw_req_on_timer(tw_stack *st, tw_reqsk *r);
/* Free one entry (no packet sent). */
void tw_req_free(tw_stack *st, tw_reqsk *r);
/* A listener goes away: free its half-open entries (nothing sent, as Linux). */
void tw_req_close_listener(tw_socket *l);
/* tcp_out.c: our SYN+ACK for a half-open entry, the first (in_listen) or sent again
   (counted as a retransmission): two copies, each without the other's test. */
/* (returns the netdev's answer, nonzero when it refused the segment, for the caller to
   count as TW_CNT_TX_DROPPED; 0 from the paths that count it themselves) */
/* (r not const: the making sets r->out_ndst and r->out_afold) */
int tw_out_req_synack(tw_stack *st, tw_reqsk *r);
void tw_out_req_synack_again(tw_stack *st, tw_reqsk *r);
/* tcp_out.c: a bare ACK for a half-open entry (<SEQ=ISS+1><ACK=IRS+1>). */
void tw_out_req_ack(tw_stack *st, const tw_reqsk *r);

#endif
