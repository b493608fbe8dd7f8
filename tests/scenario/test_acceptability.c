/*
 * test_acceptability.c -- which segments a synchronized connection accepts: the four
 * sequence-number cases and the ACK checks (SPEC R5; RFC 9293 3.4, 3.10.7.4 first and
 * fifth checks; RFC 5961 5.2).
 *
 *   SEG.LEN  RCV.WND  acceptable when
 *   0        0        SEG.SEQ = RCV.NXT
 *   0        >0       RCV.NXT =< SEG.SEQ =< RCV.NXT+RCV.WND (the right edge too: the ACK
 *                     of a sender that filled the window, as BSD and Linux take it)
 *   >0       0        never (but its ACK, URG and RST are still looked at): the ACK of
 *                     one that begins at or before RCV.NXT and reaches past it
 *   >0       >0       it overlaps the window: the first or the last octet lies in it,
 *                     or it covers the whole window (trimmed both ways)
 *
 * An unacceptable segment (not a RST) is answered with <SEQ=SND.NXT><ACK=RCV.NXT><ACK>
 * and dropped. The connection here has a 1024-byte receive buffer (no window scaling), so
 * the window is easy to fill.
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 1000u
#define RBUF 1024u

/* A real passive open with SO_RCVBUF = RBUF; *y = our ISN. The RTO is then 2.7 s. */
static tw_socket *open_small(tw_t *t, uint32_t *y)
{
    tw_socket *l, *c;
    assert_int_equal(tw_socket_open(tw_t_stack(t), &l), 0);
    assert_int_equal(tw_socket_set_bufsizes(l, RBUF, 0), 0);
    assert_int_equal(tw_socket_bind(l, LPORT), 0);
    assert_int_equal(tw_socket_listen(l, 8, tw_t_now(t)), 0);
    TW_SEND(t, tw_t_now(t), IN(.flags = TW_SYN, .seq = PEER_ISS));
    tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1, .win = RBUF,
                                   .opts = TW_OPT_MSS, .mss = 1460, .any = TW_T_ANY_SEQ));
    /* A 900 ms handshake RTT gives a 2.7 s RTO, so our unacknowledged test data is not
       retransmitted while the steps below, up to 2 s long, run. */
    TW_SEND(t, tw_t_now(t) + TW_MS(900), IN(.flags = TW_ACK, .seq = PEER_ISS + 1, .ack = sa.seq + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_accept(l, &c, tw_t_now(t)), 0);
    tw_socket_close(l, tw_t_now(t));
    *y = sa.seq;
    return c;
}

static uint32_t info_snd_una(const tw_socket *s)
{
    tw_socket_info i;
    tw_socket_info_get(s, &i);
    return i.snd_una;
}

/* Our side sends `n` bytes and they stay unacknowledged (used to see whether a segment's
   ACK field was processed). */
static void send_unacked(tw_t *t, tw_socket *c, uint32_t seq, uint32_t ack, uint16_t win,
                         uint32_t n)
{
    char d[64];
    memset(d, 'o', sizeof d);
    assert_int_equal(tw_socket_send(c, d, n, tw_t_now(t)), (tw_ssize)n);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = seq, .ack = ack, .win = win, .len = n));
    TW_EXPECT_NOTHING(t);
}

/* R5, zero window (RFC 9293 3.10.7.4 first check, rows 1 and 3; 3.8.6.1): with
   RCV.WND = 0 only a zero-length segment at exactly RCV.NXT is acceptable and processed;
   one elsewhere is answered with an ACK and not processed. A data segment is never
   acceptable, but "special allowance should be made to accept valid ACKs": its ACK is
   processed, its data dropped and answered with an ACK (a zero-window probe gets the
   current window back). */
static void test_r05_zero_window_cases(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = open_small(t, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    char fill[RBUF];
    memset(fill, 'f', sizeof fill);
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK | TW_PSH, .seq = v, .ack = u, .data = fill, .len = RBUF));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + RBUF, .win = 0));
    TW_EXPECT_NOTHING(t);
    v += RBUF;
    tw_socket_info i;
    tw_socket_info_get(c, &i);
    assert_int_equal(i.rcv_wnd, 0);
    send_unacked(t, c, u, v, 0, 10);

    /* Row 1, unacceptable: a pure ACK one past RCV.NXT. Its ACK field is not used. */
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_ACK, .seq = v + 1, .ack = u + 10));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 10, .ack = v, .win = 0));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(info_snd_una(c), u);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_OUT_OF_WINDOW), 1);

    /* Row 3: data at RCV.NXT into the closed window. Its ACK is processed; the data is
       not taken, and the ACK we send back still says window 0. */
    TW_SEND(t, tw_t_now(t) + TW_MS(600),
            IN(.flags = TW_ACK, .seq = v, .ack = u + 4, .data = "probe", .len = 1));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 10, .ack = v, .win = 0));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(info_snd_una(c), u + 4);
    assert_int_equal(tw_socket_rx_pending(c), RBUF);

    /* Row 3 straddling RCV.NXT: 5 old bytes and 5 new ones, none of which fit. Its ACK
       is processed (RFC 9293: only the new part of a straddling segment counts, and with
       the window zero that is a segment of length 0 at RCV.NXT); refusing it would leave
       a sender that resends from before our RCV.NXT deaf to our ACKs (0x118c63). */
    TW_SEND(t, tw_t_now(t) + TW_MS(600),
            IN(.flags = TW_ACK, .seq = v - 5, .ack = u + 6, .data = "oldnewdata", .len = 10));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 10, .ack = v, .win = 0));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(info_snd_una(c), u + 6);
    assert_int_equal(tw_socket_rx_pending(c), RBUF);

    /* Row 3 beyond RCV.NXT: not acceptable at all. */
    TW_SEND(t, tw_t_now(t) + TW_MS(600),
            IN(.flags = TW_ACK, .seq = v + 3, .ack = u + 10, .len = 5));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 10, .ack = v, .win = 0));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(info_snd_una(c), u + 6);

    /* Row 1, acceptable: a pure ACK at exactly RCV.NXT is processed, nothing is sent. */
    TW_SEND(t, tw_t_now(t) + TW_MS(600), IN(.flags = TW_ACK, .seq = v, .ack = u + 10));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(info_snd_una(c), u + 10);
    TW_EXPECT_NO_DEADLINE(t);
    assert_int_equal(tw_socket_rx_pending(c), RBUF);

    /* Reading opens the window; we say so (RFC 9293 3.8.6.2.2). */
    char b[RBUF];
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), RBUF);
    assert_memory_equal(b, fill, RBUF);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 10, .ack = v, .win = RBUF));
    TW_EXPECT_NOTHING(t);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u + 10, .ack = v, .win = RBUF));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R5, open window, zero-length segments (row 2): acceptable from RCV.NXT up to
   RCV.NXT+RCV.WND (processed, nothing sent); beyond RCV.NXT+RCV.WND or below RCV.NXT
   unacceptable (ACK sent, not processed). The right edge itself is taken, as BSD and
   Linux (tcp_sequence) take it, where RFC 9293's row 2 stops one short: it is where a
   sender that filled our window numbers its ACKs (SEG.SEQ = its SND.NXT; our bare_seq
   too), and refusing it left two tiny-buffer ends deaf to each other's ACKs. Unacceptable
   pure ACKs are 600 ms apart: like Linux, an ACK answers at most one such segment per
   500 ms. */
static void test_r05_zero_length_open_window(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = open_small(t, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    send_unacked(t, c, u, v, RBUF, 40);

    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_ACK, .seq = v + RBUF + 1, .ack = u + 40));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 40, .ack = v, .win = RBUF));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(600), IN(.flags = TW_ACK, .seq = v - 1, .ack = u + 40));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 40, .ack = v, .win = RBUF));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(info_snd_una(c), u);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_OUT_OF_WINDOW), 2);

    TW_SEND(t, tw_t_now(t) + TW_MS(600), IN(.flags = TW_ACK, .seq = v + RBUF - 1, .ack = u + 10));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(info_snd_una(c), u + 10);
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_ACK, .seq = v + RBUF, .ack = u + 15));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(info_snd_una(c), u + 15);
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_ACK, .seq = v + 7, .ack = u + 20));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(info_snd_una(c), u + 20);
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_ACK, .seq = v, .ack = u + 40));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(info_snd_una(c), u + 40);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_OUT_OF_WINDOW), 2);
    TW_EXPECT_NO_DEADLINE(t);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u + 40, .ack = v, .win = RBUF));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R5, open window, data (row 4): a segment is acceptable when it overlaps the window
   (its first or its last octet is in it, or it covers it all); what lies outside is trimmed (already-received bytes at the
   front, bytes beyond the window at the back). Entirely old or entirely beyond: ACK and
   drop. Ahead of RCV.NXT but inside: kept until the hole fills. */
static void test_r05_data_open_window(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = open_small(t, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    char b[RBUF + 100];

    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = v, .ack = u, .data = "0123456789", .len = 10));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 10, .win = RBUF - 10));
    /* Starts 5 before RCV.NXT, ends inside: the 5 old bytes are cut. */
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = v + 5, .ack = u, .data = "56789abcde", .len = 10));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 15, .win = RBUF - 15));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), 15);
    assert_memory_equal(b, "0123456789abcde", 15);
    v += 15;

    /* Entirely old: a duplicate, ACKed and dropped. */
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = v - 10, .ack = u, .data = "xxxxxxxxxx", .len = 10));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v, .win = RBUF));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_DUP_DATA), 1);
    /* Entirely beyond the window: ACKed and dropped. */
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = v + RBUF, .ack = u, .len = 10));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v, .win = RBUF));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_OUT_OF_WINDOW), 1);
    assert_int_equal(tw_socket_rx_pending(c), 0);

    /* Inside but ahead of RCV.NXT: kept, and the ACK still asks for RCV.NXT. */
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = v + 4, .ack = u, .data = "EFGH", .len = 4));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v, .win = RBUF));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_OOO), 1);
    assert_int_equal(tw_socket_rx_pending(c), 0);
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = v, .ack = u, .data = "ABCD", .len = 4));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 8, .win = RBUF - 8));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), 8);
    assert_memory_equal(b, "ABCDEFGH", 8);
    v += 8;

    /* Starts at RCV.NXT, ends beyond the window: only the window's worth is taken. */
    char big[RBUF + 100];
    for (size_t k = 0; k < sizeof big; k++) {
        big[k] = (char)('a' + k % 26);
    }
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = v, .ack = u, .data = big, .len = RBUF + 100));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + RBUF, .win = 0));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), RBUF);
    assert_memory_equal(b, big, RBUF);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + RBUF, .win = RBUF));
    TW_EXPECT_NOTHING(t);
    v += RBUF;

    /* Over the whole window: begins 5 before RCV.NXT and ends past the right edge, so
       neither its first nor its last octet is in the window (RFC 9293's row 4 read
       literally refuses it); it overlaps the window, as BSD and Linux take it: the old
       bytes are cut at the front, the ones beyond the window at the back. */
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = v - 5, .ack = u, .data = big, .len = RBUF + 100));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + RBUF, .win = 0));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), RBUF);
    assert_memory_equal(b, big + 5, RBUF);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + RBUF, .win = RBUF));
    TW_EXPECT_NOTHING(t);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u, .ack = v + RBUF, .win = RBUF));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R5, ACK checks (RFC 9293 3.10.7.4 fifth check): an old duplicate ACK (SEG.ACK <
   SND.UNA) is ignored but the segment's data is still taken; an ACK of data not yet sent
   (SEG.ACK > SND.NXT) gets an ACK and the whole segment is dropped; an ACK older than
   SND.UNA - MAX.SND.WND is discarded with an ACK (RFC 5961 5.2). */
static void test_r05_ack_checks(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    char d[100];
    memset(d, 'z', sizeof d);
    assert_int_equal(tw_socket_send(c, d, 100, tw_t_now(t)), 100);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = u, .ack = v, .win = 65535, .len = 100));
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = v, .ack = u + 60));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(info_snd_una(c), u + 60);

    /* Old duplicate ACK with data: the ACK changes nothing, the data is delivered. */
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = v, .ack = u + 30, .data = "late", .len = 4));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 100, .ack = v + 4, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(info_snd_una(c), u + 60);
    assert_int_equal(tw_socket_rx_pending(c), 4);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_OLD_ACK), 1);
    v += 4;

    /* ACK of unsent data: ACK back, segment dropped (its data too). */
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = v, .ack = u + 101, .data = "bogus", .len = 5));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u + 100, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_ACK_UNSENT), 1);
    assert_int_equal(tw_socket_rx_pending(c), 4);
    assert_int_equal(info_snd_una(c), u + 60);

    /* Far too old an ACK (before SND.UNA - MAX.SND.WND): discarded, data and all; its
       challenge ACK (RFC 5961 5.2) is held back, 10 ms after the last one (one per
       500 ms per connection, data or not, as Linux's tcp_send_challenge_ack). */
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = v, .ack = u - 70000, .data = "bogus", .len = 5));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_OLD_ACK), 2);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_CHALLENGE_ACK_LIMITED), 1);
    assert_int_equal(tw_socket_rx_pending(c), 4);

    /* The right ACK completes the transfer and stops the timer. */
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_ACK, .seq = v, .ack = u + 100));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(info_snd_una(c), u + 100);
    TW_EXPECT_NO_DEADLINE(t);
    char b[8];
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), 4);
    assert_memory_equal(b, "late", 4);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u + 100, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* R5 (RFC 9293 3.10.7.4 fifth check, "if the ACK bit is off, drop the segment"): in a
   synchronized state a segment without ACK is dropped silently, data and FIN included. */
static void test_r05_no_ack_bit_dropped(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t v = PEER_ISS + 1;
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_FIN | TW_PSH, .seq = v, .len = 10));
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_FIN, .seq = v));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_t_counter(t, TW_CNT_TCP_RX_NO_ACK_FLAG), 2);
    assert_int_equal(tw_socket_rx_pending(c), 0);
    assert_int_equal(tw_socket_state(c), TW_STATE_ESTABLISHED);
    assert_false(tw_socket_events(c) & TW_EV_PEER_CLOSED);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = y + 1, .ack = v, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TW_T_CASE(test_r05_zero_window_cases),
        TW_T_CASE(test_r05_zero_length_open_window),
        TW_T_CASE(test_r05_data_open_window),
        TW_T_CASE(test_r05_ack_checks),
        TW_T_CASE(test_r05_no_ack_bit_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
