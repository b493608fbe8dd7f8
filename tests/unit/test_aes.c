/*
 * test_aes.c -- AES-128, the ISN's PRF (SPEC R6; RFC 6528 3), against FIPS-197's worked
 * examples, and the AES-NI form against the portable one bit for bit: a seeded run must
 * give the same ISNs on a machine with AES-NI and on one without.
 */
#include "core/aes.h"
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
        tw_aes128 a;
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
    tw_aes128 a;
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
        tw_aes128 soft, ni;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_r06_aes_fips197_vectors),
        cmocka_unit_test(test_r06_aes_key_expansion),
        cmocka_unit_test(test_r06_aes_prf64_both_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
