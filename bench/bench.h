/*
 * bench.h -- what the three benchmark harnesses (tcpwave, lwIP, Linux) share: the command
 * line, the clocks, the 4-tuple plan, the payload pattern and the output format.
 *
 * Every harness runs the same work (described in bench/README.md) and prints one line per result as
 * `kind key=value ...`; bench/run.sh collects the lines of several runs and prints the
 * table. Nothing here is timed against a threshold: a harness only fails when the work
 * itself went wrong (bytes missing, a connection not closed).
 */
#ifndef TW_BENCH_H
#define TW_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- command line ---------------------------------------------------------------------- */

enum bench_mode { BENCH_LIFECYCLE, BENCH_BULK, BENCH_MEM, BENCH_HOLD };

#define BENCH_MAX_CHECKPOINTS 8

typedef struct bench_args {
    enum bench_mode mode;
    uint64_t n;                         /* lifecycle: cycles; bulk: bytes; mem/hold: connections */
    uint64_t w;                         /* hold: lifecycles run while the n connections are held */
    uint64_t cp[BENCH_MAX_CHECKPOINTS]; /* lifecycle checkpoints (ascending, last = n) */
    int ncp;
    double time_limit; /* seconds; 0 = none. A run that hits it reports partial=1 */
    bool callgrind;    /* bracket the measured part with callgrind client requests */
    bool hugepages;    /* --hugepages: transparent huge pages for every stack (common.c) */
} bench_args;

/* Parse argv or print the usage and exit(2). `stack` names the harness in the usage. */
void bench_parse_args(int argc, char **argv, const char *stack, bench_args *out);

/* ---- clocks and process figures --------------------------------------------------------- */

double bench_wall(void); /* CLOCK_MONOTONIC, seconds */
double bench_cpu(void);  /* CLOCK_PROCESS_CPUTIME_ID, seconds */
long bench_peak_rss_kb(void);

/* Callgrind client requests (no-ops outside valgrind); only active with --callgrind. */
void bench_measure_begin(const bench_args *a);
void bench_measure_end(const bench_args *a);

/* Bytes the process asked malloc for and still holds, and the most it ever held. Counted
   only in the *_mem binaries (count_malloc.c); elsewhere bench_heap_counting() is false. */
bool bench_heap_counting(void);
size_t bench_heap_live(void);
size_t bench_heap_peak(void);

/* ---- the shared 4-tuple plan ------------------------------------------------------------ */

/* Cycle i uses client port BENCH_CPORT0 + i % BENCH_NCPORTS towards server port
   BENCH_SPORT0 + i / BENCH_NCPORTS, so that a million lifecycles never reuse a 4-tuple and
   every TIME_WAIT record stays (the client binds its port explicitly, with SO_REUSEADDR). */
#define BENCH_CPORT0 10000u
#define BENCH_NCPORTS 50000u
#define BENCH_SPORT0 5000u

static inline uint16_t bench_cport(uint64_t i)
{
    return (uint16_t)(BENCH_CPORT0 + i % BENCH_NCPORTS);
}

static inline uint16_t bench_sport(uint64_t i)
{
    return (uint16_t)(BENCH_SPORT0 + i / BENCH_NCPORTS);
}

/* Number of listening ports needed for `cycles` lifecycles. */
static inline unsigned bench_nlisteners(uint64_t cycles)
{
    return (unsigned)((cycles + BENCH_NCPORTS - 1) / BENCH_NCPORTS) + 1;
}

/* ---- payloads --------------------------------------------------------------------------- */

#define BENCH_MSG 64            /* request and response size of a lifecycle */
#define BENCH_CHUNK (64 * 1024) /* bulk: bytes offered to the stack per send call */
#define BENCH_PERIOD 251u       /* the bulk pattern repeats every 251 bytes (a prime) */

/* A buffer of BENCH_CHUNK + BENCH_PERIOD pattern bytes: byte k of the stream is
   pat[k % BENCH_PERIOD], so the data for stream offset off starts at pat + off % PERIOD. */
const uint8_t *bench_pattern(void);

/* Check a received chunk of the stream at offset `off` (first and last byte, cheap enough
   not to distort the figure, strong enough to catch misplaced data). */
bool bench_check_chunk(const uint8_t *buf, size_t len, uint64_t off);

/* ---- output ----------------------------------------------------------------------------- */

/* Print a result line: "kind stack=<stack> " then the formatted rest, then newline. */
void bench_out(const char *kind, const char *stack, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Print an error and exit(1): the work failed, the figure would be meaningless. */
void bench_fail(const char *stack, const char *fmt, ...) __attribute__((format(printf, 2, 3)))
__attribute__((noreturn));

/* Lifecycle checkpoint bookkeeping, shared so every stack reports the same way. */
typedef struct bench_lc {
    const bench_args *a;
    const char *stack;
    double t0, cpu0;
    int next_cp;
    uint64_t win_start; /* first cycle of the current checkpoint's window */
    double win_t0;
} bench_lc;

void bench_lc_start(bench_lc *lc, const bench_args *a, const char *stack);
/* Call after cycle `done` (count of completed cycles); prints checkpoints as they pass.
   Returns false when the time limit is hit (the caller stops and reports partial). */
bool bench_lc_tick(bench_lc *lc, uint64_t done);
/* Prints the summary line; `extra` is appended (may be ""). */
void bench_lc_finish(bench_lc *lc, uint64_t done, uint64_t packets, const char *extra);

#endif
