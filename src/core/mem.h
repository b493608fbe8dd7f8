/*
 * mem.h -- every allocation of the stack goes through here (STYLE 7.6).
 *
 * The configured allocator is called and live bytes are accounted against the budget;
 * going over the budget behaves exactly like the allocator returning NULL, so every
 * caller has one failure path to handle.
 *
 * Objects made and freed once or more per connection (connections, half-open entries,
 * the first 4 KiB block of a ring) go through small per-stack free lists
 * (tw_mem_take / tw_mem_give): a connection lifecycle then costs a few loads and stores
 * instead of a malloc/free pair per object. Each list is bounded (TW_MEM_CACHE_MAX
 * objects) and its bytes stay held from the allocator: they are part of `live` (what
 * tw_stack_mem_live reports) and of the budget. An allocation the budget refuses first
 * returns the free lists to the allocator and tries again, so the lists never cause a
 * NOMEM; they are also returned when the stack has no socket and no TIME-WAIT record
 * left (an idle stack holds what a fresh one holds) and at tw_stack_free.
 *
 * Behind the lists, connections (and the port class's objects) come from slabs once a class has
 * TW_MEM_SLAB_FROM objects out: one allocation of up to TW_MEM_SLAB_BYTES holding many
 * objects side by side. A million connections then cost a few thousand allocator calls
 * instead of a million, no allocator header per object, and objects made one after the
 * other sit next to each other in memory. A slab's objects are handed out from its start
 * as they are needed (the rest of it is not touched, so not faulted in); an object given
 * back past the free list goes to its own slab (found by address in the class's sorted
 * directory), and a slab whose objects are all back is returned to the allocator, except
 * one per class kept as a spare (in tw_mem_cached's count, returned by tw_mem_drain; an object
 * in a free list keeps its slab until then). A slab counts in `live` and against the
 * budget as a whole: when a new slab does not fit, the object is allocated on its own, so
 * the budget still refuses only what does not fit. A stack with few objects of a class
 * (tests, small devices) never makes a slab.
 *
 * The connection class can be walked (tw_mem_walk): every slab slot handed out since its
 * slab was last empty, and every object allocated on its own, which for this class has a
 * hidden header linking it into the class's list (TW_MEM_SOLO_HDR bytes before it). The
 * stack finds every socket this way at teardown, so a socket needs no list links of its
 * own; the caller tells live objects from given-back ones (tcp_conn.c: the kind byte,
 * zeroed before an object is given back).
 */
#ifndef TW_CORE_MEM_H
#define TW_CORE_MEM_H

#include "core/arch.h"
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "tcpwave.h"

enum tw_mem_class {
    TW_MC_CONN,   /* struct tw_socket */
    TW_MC_REQ,    /* tw_reqsk */
    TW_MC_PORT,   /* tw_port_leaf (stack.h): port entries live in their leaves */
    TW_MC_RING,   /* first ring block (TW_MEM_RING_BLOCK bytes) */
    TW_MC_COUNT_
};

/* Objects per list. Under AddressSanitizer the lists stay empty: a cached object is
   never returned to malloc, so a use after tw_mem_give would go unseen. */
#if defined(__SANITIZE_ADDRESS__)
#define TW_MEM_CACHE_MAX 0u
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TW_MEM_CACHE_MAX 0u
#endif
#endif
#ifndef TW_MEM_CACHE_MAX
#define TW_MEM_CACHE_MAX 16u
#endif
/* Slabs: none under AddressSanitizer either (an object given back to its slab is still
   addressable). A class starts using slabs at TW_MEM_SLAB_FROM objects out; a slab holds
   a quarter as many objects as are out (at least 8), up to TW_MEM_SLAB_BYTES: below the
   64 KiB that allocators commonly serve from their heap rather than a mapping of its own,
   with room for their header. Slab objects are aligned to TW_MEM_SLAB_ALIGN bytes (the
   classes' types need no more: tcp_conn.c checks). */
#define TW_MEM_SLABS (TW_MEM_CACHE_MAX > 0)
#define TW_MEM_SLAB_FROM 32u
#define TW_MEM_SLAB_BYTES 65472u
#define TW_MEM_SLAB_ALIGN 8u
#define TW_MEM_RING_BLOCK 4096u
/* (the reserve is one ring block: a receive ring's first) */
_Static_assert(TW_MEM_RECV_RESERVE == TW_MEM_RING_BLOCK, "reserve is one ring block");

struct tw_slab;

#define TW_MEM_SOLO_HDR 16u

struct tw_mem_solo;

typedef struct tw_mem_cache {
    void *head;   /* first word of each free object links to the next */
    /* Room left in the list: TW_MEM_CACHE_MAX less the objects in it; 0 for a list that
       is off. Room, not a count, so that a give's usual case can take its room and test
       it in one step, the subtraction's sign (tw_mem_list_take_room). */
    uint32_t room;
    uint32_t size; /* object size of this class, fixed at first use */
    struct tw_mem_solo *solo; /* walkable classes: objects allocated on their own */
    size_t out;    /* objects taken and not given back (tw_mem_counts_out's classes) */
    struct tw_slab *avail;  /* slabs with room (not full, not the spare) */
    struct tw_slab *spare;  /* an empty slab kept for the next one needed */
    struct tw_slab **dir;   /* every slab of the class, by address */
    uint32_t ndir, dircap;
} tw_mem_cache;

typedef struct tw_mem {
    tw_allocator a;
    size_t budget; /* 0: unlimited */
    /* The budget's last bytes, which only tw_mem_alloc_reserve may take: a ring block
       (TW_MEM_RING_BLOCK) when there is a budget of two blocks or more, else 0. Receive
       buffers take it (tcp_conn.c ring_block_alloc): two ends that both wrote could
       otherwise each fill its budget with data the other had not acknowledged, and then
       had no memory to take in the other's, so that neither acknowledged again. */
    size_t reserve;
    /* (the bytes in the free lists and spare slabs are not kept as a count: tw_mem_cached
       works them out, so that a take and a give each make one step fewer) */
    size_t live, peak; /* bytes held from the allocator, free lists included */
    tw_mem_cache cache[TW_MC_COUNT_];
    uint8_t list_off; /* bit per class: tw_mem_list_off */
    /* Where an object on the connection class's free list may keep ring blocks of the
       first size (TW_MC_RING), the offsets of two block pointers in it (0: none kept;
       tw_mem_keep_at). A listed object holds NULL or a block at each (the connection
       free's usual case leaves its rings' blocks in it, tcp_conn.h tw_conn_rings_kept):
       held with it, so bounded by its list's (two blocks an object), not counted in the
       ring list's room; tw_mem_cached counts them, and tw_mem_drain and
       tw_mem_release_all return them with their objects. */
    uint16_t kept_at[2];
} tw_mem;

void tw_mem_init(tw_mem *m, const tw_allocator *a, size_t budget);
/* NULL when the allocator fails or the budget less its reserve would be exceeded. */
void *tw_mem_alloc(tw_mem *m, size_t size);
/* tw_mem_alloc that may take the budget's reserve too. */
void *tw_mem_alloc_reserve(tw_mem *m, size_t size);
/* Like tw_mem_alloc, zero-filled. */
void *tw_mem_zalloc(tw_mem *m, size_t size);
/* `size` must be the size given at allocation. NULL is ignored. */
void tw_mem_free(tw_mem *m, void *p, size_t size);
/* Of live, the bytes the free lists and the spare slabs hold (each list's objects are its
   class's size). Worked out, not counted: only an idle stack's trim and tests ask. */
size_t tw_mem_cached(const tw_mem *m);

/* Whether the class counts its objects out (tw_mem_cache out): the connections', which
   an idle stack's trim asks about, and the slab classes' (connections and ports), whose
   slabs are sized by it. Ring blocks and half-open entries make no count step. */
static inline bool tw_mem_counts_out(enum tw_mem_class cls)
{
    return cls == TW_MC_CONN || cls == TW_MC_PORT;
}

/* The paths of tw_mem_take and tw_mem_give that do not use the free list. */
void *tw_mem_take_slow(tw_mem *m, enum tw_mem_class cls, size_t size);
void tw_mem_give_slow(tw_mem *m, enum tw_mem_class cls, void *p, size_t size);

/* From the class's free list, else its slabs or tw_mem_alloc. `size` must be the same for
   every call with one class (>= sizeof(void *)). Not zeroed. */
static inline void *tw_mem_take(tw_mem *m, enum tw_mem_class cls, size_t size)
{
    tw_mem_cache *c = &m->cache[cls];
    void *p = c->head;
    if (!p) {
        return tw_mem_take_slow(m, cls, size);
    }
    memcpy(&c->head, p, sizeof(void *));
    c->room++;
    if (tw_mem_counts_out(cls)) {
        c->out++;
    }
    return p;
}

/* Zero `n` bytes at `p`, n a constant at every caller (an object's size): inline 16-byte
   stores, where a memset call costs as much again in its own dispatch (and GCC's
   inline memset of 88 bytes or more is a rep stos, slow to start). */
#if defined(__GNUC__)
typedef uint64_t tw_mem_v16 __attribute__((vector_size(16), aligned(1), may_alias));
static inline __attribute__((always_inline)) void tw_mem_zero(void *p, size_t n)
{
    unsigned char *b = p;
    if (n < 16) {
        memset(p, 0, n);
        return;
    }
    size_t i = 0;
#pragma GCC unroll 32
    for (; i + 16 <= n; i += 16) {
        *(tw_mem_v16 *)(void *)(b + i) = (tw_mem_v16){0, 0};
    }
    if (i < n) {
        *(tw_mem_v16 *)(void *)(b + n - 16) = (tw_mem_v16){0, 0}; /* overlaps the last */
    }
}
#else
static inline void tw_mem_zero(void *p, size_t n)
{
    memset(p, 0, n);
}
#endif

/* Like tw_mem_take, zero-filled. */
static inline void *tw_mem_ztake(tw_mem *m, enum tw_mem_class cls, size_t size)
{
    void *p = tw_mem_take(m, cls, size);
    if (p) {
        tw_mem_zero(p, size);
    }
    return p;
}

/* Whether the class's free list holds all it may (no room left; always for a list that
   is off, and with TW_MEM_CACHE_MAX 0). */
static inline bool tw_mem_list_full(const tw_mem_cache *c)
{
#if TW_MEM_CACHE_MAX > 0
    return c->room == 0;
#else
    (void)c;
    return true;
#endif
}

/* Back to the class's free list, whose room the caller has counted (tw_mem_give_room's
   step, or taken beforehand: tw_mem_list_take_room). */
static inline void tw_mem_give_taken(tw_mem *m, enum tw_mem_class cls, void *p)
{
    tw_mem_cache *c = &m->cache[cls];
    if (tw_mem_counts_out(cls)) {
        c->out--; /* (c->size: set when the object was taken, tw_mem_take_slow) */
    }
    memcpy(p, &c->head, sizeof(void *));
    c->head = p;
}

/* tw_mem_give's usual case, for a caller that has found room in the list
   (!tw_mem_list_full; p not NULL): no test of its own. */
static inline void tw_mem_give_room(tw_mem *m, enum tw_mem_class cls, void *p)
{
    tw_mem_give_taken(m, cls, p);
    m->cache[cls].room--;
}

/* Back to the class's free list, or to its slab or the allocator when the list is full.
   NULL is ignored. */
static inline void tw_mem_give(tw_mem *m, enum tw_mem_class cls, void *p, size_t size)
{
    if (!p) {
        return;
    }
    if (tw_mem_list_full(&m->cache[cls])) {
        tw_mem_give_slow(m, cls, p, size);
        return;
    }
    tw_mem_give_room(m, cls, p);
}

/* Whether the class's free list is on (tw_mem_list_off; TW_MEM_CACHE_MAX not 0) and not
   full, as a test the caller's branch takes (x86-64: one compare of the room in memory,
   made with asm goto, as tw_mem_list_take_room's; measured: lifecycle -1 instr against
   the compare in C, whose room GCC loaded into a register of its own). */
static inline __attribute__((always_inline)) bool tw_mem_list_has_room(const tw_mem_cache *c)
{
#if TW_MEM_CACHE_MAX > 0
#if TW_ASM_X86
    __asm__ goto("cmpl $0, %[room]\n\tje %l[none]" : : [room] "m"(c->room) : "cc" : none);
    return true;
none:
    return false;
#else
    return c->room != 0;
#endif
#else
    (void)c;
    return false;
#endif
}

/* Whether the class's free list has room for two more (tw_mem_give2's usual case). */
static inline bool tw_mem_list_room2(const tw_mem_cache *c)
{
#if TW_MEM_CACHE_MAX >= 2
    return c->room >= 2;
#else
    (void)c;
    return false;
#endif
}

/* Takes the class's free list's room for `k` objects (1 or 2; their gives then make no
   count step of their own: tw_mem_give_taken, tw_mem_give2_taken, tw_mem_give_taken_last),
   telling whether it had it; when not, nothing is taken. */
static inline __attribute__((always_inline)) bool tw_mem_list_take_room(tw_mem_cache *c,
                                                                       uint32_t k)
{
    assert(k == 1 || k == 2);
#if TW_MEM_CACHE_MAX > 0
#if TW_ASM_X86
    /* The subtraction's sign is the answer: the room is at most TW_MEM_CACHE_MAX, far
       below bit 31, so it goes negative only when it was less than k. One subtraction
       in memory and a branch on its sign, where GCC loads, compares and later adds
       (measured: lifecycle -1 instr per list per usual connection free, -4 in all). The way out
       puts the room back (a memory output: written on both ways, read again here). */
    __asm__ goto("subl %[k], %[room]\n\tjs %l[none]"
                 : [room] "+m"(c->room)
                 : [k] "ir"(k)
                 : "cc"
                 : none);
    return true;
none:
    c->room += k;
    return false;
#else
    if (c->room < k) {
        return false;
    }
    c->room -= k;
    return true;
#endif
#else
    (void)c;
    (void)k;
    return false;
#endif
}

/* tw_mem_list_take_room of two lists (`a` ka objects, `b` kb): both or, telling so,
   neither. */
static inline __attribute__((always_inline)) bool
tw_mem_lists_take_room(tw_mem_cache *a, uint32_t ka, tw_mem_cache *b, uint32_t kb)
{
    if (!tw_mem_list_take_room(a, ka)) {
        return false;
    }
    if (!tw_mem_list_take_room(b, kb)) {
        a->room += ka; /* (taken above: given back) */
        return false;
    }
    return true;
}

/* tw_mem_give_taken for a class that counts its objects out (asserted), telling whether
   none is out now: a caller's idle test read from the count's decrement (conn_free.h,
   tw_conn_free's usual end). */
static inline bool tw_mem_give_taken_last(tw_mem *m, enum tw_mem_class cls, void *p)
{
    assert(tw_mem_counts_out(cls));
    tw_mem_cache *c = &m->cache[cls];
    bool none_out = --c->out == 0;
    memcpy(p, &c->head, sizeof(void *));
    c->head = p;
    return none_out;
}

/* tw_mem_give2_room for two objects whose room tw_mem_list_take_room has taken. */
static inline void tw_mem_give2_taken(tw_mem *m, enum tw_mem_class cls, void *p, void *q)
{
    tw_mem_cache *c = &m->cache[cls];
    if (tw_mem_counts_out(cls)) {
        c->out -= 2;
    }
    memcpy(q, &c->head, sizeof(void *));
    memcpy(p, &q, sizeof(void *));
    c->head = p;
}

/* tw_mem_give2's usual case, for a caller that has found room for both
   (tw_mem_list_room2): one update of the list's counts for the two. */
static inline void tw_mem_give2_room(tw_mem *m, enum tw_mem_class cls, void *p, void *q)
{
    tw_mem_give2_taken(m, cls, p, q);
    m->cache[cls].room -= 2;
}

/* tw_mem_give of two objects of the class (neither NULL) at once: one test of the list's
   room and one update of its counts for both (a connection's two ring blocks). */
static inline void tw_mem_give2(tw_mem *m, enum tw_mem_class cls, void *p, void *q, size_t size)
{
    if (tw_mem_list_room2(&m->cache[cls])) {
        tw_mem_give2_room(m, cls, p, q);
        return;
    }
    tw_mem_give(m, cls, p, size);
    tw_mem_give(m, cls, q, size);
}

/* Return every free list and spare slab to the allocator (the blocks the connection
   list's objects keep too: tw_mem kept_at). */
void tw_mem_drain(tw_mem *m);
/* The offsets of the two block pointers the connection list's objects may keep
   (tw_mem kept_at), set once, before any object is listed. */
void tw_mem_keep_at(tw_mem *m, size_t a, size_t b);
/* Turn the class's free list off for good (called before any object of it is given
   back): it then always looks full and empty, so every take and give of the class goes
   to the slow paths, and the usual paths need no test of their own for it. */
void tw_mem_list_off(tw_mem *m, enum tw_mem_class cls);

/* Call fn on every object of a walkable class (TW_MC_CONN) that may be live: given-back
   objects are visited too, and fn must neither take nor give objects of the class. */
void tw_mem_walk(tw_mem *m, enum tw_mem_class cls, void (*fn)(void *obj, void *ud), void *ud);
/* Return every object of the class to the allocator at once, live ones included
   (teardown, after tw_mem_walk released what they hold). */
void tw_mem_release_all(tw_mem *m, enum tw_mem_class cls);

#endif
