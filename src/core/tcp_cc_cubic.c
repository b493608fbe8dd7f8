/*
 * tcp_cc_cubic.c -- CUBIC (RFC 9438), the default.
 *
 * After a reduction to beta * W_max, the window follows W_cubic(t) = C (t - K)^3 + W_max
 * (in segments, t in seconds since the epoch began), concave up to W_max and convex
 * beyond. Where the Reno-friendly estimate W_est (4.3) is larger, CUBIC uses it, so it
 * is never less aggressive than Reno on short-RTT paths.
 */
#include "core/tcp_cc.h"
#include "core/tcp_conn.h"

#define CUBIC_C 0.4    /* RFC 9438 5 */
#define CUBIC_BETA 0.7 /* RFC 9438 4.6 */

/* Cube root by Newton's method: the core links no libm. */
static double cbrt_pos(double x)
{
    if (x <= 0) {
        return 0;
    }
    double y = x > 1 ? x / 3 : 1;
    for (int i = 0; i < 60; i++) {
        double ny = y - (y * y * y - x) / (3 * y * y);
        if (ny == y) {
            break;
        }
        y = ny;
    }
    return y;
}

static void cubic_on_ack(tw_socket *c, uint32_t acked, const tw_tcp_opts *o)
{
    acked = tw_cc_slow_start(c, acked, o);
    if (!acked) {
        return;
    }
    tw_time now = c->st->now;
    tw_cc_state *s = &c->cc;
    double mss = c->snd_mss;
    if (s->epoch_start == 0) {
        /* RFC 9438 4.2: a new congestion-avoidance epoch starts now. */
        s->epoch_start = now ? now : 1;
        s->cwnd_epoch = c->cwnd;
        s->w_est = c->cwnd;
        if (s->w_max < c->cwnd) {
            s->w_max = c->cwnd; /* no reduction seen yet: start at the plateau */
        }
        s->k = cbrt_pos(((double)s->w_max - (double)c->cwnd) / mss / CUBIC_C);
    }
    double t = (double)(now - s->epoch_start) / 1e9;
    double rtt = c->srtt ? (double)c->srtt / 1e9 : 0.1;
    /* RFC 9438 4.2: target for one RTT from now. */
    double d = t + rtt - s->k;
    double target = CUBIC_C * d * d * d * mss + (double)s->w_max;
    double cw = (double)c->cwnd;
    if (target < cw) {
        target = cw;
    } else if (target > 1.5 * cw) {
        target = 1.5 * cw;
    }
    /* RFC 9438 4.3: Reno-friendly region, alpha = 3 (1 - beta) / (1 + beta). */
    double alpha = 3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA);
    s->w_est = (uint32_t)((double)s->w_est + alpha * mss * (double)acked / cw);
    if ((double)s->w_est > target) {
        target = (double)s->w_est;
    }
    /* Grow by (target - cwnd) / cwnd per SMSS acknowledged (RFC 9438 4.4, 4.5). */
    s->frac += (target - cw) / cw * (double)acked;
    if (s->frac >= 1.0) {
        uint32_t whole = (uint32_t)s->frac;
        c->cwnd += whole;
        s->frac -= whole;
    }
}

static uint32_t cubic_on_loss(tw_socket *c, tw_time now)
{
    (void)now;
    if (c->ssthresh == UINT32_MAX) {
        tw_hystart_end(c); /* (RFC 9406 4.2: a loss ends slow start, CSS or not) */
    }
    tw_cc_state *s = &c->cc;
    /* RFC 9438 4.7 fast convergence: release bandwidth when the plateau is falling. */
    if (c->cwnd < s->w_max) {
        s->w_max = (uint32_t)((double)c->cwnd * (1.0 + CUBIC_BETA) / 2.0);
    } else {
        s->w_max = c->cwnd;
    }
    s->epoch_start = 0;
    s->frac = 0;
    uint32_t ss = (uint32_t)((double)c->cwnd * CUBIC_BETA);
    return ss > 2u * c->snd_mss ? ss : 2u * c->snd_mss;
}

const tw_cc_ops tw_cc_cubic = {"cubic", cubic_on_ack, cubic_on_loss};
