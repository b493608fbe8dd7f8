/*
 * wire.h -- IPv4/TCP packets as bytes, for the script runner.
 *
 * The runner plays the remote peer: it builds the packets a script injects and parses
 * the packets the stack transmits. This is deliberately independent of src/core (the
 * code under test must not check itself): its own builder, parser and checksum
 * (RFC 791 header, RFC 9293 3.1 TCP header and pseudo-header checksum, RFC 1071 sum).
 */
#ifndef TW_SCRIPT_WIRE_H
#define TW_SCRIPT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_WIRE_MAX_OPTS 40

typedef struct tw_wire_tcp {
    /* IPv4 */
    uint32_t saddr, daddr; /* host order */
    uint8_t tos, ttl;
    uint16_t ip_id;
    uint16_t frag;         /* flags and fragment offset field, host order */
    uint8_t ihl;           /* parse only: header length in 32-bit words */
    /* TCP */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint8_t doff;          /* parse only: data offset in 32-bit words */
    uint16_t win, urg;
    uint8_t opts[TW_WIRE_MAX_OPTS];
    size_t opts_len;
    const uint8_t *payload;
    size_t payload_len;
} tw_wire_tcp;

/* One decoded TCP option; `data` points into the option bytes (len - 2 bytes). */
typedef struct tw_wire_opt {
    uint8_t kind;
    uint8_t len;           /* 1 for EOL/NOP */
    const uint8_t *data;
} tw_wire_opt;

/* RFC 1071 one's-complement sum over `len` bytes, folded; `init` chains partial sums. */
uint32_t tw_wire_sum(const uint8_t *p, size_t len, uint32_t init);
uint16_t tw_wire_fold(uint32_t sum);

/* Build an IPv4+TCP packet (options padded with EOL to a 4-byte multiple, checksums
   filled in). Returns its length, or 0 if it does not fit in `cap` or opts_len > 40. */
size_t tw_wire_build(const tw_wire_tcp *t, uint8_t *buf, size_t cap);

/* Recompute the IPv4 header checksum / the TCP checksum of a built packet in place
   (using the header's own IHL and total length, clamped to `len`). */
void tw_wire_fix_ip_csum(uint8_t *pkt, size_t len);
void tw_wire_fix_tcp_csum(uint8_t *pkt, size_t len);

/* Parse a packet the stack sent. Returns 0, or -1 with a reason in `why` when it is not
   a well-formed IPv4/TCP packet with correct checksums. `out->payload` points into pkt. */
int tw_wire_parse(const uint8_t *pkt, size_t len, tw_wire_tcp *out, char *why, size_t whylen);

/* Split option bytes into options. Returns the count, or -1 if malformed (length byte
   0/1 or running past the end). */
int tw_wire_opts_decode(const uint8_t *opts, size_t len, tw_wire_opt *out, size_t max);

/* "192.0.2.1" <-> host-order address; returns 0 / -1. */
int tw_wire_parse_addr(const char *s, uint32_t *out);
void tw_wire_format_addr(uint32_t a, char *buf, size_t cap);

#endif
