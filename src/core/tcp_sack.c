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

uint32_t tw_sack_on_ack(tw_socket *c, const tw_tcp_opts *o)
{
    if (!(c->flags & TW_F_SACK) || !(o->present & TW_OPT_SACK)) {
        return 0;
    }
    uint32_t before = c->sacked;
    for (unsigned i = 0; i < o->sack_n; i++) {
        tw_seq s = tw_seq_make(o->sack[i].start), e = tw_seq_make(o->sack[i].end);
        if (!tw_seq_lt(s, e) || tw_seq_le(e, c->snd_una)) {
            continue; /* empty, or a D-SACK / old block: nothing new about the flight */
        }
        if (tw_seq_gt(e, c->snd_max) || tw_seq_lt(s, c->snd_una)) {
            tw_count(c->st, TW_CNT_TCP_RX_SACK_INVALID);
            continue;
        }
        if (!c->sb) {
            c->sb = tw_mem_zalloc(&c->st->mem, sizeof(*c->sb));
            if (!c->sb) {
                return 0; /* no memory: recovery falls back to NewReno behaviour */
            }
            c->flags |= TW_F_EXTRAS;
        }
        tw_ranges_add(c->sb, s, e); /* a full board keeps the older information */
    }
    c->sacked = c->sb ? tw_ranges_bytes(c->sb) : 0;
    return c->sacked > before ? c->sacked - before : 0;
}

tw_seq tw_sack_lost_point(const tw_socket *c)
{
    /* RFC 6675 4 IsLost. Counting any hole below the highest SACK as lost (FACK without
       its 3-segment margin) resent segments that were only reordered. */
    uint32_t above = 0;
    for (unsigned i = c->sb ? c->sb->n : 0; i-- > 0;) {
        above += (uint32_t)tw_seq_diff(c->sb->r[i].end, c->sb->r[i].start);
        if (above > 2u * c->snd_mss) {
            return tw_seq_max(c->sb->r[i].start, c->snd_una);
        }
    }
    return c->snd_una;
}

bool tw_sack_hole(const tw_socket *c, tw_seq from, tw_seq limit, tw_seq *start, uint32_t *len)
{
    tw_seq pos = tw_seq_max(from, c->snd_una);
    unsigned n = c->sb ? c->sb->n : 0;
    for (unsigned i = 0; i <= n && tw_seq_lt(pos, limit); i++) {
        tw_seq block_start = i < n ? c->sb->r[i].start : limit;
        tw_seq block_end = i < n ? c->sb->r[i].end : limit;
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
        const tw_range *r = &c->sb->r[i];
        if (tw_seq_ge(r->start, x)) {
            break;
        }
        tw_seq e = tw_seq_min(r->end, x);
        sum += (uint32_t)tw_seq_diff(e, r->start);
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
        pipe += (uint32_t)tw_seq_diff(c->high_rxt, c->snd_una) - tw_sack_below(c, c->high_rxt);
    }
    return pipe;
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
    if (!c->ooo || !c->ooo->n) {
        return n;
    }
    /* RFC 2018 4: the first block holds the most recently received segment; the next
       ones repeat the most recently reported blocks (each island once), so a sender
       that loses some ACKs still learns every island; any room left takes the other
       islands in sequence order. */
    bool used[TW_RANGES_MAX] = {false};
    const tw_ooo *o = tw_conn_ooo(c);
    for (unsigned k = 0; k < o->sack_nrecent && n < max; k++) {
        for (unsigned i = 0; i < c->ooo->n; i++) {
            const tw_range *r = &c->ooo->r[i];
            if (!used[i] && tw_seq_in(o->sack_recent[k], r->start, r->end)) {
                used[i] = true;
                out[n].start = r->start.v;
                out[n].end = r->end.v;
                n++;
                break;
            }
        }
    }
    for (unsigned i = 0; i < c->ooo->n && n < max; i++) {
        if (!used[i]) {
            out[n].start = c->ooo->r[i].start.v;
            out[n].end = c->ooo->r[i].end.v;
            n++;
        }
    }
    return n;
}
