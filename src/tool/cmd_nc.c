/*
 * cmd_nc.c -- `tcpwave listen PORT` and `tcpwave connect IP PORT`: one connection, stdin to
 * the peer and the peer to stdout, like `nc -l -N` / `nc -N`. At stdin EOF we half-close
 * (shutdown of the write side, S10) and keep reading until the peer's FIN; then the
 * socket is closed and the process waits until the stack has no live connection (and,
 * with --msl, no TIME-WAIT either) so the close on the wire completes before the TUN
 * device disappears with the process. `connect --repeat N` makes the connection N times in
 * a row with the same stdin (read whole first), and with --fastopen the connect sends
 * the start of stdin on the SYN once a cookie is cached (RFC 7413: from the first
 * connection on).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool/tool.h"

#define NC_CHUNK 65536

struct nc {
    tw_session s;
    tw_tool *t;
    bool listening;
    uint32_t raddr;
    uint16_t port;
    tw_socket *lsn;
    tw_socket *sock;
    bool connected;
    uint8_t in[NC_CHUNK];
    size_t in_off, in_len;
    bool in_pollable; /* stdin works with epoll (not a regular file) */
    bool in_watched;
    bool in_ready; /* epoll said readable since the last read */
    bool in_eof;
    bool fin_sent;
    bool peer_eof;
    bool closed; /* tw_socket_close called: wait for the stack to finish */
    bool done;
    int status;
    bool whole;        /* stdin read whole before connecting (--repeat, --fastopen) */
    unsigned rounds;   /* connections still to make after this one (--repeat) */
};

static void stdin_ready(int fd, uint32_t events, void *ud)
{
    struct nc *n = ud;
    (void)fd;
    (void)events;
    n->in_ready = true;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                /* stdout was left non-blocking by someone else: wait for it. */
                usleep(1000);
                continue;
            }
            return -errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static void finish(struct nc *n, int status)
{
    n->status = status;
    n->done = true;
}

/* The connection ended abnormally: say why, like nc does. */
static void conn_error(struct nc *n, int err)
{
    char ep[24];
    tw_fmt_endpoint(n->raddr, n->port, ep);
    if (n->listening) {
        tw_fail(n->t, "connection with %s: %s", ep, tw_strerror(err));
    } else {
        tw_fail(n->t, "connect %s: %s", ep, tw_strerror(err));
    }
    finish(n, TW_EXIT_FAIL);
}

static void pump_in(struct nc *n, tw_time now)
{
    char buf[NC_CHUNK];
    for (int i = 0; i < 64; i++) {
        tw_ssize r = tw_socket_recv(n->sock, buf, sizeof buf, now);
        if (r == 0) {
            n->peer_eof = true;
            return;
        }
        if (r < 0) {
            if (r != TW_ERR_AGAIN && r != TW_ERR_CLOSED) {
                conn_error(n, (int)r);
            }
            return;
        }
        int rc = write_all(STDOUT_FILENO, (const uint8_t *)buf, (size_t)r);
        if (rc < 0) {
            tw_fail(n->t, "stdout: %s", strerror(-rc));
            finish(n, TW_EXIT_FAIL);
            return;
        }
    }
}

static void pump_out(struct nc *n, tw_time now)
{
    for (int i = 0; i < 64 && !n->in_eof; i++) {
        if (n->in_off == n->in_len && n->whole) {
            n->in_eof = true; /* (all of it sent) */
            return;
        }
        if (n->in_off == n->in_len) {
            if (n->in_pollable && !n->in_ready) {
                return;
            }
            ssize_t r = read(STDIN_FILENO, n->in, sizeof n->in);
            n->in_ready = false;
            if (r < 0) {
                if (errno == EAGAIN || errno == EINTR) {
                    return;
                }
                tw_fail(n->t, "stdin: %s", strerror(errno));
                n->in_eof = true;
                return;
            }
            if (r == 0) {
                n->in_eof = true;
                return;
            }
            n->in_off = 0;
            n->in_len = (size_t)r;
        }
        tw_ssize s = tw_socket_send(n->sock, n->in + n->in_off, n->in_len - n->in_off, now);
        if (s < 0) {
            if (s != TW_ERR_AGAIN) {
                conn_error(n, (int)s);
            }
            return;
        }
        n->in_off += (size_t)s;
        if (n->in_off < n->in_len) {
            return; /* send buffer full: wait for ACKs */
        }
    }
}

/* The client's connection, from the start of the stdin bytes kept (--repeat) or read. */
static int conn_start(struct nc *n, tw_time now)
{
    n->sock = NULL;
    n->connected = false;
    n->closed = false;
    n->fin_sent = false;
    n->peer_eof = false;
    if (n->whole) {
        n->in_off = 0;
        n->in_eof = false;
    }
    int rc = tw_socket_open(n->s.h.st, &n->sock);
    if (rc == TW_OK && n->t->fastopen) {
        /* RFC 7413: as sendto(MSG_FASTOPEN): the bytes that rode on the SYN are sent */
        tw_ssize w = tw_socket_connect_send(n->sock, n->raddr, n->port, n->in, n->in_len, now);
        if (w >= 0) {
            n->in_off = (size_t)w;
            if (n->t->verbose) {
                fprintf(stderr, "tcpwave: fast open: %zd bytes on the SYN\n", (ssize_t)w);
            }
        }
        rc = w < 0 ? (int)w : TW_OK;
    } else if (rc == TW_OK) {
        rc = tw_socket_connect(n->sock, n->raddr, n->port, now);
    }
    if (rc != TW_OK) {
        return tw_fail(n->t, "connect: %s", tw_strerror(rc));
    }
    return TW_EXIT_OK;
}

/* --repeat and --fastopen: stdin read whole (at most NC_CHUNK bytes) before connecting. */
static int read_whole(struct nc *n)
{
    n->whole = true;
    n->in_len = 0;
    for (;;) {
        if (n->in_len == sizeof n->in) {
            char c;
            ssize_t more = read(STDIN_FILENO, &c, 1);
            if (more > 0) {
                return tw_fail(n->t, "stdin: more than %d bytes with --repeat or --fastopen",
                               NC_CHUNK);
            }
            break;
        }
        ssize_t r = read(STDIN_FILENO, n->in + n->in_len, sizeof n->in - n->in_len);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (r < 0) {
            return tw_fail(n->t, "stdin: %s", strerror(errno));
        }
        if (r == 0) {
            break;
        }
        n->in_len += (size_t)r;
    }
    n->in_off = 0;
    return TW_EXIT_OK;
}

static void step(struct nc *n)
{
    tw_time now = tw_host_now();
    tw_stack *st = n->s.h.st;
    if (n->lsn != NULL && (tw_socket_events(n->lsn) & TW_EV_ACCEPTABLE)) {
        if (tw_socket_accept(n->lsn, &n->sock, now) == TW_OK) {
            tw_socket_info info;
            tw_socket_info_get(n->sock, &info);
            n->raddr = info.remote_addr;
            n->port = info.remote_port;
            if (n->t->verbose) {
                char ep[24];
                fprintf(stderr, "tcpwave: connection from %s\n",
                        tw_fmt_endpoint(n->raddr, n->port, ep));
            }
            /* One connection, like nc -l: later SYNs are refused. */
            tw_socket_close(n->lsn, now);
            n->lsn = NULL;
        }
    }
    if (n->closed) {
        bool tw_left = n->t->msl_given && tw_stack_time_wait_count(st) > 0;
        if (tw_stack_conn_count(st) == 0 && !tw_left) {
            if (n->rounds > 0 && n->status == TW_EXIT_OK) {
                n->rounds--;
                int rc = conn_start(n, now);
                if (rc != TW_EXIT_OK) {
                    finish(n, rc);
                }
                return;
            }
            finish(n, n->status);
        }
        return;
    }
    if (n->sock == NULL) {
        return;
    }
    unsigned ev = tw_socket_events(n->sock);
    if (ev & TW_EV_ERROR) {
        conn_error(n, tw_socket_error(n->sock));
        return;
    }
    if (!n->connected) {
        if (!(ev & TW_EV_CONNECTED)) {
            return;
        }
        n->connected = true;
        if (n->t->verbose && !n->listening) {
            char ep[24];
            fprintf(stderr, "tcpwave: connected to %s\n", tw_fmt_endpoint(n->raddr, n->port, ep));
        }
    }
    pump_in(n, now);
    if (n->done) {
        return;
    }
    pump_out(n, now);
    if (n->done) {
        return;
    }
    /* (not in SYN-SENT: shutdown() there with nothing queued gives the attempt up, as
       Linux's; nc's input may end before the handshake does) */
    if (n->in_eof && n->in_off == n->in_len && !n->fin_sent &&
        tw_socket_state(n->sock) != TW_STATE_SYN_SENT) {
        tw_socket_shutdown(n->sock, TW_SHUT_WR, now);
        n->fin_sent = true;
    }
    if (n->fin_sent && n->peer_eof) {
        tw_socket_close(n->sock, now);
        n->sock = NULL;
        n->closed = true;
        n->status = TW_EXIT_OK;
        step(n); /* maybe nothing is left to wait for */
    }
}

/* Watch stdin only while its bytes could go somewhere, so level-triggered epoll does
   not spin while the send buffer is full. The fd leaves the set entirely when unwanted:
   EPOLLHUP of a closed pipe is reported even with an empty event mask. */
static void update_watch(struct nc *n)
{
    bool want = n->in_pollable && n->connected && !n->in_eof && !n->closed &&
                n->in_off == n->in_len && !n->in_ready;
    if (want == n->in_watched) {
        return;
    }
    if (want) {
        if (tw_loop_add(n->s.h.loop, STDIN_FILENO, EPOLLIN, stdin_ready, n) < 0) {
            n->in_pollable = false; /* e.g. /dev/null: read it directly */
            return;
        }
    } else {
        tw_loop_del(n->s.h.loop, STDIN_FILENO);
    }
    n->in_watched = want;
}

static int run(struct nc *n)
{
    tw_time now = tw_host_now();
    int rc = TW_OK;
    if (n->listening) {
        rc = tw_socket_open(n->s.h.st, &n->lsn);
        if (rc == TW_OK) {
            rc = tw_socket_bind(n->lsn, n->port);
        }
        if (rc == TW_OK) {
            rc = tw_socket_listen(n->lsn, 1, now);
        }
        if (rc == TW_OK && n->t->fastopen) {
            rc = tw_socket_set_fastopen(n->lsn, 1); /* RFC 7413 */
        }
    } else {
        if (n->t->fastopen || n->rounds > 0) {
            int xrc = read_whole(n);
            if (xrc != TW_EXIT_OK) {
                return xrc;
            }
        }
        int xrc = conn_start(n, now);
        if (xrc != TW_EXIT_OK) {
            return xrc;
        }
    }
    if (rc != TW_OK) {
        return tw_fail(n->t, "%s: %s", n->listening ? "listen" : "connect", tw_strerror(rc));
    }
    if (n->t->verbose && n->listening) {
        char ep[24];
        fprintf(stderr, "tcpwave: listening on %s (%s)\n",
                tw_fmt_endpoint(n->t->host.addr, n->port, ep), n->s.h.ifname);
    }
    struct stat sb;
    if (n->whole) {
        n->in_pollable = false; /* (read already) */
    } else if (fstat(STDIN_FILENO, &sb) != 0) {
        n->in_eof = true; /* stdin closed: nothing to send */
    } else {
        n->in_pollable = !S_ISREG(sb.st_mode);
    }
    while (!n->done) {
        if (tw_tool_stop) {
            if (n->sock != NULL) {
                tw_socket_abort(n->sock, tw_host_now());
                n->sock = NULL;
            }
            return TW_EXIT_FAIL;
        }
        update_watch(n);
        /* A regular file is always readable: do not sleep while it has bytes to give. */
        bool busy =
            !n->in_pollable && n->connected && !n->in_eof && !n->closed && n->in_off == n->in_len;
        tw_session_turn(&n->s, busy ? 0 : TW_SEC(1));
        step(n);
    }
    if (n->status != TW_EXIT_OK && n->sock != NULL) {
        /* Given up with the connection still open (stdout gone, say): reset it (RFC 9293
           3.10.5 ABORT), as a process that exits with unread data does, rather than
           vanish with the TUN and leave the peer retransmitting to no one. (On a
           connection that already ended, abort only frees the socket.) */
        tw_socket_abort(n->sock, tw_host_now());
        n->sock = NULL;
        tw_session_drain(&n->s);
    }
    return n->status;
}

static const char listen_usage[] = "tcpwave [OPTIONS] listen PORT";
static const char listen_help[] =
    "Accept one TCP connection on PORT at the stack's address; copy stdin to the peer and\n"
    "the peer to stdout. At stdin EOF send FIN (half-close) and go on reading until the\n"
    "peer closes too (like nc -l -N). Other global options: tcpwave --help.\n";
static const char connect_usage[] = "tcpwave [OPTIONS] connect [--repeat N] IP PORT";
static const char connect_help[] =
    "Connect to IP:PORT through the TUN (the kernel's side is --gateway, 10.7.0.1) and\n"
    "copy stdin to the peer and the peer to stdout, half-closing at stdin EOF (like\n"
    "nc -N).\n"
    "  --repeat N   make the connection N times in a row (1..1000), each sending the\n"
    "               same stdin (read whole first, 64 KiB at most)\n"
    "With --fastopen (TCP Fast Open, RFC 7413) stdin is read whole first, the first\n"
    "connection asks the server for a cookie and the next ones (--repeat) send the start\n"
    "of stdin on the SYN. Other global options: tcpwave --help.\n";

static int nc_opt(int opt, const char *arg, void *ud)
{
    struct nc *n = ud;
    unsigned long v;
    if (opt != 'r' || tw_parse_uint(arg, 1, 1000, &v) < 0) {
        tw_usage_error(n->t, connect_usage, "bad --repeat '%s' (1..1000)", arg);
        return -1;
    }
    n->rounds = (unsigned)v - 1;
    return 0;
}

static int nc_main(tw_tool *t, int argc, char **argv, bool listening)
{
    const char *usage = listening ? listen_usage : connect_usage;
    int first;
    static struct nc n;
    memset(&n, 0, sizeof n);
    n.t = t;
    static const struct option repeat_opt[] = {{"repeat", required_argument, NULL, 'r'},
                                               {NULL, 0, NULL, 0}};
    int rc = tw_cmd_args(t, argc, argv, usage, listening ? listen_help : connect_help,
                         listening ? NULL : repeat_opt, listening ? NULL : nc_opt, &n, &first);
    if (rc < 0) {
        return TW_ARGS_EXIT(rc);
    }
    n.t = t;
    n.listening = listening;
    int want = listening ? 1 : 2;
    if (argc - first != want) {
        return tw_usage_error(t, usage, "expected %s", listening ? "PORT" : "IP PORT");
    }
    if (!listening && (tw_parse_ipv4(argv[first], &n.raddr) < 0 || n.raddr == 0)) {
        return tw_usage_error(t, usage, "bad IPv4 address '%s'", argv[first]);
    }
    if (!listening) {
        /* The peer is the kernel (or a host it routes to) on the far side of the TUN:
           not the stack itself, not an address no host has. Outside the TUN's prefix
           only the addresses that are no host's anywhere are refused. */
        char why[64];
        bool on_net = ((n.raddr ^ t->host.addr) >> (32 - t->host.prefix)) == 0;
        if (n.raddr == t->host.addr) {
            return tw_usage_error(t, usage, "%s is the stack's own address (--addr); the "
                                  "kernel's side is --gateway", argv[first]);
        }
        if (tw_host_addr_problem(n.raddr, on_net ? t->host.prefix : 32, why) != NULL) {
            return tw_usage_error(t, usage, "cannot connect to %s: %s", argv[first], why);
        }
    }
    if (tw_parse_port(argv[argc - 1], &n.port) < 0) {
        return tw_usage_error(t, usage, "bad port '%s' (1..65535)", argv[argc - 1]);
    }
    rc = tw_session_open(&n.s, t);
    if (rc != TW_EXIT_OK) {
        return rc;
    }
    rc = run(&n);
    tw_session_close(&n.s);
    return rc;
}

int tw_cmd_listen(tw_tool *t, int argc, char **argv)
{
    return nc_main(t, argc, argv, true);
}

int tw_cmd_connect(tw_tool *t, int argc, char **argv)
{
    return nc_main(t, argc, argv, false);
}
