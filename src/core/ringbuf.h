/*
 * ringbuf.h -- byte ring for socket buffers, allocated only when data needs it.
 *
 *   buf: [....head==========head+len.........]   (wraps at cap)
 *              ^ first byte       ^ first free byte
 *
 * The receive side also writes out-of-order bytes at an offset past `len` (positions
 * reserved by the receive window) without changing `len`; tw_ring_commit() later adds
 * them to the readable part.
 */
#ifndef TW_CORE_RINGBUF_H
#define TW_CORE_RINGBUF_H

#include <assert.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "core/cksum.h"
#include "core/copy.h"

typedef struct tw_ring {
    uint8_t *buf;
    uint32_t cap, head, len;
    uint32_t owner; /* not the ring's: a word for its owner in what would be padding
                       (struct tw_socket keeps the buffer's size limit here) */
} tw_ring;

/* Make `n` bytes past the readable part readable. */
static inline void tw_ring_commit(tw_ring *r, uint32_t n)
{
    r->len += n;
}
/* Position of the byte `off` bytes past head, for off <= cap (every caller's offset is
   within the ring): one compare instead of a division on the per-segment path. The
   room from head to the end (head <= cap) tells whether it wraps, in 32 bits: head +
   off >= cap exactly when off >= cap - head, and no sum can overflow. */
static inline uint32_t tw_ring_pos(const tw_ring *r, uint32_t off)
{
    assert(r->head <= r->cap && off <= r->cap);
    uint32_t room = r->cap - r->head;
    return off >= room ? off - room : r->head + off;
}
/* The (up to two) contiguous pieces of [off, off+n) of the readable part. */
static inline void tw_ring_pieces(const tw_ring *r, uint32_t off, uint32_t n, const uint8_t **p1,
                                  uint32_t *n1, const uint8_t **p2, uint32_t *n2)
{
    uint32_t pos = tw_ring_pos(r, off);
    uint32_t first = r->cap - pos < n ? r->cap - pos : n;
    *p1 = r->buf + pos;
    *n1 = first;
    *p2 = r->buf;
    *n2 = n - first;
}
/* Move the ring's contents (the first `keep` bytes from head, readable and reserved
   alike) into `nbuf` of `ncap` bytes (ncap >= keep), starting at offset 0. Returns the
   old buffer for the caller to free. */
uint8_t *tw_ring_move(tw_ring *r, uint8_t *nbuf, uint32_t ncap, uint32_t keep);

/* The per-segment operations are inline: each is a copy (or two, across the wrap) and a
   few adds, and a call costs as much as the rest of them. */

/* Copy `n` bytes into the ring at offset `off` from the end of the readable part; the
   caller guarantees len + off + n <= cap. */
static inline void tw_ring_write_at(tw_ring *r, uint32_t off, const uint8_t *src, uint32_t n)
{
    uint32_t pos = tw_ring_pos(r, r->len + off);
    uint32_t first = r->cap - pos < n ? r->cap - pos : n;
    tw_copy(r->buf + pos, src, first);
    if (n > first) {
        tw_copy(r->buf, src + first, n - first);
    }
}

/* tw_ring_write_at(r, 0, src, n), adding the bytes to native sum `sum` (cksum.h) in the
   same pass: `sum` covers what precedes `src` up to an even offset. A second piece
   after the wrap that starts at an odd offset of `src` has its sum byte-swapped
   (RFC 1071 2(B)). */
static inline uint64_t tw_ring_write_sum(tw_ring *r, uint64_t sum, const uint8_t *src, uint32_t n)
{
    uint32_t pos = tw_ring_pos(r, r->len);
    uint32_t first = r->cap - pos < n ? r->cap - pos : n;
    sum = tw_cksum_copy_native(sum, r->buf + pos, src, first);
    if (n > first) {
        if (first & 1) {
            uint64_t rest = tw_cksum_copy_native(0, r->buf, src + first, n - first);
            sum = tw_cksum_add64(sum, tw_cksum_swap_lanes(tw_cksum_fold(rest)));
        } else {
            sum = tw_cksum_copy_native(sum, r->buf, src + first, n - first);
        }
    }
    return sum;
}
/* Copy up to `n` bytes starting `off` bytes into the readable part; returns bytes. */
static inline uint32_t tw_ring_peek(const tw_ring *r, uint32_t off, uint8_t *dst, uint32_t n)
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
    tw_copy(dst, p1, n1);
    if (n2) {
        tw_copy(dst + n1, p2, n2);
    }
    return n;
}

/* Drop `n` bytes from the front. (Always inline: GCC otherwise leaves a call to it in
   the input path, every ACK of a bulk sender, once that function has grown.) */
static inline __attribute__((always_inline)) void tw_ring_consume(tw_ring *r, uint32_t n)
{
    if (n > r->len) {
        n = r->len;
    }
    r->head = tw_ring_pos(r, n);
    r->len -= n;
}

#endif
