/*
 * cmd_sim.c -- `tcpwave sim`: seeded transfers between two tcpwave stacks over the
 * simulated link (src/sim), each a pure function of its seed. A run passes when both
 * directions deliver exactly the bytes sent (checked by hash, D1), both sides close
 * cleanly (FIN both ways, TIME-WAIT expired), and both stacks give back every byte they
 * took from the allocator. A failing run prints the one-line command that repeats it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"
#include "sim/sim.h"
#include "tool/ladder.h"
#include "tool/tool.h"
#include "script/run.h"

struct sim_opts {
    unsigned long runs;
    uint64_t seed;
    unsigned long bytes; /* each direction */
    double loss, dup, reorder, burst_loss, corrupt, rate_mbit, ecn_mark;
    unsigned long queue;
    tw_cc_algo cc;
    double delay_ms, jitter_ms, reorder_ms;
    double msl;
    double limit; /* virtual seconds per run */
    bool trace;
    bool quiet;
    const char *pcap_path; /* --pcap: every delivered packet of every run */
    tw_pcap *pcap;
    char argline[1024]; /* impairment options, for the repro line */
    bool counters; /* --counters: the stacks' counters summed over the runs */
    uint64_t cnt[TW_CNT_COUNT_];
    const char *set[16]; /* --set KEY=VALUE, both stacks, in order */
    unsigned nset;
};

/* Apply --set KEY=VALUE to a config (tcpwave script's settings). 0 or -1 with `err`. */
static int apply_set(tw_config *cfg, uint16_t *mtu, const char *kv, char *err, size_t errlen)
{
    const char *eq = strchr(kv, '=');
    char key[64];
    if (eq == NULL || eq == kv || (size_t)(eq - kv) >= sizeof key) {
        snprintf(err, errlen, "--set needs KEY=VALUE");
        return -1;
    }
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    return tw_sc_apply_setting(cfg, mtu, key, eq + 1, err, errlen);
}

/* Counting allocator: live bytes per stack, so a leak fails the run. */
struct counting {
    size_t live, peak;
};

static void *c_alloc(size_t size, void *ud)
{
    struct counting *c = ud;
    void *p = malloc(size);
    if (p != NULL) {
        c->live += size;
        c->peak = c->live > c->peak ? c->live : c->peak;
    }
    return p;
}

static void c_free(void *p, size_t size, void *ud)
{
    struct counting *c = ud;
    if (p != NULL) {
        c->live -= size;
        free(p);
    }
}

/* The bytes of one direction: a stream keyed by seed and direction (splitmix64). */
struct stream {
    uint64_t state;
    uint64_t word;
    unsigned left; /* bytes of `word` not yet used */
    uint64_t hash; /* FNV-1a 64 over the bytes so far */
    uint64_t count;
};

static void stream_init(struct stream *s, uint64_t seed, int dir)
{
    memset(s, 0, sizeof *s);
    s->state = seed * 2654435761u + (uint64_t)dir * 0x9e3779b97f4a7c15ull;
    s->hash = 0xcbf29ce484222325ull;
}

static uint8_t stream_byte(struct stream *s)
{
    if (s->left == 0) {
        uint64_t z = (s->state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        s->word = z ^ (z >> 31);
        s->left = 8;
    }
    uint8_t b = (uint8_t)s->word;
    s->word >>= 8;
    s->left--;
    return b;
}

static void hash_bytes(uint64_t *h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        *h = (*h ^ p[i]) * 0x100000001b3ull;
    }
}

/* One endpoint's application: send `total` bytes of its stream, read the other
   direction to EOF, hash it, close. */
struct app {
    tw_socket *s;
    struct stream tx;
    uint64_t sent, total;
    uint8_t pend[8192];
    size_t pend_off, pend_len;
    uint64_t rx_hash, rx_count;
    bool fin_sent, eof, closed;
    int error;
    tw_time last_rx;
};

static void app_step(struct app *a, tw_time now)
{
    if (a->s == NULL || a->closed) {
        return;
    }
    unsigned ev = tw_socket_events(a->s);
    if (ev & TW_EV_ERROR) {
        a->error = tw_socket_error(a->s);
        tw_socket_close(a->s, now);
        a->closed = true;
        return;
    }
    uint8_t buf[8192];
    for (int i = 0; i < 64; i++) {
        tw_ssize r = tw_socket_recv(a->s, buf, sizeof buf, now);
        if (r == 0) {
            a->eof = true;
            break;
        }
        if (r < 0) {
            break;
        }
        hash_bytes(&a->rx_hash, buf, (size_t)r);
        a->rx_count += (uint64_t)r;
        a->last_rx = now;
    }
    for (int i = 0; i < 64 && (a->sent < a->total || a->pend_off < a->pend_len); i++) {
        if (a->pend_off == a->pend_len) {
            uint64_t n = a->total - a->sent;
            a->pend_len = n < sizeof a->pend ? (size_t)n : sizeof a->pend;
            for (size_t k = 0; k < a->pend_len; k++) {
                a->pend[k] = stream_byte(&a->tx);
            }
            a->pend_off = 0;
            a->sent += a->pend_len;
        }
        tw_ssize w = tw_socket_send(a->s, a->pend + a->pend_off, a->pend_len - a->pend_off, now);
        if (w <= 0) {
            break;
        }
        a->pend_off += (size_t)w;
    }
    if (!a->fin_sent && a->sent == a->total && a->pend_off == a->pend_len &&
        (ev & (TW_EV_CONNECTED)) != 0) {
        tw_socket_shutdown(a->s, TW_SHUT_WR, now);
        a->fin_sent = true;
    }
    if (a->fin_sent && a->eof) {
        tw_socket_close(a->s, now);
        a->closed = true;
    }
}

static uint64_t expected_hash(uint64_t seed, int dir, uint64_t n)
{
    struct stream s;
    stream_init(&s, seed, dir);
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t i = 0; i < n; i++) {
        uint8_t b = stream_byte(&s);
        hash_bytes(&h, &b, 1);
    }
    return h;
}

struct run_result {
    bool ok;
    char why[256];
    double secs;
    double goodput_mbps;
    uint64_t retrans;
    const char *cstate, *sstate;
};

static const char *state_or_closed(tw_stack *st, const struct app *a)
{
    if (a->s != NULL && !a->closed) {
        return tw_state_name(tw_socket_state(a->s));
    }
    if (tw_stack_conn_count(st) > 0) {
        return "orphan";
    }
    return tw_stack_time_wait_count(st) > 0 ? "TIME-WAIT" : "CLOSED";
}

/* Bytes one direction of run `seed` carries: 0..max, drawn from the seed. */
static uint64_t size_for(uint64_t seed, int dir, unsigned long max)
{
    uint64_t z = seed * 0x9e3779b97f4a7c15ull + (uint64_t)dir * 0xbf58476d1ce4e5b9ull + 1;
    z = (z ^ (z >> 31)) * 0x94d049bb133111ebull;
    z ^= z >> 29;
    return z % ((uint64_t)max + 1);
}

/* The capture gets the packets as delivered (after loss, duplication, reordering), one
   run after another: each run's virtual clock starts 1 s after the last one's end. */
struct cap {
    tw_pcap *pcap;
    uint64_t base_ns;
    tw_time last;
};

static void cap_tap(const uint8_t *pkt, size_t len, tw_time now, int from, int to, void *ud)
{
    struct cap *k = ud;
    (void)from;
    (void)to;
    tw_pcap_write(k->pcap, pkt, len, k->base_ns + now);
    k->last = now;
}

static uint64_t cap_base_ns; /* where the next run's packets start in the capture */

static void run_one(struct sim_opts *o, uint64_t seed, struct run_result *res)
{
    memset(res, 0, sizeof *res);
    struct counting cc = {0}, sc = {0};
    tw_allocator ca = {c_alloc, c_free, &cc}, sa = {c_alloc, c_free, &sc};
    tw_sim *sim;
    if (tw_sim_new(&sim, seed, TW_SEC(1)) != TW_OK) {
        snprintf(res->why, sizeof res->why, "out of memory");
        return;
    }
    tw_ladder *lad = NULL;
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.msl = (tw_time)(o->msl * 1e9);
    cfg.cc = o->cc;
    uint16_t mtu = 1500;
    for (unsigned i = 0; i < o->nset; i++) {
        char err[128];
        (void)apply_set(&cfg, &mtu, o->set[i], err, sizeof err); /* (checked when parsed) */
    }
    if (o->trace) {
        tw_ladder_opts lo;
        tw_ladder_opts_init(&lo, stderr);
        lad = tw_ladder_new(&lo);
    }
    cfg.addr = 0x0a000001u;
    cfg.allocator = &ca;
    if (lad != NULL) {
        cfg.trace = tw_ladder_trace;
        cfg.trace_ud = tw_ladder_add_stack(lad, "client", cfg.addr);
    }
    tw_stack *cst = NULL, *sst = NULL;
    int rc = tw_sim_add_stack(sim, &cfg, mtu, &cst);
    cfg.addr = 0x0a000002u;
    cfg.allocator = &sa;
    if (lad != NULL) {
        cfg.trace_ud = tw_ladder_add_stack(lad, "server", cfg.addr);
    }
    if (rc >= 0) {
        rc = tw_sim_add_stack(sim, &cfg, mtu, &sst);
    }
    if (rc < 0) {
        snprintf(res->why, sizeof res->why, "cannot create stacks: %s", tw_strerror(rc));
        tw_sim_free(sim);
        tw_ladder_free(lad);
        return;
    }
    tw_sim_impair imp = {
        .loss = o->loss,
        .dup = o->dup,
        .reorder = o->reorder,
        .reorder_delay = (tw_time)(o->reorder_ms * 1e6),
        .delay = (tw_time)(o->delay_ms * 1e6),
        .jitter = (tw_time)(o->jitter_ms * 1e6),
        .burst_loss = o->burst_loss,
        .corrupt = o->corrupt,
        .rate_bps = (uint64_t)(o->rate_mbit * 1e6),
        .queue_pkts = (uint32_t)o->queue,
        .ecn_mark = o->ecn_mark,
    };
    tw_sim_set_impair(sim, &imp);
    struct cap cap = {o->pcap, cap_base_ns, 0};
    if (o->pcap != NULL) {
        tw_sim_set_tap(sim, cap_tap, &cap);
    }

    struct app cl, sv;
    memset(&cl, 0, sizeof cl);
    memset(&sv, 0, sizeof sv);
    stream_init(&cl.tx, seed, 0);
    stream_init(&sv.tx, seed, 1);
    /* Random sizes up to --bytes, each direction its own (issue #3). */
    cl.total = size_for(seed, 0, o->bytes);
    sv.total = size_for(seed, 1, o->bytes);
    cl.rx_hash = sv.rx_hash = 0xcbf29ce484222325ull;
    tw_time start = tw_sim_now(sim);
    tw_socket *lsn = NULL;
    rc = tw_socket_open(sst, &lsn);
    if (rc == TW_OK) {
        rc = tw_socket_bind(lsn, 5001);
    }
    if (rc == TW_OK) {
        rc = tw_socket_listen(lsn, 4, start);
    }
    if (rc == TW_OK) {
        rc = tw_socket_open(cst, &cl.s);
    }
    if (rc == TW_OK) {
        rc = tw_socket_connect(cl.s, 0x0a000002u, 5001, start);
    }
    if (rc != TW_OK) {
        snprintf(res->why, sizeof res->why, "set-up failed: %s", tw_strerror(rc));
    }
    tw_time limit = start + (tw_time)(o->limit * 1e9);
    /* The step follows the link delay so a long-delay case does not take forever, and
       stays small enough to keep the applications prompt. */
    tw_time step = imp.delay / 4 > TW_MS(1) ? imp.delay / 4 : TW_MS(1);
    while (rc == TW_OK && tw_sim_now(sim) < limit) {
        tw_time now = tw_sim_now(sim);
        if (lsn != NULL && sv.s == NULL && tw_socket_accept(lsn, &sv.s, now) == TW_OK) {
            tw_socket_close(lsn, now);
            lsn = NULL;
        }
        app_step(&cl, now);
        app_step(&sv, now);
        bool apps_done = cl.closed && sv.closed;
        if (apps_done && tw_stack_conn_count(cst) == 0 && tw_stack_conn_count(sst) == 0 &&
            tw_stack_time_wait_count(cst) == 0 && tw_stack_time_wait_count(sst) == 0) {
            break;
        }
        if (apps_done && (cl.error != 0 || sv.error != 0)) {
            break;
        }
        tw_sim_run_until(sim, now + step);
        if (lad != NULL) {
            tw_ladder_flush(lad, false);
        }
    }
    tw_time last = cl.last_rx > sv.last_rx ? cl.last_rx : sv.last_rx;
    res->secs = last > start ? (double)(last - start) / 1e9 : 0;
    double bits = (double)(cl.rx_count + sv.rx_count) * 8.0;
    res->goodput_mbps = res->secs > 0 ? bits / res->secs / 1e6 : 0;
    res->retrans =
        tw_stack_counter(cst, TW_CNT_TCP_TX_RETRANS) + tw_stack_counter(sst, TW_CNT_TCP_TX_RETRANS);
    for (int k = 0; k < TW_CNT_COUNT_; k++) {
        o->cnt[k] +=
            tw_stack_counter(cst, (enum tw_counter)k) + tw_stack_counter(sst, (enum tw_counter)k);
    }
    res->cstate = state_or_closed(cst, &cl);
    res->sstate = state_or_closed(sst, &sv);
    if (rc != TW_OK) {
        /* why already set */
    } else if (cl.error != 0 || sv.error != 0) {
        snprintf(res->why, sizeof res->why, "connection error: client %s, server %s",
                 cl.error ? tw_strerror(cl.error) : "none",
                 sv.error ? tw_strerror(sv.error) : "none");
    } else if (!cl.closed || !sv.closed || tw_stack_conn_count(cst) || tw_stack_conn_count(sst) ||
               tw_stack_time_wait_count(cst) || tw_stack_time_wait_count(sst)) {
        /* A side that ran out of retries (its peer left waiting) says the link lost
           too much for the retry limits, not that a connection stalled. */
        uint64_t gave_up = tw_stack_counter(cst, TW_CNT_TCP_CONN_TIMEDOUT) +
                           tw_stack_counter(sst, TW_CNT_TCP_CONN_TIMEDOUT);
        snprintf(res->why, sizeof res->why,
                 "not closed after %.0f s virtual: client %s (%" PRIu64 "/%" PRIu64
                 " B received), server %s (%" PRIu64 "/%" PRIu64 " B received)%s",
                 o->limit, res->cstate, cl.rx_count, sv.total, res->sstate, sv.rx_count,
                 cl.total,
                 gave_up ? "; a side ran out of retransmissions (the link lost every try)"
                         : "");
    } else if (cl.rx_count != sv.total || sv.rx_count != cl.total) {
        snprintf(res->why, sizeof res->why,
                 "byte count: client got %" PRIu64 " of %" PRIu64 ", server got %" PRIu64
                 " of %" PRIu64,
                 cl.rx_count, sv.total, sv.rx_count, cl.total);
    } else if (cl.rx_hash != expected_hash(seed, 1, sv.total) ||
               sv.rx_hash != expected_hash(seed, 0, cl.total)) {
        snprintf(res->why, sizeof res->why, "data corrupted: hash mismatch (%s)",
                 cl.rx_hash != expected_hash(seed, 1, sv.total) ? "server to client"
                                                                : "client to server");
    } else {
        res->ok = true;
    }
    if (lad != NULL) {
        tw_ladder_free(lad);
    }
    if (lsn != NULL) {
        tw_socket_close(lsn, tw_sim_now(sim));
    }
    tw_sim_free(sim);
    cap_base_ns += (uint64_t)cap.last + TW_SEC(1);
    if (res->ok && (cc.live != 0 || sc.live != 0)) {
        res->ok = false;
        snprintf(res->why, sizeof res->why,
                 "memory leak: client %zu B, server %zu B live after free", cc.live, sc.live);
    }
}

static const char sim_usage[] =
    "tcpwave sim [--runs N] [--seed S] [--bytes N] [--loss P] [--burst-loss P] [--reorder P]\n"
    "                   [--dup P] [--corrupt P] [--ecn-mark P] [--delay MS] [--jitter MS]\n"
    "                   [--rate MBIT] [--queue PKTS] [--cc cubic|newreno] [--reorder-delay MS]\n"
    "                   [--msl SEC] [--time-limit SEC] [--set KEY=VALUE]... [--counters]\n"
    "                   [--trace] [--pcap FILE] [-q]";
static const char sim_help[] =
    "Run N seeded transfers between two tcpwave stacks over the simulated link: each run\n"
    "sends a random size up to --bytes in each direction at once, half-closes, closes and\n"
    "waits out TIME-WAIT, on virtual time. A run passes when every byte arrives intact\n"
    "(hash), both sides close cleanly and no memory is left. Run i uses seed S+i; a failure\n"
    "prints its repro line.\n"
    "  --runs N            number of runs (default 20)\n"
    "  --seed S            first seed, decimal or 0x hex (default 1)\n"
    "  --bytes N           at most this many bytes per direction (default 100000)\n"
    "  --loss P            probability a packet is lost (0..1, default 0)\n"
    "  --burst-loss P      bursty loss: probability the link turns bad (Gilbert-Elliott)\n"
    "  --corrupt P         probability one bit of a packet flips (checksums catch it)\n"
    "  --ecn-mark P        ECN (RFC 3168): an ECT packet that loss or the queue would drop\n"
    "                      is marked CE instead, any other with probability P (use with\n"
    "                      --set ecn=1 for ECN connections)\n"
    "  --rate MBIT         bottleneck rate per direction in Mbit/s (default unlimited)\n"
    "  --queue PKTS        bottleneck queue in packets, tail drop (default 100)\n"
    "  --cc ALGO           congestion control: cubic (default) or newreno\n"
    "  --dup P             probability a packet is duplicated (default 0)\n"
    "  --reorder P         probability a packet is held back --reorder-delay (default 0)\n"
    "  --delay MS          one-way delay in ms (default 10)\n"
    "  --jitter MS         extra uniform delay 0..MS (default 0)\n"
    "  --reorder-delay MS  hold-back for reordered packets (default 2 x delay)\n"
    "  --msl SEC           MSL of both stacks (default 1)\n"
    "  --time-limit SEC    virtual time allowed per run (default 600)\n"
    "  --counters          print the stacks' nonzero counters summed over the runs\n"
    "  --set KEY=VALUE     a stack setting for both stacks, as in tcpwave script (e.g.\n"
    "                      tlp=0, rack=0; see tcpwave script --help), up to 16\n"
    "  --trace             ladder diagram of every run on stderr\n"
    "  --pcap FILE         every delivered packet of every run into FILE (pcap), one run\n"
    "                      after another (lost packets are in --trace, not in the file)\n"
    "  -q, --quiet         only failures and the summary\n"
    "Output ends with 'N passed, M failed'; exit status 0 only if all passed.\n";

static int sim_usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "tcpwave: sim: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: %s\nTry 'tcpwave sim --help' for more information.\n", sim_usage);
    return TW_EXIT_USAGE;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int parse_prob(const char *arg, double *out)
{
    return tw_parse_double(arg, 0.0, 1.0, out);
}

int tw_sim_main(const tw_tool *t, int argc, char **argv)
{
    struct sim_opts o = {
        .runs = 20,
        .seed = 1,
        .bytes = 100000,
        .delay_ms = 10,
        .reorder_ms = -1,
        .msl = 1,
        .limit = 600,
        /* The global options that mean something here, given before the command. */
        .trace = t->trace,
        .pcap_path = t->host.pcap,
    };
    if (t->msl_given) {
        o.msl = (double)t->host.msl / 1e9;
    }
    enum {
        O_RUNS = 256,
        O_SEED,
        O_BYTES,
        O_LOSS,
        O_DUP,
        O_REORDER,
        O_DELAY,
        O_JITTER,
        O_RDELAY,
        O_MSL,
        O_LIMIT,
        O_TRACE,
        O_BURST,
        O_CORRUPT,
        O_ECN_MARK,
        O_RATE,
        O_QUEUE,
        O_CC,
        O_PCAP,
        O_SET,
        O_COUNTERS,
        O_TOOL_ONLY /* the TUN tool's --ecn and --fastopen: named, so refused by name */
    };
    static const struct option lo[] = {
        {"runs", required_argument, NULL, O_RUNS},
        {"seed", required_argument, NULL, O_SEED},
        {"bytes", required_argument, NULL, O_BYTES},
        {"loss", required_argument, NULL, O_LOSS},
        {"dup", required_argument, NULL, O_DUP},
        {"reorder", required_argument, NULL, O_REORDER},
        {"delay", required_argument, NULL, O_DELAY},
        {"jitter", required_argument, NULL, O_JITTER},
        {"reorder-delay", required_argument, NULL, O_RDELAY},
        {"msl", required_argument, NULL, O_MSL},
        {"time-limit", required_argument, NULL, O_LIMIT},
        {"trace", no_argument, NULL, O_TRACE},
        {"burst-loss", required_argument, NULL, O_BURST},
        {"corrupt", required_argument, NULL, O_CORRUPT},
        {"ecn-mark", required_argument, NULL, O_ECN_MARK},
        {"rate", required_argument, NULL, O_RATE},
        {"queue", required_argument, NULL, O_QUEUE},
        {"cc", required_argument, NULL, O_CC},
        {"pcap", required_argument, NULL, O_PCAP},
        {"set", required_argument, NULL, O_SET},
        {"counters", no_argument, NULL, O_COUNTERS},
        /* Without these, getopt_long took "--ecn 1" as an abbreviation of --ecn-mark:
           every packet marked CE, where the user asked for ECN connections. */
        {"ecn", required_argument, NULL, O_TOOL_ONLY},
        {"fastopen", no_argument, NULL, O_TOOL_ONLY},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":hq", lo, NULL)) != -1) {
        const char *arg = optarg;
        int bad = 0;
        switch (c) {
        case 'h':
            printf("usage: %s\n%s", sim_usage, sim_help);
            return TW_EXIT_OK;
        case 'q':
            o.quiet = true;
            break;
        case O_TRACE:
            o.trace = true;
            break;
        case O_PCAP: {
            const char *why = tw_pcap_path_problem(arg);
            if (why != NULL) {
                char msg[160];
                snprintf(msg, sizeof msg, "cannot write capture '%.80s': %s", arg, why);
                return sim_usage_error("%s", msg);
            }
            o.pcap_path = arg;
            break;
        }
        case O_RUNS:
            bad = tw_parse_uint(arg, 1, 100000000, &o.runs);
            break;
        case O_BYTES:
            bad = tw_parse_uint(arg, 0, 1ul << 34, &o.bytes);
            break;
        case O_SEED: {
            char *end;
            if (arg[0] < '0' || arg[0] > '9') {
                bad = -1;
                break;
            }
            errno = 0;
            o.seed = strtoull(arg, &end, 0);
            bad = *end != '\0' || errno == ERANGE ? -1 : 0; /* (not a saturated seed) */
            break;
        }
        case O_LOSS:
            bad = parse_prob(arg, &o.loss);
            break;
        case O_DUP:
            bad = parse_prob(arg, &o.dup);
            break;
        case O_REORDER:
            bad = parse_prob(arg, &o.reorder);
            break;
        case O_DELAY:
            bad = tw_parse_double(arg, 0, 3600e3, &o.delay_ms);
            break;
        case O_JITTER:
            bad = tw_parse_double(arg, 0, 3600e3, &o.jitter_ms);
            break;
        case O_RDELAY:
            bad = tw_parse_double(arg, 0, 3600e3, &o.reorder_ms);
            break;
        case O_MSL:
            bad = tw_parse_double(arg, 0.001, 3600, &o.msl);
            break;
        case O_LIMIT:
            bad = tw_parse_double(arg, 1, 1e7, &o.limit);
            break;
        case O_BURST:
            bad = parse_prob(arg, &o.burst_loss);
            break;
        case O_CORRUPT:
            bad = parse_prob(arg, &o.corrupt);
            break;
        case O_ECN_MARK:
            bad = parse_prob(arg, &o.ecn_mark);
            break;
        case O_RATE:
            bad = tw_parse_double(arg, 0.001, 1e6, &o.rate_mbit);
            break;
        case O_QUEUE:
            bad = tw_parse_uint(arg, 1, 1000000, &o.queue);
            break;
        case O_COUNTERS:
            o.counters = true;
            break;
        case O_SET: {
            tw_config scratch;
            uint16_t mtu = 1500;
            char err[128];
            tw_config_init(&scratch);
            if (o.nset == sizeof o.set / sizeof o.set[0]) {
                return sim_usage_error("%s", "too many --set options");
            }
            if (apply_set(&scratch, &mtu, arg, err, sizeof err) < 0) {
                char msg[200];
                snprintf(msg, sizeof msg, "--set %.60s: %.120s", arg, err);
                return sim_usage_error("%s", msg);
            }
            o.set[o.nset++] = arg;
            break;
        }
        case O_CC:
            if (!strcmp(arg, "cubic")) {
                o.cc = TW_CC_CUBIC;
            } else if (!strcmp(arg, "newreno")) {
                o.cc = TW_CC_NEWRENO;
            } else {
                bad = -1;
            }
            break;
        case O_TOOL_ONLY:
            return sim_usage_error("%s", "--ecn and --fastopen do not apply to sim: use "
                                         "--set ecn=N and --set fastopen=N");
        case ':':
            return sim_usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            return sim_usage_error("unknown option '%s'", argv[optind - 1]);
        }
        if (bad) {
            /* Name the option and what it takes: "bad value" alone leaves the user to
               guess which of several values was refused. */
            static const char *const want[] = {
                [O_RUNS - O_RUNS] = "a whole number from 1 to 100000000",
                [O_SEED - O_RUNS] = "a whole number below 2^64",
                [O_BYTES - O_RUNS] = "a whole number of bytes up to 2^34",
                [O_LOSS - O_RUNS] = "a probability from 0 to 1",
                [O_DUP - O_RUNS] = "a probability from 0 to 1",
                [O_REORDER - O_RUNS] = "a probability from 0 to 1",
                [O_DELAY - O_RUNS] = "milliseconds from 0 to 3600000",
                [O_JITTER - O_RUNS] = "milliseconds from 0 to 3600000",
                [O_RDELAY - O_RUNS] = "milliseconds from 0 to 3600000",
                [O_MSL - O_RUNS] = "seconds from 0.001 to 3600",
                [O_LIMIT - O_RUNS] = "seconds from 1 to 10000000",
                [O_BURST - O_RUNS] = "a probability from 0 to 1",
                [O_CORRUPT - O_RUNS] = "a probability from 0 to 1",
                [O_ECN_MARK - O_RUNS] = "a probability from 0 to 1",
                [O_RATE - O_RUNS] = "Mbit/s from 0.001 to 1000000",
                [O_QUEUE - O_RUNS] = "packets from 1 to 1000000",
                [O_CC - O_RUNS] = "cubic or newreno",
            };
            const char *name = "?", *w = NULL;
            for (const struct option *p = lo; p->name != NULL; p++) {
                if (p->val == c) {
                    name = p->name;
                }
            }
            if (c >= O_RUNS && (size_t)(c - O_RUNS) < sizeof want / sizeof want[0]) {
                w = want[c - O_RUNS];
            }
            char msg[200];
            snprintf(msg, sizeof msg, "--%s: bad value '%.60s'%s%s%s", name, arg,
                     w ? " (expected " : "", w ? w : "", w ? ")" : "");
            return sim_usage_error("%s", msg);
        }
    }
    if (optind != argc) {
        return sim_usage_error("unexpected argument '%s'", argv[optind]);
    }
    if (o.reorder_ms < 0) {
        o.reorder_ms = 2 * o.delay_ms;
    }
    snprintf(o.argline, sizeof o.argline,
             "--bytes %lu --loss %g --burst-loss %g --dup %g --reorder %g --corrupt %g "
             "--ecn-mark %g --delay %g --jitter %g --reorder-delay %g --rate %g --queue %lu "
             "--cc %s "
             "--msl %g --time-limit %g",
             o.bytes, o.loss, o.burst_loss, o.dup, o.reorder, o.corrupt, o.ecn_mark, o.delay_ms,
             o.jitter_ms,
             o.reorder_ms, o.rate_mbit, o.queue ? o.queue : 100ul,
             o.cc == TW_CC_NEWRENO ? "newreno" : "cubic", o.msl, o.limit);
    for (unsigned i = 0; i < o.nset; i++) {
        size_t l = strlen(o.argline);
        snprintf(o.argline + l, sizeof o.argline - l, " --set %s", o.set[i]);
    }
    if (o.pcap_path != NULL) {
        int prc = tw_pcap_open(&o.pcap, o.pcap_path);
        if (prc != 0) {
            fprintf(stderr, "tcpwave: sim: cannot write capture %s: %s\n", o.pcap_path,
                    strerror(-prc));
            return TW_EXIT_FAIL;
        }
        cap_base_ns = TW_SEC(1);
    }
    unsigned long passed = 0, failed = 0;
    /* The virtual times of the runs that passed, for the summary line. */
    double *times = calloc(o.runs, sizeof(double));
    double total_secs = 0;
    uint64_t total_retrans = 0;
    if (times == NULL) {
        fprintf(stderr, "tcpwave: sim: out of memory\n");
        return TW_EXIT_FAIL;
    }
    for (unsigned long i = 0; i < o.runs; i++) {
        uint64_t seed = o.seed + i;
        struct run_result r;
        run_one(&o, seed, &r);
        if (r.ok) {
            times[passed] = r.secs;
            total_secs += r.secs;
            total_retrans += r.retrans;
            passed++;
            if (!o.quiet) {
                printf("run %lu seed 0x%" PRIx64 ": ok  %" PRIu64 " B up, %" PRIu64
                       " B down in %.3f s virtual, %.2f Mbit/s, %" PRIu64
                       " retransmitted, client %s, server %s\n",
                       i + 1, seed, size_for(seed, 0, o.bytes), size_for(seed, 1, o.bytes), r.secs,
                       r.goodput_mbps, r.retrans, r.cstate, r.sstate);
            }
        } else {
            failed++;
            printf("run %lu seed 0x%" PRIx64 ": FAIL %s\n", i + 1, seed, r.why);
            printf("  repro: tcpwave sim --runs 1 --seed 0x%" PRIx64 " %s\n", seed, o.argline);
        }
        fflush(stdout);
    }
    if (o.pcap != NULL) {
        tw_pcap_close(o.pcap);
    }
    if (passed) {
        qsort(times, passed, sizeof(double), cmp_double);
        double median =
            passed % 2 ? times[passed / 2] : (times[passed / 2 - 1] + times[passed / 2]) / 2;
        printf("virtual time of the %lu passed runs: total %.3f s, median %.3f s, max %.3f s; "
               "%" PRIu64 " retransmitted\n",
               passed, total_secs, median, times[passed - 1], total_retrans);
    }
    free(times);
    for (int k = 0; o.counters && k < TW_CNT_COUNT_; k++) {
        if (o.cnt[k]) {
            printf("  %-28s %12" PRIu64 "  %s\n", tw_counter_name((enum tw_counter)k), o.cnt[k],
                   tw_counter_desc((enum tw_counter)k));
        }
    }
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed == 0 ? TW_EXIT_OK : TW_EXIT_FAIL;
}
