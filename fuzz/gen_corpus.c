/*
 * gen_corpus.c -- writes the seed corpora under <dir>/<target>/ (`make -C fuzz corpus`).
 *
 * The seeds give the fuzzers a head start into the states that matter: a full handshake
 * and close between the two stacks, a simultaneous open and close, a peer the input plays
 * by hand through every state, resets and SYNs at established connections, out-of-order
 * and zero-window transfers, allocation failures, TIME-WAIT reuse, malformed packets; TCP
 * options in every shape RFC 9293 allows and the ones it does not; small packetdrill
 * scripts. The encoding is fuzz_input.h's.
 *
 * usage: gen_corpus <dir>
 */
#include "fuzz_input.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct buf {
    uint8_t b[8192];
    size_t n;
} buf;

static const char *g_dir;

static void b8(buf *b, unsigned v)
{
    if (b->n < sizeof(b->b)) {
        b->b[b->n++] = (uint8_t)v;
    }
}

static void b16(buf *b, unsigned v)
{
    b8(b, v >> 8);
    b8(b, v);
}

static void b32(buf *b, uint32_t v)
{
    b16(b, v >> 16);
    b16(b, v & 0xffff);
}

static void bytes(buf *b, const void *p, size_t n)
{
    const uint8_t *q = p;
    for (size_t i = 0; i < n; i++) {
        b8(b, q[i]);
    }
}

static void mkdir_p(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "gen_corpus: mkdir %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static void save(const char *target, const char *name, const buf *b)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", g_dir, target);
    mkdir_p(path);
    snprintf(path, sizeof(path), "%s/%s/%s", g_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->b, 1, b->n, f) != b->n || fclose(f) != 0) {
        fprintf(stderr, "gen_corpus: cannot write %s\n", path);
        exit(1);
    }
}

/* ---- fuzz_input ---------------------------------------------------------------------- */

/* Header: Linux-like retries, a 2 s MSL, defaults elsewhere; `opts` and `bufs` vary. */
static void hdr(buf *b, unsigned opts, unsigned bufs)
{
    b->n = 0;
    uint8_t h[FZ_HDR_LEN] = {0};
    h[FZ_H_OPTS] = (uint8_t)opts;
    h[FZ_H_MSL] = 1;                  /* 2 s */
    h[FZ_H_RETRIES] = 3 | 3 << 3;     /* SYN and SYN+ACK: 3 retries */
    h[FZ_H_RETRIES2] = 5 | 3 << 4;    /* data 5, orphans 3 */
    h[FZ_H_BUFS] = (uint8_t)bufs;
    bytes(b, h, sizeof(h));
}

static void op(buf *b, enum fz_op o)
{
    b8(b, o);
}

/* Socket ops take (stack, handle). */
static void sop(buf *b, enum fz_op o, unsigned stack, unsigned handle)
{
    op(b, o);
    b8(b, stack);
    b8(b, handle);
}

static void send_(buf *b, unsigned stack, unsigned handle, unsigned len)
{
    sop(b, OP_SEND, stack, handle);
    b16(b, len);
}

static void recv_(buf *b, unsigned stack, unsigned handle, unsigned cap)
{
    sop(b, OP_RECV, stack, handle);
    b16(b, cap);
}

static void shut(buf *b, unsigned stack, unsigned handle, unsigned how)
{
    sop(b, OP_SHUTDOWN, stack, handle);
    b8(b, how);
}

static void advance(buf *b, unsigned m)
{
    op(b, OP_ADVANCE);
    b8(b, m);
}

static void deliver_all(buf *b)
{
    op(b, OP_DELIVER_ALL);
}

/* OP_ADVANCE argument: n (1..16) steps of unit u (index in FZ_STEPS). */
#define STEP(u, n) (((u) << 4) | ((n) - 1))
#define NEXT_DEADLINE 0x80

/* A crafted segment on flow `flow` (index among the target's flows) or, with flow < 0, on
   a fresh tuple from phantom P1 port `pport` to the target's port selector `tport`. */
typedef struct seg {
    int target, flow;
    unsigned tport, pport;
    uint32_t isn;
    unsigned flags, seqmode, acknode;
    int seq_delta, ack_delta;
    uint32_t seq_raw, ack_raw;
    bool ts;
    unsigned optmode, optmask;
    unsigned win, plen;
} seg;

static void inject(buf *b, const seg *s)
{
    op(b, OP_INJECT_SEG);
    if (s->flow >= 0) {
        b8(b, (unsigned)s->target | (unsigned)s->flow << 1);
    } else {
        b8(b, (unsigned)s->target | 127u << 1);
        b8(b, 0); /* P1 */
        b8(b, s->tport);
        b16(b, s->pport);
        b32(b, s->isn);
    }
    b8(b, s->flags);
    unsigned sm = s->seqmode | s->acknode << 2 | (s->ts ? 16u : 0u) | s->optmode << 5;
    b8(b, sm);
    switch (s->seqmode) {
    case 0:
    case 1:
        b8(b, (unsigned)s->seq_delta & 0xff);
        break;
    case 2:
        b16(b, (unsigned)s->seq_delta & 0xffff);
        break;
    default:
        b32(b, s->seq_raw);
        break;
    }
    switch (s->acknode) {
    case 0:
    case 2:
        b8(b, (unsigned)s->ack_delta & 0xff);
        break;
    case 1:
        b16(b, (unsigned)s->ack_delta & 0xffff);
        break;
    default:
        b32(b, s->ack_raw);
        break;
    }
    if (s->optmode == 1) {
        b8(b, s->optmask);
        if (s->optmask & 1) {
            b16(b, 1460);
        }
        if (s->optmask & 2) {
            b8(b, 7);
        }
        if (s->optmask & 8) {
            b8(b, 0); /* one block */
            b16(b, 2000);
            b16(b, 1000);
        }
        if (s->optmask & 64) {
            b8(b, 4);
        }
    }
    b16(b, s->win);
    b16(b, s->plen);
}

#define SYNOPTS (1 | 2 | 4) /* MSS, window scale, SACK-permitted */

static void gen_input(void)
{
    buf b;
    const char *T = "fuzz_input";

    /* Handshake A -> B, data both ways, everything read. */
    hdr(&b, 0, 0);
    op(&b, OP_PAIR);
    b8(&b, 0); /* client on A, server on B port 80 */
    send_(&b, 0, 0, 3000);
    deliver_all(&b);
    recv_(&b, 1, 1, 4096);
    send_(&b, 1, 1, 500);
    deliver_all(&b);
    recv_(&b, 0, 0, 4096);
    save(T, "handshake", &b);

    /* The four-way close (S10-S15): A closes first, B answers, TIME-WAIT expires. */
    hdr(&b, 0, 0);
    op(&b, OP_PAIR);
    b8(&b, 0);
    send_(&b, 0, 0, 100);
    deliver_all(&b);
    recv_(&b, 1, 1, 200);
    shut(&b, 0, 0, 2);
    deliver_all(&b);
    recv_(&b, 1, 1, 200); /* end of stream */
    send_(&b, 1, 1, 50);  /* S12: half-close, data still flows */
    deliver_all(&b);
    recv_(&b, 0, 0, 200);
    sop(&b, OP_CLOSE, 1, 1);
    deliver_all(&b);
    advance(&b, STEP(5, 5));
    sop(&b, OP_CLOSE, 0, 0);
    advance(&b, STEP(6, 2));
    save(T, "close", &b);

    /* Simultaneous close (R2) with a lost ACK (S16). */
    hdr(&b, 0, 0);
    op(&b, OP_PAIR);
    b8(&b, 1); /* client on B */
    shut(&b, 0, 1, 2);
    shut(&b, 1, 0, 2);
    op(&b, OP_DROP);
    b8(&b, 0);
    deliver_all(&b);
    advance(&b, NEXT_DEADLINE);
    deliver_all(&b);
    advance(&b, STEP(5, 6));
    save(T, "close_simultaneous", &b);

    /* Simultaneous open (R1): A binds 80 and calls B:81, B binds 81 and calls A:80. */
    hdr(&b, 0, 0);
    op(&b, OP_OPEN);
    b8(&b, 0);
    op(&b, OP_OPEN);
    b8(&b, 1);
    sop(&b, OP_BIND, 0, 0);
    b8(&b, 0);
    sop(&b, OP_BIND, 1, 0);
    b8(&b, 1);
    sop(&b, OP_CONNECT, 0, 0);
    b8(&b, 0);
    b8(&b, 1);
    sop(&b, OP_CONNECT, 1, 0);
    b8(&b, 0);
    b8(&b, 0);
    deliver_all(&b);
    deliver_all(&b);
    send_(&b, 0, 0, 10);
    deliver_all(&b);
    recv_(&b, 1, 0, 10);
    save(T, "open_simultaneous", &b);

    /* The input plays the client P1:5555 against a listener on A:80, through every
       state: SYN, ACK with data, FIN, then the last ACK. */
    hdr(&b, 0, 0);
    op(&b, OP_OPEN);
    b8(&b, 0);
    sop(&b, OP_BIND, 0, 0);
    b8(&b, 0);
    sop(&b, OP_LISTEN, 0, 0);
    b8(&b, 0);
    seg s = {.target = 0, .flow = -1, .tport = 0, .pport = 5555, .isn = 1000000,
             .flags = 0x02, .seqmode = 2, .acknode = 3, .ts = true, .optmode = 1,
             .optmask = SYNOPTS, .win = 65535};
    inject(&b, &s);
    seg a = {.target = 0, .flow = 0, .flags = 0x10, .seqmode = 1, .acknode = 0, .ts = true,
             .win = 1000, .plen = 300};
    inject(&b, &a);
    sop(&b, OP_ACCEPT, 0, 0);
    recv_(&b, 0, 1, 1000);
    send_(&b, 0, 1, 2000);
    a.plen = 0;
    a.flags = 0x11; /* FIN */
    inject(&b, &a);
    sop(&b, OP_CLOSE, 0, 1);
    a.flags = 0x10;
    inject(&b, &a);
    advance(&b, STEP(5, 3));
    save(T, "peer_passive", &b);

    /* A connects to P1:80; the input answers SYN+ACK with A's own options, then data
       out of order, a hole filled, a RST at the exact sequence number. */
    hdr(&b, 0, 0);
    op(&b, OP_OPEN);
    b8(&b, 0);
    sop(&b, OP_CONNECT, 0, 0);
    b8(&b, 1);
    b8(&b, 0);
    seg sa = {.target = 0, .flow = 0, .flags = 0x12, .seqmode = 3, .seq_raw = 424242,
              .acknode = 0, .optmode = 3, .win = 65535};
    inject(&b, &sa);
    seg d = {.target = 0, .flow = 0, .flags = 0x18, .seqmode = 1, .seq_delta = 100,
             .acknode = 0, .ts = true, .win = 65535, .plen = 200};
    inject(&b, &d);
    d.seq_delta = 0;
    d.plen = 100;
    inject(&b, &d);
    recv_(&b, 0, 0, 1000);
    send_(&b, 0, 0, 5000);
    seg rst = {.target = 0, .flow = 0, .flags = 0x04, .seqmode = 0, .seq_delta = 1,
               .acknode = 0, .win = 0};
    inject(&b, &rst); /* in the window, not exact: challenge ACK */
    rst.seq_delta = 0;
    inject(&b, &rst); /* exact: reset */
    recv_(&b, 0, 0, 10);
    save(T, "peer_active_rst", &b);

    /* Blind injection at an established A<->B connection: RSTs and SYNs off by a little,
       data with a wrong ACK, then the connection must still carry data. */
    hdr(&b, 0, 0);
    op(&b, OP_PAIR);
    b8(&b, 0);
    for (int i = 0; i < 4; i++) {
        seg x = {.target = i & 1, .flow = 0, .flags = i < 2 ? 0x04 : 0x02, .seqmode = 0,
                 .seq_delta = 3 + i, .acknode = 0, .win = 1000};
        inject(&b, &x);
    }
    seg y = {.target = 1, .flow = 0, .flags = 0x10, .seqmode = 0, .acknode = 3,
             .ack_raw = 77, .win = 1000, .plen = 10};
    inject(&b, &y);
    deliver_all(&b);
    send_(&b, 0, 0, 1000);
    deliver_all(&b);
    recv_(&b, 1, 1, 2000);
    save(T, "inject_blind", &b);

    /* Zero window: A's receive buffer is 1 KiB, B sends 8 KiB, A reads slowly; loss. */
    hdr(&b, 0, 1 | 1 << 3);
    op(&b, OP_PAIR);
    b8(&b, 1);
    send_(&b, 1, 0, 8192);
    deliver_all(&b);
    advance(&b, STEP(5, 2));
    recv_(&b, 0, 1, 700);
    op(&b, OP_DROP);
    b8(&b, 0);
    advance(&b, STEP(5, 4));
    deliver_all(&b);
    recv_(&b, 0, 1, 2000);
    deliver_all(&b);
    advance(&b, STEP(5, 8));
    deliver_all(&b);
    save(T, "zero_window", &b);

    /* Loss, duplication, reordering, corruption of a bulk transfer. */
    hdr(&b, 0, 0);
    op(&b, OP_PAIR);
    b8(&b, 0);
    send_(&b, 0, 0, 20000);
    op(&b, OP_DROP);
    b8(&b, 1);
    op(&b, OP_DUP);
    b8(&b, 2);
    op(&b, OP_DELIVER);
    b8(&b, 3);
    op(&b, OP_CORRUPT);
    b8(&b, 0);
    b16(&b, 40);
    b8(&b, 0x10);
    deliver_all(&b);
    advance(&b, NEXT_DEADLINE);
    deliver_all(&b);
    recv_(&b, 1, 1, 30000);
    advance(&b, NEXT_DEADLINE);
    deliver_all(&b);
    recv_(&b, 1, 1, 30000);
    save(T, "lossy_transfer", &b);

    /* A transfer whose segments arrive as IPv4 fragments: in order, last first, with a
       duplicate, an overlap (the segment lost) and a lost fragment (reassembly times
       out, ICMP Time Exceeded to the sender). */
    hdr(&b, 0, 0);
    op(&b, OP_PAIR);
    b8(&b, 0);
    send_(&b, 0, 0, 6000);
    static const uint8_t modes[][2] = {{0, 0}, {31, 1}, {2, 0x12}, {7, 0x24}, {10, 0x18}};
    for (unsigned k = 0; k < sizeof modes / sizeof modes[0]; k++) {
        op(&b, OP_FRAGMENT);
        b8(&b, 0);
        b8(&b, modes[k][0]);
        b8(&b, modes[k][1]);
    }
    deliver_all(&b);
    advance(&b, NEXT_DEADLINE);
    deliver_all(&b);
    recv_(&b, 1, 1, 30000);
    advance(&b, STEP(6, 4)); /* 40 s: past reassembly's 30 */
    deliver_all(&b);
    recv_(&b, 1, 1, 30000);
    save(T, "fragments", &b);

    /* Allocation failures along a connection's life; a memory budget on A. */
    for (unsigned k = 0; k < 4; k++) {
        hdr(&b, 0x40, 0);
        b.b[FZ_H_BUDGET] = 20;
        op(&b, OP_FAIL_ALLOC);
        b8(&b, k & 1);
        b8(&b, k);
        op(&b, OP_PAIR);
        b8(&b, k >> 1);
        op(&b, OP_FAIL_ALLOC);
        b8(&b, 0);
        b8(&b, 0);
        send_(&b, 0, k >> 1 ? 1 : 0, 4000);
        op(&b, OP_FAIL_ALLOC);
        b8(&b, 1);
        b8(&b, 0);
        deliver_all(&b);
        char name[32];
        snprintf(name, sizeof(name), "oom_%u", k);
        save(T, name, &b);
    }

    /* TIME-WAIT, then the same 4-tuple again with SO_REUSEADDR (S17, RFC 6191). */
    hdr(&b, 0, 0);
    op(&b, OP_OPEN);
    b8(&b, 1);
    sop(&b, OP_BIND, 1, 0);
    b8(&b, 0);
    sop(&b, OP_LISTEN, 1, 0);
    b8(&b, 1);
    for (int round = 0; round < 2; round++) {
        op(&b, OP_OPEN);
        b8(&b, 0);
        sop(&b, OP_SETOPT, 0, 0);
        b8(&b, 0);
        b8(&b, 1);
        sop(&b, OP_BIND, 0, 0);
        b8(&b, 7); /* 40000 */
        sop(&b, OP_CONNECT, 0, 0);
        b8(&b, 0);
        b8(&b, 0);
        deliver_all(&b);
        sop(&b, OP_ACCEPT, 1, 0);
        send_(&b, 0, 0, 10);
        sop(&b, OP_CLOSE, 0, 0);
        deliver_all(&b);
        recv_(&b, 1, 1, 100);
        sop(&b, OP_CLOSE, 1, 1);
        deliver_all(&b);
        advance(&b, STEP(4, 3));
    }
    save(T, "time_wait_reuse", &b);

    /* Malformed packets: raw bytes, bad IP fields, ICMP echo, TCP with bad offsets. */
    hdr(&b, 0, 0);
    op(&b, OP_INJECT_RAW);
    b8(&b, 0);
    b16(&b, 24);
    static const uint8_t junk[24] = {0x45, 0, 0, 24, 0, 0, 0x40, 0, 64, 6, 0, 0,
                                     10, 0, 0, 3, 10, 0, 0, 1, 0, 80, 0, 80};
    bytes(&b, junk, sizeof(junk));
    op(&b, OP_INJECT_IP);
    b8(&b, 0);
    b8(&b, 1);    /* ICMP */
    b8(&b, 0x40); /* checksum fixed */
    b16(&b, 12);
    static const uint8_t echo[12] = {8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'};
    bytes(&b, echo, sizeof(echo));
    op(&b, OP_INJECT_IP);
    b8(&b, 0);
    b8(&b, 0);    /* TCP */
    b8(&b, 0x41); /* IP options, checksum fixed */
    b16(&b, 24);
    b8(&b, 1);    /* one word of IP options */
    b32(&b, 0x01010100);
    static const uint8_t tcp[24] = {0x13, 0x88, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0,
                                    0x60, 0x02, 0xff, 0xff, 0, 0, 0, 0, 2, 4, 0x05, 0xb4};
    bytes(&b, tcp, sizeof(tcp));
    op(&b, OP_INJECT_IP);
    b8(&b, 0);
    b8(&b, 0);
    b8(&b, 0x46); /* fragment, checksum fixed */
    b16(&b, 20);
    bytes(&b, tcp, 20);
    save(T, "malformed", &b);

    /* Limits: max_connections 2, max_orphans 1, max_time_wait 1 on A; many pairs. */
    hdr(&b, 0, 0);
    b.b[FZ_H_LIMITS] = 2 | 1 << 4;
    b.b[FZ_H_LIMITS2] = 1 | 2 << 3;
    for (int i = 0; i < 4; i++) {
        op(&b, OP_PAIR);
        b8(&b, (unsigned)(i & 1) | (unsigned)i << 1);
    }
    for (int i = 0; i < 3; i++) {
        sop(&b, OP_CLOSE, 0, 0);
        deliver_all(&b);
    }
    save(T, "limits", &b);
}

/* ---- fuzz_opts ----------------------------------------------------------------------- */

static void gen_opts(void)
{
    const char *T = "fuzz_opts";
    static const struct {
        const char *name;
        uint8_t mode;
        size_t n;
        uint8_t b[44];
    } o[] = {
        {"linux_syn", 0, 20, {2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 1, 0, 0, 0, 0, 0, 1, 3, 3, 7}},
        {"ts_only", 0, 12, {1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8}},
        {"sack_3", 0, 28, {1, 1, 5, 26, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40,
                           0, 0, 0, 50, 0, 0, 0, 60}},
        {"sack_4", 0, 36, {1, 1, 5, 34, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0,
                           0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8}},
        {"sack_ts", 0, 40, {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 26, 0, 0, 0, 1, 0,
                            0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6}},
        {"len0", 0, 4, {2, 0, 1, 1}},
        {"len1", 0, 4, {30, 1, 0, 0}},
        {"overflow", 0, 4, {2, 8, 5, 180}},
        {"kind_no_len", 0, 1, {2}},
        {"dup_mss", 0, 8, {2, 4, 5, 180, 2, 4, 2, 0}},
        {"bad_mss_len", 0, 4, {2, 3, 5, 0}},
        {"ws_15", 0, 4, {1, 3, 3, 15}},
        {"eol_then_junk", 0, 8, {1, 0, 2, 0, 0xff, 0xff, 0xff, 0xff}},
        {"unknown", 0, 8, {30, 6, 1, 2, 3, 4, 1, 1}},
        {"md5", 0, 20, {19, 18, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 1, 1}},
        {"empty", 0, 0, {0}},
        {"seg_syn", 1, 24, {0x13, 0x88, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x02, 0xff, 0xff,
                            0, 0, 0, 0, 2, 4, 5, 180}},
        {"seg_synfin", 1, 20, {0x13, 0x88, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x03, 0xff,
                               0xff, 0, 0, 0, 0}},
        {"seg_off4", 1, 20, {0x13, 0x88, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x40, 0x10, 0xff, 0xff,
                             0, 0, 0, 0}},
        {"seg_off_big", 1, 24, {0x13, 0x88, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0xf0, 0x10, 0xff,
                                0xff, 0, 0, 0, 0, 1, 1, 1, 1}},
        {"seg_data", 1, 26, {0x13, 0x88, 0, 80, 0, 0, 0, 1, 0, 0, 0, 5, 0x50, 0x18, 0x10, 0,
                             0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o', '\n'}},
        {"seg_badsum", 3, 20, {0x13, 0x88, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff,
                               0xff, 0x12, 0x34, 0, 0}},
    };
    for (size_t i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
        buf b = {.n = 0};
        b8(&b, o[i].mode);
        bytes(&b, o[i].b, o[i].n);
        save(T, o[i].name, &b);
    }
}

/* ---- fuzz_script ------------------------------------------------------------------------ */

static void gen_script(void)
{
    const char *T = "fuzz_script";
    static const struct {
        const char *name;
        const char *text;
    } s[] = {
        {"handshake.pkt",
         "// passive open, data, close\n"
         "--tolerance_usecs=1000\n"
         "0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
         "+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n"
         "+0  bind(3, ..., ...) = 0\n"
         "+0  listen(3, 1) = 0\n"
         "+0  < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>\n"
         "+0  > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>\n"
         "+.1 < . 1:1(0) ack 1 win 257\n"
         "+0  accept(3, ..., ...) = 4\n"
         "+0  state ESTABLISHED\n"
         "+0  < P. 1:11(10) ack 1 win 257\n"
         "+0  > . 1:1(0) ack 11\n"
         "+0  read(4, ..., 10) = 10\n"
         "+0  write(4, ..., 5) = 5\n"
         "+0  > P. 1:6(5) ack 11\n"
         "+0  close(4) = 0\n"
         "+0  > F. 6:6(0) ack 11\n"
         "+0  < F. 11:11(0) ack 7 win 257\n"
         "+0  > . 7:7(0) ack 12\n"
         "+0  counter TCP_ESTABLISHED == 1\n"},
        {"active.pkt",
         "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
         "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
         "+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n"
         "+0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>\n"
         "+.01 < S. 0:0(0) ack 1 win 5792 <mss 1460,sackOK,TS val 700 ecr 100,nop,wscale 7>\n"
         "+0 > . 1:1(0) ack 1 <nop,nop,TS val 110 ecr 700>\n"
         "+0 deadline none\n"
         "+1 < R 1:1(0) win 0\n"
         "* > . 1:1(0) ack 1\n"
         "+0~+2 > R 1:1(0)\n"},
        {"options.pkt",
         "`echo setup`\n"
         "0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
         "+0 setsockopt(3, IPPROTO_TCP, TCP_MAXSEG, [1100], 4) = 0\n"
         "+0 < [ect0] S 100:100(0) win 65535 <mss 1460,sackOK,eol,eol>\n"
         "+0 < (tos 0x10, ttl 3) . 1:1(0) ack 1 win 100 <sack 1:2 3:4,nop,nop>\n"
         "+0 < . 1:1(0) ack 1 win 100 with bad_csum\n"
         "+0 %{ print(\"hi\") }%\n"
         "+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n"
         "#ifdef FLAGS\n"
         "+0 < F. 1:1(0) ack 1 win PORT\n"
         "#else\n"
         "+0 < R. 1:1(0) ack 1 win 0\n"
         "#endif\n"
         "`echo done`\n"},
        {"urgent.pkt",
         "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
         "+0 < U. 1:2(1) ack 1 win 100 urg 1\n"
         "+0 < -  1:1(0) win 0\n"
         "+0 < .  ...(10) ack 1 win 0\n"
         "+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n"
         "+0 poll([{fd=3, events=POLLIN, revents=POLLIN}], 1, 0) = 1\n"
         "1.0...1.2 write(3, ..., 100) = 100\n"},
    };
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        buf b = {.n = 0};
        bytes(&b, s[i].text, strlen(s[i].text));
        save(T, s[i].name, &b);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus <dir>\n");
        return 2;
    }
    g_dir = argv[1];
    mkdir_p(g_dir);
    gen_input();
    gen_opts();
    gen_script();
    return 0;
}
