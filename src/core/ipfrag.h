/*
 * ipfrag.h -- IPv4 reassembly (RFC 791 3.2, RFC 815, RFC 1122 3.3.2) and the fragmenting
 * of an echo reply larger than the MTU (RFC 1122 3.2.2.6).
 *
 * tcpwave sets DF and announces an MSS that fits the MTU, so its peers rarely fragment
 * what they send it; a host must still take fragmented datagrams in (RFC 1122 3.3.2: "The
 * IP layer MUST implement reassembly"), ping -s 4000 among them. Bounded: at most
 * TW_FRAG_QUEUES datagrams in reassembly and TW_FRAG_MEM bytes of fragments held (within
 * the stack's memory budget), each given TW_FRAG_TIMEOUT to complete. Fragments that
 * overlap discard their datagram (as Linux since 4.19: overlaps only serve to get
 * different data past a filter, RFC 1858 and RFC 3128), exact duplicates are dropped.
 */
#ifndef TW_CORE_IPFRAG_H
#define TW_CORE_IPFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "tcpwave.h"
#include "core/htab.h"
#include "core/ipv4.h"
#include "core/wheel.h"

#define TW_FRAG_QUEUES 64u
#define TW_FRAG_MEM (256u * 1024u)
/* Linux's ipfrag_time. RFC 1122 3.3.2 recommends 60-120 s and a fixed value, not one
   from the TTL; Linux's 30 s is what peers on these machines meet, and ties up memory a
   flood of first fragments could take for half as long. */
#define TW_FRAG_TIMEOUT TW_SEC(30)

typedef struct tw_frag tw_frag;

/* One datagram in reassembly. Its header is a connection's and a half-open entry's (h,
   timer, kind at the same offsets: stack.c's timer loop tells them by kind). */
typedef struct tw_fragq {
    tw_hnode h;      /* h.next: the stack's list of queues (unsorted) */
    tw_timer timer;  /* TW_FRAG_TIMEOUT after the first fragment */
    uint8_t kind;    /* TW_OBJ_FRAG */
    uint8_t proto;
    uint8_t hdr_len; /* of hdr: the first fragment's header, 0 until it came */
    uint8_t ecn;     /* the ECN fields seen, one bit per codepoint (RFC 3168 5.3) */
    uint16_t id;
    uint32_t src;
    uint32_t end;    /* the payload's length once the last fragment came, else 0 */
    uint32_t have;   /* payload bytes held */
    uint32_t mem;    /* bytes allocated for the fragments */
    tw_frag *frags;  /* by offset, none overlapping */
    uint8_t hdr[60];
} tw_fragq;

/* A fragment `ip` (MF or an offset, checked for us by tw_ipv4_parse) taken in. Returns
   the reassembled datagram (a fresh header, no fragment fields, its checksum right) when
   this one completed it, with its length in *len; the caller gives it back with
   tw_ipfrag_release once done with it. NULL otherwise (held, or dropped and counted). */
uint8_t *tw_ipfrag_input(tw_stack *st, const uint8_t *pkt, const tw_ipv4_hdr *ip, size_t *len);
void tw_ipfrag_release(tw_stack *st, uint8_t *dgram, size_t len);
/* A queue's timer ran out (stack.c): discarded, with ICMP Time Exceeded when its first
   fragment came (RFC 1122 3.3.2). */
void tw_ipfrag_on_timer(tw_stack *st, tw_fragq *q);
/* Every queue freed (tw_stack_free). */
void tw_ipfrag_free_all(tw_stack *st);

/* An echo reply (ICMP message `icmp`, `len` bytes, in st->txbuf after a 20-byte gap) sent
   to `dst` in fragments of at most the MTU. */
void tw_ipfrag_send(tw_stack *st, uint32_t dst, uint8_t proto, uint8_t *buf, size_t len);

#endif
