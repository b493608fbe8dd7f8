/*
 * test_copy.c -- the socket buffers' bulk copy (copy.h): every form copies exactly the
 * bytes asked for, at any alignment of either side, and writes nothing outside them.
 */
#include "core/copy.h"
#include "core/cksum.h"
#include "unit.h"

#include <string.h>

static void fill_random(unit_rng *r, uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)unit_next(r);
    }
}

typedef void (*copy_fn)(void *dst, const void *src, size_t len);

/* Every length lo..hi at even and odd source and destination offsets: the copy equal to
   its source, nothing written before or after it. */
static void check_copy_lens(copy_fn fn, const char *name, unit_rng *r, size_t lo, size_t hi)
{
    static uint8_t src[3000 + 64], dst[3000 + 128];
    static const size_t offs[][2] = {{0, 0}, {1, 0}, {0, 3}, {5, 7}, {8, 1}, {13, 32}, {31, 33}};
    assert_true(hi <= 3000);
    for (size_t len = lo; len <= hi; len++) {
        for (size_t k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
            size_t so = offs[k][0], d = offs[k][1];
            fill_random(r, src + so, len);
            memset(dst, 0xee, sizeof(dst));
            fn(dst + d, src + so, len);
            assert_memory_equal(dst + d, src + so, len);
            for (size_t j = 0; j < d; j++) {
                UNIT_EQ(dst[j], 0xee, "%s len %zu: wrote before the start", name, len);
            }
            for (size_t j = d + len; j < sizeof(dst); j++) {
                UNIT_EQ(dst[j], 0xee, "%s len %zu: wrote past the end", name, len);
            }
        }
    }
}

/* Every length 0..3000 (past a few turns of the 512-byte loop and every remainder), then a
   few long ones. */
static void check_copy_fn(copy_fn fn, const char *name)
{
    unit_rng r = unit_rng_seeded(name);
    check_copy_lens(fn, name, &r, 0, 3000);
    static uint8_t bsrc[(1u << 20) + 100], bdst[(1u << 20) + 164];
    static const size_t lens[] = {65536, 65536 + 1, 65536 + 511, (1u << 20) + 100};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        fill_random(&r, bsrc, lens[k]);
        memset(bdst, 0xee, sizeof(bdst));
        fn(bdst + 1, bsrc, lens[k]);
        assert_memory_equal(bdst + 1, bsrc, lens[k]);
        UNIT_EQ(bdst[0], 0xee, "%s len %zu: wrote before the start", name, lens[k]);
        UNIT_EQ(bdst[lens[k] + 1], 0xee, "%s len %zu: wrote past the end", name, lens[k]);
    }
}

static void test_copy_forms(void **state)
{
    (void)state;
    check_copy_fn(tw_copy_portable, "portable");
    check_copy_fn(tw_copy_big, "as chosen");
    check_copy_fn(tw_copy, "inline entry");
#if TW_ASM_X86
    if (!tw_cksum_have_avx2()) {
        printf("test_copy_forms: AVX2 form skipped, this CPU has no AVX2 (the portable one "
               "runs)\n");
        return;
    }
    check_copy_fn(tw_copy_avx2, "avx2");
#else
    printf("test_copy_forms: no AVX2 form in this build (x86-64 GCC/clang only, not TW_PORTABLE)\n");
#endif
}

#if TW_COPY_WIDE
static void copy_wide_fn(void *dst, const void *src, size_t len)
{
    tw_copy_wide(dst, src, len);
}

static void copy_wide64_fn(void *dst, const void *src, size_t len)
{
    assert_int_equal(len, 64);
    tw_copy_wide64(dst, src);
}
#endif

/* copy.h tw_copy_wide, socket.c's copy of 16 to 64 bytes on a machine with AVX2, and
   tw_copy_wide64, tcp_in.c's copy of a 64-byte payload into a ring block: every one of
   those lengths at every offset pair as check_copy_fn's, nothing written outside. */
static void test_copy_wide(void **state)
{
    (void)state;
#if TW_COPY_WIDE
    if (!tw_cksum_have_avx2()) {
        printf("test_copy_wide: skipped, this CPU has no AVX2 (socket.c: st->copy_narrow)\n");
        return;
    }
    unit_rng r = unit_rng_seeded("wide");
    check_copy_lens(copy_wide_fn, "wide", &r, 16, 64);
    check_copy_lens(copy_wide64_fn, "wide64", &r, 64, 64);
#else
    printf("test_copy_wide: no 32-byte form in this build (x86-64 GCC/clang only, not TW_PORTABLE)\n");
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_forms),
        cmocka_unit_test(test_copy_wide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
