/*
 * icmp.c -- ICMP input: echo reply (RFC 792, RFC 1122 3.2.2.6) so `ping` of the stack
 * works over TUN; an error message about a TCP segment (Destination Unreachable, Source
 * Quench, Redirect, Time Exceeded, Parameter Problem) goes to its connection or half-open
 * entry (RFC 1122 4.2.3.9, tcp_in.c tw_tcp_icmp_err). Other messages are counted and
 * ignored.
 */
#include "core/stack.h"
#include "core/cksum.h"
#include "core/ipv4.h"
#include "core/ipfrag.h"
#include "core/rd.h"
#include "core/wr.h"

#include <string.h>

#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8
#define ICMP_ERROR_QUOTE 548u /* bytes of the datagram quoted: a 576-byte message at most */

/* RFC 1122 3.2.2 (rate-limiting SHOULD) and RFC 1812 4.3.2.8: Linux's defaults,
   icmp_msgs_per_sec 1000 and icmp_msgs_burst 50, as a bucket of TW_ICMP_BURST tokens
   refilled one per millisecond. */
static bool icmp_error_allowed(tw_stack *st)
{
    uint64_t ms = st->now_ms, d = ms - st->icmp_tokens_ms;
    st->icmp_tokens_ms = ms;
    uint64_t tokens = st->icmp_tokens + d;
    st->icmp_tokens = tokens > TW_ICMP_BURST ? TW_ICMP_BURST : (uint32_t)tokens;
    if (st->icmp_tokens == 0) {
        tw_count(st, TW_CNT_ICMP_TX_RATELIMITED);
        return false;
    }
    st->icmp_tokens--;
    return true;
}

void tw_icmp_send_error(tw_stack *st, uint8_t type, uint8_t code, const uint8_t *hdr,
                        size_t hdr_len, const uint8_t *data, size_t len, enum tw_counter sent)
{
    if (!icmp_error_allowed(st)) {
        return;
    }
    /* RFC 792: 8 bytes (type, code, checksum, 4 unused), then the datagram's header and
       at least 8 bytes of its data; as Linux, as much of it as a 576-byte message holds
       (RFC 1812 4.3.2.3). */
    if (hdr_len + len > ICMP_ERROR_QUOTE) {
        len = ICMP_ERROR_QUOTE - hdr_len;
    }
    uint8_t *pkt = st->txbuf;
    uint8_t *icmp = pkt + TW_IPV4_HDR_LEN;
    size_t n = 8u + hdr_len + len;
    memset(icmp, 0, 8);
    icmp[0] = type;
    icmp[1] = code;
    memcpy(icmp + 8, hdr, hdr_len);
    memcpy(icmp + 8 + hdr_len, data, len);
    tw_put16(icmp + 2, tw_cksum_fin(tw_cksum_add(0, icmp, n, 0)));
    uint32_t dst = tw_get32(hdr + 12);
    tw_ipv4_build(pkt, st->cfg.addr, dst, TW_IPPROTO_ICMP, (uint16_t)n, TW_IPV4_ATOMIC_ID);
    tw_count(st, sent);
    tw_stack_transmit(st, pkt, n + TW_IPV4_HDR_LEN);
    tw_txbuf_keep_set(st); /* (written over: stack.h TW_TXBUF_TS_AT) */
}

void tw_icmp_input(tw_stack *st, const uint8_t *ip_pkt, size_t hdr_len, uint32_t src,
                   const uint8_t *payload, uint16_t len)
{
    (void)ip_pkt;
    (void)hdr_len;
    tw_count(st, TW_CNT_ICMP_RX_PACKETS);
    if (len < 8 || tw_cksum_fin(tw_cksum_add(0, payload, len, 0)) != 0) {
        tw_drop(st, TW_CNT_ICMP_RX_BAD, NULL, NULL);
        return;
    }
    uint8_t type = payload[0];
    if (tw_icmp_is_error(type)) {
        /* RFC 792: 8 bytes of ICMP header (Destination Unreachable code 4: the next-hop
           MTU in bytes 6-7, RFC 1191), then the quoted datagram's IP header and at least
           8 bytes of its TCP header (ports, sequence number). Only a segment we sent: from
           our address. */
        const uint8_t *in = payload + 8;
        size_t ihl = len >= 8 + 20 ? (size_t)(in[0] & 0x0f) * 4u : 0;
        if (ihl < 20 || (size_t)len < 8 + ihl + 8 || (in[0] >> 4) != 4 ||
            in[9] != TW_IPPROTO_TCP || tw_get32(in + 12) != st->cfg.addr) {
            tw_drop(st, TW_CNT_ICMP_RX_IGNORED, NULL, NULL);
            return;
        }
        const uint8_t *th = in + ihl;
        tw_icmp_quote q = {tw_get32(in + 16), tw_get16(th + 2), tw_get16(th), tw_get32(th + 4),
                           type, payload[1], tw_get16(payload + 6), tw_get16(in + 2),
                           (uint8_t)ihl};
        tw_tcp_icmp_err(st, &q);
        return;
    }
    if (payload[0] != ICMP_ECHO_REQUEST || payload[1] != 0) {
        tw_drop(st, TW_CNT_ICMP_RX_IGNORED, NULL, NULL);
        return;
    }
    if ((size_t)len + TW_IPV4_HDR_LEN > TW_TXBUF_SIZE) {
        tw_drop(st, TW_CNT_ICMP_RX_BAD, NULL, NULL);
        return;
    }
    uint8_t *pkt = st->txbuf;
    uint8_t *icmp = pkt + TW_IPV4_HDR_LEN;
    memcpy(icmp, payload, len);
    icmp[0] = ICMP_ECHO_REPLY;
    tw_put16(icmp + 2, 0);
    tw_put16(icmp + 2, tw_cksum_fin(tw_cksum_add(0, icmp, len, 0)));
    tw_count(st, TW_CNT_ICMP_TX_ECHO_REPLY);
    if ((size_t)len + TW_IPV4_HDR_LEN > st->dev.mtu) {
        /* RFC 1122 3.2.2.6: the reply carries all the request's data; one larger than
           the MTU (a reassembled `ping -s 4000`) goes in fragments. */
        tw_ipfrag_send(st, src, TW_IPPROTO_ICMP, pkt, len);
        tw_txbuf_keep_set(st); /* (written over: stack.h TW_TXBUF_TS_AT) */
        return;
    }
    tw_ipv4_build(pkt, st->cfg.addr, src, TW_IPPROTO_ICMP, len, TW_IPV4_ATOMIC_ID);
    tw_stack_transmit(st, pkt, (size_t)len + TW_IPV4_HDR_LEN);
    tw_txbuf_keep_set(st); /* (written over: stack.h TW_TXBUF_TS_AT) */
}
