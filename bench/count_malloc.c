/*
 * count_malloc.c -- replaces malloc for the whole process (glibc supports this through
 * ELF symbol interposition, see "Replacing malloc" in the glibc manual) to count the bytes
 * requested and still held. Linked only into the *_mem harnesses: lwIP as Debian builds it
 * takes every pcb, segment and pbuf from malloc (MEM_LIBC_MALLOC, MEMP_MEM_MALLOC) and
 * keeps no statistics (LWIP_STATS 0), so this is the one way to see its memory from the
 * allocator. A 16-byte header in front of each block remembers the requested size, which
 * is what gets counted: the same figure as tcpwave's counting allocator.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

extern void *__libc_malloc(size_t size);
extern void __libc_free(void *ptr);

typedef struct hdr {
    void *base; /* what __libc_malloc returned (differs from the header for aligned blocks) */
    size_t size;
} hdr;

_Static_assert(sizeof(hdr) == 16, "the header keeps malloc's 16-byte alignment");

static size_t live, peak;

static void *wrap(void *base, size_t size, size_t align)
{
    if (base == NULL) {
        return NULL;
    }
    uintptr_t u = ((uintptr_t)base + sizeof(hdr) + align - 1) & ~(uintptr_t)(align - 1);
    hdr *h = (hdr *)u - 1;
    h->base = base;
    h->size = size;
    live += size;
    if (live > peak) {
        peak = live;
    }
    return (void *)u;
}

static void *aligned(size_t align, size_t size)
{
    if (align < 16) {
        align = 16;
    }
    if (size > SIZE_MAX - align - sizeof(hdr)) {
        return NULL;
    }
    return wrap(__libc_malloc(size + align + sizeof(hdr)), size, align);
}

/* calloc and realloc use this rather than malloc: gcc turns malloc + memset into a call to
   calloc, which here would call itself. */
static void *counted(size_t size)
{
    if (size > SIZE_MAX - sizeof(hdr)) {
        return NULL;
    }
    return wrap(__libc_malloc(size + sizeof(hdr)), size, 16);
}

void *malloc(size_t size)
{
    return counted(size);
}

void free(void *p)
{
    if (p == NULL) {
        return;
    }
    hdr *h = (hdr *)p - 1;
    live -= h->size;
    __libc_free(h->base);
}

void *calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        return NULL;
    }
    void *p = counted(n * size);
    if (p) {
        memset(p, 0, n * size);
    }
    return p;
}

void *realloc(void *p, size_t size)
{
    if (p == NULL) {
        return counted(size);
    }
    if (size == 0) {
        free(p);
        return NULL;
    }
    size_t old = ((hdr *)p - 1)->size;
    void *q = counted(size);
    if (q) {
        memcpy(q, p, old < size ? old : size);
        free(p);
    }
    return q;
}

size_t malloc_usable_size(void *p)
{
    return p ? ((hdr *)p - 1)->size : 0;
}

void *memalign(size_t align, size_t size)
{
    return aligned(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
    return aligned(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    void *p = aligned(align, size);
    if (p == NULL) {
        return ENOMEM;
    }
    *out = p;
    return 0;
}

void *valloc(size_t size)
{
    return aligned(4096, size);
}

void *pvalloc(size_t size)
{
    return aligned(4096, (size + 4095) & ~(size_t)4095);
}

bool bench_heap_counting(void)
{
    return true;
}

size_t bench_heap_live(void)
{
    return live;
}

size_t bench_heap_peak(void)
{
    return peak;
}
