/*
 * timewait.h -- the compact TIME-WAIT record (SPEC S15-S17).
 *
 * When a connection whose application is gone enters TIME-WAIT, everything but what
 * TIME-WAIT needs is freed. What remains is 64 bytes:
 *
 *   0  tw_hnode  next, key (raddr | rport | lport)          16
 *   16 tw_timer  next, pprev, expires (2*MSL deadline)      24
 *   40 kind, flags, rcv_wscale, pad                          4
 *   44 snd_nxt   (our FIN + 1)                               4
 *   48 rcv_nxt   (their FIN + 1)                             4
 *   52 ts_recent, conn_id (for trace)                         8
 *   60 win (raw window field to advertise), pad              4
 *
 * It re-ACKs a retransmitted FIN and restarts 2*MSL (S16), ignores RST (RFC 1337), and
 * lets a newer SYN take the 4-tuple over (RFC 6191, S17).
 */
#ifndef TW_CORE_TIMEWAIT_H
#define TW_CORE_TIMEWAIT_H

#include "core/tcp_conn.h"

#define TW_TWF_TS 0x01u

typedef struct tw_tw {
    tw_hnode h;
    tw_timer timer;
    uint8_t kind;
    uint8_t flags;
    uint8_t rcv_wscale;
    uint8_t pad;
    uint32_t snd_nxt, rcv_nxt;
    uint32_t ts_recent;
    uint32_t conn_id; /* low bits of the connection id, for trace events; the timestamp
                         offset is recomputed from the 4-tuple */
    uint16_t win;
    uint16_t pad2;
} tw_tw;

_Static_assert(sizeof(tw_tw) <= 64, "TIME-WAIT record must stay within 64 bytes");

#endif
