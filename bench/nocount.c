/*
 * nocount.c -- the speed harnesses keep glibc's malloc untouched (count_malloc.c would
 * add a header and a counter to every allocation and tax lwIP's per-packet mallocs).
 */
#include "bench.h"

bool bench_heap_counting(void)
{
    return false;
}

size_t bench_heap_live(void)
{
    return 0;
}

size_t bench_heap_peak(void)
{
    return 0;
}
