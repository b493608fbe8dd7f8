/*
 * ranges.c -- sorted disjoint sequence ranges (see ranges.h).
 */
#include "core/ranges.h"

#include <string.h>

bool tw_ranges_add(tw_ranges *rs, tw_seq start, tw_seq end)
{
    if (!tw_seq_lt(start, end)) {
        return true;
    }
    /* First range whose end reaches `start` (adjacent ranges merge too). */
    unsigned i = 0;
    while (i < rs->n && tw_seq_lt(rs->r[i].end, start)) {
        i++;
    }
    /* Ranges i..j-1 touch [start, end). */
    unsigned j = i;
    while (j < rs->n && tw_seq_le(rs->r[j].start, end)) {
        j++;
    }
    if (i == j) {
        if (rs->n == TW_RANGES_MAX) {
            return false;
        }
        memmove(&rs->r[i + 1], &rs->r[i], (rs->n - i) * sizeof(rs->r[0]));
        rs->r[i].start = start;
        rs->r[i].end = end;
        rs->n++;
        return true;
    }
    tw_range merged = {tw_seq_min(start, rs->r[i].start), tw_seq_max(end, rs->r[j - 1].end)};
    rs->r[i] = merged;
    memmove(&rs->r[i + 1], &rs->r[j], (rs->n - j) * sizeof(rs->r[0]));
    rs->n = (uint8_t)(rs->n - (j - i - 1));
    return true;
}

tw_seq tw_ranges_pull(tw_ranges *rs, tw_seq upto)
{
    if (rs->n == 0 || tw_seq_gt(rs->r[0].start, upto)) {
        return upto;
    }
    tw_seq end = tw_seq_max(rs->r[0].end, upto);
    memmove(&rs->r[0], &rs->r[1], (rs->n - 1u) * sizeof(rs->r[0]));
    rs->n--;
    return end;
}

uint32_t tw_ranges_bytes(const tw_ranges *rs)
{
    uint32_t sum = 0;
    for (unsigned i = 0; i < rs->n; i++) {
        sum += (uint32_t)tw_seq_diff(rs->r[i].end, rs->r[i].start);
    }
    return sum;
}

void tw_ranges_trim(tw_ranges *rs, tw_seq seq)
{
    unsigned drop = 0;
    while (drop < rs->n && tw_seq_le(rs->r[drop].end, seq)) {
        drop++;
    }
    if (drop) {
        memmove(&rs->r[0], &rs->r[drop], (rs->n - drop) * sizeof(rs->r[0]));
        rs->n = (uint8_t)(rs->n - drop);
    }
    if (rs->n && tw_seq_lt(rs->r[0].start, seq)) {
        rs->r[0].start = seq;
    }
}
