/*
 * ringbuf.c -- byte ring (see ringbuf.h).
 */
#include "core/ringbuf.h"

#include <string.h>

uint8_t *tw_ring_move(tw_ring *r, uint8_t *nbuf, uint32_t ncap, uint32_t keep)
{
    uint8_t *old = r->buf;
    if (old && keep) {
        uint32_t first = r->cap - r->head < keep ? r->cap - r->head : keep;
        memcpy(nbuf, old + r->head, first);
        memcpy(nbuf + first, old, keep - first);
    }
    r->buf = nbuf;
    r->cap = ncap;
    r->head = 0;
    return old;
}
