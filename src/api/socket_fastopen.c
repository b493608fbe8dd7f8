/*
 * socket_fastopen.c -- the TCP Fast Open calls of the socket API (include/tcpwave.h,
 * RFC 7413): the server's TCP_FASTOPEN-like setting and the client's connect-and-send.
 * Apart from socket.c so that the usual calls there are compiled as they were (a second
 * caller of tw_socket_connect in that file changed its register allocation: +3
 * instructions per lifecycle, measured).
 */
#include "core/tcp_conn.h"
#include "core/fastopen.h"

#include <string.h>

/* socket.c's refuse() and fresh() */
static int refuse(tw_stack *st, int rc)
{
    tw_count(st, TW_CNT_API_REFUSED);
    return rc;
}

static bool fresh(const tw_socket *s)
{
    return s->state == TW_STATE_CLOSED && !(s->flags & (TW_F_LISTENER | TW_F_STARTED));
}

/* see tcpwave.h */
int tw_socket_set_fastopen(tw_socket *s, int qlen)
{
    if (!s) {
        return TW_ERR_INVAL;
    }
    if (!s->st->call_free) {
        return refuse(s->st, TW_ERR_BUSY);
    }
    if (qlen < 0) {
        return refuse(s->st, TW_ERR_INVAL);
    }
    /* As Linux's TCP_FASTOPEN: on a fresh socket or a listener only. */
    if (!(s->flags & TW_F_LISTENER) && !fresh(s)) {
        return refuse(s->st, TW_ERR_STATE);
    }
    if (qlen == 0 && !s->opts) {
        return 0;
    }
    tw_sock_opts *o = tw_conn_opts_get(s);
    if (!o) {
        return TW_ERR_NOMEM;
    }
    o->tfo_qlen = (uint16_t)(qlen > 65535 ? 65535 : qlen);
    if (qlen) {
        /* Its SYNs then take listen_admit, where Fast Open is (tcp_in.c in_listen): a
           stack with a Fast Open listener pays that call per SYN, the others nothing. */
        tw_stack_syn_plain_off(s->st);
    }
    return 0;
}

/* see tcpwave.h */
tw_ssize tw_socket_connect_send(tw_socket *s, uint32_t addr, uint16_t port, const void *buf,
                                size_t len, tw_time now)
{
    if (!s) {
        return TW_ERR_INVAL;
    }
    tw_stack *st = s->st;
    if (!st->call_free) {
        return refuse(st, TW_ERR_BUSY);
    }
    if (!buf && len) {
        return refuse(st, TW_ERR_INVAL);
    }
    if (!fresh(s)) {
        return refuse(st, TW_ERR_STATE);
    }
    if (!(st->cfg.fastopen & TW_FASTOPEN_CLIENT)) {
        return TW_ERR_OPNOTSUPP; /* as Linux's sendto(MSG_FASTOPEN) without it */
    }
    tw_stack_set_now(st, now); /* (the time the cache's loss record is compared with) */
    tw_tfo_cookie cookie;
    uint16_t mss = 0;
    tw_tfo_client plan = tw_tfo_client_plan(st, addr, &cookie, &mss);
    if (plan == TW_TFO_PLAN_NONE) {
        return tw_socket_connect(s, addr, port, now); /* a plain SYN, nothing queued */
    }
    tw_sock_opts *o = tw_conn_opts_get(s);
    if (!o) {
        return TW_ERR_NOMEM;
    }
    uint32_t n = 0;
    if (plan == TW_TFO_PLAN_DATA && len) {
        /* RFC 7413 4.2.1: no more than fits the SYN: our MSS and the server's (from the
           cache), less the room of a SYN's options (40 bytes, as Linux's
           tcp_send_syn_data), and no more than the send buffer takes. */
        uint32_t most = tw_conn_local_mss(s);
        if (mss && mss < most) {
            most = mss;
        }
        most = most > TW_TCP_MAX_OPT ? most - TW_TCP_MAX_OPT : 0;
        if (most > s->sndbuf_cap) {
            most = s->sndbuf_cap;
        }
        n = len < most ? (uint32_t)len : most;
        if (n && !tw_conn_snd_reserve(s, n)) {
            return TW_ERR_NOMEM;
        }
        if (n) {
            tw_ring_write_at(&s->snd, 0, buf, n);
            tw_ring_commit(&s->snd, n);
        }
    }
    o->tfo = (uint8_t)(TW_TFO_CONNECT | (n ? TW_TFO_SYN_DATA : 0));
    o->tfo_syn_data = (uint16_t)n;
    /* connect, its first SYN built by syn_other (fastopen.h TW_SYN_OPTS_TFO), through
       connect's general steps (connect_plain_below 0: its usual SYN builder does not
       ask syn_opts, stack.h) */
    size_t plain_below = tw_stack_connect_plain(st);
    st->syn_opts = (uint8_t)(st->syn_opts | TW_SYN_OPTS_TFO);
    tw_stack_connect_plain_set(st, 0);
    int rc = tw_socket_connect(s, addr, port, now);
    st->syn_opts = (uint8_t)(st->syn_opts & ~TW_SYN_OPTS_TFO);
    tw_stack_connect_plain_set(st, plain_below);
    if (rc != 0) {
        s->snd.len = 0; /* (nothing was sent) */
        o->tfo = 0;
        o->tfo_syn_data = 0;
        return rc;
    }
    return (tw_ssize)n;
}
