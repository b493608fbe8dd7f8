/*
 * unit.h -- what every unit test includes: cmocka, a table-row check that names the row
 * on failure, and the seeded generator of the randomized tests.
 *
 * Every randomized test prints its seed; TW_UNIT_SEED=0x... in the environment replays
 * a run. The default seed is fixed so CTest runs are reproducible.
 */
#ifndef TW_UNIT_H
#define TW_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

/* Compare two integers; on mismatch fail with both values and the row being checked
   (assert_int_equal alone cannot say which table row broke). */
#define UNIT_EQ(actual, expected, ...)                                                             \
    do {                                                                                           \
        unsigned long long a_ = (unsigned long long)(actual);                                      \
        unsigned long long e_ = (unsigned long long)(expected);                                    \
        if (a_ != e_) {                                                                            \
            print_message(__VA_ARGS__);                                                            \
            print_message("\n");                                                                   \
            fail_msg("%s = 0x%llx (%lld), expected 0x%llx (%lld)", #actual, a_, (long long)a_, e_, \
                     (long long)e_);                                                               \
        }                                                                                          \
    } while (0)

#define TW_UNIT_DEFAULT_SEED 0x5eed1234u

typedef struct unit_rng {
    uint64_t s;
} unit_rng;

/* splitmix64: tiny, full-period, and good enough to pick test inputs. */
static inline uint64_t unit_next(unit_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform-enough value in [0, n), n > 0. */
static inline uint64_t unit_below(unit_rng *r, uint64_t n)
{
    return unit_next(r) % n;
}

static inline unit_rng unit_rng_seeded(const char *test)
{
    uint64_t seed = TW_UNIT_DEFAULT_SEED;
    const char *env = getenv("TW_UNIT_SEED");
    if (env && *env) {
        seed = strtoull(env, NULL, 0);
    }
    printf("%s: seed 0x%llx (replay: TW_UNIT_SEED=0x%llx)\n", test, (unsigned long long)seed,
           (unsigned long long)seed);
    unit_rng r = {seed};
    return r;
}

#endif
