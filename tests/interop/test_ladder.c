/*
 * test_ladder.c -- the ladder diagram (src/tool/ladder.c) from synthetic trace events, in
 * the order the core emits them (SEG_IN before the state change it causes, SEG_OUT with
 * the state it was sent in). Covers what the demos rarely show: a lost segment, a
 * dropped one, a duplicate, a kernel peer whose state comes from a probe, and the
 * SPEC.md letters on a close.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tool/ladder.h"

#define A_ADDR 0x0a000001u
#define B_ADDR 0x0a000002u
#define X 1000000u /* client ISN */
#define Y 5000000u /* server ISN */

struct fx {
    char *buf;
    size_t len;
    FILE *out;
    tw_ladder *l;
    tw_ladder_side *a, *b;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->out = open_memstream(&f->buf, &f->len);
    assert_non_null(f->out);
    tw_ladder_opts o;
    tw_ladder_opts_init(&o, f->out);
    o.utf8 = false;
    o.color = false;
    f->l = tw_ladder_new(&o);
    assert_non_null(f->l);
    f->a = tw_ladder_add_stack(f->l, "A", A_ADDR);
    f->b = tw_ladder_add_stack(f->l, "B", B_ADDR);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->l != NULL) {
        tw_ladder_free(f->l);
    }
    fclose(f->out);
    free(f->buf);
    free(f);
    return 0;
}

/* The line of `t` containing `needle`, copied into buf (empty if none). */
static const char *line_with(const char *t, const char *needle, char *buf, size_t cap)
{
    const char *p = strstr(t, needle);
    buf[0] = '\0';
    if (p == NULL) {
        return buf;
    }
    const char *b = p;
    while (b > t && b[-1] != '\n') {
        b--;
    }
    const char *e = strchr(p, '\n');
    size_t n = e != NULL ? (size_t)(e - b) : strlen(b);
    n = n < cap - 1 ? n : cap - 1;
    memcpy(buf, b, n);
    buf[n] = '\0';
    return buf;
}

/* Finish and return everything printed. */
static const char *text(struct fx *f)
{
    tw_ladder_free(f->l);
    f->l = NULL;
    fflush(f->out);
    return f->buf;
}

static tw_seg_summary seg(uint32_t from, uint32_t to, uint8_t flags, uint32_t seq, uint32_t ack,
                          uint32_t len)
{
    tw_seg_summary s;
    memset(&s, 0, sizeof s);
    s.saddr = from;
    s.daddr = to;
    s.sport = from == A_ADDR ? 40000 : 80;
    s.dport = from == A_ADDR ? 80 : 40000;
    s.flags = flags;
    s.seq = seq;
    s.ack = ack;
    s.len = len;
    s.win = 65535;
    return s;
}

static void ev(tw_ladder_side *side, tw_trace_kind kind, tw_time now, uint64_t id, tw_state st,
               tw_seg_summary s)
{
    tw_trace_event e;
    memset(&e, 0, sizeof e);
    e.kind = kind;
    e.now = now;
    e.conn_id = id;
    e.old_state = st;
    e.new_state = st;
    e.counter = TW_CNT_COUNT_;
    e.seg = s;
    tw_ladder_trace(&e, side);
}

static void state(tw_ladder_side *side, tw_time now, uint64_t id, tw_state from, tw_state to)
{
    tw_trace_event e;
    memset(&e, 0, sizeof e);
    e.kind = TW_TRACE_STATE;
    e.now = now;
    e.conn_id = id;
    e.old_state = from;
    e.new_state = to;
    tw_ladder_trace(&e, side);
}

static void drop(tw_ladder_side *side, tw_time now, enum tw_counter why, tw_seg_summary s)
{
    tw_trace_event e;
    memset(&e, 0, sizeof e);
    e.kind = TW_TRACE_DROP;
    e.now = now;
    e.counter = why;
    e.seg = s;
    tw_ladder_trace(&e, side);
}

/* The handshake as the core reports it: rows pair each side's view of one segment. */
static void handshake(struct fx *f)
{
    tw_seg_summary syn = seg(A_ADDR, B_ADDR, TW_SYN, X, 0, 0);
    tw_seg_summary synack = seg(B_ADDR, A_ADDR, TW_SYN | TW_ACK, Y, X + 1, 0);
    tw_seg_summary third = seg(A_ADDR, B_ADDR, TW_ACK, X + 1, Y + 1, 0);
    state(f->a, TW_MS(0), 1, TW_STATE_CLOSED, TW_STATE_SYN_SENT);
    ev(f->a, TW_TRACE_SEG_OUT, TW_MS(0), 1, TW_STATE_SYN_SENT, syn);
    ev(f->b, TW_TRACE_SEG_IN, TW_MS(1), 7, TW_STATE_CLOSED, syn);
    state(f->b, TW_MS(1), 7, TW_STATE_CLOSED, TW_STATE_SYN_RCVD);
    ev(f->b, TW_TRACE_SEG_OUT, TW_MS(1), 7, TW_STATE_SYN_RCVD, synack);
    ev(f->a, TW_TRACE_SEG_IN, TW_MS(2), 1, TW_STATE_SYN_SENT, synack);
    state(f->a, TW_MS(2), 1, TW_STATE_SYN_SENT, TW_STATE_ESTABLISHED);
    ev(f->a, TW_TRACE_SEG_OUT, TW_MS(2), 1, TW_STATE_ESTABLISHED, third);
    ev(f->b, TW_TRACE_SEG_IN, TW_MS(3), 7, TW_STATE_SYN_RCVD, third);
    state(f->b, TW_MS(3), 7, TW_STATE_SYN_RCVD, TW_STATE_ESTABLISHED);
}

static void test_handshake_rows(void **st)
{
    struct fx *f = *st;
    handshake(f);
    const char *t = text(f);
    char l[256];
    /* Each row: the sender's state, the segment, the receiver's state after it; the
       transition shows on the row of the segment that caused it. */
    line_with(t, "SYN seq=x --", l, sizeof l);
    assert_non_null(strstr(l, "CLOSED -> SYN-SENT"));
    assert_non_null(strstr(l, "LISTEN -> SYN-RECEIVED"));
    line_with(t, "SYN,ACK seq=y ack=x+1", l, sizeof l);
    assert_non_null(strstr(l, "SYN-SENT -> ESTABLISHED"));
    assert_null(strstr(l, "LISTEN"));
    line_with(t, "ACK seq=x+1 ack=y+1 --", l, sizeof l);
    assert_non_null(strstr(l, "SYN-RECEIVED -> ESTABLISHED"));
    assert_null(strstr(l, "SYN-SENT"));
    assert_non_null(strstr(t, "x = 1000000"));
    assert_non_null(strstr(t, "y = 5000000"));
    /* Rows come out in the order the segments were sent. */
    assert_true(strstr(t, "SYN seq=x") < strstr(t, "SYN,ACK seq=y"));
    assert_true(strstr(t, "SYN,ACK seq=y") < strstr(t, "ACK seq=x+1 ack=y+1"));
}

/* A row past 99 s (a SYN backed off seven times): the time keeps a space before the
   state (it ran into it as "127.000000SYN-SENT"), with fewer decimals. */
static void test_time_column_wide(void **st)
{
    struct fx *f = *st;
    tw_seg_summary syn = seg(A_ADDR, B_ADDR, TW_SYN, X, 0, 0);
    state(f->a, TW_MS(0), 1, TW_STATE_CLOSED, TW_STATE_SYN_SENT);
    ev(f->a, TW_TRACE_SEG_OUT, TW_MS(0), 1, TW_STATE_SYN_SENT, syn);
    ev(f->a, TW_TRACE_SEG_OUT, TW_SEC(127), 1, TW_STATE_SYN_SENT, syn);
    ev(f->b, TW_TRACE_SEG_IN, TW_SEC(127) + TW_MS(10), 7, TW_STATE_CLOSED, syn);
    state(f->b, TW_SEC(127) + TW_MS(10), 7, TW_STATE_CLOSED, TW_STATE_SYN_RCVD);
    ev(f->a, TW_TRACE_SEG_OUT, TW_SEC(12345), 1, TW_STATE_SYN_SENT, syn);
    const char *t = text(f);
    char l[256];
    line_with(t, "  127.00000 SYN-SENT", l, sizeof l);
    assert_non_null(strstr(l, "SYN seq=x"));
    line_with(t, "  12345.000 SYN-SENT", l, sizeof l);
    assert_non_null(strstr(l, "SYN seq=x"));
    line_with(t, "  0.000000  CLOSED -> SYN-SENT", l, sizeof l);
    assert_non_null(strstr(l, "SYN seq=x"));
}

static void test_close_letters(void **st)
{
    struct fx *f = *st;
    handshake(f);
    tw_seg_summary fin1 = seg(A_ADDR, B_ADDR, TW_FIN | TW_ACK, X + 1, Y + 1, 0);
    tw_seg_summary ack1 = seg(B_ADDR, A_ADDR, TW_ACK, Y + 1, X + 2, 0);
    tw_seg_summary data = seg(B_ADDR, A_ADDR, TW_ACK | TW_PSH, Y + 1, X + 2, 100);
    tw_seg_summary fin2 = seg(B_ADDR, A_ADDR, TW_FIN | TW_ACK, Y + 101, X + 2, 0);
    state(f->a, TW_MS(10), 1, TW_STATE_ESTABLISHED, TW_STATE_FIN_WAIT_1);
    ev(f->a, TW_TRACE_SEG_OUT, TW_MS(10), 1, TW_STATE_FIN_WAIT_1, fin1);
    ev(f->b, TW_TRACE_SEG_IN, TW_MS(11), 7, TW_STATE_ESTABLISHED, fin1);
    state(f->b, TW_MS(11), 7, TW_STATE_ESTABLISHED, TW_STATE_CLOSE_WAIT);
    ev(f->b, TW_TRACE_SEG_OUT, TW_MS(11), 7, TW_STATE_CLOSE_WAIT, ack1);
    ev(f->a, TW_TRACE_SEG_IN, TW_MS(12), 1, TW_STATE_FIN_WAIT_1, ack1);
    state(f->a, TW_MS(12), 1, TW_STATE_FIN_WAIT_1, TW_STATE_FIN_WAIT_2);
    ev(f->b, TW_TRACE_SEG_OUT, TW_MS(13), 7, TW_STATE_CLOSE_WAIT, data);
    ev(f->a, TW_TRACE_SEG_IN, TW_MS(14), 1, TW_STATE_FIN_WAIT_2, data);
    state(f->b, TW_MS(15), 7, TW_STATE_CLOSE_WAIT, TW_STATE_LAST_ACK);
    ev(f->b, TW_TRACE_SEG_OUT, TW_MS(15), 7, TW_STATE_LAST_ACK, fin2);
    ev(f->a, TW_TRACE_SEG_IN, TW_MS(16), 1, TW_STATE_FIN_WAIT_2, fin2);
    state(f->a, TW_MS(16), 1, TW_STATE_FIN_WAIT_2, TW_STATE_TIME_WAIT);
    const char *t = text(f);
    assert_non_null(strstr(t, "ESTABLISHED -> FIN-WAIT-1"));
    assert_non_null(strstr(t, "FIN,ACK seq=u ack=v"));
    assert_non_null(strstr(t, "ESTABLISHED -> CLOSE-WAIT\n"));
    assert_non_null(strstr(t, "u = x+1, v = y+1"));
    assert_non_null(strstr(t, "ACK seq=v ack=u+1 --"));
    assert_non_null(strstr(t, "PSH,ACK seq=v ack=u+1 len=100"));
    assert_non_null(strstr(t, "FIN,ACK seq=w ack=u+1"));
    assert_non_null(strstr(t, "w = v+100"));
    assert_non_null(strstr(t, "FIN-WAIT-2 -> TIME-WAIT"));
    assert_non_null(strstr(t, "CLOSE-WAIT -> LAST-ACK"));
}

static void test_lost_dropped_duplicate(void **st)
{
    struct fx *f = *st;
    handshake(f);
    tw_seg_summary d1 = seg(A_ADDR, B_ADDR, TW_ACK, X + 1, Y + 1, 10);
    tw_seg_summary d2 = seg(A_ADDR, B_ADDR, TW_ACK, X + 11, Y + 1, 20);
    tw_seg_summary d3 = seg(A_ADDR, B_ADDR, TW_ACK, X + 31, Y + 1, 30);
    ev(f->a, TW_TRACE_SEG_OUT, TW_MS(10), 1, TW_STATE_ESTABLISHED, d1); /* never arrives */
    ev(f->a, TW_TRACE_SEG_OUT, TW_MS(11), 1, TW_STATE_ESTABLISHED, d2);
    drop(f->b, TW_MS(12), TW_CNT_TCP_RX_BAD_CSUM, d2); /* corrupted */
    ev(f->a, TW_TRACE_SEG_OUT, TW_MS(13), 1, TW_STATE_ESTABLISHED, d3);
    ev(f->b, TW_TRACE_SEG_IN, TW_MS(14), 7, TW_STATE_ESTABLISHED, d3);
    ev(f->b, TW_TRACE_SEG_IN, TW_MS(15), 7, TW_STATE_ESTABLISHED, d3); /* delivered twice */
    /* Still waiting for d1: nothing after it may be printed yet, in order. */
    tw_ladder_flush(f->l, false);
    fflush(f->out);
    assert_null(strstr(f->buf, "len=20"));
    const char *t = text(f);
    const char *r1 = strstr(t, "seq=x+1 ack=y+1 len=10");
    const char *r2 = strstr(t, "seq=x+11 ack=y+1 len=20");
    assert_non_null(r1);
    assert_non_null(r2);
    assert_non_null(strstr(r1, "X  (lost)\n"));
    assert_true(strstr(r1, "(lost)") < r2);
    assert_non_null(strstr(r2, "dropped: tcp: bad checksum"));
    const char *r3 = strstr(t, "len=30");
    assert_non_null(r3);
    assert_non_null(strstr(r3 + 1, "len=30"));
    assert_non_null(strstr(r3, "duplicate"));
}

static int fake_kernel(uint32_t la, uint16_t lp, uint32_t ra, uint16_t rp, void *ud)
{
    (void)la;
    (void)lp;
    (void)ra;
    (void)rp;
    return *(int *)ud;
}

/* A kernel peer (untraced): its state comes from the probe, and a FIN it sent but we
   have not drawn yet is undone for the rows before it. */
static void test_untraced_peer(void **st)
{
    struct fx *f = *st;
    tw_ladder_free(f->l);
    tw_ladder_opts o;
    tw_ladder_opts_init(&o, f->out);
    o.utf8 = false;
    o.color = false;
    o.peer_name = "linux";
    int kstate = TW_STATE_SYN_SENT;
    o.probe = fake_kernel;
    o.probe_ud = &kstate;
    f->l = tw_ladder_new(&o);
    f->b = tw_ladder_add_stack(f->l, "tcpwave", B_ADDR);
    tw_seg_summary syn = seg(A_ADDR, B_ADDR, TW_SYN, X, 0, 0);
    tw_seg_summary synack = seg(B_ADDR, A_ADDR, TW_SYN | TW_ACK, Y, X + 1, 0);
    tw_seg_summary third = seg(A_ADDR, B_ADDR, TW_ACK, X + 1, Y + 1, 0);
    ev(f->b, TW_TRACE_SEG_IN, TW_MS(0), 7, TW_STATE_CLOSED, syn);
    state(f->b, TW_MS(0), 7, TW_STATE_CLOSED, TW_STATE_SYN_RCVD);
    kstate = TW_STATE_ESTABLISHED;
    ev(f->b, TW_TRACE_SEG_OUT, TW_MS(0), 7, TW_STATE_SYN_RCVD, synack);
    /* The kernel already sent its FIN (still queued) when we read the third ACK. */
    kstate = TW_STATE_FIN_WAIT_1;
    ev(f->b, TW_TRACE_SEG_IN, TW_MS(1), 7, TW_STATE_SYN_RCVD, third);
    state(f->b, TW_MS(1), 7, TW_STATE_SYN_RCVD, TW_STATE_ESTABLISHED);
    const char *t = text(f);
    char l[256];
    assert_non_null(strstr(t, "client linux 10.0.0.1:40000"));
    assert_non_null(strstr(t, "server tcpwave 10.0.0.2:80"));
    assert_non_null(strstr(line_with(t, "SYN seq=x", l, sizeof l), "CLOSED -> SYN-SENT"));
    assert_non_null(strstr(line_with(t, "SYN,ACK seq=y", l, sizeof l), "SYN-SENT -> ESTABLISHED"));
    line_with(t, "ACK seq=x+1 ack=y+1", l, sizeof l);
    assert_non_null(strstr(l, "SYN-RECEIVED -> ESTABLISHED"));
    assert_null(strstr(l, "SYN-SENT"));
    assert_null(strstr(t, "FIN-WAIT-1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handshake_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_letters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_column_wide, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_dropped_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_untraced_peer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
