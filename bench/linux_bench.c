/*
 * linux_bench.c -- the benchmark work on the Linux kernel's TCP over 127.0.0.1.
 *
 * Ordinary sockets, one thread, the same pattern as the in-memory harnesses: the client
 * binds its port from the shared tuple plan (SO_REUSEADDR, so ports with TIME_WAIT sockets
 * can be bound again and every TIME_WAIT stays as the kernel keeps it), connects, writes
 * 64 bytes; the server accepts, reads them, answers 64 bytes; the client reads, closes
 * first; the server reads end of stream and closes.
 *
 * When allowed (root), the process moves into a network namespace of its own
 * (unshare(CLONE_NEWNET), freed at exit) so that other users of the machine's loopback
 * cannot collide with our ports and /proc/net/sockstat counts only our sockets. In that
 * namespace the bulk test can also switch off loopback's offloads (segmentation and
 * checksum) so that Linux, like the other two, cuts 1460-byte segments and checksums them
 * in software; the default loopback skips both, which the bulk line reports as well.
 *
 * Memory comes from the kernel's slab allocator (/proc/slabinfo, active objects times
 * object size), before and after; it needs root to read and is noisy on a shared machine,
 * so the counts are large enough for the noise to be small.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define STACK "linux"

static bool private_netns;

static void die_errno(const char *what)
{
    bench_fail(STACK, "%s: %s", what, strerror(errno));
}

static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static void set_int(int fd, int level, int opt, int v, const char *what)
{
    if (setsockopt(fd, level, opt, &v, sizeof(v)) < 0) {
        die_errno(what);
    }
}

static void enter_netns(void)
{
    if (unshare(CLONE_NEWNET) < 0) {
        return; /* not root: stay on the shared loopback */
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
        die_errno("SIOCGIFFLAGS lo");
    }
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
        die_errno("SIOCSIFFLAGS lo");
    }
    close(fd);
    private_netns = true;
}

/* Set one ethtool flag of lo and read it back; returns the value now in force or -1. */
static int lo_feature(uint32_t set_cmd, uint32_t get_cmd, uint32_t v)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct ifreq ifr;
    struct ethtool_value ev = {.cmd = set_cmd, .data = v};
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    ifr.ifr_data = (void *)&ev;
    (void)ioctl(fd, SIOCETHTOOL, &ifr);
    ev.cmd = get_cmd;
    ev.data = 0;
    int r = ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -1 : (int)ev.data;
    close(fd);
    return r;
}

static long read_long_file(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1) {
            v = -1;
        }
        fclose(f);
    }
    return v;
}

/* TIME_WAIT sockets the kernel holds, from /proc/net/sockstat ("TCP: ... tw N ..."). */
static long sockstat_tw(void)
{
    FILE *f = fopen("/proc/net/sockstat", "r");
    long tw = -1;
    char line[256];
    while (f && fgets(line, sizeof(line), f)) {
        char *p = strstr(line, " tw ");
        if (strncmp(line, "TCP:", 4) == 0 && p) {
            tw = strtol(p + 4, NULL, 10);
        }
    }
    if (f) {
        fclose(f);
    }
    return tw;
}

/* ---- slab accounting ------------------------------------------------------------------ */

typedef struct slab {
    long long total;        /* sum of active_objs * objsize over every cache */
    long long tcp, tw, req; /* bytes in the TCP, tw_sock_TCP, request_sock_TCP caches */
    long long tw_objs, req_objs;
    long req_size;
} slab;

static bool slab_read(slab *s)
{
    memset(s, 0, sizeof(*s));
    FILE *f = fopen("/proc/slabinfo", "r");
    if (f == NULL) {
        return false;
    }
    char line[512], name[128];
    long long act, num, size;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%127s %lld %lld %lld", name, &act, &num, &size) != 4) {
            continue;
        }
        s->total += act * size;
        if (strcmp(name, "TCP") == 0) {
            s->tcp = act * size;
        } else if (strcmp(name, "tw_sock_TCP") == 0) {
            s->tw = act * size;
            s->tw_objs = act;
        } else if (strcmp(name, "request_sock_TCP") == 0) {
            s->req = act * size;
            s->req_objs = act;
            s->req_size = (long)size;
        }
    }
    fclose(f);
    return true;
}

/* Closed sockets are freed later (task work, RCU, and a previous run's namespace is torn
   down in the background): read until the total stops moving, for at most 2 s. */
static void slab_settle(slab *s)
{
    slab prev;
    slab_read(&prev);
    for (int i = 0; i < 40; i++) {
        usleep(50000);
        slab_read(s);
        long long d = s->total - prev.total;
        if (d > -4096 && d < 4096) {
            return;
        }
        prev = *s;
    }
}

/* ---- sockets -------------------------------------------------------------------------- */

static int *listeners;
static unsigned nlisteners;

static void listen_on(unsigned n, int backlog, bool defer, bool mss)
{
    listeners = calloc(n, sizeof(int));
    nlisteners = n;
    for (unsigned i = 0; i < n; i++) {
        int l = socket(AF_INET, SOCK_STREAM, 0);
        if (l < 0) {
            die_errno("socket");
        }
        set_int(l, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
        if (defer) {
            set_int(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, 30, "TCP_DEFER_ACCEPT");
        }
        if (mss) {
            set_int(l, IPPROTO_TCP, TCP_MAXSEG, 1460, "TCP_MAXSEG");
        }
        struct sockaddr_in a = loopback((uint16_t)(BENCH_SPORT0 + i));
        if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0) {
            die_errno("listener bind");
        }
        if (listen(l, backlog) < 0) {
            die_errno("listen");
        }
        listeners[i] = l;
    }
}

static int cli_connect(uint64_t t)
{
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0) {
        die_errno("socket");
    }
    set_int(c, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
    struct sockaddr_in a = loopback(bench_cport(t));
    if (bind(c, (struct sockaddr *)&a, sizeof(a)) < 0) {
        die_errno("client bind");
    }
    struct sockaddr_in s = loopback(bench_sport(t));
    if (connect(c, (struct sockaddr *)&s, sizeof(s)) < 0) {
        die_errno("connect");
    }
    return c;
}

static int srv_accept(uint64_t t)
{
    int s = accept(listeners[bench_sport(t) - BENCH_SPORT0], NULL, NULL);
    if (s < 0) {
        die_errno("accept");
    }
    return s;
}

static void read_full(int fd, uint8_t *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) {
            bench_fail(STACK, "read: %s", r == 0 ? "early end of stream" : strerror(errno));
        }
        got += (size_t)r;
    }
}

static void write_full(int fd, const uint8_t *buf, size_t n)
{
    if (write(fd, buf, n) != (ssize_t)n) {
        die_errno("write");
    }
}

static uint8_t msg[BENCH_MSG], rbuf[BENCH_MSG];

static void one_lifecycle(uint64_t t)
{
    int c = cli_connect(t);
    int s = srv_accept(t);
    write_full(c, msg, BENCH_MSG);
    read_full(s, rbuf, BENCH_MSG);
    write_full(s, msg, BENCH_MSG);
    read_full(c, rbuf, BENCH_MSG);
    close(c); /* the client closes first */
    char b;
    if (read(s, &b, 1) != 0) {
        bench_fail(STACK, "server expected end of stream");
    }
    close(s);
}

/* Raise the descriptor limit towards `fds` as far as we may; returns how many connections
   (two descriptors each) fit under the limit in force. */
static uint64_t conn_capacity(uint64_t fds)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rlim_t want = (rlim_t)fds + 256;
    if (want > rl.rlim_cur) {
        struct rlimit up = {want, want > rl.rlim_max ? want : rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &up) < 0) {
            rl.rlim_cur = rl.rlim_max; /* no CAP_SYS_RESOURCE: the hard limit it is */
            (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur > 256 ? (uint64_t)(rl.rlim_cur - 256) / 2 : 0;
}

static void do_lifecycle(const bench_args *a)
{
    listen_on(bench_nlisteners(a->n), 128, false, false);
    bench_lc lc;
    uint64_t done = 0;
    bench_lc_start(&lc, a, STACK);
    while (done < a->n) {
        one_lifecycle(done);
        done++;
        if (!bench_lc_tick(&lc, done)) {
            break;
        }
    }
    char extra[160];
    snprintf(extra, sizeof(extra), "time_wait=%ld tw_max=%ld netns=%s", sockstat_tw(),
             read_long_file("/proc/sys/net/ipv4/tcp_max_tw_buckets"),
             private_netns ? "private" : "shared");
    /* Loopback packets are not counted here; 0 keeps the output format uniform. */
    bench_lc_finish(&lc, done, 0, extra);
}

static void set_nonblock(int fd)
{
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        die_errno("O_NONBLOCK");
    }
}

static uint8_t bulk_buf[256 * 1024];

static void bulk_once(const bench_args *a, const char *variant, uint64_t tuple)
{
    int c = cli_connect(tuple);
    int s = srv_accept(tuple);
    set_nonblock(c);
    set_nonblock(s);
    const uint8_t *pat = bench_pattern();
    uint64_t total = a->n, sent = 0, rcvd = 0;
    double t0 = bench_wall(), c0 = bench_cpu();
    /* One thread: write what the socket takes, then read what has arrived, until done. */
    while (rcvd < total) {
        while (sent < total) {
            size_t n = total - sent < BENCH_CHUNK ? (size_t)(total - sent) : BENCH_CHUNK;
            ssize_t w = write(c, pat + sent % BENCH_PERIOD, n);
            if (w < 0 && errno == EAGAIN) {
                break;
            }
            if (w <= 0) {
                die_errno("bulk write");
            }
            sent += (uint64_t)w;
        }
        bool got = false;
        for (;;) {
            ssize_t r = read(s, bulk_buf, sizeof(bulk_buf));
            if (r < 0 && errno == EAGAIN) {
                break;
            }
            if (r <= 0) {
                die_errno("bulk read");
            }
            if (!bench_check_chunk(bulk_buf, (size_t)r, rcvd)) {
                bench_fail(STACK, "bulk data corrupted at %llu", (unsigned long long)rcvd);
            }
            rcvd += (uint64_t)r;
            got = true;
        }
        if (!got && rcvd < total) {
            struct pollfd p[2] = {{.fd = s, .events = POLLIN}, {.fd = c, .events = POLLOUT}};
            if (poll(p, 2, 1000) == 0) {
                bench_fail(STACK, "bulk transfer stalled");
            }
        }
    }
    double t = bench_wall() - t0, cpu = bench_cpu() - c0;
    int mss = 0;
    socklen_t ml = sizeof(mss);
    getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &mss, &ml);
    bench_out("bulk", STACK, "bytes=%llu wall=%.6f cpu=%.6f gbps=%.3f pkts=0 variant=%s mss=%d",
              (unsigned long long)total, t, cpu, (double)total * 8 / t / 1e9, variant, mss);
    close(c);
    close(s);
}

static void do_bulk(const bench_args *a)
{
    /* Variant "lo-default" first (the machine's ordinary loopback: 64 KiB GSO packets, no
       checksums), then, in our own namespace, the strict one. */
    listen_on(1, 16, false, true);
    bench_measure_begin(a);
    bulk_once(a, "lo-default", 0);
    if (private_netns) {
        int csum = lo_feature(ETHTOOL_STXCSUM, ETHTOOL_GTXCSUM, 0);
        int tso = lo_feature(ETHTOOL_STSO, ETHTOOL_GTSO, 0);
        int gso = lo_feature(ETHTOOL_SGSO, ETHTOOL_GGSO, 0);
        /* lo's checksum offload is a fixed feature and cannot be switched off; without
           TSO and GSO it at least cuts real MSS-sized segments. */
        if (tso == 0 && gso == 0) {
            /* The first connection's 4-tuple is in TIME_WAIT: take the plan's next one. */
            bulk_once(a, csum == 0 ? "lo-no-offload" : "lo-no-gso", 1);
        } else {
            fprintf(stderr, "linux: could not switch lo offloads off (csum %d tso %d gso %d)\n",
                    csum, tso, gso);
        }
    }
    bench_measure_end(a);
}

static void do_mem(const bench_args *a)
{
    /* Established connections hold two descriptors each, so their count is capped by the
       descriptor limit; TIME_WAIT sockets hold none, so all n of them are made (closing
       the established ones first, then connect/accept/close for the rest): a large count
       keeps the slab noise of a shared machine small against the figure. */
    uint64_t n = a->n, cap = conn_capacity(2 * a->n), nest = n < cap ? n : cap;
    slab s0, s1, s2, s3, s4;
    listen_on(bench_nlisteners(2 * n), 4096, false, false);
    int *cfd = calloc(nest, sizeof(int)), *sfd = calloc(nest, sizeof(int));
    if (!slab_read(&s0)) {
        bench_fail(STACK, "cannot read /proc/slabinfo (needs root)");
    }
    slab_settle(&s0);
    for (uint64_t i = 0; i < nest; i++) {
        cfd[i] = cli_connect(i);
        sfd[i] = srv_accept(i);
    }
    slab_read(&s1);
    for (uint64_t i = 0; i < nest; i++) {
        close(cfd[i]); /* the client closes first: its end stays in TIME_WAIT */
        close(sfd[i]);
    }
    for (uint64_t i = nest; i < n; i++) {
        int c = cli_connect(i), sv = srv_accept(i);
        close(c);
        close(sv);
    }
    slab_settle(&s2);
    /* Half-open: with TCP_DEFER_ACCEPT the server drops the bare third ACK and keeps its
       request socket in SYN_RECV. The listen backlog bounds them (beyond, SYN cookies), so
       the count used is what the request_sock_TCP cache actually grew by. */
    uint64_t nsyn = nest < 4000 ? nest : 4000;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    set_int(l, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
    set_int(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, 30, "TCP_DEFER_ACCEPT");
    struct sockaddr_in la = loopback((uint16_t)(BENCH_SPORT0 - 1));
    if (bind(l, (struct sockaddr *)&la, sizeof(la)) < 0 || listen(l, 4096) < 0) {
        die_errno("defer listener");
    }
    slab_read(&s3);
    for (uint64_t i = 0; i < nsyn; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        set_int(c, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
        struct sockaddr_in ca = loopback(bench_cport(i));
        if (bind(c, (struct sockaddr *)&ca, sizeof(ca)) < 0 ||
            connect(c, (struct sockaddr *)&la, sizeof(la)) < 0) {
            die_errno("half-open connect");
        }
        cfd[i] = c;
    }
    slab_read(&s4);
    long long reqs = s4.req_objs - s3.req_objs;
    bench_out("mem", STACK,
              "n=%llu n_est=%llu counted=1 est_per_end=%.1f tw_per_conn=%.1f "
              "synrcvd_per_entry=%.1f tcp_slab_per_end=%.1f tw_slab_per_conn=%.1f req_objs=%lld "
              "req_objsize=%ld "
              "tw_now=%ld netns=%s",
              (unsigned long long)n, (unsigned long long)nest,
              (double)(s1.total - s0.total) / (2.0 * (double)nest),
              (double)(s2.total - s0.total) / (double)n,
              reqs > 0 ? (double)(s4.req - s3.req) / (double)reqs : -1.0,
              (double)(s1.tcp - s0.tcp) / (2.0 * (double)nest), (double)(s2.tw - s0.tw) / (double)n,
              reqs, s4.req_size, sockstat_tw(), private_netns ? "private" : "shared");
    for (uint64_t i = 0; i < nsyn; i++) {
        close(cfd[i]);
    }
    close(l);
    free(cfd);
    free(sfd);
}

static void do_hold(const bench_args *a)
{
    uint64_t n = a->n, cap = conn_capacity(2 * a->n);
    if (n > cap) {
        n = cap;
    }
    listen_on(bench_nlisteners(n + a->w), 4096, false, false);
    int *fds = calloc(2 * n, sizeof(int));
    slab s0, s1;
    bool have_slab = slab_read(&s0);
    double t0 = bench_wall();
    bool partial = false;
    uint64_t i = 0;
    for (; i < n; i++) {
        fds[2 * i] = cli_connect(i);
        fds[2 * i + 1] = srv_accept(i);
        if (a->time_limit > 0 && (i & 255) == 0 && bench_wall() - t0 > a->time_limit) {
            partial = true;
            i++;
            break;
        }
    }
    double setup = bench_wall() - t0;
    have_slab = have_slab && slab_read(&s1);
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
    bench_out("hold", STACK,
              "n=%llu target=%llu partial=%d setup_s=%.6f heap_peak=%lld rss_kb=%ld w=%llu "
              "lifecycle_ns=%.1f",
              (unsigned long long)i, (unsigned long long)a->n, partial || n < a->n, setup,
              have_slab ? s1.total - s0.total : 0, bench_peak_rss_kb(), (unsigned long long)w,
              lt * 1e9 / (double)w);
    for (uint64_t k = 0; k < 2 * i; k++) {
        close(fds[k]);
    }
    free(fds);
}

int main(int argc, char **argv)
{
    bench_args a;
    bench_parse_args(argc, argv, STACK, &a);
    memcpy(msg, bench_pattern(), sizeof(msg));
    enter_netns();
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
