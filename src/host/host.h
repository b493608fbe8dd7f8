/*
 * host.h -- the Linux glue around the sans-I/O core: real clock, entropy, a TUN device,
 * an epoll loop whose timeout is the stack's next deadline, a pcap writer that can tap
 * any netdev, and a look at the kernel's own TCP sockets (for the demo's ladder).
 *
 * Nothing here is needed to use the core: it is one way to run a stack on Linux, used by
 * the `tcpwave` tool and the interop tests. Functions return 0 or a negative errno
 * (not TW_ERR_*), since every failure here is a failed syscall.
 */
#ifndef TW_HOST_H
#define TW_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpwave.h"

/* ---- clock and entropy (clock.c) ---------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds: the `now` passed to the stack. */
tw_time tw_host_now(void);
/* CLOCK_REALTIME in nanoseconds since the Unix epoch (pcap timestamps). */
uint64_t tw_host_wall_ns(void);
/* Fill `buf` from getrandom(2) (blocking until the pool is seeded). 0 or -errno. */
int tw_host_entropy(void *buf, size_t len);

/* ---- interfaces (tun.c) ------------------------------------------------------------- */

/* Create (or attach to) the TUN device `name` (IFF_TUN | IFF_NO_PI, non-blocking).
   `actual` (IFNAMSIZ bytes, may be NULL) receives the name the kernel gave it.
   Returns the fd or -errno (-EPERM without CAP_NET_ADMIN, -ENOENT without /dev/net/tun). */
int tw_tun_open(const char *name, char *actual);

/* Give interface `ifname` the address `addr`/`prefix` (host order), set its MTU (0 keeps
   it) and bring it up: what `ip addr add; ip link set mtu; ip link set up` do, through
   ioctls on an AF_INET socket. The kernel adds the connected route itself. */
int tw_if_configure(const char *ifname, uint32_t addr, unsigned prefix, unsigned mtu);

/* The stack speaks IPv4 only: stop the kernel from sending IPv6 (router and neighbour
   solicitations) into the TUN, which would only be dropped and clutter captures. */
int tw_if_disable_ipv6(const char *ifname);

/* Bring an interface up (IFF_UP), e.g. "lo" in a fresh network namespace. */
int tw_if_up(const char *ifname);

/* Why TUN cannot be used here, in one line, or NULL if it can (root or CAP_NET_ADMIN and
   a usable /dev/net/tun). Checked without changing anything. */
const char *tw_tun_unavailable(void);

/* ---- epoll loop (loop.c) ------------------------------------------------------------ */

typedef struct tw_loop tw_loop;
typedef void (*tw_loop_fd_fn)(int fd, uint32_t events, void *ud);

int tw_loop_new(tw_loop **out);
void tw_loop_free(tw_loop *l);
/* Watch `fd` for `events` (EPOLLIN ...). The callback runs from tw_loop_run_once. */
int tw_loop_add(tw_loop *l, int fd, uint32_t events, tw_loop_fd_fn fn, void *ud);
int tw_loop_mod(tw_loop *l, int fd, uint32_t events);
int tw_loop_del(tw_loop *l, int fd);
/* The stack whose timers the loop runs (NULL: none). */
void tw_loop_set_stack(tw_loop *l, tw_stack *st);
/* A second timer source, woken for like the stack's deadline: `next` says when it is due
   (TW_TIME_NEVER: not), `run` is called once it is. NULL: none. */
void tw_loop_set_timer(tw_loop *l, tw_time (*next)(void *ud), void (*run)(void *ud, tw_time now),
                       void *ud);
/* Wait until a watched fd is ready, the stack's next deadline, or `max_wait` ns from now
   (TW_TIME_NEVER: no cap), whichever comes first; run the fd callbacks, then the stack's
   expired timers. Returns the number of fd callbacks run (>= 0) or -errno; EINTR is not
   an error (returns 0) so signal handlers can set a flag the caller checks. */
int tw_loop_run_once(tw_loop *l, tw_time max_wait);

/* ---- pcap (pcap.c), libpcap's savefile writer, LINKTYPE_RAW (IPv4 packets) ---------- */

typedef struct tw_pcap tw_pcap;

/* Open `path` for writing ("-" is stdout). Returns 0 or -errno / -EIO. */
int tw_pcap_open(tw_pcap **out, const char *path);
/* Append one IPv4 packet with a timestamp in ns since the Unix epoch. Each record is
   flushed, so the file is readable even if the process is killed. */
void tw_pcap_write(tw_pcap *p, const uint8_t *pkt, size_t len, uint64_t unix_ns);
void tw_pcap_close(tw_pcap *p);
uint64_t tw_pcap_count(const tw_pcap *p);

/* Tap any netdev: `out` becomes a netdev that writes each packet to the capture and then
   hands it to `inner`. Received packets are the caller's to record (tw_pcap_write before
   tw_stack_input). `clock` gives the timestamp (NULL: wall clock). `tap` must outlive
   the stack that uses `out`. */
typedef struct tw_pcap_tap {
    tw_pcap *pcap;
    tw_netdev inner;
    uint64_t (*clock)(void *ud);
    void *clock_ud;
} tw_pcap_tap;
void tw_pcap_tap_netdev(tw_pcap_tap *tap, tw_pcap *p, const tw_netdev *inner,
                        uint64_t (*clock)(void *ud), void *clock_ud, tw_netdev *out);

/* ---- impairments between the TUN and the stack (impair.c) -------------------------- */

/* What `--impair` asks for, applied to each direction on its own. */
typedef struct tw_impair_spec {
    double loss, dup, corrupt; /* probabilities per packet */
    tw_time delay, jitter;     /* each packet waits delay +- jitter (uniform): reorders */
    uint64_t seed;
    bool seed_given;
} tw_impair_spec;

typedef struct tw_impair_stats {
    uint64_t packets, dropped, duplicated, corrupted;
} tw_impair_stats;

enum { TW_IMPAIR_IN = 0, TW_IMPAIR_OUT = 1 }; /* to the stack, from the stack */

typedef struct tw_impair tw_impair;
typedef void (*tw_impair_deliver_fn)(const uint8_t *pkt, size_t len, void *ud);

/* Parse "loss=2%,dup=0.02,corrupt=1%,delay=10ms,jitter=5ms,seed=7" (any subset; delays in
   ms unless "us" or "s" follows). Returns 0, or -1 with a message in err. */
int tw_impair_parse(const char *s, tw_impair_spec *out, char *err, size_t errlen);
int tw_impair_new(tw_impair **out, const tw_impair_spec *spec, tw_impair_deliver_fn in,
                  void *in_ud, tw_impair_deliver_fn out_fn, void *out_ud);
void tw_impair_free(tw_impair *im);
/* One packet in direction `dir` at `now`: delivered now, later (tw_impair_release), twice,
   altered, or not at all. */
void tw_impair_packet(tw_impair *im, int dir, const uint8_t *pkt, size_t len, tw_time now);
/* When the next held packet is due (TW_TIME_NEVER: none held). */
tw_time tw_impair_next(const tw_impair *im);
/* Deliver every held packet due by `now`, in time order. */
void tw_impair_release(tw_impair *im, tw_time now);
tw_impair_stats tw_impair_get_stats(const tw_impair *im, int dir);
const tw_impair_spec *tw_impair_get_spec(const tw_impair *im);

/* ---- a stack on a TUN device (tunstack.c) ------------------------------------------- */

typedef struct tw_host_opts {
    const char *tun;  /* "tw0" */
    uint32_t addr;    /* the stack: 10.7.0.2 */
    uint32_t gateway; /* the kernel's side of the TUN: 10.7.0.1 */
    unsigned prefix;  /* 24 */
    unsigned mtu;     /* 1500 */
    tw_time msl;      /* 0: the core's default */
    const char *pcap; /* NULL: no capture */
    const tw_impair_spec *impair; /* NULL: a clean path */
    uint32_t fastopen; /* tw_config.fastopen bits; 0: the core's default */
    uint8_t ecn;       /* tw_config.ecn (TW_ECN_*); 0: the core's default */
    /* Extra stack settings and hooks (trace, notify); addr, entropy, msl are filled in. */
    const tw_config *base;
    /* Called after each packet is written to the TUN (the kernel has processed it by
       then) and before each received packet goes to the stack. NULL: none. */
    void (*after_tx)(const uint8_t *pkt, size_t len, void *ud);
    void (*before_rx)(const uint8_t *pkt, size_t len, void *ud);
    void *hook_ud;
} tw_host_opts;

typedef struct tw_host {
    tw_stack *st;
    tw_loop *loop;
    tw_pcap *pcap;
    tw_impair *impair;
    int tun_fd;
    char ifname[16];
    tw_host_opts o;
    uint64_t rx_packets, tx_packets, tx_errors;
    tw_time release_now; /* the loop turn's time while the impairment releases held
                            packets (tunstack.c impair_run), else 0 */
} tw_host;

/* Fill opts with the tool's defaults. */
void tw_host_opts_init(tw_host_opts *o);
/* Create the TUN, configure the kernel side, create the stack and the loop. On failure
   `err` (may be NULL, >= 128 bytes) says what failed. Returns 0 or -errno. */
int tw_host_open(tw_host *h, const tw_host_opts *o, char *err, size_t errlen);
void tw_host_close(tw_host *h);
/* One loop turn (see tw_loop_run_once). */
int tw_host_run_once(tw_host *h, tw_time max_wait);
/* Feed the stack every packet already queued on the TUN, without waiting: a command that
 * stops still answers (and captures) what its peers sent before the stop. */
void tw_host_drain(tw_host *h);

/* ---- the kernel's TCP sockets (ksock.c) --------------------------------------------- */

/* State of the kernel's TCP socket with this local and remote endpoint (host order), read
   through NETLINK_SOCK_DIAG like `ss` does, TIME-WAIT included. Returns a tw_state, or
   -ENOENT when the kernel has no such socket (shown as CLOSED), or another -errno. */
int tw_kernel_tcp_state(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport);

/* ---- memory for many connections (hugemem.c) ---------------------------------------- */

/* An allocator for tw_config.allocator when a stack will hold very many connections
   (hundreds of thousands): connection slabs and large hash tables come from memory advised
   for transparent huge pages (madvise(MADV_HUGEPAGE)), which takes most of the page faults
   and TLB misses out of setting them up; the rest comes from malloc. Memory it served
   stays with it for reuse until tw_host_hugemem_free, which must come after tw_stack_free
   of every stack using it. It takes no lock: the stacks of one thread may share one.
   Returns 0 or -ENOMEM. */
int tw_host_hugemem_new(tw_allocator *out);
void tw_host_hugemem_free(tw_allocator *a);

/* ---- small helpers shared by the tool ----------------------------------------------- */

/* "10.7.0.2" -> host order; 0 on success, -EINVAL otherwise. */
int tw_parse_ipv4(const char *s, uint32_t *out);
/* Host order -> dotted quad in buf (>= 16 bytes); returns buf. */
char *tw_fmt_ipv4(uint32_t addr, char *buf);

#endif
