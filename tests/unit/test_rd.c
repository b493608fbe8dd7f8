/*
 * test_rd.c -- bounds-checked big-endian reader with a sticky error (rd.h).
 *
 * Every parser of received bytes stands on this: a read past the end must return 0, set
 * `err`, and keep it set, so a header parsed field by field is checked once (SPEC R8).
 */
#include "core/rd.h"
#include "unit.h"

static const uint8_t bytes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0xfe, 0xff};

static void test_rd_big_endian_fields(void **state)
{
    (void)state;
    tw_rd r = tw_rd_make(bytes, sizeof(bytes));
    assert_int_equal(tw_rd_left(&r), 11);
    assert_int_equal(tw_rd_u8(&r), 0x01);
    assert_int_equal(tw_rd_u16(&r), 0x0203);
    assert_int_equal(tw_rd_u32(&r), 0x04050607u);
    assert_int_equal(tw_rd_left(&r), 4);
    tw_rd_skip(&r, 1);
    assert_int_equal(tw_rd_u16(&r), 0x09fe);
    assert_int_equal(tw_rd_u8(&r), 0xff);
    assert_int_equal(tw_rd_left(&r), 0);
    assert_false(r.err);
    /* high bit set in every position: no sign extension */
    static const uint8_t ones[] = {0xff, 0xff, 0xff, 0xff};
    r = tw_rd_make(ones, 4);
    assert_int_equal(tw_rd_u32(&r), 0xffffffffu);
    r = tw_rd_make(ones, 4);
    assert_int_equal(tw_rd_u16(&r), 0xffff);
    assert_int_equal(tw_rd_u8(&r), 0xff);
    assert_false(r.err);
}

/* Reads of every width that run one byte short: 0, error set, position unchanged. */
static void test_rd_short_reads_fail(void **state)
{
    (void)state;
    for (size_t have = 0; have < 4; have++) {
        tw_rd r = tw_rd_make(bytes, have);
        assert_int_equal(tw_rd_u32(&r), 0);
        assert_true(r.err);
        assert_int_equal(tw_rd_left(&r), have);
    }
    for (size_t have = 0; have < 2; have++) {
        tw_rd r = tw_rd_make(bytes, have);
        assert_int_equal(tw_rd_u16(&r), 0);
        assert_true(r.err);
    }
    tw_rd r = tw_rd_make(bytes, 0);
    assert_int_equal(tw_rd_u8(&r), 0);
    assert_true(r.err);

    r = tw_rd_make(bytes, 3);
    assert_null(tw_rd_bytes(&r, 4));
    assert_true(r.err);

    r = tw_rd_make(bytes, 3);
    tw_rd_skip(&r, 4);
    assert_true(r.err);
    assert_int_equal(tw_rd_left(&r), 3);
}

/* Once an error is set, even reads that would fit return 0. */
static void test_rd_error_is_sticky(void **state)
{
    (void)state;
    tw_rd r = tw_rd_make(bytes, sizeof(bytes));
    tw_rd_skip(&r, 9);
    assert_int_equal(tw_rd_u32(&r), 0); /* 2 left: fails */
    assert_true(r.err);
    assert_int_equal(tw_rd_u8(&r), 0);  /* would fit */
    assert_int_equal(tw_rd_u16(&r), 0); /* would fit */
    assert_null(tw_rd_bytes(&r, 1));
    assert_false(tw_rd_need(&r, 0));
    assert_true(r.err);
}

static void test_rd_bytes_view_and_exact_end(void **state)
{
    (void)state;
    tw_rd r = tw_rd_make(bytes, sizeof(bytes));
    const uint8_t *p = tw_rd_bytes(&r, 3);
    assert_ptr_equal(p, bytes);
    p = tw_rd_bytes(&r, 8); /* exactly the rest */
    assert_ptr_equal(p, bytes + 3);
    assert_int_equal(tw_rd_left(&r), 0);
    p = tw_rd_bytes(&r, 0); /* a zero-length view at the end is fine */
    assert_non_null(p);
    assert_false(r.err);
    assert_int_equal(tw_get16(bytes + 9), 0xfeff);
    assert_int_equal(tw_get32(bytes + 7), 0x0809feffu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rd_big_endian_fields),
        cmocka_unit_test(test_rd_short_reads_fail),
        cmocka_unit_test(test_rd_error_is_sticky),
        cmocka_unit_test(test_rd_bytes_view_and_exact_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
