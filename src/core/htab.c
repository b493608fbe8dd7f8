/*
 * htab.c -- intrusive chained hash table (see htab.h).
 */
#include "core/htab.h"

#include <assert.h>
#include <string.h>

/* Bytes of a table of n buckets: the pointers, then the tags if any. */
static size_t table_bytes(size_t n, bool tagged)
{
    return n * (sizeof(tw_hnode *) + (tagged ? 1 : 0));
}

static int init(tw_htab *h, tw_mem *m, size_t buckets, uint64_t seed, bool tagged)
{
    size_t n = 16;
    while (n < buckets) {
        n <<= 1;
    }
    h->b = tw_mem_zalloc(m, table_bytes(n, tagged));
    if (!h->b) {
        h->tag = NULL;
        return TW_ERR_NOMEM;
    }
    h->tag = tagged ? (uint8_t *)(h->b + n) : NULL;
    h->mask = n - 1;
    h->over = 0; /* (no entry: with `below` 0, tw_htab_shrink_at_set keeps the count 0) */
    h->below = 0;
    h->seed = seed;
    h->m = m;
    h->min = (uint32_t)n;
    h->fixed = false;
    h->limit = SIZE_MAX;
    tw_htab_shrink_at_set(h);
    return 0;
}

int tw_htab_init(tw_htab *h, tw_mem *m, size_t buckets, uint64_t seed)
{
    return init(h, m, buckets, seed, false);
}

int tw_htab_init_tagged(tw_htab *h, tw_mem *m, size_t buckets, uint64_t seed)
{
    return init(h, m, buckets, seed, true);
}

void tw_htab_free(tw_htab *h, tw_mem *m)
{
    tw_mem_free(m, h->b, table_bytes(h->mask + 1, h->tag != NULL));
    h->b = NULL;
    h->tag = NULL;
}

#define SPLIT_AHEAD 8

/* Doubling splits old bucket i into new buckets i and i + old_n by one more bit of the
   hash: the new array is written in order, never read, so moving a million entries costs
   one cache miss each (the entry's key) rather than three. */
static void split(tw_htab *h, tw_hnode **ob, size_t old_n)
{
    tw_hnode **nb = h->b;
    uint8_t *nt = h->tag;
    for (size_t i = 0; i < old_n; i++) {
        /* The entries are cache misses in random order, but their addresses are known
           ahead in the old array: ask for the chain heads a few buckets on, so that
           several misses are in flight at once instead of one after the other. */
        if (i + SPLIT_AHEAD < old_n) {
            TW_PREFETCH(ob[i + SPLIT_AHEAD]);
        }
        tw_hnode *lo = NULL, *hi = NULL;
        uint8_t tlo = 0, thi = 0;
        tw_hnode *e = ob[i];
        while (e) {
            tw_hnode *next = e->next;
            uint64_t x = tw_htab_hash(h, e->key);
            if (x & old_n) {
                e->next = hi;
                hi = e;
                thi |= tw_htab_tag_bit(x);
            } else {
                e->next = lo;
                lo = e;
                tlo |= tw_htab_tag_bit(x);
            }
            e = next;
        }
        nb[i] = lo;
        nb[i + old_n] = hi;
        if (nt) {
            nt[i] = tlo;
            nt[i + old_n] = thi;
        }
    }
}

static inline void push(tw_htab *h, tw_hnode *n)
{
    tw_htab_push_hashed(h, n, tw_htab_hash(h, n->key));
}

static void rehash(tw_htab *h, tw_hnode **ob, size_t old_n)
{
    for (size_t i = 0; i < old_n; i++) {
        tw_hnode *e = ob[i];
        while (e) {
            tw_hnode *next = e->next;
            push(h, e);
            e = next;
        }
    }
}

static void resize(tw_htab *h, tw_mem *m, size_t n)
{
    size_t old_n = h->mask + 1;
    bool tagged = h->tag != NULL;
    bool grow = n == old_n * 2;
    /* (split writes every bucket: no need to clear them first) */
    tw_hnode **nb = grow ? tw_mem_alloc(m, table_bytes(n, tagged))
                         : tw_mem_zalloc(m, table_bytes(n, tagged));
    if (!nb) {
        return; /* keep the old table: chains get longer, nothing breaks */
    }
    tw_hnode **ob = h->b;
    h->b = nb;
    h->tag = tagged ? (uint8_t *)(nb + n) : NULL;
    h->mask = n - 1;
    tw_htab_shrink_at_set(h);
    if (grow) {
        split(h, ob, old_n);
    } else {
        rehash(h, ob, old_n);
    }
    tw_mem_free(m, ob, table_bytes(old_n, tagged));
}

void tw_htab_insert_grow(tw_htab *h, tw_mem *m, tw_hnode *n, uint64_t hash)
{
    resize(h, m, (h->mask + 1) * 2);
    tw_htab_push_hashed(h, n, hash);
    tw_htab_counted(h);
}

void tw_htab_insert(tw_htab *h, tw_mem *m, tw_hnode *n)
{
    tw_htab_insert_hashed(h, m, n, tw_htab_hash(h, n->key));
}

void tw_htab_shrink(tw_htab *h)
{
    resize(h, h->m, (h->mask + 1) / 2);
}
