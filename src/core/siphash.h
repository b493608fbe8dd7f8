/*
 * siphash.h -- SipHash-2-4 (Aumasson and Bernstein), a keyed 64-bit PRF.
 * Used for ephemeral ports (RFC 6056), SYN cookies, Fast Open cookies and the stack's
 * keys and table seeds. (The ISN's PRF is AES, aes.h: two per connection set-up.)
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
#endif
