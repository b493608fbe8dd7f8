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
#define TW_T_ANY_PSH 0x40u /* PSH or not (a burst's every second segment has it) */

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
    uint16_t urg; /* urgent pointer field (compared: we always send 0) */
} tw_t_seg;

#define TW_T_DEFAULT_WIN 65535
#define IN(...)                                                                            \
    ((tw_t_seg){.src = PEER, .dst = LOCAL, .sport = PPORT, .dport = LPORT, .win = 65535,     \
                __VA_ARGS__})
#define OUT(...)                                                                           \
    ((tw_t_seg){.src = LOCAL, .dst = PEER, .sport = LPORT, .dport = PPORT, __VA_ARGS__})

typedef struct tw_t tw_t;

/* A fresh stack (cfg may be NULL for defaults; addr and allocator are the fixture's; the
   entropy is a fixed pattern unless cfg brings a nonzero one). */
tw_t *tw_t_new(const tw_config *cfg);
/* The same without the trace hook: the stack may then take paths kept for when nobody
   traces (a test runs them against the traced stack's). TW_RUN_TO needs the trace. */
tw_t *tw_t_new_untraced(const tw_config *cfg);
/* Run scenario f on a traced stack, then on an untraced one (default config): both must
   see the same segments, states and counters. */
void tw_t_traced_and_untraced(void (*f)(tw_t *t));
/* Free the stack; fails the test if any byte is still allocated or output is unread. */
void tw_t_free(tw_t *t);
/* cmocka setup and teardown for a test on a fresh default stack in *state. */
int tw_t_setup(void **state);
int tw_t_teardown(void **state);
#define TW_T_CASE(f) cmocka_unit_test_setup_teardown(f, tw_t_setup, tw_t_teardown)
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
/* The next packet sent, raw (any protocol), copied into buf: its length (at most cap
   bytes copied), 0 when none is pending. */
size_t tw_t_pop_raw(tw_t *t, uint8_t *buf, size_t cap);
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

/* Bytes a fresh stack held right after tw_t_new (stack, tables, transmit buffer). */
size_t tw_t_mem_base(const tw_t *t);
/* Nothing is left behind: no connection, no TIME-WAIT record, no deadline, and the
   allocator holds exactly what a fresh stack held (close every socket first). */
void tw_t_assert_idle(tw_t *t, const char *file, int line);
/* Recompute the IPv4 header and TCP checksums of a packet (R8 tests corrupt a field and
   fix the sums so that only the intended fault remains). Uses the IHL and total length
   found in the packet; does nothing for what cannot be a TCP packet. */
void tw_t_fix_csums(uint8_t *pkt, size_t len);

/* Drive a real handshake to ESTABLISHED through the public API (STYLE 7.13 rule 6).
   Passive: listen on LPORT, the peer's SYN `syn` (NULL: plain SYN seq=peer_iss, no
   options) at the current time, our SYN+ACK checked whole and returned in *synack, the
   third ACK RTT_MS later, accept(), then the listener is closed. Active: connect from
   LPORT, our SYN checked, the peer's SYN+ACK (seq=peer_iss, MSS 1460 only) RTT_MS later,
   our ACK checked. Either way the RTT sample is 100 ms, so RFC 6298 2.2 gives
   SRTT 100 ms, RTTVAR 50 ms, RTO 300 ms. Each ends with nothing else sent. */
#define TW_T_RTT TW_MS(100)
#define TW_T_RTO TW_MS(300)
tw_socket *tw_t_passive_open(tw_t *t, uint32_t peer_iss, const tw_t_seg *syn, tw_t_seg *synack,
                             const char *file, int line);
tw_socket *tw_t_active_open(tw_t *t, uint32_t peer_iss, uint32_t *iss, const char *file,
                            int line);
#define TW_PASSIVE_OPEN(t, peer_iss, iss_out)                                               \
    tw_t_passive_open_iss((t), (peer_iss), (iss_out), __FILE__, __LINE__)
#define TW_ACTIVE_OPEN(t, peer_iss, iss_out)                                                \
    tw_t_active_open((t), (peer_iss), (iss_out), __FILE__, __LINE__)
#define TW_ASSERT_IDLE(t) tw_t_assert_idle((t), __FILE__, __LINE__)

static inline tw_socket *tw_t_passive_open_iss(tw_t *t, uint32_t peer_iss, uint32_t *iss,
                                               const char *file, int line)
{
    tw_t_seg sa;
    tw_socket *c = tw_t_passive_open(t, peer_iss, NULL, &sa, file, line);
    *iss = sa.seq;
    return c;
}

/* A deadline as the stack reports it: rounded up to its 1 ms timer tick. */
static inline tw_time tw_t_ms_ceil(tw_time at)
{
    return (at + TW_MS(1) - 1) / TW_MS(1) * TW_MS(1);
}

/* The next timer is due at `at` (rounded up to the 1 ms tick). tw_stack_next_deadline()
   may report the start of a coarse timing-wheel slot, even one before now (the header's
   contract: a time <= now means "call on_timeout now", and calling it early is harmless),
   so this checks only that a deadline is set and not later than `at`; TW_RUN_TO checks
   the exact time. */
void tw_t_expect_deadline(tw_t *t, tw_time at, const char *file, int line);
/* Exactly: the deadline is as above, no timer fires and nothing is sent up to one tick
   before `at`, and a timer fires at `at` (the clock is then there). */
void tw_t_run_to(tw_t *t, tw_time at, const char *file, int line);
#define TW_EXPECT_DEADLINE(t, at) tw_t_expect_deadline((t), (at), __FILE__, __LINE__)
#define TW_EXPECT_NO_DEADLINE(t)                                                             \
    assert_true(tw_stack_next_deadline(tw_t_stack(t)) == TW_TIME_NEVER)
#define TW_RUN_TO(t, at) tw_t_run_to((t), (at), __FILE__, __LINE__)

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

/* ---- data transfer (SPEC D1-D5) ------------------------------------------------------ */

/* A connection opened with the options the test chose, and what it negotiated. */
typedef struct tw_t_conn {
    tw_socket *s;
    uint32_t iss, irs; /* our ISN, the peer's ISN */
    uint32_t snd, rcv; /* our first data byte (iss + 1), the peer's (irs + 1) */
    uint8_t opts;      /* TW_OPT_WSCALE | TW_OPT_SACK_PERM | TW_OPT_TS in force */
    uint8_t wscale;    /* our receive shift (0 without window scaling) */
    uint8_t peer_wscale;
    uint16_t mss;      /* payload per full segment we send (1460, 1448 with timestamps) */
    uint32_t ts_off;   /* our TSval at time `now` is ts_off + now / 1 ms */
    uint32_t peer_ts;  /* TSval the peer put in the third ACK */
} tw_t_conn;

typedef struct tw_t_open_args {
    uint32_t peer_iss;
    uint8_t opts;        /* what the peer's SYN offers besides MSS 1460: TW_OPT_WSCALE,
                            TW_OPT_SACK_PERM, TW_OPT_TS */
    uint8_t peer_wscale;
    uint32_t peer_tsval; /* TSval of the SYN; the third ACK carries peer_tsval + 1 */
    uint16_t peer_win;   /* window field of the third ACK (0: 65535) */
    uint32_t rcvbuf, sndbuf; /* 0: the stack's defaults */
    tw_cc_algo cc;       /* set on the listener before the SYN */
    void (*on_listener)(tw_socket *l); /* more settings on the listener before listen() */
} tw_t_open_args;

/* Passive open on LPORT driven through the public API: the peer's SYN (MSS 1460 plus
   a->opts) at the current time, our SYN+ACK checked whole (MSS 1460, window 65535, the
   offered options answered, our wscale for the buffer), the third ACK RTT_MS later
   (RTO 300 ms as for tw_t_passive_open), accept(), listener closed, nothing else sent. */
tw_t_conn tw_t_open_with(tw_t *t, const tw_t_open_args *a, const char *file, int line);
#define TW_OPEN_WITH(t, ...)                                                                \
    tw_t_open_with((t), &(tw_t_open_args){__VA_ARGS__}, __FILE__, __LINE__)

/* Our TSval on connection `c` now. */
uint32_t tw_t_tsval(const tw_t *t, const tw_t_conn *c);

/* Like TW_EXPECT, and also compares the SACK blocks (number and each block, in order)
   when `want` has TW_OPT_SACK, and the payload bytes when `want->data` is set. */
tw_t_seg tw_t_expect_exact(tw_t *t, const tw_t_seg *want, const char *file, int line);
#define TW_EXPECT_EXACT(t, seg)                                                             \
    tw_t_expect_exact_p((t), (seg), __FILE__, __LINE__)
static inline tw_t_seg tw_t_expect_exact_p(tw_t *t, tw_t_seg want, const char *file, int line)
{
    return tw_t_expect_exact(t, &want, file, line);
}

/* Inputs do not move the stack's timing wheel, so right after one the deadline it
   reports may be a coarse slot start at or before now (tcpwave.h allows that: "call
   on_timeout"). An on_timeout at the current time settles it before exact checks. */
#define TW_SETTLE(t) tw_t_advance((t), tw_t_now(t))

#endif
