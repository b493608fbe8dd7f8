/*
 * socket.c -- the BSD-shaped, non-blocking socket API (include/tcpwave.h) on top of the
 * core: open/bind/listen/accept/connect/send/recv/shutdown/close/abort, events, info.
 *
 * API misuse returns a TW_ERR_* and changes nothing; every call that can change state
 * takes `now` and runs with the stack's re-entrancy guard.
 */
#include "core/arch.h"
#include "core/tcp_conn.h"
#include "core/fastopen.h"
#include "core/timewait.h"
#include "core/reqsk.h"
#include "core/ipv4.h"
#include "core/ecn.h"

#include <string.h>

/* tw_copy of 16 to 64 bytes (tw_copy's first in-line form), with 32-byte moves
   (copy.h tw_copy_wide) when `wide`: a caller that has asked the stack's copy_narrow
   (call_gate). */
static inline __attribute__((always_inline)) void copy_small(void *dst, const void *src,
                                                             size_t len, bool wide)
{
    assert(len - 16 <= 48);
#if TW_COPY_WIDE
    if (wide) {
        tw_copy_wide(dst, src, len);
        return;
    }
#else
    (void)wide;
#endif
    tw_copy(dst, src, len);
}

#define EPHEMERAL_LO 32768u /* Linux's default ip_local_port_range */
#define EPHEMERAL_HI 60999u

/* The guard asked and set: true when it was set already (a call from inside a hook). */
static inline __attribute__((always_inline)) bool guard_take(tw_stack *st)
{
#if TW_ASM_X86_FLAGS
    /* (one btr of call_free's bit, its old value in the carry: the test and the store took
       three steps, a compare, its jump and a store; lifecycle -3 instr, connect and the
       two closes. As a 16-bit operand with the byte after it, traced, which it writes
       back unchanged: btr has no byte form) */
    /* (the two bools as the operands, not a 16-bit word of may_alias type: that one GCC
       took as a write that may change anything, the socket's stack pointer among them,
       and loaded that again after it) */
    _Static_assert(sizeof(st->call_free) == 1 &&
                       offsetof(tw_stack, traced) == offsetof(tw_stack, call_free) + 1,
                   "the guard's byte and the one after it");
    bool was_free;
    __asm__("btrw $0, %0" : "+m"(st->call_free), "+m"(st->traced), "=@ccc"(was_free));
    assert(!st->call_free);
    return !was_free;
#else
    if (!st->call_free) {
        return true;
    }
    st->call_free = false;
    return false;
#endif
}

static bool enter(tw_stack *st, tw_time now)
{
    if (guard_take(st)) {
        return false;
    }
    tw_stack_set_now(st, now);
    return true;
}

static void leave(tw_stack *st)
{
    st->call_free = true;
}

/* A call refused as misuse (INVAL, STATE, NOTCONN, BUSY: the caller's mistake, not the
   network's) is counted where it is refused, off the paths of calls that succeed. */
static int refuse(tw_stack *st, int rc)
{
    tw_count(st, TW_CNT_API_REFUSED);
    return rc;
}

#define ENTER(s, now)                                                                      \
    do {                                                                                   \
        if (!(s)) {                                                                        \
            return TW_ERR_INVAL;                                                           \
        }                                                                                  \
        if (!enter((s)->st, now)) {                                                        \
            return refuse((s)->st, TW_ERR_BUSY);                                           \
        }                                                                                  \
    } while (0)

/* The guard of the calls that take no clock (bind and the settings): a NULL socket, or a
   call from inside a hook (tcpwave.h). */
#define SETTING(s)                                                                         \
    do {                                                                                   \
        if (!(s)) {                                                                        \
            return TW_ERR_INVAL;                                                           \
        }                                                                                  \
        if (!(s)->st->call_free) {                                                         \
            return refuse((s)->st, TW_ERR_BUSY);                                           \
        }                                                                                  \
    } while (0)

/* ENTER for a call whose steps call no hook (recv, accept: no netdev, trace, allocator
   or notify call; tw_out_ack_lazy only queues): the clock moved, the guard asked but not
   set, and no leave() at its end. Nothing can call into the stack before such a call
   returns, so the guard's flag, set and cleared around it, would be seen by nobody. */
#define ENTER_NOHOOK(s, now)                                                               \
    do {                                                                                   \
        SETTING(s);                                                                        \
        tw_stack_set_now((s)->st, now);                                                    \
    } while (0)

/* Never started, nor a listener, so in CLOSED: the flags alone tell. A socket leaves
   CLOSED only for LISTEN, with TW_F_LISTENER (tw_socket_listen), or through SYN-SENT or
   SYN-RECEIVED, which set TW_F_STARTED (connect_start, tw_conn_set_state, tcp_in.c
   req_promote); TW_F_STARTED is taken back only in CLOSED (connect_renew_failed), and
   TW_F_LISTENER only once its listener is back in CLOSED (shutdown_listener): so
   CLOSED needs no test of its own (asserted). */
static bool fresh(const tw_socket *s)
{
    bool never = !(s->flags & (TW_F_LISTENER | TW_F_STARTED));
    assert(!never || s->state == TW_STATE_CLOSED);
    return never;
}

/* The gate of the usual socket calls (open, send, recv): whether the stack's re-entrancy
   guard is set (a call from inside a hook), it traces, it has a socket whose send limit
   may be below one ring block (st->sndbuf_small), or the machine has no 32-byte moves
   (st->copy_narrow): the bytes in one test, so that send's usual first write pays no
   test of the limit and recv's usual read asks nothing more for its copy (a gated call
   takes the general steps, with 16-byte moves: the same outcome). */
static inline bool call_gate(const tw_stack *st)
{
    _Static_assert(offsetof(tw_stack, traced) == offsetof(tw_stack, call_free) + 1 &&
                       offsetof(tw_stack, sndbuf_small) == offsetof(tw_stack, call_free) + 2 &&
                       offsetof(tw_stack, copy_narrow) == offsetof(tw_stack, call_free) + 3 &&
                       offsetof(tw_stack, addr_net) == offsetof(tw_stack, call_free) + 4,
                   "call gate");
    /* (call_free, traced, sndbuf_small, copy_narrow, each 0 or 1: the usual send's are
       1, 0, 0, 0, the word 1 in one compare. A machine without 32-byte moves takes the
       gate's way too, send_gated, whose first write copies with 16-byte ones; a traced
       stack too, whose sends then ask the limit: the same outcome, the limit not below
       a block while sndbuf_small is false) */
    static const uint8_t bytes[4] = {1, 0, 0, 0};
    uint32_t w, usual;
    memcpy(&w, &st->call_free, 4);
    memcpy(&usual, bytes, 4);
    return w != usual;
}

/* tw_socket_open through its gate (call_gate): its refusals, else the object by the
   stack's pointer (tcp_conn.h tw_conn_open). Out of line. */
static __attribute__((noinline)) int open_gated(tw_stack *st, tw_socket **out)
{
    if (!out || !st->call_free) {
        return refuse(st, out ? TW_ERR_BUSY : TW_ERR_INVAL);
    }
    return tw_conn_open(st, out);
}

/* see tcpwave.h */
int tw_socket_open(tw_stack *st, tw_socket **out)
{
    if (!st) {
        return TW_ERR_INVAL;
    }
    /* The guard's test in send's gate word (call_gate): its usual answer also says that
       the machine has 32-byte moves (copy_narrow clear: AVX2, which conn_wide_on is
       too), so the object is tw_conn_open_wide's, called by name where the stack's
       pointer took a load (lifecycle -1 instr); a traced stack, one with sndbuf_small,
       or one without AVX2 takes the pointer (open_gated), as does a NULL `out`. */
    if (__builtin_expect(!out || call_gate(st), 0)) {
        return open_gated(st, out);
    }
#if TW_COPY_WIDE && TW_CONN_WIDE
    assert(st->conn_wide_on && st->conn_open == tw_conn_open_wide);
    return tw_conn_open_wide(st, out);
#else
    return tw_conn_open(st, out);
#endif
}

/* s takes port p (with SO_REUSEADDR when it set it). */
static inline void bind_to(tw_socket *s, tw_port *p, uint16_t port)
{
    p->nbound++;
    if (s->flags & TW_F_REUSE) {
        p->nreuse++;
    }
    s->lport = port;
    s->flags |= TW_F_BOUND;
}

/* A port whose leaf is not there yet: made, then taken. Out of line, so that the usual
   bind (the leaf in place) makes no call and saves no register. */
static __attribute__((noinline)) int bind_new_leaf(tw_socket *s)
{
    uint16_t port = s->lport; /* (bind_port's: taken back if the bind fails) */
    tw_port *p = tw_port_new(s->st, port);
    if (!p) {
        s->lport = 0;
        return TW_ERR_NOMEM;
    }
    bind_to(s, p, port);
    return 0;
}

/* A port in use: shared with SO_REUSEADDR when every owner of the port set it too and
   none listens. Its owners, as the sockets of Linux's bind bucket (inet_bind_conflict:
   both sk_reuse, the other not in LISTEN): the sockets bound to it (bind, connect,
   listen), the children of its listener, accepted or not, and the TIME-WAIT records of
   them all (listener_stop, timewait.c make_in), each counted with its own SO_REUSEADDR, as
   Linux's TIME-WAIT socket keeps its socket's (tw_reuse). Out of line, as
   bind_new_leaf. */
static __attribute__((noinline)) int bind_shared(tw_socket *s, tw_port *p)
{
    uint16_t port = s->lport; /* (bind_port's: taken back if the bind fails) */
    if (tw_port_listener(s->st, port) || !(s->flags & TW_F_REUSE) || p->nreuse != p->nbound) {
        s->lport = 0;
        return TW_ERR_ADDRINUSE;
    }
    bind_to(s, p, port);
    return 0;
}

/* (always in line: bind's usual call, which listen_autobind's second use would otherwise
   turn into a call of its own, lifecycle +3 instr) */
static inline __attribute__((always_inline)) int bind_port(tw_socket *s, uint16_t port)
{
    /* (the number widened once: GCC's 16-bit shift for the leaf's index had a mask
       after it, and the entry's index was worked out twice) */
    uint32_t pn = port;
    /* (the widened number hidden from GCC by an empty asm, and the entry's index in the
       leaf taken from the argument: one zero-extending move and the leaf's shift, where
       GCC made the leaf's index with a copy and two shifts, keeping the number for the
       entry's; lifecycle -1 instr) */
    TW_OPAQUE(pn);
    /* The port goes to the socket first, where the rare ways (bind_new_leaf, bind_shared)
       read it, and take it back when the bind fails: a socket not bound has none (0:
       asserted), so they pass no port of their own, which GCC otherwise kept widened in
       a register of its own for them (lifecycle -1 instr). */
    assert(s->lport == 0);
    s->lport = port;
    tw_port_leaf *l = s->st->ports[pn / TW_PORT_LEAF];
    if (!l) {
        return bind_new_leaf(s);
    }
    tw_port *p = &l->p[port % TW_PORT_LEAF]; /* (tw_port_get) */
    /* tw_port_used(p) is p->nbound alone here: a port's listener is one of its bound
       sockets (tw_socket_listen takes a used port, and the listener lets go of the port
       after it stops being its listener, conn_free_full), so a port with a listener has
       nbound > 0. (The listener then read only for a port in use: bind's usual port is
       free.) */
    if (__builtin_expect(p->nbound != 0, 0)) {
        return bind_shared(s, p);
    }
    /* A port not in use is all zero (tw_port_get, tw_port_unref): bind_to's counts as
       stores. Nothing holds it: the connections and TIME-WAIT records left on a port
       count among its owners (bind_shared), so none is there to ask about. */
    assert(!tw_port_listener(s->st, port) && p->nreuse == 0 && p->nauto == 0);
    l->n++; /* tw_port_new's step, the leaf in hand */
    p->nbound = 1;
    _Static_assert(TW_F_REUSE == 1u << 31, "TW_F_REUSE's bit");
    /* (the flags read here for their bit, and the bound one set in memory: the empty
       asms keep GCC from keeping the flags loaded for the caller's test in a register
       for these, its copy and store two steps more than the test and the or in memory
       (lifecycle -2 instr)) */
    __asm__("" : "+m"(s->flags));
    p->nreuse = s->flags >> 31; /* (TW_F_REUSE) */
    __asm__("" : "+m"(s->flags));
    s->flags |= TW_F_BOUND;
    return 0;
}

/* see tcpwave.h */
int tw_socket_bind(tw_socket *s, uint16_t port)
{
    SETTING(s);
    if (!fresh(s) || (s->flags & TW_F_BOUND)) {
        return refuse(s->st, TW_ERR_STATE);
    }
    if (port == 0) {
        return 0; /* an ephemeral port is chosen at connect */
    }
    return bind_port(s, port);
}

/* SO_REUSEADDR set or cleared after bind(), as Linux allows (the setting weighs in the
   binds that follow): the port's count of sockets bound with it follows (bind_to counted
   this one by its flag then; ports chosen by connect count none, pick_port). Out of
   line: the usual setting comes before bind. */
static __attribute__((noinline)) int reuseaddr_bound(tw_socket *s, bool on)
{
    uint32_t f = s->flags;
    if (!(f & TW_F_AUTOBOUND) && !(f & TW_F_REUSE) != !on) {
        tw_port *p = tw_port_get(s->st, s->lport);
        if (on) {
            p->nreuse++;
        } else if (p->nreuse) {
            p->nreuse--;
        }
    }
    s->flags = (f & ~TW_F_REUSE) | (on ? TW_F_REUSE : 0);
    return 0;
}

int tw_socket_set_reuseaddr(tw_socket *s, bool on)
{
    SETTING(s);
    if (s->flags & TW_F_BOUND) {
        return reuseaddr_bound(s, on);
    }
    /* (the flag by a shift of the bool, 0 or 1: GCC's choice between two values took a
       conditional move and two more steps) */
    _Static_assert(TW_F_REUSE == 1u << 31, "TW_F_REUSE's bit");
    /* (the flags changed in memory, the bit cleared, then the bool's or'ed in: the
       empty asms keep GCC from making the two one change of the flags loaded in a
       register for the test, whose copy and store took two steps more; lifecycle -2
       instr) */
    __asm__("" : "+m"(s->flags));
    s->flags &= ~TW_F_REUSE;
    __asm__("" : "+m"(s->flags));
    s->flags |= (uint32_t)on << 31;
    return 0;
}

/* listen() on a fresh socket bound to no port: a port of the ephemeral range that
   nothing holds, as Linux's inet_autobind gives one (TW_ERR_ADDRINUSE when none is left,
   as there). Out of line: listen's usual socket is bound. */
static __attribute__((noinline)) int listen_autobind(tw_socket *s)
{
    tw_stack *st = s->st;
    uint32_t n = EPHEMERAL_HI - EPHEMERAL_LO + 1;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t port = (uint16_t)(EPHEMERAL_LO + (st->port_counter + i) % n);
        if (!tw_port_used(tw_port_get(st, port))) {
            st->port_counter += i + 1;
            return bind_port(s, port);
        }
    }
    return TW_ERR_ADDRINUSE;
}

/* see tcpwave.h */
int tw_socket_listen(tw_socket *s, int backlog, tw_time now)
{
    ENTER(s, now);
    int rc = 0;
    if (backlog < 0 || backlog > 65535) {
        rc = refuse(s->st, TW_ERR_INVAL);
    } else if (s->flags & TW_F_LISTENER) {
        /* listen() again on a listener: a new backlog, as Linux's inet_listen takes it
           (the connections already queued stay; the next SYN sees the new bound). */
        s->backlog = (uint16_t)(backlog < 65535 ? backlog : 65534);
        tw_listener_syn_plain_set(s);
    } else if (!fresh(s)) {
        rc = refuse(s->st, TW_ERR_STATE);
    } else if (!(s->flags & TW_F_BOUND) && (rc = listen_autobind(s)) != 0) {
        /* (no port for it) */
    } else {
        tw_port *p = tw_port_get(s->st, s->lport);
        /* Linux's listen asks the port's owners again (inet_csk_get_port from
           inet_csk_listen_start): refused by another listener, and by any other owner
           unless both it and this socket set SO_REUSEADDR (bind_shared: a TIME-WAIT
           record or connection the port gained since bind()). */
        if (!tw_port_used(p) || tw_port_listener(s->st, s->lport) ||
            (p->nbound != 1 && (!(s->flags & TW_F_REUSE) || p->nreuse != p->nbound))) {
            rc = TW_ERR_ADDRINUSE;
        } else if ((rc = tw_port_listen(s->st, s->lport, s)) != 0) {
            rc = refuse(s->st, rc);
        } else {
            memset(&s->cc, 0, sizeof(s->cc)); /* the listener's fields share cc's room */
            s->flags |= TW_F_LISTENER;
            /* Like Linux (sk_acceptq_is_full: sk_ack_backlog > sk_max_ack_backlog), the
               accept queue is full past `backlog`: listen(fd, 1) holds two connections,
               as packet scripts written against Linux expect. (65534 at most: acc_len
               counts to backlog + 1 in 16 bits.) */
            s->backlog = (uint16_t)(backlog < 65535 ? backlog : 65534);
            tw_listener_syn_plain_set(s);
            s->wscale_offer = tw_wscale_offer(s->st, s->rcvbuf_cap, tw_conn_rcvbuf_locked(s));
            tw_listener_syn_wnd_set(s, s->rcvbuf_cap);
            tw_listener_mss_set(s);
            tw_conn_set_state(s, TW_STATE_LISTEN);
            /* A listener carries no data: its object's parked blocks, if any, go back
               (tcp_conn.h tw_conn_rings_kept), as a listener holds none otherwise. */
            if (s->snd.cap == 0) {
                tw_conn_ring_free(s->st, &s->snd);
            }
            if (s->rcv.cap == 0) {
                tw_conn_ring_free(s->st, &s->rcv);
            }
        }
    }
    leave(s->st);
    return rc;
}

tw_socket *tw_listener_enqueue(tw_socket *child)
{
    /* (tw_conn_listener; a listening port's leaf is there: no test for a missing one) */
    tw_socket *l =
        child->st->listen[child->lport / TW_LISTEN_LEAF]->s[child->lport % TW_LISTEN_LEAF];
    if (l->acc_len > l->backlog) { /* as Linux: see tw_socket_listen */
        return NULL;
    }
    tw_listener_enqueue_to(l, child);
    return l;
}

/* see tcpwave.h */
int tw_socket_accept(tw_socket *s, tw_socket **out, tw_time now)
{
    if (!out) {
        return s ? refuse(s->st, TW_ERR_INVAL) : TW_ERR_INVAL;
    }
    ENTER_NOHOOK(s, now); /* (no hook: its steps are the queue's) */
    int rc = 0;
    if (!(s->flags & TW_F_LISTENER)) {
        rc = refuse(s->st, TW_ERR_STATE);
    } else if (__builtin_expect(!s->acc_head, 0)) {
        /* (marked unexpected: an accept most often follows TW_EV_ACCEPTABLE, and GCC
           otherwise set the code before the test, on the taking path too) */
        rc = TW_ERR_AGAIN;
    } else {
        tw_socket *c = s->acc_head;
        /* (acc_tail left as it is when the queue empties: tw_listener_enqueue_to asks
           acc_head) */
        s->acc_head = c->q_next;
        s->acc_len--;
        c->q_next = NULL; /* (user: NULL) */
        c->flags &= ~TW_F_CHILD; /* S3: only now does the application own it */
        *out = c;
    }
    return rc;
}

static bool tuple_busy(tw_stack *st, uint32_t raddr, uint16_t rport, uint16_t lport)
{
    uint64_t key = tw_tuple_key(raddr, rport, lport);
    return tw_htab_find(&st->conns, key) || tw_timewait_find(st, key);
}

/* RFC 6056 3.3.3 (algorithm 3): a keyed hash of the destination picks where to start in
   the range, and a counter moves it on, so ports are hard to guess yet rarely collide.
   Out of line: inlined, its loop costs connect() of a bound socket register saves and
   spills (20 instructions a lifecycle); here its call is small beside its hash. */
static __attribute__((noinline)) int pick_port(tw_socket *s, uint32_t raddr, uint16_t rport)
{
    tw_stack *st = s->st;
    uint32_t n = EPHEMERAL_HI - EPHEMERAL_LO + 1;
    uint32_t off = (uint32_t)tw_siphash_4x32(&st->port_key, raddr, rport, 0, 0);
    for (uint32_t i = 0; i < n; i++) {
        uint16_t port = (uint16_t)(EPHEMERAL_LO + (off + st->port_counter + i) % n);
        tw_port *p = tw_port_get(st, port);
        /* Not a port a listener or an explicit bind() holds (Linux skips those too): the
           socket bound there may yet connect to this peer, and must not find its own
           port's 4-tuple taken (tcpwave.h, tw_socket_bind). Ports chosen by connect are
           shared between different 4-tuples. */
        /* (a listener is one of the bound sockets not chosen by connect: nbound != nauto) */
        if ((p && p->nbound != p->nauto) || tuple_busy(st, raddr, rport, port)) {
            continue;
        }
        st->port_counter += i + 1;
        tw_port *ref = tw_port_ref(st, port);
        if (!ref) {
            return TW_ERR_NOMEM;
        }
        ref->nbound++;
        ref->nauto++;
        s->lport = port;
        s->flags |= TW_F_BOUND | TW_F_AUTOBOUND;
        return 0;
    }
    return TW_ERR_ADDRNOTAVAIL;
}

/* The window scale connect() offers for a receive buffer other than the default's (RFC
   7323 2.2; with auto-tuning, one that covers its ceiling too: tw_wscale_offer). Out of
   line: inline, its value took a stack slot in connect's usual path. */
static __attribute__((noinline)) uint8_t wscale_of_own_buffer(const tw_socket *s)
{
    return s->st->cfg.no_wscale ? 0
                              : tw_wscale_offer(s->st, s->rcvbuf_cap, tw_conn_rcvbuf_locked(s));
}

/* A fresh socket's receive window scale for its buffer (RFC 7323 2.2), set where the
   buffer or its lock is (tw_socket_set_bufsizes, connect_renew_failed; a new socket has
   the default buffer's, tcp_conn.h TW_CONN_SND_MSS_FIRST), so that connect finds it
   set and asks nothing about the buffer. */
static void fresh_wscale_set(tw_socket *s)
{
    assert(fresh(s));
    s->rcv_wscale = s->rcvbuf_cap == s->st->cfg.rcvbuf
                        ? s->st->conn_wscale /* the default buffer's, worked out once */
                        : wscale_of_own_buffer(s);
}

/* A connect that fails after it set the 4-tuple: the socket as it was, and the call's
   end. */
static __attribute__((noinline)) int connect_undo(tw_socket *s, int rc)
{
    s->raddr = 0;
    s->rport = 0;
    leave(s->st);
    return rc;
}

/* connect_start's RTO arm in its rare cases (another timer waits unplaced, or the clock's
   end), then the SYN and the call's end, out of line: connect then makes no call it
   returns from. */
static __attribute__((noinline)) int connect_arm_rare(tw_socket *s)
{
    tw_stack *st = s->st;
    tw_time at = s->rto_at;
    if (at <= TW_TIME_NEVER - (TW_TICK - 1)) {
        tw_wheel_arm_lazy_unarmed_at(&st->wheel, &s->timer, at);
    } else {
        tw_conn_timer_update(s);
    }
    return tw_out_syn_first_leave(s);
}

/* connect's steps once its 4-tuple is known to be free, with its ISN `iss` and the key's
   tw_htab_hash `hash`, to the call's end. `usual`: the caller has found no trace hook and
   room in the table (its tests are then not made again, and
   their calls are not there to keep registers for). `plain`: tw_socket_connect found the
   connection count under connect_plain_below (stack.h), so the SYN takes all four options
   (stack.h), which its builder then does not ask. */
static inline __attribute__((always_inline)) int connect_start(tw_stack *st, tw_socket *s,
                                                               uint32_t iss, uint64_t hash,
                                                               tw_hnode **slot, uint8_t *tag,
                                                               unsigned tagv, bool usual,
                                                               bool plain)
{
    assert(st == s->st); /* (the caller's, in a register) */
    /* The receive window's scale and the send MSS until the SYN+ACK tells (S4): a fresh
       socket has them set, its buffer's scale (fresh_wscale_set) and 536 (tcp_conn.h
       TW_CONN_SND_MSS_FIRST), so connect stores neither. */
    assert(s->rcv_wscale == (s->rcvbuf_cap == st->cfg.rcvbuf ? st->conn_wscale
                                                              : wscale_of_own_buffer(s)) &&
           s->snd_mss == TW_CONN_SND_MSS_FIRST);
    tw_seq isn = tw_seq_make(iss), isn1 = tw_seq_add(isn, 1);
    s->iss = isn;
    s->snd_una = isn;
    /* (the SYN's sending numbers: tw_out_syn_first_leave, below, takes them as set) */
    s->snd_nxt = isn1;
    s->snd_max = isn1;
    s->snd_buf_seq = isn1;
    /* tw_conn_hash_hashed without its test: a fresh socket was never started, so it is
       in no table. The lookup's hash: the same key, not hashed again. */
    assert(!(s->flags & TW_F_HASHED) && s->h.key == tw_tuple_key(s->raddr, s->rport, s->lport));
    if (usual) {
        /* (tw_htab_insert_hashed's case, the tags there, and the bucket's slot and tag
           byte: connect's lookup asked and found them) */
        /* (tw_htab_push_tagged_at's steps, the tag byte's new value made by the caller from
           the byte it read: one bit set in a register, where the byte's or in memory took
           a shift of a one first; lifecycle -1 instr) */
        /* (the byte with the bit added, or the bit alone: connect_tag_start found a
           stale bit over an empty bucket and made the tag exact) */
        assert(slot == &st->conns.b[(size_t)hash & st->conns.mask] &&
               tag == &st->conns.tag[(size_t)hash & st->conns.mask] &&
               (tagv == (*tag | tw_htab_tag_bit(hash)) ||
                (tagv == tw_htab_tag_bit(hash) && *slot == NULL)));
        s->h.next = *slot;
        *slot = &s->h;
        *tag = (uint8_t)tagv;
        tw_htab_counted(&st->conns);
    } else {
        tw_htab_insert_hashed(&st->conns, &st->mem, &s->h, hash);
    }
    s->hash = hash;
    st->last_conn = s; /* (the SYN+ACK is the next segment for it) */
    if (usual) {
        /* S1: tw_conn_set_state_untraced's steps for SYN-SENT, its flag test answered: a
           fresh socket was never started (TW_F_COUNTED comes with TW_F_STARTED). */
        assert(tw_conn_edge_legal((tw_state)s->state, TW_STATE_SYN_SENT) &&
               !(s->flags & TW_F_COUNTED));
        /* (with the two flags set below for every case, in one store: the state's byte
           store in between kept GCC from merging them) */
        s->flags |= TW_F_COUNTED | TW_F_STARTED | TW_F_HASHED | TW_F_RTT_TIMING;
        st->nconns++;
        s->state = TW_STATE_SYN_SENT;
    } else {
        tw_conn_set_state(s, TW_STATE_SYN_SENT);
        s->flags |= TW_F_HASHED | TW_F_RTT_TIMING;
    }
    tw_count(st, TW_CNT_TCP_ACTIVE_OPENS);
    s->rtt_seq = isn1;
    s->rtt_start = st->now;
    s->stall_start = st->now; /* (the SYN's, for tw_out_syn_first_leave: RFC 9293 3.10.8) */
    /* RFC 6298 5.1: the SYN starts the retransmission timer (armed first: the SYN's
       sending reads no timer, and connect then has nothing left to do after it but the
       call's end). tw_rto_arm with its tests answered: a fresh socket has no deadline
       set and no wheel entry, and no segment is being processed for it (the stack is in
       this call), so the entry waits for the RTO at once (tw_conn_timer_started's usual
       case). The two rare ends of the clock go to the general step, as in tw_rto_arm. */
    assert(s->misc_at == TW_TIME_NEVER && s->dack_at == TW_TIME_NEVER &&
           s->ka_at == TW_TIME_NEVER && s->rto_at == TW_TIME_NEVER &&
           !tw_timer_armed(&s->timer) && st->timer_held != s);
    /* (a fresh socket's RTO is the configured first one, tcp_conn.c, at most the largest
       RTO: the clock's end asked as one compare of the clock, stack.h rto_now_below;
       from it on, the saturating add) */
    assert(s->rto == st->cfg.rto_initial);
    if (__builtin_expect(st->now >= st->rto_now_below || st->wheel.lazy, 0)) {
        s->rto_at = tw_time_add(st->now, s->rto);
        return connect_arm_rare(s); /* (its calls out of connect: no register kept) */
    }
    tw_time at = st->now + s->rto;
    assert(at <= TW_TIME_NEVER - (TW_TICK - 1));
    s->rto_at = at;
    tw_wheel_arm_lazy_unarmed_at(&st->wheel, &s->timer, at);
    /* (the SYN, then the call's end, in one tail call: connect keeps no register) */
    if (plain) {
        return tw_out_syn_first_all_leave(s);
    }
    return tw_out_syn_first_leave(s);
}

/* connect_start in general, out of line, for connect's cases other than its usual one. */
static __attribute__((noinline)) int connect_start_other(tw_socket *s, uint32_t iss,
                                                         uint64_t hash)
{
    return connect_start(s->st, s, iss, hash, NULL, NULL, 0, false, false);
}

/* connect of a socket bound to no port: an ephemeral one (pick_port), then as for a bound
   one. Out of line, so that connect's usual case (bound) keeps no register for it. */
static __attribute__((noinline)) int connect_unbound(tw_socket *s, uint32_t addr, uint16_t port)
{
    int rc = pick_port(s, addr, port);
    if (rc) {
        return connect_undo(s, rc);
    }
    tw_stack *st = s->st;
    uint32_t iss;
    tw_isn_ts(st, addr, port, s->lport, &iss, &s->ts_offset);
    return connect_start_other(s, iss,
                               tw_htab_hash(&st->conns, tw_tuple_key(addr, port, s->lport)));
}

/* connect of a bound socket whose 4-tuple the tables' filters did not both rule out
   (tw_htab_find_hashed's tag, tw_timewait_find_pre's filter): the lookups made in full,
   then refused, taken over with SO_REUSEADDR when the old incarnation used timestamps
   (above it: RFC 6191's rule, applied to our own side), or started after all. Out of line, as
   connect_unbound. */
static __attribute__((noinline)) int connect_lookup(tw_socket *s, uint32_t iss, uint64_t hash)
{
    tw_stack *st = s->st;
    uint64_t key = s->h.key;
    if (tw_htab_find_hashed(&st->conns, key, hash) != NULL) {
        return connect_undo(s, TW_ERR_ADDRINUSE);
    }
    tw_tw *tn = tw_timewait_find_pre(st, key, hash);
    if (tn != NULL) {
        if (!(s->flags & TW_F_REUSE)) {
            return connect_undo(s, TW_ERR_ADDRINUSE);
        }
        if (!(tn->flags & TW_TWF_TS)) {
            /* Only timestamps (PAWS, RFC 7323 5) keep the old incarnation's duplicates
               out of the new one; without them TIME-WAIT has to run its course (RFC 9293
               3.6.1, RFC 1122 4.2.2.13 lets only a peer's SYN in early): as Linux 6.18's
               tcp_twsk_unique for a bound port (EADDRNOTAVAIL; checked over TUN). */
            return connect_undo(s, TW_ERR_ADDRNOTAVAIL);
        }
        uint32_t isn_floor = tn->snd_nxt + 65535u + 2u;
        if (tw_seq_lt(tw_seq_make(iss), tw_seq_make(isn_floor))) {
            iss = isn_floor;
        }
        tw_timewait_free(st, tn);
    }
    return connect_start_other(s, iss, hash);
}

/* connect's steps once the TIME-WAIT table has ruled its 4-tuple out, with no trace
   hook and room in the table (connect_hashed's tests): the connection table's tag byte
   asked, then connect_start
   in its usual case (its slot and tag byte kept for the insert: the tag's byte store
   otherwise made GCC load the table's arrays and work the index out again after it). */
static inline __attribute__((always_inline)) int connect_tag_start(tw_stack *st, tw_socket *s,
                                                                   uint32_t iss, uint64_t hash,
                                                                   bool plain)
{
    size_t bi = (size_t)hash & st->conns.mask;
    tw_hnode **slot = &st->conns.b[bi];
    uint8_t *tag = &st->conns.tag[bi];
    unsigned t = *tag, b = (unsigned)(hash >> 61);
    if (__builtin_expect((t >> b) & 1u, 0)) {
        /* A tag bit left by a connection gone (tw_htab_find_hashed): the lookup reads
           the chain, and when it is empty, makes the tag exact (0) as its walk would
           (with the insert's bit: the byte stored once, by connect_start). Marked
           unexpected: a tag byte without the bit then takes no jump. */
        if (*slot) {
            return connect_lookup(s, iss, hash);
        }
        t = 0;
    }
    /* (no prefetch of the slot on the tag's usual answer, as tw_htab_find_hashed's: the
       insert below loads it a few instructions on, which starts the miss as early) */
    return connect_start(st, s, iss, hash, slot, tag, t | 1u << b, true, plain);
}

/* connect of a bound socket whose 4-tuple the TIME-WAIT table's filter did not rule out:
   most often a bit another record of the bucket set (one connect in twenty with as many
   records as buckets). The chain walked (tw_timewait_find_pre's walk): only a record of
   this 4-tuple goes to connect_lookup, else connect goes on as in its usual case
   (connect_tag_start). Out of line, as connect_lookup: in line, the call made connect
   keep a frame on its usual path. */
static __attribute__((noinline)) int connect_tw_filtered(tw_socket *s, uint32_t iss,
                                                         uint64_t hash)
{
    tw_stack *st = s->st;
    const tw_twtab *T = &st->tws;
    if (tw_timewait_walk(T, T->b[tw_tw_bucket(T, hash)].head, hash) != NULL) {
        return connect_lookup(s, iss, hash);
    }
    /* (connect_tag_start's conditions: tested by the caller, connect_hashed) */
    assert(st->conns.tag && !st->cfg.trace && !tw_htab_full(&st->conns));
    return connect_tag_start(st, s, iss, hash, false);
}

/* connect's steps after the ISN's hash `h` (tw_tuple_hash's answer), with the clock's
   part of the ISN `m` and the key's tw_htab_hash `hash`, to the call's end. From here
   the usual connect makes no call but the SYN's: its other cases go to functions of
   their own, tail-called (a 4-tuple the tables' filters do not rule out, or a trace
   hook or a table to grow: connect_lookup, then connect_start_other). The 4-tuple is
   free when the two filters say so at once, as they most often do
   (tw_timewait_find_pre's filter, then the connection table's tag, connect_tag_start). */
static inline __attribute__((always_inline)) int connect_hashed(tw_socket *s, uint64_t h,
                                                                uint32_t m, uint64_t hash,
                                                                bool plain)
{
    uint32_t iss = (uint32_t)h + m; /* RFC 6528 3: ISN = M + F(...) (tw_isn) */
    s->ts_offset = (uint32_t)(h >> 32);
    tw_stack *st = s->st;
    const tw_twtab *T = &st->tws;
    /* connect_start's usual case's tests first, while registers are free (after the
       filters' work they took a callee-saved one): a trace hook or a table to grow take
       connect_lookup's full lookups, which come to connect_start_other. (A receive
       buffer other than the default is not asked: its scale is set with it,
       fresh_wscale_set.) */
    /* (the connection table has its tags for the stack's life: made tagged with it,
       stack.c, and kept tagged through every resize, htab.c) */
    assert(st->conns.tag != NULL);
    /* (`plain`: the caller asked the trace hook's test, connect_fresh) */
    assert(!plain || !st->cfg.trace);
    /* (`plain`: nor is the table full, as the caller's compare said: htab.h limit_below,
       every entry of the table counted in nconns) */
    assert(!plain || (tw_htab_count(&st->conns) <= st->nconns && !tw_htab_full(&st->conns)));
    if (__builtin_expect(!plain && (st->cfg.trace != NULL || tw_htab_full(&st->conns)), 0)) {
        return connect_lookup(s, iss, hash);
    }
    /* (the bucket's slot and tag byte kept for the insert, connect_start: the tag's
       byte store below otherwise made GCC load the table's arrays and work the index
       out again after it) */
    /* (the TIME-WAIT table's filter first: the connection table's slot and tag byte,
       kept for the insert, then take no registers across its test; lifecycle -0.5) */
    /* (no test of the record count first: with no record, the table's filter is an
       empty one, htab.h none) */
    if (__builtin_expect((T->b[tw_tw_bucket(T, hash)].bloom >> (hash >> 59)) & 1u,
                         0)) {
        return connect_tw_filtered(s, iss, hash);
    }
    return connect_tag_start(st, s, iss, hash, plain);
}

/* connect of a bound socket to a peer other than the last one hashed (stack.h isn_mid):
   tw_tuple_hash_new_peer's call, then connect_hashed. Out of line: with the call in line, connect
   kept the clock's part and the hashes in saved registers on its usual path too
   (lifecycle -9 instr). */
static __attribute__((noinline)) int connect_new_peer(tw_socket *s, uint32_t addr, uint16_t port,
                                                      uint64_t hash)
{
    assert(addr != s->st->isn_mid_peer); /* (connect_fresh's `known`) */
    uint64_t h = tw_tuple_hash_new_peer(s->st, addr, (uint32_t)s->lport << 16 | port);
    return connect_hashed(s, h, (uint32_t)tw_div_4us(s->st->now), hash, false);
}

/* see tcpwave.h */
/* connect() on a socket whose connection attempt failed (refused, timed out, a hard
   ICMP error: CLOSED without ever reaching ESTABLISHED): as Linux, which takes such a
   socket back to unconnected (__inet_stream_connect's sock_error: tcp_disconnect) so
   that connect() tries again, the socket starts over as a fresh one with the settings
   the application gave it (SO_REUSEADDR, TCP_NODELAY, keepalive, SO_LINGER, buffer
   sizes, TCP_MAXSEG, congestion control, its user pointer) and the port bind() gave it;
   a port connect chose was let go of at the failure (tcp_conn.c done_held) and is
   chosen again. (The error itself is the application's to have read: the socket layer
   reports it first, as the script runner's connect does.) True when the socket was
   such a one and is fresh now. Out of line: rare. */
static __attribute__((noinline)) bool connect_renew_failed(tw_socket *s)
{
    uint32_t f = s->flags;
    if (s->state != TW_STATE_CLOSED || !(f & TW_F_STARTED) ||
        (f & (TW_F_LISTENER | TW_F_CONNECTED | TW_F_ORPHAN | TW_F_CHILD | TW_F_HASHED |
              TW_F_ACK_QUEUED | TW_F_COUNTED))) {
        return false;
    }
    tw_stack *st = s->st;
    assert(!tw_timer_armed(&s->timer) && st->timer_held != s);
    /* (a port connect chose went back when the attempt failed: tcp_conn.c done_held) */
    assert(!(f & TW_F_AUTOBOUND));
    uint16_t lport = (f & TW_F_BOUND) ? s->lport : 0;
    tw_conn_ring_free(st, &s->snd);
    tw_conn_ring_free(st, &s->rcv);
    if (s->ooo) {
        tw_ranges_release(s->ooo, &st->mem);
    }
    if (s->sb) {
        tw_ranges_release(s->sb, &st->mem);
    }
    tw_mem_free(&st->mem, s->ooo, sizeof(tw_ooo));
    tw_mem_free(&st->mem, s->sb, sizeof(tw_sbx)); /* (was sizeof(*s->sb), the ranges') */
    void *user = s->user;
    tw_sock_opts *opts = s->opts;
    uint32_t sndbuf = s->sndbuf_cap, rcvbuf = s->rcvbuf_cap;
    uint16_t mss = s->local_mss;
    uint32_t keep = TW_F_REUSE | TW_F_NODELAY | TW_F_CC_NEWRENO | TW_F_KEEPALIVE |
                    TW_F_CORK | TW_F_BOUND | (opts ? TW_F_EXTRAS : 0);
    tw_conn_init(st, s, s->id);
    s->flags = (s->flags & ~TW_F_CC_NEWRENO) | (f & keep);
    s->user = user;
    s->opts = opts;
    if (opts) {
        opts->rcvq_on = false; /* (receive auto-tuning starts over with the data) */
    }
    s->sndbuf_cap = sndbuf;
    s->rcvbuf_cap = rcvbuf;
    s->local_mss = mss;
    if (mss != tw_conn_mss_for(st, 0)) {
        /* (a path MTU lowered it in SYN-SENT, tcp_in.c, or tw_socket_set_mss did: for
           good, a connect's SYN then makes its MSS word, stack.h connect_plain_below) */
        tw_stack_connect_plain_set(st, 0);
    }
    s->lport = lport;
    fresh_wscale_set(s); /* (its buffer and lock as they were) */
    return true;
}

/* connect() on a socket that is not fresh: refused (TW_ERR_STATE), but for one whose
   attempt failed, which starts over (connect_renew_failed) and connects. Out of line and
   tail-called, so that connect's usual path keeps no register for it. */
static __attribute__((noinline)) int connect_not_fresh(tw_socket *s, uint32_t addr,
                                                       uint16_t port)
{
    if (!connect_renew_failed(s)) {
        int rc = refuse(s->st, TW_ERR_STATE);
        leave(s->st);
        return rc;
    }
    leave(s->st);
    return tw_socket_connect(s, addr, port, s->st->now); /* (the call's time, set) */
}

/* tw_ipv4_bad_source(addr, our address) for connect (RFC 1122 4.2.3.10, below). The peer
   hashed last (st->isn_mid_peer, tcp_conn.c tw_tuple_hash_new_peer) passed that test: a
   segment's source was asked it before its connection or entry was hashed (tcp_hdr.h's
   usual parse, tcp_in.c's SYN path, ipv4.c tw_ipv4_parse), a connect's peer here, and
   our address does not change; nor did the peer an AES-NI stack starts with (stack.h
   TW_ISN_FIRST_PEER). So for that peer (`known`: addr is st->isn_mid_peer, on a stack
   that keeps one), most often the one a client connects to again, nothing is asked. */
static inline __attribute__((always_inline)) bool connect_bad_peer(const tw_stack *st,
                                                                   uint32_t addr, bool known)
{
    if (known) {
        /* (a kept peer is a good address: connect_other_peer takes 0, an AES-NI-less
           stack's isn_mid_peer, as not known, and such a stack never takes connect's
           usual steps, stack.h connect_plain_below) */
        assert(addr == st->isn_mid_peer && st->isn_aes.ni &&
               !tw_ipv4_bad_source(addr, st->cfg.addr));
        return false;
    }
    return tw_ipv4_bad_source(addr, st->cfg.addr); /* (0 and all ones among them) */
}

/* tw_socket_connect's steps after its call's entry for a fresh socket, `known` whether
   the peer is the one hashed last (st->isn_mid_peer): asked once, by the caller, for
   the bad-address test's shortcut and the ISN's prepared first word alike. `plain`:
   the caller found the connection count under connect_plain_below (stack.h), so the stack
   is not traced and under its connection limit (asserted), neither asked again, and the
   socket bound. */
static inline __attribute__((always_inline)) int connect_fresh(tw_socket *s, uint32_t addr,
                                                               uint16_t port, bool known,
                                                               bool plain)
{
    tw_stack *st = s->st;
    int rc;
    assert(!plain || (!st->cfg.trace && (!st->cfg.max_connections ||
                                         st->nconns < st->cfg.max_connections)));
    if (port == 0 || connect_bad_peer(st, addr, known)) {
        /* RFC 1122 4.2.3.10: an OPEN for an invalid remote address is an error -- the
           addresses no segment may come from (3.2.1.3: zero, broadcast, multicast,
           loopback, which never leaves a host, or our own) are those none may go to. */
        rc = refuse(st, TW_ERR_INVAL);
    } else if (!plain && st->cfg.max_connections && st->nconns >= st->cfg.max_connections) {
        rc = TW_ERR_LIMIT;
    } else {
        /* The 4-tuple goes in first, where the lookups read it as the key (tcp_conn.h:
           the key's bytes); a connect that fails takes it out again (tw_socket_info
           shows it). */
        s->raddr = addr;
        s->rport = port;
        /* (`plain`: the caller found the socket bound, in its test of the flags) */
        assert(!plain || (s->flags & TW_F_BOUND));
        if (!plain && !(s->flags & TW_F_BOUND)) {
            return connect_unbound(s, addr, port);
        }
        /* With a million TIME-WAIT records the bucket is a cache miss: start it, and
           hash the ISN while it comes (the ISN is wasted only when connect fails). The
           TIME-WAIT table's hash is the same (stack.c). */
        uint64_t key = s->h.key;
        uint64_t hash = tw_htab_hash(&st->conns, key);
        tw_timewait_prefetch(st, hash);
        /* tw_isn_ts's steps. tw_tuple_hash's usual case in line (the peer of the last
           hash: the block's first half kept, stack.h isn_mid), the AES rounds here
           rather than behind a call; another peer's,
           connect_new_peer. The timestamp offset goes straight to the socket: nothing
           reads it before the SYN, and a connect that fails leaves it for the next one
           to set. */
        if (!known) {
            return connect_new_peer(s, addr, port, hash);
        }
        /* (the hash's last word, lport << 16 | rport, as the key's low half turned by 16
           bits, tw_tuple_key: one rotate where the ports' load, shift and or took three,
           and the port's widening one more; lifecycle -2 instr) */
        assert((uint32_t)key == ((uint32_t)port << 16 | s->lport));
        uint32_t lr = (uint32_t)key << 16 | (uint32_t)key >> 16;
        /* (a peer kept: the ISN's key has AES-NI, stack.h isn_mid_peer, so the hash makes
           no call, and the usual connect none but its tail calls: it saves no register) */
        uint64_t h = tw_isn_prf_mid(st, lr);
        return connect_hashed(s, h, (uint32_t)tw_div_4us(st->now), hash, plain);
    }
    leave(st);
    return rc;
}

/* connect_fresh for a peer other than the one hashed last, or on a stack that traces or
   is at its connection limit (stack.h connect_plain_below): every test made. Out of line:
   the usual connect's peer is that one, on a stack under those. */
static __attribute__((noinline)) int connect_other_peer(tw_socket *s, uint32_t addr,
                                                        uint16_t port)
{
    /* (not known on a stack without AES-NI, whose isn_mid_peer is 0, kept for no peer:
       stack.h) */
    return connect_fresh(s, addr, port, addr == s->st->isn_mid_peer && s->st->isn_aes.ni, false);
}

/* see tcpwave.h */
int tw_socket_connect(tw_socket *s, uint32_t addr, uint16_t port, tw_time now)
{
    ENTER(s, now);
    /* Fresh (fresh()'s flags) and bound, as the usual connect's socket is, in one test
       of the flags: a socket not fresh goes to connect_not_fresh, a fresh one not bound
       to connect_other_peer, whose steps ask everything (with the same outcome as
       connect_fresh's usual copy, which then asks neither). */
    if (__builtin_expect((s->flags & (TW_F_LISTENER | TW_F_STARTED | TW_F_BOUND)) != TW_F_BOUND,
                         0)) {
        /* (s hidden by an empty asm: the flags loaded again here, the usual test's
           register then not copied before it) */
        TW_OPAQUE(s);
        if (!fresh(s)) {
            return connect_not_fresh(s, addr, port);
        }
        return connect_other_peer(s, addr, port);
    }
    /* (the peer hashed last asked once, for both of connect_fresh's uses; the rest of
       the call's tests there, after it) */
    /* (and the trace hook's and the connection limit's tests in one compare, stack.h
       connect_plain_below, as close's; against the least of it and the connection
       table's buckets, htab.h limit_below, so that the same compare says the table is
       not full: every entry of the table is counted in nconns, so fewer connections
       than buckets leave no more entries than buckets, and connect_hashed asks nothing
       of the table's size; lifecycle -3 instr. A stack whose count reaches its table's
       buckets, the entries about to double them, takes connect_other_peer's steps.) */
    const tw_stack *st = s->st;
    assert(tw_htab_count(&st->conns) <= st->nconns);
    if (__builtin_expect(addr != st->isn_mid_peer || st->nconns >= st->conns.limit_below, 0)) {
        return connect_other_peer(s, addr, port);
    }
    return connect_fresh(s, addr, port, true, true);
}

/* Where send's `n` bytes go in the send ring in one piece, with the room for them (a
   fresh ring's first block taken from the free list, as tw_conn_snd_reserve takes it);
   NULL for send_rare's cases. Inline: no call and no register saved for them. */
static inline uint8_t *send_dst(tw_socket *s, uint32_t n)
{
    tw_ring *r = &s->snd;
    if (r->cap == 0) {
        /* The first write (a ring without capacity is empty: its block was never made or
           was given back with its bytes, tw_conn_ring_free, which zeroes the capacity
           too, or is parked, tcp_conn.h tw_conn_rings_kept): the block starts at head 0,
           so the bytes go in at its front, with no position or wrap to work out. */
        if (n <= TW_MEM_RING_BLOCK && TW_MEM_RING_BLOCK <= s->sndbuf_cap &&
            (r->buf || s->st->mem.cache[TW_MC_RING].head)) {
            uint8_t *b = tw_conn_ring_first_block(s->st, r);
            r->cap = TW_MEM_RING_BLOCK;
            r->head = 0;
            return b;
        }
        return NULL;
    }
    if (n > r->cap - r->len) {
        return NULL; /* the ring must grow */
    }
    uint32_t pos = tw_ring_pos(r, r->len);
    return n <= r->cap - pos ? r->buf + pos : NULL; /* (else across the wrap) */
}

/* send's other cases, out of line: a ring to grow or to make otherwise, or a write across
   the ring's wrap (two copies). Returns the bytes written, 0 when none could be placed
   (out of memory). A ring the memory budget (tw_config.max_memory) will not let grow to
   hold all n takes what fits, as a stream socket's send may: the room it has, else the
   largest growth the budget allows. Refused whole, a write larger than what the budget
   had left failed each time it was made, however long the application waited, where a
   smaller one would have gone. */
static __attribute__((noinline)) uint32_t send_rare(tw_socket *s, const void *buf, uint32_t n)
{
    uint32_t want = n;
    while (!tw_conn_snd_reserve(s, s->snd.len + want)) {
        uint32_t room = s->snd.buf ? s->snd.cap - s->snd.len : 0;
        if (want > room && room != 0) {
            want = room; /* (the ring as it is: no allocation) */
        } else if (want > 1) {
            want /= 2; /* (a smaller growth) */
        } else {
            return 0;
        }
    }
    uint32_t room = s->snd.cap - s->snd.len; /* (a smaller growth may leave more room) */
    if (want < n && room > want) {
        want = room < n ? room : n;
    }
    tw_ring_write_at(&s->snd, 0, buf, want);
    return want;
}

/* send's write of n bytes (room for them checked) in every case, dst where they go in
   one piece or NULL (send_dst): the copy, then as tw_out_send_push_leave. Out of line,
   for the writes tw_socket_send does not make in line. */
static __attribute__((noinline)) tw_ssize send_other(tw_socket *s, const void *buf, size_t n,
                                                     uint8_t *dst)
{
    if (dst) {
        tw_copy(dst, buf, n);
    } else if ((n = send_rare(s, buf, (uint32_t)n)) == 0) {
        leave(s->st);
        return TW_ERR_NOMEM;
    }
    tw_ring_commit(&s->snd, (uint32_t)n);
    /* New data: from ESTABLISHED on, tw_out_push's sending step (no FIN is queued);
       before it, tw_out_push sends nothing (S5). */
    if (s->state >= TW_STATE_ESTABLISHED) {
        tw_out_idle_check(s);
        tw_out_push_now(s);
    } else if (s->state == TW_STATE_SYN_RCVD) {
        tw_tfo_send_early(s); /* (a Fast Open child's data: fastopen.h) */
    }
    leave(s->st);
    return (tw_ssize)n;
}


/* tw_socket_send's write when nothing fits (no room, or none asked), in a state that
   takes data. A write that finds the buffer full (Linux's SOCK_NOSPACE: a writer that
   would block) first lets the send buffer's auto-tuning grow it (tw_sndbuf_expand),
   then goes on as send_other; else TW_ERR_AGAIN (0 for none asked). Out of line and
   tail-called, with the call's own arguments: send then keeps no other value for it. */
static __attribute__((noinline)) tw_ssize send_full(tw_socket *s, const void *buf, size_t len)
{
    if (len && tw_sndbuf_expand(s)) {
        size_t room = s->snd.len < s->sndbuf_cap ? s->sndbuf_cap - s->snd.len : 0;
        size_t n = len < room ? len : room;
        return send_other(s, buf, n, send_dst(s, (uint32_t)n));
    }
    leave(s->st);
    return len ? TW_ERR_AGAIN : 0;
}

/* tw_socket_send in SYN-RECEIVED, out of the usual write's way (rare: a simultaneous
   open's, or a child's accepted before its handshake completed): with no FIN queued the
   data is queued as there (S5), and one opened by Fast Open sends it at once
   (send_other, fastopen.h tw_tfo_send_early). */
static __attribute__((noinline, cold)) tw_ssize send_syn_rcvd(tw_socket *s, const void *buf,
                                                              size_t len)
{
    if (s->flags & TW_F_FIN_QUEUED) {
        leave(s->st);
        return TW_ERR_CLOSED;
    }
    size_t room = s->snd.len < s->sndbuf_cap ? s->sndbuf_cap - s->snd.len : 0;
    size_t n = len < room ? len : room;
    if (n == 0) {
        leave(s->st);
        return len ? TW_ERR_AGAIN : 0;
    }
    return send_other(s, buf, n, send_dst(s, (uint32_t)n));
}

/* tw_socket_send with TCP_CORK set, in a state that takes data (no FIN queued): the
   general write (send_other), whose push holds a short last segment (tcp_out.c
   push_segs). Also the write of a connection with one of the push's rare cases
   (TW_F_SEND_RARE: SACK blocks to carry, a persist timer), whose general push takes
   them (cold: rare, a receiver holding out-of-order data or a sender facing a closed
   window). */
static __attribute__((noinline, cold)) tw_ssize send_corked(tw_socket *s, const void *buf,
                                                            size_t len)
{
    size_t room = s->snd.len < s->sndbuf_cap ? s->sndbuf_cap - s->snd.len : 0;
    size_t n = len < room ? len : room;
    if (n == 0) {
        return send_full(s, buf, len);
    }
    return send_other(s, buf, n, send_dst(s, (uint32_t)n));
}

static int dead_error(const tw_socket *s)
{
    return s->err ? s->err : TW_ERR_NOTCONN;
}

/* tw_socket_send for a clock that moved since the stack's last call (at most once per
   turn of an event loop), the guard asked: the clock moved, then the call made again
   with the stack's clock (`now`, or the later one kept when `now` went backwards, the
   clock the call would have run with). Out of line, as tcp_in.c tw_stack_input's clock
   step: the division that makes now_ms takes rdx:rax, where send's usual call keeps its
   length. */
static __attribute__((noinline)) tw_ssize send_now_moved(tw_socket *s, const void *buf,
                                                         size_t len, tw_time now)
{
    tw_stack_now_moved(s->st, now);
    return tw_socket_send(s, buf, len, s->st->now);
}

/* send's first write of 16 to 128 bytes (tw_copy's in-line sizes) with the block's room
   in the limit and a block on the free list: send_dst's first case, then the copy and,
   from ESTABLISHED on, tw_out_push's sending step and the call's end in one tail call.
   In line at each size's test, so that each copy is made for its size range. */
/* `wide`: 16 to 64 bytes, copied with 32-byte moves (copy_small). */
static inline __attribute__((always_inline)) tw_ssize send_first_usual(tw_socket *s, tw_stack *st,
                                                                      const void *buf, size_t len,
                                                                      bool wide)
{
    assert(s->snd.cap == 0 && s->snd.len == 0 && len - 16 <= 112);
    /* (the guard asked by the caller, and set only before the push, which calls the
       netdev: the block's taking from the free list and the copy call no hook, so a
       write queued in SYN-SENT, which ends here, neither sets nor clears it, as
       ENTER_NOHOOK's calls) */
    assert(st->call_free);
    /* (the ring's parked block, tcp_conn.h tw_conn_rings_kept, else the free list's: the
       caller asked for one of the two) */
    uint8_t *dst = tw_conn_ring_first_block(st, &s->snd);
    if (s->state >= TW_STATE_ESTABLISHED) {
        /* The write TW_SND_HDR_ROOM bytes from the block's front (as a ring that starts
           over, tcp_in.c): its push builds the headers in the free room in front of it
           and hands the packet to the netdev from there, with no copy of the payload
           into st->txbuf (tcp_out.c tw_out_send_first_push_leave, SEG_FRONT). The ring
           holds the same bytes in the same block: its wrap comes later in the block, and
           each ring operation takes any head. */
        /* (the capacity and the head stored together in each branch: one 8-byte store) */
        s->snd.cap = TW_MEM_RING_BLOCK;
        s->snd.head = TW_SND_HDR_ROOM;
        if (wide) {
#if TW_COPY_WIDE
            tw_copy_wide_at(dst, TW_SND_HDR_ROOM, buf, len);
#else
            copy_small(dst + TW_SND_HDR_ROOM, buf, len, true);
#endif
        } else {
            tw_copy(dst + TW_SND_HDR_ROOM, buf, len);
        }
        s->snd.len = (uint32_t)len;
        st->call_free = false;
        return tw_out_send_first_push_leave(s); /* (as send_usual) */
    }
    /* (SYN-SENT's write, queued: at the front, where the held push takes it, tcp_out.c
       SEG_HEAD) */
    s->snd.cap = TW_MEM_RING_BLOCK;
    s->snd.head = 0;
    if (wide) {
        copy_small(dst, buf, len, true);
    } else {
        tw_copy(dst, buf, len);
    }
    s->snd.len = (uint32_t)len;
    /* (the count made a new value here, on this way only: GCC moved it to the return
       register before the state's test, on the push's way too; measured: lifecycle -1
       instr) */
    TW_OPAQUE(len);
    return (tw_ssize)len;
}

/* send's usual write of n bytes, 16 to 128 (tw_copy's in-line sizes), in one piece where
   it goes (send_dst, its tests knowing n's bound), made with no call but tail calls;
   send_other's when it does not fit in one piece. In line as send_first_usual. */
static inline __attribute__((always_inline)) tw_ssize send_usual(tw_socket *s, const void *buf,
                                                                size_t n)
{
    assert(n - 16 <= 112);
    uint8_t *dst = send_dst(s, (uint32_t)n);
    if (__builtin_expect(dst != NULL, 1)) {
        tw_copy(dst, buf, n);
        tw_ring_commit(&s->snd, (uint32_t)n);
        if (s->state >= TW_STATE_ESTABLISHED) {
            /* (new data from ESTABLISHED on: tw_out_push's sending step, no FIN queued,
               then the call's end, in one tail call) */
            return tw_out_send_push_leave(s, buf, n);
        }
        leave(s->st);
        return (tw_ssize)n;
    }
    return send_other(s, buf, n, dst);
}

/* Whether s's send ring has no capacity (a first write's: send_dst), asked of memory
   by an asm GCC cannot see into: with the test in C, GCC loaded the capacity into a
   register of its own for the other writes' steps (send_dst's room), a load and a test
   where a compare of memory does (lifecycle -2 instr: the request's and the response's
   writes; the other writes load it there). */
static inline __attribute__((always_inline)) bool send_ring_bare(const tw_socket *s)
{
#if TW_ASM_X86_FLAGS
    bool bare;
    __asm__("cmpl $0, %1" : "=@ccz"(bare) : "m"(s->snd.cap));
    assert(bare == (s->snd.cap == 0));
    return bare;
#else
    return s->snd.cap == 0;
#endif
}

/* tw_socket_send's usual write, in a state that takes data with no FIN queued, no
   TCP_CORK and none of the push's rare flags (the caller's test). `extras`: a socket
   with an extras block (TW_F_EXTRAS), which send's test of the flags sends here out of
   line (send_open_extras): its first write takes send_usual's way, whose push asks the
   congestion state, rather than send_first_usual's, whose push does not (tcp_out.c
   tw_out_send_first_push_leave: without an extras block no state but Open outlives an
   empty flight). A keepalive socket too (TW_F_KEEPALIVE): its timer shares the wheel
   entry, which the first push's RTO start then need not ask about. `small`: the call
   came through the gate (call_gate, send_gated): the stack may have a socket whose send
   limit is below one ring block (st->sndbuf_small), so the limit is asked before a first
   write takes a whole block, and the copies take 16-byte moves (a traced stack's, or
   one on a machine without AVX2, the same way). */
static inline __attribute__((always_inline)) tw_ssize send_open_as(tw_socket *s,
                                                                  const void *buf,
                                                                  size_t len, bool extras,
                                                                  bool small)
{
    /* The first write of a usual size (a ring without capacity is empty, send_dst)
       with the block's room in the limit (TW_MEM_RING_BLOCK <= sndbuf_cap, so the
       whole write fits: no room to work out, n is len) and a block, the ring's parked
       one (tcp_conn.h tw_conn_rings_kept) or on the free list:
       send_dst's first case, asked first (a request's or a response's write; a
       bulk sender's ring has its block, and goes on below). */
    tw_stack *st = s->st; /* (kept in a register: the copy's stores may be any object's) */
    /* (every limit is at least one block while the stack's flag is clear: the limits
       come from cfg.sndbuf, tw_socket_set_bufsizes and a listener's, each of which
       sets the flag for a smaller one, and auto-tuning only raises them) */
    assert(small || s->sndbuf_cap >= TW_MEM_RING_BLOCK);
    if (__builtin_expect(!extras && send_ring_bare(s) && len - 16 <= 48 &&
                             (!small || TW_MEM_RING_BLOCK <= s->sndbuf_cap) &&
                             (s->snd.buf || st->mem.cache[TW_MC_RING].head),
                         1)) {
        /* (16 to 64 bytes: with 32-byte moves but on the gate's way, `small`, which
           call_gate takes for a machine without them too) */
        return send_first_usual(s, st, buf, len, !small); /* (it sets the guard's flag) */
    }
    /* (more can be queued than a limit the application lowered) */
    size_t room = s->snd.len < s->sndbuf_cap ? s->sndbuf_cap - s->snd.len : 0;
    size_t n = len < room ? len : room; /* (a size_t: the count returned) */
    /* S5: data queued during the handshake leaves with the third segment. The usual
       write (marked expected): 16 to 64 bytes (tw_copy's first in-line form; 65 to 128,
       its second, the same way behind one more test), in one piece
       where it goes, made with no call but tail calls (tw_out_send_push_leave), so that send
       saves no register; every other write is send_other's, and nothing to write
       (no room, or none asked) is asked only outside the usual sizes. */
    if (__builtin_expect(n - 16 > 48, 0)) {
        if (n - 65 <= 63) {
            /* 65 to 128 bytes (a request or answer a little longer): the same two
               ways, each with tw_copy's other in-line form, asked only here so that
               16 to 64 bytes pay no test for them (a first write's n is len: the
               whole block's room, more than 128, is in the limit) */
            if (!extras && s->snd.cap == 0 && (!small || TW_MEM_RING_BLOCK <= s->sndbuf_cap) &&
                (s->snd.buf || st->mem.cache[TW_MC_RING].head)) {
                return send_first_usual(s, st, buf, n, false);
            }
            st->call_free = false;
            return send_usual(s, buf, n);
        }
        st->call_free = false;
        if (n == 0) {
            return send_full(s, buf, len); /* (no room, or none asked) */
        }
        return send_other(s, buf, n, send_dst(s, (uint32_t)n));
    }
    st->call_free = false;
    return send_usual(s, buf, n);
}

static __attribute__((noinline)) tw_ssize send_open_extras(tw_socket *s, const void *buf,
                                                           size_t len)
{
    return send_open_as(s, buf, len, true, true);
}

/* tw_socket_send after its arguments' tests (`small` as send_open_as's): the guard's
   flag asked by the caller, the clock, then the guard's flag on each way that may call a
   hook (send_first_usual's before its push only). */
static inline __attribute__((always_inline)) tw_ssize send_as(tw_socket *s, const void *buf,
                                                             size_t len, tw_time now,
                                                             bool small)
{
    assert(s->st->call_free);
    if (__builtin_expect(now != s->st->now, 0)) {
        return send_now_moved(s, buf, len, now);
    }
    tw_ssize rc;
    /* A state that takes data with no FIN queued and no TCP_CORK, asked first in one
       test of a mask (marked expected); the switch below answers the other cases. */
    static const uint32_t open_states = (1u << TW_STATE_SYN_SENT) |
                                        (1u << TW_STATE_ESTABLISHED) |
                                        (1u << TW_STATE_CLOSE_WAIT);
    bool open;
#if TW_ASM_X86
    /* The state's bit tested in the mask in memory, where GCC loaded the mask into a
       register first on every call; the state loaded by the asm too, so that GCC keeps
       no copy of it for the switch below, which loads it again (lifecycle -2 instr). */
    uint32_t state; /* (the asm's register for it) */
    __asm__("movzbl %[st], %k[state]\n\tbtl %k[state], %[mask]"
            : "=@ccc"(open), [state] "=&r"(state)
            : [st] "m"(s->state), [mask] "m"(open_states));
#else
    open = (open_states >> s->state) & 1u;
#endif
    if (__builtin_expect(open &&
                             !(s->flags & (TW_F_FIN_QUEUED | TW_F_CORK | TW_F_SEND_RARE |
                                           TW_F_EXTRAS | TW_F_KEEPALIVE)),
                         1)) {
        return send_open_as(s, buf, len, false, small);
    }
    s->st->call_free = false;
    switch (s->state) {
    case TW_STATE_SYN_RCVD:
        return send_syn_rcvd(s, buf, len);
    case TW_STATE_SYN_SENT:
    case TW_STATE_ESTABLISHED:
    case TW_STATE_CLOSE_WAIT:
        if (!(s->flags & (TW_F_FIN_QUEUED | TW_F_CORK | TW_F_SEND_RARE))) {
            /* (an extras block or keepalive alone: the usual write, but for its first
               push) */
            s->st->call_free = true;
            return send_open_extras(s, buf, len);
        }
        if (!(s->flags & TW_F_FIN_QUEUED)) {
            /* (TCP_CORK set, or one of the push's rare cases, TW_F_SEND_RARE) */
            return send_corked(s, buf, len);
        }
        rc = TW_ERR_CLOSED; /* (FIN queued) */
        break;
    case TW_STATE_CLOSED:
        rc = (s->flags & TW_F_STARTED) ? dead_error(s) : refuse(s->st, TW_ERR_NOTCONN);
        break;
    case TW_STATE_LISTEN:
        rc = refuse(s->st, TW_ERR_STATE);
        break;
    default:
        rc = TW_ERR_CLOSED; /* our FIN is queued or sent */
        break;
    }
    leave(s->st);
    return rc;
}

/* tw_socket_send through its gate (call_gate): the guard's refusal, else the send
   with its limit asked. Out of line. */
static __attribute__((noinline)) tw_ssize send_gated(tw_socket *s, const void *buf, size_t len,
                                                    tw_time now)
{
    SETTING(s); /* (ENTER's guard) */
    return send_as(s, buf, len, now, true);
}

/* see tcpwave.h */
tw_ssize tw_socket_send(tw_socket *s, const void *buf, size_t len, tw_time now)
{
    if (!buf && len) {
        return s ? refuse(s->st, TW_ERR_INVAL) : TW_ERR_INVAL;
    }
    if (!s) {
        return TW_ERR_INVAL;
    }
    if (__builtin_expect(call_gate(s->st), 0)) {
        return send_gated(s, buf, len, now);
    }
    return send_as(s, buf, len, now, false);
}

/* see tcpwave.h: the call's push corked (TW_F_CORK for its length, as Linux's tcp_push
   with TCP_NAGLE_CORK for MSG_MORE), the socket's own setting back after it. */
tw_ssize tw_socket_send_flags(tw_socket *s, const void *buf, size_t len, unsigned flags,
                              tw_time now)
{
    if (flags & ~TW_MSG_MORE) {
        return s ? refuse(s->st, TW_ERR_INVAL) : TW_ERR_INVAL;
    }
    if (!(flags & TW_MSG_MORE) || !s) {
        return tw_socket_send(s, buf, len, now);
    }
    uint32_t cork = s->flags & TW_F_CORK;
    s->flags |= TW_F_CORK;
    tw_ssize rc = tw_socket_send(s, buf, len, now);
    s->flags = (s->flags & ~TW_F_CORK) | cork;
    return rc;
}

/* After the application read (its read side open: not shut), `space` the receive space
   left (tw_conn_rcv_space): whether to advertise the opened window (RFC 9293 3.8.6.2.2,
   receiver-side silly window avoidance: when it grew by min(half the buffer, one MSS)). */
static inline __attribute__((always_inline)) bool window_update_due_in(const tw_socket *s,
                                                                       uint32_t space)
{
    if (!(s->state == TW_STATE_ESTABLISHED || s->state == TW_STATE_FIN_WAIT_1 ||
          s->state == TW_STATE_FIN_WAIT_2)) {
        return false;
    }
    int32_t open = tw_seq_diff(s->rcv_adv, s->rcv_nxt); /* <= 0: none */
    uint32_t adv = open > 0 ? (uint32_t)open : 0;
    uint32_t most = 65535u << s->rcv_wscale; /* the largest window the field can carry */
    if (space > most) {
        space = most;
    }
    uint32_t mss = tw_conn_local_mss(s);
    uint32_t step = s->rcvbuf_cap / 2 < mss ? s->rcvbuf_cap / 2 : mss;
    /* (space > adv && space - adv >= step in one signed test of their difference and one
       unsigned test: adv < 2^31 and space <= 65535 << 14, so the difference fits) */
    int32_t d = (int32_t)(space - adv);
    return d > 0 && (uint32_t)d >= step;
}

/* window_update_due_in for the whole buffer free (space rcvbuf_cap: the usual read, which
   took everything readable, with the buffer limit not lowered): the same answer with
   fewer steps. With M = min(rcvbuf_cap, the largest window) and step as there, "M - adv
   >= step and > 0" is M - adv >= max(step, 1), that is open <= M - max(step, 1), open
   the signed distance to the window's edge (when <= 0, adv 0: due, as M >= 1 and M >=
   step: step is at most half the buffer and at most a 16-bit MSS, below the largest
   window), in one signed compare. step is 0 only for a buffer of one byte, which
   tw_config.rcvbuf allows: `big` says the caller read 2 bytes or more (the readable
   bytes, at most the buffer: tcp_in.c takes no more than tw_conn_rcv_space, and a
   buffer not lowered never shrinks), so that step >= 1 needs no step of its own. */
static inline __attribute__((always_inline)) bool window_update_due_whole(const tw_socket *s,
                                                                          bool big)
{
    if (!(s->state == TW_STATE_ESTABLISHED || s->state == TW_STATE_FIN_WAIT_1 ||
          s->state == TW_STATE_FIN_WAIT_2)) {
        return false;
    }
    uint32_t space = s->rcvbuf_cap;
    uint32_t most = 65535u << s->rcv_wscale;
    if (space > most) {
        space = most;
    }
    uint32_t mss = tw_conn_local_mss(s);
    uint32_t step = s->rcvbuf_cap / 2 < mss ? s->rcvbuf_cap / 2 : mss;
    if (!big) {
        step += step == 0;
    }
    assert(space >= 1 && space >= step && step >= 1);
    return tw_seq_diff(s->rcv_adv, s->rcv_nxt) <= (int32_t)(space - step);
}

/* A read opened the window by a segment or more (window_update_due): the update's ACK is
   owed (a reply written in this turn carries it), and the receive buffer's auto-tuning
   looks at what was read (tw_rcv_space_adjust: once per round trip it may grow the
   buffer, and so the window this ACK offers). For every read but recv's in-line one of
   16 to 128 bytes (recv_all_read): a bulk receiver's reads are larger. */
static inline __attribute__((always_inline)) void window_opened(tw_socket *s)
{
    if (tw_rcv_space_due(s)) {
        tw_rcv_space_adjust(s);
    }
    tw_out_ack_lazy(s);
}

static bool window_update_due(const tw_socket *s)
{
    return window_update_due_in(s, tw_conn_rcv_space(s)); /* (the read side open) */
}

/* recv's copy of `n` readable bytes that are not in one piece from head: across the
   ring's wrap (two copies), or none at all (a read of 0 bytes, whose buffer may be NULL:
   memcpy must not be given it even for 0 bytes). */
static __attribute__((noinline)) void copy_out_rare(void *buf, const tw_ring *r, uint32_t n)
{
    if (n == 0) {
        return;
    }
    uint32_t to_end = r->cap - r->head;
    tw_copy(buf, r->buf + r->head, to_end);
    tw_copy((uint8_t *)buf + to_end, r->buf, n - to_end);
}

/* recv's read of `n` bytes (1 to rcv.len) in every case: the copy, the bytes consumed,
   the window update. Out of line, for the reads tw_socket_recv does not make in line. */
static __attribute__((noinline)) tw_ssize recv_copy(tw_socket *s, void *buf, uint32_t n)
{
    /* The bytes are copied first: only the socket and the count are kept live across
       the copy's call, and the ring and window work after it has the registers. The
       readable part starts at head (below cap: no wrap test of the position, as
       tw_ring_pieces would make). */
    if (n - 1 < s->rcv.cap - s->rcv.head) {
        tw_copy(buf, s->rcv.buf + s->rcv.head, n);
    } else {
        copy_out_rare(buf, &s->rcv, n);
    }
    if (__builtin_expect(n == s->rcv.len && !(s->flags & TW_F_HOLES), 1)) {
        /* All read, and no out-of-order bytes stored past the readable ones: start over
           at the front, so that the next segments land in one piece instead of
           splitting at the wrap (one in three would in a 4 KiB ring read as fast as
           1448-byte segments arrive). */
        s->rcv.len = 0;
        s->rcv.head = 0;
    } else {
        tw_ring_consume(&s->rcv, n);
    }
    if (window_update_due(s)) {
        window_opened(s);
    }
    return (tw_ssize)n; /* (no leave: ENTER_NOHOOK) */
}

/* tw_socket_recv's usual read of n bytes (all that is readable, in one piece from head)
   when tw_copy would make a call (below 16 or over 128 bytes): the ring's steps, then the
   copy, with the count returned, so that recv's is a tail call and it keeps nothing
   across it. The socket first, as recv has it (rdi on x86-64), the buffer second, as it
   came: with the buffer first, recv moved it to a third register on every call. */
static __attribute__((noinline)) tw_ssize recv_copy_out(tw_socket *s, void *buf, uint32_t n)
{
    const uint8_t *src = s->rcv.buf + s->rcv.head;
    s->rcv.len = 0;
    s->rcv.head = 0;
    tw_copy(buf, src, n);
    return (tw_ssize)n;
}

/* recv_copy_out for a read that opened the window when the receive buffer's auto-tuning
   has something to do (window_opened), its ring's bookkeeping done: the tuning, then
   the copy. */
static __attribute__((noinline)) tw_ssize recv_copy_out_tuned(tw_socket *s, void *buf,
                                                              const uint8_t *src, uint32_t n)
{
    tw_rcv_space_adjust(s);
    tw_copy(buf, src, n);
    return (tw_ssize)n;
}

/* tw_socket_recv's usual read of n bytes (all that is readable, in one piece from head)
   when it opened the window (window_opened, its ACK owed already): the ring's steps,
   then recv_copy_out_tuned when the auto-tuning has something to do, else the copy. */
static __attribute__((noinline)) tw_ssize recv_read_opened(tw_socket *s, void *buf, uint32_t n)
{
    const uint8_t *src = s->rcv.buf + s->rcv.head;
    s->rcv.len = 0;
    s->rcv.head = 0;
    return recv_copy_out_tuned(s, buf, src, n);
}

/* tw_socket_recv's bookkeeping of its usual read (all that was readable, read side open,
   buffer limit not lowered, nothing stored past it), up to the call's end. */
static inline __attribute__((always_inline)) void recv_all_read(tw_socket *s, uint32_t f)
{
    assert(s->rcv.len >= 16 && s->rcv.len <= s->rcvbuf_cap); /* (window_update_due_whole) */
    assert(f == s->flags); /* (the copy in between writes only the caller's buffer) */
    s->rcv.len = 0;
    s->rcv.head = 0;
    /* (no tw_rcv_space_adjust for a read of 16 to 128 bytes: a request's or a response's,
       whose first read after the handshake finds the window opened past the SYN+ACK's
       unscaled 65535; the bytes count at the next larger read, window_opened) */
    /* An ACK already owed by the end of the turn and on the held-ACK list (the data's
       own, held: tcp_in.c ack_soon, third_ack) is sent with the window of its sending
       (tcp_out.c adv_window), so it carries any update this read makes due: the test's
       answer would change nothing (tw_out_ack_lazy sets what is set), and is not asked.
       Both flags: a connection whose held ACK is not queued yet (a read from the notify
       callback inside the segment's steps) is queued by the test's answer as before. */
    if ((f & (TW_F_ACK_LAZY | TW_F_ACK_QUEUED)) != (TW_F_ACK_LAZY | TW_F_ACK_QUEUED) &&
        window_update_due_whole(s, true)) {
        tw_out_ack_lazy(s); /* a reply written in this turn carries the update */
    }
}

/* tw_socket_recv for a clock that moved since the stack's last call, the guard asked:
   the clock moved, then the call made again with the stack's clock, as send_now_moved
   (and for the same reason: the division takes rdx:rax, where recv's usual call keeps
   its capacity, which it otherwise copied to a register of its own on every call). */
static __attribute__((noinline)) tw_ssize recv_now_moved(tw_socket *s, void *buf, size_t cap,
                                                         tw_time now)
{
    tw_stack_now_moved(s->st, now);
    return tw_socket_recv(s, buf, cap, s->st->now);
}

/* tw_socket_recv after its gate (call_gate: the guard asked), `wide` whether its usual
   read of 33 to 64 bytes copies with 32-byte moves (copy_small). */
static inline __attribute__((always_inline)) tw_ssize recv_as(tw_socket *s, void *buf, size_t cap,
                                                             tw_time now, bool wide)
{
    assert(s->st->call_free && (!wide || !s->st->copy_narrow));
    if (__builtin_expect(now != s->st->now, 0)) {
        return recv_now_moved(s, buf, cap, now);
    }
    /* (An empty asm that may change memory: GCC otherwise keeps `now` live in a register
       of its own for the later reads of st->now it knows to equal it, and the usual read
       saved a register; measured: lifecycle +9 instr without it, and as much with an asm
       that may change st->now alone. The stack's pointer, read before it, is read again
       after it where needed.) */
    __asm__("" ::: "memory");
    tw_ssize rc;
    /* (a listener's test goes with the read side's: its ring holds nothing; and the
       usual read's lowered buffer limit's and out-of-order bytes', whose reads are
       recv_copy's, below) */
    uint32_t other = TW_F_SHUT_RD | TW_F_LISTENER | TW_F_BUF_LOWERED | TW_F_HOLES;
    /* Most often the readable bytes start at the ring's front (a read that takes
       everything starts the ring over there, recv_all_read, and so does a fresh ring's
       first segment): the bytes are then in one piece, with no room to the end to work
       out. That usual read (all of 16 to 64 readable bytes, from the front) is asked
       first, its size's test leading: that test tells that there are bytes, and nothing
       of n's working out below is needed when all are read (lifecycle -1 instr; bulk
       +0.7 per KiB, whose larger reads pay the size's test on their way) */
    /* (the ring's head and length in one load, turned so that the length is the low
       half: 16 to 64 in that word is a length of 16 to 64 with the head at 0, one test
       where the length's and the head's took two, the head's a load and a compare of
       its own; lifecycle -2 instr) */
    _Static_assert(offsetof(tw_ring, len) == offsetof(tw_ring, head) + 4,
                   "the ring's head and length side by side");
    uint64_t hl;
    memcpy(&hl, &s->rcv.head, sizeof(hl));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    hl = hl << 32 | hl >> 32; /* (the length low: a rotate) */
#else
    hl = (uint64_t)s->rcv.len | (uint64_t)s->rcv.head << 32;
#endif
    uint32_t len = (uint32_t)hl;
    /* The usual read whose held ACK is queued already (both flags: recv_all_read's
       case that asks no window update), its flags' tests in one: the flags with both
       bits turned, then none of the other ones nor of the two (recv_all_read's flag
       test and the read's other flags' in three steps, where they took five; lifecycle
       -4 instr: the request's and the response's reads). Asked inside the size's and
       the room's tests, so that they are not made again for the read that follows. */
    const uint32_t acked = TW_F_ACK_LAZY | TW_F_ACK_QUEUED;
    if (__builtin_expect(hl - 16 <= 48 && cap >= len, 1)) {
        uint32_t g; /* (s->flags ^ acked) */
#if TW_ASM_X86
        /* (loaded by an asm GCC cannot see into: with f's copy it made a move more) */
        __asm__("movl %1, %0" : "=r"(g) : "m"(s->flags));
#else
        g = s->flags;
#endif
        g ^= acked;
        if (__builtin_expect(!(g & (other | acked)), 1)) {
            assert(s->rcv.head == 0 && len == s->rcv.len && len <= s->rcv.cap);
            assert(len <= s->rcvbuf_cap && !(s->flags & other) && (s->flags & acked) == acked);
            copy_small(buf, s->rcv.buf, len, wide); /* (in line: no call) */
            s->rcv.len = 0;
            s->rcv.head = 0;
            return (tw_ssize)len;
        }
    }
    /* (the flags loaded here, after that read: it asks them by its own load) */
    uint32_t f = s->flags;
    if (__builtin_expect(hl - 16 <= 48 && !(f & other) && cap >= len, 1)) {
        assert(s->rcv.head == 0 && len == s->rcv.len);
        assert(len <= s->rcv.cap);
        tw_copy(buf, s->rcv.buf, len); /* (in line: no call) */
        recv_all_read(s, f);
        return (tw_ssize)len;
    }
    /* (the length as loaded above, in a register: the end of stream's test then reads
       nothing) */
    if (__builtin_expect(len > 0 && !(f & other), 1)) {
        size_t avail; /* (at most 2^32 - 1: a size_t, as cap is, for their compare) */
#if TW_ASM_X86
        /* The readable count loaded again, by an asm GCC cannot see into: with `len`
           used here too, GCC loaded it into a register of its own and copied it to the
           return register on the usual read above, on every call (lifecycle -2 instr;
           an empty asm over `len` or `s` kept the copy or cost bulk reads a load). */
        __asm__("movl %1, %k0" : "=r"(avail) : "m"(s->rcv.len)); /* (zero-extends) */
#else
        avail = s->rcv.len;
#endif
        uint32_t n = (uint32_t)(cap < avail ? cap : avail);
        /* The usual read: the buffer limit not lowered (asked above: the space left is
           then the whole buffer, tw_conn_rcv_space), everything readable, in one piece
           from head, nothing stored past it (recv_copy's first case: the ring starts
           over at its front). The copy first when tw_copy makes it in line (16 to 64
           bytes, marked expected; 65 to 128, after it), else
           last, after the call's end (the copy calls no hook), as a tail call: recv then
           keeps nothing across a call and saves no register. Every other read is
           recv_copy's. */
        /* (16 to 64 bytes from the ring's front, all read: taken above) */
        bool usual = cap >= avail && n <= s->rcv.cap - s->rcv.head; /* (n is avail) */
        if (usual) {
            /* (16 to 128 bytes in one test, then 16 to 64 among them: a bulk read,
               larger, pays the one test, as when GCC knew from the size's test above,
               which the asm's count no longer tells it, that it was not 16 to 64) */
            if (n - 16 <= 112) {
                if (__builtin_expect(n - 16 <= 48, 1)) {
                    tw_copy(buf, s->rcv.buf + s->rcv.head, n); /* (in line: no call) */
                    recv_all_read(s, f);
                    return (tw_ssize)n;
                }
                /* 65 to 128 bytes (a request or answer a little longer): as 16 to 64
                   above, with tw_copy's other in-line form */
                tw_copy(buf, s->rcv.buf + s->rcv.head, n); /* (in line: no call) */
                recv_all_read(s, f);
                return (tw_ssize)n;
            }
            /* recv_all_read's steps with the window's test first (it does not read the
               ring: the space left is the whole buffer), and the bytes' place read after
               it, so that fewer values are live across it: with the place read first,
               recv saved a register on its usual path too (lifecycle +7 instr); out of
               line behind a call of its own, each read of a bulk transfer cost 6.5 more
               (bulk +4.3 per KiB). The empty asm makes s a new value for GCC, which
               otherwise takes the place computed for the in-line copy, before the
               branch, as the same (lifecycle -4 instr, bulk -1.1 per KiB). */
            if (window_update_due_whole(s, false)) {
                tw_out_ack_lazy(s); /* a reply written in this turn carries the update */
                if (__builtin_expect(tw_rcv_space_due(s), 0)) {
                    /* (window_opened's auto-tuning, with the ring's steps and the copy,
                       behind a tail call of three arguments as recv_copy_out's: recv
                       then makes no call it returns from, and keeps no more values
                       live) */
                    return recv_read_opened(s, buf, n);
                }
            }
            return recv_copy_out(s, buf, n);
        }
        return recv_copy(s, buf, n);
    } else if (len > 0 && !(f & TW_F_LISTENER)) {
        /* (data to read, the buffer limit lowered: tw_conn_rcv_space's other case; or
           out-of-order bytes stored past it, TW_F_HOLES; or a read side shut that keeps
           receiving, the only one with data: shut_rd) */
        return recv_copy(s, buf, cap < s->rcv.len ? (uint32_t)cap : s->rcv.len);
    } else if ((f & TW_F_PEER_FIN) || (f & TW_F_SHUT_RD)) {
        /* The sticky error if there is one (it goes before the end of stream, as in
           the test of it below), else 0, S11: end of stream. The usual end of stream
           then makes no test of the error: one load returned (measured: lifecycle -3
           instr). Asked before the listener's test, which it then does not pay
           (lifecycle -2 instr): a listener has neither flag (listen takes a fresh
           socket; no segment reaches a listener's connection steps, and its
           shutdown(SHUT_RD) stops it being one, shutdown_listener). */
        assert(!(f & TW_F_LISTENER));
        rc = s->err;
    } else if (f & TW_F_LISTENER) {
        rc = refuse(s->st, TW_ERR_STATE);
    } else if (s->err) {
        rc = s->err;
    } else if (fresh(s)) {
        rc = refuse(s->st, TW_ERR_NOTCONN);
    } else if (s->state == TW_STATE_CLOSED) {
        rc = 0;
    } else {
        rc = TW_ERR_AGAIN;
    }
    return rc;
}

/* tw_socket_recv through its gate (call_gate): the guard's refusal, else the read with
   16-byte moves. Out of line. */
static __attribute__((noinline)) tw_ssize recv_gated(tw_socket *s, void *buf, size_t cap,
                                                    tw_time now)
{
    SETTING(s); /* (ENTER_NOHOOK's guard) */
    return recv_as(s, buf, cap, now, false);
}

/* see tcpwave.h */
tw_ssize tw_socket_recv(tw_socket *s, void *buf, size_t cap, tw_time now)
{
    if (!buf && cap) {
        return s ? refuse(s->st, TW_ERR_INVAL) : TW_ERR_INVAL;
    }
    /* (no hook: the copy, the ring's bookkeeping, and the window update's ACK queued for
       the end of the turn, tw_out_ack_lazy; the guard asked in the gate, with the other
       rare bytes, recv_gated taking ENTER_NOHOOK's steps, its clock out of line) */
    if (!s) {
        return TW_ERR_INVAL;
    }
    if (__builtin_expect(call_gate(s->st), 0)) {
        return recv_gated(s, buf, cap, now);
    }
    return recv_as(s, buf, cap, now, true);
}

size_t tw_socket_rx_pending(const tw_socket *s)
{
    return s ? s->rcv.len : 0; /* (a read side shut keeps data only when it reads on) */
}

size_t tw_socket_tx_pending(const tw_socket *s)
{
    return s ? s->snd.len : 0;
}

/* Inline in close() and shutdown(): out of line it costs close() a call and its saves. */
static inline __attribute__((always_inline)) void queue_fin(tw_socket *s)
{
    if (s->flags & TW_F_FIN_QUEUED) {
        return;
    }
    switch (s->state) {
    case TW_STATE_SYN_SENT:
        s->flags |= TW_F_FIN_QUEUED; /* sent when the handshake completes */
        break;
    case TW_STATE_SYN_RCVD:
        s->flags |= TW_F_FIN_QUEUED;
        /* RFC 9293 3.10.4 (CLOSE, SYN-RECEIVED): with nothing to send, the FIN goes now
           and FIN-WAIT-1 follows, as Linux's tcp_close_state does; otherwise it waits
           for ESTABLISHED behind the data. */
        if (s->snd.len == 0) {
            tw_conn_fin_syn_rcvd(s);
        }
        break;
    case TW_STATE_ESTABLISHED:
        s->flags |= TW_F_FIN_QUEUED;
        tw_conn_set_state(s, TW_STATE_FIN_WAIT_1); /* S10 */
        tw_out_push(s);
        break;
    case TW_STATE_CLOSE_WAIT:
        s->flags |= TW_F_FIN_QUEUED;
        tw_conn_set_state(s, TW_STATE_LAST_ACK); /* S13 */
        tw_out_push(s);
        break;
    default:
        break;
    }
}

static void shutdown_listener(tw_socket *l, int how);

/* see tcpwave.h */
/* shutdown() in SYN-SENT, any `how`, with nothing queued to send: the attempt is given
   up, nothing sent. RFC 9293 3.10.4 (CLOSE, SYN-SENT STATE): "Delete the TCB and return
   'error: closing' responses to any queued SENDs, or RECEIVEs"; Linux's inet_shutdown
   does the same (TCP_SYN_SENT: tcp_disconnect, no segment, SO_ERROR ECONNRESET, the
   socket unconnected: connect() may start again, connect_renew_failed). tcpwave queued
   a FIN behind the handshake instead: a peer then saw a connection opened and
   half-closed that the application had given up before it existed. With data queued
   (S5: tcpwave lets send() queue during the handshake, which Linux's does not, but for
   TCP Fast Open) the FIN is still queued behind it, as RFC 9293 3.10.4 does for CLOSE in
   SYN-RECEIVED with data pending ("queue for processing after entering ESTABLISHED
   state"): the application asked for its bytes to go, then the FIN. Out of line:
   rare. */
static __attribute__((noinline)) void shutdown_syn_sent(tw_socket *s)
{
    s->flags &= ~TW_F_FIN_QUEUED;
    tw_conn_done(s, TW_ERR_RESET);
}

static void shut_rd(tw_socket *s);

int tw_socket_shutdown(tw_socket *s, int how, tw_time now)
{
    if (how < TW_SHUT_RD || how > TW_SHUT_RDWR) {
        return s ? refuse(s->st, TW_ERR_INVAL) : TW_ERR_INVAL;
    }
    ENTER(s, now);
    int rc = 0;
    if (s->flags & TW_F_LISTENER) {
        shutdown_listener(s, how);
    } else if (s->state == TW_STATE_CLOSED) {
        rc = refuse(s->st, TW_ERR_NOTCONN);
    } else if (__builtin_expect(s->state == TW_STATE_SYN_SENT && s->snd.len == 0, 0)) {
        shutdown_syn_sent(s);
    } else {
        if (how & TW_SHUT_RD) {
            shut_rd(s);
        }
        if (how & TW_SHUT_WR) {
            queue_fin(s);
        }
    }
    leave(s->st);
    return rc;
}

/* shutdown(SHUT_RD), as Linux's: what is queued stays readable, what arrives is received
   as before, and a read with nothing queued returns 0 at once (tw_sock_opts.rd_keep,
   tcp_in.c shut_rd_text; checked against Linux 6.18 over TUN: data queued before and
   after the shutdown read, then 0, then data that came later). No settings block to
   note it in (out of memory): the old way, the queue dropped and what arrives discarded.
   RFC 9293 has no half-closed receive side; POSIX: "further receptions disallowed". */
static __attribute__((noinline, cold)) void shut_rd(tw_socket *s)
{
    s->flags |= TW_F_SHUT_RD;
    tw_sock_opts *o = tw_conn_opts_get(s);
    if (o) {
        o->rd_keep = true;
    } else {
        s->rcv.len = 0;
    }
}

static bool synchronized(const tw_socket *s)
{
    return s->state >= TW_STATE_SYN_RCVD && s->state != TW_STATE_TIME_WAIT;
}

/* RFC 9293 3.10.5 ABORT: a RST <SEQ=SND.NXT> in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1,
   FIN-WAIT-2 and CLOSE-WAIT; in CLOSING, LAST-ACK and TIME-WAIT only "delete the TCB"
   (the peer has closed its side and we ours: nothing of theirs is lost). Linux's
   tcp_disconnect for SO_LINGER 0 alike (tcp_need_reset); checked against Linux 6.18
   over TUN (scripts conf/linger0_closing, conf/linger0_last_ack). Unread data is lost
   data whatever the state (RFC 1122 4.2.2.13): close() resets then even in these. */
static bool abort_sends_rst(const tw_socket *s)
{
    return s->state != TW_STATE_CLOSING && s->state != TW_STATE_LAST_ACK;
}

static void abort_conn(tw_socket *s, bool send_rst)
{
    tw_stack *st = s->st;
    if (send_rst && synchronized(s)) {
        tw_out_rst_conn(s);
    }
    tw_count(st, TW_CNT_TCP_CONN_ABORTED);
    s->flags |= TW_F_ORPHAN;
    st->orphan_room--; /* (one orphan more) */
    tw_conn_done(s, TW_ERR_ABORTED); /* frees it: the handle is gone */
}

static bool is_child_of(const tw_socket *c, const tw_socket *l)
{
    /* (the table's half-open entries, stack.h conns, are no children: their listener
       freed its own before this walk, tw_req_close_listener) */
    return !tw_hnode_is_req(&c->h) && (c->flags & TW_F_CHILD) &&
           c->lport == l->lport; /* (tw_conn_listener) */
}

/* RFC 9293 3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST>, with the ACK as every other reset of a
   connection (tw_out_rst_conn), a Fast Open child in SYN-RECEIVED included: Linux's
   inet_child_forget -> tcp_disconnect -> tcp_send_active_reset sends RST+ACK for it too
   (6.18: R. 1:1(0) ack 11, tests/oracle/t_tfo_listener_close.py). */
static void abort_child(tw_stack *st, tw_socket *c)
{
    tw_out_rst_conn(c);
    tw_count(st, TW_CNT_TCP_CONN_ABORTED);
    /* (tw_conn_done's steps for a child nobody accepted, freed here even when Fast Open
       opened it: tw_conn_done would keep that one in the queue of a listener that goes) */
    tw_conn_set_state(c, TW_STATE_CLOSED);
    tw_conn_free(c);
}

/* x was made before y: ids grow by one per connection made (serial order: they wrap). */
static bool older(const tw_socket *x, const tw_socket *y)
{
    return (int32_t)(x->id - y->id) < 0;
}

/* Heapsort, newest first (the core links no qsort). */
static void sort_newest_first(tw_socket **v, size_t n)
{
    for (size_t end = n, start = n / 2;;) {
        size_t root;
        if (start > 0) {
            root = --start; /* building the heap (the oldest on top) */
        } else if (end > 1) {
            tw_socket *t = v[0]; /* the oldest goes to the back */
            v[0] = v[--end];
            v[end] = t;
            root = 0;
        } else {
            return;
        }
        for (size_t child; (child = 2 * root + 1) < end; root = child) {
            if (child + 1 < end && older(v[child + 1], v[child])) {
                child++;
            }
            if (!older(v[child], v[root])) {
                break;
            }
            tw_socket *t = v[root];
            v[root] = v[child];
            v[child] = t;
        }
    }
}

/* A listener stops listening: its half-open entries and the connections nobody accepted
   are reset (as Linux's inet_csk_listen_stop). It is still the port's listener. */
static void listener_stop(tw_socket *l)
{
    tw_stack *st = l->st;
    tw_req_close_listener(l);
    /* Fast Open children that ended before accept(), CLOSED in the accept queue
       (tcp_conn.c done_tfo_child): no longer hashed, so not in the walk below. */
    for (tw_socket *c = l->acc_head, *next; c; c = next) {
        next = c->q_next;
        if (c->state == TW_STATE_CLOSED) {
            tw_conn_free(c);
        }
    }
    /* Connections nobody accepted are reset, as Linux does when a listener closes,
       newest first. They are all hashed (a child is hashed when made, and freed when it
       ends before accept()). */
    size_t n = 0;
    tw_port *p = tw_port_get(st, l->lport);
    for (size_t i = 0; i <= st->conns.mask; i++) {
        for (tw_hnode *h = st->conns.b[i]; h; h = h->next) {
            tw_socket *c = (tw_socket *)h;
            if (tw_hnode_is_req(h)) {
                continue; /* (another listener's half-open entry) */
            }
            n += is_child_of(c, l);
            /* An accepted child, which its listener held the port for (tcp_in.c
               new_child), is one of the port's owners from now on, with its
               SO_REUSEADDR (as in Linux's bind bucket): bind() then asks the counts
               alone (bind_shared). (This walk is the one listener_stop makes anyway.) */
            if ((c->flags & (TW_F_PASSIVE | TW_F_BOUND | TW_F_CHILD)) == TW_F_PASSIVE &&
                c->lport == l->lport) {
                c->flags |= TW_F_BOUND;
                p->nbound++;
                p->nreuse += (c->flags & TW_F_REUSE) ? 1u : 0u;
            }
        }
    }
    tw_socket **v = n ? tw_mem_alloc(&st->mem, n * sizeof(*v)) : NULL;
    if (v) {
        size_t k = 0;
        for (size_t i = 0; i <= st->conns.mask; i++) {
            for (tw_hnode *h = st->conns.b[i]; h; h = h->next) {
                if (is_child_of((tw_socket *)h, l)) {
                    v[k++] = (tw_socket *)h;
                }
            }
        }
        sort_newest_first(v, n);
        for (size_t k2 = 0; k2 < n; k2++) {
            abort_child(st, v[k2]);
        }
        tw_mem_free(&st->mem, v, n * sizeof(*v));
    } else if (n) {
        /* Out of memory for the list: the same resets in the table's order (it does not
           shrink while it is walked). */
        bool fixed = st->conns.fixed;
        tw_htab_set_fixed(&st->conns, true);
        for (size_t i = 0; i <= st->conns.mask; i++) {
            for (tw_hnode *h = st->conns.b[i], *next; h; h = next) {
                next = h->next;
                if (is_child_of((tw_socket *)h, l)) {
                    abort_child(st, (tw_socket *)h);
                }
            }
        }
        tw_htab_set_fixed(&st->conns, fixed);
    }
    tw_conn_set_state(l, TW_STATE_CLOSED);
}

static void close_listener(tw_socket *l)
{
    listener_stop(l);
    tw_conn_free(l);
}

/* shutdown() on a listener, as Linux's inet_shutdown: TW_SHUT_WR does nothing; with
   TW_SHUT_RD it stops listening (listener_stop; a thread blocked in accept() is woken to
   EINVAL there) and is a fresh socket again, still bound to its port: it may listen or
   connect anew. */
static __attribute__((noinline)) void shutdown_listener(tw_socket *l, int how)
{
    if (!(how & TW_SHUT_RD)) {
        return;
    }
    listener_stop(l);
    assert(tw_port_listener(l->st, l->lport) == l);
    tw_port_unlisten(l->st, l->lport);
    l->flags &= ~TW_F_LISTENER;
    memset(&l->cc, 0, sizeof(l->cc)); /* (the listener's fields shared cc's room) */
}

/* close() of a connection that still sends: the application lets go (the stack owns the
   orphan from here, R7) and our FIN is queued behind the data. */
static inline __attribute__((always_inline)) void orphan_with_fin(tw_socket *s)
{
    s->flags |= TW_F_ORPHAN | TW_F_SHUT_RD;
    s->st->orphan_room--; /* (one orphan more) */
    queue_fin(s);
}

/* The usual close, asked in one go: an open connection (ESTABLISHED or CLOSE-WAIT) with
   no FIN queued, nothing unread, no SO_LINGER 0, under the orphan limit; it is the last
   branch of close_other's chain (orphan_with_fin's case for these two states, S10 and
   S13). */
/* (`taken`: the caller has counted s as an orphan already, tw_socket_close's asserting) */
static inline __attribute__((always_inline)) bool close_usual_as(const tw_socket *s, size_t taken)
{
    const tw_stack *st = s->st;
    return ((1u << s->state) & ((1u << TW_STATE_ESTABLISHED) | (1u << TW_STATE_CLOSE_WAIT))) &&
           !(s->flags & (TW_F_LISTENER | TW_F_FIN_QUEUED)) && !tw_conn_linger0(s) &&
           s->rcv.len == 0 &&
           !(st->cfg.max_orphans && tw_stack_orphans(st) - taken >= st->cfg.max_orphans);
}
static inline __attribute__((always_inline)) bool close_usual(const tw_socket *s)
{
    return close_usual_as(s, 0);
}

/* close in every case after its guard, to the call's end. Out of line: tw_socket_close
   makes its usual case in line, and tail-calls this for the others. */
static __attribute__((noinline)) int close_other(tw_socket *s)
{
    tw_stack *st = s->st;
    if (close_usual(s)) {
        s->flags |= TW_F_ORPHAN | TW_F_SHUT_RD | TW_F_FIN_QUEUED;
        st->orphan_room--; /* (one orphan more) */
        tw_conn_set_state(s, s->state == TW_STATE_ESTABLISHED ? TW_STATE_FIN_WAIT_1
                                                              : TW_STATE_LAST_ACK);
        tw_out_push_now(s); /* (a FIN queued: tw_out_push's sending step) */
    } else if (s->flags & TW_F_LISTENER) {
        close_listener(s);
    } else if (s->state == TW_STATE_CLOSED) {
        tw_conn_free(s);
    } else if (s->state == TW_STATE_SYN_SENT) {
        /* RFC 9293 3.10.4: CLOSE in SYN-SENT deletes the TCB; nothing to tell the peer. */
        s->flags |= TW_F_ORPHAN;
        st->orphan_room--; /* (one orphan more) */
        tw_conn_done(s, 0);
    } else if (s->rcv.len > 0 || tw_conn_linger0(s)) {
        /* R4: closing with unread data (or SO_LINGER 0) loses data: say so with RST
           (SO_LINGER 0 alone is RFC 9293's ABORT: none in CLOSING or LAST-ACK). */
        abort_conn(s, s->rcv.len > 0 || abort_sends_rst(s));
    } else if (s->state == TW_STATE_TIME_WAIT) {
        s->flags |= TW_F_ORPHAN;
        st->orphan_room--; /* (one orphan more) */
        if (!tw_timewait_enter(s)) {
            tw_conn_done(s, 0);
        }
    } else if (st->cfg.max_orphans && tw_stack_orphans(st) >= st->cfg.max_orphans) {
        tw_count(st, TW_CNT_TCP_LIMIT_ORPHANS);
        abort_conn(s, true);
    } else {
        orphan_with_fin(s);
        if (s->state == TW_STATE_FIN_WAIT_2) {
            s->misc_at = tw_time_add(st->now, st->cfg.fin_timeout); /* R7 */
            tw_conn_timer_update(s);
        }
    }
    leave(st);
    return 0;
}

/* see tcpwave.h */
int tw_socket_close(tw_socket *s, tw_time now)
{
    ENTER(s, now);
    /* The usual close (close_usual) when nothing traces, made here with no call but tail
       calls, so that close saves no register (marked expected); close_other otherwise
       (also for a socket with extras, which may hold SO_LINGER 0: tw_conn_linger0).
       The orphan limit and the trace hook's test in one, the orphan's count taken with
       it (stack.h orphan_room, tw_stack_orphan_take); the rest of close_usual's. The
       flags of tw_out_push_now_leave's rare cases (a D-SACK or out-of-order data to
       report, a persist timer running) are asked here too, in the same test of the
       flags, rather than there again after it: close_other takes those (its push takes
       every case). A keepalive socket too: its timer shares the wheel entry, which the
       idle FIN's RTO start then need not ask about (tcp_out.c push_fin_leave). */
    const tw_stack *st = s->st;
    /* The next state by a table, which answers 0 (CLOSED) for a state other than the two
       of the usual close: one load for both the state's test and its next (the choice of
       two took four steps, the state's own test by a mask three more). The stack's copy
       (stack.h close_next), read off the stack's address, which close has in a register:
       a static table's address took one more step (lifecycle -2 instr). */
    assert(s->state < TW_STATE_COUNT_);
    unsigned next = st->close_next[s->state];
    if (__builtin_expect(next != 0 &&
                             !(s->flags & (TW_F_LISTENER | TW_F_EXTRAS | TW_F_FIN_QUEUED |
                                           TW_F_DSACK | TW_F_HOLES | TW_F_PERSIST |
                                           TW_F_KEEPALIVE)) &&
                             s->rcv.len == 0 && tw_stack_orphan_take(s->st),
                         1)) {
        assert(close_usual_as(s, 1) && !st->cfg.trace);
        s->flags |= TW_F_ORPHAN | TW_F_SHUT_RD | TW_F_FIN_QUEUED;
        /* (tw_conn_set_state_untraced's steps: neither state counts anything) */
        assert(next == TW_STATE_FIN_WAIT_1 || next == TW_STATE_LAST_ACK);
        assert(tw_conn_edge_legal((tw_state)s->state, (tw_state)next));
        s->state = (uint8_t)next;
        /* tw_out_push's sending step (a FIN queued), then the call's end: a tail call */
        return tw_out_push_now_leave(s);
    }
    return close_other(s);
}

/* see tcpwave.h */
int tw_socket_abort(tw_socket *s, tw_time now)
{
    ENTER(s, now);
    tw_stack *st = s->st;
    if (s->flags & TW_F_LISTENER) {
        close_listener(s);
    } else if (s->state == TW_STATE_CLOSED) {
        tw_conn_free(s);
    } else {
        abort_conn(s, abort_sends_rst(s));
    }
    leave(st);
    return 0;
}

int tw_socket_set_linger0(tw_socket *s, bool on)
{
    SETTING(s);
    if (on && !tw_conn_opts_get(s)) {
        return TW_ERR_NOMEM;
    }
    if (s->opts) {
        s->opts->linger0 = on;
    }
    return 0;
}

int tw_socket_set_bufsizes(tw_socket *s, uint32_t rcvbuf, uint32_t sndbuf)
{
    SETTING(s);
    if ((rcvbuf && (rcvbuf < 1024 || rcvbuf > (16u << 20))) ||
        (sndbuf && (sndbuf < 1024 || sndbuf > (16u << 20)))) {
        return refuse(s->st, TW_ERR_INVAL);
    }
    /* Before connect or listen the sizes also choose the window scale offered. On a
       listener they apply to the connections it takes from then on, with the scale
       listen() chose: half-open entries were offered that one. On a connection (Linux
       allows it too) they are the new limits: nothing held is dropped, queued data
       waits until it drains below the send limit, and the receive window shrinks only
       as data comes in, never taking back what was advertised (RFC 9293 3.8.6.2.2;
       the window scale, fixed by the handshake, may cap a larger buffer's window). */
    /* A buffer set is fixed: auto-tuning leaves it alone from now on, as Linux's
       SO_RCVBUF / SO_SNDBUF set SOCK_RCVBUF_LOCK / SOCK_SNDBUF_LOCK (a listener's
       children copy the mark with its other settings, tcp_in.c new_child). The mark
       lives in the socket's settings block, made here if need be (only while that
       buffer's auto-tuning is on: otherwise nothing would grow it anyway). */
    unsigned lock = (rcvbuf && !s->st->cfg.no_moderate_rcvbuf ? TW_BUF_LOCK_RCV : 0) |
                    (sndbuf && !s->st->cfg.no_sndbuf_expand ? TW_BUF_LOCK_SND : 0);
    if (lock) {
        tw_sock_opts *o = tw_conn_opts_get(s);
        if (!o) {
            return TW_ERR_NOMEM;
        }
        o->buf_lock = (uint8_t)(o->buf_lock | lock);
        if (lock & TW_BUF_LOCK_RCV) {
            o->rcvq_next = TW_TIME_NEVER; /* (tw_rcv_space_adjust has nothing to do) */
        }
    }
    if (!fresh(s) && !(s->flags & TW_F_LISTENER) &&
        ((rcvbuf && rcvbuf < s->rcvbuf_cap) || (sndbuf && sndbuf < s->sndbuf_cap))) {
        s->flags |= TW_F_BUF_LOWERED; /* (for good: the usual paths then ask the slow way) */
    }
    if (sndbuf) {
        s->sndbuf_cap = sndbuf;
        if (sndbuf < TW_MEM_RING_BLOCK) {
            s->st->sndbuf_small = true; /* (for good: socket.c call_gate) */
        }
    }
    if (rcvbuf) {
        s->rcvbuf_cap = rcvbuf;
        if (rcvbuf <= 65535u) {
            /* (for good: a connect's SYN window is then not taken as the field's largest,
               stack.h connect_plain_below) */
            tw_stack_connect_plain_set(s->st, 0);
        }
        if (s->flags & TW_F_LISTENER) {
            tw_listener_syn_wnd_set(s, rcvbuf); /* (the next SYN's: tcp_conn.h) */
        } else if (fresh(s)) {
            fresh_wscale_set(s); /* (the scale connect offers: its buffer's, and lock's) */
        }
    }
    return 0;
}

int tw_socket_set_mss(tw_socket *s, uint16_t mss)
{
    SETTING(s);
    /* On a listener too, as Linux allows: the connections it takes from then on announce
       and use it (each copies the listener's at its SYN, tcp_in.c new_child). */
    if (!fresh(s) && !(s->flags & TW_F_LISTENER)) {
        return refuse(s->st, TW_ERR_STATE);
    }
    if (mss && mss < 88) {
        /* Linux's TCP_MIN_MSS for TCP_MAXSEG (1..87 refused with EINVAL, 0 taken as
           unset; checked on Linux 6.18) */
        return refuse(s->st, TW_ERR_INVAL);
    }
    s->local_mss = tw_conn_mss_for(s->st, mss);
    if (!(s->flags & TW_F_LISTENER) && s->local_mss != tw_conn_mss_for(s->st, 0)) {
        /* (for good: a connect's SYN then makes its MSS word, stack.h
           connect_plain_below) */
        tw_stack_connect_plain_set(s->st, 0);
    }
    if (s->flags & TW_F_LISTENER) {
        tw_listener_mss_set(s); /* (the next SYN+ACK's: tcp_conn.h) */
    }
    return 0;
}

/* see tcpwave.h */
int tw_socket_set_nodelay(tw_socket *s, bool on)
{
    SETTING(s);
    s->flags = on ? s->flags | TW_F_NODELAY : s->flags & ~TW_F_NODELAY;
    if (on && s->state >= TW_STATE_ESTABLISHED) {
        /* Like Linux: setting TCP_NODELAY sends what Nagle held, and once what TCP_CORK
           holds too (its TCP_NAGLE_PUSH; the cork stays for what follows: checked
           against Linux 6.18 over TUN, d04_cork_nodelay_set.pkt). */
        uint32_t cork = s->flags & TW_F_CORK;
        s->flags &= ~TW_F_CORK;
        s->st->call_free = false;
        tw_out_push(s);
        s->st->call_free = true;
        s->flags |= cork;
    }
    return 0;
}

/* see tcpwave.h */
int tw_socket_set_cork(tw_socket *s, bool on)
{
    SETTING(s);
    if (on) {
        s->flags |= TW_F_CORK;
        return 0;
    }
    s->flags &= ~TW_F_CORK;
    if (s->state >= TW_STATE_ESTABLISHED) {
        s->st->call_free = false;
        tw_out_push(s); /* like Linux's uncork: what waits goes, as Nagle allows */
        s->st->call_free = true;
    }
    return 0;
}

/* see tcpwave.h */
int tw_socket_set_keepalive(tw_socket *s, bool on, tw_time idle, tw_time intvl, uint8_t probes)
{
    SETTING(s);
    const tw_config *cfg = &s->st->cfg;
    idle = idle ? idle : cfg->keepalive_idle;
    intvl = intvl ? intvl : cfg->keepalive_intvl;
    probes = probes ? probes : cfg->keepalive_probes;
    bool dflt = idle == cfg->keepalive_idle && intvl == cfg->keepalive_intvl &&
                probes == cfg->keepalive_probes;
    if (!dflt && !tw_conn_opts_get(s)) {
        return TW_ERR_NOMEM;
    }
    s->flags = on ? s->flags | TW_F_KEEPALIVE : s->flags & ~TW_F_KEEPALIVE;
    if (s->opts) {
        s->opts->ka_idle = idle;
        s->opts->ka_intvl = intvl;
        s->opts->ka_probes = probes;
    }
    if (s->state >= TW_STATE_ESTABLISHED) {
        tw_keepalive_reset(s);
        tw_conn_timer_update(s);
    }
    return 0;
}

/* see tcpwave.h */
int tw_socket_set_tos(tw_socket *s, uint8_t tos)
{
    SETTING(s);
    tw_sock_opts *o = tw_conn_opts_get(s);
    if (!o) {
        return TW_ERR_NOMEM;
    }
    /* RFC 9293 3.9.1.9 MUST-48, SHLD-21: per connection, at any time; the packets take
       it as they leave (stack.c ip_fields_xmit), so the usual path pays nothing. */
    o->tos = (uint8_t)(tos & 0xfcu);
    o->tos_set = true;
    s->st->tos_socks = true;
    tw_stack_ip_fields_use(s->st);
    return TW_OK;
}

/* see tcpwave.h */
int tw_socket_set_user_timeout(tw_socket *s, tw_time timeout)
{
    SETTING(s);
    if (timeout && !tw_conn_opts_get(s)) {
        return TW_ERR_NOMEM;
    }
    if (s->opts) {
        s->opts->user_timeout = timeout;
    }
    return 0;
}

/* see tcpwave.h */
int tw_socket_set_cc(tw_socket *s, tw_cc_algo algo)
{
    SETTING(s);
    if (algo != TW_CC_CUBIC && algo != TW_CC_NEWRENO) {
        return refuse(s->st, TW_ERR_INVAL);
    }
    if ((s->flags & TW_F_CC_NEWRENO) != tw_cc_flag(algo)) {
        s->flags = (s->flags & ~TW_F_CC_NEWRENO) | tw_cc_flag(algo);
        if (!(s->flags & TW_F_LISTENER)) { /* a listener's fields share cc's room */
            memset(&s->cc, 0, sizeof(s->cc));
        }
    }
    return 0;
}

/* see tcpwave.h */
unsigned tw_socket_events(const tw_socket *s)
{
    /* (marked unexpected: GCC otherwise set the 0 before the test, on the usual way
       too; with tcp_conn.h's writable bit: measured lifecycle -1 instr) */
    if (__builtin_expect(!s, 0)) {
        return 0;
    }
#if TW_ASM_X86_FLAGS
    /* tw_conn_events_nonlistener's first case (ESTABLISHED, no FIN either way, no
       shutdown: an application's usual look) asked here with the state and the flags
       compared in memory, by asms GCC cannot see into: with the tests in C, GCC loaded
       each into a register of its own for tw_conn_events' other cases, a load more for
       each (lifecycle -2 instr). The mask as that case makes it. */
    bool est, quiet;
    __asm__("cmpb %2, %1" : "=@ccz"(est) : "m"(s->state), "i"(TW_STATE_ESTABLISHED));
    if (__builtin_expect(est, 1)) {
        __asm__("testl %2, %1"
                : "=@ccz"(quiet)
                : "m"(s->flags), "i"(TW_F_PEER_FIN | TW_F_SHUT_RD | TW_F_FIN_QUEUED));
        if (__builtin_expect(quiet, 1)) {
            unsigned ev = TW_EV_CONNECTED + (unsigned)(s->rcv.len != 0) +
                          ((0u - (unsigned)(s->snd.len < s->sndbuf_cap)) & 2u);
            assert(ev == tw_conn_events(s));
            return ev;
        }
    }
#endif
    return tw_conn_events(s);
}

int tw_socket_error(const tw_socket *s)
{
    return s ? s->err : TW_ERR_INVAL;
}

tw_state tw_socket_state(const tw_socket *s)
{
    return s ? (tw_state)s->state : TW_STATE_CLOSED;
}

/* (A child not yet accepted, seen through a trace event, has no user pointer yet: its
   room holds the accept queue's link.) */
void tw_socket_set_user(tw_socket *s, void *user)
{
    if (s && !(s->flags & TW_F_CHILD)) {
        s->user = user;
    }
}

void *tw_socket_user(const tw_socket *s)
{
    return s && !(s->flags & TW_F_CHILD) ? s->user : NULL;
}

/* see tcpwave.h */
int tw_socket_info_get(const tw_socket *s, tw_socket_info *out)
{
    if (!s || !out) {
        return s ? refuse(s->st, TW_ERR_INVAL) : TW_ERR_INVAL;
    }
    memset(out, 0, sizeof(*out));
    out->state = (tw_state)s->state;
    out->local_addr = s->st->cfg.addr;
    out->remote_addr = s->raddr;
    out->local_port = s->lport;
    out->remote_port = s->rport;
    out->iss = s->iss.v;
    out->irs = s->irs.v;
    out->snd_una = s->snd_una.v;
    out->snd_nxt = s->snd_nxt.v;
    out->rcv_nxt = s->rcv_nxt.v;
    out->snd_wnd = s->snd_wnd;
    out->rcv_wnd = tw_conn_rcv_space(s);
    out->snd_mss = s->snd_mss;
    out->peer_mss = s->peer_mss;
    out->adv_mss = s->local_mss;
    out->snd_wscale = s->snd_wscale;
    out->rcv_wscale = s->rcv_wscale;
    out->has_wscale = (s->flags & TW_F_WS) != 0;
    out->has_sack = (s->flags & TW_F_SACK) != 0;
    out->has_timestamps = (s->flags & TW_F_TS) != 0;
    out->srtt = s->srtt;
    out->rttvar = s->rttvar;
    out->rto = s->rto;
    out->retransmits = s->retries;
    out->total_retrans = s->total_retrans;
    out->bytes_in_flight = (uint32_t)tw_seq_diff(s->snd_max, s->snd_una);
    out->bytes_acked = s->bytes_acked;
    out->bytes_received = s->bytes_received;
    out->rx_pending = s->rcv.len;
    out->tx_pending = s->snd.len;
    out->conn_id = s->id;
    out->cwnd = s->cwnd;
    out->ssthresh = s->ssthresh;
    out->cc = (s->flags & TW_F_CC_NEWRENO) ? TW_CC_NEWRENO : TW_CC_CUBIC;
    out->ca_state = tw_ecn_cwr_on(s) ? TW_CA_CWR : (tw_ca_state)s->ca_state;
    out->sacked_bytes = s->sacked;
    out->fast_retransmits = s->fast_retransmits;
    out->rto_count = s->rto_count;
    out->persist_probes = s->persist_probes;
    out->keepalive_probes = s->ka_sent;
    out->nodelay = (s->flags & TW_F_NODELAY) != 0;
    out->cork = (s->flags & TW_F_CORK) != 0;
    out->keepalive = (s->flags & TW_F_KEEPALIVE) != 0;
    out->rcvbuf = s->rcvbuf_cap;
    out->sndbuf = s->sndbuf_cap;
    out->syn_data_acked = s->opts && (s->opts->tfo & TW_TFO_DATA_ACKED);
    return 0;
}
