/*
 * alloc_test.c -- counting and failing allocator (see alloc_test.h).
 */
#include "alloc_test.h"

#include <stdlib.h>
#include <string.h>

static void *t_alloc(size_t size, void *ud)
{
    tw_t_alloc *x = ud;
    x->calls++;
    if (x->fail_nth && x->calls == x->fail_nth) {
        x->failures++;
        return NULL;
    }
    void *p = malloc(size);
    if (p) {
        x->live += size;
        if (x->live > x->peak) {
            x->peak = x->live;
        }
    }
    return p;
}

static void t_free(void *p, size_t size, void *ud)
{
    tw_t_alloc *x = ud;
    x->live -= size;
    free(p);
}

void tw_t_alloc_init(tw_t_alloc *x, uint64_t fail_nth)
{
    memset(x, 0, sizeof(*x));
    x->a.alloc = t_alloc;
    x->a.free = t_free;
    x->a.ud = x;
    x->fail_nth = fail_nth;
}
