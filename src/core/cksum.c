/*
 * cksum.c -- Internet checksum (RFC 1071) over a block of bytes.
 *
 * Hot path: every data segment is summed twice (sender, receiver). The bytes are added as
 * native-endian 64-bit words with end-around carry (see cksum.h for why byte order does
 * not matter), folded to 16 bits once at the end. On x86-64 with AVX2 the 64-byte blocks
 * go through a vector loop instead (tw_cksum_native_avx2); same sum.
 */
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

#if defined(__x86_64__) && defined(__GNUC__)
/* The same blocks with AVX2, for x86-64 builds by GCC or clang; every other build has the
   portable loop only. Why: the two checksum passes were about 30% of a bulk transfer's
   instructions, and 32 bytes a step need about half the instructions of the 64-bit
   add-with-carry chains (0.16 against 0.31 per byte). AVX2 rather than AVX-512: valgrind, which measures the
   instruction figures, runs AVX2 but not AVX-512; and SSE2's 16 bytes a step did not beat
   the scalar loop. Chosen at run time (tw_cksum_have_avx2), so one binary runs anywhere;
   the sum is the same whichever loop runs (RFC 1071 needs only the words' total, and the
   unit tests compare both loops with a byte-at-a-time reference).

   The copy-and-sum below: vectors of eight 32-bit lanes, each holding two native 16-bit
   words lo + hi * 2^16 (written with the compilers' vector extensions, no intrinsics
   header); the sum alone, tw_cksum_native_avx2, has a cheaper form (see there). Per
   vector x:
   all += x (mod 2^32) and hi += x >> 16, one instruction fewer than masking out lo as
   well. A lane's lo total is all - (hi << 16) mod 2^32,
   exact while lo + hi stays below 2^32: with at most 65535 per word that holds for
   32768 vectors a lane, so runs of 16384 blocks (1 MiB; an IPv4 packet is at most
   64 KiB) are reduced one at a time. */
typedef uint32_t tw_v8u32 __attribute__((vector_size(32)));

static inline __attribute__((target("avx2"), always_inline)) tw_v8u32 load_v8(const uint8_t *p)
{
    tw_v8u32 v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* Per lane lo + hi, below 2^32 (see above); the eight lanes sum in 64 bits. */
static inline __attribute__((target("avx2"), always_inline)) uint64_t lanes_sum(tw_v8u32 all,
                                                                              tw_v8u32 hi)
{
    tw_v8u32 s = all - (hi << 16) + hi;
    uint64_t t = 0;
    for (int i = 0; i < 8; i++) {
        t += s[i];
    }
    return t;
}

/* The sum alone (no copy) takes three instructions a vector instead of four: VPMADDWD
   against ones adds each pair of 16-bit words into a 32-bit lane, but reads the words
   as signed. So each word is first XORed with 0x8000 (the XOR takes the load as its
   operand): it then reads as w - 32768, a lane gets (w0 - 32768) + (w1 - 32768), and the
   run's total is the lanes' signed sum plus 32768 for each of its words. A lane's sum
   over a run stays within [-2^31, 2^31) for up to 32768 vectors, so the runs of 16384
   blocks stay as they are. The builtin is the one behind _mm256_madd_epi16 in both GCC
   and clang (no intrinsics header: the core includes only C standard headers). */
typedef int16_t tw_v16i16 __attribute__((vector_size(32)));
typedef int32_t tw_v8i32 __attribute__((vector_size(32)));

static inline __attribute__((target("avx2"), always_inline)) tw_v8u32 madd_biased(const uint8_t *p)
{
    const tw_v16i16 bias = {INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN,
                            INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN,
                            INT16_MIN, INT16_MIN, INT16_MIN, INT16_MIN};
    const tw_v16i16 ones = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    tw_v16i16 x;
    memcpy(&x, p, sizeof(x));
    return (tw_v8u32)__builtin_ia32_pmaddwd256(x ^ bias, ones);
}

__attribute__((target("avx2"), noinline)) uint64_t tw_cksum_native_avx2(uint64_t acc,
                                                                       const uint8_t *p,
                                                                       size_t len)
{
    size_t nblocks = len / 64;
    while (nblocks > 0) {
        size_t n = nblocks < 16384 ? nblocks : 16384;
        nblocks -= n;
        /* 32768 for each of the run's 32 * n words, added back below. */
        uint64_t t = (uint64_t)n << 20;
        tw_v8u32 s = {0}; /* lanes as two's complement 32-bit values (wrapping adds) */
        /* Four blocks (eight vectors) a turn: the loop's own add, compare and branch are
           spread over 256 bytes; then the last 0-3 blocks. */
        for (; n >= 4; n -= 4, p += 256) {
            s += ((madd_biased(p) + madd_biased(p + 32)) +
                  (madd_biased(p + 64) + madd_biased(p + 96))) +
                 ((madd_biased(p + 128) + madd_biased(p + 160)) +
                  (madd_biased(p + 192) + madd_biased(p + 224)));
        }
        for (; n > 0; n--, p += 64) {
            s += madd_biased(p) + madd_biased(p + 32);
        }
        tw_v8i32 si = (tw_v8i32)s;
        for (int i = 0; i < 8; i++) {
            t += (uint64_t)(int64_t)si[i];
        }
        acc = tw_cksum_add64(acc, t);
    }
    return sum_tail(acc, p, len);
}

/* The same with a copy to `dst` (no overlap) in the same pass, 32 bytes a step: the
   receive path's copy into the ring and its checksum cost about 0.19 instructions a
   byte instead of 0.28 for libc's copy and the loop above over the copy. Eight vectors a
   turn, then four, then one at a time. */
__attribute__((target("avx2"), noinline)) uint64_t
tw_cksum_copy_native_avx2(uint64_t acc, uint8_t *dst, const uint8_t *src, size_t len)
{
    size_t nvec = len / 32;
    while (nvec > 0) {
        size_t n = nvec < 32768 ? nvec : 32768;
        nvec -= n;
        tw_v8u32 all = {0}, hi = {0};
        for (; n >= 8; n -= 8, src += 256, dst += 256) {
            tw_v8u32 x0 = load_v8(src), x1 = load_v8(src + 32), x2 = load_v8(src + 64),
                     x3 = load_v8(src + 96), x4 = load_v8(src + 128), x5 = load_v8(src + 160),
                     x6 = load_v8(src + 192), x7 = load_v8(src + 224);
            memcpy(dst, &x0, 32);
            memcpy(dst + 32, &x1, 32);
            memcpy(dst + 64, &x2, 32);
            memcpy(dst + 96, &x3, 32);
            memcpy(dst + 128, &x4, 32);
            memcpy(dst + 160, &x5, 32);
            memcpy(dst + 192, &x6, 32);
            memcpy(dst + 224, &x7, 32);
            all += ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));
            hi += (((x0 >> 16) + (x1 >> 16)) + ((x2 >> 16) + (x3 >> 16))) +
                  (((x4 >> 16) + (x5 >> 16)) + ((x6 >> 16) + (x7 >> 16)));
        }
        if (n >= 4) {
            tw_v8u32 x0 = load_v8(src), x1 = load_v8(src + 32), x2 = load_v8(src + 64),
                     x3 = load_v8(src + 96);
            memcpy(dst, &x0, 32);
            memcpy(dst + 32, &x1, 32);
            memcpy(dst + 64, &x2, 32);
            memcpy(dst + 96, &x3, 32);
            all += (x0 + x1) + (x2 + x3);
            hi += ((x0 >> 16) + (x1 >> 16)) + ((x2 >> 16) + (x3 >> 16));
            n -= 4;
            src += 128;
            dst += 128;
        }
        for (; n > 0; n--, src += 32, dst += 32) {
            tw_v8u32 x0 = load_v8(src);
            memcpy(dst, &x0, 32);
            all += x0;
            hi += x0 >> 16;
        }
        acc = tw_cksum_add64(acc, lanes_sum(all, hi));
    }
    /* The last 0-31 bytes: two copies of a fixed size that may overlap (no call), then
       the sum of the copy. */
    len &= 31;
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
#if defined(__x86_64__) && defined(__GNUC__)
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
#if defined(__x86_64__) && defined(__GNUC__)
    if (len >= 32 && __builtin_cpu_supports("avx2")) {
        return tw_cksum_copy_native_avx2(acc, dst, src, len);
    }
#endif
    return tw_cksum_copy_native_portable(acc, dst, src, len);
}
