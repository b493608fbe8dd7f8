/*
 * run.h -- the script runner: one tcpwave stack on virtual time, the script playing the
 * remote peer and the application.
 *
 * run.c owns the event loop, time, packets and assertions; sys.c maps the script's
 * system calls onto the non-blocking tw_socket_* API. This header is what they share.
 */
#ifndef TW_SCRIPT_RUN_H
#define TW_SCRIPT_RUN_H

#include "tcpwave.h"
#include "script/ast.h"
#include "script/wire.h"

#include <stdarg.h>

/* ---- a growing string (reports) -------------------------------------------------------- */

typedef struct tw_sb {
    char *buf;
    size_t len, cap;
} tw_sb;

void tw_sb_printf(tw_sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tw_sb_vprintf(tw_sb *sb, const char *fmt, va_list ap);
void tw_sb_free(tw_sb *sb);
/* The socket under test (sc_runner.sut_kind): a new socket without a 4-tuple, or the
   connection on lport/rport. */
struct sc_runner;
void sc_sut_new(struct sc_runner *r);
void sc_sut_set(struct sc_runner *r, uint16_t lport, uint16_t rport);

/* ---- what the command line decides ----------------------------------------------------- */

typedef struct tw_sc_setting {
    const char *key;
    const char *value;
} tw_sc_setting;

typedef struct tw_sc_opts {
    bool semantic_options;     /* --options semantic */
    bool strict_end;           /* --strict-end: packets after the last '>' line fail too */
    const tw_sc_setting *sets; /* --set key=value, in order */
    size_t n_sets;
    const tw_sc_define *defines;
    size_t n_defines;
    uint64_t seed;             /* entropy for the stack (ISNs, ports) */
    bool verbose;
    int trace_lines;           /* trace events shown with a failure */
    /* --untraced: the stack runs with no trace hook (cfg.trace NULL), so its packets take
       the fast paths (the usual parser, header prediction) real untraced use takes, which
       a traced stack never does. */
    bool untraced;
    /* --init_scripts FILE[,FILE]: packetdrill's option, scripts run before each script
       (the environment packetdrill's suites expect): defaults.sh is taken as the stack's
       defaults, another file's lines as a backquoted command's. NULL for none. */
    const char *init_scripts;
} tw_sc_opts;

typedef enum tw_sc_verdict { TW_SC_PASS, TW_SC_FAIL, TW_SC_SKIP } tw_sc_verdict;

typedef struct tw_sc_result {
    tw_sc_verdict verdict;
    tw_sb report;  /* failure details or skip reason, indented lines */
    tw_sb notes;   /* "note: ..." lines (ignored options and the like) */
} tw_sc_result;

/* Apply one --set key=value to a config (and the MTU). Returns 0, or -1 with a message
   in err for an unknown key or a bad value. */
int tw_sc_apply_setting(tw_config *cfg, uint16_t *mtu, const char *key, const char *value,
                        char *err, size_t errlen);
/* The --help text describing the keys. */
void tw_sc_settings_help(FILE *f);

/* Run one parsed script on a fresh stack. Fills `res` (caller frees its buffers). */
void tw_sc_run(const tw_sc_script *s, const tw_sc_opts *o, tw_sc_result *res);

/* ---- runner internals shared with sys.c ------------------------------------------------ */

#define TW_SC_MAX_FDS 64
#define TW_SC_RING 64

typedef struct sc_fd {
    bool used;
    tw_socket *s;
    bool nonblock;
    bool listener;
    bool reuse, linger0, nodelay;
    uint16_t mss;
    uint16_t bound_port;
    bool keepalive;              /* SO_KEEPALIVE */
    uint32_t ka_idle, ka_intvl;  /* TCP_KEEPIDLE, TCP_KEEPINTVL in seconds, 0 = default */
    uint8_t ka_cnt;              /* TCP_KEEPCNT, 0 = default */
    uint32_t user_timeout_ms;    /* TCP_USER_TIMEOUT */
    uint16_t tos;                /* IP_TOS as set (the DS field) | 0x100; 0: never set */
    bool so_error_reported; /* Linux clears SO_ERROR once read */
    bool reset_reported;    /* ECONNRESET is reported once, then EPIPE */
    bool disconnected;      /* shutdown() in SYN-SENT: Linux's tcp_disconnect cleared
                               sk_shutdown, so read() says ENOTCONN, not EOF */
    bool connecting;        /* Linux's SS_CONNECTING: a non-blocking connect() not yet
                               answered by a later connect() */
    bool fastopen_connect;  /* TCP_FASTOPEN_CONNECT set */
    bool tfo_deferred;      /* its connect() returned at once: the first write connects
                               (tw_socket_connect_send), as Linux's defer_connect */
    uint32_t tfo_addr;      /* the address and port that connect() gave */
    uint16_t tfo_port;
} sc_fd;

typedef struct sc_outpkt {
    uint8_t *data;
    size_t len;
    tw_time t;
} sc_outpkt;

/* One 4-tuple's sequence-number mapping, tcpdump-like: in SYNs numbers are absolute,
   in other segments relative to the sender's ISN. packetdrill keeps the same per socket. */
typedef struct sc_flow {
    uint16_t lport, rport;
    bool local_isn_known, learn_local_isn;
    uint32_t live_local_isn, script_local_isn;
    bool remote_isn_known;
    uint32_t remote_isn;
    bool remote_literal;       /* --remote_seq=absolute: the peer's numbers as written */
    bool remote_cand_pending;  /* an injected SYN's ISN, until the stack acknowledges it */
    uint32_t remote_cand;
    uint32_t remote_cand_len;  /* its data: a Fast Open SYN+ACK acknowledges it too */
    bool active_opening;       /* our SYN (after connect) not yet acknowledged */
    /* our highest sequence number sent, and the previous incarnation's (isn increased) */
    bool snd_max_known, prev_incarnation;
    uint32_t snd_max, prev_snd_max;
    uint32_t remote_nxt;       /* live seq after the last injected segment */
    /* bytes the application wrote on this connection, to check outbound payloads */
    uint8_t *sent;
    size_t sent_len, sent_cap;
} sc_flow;

typedef struct sc_conn {
    uint64_t id;
    uint16_t lport, rport;
    bool ports_known;
    tw_state state;
    uint64_t touched; /* ordering: most recently updated wins */
} sc_conn;

/* Progress of a system call that may take several tries (blocking calls). */
typedef struct sc_call_ctx {
    bool started;
    size_t done;      /* write: bytes already queued */
    int fd;
    tw_time wake;     /* poll: when its timeout returns it (0: no timeout) */
} sc_call_ctx;

typedef enum sc_call_status { SC_DONE, SC_BLOCK, SC_SKIP, SC_FAIL } sc_call_status;

typedef struct sc_call_out {
    int64_t ret;
    const char *err;  /* errno name when ret == -1 */
} sc_call_out;

typedef struct sc_pending {
    bool active;
    const tw_sc_event *ev;
    sc_call_ctx ctx;
    int64_t start_us, end_us; /* script times: call start, expected return */
} sc_pending;

typedef struct sc_runner {
    const tw_sc_script *s;
    const tw_sc_opts *o;
    size_t tail_from;   /* first event after the script's last '>' line */
    size_t tail_pkts;   /* packets sent there that packetdrill's rule leaves unchecked */
    size_t foreign_pkts; /* packets of other connections than the socket under test */
    size_t cur_event;   /* index of the event being run */
    tw_config cfg;
    uint16_t mtu;
    tw_stack *st;
    tw_time base;   /* virtual time of script time 0 */
    tw_time clock;  /* virtual time now */

    /* timing (packetdrill's tolerance rule) */
    int64_t tol_us;
    double tol_pct;
    int64_t prev_event_us;
    bool have_prev;
    int64_t ev_us;  /* adjusted start time of the event being run */

    /* addresses and the connection under test */
    uint32_t laddr, raddr;
    uint16_t bind_port, connect_port;
    uint16_t lport, rport;
    bool lport_known;

    /* sequence-number mapping, per 4-tuple */
    sc_flow **flows;
    size_t n_flows;
    bool connect_pending;      /* connect() called: the next SYN we send opens a flow */
    /* packetdrill's socket under test: the latest socket() (no 4-tuple yet: sut_kind 1),
       connect(), accept() or passive open (sut_kind 2, its ports). packetdrill passes over
       outbound packets of other connections; without --strict-end the runner does too
       (run.c drop_foreign). 0: none yet. */
    uint8_t sut_kind;
    bool sut_listening; /* the latest socket (sut_kind 1) listens: any segment to it
                           starts packetdrill's passive open, not only a SYN */
    uint16_t sut_lport, sut_rport;

    /* timestamps: outbound TS val script<->live mapping */
    bool ts_first;
    uint32_t ts_first_script, ts_first_live;
    uint32_t (*ts_map)[2];
    size_t ts_n;

    /* the stack's output, oldest first */
    sc_outpkt *q;
    size_t q_head, q_len, q_cap;

    /* sockets */
    sc_fd fds[TW_SC_MAX_FDS];
    int cur_fd;       /* socket under test for tcpi_* checks */

    /* connections seen in the trace */
    sc_conn *conns;
    size_t n_conns;
    uint64_t touch;

    /* the last trace events, for failure reports */
    tw_trace_event ring[TW_SC_RING];
    size_t ring_n, ring_pos;

    sc_pending pend;

    /* a `deadline +x` claim, checked against the next timer that fires */
    bool claim_active;
    int claim_line;
    int64_t claim_us, claim_tol;
    bool claim_failed;
    int64_t claim_fired_us;

    uint8_t *scratch;     /* packet building (run.c) */
    size_t scratch_cap;
    uint8_t *iobuf;       /* read/write buffers (sys.c) */
    size_t iobuf_cap;

    /* header options */
    bool semantic;
    int64_t ts_tick_us;
    bool ts_ecr_scaled;
    bool strict_segments;
    bool remote_seq_absolute;  /* --remote_seq=absolute (packetdrill's numbering) */
    uint16_t gso_mss;

    uint16_t ip_id;
    tw_sc_result *res;
    bool stop;        /* failed or skipped: stop running events */
} sc_runner;

/* Report a failure at `line` (0: none); returns -1. */
int sc_fail(sc_runner *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Report a skip; returns -1. */
int sc_skip(sc_runner *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Virtual time <-> script microseconds. */
int64_t sc_now_us(const sc_runner *r);

/* sys.c */
/* Run (or retry, with the same ctx) a syscall event. */
sc_call_status sc_syscall(sc_runner *r, const tw_sc_event *ev, sc_call_ctx *ctx,
                          sc_call_out *out);
/* Static check before running: SKIP reason for an unsupported call, or NULL. */
const char *sc_syscall_unsupported(const tw_sc_syscall *c, char *buf, size_t cap);
/* A name that is no system call of packetdrill's dialects (the script is wrong: FAIL). */
bool sc_syscall_unknown(const char *name);
/* Evaluate an integer expression (numbers, symbols, a|b, [n]); 0 or -1. */
int sc_eval_int(const tw_sc_expr *e, int64_t *out);
/* Linux value of a symbolic constant (AF_INET, EINPROGRESS, ...); 0 or -1. */
int sc_symbol(const char *name, int64_t *out);
/* The flow of a 4-tuple (created on first use; NULL only when out of memory). */
sc_flow *sc_flow_get(sc_runner *r, uint16_t lport, uint16_t rport);
/* Append bytes the application handed to the stack on socket s. */
void sc_record_sent(sc_runner *r, tw_socket *s, const uint8_t *p, size_t n);

#endif
