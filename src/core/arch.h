/* arch.h -- which machine-specific forms a build uses.
 *
 * Where x86-64 inline assembly (GCC's syntax) or x86-64-only intrinsics make a hot path
 * shorter, the portable C form stands beside it and is the one every other target
 * compiles. TW_PORTABLE (cmake -DTW_PORTABLE=ON) makes an x86-64 build take the portable
 * forms too, so that `make test` runs them (test-portable) on a machine that would
 * otherwise never execute them.
 */
#ifndef TW_ARCH_H
#define TW_ARCH_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(TW_PORTABLE)
#define TW_ASM_X86 1
#else
#define TW_ASM_X86 0
#endif

/* The same, for asm with flag outputs ("=@cc..."). */
#if TW_ASM_X86 && defined(__GCC_ASM_FLAG_OUTPUTS__)
#define TW_ASM_X86_FLAGS 1
#else
#define TW_ASM_X86_FLAGS 0
#endif

#endif
