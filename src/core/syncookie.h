/*
 * syncookie.h -- SYN cookies (RFC 4987 3.6, SPEC S8): a listener under a SYN flood keeps
 * no state for a SYN; what it needs later is folded into the ISN of its SYN+ACK and
 * checked when the third segment comes back.
 *
 * The 32-bit cookie (our ISN):
 *
 *   31      27 26  24 23                                   0
 *   | period  | mss  |  MAC(key, 4-tuple, peer ISN, period, mss) |
 *     5 bits   3 bits  24 bits
 *
 * period counts 64-second units of the stack's clock (a cookie is good for two of them,
 * at most about three minutes); the MAC is SipHash-2-4 keyed from the stack's entropy, so
 * the key is effectively rotated every period. When the SYN carried timestamps, the low 6
 * bits of our TSval carry window scale (4 bits, 15 = none), SACK-permitted and ECN, as
 * Linux does; the peer echoes them in TSecr.
 */
#ifndef TW_CORE_SYNCOOKIE_H
#define TW_CORE_SYNCOOKIE_H

#include <stdbool.h>
#include <stdint.h>
#include "core/stack.h"

#define TW_COOKIE_PERIOD TW_SEC(64)

/* Make the ISN for a SYN+ACK answering peer ISN `peer_isn` with MSS `peer_mss`;
   *mss_out is the MSS the cookie encodes (the largest table entry <= peer_mss). */
uint32_t tw_cookie_make(const tw_stack *st, uint32_t raddr, uint16_t rport, uint16_t lport,
                        uint32_t peer_isn, uint16_t peer_mss, uint16_t *mss_out);

typedef enum tw_cookie_result {
    TW_COOKIE_OK = 0,
    TW_COOKIE_BAD,
    TW_COOKIE_EXPIRED,
} tw_cookie_result;

/* Check `cookie` (SEG.ACK - 1) against the tuple and peer ISN (SEG.SEQ - 1). */
tw_cookie_result tw_cookie_check(const tw_stack *st, uint32_t raddr, uint16_t rport,
                                 uint16_t lport, uint32_t peer_isn, uint32_t cookie,
                                 uint16_t *mss_out);

/* Options in the low 6 bits of TSval: wscale (0..14, or 15 for none), SACK, ECN. */
uint32_t tw_cookie_ts_encode(uint32_t tsval, int wscale, bool sack, bool ecn);
void tw_cookie_ts_decode(uint32_t tsecr, int *wscale, bool *sack, bool *ecn);

#endif
