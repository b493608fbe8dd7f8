/*
 * cksum.h -- the Internet checksum (RFC 1071).
 *
 * Two forms of a running sum:
 * - partial sums (uint32_t) in host order of big-endian 16-bit words, which add in any
 *   order and carry the odd-offset flag (tw_cksum_add); any 32-bit value is a valid
 *   partial sum (its halves are words too: 2^16 == 1 in one's-complement arithmetic), and
 *   the functions here return them folded to <= 0xffff;
 * - native sums (uint64_t): bytes added as they lie in memory, 64 bits at a time with
 *   end-around carry. One's-complement addition is byte-order independent (RFC 1071
 *   2(B)): a native sum is the network-order sum with the bytes of each word swapped on a
 *   little-endian host, so a verifier compares it with all ones and a builder stores its
 *   complement as it lies, with no swap at all.
 * The per-packet path (40-100 byte packets) uses the inline native helpers below: there
 * the call, fold and swap steps cost more than the adds.
 */
#ifndef TW_CORE_CKSUM_H
#define TW_CORE_CKSUM_H

#include "core/arch.h"
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

/* Native sum of `len` bytes at `p` (any alignment) added to native sum `acc`, unfolded. */
uint64_t tw_cksum_native(uint64_t acc, const uint8_t *p, size_t len);
/* The forms behind tw_cksum_native and tw_cksum_copy_native: portable C, and on x86-64
   GCC/clang builds AVX2 loops that only tw_cksum_have_avx2() machines may run (any
   length; the entry points use them from 64 and 32 bytes). All are here for the unit
   tests, which compare them. */
uint64_t tw_cksum_native_portable(uint64_t acc, const uint8_t *p, size_t len);
uint64_t tw_cksum_copy_native_portable(uint64_t acc, uint8_t *dst, const uint8_t *src,
                                       size_t len);
#if TW_ASM_X86
uint64_t tw_cksum_native_avx2(uint64_t acc, const uint8_t *p, size_t len);
uint64_t tw_cksum_copy_native_avx2(uint64_t acc, uint8_t *dst, const uint8_t *src, size_t len);
#endif
bool tw_cksum_have_avx2(void);
/* Copy `len` bytes from `src` to `dst` (no overlap) and add them, as they lie at `src`,
   to native sum `acc`: tw_cksum_native over the copy, in one pass where AVX2 allows. */
uint64_t tw_cksum_copy_native(uint64_t acc, uint8_t *dst, const uint8_t *src, size_t len);
/* Add the bytes of `p` to partial sum `sum`. `odd` tells whether an odd number of bytes
   was summed before (so this block starts in the low byte of a word). */
uint32_t tw_cksum_add(uint32_t sum, const uint8_t *p, size_t len, int odd);
/* Copy `len` bytes and add them to the partial sum; same result as tw_cksum_add. Copying
   first and summing the copy (hot in cache) beats one fused load/store/add loop: libc's
   memcpy moves 32 bytes per instruction pair, and in a micro-benchmark (1,472-byte
   copies) the fused loop took 0.36 more instructions per byte and was no faster. */
static inline uint32_t tw_cksum_copy(uint32_t sum, uint8_t *dst, const uint8_t *src, size_t len,
                                     int odd)
{
    memcpy(dst, src, len);
    return tw_cksum_add(sum, dst, len, odd);
}

/* Fold a sum of 16-bit words (any width up to 64 bits) to 16 bits with end-around
   carries (RFC 1071 2(C): carries can be added at the end). Each rotate-and-add puts the
   one's-complement sum of the two halves in the upper half, carry included. */
static inline uint32_t tw_cksum_fold(uint64_t s)
{
    s += (s >> 32) | (s << 32);
    uint32_t t = (uint32_t)(s >> 32);
    t += (t >> 16) | (t << 16);
    return t >> 16;
}

/* Fold a partial sum to 16 bits and complement it: the value to put in a header. */
static inline uint16_t tw_cksum_fin(uint32_t sum)
{
    sum += (sum >> 16) | (sum << 16);
    return (uint16_t)~(sum >> 16);
}

/* tw_cksum_fin(tw_cksum_fold(s)) as a 32-bit value: the complement is taken before the
   fold's last shift, which then clears the upper half (no zero-extension after it). */
static inline uint32_t tw_cksum_fin64(uint64_t s)
{
    s += (s >> 32) | (s << 32);
    uint32_t t = (uint32_t)(s >> 32);
    t += (t >> 16) | (t << 16);
    return ~t >> 16;
}

/* Partial sum of the TCP/UDP pseudo-header (RFC 9293 3.1), folded to 32 bits only. */
static inline uint32_t tw_cksum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    uint64_t s = (uint64_t)src + dst + proto + len;
    s += (s >> 32) | (s << 32);
    return (uint32_t)(s >> 32);
}

/* An 8-byte load at any alignment (compilers emit one load). */
static inline uint64_t tw_cksum_load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* 64-bit one's-complement add: the carry out of bit 63 comes back in at bit 0, which
   compilers emit as add + adc. */
static inline uint64_t tw_cksum_add64(uint64_t s, uint64_t w)
{
    s += w;
    return s + (s < w);
}

/* A carry chain over `k` 8-byte words in memory at `p` (any alignment; k a constant, at
   most 8) and a last word `last`, added to native sum `s` with end-around carry (RFC 1071
   2(C)): on x86-64 GCC/clang one inline asm, an add and an add with carry a word, the
   last carry added back by one add of 0 with carry -- `last` is at most 2^64 - 2, so the
   add that takes the last carry out leaves at most 2^64 - 2 and the carry's return
   cannot carry again. Each word is its own memory operand, read straight by its add.
   (The compilers' carry builtins -- GCC's behind _addcarry_u64 -- made the same adds,
   but GCC 12 stored each chain's sum to the stack as the builtin's output and set a
   register to 0 for a last word of 0: measured lifecycle -10 instr with this, 6,785 ->
   6,775.) The one carry-chain mechanism here with tw_cksum_add64x2/x3/x4 (asm too).
   Elsewhere tw_cksum_add64's two instructions a word. */
#if TW_ASM_X86
#define TW_CKSUM_W(p, i) "m"(*(const uint8_t(*)[8])((p) + 8 * (i)))
#define TW_CKSUM_ADC(n) "adcq %" #n ", %0\n\t"
#define TW_CKSUM_END "adcq %1, %0\n\tadcq $0, %0"
#define TW_CKSUM_CHAIN(body, ...)                                                          \
    __asm__("addq %2, %0\n\t" body TW_CKSUM_END                                           \
            : "+&r"(s) /* (early clobber: no input may share its register) */             \
            : "re"(last), __VA_ARGS__                                                     \
            : "cc")
#endif
static inline __attribute__((always_inline)) uint64_t
tw_cksum_chain(uint64_t s, const uint8_t *p, unsigned k, uint64_t last)
{
    assert(k <= 8 && last != UINT64_MAX);
#if TW_ASM_X86
    switch (k) {
    case 8:
        TW_CKSUM_CHAIN(TW_CKSUM_ADC(3) TW_CKSUM_ADC(4) TW_CKSUM_ADC(5) TW_CKSUM_ADC(6)
                           TW_CKSUM_ADC(7) TW_CKSUM_ADC(8) TW_CKSUM_ADC(9),
                       TW_CKSUM_W(p, 0), TW_CKSUM_W(p, 1), TW_CKSUM_W(p, 2), TW_CKSUM_W(p, 3),
                       TW_CKSUM_W(p, 4), TW_CKSUM_W(p, 5), TW_CKSUM_W(p, 6), TW_CKSUM_W(p, 7));
        break;
    case 7:
        TW_CKSUM_CHAIN(TW_CKSUM_ADC(3) TW_CKSUM_ADC(4) TW_CKSUM_ADC(5) TW_CKSUM_ADC(6)
                           TW_CKSUM_ADC(7) TW_CKSUM_ADC(8),
                       TW_CKSUM_W(p, 0), TW_CKSUM_W(p, 1), TW_CKSUM_W(p, 2), TW_CKSUM_W(p, 3),
                       TW_CKSUM_W(p, 4), TW_CKSUM_W(p, 5), TW_CKSUM_W(p, 6));
        break;
    case 6:
        TW_CKSUM_CHAIN(TW_CKSUM_ADC(3) TW_CKSUM_ADC(4) TW_CKSUM_ADC(5) TW_CKSUM_ADC(6)
                           TW_CKSUM_ADC(7),
                       TW_CKSUM_W(p, 0), TW_CKSUM_W(p, 1), TW_CKSUM_W(p, 2), TW_CKSUM_W(p, 3),
                       TW_CKSUM_W(p, 4), TW_CKSUM_W(p, 5));
        break;
    case 5:
        TW_CKSUM_CHAIN(TW_CKSUM_ADC(3) TW_CKSUM_ADC(4) TW_CKSUM_ADC(5) TW_CKSUM_ADC(6),
                       TW_CKSUM_W(p, 0), TW_CKSUM_W(p, 1), TW_CKSUM_W(p, 2), TW_CKSUM_W(p, 3),
                       TW_CKSUM_W(p, 4));
        break;
    case 4:
        TW_CKSUM_CHAIN(TW_CKSUM_ADC(3) TW_CKSUM_ADC(4) TW_CKSUM_ADC(5), TW_CKSUM_W(p, 0),
                       TW_CKSUM_W(p, 1), TW_CKSUM_W(p, 2), TW_CKSUM_W(p, 3));
        break;
    case 3:
        TW_CKSUM_CHAIN(TW_CKSUM_ADC(3) TW_CKSUM_ADC(4), TW_CKSUM_W(p, 0), TW_CKSUM_W(p, 1),
                       TW_CKSUM_W(p, 2));
        break;
    case 2:
        TW_CKSUM_CHAIN(TW_CKSUM_ADC(3), TW_CKSUM_W(p, 0), TW_CKSUM_W(p, 1));
        break;
    case 1:
        TW_CKSUM_CHAIN("", TW_CKSUM_W(p, 0));
        break;
    default:
        __asm__("addq %1, %0\n\tadcq $0, %0" : "+&r"(s) : "re"(last) : "cc");
        break;
    }
    return s;
#undef TW_CKSUM_W
#undef TW_CKSUM_ADC
#undef TW_CKSUM_END
#undef TW_CKSUM_CHAIN
#else
    for (unsigned i = 0; i < k; i++) {
        s = tw_cksum_add64(s, tw_cksum_load64(p + 8 * i));
    }
    return tw_cksum_add64(s, last);
#endif
}

/* s + a + b as tw_cksum_add64x3 makes s + a + b + c (below). */
static inline uint64_t tw_cksum_add64x2(uint64_t s, uint64_t a, uint64_t b)
{
#if TW_ASM_X86
    __asm__("addq %1, %0\n\tadcq %2, %0\n\tadcq $0, %0\n\tadcq $0, %0"
            : "+&r"(s) /* (early clobber: no input may share its register) */
            : "rm"(a), "rm"(b)
            : "cc");
    return s;
#else
    return tw_cksum_add64(tw_cksum_add64(s, a), b);
#endif
}

/* s + a + b + c, native sums with end-around carries (tw_cksum_add64's, RFC 1071 2(C)),
   in one carry chain on x86-64 GCC/clang: an add, two adds with carry, and the last
   carry added back by two adds of 0 with carry (the first carries out only from all
   ones, leaving 0, so the second never does) -- five instructions where three
   tw_cksum_add64 take six to nine (compilers do not chain carries across them). */
static inline uint64_t tw_cksum_add64x3(uint64_t s, uint64_t a, uint64_t b, uint64_t c)
{
#if TW_ASM_X86
    __asm__("addq %1, %0\n\tadcq %2, %0\n\tadcq %3, %0\n\tadcq $0, %0\n\tadcq $0, %0"
            : "+&r"(s) /* (early clobber: no input may share its register) */
            : "rm"(a), "rm"(b), "rm"(c)
            : "cc");
    return s;
#else
    return tw_cksum_add64(tw_cksum_add64(tw_cksum_add64(s, a), b), c);
#endif
}

/* tw_cksum_add64x3 with a fourth word. */
static inline uint64_t tw_cksum_add64x4(uint64_t s, uint64_t a, uint64_t b, uint64_t c,
                                        uint64_t d)
{
#if TW_ASM_X86
    __asm__("addq %1, %0\n\tadcq %2, %0\n\tadcq %3, %0\n\tadcq %4, %0\n\tadcq $0, %0\n\t"
            "adcq $0, %0"
            : "+&r"(s) /* (early clobber: no input may share its register) */
            : "rm"(a), "rm"(b), "rm"(c), "rm"(d)
            : "cc");
    return s;
#else
    return tw_cksum_add64(tw_cksum_add64x3(s, a, b, c), d);
#endif
}

/* s + a + b + last, as tw_cksum_add64x3, for a `last` of at most 2^64 - 2 (a sum of a
   few 32-bit words: addresses, the pseudo-header's length and protocol, constant option
   words) added last: the add that takes the last carry out then leaves at most
   2^64 - 2, so one add of the carry ends the chain (tw_cksum_chain's rule), where a big
   word added last needs two. */
static inline uint64_t tw_cksum_add64x3_last(uint64_t s, uint64_t a, uint64_t b, uint64_t last)
{
    assert(last != UINT64_MAX);
#if TW_ASM_X86
    __asm__("addq %1, %0\n\tadcq %2, %0\n\tadcq %3, %0\n\tadcq $0, %0"
            : "+&r"(s) /* (early clobber: no input may share its register) */
            : "rm"(a), "rm"(b), "rme"(last)
            : "cc");
    return s;
#else
    return tw_cksum_add64(tw_cksum_add64(tw_cksum_add64(s, a), b), last);
#endif
}

/* tw_cksum_add64x3_last with a fourth word before `last`. */
static inline uint64_t tw_cksum_add64x4_last(uint64_t s, uint64_t a, uint64_t b, uint64_t c,
                                             uint64_t last)
{
    assert(last != UINT64_MAX);
#if TW_ASM_X86
    __asm__("addq %1, %0\n\tadcq %2, %0\n\tadcq %3, %0\n\tadcq %4, %0\n\tadcq $0, %0"
            : "+&r"(s) /* (early clobber: no input may share its register) */
            : "rm"(a), "rm"(b), "rm"(c), "rme"(last)
            : "cc");
    return s;
#else
    return tw_cksum_add64(tw_cksum_add64x3_last(s, a, b, c), last);
#endif
}

/* tw_cksum_add64x4_last with a fifth word before `last`. */
static inline uint64_t tw_cksum_add64x5_last(uint64_t s, uint64_t a, uint64_t b, uint64_t c,
                                             uint64_t d, uint64_t e, uint64_t last)
{
    assert(last != UINT64_MAX);
#if TW_ASM_X86
    __asm__("addq %1, %0\n\tadcq %2, %0\n\tadcq %3, %0\n\tadcq %4, %0\n\tadcq %5, %0\n\t"
            "adcq %6, %0\n\tadcq $0, %0"
            : "+&r"(s) /* (early clobber: no input may share its register) */
            : "rm"(a), "rm"(b), "rm"(c), "rm"(d), "rm"(e), "rme"(last)
            : "cc");
    return s;
#else
    return tw_cksum_add64(tw_cksum_add64(tw_cksum_add64x4(s, a, b, c, d), e), last);
#endif
}

/* tw_cksum_add64x5_last with one word fewer before `last`. */
static inline uint64_t tw_cksum_add64x4_then_last(uint64_t s, uint64_t a, uint64_t b, uint64_t c,
                                                  uint64_t d, uint64_t last)
{
    assert(last != UINT64_MAX);
#if TW_ASM_X86
    __asm__("addq %1, %0\n\tadcq %2, %0\n\tadcq %3, %0\n\tadcq %4, %0\n\tadcq %5, %0\n\t"
            "adcq $0, %0"
            : "+&r"(s) /* (early clobber: no input may share its register) */
            : "rm"(a), "rm"(b), "rm"(c), "rm"(d), "rme"(last)
            : "cc");
    return s;
#else
    return tw_cksum_add64(tw_cksum_add64x4(s, a, b, c, d), last);
#endif
}

/* tw_cksum_add64x3_last with one word fewer before `last`. */
static inline uint64_t tw_cksum_add64x2_last(uint64_t s, uint64_t a, uint64_t last)
{
    assert(last != UINT64_MAX);
#if TW_ASM_X86
    __asm__("addq %1, %0\n\tadcq %2, %0\n\tadcq $0, %0"
            : "+&r"(s) /* (early clobber: no input may share its register) */
            : "rm"(a), "rme"(last)
            : "cc");
    return s;
#else
    return tw_cksum_add64(tw_cksum_add64(s, a), last);
#endif
}

/* tw_cksum_add64 as an add and an add of the carry on x86-64 GCC/clang (GCC made the
   C form a compare and a branch). */
static inline uint64_t tw_cksum_add64_asm(uint64_t s, uint64_t w)
{
#if TW_ASM_X86
    __asm__("addq %1, %0\n\tadcq $0, %0" : "+r"(s) : "rme"(w) : "cc");
    return s;
#else
    return tw_cksum_add64(s, w);
#endif
}

/* Compilers fold this to a constant. */
static inline bool tw_cksum_little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* Copy a short payload and return its native sum added to `a` (a native sum: the
   caller's header words, whose sum then needs no add of its own; 0 for none). For the few bytes of a
   request, a response or a tail (at most 128), where a call to libc's memcpy and the
   block loop of tw_cksum_native cost more than the bytes: straight-line, entered by one
   jump, each 16 bytes copied as one block and summed as two words from the source (the
   word's load folds into its add), the last 1-15 bytes as an 8-byte word, a 4-byte word
   and a zero-padded word in memory order (RFC 1071 1(2)). Inline in emit_plain_body
   (tcp_out.c: every request and response comes here) and in the usual packet's
   function, for a connection's first data (tcp_in.c). */
static inline __attribute__((always_inline)) uint64_t
tw_cksum_copy_short_in(uint8_t *dst, const uint8_t *src, uint32_t len, uint64_t a,
                       const uint8_t *base, uint32_t ob, uint32_t oc, uint64_t z, unsigned words,
                       bool copy)
{
    /* (copy false: the payload summed where it lies, dst unused, tw_cksum_short_words) */
    /* (words: how many header words, 0, 1 (at base + ob) or 2, join the chain with z) */
    assert(len <= 128 && words <= 2 && (!words || z != UINT64_MAX));
    if (len & 15) {
        /* Each piece at its offset from len alone (the 8-byte word after the blocks, the
           4-byte word after that, the last 1-3 bytes), no running index: with one, GCC
           kept it on the stack in the senders' builders. Each piece joins the sum as it
           is copied (an add and an add of its carry: tw_cksum_add64_asm), so that none
           waits in a register for the others: with the 8-byte word and the small words'
           sum kept apart for one chain at the end, the senders' builders ran out of
           scratch registers there and took a callee-saved one (tcp_out.c
           emit_plain_body; with its one-word chain, tw_cksum_copy_short_word, lifecycle
           -1). */
        if (len & 8) {
            uint64_t w8 = tw_cksum_load64(src + (len & ~15u));
            if (copy) {
                memcpy(dst + (len & ~15u), &w8, 8);
            }
            a = tw_cksum_add64_asm(a, w8);
        }
        if (len & 4) {
            uint32_t w;
            memcpy(&w, src + (len & ~7u), 4);
            if (copy) {
                memcpy(dst + (len & ~7u), &w, 4);
            }
            a = tw_cksum_add64_asm(a, w);
        }
        if (len & 3) {
            /* the last bytes as the word they begin, zero-padded in memory order */
            const uint8_t *s = src + (len & ~3u);
            uint8_t *d = copy ? dst + (len & ~3u) : NULL;
            uint32_t v;
            if (len & 2) {
                uint16_t h;
                memcpy(&h, s, 2);
                if (copy) {
                    memcpy(d, &h, 2);
                }
                v = tw_cksum_little_endian() ? h : (uint32_t)h << 16;
                if (len & 1) {
                    if (copy) {
                        d[2] = s[2];
                    }
                    v |= tw_cksum_little_endian() ? (uint32_t)s[2] << 16 : (uint32_t)s[2] << 8;
                }
            } else {
                if (copy) {
                    d[0] = s[0];
                }
                v = tw_cksum_little_endian() ? s[0] : (uint32_t)s[0] << 24;
            }
            a = tw_cksum_add64_asm(a, v);
        }
    }
    /* On x86-64 GCC/clang the blocks' words join in one carry chain read straight from
       the source, one chain for each count of blocks (two instructions a block, where a
       carry counted apart took three, and two to join it), closed by two adds of the
       carry: the first can leave all ones and a carry when the last word and the sum were
       both all ones (as in tw_cksum_add64x4). */
#if TW_ASM_X86
    /* (words: the two header words read where the caller has stored them, at base + ob
       and base + oc, base a pointer it keeps anyway, the offsets constants written into
       the instructions: as values, with the payload's source and the sum live across
       the jump, GCC stored all three on the stack before it and read them back in the
       chain (tcp_out.c emit_plain_body: three stores a request or response, lifecycle
       -6). Without optimisation the offsets are not constants there: memory operands.) */
    assert(!words || (ob + 8 <= 64 && oc + 8 <= 64));
#if defined(__OPTIMIZE__)
#define HDR_B "%c6(%3)"
#define HDR_C "%c7(%3)"
#define HDR_OPERANDS "r"(base), "rme"(z), "m"(*(const uint8_t(*)[64])base), "i"(ob), "i"(oc)
#else
#define HDR_B "%5"
#define HDR_C "%6"
#define HDR_OPERANDS                                                                       \
    "r"(base), "rme"(z), "m"(*(const uint8_t(*)[8])(base + ob)),                           \
        "m"(*(const uint8_t(*)[8])(base + oc))
#endif
#define BLOCK(k)                                                                           \
    do {                                                                                   \
        if (copy) {                                                                        \
            memcpy(dst + 16 * (k), src + 16 * (k), 16);                                    \
        }                                                                                  \
    } while (0)
#define WORDS(k) "adcq 16*" #k "(%1), %0\n\tadcq 16*" #k "+8(%1), %0\n\t"
#define CHAIN(n, blocks)                                                                   \
    do {                                                                                   \
        if (words == 2) {                                                                  \
            __asm__("addq (%1), %0\n\tadcq 8(%1), %0\n\t" blocks "adcq " HDR_B ", %0\n\t" \
                    "adcq " HDR_C ", %0\n\tadcq %4, %0\n\tadcq $0, %0"                     \
                    : "+&r"(a)                                                             \
                    : "r"(src), "m"(*(const uint8_t(*)[16 * (n)])src), HDR_OPERANDS        \
                    : "cc");                                                               \
        } else if (words == 1) {                                                           \
            __asm__("addq (%1), %0\n\tadcq 8(%1), %0\n\t" blocks "adcq " HDR_B ", %0\n\t" \
                    "adcq %4, %0\n\tadcq $0, %0"                                           \
                    : "+&r"(a)                                                             \
                    : "r"(src), "m"(*(const uint8_t(*)[16 * (n)])src), HDR_OPERANDS        \
                    : "cc");                                                               \
        } else {                                                                           \
            __asm__("addq (%1), %0\n\tadcq 8(%1), %0\n\t" blocks "adcq $0, %0\n\tadcq $0, %0" \
                    : "+&r"(a)                                                             \
                    : "r"(src), "m"(*(const uint8_t(*)[16 * (n)])src)                      \
                    : "cc");                                                               \
        }                                                                                  \
    } while (0)
    /* Entered by one indirect jump through a table of the cases' addresses made by the
       asm itself (asm goto): an index, the table's address and the jump, where GCC's
       switch compared len / 16 with its table's size first (it does not know len <= 128)
       and read a 4-byte offset to add to the table's address. The table lies in
       .data.rel.ro (absolute addresses: relocated at load in a PIE, read-only after). */
    uint64_t tab; /* (the table's address: a scratch register) */
    __asm__ volatile goto(".pushsection .data.rel.ro.local,\"aw\"\n\t.balign 8\n"
                          "1:\t.quad %l[b0], %l[b1], %l[b2], %l[b3], %l[b4], %l[b5], %l[b6], "
                          "%l[b7], %l[b8]\n\t.popsection\n\t"
                          "leaq 1b(%%rip), %[t]\n\tjmp *(%[t], %q[i], 8)"
                          : [t] "=&r"(tab)
                          : [i] "r"((uint64_t)(len / 16))
                          :
                          : b0, b1, b2, b3, b4, b5, b6, b7, b8);
    __builtin_unreachable();
b8:
    BLOCK(7); BLOCK(6); BLOCK(5); BLOCK(4); BLOCK(3); BLOCK(2); BLOCK(1); BLOCK(0);
    CHAIN(8, WORDS(1) WORDS(2) WORDS(3) WORDS(4) WORDS(5) WORDS(6) WORDS(7));
    return a;
b7:
    BLOCK(6); BLOCK(5); BLOCK(4); BLOCK(3); BLOCK(2); BLOCK(1); BLOCK(0);
    CHAIN(7, WORDS(1) WORDS(2) WORDS(3) WORDS(4) WORDS(5) WORDS(6));
    return a;
b6:
    BLOCK(5); BLOCK(4); BLOCK(3); BLOCK(2); BLOCK(1); BLOCK(0);
    CHAIN(6, WORDS(1) WORDS(2) WORDS(3) WORDS(4) WORDS(5));
    return a;
b5:
    BLOCK(4); BLOCK(3); BLOCK(2); BLOCK(1); BLOCK(0);
    CHAIN(5, WORDS(1) WORDS(2) WORDS(3) WORDS(4));
    return a;
b4:
    BLOCK(3); BLOCK(2); BLOCK(1); BLOCK(0);
    CHAIN(4, WORDS(1) WORDS(2) WORDS(3));
    return a;
b3:
    BLOCK(2); BLOCK(1); BLOCK(0);
    CHAIN(3, WORDS(1) WORDS(2));
    return a;
b2:
    BLOCK(1); BLOCK(0);
    CHAIN(2, WORDS(1));
    return a;
b1:
    BLOCK(0);
    CHAIN(1, "");
    return a;
b0:
    if (words == 2) {
        /* (the chain's operand numbers: %1 and %2, the blocks', unused here) */
        __asm__("addq " HDR_B ", %0\n\tadcq " HDR_C ", %0\n\tadcq %4, %0\n\tadcq $0, %0"
                : "+&r"(a)
                : "r"(src), "m"(*src), HDR_OPERANDS
                : "cc");
    } else if (words == 1) {
        __asm__("addq " HDR_B ", %0\n\tadcq %4, %0\n\tadcq $0, %0"
                : "+&r"(a)
                : "r"(src), "m"(*src), HDR_OPERANDS
                : "cc");
    }
    return a;
#undef CHAIN
#undef WORDS
#undef BLOCK
#undef HDR_OPERANDS
#undef HDR_C
#undef HDR_B
#else
    for (unsigned k = 0; k < len / 16; k++) {
        if (copy) {
            memcpy(dst + 16 * k, src + 16 * k, 16);
        }
        a = tw_cksum_add64(a, tw_cksum_load64(src + 16 * k));
        a = tw_cksum_add64(a, tw_cksum_load64(src + 16 * k + 8));
    }
    if (words) {
        a = tw_cksum_add64(a, tw_cksum_load64(base + ob));
        if (words == 2) {
            a = tw_cksum_add64(a, tw_cksum_load64(base + oc));
        }
        a = tw_cksum_add64(a, z);
    }
    return a;
#endif
}



static inline __attribute__((always_inline)) uint64_t tw_cksum_copy_short(uint8_t *dst,
                                                                          const uint8_t *src,
                                                                          uint32_t len,
                                                                          uint64_t a)
{
    return tw_cksum_copy_short_in(dst, src, len, a, NULL, 0, 0, 0, 0, true);
}

/* tw_cksum_native_short's steps for a payload of at most 128 bytes in whole 32-bit words
   (a request), with each group of words copied to `dst` as it is summed: tcp_in.c's
   third segment's text into its connection's first ring block, and a client's first
   answer into its ring. The groups by
   the bits of len as there (one carry chain each; for 64 bytes one chain and no other
   test; 128 bytes two chains and one more test), where tw_cksum_copy_short's jump table
   costs more to enter. */
static inline __attribute__((always_inline)) uint64_t tw_cksum_copy_words64(uint8_t *dst,
                                                                           const uint8_t *src,
                                                                           uint32_t len,
                                                                           uint64_t acc)
{
    assert(len <= 128 && (len & 3) == 0);
    uint64_t s = acc;
    /* (16 bytes a copy, as tw_cksum_copy_short's blocks: one copy of 32 or 64 bytes
       became a string move, an instruction per 4 bytes) */
    if (len == 64) {
        memcpy(dst + 48, src + 48, 16);
        memcpy(dst + 32, src + 32, 16);
        memcpy(dst + 16, src + 16, 16);
        memcpy(dst, src, 16);
        s = tw_cksum_chain(s, src, 8, 0);
        return s;
    }
    if (len >= 64) {
        /* (65 to 128 bytes: the first 64 as above, then 128's second 64 or the rest by
           the bits of len, each below 64 once the first 64 are gone) */
        memcpy(dst + 48, src + 48, 16);
        memcpy(dst + 32, src + 32, 16);
        memcpy(dst + 16, src + 16, 16);
        memcpy(dst, src, 16);
        s = tw_cksum_chain(s, src, 8, 0);
        src += 64;
        dst += 64;
        if (len == 128) {
            memcpy(dst + 48, src + 48, 16);
            memcpy(dst + 32, src + 32, 16);
            memcpy(dst + 16, src + 16, 16);
            memcpy(dst, src, 16);
            return tw_cksum_chain(s, src, 8, 0);
        }
    }
    if (len & 32) {
        memcpy(dst + 16, src + 16, 16);
        memcpy(dst, src, 16);
        s = tw_cksum_chain(s, src, 4, 0);
        src += 32;
        dst += 32;
    }
    if (len & 16) {
        memcpy(dst, src, 16);
        s = tw_cksum_chain(s, src, 2, 0);
        src += 16;
        dst += 16;
    }
    if (len & 8) {
        uint64_t w = tw_cksum_load64(src);
        memcpy(dst, &w, 8);
        s = tw_cksum_add64(s, w);
        src += 8;
        dst += 8;
    }
    if (len & 4) {
        uint32_t w;
        memcpy(&w, src, 4);
        memcpy(dst, &w, 4);
        s = tw_cksum_add64(s, w);
    }
    return s;
}

/* tw_cksum_copy_short with three more words joined to the payload's carry chain: the
   sum of `a`, the payload, the 8-byte words stored at base + ob and base + oc (constant
   offsets, each word within base's first 64 bytes) and `last` (at most 2^64 - 2, added
   last: one add of the last carry ends the chain, tw_cksum_chain's rule). For a sender's
   header words (tcp_out.c emit_plain_body, base its packet): one chain where the
   payload's and the header's took two, each closed by its own adds of the carry. */
static inline __attribute__((always_inline)) uint64_t
tw_cksum_copy_short_words(uint8_t *dst, const uint8_t *src, uint32_t len, uint64_t a,
                          const uint8_t *base, uint32_t ob, uint32_t oc, uint64_t last)
{
    return tw_cksum_copy_short_in(dst, src, len, a, base, ob, oc, last, 2, true);
}

/* tw_cksum_copy_short_words with one header word, at base + ob (a sender's header
   without options: tcp_out.c emit_plain_body). */
static inline __attribute__((always_inline)) uint64_t
tw_cksum_copy_short_word(uint8_t *dst, const uint8_t *src, uint32_t len, uint64_t a,
                         const uint8_t *base, uint32_t ob, uint64_t last)
{
    return tw_cksum_copy_short_in(dst, src, len, a, base, ob, ob, last, 1, true);
}

/* tw_cksum_copy_short_words without the copy: the payload summed where it lies (a send
   ring's first write, whose headers are built in the ring's room in front of it:
   tcp_out.c emit_plain_body's SEG_FRONT). */
static inline __attribute__((always_inline)) uint64_t
tw_cksum_short_words(const uint8_t *src, uint32_t len, uint64_t a, const uint8_t *base,
                     uint32_t ob, uint32_t oc, uint64_t last)
{
    return tw_cksum_copy_short_in(NULL, src, len, a, base, ob, oc, last, 2, false);
}
/* tw_cksum_short_words with one header word (no options). */
static inline __attribute__((always_inline)) uint64_t
tw_cksum_short_word(const uint8_t *src, uint32_t len, uint64_t a, const uint8_t *base,
                    uint32_t ob, uint64_t last)
{
    return tw_cksum_copy_short_in(NULL, src, len, a, base, ob, ob, last, 1, false);
}

/* Swap the bytes of each 16-bit half: turns a sum of words in one byte order into the
   sum of the same words in the other (RFC 1071 2(B)). */
static inline uint32_t tw_cksum_swap_lanes(uint32_t s)
{
    return ((s & 0x00ff00ffu) << 8) | ((s >> 8) & 0x00ff00ffu);
}

/* A partial sum as a native sum, to start or join one. */
static inline uint64_t tw_cksum_to_native(uint32_t partial)
{
    return tw_cksum_little_endian() ? tw_cksum_swap_lanes(partial) : partial;
}

/* A native sum as a partial sum (folded). */
static inline uint32_t tw_cksum_from_native(uint64_t native)
{
    uint32_t f = tw_cksum_fold(native);
    return tw_cksum_little_endian() ? tw_cksum_swap_lanes(f) : f;
}

/* A 16-bit big-endian field's share of a native sum (a pseudo-header's protocol and
   length), from its value: on a little-endian host its two bytes are swapped in the
   native word, and a swapped 16-bit value is the value times 256 modulo 0xffff
   (2^16 = 1 modulo 0xffff), so a shift left by 8 rather than a swap. */
static inline uint64_t tw_cksum_be16_native(uint32_t v)
{
    return tw_cksum_little_endian() ? (uint64_t)v << 8 : v;
}

/* A native sum of at most 2^33 (two 32-bit words) made a congruent one (mod 0xffff, RFC
   1071's arithmetic: 2^16 is 1) under 2^18: its upper bits added to its low 16, no
   carry to take around. */
static inline uint32_t tw_cksum_fold18(uint64_t s)
{
    assert(s <= (1ull << 33));
    return (uint32_t)(s >> 16) + (uint32_t)(s & 0xffffu);
}

/* a + b in 32 bits with the carry out taken around (RFC 1071 2(C)): a sum congruent to
   theirs (mod 0xffff). An add and an adc on x86-64 GCC/clang (asm: for a constant b GCC
   made a compare, a flag set and two adds of it). */
static inline uint32_t tw_cksum_add32(uint32_t a, uint32_t b)
{
#if TW_ASM_X86
    __asm__("addl %1, %0\n\tadcl $0, %0" : "+r"(a) : "ri"(b) : "cc");
    return a;
#else
    uint32_t s = a + b;
    return s + (s < b);
#endif
}

/* tw_cksum_fin64_after for a sum known to fit in 32 bits (a folded sum plus a few
   16-bit words): no fold of the upper half. */
static inline uint32_t tw_cksum_fin32_after(uint32_t s, uint16_t first)
{
    if (tw_cksum_little_endian()) {
        uint32_t w = ~(s + ((s >> 16) | (s << 16)));
        memcpy(&w, &first, 2); /* as in tw_cksum_fin64_after */
        return w;
    }
    return (uint32_t)first << 16 | tw_cksum_fin(s);
}

/* The 32-bit word to store as it lies for the 16 bits `first` (as they lie) followed by
   tw_cksum_fin64(s) (an IPv4 header's TTL and protocol, then its checksum). On a
   little-endian host the fold leaves the complemented sum in the upper half, where the
   checksum goes, and `first` replaces the lower half: one 16-bit move, where the
   checksum's shift down and back up (or a mask) and an or of `first` took two. */
static inline uint32_t tw_cksum_fin64_after(uint64_t s, uint16_t first)
{
    if (tw_cksum_little_endian()) {
        s += (s >> 32) | (s << 32);
        uint32_t t = (uint32_t)(s >> 32);
        t += (t >> 16) | (t << 16);
        uint32_t w = ~t;
        memcpy(&w, &first, 2); /* the lower half: the first two bytes as they lie */
        return w;
    }
    return (uint32_t)first << 16 | tw_cksum_fin64(s);
}

/* The 32-bit word to store as it lies for a 16-bit checksum `ck` (a native value,
   tw_cksum_fin64 of a native sum: already in network order in memory) followed by the
   16-bit big-endian value `next` (a TCP checksum and urgent pointer). */
static inline uint32_t tw_cksum_native_word16(uint32_t ck, uint16_t next)
{
    uint32_t n = tw_cksum_little_endian() ? (uint32_t)(uint16_t)(next << 8 | next >> 8) : next;
    return tw_cksum_little_endian() ? (n << 16 | ck) : (ck << 16 | n);
}

/* Receiver's check (RFC 1071 1(4)): the sum over everything, checksum field included,
   is all ones in either byte order. */
static inline bool tw_cksum_native_ok(uint64_t native)
{
    return tw_cksum_fold(native) == 0xffffu;
}

/* tw_cksum_native_ok for a sum known to be nonzero -- one that covers a nonzero byte
   (an IPv4 header's version, a pseudo-header's protocol): with end-around carries such
   a sum never becomes 0, and it folds to all ones exactly when it is a multiple of
   0xffff (2^16 = 1 modulo 0xffff, RFC 1071 2(C)). For the odd 0xffff that is x times
   its inverse modulo 2^64 at most (2^64 - 1) / 0xffff (Granlund and Montgomery's
   divisibility test): a multiply and a compare in place of the two folds. (0 passes
   this test and fails tw_cksum_native_ok: hence the condition.) */
static inline bool tw_cksum_native_ok_nz(uint64_t native)
{
#if TW_ASM_X86
    /* The two constants read from memory by the multiply and the compare themselves,
       and the caller's branch taken by the asm's own jump: GCC otherwise loads each
       constant into a register first (two 10-byte moves) at every check, and with a
       flag output ("=@ccbe") stored the flag as well (measured: lifecycle -27 instr,
       6,719 -> 6,692; the flag output -8). (volatile: GCC 12 deletes an asm goto whose
       output is unused, as here) */
    static const uint64_t inv = UINT64_C(0xfffefffefffeffff), lim = UINT64_C(0x0001000100010001);
    __asm__ volatile goto("imulq %[inv], %[x]\n\tcmpq %[lim], %[x]\n\tja %l[bad]"
                 : [x] "+r"(native)
                 : [inv] "m"(inv), [lim] "m"(lim)
                 : "cc"
                 : bad);
    return true;
bad:
    return false;
#else
    return native * UINT64_C(0xfffefffefffeffff) <= UINT64_C(0x0001000100010001);
#endif
}

/* Store the checksum of a native sum into the 2-byte field at `field` (already in
   network order once written as it lies). */
static inline void tw_cksum_native_store(uint8_t *field, uint64_t native)
{
    uint16_t c = (uint16_t)~tw_cksum_fold(native);
    memcpy(field, &c, 2);
}

/* Native sum of `n4` 32-bit words at `p` (any alignment) added to `acc`: headers with
   options are whole words, and too short for the block loop to pay. */
static inline uint64_t tw_cksum_native_words(uint64_t acc, const uint8_t *p, size_t n4)
{
    /* Summed apart and joined to `acc` at the end (the order does not matter, RFC 1071
       2(B)): a caller's running sum that lives long, and may live in memory, then costs
       one add here, and the words' sum a register of its own for its short life. */
    uint64_t s = 0;
    if (n4 & 1) {
        uint32_t w;
        memcpy(&w, p, 4);
        s = w;
        p += 4;
    }
    size_t n8 = n4 / 2;
    for (; n8 > 7; n8--, p += 8) {
        s = tw_cksum_add64(s, tw_cksum_load64(p));
    }
    /* A header has at most 7 eight-byte words: straight-line adds entered by one jump,
       cheaper than a loop for 20-60 bytes. */
    switch (n8) {
    case 7:
        s = tw_cksum_add64(s, tw_cksum_load64(p + 48));
        /* fallthrough */
    case 6:
        s = tw_cksum_add64(s, tw_cksum_load64(p + 40));
        /* fallthrough */
    case 5:
        s = tw_cksum_add64(s, tw_cksum_load64(p + 32));
        /* fallthrough */
    case 4:
        s = tw_cksum_add64(s, tw_cksum_load64(p + 24));
        /* fallthrough */
    case 3:
        s = tw_cksum_add64(s, tw_cksum_load64(p + 16));
        /* fallthrough */
    case 2:
        s = tw_cksum_add64(s, tw_cksum_load64(p + 8));
        /* fallthrough */
    case 1:
        s = tw_cksum_add64(s, tw_cksum_load64(p));
        /* fallthrough */
    default:
        break;
    }
    return tw_cksum_add64(acc, s);
}

/* The native sum of `first`, the `n4` 32-bit words at `p` and `last` (at most 2^64 - 2:
   a pseudo-header's length and protocol), in one carry chain (tw_cksum_chain): a TCP
   header with its pseudo-header, for a constant n4 (inline, straight-line: one adc a
   word). */
static inline __attribute__((always_inline)) uint64_t
tw_cksum_words_chain(uint64_t first, const uint8_t *p, size_t n4, uint64_t last)
{
    uint64_t s = first;
    if (n4 & 1) {
        uint32_t w;
        memcpy(&w, p, 4);
        s = tw_cksum_add64(s, w);
        p += 4;
    }
    assert(n4 <= 15);
    return tw_cksum_chain(s, p, (unsigned)(n4 / 2), last);
}

/* tw_cksum_native for a payload that may be short: up to 124 bytes in whole 32-bit words
   (a request or an answer: the bits of len from 64 down, so the bound costs what 64's
   did) straight-line, inline; the rest through tw_cksum_native, whose block loop costs
   more to set up than 31 adds. */
static inline __attribute__((always_inline)) uint64_t tw_cksum_native_short(uint64_t acc, const uint8_t *p, size_t len)
{
    if (len <= 124 && (len & 3) == 0) {
        /* By the bits of len, each group of 8-byte words one carry chain from `s`
           (tw_cksum_chain, its last word 0); no jump into straight-line code, where the
           carry would have to be kept in a register. */
        uint64_t s = acc;
        if (len & 64) {
            s = tw_cksum_chain(s, p, 8, 0);
            p += 64;
        }
        if (len & 32) {
            s = tw_cksum_chain(s, p, 4, 0);
            p += 32;
        }
        if (len & 16) {
            s = tw_cksum_chain(s, p, 2, 0);
            p += 16;
        }
        if (len & 8) {
            s = tw_cksum_add64(s, tw_cksum_load64(p));
            p += 8;
        }
        if (len & 4) {
            uint32_t w;
            memcpy(&w, p, 4);
            s = tw_cksum_add64(s, w);
        }
        return s;
    }
    return tw_cksum_native(acc, p, len);
}

/* Native sum of a 20-byte IPv4 header without options (RFC 791 3.1), straight-line. */
static inline uint64_t tw_cksum_native_ip20(const uint8_t *p)
{
    uint64_t w0;
    uint32_t w2;
    memcpy(&w0, p, 8);
    memcpy(&w2, p + 16, 4);
    /* (one carry chain: the last word, 32 bits, ends it) */
    return tw_cksum_chain(w0, p + 8, 1, w2);
}

#endif
