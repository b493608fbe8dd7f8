/*
 * ipv4.c -- IPv4 input validation and header output.
 *
 * Every check drops with its own counter (SPEC R8). Fragments go to reassembly
 * (ipfrag.c) once the header is known good and for us.
 */
#include "core/ipv4.h"
#include "core/cksum.h"
#include "core/rd.h"
#include "core/wr.h"

#include <string.h>

/* Full validation, each check with its own drop counter; also every header with options.
   The usual TCP packet does not come here: tw_tcp_parse_usual (tcp_hdr.h) takes it in one
   pass with the same outcome; this is for the rest (ICMP, options, fragments, the bad). */
enum tw_counter tw_ipv4_parse(tw_ipv4_hdr *h, const uint8_t *pkt, size_t len, uint32_t self)
{
    /* One length check covers the fixed header, which is then read in place (the
       reader's per-field checks cost more than the rest). */
    if (len < TW_IPV4_HDR_LEN) {
        return TW_CNT_IP_RX_TOO_SHORT;
    }
    uint8_t vihl = pkt[0];
    h->tos = pkt[1];
    h->total_len = tw_get16(pkt + 2);
    h->id = tw_get16(pkt + 4);
    uint16_t frag = tw_get16(pkt + 6);
    h->ttl = pkt[8];
    h->proto = pkt[9];
    h->src = tw_get32(pkt + 12);
    h->dst = tw_get32(pkt + 16);
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
    uint64_t sum = h->hdr_len == TW_IPV4_HDR_LEN
                       ? tw_cksum_native_ip20(pkt)
                       : tw_cksum_native_words(0, pkt, h->hdr_len / 4u); /* options: rare */
    if (!tw_cksum_native_ok(sum)) {
        return TW_CNT_IP_RX_BAD_CSUM;
    }
    if (h->dst != self) {
        return TW_CNT_IP_RX_NOT_OURS;
    }
    if (tw_ipv4_bad_source(h->src, self)) {
        return TW_CNT_IP_RX_BAD_SRC;
    }
    h->payload = pkt + h->hdr_len;
    h->payload_len = (uint16_t)(h->total_len - h->hdr_len);
    h->frag = frag;
    return (frag & 0x3fffu) ? TW_CNT_IP_RX_FRAGMENT : TW_CNT_COUNT_; /* MF or an offset */
}
