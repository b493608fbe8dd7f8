/*
 * timewait.c -- compact TIME-WAIT records (SPEC S14-S17, RFC 9293 3.10.7.4 TIME-WAIT,
 * RFC 1337, RFC 6191). Layout and rationale in timewait.h; the table in htab.h.
 */
#include "core/arch.h"
#include "core/timewait.h"
#include "core/conn_free.h"
#include "core/cksum.h"

#include <string.h>

#define CHUNK_BITS TW_TW_CHUNK_BITS
#define CHUNK (1u << CHUNK_BITS)
#define CAP0_MIN 4u  /* chunk 0 starts this small: one record costs ~200 bytes, not 12 KiB */
#define BUCKETS_MIN 16u
/* Buckets grow eightfold up to this many (64 KiB), then double: each growth moves every
   record, and a table that starts at BUCKETS_MIN moved each record about twice over
   before it reached a few thousand (lifecycle ~-12 instr at 10,000 records). Below it the
   table's memory is at most 64 KiB more than doubling's, a bound whatever the count;
   above it the buckets, and their share of a record, are doubling's: the sizes are
   16, 128, 1,024, 8,192 and then every power of two above. */
#define BUCKETS_FAST 8192u
_Static_assert(BUCKETS_MIN * 8 * 8 * 8 == BUCKETS_FAST, "nb_shrunk: the sizes below BUCKETS_FAST");

/* ---- the table: dense record array, index links ---- */

static inline tw_tw *rec(const tw_twtab *T, uint32_t i)
{
    return &T->dir[i >> CHUNK_BITS][i & (CHUNK - 1)];
}

static inline uint64_t hash_of(const tw_twtab *T, uint64_t key)
{
    /* tw_htab_hash of the key: the tables share the seed (stack.c) */
    return tw_hash_mix(key, T->seed);
}

static inline uint32_t bucket_of(const tw_twtab *T, uint64_t h)
{
    return tw_tw_bucket(T, h);
}

/* The number of buckets (0 with none made), for the rare paths. */
static inline uint32_t nb_of(const tw_twtab *T)
{
    return T->b != &T->none ? T->mask + 1 : 0;
}

static inline uint32_t bit_of(uint64_t h)
{
    return tw_tw_bit(h);
}

static uint32_t capacity(const tw_twtab *T)
{
    return T->ndir <= 1 ? (T->ndir ? T->cap0 : 0) : T->ndir * CHUNK;
}

/* T->room again after the capacity, the buckets or both changed: records that fit
   the chunks, up to two a bucket (make_room), and no more than the configuration
   allows (S15, max_time_wait). */
static void room_set(const tw_stack *st, tw_twtab *T)
{
    uint32_t room = capacity(T);
    if (2 * nb_of(T) < room) {
        room = 2 * nb_of(T);
    }
    if (st->cfg.max_time_wait && st->cfg.max_time_wait < room) {
        room = st->cfg.max_time_wait;
    }
    T->room = room;
}

/* The time the stack's deadline reports for a record's end E (tw_tw expires): the time
   of the tick the end falls in, as the wheel would fire it (stack.h tw_time_to_tick
   rounds up). */
static inline tw_time end_at(tw_time e)
{
    return tw_time_of_tick(tw_time_to_tick(e));
}

/* Index of a record from its address: its predecessor on the expiry list names it. */
static uint32_t index_of(const tw_twtab *T, const tw_tw *t)
{
    return t->fprev == TW_TW_NIL ? T->head : rec(T, t->fprev)->fnext;
}

/* The expiry list's newest, index i (TW_TW_NIL: none), and its address with it. */
static inline void tail_set(tw_twtab *T, uint32_t i)
{
    T->tail = i;
    T->tail_rec = i == TW_TW_NIL ? NULL : rec(T, i);
}

/* Room for one more record; false when out of memory. */
static bool reserve(tw_stack *st)
{
    tw_twtab *T = &st->tws;
    if (T->count < capacity(T)) {
        return true;
    }
    tw_mem *m = &st->mem;
    if (T->ndir == 1 && T->cap0 < CHUNK) {
        /* Chunk 0 doubles by copying; no record address is held across this call. */
        uint32_t ncap = T->cap0 * 2;
        tw_tw *n = tw_mem_alloc(m, ncap * sizeof(tw_tw));
        if (!n) {
            return false;
        }
        memcpy(n, T->dir[0], T->cap0 * sizeof(tw_tw));
        tw_mem_free(m, T->dir[0], T->cap0 * sizeof(tw_tw));
        T->dir[0] = n;
        T->cap0 = ncap;
        tail_set(T, T->tail); /* (its records moved) */
        T->end = &n[T->count];
        return true;
    }
    if (T->ndir == T->dircap) {
        uint32_t ncap = T->dircap ? T->dircap * 2 : 4;
        tw_tw **nd = tw_mem_alloc(m, ncap * sizeof(*nd));
        if (!nd) {
            return false;
        }
        if (T->ndir) {
            memcpy(nd, T->dir, T->ndir * sizeof(*nd));
        }
        tw_mem_free(m, T->dir, T->dircap * sizeof(*nd));
        T->dir = nd;
        T->dircap = ncap;
    }
    uint32_t n = T->ndir ? CHUNK : CAP0_MIN;
    tw_tw *c = tw_mem_alloc(m, n * sizeof(tw_tw));
    if (!c) {
        return false;
    }
    if (!T->ndir) {
        T->cap0 = n;
    }
    T->dir[T->ndir++] = c;
    T->end = c; /* (count was the capacity: its index is the new chunk's first) */
    return true;
}

/* Whether shrink_chunks has something to give back (its three cases). Inline: a record's
   release asks it, and most often the answer is no, with no change to the capacity and
   thus none to T->room (room_set). */
static inline bool shrink_due(const tw_twtab *T)
{
    return T->count == 0 || (T->ndir > 1 && T->count + CHUNK / 2 <= (T->ndir - 1) * CHUNK) ||
           (T->ndir == 1 && T->cap0 > CAP0_MIN && T->count < T->cap0 / 4);
}

/* Give back what the records no longer need, with slack so that a count moving around a
   boundary does not allocate and free a chunk each time. */
static void shrink_chunks(tw_stack *st)
{
    tw_twtab *T = &st->tws;
    tw_mem *m = &st->mem;
    if (T->count == 0) {
        for (uint32_t k = 0; k < T->ndir; k++) {
            tw_mem_free(m, T->dir[k], (k ? CHUNK : T->cap0) * sizeof(tw_tw));
        }
        tw_mem_free(m, T->dir, T->dircap * sizeof(*T->dir));
        if (T->b != &T->none) {
            tw_mem_free(m, T->b, nb_of(T) * sizeof(*T->b));
        }
        T->dir = NULL;
        T->b = &T->none;
        T->ndir = T->dircap = T->cap0 = T->mask = 0;
        T->head = TW_TW_NIL;
        tail_set(T, TW_TW_NIL);
        T->end = NULL;
        return;
    }
    if (T->ndir > 1 && T->count + CHUNK / 2 <= (T->ndir - 1) * CHUNK) {
        T->ndir--;
        tw_mem_free(m, T->dir[T->ndir], CHUNK * sizeof(tw_tw));
    } else if (T->ndir == 1 && T->cap0 > CAP0_MIN && T->count < T->cap0 / 4) {
        uint32_t ncap = T->cap0 / 2;
        tw_tw *n = tw_mem_alloc(m, ncap * sizeof(tw_tw));
        if (n) {
            memcpy(n, T->dir[0], T->count * sizeof(tw_tw));
            tw_mem_free(m, T->dir[0], T->cap0 * sizeof(tw_tw));
            T->dir[0] = n;
            T->cap0 = ncap;
            tail_set(T, T->tail); /* (its records moved) */
            T->end = &n[T->count];
        }
    }
}

static void shrink(tw_stack *st)
{
    shrink_chunks(st);
    room_set(st, &st->tws);
    /* (no record, no room: make_in_as with `ack` relies on it) */
    assert(st->tws.count || st->tws.room == 0);
}

/* bit_of's answers by the hash's top byte (its top five bits the bit's number), for
   rehash_one: one load where a shift of 1 took two steps and a register, and every record
   takes that step one to two times over as the table doubles. By the byte rather than by
   h >> 59: the byte is loaded by itself, with no shift (rehash_one). */
#define TW_BB8(b) (1u << ((b) >> 3))
#define TW_BB8x8(b) TW_BB8(b), TW_BB8((b) + 1), TW_BB8((b) + 2), TW_BB8((b) + 3), \
    TW_BB8((b) + 4), TW_BB8((b) + 5), TW_BB8((b) + 6), TW_BB8((b) + 7)
#define TW_BB8x64(b) TW_BB8x8(b), TW_BB8x8((b) + 8), TW_BB8x8((b) + 16), TW_BB8x8((b) + 24), \
    TW_BB8x8((b) + 32), TW_BB8x8((b) + 40), TW_BB8x8((b) + 48), TW_BB8x8((b) + 56)
static const uint32_t bloom_bits8[256] = {TW_BB8x64(0), TW_BB8x64(64), TW_BB8x64(128),
                                          TW_BB8x64(192)};
#undef TW_BB8x64
#undef TW_BB8x8
#undef TW_BB8

/* Record t, at index i, onto the head of bucket x's chain, its filter's bit `bit` added
   (rehash_one, make_in_as). */
static inline __attribute__((always_inline)) void chain_push(tw_twbucket *b, uint32_t x,
                                                              tw_tw *t, uint32_t i,
                                                              uint32_t bit)
{
#if TW_ASM_X86
    /* The bucket named by memory operands, each addressed from b and x in its own
       instruction: GCC otherwise made the bucket's address first, one more step a
       record (lifecycle -1.7 in rehash_one). */
    uint32_t old;
    __asm__("movl %[head], %[old]\n\tmovl %[old], %[hnext]\n\tmovl %[i], %[head]\n\t"
            "orl %[bit], %[bloom]"
            : [head] "+m"(b[x].head), [bloom] "+m"(b[x].bloom), [hnext] "=m"(t->hnext),
              [old] "=&r"(old)
            : [i] "r"(i), [bit] "r"(bit));
#else
    t->hnext = b[x].head;
    b[x].head = i;
    b[x].bloom |= bit;
#endif
}

/* Record t, at index i, onto the head of its chain among `mask` + 1 fresh buckets `b`
   (rehash): its hash is kept, never worked out again. Its two parts read by themselves,
   the low 32 bits (the bucket: mask < 2^32) and the top byte (the filter's bit,
   bloom_bits8), each a load that needs no shift or copy of the whole hash first
   (lifecycle -1.6 against one 8-byte load and a shift). */
static inline __attribute__((always_inline)) void rehash_one(tw_twbucket *b, uint32_t mask,
                                                              tw_tw *t, uint32_t i)
{
    const uint8_t *hp = (const uint8_t *)&t->hash;
    uint32_t lo;
    uint8_t top;
    if (tw_cksum_little_endian()) {
        memcpy(&lo, hp, 4);
        top = hp[7];
    } else {
        memcpy(&lo, hp + 4, 4);
        top = hp[0];
    }
    assert(lo == (uint32_t)t->hash && top == (uint8_t)(t->hash >> 56));
    assert(bloom_bits8[top] == bit_of(t->hash));
    chain_push(b, lo & mask, t, i, bloom_bits8[top]);
}

/* The buckets after a growth from nb (BUCKETS_FAST). */
static inline uint32_t nb_grown(uint32_t nb)
{
    return nb <= BUCKETS_FAST / 8 ? nb * 8 : nb * 2;
}

/* The buckets after a shrink from nb, nb_grown's inverse: its sizes only (16 * 8^k up to
   BUCKETS_FAST, then powers of two). */
static inline uint32_t nb_shrunk(uint32_t nb)
{
    assert(nb > BUCKETS_MIN && (nb > BUCKETS_FAST || nb == 128 || nb == 1024 || nb == 8192));
    return nb > BUCKETS_FAST ? nb / 2 : nb / 8;
}

/* The count below which nb buckets shrink (nb_shrunk): a quarter of the count that grew
   them (over two a bucket of the smaller size), so that a count moving around one
   boundary does not rehash each time. */
static inline uint32_t shrink_below(uint32_t nb)
{
    return nb > BUCKETS_FAST ? nb / 2 : nb / 16;
}

/* Rebuild the chains for `nb` buckets; on NOMEM keep the old ones (longer chains). */
static bool rehash(tw_stack *st, uint32_t nb)
{
    tw_twtab *T = &st->tws;
    tw_twbucket *b = tw_mem_alloc(&st->mem, nb * sizeof(*b));
    if (!b) {
        return false;
    }
    /* Sixteen empty buckets a step (nb is a power of two, at least BUCKETS_MIN), by a
       pointer: 16-byte stores where one a bucket made this loop cost a tenth of a
       doubling, and sixteen rather than eight a step, by a pointer, take more than
       half of the loop's own instructions off (lifecycle -0.9). */
    _Static_assert(BUCKETS_MIN % 16 == 0, "rehash fills sixteen buckets a step");
    static const tw_twbucket empty8[8] = {{TW_TW_NIL, 0}, {TW_TW_NIL, 0}, {TW_TW_NIL, 0},
                                          {TW_TW_NIL, 0}, {TW_TW_NIL, 0}, {TW_TW_NIL, 0},
                                          {TW_TW_NIL, 0}, {TW_TW_NIL, 0}};
    for (tw_twbucket *p = b, *e = b + nb; p != e; p += 16) {
        memcpy(p, empty8, sizeof(empty8));
        memcpy(p + 8, empty8, sizeof(empty8));
    }
    if (T->b != &T->none) {
        tw_mem_free(&st->mem, T->b, nb_of(T) * sizeof(*T->b));
    }
    T->b = b;
    T->mask = nb - 1;
    /* Chunk by chunk: the records of one are contiguous. Eight records a step, the
       loop's own steps taken on one record in eight: each record moves one to two times
       over as the table doubles (lifecycle -0.6 against four a step; the filter's bits
       from a table and the records by a pointer -1.9 against GCC's own unrolling by
       four). */
    uint32_t mask = nb - 1;
    for (uint32_t base = 0; base < T->count; base += CHUNK) {
        tw_tw *t = T->dir[base >> CHUNK_BITS];
        uint32_t n = T->count - base < CHUNK ? T->count - base : CHUNK;
        tw_tw *end8 = t + (n & ~7u), *end = t + n;
        uint32_t i = base;
        for (; t != end8; t += 8, i += 8) {
#if defined(__GNUC__)
#pragma GCC unroll 8
#endif
            for (uint32_t k = 0; k < 8; k++) {
                rehash_one(b, mask, &t[k], i + k);
            }
        }
        for (; t != end; t++, i++) {
            rehash_one(b, mask, t, i);
        }
    }
    room_set(st, T);
    return true;
}

/* The link (bucket or hnext) that holds index i of a record with hash h. */
static uint32_t *chain_link(tw_twtab *T, uint64_t h, uint32_t i)
{
    uint32_t *pp = &T->b[bucket_of(T, h)].head;
    while (*pp != i) {
        pp = &rec(T, *pp)->hnext;
    }
    return pp;
}

/* Record i (hash h) out of its chain, and the chain's filter rebuilt from the records
   left on it: one walk for both. */
static void chain_remove(tw_twtab *T, uint64_t h, uint32_t i)
{
    tw_twbucket *bk = &T->b[bucket_of(T, h)];
    uint32_t *pp = &bk->head;
    uint32_t bloom = 0;
    for (uint32_t j = *pp; j != TW_TW_NIL;) {
        tw_tw *t = rec(T, j);
        j = t->hnext;
        if (*pp == i) {
            *pp = j; /* (pp stays: it now holds the next record's index) */
        } else {
            bloom |= bit_of(t->hash);
            pp = &t->hnext;
        }
    }
    bk->bloom = bloom;
}

static inline void list_unlink(tw_twtab *T, tw_tw *t)
{
    if (t->fprev == TW_TW_NIL) {
        T->head = t->fnext;
        T->head_at = t->fnext != TW_TW_NIL ? end_at(rec(T, t->fnext)->expires) : TW_TIME_NEVER;
    } else {
        rec(T, t->fprev)->fnext = t->fnext;
    }
    if (t->fnext == TW_TW_NIL) {
        tail_set(T, t->fprev);
    } else {
        rec(T, t->fnext)->fprev = t->fprev;
    }
}

/* Place record i by its end: after the last record that ends no later (almost always the
   newest, so this is an append). */
static void list_insert(tw_twtab *T, uint32_t i)
{
    tw_tw *t = rec(T, i);
    uint32_t p = T->tail;
    while (p != TW_TW_NIL && rec(T, p)->expires > t->expires) {
        p = rec(T, p)->fprev;
    }
    t->fprev = p;
    if (p == TW_TW_NIL) {
        t->fnext = T->head;
        T->head = i;
        T->head_at = end_at(t->expires);
    } else {
        t->fnext = rec(T, p)->fnext;
        rec(T, p)->fnext = i;
    }
    if (t->fnext == TW_TW_NIL) {
        T->tail = i;
        T->tail_rec = t; /* (tail_set's) */
    } else {
        rec(T, t->fnext)->fprev = i;
    }
}

/* Record t, at index i, gone. */
static void release_at(tw_stack *st, tw_tw *t, uint32_t i)
{
    tw_twtab *T = &st->tws;
    /* Its port's count let go of (make_in: the connection's, taken over). */
    uint32_t port = (uint16_t)tw_tw_key(T, t);
    if (tw_port_unref(st, st->ports[port / TW_PORT_LEAF], port,
                      (t->conn_id & TW_TW_ID_REUSE) != 0, (t->conn_id & TW_TW_ID_AUTO) != 0)) {
        tw_port_leaf_emptied(st, (uint16_t)port);
    }
    chain_remove(T, t->hash, i);
    list_unlink(T, t);
    uint32_t last = T->count - 1;
    if (i != last) {
        /* Keep the array dense: the last record moves into the hole. */
        tw_tw *l = rec(T, last);
        *chain_link(T, l->hash, last) = i;
        if (l->fprev == TW_TW_NIL) {
            T->head = i;
        } else {
            rec(T, l->fprev)->fnext = i;
        }
        if (l->fnext == TW_TW_NIL) {
            T->tail = i;
            T->tail_rec = t; /* (tail_set's: rec(T, i), where l goes below) */
        } else {
            rec(T, l->fnext)->fprev = i;
        }
        *t = *l;
        t = l;
    }
    T->end = t; /* (index last's place: the record there moved, or was t) */
    T->count--;
    if (T->count && nb_of(T) > BUCKETS_MIN && T->count < shrink_below(nb_of(T))) {
        rehash(st, nb_shrunk(nb_of(T))); /* (T->room set again there) */
    }
    /* T->room depends on the capacity, the buckets and the configuration, not on the
       count: with no chunk to give back it stands (steady state: one record made and
       one ended per connection, -40 instr an expiry). */
    if (shrink_due(T)) {
        shrink(st);
    }
    tw_stack_trim_if_idle(st);
}

static void release(tw_stack *st, tw_tw *t)
{
    release_at(st, t, index_of(&st->tws, t));
}

tw_tw *tw_timewait_walk(const tw_twtab *T, uint32_t i, uint64_t h)
{
    while (i != TW_TW_NIL) {
        tw_tw *t = rec(T, i);
        if (t->hash == h) { /* (the same 4-tuple: tw_hash_mix is a bijection) */
            return t;
        }
        i = t->hnext;
    }
    return NULL;
}

tw_tw *tw_timewait_find(const tw_stack *st, uint64_t key)
{
    const tw_twtab *T = &st->tws;
    if (!T->count) {
        return NULL;
    }
    return tw_timewait_find_pre(st, key, hash_of(T, key));
}

/* ---- TIME-WAIT behaviour ---- */

static void trace_tw(tw_stack *st, const tw_tw *t, tw_trace_kind kind, tw_state old_state,
                     tw_state new_state, const tw_seg_summary *seg)
{
    if (!st->cfg.trace) {
        return;
    }
    tw_trace_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    ev.now = st->now;
    ev.conn_id = t->conn_id >> TW_TW_ID_SHIFT;
    ev.old_state = old_state;
    ev.new_state = new_state;
    ev.counter = TW_CNT_COUNT_;
    if (seg) {
        ev.seg = *seg;
    } else {
        uint64_t key = tw_tw_key(&st->tws, t);
        ev.seg.saddr = st->cfg.addr;
        ev.seg.daddr = (uint32_t)(key >> 32);
        ev.seg.sport = (uint16_t)key;
        ev.seg.dport = (uint16_t)(key >> 16);
    }
    if (kind == TW_TRACE_TIMER) {
        ev.timer = TW_TIMER_TIME_WAIT;
    }
    st->cfg.trace(&ev, st->cfg.trace_ud);
}

/* Room for one more record, with buckets for it; false when out of memory. Out of line:
   tw_timewait_enter's usual case has room already. */
static __attribute__((noinline)) bool make_room(tw_stack *st)
{
    tw_twtab *T = &st->tws;
    if (!reserve(st)) {
        shrink(st);
        return false;
    }
    if (T->b == &T->none && !rehash(st, BUCKETS_MIN)) {
        shrink(st);
        return false;
    }
    /* Up to two records a bucket: a lookup for a tuple that is not there (every connect()
       and SYN) stops at the bucket's filter whatever the chain's length, and 4-8 bytes of
       bucket per record keep a record within 64 bytes with its table share. */
    if (T->count + 1 > 2 * nb_of(T)) {
        rehash(st, nb_grown(nb_of(T))); /* on NOMEM the chains just get longer */
    }
    room_set(st, T); /* (the chunks may have grown without a rehash) */
    return true;
}

/* tw_timewait_enter when the table has no room (T->room): the configured maximum, else
   more chunks or buckets. */
static __attribute__((noinline)) bool no_room(tw_stack *st)
{
    tw_twtab *T = &st->tws;
    if (st->cfg.max_time_wait && T->count >= st->cfg.max_time_wait) {
        return false;
    }
    return make_room(st);
}

/* tw_timewait_make's end when the record is not the newest (a close() during
   TIME-WAIT: list_insert places it by its end), or when the connection table, c taken
   out of it (unlinked), is to halve: out of line, so that the usual case makes no call
   but tail calls. */
/* (`ack`: MAKE_ACK for the last ACK, MAKE_ACK_LEAVE for the last ACK, then the usual
   packet's call ended: call_free set after the ACK's netdev call, as
   tw_out_ack_last_free_leave; 0 returned) */
#define MAKE_ACK 1u
#define MAKE_ACK_LEAVE 2u
static __attribute__((noinline)) int make_end_rare(tw_socket *c, uint32_t i, uint64_t h,
                                                   bool unlinked, unsigned ack, uint32_t win)
{
    tw_stack *st = c->st;
    if (ack) {
        /* the last ACK (make_in_as), then the port's count for a listener's child's
           record (as tw_out_ack_last_free) */
        tw_out_ack_last_win(c, win);
        if (ack == MAKE_ACK_LEAVE) {
            assert(!st->call_free);
            st->call_free = true;
        }
        if (!(c->flags & TW_F_BOUND)) {
            tw_timewait_record_takes_port(st, c);
        }
    }
    c->flags &= ~TW_F_BOUND; /* (its port's count: the record's, make_in) */
    if (unlinked) {
        tw_htab_shrink(&st->conns);
    } else {
        list_insert(&st->tws, i);
        if (!(c->flags & TW_F_HASHED)) {
            tw_conn_free(c);
            return 0;
        }
        tw_htab_remove_hashed(&st->conns, &c->h, h);
    }
    c->flags &= ~TW_F_HASHED;
    if (st->last_conn == c) {
        st->last_conn = TW_CONN_NONE;
    }
    tw_conn_free(c);
    return 0;
}

/* A TIME-WAIT record of a connection that holds no count of its port (a listener's
   child, its listener still there: tcp_in.c new_child) counts as one of its owners
   (make_in). Out of line: a client's connection is bound. */
__attribute__((noinline)) void tw_timewait_record_takes_port(tw_stack *st, const tw_socket *c)
{
    assert(c->flags & TW_F_PASSIVE);
    tw_port *p = tw_port_get(st, c->lport); /* (its listener's: there) */
    assert(p && tw_port_listener(st, c->lport) && p->nbound);
    p->nbound++;
    p->nreuse += (c->flags & TW_F_REUSE) ? 1u : 0u;
}

/* tw_timewait_make's steps, `hashed` whether c is in st->conns (as it is but in an odd
   case, make_unhashed). Its key's hash `h`: in the table, the one kept with c (the two
   tables' seed is one: stack.c), not mixed again. `ack`: the last ACK (tw_out_ack_last)
   sent from c once the record is made, before c goes, with the record's window field
   (the same: the whole buffer's), worked out once for both (tw_timewait_make_found_ack). */
static inline __attribute__((always_inline)) int make_in_as(tw_stack *st, tw_socket *c,
                                                            uint64_t h, bool hashed, bool cached,
                                                            unsigned ack)
{
    assert(st == c->st);
    assert(!cached || (hashed && st->last_conn == c));
    tw_twtab *T = &st->tws;
    assert(T->count < capacity(T)); /* (room for it: tw_timewait_enter) */
    assert(st->timer_held != c);
    assert(hashed == ((c->flags & TW_F_HASHED) != 0));
    uint32_t i = T->count++;
    tw_tw *t = T->end;
    assert(t == rec(T, i));
    /* (the next place: the next record's in the chunk, else the next chunk's first if
       there is one, else the table grows first, reserve, which sets it) */
    if (__builtin_expect((i + 1) % CHUNK != 0, 1)) {
        T->end = t + 1;
    } else {
        T->end = i + 1 < capacity(T) ? T->dir[(i + 1) >> CHUNK_BITS] : NULL;
    }
    /* (c->h.key: tw_tuple_key(c->raddr, c->rport, c->lport)) */
    assert(h == hash_of(T, c->h.key));
    /* Every field written once, no memset first; one at a time, each from where it is
       read (a compound literal had the compiler gather them all first, spilling). */
    /* (the filter's bit from rehash_one's table by the hash's top byte, for a hashed
       connection loaded from c->hash itself (h, asserted below), with no copy or shift
       of h: where making the bit took a copy, a shift, a constant and a shift by it) */
    assert(!hashed || h == c->hash);
    uint8_t top = (uint8_t)(h >> 56);
    if (hashed) {
        top = ((const uint8_t *)&c->hash)[tw_cksum_little_endian() ? 7 : 0];
    }
    assert(top == (uint8_t)(h >> 56) && bloom_bits8[top] == bit_of(h));
    chain_push(T->b, bucket_of(T, h), t, i, bloom_bits8[top]);
    /* S15: keep the end set when TIME-WAIT began (c->misc_at, restarted by S16); a
       close() during TIME-WAIT must not start a fresh 2*MSL. With `ack`, TIME-WAIT
       begins now, with this record (tcp_in.c closing_ack_last, which then sets no
       c->misc_at for it: the end worked out here, not stored and loaded again). */
    t->expires = ack ? tw_time_add(st->now, st->time_wait_len)
                     : c->misc_at; /* (a time: no division) */
    t->fnext = TW_TW_NIL;
    t->fprev = T->tail;
    t->hash = h;
    assert(tw_tw_key(T, t) == c->h.key);
    /* (with `ack`, SND.NXT as tcp_in.c closing_ack_last leaves it, SEG.ACK, which is
       SND.MAX: read from there, closing_ack_last then storing none on the usual way) */
    assert(!ack || tw_seq_le(c->snd_nxt, c->snd_max));
    t->snd_nxt = ack ? c->snd_max.v : c->snd_nxt.v;
    t->rcv_nxt = c->rcv_nxt.v;
    t->ts_recent = c->ts_recent;
    /* The record is one of its port's owners, as Linux keeps a TIME-WAIT socket in its
       port's bind bucket with the socket's SO_REUSEADDR (tw_reuse): a bind() asks the
       port's counts alone (socket.c bind_shared), and release_at lets go of the record's.
       A bound connection's count (tw_port nbound, and nreuse and nauto as its flags
       say) becomes the record's; a listener's child, which holds none while its listener
       is there (tcp_in.c new_child), takes one (record_takes_port). The two flags in the
       id's low bits (TW_TW_ID_REUSE, TW_TW_ID_AUTO). */
    uint32_t cf = c->flags;
    _Static_assert(TW_F_REUSE >> 30 == TW_TW_ID_REUSE && TW_F_AUTOBOUND >> 30 == TW_TW_ID_AUTO &&
                       (TW_F_REUSE | TW_F_AUTOBOUND) >> 30 == 3u,
                   "TW_TW_ID_*: the flags' top bits shifted down");
    t->conn_id = ((uint32_t)c->id << TW_TW_ID_SHIFT) + (cf >> 30);
    /* (`ack`: taken after the ACK, where only c is kept across the call:
       tw_out_ack_last_free, or make_end_rare) */
    if (!ack && __builtin_expect(!(cf & TW_F_BOUND), 0)) {
        tw_timewait_record_takes_port(st, c);
    }
    uint32_t space = c->rcvbuf_cap >> c->rcv_wscale;
    if (__builtin_expect(space > 65535u, 0)) {
        /* (a branch, rarely taken: as a conditional move, GCC kept the constant in a
           saved register, one more push and pop; the empty volatile asm keeps it a
           branch) */
        space = 65535u;
#if defined(__GNUC__)
        __asm__ volatile("" : "+r"(space));
#endif
    }
    t->win = (uint16_t)space;
    /* (their spare bits 0: no rate-limited answer yet, timewait.h) */
    /* (TW_F_TS's byte of the flags read by itself, as the hash's top byte above: where
       the bit was taken from the flags loaded for the id's, GCC kept a copy of them) */
    _Static_assert(TW_F_TS == 1u << 8 && TW_TWF_TS == 1u, "TW_F_TS: bit 0 of byte 1");
    t->flags = ((const uint8_t *)&c->flags)[tw_cksum_little_endian() ? 1 : 2] & TW_TWF_TS;
    t->rcv_wscale = c->rcv_wscale;
    /* The record made as TIME-WAIT begins (ack: tcp_in.c closing_ack_last, its end
       now + 2*MSL) ends last: every other began before, or restarted (S16) before, with
       the same 2*MSL, and the clock never goes back (tw_stack_now_moved); only an empty
       list is asked. */
    assert(!ack || t->expires == tw_time_add(st->now, st->time_wait_len));
    assert(T->tail_rec == (t->fprev == TW_TW_NIL ? NULL : rec(T, t->fprev)));
    /* With `ack` the list is not empty, so not asked: the caller found the count below
       T->room (tw_timewait_enter_ack, tcp_in.c closing_ack_last), and the room is 0
       while there is no record (it starts 0; the last record's release gives every
       chunk back, shrink_chunks, and room_set then makes it 0, as tw_timewait_free_all
       does; only make_room sets it with no record, and tw_timewait_enter_slow then makes
       one without `ack`). Each record is on the list. */
    assert(!ack || (i != 0 && t->fprev != TW_TW_NIL));
    assert(!ack || T->tail_rec->expires <= t->expires);
    if (__builtin_expect((!ack && t->fprev == TW_TW_NIL) ||
                             (!ack && T->tail_rec->expires > t->expires), 0)) {
        /* (list_insert places it by its end) */
        return make_end_rare(c, i, h, false, ack, t->win);
    }
    /* The usual case: TIME-WAIT began now, so this record ends last: append (marked
       expected, laid out as the fall-through). */
    T->tail_rec->fnext = i;
    T->tail = i;
    T->tail_rec = t;
    /* Out of the connection table with this hash (the same key and mix, stack.c): what
       tw_conn_free's unhash would do, without hashing again. */
    if (hashed) {
        if (__builtin_expect(tw_htab_unlink_in(&st->conns, &c->h, h), 0)) {
            return make_end_rare(c, i, h, true, ack, t->win);
        }
        if (cached || __builtin_expect(st->last_conn == c, 1)) {
            st->last_conn = TW_CONN_NONE;
        }
    }
    /* (c taken out of st->conns above; its timer not held: tw_timewait_enter_ack asserts it,
       tw_timewait_enter and tw_timewait_enter_slow let go of a hold first) */
    if (ack) {
        /* The ACK's builder and c's end in one function of tcp_out.c, this one's end a
           tail call: no value kept across a call here. */
        if (ack == MAKE_ACK_LEAVE) {
            return tw_out_ack_last_free_leave(c, space);
        }
        tw_out_ack_last_free(c, space);
        return 0;
    }
    /* (its port's count: t's) */
    return tw_conn_free_in(c, TW_F_HASHED | TW_F_BOUND, true, true);
}

static inline __attribute__((always_inline)) void make_in(tw_socket *c, uint64_t h, bool hashed)
{
    make_in_as(c->st, c, h, hashed, false, 0);
}

/* tw_timewait_make of a connection not in st->conns: out of line, the hash worked out. */
static __attribute__((noinline)) void make_unhashed(tw_socket *c)
{
    make_in(c, hash_of(&c->st->tws, c->h.key), false);
}

void tw_timewait_make_found_ack(tw_socket *c, tw_stack *st)
{
    make_in_as(st, c, c->hash, true, true, MAKE_ACK);
}

int tw_timewait_make_found_ack_leave(tw_socket *c, tw_stack *st)
{
    return make_in_as(st, c, c->hash, true, true, MAKE_ACK_LEAVE);
}

void tw_timewait_make(tw_socket *c)
{
    if (__builtin_expect(!(c->flags & TW_F_HASHED), 0)) {
        make_unhashed(c);
        return;
    }
    make_in(c, c->hash, true);
}

bool tw_timewait_enter_slow(tw_socket *c)
{
    tw_stack *st = c->st;
    if (!no_room(st)) {
        return false; /* (c stays: a hold on its timer too) */
    }
    if (st->timer_held == c) {
        st->timer_held = NULL; /* (tw_timewait_enter's: c goes) */
    }
    tw_timewait_make(c);
    return true;
}

void tw_timewait_free(tw_stack *st, tw_tw *t)
{
    release(st, t);
}

void tw_timewait_free_all(tw_stack *st)
{
    tw_twtab *T = &st->tws;
    T->count = 0;
    T->head = TW_TW_NIL;
    tail_set(T, TW_TW_NIL);
    T->head_at = TW_TIME_NEVER;
    shrink(st);
}

static void tw_send_ack(tw_stack *st, const tw_tw *t)
{
    uint64_t key = tw_tw_key(&st->tws, t);
    uint32_t raddr = (uint32_t)(key >> 32);
    uint16_t rport = (uint16_t)(key >> 16), lport = (uint16_t)key;
    tw_tcp_opts o;
    memset(&o, 0, sizeof(o));
    if (t->flags & TW_TWF_TS) {
        o.present = TW_OPT_TS;
        o.ts_val = tw_ts_now(st, tw_ts_offset(st, raddr, rport, lport));
        o.ts_ecr = t->ts_recent;
    }
    tw_out_bare(st, raddr, lport, rport, t->snd_nxt, t->rcv_nxt, TW_ACK, t->win, &o);
}

/* RFC 9293 3.10.7.4 in TIME-WAIT, with RFC 5961, RFC 7323 and RFC 1122 4.2.2.13; Linux's
   tcp_timewait_state_process where the RFCs leave a choice. The segment has passed the
   caller's check for a newer SYN (S17, RFC 6191). */
unsigned tw_timewait_judge(tw_stack *st, tw_socket *c, const tw_seg *s, tw_seq rcv_nxt,
                           uint32_t wnd, bool ts, uint32_t ts_recent)
{
    uint32_t len = tw_seg_len(s);
    uint32_t off = (uint32_t)tw_seq_diff(s->seq, rcv_nxt);
    /* First check: acceptability against the window this end advertises. */
    bool ok = wnd == 0 ? off == 0 : off < wnd || (len && (uint32_t)(off + len - 1) < wnd);
    if (s->flags & TW_RST) {
        /* Second check: RFC 1337 (TIME-WAIT assassination), the project's rule (SPEC
           S17, issue 6): no RST ends TIME-WAIT early, so none is worth a challenge ACK
           either. (RFC 9293 3.10.7.4 would enter CLOSED on one at RCV.NXT, as Linux
           does with tcp_rfc1337 = 0, its default.) */
        tw_drop(st, TW_CNT_TCP_RX_TW_RST_IGNORED, &s->sum, c);
        return 0;
    }
    if (s->flags & TW_SYN) {
        /* Fourth check, RFC 5961 4.2: a SYN that does not open a new incarnation (and a
           SYN+ACK, a SYN+FIN) gets a challenge ACK, whatever its sequence number. */
        tw_drop(st, TW_CNT_TCP_RX_SYN_CHALLENGE, &s->sum, c);
        return TW_TWJ_CHALLENGE;
    }
    bool has_ts = ts && (s->h->o.present & TW_OPT_TS);
    if (has_ts && (int32_t)(s->h->o.ts_val - ts_recent) < 0) {
        /* RFC 7323 5.3 R1: an older TSval is not acceptable: an ACK (rate-limited when
           the segment has no text, as any answer to an unacceptable segment). */
        tw_drop(st, TW_CNT_TCP_RX_PAWS_REJECTED, &s->sum, c);
        return TW_TWJ_ACK | (len == 0 ? TW_TWJ_LIMIT : 0);
    }
    if (!ok) {
        /* First check: "send an acknowledgment ... drop the unacceptable segment".
           S16: the peer's own FIN again (it ends at RCV.NXT: our last ACK was lost)
           restarts 2*MSL too; no other unacceptable segment does (Linux restarts on any
           with ACK; RFC 9293 on none), so a forged one cannot stretch TIME-WAIT. */
        tw_drop(st, TW_CNT_TCP_RX_TW_SEGMENT, &s->sum, c);
        bool peer_fin = (s->flags & TW_FIN) && tw_seq_eq(tw_seq_add(s->seq, len), rcv_nxt);
        return TW_TWJ_ACK | (len == 0 ? TW_TWJ_LIMIT : 0) | (peer_fin ? TW_TWJ_RESTART : 0);
    }
    tw_drop(st, TW_CNT_TCP_RX_TW_SEGMENT, &s->sum, c);
    if (!(s->flags & TW_ACK)) {
        return 0; /* fifth check: "if the ACK bit is off, drop the segment and return" */
    }
    /* Fifth check, TIME-WAIT STATE: "The only thing that can arrive in this state is a
       retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL timeout."
       (eighth, a FIN: "Restart the 2 MSL time-wait timeout"). Text is ignored (seventh)
       and, like a FIN, acknowledged (Linux ACKs both and restarts); an empty ACK is not
       answered (no ACK for an ACK: two ends in TIME-WAIT would loop), but restarts 2*MSL
       as in Linux. TS.Recent from it when SEG.SEQ =< Last.ACK.sent = RCV.NXT (4.3). */
    unsigned r = TW_TWJ_RESTART | (len ? TW_TWJ_ACK : 0);
    if (has_ts && tw_seq_le(s->seq, rcv_nxt)) {
        r |= TW_TWJ_TS;
    }
    return r;
}

/* At most one answer per cfg.invalid_ratelimit (500 ms) to an unacceptable segment
   without text or to a challenge, as a held socket's tw_oow_rate_limited (Linux
   tcp_invalid_ratelimit): true when this one is held back; otherwise its time is kept.
   The time lives in spare bits of flags and rcv_wscale, 4 ms units over 11 bits
   (timewait.h), so a limit is honoured up to 8 s. */
static bool oow_rate_limited(tw_stack *st, tw_tw *t)
{
    if (st->cfg.no_invalid_ratelimit) {
        return false;
    }
    uint32_t now4 = (uint32_t)(st->now_ms >> 2) & TW_TW_OOW_UNITS;
    uint32_t last = (uint32_t)t->flags >> 1 | (uint32_t)(t->rcv_wscale >> 4) << 7;
    uint64_t lim = (st->cfg.invalid_ratelimit + TW_MS(4) - 1) / TW_MS(4);
    lim = lim < TW_TW_OOW_UNITS ? lim : TW_TW_OOW_UNITS;
    if (last != 0 && ((now4 - last) & TW_TW_OOW_UNITS) < lim) {
        return true;
    }
    now4 += now4 == 0; /* (0 is "none yet": 4 ms off at worst) */
    t->flags = (uint8_t)((t->flags & TW_TWF_TS) | (now4 & 0x7fu) << 1);
    t->rcv_wscale = (uint8_t)((t->rcv_wscale & TW_TW_WSCALE_MASK) | (now4 >> 7) << 4);
    return false;
}

bool tw_timewait_input(tw_stack *st, tw_tw *t, const tw_seg *s, uint32_t *isn_floor)
{
    trace_tw(st, t, TW_TRACE_SEG_IN, TW_STATE_TIME_WAIT, TW_STATE_TIME_WAIT, &s->sum);
    if ((s->flags & (TW_SYN | TW_ACK | TW_FIN | TW_RST)) == TW_SYN) {
        /* S17, RFC 6191: a new SYN may take the 4-tuple over only when it is surely from
           a newer incarnation: a newer timestamp when both used them, else a sequence
           number above everything the old connection received. (Not a SYN+FIN: the
           listener would drop it, as Linux's does; it is answered below as any SYN in a
           synchronized state, RFC 5961 4.2, and TIME-WAIT stays.) */
        bool newer;
        if ((t->flags & TW_TWF_TS) && (s->h->o.present & TW_OPT_TS)) {
            /* RFC 6191 2: a newer TSval, or an equal one with a higher sequence number
               (Linux honours the latter too: PAWS passes an equal TSval). */
            int32_t d = (int32_t)(s->h->o.ts_val - t->ts_recent);
            newer = d > 0 || (d == 0 && tw_seq_gt(s->seq, tw_seq_make(t->rcv_nxt)));
        } else {
            newer = tw_seq_gt(s->seq, tw_seq_make(t->rcv_nxt));
        }
        if (newer && isn_floor) {
            tw_count(st, TW_CNT_TCP_TW_REUSED);
            /* Our next ISN must lie above anything the old incarnation sent (Linux adds
               65535 + 2 to the old snd_nxt likewise). */
            *isn_floor = t->snd_nxt + 65535u + 2u;
            trace_tw(st, t, TW_TRACE_STATE, TW_STATE_TIME_WAIT, TW_STATE_CLOSED, NULL);
            tw_timewait_free(st, t);
            return false;
        }
    }
    uint32_t wscale = t->rcv_wscale & TW_TW_WSCALE_MASK;
    unsigned r = tw_timewait_judge(st, NULL, s, tw_seq_make(t->rcv_nxt),
                                   (uint32_t)t->win << wscale, (t->flags & TW_TWF_TS) != 0,
                                   t->ts_recent);
    if (r & TW_TWJ_TS) {
        t->ts_recent = s->h->o.ts_val;
    }
    if (r & TW_TWJ_RESTART) {
        /* The record moves to its place by the new end (the list's end). */
        tw_twtab *T = &st->tws;
        uint32_t i = index_of(T, t);
        list_unlink(T, t);
        t->expires = tw_time_add(st->now, st->time_wait_len);
        list_insert(T, i);
    }
    if (r & TW_TWJ_CHALLENGE) {
        /* RFC 5961 7, as a held socket's tw_out_challenge_ack: first the record's own
           500 ms clock, then the stack's budget. */
        if (oow_rate_limited(st, t)) {
            tw_count(st, TW_CNT_TCP_CHALLENGE_ACK_LIMITED);
        } else if (tw_challenge_take(st)) {
            tw_send_ack(st, t);
        }
    } else if (r & TW_TWJ_ACK) {
        if ((r & TW_TWJ_LIMIT) && oow_rate_limited(st, t)) {
            return true;
        }
        tw_send_ack(st, t);
    }
    return true;
}

uint64_t tw_timewait_next(const tw_stack *st)
{
    const tw_twtab *T = &st->tws;
    return T->count ? tw_time_to_tick(rec(T, T->head)->expires) : UINT64_MAX;
}

void tw_timewait_expire(tw_stack *st, uint64_t tick)
{
    tw_twtab *T = &st->tws;
    /* A record's end E is due at `tick` when tw_time_to_tick(E) <= tick, that is E <= the
       tick's time (it rounds up), but for NEVER, whose tick is UINT64_MAX. */
    tw_time lim = tw_time_of_tick(tick);
    while (T->count) {
        uint32_t i = T->head;
        tw_tw *t = rec(T, i);
        if (t->expires > lim || t->expires == TW_TIME_NEVER) {
            break;
        }
        tw_count(st, TW_CNT_TCP_TW_RECYCLED_TIMEOUT);
        /* (the trace hook asked once here: trace_tw is a call, with its test inside) */
        if (__builtin_expect(st->cfg.trace != NULL, 0)) {
            trace_tw(st, t, TW_TRACE_TIMER, TW_STATE_TIME_WAIT, TW_STATE_TIME_WAIT, NULL);
            trace_tw(st, t, TW_TRACE_STATE, TW_STATE_TIME_WAIT, TW_STATE_CLOSED, NULL);
        }
        release_at(st, t, i); /* (the list's head: its index known) */
    }
}
