/*
 * cksum.h -- the Internet checksum (RFC 1071).
 *
 * Sums are kept as 32-bit partial sums in host order of big-endian 16-bit words, folded
 * only at the end, so pieces (pseudo-header, header, payload parts) can be added.
 */
#ifndef TW_CORE_CKSUM_H
#define TW_CORE_CKSUM_H

#include <stdint.h>
#include <stddef.h>

/* Add the bytes of `p` to partial sum `sum`. `odd` tells whether an odd number of bytes
   was summed before (so this block starts in the low byte of a word). */
uint32_t tw_cksum_add(uint32_t sum, const uint8_t *p, size_t len, int odd);
/* Fold a partial sum to 16 bits and complement it: the value to put in a header. */
uint16_t tw_cksum_fin(uint32_t sum);
/* Partial sum of the TCP/UDP pseudo-header (RFC 9293 3.1). */
uint32_t tw_cksum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);
/* Copy `len` bytes and add them to the partial sum in one pass. */
uint32_t tw_cksum_copy(uint32_t sum, uint8_t *dst, const uint8_t *src, size_t len, int odd);

#endif
