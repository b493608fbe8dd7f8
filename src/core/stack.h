/*
 * stack.h -- struct tw_stack: everything one stack owns (no globals anywhere), time
 * helpers, counters and the internal entry points shared by the TCP modules.
 */
#ifndef TW_CORE_STACK_H
#define TW_CORE_STACK_H

#include "core/arch.h"
#include "tcpwave.h"
#include "core/htab.h"
#include "core/mem.h"
#include "core/aes.h"
#include "core/siphash.h"
#include "core/wheel.h"

/* The peer an AES-NI stack's ISN block starts kept for (isn_mid_peer, stack.c), or the
   next address when it is the stack's own: 192.0.2.1 (RFC 5737 TEST-NET-1), a good
   source (ipv4.h tw_ipv4_bad_source). */
#define TW_ISN_FIRST_PEER 0xc0000201u
/* stack.h good_peer's value with no peer kept: above every 32-bit address */
#define TW_GOOD_PEER_NONE ((uint64_t)1 << 32)

#define TW_TICK TW_MS(1) /* timing-wheel resolution */
#define TW_PORT_LEAF 64u /* ports per leaf of the port table (a leaf: 772 bytes) */
#define TW_LISTEN_LEAF 64u /* ports per leaf of the listener table (a leaf: 520 bytes) */

/* A local port in use: its owners, as Linux's bind bucket's (socket.c bind_shared): the
   sockets bound to it (at most one a listener: tw_port_listener), the children its closed
   listener accepted (socket.c listener_stop) and the TIME-WAIT records of any of them
   (timewait.c make_in), counted in nbound, nreuse and nauto by their flags. All zero when
   unused. The listener is not kept here but in a table of its own (st->listen): a port
   held by TIME-WAIT records alone, as most of a busy client's are, then costs 12 bytes,
   not 24 (the TIME-WAIT record's 64-byte budget, issue 7). */
typedef struct tw_port {
    uint32_t nbound;
    uint32_t nreuse; /* of which SO_REUSEADDR */
    uint32_t nauto;  /* of which chosen by connect (pick_port), not by bind */
} tw_port;

/* A leaf of the port table: TW_PORT_LEAF consecutive port numbers, their entries held in
   the leaf itself: binding a port is a few stores, no allocation of its own (a client
   binds one per connection), and ports bound side by side cost 12 bytes each. */
typedef struct tw_port_leaf {
    tw_port p[TW_PORT_LEAF];
    uint32_t n; /* of them in use */
} tw_port_leaf;

/* A leaf of the listener table: the listeners of TW_LISTEN_LEAF consecutive ports (a
   stack has few: one leaf most often). */
typedef struct tw_listen_leaf {
    struct tw_socket *s[TW_LISTEN_LEAF];
    uint32_t n; /* of them set */
} tw_listen_leaf;
#define TW_TXBUF_SIZE 65536u
/* st->txbuf keeps words of the segments its usual builders make, from one packet to
   the next, so that those builders store none of them: a connection's segment with
   timestamps and a payload (tcp_out.c emit_plain_body), at txbuf, finds the IPv4
   header's second word (identification 0, DF: TW_IPV4_ATOMIC_ID) at 4 and the TCP
   options' first (NOP, NOP, timestamp kind and length) at TW_TXBUF_TS_AT; a FIN or pure
   ACK, at TW_TXBUF_ACK_AT, the same and more (below); a SYN (out_syn_all), at
   TW_TXBUF_SYN_AT (the buffer's last 64 bytes), and a SYN+ACK, at TW_TXBUF_SYNACK_AT
   (below), the whole IPv4 header (its first two
   words, the same for every SYN and SYN+ACK; its third, syn_ipw, and the addresses,
   syn_addr, of the SYN memo's peer: written with the memo, out_syn_all) and its
   options' constant bytes (SACK-permitted with the timestamp's kind and length; NOP,
   kind 3, length 3 before the shift count). The netdev wrapper that sets the DS field
   and TTL (stack.c ip_fields_xmit) puts the SYN's words back after its call; ECN's
   (ecn.c) marks no SYN ECT. The first word at txbuf (the total length's, with the DS
   field a wrapper may change) is written each time. Every other writer of the buffer leaves
   them so or puts them back after its netdev call (tw_txbuf_keep_set,
   tw_txbuf_keep_ts_set): ICMP's, the general builder's (send_words), one without
   timestamps with a payload, and a segment copied whole that reaches the SYN+ACK's place
   (a datagram over 65,344 bytes: an MTU that large). */
#define TW_TXBUF_TS_AT 40u
#define TW_TXBUF_SYN_AT (TW_TXBUF_SIZE - 64u)
/* The 64 bytes before TW_TXBUF_SYN_AT: the ACK place, where a connection's segment with
   timestamps alone (a FIN, a pure ACK: tcp_out.c emit_plain_body) is built. It keeps the
   whole IPv4 header of the last one (a 52-byte datagram: the same first, second and third
   words for the same addresses) with its addresses, tw_stack ack_addr, and the options'
   first word (as at TW_TXBUF_TS_AT), so that the next one to the same addresses stores
   none of them. The netdev wrapper that sets the DS field and TTL puts its words back
   after its call as for the SYN's (stack.c ip_fields_xmit); ECN marks no segment without
   data ECT (ecn.c conn_marks); a datagram copied whole that reaches it puts it back
   (tw_txbuf_keep_set, which forgets the addresses). */
#define TW_TXBUF_ACK_AT (TW_TXBUF_SYN_AT - 64u)
/* The 64 bytes before TW_TXBUF_ACK_AT: the SYN+ACK's place, apart from the SYN's, so that
   the SYN's place also keeps the words of connect's usual SYN that are the same for every
   one of a stack (tcp_out.c out_syn_all: the acknowledgment number 0, the data offset,
   flags and window 65,535; the stack's MSS option word, syn_mssw), which a SYN+ACK's
   words would overwrite. A SYN of another kind (a retransmission, another window or
   MSS) writes them and puts them back after its netdev call. Both places keep the IPv4
   header of the SYN memo's peer (syn_addr, syn_ipw: both written with the memo) and the
   options' constant bytes, as above; the last 4 bytes of the SYN's place, after its
   60-byte datagram, stay 0, for its sum's last 8-byte word. */
#define TW_TXBUF_SYNACK_AT (TW_TXBUF_ACK_AT - 64u)
/* The first byte of st->txbuf kept from one packet to the next: a datagram copied whole
   that reaches it puts the kept words back (tw_txbuf_keep_set). */
#define TW_TXBUF_KEPT_AT TW_TXBUF_SYNACK_AT
#define TW_ICMP_BURST 50u /* ICMP errors sent back to back at most (icmp.c) */

/* Destinations whose learnt path MTU the stack keeps (tw_stack.pmtu), and for how long. */
#define TW_PMTU_SLOTS 16
#define TW_PMTU_LIFE TW_SEC(600)

/* (the types of req_promote_usual's arguments: tcp_conn.h, reqsk.h, tcp_hdr.h) */
struct tw_seg;
struct tw_reqsk;
struct tw_tcp_hdr;

struct tw_stack {
    tw_config cfg; /* copy, defaults filled in */
    tw_netdev dev; /* copy */
    /* The netdev call of the segments that tcp_out.c's plain builders send with no trace
       step of their own (emit_plain_body's usual copies): dev's for a stack without a
       trace hook, and for a traced one tw_out_traced_xmit with the stack as its `ud`,
       which traces the segment, then calls dev's. Fixed at tw_stack_new, as cfg.trace
       is: the untraced stack's segments then pay for no trace test. */
    int (*plain_xmit)(const uint8_t *pkt, size_t len, void *ud);
    void *plain_ud;
    tw_mem mem;
    tw_time now;   /* one "now" per call, never decreasing */
    /* now / TW_MS(1), set with now: timestamps (RFC 7323) read it per segment. */
    uint64_t now_ms;
    /* now_ms << 32, set with it: a segment's TSval and TS.Recent word is TS.Recent and the
       offset loaded as one word with this added (tcp_out.c emit_plain_body, out_syn_all),
       one shift a clock move where it took one a segment (lifecycle -2 instr) */
    uint64_t now_ms_hi;
    /* The re-entrancy guard (STYLE 7.9), negated: true while no call into the stack is
       in progress, false during one. Negated so that the usual packet's gate asks it
       with traced and takes the call in one step: the two bytes as a 16-bit word, less
       1, are 0 only for (true, false), a free untraced stack, which that leaves as
       (false, false), in its call (measured: lifecycle -7 instr against a test of the
       word and a store). Other words the gate makes whole again at once (tw_stack_input
       and stack.c tw_stack_input_gated). As the word's low byte, before traced. (bools,
       not uint8_t: a store to a byte of character type GCC takes as one that may change
       anything, pointers it holds in registers among them, and loads them again) */
    bool call_free;
    /* cfg.trace is set (fixed at tw_stack_new). Next to call_free: tw_stack_input asks
       both in one step, and a traced stack's packets take the full parsers and steps,
       which trace (tw_stack_input_slow), so that the usual packet's function has no
       trace test at all. */
    bool traced;
    /* Some socket's send limit (sndbuf_cap) may be below one ring block
       (TW_MEM_RING_BLOCK): cfg.sndbuf or a tw_socket_set_bufsizes below it, for good
       (a limit only auto-tuning raises afterwards, and children copy their listener's).
       Two bytes after call_free: tw_socket_send asks both in one test (socket.c
       call_gate), so that its usual first write, while this is false, takes the whole
       block with no test of the socket's limit. */
    bool sndbuf_small;
    /* The machine has no AVX2 (copy.h tw_copy_wide may not run: x86-64 GCC/clang builds
       only). Three bytes after call_free: tw_socket_send's gate and tw_socket_recv's ask it
       with the guard (socket.c call_gate), so that their usual writes and
       reads of 33 to 64 bytes make their copies with 32-byte moves with no test of
       their own, and the other ways, out of line, with 16-byte ones. */
    bool copy_narrow;
    /* cfg.addr in network byte order as a native word (wr.h tw_be32), as it lies in a
       packet: every outgoing segment's IPv4 header holds it and its checksums sum it
       (tcp_out.c), the usual packet's parse compares the destination with it (tcp_hdr.h
       tw_tcp_parse_usual_part). Set once at tw_stack_new (the address never changes),
       not swapped per packet. */
    uint32_t addr_net;
    uint64_t counters[TW_CNT_COUNT_];

    tw_sipkey ts_key, port_key, cookie_key;
    tw_sipkey tfo_key;             /* TCP Fast Open server cookies (fastopen.c) */
    tw_sipkey tfo_key_backup;      /* a former key whose cookies are still taken */
    /* txbuf + TW_TXBUF_SYN_AT, where the SYN builder writes (tcp_out.c out_syn_all): a
       pointer of its own, so that the builder adds no offset for its netdev call */
    uint8_t *txbuf_syn;
    /* txbuf + TW_TXBUF_ACK_AT, where a FIN or pure ACK is built (tcp_out.c
       emit_plain_body): the same, so that its builder neither adds an offset to
       txbuf_syn nor keeps two registers for the one place (lifecycle -3 instr) */
    uint8_t *txbuf_ack;
    /* txbuf + TW_TXBUF_SYNACK_AT, where a SYN+ACK is built (tcp_out.c out_syn_all) */
    uint8_t *txbuf_synack;
    struct tw_tfo_cache *tfo_cache; /* client cookies by server address, made on first use */
    /* The ISN block's first half (isn_aes, below) for the last peer hashed,
       isn_mid_peer: the next connection is most often with the same host, and our
       address never changes (addr_net), so the peer's alone tells the word. isn_mid_peer
       also tells connect (socket.c connect_bad_peer) a peer already found a good
       address. A peer is kept only where the key has AES-NI (isn_aes.ni), from the
       stack's start (TW_ISN_FIRST_PEER, a good address: so a connect to the peer kept
       needs no test of its address at all, socket.c connect_bad_peer): elsewhere
       isn_mid_peer stays 0, which no peer hashed is (each passed tw_ipv4_bad_source,
       which refuses 0), so that the usual case (tcp_conn.h tw_tuple_hash, socket.c
       connect) takes the AES-NI rounds with no test of the flag and no call to the
       portable form, whose registers it would save; and connect_plain_below is then 0
       (connect's usual steps, which take the peer kept as good, never run). */
    uint64_t isn_mid;
    uint32_t isn_mid_peer;
    /* The MSS option's word (kind 2, length 4, tcp_conn.h tw_conn_mss_for(st, 0): the
       device's MTU less the headers) in network order, as a connection's SYN carries it
       when its MSS is the stack's own (tcp_out.c out_syn_all for connect's usual SYN,
       connect_plain_below: a socket given another is not connect's usual one). Fixed at
       tw_stack_new. (In the hole after isn_mid_peer.) */
    uint32_t syn_mssw;
    /* A source address known good (it passed tw_ipv4_bad_source: isn_mid_peer's, set
       with it) widened to 64 bits, or TW_GOOD_PEER_NONE (2^32, which no address
       widened is) while no peer is kept (a stack without AES-NI): a SYN from it needs
       no test of its source (tcp_in.c syn_bad_source: one 64-bit compare with the
       source as the key's shift leaves it, where the 32-bit isn_mid_peer's 0 for no peer
       took a second test of the source against 0 after it; lifecycle -2 instr). */
    uint64_t good_peer;
    /* The peer the last SYN or SYN+ACK went to and, for it, the sums its builder would
       make: syn_addr our address and the peer's, then their sum folded under 2^18
       (tw_cksum_fold18), the first two in network order as they lie in the IPv4 header
       (one 8-byte copy there and to a connection's out_addr) and the last two as a
       half-open entry keeps them (reqsk.h out_ndst, out_afold: one copy); syn_ipw the
       IPv4 header's third word, TTL, protocol and checksum, of a 60-byte datagram. A
       client's connections, or a server's SYN+ACKs, go to one host after another, and
       the SYN builder then loads these rather than making them (tcp_out.c out_syn_all,
       which sets them for a new peer). syn_peer is the peer's address as the key holds
       it (host order), compared with no swap. Right for whatever peer syn_peer is
       (tcp_conn.h tw_syn_memo_set: 0 at tw_stack_new), our address never changing. */
    uint32_t syn_addr[3];
    uint32_t syn_ipw;
    uint32_t syn_peer;
    /* syn_addr[2] with the pseudo-header's protocol and TCP length for a 40-byte header
       (RFC 9293 3.1): a SYN+ACK's sum starts from it, one word less in its chain (a
       connection's SYN keeps the fold alone for its out_asum, and starts from that). */
    uint32_t syn_psum;
    /* The addresses (as a connection's out_addr holds them, tcp_conn.h) whose 52-byte
       datagram's IPv4 header lies whole at TW_TXBUF_ACK_AT, or 0 for none (no
       connection's addresses are 0: our address is not, stack.c tw_stack_new): a FIN or
       pure ACK to them stores none of it (tcp_out.c emit_plain_body), one to others
       writes it and sets this. (In the hole after syn_psum, 4-aligned: compared as 8
       bytes, loaded at any alignment.) */
    uint32_t ack_addr[2];
    /* tw_socket (hashed connections) and tw_reqsk (half-open entries, reqsk.h) by 4-tuple
       key, told apart by their kind byte (tw_hnode_is_req): a passive open's third
       segment finds its entry with the one lookup every segment makes, and the
       connection made from it takes the entry's place in its chain (tcp_in.c
       req_promote). A 4-tuple has one entry of either kind at most. */
    tw_htab conns;
    /* The connection the last lookup of a segment found in conns (tcp_in.c), or the last
       one put in it (tw_conn_hash), TW_CONN_NONE (never NULL: tcp_conn.h) once it leaves
       the table (tw_conn_unhash), and before any: a bulk
       transfer's segments all go to one connection, and comparing its key costs less
       than hashing. */
    struct tw_socket *last_conn;
    /* The SYN queue entry last made (tcp_in.c in_listen), NULL once it leaves the table:
       looked at when last_conn is not the segment's, so that the third segment of a
       passive open, which follows its SYN+ACK, is found without hashing. */
    struct tw_reqsk *last_req;
    tw_twtab tws;   /* TIME-WAIT records by 4-tuple key (timewait.h) */
    /* tw_port by local port (bound sockets and listeners), indexed by the number: a
       lookup is two loads, no hash and no chain, and ports used one after the other sit
       side by side. A leaf is made with its first port and given back with its last (to a
       free list, mem.h: a client binding port after port reuses one). */
    tw_port_leaf *ports[65536 / TW_PORT_LEAF];
    /* The last leaf to empty is left in place (its index + 1; 0: none), and given back
       when another empties (or at tw_stack_trim): a client binding one port after
       another empties and refills the same leaf every connection. At most one leaf
       held so, 1 KiB. */
    uint32_t leaf_kept;
    /* The listener of each port (NULL: none), two loads as ports[]: a SYN's demux. A
       leaf with no listener is tw_listen_leaf_none, never NULL: the demux's lookup then
       has no test of the leaf. */
    tw_listen_leaf *listen[65536 / TW_LISTEN_LEAF];
    /* The listener a SYN last found in listen[] and its port (UINT32_MAX, no port: none),
       asked first by a SYN's demux (tcp_in.c input_demux_in): a server's SYNs mostly
       come to one port, whose listener is then one compare away rather than the two
       loads, the index's steps and the NULL test. Exact: set only with a listener
       found there, and emptied when its port's listener goes (tw_port_unlisten). */
    uint32_t listen_last_port;
    struct tw_socket *listen_last;
    tw_wheel wheel; /* connection and half-open timers (TIME-WAIT: tws's list) */
    struct tw_socket *ack_head; /* connections owing a pure ACK (tw_out_push) */
    struct tw_socket *timer_held; /* its timer is set once its segment is done (tcp_in.c) */
    bool timer_dirty;             /* timer_held's deadlines changed meanwhile */
    /* The SYN options the configuration lets us use (TW_OPT_WSCALE, TW_OPT_SACK_PERM,
       TW_OPT_TS unless no_wscale, no_sack, no_timestamps): tw_conn_apply_peer_syn. */
    uint8_t syn_opts;
    /* 0xff when syn_opts has TW_OPT_WSCALE, else 0: a SYN queue entry's peer window scale
       is the SYN's option value masked with it (tcp_in.c in_listen_fo; a parsed option
       block's wscale is 0 without the option). Set with syn_opts, and right after it:
       in_listen masks a SYN's option flags and window scale with the two in one step. */
    uint8_t syn_wscale_mask;
    /* No setting changes S8's limits on a SYN queue entry: syn_backlog 0 (the backlog
       bounds the SYN queue), SYN cookies not always, no max_connections (tcp_in.c
       in_listen then asks only the two queues' room). Set at tw_stack_new; false for
       good from the first Fast Open listener on (tw_stack_syn_plain_off). Each
       listener keeps it with its backlog (tcp_conn.h syn_plain_below). */
    bool syn_plain;
    /* A new connection's first contents of the five 16-byte runs of struct tw_socket
       that hold a setting of the stack among zeros: its flags (tw_cc_flag of the
       configured algorithm), local MSS (tw_conn_mss_for(st, 0)), RTO (cfg.rto_initial)
       and buffer limits (cfg.sndbuf, cfg.rcvbuf). Set at tw_stack_new
       (tw_conn_tmpl_init, tcp_conn.c, which checks the layout): tw_conn_alloc stores
       each run as one load and one store, where its zeroing and the field's own load
       and store took three. */
    uint64_t conn_tmpl[5][2];
    /* On x86-64 machines with AVX2 (conn_wide_on, set by tw_conn_tmpl_init): a new
       connection's six 32-byte runs that hold anything but zeros (tcp_conn.c WIDE_*: its
       kind, the settings of conn_tmpl, the four deadlines at TW_TIME_NEVER), for
       tw_conn_open_wide, whose 32-byte stores make half the steps of tw_conn_init's
       16-byte ones. */
    uint64_t conn_wide[6][4];
    bool conn_wide_on;
    /* (here, in a hole: its byte after sndbuf_small is copy_narrow's, and its place after
       tfo_key_backup holds txbuf_syn) */
    bool tfo_has_backup;
    /* tw_socket_open's object (tcp_conn.h tw_conn_open): tw_conn_open_wide with AVX2,
       tw_conn_open_narrow without; set by tw_conn_tmpl_init. */
    int (*conn_open)(struct tw_stack *st, struct tw_socket **out);
    /* tcp_in.c's promotion of a SYN queue entry on the usual third segment: its copy for
       conn_wide_on's value, set with conn_open (tw_in_promote_init). */
    void (*req_promote_usual)(struct tw_stack *st, struct tw_reqsk *r, struct tw_seg *s,
                              uint8_t *blk, const struct tw_tcp_hdr *h);

    uint64_t next_conn_id;
    uint32_t port_counter;
    size_t nconns;   /* connections not in LISTEN/CLOSED-fresh, not TIME-WAIT records */
    /* The orphans (connections the application has closed, until CLOSED or their
       TIME-WAIT record), counted down from close_plain_below: close_plain_below less
       their number (tw_stack_orphans). close()'s usual path takes one while it is
       above 0, a decrement in memory and its sign, where the count's load, compare,
       increment and store took five steps (socket.c tw_socket_close). */
    ptrdiff_t orphan_room;
    /* The orphan count under which close() takes its usual path in line
       (socket.c tw_socket_close): cfg.max_orphans (PTRDIFF_MAX for 0, no limit), and 0
       for a traced stack, whose closes all go the general way, which traces. Fixed at
       tw_stack_new, as cfg is: the two tests of the usual close are one (orphan_room's
       sign). */
    ptrdiff_t close_plain_below;
    /* TIME-WAIT's length, 2 * cfg.msl (S15), fixed at tw_stack_new as cfg is: a
       TIME-WAIT's end is then the clock plus one load (tcp_in.c, timewait.c). */
    tw_time time_wait_len;
    /* close()'s next state by the state (socket.c tw_socket_close): FIN-WAIT-1 for
       ESTABLISHED (S10), LAST-ACK for CLOSE-WAIT (S13), 0 (CLOSED) for every other state,
       which the usual close does not take. Set by tw_conn_tmpl_init. */
    uint8_t close_next[TW_STATE_COUNT_];
    /* The clock below which a connection's RTO deadline, now + c->rto, falls before
       NEVER's last tick, for any RTO (c->rto is at most the larger of rto_initial and
       rto_max: its start, tw_conn_open's template, and every change after, each
       clamped at rto_max): a clock below this starts it without the saturating add
       and the deadline's test (tcp_conn.h tw_rto_start_inline_as, tw_rto_start_idle_as:
       one compare where they took two). Fixed at tw_stack_new. */
    tw_time rto_now_below;
    /* The RTO of a connection's first RTT sample of half a millisecond (RFC 6298 2.2-2.3
       as tw_rtt_sample_as takes it: SRTT 500 us, RTTVAR 250 us), which a timestamp's echo
       gives for an ACK within the millisecond of its SYN+ACK (tcp_in.c ack_advance_as's
       `first`: a passive open's third segment). It depends on cfg.rto_min and rto_max
       alone: fixed at tw_stack_new, so that the usual passive open stores it instead of
       working it out (tcp_conn.h tw_rtt_sample_first_half_ms). */
    tw_time rto_first_half_ms;
    /* A connection's first RTT sample below this (an active open's, from its SYN: tcp_in.c
       syn_sent_accept) makes K * RTTVAR no more than cfg.rto_min and SRTT + rto_min no more
       than rto_max, so that its RTO is SRTT + rto_min, with neither of tw_rtt_sample_as's
       bounds to take (tcp_conn.h tw_rtt_sample_first): min(rto_min / 2, rto_max - rto_min)
       + 1, or 0 (no sample below it) when rto_max is rto_min. Fixed at tw_stack_new. */
    tw_time rtt_first_short;
    tw_time chack_window; /* start of the current challenge-ACK second */
    uint32_t chack_count;
    /* The window scale connect() offers a socket of the default receive buffer
       (cfg.rcvbuf; 0 with cfg.no_wscale), worked out once here rather than per connect. */
    uint8_t conn_wscale;
    uint8_t *txbuf;  /* one outgoing packet is built here */
    /* ECN (ecn.c): connections and SYN queue entries that negotiate or ask for it. While
       there are some, dev.transmit (and plain_xmit where it was dev's) is tw_ecn_xmit,
       which marks their segments (ECT, ECE, CWR) as they leave and then calls the
       netdev's own (ecn_tx, ecn_ud); with none the stack's packets pay nothing. */
    uint32_t ecn_users;
    int (*ecn_tx)(const uint8_t *pkt, size_t len, void *ud);
    void *ecn_ud;
    /* A TTL or DS field other than the built-in 64 and 0 (cfg.ttl, cfg.tos, or a
       socket's IP_TOS): dev.transmit (and plain_xmit where it was dev's; ecn_tx while ECN's
       wrapper is in place) is stack.c's ip_fields_xmit, which writes them into each
       packet, then calls the netdev's own (ipf_tx, ipf_ud). Put in by tw_stack_new or the
       first tw_socket_set_tos, never taken out; the default stack's packets pay nothing. */
    int (*ipf_tx)(const uint8_t *pkt, size_t len, void *ud);
    void *ipf_ud;
    /* some socket set its own DS field (tw_socket_set_tos): ip_fields_xmit looks the
       sender up for each TCP packet */
    bool tos_socks;
    /* The segment being taken in came CE-marked (RFC 3168 5): set only around the full
       parsers' tw_tcp_input (stack.c tw_stack_input_slow); the usual parse takes only
       packets whose TOS byte is 0. */
    bool rx_ce;
    /* IPv4 reassembly (ipfrag.c): the datagrams in it (tw_fragq, linked by h.next), how
       many, and the bytes of fragments they hold; the identification of the next
       datagram we fragment (an echo reply past the MTU), from a random start. */
    struct tw_hnode *frag_queues;
    uint32_t frag_nqueues;
    uint32_t frag_mem;
    uint32_t ip_id;
    /* ICMP errors sent (icmp.c tw_icmp_send_error): a token bucket as Linux's
       icmp_msgs_per_sec and icmp_msgs_burst, refilled one per millisecond. */
    uint32_t icmp_tokens;
    uint64_t icmp_tokens_ms;
    /* Path MTUs learnt from "fragmentation needed" (tcp_in.c tw_pmtu_learn), per
       destination, for TW_PMTU_LIFE (RFC 1191 6.3; Linux's route exception,
       ip_rt_mtu_expires): a new connection to that address sends segments no larger
       (tcp_in.c tw_peer_mss_slow). pmtu_n counts the slots in use; mss_slow is the
       peer MSS below which a SYN's takes the slow step: 48 (the floor) usually, 65535
       while a path MTU is kept, so that the usual SYN pays no test of its own. */
    uint32_t pmtu_n;
    uint16_t mss_slow;
    struct {
        uint32_t addr;
        uint32_t mtu;
        tw_time expires;
    } pmtu[TW_PMTU_SLOTS];
    /* The earliest time the next walk of every connection for idle ring blocks may be
       made (tcp_conn.c tw_conn_reclaim): allocations that fail one after another under a
       spent memory budget walk them at most once per interval. */
    tw_time reclaim_walk_next;
    /* RFC 6528's F(): AES-128 under the stack's ISN key (aes.h), over the block
       (our address | the peer's << 32, local port << 16 | remote port); tcp_conn.c
       tw_tuple_hash. Last: 192 bytes read twice per connection set-up, kept apart from
       the fields every packet reads. Aligned: AES-NI reads the keys in place (aes.h). */
    _Alignas(16) tw_aes128 isn_aes;
};

/* connect_plain_below, the connection count below which connect() takes its usual steps
   (socket.c tw_socket_connect), as close_plain_below is close()'s: cfg.max_connections
   (SIZE_MAX for 0), and 0 for a traced stack or one whose SYNs do not take all four options
   (syn_opts: an option turned off, ECN; so the usual connect's SYN builder does not
   ask, tcp_out.c tw_out_syn_first_all_leave), or whose sockets' receive buffers may
   be 65,535 bytes or less (cfg.rcvbuf, or a tw_socket_set_bufsizes to such a size,
   for good: so that builder's window, the buffer's, is the field's largest, with no
   test), or whose connecting sockets' MSS may not be the stack's own (a
   tw_socket_set_mss, or a socket connecting again with an MSS a path MTU lowered,
   for good: so that builder's MSS word is syn_mssw); fixed at tw_stack_new, but for
   those calls and a Fast Open connect's own call, which sets it to 0 with syn_opts' TW_SYN_OPTS_TFO and back
   (socket_fastopen.c). Kept in the connection table alone (htab.h limit: connect's
   one compare, against the least of it and the table's buckets, then also says the
   table is not full). */
static inline void tw_stack_connect_plain_set(tw_stack *st, size_t below)
{
    tw_htab_limit_set(&st->conns, below);
}
static inline size_t tw_stack_connect_plain(const tw_stack *st)
{
    return st->conns.limit;
}

/* ---- time (STYLE 7.5) ---- */
static inline tw_time tw_time_add(tw_time t, tw_time d)
{
    return t > TW_TIME_NEVER - d ? TW_TIME_NEVER : t + d;
}

static inline bool tw_time_reached(tw_time deadline, tw_time now)
{
    return deadline != TW_TIME_NEVER && deadline <= now;
}

/* x / TW_TICK. On GCC/clang with 128-bit integers, as the multiply by the reciprocal
   that compilers use for it, written out: exact for every 64-bit x (Granlund and
   Montgomery: M = ceil(2^82 / 10^6), M * 10^6 - 2^82 = 175296 <= 2^18). Left to the
   compiler, a block it estimates cold gets a div instead (one instruction counted,
   tens of cycles): tw_rto_arm's tick in push_now, a deadline's in
   tw_stack_input, both taken every lifecycle. */
static inline __attribute__((always_inline)) uint64_t tw_div_tick(uint64_t x)
{
#if defined(__SIZEOF_INT128__) && defined(__GNUC__)
    _Static_assert(TW_TICK == 1000000, "the reciprocal is TW_TICK's");
#if TW_ASM_X86
    /* The multiply reads the reciprocal from memory: GCC otherwise loads it into a
       register first (a 10-byte move) at every division (measured: lifecycle -10 instr, 6,523 -> 6,513).
       A constant x is left to the compiler to fold. */
    if (!__builtin_constant_p(x)) {
        static const uint64_t m = 0x431bde82d7b634dbu;
        uint64_t lo, hi;
        __asm__("mulq %[m]" : "=a"(lo), "=d"(hi) : "0"(x), [m] "m"(m) : "cc");
        (void)lo;
        return hi >> 18;
    }
#endif
    return (uint64_t)(((unsigned __int128)x * 0x431bde82d7b634dbu) >> 82);
#else
    return x / TW_TICK;
#endif
}

/* t / TW_US(4), the RFC 6528 ISN clock. On x86-64 GCC/clang the division compilers
   emit, written out with the multiply reading its constant from memory: GCC otherwise
   loads the 64-bit reciprocal with a 10-byte move before the multiply, one instruction
   more per ISN (measured: lifecycle -3 instr, 6,513 -> 6,510). (t >> 5) < 2^59, so its product with
   M = ceil(2^64 / 125) has t / 4000 exactly in its high half. */
static inline __attribute__((always_inline)) uint64_t tw_div_4us(tw_time t)
{
#if TW_ASM_X86
    _Static_assert(TW_US(4) == 4000, "the reciprocal is TW_US(4)'s");
    if (!__builtin_constant_p(t)) {
        static const uint64_t m = 0x20c49ba5e353f7dU;
        uint64_t lo, hi;
        __asm__("mulq %[m]" : "=a"(lo), "=d"(hi) : "0"(t >> 5), [m] "m"(m) : "cc");
        (void)lo;
        return hi;
    }
#endif
    return t / TW_US(4);
}

static inline __attribute__((always_inline)) uint64_t tw_time_to_tick(tw_time t)
{
    /* Round up: a timer never fires before its deadline. An add before the division
       rounds up for every time but the last tick's worth below NEVER, where it would
       wrap (a multiply and a compare fewer than taking the remainder). */
    if (t > TW_TIME_NEVER - (TW_TICK - 1)) {
        return t == TW_TIME_NEVER ? UINT64_MAX : t / TW_TICK + (t % TW_TICK != 0);
    }
    return tw_div_tick(t + (TW_TICK - 1));
}

/* A deadline tick as a time: TW_TIME_NEVER for UINT64_MAX (none) and for a tick past
   what a time can hold. */
static inline tw_time tw_time_of_tick(uint64_t tick)
{
    if (tick == UINT64_MAX || tick > TW_TIME_NEVER / TW_TICK) {
        return TW_TIME_NEVER;
    }
    return tick * TW_TICK;
}

static inline void tw_count(tw_stack *st, enum tw_counter c)
{
    st->counters[c]++;
}

/* One "now" per call, with its millisecond form (STYLE 7.5): time that goes backwards is
   clamped and counted. Most calls bring the last call's now: nothing to set, no division. */
static inline void tw_stack_now_moved(tw_stack *st, tw_time now);
static inline void tw_stack_set_now(tw_stack *st, tw_time now)
{
    if (now == st->now) {
        return;
    }
    tw_stack_now_moved(st, now);
}

/* tw_stack_set_now for a caller that has found now != st->now (stack.c tw_stack_input_moved:
   the test not made twice, measured: lifecycle -1 instr, 6,504 -> 6,503). */
static inline void tw_stack_now_moved(tw_stack *st, tw_time now)
{
    if (now < st->now) {
        tw_count(st, TW_CNT_TIME_BACKWARDS);
        return;
    }
    st->now = now;
    /* (a millisecond is a tick: tw_div_tick's multiply reads its reciprocal from memory,
       where GCC loaded it with a movabs at every clock move) */
    _Static_assert(TW_MS(1) == TW_TICK, "now_ms is the clock in ticks");
    st->now_ms = tw_div_tick(now);
    st->now_ms_hi = st->now_ms << 32;
}

/* Put stack.c's ip_fields_xmit between the stack and the netdev (once; under ECN's
   wrapper when that is in place), which writes cfg.ttl and the DS field into each packet
   as it leaves: for a TTL or DS field other than the built-in ones. */
void tw_stack_ip_fields_use(tw_stack *st);
/* Count a drop and emit a DROP trace event (seg may be NULL). */
void tw_drop(tw_stack *st, enum tw_counter c, const tw_seg_summary *seg,
             const struct tw_socket *conn);
/* Hand a finished TCP segment to the netdev (inline: one indirect call per packet is
   enough). Not counted in TX_PACKETS' own count: every segment sent is counted in
   TCP_TX_SEGMENTS, which tw_stack_counter adds to it, one increment per packet fewer. */
static inline void tw_stack_transmit_tcp(tw_stack *st, const uint8_t *pkt, size_t len)
{
    if (st->dev.transmit(pkt, len, st->dev.ud) != 0) {
        tw_count(st, TW_CNT_TX_DROPPED);
    }
}
/* Hand any other finished packet to the netdev (ICMP's), counted in TX_PACKETS. */
static inline void tw_stack_transmit(tw_stack *st, const uint8_t *pkt, size_t len)
{
    tw_count(st, TW_CNT_TX_PACKETS);
    tw_stack_transmit_tcp(st, pkt, len);
}

/* Put back the words st->txbuf keeps (TW_TXBUF_TS_AT) for the segments with timestamps:
   after the netdev call of a writer whose packet lies over them but not past 65,344
   bytes. As tcp_out.c's builders write them (identification 0 and DF, RFC 6864 4:
   TW_IPV4_ATOMIC_ID; NOP, NOP, timestamp kind 8 and length 10, RFC 7323 3). */
static inline void tw_txbuf_keep_ts_set(tw_stack *st)
{
    static const uint8_t n1[4] = {0x00, 0x00, 0x40, 0x00};
    static const uint8_t h5[4] = {0x01, 0x01, 0x08, 0x0a};
    __builtin_memcpy(st->txbuf + 4, n1, 4);
    __builtin_memcpy(st->txbuf + TW_TXBUF_TS_AT, h5, 4);
}

/* Put back the words of connect's usual SYN that the SYN's place keeps (TW_TXBUF_SYNACK_AT's
   comment): the acknowledgment number 0 with the data offset 10 (a 40-byte header), SYN
   alone and the window 65,535 (RFC 7323 2.2: unscaled), as tcp_out.c out_syn_all makes
   them for connect's usual SYN; the stack's MSS option word (syn_mssw, set before). */
static inline void tw_syn_usual_set(tw_stack *st)
{
    static const uint8_t h23[8] = {0, 0, 0, 0, 0xa0, 0x02, 0xff, 0xff};
    __builtin_memcpy(st->txbuf + TW_TXBUF_SYN_AT + 20 + 8, h23, 8);
    __builtin_memcpy(st->txbuf + TW_TXBUF_SYN_AT + 20 + 20, &st->syn_mssw, 4);
}

/* Put back all the words st->txbuf keeps, the ACK place's and the SYN builder's too (at
   tw_stack_new, and after any other writer's netdev call): the ACK place's first two
   words and options' first, its addresses forgotten (TW_TXBUF_ACK_AT); in both the SYN's
   place and the SYN+ACK's (TW_TXBUF_SYN_AT, TW_TXBUF_SYNACK_AT) the IPv4 header, its third
   word and the addresses the memo's (syn_ipw, syn_addr, set by then: stack.c; all zero
   at tw_stack_new, for peer 0, to which no SYN goes), and in the TCP
   options (RFC 9293 3.2: SACK-permitted kind 4 length 2, RFC 2018 2, before the
   timestamp's kind 8 and length 10; NOP, window scale kind 3 and length 3, RFC 7323
   2.2, before the shift count, which the builder writes). */
static inline void tw_txbuf_keep_set(tw_stack *st)
{
    static const uint8_t n1[4] = {0x00, 0x00, 0x40, 0x00};
    static const uint8_t o24[4] = {0x04, 0x02, 0x08, 0x0a};
    static const uint8_t o36[3] = {0x01, 0x03, 0x03};
    /* (version 4, a 20-byte header, DS 0, total length 60) */
    static const uint8_t n0[4] = {0x45, 0x00, 0x00, 0x3c};
    /* (version 4, a 20-byte header, DS 0, total length 52) */
    static const uint8_t a0[4] = {0x45, 0x00, 0x00, 0x34};
    static const uint8_t h5[4] = {0x01, 0x01, 0x08, 0x0a};
    tw_txbuf_keep_ts_set(st);
    /* (the ACK place's header for no addresses: made again by the next FIN or pure ACK) */
    __builtin_memcpy(st->txbuf + TW_TXBUF_ACK_AT, a0, 4);
    __builtin_memcpy(st->txbuf + TW_TXBUF_ACK_AT + 4, n1, 4);
    __builtin_memcpy(st->txbuf + TW_TXBUF_ACK_AT + TW_TXBUF_TS_AT, h5, 4);
    st->ack_addr[0] = st->ack_addr[1] = 0;
    static const uint8_t z4[4] = {0, 0, 0, 0};
    /* (the SYN's place, then the SYN+ACK's: TW_TXBUF_SYNACK_AT) */
    for (int i = 0; i < 2; i++) {
        uint8_t *at = st->txbuf + (i ? TW_TXBUF_SYNACK_AT : TW_TXBUF_SYN_AT);
        __builtin_memcpy(at, n0, 4);
        __builtin_memcpy(at + 4, n1, 4);
        __builtin_memcpy(at + 8, &st->syn_ipw, 4);
        __builtin_memcpy(at + 12, st->syn_addr, 8);
        __builtin_memcpy(at + 20 + 24, o24, 4);
        __builtin_memcpy(at + 20 + 36, o36, 3);
    }
    /* (connect's usual SYN's words, TW_TXBUF_SYNACK_AT's comment: tw_syn_usual_set) */
    tw_syn_usual_set(st);
    __builtin_memcpy(st->txbuf + TW_TXBUF_SYN_AT + 60, z4, 4);
}

/* Port table. tw_port_get: NULL when the port's leaf is absent, else the port's entry,
   which may be unused (all zero: no listener, nothing bound; tw_port_used). */
static inline tw_port *tw_port_get(const tw_stack *st, uint16_t port)
{
    tw_port_leaf *l = st->ports[port / TW_PORT_LEAF];
    return l ? &l->p[port % TW_PORT_LEAF] : NULL;
}
/* A port's listener is one of its bound sockets (tw_socket_listen takes a used port, and
   the listener lets go of the port after it stops being its listener, conn_free_full), so
   a port with a listener has nbound > 0. */
static inline bool tw_port_used(const tw_port *p)
{
    return p && p->nbound;
}
/* The leaf of st->listen's slots with no listener: all NULL, read-only (its `n` never
   counts: tw_port_listen takes a leaf of its own for the slot first), one for every
   stack (no writable global: it is const, its address stored without the qualifier
   where a leaf's is). */
extern const tw_listen_leaf tw_listen_leaf_none;
/* The listener on `port`, or NULL (with no test of the leaf: tw_listen_leaf_none). */
static inline struct tw_socket *tw_port_listener(const tw_stack *st, uint32_t port)
{
    return st->listen[port / TW_LISTEN_LEAF]->s[port % TW_LISTEN_LEAF];
}
/* `s` becomes the listener of its port, known to have none: 0, or TW_ERR_NOMEM. */
int tw_port_listen(tw_stack *st, uint16_t port, struct tw_socket *s);
/* The port's listener is one no more. */
void tw_port_unlisten(tw_stack *st, uint16_t port);
/* st->syn_plain false, and so every listener's syn_plain_below (tcp_conn.h): the SYNs
   of all of them then take listen_admit (a Fast Open listener's setting). */
void tw_stack_syn_plain_off(tw_stack *st);
tw_port_leaf *tw_port_leaf_new(tw_stack *st, uint16_t port);
void tw_port_leaf_emptied(tw_stack *st, uint16_t port);
/* Create one known unused; NULL on NOMEM. The caller binds a socket to it (nbound++) at
   once. Inline: a client binds a port per connection, most often in a leaf in place. */
static inline tw_port *tw_port_new(tw_stack *st, uint16_t port)
{
    tw_port_leaf *l = st->ports[port / TW_PORT_LEAF];
    if (!l && !(l = tw_port_leaf_new(st, port))) {
        return NULL;
    }
    l->n++;
    return &l->p[port % TW_PORT_LEAF];
}
/* Find or create (the same contract). */
static inline tw_port *tw_port_ref(tw_stack *st, uint16_t port)
{
    tw_port *p = tw_port_get(st, port);
    return tw_port_used(p) ? p : tw_port_new(st, port);
}
/* A socket bound to `port`, whose leaf is l (in place: the port is in use), lets go of
   it (reuse: with SO_REUSEADDR; autobound: by connect). True when the leaf emptied and
   is not the one kept: the caller then owes the call tw_port_leaf_emptied(st, port),
   which it makes last (tw_conn_free: its usual case then makes no call but tail calls,
   and saves no register). */
static inline bool tw_port_unref(tw_stack *st, tw_port_leaf *l, uint32_t port, bool reuse,
                                 bool autobound)
{
    tw_port *p = &l->p[port % TW_PORT_LEAF];
    assert(p->nbound != 0); /* (it counted this socket: bind_to, pick_port) */
    uint32_t n = --p->nbound;
    if (autobound) {
        p->nauto--; /* (it counted this socket: pick_port) */
    }
    /* (marked unexpected, for a straight path: the usual port let go of is a client's
       own, then unused). n alone tells: a port's listener is one of its bound sockets,
       and lets go of the port only once it is no longer its listener (conn_free_full),
       so a port with a listener keeps n > 0 here. */
    assert(n || !tw_port_listener(st, port));
    if (__builtin_expect(n != 0, 0)) {
        if (reuse && p->nreuse) {
            p->nreuse--;
        }
        return false;
    }
    p->nreuse = 0; /* unused: all zero (tw_port_get); no count to take one off first */
    return --l->n == 0 && st->leaf_kept != port / TW_PORT_LEAF + 1u;
}
/* The stack's free lists and the leaf kept in place given back (tw_stack_trim_if_idle). */
void tw_stack_trim(tw_stack *st);

/* fastopen.c (TCP Fast Open, RFC 7413): a received segment's option checked (malformed,
   or on a segment without SYN: counted and taken away), the client cache freed. */
struct tw_tcp_hdr;
void tw_tfo_rx_option(tw_stack *st, struct tw_tcp_hdr *h);
void tw_tfo_cache_free(tw_stack *st);

/* The ICMP types that quote a datagram (RFC 792). */
#define TW_ICMP_DEST_UNREACH 3
#define TW_ICMP_SOURCE_QUENCH 4
#define TW_ICMP_REDIRECT 5
#define TW_ICMP_TIME_EXCEEDED 11
#define TW_ICMP_PARAM_PROBLEM 12
/* An ICMP error message quoting one of our TCP segments: `raddr`, `rport`, `lport` and
   `seq` as the quoted headers hold them; `mtu` the next-hop MTU of Destination
   Unreachable code 4 (RFC 1191; 0 from an old router); `tot_len` and `ihl` the quoted
   IPv4 header's Total Length and header length in bytes. */
typedef struct tw_icmp_quote {
    uint32_t raddr;
    uint16_t rport, lport;
    uint32_t seq;
    uint8_t type, code;
    uint16_t mtu;
    uint16_t tot_len;
    uint8_t ihl;
} tw_icmp_quote;
/* tcp_in.c: act on it (RFC 1122 4.2.3.9). */
void tw_tcp_icmp_err(tw_stack *st, const tw_icmp_quote *q);
/* ICMP input (icmp.c). */
void tw_icmp_input(tw_stack *st, const uint8_t *ip_pkt, size_t hdr_len, uint32_t src,
                   const uint8_t *payload, uint16_t len);
#define TW_ICMP_PROTO_UNREACH 2       /* Destination Unreachable's code 2 */
#define TW_ICMP_REASSEMBLY_TIMEOUT 1  /* Time Exceeded's code 1 */
/* An ICMP error of `type` and `code` about a datagram whose header is `hdr` (`hdr_len`
   bytes) and whose data begins with `data` (`len` bytes, as much as is quoted: up to 548),
   sent to its source, within the stack's ICMP error rate (icmp.c); counted under
   `sent` when sent. The caller has checked that the datagram may have one (RFC 1122
   3.2.2: not about an ICMP error, a fragment other than the first, a datagram not from
   one host or not to us). */
void tw_icmp_send_error(tw_stack *st, uint8_t type, uint8_t code, const uint8_t *hdr,
                        size_t hdr_len, const uint8_t *data, size_t len, enum tw_counter sent);
/* Whether an ICMP message of `type` is an error message (RFC 1122 3.2.2). */
static inline bool tw_icmp_is_error(uint8_t type)
{
    return type == TW_ICMP_DEST_UNREACH || type == TW_ICMP_SOURCE_QUENCH ||
           type == TW_ICMP_REDIRECT || type == TW_ICMP_TIME_EXCEEDED ||
           type == TW_ICMP_PARAM_PROBLEM;
}

/* The orphans the stack holds (stack.h orphan_room). */
/* The next connection or half-open entry id (trace events, tw_socket_info). The count is
   raised in memory, then read: the empty asm keeps GCC from loading it, adding in a
   register and storing it back, one step more (lifecycle -1 instr at each of connect's
   and the SYN entry's). */
static inline __attribute__((always_inline)) uint32_t tw_stack_next_id(tw_stack *st)
{
    st->next_conn_id++;
    __asm__("" : "+m"(st->next_conn_id));
    return (uint32_t)st->next_conn_id;
}

static inline size_t tw_stack_orphans(const tw_stack *st)
{
    return (size_t)(st->close_plain_below - st->orphan_room);
}

/* One orphan more for close()'s usual path, when orphan_room is above 0: true, counted;
   false, nothing changed (the limit reached, or a traced stack). */
static inline __attribute__((always_inline)) bool tw_stack_orphan_take(tw_stack *st)
{
#if TW_ASM_X86
    /* (the decrement in memory and its sign's branch: GCC otherwise loaded, tested,
       decremented and stored the count apart; the rare answer takes it back) */
    __asm__ goto("subq $1, %[room]\n\tjs %l[full]"
                 : [room] "+m"(st->orphan_room)
                 :
                 : "cc"
                 : full);
    return true;
full:
    st->orphan_room++;
    return false;
#else
    if (st->orphan_room <= 0) {
        return false;
    }
    st->orphan_room--;
    return true;
#endif
}

#endif
