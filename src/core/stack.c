/*
 * stack.c -- tw_stack: configuration, the three engine calls (input, next deadline,
 * on_timeout), the port table, counters and drops.
 */
#include "core/stack.h"
#include "core/ipv4.h"
#include "core/ecn.h"
#include "core/tcp_conn.h"
#include "core/timewait.h"
#include "core/reqsk.h"
#include "core/ipfrag.h"
#include "core/copy.h"
#include "core/cksum.h"

#include <stddef.h>
#include <string.h>

/* see tcpwave.h */
void tw_config_init(tw_config *cfg)
{
    if (!cfg) {
        return;
    }
    memset(cfg, 0, sizeof(*cfg));
    cfg->msl = TW_SEC(30);
    cfg->rto_initial = TW_SEC(1);
    cfg->rto_min = TW_MS(200);
    cfg->rto_max = TW_SEC(120);
    cfg->fin_timeout = TW_SEC(60);
    /* RFC 1122 4.2.3.5: R2 for a SYN "MUST be set large enough to provide retransmission
       of the segment for at least 3 minutes". With the 1 s initial RTO doubling, Linux's
       6 retries give up after 127 s; 7 keep the attempt alive 247 s (last copy at 127 s,
       then one rto_max). */
    cfg->syn_retries = 7;
    cfg->synack_retries = 5;
    cfg->retries = 15;
    cfg->orphan_retries = 8;
    cfg->rcvbuf = 131072;
    cfg->sndbuf = 131072;
    cfg->rcvbuf_max = 6u << 20; /* Linux's tcp_rmem[2] */
    cfg->sndbuf_max = 4u << 20; /* Linux's tcp_wmem[2] */
    /* No stack-wide budget, as Linux since 6.0 (tcp_challenge_ack_limit INT_MAX): a
       budget shared by all connections is an off-path side channel (CVE-2016-5696: a
       forger counts the challenge ACKs left to learn whether a 4-tuple is in use); the
       per-connection limit stays (tw_out_challenge_ack). */
    cfg->challenge_ack_limit = UINT32_MAX;
    cfg->cc = TW_CC_CUBIC;
    cfg->initial_cwnd = 10;
    cfg->delayed_ack = TW_MS(40);
    cfg->keepalive_idle = TW_SEC(7200);
    cfg->keepalive_intvl = TW_SEC(75);
    cfg->keepalive_probes = 9;
    cfg->invalid_ratelimit = TW_MS(500);
    cfg->fastopen = TW_FASTOPEN_CLIENT; /* Linux's default, 1: only when asked for */
    cfg->fastopen_cache = 64;
    cfg->ttl = 64; /* Linux's ip_default_ttl */
}

static void fill_defaults(tw_config *c)
{
    tw_config d;
    tw_config_init(&d);
    /* A zero field means "default", so a caller that skipped tw_config_init still gets
       a working stack (STYLE 7.2). */
    if (!c->msl) {
        c->msl = d.msl;
    }
    if (!c->rto_initial) {
        c->rto_initial = d.rto_initial;
    }
    if (!c->rto_min) {
        c->rto_min = d.rto_min;
    }
    if (c->rto_min < TW_TICK) {
        c->rto_min = TW_TICK; /* RFC 6298 2.3's G: tw_rtt_sample_in's floor holds it */
    }
    if (!c->rto_max) {
        c->rto_max = d.rto_max;
    }
    if (c->rto_max < c->rto_min) {
        c->rto_max = c->rto_min;
    }
    if (!c->fin_timeout) {
        c->fin_timeout = d.fin_timeout;
    }
    if (!c->rcvbuf) {
        c->rcvbuf = d.rcvbuf;
    }
    if (!c->sndbuf) {
        c->sndbuf = d.sndbuf;
    }
    if (!c->rcvbuf_max) {
        c->rcvbuf_max = d.rcvbuf_max;
    }
    if (!c->sndbuf_max) {
        c->sndbuf_max = d.sndbuf_max;
    }
    if (!c->challenge_ack_limit) {
        c->challenge_ack_limit = d.challenge_ack_limit;
    }
    if (!c->initial_cwnd) {
        c->initial_cwnd = d.initial_cwnd;
    }
    if (!c->delayed_ack) {
        c->delayed_ack = d.delayed_ack;
    }
    if (!c->keepalive_idle) {
        c->keepalive_idle = d.keepalive_idle;
    }
    if (!c->keepalive_intvl) {
        c->keepalive_intvl = d.keepalive_intvl;
    }
    if (!c->keepalive_probes) {
        c->keepalive_probes = d.keepalive_probes;
    }
    if (!c->invalid_ratelimit) {
        c->invalid_ratelimit = d.invalid_ratelimit;
    }
    /* (fastopen 0 is Linux's "off", a setting of its own) */
    if (!c->fastopen_cache) {
        c->fastopen_cache = d.fastopen_cache;
    }
    if (!c->ttl) {
        c->ttl = d.ttl; /* (RFC 1122 3.2.1.7: a TTL of 0 is never sent) */
    }
}

/* RFC 1624 3: a header checksum at `ck` after one 16-bit word went from `old` to `new_`. */
static void ip_cksum_adjust(uint8_t *ck, uint16_t old, uint16_t new_)
{
    uint32_t s = (uint32_t)(~tw_get16(ck) & 0xffffu) + (uint32_t)(~old & 0xffffu) + new_;
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    tw_put16(ck, (uint16_t)~s);
}

/* The DS field of a TCP packet we send (a 20-byte IP header: all ours have one): its
   connection's own (tw_socket_set_tos), a SYN queue entry's listener's, a SYN cookie's
   SYN+ACK its listener's (as Linux answers with the listener's IP_TOS), else `dflt`
   (cfg.tos: segments for no connection, TIME-WAIT records). */
static uint8_t sender_tos(tw_stack *st, const uint8_t *pkt, uint8_t dflt)
{
    const uint8_t *tcp = pkt + TW_IPV4_HDR_LEN;
    uint64_t key = tw_tuple_key(tw_get32(pkt + 16), tw_get16(tcp + 2), tw_get16(tcp));
    tw_hnode *n = tw_htab_find(&st->conns, key);
    const tw_socket *c = n && tw_hnode_is_req(n) ? ((const tw_reqsk *)n)->listener
                         : n                     ? (const tw_socket *)n
                         : (tcp[13] & (TW_SYN | TW_ACK)) == (TW_SYN | TW_ACK)
                             ? tw_port_listener(st, tw_get16(tcp))
                             : NULL;
    const tw_sock_opts *o = c ? c->opts : NULL;
    return o && o->tos_set ? o->tos : dflt;
}

/* The netdev call of a stack whose TTL or DS field is not the built-in one (stack.h
   ipf_tx). RFC 9293 3.9.2 MUST-49: the TTL of the segments sent is configurable; 3.9.1.9
   MUST-48 and SHLD-22: the DS field the application gives goes to IP unchanged. Every
   builder writes TTL 64 and a DS field of 0 (the checksum summed with them as constants,
   ipv4.h), so the two bytes are set here, as the packet leaves, and the checksum adjusted:
   the default stack keeps its constants and pays nothing. The ECN bits stay as built or
   as tw_ecn_mark set them. Writing the same values twice changes nothing, so a buffer
   sent again needs no care; but the SYN's and the SYN+ACK's places in st->txbuf keep
   their IPv4 header from one to the next (stack.h TW_TXBUF_SYN_AT, TW_TXBUF_SYNACK_AT),
   and its ACK place a FIN's or pure ACK's (TW_TXBUF_ACK_AT), so a segment from there gets its three
   words back after the call. */
static int ip_fields_xmit(const uint8_t *cpkt, size_t len, void *ud)
{
    tw_stack *st = ud;
    uint8_t *pkt = (uint8_t *)(uintptr_t)cpkt; /* (the stack's own buffers: writable) */
    uint8_t tos = st->cfg.tos;
    if (st->tos_socks && pkt[9] == TW_IPPROTO_TCP && len >= TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN) {
        tos = sender_tos(st, pkt, tos);
    }
    uint16_t w0 = tw_get16(pkt), w4 = tw_get16(pkt + 8), ck = tw_get16(pkt + 10);
    uint16_t n0 = (uint16_t)((w0 & 0xff03u) | (tos & 0xfcu));
    uint16_t n4 = (uint16_t)((w4 & 0x00ffu) | (uint32_t)st->cfg.ttl << 8);
    tw_put16(pkt, n0);
    tw_put16(pkt + 8, n4);
    ip_cksum_adjust(pkt + 10, w0, n0);
    ip_cksum_adjust(pkt + 10, w4, n4);
    int rc = st->ipf_tx(pkt, len, st->ipf_ud);
    if (pkt == st->txbuf_syn || pkt == st->txbuf_ack || pkt == st->txbuf_synack) {
        /* (kept for the next SYN, or FIN or pure ACK: stack.h TW_TXBUF_SYN_AT,
           TW_TXBUF_ACK_AT) */
        tw_put16(pkt, w0);
        tw_put16(pkt + 8, w4);
        tw_put16(pkt + 10, ck);
    }
    return rc;
}

static uint64_t load_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

void tw_stack_ip_fields_use(tw_stack *st)
{
    if (st->ipf_tx) {
        return; /* (in place) */
    }
    /* Below ECN's wrapper when it is in place (ecn.c puts back what it took from
       dev.transmit when its last user goes, which must then be this one). */
    bool under_ecn = st->ecn_users != 0;
    int (**slot)(const uint8_t *, size_t, void *) = under_ecn ? &st->ecn_tx : &st->dev.transmit;
    void **ud = under_ecn ? &st->ecn_ud : &st->dev.ud;
    st->ipf_tx = *slot;
    st->ipf_ud = *ud;
    *slot = ip_fields_xmit;
    *ud = st;
    if (st->plain_xmit == st->ipf_tx && st->plain_ud == st->ipf_ud) {
        st->plain_xmit = ip_fields_xmit; /* (an untraced stack's, which was dev's) */
        st->plain_ud = st;
    }
}

/* see tcpwave.h */
int tw_stack_new(tw_stack **out, const tw_config *cfg, const tw_netdev *dev, tw_time now)
{
    if (!out || !cfg || !dev || !dev->transmit || cfg->addr == 0) {
        return TW_ERR_INVAL;
    }
    uint16_t mtu = dev->mtu ? dev->mtu : 1500;
    if (mtu < 576) {
        return TW_ERR_INVAL;
    }
    /* cwnd is initial_cwnd segments in bytes, a 32-bit count kept below 2^31 (pipe and
       window arithmetic): 1024 segments of the largest MSS stay far below it. */
    if (cfg->initial_cwnd > TW_INITIAL_CWND_MAX) {
        return TW_ERR_INVAL;
    }
    /* A listener's SYN queue length is a 16-bit count: past 65535 it would wrap to 0 and
       S8's bound would never be reached. */
    if (cfg->syn_backlog > TW_SYN_BACKLOG_MAX) {
        return TW_ERR_INVAL;
    }
    tw_mem mem;
    tw_mem_init(&mem, cfg->allocator, cfg->max_memory);
    tw_stack *st = tw_mem_zalloc(&mem, sizeof(*st));
    if (!st) {
        return TW_ERR_NOMEM;
    }
    st->last_conn = TW_CONN_NONE; /* (no connection cached: tcp_conn.h) */
    st->mem = mem; /* already counts the stack itself */
    for (size_t i = 0; i < 65536 / TW_LISTEN_LEAF; i++) {
        st->listen[i] = (tw_listen_leaf *)&tw_listen_leaf_none; /* (no listener: stack.h) */
    }
    st->listen_last_port = UINT32_MAX; /* (no listener cached: stack.h) */
    if (st->mem.reserve) {
        /* Under a memory budget ring blocks are not kept on a free list: a kept block
           is memory no ring could have, and send's usual first write, which takes its
           block from the list in line, would take the budget's reserve for receiving
           (mem.h) with no test of its own. */
        tw_mem_list_off(&st->mem, TW_MC_RING);
    }
    /* (a listed connection object may keep its rings' blocks: tcp_conn.h
       tw_conn_rings_kept) */
    tw_mem_keep_at(&st->mem, offsetof(struct tw_socket, snd.buf),
                   offsetof(struct tw_socket, rcv.buf));
    st->cfg = *cfg;
    st->cfg.allocator = NULL; /* copied into st->mem; the caller's struct may go away */
    fill_defaults(&st->cfg);
    st->syn_opts = (uint8_t)((st->cfg.no_wscale ? 0 : TW_OPT_WSCALE) |
                             (st->cfg.no_sack ? 0 : TW_OPT_SACK_PERM) |
                             (st->cfg.no_timestamps ? 0 : TW_OPT_TS));
    if (st->cfg.ecn == TW_ECN_ON) {
        st->syn_opts |= TW_SYN_OPTS_ECN; /* (ecn.h) */
    }
    st->syn_wscale_mask = (st->syn_opts & TW_OPT_WSCALE) ? 0xffu : 0u;
    st->dev = *dev;
    st->dev.mtu = mtu;
    st->syn_mssw = tw_be32(0x02040000u | tw_conn_mss_for(st, 0)); /* (stack.h) */
    st->call_free = true; /* (no call in progress: stack.h) */
    st->traced = st->cfg.trace != NULL;
    st->sndbuf_small = st->cfg.sndbuf < TW_MEM_RING_BLOCK; /* (socket.c call_gate) */
    st->copy_narrow = TW_COPY_WIDE && !tw_cksum_have_avx2(); /* (socket.c call_gate) */
    st->plain_xmit = st->traced ? tw_out_traced_xmit : st->dev.transmit;
    st->plain_ud = st->traced ? (void *)st : st->dev.ud;
    if (st->cfg.ttl != 64 || (st->cfg.tos & 0xfcu)) {
        tw_stack_ip_fields_use(st);
    }
    st->close_plain_below = st->traced              ? 0
                            : st->cfg.max_orphans ? (ptrdiff_t)st->cfg.max_orphans
                                                  : PTRDIFF_MAX;
    st->orphan_room = st->close_plain_below; /* (no orphan yet) */
    st->time_wait_len = 2 * st->cfg.msl;
    tw_time rto_most = st->cfg.rto_initial > st->cfg.rto_max ? st->cfg.rto_initial
                                                              : st->cfg.rto_max;
    st->rto_now_below = rto_most <= TW_TIME_NEVER - (TW_TICK - 1)
                            ? TW_TIME_NEVER - (TW_TICK - 1) - rto_most + 1
                            : 0;
    /* (0 too for a default receive buffer within the SYN's window field: stack.h) */
    size_t plain_below =
        st->traced || st->syn_opts != (TW_OPT_WSCALE | TW_OPT_SACK_PERM | TW_OPT_TS) ||
                st->cfg.rcvbuf <= 65535u
            ? 0
        : st->cfg.max_connections ? st->cfg.max_connections
                                  : SIZE_MAX;
    /* (a Fast Open listener makes it false too: tw_socket_set_fastopen, and here for
       TW_FASTOPEN_SERVER_ALL, so that its SYNs reach listen_admit's Fast Open step) */
    st->syn_plain = !st->cfg.syn_backlog && st->cfg.syncookies != TW_SYNCOOKIES_ALWAYS &&
                    !st->cfg.max_connections &&
                    (st->cfg.fastopen & (TW_FASTOPEN_SERVER | TW_FASTOPEN_SERVER_ALL)) !=
                        (TW_FASTOPEN_SERVER | TW_FASTOPEN_SERVER_ALL);
    st->conn_wscale = st->cfg.no_wscale ? 0 : tw_wscale_offer(st, st->cfg.rcvbuf, false);
    if (st->cfg.rcvbuf < 1u << st->conn_wscale) {
        /* An auto-tuned buffer is offered the scale of its ceiling (7 for 6 MiB), whose
           unit (128 bytes) can exceed a tiny default buffer: a window of one unit is the
           least the field can say, and one over a smaller buffer is a promise the buffer
           cannot keep (its tail refused each time: the window shrinking by itself, RFC
           9293 3.8.6.2.2 SHLD-14; without timestamps every sender's segment lost its
           tail to the backed-off RTO, sim --set rcvbuf=100 --set no_sack=1 --set
           no_timestamps=1 took minutes or stalled). The default buffer is at least one
           unit, as Linux's is at least SOCK_MIN_RCVBUF (2304 bytes, above 128). */
        st->cfg.rcvbuf = 1u << st->conn_wscale;
    }
    {
        /* (tw_rtt_sample_as's RTO for SRTT 500 us, RTTVAR 250 us: stack.h) */
        tw_time k = 4 * TW_US(250) > st->cfg.rto_min ? 4 * TW_US(250) : st->cfg.rto_min;
        tw_time rto = TW_US(500) + k;
        st->rto_first_half_ms = rto > st->cfg.rto_max ? st->cfg.rto_max : rto;
        /* (stack.h: a sample r below it has 4 * (r / 2) <= 2r <= rto_min, and SRTT, r or
           1 for 0, at most rto_max - rto_min) */
        tw_time span = st->cfg.rto_max - st->cfg.rto_min; /* (rto_max >= rto_min: above) */
        tw_time half = st->cfg.rto_min / 2;
        st->rtt_first_short = span == 0 ? 0 : (half < span ? half : span) + 1;
    }
    tw_conn_tmpl_init(st);
    st->now = now;
    st->now_ms = now / TW_MS(1);
    st->now_ms_hi = st->now_ms << 32;
    st->addr_net = tw_be32(st->cfg.addr);
    tw_syn_memo_set(st, 0); /* (no peer yet: right for 0, stack.h) */
    /* Expand the caller's 32 bytes of entropy into independent keys. */
    tw_sipkey root = {load_u64(cfg->entropy), load_u64(cfg->entropy + 8)};
    tw_sipkey root2 = {load_u64(cfg->entropy + 16), load_u64(cfg->entropy + 24)};
    {
        uint8_t k[16];
        uint64_t k0 = tw_siphash_4x32(&root, 1, 0, 0, 0), k1 = tw_siphash_4x32(&root2, 1, 0, 0, 0);
        for (unsigned i = 0; i < 8; i++) {
            k[i] = (uint8_t)(k0 >> (8 * i));
            k[8 + i] = (uint8_t)(k1 >> (8 * i));
        }
        tw_aes128_init(&st->isn_aes, k, true);
    }
    if (st->isn_aes.ni) {
        /* A peer kept from the start (stack.h isn_mid_peer): a good one (never our own
           address, so one of two), so that connect's usual peer, kept, is a good
           address with no test (socket.c connect_bad_peer); its block's first half as
           tcp_conn.c tw_tuple_hash_new_peer makes it. */
        uint32_t p0 = st->cfg.addr != TW_ISN_FIRST_PEER ? TW_ISN_FIRST_PEER
                                                        : TW_ISN_FIRST_PEER + 1u;
        assert(!tw_ipv4_bad_source(p0, st->cfg.addr));
        st->isn_mid_peer = p0;
        st->good_peer = p0;
        st->isn_mid = (uint64_t)st->cfg.addr | (uint64_t)p0 << 32;
    } else {
        st->isn_mid_peer = 0; /* (no peer's: a first word all the same) */
        st->good_peer = TW_GOOD_PEER_NONE;
        st->isn_mid = st->cfg.addr;
        /* connect's usual steps take a kept peer's ISN with the AES-NI rounds and its
           address as good (socket.c connect_fresh): with no peer kept (0, a bad
           address), every connect takes connect_other_peer, which asks both */
        plain_below = 0;
    }
    st->ts_key.k0 = tw_siphash_4x32(&root, 2, 0, 0, 0);
    st->ts_key.k1 = tw_siphash_4x32(&root2, 2, 0, 0, 0);
    st->port_key.k0 = tw_siphash_4x32(&root, 3, 0, 0, 0);
    st->port_key.k1 = tw_siphash_4x32(&root2, 3, 0, 0, 0);
    st->ip_id = (uint32_t)tw_siphash_4x32(&root, 7, 0, 0, 0);
    st->icmp_tokens = TW_ICMP_BURST;
    st->mss_slow = TW_PEER_MSS_MIN; /* (no path MTU learnt: tcp_in.c tw_peer_mss_slow) */
    st->cookie_key.k0 = tw_siphash_4x32(&root, 5, 0, 0, 0);
    st->cookie_key.k1 = tw_siphash_4x32(&root2, 5, 0, 0, 0);
    st->tfo_key.k0 = tw_siphash_4x32(&root, 6, 0, 0, 0); /* RFC 7413 4.1.2's secret */
    st->tfo_key.k1 = tw_siphash_4x32(&root2, 6, 0, 0, 0);
    static const uint8_t zero16[16];
    if (memcmp(cfg->fastopen_key, zero16, 16) != 0) {
        tw_stack_set_fastopen_key(st, cfg->fastopen_key,
                                  memcmp(cfg->fastopen_key_backup, zero16, 16) != 0
                                      ? cfg->fastopen_key_backup
                                      : NULL);
    }
    uint64_t seed = tw_siphash_4x32(&root, 4, 0, 0, 0);
    /* The wheel's tick rounds down, as tw_stack_on_timeout's advance does: a tick it
       calls done must lie at or before the clock, or a timer due in that tick (a PTO of
       a few microseconds, RFC 8985 7.2) would be found not yet reached and placed in
       the same tick again, for ever. */
    tw_wheel_init(&st->wheel, now / TW_TICK);
    st->txbuf = tw_mem_alloc(&st->mem, TW_TXBUF_SIZE);
    /* The TIME-WAIT table's seed is the connection table's: a 4-tuple is in at most one of
       them, and connect() looks it up in both with one hash (tw_timewait_find_pre). */
    st->tws.seed = seed;
    st->tws.head = st->tws.tail = UINT32_MAX; /* empty (TW_TW_NIL) */
    st->tws.head_at = TW_TIME_NEVER;
    st->tws.none.head = UINT32_MAX; /* (no chain, an empty filter: htab.h) */
    st->tws.b = &st->tws.none;
    if (!st->txbuf || tw_htab_init_tagged(&st->conns, &st->mem, 64, seed) != 0) {
        tw_stack_free(st);
        return TW_ERR_NOMEM;
    }
    tw_stack_connect_plain_set(st, plain_below); /* (stack.h) */
    tw_txbuf_keep_set(st); /* (stack.h TW_TXBUF_TS_AT) */
    st->txbuf_syn = st->txbuf + TW_TXBUF_SYN_AT;
    st->txbuf_ack = st->txbuf + TW_TXBUF_ACK_AT;
    st->txbuf_synack = st->txbuf + TW_TXBUF_SYNACK_AT;
    *out = st;
    return 0;
}

/* see tcpwave.h */
void tw_stack_free(tw_stack *st)
{
    if (!st) {
        return;
    }
    tw_htab_set_fixed(&st->conns, true); /* no shrinking: all go */
    if (st->conns.b) {
        /* The half-open entries first (their listeners still there), out of the table;
           the connections go with their objects (tw_conn_free_all). */
        for (size_t i = 0; i <= st->conns.mask; i++) {
            for (tw_hnode *n = st->conns.b[i], *next; n; n = next) {
                next = n->next;
                if (tw_hnode_is_req(n)) {
                    tw_req_free(st, (tw_reqsk *)n);
                }
            }
        }
    }
    tw_conn_free_all(st);
    tw_timewait_free_all(st);
    tw_ipfrag_free_all(st);
    for (size_t i = 0; i < 65536 / TW_PORT_LEAF; i++) {
        tw_port_leaf *l = st->ports[i];
        tw_mem_give(&st->mem, TW_MC_PORT, l, sizeof(*l)); /* (drained below) */
    }
    for (size_t i = 0; i < 65536 / TW_LISTEN_LEAF; i++) {
        tw_listen_leaf *l = st->listen[i];
        if (l != &tw_listen_leaf_none) { /* (the shared empty leaf is nobody's) */
            tw_mem_free(&st->mem, l, sizeof(*l));
        }
    }
    if (st->conns.b) {
        tw_htab_free(&st->conns, &st->mem);
    }
    tw_mem_free(&st->mem, st->txbuf, TW_TXBUF_SIZE);
    tw_tfo_cache_free(st);
    tw_mem_drain(&st->mem);
    tw_mem m = st->mem;
    tw_mem_free(&m, st, sizeof(*st));
}

void tw_drop(tw_stack *st, enum tw_counter c, const tw_seg_summary *seg,
             const struct tw_socket *conn)
{
    tw_count(st, c);
    if (!st->cfg.trace) {
        return;
    }
    tw_trace_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = TW_TRACE_DROP;
    ev.now = st->now;
    ev.counter = c;
    if (conn) {
        ev.conn_id = conn->id;
        ev.sock = conn;
        ev.old_state = ev.new_state = (tw_state)conn->state;
        ev.iss = conn->iss.v;
        ev.irs = conn->irs.v;
    }
    if (seg) {
        ev.seg = *seg;
    }
    st->cfg.trace(&ev, st->cfg.trace_ud);
}

/* Every packet but the usual TCP one: the full parsers, each drop with its own counter
   (SPEC R8). Returns true with `h` and `*src` filled for a valid TCP segment. Out of
   line: the usual packet does not pay for its frame. */
__attribute__((noinline)) static bool input_checked(tw_stack *st, const uint8_t *pkt,
                                                    size_t len, tw_tcp_hdr *h, uint32_t *src,
                                                    uint8_t *tos, uint8_t **whole,
                                                    size_t *whole_len)
{
    tw_ipv4_hdr ip;
    enum tw_counter bad = tw_ipv4_parse(&ip, pkt, len, st->cfg.addr);
    if (bad == TW_CNT_IP_RX_FRAGMENT) {
        /* A fragment: held until its datagram is whole. The one that completes it is
           counted as that datagram, below (one count per packet: the others here). */
        uint8_t *d = tw_ipfrag_input(st, pkt, &ip, whole_len);
        if (!d) {
            tw_count(st, TW_CNT_IP_RX_PACKETS);
            return false;
        }
        *whole = d;
        pkt = d;
        bad = tw_ipv4_parse(&ip, d, *whole_len, st->cfg.addr);
        assert(bad == TW_CNT_COUNT_); /* (built from a checked header, no fragment fields) */
    }
    if (bad != TW_CNT_COUNT_) {
        tw_count(st, TW_CNT_IP_RX_PACKETS); /* (not a TCP segment: see tw_stack_counter) */
        tw_drop(st, bad, NULL, NULL);
    } else if (ip.proto == TW_IPPROTO_TCP) {
        tw_count(st, TW_CNT_TCP_RX_SEGMENTS);
        bad = tw_tcp_parse(h, ip.payload, ip.payload_len, ip.src, st->cfg.addr);
        if (bad == TW_CNT_COUNT_ && (h->o.present & TW_OPT_FASTOPEN)) {
            tw_tfo_rx_option(st, h); /* (the usual parse sends every such segment here) */
        }
        if (bad == TW_CNT_COUNT_) {
            *src = ip.src;
            *tos = ip.tos;
            return true;
        }
        tw_drop(st, bad, NULL, NULL);
    } else if (ip.proto == TW_IPPROTO_ICMP) {
        tw_count(st, TW_CNT_IP_RX_PACKETS);
        tw_icmp_input(st, pkt, ip.hdr_len, ip.src, ip.payload, ip.payload_len);
    } else {
        tw_count(st, TW_CNT_IP_RX_PACKETS);
        tw_drop(st, TW_CNT_IP_RX_UNKNOWN_PROTO, NULL, NULL);
        /* RFC 1122 3.2.2.1: a host SHOULD answer a datagram for a transport protocol it
           does not have (UDP among them) with Protocol Unreachable, as Linux does for a
           protocol no module serves: a `nc -u` to the stack hears at once. (A fragment
           arrives here whole: reassembled, offset 0.) */
        tw_icmp_send_error(st, TW_ICMP_DEST_UNREACH, TW_ICMP_PROTO_UNREACH, pkt, ip.hdr_len,
                           ip.payload, ip.payload_len, TW_CNT_ICMP_TX_PROTO_UNREACH);
    }
    return false;
}

/* Everything but the usual packet taken whole (tcp_in.c tw_stack_input), out of line: the
   usual packet does not pay for its frame either. Ends tw_stack_input's call. */
int tw_stack_input_slow(tw_stack *st, const uint8_t *pkt, size_t len)
{
    tw_tcp_hdr h;
    uint32_t src;
    uint8_t tos;
    uint8_t *whole = NULL; /* a datagram reassembled from fragments (ipfrag.c) */
    size_t whole_len = 0;
    if (input_checked(st, pkt, len, &h, &src, &tos, &whole, &whole_len)) {
        /* RFC 3168 5: the IP header's ECN field handed to TCP, which asks it only for
           an ECN connection (ecn.c tw_ecn_rx); the usual parse takes no packet with a
           TOS byte other than 0, so that only this path needs to. */
        st->rx_ce = (tos & TW_IP_ECN_MASK) == TW_IP_CE;
        tw_tcp_input(st, &h, src);
        st->rx_ce = false;
    }
    if (whole) {
        tw_ipfrag_release(st, whole, whole_len);
    }
    st->call_free = true;
    return 0;
}

/* tw_stack_input's misuse, counted (API_REFUSED) when there is a stack to count on. */
int tw_stack_input_refused(tw_stack *st, const uint8_t *pkt, size_t len)
{
    if (!st) {
        return TW_ERR_INVAL;
    }
    tw_count(st, TW_CNT_API_REFUSED);
    return !pkt || len > 65535 ? TW_ERR_INVAL : TW_ERR_BUSY;
}

/* tw_stack_input's clock step for a now other than the last call's: out of line, as the
   division that makes now_ms takes rdx:rax, where the usual packet (the same now) then
   keeps its length where it came, with no copy. (It takes tw_stack_input's arguments, in
   their registers: the call moves none; measured: lifecycle -1.0 instr, 4,195.9 ->
   4,194.9, against `st` and `now` alone.) */
void tw_stack_input_moved(tw_stack *st, const uint8_t *pkt, size_t rest, tw_time now)
{
    (void)pkt;
    (void)rest;
    tw_stack_now_moved(st, now); /* (tw_stack_input found now != st->now) */
}

/* tw_stack_input for a traced stack: the full parsers and steps, which trace. (`rest`:
   the packet's length less TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN, modulo SIZE_MAX + 1, as
   tw_stack_input has it: see there.) */
int tw_stack_input_traced(tw_stack *st, const uint8_t *pkt, size_t rest, tw_time now)
{
    st->call_free = false;
    tw_stack_set_now(st, now);
    return tw_stack_input_slow(st, pkt, rest + (TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN));
}

/* tw_stack_input for a stack its gate did not take (tcp_in.c): the gate's step on the
   (call_free, traced) word undone, then a call in progress refused, a traced stack's
   packet taken by the full parsers and steps. (`rest` as tw_stack_input_traced's) */
int tw_stack_input_gated(tw_stack *st, const uint8_t *pkt, size_t rest, tw_time now)
{
    uint16_t gate;
    memcpy(&gate, &st->call_free, 2);
    gate = (uint16_t)(gate + 1u);
    assert((gate & 0xfefeu) == 0); /* (two bools again) */
    memcpy(&st->call_free, &gate, 2);
    if (!st->call_free) {
        return tw_stack_input_refused(st, pkt, 0);
    }
    return tw_stack_input_traced(st, pkt, rest, now);
}

/* tw_stack_input for a length outside the usual packet's bounds (tw_stack_input's one
   compare): over 65535 refused, as any misuse; shorter than an IPv4 and a TCP header,
   the full parsers' drop (after the same tests as any packet), as a traced stack's.
   Also for a stack and packet pointer with no bit in common (tw_stack_input's one test
   of both for NULL): NULL refused, two valid ones the full parsers' and steps' as a
   traced stack's, whatever the length. (`rest` as tw_stack_input_traced's) */
int tw_stack_input_odd_len(tw_stack *st, const uint8_t *pkt, size_t rest, tw_time now)
{
    size_t len = rest + (TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN);
    if (len > 65535 || !st || !pkt || !st->call_free) {
        return tw_stack_input_refused(st, pkt, len);
    }
    return tw_stack_input_traced(st, pkt, rest, now);
}

/* (tw_stack_input itself is tcp_in.c's, the usual packet's function: see there) */

/* tw_stack_next_deadline with armed timers: out of line, so that the call that finds
   none (the wheel empty, only TIME-WAIT records) saves no register for this one. (The
   earlier of the two times is the time of the earlier tick: tw_time_of_tick never
   decreases.) */
static __attribute__((noinline)) tw_time next_deadline_wheel(const tw_stack *st)
{
    tw_time w = tw_time_of_tick(tw_wheel_next(&st->wheel));
    return w < st->tws.head_at ? w : st->tws.head_at;
}

/* see tcpwave.h */
tw_time tw_stack_next_deadline(const tw_stack *st)
{
    if (!st) {
        return TW_TIME_NEVER;
    }
    /* An idle wheel (no timer placed, expired or waiting lazily: tw_wheel_count) is not
       asked: its answer, UINT64_MAX, without the call. The first TIME-WAIT record's end
       is kept as a time (TW_TIME_NEVER with none: timewait.c). (The two asked in one
       test of their or, with the held ACKs' list, which goes first, in it too: the
       usual call, with none of the three, then makes one test where it made two;
       lifecycle -2 instr) */
    if (((uintptr_t)st->ack_head | st->wheel.count | (uintptr_t)st->wheel.lazy) != 0) {
        /* (the list read again: GCC otherwise kept it in a register of its own from
           the or, one copy more on the usual way) */
        __asm__("" ::: "memory");
        if (st->ack_head) {
            return st->now; /* held ACKs (tw_out_push): call on_timeout at once */
        }
        return next_deadline_wheel(st);
    }
    return st->tws.head_at;
}

/* see tcpwave.h */
int tw_stack_on_timeout(tw_stack *st, tw_time now)
{
    if (!st) {
        return TW_ERR_INVAL;
    }
    if (!st->call_free) {
        tw_count(st, TW_CNT_API_REFUSED);
        return TW_ERR_BUSY;
    }
    st->call_free = false;
    tw_stack_set_now(st, now);
    tw_out_flush_acks(st);
    tw_wheel_advance(&st->wheel, st->now / TW_TICK);
    tw_timer *t;
    while ((t = tw_wheel_pop(&st->wheel)) != NULL) {
        uint8_t *obj = (uint8_t *)t - offsetof(struct tw_socket, timer);
        uint8_t kind = obj[offsetof(struct tw_socket, kind)];
        if (kind == TW_OBJ_CONN) {
            tw_conn_on_timer((tw_socket *)obj);
        } else if (kind == TW_OBJ_REQ) {
            tw_req_on_timer(st, (tw_reqsk *)obj);
        } else {
            tw_ipfrag_on_timer(st, (tw_fragq *)obj);
        }
    }
    tw_timewait_expire(st, st->wheel.now);
    st->call_free = true;
    return 0;
}

/* see tcpwave.h */
uint64_t tw_stack_counter(const tw_stack *st, enum tw_counter id)
{
    if (!st || (unsigned)id >= TW_CNT_COUNT_) {
        return 0;
    }
    if (id == TW_CNT_TX_PACKETS) {
        /* TCP segments are counted once, as TCP_TX_SEGMENTS (tw_stack_transmit_tcp) */
        return st->counters[id] + st->counters[TW_CNT_TCP_TX_SEGMENTS];
    }
    if (id == TW_CNT_IP_RX_PACKETS) {
        /* TCP segments are counted once, as TCP_RX_SEGMENTS (tw_stack_input) */
        return st->counters[id] + st->counters[TW_CNT_TCP_RX_SEGMENTS];
    }
    return st->counters[id];
}

uint32_t tw_stack_addr(const tw_stack *st)
{
    return st ? st->cfg.addr : 0;
}

size_t tw_stack_mem_live(const tw_stack *st)
{
    return st ? st->mem.live : 0;
}

size_t tw_stack_mem_peak(const tw_stack *st)
{
    return st ? st->mem.peak : 0;
}

size_t tw_stack_conn_count(const tw_stack *st)
{
    return st ? st->nconns : 0;
}

size_t tw_stack_time_wait_count(const tw_stack *st)
{
    return st ? st->tws.count : 0;
}

/* ---- port table ---- */

/* A zeroed leaf, put in place. The leaf kept in place (leaf_kept), if still empty, is
   moved here: an empty leaf is all zero (every entry unused, tw_port), so it needs no
   allocation and no clearing. A client binding one port after another thus takes the
   leaf it emptied last each time it crosses into the next TW_PORT_LEAF ports, instead of
   a new 1.5 KiB cleared and the old one given back (lifecycle -9 instr). Else from the
   allocator, with no free list. */
tw_port_leaf *tw_port_leaf_new(tw_stack *st, uint16_t port)
{
    uint32_t k = st->leaf_kept;
    if (k && st->ports[k - 1]->n == 0) {
        tw_port_leaf *l = st->ports[k - 1];
#ifndef NDEBUG
        for (uint32_t j = 0; j < TW_PORT_LEAF; j++) {
            assert(!l->p[j].nbound && !l->p[j].nreuse && !l->p[j].nauto);
        }
#endif
        st->ports[k - 1] = NULL;
        st->leaf_kept = 0;
        st->ports[port / TW_PORT_LEAF] = l;
        return l;
    }
    /* (the port class's free list and slabs, mem.h: a client's ports held by its
       TIME-WAIT records fill a new leaf every TW_PORT_LEAF connections, and release one
       as often once the records expire) */
    tw_port_leaf *l = tw_mem_take(&st->mem, TW_MC_PORT, sizeof(*l));
    if (l) {
        memset(l, 0, sizeof(*l)); /* (a call: tw_mem_zero's stores cost more at this size) */
        st->ports[port / TW_PORT_LEAF] = l;
    }
    return l;
}

static void leaf_give(tw_stack *st, uint32_t i)
{
    tw_mem_give(&st->mem, TW_MC_PORT, st->ports[i], sizeof(tw_port_leaf));
    st->ports[i] = NULL;
}

void tw_port_leaf_emptied(tw_stack *st, uint16_t port)
{
    uint32_t k = st->leaf_kept, i = port / TW_PORT_LEAF; /* (k != i + 1: tw_port_unref) */
    /* The one kept before goes, if still empty (it may have been refilled since). */
    if (k && st->ports[k - 1]->n == 0) {
        leaf_give(st, k - 1);
    }
    st->leaf_kept = i + 1;
}

const tw_listen_leaf tw_listen_leaf_none; /* (all zero: no listener) */

int tw_port_listen(tw_stack *st, uint16_t port, struct tw_socket *s)
{
    tw_listen_leaf **slot = &st->listen[port / TW_LISTEN_LEAF];
    /* (a listener's port is bound, never 0: tcp_in.c input_demux_in's usual SYN to
       port 0 relies on it) */
    assert(*slot && port != 0);
    if (*slot == &tw_listen_leaf_none) {
        /* (the slot keeps the empty leaf until a leaf of its own is had) */
        tw_listen_leaf *l = tw_mem_zalloc(&st->mem, sizeof(*l));
        if (!l) {
            return TW_ERR_NOMEM;
        }
        *slot = l;
    }
    assert(!(*slot)->s[port % TW_LISTEN_LEAF]);
    (*slot)->s[port % TW_LISTEN_LEAF] = s;
    (*slot)->n++;
    return 0;
}

void tw_port_unlisten(tw_stack *st, uint16_t port)
{
    tw_listen_leaf **slot = &st->listen[port / TW_LISTEN_LEAF];
    assert(*slot != &tw_listen_leaf_none && (*slot)->s[port % TW_LISTEN_LEAF]);
    (*slot)->s[port % TW_LISTEN_LEAF] = NULL;
    if (st->listen_last_port == port) {
        st->listen_last_port = UINT32_MAX; /* (the cached listener: stack.h) */
        st->listen_last = NULL;
    }
    if (--(*slot)->n == 0) {
        tw_mem_free(&st->mem, *slot, sizeof(**slot));
        *slot = (tw_listen_leaf *)&tw_listen_leaf_none;
    }
}

void tw_stack_syn_plain_off(tw_stack *st)
{
    st->syn_plain = false;
    for (size_t i = 0; i < sizeof(st->listen) / sizeof(st->listen[0]); i++) {
        tw_listen_leaf *leaf = st->listen[i];
        if (leaf == &tw_listen_leaf_none) {
            continue; /* (no listener in it: stack.h) */
        }
        for (size_t k = 0; k < TW_LISTEN_LEAF; k++) {
            if (leaf->s[k]) {
                tw_listener_syn_plain_set(leaf->s[k]);
            }
        }
    }
}

void tw_stack_trim(tw_stack *st)
{
    uint32_t k = st->leaf_kept;
    if (k) {
        if (st->ports[k - 1]->n == 0) {
            leaf_give(st, k - 1);
        }
        st->leaf_kept = 0;
    }
    tw_mem_drain(&st->mem);
}
