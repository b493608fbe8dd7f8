/*
 * wheel.c -- hierarchical timing wheel (see wheel.h for the layout).
 */
#include "core/wheel.h"
#include "core/stack.h"

#include <string.h>

void tw_wheel_init(tw_wheel *w, uint64_t now)
{
    memset(w, 0, sizeof(*w));
    w->now = now;
}

static void list_push(tw_timer **head, tw_timer *t)
{
    t->next = *head;
    if (*head) {
        (*head)->pprev = &t->next;
    }
    *head = t;
    t->pprev = head;
}

static void unlink_timer(tw_timer *t)
{
    *t->pprev = t->next;
    if (t->next) {
        t->next->pprev = t->pprev;
    }
    t->next = NULL;
    t->pprev = NULL;
}

static unsigned level_of(uint64_t diff)
{
    unsigned hi = 63u - (unsigned)__builtin_clzll(diff);
    return hi / TW_WHEEL_BITS;
}

static void place(tw_wheel *w, tw_timer *t)
{
    if (t->expires <= w->now) {
        list_push(&w->expired, t);
        return;
    }
    unsigned level = level_of(t->expires ^ w->now);
    unsigned idx = (unsigned)(t->expires >> (level * TW_WHEEL_BITS)) & (TW_WHEEL_SLOTS - 1);
    list_push(&w->slot[level][idx], t);
    w->pending[level] |= 1ull << idx;
}

static void clear_bit_if_empty(tw_wheel *w, tw_timer **head)
{
    /* A timer's pprev may point into a slot array; find which, to keep `pending` exact. */
    uintptr_t base = (uintptr_t)&w->slot[0][0];
    uintptr_t p = (uintptr_t)head;
    if (p < base || p >= base + sizeof(w->slot) || *head) {
        return;
    }
    size_t i = (p - base) / sizeof(tw_timer *);
    w->pending[i / TW_WHEEL_SLOTS] &= ~(1ull << (i % TW_WHEEL_SLOTS));
}

/* Place the timer that waits (tw_wheel_arm_lazy_at) before anything else changes the
   wheel: the lists then get their timers in the order the arms came, as if it had been
   placed when armed (w->now has not moved since: only tw_wheel_advance moves it, and it
   places the waiting timer first). */
static inline void place_lazy(tw_wheel *w)
{
    tw_timer *t = w->lazy;
    if (t) {
        w->lazy = NULL;
        t->expires = tw_time_to_tick(t->expires); /* (a time while it waits: wheel.h) */
        place(w, t);
        w->count++; /* (counted once placed: wheel.h) */
    }
}

void tw_wheel_arm(tw_wheel *w, tw_timer *t, uint64_t expires)
{
    if (t->pprev) {
        tw_wheel_cancel(w, t);
    }
    place_lazy(w);
    t->expires = expires;
    place(w, t);
    w->count++;
}

/* tw_wheel_arm_lazy_at when t is armed or another timer waits (wheel.h has the usual
   case). */
void tw_wheel_arm_lazy_slow(tw_wheel *w, tw_timer *t, uint64_t at)
{
    if (tw_timer_lazy(t)) {
        t->expires = at; /* the waiting one moves: taken off and put back, in effect */
        return;
    }
    if (t->pprev) {
        tw_wheel_cancel_placed(w, t);
    }
    place_lazy(w);
    /* Cancelling a placed timer first and placing this one later gives the same lists as
       the other way round: an unlink leaves the others' order alone. */
    wheel_lazy_wait(w, t, at); /* (wheel.h) */
}


void tw_wheel_cancel_placed(tw_wheel *w, tw_timer *t)
{
    tw_timer **head = t->pprev;
    /* Only the first element's pprev points at the list head itself. */
    unlink_timer(t);
    clear_bit_if_empty(w, head);
    w->count--;
}

void tw_wheel_advance(tw_wheel *w, uint64_t now)
{
    place_lazy(w);
    if (now <= w->now) {
        return;
    }
    tw_timer *todo = NULL;
    for (unsigned level = 0; level < TW_WHEEL_LEVELS; level++) {
        unsigned shift = level * TW_WHEEL_BITS;
        uint64_t from = w->now >> shift, to = now >> shift;
        if (from == to) {
            break; /* higher groups did not change either */
        }
        uint64_t mask;
        uint64_t elapsed = to - from;
        if (elapsed >= TW_WHEEL_SLOTS) {
            mask = ~0ull;
        } else {
            uint64_t run = (1ull << elapsed) - 1;
            unsigned rot = (unsigned)((from + 1) & (TW_WHEEL_SLOTS - 1));
            mask = rot ? (run << rot) | (run >> (64 - rot)) : run;
        }
        uint64_t hit = w->pending[level] & mask;
        w->pending[level] &= ~hit;
        while (hit) {
            unsigned idx = (unsigned)__builtin_ctzll(hit);
            hit &= hit - 1;
            tw_timer *t = w->slot[level][idx];
            w->slot[level][idx] = NULL;
            while (t) {
                tw_timer *n = t->next;
                t->next = todo;
                todo = t;
                t = n;
            }
        }
    }
    w->now = now;
    while (todo) {
        tw_timer *n = todo->next;
        place(w, todo);
        todo = n;
    }
}

tw_timer *tw_wheel_pop(tw_wheel *w)
{
    place_lazy(w);
    tw_timer *t = w->expired;
    if (!t) {
        return NULL;
    }
    unlink_timer(t);
    w->count--;
    return t;
}

/* What tw_wheel_next reports for a timer at `expires` placed now: due, or the start of
   its slot (its tick with the bits below its level cleared). A placed timer's report
   does not change until the wheel moves into its slot and places it again, so this is
   what the waiting timer would report had it been placed when armed. */
static uint64_t lazy_next(const tw_wheel *w, uint64_t expires)
{
    if (expires <= w->now) {
        return w->now;
    }
    unsigned shift = level_of(expires ^ w->now) * TW_WHEEL_BITS;
    return expires >> shift << shift;
}

static uint64_t placed_next(const tw_wheel *w);

uint64_t tw_wheel_next(const tw_wheel *w)
{
    uint64_t next = placed_next(w);
    if (w->lazy) {
        /* The earliest of the placed timers' reports and its own: reports grow with the
           deadline (a slot at a lower level starts before any slot above it), so this is
           the report with it placed. */
        uint64_t e = w->lazy->expires;
        uint64_t l = lazy_next(w, tw_time_to_tick(e)); /* (a time: wheel.h) */
        next = l < next ? l : next;
    }
    return next;
}

static uint64_t placed_next(const tw_wheel *w)
{
    if (w->expired) {
        return w->now;
    }
    if (w->count == 0) {
        return UINT64_MAX; /* the common idle case, without looking at every level */
    }
    for (unsigned level = 0; level < TW_WHEEL_LEVELS; level++) {
        if (!w->pending[level]) {
            continue;
        }
        unsigned shift = level * TW_WHEEL_BITS;
        unsigned idx = (unsigned)(w->now >> shift) & (TW_WHEEL_SLOTS - 1);
        /* Timers at this level sit in slots after the current one (wheel.h). */
        uint64_t bits = idx == TW_WHEEL_SLOTS - 1 ? 0 : w->pending[level] >> (idx + 1);
        if (!bits) {
            continue;
        }
        uint64_t slot = idx + 1 + (unsigned)__builtin_ctzll(bits);
        unsigned up = shift + TW_WHEEL_BITS;
        uint64_t base = up >= 64 ? 0 : (w->now >> up) << up;
        return base | (slot << shift);
    }
    return UINT64_MAX;
}
