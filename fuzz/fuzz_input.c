/*
 * fuzz_input.c -- libFuzzer harness: two stacks on a wire the input controls, driven by an
 * operation sequence (deliver/drop/duplicate/corrupt packets, crafted segments, time,
 * socket calls, allocation and transmit failures). Encoding: fuzz_input.h.
 *
 * After every operation and every timer firing the harness checks, through the public
 * API only (tcpwave.h):
 *  - every held socket: snd_una <= snd_nxt (RFC 9293 3.3.1, modulo 2^32, S19), both at or
 *    after the ISS; bytes_in_flight covers snd_nxt - snd_una and fits in what is queued
 *    (+ SYN + FIN); rcv_nxt = irs + 1 + bytes received (+ FIN); snd_una = iss + 1 + bytes
 *    acked (+ FIN); rx/tx pending within the buffer sizes; events consistent with state and
 *    error;
 *  - every stack: live bytes = what the allocator holds, <= max_memory when set; time never
 *    reported as going backwards; after on_timeout(now) the next deadline is later than
 *    now (otherwise a host loop would spin);
 *  - every transmitted packet: a well-formed IPv4 packet from the stack's address, within
 *    the MTU, with valid IP and TCP/ICMP checksums and a sane TCP header;
 *  - trace events (a header bit may run either stack without the hook): legal state edges
 *    (RFC 9293 figure 5), `now` as given, and a hook that calls back into the stack gets
 *    TW_ERR_BUSY;
 *  - data: bytes one stack sends to the other arrive in order and intact (D1) unless a
 *    crafted segment touched that connection;
 * and at the end closes every socket, runs time past every retry and 2*MSL, and requires
 * no connection, no TIME-WAIT record, and after tw_stack_free no live byte.
 */
#include "tcpwave.h"
#include "fuzz_input.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXH 16        /* socket handles per stack */
#define QMAX 128       /* packets waiting on the wire */
#define PKT_CAP 2048   /* largest packet kept on the wire */
#define MAXFLOW 256
#define MAX_OPS 400
#define DELIVER_ALL_MAX 1024
#define TIMER_ITER_MAX 200000
#define TEARDOWN_HORIZON TW_SEC(6 * 3600)
#define TEARDOWN_ITER_MAX 400000

#define FAIL(...)                                                                          \
    do {                                                                                   \
        fprintf(stderr, "fuzz_input: invariant violated at %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                                                      \
        fprintf(stderr, "\n");                                                             \
        fz_dump();                                                                         \
        abort();                                                                           \
    } while (0)

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            FAIL(__VA_ARGS__);                                                             \
        }                                                                                  \
    } while (0)

/* A check with a name can be switched off by listing the name in the environment
   variable FUZZ_IGNORE (comma-separated): how a known, reported, still open bug is kept
   from hiding every other finding (tests/fuzz/known_open lists them). */
static bool ignored(const char *name)
{
    static const char *list;
    static bool init;
    if (!init) {
        list = getenv("FUZZ_IGNORE");
        init = true;
    }
    if (!list) {
        return false;
    }
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n) {
        bool start = p == list || p[-1] == ',';
        bool end = p[n] == '\0' || p[n] == ',';
        if (start && end) {
            return true;
        }
    }
    return false;
}

#define CHECKN(name, cond, ...)                                                            \
    do {                                                                                   \
        if (!(cond) && !ignored(name)) {                                                   \
            fprintf(stderr, "[%s] ", name);                                    \
            FAIL(__VA_ARGS__);                                                             \
        }                                                                                  \
    } while (0)

/* ---- the input reader: missing bytes read as zero ----------------------------------- */

typedef struct rd {
    const uint8_t *p;
    size_t n;
} rd;

static uint8_t u8(rd *r)
{
    if (!r->n) {
        return 0;
    }
    r->n--;
    return *r->p++;
}

static uint16_t u16(rd *r)
{
    uint16_t hi = u8(r);
    return (uint16_t)(hi << 8 | u8(r));
}

static uint32_t u32(rd *r)
{
    uint32_t hi = u16(r);
    return hi << 16 | u16(r);
}

/* ---- state -------------------------------------------------------------------------- */

typedef struct handle {
    tw_socket *s;
    uint64_t tx_off, rx_off;  /* stream offsets of the data pattern */
    uint32_t rcvcap, sndcap;  /* buffer sizes this socket must respect */
    uint32_t rcvhold, sndhold; /* what earlier, larger sizes still allow (check_handle) */
    bool rcvset, sndset;      /* set by set_bufsizes (fixed); else auto-tuning may grow it */
    bool shut_rd, eof;
    bool listener;
    uint16_t listen_port;
} handle;

/* What the trace said about one connection: its state and the last timer that fired. */
typedef struct conn_seen {
    uint64_t id;
    uint8_t state, timer;
} conn_seen;

#define CONN_SEEN 512

typedef struct node {
    int idx;
    conn_seen seen[CONN_SEEN]; /* open addressing on id; id 0 = free */
    bool seen_full;
    uint32_t addr;
    tw_stack *st;
    tw_allocator a;
    size_t live, peak;
    uint64_t calls, fail_at, failures;
    size_t budget;
    uint16_t mtu;
    uint32_t rcvbuf, sndbuf;
    handle h[MAXH];
    int nh;
    bool fail_tx;
    uint64_t backwards; /* times OP_MISUSE made time go backwards on purpose */
} node;

typedef struct side {
    uint32_t addr;
    uint16_t port;
    bool have_isn, have_nxt, have_ack, have_ts;
    uint32_t isn, nxt, ack, ts_val;
    uint8_t syn_opts[40];
    uint8_t syn_optlen;
} side;

typedef struct flow {
    side s[2];
    bool tainted[2]; /* side i received crafted input: its data cannot be checked */
    bool used;
} flow;

typedef struct qpkt {
    uint16_t len;
    tw_time sent;
    uint8_t b[PKT_CAP];
} qpkt;

static struct fz {
    node n[2];
    tw_time now, msl;
    qpkt q[QMAX];
    int qn;
    uint64_t q_overflow;
    flow f[MAXFLOW];
    int fnext;
    bool integrity_off; /* a flow with history was forgotten: data checks are off */
    bool verbose;       /* FUZZ_VERBOSE set: narrate ops and trace events on stderr */
    int op_index;
    int last_op;
} fz;

static const uint32_t fz_bufs[8] = {0, 1024, 2048, 4096, 8192, 65535, 65536, 262144};
static const uint16_t fz_mtus[4] = {1500, 576, 1280, 1500};
static const uint16_t fz_ports[8] = {80, 81, 443, 0, 1, 65535, 32768, 40000};
static const tw_time fz_steps[8] = FZ_STEPS;

static void fz_dump(void)
{
    fprintf(stderr, "  after op #%d (opcode %d), now=%llu ns, %d packets queued\n",
            fz.op_index, fz.last_op, (unsigned long long)fz.now, fz.qn);
    for (int i = 0; i < 2; i++) {
        node *nd = &fz.n[i];
        if (!nd->st) {
            continue;
        }
        fprintf(stderr, "  stack %c: conns=%zu time_wait=%zu live=%zu (allocator %zu) "
                        "budget=%zu handles=%d deadline=%llu\n",
                'A' + i, tw_stack_conn_count(nd->st), tw_stack_time_wait_count(nd->st),
                tw_stack_mem_live(nd->st), nd->live, nd->budget, nd->nh,
                (unsigned long long)tw_stack_next_deadline(nd->st));
        for (int c = 0; c < TW_CNT_COUNT_; c++) {
            uint64_t v = tw_stack_counter(nd->st, (enum tw_counter)c);
            if (v) {
                fprintf(stderr, "    %s=%llu\n", tw_counter_name((enum tw_counter)c),
                        (unsigned long long)v);
            }
        }
        for (int k = 0; k < nd->nh; k++) {
            tw_socket_info in;
            if (tw_socket_info_get(nd->h[k].s, &in) == 0) {
                fprintf(stderr, "    handle %d: %s %u->%08x:%u iss=%u irs=%u una=%u nxt=%u "
                                "rcv_nxt=%u inflight=%u rx=%u tx=%u err=%s\n",
                        k, tw_state_name(in.state), in.local_port, in.remote_addr,
                        in.remote_port, in.iss, in.irs, in.snd_una, in.snd_nxt, in.rcv_nxt,
                        in.bytes_in_flight, in.rx_pending, in.tx_pending,
                        tw_error_name(tw_socket_error(nd->h[k].s)));
            }
        }
    }
}

/* ---- counting allocator: the input decides which allocation fails ----------------- */

#define HDR 16 /* keeps the size in front of each block to check the size given at free */

static void *fz_alloc(size_t size, void *ud)
{
    node *nd = ud;
    nd->calls++;
    if (nd->fail_at && nd->calls == nd->fail_at) {
        nd->fail_at = 0;
        nd->failures++;
        return NULL;
    }
    uint8_t *p = malloc(size + HDR);
    if (!p) {
        return NULL;
    }
    memcpy(p, &size, sizeof(size));
    nd->live += size;
    if (nd->live > nd->peak) {
        nd->peak = nd->live;
    }
    return p + HDR;
}

static void fz_free(void *ptr, size_t size, void *ud)
{
    node *nd = ud;
    CHECK(ptr != NULL, "stack %c freed NULL through the allocator", 'A' + nd->idx);
    uint8_t *p = (uint8_t *)ptr - HDR;
    size_t was;
    memcpy(&was, p, sizeof(was));
    CHECK(was == size, "stack %c freed a block of %zu bytes as %zu bytes", 'A' + nd->idx,
          was, size);
    CHECK(nd->live >= size, "stack %c freed more than it holds", 'A' + nd->idx);
    nd->live -= size;
    free(p);
}

/* ---- checksums (RFC 1071), our own so the stack's are checked independently --------- */

static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        acc += (uint32_t)p[i] << 8 | p[i + 1];
    }
    if (n & 1) {
        acc += (uint32_t)p[n - 1] << 8;
    }
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16) {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    return (uint16_t)~acc;
}

static uint32_t pseudo(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + (uint32_t)len;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* Sequence comparison modulo 2^32 (RFC 9293 3.4). */
static int32_t sdiff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

/* ---- the data pattern: byte `off` of the stream from (addr, sport) to dport ----------- */

static uint8_t pat(uint32_t addr, uint16_t sport, uint16_t dport, uint64_t off)
{
    uint32_t key = addr * 0x9e3779b1u ^ ((uint32_t)sport << 16 | dport);
    uint32_t x = (uint32_t)off * 2654435761u ^ (uint32_t)(off >> 32) ^ key;
    x ^= x >> 15;
    x *= 0x2c1b3c6du;
    return (uint8_t)(x >> 24);
}

/* ---- flows: what each end of a 4-tuple has put on the wire --------------------------- */

static flow *flow_find(uint32_t a1, uint16_t p1, uint32_t a2, uint16_t p2, int *side_of_1)
{
    for (int i = 0; i < MAXFLOW; i++) {
        flow *f = &fz.f[i];
        if (!f->used) {
            continue;
        }
        for (int k = 0; k < 2; k++) {
            if (f->s[k].addr == a1 && f->s[k].port == p1 && f->s[1 - k].addr == a2 &&
                f->s[1 - k].port == p2) {
                *side_of_1 = k;
                return f;
            }
        }
    }
    return NULL;
}

static bool both_real(const flow *f)
{
    bool r0 = f->s[0].addr == FZ_ADDR_A || f->s[0].addr == FZ_ADDR_B;
    bool r1 = f->s[1].addr == FZ_ADDR_A || f->s[1].addr == FZ_ADDR_B;
    return r0 && r1;
}

static flow *flow_get(uint32_t a1, uint16_t p1, uint32_t a2, uint16_t p2, int *side_of_1)
{
    flow *f = flow_find(a1, p1, a2, p2, side_of_1);
    if (f) {
        return f;
    }
    /* Make room: a free slot, else a flow with a phantom peer (its data is never checked),
       else forget one between the two stacks and stop checking data from then on. */
    int slot = -1;
    for (int i = 0; i < MAXFLOW && slot < 0; i++) {
        if (!fz.f[i].used) {
            slot = i;
        }
    }
    for (int i = 0; i < MAXFLOW && slot < 0; i++) {
        int k = (fz.fnext + i) % MAXFLOW;
        if (!both_real(&fz.f[k])) {
            slot = k;
        }
    }
    if (slot < 0) {
        slot = fz.fnext;
        fz.integrity_off = true;
    }
    fz.fnext = (slot + 1) % MAXFLOW;
    f = &fz.f[slot];
    memset(f, 0, sizeof(*f));
    f->used = true;
    f->s[0].addr = a1;
    f->s[0].port = p1;
    f->s[1].addr = a2;
    f->s[1].port = p2;
    *side_of_1 = 0;
    return f;
}

/* Crafted bytes reach (dst, dport) from (src, sport): that receiver's data is unknown. */
static void taint(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
    int k;
    flow *f = flow_get(dst, dport, src, sport, &k);
    f->tainted[k] = true;
}

/* Scan TCP options for the timestamp value; false when there is none. */
static bool opt_ts(const uint8_t *o, size_t n, uint32_t *val)
{
    size_t i = 0;
    while (i < n) {
        if (o[i] == 0) {
            break;
        }
        if (o[i] == 1) {
            i++;
            continue;
        }
        if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n) {
            break;
        }
        if (o[i] == 8 && o[i + 1] == 10) {
            *val = get32(o + i + 2);
            return true;
        }
        i += o[i + 1];
    }
    return false;
}

/* Note a TCP segment seen on the wire (sent by a stack or crafted by the input). */
static void flow_note(uint32_t src, uint32_t dst, const uint8_t *tcp, size_t tlen)
{
    if (tlen < 20) {
        return;
    }
    size_t hl = (size_t)(tcp[12] >> 4) * 4;
    if (hl < 20 || hl > tlen) {
        return;
    }
    uint16_t sport = get16(tcp), dport = get16(tcp + 2);
    uint32_t seq = get32(tcp + 4), ack = get32(tcp + 8);
    uint8_t fl = tcp[13];
    int k;
    flow *f = flow_get(src, sport, dst, dport, &k);
    side *s = &f->s[k];
    uint32_t seglen = (uint32_t)(tlen - hl) + ((fl & TW_SYN) ? 1u : 0u) + ((fl & TW_FIN) ? 1u : 0u);
    if (fl & TW_RST) {
        return; /* a RST's numbers say nothing about the sender's stream */
    }
    if (fl & TW_SYN) {
        if (s->have_isn && s->isn != seq) {
            /* A new incarnation of the 4-tuple: old segments may still be around, so
               neither side's data can be checked byte for byte any more. */
            f->tainted[0] = f->tainted[1] = true;
            s->have_nxt = false;
        }
        s->have_isn = true;
        s->isn = seq;
        s->syn_optlen = (uint8_t)(hl - 20);
        memcpy(s->syn_opts, tcp + 20, hl - 20);
    }
    uint32_t end = seq + seglen;
    if (!s->have_nxt || sdiff(end, s->nxt) > 0) {
        s->nxt = end;
        s->have_nxt = true;
    }
    if (fl & TW_ACK) {
        s->ack = ack;
        s->have_ack = true;
    }
    uint32_t tsv;
    if (opt_ts(tcp + 20, hl - 20, &tsv)) {
        s->ts_val = tsv;
        s->have_ts = true;
    }
}

/* ---- outgoing packets: validate, note, queue ------------------------------------------ */

static node *node_by_addr(uint32_t addr)
{
    for (int i = 0; i < 2; i++) {
        if (fz.n[i].addr == addr && fz.n[i].st) {
            return &fz.n[i];
        }
    }
    return NULL;
}

static void check_out_packet(const node *nd, const uint8_t *p, size_t len)
{
    CHECK(len >= 20, "stack %c sent a %zu-byte packet", 'A' + nd->idx, len);
    CHECKN("mtu", len <= nd->mtu, "stack %c sent %zu bytes over an MTU of %u", 'A' + nd->idx,
           len, nd->mtu);
    CHECK(p[0] == 0x45, "stack %c sent IPv4 version/IHL %02x", 'A' + nd->idx, p[0]);
    CHECK(get16(p + 2) == len, "stack %c: IPv4 total length %u for %zu bytes", 'A' + nd->idx,
          get16(p + 2), len);
    CHECK(fold(sum16(0, p, 20)) == 0, "stack %c sent a bad IPv4 header checksum",
          'A' + nd->idx);
    CHECK(get32(p + 12) == nd->addr, "stack %c sent from %08x", 'A' + nd->idx, get32(p + 12));
    /* Only an echo reply larger than the MTU leaves in fragments (RFC 1122 3.2.2.6); its
       checksum spans them all. */
    bool frag = (get16(p + 6) & 0x3fff) != 0;
    CHECK(!frag || p[9] == 1, "stack %c sent a TCP fragment", 'A' + nd->idx);
    uint32_t dst = get32(p + 16);
    const uint8_t *t = p + 20;
    size_t tl = len - 20;
    if (p[9] == 6) {
        CHECK(tl >= 20, "stack %c sent a truncated TCP header", 'A' + nd->idx);
        size_t hl = (size_t)(t[12] >> 4) * 4;
        CHECK(hl >= 20 && hl <= tl, "stack %c sent TCP data offset %zu in %zu bytes",
              'A' + nd->idx, hl, tl);
        CHECK(fold(sum16(pseudo(nd->addr, dst, 6, tl), t, tl)) == 0,
              "stack %c sent a bad TCP checksum", 'A' + nd->idx);
        uint8_t fl = t[13];
        CHECK(!((fl & TW_SYN) && (fl & (TW_FIN | TW_RST))), "stack %c sent flags %02x",
              'A' + nd->idx, fl);
        CHECK(fl & (TW_SYN | TW_ACK | TW_RST | TW_FIN), "stack %c sent no control bit",
              'A' + nd->idx);
        CHECK(get16(t) != 0 && get16(t + 2) != 0, "stack %c sent TCP port 0", 'A' + nd->idx);
        CHECK(!(fl & TW_RST) || hl == tl, "stack %c sent a RST carrying data", 'A' + nd->idx);
        flow_note(nd->addr, dst, t, tl);
    } else if (p[9] == 1) {
        CHECK(frag || fold(sum16(0, t, tl)) == 0, "stack %c sent a bad ICMP checksum",
              'A' + nd->idx);
    } else {
        FAIL("stack %c sent IP protocol %u", 'A' + nd->idx, p[9]);
    }
}

static int fz_transmit(const uint8_t *pkt, size_t len, void *ud)
{
    node *nd = ud;
    /* A hook must not re-enter the stack; if it does, the call is refused. */
    uint8_t dummy[20] = {0x45};
    CHECK(tw_stack_input(nd->st, dummy, sizeof(dummy), fz.now) == TW_ERR_BUSY,
          "tw_stack_input from inside transmit was not refused");
    CHECK(tw_stack_on_timeout(nd->st, fz.now) == TW_ERR_BUSY,
          "tw_stack_on_timeout from inside transmit was not refused");
    check_out_packet(nd, pkt, len);
    if (nd->fail_tx) {
        nd->fail_tx = false;
        return 1;
    }
    if (!node_by_addr(get32(pkt + 16))) {
        return 0; /* for a phantom peer: noted above, nobody receives it */
    }
    if (fz.qn == QMAX || len > PKT_CAP) {
        fz.q_overflow++;
        return 0; /* a congested link loses it */
    }
    qpkt *q = &fz.q[fz.qn++];
    q->len = (uint16_t)len;
    q->sent = fz.now;
    memcpy(q->b, pkt, len);
    return 0;
}

/* ---- hooks ------------------------------------------------------------------------- */

#define BIT(s) (1u << (s))

/* RFC 9293 figure 5, plus abort to CLOSED from anywhere and R1/R2's edges. */
static const uint16_t rfc_next[TW_STATE_COUNT_] = {
    [TW_STATE_CLOSED] = BIT(TW_STATE_LISTEN) | BIT(TW_STATE_SYN_SENT) | BIT(TW_STATE_SYN_RCVD),
    [TW_STATE_LISTEN] = BIT(TW_STATE_CLOSED) | BIT(TW_STATE_SYN_RCVD) | BIT(TW_STATE_SYN_SENT),
    [TW_STATE_SYN_SENT] = BIT(TW_STATE_SYN_RCVD) | BIT(TW_STATE_ESTABLISHED) |
                          BIT(TW_STATE_CLOSED),
    [TW_STATE_SYN_RCVD] = BIT(TW_STATE_ESTABLISHED) | BIT(TW_STATE_FIN_WAIT_1) |
                          BIT(TW_STATE_CLOSE_WAIT) | BIT(TW_STATE_CLOSED) | BIT(TW_STATE_LISTEN),
    [TW_STATE_ESTABLISHED] = BIT(TW_STATE_FIN_WAIT_1) | BIT(TW_STATE_CLOSE_WAIT) |
                             BIT(TW_STATE_CLOSED),
    [TW_STATE_FIN_WAIT_1] = BIT(TW_STATE_FIN_WAIT_2) | BIT(TW_STATE_CLOSING) |
                            BIT(TW_STATE_TIME_WAIT) | BIT(TW_STATE_CLOSED),
    [TW_STATE_FIN_WAIT_2] = BIT(TW_STATE_TIME_WAIT) | BIT(TW_STATE_CLOSED),
    [TW_STATE_CLOSE_WAIT] = BIT(TW_STATE_LAST_ACK) | BIT(TW_STATE_CLOSED),
    [TW_STATE_CLOSING] = BIT(TW_STATE_TIME_WAIT) | BIT(TW_STATE_CLOSED),
    [TW_STATE_LAST_ACK] = BIT(TW_STATE_CLOSED),
    [TW_STATE_TIME_WAIT] = BIT(TW_STATE_CLOSED),
};

static void seen_note(node *nd, uint64_t id, tw_state st, int timer)
{
    for (unsigned i = 0; i < CONN_SEEN; i++) {
        conn_seen *c = &nd->seen[(id + i) % CONN_SEEN];
        if (c->id == id || (c->id == 0 && st != TW_STATE_CLOSED)) {
            c->id = id;
            c->state = (uint8_t)st;
            if (timer >= 0) {
                c->timer = (uint8_t)timer;
            }
            return;
        }
        if (c->id == 0) {
            return; /* CLOSED and never seen alive: nothing to remember */
        }
    }
    nd->seen_full = true;
}

static void fz_trace(const tw_trace_event *ev, void *ud)
{
    node *nd = ud;
    CHECK(ev->kind >= TW_TRACE_SEG_IN && ev->kind <= TW_TRACE_TIMER, "trace kind %d",
          (int)ev->kind);
    CHECK(ev->now == fz.now, "trace event at %llu while now is %llu",
          (unsigned long long)ev->now, (unsigned long long)fz.now);
    CHECK((unsigned)ev->old_state < TW_STATE_COUNT_ && (unsigned)ev->new_state < TW_STATE_COUNT_,
          "trace states %d -> %d", (int)ev->old_state, (int)ev->new_state);
    if (fz.verbose) {
        static const char *kinds[] = {"?", "in", "out", "state", "drop", "timer"};
        const tw_seg_summary *g = &ev->seg;
        fprintf(stderr, "  [%c %.6f] %-5s conn=%llu %s->%s", 'A' + nd->idx,
                (double)ev->now / 1e9, kinds[ev->kind], (unsigned long long)ev->conn_id,
                tw_state_name(ev->old_state), tw_state_name(ev->new_state));
        if (ev->kind == TW_TRACE_DROP) {
            fprintf(stderr, " %s", tw_counter_name(ev->counter));
        }
        if (ev->kind == TW_TRACE_TIMER) {
            fprintf(stderr, " timer=%d", (int)ev->timer);
        }
        if (ev->kind != TW_TRACE_STATE && ev->kind != TW_TRACE_TIMER && g->sport) {
            fprintf(stderr, " %u->%u fl=%02x seq=%u ack=%u len=%u win=%u", g->sport, g->dport,
                    g->flags, g->seq, g->ack, g->len, g->win);
        }
        fprintf(stderr, "\n");
    }
    if (ev->conn_id && (ev->kind == TW_TRACE_STATE || ev->kind == TW_TRACE_TIMER)) {
        seen_note(nd, ev->conn_id, ev->new_state, ev->kind == TW_TRACE_TIMER ? ev->timer : -1);
    }
    if (ev->kind == TW_TRACE_STATE) {
        CHECK(ev->old_state != ev->new_state && (rfc_next[ev->old_state] & BIT(ev->new_state)),
              "stack %c: state edge %s -> %s is not in RFC 9293's diagram", 'A' + nd->idx,
              tw_state_name(ev->old_state), tw_state_name(ev->new_state));
    }
    if (ev->kind == TW_TRACE_DROP) {
        CHECK((unsigned)ev->counter < TW_CNT_COUNT_, "drop counter %d", (int)ev->counter);
    }
    if (nd->st) {
        tw_socket *s = NULL;
        CHECK(tw_socket_open(nd->st, &s) == TW_ERR_BUSY,
              "tw_socket_open from inside the trace hook was not refused");
    }
}

static void fz_notify(tw_socket *s, unsigned events, void *ud)
{
    node *nd = ud;
    CHECK((events & ~0x7fu) == 0, "notify with unknown event bits %x", events);
    bool held = false;
    for (int k = 0; k < nd->nh; k++) {
        held |= nd->h[k].s == s;
    }
    CHECK(held, "stack %c notified a socket the application does not hold", 'A' + nd->idx);
    /* Every call that could change something is refused from a hook (tcpwave.h), the
       settings included. */
    CHECK(tw_socket_send(s, "x", 1, fz.now) == TW_ERR_BUSY, "send from notify not refused");
    CHECK(tw_socket_close(s, fz.now) == TW_ERR_BUSY, "close from notify not refused");
    CHECK(tw_socket_set_cc(s, TW_CC_NEWRENO) == TW_ERR_BUSY, "set_cc from notify not refused");
    CHECK(tw_socket_set_linger0(s, true) == TW_ERR_BUSY, "set_linger0 from notify not refused");
    CHECK(tw_socket_set_user_timeout(s, TW_SEC(1)) == TW_ERR_BUSY,
          "set_user_timeout from notify not refused");
    CHECK(tw_socket_set_keepalive(s, true, 0, 0, 0) == TW_ERR_BUSY,
          "set_keepalive from notify not refused");
}

/* ---- invariants ------------------------------------------------------------------------ */

static bool is_sticky(int e)
{
    return e == 0 || e == TW_ERR_RESET || e == TW_ERR_REFUSED || e == TW_ERR_TIMEDOUT ||
           e == TW_ERR_ABORTED;
}

static void check_handle(node *nd, handle *h)
{
    tw_socket_info in;
    char who[48];
    snprintf(who, sizeof(who), "stack %c socket %d", 'A' + nd->idx, (int)(h - nd->h));
    CHECK(tw_socket_info_get(h->s, &in) == 0, "%s: info_get failed", who);
    CHECK((unsigned)in.state < TW_STATE_COUNT_, "%s: state %d", who, (int)in.state);
    CHECK(in.state == tw_socket_state(h->s), "%s: state disagrees with info", who);
    CHECK(in.rx_pending == tw_socket_rx_pending(h->s) || h->shut_rd,
          "%s: rx_pending %u vs %zu", who, in.rx_pending, tw_socket_rx_pending(h->s));
    CHECK(in.tx_pending == tw_socket_tx_pending(h->s), "%s: tx_pending %u vs %zu", who,
          in.tx_pending, tw_socket_tx_pending(h->s));
    /* A lowered limit keeps what was held and, for receiving, what was advertised: the
       bound is the limit, or what the previous one allowed until it drains below. */
    /* A buffer the application set stays as set; another one may grow by auto-tuning
       (never shrink), up to the stack's ceiling (its defaults: 6 MiB and 4 MiB), and its
       grown size is the bound from then on. (An accepted child's set-ness is its
       listener's, not tracked: its buffers are taken as may-grow.) */
    CHECK(h->rcvset ? in.rcvbuf == h->rcvcap
                    : in.rcvbuf >= h->rcvcap && in.rcvbuf <= (h->rcvcap > (6u << 20) ? h->rcvcap : 6u << 20),
          "%s: receive limit %u, set %u%s", who, in.rcvbuf, h->rcvcap, h->rcvset ? "" : " (may grow)");
    CHECK(h->sndset ? in.sndbuf == h->sndcap
                    : in.sndbuf >= h->sndcap && in.sndbuf <= (h->sndcap > (4u << 20) ? h->sndcap : 4u << 20),
          "%s: send limit %u, set %u%s", who, in.sndbuf, h->sndcap, h->sndset ? "" : " (may grow)");
    h->rcvcap = in.rcvbuf;
    h->sndcap = in.sndbuf;
    uint32_t rb = h->rcvcap > h->rcvhold ? h->rcvcap : h->rcvhold;
    uint32_t sb = h->sndcap > h->sndhold ? h->sndcap : h->sndhold;
    CHECK(in.rx_pending <= rb, "%s: %u bytes to read in a %u-byte buffer", who,
          in.rx_pending, rb);
    CHECK(in.tx_pending <= sb, "%s: %u bytes queued in a %u-byte buffer", who,
          in.tx_pending, sb);
    /* (a buffer below one unit of the window scale is offered one unit, as Linux's:
       tcp_out.c sws_space) */
    uint32_t unit = in.has_wscale ? 1u << in.rcv_wscale : 1u;
    uint32_t rbw = rb < unit ? unit : rb;
    CHECK(in.rcv_wnd <= rbw, "%s: window %u beyond a %u-byte buffer", who, in.rcv_wnd, rb);
    CHECK(h->shut_rd || in.rx_pending + in.rcv_wnd <= rbw,
          "%s: %u bytes unread and a window of %u in a %u-byte buffer", who, in.rx_pending,
          in.rcv_wnd, rb);
    if (in.rx_pending + in.rcv_wnd < h->rcvhold) {
        h->rcvhold = in.rx_pending + in.rcv_wnd;
    }
    if (in.tx_pending < h->sndhold) {
        h->sndhold = in.tx_pending;
    }
    int err = tw_socket_error(h->s);
    CHECK(is_sticky(err), "%s: sticky error %d", who, err);
    unsigned ev = tw_socket_events(h->s);
    CHECK((ev & ~0x7fu) == 0, "%s: events %x", who, ev);
    CHECK(!(ev & TW_EV_ERROR) == !err, "%s: EV_ERROR %x with error %d", who, ev, err);
    CHECK(!err || in.state == TW_STATE_CLOSED, "%s: error %s in %s", who, tw_error_name(err),
          tw_state_name(in.state));
    CHECK(!(ev & TW_EV_CLOSED) || in.state == TW_STATE_CLOSED, "%s: EV_CLOSED in %s", who,
          tw_state_name(in.state));
    CHECK(!in.rx_pending || h->shut_rd || (ev & TW_EV_READABLE),
          "%s: %u bytes to read but not READABLE", who, in.rx_pending);
    CHECK(!(ev & TW_EV_WRITABLE) ||
              in.state == TW_STATE_ESTABLISHED || in.state == TW_STATE_CLOSE_WAIT,
          "%s: writable in %s", who, tw_state_name(in.state));
    if (h->listener) {
        CHECK(in.state == TW_STATE_LISTEN, "%s: listener in %s", who, tw_state_name(in.state));
        CHECK((ev & ~TW_EV_ACCEPTABLE) == 0, "%s: listener events %x", who, ev);
        return;
    }
    CHECK(in.state != TW_STATE_LISTEN, "%s: LISTEN without listen()", who);
    if (in.state == TW_STATE_CLOSED) {
        return; /* fresh, or over: the sequence variables are history */
    }
    /* RFC 9293 3.3.1: SND.UNA <= SND.NXT, and nothing before the ISS. */
    CHECK(sdiff(in.snd_nxt, in.snd_una) >= 0, "%s: snd_una %u beyond snd_nxt %u", who,
          in.snd_una, in.snd_nxt);
    CHECK(sdiff(in.snd_una, in.iss) >= 0, "%s: snd_una %u before iss %u", who, in.snd_una,
          in.iss);
    CHECK((uint32_t)(in.snd_nxt - in.snd_una) <= in.bytes_in_flight,
          "%s: in flight %u < snd_nxt - snd_una = %u", who, in.bytes_in_flight,
          in.snd_nxt - in.snd_una);
    if (in.state != TW_STATE_TIME_WAIT) {
        CHECK(in.bytes_in_flight <= in.tx_pending + 2u,
              "%s: %u bytes in flight but only %u queued (+SYN+FIN)", who,
              in.bytes_in_flight, in.tx_pending);
    }
    if (ev & TW_EV_CONNECTED) {
        uint32_t extra = in.snd_una - in.iss - 1u - (uint32_t)in.bytes_acked;
        CHECK(extra <= 1u, "%s: snd_una %u != iss %u + 1 + acked %llu (+FIN)", who,
              in.snd_una, in.iss, (unsigned long long)in.bytes_acked);
    }
    if (in.state != TW_STATE_SYN_SENT && !h->shut_rd) {
        uint32_t fin = (ev & TW_EV_PEER_CLOSED) ? 1u : 0u;
        CHECK(in.rcv_nxt == in.irs + 1u + (uint32_t)in.bytes_received + fin,
              "%s: rcv_nxt %u != irs %u + 1 + received %llu + fin %u", who, in.rcv_nxt,
              in.irs, (unsigned long long)in.bytes_received, fin);
    }
    CHECK(in.snd_mss > 0 && in.snd_mss <= nd->mtu - 40u, "%s: snd_mss %u with MTU %u", who,
          in.snd_mss, nd->mtu);
    /* Liveness: a connection with something unacknowledged (a SYN, data, a FIN) or in
       TIME-WAIT ends or moves on only by a timer if the peer falls silent, so the stack
       must have a deadline pending (a connection without one waits for ever). */
    bool timed = in.bytes_in_flight > 0 || in.state == TW_STATE_SYN_SENT ||
                 in.state == TW_STATE_SYN_RCVD || in.state == TW_STATE_FIN_WAIT_1 ||
                 in.state == TW_STATE_CLOSING || in.state == TW_STATE_LAST_ACK ||
                 in.state == TW_STATE_TIME_WAIT;
    CHECK(!timed || tw_stack_next_deadline(nd->st) != TW_TIME_NEVER,
          "%s: %s with %u bytes in flight and no deadline pending", who,
          tw_state_name(in.state), in.bytes_in_flight);
}

static void check_stack(node *nd)
{
    if (!nd->st) {
        return;
    }
    size_t live = tw_stack_mem_live(nd->st);
    CHECK(live == nd->live, "stack %c reports %zu live bytes, its allocator holds %zu",
          'A' + nd->idx, live, nd->live);
    CHECK(!nd->budget || live <= nd->budget, "stack %c holds %zu bytes over a budget of %zu",
          'A' + nd->idx, live, nd->budget);
    CHECK(tw_stack_mem_peak(nd->st) >= live, "stack %c: peak below live", 'A' + nd->idx);
    CHECK(tw_stack_counter(nd->st, TW_CNT_TIME_BACKWARDS) == nd->backwards,
          "stack %c saw time go backwards %llu times, the harness did it %llu times",
          'A' + nd->idx,
          (unsigned long long)tw_stack_counter(nd->st, TW_CNT_TIME_BACKWARDS),
          (unsigned long long)nd->backwards);
    size_t live_held = 0;
    for (int k = 0; k < nd->nh; k++) {
        check_handle(nd, &nd->h[k]);
        tw_state st = tw_socket_state(nd->h[k].s);
        live_held += st >= TW_STATE_SYN_SENT && st <= TW_STATE_LAST_ACK;
    }
    CHECK(tw_stack_conn_count(nd->st) >= live_held,
          "stack %c counts %zu connections, the application holds %zu live ones",
          'A' + nd->idx, tw_stack_conn_count(nd->st), live_held);
}

static void check_all(void)
{
    check_stack(&fz.n[0]);
    check_stack(&fz.n[1]);
}

/* ---- time --------------------------------------------------------------------------- */

static tw_time deadline(const node *nd)
{
    return nd->st ? tw_stack_next_deadline(nd->st) : TW_TIME_NEVER;
}

static void fire(node *nd)
{
    CHECK(tw_stack_on_timeout(nd->st, fz.now) == 0, "on_timeout failed");
    tw_time d = tw_stack_next_deadline(nd->st);
    CHECK(d > fz.now, "stack %c: after on_timeout(%llu) the deadline is still %llu",
          'A' + nd->idx, (unsigned long long)fz.now, (unsigned long long)d);
}

/* Move the clock to `target`, firing every timer of both stacks in time order. */
static void run_until(tw_time target)
{
    for (int iter = 0;; iter++) {
        CHECK(iter < TIMER_ITER_MAX, "timers keep firing: %d expiries before %llu", iter,
              (unsigned long long)target);
        tw_time da = deadline(&fz.n[0]), db = deadline(&fz.n[1]);
        tw_time d = da < db ? da : db;
        if (d > target) {
            break;
        }
        if (d > fz.now) {
            fz.now = d;
        }
        for (int i = 0; i < 2; i++) {
            if (fz.n[i].st && deadline(&fz.n[i]) <= fz.now) {
                fire(&fz.n[i]);
            }
        }
        check_all();
    }
    if (target > fz.now) {
        fz.now = target;
    }
}

/* ---- the wire ------------------------------------------------------------------------- */

static void input_to(node *nd, const uint8_t *p, size_t len)
{
    CHECK(tw_stack_input(nd->st, p, len, fz.now) == 0, "tw_stack_input refused a packet");
}

/* Take packet i off the queue into `out`; false when it outlived the MSL (the network
   model TCP relies on: no segment lives longer, S17). */
static bool q_take(int i, qpkt *out)
{
    *out = fz.q[i];
    memmove(&fz.q[i], &fz.q[i + 1], (size_t)(fz.qn - i - 1) * sizeof(qpkt));
    fz.qn--;
    return fz.now - out->sent <= fz.msl;
}

static qpkt tmp_pkt;

static void deliver_pkt(const qpkt *p)
{
    node *dst = node_by_addr(get32(p->b + 16));
    if (dst) {
        input_to(dst, p->b, p->len);
    }
}

static void deliver_all(int max)
{
    for (int i = 0; i < max && fz.qn; i++) {
        if (q_take(0, &tmp_pkt)) {
            deliver_pkt(&tmp_pkt);
            check_all();
        }
    }
}

/* OP_FRAGMENT: p's payload in fragments of `per` bytes (a multiple of 8), one
   identification, in order or last first, with a duplicate, an overlap or a loss as
   `mode` says (fuzz_input.h). Whatever the stacks make of them, the invariants hold:
   an overlap or a loss is a lost segment to TCP. */
static void deliver_fragments(const qpkt *p, size_t per, uint8_t mode)
{
    node *dst = node_by_addr(get32(p->b + 16));
    size_t hl = (size_t)(p->b[0] & 15u) * 4u;
    if (!dst || hl < 20 || hl >= p->len) {
        deliver_pkt(p);
        return;
    }
    size_t pl = p->len - hl, nf = (pl + per - 1) / per;
    size_t which = (mode >> 4) % nf;
    static uint8_t f[PKT_CAP + 64];
    for (size_t k = 0; k <= nf; k++) {
        size_t i;
        if (k == nf) {
            if (!(mode & 4u) || nf < 2) {
                break;
            }
            i = 0; /* (the overlap: below) */
        } else {
            i = (mode & 1u) ? nf - 1 - k : k;
        }
        if ((mode & 8u) && i == which && k < nf) {
            continue; /* lost */
        }
        size_t off = i * per, n = pl - off < per ? pl - off : per;
        if (k == nf) {
            off = per - 8; /* 8 bytes into the first fragment */
            n = pl - off < per ? pl - off : per;
        }
        memcpy(f, p->b, hl);
        memcpy(f + hl, p->b + hl + off, n);
        put16(f + 2, (uint16_t)(hl + n));
        put16(f + 6, (uint16_t)((off / 8u) | (off + n < pl ? 0x2000u : 0u)));
        put16(f + 10, 0);
        put16(f + 10, fold(sum16(0, f, hl)));
        for (int twice = 0; twice <= ((mode & 2u) && i == which); twice++) {
            input_to(dst, f, hl + n);
        }
        check_all();
    }
}

/* ---- crafted input ---------------------------------------------------------------------- */

static uint8_t pkt_buf[PKT_CAP + 64];

/* Build IPv4 (20 bytes) + TCP header + options + payload with valid checksums. */
static size_t build_seg(uint8_t *b, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                        uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
                        const uint8_t *opts, size_t olen, size_t plen, uint32_t pseed)
{
    size_t hl = 20 + olen;
    size_t tl = hl + plen;
    memset(b, 0, 20 + hl);
    b[0] = 0x45;
    put16(b + 2, (uint16_t)(20 + tl));
    put16(b + 4, (uint16_t)fz.op_index);
    b[6] = 0x40; /* DF */
    b[8] = 64;
    b[9] = 6;
    put32(b + 12, src);
    put32(b + 16, dst);
    put16(b + 10, fold(sum16(0, b, 20)));
    uint8_t *t = b + 20;
    put16(t, sport);
    put16(t + 2, dport);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = (uint8_t)((hl / 4) << 4);
    t[13] = flags;
    put16(t + 14, win);
    memcpy(t + 20, opts, olen);
    for (size_t i = 0; i < plen; i++) {
        t[hl + i] = (uint8_t)(pseed + i * 7u);
    }
    put16(t + 16, fold(sum16(pseudo(src, dst, 6, tl), t, tl)));
    return 20 + tl;
}

typedef struct optw {
    uint8_t b[40];
    size_t n;
} optw;

static void ow_put(optw *w, const uint8_t *p, size_t n)
{
    if (w->n + n <= sizeof(w->b)) {
        memcpy(w->b + w->n, p, n);
        w->n += n;
    }
}

static void ow_ts(optw *w, uint32_t val, uint32_t ecr)
{
    uint8_t o[10] = {8, 10};
    put32(o + 2, val);
    put32(o + 6, ecr);
    ow_put(w, o, sizeof(o));
}

/* The flows involving stack `nd`, as (flow, side of nd). */
static int flows_of(const node *nd, flow **fl, int *sides)
{
    int n = 0;
    for (int i = 0; i < MAXFLOW; i++) {
        flow *f = &fz.f[i];
        if (!f->used) {
            continue;
        }
        for (int k = 0; k < 2; k++) {
            if (f->s[k].addr == nd->addr && f->s[1 - k].addr != nd->addr) {
                fl[n] = f;
                sides[n] = k;
                n++;
                break;
            }
        }
    }
    return n;
}

static void op_inject_seg(rd *r)
{
    uint8_t tsel = u8(r);
    node *t = &fz.n[tsel & 1];
    node *other = &fz.n[1 - (tsel & 1)];
    if (!t->st) {
        return;
    }
    flow *cand[MAXFLOW];
    int csides[MAXFLOW];
    int nc = flows_of(t, cand, csides);
    flow *f;
    int ts; /* the target's side */
    if ((tsel >> 1) < 96 && nc) {
        int pick = (tsel >> 1) % nc;
        f = cand[pick];
        ts = csides[pick];
    } else {
        uint8_t psel = u8(r);
        uint32_t paddr = (psel & 2) ? other->addr : (psel & 1) ? FZ_ADDR_P2 : FZ_ADDR_P1;
        uint16_t tport = fz_ports[u8(r) & 7];
        uint16_t pport = u16(r);
        uint32_t isn = u32(r);
        int ps;
        f = flow_get(paddr, pport, t->addr, tport, &ps);
        ts = 1 - ps;
        if (!f->s[ps].have_isn) {
            f->s[ps].have_isn = true;
            f->s[ps].isn = isn;
            f->s[ps].nxt = isn;
            f->s[ps].have_nxt = true;
        }
    }
    side *me = &f->s[1 - ts], *tg = &f->s[ts];
    uint8_t flags = u8(r);
    uint8_t sm = u8(r);
    uint32_t my_nxt = me->have_nxt ? me->nxt : me->isn;
    uint32_t seq, ack;
    switch (sm & 3) {
    case 0:
        seq = (tg->have_ack ? tg->ack : my_nxt) + (uint32_t)(int8_t)u8(r);
        break;
    case 1:
        seq = my_nxt + (uint32_t)(int8_t)u8(r);
        break;
    case 2:
        seq = me->isn + (uint32_t)(int16_t)u16(r);
        break;
    default:
        seq = u32(r);
        break;
    }
    switch ((sm >> 2) & 3) {
    case 0:
        ack = tg->nxt + (uint32_t)(int8_t)u8(r);
        break;
    case 1:
        ack = tg->isn + 1u + (uint32_t)(int16_t)u16(r);
        break;
    case 2:
        ack = me->ack + (uint32_t)(int8_t)u8(r);
        break;
    default:
        ack = u32(r);
        break;
    }
    optw w = {{0}, 0};
    uint32_t my_ts = (uint32_t)(fz.now / 1000000u) + 7777u;
    switch ((sm >> 5) & 3) {
    case 1: {
        uint8_t mask = u8(r);
        if (mask & 1) {
            uint8_t o[4] = {2, 4};
            put16(o + 2, u16(r));
            ow_put(&w, o, 4);
        }
        if (mask & 2) {
            uint8_t o[4] = {1, 3, 3, u8(r)};
            ow_put(&w, o, 4);
        }
        if (mask & 4) {
            uint8_t o[2] = {4, 2};
            ow_put(&w, o, 2);
        }
        if (mask & 8) {
            unsigned nb = 1u + u8(r) % 4u;
            uint8_t o[2 + 32] = {5, (uint8_t)(2 + 8 * nb)};
            for (unsigned i = 0; i < nb; i++) {
                uint32_t start = tg->nxt - u16(r);
                put32(o + 2 + 8 * i, start);
                put32(o + 6 + 8 * i, start + u16(r));
            }
            ow_put(&w, o, 2 + 8 * nb);
        }
        if (mask & 16) {
            uint8_t o[2] = {1, 1};
            ow_put(&w, o, 2);
        }
        if (mask & 32) {
            uint8_t o[4] = {2, 4, 0x05, 0xb4}; /* a second MSS: a duplicate option */
            ow_put(&w, o, 4);
        }
        if (mask & 64) {
            uint8_t o[8] = {30, (uint8_t)(u8(r) % 9), 1, 2, 3, 4, 5, 6};
            ow_put(&w, o, o[1] < 2 ? 2 : o[1]);
        }
        if (mask & 128) {
            uint8_t o[1] = {0};
            ow_put(&w, o, 1);
        }
        break;
    }
    case 2: {
        size_t n = u8(r) % 41u;
        for (size_t i = 0; i < n; i++) {
            w.b[i] = u8(r);
        }
        w.n = n;
        break;
    }
    case 3:
        ow_put(&w, tg->syn_opts, tg->syn_optlen);
        break;
    default:
        break;
    }
    if (sm & 16) {
        ow_ts(&w, my_ts, tg->have_ts ? tg->ts_val : 0);
    }
    while (w.n % 4) {
        w.b[w.n++] = 0;
    }
    uint16_t win = u16(r);
    size_t plen = u16(r) % 1461u;
    size_t len = build_seg(pkt_buf, me->addr, t->addr, me->port, tg->port, seq, ack, flags,
                           win, w.b, w.n, plen, seq);
    taint(me->addr, me->port, t->addr, tg->port);
    flow_note(me->addr, t->addr, pkt_buf + 20, len - 20);
    input_to(t, pkt_buf, len);
}

static void op_inject_ip(rd *r)
{
    node *t = &fz.n[u8(r) & 1];
    uint8_t psel = u8(r);
    uint8_t fl = u8(r);
    size_t len = u16(r) % 1501u;
    if (!t->st) {
        return;
    }
    static const uint8_t protos[4] = {6, 1, 17, 6};
    uint8_t proto = (psel & 3) == 3 ? (uint8_t)(psel >> 2) : protos[psel & 3];
    size_t ihl = (fl & 1) ? 5u + u8(r) % 11u : 5u;
    size_t hl = ihl * 4;
    uint8_t *b = pkt_buf;
    memset(b, 0, hl);
    for (size_t i = 20; i < hl; i++) {
        b[i] = u8(r); /* IP options: ignored or rejected, never trusted */
    }
    size_t n = 0;
    for (; n < len && r->n; n++) {
        b[hl + n] = u8(r);
    }
    static const uint32_t bad_src[4] = {0, 0xffffffffu, 0xe0000001u, 0};
    uint32_t src = FZ_ADDR_P1;
    if (fl & 8) {
        src = (fl & 0x30) == 0x30 ? t->addr : bad_src[(fl >> 4) & 3];
    }
    uint32_t dst = (fl & 0x80) ? 0x0a0000feu : t->addr;
    b[0] = (uint8_t)(0x40 | ihl);
    put16(b + 2, (uint16_t)(hl + n));
    b[6] = (fl & 2) ? 0x20 : 0x40;
    if (fl & 4) {
        b[7] = 0x08;
    }
    b[8] = 64;
    b[9] = proto;
    put32(b + 12, src);
    put32(b + 16, dst);
    uint8_t *pl = b + hl;
    if ((fl & 0x40) && proto == 6 && n >= 18) {
        pl[16] = pl[17] = 0;
        put16(pl + 16, fold(sum16(pseudo(src, dst, 6, n), pl, n)));
    } else if ((fl & 0x40) && proto == 1 && n >= 4) {
        pl[2] = pl[3] = 0;
        put16(pl + 2, fold(sum16(0, pl, n)));
    }
    put16(b + 10, fold(sum16(0, b, hl)));
    if (proto == 6 && n >= 20) {
        taint(src, get16(pl), dst, get16(pl + 2));
        flow_note(src, dst, pl, n);
    }
    input_to(t, b, hl + n);
}

static void op_inject_raw(rd *r)
{
    node *t = &fz.n[u8(r) & 1];
    size_t len = u16(r) % 2049u;
    size_t n = 0;
    for (; n < len && r->n; n++) {
        pkt_buf[n] = u8(r);
    }
    if (!t->st) {
        return;
    }
    size_t ihl = (size_t)(pkt_buf[0] & 15) * 4;
    if (n >= 20 && ihl >= 20 && n >= ihl + 4) {
        /* Anything that reaches a connection through raw bytes is crafted input. */
        taint(get32(pkt_buf + 12), get16(pkt_buf + ihl), get32(pkt_buf + 16),
              get16(pkt_buf + ihl + 2));
    }
    input_to(t, pkt_buf, n);
}

/* ---- sockets ------------------------------------------------------------------------- */

static uint8_t io_buf[65536];

static handle *pick(rd *r, node **ndp)
{
    node *nd = &fz.n[u8(r) & 1];
    uint8_t hs = u8(r);
    *ndp = nd;
    if (!nd->st || !nd->nh) {
        return NULL;
    }
    return &nd->h[hs % nd->nh];
}

static handle *add_handle(node *nd, tw_socket *s)
{
    CHECK(s != NULL, "a call returned success and a NULL socket");
    for (int k = 0; k < nd->nh; k++) {
        CHECK(nd->h[k].s != s, "stack %c handed out a socket already held", 'A' + nd->idx);
    }
    handle *h = &nd->h[nd->nh++];
    memset(h, 0, sizeof(*h));
    h->s = s;
    h->rcvcap = nd->rcvbuf;
    h->sndcap = nd->sndbuf;
    return h;
}

static void drop_handle(node *nd, handle *h)
{
    *h = nd->h[--nd->nh];
}

static bool valid_err(int rc)
{
    return rc <= 0 && rc >= TW_ERR_ADDRNOTAVAIL && rc != TW_ERR_BUSY;
}

static handle *find_listener(node *nd, uint16_t port)
{
    for (int k = 0; k < nd->nh; k++) {
        if (nd->h[k].listener && nd->h[k].listen_port == port) {
            return &nd->h[k];
        }
    }
    return NULL;
}

static handle *do_open(node *nd)
{
    tw_socket *s = NULL;
    int rc = tw_socket_open(nd->st, &s);
    CHECK(rc == 0 || rc == TW_ERR_NOMEM || rc == TW_ERR_LIMIT, "open returned %d", rc);
    if (rc || nd->nh == MAXH) {
        if (!rc) {
            CHECK(tw_socket_close(s, fz.now) == 0, "close of a fresh socket failed");
        }
        return NULL;
    }
    return add_handle(nd, s);
}

static int do_listen(node *nd, handle *h, int backlog)
{
    int rc = tw_socket_listen(h->s, backlog, fz.now);
    CHECK(valid_err(rc), "listen returned %d", rc);
    if (rc == 0) {
        tw_socket_info in;
        tw_socket_info_get(h->s, &in);
        h->listener = true;
        h->listen_port = in.local_port;
        CHECK(find_listener(nd, in.local_port) == h, "two listeners on port %u",
              in.local_port);
    }
    return rc;
}

static void do_accept(node *nd, handle *l)
{
    tw_socket *c = NULL;
    int rc = tw_socket_accept(l->s, &c, fz.now);
    CHECK(rc == 0 || rc == TW_ERR_AGAIN || rc == TW_ERR_STATE, "accept returned %d", rc);
    CHECK(rc != TW_ERR_AGAIN || !(tw_socket_events(l->s) & TW_EV_ACCEPTABLE),
          "accept: AGAIN while ACCEPTABLE");
    if (rc) {
        return;
    }
    CHECK(l->listener, "accept succeeded on a socket that is not listening");
    if (nd->nh == MAXH) {
        CHECK(tw_socket_close(c, fz.now) == 0, "close failed");
        return;
    }
    /* A child has its listener's sizes as they were when its handshake completed (the
       listener's may have changed since) */
    tw_socket_info ci;
    CHECK(tw_socket_info_get(c, &ci) == 0, "info_get failed on an accepted socket");
    CHECK(ci.rcvbuf <= 16u << 20 && ci.sndbuf <= 16u << 20 && ci.rcvbuf >= 1024 &&
              ci.sndbuf >= 1024, "accepted socket with limits %u/%u", ci.rcvbuf, ci.sndbuf);
    handle *h = add_handle(nd, c);
    h->rcvcap = ci.rcvbuf;
    h->sndcap = ci.sndbuf;
    /* The window its SYN+ACK offered is not taken back when the listener's buffer was
       lowered before the handshake completed (RFC 9293 3.8.6.2.2): unread bytes and the
       window may reach that offer, at most 65535 (RFC 7323 2.2: unscaled), and are held
       as after a lowered limit until they drain below the child's own. */
    uint32_t held = ci.rx_pending + ci.rcv_wnd;
    CHECK(held <= (ci.rcvbuf > 65535u ? ci.rcvbuf : 65535u),
          "accepted socket with %u bytes unread and a window of %u in a %u-byte buffer",
          ci.rx_pending, ci.rcv_wnd, ci.rcvbuf);
    h->rcvhold = held > ci.rcvbuf ? held : 0;
}

static void do_send(node *nd, handle *h, size_t len)
{
    tw_socket_info in;
    tw_socket_info_get(h->s, &in);
    for (size_t i = 0; i < len; i++) {
        io_buf[i] = pat(nd->addr, in.local_port, in.remote_port, h->tx_off + i);
    }
    tw_ssize n = tw_socket_send(h->s, io_buf, len, fz.now);
    CHECK(n <= (tw_ssize)len, "send accepted %td of %zu bytes", n, len);
    CHECK(n >= 0 || valid_err((int)n), "send returned %td", n);
    if (n > 0) {
        h->tx_off += (uint64_t)n;
    }
}

static void do_recv(node *nd, handle *h, size_t cap)
{
    tw_socket_info in;
    tw_socket_info_get(h->s, &in);
    tw_ssize n = tw_socket_recv(h->s, io_buf, cap, fz.now);
    CHECK(n <= (tw_ssize)cap, "recv returned %td for a %zu-byte buffer", n, cap);
    CHECK(n >= 0 || valid_err((int)n), "recv returned %td", n);
    /* After shutdown(SHUT_RD) a read with nothing queued returns 0 while data may still
       arrive and be read (Linux's RCV_SHUTDOWN, socket.c): no end of stream then. */
    if (n == 0 && cap > 0 && !h->shut_rd) {
        h->eof = true;
    }
    if (n <= 0) {
        return;
    }
    CHECK(!h->eof, "stack %c: recv returned %td bytes after end of stream", 'A' + nd->idx, n);
    node *peer = node_by_addr(in.remote_addr);
    int k;
    flow *f = flow_find(nd->addr, in.local_port, in.remote_addr, in.remote_port, &k);
    if (peer && f && !f->tainted[k] && !fz.integrity_off) {
        /* D1: exactly the bytes the peer's application sent, in order. */
        for (tw_ssize i = 0; i < n; i++) {
            uint8_t want = pat(in.remote_addr, in.remote_port, in.local_port,
                               h->rx_off + (uint64_t)i);
            CHECK(io_buf[i] == want,
                  "stack %c: byte %llu of the stream from %08x:%u differs (%02x, sent %02x)",
                  'A' + nd->idx, (unsigned long long)(h->rx_off + (uint64_t)i),
                  in.remote_addr, in.remote_port, io_buf[i], want);
        }
        if (fz.verbose) {
            fprintf(stderr, "  recv: %td bytes checked against the sender's stream\n", n);
        }
    }
    h->rx_off += (uint64_t)n;
}

/* A connect the stack took on a socket in CLOSED starts a new stream both ways: a socket
   whose attempt failed (reset in SYN-SENT, timed out) starts over (socket.c
   connect_renew_failed gives its queued bytes back with the ring), so the pattern's
   offsets start at 0 again, as the peer's new connection's do. */
static void stream_restart(handle *h)
{
    h->tx_off = 0;
    h->rx_off = 0;
    h->eof = false;
}

static void do_connect(node *nd, handle *h, uint32_t addr, uint16_t port, bool fastopen)
{
    tw_socket_info was;
    tw_socket_info_get(h->s, &was);
    bool closed = was.state == TW_STATE_CLOSED;
    if (fastopen) {
        /* TCP Fast Open (RFC 7413): connect and send; the stream's pattern needs the local
           port, so a socket bound to none sends nothing (a cookie request, or a plain
           SYN) */
        tw_socket_info in;
        tw_socket_info_get(h->s, &in);
        size_t len = in.local_port ? 100 : 0;
        uint64_t base = closed ? 0 : h->tx_off;
        for (size_t i = 0; i < len; i++) {
            io_buf[i] = pat(nd->addr, in.local_port, port, base + i);
        }
        tw_ssize n = tw_socket_connect_send(h->s, addr, port, io_buf, len, fz.now);
        CHECK(n <= (tw_ssize)len, "connect_send took %td of %zu bytes", n, len);
        CHECK(n >= 0 || n == TW_ERR_STATE || n == TW_ERR_INVAL || n == TW_ERR_ADDRNOTAVAIL ||
                  n == TW_ERR_ADDRINUSE || n == TW_ERR_NOMEM || n == TW_ERR_LIMIT,
              "connect_send returned %td", n);
        if (n >= 0 && closed) {
            stream_restart(h);
        }
        if (n > 0) {
            h->tx_off += (uint64_t)n;
        }
        return;
    }
    int rc = tw_socket_connect(h->s, addr, port, fz.now);
    CHECK(rc == 0 || rc == TW_ERR_STATE || rc == TW_ERR_INVAL || rc == TW_ERR_ADDRNOTAVAIL ||
              rc == TW_ERR_ADDRINUSE || rc == TW_ERR_NOMEM || rc == TW_ERR_LIMIT,
          "connect returned %d", rc);
    if (rc == 0 && closed) {
        stream_restart(h);
    }
    (void)nd;
}

static void op_socket(int op, rd *r)
{
    node *nd;
    if (op == OP_OPEN) {
        nd = &fz.n[u8(r) & 1];
        if (nd->st) {
            do_open(nd);
        }
        return;
    }
    handle *h = pick(r, &nd);
    bool one = op == OP_BIND || op == OP_LISTEN || op == OP_CONNECT || op == OP_SHUTDOWN ||
               op == OP_SETOPT;
    uint8_t a1 = one ? u8(r) : 0;
    uint8_t a2 = op == OP_CONNECT || op == OP_SETOPT ? u8(r) : 0;
    uint16_t len = op == OP_SEND || op == OP_RECV ? u16(r) : 0;
    if (!h) {
        return;
    }
    int rc;
    switch (op) {
    case OP_BIND:
        rc = tw_socket_bind(h->s, fz_ports[a1 & 7]);
        CHECK(valid_err(rc), "bind returned %d", rc);
        break;
    case OP_LISTEN: {
        static const int backlogs[8] = {1, 2, 4, 0, -1, 1, 64, 70000};
        do_listen(nd, h, backlogs[a1 & 7]);
        break;
    }
    case OP_ACCEPT:
        do_accept(nd, h);
        break;
    case OP_CONNECT: {
        uint32_t addrs[8] = {fz.n[1 - nd->idx].addr, FZ_ADDR_P1, FZ_ADDR_P2, nd->addr, 0,
                             0xffffffffu, 0xe0000001u, 0x7f000001u};
        do_connect(nd, h, addrs[a1 & 7], fz_ports[a2 & 7], (a2 & 0x40) != 0);
        break;
    }
    case OP_SEND:
        do_send(nd, h, len);
        break;
    case OP_RECV:
        do_recv(nd, h, len);
        break;
    case OP_SHUTDOWN:
        rc = tw_socket_shutdown(h->s, a1 % 5, fz.now);
        CHECK(valid_err(rc), "shutdown returned %d", rc);
        if (rc == 0 && (a1 % 5) & TW_SHUT_RD) {
            if (h->listener) {
                h->listener = false; /* it stopped listening (tcpwave.h): a fresh socket */
                CHECK(tw_socket_state(h->s) == TW_STATE_CLOSED, "listener shut in %s",
                      tw_state_name(tw_socket_state(h->s)));
            } else {
                h->shut_rd = true;
            }
        }
        break;
    case OP_CLOSE:
        CHECK(tw_socket_close(h->s, fz.now) == 0, "close failed");
        drop_handle(nd, h);
        break;
    case OP_ABORT:
        CHECK(tw_socket_abort(h->s, fz.now) == 0, "abort failed");
        drop_handle(nd, h);
        break;
    case OP_SETOPT:
        switch (a1 % 5) {
        case 0:
            rc = tw_socket_set_reuseaddr(h->s, a2 & 1);
            break;
        case 1:
            rc = tw_socket_set_linger0(h->s, a2 & 1);
            break;
        case 2: {
            static const uint32_t sz[8] = {0, 100, 1024, 2048, 4096, 65536, 16u << 20,
                                           (16u << 20) + 1};
            uint32_t rb = sz[a2 & 7], sb = sz[(a2 >> 3) & 7];
            rc = tw_socket_set_bufsizes(h->s, rb, sb);
            if (rc == 0) {
                /* (what the old limits allowed stays allowed until it drains) */
                h->rcvhold = h->rcvcap > h->rcvhold ? h->rcvcap : h->rcvhold;
                h->sndhold = h->sndcap > h->sndhold ? h->sndcap : h->sndhold;
                h->rcvcap = rb ? rb : h->rcvcap;
                h->sndcap = sb ? sb : h->sndcap;
                h->rcvset = h->rcvset || rb;
                h->sndset = h->sndset || sb;
            }
            break;
        }
        case 3: {
            static const uint16_t mss[8] = {0, 1, 63, 64, 100, 536, 1460, 65535};
            if (a2 & 0x80) {
                rc = tw_socket_set_fastopen(h->s, a2 & 3); /* (RFC 7413: 0 turns it off) */
                break;
            }
            rc = tw_socket_set_mss(h->s, mss[a2 & 7]);
            break;
        }
        default:
            tw_socket_set_user(h->s, h);
            CHECK(tw_socket_user(h->s) == h, "user pointer lost");
            rc = 0;
            break;
        }
        CHECK(valid_err(rc), "set option returned %d", rc);
        break;
    default:
        break;
    }
}

static void op_pair(uint8_t v)
{
    node *srv = &fz.n[(v & 1) ^ 1], *cli = &fz.n[v & 1];
    uint16_t port = (uint16_t[]){80, 81, 443, 8080}[(v >> 1) & 3];
    if (!srv->st || !cli->st) {
        return;
    }
    handle *l = find_listener(srv, port);
    if (!l) {
        l = do_open(srv);
        if (!l) {
            return;
        }
        if (tw_socket_bind(l->s, port) != 0 || do_listen(srv, l, 4) != 0) {
            CHECK(tw_socket_close(l->s, fz.now) == 0, "close failed");
            drop_handle(srv, l);
            return;
        }
    }
    handle *c = do_open(cli);
    if (!c) {
        return;
    }
    do_connect(cli, c, srv->addr, port, false);
    deliver_all(DELIVER_ALL_MAX);
    l = find_listener(srv, port);
    if (l) {
        do_accept(srv, l);
    }
}

/* API misuse gets the documented answer and changes nothing (tcpwave.h conventions). */
static void op_misuse(rd *r)
{
    node *nd;
    handle *h = pick(r, &nd);
    uint8_t which = u8(r);
    if (!nd->st) {
        return;
    }
    tw_socket *s = h ? h->s : NULL;
    tw_socket *out = NULL;
    switch (which % 12) {
    case 0:
        CHECK(tw_stack_input(nd->st, pkt_buf, 65536, fz.now) == TW_ERR_INVAL,
              "input of 65536 bytes not refused");
        break;
    case 1:
        CHECK(tw_stack_input(NULL, pkt_buf, 40, fz.now) == TW_ERR_INVAL &&
                  tw_stack_input(nd->st, NULL, 40, fz.now) == TW_ERR_INVAL,
              "input with NULL not refused");
        break;
    case 2:
        CHECK(tw_socket_send(NULL, pkt_buf, 1, fz.now) == TW_ERR_INVAL, "send(NULL)");
        CHECK(!s || tw_socket_send(s, NULL, 5, fz.now) == TW_ERR_INVAL, "send of NULL data");
        break;
    case 3:
        CHECK(tw_socket_recv(NULL, io_buf, 1, fz.now) == TW_ERR_INVAL, "recv(NULL)");
        CHECK(!s || tw_socket_recv(s, NULL, 5, fz.now) == TW_ERR_INVAL, "recv into NULL");
        break;
    case 4:
        CHECK(tw_socket_open(nd->st, NULL) == TW_ERR_INVAL &&
                  tw_socket_open(NULL, &out) == TW_ERR_INVAL,
              "open with NULL not refused");
        break;
    case 5: {
        tw_socket_info in;
        CHECK(tw_socket_info_get(NULL, &in) == TW_ERR_INVAL, "info_get(NULL)");
        CHECK(!s || tw_socket_info_get(s, NULL) == TW_ERR_INVAL, "info_get into NULL");
        break;
    }
    case 6:
        CHECK(tw_socket_connect(NULL, FZ_ADDR_B, 80, fz.now) == TW_ERR_INVAL &&
                  tw_socket_listen(NULL, 1, fz.now) == TW_ERR_INVAL &&
                  tw_socket_bind(NULL, 80) == TW_ERR_INVAL &&
                  tw_socket_shutdown(NULL, TW_SHUT_WR, fz.now) == TW_ERR_INVAL &&
                  tw_socket_close(NULL, fz.now) == TW_ERR_INVAL &&
                  tw_socket_abort(NULL, fz.now) == TW_ERR_INVAL,
              "socket call on NULL not refused");
        break;
    case 7:
        CHECK(!s || tw_socket_accept(s, NULL, fz.now) == TW_ERR_INVAL, "accept into NULL");
        CHECK(tw_socket_accept(NULL, &out, fz.now) == TW_ERR_INVAL, "accept(NULL)");
        break;
    case 8:
        CHECK(!s || tw_socket_shutdown(s, 7, fz.now) == TW_ERR_INVAL, "shutdown how=7");
        break;
    case 9:
        if (fz.now > 0) {
            /* Time going backwards is clamped and counted, never obeyed. */
            fire(nd); /* the stack's clock may lag the harness's: bring it to now */
            uint64_t before = tw_stack_counter(nd->st, TW_CNT_TIME_BACKWARDS);
            CHECK(tw_stack_on_timeout(nd->st, fz.now - 1) == 0, "on_timeout failed");
            CHECK(tw_stack_counter(nd->st, TW_CNT_TIME_BACKWARDS) == before + 1,
                  "time going backwards not counted");
            nd->backwards++;
        }
        break;
    case 10:
        CHECK(tw_stack_counter(nd->st, TW_CNT_COUNT_) == 0, "counter out of range");
        CHECK(strcmp(tw_counter_name(TW_CNT_COUNT_), "?") == 0, "counter name out of range");
        CHECK(tw_strerror(-1000) != NULL && tw_strerror(1) != NULL, "tw_strerror NULL");
        CHECK(strcmp(tw_state_name(TW_STATE_COUNT_), "?") == 0, "state name out of range");
        CHECK(tw_counter_lookup("no such counter") == -1, "lookup of an unknown name");
        CHECK(tw_counter_lookup(tw_counter_name(TW_CNT_TCP_TX_RST)) == TW_CNT_TCP_TX_RST,
              "counter lookup round trip");
        break;
    default:
        CHECK(tw_stack_next_deadline(NULL) == TW_TIME_NEVER && tw_stack_mem_live(NULL) == 0 &&
                  tw_socket_events(NULL) == 0 && tw_socket_error(NULL) == TW_ERR_INVAL,
              "queries on NULL");
        break;
    }
}

/* ---- the run ------------------------------------------------------------------------ */

static void op_run(int op, rd *r)
{
    switch (op) {
    case OP_DELIVER:
    case OP_DROP:
    case OP_DUP:
    case OP_CORRUPT: {
        uint8_t i = u8(r);
        uint16_t pos = op == OP_CORRUPT ? u16(r) : 0;
        uint8_t x = op == OP_CORRUPT ? (uint8_t)(u8(r) | 1) : 0;
        if (!fz.qn) {
            return;
        }
        int k = i % fz.qn;
        if (op == OP_DUP) {
            tmp_pkt = fz.q[k];
            if (fz.now - tmp_pkt.sent <= fz.msl) {
                deliver_pkt(&tmp_pkt);
            }
            return;
        }
        bool fresh = q_take(k, &tmp_pkt);
        if (op == OP_DROP || !fresh) {
            return;
        }
        if (op == OP_CORRUPT) {
            tmp_pkt.b[pos % tmp_pkt.len] ^= x;
        }
        deliver_pkt(&tmp_pkt);
        return;
    }
    case OP_DELIVER_ALL:
        deliver_all(DELIVER_ALL_MAX);
        return;
    case OP_FRAGMENT: {
        uint8_t i = u8(r), size = u8(r), mode = u8(r);
        if (!fz.qn) {
            return;
        }
        if (q_take(i % fz.qn, &tmp_pkt)) {
            deliver_fragments(&tmp_pkt, ((size_t)(size & 31u) + 1u) * 8u, mode);
        }
        return;
    }
    case OP_ADVANCE: {
        uint8_t m = u8(r);
        tw_time target;
        if (m & 0x80) {
            tw_time da = deadline(&fz.n[0]), db = deadline(&fz.n[1]);
            tw_time d = da < db ? da : db;
            target = d == TW_TIME_NEVER ? fz.now + TW_SEC(1) : d;
        } else {
            target = fz.now + fz_steps[(m >> 4) & 7] * ((m & 15u) + 1u);
        }
        run_until(target);
        return;
    }
    case OP_INJECT_RAW:
        op_inject_raw(r);
        return;
    case OP_INJECT_IP:
        op_inject_ip(r);
        return;
    case OP_INJECT_SEG:
        op_inject_seg(r);
        return;
    case OP_FAIL_ALLOC: {
        node *nd = &fz.n[u8(r) & 1];
        nd->fail_at = nd->calls + 1u + (u8(r) & 7u);
        return;
    }
    case OP_FAIL_TX:
        fz.n[u8(r) & 1].fail_tx = true;
        return;
    case OP_PAIR:
        op_pair(u8(r));
        return;
    case OP_MISUSE:
        op_misuse(r);
        return;
    default:
        if (op < FZ_OP_LAST) {
            op_socket(op, r);
        }
        return;
    }
}

/* Close everything, let both stacks finish with a working network, then require that
   nothing is left: no connection, no TIME-WAIT record, no live byte. */
static void teardown(void)
{
    fz.op_index = -1;
    fz.last_op = -1;
    if (fz.verbose) {
        fprintf(stderr, "teardown (now %.6f)\n", (double)fz.now / 1e9);
    }
    for (int i = 0; i < 2; i++) {
        node *nd = &fz.n[i];
        nd->fail_at = 0;
        nd->fail_tx = false;
        while (nd->nh) {
            CHECK(tw_socket_close(nd->h[nd->nh - 1].s, fz.now) == 0, "close failed");
            nd->nh--;
        }
    }
    check_all();
    tw_time horizon = fz.now + TEARDOWN_HORIZON;
    tw_time instant = fz.now;
    long at_instant = 0; /* packets delivered without time moving */
    bool dead = false;
    for (int iter = 0;; iter++) {
        CHECKN("no_converge", iter < TEARDOWN_ITER_MAX, "teardown does not converge (%d rounds)",
               iter);
        if (fz.qn) {
            if (fz.now != instant) {
                instant = fz.now;
                at_instant = 0;
            }
            /* Two stacks answering each other's segments at once for ever: an ACK storm
               (RFC 5961 10 warns of them; Linux rate-limits such answers). */
            CHECKN("ack_storm", ++at_instant < 100000,
                   "ACK storm: %ld packets exchanged at one instant", at_instant);
            if (at_instant >= 100000) {
                dead = true; /* a known storm: cut the wire, let the timers finish */
            }
            if (q_take(0, &tmp_pkt) && !dead) {
                deliver_pkt(&tmp_pkt);
            }
            continue;
        }
        tw_time da = deadline(&fz.n[0]), db = deadline(&fz.n[1]);
        tw_time d = da < db ? da : db;
        if (d == TW_TIME_NEVER || d > horizon) {
            break;
        }
        if (d > fz.now) {
            fz.now = d;
        }
        for (int i = 0; i < 2; i++) {
            if (fz.n[i].st && deadline(&fz.n[i]) <= fz.now) {
                fire(&fz.n[i]);
            }
        }
        check_all();
    }
    for (int i = 0; i < 2; i++) {
        node *nd = &fz.n[i];
        if (!nd->st) {
            continue;
        }
        size_t left = tw_stack_conn_count(nd->st);
        if (left) {
            /* Name the kind of leak, so a known one can be told from a new one. */
            const char *kind = "leftover";
            unsigned persist = 0, alive = 0;
            for (unsigned k = 0; k < CONN_SEEN; k++) {
                const conn_seen *c = &nd->seen[k];
                if (c->id && c->state != TW_STATE_CLOSED) {
                    alive++;
                    persist += c->timer == TW_TIMER_PERSIST;
                    fprintf(stderr, "  stack %c conn %llu left in %s, last timer %u\n", 'A' + i,
                            (unsigned long long)c->id, tw_state_name((tw_state)c->state),
                            c->timer);
                }
            }
            if (!nd->seen_full && alive && persist == alive) {
                kind = "persist_forever";
            }
            CHECKN(kind, 0,
                   "stack %c: %zu connections left after every socket was closed and time "
                   "ran past all retries and 2*MSL (%s)",
                   'A' + i, left, kind);
        }
        CHECK(tw_stack_time_wait_count(nd->st) == 0, "stack %c: %zu TIME-WAIT records left",
              'A' + i, tw_stack_time_wait_count(nd->st));
    }
    for (int i = 0; i < 2; i++) {
        node *nd = &fz.n[i];
        tw_stack_free(nd->st);
        nd->st = NULL;
        CHECK(nd->live == 0, "stack %c: %zu bytes still allocated after tw_stack_free",
              'A' + i, nd->live);
    }
}

static void node_init(node *nd, int idx, const uint8_t *hdr)
{
    memset(nd, 0, sizeof(*nd));
    nd->idx = idx;
    nd->addr = idx ? FZ_ADDR_B : FZ_ADDR_A;
    nd->a.alloc = fz_alloc;
    nd->a.free = fz_free;
    nd->a.ud = nd;
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.addr = nd->addr;
    cfg.allocator = &nd->a;
    for (int i = 0; i < 32; i++) {
        cfg.entropy[i] = (uint8_t)(i * 37 + idx * 101 + 1);
    }
    uint8_t o = (uint8_t)(hdr[FZ_H_OPTS] >> (idx ? 3 : 0));
    cfg.no_wscale = o & 1;
    cfg.no_sack = (o >> 1) & 1;
    cfg.no_timestamps = (o >> 2) & 1;
    cfg.msl = fz.msl;
    cfg.fastopen = TW_FASTOPEN_CLIENT | TW_FASTOPEN_SERVER; /* (RFC 7413, when asked for) */
    cfg.syn_retries = hdr[FZ_H_RETRIES] & 7;
    cfg.synack_retries = (hdr[FZ_H_RETRIES] >> 3) & 7;
    if (hdr[FZ_H_RETRIES2]) {
        cfg.retries = hdr[FZ_H_RETRIES2] & 15;
        cfg.orphan_retries = hdr[FZ_H_RETRIES2] >> 4;
    }
    if (idx == 0) {
        cfg.max_connections = hdr[FZ_H_LIMITS] & 15;
        cfg.max_orphans = hdr[FZ_H_LIMITS] >> 4;
        cfg.max_time_wait = hdr[FZ_H_LIMITS2] & 7;
        if (hdr[FZ_H_LIMITS2] >> 3) {
            cfg.challenge_ack_limit = hdr[FZ_H_LIMITS2] >> 3;
        }
        if (fz_bufs[hdr[FZ_H_BUFS] & 7]) {
            cfg.rcvbuf = fz_bufs[hdr[FZ_H_BUFS] & 7];
        }
        if (fz_bufs[(hdr[FZ_H_BUFS] >> 3) & 7]) {
            cfg.sndbuf = fz_bufs[(hdr[FZ_H_BUFS] >> 3) & 7];
        }
        if (hdr[FZ_H_OPTS] & 0x40) {
            cfg.max_memory = hdr[FZ_H_BUDGET] == 255 ? 1024u
                                                     : 65536u + 4096u * (hdr[FZ_H_BUDGET] + 1u);
        }
    }
    /* Some paths are taken only when nobody traces (the orphan's closing ACK skips the
       updates that die with it): a header bit runs a stack without the hook, and the
       state-edge checks then rest with the other stack. */
    if (!((hdr[FZ_H_MTU] >> (4 + idx)) & 1)) {
        cfg.trace = fz_trace;
        cfg.trace_ud = nd;
    }
    cfg.notify = fz_notify;
    cfg.notify_ud = nd;
    nd->budget = cfg.max_memory;
    nd->rcvbuf = cfg.rcvbuf;
    nd->sndbuf = cfg.sndbuf;
    nd->mtu = fz_mtus[(hdr[FZ_H_MTU] >> (idx ? 2 : 0)) & 3];
    tw_netdev dev = {fz_transmit, nd, nd->mtu};
    int rc = tw_stack_new(&nd->st, &cfg, &dev, fz.now);
    CHECK(rc == 0 || (rc == TW_ERR_NOMEM && cfg.max_memory), "tw_stack_new returned %d", rc);
    if (rc) {
        nd->st = NULL;
        CHECK(nd->live == 0, "a failed tw_stack_new left %zu bytes allocated", nd->live);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(&fz, 0, offsetof(struct fz, q));
    memset(fz.f, 0, sizeof(fz.f));
    fz.fnext = 0;
    fz.q_overflow = 0;
    fz.integrity_off = false;
    fz.verbose = getenv("FUZZ_VERBOSE") != NULL;
    uint8_t hdr[FZ_HDR_LEN] = {0};
    rd r = {data, size};
    for (int i = 0; i < FZ_HDR_LEN; i++) {
        hdr[i] = u8(&r);
    }
    fz.msl = TW_SEC(1 + hdr[FZ_H_MSL] % 30u);
    fz.now = (hdr[FZ_H_OPTS] & 0x80) ? ((tw_time)1 << 40) + TW_US(hdr[FZ_H_MSL]) : TW_SEC(1);
    node_init(&fz.n[0], 0, hdr);
    node_init(&fz.n[1], 1, hdr);
    check_all();
    for (fz.op_index = 0; r.n && fz.op_index < MAX_OPS; fz.op_index++) {
        int op = u8(&r) % FZ_OP_COUNT;
        fz.last_op = op;
        if (fz.verbose) {
            static const char *names[FZ_OP_LAST] = {
                "DELIVER", "DELIVER_ALL", "DROP",   "DUP",      "CORRUPT",   "ADVANCE",
                "INJECT_RAW", "INJECT_IP", "INJECT_SEG", "OPEN", "BIND",     "LISTEN",
                "ACCEPT",  "CONNECT",     "SEND",   "RECV",     "SHUTDOWN",  "CLOSE",
                "ABORT",   "SETOPT",      "FAIL_ALLOC", "FAIL_TX", "PAIR",    "MISUSE"};
            fprintf(stderr, "op #%d %s (now %.6f, %d queued)\n", fz.op_index,
                    op < FZ_OP_LAST ? names[op] : "(none)",
                    (double)fz.now / 1e9, fz.qn);
        }
        op_run(op, &r);
        check_all();
    }
    teardown();
    return 0;
}
