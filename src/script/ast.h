/*
 * ast.h -- the parsed form of a packetdrill-syntax script (tcpwave's interpreter).
 *
 * A script is a list of header options (`--name=value`), an optional backquoted command
 * before the first event and one after the last, and a list of timed events: packets
 * (`<` injected into the stack, `>` expected from it), system calls, backquoted shell
 * commands, `%{ }%` code blocks, and tcpwave's own assertion lines (`state`, `counter`,
 * `deadline`). The grammar follows packetdrill's lexer.l/parser.y (google/packetdrill),
 * re-implemented from scratch as a recursive-descent parser in parse.c.
 *
 * Everything the parser allocates hangs off one tw_sc_script and is released by
 * tw_sc_script_free(). Times are microseconds, as packetdrill keeps them.
 */
#ifndef TW_SCRIPT_AST_H
#define TW_SCRIPT_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- syscall argument expressions ------------------------------------------------------ */

typedef enum tw_sc_expr_kind {
    TW_SC_E_ELLIPSIS, /* ...                                   */
    TW_SC_E_INT,      /* 42, -1, 0x800                         */
    TW_SC_E_WORD,     /* SOCK_STREAM                           */
    TW_SC_E_STRING,   /* "abc" or "abc"...                     */
    TW_SC_E_OR,       /* a | b                                 */
    TW_SC_E_ASSIGN,   /* name = value (inside [] and {})       */
    TW_SC_E_LIST,     /* [a, b]                                */
    TW_SC_E_STRUCT,   /* {a, b=c}                              */
    TW_SC_E_CALL,     /* htons(8080), inet_addr("192.0.2.1")   */
} tw_sc_expr_kind;

typedef struct tw_sc_expr {
    tw_sc_expr_kind kind;
    int64_t num;                /* INT */
    bool hex;                   /* INT was written in hex */
    char *str;                  /* WORD, STRING, ASSIGN name, CALL name */
    bool str_ellipsis;          /* STRING followed by ... */
    struct tw_sc_expr *lhs, *rhs;  /* OR operands; ASSIGN value in rhs */
    struct tw_sc_expr **items;  /* LIST, STRUCT, CALL arguments */
    size_t n_items;
} tw_sc_expr;

/* ---- timing ---------------------------------------------------------------------------- */

typedef enum tw_sc_time_kind {
    TW_SC_T_ABS,       /* 0.100            */
    TW_SC_T_REL,       /* +0.1             */
    TW_SC_T_ANY,       /* *                (outbound packets only) */
    TW_SC_T_ABS_RANGE, /* 0.1~0.2          (outbound packets only) */
    TW_SC_T_REL_RANGE, /* +0.1~+0.2        (outbound packets only) */
} tw_sc_time_kind;

typedef struct tw_sc_time {
    tw_sc_time_kind kind;
    int64_t start_us, end_us; /* end only for ranges */
} tw_sc_time;

/* ---- packets --------------------------------------------------------------------------- */

typedef enum tw_sc_opt_kind {
    TW_SC_O_EOL = 0,
    TW_SC_O_NOP = 1,
    TW_SC_O_MSS = 2,
    TW_SC_O_WSCALE = 3,
    TW_SC_O_SACKOK = 4,
    TW_SC_O_SACK = 5,
    TW_SC_O_TS = 8,
    TW_SC_O_MD5 = 19,
    TW_SC_O_FO = 34,
    TW_SC_O_FOEXP = 254,
} tw_sc_opt_kind;

#define TW_SC_MAX_SACK 4
#define TW_SC_MAX_COOKIE 32

typedef struct tw_sc_opt {
    tw_sc_opt_kind kind;
    uint32_t v1, v2;          /* MSS value; wscale shift; TS val, ecr */
    bool wild;                /* wscale * : any shift */
    uint32_t sack[TW_SC_MAX_SACK][2];
    int n_sack;
    uint8_t bytes[TW_SC_MAX_COOKIE]; /* FO/FOEXP cookie, MD5 digest */
    size_t n_bytes;
} tw_sc_opt;

/* A tcpwave addition to inbound packets: `with NAME [VALUE], ...` corrupts the packet
   after it is built, to feed the stack bad input (SPEC R8). */
typedef struct tw_sc_mutation {
    char *name;
    bool has_value;
    int64_t value;
    char *text; /* string value (options bytes, addresses) */
} tw_sc_mutation;

/* TCP flag letters packetdrill uses, mapped onto the wire bits of tcpwave.h. */
#define TW_SC_F_FIN 0x01u
#define TW_SC_F_SYN 0x02u
#define TW_SC_F_RST 0x04u
#define TW_SC_F_PSH 0x08u
#define TW_SC_F_ACK 0x10u
#define TW_SC_F_URG 0x20u
#define TW_SC_F_ECE 0x40u
#define TW_SC_F_CWR 0x80u

typedef struct tw_sc_packet {
    bool outbound;             /* '>' : expected from the stack; '<' : injected */
    /* IP info in ( ) or [ ]: ECN codepoint (-1: unspecified), tos, ttl. */
    int ecn;                   /* 0 noecn, 1 ect1, 2 ect0, 3 ce */
    bool ect01;                /* [ect01]: ECT(0) or ECT(1) */
    int tos;                   /* -1: unspecified */
    int ttl;                   /* -1: unspecified */
    bool ip_info_square;       /* written with [ ] rather than ( ) */
    bool has_ports;
    uint16_t sport, dport;     /* script-space ports when has_ports */
    uint8_t flags;             /* TW_SC_F_* */
    bool flags_none;           /* written as '-' */
    bool seq_any;              /* ...(len) */
    uint32_t seq, end;
    uint16_t len;
    bool has_ack;
    uint32_t ack;
    bool has_win;
    uint16_t win;
    bool has_urg;
    uint16_t urg;
    bool opts_any;             /* <...> : options not checked */
    bool has_opts;             /* an option list was written (possibly empty) */
    tw_sc_opt *opts;
    size_t n_opts;
    tw_sc_mutation *muts;
    size_t n_muts;
    /* `< icmp TYPE [CODE] [mtu N] [start:end(len)]` (packetdrill's syntax): an ICMP error
       (RFC 792: Destination Unreachable, Source Quench, Redirect, Time Exceeded,
       Parameter Problem, or type_N) quoting our segment at script sequence `seq`. */
    bool icmp;
    uint8_t icmp_type;
    uint8_t icmp_code;
    bool has_mtu;
    uint16_t icmp_mtu;
    bool icmp_echoed;          /* the [start:end(len)] part: seq, end, len above */
} tw_sc_packet;

/* packetdrill's names of the Destination Unreachable codes 0-15. */
extern const char *const tw_sc_icmp_unreach_codes[16];

/* ---- system calls ---------------------------------------------------------------------- */

typedef struct tw_sc_syscall {
    char *name;
    tw_sc_expr **args;
    size_t n_args;
    bool blocking;             /* written with ...end */
    int64_t end_us;            /* script time the call should return (blocking only) */
    tw_sc_expr *result;
    char *err_name;            /* EINPROGRESS, or NULL */
    char *note;                /* text inside ( ), or NULL */
} tw_sc_syscall;

/* ---- tcpwave assertion lines ----------------------------------------------------------- */

typedef enum tw_sc_cmp { TW_SC_EQ, TW_SC_NE, TW_SC_LT, TW_SC_LE, TW_SC_GT, TW_SC_GE } tw_sc_cmp;

typedef struct tw_sc_state_check {
    int fd;      /* -1: the connection under test */
    char *name;  /* as written, e.g. SYN-SENT */
} tw_sc_state_check;

typedef struct tw_sc_counter_check {
    char *name;
    tw_sc_cmp cmp;
    int64_t value;
} tw_sc_counter_check;

typedef struct tw_sc_deadline_check {
    bool none;     /* deadline none : no timer armed */
    bool relative; /* +x : relative to the event's time */
    int64_t us;
} tw_sc_deadline_check;

/* ---- events and the script ------------------------------------------------------------- */

typedef enum tw_sc_event_kind {
    TW_SC_EV_PACKET,
    TW_SC_EV_SYSCALL,
    TW_SC_EV_COMMAND,
    TW_SC_EV_CODE,
    TW_SC_EV_STATE,
    TW_SC_EV_COUNTER,
    TW_SC_EV_DEADLINE,
    TW_SC_EV_ISN,      /* isn increased */
} tw_sc_event_kind;

typedef struct tw_sc_event {
    int line;
    tw_sc_time time;
    tw_sc_event_kind kind;
    tw_sc_packet pkt;
    tw_sc_syscall call;
    char *text;              /* COMMAND: shell text; CODE: code text */
    tw_sc_state_check state;
    tw_sc_counter_check counter;
    tw_sc_deadline_check deadline;
} tw_sc_event;

typedef struct tw_sc_option {
    char *name;
    char *value; /* NULL for a bare --flag */
    int line;
} tw_sc_option;

typedef struct tw_sc_define {
    char *name;
    char *value;
} tw_sc_define;

typedef struct tw_sc_script {
    char *path;
    tw_sc_option *options;
    size_t n_options;
    char *init_command;
    int init_line;
    tw_sc_event *events;
    size_t n_events;
    char *cleanup_command;
    int cleanup_line;
    /* The source, split into lines for error messages (lines[0] is line 1). */
    char **lines;
    size_t n_lines;
    /* Set when the parser met something tcpwave cannot honour (e.g. an IPv6 or UDP
       packet): the runner reports SKIP with this reason. */
    char *skip_reason;
} tw_sc_script;

/* Parse `text` (the file's content, NUL-terminated) into *out. `defines` are -D symbols
   (may be NULL when n_defines is 0); `--define=` header lines add more. On a syntax error
   returns -1 with a "path:line: message" in err; the partially built script is freed. */
int tw_sc_parse(const char *path, const char *text, const tw_sc_define *defines,
                size_t n_defines, tw_sc_script **out, char *err, size_t errlen);

/* The whole text file at `path`, NUL-terminated (free() it), or NULL with the reason in
   err: unreadable, larger than 64 MiB, or holding a NUL byte. */
char *tw_sc_read_file(const char *path, char *err, size_t errlen);

/* Read and parse a file (see tw_sc_parse). */
int tw_sc_parse_file(const char *path, const tw_sc_define *defines, size_t n_defines,
                     tw_sc_script **out, char *err, size_t errlen);

void tw_sc_script_free(tw_sc_script *s);

/* Print the script back in canonical packetdrill syntax (parse(print(s)) == s). */
void tw_sc_print(FILE *f, const tw_sc_script *s);
void tw_sc_print_event(FILE *f, const tw_sc_event *ev);
void tw_sc_print_packet(FILE *f, const tw_sc_packet *p);
void tw_sc_print_expr(FILE *f, const tw_sc_expr *e);
/* Seconds with up to 6 decimals and no trailing zeros: 100000 -> "0.1". */
void tw_sc_print_usecs(FILE *f, int64_t us);

/* The source text of a line (1-based), or "" */
const char *tw_sc_line_text(const tw_sc_script *s, int line);

#endif
