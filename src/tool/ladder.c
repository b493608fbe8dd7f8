/*
 * ladder.c -- the ladder diagram (see ladder.h for what it looks like and how it is fed).
 *
 * Model. Every 4-tuple seen becomes a conversation with two endpoints: left (the client,
 * the side that sent the first SYN) and right (the server). Each endpoint remembers the
 * state last shown for it; a row shows "shown → new" when a segment or a timer moved it.
 * Rows are queued and printed in the order they were created, each once it is complete:
 *
 *     SEG_OUT at A ──▶ row created (A's state known) ──▶ SEG_IN at B completes it
 *                                                    └─▶ DROP at B marks it dropped
 *                                                    └─▶ nothing within lost_after: lost
 *
 * A row whose receiver is an untraced peer takes that peer's state from a sample taken
 * after the peer processed the packet (or a probe at flush time).
 *
 * State events and segments. The core reports a state change (STATE) and, separately,
 * the segments (SEG_IN / SEG_OUT, carrying the state after processing). Which of the two
 * comes first is not part of the contract, so rows use the state carried by the segment
 * and STATE events only fill in intermediate steps (SYN-RECEIVED → ESTABLISHED →
 * CLOSE-WAIT for a third ACK carrying a FIN) and changes no segment explains: those are
 * printed as their own row when the batch of events (one stack, one `now`) ends, e.g.
 * TIME-WAIT → CLOSED when 2·MSL elapses.
 *
 * Letters (SPEC.md notation). The client's ISN is x, the server's y. The first FIN
 * defines u (its seq) and v (its ack: the other side's next sequence number); the second
 * FIN defines w (its seq). A number is shown relative to the nearest letter at or below
 * it in its own sequence space (modulo 2^32, RFC 9293 3.4), so the close reads exactly
 * like the seed article: FIN seq=u ack=v, ACK seq=v ack=u+1, FIN seq=w ack=u+1, ...
 */
#include <langinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool/ladder.h"

#define MAX_SIDES 4
#define MAX_ANCHORS 4
#define MAX_CHAIN 4
#define MAX_PENDING_STATES 64
#define MAX_SAMPLES 64
#define MAX_CONVS 1024
#define MAX_ROWS 8192
#define LEFT_W 27 /* columns of the left state */
#define MID_W 46  /* columns of the arrow */
#define TIME_W 10

struct tw_ladder_side {
    tw_ladder *l;
    char name[24];
    uint32_t addr;
};

struct anchor {
    uint32_t v;
    char name;
};

struct ep {
    uint32_t addr;
    uint16_t port;
    tw_ladder_side *side; /* NULL: untraced */
    uint64_t conn_id;
    bool known; /* `shown` is meaningful */
    tw_state shown;
    tw_state latest; /* valid when has_latest */
    bool has_latest;
    tw_state chain[MAX_CHAIN]; /* STATE steps not yet shown */
    int nchain;
    bool dirty; /* a STATE event in the current batch */
    tw_timer_kind reason;
    bool isn_known;
    bool sent_any; /* last_ack/last_win of its previous segment are valid */
    uint32_t last_ack;
    uint16_t last_win;
    struct anchor anch[MAX_ANCHORS];
    int nanch;
};

struct conv {
    int id;
    struct ep e[2]; /* 0 = left (client), 1 = right (server) */
    int fins;       /* endpoints that sent a FIN (0, 1, 2): u/v, then w */
    int first_fin;  /* endpoint that sent the first FIN */
    bool printed;   /* some row of it was printed */
};

enum row_kind { ROW_SEG, ROW_STATE, ROW_NOTE, ROW_HEADER };

struct row {
    enum row_kind kind;
    tw_time t;
    struct conv *c;
    int from; /* SEG: sender column; STATE: its column */
    tw_seg_summary seg;
    char label[112];
    char detail[192];
    char st[2][96];
    bool change[2];
    bool awaiting_rx;     /* traced receiver has not reported it yet */
    struct ep *rx_ep;     /* receiver reported it; its state is known at batch end */
    struct ep *tx_ep;     /* sent while handling an input: state known at batch end */
    bool awaiting_sample; /* untraced receiver's state not sampled yet */
    const char *fate;     /* NULL, "lost", "dropped", "duplicate" */
    char why[64];
};

struct pending_state {
    tw_ladder_side *side;
    uint64_t conn_id;
    tw_state old_state, new_state;
};

struct sample {
    tw_seg_summary seg;
    int state;
    bool to_peer;
};

struct tw_ladder {
    tw_ladder_opts o;
    tw_ladder_side sides[MAX_SIDES];
    int nsides;
    struct conv *convs[MAX_CONVS];
    int nconvs;
    int conv_ids;
    struct row *rows;
    size_t nrows; /* rows[0 .. nrows) are queued, none printed yet */
    unsigned long printed;
    tw_time t0;
    bool t0_set;
    tw_time last_now;
    tw_ladder_side *batch_side;
    tw_time batch_now;
    bool batch_open;
    bool batch_input; /* the batch handles one received segment */
    bool multi;       /* conversations overlap: rows carry "#N" */
    struct ep *dirty[MAX_CONVS];
    int ndirty;
    struct pending_state pend[MAX_PENDING_STATES];
    int npend;
    struct sample samples[MAX_SAMPLES];
    int nsamples;
    /* glyphs */
    const char *g_to, *g_dash, *g_head_r, *g_head_l, *g_lost, *g_dot;
};

/* ---- small text helpers --------------------------------------------------------------- */

/* Display columns of a UTF-8 string (every glyph we print is one column wide). */
static size_t cols(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++) {
        if (((unsigned char)*s & 0xC0u) != 0x80u) {
            n++;
        }
    }
    return n;
}

static void catf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void catf(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 1 >= cap) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

static void pad(FILE *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fputc(' ', f);
    }
}

static void color_on(const tw_ladder *l, const char *code)
{
    if (l->o.color) {
        fprintf(l->o.out, "\033[%sm", code);
    }
}

static void color_off(const tw_ladder *l)
{
    if (l->o.color) {
        fputs("\033[0m", l->o.out);
    }
}

/* ---- options, creation ---------------------------------------------------------------- */

void tw_ladder_opts_init(tw_ladder_opts *o, FILE *out)
{
    memset(o, 0, sizeof *o);
    o->out = out;
    const char *cs = nl_langinfo(CODESET);
    o->utf8 = cs != NULL && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
    const char *nc = getenv("NO_COLOR");
    o->color = isatty(fileno(out)) && (nc == NULL || nc[0] == '\0');
    o->peer_name = "peer";
}

tw_ladder *tw_ladder_new(const tw_ladder_opts *o)
{
    tw_ladder *l = calloc(1, sizeof *l);
    if (l == NULL) {
        return NULL;
    }
    l->rows = calloc(MAX_ROWS, sizeof *l->rows);
    if (l->rows == NULL) {
        free(l);
        return NULL;
    }
    l->o = *o;
    if (l->o.lost_after == 0) {
        l->o.lost_after = TW_SEC(1);
    }
    if (l->o.peer_name == NULL) {
        l->o.peer_name = "peer";
    }
    if (l->o.utf8) {
        l->g_to = " \u2192 ";
        l->g_dash = "\u2500";
        l->g_head_r = "\u25b6";
        l->g_head_l = "\u25c0";
        l->g_lost = "\u2717";
        l->g_dot = "\u00b7";
    } else {
        l->g_to = " -> ";
        l->g_dash = "-";
        l->g_head_r = ">";
        l->g_head_l = "<";
        l->g_lost = "X";
        l->g_dot = "*";
    }
    return l;
}

void tw_ladder_free(tw_ladder *l)
{
    if (l == NULL) {
        return;
    }
    tw_ladder_flush(l, true);
    for (int i = 0; i < l->nconvs; i++) {
        free(l->convs[i]);
    }
    free(l->rows);
    free(l);
}

tw_ladder_side *tw_ladder_add_stack(tw_ladder *l, const char *name, uint32_t addr)
{
    if (l->nsides == MAX_SIDES) {
        return NULL;
    }
    tw_ladder_side *s = &l->sides[l->nsides++];
    s->l = l;
    s->addr = addr;
    snprintf(s->name, sizeof s->name, "%s", name);
    return s;
}

unsigned long tw_ladder_rows(const tw_ladder *l)
{
    return l->printed;
}

static tw_ladder_side *side_of_addr(tw_ladder *l, uint32_t addr)
{
    for (int i = 0; i < l->nsides; i++) {
        if (l->sides[i].addr == addr) {
            return &l->sides[i];
        }
    }
    return NULL;
}

/* ---- rows ----------------------------------------------------------------------------- */

static void print_ready(tw_ladder *l);

static void mark_lost(struct row *r)
{
    r->awaiting_rx = false;
    r->fate = "lost";
    snprintf(r->st[1 - r->from], sizeof r->st[0], "(lost)");
}

static struct row *new_row(tw_ladder *l, enum row_kind k, tw_time t, struct conv *c)
{
    if (l->nrows == MAX_ROWS) {
        /* Something upstream never completes (a receiver that stays silent): give the
           oldest row up as lost rather than grow without bound. */
        if (l->rows[0].awaiting_rx) {
            mark_lost(&l->rows[0]);
        }
        l->rows[0].awaiting_sample = false;
        print_ready(l);
        if (l->nrows == MAX_ROWS) {
            return NULL;
        }
    }
    struct row *r = &l->rows[l->nrows++];
    memset(r, 0, sizeof *r);
    r->kind = k;
    r->t = t;
    r->c = c;
    return r;
}

/* ---- letters and numbers -------------------------------------------------------------- */

static void add_anchor(struct ep *e, char name, uint32_t v)
{
    if (e->nanch < MAX_ANCHORS) {
        e->anch[e->nanch++] = (struct anchor){.v = v, .name = name};
    }
}

/* `v` in endpoint e's sequence space, as "x", "x+1", "u+1", or the plain number. Picks
   the letter closest below (a later letter wins a tie: w over v). */
static void fmt_seq(char *buf, size_t cap, const struct ep *e, uint32_t v)
{
    int best = -1;
    uint32_t best_d = 0;
    for (int i = 0; i < e->nanch; i++) {
        uint32_t d = v - e->anch[i].v; /* modulo 2^32 */
        if (d < 0x80000000u && (best < 0 || d <= best_d)) {
            best = i;
            best_d = d;
        }
    }
    if (best < 0) {
        snprintf(buf, cap, "%u", v);
    } else if (best_d == 0) {
        snprintf(buf, cap, "%c", e->anch[best].name);
    } else {
        snprintf(buf, cap, "%c+%u", e->anch[best].name, best_d);
    }
}

static void learn_isn(struct conv *c, int i, uint32_t isn, char *detail, size_t cap)
{
    struct ep *e = &c->e[i];
    if (e->isn_known) {
        return;
    }
    e->isn_known = true;
    char name = i == 0 ? 'x' : 'y';
    add_anchor(e, name, isn);
    if (detail != NULL) {
        catf(detail, cap, "%s%c = %u", detail[0] ? "  " : "", name, isn);
    }
}

/* The close letters (SPEC.md): first FIN -> u (its seq) and v (its ack, other side's
   space); the other side's FIN -> w. */
static void learn_fin(struct conv *c, int from, const tw_seg_summary *s, char *detail, size_t cap)
{
    char a[32], b[32];
    if (c->fins == 0) {
        c->fins = 1;
        c->first_fin = from;
        fmt_seq(a, sizeof a, &c->e[from], s->seq);
        add_anchor(&c->e[from], 'u', s->seq);
        catf(detail, cap, "%su = %s", detail[0] ? "  " : "", a);
        if (s->flags & TW_ACK) {
            fmt_seq(b, sizeof b, &c->e[1 - from], s->ack);
            add_anchor(&c->e[1 - from], 'v', s->ack);
            catf(detail, cap, ", v = %s", b);
        }
    } else if (c->fins == 1 && from != c->first_fin) {
        c->fins = 2;
        fmt_seq(a, sizeof a, &c->e[from], s->seq);
        add_anchor(&c->e[from], 'w', s->seq);
        catf(detail, cap, "%sw = %s", detail[0] ? "  " : "", a);
    }
}

static void fmt_flags(char *buf, size_t cap, uint8_t f)
{
    static const struct {
        uint8_t bit;
        const char *name;
    } names[] = {{TW_SYN, "SYN"}, {TW_FIN, "FIN"}, {TW_RST, "RST"}, {TW_PSH, "PSH"},
                 {TW_ACK, "ACK"}, {TW_URG, "URG"}, {TW_ECE, "ECE"}, {TW_CWR, "CWR"}};
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (f & names[i].bit) {
            catf(buf, cap, "%s%s", buf[0] ? "," : "", names[i].name);
        }
    }
    if (buf[0] == '\0') {
        snprintf(buf, cap, "none");
    }
}

static void fmt_label(char *buf, size_t cap, const struct conv *c, int from,
                      const tw_seg_summary *s)
{
    char fl[40], a[32];
    fmt_flags(fl, sizeof fl, s->flags);
    fmt_seq(a, sizeof a, &c->e[from], s->seq);
    snprintf(buf, cap, "%s seq=%s", fl, a);
    if (s->flags & TW_ACK) {
        fmt_seq(a, sizeof a, &c->e[1 - from], s->ack);
        catf(buf, cap, " ack=%s", a);
    }
    if (s->len > 0) {
        catf(buf, cap, " len=%u", s->len);
    }
    if (s->win == 0 && !(s->flags & TW_RST)) {
        catf(buf, cap, " win=0");
    }
}

static void fmt_detail(char *buf, size_t cap, const tw_seg_summary *s)
{
    if (s->flags & TW_SYN) {
        char o[96] = "";
        if (s->opts & TW_OPT_MSS) {
            catf(o, sizeof o, "mss %u", s->mss);
        }
        if (s->opts & TW_OPT_SACK_PERM) {
            catf(o, sizeof o, "%ssackOK", o[0] ? "," : "");
        }
        if (s->opts & TW_OPT_TS) {
            catf(o, sizeof o, "%sTS", o[0] ? "," : "");
        }
        if (s->opts & TW_OPT_WSCALE) {
            catf(o, sizeof o, "%swscale %u", o[0] ? "," : "", s->wscale);
        }
        if (s->opts & TW_OPT_FASTOPEN) {
            catf(o, sizeof o, "%sFO", o[0] ? "," : ""); /* TCP Fast Open (RFC 7413) */
        }
        if (o[0] != '\0') {
            catf(buf, cap, "%s<%s>", buf[0] ? "  " : "", o);
        }
        catf(buf, cap, "%swin %u", buf[0] ? " " : "", s->win);
    }
    if (s->opts & TW_OPT_SACK) {
        catf(buf, cap, "%sSACK %u block%s", buf[0] ? "  " : "", s->sack_blocks,
             s->sack_blocks == 1 ? "" : "s");
    }
}

/* ---- endpoints and conversations ------------------------------------------------------ */

static bool seg_same(const tw_seg_summary *a, const tw_seg_summary *b)
{
    return a->saddr == b->saddr && a->daddr == b->daddr && a->sport == b->sport &&
           a->dport == b->dport && a->seq == b->seq && a->ack == b->ack && a->flags == b->flags &&
           a->len == b->len;
}

static int ep_index(const struct conv *c, uint32_t addr, uint16_t port)
{
    for (int i = 0; i < 2; i++) {
        if (c->e[i].addr == addr && c->e[i].port == port) {
            return i;
        }
    }
    return -1;
}

/* Find the conversation of a segment, creating it (and deciding who is the client) when
   it is new. A SYN without ACK whose seq is not the known client ISN starts a new
   incarnation of the same 4-tuple (S17: TIME-WAIT reuse). */
static struct conv *conv_for(tw_ladder *l, const tw_seg_summary *s, tw_time now)
{
    bool syn = (s->flags & (TW_SYN | TW_ACK)) == TW_SYN;
    for (int i = l->nconvs - 1; i >= 0; i--) {
        struct conv *c = l->convs[i];
        int a = ep_index(c, s->saddr, s->sport), b = ep_index(c, s->daddr, s->dport);
        if (a < 0 || b < 0 || a == b) {
            continue;
        }
        if (syn && a == 0 && c->e[0].isn_known && c->e[0].anch[0].v != s->seq) {
            break; /* new incarnation */
        }
        return c;
    }
    if (l->nconvs == MAX_CONVS) {
        /* Forget the oldest conversation; rows and the batch may still point at it, so
           settle and print those first. */
        tw_ladder_flush(l, true);
        free(l->convs[0]);
        memmove(&l->convs[0], &l->convs[1], (MAX_CONVS - 1) * sizeof l->convs[0]);
        l->nconvs--;
    }
    struct conv *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return NULL;
    }
    c->id = ++l->conv_ids;
    /* The sender of a SYN without ACK is the client; otherwise the sender goes left. */
    c->e[0] = (struct ep){.addr = s->saddr, .port = s->sport};
    c->e[1] = (struct ep){.addr = s->daddr, .port = s->dport};
    if ((s->flags & (TW_SYN | TW_ACK)) == (TW_SYN | TW_ACK)) {
        c->e[0] = (struct ep){.addr = s->daddr, .port = s->dport};
        c->e[1] = (struct ep){.addr = s->saddr, .port = s->sport};
    }
    for (int i = 0; i < 2; i++) {
        c->e[i].side = side_of_addr(l, c->e[i].addr);
    }
    l->convs[l->nconvs++] = c;
    new_row(l, ROW_HEADER, now, c);
    return c;
}

/* Text for an endpoint moving to `to`, updating what is shown. */
static bool trans_text(tw_ladder *l, struct ep *e, tw_state to, char *buf, size_t cap)
{
    bool change = false;
    buf[0] = '\0';
    if (!e->known) {
        /* No earlier event: an active opener was CLOSED, a passive one LISTEN. */
        if (to == TW_STATE_SYN_SENT) {
            e->shown = TW_STATE_CLOSED;
            e->known = true;
        } else if (to == TW_STATE_SYN_RCVD) {
            e->shown = TW_STATE_LISTEN;
            e->known = true;
        }
    }
    if (e->known && e->shown != to) {
        change = true;
        catf(buf, cap, "%s", tw_state_name(e->shown));
        /* Intermediate steps reported by STATE events, when they lead to `to`. */
        if (e->nchain > 1 && e->chain[e->nchain - 1] == to) {
            for (int i = 0; i < e->nchain - 1; i++) {
                if (e->chain[i] != e->shown) {
                    catf(buf, cap, "%s%s", l->g_to, tw_state_name(e->chain[i]));
                }
            }
        }
        catf(buf, cap, "%s", l->g_to);
    }
    catf(buf, cap, "%s", tw_state_name(to));
    e->known = true;
    e->shown = to;
    e->latest = to;
    e->has_latest = true;
    e->nchain = 0;
    return change;
}

static void mark_dirty(tw_ladder *l, struct ep *e)
{
    if (!e->dirty && l->ndirty < MAX_CONVS) {
        e->dirty = true;
        l->dirty[l->ndirty++] = e;
    }
}

/* Endpoint `e` settled in state `st` at the end of an input batch: the rows of that
   batch still waiting for its state get it, the first (the received segment) showing
   the transition the segment caused, the replies showing the state they left in. */
static void resolve_rx(tw_ladder *l, struct ep *e, tw_state st)
{
    for (size_t i = 0; i < l->nrows; i++) {
        struct row *r = &l->rows[i];
        int idx = -1;
        if (r->rx_ep == e) {
            idx = 1 - r->from;
            r->rx_ep = NULL;
        } else if (r->tx_ep == e) {
            idx = r->from;
            r->tx_ep = NULL;
        }
        if (idx >= 0) {
            r->change[idx] = trans_text(l, e, st, r->st[idx], sizeof r->st[idx]);
        }
    }
}

static void apply_state(tw_ladder *l, struct ep *e, tw_state old_state, tw_state new_state)
{
    if (!e->known) {
        /* A passive connection is born from the listener: show it as LISTEN → ... */
        e->shown = (old_state == TW_STATE_CLOSED && new_state == TW_STATE_SYN_RCVD)
                       ? TW_STATE_LISTEN
                       : old_state;
        e->known = true;
    }
    if (e->nchain < MAX_CHAIN) {
        e->chain[e->nchain++] = new_state;
    } else {
        e->chain[MAX_CHAIN - 1] = new_state;
    }
    e->latest = new_state;
    e->has_latest = true;
    mark_dirty(l, e);
}

static struct ep *ep_by_conn(tw_ladder *l, const tw_ladder_side *side, uint64_t id)
{
    if (id == 0) {
        return NULL;
    }
    for (int i = l->nconvs - 1; i >= 0; i--) {
        for (int k = 0; k < 2; k++) {
            struct ep *e = &l->convs[i]->e[k];
            if (e->side == side && e->conn_id == id) {
                return e;
            }
        }
    }
    return NULL;
}

static void map_conn(tw_ladder *l, struct ep *e, const tw_ladder_side *side, uint64_t id)
{
    if (id == 0 || e->conn_id == id) {
        return;
    }
    e->conn_id = id;
    /* STATE events that came before the connection's first segment. */
    int k = 0;
    for (int i = 0; i < l->npend; i++) {
        struct pending_state *p = &l->pend[i];
        if (p->side == side && p->conn_id == id) {
            apply_state(l, e, p->old_state, p->new_state);
        } else {
            l->pend[k++] = *p;
        }
    }
    l->npend = k;
}

/* ---- batches: one stack, one `now` ------------------------------------------------------ */

static const char *reason_text(const tw_ladder *l, tw_timer_kind k)
{
    switch (k) {
    case TW_TIMER_TIME_WAIT:
        return l->o.utf8 ? "2\u00b7MSL elapsed" : "2*MSL elapsed";
    case TW_TIMER_ORPHAN:
        return "orphan timeout";
    case TW_TIMER_RTO:
        return "retransmission timeout";
    case TW_TIMER_TLP:
        return "tail loss probe";
    default:
        return NULL;
    }
}

static struct conv *conv_of_ep(tw_ladder *l, const struct ep *e, int *idx)
{
    for (int i = l->nconvs - 1; i >= 0; i--) {
        for (int k = 0; k < 2; k++) {
            if (&l->convs[i]->e[k] == e) {
                *idx = k;
                return l->convs[i];
            }
        }
    }
    return NULL;
}

static void close_batch(tw_ladder *l)
{
    for (int i = 0; i < l->ndirty; i++) {
        struct ep *e = l->dirty[i];
        e->dirty = false;
        if (e->has_latest) {
            resolve_rx(l, e, e->latest);
        }
        if (e->has_latest && e->known && e->latest != e->shown) {
            int idx = 0;
            struct conv *c = conv_of_ep(l, e, &idx);
            struct row *r = c != NULL ? new_row(l, ROW_STATE, l->batch_now, c) : NULL;
            if (r != NULL) {
                r->from = idx;
                r->change[idx] = trans_text(l, e, e->latest, r->st[idx], sizeof r->st[idx]);
                const char *why = reason_text(l, e->reason);
                if (why != NULL) {
                    snprintf(r->why, sizeof r->why, "(%s)", why);
                }
            }
        }
        e->nchain = 0;
        e->reason = TW_TIMER_NONE;
    }
    l->ndirty = 0;
    l->batch_open = false;
    l->batch_input = false;
}

/* ---- samples of an untraced peer ------------------------------------------------------ */

static bool parse_tcp(const uint8_t *p, size_t len, tw_seg_summary *s)
{
    if (len < 20 || (p[0] >> 4) != 4 || p[9] != 6) {
        return false;
    }
    size_t ihl = (size_t)(p[0] & 15u) * 4u;
    size_t tot = (size_t)p[2] << 8 | p[3];
    if (ihl < 20 || tot > len || tot < ihl + 20) {
        return false;
    }
    const uint8_t *t = p + ihl;
    size_t doff = (size_t)(t[12] >> 4) * 4u;
    if (doff < 20 || ihl + doff > tot) {
        return false;
    }
    memset(s, 0, sizeof *s);
    s->saddr = (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 | (uint32_t)p[14] << 8 | p[15];
    s->daddr = (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19];
    s->sport = (uint16_t)(t[0] << 8 | t[1]);
    s->dport = (uint16_t)(t[2] << 8 | t[3]);
    s->seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
    s->ack = (uint32_t)t[8] << 24 | (uint32_t)t[9] << 16 | (uint32_t)t[10] << 8 | t[11];
    s->flags = t[13];
    s->win = (uint16_t)(t[14] << 8 | t[15]);
    s->len = (uint32_t)(tot - ihl - doff);
    return true;
}

static int probe(tw_ladder *l, uint32_t la, uint16_t lp, uint32_t ra, uint16_t rp)
{
    if (l->o.probe == NULL) {
        return -1;
    }
    return l->o.probe(la, lp, ra, rp, l->o.probe_ud);
}

/* The state of untraced peer `from` at the moment of a row, given a state sampled a
   little later. Its application runs concurrently, and packets wait in the TUN queue,
   so the sample may already include a FIN the peer sent after the row's segment and we
   have not read yet. Its own FIN is the only step a peer takes without hearing from us,
   so undo exactly that one while no FIN of its own has been drawn (RFC 9293 3.3.2:
   ESTABLISHED -> FIN-WAIT-1 and CLOSE-WAIT -> LAST-ACK on CLOSE). */
static int sent_state(const struct conv *c, int from, int st)
{
    bool fin_seen = (c->fins >= 1 && c->first_fin == from) || c->fins == 2;
    if (fin_seen) {
        return st;
    }
    switch (st) {
    case TW_STATE_FIN_WAIT_1:
    case TW_STATE_FIN_WAIT_2:
    case TW_STATE_CLOSING:
    case TW_STATE_TIME_WAIT:
        return TW_STATE_ESTABLISHED;
    case TW_STATE_LAST_ACK:
        return TW_STATE_CLOSE_WAIT;
    default:
        return st;
    }
}

/* Show an untraced endpoint's sampled state in column `idx` of row r. */
static void peer_state(tw_ladder *l, struct row *r, int idx, int state)
{
    struct ep *e = &r->c->e[idx];
    r->awaiting_sample = false;
    if (state < 0) {
        if (!e->known || l->o.probe == NULL) {
            return; /* never seen: leave blank rather than guess */
        }
        state = TW_STATE_CLOSED; /* the socket is gone */
    }
    r->change[idx] = trans_text(l, e, (tw_state)state, r->st[idx], sizeof r->st[idx]);
}

void tw_ladder_sample(tw_ladder *l, const uint8_t *pkt, size_t len, bool to_peer)
{
    tw_seg_summary s;
    if (l->o.probe == NULL || !parse_tcp(pkt, len, &s)) {
        return;
    }
    int st = to_peer ? probe(l, s.daddr, s.dport, s.saddr, s.sport)
                     : probe(l, s.saddr, s.sport, s.daddr, s.dport);
    if (to_peer) {
        for (size_t i = 0; i < l->nrows; i++) {
            struct row *r = &l->rows[i];
            if (r->kind == ROW_SEG && r->awaiting_sample && seg_same(&r->seg, &s)) {
                peer_state(l, r, 1 - r->from, sent_state(r->c, 1 - r->from, st));
                return;
            }
        }
    }
    if (l->nsamples == MAX_SAMPLES) {
        memmove(&l->samples[0], &l->samples[1], (MAX_SAMPLES - 1) * sizeof l->samples[0]);
        l->nsamples--;
    }
    l->samples[l->nsamples++] = (struct sample){.seg = s, .state = st, .to_peer = to_peer};
}

/* Take the sample recorded for this segment, if any. Returns true and *state. */
static bool take_sample(tw_ladder *l, const tw_seg_summary *s, bool to_peer, int *state)
{
    for (int i = 0; i < l->nsamples; i++) {
        if (l->samples[i].to_peer == to_peer && seg_same(&l->samples[i].seg, s)) {
            *state = l->samples[i].state;
            memmove(&l->samples[i], &l->samples[i + 1],
                    (size_t)(l->nsamples - i - 1) * sizeof l->samples[0]);
            l->nsamples--;
            return true;
        }
    }
    return false;
}

/* ---- trace events --------------------------------------------------------------------- */

static struct row *seg_row(tw_ladder *l, struct conv *c, int from, const tw_trace_event *ev)
{
    struct row *r = new_row(l, ROW_SEG, ev->now, c);
    if (r == NULL) {
        return NULL;
    }
    r->from = from;
    r->seg = ev->seg;
    fmt_detail(r->detail, sizeof r->detail, &ev->seg);
    if (ev->seg.flags & TW_SYN) {
        learn_isn(c, from, ev->seg.seq, r->detail, sizeof r->detail);
    }
    /* A SYN+ACK also fixes the other side's ISN: it acknowledges ISN+1. */
    if ((ev->seg.flags & (TW_SYN | TW_ACK)) == (TW_SYN | TW_ACK)) {
        learn_isn(c, 1 - from, ev->seg.ack - 1u, NULL, 0);
    }
    /* Letters first, so the FIN itself reads "seq=u ack=v". */
    if (ev->seg.flags & TW_FIN) {
        learn_fin(c, from, &ev->seg, r->detail, sizeof r->detail);
    }
    fmt_label(r->label, sizeof r->label, c, from, &ev->seg);
    /* Name the pure ACKs that repeat the previous acknowledgment: they only move the
       window, or they are duplicates (a hint of loss or reordering, RFC 5681). */
    struct ep *snd = &c->e[from];
    if (ev->seg.flags == TW_ACK && ev->seg.len == 0 && snd->sent_any &&
        ev->seg.ack == snd->last_ack && !ev->seg.retransmit) {
        if (ev->seg.win != snd->last_win) {
            catf(r->detail, sizeof r->detail, "%swindow update (%u -> %u)",
                 r->detail[0] ? "  " : "", snd->last_win, ev->seg.win);
        } else {
            catf(r->detail, sizeof r->detail, "%sduplicate ACK", r->detail[0] ? "  " : "");
        }
    }
    snd->sent_any = true;
    snd->last_ack = ev->seg.ack;
    snd->last_win = ev->seg.win;
    return r;
}

/* A segment event at `side`. The core reports SEG_IN before processing the segment, so
   what a received segment did to its receiver is known only when that input call ends
   (the batch ends); segments sent while handling it wait for the same moment. SEG_OUT
   outside an input (an application call, a timer) carries the state it was sent in. */
/* The core knows both ISNs once synchronized: letters for conversations whose
   handshake we did not see (after the segment's own row, which names them). */
static void learn_event_isns(struct conv *c, int li, const tw_trace_event *ev)
{
    if (ev->iss != 0) {
        learn_isn(c, li, ev->iss, NULL, 0);
    }
    if (ev->irs != 0) {
        learn_isn(c, 1 - li, ev->irs, NULL, 0);
    }
}

static void on_seg(tw_ladder *l, tw_ladder_side *side, const tw_trace_event *ev, bool out)
{
    const tw_seg_summary *s = &ev->seg;
    if (!out) {
        if (l->batch_open) {
            close_batch(l); /* one input call, one received segment: a batch of its own */
        }
        l->batch_open = true;
        l->batch_input = true;
    }
    struct conv *c = conv_for(l, s, ev->now);
    if (c == NULL) {
        return;
    }
    int li = out ? ep_index(c, s->saddr, s->sport) : ep_index(c, s->daddr, s->dport);
    int ri = 1 - li;
    struct ep *me = &c->e[li], *peer = &c->e[ri];
    me->side = side;
    bool has_conn = ev->sock != NULL || ev->conn_id != 0;
    if (has_conn && ev->new_state != TW_STATE_LISTEN) {
        map_conn(l, me, side, ev->conn_id);
    }
    if (out) {
        struct row *r = seg_row(l, c, li, ev);
        if (r == NULL) {
            return;
        }
        learn_event_isns(c, li, ev);
        if (l->batch_input && me->dirty) {
            r->tx_ep = me;
        } else {
            /* Without a connection (a RST for no socket, an ACK from a TIME-WAIT record)
               the event has no state: keep the one we know, CLOSED if none. */
            tw_state st = has_conn ? ev->new_state : me->has_latest ? me->latest : TW_STATE_CLOSED;
            r->change[li] = trans_text(l, me, st, r->st[li], sizeof r->st[li]);
        }
        if (ev->seg.retransmit) {
            catf(r->detail, sizeof r->detail, "%sretransmission", r->detail[0] ? "  " : "");
        }
        if (ev->seg.ip_ecn == 2 || ev->seg.ip_ecn == 3) {
            /* RFC 3168 5: the IP header's ECN field */
            catf(r->detail, sizeof r->detail, "%s%s", r->detail[0] ? "  " : "",
                 ev->seg.ip_ecn == 3 ? "CE" : "ECT(0)");
        }
        if (peer->side != NULL) {
            r->awaiting_rx = true;
        } else if (l->o.probe != NULL) {
            int st;
            if (take_sample(l, s, true, &st)) {
                peer_state(l, r, ri, sent_state(c, ri, st));
            } else {
                r->awaiting_sample = true;
            }
        }
        return;
    }
    if (!me->has_latest) {
        me->latest = has_conn ? ev->new_state : TW_STATE_CLOSED;
        me->has_latest = true;
    }
    mark_dirty(l, me);
    /* Incoming: complete the sender's row when the sender is traced. */
    if (peer->side != NULL) {
        for (size_t i = 0; i < l->nrows; i++) {
            struct row *r = &l->rows[i];
            if (r->kind == ROW_SEG && r->awaiting_rx && r->c == c && r->from == ri &&
                seg_same(&r->seg, s)) {
                r->awaiting_rx = false;
                r->rx_ep = me;
                learn_event_isns(c, li, ev);
                return;
            }
        }
    }
    struct row *r = seg_row(l, c, ri, ev);
    if (r == NULL) {
        return;
    }
    learn_event_isns(c, li, ev);
    r->rx_ep = me;
    if (peer->side != NULL) {
        r->fate = "duplicate"; /* its first copy was already delivered */
    } else if (l->o.probe != NULL) {
        /* Rows to this peer still waiting for its state come first: settle them now. */
        for (size_t i = 0; i + 1 < l->nrows; i++) {
            struct row *p = &l->rows[i];
            if (p->awaiting_sample && p->c == c) {
                const struct ep *pe = &c->e[1 - p->from], *pm = &c->e[p->from];
                peer_state(
                    l, p, 1 - p->from,
                    sent_state(c, 1 - p->from, probe(l, pe->addr, pe->port, pm->addr, pm->port)));
            }
        }
        int st;
        if (!take_sample(l, s, false, &st)) {
            st = probe(l, s->saddr, s->sport, s->daddr, s->dport);
        }
        peer_state(l, r, ri, sent_state(c, ri, st));
    }
}

static void on_state(tw_ladder *l, tw_ladder_side *side, const tw_trace_event *ev)
{
    struct ep *e = NULL;
    if (ev->seg.sport != 0 || ev->seg.dport != 0) {
        for (int i = l->nconvs - 1; i >= 0 && e == NULL; i--) {
            struct conv *c = l->convs[i];
            int a = ep_index(c, ev->seg.saddr, ev->seg.sport);
            int b = ep_index(c, ev->seg.daddr, ev->seg.dport);
            if (a >= 0 && b >= 0 && a != b) {
                e = c->e[a].addr == side->addr ? &c->e[a] : &c->e[b];
            }
        }
    }
    if (e == NULL) {
        e = ep_by_conn(l, side, ev->conn_id);
    }
    if (e == NULL) {
        if (ev->new_state == TW_STATE_LISTEN || ev->conn_id == 0) {
            return; /* listeners are not drawn */
        }
        if (l->npend == MAX_PENDING_STATES) {
            memmove(&l->pend[0], &l->pend[1], (MAX_PENDING_STATES - 1) * sizeof l->pend[0]);
            l->npend--;
        }
        l->pend[l->npend++] = (struct pending_state){.side = side,
                                                     .conn_id = ev->conn_id,
                                                     .old_state = ev->old_state,
                                                     .new_state = ev->new_state};
        return;
    }
    apply_state(l, e, ev->old_state, ev->new_state);
}

static void on_timer(tw_ladder *l, tw_ladder_side *side, const tw_trace_event *ev)
{
    struct ep *e = ep_by_conn(l, side, ev->conn_id);
    if (e != NULL) {
        e->reason = ev->timer;
        mark_dirty(l, e);
    }
}

static void on_drop(tw_ladder *l, tw_ladder_side *side, const tw_trace_event *ev)
{
    const tw_seg_summary *s = &ev->seg;
    if (s->sport == 0 && s->dport == 0) {
        return; /* not a TCP segment (IP or ICMP level) */
    }
    /* The receiver reported the segment (SEG_IN) and then refused it: say so on the
       same row, keeping the receiver's state. */
    for (size_t i = l->nrows; i-- > 0;) {
        struct row *r = &l->rows[i];
        if (r->kind == ROW_SEG && r->rx_ep != NULL && seg_same(&r->seg, s)) {
            catf(r->detail, sizeof r->detail, "%snot accepted: %s", r->detail[0] ? "  " : "",
                 tw_counter_desc(ev->counter));
            return;
        }
    }
    for (size_t i = 0; i < l->nrows; i++) {
        struct row *r = &l->rows[i];
        if (r->kind == ROW_SEG && r->awaiting_rx && seg_same(&r->seg, s)) {
            r->awaiting_rx = false;
            r->fate = "dropped";
            int li = 1 - r->from;
            snprintf(r->st[li], sizeof r->st[li], "dropped: %s", tw_counter_desc(ev->counter));
            return;
        }
    }
    struct conv *c = conv_for(l, s, ev->now);
    if (c == NULL) {
        return;
    }
    int li = ep_index(c, s->daddr, s->dport);
    c->e[li].side = side;
    struct row *r = seg_row(l, c, 1 - li, ev);
    if (r != NULL) {
        r->fate = "dropped";
        snprintf(r->st[li], sizeof r->st[li], "dropped: %s", tw_counter_desc(ev->counter));
    }
}

void tw_ladder_trace(const tw_trace_event *ev, void *ud)
{
    tw_ladder_side *side = ud;
    tw_ladder *l = side->l;
    if (!l->t0_set) {
        l->t0 = ev->now;
        l->t0_set = true;
    }
    if (l->batch_open && (l->batch_side != side || l->batch_now != ev->now)) {
        close_batch(l);
    }
    l->batch_open = true;
    l->batch_side = side;
    l->batch_now = ev->now;
    l->last_now = ev->now;
    switch (ev->kind) {
    case TW_TRACE_SEG_OUT:
        on_seg(l, side, ev, true);
        break;
    case TW_TRACE_SEG_IN:
        on_seg(l, side, ev, false);
        break;
    case TW_TRACE_STATE:
        on_state(l, side, ev);
        break;
    case TW_TRACE_TIMER:
        on_timer(l, side, ev);
        break;
    case TW_TRACE_DROP:
        on_drop(l, side, ev);
        break;
    }
}

void tw_ladder_note(tw_ladder *l, tw_time now, const char *fmt, ...)
{
    if (l->batch_open) {
        close_batch(l);
    }
    if (!l->t0_set) {
        l->t0 = now;
        l->t0_set = true;
    }
    struct row *r = new_row(l, ROW_NOTE, now, NULL);
    if (r == NULL) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->label, sizeof r->label, fmt, ap);
    va_end(ap);
}

/* ---- printing ------------------------------------------------------------------------- */

static void print_time(tw_ladder *l, tw_time t)
{
    double s = t >= l->t0 ? (double)(t - l->t0) / 1e9 : 0.0;
    /* Microseconds while they fit; past 99 s fewer decimals, so that the column keeps a
       space before the state (127.000000 would run into it). */
    int prec = 6;
    for (double lim = 100.0; s >= lim && prec > 0; lim *= 10.0) {
        prec--;
    }
    fprintf(l->o.out, "  %-*.*f", TIME_W, prec, s);
}

static void print_cell(tw_ladder *l, const char *text, bool change, size_t width)
{
    if (change) {
        color_on(l, "1");
    }
    fputs(text, l->o.out);
    if (change) {
        color_off(l);
    }
    size_t n = cols(text);
    if (width > 0) {
        pad(l->o.out, n < width ? width - n : 1);
    }
}

static void repeat(tw_ladder *l, const char *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fputs(g, l->o.out);
    }
}

/* "── LABEL ────▶" or "◀──── LABEL ──" in MID_W columns (longer labels stretch it). */
static void print_arrow(tw_ladder *l, const struct row *r)
{
    bool right = r->from == 0;
    bool lost = r->fate != NULL && strcmp(r->fate, "lost") == 0;
    bool dropped = r->fate != NULL && strcmp(r->fate, "dropped") == 0;
    size_t lab = cols(r->label) + 2; /* spaces around the label */
    size_t fill = MID_W > lab + 4 ? MID_W - lab - 4 : 2;
    color_on(l, lost || dropped ? "31" : right ? "36" : "35");
    if (right) {
        repeat(l, l->g_dash, 2);
        fprintf(l->o.out, " %s ", r->label);
        repeat(l, l->g_dash, fill + 1);
        fputs(lost ? l->g_lost : l->g_head_r, l->o.out);
    } else {
        fputs(lost ? l->g_lost : l->g_head_l, l->o.out);
        repeat(l, l->g_dash, fill + 1);
        fprintf(l->o.out, " %s ", r->label);
        repeat(l, l->g_dash, 2);
    }
    color_off(l);
    fputs("  ", l->o.out);
}

static bool conv_finished(const struct conv *c)
{
    bool any = false;
    for (int i = 0; i < 2; i++) {
        const struct ep *e = &c->e[i];
        if (!e->known) {
            continue;
        }
        if (e->shown != TW_STATE_CLOSED && e->shown != TW_STATE_TIME_WAIT) {
            return false;
        }
        any = true;
    }
    return any;
}

/* Conversations are told apart by a "#N" gutter once two of them overlap (an earlier
   one still open when a later one prints); before that each just gets its header. */
static void check_overlap(tw_ladder *l, const struct conv *c)
{
    if (l->multi) {
        return;
    }
    for (int i = 0; i < l->nconvs; i++) {
        const struct conv *o = l->convs[i];
        if (o != c && o->printed && !conv_finished(o)) {
            l->multi = true;
            return;
        }
    }
}

static void print_row(tw_ladder *l, struct row *r)
{
    FILE *f = l->o.out;
    if (r->c != NULL) {
        check_overlap(l, r->c);
        r->c->printed = true;
    }
    bool multi = l->multi;
    if (multi && r->kind != ROW_HEADER) {
        if (r->kind == ROW_NOTE) {
            fputs("    ", f);
        } else {
            fprintf(f, "#%-3d", r->c->id);
        }
    }
    if (r->kind == ROW_HEADER) {
        char t[2][96];
        for (int i = 0; i < 2; i++) {
            const struct ep *e = &r->c->e[i];
            char ip[16];
            snprintf(ip, sizeof ip, "%u.%u.%u.%u", e->addr >> 24, (e->addr >> 16) & 255u,
                     (e->addr >> 8) & 255u, e->addr & 255u);
            snprintf(t[i], sizeof t[i], "%s %s %s:%u", i == 0 ? "client" : "server",
                     e->side != NULL ? e->side->name : l->o.peer_name, ip, e->port);
        }
        fputc('\n', f);
        color_on(l, "4");
        fprintf(f, "%s  %-*s", multi ? "    " : "", TIME_W, "time (s)");
        print_cell(l, t[0], false, LEFT_W + 1 + MID_W + 2);
        fputs(t[1], f);
        if (multi) {
            fprintf(f, "   #%d", r->c->id);
        }
        color_off(l);
        fputc('\n', f);
        return;
    }
    if (r->kind == ROW_NOTE) {
        print_time(l, r->t);
        color_on(l, "33");
        fprintf(f, "%s%s %s %s%s", l->g_dash, l->g_dash, r->label, l->g_dash, l->g_dash);
        color_off(l);
        fputc('\n', f);
        return;
    }
    print_time(l, r->t);
    print_cell(l, r->st[0], r->change[0], LEFT_W + 1);
    if (r->kind == ROW_STATE) {
        color_on(l, "2");
        print_cell(l, r->why, false, MID_W + 2);
        color_off(l);
    } else {
        print_arrow(l, r);
    }
    print_cell(l, r->st[1], r->change[1], 0);
    fputc('\n', f);
    char det[sizeof r->detail + 16];
    snprintf(det, sizeof det, "%s", r->detail);
    if (r->fate != NULL && strcmp(r->fate, "duplicate") == 0) {
        catf(det, sizeof det, "%sduplicate", det[0] ? "  " : "");
    }
    if (det[0] != '\0') {
        pad(f, (multi ? 4u : 0u) + 2 + TIME_W + LEFT_W + 1 + 3);
        color_on(l, "2");
        fputs(det, f);
        color_off(l);
        fputc('\n', f);
    }
}

/* Print one row into memory first, so padding never leaves trailing blanks. */
static void emit_row(tw_ladder *l, struct row *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *real = l->o.out;
    FILE *mem = open_memstream(&buf, &len);
    if (mem == NULL) {
        print_row(l, r);
        return;
    }
    l->o.out = mem;
    print_row(l, r);
    fclose(mem);
    l->o.out = real;
    /* Drop blanks before each newline. */
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            while (w > 0 && buf[w - 1] == ' ') {
                w--;
            }
        }
        buf[w++] = buf[i];
    }
    fwrite(buf, 1, w, real);
    free(buf);
}

static void print_ready(tw_ladder *l)
{
    size_t n = 0;
    while (n < l->nrows && !l->rows[n].awaiting_rx && !l->rows[n].awaiting_sample &&
           l->rows[n].rx_ep == NULL && l->rows[n].tx_ep == NULL) {
        emit_row(l, &l->rows[n]);
        l->printed++;
        n++;
    }
    if (n > 0) {
        memmove(&l->rows[0], &l->rows[n], (l->nrows - n) * sizeof l->rows[0]);
        l->nrows -= n;
    }
    fflush(l->o.out);
}

void tw_ladder_flush(tw_ladder *l, bool final)
{
    if (l->batch_open) {
        close_batch(l);
    }
    for (size_t i = 0; i < l->nrows; i++) {
        struct row *r = &l->rows[i];
        if (r->awaiting_sample) {
            int ri = 1 - r->from;
            const struct ep *e = &r->c->e[ri];
            const struct ep *m = &r->c->e[r->from];
            peer_state(l, r, ri,
                       sent_state(r->c, ri, probe(l, e->addr, e->port, m->addr, m->port)));
        }
        if (r->awaiting_rx && (final || l->last_now - r->t > l->o.lost_after)) {
            mark_lost(r);
        }
    }
    print_ready(l);
}
