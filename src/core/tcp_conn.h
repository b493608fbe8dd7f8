/*
 * tcp_conn.h -- the connection object (struct tw_socket, RFC 9293 3.3.1's TCB), its
 * states and the internal calls between tcp_in.c, tcp_out.c, tcp_timer.c and the API.
 *
 * Layout shared with the half-open entry (reqsk.h): both begin with a hash node, a
 * wheel timer and a kind byte, so a timer popped from the stack's one wheel tells which
 * object it belongs to. (TIME-WAIT records have no timer: timewait.h.)
 *
 *   offset 0        16                   40    41
 *          | tw_hnode | tw_timer           | kind | ...
 *
 * Sequence space of the send side (RFC 9293 3.3.1, figure 3):
 *
 *        snd_una        snd_nxt        snd_una+snd_wnd
 *   ------|==============|================|-----------
 *          sent, unacked   may send now     beyond window
 *
 *   snd_buf_seq is the sequence number of the first byte held in `snd` (iss+1 until the
 *   SYN is acknowledged, then snd_una or just below it while a FIN is outstanding);
 *   snd_max the highest sequence number ever sent (snd_nxt goes back to snd_una on a
 *   retransmission timeout).
 */
#ifndef TW_CORE_TCP_CONN_H
#define TW_CORE_TCP_CONN_H

#include "core/arch.h"
#include <assert.h>
#include "core/stack.h"
#include "core/seq.h"
#include "core/ranges.h"
#include "core/ringbuf.h"
#include "core/tcp_hdr.h"
#include "core/tcp_cc.h"

enum tw_obj_kind {
    TW_OBJ_CONN = 1,
    TW_OBJ_REQ = 3, /* half-open entry (reqsk.h) */
    TW_OBJ_FRAG = 5, /* datagram in reassembly (ipfrag.h) */
};

/* flags */
#define TW_F_LISTENER (1u << 0)
#define TW_F_BOUND (1u << 1)
#define TW_F_HOLES (1u << 2) /* c->ooo && c->ooo->n: out-of-order data held, kept in the
                                flags so that the usual segment's and ACK's "no hole, no
                                D-SACK" is a test of c->flags (tcp_in.c ooo_pull) */
#define TW_F_ORPHAN (1u << 3)     /* the application closed its handle */
#define TW_F_FIN_QUEUED (1u << 4) /* shutdown(WR): FIN goes after the queued data */
#define TW_F_PEER_FIN (1u << 5)   /* the peer's FIN was received in order */
#define TW_F_SHUT_RD (1u << 6)
#define TW_F_CORK (1u << 7)      /* TCP_CORK: a short last segment waits (tcp_out.c
                                    push_segs; its bit was SO_LINGER 0's, now opts->linger0) */
#define TW_F_TS (1u << 8)         /* timestamps negotiated */
#define TW_F_WS (1u << 9)         /* window scaling negotiated */
#define TW_F_SACK (1u << 10)      /* SACK-permitted negotiated */
#define TW_F_ACK_NOW (1u << 11)   /* an ACK must go out with the next output */
#define TW_F_PASSIVE (1u << 12)   /* created by a listener */
#define TW_F_RTT_TIMING (1u << 13)
#define TW_F_OOO_FIN (1u << 14)   /* a FIN arrived beyond a hole, at ooo_fin_seq */
#define TW_F_HASHED (1u << 15)    /* in st->conns */
#define TW_F_CONNECTED (1u << 16) /* reached ESTABLISHED once */
#define TW_F_COUNTED (1u << 17)   /* counted in st->nconns */
#define TW_F_STARTED (1u << 18)   /* went through SYN-SENT or SYN-RECEIVED */
#define TW_F_NODELAY (1u << 19)   /* Nagle off */
#define TW_F_KEEPALIVE (1u << 20)
#define TW_F_PERSIST (1u << 21)   /* rto_at is the persist timer (window closed) */
#define TW_F_DSACK (1u << 22)     /* report dsack_start..dsack_end in the next ACK */
#define TW_F_SYN_UNACKED (1u << 23) /* FIN-WAIT-1 entered from SYN-RECEIVED by a close or
                                       shutdown: our SYN (and FIN) not acknowledged yet
                                       (RFC 9293 3.10.4; tw_conn_fin_syn_rcvd) */
#define TW_F_ACK_LAZY (1u << 24)   /* an ACK is owed by the end of this turn (tw_out_push) */
#define TW_F_ACK_QUEUED (1u << 25) /* on st->ack_head */
#define TW_F_CHILD (1u << 26)      /* a passive child not yet accepted (tw_conn_listener) */
#define TW_F_CC_NEWRENO (1u << 27) /* congestion control: NewReno, else CUBIC (tw_conn_cc) */
#define TW_F_BUF_LOWERED (1u << 28) /* a buffer limit was lowered on the connection: more
                                       can be held or promised than it (tw_conn_rcv_space) */
#define TW_F_EXTRAS (1u << 29) /* c->ooo, c->sb or c->opts was made (set where each is,
                                  never taken back): tw_conn_free's usual case asks this
                                  flag, in a register, instead of the three pointers */
/* The two flags a TIME-WAIT record keeps for its port's count (timewait.c make_in),
   the top two bits: the record takes them with one mask, and bind() SO_REUSEADDR's by a
   shift alone. */
#define TW_F_AUTOBOUND (1u << 30) /* its port was chosen by connect (tw_port nauto) */
#define TW_F_REUSE (1u << 31)
/* tcp_out.c push_last's rare cases among the flags (SACK blocks to carry, a persist
   timer), which tw_socket_send asks with its own test of the flags, so that its push
   (tw_out_send_push_leave) does not ask them again; TCP_CORK is asked with them. Also a
   reading side shut or a lowered buffer: the push's window is then the buffer's free
   room, without a test of its own (tcp_out.c WIN_PLAIN). */
#define TW_F_SEND_RARE                                                                   \
    (TW_F_DSACK | TW_F_HOLES | TW_F_OOO_FIN | TW_F_PERSIST | TW_F_SHUT_RD | TW_F_BUF_LOWERED)

#define TW_SACK_RECENT 4 /* as many as SACK blocks fit in an ACK */

#define TW_PERSIST_BACKOFF 0x1fu /* persist_backoff's backoff bits (the rest: the soft error) */
#define TW_SOFT_ERR_SHIFT 5

/* Field order: the header shared with tw_reqsk, then by size, so that little padding is
   left (616 bytes before, see git history). The 4-tuple overlays the hash key
   (tw_tuple_key's layout), the listener's fields share room with the congestion-control
   state, which a listener never has, and settings few sockets change are in `opts`. */
struct tw_socket {
    union {
        tw_hnode h;
        struct {
            struct tw_hnode *h_next_; /* h.next */
            /* h.key = raddr << 32 | rport << 16 | lport */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            uint32_t raddr;
            uint16_t rport, lport;
#else
            uint16_t lport, rport;
            uint32_t raddr;
#endif
        };
    };
    tw_timer timer;
    uint8_t kind;
    uint8_t state; /* tw_state; written only by tw_conn_set_state() */
    uint8_t snd_wscale, rcv_wscale;
    uint8_t retries; /* consecutive RTO expiries */
    int8_t err;      /* sticky TW_ERR_* */
    uint8_t ca_state;        /* tw_ca_state */
    uint8_t dupacks;
    uint32_t flags;

    /* send sequence variables (RFC 9293 3.3.1) */
    /* (SND.WL2 before SND.WL1, as tw_seg's SEG.ACK and SEG.SEQ they are set from in one
       copy: tcp_in.c syn_rcvd_queued_in) */
    tw_seq iss, snd_una, snd_nxt, snd_max, snd_wl2, snd_wl1, snd_buf_seq;
    uint32_t snd_wnd, max_snd_wnd;
    /* receive sequence variables */
    tw_seq irs, rcv_nxt, rcv_adv, last_ack_sent, ooo_fin_seq;

    uint16_t snd_mss, peer_mss;
    /* The MSS we can receive (tw_conn_local_mss): set at allocation from the device's MTU,
       lowered by tw_socket_set_mss, copied to a listener's children. Kept rather than
       recomputed: every SYN, SYN+ACK and window update asks. */
    uint16_t local_mss;
    uint16_t rcv_mss;        /* largest payload seen: what "a full segment" means */
    uint32_t ts_recent, ts_offset;

    tw_seq rtt_seq;          /* RFC 6298 */
    uint32_t total_retrans;

    /* congestion control and loss recovery (SPEC D3, D4) */
    uint32_t cwnd, ssthresh; /* bytes */
    tw_seq recover;          /* RFC 6582: snd_max when recovery began */
    tw_seq high_rxt;         /* RFC 6675 HighRxt: retransmitted up to here */
    tw_seq snd_sml;          /* end of the last small segment sent (Nagle, Minshall) */
    uint32_t sacked;         /* bytes in sb */
    uint32_t fast_retransmits, rto_count, persist_probes;
    uint8_t quickack;        /* segments still to ACK at once (Linux's quick-ACK mode) */
    /* The persist timer's backoff (at most 16: TW_PERSIST_BACKOFF) and, in its three high
       bits, the soft error an ICMP message reported since the last new ACK (RFC 1122
       4.2.3.9; tw_conn_soft_err_set): ack_advance's zeroing of the backoff clears it
       too, with no instruction of its own, as Linux's tcp_ack clears sk_err_soft. */
    uint8_t persist_backoff;
    uint8_t probes_out;      /* zero-window probes not answered by any ACK */
    uint8_t ka_sent;

    /* receiver: delayed ACK and SACK blocks to send */
    uint32_t delack_bytes;
    uint32_t lazy_seg; /* the received segment (st's count) whose ACK is held */
    tw_seq dsack_start, dsack_end;
    uint32_t id; /* for trace events and tw_socket_info; 32 bits like half-open entries' */

    tw_stack *st; /* (the stack finds all its sockets through its allocator: mem.h) */
    struct tw_socket *ack_next; /* st->ack_head list (TW_F_ACK_QUEUED) */

    /* A passive child not yet accepted (TW_F_CHILD) belongs to the listener of its local
       port (a port has at most one, which resets its children when it closes: no pointer
       needed, tw_conn_listener) and waits in its accept queue; the application has no
       handle to it before accept(), which clears the flag and the link: only from then on
       does the socket have a user pointer, in the link's room. */
    union {
        struct tw_socket *q_next; /* TW_F_CHILD: next in the listener's accept queue */
        void *user;               /* otherwise: tw_socket_set_user */
    };

    /* RFC 6298 */
    tw_time srtt, rttvar, rto;
    /* The four deadlines side by side (TW_TIME_NEVER when off), at a multiple of 16
       bytes: tw_conn_alloc sets them with two 16-byte stores and zeroes the rest of the
       object around them (tcp_conn.c checks the layout). */
    tw_time rto_at;  /* retransmission deadline or NEVER */
    tw_time misc_at; /* TIME-WAIT end or orphan FIN-WAIT-2 end, or NEVER */
    tw_time dack_at;
    tw_time ka_at;   /* keepalive */
    tw_time rtt_start;

    /* buf NULL until data needs it. Each buffer's size limit (SO_SNDBUF / SO_RCVBUF) is
       the ring's owner word (ringbuf.h), which would otherwise be padding. */
    union {
        tw_ring snd;
        struct {
            uint8_t *snd_buf_;
            uint32_t snd_cap_, snd_head_, snd_len_;
            uint32_t sndbuf_cap; /* snd.owner */
        };
    };
    union {
        tw_ring rcv;
        struct {
            uint8_t *rcv_buf_;
            uint32_t rcv_cap_, rcv_head_, rcv_len_;
            uint32_t rcvbuf_cap; /* rcv.owner */
        };
    };
    tw_ranges *ooo;   /* NULL until an out-of-order segment arrives (tw_ooo) */

    union { /* (the algorithm is a flag: tw_conn_cc) */
        tw_cc_state cc; /* connections */
        struct {        /* listeners (TW_F_LISTENER), zeroed by listen() */
            /* the accept queue; acc_tail means something only while acc_head is set
               (accept, taking the last child, leaves it as it was) */
            struct tw_socket *acc_head, *acc_tail;
            /* (its half-open entries are found in the connection table: reqsk.h) */
            tw_time cookie_time;   /* when it last answered a SYN with a cookie */
            uint16_t acc_len, syn_len;
            uint16_t backlog;
            /* tw_wscale_for(rcvbuf_cap) when listen() ran: what every SYN+ACK offers and
               every child takes. Buffer sizes set on the listener later change only its
               children's buffers (tw_socket_set_bufsizes), not this scale, which half-open
               entries were already offered. */
            uint8_t wscale_offer;
            /* tw_syn_wnd(rcvbuf_cap), kept with it (listen(), tw_socket_set_bufsizes):
               the window every SYN+ACK offers and each half-open entry starts with,
               found once instead of per SYN. */
            uint16_t syn_wnd;
            /* The SYN path's one test of S8's limits (tcp_in.c in_listen_fo): a SYN
               skips listen_admit when (acc_len | syn_len) is below it, which is at most
               backlog + 1 and then both are at most backlog; 0 (every SYN asks on) when
               the stack's SYNs all take listen_admit (st->syn_plain false). Set by
               listen() and tw_listener_syn_plain_set. */
            uint16_t syn_plain_below;
            /* The SYN+ACK's MSS option word (kind 2, length 4, local_mss) in network
               order, kept with local_mss (listen(), tw_socket_set_mss:
               tw_listener_mss_set): each SYN+ACK stores it as it lies (tcp_out.c
               out_syn_all), with no swap of its own. (In the 4 bytes cc leaves.) */
            uint32_t synack_mssw;
        };
    };
    tw_ranges *sb;           /* SACK scoreboard: ranges the peer SACKed above snd_una */

    tw_time ts_recent_stamp; /* when ts_recent was set (RFC 7323 5.5) */
    tw_time last_oow_ack;    /* last ACK sent for an out-of-window pure ACK */

    /* keepalive and user timeout */
    tw_time last_rcv;
    tw_time stall_start;     /* since when sent data waits for an ACK (or the window) */
    struct tw_sock_opts *opts; /* NULL: the stack's defaults (tw_conn_ka_idle ...) */

    uint64_t bytes_acked, bytes_received;
    /* tw_htab_hash(&st->conns, h.key) while TW_F_HASHED: set where the connection goes in
       the table (each of those places has the hash at hand), read where it leaves it for
       good (tw_timewait_make, tw_conn_free's usual case), which then mix no key again
       (the seed never changes: stack.c). */
    uint64_t hash;

    /* The IPv4 addresses of every segment this connection sends, prepared once the
       4-tuple is fixed (tw_conn_out_prep): source and destination in network order as
       they lie in the header (RFC 791 3.1), and their sum (cksum.h's native order)
       made under 2^18 (tw_cksum_fold18), which the pseudo-header (RFC 9293 3.1) and the
       IPv4 header's checksum share. The output path then copies 8 bytes and loads one
       sum instead of reading the stack's address, swapping the peer's and adding them,
       and the IPv4 header's sum fits in 32 bits (tw_ipv4_build_addrs: no fold of an upper half).
       (The sum's word is 64 bits: that layout measured 1 instruction a lifecycle less
       than a 32-bit one with 4 bytes of padding.) */
    /* Its upper half: the TCP header's first word, the two ports as they lie (source,
       destination: tw_conn_out_ports), which the TCP sum takes with the addresses (2^32
       is 1 modulo 0xffff, RFC 1071) and the output path stores from here (tcp_out.c
       emit_plain_body), with no port word made a segment; the IPv4 header's sum takes
       the lower half. */
    union {
        uint64_t out_asum;
        /* A listener's (which sends nothing from a 4-tuple of its own): a SYN+ACK's TCP
           header words 2 and 3 as they lie in memory on a little-endian host, with the
           acknowledgment number 0: the data offset (10 words), SYN and ACK, and syn_wnd,
           kept with it (tw_listener_syn_wnd_set); the first SYN+ACK of each half-open
           entry ORs in its swapped RCV.NXT (tcp_out.c out_syn_all), where it made and
           swapped the word each time. */
        uint64_t synack_h23;
    };
    uint32_t out_addr[2];
};

/* The connection lookup's cache when it holds no connection (stack.h last_conn): all
   zero, in state CLOSED, its key 0, which no connection has (its ports are never 0,
   tw_stack_input), and never in the table; so the usual packet's lookup compares the
   cache's key with no NULL test first (measured: lifecycle -8 instr). A segment whose
   key is 0 (from 0.0.0.0, both ports 0) finds it there; the usual packet's function
   hands it to the full parsers (tcp_in.c in_conn_sum, the one way such a segment gets
   there), whose lookup passes it over (conn_find) and which drop it. Never written. */
extern const tw_socket tw_conn_none;
#define TW_CONN_NONE ((tw_socket *)&tw_conn_none)

/* l->syn_plain_below for the listener's backlog and the stack's st->syn_plain (listen(),
   and for every listener when st->syn_plain turns false: tw_stack_syn_plain_off). */
static inline void tw_listener_syn_plain_set(struct tw_socket *l)
{
    l->syn_plain_below = l->st->syn_plain ? (uint16_t)(l->backlog + 1u) : 0;
}

/* l->synack_mssw for the listener's local_mss (listen(), tw_socket_set_mss). */
static inline void tw_listener_mss_set(struct tw_socket *l)
{
    l->synack_mssw = tw_be32(0x02040000u | l->local_mss);
}

/* The window a SYN or SYN+ACK offers for a receive buffer of `rcvbuf` bytes: the
   field's largest at most, as a SYN's window is never scaled (RFC 7323 2.2). */
static inline uint16_t tw_syn_wnd(uint32_t rcvbuf)
{
    return (uint16_t)(rcvbuf > 65535u ? 65535u : rcvbuf);
}

/* l->syn_wnd for the listener's receive buffer `rcvbuf`, and l->synack_h23 with it
   (listen(), tw_socket_set_bufsizes). */
static inline void tw_listener_syn_wnd_set(struct tw_socket *l, uint32_t rcvbuf)
{
    l->syn_wnd = tw_syn_wnd(rcvbuf);
    l->synack_h23 = (uint64_t)tw_be32(10u << 28 | (uint32_t)(TW_SYN | TW_ACK) << 16 |
                                      l->syn_wnd)
                    << 32;
}

/* The connection's congestion-control algorithm: a flag rather than a pointer, as there
   are two (tw_cc_get). */
static inline const tw_cc_ops *tw_conn_cc(const tw_socket *c)
{
    return (c->flags & TW_F_CC_NEWRENO) ? &tw_cc_newreno : &tw_cc_cubic;
}

static inline uint32_t tw_cc_flag(tw_cc_algo algo)
{
    return algo == TW_CC_NEWRENO ? TW_F_CC_NEWRENO : 0;
}

/* What the receiver keeps about out-of-order data, made with the first out-of-order
   segment: the ranges held, and the starts of the latest out-of-order segments, most
   recent first, the order in which SACK blocks are reported (RFC 2018 4). */
typedef struct tw_ooo {
    tw_ranges r; /* first member: c->ooo points here */
    tw_seq sack_recent[TW_SACK_RECENT];
    uint8_t sack_nrecent;
} tw_ooo;

static inline tw_ooo *tw_conn_ooo(const tw_socket *c)
{
    return (tw_ooo *)(void *)c->ooo;
}

/* The sender's loss-recovery extras (RFC 8985 RACK-TLP), made with the SACK scoreboard
   (or by the first loss probe) and freed with it: c->sb points at `r`. Nothing here is
   read on the usual path (no loss, no SACK). */
#define TW_RACK_XMITS 64 /* send records kept for RACK (tw_sbx.x) */

typedef struct tw_sbx {
    tw_ranges r;       /* first member: c->sb points here (tcp_sack.c) */
    /* RFC 8985 7: TLP.end_seq, the snd_max after the last probe; a new probe waits until
       the cumulative ACK has passed it (one probe per tail). */
    tw_seq tlp_end;
    bool tlp_on;       /* a probe is outstanding (tlp_end valid) */
    bool tlp_retrans;  /* it was a retransmission of the last segment (TLP.is_retrans) */
    /* RFC 8985 6: RACK. The send times of what was sent since this was made, a ring of
       ranges in the order sent (retransmissions among them); a sequence number sent
       before the oldest entry counts as sent at that entry's time (`base_at` when the
       ring is empty): never earlier than it was, so a loss is never declared early. */
    bool rack_on;          /* RACK.xmit_ts / end_seq set: something was delivered */
    bool reo_seen;         /* RACK.reordering_seen */
    bool dsack_round_on;   /* RACK.dsack_round set */
    uint8_t reo_wnd_mult, reo_wnd_persist;
    uint8_t xhead, xn;     /* ring: oldest entry, entries */
    tw_seq rack_end;       /* RACK.end_seq */
    tw_seq fack;           /* RACK.fack: highest sequence number delivered */
    tw_seq dsack_round;
    tw_time rack_xmit;     /* RACK.xmit_ts */
    tw_time rack_rtt;      /* RACK.rtt */
    tw_time min_rtt;       /* RACK.min_RTT (0: none yet) */
    tw_time base_at;       /* when this was made */
    tw_time rto_due;       /* the RTO's deadline while the slot runs for RACK's timer */
    tw_seq hi_end;         /* all below was sent before the newest entry (or base_at) */
    tw_seq una_seen;       /* snd_una when RACK last looked: [una_seen, snd_una) delivered */
    tw_seq rack_lost;      /* RACK's marks: the holes below it are lost */
    /* Retransmissions RACK found lost, to send again before NextSeg's next hole (they
       lie below HighRxt, which NextSeg does not go back to). */
    uint8_t nrelost;
    /* RFC 5681 3.1: a retransmission lost again after a timeout is a new congestion
       signal, answered once per timeout episode (tcp_in.c tw_rack_act; cleared by
       tcp_out.c tw_out_retransmit). */
    bool loss_relost_cut;
    tw_seq relost[8];
    /* Undo of a spurious recovery (RFC 3708 with RFC 4015's response, as Linux's
       tcp_try_undo_dsack): the congestion state before the episode's reduction, and the
       bytes it retransmitted not yet reported back as duplicates by a D-SACK. */
    bool undo_on;          /* an episode began since the last undo: undo_* valid */
    uint32_t undo_cwnd, undo_ssthresh, undo_bytes;
    tw_cc_state undo_cc;
    /* RFC 6937 3.1: Proportional Rate Reduction's state during a fast recovery (prr_on;
       made by enter_recovery, which makes these extras for a connection without SACK
       too). prr_sacked is c->sacked as of the last ACK counted, prr_dup the bytes
       credited to duplicate ACKs (no SACK) not yet covered by the cumulative ACK. */
    bool prr_on;
    uint32_t prr_delivered, prr_out, prr_recover_fs, prr_sacked, prr_dup;
    tw_seq prr_lost;       /* the lost point (tw_sack_lost_point) at the last ACK counted */
    /* RFC 3522 2 (the Eifel test) for RFC 6298 3: the TSval of the latest
       retransmission of the loss episode that runs until SND.UNA passes rtx_end
       (rtx_ts_on). An ACK of new data in it whose TSecr is older may answer that
       retransmission with an earlier transmission's timestamp: no RTT sample from it
       (tcp_in.c rtt_echo_ambiguous). */
    bool rtx_ts_on;
    uint32_t rtx_ts;
    tw_seq rtx_end;
    uint32_t next_ord;     /* the next entry's place in the send order (from 1) */
    uint32_t rack_ord;     /* RACK.xmit_ts's entry's (0: an estimated time) */
    struct tw_xmit {
        tw_seq start, end;
        tw_time at;
        uint32_t ord;      /* send order: within one instant, which went first */
        bool retrans;
    } x[TW_RACK_XMITS];
} tw_sbx;

static inline tw_sbx *tw_conn_sbx(const tw_socket *c)
{
    return (tw_sbx *)(void *)c->sb;
}

/* The scoreboard and its extras, made now if need be; NULL when out of memory. */
tw_sbx *tw_sbx_get(tw_socket *c);
/* A loss episode's retransmission is about to go (fast retransmit, RTO): the episode
   starts if none runs, or runs on to what is sent now (tw_sbx.rtx_ts_on, rtx_end);
   tw_rack_sent keeps rtx_ts at the latest retransmission's TSval. */
void tw_rtx_episode_mark(tw_socket *c);
/* RFC 8985 6: note [seq, seq + len) sent now (a retransmission or not). Only once the
   extras exist (c->sb): the callers test that. */
void tw_rack_sent(tw_socket *c, tw_seq seq, uint32_t len, bool retrans);
/* RFC 8985 6.2 after an ACK with SACK blocks (or while RACK may have marks to make):
   RACK's state from what [old_una, snd_una) and the SACKed ranges delivered, then the
   loss detection. Returns the reordering timer's delay, 0 for none. */
tw_time tw_rack_on_ack(tw_socket *c);
/* tcp_in.c: act on RACK's marks (fast recovery, RFC 8985 6.2 step 5 / 6675 5) and arm
   its reordering timer for `timeout` (0: none), RFC 8985 6.3. */
void tw_rack_act(tw_socket *c, tw_time timeout);
/* RFC 2883: a D-SACK reported [s, e) received twice: RACK's reordering window (RFC 8985
   6.2 step 4) and the undo of a spurious recovery (tw_undo_begin). */
void tw_rack_dsack(tw_socket *c, tw_seq s, tw_seq e);
/* A loss episode (fast recovery or a timeout) is about to reduce the congestion state:
   keep it for an undo (RFC 3708 / 4015) if every byte the episode retransmits comes back
   D-SACKed. */
void tw_undo_begin(tw_socket *c);
/* RACK is in force for c: SACK in use, RACK on, the extras made. */
static inline bool tw_rack_active(const tw_socket *c)
{
    return (c->flags & TW_F_SACK) && c->sb != NULL && !c->st->cfg.no_rack;
}
/* RFC 8985 6.2 step 5: mark lost what RACK says is; the delay until the next segment
   may be, 0 for none. Acts on the marks (recovery, retransmissions). */
tw_time tw_rack_detect(tw_socket *c);

/* Keepalive and user-timeout settings that differ from the stack's defaults: set by few
   sockets, so they live outside struct tw_socket. */
typedef struct tw_sock_opts {
    tw_time ka_idle, ka_intvl;
    tw_time user_timeout; /* 0: off */
    uint8_t ka_probes;
    /* TCP Fast Open (fastopen.h): its TW_TFO_* state; a listener's qlen
       (tw_socket_set_fastopen) and its children opened at the SYN still in SYN-RECEIVED
       (RFC 7413 5.1; the listener's own fields have no room: struct tw_socket does not
       grow); a client's bytes on its SYN */
    uint8_t tfo;
    uint16_t tfo_qlen, tfo_pending;
    uint16_t tfo_syn_data;
    /* ECN (RFC 3168, ecn.c): TW_ECN_F_* state; ecn_high: the end of the highest data
       sent (a segment that starts below it is a retransmission, never ECT: 6.1.5); ecn_recover:
       snd_max when an ECE last reduced cwnd (once per window: 6.1.2). */
    uint8_t ecn;
    tw_seq ecn_high, ecn_recover;
    /* Buffer auto-tuning (tcp_conn.c tw_rcv_space_adjust, tw_sndbuf_expand). buf_lock:
       the application set the buffer (TW_BUF_LOCK_*: Linux's SOCK_RCVBUF_LOCK and
       SOCK_SNDBUF_LOCK), copied to a listener's children with the rest. The receive
       side's dynamic right-sizing (Linux's rcvq_space and rcv_rtt_est): rcvq_on once the
       measure began; rcvq_space the most the application read in one measured round
       trip, rcvq_read what it had read (bytes_received - rcv.len, modulo 2^32) when the
       current one began at rcvq_time; rcv_rtt the least time a window took to come in
       (0: none yet), the sample under way ending when RCV.NXT reaches rcv_rtt_seq, begun
       at rcv_rtt_time (0: none under way). rcvq_next: when tw_rcv_space_adjust has
       something to do next (a round trip's end, or a look at the sample under way),
       asked by the read before its call (tw_rcv_space_due); TW_TIME_NEVER when the
       buffer is fixed. */
    uint8_t buf_lock;
    /* shutdown(SHUT_RD) on a socket the application holds, as Linux's (RCV_SHUTDOWN):
       the data queued stays readable and what arrives is received as before (ACKed
       with the window it leaves), a read with nothing queued returns 0 at once, and
       new data in FIN-WAIT-1 or FIN-WAIT-2 resets (tcp_in.c shut_rd_text). TW_F_SHUT_RD
       is set with it (the rare paths); without this block (out of memory) or for an
       orphan, TW_F_SHUT_RD alone discards what arrives. */
    bool rd_keep;
    bool rcvq_on;
    /* SO_LINGER with time 0 (close() aborts): here rather than a flag, whose bit
       TCP_CORK took (few sockets set it; close's usual case asks TW_F_EXTRAS) */
    bool linger0;
    /* IP_TOS (tw_socket_set_tos): the DS field of the connection's packets, in place of
       cfg.tos once tos_set; stack.c's ip_fields_xmit reads it as they leave */
    bool tos_set;
    uint8_t tos;
    uint32_t rcvq_space, rcvq_read;
    tw_seq rcv_rtt_seq;
    tw_time rcvq_time, rcv_rtt, rcv_rtt_time, rcvq_next;
} tw_sock_opts;

#define TW_BUF_LOCK_RCV 0x01u
#define TW_BUF_LOCK_SND 0x02u

#define TW_ECN_F_ASKED 0x01u  /* our SYN asks for ECN (ECE and CWR set) */
#define TW_ECN_F_OK 0x02u     /* negotiated: an ECN connection */
#define TW_ECN_F_DEMAND 0x04u /* CE seen: every segment carries ECE until a CWR (6.1.3) */
#define TW_ECN_F_QUEUE_CWR 0x08u /* cwnd reduced for an ECE: CWR on the next new data */
#define TW_ECN_F_IN_CWR 0x10u /* reduced, until snd_una reaches ecn_recover */
#define TW_ECN_F_PRR 0x20u    /* the reduction under way, by PRR (ecn.h tw_ecn_cwr_on) */

/* c's own settings block, made on first use with the stack's defaults; NULL when out of
   memory. */
tw_sock_opts *tw_conn_opts_get(tw_socket *c);

/* SO_LINGER 0 set (tw_socket_set_linger0) */
static inline bool tw_conn_linger0(const tw_socket *c)
{
    return (c->flags & TW_F_EXTRAS) && c->opts && c->opts->linger0;
}

static inline tw_time tw_conn_ka_idle(const tw_socket *c)
{
    return c->opts ? c->opts->ka_idle : c->st->cfg.keepalive_idle;
}

static inline tw_time tw_conn_ka_intvl(const tw_socket *c)
{
    return c->opts ? c->opts->ka_intvl : c->st->cfg.keepalive_intvl;
}

static inline uint8_t tw_conn_ka_probes(const tw_socket *c)
{
    return c->opts ? c->opts->ka_probes : c->st->cfg.keepalive_probes;
}

static inline tw_time tw_conn_user_timeout(const tw_socket *c)
{
    return c->opts ? c->opts->user_timeout : 0;
}

/* A received segment, with the view the state machine needs. */
typedef struct tw_seg {
    const tw_tcp_hdr *h;
    uint32_t raddr;     /* set only when no connection was found: only the steps for
                           such a segment read it (tcp_in.c seg_init) */
    /* SEG.ACK before SEG.SEQ, the header's second field first: as a little-endian host's
       one swap of the two leaves them (tcp_hdr.h tw_get32x2_rev, tw_tcp_usual ack_seq) */
    tw_seq ack, seq;
    uint32_t len;       /* SEG.LEN as it came (tw_seg_len), before any trimming: set
                           only for the steps that read it (in_synchronized, req_checks;
                           the usual segment's short paths never do) */
    const uint8_t *data; /* set only with data (data_len as it came nonzero) */
    uint32_t data_len;
    uint8_t doff_raw;   /* the data offset's byte as it came, written with `flags` (set
                           only by the usual parse: tcp_hdr.h tw_tcp_parse_usual_part) */
    uint8_t flags;
    tw_seg_summary sum; /* for trace and drop events */
    /* tw_htab_hash of the 4-tuple's key in st->conns, set when the lookup hashed it:
       always when nothing was found, and for a SYN queue entry found in the table (not
       for one found as stack.h last_req: the entry keeps its own, reqsk.h hash). */
    uint64_t hash;
} tw_seg;

/* SEG.LEN (RFC 9293 3.4): payload + SYN + FIN, one each (SYN+FIN counts 2: the RST
   that answers it with no connection acknowledges both, RFC 9293 3.10.7.1). */
static inline uint32_t tw_seg_len(const tw_seg *s)
{
    _Static_assert(TW_FIN == 1 && TW_SYN == 2, "flag bits");
    return s->data_len + (s->flags & TW_FIN) + ((s->flags >> 1) & 1u);
}

struct tw_tw;
struct tw_reqsk;

/* Who a trace event is about when no connection object exists (half-open entries). */
typedef struct tw_trace_id {
    uint64_t conn_id;
    uint32_t iss, irs;
    tw_state state;
} tw_trace_id;

/* An idle stack (no socket, no TIME-WAIT record) gives its free lists and its kept port
   leaf back, so that it holds what a fresh one holds (mem.h, stack.h leaf_kept). */
/* (0: as every step that may end the usual packet's function in a tail call,
   conn_free.h tw_conn_free_in_as) */
int tw_stack_trim_idle(tw_stack *st);
static inline int tw_stack_trim_if_idle(tw_stack *st)
{
    /* (the idle test in line, what to give back behind a call made last: a caller that
       ends here, tw_conn_free's usual case, then keeps no register across a call) */
    if (!st->mem.cache[TW_MC_CONN].out && !st->tws.count) {
        return tw_stack_trim_idle(st);
    }
    return 0;
}

/* ---- tcp_conn.c ---- */
/* Set st->conn_tmpl from the stack's configuration and device (tw_stack_new). */
void tw_conn_tmpl_init(tw_stack *st);
/* A new connection object (CLOSED, its settings the stack's) whose trace identity is
   `id` (a passive open's was given to its SYN queue entry), or NULL. */
tw_socket *tw_conn_alloc(tw_stack *st, uint32_t id);

/* The TCP header's first word for c's key (tcp_conn.h h.key: rport << 16 | lport in its
   low half), source port then destination port as they lie, as a native value. */
static inline uint32_t tw_conn_out_ports(uint64_t key)
{
    uint32_t pk = (uint32_t)key;
    return tw_be32(pk << 16 | pk >> 16);
}

/* c->out_asum from its two halves, each stored by itself (a shift and an or fewer than
   the word made first: lifecycle -6 with the SYN builder's ports below). */
static inline void tw_conn_out_asum_set(tw_socket *c, uint32_t addr_fold, uint32_t ports)
{
    bool le = tw_cksum_little_endian();
    memcpy((uint8_t *)&c->out_asum + (le ? 0 : 4), &addr_fold, 4);
    memcpy((uint8_t *)&c->out_asum + (le ? 4 : 0), &ports, 4);
    assert(c->out_asum == ((uint64_t)ports << 32 | addr_fold));
}

/* Set c->out_addr and c->out_asum (the addresses in network order and their sum made
   under 2^18, tw_cksum_fold18; the ports' word in out_asum's upper half, from c->h.key,
   which is set), for a caller that has them (tcp_in.c's passive open). */
static inline void tw_conn_out_prep_as(tw_socket *c, uint32_t nsrc, uint32_t ndst,
                                       uint32_t addr_fold)
{
    assert(addr_fold < (1u << 18));
    c->out_addr[0] = nsrc;
    c->out_addr[1] = ndst;
    tw_conn_out_asum_set(c, addr_fold, tw_conn_out_ports(c->h.key));
}

/* st->syn_peer, syn_addr and syn_ipw for the peer `raddr`: stack.h. */
static inline void tw_syn_memo_set(tw_stack *st, uint32_t raddr)
{
    uint32_t ndst = tw_be32(raddr);
    st->syn_peer = raddr;
    uint32_t afold = tw_cksum_fold18((uint64_t)st->addr_net + ndst);
    st->syn_addr[0] = st->addr_net;
    st->syn_addr[1] = ndst;
    st->syn_addr[2] = afold;
    st->syn_psum = afold + (uint32_t)tw_cksum_be16_native(TW_IPPROTO_TCP + 40);
    /* (a SYN's or SYN+ACK's datagram: 40 bytes of TCP header with all four options) */
    st->syn_ipw = tw_ipv4_native_word2(afold, TW_IPPROTO_TCP, 40, TW_IPV4_ATOMIC_ID);
}

/* tw_conn_out_prep_as from the stack's (c's) address and the key's peer address: called
   where the 4-tuple is settled (an active open's SYN, which sets them again on each SYN
   sent, and a passive open's child). */
static inline void tw_conn_out_prep(tw_stack *st, tw_socket *c)
{
    assert(st == c->st);
    uint32_t nsrc = st->addr_net, ndst = tw_be32((uint32_t)(c->h.key >> 32));
    tw_conn_out_prep_as(c, nsrc, ndst, tw_cksum_fold18((uint64_t)nsrc + ndst));
}
#if TW_ASM_X86
#define TW_CONN_WIDE 1
/* tw_conn_open in full, its object set with 32-byte stores (AVX2: st->conn_wide_on). */
int tw_conn_open_wide(tw_stack *st, tw_socket **out);
#else
#define TW_CONN_WIDE 0
#endif
/* The deadlines, one run of 32 bytes between two zeroed ones (tcp_conn.c checks it). */
#define TW_CONN_DEADLINES_AT offsetof(struct tw_socket, rto_at)
#define TW_CONN_DEADLINES_END (offsetof(struct tw_socket, ka_at) + sizeof(tw_time))
/* A socket's send MSS until the SYN+ACK tells (S4: 536, RFC 9293 3.7.1's default, as
   Linux's new socket reports it), and its receive window's scale before connect, the
   default buffer's (st->conn_wscale): a new socket has both (tw_conn_init_as, and
   tw_conn_open_wide's template), and a fresh socket's buffer setting sets the scale
   with it (socket.c fresh_wscale_set), so that connect stores neither and asks nothing
   about the buffer (socket.c connect_start). A passive open's child sets its own. */
#define TW_CONN_SND_MSS_FIRST 536u
/* The 16-byte runs of a new connection that st->conn_tmpl holds (stack.h), each with a
   field set from the stack's configuration among zeros (tcp_conn.c checks them). */
#define TW_CONN_TMPL_FLAGS offsetof(struct tw_socket, flags)
#define TW_CONN_TMPL_MSS offsetof(struct tw_socket, local_mss)
#define TW_CONN_TMPL_RTO (offsetof(struct tw_socket, rto) - 8)
#define TW_CONN_TMPL_SNDBUF (offsetof(struct tw_socket, sndbuf_cap) - 12)
#define TW_CONN_TMPL_RCVBUF (offsetof(struct tw_socket, rcvbuf_cap) - 4)
/* st and ack_next, a 16-byte run before the deadlines that every new connection's
   zeroing leaves out (tcp_conn.c checks it) */
#define TW_CONN_ST_AT offsetof(struct tw_socket, st)
/* A passive open's child made from a SYN queue entry (tcp_in.c req_promote, `child`
   TW_CONN_CHILD_PROMOTED below) leaves out of the zeroing, besides a child's two runs,
   three more that its steps fill whole before anything reads them: the table link and
   the key (h: new_child's key, tw_htab_replace_in's link), and the 32 bytes from SND.MAX
   to RCV.NXT (req_promote's SND.MAX, SND.BUF_SEQ, IRS and RCV.NXT; in_promoted's window,
   SND.WL1 and SND.WL2 on each of its ways: syn_rcvd_queued_in, syn_rcvd_window).
   tcp_conn.c checks the layout. */
#define TW_CONN_CHILD 1u
#define TW_CONN_CHILD_PROMOTED 2u
/* Or'ed with either by a caller that knows st->conn_wide_on (tw_conn_init_as): set, or
   clear (tcp_in.c req_promote_usual's two copies, st->req_promote_usual). */
#define TW_CONN_AS_WIDE 4u
#define TW_CONN_AS_NARROW 8u
/* Or'ed with the others by a caller that has found the free list not empty
   (tw_conn_alloc_in: tcp_in.c req_promote_usual's quick copies, whose test of it comes
   before any step; the list's test then not made twice). */
#define TW_CONN_AS_LISTED 16u
#define TW_CONN_LINK_END sizeof(tw_hnode)
#define TW_CONN_PROMOTED_END (TW_CONN_TMPL_FLAGS + 48)
/* The last 16 bytes, out_asum and out_addr (tcp_conn.c checks it). */
#define TW_CONN_OUT_AT offsetof(struct tw_socket, out_asum)
/* A connection object from the class's free list may keep the two first-size blocks of
   the rings it had (conn_free.h, the usual free; mem.h kept_at): both or neither, each
   with its capacity (ring_free: a capacity means a block). Its new connection keeps them
   parked (tw_conn_init_as `listed`): each ring's block with no capacity (a ring without
   capacity is empty and has no block, or this one, parked, at head 0), which the ring's
   first use gives its capacity, where it took a block from the ring list (socket.c
   send_dst and send_first_usual, tcp_in.c's first data, tw_conn_ring_grow): neither its
   first write nor its first data takes from the list, and the usual free gives nothing
   to it. A parked block is the connection's, as any ring's block (ring_free gives it
   back as a first-size one); a listed object's are its own too, not counted in the ring
   list's room (mem.h kept_at). Under a memory budget the ring list is off (stack.c), and
   no object keeps blocks (conn_free.h); under AddressSanitizer the lists are off (mem.h):
   none is listed. */
static inline __attribute__((always_inline)) void tw_conn_rings_kept(tw_stack *st,
                                                                     const tw_socket *c)
{
    (void)st;
    (void)c;
    assert(c->snd.cap == c->rcv.cap && (c->snd.cap == 0 || c->snd.cap == TW_MEM_RING_BLOCK));
    assert((c->snd.buf != NULL) == (c->snd.cap != 0) && (c->rcv.buf != NULL) == (c->rcv.cap != 0));
    assert(!c->snd.buf || !(st->mem.list_off & (1u << TW_MC_RING)));
}

/* A ring's first block at its first use (no capacity yet): its parked one
   (tw_conn_rings_kept), else one from the ring list, which the caller has found not
   empty (send_dst, send_first_usual, tcp_in.c's first data). */
static inline __attribute__((always_inline)) uint8_t *tw_conn_ring_first_block(tw_stack *st,
                                                                               tw_ring *r)
{
    assert(r->cap == 0 && (r->buf || st->mem.cache[TW_MC_RING].head));
    if (!r->buf) {
        r->buf = tw_mem_take(&st->mem, TW_MC_RING, TW_MEM_RING_BLOCK);
    }
    return r->buf;
}

/* A connection object's first state, c from the class's free list or its slow path.
   `child` (a constant): a passive open's child, whose caller sets flags, local_mss,
   sndbuf_cap and rcvbuf_cap itself from its listener (tcp_in.c new_child): their runs
   of the template are then left zero, not loaded and stored to be overwritten. */
/* (`child` may carry TW_CONN_AS_WIDE or TW_CONN_AS_NARROW too: a caller that knows
   st->conn_wide_on, which is then not asked) */
static inline __attribute__((always_inline)) tw_socket *tw_conn_init_as(tw_stack *st,
                                                                        tw_socket *c,
                                                                        uint32_t id, unsigned child_as,
                                                                        bool listed)
{
    unsigned child = child_as & (TW_CONN_CHILD | TW_CONN_CHILD_PROMOTED);
#if TW_CONN_WIDE
    assert(!(child_as & TW_CONN_AS_WIDE) || st->conn_wide_on);
    assert(!(child_as & TW_CONN_AS_NARROW) || !st->conn_wide_on);
    if (child && ((child_as & TW_CONN_AS_WIDE) ||
                  (!(child_as & TW_CONN_AS_NARROW) && st->conn_wide_on))) {
        /* A child with AVX2 (st->conn_wide_on): the same bytes in 32-byte stores, 14 where
           the 16-byte ones below take 26 (tw_conn_open_wide's, for a socket's; here in
           line, as an asm block, in a function built for any x86-64: its call in the
           middle of tcp_in.c's req_promote cost more than it saved). The runs left to
           the caller are stored zero with their neighbours, but for the last one. */
        typedef struct {
            unsigned char b[TW_CONN_OUT_AT];
        } tw_conn_child_bytes;
        typedef struct {
            uint64_t w[4];
        } tw_conn_wide_run;
        _Static_assert(TW_CONN_TMPL_RTO == 0xe0 && TW_CONN_DEADLINES_AT == 0xf0 &&
                           TW_CONN_DEADLINES_END == 0x110 && TW_CONN_OUT_AT == 0x1c0 &&
                           TW_CONN_LINK_END == 0x10 && TW_CONN_TMPL_FLAGS == 0x30 &&
                           TW_CONN_PROMOTED_END == 0x60 && TW_CONN_ST_AT == 0xc0 &&
                           TW_CONN_TMPL_SNDBUF == 0x120,
                       "the asm's offsets: zeros to 0xe0, st->conn_wide's runs 2 and 3 (the "
                       "RTO, the deadlines, zeros to 0x120), zeros to the prepared addresses");
        /* From 0xe0, st->conn_wide's third and fourth runs (tcp_conn.c: the RTO's run
           with the first deadlines, then the last three up to snd.buf), as
           tw_conn_open_wide stores them: two loads where the RTO's run and a run of all
           ones took three instructions. The rings' blocks (parked, tw_conn_rings_kept)
           lie between the runs, whose bounds leave them out: the zeros from 0x120 to
           snd.buf's end as one 16-byte store, then from after rcv.buf, with no masked
           store (the masks' two loads: lifecycle -1 instr). */
        _Static_assert(offsetof(struct tw_socket, snd.buf) == 0x118 &&
                           offsetof(struct tw_socket, rcv.buf) == 0x130,
                       "the rings' blocks between the runs");
#define TW_CONN_CHILD_WIDE_TAIL                                                             \
    "vmovdqu %2, %%ymm1\n\t"                                                               \
    "vmovdqu %3, %%ymm2\n\t"                                                               \
    "vmovdqu %%ymm1, 0xe0(%1)\n\t"                                                         \
    "vmovdqu %%ymm2, 0xf8(%1)\n\t"                                                         \
    "vmovdqu %%xmm0, 0x120(%1)\n\t"                                                        \
    "vmovdqu %%ymm0, 0x138(%1)\n\t"                                                        \
    "vmovdqu %%ymm0, 0x158(%1)\n\t"                                                        \
    "vmovdqu %%ymm0, 0x178(%1)\n\t"                                                        \
    "vmovdqu %%ymm0, 0x198(%1)\n\t"                                                        \
    "vmovdqu %%ymm0, 0x1a0(%1)\n\t"                                                        \
    "vzeroupper"
        const tw_conn_wide_run *tail = (const tw_conn_wide_run *)(const void *)st->conn_wide[2];
        /* The zeroing stores given (which differ with what the caller fills), then the tail: one
   asm statement with the same operands either way. */
#define TW_CONN_CHILD_WIDE(zeroing)                                                         \
    __asm__("vpxor %%xmm0, %%xmm0, %%xmm0\n\t" zeroing TW_CONN_CHILD_WIDE_TAIL              \
            : "=m"(*(tw_conn_child_bytes *)(void *)c)                                       \
            : "r"(c), "m"(tail[0]), "m"(tail[1])                                           \
            : "xmm0", "xmm1", "xmm2")
        if (child == TW_CONN_CHILD_PROMOTED) {
            /* req_promote's runs (h, 0x30 to 0x60; st's is stored below) left out where
               32-byte stores allow: one store from 0x10 zeroes 0x10 to 0x30, none goes
               to 0x40, and 0xc0's zeroes st's run with the next: 12 stores. */
            TW_CONN_CHILD_WIDE("vmovdqu %%ymm0, 0x10(%1)\n\t"
                               "vmovdqu %%ymm0, 0x60(%1)\n\t"
                               "vmovdqu %%ymm0, 0x80(%1)\n\t"
                               "vmovdqu %%ymm0, 0xa0(%1)\n\t"
                               "vmovdqu %%ymm0, 0xc0(%1)\n\t");
#ifndef NDEBUG
            /* (poisoned where asserts are on, as the 16-byte form's below) */
            memset(c, 0xa5, TW_CONN_LINK_END);
            memset((uint8_t *)c + TW_CONN_TMPL_FLAGS + 16, 0xa5, 32);
#endif
        } else {
            TW_CONN_CHILD_WIDE("vmovdqu %%ymm0, 0x00(%1)\n\t"
                               "vmovdqu %%ymm0, 0x20(%1)\n\t"
                               "vmovdqu %%ymm0, 0x40(%1)\n\t"
                               "vmovdqu %%ymm0, 0x60(%1)\n\t"
                               "vmovdqu %%ymm0, 0x80(%1)\n\t"
                               "vmovdqu %%ymm0, 0xa0(%1)\n\t"
                               "vmovdqu %%ymm0, 0xc0(%1)\n\t");
        }
#undef TW_CONN_CHILD_WIDE
#undef TW_CONN_CHILD_WIDE_TAIL
        if (!listed) {
            /* (the runs left the rings' blocks as they were: a new object's hold
               nothing yet) */
            c->snd.buf = NULL;
            c->rcv.buf = NULL;
        }
        c->kind = TW_OBJ_CONN;
        c->st = st;
        c->id = id;
        return c;
    }
#endif
    /* (a listed object's kept blocks, put back below: tw_conn_rings_kept) */
    uint8_t *kept_snd = listed ? c->snd.buf : NULL, *kept_rcv = listed ? c->rcv.buf : NULL;
#if defined(__GNUC__)
    /* The template's runs loaded first, so that their stores below replace the zeroing's
       stores to the same bytes (nothing reads c in between). */
    const tw_mem_v16 *t = (const tw_mem_v16 *)(const void *)st->conn_tmpl;
    tw_mem_v16 t_flags = {0, 0}, t_mss = {0, 0}, t_sndbuf = {0, 0}, t_rcvbuf = {0, 0};
    tw_mem_v16 t_rto = t[2];
    if (!child) {
        t_flags = t[0];
        t_mss = t[1];
        t_sndbuf = t[3];
        t_rcvbuf = t[4];
    }
#endif
    /* Zero-filled but for the deadlines, all TW_TIME_NEVER: the 16-byte stores of the
       zeroing, with no second store to the deadlines (three of them) after it, and
       without st's run (below). A child leaves out two runs its caller fills whole
       (tcp_in.c new_child and its callers, before anything reads them): flags with iss,
       snd_una and snd_nxt (the template's flags run), and the prepared addresses
       (out_asum, out_addr: tw_conn_out_prep). */
    size_t from;
    if (child == TW_CONN_CHILD_PROMOTED) {
        /* (and the table link with the key, the send side's 16 bytes from SND.MAX and the
           window's from SND.WND: tcp_in.c req_promote's, below) */
        tw_mem_zero((uint8_t *)c + TW_CONN_LINK_END, TW_CONN_TMPL_FLAGS - TW_CONN_LINK_END);
        from = TW_CONN_PROMOTED_END;
#ifndef NDEBUG
        /* (poisoned where asserts are on: a step that read them before req_promote's
           stores would see nonsense, not a zero that happens to pass) */
        memset(c, 0xa5, TW_CONN_LINK_END);
        memset((uint8_t *)c + TW_CONN_TMPL_FLAGS + 16, 0xa5, 32);
#endif
    } else if (child) {
        tw_mem_zero(c, TW_CONN_TMPL_FLAGS);
        from = TW_CONN_TMPL_FLAGS + 16;
    } else {
        from = 0;
    }
    /* The run of st and ack_next left out too: st is stored below, and ack_next is read
       only while the connection is on the stack's list of held ACKs (TW_F_ACK_QUEUED),
       each push onto it setting it first (as the object given back keeps its own:
       tcp_out.c tw_out_forget_ack). */
    tw_mem_zero((uint8_t *)c + from, TW_CONN_ST_AT - from);
    tw_mem_zero((uint8_t *)c + TW_CONN_ST_AT + 16, TW_CONN_DEADLINES_AT - (TW_CONN_ST_AT + 16));
#ifndef NDEBUG
    c->ack_next = (tw_socket *)(uintptr_t)0xa5a5a5a5a5a5a5a5u; /* (see above) */
#endif
#if defined(__GNUC__)
    /* (two 16-byte stores, where GCC makes four of the assignments below) */
    *(tw_mem_v16 *)(void *)&c->rto_at = (tw_mem_v16){TW_TIME_NEVER, TW_TIME_NEVER};
    *(tw_mem_v16 *)(void *)&c->dack_at = (tw_mem_v16){TW_TIME_NEVER, TW_TIME_NEVER};
#else
    c->rto_at = TW_TIME_NEVER;
    c->misc_at = TW_TIME_NEVER;
    c->dack_at = TW_TIME_NEVER;
    c->ka_at = TW_TIME_NEVER;
#endif
    tw_mem_zero((uint8_t *)c + TW_CONN_DEADLINES_END,
                (child ? TW_CONN_OUT_AT : sizeof(*c)) - TW_CONN_DEADLINES_END);
#if defined(__GNUC__)
    /* flags (tw_cc_flag(st->cfg.cc)), local_mss (tw_conn_mss_for(st, 0)), rto
       (cfg.rto_initial), sndbuf_cap (cfg.sndbuf), rcvbuf_cap (cfg.rcvbuf) */
    if (!child) {
        *(tw_mem_v16 *)(void *)((uint8_t *)c + TW_CONN_TMPL_FLAGS) = t_flags;
    }
    *(tw_mem_v16 *)(void *)((uint8_t *)c + TW_CONN_TMPL_MSS) = t_mss;
    *(tw_mem_v16 *)(void *)((uint8_t *)c + TW_CONN_TMPL_RTO) = t_rto;
    *(tw_mem_v16 *)(void *)((uint8_t *)c + TW_CONN_TMPL_SNDBUF) = t_sndbuf;
    *(tw_mem_v16 *)(void *)((uint8_t *)c + TW_CONN_TMPL_RCVBUF) = t_rcvbuf;
#else
    if (!child) {
        memcpy((uint8_t *)c + TW_CONN_TMPL_FLAGS, st->conn_tmpl[0], 16);
        memcpy((uint8_t *)c + TW_CONN_TMPL_MSS, st->conn_tmpl[1], 16);
        memcpy((uint8_t *)c + TW_CONN_TMPL_SNDBUF, st->conn_tmpl[3], 16);
        memcpy((uint8_t *)c + TW_CONN_TMPL_RCVBUF, st->conn_tmpl[4], 16);
    }
    memcpy((uint8_t *)c + TW_CONN_TMPL_RTO, st->conn_tmpl[2], 16);
#endif
    if (!child) {
        /* (not in a 16-byte run of the template: tw_conn_open_wide's runs hold them) */
        c->snd_mss = TW_CONN_SND_MSS_FIRST;
        c->rcv_wscale = st->conn_wscale;
    }
    if (kept_snd) {
        c->snd.buf = kept_snd; /* (parked: no capacity) */
        c->rcv.buf = kept_rcv;
    }
    c->kind = TW_OBJ_CONN;
    c->st = st;
    c->id = id;
    return c;
}

static inline __attribute__((always_inline)) tw_socket *tw_conn_init(tw_stack *st,
                                                                     tw_socket *c, uint32_t id)
{
    return tw_conn_init_as(st, c, id, false, false);
}

/* tw_conn_alloc with the free list empty. */
tw_socket *tw_conn_alloc_slow(tw_stack *st, uint32_t id);
/* tw_conn_alloc inline; `child` (a constant) for a passive open's child (tcp_in.c
   new_child), which sets flags, local_mss, sndbuf_cap and rcvbuf_cap itself
   (tw_conn_init_as; the slow path's object has them from the template, overwritten
   alike). */
static inline __attribute__((always_inline)) tw_socket *tw_conn_alloc_in(tw_stack *st,
                                                                        uint32_t id, unsigned child)
{
    assert(!(child & TW_CONN_AS_LISTED) || st->mem.cache[TW_MC_CONN].head);
    if (!(child & TW_CONN_AS_LISTED) && !st->mem.cache[TW_MC_CONN].head) {
        return tw_conn_alloc_slow(st, id);
    }
    tw_socket *c = tw_mem_take(&st->mem, TW_MC_CONN, sizeof(tw_socket));
    tw_conn_rings_kept(st, c);
    return tw_conn_init_as(st, c, id, child, true);
}
/* st->req_promote_usual for st->conn_wide_on (tcp_in.c; tw_conn_tmpl_init calls it). */
void tw_in_promote_init(tw_stack *st);
/* tw_conn_open with the free list empty (tcp_conn.c). */
int tw_conn_open_slow(tw_stack *st, tw_socket **out);
/* tw_conn_open's usual steps without AVX2 (tcp_conn.c): st->conn_open then. */
int tw_conn_open_narrow(tw_stack *st, tw_socket **out);
/* tw_socket_open's step after its checks: tw_conn_alloc, the socket stored at *out; 0 or
   TW_ERR_NOMEM. By the stack's pointer (stack.h conn_open), fixed at tw_stack_new:
   tw_conn_open_wide with AVX2, else tw_conn_open_narrow; each makes no call in its usual
   case, a connection object on the free list, and tail-calls tw_conn_open_slow in the
   others. (One indirect jump where the AVX2 flag's test and a jump took three steps.) */
static inline __attribute__((always_inline)) int tw_conn_open(tw_stack *st, tw_socket **out)
{
    return st->conn_open(st, out);
}
/* Release everything the connection holds and the object itself. */
void tw_conn_free(tw_socket *c);
/* tw_conn_free for a counted orphan (TW_F_ORPHAN and TW_F_COUNTED set: the application
   closed it before CLOSED; so neither a listener nor an unaccepted child): the two counts
   taken down without their tests; its timer not held (tcp_in.c closing_ack_last, the one
   caller, runs before in_conn's timer_hold; asserted), so st->timer_held is not asked.
   `c` is the connection the stack's lookup found for the segment being processed
   (LAST-ACK's last ACK), `st` its stack: in the connection table and the lookup's cache
   (stack.h last_conn), neither asked. It has no extras block (TW_F_EXTRAS: the caller
   leaves such a connection to the full steps; asserted, and not asked). */
void tw_conn_free_orphan_found(tw_stack *st, tw_socket *c);
/* tw_conn_free_orphan_found for the usual packet's function, which it ends (a tail call):
   sets call_free and returns 0, tw_stack_input's answer. */
int tw_conn_free_orphan_found_leave(tw_stack *st, tw_socket *c);
/* Free every socket object of the stack and what each holds (tw_stack_free only: the
   tables, the wheel and the port entries are left as they are, for the caller to free). */
void tw_conn_free_all(tw_stack *st);
/* The one place a state changes (STYLE 7.8): checks the edge, traces, counts. Inline
   when nothing traces: a change then costs its store, and for the three states that
   count something (SYN-SENT and SYN-RECEIVED a connection, ESTABLISHED an establishment,
   once each) a flag test, the state a constant at every caller. tw_conn_set_state_full
   does the rest (tracing). */
void tw_conn_set_state_full(tw_socket *c, tw_state s);
/* Whether old -> s is an edge of the state diagram (or no change); debug builds only. */
bool tw_conn_edge_legal(tw_state old, tw_state s);
/* tw_conn_set_state for a caller that has found nothing traces (c->st->cfg.trace NULL):
   the inline half. */
static inline __attribute__((always_inline)) void tw_conn_set_state_untraced(tw_socket *c,
                                                                            tw_state s)
{
    assert(!c->st->cfg.trace);
    assert(tw_conn_edge_legal((tw_state)c->state, s));
    /* (the same counting as tw_conn_set_state_full's: each flag makes it once only, so
       a "change" to the current state, which that function passes by, counts nothing) */
    if (s == TW_STATE_ESTABLISHED) {
        if (!(c->flags & TW_F_CONNECTED)) {
            c->flags |= TW_F_CONNECTED;
            tw_count(c->st, TW_CNT_TCP_ESTABLISHED);
        }
    } else if (s == TW_STATE_SYN_SENT || s == TW_STATE_SYN_RCVD) {
        if (!(c->flags & TW_F_COUNTED)) {
            c->flags |= TW_F_COUNTED | TW_F_STARTED;
            c->st->nconns++;
        }
    }
    c->state = (uint8_t)s;
}
static inline __attribute__((always_inline)) void tw_conn_set_state(tw_socket *c, tw_state s)
{
    if (c->st->cfg.trace) {
        tw_conn_set_state_full(c, s);
        return;
    }
    tw_conn_set_state_untraced(c, s);
}
/* The connection is over (CLOSED). `err` becomes sticky if nonzero. Frees the object
   when the application no longer holds it; otherwise unhashes it and keeps it CLOSED. */
void tw_conn_done(tw_socket *c, int err);
/* The listener of a passive child not yet accepted (TW_F_CHILD): its local port's. */
tw_socket *tw_conn_listener(const tw_socket *c);
/* A node of st->conns is a half-open entry (reqsk.h) rather than a connection: the kind
   byte both begin with (tcp_conn.c asserts the shared layout), read as bytes. */
static inline bool tw_hnode_is_req(const tw_hnode *n)
{
    return ((const uint8_t *)n)[offsetof(struct tw_socket, kind)] == TW_OBJ_REQ;
}
/* Put the connection in st->conns by its 4-tuple (no-op when it is there). */
void tw_conn_hash(tw_socket *c);
/* The same, the key's hash in st->conns known (tw_seg.hash). Inline: every connection
   is hashed once, by connect() or by the third segment of its handshake. */
static inline void tw_conn_hash_hashed(tw_socket *c, uint64_t hash)
{
    if (c->flags & TW_F_HASHED) {
        return;
    }
    /* raddr, rport and lport are the key's bytes (tcp_conn.h). */
    assert(c->h.key == tw_tuple_key(c->raddr, c->rport, c->lport));
    tw_stack *st = c->st;
    tw_htab_insert_hashed(&st->conns, &st->mem, &c->h, hash);
    c->hash = hash;
    c->flags |= TW_F_HASHED;
    /* The next segment for this stack is most likely this connection's (the SYN+ACK of
       a connect, the first answer after a handshake): the lookup's cache takes it now. */
    st->last_conn = c;
}
void tw_conn_unhash(tw_socket *c);
/* tw_conn_timer_update's case of a deadline left (not held): the wheel entry goes to the
   earliest. */
void tw_conn_timer_place(tw_socket *c);
/* Re-arm the connection's one wheel entry at the earliest of its deadlines. Inline for
   its usual cases, a held timer (tcp_in.c: marked, set once the segment is done) and no
   deadline left (an ACK that stops the RTO: the entry, still waiting unplaced, goes):
   no call, and no minimum of four deadlines. */
/* tw_conn_timer_update for a timer known not held (tcp_in.c timer_release: the segment's
   held timer let go), `st` c's stack. */
/* (`misc_never`, a constant: the caller knows misc_at is NEVER -- set only in FIN-WAIT-2
   and TIME-WAIT -- and it is left out of the test) */
/* (always in line: with tw_stack_input's gate in the usual packet's function, GCC made
   it a call there; measured: lifecycle +36 instr) */
static inline __attribute__((always_inline)) void
tw_conn_timer_update_unheld_as(tw_stack *st, tw_socket *c, bool misc_never)
{
    assert(c->st == st && c != st->timer_held);
    assert(!misc_never || c->misc_at == TW_TIME_NEVER);
    /* (TW_TIME_NEVER is all ones: the four are NEVER when their AND is) */
    bool none = (c->rto_at & (misc_never ? TW_TIME_NEVER : c->misc_at) & c->dack_at &
                 c->ka_at) == TW_TIME_NEVER;
    /* (header prediction's, `misc_never`: an ACK of all that was sent, the
       request-response exchange's, with no deadline left, laid out first) */
    if (misc_never) {
        if (__builtin_expect(none, 1)) {
            /* (tw_wheel_cancel's steps, its usual case, the RTO waiting unplaced, laid
               out first too) */
            if (__builtin_expect(tw_timer_lazy(&c->timer), 1)) {
                tw_wheel_cancel_lazy(&st->wheel, &c->timer);
            } else {
                tw_wheel_cancel(&st->wheel, &c->timer);
            }
            return;
        }
    } else if (none) {
        tw_wheel_cancel(&st->wheel, &c->timer);
        return;
    }
    tw_conn_timer_place(c);
}
static inline void tw_conn_timer_update_unheld(tw_stack *st, tw_socket *c)
{
    tw_conn_timer_update_unheld_as(st, c, false);
}
/* tw_conn_timer_update_unheld after SYN-SENT's first data went out (tcp_in.c
   in_syn_sent, tcp_out.c tw_out_push_now_synack_data): the usual case in line, the
   SYN's retransmission entry still waiting unplaced (wheel.h lazy, a time) and the data
   just sent having restarted the RTO, the only deadline: the waiting entry moves to it,
   what tw_conn_timer_place would do. (misc_at, set only in FIN-WAIT-2 and TIME-WAIT, is
   NEVER; nothing was received in SYN-SENT, so no delayed ACK is due, and the keepalive's
   is NEVER without the option.) */
static inline __attribute__((always_inline)) void tw_conn_timer_syn_sent_data(tw_stack *st,
                                                                              tw_socket *c)
{
    assert(c->misc_at == TW_TIME_NEVER && c->dack_at == TW_TIME_NEVER &&
           c->ka_at == TW_TIME_NEVER);
    if (__builtin_expect(tw_timer_lazy(&c->timer) && c->rto_at != TW_TIME_NEVER, 1)) {
        c->timer.expires = c->rto_at;
    } else {
        tw_conn_timer_update_unheld(st, c);
    }
}
static inline void tw_conn_timer_update(tw_socket *c)
{
    tw_stack *st = c->st;
    if (c == st->timer_held) {
        /* A segment is being processed for c: its deadlines may change several times
           on the way (RTO stopped, then started again for the reply); the wheel entry
           is set once at the end (tcp_in.c in_conn). */
        st->timer_dirty = true;
        return;
    }
    tw_conn_timer_update_unheld(st, c);
}
/* tw_conn_timer_update after one deadline, the RTO, went from NEVER to `at` (not NEVER):
   when the other three are off and the entry is not armed (an RTO started by a send,
   the usual case), the entry waits for it at once, without the minimum of four: the same
   arm tw_conn_timer_place would make. (The three are NEVER when their AND is; any other
   case takes the general step.) dack_off: the delayed-ACK deadline is known to be NEVER
   (tw_rto_arm_inline_as), and a held timer is marked here, as tw_conn_timer_update
   would, without its call (tcp_out.c push_now, sending inside a segment's processing:
   the data a connect queued, sent on the SYN+ACK). */
static inline __attribute__((always_inline)) void tw_conn_timer_started(tw_stack *st,
                                                                       tw_socket *c,
                                                                       tw_time at,
                                                                       bool dack_off,
                                                                       bool unheld)
{
    assert(st == c->st);
    assert(!dack_off || c->dack_at == TW_TIME_NEVER);
    assert(!unheld || c != st->timer_held);
    if (dack_off && !unheld && c == st->timer_held) {
        st->timer_dirty = true;
        return;
    }
    /* unheld (an API call: no segment and no timer being processed for c): the entry is
       armed whenever a deadline is set (tw_conn_timer_update arms it at the earliest,
       and cancels it only when all four are NEVER), so one not armed has no other
       deadline to keep, without their test */
    assert(!unheld || tw_timer_armed(&c->timer) ||
           (c->misc_at & c->dack_at & c->ka_at) == TW_TIME_NEVER);
    if ((unheld || c != st->timer_held) && !tw_timer_armed(&c->timer) &&
        (unheld ||
         (c->misc_at & (dack_off ? TW_TIME_NEVER : c->dack_at) & c->ka_at) == TW_TIME_NEVER)) {
        tw_wheel_arm_lazy_at(&st->wheel, &c->timer, at);
        return;
    }
    tw_conn_timer_update(c);
}
/* Start and stop the delayed-ACK timer (dack_at): what tw_conn_timer_update does, without
   its call and its minimum of four deadlines in the usual case of a receiver, whose
   delayed-ACK deadline is its only one and whose wheel entry waits unplaced from the
   segment that starts the timer to the next one, whose ACK stops it (wheel.h). */
/* Always inline: GCC otherwise keeps it out of line in the header-predicted path. */
/* tw_conn_dack_start with c's stack given apart and, `unheld`, c's timer known not held
   (tcp_in.c fast_do, header prediction: no segment's steps under way). */
static inline __attribute__((always_inline)) void tw_conn_dack_start_as(tw_stack *st,
                                                                        tw_socket *c,
                                                                        tw_time at, bool unheld)
{
    assert(c->st == st && (!unheld || st->timer_held != c));
    c->dack_at = at;
    if (c->rto_at == TW_TIME_NEVER && c->misc_at == TW_TIME_NEVER &&
        c->ka_at == TW_TIME_NEVER && !tw_timer_armed(&c->timer) &&
        (unheld || st->timer_held != c)) {
        /* (_unarmed: asked just above) */
        tw_wheel_arm_lazy_unarmed_at(&st->wheel, &c->timer, at);
    } else {
        tw_conn_timer_update(c);
    }
}
static inline __attribute__((always_inline)) void tw_conn_dack_start(tw_socket *c,
                                                                     tw_time at)
{
    tw_conn_dack_start_as(c->st, c, at, false);
}
static inline void tw_conn_dack_stop(tw_socket *c)
{
    c->dack_at = TW_TIME_NEVER;
    if (c->st->wheel.lazy == &c->timer && c->rto_at == TW_TIME_NEVER &&
        c->misc_at == TW_TIME_NEVER && c->ka_at == TW_TIME_NEVER && c->st->timer_held != c) {
        tw_wheel_cancel_lazy(&c->st->wheel, &c->timer);
    } else {
        tw_conn_timer_update(c);
    }
}
bool tw_conn_ring_grow(tw_socket *c, tw_ring *r, uint32_t need, uint32_t limit, uint32_t keep);
/* Make ring `r` hold at least `need` bytes (from its head), growing it up to `limit`
   bytes with its first `keep` preserved; false when over the limit or out of memory.
   Inline: the usual cases, a ring with room or a fresh ring's first block (what
   tw_conn_ring_grow would choose for it, with nothing to move: every connection that
   carries data comes here once a direction), then cost no call and no register saves. */
static inline bool tw_conn_ring_reserve(tw_socket *c, tw_ring *r, uint32_t need,
                                        uint32_t limit, uint32_t keep)
{
    if (r->buf && need <= r->cap) {
        return true;
    }
    /* (every other case, a ring's first block included, is tw_conn_ring_grow's: the
       memory budget's steps are there; the usual paths have their own first block) */
    return tw_conn_ring_grow(c, r, need, limit, keep);
}
/* The send and the receive buffer's (the latter keeps the out-of-order bytes stored past
   the readable ones). */
static inline bool tw_conn_snd_reserve(tw_socket *c, uint32_t need)
{
    return tw_conn_ring_reserve(c, &c->snd, need, c->sndbuf_cap, c->snd.len);
}
bool tw_conn_rcv_reserve(tw_socket *c, uint32_t need);
/* (tw_conn_rcv_reserve_in's cases other than its two usual ones) */
bool tw_conn_rcv_reserve_slow(tw_socket *c, uint32_t need);
/* tw_conn_rcv_reserve's body (tcp_conn.c; third_ack takes the second usual case in line,
   for a child's fresh ring). */
static inline __attribute__((always_inline)) bool tw_conn_rcv_reserve_in(tw_socket *c,
                                                                        uint32_t need)
{
    /* The usual cases of tw_conn_ring_reserve, here without a call: a ring with room,
       and a fresh ring's first block from the free list (a connection's first data). */
    tw_ring *r = &c->rcv;
    if (r->buf) {
        if (need <= r->cap) {
            return true;
        }
    } else if (r->cap == 0 && need <= TW_MEM_RING_BLOCK && TW_MEM_RING_BLOCK <= c->rcvbuf_cap &&
               c->st->mem.cache[TW_MC_RING].head) {
        r->buf = tw_mem_take(&c->st->mem, TW_MC_RING, TW_MEM_RING_BLOCK);
        r->cap = TW_MEM_RING_BLOCK;
        r->head = 0;
        return true;
    }
    return tw_conn_rcv_reserve_slow(c, need);
}
/* Release a ring's block (to the stack's free list when it has the first size; a parked
   one has: tw_conn_rings_kept). */
void tw_conn_ring_free(tw_stack *st, tw_ring *r);
/* Under a spent memory budget, give back the blocks of rings that hold nothing (every
   byte acknowledged, or read), other than `busy`: c's own other ring, else (at most once
   per interval) every connection's. True when a block was given back, so that the
   caller's allocation may now succeed. */
bool tw_conn_reclaim(tw_socket *c, const tw_ring *busy);
/* The walk alone (at most once per interval), under a budget, for a connection or SYN
   queue entry the budget refused: true when a block was given back. */
bool tw_conn_reclaim_all(tw_stack *st);
/* Receive buffer auto-tuning (Linux's tcp_rcv_space_adjust): the application has read
   and the window opened by at least a segment (socket.c window_update_due); once per
   round trip the receive buffer grows to about twice what was read in it. Cold: called
   only where a window update is due after a read, never by a request/response
   lifecycle's small reads. */
void tw_rcv_space_adjust(tw_socket *c);
/* Whether tw_rcv_space_adjust has anything to do now: a connection without its state
   (c->opts) may start it, one with it only once its rcvq_next has come. Inline: a bulk
   receiver's reads ask it, and few of them pass (a few per round trip). */
static inline bool tw_rcv_space_due(const tw_socket *c)
{
    return !c->opts || c->st->now >= c->opts->rcvq_next;
}
/* Send buffer auto-tuning (Linux's tcp_should_expand_sndbuf / tcp_sndbuf_expand): a
   write found the send buffer full; when the congestion window is not what limits the
   sender, the buffer grows to twice the window. True when it grew. Cold: called only
   for a write that did not fit. */
bool tw_sndbuf_expand(tw_socket *c);
/* Receive space left (bytes the window may offer). Inline, like the other small
   questions below: every segment asks them, and a call costs more than the answer. */
uint32_t tw_conn_rcv_space_rare(const tw_socket *c);
/* Whether a read side shut keeps receiving (tw_sock_opts.rd_keep). */
static inline bool tw_conn_rd_keep(const tw_socket *c)
{
    return c->opts && c->opts->rd_keep;
}
static inline uint32_t tw_conn_rcv_space(const tw_socket *c)
{
    if (c->flags & (TW_F_SHUT_RD | TW_F_BUF_LOWERED)) {
        if ((c->flags & TW_F_SHUT_RD) && !tw_conn_rd_keep(c)) {
            return c->rcvbuf_cap; /* (what arrives is dropped: the window stays open) */
        }
        if (!(c->flags & TW_F_BUF_LOWERED)) {
            return c->rcvbuf_cap - c->rcv.len;
        }
        return tw_conn_rcv_space_rare(c);
    }
    return c->rcvbuf_cap - c->rcv.len;
}
/* A socket's event mask (tw_socket_events): inline, for tw_socket_events and for every
   notification, which hands the hook the mask (a call to compute it cost as much as the
   computing). Flag bits and one state mask, with few branches. */
/* tw_conn_events of a socket that is not a listener (tw_conn_notify_emit's). */
static inline unsigned tw_conn_events_nonlistener(const tw_socket *s)
{
    assert(!(s->flags & TW_F_LISTENER));
    uint32_t f = s->flags;
    /* Every notification of a usual lifecycle is in ESTABLISHED, with no FIN either way
       and no shutdown: asked in one go (marked expected), its mask is then made of the
       two ring tests alone. TW_F_CONNECTED is set on the way into ESTABLISHED
       (tw_conn_set_state). No error either, asserted, not asked: s->err is set only by
       tw_conn_done's held case (tcp_conn.c done_held), which makes the socket CLOSED,
       and a socket that was started never leaves CLOSED again (connect and listen take
       fresh sockets only), so ESTABLISHED and CLOSE-WAIT have none. */
    if (__builtin_expect(s->state == TW_STATE_ESTABLISHED &&
                             !(f & (TW_F_PEER_FIN | TW_F_SHUT_RD | TW_F_FIN_QUEUED)),
                         1)) {
        assert((f & TW_F_CONNECTED) && !s->err);
        /* (the mask as a sum: the compiler joins the constant and the two bits in one
           lea, where the ors took a step more; lifecycle -1 instr; the writable bit as
           the compare's borrow masked, not 2 times it: GCC made that a conditional move
           from a constant over a zero set first, two steps more) */
        _Static_assert(TW_EV_READABLE == 1 && TW_EV_WRITABLE == 2, "the two tests' bits");
        return TW_EV_CONNECTED + (unsigned)(s->rcv.len != 0) +
               ((0u - (unsigned)(s->snd.len < s->sndbuf_cap)) & 2u);
    }
    /* The same for CLOSE-WAIT (the peer's FIN arrived: a usual lifecycle's server is
       told so), whose FIN is in (S11: TW_F_PEER_FIN, readable at end of stream). */
    if (__builtin_expect(s->state == TW_STATE_CLOSE_WAIT &&
                             !(f & (TW_F_SHUT_RD | TW_F_FIN_QUEUED)),
                         1)) {
        assert((f & TW_F_CONNECTED) && (f & TW_F_PEER_FIN) && !s->err);
        return TW_EV_CONNECTED | TW_EV_PEER_CLOSED | TW_EV_READABLE |
               (s->snd.len < s->sndbuf_cap ? TW_EV_WRITABLE : 0);
    }
    unsigned ev = 0;
    if (f & TW_F_CONNECTED) {
        ev |= TW_EV_CONNECTED;
    }
    if (f & TW_F_PEER_FIN) {
        ev |= TW_EV_PEER_CLOSED | TW_EV_READABLE;
    }
    if (s->rcv.len || (f & TW_F_SHUT_RD)) {
        ev |= TW_EV_READABLE; /* (a read side shut: a read returns at once, Linux's poll) */
    }
    if (s->err) {
        ev |= TW_EV_ERROR | TW_EV_READABLE;
    }
    /* The states that can send first (every notification of a usual lifecycle's is in
       one): CLOSED's test is then passed by. */
    if ((1u << s->state) & ((1u << TW_STATE_ESTABLISHED) | (1u << TW_STATE_CLOSE_WAIT))) {
        if (!(f & TW_F_FIN_QUEUED) && s->snd.len < s->sndbuf_cap) {
            ev |= TW_EV_WRITABLE;
        }
        return ev;
    }
    if (s->state == TW_STATE_CLOSED) {
        return (f & TW_F_STARTED) ? ev | TW_EV_CLOSED : ev;
    }
    return ev;
}
static inline unsigned tw_conn_events(const tw_socket *s)
{
    /* tw_conn_events_nonlistener's first case asked first: a listener is in LISTEN, so
       a socket in ESTABLISHED is none, without the flag's test (an application's poll
       of its connections) */
    assert(!(s->flags & TW_F_LISTENER) || s->state == TW_STATE_LISTEN);
    if (__builtin_expect(s->state == TW_STATE_ESTABLISHED &&
                             !(s->flags & (TW_F_PEER_FIN | TW_F_SHUT_RD | TW_F_FIN_QUEUED)),
                         1)) {
        return tw_conn_events_nonlistener(s);
    }
    if (s->flags & TW_F_LISTENER) {
        return s->acc_len ? TW_EV_ACCEPTABLE : 0;
    }
    return tw_conn_events_nonlistener(s);
}
void tw_conn_notify_emit(tw_socket *c);
/* tw_conn_notify_emit for a listener `l` that has just queued a child for accept (its
   events known: TW_EV_ACCEPTABLE), with the hook set. */
void tw_conn_notify_acceptable(tw_socket *l);
/* Notify the application hook of the socket's current events (when one is set). Orphans
   and unaccepted children have no application to tell: they are passed over here, before
   the call. tw_conn_notify_in for a caller that has c's stack at hand (c->st is loaded
   again after any call). */
static inline __attribute__((always_inline)) void tw_conn_notify_in(tw_stack *st, tw_socket *c)
{
    if (!(c->flags & (TW_F_ORPHAN | TW_F_CHILD)) && st->cfg.notify) {
        tw_conn_notify_emit(c);
    }
}
static inline __attribute__((always_inline)) void tw_conn_notify(tw_socket *c)
{
    tw_conn_notify_in(c->st, c);
}
/* RFC 6528 ISN for a 4-tuple at the stack's now. */
uint32_t tw_isn(tw_stack *st, uint32_t raddr, uint16_t rport, uint16_t lport);
uint32_t tw_ts_offset(tw_stack *st, uint32_t raddr, uint16_t rport, uint16_t lport);
/* The keyed hash of a 4-tuple both come from (tcp_conn.c). */
/* F() of the block (stack.h isn_mid, c = local port << 16 | remote port): for the peer
   hashed last, whose half st->isn_mid holds, which is kept only with AES-NI (stack.h
   isn_mid_peer): the rounds with no test of the flag. */
static inline __attribute__((always_inline)) uint64_t tw_isn_prf_mid(const tw_stack *st,
                                                                   uint32_t c)
{
    return tw_aes128_prf64_ni(&st->isn_aes, st->isn_mid, c);
}
/* tw_tuple_hash for a peer other than st->isn_mid_peer, c its last word (tcp_conn.c):
   the block's first half made and kept for it. */
uint64_t tw_tuple_hash_new_peer(tw_stack *st, uint32_t raddr, uint32_t c);
/* The block's first half is kept for the last peer (stack.h isn_mid). In line: with
   AES-NI the usual peer's hash is fewer instructions than a call. */
/* tw_tuple_hash given the block's last word, c = local port << 16 | remote port (the
   4-tuple key's low half turned by 16 bits, tw_tuple_key: a caller with the key in hand
   makes it in one rotate). */
static inline __attribute__((always_inline)) uint64_t tw_tuple_hash_c(tw_stack *st, uint32_t raddr,
                                                                    uint32_t c)
{
    if (__builtin_expect(raddr == st->isn_mid_peer, 1)) {
        /* (a peer that passed tw_ipv4_bad_source, as every one hashed: so not 0, the
           value isn_mid_peer keeps without AES-NI, stack.h) */
        assert(!tw_ipv4_bad_source(raddr, st->cfg.addr));
        return tw_isn_prf_mid(st, c);
    }
    return tw_tuple_hash_new_peer(st, raddr, c);
}
static inline __attribute__((always_inline)) uint64_t tw_tuple_hash(tw_stack *st, uint32_t raddr,
                                                                  uint16_t rport, uint16_t lport)
{
    return tw_tuple_hash_c(st, raddr, (uint32_t)lport << 16 | rport);
}
/* Both from one hash computation (connection set-up), the block's last word given
   (tw_tuple_hash_c). Inline: the caller's two words are then set in registers, with no
   frame of its own around the hash's call. */
static inline __attribute__((always_inline)) void tw_isn_ts_c(tw_stack *st, uint32_t raddr,
                                                              uint32_t c, uint32_t *isn,
                                                              uint32_t *ts_off)
{
    uint64_t h = tw_tuple_hash_c(st, raddr, c);
    /* RFC 6528 3: ISN = M + F(...), M a 4-microsecond timer (tw_isn) */
    *isn = (uint32_t)h + (uint32_t)tw_div_4us(st->now);
    *ts_off = (uint32_t)(h >> 32);
}
static inline void tw_isn_ts(tw_stack *st, uint32_t raddr, uint16_t rport, uint16_t lport,
                             uint32_t *isn, uint32_t *ts_off)
{
    tw_isn_ts_c(st, raddr, (uint32_t)lport << 16 | rport, isn, ts_off);
}
static inline uint32_t tw_ts_now(const tw_stack *st, uint32_t offset)
{
    return (uint32_t)st->now_ms + offset;
}
/* Pick the options and MSS of our SYN / SYN+ACK; record what the peer offered. */
void tw_conn_syn_opts(const tw_socket *c, tw_tcp_opts *o, const tw_tcp_opts *peer);
/* The MSS we can receive: the device's MTU less the headers, or the user's if smaller. */
static inline uint16_t tw_conn_local_mss(const tw_socket *c)
{
    return c->local_mss;
}
/* The same computed: the device's MTU less the IPv4 and TCP headers, or the user's MSS
   (0: none) if smaller. */
static inline uint16_t tw_conn_mss_for(const tw_stack *st, uint16_t user_mss)
{
    uint16_t mss = (uint16_t)(st->dev.mtu - 40u);
    return user_mss && user_mss < mss ? user_mss : mss;
}
/* The least peer MSS a connection takes: a smaller option is raised to it. RFC 9293
   3.7.1 lets a sender guard against absurdly small values; 48 is Linux's
   (tcp_min_snd_mss, TCP_MIN_SND_MSS: an option of 1 gives 48-byte segments, 36 with
   timestamps; checked against Linux 6.18 over TUN, conf/mss_option_floor_48.pkt). */
#define TW_PEER_MSS_MIN 48
/* The peer's MSS option `pm` (0: none) as a connection to `addr` takes it, for a value
   below st->mss_slow: 536 for none, TW_PEER_MSS_MIN at least, and, while a path MTU
   is learnt for some destination (st->mss_slow is then 65535: every SYN asks), no more
   than that path carries (RFC 1191 6.3, tw_stack.pmtu). tcp_in.c, out of line. */
uint16_t tw_peer_mss_slow(tw_stack *st, uint32_t addr, uint16_t pm);

/* Take what the peer's SYN or SYN+ACK offered (`peer`: present says which fields are set):
   the options both ends use, the peer's MSS and ours. Inline for an active open's
   SYN+ACK (tcp_in.c in_syn_sent), whose options are then read from the frame. */
/* (`fresh`, a constant: the caller knows c has none of the three option flags yet, as in
   SYN-SENT, which only this step sets them in and leaves at once) */
/* (`store`, a constant: false for a caller that stores c's flags itself later, with
   nothing reading the three option flags before: the flags with them are returned, and
   c->flags left as it was, for one store of them, not two; lifecycle -1 instr) */
static inline __attribute__((always_inline)) uint32_t tw_conn_apply_peer_syn_flags(
    const tw_stack *st, tw_socket *c, const tw_tcp_opts *peer, bool fresh, bool store)
{
    assert(c->st == st); /* (given apart by in_syn_sent, which has it in a register) */
    assert(!fresh || !(c->flags & (TW_F_WS | TW_F_TS | TW_F_SACK)));
    /* S4 / RFC 9293 3.7.1: without an MSS option the peer's MSS is 536; an option of 0
       is no segment size and counts as none (as Linux ignores it, and as in_listen
       keeps it). RFC 9293 also lets us clamp absurdly small values: at Linux's 48
       (TW_PEER_MSS_MIN). */
    uint16_t pm = tw_tcp_opts_mss_or_0(peer);
    if (__builtin_expect(pm < st->mss_slow, 0)) { /* (one test for the usual MSS) */
        pm = tw_peer_mss_slow((tw_stack *)st, c->raddr, pm);
    }
    c->peer_mss = pm;
    /* The options both ends offered (S4: ours are the configuration's, st->syn_opts),
       made flags with one multiply rather than a test each: WSCALE and SACK_PERM sit 8
       bits below TW_F_WS and TW_F_SACK, TS 4 bits below TW_F_TS, and of on << 8 and
       on << 4 (no bit in common, so their sum is their or) only those land in the
       three flags (asserted in tcp_conn.c). */
    /* (read as in_listen reads them, the flags' byte with the window scale's beside it
       and the stack's masks, in one 16-bit AND: the bytes' widening of a byte AND took
       two copies more. On a little-endian host `on` keeps the masked window scale above
       the flags: the tests below ask flag bits only, and the multiply's low 12 bits,
       where the three flags sit, take nothing from it -- its carries go up only.) */
    _Static_assert(offsetof(tw_tcp_opts, wscale) == offsetof(tw_tcp_opts, present) + 1 &&
                       offsetof(tw_stack, syn_wscale_mask) == offsetof(tw_stack, syn_opts) + 1 &&
                       ((TW_F_WS | TW_F_TS | TW_F_SACK) & ~0xfffu) == 0 &&
                       ((TW_OPT_WSCALE | TW_OPT_TS) & ~0xffu) == 0,
                   "present/wscale, syn_opts/syn_wscale_mask, the flags' bits");
    uint16_t ow, mask;
    memcpy(&ow, &peer->present, 2);
    memcpy(&mask, &st->syn_opts, 2);
    ow &= mask;
    unsigned on = tw_cksum_little_endian() ? ow : (unsigned)ow >> 8;
    assert((on & 0xffu) == (unsigned)(peer->present & st->syn_opts) &&
           ((on * 0x110u) & (TW_F_WS | TW_F_TS | TW_F_SACK)) ==
               (((unsigned)(peer->present & st->syn_opts) * 0x110u) &
                (TW_F_WS | TW_F_TS | TW_F_SACK)));
    uint32_t nf = (fresh ? c->flags : c->flags & ~(TW_F_WS | TW_F_TS | TW_F_SACK)) |
                  ((on * 0x110u) & (TW_F_WS | TW_F_TS | TW_F_SACK));
    if (store) {
        c->flags = nf;
    }
    if (on & TW_OPT_WSCALE) {
        c->snd_wscale = peer->wscale;
    } else {
        c->snd_wscale = 0;
        c->rcv_wscale = 0; /* RFC 7323 2.2: both or neither */
    }
    uint16_t mss = tw_conn_local_mss(c);
    if (c->peer_mss < mss) {
        mss = c->peer_mss;
    }
    if (on & TW_OPT_TS) {
        c->ts_recent = peer->ts_val;
        c->ts_recent_stamp = st->now;
        mss = (uint16_t)(mss - 12); /* RFC 7323: the option rides in every segment */
    }
    c->snd_mss = mss;
    return nf;
}
static inline __attribute__((always_inline)) void tw_conn_apply_peer_syn_fresh(
    const tw_stack *st, tw_socket *c, const tw_tcp_opts *peer, bool fresh)
{
    (void)tw_conn_apply_peer_syn_flags(st, c, peer, fresh, true);
}
static inline __attribute__((always_inline)) void tw_conn_apply_peer_syn_as(
    const tw_stack *st, tw_socket *c, const tw_tcp_opts *peer)
{
    tw_conn_apply_peer_syn_fresh(st, c, peer, false);
}
/* The same with c's stack loaded (tcp_conn.c tw_conn_apply_peer_syn). */
static inline __attribute__((always_inline)) void tw_conn_apply_peer_syn_in(
    tw_socket *c, const tw_tcp_opts *peer)
{
    tw_conn_apply_peer_syn_as(c->st, c, peer);
}
/* The same out of line, for its other callers. */
void tw_conn_apply_peer_syn(tw_socket *c, const tw_tcp_opts *peer);
/* The window scale we offer for a receive buffer of `rcvbuf` bytes: the smallest shift
   that lets the window field cover it (RFC 7323 2.2, at most 14). Inline: every
   connection set-up asks, both ends. */
static inline uint8_t tw_wscale_for(uint32_t rcvbuf)
{
    /* 65535 << ws >= rcvbuf  <=>  2^ws > q = floor((rcvbuf - 1) / 65535): ws is the bit
       length of q (no loop over the shifts). */
    uint32_t q = rcvbuf ? (rcvbuf - 1) / 65535u : 0;
    unsigned ws = q ? 32u - (unsigned)__builtin_clz(q) : 0;
    return (uint8_t)(ws < 14 ? ws : 14);
}
/* The window scale offered for a socket whose receive buffer is `rcvbuf` now, `locked`
   when the application set it (tw_socket_set_bufsizes: fixed, TW_BUF_LOCK_RCV): with
   auto-tuning on, for a buffer that may grow, one that covers what it may grow to, as
   Linux's tcp_select_initial_window offers from tcp_rmem[2] (RFC 7323 2.2: the scale is
   fixed by the handshake, so it must allow the largest window the connection will
   offer); the buffer's own otherwise (tcpwave's choice for a fixed buffer, as before
   auto-tuning: the finest unit that covers it). Cold: asked once per stack
   (conn_wscale), per listen() and per connect() of a socket whose buffer is not the
   default (a buffer set to the default's size is offered the default's scale). */
static inline uint8_t tw_wscale_offer(const tw_stack *st, uint32_t rcvbuf, bool locked)
{
    if (!locked && !st->cfg.no_moderate_rcvbuf && st->cfg.rcvbuf_max > rcvbuf) {
        rcvbuf = st->cfg.rcvbuf_max;
    }
    return tw_wscale_for(rcvbuf);
}
/* Whether the application set c's receive buffer (TW_BUF_LOCK_RCV). */
static inline bool tw_conn_rcvbuf_locked(const tw_socket *c)
{
    return c->opts && (c->opts->buf_lock & TW_BUF_LOCK_RCV);
}
/* A trace event's summary of a segment. The _as form takes seq, ack, payload length
   and flags apart: the usual input parse does not store them in the header struct. */
void tw_conn_fill_summary_as(tw_seg_summary *sum, const tw_tcp_hdr *h, uint32_t saddr,
                             uint32_t daddr, uint32_t seq, uint32_t ack, uint32_t len,
                             uint8_t flags);
void tw_conn_fill_summary(tw_seg_summary *sum, const tw_tcp_hdr *h, uint32_t saddr,
                          uint32_t daddr);
/* Our FIN was sent (it lies below snd_max). */
static inline bool tw_conn_fin_sent(const tw_socket *c)
{
    if (!(c->flags & TW_F_FIN_QUEUED)) {
        return false;
    }
    tw_seq fin = tw_seq_add(c->snd_buf_seq, c->snd.len);
    return tw_seq_gt(c->snd_max, fin);
}
/* `ack` covers our FIN. */
static inline bool tw_conn_fin_acked(const tw_socket *c, tw_seq ack)
{
    if (!(c->flags & TW_F_FIN_QUEUED)) {
        return false;
    }
    tw_seq fin = tw_seq_add(c->snd_buf_seq, c->snd.len);
    return tw_seq_gt(ack, fin);
}
void tw_trace_conn_emit(tw_stack *st, tw_trace_kind kind, const tw_socket *c,
                        const tw_seg_summary *seg, tw_state old_state);
/* A trace event, when a trace hook is set: the test inline, since every segment and
   state change passes here and tracing is usually off. */
static inline void tw_trace_conn(tw_stack *st, tw_trace_kind kind, const tw_socket *c,
                                 const tw_seg_summary *seg, tw_state old_state)
{
    if (st->cfg.trace) {
        tw_trace_conn_emit(st, kind, c, seg, old_state);
    }
}

/* ---- tcp_out.c ---- */
/* Room in front of a payload for the largest IPv4 + TCP header (no IP options, 40 bytes
   of TCP options): a payload in one piece of the send ring with this much before it is
   sent where it lies, its headers over the (saved) bytes in front (tcp_out.c). */
#define TW_SND_HDR_ROOM (TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN + TW_TCP_MAX_OPT)
/* Send what the connection may send now: data in the window, FIN, or a pending ACK. */
void tw_out_push(tw_socket *c);
/* A traced stack's plain_xmit (stack.h): the trace of a segment one of c's plain
   builders made, c found by the segment's 4-tuple, then the netdev's call. */
int tw_out_traced_xmit(const uint8_t *pkt, size_t len, void *ud);
/* tw_out_push for a connection its caller knows synchronized and not in TIME-WAIT (header
   prediction's FIN: CLOSE-WAIT), without the tests of its state. */
void tw_out_push_open(tw_socket *c);
/* tw_out_push for a caller that has just queued data or a FIN on a synchronized
   connection (ESTABLISHED or a later state, not TIME-WAIT): the case in which tw_out_push
   always goes on to its sending step, taken without its tests (send, close). */
void tw_out_push_now(tw_socket *c);
/* tw_out_push_now for a caller that holds c's timer (tcp_in.c, a segment's steps) and
   sets the wheel entry from c's deadlines once they are done, whether or not they
   changed: an RTO it starts is only its deadline, without the held timer's tests and
   mark (the client's third segment, carrying the request queued during the handshake).
   Its caller (tcp_in.c, SYN-SENT's ACK of our SYN) has just initialised congestion
   control (tw_cc_init: Open) and stopped the RTO: neither is asked (asserted). */
void tw_out_push_now_held(tw_socket *c);
/* tw_out_push_now_held for data queued without a FIN (TW_F_FIN_QUEUED clear, the send
   ring not empty). */
void tw_out_push_now_held_data(tw_socket *c);
/* tw_out_push_now_held_data for the usual SYN+ACK's caller (tcp_in.c in_syn_sent), whose
   timer is not held, with the wheel then set from c's deadlines as that caller did after
   it (timer_release's steps, the waiting entry moved to the RTO restarted by the data:
   the deadline in hand, not loaded again; lifecycle -1 instr). */
void tw_out_push_now_synack_data(tw_socket *c);
/* tw_out_push_now from inside an API call (close, which has made c an orphan: socket.c
   close_usual), then the call's end: the stack's re-entrancy guard cleared once the
   netdev has what was sent. The caller has ruled out TW_F_DSACK, TW_F_HOLES,
   TW_F_PERSIST and TW_F_EXTRAS (close's test of the flags), and c's FIN is its first
   (ESTABLISHED or CLOSE-WAIT before the close). Returns 0. */
int tw_out_push_now_leave(tw_socket *c);
/* send's end for n bytes just queued (ESTABLISHED or later, no FIN queued): RFC 5681
   4.1's restart after idle (tw_out_idle_check), tw_out_push_now, then the call's end
   as tw_out_push_now_leave's. The caller has ruled out TW_F_SEND_RARE and TW_F_CORK
   (send's test of the flags). Returns n. `buf` is not read: the bytes' source, left in
   the argument where send has it, so that n comes where send has it too (x86-64: send
   then moves neither on entry; with n second, it moved both on every call). */
tw_ssize tw_out_send_push_leave(tw_socket *c, const void *buf, size_t n);
/* tw_out_send_push_leave for send's first write into an empty ring (ESTABLISHED or
   later): the ring's block just taken, the write of 16 to 128 bytes at its front (head
   0, cap TW_MEM_RING_BLOCK: socket.c send_first_usual; asserted). Returns its count,
   the ring's length. */
tw_ssize tw_out_send_first_push_leave(tw_socket *c);
/* Send a pure ACK now (RFC 9293 <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>). */
void tw_out_ack(tw_socket *c);
/* tw_out_ack for the last ACK of an orphan about to become a TIME-WAIT record: the same
   segment, without the bookkeeping of what it carried (owed ACKs, the delayed-ACK timer,
   Last.ACK.sent) and of the window's right edge it advertised, which only the connection
   reads; the caller makes it, tw_out_ack_carried, when the connection stays (nothing it
   depends on has changed in between). Called once everything sent, the FIN
   included, is acknowledged (SND.UNA = SND.MAX). */
void tw_out_ack_last(tw_socket *c);
/* tw_out_ack_last given its usual window field, min(rcvbuf_cap >> rcv_wscale, 65535)
   (the TIME-WAIT record's, timewait.c make_in_as, which has it). */
void tw_out_ack_last_win(tw_socket *c, uint32_t win);
/* tw_out_ack_last_win, then c freed as a TIME-WAIT record's connection (conn_free.h: out
   of st->conns and its port's count the record's, which a listener's child's record takes
   here, tw_timewait_record_takes_port), for the record's making (timewait.c make_in_as),
   which ends with this call. c has no D-SACK or out-of-order data to report and no
   extras block (TW_F_EXTRAS): the one caller's closing ACK shape (tcp_in.c). */
void tw_out_ack_last_free(tw_socket *c, uint32_t win);
/* tw_out_ack_last_free ending the usual packet's function (tw_timewait_make_found_ack_leave):
   call_free set once the ACK is sent, 0 returned (tw_stack_input's answer). */
int tw_out_ack_last_free_leave(tw_socket *c, uint32_t win);
void tw_out_ack_carried(tw_socket *c);
/* The held-ACK list's push, for a connection its caller has just marked TW_F_ACK_QUEUED
   (on no list before: the mark says it is on it). */
static inline void tw_out_ack_list_push(tw_stack *st, tw_socket *c)
{
    assert(c->st == st && (c->flags & TW_F_ACK_QUEUED));
    c->ack_next = st->ack_head;
    st->ack_head = c;
}
/* An ACK owed by the end of this turn (held for a reply or FIN to carry it): marked, and
   the connection on the held-ACK list (tcp_out.c ack_queue's steps). Inline: a
   server's read of each request makes it (the window it opens), and the call cost as
   much as its steps. */
static inline void tw_out_ack_lazy(tw_socket *c)
{
    c->flags |= TW_F_ACK_LAZY;
    if (!(c->flags & TW_F_ACK_QUEUED)) {
        c->flags |= TW_F_ACK_QUEUED;
        tw_out_ack_list_push(c->st, c);
    }
}
/* tw_out_ack_lazy for a connection its caller knows is on no held-ACK list and owes no
   ACK yet (a passive child's first text: tcp_in.c third_ack), with its stack. */
static inline void tw_out_ack_lazy_unqueued(tw_stack *st, tw_socket *c)
{
    assert(c->st == st && !(c->flags & (TW_F_ACK_LAZY | TW_F_ACK_QUEUED)));
    c->flags |= TW_F_ACK_LAZY | TW_F_ACK_QUEUED;
    tw_out_ack_list_push(st, c);
}
/* Send the pure ACKs tw_out_push held back (tw_stack_on_timeout). */
void tw_out_flush_acks(tw_stack *st);
/* Take c, which is on it (TW_F_ACK_QUEUED), off the held-ACK list as it is freed
   (tw_conn_free: its link and flag are left set). */
void tw_out_forget_ack(tw_socket *c);
/* SYN (active open) or SYN+ACK (passive) from iss. */
void tw_out_syn(tw_socket *c, bool retransmit);
/* tw_out_syn(c, false) from inside an API call (connect), then the call's end: the
   stack's re-entrancy guard cleared once the netdev has the SYN. Returns 0. */
int tw_out_syn_first_leave(tw_socket *c);
/* tw_out_syn_first_leave on a stack whose SYNs take all four options (st->syn_opts:
   connect's usual case, stack.h connect_plain_below), not asked again. */
int tw_out_syn_first_all_leave(tw_socket *c);
/* Our SYN+ACK again, from ISS, for a connection in FIN-WAIT-1 whose SYN is not
   acknowledged (TW_F_SYN_UNACKED), or a Fast Open child that sent data in SYN-RECEIVED
   (fastopen.h): SND.NXT and SND.MAX stay as they are. */
void tw_out_synack_again(tw_socket *c);
/* CLOSE (or shutdown's) in SYN-RECEIVED with nothing queued: the FIN now, FIN-WAIT-1
   (RFC 9293 3.10.4; tcp_in.c). */
void tw_conn_fin_syn_rcvd(tw_socket *c);
/* RST from a connection (abort): <SEQ=SND.NXT><CTL=RST>. */
void tw_out_rst_conn(tw_socket *c);
/* RST in answer to a segment that has no connection (RFC 9293 3.10.7.1). */
void tw_out_rst_reply(tw_stack *st, const tw_seg *seg);
/* RFC 5961 challenge ACK, rate-limited stack-wide. */
void tw_out_challenge_ack(tw_socket *c);
bool tw_oow_rate_limited(tw_socket *c);
/* Take one challenge ACK from the stack-wide budget (counts sent or limited). */
bool tw_challenge_take(tw_stack *st);
void tw_trace_id_emit(tw_stack *st, tw_trace_kind kind, const tw_trace_id *id,
                      const tw_seg_summary *seg, tw_state old_state);
/* A trace event about a half-open entry, when a trace hook is set (the test inline, as in
   tw_trace_conn: the caller's tw_trace_id is then not even built). */
static inline void tw_trace_id_event(tw_stack *st, tw_trace_kind kind, const tw_trace_id *id,
                                     const tw_seg_summary *seg, tw_state old_state)
{
    if (st->cfg.trace) {
        tw_trace_id_emit(st, kind, id, seg, old_state);
    }
}
/* Retransmit the first unacknowledged segment (or FIN) after a timeout. */
void tw_out_retransmit(tw_socket *c);
/* A bare segment with no connection object (TIME-WAIT records). */
void tw_out_bare(tw_stack *st, uint32_t raddr, uint16_t lport, uint16_t rport, uint32_t seq,
                 uint32_t ack, uint8_t flags, uint16_t win, const tw_tcp_opts *o);

/* ---- tcp_in.c ---- */
/* A segment from `src` that tw_tcp_parse or tw_tcp_parse_usual accepted (tw_stack_input
   has counted it). */
void tw_tcp_input(tw_stack *st, const tw_tcp_hdr *h, uint32_t src);
/* tw_stack_input (tcpwave.h) is tcp_in.c's: the usual packet's function, its gate (the
   length's bounds, the pointers, call_free, a traced stack, the clock) before its parse,
   one call per packet instead of a call and a jump to it (measured: lifecycle -3.1 instr,
   4,201.0 -> 4,197.9, with tw_conn_timer_update_unheld_as kept in line).
   An IPv4 packet that tw_tcp_parse_usual_hdr accepts is taken there, counted: its
   checksum still lacks the payload's sum, which is added as the payload is copied into
   the receive ring when it is the in-order data header prediction takes (else summed
   first), and the segment is counted. When the parse says no or the checksum is wrong,
   having changed nothing, it hands the packet to tw_stack_input_slow, whose full parsers
   take it and count the drop. Either way it ends the call (sets call_free). The gate's
   other ways, stack.c's, out of line: tw_stack_input_odd_len for a length outside the
   usual packet's bounds (`rest`: the packet's length less TW_IPV4_HDR_LEN +
   TW_TCP_HDR_LEN, modulo SIZE_MAX + 1), tw_stack_input_refused for a misuse,
   tw_stack_input_gated for a call in progress or a traced stack (tw_stack_input_traced),
   tw_stack_input_moved for a clock other than the last call's (then the usual steps). */
__attribute__((cold)) int tw_stack_input_odd_len(tw_stack *st, const uint8_t *pkt, size_t rest,
                                                 tw_time now);
__attribute__((cold)) int tw_stack_input_refused(tw_stack *st, const uint8_t *pkt, size_t len);
int tw_stack_input_traced(tw_stack *st, const uint8_t *pkt, size_t rest, tw_time now);
__attribute__((cold)) int tw_stack_input_gated(tw_stack *st, const uint8_t *pkt, size_t rest,
                                                tw_time now);
void tw_stack_input_moved(tw_stack *st, const uint8_t *pkt, size_t rest, tw_time now);
/* stack.c: the IPv4 and TCP parsers, then tw_tcp_input; ends the call as above. */
int tw_stack_input_slow(tw_stack *st, const uint8_t *pkt, size_t len);

/* Send `maxlen` bytes at most from `seq` (a retransmission); returns bytes sent. */
uint32_t tw_out_resend(tw_socket *c, tw_seq seq, uint32_t maxlen);
/* RFC 8985 7.3: send a tail loss probe (new data if the window allows, else the last
   segment again); false if nothing could be sent. */
bool tw_out_tlp(tw_socket *c);
/* RFC 8985 7.2 WCDelAckT: the worst-case delayed-ACK time a one-segment flight's PTO
   allows for (200 ms, the RFC's value and Linux's TCP_RTO_MIN there). */
#define TW_TLP_WCDELACK TW_MS(200)
/* A keepalive or zero-window probe: an empty segment at snd_una - 1 asks for an ACK. */
void tw_out_probe(tw_socket *c);
/* RFC 5681 4.1: cwnd back to the restart window after an idle time above the RTO
   (out of line; tw_out_idle_check asks the idle time). With nothing in flight,
   stall_start is when the flight emptied (ack_advance) or data last left (emit paths),
   no earlier than the last send of data: counting from it never restarts early. */
void tw_out_idle_restart(tw_socket *c);
static inline void tw_out_idle_check(tw_socket *c)
{
    if (__builtin_expect(c->st->now - c->stall_start > c->rto, 0)) {
        tw_out_idle_restart(c);
    }
}
/* A persist probe into a small nonzero window: as much data as it takes (sender SWS
   avoidance's override timeout, RFC 9293 3.8.6.2.1). */
void tw_out_probe_data(tw_socket *c);

/* ---- tcp_sack.c ---- */
/* Take the SACK blocks of an ACK into the scoreboard; returns newly SACKed bytes. */
uint32_t tw_sack_on_ack(tw_socket *c, const tw_tcp_opts *o, tw_seq ack);
/* Drop what the cumulative ACK covers now. */
void tw_sack_trim(tw_socket *c);
/* RFC 6675 IsLost: holes below this point are lost (snd_una if none is). */
tw_seq tw_sack_lost_point(const tw_socket *c);
/* The first hole (unSACKed bytes) in [from, limit); false if none. */
bool tw_sack_hole(const tw_socket *c, tw_seq from, tw_seq limit, tw_seq *start, uint32_t *len);
/* RFC 6675 pipe: bytes presumed in the network. */
uint32_t tw_sack_pipe(const tw_socket *c);
/* The unSACKed bytes below `limit` of the retransmissions RACK found lost and not yet
   resent (tw_sbx.relost): out of the flight (RFC 8985 6.2). */
uint32_t tw_sack_relost_bytes(const tw_socket *c, tw_seq limit);
void tw_sack_clear(tw_socket *c);
/* SACKed bytes in [snd_una, x). */
uint32_t tw_sack_below(const tw_socket *c, tw_seq x);
/* SACK blocks for an outgoing ACK (RFC 2018 4, RFC 2883); returns the number. */
unsigned tw_sack_blocks(tw_socket *c, tw_sack_block *out, unsigned max);
/* Whether a FIN held beyond a hole takes a SACK block of its own (tcp_sack.c). */
bool tw_sack_fin_alone(const tw_socket *c);

/* ---- tcp_timer.c ---- */
void tw_conn_on_timer(tw_socket *c);
/* An RTT measurement (RFC 6298 2.2-2.3, with alpha = 1/8 and beta = 1/4; the clock
   granularity G is the wheel's tick). Inline: a bulk sender takes one per ACK, a
   connection set-up two, and the call cost a sixth of the work. */
/* tw_rtt_sample_in for a caller that may know the connection has no sample yet
   (`fresh`, a constant: SRTT 0), which then does not ask. */
static inline __attribute__((always_inline)) void tw_rtt_sample_as(const tw_stack *st,
                                                                   tw_socket *c, tw_time r,
                                                                   bool fresh)
{
    assert(c->st == st); /* (given apart by a caller that has it in a register) */
    assert(!fresh || c->srtt == 0);
    /* (the new SRTT and RTTVAR in locals: the RTO below then reads neither back from
       the connection after its stores) */
    tw_time srtt = fresh ? 0 : c->srtt, rttvar;
    /* (a connection's first sample once, later ones at every ACK: laid out after them) */
    if (__builtin_expect(srtt == 0, 0)) {
        srtt = r ? r : 1;
        rttvar = r / 2;
    } else {
        tw_time delta = srtt > r ? srtt - r : r - srtt;
        rttvar = (3 * c->rttvar + delta) / 4;
        srtt = (7 * srtt + r) / 8;
    }
    c->srtt = srtt;
    c->rttvar = rttvar;
    /* RTO = SRTT + max(G, K * RTTVAR) (RFC 6298 2.3) with the floor where Linux puts it,
       on the variance term (tcp_rtt_estimator: rttvar_us >= tcp_rto_min), so RTO =
       SRTT + max(K * RTTVAR, rto_min): after a 10 ms RTT the first timeout is at 210 ms,
       after two 100 ms samples at 300 ms, as Linux's (it was max(SRTT + K * RTTVAR,
       rto_min): 200 and 250 ms, early for a script written against Linux). rto_min >= G
       (stack.c fill_defaults). */
    const tw_config *cfg = &st->cfg;
    tw_time k = 4 * rttvar;
#if TW_ASM_X86
    /* max(K * RTTVAR, rto_min) with a conditional move from memory: GCC otherwise loads
       it into a register first for the cmov (measured with G: lifecycle -4 instr). */
    __asm__("cmpq %1, %0\n\tcmovbq %1, %0" : "+r"(k) : "m"(cfg->rto_min) : "cc");
    tw_time rto = srtt + k;
    /* (and min(RTO, rto_max) the same way: lifecycle -4 instr, one per sample) */
    __asm__("cmpq %1, %0\n\tcmovaq %1, %0" : "+r"(rto) : "m"(cfg->rto_max) : "cc");
#else
    tw_time rto = srtt + (k > cfg->rto_min ? k : cfg->rto_min);
    if (rto > cfg->rto_max) {
        rto = cfg->rto_max;
    }
#endif
    c->rto = rto;
}
/* tw_rtt_sample_as(st, c, TW_US(500), true) for a connection with no sample yet: the
   RTO as tw_stack_new worked it out (stack.h rto_first_half_ms), stored with SRTT and
   RTTVAR, constants (measured: lifecycle -7 instr against the estimator's steps). */
static inline __attribute__((always_inline)) void tw_rtt_sample_first_half_ms(const tw_stack *st,
                                                                              tw_socket *c)
{
    assert(c->st == st && c->srtt == 0);
    c->srtt = TW_US(500);
    c->rttvar = TW_US(250);
    c->rto = st->rto_first_half_ms;
#ifndef NDEBUG
    {
        /* (the estimator's own answer, on a copy: the same three values) */
        tw_socket t = *c;
        t.srtt = 0;
        tw_rtt_sample_as(st, &t, TW_US(500), true);
        assert(t.srtt == c->srtt && t.rttvar == c->rttvar && t.rto == c->rto);
    }
#endif
}
/* tw_rtt_sample_as(st, c, r, true) for a connection with no sample yet whose first
   sample, r, is most often short: below st->rtt_first_short (stack.h) the RTO is
   SRTT + rto_min, neither bound taken (measured: lifecycle -2 instr, the active open's
   sample from its SYN, against the estimator's two compares and moves). */
static inline __attribute__((always_inline)) void tw_rtt_sample_first(const tw_stack *st,
                                                                      tw_socket *c, tw_time r)
{
    assert(c->st == st && c->srtt == 0);
    if (__builtin_expect(r < st->rtt_first_short, 1)) {
        tw_time srtt = r ? r : 1;
        c->srtt = srtt;
        c->rttvar = r / 2;
        c->rto = srtt + st->cfg.rto_min;
#ifndef NDEBUG
        {
            /* (the estimator's own answer, on a copy: the same three values) */
            tw_socket t = *c;
            t.srtt = 0;
            tw_rtt_sample_as(st, &t, r, true);
            assert(t.srtt == c->srtt && t.rttvar == c->rttvar && t.rto == c->rto);
        }
#endif
    } else {
        tw_rtt_sample_as(st, c, r, true);
    }
}
static inline __attribute__((always_inline)) void tw_rtt_sample_in(const tw_stack *st,
                                                                   tw_socket *c, tw_time r)
{
    tw_rtt_sample_as(st, c, r, false);
}
static inline __attribute__((always_inline)) void tw_rtt_sample(tw_socket *c, tw_time r)
{
    tw_rtt_sample_in(c->st, c, r);
}
/* Start the retransmission timer unless it runs (RFC 6298 5.1). Inline: every send that
   puts data, a SYN or a FIN in flight comes here. tw_rto_arm_inline for a caller that
   wants it inline whatever the compiler would choose (tcp_out.c push_now). dack_off (an
   output-side helper): the caller knows the delayed-ACK timer is off (push_now: the
   segment just sent carried the ACK, and ack_carried stopped it), so the test of the
   other deadlines leaves it out (lifecycle -3 instr), and a held timer is marked without
   tw_conn_timer_update's call (tw_conn_timer_started; -4). `st` is c's stack, as the
   caller holds it (push_now: read before the netdev's call, rather than c->st again
   after it, which the compiler cannot assume unchanged; -4). unheld: the caller knows
   c's timer is not held (an API call's send: no segment is being processed). */
/* Whether the clock is below stack.h rto_now_below: c's RTO deadline, now + c->rto, then
   neither saturates nor falls in NEVER's last tick (c->rto is at most the larger of
   rto_initial and rto_max, which rto_now_below is worked out from). */
static inline __attribute__((always_inline)) bool tw_rto_now_usual(const tw_stack *st,
                                                                   const tw_socket *c)
{
    assert(c->rto <= (st->cfg.rto_initial > st->cfg.rto_max ? st->cfg.rto_initial
                                                             : st->cfg.rto_max));
    bool usual = st->now < st->rto_now_below;
    assert(!usual || (tw_time_add(st->now, c->rto) == st->now + c->rto &&
                      st->now + c->rto <= TW_TIME_NEVER - (TW_TICK - 1)));
    (void)c;
    return usual;
}
/* tw_rto_arm_inline_as's start, for a caller that knows the RTO is not running
   (rto_at never): no test of it. */
static inline __attribute__((always_inline)) void tw_rto_start_inline_as(tw_stack *st,
                                                                        tw_socket *c,
                                                                        bool dack_off,
                                                                        bool unheld)
{
    assert(st == c->st && c->rto_at == TW_TIME_NEVER);
    /* The usual clock first (stack.h rto_now_below): the deadline neither saturates nor
       falls in NEVER's last tick, with no test of it. */
    if (__builtin_expect(tw_rto_now_usual(st, c), 1)) {
        tw_time at = st->now + c->rto;
        c->rto_at = at;
        tw_conn_timer_started(st, c, at, dack_off, unheld);
        return;
    }
    tw_time at = tw_time_add(st->now, c->rto);
    c->rto_at = at;
    /* One test for the two rare ends of the clock: a deadline saturated at NEVER (the
       deadlines are as they were) and one in NEVER's last tick, which
       tw_time_to_tick rounds apart; the wheel entry is then set by the general
       step, which arms what tw_conn_timer_started would. */
    if (at <= TW_TIME_NEVER - (TW_TICK - 1)) {
        tw_conn_timer_started(st, c, at, dack_off, unheld);
    } else {
        tw_conn_timer_update(c);
    }
}
/* tw_rto_start_inline_as for an API call's start (c's timer not held) when no other
   deadline is set either (dack, misc and keepalive NEVER, as the caller knows): the wheel
   entry is then not armed (tw_conn_timer_started's figure: an unheld entry is armed
   exactly while a deadline is set), and only the other waiting timer is asked about
   (tcp_out.c's idle FIN: close's flags test sends a keepalive socket elsewhere). */
static inline __attribute__((always_inline)) void tw_rto_start_idle_as(tw_stack *st,
                                                                      tw_socket *c)
{
    assert(st == c->st && c != st->timer_held && c->rto_at == TW_TIME_NEVER);
    assert((c->misc_at & c->dack_at & c->ka_at) == TW_TIME_NEVER &&
           !tw_timer_armed(&c->timer));
    /* (the usual clock first, as tw_rto_start_inline_as') */
    if (__builtin_expect(tw_rto_now_usual(st, c), 1)) {
        tw_time at = st->now + c->rto;
        c->rto_at = at;
        tw_wheel_arm_lazy_unarmed_at(&st->wheel, &c->timer, at);
        return;
    }
    tw_time at = tw_time_add(st->now, c->rto);
    c->rto_at = at;
    /* (the rare ends of the clock as tw_rto_start_inline_as's) */
    if (at <= TW_TIME_NEVER - (TW_TICK - 1)) {
        tw_wheel_arm_lazy_unarmed_at(&st->wheel, &c->timer, at);
    } else {
        tw_conn_timer_update(c);
    }
}
static inline __attribute__((always_inline)) void tw_rto_arm_inline_as(tw_stack *st,
                                                                      tw_socket *c,
                                                                      bool dack_off,
                                                                      bool unheld)
{
    assert(st == c->st);
    if (c->rto_at == TW_TIME_NEVER) {
        tw_rto_start_inline_as(st, c, dack_off, unheld);
    }
}
static inline __attribute__((always_inline)) void tw_rto_arm_inline(tw_socket *c)
{
    tw_rto_arm_inline_as(c->st, c, false, false);
}
static inline void tw_rto_arm(tw_socket *c)
{
    tw_rto_arm_inline(c);
}
/* RFC 8985 7.2: after an ACK of new data with data still in flight the timer runs for
   the probe timeout PTO = 2 * SRTT when a tail loss probe may follow (SACK in use, no
   loss recovery under way, TLP on), capped by the RTO; else for the RTO. The slot is
   the RTO's: its expiry before stall_start + rto (the ACK's time plus the RTO) is the
   PTO's, which tcp_timer.c tells apart (and where the one-segment flight's delayed-ACK
   allowance is added). Only an ACK that leaves data in flight asks this (not the usual
   lifecycle's). */
static inline __attribute__((always_inline)) tw_time tw_conn_pto_or_rto(const tw_stack *st,
                                                                        const tw_socket *c)
{
    tw_time pto = 2 * c->srtt, rto = c->rto;
    /* (pto - 1 < rto - 1: 0 < pto < rto in one test; rto is never 0) */
    if (pto - 1 < rto - 1 && (c->flags & TW_F_SACK) && c->ca_state <= TW_CA_DISORDER &&
        !st->cfg.no_tlp) {
        return pto;
    }
    return rto;
}
/* RFC 8985 7.2: PTO = 2 * SRTT, plus the worst-case delayed-ACK time when the flight
   (`flight` bytes) is one segment, whose ACK may be held that long (tcp_timer.c's expiry,
   tcp_out.c's restart on new data). */
static inline tw_time tw_conn_tlp_pto(const tw_socket *c, uint32_t flight)
{
    return 2 * c->srtt + (flight <= c->snd_mss ? TW_TLP_WCDELACK : 0);
}
/* The RTO's deadline while data is out: stall_start + rto, or the later one RACK's timer
   kept (rto_due). */
static inline tw_time tw_conn_rto_due(const tw_socket *c)
{
    tw_time due = tw_time_add(c->stall_start, c->rto);
    const tw_sbx *x = tw_conn_sbx(c);
    return x != NULL && x->rto_due > due ? x->rto_due : due;
}
/* Start the persist timer (RFC 9293 3.8.6.1) at one RTO, at least rto_min, its backoff
   reset: a closed or too small window, or a short segment TCP_CORK holds, with nothing
   in flight. */
void tw_persist_start(tw_socket *c);
void tw_timer_after_send_slow(tw_socket *c);
/* After output: RTO while data is outstanding, else persist when the window is closed
   with data waiting, else nothing. Inline for the usual case, data in flight outside the
   persist state: the RTO runs, or starts (tw_rto_arm). */
static inline void tw_timer_after_send(tw_socket *c)
{
    if (!tw_seq_eq(c->snd_una, c->snd_max) && !(c->flags & TW_F_PERSIST)) {
        tw_rto_arm(c);
        return;
    }
    tw_timer_after_send_slow(c);
}
void tw_keepalive_reset(tw_socket *c);

/* The soft error an ICMP message reports on a synchronized connection (RFC 1122
   4.2.3.9: it does not abort): kept until the next new ACK, and given as the
   connection's error in place of TW_ERR_TIMEDOUT if it times out meanwhile, as Linux's
   tcp_write_err gives sk_err_soft. `err` is one of tcp_in.c icmp_err_of's; seven fit the
   three bits, and TW_ERR_NONET (source host isolated, obsolete: RFC 1812 5.2.7.1) is
   kept as TW_ERR_HOSTUNREACH. */
static inline void tw_conn_soft_err_set(tw_socket *c, int err)
{
    unsigned k;
    switch (err) {
    case TW_ERR_NETUNREACH:
        k = 1;
        break;
    case TW_ERR_REFUSED:
        k = 3;
        break;
    case TW_ERR_PROTO:
        k = 4;
        break;
    case TW_ERR_NOPROTOOPT:
        k = 5;
        break;
    case TW_ERR_OPNOTSUPP:
        k = 6;
        break;
    case TW_ERR_HOSTDOWN:
        k = 7;
        break;
    default:
        assert(err == TW_ERR_HOSTUNREACH || err == TW_ERR_NONET);
        k = 2;
        break;
    }
    c->persist_backoff = (uint8_t)((c->persist_backoff & TW_PERSIST_BACKOFF) |
                                   k << TW_SOFT_ERR_SHIFT);
}

/* The error a connection that timed out ends with: the soft error kept, if any. */
static inline int tw_conn_timeout_err(const tw_socket *c)
{
    switch (c->persist_backoff >> TW_SOFT_ERR_SHIFT) {
    case 1:
        return TW_ERR_NETUNREACH;
    case 2:
        return TW_ERR_HOSTUNREACH;
    case 3:
        return TW_ERR_REFUSED;
    case 4:
        return TW_ERR_PROTO;
    case 5:
        return TW_ERR_NOPROTOOPT;
    case 6:
        return TW_ERR_OPNOTSUPP;
    case 7:
        return TW_ERR_HOSTDOWN;
    default:
        return TW_ERR_TIMEDOUT;
    }
}

/* Initialise congestion control for a connection entering ESTABLISHED. Inline: both ends
   of every connection come here once, and the call cost a fifth of the work. `child`:
   c is a passive child just made (tcp_in.c third_ack, an input-side helper): Open as
   tw_conn_alloc zeroed it, and its timer held by no segment's steps, so the wheel is
   told of the keepalive deadline here. */
/* (`una`: c->snd_una, given apart by a caller that has it in a register) */
/* (`may_ka` false, a constant: the caller knows c has no keepalive, TW_F_KEEPALIVE
   clear, and the test is left out; `ca_open` true: the caller knows c is Open already,
   as a child is, and the store is left out) */
/* (`sml` false: the caller sets SND.SML itself, SYN-SENT's usual SYN+ACK, tcp_in.c
   in_syn_sent: in the push that follows, tcp_out.c push_last_data, or before it) */
static inline __attribute__((always_inline)) void tw_cc_init_una_ka(tw_stack *st, tw_socket *c,
                                                                    bool child, tw_seq una,
                                                                    bool may_ka, bool ca_open,
                                                                    bool sml)
{
    assert(c->st == st); /* (given apart by its caller, which has it in a register) */
    assert(may_ka || !(c->flags & TW_F_KEEPALIVE));
    assert(tw_seq_eq(una, c->snd_una));
    /* RFC 6928: an initial window of 10 segments (RFC 5681 3.1 for the rest). */
    c->cwnd = st->cfg.initial_cwnd * (uint32_t)c->snd_mss;
    c->ssthresh = UINT32_MAX;
    assert(!(child || ca_open) || c->ca_state == TW_CA_OPEN);
    if (!child && !ca_open) {
        c->ca_state = TW_CA_OPEN;
    }
    c->recover = una;
    c->high_rxt = una;
    if (sml) {
        c->snd_sml = una;
    }
    /* like Linux: ACK the first segments at once (slow start); a child's count is set by
       its caller, which knows whether the segment making it carries text (third_ack) */
    if (!child) {
        c->quickack = 16;
        /* (a child's idle clock is started by its caller too, tcp_in.c third_ack, with
           the time it loads once for TS.Recent's stamp as well) */
        c->last_rcv = st->now;
    }
    assert(!child || c->last_rcv == st->now);
    /* Keepalive runs only once synchronized (tw_keepalive_reset): before
       this no deadline was set and no probe sent, so only a socket that has it on has
       one to start. */
    if (may_ka && (c->flags & TW_F_KEEPALIVE)) {
        tw_keepalive_reset(c);
        if (child) {
            tw_conn_timer_update_unheld(st, c);
        }
    }
    assert(c->ka_sent == 0);
    assert(c->ka_at == TW_TIME_NEVER || (c->flags & TW_F_KEEPALIVE));
}

static inline void tw_cc_init_una(tw_stack *st, tw_socket *c, bool child, tw_seq una)
{
    tw_cc_init_una_ka(st, c, child, una, true, false, true);
}

static inline void tw_cc_init(tw_stack *st, tw_socket *c, bool child)
{
    tw_cc_init_una(st, c, child, c->snd_una);
}

/* ---- timewait.c ---- */
/* tw_timewait_enter with room for the record (the table's count below its room): it
   ends with tw_conn_free's usual steps in line (conn_free.h), for a connection it has
   taken out of st->conns, whose timer is not held (its callers let go of a hold first). */
void tw_timewait_make(tw_socket *c);
/* tw_timewait_make for the connection of the segment being processed (tcp_in.c
   closing_ack_last), `st` its stack: found by the connection table's lookup, so in the
   table (TW_F_HASHED) and the lookup's cached connection (stack.h last_conn: conn_find
   leaves the one it finds there), neither asked. It sends the last ACK
   (tw_out_ack_last) from c too, once the record is made: the record's window field is
   the ACK's, worked out once. (c first: the function ends in a tail call that takes c
   first, tw_out_ack_last_free, with no register moved for it.) */
void tw_timewait_make_found_ack(tw_socket *c, tw_stack *st);
/* tw_timewait_make_found_ack with room for the record (the table's count below its room,
   asked by the caller), for the usual packet's function, which it ends (a tail call):
   call_free set once the last ACK is sent, 0 returned (tw_stack_input's answer). */
int tw_timewait_make_found_ack_leave(tw_socket *c, tw_stack *st);
/* A TIME-WAIT record of a listener's child, which holds no count of its port while its
   listener is there (tcp_in.c new_child), takes one (timewait.c make_in_as; for
   tw_timewait_make_found_ack's record, tw_out_ack_last_free). */
void tw_timewait_record_takes_port(tw_stack *st, const tw_socket *c);
/* tw_timewait_enter without room (more chunks or buckets, or the configured maximum). */
bool tw_timewait_enter_slow(tw_socket *c);
/* Turn a connection entering TIME-WAIT into a compact record (frees `c`). Returns false
   when the record cannot be allocated (the connection then just closes). `c` is an
   orphan (the application has closed it: S15) and counted (TW_F_COUNTED: it went through
   SYN-SENT or SYN-RECEIVED), as at every caller; tw_timewait_make asks neither.
   Inline: the room's test, then a call that returns nothing. */
/* tw_timewait_enter_ack: the last ACK (tw_out_ack_last), then tw_timewait_enter with c's
   stack given apart (tcp_in.c closing_ack_last, which has it in a register), for a
   connection whose timer is not held (closing_ack_last runs before in_conn's timer_hold:
   asserted), so that tw_timewait_make does not ask. With room, the record's making sends
   the ACK (tw_timewait_make_found_ack): no hook sees the order (tcpwave.h: a hook calls
   nothing on the stack). */
/* (c the segment's connection, found by the table's lookup: tw_timewait_make_found_ack) */
static inline __attribute__((always_inline)) bool tw_timewait_enter_ack(tw_stack *st,
                                                                       tw_socket *c)
{
    assert(c->st == st && st->timer_held != c);
    const tw_twtab *T = &st->tws;
    /* (room is 0 while there are no buckets) */
    if (__builtin_expect(T->count < T->room, 1)) {
        tw_timewait_make_found_ack(c, st);
        return true;
    }
    tw_out_ack_last(c);
    return tw_timewait_enter_slow(c);
}
/* tw_timewait_enter where c's timer may be held (tcp_in.c time_wait_steps, inside a
   segment's steps; tw_socket_close, outside): the hold is let go of only when the record
   is made (c is then freed; without room c stays, held). */
static inline __attribute__((always_inline)) bool tw_timewait_enter(tw_socket *c)
{
    tw_stack *st = c->st;
    const tw_twtab *T = &st->tws;
    if (__builtin_expect(T->count < T->room, 1)) {
        if (st->timer_held == c) {
            st->timer_held = NULL; /* (nothing to set: c goes) */
        }
        tw_timewait_make(c);
        return true;
    }
    return tw_timewait_enter_slow(c);
}
/* The record of a 4-tuple key, or NULL. */
struct tw_tw *tw_timewait_find(const tw_stack *st, uint64_t key);
/* (tw_timewait_find_pre: timewait.h) */
/* A segment for a TIME-WAIT 4-tuple. Returns true if consumed; false if the record was
   removed to let a newer SYN open a new connection (RFC 6191), *isn_floor then holds
   the lowest ISN the new connection may use. isn_floor NULL: nothing could take the
   4-tuple over (no listener), so a newer SYN is answered like an old one (S17). */
bool tw_timewait_input(tw_stack *st, struct tw_tw *t, const tw_seg *seg, uint32_t *isn_floor);
/* The earliest record end (tick), UINT64_MAX when there is none. */
uint64_t tw_timewait_next(const tw_stack *st);
/* End the records whose 2*MSL is over at `tick`. */
void tw_timewait_expire(tw_stack *st, uint64_t tick);
void tw_timewait_free(tw_stack *st, struct tw_tw *t);
/* Free every record and the table (tw_stack_free). */
void tw_timewait_free_all(tw_stack *st);

/* ---- api: listener helpers used by tcp_in ---- */
/* A passive child completed the handshake: queue it for accept. Returns its listener, or
   NULL if the queue is full (the caller drops the ACK; the SYN+ACK will be retransmitted). */
tw_socket *tw_listener_enqueue(tw_socket *child);
/* tw_listener_enqueue with the child's listener `l` known and its queue known to have
   room (l->acc_len <= l->backlog). Inline: the third segment of every passive open comes
   here. */
static inline __attribute__((always_inline)) void tw_listener_enqueue_to(tw_socket *l,
                                                                        tw_socket *child)
{
    assert(l->acc_len <= l->backlog && l->syn_len > 0);
    /* One entry moves from the SYN queue to the accept queue: acc_len + 1 and syn_len - 1
       as one add on the 32-bit word they share (adjacent: tcp_conn.c). Neither half
       carries into the other: acc_len <= backlog <= 65534 and syn_len >= 1 (this entry). */
    uint32_t lens;
    memcpy(&lens, (uint8_t *)l + offsetof(struct tw_socket, acc_len), sizeof lens);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    lens += 0x00010000u - 1u;
#else
    lens += 1u - 0x00010000u;
#endif
    memcpy((uint8_t *)l + offsetof(struct tw_socket, acc_len), &lens, sizeof lens);
    /* Its link is not stored: a child not yet queued has had none (tw_conn_alloc zeroes
       it, and the application, which has no handle to it, cannot have set its user
       pointer in the link's room). */
    assert(child->q_next == NULL);
    /* (an empty queue, a server that accepts as children come, is the usual one: laid
       out first) */
    if (__builtin_expect(l->acc_head != NULL, 0)) {
        l->acc_tail->q_next = child;
    } else {
        l->acc_head = child;
    }
    l->acc_tail = child;
}

#endif
