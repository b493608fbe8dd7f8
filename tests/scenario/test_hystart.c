/*
 * test_hystart.c -- SPEC D4: HyStart++ (RFC 9406) in the initial slow start, rule by
 * rule: rounds marked by sequence number, the round's least RTT over at least
 * N_RTT_SAMPLE = 8 samples, RttThresh = clamp(lastRoundMinRTT / 8, 4 ms, 16 ms),
 * Conservative Slow Start (a quarter of the growth) for CSS_ROUNDS = 5 rounds and then
 * ssthresh = cwnd, the way back to slow start when the RTT falls (a spurious exit), a
 * loss in CSS, and the setting that turns it off.
 *
 * The peer acknowledges each of our segments on its own, echoing its TSval (RFC 7323),
 * an RTT after it left that the test chooses for each of the sender's rounds; the test
 * keeps its own copy of the sender's round (it ends when the cumulative ACK reaches
 * windowEnd, which then becomes SND.NXT as that ACK found it), so that each rule is
 * checked at the very ACK it acts on.
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 4999u
#define QMAX 4096

static uint8_t pat[131072];

typedef struct hs_peer {
    tw_t *t;
    tw_t_conn c;
    uint32_t nxt;      /* bytes sent, from our first data byte */
    uint32_t peer_ts;  /* the peer's TSval clock */
    tw_time last_at;   /* the last ACK's time (ACKs go in order) */
    unsigned head, n;  /* the segments in flight, oldest first */
    struct {
        uint32_t end, tsval;
        tw_time sent;
    } q[QMAX];
    /* The sender's round (RFC 9406 4.2), mirrored. */
    bool we_set;
    uint32_t we;
    unsigned rounds; /* rounds ended */
} hs_peer;

static hs_peer P; /* (large: static) */

/* Take what the stack sent: full segments, in sequence, ACK flag (PSH on every second of
   a burst, not looked at). */
static void hs_pop(hs_peer *p)
{
    while (tw_t_pending(p->t)) {
        tw_t_seg w = OUT(.flags = TW_ACK, .seq = p->c.snd + p->nxt, .ack = p->c.rcv,
                         .len = p->c.mss, .opts = TW_OPT_TS, .ts_ecr = p->peer_ts,
                         .any = TW_T_ANY_TSVAL | TW_T_ANY_WIN | TW_T_ANY_PSH);
        tw_t_seg g = tw_t_expect(p->t, &w, __FILE__, __LINE__);
        assert_true(p->n < QMAX);
        unsigned i = (p->head + p->n++) % QMAX;
        p->nxt += p->c.mss;
        p->q[i].end = p->nxt;
        p->q[i].tsval = g.ts_val;
        p->q[i].sent = tw_t_now(p->t);
    }
}

static void hs_top_up(hs_peer *p)
{
    while (tw_socket_tx_pending(p->c.s) < (1u << 20)) {
        assert_int_equal(tw_socket_send(p->c.s, pat, sizeof pat, tw_t_now(p->t)),
                         (tw_ssize)sizeof pat);
        hs_pop(p);
    }
}

/* A connection to a peer with timestamps and a 512 KiB window; 10 segments sent. */
static void hs_open(hs_peer *p, const tw_config *cfg, tw_cc_algo cc)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < sizeof pat; i++) {
        pat[i] = (uint8_t)(i * 29u + 7u + (i >> 11));
    }
    p->t = tw_t_new(cfg);
    assert_non_null(p->t);
    p->c = TW_OPEN_WITH(p->t, .peer_iss = PEER_ISS, .opts = TW_OPT_WSCALE | TW_OPT_TS,
                        .peer_wscale = 7, .peer_win = 4096, .peer_tsval = 1000,
                        .sndbuf = 4u << 20, .cc = cc);
    assert_int_equal(p->c.mss, 1448);
    p->peer_ts = p->c.peer_ts;
    p->last_at = tw_t_now(p->t);
    hs_top_up(p);
    assert_int_equal(p->nxt, 10 * 1448);
}

static void hs_close(hs_peer *p)
{
    tw_socket_abort(p->c.s, tw_t_now(p->t));
    TW_EXPECT(p->t, OUT(.flags = TW_RST | TW_ACK, .seq = p->c.snd + p->nxt, .ack = p->c.rcv,
                        .any = TW_T_ANY_WIN | TW_T_ANY_OPTS));
    TW_EXPECT_NOTHING(p->t);
    TW_ASSERT_IDLE(p->t);
    tw_t_free(p->t);
}

static tw_socket_info info(const hs_peer *p)
{
    tw_socket_info i;
    tw_socket_info_get(p->c.s, &i);
    return i;
}

static uint64_t cnt(const hs_peer *p, enum tw_counter id)
{
    return tw_t_counter(p->t, id);
}

/* The peer acknowledges the oldest segment in flight `rtt_ms` after it left (or with
   the ACK before it, if that came later). Returns whether the ACK ended a round. */
static bool hs_ack(hs_peer *p, unsigned rtt_ms)
{
    assert_true(p->n > 0);
    unsigned i = p->head;
    tw_time at = p->q[i].sent + TW_MS(rtt_ms);
    if (at < p->last_at) {
        at = p->last_at;
    }
    p->last_at = at;
    uint32_t end = p->q[i].end, nxt_before = p->nxt;
    if (!p->we_set) {
        p->we_set = true;
        p->we = nxt_before; /* windowEnd initialized to SND.NXT */
    }
    p->peer_ts++;
    tw_t_seg a = IN(.flags = TW_ACK, .seq = p->c.rcv, .ack = p->c.snd + end, .win = 4096,
                    .opts = TW_OPT_TS, .ts_val = p->peer_ts, .ts_ecr = p->q[i].tsval);
    tw_t_send_at(p->t, at, &a, __FILE__, __LINE__);
    p->head = (p->head + 1) % QMAX;
    p->n--;
    hs_pop(p);
    hs_top_up(p);
    if (end >= p->we) {
        p->we = nxt_before;
        p->rounds++;
        return true;
    }
    return false;
}

/* The sender's rounds go on at `rtt_ms` until `rounds` have ended. */
static void hs_until_round(hs_peer *p, unsigned rounds, unsigned rtt_ms)
{
    while (p->rounds < rounds) {
        hs_ack(p, rtt_ms);
    }
}

/* D4, RFC 9406 4.2: rounds are marked by sequence numbers (windowEnd = SND.NXT, the round
   ends when it is acknowledged); each round's least RTT is compared with the previous
   round's once the round has N_RTT_SAMPLE = 8 samples. Two rounds at 100 ms, then the
   RTT rises by 20 ms (RttThresh 12.5 ms): seven samples are not enough; the eighth exits
   slow start for CSS. Until then, and on that ACK, every ACK of one segment grows cwnd
   by one segment (RFC 3465's byte counting); from the next on by a quarter of it. */
static void test_d04_hystart_round_eight_samples_css(void **state)
{
    (void)state;
    hs_peer *p = &P;
    hs_open(p, NULL, TW_CC_CUBIC);
    /* Round 1 is the initial window's ten ACKs: cwnd 10 -> 20 segments. */
    for (unsigned k = 0; k < 9; k++) {
        assert_false(hs_ack(p, 100));
    }
    assert_true(hs_ack(p, 100));
    assert_int_equal(info(p).cwnd, 20 * 1448);
    hs_until_round(p, 2, 100);
    uint32_t cwnd = info(p).cwnd;
    for (unsigned k = 1; k <= 7; k++) {
        assert_false(hs_ack(p, 120));
        cwnd += 1448;
        assert_int_equal(info(p).cwnd, cwnd);
    }
    assert_int_equal(cnt(p, TW_CNT_TCP_HYSTART_CSS), 0);
    assert_false(hs_ack(p, 120)); /* the eighth sample */
    assert_int_equal(cnt(p, TW_CNT_TCP_HYSTART_CSS), 1);
    cwnd += 1448; /* (the cwnd update comes first: slow start's) */
    assert_int_equal(info(p).cwnd, cwnd);
    /* CSS: cwnd += min(N, L*SMSS) / CSS_GROWTH_DIVISOR, the remainder carried. */
    for (unsigned k = 1; k <= 8; k++) {
        assert_false(hs_ack(p, 120));
        assert_int_equal(info(p).cwnd, cwnd + 1448 * k / 4);
    }
    tw_socket_info i = info(p);
    assert_int_equal(i.ssthresh, UINT32_MAX); /* still slow start */
    assert_int_equal(i.ca_state, TW_CA_OPEN);
    assert_int_equal(cnt(p, TW_CNT_TCP_HYSTART_SPURIOUS), 0);
    hs_close(p);
}

/* D4, RFC 9406 4.2: the test is on the round's minimum. A round whose first sample is
   at the old RTT and whose next ones are 30 ms above it does not leave slow start; the
   round after it, all above, does (its minimum against this round's, 100 ms). */
static void test_d04_hystart_round_minimum(void **state)
{
    (void)state;
    hs_peer *p = &P;
    hs_open(p, NULL, TW_CC_CUBIC);
    hs_until_round(p, 2, 100);
    hs_ack(p, 100);
    while (p->rounds < 3) {
        hs_ack(p, 130);
    }
    assert_int_equal(cnt(p, TW_CNT_TCP_HYSTART_CSS), 0);
    for (unsigned k = 0; k < 7; k++) {
        hs_ack(p, 130);
    }
    assert_int_equal(cnt(p, TW_CNT_TCP_HYSTART_CSS), 0);
    hs_ack(p, 130);
    assert_int_equal(cnt(p, TW_CNT_TCP_HYSTART_CSS), 1);
    hs_close(p);
}

/* Two rounds at `base_ms`, then a round at base_ms + d_ms: did slow start end? */
static bool css_after(unsigned base_ms, unsigned d_ms)
{
    hs_peer *p = &P;
    hs_open(p, NULL, TW_CC_CUBIC);
    hs_until_round(p, 2, base_ms);
    hs_until_round(p, 3, base_ms + d_ms);
    bool css = cnt(p, TW_CNT_TCP_HYSTART_CSS) == 1;
    hs_close(p);
    return css;
}

/* D4, RFC 9406 4.2: RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT / MIN_RTT_DIVISOR,
   MAX_RTT_THRESH)), 4 ms <= RTT / 8 <= 16 ms: on a 10 ms path a rise of 4 ms (not 1.25),
   on a 100 ms path 12.5 ms (13 in whole milliseconds, the timestamps' unit), on a 200 ms
   path 16 ms (not 25). */
static void test_d04_hystart_threshold_clamp(void **state)
{
    (void)state;
    assert_false(css_after(10, 3));
    assert_true(css_after(10, 4));
    assert_false(css_after(100, 12));
    assert_true(css_after(100, 13));
    assert_false(css_after(200, 15));
    assert_true(css_after(200, 16));
}

/* Enter CSS in the third round (RTT 100 -> 120 ms). */
static void enter_css(hs_peer *p)
{
    hs_until_round(p, 2, 100);
    while (cnt(p, TW_CNT_TCP_HYSTART_CSS) == 0) {
        assert_false(hs_ack(p, 120));
    }
}

/* D4, RFC 9406 4.2: "CSS lasts at most CSS_ROUNDS rounds. If the transition into CSS
   happens in the middle of a round, that partial round counts towards the limit", then
   "enter congestion avoidance by setting the ssthresh to the current cwnd". NewReno's
   congestion avoidance then grows one segment per window acknowledged. */
static void test_d04_hystart_css_rounds_then_avoidance(void **state)
{
    (void)state;
    hs_peer *p = &P;
    hs_open(p, NULL, TW_CC_NEWRENO);
    enter_css(p);
    unsigned entered = p->rounds; /* rounds ended before the CSS's partial one */
    for (;;) {
        uint32_t before = info(p).cwnd;
        bool end = hs_ack(p, 120);
        tw_socket_info i = info(p);
        if (p->rounds < entered + 5) {
            assert_int_equal(i.ssthresh, UINT32_MAX);
            assert_in_range(i.cwnd - before, 361, 362); /* 1448 / 4 */
            continue;
        }
        assert_true(end);
        assert_int_equal(i.ssthresh, i.cwnd);
        break;
    }
    assert_int_equal(cnt(p, TW_CNT_TCP_HYSTART_CA), 1);
    assert_int_equal(cnt(p, TW_CNT_TCP_HYSTART_CSS), 1);
    /* Congestion avoidance (RFC 5681 3.1): no growth until a window is acknowledged, even
       at a lower RTT (HyStart++ is over). */
    uint32_t cw = info(p).cwnd;
    for (uint32_t acked = 0; acked + 1448 < cw; acked += 1448) {
        hs_ack(p, 100);
        assert_int_equal(info(p).cwnd, cw);
    }
    hs_ack(p, 100);
    assert_int_equal(info(p).cwnd, cw + 1448);
    assert_int_equal(cnt(p, TW_CNT_TCP_HYSTART_SPURIOUS), 0);
    hs_close(p);
}

/* D4, RFC 9406 4.2: in CSS, a round whose minimum (over 8 samples) falls below
   cssBaselineMinRtt shows the exit was spurious: slow start resumes, HyStart++ with it,
   and CSS's rounds start over should it come back. */
static void test_d04_hystart_spurious_exit(void **state)
{
    (void)state;
    hs_peer *p = &P;
    hs_open(p, NULL, TW_CC_CUBIC);
    enter_css(p); /* (cssBaselineMinRtt 120 ms) */
    /* A round at the baseline is not below it. */
    unsigned r = p->rounds;
    hs_until_round(p, r + 2, 120);
    assert_int_equal(cnt(p, TW_CNT_TCP_HYSTART_SPURIOUS), 0);
    /* A millisecond below it is, once the round has its 8 samples. */
    while (cnt(p, TW_CNT_TCP_HYSTART_SPURIOUS) == 0) {
        assert_true(p->rounds < r + 3);
        uint32_t before = info(p).cwnd;
        hs_ack(p, 119);
        if (cnt(p, TW_CNT_TCP_HYSTART_SPURIOUS) == 0) {
            assert_in_range(info(p).cwnd - before, 361, 362); /* CSS's growth */
        }
    }
    /* Standard slow start again: a segment of cwnd per segment acknowledged. */
    for (unsigned k = 0; k < 20; k++) {
        uint32_t before = info(p).cwnd;
        hs_ack(p, 100);
        assert_int_equal(info(p).cwnd - before, 1448);
    }
    assert_int_equal(info(p).ssthresh, UINT32_MAX);
    /* HyStart++ goes on: a rise over this round's minimum (100 ms) enters CSS again, and
       its five rounds count from there. */
    r = p->rounds;
    hs_until_round(p, r + 1, 100);
    while (cnt(p, TW_CNT_TCP_HYSTART_CSS) == 1) {
        hs_ack(p, 125);
    }
    unsigned entered = p->rounds;
    hs_until_round(p, entered + 4, 125);
    assert_int_equal(info(p).ssthresh, UINT32_MAX);
    hs_until_round(p, entered + 5, 125);
    assert_int_equal(info(p).ssthresh, info(p).cwnd);
    assert_int_equal(cnt(p, TW_CNT_TCP_HYSTART_CA), 1);
    hs_close(p);
}

/* D4, RFC 9406 4.2: a loss in CSS ends it the usual way: ssthresh from cwnd as after any
   loss (CUBIC: 0.7 cwnd, RFC 9438 4.6; here the RTO's, RFC 5681 3.1 (4): cwnd one
   segment), and HyStart++ is over for the connection (RFC 9406 4.3: not in the slow
   starts after a timeout). */
static void test_d04_hystart_loss_in_css(void **state)
{
    (void)state;
    hs_peer *p = &P;
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.no_tlp = true; /* (the timeout at once, no probe first) */
    hs_open(p, &cfg, TW_CC_CUBIC);
    enter_css(p);
    hs_ack(p, 120);
    uint32_t cwnd = info(p).cwnd;
    /* Everything in flight is lost: the RTO resends the first segment. */
    for (unsigned guard = 0; guard < 10 && !tw_t_pending(p->t); guard++) {
        TW_SETTLE(p->t);
        tw_t_advance(p->t, tw_stack_next_deadline(tw_t_stack(p->t)));
    }
    uint32_t una = p->q[p->head].end - p->c.mss;
    TW_EXPECT(p->t, OUT(.flags = TW_ACK, .seq = p->c.snd + una, .ack = p->c.rcv,
                        .len = p->c.mss, .any = TW_T_ANY_WIN | TW_T_ANY_OPTS));
    TW_EXPECT_NOTHING(p->t);
    tw_socket_info i = info(p);
    assert_int_equal(cnt(p, TW_CNT_TCP_HYSTART_CSS_LOSS), 1);
    assert_int_equal(cnt(p, TW_CNT_TCP_HYSTART_CA), 0);
    assert_int_equal(i.ca_state, TW_CA_LOSS);
    assert_int_equal(i.cwnd, 1448);
    assert_in_range(i.ssthresh, cwnd * 7 / 10 - 1, cwnd * 7 / 10);
    hs_close(p); /* (the RST at SND.MAX) */
}

/* D4: `hystart=0` (tw_config.no_hystart): the same rise of the RTT leaves slow start
   alone, every ACK grows cwnd by what it acknowledges. */
static void test_d04_hystart_off(void **state)
{
    (void)state;
    hs_peer *p = &P;
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.no_hystart = true;
    hs_open(p, &cfg, TW_CC_CUBIC);
    hs_until_round(p, 2, 100);
    for (unsigned k = 0; k < 60; k++) {
        uint32_t before = info(p).cwnd;
        hs_ack(p, 150);
        assert_int_equal(info(p).cwnd - before, 1448);
    }
    assert_int_equal(cnt(p, TW_CNT_TCP_HYSTART_CSS), 0);
    assert_int_equal(info(p).ssthresh, UINT32_MAX);
    hs_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_d04_hystart_round_eight_samples_css),
        cmocka_unit_test(test_d04_hystart_round_minimum),
        cmocka_unit_test(test_d04_hystart_threshold_clamp),
        cmocka_unit_test(test_d04_hystart_css_rounds_then_avoidance),
        cmocka_unit_test(test_d04_hystart_spurious_exit),
        cmocka_unit_test(test_d04_hystart_loss_in_css),
        cmocka_unit_test(test_d04_hystart_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
