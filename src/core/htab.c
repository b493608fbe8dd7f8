/*
 * htab.c -- intrusive chained hash table (see htab.h).
 */
#include "core/htab.h"

#include <string.h>

int tw_htab_init(tw_htab *h, tw_mem *m, size_t buckets, uint64_t seed)
{
    size_t n = 16;
    while (n < buckets) {
        n <<= 1;
    }
    h->b = tw_mem_zalloc(m, n * sizeof(*h->b));
    if (!h->b) {
        return TW_ERR_NOMEM;
    }
    h->mask = n - 1;
    h->count = 0;
    h->seed = seed;
    h->m = m;
    h->min = (uint32_t)n;
    h->fixed = false;
    return 0;
}

void tw_htab_free(tw_htab *h, tw_mem *m)
{
    tw_mem_free(m, h->b, (h->mask + 1) * sizeof(*h->b));
    h->b = NULL;
}

static void resize(tw_htab *h, tw_mem *m, size_t n)
{
    size_t old_n = h->mask + 1;
    tw_hnode **nb = tw_mem_zalloc(m, n * sizeof(*nb));
    if (!nb) {
        return; /* keep the old table: chains get longer, nothing breaks */
    }
    tw_hnode **ob = h->b;
    h->b = nb;
    h->mask = n - 1;
    for (size_t i = 0; i < old_n; i++) {
        tw_hnode *e = ob[i];
        while (e) {
            tw_hnode *next = e->next;
            size_t j = tw_htab_index(h, e->key);
            e->next = nb[j];
            nb[j] = e;
            e = next;
        }
    }
    tw_mem_free(m, ob, old_n * sizeof(*ob));
}

void tw_htab_insert(tw_htab *h, tw_mem *m, tw_hnode *n)
{
    if (h->count > h->mask) {
        resize(h, m, (h->mask + 1) * 2);
    }
    size_t i = tw_htab_index(h, n->key);
    n->next = h->b[i];
    h->b[i] = n;
    h->count++;
}

void tw_htab_remove(tw_htab *h, tw_hnode *n)
{
    tw_hnode **pp = &h->b[tw_htab_index(h, n->key)];
    while (*pp && *pp != n) {
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = n->next;
        n->next = NULL;
        h->count--;
        size_t buckets = h->mask + 1;
        if (h->count < buckets / 4 && buckets > h->min && !h->fixed) {
            resize(h, h->m, buckets / 2);
        }
    }
}
