/*
 * ranges.h -- out-of-order byte ranges above rcv_nxt (they will also feed SACK blocks).
 *
 * A small sorted array of disjoint, non-adjacent [start, end) sequence ranges:
 *
 *   rcv_nxt        r[0]            r[1]
 *      |   hole   [#######)  hole  [####)
 *
 * Adding a range merges every range it touches. When in-order data reaches r[0].start,
 * tw_ranges_pull() hands back r[0].end, the new rcv_nxt, and drops r[0].
 */
#ifndef TW_CORE_RANGES_H
#define TW_CORE_RANGES_H

#include <stdint.h>
#include <stdbool.h>
#include "core/seq.h"

/* Ranges held in the record itself; past them, an array of their own is made when
   needed (tw_ranges_grow), 4 times larger each time, up to TW_RANGES_EXT_MAX. */
#define TW_RANGES_MAX 16
#define TW_RANGES_EXT_MAX 1024

typedef struct tw_range {
    tw_seq start, end;
} tw_range;

typedef struct tw_ranges {
    uint16_t n;
    uint16_t ext_cap; /* ext's size in ranges (0 while ext is NULL) */
    tw_range *ext;    /* NULL: the ranges are in inl; else all of them are here */
    tw_range inl[TW_RANGES_MAX];
} tw_ranges;

/* The ranges, r[0] .. r[n - 1]. */
static inline const tw_range *tw_ranges_get(const tw_ranges *rs)
{
    return rs->ext ? rs->ext : rs->inl;
}

/* Add [start, end). Returns false (and changes nothing) if it needs a new entry and all
   are used (then tw_ranges_grow, and add again). */
bool tw_ranges_add(tw_ranges *rs, tw_seq start, tw_seq end);
/* If r[0] starts at or before `upto`, remove it and return its end (the caller's new
   rcv_nxt, never below `upto`); otherwise return `upto`. */
tw_seq tw_ranges_pull(tw_ranges *rs, tw_seq upto);
/* Remove everything below `seq` (ranges that straddle it are cut). */
void tw_ranges_trim(tw_ranges *rs, tw_seq seq);
/* Bytes held in all ranges. */
uint32_t tw_ranges_bytes(const tw_ranges *rs);

struct tw_mem;
/* Room for more ranges (TW_RANGES_MAX -> 64 -> 256 -> 1024), from `m`: false when at
   TW_RANGES_EXT_MAX or out of memory (nothing changed). */
bool tw_ranges_grow(tw_ranges *rs, struct tw_mem *m);
/* tw_ranges_add, growing the room once when it is full: false when no room could be
   made (TW_RANGES_EXT_MAX or out of memory; nothing changed). */
bool tw_ranges_add_grow(tw_ranges *rs, struct tw_mem *m, tw_seq start, tw_seq end);
/* Give back what tw_ranges_grow took (before the record itself goes). */
void tw_ranges_release(tw_ranges *rs, struct tw_mem *m);

#endif
