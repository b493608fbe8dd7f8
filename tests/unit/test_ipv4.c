/*
 * test_ipv4.c -- IPv4 header validation and building (ipv4.h; RFC 791, RFC 1122 3.2.1).
 *
 * SPEC R8: every malformed packet is dropped with the counter that names why. Each row
 * below breaks one thing in an otherwise valid packet (re-computing the header checksum
 * unless the checksum is the thing broken) and expects exactly one counter.
 */
#include "core/ipv4.h"
#include "core/cksum.h"
#include "core/rd.h"
#include "core/wr.h"
#include "unit.h"

#include <string.h>

#define SELF 0xc0a80001u  /* 192.168.0.1 */
#define OTHER 0xc0000201u /* 192.0.2.1 */
#define PAYLOAD 8

typedef struct pkt {
    uint8_t b[128];
    size_t len;
} pkt;

static void fix_csum(pkt *p)
{
    size_t hl = (size_t)(p->b[0] & 0xf) * 4;
    if (hl < 20 || hl > p->len) {
        hl = 20; /* header length itself is what is broken: checksum the first 20 */
    }
    tw_put16(p->b + 10, 0);
    tw_put16(p->b + 10, tw_cksum_fin(tw_cksum_add(0, p->b, hl, 0)));
}

static pkt good(void)
{
    pkt p;
    memset(&p, 0, sizeof(p));
    tw_ipv4_build(p.b, OTHER, SELF, TW_IPPROTO_TCP, PAYLOAD, 0x1234);
    memcpy(p.b + 20, "payload!", PAYLOAD);
    p.len = 20 + PAYLOAD;
    return p;
}

static void m_none(pkt *p)
{
    (void)p;
}
static void m_len19(pkt *p)
{
    p->len = 19;
}
static void m_len0(pkt *p)
{
    p->len = 0;
}
static void m_version6(pkt *p)
{
    p->b[0] = 0x65;
}
static void m_version0(pkt *p)
{
    p->b[0] = 0x05;
}
static void m_ihl4(pkt *p)
{
    p->b[0] = 0x44;
}
static void m_ihl0(pkt *p)
{
    p->b[0] = 0x40;
}
static void m_ihl15_short(pkt *p)
{
    p->b[0] = 0x4f; /* 60-byte header in a 28-byte packet */
}
static void m_ihl6_options(pkt *p)
{
    /* a legal 24-byte header: four NOP option bytes (RFC 791 option type 1) */
    memmove(p->b + 24, p->b + 20, PAYLOAD);
    memset(p->b + 20, 1, 4);
    p->b[0] = 0x46;
    tw_put16(p->b + 2, 24 + PAYLOAD);
    p->len = 24 + PAYLOAD;
}
static void m_total_below_hdr(pkt *p)
{
    tw_put16(p->b + 2, 19);
}
static void m_total_zero(pkt *p)
{
    tw_put16(p->b + 2, 0);
}
static void m_total_beyond_packet(pkt *p)
{
    tw_put16(p->b + 2, (uint16_t)(p->len + 1));
}
static void m_total_is_header(pkt *p)
{
    tw_put16(p->b + 2, 20); /* valid: no payload, the rest is link padding */
}
static void m_link_padding(pkt *p)
{
    p->len += 18; /* Ethernet pads short frames; total_len is what counts */
}
static void m_bad_csum(pkt *p)
{
    p->b[11] ^= 0x01;
}
static void m_payload_not_in_csum(pkt *p)
{
    p->b[20] ^= 0xff; /* the header checksum covers the header only */
}
static void m_more_fragments(pkt *p)
{
    tw_put16(p->b + 6, 0x2000);
}
static void m_frag_offset1(pkt *p)
{
    tw_put16(p->b + 6, 0x0001);
}
static void m_frag_offset_max(pkt *p)
{
    tw_put16(p->b + 6, 0x1fff);
}
static void m_last_fragment_with_df(pkt *p)
{
    tw_put16(p->b + 6, 0x4000 | 0x0010); /* DF and an offset: still a fragment */
}
static void m_no_df(pkt *p)
{
    tw_put16(p->b + 6, 0x0000);
}
static void m_dst_other(pkt *p)
{
    tw_put32(p->b + 16, 0xc0a80002u);
}
static void m_dst_broadcast(pkt *p)
{
    tw_put32(p->b + 16, 0xffffffffu);
}
static void m_src_zero(pkt *p)
{
    tw_put32(p->b + 12, 0);
}
static void m_src_broadcast(pkt *p)
{
    tw_put32(p->b + 12, 0xffffffffu);
}
static void m_src_multicast_low(pkt *p)
{
    tw_put32(p->b + 12, 0xe0000001u); /* 224.0.0.1 */
}
static void m_src_multicast_high(pkt *p)
{
    tw_put32(p->b + 12, 0xefffffffu); /* 239.255.255.255 */
}
static void m_src_self(pkt *p)
{
    tw_put32(p->b + 12, SELF);
}
static void m_src_below_multicast(pkt *p)
{
    tw_put32(p->b + 12, 0xdfffffffu); /* 223.255.255.255: ordinary unicast */
}

typedef struct ip_case {
    const char *what;
    void (*mutate)(pkt *);
    bool keep_csum; /* don't re-compute the checksum after mutating */
    enum tw_counter want;
    size_t hdr_len, payload_len; /* checked when want == TW_CNT_COUNT_ */
} ip_case;

#define OK TW_CNT_COUNT_
static const ip_case cases[] = {
    {"valid", m_none, false, OK, 20, PAYLOAD},
    {"19 bytes", m_len19, false, TW_CNT_IP_RX_TOO_SHORT, 0, 0},
    {"empty", m_len0, false, TW_CNT_IP_RX_TOO_SHORT, 0, 0},
    {"version 6", m_version6, false, TW_CNT_IP_RX_BAD_VERSION, 0, 0},
    {"version 0", m_version0, false, TW_CNT_IP_RX_BAD_VERSION, 0, 0},
    {"IHL 4 (16 bytes)", m_ihl4, false, TW_CNT_IP_RX_BAD_IHL, 0, 0},
    {"IHL 0", m_ihl0, false, TW_CNT_IP_RX_BAD_IHL, 0, 0},
    {"IHL 15 beyond the packet", m_ihl15_short, false, TW_CNT_IP_RX_BAD_IHL, 0, 0},
    {"IHL 6 with options", m_ihl6_options, false, OK, 24, PAYLOAD},
    {"total length 19", m_total_below_hdr, false, TW_CNT_IP_RX_BAD_LEN, 0, 0},
    {"total length 0", m_total_zero, false, TW_CNT_IP_RX_BAD_LEN, 0, 0},
    {"total length past the packet", m_total_beyond_packet, false, TW_CNT_IP_RX_BAD_LEN, 0, 0},
    {"total length = header", m_total_is_header, false, OK, 20, 0},
    {"link padding after total length", m_link_padding, false, OK, 20, PAYLOAD},
    {"bad checksum", m_bad_csum, true, TW_CNT_IP_RX_BAD_CSUM, 0, 0},
    {"payload outside the checksum", m_payload_not_in_csum, true, OK, 20, PAYLOAD},
    {"more fragments", m_more_fragments, false, TW_CNT_IP_RX_FRAGMENT, 0, 0},
    {"fragment offset 1", m_frag_offset1, false, TW_CNT_IP_RX_FRAGMENT, 0, 0},
    {"fragment offset 8191", m_frag_offset_max, false, TW_CNT_IP_RX_FRAGMENT, 0, 0},
    {"DF with an offset", m_last_fragment_with_df, false, TW_CNT_IP_RX_FRAGMENT, 0, 0},
    {"DF clear, not a fragment", m_no_df, false, OK, 20, PAYLOAD},
    {"destination another host", m_dst_other, false, TW_CNT_IP_RX_NOT_OURS, 0, 0},
    {"destination broadcast", m_dst_broadcast, false, TW_CNT_IP_RX_NOT_OURS, 0, 0},
    {"source 0.0.0.0", m_src_zero, false, TW_CNT_IP_RX_BAD_SRC, 0, 0},
    {"source broadcast", m_src_broadcast, false, TW_CNT_IP_RX_BAD_SRC, 0, 0},
    {"source 224.0.0.1", m_src_multicast_low, false, TW_CNT_IP_RX_BAD_SRC, 0, 0},
    {"source 239.255.255.255", m_src_multicast_high, false, TW_CNT_IP_RX_BAD_SRC, 0, 0},
    {"source is our own address", m_src_self, false, TW_CNT_IP_RX_BAD_SRC, 0, 0},
    {"source 223.255.255.255", m_src_below_multicast, false, OK, 20, PAYLOAD},
};

static void test_ipv4_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const ip_case *c = &cases[i];
        pkt p = good();
        c->mutate(&p);
        if (!c->keep_csum) {
            fix_csum(&p);
        }
        tw_ipv4_hdr h;
        memset(&h, 0, sizeof(h));
        enum tw_counter got = tw_ipv4_parse(&h, p.b, p.len, SELF);
        if (got != c->want) {
            fail_msg("%s: got %s, expected %s", c->what, tw_counter_name(got),
                     c->want == OK ? "accepted" : tw_counter_name(c->want));
        }
        if (got == OK) {
            UNIT_EQ(h.hdr_len, c->hdr_len, "%s", c->what);
            UNIT_EQ(h.payload_len, c->payload_len, "%s", c->what);
            UNIT_EQ(h.payload - p.b, c->hdr_len, "%s", c->what);
            UNIT_EQ(h.src, c->mutate == m_src_below_multicast ? 0xdfffffffu : OTHER, "%s", c->what);
            UNIT_EQ(h.dst, SELF, "%s", c->what);
            UNIT_EQ(h.proto, TW_IPPROTO_TCP, "%s", c->what);
            if (c->mutate != m_payload_not_in_csum) {
                assert_memory_equal(h.payload, "payload!", c->payload_len);
            }
        }
    }
}

/* Every length from 0 to a whole valid packet, cut short: never a read past the end
   (ASan watches) and never accepted unless total_len fits. */
static void test_ipv4_truncated_everywhere(void **state)
{
    (void)state;
    pkt p = good();
    for (size_t len = 0; len <= p.len; len++) {
        uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan catches overreads */
        assert_non_null(copy);
        memcpy(copy, p.b, len);
        tw_ipv4_hdr h;
        enum tw_counter got = tw_ipv4_parse(&h, copy, len, SELF);
        enum tw_counter want = len < 20      ? TW_CNT_IP_RX_TOO_SHORT
                               : len < p.len ? TW_CNT_IP_RX_BAD_LEN
                                             : TW_CNT_COUNT_;
        UNIT_EQ(got, want, "length %zu", len);
        free(copy);
    }
}

/* What tw_ipv4_build writes: version 4, IHL 5, total length, id, DF, TTL 64, protocol,
   addresses, and a checksum an independent sum verifies. */
static void test_ipv4_build(void **state)
{
    (void)state;
    uint8_t b[20];
    memset(b, 0xee, sizeof(b));
    tw_ipv4_build(b, SELF, OTHER, TW_IPPROTO_ICMP, 1480, 0xbeef);
    static const uint8_t want[] = {0x45, 0x00, 0x05, 0xdc, 0xbe, 0xef, 0x40, 0x00, 0x40, 0x01};
    assert_memory_equal(b, want, sizeof(want));
    assert_int_equal(tw_get32(b + 12), SELF);
    assert_int_equal(tw_get32(b + 16), OTHER);
    /* the sum over the whole header, checksum included, is all ones */
    uint32_t s = 0;
    for (int i = 0; i < 20; i += 2) {
        s += tw_get16(b + i);
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    assert_int_equal(s, 0xffff);
    /* and what we build, the peer's parse accepts */
    uint8_t full[20 + 1480];
    memcpy(full, b, 20);
    memset(full + 20, 0, 1480);
    tw_ipv4_hdr h;
    assert_int_equal(tw_ipv4_parse(&h, full, sizeof(full), OTHER), TW_CNT_COUNT_);
    assert_int_equal(h.id, 0xbeef);
    assert_int_equal(h.ttl, 64);
    assert_int_equal(h.total_len, 1500);
    assert_int_equal(h.payload_len, 1480);
}

/* Naive RFC 1071 sum of a header: 16-bit big-endian words, end-around carry at the end. */
static uint16_t naive_hdr_sum(const uint8_t *b, size_t len)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        s += tw_get16(b + i);
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)s;
}

/* The checksum computed from the field values (not from the bytes) over random
   addresses, protocols, lengths and ids; and parse checks headers of every length with
   options, at any alignment, against the naive sum (flipping any bit is caught). */
static void test_ipv4_checksum_random(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    uint8_t buf[16 + 60 + PAYLOAD];
    for (int i = 0; i < 20000; i++) {
        uint8_t *b = buf + unit_below(&r, 16);
        uint32_t src = (uint32_t)unit_next(&r), dst = (uint32_t)unit_next(&r);
        uint8_t proto = (uint8_t)unit_next(&r);
        uint16_t plen = (uint16_t)unit_below(&r, 65536 - 20);
        uint16_t id = (uint16_t)unit_next(&r);
        tw_ipv4_build(b, src, dst, proto, plen, id);
        UNIT_EQ(naive_hdr_sum(b, 20), 0xffff, "iteration %d", i);
        UNIT_EQ(tw_get16(b + 2), plen + 20u, "iteration %d", i);
        UNIT_EQ(tw_get16(b + 4), id, "iteration %d", i);
        UNIT_EQ(b[9], proto, "iteration %d", i);

        /* a valid packet to us with a header of 20..60 bytes */
        size_t hl = 20 + 4 * (size_t)unit_below(&r, 11);
        tw_ipv4_build(b, OTHER, SELF, TW_IPPROTO_TCP, (uint16_t)(hl - 20 + PAYLOAD), id);
        b[0] = (uint8_t)(0x40 | hl / 4);
        for (size_t k = 20; k < hl + PAYLOAD; k++) {
            b[k] = (uint8_t)unit_next(&r); /* option bytes are not interpreted */
        }
        tw_put16(b + 10, 0);
        tw_put16(b + 10, (uint16_t)~naive_hdr_sum(b, hl));
        tw_ipv4_hdr h;
        UNIT_EQ(tw_ipv4_parse(&h, b, hl + PAYLOAD, SELF), TW_CNT_COUNT_, "iteration %d hl %zu", i,
                hl);
        UNIT_EQ(h.payload_len, PAYLOAD, "iteration %d hl %zu", i, hl);
        size_t bit = (size_t)unit_below(&r, 8 * hl);
        b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (tw_ipv4_parse(&h, b, hl + PAYLOAD, SELF) == TW_CNT_COUNT_) {
            fail_msg("iteration %d hl %zu: flipped bit %zu accepted", i, hl, bit);
        }
    }
}

/* The checks of RFC 791 / RFC 1122 3.2.1 in the order the counters are documented,
   written plainly: what parse must answer for any packet. */
static enum tw_counter naive_classify(const uint8_t *b, size_t len)
{
    if (len < 20) {
        return TW_CNT_IP_RX_TOO_SHORT;
    }
    if (b[0] >> 4 != 4) {
        return TW_CNT_IP_RX_BAD_VERSION;
    }
    size_t hl = (size_t)(b[0] & 0xf) * 4;
    if (hl < 20 || hl > len) {
        return TW_CNT_IP_RX_BAD_IHL;
    }
    size_t total = tw_get16(b + 2);
    if (total < hl || total > len) {
        return TW_CNT_IP_RX_BAD_LEN;
    }
    if (naive_hdr_sum(b, hl) != 0xffff) {
        return TW_CNT_IP_RX_BAD_CSUM;
    }
    if (tw_get32(b + 16) != SELF) {
        return TW_CNT_IP_RX_NOT_OURS;
    }
    uint32_t src = tw_get32(b + 12);
    if (src == 0 || src == 0xffffffffu || (src >> 28) == 0xe || (src >> 24) == 127 ||
        src == SELF) {
        return TW_CNT_IP_RX_BAD_SRC;
    }
    uint16_t frag = tw_get16(b + 6);
    if ((frag & 0x2000) || (frag & 0x1fff)) {
        return TW_CNT_IP_RX_FRAGMENT; /* a good fragment, for reassembly */
    }
    return TW_CNT_COUNT_;
}

/* Random near-valid packets (each field right most of the time, wrong sometimes, the
   checksum usually recomputed) against the plain classification: the fast path for the
   usual header and the check-by-check path must both agree with it, fields included. */
static void test_ipv4_parse_random_against_naive(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    static const uint32_t srcs[] = {OTHER, 0, 0xffffffffu, 0xe0000001u, 0xefffffffu,
                                    0x7f000001u, SELF, 0xdfffffffu, 0xf0000001u};
    uint8_t buf[8 + 60 + 40];
    int ok = 0;
    for (int i = 0; i < 50000; i++) {
        uint8_t *b = buf + unit_below(&r, 8);
        size_t hl = unit_below(&r, 4) ? 20 : 4 * (size_t)unit_below(&r, 16);
        size_t plen = (size_t)unit_below(&r, 41);
        size_t len = (hl < 20 ? 20 : hl) + plen;
        for (size_t k = 0; k < len; k++) {
            b[k] = (uint8_t)unit_next(&r);
        }
        b[0] = (uint8_t)((unit_below(&r, 8) ? 4 : unit_below(&r, 16)) << 4 | hl / 4);
        size_t total = unit_below(&r, 8) ? len - unit_below(&r, plen + 1) : unit_below(&r, 200);
        tw_put16(b + 2, (uint16_t)total);
        uint16_t frag = unit_below(&r, 2) ? 0x4000 : (uint16_t)unit_next(&r);
        tw_put16(b + 6, frag);
        tw_put32(b + 12, srcs[unit_below(&r, 4) ? 0 : unit_below(&r, 9)]);
        tw_put32(b + 16, unit_below(&r, 8) ? SELF : (uint32_t)unit_next(&r));
        if (unit_below(&r, 8) && hl >= 20 && hl <= len) {
            tw_put16(b + 10, 0);
            tw_put16(b + 10, (uint16_t)~naive_hdr_sum(b, hl));
        }
        if (unit_below(&r, 16) == 0) {
            len = (size_t)unit_below(&r, len + 1); /* truncated anywhere */
        }
        enum tw_counter want = naive_classify(b, len);
        tw_ipv4_hdr h;
        UNIT_EQ(tw_ipv4_parse(&h, b, len, SELF), want, "iteration %d", i);
        if (want == TW_CNT_COUNT_) {
            ok++;
            UNIT_EQ(h.hdr_len, hl, "iteration %d", i);
            UNIT_EQ(h.payload - b, hl, "iteration %d", i);
            UNIT_EQ(h.payload_len, tw_get16(b + 2) - hl, "iteration %d", i);
            UNIT_EQ(h.total_len, tw_get16(b + 2), "iteration %d", i);
            UNIT_EQ(h.src, tw_get32(b + 12), "iteration %d", i);
            UNIT_EQ(h.dst, SELF, "iteration %d", i);
            UNIT_EQ(h.proto, b[9], "iteration %d", i);
            UNIT_EQ(h.id, tw_get16(b + 4), "iteration %d", i);
            UNIT_EQ(h.ttl, b[8], "iteration %d", i);
            UNIT_EQ(h.tos, b[1], "iteration %d", i);
        }
    }
    print_message("%d of 50000 accepted\n", ok);
    assert_true(ok > 5000); /* both outcomes are exercised */
}

/* tw_ipv4_build_sum: the header checksum from the address sum a TCP sender shares with
   its pseudo-header (tcp_out.c) must equal the full sum over the 20 bytes, on random
   headers and on the extremes where every end-around carry happens. */
static void test_ipv4_build_sum_random(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    uint8_t a[20], b[20];
    for (int i = 0; i < 50000; i++) {
        uint32_t src = (uint32_t)unit_next(&r), dst = (uint32_t)unit_next(&r);
        uint8_t proto = (uint8_t)unit_next(&r);
        uint16_t plen = (uint16_t)unit_below(&r, 65536 - 20);
        uint16_t id = (uint16_t)unit_next(&r);
        if (i < 16) {
            /* all ones or all zeros in each field */
            src = (i & 1) ? 0xffffffffu : 0;
            dst = (i & 2) ? 0xffffffffu : 0;
            id = (i & 4) ? 0xffffu : 0;
            plen = (i & 8) ? 65535 - 20 : 0;
            proto = TW_IPPROTO_TCP;
        }
        tw_ipv4_build_sum(a, (uint64_t)src + dst, src, dst, proto, plen, id);
        UNIT_EQ(naive_hdr_sum(a, 20), 0xffff, "iteration %d", i);
        tw_ipv4_build(b, src, dst, proto, plen, id);
        UNIT_EQ(memcmp(a, b, 20), 0, "iteration %d", i);
        UNIT_EQ(tw_get32(a + 12), src, "iteration %d", i);
        UNIT_EQ(tw_get32(a + 16), dst, "iteration %d", i);
        UNIT_EQ(tw_get16(a + 2), plen + 20u, "iteration %d", i);
        UNIT_EQ(tw_get16(a + 4), id, "iteration %d", i);
        UNIT_EQ(tw_get16(a + 6), 0x4000, "iteration %d", i);
        UNIT_EQ(a[8], 64, "iteration %d", i);
        UNIT_EQ(a[9], proto, "iteration %d", i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_parse_table),
        cmocka_unit_test(test_ipv4_truncated_everywhere),
        cmocka_unit_test(test_ipv4_build),
        cmocka_unit_test(test_ipv4_checksum_random),
        cmocka_unit_test(test_ipv4_build_sum_random),
        cmocka_unit_test(test_ipv4_parse_random_against_naive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
