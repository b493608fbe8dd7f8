/*
 * test_tcp_conn.c -- a new connection object's first contents (tcp_conn.h): the AVX2
 * forms, tw_socket_open's (tw_conn_open_wide, 32-byte runs from st->conn_wide) and a
 * passive open's child's (tw_conn_init_as), make every byte the 16-byte forms make,
 * whatever the object held before, for stack configurations that change the templated
 * settings; and an active open's first RTT sample (tw_rtt_sample_first) gives what the
 * estimator (tw_rtt_sample_as) gives.
 */
#include "core/tcp_conn.h"
#include "unit.h"

#include <string.h>

static int tx_drop(const uint8_t *pkt, size_t len, void *ud)
{
    (void)pkt;
    (void)len;
    (void)ud;
    return 0;
}

/* A listed object keeps no block here (a fresh socket's, freed: tcp_conn.h
   tw_conn_rings_kept): its rings' blocks and capacities as tw_conn_free_full leaves them,
   which the new object keeps. (Only the AVX2 forms' checks use it.) */
static __attribute__((unused)) void unkept(tw_socket *c)
{
    c->snd.buf = NULL;
    c->snd.cap = 0;
    c->rcv.buf = NULL;
    c->rcv.cap = 0;
}

/* The object tw_conn_open_wide sets up from the free list (filled with `poison` first,
   but for the list's link and its kept blocks, none) against tw_conn_init's on a buffer
   of other bytes. */
static void check_wide(const tw_config *cfg, const char *name, uint8_t poison)
{
    tw_netdev dev = {.transmit = tx_drop, .mtu = 1500};
    tw_stack *st = NULL;
    assert_int_equal(tw_stack_new(&st, cfg, &dev, 0), 0);
#if TW_CONN_WIDE
    if (!st->conn_wide_on) {
        printf("%s: no AVX2 on this CPU, tw_conn_open_wide not used\n", name);
        tw_stack_free(st);
        return;
    }
    /* (a socket kept open, so that the stack is not idle and keeps its free lists) */
    tw_socket *keep = NULL, *a = NULL;
    assert_int_equal(tw_socket_open(st, &keep), 0);
    assert_int_equal(tw_socket_open(st, &a), 0);
    assert_int_equal(tw_socket_close(a, 0), 0); /* (a fresh socket: freed, to the list) */
    uint8_t *head = st->mem.cache[TW_MC_CONN].head;
    if (head) {
        memset(head + sizeof(void *), poison, sizeof(tw_socket) - sizeof(void *));
        unkept((tw_socket *)(void *)head);
    } else {
        printf("%s: no free list in this build, the slow path's object checked\n", name);
    }
    tw_socket *w = NULL;
    assert_int_equal(tw_conn_open_wide(st, &w), 0);
    static union {
        tw_socket s;
        uint8_t b[sizeof(tw_socket)];
    } ref;
    memset(ref.b, (uint8_t)~poison, sizeof(ref.b));
    tw_conn_init(st, &ref.s, w->id);
    for (size_t i = 0; i < sizeof(tw_socket); i++) {
        if (i >= TW_CONN_ST_AT + 8 && i < TW_CONN_ST_AT + 16) {
            continue; /* (ack_next: left unset by tw_conn_init, tcp_conn.h) */
        }
        UNIT_EQ(((const uint8_t *)w)[i], ref.b[i], "%s: byte %zu of the new object", name, i);
    }
    assert_int_equal(tw_socket_close(w, 0), 0);
    /* (and a machine without AVX2's, st->conn_open's other choice, on the same object) */
    head = st->mem.cache[TW_MC_CONN].head;
    if (head) {
        memset(head + sizeof(void *), poison, sizeof(tw_socket) - sizeof(void *));
        unkept((tw_socket *)(void *)head);
    }
    w = NULL;
    assert_int_equal(tw_conn_open_narrow(st, &w), 0);
    memset(ref.b, (uint8_t)~poison, sizeof(ref.b));
    tw_conn_init(st, &ref.s, w->id);
    for (size_t i = 0; i < sizeof(tw_socket); i++) {
        if (i >= TW_CONN_ST_AT + 8 && i < TW_CONN_ST_AT + 16) {
            continue; /* (ack_next, as above) */
        }
        UNIT_EQ(((const uint8_t *)w)[i], ref.b[i], "%s: byte %zu of the narrow object", name, i);
    }
    assert_int_equal(tw_socket_close(w, 0), 0);
    assert_int_equal(tw_socket_close(keep, 0), 0);
#else
    (void)poison;
    printf("%s: no AVX2 form in this build (x86-64 GCC/clang only, not TW_PORTABLE)\n", name);
#endif
    tw_stack_free(st);
}

/* A passive open's child (tw_conn_init_as, `child`): its AVX2 form's bytes against the
   16-byte form's, both over other bytes, but for the two runs its caller fills
   (tcp_conn.h: the flags run and the prepared addresses), ack_next, which the 16-byte
   form leaves unset (read only once set: tcp_conn.h), and for a promoted child
   (TW_CONN_CHILD_PROMOTED) the link with the key and the 32 bytes req_promote fills. */
static void check_child_wide(const tw_config *cfg, const char *name, uint8_t poison,
                             unsigned child)
{
    tw_netdev dev = {.transmit = tx_drop, .mtu = 1500};
    tw_stack *st = NULL;
    assert_int_equal(tw_stack_new(&st, cfg, &dev, 0), 0);
#if TW_CONN_WIDE
    if (!st->conn_wide_on) {
        printf("%s: no AVX2 on this CPU, the child's wide form not used\n", name);
        tw_stack_free(st);
        return;
    }
    static union {
        tw_socket s;
        uint8_t b[sizeof(tw_socket)];
    } wide, narrow;
    memset(wide.b, poison, sizeof(wide.b));
    memset(narrow.b, (uint8_t)~poison, sizeof(narrow.b));
    tw_conn_init_as(st, &wide.s, 77, child, false);
    st->conn_wide_on = false;
    tw_conn_init_as(st, &narrow.s, 77, child, false);
    st->conn_wide_on = true;
    for (size_t i = 0; i < sizeof(tw_socket); i++) {
        if ((i >= TW_CONN_TMPL_FLAGS && i < TW_CONN_TMPL_FLAGS + 16) || i >= TW_CONN_OUT_AT) {
            continue; /* (the caller's) */
        }
        if (i >= TW_CONN_ST_AT + 8 && i < TW_CONN_ST_AT + 16) {
            continue; /* (ack_next: left unset by the 16-byte form, tcp_conn.h) */
        }
        if (child == TW_CONN_CHILD_PROMOTED &&
            (i < TW_CONN_LINK_END || (i >= TW_CONN_TMPL_FLAGS && i < TW_CONN_PROMOTED_END))) {
            continue; /* (req_promote's: tcp_conn.h TW_CONN_CHILD_PROMOTED) */
        }
        UNIT_EQ(wide.b[i], narrow.b[i], "%s: byte %zu of a child", name, i);
    }
#else
    (void)poison;
    (void)child;
    printf("%s: no AVX2 form in this build (x86-64 GCC/clang only, not TW_PORTABLE)\n", name);
#endif
    tw_stack_free(st);
}

static void test_conn_open_wide(void **state)
{
    (void)state;
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.addr = 0x0a000001u;
    check_wide(&cfg, "default", 0xa5);
    check_wide(&cfg, "default, ones", 0xff);
    cfg.cc = TW_CC_NEWRENO;
    cfg.rcvbuf = 12345;
    cfg.sndbuf = 54321;
    cfg.rto_initial = TW_MS(250);
    check_wide(&cfg, "newreno, own buffers and RTO", 0x5a);
}

static void test_conn_child_wide(void **state)
{
    (void)state;
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.addr = 0x0a000001u;
    check_child_wide(&cfg, "child, default", 0xa5, TW_CONN_CHILD);
    check_child_wide(&cfg, "promoted child, default", 0x5a, TW_CONN_CHILD_PROMOTED);
    cfg.rto_initial = TW_MS(300);
    check_child_wide(&cfg, "child, own RTO", 0x00, TW_CONN_CHILD);
    check_child_wide(&cfg, "promoted child, own RTO", 0xff, TW_CONN_CHILD_PROMOTED);
}

/* tw_rtt_sample_first (an active open's first RTT sample: the RTO without the
   estimator's bounds below st->rtt_first_short) gives the estimator's SRTT, RTTVAR and
   RTO for samples on both sides of that bound, for RTO settings that move it. */
static void check_rtt_first(const tw_config *cfg, const char *name)
{
    tw_netdev dev = {.transmit = tx_drop, .mtu = 1500};
    tw_stack *st = NULL;
    assert_int_equal(tw_stack_new(&st, cfg, &dev, 0), 0);
    tw_socket *c = NULL;
    assert_int_equal(tw_socket_open(st, &c), 0);
    const tw_time b = st->rtt_first_short;
    const tw_time rs[] = {0, 1, 2, 3, TW_US(500), TW_MS(1), TW_MS(99), TW_MS(100),
                          TW_MS(100) + 1, TW_MS(101), TW_SEC(1), TW_SEC(70), TW_SEC(200),
                          b > 1 ? b - 2 : 0, b ? b - 1 : 0, b, b + 1, b + 2};
    for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
        tw_socket want = *c, got = *c;
        want.srtt = got.srtt = 0;
        tw_rtt_sample_as(st, &want, rs[i], true);
        tw_rtt_sample_first(st, &got, rs[i]);
        if (got.srtt != want.srtt || got.rttvar != want.rttvar || got.rto != want.rto) {
            printf("%s: sample %llu: srtt %llu/%llu rttvar %llu/%llu rto %llu/%llu\n", name,
                   (unsigned long long)rs[i], (unsigned long long)got.srtt,
                   (unsigned long long)want.srtt, (unsigned long long)got.rttvar,
                   (unsigned long long)want.rttvar, (unsigned long long)got.rto,
                   (unsigned long long)want.rto);
            fail();
        }
    }
    assert_int_equal(tw_socket_close(c, 0), 0);
    tw_stack_free(st);
}

static void test_rtt_first(void **state)
{
    (void)state;
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.addr = 0x0a000001u;
    check_rtt_first(&cfg, "default");
    cfg.rto_min = TW_MS(10);
    check_rtt_first(&cfg, "rto_min 10 ms");
    cfg.rto_min = TW_SEC(1);
    cfg.rto_max = TW_MS(1200);
    check_rtt_first(&cfg, "rto_max 200 ms above rto_min");
    cfg.rto_max = TW_SEC(1);
    check_rtt_first(&cfg, "rto_max = rto_min");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conn_open_wide),
        cmocka_unit_test(test_conn_child_wide),
        cmocka_unit_test(test_rtt_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
