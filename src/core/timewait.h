/*
 * timewait.h -- the compact TIME-WAIT record (SPEC S15-S17).
 *
 * When a connection whose application is gone enters TIME-WAIT, everything but what
 * TIME-WAIT needs is freed. What remains is 48 bytes:
 *
 *   0  expires   time (ns) at which 2*MSL ends                8
 *   8  hnext     next record in the hash chain (index)         4
 *   12 fnext, fprev  the expiry list (indices)                 8
 *   20 snd_nxt (our FIN + 1), rcv_nxt (their FIN + 1)          8
 *   28 ts_recent, conn_id (for trace; its low bits: the port's
 *      count's flags, TW_TW_ID_*)                               8
 *   36 win (raw window field to advertise), flags, rcv_wscale  4
 *      (their spare bits: the last rate-limited answer, TW_TWF_TS)
 *   40 hash      the 4-tuple's keyed hash (tw_hash_mix)         8
 *
 * The 4-tuple is kept as its hash, tw_hash_mix(tw_tuple_key(raddr, rport, lport), seed):
 * the mix is a bijection of 64-bit words (an xor with the seed, xorshifts and products by
 * odd constants, each invertible), so two records' hashes are equal exactly when their
 * 4-tuples are, and a lookup compares hashes as it would compare keys. A record then
 * never needs hashing again: at each doubling of the buckets (every record), at its
 * release (its chain's and the moved record's) it is a load. The 4-tuple itself is
 * wanted only to answer a segment in TIME-WAIT and for trace events: tw_tw_key undoes
 * the mix there. (Not next to expires: GCC made the two stores of tw_timewait_enter one
 * 16-byte store, two instructions dearer.)
 *
 * No timer node: every TIME-WAIT lasts the same 2*MSL, so the records ordered by expiry
 * are the records ordered by when TIME-WAIT began. They sit on one doubly linked list,
 * oldest first; the stack's deadline is the first record's, and a restart (S16) moves the
 * record to the end. (A socket closed by the application during TIME-WAIT becomes a
 * record later than TIME-WAIT began; it is placed by its end, walking back from the
 * newest.) The timestamp offset is recomputed from the 4-tuple, not stored.
 *
 * Records live in a dense array (st->tws, htab.h) of 256-record chunks, so links are
 * 32-bit indices; a bucket is 8 bytes, the first index and a 32-bit filter of the chain
 * (htab.h). A freed record's slot takes the last record, and chunks go back to the allocator as the array shrinks. A record's address is
 * therefore valid only until the next record is freed or made.
 *
 * It answers every segment as a held socket in TIME-WAIT does (tw_timewait_judge, one
 * rule for both): it re-ACKs a retransmitted FIN and restarts 2*MSL (S16), ignores RST
 * (RFC 1337), and lets a newer SYN take the 4-tuple over (RFC 6191, S17).
 */
#ifndef TW_CORE_TIMEWAIT_H
#define TW_CORE_TIMEWAIT_H

#include "core/tcp_conn.h"

/* tw_tw.flags: bit 0 timestamps in use (TW_TWF_TS). tw_tw.rcv_wscale: bits 0-3 the
   receive window's scale (0-14). The bits left over in the two (7 and 4) hold the last ACK
   that answered a segment without text or a challenge, in 4 ms units modulo 2^11, 0 for
   none yet: at most one such answer per cfg.invalid_ratelimit (500 ms), as a held
   socket's tw_oow_rate_limited and Linux's tcp_timewait_check_oow_rate_limit. (Modulo 8.192 s: an answer 8 s or more
   after the last may now and then be held back as if early, which costs one bare ACK the
   peer sends again. Kept in spare bits: the record stays 48 bytes, and making it writes
   the two bytes as before.) */
#define TW_TWF_TS 0x01u
#define TW_TW_WSCALE_MASK 0x0fu
#define TW_TW_OOW_UNITS 0x7ffu /* (4 ms units) */
#define TW_TW_NIL UINT32_MAX
/* tw_tw.conn_id: the connection id's low 30 bits (trace events) above its two low bits,
   which hold the flags its port's count was taken with (timewait.c make_in): SO_REUSEADDR
   (tw_port nreuse), port chosen by connect (nauto), the connection's two top flag bits
   (TW_F_REUSE, TW_F_AUTOBOUND) shifted down. (The id shifted up by two and the flags
   down by 30 join in one `lea`, where the id masked and the flags masked took a mask
   each and an or; measured: lifecycle -1 instr.) */
#define TW_TW_ID_SHIFT 2u
#define TW_TW_ID_REUSE 0x2u
#define TW_TW_ID_AUTO 0x1u

typedef struct tw_tw {
    uint64_t expires; /* a time (tw_time): made with no division; its tick when asked */
    uint32_t hnext;
    uint32_t fnext, fprev;
    uint32_t snd_nxt, rcv_nxt;
    uint32_t ts_recent;
    uint32_t conn_id; /* low bits of the connection id, for trace events; TW_TW_ID_* */
    uint16_t win;
    uint8_t flags;      /* TW_TWF_TS; bits 1-7: the last answer's low bits */
    uint8_t rcv_wscale; /* bits 0-3; bits 4-7: its high bits */
    uint64_t hash; /* tw_hash_mix(tw_tuple_key(raddr, rport, lport), seed): see above */
} tw_tw;

_Static_assert(sizeof(tw_tw) <= 48, "TIME-WAIT record must stay within 48 bytes");

/* The answer to a segment arriving in TIME-WAIT, held socket (tcp_in.c time_wait_in) or
   compact record (tw_timewait_input) alike: a set of these (none: dropped, no answer). */
#define TW_TWJ_ACK 0x01u       /* an ACK */
#define TW_TWJ_LIMIT 0x02u     /* ...for a segment without text: held back within
                                  cfg.invalid_ratelimit (500 ms) of the last such answer
                                  or challenge (RFC 5961 10, Linux) */
#define TW_TWJ_CHALLENGE 0x04u /* a challenge ACK, under the same per-connection clock,
                                  then the stack's budget (RFC 5961 7) */
#define TW_TWJ_RESTART 0x08u   /* 2*MSL starts again */
#define TW_TWJ_TS 0x10u        /* TS.Recent takes the segment's TSval (RFC 7323 4.3) */

/* What a segment gets in TIME-WAIT, after the caller has let a newer SYN take the
   4-tuple over (S17): the one rule for both forms. RCV.NXT, the receive window in bytes,
   whether timestamps are in use (and TS.Recent valid) and TS.Recent; `c` the held socket
   (NULL for a record), for the drop's counter and trace. Counts the drop. */
unsigned tw_timewait_judge(tw_stack *st, tw_socket *c, const tw_seg *s, tw_seq rcv_nxt,
                           uint32_t wnd, bool ts, uint32_t ts_recent);

/* Records per chunk of the dense array (timewait.c). */
#define TW_TW_CHUNK_BITS 8u

/* The bucket takes the hash's low bits, the filter bit its top five: independent while
   there are fewer than 2^59 buckets. */
static inline uint32_t tw_tw_bucket(const tw_twtab *T, uint64_t h)
{
    return (uint32_t)h & T->mask;
}

static inline uint32_t tw_tw_bit(uint64_t h)
{
    return 1u << (h >> 59);
}

/* The record of the 4-tuple whose hash is h on the chain from index i, or NULL
   (timewait.c). */
tw_tw *tw_timewait_walk(const tw_twtab *T, uint32_t i, uint64_t h);

/* The 4-tuple key (tw_tuple_key) of a record: its hash with tw_hash_mix undone, step by
   step from the last (x ^= x >> s undone by the same xor of every multiple of s below
   64; a product by an odd constant by one by its inverse modulo 2^64). */
static inline uint64_t tw_tw_key(const tw_twtab *T, const tw_tw *t)
{
    uint64_t x = t->hash;
    x ^= x >> 32;
    x *= 0x96de1b173f119089ull; /* (0xbf58476d1ce4e5b9's inverse) */
    x ^= x >> 29 ^ x >> 58;
    x *= 0xf1de83e19937733dull; /* (0x9e3779b97f4a7c15's inverse) */
    x ^= x >> 31 ^ x >> 62;
    return x ^ T->seed;
}

/* tw_timewait_find with the key's hash, tw_htab_hash(&st->conns, key) (the tables share
   the seed, stack.c). Inline: connect() asks for every 4-tuple, and the bucket's filter
   most often answers. */
static inline tw_tw *tw_timewait_find_pre(const tw_stack *st, uint64_t key, uint64_t h)
{
    const tw_twtab *T = &st->tws;
    /* (no count test: with no record, the filter read is an empty one, htab.h none, or
       a bucket's whose records are gone, which the walk finds so) */
    const tw_twbucket *bk = &T->b[tw_tw_bucket(T, h)];
    /* (the filter's bit tw_tw_bit(h), tested by a shift of the filter: fewer
       instructions than making the bit) */
    (void)key; /* (its hash h names it: a bijection) */
    assert(h == tw_hash_mix(key, T->seed));
    return (bk->bloom >> (h >> 59)) & 1u ? tw_timewait_walk(T, bk->head, h) : NULL;
}

/* Start loading the bucket tw_timewait_find_pre(st, key, h) will read, h the key's hash
   (tw_htab_hash(&st->conns, key): the two tables share the seed, stack.c). */
static inline void tw_timewait_prefetch(const tw_stack *st, uint64_t h)
{
    const tw_twtab *T = &st->tws;
    TW_PREFETCH(&T->b[tw_tw_bucket(T, h)]); /* (with no bucket, htab.h none's: harmless) */
}


#endif
