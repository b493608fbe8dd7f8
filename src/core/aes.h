/*
 * aes.h -- AES-128 encryption of one block (FIPS-197), the keyed PRF of RFC 6528 ISNs and
 * of the per-connection timestamp offsets (tcp_conn.c tw_tuple_hash).
 *
 * Why AES rather than SipHash for this one use: a connection set-up hashes its 4-tuple
 * twice (the client's ISN, the server's), and with the AES instructions (AES-NI, on every
 * x86-64 CPU of the last decade) a block is 11 round instructions, where SipHash-2-4 of
 * the same 12 bytes is about 90 instructions. AES-128 under a secret random key is a
 * pseudo-random permutation, which is the F() RFC 6528 3 asks for (a PRF on inputs that
 * never collide; our 16-byte blocks are distinct per 4-tuple).
 *
 * Machines without AES-NI (or builds for other CPUs) take the portable byte-wise code in
 * aes.c, which gives the same output bit for bit (tests/unit/test_aes.c), so a seeded run
 * does the same on any machine. That code reads an S-box table indexed by secret bytes:
 * it is not constant-time, a cache-timing channel to a local observer only, on those
 * machines only.
 */
#ifndef TW_CORE_AES_H
#define TW_CORE_AES_H

#include "core/arch.h"
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct tw_aes128 {
    /* The 11 round keys, in the byte order AES-NI reads them (FIPS-197 5.2's words as
       stored bytes). The instructions read them where they lie, which must then be
       16-aligned: the holder aligns the struct (stack.h isn_aes), and tw_aes128_init
       asks, taking the portable form where it is not. */
    uint8_t rk[176];
    bool ni; /* encrypt with AES-NI (chosen at tw_aes128_init) */
} tw_aes128;

/* Expand `key`; `use_ni` asks for the AES instructions, taken only where the CPU has them. */
void tw_aes128_init(tw_aes128 *a, const uint8_t key[16], bool use_ni);
/* Whether this CPU has the AES instructions (false off x86-64). */
bool tw_aes_have_ni(void);
/* One block, the portable way (also the reference the tests hold AES-NI to). */
void tw_aes128_encrypt_soft(const tw_aes128 *a, const uint8_t in[16], uint8_t out[16]);
/* One block with AES-NI; only where a->ni (asserted). */
void tw_aes128_encrypt_ni(const tw_aes128 *a, const uint8_t in[16], uint8_t out[16]);
/* tw_aes128_prf64 the portable way: out of line, for machines without AES-NI. */
uint64_t tw_aes128_prf64_soft(const tw_aes128 *a, uint64_t lo, uint64_t hi);

#if TW_ASM_X86
/* AES-128's ten rounds with AES-NI on the block in operand %[x], the round keys at
   operand %[rk] (16-aligned: the legacy encoding's memory operands ask it), for the
   asm statements here and in aes.c. */
#define TW_AES128_NI_ROUNDS                                                                        \
    "pxor (%[rk]), %[x]\n\t"                                                                       \
    "aesenc 16(%[rk]), %[x]\n\t"                                                                   \
    "aesenc 32(%[rk]), %[x]\n\t"                                                                   \
    "aesenc 48(%[rk]), %[x]\n\t"                                                                   \
    "aesenc 64(%[rk]), %[x]\n\t"                                                                   \
    "aesenc 80(%[rk]), %[x]\n\t"                                                                   \
    "aesenc 96(%[rk]), %[x]\n\t"                                                                   \
    "aesenc 112(%[rk]), %[x]\n\t"                                                                  \
    "aesenc 128(%[rk]), %[x]\n\t"                                                                  \
    "aesenc 144(%[rk]), %[x]\n\t"                                                                  \
    "aesenclast 160(%[rk]), %[x]\n\t"
#endif

/* tw_aes128_prf64 for a caller that found a->ni set (asserted): the AES-NI rounds with no
   test and no call, so that a caller with no other call on its way saves no register for
   the portable form's (socket.c connect). Off x86-64, where a->ni is never set
   (tw_aes_have_ni), the portable form. */
static inline __attribute__((always_inline)) uint64_t tw_aes128_prf64_ni(const tw_aes128 *a,
                                                                         uint64_t lo, uint64_t hi)
{
    assert(a->ni);
#if TW_ASM_X86
    typedef long long tw_aes_v2di __attribute__((vector_size(16)));
    typedef long long tw_aes_k __attribute__((vector_size(16), may_alias));
    tw_aes_v2di x;
    uint64_t out;
    /* (the assembler takes aesenc whatever -m flags the file has: no target attribute,
       and the instructions run only where tw_aes128_init found them) */
    /* (the block's first half taken from memory where it lies (connect's, st->isn_mid),
       its second put in with pinsrq (SSE4.1, which tw_aes_have_ni asks for too), and
       the round keys as memory operands at their offsets from the holder: the half's
       load, a second register's move and unpack, and the keys' address took three
       steps more; lifecycle -3 instr) */
    /* (`out` early-clobbered, so never the register of `hi`: GCC otherwise gave it that
       of the second half, rdx at the server's SYN, whose ISN timer's multiply then
       needed rdx and took a copy out of it first; measured: lifecycle -1 instr) */
    const tw_aes_k *k = (const tw_aes_k *)(const void *)a->rk;
    __asm__("movq %[lo], %[x]\n\t"
            "pinsrq $1, %[hi], %[x]\n\t"
            "pxor %[k0], %[x]\n\t"
            "aesenc %[k1], %[x]\n\t"
            "aesenc %[k2], %[x]\n\t"
            "aesenc %[k3], %[x]\n\t"
            "aesenc %[k4], %[x]\n\t"
            "aesenc %[k5], %[x]\n\t"
            "aesenc %[k6], %[x]\n\t"
            "aesenc %[k7], %[x]\n\t"
            "aesenc %[k8], %[x]\n\t"
            "aesenc %[k9], %[x]\n\t"
            "aesenclast %[k10], %[x]\n\t"
            "movq %[x], %[out]"
            : [out] "=&r"(out), [x] "=&x"(x)
            : [lo] "rm"(lo), [hi] "rm"(hi), [k0] "m"(k[0]), [k1] "m"(k[1]), [k2] "m"(k[2]),
              [k3] "m"(k[3]), [k4] "m"(k[4]), [k5] "m"(k[5]), [k6] "m"(k[6]), [k7] "m"(k[7]),
              [k8] "m"(k[8]), [k9] "m"(k[9]), [k10] "m"(k[10]));
    return out;
#else
    return tw_aes128_prf64_soft(a, lo, hi);
#endif
}

/* The first 8 bytes (little-endian) of the encryption of the block whose bytes are `lo`
   then `hi`, each little-endian. Inline: with AES-NI it is a handful of instructions, and
   the ISN's callers are on connection set-up's path. */
static inline __attribute__((always_inline)) uint64_t tw_aes128_prf64(const tw_aes128 *a,
                                                                      uint64_t lo, uint64_t hi)
{
#if TW_ASM_X86
    if (__builtin_expect(a->ni, 1)) {
        return tw_aes128_prf64_ni(a, lo, hi);
    }
#endif
    return tw_aes128_prf64_soft(a, lo, hi);
}

#endif
