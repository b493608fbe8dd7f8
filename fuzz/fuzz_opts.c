/*
 * fuzz_opts.c -- libFuzzer harness for the TCP option parser and builder
 * (src/core/tcp_hdr.h), checked against a reference parser written here from RFC 9293
 * 3.2 (and RFC 7323, RFC 2018) and by round trips.
 *
 * Input: byte 0 selects the mode, the rest is the data.
 *   mode bit 0 = 0: the data is an option area: tw_tcp_parse_opts must agree with the
 *     reference on accept/reject and on every field; what parsed must build
 *     (tw_tcp_build_opts) into a padded area of at most 40 bytes that parses back to the
 *     same options (SACK blocks may be dropped from the end for lack of room, never
 *     altered), and building that again gives the same bytes.
 *   mode bit 0 = 1: the data is a whole TCP segment (checksum fixed up unless bit 1):
 *     tw_tcp_parse must accept exactly the segments the reference accepts, and the
 *     header fields and payload bounds must agree. The segment is also put in an IPv4
 *     packet (bits 2-5 pick a variation of its header: fragment, address, checksum,
 *     length, options, padding) and tw_tcp_parse_usual, the one-pass parse of the usual
 *     packet, must take it exactly when tw_ipv4_parse and tw_tcp_parse do (for its shape:
 *     version 4, IHL 5, TCP; no other), with the same fields.
 */
#include "tcpwave.h"
#include "core/tcp_hdr.h"
#include "core/ipv4.h"
#include "core/wr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_opts: %s:%d: ", __FILE__, __LINE__);                     \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fprintf(stderr, "\n");                                                         \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* ---- reference parser ---------------------------------------------------------------- */

typedef enum ref_res { REF_OK, REF_BAD, REF_DUP } ref_res;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 9293 3.2: kind 0 ends the list, kind 1 is one byte of padding, every other kind
   carries a length counting kind and length bytes. A known option with a wrong length,
   a length below 2 or beyond the area, or a known option twice: the segment is dropped
   (issue 6, SPEC R8). Unknown kinds are skipped (MUST-68). Window scale above 14 is
   used as 14 (RFC 7323 2.3). SACK: 1 to 4 blocks of 8 bytes (RFC 2018 3). TCP Fast Open
   (RFC 7413 4.1.1): kind 34, or kind 254 whose first two bytes are 0xF989; the first one
   counts, a later one is ignored; an empty one is a request, a cookie is 4 to 16 bytes of
   even length, any other length marks it malformed (kept, for the caller to count and
   ignore: never a drop). */
static ref_res ref_parse(tw_tcp_opts *o, const uint8_t *p, size_t n)
{
    memset(o, 0, sizeof(*o));
    size_t i = 0;
    while (i < n) {
        uint8_t kind = p[i];
        if (kind == 0) {
            break;
        }
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= n) {
            return REF_BAD;
        }
        uint8_t len = p[i + 1];
        if (len < 2 || i + len > n) {
            return REF_BAD;
        }
        const uint8_t *b = p + i + 2;
        size_t bl = (size_t)len - 2;
        uint8_t bit = 0;
        switch (kind) {
        case 2:
            if (bl != 2) {
                return REF_BAD;
            }
            bit = TW_OPT_MSS;
            break;
        case 3:
            if (bl != 1) {
                return REF_BAD;
            }
            bit = TW_OPT_WSCALE;
            break;
        case 4:
            if (bl != 0) {
                return REF_BAD;
            }
            bit = TW_OPT_SACK_PERM;
            break;
        case 5:
            if (bl == 0 || bl % 8 || bl / 8 > 4) {
                return REF_BAD;
            }
            bit = TW_OPT_SACK;
            break;
        case 8:
            if (bl != 8) {
                return REF_BAD;
            }
            bit = TW_OPT_TS;
            break;
        case 34:
        case 254:
            if (kind == 254 && (bl < 2 || b[0] != 0xf9 || b[1] != 0x89)) {
                break; /* another experiment: unknown */
            }
            if (!(o->present & TW_OPT_FASTOPEN)) {
                size_t skip = kind == 254 ? 2 : 0;
                size_t cl = bl - skip;
                o->present |= TW_OPT_FASTOPEN;
                o->fo_off = (uint8_t)(i + 2 + skip);
                o->fo_flags = kind == 254 ? TW_FO_EXP : 0;
                bool ok = cl == 0 || (cl >= 4 && cl <= 16 && cl % 2 == 0);
                o->fo_len = ok ? (uint8_t)cl : 0;
                if (!ok) {
                    o->fo_flags |= TW_FO_BAD;
                }
            }
            break;
        default:
            break;
        }
        if (bit) {
            if (o->present & bit) {
                return REF_DUP;
            }
            o->present |= bit;
            switch (kind) {
            case 2:
                o->mss = (uint16_t)(b[0] << 8 | b[1]);
                break;
            case 3:
                o->wscale = b[0] > 14 ? 14 : b[0];
                break;
            case 5:
                o->sack_n = (uint8_t)(bl / 8);
                for (unsigned k = 0; k < o->sack_n; k++) {
                    o->sack[k].start = be32(b + 8 * k);
                    o->sack[k].end = be32(b + 8 * k + 4);
                }
                break;
            case 8:
                o->ts_val = be32(b);
                o->ts_ecr = be32(b + 4);
                break;
            default:
                break;
            }
        }
        i += len;
    }
    return REF_OK;
}

/* Same options, SACK compared on the first `sack_n` blocks of `a`. */
static void same_opts(const tw_tcp_opts *a, const tw_tcp_opts *b, const char *what)
{
    CHECK(a->present == b->present, "%s: options %02x vs %02x", what, a->present, b->present);
    if (a->present & TW_OPT_MSS) {
        CHECK(a->mss == b->mss, "%s: mss %u vs %u", what, a->mss, b->mss);
    }
    if (a->present & TW_OPT_WSCALE) {
        CHECK(a->wscale == b->wscale, "%s: wscale %u vs %u", what, a->wscale, b->wscale);
    }
    if (a->present & TW_OPT_TS) {
        CHECK(a->ts_val == b->ts_val && a->ts_ecr == b->ts_ecr, "%s: timestamps differ", what);
    }
    if (a->present & TW_OPT_FASTOPEN) {
        CHECK(a->fo_len == b->fo_len && a->fo_off == b->fo_off && a->fo_flags == b->fo_flags,
              "%s: Fast Open option %u@%u/%x vs %u@%u/%x", what, a->fo_len, a->fo_off,
              a->fo_flags, b->fo_len, b->fo_off, b->fo_flags);
    }
    if (a->present & TW_OPT_SACK) {
        CHECK(a->sack_n == b->sack_n, "%s: %u vs %u SACK blocks", what, a->sack_n, b->sack_n);
        for (unsigned k = 0; k < a->sack_n; k++) {
            CHECK(a->sack[k].start == b->sack[k].start && a->sack[k].end == b->sack[k].end,
                  "%s: SACK block %u differs", what, k);
        }
    }
}

static void check_opts(const uint8_t *p, size_t n)
{
    tw_tcp_opts got, want;
    memset(&got, 0xa5, sizeof(got)); /* the parser must not depend on what was there */
    enum tw_counter c = tw_tcp_parse_opts(&got, p, n);
    ref_res r = ref_parse(&want, p, n);
    if (r == REF_BAD) {
        CHECK(c == TW_CNT_TCP_RX_BAD_OPTION, "malformed options accepted (counter %s)",
              tw_counter_name(c));
        return;
    }
    if (r == REF_DUP) {
        CHECK(c == TW_CNT_TCP_RX_DUP_OPTION, "duplicate option not reported (counter %s)",
              tw_counter_name(c));
        return;
    }
    CHECK(c == TW_CNT_COUNT_, "valid options rejected as %s", tw_counter_name(c));
    same_opts(&want, &got, "parse vs reference");

    /* Build what parsed, parse it back (the builder writes no Fast Open option: tcp_out.c
       adds it to the SYNs that carry one). */
    got.present &= (uint8_t)~TW_OPT_FASTOPEN;
    uint8_t buf[TW_TCP_MAX_OPT + 8];
    memset(buf, 0xee, sizeof(buf));
    size_t bl = tw_tcp_build_opts(buf, &got);
    CHECK(bl <= TW_TCP_MAX_OPT && bl % 4 == 0, "built %zu option bytes", bl);
    for (size_t i = bl; i < sizeof(buf); i++) {
        CHECK(buf[i] == 0xee, "tw_tcp_build_opts wrote beyond the %zu bytes it reported", bl);
    }
    tw_tcp_opts back;
    CHECK(tw_tcp_parse_opts(&back, buf, bl) == TW_CNT_COUNT_, "built options do not parse");
    if ((got.present & TW_OPT_SACK) && back.sack_n < got.sack_n) {
        /* Only for lack of room may blocks be left out, and only from the end; with none
           left the option disappears. */
        CHECK(bl + 8 > TW_TCP_MAX_OPT, "SACK blocks dropped with room left (%zu bytes)", bl);
        tw_tcp_opts trimmed = got;
        trimmed.sack_n = back.sack_n;
        if (!back.sack_n) {
            trimmed.present &= (uint8_t)~TW_OPT_SACK;
        }
        same_opts(&trimmed, &back, "round trip (SACK trimmed)");
    } else {
        same_opts(&got, &back, "round trip");
    }
    uint8_t again[TW_TCP_MAX_OPT];
    size_t al = tw_tcp_build_opts(again, &back);
    CHECK(al == bl && memcmp(again, buf, bl) == 0, "building twice gives different bytes");
}

/* ---- whole segments ------------------------------------------------------------------ */

#define SRC 0x0a000003u
#define DST 0x0a000001u

static uint16_t csum(const uint8_t *p, size_t n)
{
    uint32_t acc = (SRC >> 16) + (SRC & 0xffff) + (DST >> 16) + (DST & 0xffff) + 6u + (uint32_t)n;
    for (size_t i = 0; i + 1 < n; i += 2) {
        acc += (uint32_t)p[i] << 8 | p[i + 1];
    }
    if (n & 1) {
        acc += (uint32_t)p[n - 1] << 8;
    }
    while (acc >> 16) {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    return (uint16_t)~acc;
}

static void ip_csum(uint8_t *ip, size_t ihl)
{
    tw_put16(ip + 10, 0);
    uint32_t acc = 0;
    for (size_t i = 0; i < ihl; i += 2) {
        acc += (uint32_t)ip[i] << 8 | ip[i + 1];
    }
    while (acc >> 16) {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    tw_put16(ip + 10, (uint16_t)~acc);
}

/* The segment in an IPv4 packet, its header varied by `v`; the one-pass parse against
   the two full parsers. */
static void check_usual(const uint8_t *seg, size_t n, unsigned v)
{
    size_t ihl = v == 9 ? 24 : 20, pad = v == 10 ? 3 : 0;
    size_t len = ihl + n + pad;
    if (len > 65535) {
        return;
    }
    uint8_t *p = malloc(len);
    if (!p) {
        return;
    }
    memset(p, 0x01, ihl); /* NOP options when IHL is 6 */
    p[0] = (uint8_t)(0x40 | ihl / 4);
    p[1] = 0;
    tw_put16(p + 2, (uint16_t)(ihl + n));
    tw_put16(p + 4, 1);
    tw_put16(p + 6, 0x4000); /* DF */
    p[8] = 64;
    p[9] = 6;
    tw_put32(p + 12, SRC);
    tw_put32(p + 16, DST);
    memcpy(p + ihl, seg, n);
    memset(p + ihl + n, 0x5a, pad);
    switch (v) {
    case 1: p[6] |= 0x20; break;                          /* MF */
    case 2: p[7] = 8; break;                              /* an offset */
    case 3: tw_put32(p + 16, DST + 1); break;                /* not ours */
    case 4: tw_put32(p + 12, 0x7f000001u); break;            /* loopback source */
    case 5: tw_put32(p + 12, DST); break;                    /* our own address */
    case 6: tw_put16(p + 2, (uint16_t)(ihl + n - 1)); break; /* total length short */
    case 7: tw_put16(p + 2, (uint16_t)(ihl + n + 1)); break; /* total length long */
    case 8: p[9] = 17; break;                             /* UDP */
    case 11: p[0] = 0x55; break;                          /* version 5 */
    default: break;
    }
    ip_csum(p, ihl);
    if (v == 12) {
        p[10] ^= 0x01; /* IP checksum wrong */
    }
    tw_ipv4_hdr ip;
    tw_tcp_hdr f, u;
    uint32_t usrc = 0;
    bool full = tw_ipv4_parse(&ip, p, len, DST) == TW_CNT_COUNT_ && ip.proto == 6 &&
                tw_tcp_parse(&f, ip.payload, ip.payload_len, ip.src, DST) == TW_CNT_COUNT_;
    bool usual = tw_tcp_parse_usual(&u, &usrc, p, len, DST);
    bool shape = p[0] == 0x45 && p[9] == 6;
    /* The usual parser may leave a rare flag combination the full one accepts to it (SYN
       with RST, read as a RST; SYN with FIN; no flag among the six): its caller then
       runs the full parsers. Otherwise the two agree. */
    uint8_t fl = n > 13 ? seg[13] : 0;
    bool rare = (fl & (TW_SYN | TW_RST)) == (TW_SYN | TW_RST) ||
                (fl & (TW_SYN | TW_FIN)) == (TW_SYN | TW_FIN) || (fl & 0x3fu) == 0 ||
                (full && (f.o.present & TW_OPT_FASTOPEN)); /* (Fast Open: the full way) */
    CHECK(usual ? shape && full : !(shape && full) || rare,
          "IPv4 variation %u: usual %d, full %d", v, usual, full);
    if (usual) {
        CHECK(usrc == ip.src, "usual: source");
        CHECK(u.sport == f.sport && u.dport == f.dport, "usual: ports");
        CHECK(u.seq == f.seq && u.ack == f.ack, "usual: seq/ack");
        CHECK(u.flags == f.flags && u.hdr_len == f.hdr_len, "usual: flags/header length");
        CHECK(u.win == f.win && u.urg == f.urg, "usual: window/urgent pointer");
        CHECK(u.payload == f.payload && u.payload_len == f.payload_len, "usual: payload");
        same_opts(&f.o, &u.o, "usual: options");
    }
    free(p);
}

static void check_segment(uint8_t *seg, size_t n, bool fix, unsigned ipv)
{
    if (fix && n >= 18) {
        seg[16] = seg[17] = 0;
        uint16_t s = csum(seg, n);
        seg[16] = (uint8_t)(s >> 8);
        seg[17] = (uint8_t)s;
    }
    check_usual(seg, n, ipv);
    tw_tcp_hdr h;
    enum tw_counter c = tw_tcp_parse(&h, seg, n, SRC, DST);
    /* Reference, in the order R8's table names the reasons. */
    if (n < 20) {
        CHECK(c == TW_CNT_TCP_RX_TOO_SHORT, "%zu-byte segment: %s", n, tw_counter_name(c));
        return;
    }
    size_t hl = (size_t)(seg[12] >> 4) * 4;
    if (hl < 20 || hl > n) {
        CHECK(c == TW_CNT_TCP_RX_BAD_OFFSET, "data offset %zu of %zu: %s", hl, n,
              tw_counter_name(c));
        return;
    }
    if (csum(seg, n) != 0) {
        CHECK(c == TW_CNT_TCP_RX_BAD_CSUM, "bad checksum: %s", tw_counter_name(c));
        return;
    }
    CHECK(c != TW_CNT_TCP_RX_BAD_CSUM, "good checksum rejected");
    uint16_t sport = (uint16_t)(seg[0] << 8 | seg[1]), dport = (uint16_t)(seg[2] << 8 | seg[3]);
    uint8_t fl = seg[13];
    /* SYN with RST is read as a RST (RFC 9293 3.10.7 checks RST first): the SYN bit is
       cleared. Any other combination, SYN with FIN and no flag at all included, goes on
       to the state machine (SYN+FIN: a RST with no connection, RFC 9293 3.10.7.1). */
    if (fl & TW_RST) {
        fl = (uint8_t)(fl & ~TW_SYN);
    }
    tw_tcp_opts o;
    ref_res r = ref_parse(&o, seg + 20, hl - 20);
    if (sport == 0 || dport == 0 || r != REF_OK) {
        CHECK(c != TW_CNT_COUNT_, "segment accepted: ports %u/%u flags %02x options %d", sport,
              dport, fl, (int)r);
        return;
    }
    CHECK(c == TW_CNT_COUNT_, "good segment rejected as %s", tw_counter_name(c));
    CHECK(h.sport == sport && h.dport == dport, "ports");
    CHECK(h.seq == be32(seg + 4) && h.ack == be32(seg + 8), "seq/ack");
    CHECK(h.flags == fl && h.hdr_len == hl, "flags/header length");
    CHECK(h.win == (uint16_t)(seg[14] << 8 | seg[15]), "window");
    CHECK(h.payload == seg + hl && h.payload_len == n - hl, "payload bounds");
    same_opts(&o, &h.o, "segment options");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    uint8_t mode = data[0];
    size_t n = size - 1;
    if (n > 65535) {
        return 0;
    }
    /* A private copy: the library must only read its input, and ASan sees overreads. */
    uint8_t *p = malloc(n ? n : 1);
    if (!p) {
        return 0;
    }
    memcpy(p, data + 1, n);
    if (mode & 1) {
        check_segment(p, n, !(mode & 2), (unsigned)(mode >> 2) & 15u);
    } else {
        check_opts(p, n);
    }
    free(p);
    return 0;
}
