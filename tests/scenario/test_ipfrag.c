/*
 * test_ipfrag.c -- IPv4 reassembly (RFC 791 3.2, RFC 1122 3.3.2; src/core/ipfrag.c): a TCP
 * segment or an echo request that arrives in fragments, in any order, is taken whole
 * (D1); malformed, overlapping, duplicate, late and excess fragments are dropped and
 * counted, never delivered and never kept past their time (R8); an echo reply larger
 * than the MTU leaves in fragments (RFC 1122 3.2.2.6). A datagram of another protocol is
 * answered with Protocol Unreachable, within the ICMP error rate (RFC 1122 3.2.2.1).
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 1000u

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* The IPv4 header's checksum alone (tw_t_fix_csums would also "fix" the TCP checksum of
   a first fragment, as if it held the whole segment), over `hl` bytes. */
static void ip_csum_n(uint8_t *h, size_t hl)
{
    put16(h + 10, 0);
    uint32_t sum = 0;
    for (size_t i = 0; i < hl; i += 2) {
        sum += get16(h + i);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    put16(h + 10, (uint16_t)~sum);
}

static void ip_csum(uint8_t *h)
{
    ip_csum_n(h, 20);
}

static int setup(void **state)
{
    *state = tw_t_new(NULL);
    return 0;
}

/* The same without a trace hook: packets take the usual parse first, which leaves a
   fragment to the full path (tcp_hdr.h). */
static int setup_untraced(void **state)
{
    *state = tw_t_new_untraced(NULL);
    return 0;
}

static int teardown(void **state)
{
    tw_t_free(*state);
    return 0;
}

/* Fragment k of the datagram `pkt` (20-byte header): payload bytes [off, off + n), MF as
   given, identification `id`, into out; returns its length. */
static size_t frag_of(const uint8_t *pkt, size_t len, uint16_t id, size_t off, size_t n, bool mf,
                      uint8_t *out)
{
    size_t pl = len - 20;
    assert_true(off + n <= pl);
    memcpy(out, pkt, 20);
    memcpy(out + 20, pkt + 20 + off, n);
    put16(out + 2, (uint16_t)(20 + n));
    put16(out + 4, id);
    put16(out + 6, (uint16_t)((mf ? 0x2000u : 0u) | (off / 8u)));
    ip_csum(out);
    return 20 + n;
}

/* Send fragment [off, off + n) of pkt; the last fragment is the one that reaches the end. */
static void send_frag(tw_t *t, const uint8_t *pkt, size_t len, uint16_t id, size_t off, size_t n)
{
    uint8_t f[2100];
    size_t fl = frag_of(pkt, len, id, off, n, off + n < len - 20, f);
    tw_t_send_raw(t, tw_t_now(t), f, fl);
}

/* A data segment of `n` bytes (pattern by position) at v, acking u, built whole. */
static size_t data_packet(uint8_t *p, size_t cap, uint32_t v, uint32_t u, size_t n, uint8_t *data)
{
    for (size_t i = 0; i < n; i++) {
        data[i] = (uint8_t)(i * 7 + 3);
    }
    tw_t_seg s = IN(.flags = TW_ACK | TW_PSH, .seq = v, .ack = u, .data = data, .len = (uint32_t)n);
    return tw_t_build(&s, p, cap);
}

static void read_all(tw_socket *c, const uint8_t *want, size_t n)
{
    uint8_t got[4000];
    assert_int_equal(tw_socket_recv(c, got, sizeof got, T0), (tw_ssize)n);
    assert_memory_equal(got, want, n);
}

/* D1 over fragments: a 1,000-byte segment in four fragments (header and data cut at
   8-byte boundaries, the TCP header split across two), sent in order, then again for the
   next segment in a shuffled order with the last first: each is taken whole, once, and
   acknowledged as one segment. */
static void test_d01_segment_in_fragments_any_order(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    uint8_t p[1200], data[1000];
    size_t n = data_packet(p, sizeof p, v, u, 1000, data); /* TCP 20 + 1000 */
    send_frag(t, p, n, 7, 0, 8);
    send_frag(t, p, n, 7, 8, 400);
    send_frag(t, p, n, 7, 408, 400);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_rx_pending(c), 0);
    send_frag(t, p, n, 7, 808, 212);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 1000, .any = TW_T_ANY_WIN));
    read_all(c, data, 1000);
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_RX_FRAGMENT), 4);
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_FRAG_REASSEMBLED), 1);
    /* Every fragment counts once as a packet received: the last as the segment. */
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_SEGMENTS), 3);

    v += 1000;
    n = data_packet(p, sizeof p, v, u, 1000, data);
    send_frag(t, p, n, 8, 1016, 4); /* the last (4 bytes), first */
    send_frag(t, p, n, 8, 512, 504);
    send_frag(t, p, n, 8, 0, 256);
    TW_EXPECT_NOTHING(t);
    send_frag(t, p, n, 8, 256, 256);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 1000, .any = TW_T_ANY_WIN));
    read_all(c, data, 1000);
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_FRAG_REASSEMBLED), 2);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .any = TW_T_ANY_SEQ | TW_T_ANY_ACK | TW_T_ANY_WIN));
    TW_ASSERT_IDLE(t);
}

/* R8: a fragment sent twice is dropped as a duplicate and the datagram still completes;
   fragments that overlap discard the datagram (nothing delivered, nothing held), as do a
   second last fragment with another end and data past the end; the peer's
   retransmission, whole, then gets through. */
static void test_r08_duplicate_overlap_and_second_end(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    uint8_t p[1200], data[1000];
    size_t n = data_packet(p, sizeof p, v, u, 1000, data);

    send_frag(t, p, n, 1, 0, 512);
    send_frag(t, p, n, 1, 0, 512);
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_FRAG_DUP), 1);
    send_frag(t, p, n, 1, 512, 508);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 1000, .any = TW_T_ANY_WIN));
    read_all(c, data, 1000);
    size_t mem0 = tw_stack_mem_live(tw_t_stack(t)); /* (the receive buffer's block made) */
    v += 1000;
    n = data_packet(p, sizeof p, v, u, 1000, data);

    /* Overlap: [0, 512) then [504, 1016). */
    send_frag(t, p, n, 2, 0, 512);
    send_frag(t, p, n, 2, 504, 512);
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_FRAG_OVERLAP), 1);
    send_frag(t, p, n, 2, 1016, 4); /* a new datagram of the same id: incomplete */
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_rx_pending(c), 0);

    /* A second last fragment with another end: [1016, 1020) came above, now one ending at
       1,016 (MF clear): not one datagram. */
    uint8_t f[1600];
    size_t fl = frag_of(p, n, 2, 512, 504, false, f);
    tw_t_send_raw(t, tw_t_now(t), f, fl);
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_FRAG_BAD), 1);
    /* Data past the end: an end at 512, then a fragment beyond it. */
    fl = frag_of(p, n, 3, 256, 256, false, f);
    tw_t_send_raw(t, tw_t_now(t), f, fl);
    send_frag(t, p, n, 3, 512, 8);
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_FRAG_BAD), 2);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_stack_mem_live(tw_t_stack(t)), mem0);

    /* The same bytes whole: taken. */
    tw_t_send_raw(t, tw_t_now(t), p, n);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 1000, .any = TW_T_ANY_WIN));
    read_all(c, data, 1000);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .any = TW_T_ANY_SEQ | TW_T_ANY_ACK | TW_T_ANY_WIN));
    TW_ASSERT_IDLE(t);
}

/* RFC 1122 3.3.2: a datagram not whole 30 s after its first fragment came is discarded;
   when its fragment zero came, the source is told with ICMP Time Exceeded, code 1,
   quoting its header and 8 bytes of data. Without fragment zero, nothing is sent. */
static void test_r08_reassembly_timeout_icmp(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    size_t mem0 = tw_stack_mem_live(tw_t_stack(t));
    uint8_t p[1200], data[1000];
    size_t n = data_packet(p, sizeof p, v, u, 1000, data);
    tw_time t0 = tw_t_now(t);
    send_frag(t, p, n, 9, 0, 512);        /* fragment zero, then nothing */
    tw_t_advance(t, t0 + TW_SEC(10));
    send_frag(t, p, n, 10, 512, 508);     /* another datagram, no fragment zero */
    assert_true(tw_stack_next_deadline(tw_t_stack(t)) <= t0 + TW_SEC(30));
    tw_t_advance(t, t0 + TW_SEC(30) - TW_MS(1));
    assert_int_equal(tw_t_pending(t), 0);
    tw_t_advance(t, t0 + TW_SEC(30));
    uint8_t r[700];
    size_t rl = tw_t_pop_raw(t, r, sizeof r);
    assert_int_equal(rl, 20 + 8 + 20 + 512); /* the first fragment, whole (576 at most) */
    assert_int_equal(r[9], 1); /* ICMP */
    assert_int_equal(r[20], 11); /* Time Exceeded */
    assert_int_equal(r[21], 1);  /* fragment reassembly time exceeded */
    assert_int_equal(get16(r + 20 + 8 + 4), 9);           /* the quoted id */
    assert_memory_equal(r + 20 + 8 + 20, p + 20, 512);    /* ports, sequence number, ... */
    assert_int_equal(tw_t_counter(t, TW_CNT_ICMP_TX_TIME_EXCEEDED), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_FRAG_TIMEOUT), 1);
    tw_t_advance(t, t0 + TW_SEC(41));
    TW_EXPECT_NOTHING(t); /* the second: no fragment zero, no message */
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_FRAG_TIMEOUT), 2);
    assert_int_equal(tw_t_counter(t, TW_CNT_ICMP_TX_TIME_EXCEEDED), 1);
    assert_int_equal(tw_stack_mem_live(tw_t_stack(t)), mem0);
    assert_int_equal(tw_socket_state(c), TW_STATE_ESTABLISHED);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .any = TW_T_ANY_SEQ | TW_T_ANY_ACK | TW_T_ANY_WIN));
    TW_ASSERT_IDLE(t);
}

/* A TCP fragment from the peer made up whole: `n` bytes at `off`, MF set. */
static void send_raw_frag(tw_t *t, uint16_t id, size_t off, size_t n)
{
    uint8_t f[1600];
    memset(f, 0, sizeof f);
    f[0] = 0x45;
    f[8] = 64;
    f[9] = 6;
    put32(f + 12, PEER);
    put32(f + 16, LOCAL);
    put16(f + 2, (uint16_t)(20 + n));
    put16(f + 4, id);
    put16(f + 6, (uint16_t)(0x2000u | (off / 8u)));
    for (size_t i = 0; i < n; i++) {
        f[20 + i] = (uint8_t)(i + off);
    }
    ip_csum(f);
    tw_t_send_raw(t, tw_t_now(t), f, 20 + n);
}

/* R8: every fragment fits 65,535 bytes with its own header, but the datagram, which keeps
   the first fragment's 60-byte header (options), would not: discarded, counted, never a
   datagram whose length field wrapped. */
static void test_r08_reassembled_too_long(void **state)
{
    tw_t *t = *state;
    size_t mem0 = tw_stack_mem_live(tw_t_stack(t));
    uint8_t f[1600];
    memset(f, 0, sizeof f);
    f[0] = 0x4f; /* 60-byte header: 40 bytes of options, all NOP (1) */
    memset(f + 20, 1, 40);
    f[8] = 64;
    f[9] = 6;
    put32(f + 12, PEER);
    put32(f + 16, LOCAL);
    put16(f + 2, 60 + 1400);
    put16(f + 4, 99);
    put16(f + 6, 0x2000);
    ip_csum_n(f, 60);
    tw_t_send_raw(t, tw_t_now(t), f, 60 + 1400);
    for (size_t off = 1400; off < 65496; off += 1400) {
        send_raw_frag(t, 99, off, off + 1400 <= 65496 ? 1400 : 65496 - off);
    }
    /* the last: 4 bytes at 65,496 with a 20-byte header (65,520 bytes: fits) */
    memset(f, 0, 24);
    f[0] = 0x45;
    f[8] = 64;
    f[9] = 6;
    put32(f + 12, PEER);
    put32(f + 16, LOCAL);
    put16(f + 2, 24);
    put16(f + 4, 99);
    put16(f + 6, 65496 / 8);
    ip_csum_n(f, 20);
    tw_t_send_raw(t, tw_t_now(t), f, 24);
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_FRAG_BAD), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_FRAG_REASSEMBLED), 0);
    assert_int_equal(tw_stack_mem_live(tw_t_stack(t)), mem0);
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R8 / S8: reassembly is bounded: 64 datagrams at most (a 65th first fragment is dropped
   and counted) and 256 KiB of fragments held (those past it dropped and counted); each
   goes after its time. */
static void test_r08_reassembly_bounded(void **state)
{
    tw_t *t = *state;
    size_t mem0 = tw_stack_mem_live(tw_t_stack(t));
    for (uint16_t id = 0; id < 65; id++) {
        send_raw_frag(t, id, 0, 1400); /* never completed */
    }
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_FRAG_LIMIT), 1);
    size_t held = tw_stack_mem_live(tw_t_stack(t)) - mem0;
    assert_true(held > 64u * 1400u && held < 64u * 1600u);
    for (uint16_t id = 0; id < 64; id++) {
        for (size_t k = 1; k < 4; k++) {
            send_raw_frag(t, id, k * 1400, 1400);
        }
    }
    /* 64 x 4 x 1,400 bytes would be 350 KiB */
    held = tw_stack_mem_live(tw_t_stack(t)) - mem0;
    assert_true(held <= 256u * 1024u + 64u * 200u);
    assert_true(held > 240u * 1024u);
    assert_true(tw_t_counter(t, TW_CNT_IP_FRAG_LIMIT) > 50);
    tw_t_advance(t, tw_t_now(t) + TW_SEC(31));
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_FRAG_TIMEOUT), 64);
    /* all at once: the ICMP error rate's burst of 50 */
    assert_int_equal(tw_t_counter(t, TW_CNT_ICMP_TX_TIME_EXCEEDED), 50);
    assert_int_equal(tw_t_counter(t, TW_CNT_ICMP_TX_RATELIMITED), 14);
    assert_int_equal(tw_t_pending(t), 50);
    while (tw_t_pending(t)) {
        uint8_t r[700];
        tw_t_pop_raw(t, r, sizeof r);
    }
    assert_int_equal(tw_stack_mem_live(tw_t_stack(t)), mem0);
    TW_ASSERT_IDLE(t);
}

/* RFC 3168 5.3: fragments mixing Not-ECT and ECT discard their datagram. */
static void test_r08_fragments_mixed_ecn(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    uint8_t p[1200], data[1000], f[1600];
    size_t n = data_packet(p, sizeof p, v, u, 1000, data);
    send_frag(t, p, n, 4, 0, 512);
    size_t fl = frag_of(p, n, 4, 512, 508, false, f);
    f[1] = 0x02; /* ECT(0) */
    ip_csum(f);
    tw_t_send_raw(t, tw_t_now(t), f, fl);
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_FRAG_ECN), 1);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_rx_pending(c), 0);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .any = TW_T_ANY_SEQ | TW_T_ANY_ACK | TW_T_ANY_WIN));
    TW_ASSERT_IDLE(t);
}

/* RFC 1122 3.2.2.6: the echo reply carries all of a 4,000-byte request that came in
   fragments, in fragments that fit the MTU (1500): 1480 + 1480 + 1048 bytes, one
   identification, MF on all but the last, offsets in 8-byte units. */
static void test_echo_reply_fragmented(void **state)
{
    tw_t *t = *state;
    static uint8_t req[20 + 4008];
    size_t n = 20 + 4008;
    memset(req, 0, 20);
    req[0] = 0x45;
    req[8] = 64;
    req[9] = 1;
    put16(req + 2, (uint16_t)n);
    put32(req + 12, PEER);
    put32(req + 16, LOCAL);
    uint8_t *icmp = req + 20;
    memset(icmp, 0, 8); /* (static: a run before left its checksum) */
    icmp[0] = 8;
    for (size_t i = 8; i < 4008; i++) {
        icmp[i] = (uint8_t)(i * 13);
    }
    uint32_t sum = 0;
    for (size_t i = 0; i < 4008; i += 2) {
        sum += (uint32_t)(icmp[i] << 8 | icmp[i + 1]);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    put16(icmp + 2, (uint16_t)~sum);
    send_frag(t, req, n, 77, 2000, 2008);
    send_frag(t, req, n, 77, 0, 2000);
    assert_int_equal(tw_t_counter(t, TW_CNT_ICMP_TX_ECHO_REPLY), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_TX_FRAGMENTS), 3);
    static uint8_t whole[4008];
    uint16_t id = 0;
    size_t got = 0;
    for (int k = 0; k < 3; k++) {
        uint8_t r[1600];
        size_t rl = tw_t_pop_raw(t, r, sizeof r);
        assert_true(rl <= 1500 && rl > 20);
        uint16_t frag = get16(r + 6);
        if (k == 0) {
            id = get16(r + 4);
        }
        assert_int_equal(get16(r + 4), id);
        assert_int_equal((frag & 0x1fff) * 8u, got);
        assert_int_equal((frag & 0x2000) != 0, k < 2);
        assert_int_equal(get16(r + 2), rl);
        memcpy(whole + got, r + 20, rl - 20);
        got += rl - 20;
    }
    assert_int_equal(got, 4008);
    assert_int_equal(whole[0], 0); /* echo reply */
    assert_memory_equal(whole + 8, icmp + 8, 4000);
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* RFC 1122 3.2.2.1: a datagram of a protocol the stack does not have (UDP here) is
   answered with ICMP Destination Unreachable, Protocol Unreachable (code 2), quoting its
   header and data; ICMP errors are rate-limited as Linux's (50 at once, then one per
   millisecond), each one held back counted. */
static void test_r08_other_protocol_unreachable(void **state)
{
    tw_t *t = *state;
    uint8_t u[20 + 8 + 12];
    memset(u, 0, sizeof u);
    u[0] = 0x45;
    u[8] = 64;
    u[9] = 17;
    put16(u + 2, sizeof u);
    put32(u + 12, PEER);
    put32(u + 16, LOCAL);
    put16(u + 20, 5353);
    put16(u + 22, 9);
    put16(u + 24, 20);
    memcpy(u + 28, "hello, udp!!", 12);
    ip_csum(u);
    tw_t_send_raw(t, tw_t_now(t), u, sizeof u);
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_RX_UNKNOWN_PROTO), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_ICMP_TX_PROTO_UNREACH), 1);
    uint8_t r[200];
    size_t rl = tw_t_pop_raw(t, r, sizeof r);
    assert_int_equal(rl, 20 + 8 + sizeof u);
    assert_int_equal(r[9], 1);
    assert_int_equal(get16(r + 12), LOCAL >> 16); /* from us */
    assert_int_equal(get16(r + 16), PEER >> 16);  /* to the sender */
    assert_int_equal(r[20], 3);
    assert_int_equal(r[21], 2);
    assert_memory_equal(r + 28, u, sizeof u);
    uint32_t sum = 0;
    for (size_t i = 20; i < rl; i += 2) {
        sum += get16(r + i);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    assert_int_equal(sum, 0xffff);
    /* 60 more at once: the bucket's 49 left go, 11 are held back. */
    for (int i = 0; i < 60; i++) {
        tw_t_send_raw(t, tw_t_now(t), u, sizeof u);
    }
    assert_int_equal(tw_t_counter(t, TW_CNT_ICMP_TX_PROTO_UNREACH), 50);
    assert_int_equal(tw_t_counter(t, TW_CNT_ICMP_TX_RATELIMITED), 11);
    assert_int_equal(tw_t_pending(t), 49);
    while (tw_t_pending(t)) {
        tw_t_pop_raw(t, r, sizeof r);
    }
    /* 10 ms on: 10 tokens again. */
    tw_t_advance(t, tw_t_now(t) + TW_MS(10));
    for (int i = 0; i < 12; i++) {
        tw_t_send_raw(t, tw_t_now(t), u, sizeof u);
    }
    assert_int_equal(tw_t_counter(t, TW_CNT_ICMP_TX_PROTO_UNREACH), 60);
    assert_int_equal(tw_t_counter(t, TW_CNT_ICMP_TX_RATELIMITED), 13);
    while (tw_t_pending(t)) {
        tw_t_pop_raw(t, r, sizeof r);
    }
    TW_ASSERT_IDLE(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_d01_segment_in_fragments_any_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_r08_duplicate_overlap_and_second_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_r08_reassembly_timeout_icmp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_r08_reassembly_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_r08_reassembled_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_r08_fragments_mixed_ecn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_reply_fragmented, setup, teardown),
        cmocka_unit_test_setup_teardown(test_r08_other_protocol_unreachable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_d01_segment_in_fragments_any_order, setup_untraced, teardown),
        cmocka_unit_test_setup_teardown(test_r08_duplicate_overlap_and_second_end, setup_untraced, teardown),
        cmocka_unit_test_setup_teardown(test_r08_reassembly_timeout_icmp, setup_untraced, teardown),
        cmocka_unit_test_setup_teardown(test_r08_reassembly_bounded, setup_untraced, teardown),
        cmocka_unit_test_setup_teardown(test_r08_fragments_mixed_ecn, setup_untraced, teardown),
        cmocka_unit_test_setup_teardown(test_echo_reply_fragmented, setup_untraced, teardown),
        cmocka_unit_test_setup_teardown(test_r08_other_protocol_unreachable, setup_untraced,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
