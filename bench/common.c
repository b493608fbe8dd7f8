/*
 * common.c -- command line, clocks, payload pattern and output shared by the harnesses.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#ifdef BENCH_NO_CALLGRIND
/* (tests/bench_smoke: the harness built into make test, where valgrind's headers may be
   missing; --callgrind then measures nothing) */
#define CALLGRIND_ZERO_STATS ((void)0)
#define CALLGRIND_START_INSTRUMENTATION ((void)0)
#define CALLGRIND_STOP_INSTRUMENTATION ((void)0)
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#else
#include <valgrind/callgrind.h>
#endif

static void usage(const char *prog, const char *stack)
{
    fprintf(stderr,
            "usage: %s [--time-limit SEC] [--callgrind] [--no-trim] MODE ARGS   (%s harness)\n"
            "  lifecycle N [CP...]  N connect/64B each way/close cycles; report at checkpoints\n"
            "  bulk BYTES           one connection, BYTES client to server (k/m/g: KiB/MiB/GiB)\n"
            "  mem N                bytes per established, TIME_WAIT and SYN_RCVD connection\n"
            "  hold N W             set up N idle established connections, then W lifecycles\n"
            "  --no-trim            keep freed memory in glibc's heap (diagnostic, see perf.md)\n"
            "  --hugepages          transparent huge pages: malloc's (GLIBC_TUNABLES\n"
            "                       glibc.malloc.hugetlb=1, all harnesses) and, for tcpwave,\n"
            "                       tw_host_hugemem for the stacks (README, Benchmarks)\n",
            prog, stack);
    exit(2);
}

/* Counts accept k/m (x1000) for cycles; sizes accept k/m/g as binary units when `bin`. */
static bool parse_u64(const char *s, bool bin, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-') {
        return false;
    }
    uint64_t mul = 1;
    switch (*end) {
    case 0:
        break;
    case 'k':
    case 'K':
        mul = bin ? 1024 : 1000;
        end++;
        break;
    case 'm':
    case 'M':
        mul = bin ? 1024 * 1024 : 1000000;
        end++;
        break;
    case 'g':
    case 'G':
        mul = bin ? 1024ull * 1024 * 1024 : 1000000000ull;
        end++;
        break;
    default:
        return false;
    }
    if (*end || v == 0 || v > UINT64_MAX / mul) {
        return false;
    }
    *out = v * mul;
    return true;
}

void bench_parse_args(int argc, char **argv, const char *stack, bench_args *a)
{
    memset(a, 0, sizeof(*a));
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--callgrind") == 0) {
            a->callgrind = true;
        } else if (strcmp(argv[i], "--no-trim") == 0) {
            /* Diagnostic only: glibc returns the heap top to the kernel once more than
               M_TRIM_THRESHOLD is free, and serves blocks above M_MMAP_THRESHOLD with mmap;
               a stack that mallocs and frees large blocks per connection then pays a brk
               or mmap, and page faults, every time. This shows what that costs. */
            mallopt(M_TRIM_THRESHOLD, 1 << 30);
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
        } else if (strcmp(argv[i], "--hugepages") == 0) {
            /* The same for every harness: glibc's malloc advises its heap and mappings for
               transparent huge pages (read once at start-up, so the process runs itself
               again with the tunable set); tw_bench also gives its stacks the host layer's
               allocator for many connections. Linux's sockets live in the kernel, which
               this does not change. */
            a->hugepages = true;
            const char *t = getenv("GLIBC_TUNABLES");
            if (!t || !strstr(t, "glibc.malloc.hugetlb=1")) {
                char buf[1024];
                snprintf(buf, sizeof(buf), "%s%sglibc.malloc.hugetlb=1", t ? t : "",
                         t && *t ? ":" : "");
                setenv("GLIBC_TUNABLES", buf, 1);
                execv("/proc/self/exe", argv);
                perror("bench: execv /proc/self/exe");
                exit(2);
            }
        } else if (strcmp(argv[i], "--time-limit") == 0 && i + 1 < argc) {
            char *end;
            a->time_limit = strtod(argv[++i], &end);
            if (*end || a->time_limit < 0) {
                usage(argv[0], stack);
            }
        } else {
            usage(argv[0], stack);
        }
    }
    if (i >= argc) {
        usage(argv[0], stack);
    }
    const char *m = argv[i++];
    int rest = argc - i;
    if (strcmp(m, "lifecycle") == 0 && rest >= 1 && rest <= 1 + BENCH_MAX_CHECKPOINTS - 1) {
        a->mode = BENCH_LIFECYCLE;
        if (!parse_u64(argv[i], false, &a->n)) {
            usage(argv[0], stack);
        }
        for (int k = i + 1; k < argc; k++) {
            uint64_t cp;
            if (!parse_u64(argv[k], false, &cp) || cp >= a->n ||
                (a->ncp > 0 && cp <= a->cp[a->ncp - 1])) {
                usage(argv[0], stack);
            }
            a->cp[a->ncp++] = cp;
        }
        a->cp[a->ncp++] = a->n;
    } else if (strcmp(m, "bulk") == 0 && rest == 1) {
        a->mode = BENCH_BULK;
        if (!parse_u64(argv[i], true, &a->n)) {
            usage(argv[0], stack);
        }
    } else if (strcmp(m, "mem") == 0 && rest == 1) {
        a->mode = BENCH_MEM;
        if (!parse_u64(argv[i], false, &a->n)) {
            usage(argv[0], stack);
        }
    } else if (strcmp(m, "hold") == 0 && rest == 2) {
        a->mode = BENCH_HOLD;
        if (!parse_u64(argv[i], false, &a->n) || !parse_u64(argv[i + 1], false, &a->w)) {
            usage(argv[0], stack);
        }
    } else {
        usage(argv[0], stack);
    }
    /* The 4-tuple plan has room for BENCH_NCPORTS * (65535 - BENCH_SPORT0 - ...) cycles;
       keep the listening ports below the client range. */
    if (a->mode != BENCH_BULK &&
        a->n + a->w > (uint64_t)BENCH_NCPORTS * (BENCH_CPORT0 - BENCH_SPORT0 - 1)) {
        fprintf(stderr, "%s: count too large for the 4-tuple plan\n", argv[0]);
        exit(2);
    }
}

double bench_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

long bench_peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

void bench_measure_begin(const bench_args *a)
{
    if (a->callgrind) {
        CALLGRIND_ZERO_STATS;
        CALLGRIND_START_INSTRUMENTATION;
    }
}

void bench_measure_end(const bench_args *a)
{
    if (a->callgrind) {
        CALLGRIND_STOP_INSTRUMENTATION;
        CALLGRIND_DUMP_STATS_AT("measured");
    }
}

static uint8_t pattern[BENCH_CHUNK + BENCH_PERIOD];

const uint8_t *bench_pattern(void)
{
    if (pattern[1] == 0) {
        for (size_t k = 0; k < sizeof(pattern); k++) {
            /* Never 0 at k = 1, which doubles as the "initialised" flag. */
            pattern[k] = (uint8_t)(k % BENCH_PERIOD * 7 + 13);
        }
    }
    return pattern;
}

bool bench_check_chunk(const uint8_t *buf, size_t len, uint64_t off)
{
    const uint8_t *p = bench_pattern();
    return len == 0 ||
           (buf[0] == p[off % BENCH_PERIOD] && buf[len - 1] == p[(off + len - 1) % BENCH_PERIOD]);
}

void bench_out(const char *kind, const char *stack, const char *fmt, ...)
{
    printf("%s stack=%s ", kind, stack);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

void bench_fail(const char *stack, const char *fmt, ...)
{
    fprintf(stderr, "bench %s: FAILED: ", stack);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* ---- lifecycle checkpoints -------------------------------------------------------------- */

/* The window of a checkpoint cp is its last tenth of cycles, (cp - cp/10, cp]: the cost
   per lifecycle there shows the stack with about cp TIME_WAIT records already held. */
static uint64_t win_begin(uint64_t cp)
{
    return cp - (cp >= 10 ? cp / 10 : 1);
}

void bench_lc_start(bench_lc *lc, const bench_args *a, const char *stack)
{
    memset(lc, 0, sizeof(*lc));
    lc->a = a;
    lc->stack = stack;
    lc->win_start = win_begin(a->cp[0]);
    lc->t0 = bench_wall();
    lc->cpu0 = bench_cpu();
    lc->win_t0 = lc->win_start == 0 ? lc->t0 : 0;
}

bool bench_lc_tick(bench_lc *lc, uint64_t done)
{
    const bench_args *a = lc->a;
    /* Clock reads are kept off the common path: they would be a visible share of a
       microsecond-long lifecycle. */
    if (lc->next_cp < a->ncp && done == lc->win_start && lc->win_t0 == 0) {
        lc->win_t0 = bench_wall();
    }
    if (lc->next_cp < a->ncp && done == a->cp[lc->next_cp]) {
        double t = bench_wall();
        uint64_t cp = a->cp[lc->next_cp];
        uint64_t wn = cp - lc->win_start;
        if (!a->callgrind) {
            bench_out("checkpoint", lc->stack, "n=%llu wall=%.6f rate=%.1f window_ns=%.1f",
                      (unsigned long long)cp, t - lc->t0, (double)cp / (t - lc->t0),
                      (t - lc->win_t0) * 1e9 / (double)wn);
        }
        lc->next_cp++;
        if (lc->next_cp < a->ncp) {
            uint64_t ws = win_begin(a->cp[lc->next_cp]);
            lc->win_start = ws > done ? ws : done;
            lc->win_t0 = lc->win_start == done ? t : 0;
        }
    }
    if (a->time_limit > 0 && (done & 255) == 0 && bench_wall() - lc->t0 > a->time_limit) {
        return false;
    }
    return true;
}

void bench_lc_finish(bench_lc *lc, uint64_t done, uint64_t packets, const char *extra)
{
    double t = bench_wall() - lc->t0;
    double c = bench_cpu() - lc->cpu0;
    bench_out("lifecycle", lc->stack,
              "cycles=%llu target=%llu partial=%d wall=%.6f cpu=%.6f rate=%.1f "
              "pkts_per_cycle=%.2f %s",
              (unsigned long long)done, (unsigned long long)lc->a->n, done < lc->a->n, t, c,
              (double)done / t, done ? (double)packets / (double)done : 0.0, extra);
}
