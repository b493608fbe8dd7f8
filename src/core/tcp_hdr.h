/*
 * tcp_hdr.h -- TCP header and options: parse into a validated struct, build from one
 * (RFC 9293 3.1, options RFC 9293 3.2 / RFC 7323 / RFC 2018).
 */
#ifndef TW_CORE_TCP_HDR_H
#define TW_CORE_TCP_HDR_H

#include "core/arch.h"
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include "tcpwave.h"
#include "core/cksum.h"
#include "core/ipv4.h"
#include "core/rd.h"
#include "core/wr.h"

/* TW_OPAQUE(v): the compiler forgets what it knows of v's value (an empty asm that "may
   change" it), so that a value read through v is loaded again there rather than kept in
   a register from before, where keeping it cost a copy on the usual path (tcp_hdr.h,
   tcp_in.c: each use says what it measured). No code of its own. */
#if defined(__GNUC__)
#define TW_OPAQUE(v) __asm__("" : "+r"(v))
#else
#define TW_OPAQUE(v) ((void)0)
#endif

#define TW_TCP_HDR_LEN 20
#define TW_TCP_MAX_OPT 40
#define TW_SACK_MAX_BLOCKS 4

typedef struct tw_sack_block {
    uint32_t start, end;
} tw_sack_block;

/* fo_flags */
#define TW_FO_EXP 0x01u /* the experimental form: kind 254, magic 0xF989 (RFC 7413 4.1.1) */
#define TW_FO_BAD 0x02u /* malformed: cookie length 1..3, above 16 or odd (ignored) */

typedef struct tw_tcp_opts {
    uint8_t present; /* TW_OPT_* */
    uint8_t wscale;  /* clamped to 14 (RFC 7323 2.3) */
    uint8_t sack_n;
    /* TW_OPT_FASTOPEN (RFC 7413 4.1.1): the cookie's length (0: a cookie request) and
       where its bytes start, counted from the first option byte (h->payload - h->hdr_len
       + 20), in what was padding: the struct does not grow. */
    uint8_t fo_len;
    uint16_t mss;
    uint8_t fo_off, fo_flags;
    /* TSecr before TSval, the option's second field first: as a little-endian host's
       one swap of the option's two fields leaves them (tw_tcp_opts_ts_pair) */
    uint32_t ts_ecr, ts_val;
    tw_sack_block sack[TW_SACK_MAX_BLOCKS];
} tw_tcp_opts;

typedef struct tw_tcp_hdr {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t hdr_len; /* bytes */
    uint8_t flags;
    uint16_t win, urg;
    tw_tcp_opts o;
    const uint8_t *payload;
    uint32_t payload_len;
} tw_tcp_hdr;

/* Two 32-bit fields in network order side by side at `p` (SEG.SEQ and SEG.ACK, TSval
   and TSecr), as two host-order uint32_t side by side lie in memory with the second
   first: one load and one swap, for one 8-byte store where a struct keeps them side by
   side in that order too (tw_seg's SEG.ACK and SEG.SEQ, tw_tcp_opts' TSecr and TSval).
   Measured: lifecycle -14 instr for the timestamps, -12 more for the numbers, against
   two loads, two swaps and two stores; then -7 for the timestamps without the rotation
   that put the first field first, and -6 for the numbers. */
static inline uint64_t tw_get32x2_rev(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    if (tw_cksum_little_endian()) {
        v = __builtin_bswap64(v);
    } else {
        v = v >> 32 | v << 32;
    }
    return v;
}

/* TSval and TSecr from the option's 8 bytes at `p` (RFC 7323 3) into o->ts_val and
   o->ts_ecr (tw_get32x2_rev: TSecr first in the struct) */
static inline void tw_tcp_opts_ts_pair(tw_tcp_opts *o, const uint8_t *p)
{
    _Static_assert(offsetof(tw_tcp_opts, ts_val) == offsetof(tw_tcp_opts, ts_ecr) + 4,
                   "ts_ecr, ts_val side by side");
    uint64_t v = tw_get32x2_rev(p);
    memcpy(&o->ts_ecr, &v, 8);
}

/* The SYN layout of Linux and of tcpwave, 20 bytes: MSS, SACK-permitted, TS, NOP, WS. When
   the 20 bytes at `p` are in it, sets what tw_tcp_parse_opts would (the fields read
   whatever `present` says) and returns true. sack_n is left as it was: read only with
   TW_OPT_SACK in `present` (tcp_sack.c) but for a trace's summary, for which
   tw_tcp_parse_opts has zeroed it and the usual parse's callers fill it
   (tw_tcp_opts_usual_fill).
   Inline: a SYN or SYN+ACK of the usual parse then makes no call. */
static inline bool tw_tcp_opts_syn_layout(tw_tcp_opts *o, const uint8_t *p)
{
    /* NOP and the WS option's kind and length, its value aside: the three bytes of the
       word as it lies, masked (no swap; measured: lifecycle -4 instr against comparing
       the swapped word with the value added) */
    uint32_t nop_ws;
    memcpy(&nop_ws, p + 16, 4);
    nop_ws = tw_cksum_little_endian() ? nop_ws & 0xffffffu : nop_ws >> 8;
    if (tw_get32(p + 4) != 0x0402080au || tw_get16(p) != 0x0204u ||
        nop_ws != (tw_cksum_little_endian() ? 0x030301u : 0x010303u)) {
        return false;
    }
    o->present = TW_OPT_MSS | TW_OPT_SACK_PERM | TW_OPT_TS | TW_OPT_WSCALE;
    o->mss = tw_get16(p + 2);
    tw_tcp_opts_ts_pair(o, p + 8);
    /* RFC 7323 2.3: a shift over 14 taken as 14 (rare: a branch, not a conditional
       move, whose 14 was loaded into a register on every SYN; measured: lifecycle -2
       instr) */
    uint8_t ws = p[19];
    if (__builtin_expect(ws > 14, 0)) {
        ws = 14;
#if defined(__GNUC__)
        __asm__(""); /* (a branch: GCC makes no conditional move around an asm) */
#endif
    }
    o->wscale = ws;
    return true;
}

/* Parse options. Returns TW_CNT_COUNT_ or TW_CNT_TCP_RX_BAD_OPTION / _DUP_OPTION. */
enum tw_counter tw_tcp_parse_opts(tw_tcp_opts *o, const uint8_t *p, size_t len);
/* Parse and validate a segment (checksum with the pseudo-header of src/dst). Returns
   TW_CNT_COUNT_ or the counter naming the drop. */
enum tw_counter tw_tcp_parse(tw_tcp_hdr *h, const uint8_t *seg, size_t len, uint32_t src,
                             uint32_t dst);
/* Write options (in Linux's SYN layout where it applies), padded to 4 bytes; returns
   bytes written (<= 40). */
size_t tw_tcp_build_opts_any(uint8_t *buf, const tw_tcp_opts *o);
static inline size_t tw_tcp_build_opts(uint8_t *buf, const tw_tcp_opts *o)
{
    if (o->present == TW_OPT_TS) {
        /* Every segment of a connection with timestamps and nothing to SACK, inline: the
           same 12 bytes tw_tcp_build_opts_any writes, NOP, NOP, TS (RFC 7323 Appendix A). */
        tw_put32(buf, 0x0101080au);
        tw_put32(buf + 4, o->ts_val);
        tw_put32(buf + 8, o->ts_ecr);
        return 12;
    }
    return tw_tcp_build_opts_any(buf, o);
}
/* Write header + options at `buf` (payload, if any, must already follow at
   buf + hdr_len, where hdr_len = 20 + options); `payload_sum` is the partial
   checksum of the payload (tw_cksum_copy computes it while copying).
   Returns the header length. */
size_t tw_tcp_build(uint8_t *buf, const tw_tcp_hdr *h, uint32_t src, uint32_t dst,
                    uint32_t payload_sum);
/* The same when the `olen` bytes of options are already in place at buf + 20. */
void tw_tcp_build_hdr(uint8_t *buf, const tw_tcp_hdr *h, size_t olen, uint32_t src, uint32_t dst,
                      uint32_t payload_sum);

/* What tw_tcp_parse_usual_part finds besides the window and options it puts in the
   header struct (and the flags and payload length it writes where its caller keeps
   them): a caller that keeps these in registers leaves the rest of that struct unwritten
   (tw_stack_input: nothing after its parse reads them there). */
typedef struct tw_tcp_usual {
    /* SEG.ACK and SEG.SEQ in host order, as two uint32_t side by side lie in memory
       (tw_get32x2_rev): one 8-byte copy to where they are kept (tcp_in.c seg_init, tw_seg
       has SEG.ACK first) */
    uint64_t ack_seq;
    const uint8_t *payload;
    uint32_t payload_len;
    uint16_t urg;
    uint64_t key;     /* tw_tuple_key: the IPv4 source << 32 | sport << 16 | dport */
    uint64_t tcp_sum; /* see tw_tcp_parse_usual_hdr */
} tw_tcp_usual;

/* The flag combinations the usual parse leaves to tw_tcp_parse and the slow steps (each
   has its own rule by state: RFC 9293 3.10.7, RFC 5961 4): SYN with FIN or RST, or none
   of the six. All are decided by the low six bits, so one 64-bit mask holds
   the answer for each: bit 0 (no flag) and every value whose low three bits are SYN+FIN,
   SYN+RST or all three (3, 6, 7: 0xc8 in each byte). */
#define TW_TCP_BAD_FLAGS_MASK (UINT64_C(0x0101010101010101) * 0xc8u | 1u)
static inline bool tw_tcp_flags_bad(uint8_t flags)
{
#if TW_ASM_X86
    /* One bit test, its jump the caller's branch: `bt` between registers takes the index
       modulo 64 itself, so only the low six bits of the flags' register are read and it
       needs no widening (%q: whatever its upper bits hold). The three flag tests took two
       or three tests and jumps per packet; GCC's own shift of the mask by `cl` costs more
       than they did (measured). */
    __asm__ goto("btq %q[f], %[m]\n\tjc %l[bad]"
                 :
                 : [m] "r"(TW_TCP_BAD_FLAGS_MASK), [f] "r"(flags)
                 : "cc"
                 : bad);
    return false;
bad:
    return true;
#else
    return (TW_TCP_BAD_FLAGS_MASK >> (flags & 63u)) & 1u;
#endif
}

/* The usual packet, IPv4 and TCP checked in one pass: IPv4 without options, not a
   fragment, addressed to `self` from an acceptable source (RFC 1122 3.2.1.3), carrying
   TCP whose header fits, with both checksums right, non-zero ports and a meaningful flag
   combination, and options that parse. Fills `h` and `*src` as tw_ipv4_parse and
   tw_tcp_parse would and returns true; returns false for anything else, having changed
   nothing the caller reads, and the caller then runs those two parsers, whose checks
   (in their order, each with its own drop counter) give the same outcome for every
   packet this one accepts. Inline: its one caller keeps the fields in registers.
   tw_tcp_parse_usual_hdr is all of it but the payload's part of the TCP checksum: it
   returns in *tcp_sum the native sum of the pseudo-header and TCP header, which with the
   payload's sum added must pass tw_cksum_native_ok before anything trusts the segment
   (or tw_cksum_native_ok_nz: the pseudo-header's protocol byte makes it nonzero)
   (the payload is summed as it is copied: tw_stack_input).
   tw_tcp_parse_usual_part is tw_tcp_parse_usual_hdr with only win and o written in `h`,
   the rest in `*u` (the source and ports in u->key: tw_tcp_usual_ports), and without
   the source address's test (tw_ipv4_bad_source) nor the non-zero ports' (tw_tcp_usual_ports_bad): its caller makes
   them once the connection table has answered, since a segment of a known connection
   comes from an address that passed the first already and carries the connection's
   ports, neither of which is ever 0 (tw_stack_input). The flags' test
   (tw_tcp_flags_bad) is left to the caller too, which makes it only where its steps' own
   tests of the flags do not refuse every bad combination already (tcp_in.c
   input_unsummed, in_conn, req_input). It takes our address as it
   lies in a packet (`*self_raw`: network order, tw_stack's addr_net). The flags and the
   payload's length go to `doff_flags` (the data offset's byte and the flags', as they
   lie) and `*data_len` as soon as they are known (written
   even when it returns false: the caller reads them only after true): the usual packet's
   function has them kept in its segment's fields, not in registers across the option
   parser's call, which made it store them aside and copy them there (measured: lifecycle
   -17 instr). */
/* The header's length in bytes from the data offset's byte as it lies (RFC 9293 3.1:
   its upper four bits, in 32-bit words). */
static inline uint32_t tw_tcp_doff_len(uint8_t raw)
{
    return (uint32_t)(raw & 0xf0u) >> 2;
}

/* The usual parse's cold calls, out of line, for the header lengths other than its two
   in line (a segment without options, or with others) and for options other than the
   usual layouts: each takes the header's length from the data offset in the packet
   again, as the parse found it, instead of an argument. (With a third argument, the
   length or the option block's, in rdx on x86-64, where the packet's length comes in,
   GCC kept that length in another register, a copy on every packet; measured: lifecycle
   -7 instr, with both taking their pointers hidden by an empty asm, below.)
   tw_tcp_sum_seg: tw_cksum_native_words (cksum.h) over the TCP header at `seg`.
   tw_tcp_parse_opts_pkt: tw_tcp_parse_opts over the options of the IPv4 packet at `pkt`
   (no IPv4 options: the usual parse's). */
uint64_t tw_tcp_sum_seg(uint64_t sum, const uint8_t *seg);
enum tw_counter tw_tcp_parse_opts_pkt(tw_tcp_opts *o, const uint8_t *pkt);

/* `p`, hidden from GCC by an empty asm: an address made from it in a cold branch is made
   there, not before the branches as the same one as the usual branches' (TW_OPAQUE). */
static inline const uint8_t *tw_tcp_opaque_ptr(const uint8_t *p)
{
    TW_OPAQUE(p);
    return p;
}

static inline bool tw_tcp_parse_usual_part(tw_tcp_hdr *h, tw_tcp_usual *u, const uint8_t *pkt,
                                           size_t *restp, const uint32_t *self_raw,
                                           uint8_t *doff_flags,
                                           uint32_t *data_len)
{
    size_t rest = *restp;
    /* `*restp`: the packet's length less TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN, which the caller
       has found it holds at least (tcp_in.c tw_stack_input asks both of the length's
       bounds in one compare there, so no packet pays for the lower one twice). */
    /* Version 4 without options, and the TOS byte 0: a packet with a DS field or an ECN
       mark (RFC 3168 5: ECT from an ECN connection's peer, CE from a router) takes the
       full parsers, which hand the ECN field to TCP (stack.c tw_stack_input_slow). */
    const uint16_t vt_usual = tw_cksum_little_endian() ? 0x0045u : 0x4500u;
    /* The flags and fragment offset, the TTL and the protocol as they lie (bytes 6-9):
       MF and the offset (0x3fff in network order) and the protocol's byte kept, the TTL
       masked off, against TCP's protocol in the same test as the destination's below,
       without a swap (measured: lifecycle -6 instr against the protocol's byte asked on
       its own). */
    uint32_t fp_raw, fp_mask = tw_cksum_little_endian() ? 0xff00ff3fu : 0x3fff00ffu;
    uint32_t fp_tcp = tw_cksum_little_endian() ? (uint32_t)TW_IPPROTO_TCP << 24 : TW_IPPROTO_TCP;
    memcpy(&fp_raw, pkt + 6, 4);
    /* The destination as it lies against our address as it lies (`self_raw`, network
       order: no swap per packet), and the field's word is the one the header's sum adds
       below. */
    uint32_t dst_raw;
    memcpy(&dst_raw, pkt + 16, 4);
    /* The total length, usually the packet's own (`rest` + both headers, under 65536:
       tw_stack_input), asked as it lies against that length swapped: then the room
       after both headers is `rest` itself (measured: lifecycle -7 instr against
       swapping and widening the total on every packet). It is asked with the version
       and TOS bytes before it, the header's first word as it lies against the usual
       packet's (the length with the constant bytes added, byte-swapped), in one compare
       (measured: lifecycle -13 instr against the two apart). Else the version and TOS
       are asked alone, then (link padding after the datagram, or a short packet) TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN <= total <= the packet's length in
       one unsigned compare (the length is at least that; a short total wraps to a large
       difference), and the packet is taken as the total says, for the caller too
       (*restp: a failure below hands the full parsers the datagram without its padding,
       which they ignore anyway; kept in the caller's own variable, the usual case then
       keeps no second copy of the length). */
    uint32_t w0_be = UINT32_C(0x45000000) + (uint32_t)rest + (TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN);
    /* (the word the sum below takes, 64 bits wide: x86-64's 32-bit bswap clears the upper
       half, which GCC does not know of its own, and widened the word again on the usual
       way after the compare below; the asm's output says it) */
    uint64_t w0_word;
#if TW_ASM_X86
    w0_word = w0_be;
    __asm__("bswap %k0" : "+r"(w0_word));
#else
    w0_word = tw_cksum_little_endian() ? __builtin_bswap32(w0_be) : w0_be;
#endif
    uint32_t w0_usual = (uint32_t)w0_word;
    /* (x86-64: the usual word against the header's where it lies, in one compare with
       memory: the word is then not loaded on the usual way, where the pseudo-header's
       sum below takes the usual word made here; GCC's own compare loaded it first;
       measured: lifecycle -7 instr) */
    bool w0_other;
#if TW_ASM_X86
    w0_other = false;
    __asm__ goto("cmpl %[w0], %[usual]\n\tjne %l[odd]"
                 :
                 : [w0] "m"(*(const uint8_t(*)[4])pkt), [usual] "r"(w0_usual)
                 : "cc"
                 : odd);
    if (0) {
    odd:
        w0_other = true;
    }
#else
    {
        uint32_t w0_pkt;
        memcpy(&w0_pkt, pkt, 4);
        w0_other = w0_pkt != w0_usual;
    }
#endif
    if (__builtin_expect(w0_other, 0)) {
        uint32_t w0_raw;
        memcpy(&w0_raw, pkt, 4);
        uint16_t vt_raw;
        memcpy(&vt_raw, pkt, 2);
        if (vt_raw != vt_usual) {
            return false;
        }
        size_t r2 = (size_t)tw_get16(pkt + 2) - (TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN);
        if (r2 > rest) {
            return false;
        }
        rest = r2;
        *restp = r2;
        w0_word = w0_raw;
    }
    size_t room = rest;
    /* MF or an offset (a fragment), or another protocol: one test; another destination:
       a compare of its own, the field's register (which the header's sum below adds)
       against our address where it lies (`*self_raw`), with no load of ours nor copy of
       either for an xor (measured: lifecycle -7 instr against the two in one test,
       where GCC loaded our address and xored a copy). (x86-64: GCC's own compare loaded
       the address into a register first, measured; the asm's jump is the caller's
       branch.) */
    if (((fp_raw & fp_mask) ^ fp_tcp) != 0) {
        return false;
    }
#if TW_ASM_X86
    __asm__ goto("cmpl %[self], %[dst]\n\tjne %l[other]"
                 :
                 : [self] "m"(*self_raw), [dst] "r"(dst_raw)
                 : "cc"
                 : other);
    if (0) {
    other:
        return false;
    }
#else
    if (dst_raw != *self_raw) {
        return false;
    }
#endif
    const uint8_t *seg = pkt + TW_IPV4_HDR_LEN;
    /* The data offset's byte and the flags' as they lie, in one load and one store: the
       caller keeps the first beside the second (tw_seg doff_raw), where a failure after
       the parse finds the header's length again (tcp_in.c tw_stack_input) instead
       of the length being kept aside on every packet for it (measured: lifecycle -9.7
       instr). */
    uint16_t df_raw;
    memcpy(&df_raw, seg + 12, 2);
    memcpy(doff_flags, &df_raw, 2);
    /* the data offset's byte (from the word loaded: the byte is not read again after
       the store, which might be to the packet as far as the compiler knows) */
    uint8_t doff_raw = (uint8_t)(tw_cksum_little_endian() ? df_raw : df_raw >> 8);
    uint32_t hlen;
    /* The source address and the ports (tw_tuple_key) as they lie, made one 64-bit
       word in host order with one swap on a little-endian host. */
    uint32_t saddr_raw, ports_raw;
    memcpy(&saddr_raw, pkt + 12, 4);
    memcpy(&ports_raw, seg, 4);
    uint64_t key = tw_cksum_little_endian()
                       ? __builtin_bswap64((uint64_t)ports_raw << 32 | saddr_raw)
                       : (uint64_t)saddr_raw << 32 | ports_raw;
    /* TW_TCP_HDR_LEN <= hlen <= the segment's length: asked in each header length's
       branch below, before its words are read (the IPv4 header's sum reads only its 20
       bytes), where the usual lengths ask `room` against a constant (measured: lifecycle
       -6 instr against one test of hlen before them all); the others in one unsigned
       compare of hlen - TW_TCP_HDR_LEN with `room` (a short hlen wraps to a large
       difference). The flags are left to the caller (tw_tcp_flags_bad), who asks them
       only where its own tests do not already refuse every bad combination. */
    /* Both checksums as native sums (cksum.h): the IPv4 header's, and the segment's with
       the pseudo-header (RFC 9293 3.1) taken from the addresses as they lie in the
       packet plus the zero and protocol byte and the segment length. The two last, as
       16-bit words, add up to 6 + (total - 20), which one's-complement arithmetic (modulo
       0xffff, RFC 1071 2) makes total + 0xfff1: the IPv4 total length field as it lies
       plus that constant in memory order, no byte swap (the word order does not matter,
       RFC 1071 2(B)). The total is taken with the version and TOS bytes before it, the
       header's first word as it lies (w0_word: the packet's own), as a 32-bit number:
       its two 16-bit halves add up to the total plus 0x4500 (0x0045 in memory order;
       2^16 = 1 modulo 0xffff), so the constant is 0xfff1 - 0x4500 = 0xbaf1 in memory
       order, and the word the first compare made serves as the length's with no other
       step. The payload starts at a multiple of 4, so its sum joins without a swap. */
    _Static_assert(TW_IPPROTO_TCP - TW_IPV4_HDR_LEN + 0xffff == 0xfff1, "pseudo-header");
    _Static_assert(0xfff1 - 0x4500 == 0xbaf1, "pseudo-header less version and TOS");
    const uint8_t phk[2] = {0xba, 0xf1};
    uint16_t phk_w;
    memcpy(&phk_w, phk, 2);
    if (!tw_cksum_native_ok_nz(tw_cksum_native_ip20(pkt))) { /* (pkt[0] is 0x45) */
        return false;
    }
    uint64_t addrs = tw_cksum_load64(pkt + 12);
    uint64_t len_proto = w0_word + phk_w;
    /* (the usual lengths, timestamps and a SYN's options, constants: one carry chain,
       no jump into the adds) */
    uint64_t sum;
    const uint8_t *payload;
    /* The usual lengths asked by the data offset's byte as it lies, its four reserved
       bits 0 (RFC 9293 3.1: they carry no meaning here, and the full parsers ignore
       them): one compare where the length in bytes took a shift and a mask before it
       (measured: lifecycle -16 instr). A header of the usual lengths with a reserved bit
       set takes the other lengths' way, whose parse (the length from the byte, the
       options by the parser) gives the same outcome. */
    _Static_assert(((TW_TCP_HDR_LEN + 12) << 2) == 0x80 && ((TW_TCP_HDR_LEN + 20) << 2) == 0xa0,
                   "data offsets 8 and 10");
    if (__builtin_expect(doff_raw == 0x80, 1)) {
        hlen = TW_TCP_HDR_LEN + 12;
        if (room < 12) {
            return false;
        }
        sum = tw_cksum_words_chain(addrs, seg, (TW_TCP_HDR_LEN + 12) / 4, len_proto);
        payload = seg + TW_TCP_HDR_LEN + 12;
    } else if (doff_raw == 0xa0) {
        hlen = TW_TCP_HDR_LEN + 20;
        if (room < 20) {
            return false;
        }
        sum = tw_cksum_words_chain(addrs, seg, (TW_TCP_HDR_LEN + 20) / 4, len_proto);
        payload = seg + TW_TCP_HDR_LEN + 20;
    } else {
        /* (out of line: in line, its loop's registers had the segment's address
           stored aside on every packet; measured: lifecycle -1.3 instr, -7 with the
           TS-only and no-option cases apart below) */
        /* (the segment's address made here from `pkt` hidden by an empty asm: seen as
           the usual branches' `seg`, GCC made it before the branches, where they made
           their payload's address again over it: one instruction on every packet,
           measured: lifecycle -7 instr) */
        hlen = tw_tcp_doff_len(doff_raw);
        if (hlen - TW_TCP_HDR_LEN > (uint32_t)room) {
            return false;
        }
        const uint8_t *g = tw_tcp_opaque_ptr(pkt);
        sum = tw_tcp_sum_seg(tw_cksum_add64(addrs, len_proto), g + TW_IPV4_HDR_LEN);
        payload = g + TW_IPV4_HDR_LEN + hlen;
    }
    /* Options: none, or NOP, NOP, TS (RFC 7323 Appendix A), in place; the rest through
       the option parser. Only the fields read whatever `present` says are set: the SACK
       blocks are read only up to sack_n. */
    const uint8_t *opt = seg + TW_TCP_HDR_LEN;
    /* The segment's length less its header: `room` (the total less both headers, under
       65536 once checked) plus the TCP header's 20, which GCC folds into the one
       subtraction of a constant for the usual header lengths, where from the total (or
       a segment length made from it) it widened the byte-swapped total again on every
       packet (measured: lifecycle -7 instr). */
    *data_len = (uint32_t)room + TW_TCP_HDR_LEN - hlen;
    /* (the payload's address made before the option parser's call, in each branch
       above: after it, the data offset had to be kept aside for it; measured:
       lifecycle -7 instr) */
    u->payload = payload;
    /* (the two cases apart: merged, their timestamps met in a stack slot, stored there
       and loaded again; measured: lifecycle -12.7 instr) */
    /* (mss 0 with its option absent, as tw_tcp_parse_opts leaves it, so that a SYN's
       steps read it whatever `present` says: the first eight bytes of `o` in one store
       of a constant, as `present` and wscale were in one before) */
    _Static_assert(offsetof(tw_tcp_opts, present) == 0 && offsetof(tw_tcp_opts, wscale) == 1 &&
                       offsetof(tw_tcp_opts, sack_n) == 2 && offsetof(tw_tcp_opts, fo_len) == 3 &&
                       offsetof(tw_tcp_opts, mss) == 4 && offsetof(tw_tcp_opts, fo_off) == 6 &&
                       offsetof(tw_tcp_opts, fo_flags) == 7,
                   "the eight bytes before the timestamps");
    if (__builtin_expect(hlen == TW_TCP_HDR_LEN + 12 && tw_get32(opt) == 0x0101080au, 1)) {
        h->o.present = TW_OPT_TS;
        h->o.wscale = 0;
        h->o.sack_n = 0;
        h->o.fo_len = 0;
        h->o.mss = 0;
        h->o.fo_off = 0;
        h->o.fo_flags = 0;
        tw_tcp_opts_ts_pair(&h->o, opt + 4);
    } else if (hlen == TW_TCP_HDR_LEN) {
        h->o.present = 0;
        h->o.wscale = 0;
        h->o.sack_n = 0;
        h->o.fo_len = 0;
        h->o.mss = 0;
        h->o.fo_off = 0;
        h->o.fo_flags = 0;
        h->o.ts_val = 0;
        h->o.ts_ecr = 0;
    } else if (hlen == TW_TCP_HDR_LEN + 20) {
        /* (the option parser's call for this length apart from the others': with one
           call for both, its arguments, the option block's address and its length, a
           constant here, were made before each of the layout's tests, on every SYN and
           SYN+ACK; measured: lifecycle -6 instr) */
        if (!tw_tcp_opts_syn_layout(&h->o, opt) &&
            (tw_tcp_parse_opts_pkt(&h->o, tw_tcp_opaque_ptr(pkt)) != TW_CNT_COUNT_ ||
             (h->o.present & TW_OPT_FASTOPEN))) {
            return false; /* (Fast Open: as below) */
        }
    } else if (tw_tcp_parse_opts_pkt(&h->o, tw_tcp_opaque_ptr(pkt)) != TW_CNT_COUNT_ ||
               (h->o.present & TW_OPT_FASTOPEN)) {
        /* (a Fast Open option, RFC 7413: the full parsers and steps, stack.c
           input_checked, which check it and count what they ignore) */
        return false;
    }
    h->win = tw_get16(seg + 14);
    u->key = key;
    u->ack_seq = tw_get32x2_rev(seg + 4);
    u->urg = tw_get16(seg + 18);
    u->payload_len = (uint32_t)room + TW_TCP_HDR_LEN - hlen;
    u->tcp_sum = sum;
    return true;
}

/* A zero source or destination port in `ports` (tw_tcp_usual's key, low half):
   tw_tcp_parse drops the segment (TW_CNT_TCP_RX_BAD_PORT; port 0 is reserved), and no
   connection is ever made with it. */
static inline bool tw_tcp_usual_ports_bad(uint32_t ports)
{
    return (ports >> 16) == 0 || (ports & 0xffffu) == 0;
}

/* The ports in `h` from `ports` (tw_tcp_usual's key, low half): tw_tcp_parse_usual_part leaves them out
   of `h`, where only the steps for a segment without a connection read them. */
static inline void tw_tcp_usual_ports(tw_tcp_hdr *h, uint32_t ports)
{
    h->sport = (uint16_t)(ports >> 16);
    h->dport = (uint16_t)ports;
}

/* The peer's MSS option, 0 when absent: every parser leaves mss 0 without the option
   (tw_tcp_parse_opts zeroes `o` first; tw_tcp_parse_usual_part's options in place
   store it with `present`; tw_tcp_opts_syn_layout has it), as must any other maker of
   options a SYN's steps read (tcp_in.c in_cookie_ack's has the option), so that a
   SYN's steps read it without asking `present`. */
static inline uint16_t tw_tcp_opts_mss_or_0(const tw_tcp_opts *o)
{
    assert((o->present & TW_OPT_MSS) || o->mss == 0);
    return o->mss;
}

/* What tw_tcp_parse_usual_part leaves unset in `o` (sack_n for the SYN layout,
   tw_tcp_opts_syn_layout) as tw_tcp_parse_opts sets them, 0 for an option absent: for a
   reader that takes them whatever `present` says. */
static inline void tw_tcp_opts_usual_fill(tw_tcp_opts *o)
{
    if (!(o->present & TW_OPT_MSS)) {
        o->mss = 0;
    }
    if (!(o->present & TW_OPT_SACK)) {
        o->sack_n = 0;
    }
}

static inline bool tw_tcp_parse_usual_hdr(tw_tcp_hdr *h, uint32_t *src, const uint8_t *pkt,
                                          size_t len, uint32_t self, uint64_t *tcp_sum)
{
    tw_tcp_usual u;
    uint32_t self_raw, data_len;
    uint8_t df[2];
    tw_put32((uint8_t *)&self_raw, self);
    /* (SYN with FIN or RST, and no flag at all, go to the full parser: rare, and its
       callers take the slow steps they need, tw_tcp_parse) */
    size_t rest = len - (TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN);
    if (len < TW_IPV4_HDR_LEN + TW_TCP_HDR_LEN ||
        !tw_tcp_parse_usual_part(h, &u, pkt, &rest, &self_raw, df, &data_len) ||
        tw_tcp_flags_bad(df[1]) ||
        tw_ipv4_bad_source((uint32_t)(u.key >> 32), self) ||
        tw_tcp_usual_ports_bad((uint32_t)u.key)) {
        return false;
    }
    tw_tcp_opts_usual_fill(&h->o);
    tw_tcp_usual_ports(h, (uint32_t)u.key);
    uint32_t as[2]; /* (SEG.ACK, SEG.SEQ: tw_tcp_usual's ack_seq) */
    memcpy(as, &u.ack_seq, 8);
    h->seq = as[1];
    h->ack = as[0];
    h->hdr_len = (uint8_t)tw_tcp_doff_len(df[0]);
    h->flags = df[1];
    h->urg = u.urg;
    h->payload = u.payload;
    h->payload_len = data_len;
    *src = (uint32_t)(u.key >> 32);
    *tcp_sum = u.tcp_sum;
    return true;
}

static inline bool tw_tcp_parse_usual(tw_tcp_hdr *h, uint32_t *src, const uint8_t *pkt,
                                      size_t len, uint32_t self)
{
    uint64_t sum;
    return tw_tcp_parse_usual_hdr(h, src, pkt, len, self, &sum) &&
           tw_cksum_native_ok_nz(tw_cksum_native(sum, h->payload, h->payload_len));
}

#endif
