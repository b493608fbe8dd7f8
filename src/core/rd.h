/*
 * rd.h -- bounds-checked reading of wire bytes with a sticky error.
 *
 * Every read past the end returns 0 and sets `err`; a parser reads a whole header and
 * checks `err` once. No other file does pointer arithmetic on received bytes.
 */
#ifndef TW_CORE_RD_H
#define TW_CORE_RD_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>

typedef struct tw_rd {
    const uint8_t *p, *end;
    bool err;
} tw_rd;

static inline tw_rd tw_rd_make(const uint8_t *p, size_t len)
{
    tw_rd r = {p, p + len, false};
    return r;
}

static inline size_t tw_rd_left(const tw_rd *r)
{
    return (size_t)(r->end - r->p);
}

static inline bool tw_rd_need(tw_rd *r, size_t n)
{
    if (r->err || tw_rd_left(r) < n) {
        r->err = true;
        return false;
    }
    return true;
}

static inline uint8_t tw_rd_u8(tw_rd *r)
{
    if (!tw_rd_need(r, 1)) {
        return 0;
    }
    return *r->p++;
}

static inline uint16_t tw_rd_u16(tw_rd *r)
{
    if (!tw_rd_need(r, 2)) {
        return 0;
    }
    uint16_t v = (uint16_t)((unsigned)r->p[0] << 8 | r->p[1]);
    r->p += 2;
    return v;
}

static inline uint32_t tw_rd_u32(tw_rd *r)
{
    if (!tw_rd_need(r, 4)) {
        return 0;
    }
    uint32_t v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 |
                 r->p[3];
    r->p += 4;
    return v;
}

static inline void tw_rd_skip(tw_rd *r, size_t n)
{
    if (tw_rd_need(r, n)) {
        r->p += n;
    }
}

/* A view of the next n bytes (NULL on error). */
static inline const uint8_t *tw_rd_bytes(tw_rd *r, size_t n)
{
    if (!tw_rd_need(r, n)) {
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

/* Read a big-endian u16/u32 at a fixed offset of a buffer known to be long enough. */
static inline uint16_t tw_get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t tw_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
