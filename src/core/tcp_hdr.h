/*
 * tcp_hdr.h -- TCP header and options: parse into a validated struct, build from one
 * (RFC 9293 3.1, options RFC 9293 3.2 / RFC 7323 / RFC 2018).
 */
#ifndef TW_CORE_TCP_HDR_H
#define TW_CORE_TCP_HDR_H

#include <stdint.h>
#include <stddef.h>
#include "tcpwave.h"

#define TW_TCP_HDR_LEN 20
#define TW_TCP_MAX_OPT 40
#define TW_SACK_MAX_BLOCKS 4

typedef struct tw_sack_block {
    uint32_t start, end;
} tw_sack_block;

typedef struct tw_tcp_opts {
    uint8_t present; /* TW_OPT_* */
    uint8_t wscale;  /* clamped to 14 (RFC 7323 2.3) */
    uint8_t sack_n;
    uint16_t mss;
    uint32_t ts_val, ts_ecr;
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

/* Parse options. Returns TW_CNT_COUNT_ or TW_CNT_TCP_RX_BAD_OPTION / _DUP_OPTION. */
enum tw_counter tw_tcp_parse_opts(tw_tcp_opts *o, const uint8_t *p, size_t len);
/* Parse and validate a segment (checksum with the pseudo-header of src/dst). Returns
   TW_CNT_COUNT_ or the counter naming the drop. */
enum tw_counter tw_tcp_parse(tw_tcp_hdr *h, const uint8_t *seg, size_t len, uint32_t src,
                             uint32_t dst);
/* Write options (in Linux's SYN layout where it applies), padded to 4 bytes; returns
   bytes written (<= 40). */
size_t tw_tcp_build_opts(uint8_t *buf, const tw_tcp_opts *o);
/* Write header + options at `buf` (payload, if any, must already follow at
   buf + hdr_len, where hdr_len = 20 + options); `payload_sum` is the partial
   checksum of the payload (tw_cksum_copy computes it while copying).
   Returns the header length. */
size_t tw_tcp_build(uint8_t *buf, const tw_tcp_hdr *h, uint32_t src, uint32_t dst,
                    uint32_t payload_sum);
/* The same when the `olen` bytes of options are already in place at buf + 20. */
void tw_tcp_build_hdr(uint8_t *buf, const tw_tcp_hdr *h, size_t olen, uint32_t src, uint32_t dst,
                      uint32_t payload_sum);

#endif
