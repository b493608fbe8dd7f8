/*
 * siphash.h -- SipHash-2-4 (Aumasson and Bernstein), a keyed 64-bit PRF.
 * Used for RFC 6528 ISNs, timestamp offsets, ephemeral ports and table seeds.
 */
#ifndef TW_CORE_SIPHASH_H
#define TW_CORE_SIPHASH_H

#include <stdint.h>
#include <stddef.h>

typedef struct tw_sipkey {
    uint64_t k0, k1;
} tw_sipkey;

uint64_t tw_siphash(const tw_sipkey *key, const uint8_t *msg, size_t len);
/* SipHash-2-4 of four 32-bit words, the common case (a 4-tuple, a counter). */
uint64_t tw_siphash_4x32(const tw_sipkey *key, uint32_t a, uint32_t b, uint32_t c, uint32_t d);
/* SipHash of the 12 little-endian bytes of a, b, c. */
uint64_t tw_siphash_3x32(const tw_sipkey *key, uint32_t a, uint32_t b, uint32_t c);

/* A key's SipHash state with the steps that read no message done once: the
   initialization and the half of the first round that only mixes v0 and v1. For a key
   hashed with on every connection set-up (the ISN's). */
typedef struct tw_sippre {
    uint64_t v0, v1, v2, v3;
} tw_sippre;
void tw_siphash_pre(tw_sippre *p, const tw_sipkey *key);
/* tw_siphash_3x32 with the key's prepared state: the same result. */
uint64_t tw_siphash_3x32_pre(const tw_sippre *p, uint32_t a, uint32_t b, uint32_t c);
/* tw_siphash_3x32_pre in two steps, for hashes whose first word repeats (the ISN's: our
   address and the peer's, the same for every connection between two hosts): `mid` is
   the state with the first word (a | b << 32) taken in and the steps of the last word's
   that do not read c done (siphash.c), kept by the caller, and tw_siphash_3x32_mid
   finishes with c. The same result. */
void tw_siphash_pre_word(tw_sippre *mid, const tw_sippre *p, uint64_t ab);

/* The rounds, inline here for tw_siphash_3x32_mid below (the ISN's, twice a connection,
   where a call would add a tenth to its cost) and for siphash.c. */
static inline uint64_t tw_sip_rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

typedef struct tw_sipstate {
    uint64_t v0, v1, v2, v3;
} tw_sipstate;

/* Inlined: a call per round would add a sixth to the cost of the short hashes. */
/* A SipRound in two parts: its first four steps touch v0 and v1 only, so a state
   prepared before the message word arrives (tw_siphash_pre) can take them in advance. */
static inline __attribute__((always_inline)) void tw_sipround_head(tw_sipstate *s)
{
    s->v0 += s->v1;
    s->v1 = tw_sip_rotl(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = tw_sip_rotl(s->v0, 32);
}

static inline __attribute__((always_inline)) void tw_sipround_tail(tw_sipstate *s)
{
    s->v2 += s->v3;
    s->v3 = tw_sip_rotl(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = tw_sip_rotl(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = tw_sip_rotl(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = tw_sip_rotl(s->v2, 32);
}

static inline __attribute__((always_inline)) void tw_sipround(tw_sipstate *s)
{
    tw_sipround_head(s);
    tw_sipround_tail(s);
}

static inline __attribute__((always_inline)) uint64_t tw_sip_final(tw_sipstate *s)
{
    s->v2 ^= 0xff;
    tw_sipround(s);
    tw_sipround(s);
    tw_sipround(s);
    tw_sipround(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* The last word of a 3x32 hash is c | 12 << 56 (the message length in its top byte). */
#define TW_SIP_LEN12 ((uint64_t)12 << 56)

static inline __attribute__((always_inline)) uint64_t tw_siphash_3x32_mid(const tw_sippre *mid,
                                                                         uint32_t c)
{
    /* sip_word(c | TW_SIP_LEN12) from the state tw_siphash_pre_word prepared. */
    tw_sipstate s = {mid->v0, mid->v1, mid->v2, mid->v3 ^ c};
    tw_sipround_tail(&s);
    tw_sipround(&s);
#if defined(__x86_64__) && defined(__GNUC__)
    /* The length word's xor reads TW_SIP_LEN12 from memory: GCC otherwise loads it into
       a register first (a 10-byte move) and ors c into it, one instruction more per hash
       (measured: lifecycle -2 instr, 6,510 -> 6,508). */
    static const uint64_t len12 = TW_SIP_LEN12;
    s.v0 ^= c;
    __asm__("xorq %1, %0" : "+r"(s.v0) : "m"(len12) : "cc");
#else
    s.v0 ^= (uint64_t)c | TW_SIP_LEN12;
#endif
    return tw_sip_final(&s);
}

#endif
