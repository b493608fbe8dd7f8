/*
 * tool.h -- what the `tcpwave` subcommands share: the global options, a "session" (a
 * stack on a TUN device plus the optional ladder trace), and small helpers. The tool uses
 * only the public API (tcpwave.h), the host layer and the simulator.
 */
#ifndef TW_TOOL_H
#define TW_TOOL_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "host/host.h"
#include "tool/ladder.h"
#include "tcpwave.h"

#define TW_EXIT_OK 0
#define TW_EXIT_FAIL 1
#define TW_EXIT_USAGE 2

typedef struct tw_tool {
    const char *prog;  /* argv[0] for messages */
    tw_host_opts host; /* --tun --addr --gateway --prefix --mtu --msl --pcap */
    bool msl_given;
    bool trace;   /* --trace */
    bool verbose; /* -v: say when listening / connected, like nc -v */
    bool fastopen; /* --fastopen: TCP Fast Open on listeners and connect (RFC 7413) */
    tw_impair_spec impair; /* --impair (host.impair points here when given) */
} tw_tool;

/* Set by SIGINT / SIGTERM; every loop checks it. */
extern volatile sig_atomic_t tw_tool_stop;

/* Global option handling shared by the commands: returns 1 if `opt` (a getopt_long value
   from tw_tool_longopts) was a global option and was applied, 0 if not one, -1 after
   printing a usage error. */
int tw_tool_global_opt(tw_tool *t, int opt, const char *arg);
/* Long options every command accepts (terminated with a zero entry); `extra` are the
   command's own, copied in front. Returns a static array. */
struct option;
const struct option *tw_tool_longopts(const struct option *extra);

/* Parse a command's arguments: its own long options `extra` (handled by `on`) and the
   global ones, in any order (GNU permutation). *first = index of the first positional.
   Returns 0 to go on, -1 when --help/--version was printed (exit 0), -2 after a usage
   error (exit 2). */
int tw_cmd_args(tw_tool *t, int argc, char **argv, const char *usage, const char *help,
                const struct option *extra, int (*on)(int opt, const char *arg, void *ud), void *ud,
                int *first);
#define TW_ARGS_EXIT(rc) ((rc) == -1 ? TW_EXIT_OK : TW_EXIT_USAGE)

/* NULL when a is a unicast host address on its /prefix network, else why not, written
   in why (main.c). */
const char *tw_host_addr_problem(uint32_t a, unsigned prefix, char why[64]);
/* NULL when a capture file can be written at path, else why not (main.c). */
const char *tw_pcap_path_problem(const char *path);
/* Usage error: "tcpwave: <msg>" + "usage: <usage>" + "Try 'tcpwave --help'", exit code 2. */
int tw_usage_error(const tw_tool *t, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Runtime error "tcpwave: <msg>", returns TW_EXIT_FAIL. */
int tw_fail(const tw_tool *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict parsers: the whole string must be a number in range. 0 or -1. */
int tw_parse_port(const char *s, uint16_t *out);
int tw_parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out);
int tw_parse_double(const char *s, double lo, double hi, double *out);

/* A stack on the TUN with --trace wired to a ladder on stderr. */
typedef struct tw_session {
    tw_tool *t;
    tw_host h;
    tw_ladder *lad;
    tw_ladder_side *side;
} tw_session;

/* Open (TUN, stack, trace, pcap) or print why not and return TW_EXIT_FAIL. */
int tw_session_open(tw_session *s, tw_tool *t);
/* One loop turn, then flush the ladder. max_wait as tw_loop_run_once. */
void tw_session_turn(tw_session *s, tw_time max_wait);
/* On stop, before aborting what is left: take in the packets already queued. */
void tw_session_drain(tw_session *s);
void tw_session_close(tw_session *s);

/* "10.7.0.2:80" into buf (>= 24 bytes). */
char *tw_fmt_endpoint(uint32_t addr, uint16_t port, char *buf);

/* Commands. argv[0] is the command name. Each returns an exit status. */
int tw_cmd_demo(tw_tool *t, int argc, char **argv);
int tw_cmd_listen(tw_tool *t, int argc, char **argv);
int tw_cmd_connect(tw_tool *t, int argc, char **argv);
int tw_cmd_echo(tw_tool *t, int argc, char **argv);
int tw_cmd_http(tw_tool *t, int argc, char **argv);
int tw_sim_main(const tw_tool *t, int argc, char **argv);

/* The in-memory demo (cmd_demo.c), also run when TUN is unavailable. */
int tw_demo_sim(tw_tool *t);

#endif
