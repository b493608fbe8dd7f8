/*
 * ringbuf.c -- byte ring (see ringbuf.h).
 */
#include "core/ringbuf.h"

#include <string.h>

void tw_ring_write_at(tw_ring *r, uint32_t off, const uint8_t *src, uint32_t n)
{
    uint32_t pos = tw_ring_pos(r, r->len + off);
    uint32_t first = r->cap - pos < n ? r->cap - pos : n;
    memcpy(r->buf + pos, src, first);
    if (n > first) {
        memcpy(r->buf, src + first, n - first);
    }
}

uint32_t tw_ring_peek(const tw_ring *r, uint32_t off, uint8_t *dst, uint32_t n)
{
    if (off >= r->len) {
        return 0;
    }
    if (n > r->len - off) {
        n = r->len - off;
    }
    const uint8_t *p1, *p2;
    uint32_t n1, n2;
    tw_ring_pieces(r, off, n, &p1, &n1, &p2, &n2);
    memcpy(dst, p1, n1);
    if (n2) {
        memcpy(dst + n1, p2, n2);
    }
    return n;
}

void tw_ring_consume(tw_ring *r, uint32_t n)
{
    if (n > r->len) {
        n = r->len;
    }
    r->head = tw_ring_pos(r, n);
    r->len -= n;
}

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
