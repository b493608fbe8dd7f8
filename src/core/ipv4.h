/*
 * ipv4.h -- IPv4 header parse (validated, RFC 791 / RFC 1122 3.2.1) and build.
 */
#ifndef TW_CORE_IPV4_H
#define TW_CORE_IPV4_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include "tcpwave.h"
#include "core/cksum.h"
#include "core/wr.h"

#define TW_IPPROTO_ICMP 1
#define TW_IPPROTO_TCP 6
#define TW_IPV4_HDR_LEN 20

typedef struct tw_ipv4_hdr {
    uint8_t hdr_len; /* bytes */
    uint8_t tos, ttl, proto;
    uint16_t total_len, id;
    uint16_t frag; /* flags and fragment offset (host order) */
    uint32_t src, dst;
    const uint8_t *payload;
    uint16_t payload_len;
} tw_ipv4_hdr;

/* RFC 1122 3.2.1.3: never accept a packet from 0.0.0.0, a broadcast, a multicast or a
   loopback (127/8, (g): never seen outside a host) address; our own address as a source
   means a loop or a spoof. */
static inline bool tw_ipv4_bad_source(uint32_t src, uint32_t self)
{
    /* (each range in one unsigned compare: 0 and all ones, 224/4, 127/8) */
    return src - 1u >= 0xfffffffeu || src - 0xe0000000u < 0x10000000u ||
           src - 0x7f000000u < 0x01000000u || src == self;
}

/* Parse and validate. Returns TW_CNT_COUNT_ when the packet is good, else the counter
   naming why it is dropped. `self` is the stack's address. TW_CNT_IP_RX_FRAGMENT: a good
   fragment for us, every field filled (ipfrag.c takes it). */
enum tw_counter tw_ipv4_parse(tw_ipv4_hdr *h, const uint8_t *pkt, size_t len, uint32_t self);
/* The Identification of every datagram we send. All of them are atomic (DF set, never
   fragmented: the MSS we announce fits the MTU), and RFC 6864 4.1 lets the source of an
   atomic datagram put any value there, the receiver ignoring it. Zero rather than a
   stack-wide counter, which would let anyone who talks to the stack count the packets
   it sends to others (the idle scan; RFC 7739 3) and costs a store and a checksum word
   per packet. Linux sends 0 too where it has no per-destination counter. */
#define TW_IPV4_ATOMIC_ID 0u

/* Write a 20-byte header (DF set, TTL 64) with its checksum at `buf`, given
   `addr_sum` = src + dst (as 64-bit, unfolded): a TCP sender has that sum already for
   its pseudo-header (RFC 9293 3.1), so the two checksums share it and the header's
   other words join as constants (RFC 1071 2(A): the sum of parts is the sum of the
   whole). Inline: every outgoing packet has one. */
static inline void tw_ipv4_build_sum(uint8_t *buf, uint64_t addr_sum, uint32_t src,
                                     uint32_t dst, uint8_t proto, uint16_t payload_len,
                                     uint16_t id)
{
    /* Five 32-bit words (RFC 791 3.1): version/IHL, TOS, total length; id, DF; TTL,
       protocol, checksum; source; destination. The checksum is summed from these values
       rather than re-read from the buffer: 32-bit words fold like their 16-bit halves,
       so the id may join unshifted and the constant halves as one constant. */
    uint32_t tot = (uint16_t)(payload_len + TW_IPV4_HDR_LEN);
    uint64_t sum = addr_sum + (0x4500u + 0x4000u + (64u << 8) + proto) + tot + id;
    uint32_t w2 = 64u << 24 | (uint32_t)proto << 16 | tw_cksum_fin64(sum);
    tw_store_be32(buf, 0x45000000u + tot);
    tw_store_be32(buf + 4, (uint32_t)id << 16 | 0x4000u);
    tw_store_be32(buf + 8, w2);
    tw_store_be32(buf + 12, src);
    tw_store_be32(buf + 16, dst);
}

/* The words tw_ipv4_build_native and tw_ipv4_build_native32 store, in network order, and
   k, the native sum of those that are not the addresses (the checksum's field 0). */
typedef struct tw_ipv4_nwords {
    uint32_t n0, n1, n2;
    uint64_t k;
} tw_ipv4_nwords;

static inline __attribute__((always_inline)) tw_ipv4_nwords
tw_ipv4_native_words(uint8_t proto, uint32_t payload_len, uint16_t id)
{
    /* (A datagram fits the MTU, tcpwave.h: the total length needs no cut to 16 bits.) */
    assert(payload_len + TW_IPV4_HDR_LEN <= 0xffffu);
    tw_ipv4_nwords w;
    w.n0 = tw_be32(0x45000000u + (payload_len + TW_IPV4_HDR_LEN));
    w.n1 = tw_be32((uint32_t)id << 16 | 0x4000u);
    w.n2 = tw_be32(64u << 24 | (uint32_t)proto << 16);
    /* The total length's share of the sum (tw_cksum_be16_native: exact for a 16-bit
       value; a datagram fits the MTU, tcpwave.h) from the pseudo-header's (proto +
       payload_len, RFC 9293 3.1), which a TCP sender has summed already: the compiler
       shares the one shift. */
    uint64_t nlen = tw_cksum_be16_native(proto + payload_len) - tw_cksum_be16_native(proto) +
                    tw_cksum_be16_native(TW_IPV4_HDR_LEN);
    w.k = nlen + tw_be32(0x45000000u) + w.n1 + w.n2;
    return w;
}

/* The header's words, the checksum in w.n2 (in network order as it lies). */
static inline __attribute__((always_inline)) void tw_ipv4_native_store(uint8_t *buf,
                                                                       const tw_ipv4_nwords *w,
                                                                       uint32_t nsrc,
                                                                       uint32_t ndst)
{
    memcpy(buf, &w->n0, 4);
    memcpy(buf + 4, &w->n1, 4);
    memcpy(buf + 8, &w->n2, 4);
    memcpy(buf + 12, &nsrc, 4);
    memcpy(buf + 16, &ndst, 4);
}

/* tw_ipv4_build_sum given the addresses and their sum in network order (tw_be32, a
   native sum, cksum.h), as a sender that sums its TCP header natively has them: the
   header's words are summed as they are stored, and the checksum stored unswapped.
   `payload_len` as in tw_ipv4_build_sum. */
static inline void tw_ipv4_build_native(uint8_t *buf, uint64_t addr_nsum, uint32_t nsrc,
                                        uint32_t ndst, uint8_t proto, uint32_t payload_len,
                                        uint16_t id)
{
    tw_ipv4_nwords w = tw_ipv4_native_words(proto, payload_len, id);
    /* TTL and protocol, then the checksum. */
    w.n2 = tw_cksum_fin64_after(addr_nsum + w.k,
                                (uint16_t)(tw_cksum_little_endian() ? w.n2 : w.n2 >> 16));
    tw_ipv4_native_store(buf, &w, nsrc, ndst);
}

/* The third word tw_ipv4_build_native stores (TTL, protocol and the checksum, in network
   order as it lies) for the addresses' sum folded under 2^18 (`addr_fold`,
   tw_cksum_fold18), for a builder that keeps it (tcp_conn.h tw_syn_memo_set). */
static inline uint32_t tw_ipv4_native_word2(uint32_t addr_fold, uint8_t proto,
                                            uint32_t payload_len, uint16_t id)
{
    tw_ipv4_nwords w = tw_ipv4_native_words(proto, payload_len, id);
    return tw_cksum_fin64_after((uint64_t)addr_fold + w.k,
                                (uint16_t)(tw_cksum_little_endian() ? w.n2 : w.n2 >> 16));
}

/* tw_ipv4_build_native given the addresses' native sum as 32 bits with its carry taken
   around (tw_cksum_add32): the header's other words, a constant under 2^25 for a
   constant length, join it with one more carry taken around, and the checksum is folded
   from 32 bits (no fold of an upper half). */
static inline void tw_ipv4_build_native32(uint8_t *buf, uint32_t addr_nsum, uint32_t nsrc,
                                          uint32_t ndst, uint8_t proto, uint32_t payload_len,
                                          uint16_t id)
{
    tw_ipv4_nwords w = tw_ipv4_native_words(proto, payload_len, id);
    /* (each word under 2^24 or a swapped 16-bit value: no overflow of 32 bits here) */
    assert(w.k < (1ull << 32));
    w.n2 = tw_cksum_fin32_after(tw_cksum_add32(addr_nsum, (uint32_t)w.k),
                                (uint16_t)(tw_cksum_little_endian() ? w.n2 : w.n2 >> 16));
    tw_ipv4_native_store(buf, &w, nsrc, ndst);
}

/* tw_ipv4_build_native given the two addresses as the 8 bytes they are in the header
   (`addrs`, network order) and their native sum made under 2^18 (`addr_fold`,
   tw_cksum_fold18): the header's sum then fits in 32 bits (the other words are under
   2^24 each), and the addresses are one copy. */
/* (n1_kept: the second word, identification and fragment field, lies at buf + 4 already,
   as `id` makes it: stack.h TW_TXBUF_TS_AT; not stored) */
static inline __attribute__((always_inline)) void
tw_ipv4_build_addrs_as(uint8_t *buf, uint32_t addr_fold, const void *addrs, uint8_t proto,
                       uint32_t payload_len, uint16_t id, bool n1_kept)
{
    assert(addr_fold < (1u << 18) && payload_len + TW_IPV4_HDR_LEN <= 0xffffu);
    /* (version and IHL added to the total length, not or-ed: the same bits for a length
       under 2^16, and GCC then makes the word one lea from the TCP length, where the or
       kept a copy of the length for it: lifecycle -7 instr, in the data segments'
       builders; the other builders here alike) */
    uint32_t n0 = tw_be32(0x45000000u + (payload_len + TW_IPV4_HDR_LEN));
    uint32_t n1 = tw_be32((uint32_t)id << 16 | 0x4000u);
    uint32_t n2 = tw_be32(64u << 24 | (uint32_t)proto << 16);
    /* (as in tw_ipv4_build_native: the total length's share from the pseudo-header's) */
    uint32_t nlen = (uint32_t)(tw_cksum_be16_native(proto + payload_len) -
                               tw_cksum_be16_native(proto) +
                               tw_cksum_be16_native(TW_IPV4_HDR_LEN));
    n2 = tw_cksum_fin32_after(addr_fold + nlen + tw_be32(0x45000000u) + n1 + n2,
                              (uint16_t)(tw_cksum_little_endian() ? n2 : n2 >> 16));
    memcpy(buf, &n0, 4);
    assert(!n1_kept || memcmp(buf + 4, &n1, 4) == 0);
    if (!n1_kept) {
        memcpy(buf + 4, &n1, 4);
    }
    memcpy(buf + 8, &n2, 4);
    memcpy(buf + 12, addrs, 8);
}

static inline void tw_ipv4_build_addrs(uint8_t *buf, uint32_t addr_fold, const void *addrs,
                                       uint8_t proto, uint32_t payload_len, uint16_t id)
{
    tw_ipv4_build_addrs_as(buf, addr_fold, addrs, proto, payload_len, id, false);
}

/* tw_ipv4_build_sum for a caller without the address sum. */
static inline void tw_ipv4_build(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto,
                                 uint16_t payload_len, uint16_t id)
{
    tw_ipv4_build_sum(buf, (uint64_t)src + dst, src, dst, proto, payload_len, id);
}

#endif
