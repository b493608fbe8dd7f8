/*
 * tcp_conn.c -- connection objects: allocation, the one state-change function, timers,
 * lazy buffers, option negotiation at the handshake (SPEC S4), ISN (RFC 6528, R6).
 */
#include "core/fastopen.h"
#include "core/tcp_conn.h"
#include "core/ecn.h"
#include "core/conn_free.h"
#include "core/timewait.h"
#include "core/reqsk.h"
#include "core/ipv4.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

_Static_assert(offsetof(struct tw_socket, backlog) + sizeof(uint16_t) <=
                       offsetof(struct tw_socket, cc) + sizeof(tw_cc_state) &&
                   offsetof(struct tw_socket, synack_mssw) + sizeof(uint32_t) <=
                       offsetof(struct tw_socket, cc) + sizeof(tw_cc_state),
               "the listener's fields fit in the room of cc");
_Static_assert(offsetof(struct tw_socket, timer) == offsetof(tw_reqsk, timer) &&
                   offsetof(struct tw_socket, kind) == offsetof(tw_reqsk, kind),
               "conn and half-open entry share their header layout");
/* tw_listener_enqueue_to moves acc_len and syn_len in one 32-bit add */
_Static_assert(offsetof(struct tw_socket, syn_len) == offsetof(struct tw_socket, acc_len) + 2,
               "acc_len and syn_len adjacent, acc_len first");
/* Every connection pays each byte twice (both ends of a local pair, and the bench's
   bytes-per-idle-connection figure): growth must be a decision, not an accident. On
   64-bit targets the size is pinned; change the number with the layout. */
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(offsetof(struct tw_socket, sndbuf_cap) ==
                       offsetof(struct tw_socket, snd) + offsetof(tw_ring, owner) &&
                   offsetof(struct tw_socket, rcvbuf_cap) ==
                       offsetof(struct tw_socket, rcv) + offsetof(tw_ring, owner),
               "the buffer limits are the rings' owner words");
_Static_assert(sizeof(struct tw_socket) == 464, "struct tw_socket changed size (tcp_conn.h)");
_Static_assert(sizeof(tw_cc_state) == 40, "tw_cc_state has no padding");
#endif
_Static_assert(_Alignof(struct tw_socket) <= TW_MEM_SLAB_ALIGN &&
                   _Alignof(tw_port) <= TW_MEM_SLAB_ALIGN,
               "objects of the slab classes need no more alignment than slabs give (mem.h)");

#define BIT(s) (1u << (s))

#ifndef NDEBUG
/* RFC 9293 3.3.2, figure 5: the edges of the state diagram (plus abort to CLOSED),
   checked in debug, test and fuzz builds. */
static const uint16_t legal_next[TW_STATE_COUNT_] = {
    [TW_STATE_CLOSED] = BIT(TW_STATE_LISTEN) | BIT(TW_STATE_SYN_SENT) | BIT(TW_STATE_SYN_RCVD),
    [TW_STATE_LISTEN] = BIT(TW_STATE_CLOSED),
    [TW_STATE_SYN_SENT] = BIT(TW_STATE_SYN_RCVD) | BIT(TW_STATE_ESTABLISHED) |
                          BIT(TW_STATE_CLOSED),
    [TW_STATE_SYN_RCVD] = BIT(TW_STATE_ESTABLISHED) | BIT(TW_STATE_FIN_WAIT_1) |
                          BIT(TW_STATE_CLOSE_WAIT) | BIT(TW_STATE_CLOSED),
    [TW_STATE_ESTABLISHED] = BIT(TW_STATE_FIN_WAIT_1) | BIT(TW_STATE_CLOSE_WAIT) |
                             BIT(TW_STATE_CLOSED),
    [TW_STATE_FIN_WAIT_1] = BIT(TW_STATE_FIN_WAIT_2) | BIT(TW_STATE_CLOSING) |
                            BIT(TW_STATE_TIME_WAIT) | BIT(TW_STATE_CLOSED),
    [TW_STATE_FIN_WAIT_2] = BIT(TW_STATE_TIME_WAIT) | BIT(TW_STATE_CLOSED),
    [TW_STATE_CLOSE_WAIT] = BIT(TW_STATE_LAST_ACK) | BIT(TW_STATE_CLOSED),
    [TW_STATE_CLOSING] = BIT(TW_STATE_TIME_WAIT) | BIT(TW_STATE_CLOSED),
    [TW_STATE_LAST_ACK] = BIT(TW_STATE_CLOSED),
    [TW_STATE_TIME_WAIT] = BIT(TW_STATE_CLOSED),
};
#endif

#define DEADLINES_AT TW_CONN_DEADLINES_AT
#define DEADLINES_END TW_CONN_DEADLINES_END
_Static_assert(offsetof(struct tw_socket, misc_at) == DEADLINES_AT + 8 &&
                   offsetof(struct tw_socket, dack_at) == DEADLINES_AT + 16 &&
                   offsetof(struct tw_socket, ka_at) == DEADLINES_AT + 24,
               "the four deadlines side by side (tw_conn_alloc)");
_Static_assert(TW_STATE_CLOSED == 0, "a zeroed socket is CLOSED");

#define TMPL_FLAGS TW_CONN_TMPL_FLAGS
#define TMPL_MSS TW_CONN_TMPL_MSS
#define TMPL_RTO TW_CONN_TMPL_RTO
#define TMPL_SNDBUF TW_CONN_TMPL_SNDBUF
#define TMPL_RCVBUF TW_CONN_TMPL_RCVBUF
_Static_assert(TMPL_FLAGS % 16 == 0 && TMPL_MSS % 16 == 0 && TMPL_RTO % 16 == 0 &&
                   TMPL_SNDBUF % 16 == 0 && TMPL_RCVBUF % 16 == 0,
               "each templated field lies in a 16-byte run of tw_conn_alloc's zeroing");
_Static_assert(TMPL_RTO + 16 <= DEADLINES_AT && TMPL_SNDBUF >= DEADLINES_END &&
                   TMPL_RCVBUF + 16 <= sizeof(struct tw_socket),
               "the templated runs lie outside the deadlines");

/* A child's runs its caller fills whole, left out of tw_conn_init_as's zeroing: flags,
   iss, snd_una and snd_nxt in the flags run; out_asum and out_addr, the object's last 16
   bytes (all set by tw_conn_out_prep). */
_Static_assert(offsetof(struct tw_socket, iss) == TMPL_FLAGS + 4 &&
                   offsetof(struct tw_socket, snd_una) == TMPL_FLAGS + 8 &&
                   offsetof(struct tw_socket, snd_nxt) == TMPL_FLAGS + 12 &&
                   TW_CONN_OUT_AT % 16 == 0 && TW_CONN_OUT_AT >= DEADLINES_END &&
                   offsetof(struct tw_socket, out_addr) == TW_CONN_OUT_AT + 8 &&
                   sizeof(struct tw_socket) == TW_CONN_OUT_AT + 16,
               "a child's runs left to its caller");

#if TW_CONN_WIDE
/* The 32-byte runs of struct tw_socket that st->conn_wide holds (tw_conn_open_wide, and
   the RTO's and the deadlines' a child's, tcp_conn.h): the kind and flags; the local
   MSS; the RTO with the first two deadlines; the last three up to the send ring's block;
   the send buffer's limit (its first 16 bytes: the send ring's counts and the limit);
   the receive ring's counts with the receive buffer's limit. The rings' blocks (parked,
   tw_conn_rings_kept) lie between runs. Every other run of a new connection is
   zeros. */
#define WIDE_FLAGS ((size_t)32)
#define WIDE_MSS ((size_t)96)
#define WIDE_RTO ((size_t)224)
#define WIDE_NEVER ((size_t)248)
#define WIDE_SNDBUF ((size_t)288)
#define WIDE_RCVBUF ((size_t)312)
_Static_assert(offsetof(struct tw_socket, rcv_wscale) >= WIDE_FLAGS &&
                   offsetof(struct tw_socket, rcv_wscale) < WIDE_FLAGS + 32 &&
                   offsetof(struct tw_socket, snd_mss) >= WIDE_MSS &&
                   offsetof(struct tw_socket, snd_mss) + 2 <= WIDE_MSS + 32,
               "tw_conn_open_wide's runs hold snd_mss and rcv_wscale too");
_Static_assert(offsetof(struct tw_socket, kind) >= WIDE_FLAGS &&
                   offsetof(struct tw_socket, flags) + 4 <= WIDE_FLAGS + 32 &&
                   offsetof(struct tw_socket, local_mss) >= WIDE_MSS &&
                   offsetof(struct tw_socket, local_mss) + 2 <= WIDE_MSS + 32 &&
                   offsetof(struct tw_socket, rto) >= WIDE_RTO &&
                   offsetof(struct tw_socket, misc_at) + 8 <= WIDE_RTO + 32 &&
                   DEADLINES_AT >= WIDE_RTO && DEADLINES_END <= WIDE_NEVER + 32 &&
                   offsetof(struct tw_socket, sndbuf_cap) >= WIDE_SNDBUF &&
                   offsetof(struct tw_socket, sndbuf_cap) + 4 <= WIDE_SNDBUF + 32 &&
                   offsetof(struct tw_socket, rcvbuf_cap) >= WIDE_RCVBUF &&
                   offsetof(struct tw_socket, sndbuf_cap) + 4 <= WIDE_SNDBUF + 16 &&
                   offsetof(struct tw_socket, rcvbuf_cap) + 4 <= WIDE_RCVBUF + 32 &&
                   offsetof(struct tw_socket, st) < WIDE_RTO &&
                   offsetof(struct tw_socket, id) < WIDE_RTO &&
                   sizeof(struct tw_socket) == 464,
               "tw_conn_open_wide's runs (its zeros: 0, 64, 128 to 223, 344 to 463)");
#endif
/* A promoted child's three more runs (TW_CONN_CHILD_PROMOTED): h alone in the first (its
   link and the key), then SND.MAX, SND.WL2, SND.WL1, SND.BUF_SEQ and SND.WND,
   MAX.SND.WND, IRS, RCV.NXT right after the flags run. */
_Static_assert(TW_CONN_LINK_END == 16 && offsetof(struct tw_socket, timer) == TW_CONN_LINK_END &&
                   offsetof(struct tw_socket, snd_max) == TMPL_FLAGS + 16 &&
                   offsetof(struct tw_socket, snd_wl2) == TMPL_FLAGS + 20 &&
                   offsetof(struct tw_socket, snd_wl1) == TMPL_FLAGS + 24 &&
                   offsetof(struct tw_socket, snd_buf_seq) == TMPL_FLAGS + 28 &&
                   offsetof(struct tw_socket, snd_wnd) == TMPL_FLAGS + 32 &&
                   offsetof(struct tw_socket, max_snd_wnd) == TMPL_FLAGS + 36 &&
                   offsetof(struct tw_socket, irs) == TMPL_FLAGS + 40 &&
                   offsetof(struct tw_socket, rcv_nxt) == TMPL_FLAGS + 44 &&
                   TW_CONN_PROMOTED_END == TMPL_FLAGS + 48 &&
                   TW_CONN_PROMOTED_END <= DEADLINES_AT,
               "a promoted child's runs left to req_promote");

_Static_assert(TW_CONN_ST_AT % 16 == 0 && offsetof(struct tw_socket, ack_next) == TW_CONN_ST_AT + 8 &&
                   TW_CONN_ST_AT >= TW_CONN_PROMOTED_END && TW_CONN_ST_AT + 16 <= DEADLINES_AT &&
                   (TW_CONN_ST_AT + 16 <= TMPL_RTO || TW_CONN_ST_AT >= TMPL_RTO + 16),
               "st and ack_next, a run of their own before the deadlines");

const tw_socket tw_conn_none; /* (all zero: tcp_conn.h) */

void tw_conn_tmpl_init(tw_stack *st)
{
    struct tw_socket c;
    memset(&c, 0, sizeof(c));
    c.flags = tw_cc_flag(st->cfg.cc);
    c.local_mss = tw_conn_mss_for(st, 0);
    c.rto = st->cfg.rto_initial;
    c.sndbuf_cap = st->cfg.sndbuf;
    c.rcvbuf_cap = st->cfg.rcvbuf;
    /* (not the template's, but set with it, once per stack: close()'s table) */
    memset(st->close_next, 0, sizeof(st->close_next));
    st->close_next[TW_STATE_ESTABLISHED] = TW_STATE_FIN_WAIT_1; /* S10 */
    st->close_next[TW_STATE_CLOSE_WAIT] = TW_STATE_LAST_ACK;    /* S13 */
    static const size_t at[5] = {TMPL_FLAGS, TMPL_MSS, TMPL_RTO, TMPL_SNDBUF, TMPL_RCVBUF};
    for (size_t i = 0; i < 5; i++) {
        memcpy(st->conn_tmpl[i], (const uint8_t *)&c + at[i], 16);
    }
#if TW_CONN_WIDE
    c.kind = TW_OBJ_CONN;
    c.rto_at = c.misc_at = c.dack_at = c.ka_at = TW_TIME_NEVER;
    /* (a socket's two fields connect's usual case takes as they are: tw_conn_init_as
       sets them for the 16-byte runs, which do not hold them) */
    c.snd_mss = TW_CONN_SND_MSS_FIRST;
    c.rcv_wscale = st->conn_wscale;
    static const size_t wide[6] = {WIDE_FLAGS, WIDE_MSS, WIDE_RTO, WIDE_NEVER, WIDE_SNDBUF,
                                   WIDE_RCVBUF};
    for (size_t i = 0; i < 6; i++) {
        memcpy(st->conn_wide[i], (const uint8_t *)&c + wide[i], 32);
    }
    st->conn_wide_on = tw_cksum_have_avx2(); /* (the probe copy_narrow is set by: stack.c) */
#endif
    st->conn_open = tw_conn_open_narrow;
#if TW_CONN_WIDE
    if (st->conn_wide_on) {
        st->conn_open = tw_conn_open_wide;
    }
#endif
    tw_in_promote_init(st);
}

#if TW_CONN_WIDE
typedef uint64_t tw_mem_v32 __attribute__((vector_size(32), aligned(1), may_alias));

_Static_assert(offsetof(struct tw_socket, snd.buf) == WIDE_NEVER + 32 &&
                   offsetof(struct tw_socket, rcv.buf) + 8 == WIDE_RCVBUF &&
                   offsetof(struct tw_socket, rcv.buf) == WIDE_SNDBUF + 16 &&
                   offsetof(struct tw_socket, snd.cap) == WIDE_SNDBUF &&
                   offsetof(struct tw_socket, sndbuf_cap) == WIDE_SNDBUF + 12 &&
                   WIDE_NEVER + 32 <= WIDE_SNDBUF,
               "the runs' bounds: the rings' blocks left out");

/* tw_conn_init's object (test_tcp_conn.c compares them), each of its 32-byte runs one
   store: of st->conn_wide's, or of zeros, with no 16-byte store of a setting over a
   zeroing's (tw_conn_init_as): 15 stores where tw_conn_init makes 32 (lifecycle -10
   instr: the client's open; a passive open's child, made in the middle of tcp_in.c's
   req_promote, measured +10 more for the call). The stack's runs loaded first, so that
   the compiler need not load them again after the stores (it cannot tell the two
   objects apart). The rings' blocks (parked, tw_conn_rings_kept) lie between runs, which
   end and start at their bounds, with no masked store (the two masks' loads: lifecycle
   -2 instr): a 32-byte run ends at snd.buf, the send ring's counts and limit are one
   16-byte run, and the next 32-byte one starts after rcv.buf, with the zeros after it. */
static inline __attribute__((target("avx2"), always_inline)) void conn_init_wide(tw_stack *st,
                                                                                tw_socket *c)
{
    const tw_mem_v32 *t = (const tw_mem_v32 *)(const void *)st->conn_wide;
    tw_mem_v32 t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t5 = t[5];
    tw_mem_v16 t4 = *(const tw_mem_v16 *)(const void *)st->conn_wide[4];
    uint8_t *b = (uint8_t *)c;
    const tw_mem_v32 z = {0, 0, 0, 0};
    /* (the runs between WIDE_*'s, zeros: _Static_assert above; from WIDE_RCVBUF + 32 to
       the end, four runs, the last two overlapping) */
    *(tw_mem_v32 *)(void *)(b + 0) = z;
    *(tw_mem_v32 *)(void *)(b + 64) = z;
    *(tw_mem_v32 *)(void *)(b + 128) = z;
    *(tw_mem_v32 *)(void *)(b + 160) = z;
    *(tw_mem_v32 *)(void *)(b + 192) = z;
    *(tw_mem_v32 *)(void *)(b + WIDE_RCVBUF + 32) = z;
    *(tw_mem_v32 *)(void *)(b + WIDE_RCVBUF + 64) = z;
    *(tw_mem_v32 *)(void *)(b + WIDE_RCVBUF + 96) = z;
    *(tw_mem_v32 *)(void *)(b + sizeof(tw_socket) - 32) = z;
    *(tw_mem_v32 *)(void *)(b + WIDE_FLAGS) = t0;
    *(tw_mem_v32 *)(void *)(b + WIDE_MSS) = t1;
    *(tw_mem_v32 *)(void *)(b + WIDE_RTO) = t2;
    /* (the rings' blocks kept, parked, tw_conn_rings_kept: between the runs) */
    *(tw_mem_v32 *)(void *)(b + WIDE_NEVER) = t3;
    *(tw_mem_v16 *)(void *)(b + WIDE_SNDBUF) = t4;
    *(tw_mem_v32 *)(void *)(b + WIDE_RCVBUF) = t5;
    c->st = st;
}

__attribute__((target("avx2"), noinline)) int tw_conn_open_wide(tw_stack *st, tw_socket **out)
{
    if (__builtin_expect(!st->mem.cache[TW_MC_CONN].head, 0)) {
        return tw_conn_open_slow(st, out);
    }
    tw_socket *c = tw_mem_take(&st->mem, TW_MC_CONN, sizeof(tw_socket));
    tw_conn_rings_kept(st, c);
    conn_init_wide(st, c);
    c->id = tw_stack_next_id(st);
    *out = c;
    return 0;
}
#endif

/* tw_conn_alloc with the free list empty: out of line, so that the usual case makes
   no call and keeps no register across one. */
__attribute__((noinline)) tw_socket *tw_conn_alloc_slow(tw_stack *st, uint32_t id)
{
    tw_socket *c = tw_mem_take_slow(&st->mem, TW_MC_CONN, sizeof(*c));
    if (!c && tw_conn_reclaim_all(st)) {
        c = tw_mem_take_slow(&st->mem, TW_MC_CONN, sizeof(*c));
    }
    return c ? tw_conn_init(st, c, id) : NULL;
}

tw_socket *tw_conn_alloc(tw_stack *st, uint32_t id)
{
    return tw_conn_alloc_in(st, id, false);
}

/* (tcp_conn.h tw_conn_open: a machine without AVX2's, by st->conn_open) */
int tw_conn_open_narrow(tw_stack *st, tw_socket **out)
{
    if (__builtin_expect(!st->mem.cache[TW_MC_CONN].head, 0)) {
        return tw_conn_open_slow(st, out);
    }
    tw_socket *c = tw_mem_take(&st->mem, TW_MC_CONN, sizeof(tw_socket));
    tw_conn_rings_kept(st, c);
    *out = tw_conn_init_as(st, c, (uint32_t)++st->next_conn_id, false, true);
    return 0;
}

/* (out of line, as conn_alloc_slow) */
__attribute__((noinline)) int tw_conn_open_slow(tw_stack *st, tw_socket **out)
{
    tw_socket *c = tw_conn_alloc_slow(st, 0);
    if (!c) {
        return TW_ERR_NOMEM;
    }
    c->id = (uint32_t)++st->next_conn_id;
    *out = c;
    return 0;
}

/* Ring blocks of the first size go back to a free list: most connections never grow
   past it, so a steady stream of them reuses the same few blocks. */
static inline __attribute__((always_inline)) void ring_block_free(tw_stack *st, uint8_t *p,
                                                                  uint32_t cap)
{
    if (cap == TW_MEM_RING_BLOCK) {
        tw_mem_give(&st->mem, TW_MC_RING, p, cap);
    } else {
        tw_mem_free(&st->mem, p, cap);
    }
}

/* The size of ring r's block (r->buf set): its capacity, or a parked block's first size
   (tcp_conn.h tw_conn_rings_kept). */
static inline uint32_t ring_block_cap(const tw_ring *r)
{
    return r->cap ? r->cap : TW_MEM_RING_BLOCK;
}

/* A ring without a block has no capacity either (as a new connection's rings): so a
   capacity means a block, and tw_conn_free's usual case and send's first write ask the
   capacity alone. (A ring without capacity may have a parked block: tcp_conn.h
   tw_conn_rings_kept.) */
static inline void ring_free(tw_stack *st, tw_ring *r)
{
    if (r->buf) {
        ring_block_free(st, r->buf, ring_block_cap(r));
        r->buf = NULL;
        r->cap = 0;
    }
    r->len = 0;
}

void tw_conn_ring_free(tw_stack *st, tw_ring *r)
{
    ring_free(st, r);
}

/* Inline: tw_conn_free, twice a lifecycle, then makes no call for it. */
static inline __attribute__((always_inline)) void buffers_free(tw_socket *c)
{
    /* Most connections never had out-of-order data or a SACK scoreboard: test before
       calling. */
    tw_mem *m = &c->st->mem;
    ring_free(c->st, &c->snd);
    ring_free(c->st, &c->rcv);
    if (c->ooo) {
        tw_ranges_release(c->ooo, m);
        tw_mem_free(m, c->ooo, sizeof(tw_ooo));
        c->ooo = NULL;
    }
    if (c->sb) {
        tw_ranges_release(c->sb, m);
        tw_mem_free(m, c->sb, sizeof(tw_sbx));
        c->sb = NULL;
    }
    c->sacked = 0;
}

static void uncount(tw_socket *c)
{
    if (c->flags & TW_F_COUNTED) {
        c->flags &= ~TW_F_COUNTED;
        c->st->nconns--;
    }
}

static void detach_from_listener(tw_socket *c)
{
    if (!(c->flags & TW_F_CHILD)) {
        return;
    }
    tw_socket *l = tw_conn_listener(c);
    /* (a child opened by Fast Open is in the accept queue from its SYN: fastopen.h) */
    if ((c->state == TW_STATE_SYN_RCVD || !(c->flags & TW_F_CONNECTED)) &&
        !tw_tfo_child_queued(c)) {
        l->syn_len--;
    } else {
        /* In the accept queue: unlink. */
        tw_socket **pp = &l->acc_head;
        tw_socket *prev = NULL;
        while (*pp && *pp != c) {
            prev = *pp;
            pp = &(*pp)->q_next;
        }
        if (*pp) {
            *pp = c->q_next;
            if (l->acc_tail == c) {
                l->acc_tail = prev;
            }
            l->acc_len--;
        }
    }
    c->q_next = NULL;
    c->flags &= ~TW_F_CHILD;
}

tw_socket *tw_conn_listener(const tw_socket *c)
{
    return tw_port_listener(c->st, c->lport);
}

/* tw_conn_unhash; inline in tw_conn_free and tw_conn_done, which every connection
   passes through once. */
static inline __attribute__((always_inline)) void unhash(tw_socket *c)
{
    if (c->flags & TW_F_HASHED) {
        tw_htab_remove(&c->st->conns, &c->h);
        c->flags &= ~TW_F_HASHED;
        if (c->st->last_conn == c) {
            c->st->last_conn = TW_CONN_NONE; /* it may be freed, its key reused by another */
        }
    }
}

/* tw_conn_free's rarer steps, out of line: its usual case then keeps no register for
   them (the memory pool's address) across its calls. The rings other than two of the
   first size, each given back on its own. */
static __attribute__((noinline)) void rings_free_other(tw_stack *st, tw_socket *c)
{
    if (c->snd.buf) {
        ring_block_free(st, c->snd.buf, ring_block_cap(&c->snd));
    }
    if (c->rcv.buf) {
        ring_block_free(st, c->rcv.buf, ring_block_cap(&c->rcv));
    }
}

tw_sock_opts *tw_conn_opts_get(tw_socket *c)
{
    if (!c->opts) {
        tw_stack *st = c->st;
        tw_sock_opts *o = tw_mem_zalloc(&st->mem, sizeof(*o));
        if (!o) {
            return NULL;
        }
        o->ka_idle = st->cfg.keepalive_idle;
        o->ka_intvl = st->cfg.keepalive_intvl;
        o->ka_probes = st->cfg.keepalive_probes;
        c->opts = o;
        c->flags |= TW_F_EXTRAS;
    }
    return c->opts;
}

/* The rarely held ones: out-of-order data, SACK scoreboard, options (tw_mem_free lets
   NULL pass). */
static __attribute__((noinline)) void extras_free(tw_stack *st, tw_socket *c)
{
    if (c->ooo) {
        tw_ranges_release(c->ooo, &st->mem);
    }
    if (c->sb) {
        tw_ranges_release(c->sb, &st->mem);
    }
    tw_mem_free(&st->mem, c->ooo, sizeof(tw_ooo));
    tw_mem_free(&st->mem, c->sb, sizeof(tw_sbx));
    if (c->opts && (c->opts->tfo & (TW_TFO_PENDING | TW_TFO_SYN_DATA))) {
        tw_tfo_conn_gone(c); /* (Fast Open's accounts: fastopen.h) */
    }
    if (c->opts && c->opts->ecn) {
        tw_ecn_unuse(st); /* (ecn.h: its marks no longer needed) */
    }
    tw_mem_free(&st->mem, c->opts, sizeof(*c->opts));
}

/* tw_conn_free in every case (its usual one below has its own copy of these steps). */
__attribute__((noinline)) int tw_conn_free_full(tw_socket *c)
{
    tw_stack *st = c->st;
    /* Marked expected, laid out as the fall-through: a connection most often goes while
       a segment of its own is processed, which holds its timer; below, its timer waits
       unplaced, and it is found first on the held-ACK list (its ACK the one held last).
       Only the layout depends on this. */
    if (__builtin_expect(st->timer_held == c, 1)) {
        st->timer_held = NULL; /* nothing to set once the segment is done */
    }
    /* tw_wheel_cancel's steps, without its clearing the link of an object given back
       (tw_conn_alloc zeroes it): the usual lifecycle's timer waits unplaced (the lazy
       slot) when its connection goes. */
    if (__builtin_expect(tw_timer_lazy(&c->timer), 1)) {
        st->wheel.lazy = NULL; /* (the lazy one is not counted: wheel.h) */
    } else if (c->timer.pprev) {
        tw_wheel_cancel_placed(&st->wheel, &c->timer);
    }
    detach_from_listener(c);
    /* The flags read once, and what unhash() and uncount() would clear left set: the
       object is given back (tw_conn_alloc zeroes it). */
    uint32_t f = c->flags;
    if (f & TW_F_ACK_QUEUED) {
        /* Off the held-ACK list (tw_out_forget_ack's walk, inline: both ends of a usual
           lifecycle are on it when they go, an ACK of theirs having been held and then
           carried by a later segment). */
        tw_socket **pp = &st->ack_head;
        while (__builtin_expect(*pp != c, 0)) {
            pp = &(*pp)->ack_next;
        }
        *pp = c->ack_next;
    }
    if (f & TW_F_HASHED) {
        tw_htab_remove(&st->conns, &c->h);
        if (st->last_conn == c) {
            st->last_conn = TW_CONN_NONE; /* its key may be reused by another */
        }
    }
    if (f & TW_F_COUNTED) {
        st->nconns--;
    }
    if (f & TW_F_ORPHAN) {
        st->orphan_room++; /* (one orphan fewer) */
    }
    if (f & TW_F_BOUND) {
        tw_port_leaf *l = st->ports[c->lport / TW_PORT_LEAF];
        if (l) {
            if ((f & TW_F_LISTENER) && tw_port_listener(st, c->lport) == c) {
                tw_port_unlisten(st, c->lport); /* (only a listener is one) */
            }
            if (tw_port_unref(st, l, c->lport, (f & TW_F_REUSE) != 0,
                              (f & TW_F_AUTOBOUND) != 0)) {
                tw_port_leaf_emptied(st, c->lport);
            }
        }
    }
    /* buffers_free's steps, without its resetting the fields of an object given back
       (tw_conn_alloc zeroes it again): the rings' blocks, then the rarely held ones
       (out-of-order data, SACK scoreboard, options) behind one test. */
    if (__builtin_expect(c->snd.buf && c->rcv.buf && c->snd.cap == TW_MEM_RING_BLOCK &&
                             c->rcv.cap == TW_MEM_RING_BLOCK,
                         1)) {
        /* The usual connection's two first-size blocks, to the free list together
           (marked expected: laid out as the fall-through). */
        tw_mem_give2(&st->mem, TW_MC_RING, c->snd.buf, c->rcv.buf, TW_MEM_RING_BLOCK);
    } else {
        rings_free_other(st, c);
    }
    if ((uintptr_t)c->ooo | (uintptr_t)c->sb | (uintptr_t)c->opts) {
        extras_free(st, c);
    }
    c->kind = 0; /* given back: tw_conn_free_all's walk passes it by (mem.h) */
    /* (its blocks given back above: a listed object keeps none, tw_conn_rings_kept) */
    c->snd.buf = NULL;
    c->snd.cap = 0;
    c->rcv.buf = NULL;
    c->rcv.cap = 0;
    tw_mem_give(&st->mem, TW_MC_CONN, c, sizeof(*c));
    return tw_stack_trim_if_idle(st);
}

__attribute__((noinline)) int tw_conn_free_full_as(tw_stack *st, tw_socket *c)
{
    assert(st == c->st);
    (void)st;
    return tw_conn_free_full(c);
}

/* tw_conn_free's end when its usual case left a call to make (rare): the port's leaf
   emptied (tw_port_unref), the connection table to halve (tw_htab_unlink_hashed). */
__attribute__((noinline)) int tw_conn_free_end_rare(tw_stack *st, tw_socket *c, bool emptied,
                                                   bool shrink)
{
    if (shrink) {
        tw_htab_shrink(&st->conns);
    }
    if (emptied) {
        tw_port_leaf_emptied(st, c->lport);
    }
    c->kind = 0;
    tw_mem_give_taken(&st->mem, TW_MC_CONN, c); /* (its room: taken by the usual case's test) */
    return tw_stack_trim_if_idle(st);
}

__attribute__((noinline)) int tw_conn_free_end_shrink(tw_stack *st, tw_socket *c, uint32_t f)
{
    bool emptied = false;
    if (f & TW_F_BOUND) {
        uint32_t port = c->lport;
        emptied = tw_port_unref(st, st->ports[port / TW_PORT_LEAF], port, (f & TW_F_REUSE) != 0,
                                (f & TW_F_AUTOBOUND) != 0);
    }
    return tw_conn_free_end_rare(st, c, emptied, true);
}

/* tw_stack_trim_if_idle's step once the stack is idle: a trim when there is something
   to give back. */
int tw_stack_trim_idle(tw_stack *st)
{
    if (st->leaf_kept || tw_mem_cached(&st->mem)) {
        tw_stack_trim(st);
    }
    return 0;
}

void tw_conn_free(tw_socket *c)
{
    tw_conn_free_in(c, 0, false, false);
}

/* (no extras block: the one caller, tcp_in.c closing_ack_last, leaves a connection with
   one to the full steps; said to the compiler, tw_conn_free's usual case does not ask
   again) */
static inline __attribute__((always_inline)) void orphan_found_no_extras(const tw_socket *c)
{
    assert(!(c->flags & TW_F_EXTRAS));
#if defined(__GNUC__)
    if (c->flags & TW_F_EXTRAS) {
        __builtin_unreachable();
    }
#else
    (void)c;
#endif
}

void tw_conn_free_orphan_found(tw_stack *st, tw_socket *c)
{
    orphan_found_no_extras(c);
    tw_conn_free_in_as(st, c, 0, true, true, true);
}

int tw_conn_free_orphan_found_leave(tw_stack *st, tw_socket *c)
{
    /* (the call's end first: what the free calls -- the allocator's free, in its rare
       steps -- calls nothing on the stack, and its own steps then end the function in
       tail calls, with nothing kept across them) */
    assert(!st->call_free);
    orphan_found_no_extras(c);
    st->call_free = true;
    return tw_conn_free_in_as(st, c, 0, true, true, true);
}

static void release_held(void *obj, void *ud)
{
    tw_socket *c = obj;
    (void)ud;
    if (c->kind == TW_OBJ_CONN) {
        buffers_free(c);
        tw_mem_free(&c->st->mem, c->opts, sizeof(*c->opts));
        c->opts = NULL;
    }
}

void tw_conn_free_all(tw_stack *st)
{
    /* Everything else a socket is part of (tables, wheel, listeners' queues, port
       entries, counts) goes with the stack: only what each one holds on its own is
       released, then the objects all at once. */
    tw_mem_walk(&st->mem, TW_MC_CONN, release_held, NULL);
    tw_mem_release_all(&st->mem, TW_MC_CONN);
}

void tw_trace_conn_emit(tw_stack *st, tw_trace_kind kind, const tw_socket *c,
                        const tw_seg_summary *seg, tw_state old_state)
{
    tw_trace_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    ev.now = st->now;
    ev.counter = TW_CNT_COUNT_;
    if (c) {
        ev.conn_id = c->id;
        ev.sock = c;
        ev.new_state = (tw_state)c->state;
        ev.old_state = kind == TW_TRACE_STATE ? old_state : (tw_state)c->state;
        ev.iss = c->iss.v;
        ev.irs = c->irs.v;
    }
    if (seg) {
        ev.seg = *seg;
    }
    st->cfg.trace(&ev, st->cfg.trace_ud);
}

#ifndef NDEBUG
bool tw_conn_edge_legal(tw_state old, tw_state s)
{
    return old == s || (legal_next[old] & BIT(s));
}
#endif

void tw_conn_set_state_full(tw_socket *c, tw_state s)
{
    tw_state old = (tw_state)c->state;
    if (old == s) {
        return;
    }
    assert(legal_next[old] & BIT(s));
    c->state = (uint8_t)s;
    if (s >= TW_STATE_SYN_SENT && s <= TW_STATE_ESTABLISHED) {
        /* (the closing states, the most frequent changes, skip both tests) */
        if (s == TW_STATE_ESTABLISHED && !(c->flags & TW_F_CONNECTED)) {
            c->flags |= TW_F_CONNECTED;
            tw_count(c->st, TW_CNT_TCP_ESTABLISHED);
        }
        if (s != TW_STATE_ESTABLISHED && !(c->flags & TW_F_COUNTED)) {
            c->flags |= TW_F_COUNTED | TW_F_STARTED;
            c->st->nconns++;
        }
    }
    if (c->st->cfg.trace) {
        tw_trace_conn_emit(c->st, TW_TRACE_STATE, c, NULL, old);
    }
}

void tw_conn_hash(tw_socket *c)
{
    tw_conn_hash_hashed(c, tw_htab_hash(&c->st->conns, c->h.key));
}

void tw_conn_unhash(tw_socket *c)
{
    unhash(c);
}

/* tw_conn_done for a socket the application still holds: out of line, so that the
   usual case (an orphan, every passive closer's end) saves no registers for it. */
static __attribute__((noinline)) void done_held(tw_socket *c, int err)
{
    if (err && !c->err) {
        c->err = (int8_t)err;
    }
    c->rto_at = TW_TIME_NEVER;
    c->misc_at = TW_TIME_NEVER;
    c->dack_at = TW_TIME_NEVER;
    c->ka_at = TW_TIME_NEVER;
    tw_wheel_cancel(&c->st->wheel, &c->timer);
    if ((c->flags & TW_F_EXTRAS) && c->opts && (c->opts->tfo & TW_TFO_PENDING)) {
        tw_tfo_pending_drop(c); /* RFC 7413 5.1: an accepted child ends before its ACK */
    }
    tw_conn_set_state(c, TW_STATE_CLOSED);
    unhash(c);
    uncount(c);
    if (c->flags & TW_F_AUTOBOUND) {
        /* A port connect chose goes back now, as Linux's tcp_set_state(TCP_CLOSE) lets
           go of it (inet_put_port) for a socket without SOCK_BINDPORT_LOCK: a failed
           or reset socket the application keeps holds none (connect chooses again,
           socket.c connect_renew_failed). lport stays, for tw_socket_info. */
        tw_stack *st = c->st;
        c->flags &= ~(TW_F_BOUND | TW_F_AUTOBOUND);
        if (tw_port_unref(st, st->ports[c->lport / TW_PORT_LEAF], c->lport, false, true)) {
            tw_port_leaf_emptied(st, c->lport);
        }
    }
    /* The application still holds the socket: keep it, CLOSED, with its unread data;
       a reset discards the data (RFC 9293 3.10.7.4: "any outstanding RECEIVEs and SEND
       should receive reset responses"). */
    tw_conn_ring_free(c->st, &c->snd);
    if (err) {
        c->rcv.len = 0;
    }
    tw_conn_notify(c);
}

/* tw_conn_done for a child opened by Fast Open, not yet accepted (fastopen.h): as
   Linux's tcp_done leaves such a child (not SOCK_DEAD: its listener's accept queue holds
   it), it stays there, CLOSED with its error, for accept() to hand over: the client's
   SYN data was acknowledged, so the application learns of the connection and of its
   end (Linux's fastopen/server reset-before-accept and icmp-before-accept). Its place in
   the pending bound goes back (done_held). A reset discards the data as for any held
   socket (done_held; Linux lets the SYN's bytes be read first). */
static __attribute__((noinline, cold)) void done_tfo_child(tw_socket *c, int err)
{
    done_held(c, err ? err : TW_ERR_ABORTED);
}

void tw_conn_done(tw_socket *c, int err)
{
    if (c->flags & TW_F_ORPHAN) {
        /* Nobody holds a handle: the object goes (tw_conn_free stops its timer,
           unhashes and uncounts it): only the state change is left to make first, for
           its trace. */
        tw_conn_set_state(c, TW_STATE_CLOSED);
        tw_conn_free(c);
        return;
    }
    if (__builtin_expect(c->flags & TW_F_CHILD, 0)) {
        if (tw_tfo_child_queued(c)) {
            done_tfo_child(c, err);
            return;
        }
        /* A passive child never accepted: nobody holds a handle either. */
        tw_conn_set_state(c, TW_STATE_CLOSED);
        tw_conn_free(c);
        return;
    }
    done_held(c, err);
}

/* tw_wheel_arm_lazy_at's other case for tw_conn_timer_place (another timer waits unplaced,
   or c's is placed on the wheel): out of line, so that the usual case does not work out
   the wheel's and the timer's addresses for its call first. */
static __attribute__((noinline)) void timer_place_slow(tw_socket *c, tw_time at)
{
    tw_wheel_arm_lazy_slow(&c->st->wheel, &c->timer, at);
}

void tw_conn_timer_place(tw_socket *c)
{
    tw_time d = c->rto_at < c->misc_at ? c->rto_at : c->misc_at;
    if (c->dack_at < d) {
        d = c->dack_at;
    }
    if (c->ka_at < d) {
        d = c->ka_at;
    }
    /* Placed when the wheel next changes, or never if the deadline goes first: the
       delayed-ACK timer a receiver arms for every other segment is cancelled by the ACK
       the next one sends. The waiting entry keeps the time itself (wheel.h lazy): its
       tick is worked out only if it is placed. */
    /* (tw_wheel_arm_lazy_at's steps, its slow case timer_place_slow's; c's own timer
       waiting unplaced asked first: a bulk transfer's every ACK finds it so, and then
       neither the wheel nor its lazy slot is read; bulk -0.9 instr per KiB) */
    if (tw_timer_lazy(&c->timer)) {
        c->timer.expires = d; /* the waiting one moves (or stays) */
        return;
    }
    tw_wheel *w = &c->st->wheel;
    if (c->timer.pprev || w->lazy) {
        if (c->timer.pprev && c->timer.expires == tw_time_to_tick(d)) {
            return; /* (placed at that tick already) */
        }
        timer_place_slow(c, d);
        return;
    }
    wheel_lazy_wait(w, &c->timer, d); /* (not counted while it waits: wheel.h) */
}

/* A block for ring `r` of connection c: a receive ring's may take the memory budget's
   reserve (mem.h tw_mem_alloc_reserve), any other's not. */
static inline uint8_t *ring_block_alloc(tw_socket *c, const tw_ring *r, uint32_t cap)
{
    tw_mem *m = &c->st->mem;
    if (r == &c->rcv && m->reserve) {
        return tw_mem_alloc_reserve(m, cap); /* (no free list under a budget: stack.c) */
    }
    return cap == TW_MEM_RING_BLOCK ? tw_mem_take(m, TW_MC_RING, cap) : tw_mem_alloc(m, cap);
}

/* A ring keeps its block once its bytes are gone (all acknowledged, all read), for the
   data that follows: the usual connection then takes a block once a direction. Under a
   spent memory budget (tw_config.max_memory) such idle blocks may be all the memory
   there is, and the ring that needs one waited for good: an application that had read
   its peer's whole stream could not write its answer while its own empty receive ring
   held the block (tcpwave sim --set max_memory=100000 --bytes 300000, every run). So a
   ring the budget refuses gives back idle blocks and tries again: its connection's other
   ring first, else every connection's. A walk of every connection costs in proportion to
   their number, so it is made at most once per 10 ms plus a microsecond per connection
   (a million: once a second). A receive ring holding out-of-order bytes past its readable
   ones (TW_F_HOLES) is not idle. */
static bool ring_idle_free(tw_stack *st, tw_ring *r, const tw_ring *busy)
{
    if (r == busy || !r->buf || r->len != 0) {
        return false;
    }
    ring_free(st, r);
    r->head = 0;
    tw_count(st, TW_CNT_MEM_RINGS_RECLAIMED);
    return true;
}

/* Connection c's idle rings (but `busy`) given back; true when one was. */
static bool conn_rings_idle_free(tw_socket *c, const tw_ring *busy)
{
    bool freed = ring_idle_free(c->st, &c->snd, busy);
    if (!(c->flags & TW_F_HOLES)) {
        freed |= ring_idle_free(c->st, &c->rcv, busy);
    }
    return freed;
}

struct reclaim_walk {
    const tw_ring *busy;
    bool freed;
};

static void reclaim_one(void *obj, void *ud)
{
    tw_socket *c = obj;
    struct reclaim_walk *w = ud;
    if (c->kind == TW_OBJ_CONN) {
        w->freed |= conn_rings_idle_free(c, w->busy);
    }
}

/* The walk of every connection, at most once per interval (the time of the next one
   kept in st->reclaim_walk_next). */
static bool reclaim_walk(tw_stack *st, const tw_ring *busy)
{
    if (st->now < st->reclaim_walk_next) {
        return false;
    }
    st->reclaim_walk_next = st->now + TW_MS(10) + (tw_time)st->nconns * TW_US(1);
    struct reclaim_walk w = {busy, false};
    tw_mem_walk(&st->mem, TW_MC_CONN, reclaim_one, &w);
    return w.freed;
}

__attribute__((noinline, cold)) bool tw_conn_reclaim(tw_socket *c, const tw_ring *busy)
{
    return conn_rings_idle_free(c, busy) || reclaim_walk(c->st, busy);
}

/* A connection or SYN queue entry the budget refuses may find its memory in idle ring
   blocks too: an application that keeps idle connections open (HTTP keep-alive) would
   otherwise have them hold a block each way for good, and new connections found no room
   for as long as they stayed. (Not from every allocation: one made between a ring's
   reservation and its write, as the out-of-order range's after the ring's room in
   tcp_in.c text_take, would lose that ring. Where a connection is made, none is
   pending.) */
__attribute__((noinline, cold)) bool tw_conn_reclaim_all(tw_stack *st)
{
    return st->mem.budget && reclaim_walk(st, NULL);
}

/* Buffers grow on demand, doubling from 4 KiB up to the socket's limit, so a connection
   that moves a few bytes never holds (or maps, with malloc's large-block threshold) the
   full buffer sizes. `keep` bytes from head are preserved (data and, on the receive
   side, the out-of-order bytes stored past it). These are tw_conn_ring_reserve's steps
   for a ring that has a buffer already or needs more than one block (tcp_conn.h): out of
   line, so that the usual cases cost no register saves. */
__attribute__((noinline)) bool tw_conn_ring_grow(tw_socket *c, tw_ring *r, uint32_t need,
                                                 uint32_t limit, uint32_t keep)
{
    tw_stack *st = c->st;
    if (need > limit) {
        return false;
    }
    if (r->buf && r->cap == 0) {
        /* A parked block (tcp_conn.h tw_conn_rings_kept; its ring is empty): the first
           block, as the one below would be when one does (a limit below one block still
           gets a whole block); else back, and the larger one made as for a ring without
           one. */
        if (need <= TW_MEM_RING_BLOCK) {
            r->cap = TW_MEM_RING_BLOCK;
            r->head = 0;
            return true;
        }
        ring_free(st, r);
    }
    uint32_t ncap = r->cap ? r->cap : TW_MEM_RING_BLOCK;
    while (ncap < need) {
        ncap = ncap > limit / 2 ? limit : ncap * 2;
    }
    /* A limit below one block still gets a whole block: the send ring starts over
       TW_SND_HDR_ROOM bytes into its buffer once all is acknowledged (tcp_in.c), which a
       buffer of a few bytes (sndbuf=1) does not have, and the head then lay past the end:
       writes went beyond the buffer. The limits themselves (sndbuf_cap, rcvbuf_cap) still
       bound what is queued and the window. */
    if (ncap > limit && limit >= TW_MEM_RING_BLOCK) {
        ncap = limit;
    }
    /* (so a capacity is 0 or at least a block: tcp_in.c fast_ok asks it so) */
    assert(ncap >= TW_MEM_RING_BLOCK);
    uint8_t *nbuf = ring_block_alloc(c, r, ncap);
    if (!nbuf && (!tw_conn_reclaim(c, r) || !(nbuf = ring_block_alloc(c, r, ncap)))) {
        return false;
    }
    uint32_t old_cap = r->cap;
    uint8_t *old = tw_ring_move(r, nbuf, ncap, keep);
    if (old) {
        ring_block_free(st, old, old_cap);
    }
    return true;
}

/* tw_conn_rcv_reserve's cases other than its two usual ones: out of line, so that those
   make no call and save no register. */
__attribute__((noinline)) bool tw_conn_rcv_reserve_slow(tw_socket *c, uint32_t need)
{
    /* Out-of-order bytes live past the readable ones: keep everything up to the
       current capacity's worth that is in use. */
    uint32_t keep = c->rcv.buf ? c->rcv.cap : 0;
    uint32_t limit = c->rcvbuf_cap;
    if (c->flags & TW_F_BUF_LOWERED) {
        /* the application lowered SO_RCVBUF: the window advertised before still fits
           (tw_conn_rcv_space_rare) */
        uint32_t held = c->rcv.len + tw_conn_rcv_space_rare(c);
        limit = held > limit ? held : limit;
    }
    return tw_conn_ring_reserve(c, &c->rcv, need, limit, keep);
}

/* tw_conn_rcv_space after the application lowered SO_RCVBUF (tw_socket_set_bufsizes):
   more can then be unread than the limit, and the right edge already advertised is not
   taken back (RFC 9293 3.8.6.2.2, SHLD-14: a receiver should not shrink the window), so
   the space is at least what that edge leaves; the window closes only as data comes in. */
uint32_t tw_conn_rcv_space_rare(const tw_socket *c)
{
    uint32_t space = c->rcv.len < c->rcvbuf_cap ? c->rcvbuf_cap - c->rcv.len : 0;
    int32_t open = tw_seq_diff(c->rcv_adv, c->rcv_nxt);
    return open > 0 && (uint32_t)open > space ? (uint32_t)open : space;
}

bool tw_conn_rcv_reserve(tw_socket *c, uint32_t need)
{
    return tw_conn_rcv_reserve_in(c, need);
}

/* Receive buffer auto-tuning: Linux's dynamic right-sizing (tcp_rcv_space_adjust, after
   Fisk and Feng's DRS), which a window-limited flow needs to go faster than
   rcvbuf / RTT. The receiver's round-trip time is Linux's window-based measure
   (tcp_rcv_rtt_measure): the time the peer takes to fill the window offered when the
   sample began, which is at least one round trip, the least of the samples kept; or the
   connection's own SRTT (its handshake's, or its data's) when less. Once per that time
   the bytes the application read are compared with the most read in one before
   (rcvq_space); when more, the buffer grows to twice them, plus 16 segments of cushion,
   plus twice the growth's proportion again for a sender still in slow start (Linux's
   formula), never beyond cfg.rcvbuf_max nor the largest window the negotiated scale can
   carry. Only the limit grows (the window offered with it: RFC 9293 3.8.6.2.2, never
   shrunk); the ring takes memory as data comes. Nothing for a buffer the application set
   (TW_BUF_LOCK_RCV), a lowered one, or with cfg.no_moderate_rcvbuf; no growth with the
   memory budget more than half taken (mem_pressure). The state lives in
   c->opts, made once the peer has sent more than an initial window (10 segments, Linux's
   TCP_INIT_CWND of rcvq_space): a connection that carries less never makes it. */
/* The stack's memory budget more than half taken: buffers are not grown then (Linux's
   tcp_should_expand_sndbuf under memory pressure), so that growing windows do not
   invite data the budget would then drop. */
static bool mem_pressure(const tw_stack *st)
{
    return st->mem.budget && st->mem.live > st->mem.budget / 2;
}

__attribute__((noinline, cold)) void tw_rcv_space_adjust(tw_socket *c)
{
    tw_stack *st = c->st;
    tw_sock_opts *o = c->opts;
    if (st->cfg.no_moderate_rcvbuf || (c->flags & TW_F_BUF_LOWERED) ||
        (o && (o->buf_lock & TW_BUF_LOCK_RCV))) {
        if (o) {
            o->rcvq_next = TW_TIME_NEVER; /* (the buffer is fixed for good) */
        }
        return;
    }
    tw_time now = st->now;
    uint32_t read = (uint32_t)c->bytes_received - c->rcv.len;
    uint32_t init = 10u * tw_conn_local_mss(c); /* Linux: TCP_INIT_CWND * advmss */
    if (init > c->rcvbuf_cap) {
        init = c->rcvbuf_cap;
    }
    if (!o || !o->rcvq_on) {
        if (c->bytes_received < init || !(o = tw_conn_opts_get(c))) {
            return; /* (no memory: the buffer stays as it is) */
        }
        o->rcvq_on = true;
        o->rcvq_space = init;
        o->rcvq_read = read;
        o->rcvq_time = now;
        o->rcv_rtt = 0;
        o->rcv_rtt_time = 0;
    }
    /* The window-based RTT sample (Linux tcp_rcv_rtt_measure, its minimum kept) */
    if (o->rcv_rtt_time != 0 && !tw_seq_lt(c->rcv_nxt, o->rcv_rtt_seq)) {
        tw_time r = now - o->rcv_rtt_time;
        r = r ? r : 1;
        if (o->rcv_rtt == 0 || r < o->rcv_rtt) {
            o->rcv_rtt = r;
        }
        o->rcv_rtt_time = 0;
    }
    if (o->rcv_rtt_time == 0) {
        o->rcv_rtt_seq = tw_seq_add(c->rcv_nxt, tw_conn_rcv_space(c));
        o->rcv_rtt_time = now;
    }
    /* (the less of the two: the window-based sample is at least a round trip, more when
       the peer does not fill the window; SRTT is one measured, the handshake's or that
       of the data the connection sends) */
    tw_time rtt = o->rcv_rtt ? o->rcv_rtt : c->srtt;
    if (c->srtt && c->srtt < rtt) {
        rtt = c->srtt;
    }
    /* The next look: a quarter of the round trip from now (the sample under way is
       then taken late by at most that), or the round trip's end if sooner. */
    tw_time step = rtt >= 4 ? rtt / 4 : 1;
    o->rcvq_next = now + step;
    if (rtt == 0 || now - o->rcvq_time < rtt) {
        if (rtt && o->rcvq_time + rtt < o->rcvq_next) {
            o->rcvq_next = o->rcvq_time + rtt;
        }
        return;
    }
    uint32_t copied = read - o->rcvq_read;
    if (copied > o->rcvq_space && !mem_pressure(st)) {
        /* Linux: rcvwin = 2 * copied + 16 * advmss (a loss costs a round trip's data:
           twice it in flight), then + 2 * rcvwin * (copied - space) / space (the sender
           may still double per round trip: the ACKs of this window open the next). */
        uint64_t win = 2u * (uint64_t)copied + 16u * tw_conn_local_mss(c);
        uint64_t grow = win * (copied - o->rcvq_space) / o->rcvq_space;
        win += 2u * grow;
        /* In whole units of the window field (1 << scale): a buffer between two would
           leave its last bytes unadvertised, and the reads that free them would look like
           a window opened by a segment (window_update_due) more often. */
        uint64_t unit = (uint64_t)1 << c->rcv_wscale;
        win = (win + unit - 1) & ~(unit - 1);
        uint64_t most = (uint64_t)65535u << c->rcv_wscale; /* the field's largest */
        if (most > (st->cfg.rcvbuf_max & ~(unit - 1))) {
            most = st->cfg.rcvbuf_max & ~(unit - 1);
        }
        if (win > most) {
            win = most;
        }
        if (win > c->rcvbuf_cap) {
            c->rcvbuf_cap = (uint32_t)win;
        }
        o->rcvq_space = copied;
    }
    o->rcvq_read = read;
    o->rcvq_time = now;
}

/* Send buffer auto-tuning (Linux's tcp_should_expand_sndbuf and tcp_sndbuf_expand, which
   Linux asks when space frees up for a writer that found the buffer full): the
   buffer holds what is in flight and what goes next, so a sender whose flight is capped
   by the buffer (below the congestion window and the peer's: the buffer, not the path
   or the receiver, limits it) gets twice the congestion window (at least an initial window's), up to
   cfg.sndbuf_max: a window in flight and one more to send while its ACKs come (Linux:
   2, "Cubic needs 1.7"). Not for a buffer the application set or lowered, nor before
   ESTABLISHED (no congestion window yet), nor with cfg.no_sndbuf_expand, nor with the
   memory budget more than half taken (mem_pressure). */
__attribute__((noinline, cold)) bool tw_sndbuf_expand(tw_socket *c)
{
    const tw_config *cfg = &c->st->cfg;
    if (cfg->no_sndbuf_expand || (c->flags & TW_F_BUF_LOWERED) || mem_pressure(c->st) ||
        (c->opts && (c->opts->buf_lock & TW_BUF_LOCK_SND)) ||
        !(c->state == TW_STATE_ESTABLISHED || c->state == TW_STATE_CLOSE_WAIT)) {
        return false;
    }
    /* Linux asks the congestion window only; the peer's window is asked too, as a
       sender it holds back gains nothing from a larger buffer but data queued: the
       buffer grows once the receiver's window has (its own auto-tuning) */
    uint32_t flight = (uint32_t)tw_seq_diff(c->snd_max, c->snd_una);
    uint32_t unsent = (uint32_t)tw_seq_diff(tw_seq_add(c->snd_buf_seq, c->snd.len), c->snd_nxt);
    uint32_t lim = c->cwnd < c->snd_wnd ? c->cwnd : c->snd_wnd;
    if (flight + c->snd_mss > lim || unsent >= c->snd_mss) {
        /* the congestion or the peer's window limits it: no room for another segment,
           or a segment's worth waits for one */
        return false;
    }
    uint32_t w = c->cwnd, init = cfg->initial_cwnd * (uint32_t)c->snd_mss;
    uint64_t want = 2u * (uint64_t)(w > init ? w : init);
    if (want > cfg->sndbuf_max) {
        want = cfg->sndbuf_max;
    }
    if (want <= c->sndbuf_cap) {
        return false;
    }
    c->sndbuf_cap = (uint32_t)want;
    return true;
}

/* (tw_conn_notify has checked that there is a hook and an application to tell.) c is
   no listener: a listener's one notification is tw_conn_notify_acceptable's. The others
   come from a connection's segment (tcp_in.c in_conn: a listener's segments go to
   in_listen) or its end (tw_conn_done: from the timers, which a listener never arms --
   it sends nothing of its own, receives no data, and keepalive and the FIN-WAIT-2 and
   TIME-WAIT timers are for synchronized states -- or from socket.c for an orphan or an
   unaccepted child, which tw_conn_notify passes over). */
void tw_conn_notify_emit(tw_socket *c)
{
    unsigned ev = tw_conn_events_nonlistener(c);
    tw_stack *st = c->st;
    st->cfg.notify(c, ev, st->cfg.notify_ud);
}

/* (tw_conn_notify_emit for a listener that has just queued a child: its events are
   then TW_EV_ACCEPTABLE alone, tw_conn_events' listener case with a queue not empty) */
void tw_conn_notify_acceptable(tw_socket *l)
{
    assert((l->flags & TW_F_LISTENER) && l->acc_len != 0 && tw_conn_events(l) == TW_EV_ACCEPTABLE);
    tw_stack *st = l->st;
    st->cfg.notify(l, TW_EV_ACCEPTABLE, st->cfg.notify_ud);
}
/* tw_tuple_hash for a peer other than the last one (tcp_conn.h): out of line, so that
   the usual case keeps no more registers across its call than before. */
__attribute__((noinline)) uint64_t tw_tuple_hash_new_peer(tw_stack *st, uint32_t raddr, uint32_t c)
{
    /* (a peer that passed tw_ipv4_bad_source: socket.c connect_bad_peer relies on it) */
    assert(!tw_ipv4_bad_source(raddr, st->cfg.addr));
    uint64_t mid = (uint64_t)st->cfg.addr | (uint64_t)raddr << 32;
    if (__builtin_expect(!st->isn_aes.ni, 0)) {
        /* (the portable form, no peer kept: isn_mid_peer stays 0, no peer's, so that the
           usual case, which takes the AES-NI rounds without asking, is never taken;
           stack.h isn_mid_peer) */
        assert(st->isn_mid_peer == 0);
        return tw_aes128_prf64_soft(&st->isn_aes, mid, c);
    }
    st->isn_mid = mid;
    st->isn_mid_peer = raddr;
    st->good_peer = raddr; /* (asserted good above) */
    return tw_isn_prf_mid(st, c);
}

uint32_t tw_isn(tw_stack *st, uint32_t raddr, uint16_t rport, uint16_t lport)
{
    /* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a
       4-microsecond timer, F a keyed PRF (AES-128 here, aes.h; low 32 bits). */
    return (uint32_t)tw_tuple_hash(st, raddr, rport, lport) + (uint32_t)tw_div_4us(st->now);
}

uint32_t tw_ts_offset(tw_stack *st, uint32_t raddr, uint16_t rport, uint16_t lport)
{
    /* A per-connection random offset (as Linux does since 4.10) hides the host's uptime
       and keeps timestamps of different connections unrelated: the high 32 bits of the
       same keyed hash, so a TIME-WAIT record or a SYN cookie can recompute it. */
    return (uint32_t)(tw_tuple_hash(st, raddr, rport, lport) >> 32);
}

void tw_conn_syn_opts(const tw_socket *c, tw_tcp_opts *o, const tw_tcp_opts *peer)
{
    const tw_config *cfg = &c->st->cfg;
    memset(o, 0, sizeof(*o));
    o->present = TW_OPT_MSS;
    o->mss = tw_conn_local_mss(c);
    /* S4: on a SYN+ACK offer only what the SYN offered (RFC 7323 2.2, 3.2; RFC 2018). */
    if (!cfg->no_wscale && (!peer || (peer->present & TW_OPT_WSCALE))) {
        o->present |= TW_OPT_WSCALE;
        o->wscale = c->rcv_wscale;
    }
    if (!cfg->no_sack && (!peer || (peer->present & TW_OPT_SACK_PERM))) {
        o->present |= TW_OPT_SACK_PERM;
    }
    if (!cfg->no_timestamps && (!peer || (peer->present & TW_OPT_TS))) {
        o->present |= TW_OPT_TS;
        o->ts_val = tw_ts_now(c->st, c->ts_offset);
        o->ts_ecr = peer ? peer->ts_val : 0;
    }
}

void tw_conn_apply_peer_syn(tw_socket *c, const tw_tcp_opts *peer)
{
    tw_conn_apply_peer_syn_in(c, peer);
}
_Static_assert((TW_OPT_WSCALE << 8) == TW_F_WS && (TW_OPT_SACK_PERM << 8) == TW_F_SACK &&
                   (TW_OPT_TS << 4) == TW_F_TS &&
                   ((((TW_OPT_WSCALE | TW_OPT_SACK_PERM | TW_OPT_TS) * 0x110u) &
                     (TW_F_WS | TW_F_TS | TW_F_SACK)) ==
                    (TW_F_WS | TW_F_TS | TW_F_SACK)) &&
                   ((TW_OPT_WSCALE | TW_OPT_SACK_PERM) << 4 & (TW_F_WS | TW_F_TS | TW_F_SACK)) ==
                       0 &&
                   (TW_OPT_TS << 8 & (TW_F_WS | TW_F_TS | TW_F_SACK)) == 0,
               "tw_conn_apply_peer_syn's multiply: each option lands on its flag only");

void tw_conn_fill_summary_as(tw_seg_summary *sum, const tw_tcp_hdr *h, uint32_t saddr,
                             uint32_t daddr, uint32_t seq, uint32_t ack, uint32_t len,
                             uint8_t flags)
{
    memset(sum, 0, sizeof(*sum));
    sum->saddr = saddr;
    sum->daddr = daddr;
    sum->sport = h->sport;
    sum->dport = h->dport;
    sum->seq = seq;
    sum->ack = ack;
    sum->len = len;
    sum->win = h->win;
    sum->flags = flags;
    sum->opts = h->o.present;
    sum->mss = h->o.mss;
    sum->wscale = h->o.wscale;
    sum->sack_blocks = h->o.sack_n;
    sum->ts_val = h->o.ts_val;
    sum->ts_ecr = h->o.ts_ecr;
}

void tw_conn_fill_summary(tw_seg_summary *sum, const tw_tcp_hdr *h, uint32_t saddr,
                          uint32_t daddr)
{
    tw_conn_fill_summary_as(sum, h, saddr, daddr, h->seq, h->ack, h->payload_len, h->flags);
}
