/*
 * ladder.h -- turn trace events into the seed article's pictures: one row per segment,
 * the client on the left, the server on the right, an arrow for the segment with its
 * flags, seq/ack relative to the letters of SPEC.md (x, y, u, v, w) and length, and the
 * state of each side after the step (RFC 9293 names), transitions shown as "A → B".
 *
 *   time      client linux 10.7.0.1:41822                                   server
 * tcpwave 10.7.0.2:80 0.000000  CLOSED → SYN-SENT     ── SYN seq=x ─────────────────────────▶
 * LISTEN → SYN-RECEIVED
 *
 * Events come from one or more traced stacks (tw_config.trace = tw_ladder_trace, with the
 * side as trace_ud). A segment between two traced stacks is one row, completed when the
 * receiver reports it (or marked lost when it never does). A segment to or from an
 * untraced peer (the Linux kernel over TUN) shows that peer's state when a probe is given
 * (tw_ladder_sample, fed from the host's after_tx / before_rx hooks).
 */
#ifndef TW_TOOL_LADDER_H
#define TW_TOOL_LADDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpwave.h"

typedef struct tw_ladder tw_ladder;
typedef struct tw_ladder_side tw_ladder_side;

/* State of an untraced endpoint (laddr:lport is the peer's own end): a tw_state, or < 0
   when unknown. */
typedef int (*tw_ladder_probe_fn)(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
                                  void *ud);

typedef struct tw_ladder_opts {
    FILE *out;
    bool utf8;                /* arrows and → ; else ASCII */
    bool color;               /* ANSI colour */
    const char *peer_name;    /* label for untraced endpoints, e.g. "linux" */
    tw_ladder_probe_fn probe; /* NULL: untraced states are left blank */
    void *probe_ud;
    tw_time lost_after; /* a segment to a traced stack unseen this long is "lost"; 0: 1 s */
} tw_ladder_opts;

/* Defaults for `out`: UTF-8 if the locale's codeset is, colour if `out` is a terminal and
   NO_COLOR is unset (call setlocale(LC_CTYPE, "") first). */
void tw_ladder_opts_init(tw_ladder_opts *o, FILE *out);

tw_ladder *tw_ladder_new(const tw_ladder_opts *o);
/* Prints what is still pending (as tw_ladder_flush(l, true)) and frees. */
void tw_ladder_free(tw_ladder *l);

/* Register a traced stack by its address; `name` labels its column ("tcpwave"). The side
   stays valid until tw_ladder_free. */
tw_ladder_side *tw_ladder_add_stack(tw_ladder *l, const char *name, uint32_t addr);

/* A tw_config.trace hook: `ud` is the tw_ladder_side of the stack emitting `ev`. */
void tw_ladder_trace(const tw_trace_event *ev, void *ud);

/* A packet crossed to or from an untraced peer: `to_peer` when our stack sent it (call
   after the peer had it), false when it came from the peer (call before input). Records
   the peer's state for the row of that segment, through the probe. */
void tw_ladder_sample(tw_ladder *l, const uint8_t *pkt, size_t len, bool to_peer);

/* A narration line ("── linux: shutdown(SHUT_WR) ──"), kept in order with the rows. */
void tw_ladder_note(tw_ladder *l, tw_time now, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Print every row that is complete. `final`: resolve what is still open (untraced states
   probed now, segments never seen by a traced receiver marked lost) and print all. */
void tw_ladder_flush(tw_ladder *l, bool final);

/* Rows printed so far (segments + state lines), for tests. */
unsigned long tw_ladder_rows(const tw_ladder *l);

#endif
