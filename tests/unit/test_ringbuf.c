/*
 * test_ringbuf.c -- the socket-buffer byte ring (ringbuf.h): wrap-around, out-of-order
 * writes at an offset past the readable part, commit, peek, pieces and consume.
 */
#include "core/ringbuf.h"
#include "unit.h"

#include <string.h>

static tw_ring ring_on(uint8_t *buf, uint32_t cap, uint32_t head)
{
    tw_ring r = {buf, cap, head, 0, 0};
    return r;
}

static void test_ringbuf_write_read_wrap(void **state)
{
    (void)state;
    uint8_t buf[8];
    memset(buf, 0, sizeof(buf));
    tw_ring r = ring_on(buf, 8, 6); /* two bytes before the end */
    tw_ring_write_at(&r, 0, (const uint8_t *)"abcde", 5);
    tw_ring_commit(&r, 5);
    assert_int_equal(r.len, 5);
    assert_memory_equal(buf, "cde", 3); /* wrapped */
    assert_memory_equal(buf + 6, "ab", 2);
    uint8_t out[8];
    assert_int_equal(tw_ring_peek(&r, 0, out, 8), 5); /* clamped to len */
    assert_memory_equal(out, "abcde", 5);
    assert_int_equal(tw_ring_peek(&r, 1, out, 3), 3);
    assert_memory_equal(out, "bcd", 3);
    assert_int_equal(tw_ring_peek(&r, 5, out, 1), 0); /* at the end */
    assert_int_equal(tw_ring_peek(&r, 9, out, 1), 0); /* past it */
    tw_ring_consume(&r, 3);
    assert_int_equal(r.head, 1);
    assert_int_equal(r.len, 2);
    assert_int_equal(tw_ring_peek(&r, 0, out, 8), 2);
    assert_memory_equal(out, "de", 2);
    tw_ring_consume(&r, 100); /* clamped */
    assert_int_equal(r.len, 0);
    assert_int_equal(r.head, 3);
}

/* Out-of-order data lands `off` bytes past the readable part, invisible until the gap is
   filled and committed (RFC 9293 3.10.7.4, seventh step). */
static void test_ringbuf_write_at_offsets(void **state)
{
    (void)state;
    uint8_t buf[10];
    memset(buf, '.', sizeof(buf));
    tw_ring r = ring_on(buf, 10, 7);
    tw_ring_write_at(&r, 0, (const uint8_t *)"AB", 2);
    tw_ring_commit(&r, 2);
    tw_ring_write_at(&r, 3, (const uint8_t *)"FGH", 3); /* hole of 3 after AB */
    uint8_t out[10];
    assert_int_equal(tw_ring_peek(&r, 0, out, 10), 2); /* the hole hides FGH */
    tw_ring_write_at(&r, 0, (const uint8_t *)"CDE", 3);
    tw_ring_commit(&r, 6);
    assert_int_equal(tw_ring_peek(&r, 0, out, 10), 8);
    assert_memory_equal(out, "ABCDEFGH", 8);
    /* positions are relative to head + len, wherever head is */
    assert_memory_equal(buf + 7, "ABC", 3);
    assert_memory_equal(buf, "DEFGH", 5);
}

/* The two contiguous pieces of [off, off + n): what output hands to the checksum-and-copy
   without an intermediate buffer. */
static void test_ringbuf_pieces(void **state)
{
    (void)state;
    uint8_t buf[16];
    for (uint32_t head = 0; head < 16; head++) {
        tw_ring r = ring_on(buf, 16, head);
        uint8_t data[16];
        for (int i = 0; i < 16; i++) {
            data[i] = (uint8_t)('a' + i);
        }
        tw_ring_write_at(&r, 0, data, 16);
        tw_ring_commit(&r, 16); /* full */
        for (uint32_t off = 0; off <= 16; off++) {
            for (uint32_t n = 0; off + n <= 16; n++) {
                const uint8_t *p1, *p2;
                uint32_t n1, n2;
                tw_ring_pieces(&r, off, n, &p1, &n1, &p2, &n2);
                uint32_t pos = (head + off) % 16;
                uint32_t first = 16 - pos < n ? 16 - pos : n;
                UNIT_EQ(n1, first, "head %u off %u n %u", head, off, n);
                UNIT_EQ(n2, n - first, "head %u off %u n %u", head, off, n);
                UNIT_EQ(p1 - buf, pos, "head %u off %u n %u", head, off, n);
                if (n2) {
                    UNIT_EQ(p2 - buf, 0, "head %u off %u n %u", head, off, n);
                }
                uint8_t joined[16];
                memcpy(joined, p1, n1);
                memcpy(joined + n1, p2, n2);
                assert_memory_equal(joined, data + off, n);
            }
        }
    }
}

/* Random operations on rings of odd and even sizes against a linear model: model[i] is
   the byte i positions after head; [0, len) readable, beyond that written ahead. */
static void test_ringbuf_random_against_model(void **state)
{
    (void)state;
    unit_rng rng = unit_rng_seeded(__func__);
    static const uint32_t caps[] = {1, 2, 7, 16, 61, 4096};
    for (size_t ci = 0; ci < sizeof(caps) / sizeof(caps[0]); ci++) {
        uint32_t cap = caps[ci];
        uint8_t *buf = malloc(cap), *model = malloc(cap), *tmp = malloc(cap);
        bool *written = calloc(cap, sizeof(bool));
        assert_true(buf && model && tmp && written);
        tw_ring r = ring_on(buf, cap, (uint32_t)unit_below(&rng, cap));
        uint64_t streamed = 0, consumed = 0; /* so the data is a checkable pattern */
        for (int step = 0; step < 20000; step++) {
            uint32_t room = cap - r.len;
            switch (unit_below(&rng, 4)) {
            case 0: { /* write somewhere in the free part */
                if (room == 0) {
                    break;
                }
                /* half the writes fill the gap in front, like in-order segments */
                uint32_t off = unit_below(&rng, 2) ? 0 : (uint32_t)unit_below(&rng, room);
                uint32_t n = 1 + (uint32_t)unit_below(&rng, room - off);
                for (uint32_t i = 0; i < n; i++) {
                    tmp[i] = (uint8_t)(streamed + r.len + off + i);
                    model[r.len + off + i] = tmp[i];
                    written[r.len + off + i] = true;
                }
                tw_ring_write_at(&r, off, tmp, n);
                break;
            }
            case 1: { /* commit the written run that follows the readable part */
                uint32_t n = 0;
                while (r.len + n < cap && written[r.len + n]) {
                    n++;
                }
                tw_ring_commit(&r, n);
                break;
            }
            case 2: { /* peek */
                uint32_t off = (uint32_t)unit_below(&rng, cap + 1);
                uint32_t n = (uint32_t)unit_below(&rng, cap + 1);
                uint32_t want = off >= r.len ? 0 : (n < r.len - off ? n : r.len - off);
                UNIT_EQ(tw_ring_peek(&r, off, tmp, n), want, "cap %u step %d peek", cap, step);
                if (want && memcmp(tmp, model + off, want) != 0) {
                    fail_msg("cap %u step %d: peek(%u, %u) returned wrong bytes", cap, step, off,
                             n);
                }
                break;
            }
            default: {
                /* consume */
                uint32_t n = (uint32_t)unit_below(&rng, r.len + 2); /* may ask too much */
                uint32_t got = n < r.len ? n : r.len;
                uint32_t head = (uint32_t)((r.head + got) % cap);
                tw_ring_consume(&r, n);
                UNIT_EQ(r.head, head, "cap %u step %d consume", cap, step);
                memmove(model, model + got, cap - got);
                memmove(written, written + got, (cap - got) * sizeof(bool));
                memset(written + cap - got, 0, got * sizeof(bool));
                streamed += got;
                consumed += got;
                break;
            }
            }
            /* the whole readable part, through the ring, is the stream in order */
            UNIT_EQ(tw_ring_peek(&r, 0, tmp, cap), r.len, "cap %u step %d", cap, step);
            for (uint32_t i = 0; i < r.len; i++) {
                UNIT_EQ(tmp[i], (uint8_t)(streamed + i), "cap %u step %d byte %u", cap, step, i);
            }
        }
        print_message("cap %u: %llu bytes through the ring\n", cap, (unsigned long long)consumed);
        assert_true(consumed > cap); /* it wrapped */
        free(buf);
        free(model);
        free(tmp);
        free(written);
    }
}

/* Copy-and-sum into the ring (the receive fast path): the bytes land as
   tw_ring_write_at puts them, nothing outside them changes, and the sum equals the
   native sum of the bytes in one piece, from any starting sum; every head position of
   a small ring and random ones of a large one, so that the second piece starts at odd
   and even offsets, short and long. */
static void test_ringbuf_write_sum(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    static uint8_t buf[4096 + 64], data[4096], out[4096];
    static const uint32_t caps[] = {130, 4096};
    for (size_t ci = 0; ci < 2; ci++) {
        uint32_t cap = caps[ci];
        for (int i = 0; i < 3000; i++) {
            uint32_t head = ci == 0 ? (uint32_t)i % cap : (uint32_t)unit_below(&r, cap);
            uint32_t len = (uint32_t)unit_below(&r, cap / 2);
            uint32_t n = (uint32_t)unit_below(&r, cap - len + 1);
            memset(buf, 0xa5, sizeof(buf));
            for (uint32_t j = 0; j < n; j++) {
                data[j] = (uint8_t)unit_next(&r);
            }
            if (i % 9 == 0) {
                memset(data, 0xff, n); /* all carries */
            }
            uint64_t acc = unit_next(&r) >> unit_below(&r, 64);
            tw_ring ring = {buf, cap, head, len, 0};
            uint64_t got = tw_ring_write_sum(&ring, acc, data, n);
            UNIT_EQ(tw_cksum_from_native(got), tw_cksum_from_native(tw_cksum_native(acc, data, n)),
                    "cap %u head %u len %u n %u", cap, head, len, n);
            assert_int_equal(ring.len, len); /* nothing committed */
            tw_ring_commit(&ring, n);
            assert_int_equal(tw_ring_peek(&ring, len, out, n), n);
            assert_memory_equal(out, data, n);
            for (uint32_t j = cap; j < sizeof(buf); j++) {
                UNIT_EQ(buf[j], 0xa5, "cap %u head %u len %u n %u: wrote past the ring", cap,
                        head, len, n);
            }
            /* The bytes of the ring outside [len, len + n) are untouched. */
            for (uint32_t k = 0; k < cap - n; k++) {
                UNIT_EQ(buf[tw_ring_pos(&ring, (len + n + k) % cap)], 0xa5,
                        "cap %u head %u len %u n %u: byte %u after", cap, head, len, n, k);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ringbuf_write_read_wrap),
        cmocka_unit_test(test_ringbuf_write_at_offsets),
        cmocka_unit_test(test_ringbuf_pieces),
        cmocka_unit_test(test_ringbuf_random_against_model),
        cmocka_unit_test(test_ringbuf_write_sum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
