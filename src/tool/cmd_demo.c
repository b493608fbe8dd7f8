/*
 * cmd_demo.c -- `tcpwave demo`: the seed article's pictures drawn from real packets.
 *
 * Live (root and TUN): the process moves into a private network namespace
 * (unshare(CLONE_NEWNET)), brings up lo and a TUN device, and runs two connections between
 * tcpwave and the Linux kernel, whose sockets live in this same process:
 *
 *   1. a kernel client connects to a tcpwave server, sends a request, gets a response,
 *      half-closes (S10-S12); tcpwave goes on sending in CLOSE-WAIT, then closes (S13-S14);
 *   2. a tcpwave client connects to a kernel server with its request queued before the
 *      handshake completes (data on the third segment, S5), closes first, and passes
 *      through TIME-WAIT for 2*MSL to CLOSED (S15).
 *
 * The kernel's states come from sock_diag (host/ksock.c), tcpwave's from its trace.
 * Without root or TUN, or with --sim, the same story runs between two tcpwave stacks on
 * the simulated link, on virtual time.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sim/sim.h"
#include "tool/tool.h"

#define DEMO_REQ "GET /seed-article HTTP/1.1\r\nHost: tcpwave\r\n\r\n"
#define DEMO_PART1 1000 /* response bytes before the client's FIN */
#define DEMO_PART2 2000 /* bytes the server sends in CLOSE-WAIT (S12) */
#define DEMO_MSL TW_SEC(1)

static void fill(uint8_t *buf, size_t len, uint8_t salt)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)('a' + (i * 7 + salt) % 26);
    }
}

/* ====================================================================================== */
/* In memory: two stacks over src/sim                                                     */
/* ====================================================================================== */

struct sdemo {
    tw_tool *t;
    tw_sim *sim;
    tw_stack *cst, *sst;
    tw_ladder *lad;
    tw_pcap *pcap;
    uint64_t wall0;
};

static void sim_tap(const uint8_t *pkt, size_t len, tw_time now, int from, int to, void *ud)
{
    struct sdemo *d = ud;
    (void)from;
    (void)to;
    tw_pcap_write(d->pcap, pkt, len, d->wall0 + now);
}

/* Advance virtual time in small steps until cond() holds, then a little longer so the
   ACKs that follow are drawn too. Bounded by `limit` of virtual time. */
static bool sim_until(struct sdemo *d, bool (*cond)(void *), void *ud, tw_time limit)
{
    tw_time end = tw_sim_now(d->sim) + limit;
    while (tw_sim_now(d->sim) < end) {
        if (cond != NULL && cond(ud)) {
            tw_sim_run_until(d->sim, tw_sim_now(d->sim) + TW_MS(30));
            tw_ladder_flush(d->lad, false);
            return true;
        }
        tw_sim_run_until(d->sim, tw_sim_now(d->sim) + TW_MS(1));
        tw_ladder_flush(d->lad, false);
    }
    return cond == NULL;
}

static bool has_events(void *ud)
{
    tw_socket **s = ud;
    return *s != NULL && (tw_socket_events(*s) & TW_EV_READABLE);
}

static bool acceptable(void *ud)
{
    return (tw_socket_events(ud) & TW_EV_ACCEPTABLE) != 0;
}

static bool peer_closed(void *ud)
{
    return (tw_socket_events(ud) & TW_EV_PEER_CLOSED) != 0;
}

static bool all_acked(void *ud)
{
    return tw_socket_tx_pending(ud) == 0;
}

struct idle_arg {
    tw_stack *a, *b;
};

static bool stacks_idle(void *ud)
{
    struct idle_arg *ia = ud;
    return tw_stack_conn_count(ia->a) == 0 && tw_stack_conn_count(ia->b) == 0 &&
           tw_stack_time_wait_count(ia->a) == 0 && tw_stack_time_wait_count(ia->b) == 0;
}

/* Read everything available; returns bytes read, sets *eof at end of stream. */
static size_t drain(tw_socket *s, tw_time now, bool *eof)
{
    uint8_t buf[4096];
    size_t total = 0;
    for (int i = 0; i < 1000; i++) {
        tw_ssize r = tw_socket_recv(s, buf, sizeof buf, now);
        if (r == 0) {
            *eof = true;
            break;
        }
        if (r < 0) {
            break;
        }
        total += (size_t)r;
    }
    return total;
}

static int sim_fail(struct sdemo *d, const char *what)
{
    tw_ladder_flush(d->lad, true);
    return tw_fail(d->t, "demo: %s (virtual time %.3f s)", what,
                   (double)(tw_sim_now(d->sim) - TW_SEC(1)) / 1e9);
}

static int sim_story(struct sdemo *d)
{
    const uint32_t caddr = 0x0a000001u, saddr = 0x0a000002u;
    tw_ladder *l = d->lad;
    tw_time now = tw_sim_now(d->sim);
    tw_socket *lsn = NULL, *cli = NULL, *srv = NULL;
    tw_socket_open(d->sst, &lsn);
    tw_socket_bind(lsn, 80);
    tw_socket_listen(lsn, 8, now);
    tw_ladder_note(l, now, "server: listen(80)");

    /* S5: the request is queued in SYN-SENT, so it leaves with the third segment. */
    tw_ladder_note(l, now, "client: connect(10.0.0.2:80), send(%zu-byte request) at once",
                   strlen(DEMO_REQ));
    int rc = tw_socket_open(d->cst, &cli);
    if (rc == TW_OK) {
        rc = tw_socket_connect(cli, saddr, 80, now);
    }
    if (rc != TW_OK) {
        return tw_fail(d->t, "demo: connect: %s", tw_strerror(rc));
    }
    tw_ssize q = tw_socket_send(cli, DEMO_REQ, strlen(DEMO_REQ), now);
    if (q == TW_ERR_AGAIN) {
        tw_ladder_note(l, now, "client: send() = AGAIN while connecting; sending after it");
    }
    if (!sim_until(d, acceptable, lsn, TW_SEC(10))) {
        return sim_fail(d, "the server never accepted the connection");
    }
    now = tw_sim_now(d->sim);
    if (tw_socket_accept(lsn, &srv, now) != TW_OK) {
        return sim_fail(d, "accept failed");
    }
    if (q == TW_ERR_AGAIN) {
        tw_socket_send(cli, DEMO_REQ, strlen(DEMO_REQ), now);
    }
    if (!sim_until(d, has_events, &srv, TW_SEC(10))) {
        return sim_fail(d, "the request never arrived");
    }
    now = tw_sim_now(d->sim);
    bool eof = false;
    uint8_t body[DEMO_PART1 + DEMO_PART2];
    fill(body, sizeof body, 3);
    tw_ladder_note(l, now, "server: accept(), recv() = %zu bytes, send(%d bytes of response)",
                   tw_socket_rx_pending(srv), DEMO_PART1);
    drain(srv, now, &eof);
    tw_socket_send(srv, body, DEMO_PART1, now);

    if (!sim_until(d, has_events, &cli, TW_SEC(10))) {
        return sim_fail(d, "the response never arrived");
    }
    now = tw_sim_now(d->sim);
    tw_ladder_note(l, now, "client: recv() = %zu bytes, shutdown(SHUT_WR): the client closes first",
                   tw_socket_rx_pending(cli));
    drain(cli, now, &eof);
    tw_socket_shutdown(cli, TW_SHUT_WR, now);

    if (!sim_until(d, peer_closed, srv, TW_SEC(10))) {
        return sim_fail(d, "the client's FIN never arrived");
    }
    now = tw_sim_now(d->sim);
    tw_ladder_note(l, now,
                   "server: recv() = 0 (end of stream); half-closed, it sends %d more bytes",
                   DEMO_PART2);
    eof = false;
    drain(srv, now, &eof);
    tw_socket_send(srv, body + DEMO_PART1, DEMO_PART2, now);
    if (!sim_until(d, all_acked, srv, TW_SEC(10))) {
        return sim_fail(d, "the half-close data was never acknowledged");
    }
    now = tw_sim_now(d->sim);
    tw_ladder_note(l, now, "client: recv() = %zu bytes in FIN-WAIT-2", tw_socket_rx_pending(cli));
    drain(cli, now, &eof);
    sim_until(d, NULL, NULL, TW_MS(30));
    now = tw_sim_now(d->sim);
    tw_ladder_note(l, now, "server: close()");
    tw_socket_close(srv, now);
    srv = NULL;

    if (!sim_until(d, peer_closed, cli, TW_SEC(10))) {
        return sim_fail(d, "the server's FIN never arrived");
    }
    now = tw_sim_now(d->sim);
    tw_ladder_note(l, now,
                   "client: recv() = 0 (end of stream), close(); TIME-WAIT lasts 2*MSL = %.1f s",
                   2.0 * (double)(d->t->msl_given ? d->t->host.msl : DEMO_MSL) / 1e9);
    eof = false;
    drain(cli, now, &eof);
    tw_socket_close(cli, now);
    cli = NULL;
    tw_socket_close(lsn, now);
    struct idle_arg ia = {d->cst, d->sst};
    if (!sim_until(d, stacks_idle, &ia, TW_SEC(600))) {
        return sim_fail(d, "connections still open after 600 s");
    }
    tw_ladder_flush(l, true);
    printf("\n  both stacks: 0 connections, 0 TIME-WAIT records left; %llu packets on the link\n",
           (unsigned long long)tw_sim_sent(d->sim));
    (void)caddr;
    return TW_EXIT_OK;
}

int tw_demo_sim(tw_tool *t)
{
    struct sdemo d;
    memset(&d, 0, sizeof d);
    d.t = t;
    tw_ladder_opts lo;
    tw_ladder_opts_init(&lo, stdout);
    d.lad = tw_ladder_new(&lo);
    if (d.lad == NULL || tw_sim_new(&d.sim, 1, TW_SEC(1)) != TW_OK) {
        tw_ladder_free(d.lad);
        return tw_fail(t, "demo: out of memory");
    }
    if (t->host.pcap != NULL) {
        int rc = tw_pcap_open(&d.pcap, t->host.pcap);
        if (rc < 0) {
            tw_sim_free(d.sim);
            tw_ladder_free(d.lad);
            return tw_fail(t, "cannot write capture %s: %s", t->host.pcap, strerror(-rc));
        }
        d.wall0 = tw_host_wall_ns() - TW_SEC(1);
        tw_sim_set_tap(d.sim, sim_tap, &d);
    }
    tw_sim_impair imp = {.delay = TW_MS(5)};
    tw_sim_set_impair(d.sim, &imp);
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.msl = t->msl_given ? t->host.msl : DEMO_MSL;
    cfg.trace = tw_ladder_trace;
    cfg.addr = 0x0a000001u;
    cfg.trace_ud = tw_ladder_add_stack(d.lad, "tcpwave", cfg.addr);
    int rc = tw_sim_add_stack(d.sim, &cfg, 1500, &d.cst);
    cfg.addr = 0x0a000002u;
    cfg.trace_ud = tw_ladder_add_stack(d.lad, "tcpwave", cfg.addr);
    if (rc >= 0) {
        rc = tw_sim_add_stack(d.sim, &cfg, 1500, &d.sst);
    }
    if (rc < 0) {
        tw_sim_free(d.sim);
        tw_ladder_free(d.lad);
        tw_pcap_close(d.pcap);
        return tw_fail(t, "demo: cannot create stacks: %s", tw_strerror(rc));
    }
    printf("tcpwave demo (in memory): two tcpwave stacks on a simulated link, 5 ms one-way,\n"
           "virtual time. seq/ack as in the article: client ISN x, server ISN y; the first\n"
           "FIN is seq=u ack=v, the second seq=w.\n");
    rc = sim_story(&d);
    tw_sim_free(d.sim);
    tw_ladder_free(d.lad);
    tw_pcap_close(d.pcap);
    return rc;
}

/* ====================================================================================== */
/* Live: tcpwave and the Linux kernel over TUN in a private network namespace             */
/* ====================================================================================== */

struct ldemo {
    tw_tool *t;
    tw_session s;
    tw_ladder *lad;
    tw_host_opts o;
    uint64_t last_rx, last_tx;
};

static void sample_tx(const uint8_t *pkt, size_t len, void *ud)
{
    tw_ladder_sample(ud, pkt, len, true);
}

static void sample_rx(const uint8_t *pkt, size_t len, void *ud)
{
    tw_ladder_sample(ud, pkt, len, false);
}

static int kprobe(uint32_t la, uint16_t lp, uint32_t ra, uint16_t rp, void *ud)
{
    (void)ud;
    return tw_kernel_tcp_state(la, lp, ra, rp);
}

/* Pump packets until cond() holds, then until the link has been quiet for 150 ms so the
   kernel's (quick) ACKs are drawn too. Bounded by `limit` of real time. */
static bool live_until(struct ldemo *d, bool (*cond)(void *), void *ud, tw_time limit)
{
    tw_time start = tw_host_now(), quiet_since = 0;
    bool met = false;
    while (tw_host_now() - start < limit && !tw_tool_stop) {
        uint64_t before = d->s.h.rx_packets + d->s.h.tx_packets;
        tw_host_run_once(&d->s.h, TW_MS(10));
        tw_ladder_flush(d->lad, false);
        if (!met && (cond == NULL || cond(ud))) {
            met = true;
            quiet_since = tw_host_now();
        }
        if (met) {
            if (d->s.h.rx_packets + d->s.h.tx_packets != before) {
                quiet_since = tw_host_now();
            } else if (tw_host_now() - quiet_since > TW_MS(150)) {
                return true;
            }
        }
    }
    return met;
}

static void quickack(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

struct kread {
    int fd;
    size_t want, got;
    bool eof;
};

/* Kernel socket: read what is there; true when `want` bytes (or EOF) arrived. */
static bool kread_more(void *ud)
{
    struct kread *k = ud;
    char buf[4096];
    for (int i = 0; i < 256; i++) {
        ssize_t r = recv(k->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r == 0) {
            k->eof = true;
            break;
        }
        if (r < 0) {
            break;
        }
        k->got += (size_t)r;
    }
    quickack(k->fd);
    return k->eof || k->got >= k->want;
}

static bool kernel_connected(void *ud)
{
    int fd = *(int *)ud;
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    return getpeername(fd, (struct sockaddr *)&peer, &pl) == 0;
}

struct kaccept {
    int lfd, fd;
};

static bool kernel_accept(void *ud)
{
    struct kaccept *k = ud;
    if (k->fd < 0) {
        k->fd = accept4(k->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    }
    return k->fd >= 0;
}

struct twread {
    tw_socket *s;
    size_t want, got;
    bool eof;
};

static bool tw_read_more(void *ud)
{
    struct twread *r = ud;
    if (r->s == NULL) {
        return false;
    }
    bool eof = false;
    r->got += drain(r->s, tw_host_now(), &eof);
    r->eof = r->eof || eof;
    return r->eof || r->got >= r->want;
}

static bool conn_gone(void *ud)
{
    tw_stack *st = ud;
    return tw_stack_conn_count(st) == 0;
}

static bool tw_gone(void *ud)
{
    tw_stack *st = ud;
    return tw_stack_conn_count(st) == 0 && tw_stack_time_wait_count(st) == 0;
}

static int live_fail(struct ldemo *d, const char *what)
{
    tw_ladder_flush(d->lad, true);
    return tw_fail(d->t, "demo: %s", what);
}

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(addr);
    a.sin_port = htons(port);
    return a;
}

/* Part 1: Linux client -> tcpwave server; Linux half-closes, tcpwave keeps sending. */
static int live_part1(struct ldemo *d)
{
    tw_ladder *l = d->lad;
    tw_stack *st = d->s.h.st;
    tw_time now = tw_host_now();
    tw_socket *lsn = NULL;
    tw_socket_open(st, &lsn);
    tw_socket_bind(lsn, 80);
    if (tw_socket_listen(lsn, 8, now) != TW_OK) {
        return live_fail(d, "tcpwave listen failed");
    }
    tw_ladder_note(l, now, "tcpwave: listen(80)   linux: connect(10.7.0.2:80)");
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in to = sin_of(d->o.addr, 80);
    if (fd < 0 || (connect(fd, (struct sockaddr *)&to, sizeof to) < 0 && errno != EINPROGRESS)) {
        return live_fail(d, "kernel connect failed");
    }
    if (!live_until(d, kernel_connected, &fd, TW_SEC(5)) ||
        !(tw_socket_events(lsn) & TW_EV_ACCEPTABLE)) {
        close(fd);
        return live_fail(d, "the handshake with the kernel did not complete");
    }
    tw_socket *srv = NULL;
    tw_socket_accept(lsn, &srv, tw_host_now());
    tw_socket_close(lsn, tw_host_now());
    tw_ladder_note(l, tw_host_now(), "tcpwave: accept()   linux: send(%zu-byte request)",
                   strlen(DEMO_REQ));
    quickack(fd);
    send(fd, DEMO_REQ, strlen(DEMO_REQ), MSG_DONTWAIT);
    struct twread tr = {.s = srv, .want = strlen(DEMO_REQ)};
    if (!live_until(d, tw_read_more, &tr, TW_SEC(5))) {
        close(fd);
        return live_fail(d, "the request did not arrive");
    }
    uint8_t body[DEMO_PART1 + DEMO_PART2];
    fill(body, sizeof body, 5);
    tw_ladder_note(l, tw_host_now(), "tcpwave: recv() = %zu bytes, send(%d bytes of response)",
                   tr.got, DEMO_PART1);
    tw_socket_send(srv, body, DEMO_PART1, tw_host_now());
    struct kread kr = {.fd = fd, .want = DEMO_PART1};
    quickack(fd);
    if (!live_until(d, kread_more, &kr, TW_SEC(5))) {
        close(fd);
        return live_fail(d, "the response did not reach the kernel");
    }
    tw_ladder_note(l, tw_host_now(),
                   "linux: recv() = %zu bytes, shutdown(SHUT_WR): linux closes first", kr.got);
    shutdown(fd, SHUT_WR);
    tr = (struct twread){.s = srv, .want = SIZE_MAX};
    if (!live_until(d, tw_read_more, &tr, TW_SEC(5)) || !tr.eof) {
        close(fd);
        return live_fail(d, "tcpwave did not see the kernel's FIN");
    }
    tw_ladder_note(l, tw_host_now(),
                   "tcpwave: recv() = 0 (end of stream); half-closed, it sends %d more bytes",
                   DEMO_PART2);
    tw_socket_send(srv, body + DEMO_PART1, DEMO_PART2, tw_host_now());
    kr.want = DEMO_PART1 + DEMO_PART2;
    if (!live_until(d, kread_more, &kr, TW_SEC(5))) {
        close(fd);
        return live_fail(d, "the half-close data did not reach the kernel");
    }
    tw_ladder_note(l, tw_host_now(), "linux: recv() = %zu bytes in FIN-WAIT-2   tcpwave: close()",
                   kr.got - DEMO_PART1);
    tw_socket_close(srv, tw_host_now());
    kr.want = SIZE_MAX;
    if (!live_until(d, kread_more, &kr, TW_SEC(5)) || !kr.eof || !conn_gone(st)) {
        close(fd);
        return live_fail(d, "the close did not complete");
    }
    tw_ladder_note(l, tw_host_now(),
                   "linux: recv() = 0, close(); the kernel keeps its TIME-WAIT for 60 s");
    tw_ladder_flush(l, true);
    close(fd);
    return TW_EXIT_OK;
}

/* Part 2: tcpwave client -> Linux server; tcpwave closes first and sits in TIME-WAIT. */
static int live_part2(struct ldemo *d)
{
    tw_ladder *l = d->lad;
    tw_stack *st = d->s.h.st;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in at = sin_of(d->o.gateway, 8080);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&at, sizeof at) < 0 || listen(lfd, 8) < 0) {
        return live_fail(d, "kernel listen failed");
    }
    tw_time now = tw_host_now();
    tw_ladder_note(
        l, now, "linux: listen(10.7.0.1:8080)   tcpwave: connect(), send(%zu-byte request) at once",
        strlen(DEMO_REQ));
    tw_socket *cli = NULL;
    int rc = tw_socket_open(st, &cli);
    if (rc == TW_OK) {
        rc = tw_socket_connect(cli, d->o.gateway, 8080, now);
    }
    if (rc != TW_OK) {
        close(lfd);
        return live_fail(d, "tcpwave connect failed");
    }
    /* S5: queued in SYN-SENT, the request rides on the third segment. */
    tw_ssize q = tw_socket_send(cli, DEMO_REQ, strlen(DEMO_REQ), now);
    struct kaccept ka = {.lfd = lfd, .fd = -1};
    if (!live_until(d, kernel_accept, &ka, TW_SEC(5))) {
        close(lfd);
        return live_fail(d, "the kernel did not accept");
    }
    if (q == TW_ERR_AGAIN) {
        tw_socket_send(cli, DEMO_REQ, strlen(DEMO_REQ), tw_host_now());
    }
    struct kread kr = {.fd = ka.fd, .want = strlen(DEMO_REQ)};
    if (!live_until(d, kread_more, &kr, TW_SEC(5))) {
        close(ka.fd);
        close(lfd);
        return live_fail(d, "the request did not reach the kernel");
    }
    uint8_t body[DEMO_PART1];
    fill(body, sizeof body, 9);
    tw_ladder_note(l, tw_host_now(),
                   "linux: accept(), recv() = %zu bytes, send(%d bytes of response)", kr.got,
                   DEMO_PART1);
    quickack(ka.fd);
    send(ka.fd, body, sizeof body, MSG_DONTWAIT);
    struct twread tr = {.s = cli, .want = DEMO_PART1};
    if (!live_until(d, tw_read_more, &tr, TW_SEC(5))) {
        close(ka.fd);
        close(lfd);
        return live_fail(d, "the response did not reach tcpwave");
    }
    tw_ladder_note(l, tw_host_now(), "tcpwave: recv() = %zu bytes, close(): tcpwave closes first",
                   tr.got);
    tw_socket_close(cli, tw_host_now());
    kr = (struct kread){.fd = ka.fd, .want = SIZE_MAX};
    if (!live_until(d, kread_more, &kr, TW_SEC(5)) || !kr.eof) {
        close(ka.fd);
        close(lfd);
        return live_fail(d, "the kernel did not see tcpwave's FIN");
    }
    tw_time msl = d->t->msl_given ? d->t->host.msl : DEMO_MSL;
    tw_ladder_note(l, tw_host_now(),
                   "linux: recv() = 0, close()   tcpwave: TIME-WAIT for 2*MSL = %.1f s",
                   2.0 * (double)msl / 1e9);
    close(ka.fd);
    close(lfd);
    if (!live_until(d, tw_gone, st, 2 * msl + TW_SEC(5))) {
        return live_fail(d, "TIME-WAIT did not end");
    }
    tw_ladder_flush(l, true);
    return TW_EXIT_OK;
}

static int demo_live(tw_tool *t)
{
    static struct ldemo d;
    memset(&d, 0, sizeof d);
    d.t = t;
    tw_ladder_opts lo;
    tw_ladder_opts_init(&lo, stdout);
    lo.peer_name = "linux";
    lo.probe = kprobe;
    d.lad = tw_ladder_new(&lo);
    if (d.lad == NULL) {
        return tw_fail(t, "out of memory");
    }
    d.o = t->host;
    if (!t->msl_given) {
        d.o.msl = DEMO_MSL;
    }
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.trace = tw_ladder_trace;
    cfg.trace_ud = tw_ladder_add_stack(d.lad, "tcpwave", d.o.addr);
    d.o.base = &cfg;
    d.o.after_tx = sample_tx;
    d.o.before_rx = sample_rx;
    d.o.hook_ud = d.lad;
    char err[256];
    int rc = tw_if_up("lo");
    if (rc < 0) {
        tw_ladder_free(d.lad);
        return tw_fail(t, "demo: cannot bring up lo: %s", strerror(-rc));
    }
    d.s.t = t;
    if (tw_host_open(&d.s.h, &d.o, err, sizeof err) < 0) {
        tw_ladder_free(d.lad);
        return tw_fail(t, "demo: %s", err);
    }
    char a[16], g[16];
    printf("tcpwave demo: tcpwave (%s, user space, on TUN %s) and the Linux kernel (%s)\n"
           "in a private network namespace. seq/ack as in the article: client ISN x, server\n"
           "ISN y; the first FIN is seq=u ack=v, the second seq=w. The kernel's states are\n"
           "read with sock_diag after each packet.\n",
           tw_fmt_ipv4(d.o.addr, a), d.s.h.ifname, tw_fmt_ipv4(d.o.gateway, g));
    printf("\n1. Linux connects to tcpwave; Linux half-closes and tcpwave keeps sending.\n");
    rc = live_part1(&d);
    if (rc == TW_EXIT_OK) {
        printf("\n2. tcpwave connects to Linux, closes first, and waits out TIME-WAIT.\n");
        rc = live_part2(&d);
    }
    if (rc == TW_EXIT_OK) {
        printf("\n  tcpwave: %llu packets in, %llu out; 0 connections, 0 TIME-WAIT records left\n",
               (unsigned long long)d.s.h.rx_packets, (unsigned long long)d.s.h.tx_packets);
    }
    tw_ladder_free(d.lad);
    tw_host_close(&d.s.h);
    return rc;
}

static const char demo_usage[] = "tcpwave [OPTIONS] demo [--sim]";
static const char demo_help[] =
    "Show the TCP connection lifecycle (three-way handshake, data, half-close, four-way\n"
    "close, TIME-WAIT) as a ladder diagram of real packets. As root with /dev/net/tun:\n"
    "tcpwave against the Linux kernel in a private network namespace. Otherwise, or with\n"
    "--sim: two tcpwave stacks over the in-memory link. --msl SEC (default 1 here) sets\n"
    "the TIME-WAIT length; --pcap FILE keeps the packets.\n";

static int demo_opt(int opt, const char *arg, void *ud)
{
    (void)arg;
    if (opt == 's') {
        *(bool *)ud = true;
    }
    return 0;
}

int tw_cmd_demo(tw_tool *t, int argc, char **argv)
{
    bool sim = false;
    static const struct option extra[] = {{"sim", no_argument, NULL, 's'}, {0}};
    int first;
    int rc = tw_cmd_args(t, argc, argv, demo_usage, demo_help, extra, demo_opt, &sim, &first);
    if (rc < 0) {
        return TW_ARGS_EXIT(rc);
    }
    if (first != argc) {
        return tw_usage_error(t, demo_usage, "unexpected argument '%s'", argv[first]);
    }
    if (t->host.impair != NULL) {
        /* The story walks the handshake and the close packet by packet: a lossy path
           would only make it stop half-way. */
        return tw_usage_error(t, demo_usage,
                              "--impair does not apply to demo (try it with listen, connect, "
                              "echo or http)");
    }
    if (sim) {
        return tw_demo_sim(t);
    }
    const char *why = tw_tun_unavailable();
    if (why == NULL && unshare(CLONE_NEWNET) < 0) {
        why = errno == EPERM ? "cannot create a network namespace (needs CAP_SYS_ADMIN)"
                             : "cannot create a network namespace";
    }
    if (why != NULL) {
        printf("tcpwave demo: %s; running the in-memory demo instead.\n\n", why);
        return tw_demo_sim(t);
    }
    return demo_live(t);
}
