/*
 * cksum.c -- Internet checksum (RFC 1071) over a block of bytes.
 *
 * Hot path: every data segment is summed twice (sender, receiver). The bytes are added as
 * native-endian 64-bit words with end-around carry (see cksum.h for why byte order does
 * not matter), folded to 16 bits once at the end.
 */
#include "core/cksum.h"

#include <string.h>

/* Whole 64-byte blocks, the bulk of a data segment. Eight chains: compilers keep each
   add as add + adc only when an accumulator takes one word per iteration, and eight
   independent chains keep the adds in parallel. Out of line so short packets do not pay
   for saving the registers it needs. */
__attribute__((noinline)) static uint64_t sum_blocks(uint64_t acc, const uint8_t *p,
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

uint64_t tw_cksum_native(uint64_t acc, const uint8_t *p, size_t len)
{
    uint64_t a = acc, b = 0;
    if (len >= 64) {
        a = sum_blocks(a, p, len / 64);
        p += len & ~(size_t)63;
    }
    /* The tail in 32/16/8/4/2/1-byte steps: packets of 40-100 bytes cost no loop. */
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
