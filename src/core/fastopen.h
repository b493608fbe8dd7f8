/*
 * fastopen.h -- TCP Fast Open (RFC 7413): server cookies, the client's cookie cache, and
 * the steps the handshake's code calls on its rare paths (a SYN or SYN+ACK with the
 * option, a SYN with data sent or lost). Nothing here is on a connection's usual path:
 * the option sends its segment to the full parsers (tcp_hdr.h), a Fast Open listener
 * makes the stack's SYNs take listen_admit (stack.h syn_plain), and a Fast Open
 * connection's state lives in its tw_sock_opts (c->opts, TW_F_EXTRAS).
 */
#ifndef TW_CORE_FASTOPEN_H
#define TW_CORE_FASTOPEN_H

#include "core/tcp_conn.h"

/* tw_sock_opts.tfo */
#define TW_TFO_CONNECT 0x01u   /* client: the first SYN goes through tw_tfo_syn_opts */
#define TW_TFO_SYN_DATA 0x02u  /* client: the SYN carried tfo_syn_data bytes */
#define TW_TFO_REQUESTED 0x04u /* client: the SYN carried the option (cookie or request) */
#define TW_TFO_CHILD 0x08u     /* server: opened at the SYN, queued for accept at once */
#define TW_TFO_PENDING 0x10u   /* server: such a child counted in tfo_pending */
#define TW_TFO_SYN_LOST 0x20u  /* client: the SYN with data timed out (tw_tfo_syn_timeout);
                                  a late SYN+ACK may still acknowledge the data */
#define TW_TFO_DATA_ACKED 0x40u /* either side: the SYN's data was acknowledged (Linux's
                                   syn_data_acked: TCPI_OPT_SYN_DATA in tcp_info) */

/* A SYN's cookie request or cookie, and what to answer. */
typedef struct tw_tfo_cookie {
    uint8_t len; /* 0: none */
    bool exp;    /* written in the experimental form (kind 254, magic 0xF989) */
    uint8_t val[TW_FASTOPEN_COOKIE_MAX];
} tw_tfo_cookie;

/* The Fast Open option's cookie as the segment carries it (o->present has
   TW_OPT_FASTOPEN). */
static inline const uint8_t *tw_tfo_opt_cookie(const tw_tcp_hdr *h)
{
    return h->payload - h->hdr_len + TW_TCP_HDR_LEN + h->o.fo_off;
}

/* Server. The cookie for a client address (RFC 7413 4.1.2: a MAC of the address under
   the stack's secret), 8 bytes as Linux's. */
void tw_tfo_cookie_make(tw_stack *st, uint32_t raddr, tw_tfo_cookie *out);
/* The listener's Fast Open queue bound, 0 when off for it. */
uint32_t tw_tfo_listener_qlen(const tw_socket *l);
/* listen_admit's step for a SYN that S8's limits let through, at a listener: true when
   the SYN was answered here (a connection opened at the SYN, or a half-open entry whose
   SYN+ACK carries a cookie), false for the usual half-open entry. `have_floor`: the SYN
   ended a TIME-WAIT record, and the new ISS must clear RFC 6191's `isn_floor`. */
bool tw_tfo_listen(tw_stack *st, tw_socket *l, const tw_seg *s, bool have_floor,
                   uint32_t isn_floor);

/* tcp_in.c, for tw_tfo_listen: a half-open entry as in_listen makes it, its SYN+ACK
   carrying `cookie`; and a connection opened by a valid cookie (false: not made); each
   with tw_tfo_listen's ISN floor. */
void tw_in_listen_cookie(tw_socket *l, tw_seg *s, const tw_tfo_cookie *cookie, bool have_floor,
                         uint32_t isn_floor);
bool tw_in_listen_fastopen(tw_socket *l, tw_seg *s, bool have_floor, uint32_t isn_floor);

/* tcp_out.c: a half-open entry's first SYN+ACK with the cookie; a connection's first
   SYN with the option (`cookie` NULL: the request) and `data` bytes of its send ring. */
struct tw_reqsk;
void tw_out_req_synack_fo(tw_stack *st, const struct tw_reqsk *r, const tw_tfo_cookie *cookie);
void tw_out_syn_fo(tw_socket *c, const tw_tfo_cookie *cookie, uint32_t data);

/* Client. */
/* What a connect_send to `addr` does: no Fast Open (a SYN with data to it was lost
   lately), a cookie request, or the cached cookie (in *cookie, with the server's MSS in
   *mss) and data on the SYN. */
typedef enum tw_tfo_client {
    TW_TFO_PLAN_NONE,
    TW_TFO_PLAN_REQUEST,
    TW_TFO_PLAN_DATA,
} tw_tfo_client;
tw_tfo_client tw_tfo_client_plan(tw_stack *st, uint32_t addr, tw_tfo_cookie *cookie,
                                 uint16_t *mss);
/* Set in st->syn_opts for the length of a connect_send's connect: its first SYN then
   takes syn_other (tcp_out.c), which sees TW_TFO_CONNECT; the usual connect asks nothing
   more. */
#define TW_SYN_OPTS_TFO 0x80u
/* syn_other's step for a connect_send's first SYN (TW_TFO_CONNECT). */
void tw_tfo_syn(tw_socket *c);
/* in_syn_sent: a SYN+ACK whose ACK is beyond ISS + 1 -- true when it acknowledges SYN data
   (snd_una and the send ring moved over it), false for the usual bad ACK. */
bool tw_tfo_synsent_ack(tw_socket *c, tw_seq ack);
/* in_syn_sent, full parser's: the SYN+ACK of a Fast Open connect (cookie cached,
   outcome counted). */
void tw_tfo_synack(tw_socket *c, const tw_tcp_hdr *h, tw_seq ack);
/* on_rto: a SYN-SENT timeout; a SYN with data goes again without it (RFC 7413 4.2.2,
   Linux), and the address is noted. A SYN-RECEIVED one of a child that sent data after
   its SYN+ACK (tw_tfo_send_early): the SYN+ACK again, the data taken as lost. True when
   the segment was sent here (else on_rto's tw_out_syn sends it). */
bool tw_tfo_syn_timeout(tw_socket *c);
/* icmp_frag_needed in SYN-SENT: true when our SYN carried data, which the smaller path
   MTU has likely dropped; the SYN is then to go again at once without it (Linux's
   tcp_simple_retransmit, which takes a Fast Open SYN as lost), and the data after the
   handshake, in the new size. */
bool tw_tfo_syn_frag_needed(tw_socket *c);
/* send(): new data on a socket in SYN-RECEIVED. A child opened by Fast Open sends it at
   once, as Linux (RFC 7413 4.2); any other keeps it for the third segment (S5). */
void tw_tfo_send_early(tw_socket *c);

/* in_process_ack, SYN-RECEIVED: the ACK of a child opened at the SYN, already queued for
   accept: true when c is one (the pending count taken down). */
bool tw_tfo_child_acked(tw_socket *c);
/* A connection freed while counted in its listener's tfo_pending (extras_free). */
void tw_tfo_pending_drop(tw_socket *c);
/* extras_free: the pending count (RFC 7413 5.1), and a client's SYN data whose outcome no
   SYN+ACK step saw (a SYN+ACK without the option, which the usual parse takes: the data
   was sent again after the handshake, counted as a failure now). */
void tw_tfo_conn_gone(tw_socket *c);
/* A child opened at the SYN: in the accept queue from its SYN on, in SYN-RECEIVED too. */
static inline bool tw_tfo_child_queued(const tw_socket *c)
{
    return (c->flags & TW_F_EXTRAS) && c->opts && (c->opts->tfo & TW_TFO_CHILD);
}
/* A child opened by Fast Open with data sent after its SYN+ACK (SND.MAX past ISS + 1):
   its SYN+ACK goes again without taking SND.NXT and SND.MAX back (tw_out_synack_again). */
static inline bool tw_tfo_sent_early(const tw_socket *c)
{
    return !tw_seq_eq(c->snd_max, tw_seq_add(c->iss, 1)) && tw_tfo_child_queued(c);
}

#endif
