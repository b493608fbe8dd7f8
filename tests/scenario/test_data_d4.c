/*
 * test_data_d4.c -- SPEC D4: congestion control (RFC 5681, RFC 6928 initial window,
 * RFC 3465 byte counting, RFC 7661's "grow only when cwnd-limited", CUBIC per RFC 9438),
 * delayed ACK (RFC 5681 4.2, RFC 1122 4.2.3.2), Nagle's algorithm in Minshall's form
 * (RFC 9293 3.7.4) and keepalive (RFC 9293 3.8.4, RFC 1122 4.2.3.6).
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 4999u
#define MSS 1460u

static uint8_t pat[131072];

static int setup(void **state)
{
    for (size_t i = 0; i < sizeof pat; i++) {
        pat[i] = (uint8_t)(i * 29u + 7u + (i >> 11));
    }
    *state = tw_t_new(NULL);
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

/* (PSH, which every second segment of a burst carries, is looked at only where it is
   expected: these tests are about what is sent when, test_flags.c about PSH) */
#define SEGI(i, fl)                                                                        \
    OUT(.flags = (fl), .seq = c.snd + (i) * MSS, .ack = c.rcv, .win = 65535, .len = MSS,    \
        .data = pat + (i) * MSS, .any = ((fl) & TW_PSH) ? 0u : TW_T_ANY_PSH)
#define PACK(i) IN(.flags = TW_ACK, .seq = c.rcv, .ack = c.snd + (i) * MSS)

static tw_socket_info info(const tw_socket *s)
{
    tw_socket_info i;
    tw_socket_info_get(s, &i);
    return i;
}

static void abort_idle(tw_t *t, tw_socket *s, uint32_t seq, uint32_t ack)
{
    tw_socket_abort(s, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = seq, .ack = ack, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* Expect our full segments [from, to), the last with `last_flags`. */
static void expect_segs(tw_t *t, const tw_t_conn *cp, unsigned from, unsigned to,
                        uint8_t last_flags, const char *file, int line)
{
    tw_t_conn c = *cp;
    for (unsigned i = from; i < to; i++) {
        tw_t_seg w = SEGI(i, i + 1 == to ? last_flags : TW_ACK);
        tw_t_expect_exact(t, &w, file, line);
    }
    tw_t_expect_nothing(t, file, line);
}
#define EXPECT_SEGS(from, to, fl) expect_segs(t, &c, (from), (to), (fl), __FILE__, __LINE__)

/* ---- congestion control ------------------------------------------------------------- */

/* D4 (RFC 6928, RFC 5681 3.1, RFC 3465 2.2 with L = 2 SMSS): ten segments leave at
   once; in slow start every ACK grows cwnd by what it acknowledges, but by at most two
   segments, so an ACK of four segments (a stretch ACK) adds only two. */
static void test_d04_initial_window_and_byte_counting(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .cc = TW_CC_NEWRENO);
    assert_int_equal(tw_socket_send(c.s, pat, 40 * MSS, tw_t_now(t)), 40 * MSS);
    EXPECT_SEGS(0, 10, TW_ACK);
    assert_int_equal(info(c.s).cwnd, 10 * MSS);
    tw_time t1 = tw_t_now(t);
    TW_SEND(t, t1 + TW_MS(100), PACK(2));
    EXPECT_SEGS(10, 14, TW_ACK); /* cwnd 12, 8 in flight */
    assert_int_equal(info(c.s).cwnd, 12 * MSS);
    TW_SEND(t, t1 + TW_MS(101), PACK(6));
    EXPECT_SEGS(14, 20, TW_ACK); /* cwnd 14, not 16: L = 2 SMSS */
    assert_int_equal(info(c.s).cwnd, 14 * MSS);
    TW_SEND(t, t1 + TW_MS(102), PACK(7));
    EXPECT_SEGS(20, 22, TW_ACK); /* cwnd 15, 13 in flight */
    /* Half a segment acknowledged counts as half a segment: cwnd 15.5, 14.5 in flight. */
    TW_SEND(t, t1 + TW_MS(103),
            IN(.flags = TW_ACK, .seq = c.rcv, .ack = c.snd + 7 * MSS + MSS / 2));
    EXPECT_SEGS(22, 23, TW_ACK);
    tw_socket_info i = info(c.s);
    assert_int_equal(i.cwnd, 15 * MSS + MSS / 2);
    assert_int_equal(i.ssthresh, UINT32_MAX);
    assert_int_equal(i.ca_state, TW_CA_OPEN);
    assert_int_equal(i.bytes_in_flight, 15 * MSS + MSS / 2);
    abort_idle(t, c.s, c.snd + 23 * MSS, c.rcv);
}

/* D4 (RFC 7661's point, Linux tcp_is_cwnd_limited): an application that never fills the
   window teaches nothing about the path, so cwnd stays at the initial window however
   many of its small writes are acknowledged. */
static void test_d04_cwnd_grows_only_when_cwnd_limited(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS);
    uint32_t off = 0;
    for (unsigned k = 0; k < 30; k++) {
        tw_time at = tw_t_now(t) + TW_MS(10);
        tw_t_advance(t, at);
        assert_int_equal(tw_socket_send(c.s, pat + off, 2 * MSS, at), 2 * MSS);
        TW_EXPECT_EXACT(t, OUT(.flags = TW_ACK, .seq = c.snd + off, .ack = c.rcv, .win = 65535,
                               .len = MSS, .data = pat + off));
        TW_EXPECT_EXACT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = c.snd + off + MSS, .ack = c.rcv,
                               .win = 65535, .len = MSS, .data = pat + off + MSS));
        TW_EXPECT_NOTHING(t);
        off += 2 * MSS;
        TW_SEND(t, at + TW_MS(100), IN(.flags = TW_ACK, .seq = c.rcv, .ack = c.snd + off));
        TW_EXPECT_NOTHING(t);
        assert_int_equal(info(c.s).cwnd, 10 * MSS);
    }
    assert_int_equal(info(c.s).bytes_acked, off);
    TW_EXPECT_NO_DEADLINE(t);
    abort_idle(t, c.s, c.snd + off, c.rcv);
}

/* D4 + D3 (RFC 5681 3.1 and (4), RFC 6298 5.4-5.6): a timeout sets ssthresh to half the
   flight and cwnd to one segment; sending goes back to the first unacknowledged byte and
   slow start (byte counting, L = 2 SMSS) brings cwnd up to ssthresh, after which it grows
   by one SMSS per window acknowledged (congestion avoidance). NewReno. */
static void test_d04_timeout_restarts_slow_start(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .cc = TW_CC_NEWRENO);
    assert_int_equal(tw_socket_send(c.s, pat, 30 * MSS, tw_t_now(t)), 30 * MSS);
    EXPECT_SEGS(0, 10, TW_ACK);
    tw_time t1 = tw_t_now(t);
    /* All ten are lost. */
    RUN_TO(t, t1 + TW_T_RTO);
    EXPECT_SEGS(0, 1, TW_ACK);
    tw_socket_info i = info(c.s);
    assert_int_equal(i.ca_state, TW_CA_LOSS);
    assert_int_equal(i.cwnd, MSS);
    assert_int_equal(i.ssthresh, 5 * MSS);
    assert_int_equal(i.rto_count, 1);
    assert_int_equal(i.rto, 2 * TW_T_RTO);
    tw_time t2 = tw_t_now(t);
    TW_SEND(t, t2 + TW_MS(100), PACK(1)); /* cwnd 2 */
    EXPECT_SEGS(1, 3, TW_ACK);
    TW_SEND(t, t2 + TW_MS(200), PACK(3)); /* cwnd 4 */
    EXPECT_SEGS(3, 7, TW_ACK);
    /* cwnd reaches ssthresh (5) with one of the four segments; the other three count
       towards congestion avoidance. Segments 7..9 go again, 10 and 11 are new. */
    TW_SEND(t, t2 + TW_MS(300), PACK(7));
    EXPECT_SEGS(7, 12, TW_ACK);
    i = info(c.s);
    assert_int_equal(i.cwnd, 5 * MSS);
    assert_int_equal(i.ca_state, TW_CA_LOSS);
    /* The ACK of 12 passes the recovery point (10): the loss episode is over, and 3 + 5
       segments acknowledged in congestion avoidance make one more segment of cwnd. */
    TW_SEND(t, t2 + TW_MS(400), PACK(12));
    EXPECT_SEGS(12, 18, TW_ACK);
    i = info(c.s);
    assert_int_equal(i.ca_state, TW_CA_OPEN);
    assert_int_equal(i.cwnd, 6 * MSS);
    assert_int_equal(i.ssthresh, 5 * MSS);
    assert_int_equal(i.total_retrans, 10);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RTO_FIRED), 1);
    /* Six more acknowledged: 3 + 6 >= 6, cwnd 7. */
    TW_SEND(t, t2 + TW_MS(500), PACK(18));
    EXPECT_SEGS(18, 25, TW_ACK);
    assert_int_equal(info(c.s).cwnd, 7 * MSS);
    TW_SEND(t, t2 + TW_MS(600), PACK(25));
    EXPECT_SEGS(25, 30, TW_ACK | TW_PSH);
    TW_SEND(t, t2 + TW_MS(700), PACK(30));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_NO_DEADLINE(t);
    abort_idle(t, c.s, c.snd + 30 * MSS, c.rcv);
}

/* D4 (RFC 9438 4.6, 4.7): CUBIC, the default, reduces by beta = 0.7 on a loss: after
   three duplicate ACKs ssthresh = 0.7 * cwnd (CUBIC bases it on cwnd and therefore never
   grows cwnd when not cwnd-limited, as RFC 9438 4.6 requires), and fast recovery starts
   from there (without SACK, PRR's share of each ACK, RFC 6937). */
static void test_d04_cubic_multiplicative_decrease(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS);
    assert_int_equal(info(c.s).cc, TW_CC_CUBIC);
    assert_int_equal(tw_socket_send(c.s, pat, 20 * MSS, tw_t_now(t)), 20 * MSS);
    EXPECT_SEGS(0, 10, TW_ACK);
    tw_time t1 = tw_t_now(t) + TW_MS(100);
    TW_SEND(t, t1, PACK(0));
    EXPECT_SEGS(10, 11, TW_ACK);
    TW_SEND(t, t1, PACK(0));
    EXPECT_SEGS(11, 12, TW_ACK);
    TW_SEND(t, t1, PACK(0));
    EXPECT_SEGS(0, 1, TW_ACK);
    tw_socket_info i = info(c.s);
    assert_int_equal(i.ca_state, TW_CA_RECOVERY);
    assert_int_equal(i.ssthresh, 10 * MSS * 7 / 10);
    /* (RFC 6937 PRR, the default: the window is what is in flight, 12 segments: the
       fast retransmit was all this ACK's share, ceil(1 * 7 / 12) segments; without PRR
       RFC 6582's ssthresh + 3 SMSS) */
    assert_int_equal(i.cwnd, 12 * MSS);
    abort_idle(t, c.s, c.snd + 12 * MSS, c.rcv);
}

/* A bulk sender and a peer that acknowledges every segment one RTT (100 ms) after it
   left, each ACK on its own (cumulative, in order). Every segment we send is checked
   whole: next in sequence, full-sized, ACK flag only. */
typedef struct bulk {
    tw_t *t;
    tw_t_conn c;
    uint32_t una, nxt; /* bytes from our first data byte */
    tw_time at;        /* time of the current round */
} bulk;

static void bulk_pop(bulk *b, const char *file, int line)
{
    while (tw_t_pending(b->t)) {
        tw_t_seg w = OUT(.flags = TW_ACK, .seq = b->c.snd + b->nxt, .ack = b->c.rcv,
                         .win = 32768, .len = MSS, .any = TW_T_ANY_PSH);
        tw_t_expect(b->t, &w, file, line);
        b->nxt += MSS;
    }
}

static void bulk_top_up(bulk *b, const char *file, int line)
{
    while (tw_socket_tx_pending(b->c.s) < (1u << 20)) {
        assert_int_equal(tw_socket_send(b->c.s, pat, sizeof pat, tw_t_now(b->t)),
                         (tw_ssize)sizeof pat);
        bulk_pop(b, file, line);
    }
}

/* One round trip: everything in flight is acknowledged, segment by segment, at `at`. */
static void bulk_round(bulk *b, const char *file, int line)
{
    uint32_t end = b->nxt;
    b->at += TW_MS(100);
    while (b->una < end) {
        b->una += MSS;
        tw_t_seg a = IN(.flags = TW_ACK, .seq = b->c.rcv, .ack = b->c.snd + b->una, .win = 4096);
        tw_t_send_at(b->t, b->at, &a, file, line);
        bulk_pop(b, file, line);
    }
    bulk_top_up(b, file, line);
}

/* D4 (RFC 9438 4.2-4.8): CUBIC after a loss. Slow start takes cwnd from 10 to 80
   segments; that whole flight is lost, the timeout sets ssthresh = 0.7 * 80 = 56
   segments (4.6, 4.8) and slow start climbs back to it; then the window follows
   W_cubic(t) = C (t - K)^3 + W_max with W_max = 80, C = 0.4 and K = cbrt((80 - 56) / C)
   = 3.9 s. Checked against the RFC's curve: cwnd never shrinks, its growth per second
   falls while t < K (concave), it is back near W_max at K, and growth speeds up again
   well beyond K (convex; between them the Reno-friendly estimate of 4.3 may lead). */
static void test_d04_cubic_concave_then_convex(void **state)
{
    tw_t *t = *state;
    bulk b = {.t = t};
    b.c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .opts = TW_OPT_WSCALE, .peer_wscale = 7,
                       .peer_win = 4096, .sndbuf = 4u << 20);
    b.at = tw_t_now(t);
    bulk_top_up(&b, __FILE__, __LINE__);
    assert_int_equal(b.nxt, 10 * MSS);
    for (unsigned r = 0; r < 3; r++) {
        bulk_round(&b, __FILE__, __LINE__);
    }
    tw_socket_info i = info(b.c.s);
    assert_int_equal(i.cwnd, 80 * MSS);
    assert_int_equal(b.nxt - b.una, 80 * MSS);
    /* The flight is lost: run the timer until the first segment goes again. */
    for (unsigned guard = 0; guard < 10 && !tw_t_pending(t); guard++) {
        TW_SETTLE(t);
        tw_t_advance(t, tw_stack_next_deadline(tw_t_stack(t)));
    }
    b.nxt = b.una;
    bulk_pop(&b, __FILE__, __LINE__);
    assert_int_equal(b.nxt, b.una + MSS);
    i = info(b.c.s);
    assert_int_equal(i.ca_state, TW_CA_LOSS);
    assert_int_equal(i.cwnd, MSS);
    assert_in_range(i.ssthresh, 56 * MSS - 1, 56 * MSS); /* 0.7 * cwnd, as a double */
    b.at = tw_t_now(t);
    /* Slow start back to ssthresh (1, 2, 4, ... 32, then 56 segments). */
    unsigned r = 0;
    while (info(b.c.s).cwnd < i.ssthresh && r++ < 10) {
        bulk_round(&b, __FILE__, __LINE__);
    }
    assert_in_range(info(b.c.s).cwnd, i.ssthresh, i.ssthresh + MSS);
    /* Ten round trips a second: sample cwnd (in segments) once a second for 9 s. */
    double w[10];
    w[0] = (double)info(b.c.s).cwnd / MSS;
    for (unsigned sec = 1; sec < 10; sec++) {
        for (unsigned k = 0; k < 10; k++) {
            uint32_t before = info(b.c.s).cwnd;
            bulk_round(&b, __FILE__, __LINE__);
            assert_true(info(b.c.s).cwnd >= before);
            assert_true(info(b.c.s).cwnd <= before + before / 2); /* 4.2: at most 1.5x */
        }
        w[sec] = (double)info(b.c.s).cwnd / MSS;
        print_message("cubic t=%us cwnd=%.1f segments\n", sec, w[sec]);
    }
    assert_true(w[0] >= 56.0 && w[0] <= 57.0);
    /* Where the cubic curve leads (t <= K, and from 8 s on) cwnd follows it to within
       1.5 segments: W_cubic(t) = 0.4 (t - K)^3 + 80, K^3 = (80 - cwnd_epoch) / 0.4. */
    double k3 = (80.0 - w[0]) / 0.4, k = 4.0;
    for (int n = 0; n < 50; n++) {
        k -= (k * k * k - k3) / (3 * k * k); /* Newton: the tests link no libm either */
    }
    static const unsigned on_curve[] = {1, 2, 3, 4, 8, 9};
    for (unsigned j = 0; j < sizeof on_curve / sizeof on_curve[0]; j++) {
        double d = on_curve[j] - k;
        double wc = 0.4 * d * d * d + 80.0;
        if (w[on_curve[j]] < wc - 1.5 || w[on_curve[j]] > wc + 1.5) {
            fail_msg("t=%us: cwnd %.1f segments, W_cubic %.1f", on_curve[j], w[on_curve[j]], wc);
        }
    }
    /* Concave: W_cubic rises 14, 7, 2.4 segments in the first three seconds. */
    assert_true(w[1] - w[0] > w[2] - w[1]);
    assert_true(w[2] - w[1] > w[3] - w[2]);
    /* Near W_max around K = 3.9 s (W_cubic(4) = 80.0). */
    assert_true(w[4] >= 77.0 && w[4] <= 84.0);
    /* Convex: W_cubic(9) - W_cubic(8) = 22 segments, far above the 0.53 per RTT
       (5.3 per second) of the Reno-friendly line, and above the growth around K. */
    assert_true(w[9] - w[8] > 10.0);
    assert_true(w[9] - w[8] > w[5] - w[4]);
    tw_socket_abort(b.c.s, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = b.c.snd + b.nxt, .ack = b.c.rcv,
                     .win = 32768));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* ---- delayed ACK -------------------------------------------------------------------- */

/* D4 (RFC 5681 4.2, RFC 1122 4.2.3.2; Linux quick-ACK): the first 16 data segments are
   ACKed at once (so the peer's slow start is not held back); after that an ACK goes
   for every second full-sized segment, or 40 ms after a lone one (the delayed-ACK
   timer), and at once for an out-of-order segment and for the one filling the hole.
   Data we send carries the pending ACK and cancels the timer. */
static void test_d04_delayed_ack(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS);
    uint32_t r = c.rcv;
#define PDATA(n) IN(.flags = TW_ACK, .seq = r, .ack = c.snd, .len = (n), .data = pat + r - c.rcv)
#define OACK(a) OUT(.flags = TW_ACK, .seq = c.snd, .ack = (a), .win = 65535)
    for (unsigned k = 0; k < 16; k++) {
        TW_SEND(t, tw_t_now(t) + TW_MS(1), PDATA(MSS));
        r += MSS;
        TW_EXPECT(t, OACK(r));
        TW_EXPECT_NOTHING(t);
    }
    TW_EXPECT_NO_DEADLINE(t);
    /* 17th: held. */
    tw_time a = tw_t_now(t) + TW_MS(1);
    TW_SEND(t, a, PDATA(MSS));
    r += MSS;
    TW_EXPECT_NOTHING(t);
    DEADLINE(t, a + TW_MS(40));
    /* 18th, 10 ms later: two full segments unacknowledged, ACK now. */
    TW_SEND(t, a + TW_MS(10), PDATA(MSS));
    r += MSS;
    TW_EXPECT(t, OACK(r));
    TW_EXPECT_NOTHING(t);
    /* That ACK cancelled the timer: nothing more at a + 40 ms. */
    tw_t_advance(t, a + TW_MS(40));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_DELAYED_ACK), 0);
    TW_EXPECT_NO_DEADLINE(t);
    /* A lone one: the timer sends the ACK 40 ms later. */
    tw_time b = a + TW_MS(50);
    TW_SEND(t, b, PDATA(MSS));
    r += MSS;
    TW_EXPECT_NOTHING(t);
    RUN_TO(t, b + TW_MS(40));
    TW_EXPECT(t, OACK(r));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_DELAYED_ACK), 1);
    TW_EXPECT_NO_DEADLINE(t);
    /* A small segment: held too; then our own data carries the ACK. */
    tw_time d = b + TW_MS(100);
    TW_SEND(t, d, PDATA(100));
    r += 100;
    TW_EXPECT_NOTHING(t);
    tw_t_advance(t, d + TW_MS(5));
    assert_int_equal(tw_socket_send(c.s, "reply", 5, d + TW_MS(5)), 5);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = c.snd, .ack = r, .win = 65535, .len = 5));
    TW_EXPECT_NOTHING(t);
    DEADLINE(t, d + TW_MS(5) + TW_T_RTO); /* only the RTO is left */
    TW_SEND(t, d + TW_MS(50), IN(.flags = TW_ACK, .seq = r, .ack = c.snd + 5));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_NO_DEADLINE(t);
    /* Out of order: ACK at once, duplicate of r; the hole filled: ACK at once. */
    tw_time e = d + TW_MS(200);
    TW_SEND(t, e, IN(.flags = TW_ACK, .seq = r + MSS, .ack = c.snd + 5, .len = MSS));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd + 5, .ack = r, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, e + TW_MS(1),
            IN(.flags = TW_ACK, .seq = r, .ack = c.snd + 5, .len = MSS, .data = pat + r - c.rcv));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd + 5, .ack = r + 2 * MSS, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_EXPECT_NO_DEADLINE(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_DELAYED_ACK), 1);
    assert_int_equal(tw_socket_rx_pending(c.s), r + 2 * MSS - c.rcv);
#undef PDATA
#undef OACK
    tw_socket_abort(c.s, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = c.snd + 5, .ack = r + 2 * MSS, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* Feed one segment straight to the stack without ending the host's turn, as a host does
   that lets its application act before the stack's on_timeout. */
static void input_in_turn(tw_t *t, tw_t_seg seg)
{
    uint8_t pkt[2000];
    size_t n = tw_t_build(&seg, pkt, sizeof pkt);
    assert_true(n > 0);
    assert_int_equal(tw_stack_input(tw_t_stack(t), pkt, n, tw_t_now(t)), TW_OK);
}

/* D4 (RFC 1122 4.2.3.2, S11, S13): an ACK owed for in-order data or a FIN waits to the
   end of the host's turn (the deadline says "now"), so the reply or FIN the application
   writes in that turn carries it: request, reply, FIN, FIN and the last ACK make a
   lifecycle of 7 segments. Only one segment's ACK is ever held (a second in the same
   turn sends it), an out-of-order segment is ACKed inside the input, and a turn that
   ends with nothing written sends the bare ACK. */
static void test_d04_ack_held_to_end_of_turn(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS);
    uint32_t r = c.rcv;
    /* A request: no ACK inside the input; the deadline is now. */
    input_in_turn(t, IN(.flags = TW_ACK | TW_PSH, .seq = r, .ack = c.snd, .len = 64,
                        .data = pat));
    r += 64;
    assert_int_equal(tw_t_pending(t), 0);
    assert_true(tw_stack_next_deadline(tw_t_stack(t)) <= tw_t_now(t));
    uint8_t buf[128];
    assert_int_equal(tw_socket_recv(c.s, buf, sizeof buf, tw_t_now(t)), 64);
    assert_int_equal(tw_socket_send(c.s, "reply", 5, tw_t_now(t)), 5);
    /* The reply carries the ACK; nothing else is owed at the end of the turn. */
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = c.snd, .ack = r, .win = 65535, .len = 5));
    TW_SETTLE(t);
    TW_EXPECT_NOTHING(t);
    uint32_t snd = c.snd + 5;
    /* Two in-order segments in one turn: the second sends the ACK for both (at least
       every second segment), nothing is left for the turn's end. */
    input_in_turn(t, IN(.flags = TW_ACK, .seq = r, .ack = snd, .len = 100, .data = pat));
    assert_int_equal(tw_t_pending(t), 0);
    input_in_turn(t, IN(.flags = TW_ACK, .seq = r + 100, .ack = snd, .len = 100, .data = pat));
    r += 200;
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = snd, .ack = r, .win = 65535));
    TW_SETTLE(t);
    TW_EXPECT_NOTHING(t);
    /* Out of order: the duplicate ACK leaves inside the input (RFC 5681 4.2). */
    input_in_turn(t, IN(.flags = TW_ACK, .seq = r + 100, .ack = snd, .len = 100, .data = pat));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = snd, .ack = r, .win = 65535,
                     .any = TW_T_ANY_OPTS));
    /* The hole fills: ACKed at once too. */
    input_in_turn(t, IN(.flags = TW_ACK, .seq = r, .ack = snd, .len = 100, .data = pat));
    r += 200;
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = snd, .ack = r, .win = 65535));
    TW_SETTLE(t);
    TW_EXPECT_NOTHING(t);
    /* A lone segment and an application that does nothing: the bare ACK at the turn's
       end, not 40 ms later. */
    input_in_turn(t, IN(.flags = TW_ACK, .seq = r, .ack = snd, .len = 10, .data = pat));
    r += 10;
    assert_int_equal(tw_t_pending(t), 0);
    TW_SETTLE(t);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = snd, .ack = r, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_DELAYED_ACK), 0);
    /* The peer's FIN and our close() in the same turn: one FIN+ACK (S11 + S13). */
    input_in_turn(t, IN(.flags = TW_ACK | TW_FIN, .seq = r, .ack = snd));
    r += 1;
    assert_int_equal(tw_t_pending(t), 0);
    assert_int_equal(tw_socket_state(c.s), TW_STATE_CLOSE_WAIT);
    while (tw_socket_recv(c.s, buf, sizeof buf, tw_t_now(t)) > 0) {
    }
    assert_int_equal(tw_socket_close(c.s, tw_t_now(t)), TW_OK);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_FIN, .seq = snd, .ack = r, .win = 65535));
    TW_SETTLE(t);
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(1), IN(.flags = TW_ACK, .seq = r, .ack = snd + 1));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* ---- Nagle ------------------------------------------------------------------------------ */

/* D4 (RFC 9293 3.7.4, Nagle in Minshall's form as Linux does it): a small segment goes
   at once when no other small segment is unacknowledged; further small writes wait and
   coalesce until it is acknowledged; full segments are never held. */
static void test_d04_nagle_holds_small_segments(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS);
    tw_time t1 = tw_t_now(t);
    assert_int_equal(tw_socket_send(c.s, pat, 100, t1), 100);
    TW_EXPECT_EXACT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = c.snd, .ack = c.rcv, .win = 65535,
                           .len = 100, .data = pat));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_send(c.s, pat + 100, 50, t1), 50);
    assert_int_equal(tw_socket_send(c.s, pat + 150, 50, t1), 50);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_NAGLE_HELD), 2);
    assert_int_equal(tw_socket_tx_pending(c.s), 200);
    /* A full segment's worth is not held, but the small remainder is. */
    assert_int_equal(tw_socket_send(c.s, pat + 200, MSS, t1), MSS);
    TW_EXPECT_EXACT(t, OUT(.flags = TW_ACK, .seq = c.snd + 100, .ack = c.rcv, .win = 65535,
                           .len = MSS, .data = pat + 100));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_NAGLE_HELD), 3);
    /* The ACK of the small segment releases the 100 bytes left. */
    TW_SEND(t, t1 + TW_MS(100), IN(.flags = TW_ACK, .seq = c.rcv, .ack = c.snd + 100));
    TW_EXPECT_EXACT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = c.snd + 100 + MSS, .ack = c.rcv,
                           .win = 65535, .len = 100, .data = pat + 100 + MSS));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, t1 + TW_MS(200),
            IN(.flags = TW_ACK, .seq = c.rcv, .ack = c.snd + 200 + MSS));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_tx_pending(c.s), 0);
    abort_idle(t, c.s, c.snd + 200 + MSS, c.rcv);
}

/* D4 (TCP_CORK, MSG_MORE, Linux's; the packet scripts d04_cork_* and d04_msg_more* hold
   the timing): through the API, a corked write waits and its counter moves, the info
   reads the setting back, the cork's clearing sends the bytes; a MSG_MORE call leaves
   the socket's own setting as it was; unknown send flags are refused. */
static void test_d04_cork_api(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS);
    tw_time t1 = tw_t_now(t);
    assert_int_equal(tw_socket_send_flags(c.s, pat, 10, 0x1u, t1), TW_ERR_INVAL);
    assert_int_equal(tw_socket_set_cork(c.s, true), 0);
    assert_true(info(c.s).cork);
    assert_int_equal(tw_socket_send(c.s, pat, 10, t1), 10);
    assert_int_equal(tw_socket_send(c.s, pat + 10, 10, t1), 10);
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CORK_HELD), 2);
    assert_int_equal(tw_socket_set_cork(c.s, false), 0);
    assert_false(info(c.s).cork);
    TW_EXPECT_EXACT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = c.snd, .ack = c.rcv, .win = 65535,
                           .len = 20, .data = pat));
    TW_SEND(t, t1 + TW_MS(10), IN(.flags = TW_ACK, .seq = c.rcv, .ack = c.snd + 20));
    assert_int_equal(tw_socket_send_flags(c.s, pat + 20, 10, TW_MSG_MORE, t1 + TW_MS(10)), 10);
    TW_EXPECT_NOTHING(t);
    assert_false(info(c.s).cork);
    assert_int_equal(tw_socket_send_flags(c.s, pat + 30, 10, 0, t1 + TW_MS(10)), 10);
    TW_EXPECT_EXACT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = c.snd + 20, .ack = c.rcv,
                           .win = 65535, .len = 20, .data = pat + 20));
    TW_SEND(t, t1 + TW_MS(20), IN(.flags = TW_ACK, .seq = c.rcv, .ack = c.snd + 40));
    TW_EXPECT_NOTHING(t);
    abort_idle(t, c.s, c.snd + 40, c.rcv);
}

/* D4 (TCP_NODELAY): with Nagle off each small write leaves at once; turning it off
   while data is held sends that data (as Linux does). */
static void test_d04_nodelay_sends_small_writes(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS);
    tw_time t1 = tw_t_now(t);
    assert_int_equal(tw_socket_send(c.s, pat, 10, t1), 10);
    TW_EXPECT_EXACT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = c.snd, .ack = c.rcv, .win = 65535,
                           .len = 10, .data = pat));
    assert_int_equal(tw_socket_send(c.s, pat + 10, 10, t1), 10);
    TW_EXPECT_NOTHING(t);
    assert_false(info(c.s).nodelay);
    assert_int_equal(tw_socket_set_nodelay(c.s, true), 0);
    assert_true(info(c.s).nodelay);
    TW_EXPECT_EXACT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = c.snd + 10, .ack = c.rcv,
                           .win = 65535, .len = 10, .data = pat + 10));
    TW_EXPECT_NOTHING(t);
    for (unsigned k = 2; k < 5; k++) {
        assert_int_equal(tw_socket_send(c.s, pat + 10 * k, 10, t1), 10);
        TW_EXPECT_EXACT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = c.snd + 10 * k, .ack = c.rcv,
                               .win = 65535, .len = 10, .data = pat + 10 * k));
        TW_EXPECT_NOTHING(t);
    }
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_NAGLE_HELD), 1);
    TW_SEND(t, t1 + TW_MS(100), IN(.flags = TW_ACK, .seq = c.rcv, .ack = c.snd + 50));
    TW_EXPECT_NOTHING(t);
    abort_idle(t, c.s, c.snd + 50, c.rcv);
}

/* ---- keepalive ---------------------------------------------------------------------- */

/* D4 (RFC 9293 3.8.4, RFC 1122 4.2.3.6; Linux's probe and give-up): after `idle` without
   a segment from the peer, probes (an empty segment at SND.UNA - 1, which the peer must
   ACK) go every `intvl`; when `probes` of them are unanswered the connection is reset
   (Linux sends the RST in case the peer is only deaf) and fails with TIMEDOUT. */
static void test_d04_keepalive_probes_then_timedout(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS);
    tw_time t0 = tw_t_now(t); /* the third ACK: the last segment from the peer */
    assert_int_equal(tw_socket_set_keepalive(c.s, true, TW_SEC(10), TW_SEC(2), 3), 0);
    assert_true(info(c.s).keepalive);
    static const uint32_t at_s[] = {10, 12, 14};
    for (unsigned k = 0; k < 3; k++) {
        RUN_TO(t, t0 + TW_SEC(at_s[k]));
        TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd - 1, .ack = c.rcv, .win = 65535));
        TW_EXPECT_NOTHING(t);
        assert_int_equal(info(c.s).keepalive_probes, k + 1);
        assert_int_equal(tw_t_counter(t, TW_CNT_TCP_KEEPALIVE_PROBE), k + 1);
    }
    /* The give-up is checked by its output (it emits no TIMER trace event). */
    DEADLINE(t, t0 + TW_SEC(16));
    tw_t_advance(t, t0 + TW_SEC(16) - TW_MS(1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c.s), TW_STATE_ESTABLISHED);
    tw_t_advance(t, t0 + TW_SEC(16));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = c.snd, .ack = c.rcv, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c.s), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(c.s), TW_ERR_TIMEDOUT);
    assert_true(tw_socket_events(c.s) & TW_EV_ERROR);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_KEEPALIVE_TIMEDOUT), 1);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CONN_TIMEDOUT), 1);
    TW_EXPECT_NO_DEADLINE(t);
    tw_socket_close(c.s, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

/* With keepalive at idle 10 s, interval 2 s: the first two probes (an empty segment at
   SND.UNA - 1) at t0 + 10 s and t0 + 12 s, nothing else. */
static void two_probes_unanswered(tw_t *t, const tw_t_conn *c, tw_time t0)
{
    for (unsigned k = 0; k < 2; k++) {
        RUN_TO(t, t0 + TW_SEC(10 + 2 * k));
        TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c->snd - 1, .ack = c->rcv, .win = 65535));
        TW_EXPECT_NOTHING(t);
    }
}

/* D4 (RFC 1122 4.2.3.6): an answered probe proves the peer alive: the count starts over
   and the next probe waits a full idle time from the answer; any segment from the peer
   (here data) also restarts the idle time. */
static void test_d04_keepalive_answered_keeps_connection(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS);
    tw_time t0 = tw_t_now(t);
    assert_int_equal(tw_socket_set_keepalive(c.s, true, TW_SEC(10), TW_SEC(2), 3), 0);
    two_probes_unanswered(t, &c, t0);
    tw_time a = t0 + TW_SEC(12) + TW_MS(100);
    TW_SEND(t, a, IN(.flags = TW_ACK, .seq = c.rcv, .ack = c.snd));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(info(c.s).keepalive_probes, 0);
    RUN_TO(t, a + TW_SEC(10));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd - 1, .ack = c.rcv, .win = 65535));
    TW_EXPECT_NOTHING(t);
    /* Data from the peer 1 s later answers too (and is ACKed at once: quick ACK). */
    tw_time b = a + TW_SEC(11);
    TW_SEND(t, b, IN(.flags = TW_ACK | TW_PSH, .seq = c.rcv, .ack = c.snd, .len = 4,
                     .data = "ping"));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd, .ack = c.rcv + 4, .win = 65535));
    TW_EXPECT_NOTHING(t);
    RUN_TO(t, b + TW_SEC(10));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = c.snd - 1, .ack = c.rcv + 4, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_KEEPALIVE_PROBE), 4);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_KEEPALIVE_TIMEDOUT), 0);
    assert_int_equal(tw_socket_state(c.s), TW_STATE_ESTABLISHED);
    /* Turning keepalive off stops the probes. */
    assert_int_equal(tw_socket_set_keepalive(c.s, false, 0, 0, 0), 0);
    TW_SETTLE(t);
    TW_EXPECT_NO_DEADLINE(t);
    uint8_t buf[8];
    assert_int_equal(tw_socket_recv(c.s, buf, sizeof buf, tw_t_now(t)), 4);
    abort_idle(t, c.s, c.snd, c.rcv + 4);
}

/* Issue 7 review (Linux: a child socket is a copy of its listener): SO_KEEPALIVE with
   its times, SO_LINGER 0 and TCP_USER_TIMEOUT set on the listener hold on the connections
   it takes. */
static void listener_keepalive_linger0(tw_socket *l)
{
    assert_int_equal(tw_socket_set_keepalive(l, true, TW_SEC(10), TW_SEC(2), 3), 0);
    assert_int_equal(tw_socket_set_linger0(l, true), 0);
}

static void test_d04_child_inherits_keepalive_and_linger0(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .on_listener = listener_keepalive_linger0);
    tw_time t0 = tw_t_now(t); /* the third ACK */
    assert_true(info(c.s).keepalive);
    /* The listener's times, not the stack's two hours. */
    two_probes_unanswered(t, &c, t0);
    assert_int_equal(info(c.s).keepalive_probes, 2);
    /* Linger 0: close() resets rather than sending FIN. */
    assert_int_equal(tw_socket_close(c.s, tw_t_now(t)), 0);
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = c.snd, .ack = c.rcv, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

static void listener_user_timeout(tw_socket *l)
{
    assert_int_equal(tw_socket_set_user_timeout(l, TW_SEC(1)), 0);
}

static void test_d04_child_inherits_user_timeout(void **state)
{
    tw_t *t = *state;
    tw_t_conn c = TW_OPEN_WITH(t, .peer_iss = PEER_ISS, .on_listener = listener_user_timeout);
    tw_time t0 = tw_t_now(t);
    assert_int_equal(tw_socket_set_nodelay(c.s, true), 0);
    assert_int_equal(tw_socket_send(c.s, pat, 10, t0), 10);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = c.snd, .ack = c.rcv, .win = 65535,
                     .len = 10));
    TW_EXPECT_NOTHING(t);
    /* Unanswered: retransmitted at RTO 300 ms and 900 ms; the next (2.1 s) would come
       after the user timeout, which ends the connection 1 s after the data went. */
    static const uint32_t rxt_ms[] = {300, 900};
    for (unsigned k = 0; k < 2; k++) {
        RUN_TO(t, t0 + TW_MS(rxt_ms[k]));
        TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = c.snd, .ack = c.rcv, .win = 65535,
                         .len = 10));
    }
    tw_t_advance(t, t0 + TW_MS(2100));
    assert_int_equal(tw_socket_state(c.s), TW_STATE_CLOSED);
    assert_int_equal(tw_socket_error(c.s), TW_ERR_TIMEDOUT);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_USER_TIMEDOUT), 1);
    tw_socket_close(c.s, tw_t_now(t));
    TW_ASSERT_IDLE(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_d04_initial_window_and_byte_counting, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d04_cwnd_grows_only_when_cwnd_limited, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d04_timeout_restarts_slow_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_d04_cubic_multiplicative_decrease, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d04_cubic_concave_then_convex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_d04_delayed_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_d04_ack_held_to_end_of_turn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_d04_nagle_holds_small_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_d04_cork_api, setup, teardown),
        cmocka_unit_test_setup_teardown(test_d04_nodelay_sends_small_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_d04_keepalive_probes_then_timedout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d04_keepalive_answered_keeps_connection, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d04_child_inherits_keepalive_and_linger0, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_d04_child_inherits_user_timeout, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
