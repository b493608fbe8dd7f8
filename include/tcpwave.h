/*
 * tcpwave.h -- the one public header of tcpwave, a user-space TCP/IPv4 stack.
 *
 * The stack is a sans-I/O engine: it never reads a clock, never makes a syscall and has
 * no global state. The host drives it with three calls:
 *
 *   tw_stack_input(st, pkt, len, now)      a received IPv4 packet
 *   tw_stack_next_deadline(st)             when to call on_timeout next
 *   tw_stack_on_timeout(st, now)           run expired timers
 *
 * and receives outgoing IPv4 packets through tw_netdev.transmit. Time is a uint64_t in
 * nanoseconds on any monotonic clock the caller chooses (virtual time in tests).
 *
 * Conventions (apply to every function below unless its comment says otherwise):
 *  - Status-returning functions return TW_OK (0) or a negative TW_ERR_* value; byte counts
 *    are tw_ssize (>= 0 bytes, < 0 a TW_ERR_* value).
 *  - Pointer parameters must not be NULL unless the comment allows it; a NULL where one is
 *    not allowed returns TW_ERR_INVAL.
 *  - Functions that can change state take `now` as their last parameter. Time that goes
 *    backwards is clamped to the last time seen (and counted). The setters take no time:
 *    the two that can act at once (set_nodelay sending what Nagle held, set_keepalive
 *    arming its timer) act at the time of the stack's last call that passed one.
 *  - No function may be called from inside a hook (transmit, trace, notify) on the same
 *    stack: such a nested call returns TW_ERR_BUSY.
 *  - Addresses are IPv4 in host byte order (10.7.0.2 is 0x0a070002); ports are host order.
 */
#ifndef TCPWAVE_H
#define TCPWAVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TW_VERSION "0.1.0"

typedef struct tw_stack tw_stack;   /* opaque: all state of one stack */
typedef struct tw_socket tw_socket; /* opaque: a listener or a connection */
typedef ptrdiff_t tw_ssize;         /* byte count >= 0, or negative TW_ERR_* */

/* ---- time ---------------------------------------------------------------------------- */

typedef uint64_t tw_time;          /* nanoseconds on the caller's monotonic clock */
#define TW_TIME_NEVER UINT64_MAX   /* "no deadline" */
#define TW_US(n) ((tw_time)(n) * 1000u)
#define TW_MS(n) ((tw_time)(n) * 1000000u)
#define TW_SEC(n) ((tw_time)(n) * 1000000000u)

/* ---- errors -------------------------------------------------------------------------- */

/* X(name, value, description) */
#define TW_ERRORS(X)                                                                       \
    X(OK, 0, "success")                                                                    \
    X(INVAL, -1, "invalid argument")                                                       \
    X(NOMEM, -2, "out of memory (allocator failed or memory budget reached)")              \
    X(AGAIN, -3, "operation would block; try again after the next event")                 \
    X(STATE, -4, "call not valid in the socket's current state")                          \
    X(ADDRINUSE, -5, "address and port already in use")                                   \
    X(NOTCONN, -6, "socket is not connected")                                              \
    X(CLOSED, -7, "connection closed for this direction (after shutdown or FIN)")         \
    X(RESET, -8, "connection reset by peer")                                               \
    X(REFUSED, -9, "connection refused by peer")                                           \
    X(TIMEDOUT, -10, "connection timed out")                                               \
    X(ABORTED, -11, "connection aborted locally")                                          \
    X(LIMIT, -12, "a configured stack limit was reached")                                  \
    X(BUSY, -13, "re-entrant call from inside a hook")                                     \
    X(ADDRNOTAVAIL, -14, "no local port available for this destination")                 \
    X(NETUNREACH, -15, "network unreachable (ICMP)")                                       \
    X(HOSTUNREACH, -16, "host unreachable (ICMP)")                                         \
    X(PROTO, -17, "protocol error (ICMP Parameter Problem)")                               \
    X(NOPROTOOPT, -18, "protocol unreachable (ICMP)")                                      \
    X(OPNOTSUPP, -19, "source route failed (ICMP)")                                        \
    X(HOSTDOWN, -20, "destination host unknown (ICMP)")                                    \
    X(NONET, -21, "source host isolated (ICMP)")

enum tw_err {
#define TW_ERR_ENUM_(name, val, desc) TW_ERR_##name = (val),
    TW_ERRORS(TW_ERR_ENUM_)
#undef TW_ERR_ENUM_
};
#define TW_OK TW_ERR_OK

/* A static, never-NULL description of a TW_ERR_* value ("unknown error" for others). */
const char *tw_strerror(int err);
/* The symbolic name of a TW_ERR_* value without prefix ("RESET"), or "?" */
const char *tw_error_name(int err);

/* ---- TCP states (RFC 9293 3.3.2) ----------------------------------------------------- */

typedef enum tw_state {
    TW_STATE_CLOSED = 0,
    TW_STATE_LISTEN,
    TW_STATE_SYN_SENT,
    TW_STATE_SYN_RCVD,
    TW_STATE_ESTABLISHED,
    TW_STATE_FIN_WAIT_1,
    TW_STATE_FIN_WAIT_2,
    TW_STATE_CLOSE_WAIT,
    TW_STATE_CLOSING,
    TW_STATE_LAST_ACK,
    TW_STATE_TIME_WAIT,
    TW_STATE_COUNT_
} tw_state;

/* The RFC 9293 name of a state: "SYN-RECEIVED", "FIN-WAIT-1", ... ("?" if out of range). */
const char *tw_state_name(tw_state s);

/* ---- counters ------------------------------------------------------------------------ */

/* Every drop and every error has a counter, like `netstat -s`. X(NAME, description). */
#define TW_COUNTERS(X)                                                                     \
    X(TIME_BACKWARDS, "time passed to the stack went backwards (clamped)")                 \
    X(API_REFUSED, "api: calls refused as misuse (INVAL, STATE, NOTCONN, BUSY)")           \
    X(RX_NOMEM, "received segment dropped: out of memory")                                 \
    X(MEM_RINGS_RECLAIMED, "memory budget spent: empty buffers' blocks given back")        \
    X(TX_PACKETS, "packets handed to the netdev")                                          \
    X(TX_DROPPED, "packets the netdev refused to transmit")                                \
    X(IP_RX_PACKETS, "IPv4 packets received")                                              \
    X(IP_RX_TOO_SHORT, "ip: packet shorter than an IPv4 header")                           \
    X(IP_RX_BAD_VERSION, "ip: version is not 4")                                           \
    X(IP_RX_BAD_IHL, "ip: header length below 20 or beyond the packet")                    \
    X(IP_RX_BAD_LEN, "ip: total length inconsistent with the packet")                      \
    X(IP_RX_BAD_CSUM, "ip: bad header checksum")                                           \
    X(IP_RX_FRAGMENT, "ip: fragments received (taken to reassembly)")                      \
    X(IP_FRAG_REASSEMBLED, "ip: datagrams reassembled from fragments")                    \
    X(IP_FRAG_BAD, "ip: fragment malformed (length, offset past 65535, a second end)")    \
    X(IP_FRAG_OVERLAP, "ip: overlapping fragments: the datagram discarded")               \
    X(IP_FRAG_DUP, "ip: duplicate fragment dropped")                                      \
    X(IP_FRAG_TIMEOUT, "ip: reassembly timed out (30 s): the datagram discarded")         \
    X(IP_FRAG_LIMIT, "ip: fragment dropped: reassembly queues or memory full")            \
    X(IP_FRAG_ECN, "ip: fragments mixing Not-ECT and ECT: the datagram discarded")        \
    X(IP_TX_FRAGMENTS, "ip: fragments sent (an echo reply larger than the MTU)")          \
    X(IP_RX_NOT_OURS, "ip: destination is not this stack's address")                       \
    X(IP_RX_BAD_SRC, "ip: source is zero, broadcast, multicast or our own address")        \
    X(IP_RX_UNKNOWN_PROTO, "ip: protocol other than TCP or ICMP")                          \
    X(ICMP_RX_PACKETS, "icmp: messages received")                                          \
    X(ICMP_RX_BAD, "icmp: truncated message or bad checksum")                              \
    X(ICMP_RX_IGNORED, "icmp: message type not handled")                                   \
    X(ICMP_TX_ECHO_REPLY, "icmp: echo replies sent")                                       \
    X(ICMP_TX_TIME_EXCEEDED, "icmp: time exceeded sent (fragment reassembly timed out)")   \
    X(ICMP_TX_PROTO_UNREACH, "icmp: protocol unreachable sent (not TCP or ICMP)")          \
    X(ICMP_TX_RATELIMITED, "icmp: error not sent: over the rate (1000/s, burst 50)")      \
    X(ICMP_RX_TCP_NO_CONN, "icmp: error about a TCP segment of no connection, ignored")    \
    X(ICMP_RX_TCP_OUT_OF_WINDOW, "icmp: error quoting a sequence number not in flight")   \
    X(ICMP_RX_FRAG_NEEDED, "icmp: fragmentation needed: the path MTU lowered (RFC 1191)")  \
    X(ICMP_RX_TCP_SOFT_ERROR, "icmp: error on a synchronized connection: soft error")      \
    X(ICMP_RX_TCP_ABORT, "icmp: error during the handshake: connection aborted")          \
    X(ICMP_RX_TCP_REQ_DROPPED, "icmp: half-open entry dropped (its SYN+ACK unreachable)")  \
    X(TCP_RX_SEGMENTS, "tcp: segments received")                                           \
    X(TCP_RX_TOO_SHORT, "tcp: segment shorter than a TCP header")                          \
    X(TCP_RX_BAD_CSUM, "tcp: bad checksum")                                                \
    X(TCP_RX_BAD_OFFSET, "tcp: data offset below 5 or beyond the segment")                 \
    X(TCP_RX_BAD_OPTION, "tcp: malformed option (length 0/1, overflow, bad size)")         \
    X(TCP_RX_DUP_OPTION, "tcp: the same option twice in one segment")                     \
    X(TCP_RX_BAD_FLAGS, "tcp: SYN+FIN at a listener (dropped, as Linux does)")             \
    X(TCP_RX_BAD_PORT, "tcp: source or destination port 0")                                \
    X(TCP_RX_NO_SOCKET, "tcp: no connection or listener (answered with RST)")              \
    X(TCP_RX_RST_NO_SOCKET, "tcp: RST for no connection (ignored)")                        \
    X(TCP_RX_LISTEN_RST, "tcp: RST at a listener (ignored)")                               \
    X(TCP_RX_LISTEN_ACK, "tcp: ACK at a listener (answered with RST)")                     \
    X(TCP_RX_LISTEN_NOSYN, "tcp: segment without SYN at a listener (dropped)")             \
    X(TCP_RX_LISTEN_OVERFLOW, "tcp: SYN dropped, accept queue or SYN queue full")          \
    X(TCP_RX_SYN_DATA_IGNORED, "tcp: payload or FIN on SYN or SYN+ACK not accepted (S6)")  \
    X(TCP_RX_BAD_ACK, "tcp: unacceptable ACK in SYN-SENT/SYN-RECEIVED (answered RST)")     \
    X(TCP_RX_SYNACK_BAD_ECR, "tcp: SYN+ACK echoing a time our SYN never had (answered RST)") \
    X(TCP_RX_SYNSENT_NOACK_DROP, "tcp: SYN-SENT segment without SYN or ACK dropped")       \
    X(TCP_RX_OUT_OF_WINDOW, "tcp: segment outside the receive window (ACK sent)")          \
    X(TCP_RX_RST_OUT_OF_WINDOW, "tcp: RST outside the window (ignored)")                   \
    X(TCP_RX_RST_IN_WINDOW, "tcp: RST in window but not exact (challenge ACK)")            \
    X(TCP_RX_RST_ACCEPTED, "tcp: RST accepted, connection reset")                          \
    X(TCP_RX_SYN_CHALLENGE, "tcp: SYN on a synchronized connection (challenge ACK)")       \
    X(TCP_CHALLENGE_ACK_SENT, "tcp: challenge ACKs sent (RFC 5961)")                       \
    X(TCP_CHALLENGE_ACK_LIMITED, "tcp: challenge ACK suppressed by the rate limit")        \
    X(TCP_ACK_SKIPPED_SYN_RECV, "tcp: answer on a SYN queue entry held back (500 ms)")    \
    X(TCP_RX_NO_ACK_FLAG, "tcp: segment without ACK in a synchronized state (dropped)")    \
    X(TCP_RX_OLD_ACK, "tcp: old duplicate ACK (ignored)")                                  \
    X(TCP_RX_ACK_UNSENT, "tcp: ACK for data not yet sent (ACK sent, dropped)")             \
    X(TCP_RX_DUP_DATA, "tcp: segment entirely duplicate (ACK sent)")                       \
    X(TCP_RX_OOO, "tcp: out-of-order segment kept")                                        \
    X(TCP_RX_OOO_DROP, "tcp: out-of-order segment dropped (too many holes)")               \
    X(TCP_RX_DATA_AFTER_FIN, "tcp: data beyond the peer's FIN (dropped)")                  \
    X(TCP_RX_DATA_AFTER_CLOSE, "tcp: data for a closed socket (connection reset)")         \
    X(TCP_RX_TW_RST_IGNORED, "tcp: RST in TIME-WAIT ignored (RFC 1337)")                   \
    X(TCP_RX_TW_SEGMENT, "tcp: segment to a TIME-WAIT 4-tuple (ACKed or dropped)")         \
    X(TCP_TW_REUSED, "tcp: TIME-WAIT 4-tuple reused by a newer SYN (RFC 6191)")            \
    X(TCP_TW_RECYCLED_TIMEOUT, "tcp: TIME-WAIT records expired after 2*MSL")               \
    X(TCP_RX_BYTES_DELIVERED, "tcp: payload bytes accepted in order")                      \
    X(TCP_TX_SEGMENTS, "tcp: segments sent")                                               \
    X(TCP_TX_RETRANS, "tcp: segments retransmitted")                                       \
    X(TCP_TX_RST, "tcp: RST segments sent")                                                \
    X(TCP_RTO_FIRED, "tcp: retransmission timeouts")                                       \
    X(TCP_CONN_TIMEDOUT, "tcp: connections that ran out of retries")                       \
    X(TCP_CONN_REFUSED, "tcp: connections refused (RST in SYN-SENT)")                      \
    X(TCP_CONN_RESET, "tcp: connections reset by the peer")                                \
    X(TCP_CONN_ABORTED, "tcp: connections aborted locally (RST sent)")                     \
    X(TCP_ACTIVE_OPENS, "tcp: connect() calls that sent a SYN")                            \
    X(TCP_PASSIVE_OPENS, "tcp: SYNs accepted at a listener")                               \
    X(TCP_ESTABLISHED, "tcp: connections that reached ESTABLISHED")                        \
    X(TCP_ORPHAN_REAPED, "tcp: orphaned connections reclaimed after a bounded time")       \
    X(TCP_LIMIT_CONNS, "tcp: new connection refused by max_connections")                   \
    X(TCP_LIMIT_ORPHANS, "tcp: orphan beyond max_orphans reset at close")                   \
    X(TCP_SYNRCVD_RST, "tcp: half-open connection freed by a valid RST (S7)")             \
    X(TCP_SYNRCVD_SYN_FREED, "tcp: half-open connection freed by a SYN in its window")      \
    X(TCP_RX_PAWS_REJECTED, "tcp: segment with an old timestamp dropped (PAWS, RFC 7323)") \
    X(TCP_RX_SACK_INVALID, "tcp: SACK block outside SND.UNA..SND.MAX ignored")             \
    X(TCP_RX_DSACK, "tcp: duplicate data reported back with D-SACK (RFC 2883)")            \
    X(TCP_FAST_RETRANS, "tcp: fast retransmits (duplicate ACKs / SACK, RFC 5681/6675)")     \
    X(TCP_PARTIAL_ACK, "tcp: partial ACKs in recovery (RFC 6582)")                         \
    X(TCP_ECN_CE, "tcp: CE-marked data on ECN connections, echoed with ECE (RFC 3168)")    \
    X(TCP_ECN_CWR, "tcp: congestion window reductions for an ECE (RFC 3168 6.1.2)")        \
    X(TCP_LIMITED_TRANSMIT, "tcp: segments sent by limited transmit (RFC 3042)")           \
    X(TCP_DELAYED_ACK, "tcp: ACKs sent by the delayed-ACK timer")                          \
    X(TCP_PERSIST_PROBE, "tcp: zero-window probes sent")                                   \
    X(TCP_KEEPALIVE_PROBE, "tcp: keepalive probes sent")                                   \
    X(TCP_KEEPALIVE_TIMEDOUT, "tcp: connections closed by keepalive")                       \
    X(TCP_USER_TIMEDOUT, "tcp: connections aborted by the user timeout")                   \
    X(TCP_NAGLE_HELD, "tcp: small segments held by Nagle's algorithm")                     \
    X(TCP_CORK_HELD, "tcp: short segments held by TCP_CORK or MSG_MORE")                  \
    X(TCP_SYNCOOKIE_SENT, "tcp: SYN+ACKs sent with a SYN cookie (RFC 4987)")                \
    X(TCP_SYNCOOKIE_OK, "tcp: connections opened from a valid SYN cookie")                 \
    X(TCP_SYNCOOKIE_FAILED, "tcp: ACK with a forged or wrong SYN cookie (answered RST)")    \
    X(TCP_SYNCOOKIE_EXPIRED, "tcp: ACK with an expired SYN cookie (answered RST)")       \
    X(TCP_TLP_PROBE, "tcp: tail loss probes sent (RFC 8985 7)")                            \
    X(TCP_TLP_NEW_DATA, "tcp: tail loss probes that sent new data")                        \
    X(TCP_TLP_RECOVERY, "tcp: probes that repaired a loss (cwnd reduced, RFC 8985 7.4)")  \
    X(TCP_RACK_LOST, "tcp: segments marked lost by RACK (RFC 8985 6)")                     \
    X(TCP_RACK_LOST_RETRANS, "tcp: lost retransmissions found by RACK")                    \
    X(TCP_RACK_REO_WND_UP, "tcp: RACK reordering window widened by a D-SACK")              \
    X(TCP_UNDO, "tcp: congestion reductions undone: all retransmissions D-SACKed")          \
    X(TCP_HYSTART_CSS, "tcp: slow starts left for CSS on a delay increase (HyStart++, RFC 9406)") \
    X(TCP_HYSTART_CA, "tcp: CSS ended after its rounds: congestion avoidance (RFC 9406)") \
    X(TCP_HYSTART_SPURIOUS, "tcp: CSS left for slow start again, the RTT fell (RFC 9406)") \
    X(TCP_HYSTART_CSS_LOSS, "tcp: losses or ECEs that ended CSS (RFC 9406)")               \
    X(TCP_FASTOPEN_BAD_OPTION, "tfo: malformed Fast Open option (cookie 1..3, >16 or odd; ignored)") \
    X(TCP_FASTOPEN_NOT_SYN, "tfo: Fast Open option on a segment without SYN (ignored)")    \
    X(TCP_FASTOPEN_COOKIE_REQ, "tfo: SYNs asking for a cookie (empty option)")             \
    X(TCP_FASTOPEN_COOKIE_SENT, "tfo: SYN+ACKs sent with a fresh cookie (RFC 7413 4.1.2)")  \
    X(TCP_FASTOPEN_PASSIVE, "tfo: connections opened at the SYN by a valid cookie")        \
    X(TCP_FASTOPEN_PASSIVE_FAIL, "tfo: SYN with an invalid cookie (data ignored, cookie sent)") \
    X(TCP_FASTOPEN_PASSIVE_OFF, "tfo: Fast Open SYN at a listener without it (normal path)") \
    X(TCP_FASTOPEN_LISTEN_OVERFLOW, "tfo: valid cookie but pending Fast Open limit reached") \
    X(TCP_FASTOPEN_DATA_DELIVERED, "tfo: bytes taken from SYNs with a valid cookie")       \
    X(TCP_FASTOPEN_ACTIVE_REQ, "tfo: SYNs sent asking for a cookie")                       \
    X(TCP_FASTOPEN_ACTIVE_SYN_DATA, "tfo: SYNs sent with a cookie and data")               \
    X(TCP_FASTOPEN_ACTIVE, "tfo: SYN data acknowledged by the SYN+ACK")                    \
    X(TCP_FASTOPEN_ACTIVE_FAIL, "tfo: SYN data not acknowledged, sent again after the handshake (counted at a SYN+ACK with the option, else when the connection ends)") \
    X(TCP_FASTOPEN_COOKIE_CACHED, "tfo: cookies stored from SYN+ACKs (client cache)")      \
    X(TCP_FASTOPEN_BLACKHOLE, "tfo: connects without Fast Open after a SYN with data was lost")

enum tw_counter {
#define TW_CNT_ENUM_(name, desc) TW_CNT_##name,
    TW_COUNTERS(TW_CNT_ENUM_)
#undef TW_CNT_ENUM_
        TW_CNT_COUNT_
};

/* Current value of a counter (0 for an out-of-range id). */
uint64_t tw_stack_counter(const tw_stack *st, enum tw_counter id);
/* Name ("TCP_RX_BAD_CSUM") and description of a counter; "?" when out of range. */
const char *tw_counter_name(enum tw_counter id);
const char *tw_counter_desc(enum tw_counter id);
/* Counter id for a name as returned by tw_counter_name, or -1. */
int tw_counter_lookup(const char *name);

/* ---- memory -------------------------------------------------------------------------- */

typedef struct tw_allocator {
    /* may return NULL; else memory aligned as malloc's (alignof(max_align_t)) */
    void *(*alloc)(size_t size, void *ud);
    void (*free)(void *ptr, size_t size, void *ud); /* size = the size given to alloc */
    void *ud;
} tw_allocator;

/* ---- trace events (structs; the core never formats text) ----------------------------- */

typedef enum tw_trace_kind {
    TW_TRACE_SEG_IN = 1, /* a TCP segment arrived (after validation) */
    TW_TRACE_SEG_OUT,    /* a TCP segment was sent */
    TW_TRACE_STATE,      /* a connection changed state */
    TW_TRACE_DROP,       /* a packet was dropped; `counter` says why */
    TW_TRACE_TIMER,      /* a connection timer fired; `timer` says which */
} tw_trace_kind;

typedef enum tw_timer_kind {
    TW_TIMER_NONE = 0,
    TW_TIMER_RTO,       /* retransmission (SYN, SYN+ACK, data, FIN) */
    TW_TIMER_TIME_WAIT, /* 2*MSL elapsed */
    TW_TIMER_ORPHAN,    /* FIN-WAIT-2 orphan reaped */
    TW_TIMER_DELACK,    /* delayed ACK sent */
    TW_TIMER_PERSIST,   /* zero-window probe */
    TW_TIMER_KEEPALIVE, /* keepalive probe */
    TW_TIMER_TLP,       /* tail loss probe (RFC 8985 7) */
} tw_timer_kind;

/* TCP header flags, as on the wire. */
#define TW_FIN 0x01u
#define TW_SYN 0x02u
#define TW_RST 0x04u
#define TW_PSH 0x08u
#define TW_ACK 0x10u
#define TW_URG 0x20u
#define TW_ECE 0x40u
#define TW_CWR 0x80u

/* Which options a segment carried (bits of tw_seg_summary.opts). */
#define TW_OPT_MSS 0x01u
#define TW_OPT_WSCALE 0x02u
#define TW_OPT_SACK_PERM 0x04u
#define TW_OPT_SACK 0x08u
#define TW_OPT_TS 0x10u
#define TW_OPT_FASTOPEN 0x20u /* TCP Fast Open option (RFC 7413, kind 34 or 254/0xF989) */

typedef struct tw_seg_summary {
    uint32_t saddr, daddr;
    uint16_t sport, dport;
    uint32_t seq, ack;   /* absolute */
    uint32_t len;        /* payload bytes */
    uint16_t win;        /* raw window field */
    uint8_t flags;       /* TW_SYN | TW_ACK ... */
    uint8_t opts;        /* TW_OPT_* present */
    uint16_t mss;        /* when TW_OPT_MSS */
    uint8_t wscale;      /* when TW_OPT_WSCALE */
    uint8_t sack_blocks; /* when TW_OPT_SACK */
    uint32_t ts_val, ts_ecr;
    bool retransmit;     /* SEG_OUT only: this segment was sent before */
    /* The IPv4 ECN field (RFC 3168 5): 2 ECT(0), 3 CE, 0 not ECT. SEG_OUT: as sent (the
       plain and SYN builders' segments); SEG_IN: 3 for a CE mark, else 0. */
    uint8_t ip_ecn;
} tw_seg_summary;

typedef struct tw_trace_event {
    tw_trace_kind kind;
    tw_time now;
    uint64_t conn_id;     /* 0 when no connection is involved */
    const tw_socket *sock; /* the connection, when one exists and is still allocated; else NULL */
    tw_state old_state, new_state; /* STATE; for SEG_* both = state after processing */
    uint32_t iss, irs;    /* the connection's ISNs, 0 when unknown */
    enum tw_counter counter; /* DROP: why */
    tw_timer_kind timer;  /* TIMER */
    tw_seg_summary seg;   /* SEG_IN, SEG_OUT, DROP of a TCP segment */
} tw_trace_event;

/* ---- the link below the stack -------------------------------------------------------- */

/* The largest tw_config.initial_cwnd tw_stack_new takes (more: TW_ERR_INVAL). */
#define TW_INITIAL_CWND_MAX 1024u
/* The largest tw_config.syn_backlog tw_stack_new takes (a listener counts its half-open
   entries in 16 bits, as it counts its accept queue: listen's backlog is at most 65535). */
#define TW_SYN_BACKLOG_MAX 65535u

typedef struct tw_netdev {
    /* Called synchronously from inside tw_* calls with one complete IPv4 packet. The bytes
       are valid only during the call: copy them. Must not call back into the stack.
       A nonzero return means the packet was dropped (counted as TX_DROPPED). */
    int (*transmit)(const uint8_t *pkt, size_t len, void *ud);
    void *ud;
    uint16_t mtu; /* 0: 1500; at least 576 */
} tw_netdev;

/* ---- congestion control (SPEC D4) ---------------------------------------------------- */

typedef enum tw_cc_algo {
    TW_CC_CUBIC = 0, /* RFC 9438, the default (as in Linux) */
    TW_CC_NEWRENO,   /* RFC 5681 + RFC 6582 */
} tw_cc_algo;

/* Loss-recovery state of a connection's sender (tw_socket_info.ca_state). */
typedef enum tw_ca_state {
    TW_CA_OPEN = 0, /* normal: slow start or congestion avoidance */
    TW_CA_DISORDER, /* duplicate ACKs or SACKs seen, below the threshold */
    TW_CA_RECOVERY, /* fast recovery (RFC 6582 / RFC 6675) */
    TW_CA_LOSS,     /* after a retransmission timeout */
    /* ECN's window reduction, RFC 3168 6.1.2 (Linux's CWR): reported by tw_socket_info
       while an ECE's reduction is spread over the round trip; the sender meanwhile
       behaves as in Disorder. */
    TW_CA_CWR,
} tw_ca_state;

/* SYN cookies (RFC 4987, SPEC S8): like Linux's net.ipv4.tcp_syncookies = 1, 2, 0. */
#define TW_SYNCOOKIES_ON_OVERFLOW 0
#define TW_SYNCOOKIES_ALWAYS 1
#define TW_SYNCOOKIES_OFF 2

/* ECN (RFC 3168): tw_config.ecn, Linux's net.ipv4.tcp_ecn 2, 1, 0 (a zero field is the
   default, as everywhere in tw_config). */
#define TW_ECN_PASSIVE 0 /* accept it when a peer's SYN asks (Linux's 2, its default) */
#define TW_ECN_ON 1      /* ask for it on our SYNs and accept it (Linux's 1) */
#define TW_ECN_OFF 2     /* neither (Linux's 0) */

/* TCP Fast Open (RFC 7413): tw_config.fastopen bits, as Linux's net.ipv4.tcp_fastopen. */
#define TW_FASTOPEN_CLIENT 0x1u        /* connects may use it (tw_socket_connect_send) */
#define TW_FASTOPEN_SERVER 0x2u        /* listeners may use it (tw_socket_set_fastopen) */
#define TW_FASTOPEN_SERVER_NO_COOKIE 0x200u /* accept data on any SYN (no cookie needed) */
#define TW_FASTOPEN_SERVER_ALL 0x400u  /* every listener, without tw_socket_set_fastopen */
#define TW_FASTOPEN_COOKIE_MAX 16      /* cookie bytes (RFC 7413 4.1.1: 4..16) */

/* ---- configuration: tw_config_init() then override ----------------------------------- */

/* Of a memory budget (tw_config.max_memory) of twice this or more, the last this many
   bytes only receive buffers may take: a send buffer, a connection or anything else is
   refused before it. Two ends that both wrote could otherwise each fill its budget with
   data the other had not acknowledged and have nothing left to take in the other's, and
   neither would acknowledge again. */
#define TW_MEM_RECV_RESERVE 4096u

typedef struct tw_config {
    uint32_t addr;                  /* this stack's IPv4 address (required, nonzero) */
    const tw_allocator *allocator;  /* NULL: malloc/free; the stack copies the struct */
    size_t max_memory;              /* bytes the stack may hold; 0: unlimited. The
                                       stack itself holds about 91 KB (most of it its
                                       packet buffer and port tables), a connection
                                       about 0.5 KB, each buffer 4 KiB blocks as data
                                       moves; TW_MEM_RECV_RESERVE is kept for receiving.
                                       Under it a buffer whose bytes are all gone gives
                                       its block back when another needs memory
                                       (counter MEM_RINGS_RECLAIMED) */
    uint8_t entropy[32];            /* secret randomness: ISN key, ports, hash seeds */
    tw_time msl;                    /* maximum segment lifetime; TIME-WAIT = 2*msl (S15) */
    tw_time rto_initial;            /* RFC 6298 2.1: 1 s */
    tw_time rto_min;                /* 200 ms, like Linux */
    tw_time rto_max;                /* 120 s, like Linux */
    tw_time fin_timeout;            /* orphaned FIN-WAIT-2 lifetime (R7), 60 s like Linux */
    uint8_t syn_retries;            /* SYN retransmissions before TIMEDOUT: 7 (RFC 1122 >= 3 min) */
    uint8_t synack_retries;         /* SYN+ACK retransmissions: 5 (Linux) */
    uint8_t retries;                /* data/FIN retransmissions: 15 (Linux tcp_retries2),
                                       as Linux a time: what 15 expiries take from rto_min
                                       doubling up to rto_max (924.6 s) */
    uint8_t orphan_retries;         /* retransmissions of an orphan's FIN: 8 */
    uint32_t max_connections;       /* live connections (not TIME-WAIT); 0: unlimited */
    uint32_t max_orphans;           /* closed-by-application connections; 0: unlimited */
    uint32_t max_time_wait;         /* TIME-WAIT records; 0: unlimited */
    uint32_t rcvbuf;                /* default receive buffer per connection: 131072 */
    uint32_t sndbuf;                /* default send buffer per connection: 131072 */
    /* Buffer auto-tuning, as Linux (net.ipv4.tcp_moderate_rcvbuf = 1, tcp_rmem[2],
       tcp_wmem[2]), for a socket whose application did not set that buffer
       (tw_socket_set_bufsizes): once per round trip the receive buffer grows to about
       twice what the application read in it (dynamic right-sizing), the send buffer to
       about twice the congestion window, up to these. Only limits grow: memory is
       still taken in 4 KiB blocks as data moves. The window scale offered to a buffer
       not set by the application covers rcvbuf_max (7 for 6 MiB, as Linux's). The
       growth stops while max_memory is more than half taken. */
    uint32_t rcvbuf_max;            /* receive buffer ceiling: 6 MiB (6291456) */
    uint32_t sndbuf_max;            /* send buffer ceiling: 4 MiB (4194304) */
    bool no_moderate_rcvbuf;        /* fixed receive buffers, and the scale offered from
                                       rcvbuf alone (Linux's tcp_moderate_rcvbuf = 0) */
    bool no_sndbuf_expand;          /* fixed send buffers */
    uint32_t challenge_ack_limit;   /* challenge ACKs per second, stack-wide; default
                                       UINT32_MAX: no such budget (Linux 6.x) */
    uint8_t syncookies;             /* TW_SYNCOOKIES_*: default when the SYN queue is full */
    uint8_t ecn;                    /* TW_ECN_*: accept when asked (RFC 3168) */
    uint8_t ttl;                    /* IPv4 TTL of every packet sent: 64, as Linux's
                                       ip_default_ttl (RFC 9293 3.9.2 MUST-49: configurable;
                                       0: 64, as a TTL of 0 is never sent) */
    uint8_t tos;                    /* DS field of every packet sent (DSCP << 2): 0
                                       (RFC 9293 3.9.1.9 MUST-48; per connection:
                                       tw_socket_set_tos); its two ECN bits are ignored,
                                       ECN (RFC 3168) owns them */
    uint32_t syn_backlog;           /* half-open connections per listener; 0: the
                                       listen backlog, as Linux; at most
                                       TW_SYN_BACKLOG_MAX */
    bool no_wscale, no_sack, no_timestamps; /* disable offering an option (S4) */
    tw_cc_algo cc;                  /* default congestion control: CUBIC */
    uint32_t initial_cwnd;          /* segments: 10 (RFC 6928); at most TW_INITIAL_CWND_MAX */
    tw_time delayed_ack;            /* delayed-ACK timer: 40 ms (like Linux's minimum) */
    bool no_delayed_ack;            /* ACK every segment at once */
    tw_time keepalive_idle;         /* 2 h (RFC 1122 4.2.3.6); enabled per socket */
    tw_time keepalive_intvl;        /* 75 s */
    uint8_t keepalive_probes;       /* 9 */
    tw_time invalid_ratelimit;      /* per connection, at most one ACK per this time for
                                       out-of-window segments without data and for
                                       challenges (RFC 5961 7): 500 ms (Linux's
                                       tcp_invalid_ratelimit) */
    bool no_invalid_ratelimit;      /* answer each of them */
    bool no_tlp;                    /* no tail loss probes (RFC 8985 7); Linux's
                                       tcp_early_retrans = 0 (default 3: on) */
    bool no_rack;                   /* no RACK loss detection (RFC 8985 6); Linux's
                                       tcp_recovery = 0 (default 1: on) */
    bool retries_count;             /* retries and orphan_retries count retransmissions
                                       (default: a time, as Linux) */
    bool no_undo;                   /* keep the reduction of a recovery that D-SACKs show
                                       was spurious (RFC 3708); default: undo it, as
                                       Linux does */
    bool no_prr;                    /* fast recovery sends as RFC 6675/6582 allow (cwnd =
                                       ssthresh) and leaves with RFC 6582's option (1);
                                       default: Proportional Rate Reduction (RFC 6937,
                                       PRR-SSRB) and cwnd = ssthresh at the end, as Linux
                                       (which has no switch) */
    bool no_hystart;                /* the initial slow start ends only with a loss;
                                       default: HyStart++ (RFC 9406) leaves it when the
                                       RTT rises, as Linux's CUBIC (tcp_cubic's hystart=1,
                                       its older HyStart) */
    uint32_t fastopen;              /* TW_FASTOPEN_* bits: TW_FASTOPEN_CLIENT (Linux's 1) */
    uint32_t fastopen_cache;        /* client cookie cache entries (servers): 64 */
    uint8_t fastopen_key[16];       /* server secret (tw_stack_set_fastopen_key); all
                                       zero: from entropy */
    uint8_t fastopen_key_backup[16]; /* a former secret still taken; all zero: none */
    /* Hooks, called synchronously; NULL = off. A hook must not call into the stack. */
    void (*trace)(const tw_trace_event *ev, void *ud);
    void *trace_ud;
    /* A socket's event mask may have changed (new bits set). */
    void (*notify)(tw_socket *s, unsigned events, void *ud);
    void *notify_ud;
} tw_config;

/* Fill `cfg` with defaults (the values given above; entropy zero, addr 0). */
void tw_config_init(tw_config *cfg);

/* ---- the engine ---------------------------------------------------------------------- */

/* Create a stack. The stack copies `cfg` and `dev`. Returns 0 or:
   TW_ERR_INVAL (NULL pointer, addr 0, mtu < 576), TW_ERR_NOMEM. */
int tw_stack_new(tw_stack **out, const tw_config *cfg, const tw_netdev *dev, tw_time now);

/* Free the stack and everything it holds (connections are dropped without sending).
   Every tw_socket of the stack becomes invalid. NULL is allowed. */
void tw_stack_free(tw_stack *st);

/* Deliver one received IPv4 packet. `pkt` is only read during the call. Returns 0 for
   every packet, good or bad (bad ones are dropped and counted); TW_ERR_INVAL for a NULL
   pointer or len > 65535, TW_ERR_BUSY from a hook. */
int tw_stack_input(tw_stack *st, const uint8_t *pkt, size_t len, tw_time now);

/* When tw_stack_on_timeout must be called next: TW_TIME_NEVER, a future time, or a time
   <= the last `now` meaning "now". Calling on_timeout early is harmless. Re-read it after
   every input, on_timeout or socket call. An input that owes the peer a bare ACK makes it
   "now": the ACK leaves at that on_timeout, so a host that lets the application act first
   (read, reply, close) sends the ACK on the reply or FIN instead of on its own segment. */
tw_time tw_stack_next_deadline(const tw_stack *st);

/* Run every timer due at `now`. Returns 0, TW_ERR_INVAL, TW_ERR_BUSY. */
int tw_stack_on_timeout(tw_stack *st, tw_time now);

/* The stack's address (host order). */
uint32_t tw_stack_addr(const tw_stack *st);
/* Bytes the stack holds from its allocator right now, and the most it ever held. */
size_t tw_stack_mem_live(const tw_stack *st);
size_t tw_stack_mem_peak(const tw_stack *st);
/* Live connections (any state but TIME-WAIT, listeners excluded), TIME-WAIT records. */
size_t tw_stack_conn_count(const tw_stack *st);
size_t tw_stack_time_wait_count(const tw_stack *st);

/* ---- sockets ------------------------------------------------------------------------- */

/* Event bits of tw_socket_events(). READABLE/WRITABLE/ACCEPTABLE are level-triggered;
   the others are sticky once set. */
#define TW_EV_READABLE 0x01u   /* recv() returns data, or 0 at end of stream */
#define TW_EV_WRITABLE 0x02u   /* send() accepts at least one byte */
#define TW_EV_CONNECTED 0x04u  /* the handshake completed */
#define TW_EV_PEER_CLOSED 0x08u /* the peer's FIN arrived (end of stream) */
#define TW_EV_CLOSED 0x10u     /* the connection reached CLOSED (see tw_socket_error) */
#define TW_EV_ERROR 0x20u      /* reset, refused, timed out, aborted: tw_socket_error() */
#define TW_EV_ACCEPTABLE 0x40u /* listener: accept() has a connection ready */

/* Create an unbound socket. Returns 0 or TW_ERR_NOMEM (the connection limit is
   checked by connect and by a listener taking a new connection). */
int tw_socket_open(tw_stack *st, tw_socket **out);

/* Bind a local port (0 picks an ephemeral port at connect: 32768-60999, never one a
   listener or bind() holds; connect shares the ports it picks between different
   4-tuples). Returns 0 or TW_ERR_STATE (not fresh), TW_ERR_ADDRINUSE: the port has a
   listener, or another owner and not every one (this socket too) set `reuse`
   (tw_socket_set_reuseaddr), as Linux's bind bucket: its owners are the sockets bound to
   it, the connections its closed listener accepted, and the TIME-WAIT records of them
   all, each with the flag its socket had (a child takes its listener's). The port's
   counts answer, in constant time. listen() asks the same again. */
int tw_socket_bind(tw_socket *s, uint16_t port);

/* SO_REUSEADDR: allow binding a port whose other owners (connections, TIME-WAIT
   records, bound sockets) all set it too, no listener among them. May be set or cleared
   after bind, as on Linux: it weighs in the binds that follow. */
int tw_socket_set_reuseaddr(tw_socket *s, bool on);

/* Start listening on the bound port; `backlog` bounds the accept queue (>= 0;
   as in Linux, backlog + 1 connections wait there before a SYN is dropped: one with
   backlog 0) and the SYN queue (backlog + 1 half-open entries, as Linux 6.x's
   inet_csk_reqsk_queue_is_full; cfg.syn_backlog instead when set). Called
   again on a listener it sets the new backlog, as Linux does; on a socket bound to no
   port it first binds a free one of the ephemeral range, as Linux does (see it with
   tw_socket_info_get). Returns 0 or TW_ERR_STATE (connecting or connected),
   TW_ERR_INVAL, TW_ERR_ADDRINUSE (no free port), TW_ERR_NOMEM. */
int tw_socket_listen(tw_socket *s, int backlog, tw_time now);

/* Take one established connection from a listener. Returns 0 and *out, or TW_ERR_AGAIN
   (none ready), TW_ERR_STATE (not a listener). The caller owns *out. */
int tw_socket_accept(tw_socket *s, tw_socket **out, tw_time now);

/* Active open (S1): sends SYN and returns 0 at once; TW_EV_CONNECTED or TW_EV_ERROR
   follows. Errors: TW_ERR_STATE, TW_ERR_INVAL (addr/port 0), TW_ERR_ADDRNOTAVAIL,
   TW_ERR_ADDRINUSE (the 4-tuple is live), TW_ERR_NOMEM, TW_ERR_LIMIT. */
int tw_socket_connect(tw_socket *s, uint32_t addr, uint16_t port, tw_time now);

/* Queue bytes to send. During the handshake the bytes are queued and leave with the
   third segment (S5, RFC 9293 3.10.2). Returns bytes accepted (maybe fewer than len), or
   TW_ERR_AGAIN (buffer full), TW_ERR_NOTCONN, TW_ERR_CLOSED (after shutdown),
   TW_ERR_NOMEM (no buffer for any of it could be allocated: under tw_config.max_memory
   the bytes that fit are accepted), or the sticky error of a dead connection. */
tw_ssize tw_socket_send(tw_socket *s, const void *buf, size_t len, tw_time now);

/* tw_socket_send with send(2)'s flags, of which TW_MSG_MORE: more data follows, as Linux's
   MSG_MORE: this call's bytes wait like TCP_CORK's (tw_socket_set_cork) until a full
   segment, a later send without the flag, or a timeout of one RTO (at least 200 ms) with
   nothing in flight; what the stack sends later (on an ACK, a timer) follows the socket's
   own settings. Other bits: TW_ERR_INVAL. */
#define TW_MSG_MORE 0x8000u /* (Linux's MSG_MORE value) */
tw_ssize tw_socket_send_flags(tw_socket *s, const void *buf, size_t len, unsigned flags,
                              tw_time now);

/* Read received bytes. Returns bytes read (> 0), 0 at end of stream (peer's FIN read),
   TW_ERR_AGAIN (nothing yet), TW_ERR_NOTCONN, or the sticky error. With cap 0 it reads
   nothing and returns 0 even while bytes wait, as recv(2) does: only a read of at least
   one byte tells the end of the stream. */
tw_ssize tw_socket_recv(tw_socket *s, void *buf, size_t cap, tw_time now);

/* Bytes waiting to be read (SIOCINQ), bytes queued but not yet acknowledged (SIOCOUTQ). */
size_t tw_socket_rx_pending(const tw_socket *s);
size_t tw_socket_tx_pending(const tw_socket *s);

#define TW_SHUT_RD 1
#define TW_SHUT_WR 2
#define TW_SHUT_RDWR 3
/* Half-close. TW_SHUT_WR sends FIN after queued data (S10, S13). TW_SHUT_RD, as Linux's:
   a read with nothing queued returns 0 at once (the socket polls readable), while data
   queued or arriving later is still received and readable (closing with it unread
   resets, R4); once our FIN is sent too (FIN-WAIT-1/2), new data is answered with RST
   and the connection reset (RFC 1122 4.2.2.13). In SYN-SENT with nothing queued to send, any `how` gives the
   attempt up, as Linux's inet_shutdown (tcp_disconnect) and RFC 9293 3.10.4 (CLOSE in
   SYN-SENT): nothing is sent, the error is TW_ERR_RESET, and connect() may start
   again; with data queued (S5) the FIN follows it once established. On a listener, as on Linux: TW_SHUT_WR does nothing, and
   TW_SHUT_RD (or RDWR) stops listening: the connections not yet accepted and the
   half-open ones are reset, and the socket, still bound to its port, may listen or
   connect again. Returns 0 or TW_ERR_NOTCONN (not connected), TW_ERR_INVAL. */
int tw_socket_shutdown(tw_socket *s, int how, tw_time now);

/* Close and release the handle (it is invalid afterwards). With unread received data or
   linger 0 this aborts with RST (R4); otherwise a graceful close continues in the
   background as an orphan (R7). Always succeeds for a valid socket. */
int tw_socket_close(tw_socket *s, tw_time now);

/* Send RST (if synchronized) and release the handle. */
int tw_socket_abort(tw_socket *s, tw_time now);

/* SO_LINGER with time 0: close() aborts with RST. Kept in the small block of settings
   (tw_socket_set_keepalive): TW_ERR_NOMEM (nothing changed) when it cannot be made. */
int tw_socket_set_linger0(tw_socket *s, bool on);
/* SO_RCVBUF / SO_SNDBUF (bytes, 1024 .. 16 MiB; 0 leaves that one as it is). A buffer
   set here is fixed: auto-tuning (tw_config.rcvbuf_max) leaves it alone, as Linux's
   SOCK_RCVBUF_LOCK / SOCK_SNDBUF_LOCK. Before connect or listen the receive buffer also
   sizes the window scale offered (the smallest that covers it; a buffer not set is
   offered the scale of tw_config.rcvbuf_max, which it may grow to, as Linux offers from
   tcp_rmem[2]); on a listener they apply to the connections it takes from then on; on a connection they are its new limits, but never below the
   bytes queued to send, nor below those unread plus the window already advertised (an
   advertised window is not taken back). TW_ERR_NOMEM (nothing changed): the small
   block that marks the buffer fixed could not be made (only with auto-tuning on). */
int tw_socket_set_bufsizes(tw_socket *s, uint32_t rcvbuf, uint32_t sndbuf);
/* TCP_MAXSEG: cap on the MSS this socket announces and uses (before connect; on a
   listener, for the connections it takes from then on). */
int tw_socket_set_mss(tw_socket *s, uint16_t mss);

/* The settings below (and linger0 above), made on a listener, hold for the connections
   it takes from then on, as on Linux: each child copies them at its SYN. */

/* TCP_NODELAY: turn Nagle's algorithm (on by default) off; turning it on sends at once
   what Nagle held (as Linux does), at the stack's last time. */
int tw_socket_set_nodelay(tw_socket *s, bool on);
/* TCP_CORK, as Linux's: while set, a segment shorter than the MSS is not sent (full ones
   are, and the FIN takes the short last one with it) until it is cleared, which sends what
   waits (as Nagle allows: TCP_NODELAY's socket at once), or one RTO (at least 200 ms)
   after the data began to wait with nothing in flight (the persist timer's slot, as
   Linux's probe timer). Wins over TCP_NODELAY while set; setting TCP_NODELAY (again)
   sends what waits once. Read back with tw_socket_info_get (cork). */
int tw_socket_set_cork(tw_socket *s, bool on);
/* SO_KEEPALIVE with TCP_KEEPIDLE/INTVL/CNT (0 = the stack's default for each). Values
   other than the defaults live in a small block made on first use: TW_ERR_NOMEM (nothing
   changed) when the allocator or the budget refuses it. */
int tw_socket_set_keepalive(tw_socket *s, bool on, tw_time idle, tw_time intvl, uint8_t probes);
/* TCP_USER_TIMEOUT (RFC 5482): abort with TW_ERR_TIMEDOUT when sent data stays
   unacknowledged (or the peer's window stays closed) this long; 0 = off. A nonzero
   timeout may return TW_ERR_NOMEM (nothing changed), as tw_socket_set_keepalive. */
int tw_socket_set_user_timeout(tw_socket *s, tw_time timeout);
/* IP_TOS: the DS field (DSCP << 2) of this connection's packets from now on, in place of
   tw_config.tos (RFC 9293 3.9.1.9 MUST-48, SHLD-21); its two ECN bits are ignored (ECN
   owns them, as Linux's IP_TOS keeps them for TCP). A listener's children take it. May
   return TW_ERR_NOMEM (nothing changed), as tw_socket_set_keepalive. */
int tw_socket_set_tos(tw_socket *s, uint8_t tos);
/* TCP_CONGESTION: this socket's algorithm (before or after connect). */
int tw_socket_set_cc(tw_socket *s, tw_cc_algo algo);

/* TCP Fast Open (RFC 7413), server: like Linux's TCP_FASTOPEN socket option, before or
   after listen. `qlen` > 0 turns it on for this listener (with TW_FASTOPEN_SERVER in
   tw_config.fastopen) and bounds its children opened at the SYN that have not completed
   the handshake yet (RFC 7413 5.1); 0 turns it off. A SYN asking for a cookie gets one in
   the SYN+ACK; a SYN with a valid cookie opens the connection at once: its data is read
   by accept + recv before the third segment comes (the socket is then in SYN-RECEIVED).
   Returns 0, TW_ERR_STATE (a connection), TW_ERR_NOMEM. */
int tw_socket_set_fastopen(tw_socket *s, int qlen);

/* TCP Fast Open, client: connect and send in one call, like sendto(MSG_FASTOPEN) on Linux.
   With a cookie cached for `addr` (from an earlier SYN+ACK) the SYN carries it and the
   first bytes of `buf` (at most one segment) and the call returns how many; without one
   the SYN asks for a cookie, nothing is queued and the call returns 0: send again once
   TW_EV_CONNECTED comes. A SYN+ACK that acknowledges only the SYN has the bytes sent
   again after the handshake (RFC 7413 4.2.2); a SYN with data that times out is sent
   again without data or cookie, and Fast Open to that address is left alone for a
   while. Errors as tw_socket_connect, and TW_ERR_OPNOTSUPP without TW_FASTOPEN_CLIENT. */
tw_ssize tw_socket_connect_send(tw_socket *s, uint32_t addr, uint16_t port, const void *buf,
                                size_t len, tw_time now);

/* TCP Fast Open's server secret (RFC 7413 4.1.2), like Linux's TCP_FASTOPEN_KEY and
   net.ipv4.tcp_fastopen_key: cookies are made with `key` (16 bytes) from now on, and
   while `backup` (NULL: none) is given, cookies made with it are still taken, so that
   the key can be rotated without refusing the cookies clients hold. Until it is called
   the key comes from tw_config.entropy. Returns 0, TW_ERR_INVAL (NULL key or stack),
   TW_ERR_BUSY (from a hook). */
int tw_stack_set_fastopen_key(tw_stack *st, const uint8_t key[16], const uint8_t *backup);

/* The Fast Open cookie the client cache holds for server `addr`: its length (0: none),
   the bytes copied to `buf` (up to `cap`; buf may be NULL with cap 0). */
size_t tw_stack_fastopen_cookie(const tw_stack *st, uint32_t addr, uint8_t *buf, size_t cap);

/* TW_EV_* bits now set. */
unsigned tw_socket_events(const tw_socket *s);
/* Sticky reason the connection ended abnormally (TW_ERR_RESET, _REFUSED, _TIMEDOUT,
   _ABORTED) or 0. */
int tw_socket_error(const tw_socket *s);
tw_state tw_socket_state(const tw_socket *s);

/* An application pointer carried with the socket. */
void tw_socket_set_user(tw_socket *s, void *user);
void *tw_socket_user(const tw_socket *s);

typedef struct tw_socket_info {
    tw_state state;
    uint32_t local_addr, remote_addr;
    uint16_t local_port, remote_port;
    uint32_t iss, irs;                 /* initial sequence numbers */
    uint32_t snd_una, snd_nxt, rcv_nxt;
    uint32_t snd_wnd;                  /* peer's window, scaled, bytes */
    uint32_t rcv_wnd;                  /* our advertised window, bytes */
    uint16_t snd_mss;                  /* payload bytes per segment we send */
    uint16_t peer_mss;                 /* MSS the peer announced (536 if none) */
    uint16_t adv_mss;                  /* MSS we announce: the MTU's, or set_mss's if less */
    uint8_t snd_wscale, rcv_wscale;    /* shift counts, valid when has_wscale */
    bool has_wscale, has_sack, has_timestamps;
    tw_time srtt, rttvar, rto;         /* RFC 6298; srtt 0 before the first sample */
    uint32_t retransmits;              /* consecutive timeouts of the current RTO */
    uint32_t total_retrans;            /* segments retransmitted over the lifetime */
    uint32_t bytes_in_flight;          /* snd_max - snd_una (highest sent, not yet acked) */
    uint64_t bytes_acked, bytes_received;
    uint32_t rx_pending, tx_pending;   /* bytes to read / queued and unacknowledged */
    uint32_t cwnd, ssthresh;           /* bytes (ssthresh UINT32_MAX until the first loss) */
    tw_cc_algo cc;
    tw_ca_state ca_state;
    uint32_t sacked_bytes;             /* bytes the peer SACKed above snd_una */
    uint32_t fast_retransmits;         /* loss recoveries entered by duplicate ACKs */
    uint32_t rto_count;                /* retransmission timeouts over the lifetime */
    uint32_t persist_probes, keepalive_probes;
    bool nodelay, keepalive, cork;
    uint64_t conn_id;
    uint32_t rcvbuf, sndbuf;           /* buffer limits now (tw_socket_set_bufsizes, or
                                          grown by auto-tuning) */
    bool syn_data_acked;               /* Fast Open: data on the SYN was acknowledged (sent
                                          by this side and acknowledged, or received at
                                          the SYN and taken): Linux's TCPI_OPT_SYN_DATA */
} tw_socket_info;

int tw_socket_info_get(const tw_socket *s, tw_socket_info *out);

#ifdef __cplusplus
}
#endif
#endif /* TCPWAVE_H */
