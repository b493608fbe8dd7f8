/*
 * test_siphash.c -- SipHash-2-4 against the published test vectors.
 *
 * The SipHash paper (Aumasson, Bernstein; appendix A) and its reference code fix a test
 * key 00 01 .. 0f and messages 00 01 .. (n-1) for n = 0..63. The ISN of RFC 6528 (SPEC R6)
 * is only unpredictable if this really is SipHash, so we check the outputs bit for bit.
 */
#include "core/siphash.h"
#include "unit.h"

#include <string.h>

/* Output for the n-byte message 00..n-1, as the 64-bit little-endian value. */
static const struct {
    size_t n;
    uint64_t out;
} vectors[] = {
    {0, 0x726fdb47dd0e0e31ull},  {1, 0x74f839c593dc67fdull},  {2, 0x0d6c8009d9a94f5aull},
    {3, 0x85676696d7fb7e2dull},  {4, 0xcf2794e0277187b7ull},  {5, 0x18765564cd99a68dull},
    {6, 0xcbc9466e58fee3ceull},  {7, 0xab0200f58b01d137ull},  {8, 0x93f5f5799a932462ull},
    {9, 0x9e0082df0ba9e4b0ull},  {15, 0xa129ca6149be45e5ull}, /* the paper's worked example */
    {16, 0x3f2acc7f57c29bdbull}, {63, 0x958a324ceb064572ull},
};

static tw_sipkey test_key(void)
{
    /* key bytes 00..0f read as two little-endian 64-bit words */
    tw_sipkey k = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
    return k;
}

static void test_siphash_reference_vectors(void **state)
{
    (void)state;
    uint8_t msg[64];
    for (size_t i = 0; i < sizeof(msg); i++) {
        msg[i] = (uint8_t)i;
    }
    tw_sipkey k = test_key();
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        UNIT_EQ(tw_siphash(&k, msg, vectors[i].n), vectors[i].out, "message length %zu",
                vectors[i].n);
    }
}

/* The 4x32 shortcut is specified as SipHash of the 16 little-endian bytes of a, b, c, d. */
static void test_siphash_4x32_equals_bytes(void **state)
{
    (void)state;
    tw_sipkey k = test_key();
    /* 00..0f as four little-endian words is vector n = 16 */
    assert_int_equal(tw_siphash_4x32(&k, 0x03020100u, 0x07060504u, 0x0b0a0908u, 0x0f0e0d0cu),
                     0x3f2acc7f57c29bdbull);
    unit_rng r = unit_rng_seeded(__func__);
    for (int i = 0; i < 2000; i++) {
        tw_sipkey rk = {unit_next(&r), unit_next(&r)};
        uint32_t w[4];
        uint8_t b[16];
        for (int j = 0; j < 4; j++) {
            w[j] = (uint32_t)unit_next(&r);
            for (int byte = 0; byte < 4; byte++) {
                b[4 * j + byte] = (uint8_t)(w[j] >> (8 * byte));
            }
        }
        UNIT_EQ(tw_siphash_4x32(&rk, w[0], w[1], w[2], w[3]), tw_siphash(&rk, b, 16),
                "iteration %d", i);
    }
}

/* A keyed PRF: every key bit and every message bit must change the output (a cheap
   guard against a key word or a tail byte being dropped). */
static void test_siphash_every_bit_matters(void **state)
{
    (void)state;
    tw_sipkey k = test_key();
    uint8_t msg[15];
    for (size_t i = 0; i < sizeof(msg); i++) {
        msg[i] = (uint8_t)i;
    }
    uint64_t base = tw_siphash(&k, msg, sizeof(msg));
    for (unsigned bit = 0; bit < 128; bit++) {
        tw_sipkey k2 = k;
        if (bit < 64) {
            k2.k0 ^= 1ull << bit;
        } else {
            k2.k1 ^= 1ull << (bit - 64);
        }
        if (tw_siphash(&k2, msg, sizeof(msg)) == base) {
            fail_msg("key bit %u ignored", bit);
        }
    }
    for (size_t bit = 0; bit < 8 * sizeof(msg); bit++) {
        uint8_t m2[sizeof(msg)];
        memcpy(m2, msg, sizeof(msg));
        m2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (tw_siphash(&k, m2, sizeof(m2)) == base) {
            fail_msg("message bit %zu ignored", bit);
        }
    }
    /* the length is part of the input: a trailing zero byte is not padding */
    uint8_t z[8] = {0};
    assert_true(tw_siphash(&k, z, 7) != tw_siphash(&k, z, 8));
    assert_true(tw_siphash(&k, z, 0) != tw_siphash(&k, z, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_reference_vectors),
        cmocka_unit_test(test_siphash_4x32_equals_bytes),
        cmocka_unit_test(test_siphash_every_bit_matters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
