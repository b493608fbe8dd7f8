/*
 * conn_free.h -- tw_conn_free's steps, inline, for tcp_conn.c (tw_conn_free) and
 * timewait.c (tw_timewait_make, whose record's connection goes in the same function:
 * no tail call, and no reload of its stack and flags; lifecycle -5 instr). Not in
 * tcp_conn.h: the usual packet's file (tcp_in.c) does not need it.
 */
#ifndef TW_CORE_CONN_FREE_H
#define TW_CORE_CONN_FREE_H

#include "core/arch.h"
#include "core/tcp_conn.h"

/* (Each of these returns 0, as tw_conn_free_in_as does: the usual packet's function can
   end in their tail calls, tw_stack_input's answer theirs: tcp_conn.c
   tw_conn_free_orphan_found_leave.) */
/* tw_conn_free in every case (its usual one below has its own copy of these steps). */
int tw_conn_free_full(tw_socket *c);
/* tw_conn_free_full(c) for the usual case's other ones, which have the stack first, as
   the usual case's callers pass it: a tail call with the arguments where they are
   (measured: GCC otherwise moved c to the first argument's register on entry, and the
   stack out of it, and then made its counts' steps in more instructions). */
int tw_conn_free_full_as(tw_stack *st, tw_socket *c);
/* tw_conn_free's end when its usual case left a call to make (rare). */
int tw_conn_free_end_rare(tw_stack *st, tw_socket *c, bool emptied, bool shrink);
/* tw_conn_free's end when the connection table is to halve: the port let go of (`f`: the
   connection's flags, TW_F_BOUND), then tw_conn_free_end_rare's steps. */
int tw_conn_free_end_shrink(tw_stack *st, tw_socket *c, uint32_t f);

/* tw_conn_free's steps; `gone`: flags whose steps the caller has made (a connection it
   has taken out of st->conns: TW_F_HASHED, which only tw_timewait_make does, having made
   a record: the stack is then not idle, and its usual end asks no trim). `orphan`: the
   caller knows c is a counted orphan (below), as a TIME-WAIT record's is. `unheld`: the
   caller knows c's timer is not held (tcp_in.c timer_hold), so st->timer_held is not
   asked. `found` (tw_conn_free_found): c is the connection the stack's lookup found for
   the segment being processed, `st` its stack: in st->conns (TW_F_HASHED) and the
   lookup's cache (st->last_conn), neither asked. Otherwise `st` is NULL, read from c. */
static inline __attribute__((always_inline)) int tw_conn_free_in_as(tw_stack *st, tw_socket *c,
                                                                    uint32_t gone, bool orphan,
                                                                    bool unheld, bool found)
{
    if (!found) {
        st = c->st;
    }
    assert(st == c->st);
    assert(!found || ((c->flags & TW_F_HASHED) && !(gone & TW_F_HASHED) && st->last_conn == c));
    uint32_t f = c->flags & ~gone;
    /* A TIME-WAIT record's connection (gone: TW_F_HASHED) is an orphan: each caller of
       tw_timewait_enter has the application's close behind it (S15). So it is neither a
       listener nor an unaccepted child (which has no application to close it), and its
       orphan count is taken down without a test. It is counted too: every connection
       went through SYN-SENT or SYN-RECEIVED (TW_F_COUNTED), and only CLOSED takes the
       flag back (tw_conn_done), which TIME-WAIT has not reached. */
    orphan = orphan || (gone & TW_F_HASHED) != 0;
    assert(!orphan ||
           ((f & (TW_F_ORPHAN | TW_F_COUNTED)) == (TW_F_ORPHAN | TW_F_COUNTED) &&
            !(f & (TW_F_CHILD | TW_F_LISTENER))));
    /* The usual case, asked in one go (marked expected): its timer waits unplaced (the
       lazy slot), it is neither a listener nor an unaccepted child, it holds two ring
       blocks of the first size (a capacity means a block: ring_free) and nothing rarer
       (out-of-order data, SACK scoreboard, options), the ring list is on (no memory
       budget: stack.c) and not full (rare: the full case gives the blocks to the
       allocator, as before), and the connection list has room for it, its blocks kept
       in it (the room taken as it is asked: tw_mem_list_take_room).
       Its steps then make no call (what they leave to call goes last,
       tw_conn_free_end_rare, which gives c to the room taken here), so that it saves no
       register; every other case is tw_conn_free_full's. */
    assert((c->snd.buf || c->snd.cap == 0) && (c->rcv.buf || c->rcv.cap == 0));
    assert((f & TW_F_EXTRAS) || !((uintptr_t)c->ooo | (uintptr_t)c->sb | (uintptr_t)c->opts));
    if (__builtin_expect(!tw_timer_lazy(&c->timer) ||
                             (!orphan && (f & (TW_F_CHILD | TW_F_LISTENER))) ||
                             c->snd.cap != TW_MEM_RING_BLOCK || c->rcv.cap != TW_MEM_RING_BLOCK ||
                             (c->flags & TW_F_EXTRAS) ||
                             !tw_mem_list_has_room(&st->mem.cache[TW_MC_RING]) ||
                             !tw_mem_list_take_room(&st->mem.cache[TW_MC_CONN], 1),
                         0)) {
        c->flags = f;
        return tw_conn_free_full_as(st, c);
    }
    /* (tw_conn_free_full's steps, for this case; the comments are there: tcp_conn.c)
       Its two blocks stay in the object, which goes on the free list with them (mem.h
       kept_at), and the connection that takes the object next finds them parked in its
       rings (tcp_conn.h tw_conn_rings_kept): no take from the ring list on its first
       write or its first data, nor a give here. */
    assert(!unheld || st->timer_held != c);
    if (!unheld && __builtin_expect(st->timer_held == c, 1)) {
        st->timer_held = NULL;
    }
    st->wheel.lazy = NULL; /* (the lazy one is not counted: wheel.h) */
    if (f & TW_F_ACK_QUEUED) {
        /* (most often the list's first: its link stored without its address made first;
           the compare with the list's head as its memory operand, GCC otherwise loading
           the head, and its link, for the walk below; measured: lifecycle -2 instr,
           4,516.8 -> 4,514.8) */
#if TW_ASM_X86
        __asm__ goto("cmpq %[c], %[head]\n\tjne %l[walk]"
                     :
                     : [head] "m"(st->ack_head), [c] "r"(c)
                     : "cc"
                     : walk);
        st->ack_head = c->ack_next;
        if (0) {
        walk:;
#else
        if (__builtin_expect(st->ack_head == c, 1)) {
            st->ack_head = c->ack_next;
        } else {
#endif
            tw_socket *p = st->ack_head;
            while (p->ack_next != c) {
                p = p->ack_next;
            }
            p->ack_next = c->ack_next;
        }
    }
    if (orphan || (f & TW_F_COUNTED)) {
        st->nconns--;
    }
    if (orphan || (f & TW_F_ORPHAN)) {
        st->orphan_room++; /* (one orphan fewer) */
    }
    /* The table first, then the port: each rare end then goes on from its own test
       (the compare's, the port's answer), with no answer kept as a value to test
       later. */
    if (found || (f & TW_F_HASHED)) {
        assert(c->hash == tw_htab_hash(&st->conns, c->h.key));
        bool shrink = tw_htab_unlink_in(&st->conns, &c->h, c->hash);
        /* (most often: the connection's last segment was the stack's last one) */
        if (found || __builtin_expect(st->last_conn == c, 1)) {
            st->last_conn = TW_CONN_NONE;
        }
        if (__builtin_expect(shrink, 0)) {
            return tw_conn_free_end_shrink(st, c, f);
        }
    }
    if (f & TW_F_BOUND) {
        /* (a bound port is in use: its leaf is there) */
        uint32_t port = c->lport;
        if (__builtin_expect(tw_port_unref(st, st->ports[port / TW_PORT_LEAF], port,
                                           (f & TW_F_REUSE) != 0, (f & TW_F_AUTOBOUND) != 0),
                             0)) {
            return tw_conn_free_end_rare(st, c, true, false);
        }
    }
    c->kind = 0;
    if (!(gone & TW_F_HASHED)) {
        /* (tw_stack_trim_if_idle's test of the objects out read from the give's
           decrement of their count) */
        if (tw_mem_give_taken_last(&st->mem, TW_MC_CONN, c) && !st->tws.count) {
            return tw_stack_trim_idle(st);
        }
    } else {
        tw_mem_give_taken(&st->mem, TW_MC_CONN, c);
        assert(st->tws.count != 0); /* (tw_stack_trim_if_idle would do nothing) */
    }
    return 0;
}

static inline __attribute__((always_inline)) int tw_conn_free_in(tw_socket *c, uint32_t gone,
                                                                 bool orphan, bool unheld)
{
    return tw_conn_free_in_as(NULL, c, gone, orphan, unheld, false);
}

#endif
