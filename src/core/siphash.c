/*
 * siphash.c -- SipHash-2-4, written from the algorithm's description in the SipHash paper
 * (2 compression rounds per 8-byte word, 4 finalization rounds).
 */
#include "core/siphash.h"

/* The rounds and helpers are inlined: the four state words then stay in registers, which
   the short hashes of connection set-up (ports, cookies) feel. */
typedef struct sipstate {
    uint64_t v0, v1, v2, v3;
} sipstate;

static inline uint64_t rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

static inline __attribute__((always_inline)) void sipround(sipstate *s)
{
    s->v0 += s->v1;
    s->v1 = rotl(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = rotl(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = rotl(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = rotl(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = rotl(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = rotl(s->v2, 32);
}

static inline __attribute__((always_inline)) uint64_t sip_final(sipstate *s)
{
    s->v2 ^= 0xff;
    sipround(s);
    sipround(s);
    sipround(s);
    sipround(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

static inline __attribute__((always_inline)) void sip_init(sipstate *s, const tw_sipkey *k)
{
    s->v0 = k->k0 ^ 0x736f6d6570736575ull;
    s->v1 = k->k1 ^ 0x646f72616e646f6dull;
    s->v2 = k->k0 ^ 0x6c7967656e657261ull;
    s->v3 = k->k1 ^ 0x7465646279746573ull;
}

static inline __attribute__((always_inline)) void sip_word(sipstate *s, uint64_t m)
{
    s->v3 ^= m;
    sipround(s);
    sipround(s);
    s->v0 ^= m;
}

static uint64_t load_le64(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

uint64_t tw_siphash(const tw_sipkey *key, const uint8_t *msg, size_t len)
{
    sipstate s;
    sip_init(&s, key);
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        sip_word(&s, load_le64(msg + i, 8));
    }
    uint64_t last = ((uint64_t)(len & 0xff)) << 56;
    last |= load_le64(msg + full, len - full);
    sip_word(&s, last);
    return sip_final(&s);
}

uint64_t tw_siphash_4x32(const tw_sipkey *key, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    /* Same result as tw_siphash over the 16 little-endian bytes of a, b, c, d. */
    sipstate s;
    sip_init(&s, key);
    sip_word(&s, (uint64_t)a | (uint64_t)b << 32);
    sip_word(&s, (uint64_t)c | (uint64_t)d << 32);
    sip_word(&s, (uint64_t)16 << 56);
    return sip_final(&s);
}
