/*
 * tw_bench.c -- the benchmark work on tcpwave: two stacks (client 10.0.0.1, server
 * 10.0.0.2) joined in memory, one thread, virtual time.
 *
 * Only the public API is used. The link is ours rather than src/sim so that the cost of
 * the harness is known and equal to the lwIP one: each transmitted packet is copied once
 * into a FIFO slot and handed to the other stack's tw_stack_input from there. After every
 * delivered packet the harness looks at the sockets of the work in progress (what an
 * event loop does after each read from the device). Time moves 1 us per lifecycle and
 * jumps to the next stack deadline only when nothing is in flight.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpwave.h"
#include "host/host.h" /* tw_host_hugemem (--hugepages) */

#define STACK "tcpwave"

#define ADDR_C 0x0a000001u /* 10.0.0.1 */
#define ADDR_S 0x0a000002u /* 10.0.0.2 */

static tw_stack *st_c, *st_s;
static tw_time now = TW_SEC(1);

/* ---- the in-memory link ------------------------------------------------------------------- */

#define QCAP 8192u
#define SLOT 1504u

typedef struct slot {
    uint16_t len;
    uint8_t to_server;
    uint8_t data[SLOT];
} slot;

static slot *q;
static uint32_t qhead, qtail;
static uint64_t pkts;
static bool drop_to_client; /* mem mode: lose the SYN+ACKs to keep SYN_RCVD entries */

static bool trace_pkts; /* BENCH_TRACE=1: print every packet (to see a lifecycle's shape) */

#ifdef BENCH_PHASES
/* tw_bench_phases (bench/phases.sh): one lifecycle in the middle of the run cut into its
   steps, a callgrind dump after each (the packet delivered with the stack's answers,
   then the application's reaction), to see where a lifecycle's instructions go. Not
   in tw_bench: the measured binary has none of it. */
#include <valgrind/callgrind.h>
static bool phase_on;
static char phase_label[64];
static void phase_dump(const char *what)
{
    if (phase_on) {
        CALLGRIND_DUMP_STATS_AT(what);
    }
}
/* "in S<flags>" / "in C<flags>": the packet about to be delivered, to the server or the
   client, named before the delivery so that the naming is not counted in it. */
static void phase_name_next(void);
#define PHASE(what) phase_dump(what)
#define PHASE_NAME_NEXT() phase_name_next()
#else
#define PHASE(what) ((void)0)
#define PHASE_NAME_NEXT() ((void)0)
#endif

static void trace_pkt(const uint8_t *p, size_t len, bool to_server)
{
    size_t ihl = (size_t)(p[0] & 15) * 4;
    if (len < ihl + 20 || p[9] != 6) {
        fprintf(stderr, "%s non-TCP len %zu\n", to_server ? "C>S" : "S>C", len);
        return;
    }
    const uint8_t *t = p + ihl;
    static const char names[] = "FSRPAUEC";
    char fl[9];
    int k = 0;
    for (int b = 0; b < 8; b++) {
        if (t[13] & (1u << b)) {
            fl[k++] = names[b];
        }
    }
    fl[k] = 0;
    fprintf(stderr, "%s %-4s payload %zu\n", to_server ? "C>S" : "S>C", fl,
            len - ihl - (size_t)(t[12] >> 4) * 4);
}

/* link_tx's rare cases, out of line: tracing, the mem mode's dropping, and the checks that
   fail the run. Returns false when the packet is not to be queued. */
static __attribute__((noinline)) bool link_tx_rare(const uint8_t *pkt, size_t len,
                                                   bool to_server)
{
    if (trace_pkts) {
        trace_pkt(pkt, len, to_server);
    }
    if (drop_to_client && !to_server) {
        return false;
    }
    if (len > SLOT) {
        bench_fail(STACK, "packet of %zu bytes beyond the MTU", len);
    }
    if (qtail - qhead == QCAP) {
        bench_fail(STACK, "link queue full");
    }
    return true;
}

static int link_tx(const uint8_t *pkt, size_t len, void *ud)
{
    bool to_server = ud != NULL;
    if (__builtin_expect(trace_pkts | drop_to_client | (len > SLOT) | (qtail - qhead == QCAP),
                         0) &&
        !link_tx_rare(pkt, len, to_server)) {
        return 0;
    }
    slot *s = &q[qtail++ & (QCAP - 1)];
    s->len = (uint16_t)len;
    s->to_server = to_server;
    pkts++;
    memcpy(s->data, pkt, len); /* last: nothing is kept live across the copy's call */
    return 0;
}

#ifdef BENCH_PHASES
static void phase_name_next(void)
{
    if (!phase_on || qhead == qtail) {
        return;
    }
    const slot *s = &q[qhead & (QCAP - 1)];
    const uint8_t *t = s->data + (s->data[0] & 15) * 4;
    static const char names[] = "FSRPAU";
    char fl[8];
    int k = 0;
    for (int b = 0; b < 6; b++) {
        if (t[13] & (1 << b)) {
            fl[k++] = names[b];
        }
    }
    fl[k] = 0;
    snprintf(phase_label, sizeof(phase_label), "%s <- %s", s->to_server ? "server" : "client",
             fl);
    CALLGRIND_DUMP_STATS_AT("(naming)"); /* (phases.sh leaves it out) */
}
#endif

/* Deliver one packet; returns 0 when nothing is in flight, else 1 (client) or 2 (server). */
static int deliver_one(void)
{
    if (qhead == qtail) {
        return 0;
    }
    slot *s = &q[qhead & (QCAP - 1)];
    tw_stack *to = s->to_server ? st_s : st_c;
    if (tw_stack_input(to, s->data, s->len, now) != TW_OK) {
        bench_fail(STACK, "tw_stack_input refused a packet");
    }
    int r = s->to_server ? 2 : 1;
    /* Back to the first slot whenever the link is empty, so that only as many slots as
       packets in flight are ever touched and they stay in cache (like a driver's ring
       with few buffers, or lwIP's freshly recycled pbufs). */
    if (++qhead == qtail) {
        qhead = qtail = 0;
    }
    return r;
}

static void run_due_timers(void)
{
    if (tw_stack_next_deadline(st_c) <= now) {
        tw_stack_on_timeout(st_c, now);
    }
    if (tw_stack_next_deadline(st_s) <= now) {
        tw_stack_on_timeout(st_s, now);
    }
}

/* Nothing in flight and the work is not done: jump to the earliest deadline. */
static void advance_to_timer(void)
{
    tw_time a = tw_stack_next_deadline(st_c), b = tw_stack_next_deadline(st_s);
    tw_time d = a < b ? a : b;
    if (d == TW_TIME_NEVER) {
        bench_fail(STACK, "stalled with no deadline pending");
    }
    if (d > now) {
        now = d;
    }
    run_due_timers();
}

static tw_allocator huge; /* --hugepages: one for both stacks (one thread) */
static void on_notify(tw_socket *s, unsigned ev, void *ud);

static void setup(const bench_args *a)
{
    q = malloc(sizeof(slot) * QCAP);
    if (q == NULL) {
        bench_fail(STACK, "out of memory");
    }
    memset(q, 0, sizeof(slot) * QCAP); /* fault the pages in now, not during the work */
    for (int i = 0; i < 2; i++) {
        tw_config cfg;
        tw_config_init(&cfg);
        cfg.addr = i == 0 ? ADDR_C : ADDR_S;
        if (a->mode == BENCH_LIFECYCLE || a->mode == BENCH_HOLD) {
            cfg.notify = on_notify; /* lc_poll's events (bulk and mem poll) */
        }
        if (a->hugepages) {
            if (i == 0 && tw_host_hugemem_new(&huge) != 0) {
                bench_fail(STACK, "out of memory");
            }
            cfg.allocator = &huge;
        }
        for (int k = 0; k < 32; k++) {
            cfg.entropy[k] = (uint8_t)(k * 37 + i * 101 + 1); /* fixed: runs repeat exactly */
        }
        tw_netdev dev = {.transmit = link_tx, .ud = i == 0 ? (void *)&st_s : NULL, .mtu = 1500};
        int r = tw_stack_new(i == 0 ? &st_c : &st_s, &cfg, &dev, now);
        if (r != TW_OK) {
            bench_fail(STACK, "tw_stack_new: %s", tw_strerror(r));
        }
    }
}

/* ---- connections ---------------------------------------------------------------------- */

typedef struct conn {
    tw_socket *c, *s;
    uint32_t c_got, s_got;
    bool lifecycle, req_sent, resp_sent, c_closed, s_closed;
} conn;

static tw_socket **listeners;
static unsigned nlisteners;
static uint8_t msg[BENCH_MSG], appbuf[256 * 1024];

static void listen_on(unsigned n)
{
    listeners = calloc(n, sizeof(*listeners));
    nlisteners = n;
    for (unsigned i = 0; i < n; i++) {
        tw_socket *l;
        int r = tw_socket_open(st_s, &l);
        if (r == TW_OK) {
            r = tw_socket_bind(l, (uint16_t)(BENCH_SPORT0 + i));
        }
        if (r == TW_OK) {
            r = tw_socket_listen(l, 128, now);
        }
        if (r != TW_OK) {
            bench_fail(STACK, "listener: %s", tw_strerror(r));
        }
        listeners[i] = l;
    }
}

static void send_msg(tw_socket *s, const char *who);

static void cli_open(conn *k, uint64_t t, bool lifecycle)
{
    memset(k, 0, sizeof(*k));
    k->lifecycle = lifecycle;
    int r = tw_socket_open(st_c, &k->c);
    if (r == TW_OK) {
        r = tw_socket_set_reuseaddr(k->c, true);
    }
    if (r == TW_OK) {
        r = tw_socket_bind(k->c, bench_cport(t));
    }
    if (r == TW_OK) {
        r = tw_socket_connect(k->c, ADDR_S, bench_sport(t), now);
    }
    if (r != TW_OK) {
        bench_fail(STACK, "client open/bind/connect (port %u): %s", bench_cport(t), tw_strerror(r));
    }
    if (lifecycle) {
        /* Queued during the handshake, the request leaves with its third segment (SPEC
           S5), as lwIP's harness gets by writing in the connected callback. */
        send_msg(k->c, "client");
        k->req_sent = true;
    }
}

/* The helpers take the socket's event mask, read once per look like an event loop does. */
static void check_error(tw_socket *s, unsigned ev, const char *who)
{
    if (ev & TW_EV_ERROR) {
        bench_fail(STACK, "%s: connection error %s", who, tw_strerror(tw_socket_error(s)));
    }
}

/* Take the connection of tuple t from its listener when it is ready. */
static void try_accept(conn *k, uint64_t t)
{
    if (k->s == NULL) {
        tw_socket *l = listeners[bench_sport(t) - BENCH_SPORT0];
        int r = tw_socket_accept(l, &k->s, now);
        if (r != TW_OK && r != TW_ERR_AGAIN) {
            bench_fail(STACK, "accept: %s", tw_strerror(r));
        }
    }
}

/* Read what is there into buf (cap >= 1); returns bytes, 0 at end of stream, -1 if none. */
static long recv_some(tw_socket *s, unsigned ev, uint8_t *buf, size_t cap)
{
    if (!(ev & TW_EV_READABLE)) {
        return -1;
    }
    tw_ssize r = tw_socket_recv(s, buf, cap, now);
    if (r == TW_ERR_AGAIN) {
        return -1;
    }
    if (r < 0) {
        bench_fail(STACK, "recv: %s", tw_strerror((int)r));
    }
    return (long)r;
}

static void send_msg(tw_socket *s, const char *who)
{
    tw_ssize r = tw_socket_send(s, msg, BENCH_MSG, now);
    if (r != BENCH_MSG) {
        bench_fail(STACK, "%s send: %s", who, r < 0 ? tw_strerror((int)r) : "short");
    }
}

static void cli_close(conn *k)
{
    tw_socket_close(k->c, now);
    k->c = NULL;
    k->c_closed = true;
}

/* The client's and the server's reactions to their socket's event mask `ev`. */
static void cli_event(conn *k, unsigned ev)
{
    check_error(k->c, ev, "client");
    if (!k->req_sent && (ev & TW_EV_CONNECTED)) {
        send_msg(k->c, "client");
        k->req_sent = true;
    }
    long r = recv_some(k->c, ev, appbuf + k->c_got, BENCH_MSG - k->c_got);
    if (r == 0) {
        bench_fail(STACK, "server closed first");
    }
    if (r > 0 && (k->c_got += (uint32_t)r) == BENCH_MSG) {
        cli_close(k); /* the client closes first */
    }
}

static void srv_event(conn *k, unsigned ev)
{
    check_error(k->s, ev, "server");
    /* Once the request is in, one more byte of room tells data from end of stream. */
    uint32_t room = k->s_got < BENCH_MSG ? BENCH_MSG - k->s_got : 1;
    long r = recv_some(k->s, ev, appbuf + k->s_got, room);
    if (r > 0 && k->s_got == BENCH_MSG) {
        bench_fail(STACK, "server: more data than the request");
    }
    if (r > 0 && (k->s_got += (uint32_t)r) == BENCH_MSG) {
        send_msg(k->s, "server");
        k->resp_sent = true;
    } else if (r == 0) {
        if (k->s_got != BENCH_MSG || !k->c_closed) {
            bench_fail(STACK, "server: end of stream too early");
        }
        tw_socket_close(k->s, now);
        k->s = NULL;
        k->s_closed = true;
    }
}

/* The server takes the connection from its listener, then looks at it once: the request
   may have come with the third segment, before anyone could be told. */
static void srv_accept(conn *k, uint64_t t)
{
    try_accept(k, t);
    if (k->s) {
        srv_event(k, tw_socket_events(k->s));
    }
}

/* Every socket of the lifecycle looked at, whether told of a change or not. */
static void lc_poll_all(conn *k, uint64_t t)
{
    if (k->s == NULL) {
        srv_accept(k, t);
    }
    if (!k->c_closed) {
        cli_event(k, tw_socket_events(k->c));
    }
    if (k->s && !k->s_closed) {
        srv_event(k, tw_socket_events(k->s));
    }
}

/*
 * The lifecycle's application is driven by the stack's notify hook (tw_config.notify), as
 * lwIP's harness is driven by its callbacks: it acts on the sockets the stack said
 * changed, not on every socket after every packet. A hook must not call into the stack,
 * so it only notes the socket and its event mask (the latest for a socket noted twice),
 * and lc_poll acts on them once the packet or the call is done. The checks stay those
 * of polling: a notification the stack failed to give stalls the lifecycle, and
 * run_until fails it ("made no progress").
 */
#define READY_CAP 16u
static struct {
    tw_socket *s;
    unsigned ev;
} ready[READY_CAP];
static unsigned nready;
static bool ready_lost; /* more sockets than READY_CAP noted: look at every one */

static void on_notify(tw_socket *s, unsigned ev, void *ud)
{
    (void)ud;
    for (unsigned i = 0; i < nready; i++) {
        if (ready[i].s == s) {
            ready[i].ev = ev;
            return;
        }
    }
    if (nready == READY_CAP) {
        ready_lost = true;
        return;
    }
    ready[nready].s = s;
    ready[nready].ev = ev;
    nready++;
}

/* lc_poll's work when something was noted (out of line: half the packets note nothing,
   and those then pay no register saves for it). */
static __attribute__((noinline)) void lc_poll_ready(conn *k, uint64_t t)
{
    if (ready_lost) {
        ready_lost = false;
        nready = 0;
        lc_poll_all(k, t);
        return;
    }
    /* Taken last first: what a reaction makes the stack notify is noted and taken too. */
    while (nready) {
        nready--;
        tw_socket *s = ready[nready].s;
        unsigned ev = ready[nready].ev;
        if (s == k->c) {
            cli_event(k, ev);
        } else if (s == k->s) {
            srv_event(k, ev);
        } else if (k->s == NULL && s == listeners[bench_sport(t) - BENCH_SPORT0] &&
                   (ev & TW_EV_ACCEPTABLE)) {
            srv_accept(k, t);
        }
        /* (anything else: a held connection of the hold mode, or a socket this
           lifecycle already closed) */
    }
}

/* The application side of one lifecycle, run after every delivered packet. */
static void lc_poll(conn *k, uint64_t t)
{
    if (nready | ready_lost) {
        lc_poll_ready(k, t);
    }
}

static size_t live_expected; /* connections held besides the one in progress */
static size_t tw_expected;

static bool lc_done(const conn *k)
{
    /* Both closed: neither stack holds a live connection beyond those held on purpose,
       and the client has one more TIME_WAIT record. */
    return k->s_closed && tw_stack_conn_count(st_c) == live_expected &&
           tw_stack_conn_count(st_s) == live_expected &&
           tw_stack_time_wait_count(st_c) == tw_expected;
}

static void est_poll(conn *k, uint64_t t)
{
    nready = 0; /* (polls instead) */
    ready_lost = false;
    try_accept(k, t);
    check_error(k->c, tw_socket_events(k->c), "client");
}

static bool est_done(const conn *k)
{
    return k->s != NULL && (tw_socket_events(k->c) & TW_EV_CONNECTED) &&
           tw_socket_state(k->s) == TW_STATE_ESTABLISHED;
}

static void close_poll(conn *k, uint64_t t)
{
    (void)t;
    if (!k->c_closed) {
        cli_close(k);
    }
    if (k->s && !k->s_closed && recv_some(k->s, tw_socket_events(k->s), appbuf, 1) == 0) {
        tw_socket_close(k->s, now);
        k->s = NULL;
        k->s_closed = true;
    }
}

/* Deliver, letting `poll` act after each packet, until `done`; timers when idle. */
static void run_until(conn *k, uint64_t t, void (*poll)(conn *, uint64_t),
                      bool (*done)(const conn *))
{
    for (int guard = 0; guard < 1000; guard++) {
        poll(k, t);
        PHASE_NAME_NEXT();
        while (deliver_one()) {
            PHASE(phase_label);
            poll(k, t);
            PHASE("app reaction");
            PHASE_NAME_NEXT();
        }
        if (done(k)) {
            return;
        }
        advance_to_timer();
    }
    bench_fail(STACK, "connection of tuple %llu made no progress", (unsigned long long)t);
}

static void one_lifecycle(uint64_t t)
{
    static conn k;
    nready = 0; /* (nothing of the last lifecycle's is left to act on) */
#ifdef BENCH_PHASES
    phase_on = t == 5000;
    PHASE("(before)");
    PHASE("(a dump alone)");
#endif
    cli_open(&k, t, true);
    PHASE("client app: open, bind, connect, send 64");
    tw_expected++;
    run_until(&k, t, lc_poll, lc_done);
    now += TW_US(1);
    run_due_timers();
    PHASE("harness: timers, next cycle");
#ifdef BENCH_PHASES
    phase_on = false;
#endif
}

static void do_lifecycle(const bench_args *a)
{
    listen_on(bench_nlisteners(a->n));
    bench_lc lc;
    uint64_t p0 = pkts, done = 0;
    bench_measure_begin(a);
    bench_lc_start(&lc, a, STACK);
    while (done < a->n) {
        one_lifecycle(done);
        done++;
        if (!bench_lc_tick(&lc, done)) {
            break;
        }
    }
    bench_measure_end(a);
    char extra[96];
    snprintf(extra, sizeof(extra), "time_wait=%zu mem_client=%zu mem_server=%zu",
             tw_stack_time_wait_count(st_c), tw_stack_mem_live(st_c), tw_stack_mem_live(st_s));
    bench_lc_finish(&lc, done, pkts - p0, extra);
}

static void do_bulk(const bench_args *a)
{
    listen_on(1);
    static conn k;
    cli_open(&k, 0, false);
    run_until(&k, 0, est_poll, est_done);
    const uint8_t *pat = bench_pattern();
    uint64_t total = a->n, sent = 0, rcvd = 0, p0 = pkts;
    bench_measure_begin(a);
    double t0 = bench_wall(), c0 = bench_cpu();
    for (uint64_t guard = 0; rcvd < total; guard++) {
        bool progress = false;
        while (sent < total) {
            size_t n = total - sent < BENCH_CHUNK ? (size_t)(total - sent) : BENCH_CHUNK;
            tw_ssize r = tw_socket_send(k.c, pat + sent % BENCH_PERIOD, n, now);
            if (r == TW_ERR_AGAIN || r == 0) {
                break;
            }
            if (r < 0) {
                bench_fail(STACK, "bulk send: %s", tw_strerror((int)r));
            }
            sent += (uint64_t)r;
            progress = true;
        }
        int to;
        bool any = false;
        while ((to = deliver_one()) != 0) {
            any = true;
            if (to != 2) {
                continue;
            }
            /* Like lwIP's receive callback: take the data as each segment arrives. A read
               that returns less than the buffer holds has taken all there was (what an
               event loop assumes too), so one read per segment, like one callback. */
            tw_ssize r;
            while ((r = tw_socket_recv(k.s, appbuf, sizeof(appbuf), now)) > 0) {
                if (!bench_check_chunk(appbuf, (size_t)r, rcvd)) {
                    bench_fail(STACK, "bulk data corrupted at %llu", (unsigned long long)rcvd);
                }
                rcvd += (uint64_t)r;
                if ((size_t)r < sizeof(appbuf)) {
                    r = TW_ERR_AGAIN;
                    break;
                }
            }
            if (r != TW_ERR_AGAIN) {
                bench_fail(STACK, "bulk recv: %s", r == 0 ? "end of stream" : tw_strerror((int)r));
            }
        }
        if (!any && !progress) {
            advance_to_timer();
        } else {
            run_due_timers();
        }
        if (guard > total) {
            bench_fail(STACK, "bulk transfer made no progress");
        }
    }
    double t = bench_wall() - t0, c = bench_cpu() - c0;
    bench_measure_end(a);
    bench_out("bulk", STACK, "bytes=%llu wall=%.6f cpu=%.6f gbps=%.3f pkts=%llu",
              (unsigned long long)total, t, c, (double)total * 8 / t / 1e9,
              (unsigned long long)(pkts - p0));
}

static size_t mem_both(void)
{
    return tw_stack_mem_live(st_c) + tw_stack_mem_live(st_s);
}

static void do_mem(const bench_args *a)
{
    uint64_t n = a->n;
    conn *ks = calloc(n, sizeof(conn));
    if (ks == NULL) {
        bench_fail(STACK, "out of memory");
    }
    listen_on(bench_nlisteners(2 * n));
    size_t m0 = mem_both(), h0 = bench_heap_live();
    for (uint64_t i = 0; i < n; i++) {
        cli_open(&ks[i], i, false);
        run_until(&ks[i], i, est_poll, est_done);
    }
    size_t m_est = mem_both(), h_est = bench_heap_live();
    for (uint64_t i = 0; i < n; i++) {
        tw_expected++;
        live_expected = n - i - 1;
        run_until(&ks[i], i, close_poll, lc_done);
    }
    size_t m_tw = mem_both(), h_tw = bench_heap_live();
    if (tw_stack_time_wait_count(st_c) != n) {
        bench_fail(STACK, "expected %llu TIME_WAIT records, have %zu", (unsigned long long)n,
                   tw_stack_time_wait_count(st_c));
    }
    /* Half-open: the server's SYN+ACKs are lost, so each SYN leaves a SYN_RCVD entry (or,
       past the SYN queue, a SYN cookie and nothing: we divide by the entries held). */
    drop_to_client = true;
    size_t s0 = tw_stack_mem_live(st_s), c0 = tw_stack_conn_count(st_s);
    for (uint64_t i = 0; i < n; i++) {
        conn k;
        cli_open(&k, n + i, false);
        while (deliver_one()) {
        }
    }
    size_t entries = tw_stack_conn_count(st_s) - c0;
    size_t s1 = tw_stack_mem_live(st_s);
    bench_out("mem", STACK,
              "n=%llu counted=1 est_per_end=%.1f tw_per_conn=%.1f synrcvd_per_entry=%.1f "
              "synrcvd_entries=%zu heap_est_per_end=%.1f heap_tw_per_conn=%.1f heap_counted=%d",
              (unsigned long long)n, (double)(m_est - m0) / (2.0 * (double)n),
              (double)(m_tw - m0) / (double)n, entries ? (double)(s1 - s0) / (double)entries : -1.0,
              entries, (double)(h_est - h0) / (2.0 * (double)n), (double)(h_tw - h0) / (double)n,
              bench_heap_counting());
    free(ks);
}

static void do_hold(const bench_args *a)
{
    uint64_t n = a->n;
    conn *ks = calloc(n, sizeof(conn));
    if (ks == NULL) {
        bench_fail(STACK, "out of memory");
    }
    listen_on(bench_nlisteners(n + a->w));
    size_t m0 = mem_both();
    double t0 = bench_wall();
    bool partial = false;
    uint64_t i = 0;
    for (; i < n; i++) {
        cli_open(&ks[i], i, false);
        run_until(&ks[i], i, est_poll, est_done);
        if (a->time_limit > 0 && (i & 255) == 0 && bench_wall() - t0 > a->time_limit) {
            partial = true;
            i++;
            break;
        }
    }
    double setup = bench_wall() - t0;
    size_t peak = tw_stack_mem_peak(st_c) + tw_stack_mem_peak(st_s) - m0;
    live_expected = i;
    bench_measure_begin(a); /* --callgrind: the lifecycles while the n are held */
    double t1 = bench_wall();
    uint64_t w = 0;
    for (; w < a->w; w++) {
        one_lifecycle(n + w);
        if (a->time_limit > 0 && (w & 255) == 0 && bench_wall() - t1 > a->time_limit) {
            partial = true;
            w++;
            break;
        }
    }
    double lt = bench_wall() - t1;
    bench_measure_end(a);
    bench_out("hold", STACK,
              "n=%llu target=%llu partial=%d setup_s=%.6f heap_peak=%zu rss_kb=%ld w=%llu "
              "lifecycle_ns=%.1f",
              (unsigned long long)i, (unsigned long long)n, partial, setup, peak,
              bench_peak_rss_kb(), (unsigned long long)w, lt * 1e9 / (double)w);
    free(ks);
}

int main(int argc, char **argv)
{
    bench_args a;
    bench_parse_args(argc, argv, STACK, &a);
    memcpy(msg, bench_pattern(), sizeof(msg));
    trace_pkts = getenv("BENCH_TRACE") != NULL;
    setup(&a);
    switch (a.mode) {
    case BENCH_LIFECYCLE:
        do_lifecycle(&a);
        break;
    case BENCH_BULK:
        do_bulk(&a);
        break;
    case BENCH_MEM:
        do_mem(&a);
        break;
    case BENCH_HOLD:
        do_hold(&a);
        break;
    }
    tw_stack_free(st_c);
    tw_stack_free(st_s);
    if (a.hugepages) {
        tw_host_hugemem_free(&huge);
    }
    return 0;
}
