/*
 * cli.c -- `tcpwave script [options] FILE...` (tw_script_main, see script.h).
 *
 * Owns: command-line parsing, running each file, the PASS/FAIL/SKIP lines and the final
 * count, and the parser self-check modes (--print, --check-parse).
 */
#define _POSIX_C_SOURCE 200809L
#include "script/script.h"
#include "script/run.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tcpwave script [options] FILE...\n"
            "\n"
            "Run packetdrill-syntax scripts, each against a fresh tcpwave stack on virtual\n"
            "time: '<' packets are injected, '>' packets must be sent by the stack, system\n"
            "calls drive the socket API. Prints PASS, FAIL or SKIP per file, then\n"
            "'N passed, N failed, N skipped'. Exit status 0 when nothing failed.\n"
            "\n"
            "options:\n"
            "  --options exact|semantic  how TCP options of '>' packets are compared: exact\n"
            "                     (default, as packetdrill: same options, order and padding)\n"
            "                     or semantic (NOP/EOL padding and order ignored)\n"
            "  --strict-end       fail on packets the stack sends after the script's last\n"
            "                     '>' line too (packetdrill never looks at them; tcpwave's\n"
            "                     own suite runs with this)\n"
            "  --set KEY=VALUE    a stack setting the scripts assume (repeatable), see below\n"
            "  -D NAME[=VALUE]    define a symbol for #ifdef and substitution (repeatable)\n"
            "  --init_scripts FILE[,FILE]  run before each script, as packetdrill's option:\n"
            "                     packetdrill's defaults.sh applies its settings (the\n"
            "                     environment gtests/net/tcp's scripts expect), another\n"
            "                     file is read as a backquoted command\n"
            "  --seed N           entropy seed for the stack (ISNs, ports); default 1\n"
            "  --trace N          trace events shown with a failure (default 20)\n"
            "  --untraced         run the stack with no trace hook, so that its packets take\n"
            "                     the fast paths untraced use takes (a traced stack takes the\n"
            "                     full parsers and steps); `state` then looks the connection\n"
            "                     up in the stack, `deadline +SECS` is met by the counters\n"
            "                     only timers move, and failures show no trace events\n"
            "  -v, --verbose      print every event and packet as it runs\n"
            "  --print            parse each file and print it back (nothing runs)\n"
            "  --check-parse      parse, print, parse again: the two prints must agree\n"
            "  --skip-exit N      exit status when no script passed or failed but some were\n"
            "                     skipped (default 0; CTest uses 77)\n"
            "  -h, --help         this text\n"
            "\n"
            "settings for --set (and for a script's own '--set=KEY=VALUE' header line):\n");
    tw_sc_settings_help(f);
    fprintf(f,
            "  Recognised sysctl commands in scripts map onto the same settings, e.g.\n"
            "  `sysctl -q net.ipv4.tcp_timestamps=0` sets no_timestamps; tcp_sack,\n"
            "  tcp_window_scaling, tcp_syn_retries, tcp_synack_retries, tcp_retries2,\n"
            "  tcp_orphan_retries, tcp_fin_timeout, tcp_rmem, tcp_wmem (default and\n"
            "  ceiling), tcp_moderate_rcvbuf, FreeBSD's\n"
            "  net.inet.tcp.msl and rfc1323 likewise. Other commands and Python code make\n"
            "  the script SKIP ('assert tcpi_FIELD OP VALUE' lines are understood).\n"
            "\n"
            "script lines tcpwave adds to packetdrill's language:\n"
            "  +0 state [FD] NAME           state of the connection under test (or of FD)\n"
            "  +0 counter NAME == N         a stack counter (==, !=, <, <=, >, >=)\n"
            "  +0 deadline +SECS | SECS | none   when the stack's next timer fires\n"
            "  +0 isn increased             a reopened 4-tuple's new ISN lies beyond every\n"
            "                               number the previous incarnation used\n"
            "  +0 < PACKET with MUTATION[, ...]  corrupt an injected packet: bad_tcp_csum,\n"
            "     bad_ip_csum, tcp_csum N, ip_csum N, truncate N, ip_len N, ihl N,\n"
            "     version N, mf, frag_off N, proto N, ttl N, src A.B.C.D, dst A.B.C.D,\n"
            "     doff N, reserved N, flags N, options \"hex bytes\"; fragment N sends it as\n"
            "     IPv4 fragments of N bytes (a multiple of 8), fragment_reverse last first\n"
            "  header lines: --options=exact|semantic, --set=KEY=VALUE,\n"
            "     --remote_seq=relative|absolute (the peer's numbers after its SYN: relative\n"
            "     to its ISN as tcpdump prints them, the default, or as written, as\n"
            "     packetdrill reads them)\n");
}

typedef struct cli {
    tw_sc_opts o;
    tw_sc_setting *sets;
    size_t n_sets;
    tw_sc_define *defs;
    size_t n_defs;
    bool print_only;
    bool check_parse;
    int skip_exit;
} cli;

static int add_set(cli *c, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv) {
        fprintf(stderr, "tcpwave script: --set needs KEY=VALUE, got '%s'\n", kv);
        return -1;
    }
    tw_config probe;
    uint16_t mtu = 1500;
    tw_config_init(&probe);
    char key[64];
    size_t kl = (size_t)(eq - kv);
    if (kl >= sizeof(key)) {
        fprintf(stderr, "tcpwave script: unknown setting '%s'\n", kv);
        return -1;
    }
    memcpy(key, kv, kl);
    key[kl] = '\0';
    char err[160];
    if (tw_sc_apply_setting(&probe, &mtu, key, eq + 1, err, sizeof(err)) < 0) {
        fprintf(stderr, "tcpwave script: --set %s: %s\n", kv, err);
        return -1;
    }
    tw_sc_setting *s = realloc(c->sets, (c->n_sets + 1) * sizeof(*s));
    char *k = strdup(key);
    if (s == NULL || k == NULL) {
        free(k);
        free(s);
        return -1;
    }
    c->sets = s;
    c->sets[c->n_sets].key = k;
    c->sets[c->n_sets].value = eq + 1;
    c->n_sets++;
    return 0;
}

static int add_define(cli *c, const char *spec)
{
    tw_sc_define *d = realloc(c->defs, (c->n_defs + 1) * sizeof(*d));
    if (d == NULL) {
        return -1;
    }
    c->defs = d;
    const char *eq = strchr(spec, '=');
    char *name = eq ? strndup(spec, (size_t)(eq - spec)) : strdup(spec);
    char *value = strdup(eq ? eq + 1 : "1");
    if (name == NULL || value == NULL || name[0] == '\0') {
        free(name);
        free(value);
        fprintf(stderr, "tcpwave script: bad -D '%s'\n", spec);
        return -1;
    }
    c->defs[c->n_defs].name = name;
    c->defs[c->n_defs].value = value;
    c->n_defs++;
    return 0;
}

static void cli_free(cli *c)
{
    for (size_t i = 0; i < c->n_sets; i++) {
        free((char *)c->sets[i].key);
    }
    free(c->sets);
    for (size_t i = 0; i < c->n_defs; i++) {
        free(c->defs[i].name);
        free(c->defs[i].value);
    }
    free(c->defs);
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 0);
    if (end == s || *end != '\0' || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

/* "--name=value" or "--name value": returns the value or NULL (usage error). */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) == 0 && a[n] == '=') {
        return a + n + 1;
    }
    if (strcmp(a, name) == 0 && *i + 1 < argc) {
        return argv[++*i];
    }
    fprintf(stderr, "tcpwave script: %s needs a value\n", name);
    return NULL;
}

static bool opt_is(const char *a, const char *name)
{
    size_t n = strlen(name);
    return strncmp(a, name, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

static char *print_to_string(const tw_sc_script *s)
{
    char *txt = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&txt, &len);
    if (f == NULL) {
        return NULL;
    }
    tw_sc_print(f, s);
    fclose(f);
    return txt;
}

/* The parser's self-check: print(parse(print(parse(file)))) == print(parse(file)). */
static tw_sc_verdict check_parse(const cli *c, const char *path, tw_sb *why)
{
    tw_sc_script *s = NULL;
    char err[512];
    if (tw_sc_parse_file(path, c->defs, c->n_defs, &s, err, sizeof(err)) < 0) {
        tw_sb_printf(why, "    %s\n", err);
        return TW_SC_FAIL;
    }
    if (s->skip_reason) {
        tw_sb_printf(why, "%s", s->skip_reason);
        tw_sc_script_free(s);
        return TW_SC_SKIP;
    }
    char *t1 = print_to_string(s);
    tw_sc_script *s2 = NULL;
    tw_sc_verdict v = TW_SC_PASS;
    if (t1 == NULL) {
        tw_sb_printf(why, "    cannot print\n");
        v = TW_SC_FAIL;
    } else if (tw_sc_parse(path, t1, c->defs, c->n_defs, &s2, err, sizeof(err)) < 0) {
        tw_sb_printf(why, "    the printed script does not parse: %s\n", err);
        v = TW_SC_FAIL;
    } else {
        char *t2 = print_to_string(s2);
        if (t2 == NULL || strcmp(t1, t2) != 0 || s->n_events != s2->n_events) {
            tw_sb_printf(why, "    printing is not stable:\n--- first\n%s--- second\n%s",
                         t1, t2 ? t2 : "");
            v = TW_SC_FAIL;
        }
        free(t2);
    }
    free(t1);
    tw_sc_script_free(s2);
    tw_sc_script_free(s);
    return v;
}

static tw_sc_verdict run_file(const cli *c, const char *path, tw_sb *report, tw_sb *notes)
{
    tw_sc_script *s = NULL;
    char err[512];
    if (tw_sc_parse_file(path, c->defs, c->n_defs, &s, err, sizeof(err)) < 0) {
        tw_sb_printf(report, "    %s\n", err);
        return TW_SC_FAIL;
    }
    if (c->print_only) {
        if (s->skip_reason) {
            printf("// SKIP: %s\n", s->skip_reason);
        }
        tw_sc_print(stdout, s);
        tw_sc_script_free(s);
        return TW_SC_PASS;
    }
    if (c->o.verbose) {
        printf("RUN  %s\n", path);
    }
    tw_sc_result res;
    tw_sc_run(s, &c->o, &res);
    tw_sc_script_free(s);
    if (res.report.buf) {
        tw_sb_printf(report, "%s", res.report.buf);
    }
    if (res.notes.buf) {
        tw_sb_printf(notes, "%s", res.notes.buf);
    }
    tw_sb_free(&res.report);
    tw_sb_free(&res.notes);
    return res.verdict;
}

int tw_script_main(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof(c));
    c.o.seed = 1;
    c.o.trace_lines = 20;
    int rc = 2;
    /* Files and options may come in any order ("--" ends the options). */
    char **files = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*files));
    int n_files = 0;
    if (files == NULL) {
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        long n;
        if (strcmp(a, "--") == 0) {
            while (++i < argc) {
                files[n_files++] = argv[i];
            }
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            files[n_files++] = argv[i];
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            cli_free(&c);
            free(files);
            return 0;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            c.o.verbose = true;
        } else if (strcmp(a, "--print") == 0) {
            c.print_only = true;
        } else if (strcmp(a, "--strict-end") == 0) {
            c.o.strict_end = true;
        } else if (strcmp(a, "--untraced") == 0) {
            c.o.untraced = true;
        } else if (strcmp(a, "--check-parse") == 0) {
            c.check_parse = true;
        } else if (opt_is(a, "--options")) {
            if ((v = opt_value(argc, argv, &i, "--options")) == NULL) {
                goto usage_error;
            }
            if (strcmp(v, "semantic") == 0) {
                c.o.semantic_options = true;
            } else if (strcmp(v, "exact") == 0) {
                c.o.semantic_options = false;
            } else {
                fprintf(stderr, "tcpwave script: --options must be exact or semantic\n");
                goto usage_error;
            }
        } else if (opt_is(a, "--set")) {
            if ((v = opt_value(argc, argv, &i, "--set")) == NULL || add_set(&c, v) < 0) {
                goto usage_error;
            }
        } else if (strncmp(a, "-D", 2) == 0) {
            v = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            if (v == NULL || add_define(&c, v) < 0) {
                goto usage_error;
            }
        } else if (opt_is(a, "--define")) {
            if ((v = opt_value(argc, argv, &i, "--define")) == NULL || add_define(&c, v) < 0) {
                goto usage_error;
            }
        } else if (opt_is(a, "--init_scripts") || opt_is(a, "--init-scripts")) {
            if ((v = opt_value(argc, argv, &i, a[6] == '_' ? "--init_scripts"
                                                           : "--init-scripts")) == NULL) {
                goto usage_error;
            }
            c.o.init_scripts = v;
        } else if (opt_is(a, "--seed")) {
            char *end = NULL;
            if ((v = opt_value(argc, argv, &i, "--seed")) == NULL) {
                goto usage_error;
            }
            c.o.seed = strtoull(v, &end, 0);
            if (end == v || *end != '\0') {
                fprintf(stderr, "tcpwave script: bad --seed '%s'\n", v);
                goto usage_error;
            }
        } else if (opt_is(a, "--trace")) {
            if ((v = opt_value(argc, argv, &i, "--trace")) == NULL ||
                parse_long(v, 0, 64, &n) < 0) {
                fprintf(stderr, "tcpwave script: --trace takes 0..64\n");
                goto usage_error;
            }
            c.o.trace_lines = (int)n;
        } else if (opt_is(a, "--skip-exit")) {
            if ((v = opt_value(argc, argv, &i, "--skip-exit")) == NULL ||
                parse_long(v, 0, 255, &n) < 0) {
                fprintf(stderr, "tcpwave script: --skip-exit takes 0..255\n");
                goto usage_error;
            }
            c.skip_exit = (int)n;
        } else {
            fprintf(stderr, "tcpwave script: unknown option '%s'\n", a);
            goto usage_error;
        }
    }
    if (n_files == 0) {
        fprintf(stderr, "tcpwave script: no script given\n");
        goto usage_error;
    }
    c.o.sets = c.sets;
    c.o.n_sets = c.n_sets;
    c.o.defines = c.defs;
    c.o.n_defines = c.n_defs;

    unsigned passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < n_files; i++) {
        tw_sb report = {0}, notes = {0};
        tw_sc_verdict v = c.check_parse ? check_parse(&c, files[i], &report)
                                        : run_file(&c, files[i], &report, &notes);
        if (c.print_only && v == TW_SC_PASS) {
            passed++;
            continue;
        }
        switch (v) {
        case TW_SC_PASS:
            passed++;
            printf("PASS %s\n", files[i]);
            break;
        case TW_SC_FAIL:
            failed++;
            printf("FAIL %s\n%s", files[i], report.buf ? report.buf : "");
            break;
        case TW_SC_SKIP:
            skipped++;
            printf("SKIP %s: %s\n", files[i], report.buf ? report.buf : "");
            break;
        }
        if (notes.buf) {
            printf("%s", notes.buf);
        }
        fflush(stdout);
        tw_sb_free(&report);
        tw_sb_free(&notes);
    }
    if (!c.print_only) {
        printf("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
    }
    rc = failed ? 1 : (passed == 0 && skipped > 0) ? c.skip_exit : 0;
    cli_free(&c);
    free(files);
    return rc;

usage_error:
    usage(stderr);
    cli_free(&c);
    free(files);
    return 2;
}
