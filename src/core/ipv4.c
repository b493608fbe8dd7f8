/*
 * ipv4.c -- IPv4 input validation and header output.
 *
 * Every check drops with its own counter (SPEC R8). Fragments are dropped: tcpwave
 * announces an MSS that fits the MTU and sets DF, so a well-behaved peer never fragments.
 */
#include "core/ipv4.h"
#include "core/cksum.h"
#include "core/rd.h"
#include "core/wr.h"

static bool bad_source(uint32_t src, uint32_t self)
{
    /* RFC 1122 3.2.1.3: never accept a packet from 0.0.0.0, a broadcast, a multicast or
       a loopback (127/8, (g): never seen outside a host) address; our own address as a
       source means a loop or a spoof. */
    return src == 0 || src == 0xffffffffu || (src >> 28) == 0xe || (src >> 24) == 127 ||
           src == self;
}

enum tw_counter tw_ipv4_parse(tw_ipv4_hdr *h, const uint8_t *pkt, size_t len, uint32_t self)
{
    tw_rd r = tw_rd_make(pkt, len);
    uint8_t vihl = tw_rd_u8(&r);
    h->tos = tw_rd_u8(&r);
    h->total_len = tw_rd_u16(&r);
    h->id = tw_rd_u16(&r);
    uint16_t frag = tw_rd_u16(&r);
    h->ttl = tw_rd_u8(&r);
    h->proto = tw_rd_u8(&r);
    tw_rd_skip(&r, 2);
    h->src = tw_rd_u32(&r);
    h->dst = tw_rd_u32(&r);
    if (r.err) {
        return TW_CNT_IP_RX_TOO_SHORT;
    }
    if ((vihl >> 4) != 4) {
        return TW_CNT_IP_RX_BAD_VERSION;
    }
    h->hdr_len = (uint8_t)((vihl & 0xfu) * 4u);
    if (h->hdr_len < TW_IPV4_HDR_LEN || h->hdr_len > len) {
        return TW_CNT_IP_RX_BAD_IHL;
    }
    /* Trailing bytes after total_len (link padding) are allowed and ignored. */
    if (h->total_len < h->hdr_len || h->total_len > len) {
        return TW_CNT_IP_RX_BAD_LEN;
    }
    if (tw_cksum_fin(tw_cksum_add(0, pkt, h->hdr_len, 0)) != 0) {
        return TW_CNT_IP_RX_BAD_CSUM;
    }
    if ((frag & 0x2000u) || (frag & 0x1fffu)) {
        return TW_CNT_IP_RX_FRAGMENT;
    }
    if (h->dst != self) {
        return TW_CNT_IP_RX_NOT_OURS;
    }
    if (bad_source(h->src, self)) {
        return TW_CNT_IP_RX_BAD_SRC;
    }
    h->payload = pkt + h->hdr_len;
    h->payload_len = (uint16_t)(h->total_len - h->hdr_len);
    return TW_CNT_COUNT_;
}

void tw_ipv4_build(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, uint16_t payload_len,
                   uint16_t id)
{
    tw_wr w = tw_wr_make(buf, TW_IPV4_HDR_LEN);
    tw_wr_u8(&w, 0x45);
    tw_wr_u8(&w, 0);
    tw_wr_u16(&w, (uint16_t)(payload_len + TW_IPV4_HDR_LEN));
    tw_wr_u16(&w, id);
    tw_wr_u16(&w, 0x4000); /* DF */
    tw_wr_u8(&w, 64);
    tw_wr_u8(&w, proto);
    tw_wr_u16(&w, 0);
    tw_wr_u32(&w, src);
    tw_wr_u32(&w, dst);
    tw_put16(buf + 10, tw_cksum_fin(tw_cksum_add(0, buf, TW_IPV4_HDR_LEN, 0)));
}
