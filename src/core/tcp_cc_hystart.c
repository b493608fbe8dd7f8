/*
 * tcp_cc_hystart.c -- HyStart++ (RFC 9406): leaving the initial slow start on a rise of
 * the round trip time, before the bottleneck's queue overflows.
 *
 * Slow start doubles cwnd every round trip until a loss; on a path with a deep queue the
 * last doubling fills the queue and then overflows it, losing up to a window of data at
 * once. HyStart++ watches the least RTT of each round: once a round's minimum is above
 * the previous round's by RttThresh (the queue is growing), it leaves standard slow
 * start for Conservative Slow Start (CSS), which grows cwnd by a quarter of the rate;
 * after CSS_ROUNDS rounds of CSS it sets ssthresh = cwnd (congestion avoidance). If
 * the RTT falls back below the minimum that sent it to CSS, the rise was jitter, not a
 * queue, and standard slow start resumes.
 *
 * Linux's CUBIC has the older HyStart (Ha and Rhee, 2008), on by default: a
 * delay-increase test much like this one (the least RTT of a round's first 8 ACKs
 * against the previous round's, the same clamp of RTT/8 to 4..16 ms), plus an ACK-train
 * test (a round's ACKs spread over more than half the least RTT), from 16 segments of
 * cwnd on (hystart_low_window), and leaves slow start outright (ssthresh = cwnd) at the
 * first hit, with no CSS and no way back. tcpwave follows the RFC: one test (delay), a
 * CSS that can be undone, for NewReno and CUBIC alike (RFC 9406 applies to any
 * algorithm's slow start).
 *
 * The RTT samples are RFC 7323's (the echoed timestamp, one per ACK, the same ones the
 * RTO is computed from); without timestamps tcpwave times one segment per round trip
 * (RFC 6298 3), too few for N_RTT_SAMPLE, and slow start runs as before. The samples
 * come from the ACKs that grow cwnd (tcpwave grows it only when cwnd was the limit,
 * RFC 7661's point, tcp_in.c on_new_ack): an ACK of a flight that did not fill the
 * window says nothing of the queue the window builds. The state lives in the
 * congestion-control state's room (tcp_cc.h tw_hystart), which no algorithm uses before
 * the first reduction: struct tw_socket does not grow.
 */
#include "core/tcp_cc.h"
#include "core/tcp_conn.h"

/* RFC 9406 4.3's constants. */
#define MIN_RTT_THRESH TW_MS(4)
#define MAX_RTT_THRESH TW_MS(16)
#define MIN_RTT_DIVISOR 8
#define N_RTT_SAMPLE 8
#define CSS_GROWTH_DIVISOR 4
#define CSS_ROUNDS 5

#define INF TW_TIME_NEVER /* the RFC's "infinity" */

/* currRTT for this ACK (RFC 7323 4.1, as tcp_in.c ack_advance_as takes it), 0 for none:
   no timestamps, no echo, or an echo that may be of an earlier transmission (a loss
   episode's, tcp_in.c rtt_echo_ambiguous: only after an undone reduction is HyStart++
   back in such an episode). */
static tw_time rtt_sample(const tw_socket *c, const tw_tcp_opts *o)
{
    if (o == NULL || !(c->flags & TW_F_TS) || !(o->present & TW_OPT_TS) || o->ts_ecr == 0) {
        return 0;
    }
    uint32_t ms = tw_ts_now(c->st, c->ts_offset) - o->ts_ecr;
    if ((int32_t)ms < 0 || (c->sb && tw_conn_sbx(c)->rtx_ts_on)) {
        return 0;
    }
    return ms ? TW_MS(ms) : TW_US(500); /* (under a millisecond: half of one) */
}

/* RFC 9406 4.2: "At the start of each round during standard slow start and CSS". */
static void round_start(tw_socket *c, tw_hystart *hs)
{
    hs->last_min = hs->cur_min;
    hs->cur_min = INF;
    hs->samples = 0;
    hs->window_end = c->snd_nxt;
}

void tw_hystart_on_ack(tw_socket *c, uint32_t inc, const tw_tcp_opts *o)
{
    tw_hystart *hs = &c->cc.hs;
    if (hs->phase != TW_HS_SS && hs->phase != TW_HS_CSS) {
        /* RFC 9406 4.2: "lastRoundMinRTT = infinity, currentRoundMinRTT = infinity";
           windowEnd "initialized to SND.NXT": the first round is the flight this first
           ACK of the slow start belongs to. */
        hs->phase = TW_HS_SS;
        hs->cur_min = INF;
        hs->css_base = INF;
        hs->css_rounds = 0;
        hs->css_frac = 0;
        round_start(c, hs); /* (lastRoundMinRTT from cur_min: infinity) */
    }
    /* The cwnd update: min(N, L*SMSS) in standard slow start, that divided by
       CSS_GROWTH_DIVISOR in CSS (the remainder carried: a quarter of 2 SMSS per ACK
       would otherwise lose up to 3 bytes an ACK). */
    uint32_t grow = inc;
    if (hs->phase == TW_HS_CSS) {
        uint32_t v = inc + hs->css_frac;
        grow = v / CSS_GROWTH_DIVISOR;
        hs->css_frac = (uint8_t)(v % CSS_GROWTH_DIVISOR);
    }
    uint32_t room = UINT32_MAX - 1 - c->cwnd; /* (ssthresh stays above cwnd) */
    c->cwnd += grow < room ? grow : room;
    /* "Keep track of the minimum observed RTT", then the round's test once it has
       N_RTT_SAMPLE samples (RFC 9406 4.2). */
    tw_time r = rtt_sample(c, o);
    if (r) {
        if (r < hs->cur_min) {
            hs->cur_min = r;
        }
        if (hs->samples < UINT8_MAX) {
            hs->samples++;
        }
        if (hs->samples >= N_RTT_SAMPLE) {
            if (hs->phase == TW_HS_SS) {
                if (hs->last_min != INF) {
                    /* RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT /
                       MIN_RTT_DIVISOR, MAX_RTT_THRESH)) */
                    tw_time th = hs->last_min / MIN_RTT_DIVISOR;
                    th = th < MAX_RTT_THRESH ? th : MAX_RTT_THRESH;
                    th = th > MIN_RTT_THRESH ? th : MIN_RTT_THRESH;
                    if (hs->cur_min >= hs->last_min + th) {
                        /* The delay rose: exit slow start and enter CSS. */
                        hs->css_base = hs->cur_min;
                        hs->phase = TW_HS_CSS;
                        hs->css_rounds = 0;
                        hs->css_frac = 0;
                        tw_count(c->st, TW_CNT_TCP_HYSTART_CSS);
                    }
                }
            } else if (hs->cur_min < hs->css_base) {
                /* "the current round's minRTT drops below baseline (cssBaselineMinRtt)
                   indicating that slow start exit was spurious": resume slow start,
                   HyStart++ included (the round goes on). */
                hs->css_base = INF;
                hs->phase = TW_HS_SS;
                hs->css_rounds = 0;
                tw_count(c->st, TW_CNT_TCP_HYSTART_SPURIOUS);
            }
        }
    }
    /* "When windowEnd is ACKed, the current round ends and windowEnd is set to SND.NXT"
       (this ACK's sample counted in the round it ends, as Linux's). */
    if (tw_seq_ge(c->snd_una, hs->window_end)) {
        /* "CSS lasts at most CSS_ROUNDS rounds. If the transition into CSS happens in
           the middle of a round, that partial round counts towards the limit." Then
           "enter congestion avoidance by setting the ssthresh to the current cwnd". */
        if (hs->phase == TW_HS_CSS && ++hs->css_rounds >= CSS_ROUNDS) {
            tw_count(c->st, TW_CNT_TCP_HYSTART_CA);
            memset(&c->cc, 0, sizeof c->cc); /* (the algorithm's first epoch next) */
            c->ssthresh = c->cwnd;
            return;
        }
        round_start(c, hs);
    }
}

void tw_hystart_end(tw_socket *c)
{
    /* RFC 9406 4.2: a loss or an ECN mark, in standard slow start or in CSS, ends slow
       start the usual way: the caller (the algorithm's on_loss) sets ssthresh from cwnd
       as after any loss (CUBIC 0.7 cwnd, NewReno half the flight). CSS ends with it; the
       count says how often a loss came in CSS, before its rounds were done. */
    if (c->cc.hs.phase == TW_HS_CSS) {
        tw_count(c->st, TW_CNT_TCP_HYSTART_CSS_LOSS);
    }
    memset(&c->cc, 0, sizeof c->cc);
}
