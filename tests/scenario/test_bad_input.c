/*
 * test_bad_input.c -- malformed IPv4 and TCP input (SPEC R8; RFC 9293 3.1, 3.2, 3.10.7;
 * RFC 1122 3.2.1; RFC 791).
 *
 * Every case starts from one good packet -- 8 bytes of data at exactly RCV.NXT of an
 * established connection, which the stack would take and acknowledge -- and breaks one
 * thing. Each must be dropped with its own named counter (and no other counter moving),
 * nothing sent, and no change to the connection, its timers or the memory held. Then
 * every single-bit flip and every truncation of the good packet must be dropped too, and
 * at the end the good packet itself (also with IP options and with link padding) is
 * accepted, which shows the cases failed for their fault alone.
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 1000u

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

/* Offsets in the base packet: IPv4 header (20), TCP header (20), 12 bytes of options
   (a timestamp option: kind 8, length 10, then padding), 8 bytes of data. */
enum { IP = 0, TCP = 20, OPT = 40, OPTLEN = 12, DATA = 52, BASE_LEN = 60 };

/* One change to the good packet: set or flip 1, 2 or 4 bytes at an offset. */
typedef struct edit {
    uint8_t at, width;
    bool flip;
    uint32_t val;
} edit;

typedef struct bad_case {
    const char *name;
    enum tw_counter counter; /* the one drop counter that must move */
    bool fix;                /* recompute the checksums after the edits */
    size_t len;              /* 0: keep the length */
    edit e[2];               /* width 0: unused */
    uint8_t opt[OPTLEN];     /* if opt[0] or opt[1] is set: these TCP options instead */
} bad_case;

#define SET1(o, v) {(o), 1, false, (v)}
#define SET2(o, v) {(o), 2, false, (v)}
#define SET4(o, v) {(o), 4, false, (v)}
#define FLIP1(o, v) {(o), 1, true, (v)}
#define NOP 1
static const bad_case cases[] = {
    {"ip shorter than its header", TW_CNT_IP_RX_TOO_SHORT, false, 19, {{0}}, {0}},
    {"ip version 6", TW_CNT_IP_RX_BAD_VERSION, true, 0, {SET1(IP, 0x65)}, {0}},
    {"ip header length 16", TW_CNT_IP_RX_BAD_IHL, false, 0, {SET1(IP, 0x44)}, {0}},
    {"ip header length 60 in a 40-byte packet", TW_CNT_IP_RX_BAD_IHL, false, 40,
     {SET1(IP, 0x4f)}, {0}},
    {"ip total length below the header", TW_CNT_IP_RX_BAD_LEN, true, 0, {SET2(IP + 2, 19)},
     {0}},
    {"ip total length beyond the packet", TW_CNT_IP_RX_BAD_LEN, true, 0,
     {SET2(IP + 2, BASE_LEN + 1)}, {0}},
    {"ip bad header checksum", TW_CNT_IP_RX_BAD_CSUM, false, 0, {FLIP1(IP + 10, 0x40)}, {0}},
    /* Fragments go to reassembly (test_ipfrag.c); these cannot be part of a datagram. */
    {"ip fragment (MF) ending past 65,535", TW_CNT_IP_FRAG_BAD, true, 0,
     {SET2(IP + 6, 0x2000 | 8190)}, {0}},
    {"ip last fragment ending past 65,535", TW_CNT_IP_FRAG_BAD, true, 0, {SET2(IP + 6, 8191)},
     {0}},
    {"ip fragment (MF) not a multiple of 8 bytes", TW_CNT_IP_FRAG_BAD, true, BASE_LEN - 1,
     {SET2(IP + 6, 0x2000), SET2(IP + 2, BASE_LEN - 1)}, {0}},
    {"ip not our address", TW_CNT_IP_RX_NOT_OURS, true, 0, {SET4(IP + 16, LOCAL + 1)}, {0}},
    {"ip source 0.0.0.0", TW_CNT_IP_RX_BAD_SRC, true, 0, {SET4(IP + 12, 0)}, {0}},
    {"ip source broadcast", TW_CNT_IP_RX_BAD_SRC, true, 0, {SET4(IP + 12, 0xffffffffu)}, {0}},
    {"ip source multicast", TW_CNT_IP_RX_BAD_SRC, true, 0, {SET4(IP + 12, 0xe0000001u)}, {0}},
    {"ip source is our own address", TW_CNT_IP_RX_BAD_SRC, true, 0, {SET4(IP + 12, LOCAL)},
     {0}},
    /* (another protocol, UDP: answered with Protocol Unreachable, test_ipfrag.c) */
    {"tcp shorter than its header", TW_CNT_TCP_RX_TOO_SHORT, true, 39, {SET2(IP + 2, 39)},
     {0}},
    {"tcp bad checksum", TW_CNT_TCP_RX_BAD_CSUM, false, 0, {FLIP1(TCP + 17, 0x01)}, {0}},
    {"tcp payload corrupted", TW_CNT_TCP_RX_BAD_CSUM, false, 0, {FLIP1(DATA + 3, 0x20)}, {0}},
    {"tcp data offset 4", TW_CNT_TCP_RX_BAD_OFFSET, true, 0, {SET1(TCP + 12, 0x40)}, {0}},
    {"tcp 60-byte header in a 20-byte segment", TW_CNT_TCP_RX_BAD_OFFSET, true, 40,
     {SET2(IP + 2, 40), SET1(TCP + 12, 0xf0)}, {0}},
    {"tcp source port 0", TW_CNT_TCP_RX_BAD_PORT, true, 0, {SET2(TCP, 0)}, {0}},
    {"tcp destination port 0", TW_CNT_TCP_RX_BAD_PORT, true, 0, {SET2(TCP + 2, 0)}, {0}},
    /* (SYN+FIN is no bad input either: the SYN rules answer it on a connection, RFC 5961
       4.2; script states/established_syn_fin) */
    /* (SYN+RST is no bad input: a RST, RFC 9293 3.10.7; script r03_syn_rst_processed_as_rst) */
    {"tcp no flags", TW_CNT_TCP_RX_NO_ACK_FLAG, true, 0, {SET1(TCP + 13, 0)}, {0}},
    /* PSH or URG alone is no null scan: it reaches the state machine, which drops it for
       the missing ACK (RFC 9293 3.10.7.4 fifth) and would answer it with a RST if there
       were no connection (3.10.7.1). */
    {"tcp PSH alone", TW_CNT_TCP_RX_NO_ACK_FLAG, true, 0, {SET1(TCP + 13, TW_PSH)}, {0}},
    {"tcp URG alone", TW_CNT_TCP_RX_NO_ACK_FLAG, true, 0, {SET1(TCP + 13, TW_URG)}, {0}},
    {"option length 0", TW_CNT_TCP_RX_BAD_OPTION, true, 0, {{0}},
     {30, 0, NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP}},
    {"option length 1", TW_CNT_TCP_RX_BAD_OPTION, true, 0, {{0}},
     {30, 1, NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP}},
    {"option length past the header", TW_CNT_TCP_RX_BAD_OPTION, true, 0, {{0}},
     {NOP, NOP, NOP, NOP, 30, 9, 0, 0, 0, 0, 0, 0}},
    {"option kind without its length byte", TW_CNT_TCP_RX_BAD_OPTION, true, 0, {{0}},
     {NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP, 30}},
    {"MSS option of length 3", TW_CNT_TCP_RX_BAD_OPTION, true, 0, {{0}},
     {2, 3, 5, NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP}},
    {"window scale option of length 4", TW_CNT_TCP_RX_BAD_OPTION, true, 0, {{0}},
     {3, 4, 7, 0, NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP}},
    {"SACK-permitted option of length 3", TW_CNT_TCP_RX_BAD_OPTION, true, 0, {{0}},
     {4, 3, 0, NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP, NOP}},
    {"timestamp option of length 9", TW_CNT_TCP_RX_BAD_OPTION, true, 0, {{0}},
     {8, 9, 0, 0, 0, 1, 0, 0, 0, NOP, NOP, NOP}},
    {"SACK option of length 6", TW_CNT_TCP_RX_BAD_OPTION, true, 0, {{0}},
     {5, 6, 0, 0, 0, 1, NOP, NOP, NOP, NOP, NOP, NOP}},
    {"MSS option twice", TW_CNT_TCP_RX_DUP_OPTION, true, 0, {{0}},
     {2, 4, 5, 180, 2, 4, 5, 180, NOP, NOP, NOP, NOP}},
};

static void apply_edit(uint8_t *p, const edit *e)
{
    for (unsigned i = 0; i < e->width; i++) {
        uint8_t b = (uint8_t)(e->val >> (8 * (e->width - 1 - i)));
        p[e->at + i] = e->flip ? (uint8_t)(p[e->at + i] ^ b) : b;
    }
}

typedef struct snap {
    uint64_t cnt[TW_CNT_COUNT_];
    tw_socket_info info;
    size_t mem;
    tw_time deadline;
} snap;

static void take(tw_t *t, const tw_socket *c, snap *s)
{
    for (int i = 0; i < TW_CNT_COUNT_; i++) {
        s->cnt[i] = tw_t_counter(t, (enum tw_counter)i);
    }
    tw_socket_info_get(c, &s->info);
    s->mem = tw_stack_mem_live(tw_t_stack(t));
    s->deadline = tw_stack_next_deadline(tw_t_stack(t));
}

/* Nothing changed but `moved` (+1 each; TW_CNT_COUNT_ ends the list). */
static void same_except(tw_t *t, const tw_socket *c, const snap *a, const char *what,
                        const enum tw_counter *moved)
{
    snap b;
    take(t, c, &b);
    for (int i = 0; i < TW_CNT_COUNT_; i++) {
        uint64_t want = a->cnt[i];
        for (const enum tw_counter *m = moved; *m != TW_CNT_COUNT_; m++) {
            want += (int)*m == i;
        }
        if (b.cnt[i] != want) {
            fail_msg("%s: counter %s went from %llu to %llu (expected %llu)", what,
                     tw_counter_name((enum tw_counter)i), (unsigned long long)a->cnt[i],
                     (unsigned long long)b.cnt[i], (unsigned long long)want);
        }
    }
    if (memcmp(&a->info, &b.info, sizeof a->info) != 0 || a->mem != b.mem ||
        a->deadline != b.deadline) {
        fail_msg("%s: the connection, its timer or the memory held changed", what);
    }
}

static size_t base_packet(uint8_t *p, uint32_t seq, uint32_t ack)
{
    tw_t_seg s = IN(.flags = TW_ACK | TW_PSH, .seq = seq, .ack = ack, .opts = TW_OPT_TS,
                    .ts_val = 4242, .data = "GOODDATA", .len = 8);
    size_t n = tw_t_build(&s, p, 100);
    assert_int_equal(n, BASE_LEN);
    return n;
}

/* R8: the table above, one case at a time, each with its own counter. */
static void test_r08_malformed_cases_dropped_and_counted(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const bad_case *bc = &cases[k];
        uint8_t p[100];
        size_t n = base_packet(p, v, u);
        apply_edit(p, &bc->e[0]);
        apply_edit(p, &bc->e[1]);
        if (bc->opt[0] || bc->opt[1]) {
            memcpy(p + OPT, bc->opt, OPTLEN);
        }
        if (bc->fix) {
            tw_t_fix_csums(p, n);
        }
        if (bc->len) {
            n = bc->len;
        }
        snap a;
        take(t, c, &a);
        tw_t_send_raw(t, tw_t_now(t), p, n);
        TW_EXPECT_NOTHING(t);
        bool tcp = tw_counter_name(bc->counter)[0] == 'T';
        enum tw_counter moved[] = {TW_CNT_IP_RX_PACKETS, bc->counter,
                                   tcp                                  ? TW_CNT_TCP_RX_SEGMENTS
                                   : bc->counter == TW_CNT_IP_FRAG_BAD ? TW_CNT_IP_RX_FRAGMENT
                                                                        : TW_CNT_COUNT_,
                                   TW_CNT_COUNT_};
        same_except(t, c, &a, bc->name, moved);
    }
    assert_int_equal(tw_socket_state(c), TW_STATE_ESTABLISHED);
    assert_int_equal(tw_socket_rx_pending(c), 0);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R8: every single-bit flip of the good packet (the Internet checksum catches all of
   them, and the earlier header checks catch some first) and every truncation is dropped:
   exactly one drop counter moves, nothing is sent, nothing changes. */
static void test_r08_every_bit_flip_and_truncation_dropped(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    uint8_t good[100], p[100];
    size_t n = base_packet(good, v, u);
    for (size_t bit = 0; bit < n * 8; bit++) {
        memcpy(p, good, n);
        p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        snap a, b;
        take(t, c, &a);
        tw_t_send_raw(t, tw_t_now(t), p, n);
        TW_EXPECT_NOTHING(t);
        take(t, c, &b);
        uint64_t drops = 0;
        for (int i = 0; i < TW_CNT_COUNT_; i++) {
            if (i != TW_CNT_IP_RX_PACKETS && i != TW_CNT_TCP_RX_SEGMENTS &&
                i != TW_CNT_ICMP_RX_PACKETS) {
                drops += b.cnt[i] - a.cnt[i];
            }
        }
        if (drops != 1 || memcmp(&a.info, &b.info, sizeof a.info) != 0 || a.mem != b.mem) {
            fail_msg("bit %zu flipped: %llu drop counters moved or state changed", bit,
                     (unsigned long long)drops);
        }
    }
    for (size_t len = 0; len < n; len++) {
        snap a;
        take(t, c, &a);
        tw_t_send_raw(t, tw_t_now(t), good, len);
        TW_EXPECT_NOTHING(t);
        enum tw_counter moved[] = {TW_CNT_IP_RX_PACKETS,
                                   len < 20 ? TW_CNT_IP_RX_TOO_SHORT : TW_CNT_IP_RX_BAD_LEN,
                                   TW_CNT_COUNT_};
        same_except(t, c, &a, "truncated", moved);
    }
    assert_int_equal(tw_socket_rx_pending(c), 0);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R8's counterpart: the good packet is accepted as is, with IPv4 options (RFC 791: a
   header of 24 bytes, here a NOP and an end-of-options list) and with link-layer padding
   after the IP total length (RFC 1122 3.2.1.1 tolerates it). Unknown TCP options of
   correct length are skipped (RFC 9293 3.2, MUST-68). */
static void test_r08_good_packet_variants_accepted(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    uint8_t p[120];
    char b[32];

    size_t n = base_packet(p, v, u);
    tw_t_send_raw(t, tw_t_now(t), p, n);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 8, .win = 65535));
    TW_EXPECT_NOTHING(t);

    n = base_packet(p, v + 8, u);
    memmove(p + 24, p + 20, n - 20);
    p[20] = 1; /* NOP */
    p[21] = 0; /* end of option list */
    p[22] = p[23] = 0;
    p[IP] = 0x46;
    put16(p + 2, (uint32_t)(n + 4));
    tw_t_fix_csums(p, n + 4);
    tw_t_send_raw(t, tw_t_now(t), p, n + 4);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 16, .win = 65535));
    TW_EXPECT_NOTHING(t);

    n = base_packet(p, v + 16, u);
    memset(p + n, 0xee, 6); /* Ethernet-style padding beyond total length */
    tw_t_send_raw(t, tw_t_now(t), p, n + 6);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 24, .win = 65535));
    TW_EXPECT_NOTHING(t);

    n = base_packet(p, v + 24, u);
    static const uint8_t unknown[OPTLEN] = {30, 4, 0xab, 0xcd, 0, 77, 77, 77, 77, 77, 77, 77};
    memcpy(p + OPT, unknown, OPTLEN); /* an unknown option, then end-of-list and junk */
    tw_t_fix_csums(p, n);
    tw_t_send_raw(t, tw_t_now(t), p, n);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 32, .win = 65535));
    TW_EXPECT_NOTHING(t);

    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), 32);
    assert_memory_equal(b, "GOODDATAGOODDATAGOODDATAGOODDATA", 32);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u, .ack = v + 32, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R8 with D1: in-order data is summed while it is copied into the receive buffer, so a
   corrupt segment there must leave no trace, neither in what the application reads nor
   in out-of-order bytes already stored past the hole it claims to fill. */
static void test_r08_corrupt_data_spoils_nothing_stored(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    char b[64];
    uint8_t p[200];
    /* Good data first: the receive buffer exists from now on. */
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_ACK, .seq = v, .ack = u, .len = 8, .data = "AAAAAAAA"));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 8, .win = 65535));
    v += 8;
    uint64_t bad0 = tw_t_counter(t, TW_CNT_TCP_RX_BAD_CSUM);
    /* A corrupt in-order segment: dropped, nothing readable, nothing sent. */
    static const char junk[] = "JJJJJJJJJJJJJJJJ";
    size_t n = tw_t_build(&IN(.flags = TW_ACK, .seq = v, .ack = u, .len = 16, .data = junk),
                          p, sizeof p);
    p[n - 1] ^= 0x40;
    tw_t_send_raw(t, tw_t_now(t), p, n);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_BAD_CSUM), bad0 + 1);
    assert_int_equal(tw_socket_rx_pending(c), 8);
    /* Out-of-order bytes beyond a hole, then a corrupt segment over hole and stored
       bytes alike, then the real hole filler. */
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_ACK, .seq = v + 8, .ack = u, .len = 8, .data = "OOOOOOOO"));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v, .win = 65535, .any = TW_T_ANY_OPTS));
    tw_t_send_raw(t, tw_t_now(t), p, n);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_BAD_CSUM), bad0 + 2);
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_ACK, .seq = v, .ack = u, .len = 8, .data = "GGGGGGGG"));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 16, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), 24);
    assert_memory_equal(b, "AAAAAAAAGGGGGGGGOOOOOOOO", 24);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u, .ack = v + 16, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* The same across the receive ring's wrap: there the copy is in two pieces, and when the
   first is odd the second's sum is byte-swapped (RFC 1071 2(B); test_ringbuf checks
   that sum, since a good segment whose sum came out wrong there would still be taken, by
   the full parsers, after the fast path refused it). One byte is always left unread, so
   the ring (its first 4096-byte block) never empties and starts over at its front: the
   test knows where each segment lands. Per case: segments that bring the write position
   to `first` bytes before the end, then one of `len` bytes that wraps, corrupt in each
   piece (dropped, nothing new readable), then good (read back whole). */
static void test_r08_corrupt_data_across_ring_wrap(void **state)
{
    static const struct {
        uint32_t first, len;
    } wraps[] = {
        {1093, 1200}, /* odd first piece */
        {96, 200},    /* even */
        {1, 3},       /* the ring's last byte */
    };
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    static uint8_t data[1500], back[1500], p[1600];
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 7 + 3);
    }
    tw_t_seg o;
    /* One byte that stays: the ring is allocated with it at position 0. */
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_ACK, .seq = v, .ack = u, .len = 1, .data = "K"));
    v += 1;
    uint32_t w = 1; /* where the next byte lands */
    uint8_t kept = 'K';
    for (size_t k = 0; k < sizeof(wraps) / sizeof(wraps[0]); k++) {
        uint32_t gap = (4096 - wraps[k].first - w) % 4096;
        while (gap > 0) {
            uint32_t n = gap < 1400 ? gap : 1400;
            TW_SEND(t, tw_t_now(t), IN(.flags = TW_ACK, .seq = v, .ack = u, .len = n, .data = data));
            v += n;
            w = (w + n) % 4096;
            gap -= n;
            assert_int_equal(tw_socket_recv(c, back, n, tw_t_now(t)), n);
            assert_int_equal(back[0], kept);
            kept = data[n - 1];
            while (tw_t_pop(t, &o)) {
            }
        }
        uint32_t len = wraps[k].len;
        uint64_t bad0 = tw_t_counter(t, TW_CNT_TCP_RX_BAD_CSUM);
        size_t n = tw_t_build(&IN(.flags = TW_ACK, .seq = v, .ack = u, .len = len, .data = data),
                              p, sizeof p);
        size_t at[2] = {n - len, n - 1}; /* first byte, last byte */
        for (int i = 0; i < 2; i++) {
            p[at[i]] ^= 0x10;
            tw_t_send_raw(t, tw_t_now(t), p, n);
            p[at[i]] ^= 0x10;
            TW_EXPECT_NOTHING(t);
            assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_BAD_CSUM), bad0 + 1 + (uint64_t)i);
            assert_int_equal(tw_socket_rx_pending(c), 1);
        }
        tw_t_send_raw(t, tw_t_now(t), p, n);
        v += len;
        w = (w + len) % 4096;
        memset(back, 0, sizeof back);
        assert_int_equal(tw_socket_recv(c, back, len, tw_t_now(t)), len);
        assert_int_equal(back[0], kept);
        assert_memory_equal(back + 1, data, len - 1);
        kept = data[len - 1];
        while (tw_t_pop(t, &o)) {
        }
    }
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R8 on a connection's first data, when a receive ring block is on the stack's free list
   (one that a connection given back left there): the usual path takes that block and sums
   the payload as it copies it in (tcp_in.c input_unsummed), so a corrupt segment must
   give the block back as it was: nothing readable, nothing sent, no memory held, and the
   good segment after it is taken whole. */
static void test_r08_corrupt_first_data_with_block_on_free_list(void **state)
{
    tw_t *t = *state;
    tw_t_seg o;
    uint32_t y;
    tw_socket *c1 = TW_ACTIVE_OPEN(t, PEER_ISS, &y);
    /* c1 gets a receive ring. */
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_ACK, .seq = PEER_ISS + 1, .ack = y + 1, .len = 4,
                               .data = "AAAA"));
    while (tw_t_pop(t, &o)) {
    }
    /* c2, a second active open from another port, with no data yet. */
    tw_socket *c2 = tw_t_connect(t, PEER, PPORT + 1, LPORT + 1);
    assert_true(tw_t_pop(t, &o) && o.flags == TW_SYN);
    uint32_t u = o.seq + 1, v = PEER_ISS + 1;
    TW_SEND(t, tw_t_now(t), IN(.sport = PPORT + 1, .dport = LPORT + 1, .flags = TW_SYN | TW_ACK,
                               .seq = PEER_ISS, .ack = u, .opts = TW_OPT_MSS, .mss = 1460));
    while (tw_t_pop(t, &o)) {
    }
    assert_int_equal(tw_socket_state(c2), TW_STATE_ESTABLISHED);
    /* c1 goes: its ring's block to the free list (c2 keeps the stack from trimming it). */
    tw_socket_abort(c1, tw_t_now(t));
    while (tw_t_pop(t, &o)) {
    }
    uint8_t p[100];
    size_t n = tw_t_build(&IN(.sport = PPORT + 1, .dport = LPORT + 1, .flags = TW_ACK | TW_PSH,
                              .seq = v, .ack = u, .len = 8, .data = "GOODDATA"),
                          p, sizeof p);
    for (size_t at = n - 8; at < n; at++) {
        snap a;
        take(t, c2, &a);
        p[at] ^= 0x04;
        tw_t_send_raw(t, tw_t_now(t), p, n);
        p[at] ^= 0x04;
        TW_EXPECT_NOTHING(t);
        enum tw_counter moved[] = {TW_CNT_IP_RX_PACKETS, TW_CNT_TCP_RX_BAD_CSUM,
                                   TW_CNT_TCP_RX_SEGMENTS, TW_CNT_COUNT_};
        same_except(t, c2, &a, "corrupt first data", moved);
        assert_int_equal(tw_socket_rx_pending(c2), 0);
    }
    tw_t_send_raw(t, tw_t_now(t), p, n);
    while (tw_t_pop(t, &o)) {
    }
    char b[16];
    assert_int_equal(tw_socket_recv(c2, b, sizeof b, tw_t_now(t)), 8);
    assert_memory_equal(b, "GOODDATA", 8);
    tw_socket_abort(c2, tw_t_now(t));
    while (tw_t_pop(t, &o)) {
    }
    TW_ASSERT_IDLE(t);
}

/* R8 at a listener: malformed SYNs create nothing (no half-open connection, no memory),
   and a malformed ICMP message is counted, not answered. */
static void test_r08_bad_syn_at_listener_creates_nothing(void **state)
{
    tw_t *t = *state;
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    size_t mem = tw_stack_mem_live(tw_t_stack(t));
    uint8_t p[100];
    tw_t_seg syn = IN(.flags = TW_SYN, .seq = PEER_ISS, .opts = TW_OPT_MSS, .mss = 1400);
    size_t n = tw_t_build(&syn, p, sizeof p);
    p[TCP + 17] ^= 0xff; /* bad checksum */
    tw_t_send_raw(t, T0, p, n);
    n = tw_t_build(&syn, p, sizeof p);
    p[TCP + 21] = 1; /* MSS option of length 1 */
    tw_t_fix_csums(p, n);
    tw_t_send_raw(t, T0, p, n);
    n = tw_t_build(&syn, p, sizeof p);
    p[TCP + 13] = TW_SYN | TW_FIN;
    tw_t_fix_csums(p, n);
    tw_t_send_raw(t, T0, p, n);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_BAD_CSUM), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_BAD_OPTION), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_BAD_FLAGS), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_PASSIVE_OPENS), 0);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    assert_int_equal(tw_stack_mem_live(tw_t_stack(t)), mem);

    /* ICMP echo request cut to 4 bytes, then one with a bad checksum. */
    uint8_t icmp[28] = {0x45, 0, 0, 28, 0, 1, 0x40, 0, 64, 1};
    put32(icmp + 12, PEER);
    put32(icmp + 16, LOCAL);
    icmp[20] = 8; /* echo request, code 0, checksum left 0 (wrong), id/seq 0 */
    put16(icmp + 2, 24);
    tw_t_fix_csums(icmp, 24);
    tw_t_send_raw(t, T0, icmp, 24);
    put16(icmp + 2, 28);
    tw_t_fix_csums(icmp, 28);
    tw_t_send_raw(t, T0, icmp, 28);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_ICMP_RX_BAD), 2);
    assert_int_equal(tw_t_counter(t, TW_CNT_ICMP_TX_ECHO_REPLY), 0);
    tw_socket_close(l, T0);
    TW_ASSERT_IDLE(t);
}

/* TX_PACKETS counts every packet handed to the netdev: each TCP segment (TCP_TX_SEGMENTS,
   which it is summed from) and each ICMP echo reply. */
static void test_tx_packets_counts_segments_and_icmp(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    (void)c;
    uint64_t segs = tw_t_counter(t, TW_CNT_TCP_TX_SEGMENTS);
    assert_true(segs >= 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TX_PACKETS), segs);
    /* An echo request (8 bytes, id and sequence 0): checksum ~0x0800. */
    uint8_t icmp[28] = {0x45, 0, 0, 28, 0, 1, 0x40, 0, 64, 1};
    put32(icmp + 12, PEER);
    put32(icmp + 16, LOCAL);
    icmp[20] = 8;
    put16(icmp + 22, 0xf7ffu);
    tw_t_fix_csums(icmp, 28);
    tw_t_send_raw(t, tw_t_now(t), icmp, 28);
    assert_int_equal(tw_t_counter(t, TW_CNT_ICMP_TX_ECHO_REPLY), 1);
    assert_int_equal(tw_t_pending(t), 1);
    tw_t_seg reply;
    assert_true(tw_t_pop(t, &reply));
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TX_SEGMENTS), segs);
    assert_int_equal(tw_t_counter(t, TW_CNT_TX_PACKETS), segs + 1);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .any = TW_T_ANY_SEQ | TW_T_ANY_ACK | TW_T_ANY_WIN));
    assert_int_equal(tw_t_counter(t, TW_CNT_TX_PACKETS), segs + 2);
}

/* A packet of the usual layout (NOP, NOP, timestamps: the usual parse's in-place way,
   tcp_hdr.h) from 0.0.0.0 with both ports 0: its 4-tuple key is 0, the key of the
   connection lookup's empty cache (tcp_conn.h TW_CONN_NONE), which the usual packet's
   function hands to the full parsers: dropped as a bad source like any other, before
   any connection (the cache empty since the stack's start) and after one has gone. A
   reserved bit in the data offset's byte (RFC 9293 3.1) takes the usual lengths' other
   way (tcp_hdr.h) and is ignored: the data is taken as without it. */
static size_t usual_layout(uint8_t *p, uint32_t seq, uint32_t ack)
{
    size_t n = base_packet(p, seq, ack);
    uint8_t ts[8];
    memcpy(ts, p + OPT + 2, 8); /* (tw_t_build's timestamp option first: kind, length) */
    assert_int_equal(p[OPT], 8);
    p[OPT] = 1;
    p[OPT + 1] = 1;
    p[OPT + 2] = 8;
    p[OPT + 3] = 10;
    memcpy(p + OPT + 4, ts, 8);
    tw_t_fix_csums(p, n);
    return n;
}

static void zero_key_packet(tw_t *t)
{
    uint8_t p[100];
    size_t n = usual_layout(p, 5, 6);
    put32(p + IP + 12, 0);
    put16(p + TCP, 0);
    put16(p + TCP + 2, 0);
    tw_t_fix_csums(p, n);
    uint64_t bad = tw_t_counter(t, TW_CNT_IP_RX_BAD_SRC);
    uint64_t segs = tw_t_counter(t, TW_CNT_TCP_RX_SEGMENTS);
    tw_t_send_raw(t, tw_t_now(t), p, n);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_IP_RX_BAD_SRC), bad + 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_SEGMENTS), segs);
}

static void key_zero_and_reserved_bits(tw_t *t)
{
    zero_key_packet(t);
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    uint8_t p[100];
    char b[16];
    size_t n = usual_layout(p, v, u);
    tw_t_send_raw(t, tw_t_now(t), p, n);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 8, .win = 65535));
    TW_EXPECT_NOTHING(t);
    zero_key_packet(t); /* (the connection cached) */
    n = usual_layout(p, v + 8, u);
    p[TCP + 12] |= 0x0e; /* (the reserved bits) */
    tw_t_fix_csums(p, n);
    tw_t_send_raw(t, tw_t_now(t), p, n);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 16, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), 16);
    assert_memory_equal(b, "GOODDATAGOODDATA", 16);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u, .ack = v + 16, .win = 65535));
    TW_EXPECT_NOTHING(t);
    zero_key_packet(t); /* (the cache emptied by the connection's end) */
    TW_ASSERT_IDLE(t);
}

/* (untraced too: a traced stack's packets take the full parsers alone) */
static void test_r08_usual_layout_key_zero_and_reserved_bits(void **state)
{
    (void)state;
    tw_t_traced_and_untraced(key_zero_and_reserved_bits);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TW_T_CASE(test_r08_malformed_cases_dropped_and_counted),
        TW_T_CASE(test_r08_every_bit_flip_and_truncation_dropped),
        TW_T_CASE(test_r08_good_packet_variants_accepted),
        TW_T_CASE(test_r08_corrupt_data_spoils_nothing_stored),
        TW_T_CASE(test_r08_corrupt_data_across_ring_wrap),
        TW_T_CASE(test_r08_corrupt_first_data_with_block_on_free_list),
        TW_T_CASE(test_r08_bad_syn_at_listener_creates_nothing),
        TW_T_CASE(test_tx_packets_counts_segments_and_icmp),
        cmocka_unit_test(test_r08_usual_layout_key_zero_and_reserved_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
