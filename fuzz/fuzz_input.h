/*
 * fuzz_input.h -- the byte encoding fuzz_input.c decodes: shared with gen_corpus.c so the
 * seed inputs and the harness can never disagree about it.
 *
 * An input is a header of FZ_HDR_LEN bytes (configuration of the two stacks), then
 * operations until the bytes run out: one opcode byte (taken modulo FZ_OP_COUNT, so every
 * byte is a valid opcode; unassigned ones do nothing) and its operands. A missing operand reads as 0, so every byte
 * string is a valid input; libFuzzer mutates freely without wasting runs on rejects.
 *
 * Two stacks live on a wire the harness owns: A (10.0.0.1) and B (10.0.0.2). Packets one
 * stack transmits wait in a queue until an operation delivers, duplicates, corrupts or
 * drops them. Packets for the phantom peers P1 (10.0.0.3) and P2 (10.0.0.4) are noted
 * (their sequence numbers feed the segment builder) and vanish; the input plays those
 * peers with OP_INJECT_SEG.
 */
#ifndef TW_FUZZ_INPUT_H
#define TW_FUZZ_INPUT_H

#define FZ_ADDR_A 0x0a000001u
#define FZ_ADDR_B 0x0a000002u
#define FZ_ADDR_P1 0x0a000003u
#define FZ_ADDR_P2 0x0a000004u

/* Header bytes, in order. */
enum {
    FZ_H_OPTS,     /* bits 0-2: A no_wscale/no_sack/no_timestamps; 3-5 the same for B;
                      bit 6: A has a memory budget (FZ_H_BUDGET); bit 7: start time high */
    FZ_H_MSL,      /* msl = 1 + v % 30 seconds (both stacks) */
    FZ_H_RETRIES,  /* syn_retries = v & 7, synack_retries = (v >> 3) & 7 */
    FZ_H_RETRIES2, /* retries = v & 15, orphan_retries = v >> 4 (0 in both: default) */
    FZ_H_LIMITS,   /* A: max_connections = v & 15, max_orphans = v >> 4 (0: unlimited) */
    FZ_H_LIMITS2,  /* A: max_time_wait = v & 7; challenge_ack_limit = v >> 3 (0: default) */
    FZ_H_BUFS,     /* A: rcvbuf = fz_bufs[v & 7], sndbuf = fz_bufs[(v >> 3) & 7]; B default */
    FZ_H_BUDGET,   /* A: max_memory = 4096 * (1 + v) when FZ_H_OPTS bit 6 */
    FZ_H_MTU,      /* A mtu = fz_mtus[v & 3], B mtu = fz_mtus[(v >> 2) & 3]; bit 4: A runs
                      without a trace hook, bit 5: B (the paths taken only untraced) */
    FZ_HDR_LEN
};

enum fz_op {
    OP_DELIVER,     /* u8 i: deliver queued packet i % n (removed from the queue) */
    OP_DELIVER_ALL, /* deliver the queue in order, and what that sends, bounded */
    OP_DROP,        /* u8 i: lose queued packet i % n */
    OP_DUP,         /* u8 i: deliver a copy of packet i % n, keep it queued */
    OP_CORRUPT,     /* u8 i, u16 pos, u8 x: packet i % n delivered with byte pos ^= x|1 */
    OP_ADVANCE,     /* u8 m: bit 7: to the next deadline; else (m & 15) + 1 units of
                       fz_steps[(m >> 4) & 7]; timers of both stacks fire in order */
    OP_INJECT_RAW,  /* u8 target, u16 len, bytes: any bytes as an IPv4 packet */
    OP_INJECT_IP,   /* u8 target, u8 proto, u8 ipflags, u16 len, bytes: a valid IPv4
                       header (checksum right) around the bytes; see fuzz_input.c */
    OP_INJECT_SEG,  /* a structured TCP segment with valid checksums; see fuzz_input.c */
    OP_OPEN,        /* u8 stack */
    OP_BIND,        /* u8 stack, u8 handle, u8 port selector */
    OP_LISTEN,      /* u8 stack, u8 handle, u8 backlog selector */
    OP_ACCEPT,      /* u8 stack, u8 handle */
    OP_CONNECT,     /* u8 stack, u8 handle, u8 address selector, u8 port selector */
    OP_SEND,        /* u8 stack, u8 handle, u16 len (bytes of a known pattern) */
    OP_RECV,        /* u8 stack, u8 handle, u16 cap */
    OP_SHUTDOWN,    /* u8 stack, u8 handle, u8 how (0..4, 0 and 4 invalid) */
    OP_CLOSE,       /* u8 stack, u8 handle */
    OP_ABORT,       /* u8 stack, u8 handle */
    OP_SETOPT,      /* u8 stack, u8 handle, u8 which, u8 value selector */
    OP_FAIL_ALLOC,  /* u8 stack, u8 skip: allocation number (calls + 1 + skip % 8) fails */
    OP_FAIL_TX,     /* u8 stack: the next transmit reports failure (packet lost) */
    OP_PAIR,        /* u8 v: bit 0 client on B, bits 1-2 port: a listener (made if
                       missing), a connect, delivery, accept */
    OP_MISUSE,      /* u8 stack, u8 handle, u8 which: an API call with a NULL, an invalid
                       argument or time going backwards, and its documented answer */
    OP_FRAGMENT,    /* u8 i, u8 size, u8 mode: queued packet i % n (removed) delivered as
                       IPv4 fragments of ((size & 31) + 1) * 8 payload bytes; mode bit 0:
                       last first, 1: one fragment twice, 2: one more overlapping the
                       first by 8 bytes, 3: one fragment lost, bits 4-7: which */
    FZ_OP_LAST
};

/* Opcodes are taken modulo FZ_OP_COUNT, fixed at 32 so that saved inputs (seeds and
   regression reproducers) keep their meaning when operations are added: a new operation
   takes the next free opcode below 32; the free ones do nothing and read no operand. */
#define FZ_OP_COUNT 32
_Static_assert(FZ_OP_LAST <= FZ_OP_COUNT, "too many operations for the opcode space");

/* OP_INJECT_SEG operands, in order:
     u8 target      bit 0: stack (A/B); bits 1-7: flow selector: < 96 picks a flow already
                    seen on the wire (involving the target); else a fresh tuple from the
                    phantom peers
     u8 flags       raw TCP flags byte
     u8 seqmode     bits 0-1 seq:  0 target's last ACK + s8, 1 our next + s8,
                                   2 our ISN + s16, 3 raw u32
                    bits 2-3 ack:  0 target's next + s8, 1 target's ISN + 1 + s16,
                                   2 target's last ACK + s8 (an old ACK), 3 raw u32
                    bit 4: timestamp option (ts_ecr echoes the target's last ts_val)
                    bits 5-6 options: 0 none, 1 structured (u8 mask, values), 2 raw
                    (u8 len, bytes), 3 the target's own SYN options echoed
     then the delta/raw operands of seq and ack, then option operands,
     u16 window, u16 payload length (pattern bytes, at most 1460)
   A fresh tuple reads: u8 peer (bit 0: P1/P2, bit 1: B's address), u8 port selector
   for the target's port, u16 peer port, u32 our ISN. */

/* Step sizes of OP_ADVANCE, nanoseconds. */
#define FZ_STEPS                                                                         \
    {1000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull, 1000000000ull,            \
     10000000000ull, 60000000000ull}

#endif
