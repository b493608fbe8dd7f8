/*
 * ranges.c -- sorted disjoint sequence ranges (see ranges.h).
 */
#include "core/ranges.h"
#include "core/mem.h"

#include <string.h>

static tw_range *ranges_v(tw_ranges *rs)
{
    return rs->ext ? rs->ext : rs->inl;
}

bool tw_ranges_add(tw_ranges *rs, tw_seq start, tw_seq end)
{
    if (!tw_seq_lt(start, end)) {
        return true;
    }
    tw_range *r = ranges_v(rs);
    /* First range whose end reaches `start` (adjacent ranges merge too). */
    unsigned i = 0;
    while (i < rs->n && tw_seq_lt(r[i].end, start)) {
        i++;
    }
    /* Ranges i..j-1 touch [start, end). */
    unsigned j = i;
    while (j < rs->n && tw_seq_le(r[j].start, end)) {
        j++;
    }
    if (i == j) {
        if (rs->n == (rs->ext ? rs->ext_cap : TW_RANGES_MAX)) {
            return false;
        }
        memmove(&r[i + 1], &r[i], (rs->n - i) * sizeof(r[0]));
        r[i].start = start;
        r[i].end = end;
        rs->n++;
        return true;
    }
    tw_range merged = {tw_seq_min(start, r[i].start), tw_seq_max(end, r[j - 1].end)};
    r[i] = merged;
    memmove(&r[i + 1], &r[j], (rs->n - j) * sizeof(r[0]));
    rs->n = (uint16_t)(rs->n - (j - i - 1));
    return true;
}

tw_seq tw_ranges_pull(tw_ranges *rs, tw_seq upto)
{
    tw_range *r = ranges_v(rs);
    if (rs->n == 0 || tw_seq_gt(r[0].start, upto)) {
        return upto;
    }
    tw_seq end = tw_seq_max(r[0].end, upto);
    memmove(&r[0], &r[1], (rs->n - 1u) * sizeof(r[0]));
    rs->n--;
    return end;
}

uint32_t tw_ranges_bytes(const tw_ranges *rs)
{
    const tw_range *r = tw_ranges_get(rs);
    uint32_t sum = 0;
    for (unsigned i = 0; i < rs->n; i++) {
        sum += (uint32_t)tw_seq_diff(r[i].end, r[i].start);
    }
    return sum;
}

void tw_ranges_trim(tw_ranges *rs, tw_seq seq)
{
    tw_range *r = ranges_v(rs);
    unsigned drop = 0;
    while (drop < rs->n && tw_seq_le(r[drop].end, seq)) {
        drop++;
    }
    if (drop) {
        memmove(&r[0], &r[drop], (rs->n - drop) * sizeof(r[0]));
        rs->n = (uint16_t)(rs->n - drop);
    }
    if (rs->n && tw_seq_lt(r[0].start, seq)) {
        r[0].start = seq;
    }
}

bool tw_ranges_grow(tw_ranges *rs, tw_mem *m)
{
    unsigned cap = rs->ext ? rs->ext_cap : TW_RANGES_MAX;
    if (cap >= TW_RANGES_EXT_MAX) {
        return false;
    }
    unsigned ncap = cap * 4 < TW_RANGES_EXT_MAX ? cap * 4 : TW_RANGES_EXT_MAX;
    tw_range *nr = tw_mem_alloc(m, ncap * sizeof(tw_range));
    if (nr == NULL) {
        return false;
    }
    memcpy(nr, ranges_v(rs), rs->n * sizeof(tw_range));
    tw_ranges_release(rs, m);
    rs->ext = nr;
    rs->ext_cap = (uint16_t)ncap;
    return true;
}

bool tw_ranges_add_grow(tw_ranges *rs, tw_mem *m, tw_seq start, tw_seq end)
{
    /* (one range more than the room needs one grow: add never needs two) */
    return tw_ranges_add(rs, start, end) ||
           (tw_ranges_grow(rs, m) && tw_ranges_add(rs, start, end));
}

void tw_ranges_release(tw_ranges *rs, tw_mem *m)
{
    if (rs->ext) {
        tw_mem_free(m, rs->ext, rs->ext_cap * sizeof(tw_range));
        rs->ext = NULL;
        rs->ext_cap = 0;
    }
}
