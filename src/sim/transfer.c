/*
 * transfer.c -- one seeded two-stack transfer over the simulated link, checked end to
 * end (sim.h). Both directions carry a byte stream drawn from the seed; each receiver
 * hashes what it reads and compares with the sender's hash, so every byte, its order
 * and its count are checked without keeping the data.
 */
#include "sim/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_ADDR 0x0a000001u
#define SRV_ADDR 0x0a000002u
#define PORT 5001

typedef struct stream {
    uint64_t total, done;
    uint64_t rng;   /* generator state: the stream's bytes */
    uint64_t hash;  /* FNV-1a over the bytes so far */
} stream;

static void stream_init(stream *s, uint64_t total, uint64_t seed)
{
    s->total = total;
    s->done = 0;
    s->rng = seed ? seed : 1;
    s->hash = 0xcbf29ce484222325ull;
}

static uint8_t stream_byte(stream *s)
{
    /* xorshift64*: cheap and reproducible */
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return (uint8_t)((s->rng * 0x2545f4914f6cdd1dull) >> 56);
}

static void hash_bytes(uint64_t *h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        *h = (*h ^ p[i]) * 0x100000001b3ull;
    }
}

typedef struct end {
    tw_socket *s;
    stream out;     /* what this end sends */
    stream in_ref;  /* what it must receive (regenerated, to compare) */
    uint64_t in_hash, in_count;
    uint8_t pending[16384];
    size_t pend_len, pend_off;
    bool cork;      /* tw_sim_xfer.cork: random write sizes, MSG_MORE and TCP_CORK */
    uint64_t wr_rng; /* their draws (not the stream's: the bytes stay the seed's) */
    bool shut, eof, closed;
    tw_state at_close; /* the connection's state when the application closed it */
} end;

static void pump_send(end *e, tw_time now)
{
    for (;;) {
        if (e->pend_off == e->pend_len) {
            size_t n = 0;
            while (n < sizeof e->pending && e->out.done + n < e->out.total) {
                e->pending[n++] = stream_byte(&e->out);
            }
            if (n == 0) {
                return;
            }
            hash_bytes(&e->out.hash, e->pending, n);
            e->out.done += n;
            e->pend_len = n;
            e->pend_off = 0;
        }
        size_t len = e->pend_len - e->pend_off;
        unsigned flags = 0;
        if (e->cork) {
            /* xorshift64 draws: a size of 1 to 3000 bytes, MSG_MORE one write in three
               while more follows, and one write in eight turns TCP_CORK over */
            e->wr_rng ^= e->wr_rng << 13;
            e->wr_rng ^= e->wr_rng >> 7;
            e->wr_rng ^= e->wr_rng << 17;
            uint64_t d = e->wr_rng;
            size_t want = 1 + (size_t)(d % 3000);
            len = want < len ? want : len;
            flags = ((d >> 20) % 3 == 0 && !(e->out.done == e->out.total &&
                                             e->pend_off + len == e->pend_len))
                        ? TW_MSG_MORE
                        : 0;
            if ((d >> 24) % 8 == 0) {
                tw_socket_info info;
                tw_socket_info_get(e->s, &info);
                tw_socket_set_cork(e->s, !info.cork);
            }
        }
        tw_ssize w = tw_socket_send_flags(e->s, e->pending + e->pend_off, len, flags, now);
        if (w <= 0) {
            return;
        }
        e->pend_off += (size_t)w;
    }
}

static bool all_sent(const end *e)
{
    return e->out.done == e->out.total && e->pend_off == e->pend_len;
}

static void pump_recv(end *e, tw_time now)
{
    uint8_t buf[16384];
    for (;;) {
        tw_ssize n = tw_socket_recv(e->s, buf, sizeof buf, now);
        if (n <= 0) {
            if (n == 0) {
                e->eof = true;
            }
            return;
        }
        hash_bytes(&e->in_hash, buf, (size_t)n);
        e->in_count += (uint64_t)n;
    }
}

static uint64_t expected_hash(uint64_t total, uint64_t seed)
{
    stream s;
    stream_init(&s, total, seed);
    uint8_t buf[4096];
    uint64_t left = total;
    while (left) {
        size_t n = left < sizeof buf ? (size_t)left : sizeof buf;
        for (size_t i = 0; i < n; i++) {
            buf[i] = stream_byte(&s);
        }
        hash_bytes(&s.hash, buf, n);
        left -= n;
    }
    return s.hash;
}

static void fail(tw_sim_xfer_result *r, const char *why)
{
    if (!r->why[0]) {
        snprintf(r->why, sizeof r->why, "%s", why);
    }
    r->ok = false;
}

int tw_sim_transfer(const tw_sim_xfer *x, tw_sim_xfer_result *r)
{
    memset(r, 0, sizeof(*r));
    tw_sim *sim;
    tw_time t0 = TW_SEC(1);
    if (tw_sim_new(&sim, x->seed, t0) != 0) {
        return TW_ERR_NOMEM;
    }
    tw_sim_set_impair(sim, &x->imp);
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.cc = x->cc;
    cfg.no_sack = x->no_sack;
    cfg.no_timestamps = x->no_timestamps;
    cfg.no_wscale = x->no_wscale;
    if (x->ecn) {
        cfg.ecn = TW_ECN_ON;
    }
    cfg.msl = x->msl ? x->msl : TW_SEC(1);
    if (x->rcvbuf) {
        cfg.rcvbuf = x->rcvbuf;
        cfg.no_moderate_rcvbuf = !x->rcvbuf_tuned; /* (a size given is fixed: sim.h) */
    }
    cfg.trace = x->trace;
    cfg.trace_ud = x->trace_ud;
    cfg.rto_initial = x->rto_initial;
    cfg.rto_max = x->rto_max;
    if (x->syn_retries) {
        cfg.syn_retries = x->syn_retries;
        cfg.synack_retries = x->syn_retries;
    }
    if (x->retries) {
        cfg.retries = x->retries;
    }
    if (x->orphan_retries) {
        cfg.orphan_retries = x->orphan_retries;
    }
    if (x->sndbuf) {
        cfg.sndbuf = x->sndbuf;
        cfg.no_sndbuf_expand = true;
    }
    tw_stack *cs, *ss;
    cfg.addr = CLI_ADDR;
    if (x->mem_spare) {
        /* (what a stack holds once made differs between builds: a sanitized one keeps
           no free lists; measured on a stack made for it alone) */
        tw_sim *probe;
        tw_stack *ps;
        if (tw_sim_new(&probe, x->seed, t0) != 0) {
            tw_sim_free(sim);
            return TW_ERR_NOMEM;
        }
        if (tw_sim_add_stack(probe, &cfg, x->mtu, &ps) < 0) {
            tw_sim_free(probe);
            tw_sim_free(sim);
            return TW_ERR_NOMEM;
        }
        cfg.max_memory = tw_stack_mem_live(ps) + x->mem_spare;
        tw_sim_free(probe);
    }
    if (tw_sim_add_stack(sim, &cfg, x->mtu, &cs) < 0) {
        tw_sim_free(sim);
        return TW_ERR_NOMEM;
    }
    cfg.addr = SRV_ADDR;
    if (tw_sim_add_stack(sim, &cfg, x->mtu, &ss) < 0) {
        tw_sim_free(sim);
        return TW_ERR_NOMEM;
    }
    size_t base_c = tw_stack_mem_live(cs), base_s = tw_stack_mem_live(ss);
    uint64_t seed_c2s = x->seed * 2 + 1, seed_s2c = x->seed * 2 + 2;
    /* Connection k's two ends are cli[k] and the k-th the listener hands out, srv[k] (not
       always its peer: every connection carries the same two streams, so any pairing
       checks the same bytes). */
    uint32_t n = x->conns ? x->conns : 1;
    if (n > TW_SIM_XFER_CONNS_MAX) {
        tw_sim_free(sim);
        return TW_ERR_INVAL;
    }
    end *cli = calloc(n, sizeof *cli), *srv = calloc(n, sizeof *srv);
    if (!cli || !srv) {
        free(cli);
        free(srv);
        tw_sim_free(sim);
        return TW_ERR_NOMEM;
    }
    for (uint32_t k = 0; k < n; k++) {
        stream_init(&cli[k].out, x->bytes_c2s, seed_c2s);
        stream_init(&srv[k].out, x->bytes_s2c, seed_s2c);
        cli[k].in_hash = srv[k].in_hash = 0xcbf29ce484222325ull;
        cli[k].cork = srv[k].cork = x->cork;
        cli[k].wr_rng = seed_c2s * 0x9e3779b97f4a7c15ull | 1;
        srv[k].wr_rng = seed_s2c * 0x9e3779b97f4a7c15ull | 1;
    }
    tw_socket *l;
    tw_time now = tw_sim_now(sim);
    r->ok = true;
    bool setup = tw_socket_open(ss, &l) == 0 && tw_socket_bind(l, PORT) == 0 &&
                 tw_socket_listen(l, (int)(n < 8 ? 8 : n), now) == 0;
    for (uint32_t k = 0; setup && k < n; k++) {
        setup = tw_socket_open(cs, &cli[k].s) == 0 &&
                tw_socket_connect(cli[k].s, SRV_ADDR, PORT, now) == 0;
    }
    if (!setup) {
        fail(r, "setup failed");
        free(cli);
        free(srv);
        tw_sim_free(sim);
        return 0;
    }
    tw_time limit = now + (x->time_limit ? x->time_limit : TW_SEC(3600 + 100 * 120));
    /* Poll the applications every 1 ms of virtual time, or at the RTT when longer
       (a one-hour RTT needs no millisecond polling). */
    tw_time step = x->imp.delay > TW_MS(1) ? x->imp.delay / 4 : TW_MS(1);
    if (step > TW_MS(50)) {
        step = TW_MS(50);
    }
    uint32_t accepted = 0, closed = 0;
    while (now < limit && closed < 2 * n) {
        tw_sim_run_until(sim, now + step);
        now = tw_sim_now(sim);
        while (accepted < n && tw_socket_accept(l, &srv[accepted].s, now) == 0) {
            accepted++;
        }
        for (uint32_t i = 0; i < 2 * n; i++) {
            bool server = i >= n;
            end *e = server ? &srv[i - n] : &cli[i];
            if (!e->s || e->closed) {
                continue;
            }
            pump_send(e, now);
            pump_recv(e, now);
            int err = tw_socket_error(e->s);
            if (err) {
                char why[80];
                snprintf(why, sizeof why, "%s: %s", server ? "server" : "client",
                         tw_error_name(err));
                fail(r, why);
                e->at_close = tw_socket_state(e->s);
                tw_socket_close(e->s, now);
                e->closed = true;
                closed++;
                continue;
            }
            /* The client half-closes first (S12); not in SYN-SENT, where shutdown() with
               nothing queued gives the attempt up (tcpwave.h, as Linux). A server end
               shuts once the client has (with several connections, once its own peer's
               FIN has come: which client is its peer is not tracked). */
            bool peer_shut = n == 1 ? cli[0].shut : e->eof;
            bool may_shut = (!server || peer_shut) && tw_socket_state(e->s) != TW_STATE_SYN_SENT;
            if (all_sent(e) && !e->shut && may_shut) {
                tw_socket_shutdown(e->s, TW_SHUT_WR, now);
                e->shut = true;
            }
            if (e->shut && e->eof) {
                e->at_close = tw_socket_state(e->s);
                tw_socket_close(e->s, now);
                e->closed = true;
                closed++;
            }
        }
        if (closed == 2 * n && r->duration == 0) {
            r->duration = now - t0;
        }
    }
    uint64_t c2s_in = 0, s2c_in = 0;
    for (uint32_t k = 0; k < n; k++) {
        c2s_in += srv[k].in_count;
        s2c_in += cli[k].in_count;
    }
    if (closed < 2 * n) {
        char why[160];
        snprintf(why, sizeof why, "not finished by the time limit: c2s %llu/%llu s2c %llu/%llu",
                 (unsigned long long)c2s_in, (unsigned long long)(x->bytes_c2s * n),
                 (unsigned long long)s2c_in, (unsigned long long)(x->bytes_s2c * n));
        fail(r, why);
    }
    uint64_t c2s_hash = expected_hash(x->bytes_c2s, seed_c2s);
    uint64_t s2c_hash = expected_hash(x->bytes_s2c, seed_s2c);
    for (uint32_t k = 0; k < n; k++) {
        if (srv[k].in_count != x->bytes_c2s || srv[k].in_hash != c2s_hash) {
            fail(r, "client-to-server bytes differ");
        }
        if (cli[k].in_count != x->bytes_s2c || cli[k].in_hash != s2c_hash) {
            fail(r, "server-to-client bytes differ");
        }
    }
    double secs = (double)(r->duration ? r->duration : now - t0) / 1e9;
    r->goodput_c2s = secs > 0 ? (double)c2s_in * 8 / secs : 0;
    r->goodput_s2c = secs > 0 ? (double)s2c_in * 8 / secs : 0;
    /* The handles are gone once closed: report the state each end was in at close()
       (and, below, that nothing at all is left afterwards); the first connection's. */
    r->final_client = cli[0].closed ? cli[0].at_close : tw_socket_state(cli[0].s);
    r->final_server = srv[0].closed || !srv[0].s ? srv[0].at_close : tw_socket_state(srv[0].s);
    free(cli);
    free(srv);
    r->retrans = tw_stack_counter(cs, TW_CNT_TCP_TX_RETRANS) +
                 tw_stack_counter(ss, TW_CNT_TCP_TX_RETRANS);
    r->fast_retransmits = tw_stack_counter(cs, TW_CNT_TCP_FAST_RETRANS) +
                          tw_stack_counter(ss, TW_CNT_TCP_FAST_RETRANS);
    r->rtos = tw_stack_counter(cs, TW_CNT_TCP_RTO_FIRED) + tw_stack_counter(ss, TW_CNT_TCP_RTO_FIRED);
    /* Let TIME-WAIT and any retransmission run out, then nothing may be left. */
    tw_sim_run_idle(sim, now + TW_SEC(4000));
    tw_socket_close(l, tw_sim_now(sim));
    if (tw_stack_conn_count(cs) || tw_stack_conn_count(ss) || tw_stack_time_wait_count(cs) ||
        tw_stack_time_wait_count(ss)) {
        fail(r, "connections or TIME-WAIT records left");
    }
    if (tw_stack_mem_live(cs) != base_c || tw_stack_mem_live(ss) != base_s) {
        char why[120];
        snprintf(why, sizeof why, "live memory left: client %zu, server %zu bytes",
                 tw_stack_mem_live(cs) - base_c, tw_stack_mem_live(ss) - base_s);
        fail(r, why);
    }
    r->packets = tw_sim_sent(sim);
    r->dropped = tw_sim_dropped(sim);
    tw_sim_free(sim);
    return 0;
}
