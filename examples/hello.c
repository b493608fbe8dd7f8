/*
 * hello.c -- the smallest complete tcpwave program: two stacks joined by an in-memory
 * wire, driven only by the three engine calls and the socket API.
 *
 *   cc hello.c $(pkg-config --cflags --libs tcpwave) -o hello && ./hello
 *
 * A real host replaces `wire` with a TUN device and `now` with CLOCK_MONOTONIC, and
 * sleeps in epoll until tw_stack_next_deadline() (see src/host/ and `tcpwave listen`).
 */
#include <tcpwave.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The wire: packets in flight between the two stacks, delivered on the next step. */
typedef struct wire {
    uint8_t pkt[64][1600];
    size_t len[64];
    int to[64];
    int n;
} wire;

typedef struct port {
    wire *w;
    int peer; /* index of the stack at the other end */
} port;

static int transmit(const uint8_t *pkt, size_t len, void *ud)
{
    port *p = ud;
    if (p->w->n == 64 || len > 1600) {
        return 1; /* dropped: TCP will retransmit */
    }
    memcpy(p->w->pkt[p->w->n], pkt, len);
    p->w->len[p->w->n] = len;
    p->w->to[p->w->n++] = p->peer;
    return 0;
}

int main(void)
{
    static wire w;
    port ports[2] = {{&w, 1}, {&w, 0}};
    tw_stack *st[2];
    uint32_t addr[2] = {0x0a000001, 0x0a000002}; /* 10.0.0.1, 10.0.0.2 */
    tw_time now = TW_SEC(1);
    for (int i = 0; i < 2; i++) {
        tw_config cfg;
        tw_config_init(&cfg);
        cfg.addr = addr[i];
        cfg.entropy[0] = (uint8_t)(i + 1); /* a real host fills all 32 bytes from getrandom */
        tw_netdev dev = {transmit, &ports[i], 1500};
        if (tw_stack_new(&st[i], &cfg, &dev, now) != TW_OK) {
            fprintf(stderr, "tw_stack_new failed\n");
            return 1;
        }
    }
    tw_socket *l, *c, *s = NULL;
    tw_socket_open(st[1], &l);
    tw_socket_bind(l, 7);
    tw_socket_listen(l, 16, now);
    tw_socket_open(st[0], &c);
    tw_socket_connect(c, addr[1], 7, now);
    tw_socket_send(c, "hello, tcpwave", 14, now); /* rides the handshake's third segment */
    tw_socket_shutdown(c, TW_SHUT_WR, now);

    char buf[64];
    int got = 0;
    for (int step = 0; step < 1000 && !(got && (tw_socket_events(c) & TW_EV_CLOSED)); step++) {
        /* 1. deliver what is on the wire */
        int n = w.n;
        w.n = 0;
        static wire copy;
        memcpy(&copy, &w, sizeof w);
        for (int i = 0; i < n; i++) {
            tw_stack_input(st[copy.to[i]], copy.pkt[i], copy.len[i], now);
        }
        /* 2. the application */
        if (!s && tw_socket_accept(l, &s, now) == TW_OK) {
            printf("server: accepted\n");
        }
        tw_ssize r = s ? tw_socket_recv(s, buf, sizeof buf - 1, now) : TW_ERR_AGAIN;
        if (r > 0) {
            buf[r] = 0;
            printf("server: got \"%s\"\n", buf);
            tw_socket_send(s, buf, (size_t)r, now); /* echo */
        } else if (r == 0 && !got) {
            tw_socket_close(s, now); /* peer finished: close our side too */
            got = 1;
        }
        tw_ssize e = tw_socket_recv(c, buf, sizeof buf - 1, now);
        if (e > 0) {
            buf[e] = 0;
            printf("client: echo \"%s\"\n", buf);
        }
        /* 3. time: jump to the next deadline when the wire is idle */
        if (w.n == 0) {
            tw_time d0 = tw_stack_next_deadline(st[0]), d1 = tw_stack_next_deadline(st[1]);
            tw_time d = d0 < d1 ? d0 : d1;
            if (d != TW_TIME_NEVER && d > now) {
                now = d;
            }
            tw_stack_on_timeout(st[0], now);
            tw_stack_on_timeout(st[1], now);
        }
    }
    printf("client: %s, state %s\n", got ? "done" : "unfinished",
           tw_state_name(tw_socket_state(c)));
    tw_socket_close(c, now);
    tw_socket_close(l, now);
    tw_stack_free(st[0]);
    tw_stack_free(st[1]);
    return got ? 0 : 1;
}
