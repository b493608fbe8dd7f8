/*
 * test_wr.c -- bounds-checked big-endian writer with a sticky error (wr.h).
 *
 * Output builders write whole headers and check `err` once; a write that does not fit
 * must not touch a byte past the capacity.
 */
#include "core/wr.h"
#include "core/rd.h"
#include "unit.h"

#include <string.h>

static void test_wr_big_endian_fields(void **state)
{
    (void)state;
    uint8_t buf[12];
    memset(buf, 0xaa, sizeof(buf));
    tw_wr w = tw_wr_make(buf, 11);
    tw_wr_u8(&w, 0x01);
    tw_wr_u16(&w, 0x0203);
    tw_wr_u32(&w, 0x04050607u);
    tw_wr_bytes(&w, "\x08\x09\xfe\xff", 4);
    assert_false(w.err);
    assert_int_equal(tw_wr_len(&w), 11);
    static const uint8_t want[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                                   0x07, 0x08, 0x09, 0xfe, 0xff, 0xaa};
    assert_memory_equal(buf, want, sizeof(want));
}

/* A write one byte too big for what is left fails whole: nothing written, error set,
   length unchanged, and every later write fails too. */
static void test_wr_overflow_is_whole_and_sticky(void **state)
{
    (void)state;
    for (size_t cap = 0; cap < 4; cap++) {
        uint8_t buf[8];
        memset(buf, 0xaa, sizeof(buf));
        tw_wr w = tw_wr_make(buf, cap);
        tw_wr_u32(&w, 0x01020304u);
        assert_true(w.err);
        assert_int_equal(tw_wr_len(&w), 0);
        for (size_t i = 0; i < sizeof(buf); i++) {
            UNIT_EQ(buf[i], 0xaa, "cap %zu byte %zu", cap, i);
        }
        tw_wr_u8(&w, 1); /* would fit when cap >= 1, but the error is sticky */
        assert_int_equal(tw_wr_len(&w), 0);
        assert_int_equal(buf[0], 0xaa);
    }
    uint8_t buf[4] = {0};
    tw_wr w = tw_wr_make(buf, 3);
    tw_wr_u16(&w, 0x0102);
    tw_wr_u16(&w, 0x0304);
    assert_true(w.err);
    assert_int_equal(tw_wr_len(&w), 2);
    assert_int_equal(buf[2], 0);
    w = tw_wr_make(buf, 3);
    tw_wr_bytes(&w, "abcd", 4);
    assert_true(w.err);
    assert_int_equal(tw_wr_len(&w), 0);
}

static void test_wr_exact_fit_and_empty_copy(void **state)
{
    (void)state;
    uint8_t buf[4];
    tw_wr w = tw_wr_make(buf, 4);
    tw_wr_u32(&w, 0xdeadbeefu);
    assert_false(w.err);
    tw_wr_bytes(&w, "x", 0); /* copying nothing into a full buffer is not an error */
    assert_false(w.err);
    assert_int_equal(tw_wr_len(&w), 4);
    tw_wr_u8(&w, 0);
    assert_true(w.err);
}

/* Whatever wr.h writes, rd.h reads back (and tw_put16/32 agree with tw_get16/32). */
static void test_wr_round_trip_with_rd(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    for (int i = 0; i < 1000; i++) {
        uint8_t buf[7];
        uint8_t a = (uint8_t)unit_next(&r);
        uint16_t b = (uint16_t)unit_next(&r);
        uint32_t c = (uint32_t)unit_next(&r);
        tw_wr w = tw_wr_make(buf, sizeof(buf));
        tw_wr_u8(&w, a);
        tw_wr_u16(&w, b);
        tw_wr_u32(&w, c);
        assert_false(w.err);
        tw_rd rd = tw_rd_make(buf, sizeof(buf));
        UNIT_EQ(tw_rd_u8(&rd), a, "iteration %d", i);
        UNIT_EQ(tw_rd_u16(&rd), b, "iteration %d", i);
        UNIT_EQ(tw_rd_u32(&rd), c, "iteration %d", i);
        uint8_t p[4];
        tw_put16(p, b);
        UNIT_EQ(tw_get16(p), b, "iteration %d", i);
        tw_put32(p, c);
        UNIT_EQ(tw_get32(p), c, "iteration %d", i);
        assert_memory_equal(p, buf + 3, 4);
    }
}

/* tw_store_be16_zero16 writes what tw_store_be32(p, v << 16) writes, for every v. */
static void test_wr_store_be16_zero16(void **state)
{
    (void)state;
    for (uint32_t v = 0; v <= 0xffffu; v++) {
        uint8_t a[6] = {0xaa, 1, 2, 3, 4, 0xbb}, b[6] = {0xaa, 1, 2, 3, 4, 0xbb};
        tw_store_be16_zero16(a + 1, (uint16_t)v);
        tw_store_be32(b + 1, v << 16);
        assert_memory_equal(a, b, 6);
        assert_int_equal(a[1], v >> 8);
        assert_int_equal(a[2], v & 0xff);
        assert_int_equal(a[3] | a[4], 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wr_big_endian_fields),
        cmocka_unit_test(test_wr_overflow_is_whole_and_sticky),
        cmocka_unit_test(test_wr_exact_fit_and_empty_copy),
        cmocka_unit_test(test_wr_round_trip_with_rd),
        cmocka_unit_test(test_wr_store_be16_zero16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
