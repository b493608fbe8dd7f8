/*
 * test_flags.c -- header flags parsed and produced exactly (SPEC S18; RFC 9293 3.1, 3.9.1
 * SEND/PUSH, 3.10.7; RFC 6093 urgent data; RFC 3168 6.1.1 for ECE/CWR on a SYN).
 *
 * What each flag must do here: ACK -- the acknowledgment field counts only when it is
 * set, and is zero in what we send without it; PSH -- set on the segment that empties
 * our send buffer, and received data is delivered at once; URG -- urgent data is
 * delivered inline as ordinary bytes (RFC 6093), and we never send URG; ECE/CWR -- we do
 * not negotiate ECN, so a SYN asking for it gets a plain SYN+ACK and the bits are ignored
 * on data.
 */
#include "tw_test.h"

#include <string.h>

#define PEER_ISS 1000u

/* S18, PSH (RFC 9293 3.9.1 SEND, 3.10.7.4 seventh): our last segment of a write carries
   PSH, and so does every second full-sized one before it (Linux's placement: its skbs of
   two segments, tests/oracle/t_psh.py); data the peer pushes is readable at once. */
static void test_s18_psh(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    char d[1200];
    memset(d, 'p', sizeof d);
    assert_int_equal(tw_socket_send(c, d, sizeof d, tw_t_now(t)), 1200);
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v, .win = 65535, .len = 536));
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = u + 536, .ack = v, .win = 65535,
                     .len = 536));
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = u + 1072, .ack = v, .win = 65535,
                     .len = 128));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = v, .ack = u + 1200));
    TW_EXPECT_NOTHING(t);
    u += 1200;

    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK | TW_PSH, .seq = v, .ack = u, .data = "now", .len = 3));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 3, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_true(tw_socket_events(c) & TW_EV_READABLE);
    char b[8];
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), 3);
    assert_memory_equal(b, "now", 3);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u, .ack = v + 3, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S18, ACK (RFC 9293 3.1: "the acknowledgment number ... if the ACK control bit is set"):
   the field is ignored without the bit -- in a SYN at a listener, in a segment for no
   connection (the RST then takes SEQ=0, not the field), and in a RST in SYN-SENT that
   would be acceptable if the bit were set. */
static void test_s18_ack_field_only_with_ack_flag(void **state)
{
    tw_t *t = *state;
    TW_SEND(t, T0, IN(.dport = 9999, .flags = TW_FIN, .seq = 300, .ack = 0xdeadbeefu));
    TW_EXPECT(t, OUT(.sport = 9999, .flags = TW_RST | TW_ACK, .seq = 0, .ack = 301, .win = 0));
    TW_EXPECT_NOTHING(t);

    tw_socket *l = tw_t_listen(t, LPORT, 8);
    TW_SEND(t, T0, IN(.flags = TW_SYN, .seq = PEER_ISS, .ack = 0xdeadbeefu));
    tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK, .ack = PEER_ISS + 1, .win = 65535,
                                   .opts = TW_OPT_MSS, .mss = 1460, .any = TW_T_ANY_SEQ));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, T0, IN(.flags = TW_RST, .seq = PEER_ISS + 1));
    TW_EXPECT_NOTHING(t);
    tw_socket_close(l, T0);
    (void)sa;

    tw_socket *s = tw_t_connect(t, PEER, PPORT, LPORT);
    tw_t_seg syn = TW_EXPECT(t, OUT(.flags = TW_SYN, .ack = 0, .win = 65535,
                                    .any = TW_T_ANY_SEQ | TW_T_ANY_OPTS));
    TW_SEND(t, T0 + TW_MS(10), IN(.flags = TW_RST, .seq = 0, .ack = syn.seq + 1));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(s), TW_STATE_SYN_SENT);
    assert_int_equal(tw_socket_error(s), 0);
    tw_socket_abort(s, tw_t_now(t));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S18, URG (RFC 9293 3.8.5 as updated by RFC 6093 5): urgent data is delivered inline, in
   order, with no byte taken out of the stream; what we send never has URG or an urgent
   pointer. */
static void test_s18_urg_inline(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_ACK | TW_URG | TW_PSH, .seq = v, .ack = u,
                                           .urg = 3, .data = "abcdef", .len = 6));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 6, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(10),
            IN(.flags = TW_ACK, .seq = v + 6, .ack = u, .data = "gh", .len = 2));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 8, .win = 65535));
    TW_EXPECT_NOTHING(t);
    char b[16];
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), 8);
    assert_memory_equal(b, "abcdefgh", 8);
    assert_int_equal(tw_socket_send(c, "reply", 5, tw_t_now(t)), 5);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = u, .ack = v + 8, .win = 65535, .len = 5,
                     .urg = 0));
    TW_EXPECT_NOTHING(t);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u + 5, .ack = v + 8, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S18, ECE/CWR (RFC 3168 6.1.1): a SYN with ECE and CWR asks for ECN, which the default
   (ecn 2, Linux's net.ipv4.tcp_ecn default) accepts: the SYN+ACK carries ECE alone.
   Then ECE/CWR bits on data are parsed (CWR: no CE was seen, no echo to end; ECE with
   nothing in flight: no reduction) and the data is taken as any other. */
static void test_s18_ece_cwr(void **state)
{
    tw_t *t = *state;
    tw_socket *l = tw_t_listen(t, LPORT, 8);
    TW_SEND(t, T0, IN(.flags = TW_SYN | TW_ECE | TW_CWR, .seq = PEER_ISS));
    tw_t_seg sa = TW_EXPECT(t, OUT(.flags = TW_SYN | TW_ACK | TW_ECE, .ack = PEER_ISS + 1,
                                   .win = 65535, .opts = TW_OPT_MSS, .mss = 1460,
                                   .any = TW_T_ANY_SEQ));
    TW_EXPECT_NOTHING(t);
    uint32_t u = sa.seq + 1, v = PEER_ISS + 1;
    TW_SEND(t, T0 + TW_MS(100), IN(.flags = TW_ACK, .seq = v, .ack = u));
    tw_socket *c;
    assert_int_equal(tw_socket_accept(l, &c, tw_t_now(t)), 0);
    tw_socket_close(l, tw_t_now(t));
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_ACK | TW_ECE | TW_CWR | TW_PSH, .seq = v,
                                           .ack = u, .data = "ecn?", .len = 4));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 4, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_rx_pending(c), 4);
    assert_int_equal(tw_socket_send(c, "no", 2, tw_t_now(t)), 2);
    TW_EXPECT(t, OUT(.flags = TW_ACK | TW_PSH, .seq = u, .ack = v + 4, .win = 65535, .len = 2));
    TW_EXPECT_NOTHING(t);
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK | TW_ECE, .seq = v + 4, .ack = u + 2));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_tx_pending(c), 0);
    char b[8];
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), 4);
    tw_socket_abort(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_RST | TW_ACK, .seq = u + 2, .ack = v + 4, .win = 65535));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

/* S18, FIN with data and PSH in one segment (RFC 9293 3.10.7.4 seventh then eighth):
   the data is delivered, then end of stream; the ACK covers data and FIN. */
static void test_s18_fin_psh_with_data(void **state)
{
    tw_t *t = *state;
    uint32_t y;
    tw_socket *c = TW_PASSIVE_OPEN(t, PEER_ISS, &y);
    uint32_t u = y + 1, v = PEER_ISS + 1;
    TW_SEND(t, tw_t_now(t) + TW_MS(10), IN(.flags = TW_FIN | TW_PSH | TW_ACK, .seq = v, .ack = u,
                                           .data = "last words", .len = 10));
    TW_EXPECT(t, OUT(.flags = TW_ACK, .seq = u, .ack = v + 11, .win = 65535));
    TW_EXPECT_NOTHING(t);
    assert_int_equal(tw_socket_state(c), TW_STATE_CLOSE_WAIT);
    char b[16];
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), 10);
    assert_memory_equal(b, "last words", 10);
    assert_int_equal(tw_socket_recv(c, b, sizeof b, tw_t_now(t)), 0);
    tw_socket_close(c, tw_t_now(t));
    TW_EXPECT(t, OUT(.flags = TW_FIN | TW_ACK, .seq = u, .ack = v + 11, .win = 65535));
    TW_SEND(t, tw_t_now(t) + TW_MS(100), IN(.flags = TW_ACK, .seq = v + 11, .ack = u + 1));
    TW_EXPECT_NOTHING(t);
    TW_ASSERT_IDLE(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TW_T_CASE(test_s18_psh),
        TW_T_CASE(test_s18_ack_field_only_with_ack_flag),
        TW_T_CASE(test_s18_urg_inline),
        TW_T_CASE(test_s18_ece_cwr),
        TW_T_CASE(test_s18_fin_psh_with_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
