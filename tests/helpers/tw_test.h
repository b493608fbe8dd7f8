/*
 * tw_test.h -- scenario-test fixture: one tcpwave stack on virtual time, the test plays
 * the peer (STYLE 7.13).
 *
 *   tw_t *t = tw_t_new(NULL);                       stack LOCAL (192.168.0.1), clock 1 s
 *   TW_SEND(t, TW_MS(50), IN(.flags = TW_SYN, .seq = 1000, .opts = TW_OPT_MSS, .mss = 1460));
 *   tw_t_seg s = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = 1001, .any = TW_T_ANY_SEQ));
 *   TW_EXPECT_NOTHING(t);
 *
 * Every expected segment is compared whole: addresses, ports, flags, seq, ack, window,
 * options (present mask and values) and payload length; what cannot be known is said
 * with `.any`. On a mismatch the test fails at the caller's line, printing both
 * segments tcpdump-style and the last trace events.
 */
#ifndef TW_TEST_H
#define TW_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcpwave.h"
#include "alloc_test.h"

#define LOCAL 0xc0a80001u /* 192.168.0.1, packetdrill's local address */
#define PEER 0xc0000201u  /* 192.0.2.1, packetdrill's remote address */
#define LPORT 8080
#define PPORT 40000
#define T0 TW_SEC(1)      /* the fixture's clock starts here */

/* .any bits: fields not compared */
#define TW_T_ANY_SEQ 0x01u
#define TW_T_ANY_ACK 0x02u
#define TW_T_ANY_WIN 0x04u
#define TW_T_ANY_OPTS 0x08u /* don't compare options at all */
#define TW_T_ANY_TSVAL 0x10u
#define TW_T_ANY_PORT 0x20u /* our port (ephemeral) */

typedef struct tw_t_seg {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win;
    uint8_t opts; /* TW_OPT_* present */
    uint16_t mss;
    uint8_t wscale;
    uint32_t ts_val, ts_ecr;
    uint8_t sack_n;
    uint32_t sack[8]; /* start, end pairs */
    const void *data; /* payload (IN), or bytes to compare (OUT, optional) */
    uint32_t len;
    unsigned any;
} tw_t_seg;

#define TW_T_DEFAULT_WIN 65535
#define IN(...)                                                                            \
    ((tw_t_seg){.src = PEER, .dst = LOCAL, .sport = PPORT, .dport = LPORT, .win = 65535,     \
                __VA_ARGS__})
#define OUT(...)                                                                           \
    ((tw_t_seg){.src = LOCAL, .dst = PEER, .sport = LPORT, .dport = PPORT, __VA_ARGS__})

typedef struct tw_t tw_t;

/* A fresh stack (cfg may be NULL for defaults; addr and allocator are the fixture's). */
tw_t *tw_t_new(const tw_config *cfg);
/* Free the stack; fails the test if any byte is still allocated or output is unread. */
void tw_t_free(tw_t *t);
tw_stack *tw_t_stack(tw_t *t);
tw_t_alloc *tw_t_allocator(tw_t *t);
tw_time tw_t_now(const tw_t *t);
/* Run timers up to `at` (each deadline in turn) and set the clock there. */
void tw_t_advance(tw_t *t, tw_time at);
/* Inject a segment from the peer at time `at` (after running timers until then). */
void tw_t_send_at(tw_t *t, tw_time at, const tw_t_seg *s, const char *file, int line);
/* Inject raw IPv4 bytes at `at`. */
void tw_t_send_raw(tw_t *t, tw_time at, const uint8_t *pkt, size_t len);
/* Pop the next segment the stack sent (false if none). `raw` may be NULL. */
bool tw_t_pop(tw_t *t, tw_t_seg *out);
/* Number of packets the stack sent and the test has not popped yet. */
size_t tw_t_pending(const tw_t *t);
tw_t_seg tw_t_expect(tw_t *t, const tw_t_seg *want, const char *file, int line);
void tw_t_expect_nothing(tw_t *t, const char *file, int line);
/* Print the last trace events (called on failure). */
void tw_t_dump_trace(const tw_t *t);
uint64_t tw_t_counter(const tw_t *t, enum tw_counter c);

/* Build an IPv4/TCP packet for `s` into buf (at least 1500 + 60 bytes); returns length. */
size_t tw_t_build(const tw_t_seg *s, uint8_t *buf, size_t cap);
/* Parse an IPv4/TCP packet; false if it is not one. */
bool tw_t_parse(const uint8_t *pkt, size_t len, tw_t_seg *out, uint8_t *payload_copy,
                size_t cap);
/* "192.0.2.1.40000 > 192.168.0.1.8080: Flags [S.], seq 1, ack 2, win 65535, ..." */
void tw_t_format(const tw_t_seg *s, char *buf, size_t cap);

/* The socket API against the fixture's stack, at the fixture's clock. */
tw_socket *tw_t_listen(tw_t *t, uint16_t port, int backlog);
tw_socket *tw_t_connect(tw_t *t, uint32_t addr, uint16_t port, uint16_t lport);

#define TW_SEND(t, at, seg)                                                                \
    do {                                                                                   \
        tw_t_seg s_ = (seg);                                                               \
        tw_t_send_at((t), (at), &s_, __FILE__, __LINE__);                                  \
    } while (0)
#define TW_EXPECT(t, seg) tw_t_expect_p((t), (seg), __FILE__, __LINE__)
#define TW_EXPECT_NOTHING(t) tw_t_expect_nothing((t), __FILE__, __LINE__)

static inline tw_t_seg tw_t_expect_p(tw_t *t, tw_t_seg want, const char *file, int line)
{
    return tw_t_expect(t, &want, file, line);
}

#endif
