/*
 * wheel.c -- hierarchical timing wheel (see wheel.h for the layout).
 */
#include "core/wheel.h"

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

void tw_wheel_arm(tw_wheel *w, tw_timer *t, uint64_t expires)
{
    if (t->pprev) {
        tw_wheel_cancel(w, t);
    }
    t->expires = expires;
    place(w, t);
    w->count++;
}

void tw_wheel_cancel(tw_wheel *w, tw_timer *t)
{
    if (!t->pprev) {
        return;
    }
    tw_timer **head = t->pprev;
    /* Only the first element's pprev points at the list head itself. */
    unlink_timer(t);
    clear_bit_if_empty(w, head);
    w->count--;
}

void tw_wheel_advance(tw_wheel *w, uint64_t now)
{
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
    tw_timer *t = w->expired;
    if (!t) {
        return NULL;
    }
    unlink_timer(t);
    w->count--;
    return t;
}

uint64_t tw_wheel_next(const tw_wheel *w)
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
