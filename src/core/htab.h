/*
 * htab.h -- intrusive hash table keyed by a 64-bit value, chained, power-of-two buckets.
 *
 * Connections and TIME-WAIT records embed a tw_hnode. A stack has one address, so a
 * 4-tuple packs exactly into the key: remote address (32) | remote port (16) | local
 * port (16). The bucket index is a keyed mix of the key (seed from the stack's entropy),
 * so a peer cannot aim many tuples at one chain. The table doubles when it holds more
 * entries than buckets; if growing fails it keeps working with longer chains. It halves
 * when it holds fewer than a quarter of its buckets (down to its initial size), so the
 * buckets a burst of connections needed do not stay charged to the few that remain.
 *
 * A table made with tags also keeps one byte per bucket, a bit (of 8, picked by the
 * hash) for each entry in its chain: a lookup for a key that is not there (every SYN,
 * every connect() checking its tuple) then reads one byte of a small array and, most of
 * the time, none of the chain's entries. In a big table each of those is a cache miss.
 * Removal leaves the entry's bit set (clearing it would read the chain's other entries);
 * a lookup that the stale bit sends down the chain for nothing clears it.
 */
#ifndef TW_CORE_HTAB_H
#define TW_CORE_HTAB_H

#include "core/arch.h"
#include <assert.h>
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "core/mem.h"

/* A hint that memory at p will be read soon (nothing where the compiler has no such
   builtin); never faults, p may be NULL. */
#if defined(__GNUC__) || defined(__clang__)
#define TW_PREFETCH(p) __builtin_prefetch(p)
#else
#define TW_PREFETCH(p) ((void)(p))
#endif

typedef struct tw_hnode {
    struct tw_hnode *next;
    uint64_t key;
} tw_hnode;

typedef struct tw_htab {
    tw_hnode **b;
    uint8_t *tag; /* NULL, or one byte per bucket after b (same allocation) */
    size_t mask;  /* buckets - 1 */
    uint64_t seed;
    tw_mem *m;    /* for shrinking on removal */
    uint32_t min; /* initial buckets: never shrinks below */
    bool fixed;   /* no shrinking (teardown walks the buckets while removing): set through
                     tw_htab_set_fixed */
    /* The entries are counted as `over`, their count less `below`, the count below which
       a removal halves the table (tw_htab_shrink_at: a quarter of the buckets, or 0 at
       the minimum size or while fixed), kept with it (tw_htab_shrink_at_set, after every
       change of the buckets or `fixed`): a removal's test is then the sign of its
       decrement in memory, where the count's load, decrement, store and compare took
       five steps (lifecycle -2 instr), and an insert's and a removal's count is that
       one step, with no count of the entries kept beside it (tw_htab_count works it
       out; lifecycle -2.1 instr, 4,350.4 -> 4,348.3). `over_max`: mask - below, the
       `over` above which an insert doubles the table first (the count above the
       buckets, tw_htab_full). */
    ptrdiff_t over;
    ptrdiff_t over_max;
    size_t below;
    /* A bound its owner sets on a count of its own (tw_htab_limit_set: the stack's
       connect_plain_below, compared with st->nconns), and `limit_below`, the least of it
       and the buckets, kept with the buckets (tw_htab_shrink_at_set): an owner whose count
       is at least the table's entries (every entry of st->conns is in st->nconns: a
       connection hashed is counted, and so is a SYN-queue entry) finds its count under
       both, and so the table not full (tw_htab_full: more entries than buckets), in one
       compare (socket.c tw_socket_connect). SIZE_MAX until set. */
    size_t limit;
    size_t limit_below;
} tw_htab;

/* A TIME-WAIT bucket: the chain's first record, and one bit per record in the chain
   (chosen by the hash's top bits), so that most lookups of a 4-tuple that is not there --
   every connect() and every SYN -- end at the bucket without reading a record. */
typedef struct tw_twbucket {
    uint32_t head;  /* first record's index, or TW_TW_NIL */
    uint32_t bloom; /* OR of the chain's records' bits */
} tw_twbucket;

/* TIME-WAIT records by 4-tuple (timewait.h): a dense array of records in chunks, 32-bit
   indices for the hash chains and the expiry list, 8-byte buckets. */
typedef struct tw_twtab {
    struct tw_tw **dir; /* chunk k holds records k*256 .. k*256+255 */
    uint32_t ndir, dircap;
    uint32_t cap0;      /* records chunk 0 holds (it grows by doubling up to 256) */
    uint32_t count;     /* records, at indices 0 .. count-1 */
    /* The buckets, or &none (mask 0) while the table has none: a lookup's filter
       (connect's, tw_timewait_find_pre's) then reads an empty filter's answer, with no
       test of the count before it. */
    tw_twbucket *b;
    uint32_t mask;      /* buckets (a power of two) less one, kept rather than their
                           number for the usual paths' index; 0 while b is &none */
    uint32_t head, tail; /* expiry list: oldest, newest */
    /* Records the table takes before it must grow (chunks or buckets) or stop at the
       configured maximum: the least of the three, so that tw_timewait_enter's usual
       case is one compare (timewait.c room_set). */
    uint32_t room;
    uint64_t seed;
    /* The first record's end as a time (tw_time_of_tick of its expires), TW_TIME_NEVER
       with no record: the stack's deadline, asked after every call
       (tw_stack_next_deadline), read as it is (timewait.c list_insert and list_unlink
       keep it). */
    uint64_t head_at;
    /* The newest record's address (tail's; NULL with none), kept with tail (timewait.c
       tail_set, and again when chunk 0 moves): a record's making links the newest to it
       without working out that index's address. */
    struct tw_tw *tail_rec;
    /* The next record's place, the address of index count, while count is below the
       capacity (timewait.c keeps it where the count or the chunks change; at the
       capacity the table grows first, and sets it): a record's making takes its place
       without working out that index's address. */
    struct tw_tw *end;
    /* b's one bucket while the table has none: no chain, an empty filter (stack.c sets
       it up; timewait.c nb_of counts it as no bucket, and never gives it back). */
    tw_twbucket none;
} tw_twtab;

static inline uint64_t tw_tuple_key(uint32_t raddr, uint16_t rport, uint16_t lport)
{
    return (uint64_t)raddr << 32 | (uint64_t)rport << 16 | lport;
}

/* The count below which a removal halves the table (tw_htab over). */
static inline size_t tw_htab_shrink_at(const tw_htab *h)
{
    size_t buckets = h->mask + 1;
    return buckets > h->min && !h->fixed ? buckets / 4 : 0;
}
/* The entries in the table. */
static inline size_t tw_htab_count(const tw_htab *h)
{
    return (size_t)(h->over + (ptrdiff_t)h->below);
}
/* Whether the table holds more entries than buckets: an insert doubles it first. */
static inline bool tw_htab_full(const tw_htab *h)
{
    assert((h->over > h->over_max) == (tw_htab_count(h) > h->mask));
    return h->over > h->over_max;
}
/* The owner's bound (tw_htab limit) set, limit_below with it. */
static inline void tw_htab_limit_set(tw_htab *h, size_t limit)
{
    h->limit = limit;
    h->limit_below = limit <= h->mask ? limit : h->mask + 1;
}
/* `below` and `over_max` again after a change of the buckets or `fixed` (and `over`
   with them: the count stays). */
static inline void tw_htab_shrink_at_set(tw_htab *h)
{
    size_t count = tw_htab_count(h);
    h->below = tw_htab_shrink_at(h);
    h->over = (ptrdiff_t)count - (ptrdiff_t)h->below;
    h->over_max = (ptrdiff_t)h->mask - (ptrdiff_t)h->below;
    tw_htab_limit_set(h, h->limit); /* (limit_below, for the buckets as they are now) */
}
/* One node more in the table. */
static inline void tw_htab_counted(tw_htab *h)
{
    h->over++;
}

static inline void tw_htab_set_fixed(tw_htab *h, bool fixed)
{
    h->fixed = fixed;
    tw_htab_shrink_at_set(h);
}

/* Returns 0 or TW_ERR_NOMEM. `buckets` is rounded up to a power of two. */
int tw_htab_init(tw_htab *h, tw_mem *m, size_t buckets, uint64_t seed);
/* The same, with a tag byte per bucket (for tables that see many failed lookups). */
int tw_htab_init_tagged(tw_htab *h, tw_mem *m, size_t buckets, uint64_t seed);
void tw_htab_free(tw_htab *h, tw_mem *m);
void tw_htab_insert(tw_htab *h, tw_mem *m, tw_hnode *n);
/* The rare paths of the inline insert and remove below: the table doubles, then inserts;
   the table halves. Out of line, so that the usual insert and remove make no call. */
void tw_htab_insert_grow(tw_htab *h, tw_mem *m, tw_hnode *n, uint64_t hash);
void tw_htab_shrink(tw_htab *h);

/* The keyed mix of a 4-tuple key: the connection tables' and the TIME-WAIT table's
   (timewait.c, with the same seed: connect() hashes its tuple once for both). */
static inline uint64_t tw_hash_mix(uint64_t key, uint64_t seed)
{
    uint64_t x = key ^ seed;
    x ^= x >> 31;
#if TW_ASM_X86
    /* The multiplies read their constants from memory: GCC otherwise loads each into a
       register first (a 10-byte move) at every hash (measured: lifecycle -9 instr,
       6,692 -> 6,683). */
    static const uint64_t k1 = 0x9e3779b97f4a7c15ull, k2 = 0xbf58476d1ce4e5b9ull;
    __asm__("imulq %1, %0" : "+r"(x) : "m"(k1) : "cc");
    x ^= x >> 29;
    __asm__("imulq %1, %0" : "+r"(x) : "m"(k2) : "cc");
#else
    x *= 0x9e3779b97f4a7c15ull;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
#endif
    x ^= x >> 32;
    return x;
}

static inline uint64_t tw_htab_hash(const tw_htab *h, uint64_t key)
{
    return tw_hash_mix(key, h->seed);
}

/* The bucket takes the low bits of the hash, the tag bit the top 3. */
static inline uint8_t tw_htab_tag_bit(uint64_t hash)
{
    return (uint8_t)(1u << (hash >> 61));
}

/* Put `n` at the head of its bucket; returns the bucket's index. */
static inline size_t htab_link(tw_htab *h, tw_hnode *n, uint64_t x)
{
    size_t i = (size_t)x & h->mask;
#if TW_ASM_X86
    /* (the slot's load and store with it as their memory operand, as tw_htab_unlink_in's:
       GCC otherwise makes its address once for the two; measured: lifecycle -1 instr,
       4,517.8 -> 4,516.8) */
    tw_hnode *first;
    __asm__("movq %[slot], %[first]\n\tmovq %[n], %[slot]"
            : [slot] "+m"(h->b[i]), [first] "=&r"(first)
            : [n] "r"(n));
    n->next = first;
#else
    n->next = h->b[i];
    h->b[i] = n;
#endif
    return i;
}

/* Put `n` at the head of its bucket and mark its tag bit. */
static inline void tw_htab_push_hashed(tw_htab *h, tw_hnode *n, uint64_t x)
{
    size_t i = htab_link(h, n, x);
    if (h->tag) {
        h->tag[i] |= tw_htab_tag_bit(x);
    }
}

/* tw_htab_push_hashed for a caller that knows the table has its tags (it asked them in
   its lookup: connect), without their test. */
static inline void tw_htab_push_tagged(tw_htab *h, tw_hnode *n, uint64_t x)
{
    assert(h->tag);
    size_t i = htab_link(h, n, x);
#if TW_ASM_X86
    /* (the byte loaded, its bit set in the register by a bts with the hash's top 3 bits,
       and stored: GCC's or in memory took a one moved to a register and shifted first,
       with the count copied to cl, as connect's tag byte did, socket.c connect_start; a
       bts on memory takes its bit offset past the byte, as a bit string) */
    unsigned t = h->tag[i];
    __asm__("btsl %1, %0" : "+r"(t) : "r"((unsigned)(x >> 61)) : "cc");
    h->tag[i] = (uint8_t)t;
    assert(h->tag[i] & tw_htab_tag_bit(x));
#else
    h->tag[i] |= tw_htab_tag_bit(x);
#endif
}

/* tw_htab_push_tagged with its bucket's slot and tag byte found already (&h->b[i],
   &h->tag[i]: a lookup's, connect's), not worked out again from the hash and the table. */
static inline void tw_htab_push_tagged_at(tw_htab *h, tw_hnode **slot, uint8_t *tag,
                                          tw_hnode *n, uint64_t x)
{
    assert(h->tag && slot == &h->b[(size_t)x & h->mask] && tag == &h->tag[(size_t)x & h->mask]);
    (void)h;
    n->next = *slot;
    *slot = n;
    *tag |= tw_htab_tag_bit(x);
}

/* Insert and remove with the node's hash (tw_htab_hash of its key) already known: a
   segment that completes a handshake looks its 4-tuple up and moves it between two
   tables of one seed, and hashes it once for all four steps. The hash stays valid across
   a resize. Inline: three inserts and three removals a lifecycle. */
static inline void tw_htab_insert_hashed(tw_htab *h, tw_mem *m, tw_hnode *n, uint64_t hash)
{
    assert(hash == tw_htab_hash(h, n->key));
    if (tw_htab_full(h)) {
        tw_htab_insert_grow(h, m, n, hash);
        return;
    }
    tw_htab_push_hashed(h, n, hash);
    tw_htab_counted(h);
}

/* tw_htab_insert_hashed for a table its caller knows has its tags (the connection
   table, stack.c), without their test. */
static inline void tw_htab_insert_tagged(tw_htab *h, tw_mem *m, tw_hnode *n, uint64_t hash)
{
    assert(hash == tw_htab_hash(h, n->key));
    if (tw_htab_full(h)) {
        tw_htab_insert_grow(h, m, n, hash);
        return;
    }
    tw_htab_push_tagged(h, n, hash);
    tw_htab_counted(h);
}

/* tw_htab_remove_hashed's steps with the halving left to the caller: true when it is
   due (tw_htab_shrink), for a caller that makes it last (tw_conn_free: its usual case
   then makes no call but tail calls). */
static inline bool tw_htab_unlink_hashed(tw_htab *h, tw_hnode *n, uint64_t hash)
{
    assert(hash == tw_htab_hash(h, n->key));
    tw_hnode **pp = &h->b[(size_t)hash & h->mask];
    while (*pp && *pp != n) {
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = n->next; /* (n->next left as it is: only a chain's entries are read, and an
                          insert sets it) */
        /* The tag keeps this entry's bit until a lookup that it misleads walks the
           chain and clears it (tw_htab_find): no reading of the chain's other entries. */
        assert(h->below == tw_htab_shrink_at(h));
        return --h->over < 0; /* (tw_htab_count(h) < tw_htab_shrink_at(h)) */
    }
    return false;
}

/* In bucket i's chain, the link to `from` made a link to `to` (tw_htab_unlink_in's and
   tw_htab_replace_in's step). `from` is on the chain, most often at its head. */
static inline __attribute__((always_inline)) void htab_chain_swap(tw_htab *h, size_t i,
                                                                  tw_hnode *from, tw_hnode *to)
{
#if TW_ASM_X86
    /* (the compare and the store with the slot as their memory operand: GCC otherwise
       makes the slot's address once for the two; measured: lifecycle -4 instr at the
       unlink, 4,522.8 -> 4,518.8, -1 at the replace, 4,518.8 -> 4,517.8) */
    __asm__ goto("cmpq %[from], %[slot]\n\tjne %l[walk]\n\tmovq %[to], %[slot]"
                 : [slot] "+m"(h->b[i])
                 : [from] "r"(from), [to] "r"(to)
                 : "cc"
                 : walk);
    return;
walk:;
#else
    if (__builtin_expect(h->b[i] == from, 1)) {
        h->b[i] = to;
        return;
    }
#endif
    /* (from the head's link: the head is not `from` here, and the slot's address is
       then not made apart, shifted index and all, where the usual compare above takes
       it; measured: lifecycle -1 instr, 4,514.8 -> 4,513.8) */
    tw_hnode **pp = &h->b[i]->next;
    while (*pp != from) {
        assert(*pp != NULL); /* (from is on this chain) */
        pp = &(*pp)->next;
    }
    *pp = to;
}

/* tw_htab_unlink_hashed for a node the caller knows is in the table (a connection with
   TW_F_HASHED: tw_conn_free, tw_timewait_make): the chain's walk stops at it with no test
   for the chain's end (lifecycle -6 instr: 6,267 -> 6,261). */
/* (n at its chain's head, the usual case: the bucket's slot compared and replaced in
   memory through its index, with no address of the slot made first; measured: lifecycle
   -4 instr, 4,522.8 -> 4,518.8, two a lifecycle: a TIME-WAIT record's making, a
   connection's end) */
static inline bool tw_htab_unlink_in(tw_htab *h, tw_hnode *n, uint64_t hash)
{
    assert(hash == tw_htab_hash(h, n->key));
    size_t i = (size_t)hash & h->mask;
    /* (n->next left as it is: tw_htab_unlink_hashed) */
    htab_chain_swap(h, i, n, n->next);
    assert(h->below == tw_htab_shrink_at(h));
    return --h->over < 0; /* (tw_htab_count(h) < tw_htab_shrink_at(h)) */
}

/* `n`, of the same key as `old` (in the table), takes its place in its chain: the count,
   the tag and the table's size stay as they are (a half-open entry becomes its
   connection: tcp_in.c req_promote). */
static inline void tw_htab_replace_in(tw_htab *h, tw_hnode *old, tw_hnode *n, uint64_t hash)
{
    assert(hash == tw_htab_hash(h, old->key) && n->key == old->key);
    size_t i = (size_t)hash & h->mask;
    n->next = old->next;
    htab_chain_swap(h, i, old, n);
}

static inline void tw_htab_remove_hashed(tw_htab *h, tw_hnode *n, uint64_t hash)
{
    if (tw_htab_unlink_hashed(h, n, hash)) {
        tw_htab_shrink(h);
    }
}

static inline void tw_htab_remove(tw_htab *h, tw_hnode *n)
{
    tw_htab_remove_hashed(h, n, tw_htab_hash(h, n->key));
}

static inline size_t tw_htab_index(const tw_htab *h, uint64_t key)
{
    return (size_t)tw_htab_hash(h, key) & h->mask;
}

/* tw_htab_find_hashed's steps; `tagged`: the caller knows the table has its tags (no
   test for them). */
static inline __attribute__((always_inline)) tw_hnode *htab_find_as(const tw_htab *h,
                                                                    uint64_t key, uint64_t x,
                                                                    bool tagged)
{
    size_t i = (size_t)x & h->mask;
    assert(!tagged || h->tag);
    bool has_tag = tagged || h->tag;
    if (has_tag && !(((unsigned)h->tag[i] >> (x >> 61)) & 1u)) { /* (tw_htab_tag_bit(x) not set) */
        /* Not there: most often the caller is about to insert it (connect(), a new
           connection from a listener), and the bucket is a cache miss in a big table;
           start it now, so it overlaps the work in between. */
        TW_PREFETCH(&h->b[i]);
        return NULL;
    }
    tw_hnode *n = h->b[i];
    if (__builtin_expect(has_tag && !n, 0)) {
        /* An empty chain behind a set bit: every bit of its tag is stale (removal leaves
           them, see below), cleared at once, without the walk below and its store
           (marked unlikely: only the layout depends on it; measured with the lifecycle's
           stale SYN lookups, ~30%, -0.3 instr a lifecycle) */
        h->tag[i] = 0;
        return NULL;
    }
    while (n && n->key != key) {
        n = n->next;
    }
    if (!n && has_tag) {
        /* The bit was stale: removal leaves bits set rather than walk the chain's other
           entries (cold, with a million connections) to clear them. This walk has just
           read the chain, so the tag is made exact here. */
        uint8_t t = 0;
        for (const tw_hnode *e = h->b[i]; e; e = e->next) {
            t |= tw_htab_tag_bit(tw_htab_hash(h, e->key));
        }
        h->tag[i] = t;
    }
    return n;
}

/* tw_htab_find with the key's hash (tw_htab_hash) already computed. */
static inline tw_hnode *tw_htab_find_hashed(const tw_htab *h, uint64_t key, uint64_t x)
{
    return htab_find_as(h, key, x, false);
}

/* The same on a table made with tags (the connection table, stack.c), without their
   test: a segment's lookup when its connection is not the last one found (tcp_in.c
   conn_find). */
static inline tw_hnode *tw_htab_find_tagged(const tw_htab *h, uint64_t key, uint64_t x)
{
    return htab_find_as(h, key, x, true);
}

static inline tw_hnode *tw_htab_find(const tw_htab *h, uint64_t key)
{
    return tw_htab_find_hashed(h, key, tw_htab_hash(h, key));
}

#endif
