/*
 * siphash.c -- SipHash-2-4, written from the algorithm's description in the SipHash paper
 * (2 compression rounds per 8-byte word, 4 finalization rounds; the rounds are in siphash.h).
 */
#include "core/siphash.h"

/* The helpers below are inlined too: the four state words then stay in registers, which
   the short hashes of connection set-up (ISN, ports) feel. */
static inline __attribute__((always_inline)) void sip_init(tw_sipstate *s, const tw_sipkey *k)
{
    s->v0 = k->k0 ^ 0x736f6d6570736575ull;
    s->v1 = k->k1 ^ 0x646f72616e646f6dull;
    s->v2 = k->k0 ^ 0x6c7967656e657261ull;
    s->v3 = k->k1 ^ 0x7465646279746573ull;
}

static inline __attribute__((always_inline)) void sip_word(tw_sipstate *s, uint64_t m)
{
    s->v3 ^= m;
    tw_sipround(s);
    tw_sipround(s);
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
    tw_sipstate s;
    sip_init(&s, key);
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        sip_word(&s, load_le64(msg + i, 8));
    }
    uint64_t last = ((uint64_t)(len & 0xff)) << 56;
    last |= load_le64(msg + full, len - full);
    sip_word(&s, last);
    return tw_sip_final(&s);
}

uint64_t tw_siphash_4x32(const tw_sipkey *key, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    /* Same result as tw_siphash over the 16 little-endian bytes of a, b, c, d. */
    tw_sipstate s;
    sip_init(&s, key);
    sip_word(&s, (uint64_t)a | (uint64_t)b << 32);
    sip_word(&s, (uint64_t)c | (uint64_t)d << 32);
    sip_word(&s, (uint64_t)16 << 56);
    return tw_sip_final(&s);
}

uint64_t tw_siphash_3x32(const tw_sipkey *key, uint32_t a, uint32_t b, uint32_t c)
{
    /* Same result as tw_siphash over the 12 little-endian bytes of a, b, c: one word
       fewer than 4x32, so two compression rounds fewer. */
    tw_sipstate s;
    sip_init(&s, key);
    sip_word(&s, (uint64_t)a | (uint64_t)b << 32);
    sip_word(&s, (uint64_t)c | (uint64_t)12 << 56);
    return tw_sip_final(&s);
}

void tw_siphash_pre(tw_sippre *p, const tw_sipkey *key)
{
    tw_sipstate s;
    sip_init(&s, key);
    /* tw_sipround's head: v0 and v1 only, before any message word reaches them (sip_word
       xors the word into v3 first). */
    tw_sipround_head(&s);
    p->v0 = s.v0;
    p->v1 = s.v1;
    p->v2 = s.v2;
    p->v3 = s.v3;
}

/* The first word's compression from the prepared state: sip_word(m) with its first
   round's first four steps already in p. */
static inline __attribute__((always_inline)) void pre_word(tw_sipstate *s, const tw_sippre *p,
                                                           uint64_t m)
{
    *s = (tw_sipstate){p->v0, p->v1, p->v2, p->v3};
    s->v3 ^= m;
    tw_sipround_tail(s);
    tw_sipround(s);
    s->v0 ^= m;
}

uint64_t tw_siphash_3x32_pre(const tw_sippre *p, uint32_t a, uint32_t b, uint32_t c)
{
    tw_sipstate s;
    pre_word(&s, p, (uint64_t)a | (uint64_t)b << 32);
    sip_word(&s, (uint64_t)c | (uint64_t)12 << 56);
    return tw_sip_final(&s);
}

void tw_siphash_pre_word(tw_sippre *mid, const tw_sippre *p, uint64_t ab)
{
    tw_sipstate s;
    pre_word(&s, p, ab);
    /* What of the last word's compression reads no c, done here once: its length byte
       into v3 (sip_word's first step, an xor: the order of the two xors does not
       matter), and its first round's first four steps (v0 and v1 only). */
    s.v3 ^= TW_SIP_LEN12;
    tw_sipround_head(&s);
    *mid = (tw_sippre){s.v0, s.v1, s.v2, s.v3};
}
