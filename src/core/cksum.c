/*
 * cksum.c -- Internet checksum (RFC 1071), with a copy-and-sum variant for output.
 *
 * Hot path: every received and sent segment goes through here. One's-complement addition
 * is associative and byte-order independent, so we add 64-bit words with end-around carry
 * and fold to 16 bits once at the end (see sum_block).
 */
#include "core/cksum.h"

#include <string.h>

static uint64_t fold64(uint64_t s)
{
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    return s;
}

static uint32_t fold32(uint64_t s)
{
    s = fold64(s);
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    return (uint32_t)s;
}

/* The one's-complement sum does not depend on byte order (RFC 1071 2(B)): add the data
   as native-endian 64-bit words with end-around carry, fold, and swap once at the end on a
   little-endian host. Four independent accumulators keep the adds in parallel. */
static uint64_t add_carry(uint64_t s, uint64_t w)
{
    s += w;
    return s + (s < w);
}

static uint64_t sum_block(const uint8_t *p, size_t len)
{
    uint64_t a = 0, b = 0, c = 0, d = 0;
    while (len >= 32) {
        uint64_t w[4];
        memcpy(w, p, 32);
        a = add_carry(a, w[0]);
        b = add_carry(b, w[1]);
        c = add_carry(c, w[2]);
        d = add_carry(d, w[3]);
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        a = add_carry(a, w);
        p += 8;
        len -= 8;
    }
    uint8_t tail[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(tail, p, len);
    uint64_t w;
    memcpy(&w, tail, 8);
    b = add_carry(b, w);
    uint64_t s = add_carry(add_carry(a, b), add_carry(c, d));
    s = fold32(s);
    const uint16_t one = 1;
    if (*(const uint8_t *)&one == 1) {
        s = ((s & 0xffu) << 8) | (s >> 8); /* little-endian host: back to network order */
    }
    return s;
}

uint32_t tw_cksum_add(uint32_t sum, const uint8_t *p, size_t len, int odd)
{
    uint64_t s = sum_block(p, len);
    s = fold32(s);
    if (odd) {
        /* The block started in the low byte of a word: swap its bytes (RFC 1071 2(B)). */
        s = ((s & 0xffu) << 8) | (s >> 8);
    }
    return fold32((uint64_t)sum + s);
}

uint16_t tw_cksum_fin(uint32_t sum)
{
    return (uint16_t)~fold32(sum);
}

uint32_t tw_cksum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    uint64_t s = (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) + proto + len;
    return fold32(s);
}

uint32_t tw_cksum_copy(uint32_t sum, uint8_t *dst, const uint8_t *src, size_t len, int odd)
{
    memcpy(dst, src, len);
    return tw_cksum_add(sum, dst, len, odd);
}
