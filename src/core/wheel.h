/*
 * wheel.h -- hierarchical timing wheel: O(1) arm and cancel, expiry cost proportional to
 * the timers that move, whatever the number of armed timers or the time skipped.
 *
 * Time is in ticks (the stack uses 1 ms). Level L has 64 slots of 64^L ticks each. A timer
 * expiring at tick e, armed when the wheel is at tick n, goes to the level of the highest
 * 6-bit group in which e and n differ, in the slot named by e's group at that level:
 *
 *   tick bits:  ... | group 2 | group 1 | group 0 |
 *   e        =  ... |   07    |   12    |   33    |
 *   n        =  ... |   07    |   05    |   60    |   -> level 1, slot 12
 *
 * When the wheel's tick moves into a slot, that slot's timers are placed again against
 * the new tick: they fall to a lower level, or expire. A 64-bit mask per level says which
 * slots hold timers, so the next deadline is a count-trailing-zeros per level.
 */
#ifndef TW_CORE_WHEEL_H
#define TW_CORE_WHEEL_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define TW_WHEEL_BITS 6
#define TW_WHEEL_SLOTS 64
#define TW_WHEEL_LEVELS 11 /* 11 * 6 bits >= 64: every tick value has a level */

typedef struct tw_timer {
    struct tw_timer *next, **pprev; /* pprev NULL: not armed; TW_TIMER_LAZY: w->lazy */
    uint64_t expires;               /* tick (a time while it waits at w->lazy) */
} tw_timer;

/* The pprev of the one timer that waits unplaced (w->lazy): a constant rather than
   &w->lazy, never followed (the waiting timer is taken off by w->lazy = NULL), so that
   its store and its tests take an immediate, not the wheel's address worked out first
   (lifecycle -16 instr). An address no list head can have (the first page), aligned. */
#define TW_TIMER_LAZY ((tw_timer **)(uintptr_t)sizeof(tw_timer *))
/* Whether t is the timer waiting unplaced on its wheel (w->lazy == t). */
static inline bool tw_timer_lazy(const tw_timer *t)
{
    return t->pprev == TW_TIMER_LAZY;
}

typedef struct tw_wheel {
    uint64_t now;                   /* every tick <= now has been processed */
    uint64_t pending[TW_WHEEL_LEVELS];
    tw_timer *slot[TW_WHEEL_LEVELS][TW_WHEEL_SLOTS];
    tw_timer *expired;              /* due, waiting for tw_wheel_pop */
    tw_timer *lazy;                 /* armed, not placed yet (tw_wheel_arm_lazy_at) */
    /* lazy's expires is a time (tw_time, ns), turned into its tick only when it is placed
       or asked about: a connection's timer, armed by a send and cancelled by the ACK, then
       costs no division (stack.h tw_time_to_tick). Every lazy arm takes a time, so that
       the waiting timer needs no flag saying which of the two its expires is. */
    /* Placed timers (in a slot or expired); the one waiting at lazy is not counted, so
       that the usual arm and cancel of a connection's timer (the lazy one's) make no
       count step: tw_wheel_count is the number armed. */
    size_t count;
} tw_wheel;

void tw_wheel_init(tw_wheel *w, uint64_t now);
/* The number of armed timers: placed, expired and the lazy one. */
static inline size_t tw_wheel_count(const tw_wheel *w)
{
    return w->count + (w->lazy != NULL);
}
static inline bool tw_timer_armed(const tw_timer *t)
{
    return t->pprev != NULL;
}
/* Arm (or re-arm) `t` to expire at tick `expires`; a tick <= now is due at once. */
void tw_wheel_arm(tw_wheel *w, tw_timer *t, uint64_t expires);
/* The same, except that the timer is placed only when the wheel is next changed
   (another timer armed, time advanced, a timer popped), so that one cancelled before
   then costs no placing and no unlinking: a receiver's delayed-ACK timer, armed for
   one segment and cancelled by the ACK the next one sends. Nothing can tell the two
   apart: the other timers' lists end up in the same order, and tw_wheel_next reports
   what it would with the timer placed. One timer at a time waits so. The deadline is a
   time `at` (a tw_time, ns), not a tick: the waiting timer keeps it so (w->lazy). These
   are the cases the inline arms below leave (t armed, or another timer waits). */
void tw_wheel_arm_lazy_slow(tw_wheel *w, tw_timer *t, uint64_t at);
/* The usual case of the lazy arms below: `t` becomes the one timer waiting at w->lazy
   (tw_timer_armed says yes, and tw_wheel_cancel finds it there: tw_wheel_cancel_lazy). Its
   next is not read while it waits, and placing it sets it (wheel.c place_lazy): no store
   for it here. `at`: the deadline as a time (w->lazy). */
static inline __attribute__((always_inline)) void wheel_lazy_wait(tw_wheel *w, tw_timer *t,
                                                                  uint64_t at)
{
    t->expires = at;
    t->pprev = TW_TIMER_LAZY;
    w->lazy = t;
}
/* Inline (always: GCC otherwise keeps it out of line in its many callers) for the usual
   case, a timer not armed while no other waits (a connection's RTO started by a send): a
   few stores, no call. `at`: the deadline as a time (a tw_time, ns; not NEVER), its tick
   worked out only if the timer is placed (w->lazy). */
static inline __attribute__((always_inline)) void tw_wheel_arm_lazy_at(tw_wheel *w, tw_timer *t,
                                                                       uint64_t at)
{
    if (t->pprev || w->lazy) {
        if (tw_timer_lazy(t)) {
            t->expires = at; /* the waiting one moves: taken off and put back, in effect */
            return;
        }
        tw_wheel_arm_lazy_slow(w, t, at);
        return;
    }
    wheel_lazy_wait(w, t, at);
}
/* tw_wheel_arm_lazy_at for a timer its caller knows is not armed (a fresh connection's):
   only the other waiting timer is asked about. */
static inline __attribute__((always_inline)) void
tw_wheel_arm_lazy_unarmed_at(tw_wheel *w, tw_timer *t, uint64_t at)
{
    if (w->lazy) {
        tw_wheel_arm_lazy_slow(w, t, at);
        return;
    }
    wheel_lazy_wait(w, t, at);
}
/* tw_wheel_arm_lazy_unarmed_at for a timer whose link holds whatever its memory held (an
   object just taken from a free list, not zeroed: tcp_in.c in_listen's SYN queue entry):
   the link is cleared only for tw_wheel_arm_lazy_slow, which reads it; the usual case
   sets it. */
static inline __attribute__((always_inline)) void
tw_wheel_arm_lazy_fresh_at(tw_wheel *w, tw_timer *t, uint64_t at)
{
    if (w->lazy) {
        t->pprev = NULL;
        tw_wheel_arm_lazy_slow(w, t, at);
        return;
    }
    wheel_lazy_wait(w, t, at);
}
/* tw_wheel_cancel for the timer that waits unplaced (w->lazy == t), inline. */
static inline void tw_wheel_cancel_lazy(tw_wheel *w, tw_timer *t)
{
    w->lazy = NULL;
    t->pprev = NULL;
}
/* tw_wheel_cancel for a timer placed in a slot or the expired list. */
void tw_wheel_cancel_placed(tw_wheel *w, tw_timer *t);
/* Inline for the usual cases, a timer waiting unplaced (the lifecycle's RTO, cancelled
   by the ACK before anything else changed the wheel), asked first: one compare of its
   link, where a test for "not armed" first took two more; or not armed (a connection
   being freed). */
static inline void tw_wheel_cancel(tw_wheel *w, tw_timer *t)
{
    if (tw_timer_lazy(t)) {
        tw_wheel_cancel_lazy(w, t);
        return;
    }
    if (!t->pprev) {
        return;
    }
    tw_wheel_cancel_placed(w, t);
}
/* Move the wheel to tick `now` (never backwards); due timers become poppable. */
void tw_wheel_advance(tw_wheel *w, uint64_t now);
/* Take one due timer (disarmed), or NULL. */
tw_timer *tw_wheel_pop(tw_wheel *w);
/* The earliest tick at which a timer may be due (its slot's start for levels above 0),
   w->now if some are due already, UINT64_MAX if none is armed. */
uint64_t tw_wheel_next(const tw_wheel *w);

#endif
