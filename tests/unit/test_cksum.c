/*
 * test_cksum.c -- the Internet checksum (RFC 1071) and its pieces: partial sums added
 * block by block with the odd-byte flag, the TCP pseudo-header (RFC 9293 3.1), and the
 * copy-and-sum used on output. A wrong checksum is invisible between two tcpwave stacks
 * and fatal against any other, so the known answers come from outside the code.
 */
#include "core/cksum.h"
#include "core/ipv4.h"
#include "core/wr.h"
#include "unit.h"

#include <string.h>

/* A second, deliberately naive implementation: 16-bit big-endian words, odd byte padded
   with zero, end-around carry at the end (RFC 1071 section 1). Returns the folded sum. */
static uint16_t naive_sum(const uint8_t *p, size_t len)
{
    uint64_t s = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        s += (uint64_t)p[i] << 8 | p[i + 1];
    }
    if (len % 2) {
        s += (uint64_t)p[len - 1] << 8;
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)s;
}

/* Reference for a partial sum that may be any 32-bit value: its two halves are words. */
static uint16_t naive_with(uint32_t start, const uint8_t *p, size_t len)
{
    uint8_t pre[4] = {(uint8_t)(start >> 24), (uint8_t)(start >> 16), (uint8_t)(start >> 8),
                      (uint8_t)start};
    uint64_t s = (uint64_t)naive_sum(pre, 4) + naive_sum(p, len);
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)s;
}

static void fill_random(unit_rng *r, uint8_t *p, size_t len)
{
    for (size_t j = 0; j < len; j++) {
        p[j] = (uint8_t)unit_next(r);
    }
}

typedef struct kat {
    const char *what;
    const uint8_t *bytes;
    size_t len;
    uint16_t sum;   /* folded one's-complement sum */
    uint16_t cksum; /* ~sum: what goes on the wire */
} kat;

/* RFC 1071 section 3, "Numerical Examples": the eight bytes 00 01 f2 03 f4 f5 f6 f7 sum
   to ddf2 (the RFC shows the carries 2 + ddf0). */
static const uint8_t rfc1071_ex[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
/* A real IPv4 header (UDP, 192.168.0.1 -> 192.168.0.199) with its checksum field zeroed;
   the packet carried b861. */
static const uint8_t ip_hdr[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
static const uint8_t one[] = {0x01};
static const uint8_t three[] = {0x01, 0x02, 0x03};
static const uint8_t ffff[] = {0xff, 0xff};
/* ffff + ffff + 0001 = 1ffff -> ffff + 1 = 10000 -> 0001: two rounds of end-around carry */
static const uint8_t carries[] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x01};

static const kat kats[] = {
    {"RFC 1071 section 3 example", rfc1071_ex, sizeof(rfc1071_ex), 0xddf2, 0x220d},
    {"IPv4 header", ip_hdr, sizeof(ip_hdr), 0x479e, 0xb861},
    {"one odd byte is the high byte", one, 1, 0x0100, 0xfeff},
    {"odd length 3", three, 3, 0x0402, 0xfbfd},
    {"all ones", ffff, 2, 0xffff, 0x0000},
    {"double end-around carry", carries, sizeof(carries), 0x0001, 0xfffe},
    {"empty", one, 0, 0x0000, 0xffff},
};

static void test_cksum_known_answers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(kats) / sizeof(kats[0]); i++) {
        const kat *k = &kats[i];
        uint32_t s = tw_cksum_add(0, k->bytes, k->len, 0);
        UNIT_EQ(s, k->sum, "%s", k->what);
        UNIT_EQ(tw_cksum_fin(s), k->cksum, "%s", k->what);
        UNIT_EQ(naive_sum(k->bytes, k->len), k->sum, "%s (naive reference)", k->what);
    }
}

/* The receiver's check (RFC 1071 section 1 (4)): with the checksum in place, the sum over
   the whole header is all ones, so fin gives 0. */
static void test_cksum_verifies_to_zero(void **state)
{
    (void)state;
    uint8_t h[sizeof(ip_hdr)];
    memcpy(h, ip_hdr, sizeof(h));
    h[10] = 0xb8;
    h[11] = 0x61;
    assert_int_equal(tw_cksum_fin(tw_cksum_add(0, h, sizeof(h), 0)), 0);
    h[19] ^= 0x01; /* one flipped bit is always caught */
    assert_int_not_equal(tw_cksum_fin(tw_cksum_add(0, h, sizeof(h), 0)), 0);
}

/* RFC 1071 section 2 (B): the sum is independent of byte order up to a final swap, so a
   block that starts at an odd offset is summed alone and swapped. Every split point of
   every length, and three-way splits, must give the sum of the whole. */
static void test_cksum_split_sums_with_odd_flag(void **state)
{
    (void)state;
    uint8_t buf[67];
    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] = (uint8_t)(0xf1 - 7 * i); /* high bytes, so carries happen */
    }
    for (size_t len = 0; len <= sizeof(buf); len++) {
        uint32_t whole = tw_cksum_add(0, buf, len, 0);
        UNIT_EQ(whole, naive_sum(buf, len), "len %zu", len);
        for (size_t k = 0; k <= len; k++) {
            uint32_t s = tw_cksum_add(0, buf, k, 0);
            s = tw_cksum_add(s, buf + k, len - k, (int)(k & 1));
            UNIT_EQ(tw_cksum_fin(s), tw_cksum_fin(whole), "len %zu split at %zu", len, k);
            for (size_t m = k; m <= len; m += 3) {
                uint32_t t = tw_cksum_add(0, buf, k, 0);
                t = tw_cksum_add(t, buf + k, m - k, (int)(k & 1));
                t = tw_cksum_add(t, buf + m, len - m, (int)(m & 1));
                UNIT_EQ(tw_cksum_fin(t), tw_cksum_fin(whole), "len %zu split at %zu, %zu", len, k,
                        m);
            }
        }
    }
}

/* Random contents and lengths up to a jumbo segment, checked against the naive sum. */
static void test_cksum_random_against_naive(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    static uint8_t buf[9000 + 8];
    for (int i = 0; i < 300; i++) {
        size_t len = (size_t)unit_below(&r, 9001);
        size_t off = (size_t)unit_below(&r, 8); /* any alignment */
        for (size_t j = 0; j < len; j++) {
            buf[off + j] = (uint8_t)unit_next(&r);
        }
        UNIT_EQ(tw_cksum_add(0, buf + off, len, 0), naive_sum(buf + off, len),
                "iteration %d len %zu off %zu", i, len, off);
    }
}

/* The largest IPv4 payloads of all-ones bytes: a 64-bit accumulator must not lose
   carries and the fold must settle on ffff (one's-complement "minus zero"). */
static void test_cksum_large_all_ones(void **state)
{
    (void)state;
    static uint8_t buf[65535];
    memset(buf, 0xff, sizeof(buf));
    assert_int_equal(tw_cksum_add(0, buf, 65534, 0), 0xffff);
    assert_int_equal(tw_cksum_add(0xffff, buf, 65534, 0), 0xffff);
    assert_int_equal(tw_cksum_fin(tw_cksum_add(0, buf, 65534, 0)), 0x0000);
    /* odd: 32767 words of ffff (= 0) plus the padded last word ff00 */
    assert_int_equal(tw_cksum_add(0, buf, 65535, 0), 0xff00);
    assert_int_equal(naive_sum(buf, 65535), 0xff00);
}

/* RFC 9293 3.1: the pseudo-header is src, dst, zero, protocol, TCP length. */
static void test_cksum_pseudo_header(void **state)
{
    (void)state;
    static const struct {
        uint32_t src, dst;
        uint8_t proto;
        uint16_t len;
    } rows[] = {
        {0xc0a80001u, 0xc0000201u, 6, 20},
        {0xffffffffu, 0xffffffffu, 6, 0xffff},
        {0, 0, 6, 0},
        {0x0a000001u, 0x0a000002u, 17, 1480},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        /* clang-format off */
        uint8_t ph[12] = {
            (uint8_t)(rows[i].src >> 24), (uint8_t)(rows[i].src >> 16),
            (uint8_t)(rows[i].src >> 8),  (uint8_t)rows[i].src,
            (uint8_t)(rows[i].dst >> 24), (uint8_t)(rows[i].dst >> 16),
            (uint8_t)(rows[i].dst >> 8),  (uint8_t)rows[i].dst,
            0,                            rows[i].proto,
            (uint8_t)(rows[i].len >> 8),  (uint8_t)rows[i].len,
        };
        /* clang-format on */
        uint32_t p = tw_cksum_pseudo(rows[i].src, rows[i].dst, rows[i].proto, rows[i].len);
        UNIT_EQ(tw_cksum_fin(p), tw_cksum_fin(naive_sum(ph, sizeof(ph))), "row %zu", i);
        /* the pseudo sum then adds like any other partial sum */
        uint8_t seg[3] = {0x12, 0x34, 0x56};
        uint8_t both[15];
        memcpy(both, ph, 12);
        memcpy(both + 12, seg, 3);
        UNIT_EQ(tw_cksum_fin(tw_cksum_add(p, seg, 3, 0)), tw_cksum_fin(naive_sum(both, 15)),
                "row %zu", i);
    }
    /* 192.168.0.1 -> 192.0.2.1, TCP, 20 bytes: c0a8+0001+c000+0201+0006+0014 = 82c5 */
    assert_int_equal(tw_cksum_fin(tw_cksum_pseudo(0xc0a80001u, 0xc0000201u, 6, 20)), 0x7d3a);
}

/* Copy-and-sum must copy exactly and return what tw_cksum_add returns over the copy,
   from any starting sum and parity, at any alignment. */
static void test_cksum_copy_equals_sum(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    static uint8_t src[2000 + 8], dst[2000 + 8];
    for (int i = 0; i < 500; i++) {
        size_t len = (size_t)unit_below(&r, 2001);
        size_t so = (size_t)unit_below(&r, 8), doff = (size_t)unit_below(&r, 8);
        for (size_t j = 0; j < len; j++) {
            src[so + j] = (uint8_t)unit_next(&r);
        }
        memset(dst, 0xee, sizeof(dst));
        uint32_t start = (uint32_t)unit_below(&r, 0x10000);
        int odd = (int)unit_below(&r, 2);
        uint32_t got = tw_cksum_copy(start, dst + doff, src + so, len, odd);
        UNIT_EQ(got, tw_cksum_add(start, src + so, len, odd), "iteration %d len %zu", i, len);
        if (!odd) {
            UNIT_EQ(got, naive_with(start, src + so, len), "iteration %d len %zu", i, len);
        }
        assert_memory_equal(dst + doff, src + so, len);
        if (doff + len < sizeof(dst)) {
            UNIT_EQ(dst[doff + len], 0xee, "iteration %d: wrote past the end", i);
        }
    }
}

/* Native sums (bytes as they lie in memory): from any starting accumulator, at any
   alignment, over lengths 0..2000. The accumulator's reference is its own 8 bytes in
   memory order placed before the data (8 is even, so the data's words stay aligned). */
static void test_cksum_native_random_against_naive(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    static uint8_t buf[8 + 2000 + 16];
    for (int i = 0; i < 3000; i++) {
        size_t len = (size_t)unit_below(&r, 2001);
        size_t off = (size_t)unit_below(&r, 16);
        uint64_t acc = unit_below(&r, 4) ? unit_next(&r) : (i & 1 ? UINT64_MAX : 0);
        fill_random(&r, buf + 8 + off, len);
        if (i % 7 == 0) {
            memset(buf + 8 + off, 0xff, len); /* all carries */
        }
        uint64_t n = tw_cksum_native(acc, buf + 8 + off, len);
        memcpy(buf + off, &acc, 8);
        UNIT_EQ(tw_cksum_from_native(n), naive_sum(buf + off, 8 + len),
                "iteration %d len %zu off %zu", i, len, off);
        UNIT_EQ(tw_cksum_native_ok(n), naive_sum(buf + off, 8 + len) == 0xffff,
                "iteration %d len %zu off %zu", i, len, off);
    }
}

/* tw_cksum_native_ok_nz (a multiply and a compare) answers as tw_cksum_native_ok (two
   folds) for every nonzero native sum: random ones, multiples of 0xffff (the sums that
   verify) and their neighbours, and the edges. */
static void test_cksum_native_ok_nz_matches(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    const uint64_t small[] = {1, 2, 0xfffe, 0xffff, 0x10000, 0x1fffe, 0xffff0000u, 0xffffffffu};
    const uint64_t big[] = {UINT64_C(0xffff) << 48, UINT64_MAX - 1, UINT64_MAX, UINT64_MAX - 0xffff,
                            UINT64_C(0x0001000100010001) * 0xffff};
    for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
        UNIT_EQ(tw_cksum_native_ok_nz(small[i]), tw_cksum_native_ok(small[i]), "small %zu", i);
    }
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        UNIT_EQ(tw_cksum_native_ok_nz(big[i]), tw_cksum_native_ok(big[i]), "big %zu", i);
    }
    for (int i = 0; i < 300000; i++) {
        uint64_t x = unit_next(&r);
        if (i & 1) {
            /* a multiple, which verifies, or a neighbour, which does not */
            x = (x % (UINT64_MAX / 0xffff + 1)) * 0xffff + (uint64_t)(i % 5) - 2;
        }
        if (x == 0) {
            continue;
        }
        UNIT_EQ(tw_cksum_native_ok_nz(x), tw_cksum_native_ok(x), "iteration %d", i);
    }
}

/* A block summed at an odd offset of the data (the second piece of a wrapped ring), from
   any 32-bit starting sum, misaligned, lengths 0..2000: the result equals the naive sum
   of the whole. */
static void test_cksum_odd_starts_random(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    static uint8_t buf[2 * 2000 + 16];
    for (int i = 0; i < 3000; i++) {
        size_t k = (size_t)unit_below(&r, 2001);   /* first piece */
        size_t len = (size_t)unit_below(&r, 2001); /* second piece */
        size_t off = (size_t)unit_below(&r, 16);
        uint32_t start = (uint32_t)unit_next(&r);
        fill_random(&r, buf + off, k + len);
        uint32_t s = tw_cksum_add(start, buf + off, k, 0);
        UNIT_EQ(s, naive_with(start, buf + off, k), "iteration %d first %zu", i, k);
        s = tw_cksum_add(s, buf + off + k, len, (int)(k & 1));
        assert_true(s <= 0xffff);
        UNIT_EQ(tw_cksum_fin(s), (uint16_t)~naive_with(start, buf + off, k + len),
                "iteration %d first %zu second %zu off %zu", i, k, len, off);
    }
}

/* Whole 32-bit words (TCP headers with options, IPv4 headers with and without options,
   and longer runs), at any alignment, from any starting accumulator. */
static void test_cksum_native_words_and_ip20(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    uint8_t buf[8 + 160 + 16];
    for (int i = 0; i < 5000; i++) {
        size_t n4 = (size_t)unit_below(&r, i % 4 ? 16 : 41); /* headers, and longer */
        size_t off = (size_t)unit_below(&r, 16);
        uint64_t acc = unit_next(&r);
        fill_random(&r, buf + 8 + off, 4 * n4);
        uint64_t n = tw_cksum_native_words(acc, buf + 8 + off, n4);
        memcpy(buf + off, &acc, 8);
        UNIT_EQ(tw_cksum_from_native(n), naive_sum(buf + off, 8 + 4 * n4), "iteration %d n4 %zu",
                i, n4);
        if (n4 == 5) {
            UNIT_EQ(tw_cksum_from_native(tw_cksum_native_ip20(buf + 8 + off)),
                    naive_sum(buf + 8 + off, 20), "iteration %d ip20", i);
        }
    }
}

/* The carry chain (tw_cksum_words_chain): a first word, 0-15 32-bit words and a last
   word below 2^64 - 1, against the naive sum, at any alignment; all-ones words too, where
   every add carries and the chain's end must carry its last carry back (with a last word
   of 2^64 - 2 it is the largest sum). */
static void test_cksum_words_chain(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    uint8_t buf[8 + 60 + 8 + 16];
    for (int i = 0; i < 20000; i++) {
        size_t n4 = (size_t)unit_below(&r, 16);
        size_t off = (size_t)unit_below(&r, 16);
        bool ones = i % 3 == 0;
        uint64_t first = ones ? UINT64_MAX : unit_next(&r);
        uint64_t last = ones ? UINT64_MAX - 1 : i % 3 == 1 ? unit_below(&r, 0x20000) : unit_next(&r);
        if (last == UINT64_MAX) {
            last--;
        }
        if (ones) {
            memset(buf + 8 + off, 0xff, 4 * n4);
        } else {
            fill_random(&r, buf + 8 + off, 4 * n4);
        }
        uint64_t n = tw_cksum_words_chain(first, buf + 8 + off, n4, last);
        memcpy(buf + off, &first, 8);
        memcpy(buf + off + 8 + 4 * n4, &last, 8);
        UNIT_EQ(tw_cksum_from_native(n), naive_sum(buf + off, 16 + 4 * n4),
                "iteration %d n4 %zu", i, n4);
    }
}

/* tw_cksum_native_short: every length up to 144 (its carry chains up to 124 bytes in whole
   words, tw_cksum_native beyond), at any alignment, from any accumulator; all-ones bytes
   too, where every add of a chain carries. */
static void test_cksum_native_short(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    uint8_t buf[8 + 144 + 16];
    for (int i = 0; i < 20000; i++) {
        size_t len = (size_t)unit_below(&r, 145);
        size_t off = (size_t)unit_below(&r, 16);
        bool ones = i % 4 == 0;
        uint64_t acc = ones ? UINT64_MAX : unit_next(&r);
        if (ones) {
            memset(buf + 8 + off, 0xff, len);
        } else {
            fill_random(&r, buf + 8 + off, len);
        }
        uint64_t n = tw_cksum_native_short(acc, buf + 8 + off, len);
        memcpy(buf + off, &acc, 8);
        UNIT_EQ(tw_cksum_from_native(n), naive_sum(buf + off, 8 + len), "iteration %d len %zu",
                i, len);
    }
}

/* Building: the checksum stored from a native sum makes the whole verify (RFC 1071
   1(4)), on packets of any size and alignment; one flipped bit always fails. */
static void test_cksum_native_store_and_verify(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    static uint8_t buf[1600 + 16];
    for (int i = 0; i < 2000; i++) {
        size_t len = 20 + (size_t)unit_below(&r, 1500);
        size_t off = (size_t)unit_below(&r, 16);
        uint8_t *p = buf + off;
        fill_random(&r, p, len);
        uint32_t pseudo = (uint32_t)unit_next(&r);
        p[16] = 0;
        p[17] = 0;
        tw_cksum_native_store(p + 16, tw_cksum_native(tw_cksum_to_native(pseudo), p, len));
        UNIT_EQ(naive_with(pseudo, p, len), 0xffff, "iteration %d len %zu off %zu", i, len, off);
        assert_true(tw_cksum_native_ok(tw_cksum_native(tw_cksum_to_native(pseudo), p, len)));
        size_t bit = (size_t)unit_below(&r, 8 * len);
        p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_false(tw_cksum_native_ok(tw_cksum_native(tw_cksum_to_native(pseudo), p, len)));
    }
}

/* Each form of the native sum (tw_cksum_native runs one of them). */
typedef uint64_t (*native_fn)(uint64_t acc, const uint8_t *p, size_t len);

/* Every length 0..2048 at even and odd offsets, random data (every fifth all ones, for
   the carries), from a random accumulator: each form against the byte-at-a-time
   reference, with the accumulator's 8 bytes in front as in the native tests above. */
static void check_native_fn(native_fn fn, const char *name)
{
    unit_rng r = unit_rng_seeded(name);
    static uint8_t buf[8 + 2048 + 16];
    static const size_t offs[] = {0, 1, 2, 3, 5, 7, 8, 13};
    for (size_t len = 0; len <= 2048; len++) {
        for (size_t k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
            size_t off = offs[k];
            uint64_t acc = (len + k) % 3 ? unit_next(&r) : 0;
            fill_random(&r, buf + 8 + off, len);
            if ((len + k) % 5 == 0) {
                memset(buf + 8 + off, 0xff, len);
            }
            uint64_t n = fn(acc, buf + 8 + off, len);
            memcpy(buf + off, &acc, 8);
            UNIT_EQ(tw_cksum_from_native(n), naive_sum(buf + off, 8 + len), "%s len %zu off %zu",
                    name, len, off);
        }
    }
    /* Past the 1 MiB runs the AVX2 loop reduces separately, and the largest IPv4
       payload, all ones: against the portable form (the reference would be slow). */
    static uint8_t big[(3u << 20) + 64 * 5 + 7];
    fill_random(&r, big, sizeof(big));
    UNIT_EQ(tw_cksum_from_native(fn(7, big, sizeof(big))),
            tw_cksum_from_native(tw_cksum_native_portable(7, big, sizeof(big))), "%s 3 MiB", name);
    memset(big, 0xff, sizeof(big));
    UNIT_EQ(tw_cksum_from_native(fn(0, big, sizeof(big) - 7)), 0xffff, "%s 3 MiB of ff", name);
    UNIT_EQ(tw_cksum_from_native(fn(0, big, 65534)), 0xffff, "%s 65534 bytes of ff", name);
    UNIT_EQ(tw_cksum_from_native(fn(0, big, 65535)), naive_sum(big, 65535), "%s 65535 of ff",
            name);
    memset(big, 0, 65536);
    UNIT_EQ(tw_cksum_from_native(fn(0, big, 65536)), 0, "%s 64 KiB of zeros", name);
}

static void test_cksum_native_forms(void **state)
{
    (void)state;
    check_native_fn(tw_cksum_native_portable, "portable");
    check_native_fn(tw_cksum_native, "as chosen");
#if TW_ASM_X86
    if (!tw_cksum_have_avx2()) {
        printf("test_cksum_native_forms: AVX2 form skipped, this CPU has no AVX2 (the "
               "portable one runs)\n");
        return;
    }
    check_native_fn(tw_cksum_native_avx2, "avx2");
#else
    printf("test_cksum_native_forms: no AVX2 form in this build (x86-64 GCC/clang only, not TW_PORTABLE)\n");
#endif
}

/* Copy-and-sum in each form: the copy is exact and stops at `len`, and the sum is the
   reference's, for every length 0..2048 at even and odd source and destination offsets. */
typedef uint64_t (*copy_fn)(uint64_t acc, uint8_t *dst, const uint8_t *src, size_t len);

static void check_copy_fn(copy_fn fn, const char *name)
{
    unit_rng r = unit_rng_seeded(name);
    static uint8_t src[8 + 2048 + 16], dst[2048 + 64];
    static const size_t offs[][2] = {{0, 0}, {1, 0}, {0, 3}, {5, 7}, {8, 1}, {13, 32}};
    for (size_t len = 0; len <= 2048; len++) {
        for (size_t k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
            size_t so = offs[k][0], d = offs[k][1];
            uint64_t acc = (len + k) % 3 ? unit_next(&r) : 0;
            fill_random(&r, src + 8 + so, len);
            if ((len + k) % 5 == 0) {
                memset(src + 8 + so, 0xff, len);
            }
            memset(dst, 0xee, sizeof(dst));
            uint64_t n = fn(acc, dst + d, src + 8 + so, len);
            assert_memory_equal(dst + d, src + 8 + so, len);
            for (size_t j = 0; j < d; j++) {
                UNIT_EQ(dst[j], 0xee, "%s len %zu: wrote before the start", name, len);
            }
            for (size_t j = d + len; j < sizeof(dst); j++) {
                UNIT_EQ(dst[j], 0xee, "%s len %zu: wrote past the end", name, len);
            }
            memcpy(src + so, &acc, 8);
            UNIT_EQ(tw_cksum_from_native(n), naive_sum(src + so, 8 + len), "%s len %zu off %zu",
                    name, len, so);
        }
    }
    /* Past the 64 KiB runs the AVX2 loop sums separately, at even and odd lengths, random
       and all ones or zeros (the lanes' extremes): against the portable sum of the copy. */
    static uint8_t bsrc[(3u << 20) + 64 * 5 + 7], bdst[sizeof(bsrc)];
    static const size_t blens[] = {sizeof(bsrc), sizeof(bsrc) - 1, 65536 + 40, 65535, 65536};
    for (int fill = 0; fill < 3; fill++) {
        if (fill == 0) {
            fill_random(&r, bsrc, sizeof(bsrc));
        } else {
            memset(bsrc, fill == 1 ? 0xff : 0, sizeof(bsrc));
        }
        for (size_t k = 0; k < sizeof(blens) / sizeof(blens[0]); k++) {
            size_t len = blens[k];
            memset(bdst, 0xee, sizeof(bdst));
            uint64_t n = fn(5, bdst, bsrc, len);
            assert_memory_equal(bdst, bsrc, len);
            UNIT_EQ(tw_cksum_from_native(n),
                    tw_cksum_from_native(tw_cksum_native_portable(5, bsrc, len)),
                    "%s big len %zu fill %d", name, len, fill);
        }
    }
}

static void test_cksum_copy_native_forms(void **state)
{
    (void)state;
    check_copy_fn(tw_cksum_copy_native_portable, "copy portable");
    check_copy_fn(tw_cksum_copy_native, "copy as chosen");
#if TW_ASM_X86
    if (!tw_cksum_have_avx2()) {
        printf("test_cksum_copy_native_forms: AVX2 form skipped, this CPU has no AVX2\n");
        return;
    }
    check_copy_fn(tw_cksum_copy_native_avx2, "copy avx2");
#else
    printf("test_cksum_copy_native_forms: no AVX2 form in this build (x86-64 GCC/clang only, not TW_PORTABLE)\n");
#endif
}

typedef uint64_t (*copy_sum_fn)(uint8_t *dst, const uint8_t *src, uint32_t len, uint64_t acc);

/* A copy-and-sum against memcpy and the portable sum, for lengths `from` to 128 in steps of
   `step`, at even and odd source and destination offsets, random bytes and all ones, and
   from starting sums of none, any and all ones (the carry chain's edge): the copy exact,
   nothing written before or after it. */
static void check_copy_sum(const char *seed, copy_sum_fn fn, uint32_t from, uint32_t step)
{
    unit_rng r = unit_rng_seeded(seed);
    static uint8_t src[128 + 16], dst[128 + 64];
    static const size_t offs[][2] = {{0, 0}, {1, 0}, {0, 3}, {5, 7}, {8, 1}, {13, 32}};
    for (uint32_t len = from; len <= 128; len += step) {
        for (size_t k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
            size_t so = offs[k][0], d = offs[k][1];
            fill_random(&r, src + so, len);
            if ((len / step + k) % 5 == 0) {
                memset(src + so, 0xff, len);
            }
            memset(dst, 0xee, sizeof(dst));
            uint64_t acc = k % 3 == 0 ? 0 : k % 3 == 1 ? unit_next(&r) : UINT64_MAX;
            uint64_t n = fn(dst + d, src + so, len, acc);
            assert_memory_equal(dst + d, src + so, len);
            for (size_t j = 0; j < d; j++) {
                UNIT_EQ(dst[j], 0xee, "len %u: wrote before the start", len);
            }
            for (size_t j = d + len; j < sizeof(dst); j++) {
                UNIT_EQ(dst[j], 0xee, "len %u: wrote past the end", len);
            }
            UNIT_EQ(tw_cksum_from_native(n),
                    tw_cksum_from_native(tw_cksum_native_portable(acc, src + so, len)),
                    "len %u off %zu", len, so);
        }
    }
}

/* The short copy-and-sum (at most 128 bytes, straight-line), for every length. */
static void test_cksum_copy_short(void **state)
{
    (void)state;
    check_copy_sum("copy short", tw_cksum_copy_short, 0, 1);
}

/* tw_cksum_copy_words64 (the third segment's request and a first answer: 4 to 128 bytes
   in whole words). */
static void test_cksum_copy_words64(void **state)
{
    (void)state;
    check_copy_sum("copy words64", tw_cksum_copy_words64, 4, 4);
}

/* tw_cksum_add64x2, x3 and x4 (one carry chain) give exactly what the chained
   tw_cksum_add64 give: random words, and words near all ones, where the chain's last
   carry meets a sum of all ones. */
static void test_cksum_add64_chains(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    static const uint64_t edge[] = {0, 1, 0x8000000000000000u, 0xfffffffffffffffeu,
                                    0xffffffffffffffffu};
    for (int i = 0; i < 200000; i++) {
        uint64_t v[5];
        for (int k = 0; k < 5; k++) {
            v[k] = unit_below(&r, 3) ? unit_next(&r) : edge[unit_below(&r, 5)];
        }
        UNIT_EQ(tw_cksum_add64x2(v[0], v[1], v[2]),
                tw_cksum_add64(tw_cksum_add64(v[0], v[1]), v[2]), "x2 case %d", i);
        uint64_t want3 =
            tw_cksum_add64(tw_cksum_add64(tw_cksum_add64(v[0], v[1]), v[2]), v[3]);
        UNIT_EQ(tw_cksum_add64x3(v[0], v[1], v[2], v[3]), want3, "x3 case %d", i);
        UNIT_EQ(tw_cksum_add64x4(v[0], v[1], v[2], v[3], v[4]), tw_cksum_add64(want3, v[4]),
                "x4 case %d", i);
        /* the same value in every operand (a compiler may give them one register) */
        uint64_t x = v[4];
        uint64_t want_x = tw_cksum_add64(tw_cksum_add64(tw_cksum_add64(x, x), x), x);
        UNIT_EQ(tw_cksum_add64x2(x, x, x), tw_cksum_add64(tw_cksum_add64(x, x), x),
                "x2 same case %d", i);
        UNIT_EQ(tw_cksum_add64x3(x, x, x, x), want_x, "x3 same case %d", i);
        UNIT_EQ(tw_cksum_add64x4(x, x, x, x, x), tw_cksum_add64(want_x, x), "x4 same %d", i);
    }
    uint64_t ones = 0xffffffffffffffffu;
    UNIT_EQ(tw_cksum_add64x3(ones, ones, ones, ones), ones, "all ones");
    UNIT_EQ(tw_cksum_add64x4(ones, ones, ones, ones, 1), 1, "all ones and 1");
    UNIT_EQ(tw_cksum_add64x3(0, 0, 0, 0), 0, "zero");
    UNIT_EQ(tw_cksum_add64x2(ones, ones, ones), ones, "x2 all ones");
}

/* fin and fold take any 32/64-bit sum of words. */
static void test_cksum_fold_and_fin_random(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    for (int i = 0; i < 100000; i++) {
        uint64_t v = unit_next(&r) >> unit_below(&r, 64);
        uint64_t s = 0;
        for (int k = 0; k < 4; k++) {
            s += (v >> (16 * k)) & 0xffff;
        }
        while (s >> 16) {
            s = (s & 0xffff) + (s >> 16);
        }
        UNIT_EQ(tw_cksum_fold(v), s, "fold 0x%llx", (unsigned long long)v);
        uint32_t v32 = (uint32_t)v;
        uint64_t s32 = (v32 & 0xffffu) + (v32 >> 16);
        s32 = (s32 & 0xffffu) + (s32 >> 16);
        UNIT_EQ(tw_cksum_fin(v32), (uint16_t)~s32, "fin 0x%x", v32);
    }
}

/* tw_cksum_fin64 is tw_cksum_fin of tw_cksum_fold, for every width of sum. */
static void test_cksum_fin64_random(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    for (int i = 0; i < 100000; i++) {
        uint64_t v = unit_next(&r) >> unit_below(&r, 64);
        UNIT_EQ(tw_cksum_fin64(v), tw_cksum_fin(tw_cksum_fold(v)), "fin64 0x%llx",
                (unsigned long long)v);
    }
}

/* The packet-order helpers tcp_out.c sums headers with: tw_be32/tw_be64 put a value in
   memory big-endian; tw_cksum_be16_native is a 16-bit big-endian field's share of a
   native sum; tw_cksum_native_word16 stores a native checksum and a big-endian value;
   tw_ipv4_build_native writes the bytes tw_ipv4_build writes. */
static void test_cksum_packet_order_helpers(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    for (int i = 0; i < 100000; i++) {
        uint64_t v = unit_next(&r);
        uint32_t n32 = tw_be32((uint32_t)v);
        uint64_t n64 = tw_be64(v);
        uint8_t a[8], b[8];
        memcpy(a, &n32, 4);
        tw_put32(b, (uint32_t)v);
        assert_memory_equal(a, b, 4);
        memcpy(a, &n64, 8);
        tw_put32(b, (uint32_t)(v >> 32));
        tw_put32(b + 4, (uint32_t)v);
        assert_memory_equal(a, b, 8);

        uint32_t f = (uint32_t)(v >> 40) & 0x1ffffu; /* up to 17 bits, as a sum of fields */
        uint8_t fb[4] = {0, 0, 0, 0};
        tw_put32(fb, f);
        UNIT_EQ(tw_cksum_fold(tw_cksum_be16_native(f)) % 0xffffu,
                tw_cksum_fold(tw_cksum_native(0, fb, 4)) % 0xffffu, "field 0x%x", f);

        uint16_t ck = (uint16_t)v, next = (uint16_t)(v >> 16);
        uint32_t w = tw_cksum_native_word16(ck, next);
        memcpy(a, &w, 4);
        memcpy(b, &ck, 2);
        tw_put16(b + 2, next);
        assert_memory_equal(a, b, 4);

        uint32_t src = (uint32_t)unit_next(&r), dst = (uint32_t)unit_next(&r);
        uint32_t len = (uint32_t)unit_below(&r, 0xffffu - TW_IPV4_HDR_LEN + 1);
        uint16_t id = (uint16_t)unit_next(&r);
        uint8_t proto = (uint8_t)unit_next(&r);
        uint8_t h1[TW_IPV4_HDR_LEN], h2[TW_IPV4_HDR_LEN];
        uint32_t ns = tw_be32(src), nd = tw_be32(dst);
        tw_ipv4_build_native(h1, (uint64_t)ns + nd, ns, nd, proto, len, id);
        tw_ipv4_build(h2, src, dst, proto, (uint16_t)len, id);
        assert_memory_equal(h1, h2, TW_IPV4_HDR_LEN);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cksum_known_answers),
        cmocka_unit_test(test_cksum_verifies_to_zero),
        cmocka_unit_test(test_cksum_split_sums_with_odd_flag),
        cmocka_unit_test(test_cksum_random_against_naive),
        cmocka_unit_test(test_cksum_large_all_ones),
        cmocka_unit_test(test_cksum_pseudo_header),
        cmocka_unit_test(test_cksum_copy_equals_sum),
        cmocka_unit_test(test_cksum_native_random_against_naive),
        cmocka_unit_test(test_cksum_native_ok_nz_matches),
        cmocka_unit_test(test_cksum_odd_starts_random),
        cmocka_unit_test(test_cksum_native_words_and_ip20),
        cmocka_unit_test(test_cksum_words_chain),
        cmocka_unit_test(test_cksum_native_short),
        cmocka_unit_test(test_cksum_copy_words64),
        cmocka_unit_test(test_cksum_native_store_and_verify),
        cmocka_unit_test(test_cksum_fold_and_fin_random),
        cmocka_unit_test(test_cksum_fin64_random),
        cmocka_unit_test(test_cksum_packet_order_helpers),
        cmocka_unit_test(test_cksum_native_forms),
        cmocka_unit_test(test_cksum_copy_native_forms),
        cmocka_unit_test(test_cksum_copy_short),
        cmocka_unit_test(test_cksum_add64_chains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
