/*
 * cksum.c -- Internet checksum (RFC 1071), with a copy-and-sum variant for output.
 *
 * Hot path: every received and sent segment goes through here. We add 32-bit big-endian
 * words into a 64-bit accumulator (carries cannot overflow for any packet size) and fold
 * at the end: one's-complement addition is associative, so word size does not matter.
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
   as native-endian 32-bit words into 64 bits, fold, and swap once at the end on a
   little-endian host. */
static uint64_t sum_block(const uint8_t *p, size_t len)
{
    uint64_t s = 0;
    while (len >= 16) {
        uint32_t w[4];
        memcpy(w, p, 16);
        s += (uint64_t)w[0] + w[1] + w[2] + w[3];
        p += 16;
        len -= 16;
    }
    while (len >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        s += w;
        p += 4;
        len -= 4;
    }
    uint8_t tail[4] = {0, 0, 0, 0};
    memcpy(tail, p, len);
    uint32_t w;
    memcpy(&w, tail, 4);
    s += w;
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
