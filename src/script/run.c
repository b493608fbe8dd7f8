/*
 * run.c -- run a packetdrill-syntax script against one tcpwave stack on virtual time.
 *
 * Owns: the event loop, virtual time, the packets injected into the stack (`<`) and the
 * packets expected from it (`>`), tcpwave's `state` / `counter` / `deadline` lines,
 * recognised `sysctl` commands and `%{ assert tcpi_... }%` blocks, and the report.
 * System calls are in sys.c.
 *
 * Semantics follow packetdrill (google/packetdrill run.c, run_packet.c, socket.h):
 *  - time: the first event is at 0; `+x` is relative to when the previous event
 *    finished; an event is on time when it is within the tolerance: the larger of
 *    --tolerance_usecs (4 ms) and --tolerance_percent (12.5 %) of the time since the
 *    previous event. Here time is virtual, so inbound packets and calls happen exactly
 *    at their time and only the stack's output can be early or late.
 *  - sequence numbers are read as tcpdump prints them: in segments with SYN they are
 *    absolute, in the others relative to the ISN of their sender. Our ISN is learned
 *    from the first SYN or SYN+ACK the stack sends (after connect() or an inbound SYN);
 *    the remote ISN is the one the script's SYN or SYN+ACK carries. With
 *    --remote_seq=absolute the peer's numbers are read as written (packetdrill's own
 *    reading, which differs only when the script's peer ISN is not 0).
 *  - TS val: the first outbound value maps to the script's, later ones keep their
 *    distance (checked only with --tcp_ts_tick_usecs); an inbound TS ecr is translated
 *    back to the live value it echoes.
 *  - consecutive outbound segments may add up to one script line (unless
 *    --strict_segments).
 * Stricter than packetdrill, because virtual time makes it exact: a packet the stack
 * sends that no `>` line claims fails the script at the next event that is not an
 * outbound packet (when it was sent before that event's time) and at the end.
 */
#define _POSIX_C_SOURCE 200809L
#include "script/run.h"
/* The untraced run (--untraced) finds the connection under test in the stack's own tables,
   where a traced run follows the trace's events: the only reach into the core. */
#include "core/stack.h"
#include "core/tcp_conn.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- growing strings ------------------------------------------------------------------- */

void tw_sb_vprintf(tw_sb *sb, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        return;
    }
    if (sb->len + (size_t)n + 1 > sb->cap) {
        size_t cap = (sb->cap ? sb->cap * 2 : 256);
        while (cap < sb->len + (size_t)n + 1) {
            cap *= 2;
        }
        char *b = realloc(sb->buf, cap);
        if (b == NULL) {
            return;
        }
        sb->buf = b;
        sb->cap = cap;
    }
    vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
    sb->len += (size_t)n;
}

void tw_sb_printf(tw_sb *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tw_sb_vprintf(sb, fmt, ap);
    va_end(ap);
}

void tw_sb_free(tw_sb *sb)
{
    free(sb->buf);
    sb->buf = NULL;
    sb->len = sb->cap = 0;
}

/* ---- --set key=value ------------------------------------------------------------------- */

static int parse_duration(const char *v, tw_time *out)
{
    char *end = NULL;
    double x = strtod(v, &end);
    if (end == v || x < 0 || !isfinite(x)) {
        return -1;
    }
    double scale = 1e9; /* plain numbers are seconds, as in scripts */
    if (strcmp(end, "s") == 0 || *end == '\0') {
        scale = 1e9;
    } else if (strcmp(end, "ms") == 0) {
        scale = 1e6;
    } else if (strcmp(end, "us") == 0) {
        scale = 1e3;
    } else if (strcmp(end, "ns") == 0) {
        scale = 1;
    } else {
        return -1;
    }
    double ns = x * scale;
    if (ns > 1e18) {
        return -1;
    }
    *out = (tw_time)(ns + 0.5);
    return 0;
}

static int parse_uint(const char *v, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    if (*v == '-' || *v == '\0') {
        return -1;
    }
    unsigned long long x = strtoull(v, &end, 0);
    uint64_t mult = 1;
    if (end[0] == 'k' || end[0] == 'K') {
        mult = 1024;
        end++;
    } else if (end[0] == 'M') {
        mult = 1024 * 1024;
        end++;
    }
    if (*end != '\0' || x > max / mult) {
        return -1;
    }
    *out = (uint64_t)x * mult;
    return 0;
}

static int parse_bool(const char *v, bool *out)
{
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
        strcmp(v, "on") == 0) {
        *out = true;
    } else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0 || strcmp(v, "no") == 0 ||
               strcmp(v, "off") == 0) {
        *out = false;
    } else {
        return -1;
    }
    return 0;
}

typedef enum {
    K_DUR, K_U8, K_U32, K_SIZE, K_BOOL, K_NBOOL, K_MTU, K_COOKIES, K_CC, K_ECN
} key_kind;

typedef struct set_key {
    const char *name;
    key_kind kind;
    size_t off;
    const char *help;
} set_key;

#define CFG_OFF(f) offsetof(tw_config, f)

static const set_key set_keys[] = {
    {"msl", K_DUR, CFG_OFF(msl), "maximum segment lifetime; TIME-WAIT lasts 2*msl (30s)"},
    {"rto_initial", K_DUR, CFG_OFF(rto_initial), "initial RTO, RFC 6298 (1s)"},
    {"rto_min", K_DUR, CFG_OFF(rto_min), "RTO lower bound (200ms, Linux)"},
    {"rto_max", K_DUR, CFG_OFF(rto_max), "RTO upper bound (120s, Linux)"},
    {"fin_timeout", K_DUR, CFG_OFF(fin_timeout), "orphaned FIN-WAIT-2 lifetime (60s)"},
    {"syn_retries", K_U8, CFG_OFF(syn_retries), "SYN retransmissions (7)"},
    {"synack_retries", K_U8, CFG_OFF(synack_retries), "SYN+ACK retransmissions (5)"},
    {"retries", K_U8, CFG_OFF(retries),
     "data/FIN retries, as tcp_retries2 a time: N expiries from rto_min (15: 924.6s)"},
    {"orphan_retries", K_U8, CFG_OFF(orphan_retries), "FIN retransmissions of an orphan (8)"},
    {"max_connections", K_U32, CFG_OFF(max_connections), "live connections, 0 = no limit"},
    {"max_orphans", K_U32, CFG_OFF(max_orphans), "orphaned connections, 0 = no limit"},
    {"max_time_wait", K_U32, CFG_OFF(max_time_wait), "TIME-WAIT records, 0 = no limit"},
    {"rcvbuf", K_U32, CFG_OFF(rcvbuf), "default receive buffer, bytes (131072)"},
    {"sndbuf", K_U32, CFG_OFF(sndbuf), "default send buffer, bytes (131072)"},
    {"rcvbuf_max", K_U32, CFG_OFF(rcvbuf_max),
     "receive buffer auto-tuning's ceiling, bytes (6291456, Linux's tcp_rmem[2])"},
    {"sndbuf_max", K_U32, CFG_OFF(sndbuf_max),
     "send buffer auto-tuning's ceiling, bytes (4194304, Linux's tcp_wmem[2])"},
    {"moderate_rcvbuf", K_NBOOL, CFG_OFF(no_moderate_rcvbuf),
     "receive buffer auto-tuning, and the scale offered for its ceiling (1, Linux)"},
    {"sndbuf_expand", K_NBOOL, CFG_OFF(no_sndbuf_expand),
     "send buffer auto-tuning: twice the congestion window (1, Linux)"},
    {"challenge_ack_limit", K_U32, CFG_OFF(challenge_ack_limit),
     "challenge ACKs per second, stack-wide (4294967295: none)"},
    {"max_memory", K_SIZE, CFG_OFF(max_memory), "memory budget in bytes, 0 = no limit"},
    {"no_wscale", K_BOOL, CFG_OFF(no_wscale), "do not offer window scaling (0)"},
    {"no_sack", K_BOOL, CFG_OFF(no_sack), "do not offer SACK-permitted (0)"},
    {"no_timestamps", K_BOOL, CFG_OFF(no_timestamps), "do not offer timestamps (0)"},
    {"syncookies", K_COOKIES, CFG_OFF(syncookies),
     "SYN cookies: on_overflow (Linux's 1), always (2) or off (0)"},
    {"ecn", K_ECN, CFG_OFF(ecn),
     "ECN, RFC 3168: as net.ipv4.tcp_ecn, 1 ask and accept, 2 accept only (2), 0 off"},
    {"syn_backlog", K_U32, CFG_OFF(syn_backlog),
     "half-open connections per listener, 0 = the stack default (the backlog)"},
    {"cc", K_CC, CFG_OFF(cc), "congestion control: cubic or newreno"},
    {"keepalive_idle", K_DUR, CFG_OFF(keepalive_idle), "keepalive idle time (2h)"},
    {"keepalive_intvl", K_DUR, CFG_OFF(keepalive_intvl), "keepalive probe interval (75s)"},
    {"keepalive_probes", K_U8, CFG_OFF(keepalive_probes), "keepalive probes (9)"},
    {"invalid_ratelimit", K_DUR, CFG_OFF(invalid_ratelimit),
     "per connection, one ACK per this time for out-of-window segments and challenges (500ms)"},
    {"no_invalid_ratelimit", K_BOOL, CFG_OFF(no_invalid_ratelimit),
     "answer every out-of-window segment and challenge (0)"},
    {"initial_cwnd", K_U32, CFG_OFF(initial_cwnd), "initial window in segments (10)"},
    {"delayed_ack", K_DUR, CFG_OFF(delayed_ack),
     "delayed-ACK timer; 0 = ACK every segment (scripts run with 0)"},
    {"tlp", K_NBOOL, CFG_OFF(no_tlp),
     "tail loss probes, RFC 8985 7 (1, Linux's tcp_early_retrans=3)"},
    {"rack", K_NBOOL, CFG_OFF(no_rack),
     "RACK loss detection, RFC 8985 6 (1, Linux's tcp_recovery=1)"},
    {"retries_count", K_BOOL, CFG_OFF(retries_count),
     "retries/orphan_retries count retransmissions, not Linux's time model (0)"},
    {"undo", K_NBOOL, CFG_OFF(no_undo),
     "undo a recovery's reduction when D-SACKs show it spurious, RFC 3708 (1, Linux)"},
    {"prr", K_NBOOL, CFG_OFF(no_prr),
     "Proportional Rate Reduction in fast recovery, RFC 6937 PRR-SSRB (1, Linux)"},
    {"hystart", K_NBOOL, CFG_OFF(no_hystart),
     "HyStart++, RFC 9406: the initial slow start ends on an RTT rise (1; Linux's CUBIC: HyStart)"},
    {"mtu", K_MTU, 0, "MTU of the stack's link (1500; the MSS offered follows)"},
    {"ttl", K_U8, CFG_OFF(ttl), "IPv4 TTL of the packets sent (64, Linux's ip_default_ttl)"},
    {"tos", K_U8, CFG_OFF(tos), "DS field of the packets sent, DSCP << 2 (0; ECN keeps its bits)"},
    {"fastopen", K_U32, CFG_OFF(fastopen),
     "TCP Fast Open, Linux's tcp_fastopen bits: 1 client, 2 server, 0x200 server without "
     "cookie, 0x400 every listener (1)"},
    {"fastopen_cache", K_U32, CFG_OFF(fastopen_cache), "client Fast Open cookies kept (64)"},
};

int tw_sc_apply_setting(tw_config *cfg, uint16_t *mtu, const char *key, const char *value,
                        char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(set_keys) / sizeof(set_keys[0]); i++) {
        const set_key *k = &set_keys[i];
        if (strcmp(k->name, key) != 0) {
            continue;
        }
        char *field = (char *)cfg + k->off;
        uint64_t u;
        int rc = 0;
        switch (k->kind) {
        case K_DUR: {
            tw_time t;
            rc = parse_duration(value, &t);
            if (rc == 0) {
                memcpy(field, &t, sizeof(t));
            }
            break;
        }
        case K_U8:
            rc = parse_uint(value, UINT8_MAX, &u);
            if (rc == 0) {
                uint8_t v = (uint8_t)u;
                memcpy(field, &v, sizeof(v));
            }
            break;
        case K_U32:
            rc = parse_uint(value, UINT32_MAX, &u);
            if (rc == 0) {
                uint32_t v = (uint32_t)u;
                memcpy(field, &v, sizeof(v));
            }
            break;
        case K_SIZE:
            rc = parse_uint(value, SIZE_MAX, &u);
            if (rc == 0) {
                size_t v = (size_t)u;
                memcpy(field, &v, sizeof(v));
            }
            break;
        case K_BOOL:
        case K_NBOOL: { /* (K_NBOOL: a feature's switch kept as its no_ field) */
            bool b;
            rc = parse_bool(value, &b);
            if (rc == 0) {
                b = k->kind == K_NBOOL ? !b : b;
                memcpy(field, &b, sizeof(b));
            }
            break;
        }
        case K_COOKIES: {
            uint8_t v = 0;
            if (strcmp(value, "on_overflow") == 0 || strcmp(value, "1") == 0) {
                v = TW_SYNCOOKIES_ON_OVERFLOW;
            } else if (strcmp(value, "always") == 0 || strcmp(value, "2") == 0) {
                v = TW_SYNCOOKIES_ALWAYS;
            } else if (strcmp(value, "off") == 0 || strcmp(value, "0") == 0) {
                v = TW_SYNCOOKIES_OFF;
            } else {
                rc = -1;
            }
            if (rc == 0) {
                memcpy(field, &v, sizeof(v));
            }
            break;
        }
        case K_ECN: {
            /* Linux's values (net.ipv4.tcp_ecn) to TW_ECN_* */
            uint8_t v = 0;
            if (strcmp(value, "2") == 0) {
                v = TW_ECN_PASSIVE;
            } else if (strcmp(value, "1") == 0) {
                v = TW_ECN_ON;
            } else if (strcmp(value, "0") == 0) {
                v = TW_ECN_OFF;
            } else {
                rc = -1;
            }
            if (rc == 0) {
                memcpy(field, &v, sizeof(v));
            }
            break;
        }
        case K_CC: {
            tw_cc_algo a = TW_CC_CUBIC;
            if (strcmp(value, "cubic") == 0) {
                a = TW_CC_CUBIC;
            } else if (strcmp(value, "newreno") == 0 || strcmp(value, "reno") == 0) {
                a = TW_CC_NEWRENO;
            } else {
                rc = -1;
            }
            if (rc == 0) {
                memcpy(field, &a, sizeof(a));
            }
            break;
        }
        case K_MTU:
            rc = parse_uint(value, 65535, &u);
            if (rc == 0 && u < 576) {
                rc = -1;
            }
            if (rc == 0) {
                *mtu = (uint16_t)u;
            }
            break;
        }
        if (rc < 0) {
            snprintf(err, errlen, "bad value '%s' for %s", value, key);
            return -1;
        }
        if (k->off == CFG_OFF(delayed_ack) && k->kind == K_DUR) {
            cfg->no_delayed_ack = (cfg->delayed_ack == 0);
        }
        return 0;
    }
    snprintf(err, errlen, "unknown setting '%s' (see --help)", key);
    return -1;
}

void tw_sc_settings_help(FILE *f)
{
    for (size_t i = 0; i < sizeof(set_keys) / sizeof(set_keys[0]); i++) {
        fprintf(f, "    %-20s %s\n", set_keys[i].name, set_keys[i].help);
    }
    fprintf(f, "  Durations take s, ms, us or ns (plain numbers are seconds); sizes take k, M.\n");
}

/* ---- reports --------------------------------------------------------------------------- */

int64_t sc_now_us(const sc_runner *r)
{
    return (int64_t)((r->clock - r->base) / 1000u);
}

static tw_time vt(const sc_runner *r, int64_t us)
{
    if (us < 0) {
        return r->base;
    }
    return r->base + (tw_time)us * 1000u;
}

static void put_secs(tw_sb *sb, int64_t us)
{
    if (us < 0) {
        tw_sb_printf(sb, "-%" PRId64 ".%06" PRId64, (-us) / 1000000, (-us) % 1000000);
    } else {
        tw_sb_printf(sb, "%" PRId64 ".%06" PRId64, us / 1000000, us % 1000000);
    }
}

static void report_line(sc_runner *r, int line)
{
    if (line > 0) {
        const char *txt = tw_sc_line_text(r->s, line);
        while (*txt == ' ' || *txt == '\t') {
            txt++;
        }
        tw_sb_printf(&r->res->report, "  line %d: %s\n", line, txt);
    }
}

int sc_fail(sc_runner *r, int line, const char *fmt, ...)
{
    if (r->stop) {
        return -1;
    }
    r->stop = true;
    r->res->verdict = TW_SC_FAIL;
    report_line(r, line);
    tw_sb_printf(&r->res->report, "    ");
    va_list ap;
    va_start(ap, fmt);
    tw_sb_vprintf(&r->res->report, fmt, ap);
    va_end(ap);
    tw_sb_printf(&r->res->report, "\n");
    return -1;
}

int sc_skip(sc_runner *r, int line, const char *fmt, ...)
{
    if (r->stop) {
        return -1;
    }
    r->stop = true;
    r->res->verdict = TW_SC_SKIP;
    if (line > 0) {
        tw_sb_printf(&r->res->report, "line %d: ", line);
    }
    va_list ap;
    va_start(ap, fmt);
    tw_sb_vprintf(&r->res->report, fmt, ap);
    va_end(ap);
    return -1;
}

static void note(sc_runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(sc_runner *r, const char *fmt, ...)
{
    tw_sb_printf(&r->res->notes, "  note: ");
    va_list ap;
    va_start(ap, fmt);
    tw_sb_vprintf(&r->res->notes, fmt, ap);
    va_end(ap);
    tw_sb_printf(&r->res->notes, "\n");
}

static void flags_str(uint8_t f, char *buf)
{
    static const struct {
        uint8_t bit;
        char c;
    } order[] = {{TW_FIN, 'F'}, {TW_SYN, 'S'}, {TW_RST, 'R'}, {TW_PSH, 'P'},
                 {TW_URG, 'U'}, {TW_ECE, 'E'}, {TW_CWR, 'W'}};
    size_t n = 0;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (f & order[i].bit) {
            buf[n++] = order[i].c;
        }
    }
    if (f & TW_ACK) {
        buf[n++] = '.';
    }
    if (n == 0) {
        buf[n++] = '-';
    }
    buf[n] = '\0';
}

/* ---- sequence-number mapping ----------------------------------------------------------- */

/* Script -> live offset for ack numbers (and SACK blocks) of inbound segments, which
   count our bytes: absolute in SYNs, relative to our ISN otherwise. */
static uint32_t local_offset(const sc_flow *f, bool syn)
{
    if (f == NULL || !f->local_isn_known) {
        return 0;
    }
    return syn ? f->live_local_isn - f->script_local_isn : f->live_local_isn;
}

/* `ack` acknowledges the injected SYN whose ISN is not settled yet: its sequence number
   plus one, or (RFC 7413 4.2, a Fast Open SYN's data taken) up to its end. */
static bool acks_remote_cand(const sc_flow *f, uint32_t ack)
{
    return f->remote_cand_pending && ack - (f->remote_cand + 1u) <= f->remote_cand_len;
}

static uint32_t remote_offset(const sc_flow *f, bool syn)
{
    if (f == NULL || !f->remote_isn_known || syn || f->remote_literal) {
        return 0;
    }
    return f->remote_isn;
}

/* Our sequence number in script space (literal before we know our ISN). */
static uint32_t local_seq_to_script(const sc_flow *f, uint32_t live, bool syn)
{
    if (f == NULL || !f->local_isn_known) {
        return live;
    }
    return syn ? live - (f->live_local_isn - f->script_local_isn) : live - f->live_local_isn;
}

static sc_flow *flow_find(const sc_runner *r, uint16_t lport, uint16_t rport)
{
    for (size_t i = 0; i < r->n_flows; i++) {
        if (r->flows[i]->lport == lport && r->flows[i]->rport == rport) {
            return r->flows[i];
        }
    }
    return NULL;
}

sc_flow *sc_flow_get(sc_runner *r, uint16_t lport, uint16_t rport)
{
    sc_flow *f = flow_find(r, lport, rport);
    if (f != NULL) {
        return f;
    }
    sc_flow **fl = realloc(r->flows, (r->n_flows + 1) * sizeof(*fl));
    if (fl == NULL) {
        return NULL;
    }
    r->flows = fl;
    f = calloc(1, sizeof(*f));
    if (f == NULL) {
        return NULL;
    }
    f->lport = lport;
    f->rport = rport;
    f->remote_literal = r->remote_seq_absolute;
    r->flows[r->n_flows++] = f;
    return f;
}

static uint32_t ts_val_to_script(const sc_runner *r, uint32_t live)
{
    if (!r->ts_first) {
        return live;
    }
    return r->ts_first_script + (live - r->ts_first_live);
}

/* ---- formatting packets ---------------------------------------------------------------- */

static void fmt_opts(const sc_runner *r, const sc_flow *f, const tw_wire_tcp *w,
                     bool outbound, tw_sb *sb)
{
    tw_wire_opt o[TW_WIRE_MAX_OPTS];
    int n = tw_wire_opts_decode(w->opts, w->opts_len, o, TW_WIRE_MAX_OPTS);
    if (w->opts_len == 0) {
        return;
    }
    if (n < 0) {
        tw_sb_printf(sb, " <malformed options>");
        return;
    }
    bool syn = (w->flags & TW_SYN) != 0;
    tw_sb_printf(sb, " <");
    for (int i = 0; i < n; i++) {
        const uint8_t *d = o[i].data;
        if (i > 0) {
            tw_sb_printf(sb, ",");
        }
        switch (o[i].kind) {
        case 0:
            tw_sb_printf(sb, "eol");
            break;
        case 1:
            tw_sb_printf(sb, "nop");
            break;
        case 2:
            if (o[i].len == 4) {
                tw_sb_printf(sb, "mss %u", (unsigned)((d[0] << 8) | d[1]));
                break;
            }
            goto unknown;
        case 3:
            if (o[i].len == 3) {
                tw_sb_printf(sb, "wscale %u", d[0]);
                break;
            }
            goto unknown;
        case 4:
            if (o[i].len == 2) {
                tw_sb_printf(sb, "sackOK");
                break;
            }
            goto unknown;
        case 5:
            if (o[i].len >= 10 && (o[i].len - 2) % 8 == 0) {
                tw_sb_printf(sb, "sack");
                uint32_t off = outbound ? remote_offset(f, syn) : local_offset(f, syn);
                for (int b = 0; b < (o[i].len - 2) / 8; b++) {
                    const uint8_t *e = d + 8 * b;
                    uint32_t le = ((uint32_t)e[0] << 24) | ((uint32_t)e[1] << 16) |
                                  ((uint32_t)e[2] << 8) | e[3];
                    uint32_t re = ((uint32_t)e[4] << 24) | ((uint32_t)e[5] << 16) |
                                  ((uint32_t)e[6] << 8) | e[7];
                    tw_sb_printf(sb, " %u:%u", le - off, re - off);
                }
                break;
            }
            goto unknown;
        case 8:
            if (o[i].len == 10) {
                uint32_t val = ((uint32_t)d[0] << 24) | ((uint32_t)d[1] << 16) |
                               ((uint32_t)d[2] << 8) | d[3];
                uint32_t ecr = ((uint32_t)d[4] << 24) | ((uint32_t)d[5] << 16) |
                               ((uint32_t)d[6] << 8) | d[7];
                tw_sb_printf(sb, "TS val %u ecr %u", outbound ? ts_val_to_script(r, val) : val,
                             ecr);
                break;
            }
            goto unknown;
        case 34:
        case 254:
            /* TCP Fast Open (RFC 7413 4.1.1), as packetdrill writes it: FO or FOEXP and the
               cookie in hex, nothing for a request */
            if (o[i].kind == 254 && (o[i].len < 4 || d[0] != 0xf9 || d[1] != 0x89)) {
                goto unknown;
            }
            tw_sb_printf(sb, o[i].kind == 34 ? "FO" : "FOEXP");
            for (int b = o[i].kind == 34 ? 0 : 2; b < o[i].len - 2; b++) {
                tw_sb_printf(sb, b == (o[i].kind == 34 ? 0 : 2) ? " %02x" : "%02x", d[b]);
            }
            break;
        default:
        unknown:
            tw_sb_printf(sb, "opt%u len %u", o[i].kind, o[i].len);
            break;
        }
    }
    tw_sb_printf(sb, ">");
}

/* A packet the stack sent, in script space, then its absolute fields. */
static void fmt_out(const sc_runner *r, const tw_wire_tcp *w, tw_sb *sb)
{
    char fl[12];
    flags_str(w->flags, fl);
    bool syn = (w->flags & TW_SYN) != 0;
    const sc_flow *f = flow_find(r, w->sport, w->dport);
    uint32_t seq = local_seq_to_script(f, w->seq, syn);
    tw_sb_printf(sb, "> %s %u:%u(%zu)", fl, seq, (uint32_t)(seq + w->payload_len),
                 w->payload_len);
    if (w->flags & TW_ACK) {
        uint32_t off = remote_offset(f, syn);
        if (!syn && f != NULL && acks_remote_cand(f, w->ack)) {
            off = f->remote_cand; /* acknowledges a SYN whose ISN is not settled yet */
        }
        tw_sb_printf(sb, " ack %u", w->ack - off);
    }
    tw_sb_printf(sb, " win %u", w->win);
    if ((w->flags & TW_URG) || w->urg != 0) {
        tw_sb_printf(sb, " urg %u", w->urg);
    }
    fmt_opts(r, f, w, true, sb);
    char a[20], b[20];
    tw_wire_format_addr(w->saddr, a, sizeof(a));
    tw_wire_format_addr(w->daddr, b, sizeof(b));
    tw_sb_printf(sb, "   [%s:%u > %s:%u seq %u ack %u]", a, w->sport, b, w->dport, w->seq,
                 w->ack);
}

static void fmt_raw_packet(const uint8_t *p, size_t len, tw_sb *sb)
{
    tw_sb_printf(sb, "%zu bytes:", len);
    for (size_t i = 0; i < len && i < 64; i++) {
        tw_sb_printf(sb, "%s%02x", (i % 4 == 0) ? " " : "", p[i]);
    }
    if (len > 64) {
        tw_sb_printf(sb, " ...");
    }
}

/* One queued output packet, formatted (parsed if possible). */
static void fmt_queued(const sc_runner *r, const sc_outpkt *q, tw_sb *sb)
{
    tw_wire_tcp w;
    char why[128];
    put_secs(sb, (int64_t)((q->t - r->base) / 1000u));
    tw_sb_printf(sb, " ");
    if (tw_wire_parse(q->data, q->len, &w, why, sizeof(why)) == 0) {
        fmt_out(r, &w, sb);
    } else {
        tw_sb_printf(sb, "(%s) ", why);
        fmt_raw_packet(q->data, q->len, sb);
    }
}

static const char *trace_kind_name(tw_trace_kind k)
{
    switch (k) {
    case TW_TRACE_SEG_IN: return "SEG_IN ";
    case TW_TRACE_SEG_OUT: return "SEG_OUT";
    case TW_TRACE_STATE: return "STATE  ";
    case TW_TRACE_DROP: return "DROP   ";
    case TW_TRACE_TIMER: return "TIMER  ";
    }
    return "?      ";
}

static const char *timer_name(tw_timer_kind k)
{
    switch (k) {
    case TW_TIMER_NONE: return "none";
    case TW_TIMER_RTO: return "RTO";
    case TW_TIMER_TIME_WAIT: return "TIME-WAIT";
    case TW_TIMER_ORPHAN: return "ORPHAN";
    default: return "timer"; /* kinds added with later features print generically */
    }
}

static void dump_trace(sc_runner *r)
{
    tw_sb *sb = &r->res->report;
    size_t want = r->o->trace_lines > 0 ? (size_t)r->o->trace_lines : 0;
    if (r->o->untraced) {
        if (want > 0) {
            tw_sb_printf(sb, "  (untraced run: no trace events; run without --untraced to "
                             "see them)\n");
        }
        return;
    }
    size_t n = r->ring_n < want ? r->ring_n : want;
    if (n == 0) {
        return;
    }
    tw_sb_printf(sb, "  last %zu trace events (oldest first):\n", n);
    for (size_t i = 0; i < n; i++) {
        size_t idx = (r->ring_pos + TW_SC_RING - n + i) % TW_SC_RING;
        const tw_trace_event *e = &r->ring[idx];
        tw_sb_printf(sb, "    ");
        put_secs(sb, e->now >= r->base ? (int64_t)((e->now - r->base) / 1000u) : 0);
        tw_sb_printf(sb, " conn %-3" PRIu64 " %s ", e->conn_id, trace_kind_name(e->kind));
        switch (e->kind) {
        case TW_TRACE_STATE:
            tw_sb_printf(sb, "%s -> %s", tw_state_name(e->old_state), tw_state_name(e->new_state));
            break;
        case TW_TRACE_TIMER:
            tw_sb_printf(sb, "%s (%s)", timer_name(e->timer), tw_state_name(e->new_state));
            break;
        case TW_TRACE_DROP:
        case TW_TRACE_SEG_IN:
        case TW_TRACE_SEG_OUT: {
            const tw_seg_summary *g = &e->seg;
            if (e->kind == TW_TRACE_DROP) {
                tw_sb_printf(sb, "%s", tw_counter_name(e->counter));
                if (g->sport == 0 && g->dport == 0 && g->flags == 0) {
                    break; /* dropped below TCP: no segment to show */
                }
                tw_sb_printf(sb, " ");
            }
            char fl[12];
            flags_str(g->flags, fl);
            bool out = (e->kind == TW_TRACE_SEG_OUT);
            uint32_t sbase = out ? e->iss : e->irs;
            uint32_t abase = out ? e->irs : e->iss;
            tw_sb_printf(sb, "%s seq %u ack %u len %u win %u", fl,
                         sbase ? g->seq - sbase : g->seq,
                         (g->flags & TW_ACK) && abase ? g->ack - abase : g->ack, g->len,
                         g->win);
            if (g->retransmit) {
                tw_sb_printf(sb, " (retransmit)");
            }
            if (g->ip_ecn == 2 || g->ip_ecn == 3) {
                tw_sb_printf(sb, g->ip_ecn == 3 ? " [ce]" : " [ect0]"); /* RFC 3168 5 */
            }
            if (e->kind != TW_TRACE_DROP) {
                tw_sb_printf(sb, "  [%s]", tw_state_name(e->new_state));
            }
            break;
        }
        }
        tw_sb_printf(sb, "\n");
    }
}

/* ---- hooks ----------------------------------------------------------------------------- */

static sc_conn *conn_by_id(sc_runner *r, uint64_t id)
{
    for (size_t i = 0; i < r->n_conns; i++) {
        if (r->conns[i].id == id) {
            return &r->conns[i];
        }
    }
    sc_conn *c = realloc(r->conns, (r->n_conns + 1) * sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    r->conns = c;
    sc_conn *n = &r->conns[r->n_conns++];
    memset(n, 0, sizeof(*n));
    n->id = id;
    n->state = TW_STATE_CLOSED;
    return n;
}

/* A timer fired at virtual time `now`: the claim of a `deadline` line meets the first
   one. Called from a hook, which may not call back into the stack, so it only notes the
   outcome (check_claim reports it). */
static void timer_fired(sc_runner *r, tw_time now)
{
    if (!r->claim_active || r->claim_failed) {
        return;
    }
    int64_t t = now >= r->base ? (int64_t)((now - r->base) / 1000u) : 0;
    r->claim_active = false;
    if (t < r->claim_us - r->claim_tol || t > r->claim_us + r->claim_tol) {
        r->claim_failed = true;
        r->claim_fired_us = t;
    }
}

static void on_trace(const tw_trace_event *ev, void *ud)
{
    sc_runner *r = ud;
    if (ev->kind == TW_TRACE_TIMER) {
        timer_fired(r, ev->now);
    }
    r->ring[r->ring_pos] = *ev;
    r->ring[r->ring_pos].sock = NULL; /* may be freed later: never dereferenced */
    r->ring_pos = (r->ring_pos + 1) % TW_SC_RING;
    if (r->ring_n < TW_SC_RING) {
        r->ring_n++;
    }
    if (ev->conn_id == 0) {
        return;
    }
    sc_conn *c = conn_by_id(r, ev->conn_id);
    if (c == NULL) {
        return;
    }
    if (ev->kind == TW_TRACE_SEG_OUT && !c->ports_known) {
        c->lport = ev->seg.sport;
        c->rport = ev->seg.dport;
        c->ports_known = true;
    } else if (ev->kind == TW_TRACE_SEG_IN && !c->ports_known) {
        c->lport = ev->seg.dport;
        c->rport = ev->seg.sport;
        c->ports_known = true;
    }
    if (ev->kind == TW_TRACE_STATE || ev->kind == TW_TRACE_SEG_IN ||
        ev->kind == TW_TRACE_SEG_OUT || ev->kind == TW_TRACE_TIMER) {
        c->state = ev->new_state;
    }
    c->touched = ++r->touch;
}

static int on_transmit(const uint8_t *pkt, size_t len, void *ud)
{
    sc_runner *r = ud;
    if (r->q_head + r->q_len == r->q_cap) {
        if (r->q_head > 0) {
            memmove(r->q, r->q + r->q_head, r->q_len * sizeof(*r->q));
            r->q_head = 0;
        }
        if (r->q_len == r->q_cap) {
            size_t cap = r->q_cap ? r->q_cap * 2 : 16;
            sc_outpkt *q = realloc(r->q, cap * sizeof(*q));
            if (q == NULL) {
                return -1;
            }
            r->q = q;
            r->q_cap = cap;
        }
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL) {
        return -1;
    }
    memcpy(copy, pkt, len);
    sc_outpkt *o = &r->q[r->q_head + r->q_len++];
    o->data = copy;
    o->len = len;
    o->t = r->clock;
    return 0;
}

static sc_outpkt *q_peek(sc_runner *r)
{
    return r->q_len ? &r->q[r->q_head] : NULL;
}

static void q_pop(sc_runner *r)
{
    if (r->q_len == 0) {
        return;
    }
    free(r->q[r->q_head].data);
    r->q_head++;
    r->q_len--;
    if (r->q_len == 0) {
        r->q_head = 0;
    }
}

/* The connection the script talks to: the one on our 4-tuple most recently heard of. */
static sc_conn *conn_under_test(sc_runner *r)
{
    sc_conn *best = NULL;
    for (size_t i = 0; i < r->n_conns; i++) {
        sc_conn *c = &r->conns[i];
        if (c->ports_known && c->lport == r->lport && c->rport == r->rport &&
            (best == NULL || c->touched > best->touched)) {
            best = c;
        }
    }
    return best;
}

/* The state of the connection on our 4-tuple, looked up in the stack's tables: an
   untraced run has no events to follow. A connection (its socket), a TIME-WAIT record or a
   half-open entry; false when the stack has none. Called between stack calls only. */
static bool untraced_conn_state(sc_runner *r, tw_state *out)
{
    uint64_t key = tw_tuple_key(r->raddr, r->rport, r->lport);
    tw_hnode *n = tw_htab_find(&r->st->conns, key);
    if (n != NULL && tw_hnode_is_req(n)) {
        *out = TW_STATE_SYN_RCVD; /* (a half-open entry: the table holds both) */
        return true;
    }
    if (n != NULL) {
        /* (tw_socket begins with its hash node: tcp_conn.h) */
        *out = tw_socket_state((const tw_socket *)(void *)n);
        return true;
    }
    if (tw_timewait_find(r->st, key) != NULL) {
        *out = TW_STATE_TIME_WAIT;
        return true;
    }
    return false;
}

/*
 * Fill the C stack below the caller's frame with a pattern before each call that runs a
 * packet or a timer: a step that reads a local the fast path left unwritten (a tw_tcp_hdr
 * field tw_tcp_parse_usual_part does not fill, like the ports the port-0 RST of ff25b8a
 * read) then reads the pattern, and the script fails. Otherwise it reads what the
 * previous packet's frame left in the same place, most often the right value, and the
 * bug passes unseen (ASan does not see uninitialised reads).
 */
static __attribute__((noinline)) void poison_c_stack(void)
{
    uint8_t pad[16384];
    memset(pad, 0xa5, sizeof(pad));
    /* (the stores are kept: the compiler is told the array is read) */
    __asm__ volatile("" : : "r"(pad) : "memory");
}

/*
 * What an untraced run sees of a timer firing, for `deadline` claims: the counters only a
 * timer moves (every connection timer that traces TIMER counts one: RTO, persist and
 * keepalive probes or their timeouts, the delayed ACK, the orphan reaper, TIME-WAIT
 * records' expiry) and connections freed (a TIME-WAIT socket's 2*MSL counts none). A
 * held ACK leaving at the end of a turn moves none of them. A timer that fires unseen
 * fails the claim ("none fired"), it never passes one.
 */
static uint64_t timer_signs(const sc_runner *r)
{
    static const enum tw_counter k[] = {
        TW_CNT_TCP_RTO_FIRED,       TW_CNT_TCP_PERSIST_PROBE,      TW_CNT_TCP_KEEPALIVE_PROBE,
        TW_CNT_TCP_KEEPALIVE_TIMEDOUT, TW_CNT_TCP_CONN_TIMEDOUT,   TW_CNT_TCP_USER_TIMEDOUT,
        TW_CNT_TCP_DELAYED_ACK,     TW_CNT_TCP_ORPHAN_REAPED,      TW_CNT_TCP_TW_RECYCLED_TIMEOUT,
    };
    uint64_t n = 0;
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        n += tw_stack_counter(r->st, k[i]);
    }
    return n;
}

/* tw_stack_on_timeout at r->clock; an untraced run notes a timer that fired by the
   signs above (a traced one by its TIMER events). */
static void stack_on_timeout(sc_runner *r)
{
    if (!r->o->untraced || !r->claim_active) {
        poison_c_stack();
        tw_stack_on_timeout(r->st, r->clock);
        return;
    }
    uint64_t signs = timer_signs(r);
    size_t conns = tw_stack_conn_count(r->st);
    poison_c_stack();
    tw_stack_on_timeout(r->st, r->clock);
    if (timer_signs(r) != signs || tw_stack_conn_count(r->st) < conns) {
        timer_fired(r, r->clock);
    }
}

/* ---- time ------------------------------------------------------------------------------ */

static void poll_pending(sc_runner *r);

/* Run the stack's timers up to virtual time `until` (inclusive); if `stop_on_output`,
   return as soon as the stack has sent something. Returns true when output is queued. */
static bool run_until(sc_runner *r, tw_time until, bool stop_on_output)
{
    unsigned same = 0;
    for (unsigned iter = 0; iter < 1000000u && !r->stop; iter++) {
        if (stop_on_output && r->q_len > 0) {
            return true;
        }
        tw_time d = tw_stack_next_deadline(r->st);
        if (r->pend.active && r->pend.ctx.wake && r->pend.ctx.wake < d) {
            d = r->pend.ctx.wake; /* a poll()'s timeout: on_timeout early is harmless */
        }
        if (d == TW_TIME_NEVER || d > until) {
            break;
        }
        if (d <= r->clock) {
            /* "Call now": harmless if early, but it must make progress. */
            if (++same > 10000u) {
                sc_fail(r, 0, "the stack keeps asking for on_timeout at %" PRIu64
                              " ns without making progress",
                        r->clock);
                return r->q_len > 0;
            }
        } else {
            same = 0;
            r->clock = d;
        }
        stack_on_timeout(r);
        poll_pending(r);
    }
    if (stop_on_output && r->q_len > 0) {
        return true;
    }
    if (!r->stop && r->clock < until) {
        r->clock = until;
    }
    return r->q_len > 0;
}

void sc_sut_new(sc_runner *r)
{
    r->sut_kind = 1;
    r->sut_listening = false;
}

void sc_sut_set(sc_runner *r, uint16_t lport, uint16_t rport)
{
    r->sut_kind = 2;
    r->sut_listening = false;
    r->sut_lport = lport;
    r->sut_rport = rport;
}

/* packetdrill compares the packets of its socket under test only (the latest socket(),
   connect(), accept() or passive open) and passes over the others, such as the ACK or
   FIN of an earlier connection a script does not list. Without --strict-end the runner
   does likewise (with it, tcpwave's own suite, every packet must be claimed). */
static void drop_foreign(sc_runner *r)
{
    if (r->o->strict_end || r->sut_kind == 0) {
        return;
    }
    sc_outpkt *q;
    while ((q = q_peek(r)) != NULL) {
        tw_wire_tcp w;
        char why[160];
        if (tw_wire_parse(q->data, q->len, &w, why, sizeof(why)) < 0) {
            return; /* (expect_outbound reports it) */
        }
        if (r->sut_kind == 2 && w.sport == r->sut_lport && w.dport == r->sut_rport) {
            return;
        }
        if (r->sut_kind == 1 && (w.flags & TW_SYN) && !(w.flags & TW_ACK) &&
            r->connect_pending) {
            return; /* (the new socket's own SYN) */
        }
        r->foreign_pkts++;
        q_pop(r);
    }
}

/* run_until for a '>' line: a packet of the socket under test sent by `limit`. */
static bool run_until_own(sc_runner *r, tw_time limit)
{
    for (;;) {
        if (!run_until(r, limit, true)) {
            return false;
        }
        drop_foreign(r);
        if (r->q_len > 0 || r->stop) {
            return r->q_len > 0;
        }
    }
}

/* Fail if the stack sent something before script time t_us that no line claimed. */
static int check_unclaimed(sc_runner *r, int line, int64_t t_us)
{
    if (!r->o->strict_end && r->sut_kind != 0) {
        /* packetdrill looks at what was sent only at its next '>' line, and then at
           the socket under test's packets only: they wait for that line */
        drop_foreign(r);
        return 0;
    }
    sc_outpkt *q = q_peek(r);
    if (q == NULL || q->t >= vt(r, t_us)) {
        return 0;
    }
    tw_sb sb = {0};
    fmt_queued(r, q, &sb);
    sc_fail(r, line, "the stack sent a packet the script does not expect before this line:\n"
                     "    actual:   %s",
            sb.buf ? sb.buf : "");
    tw_sb_free(&sb);
    return -1;
}

/* The tolerance for an event at t_us: packetdrill's rule. */
static int64_t tolerance(const sc_runner *r, int64_t t_us)
{
    int64_t tol = r->tol_us;
    if (r->have_prev) {
        int64_t delta = t_us - r->prev_event_us;
        int64_t dyn = (int64_t)(r->tol_pct / 100.0 * (double)delta);
        if (dyn > tol) {
            tol = dyn;
        }
    }
    return tol;
}

/* ---- inbound packets ------------------------------------------------------------------- */

static int ts_ecr_to_live(sc_runner *r, int line, uint32_t script_ecr, uint32_t *live)
{
    for (size_t i = r->ts_n; i-- > 0;) {
        if (r->ts_map[i][0] == script_ecr) {
            *live = r->ts_map[i][1];
            return 0;
        }
    }
    if (r->ts_ecr_scaled && r->ts_first) {
        *live = script_ecr - r->ts_first_script + r->ts_first_live;
        return 0;
    }
    return sc_fail(r, line, "unable to infer live TS ecr for script TS ecr %u; no matching or "
                            "preceding outbound TS val",
                   script_ecr);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int encode_opts(sc_runner *r, const sc_flow *fl, int line, const tw_sc_packet *p,
                       uint8_t *buf, size_t *len)
{
    bool syn = (p->flags & TW_SC_F_SYN) != 0;
    size_t n = 0;
    for (size_t i = 0; i < p->n_opts; i++) {
        const tw_sc_opt *o = &p->opts[i];
        uint8_t tmp[40];
        size_t l = 0;
        switch (o->kind) {
        case TW_SC_O_EOL:
        case TW_SC_O_NOP:
            tmp[l++] = (uint8_t)o->kind;
            break;
        case TW_SC_O_MSS:
            tmp[l++] = 2;
            tmp[l++] = 4;
            tmp[l++] = (uint8_t)(o->v1 >> 8);
            tmp[l++] = (uint8_t)o->v1;
            break;
        case TW_SC_O_WSCALE:
            if (o->wild) {
                return sc_fail(r, line, "wscale * can only be used with outbound packets");
            }
            tmp[l++] = 3;
            tmp[l++] = 3;
            tmp[l++] = (uint8_t)o->v1;
            break;
        case TW_SC_O_SACKOK:
            tmp[l++] = 4;
            tmp[l++] = 2;
            break;
        case TW_SC_O_SACK: {
            uint32_t off = local_offset(fl, syn);
            tmp[l++] = 5;
            tmp[l++] = (uint8_t)(2 + 8 * o->n_sack);
            for (int b = 0; b < o->n_sack; b++) {
                put_be32(tmp + l, o->sack[b][0] + off);
                put_be32(tmp + l + 4, o->sack[b][1] + off);
                l += 8;
            }
            break;
        }
        case TW_SC_O_TS: {
            uint32_t ecr = o->v2;
            /* (an echo of 0 is sent as it is: "no echo", RFC 7323 3.2, which a SYN+ACK
               may carry; conf/synack_ts_ecr_taken.pkt) */
            if ((p->flags & TW_SC_F_ACK) && ecr != 0 && ts_ecr_to_live(r, line, o->v2, &ecr) < 0) {
                return -1;
            }
            tmp[l++] = 8;
            tmp[l++] = 10;
            put_be32(tmp + l, o->v1);
            put_be32(tmp + l + 4, ecr);
            l += 8;
            break;
        }
        case TW_SC_O_MD5:
            tmp[l++] = 19;
            tmp[l++] = (uint8_t)(2 + o->n_bytes);
            memcpy(tmp + l, o->bytes, o->n_bytes);
            l += o->n_bytes;
            break;
        case TW_SC_O_FO:
            tmp[l++] = 34;
            tmp[l++] = (uint8_t)(2 + o->n_bytes);
            memcpy(tmp + l, o->bytes, o->n_bytes);
            l += o->n_bytes;
            break;
        case TW_SC_O_FOEXP:
            tmp[l++] = 254;
            tmp[l++] = (uint8_t)(4 + o->n_bytes);
            tmp[l++] = 0xf9;
            tmp[l++] = 0x89;
            memcpy(tmp + l, o->bytes, o->n_bytes);
            l += o->n_bytes;
            break;
        }
        if (n + l > TW_WIRE_MAX_OPTS) {
            return sc_fail(r, line, "TCP options longer than 40 bytes");
        }
        memcpy(buf + n, tmp, l);
        n += l;
    }
    *len = n;
    return 0;
}

static int hex_bytes(const char *s, uint8_t *out, size_t cap, size_t *n)
{
    size_t k = 0;
    while (*s) {
        if (isspace((unsigned char)*s)) {
            s++;
            continue;
        }
        if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) || k == cap) {
            return -1;
        }
        char b[3] = {s[0], s[1], 0};
        out[k++] = (uint8_t)strtoul(b, NULL, 16);
        s += 2;
    }
    *n = k;
    return 0;
}

static const tw_sc_mutation *find_mut(const tw_sc_packet *p, const char *name)
{
    for (size_t i = 0; i < p->n_muts; i++) {
        if (strcmp(p->muts[i].name, name) == 0) {
            return &p->muts[i];
        }
    }
    return NULL;
}

static int mut_value(sc_runner *r, int line, const tw_sc_mutation *m, int64_t lo, int64_t hi,
                     uint32_t *out)
{
    if (!m->has_value || m->value < lo || m->value > hi) {
        return sc_fail(r, line, "mutation '%s' needs a value in %" PRId64 "..%" PRId64, m->name,
                       lo, hi);
    }
    *out = (uint32_t)m->value;
    return 0;
}

/* One packet into the stack, in its own turn: ACKs the stack holds to the end of a turn
   (tcpwave.h, tw_stack_next_deadline) leave now. */
static void inject_one(sc_runner *r, const uint8_t *pkt, size_t len)
{
    poison_c_stack();
    tw_stack_input(r->st, pkt, len, r->clock);
    poll_pending(r);
    if (tw_stack_next_deadline(r->st) <= r->clock) {
        stack_on_timeout(r);
        poll_pending(r);
    }
}

/* `with fragment N[, fragment_reverse]`: the built packet (its mutations made) goes in as
   IPv4 fragments of N payload bytes (a multiple of 8; the last one the rest), in order
   or last first, each a packet of its own (RFC 791 3.2). */
static int inject_fragments(sc_runner *r, int line, const tw_sc_mutation *m, bool reverse,
                            const uint8_t *pkt, size_t len)
{
    uint32_t per = 0;
    if (mut_value(r, line, m, 8, 65528, &per) < 0) {
        return -1;
    }
    size_t hl = (size_t)(pkt[0] & 0x0fu) * 4u;
    if (per % 8u != 0 || hl < 20 || hl > len) {
        return sc_fail(r, line, "fragment needs a multiple of 8 and a whole IP header");
    }
    size_t pl = len - hl, nf = pl ? (pl + per - 1) / per : 1;
    uint8_t *f = malloc(len);
    if (f == NULL) {
        return sc_fail(r, line, "out of memory");
    }
    for (size_t k = 0; k < nf && !r->stop; k++) {
        size_t i = reverse ? nf - 1 - k : k;
        size_t off = i * per, n = pl - off < per ? pl - off : per;
        memcpy(f, pkt, hl);
        memcpy(f + hl, pkt + hl + off, n);
        /* (DF, and MF where the packet had it: `with mf, fragment N` sends a datagram
           whose end never comes) */
        uint16_t fo = (uint16_t)(((pkt[6] << 8 | pkt[7]) & 0x6000u) | (off / 8u) |
                                 (i + 1 < nf ? 0x2000u : 0u));
        f[2] = (uint8_t)((hl + n) >> 8);
        f[3] = (uint8_t)(hl + n);
        f[4] = (uint8_t)(line >> 8); /* (one identification per script line) */
        f[5] = (uint8_t)line;
        f[6] = (uint8_t)(fo >> 8);
        f[7] = (uint8_t)fo;
        tw_wire_fix_ip_csum(f, hl + n);
        inject_one(r, f, hl + n);
    }
    free(f);
    return 0;
}

/*
 * tcpwave's `with ...` clause (SPEC R8): corrupt the packet after building it.
 * Header fields first (checksums are then recomputed), then explicit or bad checksums,
 * then truncation.
 */
static int apply_mutations(sc_runner *r, int line, const tw_sc_packet *p, uint8_t *pkt,
                           size_t *len)
{
    static const char *known[] = {"bad_tcp_csum", "bad_ip_csum", "tcp_csum", "ip_csum",
                                  "truncate", "ip_len", "ihl", "version", "mf",
                                  "frag_off", "proto", "ttl", "src", "dst", "doff",
                                  "options", "flags", "reserved", "fragment",
                                  "fragment_reverse"};
    for (size_t i = 0; i < p->n_muts; i++) {
        bool ok = false;
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
            ok = ok || strcmp(p->muts[i].name, known[k]) == 0;
        }
        if (!ok) {
            return sc_fail(r, line, "unknown mutation '%s'", p->muts[i].name);
        }
    }
    uint8_t *tcp = pkt + 20;
    const tw_sc_mutation *m;
    uint32_t v = 0; /* set by mut_value before every use; the initializer quiets -O2 */
    bool fix_ip = false, fix_tcp = false;
    if ((m = find_mut(p, "version")) != NULL) {
        if (mut_value(r, line, m, 0, 15, &v) < 0) {
            return -1;
        }
        pkt[0] = (uint8_t)((pkt[0] & 0x0f) | (v << 4));
        fix_ip = true;
    }
    if ((m = find_mut(p, "ihl")) != NULL) {
        if (mut_value(r, line, m, 0, 15, &v) < 0) {
            return -1;
        }
        pkt[0] = (uint8_t)((pkt[0] & 0xf0) | v);
        fix_ip = true;
    }
    if ((m = find_mut(p, "ip_len")) != NULL) {
        if (mut_value(r, line, m, 0, 65535, &v) < 0) {
            return -1;
        }
        pkt[2] = (uint8_t)(v >> 8);
        pkt[3] = (uint8_t)v;
        fix_ip = true;
    }
    if (find_mut(p, "mf") != NULL) {
        pkt[6] |= 0x20;
        fix_ip = true;
    }
    if ((m = find_mut(p, "frag_off")) != NULL) {
        if (mut_value(r, line, m, 0, 8191, &v) < 0) {
            return -1;
        }
        pkt[6] = (uint8_t)((pkt[6] & 0xe0) | (v >> 8));
        pkt[7] = (uint8_t)v;
        fix_ip = true;
    }
    if ((m = find_mut(p, "proto")) != NULL) {
        if (mut_value(r, line, m, 0, 255, &v) < 0) {
            return -1;
        }
        pkt[9] = (uint8_t)v;
        fix_ip = true;
    }
    if ((m = find_mut(p, "ttl")) != NULL) {
        if (mut_value(r, line, m, 0, 255, &v) < 0) {
            return -1;
        }
        pkt[8] = (uint8_t)v;
        fix_ip = true;
    }
    const char *addr_names[2] = {"src", "dst"};
    for (int k = 0; k < 2; k++) {
        if ((m = find_mut(p, addr_names[k])) != NULL) {
            uint32_t a;
            if (m->text == NULL || tw_wire_parse_addr(m->text, &a) < 0) {
                return sc_fail(r, line, "mutation '%s' needs an IPv4 address", m->name);
            }
            put_be32(pkt + 12 + 4 * k, a);
            fix_ip = fix_tcp = true;
        }
    }
    if ((m = find_mut(p, "doff")) != NULL) {
        if (mut_value(r, line, m, 0, 15, &v) < 0) {
            return -1;
        }
        tcp[12] = (uint8_t)((tcp[12] & 0x0f) | (v << 4));
        fix_tcp = true;
    }
    if ((m = find_mut(p, "reserved")) != NULL) {
        if (mut_value(r, line, m, 0, 15, &v) < 0) {
            return -1;
        }
        tcp[12] = (uint8_t)((tcp[12] & 0xf0) | v);
        fix_tcp = true;
    }
    if ((m = find_mut(p, "flags")) != NULL) {
        if (mut_value(r, line, m, 0, 255, &v) < 0) {
            return -1;
        }
        tcp[13] = (uint8_t)v;
        fix_tcp = true;
    }
    if (fix_ip) {
        tw_wire_fix_ip_csum(pkt, *len);
    }
    if (fix_tcp) {
        tw_wire_fix_tcp_csum(pkt, *len);
    }
    if ((m = find_mut(p, "tcp_csum")) != NULL) {
        if (mut_value(r, line, m, 0, 65535, &v) < 0) {
            return -1;
        }
        tcp[16] = (uint8_t)(v >> 8);
        tcp[17] = (uint8_t)v;
    }
    if (find_mut(p, "bad_tcp_csum") != NULL) {
        tcp[17] ^= 0x01; /* any change to a correct sum makes it wrong */
    }
    if ((m = find_mut(p, "ip_csum")) != NULL) {
        if (mut_value(r, line, m, 0, 65535, &v) < 0) {
            return -1;
        }
        pkt[10] = (uint8_t)(v >> 8);
        pkt[11] = (uint8_t)v;
    }
    if (find_mut(p, "bad_ip_csum") != NULL) {
        pkt[11] ^= 0x01;
    }
    if ((m = find_mut(p, "truncate")) != NULL) {
        if (mut_value(r, line, m, 0, (int64_t)*len, &v) < 0) {
            return -1;
        }
        *len = v;
    }
    return 0;
}

/* An ICMP error (Destination Unreachable, Time Exceeded, ...: p->icmp_type) from the
   peer's address (as a router on the path would send it, packetdrill sends it so) quoting
   the IPv4 header and first 8 bytes of our segment at script sequence p->seq (relative
   to our ISN once known). */
static int inject_icmp(sc_runner *r, const tw_sc_event *ev)
{
    const tw_sc_packet *p = &ev->pkt;
    sc_flow *fl = sc_flow_get(r, r->lport, r->rport);
    if (fl == NULL) {
        return sc_fail(r, ev->line, "out of memory");
    }
    tw_wire_tcp q; /* the quoted segment: ours */
    memset(&q, 0, sizeof(q));
    q.saddr = r->laddr;
    q.daddr = r->raddr;
    q.ttl = 64;
    q.frag = 0x4000;
    q.sport = r->lport;
    q.dport = r->rport;
    q.seq = p->seq + local_offset(fl, false);
    q.flags = TW_SC_F_ACK;
    q.payload_len = p->len;
    /* (the whole segment, though 28 bytes of it are quoted: its IPv4 Total Length is
       what a Next-Hop MTU of 0 is read from; as large as a --mtu of 15000 makes it) */
    size_t inner_len = 60 + 60 + (size_t)p->len;
    uint8_t *inner = malloc(inner_len);
    if (inner == NULL || tw_wire_build(&q, inner, inner_len) == 0) {
        free(inner);
        return sc_fail(r, ev->line, "cannot build the quoted segment");
    }
    uint8_t pkt[20 + 8 + 28];
    memset(pkt, 0, sizeof(pkt));
    pkt[0] = 0x45;
    pkt[2] = (uint8_t)(sizeof(pkt) >> 8);
    pkt[3] = (uint8_t)sizeof(pkt);
    uint16_t id = r->ip_id++;
    pkt[4] = (uint8_t)(id >> 8);
    pkt[5] = (uint8_t)id;
    pkt[8] = 64;
    pkt[9] = 1; /* ICMP */
    for (int i = 0; i < 4; i++) {
        pkt[12 + i] = (uint8_t)(r->raddr >> (24 - 8 * i));
        pkt[16 + i] = (uint8_t)(r->laddr >> (24 - 8 * i));
    }
    uint8_t *icmp = pkt + 20;
    icmp[0] = p->icmp_type; /* (3: Destination Unreachable) */
    icmp[1] = p->icmp_code;
    if (p->has_mtu) {
        icmp[6] = (uint8_t)(p->icmp_mtu >> 8);
        icmp[7] = (uint8_t)p->icmp_mtu;
    }
    memcpy(icmp + 8, inner, 28); /* our IP header and 8 bytes of TCP (RFC 792) */
    free(inner);
    uint16_t ck = tw_wire_fold(tw_wire_sum(icmp, 8 + 28, 0));
    icmp[2] = (uint8_t)(ck >> 8);
    icmp[3] = (uint8_t)ck;
    tw_wire_fix_ip_csum(pkt, sizeof(pkt));
    poison_c_stack();
    tw_stack_input(r->st, pkt, sizeof(pkt), r->clock);
    poll_pending(r);
    if (tw_stack_next_deadline(r->st) <= r->clock) {
        stack_on_timeout(r);
        poll_pending(r);
    }
    return r->stop ? -1 : 0;
}

static int inject(sc_runner *r, const tw_sc_event *ev)
{
    const tw_sc_packet *p = &ev->pkt;
    if (p->icmp) {
        return inject_icmp(r, ev);
    }
    bool syn = (p->flags & TW_SC_F_SYN) != 0;
    bool ack_flag = (p->flags & TW_SC_F_ACK) != 0;
    uint16_t sport = p->has_ports ? p->sport : r->rport;
    uint16_t dport = p->has_ports ? p->dport : r->lport;
    sc_flow *fl = sc_flow_get(r, dport, sport);
    if (fl == NULL) {
        return sc_fail(r, ev->line, "out of memory");
    }
    if (syn && !p->seq_any) {
        /* The peer's ISN counts once the stack acknowledges this SYN (see
           expect_outbound): an old duplicate SYN it rejects must not change how the
           script's later lines are read. */
        fl->remote_cand = p->seq;
        fl->remote_cand_len = p->len;
        fl->remote_cand_pending = true;
        if (!fl->remote_isn_known) {
            fl->remote_isn = p->seq;
            fl->remote_isn_known = true;
        }
    }
    if (!(syn && !ack_flag) && r->sut_kind == 1 && r->sut_listening) {
        /* packetdrill takes any packet to a listening socket under test as the start
           of a passive open (handle_listen_for_script_packet): the RST that answers an
           ACK to a listener belongs to the script. */
        sc_sut_set(r, dport, sport);
    }
    if (syn && !ack_flag) {
        sc_sut_set(r, dport, sport); /* (packetdrill: a passive open is under test) */
        /* A new SYN may start a new incarnation: learn our ISN again from the reply. */
        fl->learn_local_isn = true;
    }
    tw_wire_tcp w;
    memset(&w, 0, sizeof(w));
    w.saddr = r->raddr;
    w.daddr = r->laddr;
    w.ttl = p->ttl >= 0 ? (uint8_t)p->ttl : 64;
    w.tos = p->tos >= 0 ? (uint8_t)p->tos : 0;
    if (p->ecn >= 0) {
        w.tos = (uint8_t)((w.tos & 0xfc) | p->ecn);
    }
    if (p->ect01) {
        return sc_fail(r, ev->line, "[ect01] can only be used with outbound packets");
    }
    w.frag = 0x4000; /* DF */
    w.sport = sport;
    w.dport = dport;
    w.flags = p->flags;
    if (p->seq_any) {
        w.seq = fl->remote_nxt;
    } else {
        w.seq = p->seq + remote_offset(fl, syn);
    }
    w.ack = p->ack;
    if (ack_flag) {
        w.ack = p->ack + local_offset(fl, syn);
    }
    w.win = p->win;
    w.urg = p->urg;
    const tw_sc_mutation *m = find_mut(p, "options");
    if (m != NULL) {
        if (m->text == NULL || hex_bytes(m->text, w.opts, sizeof(w.opts), &w.opts_len) < 0) {
            return sc_fail(r, ev->line, "mutation 'options' needs a string of hex bytes");
        }
    } else if (encode_opts(r, fl, ev->line, p, w.opts, &w.opts_len) < 0) {
        return -1;
    }
    /* Inbound payloads are zeros, as packetdrill sends them. A segment longer than --mss
       is still one segment: packetdrill writes it to its tun device whole, as a GSO
       packet of gso_size --mss, and Linux's TCP takes it as one (as after GRO: one ACK
       decision, one D-SACK, e.g. the selftest tcp_dsack_mult). Only what one IPv4
       packet cannot carry is cut, at --mss (or 64000 bytes). */
    uint32_t total = p->len;
    uint32_t cap_one = 65535u - 60u - 60u;
    uint32_t chunk = total <= cap_one ? total : (r->gso_mss > 0 ? r->gso_mss : 64000u);
    uint32_t done = 0;
    size_t cap = 60 + 60 + (size_t)total;
    if (r->scratch_cap < cap) {
        uint8_t *b = realloc(r->scratch, cap);
        if (b == NULL) {
            return sc_fail(r, ev->line, "out of memory");
        }
        r->scratch = b;
        r->scratch_cap = cap;
    }
    do {
        uint32_t n = total - done < chunk ? total - done : chunk;
        tw_wire_tcp piece = w;
        piece.seq = w.seq + done;
        piece.payload = NULL;
        piece.payload_len = n;
        piece.ip_id = r->ip_id++;
        if (done + n < total) {
            /* FIN and PSH belong to the last piece only. */
            piece.flags = (uint8_t)(piece.flags & ~(TW_SC_F_FIN | TW_SC_F_PSH));
        }
        size_t len = tw_wire_build(&piece, r->scratch, r->scratch_cap);
        if (len == 0) {
            return sc_fail(r, ev->line, "cannot build this packet (too large?)");
        }
        if (apply_mutations(r, ev->line, p, r->scratch, &len) < 0) {
            return -1;
        }
        if (r->o->verbose) {
            tw_sb sb = {0};
            put_secs(&sb, sc_now_us(r));
            printf("    %s inject  ", sb.buf ? sb.buf : "");
            tw_sb_free(&sb);
            tw_sc_print_packet(stdout, p);
            printf("   [seq %u ack %u]\n", piece.seq, piece.ack);
        }
        const tw_sc_mutation *fm = find_mut(p, "fragment");
        if (fm != NULL) {
            if (inject_fragments(r, ev->line, fm, find_mut(p, "fragment_reverse") != NULL,
                                 r->scratch, len) < 0) {
                return -1;
            }
        } else {
            inject_one(r, r->scratch, len);
        }
        done += n;
    } while (done < total && !r->stop);
    fl->remote_nxt = w.seq + total + (syn ? 1u : 0u) + ((p->flags & TW_SC_F_FIN) ? 1u : 0u);
    return r->stop ? -1 : 0;
}

/* ---- outbound packets ------------------------------------------------------------------ */

static void ts_record(sc_runner *r, uint32_t script_val, uint32_t live_val)
{
    if (!r->ts_first) {
        r->ts_first = true;
        r->ts_first_script = script_val;
        r->ts_first_live = live_val;
    }
    uint32_t(*m)[2] = realloc(r->ts_map, (r->ts_n + 1) * sizeof(*m));
    if (m == NULL) {
        return;
    }
    r->ts_map = m;
    r->ts_map[r->ts_n][0] = script_val;
    r->ts_map[r->ts_n][1] = live_val;
    r->ts_n++;
}

static uint32_t be32(const uint8_t *d)
{
    return ((uint32_t)d[0] << 24) | ((uint32_t)d[1] << 16) | ((uint32_t)d[2] << 8) | d[3];
}

/* Compare one script option with one actual option of the same kind. */
static int opt_equal(sc_runner *r, const sc_flow *fl, const tw_sc_opt *s,
                     const tw_wire_opt *a, bool syn, char *why, size_t wl)
{
    switch (s->kind) {
    case TW_SC_O_EOL:
    case TW_SC_O_NOP:
        return 0;
    case TW_SC_O_MSS:
        if (a->len != 4 || ((a->data[0] << 8) | a->data[1]) != (int)s->v1) {
            snprintf(why, wl, "mss: expected %u", s->v1);
            return -1;
        }
        return 0;
    case TW_SC_O_WSCALE:
        if (a->len != 3 || (!s->wild && a->data[0] != s->v1)) {
            snprintf(why, wl, "wscale: expected %u", s->v1);
            return -1;
        }
        return 0;
    case TW_SC_O_SACKOK:
        if (a->len != 2) {
            snprintf(why, wl, "sackOK: bad length %u", a->len);
            return -1;
        }
        return 0;
    case TW_SC_O_SACK: {
        if (a->len != 2 + 8 * s->n_sack) {
            snprintf(why, wl, "sack: expected %d blocks", s->n_sack);
            return -1;
        }
        uint32_t off = remote_offset(fl, syn);
        for (int b = 0; b < s->n_sack; b++) {
            if (be32(a->data + 8 * b) - off != s->sack[b][0] ||
                be32(a->data + 8 * b + 4) - off != s->sack[b][1]) {
                snprintf(why, wl, "sack block %d: expected %u:%u", b + 1, s->sack[b][0],
                         s->sack[b][1]);
                return -1;
            }
        }
        return 0;
    }
    case TW_SC_O_TS: {
        if (a->len != 10) {
            snprintf(why, wl, "TS: bad length %u", a->len);
            return -1;
        }
        uint32_t val = be32(a->data);
        uint32_t ecr = be32(a->data + 4);
        if (r->ts_tick_us > 0 && r->ts_first) {
            int64_t diff = (int32_t)(ts_val_to_script(r, val) - s->v1);
            if (llabs(diff) * r->ts_tick_us > r->tol_us) {
                snprintf(why, wl, "TS val: expected %u, got %u (tolerance %" PRId64 " us)",
                         s->v1, ts_val_to_script(r, val), r->tol_us);
                return -1;
            }
        }
        /* The remote's TS values are literal, so an echo must match exactly (RFC 7323
           4.3); packetdrill leaves ecr unchecked, tcpwave does not. */
        if (ecr != s->v2) {
            snprintf(why, wl, "TS ecr: expected %u, got %u", s->v2, ecr);
            return -1;
        }
        return 0;
    }
    case TW_SC_O_MD5:
    case TW_SC_O_FO:
    case TW_SC_O_FOEXP: {
        size_t skip = s->kind == TW_SC_O_FOEXP ? 2 : 0;
        if ((size_t)a->len != 2 + skip + s->n_bytes ||
            memcmp(a->data + skip, s->bytes, s->n_bytes) != 0) {
            snprintf(why, wl, "option %u: value differs", (unsigned)s->kind);
            return -1;
        }
        return 0;
    }
    }
    return 0;
}

static unsigned wire_kind(tw_sc_opt_kind k)
{
    return (unsigned)k;
}

static int compare_options(sc_runner *r, const sc_flow *fl, const tw_sc_packet *sp,
                           const tw_wire_tcp *w, char *why, size_t wl)
{
    if (sp->opts_any) {
        return 0;
    }
    tw_wire_opt a[TW_WIRE_MAX_OPTS];
    int na = tw_wire_opts_decode(w->opts, w->opts_len, a, TW_WIRE_MAX_OPTS);
    if (na < 0) {
        snprintf(why, wl, "malformed TCP options");
        return -1;
    }
    bool syn = (w->flags & TW_SYN) != 0;
    if (!r->semantic) {
        /* exact: same options, same order, same padding (packetdrill) */
        if ((size_t)na != sp->n_opts) {
            snprintf(why, wl, "TCP options: expected %zu options, got %d", sp->n_opts, na);
            return -1;
        }
        for (int i = 0; i < na; i++) {
            if (a[i].kind != wire_kind(sp->opts[i].kind)) {
                snprintf(why, wl, "TCP option %d: expected kind %u, got kind %u", i + 1,
                         wire_kind(sp->opts[i].kind), a[i].kind);
                return -1;
            }
            if (opt_equal(r, fl, &sp->opts[i], &a[i], syn, why, wl) < 0) {
                return -1;
            }
        }
        return 0;
    }
    /* semantic: NOP/EOL padding and order do not matter */
    bool used[TW_WIRE_MAX_OPTS] = {false};
    for (size_t i = 0; i < sp->n_opts; i++) {
        const tw_sc_opt *s = &sp->opts[i];
        if (s->kind == TW_SC_O_NOP || s->kind == TW_SC_O_EOL) {
            continue;
        }
        int found = -1;
        for (int k = 0; k < na; k++) {
            if (!used[k] && a[k].kind == wire_kind(s->kind)) {
                found = k;
                break;
            }
        }
        if (found < 0) {
            snprintf(why, wl, "TCP options: expected option kind %u is missing",
                     wire_kind(s->kind));
            return -1;
        }
        used[found] = true;
        if (opt_equal(r, fl, s, &a[found], syn, why, wl) < 0) {
            return -1;
        }
    }
    for (int k = 0; k < na; k++) {
        if (!used[k] && a[k].kind != 0 && a[k].kind != 1) {
            snprintf(why, wl, "TCP options: unexpected option kind %u", a[k].kind);
            return -1;
        }
    }
    return 0;
}

static void record_ts(sc_runner *r, const tw_sc_packet *sp, const tw_wire_tcp *w)
{
    if (sp->opts_any) {
        return;
    }
    const tw_sc_opt *sts = NULL;
    for (size_t i = 0; i < sp->n_opts; i++) {
        if (sp->opts[i].kind == TW_SC_O_TS) {
            sts = &sp->opts[i];
        }
    }
    tw_wire_opt a[TW_WIRE_MAX_OPTS];
    int na = tw_wire_opts_decode(w->opts, w->opts_len, a, TW_WIRE_MAX_OPTS);
    for (int k = 0; sts != NULL && k < na; k++) {
        if (a[k].kind == 8 && a[k].len == 10) {
            ts_record(r, sts->v1, be32(a[k].data));
        }
    }
}

static void mismatch(tw_sb *sb, const char *field, int64_t expected, int64_t actual)
{
    tw_sb_printf(sb, "%s%s: expected %" PRId64 ", got %" PRId64, sb->len ? "; " : "", field,
                 expected, actual);
}

/* Check the header fields of a (possibly aggregated) packet against the script. */
static void compare_fields(sc_runner *r, const sc_flow *fl, const tw_sc_packet *sp,
                           const tw_wire_tcp *w, tw_sb *why)
{
    bool syn = (w->flags & TW_SYN) != 0;
    if (w->saddr != r->laddr || w->daddr != r->raddr) {
        char a[20], b[20];
        tw_wire_format_addr(w->saddr, a, sizeof(a));
        tw_wire_format_addr(w->daddr, b, sizeof(b));
        tw_sb_printf(why, "%saddresses: got %s > %s", why->len ? "; " : "", a, b);
    }
    uint16_t want_sport = sp->has_ports ? sp->sport : r->lport;
    uint16_t want_dport = sp->has_ports ? sp->dport : r->rport;
    if (w->sport != want_sport) {
        mismatch(why, "source port", want_sport, w->sport);
    }
    if (w->dport != want_dport) {
        mismatch(why, "destination port", want_dport, w->dport);
    }
    uint8_t want_flags = sp->flags;
    if (w->flags != want_flags) {
        char e[12], a[12];
        flags_str(want_flags, e);
        flags_str(w->flags, a);
        tw_sb_printf(why, "%sflags: expected %s, got %s", why->len ? "; " : "", e, a);
    }
    if (!sp->seq_any) {
        uint32_t seq = local_seq_to_script(fl, w->seq, syn);
        if (seq != sp->seq) {
            mismatch(why, "seq", sp->seq, seq);
        }
    }
    if (sp->has_ack) {
        uint32_t ack = (w->flags & TW_ACK) ? w->ack - remote_offset(fl, syn) : w->ack;
        if (ack != sp->ack) {
            mismatch(why, "ack", sp->ack, ack);
        }
    }
    if (sp->has_win && w->win != sp->win) {
        mismatch(why, "win", sp->win, w->win);
    }
    if ((sp->has_urg || (sp->flags & TW_SC_F_URG)) && w->urg != sp->urg) {
        mismatch(why, "urg", sp->urg, w->urg);
    }
    if (sp->ecn >= 0 && (w->tos & 3) != sp->ecn) {
        mismatch(why, "ip ecn", sp->ecn, w->tos & 3);
    }
    if (sp->ect01 && (w->tos & 3) != 1 && (w->tos & 3) != 2) {
        mismatch(why, "ip ecn (ect01)", 1, w->tos & 3);
    }
    if (sp->tos >= 0 && w->tos != sp->tos) {
        mismatch(why, "tos", sp->tos, w->tos);
    }
    if (sp->ttl >= 0 && w->ttl != sp->ttl) {
        mismatch(why, "ttl", sp->ttl, w->ttl);
    }
    if (w->payload_len != sp->len) {
        mismatch(why, "payload length", sp->len, (int64_t)w->payload_len);
    }
    char ow[160] = {0};
    if (compare_options(r, fl, sp, w, ow, sizeof(ow)) < 0) {
        tw_sb_printf(why, "%s%s", why->len ? "; " : "", ow);
    }
}

/* The payload must be the bytes the application wrote, at their stream offset. */
static void compare_payload(const sc_flow *fl, const tw_wire_tcp *w, tw_sb *why)
{
    if (w->payload_len == 0 || fl == NULL || !fl->local_isn_known || (w->flags & TW_SYN)) {
        return;
    }
    uint32_t off = w->seq - (fl->live_local_isn + 1u);
    if ((uint64_t)off + w->payload_len > fl->sent_len) {
        tw_sb_printf(why, "%spayload: bytes %u..%zu were never written by the application "
                          "(%zu written)",
                     why->len ? "; " : "", off, (size_t)off + w->payload_len, fl->sent_len);
        return;
    }
    if (memcmp(fl->sent + off, w->payload, w->payload_len) != 0) {
        tw_sb_printf(why, "%spayload differs from the bytes written at stream offset %u",
                     why->len ? "; " : "", off);
    }
}

static int expect_outbound(sc_runner *r, const tw_sc_event *ev, int64_t t_us, int64_t t_end_us,
                           int64_t tol)
{
    const tw_sc_packet *sp = &ev->pkt;
    bool any = (ev->time.kind == TW_SC_T_ANY);
    bool range = ev->time.kind == TW_SC_T_ABS_RANGE || ev->time.kind == TW_SC_T_REL_RANGE;
    int64_t lo = t_us - tol;
    int64_t hi = (range ? t_end_us : t_us) + tol;
    tw_time limit = any ? r->clock + TW_SEC(3600) : vt(r, hi);
    if (!run_until_own(r, limit)) {
        if (r->stop) {
            return -1;
        }
        /* For the report: does it come later? */
        tw_time look = (limit > r->clock ? limit : r->clock) + TW_SEC(10);
        run_until(r, look, true);
        tw_sb sb = {0};
        tw_sb_printf(&sb, "expected: ");
        put_secs(&sb, t_us);
        tw_sb_printf(&sb, " ");
        char *txt = NULL;
        size_t txt_len = 0;
        FILE *f = open_memstream(&txt, &txt_len);
        if (f != NULL) {
            tw_sc_print_packet(f, sp);
            fclose(f);
            tw_sb_printf(&sb, "%s", txt);
            free(txt);
        }
        sc_outpkt *q = q_peek(r);
        if (q != NULL) {
            tw_sb_printf(&sb, "\n    actual:   ");
            fmt_queued(r, q, &sb);
            tw_sb_printf(&sb, "\n    timing error: nothing was sent by ");
            put_secs(&sb, hi);
            tw_sb_printf(&sb, " (tolerance ");
            put_secs(&sb, tol);
            tw_sb_printf(&sb, ")");
        } else {
            tw_sb_printf(&sb, "\n    actual:   nothing sent by ");
            put_secs(&sb, sc_now_us(r));
        }
        sc_fail(r, ev->line, "%s", sb.buf ? sb.buf : "");
        tw_sb_free(&sb);
        return -1;
    }
    sc_outpkt *q = q_peek(r);
    tw_wire_tcp w;
    char why[160];
    if (tw_wire_parse(q->data, q->len, &w, why, sizeof(why)) < 0) {
        tw_sb sb = {0};
        fmt_raw_packet(q->data, q->len, &sb);
        sc_fail(r, ev->line, "the stack sent a malformed packet (%s): %s", why,
                sb.buf ? sb.buf : "");
        tw_sb_free(&sb);
        return -1;
    }
    int64_t t_pkt = (int64_t)((q->t - r->base) / 1000u);
    /* Learn what the stack chose: our ISN from its SYN or SYN+ACK, our port from the
       SYN of an active open. */
    sc_flow *fl = sc_flow_get(r, w.sport, w.dport);
    if (fl == NULL) {
        return sc_fail(r, ev->line, "out of memory");
    }
    if ((w.flags & TW_SYN) && !(w.flags & TW_ACK) && r->connect_pending) {
        /* The SYN of connect(): it tells our port and opens the flow. */
        r->connect_pending = false;
        if (!sp->has_ports) {
            r->lport = w.sport;
            r->lport_known = true;
        }
        fl->learn_local_isn = true;
        fl->active_opening = true;
        fl->remote_isn_known = false;
        fl->remote_cand_pending = false;
    }
    if ((sp->flags & TW_SC_F_SYN) && (w.flags & TW_SYN) &&
        (fl->learn_local_isn || !fl->local_isn_known)) {
        if (fl->local_isn_known && w.seq != fl->live_local_isn && fl->snd_max_known) {
            /* A new incarnation: remember how far the old one got (isn increased). */
            fl->prev_snd_max = fl->snd_max;
            fl->prev_incarnation = true;
            fl->snd_max_known = false;
            fl->sent_len = 0;
        }
        fl->live_local_isn = w.seq;
        fl->script_local_isn = sp->seq_any ? 0 : sp->seq;
        fl->local_isn_known = true;
        fl->learn_local_isn = false;
    }
    /* The peer's ISN is settled when the stack acknowledges its SYN: with a SYN+ACK, or
       with the final ACK of an active open. */
    if ((w.flags & TW_ACK) && acks_remote_cand(fl, w.ack) &&
        ((w.flags & TW_SYN) || fl->active_opening)) {
        fl->remote_isn = fl->remote_cand;
        fl->remote_isn_known = true;
        fl->remote_cand_pending = false;
        fl->active_opening = false;
    }
    tw_sb mis = {0};
    compare_payload(fl, &w, &mis);
    /* Segments may add up to one script line (packetdrill aggregates TSO/GSO bursts). */
    tw_wire_tcp agg = w;
    size_t parts = 1;
    uint8_t first_flags = w.flags;
    q_pop(r);
    while (!r->strict_segments && agg.payload_len < sp->len && mis.len == 0 &&
           !(agg.flags & (TW_SYN | TW_FIN | TW_RST))) {
        if (!run_until(r, any ? r->clock + TW_SEC(3600) : vt(r, hi), true)) {
            break;
        }
        sc_outpkt *nq = q_peek(r);
        tw_wire_tcp nw;
        if (tw_wire_parse(nq->data, nq->len, &nw, why, sizeof(why)) < 0) {
            break;
        }
        uint8_t base_flags = (uint8_t)(first_flags & ~(TW_PSH | TW_FIN));
        if (nw.sport != agg.sport || nw.dport != agg.dport ||
            nw.seq != agg.seq + (uint32_t)agg.payload_len ||
            (uint8_t)(nw.flags & ~(TW_PSH | TW_FIN)) != base_flags ||
            agg.payload_len + nw.payload_len > sp->len) {
            break;
        }
        compare_payload(fl, &nw, &mis);
        agg.payload_len += nw.payload_len;
        agg.flags = (uint8_t)(agg.flags | nw.flags);
        agg.ack = nw.ack;
        agg.win = nw.win;
        parts++;
        q_pop(r);
    }
    compare_fields(r, fl, sp, &agg, &mis);
    if (mis.len == 0 && !any && (t_pkt < lo || t_pkt > hi)) {
        tw_sb_printf(&mis, "timing error: expected at ");
        put_secs(&mis, t_us);
        if (range) {
            tw_sb_printf(&mis, "~");
            put_secs(&mis, t_end_us);
        }
        tw_sb_printf(&mis, " (tolerance ");
        put_secs(&mis, tol);
        tw_sb_printf(&mis, "), sent at ");
        put_secs(&mis, t_pkt);
    }
    if (mis.len > 0) {
        tw_sb sb = {0};
        char *txt = NULL;
        size_t txt_len = 0;
        FILE *f = open_memstream(&txt, &txt_len);
        if (f != NULL) {
            tw_sc_print_packet(f, sp);
            fclose(f);
        }
        tw_sb_printf(&sb, "expected: ");
        put_secs(&sb, t_us);
        tw_sb_printf(&sb, " %s\n    actual:   ", txt ? txt : "");
        free(txt);
        put_secs(&sb, t_pkt);
        tw_sb_printf(&sb, " ");
        fmt_out(r, &agg, &sb);
        if (parts > 1) {
            tw_sb_printf(&sb, " (%zu segments aggregated)", parts);
        }
        tw_sb_printf(&sb, "\n    mismatch: %s", mis.buf);
        sc_fail(r, ev->line, "%s", sb.buf ? sb.buf : "");
        tw_sb_free(&sb);
        tw_sb_free(&mis);
        return -1;
    }
    tw_sb_free(&mis);
    record_ts(r, sp, &agg);
    uint32_t end = agg.seq + (uint32_t)agg.payload_len + ((agg.flags & TW_SYN) ? 1u : 0u) +
                   ((agg.flags & TW_FIN) ? 1u : 0u);
    if (!(agg.flags & TW_RST) &&
        (!fl->snd_max_known || (int32_t)(end - fl->snd_max) > 0)) {
        fl->snd_max = end;
        fl->snd_max_known = true;
    }
    if (r->o->verbose) {
        tw_sb sb = {0};
        put_secs(&sb, t_pkt);
        tw_sb_printf(&sb, " matched ");
        fmt_out(r, &agg, &sb);
        printf("    %s\n", sb.buf ? sb.buf : "");
        tw_sb_free(&sb);
    }
    return 0;
}

/* ---- tcpwave assertion lines ----------------------------------------------------------- */

static void norm_state(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *c = in; *c && n + 1 < cap; c++) {
        out[n++] = (*c == '_') ? '-' : (char)toupper((unsigned char)*c);
    }
    out[n] = '\0';
    static const char *alias[][2] = {{"SYN-RCVD", "SYN-RECEIVED"}, {"SYN-RECV", "SYN-RECEIVED"},
                                     {"FIN-WAIT1", "FIN-WAIT-1"}, {"FIN-WAIT2", "FIN-WAIT-2"},
                                     {"CLOSE", "CLOSED"}, {"ESTAB", "ESTABLISHED"}};
    for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++) {
        if (strcmp(out, alias[i][0]) == 0) {
            snprintf(out, cap, "%s", alias[i][1]);
        }
    }
}

static int check_state(sc_runner *r, const tw_sc_event *ev)
{
    char want[40], have[40];
    norm_state(ev->state.name, want, sizeof(want));
    bool valid = false;
    for (int s = 0; s < TW_STATE_COUNT_; s++) {
        char n[40];
        norm_state(tw_state_name((tw_state)s), n, sizeof(n));
        valid = valid || strcmp(n, want) == 0;
    }
    if (!valid) {
        return sc_fail(r, ev->line, "unknown state name '%s'", ev->state.name);
    }
    tw_state st;
    const char *what;
    if (ev->state.fd >= 0) {
        if (ev->state.fd >= TW_SC_MAX_FDS || !r->fds[ev->state.fd].used) {
            return sc_fail(r, ev->line, "state: fd %d is not open", ev->state.fd);
        }
        st = tw_socket_state(r->fds[ev->state.fd].s);
        what = "socket";
    } else {
        sc_conn *c = r->o->untraced ? NULL : conn_under_test(r);
        if (r->o->untraced && untraced_conn_state(r, &st)) {
            what = "connection";
        } else if (c != NULL) {
            st = c->state;
            what = "connection";
        } else if (r->cur_fd >= 0 && r->fds[r->cur_fd].used) {
            st = tw_socket_state(r->fds[r->cur_fd].s);
            what = "socket";
        } else {
            st = TW_STATE_CLOSED;
            what = "connection (none seen)";
        }
    }
    norm_state(tw_state_name(st), have, sizeof(have));
    if (strcmp(want, have) != 0) {
        return sc_fail(r, ev->line, "expected state %s, %s is in %s", want, what, have);
    }
    return 0;
}

static int check_counter(sc_runner *r, const tw_sc_event *ev)
{
    const char *name = ev->counter.name;
    if (strncmp(name, "TW_CNT_", 7) == 0) {
        name += 7;
    }
    int id = tw_counter_lookup(name);
    if (id < 0) {
        return sc_fail(r, ev->line, "unknown counter '%s'", ev->counter.name);
    }
    int64_t v = (int64_t)tw_stack_counter(r->st, (enum tw_counter)id);
    int64_t w = ev->counter.value;
    bool ok = false;
    switch (ev->counter.cmp) {
    case TW_SC_EQ: ok = v == w; break;
    case TW_SC_NE: ok = v != w; break;
    case TW_SC_LT: ok = v < w; break;
    case TW_SC_LE: ok = v <= w; break;
    case TW_SC_GT: ok = v > w; break;
    case TW_SC_GE: ok = v >= w; break;
    }
    if (!ok) {
        return sc_fail(r, ev->line, "counter %s is %" PRId64 " (%s)", name, v,
                       tw_counter_desc((enum tw_counter)id));
    }
    return 0;
}

/*
 * `deadline none`: no timer is armed, checked at once. `deadline +x` / `deadline x`: the
 * next timer to fire does so at x (within the tolerance). tw_stack_next_deadline() may
 * name an earlier time ("calling early is harmless"), so the claim is checked when a
 * timer really fires (a TIMER trace event); one that never does fails the script.
 */
static int check_deadline(sc_runner *r, const tw_sc_event *ev)
{
    if (ev->deadline.none) {
        tw_time d = tw_stack_next_deadline(r->st);
        if (d != TW_TIME_NEVER) {
            tw_sb sb = {0};
            put_secs(&sb, d >= r->base ? (int64_t)((d - r->base) / 1000u) : 0);
            sc_fail(r, ev->line, "expected no timer, the next deadline is at %s", sb.buf);
            tw_sb_free(&sb);
            return -1;
        }
        return 0;
    }
    if (r->claim_active) {
        return sc_fail(r, ev->line, "the deadline claimed at line %d has not been met yet",
                       r->claim_line);
    }
    int64_t want = ev->deadline.relative ? r->ev_us + ev->deadline.us : ev->deadline.us;
    int64_t tol = r->tol_us;
    int64_t dyn = (int64_t)(r->tol_pct / 100.0 * (double)(want - r->ev_us));
    if (dyn > tol) {
        tol = dyn;
    }
    if (tw_stack_next_deadline(r->st) == TW_TIME_NEVER) {
        tw_sb sb = {0};
        tw_sb_printf(&sb, "expected a timer at ");
        put_secs(&sb, want);
        tw_sb_printf(&sb, ", no timer is armed");
        sc_fail(r, ev->line, "%s", sb.buf);
        tw_sb_free(&sb);
        return -1;
    }
    r->claim_active = true;
    r->claim_failed = false;
    r->claim_line = ev->line;
    r->claim_us = want;
    r->claim_tol = tol;
    return 0;
}

/* Report a `deadline` claim that failed, or that time has passed without a timer. */
static int check_claim(sc_runner *r, bool at_end)
{
    if (r->claim_failed) {
        r->claim_failed = false;
        tw_sb sb = {0};
        tw_sb_printf(&sb, "expected the next timer to fire at ");
        put_secs(&sb, r->claim_us);
        tw_sb_printf(&sb, " (tolerance ");
        put_secs(&sb, r->claim_tol);
        tw_sb_printf(&sb, "), it fired at ");
        put_secs(&sb, r->claim_fired_us);
        sc_fail(r, r->claim_line, "%s", sb.buf);
        tw_sb_free(&sb);
        return -1;
    }
    if (r->claim_active && (at_end || sc_now_us(r) > r->claim_us + r->claim_tol)) {
        r->claim_active = false;
        tw_sb sb = {0};
        tw_sb_printf(&sb, "expected a timer to fire at ");
        put_secs(&sb, r->claim_us);
        tw_sb_printf(&sb, ", none fired by ");
        put_secs(&sb, sc_now_us(r));
        if (at_end) {
            tw_sb_printf(&sb, " (the end of the script)");
        }
        sc_fail(r, r->claim_line, "%s", sb.buf);
        tw_sb_free(&sb);
        return -1;
    }
    return 0;
}

/* RFC 1122 4.2.2.13 and RFC 6191: a new incarnation of a 4-tuple must start beyond every
   sequence number the previous one used; RFC 6528's clock makes ISNs grow (R6, S17). */
static int check_isn(sc_runner *r, const tw_sc_event *ev)
{
    const sc_flow *f = flow_find(r, r->lport, r->rport);
    if (f == NULL || !f->prev_incarnation) {
        return sc_fail(r, ev->line, "isn increased: the stack has not started a second "
                                    "incarnation of the connection yet");
    }
    uint32_t d = f->live_local_isn - f->prev_snd_max;
    if ((int32_t)d <= 0) {
        return sc_fail(r, ev->line, "the new ISN %u is not beyond %u, the highest sequence "
                                    "number the previous incarnation used",
                       f->live_local_isn, f->prev_snd_max);
    }
    return 0;
}

/* ---- %{ code }% : assertions on tcpi_* fields ------------------------------------------ */

static const char *tcpi_fields[] = {
    "tcpi_state",         "tcpi_snd_mss",       "tcpi_rto",        "tcpi_rtt",
    "tcpi_rttvar",        "tcpi_retransmits",   "tcpi_total_retrans", "tcpi_snd_wscale",
    "tcpi_rcv_wscale",    "tcpi_options",       "tcpi_bytes_acked", "tcpi_bytes_received",
    "tcpi_snd_wnd",       "tcpi_rcv_wnd",       "tcpi_advmss",     "tcpi_snd_cwnd",
    "tcpi_snd_ssthresh",  "tcpi_ca_state",
};

static int linux_state(tw_state s)
{
    switch (s) {
    case TW_STATE_ESTABLISHED: return 1;
    case TW_STATE_SYN_SENT: return 2;
    case TW_STATE_SYN_RCVD: return 3;
    case TW_STATE_FIN_WAIT_1: return 4;
    case TW_STATE_FIN_WAIT_2: return 5;
    case TW_STATE_TIME_WAIT: return 6;
    case TW_STATE_CLOSED: return 7;
    case TW_STATE_CLOSE_WAIT: return 8;
    case TW_STATE_LAST_ACK: return 9;
    case TW_STATE_LISTEN: return 10;
    case TW_STATE_CLOSING: return 11;
    default: return 0;
    }
}

typedef struct code_stmt {
    char field[40];
    tw_sc_cmp cmp;
    char value[64];
    char mask[64]; /* "(tcpi_x & MASK) OP VALUE": the bits compared; "" for all */
} code_stmt;

/* Parse "assert tcpi_x OP value" statements separated by newlines or ';'.
   Returns the number of statements, or -1 with a reason. */
static int parse_code(const char *text, code_stmt *out, int max, char *why, size_t wl)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, "\n;");
        char stmt[256];
        if (len >= sizeof(stmt)) {
            snprintf(why, wl, "code statement too long");
            return -1;
        }
        memcpy(stmt, p, len);
        stmt[len] = '\0';
        p += len;
        if (*p) {
            p++;
        }
        char *s = stmt;
        while (isspace((unsigned char)*s)) {
            s++;
        }
        char *e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1])) {
            *--e = '\0';
        }
        if (*s == '\0' || *s == '#') {
            continue;
        }
        if (n == max) {
            snprintf(why, wl, "too many code statements");
            return -1;
        }
        char op[3] = {0};
        int consumed = 0;
        /* (Python's `assert X OP V, message`: the message is only printed on failure;
           `assert (X & MASK) OP V` tests some bits, as tcpi_options is tested) */
        out[n].mask[0] = '\0';
        /* Python's chained comparison `assert LO OP tcpi_x OP HI` (packetdrill's scripts
           bound an RTT so): two statements, the first one's operands turned round */
        char lo[64], op1[3] = {0};
        if (sscanf(s, "assert %63[A-Za-z0-9_] %2[=!<>] %39[a-z_0-9] %2[=!<>] %63[A-Za-z0-9_] %n",
                   lo, op1, out[n].field, op, out[n].value, &consumed) == 5 &&
            strncmp(out[n].field, "tcpi_", 5) == 0 && strncmp(lo, "tcpi_", 5) != 0 &&
            (s[consumed] == '\0' || s[consumed] == ',')) {
            static const char *const turned[][2] = {{"<", ">"}, {"<=", ">="}, {">", "<"},
                                                   {">=", "<="}, {"==", "=="}, {"!=", "!="}};
            const char *rop = NULL;
            for (size_t k = 0; k < sizeof(turned) / sizeof(turned[0]); k++) {
                rop = strcmp(op1, turned[k][0]) == 0 ? turned[k][1] : rop;
            }
            if (rop == NULL || n + 1 >= max) {
                snprintf(why, wl, "code block statement '%s' is not understood", s);
                return -1;
            }
            /* this statement tests the upper bound; the next (made from the same text with
               the lower bound's operands turned round) the lower one */
            char second[160];
            snprintf(second, sizeof(second), "assert %s %s %s", out[n].field, rop, lo);
            code_stmt pair[2];
            char w2[160];
            char first[160];
            snprintf(first, sizeof(first), "assert %s %s %s", out[n].field, op, out[n].value);
            if (parse_code(first, &pair[0], 1, why, wl) != 1 ||
                parse_code(second, &pair[1], 1, w2, sizeof(w2)) != 1) {
                return -1;
            }
            out[n++] = pair[0];
            out[n++] = pair[1];
            continue;
        }
        consumed = 0;
        int got = sscanf(s, "assert %39[a-z_0-9] %2[=!<>] %63[A-Za-z0-9_] %n", out[n].field,
                         op, out[n].value, &consumed);
        if (got != 3) {
            consumed = 0;
            got = sscanf(s, "assert ( %39[a-z_0-9] & %63[A-Za-z0-9_] ) %2[=!<>] %63[A-Za-z0-9_] %n",
                         out[n].field, out[n].mask, op, out[n].value, &consumed) == 4
                      ? 3
                      : 0;
        }
        if (got != 3 || consumed == 0 || (s[consumed] != '\0' && s[consumed] != ',')) {
            snprintf(why, wl, "code block statement '%s' (only 'assert tcpi_FIELD OP VALUE' "
                              "is understood; Python is not run)",
                     s);
            return -1;
        }
        bool known = false;
        for (size_t k = 0; k < sizeof(tcpi_fields) / sizeof(tcpi_fields[0]); k++) {
            known = known || strcmp(out[n].field, tcpi_fields[k]) == 0;
        }
        if (!known) {
            snprintf(why, wl, "%s has no tcpwave equivalent", out[n].field);
            return -1;
        }
        if (strcmp(op, "==") == 0) {
            out[n].cmp = TW_SC_EQ;
        } else if (strcmp(op, "!=") == 0) {
            out[n].cmp = TW_SC_NE;
        } else if (strcmp(op, "<") == 0) {
            out[n].cmp = TW_SC_LT;
        } else if (strcmp(op, "<=") == 0) {
            out[n].cmp = TW_SC_LE;
        } else if (strcmp(op, ">") == 0) {
            out[n].cmp = TW_SC_GT;
        } else if (strcmp(op, ">=") == 0) {
            out[n].cmp = TW_SC_GE;
        } else {
            snprintf(why, wl, "unknown comparison '%s'", op);
            return -1;
        }
        n++;
    }
    return n;
}

static int tcpi_get(sc_runner *r, const char *field, int64_t *v)
{
    tw_socket_info info;
    memset(&info, 0, sizeof(info));
    bool have = r->cur_fd >= 0 && r->fds[r->cur_fd].used &&
                tw_socket_info_get(r->fds[r->cur_fd].s, &info) == 0;
    if (strcmp(field, "tcpi_state") == 0) {
        if (!have && r->o->untraced) {
            tw_state st = TW_STATE_CLOSED;
            (void)untraced_conn_state(r, &st);
            *v = linux_state(st);
        } else if (!have) {
            sc_conn *c = conn_under_test(r);
            *v = linux_state(c ? c->state : TW_STATE_CLOSED);
        } else {
            *v = linux_state(info.state);
        }
        return 0;
    }
    if (!have) {
        return -1;
    }
    if (strcmp(field, "tcpi_snd_mss") == 0) {
        *v = info.snd_mss;
    } else if (strcmp(field, "tcpi_rto") == 0) {
        *v = (int64_t)(info.rto / 1000u);
    } else if (strcmp(field, "tcpi_rtt") == 0) {
        *v = (int64_t)(info.srtt / 1000u);
    } else if (strcmp(field, "tcpi_rttvar") == 0) {
        *v = (int64_t)(info.rttvar / 1000u);
    } else if (strcmp(field, "tcpi_retransmits") == 0) {
        *v = info.retransmits;
    } else if (strcmp(field, "tcpi_total_retrans") == 0) {
        *v = info.total_retrans;
    } else if (strcmp(field, "tcpi_snd_wscale") == 0) {
        *v = info.snd_wscale;
    } else if (strcmp(field, "tcpi_rcv_wscale") == 0) {
        *v = info.rcv_wscale;
    } else if (strcmp(field, "tcpi_options") == 0) {
        *v = (info.has_timestamps ? 1 : 0) | (info.has_sack ? 2 : 0) |
             (info.has_wscale ? 4 : 0) | (info.syn_data_acked ? 32 : 0);
    } else if (strcmp(field, "tcpi_bytes_acked") == 0) {
        *v = (int64_t)info.bytes_acked;
    } else if (strcmp(field, "tcpi_bytes_received") == 0) {
        *v = (int64_t)info.bytes_received;
    } else if (strcmp(field, "tcpi_snd_wnd") == 0) {
        *v = info.snd_wnd;
    } else if (strcmp(field, "tcpi_rcv_wnd") == 0) {
        *v = info.rcv_wnd;
    } else if (strcmp(field, "tcpi_advmss") == 0) {
        *v = info.adv_mss;
    } else if (strcmp(field, "tcpi_snd_cwnd") == 0) { /* Linux counts segments */
        *v = info.snd_mss ? info.cwnd / info.snd_mss : 0;
    } else if (strcmp(field, "tcpi_snd_ssthresh") == 0) {
        /* Linux: TCP_INFINITE_SSTHRESH (0x7fffffff) until the first loss */
        *v = info.ssthresh == UINT32_MAX ? 0x7fffffff
                                          : (info.snd_mss ? info.ssthresh / info.snd_mss : 0);
    } else if (strcmp(field, "tcpi_ca_state") == 0) {
        /* Open, Disorder, Recovery, Loss, CWR as Linux numbers them */
        static const int64_t linux_ca[] = {0, 1, 3, 4, 2};
        *v = (unsigned)info.ca_state < 5u ? linux_ca[info.ca_state] : -1;
    } else {
        return -1;
    }
    return 0;
}

static int run_code(sc_runner *r, const tw_sc_event *ev)
{
    code_stmt st[16];
    char why[200];
    int n = parse_code(ev->text, st, 16, why, sizeof(why));
    if (n < 0) {
        return sc_skip(r, ev->line, "%s", why);
    }
    for (int i = 0; i < n; i++) {
        int64_t have, want;
        if (tcpi_get(r, st[i].field, &have) < 0) {
            return sc_fail(r, ev->line, "%s: no socket under test to read it from",
                           st[i].field);
        }
        char *end = NULL;
        want = strtoll(st[i].value, &end, 0);
        if (end == st[i].value || *end != '\0') {
            if (sc_symbol(st[i].value, &want) < 0) {
                return sc_fail(r, ev->line, "unknown value '%s'", st[i].value);
            }
        }
        if (st[i].mask[0] != '\0') {
            int64_t m;
            end = NULL;
            m = strtoll(st[i].mask, &end, 0);
            if ((end == st[i].mask || *end != '\0') && sc_symbol(st[i].mask, &m) < 0) {
                return sc_fail(r, ev->line, "unknown value '%s'", st[i].mask);
            }
            have &= m;
        }
        bool ok = false;
        switch (st[i].cmp) {
        case TW_SC_EQ: ok = have == want; break;
        case TW_SC_NE: ok = have != want; break;
        case TW_SC_LT: ok = have < want; break;
        case TW_SC_LE: ok = have <= want; break;
        case TW_SC_GT: ok = have > want; break;
        case TW_SC_GE: ok = have >= want; break;
        }
        if (!ok) {
            return sc_fail(r, ev->line, "assert %s: value is %" PRId64 ", expected %s",
                           st[i].field, have, st[i].value);
        }
    }
    return 0;
}

/* ---- shell commands: sysctl settings --------------------------------------------------- */

typedef struct sysctl_map {
    const char *key;
    const char *setting; /* --set key, or NULL for the special cases below */
    bool invert;         /* value 0 means "no_x = 1" */
    const char *noop;    /* value for which the command is a no-op for tcpwave */
} sysctl_map;

static const sysctl_map sysctls[] = {
    {"net.ipv4.tcp_timestamps", "no_timestamps", true, NULL},
    {"net.ipv4.tcp_sack", "no_sack", true, NULL},
    {"net.ipv4.tcp_window_scaling", "no_wscale", true, NULL},
    {"net.ipv4.tcp_syn_retries", "syn_retries", false, NULL},
    {"net.ipv4.tcp_synack_retries", "synack_retries", false, NULL},
    {"net.ipv4.tcp_retries2", "retries", false, NULL},
    {"net.ipv4.tcp_orphan_retries", "orphan_retries", false, NULL},
    {"net.ipv4.tcp_fin_timeout", "fin_timeout", false, NULL},
    {"net.ipv4.tcp_max_orphans", "max_orphans", false, NULL},
    {"net.ipv4.tcp_max_tw_buckets", "max_time_wait", false, NULL},
    {"net.ipv4.tcp_challenge_ack_limit", "challenge_ack_limit", false, NULL},
    {"net.ipv4.tcp_syncookies", "syncookies", false, NULL},
    {"net.ipv4.tcp_ecn", "ecn", false, NULL},
    {"net.ipv4.ip_default_ttl", "ttl", false, NULL},
    {"net.ipv4.tcp_fastopen", "fastopen", false, NULL},
    {"net.ipv4.tcp_fastopen_key", NULL, false, NULL},
    {"net.ipv4.tcp_max_syn_backlog", "syn_backlog", false, NULL},
    {"net.ipv4.tcp_keepalive_time", NULL, false, NULL},
    {"net.ipv4.tcp_keepalive_intvl", NULL, false, NULL},
    {"net.ipv4.tcp_keepalive_probes", "keepalive_probes", false, NULL},
    {"net.ipv4.tcp_congestion_control", "cc", false, NULL},
    {"net.ipv4.tcp_moderate_rcvbuf", "moderate_rcvbuf", false, NULL},
    {"net.ipv4.tcp_rmem", NULL, false, NULL},
    {"net.ipv4.tcp_wmem", NULL, false, NULL},
    {"net.ipv4.tcp_rto_min_us", NULL, false, NULL},
    {"net.inet.tcp.rfc1323", NULL, false, NULL},
    {"net.ipv4.tcp_early_retrans", NULL, false, NULL}, /* 3, 4: TLP (setting "tlp") */
    {"net.ipv4.tcp_recovery", NULL, false, NULL},      /* bit 0: RACK (setting "rack") */
    {"net.inet.tcp.sack.enable", "no_sack", true, NULL},
    {"net.inet.tcp.msl", NULL, false, NULL},
    {"net.inet.tcp.delayed_ack", NULL, false, NULL},
    /* Features tcpwave does not have: fine when the script turns them off. */
    {"net.ipv4.tcp_abort_on_overflow", NULL, false, "0"},
    {"net.inet.tcp.ecn.enable", NULL, false, "0"},
    {"net.inet.tcp.syncookies", NULL, false, "0"},
    {"net.ipv4.tcp_autocorking", NULL, false, "0"},
    {"net.ipv4.tcp_frto", NULL, false, "0"},
    {"net.ipv4.tcp_no_metrics_save", NULL, false, "1"}, /* no metrics cache */
    /* FreeBSD's host cache (its path MTU among others) emptied: a script's sysctls come
       before its stack is made (one changed mid-script is a SKIP), whose cache is empty. */
    {"net.inet.tcp.hostcache.purgenow", NULL, false, "*"},
    /* TIME-WAIT reuse by connect(): tcpwave's is Linux's for a port bind() gave with
       SO_REUSEADDR, which these do not touch (tcp_twsk_unique: timestamps needed, no
       delay), and tcp_tw_reuse=0's for a port connect picks (never a TIME-WAIT
       4-tuple). A script needing 1's reuse of a picked port pins the port with
       IP_LOCAL_PORT_RANGE, which the runner lacks (SKIP), so any value will do. */
    {"net.ipv4.tcp_tw_reuse", NULL, false, "*"},
    {"net.ipv4.tcp_tw_reuse_delay", NULL, false, "*"},
    /* How Linux sizes TSO bursts: packets are compared after aggregation, any value. */
    {"net.ipv4.tcp_min_tso_segs", NULL, false, "*"},
    {"net.ipv4.tcp_tso_win_divisor", NULL, false, "*"},
};

static void trim(char *s)
{
    char *a = s;
    while (isspace((unsigned char)*a)) {
        a++;
    }
    memmove(s, a, strlen(a) + 1);
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        s[--n] = '\0';
    }
}

/* Apply one "key=value" sysctl to the config. 0, or -1 with a reason. */
static int apply_sysctl(sc_runner *r, const char *key, char *value, char *why, size_t wl)
{
    size_t vl = strlen(value);
    if (vl >= 2 && (value[0] == '"' || value[0] == '\'') && value[vl - 1] == value[0]) {
        value[vl - 1] = '\0';
        memmove(value, value + 1, vl - 1);
    }
    char err[128];
    for (size_t i = 0; i < sizeof(sysctls) / sizeof(sysctls[0]); i++) {
        const sysctl_map *m = &sysctls[i];
        if (strcmp(m->key, key) != 0) {
            continue;
        }
        if (m->noop != NULL) {
            if (strcmp(m->noop, "*") == 0 || strcmp(value, m->noop) == 0) {
                return 0;
            }
            snprintf(why, wl, "sysctl %s=%s: tcpwave has no such feature", key, value);
            return -1;
        }
        if (m->setting != NULL) {
            const char *v = value;
            if (m->invert) {
                v = strcmp(value, "0") == 0 ? "1" : "0";
            }
            if (tw_sc_apply_setting(&r->cfg, &r->mtu, m->setting, v, err, sizeof(err)) < 0) {
                snprintf(why, wl, "sysctl %s=%s: %s", key, value, err);
                return -1;
            }
            return 0;
        }
        if (strcmp(key, "net.ipv4.tcp_rmem") == 0 || strcmp(key, "net.ipv4.tcp_wmem") == 0) {
            unsigned long a, b, c;
            if (sscanf(value, "%lu %lu %lu", &a, &b, &c) != 3 || b > UINT32_MAX) {
                snprintf(why, wl, "sysctl %s: expected three numbers", key);
                return -1;
            }
            /* (the default and the auto-tuning's ceiling; the minimum has no use here) */
            uint32_t most = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
            if (key[13] == 'r') {
                r->cfg.rcvbuf = (uint32_t)b;
                r->cfg.rcvbuf_max = most ? most : r->cfg.rcvbuf_max;
            } else {
                r->cfg.sndbuf = (uint32_t)b;
                r->cfg.sndbuf_max = most ? most : r->cfg.sndbuf_max;
            }
            return 0;
        }
        if (strcmp(key, "net.ipv4.tcp_keepalive_time") == 0 ||
            strcmp(key, "net.ipv4.tcp_keepalive_intvl") == 0) {
            char buf[40];
            snprintf(buf, sizeof(buf), "%ss", value); /* Linux counts these in seconds */
            return tw_sc_apply_setting(&r->cfg, &r->mtu,
                                       strcmp(key, "net.ipv4.tcp_keepalive_time") == 0
                                           ? "keepalive_idle"
                                           : "keepalive_intvl",
                                       buf, why, wl);
        }
        if (strcmp(key, "net.ipv4.tcp_rto_min_us") == 0) {
            char buf[40];
            snprintf(buf, sizeof(buf), "%sus", value);
            return tw_sc_apply_setting(&r->cfg, &r->mtu, "rto_min", buf, why, wl);
        }
        if (strcmp(key, "net.ipv4.tcp_early_retrans") == 0 ||
            strcmp(key, "net.ipv4.tcp_recovery") == 0) {
            /* Linux: tcp_early_retrans 3 and 4 enable TLP (1 and 2, early retransmit
               alone, which RACK supersedes: no TLP); tcp_recovery's bit 0 is RACK. */
            char *end = NULL;
            long v = strtol(value, &end, 0);
            if (end == value || *end != '\0' || v < 0) {
                snprintf(why, wl, "sysctl %s=%s: expected a number", key, value);
                return -1;
            }
            if (key[13] == 'e') { /* (net.ipv4.tcp_early_retrans) */
                r->cfg.no_tlp = !(v == 3 || v == 4);
            } else {
                r->cfg.no_rack = !(v & 1);
            }
            return 0;
        }
        if (strcmp(key, "net.ipv4.tcp_fastopen_key") == 0) {
            /* Linux's "xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx[,backup]": 32 hex digits per
               key (the cookies are Linux's for the same key: fastopen.c) */
            for (int k = 0; k < 2; k++) {
                uint8_t *dst = k ? r->cfg.fastopen_key_backup : r->cfg.fastopen_key;
                memset(dst, 0, 16);
                if (k && *value != ',') {
                    break;
                }
                value += k;
                int n = 0;
                for (; *value && *value != ',' && n < 32; value++) {
                    if (*value == '-') {
                        continue;
                    }
                    if (!isxdigit((unsigned char)*value)) {
                        break;
                    }
                    int d = isdigit((unsigned char)*value) ? *value - '0'
                                                           : (tolower((unsigned char)*value) - 'a' + 10);
                    /* each 8-digit word stored little-endian, as Linux's
                       proc_tcp_fastopen_key (cpu_to_le32) keeps the key */
                    int at = (n / 8) * 4 + 3 - (n % 8) / 2;
                    dst[at] = (uint8_t)(dst[at] << 4 | d);
                    n++;
                }
                if (n != 32) {
                    snprintf(why, wl, "sysctl %s: expected 32 hex digits per key", key);
                    return -1;
                }
            }
            return 0;
        }
        if (strcmp(key, "net.inet.tcp.rfc1323") == 0) {
            bool off = strcmp(value, "0") == 0;
            r->cfg.no_timestamps = off;
            r->cfg.no_wscale = off;
            return 0;
        }
        if (strcmp(key, "net.inet.tcp.delayed_ack") == 0) {
            return tw_sc_apply_setting(&r->cfg, &r->mtu, "delayed_ack",
                                       strcmp(value, "0") == 0 ? "0" : "40ms", why, wl);
        }
        if (strcmp(key, "net.inet.tcp.msl") == 0) {
            char buf[40];
            snprintf(buf, sizeof(buf), "%sms", value); /* FreeBSD counts MSL in ms */
            return tw_sc_apply_setting(&r->cfg, &r->mtu, "msl", buf, why, wl);
        }
    }
    snprintf(why, wl, "sysctl %s is not supported", key);
    return -1;
}

/* `path` is the file `name`, or ends in /name. */
static bool names_file(const char *path, const char *name)
{
    size_t pl = strlen(path), nl = strlen(name);
    return pl >= nl && strcmp(path + pl - nl, name) == 0 && (pl == nl || path[pl - nl - 1] == '/');
}

/* packetdrill's defaults.sh (google/packetdrill gtests/net/common and Linux's
   selftests/net/packetdrill carry the same one): the settings of it that tcpwave has.
   Its buffers are what scripts written against it see most: a 15 MiB tcp_rmem[2] makes
   Linux offer window scale 8 (7 for the stock 6 MiB). Its tcp_slow_start_after_idle=0,
   tcp_frto=2, pacing and TSO settings have no switch here. The two copies differ in
   tcp_fastopen: google's sets 0x70403 (0x400: every listener takes Fast Open without the
   socket option, as its fastopen/server scripts expect), Linux's selftests' 0x3 since
   2025; when `path` can be read, its tcp_fastopen line is applied, else 0x3. */
static int apply_pd_defaults(sc_runner *r, const char *path, char *why, size_t wl)
{
    static const char *const set[][2] = {
        {"net.ipv4.tcp_rmem", "4096 540000 15728640"},
        {"net.ipv4.tcp_wmem", "4096 262144 4194304"},
        {"net.ipv4.tcp_timestamps", "1"},
        {"net.ipv4.tcp_sack", "1"},
        {"net.ipv4.tcp_syn_retries", "5"},
        {"net.ipv4.tcp_synack_retries", "5"},
        {"net.ipv4.tcp_early_retrans", "4"},
        {"net.ipv4.tcp_recovery", "1"},
        {"net.ipv4.tcp_congestion_control", "cubic"},
        {"net.ipv4.tcp_ecn", "0"},
        {"net.ipv4.tcp_fastopen", "3"}, /* (Linux's selftests; google's sets 0x70403) */
        {"net.ipv4.tcp_fastopen_key", "a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4"},
        {"net.ipv4.tcp_syncookies", "1"},
    };
    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
        char v[64];
        snprintf(v, sizeof(v), "%s", set[i][1]);
        if (apply_sysctl(r, set[i][0], v, why, wl) < 0) {
            return -1;
        }
    }
    char ignored[128];
    char *text = path != NULL ? tw_sc_read_file(path, ignored, sizeof(ignored)) : NULL;
    if (text == NULL) {
        return 0;
    }
    static const char fo[] = "net.ipv4.tcp_fastopen=";
    int rc = 0;
    for (char *line = text; line != NULL && *line != '\0';) {
        char *nl = strchr(line, '\n');
        if (nl != NULL) {
            *nl = '\0';
        }
        char *at = strstr(line, fo);
        char *hash = strchr(line, '#');
        if (at != NULL && (hash == NULL || hash > at)) {
            char v[32] = {0};
            sscanf(at + sizeof(fo) - 1, "%31[0-9a-fA-FxX]", v);
            note(r, "`%s`: its net.ipv4.tcp_fastopen=%s applied", path, v);
            rc = apply_sysctl(r, "net.ipv4.tcp_fastopen", v, why, wl);
            break;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    free(text);
    return rc;
}

/* Apply a backquoted command: recognised sysctl forms only. 0, or -1 with a reason. */
static int apply_command(sc_runner *r, const char *cmd, char *why, size_t wl)
{
    char *copy = strdup(cmd);
    if (copy == NULL) {
        snprintf(why, wl, "out of memory");
        return -1;
    }
    /* a backslash before the end of a line continues the command on the next (the
       shell's line continuation, as packetdrill's mtu_probe scripts write set_sysctls.py) */
    for (char *bs = strstr(copy, "\\\n"); bs != NULL; bs = strstr(bs, "\\\n")) {
        bs[0] = ' ';
        bs[1] = ' ';
    }
    int rc = 0;
    char *save = NULL;
    for (char *piece = strtok_r(copy, ";\n", &save); piece != NULL && rc == 0;
         piece = strtok_r(NULL, ";\n", &save)) {
        /* "a && b" runs both when a succeeds: same as "a; b" for settings. */
        char *amp;
        while ((amp = strstr(piece, "&&")) != NULL) {
            amp[0] = ';';
            amp[1] = ' ';
        }
        char *save2 = NULL;
        for (char *cmd1 = strtok_r(piece, ";", &save2); cmd1 != NULL && rc == 0;
             cmd1 = strtok_r(NULL, ";", &save2)) {
            /* a shell comment: '#' at the start of a word runs to the end of the line */
            for (char *h = strchr(cmd1, '#'); h != NULL; h = strchr(h + 1, '#')) {
                if (h == cmd1 || isspace((unsigned char)h[-1])) {
                    *h = '\0';
                    break;
                }
            }
            trim(cmd1);
            if (*cmd1 == '\0') {
                continue;
            }
            char word[256] = {0};
            sscanf(cmd1, "%255s", word);
            if (names_file(word, "defaults.sh")) {
                /* packetdrill's suites start from a script that puts Linux's settings
                   back to their defaults; tcpwave's stack is fresh and at its own. */
                note(r, "`%s`: packetdrill's defaults script, its settings applied", cmd1);
                rc = apply_pd_defaults(r, word, why, wl);
                continue;
            }
            if (strstr(word, "sysctl_restore") != NULL) {
                /* the end of a script that changed sysctls: this stack goes away with it */
                continue;
            }
            if (strcmp(word, "ethtool") == 0 && strstr(cmd1, " -K ") != NULL) {
                note(r, "`%s`: tcpwave has no segmentation or receive offloads to switch",
                     cmd1);
                continue;
            }
            if (names_file(word, "set_sysctls.py")) {
                /* packetdrill's helper: /proc/sys/net/ipv4/NAME=VALUE arguments, the same
                   settings as `sysctl net.ipv4.NAME=VALUE` */
                char *q = cmd1 + strlen(word);
                int n_set = 0;
                while (rc == 0 && *q) {
                    q += strspn(q, " \t");
                    /* a token runs to the next blank outside quotes, as the shell
                       splits it: /proc/sys/net/ipv4/tcp_wmem="4096 50000 4194304" */
                    size_t tl = 0;
                    for (char quote = 0; q[tl] && (quote || (q[tl] != ' ' && q[tl] != '\t'));
                         tl++) {
                        if (quote ? q[tl] == quote : (q[tl] == '"' || q[tl] == '\'')) {
                            quote = quote ? 0 : q[tl];
                        }
                    }
                    if (tl == 0 || *q == '#') { /* (a shell comment ends the command) */
                        break;
                    }
                    char tok[192];
                    snprintf(tok, sizeof(tok), "%.*s", (int)tl, q);
                    q += tl;
                    char *eq2 = strchr(tok, '=');
                    if (strncmp(tok, "/proc/sys/", 10) != 0 || eq2 == NULL) {
                        snprintf(why, wl, "set_sysctls.py argument '%s' is not "
                                          "/proc/sys/...=VALUE", tok);
                        rc = -1;
                        break;
                    }
                    *eq2 = '\0';
                    for (char *c = tok + 10; *c; c++) {
                        *c = *c == '/' ? '.' : *c;
                    }
                    rc = apply_sysctl(r, tok + 10, eq2 + 1, why, wl);
                    n_set++;
                }
                if (rc == 0 && n_set == 0) {
                    snprintf(why, wl, "set_sysctls.py without an argument");
                    rc = -1;
                }
                continue;
            }
            if (strcmp(word, "sysctl") != 0) {
                snprintf(why, wl, "shell command `%s` is not supported", cmd1);
                rc = -1;
                break;
            }
            char *p = cmd1 + 6;
            int assignments = 0;
            while (rc == 0 && *p) {
                while (isspace((unsigned char)*p)) {
                    p++;
                }
                if (*p == '\0') {
                    break;
                }
                if (*p == '-') { /* -q, -w, -qw, -e */
                    while (*p && !isspace((unsigned char)*p)) {
                        p++;
                    }
                    continue;
                }
                char *eq = strchr(p, '=');
                if (eq == NULL) {
                    snprintf(why, wl, "sysctl without an assignment: `%s`", cmd1);
                    rc = -1;
                    break;
                }
                char key[96];
                size_t kl = (size_t)(eq - p);
                if (kl >= sizeof(key)) {
                    kl = sizeof(key) - 1;
                }
                memcpy(key, p, kl);
                key[kl] = '\0';
                trim(key);
                char *v = eq + 1;
                char *vend;
                if (*v == '"' || *v == '\'') {
                    vend = strchr(v + 1, *v);
                    vend = vend ? vend + 1 : v + strlen(v);
                } else {
                    vend = v + strcspn(v, " \t");
                }
                char value[96];
                size_t vlen = (size_t)(vend - v);
                if (vlen >= sizeof(value)) {
                    vlen = sizeof(value) - 1;
                }
                memcpy(value, v, vlen);
                value[vlen] = '\0';
                rc = apply_sysctl(r, key, value, why, wl);
                assignments++;
                p = vend;
            }
            if (rc == 0 && assignments == 0) {
                snprintf(why, wl, "sysctl without an assignment: `%s`", cmd1);
                rc = -1;
            }
        }
    }
    free(copy);
    return rc;
}

/* ---- header options -------------------------------------------------------------------- */

/* packetdrill's --init_scripts: a comma-separated list of scripts run before the script.
   packetdrill's defaults.sh (by name) is applied as a backquoted `defaults.sh` is; any
   other file is read (relative to the working directory, as packetdrill runs it) and
   its text applied as a backquoted command's, so that what it does that tcpwave cannot
   makes the script SKIP with the reason. 0, or -1 with a reason. */
static int apply_init_scripts(sc_runner *r, const char *list, char *why, size_t wl)
{
    char *copy = strdup(list);
    if (copy == NULL) {
        snprintf(why, wl, "out of memory");
        return -1;
    }
    int rc = 0;
    char *save = NULL;
    for (char *f = strtok_r(copy, ",", &save); f != NULL && rc == 0;
         f = strtok_r(NULL, ",", &save)) {
        trim(f);
        if (*f == '\0') {
            continue;
        }
        if (names_file(f, "defaults.sh")) {
            rc = apply_command(r, f, why, wl);
            continue;
        }
        char *text = tw_sc_read_file(f, why, wl);
        if (text == NULL) {
            rc = -1;
            break;
        }
        rc = apply_command(r, text, why, wl);
        free(text);
    }
    free(copy);
    return rc;
}

static int apply_header(sc_runner *r)
{
    const tw_sc_script *s = r->s;
    for (size_t i = 0; i < s->n_options; i++) {
        const tw_sc_option *o = &s->options[i];
        const char *v = o->value ? o->value : "";
        char *end = NULL;
        if (strcmp(o->name, "tolerance_usecs") == 0) {
            long long x = strtoll(v, &end, 10);
            if (end == v || *end || x < 0 || x > 3600000000LL) {
                return sc_fail(r, o->line, "bad --tolerance_usecs (0..3600000000)");
            }
            r->tol_us = x;
        } else if (strcmp(o->name, "tolerance_percent") == 0) {
            double x = strtod(v, &end);
            if (end == v || *end || !(x >= 0 && x <= 1000)) { /* (NaN and inf fail too) */
                return sc_fail(r, o->line, "bad --tolerance_percent (0..1000)");
            }
            r->tol_pct = x;
        } else if (strcmp(o->name, "ip_version") == 0) {
            if (strcmp(v, "ipv6") == 0) {
                return sc_skip(r, o->line, "IPv6 (--ip_version=ipv6): tcpwave is IPv4 only");
            }
            if (strcmp(v, "ipv4") != 0 && strcmp(v, "ipv4-mapped-ipv6") != 0) {
                return sc_fail(r, o->line, "bad --ip_version: %s", v);
            }
        } else if (strcmp(o->name, "mss") == 0) {
            long x = strtol(v, &end, 10);
            if (end == v || *end || x <= 0 || x > 65535) {
                return sc_fail(r, o->line, "bad --mss");
            }
            r->gso_mss = (uint16_t)x;
        } else if (strcmp(o->name, "mtu") == 0) {
            char err[128];
            if (tw_sc_apply_setting(&r->cfg, &r->mtu, "mtu", v, err, sizeof(err)) < 0) {
                return sc_fail(r, o->line, "--mtu: %s", err);
            }
        } else if (strcmp(o->name, "local_ip") == 0 || strcmp(o->name, "remote_ip") == 0) {
            uint32_t a;
            char buf[64];
            snprintf(buf, sizeof(buf), "%s", v);
            buf[strcspn(buf, "/")] = '\0';
            if (tw_wire_parse_addr(buf, &a) < 0) {
                return sc_fail(r, o->line, "bad --%s: %s", o->name, v);
            }
            if (o->name[0] == 'l') {
                r->laddr = a;
            } else {
                r->raddr = a;
            }
        } else if (strcmp(o->name, "bind_port") == 0 || strcmp(o->name, "connect_port") == 0) {
            long x = strtol(v, &end, 10);
            if (end == v || *end || x <= 0 || x > 65535) {
                return sc_fail(r, o->line, "bad --%s", o->name);
            }
            if (o->name[0] == 'b') {
                r->bind_port = (uint16_t)x;
            } else {
                r->connect_port = (uint16_t)x;
            }
        } else if (strcmp(o->name, "tcp_ts_tick_usecs") == 0) {
            long long x = strtoll(v, &end, 10);
            if (end == v || *end || x < 0 || x > 1000000) {
                return sc_fail(r, o->line, "bad --tcp_ts_tick_usecs (0..1000000)");
            }
            r->ts_tick_us = x;
        } else if (strcmp(o->name, "tcp_ts_ecr_scaled") == 0) {
            r->ts_ecr_scaled = true;
        } else if (strcmp(o->name, "strict_segments") == 0) {
            r->strict_segments = true;
        } else if (strcmp(o->name, "remote_seq") == 0) {
            if (strcmp(v, "absolute") == 0) {
                r->remote_seq_absolute = true;
            } else if (strcmp(v, "relative") == 0) {
                r->remote_seq_absolute = false;
            } else {
                return sc_fail(r, o->line, "--remote_seq must be relative or absolute");
            }
        } else if (strcmp(o->name, "define") == 0) {
            /* handled by the preprocessor */
        } else if (strcmp(o->name, "options") == 0) {
            if (strcmp(v, "semantic") == 0) {
                r->semantic = true;
            } else if (strcmp(v, "exact") == 0) {
                r->semantic = false;
            } else {
                return sc_fail(r, o->line, "--options must be exact or semantic");
            }
        } else if (strcmp(o->name, "set") == 0) {
            char kv[128];
            char err[128];
            snprintf(kv, sizeof(kv), "%s", v);
            char *eq = strchr(kv, '=');
            if (eq == NULL) {
                return sc_fail(r, o->line, "--set needs key=value");
            }
            *eq = '\0';
            if (tw_sc_apply_setting(&r->cfg, &r->mtu, kv, eq + 1, err, sizeof(err)) < 0) {
                return sc_fail(r, o->line, "--set: %s", err);
            }
        } else if (strcmp(o->name, "init_scripts") == 0) {
            char why[256];
            if (apply_init_scripts(r, v, why, sizeof(why)) < 0) {
                return sc_skip(r, o->line, "--init_scripts: %s", why);
            }
        } else {
            note(r, "line %d: header option --%s ignored", o->line, o->name);
        }
    }
    return 0;
}

/* Everything that can make the script SKIP without running it. */
static int prescan(sc_runner *r)
{
    const tw_sc_script *s = r->s;
    char why[256];
    if (s->skip_reason != NULL) {
        return sc_skip(r, 0, "%s", s->skip_reason);
    }
    if (r->o->init_scripts != NULL &&
        apply_init_scripts(r, r->o->init_scripts, why, sizeof(why)) < 0) {
        return sc_skip(r, 0, "--init_scripts: %s", why);
    }
    if (s->init_command != NULL && apply_command(r, s->init_command, why, sizeof(why)) < 0) {
        return sc_skip(r, s->init_line, "%s", why);
    }
    bool started = false;
    for (size_t i = 0; i < s->n_events; i++) {
        const tw_sc_event *ev = &s->events[i];
        switch (ev->kind) {
        case TW_SC_EV_COMMAND:
            if (apply_command(r, ev->text, why, sizeof(why)) < 0) {
                return sc_skip(r, ev->line, "%s", why);
            }
            if (started) {
                return sc_skip(r, ev->line, "stack settings changed after the first "
                                            "socket call or packet: not supported");
            }
            break;
        case TW_SC_EV_CODE: {
            code_stmt st[16];
            if (parse_code(ev->text, st, 16, why, sizeof(why)) < 0) {
                return sc_skip(r, ev->line, "%s", why);
            }
            break;
        }
        case TW_SC_EV_SYSCALL: {
            if (sc_syscall_unknown(ev->call.name)) {
                return sc_fail(r, ev->line, "unknown system call %s()", ev->call.name);
            }
            const char *u = sc_syscall_unsupported(&ev->call, why, sizeof(why));
            if (u != NULL) {
                return sc_skip(r, ev->line, "%s", u);
            }
            started = true;
            break;
        }
        default:
            started = true;
            break;
        }
    }
    if (s->cleanup_command != NULL) {
        note(r, "line %d: final command not run (each script gets a fresh stack)",
             s->cleanup_line);
    }
    return 0;
}

/* ---- pending blocking calls ------------------------------------------------------------ */

static int finish_call(sc_runner *r, const tw_sc_event *ev, const sc_call_out *out,
                       bool check_end, int64_t start_us, int64_t end_us)
{
    const tw_sc_syscall *c = &ev->call;
    int64_t want = 0;
    if (c->result->kind != TW_SC_E_ELLIPSIS) {
        if (sc_eval_int(c->result, &want) < 0) {
            return sc_fail(r, ev->line, "cannot evaluate the expected result");
        }
        bool err_ok = true;
        if (c->err_name != NULL) {
            err_ok = out->err != NULL && strcmp(c->err_name, out->err) == 0;
            if (!err_ok && out->err != NULL) {
                int64_t a, b;
                err_ok = sc_symbol(c->err_name, &a) == 0 && sc_symbol(out->err, &b) == 0 &&
                         a == b; /* EAGAIN == EWOULDBLOCK */
            }
        } else if (out->ret == -1 && want != -1) {
            err_ok = false;
        }
        if (out->ret != want || !err_ok) {
            tw_sb sb = {0};
            tw_sb_printf(&sb, "%s() returned %" PRId64, c->name, out->ret);
            if (out->ret == -1 && out->err) {
                tw_sb_printf(&sb, " %s", out->err);
            }
            tw_sb_printf(&sb, ", expected %" PRId64, want);
            if (c->err_name) {
                tw_sb_printf(&sb, " %s", c->err_name);
            }
            sc_fail(r, ev->line, "%s", sb.buf);
            tw_sb_free(&sb);
            return -1;
        }
    }
    if (check_end) {
        int64_t now = sc_now_us(r);
        int64_t tol = r->tol_us;
        int64_t dyn = (int64_t)(r->tol_pct / 100.0 * (double)(end_us - start_us));
        if (dyn > tol) {
            tol = dyn;
        }
        if (now < end_us - tol || now > end_us + tol) {
            tw_sb sb = {0};
            tw_sb_printf(&sb, "timing error: expected the call to return at ");
            put_secs(&sb, end_us);
            tw_sb_printf(&sb, " (tolerance ");
            put_secs(&sb, tol);
            tw_sb_printf(&sb, "), it returned at ");
            put_secs(&sb, now);
            sc_fail(r, ev->line, "%s", sb.buf);
            tw_sb_free(&sb);
            return -1;
        }
    }
    if (r->o->verbose) {
        tw_sb sb = {0};
        put_secs(&sb, sc_now_us(r));
        printf("    %s %s() = %" PRId64 "%s%s\n", sb.buf, c->name, out->ret,
               out->err ? " " : "", out->err ? out->err : "");
        tw_sb_free(&sb);
    }
    return 0;
}

static void poll_pending(sc_runner *r)
{
    if (!r->pend.active || r->stop) {
        return;
    }
    sc_call_out out = {0};
    sc_call_status st = sc_syscall(r, r->pend.ev, &r->pend.ctx, &out);
    if (st == SC_BLOCK) {
        return;
    }
    const tw_sc_event *ev = r->pend.ev;
    r->pend.active = false;
    if (st == SC_DONE) {
        finish_call(r, ev, &out, true, r->pend.start_us, r->pend.end_us);
    }
}

static int run_syscall(sc_runner *r, const tw_sc_event *ev, int64_t t_us, int64_t offset_us)
{
    if (ev->call.blocking && r->pend.active) {
        return sc_fail(r, ev->line, "blocking system call while another blocking system call "
                                    "(line %d) is still in progress",
                       r->pend.ev->line);
    }
    sc_call_ctx ctx = {0};
    sc_call_out out = {0};
    sc_call_status st = sc_syscall(r, ev, &ctx, &out);
    if (st == SC_SKIP || st == SC_FAIL) {
        return -1;
    }
    int64_t end_us = ev->call.end_us;
    if (ev->time.kind == TW_SC_T_REL) {
        end_us += offset_us;
    }
    if (st == SC_DONE) {
        return finish_call(r, ev, &out, ev->call.blocking, t_us, end_us);
    }
    if (ev->call.blocking) {
        r->pend.active = true;
        r->pend.ev = ev;
        r->pend.ctx = ctx;
        r->pend.start_us = t_us;
        r->pend.end_us = end_us;
        return 0;
    }
    /* A blocking socket, a call the script does not mark blocking: the application
       thread waits, as it would in the kernel, while the stack's timers run. */
    for (unsigned iter = 0; iter < 100000u && !r->stop; iter++) {
        tw_time d = tw_stack_next_deadline(r->st);
        if (ctx.wake && ctx.wake < d) {
            d = ctx.wake;
        }
        if (d == TW_TIME_NEVER || d > r->clock + TW_SEC(3600)) {
            return sc_fail(r, ev->line, "%s() blocks forever: the socket is blocking and "
                                        "nothing can wake it (mark it '...' or use "
                                        "O_NONBLOCK)",
                           ev->call.name);
        }
        if (d > r->clock) {
            r->clock = d;
        }
        stack_on_timeout(r);
        poll_pending(r);
        st = sc_syscall(r, ev, &ctx, &out);
        if (st == SC_SKIP || st == SC_FAIL) {
            return -1;
        }
        if (st == SC_DONE) {
            return finish_call(r, ev, &out, false, t_us, end_us);
        }
    }
    return sc_fail(r, ev->line, "%s() did not return", ev->call.name);
}

/* ---- the event loop -------------------------------------------------------------------- */

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int run_event(sc_runner *r, const tw_sc_event *ev, bool first)
{
    int64_t now_us = sc_now_us(r);
    int64_t offset = 0;
    int64_t t_us = ev->time.start_us;
    int64_t t_end = ev->time.end_us;
    switch (ev->time.kind) {
    case TW_SC_T_ABS:
    case TW_SC_T_ABS_RANGE:
        break;
    case TW_SC_T_REL:
    case TW_SC_T_REL_RANGE:
        offset = now_us;
        t_us += offset;
        t_end += offset;
        break;
    case TW_SC_T_ANY:
        t_us = now_us;
        break;
    }
    if (first && ev->time.start_us != 0) {
        return sc_fail(r, ev->line, "the first event should be at time 0");
    }
    int64_t tol = tolerance(r, t_us);
    bool outbound = ev->kind == TW_SC_EV_PACKET && ev->pkt.outbound;
    if (!outbound && t_us < now_us - tol) {
        tw_sb sb = {0};
        tw_sb_printf(&sb, "timing error: this event is at ");
        put_secs(&sb, t_us);
        tw_sb_printf(&sb, " but the script is already at ");
        put_secs(&sb, now_us);
        sc_fail(r, ev->line, "%s", sb.buf);
        tw_sb_free(&sb);
        return -1;
    }
    r->ev_us = t_us > now_us ? t_us : now_us;
    if (r->o->verbose) {
        printf("  %d: ", ev->line);
        tw_sc_print_event(stdout, ev);
        printf("\n");
    }
    int rc = 0;
    if (outbound) {
        rc = expect_outbound(r, ev, t_us, t_end, tol);
    } else {
        run_until(r, vt(r, r->ev_us), false);
        if (r->cur_event >= r->tail_from) {
            while (r->q_len > 0) { /* (packetdrill's rule: see tw_sc_run) */
                q_pop(r);
                r->tail_pkts++;
            }
        }
        if (r->stop || check_unclaimed(r, ev->line, r->ev_us) < 0) {
            return -1;
        }
        switch (ev->kind) {
        case TW_SC_EV_PACKET:
            rc = inject(r, ev);
            break;
        case TW_SC_EV_SYSCALL:
            rc = run_syscall(r, ev, r->ev_us, offset);
            break;
        case TW_SC_EV_COMMAND:
            break; /* applied before the run (prescan) */
        case TW_SC_EV_CODE:
            rc = run_code(r, ev);
            break;
        case TW_SC_EV_STATE:
            rc = check_state(r, ev);
            break;
        case TW_SC_EV_COUNTER:
            rc = check_counter(r, ev);
            break;
        case TW_SC_EV_DEADLINE:
            rc = check_deadline(r, ev);
            break;
        case TW_SC_EV_ISN:
            rc = check_isn(r, ev);
            break;
        }
    }
    r->prev_event_us = t_us;
    r->have_prev = true;
    if (rc == 0 && !r->stop) {
        rc = check_claim(r, false);
    }
    return (rc < 0 || r->stop) ? -1 : 0;
}

static void runner_free(sc_runner *r)
{
    /* Sockets belong to the stack: tw_stack_free releases them. */
    tw_stack_free(r->st);
    while (r->q_len > 0) {
        q_pop(r);
    }
    free(r->q);
    free(r->conns);
    free(r->ts_map);
    for (size_t i = 0; i < r->n_flows; i++) {
        free(r->flows[i]->sent);
        free(r->flows[i]);
    }
    free(r->flows);
    free(r->scratch);
    free(r->iobuf);
}

void tw_sc_run(const tw_sc_script *s, const tw_sc_opts *o, tw_sc_result *res)
{
    memset(res, 0, sizeof(*res));
    res->verdict = TW_SC_PASS;
    sc_runner r;
    memset(&r, 0, sizeof(r));
    r.s = s;
    r.o = o;
    r.res = res;
    r.cur_fd = -1;
    r.tol_us = 4000;
    r.tol_pct = 12.5;
    r.semantic = o->semantic_options;
    r.laddr = 0xc0a80001;  /* 192.168.0.1, packetdrill's local address */
    r.raddr = 0xc0000201;  /* 192.0.2.1, packetdrill's remote address (RFC 5737) */
    r.bind_port = 8080;
    r.connect_port = 8080;
    uint64_t seed = o->seed;
    /* packetdrill picks an unused ephemeral port for the remote end; any fixed one
       derived from the seed will do here. */
    r.rport = (uint16_t)(40000u + splitmix(&seed) % 20000u);
    r.mtu = 1500;
    tw_config_init(&r.cfg);
    /* Delayed ACK is not part of what these scripts check yet: ACK every segment. */
    r.cfg.delayed_ack = 0;
    r.cfg.no_delayed_ack = true;
    char err[160];
    for (size_t i = 0; i < o->n_sets; i++) {
        if (tw_sc_apply_setting(&r.cfg, &r.mtu, o->sets[i].key, o->sets[i].value, err,
                                sizeof(err)) < 0) {
            sc_fail(&r, 0, "--set: %s", err);
            goto out;
        }
    }
    if (apply_header(&r) < 0 || prescan(&r) < 0) {
        goto out;
    }
    r.cfg.addr = r.laddr;
    for (size_t i = 0; i < sizeof(r.cfg.entropy); i += 8) {
        uint64_t x = splitmix(&seed);
        memcpy(r.cfg.entropy + i, &x, 8);
    }
    if (!o->untraced) {
        r.cfg.trace = on_trace;
        r.cfg.trace_ud = &r;
    }
    r.base = TW_SEC(1);
    r.clock = r.base;
    tw_netdev dev = {.transmit = on_transmit, .ud = &r, .mtu = r.mtu};
    int rc = tw_stack_new(&r.st, &r.cfg, &dev, r.clock);
    if (rc != TW_OK) {
        sc_fail(&r, 0, "tw_stack_new failed: %s", tw_strerror(rc));
        goto out;
    }
    r.lport = r.bind_port;
    /* packetdrill compares what the stack sends only against '>' lines, so a packet sent
       after the last of them is never looked at (the ACK a final '<' data line draws, for
       example). Scripts written for it rely on that; --strict-end fails on such packets,
       as tcpwave's own suite does. */
    r.tail_from = s->n_events;
    if (!o->strict_end) {
        r.tail_from = 0;
        for (size_t i = 0; i < s->n_events; i++) {
            if (s->events[i].kind == TW_SC_EV_PACKET && s->events[i].pkt.outbound) {
                r.tail_from = i + 1;
            }
        }
    }
    for (size_t i = 0; i < s->n_events && !r.stop; i++) {
        r.cur_event = i;
        run_event(&r, &s->events[i], i == 0);
    }
    if (!r.stop) {
        check_claim(&r, true);
    }
    if (!r.stop && r.pend.active) {
        sc_fail(&r, r.pend.ev->line, "the blocking %s() never returned", r.pend.ev->call.name);
    }
    if (!r.stop && r.q_len > 0 && r.tail_from < s->n_events) {
        r.tail_pkts += r.q_len;
    } else if (!r.stop && r.q_len > 0) {
        tw_sb sb = {0};
        fmt_queued(&r, q_peek(&r), &sb);
        sc_fail(&r, 0, "the stack sent a packet after the last line that the script does "
                       "not expect:\n    actual:   %s",
                sb.buf ? sb.buf : "");
        tw_sb_free(&sb);
    }
    if (!r.stop && r.foreign_pkts > 0) {
        note(&r, "%zu packet%s of connections other than the socket under test %s passed "
                 "over, as in packetdrill (--strict-end checks them)",
             r.foreign_pkts, r.foreign_pkts == 1 ? "" : "s",
             r.foreign_pkts == 1 ? "was" : "were");
    }
    if (!r.stop && r.tail_pkts > 0) {
        note(&r, "%zu packet%s sent after the last '>' line %s not checked, as in packetdrill "
                 "(--strict-end checks them)",
             r.tail_pkts, r.tail_pkts == 1 ? "" : "s", r.tail_pkts == 1 ? "was" : "were");
    }
out:
    if (res->verdict == TW_SC_FAIL) {
        dump_trace(&r);
    }
    runner_free(&r);
}
