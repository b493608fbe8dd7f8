/*
 * test_aes.c -- AES-128, the ISN's PRF (SPEC R6; RFC 6528 3), against FIPS-197's worked
 * examples, and the AES-NI form against the portable one bit for bit, alone and as a
 * stack uses them: a seeded run must give the same ISNs on a machine with AES-NI and on
 * one without.
 */
#include "core/aes.h"
#include "core/stack.h"
#include "tw_test.h"
#include "unit.h"

#include <string.h>

static void hex16(const char *h, uint8_t out[16])
{
    for (int i = 0; i < 16; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static const struct {
    const char *key, *in, *out;
} vectors[] = {
    /* FIPS-197 Appendix B (the cipher example) */
    {"2b7e151628aed2a6abf7158809cf4f3c", "3243f6a8885a308d313198a2e0370734",
     "3925841d02dc09fbdc118597196a0b32"},
    /* FIPS-197 Appendix C.1 (AES-128) */
    {"000102030405060708090a0b0c0d0e0f", "00112233445566778899aabbccddeeff",
     "69c4e0d86a7b0430d8cdb78070b4c55a"},
};

static void test_r06_aes_fips197_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        uint8_t key[16], in[16], want[16], got[16];
        hex16(vectors[i].key, key);
        hex16(vectors[i].in, in);
        hex16(vectors[i].out, want);
        _Alignas(16) tw_aes128 a; /* (AES-NI reads its keys in place: aes.h) */
        tw_aes128_init(&a, key, false);
        assert_false(a.ni);
        tw_aes128_encrypt_soft(&a, in, got);
        assert_memory_equal(got, want, 16);
        if (tw_aes_have_ni()) {
            tw_aes128_init(&a, key, true);
            assert_true(a.ni);
            memset(got, 0, sizeof(got));
            tw_aes128_encrypt_ni(&a, in, got);
            assert_memory_equal(got, want, 16);
        } else {
            print_message("(no AES-NI on this CPU: its form not checked)\n");
        }
    }
}

/* FIPS-197 Appendix A.1: the last round key of the 2b7e... key. */
static void test_r06_aes_key_expansion(void **state)
{
    (void)state;
    uint8_t key[16], last[16];
    hex16("2b7e151628aed2a6abf7158809cf4f3c", key);
    hex16("d014f9a8c9ee2589e13f0cc8b6630ca6", last);
    _Alignas(16) tw_aes128 a;
    tw_aes128_init(&a, key, false);
    assert_memory_equal(a.rk, key, 16);
    assert_memory_equal(a.rk + 160, last, 16);
}

/* tw_aes128_prf64 is the first 8 bytes of the block's encryption, lo's bytes then hi's,
   little-endian, on both paths, for any key and block. */
static void test_r06_aes_prf64_both_paths(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    for (int i = 0; i < 2000; i++) {
        uint8_t key[16], in[16], out[16];
        uint64_t k0 = unit_next(&r), k1 = unit_next(&r), lo = unit_next(&r), hi = unit_next(&r);
        for (int j = 0; j < 8; j++) {
            key[j] = (uint8_t)(k0 >> (8 * j));
            key[8 + j] = (uint8_t)(k1 >> (8 * j));
            in[j] = (uint8_t)(lo >> (8 * j));
            in[8 + j] = (uint8_t)(hi >> (8 * j));
        }
        _Alignas(16) tw_aes128 soft;
        _Alignas(16) tw_aes128 ni;
        tw_aes128_init(&soft, key, false);
        tw_aes128_init(&ni, key, true);
        tw_aes128_encrypt_soft(&soft, in, out);
        uint64_t want = 0;
        for (int j = 0; j < 8; j++) {
            want |= (uint64_t)out[j] << (8 * j);
        }
        UNIT_EQ(tw_aes128_prf64(&soft, lo, hi), want, "iteration %d (portable)", i);
        UNIT_EQ(tw_aes128_prf64(&ni, lo, hi), want, "iteration %d (AES-NI: %d)", i, ni.ni);
    }
}

/* Our SYN's sequence number and TSval for a connect from `lport` to addr:PPORT (timestamps
   on), the attempt then aborted (nothing is sent in SYN-SENT for that). */
static tw_t_seg active_syn(tw_t *t, uint32_t addr, uint16_t lport)
{
    tw_socket *s = tw_t_connect(t, addr, PPORT, lport);
    tw_t_seg syn = TW_EXPECT(t, OUT(.dst = addr, .sport = lport, .flags = TW_SYN, .win = 65535,
                                    .any = TW_T_ANY_SEQ | TW_T_ANY_OPTS));
    tw_socket_abort(s, tw_t_now(t));
    TW_EXPECT_NOTHING(t);
    return syn;
}

/* Our SYN+ACK's sequence number and TSval for a SYN with timestamps from addr:pport to
   the listener on LPORT; the peer then resets the half-open connection. */
static tw_t_seg passive_synack(tw_t *t, uint32_t addr, uint16_t pport)
{
    TW_SEND(t, tw_t_now(t), IN(.src = addr, .sport = pport, .flags = TW_SYN, .seq = 77,
                               .opts = TW_OPT_TS, .ts_val = 5));
    tw_t_seg sa = TW_EXPECT(t, OUT(.dst = addr, .dport = pport, .flags = TW_SYN | TW_ACK,
                                   .ack = 78, .any = TW_T_ANY_SEQ | TW_T_ANY_OPTS |
                                   TW_T_ANY_WIN));
    TW_SEND(t, tw_t_now(t), IN(.src = addr, .sport = pport, .flags = TW_RST, .seq = 78));
    TW_EXPECT_NOTHING(t);
    return sa;
}

/* R6 on a machine without AES-NI: a stack whose key has no AES-NI (isn_aes.ni clear, as
   tw_aes128_init leaves it there or when an allocator gives less than 16-byte alignment)
   gives every connect's and every SYN+ACK's ISN and TSval exactly as one with it, for
   the peer hashed last (which only the AES-NI stack keeps, stack.h isn_mid_peer) and for
   others, in turn. */
static void test_r06_stack_isns_without_ni(void **state)
{
    (void)state;
    if (!tw_aes_have_ni()) {
        skip(); /* (both stacks would take the portable form) */
    }
    tw_t *ni = tw_t_new(NULL), *soft = tw_t_new(NULL); /* (the same entropy) */
    assert_true(tw_t_stack(ni)->isn_aes.ni);
    tw_t_stack(soft)->isn_aes.ni = false;
    /* (and no peer kept, with connect's usual steps off, as tw_stack_new leaves a stack
       without AES-NI: stack.c) */
    tw_t_stack(soft)->isn_mid_peer = 0;
    tw_t_stack(soft)->good_peer = TW_GOOD_PEER_NONE;
    tw_t_stack(soft)->isn_mid = tw_t_stack(soft)->cfg.addr;
    tw_stack_connect_plain_set(tw_t_stack(soft), 0);
    static const uint32_t peers[] = {PEER, PEER, PEER + 1, PEER, 0x0a000002u, 0x0a000002u, PEER};
    tw_socket *ln = tw_t_listen(ni, LPORT, 8), *ls = tw_t_listen(soft, LPORT, 8);
    for (unsigned i = 0; i < sizeof peers / sizeof peers[0]; i++) {
        for (unsigned k = 0; k < 3; k++) {
            uint16_t port = (uint16_t)(20000 + 3 * i + k);
            tw_t_seg a = active_syn(ni, peers[i], port), b = active_syn(soft, peers[i], port);
            UNIT_EQ(b.seq, a.seq, "connect %u.%u: the SYN's ISN", i, k);
            UNIT_EQ(b.ts_val, a.ts_val, "connect %u.%u: the SYN's TSval", i, k);
            a = passive_synack(ni, peers[i], port);
            b = passive_synack(soft, peers[i], port);
            UNIT_EQ(b.seq, a.seq, "SYN %u.%u: the SYN+ACK's ISN", i, k);
            UNIT_EQ(b.ts_val, a.ts_val, "SYN %u.%u: the SYN+ACK's TSval", i, k);
        }
        tw_t_advance(ni, tw_t_now(ni) + TW_MS(3));
        tw_t_advance(soft, tw_t_now(soft) + TW_MS(3));
    }
    assert_int_equal(tw_t_stack(soft)->isn_mid_peer, 0); /* (no peer kept without AES-NI) */
    assert_true(tw_t_stack(soft)->good_peer == TW_GOOD_PEER_NONE);
    tw_socket_close(ln, tw_t_now(ni));
    tw_socket_close(ls, tw_t_now(soft));
    TW_ASSERT_IDLE(ni);
    TW_ASSERT_IDLE(soft);
    tw_t_free(ni);
    tw_t_free(soft);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_r06_aes_fips197_vectors),
        cmocka_unit_test(test_r06_aes_key_expansion),
        cmocka_unit_test(test_r06_aes_prf64_both_paths),
        cmocka_unit_test(test_r06_stack_isns_without_ni),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
