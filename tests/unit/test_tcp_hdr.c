/*
 * test_tcp_hdr.c -- TCP header and option parsing and building (tcp_hdr.h; RFC 9293 3.1
 * and 3.2, RFC 7323 2-3, RFC 2018 3; SPEC S4, S18, R8).
 *
 * Options are where peers and attackers get creative, so the option table tries every
 * malformed shape once: a kind with no length byte, lengths 0 and 1, a length running
 * past the header, the wrong size for each option we know, SACK with 0 or 5 blocks,
 * duplicates; and the legal oddities: unknown kinds skipped, EOL ending the list early,
 * a window scale above 14 clamped. Each row expects one exact counter.
 */
#include "core/tcp_hdr.h"
#include "core/cksum.h"
#include "core/ipv4.h"
#include "core/rd.h"
#include "core/wr.h"
#include "unit.h"

#include <string.h>

#define SRC 0xc0000201u /* 192.0.2.1 */
#define DST 0xc0a80001u /* 192.168.0.1 */
#define OK TW_CNT_COUNT_

/* ---- option parsing, table-driven ------------------------------------------------- */

typedef struct opt_case {
    const char *what;
    uint8_t b[44];
    size_t len;
    enum tw_counter want;
    /* when want == OK: */
    uint8_t present;
    uint16_t mss;
    uint8_t wscale;
    uint32_t ts_val, ts_ecr;
    uint8_t sack_n;
    uint32_t sack[8];
} opt_case;

#define MSS1460 2, 4, 0x05, 0xb4
#define TS(v, e)                                                                                   \
    8, 10, (uint8_t)((v) >> 24), (uint8_t)((v) >> 16), (uint8_t)((v) >> 8), (uint8_t)(v),          \
        (uint8_t)((e) >> 24), (uint8_t)((e) >> 16), (uint8_t)((e) >> 8), (uint8_t)(e)
#define BLK(s, e) 0, 0, (uint8_t)((s) >> 8), (uint8_t)(s), 0, 0, (uint8_t)((e) >> 8), (uint8_t)(e)

/* clang-format off */
static const opt_case opt_cases[] = {
    /* legal */
    {.what = "no options", .b = {0}, .len = 0, .want = OK},
    {.what = "NOPs only", .b = {1, 1, 1, 1}, .len = 4, .want = OK},
    {.what = "EOL only", .b = {0, 0, 0, 0}, .len = 4, .want = OK},
    {.what = "EOL stops the list: a broken option after it is never read",
     .b = {0, 2, 1, 0xff}, .len = 4, .want = OK},
    {.what = "MSS then EOL then garbage",
     .b = {MSS1460, 0, 2, 0, 3}, .len = 8, .want = OK, .present = TW_OPT_MSS, .mss = 1460},
    {.what = "MSS", .b = {MSS1460}, .len = 4, .want = OK, .present = TW_OPT_MSS, .mss = 1460},
    {.what = "MSS 0 is parsed (the state machine decides)",
     .b = {2, 4, 0, 0}, .len = 4, .want = OK, .present = TW_OPT_MSS},
    {.what = "MSS 65535",
     .b = {2, 4, 0xff, 0xff}, .len = 4, .want = OK, .present = TW_OPT_MSS, .mss = 65535},
    {.what = "window scale 0", .b = {1, 3, 3, 0}, .len = 4, .want = OK, .present = TW_OPT_WSCALE},
    {.what = "window scale 7",
     .b = {1, 3, 3, 7}, .len = 4, .want = OK, .present = TW_OPT_WSCALE, .wscale = 7},
    {.what = "window scale 14",
     .b = {1, 3, 3, 14}, .len = 4, .want = OK, .present = TW_OPT_WSCALE, .wscale = 14},
    {.what = "window scale 15 clamped to 14 (RFC 7323 2.3)",
     .b = {1, 3, 3, 15}, .len = 4, .want = OK, .present = TW_OPT_WSCALE, .wscale = 14},
    {.what = "window scale 255 clamped to 14",
     .b = {1, 3, 3, 255}, .len = 4, .want = OK, .present = TW_OPT_WSCALE, .wscale = 14},
    {.what = "SACK-permitted",
     .b = {1, 1, 4, 2}, .len = 4, .want = OK, .present = TW_OPT_SACK_PERM},
    {.what = "timestamps",
     .b = {1, 1, TS(0x01020304u, 0xfffffffeu)}, .len = 12, .want = OK, .present = TW_OPT_TS,
     .ts_val = 0x01020304u, .ts_ecr = 0xfffffffeu},
    {.what = "SACK, 1 block",
     .b = {1, 1, 5, 10, BLK(1000, 2000)}, .len = 12, .want = OK, .present = TW_OPT_SACK,
     .sack_n = 1, .sack = {1000, 2000}},
    {.what = "SACK, 4 blocks: the whole 40 bytes",
     .b = {1, 1, 5, 34, BLK(1, 2), BLK(3, 4), BLK(5, 6), BLK(7, 8), 1, 1, 1, 1}, .len = 40,
     .want = OK, .present = TW_OPT_SACK, .sack_n = 4, .sack = {1, 2, 3, 4, 5, 6, 7, 8}},
    {.what = "Linux SYN: MSS, SACK-perm, TS, NOP, WS",
     .b = {MSS1460, 4, 2, TS(12345, 0), 1, 3, 3, 7}, .len = 20, .want = OK,
     .present = TW_OPT_MSS | TW_OPT_SACK_PERM | TW_OPT_TS | TW_OPT_WSCALE,
     .mss = 1460, .wscale = 7, .ts_val = 12345},
    {.what = "Linux SYN layout with window scale 15 clamped to 14 (fast path)",
     .b = {MSS1460, 4, 2, TS(1, 2), 1, 3, 3, 15}, .len = 20, .want = OK,
     .present = TW_OPT_MSS | TW_OPT_SACK_PERM | TW_OPT_TS | TW_OPT_WSCALE,
     .mss = 1460, .wscale = 14, .ts_val = 1, .ts_ecr = 2},
    {.what = "SYN layout with a bad window-scale length is not the fast path's",
     .b = {MSS1460, 4, 2, TS(1, 2), 1, 3, 4, 7}, .len = 20, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "SYN layout with MSS length 5 is not the fast path's",
     .b = {2, 5, 5, 0xb4, 4, 2, TS(1, 2), 1, 3, 3, 7}, .len = 20,
     .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "NOP, NOP, TS with TS length 11 is not the fast path's",
     .b = {1, 1, 8, 11, 0, 0, 0, 1, 0, 0, 0, 2}, .len = 12, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "unknown kind skipped by its length (MUST-68)",
     .b = {30, 4, 0xaa, 0xbb, MSS1460}, .len = 8, .want = OK, .present = TW_OPT_MSS, .mss = 1460},
    {.what = "unknown kind of length 2",
     .b = {99, 2, MSS1460}, .len = 6, .want = OK, .present = TW_OPT_MSS, .mss = 1460},
    {.what = "unknown kind ending exactly at the end", .b = {253, 4, 0, 0}, .len = 4, .want = OK},
    {.what = "unknown kind twice is not a duplicate", .b = {30, 2, 30, 2}, .len = 4, .want = OK},
    {.what = "kind 255 with a length is just unknown", .b = {255, 3, 0, 1}, .len = 4, .want = OK},
    /* no length byte */
    {.what = "MSS kind, no length byte", .b = {2}, .len = 1, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "kind as the last byte after NOPs",
     .b = {1, 1, 1, 8}, .len = 4, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "unknown kind, no length byte", .b = {30}, .len = 1, .want = TW_CNT_TCP_RX_BAD_OPTION},
    /* length 0 and 1 (would loop forever or go backwards) */
    {.what = "MSS length 0", .b = {2, 0, 5, 0xb4}, .len = 4, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "MSS length 1", .b = {2, 1, 5, 0xb4}, .len = 4, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "unknown length 0", .b = {30, 0, 0, 0}, .len = 4, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "unknown length 1", .b = {30, 1, 0, 0}, .len = 4, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "SACK length 0", .b = {5, 0, 1, 1}, .len = 4, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "TS length 1", .b = {8, 1, 1, 1}, .len = 4, .want = TW_CNT_TCP_RX_BAD_OPTION},
    /* length past the end of the option space */
    {.what = "MSS cut short", .b = {2, 4, 5}, .len = 3, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "TS cut short",
     .b = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0}, .len = 10, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "unknown kind longer than the rest",
     .b = {30, 10, 0, 0}, .len = 4, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "length 255",
     .b = {30, 255, 0, 0, 0, 0, 0, 0}, .len = 8, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "length one past the end",
     .b = {1, 1, 30, 3}, .len = 4, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "SACK with 5 blocks cannot fit in 40 bytes",
     .b = {5, 42, BLK(1, 2), BLK(3, 4), BLK(5, 6), BLK(7, 8), 0, 0, 0, 0, 0, 0}, .len = 40,
     .want = TW_CNT_TCP_RX_BAD_OPTION},
    /* wrong size for a known option */
    {.what = "MSS length 3", .b = {2, 3, 5, 0}, .len = 4, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "MSS length 5",
     .b = {2, 5, 5, 0xb4, 0, 0, 0, 0}, .len = 8, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "MSS length 6",
     .b = {2, 6, 5, 0xb4, 0, 0, 0, 0}, .len = 8, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "window scale length 2",
     .b = {3, 2, 1, 1}, .len = 4, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "window scale length 4",
     .b = {3, 4, 7, 0}, .len = 4, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "SACK-permitted length 3",
     .b = {4, 3, 0, 1}, .len = 4, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "SACK-permitted length 4",
     .b = {4, 4, 0, 0}, .len = 4, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "timestamps length 9",
     .b = {8, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, .len = 12, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "timestamps length 11",
     .b = {8, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, .len = 12, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "timestamps length 2", .b = {8, 2, 1, 1}, .len = 4, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "SACK with 0 blocks (length 2)",
     .b = {1, 1, 5, 2}, .len = 4, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "SACK length 9",
     .b = {5, 9, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1}, .len = 12, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "SACK length 11",
     .b = {5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, .len = 12, .want = TW_CNT_TCP_RX_BAD_OPTION},
    {.what = "SACK length 17",
     .b = {5, 17, BLK(1, 2), 0, 0, 0, 0, 0, 0, 0, 1, 1, 1}, .len = 20,
     .want = TW_CNT_TCP_RX_BAD_OPTION},
    /* a bad option after a good one still drops the segment */
    {.what = "MSS then window scale of length 0",
     .b = {MSS1460, 3, 0, 0, 0}, .len = 8, .want = TW_CNT_TCP_RX_BAD_OPTION},
    /* duplicates */
    {.what = "MSS twice", .b = {MSS1460, MSS1460}, .len = 8, .want = TW_CNT_TCP_RX_DUP_OPTION},
    {.what = "MSS twice, different values",
     .b = {MSS1460, 2, 4, 0x02, 0x18}, .len = 8, .want = TW_CNT_TCP_RX_DUP_OPTION},
    {.what = "window scale twice",
     .b = {1, 3, 3, 7, 1, 3, 3, 7}, .len = 8, .want = TW_CNT_TCP_RX_DUP_OPTION},
    {.what = "SACK-permitted twice", .b = {4, 2, 4, 2}, .len = 4, .want = TW_CNT_TCP_RX_DUP_OPTION},
    {.what = "timestamps twice",
     .b = {TS(1, 2), TS(3, 4)}, .len = 20, .want = TW_CNT_TCP_RX_DUP_OPTION},
    {.what = "SACK twice",
     .b = {5, 10, BLK(1, 2), 5, 10, BLK(3, 4)}, .len = 20, .want = TW_CNT_TCP_RX_DUP_OPTION},
};
/* clang-format on */

static void check_opts(const tw_tcp_opts *o, const opt_case *c)
{
    UNIT_EQ(o->present, c->present, "%s", c->what);
    if (c->present & TW_OPT_MSS) {
        UNIT_EQ(o->mss, c->mss, "%s", c->what);
    }
    if (c->present & TW_OPT_WSCALE) {
        UNIT_EQ(o->wscale, c->wscale, "%s", c->what);
    }
    if (c->present & TW_OPT_TS) {
        UNIT_EQ(o->ts_val, c->ts_val, "%s", c->what);
        UNIT_EQ(o->ts_ecr, c->ts_ecr, "%s", c->what);
    }
    if (c->present & TW_OPT_SACK) {
        UNIT_EQ(o->sack_n, c->sack_n, "%s", c->what);
        for (unsigned i = 0; i < c->sack_n; i++) {
            UNIT_EQ(o->sack[i].start, c->sack[2 * i], "%s block %u", c->what, i);
            UNIT_EQ(o->sack[i].end, c->sack[2 * i + 1], "%s block %u", c->what, i);
        }
    }
}

static void test_tcp_hdr_option_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(opt_cases) / sizeof(opt_cases[0]); i++) {
        const opt_case *c = &opt_cases[i];
        /* exact-size copy: an option read one byte too far is an ASan error */
        uint8_t *b = malloc(c->len ? c->len : 1);
        assert_non_null(b);
        memcpy(b, c->b, c->len);
        tw_tcp_opts o;
        memset(&o, 0x5a, sizeof(o)); /* parse must not depend on the caller clearing */
        enum tw_counter got = tw_tcp_parse_opts(&o, b, c->len);
        free(b);
        if (got != c->want) {
            fail_msg("%s: got %s, expected %s", c->what,
                     got == OK ? "accepted" : tw_counter_name(got),
                     c->want == OK ? "accepted" : tw_counter_name(c->want));
        }
        if (got == OK) {
            check_opts(&o, c);
        }
    }
}

/* A 5-block SACK option handed straight to the option parser (42 bytes, possible only
   if a caller passed more than a header can hold): still refused, RFC 2018 3 allows 4. */
static void test_tcp_hdr_sack_five_blocks(void **state)
{
    (void)state;
    uint8_t b[42] = {5, 42};
    for (int i = 0; i < 10; i++) {
        tw_put32(b + 2 + 4 * i, (uint32_t)(100 * i));
    }
    tw_tcp_opts o;
    assert_int_equal(tw_tcp_parse_opts(&o, b, sizeof(b)), TW_CNT_TCP_RX_BAD_OPTION);
}

/* ---- option building ------------------------------------------------------------- */

/* Linux's SYN layout, byte for byte (tcpdump: "mss 1460,sackOK,TS val 7 ecr 0,nop,wscale 7"),
   and the 12-byte timestamp block of Linux data segments. */
static void test_tcp_hdr_build_known_layouts(void **state)
{
    (void)state;
    tw_tcp_opts o = {.present = TW_OPT_MSS | TW_OPT_SACK_PERM | TW_OPT_TS | TW_OPT_WSCALE,
                     .mss = 1460,
                     .wscale = 7,
                     .ts_val = 7,
                     .ts_ecr = 0};
    uint8_t b[40];
    static const uint8_t syn[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                  0, 7, 0,    0,    0, 0, 1, 3,  3, 7};
    assert_int_equal(tw_tcp_build_opts(b, &o), sizeof(syn));
    assert_memory_equal(b, syn, sizeof(syn));

    tw_tcp_opts ts = {.present = TW_OPT_TS, .ts_val = 0x11223344u, .ts_ecr = 0x55667788u};
    static const uint8_t data[] = {1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    assert_int_equal(tw_tcp_build_opts(b, &ts), sizeof(data));
    assert_memory_equal(b, data, sizeof(data));

    tw_tcp_opts none = {0};
    assert_int_equal(tw_tcp_build_opts(b, &none), 0);
}

/* Every combination of options and SACK block counts builds to a 4-byte multiple of at
   most 40 bytes and parses back to the same values; SACK blocks that do not fit next to
   the other options are dropped from the end, never truncated mid-block. */
static void test_tcp_hdr_build_round_trip(void **state)
{
    (void)state;
    unit_rng r = unit_rng_seeded(__func__);
    for (unsigned mask = 0; mask < 32; mask++) {
        for (uint8_t sack_n = 0; sack_n <= TW_SACK_MAX_BLOCKS; sack_n++) {
            tw_tcp_opts in;
            memset(&in, 0, sizeof(in));
            in.present = (uint8_t)mask;
            in.mss = (uint16_t)unit_next(&r);
            in.wscale = (uint8_t)unit_below(&r, 15);
            in.ts_val = (uint32_t)unit_next(&r);
            in.ts_ecr = (uint32_t)unit_next(&r);
            in.sack_n = sack_n;
            for (unsigned i = 0; i < sack_n; i++) {
                in.sack[i].start = (uint32_t)unit_next(&r);
                in.sack[i].end = (uint32_t)unit_next(&r);
            }
            uint8_t b[TW_TCP_MAX_OPT + 8];
            memset(b, 0xee, sizeof(b));
            size_t len = tw_tcp_build_opts(b, &in);
            UNIT_EQ(len % 4, 0, "mask 0x%x sack %u", mask, sack_n);
            UNIT_EQ(len <= TW_TCP_MAX_OPT, 1, "mask 0x%x sack %u", mask, sack_n);
            UNIT_EQ(b[len], 0xee, "mask 0x%x sack %u: wrote past the length", mask, sack_n);

            /* what the other options leave for SACK (sizes: RFC 9293 3.2, RFC 7323,
               RFC 2018, each padded to a word as the builder does) */
            size_t used = (mask & TW_OPT_MSS ? 4 : 0) + (mask & TW_OPT_WSCALE ? 4 : 0) +
                          (mask & TW_OPT_TS ? 12 : (mask & TW_OPT_SACK_PERM ? 4 : 0));
            unsigned fit = 0;
            if (mask & TW_OPT_SACK) {
                while (fit < sack_n && 4 + 8 * (fit + 1) <= TW_TCP_MAX_OPT - used) {
                    fit++;
                }
            }
            tw_tcp_opts out;
            UNIT_EQ(tw_tcp_parse_opts(&out, b, len), OK, "mask 0x%x sack %u", mask, sack_n);
            uint8_t want = (uint8_t)(fit ? mask : mask & ~TW_OPT_SACK);
            UNIT_EQ(out.present, want, "mask 0x%x sack %u", mask, sack_n);
            if (mask & TW_OPT_MSS) {
                UNIT_EQ(out.mss, in.mss, "mask 0x%x", mask);
            }
            if (mask & TW_OPT_WSCALE) {
                UNIT_EQ(out.wscale, in.wscale, "mask 0x%x", mask);
            }
            if (mask & TW_OPT_TS) {
                UNIT_EQ(out.ts_val, in.ts_val, "mask 0x%x", mask);
                UNIT_EQ(out.ts_ecr, in.ts_ecr, "mask 0x%x", mask);
            }
            if (fit) {
                UNIT_EQ(out.sack_n, fit, "mask 0x%x sack %u", mask, sack_n);
                for (unsigned i = 0; i < fit; i++) {
                    UNIT_EQ(out.sack[i].start, in.sack[i].start, "mask 0x%x block %u", mask, i);
                    UNIT_EQ(out.sack[i].end, in.sack[i].end, "mask 0x%x block %u", mask, i);
                }
            }
        }
    }
}

/* ---- whole segments ---------------------------------------------------------------- */

typedef struct seg {
    uint8_t b[360];
    size_t len;
} seg;

static void fix_tcp_csum(seg *s, uint32_t src, uint32_t dst)
{
    tw_put16(s->b + 16, 0);
    uint32_t sum = tw_cksum_pseudo(src, dst, TW_IPPROTO_TCP, (uint16_t)s->len);
    tw_put16(s->b + 16, tw_cksum_fin(tw_cksum_add(sum, s->b, s->len, 0)));
}

/* A SYN+ACK-shaped segment with MSS and timestamps and `plen` payload bytes, built by the
   code under test. */
static seg build_seg(uint8_t flags, size_t plen)
{
    seg s;
    memset(&s, 0, sizeof(s));
    tw_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    h.sport = 40000;
    h.dport = 8080;
    h.seq = 0xfffffff0u;
    h.ack = 0x01020304u;
    h.flags = flags;
    h.win = 29200;
    h.urg = 0;
    h.o.present = TW_OPT_MSS | TW_OPT_TS;
    h.o.mss = 1400;
    h.o.ts_val = 100;
    h.o.ts_ecr = 200;
    h.payload_len = (uint32_t)plen;
    size_t hlen = 20 + 4 + 12;
    uint8_t data[64];
    for (size_t i = 0; i < plen; i++) {
        data[i] = (uint8_t)(0xc1 + 13 * i);
    }
    uint32_t psum = tw_cksum_copy(0, s.b + hlen, data, plen, 0);
    UNIT_EQ(tw_tcp_build(s.b, &h, SRC, DST, psum), hlen, "header length");
    s.len = hlen + plen;
    return s;
}

static void test_tcp_hdr_build_then_parse(void **state)
{
    (void)state;
    for (size_t plen = 0; plen <= 33; plen++) { /* odd and even payloads */
        seg s = build_seg(TW_SYN | TW_ACK, plen);
        tw_tcp_hdr h;
        UNIT_EQ(tw_tcp_parse(&h, s.b, s.len, SRC, DST), OK, "payload %zu", plen);
        assert_int_equal(h.sport, 40000);
        assert_int_equal(h.dport, 8080);
        assert_int_equal(h.seq, 0xfffffff0u);
        assert_int_equal(h.ack, 0x01020304u);
        assert_int_equal(h.flags, TW_SYN | TW_ACK);
        assert_int_equal(h.win, 29200);
        assert_int_equal(h.hdr_len, 36);
        assert_int_equal(h.o.present, TW_OPT_MSS | TW_OPT_TS);
        assert_int_equal(h.o.mss, 1400);
        assert_int_equal(h.o.ts_val, 100);
        assert_int_equal(h.o.ts_ecr, 200);
        assert_int_equal(h.payload_len, plen);
        assert_ptr_equal(h.payload, s.b + 36);
        /* the checksum is bound to the pseudo-header: another source fails it */
        UNIT_EQ(tw_tcp_parse(&h, s.b, s.len, SRC + 1, DST), TW_CNT_TCP_RX_BAD_CSUM, "payload %zu",
                plen);
    }
}

/* S18: every flag bit is carried exactly, alone and together with ACK. */
static void test_tcp_hdr_s18_flags_exact(void **state)
{
    (void)state;
    static const uint8_t bits[] = {TW_FIN, TW_SYN, TW_RST, TW_PSH, TW_URG, TW_ECE, TW_CWR};
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        uint8_t f = (uint8_t)(bits[i] | TW_ACK);
        seg s = build_seg(f, 0);
        UNIT_EQ(s.b[13], f, "flag 0x%02x on the wire", bits[i]);
        tw_tcp_hdr h;
        UNIT_EQ(tw_tcp_parse(&h, s.b, s.len, SRC, DST), OK, "flag 0x%02x", bits[i]);
        UNIT_EQ(h.flags, f, "flag 0x%02x", bits[i]);
    }
}

typedef struct seg_case {
    const char *what;
    void (*mutate)(seg *);
    bool keep_csum;
    enum tw_counter want;
} seg_case;

static void s_none(seg *s)
{
    (void)s;
}
static void s_len19(seg *s)
{
    s->len = 19;
}
static void s_len0(seg *s)
{
    s->len = 0;
}
static void s_off4(seg *s)
{
    s->b[12] = 4 << 4;
}
static void s_off0(seg *s)
{
    s->b[12] = 0;
}
static void s_off_past_end(seg *s)
{
    s->b[12] = 15 << 4; /* 60 > 36-byte segment */
}
static void s_off_past_end_by4(seg *s)
{
    s->len = 32; /* drop the last 4 option bytes: offset 9 (36) > 32 */
}
static void s_off5_options_as_payload(seg *s)
{
    s->b[12] = 5 << 4; /* legal: the option bytes become payload */
}
static void s_reserved_bits(seg *s)
{
    s->b[12] |= 0x0f; /* RFC 9293 3.1: reserved, ignored on receipt */
}
static void s_bad_csum(seg *s)
{
    s->b[17] ^= 0x40;
}
static void s_sport0(seg *s)
{
    tw_put16(s->b, 0);
}
static void s_dport0(seg *s)
{
    tw_put16(s->b + 2, 0);
}
static void s_syn_fin(seg *s)
{
    s->b[13] = TW_SYN | TW_FIN;
}
static void s_syn_rst(seg *s)
{
    s->b[13] = TW_SYN | TW_RST | TW_ACK;
}
static void s_no_flags(seg *s)
{
    s->b[13] = 0;
}
static void s_psh_urg_only(seg *s)
{
    s->b[13] = TW_PSH | TW_URG;
}
static void s_fin_only(seg *s)
{
    s->b[13] = TW_FIN;
}
static void s_rst_only(seg *s)
{
    s->b[13] = TW_RST;
}
static void s_bad_option(seg *s)
{
    s->b[21] = 1; /* MSS length 1 */
}
static void s_dup_option(seg *s)
{
    memcpy(s->b + 24, "\x02\x04\x05\xb4", 4); /* NOP NOP before TS become a second MSS */
}

static const seg_case seg_cases[] = {
    {"valid", s_none, false, OK},
    {"19 bytes", s_len19, false, TW_CNT_TCP_RX_TOO_SHORT},
    {"empty", s_len0, false, TW_CNT_TCP_RX_TOO_SHORT},
    {"data offset 4", s_off4, false, TW_CNT_TCP_RX_BAD_OFFSET},
    {"data offset 0", s_off0, false, TW_CNT_TCP_RX_BAD_OFFSET},
    {"data offset 15 past the segment", s_off_past_end, false, TW_CNT_TCP_RX_BAD_OFFSET},
    {"data offset 9 in a 32-byte segment", s_off_past_end_by4, false, TW_CNT_TCP_RX_BAD_OFFSET},
    {"data offset 5, options read as payload", s_off5_options_as_payload, false, OK},
    {"reserved bits set", s_reserved_bits, false, OK},
    {"bad checksum", s_bad_csum, true, TW_CNT_TCP_RX_BAD_CSUM},
    {"source port 0", s_sport0, false, TW_CNT_TCP_RX_BAD_PORT},
    {"destination port 0", s_dport0, false, TW_CNT_TCP_RX_BAD_PORT},
    /* (the state machine decides: RST at a closed port, RFC 9293 3.10.7.1; dropped at
       a listener, as Linux does; the SYN rules elsewhere: scripts states/..._syn_fin) */
    {"SYN+FIN (the state machine decides)", s_syn_fin, false, OK},
    {"SYN+RST+ACK (taken as RST+ACK)", s_syn_rst, false, OK},
    {"no flags (the state machine decides)", s_no_flags, false, OK},
    /* Not a null scan: the state machine decides (RST at a closed port, RFC 9293
       3.10.7.1; dropped for the missing ACK on a connection). */
    {"PSH+URG, no control bit", s_psh_urg_only, false, OK},
    {"FIN alone", s_fin_only, false, OK},
    {"RST alone", s_rst_only, false, OK},
    {"malformed option", s_bad_option, false, TW_CNT_TCP_RX_BAD_OPTION},
    {"duplicate option", s_dup_option, false, TW_CNT_TCP_RX_DUP_OPTION},
};

static void test_tcp_hdr_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(seg_cases) / sizeof(seg_cases[0]); i++) {
        const seg_case *c = &seg_cases[i];
        seg s = build_seg(TW_SYN | TW_ACK, 0);
        c->mutate(&s);
        if (!c->keep_csum && s.len >= 20) {
            fix_tcp_csum(&s, SRC, DST);
        }
        uint8_t *copy = malloc(s.len ? s.len : 1);
        assert_non_null(copy);
        memcpy(copy, s.b, s.len);
        tw_tcp_hdr h;
        enum tw_counter got = tw_tcp_parse(&h, copy, s.len, SRC, DST);
        free(copy);
        if (got != c->want) {
            fail_msg("%s: got %s, expected %s", c->what,
                     got == OK ? "accepted" : tw_counter_name(got),
                     c->want == OK ? "accepted" : tw_counter_name(c->want));
        }
    }
    /* data offset 5: the 16 option bytes are payload, and no option is seen */
    seg s = build_seg(TW_ACK, 0);
    s_off5_options_as_payload(&s);
    fix_tcp_csum(&s, SRC, DST);
    tw_tcp_hdr h;
    assert_int_equal(tw_tcp_parse(&h, s.b, s.len, SRC, DST), OK);
    assert_int_equal(h.o.present, 0);
    assert_int_equal(h.payload_len, 16);
}

/* R8: no single-bit error in a segment is accepted (the Internet checksum catches every
   one; some are caught earlier by another check), and nothing is read out of bounds. */
static void test_tcp_hdr_r8_every_bit_flip_dropped(void **state)
{
    (void)state;
    seg s = build_seg(TW_ACK | TW_PSH, 21);
    for (size_t bit = 0; bit < 8 * s.len; bit++) {
        uint8_t *copy = malloc(s.len);
        assert_non_null(copy);
        memcpy(copy, s.b, s.len);
        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        tw_tcp_hdr h;
        enum tw_counter got = tw_tcp_parse(&h, copy, s.len, SRC, DST);
        free(copy);
        UNIT_EQ(got != OK, 1, "bit %zu flipped was accepted", bit);
    }
}

/* R8: the segment cut at every length is dropped, never over-read. */
static void test_tcp_hdr_r8_truncated_everywhere(void **state)
{
    (void)state;
    seg s = build_seg(TW_ACK, 11);
    for (size_t len = 0; len < s.len; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        assert_non_null(copy);
        memcpy(copy, s.b, len);
        tw_tcp_hdr h;
        enum tw_counter got = tw_tcp_parse(&h, copy, len, SRC, DST);
        free(copy);
        enum tw_counter want = len < 20   ? TW_CNT_TCP_RX_TOO_SHORT
                               : len < 36 ? TW_CNT_TCP_RX_BAD_OFFSET
                                          : TW_CNT_TCP_RX_BAD_CSUM;
        UNIT_EQ(got, want, "length %zu", len);
    }
}

/* ---- the one-pass parse of the usual packet (tw_tcp_parse_usual) ------------------ */

typedef struct pkt {
    uint8_t b[400];
    size_t len;
} pkt;

/* IPv4 (built by the code under test: DF, TTL 64) around `s`, then `pad` bytes of link
   padding after it. */
static pkt wrap(const seg *s, size_t pad)
{
    pkt p;
    memset(&p, 0, sizeof(p));
    tw_ipv4_build(p.b, SRC, DST, TW_IPPROTO_TCP, (uint16_t)s->len, 7);
    memcpy(p.b + 20, s->b, s->len);
    memset(p.b + 20 + s->len, 0xa5, pad);
    p.len = 20 + s->len + pad;
    return p;
}

static void fix_ip_csum(pkt *p)
{
    size_t ihl = (size_t)(p->b[0] & 0xfu) * 4u;
    tw_put16(p->b + 10, 0);
    tw_put16(p->b + 10, tw_cksum_fin(tw_cksum_add(0, p->b, ihl, 0)));
}

/* An ACK with no options, or NOP NOP TS, and `plen` payload bytes. */
static seg build_plain(uint8_t flags, bool ts, size_t plen)
{
    seg s;
    memset(&s, 0, sizeof(s));
    tw_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    h.sport = 5001;
    h.dport = 40001;
    h.seq = 0x80000001u;
    h.ack = 0x7ffffff0u;
    h.flags = flags;
    h.win = 1234;
    h.urg = 0x0102;
    if (ts) {
        h.o.present = TW_OPT_TS;
        h.o.ts_val = 0xdeadbeefu;
        h.o.ts_ecr = 7;
    }
    h.payload_len = (uint32_t)plen;
    size_t hlen = ts ? 32u : 20u;
    uint8_t data[sizeof(s.b)];
    for (size_t i = 0; i < plen; i++) {
        data[i] = (uint8_t)(0x3d + 29 * i);
    }
    uint32_t psum = tw_cksum_copy(0, s.b + hlen, data, plen, 0);
    UNIT_EQ(tw_tcp_build(s.b, &h, SRC, DST, psum), hlen, "header length");
    s.len = hlen + plen;
    return s;
}

/* A SYN or SYN+ACK in the SYN layout of Linux and of tcpwave (MSS, SACK-permitted, TS,
   NOP, WS), the one the usual parse reads inline (tw_tcp_opts_syn_layout). */
static seg build_syn(uint8_t flags, uint8_t wscale)
{
    seg s;
    memset(&s, 0, sizeof(s));
    tw_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    h.sport = 40002;
    h.dport = 80;
    h.seq = 0x12345678u;
    h.ack = (flags & TW_ACK) ? 0x9abcdef0u : 0;
    h.flags = flags;
    h.win = 64240;
    h.o.present = TW_OPT_MSS | TW_OPT_SACK_PERM | TW_OPT_TS | TW_OPT_WSCALE;
    h.o.mss = 1460;
    h.o.wscale = wscale;
    h.o.ts_val = 0x01020304u;
    h.o.ts_ecr = (flags & TW_ACK) ? 0x0a0b0c0du : 0;
    UNIT_EQ(tw_tcp_build(s.b, &h, SRC, DST, 0), 40, "header length");
    UNIT_EQ(tw_get32(s.b + 24), 0x0402080au, "the SYN layout");
    s.len = 40;
    return s;
}

/* What tw_stack_input's full path concludes: a valid TCP segment, `h` and `*src` filled. */
static bool full_parse(tw_tcp_hdr *h, uint32_t *src, const uint8_t *p, size_t len)
{
    tw_ipv4_hdr ip;
    if (tw_ipv4_parse(&ip, p, len, DST) != OK || ip.proto != TW_IPPROTO_TCP ||
        tw_tcp_parse(h, ip.payload, ip.payload_len, ip.src, DST) != OK) {
        return false;
    }
    *src = ip.src;
    return true;
}

/* The one-pass parse must take a packet of its shape (version 4, IHL 5, TCP) exactly
   when the full parsers take it, with the same fields, and never take another shape
   (the full path then names the drop). Exceptions: SYN+RST, which the full parser takes
   as a RST, and SYN+FIN and a segment with no flags, which it hands to the state machine
   (tcp_hdr.c): the one-pass parse leaves them to it (rare: no test on the usual path for
   them). */
static void check_usual(const uint8_t *b, size_t len, const char *what, size_t i)
{
    uint8_t *copy = malloc(len ? len : 1); /* ASan sees any over-read */
    assert_non_null(copy);
    memcpy(copy, b, len);
    tw_tcp_hdr f, u;
    uint32_t fsrc = 0, usrc = 0;
    bool full = full_parse(&f, &fsrc, copy, len);
    bool usual = tw_tcp_parse_usual(&u, &usrc, copy, len, DST);
    bool shape = len >= 10 && copy[0] == 0x45 && copy[9] == TW_IPPROTO_TCP;
    bool syn_rst = len >= 34 && ((copy[33] & (TW_SYN | TW_RST)) == (TW_SYN | TW_RST) ||
                                 (copy[33] & (TW_SYN | TW_FIN)) == (TW_SYN | TW_FIN) ||
                                 (copy[33] & 0x3f) == 0);
    /* (and a segment with a Fast Open option, RFC 7413, left to the full parsers too:
       tcp_hdr.h) */
    bool fo = full && (f.o.present & TW_OPT_FASTOPEN);
    UNIT_EQ(usual, shape && full && !syn_rst && !fo, "%s %zu: usual %d, full %d", what, i,
            usual, full);
    if (usual) {
        UNIT_EQ(usrc, fsrc, "%s %zu: source", what, i);
        UNIT_EQ(u.sport, f.sport, "%s %zu: sport", what, i);
        UNIT_EQ(u.dport, f.dport, "%s %zu: dport", what, i);
        UNIT_EQ(u.seq, f.seq, "%s %zu: seq", what, i);
        UNIT_EQ(u.ack, f.ack, "%s %zu: ack", what, i);
        UNIT_EQ(u.hdr_len, f.hdr_len, "%s %zu: header length", what, i);
        UNIT_EQ(u.flags, f.flags, "%s %zu: flags", what, i);
        UNIT_EQ(u.win, f.win, "%s %zu: window", what, i);
        UNIT_EQ(u.urg, f.urg, "%s %zu: urgent pointer", what, i);
        UNIT_EQ(u.payload == f.payload, 1, "%s %zu: payload", what, i);
        UNIT_EQ(u.payload_len, f.payload_len, "%s %zu: payload length", what, i);
        UNIT_EQ(u.o.present, f.o.present, "%s %zu: options", what, i);
        UNIT_EQ(u.o.mss, f.o.mss, "%s %zu: MSS", what, i);
        UNIT_EQ(u.o.wscale, f.o.wscale, "%s %zu: window scale", what, i);
        UNIT_EQ(u.o.ts_val, f.o.ts_val, "%s %zu: TSval", what, i);
        UNIT_EQ(u.o.ts_ecr, f.o.ts_ecr, "%s %zu: TSecr", what, i);
        UNIT_EQ(u.o.sack_n, f.o.sack_n, "%s %zu: SACK blocks", what, i);
        for (unsigned k = 0; k < f.o.sack_n; k++) {
            UNIT_EQ(u.o.sack[k].start, f.o.sack[k].start, "%s %zu: SACK", what, i);
            UNIT_EQ(u.o.sack[k].end, f.o.sack[k].end, "%s %zu: SACK", what, i);
        }
    }
    free(copy);
}

/* IPv4 header variations, each applied to every segment shape below. */
static void v_none(pkt *p)
{
    (void)p;
}
static void v_mf(pkt *p)
{
    p->b[6] |= 0x20;
    fix_ip_csum(p);
}
static void v_offset(pkt *p)
{
    p->b[7] = 1;
    fix_ip_csum(p);
}
static void v_df_clear(pkt *p)
{
    p->b[6] = 0;
    fix_ip_csum(p);
}
static void v_not_ours(pkt *p)
{
    p->b[19] ^= 1;
    fix_ip_csum(p);
}
static void v_bad_ip_csum(pkt *p)
{
    p->b[10] ^= 0x10;
}
static void v_src_loopback(pkt *p)
{
    tw_put32(p->b + 12, 0x7f000001u);
    fix_ip_csum(p);
}
static void v_src_self(pkt *p)
{
    tw_put32(p->b + 12, DST);
    fix_ip_csum(p);
}
static void v_src_multicast(pkt *p)
{
    tw_put32(p->b + 12, 0xe0000001u);
    fix_ip_csum(p);
}
static void v_src_broadcast(pkt *p)
{
    tw_put32(p->b + 12, 0xffffffffu);
    fix_ip_csum(p);
}
static void v_src_zero(pkt *p)
{
    tw_put32(p->b + 12, 0);
    fix_ip_csum(p);
}
static void v_total_short(pkt *p)
{
    tw_put16(p->b + 2, (uint16_t)(tw_get16(p->b + 2) - 1));
    fix_ip_csum(p);
}
static void v_total_long(pkt *p)
{
    tw_put16(p->b + 2, (uint16_t)(tw_get16(p->b + 2) + 1));
    fix_ip_csum(p);
}
static void v_total_39(pkt *p)
{
    tw_put16(p->b + 2, 39);
    fix_ip_csum(p);
}
static void v_version6(pkt *p)
{
    p->b[0] = 0x65;
    fix_ip_csum(p);
}
static void v_udp(pkt *p)
{
    p->b[9] = 17;
    fix_ip_csum(p);
}
static void v_ip_option(pkt *p)
{
    /* IHL 6 with a NOP option word: the full path's business (the TCP checksum then
       fails there, the segment having moved). */
    memmove(p->b + 24, p->b + 20, p->len - 20);
    memset(p->b + 20, 1, 4);
    p->b[0] = 0x46;
    p->len += 4;
    tw_put16(p->b + 2, (uint16_t)(tw_get16(p->b + 2) + 4));
    fix_ip_csum(p);
}

static void (*const ip_variants[])(pkt *) = {
    v_none,        v_mf,           v_offset,        v_df_clear,      v_not_ours,
    v_bad_ip_csum, v_src_loopback, v_src_self,      v_src_multicast, v_src_broadcast,
    v_src_zero,    v_total_short,  v_total_long,    v_total_39,      v_version6,
    v_udp,         v_ip_option,
};

static void test_tcp_hdr_usual_agrees_with_full_parsers(void **state)
{
    (void)state;
    /* Every malformed TCP shape of the table, under every IPv4 variation, with and
       without link padding. */
    for (size_t i = 0; i < sizeof(seg_cases) / sizeof(seg_cases[0]); i++) {
        for (size_t v = 0; v < sizeof(ip_variants) / sizeof(ip_variants[0]); v++) {
            for (size_t pad = 0; pad < 3; pad += 2) {
                seg s = build_seg(TW_SYN | TW_ACK, 5);
                seg_cases[i].mutate(&s);
                if (!seg_cases[i].keep_csum && s.len >= 20) {
                    fix_tcp_csum(&s, SRC, DST);
                }
                pkt p = wrap(&s, pad);
                ip_variants[v](&p);
                check_usual(p.b, p.len, seg_cases[i].what, v);
            }
        }
    }
    /* The usual layouts at payload lengths 0..139 and some longer ones, each bit
       flipped, and cut at every length. */
    for (int ts = 0; ts < 2; ts++) {
        for (size_t plen = 0; plen <= 300; plen += plen < 140 ? 1 : 37) {
            seg s = build_plain(TW_ACK | TW_PSH, ts != 0, plen);
            pkt p = wrap(&s, plen % 3);
            check_usual(p.b, p.len, "payload length", plen);
            UNIT_EQ(full_parse(&(tw_tcp_hdr){0}, &(uint32_t){0}, p.b, p.len), 1,
                    "payload length %zu rejected", plen);
        }
        seg s = build_plain(TW_ACK | TW_FIN, ts != 0, 21);
        pkt p = wrap(&s, 0);
        for (size_t bit = 0; bit < 8 * p.len; bit++) {
            pkt q = p;
            q.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            check_usual(q.b, q.len, "bit flipped", bit);
        }
        for (size_t len = 0; len < p.len; len++) {
            check_usual(p.b, len, "cut at", len);
        }
    }
    /* The SYN layout (window scales up to 14 and one past, which reads as 14, RFC 7323
       2.3), each bit of the TCP header flipped with the checksum made right again (so
       the header's own reading decides: a flip in the options leaves the layout or
       changes a value it carries, one in the data offset puts the layout in a shorter
       or longer header), and cut. */
    static const uint8_t wscales[] = {0, 7, 14, 15};
    for (size_t k = 0; k < sizeof(wscales); k++) {
        uint8_t wscale = wscales[k];
        for (int ack = 0; ack < 2; ack++) {
            seg s = build_syn(ack ? TW_SYN | TW_ACK : TW_SYN, wscale);
            pkt p = wrap(&s, 0);
            check_usual(p.b, p.len, "SYN layout, window scale", (size_t)wscale);
            for (size_t bit = 0; bit < 8 * s.len; bit++) {
                seg q = s;
                q.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                fix_tcp_csum(&q, SRC, DST);
                pkt qp = wrap(&q, 0);
                check_usual(qp.b, qp.len, "SYN layout, bit flipped", bit);
            }
            for (size_t len = 0; len < p.len; len++) {
                check_usual(p.b, len, "SYN layout, cut at", len);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_hdr_option_table),
        cmocka_unit_test(test_tcp_hdr_sack_five_blocks),
        cmocka_unit_test(test_tcp_hdr_build_known_layouts),
        cmocka_unit_test(test_tcp_hdr_build_round_trip),
        cmocka_unit_test(test_tcp_hdr_build_then_parse),
        cmocka_unit_test(test_tcp_hdr_s18_flags_exact),
        cmocka_unit_test(test_tcp_hdr_parse_table),
        cmocka_unit_test(test_tcp_hdr_r8_every_bit_flip_dropped),
        cmocka_unit_test(test_tcp_hdr_r8_truncated_everywhere),
        cmocka_unit_test(test_tcp_hdr_usual_agrees_with_full_parsers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
