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

#define TW_RANGES_MAX 16

typedef struct tw_range {
    tw_seq start, end;
} tw_range;

typedef struct tw_ranges {
    uint8_t n;
    tw_range r[TW_RANGES_MAX];
} tw_ranges;

/* Add [start, end). Returns false (and changes nothing) if it needs a new entry and all
   are used. */
bool tw_ranges_add(tw_ranges *rs, tw_seq start, tw_seq end);
/* If r[0] starts at or before `upto`, remove it and return its end (the caller's new
   rcv_nxt, never below `upto`); otherwise return `upto`. */
tw_seq tw_ranges_pull(tw_ranges *rs, tw_seq upto);
/* Remove everything below `seq` (ranges that straddle it are cut). */
void tw_ranges_trim(tw_ranges *rs, tw_seq seq);
/* Bytes held in all ranges. */
uint32_t tw_ranges_bytes(const tw_ranges *rs);

#endif
