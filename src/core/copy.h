/*
 * copy.h -- the socket buffers' bulk copies (application to send ring, receive ring to
 * application), with an AVX2 loop chosen at run time like cksum.h's.
 */
#ifndef TW_CORE_COPY_H
#define TW_CORE_COPY_H

#include "core/arch.h"
#include <stddef.h>
#include <string.h>

/* The forms behind tw_copy: libc's memcpy, and on x86-64 GCC/clang builds an AVX2 loop
   that only tw_cksum_have_avx2() machines may run (any length). Both are here for the
   unit tests, which compare them. */
void tw_copy_portable(void *dst, const void *src, size_t len);
#if TW_ASM_X86
void tw_copy_avx2(void *dst, const void *src, size_t len);
#endif
/* Copy `len` bytes from `src` to `dst` (no overlap), as memcpy does. */
void tw_copy_big(void *dst, const void *src, size_t len);
/* 16 bytes through one 16-byte value: compilers make it one unaligned load and store. */
static inline void tw_copy16(unsigned char *d, const unsigned char *s)
{
    unsigned char v[16];
    memcpy(v, s, 16);
    memcpy(d, v, 16);
}

/* Short copies (headers, a few bytes) stay with memcpy, which compilers inline; from
   one vector loop's turn on, tw_copy_big. From 16 to 64 bytes (a request or answer of a
   small protocol, copied into the send ring and out of the receive ring), two or four
   16-byte moves in line, the last ones overlapping what the first ones copied, in place
   of a call to a memcpy of unknown length (measured: lifecycle -10 instr, bulk unchanged). */
static inline void tw_copy(void *dst, const void *src, size_t len)
{
    if (len >= 256) {
        tw_copy_big(dst, src, len);
    } else if (len - 16 <= 48) {
        unsigned char *d = dst;
        const unsigned char *s = src;
        /* (marked expected: GCC then puts the two middle moves in the way, jumped over
           for 16 to 32 bytes, rather than out of it behind a jump back, one more step
           for 33 to 64 bytes where a caller's copy was laid out so: send's; lifecycle
           -2 instr, 16 to 32 bytes unchanged) */
        if (__builtin_expect(len > 32, 1)) {
            tw_copy16(d + 16, s + 16);
            tw_copy16(d + len - 32, s + len - 32);
        }
        tw_copy16(d, s);
        tw_copy16(d + len - 16, s + len - 16);
    } else if (len - 65 <= 63) {
        /* 65 to 128 bytes (a request or answer a little longer) the same way, eight
           16-byte moves, where libc's memcpy of unknown length cost its call, its dispatch
           and as many moves (measured with 100-byte messages: lifecycle -24 instr, 73-byte
           -21; 64-byte unchanged) */
        unsigned char *d = dst;
        const unsigned char *s = src;
        tw_copy16(d, s);
        tw_copy16(d + 16, s + 16);
        tw_copy16(d + 32, s + 32);
        tw_copy16(d + 48, s + 48);
        tw_copy16(d + len - 64, s + len - 64);
        tw_copy16(d + len - 48, s + len - 48);
        tw_copy16(d + len - 32, s + len - 32);
        tw_copy16(d + len - 16, s + len - 16);
    } else {
        memcpy(dst, src, len);
    }
}

#if TW_ASM_X86
#define TW_COPY_WIDE 1
/* (the 64 bytes at each side as the asm's memory operands) */
typedef struct {
    unsigned char b[64];
} tw_copy_run;
/* tw_copy_wide_at(dst, off, src, len): tw_copy of 16 to 64 bytes to dst + off, for a
   machine with AVX2 only (the stack's copy_narrow clear: socket.c call_gate). From 33
   bytes on, two 32-byte moves, the second overlapping the first,
   where tw_copy made four 16-byte ones and a test more (the two middle moves'), then
   vzeroupper, as the code around it is SSE code that would otherwise pay for the upper
   halves; 16 to 32 bytes as tw_copy. (An asm: this file is not built for AVX, and a
   function built for it is not made in line.) The 64 bytes from each pointer as its
   memory operands: no more than those are read or written. `off`, a constant, is the
   stores' displacement, where the sum took a register and a step of its own (socket.c
   send_first_usual's write behind the headers' room; lifecycle -1 instr). */
#define tw_copy_wide_at(dst, off, src, len)                                                \
    do {                                                                                   \
        unsigned char *d_ = (unsigned char *)(dst);                                        \
        const unsigned char *s_ = (const unsigned char *)(src);                            \
        size_t n_ = (len);                                                                 \
        if (__builtin_expect(n_ > 32, 1)) {                                                \
            __asm__("vmovdqu (%[s]), %%ymm0\n\t"                                           \
                    "vmovdqu -32(%[s],%[n]), %%ymm1\n\t"                                   \
                    "vmovdqu %%ymm0, %c[o](%[d])\n\t"                                      \
                    "vmovdqu %%ymm1, %c[o]-32(%[d],%[n])\n\t"                              \
                    "vzeroupper"                                                           \
                    : "+m"(*(tw_copy_run *)(d_ + (off)))                                   \
                    : [d] "r"(d_), [o] "i"(off), [s] "r"(s_), [n] "r"(n_),                 \
                      "m"(*(const tw_copy_run *)s_)                                        \
                    : "xmm0", "xmm1");                                                     \
        } else {                                                                           \
            tw_copy16(d_ + (off), s_);                                                     \
            tw_copy16(d_ + (off) + n_ - 16, s_ + n_ - 16);                                 \
        }                                                                                  \
    } while (0)
/* tw_copy_wide_at for exactly 64 bytes: the two 32-byte moves at fixed displacements,
   with no register for the length (tcp_in.c's first answer, placed in its ring). */
#define tw_copy_wide64(dst, src)                                                           \
    do {                                                                                   \
        unsigned char *d_ = (unsigned char *)(dst);                                        \
        const unsigned char *s_ = (const unsigned char *)(src);                            \
        __asm__("vmovdqu (%[s]), %%ymm0\n\t"                                               \
                "vmovdqu 32(%[s]), %%ymm1\n\t"                                             \
                "vmovdqu %%ymm0, (%[d])\n\t"                                               \
                "vmovdqu %%ymm1, 32(%[d])\n\t"                                             \
                "vzeroupper"                                                               \
                : "=m"(*(tw_copy_run *)d_)                                                 \
                : [d] "r"(d_), [s] "r"(s_), "m"(*(const tw_copy_run *)s_)                  \
                : "xmm0", "xmm1");                                                         \
    } while (0)
/* tw_copy_wide_at with no offset. */
static inline __attribute__((always_inline)) void tw_copy_wide(void *dst, const void *src,
                                                               size_t len)
{
    tw_copy_wide_at(dst, 0, src, len);
}
#else
#define TW_COPY_WIDE 0
#endif

#endif
