/*
 * test_data_d3.c -- SPEC D3: retransmission and loss recovery. SACK blocks as a receiver
 * (RFC 2018 section 4 and its worked examples of section 5; D-SACK, RFC 2883 section
 * 4), fast retransmit with limited transmit and NewReno partial ACKs (RFC 5681 3.2,
 * RFC 3042, RFC 6582), SACK-based recovery (RFC 6675), and the user timeout when the
 * peer never answers (RFC 9293 3.10.8, RFC 5482, issue 6). The RFC 6298 estimator,
 * Karn and back-off are in test_retransmit.c.
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 4999u /* the peer's first data byte is 5000, as in RFC 2018's examples */
#define MSS 1460u

static uint8_t pat[65536];

static int setup(void **state)
{
    for (size_t i = 0; i < sizeof pat; i++) {
        pat[i] = (uint8_t)(i * 11u + 5u + (i >> 10));
    }
    /* These tests pin RFC 2018 / 6582 / 6675 behaviour segment by segment: RACK-TLP
       (RFC 8985, on by default as in Linux) would answer some of their losses sooner
       (tests/scripts/d03_rack_*.pkt and d03_tlp_*.pkt cover it), and PRR (RFC 6937, on
       by default as in Linux) paces the recovery's sending instead of RFC 6675's pipe
       rule and RFC 6582's inflation (tests/scripts/d03_prr_*.pkt cover it). */
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.no_rack = true;
    cfg.no_tlp = true;
    cfg.no_prr = true;
    *state = tw_t_new(&cfg);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    tw_t_free(*state);
    return 0;
}

/* Exact timer checks after an input (see TW_SETTLE). */
#define RUN_TO(t, at)                                                                      \
    do {                                                                                   \
        TW_SETTLE(t);                                                                      \
        TW_RUN_TO((t), (at));                                                              \
    } while (0)
#define DEADLINE(t, at)                                                                    \
    do {                                                                                   \
        TW_SETTLE(t);                                                                      \
        TW_EXPECT_DEADLINE((t), (at));                                                     \
    } while (0)

/* ---- receiver: SACK blocks ---------------------------------------------------------- */

/* The peer's 500-byte segment starting at sequence number `s` (5000, 5500, ...). */
#define SEG500(s) IN(.flags = TW_ACK, .seq = (s), .ack = c.snd, .len = 500, .data = pat + (s) - 5000)
/* Our ACK with `n` SACK blocks. */
#define SACKED(a, n, ...)                                                                  \
    OUT(.flags = TW_ACK, .seq = c.snd, .ack = (a), .win = 65535, .opts = TW_OPT_SACK,      \
        .sack_n = (n), .sack = {__VA_ARGS__})
#define PLAIN_ACK(a) OUT(.flags = TW_ACK, .seq = c.snd, .ack = (a), .win = 65535)

static void abort_idle(tw_t *t, tw_socket *s, uint32_t seq, uint32_t ack)
{
    tw_socket_abort(s, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = seq, .ack = ack, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

static void read_all(tw_t *t, tw_socket *s, uint32_t n)
{
    uint8_t b[8192];
    assert_int_equal(tw_socket_recv(s, b, sizeof b, tw_t_now(t)), (tw_ssize)n);
    assert_memory_equal(b, pat, n);
}

/* D3, RFC 2018 section 5, case 1: of eight 500-byte segments from 5000 the first four
   arrive and the last four are lost. Every ACK is a plain cumulative one: with nothing
   out of order there is no SACK option. (Our receiver ACKs each of these at once, quick
   ACK mode; the RFC shows the last of them, ACK 7000.) */
static void test_d03_rfc2018_case1_tail_lost(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .opts = TW_OPT_SACK_PERM);
    for (uint32_t s = 5000; s < 7000; s += 500) {
        TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(s));
        TW_EXPECT_EXACT(t, PLAIN_ACK(s + 500));
        TW_EXPECT_NOTHING(t);
    }
    read_all(t, c.s, 2000);
    abort_idle(t, c.s, c.snd, 7000);
}

/* D3, RFC 2018 section 5, case 2: the first segment is lost, the other seven arrive.
   Each is answered at once with ACK 5000 and one SACK block that grows:
   5500-6000, 5500-6500, ... 5500-9000. The retransmitted first segment fills the hole:
   ACK 9000, no SACK option. */
static void test_d03_rfc2018_case2_first_segment_lost(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .opts = TW_OPT_SACK_PERM);
    for (uint32_t s = 5500; s < 9000; s += 500) {
        TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(s));
        TW_EXPECT_EXACT(t, SACKED(5000, 1, 5500, s + 500));
        TW_EXPECT_NOTHING(t);
    }
    TW_SEND(t, tw_t_now(t) + TW_MS(100), SEG500(5000));
    TW_EXPECT_EXACT(t, PLAIN_ACK(9000));
    TW_EXPECT_NOTHING(t);
    read_all(t, c.s, 4000);
    abort_idle(t, c.s, c.snd, 9000);
}

/* D3, RFC 2018 section 5, case 3: the 2nd, 4th, 6th and 8th segments are lost. The
   first block always holds the segment that just arrived, the others repeat the most
   recently reported blocks (RFC 2018 4):
       5000 -> ACK 5500
       6000 -> ACK 5500, 6000-6500
       7000 -> ACK 5500, 7000-7500, 6000-6500
       8000 -> ACK 5500, 8000-8500, 7000-7500, 6000-6500
   then the 4th segment arrives: ACK 5500, 6000-7500, 8000-8500; then the 2nd: ACK 7500,
   8000-8500. */
static void test_d03_rfc2018_case3_alternate_segments_lost(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .opts = TW_OPT_SACK_PERM);
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(5000));
    TW_EXPECT_EXACT(t, PLAIN_ACK(5500));
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(6000));
    TW_EXPECT_EXACT(t, SACKED(5500, 1, 6000, 6500));
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(7000));
    TW_EXPECT_EXACT(t, SACKED(5500, 2, 7000, 7500, 6000, 6500));
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(8000));
    TW_EXPECT_EXACT(t, SACKED(5500, 3, 8000, 8500, 7000, 7500, 6000, 6500));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(50), SEG500(6500));
    TW_EXPECT_EXACT(t, SACKED(5500, 2, 6000, 7500, 8000, 8500));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(50), SEG500(5500));
    TW_EXPECT_EXACT(t, SACKED(7500, 1, 8000, 8500));
    TW_EXPECT_NOTHING(t);
    read_all(t, c.s, 2500);
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(7500));
    TW_EXPECT_EXACT(t, PLAIN_ACK(8500));
    TW_EXPECT_NOTHING(t);
    uint8_t b[1000];
    assert_int_equal(tw_socket_recv(c.s, b, sizeof b, tw_t_now(t)), 1000);
    assert_memory_equal(b, pat + 2500, 1000);
    abort_idle(t, c.s, c.snd, 8500);
}

/* D3, RFC 2018 section 4 with four blocks: with more holes than blocks fit (4 without
   timestamps), the most recently reported ones are repeated and the oldest dropped. */
static void test_d03_sack_blocks_most_recent_first(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .opts = TW_OPT_SACK_PERM);
    /* Five islands arrive in the order 9000, 6000, 8000, 7000, 10000. */
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(9000));
    TW_EXPECT_EXACT(t, SACKED(5000, 1, 9000, 9500));
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(6000));
    TW_EXPECT_EXACT(t, SACKED(5000, 2, 6000, 6500, 9000, 9500));
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(8000));
    TW_EXPECT_EXACT(t, SACKED(5000, 3, 8000, 8500, 6000, 6500, 9000, 9500));
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(7000));
    TW_EXPECT_EXACT(t, SACKED(5000, 4, 7000, 7500, 8000, 8500, 6000, 6500, 9000, 9500));
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(10000));
    TW_EXPECT_EXACT(t, SACKED(5000, 4, 10000, 10500, 7000, 7500, 8000, 8500, 6000, 6500));
    TW_EXPECT_NOTHING(t);
    /* 8500 joins 8000-8500 and 9000-9500 into one island: it is reported first. */
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(8500));
    TW_EXPECT_EXACT(t, SACKED(5000, 4, 8000, 9500, 10000, 10500, 7000, 7500, 6000, 6500));
    TW_EXPECT_NOTHING(t);
    abort_idle(t, c.s, c.snd, 5000);
}

/* D3, RFC 2883 4.1.1: both ACKs of two segments were lost, the sender retransmits the
   first; the receiver reports the duplicate in a D-SACK block (below the cumulative
   ACK) and delivers nothing twice. */
static void test_d03_rfc2883_dsack_duplicate_segment(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .opts = TW_OPT_SACK_PERM);
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(5000));
    TW_EXPECT_EXACT(t, PLAIN_ACK(5500));
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(5500));
    TW_EXPECT_EXACT(t, PLAIN_ACK(6000));
    TW_SEND(t, tw_t_now(t) + TW_MS(300), SEG500(5000));
    TW_EXPECT_EXACT(t, SACKED(6000, 1, 5000, 5500));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_DSACK), 1);
    /* The D-SACK is reported once; the next ACK is plain again. */
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(6000));
    TW_EXPECT_EXACT(t, PLAIN_ACK(6500));
    TW_EXPECT_NOTHING(t);
    read_all(t, c.s, 1500);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_BYTES_DELIVERED), 1500);
    abort_idle(t, c.s, c.snd, 6500);
}

/* D3, RFC 2883 4.1.2: a duplicate arrives while out-of-order data is held: the D-SACK
   block comes first, then the SACK block of the held data. */
static void test_d03_rfc2883_dsack_with_out_of_order(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .opts = TW_OPT_SACK_PERM);
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(5000));
    TW_EXPECT_EXACT(t, PLAIN_ACK(5500));
    /* 5500 is delayed, 6000 lost, 6500 arrives. */
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(6500));
    TW_EXPECT_EXACT(t, SACKED(5500, 1, 6500, 7000));
    /* The sender retransmits 5500, then the delayed original arrives too. */
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(5500));
    TW_EXPECT_EXACT(t, SACKED(6000, 1, 6500, 7000));
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(5500));
    TW_EXPECT_EXACT(t, SACKED(6000, 2, 5500, 6000, 6500, 7000));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(1), SEG500(6000));
    TW_EXPECT_EXACT(t, PLAIN_ACK(7000));
    TW_EXPECT_NOTHING(t);
    read_all(t, c.s, 2000);
    abort_idle(t, c.s, c.snd, 7000);
}

/* ---- sender: fast retransmit and recovery ------------------------------------------- */

/* Segment i of our stream (MSS bytes at offset i * MSS). */
/* (PSH, which every second segment of a burst carries, is looked at only where it is
   expected: these tests are about what is sent when, test_flags.c about PSH) */
#define SEGI(i, fl)                                                                        \
    OUT(.flags = (fl), .seq = c.snd + (i) * MSS, .ack = c.rcv, .win = 65535, .len = MSS,    \
        .data = pat + (i) * MSS, .any = ((fl) & TW_PSH) ? 0u : TW_T_ANY_PSH)
/* The peer's ACK of our segments below i, with SACK blocks given as segment indexes. */
#define PACK(i) IN(.flags = TW_ACK, .seq = c.rcv, .ack = c.snd + (i) * MSS)
#define PSACK(i, n, ...)                                                                   \
    IN(.flags = TW_ACK, .seq = c.rcv, .ack = c.snd + (i) * MSS, .opts = TW_OPT_SACK,        \
       .sack_n = (n), .sack = {__VA_ARGS__})
#define B(a, b) c.snd + (a) * MSS, c.snd + (b) * MSS

static tw_socket_info info(const tw_socket *s)
{
    tw_socket_info i;
    tw_socket_info_get(s, &i);
    return i;
}

/* Queue `nseg` full segments and check the initial window (RFC 6928: 10 segments). */
static void send_iw(tw_t *t, const tw_t_conn *cp, unsigned nseg)
{
    tw_t_conn c = *cp;
    assert_int_equal(tw_socket_send(c.s, pat, nseg * MSS, tw_t_now(t)), (tw_ssize)(nseg * MSS));
    for (unsigned i = 0; i < 10; i++) {
        TW_EXPECT_EXACT(t, SEGI(i, TW_ACK));
    }
    TW_EXPECT_NOTHING(t);
    tw_socket_info i = info(c.s);
    assert_int_equal(i.cwnd, 10 * MSS);
    assert_int_equal(i.ssthresh, UINT32_MAX);
    assert_int_equal(i.bytes_in_flight, 10 * MSS);
}

/* D3 (RFC 5681 3.2, RFC 3042, RFC 6582 3.2): the first segment of ten is lost. The first
   two duplicate ACKs each release one new segment (limited transmit, cwnd unchanged);
   the third triggers the fast retransmit with ssthresh = FlightSize / 2, where the
   limited-transmit segments do not count (RFC 5681 3.2 step 2), and cwnd = ssthresh +
   3 * SMSS. Each further duplicate ACK inflates cwnd by one SMSS, which lets new
   segments out once the inflated window exceeds the flight. The ACK of everything sent
   before recovery began (a full ACK) ends it with cwnd = min(ssthresh, FlightSize +
   SMSS) (RFC 6582 3.2 step 3, option 1). */
static void test_d03_three_dupacks_fast_retransmit(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .cc = TW_CC_NEWRENO);
    send_iw(t, &c, 20);
    tw_time t1 = tw_t_now(t) + TW_MS(100);
    TW_SEND(t, t1, PACK(0));
    TW_EXPECT_EXACT(t, SEGI(10, TW_ACK));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(info(c.s).ca_state, TW_CA_DISORDER);
    TW_SEND(t, t1, PACK(0));
    TW_EXPECT_EXACT(t, SEGI(11, TW_ACK));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_LIMITED_TRANSMIT), 2);
    assert_int_equal(info(c.s).cwnd, 10 * MSS);
    TW_SEND(t, t1, PACK(0));
    TW_EXPECT_EXACT(t, SEGI(0, TW_ACK));
    TW_EXPECT_NOTHING(t);
    tw_socket_info i = info(c.s);
    assert_int_equal(i.ca_state, TW_CA_RECOVERY);
    assert_int_equal(i.ssthresh, 5 * MSS);
    assert_int_equal(i.cwnd, 8 * MSS);
    assert_int_equal(i.fast_retransmits, 1);
    assert_int_equal(i.total_retrans, 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_FAST_RETRANS), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TX_RETRANS), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_LIMITED_TRANSMIT), 2);
    DEADLINE(t, t1 + TW_T_RTO); /* the retransmission restarted the timer */
    /* Eight more duplicates (segments 3..9, 10, 11 minus the one above): cwnd grows to
       16 segments; with 12 in flight, new data goes from the 5th of them on. */
    for (unsigned k = 1; k <= 8; k++) {
        TW_SEND(t, t1 + TW_MS(k), PACK(0));
        if (k >= 5) {
            TW_EXPECT_EXACT(t, SEGI(11 + k - 4, TW_ACK));
        }
        TW_EXPECT_NOTHING(t);
        assert_int_equal(info(c.s).cwnd, (8 + k) * MSS);
    }
    /* The retransmission arrives: everything up to segment 12 is acknowledged. */
    TW_SEND(t, t1 + TW_MS(100), PACK(12));
    TW_EXPECT_EXACT(t, SEGI(16, TW_ACK));
    TW_EXPECT_NOTHING(t);
    i = info(c.s);
    assert_int_equal(i.ca_state, TW_CA_OPEN);
    assert_int_equal(i.cwnd, 5 * MSS); /* min(5, 4 + 1) segments */
    assert_int_equal(i.ssthresh, 5 * MSS);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_PARTIAL_ACK), 0);
    /* The rest is acknowledged: congestion avoidance sends what is left. */
    TW_SEND(t, t1 + TW_MS(200), PACK(17));
    for (unsigned k = 17; k < 20; k++) {
        TW_EXPECT_EXACT(t, SEGI(k, k == 19 ? TW_ACK | TW_PSH : TW_ACK));
    }
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, t1 + TW_MS(300), PACK(20));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_NO_DEADLINE(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RTO_FIRED), 0);
    abort_idle(t, c.s, c.snd + 20 * MSS, c.rcv);
}

/* D3 (RFC 6582 3.2 step 4): segments 0 and 5 are lost. After the fast retransmit of 0,
   the ACK up to 5 is partial: segment 5 is retransmitted at once (no waiting for three
   more duplicates or a timeout), cwnd is deflated by the amount acknowledged and
   grows by one SMSS; the next ACK covers the recovery point and ends recovery. */
static void test_d03_newreno_partial_ack_retransmits_next_hole(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .cc = TW_CC_NEWRENO);
    send_iw(t, &c, 24);
    tw_time t1 = tw_t_now(t) + TW_MS(100);
    /* Segments 1..4 and 6..9 arrive: duplicates 1, 2 (limited transmit), 3 (fast
       retransmit), 4..8 (inflation; segments 10 and 11 later add two more). */
    TW_SEND(t, t1, PACK(0));
    TW_EXPECT_EXACT(t, SEGI(10, TW_ACK));
    TW_SEND(t, t1, PACK(0));
    TW_EXPECT_EXACT(t, SEGI(11, TW_ACK));
    TW_SEND(t, t1, PACK(0));
    TW_EXPECT_EXACT(t, SEGI(0, TW_ACK));
    TW_EXPECT_NOTHING(t);
    for (unsigned k = 1; k <= 7; k++) {
        TW_SEND(t, t1 + TW_MS(k), PACK(0));
        if (k >= 5) {
            TW_EXPECT_EXACT(t, SEGI(11 + k - 4, TW_ACK));
        }
        TW_EXPECT_NOTHING(t);
    }
    tw_socket_info i = info(c.s);
    assert_int_equal(i.cwnd, 15 * MSS);
    assert_int_equal(i.bytes_in_flight, 15 * MSS);
    /* The retransmitted 0 arrives: ACK 5, a partial ACK (recovery point: 12). */
    tw_time t2 = t1 + TW_MS(100);
    TW_SEND(t, t2, PACK(5));
    TW_EXPECT_EXACT(t, SEGI(5, TW_ACK));
    /* cwnd = 15 - 5 + 1 = 11 segments, 10 in flight (5..14): one new segment. */
    TW_EXPECT_EXACT(t, SEGI(15, TW_ACK));
    TW_EXPECT_NOTHING(t);
    i = info(c.s);
    assert_int_equal(i.ca_state, TW_CA_RECOVERY);
    assert_int_equal(i.cwnd, 11 * MSS);
    assert_int_equal(i.total_retrans, 2);
    assert_int_equal(i.fast_retransmits, 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_PARTIAL_ACK), 1);
    DEADLINE(t, t2 + TW_T_RTO); /* step 4: the timer restarts */
    /* Segments 12, 13, 14 arrive: duplicates of 5, each inflating by one SMSS. */
    for (unsigned k = 0; k < 3; k++) {
        TW_SEND(t, t2 + TW_MS(1 + k), PACK(5));
        TW_EXPECT_EXACT(t, SEGI(16 + k, TW_ACK));
        TW_EXPECT_NOTHING(t);
    }
    /* The retransmitted 5 arrives: ACK 15 covers the recovery point (12): full ACK. */
    TW_SEND(t, t2 + TW_MS(100), PACK(15));
    i = info(c.s);
    assert_int_equal(i.ca_state, TW_CA_OPEN);
    assert_int_equal(i.cwnd, 5 * MSS); /* min(ssthresh 5, flight 4 + 1) */
    TW_EXPECT_EXACT(t, SEGI(19, TW_ACK));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_FAST_RETRANS), 1);
    TW_SEND(t, t2 + TW_MS(200), PACK(20));
    for (unsigned k = 20; k < 24; k++) {
        TW_EXPECT_EXACT(t, SEGI(k, k == 23 ? TW_ACK | TW_PSH : TW_ACK));
    }
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, t2 + TW_MS(300), PACK(24));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_NO_DEADLINE(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RTO_FIRED), 0);
    abort_idle(t, c.s, c.snd + 24 * MSS, c.rcv);
}

/* D3, RFC 6675 worked through: ten segments, 0, 3 and 6 lost, NewReno's ssthresh.
   SACKs arrive for 1, 2 (limited transmit sends 10, 11), 4 (third duplicate: recovery,
   ssthresh = cwnd = 5 segments, 0 retransmitted), 5, 7, 8, 9, 10, 11. A hole counts as
   lost (IsLost) only when more than 2 * SMSS are SACKed above it, and pipe counts every
   unSACKed segment not lost plus every retransmission (SetPipe). So:
       SACK 4: pipe = 0' + 3 + 5..11 = 9  -> nothing
       SACK 5: pipe = 0' + 3 + 6..11 = 8  -> nothing
       SACK 7: 3 lost; pipe = 0' + 6 + 8..11 = 6 -> nothing
       SACK 8: pipe = 0' + 6 + 9..11 = 5 -> nothing (6 is not yet lost)
       SACK 9: 6 lost; pipe = 0' + 10 + 11 = 3 -> retransmit 3, then 6 (pipe 5)
       SACK 10: pipe = 0' 3' 6' + 11 = 4 -> new segment 12 (NextSeg rule 2)
       SACK 11: pipe = 0' 3' 6' 12 = 4 -> new segment 13
   then the cumulative ACKs 3 (partial: 14 goes), 6 (15 goes) and 12 (the recovery
   point: recovery ends, cwnd stays at ssthresh, 16 goes). */
static void test_d03_rfc6675_sack_recovery_several_holes(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .opts = TW_OPT_SACK_PERM,
                               .cc = TW_CC_NEWRENO);
    send_iw(t, &c, 30);
    tw_time t1 = tw_t_now(t) + TW_MS(100);
    TW_SEND(t, t1, PSACK(0, 1, B(1, 2)));
    TW_EXPECT_EXACT(t, SEGI(10, TW_ACK));
    TW_EXPECT_NOTHING(t);
    tw_socket_info i = info(c.s);
    assert_int_equal(i.ca_state, TW_CA_DISORDER);
    assert_int_equal(i.sacked_bytes, MSS);
    TW_SEND(t, t1 + TW_MS(1), PSACK(0, 1, B(1, 3)));
    TW_EXPECT_EXACT(t, SEGI(11, TW_ACK));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, t1 + TW_MS(2), PSACK(0, 2, B(4, 5), B(1, 3)));
    TW_EXPECT_EXACT(t, SEGI(0, TW_ACK));
    TW_EXPECT_NOTHING(t);
    i = info(c.s);
    assert_int_equal(i.ca_state, TW_CA_RECOVERY);
    assert_int_equal(i.ssthresh, 5 * MSS);
    assert_int_equal(i.cwnd, 5 * MSS);
    assert_int_equal(i.sacked_bytes, 3 * MSS);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_FAST_RETRANS), 1);
    TW_SEND(t, t1 + TW_MS(3), PSACK(0, 2, B(4, 6), B(1, 3)));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, t1 + TW_MS(4), PSACK(0, 3, B(7, 8), B(4, 6), B(1, 3)));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, t1 + TW_MS(5), PSACK(0, 3, B(7, 9), B(4, 6), B(1, 3)));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, t1 + TW_MS(6), PSACK(0, 3, B(7, 10), B(4, 6), B(1, 3)));
    TW_EXPECT_EXACT(t, SEGI(3, TW_ACK));
    TW_EXPECT_EXACT(t, SEGI(6, TW_ACK));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, t1 + TW_MS(7), PSACK(0, 3, B(7, 11), B(4, 6), B(1, 3)));
    TW_EXPECT_EXACT(t, SEGI(12, TW_ACK));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, t1 + TW_MS(8), PSACK(0, 3, B(7, 12), B(4, 6), B(1, 3)));
    TW_EXPECT_EXACT(t, SEGI(13, TW_ACK));
    TW_EXPECT_NOTHING(t);
    i = info(c.s);
    assert_int_equal(i.total_retrans, 3);
    assert_int_equal(i.sacked_bytes, 9 * MSS);
    assert_int_equal(i.cwnd, 5 * MSS);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_LIMITED_TRANSMIT), 2);

    tw_time t2 = t1 + TW_MS(100);
    TW_SEND(t, t2, PSACK(3, 2, B(7, 12), B(4, 6)));
    TW_EXPECT_EXACT(t, SEGI(14, TW_ACK));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_PARTIAL_ACK), 1);
    assert_int_equal(info(c.s).cwnd, 5 * MSS); /* RFC 6675: no deflation with SACK */
    TW_SEND(t, t2 + TW_MS(5), PSACK(6, 1, B(7, 12)));
    TW_EXPECT_EXACT(t, SEGI(15, TW_ACK));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, t2 + TW_MS(10), PACK(12));
    TW_EXPECT_EXACT(t, SEGI(16, TW_ACK));
    TW_EXPECT_NOTHING(t);
    i = info(c.s);
    assert_int_equal(i.ca_state, TW_CA_OPEN);
    assert_int_equal(i.cwnd, 5 * MSS);
    assert_int_equal(i.sacked_bytes, 0);
    assert_int_equal(i.total_retrans, 3);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_FAST_RETRANS), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RTO_FIRED), 0);
    /* The rest is acknowledged a window at a time; congestion avoidance adds one SMSS
       per window (RFC 5681 3.1): 6 segments, then 7. */
    TW_SEND(t, t2 + TW_MS(100), PACK(17));
    for (unsigned k = 17; k < 23; k++) {
        TW_EXPECT_EXACT(t, SEGI(k, TW_ACK));
    }
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, t2 + TW_MS(200), PACK(23));
    for (unsigned k = 23; k < 30; k++) {
        TW_EXPECT_EXACT(t, SEGI(k, k == 29 ? TW_ACK | TW_PSH : TW_ACK));
    }
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, t2 + TW_MS(300), PACK(30));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_NO_DEADLINE(t);
    abort_idle(t, c.s, c.snd + 30 * MSS, c.rcv);
}

/* D3 (RFC 2018 section 8 / RFC 6675 section 3 "valid SACK blocks"): a SACK block beyond
   what was sent is ignored and counted; it neither marks anything SACKed nor counts
   as a duplicate ACK with new SACK information. */
static void test_d03_sack_block_beyond_sent_data_ignored(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .opts = TW_OPT_SACK_PERM);
    assert_int_equal(tw_socket_send(c.s, pat, 3 * MSS, tw_t_now(t)), 3 * MSS);
    TW_EXPECT_EXACT(t, SEGI(0, TW_ACK));
    TW_EXPECT_EXACT(t, SEGI(1, TW_ACK));
    TW_EXPECT_EXACT(t, SEGI(2, TW_ACK | TW_PSH));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(100),
            IN(.flags = TW_ACK, .seq = c.rcv, .ack = c.snd + MSS, .opts = TW_OPT_SACK,
               .sack_n = 1, .sack = {c.snd + 2 * MSS, c.snd + 5 * MSS}));
    TW_EXPECT_NOTHING(t);
    tw_socket_info i = info(c.s);
    assert_int_equal(i.sacked_bytes, 0);
    assert_int_equal(i.snd_una, c.snd + MSS);
    assert_int_equal(i.ca_state, TW_CA_OPEN);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_SACK_INVALID), 1);
    TW_SEND(t, tw_t_now(t) + TW_MS(10), PACK(3));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_NO_DEADLINE(t);
    abort_idle(t, c.s, c.snd + 3 * MSS, c.rcv);
}

/* D3 (RFC 6675 5.1 and RFC 2018 erratum 1610, as Linux does it): a timeout with SACK
   information and no recovery under way (two SACKed segments, not enough for one):
   cwnd falls to one segment and sending goes back to SND.UNA, but segments the peer has
   SACKed are not sent again; only a second timeout on the same data would drop the
   scoreboard (reneging). */
static void test_d03_timeout_keeps_sack_scoreboard(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .opts = TW_OPT_SACK_PERM,
                               .cc = TW_CC_NEWRENO);
    send_iw(t, &c, 20);
    tw_time t0 = tw_t_now(t);
    /* Only segments 1 and 5 arrive: two duplicate ACKs, limited transmit sends 10, 11. */
    TW_SEND(t, t0 + TW_MS(100), PSACK(0, 1, B(1, 2)));
    TW_EXPECT_EXACT(t, SEGI(10, TW_ACK));
    TW_SEND(t, t0 + TW_MS(101), PSACK(0, 2, B(5, 6), B(1, 2)));
    TW_EXPECT_EXACT(t, SEGI(11, TW_ACK));
    TW_EXPECT_NOTHING(t);
    tw_socket_info i = info(c.s);
    assert_int_equal(i.ca_state, TW_CA_DISORDER);
    assert_int_equal(i.sacked_bytes, 2 * MSS);
    /* The timer (armed when segment 0 left) fires: segment 0 again, cwnd one segment. */
    RUN_TO(t, t0 + TW_T_RTO);
    TW_EXPECT_EXACT(t, SEGI(0, TW_ACK));
    TW_EXPECT_NOTHING(t);
    i = info(c.s);
    assert_int_equal(i.ca_state, TW_CA_LOSS);
    assert_int_equal(i.cwnd, MSS);
    assert_int_equal(i.ssthresh, 5 * MSS);
    assert_int_equal(i.sacked_bytes, 2 * MSS);
    tw_time t1 = tw_t_now(t);
    /* ACK 2 (0 and the SACKed 1: two segments, slow start makes cwnd 3), 5 still
       SACKed: segments 2, 3 and 4 go again. */
    TW_SEND(t, t1 + TW_MS(100), PSACK(2, 1, B(5, 6)));
    TW_EXPECT_EXACT(t, SEGI(2, TW_ACK));
    TW_EXPECT_EXACT(t, SEGI(3, TW_ACK));
    TW_EXPECT_EXACT(t, SEGI(4, TW_ACK));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(info(c.s).cwnd, 3 * MSS);
    /* ACK 4: cwnd 5 with 4 in flight; 5 is skipped (SACKed, not in flight either), so
       6, 7, 8 and 9 go. */
    TW_SEND(t, t1 + TW_MS(200), PSACK(4, 1, B(5, 6)));
    TW_EXPECT_EXACT(t, SEGI(6, TW_ACK));
    TW_EXPECT_EXACT(t, SEGI(7, TW_ACK));
    TW_EXPECT_EXACT(t, SEGI(8, TW_ACK));
    TW_EXPECT_EXACT(t, SEGI(9, TW_ACK));
    TW_EXPECT_NOTHING(t);
    i = info(c.s);
    assert_int_equal(i.cwnd, 5 * MSS);
    assert_int_equal(i.total_retrans, 8);
    assert_int_equal(i.rto_count, 1);
    /* The RST carries the highest sequence number sent (12 segments; Linux's SND.NXT,
       which a timeout does not move back). */
    abort_idle(t, c.s, c.snd + 12 * MSS, c.rcv);
}

/* ---- user timeout ------------------------------------------------------------------- */

/* D3 + issue 6 (RFC 9293 3.10.8, RFC 5482; Linux tcp_clamp_rto_to_user_timeout): a peer
   that never acknowledges cannot keep the connection beyond the user timeout. The RTO
   backs off (300 ms, 600 ms, 1.2 s, 2.4 s: retransmissions at 0.3, 0.9, 2.1 and 4.5 s);
   the next would be at 9.3 s, but the user timeout of 6 s aborts the connection at 6 s,
   with TIMEDOUT and without a segment. */
static void test_d03_user_timeout_peer_never_acks(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS);
    assert_int_equal(tw_socket_set_user_timeout(c.s, TW_SEC(6)), 0);
    tw_time t1 = tw_t_now(t);
    assert_int_equal(tw_socket_send(c.s, pat, 1000, t1), 1000);
    tw_t_seg d = OUT(.flags = TW_ACK | TW_PSH, .seq = c.snd, .ack = c.rcv, .win = 65535,
                     .len = 1000, .data = pat);
    TW_EXPECT_EXACT(t, d);
    TW_EXPECT_NOTHING(t);
    static const uint32_t at_ms[] = {300, 900, 2100, 4500};
    for (unsigned k = 0; k < 4; k++) {
        RUN_TO(t, t1 + TW_MS(at_ms[k]));
        TW_EXPECT_EXACT(t, d);
        TW_EXPECT_NOTHING(t);
        assert_int_equal(info(c.s).retransmits, k + 1);
    }
    RUN_TO(t, t1 + TW_SEC(6));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c.s), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(c.s), TW_ERR_TIMEDOUT);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_USER_TIMEDOUT), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CONN_TIMEDOUT), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_TX_RETRANS), 4);
    assert_int_equal(tw_stack_conn_count(tw_t_stack(t)), 0);
    TW_EXPECT_NO_DEADLINE(t);
    tw_socket_close(c.s, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

/* D3 (RFC 5482 3, RFC 9293 3.10.8): the user timeout also bounds an unanswered
   connect(), counted from the first SYN: SYNs at 0, 1, 3 and 7 s, TIMEDOUT at 10 s.
   The host clock is far from zero, as a monotonic clock is. */
static void test_d03_user_timeout_bounds_syn_sent(void **state)
{
    tw_t *t = *state;
    tw_time t0 = TW_SEC(1000000);
    tw_t_advance(t, t0);
    tw_socket *s;
    assert_int_equal(tw_socket_open(tw_t_stack(t), &s), 0);
    assert_int_equal(tw_socket_bind(s, LPORT), 0);
    assert_int_equal(tw_socket_set_user_timeout(s, TW_SEC(10)), 0);
    assert_int_equal(tw_socket_connect(s, PEER, PPORT, t0), 0);
    tw_t_seg syn = OUT(.flags = TW_SYN, .ack = 0, .win = 65535,
                       .opts = TW_OPT_MSS | TW_OPT_SACK_PERM | TW_OPT_TS | TW_OPT_WSCALE,
                       .mss = 1460, .wscale = 7, .ts_ecr = 0,
                       .any = TW_T_ANY_SEQ | TW_T_ANY_TSVAL);
    tw_t_seg first = TW_EXPECT(t, syn);
    TW_EXPECT_NOTHING(t);
    syn.seq = first.seq;
    syn.any = TW_T_ANY_TSVAL;
    static const uint32_t at_s[] = {1, 3, 7};
    for (unsigned k = 0; k < 3; k++) {
        RUN_TO(t, t0 + TW_SEC(at_s[k]));
        TW_EXPECT(t, syn);
        TW_EXPECT_NOTHING(t);
        assert_int_equal(tw_socket_state(s), TW_STATE_SYN_SENT);
    }
    RUN_TO(t, t0 + TW_SEC(10));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(s), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(s), TW_ERR_TIMEDOUT);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_USER_TIMEDOUT), 1);
    TW_EXPECT_NO_DEADLINE(t);
    tw_socket_close(s, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

/* D3 (RFC 2018, RFC 6675 2): the scoreboard keeps every island the peer SACKs, not the
   16 its record holds in itself (the ranges get an array of their own: ranges.h). 40
   segments in flight (an initial window of 40), every other one lost; the peer SACKs 20
   islands, each ACK the newest first and the three before it (RFC 2018 4). Whatever the
   recovery sends meanwhile is not looked at here. */
static void test_d03_scoreboard_many_islands(void **state)
{
    (void)state;
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.initial_cwnd = 40;
    tw_t *t = tw_t_new(&cfg);
    assert_non_null(t);
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .opts = TW_OPT_SACK_PERM);
    assert_int_equal(tw_socket_send(c.s, pat, 40 * MSS, tw_t_now(t)), (tw_ssize)(40 * MSS));
    for (unsigned i = 0; i < 40; i++) {
        TW_EXPECT_EXACT(t, SEGI(i, i == 39 ? TW_ACK | TW_PSH : TW_ACK));
    }
    TW_EXPECT_NOTHING(t);
    tw_time t1 = tw_t_now(t) + TW_MS(100);
    tw_t_seg junk;
    for (unsigned k = 0; k < 20; k++) {
        tw_t_seg a = PACK(0);
        a.opts = TW_OPT_SACK;
        a.sack_n = 0;
        for (unsigned j = 0; j < 4 && j <= k; j++) {
            unsigned isl = 2 * (k - j) + 1;
            a.sack[2 * a.sack_n] = c.snd + isl * MSS;
            a.sack[2 * a.sack_n + 1] = c.snd + (isl + 1) * MSS;
            a.sack_n++;
        }
        tw_t_send_at(t, t1 + TW_MS(k), &a, __FILE__, __LINE__);
        while (tw_t_pop(t, &junk)) {
        }
        assert_int_equal(info(c.s).sacked_bytes, (k + 1) * MSS);
    }
    tw_socket_abort(c.s, tw_t_now(t));
    while (tw_t_pop(t, &junk)) {
    }
    TW_ASSERT_IDLE(t);
    tw_t_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_d03_rfc2018_case1_tail_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_d03_scoreboard_many_islands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_d03_rfc2018_case2_first_segment_lost, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d03_rfc2018_case3_alternate_segments_lost, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d03_sack_blocks_most_recent_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d03_rfc2883_dsack_duplicate_segment, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d03_rfc2883_dsack_with_out_of_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d03_three_dupacks_fast_retransmit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d03_newreno_partial_ack_retransmits_next_hole,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_d03_rfc6675_sack_recovery_several_holes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d03_sack_block_beyond_sent_data_ignored, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d03_timeout_keeps_sack_scoreboard, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d03_user_timeout_peer_never_acks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d03_user_timeout_bounds_syn_sent, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
