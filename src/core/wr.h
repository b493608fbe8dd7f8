/*
 * wr.h -- bounds-checked writing of wire bytes with a sticky error (mirror of rd.h).
 */
#ifndef TW_CORE_WR_H
#define TW_CORE_WR_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>

typedef struct tw_wr {
    uint8_t *p, *start, *end;
    bool err;
} tw_wr;

static inline tw_wr tw_wr_make(uint8_t *p, size_t cap)
{
    tw_wr w = {p, p, p + cap, false};
    return w;
}

static inline size_t tw_wr_len(const tw_wr *w)
{
    return (size_t)(w->p - w->start);
}

static inline bool tw_wr_need(tw_wr *w, size_t n)
{
    if (w->err || (size_t)(w->end - w->p) < n) {
        w->err = true;
        return false;
    }
    return true;
}

static inline void tw_wr_u8(tw_wr *w, uint8_t v)
{
    if (tw_wr_need(w, 1)) {
        *w->p++ = v;
    }
}

static inline void tw_wr_u16(tw_wr *w, uint16_t v)
{
    if (tw_wr_need(w, 2)) {
        w->p[0] = (uint8_t)(v >> 8);
        w->p[1] = (uint8_t)v;
        w->p += 2;
    }
}

static inline void tw_wr_u32(tw_wr *w, uint32_t v)
{
    if (tw_wr_need(w, 4)) {
        w->p[0] = (uint8_t)(v >> 24);
        w->p[1] = (uint8_t)(v >> 16);
        w->p[2] = (uint8_t)(v >> 8);
        w->p[3] = (uint8_t)v;
        w->p += 4;
    }
}

static inline void tw_wr_bytes(tw_wr *w, const void *src, size_t n)
{
    if (n && tw_wr_need(w, n)) {
        memcpy(w->p, src, n);
        w->p += n;
    }
}

static inline void tw_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void tw_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* tw_put32 as one swap and one store: where neighbouring words are written, compilers
   merge tw_put32's byte stores into long shift-and-or chains. For the header builders. */
static inline void tw_store_be32(uint8_t *p, uint32_t v)
{
    const uint16_t one = 1;
    if (*(const uint8_t *)&one == 1) {
#if defined(__GNUC__)
        /* The builtin: where several values are swapped at once GCC does not always
           recognise the shift-and-or form and emits it as it stands (a dozen
           instructions instead of one). */
        v = __builtin_bswap32(v);
#else
        v = (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
#endif
    }
    memcpy(p, &v, 4);
}

/* The 32-bit word whose bytes in memory are `v` big-endian (its network order), to
   store as it lies (memcpy) or to sum as a native word (cksum.h). */
static inline uint32_t tw_be32(uint32_t v)
{
    const uint16_t one = 1;
    if (*(const uint8_t *)&one == 1) {
#if defined(__GNUC__)
        v = __builtin_bswap32(v);
#else
        v = (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
#endif
    }
    return v;
}

/* tw_be32 for 8 bytes. */
static inline uint64_t tw_be64(uint64_t v)
{
    const uint16_t one = 1;
    if (*(const uint8_t *)&one == 1) {
#if defined(__GNUC__)
        v = __builtin_bswap64(v);
#else
        v = (uint64_t)tw_be32((uint32_t)v) << 32 | tw_be32((uint32_t)(v >> 32));
#endif
    }
    return v;
}

/* A 16-bit value big-endian then two zero bytes (a TCP checksum and urgent pointer) as
   one store: written as tw_store_be32(p, v << 16) compilers make a shift chain of it. */
static inline void tw_store_be16_zero16(uint8_t *p, uint16_t v)
{
    const uint16_t one = 1;
    uint32_t w = *(const uint8_t *)&one == 1 ? (uint32_t)(uint16_t)(v << 8 | v >> 8)
                                             : (uint32_t)v << 16;
    memcpy(p, &w, 4);
}

#endif
