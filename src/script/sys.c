/*
 * sys.c -- the script's system calls, mapped onto tcpwave's non-blocking socket API.
 *
 * Owns: file descriptors (numbered like the kernel's: lowest free, from 3), O_NONBLOCK,
 * the Linux values of symbolic constants scripts use, errno names, and the blocking
 * behaviour of calls on blocking sockets (a call that would block returns SC_BLOCK; the
 * runner retries it as virtual time advances, as packetdrill's syscall thread waits).
 *
 * Supported: socket, bind, listen, accept(4), connect, read, recv(from), readv, write,
 * send(to), writev, close, shutdown, setsockopt/getsockopt (SO_REUSEADDR, SO_RCVBUF,
 * SO_SNDBUF, SO_LINGER (a timeout: a plain close, returning at once), SO_ERROR, TCP_NODELAY, TCP_CORK, TCP_MAXSEG, SO_KEEPALIVE,
 * TCP_KEEPIDLE/KEEPINTVL/KEEPCNT, TCP_USER_TIMEOUT; send flags MSG_MORE), poll (Linux's tcp_poll mask), fcntl
 * (F_GETFL/F_SETFL O_NONBLOCK), ioctl (SIOCINQ/FIONREAD, SIOCOUTQ). Anything else makes
 * the script SKIP.
 *
 * Where the API differs from Linux, Linux's observable behaviour is emulated: a socket
 * error (ECONNRESET, ECONNREFUSED...) is reported once, by the first call that can
 * report it, after which reads return 0 and writes EPIPE.
 */
#define _POSIX_C_SOURCE 200809L
#include "script/run.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- symbols (Linux values) ------------------------------------------------------------ */

typedef struct sym {
    const char *name;
    int64_t value;
} sym;

static const sym symbols[] = {
    {"AF_UNSPEC", 0}, {"AF_INET", 2}, {"AF_INET6", 10}, {"PF_INET", 2}, {"PF_INET6", 10},
    {"SOCK_STREAM", 1}, {"SOCK_DGRAM", 2}, {"SOCK_RAW", 3}, {"SOCK_NONBLOCK", 0x800},
    {"SOCK_CLOEXEC", 0x80000}, {"IPPROTO_IP", 0}, {"IPPROTO_TCP", 6}, {"IPPROTO_UDP", 17},
    {"SOL_SOCKET", 1}, {"SOL_TCP", 6}, {"SOL_IP", 0},
    {"SO_REUSEADDR", 2}, {"SO_ERROR", 4}, {"SO_SNDBUF", 7}, {"SO_RCVBUF", 8},
    {"SO_KEEPALIVE", 9}, {"SO_LINGER", 13}, {"SO_REUSEPORT", 15},
    {"TCP_NODELAY", 1}, {"TCP_MAXSEG", 2}, {"TCP_CORK", 3}, {"TCP_KEEPIDLE", 4},
    {"TCP_KEEPINTVL", 5}, {"TCP_KEEPCNT", 6}, {"TCP_INFO", 11}, {"TCP_CONGESTION", 13},
    {"TCP_USER_TIMEOUT", 18}, {"IP_TOS", 1},
    {"POLLIN", 0x1}, {"POLLPRI", 0x2}, {"POLLOUT", 0x4}, {"POLLERR", 0x8}, {"POLLHUP", 0x10},
    {"POLLNVAL", 0x20}, {"POLLRDNORM", 0x40}, {"POLLRDBAND", 0x80}, {"POLLWRNORM", 0x100},
    {"POLLWRBAND", 0x200}, {"POLLRDHUP", 0x2000},
    {"TCP_FASTOPEN", 23}, {"TCP_FASTOPEN_CONNECT", 30}, {"MSG_FASTOPEN", 0x20000000},
    {"SHUT_RD", 0}, {"SHUT_WR", 1}, {"SHUT_RDWR", 2},
    {"F_GETFL", 3}, {"F_SETFL", 4}, {"O_RDONLY", 0}, {"O_WRONLY", 1}, {"O_RDWR", 2},
    {"O_NONBLOCK", 0x800}, {"O_NDELAY", 0x800},
    {"FIONREAD", 0x541b}, {"SIOCINQ", 0x541b}, {"SIOCOUTQ", 0x5411}, {"TIOCOUTQ", 0x5411},
    {"MSG_OOB", 0x1}, {"MSG_PEEK", 0x2}, {"MSG_DONTWAIT", 0x40}, {"MSG_WAITALL", 0x100},
    {"MSG_NOSIGNAL", 0x4000}, {"MSG_MORE", 0x8000}, {"MSG_ZEROCOPY", 0x4000000},
    {"MSG_EOR", 0x80},
    /* Linux's tcpi_ca_state values (tcp_ca_state in linux/tcp.h) */
    {"TCP_CA_Open", 0}, {"TCP_CA_Disorder", 1}, {"TCP_CA_CWR", 2}, {"TCP_CA_Recovery", 3},
    {"TCP_CA_Loss", 4},
    {"TCP_ESTABLISHED", 1}, {"TCP_SYN_SENT", 2}, {"TCP_SYN_RECV", 3}, {"TCP_FIN_WAIT1", 4},
    {"TCP_FIN_WAIT2", 5}, {"TCP_TIME_WAIT", 6}, {"TCP_CLOSE", 7}, {"TCP_CLOSE_WAIT", 8},
    {"TCP_LAST_ACK", 9}, {"TCP_LISTEN", 10}, {"TCP_CLOSING", 11},
    /* FreeBSD packetdrill's names for tcpi_state (its TCPS_* states), given the values
       tcpi_state reads here (Linux numbering, above) so that the names compare right. */
    {"TCPI_CLOSED", 7}, {"TCPI_LISTEN", 10}, {"TCPI_SYN_SENT", 2}, {"TCPI_SYN_RECEIVED", 3},
    {"TCPI_ESTABLISHED", 1}, {"TCPI_CLOSE_WAIT", 8}, {"TCPI_FIN_WAIT_1", 4},
    {"TCPI_CLOSING", 11}, {"TCPI_LAST_ACK", 9}, {"TCPI_FIN_WAIT_2", 5}, {"TCPI_TIME_WAIT", 6},
    {"TCPI_OPT_TIMESTAMPS", 1}, {"TCPI_OPT_SACK", 2}, {"TCPI_OPT_WSCALE", 4},
    {"TCPI_OPT_ECN", 8}, {"TCPI_OPT_SYN_DATA", 32},
    {"EPERM", 1}, {"ENOENT", 2}, {"EINTR", 4}, {"EIO", 5}, {"EBADF", 9}, {"EAGAIN", 11},
    {"EWOULDBLOCK", 11}, {"ENOMEM", 12}, {"EFAULT", 14}, {"EBUSY", 16}, {"EINVAL", 22},
    {"EMFILE", 24}, {"EPIPE", 32}, {"ENONET", 64}, {"EPROTO", 71}, {"ENOTSOCK", 88},
    {"EDESTADDRREQ", 89}, {"EMSGSIZE", 90}, {"EPROTOTYPE", 91}, {"ENOPROTOOPT", 92},
    {"EPROTONOSUPPORT", 93}, {"EOPNOTSUPP", 95}, {"EAFNOSUPPORT", 97}, {"EADDRINUSE", 98},
    {"EADDRNOTAVAIL", 99}, {"ENETDOWN", 100}, {"ENETUNREACH", 101}, {"ECONNABORTED", 103},
    {"ECONNRESET", 104}, {"ENOBUFS", 105}, {"EISCONN", 106}, {"ENOTCONN", 107},
    {"ETIMEDOUT", 110}, {"ECONNREFUSED", 111}, {"EHOSTDOWN", 112}, {"EHOSTUNREACH", 113},
    {"EALREADY", 114}, {"EINPROGRESS", 115},
};

int sc_symbol(const char *name, int64_t *out)
{
    for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
        if (strcmp(symbols[i].name, name) == 0) {
            *out = symbols[i].value;
            return 0;
        }
    }
    return -1;
}

int sc_eval_int(const tw_sc_expr *e, int64_t *out)
{
    int64_t a, b;
    switch (e->kind) {
    case TW_SC_E_INT:
        *out = e->num;
        return 0;
    case TW_SC_E_WORD:
        return sc_symbol(e->str, out);
    case TW_SC_E_OR:
        if (sc_eval_int(e->lhs, &a) < 0 || sc_eval_int(e->rhs, &b) < 0) {
            return -1;
        }
        *out = a | b;
        return 0;
    case TW_SC_E_LIST:
        if (e->n_items != 1) {
            return -1;
        }
        return sc_eval_int(e->items[0], out);
    case TW_SC_E_CALL:
        if ((strcmp(e->str, "htons") == 0 || strcmp(e->str, "htonl") == 0) &&
            e->n_items == 1) {
            return sc_eval_int(e->items[0], out); /* host order is what the API takes */
        }
        return -1;
    default:
        return -1;
    }
}

void sc_record_sent(sc_runner *r, tw_socket *s, const uint8_t *p, size_t n)
{
    tw_socket_info info;
    if (tw_socket_info_get(s, &info) != TW_OK) {
        return;
    }
    sc_flow *f = sc_flow_get(r, info.local_port, info.remote_port);
    if (f == NULL) {
        return;
    }
    if (f->sent_len + n > f->sent_cap) {
        size_t cap = f->sent_cap ? f->sent_cap : 4096;
        while (cap < f->sent_len + n) {
            cap *= 2;
        }
        uint8_t *b = realloc(f->sent, cap);
        if (b == NULL) {
            return;
        }
        f->sent = b;
        f->sent_cap = cap;
    }
    memcpy(f->sent + f->sent_len, p, n);
    f->sent_len += n;
}

/* ---- helpers --------------------------------------------------------------------------- */

static sc_call_status done(sc_call_out *out, int64_t ret, const char *err)
{
    out->ret = ret;
    out->err = err;
    return SC_DONE;
}

static const char *tw_errno(int err)
{
    switch (err) {
    case TW_ERR_INVAL: return "EINVAL";
    case TW_ERR_NOMEM: return "ENOMEM";
    case TW_ERR_AGAIN: return "EAGAIN";
    case TW_ERR_STATE: return "EINVAL";
    case TW_ERR_ADDRINUSE: return "EADDRINUSE";
    case TW_ERR_NOTCONN: return "ENOTCONN";
    case TW_ERR_CLOSED: return "EPIPE";
    case TW_ERR_RESET: return "ECONNRESET";
    case TW_ERR_REFUSED: return "ECONNREFUSED";
    case TW_ERR_TIMEDOUT: return "ETIMEDOUT";
    case TW_ERR_ABORTED: return "ECONNABORTED";
    case TW_ERR_LIMIT: return "ENOBUFS";
    case TW_ERR_BUSY: return "EBUSY";
    case TW_ERR_ADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case TW_ERR_NETUNREACH: return "ENETUNREACH";
    case TW_ERR_HOSTUNREACH: return "EHOSTUNREACH";
    case TW_ERR_PROTO: return "EPROTO";
    case TW_ERR_NOPROTOOPT: return "ENOPROTOOPT";
    case TW_ERR_OPNOTSUPP: return "EOPNOTSUPP";
    case TW_ERR_HOSTDOWN: return "EHOSTDOWN";
    case TW_ERR_NONET: return "ENONET";
    default: return "EIO";
    }
}

static bool is_conn_error(int err)
{
    return err == TW_ERR_RESET || err == TW_ERR_REFUSED || err == TW_ERR_TIMEDOUT ||
           err == TW_ERR_ABORTED || err == TW_ERR_NETUNREACH || err == TW_ERR_HOSTUNREACH ||
           err == TW_ERR_PROTO || err == TW_ERR_NOPROTOOPT || err == TW_ERR_OPNOTSUPP ||
           err == TW_ERR_HOSTDOWN || err == TW_ERR_NONET;
}

static const tw_sc_expr *arg(const tw_sc_event *ev, size_t i)
{
    return i < ev->call.n_args ? ev->call.args[i] : NULL;
}

static int int_arg(sc_runner *r, const tw_sc_event *ev, size_t i, int64_t *v)
{
    const tw_sc_expr *e = arg(ev, i);
    if (e == NULL) {
        return sc_fail(r, ev->line, "%s(): argument %zu is missing", ev->call.name, i + 1);
    }
    if (sc_eval_int(e, v) < 0) {
        return sc_fail(r, ev->line, "%s(): cannot evaluate argument %zu", ev->call.name, i + 1);
    }
    return 0;
}

/* Look up the fd argument; a bad fd is EBADF, as in the kernel. */
static sc_call_status fd_arg(sc_runner *r, const tw_sc_event *ev, sc_fd **f, int *fdn,
                             sc_call_out *out)
{
    int64_t fd;
    if (int_arg(r, ev, 0, &fd) < 0) {
        return SC_FAIL;
    }
    if (fd < 0 || fd >= TW_SC_MAX_FDS || !r->fds[fd].used) {
        return done(out, -1, "EBADF");
    }
    *f = &r->fds[fd];
    *fdn = (int)fd;
    return SC_BLOCK; /* "continue" */
}

/* The descriptor for a new socket: the number the script expects, when it is free (in
   packetdrill a script's descriptors are names, mapped onto whatever the kernel returns,
   so `socket(...) = 4` may be the first socket), else the lowest free one, as the kernel
   gives. */
static int new_fd(sc_runner *r, const tw_sc_event *ev)
{
    const tw_sc_expr *want = ev->call.result;
    if (want != NULL && want->kind == TW_SC_E_INT && want->num >= 3 &&
        want->num < TW_SC_MAX_FDS && !r->fds[want->num].used) {
        return (int)want->num;
    }
    for (int i = 3; i < TW_SC_MAX_FDS; i++) {
        if (!r->fds[i].used) {
            return i;
        }
    }
    return -1;
}

/* Find sin_port / sin_addr in a {sa_family=..., sin_port=htons(p), sin_addr=...}. */
static int sockaddr_arg(sc_runner *r, const tw_sc_event *ev, const tw_sc_expr *e,
                        uint32_t *addr, uint16_t *port)
{
    if (e->kind != TW_SC_E_STRUCT) {
        return sc_fail(r, ev->line, "%s(): expected ... or a sockaddr", ev->call.name);
    }
    for (size_t i = 0; i < e->n_items; i++) {
        const tw_sc_expr *it = e->items[i];
        if (it->kind != TW_SC_E_ASSIGN) {
            continue;
        }
        int64_t v;
        if (strcmp(it->str, "sin_port") == 0) {
            if (sc_eval_int(it->rhs, &v) < 0 || v < 0 || v > 65535) {
                return sc_fail(r, ev->line, "bad sin_port");
            }
            *port = (uint16_t)v;
        } else if (strcmp(it->str, "sin_addr") == 0) {
            const tw_sc_expr *a = it->rhs;
            if (a->kind == TW_SC_E_CALL && strcmp(a->str, "inet_addr") == 0 &&
                a->n_items == 1 && a->items[0]->kind == TW_SC_E_STRING) {
                if (tw_wire_parse_addr(a->items[0]->str, addr) < 0) {
                    return sc_fail(r, ev->line, "bad address %s", a->items[0]->str);
                }
            } else if (a->kind == TW_SC_E_WORD && strcmp(a->str, "INADDR_ANY") == 0) {
                *addr = 0;
            } else {
                return sc_fail(r, ev->line, "bad sin_addr");
            }
        }
    }
    return 0;
}

/* Report a connection's sticky error once (Linux clears sk_err when it reports it). */
static const char *take_error(sc_fd *f)
{
    int err = tw_socket_error(f->s);
    if (!is_conn_error(err) || f->so_error_reported) {
        return NULL;
    }
    f->so_error_reported = true;
    return tw_errno(err);
}

/* ---- the calls ------------------------------------------------------------------------- */

/* The socket under test (run.h sut_kind) is s's connection, once its ports are known. */
static void sut_from(sc_runner *r, tw_socket *s)
{
    tw_socket_info info;
    if (tw_socket_info_get(s, &info) == TW_OK && info.local_port != 0) {
        sc_sut_set(r, info.local_port, info.remote_port);
    }
}

static sc_call_status sys_socket(sc_runner *r, const tw_sc_event *ev, sc_call_out *out)
{
    int64_t type = 1;
    const tw_sc_expr *t = arg(ev, 1);
    if (t != NULL && t->kind != TW_SC_E_ELLIPSIS && sc_eval_int(t, &type) < 0) {
        sc_fail(r, ev->line, "socket(): cannot evaluate the type");
        return SC_FAIL;
    }
    if ((type & 0xff) != 1) {
        sc_skip(r, ev->line, "socket type %" PRId64 " is not supported (TCP only)", type);
        return SC_SKIP;
    }
    int fd = new_fd(r, ev);
    if (fd < 0) {
        return done(out, -1, "EMFILE");
    }
    tw_socket *s = NULL;
    int rc = tw_socket_open(r->st, &s);
    if (rc != TW_OK) {
        return done(out, -1, rc == TW_ERR_LIMIT ? "ENFILE" : "ENOMEM");
    }
    sc_fd *f = &r->fds[fd];
    memset(f, 0, sizeof(*f));
    f->used = true;
    f->s = s;
    f->nonblock = (type & 0x800) != 0;
    sc_sut_new(r);
    return done(out, fd, NULL);
}

static sc_call_status sys_bind(sc_runner *r, const tw_sc_event *ev, sc_call_out *out)
{
    sc_fd *f;
    int fd;
    sc_call_status st = fd_arg(r, ev, &f, &fd, out);
    if (st != SC_BLOCK) {
        return st;
    }
    uint16_t port = r->bind_port;
    uint32_t addr = r->laddr;
    const tw_sc_expr *a = arg(ev, 1);
    if (a != NULL && a->kind != TW_SC_E_ELLIPSIS &&
        sockaddr_arg(r, ev, a, &addr, &port) < 0) {
        return SC_FAIL;
    }
    if (addr != 0 && addr != r->laddr) {
        return done(out, -1, "EADDRNOTAVAIL");
    }
    int rc = tw_socket_bind(f->s, port);
    if (rc != TW_OK) {
        return done(out, -1, tw_errno(rc));
    }
    f->bound_port = port;
    return done(out, 0, NULL);
}

static sc_call_status sys_listen(sc_runner *r, const tw_sc_event *ev, sc_call_out *out)
{
    sc_fd *f;
    int fd;
    sc_call_status st = fd_arg(r, ev, &f, &fd, out);
    if (st != SC_BLOCK) {
        return st;
    }
    int64_t backlog = 1;
    if (arg(ev, 1) != NULL && int_arg(r, ev, 1, &backlog) < 0) {
        return SC_FAIL;
    }
    if (backlog < 0 || backlog > 4096) {
        backlog = 4096; /* Linux: (unsigned)backlog capped at net.core.somaxconn */
    }
    int rc = tw_socket_listen(f->s, (int)backlog, r->clock);
    if (rc != TW_OK) {
        return done(out, -1, tw_errno(rc));
    }
    f->listener = true;
    if (r->sut_kind == 1) {
        r->sut_listening = true; /* (the socket under test, new, listens) */
    }
    tw_socket_info info;
    if (f->bound_port == 0 && tw_socket_info_get(f->s, &info) == TW_OK) {
        f->bound_port = info.local_port; /* (listen bound an ephemeral port, as Linux's) */
    }
    r->lport = f->bound_port;
    r->lport_known = true;
    return done(out, 0, NULL);
}

static sc_call_status sys_accept(sc_runner *r, const tw_sc_event *ev, sc_call_out *out)
{
    sc_fd *f;
    int fd;
    sc_call_status st = fd_arg(r, ev, &f, &fd, out);
    if (st != SC_BLOCK) {
        return st;
    }
    if (!f->listener) {
        return done(out, -1, "EINVAL");
    }
    int nfd = new_fd(r, ev);
    if (nfd < 0) {
        return done(out, -1, "EMFILE");
    }
    tw_socket *c = NULL;
    int rc = tw_socket_accept(f->s, &c, r->clock);
    if (rc == TW_ERR_AGAIN) {
        return f->nonblock ? done(out, -1, "EAGAIN") : SC_BLOCK;
    }
    if (rc != TW_OK) {
        return done(out, -1, tw_errno(rc));
    }
    sc_fd *n = &r->fds[nfd];
    memset(n, 0, sizeof(*n));
    n->used = true;
    n->s = c;
    /* The stack gave the connection its listener's settings (as a Linux child socket is
       a copy of its listener): what getsockopt reads back here follows. */
    n->reuse = f->reuse;
    n->linger0 = f->linger0;
    n->nodelay = f->nodelay;
    n->mss = f->mss;
    n->keepalive = f->keepalive;
    n->ka_idle = f->ka_idle;
    n->ka_intvl = f->ka_intvl;
    n->ka_cnt = f->ka_cnt;
    n->user_timeout_ms = f->user_timeout_ms;
    n->tos = f->tos;
    /* accept4(..., SOCK_NONBLOCK) */
    int64_t flags = 0;
    if (strcmp(ev->call.name, "accept4") == 0 && arg(ev, 3) != NULL) {
        if (int_arg(r, ev, 3, &flags) < 0) {
            return SC_FAIL;
        }
    }
    n->nonblock = (flags & 0x800) != 0;
    r->cur_fd = nfd;
    sut_from(r, c);
    tw_socket_info info;
    if (tw_socket_info_get(c, &info) == TW_OK) {
        r->lport = info.local_port;
        r->rport = info.remote_port;
    }
    return done(out, nfd, NULL);
}

static sc_call_status sys_connect(sc_runner *r, const tw_sc_event *ev, sc_call_ctx *ctx,
                                  sc_call_out *out)
{
    sc_fd *f;
    int fd;
    sc_call_status st = fd_arg(r, ev, &f, &fd, out);
    if (st != SC_BLOCK) {
        return st;
    }
    if (!ctx->started) {
        uint16_t port = r->connect_port;
        uint32_t addr = r->raddr;
        const tw_sc_expr *a = arg(ev, 1);
        if (a != NULL && a->kind != TW_SC_E_ELLIPSIS &&
            sockaddr_arg(r, ev, a, &addr, &port) < 0) {
            return SC_FAIL;
        }
        tw_state s = tw_socket_state(f->s);
        unsigned evm = tw_socket_events(f->s);
        if (s == TW_STATE_SYN_SENT || s == TW_STATE_SYN_RCVD) {
            return done(out, -1, "EALREADY");
        }
        if (f->connecting) {
            /* Linux (__inet_stream_connect): the connect() after a non-blocking one that
               has completed returns 0 once, or the error that ended it. */
            f->connecting = false;
            if (evm & TW_EV_CONNECTED && s != TW_STATE_CLOSED) {
                return done(out, 0, NULL);
            }
            const char *e = take_error(f);
            return done(out, -1, e ? e : "ECONNABORTED");
        }
        if (f->listener || (evm & TW_EV_CONNECTED)) {
            /* A listener, or a socket that was connected, even one since reset or closed:
               EISCONN (Linux keeps such a socket SS_CONNECTED; the error stays unread). */
            return done(out, -1, "EISCONN");
        }
        const char *e = take_error(f);
        if (e != NULL) {
            return done(out, -1, e);
        }
        if (addr >= 0xe0000000u) {
            return done(out, -1, "ENETUNREACH"); /* multicast, broadcast: Linux's answer */
        }
        /* The stack picks our port and ISN: learn both from its SYN. */
        r->raddr = addr;
        r->rport = port;
        r->lport_known = false;
        if (f->fastopen_connect && tw_stack_fastopen_cookie(r->st, addr, NULL, 0) > 0) {
            /* Linux's TCP_FASTOPEN_CONNECT with a cookie cached: connect() returns at once
               and the first write sends the SYN with the cookie and its data
               (tcp_fastopen_defer_connect). */
            f->tfo_deferred = true;
            f->tfo_addr = addr;
            f->tfo_port = port;
            return done(out, 0, NULL);
        }
        r->connect_pending = true;
        r->cur_fd = fd;
        int rc = f->fastopen_connect ? (int)tw_socket_connect_send(f->s, addr, port, NULL, 0,
                                                                   r->clock)
                                     : tw_socket_connect(f->s, addr, port, r->clock);
        if (rc != TW_OK) {
            return done(out, -1, tw_errno(rc));
        }
        sut_from(r, f->s);
        /* (a socket whose last attempt failed starts over: its next error is news) */
        f->so_error_reported = false;
        f->reset_reported = false;
        f->disconnected = false;
        if (f->bound_port != 0) {
            r->lport = f->bound_port;
            r->lport_known = true;
        }
        ctx->started = true;
        if (f->nonblock) {
            f->connecting = true;
            return done(out, -1, "EINPROGRESS");
        }
    }
    unsigned evm = tw_socket_events(f->s);
    if (evm & TW_EV_CONNECTED) {
        return done(out, 0, NULL);
    }
    if (evm & (TW_EV_ERROR | TW_EV_CLOSED)) {
        const char *e = take_error(f);
        return done(out, -1, e ? e : "ECONNREFUSED");
    }
    return SC_BLOCK;
}

/* Total of the byte-count argument: N, or the sum of an iovec list's lengths. */
static int count_arg(sc_runner *r, const tw_sc_event *ev, bool vec, int64_t *n)
{
    if (!vec) {
        return int_arg(r, ev, 2, n);
    }
    const tw_sc_expr *l = arg(ev, 1);
    if (l == NULL || l->kind != TW_SC_E_LIST) {
        return sc_fail(r, ev->line, "%s(): expected an iovec list", ev->call.name);
    }
    *n = 0;
    for (size_t i = 0; i < l->n_items; i++) {
        const tw_sc_expr *iov = l->items[i];
        int64_t len;
        if (iov->kind != TW_SC_E_STRUCT || iov->n_items != 2 ||
            sc_eval_int(iov->items[1], &len) < 0 || len < 0) {
            return sc_fail(r, ev->line, "%s(): bad iovec", ev->call.name);
        }
        /* (a sum past INT64_MAX stays there: io_prologue refuses it, as Linux refuses
           iovecs whose lengths add up past SSIZE_MAX, with no overflow on the way) */
        *n = len > INT64_MAX - *n ? INT64_MAX : *n + len;
    }
    return 0;
}

#define MSG_FASTOPEN 0x20000000 /* Linux's */

static int msg_flags(sc_runner *r, const tw_sc_event *ev, size_t idx, int64_t *flags)
{
    *flags = 0;
    const tw_sc_expr *e = arg(ev, idx);
    if (e == NULL || e->kind == TW_SC_E_ELLIPSIS) {
        return 0;
    }
    if (sc_eval_int(e, flags) < 0) {
        return sc_fail(r, ev->line, "%s(): cannot evaluate the flags", ev->call.name);
    }
    /* MSG_EOR (0x80) is taken and has no effect: tcpwave's send buffer is a byte stream
       cut at the MSS, with no record ends for a later write to stop at (Linux keeps such
       a write out of the tail skb; only the segment boundaries differ, as with TSO). */
    /* MSG_MORE (0x8000) corks the call's data: tw_socket_send_flags. */
    if (*flags & ~(int64_t)(0x40 | 0x80 | 0x4000 | 0x8000 | MSG_FASTOPEN)) {
        return sc_skip(r, ev->line, "%s() flags 0x%" PRIx64 " are not supported", ev->call.name,
                       *flags);
    }
    return 0;
}

/* sendmsg's byte count: the sum of its struct msghdr's msg_iov lengths (packetdrill's
   {msg_name(...)=..., msg_iov(N)=[{..., LEN}, ...], msg_flags=0}). A destination address
   or ancillary data (msg_control) the runner does not send: SKIP. SC_BLOCK to go on. */
static sc_call_status msghdr_count(sc_runner *r, const tw_sc_event *ev, int64_t *n)
{
    const tw_sc_expr *m = arg(ev, 1);
    if (m == NULL || m->kind != TW_SC_E_STRUCT) {
        sc_fail(r, ev->line, "sendmsg(): expected a struct msghdr");
        return SC_FAIL;
    }
    const tw_sc_expr *iov = NULL;
    for (size_t i = 0; i < m->n_items; i++) {
        const tw_sc_expr *it = m->items[i];
        if (it->kind != TW_SC_E_ASSIGN) {
            sc_fail(r, ev->line, "sendmsg(): expected name=value fields");
            return SC_FAIL;
        }
        if (strcmp(it->str, "msg_iov") == 0) {
            iov = it->rhs;
        } else if (strcmp(it->str, "msg_flags") == 0 ||
                   (strcmp(it->str, "msg_name") == 0 &&
                    it->rhs->kind == TW_SC_E_ELLIPSIS)) {
            continue; /* (the connected peer; msg_flags is an output) */
        } else {
            sc_skip(r, ev->line, "sendmsg(): field %s is not supported", it->str);
            return SC_SKIP;
        }
    }
    if (iov == NULL || iov->kind != TW_SC_E_LIST) {
        sc_fail(r, ev->line, "sendmsg(): expected msg_iov(N)=[...]");
        return SC_FAIL;
    }
    *n = 0;
    for (size_t i = 0; i < iov->n_items; i++) {
        const tw_sc_expr *v = iov->items[i];
        int64_t len;
        if (v->kind != TW_SC_E_STRUCT || v->n_items != 2 ||
            sc_eval_int(v->items[1], &len) < 0 || len < 0) {
            sc_fail(r, ev->line, "sendmsg(): bad iovec");
            return SC_FAIL;
        }
        *n = len > INT64_MAX - *n ? INT64_MAX : *n + len;
    }
    return SC_BLOCK;
}

/* The shared start of read/recv/readv and write/send/writev: the fd, the byte count
   (at most `max`), MSG_* flags for the socket-call forms, and an I/O buffer that holds
   the count. Returns SC_BLOCK to go on (the convention of fd_arg), or the outcome. */
static sc_call_status io_prologue(sc_runner *r, const tw_sc_event *ev, const char *vec_name,
                                  const char *a, const char *b, int64_t max, sc_fd **f,
                                  int64_t *n, int64_t *flags, bool *vec, sc_call_out *out)
{
    int fd;
    sc_call_status st = fd_arg(r, ev, f, &fd, out);
    if (st != SC_BLOCK) {
        return st;
    }
    const char *name = ev->call.name;
    *vec = strcmp(name, vec_name) == 0;
    *flags = 0;
    if (strcmp(name, "sendmsg") == 0) {
        *vec = true; /* (zeros, as writev's) */
        sc_call_status ms = msghdr_count(r, ev, n);
        if (ms != SC_BLOCK) {
            return ms;
        }
        if (msg_flags(r, ev, 2, flags) < 0) {
            return r->res->verdict == TW_SC_SKIP ? SC_SKIP : SC_FAIL;
        }
    } else if (count_arg(r, ev, *vec, n) < 0) {
        return SC_FAIL;
    }
    if ((strcmp(name, a) == 0 || strcmp(name, b) == 0) && msg_flags(r, ev, 3, flags) < 0) {
        return r->res->verdict == TW_SC_SKIP ? SC_SKIP : SC_FAIL;
    }
    if (*n < 0 || *n == INT64_MAX) {
        return done(out, -1, "EINVAL");
    }
    if (*n > max) {
        if (*vec ? strcmp(name, "readv") == 0 : name[0] == 'r') {
            /* A read of more than any receive buffer holds (16 MiB at most) returns what
               is there, as on Linux: its count is only the room offered. */
            *n = max;
        } else {
            sc_skip(r, ev->line, "%s() of %" PRId64 " bytes: more than the runner's %" PRId64
                                 " at once", name, *n, max);
            return SC_SKIP;
        }
    }
    if ((size_t)*n > r->iobuf_cap) {
        uint8_t *buf = realloc(r->iobuf, (size_t)*n);
        if (buf == NULL) {
            sc_fail(r, ev->line, "out of memory");
            return SC_FAIL;
        }
        r->iobuf = buf;
        r->iobuf_cap = (size_t)*n;
    }
    return SC_BLOCK;
}

static sc_call_status sys_read(sc_runner *r, const tw_sc_event *ev, sc_call_out *out)
{
    sc_fd *f;
    int64_t n, flags;
    bool vec;
    sc_call_status st = io_prologue(r, ev, "readv", "recv", "recvfrom", 1 << 24, &f, &n, &flags,
                                    &vec, out);
    if (st != SC_BLOCK) {
        return st;
    }
    if (f->listener) {
        return done(out, -1, "ENOTCONN");
    }
    if (n == 0) {
        return done(out, 0, NULL);
    }
    tw_ssize got = tw_socket_recv(f->s, r->iobuf, (size_t)n, r->clock);
    if (got >= 0) {
        return done(out, got, NULL);
    }
    if (got == TW_ERR_AGAIN) {
        bool nb = f->nonblock || (flags & 0x40);
        if (tw_socket_state(f->s) == TW_STATE_CLOSED &&
            !(tw_socket_events(f->s) & TW_EV_CONNECTED)) {
            return done(out, -1, "ENOTCONN");
        }
        return nb ? done(out, -1, "EAGAIN") : SC_BLOCK;
    }
    if (is_conn_error((int)got)) {
        const char *e = take_error(f);
        return e ? done(out, -1, e) : done(out, f->disconnected ? -1 : 0,
                                             f->disconnected ? "ENOTCONN" : NULL);
    }
    if (got == TW_ERR_CLOSED) {
        return done(out, 0, NULL);
    }
    return done(out, -1, tw_errno((int)got));
}

/* sendto(MSG_FASTOPEN), or the first write after a deferred TCP_FASTOPEN_CONNECT
   connect(): connect and send in one (tw_socket_connect_send), as Linux's
   tcp_sendmsg_fastopen: the bytes that rode on the SYN, or EINPROGRESS when none did
   (no cookie yet: the SYN asked for one). */
static sc_call_status fastopen_write(sc_runner *r, const tw_sc_event *ev, sc_fd *f, size_t n,
                                     int64_t flags, sc_call_ctx *ctx, sc_call_out *out)
{
    uint32_t addr = f->tfo_deferred ? f->tfo_addr : r->raddr;
    uint16_t port = f->tfo_deferred ? f->tfo_port : r->connect_port;
    const tw_sc_expr *a = arg(ev, 4);
    if (!f->tfo_deferred && a != NULL && a->kind == TW_SC_E_WORD &&
        strcmp(a->str, "AF_UNSPEC") == 0) {
        /* Linux's tcp_sendmsg_fastopen: an address of family AF_UNSPEC (a sockaddr that
           is only its family) is refused */
        return done(out, -1, "EOPNOTSUPP");
    }
    if (!f->tfo_deferred && a != NULL && a->kind != TW_SC_E_ELLIPSIS &&
        sockaddr_arg(r, ev, a, &addr, &port) < 0) {
        return SC_FAIL;
    }
    if (n) {
        memset(r->iobuf, 0, n);
        const tw_sc_expr *buf = arg(ev, 1);
        if (buf != NULL && buf->kind == TW_SC_E_STRING) {
            size_t l = strlen(buf->str);
            memcpy(r->iobuf, buf->str, l < n ? l : n);
        }
    }
    r->raddr = addr;
    r->rport = port;
    r->lport_known = false;
    r->connect_pending = true;
    r->cur_fd = (int)(f - r->fds);
    tw_ssize w = tw_socket_connect_send(f->s, addr, port, n ? r->iobuf : NULL, n, r->clock);
    f->tfo_deferred = false;
    if (w < 0) {
        return done(out, -1, tw_errno((int)w));
    }
    sut_from(r, f->s);
    if (f->bound_port != 0) {
        r->lport = f->bound_port;
        r->lport_known = true;
    }
    ctx->started = true;
    f->connecting = true;
    if (w > 0) {
        sc_record_sent(r, f->s, r->iobuf, (size_t)w);
    }
    if (!f->nonblock && !(flags & 0x40)) {
        /* A blocking call waits for the handshake, then sends the rest as any write
           (Linux: tcp_sendmsg_fastopen's __inet_stream_connect waits for the connection
           unless MSG_DONTWAIT, then tcp_sendmsg goes on): sys_write takes it from here. */
        ctx->done = (size_t)w;
        return SC_BLOCK;
    }
    if (w == 0) {
        return done(out, -1, "EINPROGRESS");
    }
    return done(out, (int64_t)w, NULL);
}

static sc_call_status sys_write(sc_runner *r, const tw_sc_event *ev, sc_call_ctx *ctx,
                                sc_call_out *out)
{
    sc_fd *f;
    int64_t n, flags;
    bool vec;
    sc_call_status st = io_prologue(r, ev, "writev", "send", "sendto", 1 << 26, &f, &n, &flags,
                                    &vec, out);
    if (st != SC_BLOCK) {
        return st;
    }
    if (f->listener) {
        /* Linux (tcp_sendmsg_locked, sk_stream_wait_connect): a listener takes no
           write: EPIPE. */
        return done(out, -1, "EPIPE");
    }
    if (((flags & MSG_FASTOPEN) || f->tfo_deferred) && !ctx->started &&
        tw_socket_state(f->s) == TW_STATE_CLOSED &&
        !(tw_socket_events(f->s) & (TW_EV_CONNECTED | TW_EV_CLOSED))) {
        return fastopen_write(r, ev, f, (size_t)n, flags, ctx, out);
    }
    if (n == 0) {
        /* (before the buffer, which a script may never have needed: memset(NULL, 0, 0)
           is undefined) Linux checks the socket before the count: a write of 0 bytes
           fails as a longer one would on a socket never connected, shut for writing or
           dead (EPIPE, or the error not yet reported). */
        tw_ssize w = tw_socket_send(f->s, NULL, 0, r->clock);
        if (w >= 0 || w == TW_ERR_AGAIN) {
            return done(out, 0, NULL);
        }
        const char *e = is_conn_error((int)w) ? take_error(f) : NULL;
        return done(out, -1, e ? e : "EPIPE");
    }
    /* The bytes: zeros for ..., as packetdrill sends, or the string given. */
    memset(r->iobuf, 0, (size_t)n);
    const tw_sc_expr *buf = arg(ev, 1);
    if (!vec && buf != NULL && buf->kind == TW_SC_E_STRING) {
        size_t l = strlen(buf->str);
        memcpy(r->iobuf, buf->str, l < (size_t)n ? l : (size_t)n);
    }
    const char *e = NULL;
    if (f->so_error_reported && is_conn_error(tw_socket_error(f->s))) {
        return done(out, -1, "EPIPE");
    }
    if (ctx->started && !f->nonblock && !(flags & 0x40) &&
        (tw_socket_state(f->s) == TW_STATE_SYN_SENT ||
         tw_socket_state(f->s) == TW_STATE_SYN_RCVD)) {
        return SC_BLOCK; /* (a blocking Fast Open write: the handshake first) */
    }
    while (ctx->done < (size_t)n) {
        tw_ssize w = tw_socket_send_flags(f->s, r->iobuf + ctx->done, (size_t)n - ctx->done,
                                          (flags & 0x8000) ? TW_MSG_MORE : 0, r->clock);
        if (w > 0) {
            sc_record_sent(r, f->s, r->iobuf + ctx->done, (size_t)w);
            ctx->done += (size_t)w;
            continue;
        }
        if (w == 0 || w == TW_ERR_AGAIN) {
            bool nb = f->nonblock || (flags & 0x40);
            if (nb) {
                return ctx->done > 0 ? done(out, (int64_t)ctx->done, NULL)
                                     : done(out, -1, "EAGAIN");
            }
            return SC_BLOCK;
        }
        if (ctx->done > 0) {
            return done(out, (int64_t)ctx->done, NULL); /* partial write, error next time */
        }
        if (is_conn_error((int)w)) {
            e = take_error(f);
            return done(out, -1, e ? e : "EPIPE");
        }
        if (w == TW_ERR_NOTCONN) {
            return done(out, -1, "EPIPE"); /* Linux: sendmsg on an unconnected TCP socket */
        }
        return done(out, -1, tw_errno((int)w));
    }
    return done(out, (int64_t)ctx->done, NULL);
}

static sc_call_status sys_close(sc_runner *r, const tw_sc_event *ev, sc_call_out *out)
{
    sc_fd *f;
    int fd;
    sc_call_status st = fd_arg(r, ev, &f, &fd, out);
    if (st != SC_BLOCK) {
        return st;
    }
    tw_socket_close(f->s, r->clock);
    memset(f, 0, sizeof(*f));
    if (r->cur_fd == fd) {
        r->cur_fd = -1;
    }
    return done(out, 0, NULL);
}

static sc_call_status sys_shutdown(sc_runner *r, const tw_sc_event *ev, sc_call_out *out)
{
    sc_fd *f;
    int fd;
    sc_call_status st = fd_arg(r, ev, &f, &fd, out);
    if (st != SC_BLOCK) {
        return st;
    }
    int64_t how;
    if (int_arg(r, ev, 1, &how) < 0) {
        return SC_FAIL;
    }
    int tw_how = how == 0 ? TW_SHUT_RD : how == 1 ? TW_SHUT_WR : how == 2 ? TW_SHUT_RDWR : -1;
    if (tw_how < 0) {
        return done(out, -1, "EINVAL");
    }
    bool syn_sent = tw_socket_state(f->s) == TW_STATE_SYN_SENT;
    int rc = tw_socket_shutdown(f->s, tw_how, r->clock);
    if (rc != TW_OK) {
        return done(out, -1, rc == TW_ERR_STATE ? "ENOTCONN" : tw_errno(rc));
    }
    if (syn_sent) {
        f->connecting = false; /* Linux's inet_shutdown: SS_UNCONNECTED (tcp_disconnect) */
        f->disconnected = true;
    }
    if (f->listener && (tw_how & TW_SHUT_RD)) {
        f->listener = false; /* it stopped listening (tcpwave.h, as Linux) */
    }
    return done(out, 0, NULL);
}

static sc_call_status sys_fcntl(sc_runner *r, const tw_sc_event *ev, sc_call_out *out)
{
    sc_fd *f;
    int fd;
    sc_call_status st = fd_arg(r, ev, &f, &fd, out);
    if (st != SC_BLOCK) {
        return st;
    }
    int64_t cmd;
    if (int_arg(r, ev, 1, &cmd) < 0) {
        return SC_FAIL;
    }
    if (cmd == 3) { /* F_GETFL */
        return done(out, 2 | (f->nonblock ? 0x800 : 0), NULL);
    }
    if (cmd == 4) { /* F_SETFL */
        int64_t fl;
        if (int_arg(r, ev, 2, &fl) < 0) {
            return SC_FAIL;
        }
        f->nonblock = (fl & 0x800) != 0;
        return done(out, 0, NULL);
    }
    sc_skip(r, ev->line, "fcntl command %" PRId64 " is not supported", cmd);
    return SC_SKIP;
}

static int opt_value(sc_runner *r, const tw_sc_event *ev, int64_t *v)
{
    const tw_sc_expr *e = arg(ev, 3);
    if (e == NULL || sc_eval_int(e, v) < 0) {
        return sc_fail(r, ev->line, "%s(): expected [value]", ev->call.name);
    }
    return 0;
}

/* A level or option name Linux does not have at all (ENOPROTOOPT), as opposed to one it
   has that the runner does not (SKIP): levels other than SOL_IP, SOL_SOCKET and SOL_TCP,
   and names beyond any those levels define. */
static bool no_such_option(int64_t level, int64_t name)
{
    if (level != 0 && level != 1 && level != 6) {
        return true;
    }
    return name < 1 || name > (level == 6 ? 64 : 128);
}

static sc_call_status sys_setsockopt(sc_runner *r, const tw_sc_event *ev, sc_call_out *out)
{
    sc_fd *f;
    int fd;
    sc_call_status st = fd_arg(r, ev, &f, &fd, out);
    if (st != SC_BLOCK) {
        return st;
    }
    int64_t level, name, v = 0;
    if (int_arg(r, ev, 1, &level) < 0 || int_arg(r, ev, 2, &name) < 0) {
        return SC_FAIL;
    }
    if (no_such_option(level, name)) {
        return done(out, -1, "ENOPROTOOPT");
    }
    /* optlen, when written as a number: Linux refuses one shorter than the option's
       (an int, a struct linger), before it looks at the value. */
    const tw_sc_expr *lenx = arg(ev, 4);
    int64_t optlen;
    if (lenx != NULL && lenx->kind == TW_SC_E_INT && sc_eval_int(lenx, &optlen) == 0 &&
        (optlen < 4 || (level == 1 && name == 13 && optlen < 8))) {
        return done(out, -1, "EINVAL");
    }
    int rc = TW_OK;
    if (level == 1 && name == 13) { /* SO_LINGER {onoff, linger} */
        const tw_sc_expr *e = arg(ev, 3);
        int64_t onoff = -1, linger = -1;
        for (size_t i = 0; e != NULL && e->kind == TW_SC_E_STRUCT && i < e->n_items; i++) {
            const tw_sc_expr *it = e->items[i];
            if (it->kind == TW_SC_E_ASSIGN && strcmp(it->str, "onoff") == 0) {
                sc_eval_int(it->rhs, &onoff);
            } else if (it->kind == TW_SC_E_ASSIGN && strcmp(it->str, "linger") == 0) {
                sc_eval_int(it->rhs, &linger);
            }
        }
        if (onoff < 0 || linger < 0) {
            sc_fail(r, ev->line, "SO_LINGER needs {onoff=N, linger=N}");
            return SC_FAIL;
        }
        /* With a timeout, Linux's close() sends what a plain close sends (tcp_close: the
           data, then FIN; RST for unread data) and only waits, up to the timeout, for
           the FIN to be acknowledged (sk_stream_wait_close) before it returns; the
           connection then goes on as an orphan. On the wire it is a plain close: the
           stack's linger stays off, and close() returns at once (a script that times
           close()'s end would see it early). Linger 0 aborts (RST). */
        bool zero = onoff != 0 && linger == 0;
        rc = tw_socket_set_linger0(f->s, zero);
        f->linger0 = zero;
    } else {
        if (opt_value(r, ev, &v) < 0) {
            return SC_FAIL;
        }
        if (level == 1 && name == 2) {
            rc = tw_socket_set_reuseaddr(f->s, v != 0);
            f->reuse = v != 0;
        } else if (level == 1 && (name == 7 || name == 8)) {
            /* Linux clamps the value into its limits rather than refuse it (a negative
               int read as unsigned: the largest); ours are 1024 .. 16 MiB. The other
               buffer's size stays as it is (0). */
            uint32_t b = v < 0 || v > (16 << 20) ? 16u << 20 : v < 1024 ? 1024u : (uint32_t)v;
            rc = tw_socket_set_bufsizes(f->s, name == 8 ? b : 0, name == 7 ? b : 0);
        } else if (level == 6 && name == 1) {
            rc = tw_socket_set_nodelay(f->s, v != 0);
            f->nodelay = v != 0;
        } else if (level == 6 && name == 3) {
            rc = tw_socket_set_cork(f->s, v != 0); /* TCP_CORK */
        } else if (level == 6 && name == 2) {
            if (v != 0 && (v < 88 || v > 32767)) {
                return done(out, -1, "EINVAL"); /* Linux: TCP_MIN_MSS .. MAX_TCP_WINDOW */
            }
            rc = tw_socket_set_mss(f->s, (uint16_t)v);
            if (rc == TW_OK) {
                f->mss = (uint16_t)v;
            }
        } else if ((level == 1 && name == 9) || (level == 6 && name >= 4 && name <= 6)) {
            /* SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT: Linux takes seconds
               1..32767 and counts 1..127 */
            if (level == 6 && (v < 1 || v > (name == 6 ? 127 : 32767))) {
                return done(out, -1, "EINVAL");
            }
            sc_fd k = *f;
            if (level == 1) {
                k.keepalive = v != 0;
            } else if (name == 4) {
                k.ka_idle = (uint32_t)v;
            } else if (name == 5) {
                k.ka_intvl = (uint32_t)v;
            } else {
                k.ka_cnt = (uint8_t)v;
            }
            rc = tw_socket_set_keepalive(f->s, k.keepalive, TW_SEC(k.ka_idle),
                                         TW_SEC(k.ka_intvl), k.ka_cnt);
            if (rc == TW_OK) {
                *f = k;
            }
        } else if (level == 6 && name == 23) { /* TCP_FASTOPEN: the queue's length */
            if (v < 0) {
                return done(out, -1, "EINVAL");
            }
            rc = tw_socket_set_fastopen(f->s, (int)(v > 65535 ? 65535 : v));
        } else if (level == 6 && name == 30) { /* TCP_FASTOPEN_CONNECT */
            if (tw_socket_state(f->s) != TW_STATE_CLOSED || f->listener) {
                return done(out, -1, "EISCONN"); /* (Linux: only before connect) */
            }
            f->fastopen_connect = v != 0;
        } else if (level == 0 && name == 1) {
            /* IP_TOS (RFC 9293 3.9.1.9 MUST-48): Linux keeps a TCP socket's ECN bits its
               own and takes the rest (ip_sock_set_tos) */
            rc = tw_socket_set_tos(f->s, (uint8_t)v);
            if (rc == TW_OK) {
                f->tos = (uint16_t)(0x100u | ((uint8_t)v & 0xfcu));
            }
        } else if (level == 6 && name == 18) { /* TCP_USER_TIMEOUT, milliseconds */
            if (v < 0 || v > INT32_MAX) {
                return done(out, -1, "EINVAL");
            }
            rc = tw_socket_set_user_timeout(f->s, TW_MS((uint64_t)v));
            if (rc == TW_OK) {
                f->user_timeout_ms = (uint32_t)v;
            }
        } else {
            sc_skip(r, ev->line, "setsockopt(%" PRId64 ", %" PRId64 ") is not supported", level,
                    name);
            return SC_SKIP;
        }
    }
    if (rc != TW_OK) {
        return done(out, -1, tw_errno(rc));
    }
    return done(out, 0, NULL);
}

static sc_call_status sys_getsockopt(sc_runner *r, const tw_sc_event *ev, sc_call_out *out)
{
    sc_fd *f;
    int fd;
    sc_call_status st = fd_arg(r, ev, &f, &fd, out);
    if (st != SC_BLOCK) {
        return st;
    }
    int64_t level, name, have;
    if (int_arg(r, ev, 1, &level) < 0 || int_arg(r, ev, 2, &name) < 0) {
        return SC_FAIL;
    }
    if (no_such_option(level, name)) {
        /* (an unknown level is EOPNOTSUPP here on Linux: ip_getsockopt's answer) */
        return done(out, -1, level == 0 || level == 1 || level == 6 ? "ENOPROTOOPT" : "EOPNOTSUPP");
    }
    if (level == 1 && name == 4) { /* SO_ERROR */
        const char *e = take_error(f);
        have = 0;
        if (e != NULL && sc_symbol(e, &have) < 0) {
            have = 5;
        }
    } else if (level == 1 && name == 2) {
        have = f->reuse;
    } else if (level == 1 && (name == 7 || name == 8)) {
        tw_socket_info info;
        tw_socket_info_get(f->s, &info);
        have = name == 8 ? info.rcvbuf : info.sndbuf;
    } else if (level == 6 && name == 1) {
        have = f->nodelay;
    } else if (level == 6 && name == 3) { /* TCP_CORK */
        tw_socket_info info;
        tw_socket_info_get(f->s, &info);
        have = info.cork;
    } else if (level == 1 && name == 9) {
        have = f->keepalive;
    } else if (level == 6 && name == 4) {
        have = f->ka_idle ? f->ka_idle : (int64_t)(r->cfg.keepalive_idle / TW_SEC(1));
    } else if (level == 6 && name == 5) {
        have = f->ka_intvl ? f->ka_intvl : (int64_t)(r->cfg.keepalive_intvl / TW_SEC(1));
    } else if (level == 6 && name == 6) {
        have = f->ka_cnt ? f->ka_cnt : r->cfg.keepalive_probes;
    } else if (level == 6 && name == 18) {
        have = f->user_timeout_ms;
    } else if (level == 0 && name == 1) { /* IP_TOS */
        have = f->tos ? f->tos & 0xff : r->cfg.tos & 0xfc;
    } else if (level == 6 && name == 2) {
        tw_socket_info info;
        if ((tw_socket_events(f->s) & TW_EV_CONNECTED) &&
            tw_socket_info_get(f->s, &info) == TW_OK) {
            have = info.snd_mss;
        } else {
            have = f->mss ? f->mss : 536;
        }
    } else {
        sc_skip(r, ev->line, "getsockopt(%" PRId64 ", %" PRId64 ") is not supported", level,
                name);
        return SC_SKIP;
    }
    const tw_sc_expr *e = arg(ev, 3);
    if (e != NULL && e->kind != TW_SC_E_ELLIPSIS) {
        int64_t want;
        if (sc_eval_int(e, &want) < 0) {
            sc_fail(r, ev->line, "getsockopt(): cannot evaluate the expected value");
            return SC_FAIL;
        }
        if (want != have) {
            sc_fail(r, ev->line, "getsockopt() value is %" PRId64 ", expected %" PRId64, have,
                    want);
            return SC_FAIL;
        }
    }
    return done(out, 0, NULL);
}

static sc_call_status sys_ioctl(sc_runner *r, const tw_sc_event *ev, sc_call_out *out)
{
    sc_fd *f;
    int fd;
    sc_call_status st = fd_arg(r, ev, &f, &fd, out);
    if (st != SC_BLOCK) {
        return st;
    }
    int64_t req, have;
    if (int_arg(r, ev, 1, &req) < 0) {
        return SC_FAIL;
    }
    if ((req == 0x541b || req == 0x5411) && f->listener) {
        return done(out, -1, "EINVAL"); /* Linux's tcp_ioctl: not on a listener */
    }
    if (req == 0x541b) {
        have = (int64_t)tw_socket_rx_pending(f->s);
    } else if (req == 0x5411) {
        have = (int64_t)tw_socket_tx_pending(f->s);
    } else {
        sc_skip(r, ev->line, "ioctl request 0x%" PRIx64 " is not supported", req);
        return SC_SKIP;
    }
    const tw_sc_expr *e = arg(ev, 2);
    if (e != NULL && e->kind != TW_SC_E_ELLIPSIS) {
        int64_t want;
        if (sc_eval_int(e, &want) < 0) {
            sc_fail(r, ev->line, "ioctl(): cannot evaluate the expected value");
            return SC_FAIL;
        }
        if (want != have) {
            sc_fail(r, ev->line, "ioctl() value is %" PRId64 ", expected %" PRId64, have, want);
            return SC_FAIL;
        }
    }
    return done(out, 0, NULL);
}

/* Linux's tcp_poll() mask for the socket behind `f`, from tcpwave's events and state. */
static int64_t poll_mask(sc_fd *f)
{
    enum { IN = 0x1, OUT = 0x4, ERR = 0x8, HUP = 0x10, RDNORM = 0x40, WRNORM = 0x100,
           RDHUP = 0x2000 };
    unsigned ev = tw_socket_events(f->s);
    if (f->listener) {
        return (ev & TW_EV_ACCEPTABLE) ? IN | RDNORM : 0;
    }
    tw_state st = tw_socket_state(f->s);
    int64_t m = 0;
    if ((ev & TW_EV_ERROR) && !f->so_error_reported && !f->reset_reported) {
        m |= ERR;
    }
    bool closed = st == TW_STATE_CLOSED && (ev & (TW_EV_CLOSED | TW_EV_ERROR));
    bool fin_sent = st == TW_STATE_FIN_WAIT_1 || st == TW_STATE_FIN_WAIT_2 ||
                    st == TW_STATE_CLOSING || st == TW_STATE_LAST_ACK ||
                    st == TW_STATE_TIME_WAIT;
    if (st == TW_STATE_CLOSED && !closed) {
        return HUP | OUT | WRNORM; /* never connected: Linux's TCP_CLOSE socket */
    }
    if (closed || ((ev & TW_EV_PEER_CLOSED) && fin_sent)) {
        m |= HUP; /* both directions shut */
    }
    if (closed || (ev & TW_EV_PEER_CLOSED)) {
        m |= IN | RDNORM | RDHUP;
    }
    if (st != TW_STATE_SYN_SENT && st != TW_STATE_SYN_RCVD &&
        (st != TW_STATE_CLOSED || closed)) {
        if (ev & TW_EV_READABLE) {
            m |= IN | RDNORM;
        }
        if ((ev & TW_EV_WRITABLE) || fin_sent || closed) {
            m |= OUT | WRNORM; /* (after shutdown(SHUT_WR) a write fails at once: EPIPE) */
        }
    }
    return m;
}

/* poll([{fd=N, events=E, revents=R}, ...], nfds, timeout_ms): each revents is the socket's
   mask limited to its events plus POLLERR and POLLHUP, as in the kernel; POLLNVAL for a
   descriptor not open. The return value counts the entries with revents; with none and a
   timeout other than 0 the call blocks until one is ready or the timeout passes. */
static sc_call_status sys_poll(sc_runner *r, const tw_sc_event *ev, sc_call_ctx *ctx,
                               sc_call_out *out)
{
    const tw_sc_expr *list = arg(ev, 0);
    int64_t nfds, timeout;
    if (list == NULL || list->kind != TW_SC_E_LIST || int_arg(r, ev, 1, &nfds) < 0 ||
        int_arg(r, ev, 2, &timeout) < 0) {
        sc_fail(r, ev->line, "poll(): expected ([{fd=N, events=E, revents=R}, ...], nfds, "
                             "timeout)");
        return SC_FAIL;
    }
    if (nfds != (int64_t)list->n_items) {
        sc_fail(r, ev->line, "poll(): nfds %" PRId64 " but %zu entries", nfds, list->n_items);
        return SC_FAIL;
    }
    int64_t ready = 0;
    int64_t got[16], want[16];
    if (list->n_items > 16) {
        sc_skip(r, ev->line, "poll() with more than 16 entries is not supported");
        return SC_SKIP;
    }
    for (size_t i = 0; i < list->n_items; i++) {
        const tw_sc_expr *it = list->items[i];
        int64_t fd = -1, events = 0;
        want[i] = -1;
        for (size_t k = 0; it->kind == TW_SC_E_STRUCT && k < it->n_items; k++) {
            const tw_sc_expr *a = it->items[k];
            if (a->kind != TW_SC_E_ASSIGN) {
                continue;
            }
            int64_t v;
            if (strcmp(a->str, "revents") == 0 && a->rhs->kind == TW_SC_E_ELLIPSIS) {
                continue; /* revents=...: not compared */
            }
            if (sc_eval_int(a->rhs, &v) < 0) {
                sc_fail(r, ev->line, "poll(): cannot evaluate %s", a->str);
                return SC_FAIL;
            }
            if (strcmp(a->str, "fd") == 0) {
                fd = v;
            } else if (strcmp(a->str, "events") == 0) {
                events = v;
            } else if (strcmp(a->str, "revents") == 0) {
                want[i] = v;
            }
        }
        bool has_fd = false;
        for (size_t k = 0; it->kind == TW_SC_E_STRUCT && k < it->n_items; k++) {
            has_fd = has_fd || (it->items[k]->kind == TW_SC_E_ASSIGN &&
                                strcmp(it->items[k]->str, "fd") == 0);
        }
        if (!has_fd) {
            sc_fail(r, ev->line, "poll(): entry %zu needs {fd=N, events=E, revents=R}", i);
            return SC_FAIL;
        }
        if (fd < 0) {
            got[i] = 0; /* a negative descriptor is skipped (POSIX) */
        } else if (fd >= TW_SC_MAX_FDS || !r->fds[fd].used) {
            got[i] = 0x20; /* POLLNVAL */
        } else {
            got[i] = poll_mask(&r->fds[fd]) & (events | 0x8 | 0x10);
        }
        ready += got[i] != 0;
    }
    if (ready == 0 && timeout != 0) {
        if (!ctx->started) {
            ctx->started = true;
            ctx->wake = timeout > 0 ? r->clock + TW_MS((uint64_t)timeout) : 0;
        }
        if (ctx->wake == 0 || r->clock < ctx->wake) {
            return SC_BLOCK;
        }
    }
    for (size_t i = 0; i < list->n_items; i++) {
        if (want[i] >= 0 && want[i] != got[i]) {
            sc_fail(r, ev->line, "poll(): revents of entry %zu is 0x%" PRIx64
                                 ", expected 0x%" PRIx64,
                    i, got[i], want[i]);
            return SC_FAIL;
        }
    }
    return done(out, ready, NULL);
}

static const char *supported_calls[] = {
    "socket", "bind", "listen", "accept", "accept4", "connect", "read", "recv",
    "recvfrom", "readv", "write", "send", "sendto", "writev", "sendmsg", "close", "shutdown",
    "setsockopt", "getsockopt", "fcntl", "ioctl", "poll",
};

/* Calls packetdrill's dialects know that the runner does not make (a script using one
   SKIPs); any other name is the script's mistake, as packetdrill takes it (an error). */
static const char *other_calls[] = {
    "recvmsg", "cap_set", "open", "sendfile", "epoll_create", "epoll_create1",
    "epoll_ctl", "epoll_wait", "pipe", "splice", "getsockname", "getpeername", "sendmmsg",
    "recvmmsg", "select", "socketpair", "dup", "dup2",
};

bool sc_syscall_unknown(const char *name)
{
    for (size_t i = 0; i < sizeof(supported_calls) / sizeof(supported_calls[0]); i++) {
        if (strcmp(name, supported_calls[i]) == 0) {
            return false;
        }
    }
    for (size_t i = 0; i < sizeof(other_calls) / sizeof(other_calls[0]); i++) {
        if (strcmp(name, other_calls[i]) == 0) {
            return false;
        }
    }
    return strncmp(name, "sctp_", 5) != 0; /* (FreeBSD's SCTP calls) */
}

const char *sc_syscall_unsupported(const tw_sc_syscall *c, char *buf, size_t cap)
{
    bool known = false;
    for (size_t i = 0; i < sizeof(supported_calls) / sizeof(supported_calls[0]); i++) {
        known = known || strcmp(c->name, supported_calls[i]) == 0;
    }
    if (!known) {
        snprintf(buf, cap, "system call %s() is not supported", c->name);
        return buf;
    }
    if ((strcmp(c->name, "setsockopt") == 0 || strcmp(c->name, "getsockopt") == 0) &&
        c->n_args >= 3 && c->args[2]->kind == TW_SC_E_WORD) {
        static const char *opts[] = {"SO_REUSEADDR",   "SO_RCVBUF",     "SO_SNDBUF",
                                     "SO_LINGER",      "SO_ERROR",      "TCP_NODELAY",
                                     "TCP_MAXSEG",     "SO_KEEPALIVE",  "TCP_KEEPIDLE",
                                     "TCP_KEEPINTVL",  "TCP_KEEPCNT",   "TCP_USER_TIMEOUT",
                                     "TCP_FASTOPEN",   "TCP_FASTOPEN_CONNECT", "TCP_CORK",
                                     "IP_TOS"};
        bool ok = false;
        for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
            ok = ok || strcmp(c->args[2]->str, opts[i]) == 0;
        }
        if (!ok) {
            snprintf(buf, cap, "socket option %s is not supported", c->args[2]->str);
            return buf;
        }
    }
    if (strcmp(c->name, "socket") == 0 && c->n_args >= 2) {
        int64_t type;
        if (c->args[1]->kind != TW_SC_E_ELLIPSIS &&
            (sc_eval_int(c->args[1], &type) < 0 || (type & 0xff) != 1)) {
            snprintf(buf, cap, "only SOCK_STREAM sockets are supported");
            return buf;
        }
    }
    return NULL;
}

sc_call_status sc_syscall(sc_runner *r, const tw_sc_event *ev, sc_call_ctx *ctx,
                          sc_call_out *out)
{
    const char *n = ev->call.name;
    out->ret = 0;
    out->err = NULL;
    if (strcmp(n, "socket") == 0) {
        return sys_socket(r, ev, out);
    }
    if (strcmp(n, "bind") == 0) {
        return sys_bind(r, ev, out);
    }
    if (strcmp(n, "listen") == 0) {
        return sys_listen(r, ev, out);
    }
    if (strcmp(n, "accept") == 0 || strcmp(n, "accept4") == 0) {
        return sys_accept(r, ev, out);
    }
    if (strcmp(n, "connect") == 0) {
        return sys_connect(r, ev, ctx, out);
    }
    if (strcmp(n, "read") == 0 || strcmp(n, "recv") == 0 || strcmp(n, "recvfrom") == 0 ||
        strcmp(n, "readv") == 0) {
        return sys_read(r, ev, out);
    }
    if (strcmp(n, "write") == 0 || strcmp(n, "send") == 0 || strcmp(n, "sendto") == 0 ||
        strcmp(n, "writev") == 0 || strcmp(n, "sendmsg") == 0) {
        return sys_write(r, ev, ctx, out);
    }
    if (strcmp(n, "close") == 0) {
        return sys_close(r, ev, out);
    }
    if (strcmp(n, "shutdown") == 0) {
        return sys_shutdown(r, ev, out);
    }
    if (strcmp(n, "fcntl") == 0) {
        return sys_fcntl(r, ev, out);
    }
    if (strcmp(n, "setsockopt") == 0) {
        return sys_setsockopt(r, ev, out);
    }
    if (strcmp(n, "getsockopt") == 0) {
        return sys_getsockopt(r, ev, out);
    }
    if (strcmp(n, "ioctl") == 0) {
        return sys_ioctl(r, ev, out);
    }
    if (strcmp(n, "poll") == 0) {
        return sys_poll(r, ev, ctx, out);
    }
    sc_skip(r, ev->line, "system call %s() is not supported", n);
    return SC_SKIP;
}
