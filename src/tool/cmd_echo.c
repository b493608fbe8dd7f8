/*
 * cmd_echo.c -- `tcpwave echo PORT`: an echo server (RFC 862 behaviour on any port) for
 * many connections at once. Each connection's bytes go back as they come; when the peer
 * half-closes, the rest is echoed and then we close too, so a client doing
 * "send, shutdown(SHUT_WR), read to EOF" gets everything back. Runs until SIGINT/SIGTERM.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tool/tool.h"

#define ECHO_BUF 65536
#define ECHO_BACKLOG 1024

struct echo_conn {
    tw_socket *s;
    struct echo_conn *next;
    size_t off, len;
    bool peer_eof;
    uint8_t buf[ECHO_BUF];
};

struct echo {
    tw_session s;
    tw_tool *t;
    tw_socket *lsn;
    struct echo_conn *conns;
    unsigned long accepted, finished, failed;
};

/* Returns false when the connection is finished (closed or failed). */
static bool serve(struct echo *e, struct echo_conn *c, tw_time now)
{
    unsigned ev = tw_socket_events(c->s);
    if (ev & TW_EV_ERROR) {
        if (e->t->verbose) {
            fprintf(stderr, "echo: connection %s\n", tw_strerror(tw_socket_error(c->s)));
        }
        e->failed++;
        tw_socket_close(c->s, now);
        return false;
    }
    /* Bounded per turn so one fast connection cannot starve the others. */
    for (int i = 0; i < 16; i++) {
        if (c->off < c->len) {
            tw_ssize w = tw_socket_send(c->s, c->buf + c->off, c->len - c->off, now);
            if (w < 0) {
                if (w == TW_ERR_AGAIN) {
                    break;
                }
                e->failed++;
                tw_socket_abort(c->s, now);
                return false;
            }
            c->off += (size_t)w;
            if (c->off < c->len) {
                break;
            }
        }
        if (c->peer_eof) {
            break;
        }
        tw_ssize r = tw_socket_recv(c->s, c->buf, sizeof c->buf, now);
        if (r == TW_ERR_AGAIN) {
            break;
        }
        if (r <= 0) {
            c->peer_eof = true; /* EOF (or the read side is gone) */
            break;
        }
        c->off = 0;
        c->len = (size_t)r;
    }
    if (c->peer_eof && c->off == c->len) {
        tw_socket_close(c->s, now); /* graceful: FIN after the echoed bytes */
        e->finished++;
        return false;
    }
    return true;
}

static void step(struct echo *e)
{
    tw_time now = tw_host_now();
    for (int i = 0; i < ECHO_BACKLOG; i++) {
        tw_socket *s;
        if (tw_socket_accept(e->lsn, &s, now) != TW_OK) {
            break;
        }
        struct echo_conn *c = calloc(1, sizeof *c);
        if (c == NULL) {
            tw_socket_abort(s, now);
            continue;
        }
        c->s = s;
        c->next = e->conns;
        e->conns = c;
        e->accepted++;
    }
    for (struct echo_conn **pp = &e->conns; *pp != NULL;) {
        struct echo_conn *c = *pp;
        if (serve(e, c, now)) {
            pp = &c->next;
        } else {
            *pp = c->next;
            free(c);
        }
    }
}

static const char echo_usage[] = "tcpwave [OPTIONS] echo PORT";
static const char echo_help[] =
    "Echo server on PORT at the stack's address, for any number of connections: bytes come\n"
    "back as they arrive; after the peer's FIN the rest is echoed and the connection\n"
    "closed. Runs until interrupted, then prints a summary on stderr; -v also reports\n"
    "each connection that ends with an error. Other global options: tcpwave --help.\n";

int tw_cmd_echo(tw_tool *t, int argc, char **argv)
{
    static struct echo e;
    memset(&e, 0, sizeof e);
    e.t = t;
    int first;
    int rc = tw_cmd_args(t, argc, argv, echo_usage, echo_help, NULL, NULL, NULL, &first);
    if (rc < 0) {
        return TW_ARGS_EXIT(rc);
    }
    uint16_t port;
    if (argc - first != 1) {
        return tw_usage_error(t, echo_usage, "expected PORT");
    }
    if (tw_parse_port(argv[first], &port) < 0) {
        return tw_usage_error(t, echo_usage, "bad port '%s' (1..65535)", argv[first]);
    }
    rc = tw_session_open(&e.s, t);
    if (rc != TW_EXIT_OK) {
        return rc;
    }
    tw_time now = tw_host_now();
    int trc = tw_socket_open(e.s.h.st, &e.lsn);
    if (trc == TW_OK) {
        trc = tw_socket_bind(e.lsn, port);
    }
    if (trc == TW_OK) {
        trc = tw_socket_listen(e.lsn, ECHO_BACKLOG, now);
        if (trc == TW_OK && t->fastopen) {
            trc = tw_socket_set_fastopen(e.lsn, ECHO_BACKLOG); /* RFC 7413 */
        }
    }
    if (trc != TW_OK) {
        tw_session_close(&e.s);
        return tw_fail(t, "listen on port %u: %s", port, tw_strerror(trc));
    }
    if (t->verbose) {
        char ep[24];
        fprintf(stderr, "tcpwave: listening on %s (%s)\n", tw_fmt_endpoint(t->host.addr, port, ep),
                e.s.h.ifname);
    }
    while (!tw_tool_stop) {
        tw_session_turn(&e.s, TW_SEC(1));
        step(&e);
    }
    tw_session_drain(&e.s);
    step(&e);
    while (e.conns != NULL) {
        struct echo_conn *c = e.conns;
        e.conns = c->next;
        tw_socket_abort(c->s, tw_host_now());
        free(c);
    }
    fprintf(stderr, "echo: %lu connections accepted, %lu closed cleanly, %lu failed\n", e.accepted,
            e.finished, e.failed);
    tw_session_close(&e.s);
    return TW_EXIT_OK;
}
