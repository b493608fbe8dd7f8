/*
 * tw_test.c -- scenario-test fixture (see tw_test.h).
 *
 * The test's own packet builder and parser are written separately from the core's
 * (plain byte arithmetic here), so a bug in the core's parser cannot hide itself.
 */
#include "tw_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXQ 4096
#define TRACE_KEEP 24

typedef struct qpkt {
    uint8_t *data;
    size_t len;
} qpkt;

struct tw_t {
    tw_stack *st;
    tw_t_alloc alloc;
    tw_time now;
    qpkt q[MAXQ];
    size_t qhead, qlen;
    size_t dropped;
    size_t mem_base;
    unsigned ntimer; /* TIMER trace events so far */
    char trace[TRACE_KEEP][200];
    unsigned ntrace;
};

static uint16_t csum_fold(uint32_t s)
{
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)~s;
}

static uint32_t csum_bytes(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    if (n & 1) {
        s += (uint32_t)(p[n - 1] << 8);
    }
    return s;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

static uint32_t get16(const uint8_t *p)
{
    return (uint32_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return get16(p) << 16 | get16(p + 2);
}

size_t tw_t_build(const tw_t_seg *s, uint8_t *buf, size_t cap)
{
    uint8_t opt[40];
    size_t ol = 0;
    if (s->opts & TW_OPT_MSS) {
        opt[ol++] = 2;
        opt[ol++] = 4;
        put16(opt + ol, s->mss);
        ol += 2;
    }
    if (s->opts & TW_OPT_SACK_PERM) {
        opt[ol++] = 4;
        opt[ol++] = 2;
    }
    if (s->opts & TW_OPT_TS) {
        opt[ol++] = 8;
        opt[ol++] = 10;
        put32(opt + ol, s->ts_val);
        put32(opt + ol + 4, s->ts_ecr);
        ol += 8;
    }
    if (s->opts & TW_OPT_WSCALE) {
        opt[ol++] = 1;
        opt[ol++] = 3;
        opt[ol++] = 3;
        opt[ol++] = s->wscale;
    }
    if ((s->opts & TW_OPT_SACK) && s->sack_n) {
        opt[ol++] = 1;
        opt[ol++] = 1;
        opt[ol++] = 5;
        opt[ol++] = (uint8_t)(2 + 8 * s->sack_n);
        for (unsigned i = 0; i < s->sack_n; i++) {
            put32(opt + ol, s->sack[2 * i]);
            put32(opt + ol + 4, s->sack[2 * i + 1]);
            ol += 8;
        }
    }
    while (ol % 4) {
        opt[ol++] = 0;
    }
    size_t thl = 20 + ol, total = 20 + thl + s->len;
    if (total > cap) {
        return 0;
    }
    memset(buf, 0, 20 + thl);
    buf[0] = 0x45;
    put16(buf + 2, (uint32_t)total);
    put16(buf + 6, 0x4000);
    buf[8] = 64;
    buf[9] = 6;
    put32(buf + 12, s->src);
    put32(buf + 16, s->dst);
    put16(buf + 10, csum_fold(csum_bytes(0, buf, 20)));
    uint8_t *t = buf + 20;
    put16(t, s->sport);
    put16(t + 2, s->dport);
    put32(t + 4, s->seq);
    put32(t + 8, s->ack);
    t[12] = (uint8_t)((thl / 4) << 4);
    t[13] = s->flags;
    put16(t + 14, s->win);
    put16(t + 18, s->urg);
    memcpy(t + 20, opt, ol);
    if (s->len) {
        if (s->data) {
            memcpy(t + thl, s->data, s->len);
        } else {
            memset(t + thl, 'a', s->len);
        }
    }
    uint32_t sum = (s->src >> 16) + (s->src & 0xffff) + (s->dst >> 16) + (s->dst & 0xffff) + 6 +
                   (uint32_t)(thl + s->len);
    put16(t + 16, csum_fold(csum_bytes(sum, t, thl + s->len)));
    return total;
}

bool tw_t_parse(const uint8_t *p, size_t len, tw_t_seg *o, uint8_t *payload_copy, size_t cap)
{
    memset(o, 0, sizeof(*o));
    if (len < 40 || (p[0] >> 4) != 4 || p[9] != 6) {
        return false;
    }
    size_t ihl = (size_t)(p[0] & 15) * 4;
    o->src = get32(p + 12);
    o->dst = get32(p + 16);
    const uint8_t *t = p + ihl;
    size_t tl = get16(p + 2) - ihl;
    o->sport = (uint16_t)get16(t);
    o->dport = (uint16_t)get16(t + 2);
    o->seq = get32(t + 4);
    o->ack = get32(t + 8);
    size_t thl = (size_t)(t[12] >> 4) * 4;
    o->flags = t[13];
    o->win = (uint16_t)get16(t + 14);
    o->urg = (uint16_t)get16(t + 18);
    for (size_t i = 20; i < thl;) {
        uint8_t k = t[i];
        if (k == 0) {
            break;
        }
        if (k == 1) {
            i++;
            continue;
        }
        uint8_t l = t[i + 1];
        if (l < 2) {
            return false;
        }
        if (k == 2) {
            o->opts |= TW_OPT_MSS;
            o->mss = (uint16_t)get16(t + i + 2);
        } else if (k == 3) {
            o->opts |= TW_OPT_WSCALE;
            o->wscale = t[i + 2];
        } else if (k == 4) {
            o->opts |= TW_OPT_SACK_PERM;
        } else if (k == 8) {
            o->opts |= TW_OPT_TS;
            o->ts_val = get32(t + i + 2);
            o->ts_ecr = get32(t + i + 6);
        } else if (k == 5) {
            o->opts |= TW_OPT_SACK;
            o->sack_n = (uint8_t)((l - 2) / 8);
            for (unsigned j = 0; j < o->sack_n && j < 4; j++) {
                o->sack[2 * j] = get32(t + i + 2 + 8 * j);
                o->sack[2 * j + 1] = get32(t + i + 6 + 8 * j);
            }
        }
        i += l;
    }
    o->len = (uint32_t)(tl - thl);
    if (payload_copy) {
        memcpy(payload_copy, t + thl, o->len < cap ? o->len : cap);
    }
    return true;
}

static void fmt_addr(char *b, size_t n, uint32_t a, uint16_t port)
{
    snprintf(b, n, "%u.%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, port);
}

void tw_t_format(const tw_t_seg *s, char *buf, size_t cap)
{
    char a[32], b[32], fl[12], opt[200] = "";
    fmt_addr(a, sizeof a, s->src, s->sport);
    fmt_addr(b, sizeof b, s->dst, s->dport);
    size_t k = 0;
    const char *names = "FSRP.UEW";
    static const uint8_t bits[] = {TW_FIN, TW_SYN, TW_RST, TW_PSH, TW_ACK, TW_URG, TW_ECE, TW_CWR};
    for (int i = 0; i < 8; i++) {
        if (s->flags & bits[i] && bits[i] != TW_ACK) {
            fl[k++] = names[i];
        }
    }
    if (s->flags & TW_ACK) {
        fl[k++] = '.';
    }
    fl[k] = 0;
    size_t ol = 0;
    if (s->opts & TW_OPT_MSS) {
        ol += (size_t)snprintf(opt + ol, sizeof opt - ol, "mss %u,", s->mss);
    }
    if (s->opts & TW_OPT_SACK_PERM) {
        ol += (size_t)snprintf(opt + ol, sizeof opt - ol, "sackOK,");
    }
    if (s->opts & TW_OPT_TS) {
        ol += (size_t)snprintf(opt + ol, sizeof opt - ol, "TS val %u ecr %u,", s->ts_val,
                               s->ts_ecr);
    }
    if (s->opts & TW_OPT_WSCALE) {
        ol += (size_t)snprintf(opt + ol, sizeof opt - ol, "wscale %u,", s->wscale);
    }
    if (s->opts & TW_OPT_SACK) {
        ol += (size_t)snprintf(opt + ol, sizeof opt - ol, "sack %u,", s->sack_n);
    }
    if (ol) {
        opt[ol - 1] = 0;
    }
    char urg[24] = "";
    if (s->urg) {
        snprintf(urg, sizeof urg, ", urg %u", s->urg);
    }
    snprintf(buf, cap, "%s > %s: Flags [%s], seq %u, ack %u, win %u%s, options [%s], length %u",
             a, b, fl, s->seq, s->ack, s->win, urg, opt, s->len);
}

static int fx_transmit(const uint8_t *p, size_t len, void *ud)
{
    tw_t *t = ud;
    if (t->qlen == MAXQ) {
        t->dropped++;
        return 1;
    }
    qpkt *q = &t->q[(t->qhead + t->qlen) % MAXQ];
    q->data = malloc(len);
    memcpy(q->data, p, len);
    q->len = len;
    t->qlen++;
    return 0;
}

static void fx_trace(const tw_trace_event *ev, void *ud)
{
    tw_t *t = ud;
    if (ev->kind == TW_TRACE_TIMER) {
        t->ntimer++;
    }
    char *line = t->trace[t->ntrace++ % TRACE_KEEP];
    char seg[160] = "";
    if (ev->kind == TW_TRACE_SEG_IN || ev->kind == TW_TRACE_SEG_OUT || ev->kind == TW_TRACE_DROP) {
        tw_t_seg s = {.src = ev->seg.saddr, .dst = ev->seg.daddr, .sport = ev->seg.sport,
                      .dport = ev->seg.dport, .seq = ev->seg.seq, .ack = ev->seg.ack,
                      .flags = ev->seg.flags, .win = ev->seg.win, .len = ev->seg.len};
        tw_t_format(&s, seg, sizeof seg);
    }
    static const char *kinds[] = {"?", "in", "out", "state", "drop", "timer"};
    snprintf(line, 200, "%.6f conn %llu %-5s %s%s%s %s", (double)ev->now / 1e9,
             (unsigned long long)ev->conn_id, kinds[ev->kind <= 5 ? ev->kind : 0],
             tw_state_name(ev->old_state), ev->kind == TW_TRACE_STATE ? " -> " : "",
             ev->kind == TW_TRACE_STATE ? tw_state_name(ev->new_state) : "",
             ev->kind == TW_TRACE_DROP ? tw_counter_name(ev->counter) : seg);
}

static tw_t *t_new(const tw_config *cfg, bool traced);

tw_t *tw_t_new(const tw_config *cfg)
{
    return t_new(cfg, true);
}

tw_t *tw_t_new_untraced(const tw_config *cfg)
{
    return t_new(cfg, false);
}

void tw_t_traced_and_untraced(void (*f)(tw_t *t))
{
    for (int traced = 1; traced >= 0; traced--) {
        tw_t *t = t_new(NULL, traced != 0);
        assert_non_null(t);
        f(t);
        tw_t_free(t);
    }
}

static tw_t *t_new(const tw_config *cfg, bool traced)
{
    tw_t *t = calloc(1, sizeof(*t));
    tw_t_alloc_init(&t->alloc, 0);
    tw_config c;
    if (cfg) {
        c = *cfg;
    } else {
        tw_config_init(&c);
    }
    c.addr = LOCAL;
    c.allocator = &t->alloc.a;
    c.trace = traced ? fx_trace : NULL;
    c.trace_ud = t;
    bool keep_entropy = false;
    for (size_t i = 0; cfg && i < sizeof(c.entropy); i++) {
        keep_entropy |= c.entropy[i] != 0;
    }
    if (!keep_entropy) {
        memset(c.entropy, 0x5a, sizeof(c.entropy));
    }
    tw_netdev dev = {fx_transmit, t, 1500};
    t->now = T0;
    if (tw_stack_new(&t->st, &c, &dev, t->now) != 0) {
        free(t);
        return NULL;
    }
    t->mem_base = tw_stack_mem_live(t->st);
    return t;
}

void tw_t_dump_trace(const tw_t *t)
{
    unsigned n = t->ntrace < TRACE_KEEP ? t->ntrace : TRACE_KEEP;
    fprintf(stderr, "last %u trace events:\n", n);
    for (unsigned i = t->ntrace - n; i < t->ntrace; i++) {
        fprintf(stderr, "  %s\n", t->trace[i % TRACE_KEEP]);
    }
}

static void drain(tw_t *t)
{
    while (t->qlen) {
        free(t->q[t->qhead].data);
        t->qhead = (t->qhead + 1) % MAXQ;
        t->qlen--;
    }
}

void tw_t_free(tw_t *t)
{
    if (!t) {
        return;
    }
    tw_stack_free(t->st);
    drain(t);
    size_t live = t->alloc.live;
    free(t);
    if (live != 0) {
        fail_msg("%zu bytes still allocated after tw_stack_free", live);
    }
}

tw_stack *tw_t_stack(tw_t *t)
{
    return t->st;
}

tw_t_alloc *tw_t_allocator(tw_t *t)
{
    return &t->alloc;
}

tw_time tw_t_now(const tw_t *t)
{
    return t->now;
}

uint64_t tw_t_counter(const tw_t *t, enum tw_counter c)
{
    return tw_stack_counter(t->st, c);
}

void tw_t_advance(tw_t *t, tw_time at)
{
    for (int guard = 0; guard < 1000000; guard++) {
        tw_time d = tw_stack_next_deadline(t->st);
        if (d > at) {
            break;
        }
        if (d > t->now) {
            t->now = d;
        }
        tw_stack_on_timeout(t->st, t->now);
    }
    if (at > t->now) {
        t->now = at;
    }
}

void tw_t_send_raw(tw_t *t, tw_time at, const uint8_t *pkt, size_t len)
{
    tw_t_advance(t, at);
    tw_stack_input(t->st, pkt, len, t->now);
    /* The host's loop ends its turn: held ACKs leave before the test acts again. */
    tw_t_advance(t, t->now);
}

void tw_t_send_at(tw_t *t, tw_time at, const tw_t_seg *s, const char *file, int line)
{
    uint8_t buf[70000];
    size_t n = tw_t_build(s, buf, sizeof buf);
    if (!n) {
        fail_msg("%s:%d: segment does not fit", file, line);
    }
    tw_t_send_raw(t, at, buf, n);
}

bool tw_t_pop(tw_t *t, tw_t_seg *out)
{
    if (!t->qlen && tw_stack_next_deadline(t->st) <= t->now) {
        tw_stack_on_timeout(t->st, t->now); /* a socket call may have left an ACK held */
    }
    if (!t->qlen) {
        return false;
    }
    qpkt *q = &t->q[t->qhead];
    bool ok = tw_t_parse(q->data, q->len, out, NULL, 0);
    free(q->data);
    t->qhead = (t->qhead + 1) % MAXQ;
    t->qlen--;
    if (!ok) {
        memset(out, 0, sizeof(*out));
    }
    return true;
}

size_t tw_t_pop_raw(tw_t *t, uint8_t *buf, size_t cap)
{
    if (!t->qlen) {
        return 0;
    }
    qpkt *q = &t->q[t->qhead];
    size_t n = q->len;
    memcpy(buf, q->data, n < cap ? n : cap);
    free(q->data);
    t->qhead = (t->qhead + 1) % MAXQ;
    t->qlen--;
    return n;
}

size_t tw_t_pending(const tw_t *t)
{
    return t->qlen;
}

static bool seg_match(const tw_t_seg *w, const tw_t_seg *g)
{
    uint8_t fmask = (w->any & TW_T_ANY_PSH) ? (uint8_t)~TW_PSH : 0xffu;
    if (w->src != g->src || w->dst != g->dst || w->dport != g->dport ||
        (w->flags & fmask) != (g->flags & fmask) || w->len != g->len || w->urg != g->urg) {
        return false;
    }
    if (!(w->any & TW_T_ANY_PORT) && w->sport != g->sport) {
        return false;
    }
    if (!(w->any & TW_T_ANY_SEQ) && w->seq != g->seq) {
        return false;
    }
    if (!(w->any & TW_T_ANY_ACK) && w->ack != g->ack) {
        return false;
    }
    if (!(w->any & TW_T_ANY_WIN) && w->win != g->win) {
        return false;
    }
    if (!(w->any & TW_T_ANY_OPTS)) {
        if (w->opts != g->opts) {
            return false;
        }
        if ((w->opts & TW_OPT_MSS) && w->mss != g->mss) {
            return false;
        }
        if ((w->opts & TW_OPT_WSCALE) && w->wscale != g->wscale) {
            return false;
        }
        if ((w->opts & TW_OPT_TS) &&
            ((!(w->any & TW_T_ANY_TSVAL) && w->ts_val != g->ts_val) || w->ts_ecr != g->ts_ecr)) {
            return false;
        }
    }
    return true;
}

tw_t_seg tw_t_expect(tw_t *t, const tw_t_seg *want, const char *file, int line)
{
    tw_t_seg got;
    char a[300], b[300];
    tw_t_format(want, a, sizeof a);
    if (!tw_t_pop(t, &got)) {
        tw_t_dump_trace(t);
        fail_msg("%s:%d: expected %s\n   but nothing was sent", file, line, a);
    }
    if (!seg_match(want, &got)) {
        tw_t_format(&got, b, sizeof b);
        tw_t_dump_trace(t);
        fail_msg("%s:%d: expected %s (any=0x%x)\n                got %s", file, line, a,
                 want->any, b);
    }
    return got;
}

void tw_t_expect_nothing(tw_t *t, const char *file, int line)
{
    tw_t_seg got;
    if (tw_t_pop(t, &got)) {
        char b[300];
        tw_t_format(&got, b, sizeof b);
        tw_t_dump_trace(t);
        fail_msg("%s:%d: expected nothing, got %s", file, line, b);
    }
}

tw_socket *tw_t_listen(tw_t *t, uint16_t port, int backlog)
{
    tw_socket *s;
    assert_int_equal(tw_socket_open(t->st, &s), 0);
    /* SO_REUSEADDR, as servers set it: a listener opened again on a port its predecessor's
       connections or TIME-WAIT records still hold needs it (as on Linux). */
    assert_int_equal(tw_socket_set_reuseaddr(s, true), 0);
    assert_int_equal(tw_socket_bind(s, port), 0);
    assert_int_equal(tw_socket_listen(s, backlog, t->now), 0);
    return s;
}

tw_socket *tw_t_connect(tw_t *t, uint32_t addr, uint16_t port, uint16_t lport)
{
    tw_socket *s;
    assert_int_equal(tw_socket_open(t->st, &s), 0);
    if (lport) {
        assert_int_equal(tw_socket_bind(s, lport), 0);
    }
    assert_int_equal(tw_socket_connect(s, addr, port, t->now), 0);
    return s;
}

size_t tw_t_mem_base(const tw_t *t)
{
    return t->mem_base;
}

void tw_t_assert_idle(tw_t *t, const char *file, int line)
{
    size_t conns = tw_stack_conn_count(t->st), tws = tw_stack_time_wait_count(t->st);
    size_t live = tw_stack_mem_live(t->st);
    tw_time d = tw_stack_next_deadline(t->st);
    if (conns || tws || d != TW_TIME_NEVER || live != t->mem_base) {
        tw_t_dump_trace(t);
        fail_msg("%s:%d: stack not idle: %zu connections, %zu TIME-WAIT records, deadline "
                 "%s, %zu bytes live (fresh stack: %zu)",
                 file, line, conns, tws, d == TW_TIME_NEVER ? "never" : "set", live,
                 t->mem_base);
    }
}

void tw_t_fix_csums(uint8_t *p, size_t len)
{
    if (len < 20) {
        return;
    }
    size_t ihl = (size_t)(p[0] & 15) * 4;
    size_t total = get16(p + 2);
    if (ihl < 20 || ihl > len) {
        return;
    }
    put16(p + 10, 0);
    put16(p + 10, csum_fold(csum_bytes(0, p, ihl)));
    if (p[9] != 6 || total > len || total < ihl + 18) {
        return;
    }
    uint8_t *t = p + ihl;
    size_t tl = total - ihl;
    uint32_t src = get32(p + 12), dst = get32(p + 16);
    put16(t + 16, 0);
    uint32_t sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 +
                   (uint32_t)tl;
    put16(t + 16, csum_fold(csum_bytes(sum, t, tl)));
}

tw_socket *tw_t_passive_open(tw_t *t, uint32_t peer_iss, const tw_t_seg *syn, tw_t_seg *synack,
                             const char *file, int line)
{
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    tw_t_seg in = syn ? *syn : IN(.flags = TW_SYN, .seq = peer_iss);
    tw_t_send_at(t, t->now, &in, file, line);
    tw_t_seg want = OUT(.flags = TW_SYN | TW_ACK, .ack = peer_iss + 1, .win = 65535,
                        .opts = TW_OPT_MSS, .mss = 1460, .any = TW_T_ANY_SEQ);
    if (in.opts & TW_OPT_TS) {
        want.opts |= TW_OPT_TS;
        want.ts_ecr = in.ts_val;
        want.any |= TW_T_ANY_TSVAL;
    }
    tw_t_seg sa = tw_t_expect(t, &want, file, line);
    tw_t_expect_nothing(t, file, line);
    tw_t_seg ack = IN(.flags = TW_ACK, .seq = peer_iss + 1, .ack = sa.seq + 1);
    if (in.opts & TW_OPT_TS) {
        ack.opts = TW_OPT_TS;
        ack.ts_val = in.ts_val + 1;
        ack.ts_ecr = sa.ts_val;
    }
    tw_t_send_at(t, t->now + TW_T_RTT, &ack, file, line);
    tw_t_expect_nothing(t, file, line);
    tw_socket *c = NULL;
    if (tw_socket_accept(l, &c, t->now) != 0 || tw_socket_state(c) != TW_STATE_ESTABLISHED) {
        tw_t_dump_trace(t);
        fail_msg("%s:%d: passive open did not reach ESTABLISHED", file, line);
    }
    tw_socket_close(l, t->now);
    tw_t_expect_nothing(t, file, line);
    if (synack) {
        *synack = sa;
    }
    return c;
}

tw_socket *tw_t_active_open(tw_t *t, uint32_t peer_iss, uint32_t *iss, const char *file,
                            int line)
{
    tw_socket *s = tw_t_connect(t, PEER, PPORT, LPORT);
    tw_t_seg want = OUT(.flags = TW_SYN, .ack = 0, .win = 65535,
                        .opts = TW_OPT_MSS | TW_OPT_SACK_PERM | TW_OPT_TS | TW_OPT_WSCALE,
                        .mss = 1460, .wscale = 7, .ts_ecr = 0,
                        .any = TW_T_ANY_SEQ | TW_T_ANY_TSVAL);
    tw_t_seg syn = tw_t_expect(t, &want, file, line);
    tw_t_expect_nothing(t, file, line);
    tw_t_seg sa = IN(.flags = TW_SYN | TW_ACK, .seq = peer_iss, .ack = syn.seq + 1,
                     .opts = TW_OPT_MSS, .mss = 1460);
    tw_t_send_at(t, t->now + TW_T_RTT, &sa, file, line);
    want = OUT(.flags = TW_ACK, .seq = syn.seq + 1, .ack = peer_iss + 1, .win = 65535);
    tw_t_expect(t, &want, file, line);
    tw_t_expect_nothing(t, file, line);
    if (tw_socket_state(s) != TW_STATE_ESTABLISHED) {
        tw_t_dump_trace(t);
        fail_msg("%s:%d: active open did not reach ESTABLISHED", file, line);
    }
    *iss = syn.seq;
    return s;
}

void tw_t_expect_deadline(tw_t *t, tw_time at, const char *file, int line)
{
    tw_time d = tw_stack_next_deadline(t->st);
    at = tw_t_ms_ceil(at);
    if (d == TW_TIME_NEVER || d > at) {
        tw_t_dump_trace(t);
        fail_msg("%s:%d: next deadline %.6f s is not at or before %.6f s (now %.6f s)", file,
                 line, d == TW_TIME_NEVER ? -1.0 : (double)d / 1e9, (double)at / 1e9,
                 (double)t->now / 1e9);
    }
}

void tw_t_run_to(tw_t *t, tw_time at, const char *file, int line)
{
    tw_t_expect_deadline(t, at, file, line);
    at = tw_t_ms_ceil(at);
    size_t q = t->qlen;
    unsigned n = t->ntimer;
    tw_t_advance(t, at - TW_MS(1));
    if (t->qlen != q || t->ntimer != n) {
        tw_t_dump_trace(t);
        fail_msg("%s:%d: a timer fired before %.6f s", file, line, (double)at / 1e9);
    }
    tw_t_advance(t, at);
    if (t->ntimer == n) {
        tw_t_dump_trace(t);
        fail_msg("%s:%d: no timer fired at %.6f s", file, line, (double)at / 1e9);
    }
}

/* ---- data transfer (SPEC D1-D5) ------------------------------------------------------ */

static void fmt_sack(const tw_t_seg *s, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < s->sack_n && i < 4 && n < cap; i++) {
        n += (size_t)snprintf(buf + n, cap - n, " %u-%u", s->sack[2 * i], s->sack[2 * i + 1]);
    }
}

tw_t_seg tw_t_expect_exact(tw_t *t, const tw_t_seg *want, const char *file, int line)
{
    char a[300], b[300], sa[100], sb[100];
    tw_t_format(want, a, sizeof a);
    fmt_sack(want, sa, sizeof sa);
    if (!t->qlen) {
        tw_t_dump_trace(t);
        fail_msg("%s:%d: expected %s sack[%s]\n   but nothing was sent", file, line, a, sa);
    }
    qpkt *q = &t->q[t->qhead];
    uint8_t payload[2048];
    tw_t_seg got;
    bool ok = tw_t_parse(q->data, q->len, &got, payload, sizeof payload);
    free(q->data);
    t->qhead = (t->qhead + 1) % MAXQ;
    t->qlen--;
    if (!ok) {
        memset(&got, 0, sizeof(got));
    }
    bool match = seg_match(want, &got);
    if (match && !(want->any & TW_T_ANY_OPTS) && (want->opts & TW_OPT_SACK)) {
        match = want->sack_n == got.sack_n &&
                memcmp(want->sack, got.sack, sizeof(uint32_t) * 2u * want->sack_n) == 0;
    }
    if (match && want->data && got.len <= sizeof payload) {
        match = memcmp(want->data, payload, got.len) == 0;
    }
    if (!match) {
        tw_t_format(&got, b, sizeof b);
        fmt_sack(&got, sb, sizeof sb);
        tw_t_dump_trace(t);
        fail_msg("%s:%d: expected %s sack[%s] (any=0x%x)\n                got %s sack[%s]%s",
                 file, line, a, sa, want->any, b, sb,
                 seg_match(want, &got) ? " (payload or SACK blocks differ)" : "");
    }
    return got;
}

uint32_t tw_t_tsval(const tw_t *t, const tw_t_conn *c)
{
    return c->ts_off + (uint32_t)(t->now / TW_MS(1));
}

tw_t_conn tw_t_open_with(tw_t *t, const tw_t_open_args *a, const char *file, int line)
{
    tw_t_conn c;
    memset(&c, 0, sizeof(c));
    tw_socket *l;
    assert_int_equal(tw_socket_open(t->st, &l), 0);
    assert_int_equal(tw_socket_bind(l, LPORT), 0);
    if (a->rcvbuf || a->sndbuf) {
        assert_int_equal(tw_socket_set_bufsizes(l, a->rcvbuf ? a->rcvbuf : 131072,
                                                a->sndbuf ? a->sndbuf : 131072),
                         0);
    }
    assert_int_equal(tw_socket_set_cc(l, a->cc), 0);
    if (a->on_listener) {
        a->on_listener(l);
    }
    assert_int_equal(tw_socket_listen(l, 8, t->now), 0);
    uint8_t opts = a->opts & (TW_OPT_WSCALE | TW_OPT_SACK_PERM | TW_OPT_TS);
    tw_t_seg syn = IN(.flags = TW_SYN, .seq = a->peer_iss, .opts = TW_OPT_MSS | opts,
                      .mss = 1460, .wscale = a->peer_wscale, .ts_val = a->peer_tsval);
    tw_t_send_at(t, t->now, &syn, file, line);
    /* Our shift: the smallest that lets the 16-bit field cover the buffer (RFC 7323 2.3):
       the one the listener's set buffer needs, else the one for the 6 MiB the default
       buffer may grow to (auto-tuning, as Linux: 7). */
    uint32_t buf = a->rcvbuf ? a->rcvbuf : 131072;
    uint32_t most = a->rcvbuf || a->sndbuf ? buf : 6u << 20; /* (set_bufsizes above) */
    uint8_t ws = 0;
    while (ws < 14 && (65535u << ws) < most) {
        ws++;
    }
    tw_t_seg want = OUT(.flags = TW_SYN | TW_ACK, .ack = a->peer_iss + 1,
                        .win = buf < 65535 ? (uint16_t)buf : 65535, .opts = TW_OPT_MSS | opts,
                        .mss = 1460, .wscale = ws, .ts_ecr = a->peer_tsval,
                        .any = TW_T_ANY_SEQ | TW_T_ANY_TSVAL);
    tw_t_seg sa = tw_t_expect(t, &want, file, line);
    tw_t_expect_nothing(t, file, line);
    tw_t_seg ack = IN(.flags = TW_ACK, .seq = a->peer_iss + 1, .ack = sa.seq + 1,
                      .win = a->peer_win ? a->peer_win : 65535);
    if (opts & TW_OPT_TS) {
        ack.opts = TW_OPT_TS;
        ack.ts_val = a->peer_tsval + 1;
        ack.ts_ecr = sa.ts_val;
    }
    tw_t_send_at(t, t->now + TW_T_RTT, &ack, file, line);
    tw_t_expect_nothing(t, file, line);
    if (tw_socket_accept(l, &c.s, t->now) != 0 || tw_socket_state(c.s) != TW_STATE_ESTABLISHED) {
        tw_t_dump_trace(t);
        fail_msg("%s:%d: passive open did not reach ESTABLISHED", file, line);
    }
    tw_socket_close(l, t->now);
    tw_t_expect_nothing(t, file, line);
    c.iss = sa.seq;
    c.irs = a->peer_iss;
    c.snd = sa.seq + 1;
    c.rcv = a->peer_iss + 1;
    c.opts = opts;
    c.wscale = (opts & TW_OPT_WSCALE) ? ws : 0;
    c.peer_wscale = (opts & TW_OPT_WSCALE) ? a->peer_wscale : 0;
    c.mss = (opts & TW_OPT_TS) ? 1448 : 1460;
    c.ts_off = sa.ts_val - (uint32_t)((t->now - TW_T_RTT) / TW_MS(1));
    c.peer_ts = a->peer_tsval + 1;
    return c;
}

int tw_t_setup(void **state)
{
    *state = tw_t_new(NULL);
    return *state ? 0 : -1;
}

int tw_t_teardown(void **state)
{
    tw_t_free(*state);
    return 0;
}
