/*
 * copy.c -- bulk copies for the socket buffers (copy.h).
 *
 * Why not memcpy alone: with every data byte copied twice by the stack (into the send
 * ring, out of the receive ring) libc's copy was about a quarter of a bulk transfer's
 * instructions. Its loop for these sizes moves four 32-byte vectors a turn with its own
 * pointer and count steps (about 0.11 instructions a byte); eight vectors a turn with
 * one index take about 0.08. Chosen at run time like cksum.c's loops: one binary runs
 * anywhere, and the portable form is memcpy itself.
 */
#include "core/arch.h"
#include "core/copy.h"
#include "core/cksum.h"

void tw_copy_portable(void *dst, const void *src, size_t len)
{
    memcpy(dst, src, len);
}

#if TW_ASM_X86
typedef uint8_t tw_v32u8 __attribute__((vector_size(32)));

static inline __attribute__((target("avx2"), always_inline)) void copy32(uint8_t *d,
                                                                        const uint8_t *s)
{
    tw_v32u8 v;
    memcpy(&v, s, 32);
    memcpy(d, &v, 32);
}

/* Eight vectors at a time: all loads, then all stores (the compilers keep them in
   eight registers). */
static inline __attribute__((target("avx2"), always_inline)) void copy256(uint8_t *d,
                                                                         const uint8_t *s)
{
    tw_v32u8 x0, x1, x2, x3, x4, x5, x6, x7;
    memcpy(&x0, s, 32);
    memcpy(&x1, s + 32, 32);
    memcpy(&x2, s + 64, 32);
    memcpy(&x3, s + 96, 32);
    memcpy(&x4, s + 128, 32);
    memcpy(&x5, s + 160, 32);
    memcpy(&x6, s + 192, 32);
    memcpy(&x7, s + 224, 32);
    memcpy(d, &x0, 32);
    memcpy(d + 32, &x1, 32);
    memcpy(d + 64, &x2, 32);
    memcpy(d + 96, &x3, 32);
    memcpy(d + 128, &x4, 32);
    memcpy(d + 160, &x5, 32);
    memcpy(d + 192, &x6, 32);
    memcpy(d + 224, &x7, 32);
}

/* 512 bytes a turn (the loop's pointer steps and branch spread over sixteen vectors),
   then 8, 4, 2 and 1 vectors by the bits of what is left, then the last 32 bytes again
   (overlapping what is copied already: no byte loop) when the length is not a multiple
   of 32; below 32 bytes, memcpy. */
__attribute__((target("avx2"), noinline)) void tw_copy_avx2(void *dst, const void *src,
                                                            size_t len)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (len < 32) {
        memcpy(d, s, len);
        return;
    }
    const uint8_t *se = s + (len & ~(size_t)511);
    for (; s != se; s += 512, d += 512) {
        copy256(d, s);
        copy256(d + 256, s + 256);
    }
    size_t rest = len & 511;
    if (rest & 256) {
        copy256(d, s);
        s += 256;
        d += 256;
    }
    if (rest & 128) {
        copy32(d, s);
        copy32(d + 32, s + 32);
        copy32(d + 64, s + 64);
        copy32(d + 96, s + 96);
        s += 128;
        d += 128;
    }
    if (rest & 64) {
        copy32(d, s);
        copy32(d + 32, s + 32);
        s += 64;
        d += 64;
    }
    if (rest & 32) {
        copy32(d, s);
        s += 32;
        d += 32;
    }
    if (rest & 31) {
        copy32(d + (rest & 31) - 32, s + (rest & 31) - 32);
    }
}
#endif

void tw_copy_big(void *dst, const void *src, size_t len)
{
#if TW_ASM_X86
    /* The CPU model test tw_cksum_native makes (see there). */
    if (__builtin_cpu_supports("avx2")) {
        tw_copy_avx2(dst, src, len);
        return;
    }
#endif
    memcpy(dst, src, len);
}
