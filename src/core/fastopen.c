/*
 * fastopen.c -- TCP Fast Open (RFC 7413): the server's cookies, the client's cookie cache
 * and the handshake steps fastopen.h describes. Every function here is on a rare path:
 * a connection that uses no Fast Open never comes here.
 */
#include "core/fastopen.h"
#include "core/siphash.h"

#include <string.h>

/* ---- received option ---- */

void tw_tfo_rx_option(tw_stack *st, tw_tcp_hdr *h)
{
    /* RFC 7413 4.1.1: the option is meaningful on a SYN or SYN+ACK only; Linux ignores it
       elsewhere, and a malformed one (tcp_parse_fastopen_option): so does tcpwave,
       counting each, and the segment goes on without it. */
    if (h->o.fo_flags & TW_FO_BAD) {
        tw_count(st, TW_CNT_TCP_FASTOPEN_BAD_OPTION);
        h->o.present = (uint8_t)(h->o.present & ~TW_OPT_FASTOPEN);
    } else if (!(h->flags & TW_SYN)) {
        tw_count(st, TW_CNT_TCP_FASTOPEN_NOT_SYN);
        h->o.present = (uint8_t)(h->o.present & ~TW_OPT_FASTOPEN);
    }
}

/* ---- settings ---- */

/* ---- server ---- */

static void cookie_with(const tw_stack *st, const tw_sipkey *key, uint32_t raddr,
                        tw_tfo_cookie *out)
{
    /* Linux's MAC (__tcp_fastopen_cookie_gen_cipher): SipHash-2-4 over the SYN's source
       and destination addresses as the IP header has them, the 64 bits stored
       little-endian. RFC 7413 4.1.2 leaves the MAC to the server; with Linux's, a
       packet script that writes Linux's cookie for the same key and addresses
       (packetdrill's TFO_COOKIE) is answered as Linux answers it. */
    uint8_t m[8];
    tw_put32(m, raddr);
    tw_put32(m + 4, st->cfg.addr);
    uint64_t h = tw_siphash(key, m, sizeof(m));
    out->len = 8;
    out->exp = false;
    for (unsigned i = 0; i < 8; i++) {
        out->val[i] = (uint8_t)(h >> (8 * i));
    }
}

static tw_sipkey key_of(const uint8_t *k)
{
    tw_sipkey s = {0, 0};
    for (int i = 7; i >= 0; i--) {
        s.k0 = s.k0 << 8 | k[i];
        s.k1 = s.k1 << 8 | k[8 + i];
    }
    return s;
}

/* see tcpwave.h */
int tw_stack_set_fastopen_key(tw_stack *st, const uint8_t key[16], const uint8_t *backup)
{
    if (!st || !key) {
        return TW_ERR_INVAL;
    }
    if (!st->call_free) {
        tw_count(st, TW_CNT_API_REFUSED);
        return TW_ERR_BUSY;
    }
    /* RFC 7413 4.1.2: the server may change its secret; the one before stays valid as
       the backup for as long as the caller keeps it (Linux's primary and backup keys) */
    st->tfo_key = key_of(key);
    st->tfo_has_backup = backup != NULL;
    if (backup) {
        st->tfo_key_backup = key_of(backup);
    }
    return TW_OK;
}

void tw_tfo_cookie_make(tw_stack *st, uint32_t raddr, tw_tfo_cookie *out)
{
    /* RFC 7413 4.1.2: "a MAC of the client IP address" under a secret only the server
       knows: SipHash-2-4 keyed by the stack's Fast Open key (from its entropy: stack.c,
       or set: tw_stack_set_fastopen_key), 64 bits, as long as Linux's cookie. No clock:
       the key changes when its owner says (4.1.2 leaves rotation to the server), the
       former one kept as the backup. (A cookie taken by the backup gets no fresh one on
       its SYN+ACK, which Linux sends: the client keeps it until the backup goes.) */
    cookie_with(st, &st->tfo_key, raddr, out);
}

/* The cookie `c` (len bytes) is the one the primary key or the backup gives raddr. */
static bool cookie_valid(tw_stack *st, uint32_t raddr, const uint8_t *c, unsigned len)
{
    tw_tfo_cookie v;
    cookie_with(st, &st->tfo_key, raddr, &v);
    if (len == v.len && memcmp(c, v.val, v.len) == 0) {
        return true;
    }
    if (!st->tfo_has_backup) {
        return false;
    }
    cookie_with(st, &st->tfo_key_backup, raddr, &v);
    return len == v.len && memcmp(c, v.val, v.len) == 0;
}

uint32_t tw_tfo_listener_qlen(const tw_socket *l)
{
    if (l->opts && l->opts->tfo_qlen) {
        return l->opts->tfo_qlen;
    }
    /* Linux's 0x400 (TFO_SERVER_WO_SOCKOPT1): every listener, its backlog the bound */
    return (l->st->cfg.fastopen & TW_FASTOPEN_SERVER_ALL) ? l->backlog : 0;
}

bool tw_tfo_listen(tw_stack *st, tw_socket *l, const tw_seg *s, bool have_floor,
                   uint32_t isn_floor)
{
    const tw_tcp_hdr *h = s->h;
    bool opt = (h->o.present & TW_OPT_FASTOPEN) != 0;
    bool no_cookie = (st->cfg.fastopen & TW_FASTOPEN_SERVER_NO_COOKIE) != 0;
    if (!opt && !(no_cookie && s->data_len)) {
        return false; /* a SYN that asks nothing of Fast Open */
    }
    if (opt && h->o.fo_len == 0) {
        tw_count(st, TW_CNT_TCP_FASTOPEN_COOKIE_REQ);
    }
    uint32_t qlen = tw_tfo_listener_qlen(l);
    if (!qlen) {
        tw_count(st, TW_CNT_TCP_FASTOPEN_PASSIVE_OFF);
        return false; /* the usual half-open entry: no cookie, the data ignored (S6) */
    }
    /* RFC 7413 5.1: a bound on the connections opened at the SYN that have not completed
       the handshake. Asked first, as Linux (tcp_fastopen_queue_check): past it the SYN
       takes the usual path, with no cookie given either. */
    tw_sock_opts *lo = tw_conn_opts_get(l); /* (the count's room: a TW_FASTOPEN_SERVER_ALL
                                              listener may have none yet) */
    if (!lo) {
        tw_count(st, TW_CNT_RX_NOMEM);
        return false;
    }
    if (lo->tfo_pending >= qlen) {
        tw_count(st, TW_CNT_TCP_FASTOPEN_LISTEN_OVERFLOW);
        return false;
    }
    tw_seg *sm = (tw_seg *)(uintptr_t)s; /* (the caller's, not read-only: listen_admit) */
    if (!no_cookie) {
        tw_tfo_cookie valid;
        tw_tfo_cookie_make(st, s->raddr, &valid);
        if (h->o.fo_len == 0 ||
            !cookie_valid(st, s->raddr, tw_tfo_opt_cookie(h), h->o.fo_len)) {
            if (h->o.fo_len != 0) {
                /* RFC 7413 4.2: an invalid cookie: the data is not accepted (the SYN+ACK
                   acknowledges the SYN alone), and, as Linux, a valid cookie goes back. */
                tw_count(st, TW_CNT_TCP_FASTOPEN_PASSIVE_FAIL);
            }
            /* RFC 7413 4.1.2: the cookie rides on the SYN+ACK of a usual half-open
               entry, in the form the SYN used (Linux answers the experimental option in
               kind) */
            valid.exp = opt && (h->o.fo_flags & TW_FO_EXP);
            tw_count(st, TW_CNT_TCP_FASTOPEN_COOKIE_SENT);
            tw_in_listen_cookie(l, sm, &valid, have_floor, isn_floor);
            return true;
        }
    }
    if (tw_in_listen_fastopen(l, sm, have_floor, isn_floor)) {
        tw_count(st, TW_CNT_TCP_FASTOPEN_PASSIVE);
    }
    return true;
}

bool tw_tfo_child_acked(tw_socket *c)
{
    tw_sock_opts *o = c->opts;
    if (!o || !(o->tfo & TW_TFO_CHILD)) {
        return false;
    }
    if (o->tfo & TW_TFO_PENDING) {
        tw_tfo_pending_drop(c);
    }
    return true;
}

void tw_tfo_pending_drop(tw_socket *c)
{
    c->opts->tfo = (uint8_t)(c->opts->tfo & ~TW_TFO_PENDING);
    /* (its listener is its port's: gone with it, or a new one that never counted c) */
    tw_socket *l = tw_conn_listener(c);
    if (l && (l->flags & TW_F_LISTENER) && l->opts && l->opts->tfo_pending) {
        l->opts->tfo_pending--;
    }
}

void tw_tfo_conn_gone(tw_socket *c)
{
    if (c->opts->tfo & TW_TFO_PENDING) {
        tw_tfo_pending_drop(c);
    }
    if ((c->opts->tfo & TW_TFO_SYN_DATA) && (c->flags & TW_F_CONNECTED)) {
        /* RFC 7413 4.2.2's case, seen only now: the SYN+ACK acknowledged the SYN alone */
        tw_count(c->st, TW_CNT_TCP_FASTOPEN_ACTIVE_FAIL);
    }
    c->opts->tfo = (uint8_t)(c->opts->tfo & ~(TW_TFO_PENDING | TW_TFO_SYN_DATA));
}

/* The server's own data before the third segment (Linux sends it in SYN-RECEIVED). */
void tw_tfo_send_early(tw_socket *c)
{
    tw_sock_opts *o = c->opts;
    if (!(c->flags & TW_F_EXTRAS) || !o || !(o->tfo & TW_TFO_CHILD) ||
        c->state != TW_STATE_SYN_RCVD) {
        return; /* (any other SYN-RECEIVED: S5, the data waits for the third segment) */
    }
    if (c->ca_state == TW_CA_LOSS) {
        /* Our SYN+ACK timed out (tw_tfo_syn_timeout): the client may still be in
           SYN-SENT, where it drops data; what is written now waits for the third
           segment, which starts the resending (as Linux sends no more before it). */
        return;
    }
    /* RFC 7413 4.2: the server may send data before the handshake completes, as much as
       congestion control allows (Linux: the child accepted at the SYN was given its
       initial window then, tcp_fastopen_create_child's tcp_init_transfer), and the
       peer's window (its SYN's, unscaled). The window is set up when the first such
       write comes (RFC 6928's initial window); the third segment sets it again
       (tw_cc_init) unless a SYN+ACK timeout reduced it (tw_tfo_syn_timeout). */
    if (tw_seq_eq(c->snd_max, tw_seq_add(c->iss, 1)) && c->ca_state == TW_CA_OPEN) {
        c->cwnd = c->st->cfg.initial_cwnd * (uint32_t)c->snd_mss;
        c->ssthresh = UINT32_MAX;
        c->recover = c->snd_una;
        c->high_rxt = c->snd_una;
        c->snd_sml = c->snd_una;
    }
    tw_out_push_now(c);
}

/* on_rto's step for a Fast Open child in SYN-RECEIVED that has sent data after its
   SYN+ACK: true when the SYN+ACK went again here. */
static bool synack_timeout(tw_socket *c)
{
    if (!(c->opts->tfo & TW_TFO_CHILD) || tw_seq_eq(c->snd_max, tw_seq_add(c->iss, 1))) {
        return false; /* (nothing but the SYN+ACK in flight: tw_out_syn sends it again) */
    }
    /* The SYN+ACK timed out: the client, still in SYN-SENT, has dropped the data sent
       after it too. RFC 5681 3.1 (and RFC 6928 2): after a lost SYN+ACK the initial
       window is one segment; the data is taken as lost (RFC 6298 5.4-5.6's steps of a
       timeout: ssthresh, cwnd one segment, sending again from the first byte once the
       handshake completes). Linux enters its Loss state at the second such timeout
       (tcp_fastopen_synack_timer); tcpwave at the first, as RFC 5681 says. Only the
       SYN+ACK goes now, as Linux: the client in SYN-SENT takes nothing else. SND.MAX
       stays (an ACK of the first sending's data is still acceptable). */
    if (c->ca_state != TW_CA_LOSS) {
        c->ssthresh = tw_conn_cc(c)->on_loss(c, c->st->now);
        c->ca_state = TW_CA_LOSS;
        c->recover = c->snd_max;
    }
    c->cwnd = c->snd_mss;
    c->snd_nxt = tw_seq_add(c->iss, 1);
    c->high_rxt = c->snd_nxt;
    tw_out_synack_again(c);
    return true;
}

/* ---- client: the cookie cache ---- */

typedef struct tw_tfo_entry {
    uint32_t addr;        /* 0: unused */
    uint16_t mss;         /* the server's MSS when the cookie came */
    uint8_t len;          /* cookie bytes, 0: none yet */
    uint8_t losses;       /* SYNs with data lost in a row */
    tw_time loss_at;      /* the last one */
    uint8_t val[TW_FASTOPEN_COOKIE_MAX];
} tw_tfo_entry;

struct tw_tfo_cache {
    uint32_t cap, n, next; /* entries, used, the next to replace when full */
    tw_tfo_entry e[];
};

void tw_tfo_cache_free(tw_stack *st)
{
    if (st->tfo_cache) {
        tw_mem_free(&st->mem, st->tfo_cache,
                    sizeof(struct tw_tfo_cache) + st->tfo_cache->cap * sizeof(tw_tfo_entry));
        st->tfo_cache = NULL;
    }
}

static tw_tfo_entry *cache_find(const tw_stack *st, uint32_t addr)
{
    const struct tw_tfo_cache *t = st->tfo_cache;
    for (uint32_t i = 0; t && i < t->n; i++) {
        if (t->e[i].addr == addr) {
            return (tw_tfo_entry *)&t->e[i];
        }
    }
    return NULL;
}

/* The entry for `addr`, made (the oldest replaced when the cache is full: bounded by
   cfg.fastopen_cache); NULL when out of memory. */
static tw_tfo_entry *cache_get(tw_stack *st, uint32_t addr)
{
    tw_tfo_entry *e = cache_find(st, addr);
    if (e) {
        return e;
    }
    struct tw_tfo_cache *t = st->tfo_cache;
    if (!t) {
        uint32_t cap = st->cfg.fastopen_cache;
        t = tw_mem_zalloc(&st->mem, sizeof(*t) + cap * sizeof(tw_tfo_entry));
        if (!t) {
            return NULL;
        }
        t->cap = cap;
        st->tfo_cache = t;
    }
    if (t->n < t->cap) {
        e = &t->e[t->n++];
    } else {
        e = &t->e[t->next];
        t->next = (t->next + 1) % t->cap;
    }
    memset(e, 0, sizeof(*e));
    e->addr = addr;
    return e;
}

/* see tcpwave.h */
size_t tw_stack_fastopen_cookie(const tw_stack *st, uint32_t addr, uint8_t *buf, size_t cap)
{
    const tw_tfo_entry *e = st ? cache_find(st, addr) : NULL;
    if (!e || !e->len) {
        return 0;
    }
    if (buf) {
        memcpy(buf, e->val, cap < e->len ? cap : e->len);
    }
    return e->len;
}

tw_tfo_client tw_tfo_client_plan(tw_stack *st, uint32_t addr, tw_tfo_cookie *cookie,
                                 uint16_t *mss)
{
    tw_tfo_entry *e = cache_find(st, addr);
    if (e && e->losses) {
        /* Linux's answer to a path that loses SYNs with data (a middlebox; its global
           "blackhole" detection, simplified to the address): no Fast Open for 60 s,
           doubled with each further loss (at most 16 min). */
        unsigned sh = e->losses > 5 ? 4 : e->losses - 1u;
        if (st->now < tw_time_add(e->loss_at, TW_SEC(60) << sh)) {
            tw_count(st, TW_CNT_TCP_FASTOPEN_BLACKHOLE);
            return TW_TFO_PLAN_NONE;
        }
    }
    if (!e || !e->len) {
        return TW_TFO_PLAN_REQUEST;
    }
    cookie->len = e->len;
    cookie->exp = false; /* (RFC 7413's kind 34 on our SYNs, as Linux's default) */
    memcpy(cookie->val, e->val, e->len);
    *mss = e->mss;
    return TW_TFO_PLAN_DATA;
}

/* ---- client: the handshake ---- */

void tw_tfo_syn(tw_socket *c)
{
    tw_stack *st = c->st;
    tw_sock_opts *o = c->opts;
    o->tfo = (uint8_t)((o->tfo & ~TW_TFO_CONNECT) | TW_TFO_REQUESTED);
    tw_tfo_cookie cookie;
    uint16_t mss;
    if (tw_tfo_client_plan(st, c->raddr, &cookie, &mss) == TW_TFO_PLAN_DATA) {
        /* RFC 7413 4.2.1: the cookie and the data on the SYN, which then takes the data's
           sequence numbers (SND.MAX past them; SND.NXT stays at ISS + 1 until the
           SYN+ACK says what it acknowledged: tw_tfo_synsent_ack, or 4.2.2's sending
           again after the handshake). With no data (connect_send of 0 bytes) the cookie
           alone, as Linux. */
        uint32_t n = (o->tfo & TW_TFO_SYN_DATA) ? o->tfo_syn_data : 0;
        if (n) {
            tw_count(st, TW_CNT_TCP_FASTOPEN_ACTIVE_SYN_DATA);
        }
        tw_out_syn_fo(c, &cookie, n);
        c->snd_max = tw_seq_add(c->iss, 1 + n);
        return;
    }
    /* RFC 7413 4.1.3: no cookie yet: the option empty, a request */
    o->tfo = (uint8_t)(o->tfo & ~TW_TFO_SYN_DATA);
    tw_count(st, TW_CNT_TCP_FASTOPEN_ACTIVE_REQ);
    tw_out_syn_fo(c, NULL, 0);
}

bool tw_tfo_synsent_ack(tw_socket *c, tw_seq ack)
{
    tw_sock_opts *o = c->opts;
    tw_seq first = tw_seq_add(c->iss, 1);
    /* (after a timeout the SYN went again without the data, SND.MAX back at ISS + 1, but
       the first SYN may have come through: its data's end still bounds the ACK, as on
       Linux, which keeps that data sent) */
    if (!o || !(o->tfo & (TW_TFO_SYN_DATA | TW_TFO_SYN_LOST)) || !tw_seq_gt(ack, first) ||
        tw_seq_gt(ack, tw_seq_add(first, o->tfo_syn_data))) {
        return false;
    }
    /* RFC 7413 4.2.1: the SYN+ACK acknowledges (some of) the SYN's data: those bytes
       leave the send ring as an ACK's would (tcp_in.c ack_advance), and the SYN-SENT
       steps go on with SND.UNA = SEG.ACK. */
    uint32_t acked = (uint32_t)tw_seq_diff(ack, first);
    o->tfo |= TW_TFO_DATA_ACKED;
    if (acked >= c->snd.len) {
        acked = c->snd.len;
        c->snd.head = c->snd.buf ? TW_SND_HDR_ROOM : 0;
        c->snd.len = 0;
    } else {
        tw_ring_consume(&c->snd, acked);
    }
    c->snd_buf_seq = tw_seq_add(c->snd_buf_seq, acked);
    c->bytes_acked += acked;
    c->snd_nxt = ack;
    if (tw_seq_gt(ack, c->snd_max)) {
        c->snd_max = ack;
    }
    o->tfo = (uint8_t)(o->tfo & ~(TW_TFO_SYN_DATA | TW_TFO_SYN_LOST));
    tw_stack *st = c->st;
    tw_count(st, TW_CNT_TCP_FASTOPEN_ACTIVE);
    tw_tfo_entry *e = cache_find(st, c->raddr);
    if (e) {
        e->losses = 0;
    }
    return true;
}

void tw_tfo_synack(tw_socket *c, const tw_tcp_hdr *h, tw_seq ack)
{
    tw_sock_opts *o = c->opts;
    if (!o || !(o->tfo & TW_TFO_REQUESTED)) {
        return; /* an unsolicited cookie is ignored, as Linux does */
    }
    tw_stack *st = c->st;
    o->tfo = (uint8_t)(o->tfo & ~TW_TFO_REQUESTED);
    bool cookie = (h->o.present & TW_OPT_FASTOPEN) && h->o.fo_len;
    tw_tfo_entry *e = cookie ? cache_get(st, c->raddr) : cache_find(st, c->raddr);
    if (e && cookie) {
        /* RFC 7413 4.1.3: keep the server's cookie for the next connections to it */
        e->len = h->o.fo_len;
        memcpy(e->val, tw_tfo_opt_cookie(h), h->o.fo_len);
        tw_count(st, TW_CNT_TCP_FASTOPEN_COOKIE_CACHED);
    }
    if (e) {
        /* ... with the MSS it announced (4.2.1: how much data the next SYN may carry),
           taken from every SYN+ACK that answers a Fast Open SYN, with a cookie or
           without a valid one (the one kept stays), as Linux's tcp_fastopen_cache_set */
        e->mss = c->peer_mss;
    }
    if ((o->tfo & TW_TFO_SYN_DATA) && tw_seq_eq(ack, tw_seq_add(c->iss, 1))) {
        /* RFC 7413 4.2.2: the SYN+ACK acknowledges the SYN alone: the data goes again
           after the handshake (SND.NXT is still ISS + 1: in_syn_sent's push sends it) */
        o->tfo = (uint8_t)(o->tfo & ~TW_TFO_SYN_DATA);
        tw_count(st, TW_CNT_TCP_FASTOPEN_ACTIVE_FAIL);
    }
}

bool tw_tfo_syn_frag_needed(tw_socket *c)
{
    tw_sock_opts *o = c->opts;
    if (!o || !(o->tfo & TW_TFO_SYN_DATA)) {
        return false;
    }
    /* as a timeout's (tw_tfo_syn_timeout), but no loss noted for the address: the path's
       MTU, not a middlebox, dropped the data (Linux notes none either until the SYN+ACK) */
    o->tfo = (uint8_t)((o->tfo & ~TW_TFO_SYN_DATA) | TW_TFO_SYN_LOST);
    tw_count(c->st, TW_CNT_TCP_FASTOPEN_ACTIVE_FAIL);
    return true;
}

bool tw_tfo_syn_timeout(tw_socket *c)
{
    tw_sock_opts *o = c->opts;
    if (o && c->state == TW_STATE_SYN_RCVD) {
        return synack_timeout(c);
    }
    if (c->state != TW_STATE_SYN_SENT || !o || !(o->tfo & TW_TFO_SYN_DATA)) {
        return false;
    }
    /* RFC 7413 4.2.2, as Linux: the SYN goes again without data or cookie (tw_out_syn
       takes SND.NXT and SND.MAX back to ISS + 1: the data leaves after the handshake),
       and the loss is remembered: a middlebox may drop SYNs with data (RFC 7413 7.1). */
    tw_stack *st = c->st;
    o->tfo = (uint8_t)((o->tfo & ~TW_TFO_SYN_DATA) | TW_TFO_SYN_LOST);
    tw_count(st, TW_CNT_TCP_FASTOPEN_ACTIVE_FAIL);
    tw_tfo_entry *e = cache_get(st, c->raddr);
    if (e) {
        if (e->losses < 255) {
            e->losses++;
        }
        e->loss_at = st->now;
    }
    return false;
}
