/*
 * lwip_bench.c -- the benchmark work on lwIP as Debian ships it (liblwip-dev 2.1.3).
 *
 * Debian builds lwIP for the GNU Hurd: a shared library with NO_SYS 0, core locking,
 * MEM_LIBC_MALLOC and MEMP_MEM_MALLOC (every pcb, segment and pbuf comes from malloc),
 * LWIP_STATS 0, TCP_MSS 1460, TCP_WND = TCP_SND_BUF = 65535 with window scale 1,
 * checksums generated and checked in software (CHECKSUM_ON_COPY for sent data),
 * assertions compiled in. The raw API still works without the tcpip thread: lwip_init()
 * sets the stack up, the core-lock check passes while no tcpip thread exists, and
 * sys_check_timeouts() runs the timers from our loop. We link against that library as is.
 *
 * Driven like the tcpwave harness: one thread, two netifs (client 10.0.1.1, server
 * 10.0.2.1) whose output functions copy each packet into a fresh pbuf queued for the other
 * netif's input; time is virtual (sys_now, which the library calls through its PLT, is
 * ours) and moves 1 us per lifecycle, or to the next lwIP timer when nothing is in flight.
 *
 * One difference we cannot remove: lwIP keeps its state in globals, so one process holds
 * one lwIP, and both ends of every connection sit in the same pcb lists. A SYN arriving at
 * the server therefore walks the client's TIME_WAIT list before the listeners.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lwip/init.h>
#include <lwip/ip.h>
#include <lwip/ip_addr.h>
#include <lwip/memp.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/priv/memp_priv.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/tcp.h>
#include <lwip/timeouts.h>

#define STACK "lwip"

/* ---- virtual time ------------------------------------------------------------------------ */

static uint64_t vt_ns = 1000000000ull;

/* Interposes the library's own sys_now (exported with --export-dynamic-symbol). */
u32_t sys_now(void);
u32_t sys_now(void)
{
    return (u32_t)(vt_ns / 1000000u);
}

/* ---- the in-memory link ------------------------------------------------------------------- */

#define QCAP (1u << 16)

typedef struct qent {
    struct pbuf *p;
    struct netif *dst;
    size_t heap; /* bytes the copy took from malloc (mem mode only) */
} qent;

static qent q[QCAP];
static uint32_t qhead, qtail;
static uint64_t pkts;
static struct netif nif_c, nif_s;
static ip4_addr_t addr_c, addr_s;
static ip_addr_t ipa_c, ipa_s; /* the same, in the form the TCP API takes */
static bool drop_to_client;    /* mem mode: lose the SYN+ACKs to keep SYN_RCVD entries */
static size_t heap_delivered;  /* heap of queued copies handed to lwIP (freed by it) */

static err_t link_output(struct netif *n, struct pbuf *p, const ip4_addr_t *dst)
{
    (void)dst;
    if (drop_to_client && n == &nif_s) {
        return ERR_OK;
    }
    if (qtail - qhead == QCAP) {
        bench_fail(STACK, "link queue full");
    }
    size_t h0 = bench_heap_live();
    struct pbuf *c = pbuf_alloc(PBUF_RAW, p->tot_len, PBUF_RAM);
    if (c == NULL) {
        return ERR_MEM;
    }
    if (pbuf_copy(c, p) != ERR_OK) {
        bench_fail(STACK, "pbuf_copy");
    }
    qent *e = &q[qtail++ & (QCAP - 1)];
    e->p = c;
    e->dst = n == &nif_c ? &nif_s : &nif_c;
    e->heap = bench_heap_live() - h0;
    pkts++;
    return ERR_OK;
}

/* Deliver everything in flight, including what the deliveries send; returns the count. */
static uint64_t drain(void)
{
    uint64_t k = 0;
    while (qhead != qtail) {
        qent e = q[qhead++ & (QCAP - 1)];
        heap_delivered += e.heap;
        e.dst->input(e.p, e.dst);
        k++;
    }
    qhead = qtail = 0; /* reuse the first entries: they stay in cache (see tw_bench.c) */
    return k;
}

/* Nothing in flight and the work is not done: jump to lwIP's next timer and run it. */
static void advance_to_timer(void)
{
    u32_t ms = sys_timeouts_sleeptime();
    if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE) {
        bench_fail(STACK, "stalled with no timer pending");
    }
    vt_ns += (uint64_t)ms * 1000000u;
    sys_check_timeouts();
}

static err_t nif_init(struct netif *n)
{
    n->name[0] = 'b';
    n->name[1] = n == &nif_c ? 'c' : 's';
    n->output = link_output;
    n->mtu = 1500;
    return ERR_OK;
}

static void setup(void)
{
    memset(q, 0, sizeof(q)); /* fault the pages in now, not during the work */
    lwip_init();
    ip4_addr_t mask, gw;
    IP4_ADDR(&addr_c, 10, 0, 1, 1);
    IP4_ADDR(&addr_s, 10, 0, 2, 1);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    ip4_addr_set_zero(&gw);
    ip_addr_copy_from_ip4(ipa_c, addr_c);
    ip_addr_copy_from_ip4(ipa_s, addr_s);
    /* Different subnets, and every pcb is tied to its netif (tcp_bind_netif, inherited by
       accepted pcbs), so a packet to the other side never takes lwIP's loopback path. */
    if (!netif_add(&nif_c, &addr_c, &mask, &gw, NULL, nif_init, ip_input) ||
        !netif_add(&nif_s, &addr_s, &mask, &gw, NULL, nif_init, ip_input)) {
        bench_fail(STACK, "netif_add");
    }
    netif_set_up(&nif_c);
    netif_set_link_up(&nif_c);
    netif_set_up(&nif_s);
    netif_set_link_up(&nif_s);
    /* Prove the library reads our clock: its timers must move exactly with vt_ns. */
    u32_t a = sys_timeouts_sleeptime();
    vt_ns += 10 * 1000000u;
    u32_t b = sys_timeouts_sleeptime();
    if (a == SYS_TIMEOUTS_SLEEPTIME_INFINITE || a < 10 || b != a - 10) {
        bench_fail(STACK, "sys_now interposition did not take (sleeptime %u then %u)", a, b);
    }
    sys_check_timeouts();
}

/* ---- connections ---------------------------------------------------------------------- */

typedef struct conn {
    struct tcp_pcb *c, *s;
    uint32_t c_got, s_got;
    bool connected, s_closed, c_closed, lifecycle;
} conn;

static conn *conns;
static uint64_t conns_base, conns_n;
static uint8_t msg[BENCH_MSG], appbuf[256 * 1024];
static uint64_t bulk_rx;

/* The tuple plan tells which connection a server-side pcb belongs to. */
static conn *conn_of(u16_t sport, u16_t cport)
{
    uint64_t t = (uint64_t)(sport - BENCH_SPORT0) * BENCH_NCPORTS + (cport - BENCH_CPORT0);
    if (t < conns_base || t - conns_base >= conns_n) {
        bench_fail(STACK, "connection for unknown tuple %u->%u", cport, sport);
    }
    return &conns[t - conns_base];
}

static void on_err(void *arg, err_t err)
{
    (void)arg;
    bench_fail(STACK, "connection error %d", err);
}

static void copy_out(struct pbuf *p, uint32_t at, uint32_t cap)
{
    if (p->tot_len > cap - at) {
        bench_fail(STACK, "more data than expected");
    }
    pbuf_copy_partial(p, appbuf + at, p->tot_len, 0);
}

static err_t srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    conn *k = arg;
    (void)err;
    if (p == NULL) {
        /* The client closed first; close ours (the FIN goes out with the ACK). */
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_err(pcb, NULL);
        if (tcp_close(pcb) != ERR_OK) {
            bench_fail(STACK, "server tcp_close");
        }
        k->s_closed = true;
        return ERR_OK;
    }
    copy_out(p, k->s_got, BENCH_MSG);
    k->s_got += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (k->s_got == BENCH_MSG && tcp_write(pcb, msg, BENCH_MSG, TCP_WRITE_FLAG_COPY) != ERR_OK) {
        bench_fail(STACK, "server tcp_write");
    }
    return ERR_OK;
}

static err_t srv_recv_bulk(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (p == NULL) {
        return ERR_OK;
    }
    /* tot_len is a u16_t, so one copy into the 256 KiB application buffer always fits. */
    u16_t n = p->tot_len;
    pbuf_copy_partial(p, appbuf, n, 0);
    if (!bench_check_chunk(appbuf, n, bulk_rx)) {
        bench_fail(STACK, "bulk data corrupted at offset %llu", (unsigned long long)bulk_rx);
    }
    bulk_rx += n;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static bool bulk_mode;

static err_t srv_accept(void *arg, struct tcp_pcb *npcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || npcb == NULL) {
        bench_fail(STACK, "accept error %d", err);
    }
    tcp_err(npcb, on_err);
    conn *k = conn_of(npcb->local_port, npcb->remote_port);
    k->s = npcb;
    tcp_arg(npcb, k);
    tcp_recv(npcb, bulk_mode ? srv_recv_bulk : srv_recv);
    return ERR_OK;
}

static err_t cli_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    conn *k = arg;
    (void)err;
    k->connected = true;
    /* Written inside the callback, the request leaves on the handshake's third segment. */
    if (k->lifecycle && tcp_write(pcb, msg, BENCH_MSG, TCP_WRITE_FLAG_COPY) != ERR_OK) {
        bench_fail(STACK, "client tcp_write");
    }
    return ERR_OK;
}

static void cli_close(conn *k)
{
    tcp_arg(k->c, NULL);
    tcp_recv(k->c, NULL);
    tcp_err(k->c, NULL);
    if (tcp_close(k->c) != ERR_OK) {
        bench_fail(STACK, "client tcp_close");
    }
    k->c_closed = true;
}

static err_t cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    conn *k = arg;
    (void)err;
    if (p == NULL) {
        bench_fail(STACK, "server closed first");
    }
    copy_out(p, k->c_got, BENCH_MSG);
    k->c_got += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (k->c_got == BENCH_MSG) {
        cli_close(k); /* the client closes first */
    }
    return ERR_OK;
}

static void listen_on(unsigned nports)
{
    for (unsigned i = 0; i < nports; i++) {
        struct tcp_pcb *l = tcp_new();
        if (l == NULL) {
            bench_fail(STACK, "tcp_new");
        }
        tcp_bind_netif(l, &nif_s);
        if (tcp_bind(l, &ipa_s, (u16_t)(BENCH_SPORT0 + i)) != ERR_OK) {
            bench_fail(STACK, "listener bind");
        }
        struct tcp_pcb *lp = tcp_listen_with_backlog(l, 255);
        if (lp == NULL) {
            bench_fail(STACK, "tcp_listen");
        }
        tcp_accept(lp, srv_accept);
    }
}

/* Open the client of tuple t; its SYN is queued, not delivered. */
static void cli_open(conn *k, uint64_t t, bool lifecycle)
{
    memset(k, 0, sizeof(*k));
    k->lifecycle = lifecycle;
    struct tcp_pcb *c = tcp_new();
    if (c == NULL) {
        bench_fail(STACK, "tcp_new");
    }
    ip_set_option(c, SOF_REUSEADDR);
    tcp_bind_netif(c, &nif_c);
    if (tcp_bind(c, &ipa_c, bench_cport(t)) != ERR_OK) {
        bench_fail(STACK, "client bind to port %u", bench_cport(t));
    }
    k->c = c;
    tcp_arg(c, k);
    tcp_recv(c, cli_recv);
    tcp_err(c, on_err);
    err_t e = tcp_connect(c, &ipa_s, bench_sport(t), cli_connected);
    if (e != ERR_OK) {
        bench_fail(STACK, "tcp_connect %d", e);
    }
}

/* Deliver until `done(k)` holds, jumping to timers when idle (bounded). */
static void run_until(conn *k, bool (*done)(const conn *))
{
    for (int guard = 0; guard < 1000; guard++) {
        drain();
        if (done(k)) {
            return;
        }
        advance_to_timer();
    }
    bench_fail(STACK, "connection did not make progress");
}

static bool lc_done(const conn *k)
{
    /* Both closed: the server pcb is gone after LAST_ACK, the client's heads TIME_WAIT. */
    return k->s_closed && tcp_tw_pcbs == k->c && k->c->state == TIME_WAIT;
}

static bool est_done(const conn *k)
{
    return k->connected && k->s != NULL && k->s->state == ESTABLISHED;
}

static bool closed_done(const conn *k)
{
    return k->s_closed && tcp_tw_pcbs == k->c && k->c->state == TIME_WAIT;
}

static void one_lifecycle(uint64_t t)
{
    conns_base = t;
    cli_open(&conns[0], t, true);
    run_until(&conns[0], lc_done);
    vt_ns += 1000;
    sys_check_timeouts();
}

static uint64_t count_list(struct tcp_pcb *p)
{
    uint64_t n = 0;
    for (; p; p = p->next) {
        n++;
    }
    return n;
}

static void do_lifecycle(const bench_args *a)
{
    static conn one;
    conns = &one;
    conns_n = 1;
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
    uint64_t tw = count_list(tcp_tw_pcbs);
    if (tw != done || tcp_active_pcbs != NULL) {
        bench_fail(STACK, "expected %llu TIME_WAIT pcbs and none active, have %llu",
                   (unsigned long long)done, (unsigned long long)tw);
    }
    char extra[64];
    snprintf(extra, sizeof(extra), "time_wait=%llu", (unsigned long long)tw);
    bench_lc_finish(&lc, done, pkts - p0, extra);
}

static void do_bulk(const bench_args *a)
{
    static conn k;
    conns = &k;
    conns_base = 0;
    conns_n = 1;
    listen_on(1);
    bulk_mode = true;
    cli_open(&k, 0, false);
    run_until(&k, est_done);
    const uint8_t *pat = bench_pattern();
    uint64_t total = a->n, sent = 0, p0 = pkts;
    bench_measure_begin(a);
    double t0 = bench_wall(), c0 = bench_cpu();
    for (uint64_t guard = 0; bulk_rx < total; guard++) {
        bool progress = false;
        while (sent < total) {
            uint64_t n = tcp_sndbuf(k.c);
            if (n > total - sent) {
                n = total - sent;
            }
            if (n > BENCH_CHUNK) {
                n = BENCH_CHUNK;
            }
            if (n == 0) {
                break;
            }
            err_t e = tcp_write(k.c, pat + sent % BENCH_PERIOD, (u16_t)n, TCP_WRITE_FLAG_COPY);
            if (e == ERR_MEM) {
                break;
            }
            if (e != ERR_OK) {
                bench_fail(STACK, "bulk tcp_write %d", e);
            }
            sent += n;
            progress = true;
        }
        tcp_output(k.c);
        if (drain() == 0 && !progress) {
            advance_to_timer();
        }
        sys_check_timeouts();
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

/* Set up connections for tuples [base, base + n) and wait until both ends are
   ESTABLISHED, one after the other like the lifecycles. */
static void establish(uint64_t base, uint64_t n)
{
    conns_base = base;
    conns_n = n;
    for (uint64_t i = 0; i < n; i++) {
        cli_open(&conns[i], base + i, false);
        run_until(&conns[i], est_done);
    }
}

static void do_mem(const bench_args *a)
{
    uint64_t n = a->n;
    conns = calloc(n, sizeof(conn));
    if (conns == NULL) {
        bench_fail(STACK, "out of memory");
    }
    listen_on(bench_nlisteners(2 * n));
    size_t h0 = bench_heap_live();
    establish(0, n);
    size_t h_est = bench_heap_live();
    /* Close them all as in a lifecycle: client first, then the server on end of stream. */
    for (uint64_t i = 0; i < n; i++) {
        cli_close(&conns[i]);
        run_until(&conns[i], closed_done);
    }
    size_t h_tw = bench_heap_live();
    if (count_list(tcp_tw_pcbs) != n) {
        bench_fail(STACK, "TIME_WAIT count");
    }
    /* Half-open: the server's SYN+ACKs are lost, so each SYN leaves a SYN_RCVD pcb. */
    conns_base = n;
    drop_to_client = true;
    for (uint64_t i = 0; i < n; i++) {
        cli_open(&conns[i], n + i, false);
    }
    size_t h_syn0 = bench_heap_live();
    heap_delivered = 0;
    drain();
    size_t h_syn = bench_heap_live() + heap_delivered;
    uint64_t synrcvd = 0;
    for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next) {
        synrcvd += p->state == SYN_RCVD;
    }
    if (synrcvd != n) {
        bench_fail(STACK, "expected %llu SYN_RCVD pcbs, have %llu", (unsigned long long)n,
                   (unsigned long long)synrcvd);
    }
    bench_out("mem", STACK,
              "n=%llu counted=%d est_per_end=%.1f tw_per_conn=%.1f synrcvd_per_entry=%.1f "
              "sizeof_tcp_pcb=%u sizeof_tcp_pcb_listen=%u memp_tcp_pcb=%u memp_tcp_seg=%u",
              (unsigned long long)n, bench_heap_counting(),
              (double)(h_est - h0) / (2.0 * (double)n), (double)(h_tw - h0) / (double)n,
              (double)(h_syn - h_syn0) / (double)n, (unsigned)sizeof(struct tcp_pcb),
              (unsigned)sizeof(struct tcp_pcb_listen), memp_pools[MEMP_TCP_PCB]->size,
              memp_pools[MEMP_TCP_SEG]->size);
}

static void do_hold(const bench_args *a)
{
    uint64_t n = a->n;
    conns = calloc(n, sizeof(conn));
    if (conns == NULL) {
        bench_fail(STACK, "out of memory");
    }
    listen_on(bench_nlisteners(n + a->w));
    size_t h0 = bench_heap_live();
    double t0 = bench_wall();
    bool partial = false;
    uint64_t i = 0;
    conns_base = 0;
    conns_n = n;
    for (; i < n; i++) {
        cli_open(&conns[i], i, false);
        run_until(&conns[i], est_done);
        if (a->time_limit > 0 && (i & 255) == 0 && bench_wall() - t0 > a->time_limit) {
            partial = true;
            i++;
            break;
        }
    }
    double setup = bench_wall() - t0;
    size_t peak = bench_heap_peak() - h0;
    conn *held = conns;
    static conn one;
    conns = &one;
    conns_n = 1;
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
              (unsigned long long)i, (unsigned long long)n, partial, setup,
              bench_heap_counting() ? peak : 0, bench_peak_rss_kb(), (unsigned long long)w,
              lt * 1e9 / (double)w);
    free(held);
}

int main(int argc, char **argv)
{
    bench_args a;
    bench_parse_args(argc, argv, STACK, &a);
    memcpy(msg, bench_pattern(), sizeof(msg));
    setup();
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
    return 0;
}
