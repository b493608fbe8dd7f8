/*
 * ecn.c -- classic ECN (RFC 3168; RFC 8311), see ecn.h.
 */
#include "core/ecn.h"
#include "core/htab.h"
#include "core/reqsk.h"
#include "core/stack.h"
#include "core/tcp_cc.h"
#include "core/tcp_hdr.h"
#include "core/rd.h"

#include <string.h>

/* RFC 1624 3 (eqn. 3): a checksum field at `ck` after the 16-bit word at `w` changed
   from `old` (both in network order as they lie). */
static void cksum_adjust(uint8_t *ck, uint16_t old, uint16_t new_)
{
    uint32_t hc = (uint32_t)ck[0] << 8 | ck[1];
    uint32_t s = (uint32_t)(~hc & 0xffffu) + (uint32_t)(~old & 0xffffu) + new_;
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    hc = ~s & 0xffffu;
    ck[0] = (uint8_t)(hc >> 8);
    ck[1] = (uint8_t)hc;
}

/* The marks of a connection's segment: the TCP flags to add and whether it is ECT. */
static uint8_t conn_marks(tw_socket *c, uint8_t flags, uint32_t seq, uint32_t dlen, bool *ect)
{
    tw_sock_opts *o = c->opts;
    if (flags & TW_SYN) {
        if (!(flags & TW_ACK)) {
            /* RFC 3168 6.1.1: an ECN-setup SYN has ECE and CWR set. Its retransmissions
               go without them (6.1.1.1 allows it; Linux's tcp_ecn_fallback default): a
               path that drops the marked SYN still connects. */
            return (o->ecn & TW_ECN_F_ASKED) && c->retries == 0 ? TW_ECE | TW_CWR : 0;
        }
        /* 6.1.1: an ECN-setup SYN+ACK has ECE set and CWR clear (a child answering
           again). RFC 8311 3.2 would let it be ECT; Linux's default does not. */
        return (o->ecn & TW_ECN_F_OK) ? TW_ECE : 0;
    }
    if (!(o->ecn & TW_ECN_F_OK) || (flags & TW_RST)) {
        return 0;
    }
    uint8_t add = 0;
    /* 6.1.3: every segment carries ECE until a CWR arrives. */
    if (o->ecn & TW_ECN_F_DEMAND) {
        add |= TW_ECE;
    }
    /* 6.1.4-6.1.6: only new data is ECT -- not pure ACKs, retransmissions (a segment
       that starts below the highest end sent: Linux's test, which a retransmission that
       takes new bytes along fails too) nor window probes (data sent into a zero
       window). */
    tw_seq start = tw_seq_make(seq), end = tw_seq_add(start, dlen);
    bool fresh = tw_seq_ge(start, o->ecn_high);
    if (dlen && tw_seq_gt(end, o->ecn_high)) {
        o->ecn_high = end;
    }
    if (dlen && fresh && c->snd_wnd != 0) {
        *ect = true;
        if (o->ecn & TW_ECN_F_QUEUE_CWR) {
            /* 6.1.2: CWR on the first new data after the reduction. */
            o->ecn &= (uint8_t)~TW_ECN_F_QUEUE_CWR;
            add |= TW_CWR;
        }
    }
    return add;
}

/* The stack's netdev call while ECN connections exist: their segments are marked as
   they leave, then handed to the netdev's own call. Every segment is built by tcp_out.c
   with a 20-byte IPv4 header, the TOS byte 0 and ECE and CWR clear. */
void tw_ecn_mark(tw_stack *st, uint8_t *pkt, size_t len)
{
    if (len >= TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN && pkt[0] == 0x45 &&
        pkt[9] == TW_IPPROTO_TCP) {
        uint8_t *tcp = pkt + TW_IPV4_HDR_LEN;
        uint32_t raddr = tw_get32(pkt + 16);
        uint16_t lport = tw_get16(tcp), rport = tw_get16(tcp + 2);
        uint8_t flags = tcp[13];
        uint32_t hlen = (uint32_t)(tcp[12] >> 4) * 4u;
        uint32_t tot = tw_get16(pkt + 2);
        uint32_t dlen = tot > TW_IPV4_HDR_LEN + hlen ? tot - TW_IPV4_HDR_LEN - hlen : 0;
        uint64_t key = tw_tuple_key(raddr, rport, lport);
        uint8_t add = 0;
        bool ect = false;
        tw_hnode *n = tw_htab_find(&st->conns, key);
        if (n && tw_hnode_is_req(n)) {
            if ((flags & (TW_SYN | TW_ACK)) == (TW_SYN | TW_ACK) &&
                (((tw_reqsk *)n)->opts & TW_REQ_ECN)) {
                add = TW_ECE; /* 6.1.1: the entry agreed to the SYN's ECN */
            }
        } else {
            tw_socket *c = (tw_socket *)n;
            if (c && (c->flags & TW_F_EXTRAS) && c->opts && c->opts->ecn) {
                add = conn_marks(c, flags, tw_get32(tcp + 4), dlen, &ect);
            }
        }
        if (add & ~flags) {
            uint16_t old = tw_get16(tcp + 12);
            tcp[13] = (uint8_t)(flags | add);
            cksum_adjust(tcp + 16, old, tw_get16(tcp + 12));
        }
        if (ect) {
            uint16_t old = tw_get16(pkt);
            pkt[1] = (uint8_t)((pkt[1] & ~TW_IP_ECN_MASK) | TW_IP_ECT0);
            cksum_adjust(pkt + 10, old, tw_get16(pkt));
        }
    }
}

static int ecn_xmit(const uint8_t *cpkt, size_t len, void *ud)
{
    tw_stack *st = ud;
    uint8_t *pkt = (uint8_t *)(uintptr_t)cpkt; /* (tcp_out.c's buffer: writable) */
    tw_ecn_mark(st, pkt, len);
    return st->ecn_tx(pkt, len, st->ecn_ud);
}

void tw_ecn_use(tw_stack *st)
{
    if (st->ecn_users++ == 0) {
        st->ecn_tx = st->dev.transmit;
        st->ecn_ud = st->dev.ud;
        st->dev.transmit = ecn_xmit;
        st->dev.ud = st;
        if (st->plain_xmit == st->ecn_tx) {
            /* (a traced stack's plain_xmit, tw_out_traced_xmit, calls dev's) */
            st->plain_xmit = ecn_xmit;
            st->plain_ud = st;
        }
    }
}

void tw_ecn_unuse(tw_stack *st)
{
    if (st->ecn_users && --st->ecn_users == 0) {
        if (st->plain_xmit == ecn_xmit) {
            st->plain_xmit = st->ecn_tx;
            st->plain_ud = st->ecn_ud;
        }
        st->dev.transmit = st->ecn_tx;
        st->dev.ud = st->ecn_ud;
    }
}

void tw_ecn_connect(tw_socket *c)
{
    tw_sock_opts *o = tw_conn_opts_get(c);
    if (!o || o->ecn) {
        return; /* (out of memory: the SYN asks for no ECN) */
    }
    o->ecn = TW_ECN_F_ASKED;
    tw_ecn_use(c->st);
}

/* The peer's answer to the ECN our SYN asked for: agreed (`ok`) or not. */
static void settle(tw_socket *c, bool ok)
{
    tw_sock_opts *o = c->opts;
    if (!o || !(o->ecn & TW_ECN_F_ASKED)) {
        return;
    }
    if (ok) {
        o->ecn = TW_ECN_F_OK;
        o->ecn_high = c->snd_nxt;
        o->ecn_recover = c->snd_una;
        return;
    }
    o->ecn = 0;
    tw_ecn_unuse(c->st);
}

void tw_ecn_synack(tw_socket *c, uint8_t flags)
{
    /* 6.1.1: ECE without CWR agrees; any other SYN+ACK (no ECE, or ECE with CWR: a
       reflector) means no ECN. */
    settle(c, (flags & (TW_ECE | TW_CWR)) == TW_ECE);
}

void tw_ecn_syn(tw_socket *c, uint8_t flags)
{
    /* 6.1.1 does not treat a simultaneous open; Linux does (tcp_ecn_rcv_syn): both SYNs
       ECN-setup ones (ECE and CWR), ECN is on, and our SYN+ACK agrees with ECE alone
       (conn_marks); a SYN without them turns it off. The peer's SYN+ACK then settles
       nothing more (its ECE and CWR are passed over: tcp_in.c in_synchronized). */
    settle(c, (flags & (TW_ECE | TW_CWR)) == (TW_ECE | TW_CWR));
}

void tw_ecn_child(tw_socket *c)
{
    tw_sock_opts *o = tw_conn_opts_get(c);
    if (!o) {
        tw_ecn_unuse(c->st); /* (out of memory: the connection goes without) */
        return;
    }
    o->ecn = TW_ECN_F_OK;
    o->ecn_high = c->snd_nxt;
    o->ecn_recover = c->snd_una;
}

void tw_ecn_rx(tw_socket *c, uint8_t flags, bool ce)
{
    tw_sock_opts *o = c->opts;
    tw_stack *st = c->st;
    /* 6.1.3: ECE is set until a packet with CWR arrives; RFC 3168 does not restrict it
       to data segments (Linux: tcp_ecn_accept_cwr, for data). Asked first: a segment
       with both CWR and CE starts a new demand (Linux's order). */
    if (flags & TW_CWR) {
        o->ecn &= (uint8_t)~TW_ECN_F_DEMAND;
    }
    if (ce) {
        /* 6.1.3: a CE data packet: ECE in the next ACK and every one after it. Linux
           (tcp_ecn_check_ce) ACKs at once when the demand begins, as the sender may
           have a very small window; so do we (quick-ACK, two segments). */
        tw_count(st, TW_CNT_TCP_ECN_CE);
        if (!(o->ecn & TW_ECN_F_DEMAND)) {
            o->ecn |= TW_ECN_F_DEMAND;
            if (c->quickack < 2) {
                c->quickack = 2;
            }
        }
    }
}

bool tw_ecn_ece(tw_socket *c, uint32_t prior_flight)
{
    tw_sock_opts *o = c->opts;
    /* Nothing was in flight: nothing of ours was marked (Linux: tcp_ack's no_queue). A
       loss recovery or timeout has reduced the window already (Linux ignores ECE in
       states past CWR). */
    if (!prior_flight || c->ca_state == TW_CA_RECOVERY || c->ca_state == TW_CA_LOSS) {
        return false;
    }
    /* 6.1.2: react at most once per window of data: not again until what was in flight
       at the last reduction is acknowledged. */
    if ((o->ecn & TW_ECN_F_IN_CWR) && tw_seq_lt(c->snd_una, o->ecn_recover)) {
        return false;
    }
    /* 6.1.2: cwnd and ssthresh reduced as for a loss, without a retransmission; the
       algorithm says how much (RFC 9438 4.6 / RFC 5681 3.1 for NewReno). The caller
       spreads the reduction over the round trip with PRR, as Linux's CWR state
       (tcp_in.c ecn_cwr_enter). */
    tw_count(c->st, TW_CNT_TCP_ECN_CWR);
    o->ecn |= TW_ECN_F_IN_CWR | TW_ECN_F_QUEUE_CWR;
    o->ecn_recover = c->snd_max;
    return true;
}

void tw_ecn_rto(tw_socket *c)
{
    if (c->opts && (c->opts->ecn & TW_ECN_F_PRR)) {
        /* A timeout ends the reduction (the Loss state's window from here); PRR's state
           goes with it, so that no later recovery takes it for this one's. */
        c->opts->ecn &= (uint8_t)~TW_ECN_F_PRR;
        if (c->sb) {
            tw_conn_sbx(c)->prr_on = false;
        }
    }
}
