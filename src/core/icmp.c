/*
 * icmp.c -- ICMP input: echo reply (RFC 792, RFC 1122 3.2.2.6) so `ping` of the stack
 * works over TUN. Other messages are counted and ignored.
 */
#include "core/stack.h"
#include "core/cksum.h"
#include "core/ipv4.h"
#include "core/wr.h"

#include <string.h>

#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8

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
    if (payload[0] != ICMP_ECHO_REQUEST || payload[1] != 0) {
        tw_drop(st, TW_CNT_ICMP_RX_IGNORED, NULL, NULL);
        return;
    }
    if ((size_t)len + TW_IPV4_HDR_LEN > TW_TXBUF_SIZE || len + TW_IPV4_HDR_LEN > st->dev.mtu) {
        tw_drop(st, TW_CNT_ICMP_RX_BAD, NULL, NULL);
        return;
    }
    uint8_t *pkt = st->txbuf;
    uint8_t *icmp = pkt + TW_IPV4_HDR_LEN;
    memcpy(icmp, payload, len);
    icmp[0] = ICMP_ECHO_REPLY;
    tw_put16(icmp + 2, 0);
    tw_put16(icmp + 2, tw_cksum_fin(tw_cksum_add(0, icmp, len, 0)));
    tw_ipv4_build(pkt, st->cfg.addr, src, TW_IPPROTO_ICMP, len, TW_IPV4_ATOMIC_ID);
    tw_count(st, TW_CNT_ICMP_TX_ECHO_REPLY);
    tw_stack_transmit(st, pkt, (size_t)len + TW_IPV4_HDR_LEN);
}
