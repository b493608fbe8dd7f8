/*
 * tcp_hdr.c -- TCP header and option parsing and building.
 *
 * Parsing follows RFC 9293 3.2: kinds 0 (end) and 1 (no-op) are one byte; every other
 * option has a length byte that counts kind and length and must be at least 2 and fit.
 * Options we know must have their exact size; a wrong size, a length that overflows the
 * header, or the same option twice drops the segment (counted). Unknown kinds are skipped
 * by their length (RFC 9293 3.2, MUST-68).
 */
#include "core/tcp_hdr.h"
#include "core/cksum.h"
#include "core/ipv4.h"
#include "core/rd.h"
#include "core/wr.h"

#include <string.h>

enum {
    OPT_EOL = 0,
    OPT_NOP = 1,
    OPT_MSS = 2,
    OPT_WS = 3,
    OPT_SACK_PERM = 4,
    OPT_SACK = 5,
    OPT_TS = 8,
    OPT_FASTOPEN = 34,   /* RFC 7413 4.1.1 */
    OPT_EXP = 254,       /* RFC 6994 experimental, Fast Open's with magic 0xF989 */
};

/* RFC 7413 4.1.1: Fast Open's option, kind 34 (or the experimental 254 with magic 0xF989,
   which Linux still parses), its cookie `blen` bytes at `body` (`start`: the options'
   first byte). An empty one asks for a cookie; a cookie is 4 to 16 bytes. As Linux
   (tcp_parse_fastopen_option), an odd length or one outside 4..16 is ignored, marked
   TW_FO_BAD for the caller to count, and a second option is ignored (not a drop: the
   segment is good without it). */
static void opt_fastopen(tw_tcp_opts *o, const uint8_t *start, const uint8_t *body,
                         size_t blen, bool exp)
{
    if (o->present & TW_OPT_FASTOPEN) {
        return;
    }
    o->present |= TW_OPT_FASTOPEN;
    o->fo_flags = exp ? TW_FO_EXP : 0;
    o->fo_off = (uint8_t)(body - start);
    if ((blen & 1) || (blen != 0 && (blen < 4 || blen > TW_FASTOPEN_COOKIE_MAX))) {
        o->fo_flags |= TW_FO_BAD;
        o->fo_len = 0;
        return;
    }
    o->fo_len = (uint8_t)blen;
}

static enum tw_counter opt_one(tw_tcp_opts *o, uint8_t kind, tw_rd *body, size_t blen)
{
    uint8_t bit;
    switch (kind) {
    case OPT_MSS:
        if (blen != 2) {
            return TW_CNT_TCP_RX_BAD_OPTION;
        }
        bit = TW_OPT_MSS;
        o->mss = tw_rd_u16(body);
        break;
    case OPT_WS:
        if (blen != 1) {
            return TW_CNT_TCP_RX_BAD_OPTION;
        }
        bit = TW_OPT_WSCALE;
        o->wscale = tw_rd_u8(body);
        if (o->wscale > 14) {
            o->wscale = 14; /* RFC 7323 2.3: use 14 for larger values */
        }
        break;
    case OPT_SACK_PERM:
        if (blen != 0) {
            return TW_CNT_TCP_RX_BAD_OPTION;
        }
        bit = TW_OPT_SACK_PERM;
        break;
    case OPT_SACK:
        if (blen == 0 || blen % 8 != 0 || blen / 8 > TW_SACK_MAX_BLOCKS) {
            return TW_CNT_TCP_RX_BAD_OPTION;
        }
        bit = TW_OPT_SACK;
        o->sack_n = (uint8_t)(blen / 8);
        for (unsigned i = 0; i < o->sack_n; i++) {
            o->sack[i].start = tw_rd_u32(body);
            o->sack[i].end = tw_rd_u32(body);
        }
        break;
    case OPT_TS:
        if (blen != 8) {
            return TW_CNT_TCP_RX_BAD_OPTION;
        }
        bit = TW_OPT_TS;
        o->ts_val = tw_rd_u32(body);
        o->ts_ecr = tw_rd_u32(body);
        break;
    default:
        return TW_CNT_COUNT_; /* unknown: skipped */
    }
    if (o->present & bit) {
        return TW_CNT_TCP_RX_DUP_OPTION;
    }
    o->present |= bit;
    return TW_CNT_COUNT_;
}

enum tw_counter tw_tcp_parse_opts(tw_tcp_opts *o, const uint8_t *p, size_t len)
{
    memset(o, 0, sizeof(*o));
    /* Fast path for what nearly every segment of a connection with timestamps carries:
       NOP, NOP, TS (RFC 7323 Appendix A's layout, Linux's and ours). */
    if (len == 12 && tw_get32(p) == 0x0101080au) {
        o->present = TW_OPT_TS;
        o->ts_val = tw_get32(p + 4);
        o->ts_ecr = tw_get32(p + 8);
        return TW_CNT_COUNT_;
    }
    /* And for the SYN layout of Linux and of tcpwave: MSS, SACK-permitted, TS, NOP, WS. */
    if (len == 20 && tw_tcp_opts_syn_layout(o, p)) {
        return TW_CNT_COUNT_;
    }
    tw_rd r = tw_rd_make(p, len);
    while (tw_rd_left(&r) > 0) {
        uint8_t kind = tw_rd_u8(&r);
        if (kind == OPT_EOL) {
            break;
        }
        if (kind == OPT_NOP) {
            continue;
        }
        if (tw_rd_left(&r) < 1) {
            return TW_CNT_TCP_RX_BAD_OPTION; /* kind without a length byte */
        }
        uint8_t olen = tw_rd_u8(&r);
        if (olen < 2 || (size_t)(olen - 2) > tw_rd_left(&r)) {
            return TW_CNT_TCP_RX_BAD_OPTION;
        }
        size_t blen = (size_t)olen - 2;
        const uint8_t *bp = tw_rd_bytes(&r, blen);
        if (kind == OPT_FASTOPEN) {
            opt_fastopen(o, p, bp, blen, false);
            continue;
        }
        if (kind == OPT_EXP && blen >= 2 && bp[0] == 0xf9 && bp[1] == 0x89) {
            opt_fastopen(o, p, bp + 2, blen - 2, true);
            continue;
        }
        tw_rd body = tw_rd_make(bp, blen);
        enum tw_counter c = opt_one(o, kind, &body, blen);
        if (c != TW_CNT_COUNT_) {
            return c;
        }
    }
    return TW_CNT_COUNT_;
}

enum tw_counter tw_tcp_parse(tw_tcp_hdr *h, const uint8_t *seg, size_t len, uint32_t src,
                             uint32_t dst)
{
    if (len < TW_TCP_HDR_LEN) {
        return TW_CNT_TCP_RX_TOO_SHORT;
    }
    /* The fixed 20 bytes are there (checked above): read them at their offsets. */
    h->sport = tw_get16(seg);
    h->dport = tw_get16(seg + 2);
    h->seq = tw_get32(seg + 4);
    h->ack = tw_get32(seg + 8);
    h->hdr_len = (uint8_t)((seg[12] >> 4) * 4u);
    h->flags = seg[13];
    h->win = tw_get16(seg + 14);
    h->urg = tw_get16(seg + 18);
    if (h->hdr_len < TW_TCP_HDR_LEN || h->hdr_len > len) {
        return TW_CNT_TCP_RX_BAD_OFFSET;
    }
    uint32_t pseudo = tw_cksum_pseudo(src, dst, TW_IPPROTO_TCP, (uint16_t)len);
    if (!tw_cksum_native_ok(tw_cksum_native(tw_cksum_to_native(pseudo), seg, len))) {
        return TW_CNT_TCP_RX_BAD_CSUM;
    }
    if (h->sport == 0 || h->dport == 0) {
        return TW_CNT_TCP_RX_BAD_PORT;
    }
    /* SYN with RST is a RST: RFC 9293 3.10.7 checks the RST bit before the SYN bit in
       every state, and Linux processes it so (tcp_validate_incoming); the RST rules
       (exact match, challenge ACK, never answered) then apply. SYN with FIN goes on to
       the state machine too, which answers it as RFC 9293 3.10.7 and Linux do: a RST
       with no connection (3.10.7.1), a drop at a listener (Linux's tcp_rcv_state_process,
       TCP_RX_BAD_FLAGS), the SYN rules in the other states (RFC 5961 4). A segment
       with no flag at all (a "null scan"), or only PSH or URG, goes on: the state
       machine drops it for the missing ACK and answers it with a RST when there is no
       connection (RFC 9293 3.10.7.1), as Linux's tcp_v4_send_reset does. */
    if ((h->flags & (TW_SYN | TW_RST)) == (TW_SYN | TW_RST)) {
        h->flags = (uint8_t)(h->flags & ~TW_SYN);
    }
    enum tw_counter c = tw_tcp_parse_opts(&h->o, seg + TW_TCP_HDR_LEN,
                                          (size_t)h->hdr_len - TW_TCP_HDR_LEN);
    if (c != TW_CNT_COUNT_) {
        return c;
    }
    h->payload = seg + h->hdr_len;
    h->payload_len = (uint32_t)(len - h->hdr_len);
    return TW_CNT_COUNT_;
}

size_t tw_tcp_build_opts_any(uint8_t *buf, const tw_tcp_opts *o)
{
    tw_wr w = tw_wr_make(buf, TW_TCP_MAX_OPT);
    if (o->present & TW_OPT_MSS) {
        tw_wr_u8(&w, OPT_MSS);
        tw_wr_u8(&w, 4);
        tw_wr_u16(&w, o->mss);
    }
    /* Linux's layout: SACK-permitted shares a word with the timestamp's kind/length. */
    if ((o->present & TW_OPT_SACK_PERM) && (o->present & TW_OPT_TS)) {
        tw_wr_u8(&w, OPT_SACK_PERM);
        tw_wr_u8(&w, 2);
        tw_wr_u8(&w, OPT_TS);
        tw_wr_u8(&w, 10);
        tw_wr_u32(&w, o->ts_val);
        tw_wr_u32(&w, o->ts_ecr);
    } else if (o->present & TW_OPT_TS) {
        tw_wr_u8(&w, OPT_NOP);
        tw_wr_u8(&w, OPT_NOP);
        tw_wr_u8(&w, OPT_TS);
        tw_wr_u8(&w, 10);
        tw_wr_u32(&w, o->ts_val);
        tw_wr_u32(&w, o->ts_ecr);
    } else if (o->present & TW_OPT_SACK_PERM) {
        tw_wr_u8(&w, OPT_NOP);
        tw_wr_u8(&w, OPT_NOP);
        tw_wr_u8(&w, OPT_SACK_PERM);
        tw_wr_u8(&w, 2);
    }
    if (o->present & TW_OPT_WSCALE) {
        tw_wr_u8(&w, OPT_NOP);
        tw_wr_u8(&w, OPT_WS);
        tw_wr_u8(&w, 3);
        tw_wr_u8(&w, o->wscale);
    }
    if ((o->present & TW_OPT_SACK) && o->sack_n) {
        unsigned n = o->sack_n;
        size_t room = (size_t)(w.end - w.p);
        while (n && 4 + 8 * n > room) {
            n--;
        }
        if (n) {
            tw_wr_u8(&w, OPT_NOP);
            tw_wr_u8(&w, OPT_NOP);
            tw_wr_u8(&w, OPT_SACK);
            tw_wr_u8(&w, (uint8_t)(2 + 8 * n));
            for (unsigned i = 0; i < n; i++) {
                tw_wr_u32(&w, o->sack[i].start);
                tw_wr_u32(&w, o->sack[i].end);
            }
        }
    }
    while (tw_wr_len(&w) % 4) {
        tw_wr_u8(&w, OPT_EOL);
    }
    return tw_wr_len(&w);
}

void tw_tcp_build_hdr(uint8_t *buf, const tw_tcp_hdr *h, size_t olen, uint32_t src, uint32_t dst,
                      uint32_t payload_sum)
{
    size_t hlen = TW_TCP_HDR_LEN + olen;
    tw_put16(buf, h->sport);
    tw_put16(buf + 2, h->dport);
    tw_put32(buf + 4, h->seq);
    tw_put32(buf + 8, h->ack);
    buf[12] = (uint8_t)((hlen / 4) << 4);
    buf[13] = h->flags;
    tw_put16(buf + 14, h->win);
    tw_put16(buf + 16, 0);
    tw_put16(buf + 18, h->urg);
    uint16_t seglen = (uint16_t)(hlen + h->payload_len);
    /* The payload starts at an even offset (hlen is a multiple of 4), so its partial
       sum adds without byte swapping. */
    uint32_t sum = tw_cksum_pseudo(src, dst, TW_IPPROTO_TCP, seglen);
    uint64_t native = tw_cksum_to_native(tw_cksum_fold((uint64_t)sum + payload_sum));
    tw_cksum_native_store(buf + 16, tw_cksum_native_words(native, buf, hlen / 4));
}

size_t tw_tcp_build(uint8_t *buf, const tw_tcp_hdr *h, uint32_t src, uint32_t dst,
                    uint32_t payload_sum)
{
    size_t olen = tw_tcp_build_opts(buf + TW_TCP_HDR_LEN, &h->o);
    tw_tcp_build_hdr(buf, h, olen, src, dst, payload_sum);
    return TW_TCP_HDR_LEN + olen;
}

__attribute__((noinline, cold)) uint64_t tw_tcp_sum_seg(uint64_t sum, const uint8_t *seg)
{
    return tw_cksum_native_words(sum, seg, tw_tcp_doff_len(seg[12]) / 4u);
}

__attribute__((noinline, cold)) enum tw_counter tw_tcp_parse_opts_pkt(tw_tcp_opts *o,
                                                                      const uint8_t *pkt)
{
    const uint8_t *seg = pkt + TW_IPV4_HDR_LEN;
    return tw_tcp_parse_opts(o, seg + TW_TCP_HDR_LEN, tw_tcp_doff_len(seg[12]) - TW_TCP_HDR_LEN);
}
