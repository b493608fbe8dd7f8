/*
 * tcp_sack.c -- SACK (RFC 2018) on both sides: the sender's scoreboard with RFC 6675's
 * pipe and holes, and the receiver's choice of blocks (most recent first, D-SACK per
 * RFC 2883).
 *
 * Sender's view of [snd_una, snd_max):
 *
 *   snd_una    hole      sacked     hole    sacked   hole   sacked         snd_max
 *     |~~~~~~~~~~~~|########|~~~~~~~~~~|#########|~~~~~~|#####|  (no news)  |
 *     ^ high_rxt moves right    lost point ^ (more than 2 * SMSS SACKed above it)
 *       as holes are retransmitted
 *
 * A hole is lost (RFC 6675 IsLost, DupThresh 3) once more than 2 * SMSS bytes above it
 * are SACKed: every hole below the lost point, none above it, since the bytes SACKed
 * above a sequence number only shrink as it rises. Pipe (SetPipe) counts each unSACKed
 * byte above the lost point once and each retransmitted unSACKed byte once more.
 */
#include "core/tcp_conn.h"

#include <string.h>

tw_sbx *tw_sbx_get(tw_socket *c)
{
    if (!c->sb) {
        tw_sbx *x = tw_mem_zalloc(&c->st->mem, sizeof(tw_sbx));
        if (!x) {
            return NULL;
        }
        c->sb = &x->r;
        c->flags |= TW_F_EXTRAS;
        /* RFC 8985 6: everything in flight was sent before now (base_at). */
        x->base_at = c->st->now;
        x->hi_end = c->snd_max;
        x->una_seen = c->snd_una;
        x->rack_lost = c->snd_una;
        x->fack = c->snd_una;
        x->reo_wnd_mult = 1;
        x->min_rtt = c->srtt;
    }
    return tw_conn_sbx(c);
}

void tw_rtx_episode_mark(tw_socket *c)
{
    if (!(c->flags & TW_F_TS)) {
        return; /* (no echo to judge: Karn's rule alone, RTT_TIMING) */
    }
    tw_sbx *x = tw_sbx_get(c);
    if (x == NULL) {
        return; /* (no memory: samples as before) */
    }
    if (!x->rtx_ts_on || tw_seq_ge(c->snd_una, x->rtx_end)) {
        x->rtx_ts_on = true;
        x->rtx_ts = tw_ts_now(c->st, c->ts_offset);
    }
    x->rtx_end = c->snd_max;
}

void tw_sack_clear(tw_socket *c)
{
    if (c->sb) {
        c->sb->n = 0;
    }
    c->sacked = 0;
}

void tw_sack_trim(tw_socket *c)
{
    if (c->sb && c->sb->n) {
        tw_ranges_trim(c->sb, c->snd_una);
        c->sacked = tw_ranges_bytes(c->sb);
    }
}

uint32_t tw_sack_on_ack(tw_socket *c, const tw_tcp_opts *o, tw_seq ack)
{
    if (!(c->flags & TW_F_SACK) || !(o->present & TW_OPT_SACK)) {
        return 0;
    }
    uint32_t before = c->sacked;
    for (unsigned i = 0; i < o->sack_n; i++) {
        tw_seq s = tw_seq_make(o->sack[i].start), e = tw_seq_make(o->sack[i].end);
        if (i == 0 && tw_seq_lt(s, e) &&
            (tw_seq_le(e, ack) ||
             (o->sack_n > 1 && tw_seq_ge(s, tw_seq_make(o->sack[1].start)) &&
              tw_seq_le(e, tw_seq_make(o->sack[1].end))))) {
            /* RFC 2883 4: a D-SACK (below the ACK, or inside the next block). */
            tw_rack_dsack(c, s, e);
            continue;
        }
        if (!tw_seq_lt(s, e) || tw_seq_le(e, c->snd_una)) {
            continue; /* empty, or a D-SACK / old block: nothing new about the flight */
        }
        if (tw_seq_gt(e, c->snd_max) || tw_seq_lt(s, c->snd_una)) {
            tw_count(c->st, TW_CNT_TCP_RX_SACK_INVALID);
            continue;
        }
        if (!c->sb && !tw_sbx_get(c)) {
            return 0; /* no memory: recovery falls back to NewReno behaviour */
        }
        if (!tw_ranges_add_grow(c->sb, &c->st->mem, s, e)) {
            continue; /* a full board keeps the older information */
        }
    }
    c->sacked = c->sb ? tw_ranges_bytes(c->sb) : 0;
    return c->sacked > before ? c->sacked - before : 0;
}

static tw_seq lost_point_6675(const tw_socket *c);

tw_seq tw_sack_lost_point(const tw_socket *c)
{
    /* With RACK (RFC 8985 6.2), its marks; with no reordering seen yet also RFC 6675's
       IsLost (which RACK's reo_wnd of 0 then reproduces, RFC 8985 6.2 step 4: kept for
       the holes whose send times RACK does not know). Once reordering was seen, RACK's
       time-based marks alone, so that a reordered segment is waited for. */
    if (tw_rack_active(c)) {
        const tw_sbx *x = tw_conn_sbx(c);
        tw_seq r = tw_seq_max(x->rack_lost, c->snd_una);
        return x->reo_seen ? r : tw_seq_max(r, lost_point_6675(c));
    }
    return lost_point_6675(c);
}

static tw_seq lost_point_6675(const tw_socket *c)
{
    /* RFC 6675 4 IsLost. Counting any hole below the highest SACK as lost (FACK without
       its 3-segment margin) resent segments that were only reordered. */
    uint32_t above = 0;
    const tw_range *r = c->sb ? tw_ranges_get(c->sb) : NULL;
    for (unsigned i = c->sb ? c->sb->n : 0; i-- > 0;) {
        above += (uint32_t)tw_seq_diff(r[i].end, r[i].start);
        if (above > 2u * c->snd_mss) {
            return tw_seq_max(r[i].start, c->snd_una);
        }
    }
    return c->snd_una;
}

bool tw_sack_hole(const tw_socket *c, tw_seq from, tw_seq limit, tw_seq *start, uint32_t *len)
{
    tw_seq pos = tw_seq_max(from, c->snd_una);
    unsigned n = c->sb ? c->sb->n : 0;
    const tw_range *r = c->sb ? tw_ranges_get(c->sb) : NULL;
    for (unsigned i = 0; i <= n && tw_seq_lt(pos, limit); i++) {
        tw_seq block_start = i < n ? r[i].start : limit;
        tw_seq block_end = i < n ? r[i].end : limit;
        if (tw_seq_le(block_end, pos)) {
            continue;
        }
        if (tw_seq_lt(pos, block_start)) {
            tw_seq end = tw_seq_min(block_start, limit);
            *start = pos;
            *len = (uint32_t)tw_seq_diff(end, pos);
            return true;
        }
        pos = block_end;
    }
    return false;
}

/* SACKed bytes in [snd_una, x). */
uint32_t tw_sack_below(const tw_socket *c, tw_seq x)
{
    uint32_t sum = 0;
    for (unsigned i = 0; c->sb && i < c->sb->n; i++) {
        const tw_range *r = &tw_ranges_get(c->sb)[i];
        if (tw_seq_ge(r->start, x)) {
            break;
        }
        tw_seq e = tw_seq_min(r->end, x);
        sum += (uint32_t)tw_seq_diff(e, r->start);
    }
    return sum;
}

/* The unSACKed bytes below `limit` of the retransmissions RACK found lost
   (tw_sbx.relost) that are still waiting to go again. */
uint32_t tw_sack_relost_bytes(const tw_socket *c, tw_seq limit)
{
    const tw_sbx *x = tw_conn_sbx(c);
    uint32_t sum = 0;
    for (unsigned i = 0; x != NULL && i < x->nrelost; i++) {
        tw_seq a = tw_seq_max(x->relost[i], c->snd_una);
        tw_seq e = tw_seq_min(tw_seq_add(x->relost[i], c->snd_mss), limit);
        tw_seq hs;
        uint32_t hl;
        if (tw_seq_lt(a, e) && tw_sack_hole(c, a, e, &hs, &hl) && tw_seq_eq(hs, a)) {
            sum += hl;
        }
    }
    return sum;
}

uint32_t tw_sack_pipe(const tw_socket *c)
{
    /* RFC 6675 4 SetPipe: unSACKed bytes not yet lost, plus retransmitted ones. */
    tw_seq lost = tw_sack_lost_point(c);
    uint32_t pipe = 0;
    if (tw_seq_gt(c->snd_max, lost)) {
        pipe = (uint32_t)tw_seq_diff(c->snd_max, lost) - (c->sacked - tw_sack_below(c, lost));
    }
    if (tw_seq_gt(c->high_rxt, c->snd_una)) {
        uint32_t rx = (uint32_t)tw_seq_diff(c->high_rxt, c->snd_una) -
                      tw_sack_below(c, c->high_rxt);
        /* A retransmission RACK found lost is no longer in the network (RFC 8985 6.2
           marks it lost; SetPipe's (b) counts a retransmission only while it is not: a
           lost one counts again once it is resent, as Linux's tcp_mark_skb_lost takes it
           out of retrans_out). Left in, it held the window shut when it was all the
           window had room for, and only the RTO sent it again. */
        if (c->sb && tw_conn_sbx(c)->nrelost) {
            uint32_t rl = tw_sack_relost_bytes(c, c->high_rxt);
            rx -= rl < rx ? rl : rx;
        }
        pipe += rx;
    }
    return pipe;
}

/* tw_sack_blocks with a FIN held beyond a hole: the islands as they are, the one that
   ends at the FIN one longer, or the FIN as an island of its own after them all (nothing
   the peer sends lies beyond its FIN); the same order otherwise (RFC 2018 4: the most
   recent first, tcp_in.c notes the FIN's number among the recent ones). Cold: only a
   connection whose peer's FIN came early. */
static tw_range fin_island(const tw_range *rs, unsigned nooo, unsigned i, tw_seq fin)
{
    tw_range r;
    if (i < nooo) {
        r = rs[i];
        if (tw_seq_eq(r.end, fin)) {
            r.end = tw_seq_add(r.end, 1);
        }
    } else {
        r.start = fin;
        r.end = tw_seq_add(fin, 1);
    }
    return r;
}

static __attribute__((noinline, cold)) unsigned sack_blocks_fin(tw_socket *c,
                                                                 tw_sack_block *out,
                                                                 unsigned n, unsigned max)
{
    /* (islands 0 .. nr - 1: the held ranges, then the FIN's own when none ends at it;
       the held ranges may be in an array of their own, so they are read in place) */
    unsigned nooo = c->ooo ? c->ooo->n : 0;
    const tw_range *rs = nooo ? tw_ranges_get(c->ooo) : NULL;
    unsigned nr = nooo + (tw_sack_fin_alone(c) ? 1u : 0u);
    unsigned used[TW_SACK_RECENT], nused = 0; /* (indexes of the islands reported) */
    if (c->ooo) {
        const tw_ooo *o = tw_conn_ooo(c);
        for (unsigned k = 0; k < o->sack_nrecent && n < max; k++) {
            for (unsigned i = 0; i < nr; i++) {
                tw_range r = fin_island(rs, nooo, i, c->ooo_fin_seq);
                if (tw_seq_in(o->sack_recent[k], r.start, r.end)) {
                    bool dup = false;
                    for (unsigned u = 0; u < nused; u++) {
                        dup |= used[u] == i;
                    }
                    if (!dup) {
                        used[nused++] = i;
                        out[n].start = r.start.v;
                        out[n].end = r.end.v;
                        n++;
                    }
                    break;
                }
            }
        }
    }
    for (unsigned i = 0; i < nr && n < max; i++) {
        bool dup = false;
        for (unsigned u = 0; u < nused; u++) {
            dup |= used[u] == i;
        }
        if (!dup) {
            tw_range r = fin_island(rs, nooo, i, c->ooo_fin_seq);
            out[n].start = r.start.v;
            out[n].end = r.end.v;
            n++;
        }
    }
    return n;
}

/* A FIN held beyond a hole (TW_F_OOO_FIN) is reported in the SACK blocks as the
   sequence number it takes, as Linux's out-of-order queue holds it (tcp_data_queue_ofo:
   the FIN's skb ends one past its data): a FIN after held data lengthens that island's
   block by one, a FIN after a hole of its own is a block of one. RFC 2018 leaves the
   FIN to the implementation (it speaks of data); reporting it tells the sender the FIN
   arrived, and a sender that resends only what the SACK scoreboard shows missing does
   not resend it. True when the FIN needs a block of its own (no island ends at it). */
bool tw_sack_fin_alone(const tw_socket *c)
{
    if (!(c->flags & TW_F_OOO_FIN)) {
        return false;
    }
    unsigned nooo = c->ooo ? c->ooo->n : 0;
    const tw_range *rs = nooo ? tw_ranges_get(c->ooo) : NULL;
    for (unsigned i = 0; i < nooo; i++) {
        if (tw_seq_eq(rs[i].end, c->ooo_fin_seq)) {
            return false;
        }
    }
    return true;
}

unsigned tw_sack_blocks(tw_socket *c, tw_sack_block *out, unsigned max)
{
    unsigned n = 0;
    if ((c->flags & TW_F_DSACK) && n < max) {
        /* RFC 2883: the first block reports the duplicate that just arrived. */
        out[n].start = c->dsack_start.v;
        out[n].end = c->dsack_end.v;
        n++;
        c->flags &= ~TW_F_DSACK;
    }
    if (__builtin_expect(c->flags & TW_F_OOO_FIN, 0)) {
        return sack_blocks_fin(c, out, n, max);
    }
    if (!c->ooo || !c->ooo->n) {
        return n;
    }
    /* RFC 2018 4: the first block holds the most recently received segment; the next
       ones repeat the most recently reported blocks (each island once), so a sender
       that loses some ACKs still learns every island; any room left takes the other
       islands in sequence order. */
    const tw_ooo *o = tw_conn_ooo(c);
    const tw_range *rs = tw_ranges_get(c->ooo);
    unsigned used[TW_SACK_RECENT], nused = 0; /* (indexes of the islands reported) */
    for (unsigned k = 0; k < o->sack_nrecent && n < max; k++) {
        for (unsigned i = 0; i < c->ooo->n; i++) {
            const tw_range *r = &rs[i];
            if (tw_seq_in(o->sack_recent[k], r->start, r->end)) {
                bool dup = false;
                for (unsigned u = 0; u < nused; u++) {
                    dup |= used[u] == i;
                }
                if (!dup) {
                    used[nused++] = i;
                    out[n].start = r->start.v;
                    out[n].end = r->end.v;
                    n++;
                }
                break;
            }
        }
    }
    for (unsigned i = 0; i < c->ooo->n && n < max; i++) {
        bool dup = false;
        for (unsigned u = 0; u < nused; u++) {
            dup |= used[u] == i;
        }
        if (!dup) {
            out[n].start = rs[i].start.v;
            out[n].end = rs[i].end.v;
            n++;
        }
    }
    return n;
}

/* ---- RACK (RFC 8985 6) ----------------------------------------------------------------- */

static struct tw_xmit *xmit_at(tw_sbx *x, unsigned i)
{
    return &x->x[(x->xhead + i) % TW_RACK_XMITS];
}

void tw_rack_sent(tw_socket *c, tw_seq seq, uint32_t len, bool retrans)
{
    tw_sbx *x = tw_conn_sbx(c);
    tw_time now = c->st->now;
    tw_seq end = tw_seq_add(seq, len);
    if (len == 0) {
        return;
    }
    if (x->prr_on) {
        x->prr_out += len; /* RFC 6937 3.1: "prr_out += (data sent)" */
    }
    if (retrans && x->rtx_ts_on) {
        x->rtx_ts = tw_ts_now(c->st, c->ts_offset); /* (tcp_in.c rtt_echo_ambiguous) */
    }
    if (retrans && x->undo_on &&
        (c->ca_state == TW_CA_RECOVERY || c->ca_state == TW_CA_LOSS)) {
        x->undo_bytes += len; /* (what a D-SACK must give back for an undo) */
    }
    if (retrans && x->r.n) {
        /* A retransmission that ran on into SACKed bytes (the first one of a recovery
           takes a full segment from snd_una) delivers nothing there: recorded up to
           them, or their SACK would look like its delivery. */
        tw_seq hs;
        uint32_t hl;
        if (tw_sack_hole(c, seq, end, &hs, &hl) && tw_seq_eq(hs, tw_seq_max(seq, c->snd_una))) {
            end = tw_seq_add(hs, hl);
        }
    }
    if (x->xn) {
        struct tw_xmit *e = xmit_at(x, x->xn - 1u);
        if (e->at == now && e->retrans == retrans && tw_seq_eq(e->end, seq)) {
            e->end = end; /* one burst: one entry */
            goto done;
        }
    }
    if (x->xn == TW_RACK_XMITS) {
        /* The oldest goes: what it covered now counts as sent at the next one's time,
           later than it was (a loss found later, never early). */
        x->xhead = (uint8_t)((x->xhead + 1u) % TW_RACK_XMITS);
        x->xn--;
    }
    struct tw_xmit *e = xmit_at(x, x->xn);
    e->start = seq;
    e->end = end;
    e->at = now;
    e->ord = ++x->next_ord;
    e->retrans = retrans;
    x->xn++;
done:
    if (tw_seq_gt(end, x->hi_end)) {
        x->hi_end = end;
    }
}

/* When [s, e) was last sent: the newest entry that overlaps it. Not recorded: below
   hi_end it was sent before the oldest entry (just before its time, or base_at: no
   earlier than the truth); at or above hi_end (sent by a path that does not record: a request's or
   response's last segment) *known = false. */
/* (*known: 0 not known, 1 estimated, 2 recorded; *ord the entry's send order, 0 when
   estimated) */
static tw_time xmit_time(tw_sbx *x, tw_seq s, tw_seq e, bool *retrans, int *known, uint32_t *ord)
{
    *retrans = false;
    *known = 1;
    *ord = 0;
    for (unsigned i = x->xn; i-- > 0;) {
        const struct tw_xmit *r = xmit_at(x, i);
        if (tw_seq_lt(r->start, e) && tw_seq_lt(s, r->end)) {
            *retrans = r->retrans;
            *known = 2;
            *ord = r->ord;
            return r->at;
        }
    }
    if (tw_seq_ge(s, x->hi_end)) {
        *known = 0;
        return 0;
    }
    /* (a nanosecond before: it went out before anything recorded at that time, so a
       segment resent at base_at is not taken for one sent before it) */
    return (x->xn ? xmit_at(x, 0)->at : x->base_at) - 1;
}

/* RFC 8985 6.2 RACK_sent_after: (t1, ord1, end1) went out after (t2, ord2, end2). The
   send order breaks a tie of times (two sends in one instant), the sequence number one
   within an entry (a burst goes out in sequence order). */
static bool sent_after(tw_time t1, uint32_t ord1, tw_seq end1, tw_time t2, uint32_t ord2,
                       tw_seq end2)
{
    if (t1 != t2) {
        return t1 > t2;
    }
    if (ord1 != ord2) {
        return ord1 > ord2;
    }
    return tw_seq_gt(end1, end2);
}

/* RFC 8985 6.2 step 2: RACK.xmit_ts, end_seq and rtt from a delivered range. */
static void rack_delivered(tw_socket *c, tw_sbx *x, tw_seq s, tw_seq e)
{
    tw_time now = c->st->now;
    bool rtx;
    int known;
    uint32_t ord;
    tw_time t = xmit_time(x, s, e, &rtx, &known, &ord);
    if (!known || t > now) {
        return;
    }
    tw_time rtt = now - t;
    /* A retransmitted segment's ACK may be the original's: not a sample when it came
       back sooner than an RTT could bring it (the RFC's alternative to timestamps). */
    if (rtx && x->min_rtt && rtt < x->min_rtt) {
        return;
    }
    if (!rtx && known == 2 && (x->min_rtt == 0 || rtt < x->min_rtt)) {
        x->min_rtt = rtt;
    }
    if (!x->rack_on || sent_after(t, ord, e, x->rack_xmit, x->rack_ord, x->rack_end)) {
        x->rack_on = true;
        x->rack_xmit = t;
        x->rack_ord = ord;
        x->rack_end = e;
        x->rack_rtt = rtt;
    }
    if (tw_seq_gt(e, x->fack)) {
        x->fack = e;
    }
}

void tw_undo_begin(tw_socket *c)
{
    if (!(c->flags & TW_F_SACK) || c->st->cfg.no_undo) {
        return; /* (no D-SACK will tell) */
    }
    tw_sbx *x = tw_sbx_get(c);
    if (x == NULL) {
        return;
    }
    x->undo_on = true;
    x->undo_cwnd = c->cwnd;
    x->undo_ssthresh = c->ssthresh;
    x->undo_cc = c->cc;
    x->undo_bytes = 0;
}

/* RFC 3708 3 / RFC 4015: every byte the episode retransmitted was received twice: the
   losses were not (reordering or a delay), so the reduction goes back. */
static void undo(tw_socket *c, tw_sbx *x)
{
    x->undo_on = false;
    /* The reduction is taken back: the rest of the recovery sends by the restored cwnd
       (RFC 6675), and its end keeps it (Linux's tcp_end_cwnd_reduction sets cwnd to
       ssthresh only while the undo marker stands). */
    x->prr_on = false;
    c->cc = x->undo_cc;
    if (c->cwnd < x->undo_cwnd) {
        c->cwnd = x->undo_cwnd;
    }
    if (c->ssthresh < x->undo_ssthresh) {
        c->ssthresh = x->undo_ssthresh;
    }
    tw_count(c->st, TW_CNT_TCP_UNDO);
}

void tw_rack_dsack(tw_socket *c, tw_seq s, tw_seq e)
{
    tw_sbx *x = tw_conn_sbx(c);
    if (x == NULL) {
        return;
    }
    if (x->tlp_on && x->tlp_retrans && tw_seq_lt(s, x->tlp_end) &&
        tw_seq_ge(e, x->tlp_end)) {
        /* RFC 8985 7.4.2: the probe's copy of the last segment reported as a duplicate:
           the original arrived too, nothing was lost. */
        x->tlp_retrans = false;
    }
    if (x->undo_on && x->undo_bytes) {
        uint32_t n = (uint32_t)tw_seq_diff(e, s);
        x->undo_bytes -= n < x->undo_bytes ? n : x->undo_bytes;
        if (x->undo_bytes == 0) {
            undo(c, x);
        }
    }
    if (c->st->cfg.no_rack) {
        return;
    }
    /* RFC 8985 6.2 step 4: a D-SACK shows reordering (or a spurious retransmission);
       widen the window once per round trip, and keep it wider for 16 recoveries. */
    x->reo_seen = true;
    if (x->dsack_round_on && tw_seq_ge(c->snd_una, x->dsack_round)) {
        x->dsack_round_on = false;
    }
    if (!x->dsack_round_on) {
        x->dsack_round_on = true;
        x->dsack_round = c->snd_max;
        if (x->reo_wnd_mult < 255) {
            x->reo_wnd_mult++;
        }
        x->reo_wnd_persist = 16;
        tw_count(c->st, TW_CNT_TCP_RACK_REO_WND_UP);
    }
}

/* RFC 8985 6.2 step 4: RACK.reo_wnd. */
static tw_time reo_wnd(const tw_socket *c, const tw_sbx *x)
{
    if (!x->reo_seen) {
        if (c->ca_state == TW_CA_RECOVERY || c->ca_state == TW_CA_LOSS) {
            return 0;
        }
        if (c->sacked >= 3u * c->snd_mss) { /* DupThresh segments SACKed */
            return 0;
        }
    }
    tw_time m = x->min_rtt ? x->min_rtt : c->srtt;
    tw_time w = (tw_time)x->reo_wnd_mult * (m / 4);
    return w < c->srtt ? w : c->srtt;
}

static void relost_add(tw_stack *st, tw_sbx *x, tw_seq a)
{
    for (unsigned i = 0; i < x->nrelost; i++) {
        if (tw_seq_eq(x->relost[i], a)) {
            return; /* (found again before it could go) */
        }
    }
    if (x->nrelost < sizeof x->relost / sizeof x->relost[0]) {
        tw_count(st, TW_CNT_TCP_RACK_LOST_RETRANS);
        x->relost[x->nrelost++] = a;
    }
}

tw_time tw_rack_detect(tw_socket *c)
{
    tw_sbx *x = tw_conn_sbx(c);
    if (!tw_rack_active(c) || !x->rack_on || c->srtt == 0) {
        return 0; /* (no RTT yet: no time to reason with; RFC 6675's rule and the RTO) */
    }
    tw_stack *st = c->st;
    tw_time now = st->now;
    tw_time reo = reo_wnd(c, x);
    tw_time timeout = 0;
    tw_seq lost = tw_seq_max(x->rack_lost, c->snd_una);
    tw_seq from = c->snd_una, hs;
    uint32_t hl;
    unsigned steps = 0;
    /* After a timeout (Loss) only what the go-back-N has resent so far, below snd_nxt:
       RACK in RTO recovery finds a retransmission lost again (RFC 8985 6.2; Linux runs
       it in CA_Loss); what lies above is resent in its turn anyway. */
    bool loss = c->ca_state == TW_CA_LOSS;
    tw_seq top = loss ? c->snd_nxt : c->snd_max;
    /* Each hole, a segment at a time (at most 256 looked at: a large flight's far end
       waits for the next ACK). */
    while (steps < 256 && tw_sack_hole(c, from, top, &hs, &hl)) {
        tw_seq he = tw_seq_add(hs, hl);
        for (tw_seq a = hs; tw_seq_lt(a, he) && steps < 256; steps++) {
            uint32_t n = (uint32_t)tw_seq_diff(he, a);
            n = n < c->snd_mss ? n : c->snd_mss;
            tw_seq b = tw_seq_add(a, n);
            bool rtx;
            int known;
            uint32_t ord;
            tw_time t = xmit_time(x, a, b, &rtx, &known, &ord);
            /* RFC 8985 6.2 step 5: lost when a segment sent after it was delivered and
               RACK.rtt + reo_wnd has passed since it was sent. */
            if (known && sent_after(x->rack_xmit, x->rack_ord, x->rack_end, t, ord, b)) {
                tw_time due = t + x->rack_rtt + reo;
                if (due <= now) {
                    if (tw_seq_gt(b, lost)) {
                        tw_count(st, TW_CNT_TCP_RACK_LOST);
                        lost = b;
                    }
                    if (rtx && (loss || (c->ca_state == TW_CA_RECOVERY &&
                                         tw_seq_lt(a, c->high_rxt)))) {
                        /* A retransmission lost too: resend it (without RACK, only the
                           RTO finds it): tcp_out.c resend_hole (push_segs in Loss)
                           takes it first. */
                        relost_add(st, x, a);
                    }
                } else if (due - now > timeout) {
                    timeout = due - now; /* (RFC 8985: timeout = max(remaining, timeout)) */
                }
            }
            a = b;
        }
        from = he;
    }
    x->rack_lost = lost;
    return timeout;
}

tw_time tw_rack_on_ack(tw_socket *c)
{
    tw_sbx *x = tw_conn_sbx(c);
    if (!tw_rack_active(c)) {
        return 0;
    }
    /* What the cumulative ACK delivered since RACK last looked, then the SACKed
       ranges (their newest send is what counts: RACK.xmit_ts only grows). */
    if (tw_seq_gt(c->snd_una, x->una_seen)) {
        bool rtx;
        int known;
        uint32_t ord;
        /* RFC 8985 6.2 step 3: an original (never retransmitted) delivered below what
           was already delivered was reordered. */
        (void)xmit_time(x, x->una_seen, tw_seq_add(x->una_seen, 1), &rtx, &known, &ord);
        if (known && !rtx && tw_seq_gt(x->fack, x->una_seen) &&
            tw_seq_ge(x->una_seen, c->high_rxt) && c->ca_state != TW_CA_LOSS) {
            x->reo_seen = true;
        }
        rack_delivered(c, x, x->una_seen, c->snd_una);
    }
    x->una_seen = c->snd_una;
    const tw_range *r = tw_ranges_get(c->sb);
    for (unsigned i = 0; i < c->sb->n; i++) {
        rack_delivered(c, x, r[i].start, r[i].end);
    }
    return tw_rack_detect(c);
}
