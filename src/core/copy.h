/*
 * copy.h -- the socket buffers' bulk copies (application to send ring, receive ring to
 * application), with an AVX2 loop chosen at run time like cksum.h's.
 */
#ifndef TW_CORE_COPY_H
#define TW_CORE_COPY_H

#include <stddef.h>
#include <string.h>

/* The forms behind tw_copy: libc's memcpy, and on x86-64 GCC/clang builds an AVX2 loop
   that only tw_cksum_have_avx2() machines may run (any length). Both are here for the
   unit tests, which compare them. */
void tw_copy_portable(void *dst, const void *src, size_t len);
#if defined(__x86_64__) && defined(__GNUC__)
void tw_copy_avx2(void *dst, const void *src, size_t len);
#endif
/* Copy `len` bytes from `src` to `dst` (no overlap), as memcpy does. */
void tw_copy_big(void *dst, const void *src, size_t len);
/* Short copies (headers, a few bytes) stay with memcpy, which compilers inline; from
   one vector loop's turn on, tw_copy_big. */
static inline void tw_copy(void *dst, const void *src, size_t len)
{
    if (len >= 256) {
        tw_copy_big(dst, src, len);
    } else {
        memcpy(dst, src, len);
    }
}

#endif
