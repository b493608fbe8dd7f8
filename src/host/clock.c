/*
 * clock.c -- the host's clocks and entropy. The core never reads a clock (DESIGN.md):
 * CLOCK_MONOTONIC is what we hand it as `now`, because it never jumps when the wall clock
 * is set; the wall clock is only for pcap timestamps, which readers expect in Unix time.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "host/host.h"

static uint64_t ns_of(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

tw_time tw_host_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ns_of(&ts);
}

uint64_t tw_host_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ns_of(&ts);
}

int tw_host_entropy(void *buf, size_t len)
{
    uint8_t *p = buf;
    /* getrandom may return fewer bytes when interrupted by a signal; requests of up to
       256 bytes never are once the pool is seeded, but loop anyway (bounded by len). */
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int tw_parse_ipv4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    int parts = 0;
    const char *p = s;
    while (parts < 4) {
        if (*p < '0' || *p > '9') {
            return -EINVAL;
        }
        unsigned octet = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) {
            octet = octet * 10 + (unsigned)(*p - '0');
            p++;
            digits++;
        }
        /* A leading zero is refused, as inet_pton does: inet_aton would read "010" as
           octal 8, so the address would mean different things to different tools. */
        if (octet > 255 || digits > 3 || (digits > 1 && p[-digits] == '0')) {
            return -EINVAL;
        }
        v = (v << 8) | octet;
        parts++;
        if (parts < 4) {
            if (*p != '.') {
                return -EINVAL;
            }
            p++;
        }
    }
    if (*p != '\0') {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

char *tw_fmt_ipv4(uint32_t a, char *buf)
{
    snprintf(buf, 16, "%u.%u.%u.%u", (unsigned)(a >> 24) & 255u, (unsigned)(a >> 16) & 255u,
             (unsigned)(a >> 8) & 255u, (unsigned)a & 255u);
    return buf;
}
