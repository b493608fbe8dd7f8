/*
 * main.c -- the `tcpwave` command line: global options, dispatch to the subcommands,
 * usage in the style of nc/socat (a short synopsis on error, the full text on --help,
 * exit status 2 for bad arguments), and the session every TUN command runs in.
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool/tool.h"

#if defined(__has_include)
#if __has_include("script/script.h")
#include "script/script.h"
#define TW_HAVE_SCRIPT 1
#endif
#endif

volatile sig_atomic_t tw_tool_stop;

static const char usage_text[] =
    "usage: tcpwave [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "A user-space TCP/IPv4 stack on a TUN device, talking TCP with the Linux kernel.\n"
    "\n"
    "Commands:\n"
    "  demo [--sim]       the connection lifecycle as a ladder diagram: tcpwave and the Linux\n"
    "                     kernel in a private network namespace (needs root and TUN),\n"
    "                     otherwise (or with --sim) two tcpwave stacks in memory\n"
    "  listen PORT        accept one connection; stdin -> peer, peer -> stdout;\n"
    "                     half-close on stdin EOF (like nc -l -N)\n"
    "  connect [--repeat N] IP PORT\n"
    "                     the client side of the same (N times in a row with --repeat)\n"
    "  echo PORT          echo server, many connections\n"
    "  http PORT [DIR]    static HTTP/1.1 server (GET and HEAD, keep-alive); a generated\n"
    "                     page about the connection when DIR is absent\n"
    "  sim [OPTIONS]      seeded transfers between two stacks over the simulated link\n"
    "                     (tcpwave sim --help)\n"
    "  script FILE...     run packetdrill-style scripts against a stack (tcpwave script --help)\n"
    "\n"
    "Options (before or after the command):\n"
    "  --tun NAME         TUN device to create (default tw0)\n"
    "  --addr IP          the stack's address (default 10.7.0.2)\n"
    "  --gateway IP       the kernel's address on the TUN (default 10.7.0.1)\n"
    "  --prefix N         prefix length of the TUN network (default 24)\n"
    "  --mtu N            MTU of the TUN device and the stack, 576..65535 (default 1500)\n"
    "  --msl SEC          maximum segment lifetime; TIME-WAIT lasts 2*MSL (default 30).\n"
    "                     When given, listen/connect wait out TIME-WAIT before exiting\n"
    "  --pcap FILE        write every packet to FILE (pcap; open with wireshark or tshark)\n"
    "  --impair SPEC      a hostile path between the TUN and the stack, each way:\n"
    "                     loss=P,dup=P,corrupt=P,delay=MS,jitter=MS,seed=N (P: 0.02 or\n"
    "                     2%; jitter reorders). -v prints the seed and what was done\n"
    "  --trace            print the ladder diagram of every connection on stderr\n"
    "  --fastopen         TCP Fast Open (RFC 7413): listeners give cookies and take data\n"
    "                     on the SYN; connect reads stdin (64 KiB at most) first and, with\n"
    "                     a cookie from an earlier connection (connect --repeat), sends\n"
    "                     its start on the SYN\n"
    "  --ecn N            ECN (RFC 3168) as Linux's net.ipv4.tcp_ecn: 1 ask for it on\n"
    "                     connect and accept it, 2 accept it only (the default), 0 off\n"
    "  -v, --verbose      report listening, connections and, at the end, the stack's\n"
    "                     counters on stderr\n"
    "  -h, --help         show this help\n"
    "  -V, --version      show the version\n"
    "\n"
    "The TUN commands need root (CAP_NET_ADMIN). The kernel reaches the stack at --addr\n"
    "through the TUN; `ping 10.7.0.2` works while one runs.\n"
    "\n"
    "Examples:\n"
    "  tcpwave demo\n"
    "  tcpwave http 8080 &          curl http://10.7.0.2:8080/\n"
    "  tcpwave listen 7000 >out &   socat -u FILE:in TCP:10.7.0.2:7000\n"
    "  tcpwave --trace connect 10.7.0.1 22 </dev/null\n"
    "\n"
    "Exit status: 0 success, 1 failure (refused, reset, timed out, system error), 2 usage.\n";

enum {
    OPT_TUN = 256,
    OPT_ADDR,
    OPT_GATEWAY,
    OPT_PREFIX,
    OPT_MTU,
    OPT_MSL,
    OPT_PCAP,
    OPT_TRACE,
    OPT_IMPAIR,
    OPT_FASTOPEN,
    OPT_ECN,
    OPT_VERBOSE = 'v',

};

static const struct option global_opts[] = {
    {"tun", required_argument, NULL, OPT_TUN},
    {"addr", required_argument, NULL, OPT_ADDR},
    {"gateway", required_argument, NULL, OPT_GATEWAY},
    {"prefix", required_argument, NULL, OPT_PREFIX},
    {"mtu", required_argument, NULL, OPT_MTU},
    {"msl", required_argument, NULL, OPT_MSL},
    {"pcap", required_argument, NULL, OPT_PCAP},
    {"trace", no_argument, NULL, OPT_TRACE},
    {"impair", required_argument, NULL, OPT_IMPAIR},
    {"fastopen", no_argument, NULL, OPT_FASTOPEN},
    {"ecn", required_argument, NULL, OPT_ECN},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
};
#define N_GLOBAL (sizeof global_opts / sizeof global_opts[0])

const struct option *tw_tool_longopts(const struct option *extra)
{
    static struct option all[N_GLOBAL + 16 + 1];
    size_t n = 0;
    for (; extra != NULL && extra[n].name != NULL && n < 16; n++) {
        all[n] = extra[n];
    }
    for (size_t i = 0; i < N_GLOBAL; i++) {
        all[n++] = global_opts[i];
    }
    all[n] = (struct option){0};
    return all;
}

/* ---- messages --------------------------------------------------------------------------- */

int tw_usage_error(const tw_tool *t, const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", t->prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s\nTry '%s --help' for more information.\n", usage, t->prog);
    return TW_EXIT_USAGE;
}

int tw_fail(const tw_tool *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", t->prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return TW_EXIT_FAIL;
}

/* ---- strict number parsing ------------------------------------------------------------- */

int tw_parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    if (s == NULL || *s < '0' || *s > '9') {
        return -1;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

int tw_parse_port(const char *s, uint16_t *out)
{
    unsigned long v;
    if (tw_parse_uint(s, 1, 65535, &v) < 0) {
        return -1;
    }
    *out = (uint16_t)v;
    return 0;
}

int tw_parse_double(const char *s, double lo, double hi, double *out)
{
    if (s == NULL || *s == '\0') {
        return -1;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v) || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

char *tw_fmt_endpoint(uint32_t addr, uint16_t port, char *buf)
{
    char ip[16];
    snprintf(buf, 24, "%s:%u", tw_fmt_ipv4(addr, ip), port);
    return buf;
}

/* ---- global options -------------------------------------------------------------------- */

/* Whether a capture could be written at `path` (an existing file we may write, or a new
   one in a directory we may write), checked when the option is read, so that a path
   that cannot be written is a usage error (status 2) before anything starts. NULL if
   so, else why not. */
const char *tw_pcap_path_problem(const char *path)
{
    struct stat sb;
    if (path[0] == '\0') {
        return "empty path";
    }
    if (stat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            return "is a directory";
        }
        return access(path, W_OK) == 0 ? NULL : strerror(errno);
    }
    if (errno != ENOENT) {
        return strerror(errno);
    }
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 0 : (size_t)(slash - path);
    if (n >= sizeof dir) {
        return "path too long";
    }
    if (slash == NULL) {
        strcpy(dir, ".");
    } else if (n == 0) {
        strcpy(dir, "/");
    } else {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    if (stat(dir, &sb) != 0) {
        return strerror(errno);
    }
    if (!S_ISDIR(sb.st_mode)) {
        return strerror(ENOTDIR);
    }
    return access(dir, W_OK | X_OK) == 0 ? NULL : strerror(errno);
}

static const char global_usage[] = "tcpwave [OPTIONS] COMMAND [ARGS]";

int tw_tool_global_opt(tw_tool *t, int opt, const char *arg)
{
    unsigned long v;
    double d;
    switch (opt) {
    case OPT_TUN:
        /* the kernel's dev_valid_name: 1..15 bytes, not . or .., no '/', ':' or space */
        if (arg[0] == '\0' || strlen(arg) >= 16 || strpbrk(arg, "/: \t\n\v\f\r") != NULL ||
            strcmp(arg, ".") == 0 || strcmp(arg, "..") == 0) {
            tw_usage_error(t, global_usage, "bad --tun name '%s'", arg);
            return -1;
        }
        t->host.tun = arg;
        return 1;
    case OPT_ADDR:
    case OPT_GATEWAY: {
        uint32_t a;
        if (tw_parse_ipv4(arg, &a) < 0 || a == 0) {
            tw_usage_error(t, global_usage, "bad IPv4 address '%s'", arg);
            return -1;
        }
        *(opt == OPT_ADDR ? &t->host.addr : &t->host.gateway) = a;
        return 1;
    }
    case OPT_PREFIX:
        if (tw_parse_uint(arg, 1, 30, &v) < 0) {
            tw_usage_error(t, global_usage, "bad --prefix '%s' (1..30)", arg);
            return -1;
        }
        t->host.prefix = (unsigned)v;
        return 1;
    case OPT_MTU:
        if (tw_parse_uint(arg, 576, 65535, &v) < 0) {
            tw_usage_error(t, global_usage, "bad --mtu '%s' (576..65535)", arg);
            return -1;
        }
        t->host.mtu = (unsigned)v;
        return 1;
    case OPT_MSL:
        if (tw_parse_double(arg, 0.001, 3600, &d) < 0) {
            tw_usage_error(t, global_usage, "bad --msl '%s' (seconds, 0.001..3600)", arg);
            return -1;
        }
        t->host.msl = (tw_time)(d * 1e9);
        t->msl_given = true;
        return 1;
    case OPT_PCAP: {
        const char *why = tw_pcap_path_problem(arg);
        if (why != NULL) {
            tw_usage_error(t, global_usage, "cannot write capture '%s': %s", arg, why);
            return -1;
        }
        t->host.pcap = arg;
        return 1;
    }
    case OPT_TRACE:
        t->trace = true;
        return 1;
    case OPT_FASTOPEN:
        t->fastopen = true;
        t->host.fastopen = TW_FASTOPEN_CLIENT | TW_FASTOPEN_SERVER;
        return 1;
    case OPT_ECN:
        /* (Linux's values to TW_ECN_*) */
        if (strcmp(arg, "0") == 0) {
            t->host.ecn = TW_ECN_OFF;
        } else if (strcmp(arg, "1") == 0) {
            t->host.ecn = TW_ECN_ON;
        } else if (strcmp(arg, "2") == 0) {
            t->host.ecn = TW_ECN_PASSIVE;
        } else {
            tw_usage_error(t, global_usage, "--ecn takes 0, 1 or 2, not '%s'", arg);
            return -1;
        }
        return 1;
    case OPT_IMPAIR: {
        char err[128];
        if (tw_impair_parse(arg, &t->impair, err, sizeof err) < 0) {
            tw_usage_error(t, global_usage, "bad --impair '%s': %s", arg, err);
            return -1;
        }
        if (!t->impair.seed_given && tw_host_entropy(&t->impair.seed, sizeof t->impair.seed) < 0) {
            t->impair.seed = (uint64_t)tw_host_wall_ns();
        }
        t->host.impair = &t->impair;
        return 1;
    }
    case OPT_VERBOSE:
        t->verbose = true;
        return 1;
    default:
        return 0;
    }
}

/* Parse a command's options (its own `extra` plus the global ones, anywhere on the line).
   `on` handles the command's own options (returns 0, or -1 after a usage error). Sets
   *first to the index of the first positional argument. Returns -1 to exit with 0
   (--help printed), -2 to exit with 2, 0 to go on. */
int tw_cmd_args(tw_tool *t, int argc, char **argv, const char *usage, const char *help,
                const struct option *extra, int (*on)(int opt, const char *arg, void *ud), void *ud,
                int *first)
{
    const struct option *lo = tw_tool_longopts(extra);
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":hVv", lo, NULL)) != -1) {
        if (c == 'h') {
            printf("usage: %s\n%s", usage, help);
            return -1;
        }
        if (c == 'V') {
            printf("tcpwave %s\n", TW_VERSION);
            return -1;
        }
        if (c == '?') {
            tw_usage_error(t, usage, "unknown option '%s'", argv[optind - 1]);
            return -2;
        }
        if (c == ':') {
            tw_usage_error(t, usage, "option '%s' needs a value", argv[optind - 1]);
            return -2;
        }
        int g = tw_tool_global_opt(t, c, optarg);
        if (g < 0) {
            return -2;
        }
        if (g == 0 && (on == NULL || on(c, optarg, ud) < 0)) {
            return -2;
        }
    }
    /* The kernel routes only its own prefix into the TUN: the stack must be on it. */
    uint32_t mask = ~0u << (32 - t->host.prefix);
    if (t->host.addr == t->host.gateway || ((t->host.addr ^ t->host.gateway) & mask) != 0) {
        char a[16], g[16];
        tw_usage_error(t, usage, "--addr %s and --gateway %s must differ and share the /%u prefix",
                       tw_fmt_ipv4(t->host.addr, a), tw_fmt_ipv4(t->host.gateway, g),
                       t->host.prefix);
        return -2;
    }
    char why[64];
    for (int i = 0; i < 2; i++) {
        uint32_t a = i == 0 ? t->host.addr : t->host.gateway;
        if (tw_host_addr_problem(a, t->host.prefix, why) != NULL) {
            char as[16];
            tw_usage_error(t, usage, "%s %s is %s", i == 0 ? "--addr" : "--gateway",
                           tw_fmt_ipv4(a, as), why);
            return -2;
        }
    }
    *first = optind;
    return 0;
}

/* NULL when a is an address a host on the TUN's network (a /prefix around a) can have,
   else why not, written in why: the kernel routes no loopback, multicast or reserved
   address through the TUN, and the prefix's first and last addresses are its network
   and broadcast addresses. */
const char *tw_host_addr_problem(uint32_t a, unsigned prefix, char why[64])
{
    uint32_t host = prefix >= 31 ? 0 : ~(~0u << (32 - prefix)); /* /31, /32: no such */
    char net[16];
    if ((a >> 24) == 0) {
        snprintf(why, 64, "in 0.0.0.0/8 (\"this network\"), no host's address");
    } else if ((a >> 24) == 127) {
        snprintf(why, 64, "a loopback address");
    } else if ((a >> 28) == 14) {
        snprintf(why, 64, "a multicast address");
    } else if ((a >> 28) == 15) {
        snprintf(why, 64, "%s", a == ~0u ? "the broadcast address" : "a reserved address");
    } else if (host != 0 && ((a & host) == 0 || (a & host) == host)) {
        snprintf(why, 64, "the %s address of %s/%u", (a & host) == 0 ? "network" : "broadcast",
                 tw_fmt_ipv4(a & ~host, net), prefix);
    } else {
        return NULL;
    }
    return why;
}

/* ---- the TUN session ------------------------------------------------------------------- */

static int kernel_probe(uint32_t la, uint16_t lp, uint32_t ra, uint16_t rp, void *ud)
{
    (void)ud;
    return tw_kernel_tcp_state(la, lp, ra, rp);
}

static void sample_tx(const uint8_t *pkt, size_t len, void *ud)
{
    tw_ladder_sample(ud, pkt, len, true);
}

static void sample_rx(const uint8_t *pkt, size_t len, void *ud)
{
    tw_ladder_sample(ud, pkt, len, false);
}

int tw_session_open(tw_session *s, tw_tool *t)
{
    memset(s, 0, sizeof *s);
    s->t = t;
    tw_host_opts o = t->host;
    tw_config cfg;
    tw_config_init(&cfg);
    if (t->trace) {
        tw_ladder_opts lo;
        tw_ladder_opts_init(&lo, stderr);
        lo.peer_name = "linux";
        lo.probe = kernel_probe;
        s->lad = tw_ladder_new(&lo);
        if (s->lad == NULL) {
            return tw_fail(t, "out of memory");
        }
        s->side = tw_ladder_add_stack(s->lad, "tcpwave", o.addr);
        cfg.trace = tw_ladder_trace;
        cfg.trace_ud = s->side;
        o.after_tx = sample_tx;
        o.before_rx = sample_rx;
        o.hook_ud = s->lad;
    }
    o.base = &cfg;
    const char *why = tw_tun_unavailable();
    if (why != NULL) {
        tw_ladder_free(s->lad);
        s->lad = NULL;
        return tw_fail(t, "%s: this command runs the stack on a TUN device", why);
    }
    char err[256];
    if (tw_host_open(&s->h, &o, err, sizeof err) < 0) {
        tw_ladder_free(s->lad);
        s->lad = NULL;
        return tw_fail(t, "%s", err);
    }
    if (o.impair != NULL && t->verbose) {
        /* the seed first: a failing run can be repeated with seed=N */
        fprintf(stderr,
                "%s: impair: loss %g, dup %g, corrupt %g, delay %.3f ms, jitter %.3f ms, "
                "seed %llu\n",
                t->prog, o.impair->loss, o.impair->dup, o.impair->corrupt,
                (double)o.impair->delay / 1e6, (double)o.impair->jitter / 1e6,
                (unsigned long long)o.impair->seed);
    }
    return TW_EXIT_OK;
}

/* -v: what the impairment did, each way. */
static void impair_report(const tw_session *s)
{
    if (s->h.impair == NULL || !s->t->verbose) {
        return;
    }
    static const char *const way[2] = {"to the stack", "from the stack"};
    for (int d = 0; d < 2; d++) {
        tw_impair_stats x = tw_impair_get_stats(s->h.impair, d);
        fprintf(stderr,
                "%s: impair %s: %llu packets, %llu dropped, %llu duplicated, %llu corrupted\n",
                s->t->prog, way[d], (unsigned long long)x.packets,
                (unsigned long long)x.dropped, (unsigned long long)x.duplicated,
                (unsigned long long)x.corrupted);
    }
}

void tw_session_turn(tw_session *s, tw_time max_wait)
{
    int rc = tw_host_run_once(&s->h, max_wait);
    if (rc < 0) {
        fprintf(stderr, "%s: epoll: %s\n", s->t->prog, strerror(-rc));
        tw_tool_stop = 1;
    }
    if (s->lad != NULL) {
        tw_ladder_flush(s->lad, false);
    }
}

void tw_session_drain(tw_session *s)
{
    tw_host_drain(&s->h);
    if (s->lad != NULL) {
        tw_ladder_flush(s->lad, false);
    }
}

/* -v: the stack's nonzero counters on one line, so a run over a real path (loss, reordering)
   shows what recovery did: retransmissions, probes, undos, drops and why. */
static void counters_report(const tw_session *s)
{
    if (!s->t->verbose || s->h.st == NULL) {
        return;
    }
    fprintf(stderr, "%s: counters:", s->t->prog);
    for (int k = 0; k < TW_CNT_COUNT_; k++) {
        uint64_t v = tw_stack_counter(s->h.st, (enum tw_counter)k);
        if (v != 0) {
            fprintf(stderr, " %s=%llu", tw_counter_name((enum tw_counter)k),
                    (unsigned long long)v);
        }
    }
    fputc('\n', stderr);
}

void tw_session_close(tw_session *s)
{
    impair_report(s);
    counters_report(s);
    tw_host_close(&s->h);
    tw_ladder_free(s->lad);
    s->lad = NULL;
}

/* ---- dispatch --------------------------------------------------------------------------- */

static void on_signal(int sig)
{
    (void)sig;
    tw_tool_stop = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int run_script(int argc, char **argv)
{
#ifdef TW_HAVE_SCRIPT
    return tw_script_main(argc, argv);
#else
    (void)argc;
    (void)argv;
    fprintf(stderr, "tcpwave: script: not built\n");
    return TW_EXIT_FAIL;
#endif
}

int main(int argc, char **argv)
{
    setlocale(LC_CTYPE, "");
    tw_tool t;
    memset(&t, 0, sizeof t);
    t.prog = "tcpwave";
    tw_host_opts_init(&t.host);

    const struct option *lo = tw_tool_longopts(NULL);
    int c, nglobal = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:hVv", lo, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            return TW_EXIT_OK;
        }
        if (c == 'V') {
            printf("tcpwave %s\n", TW_VERSION);
            return TW_EXIT_OK;
        }
        if (c == '?') {
            return tw_usage_error(&t, global_usage, "unknown option '%s'", argv[optind - 1]);
        }
        if (c == ':') {
            return tw_usage_error(&t, global_usage, "option '%s' needs a value", argv[optind - 1]);
        }
        if (tw_tool_global_opt(&t, c, optarg) < 0) {
            return TW_EXIT_USAGE;
        }
        nglobal++;
    }
    if (optind >= argc) {
        return tw_usage_error(&t, global_usage, "no command given");
    }
    char *cmd = argv[optind];
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    optind = 0; /* glibc: restart scanning for the command's own options */

    if (strcmp(cmd, "script") == 0) {
        /* its options are its own (a stack setting is --set KEY=VALUE): one given before
           it was dropped without a word */
        if (nglobal > 0) {
            return tw_usage_error(&t, global_usage,
                                  "options before 'script' do not apply to it; its own come "
                                  "after it (tcpwave script --help; --set mtu=N and the like)");
        }
        return run_script(sub_argc, sub_argv);
    }
    if (strcmp(cmd, "sim") == 0) {
        /* --trace, --msl and --pcap carry over; the TUN's settings mean nothing there. */
        tw_host_opts def;
        tw_host_opts_init(&def);
        if (t.host.tun != def.tun || t.host.addr != def.addr || t.host.gateway != def.gateway ||
            t.host.prefix != def.prefix || t.host.mtu != def.mtu) {
            return tw_usage_error(&t, global_usage,
                                  "--tun, --addr, --gateway, --prefix and --mtu do not apply "
                                  "to sim (its stacks are 10.0.0.1 and 10.0.0.2, MTU 1500)");
        }
        if (t.host.fastopen != def.fastopen || t.host.ecn != def.ecn) {
            return tw_usage_error(&t, global_usage,
                                  "--fastopen and --ecn do not apply to sim: use --set "
                                  "fastopen=N and --set ecn=N (tcpwave sim --help)");
        }
        if (t.host.impair != NULL) {
            return tw_usage_error(&t, global_usage,
                                  "--impair does not apply to sim: it has --loss, --dup, "
                                  "--corrupt, --delay, --jitter (tcpwave sim --help)");
        }
        return tw_sim_main(&t, sub_argc, sub_argv);
    }
    install_signals();
    if (strcmp(cmd, "demo") == 0) {
        return tw_cmd_demo(&t, sub_argc, sub_argv);
    }
    if (strcmp(cmd, "listen") == 0) {
        return tw_cmd_listen(&t, sub_argc, sub_argv);
    }
    if (strcmp(cmd, "connect") == 0) {
        return tw_cmd_connect(&t, sub_argc, sub_argv);
    }
    if (strcmp(cmd, "echo") == 0) {
        return tw_cmd_echo(&t, sub_argc, sub_argv);
    }
    if (strcmp(cmd, "http") == 0) {
        return tw_cmd_http(&t, sub_argc, sub_argv);
    }
    if (strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return TW_EXIT_OK;
    }
    return tw_usage_error(&t, global_usage, "unknown command '%s'", cmd);
}
