/*
 * cksum.c -- Internet checksum (RFC 1071) over a block of bytes.
 *
 * Hot path: every data segment is summed twice (sender, receiver). The bytes are added as
 * native-endian 64-bit words with end-around carry (see cksum.h for why byte order does
 * not matter), folded to 16 bits once at the end. On x86-64 with AVX2 the 64-byte blocks
 * go through a vector loop instead (tw_cksum_native_avx2); same sum.
 */
#include "core/arch.h"
#include "core/cksum.h"

#include <string.h>

/* Whole 64-byte blocks, the bulk of a data segment. Eight chains: compilers keep each
   add as add + adc only when an accumulator takes one word per iteration, and eight
   independent chains keep the adds in parallel. Out of line so short packets do not pay
   for saving the registers it needs. */
__attribute__((noinline)) static uint64_t blocks_portable(uint64_t acc, const uint8_t *p,
                                                          size_t nblocks)
{
    uint64_t a = acc, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0;
    /* Two blocks a turn halve the loop overhead (both GCC and clang honour this). */
#pragma GCC unroll 2
    for (size_t i = 0; i < nblocks; i++, p += 64) {
        a = tw_cksum_add64(a, tw_cksum_load64(p));
        b = tw_cksum_add64(b, tw_cksum_load64(p + 8));
        c = tw_cksum_add64(c, tw_cksum_load64(p + 16));
        d = tw_cksum_add64(d, tw_cksum_load64(p + 24));
        e = tw_cksum_add64(e, tw_cksum_load64(p + 32));
        f = tw_cksum_add64(f, tw_cksum_load64(p + 40));
        g = tw_cksum_add64(g, tw_cksum_load64(p + 48));
        h = tw_cksum_add64(h, tw_cksum_load64(p + 56));
    }
    a = tw_cksum_add64(a, b);
    c = tw_cksum_add64(c, d);
    e = tw_cksum_add64(e, f);
    g = tw_cksum_add64(g, h);
    return tw_cksum_add64(tw_cksum_add64(a, c), tw_cksum_add64(e, g));
}

/* The last len % 64 bytes in 32/16/8/4/2/1-byte steps: packets of 40-100 bytes cost no
   loop. Inline in each loop's function (AVX2 ones included: plain x86-64 code). */
static inline __attribute__((always_inline)) uint64_t sum_tail(uint64_t acc, const uint8_t *p,
                                                               size_t len)
{
    uint64_t a = acc, b = 0;
    if (len & 32) {
        a = tw_cksum_add64(a, tw_cksum_load64(p));
        b = tw_cksum_add64(b, tw_cksum_load64(p + 8));
        a = tw_cksum_add64(a, tw_cksum_load64(p + 16));
        b = tw_cksum_add64(b, tw_cksum_load64(p + 24));
        p += 32;
    }
    if (len & 16) {
        a = tw_cksum_add64(a, tw_cksum_load64(p));
        b = tw_cksum_add64(b, tw_cksum_load64(p + 8));
        p += 16;
    }
    if (len & 8) {
        a = tw_cksum_add64(a, tw_cksum_load64(p));
        p += 8;
    }
    if (len & 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        b = tw_cksum_add64(b, w);
        p += 4;
    }
    if (len & 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        a = tw_cksum_add64(a, w);
        p += 2;
    }
    if (len & 1) {
        /* The last byte sits at an even offset: the first byte of a word whose second
           byte is zero padding (RFC 1071 1(2)). Build that word in memory order. */
        uint8_t last[2] = {p[0], 0};
        uint16_t w;
        memcpy(&w, last, 2);
        b = tw_cksum_add64(b, w);
    }
    return tw_cksum_add64(a, b);
}

/* Blocks by the portable loop, then the tail. */
static inline __attribute__((always_inline)) uint64_t native_portable(uint64_t acc,
                                                                      const uint8_t *p,
                                                                      size_t len)
{
    if (len >= 64) {
        acc = blocks_portable(acc, p, len / 64);
        p += len & ~(size_t)63;
    }
    return sum_tail(acc, p, len);
}

uint64_t tw_cksum_native_portable(uint64_t acc, const uint8_t *p, size_t len)
{
    return native_portable(acc, p, len);
}

#if TW_ASM_X86
/* The same sums with AVX2, for x86-64 builds by GCC or clang; every other build has the
   portable loop only. Why: the two checksum passes were about 30% of a bulk transfer's
   instructions, and 32 bytes a step need about half the instructions of the 64-bit
   add-with-carry chains (0.16 against 0.31 per byte). AVX2 rather than AVX-512: valgrind, which measures the
   instruction figures, runs AVX2 but not AVX-512; and SSE2's 16 bytes a step did not beat
   the scalar loop. Chosen at run time (tw_cksum_have_avx2), so one binary runs anywhere;
   the sum is the same whichever loop runs (RFC 1071 needs only the words' total, and the
   unit tests compare both loops with a byte-at-a-time reference). Written with the
   compilers' vector extensions, no intrinsics header.

   Three instructions a vector: VPMADDWD against ones adds each pair of 16-bit words into
   a 32-bit lane, but reads the words as signed. So each word is first XORed with 0x8000
   (the XOR takes the load as its operand where nothing else needs the vector): it then
   reads as w - 32768, a lane gets (w0 - 32768) + (w1 - 32768), and the run's total is the
   lanes' signed sum plus 32768 for each of its words. A vector adds at most 2^16 in
   magnitude to a lane, so the eight lanes' total stays within [-2^31, 2^31) for up to
   4095 vectors, and sums in 32 bits at the end (half the instructions of widening the
   lanes first): a call sums at most 2048 vectors and the tail's (64 KiB: an IPv4 packet's
   payload is less), longer blocks go in runs of that. The builtin is the
   one behind _mm256_madd_epi16 in both GCC and clang (no intrinsics header: the core
   includes only C standard headers).

   Per call, what is not whole vectors costs more than the vectors of a 1448-byte segment
   would suggest, so: eight vectors a turn, the last 0-7 vectors by one jump into
   straight-line code, and the last len % 32 bytes (for an even length) as the packet's
   last 32 bytes with the ones summed already masked to zero (a masked word adds nothing,
   its bias is added back like the others'). An odd length has its last byte at an odd
   offset from that load, so it keeps the scalar tail. */
typedef int16_t tw_v16i16 __attribute__((vector_size(32)));
typedef int32_t tw_v8i32 __attribute__((vector_size(32)));

#define RUN_VECS 2048u

/* 32 zero bytes, then 32 of 0xff: the 32 bytes at tail_keep + r keep a vector's last r
   bytes. */
static const uint8_t tail_keep[64] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static inline __attribute__((target("avx2"), always_inline)) tw_v16i16 load_v(const uint8_t *p)
{
    tw_v16i16 v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline __attribute__((target("avx2"), always_inline)) void store_v(uint8_t *p, tw_v16i16 v)
{
    memcpy(p, &v, sizeof(v));
}

/* The two constants, loaded once per call from here (volatile, so that they stay loads):
   as constants, GCC builds them again in every straight-line step after the loop (six
   instructions a vector there). */
static const tw_v16i16 madd_k[2] = {
    {INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN,
     INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN},
    {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}};

#define madd_biased(x) __builtin_ia32_pmaddwd256((x) ^ bias, ones)

/* The last `rem` (1-31) bytes of the 32 in `last`, the 32 - rem before them masked out. */
#define madd_tail(last, rem) madd_biased((last) & load_v(tail_keep + (rem)))

/* A run's lanes as signed values, summed (in 32 bits: see above) and returned as a 64-bit
   two's complement value (wrapping: the run's total with its bias added back is what is
   left). */
static inline __attribute__((target("avx2"), always_inline)) uint64_t lanes_total(tw_v8i32 s)
{
    /* Unsigned 32-bit adds (wrapping, so the compilers keep them 32 bits wide), then the
       sign: GCC and clang convert out-of-range values to int32_t modulo 2^32. */
    typedef uint32_t tw_v8u32 __attribute__((vector_size(32)));
    tw_v8u32 u = (tw_v8u32)s;
    uint32_t t = 0;
    for (int i = 0; i < 8; i++) {
        t += u[i];
    }
    return (uint64_t)(int64_t)(int32_t)t;
}

/* Packets of more than RUN_VECS vectors (never an IPv4 one) in runs of that many: the
   per-packet function below then keeps a single run's state. */
__attribute__((target("avx2"), noinline, cold)) static uint64_t
native_long(uint64_t acc, const uint8_t *p, size_t len)
{
    for (; len > RUN_VECS * 32u; len -= RUN_VECS * 32u, p += RUN_VECS * 32u) {
        acc = tw_cksum_native_avx2(acc, p, RUN_VECS * 32u);
    }
    return tw_cksum_native_avx2(acc, p, len);
}

__attribute__((target("avx2"), noinline)) uint64_t tw_cksum_native_avx2(uint64_t acc,
                                                                       const uint8_t *p,
                                                                       size_t len)
{
    if (len > RUN_VECS * 32u) {
        return native_long(acc, p, len);
    }
    if (len < 32) {
        return sum_tail(acc, p, len);
    }
    const volatile tw_v16i16 *k = madd_k;
    tw_v16i16 bias = k[0], ones = k[1];
    size_t n = len / 32;
    /* 32768 for each of the 16 * n words, added back below. */
    uint64_t t = (uint64_t)n << 19;
    tw_v8i32 s = {0};
    for (; n >= 8; n -= 8, p += 256) {
        s += ((madd_biased(load_v(p)) + madd_biased(load_v(p + 32))) +
              (madd_biased(load_v(p + 64)) + madd_biased(load_v(p + 96)))) +
             ((madd_biased(load_v(p + 128)) + madd_biased(load_v(p + 160))) +
              (madd_biased(load_v(p + 192)) + madd_biased(load_v(p + 224))));
    }
    switch (n) {
    case 7:
        s += madd_biased(load_v(p + 192));
        /* fallthrough */
    case 6:
        s += madd_biased(load_v(p + 160));
        /* fallthrough */
    case 5:
        s += madd_biased(load_v(p + 128));
        /* fallthrough */
    case 4:
        s += madd_biased(load_v(p + 96));
        /* fallthrough */
    case 3:
        s += madd_biased(load_v(p + 64));
        /* fallthrough */
    case 2:
        s += madd_biased(load_v(p + 32));
        /* fallthrough */
    case 1:
        s += madd_biased(load_v(p));
        /* fallthrough */
    default:
        break;
    }
    p += n * 32;
    size_t rem = len & 31;
    if (rem && !(len & 1)) {
        s += madd_tail(load_v(p + rem - 32), rem);
        t += (uint64_t)1 << 19;
        rem = 0;
    }
    acc = tw_cksum_add64(acc, t + lanes_total(s));
    return rem ? sum_tail(acc, p, rem) : acc;
}

/* One vector copied and summed (the copy's turn below, and its straight-line rest). */
#define COPY_SUM(off)                                                                      \
    do {                                                                                   \
        tw_v16i16 x_ = load_v(src + (off));                                                \
        store_v(dst + (off), x_);                                                          \
        s += madd_biased(x_);                                                              \
    } while (0)

/* The same with a copy to `dst` (no overlap) in the same pass, 32 bytes a step: the
   receive path's copy into the ring and its checksum cost five instructions a vector
   instead of two for the copy and three for the sum over it, with one loop's overheads.
   The last len % 32 bytes are copied as the last 32 (overlapping bytes copied already:
   no byte loop). */
__attribute__((target("avx2"), noinline, cold)) static uint64_t
copy_long(uint64_t acc, uint8_t *dst, const uint8_t *src, size_t len)
{
    for (; len > RUN_VECS * 32u; len -= RUN_VECS * 32u, src += RUN_VECS * 32u, dst += RUN_VECS * 32u) {
        acc = tw_cksum_copy_native_avx2(acc, dst, src, RUN_VECS * 32u);
    }
    return tw_cksum_copy_native_avx2(acc, dst, src, len);
}

__attribute__((target("avx2"), noinline)) uint64_t
tw_cksum_copy_native_avx2(uint64_t acc, uint8_t *dst, const uint8_t *src, size_t len)
{
    if (len > RUN_VECS * 32u) {
        return copy_long(acc, dst, src, len);
    }
    if (len < 32) {
        /* Two copies of a fixed size that may overlap (no call), then the sum of the copy. */
        if (len >= 16) {
            memcpy(dst, src, 16);
            memcpy(dst + len - 16, src + len - 16, 16);
        } else if (len >= 8) {
            memcpy(dst, src, 8);
            memcpy(dst + len - 8, src + len - 8, 8);
        } else if (len >= 4) {
            memcpy(dst, src, 4);
            memcpy(dst + len - 4, src + len - 4, 4);
        } else {
            for (size_t i = 0; i < len; i++) {
                dst[i] = src[i];
            }
        }
        return sum_tail(acc, dst, len);
    }
    const volatile tw_v16i16 *k = madd_k;
    tw_v16i16 bias = k[0], ones = k[1];
    size_t n = len / 32;
    uint64_t t = (uint64_t)n << 19; /* the bias, as in tw_cksum_native_avx2 */
    tw_v8i32 s = {0};
    for (; n >= 8; n -= 8, src += 256, dst += 256) {
        tw_v16i16 x0 = load_v(src), x1 = load_v(src + 32), x2 = load_v(src + 64),
                  x3 = load_v(src + 96), x4 = load_v(src + 128), x5 = load_v(src + 160),
                  x6 = load_v(src + 192), x7 = load_v(src + 224);
        store_v(dst, x0);
        store_v(dst + 32, x1);
        store_v(dst + 64, x2);
        store_v(dst + 96, x3);
        store_v(dst + 128, x4);
        store_v(dst + 160, x5);
        store_v(dst + 192, x6);
        store_v(dst + 224, x7);
        s += ((madd_biased(x0) + madd_biased(x1)) + (madd_biased(x2) + madd_biased(x3))) +
             ((madd_biased(x4) + madd_biased(x5)) + (madd_biased(x6) + madd_biased(x7)));
    }
    switch (n) {
    case 7:
        COPY_SUM(192);
        /* fallthrough */
    case 6:
        COPY_SUM(160);
        /* fallthrough */
    case 5:
        COPY_SUM(128);
        /* fallthrough */
    case 4:
        COPY_SUM(96);
        /* fallthrough */
    case 3:
        COPY_SUM(64);
        /* fallthrough */
    case 2:
        COPY_SUM(32);
        /* fallthrough */
    case 1:
        COPY_SUM(0);
        /* fallthrough */
    default:
        break;
    }
    src += n * 32;
    dst += n * 32;
    size_t rem = len & 31;
    if (rem) {
        tw_v16i16 last = load_v(src + rem - 32);
        store_v(dst + rem - 32, last);
        if (!(len & 1)) {
            s += madd_tail(last, rem);
            t += (uint64_t)1 << 19;
            rem = 0;
        }
    }
    acc = tw_cksum_add64(acc, t + lanes_total(s));
    return rem ? sum_tail(acc, dst, rem) : acc;
}

#undef COPY_SUM
#undef madd_tail
#undef madd_biased

bool tw_cksum_have_avx2(void)
{
    return __builtin_cpu_supports("avx2");
}

#else
bool tw_cksum_have_avx2(void)
{
    return false;
}

#endif

uint64_t tw_cksum_native(uint64_t acc, const uint8_t *p, size_t len)
{
#if TW_ASM_X86
    /* A load and a test of the toolchain's CPU model, filled in by a constructor before
       main (called earlier than that, it says no: the portable loop runs, same sum). */
    if (len >= 64 && __builtin_cpu_supports("avx2")) {
        return tw_cksum_native_avx2(acc, p, len);
    }
#endif
    /* A call (a jump), not the inline form: this function then needs no frame of its
       own, which compilers would otherwise set up before the test above. */
    return tw_cksum_native_portable(acc, p, len);
}

uint32_t tw_cksum_add(uint32_t sum, const uint8_t *p, size_t len, int odd)
{
    /* A native sum has each word's bytes swapped against network order on a
       little-endian host; a block at an odd offset has them swapped once more
       (RFC 1071 2(B)). Swap the sum in and the folded result out when they differ. */
    if (tw_cksum_little_endian() != (odd != 0)) {
        uint32_t f = tw_cksum_fold(tw_cksum_native(tw_cksum_swap_lanes(sum), p, len));
        return tw_cksum_swap_lanes(f);
    }
    return tw_cksum_fold(tw_cksum_native(sum, p, len));
}

/* Copy first and sum the copy (hot in cache) where there is no vector loop: in a
   micro-benchmark a fused scalar load/store/add loop took 0.36 more instructions per
   byte than libc's copy and the scalar sum, and was no faster. */
uint64_t tw_cksum_copy_native_portable(uint64_t acc, uint8_t *dst, const uint8_t *src,
                                       size_t len)
{
    memcpy(dst, src, len);
    return native_portable(acc, dst, len);
}

uint64_t tw_cksum_copy_native(uint64_t acc, uint8_t *dst, const uint8_t *src, size_t len)
{
#if TW_ASM_X86
    if (len >= 32 && __builtin_cpu_supports("avx2")) {
        return tw_cksum_copy_native_avx2(acc, dst, src, len);
    }
#endif
    return tw_cksum_copy_native_portable(acc, dst, src, len);
}
