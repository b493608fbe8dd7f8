/*
 * ecn.h -- Explicit Congestion Notification, classic (RFC 3168, with RFC 8311's updates),
 * as Linux's net.ipv4.tcp_ecn 1 and 2. Nothing here is on a connection's usual path: a
 * connection that asks for ECN or has it keeps its state in its tw_sock_opts (c->opts,
 * TW_F_EXTRAS, TW_ECN_F_*), a SYN queue entry in r->opts (TW_REQ_ECN); the marks of the
 * segments that leave (ECT(0), ECE, CWR) are set by tw_ecn_xmit, the stack's netdev call
 * while such connections exist; the usual parse takes only packets whose TOS byte is 0,
 * so a CE mark (and an ECN connection's ECT data) comes through the full parsers, which
 * hand it to TCP (stack.h rx_ce).
 */
#ifndef TW_CORE_ECN_H
#define TW_CORE_ECN_H

#include "core/tcp_conn.h"

/* The IPv4 ECN field (RFC 3168 5), the TOS byte's two low bits. */
#define TW_IP_ECN_MASK 0x03u
#define TW_IP_ECT0 0x02u
#define TW_IP_CE 0x03u

/* Set in st->syn_opts when cfg.ecn is TW_ECN_ON: every first SYN then takes syn_other
   (tcp_out.c), which asks for ECN (tw_ecn_connect); the usual connect asks nothing more.
   No option's bit (TW_OPT_*), nor Fast Open's (TW_SYN_OPTS_TFO). */
#define TW_SYN_OPTS_ECN 0x40u

/* One more (fewer) connection or SYN queue entry with ECN state: the first installs
   tw_ecn_xmit as the stack's netdev call, the last takes it away. */
void tw_ecn_use(tw_stack *st);
void tw_ecn_unuse(tw_stack *st);
/* The marks of an outgoing segment, in place (what tw_ecn_xmit does before the netdev's
   call): a traced stack's paths that trace a segment read back from its bytes mark it
   first, so that the trace shows what leaves. Marking twice changes nothing more. */
void tw_ecn_mark(tw_stack *st, uint8_t *pkt, size_t len);
/* connect(): with cfg.ecn TW_ECN_ON the SYN asks for ECN (RFC 3168 6.1.1). */
void tw_ecn_connect(tw_socket *c);
/* SYN-SENT: the SYN+ACK (its flags) says whether the peer agreed (6.1.1: ECE without
   CWR). */
void tw_ecn_synack(tw_socket *c, uint8_t flags);
/* SYN-SENT: a simultaneous open's SYN (its flags) says whether the peer asks for ECN
   too (ECE and CWR, as Linux's tcp_ecn_rcv_syn). */
void tw_ecn_syn(tw_socket *c, uint8_t flags);
/* A passive connection made from an entry (or a cookie) that agreed: an ECN connection.
   The caller has counted it (tw_ecn_use). */
void tw_ecn_child(tw_socket *c);
/* An acceptable segment of an ECN connection with CWR set, or with data and CE-marked
   (`ce`), before its ACK is taken: the receiver's side (6.1.3). */
void tw_ecn_rx(tw_socket *c, uint8_t flags, bool ce);
/* The same segment's ECE after its ACK was taken, `prior_flight` the bytes in flight
   before: true when the sender reduces now (6.1.2, once per window; counted, CWR queued
   for the next new data), which the caller does (tcp_in.c ecn_cwr_enter). */
bool tw_ecn_ece(tw_socket *c, uint32_t prior_flight);
/* on_rto: a timeout ends an ECN reduction under way (TW_ECN_F_PRR). */
void tw_ecn_rto(tw_socket *c);
/* c is in ECN's reduction (Linux's CWR state): PRR spreads it over the ACKs of the
   round trip (tcp_in.c), the congestion state Disorder meanwhile (its ACKs off header
   prediction, cwnd not grown). (PRR's state still on: an undo, which ends it, ends the
   reduction too.) */
static inline bool tw_ecn_cwr_on(const tw_socket *c)
{
    return (c->flags & TW_F_EXTRAS) && c->opts && (c->opts->ecn & TW_ECN_F_PRR) &&
        c->ca_state == TW_CA_DISORDER && c->sb && tw_conn_sbx(c)->prr_on;
}
/* c has negotiated ECN. */
static inline bool tw_ecn_ok(const tw_socket *c)
{
    return (c->flags & TW_F_EXTRAS) && c->opts && (c->opts->ecn & TW_ECN_F_OK);
}

#endif
