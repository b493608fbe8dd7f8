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
uint64_t tw_siphash_3x32_mid(const tw_sippre *mid, uint32_t c);

#endif
