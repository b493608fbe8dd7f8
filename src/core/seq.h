/*
 * seq.h -- TCP sequence numbers (RFC 9293 3.4), SPEC S19.
 *
 * Sequence numbers live in a 32-bit circle: a < b means "b is ahead of a by less than
 * 2^31". tw_seq is a struct so that a plain `<` between two of them does not compile.
 */
#ifndef TW_CORE_SEQ_H
#define TW_CORE_SEQ_H

#include <stdint.h>
#include <stdbool.h>

typedef struct tw_seq {
    uint32_t v;
} tw_seq;

static inline tw_seq tw_seq_make(uint32_t v)
{
    tw_seq s = {v};
    return s;
}

static inline tw_seq tw_seq_add(tw_seq a, uint32_t n)
{
    return tw_seq_make(a.v + n);
}

/* b - a as a signed distance (valid when |b - a| < 2^31). */
static inline int32_t tw_seq_diff(tw_seq b, tw_seq a)
{
    return (int32_t)(b.v - a.v);
}

static inline bool tw_seq_lt(tw_seq a, tw_seq b)
{
    return (int32_t)(a.v - b.v) < 0;
}

/* gt and le by the sign of b - a, as Linux's after(a, b) is before(b, a): the same answer
   as a - b > 0 (<= 0) wherever the order is defined (|b - a| < 2^31), and a sign alone
   is one compare and a jump on x86 (`cmp; js`), where > 0 of a wrapped difference takes
   the subtraction, a test and the jump. At exactly 2^31 (RFC 1982 3.2: undefined) each
   number is then both before and after the other, as in Linux. */
static inline bool tw_seq_le(tw_seq a, tw_seq b)
{
    return (int32_t)(b.v - a.v) >= 0;
}

static inline bool tw_seq_gt(tw_seq a, tw_seq b)
{
    return (int32_t)(b.v - a.v) < 0;
}

static inline bool tw_seq_ge(tw_seq a, tw_seq b)
{
    return (int32_t)(a.v - b.v) >= 0;
}

static inline bool tw_seq_eq(tw_seq a, tw_seq b)
{
    return a.v == b.v;
}

/* lo <= x < hi, in sequence space. */
static inline bool tw_seq_in(tw_seq x, tw_seq lo, tw_seq hi)
{
    return (uint32_t)(x.v - lo.v) < (uint32_t)(hi.v - lo.v);
}

static inline tw_seq tw_seq_max(tw_seq a, tw_seq b)
{
    return tw_seq_lt(a, b) ? b : a;
}

static inline tw_seq tw_seq_min(tw_seq a, tw_seq b)
{
    return tw_seq_lt(a, b) ? a : b;
}

#endif
