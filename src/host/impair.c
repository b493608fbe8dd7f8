/*
 * impair.c -- a hostile path between the TUN device and the stack, for testing against
 * real peers where the kernel has no netem: every packet, each way, may be lost,
 * duplicated, have one bit flipped (only a checksum can tell), or wait out a delay with
 * jitter (which reorders, as netem's does). Seeded, so a run can be repeated; the loop
 * wakes for the next held packet as it does for the stack's deadline.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"

/* Held packets (netem's default limit is 1000). A packet that finds it full is dropped
   and counted, as a full queue drops. */
#define TW_IMPAIR_LIMIT 4096u

typedef struct held {
    tw_time at;
    uint64_t order; /* equal times leave in arrival order */
    int dir;
    size_t len;
    uint8_t *data;
} held;

struct tw_impair {
    tw_impair_spec spec;
    uint64_t rng;
    uint64_t order;
    held *q; /* a binary min-heap on (at, order) */
    size_t n;
    tw_impair_deliver_fn deliver[2];
    void *ud[2];
    tw_impair_stats stats[2];
};

/* ---- the spec ------------------------------------------------------------------------- */

static int parse_prob(const char *v, double *out)
{
    char *end = NULL;
    double d = strtod(v, &end);
    if (end == v) {
        return -1;
    }
    if (*end == '%') {
        d /= 100.0;
        end++;
    }
    if (*end != '\0' || !(d >= 0.0 && d <= 1.0)) {
        return -1;
    }
    *out = d;
    return 0;
}

static int parse_dur(const char *v, tw_time *out)
{
    char *end = NULL;
    double d = strtod(v, &end);
    if (end == v || !(d >= 0.0)) {
        return -1;
    }
    double unit = 1e6; /* milliseconds by default */
    if (strcmp(end, "ms") == 0 || *end == '\0') {
        unit = 1e6;
    } else if (strcmp(end, "us") == 0) {
        unit = 1e3;
    } else if (strcmp(end, "s") == 0) {
        unit = 1e9;
    } else {
        return -1;
    }
    if (d * unit > 10e9) { /* more than 10 s is a typo, not a path */
        return -1;
    }
    *out = (tw_time)(d * unit);
    return 0;
}

int tw_impair_parse(const char *s, tw_impair_spec *out, char *err, size_t errlen)
{
    tw_impair_spec sp;
    memset(&sp, 0, sizeof sp);
    char buf[256];
    if (strlen(s) >= sizeof buf) {
        snprintf(err, errlen, "impairment spec too long");
        return -1;
    }
    strcpy(buf, s);
    /* Every item a KEY=VALUE (strtok_r would pass over empty ones: "", ",", "a=1,,b=2"
       are refused here), each key once. */
    if (buf[0] == '\0' || buf[0] == ',' || buf[strlen(buf) - 1] == ',' || strstr(buf, ",,")) {
        snprintf(err, errlen, "empty item (expected KEY=VALUE[,KEY=VALUE]...)");
        return -1;
    }
    unsigned seen = 0;
    static const char *const keys[] = {"loss", "dup", "corrupt", "delay", "jitter", "seed"};
    char *save = NULL;
    for (char *kv = strtok_r(buf, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
        for (unsigned i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            size_t kl = strlen(keys[i]);
            if (strncmp(kv, keys[i], kl) == 0 && kv[kl] == '=') {
                if (seen & (1u << i)) {
                    snprintf(err, errlen, "%s given twice", keys[i]);
                    return -1;
                }
                seen |= 1u << i;
            }
        }
        char *eq = strchr(kv, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "'%s' is not KEY=VALUE", kv);
            return -1;
        }
        *eq = '\0';
        const char *k = kv, *v = eq + 1;
        int rc = 0;
        if (strcmp(k, "loss") == 0) {
            rc = parse_prob(v, &sp.loss);
        } else if (strcmp(k, "dup") == 0) {
            rc = parse_prob(v, &sp.dup);
        } else if (strcmp(k, "corrupt") == 0) {
            rc = parse_prob(v, &sp.corrupt);
        } else if (strcmp(k, "delay") == 0) {
            rc = parse_dur(v, &sp.delay);
        } else if (strcmp(k, "jitter") == 0) {
            rc = parse_dur(v, &sp.jitter);
        } else if (strcmp(k, "seed") == 0) {
            char *end = NULL;
            errno = 0;
            sp.seed = strtoull(v, &end, 0);
            /* (strtoull takes "-1" as 2^64-1 and saturates past 2^64: both refused) */
            rc = (end == v || *end != '\0' || errno == ERANGE || strchr(v, '-')) ? -1 : 0;
            sp.seed_given = rc == 0;
        } else {
            snprintf(err, errlen, "unknown key '%s' (loss, dup, corrupt, delay, jitter, seed)",
                     k);
            return -1;
        }
        if (rc < 0) {
            snprintf(err, errlen, "bad value '%s' for %s", v, k);
            return -1;
        }
    }
    if (sp.jitter > sp.delay) {
        snprintf(err, errlen, "jitter larger than delay");
        return -1;
    }
    *out = sp;
    return 0;
}

/* ---- the queue ------------------------------------------------------------------------ */

static uint64_t next_rand(tw_impair *im)
{
    /* splitmix64: small, and good enough to pick fates */
    uint64_t z = (im->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static bool chance(tw_impair *im, double p)
{
    return p > 0.0 && (double)(next_rand(im) >> 11) * 0x1.0p-53 < p;
}

static bool before(const held *a, const held *b)
{
    return a->at < b->at || (a->at == b->at && a->order < b->order);
}

static void heap_push(tw_impair *im, held h)
{
    size_t i = im->n++;
    im->q[i] = h;
    while (i > 0 && before(&im->q[i], &im->q[(i - 1) / 2])) {
        held t = im->q[i];
        im->q[i] = im->q[(i - 1) / 2];
        im->q[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static held heap_pop(tw_impair *im)
{
    held top = im->q[0];
    im->q[0] = im->q[--im->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < im->n && before(&im->q[l], &im->q[m])) {
            m = l;
        }
        if (r < im->n && before(&im->q[r], &im->q[m])) {
            m = r;
        }
        if (m == i) {
            break;
        }
        held t = im->q[i];
        im->q[i] = im->q[m];
        im->q[m] = t;
        i = m;
    }
    return top;
}

int tw_impair_new(tw_impair **out, const tw_impair_spec *spec, tw_impair_deliver_fn in,
                  void *in_ud, tw_impair_deliver_fn out_fn, void *out_ud)
{
    tw_impair *im = calloc(1, sizeof *im);
    if (im == NULL) {
        return -ENOMEM;
    }
    im->q = calloc(TW_IMPAIR_LIMIT, sizeof *im->q);
    if (im->q == NULL) {
        free(im);
        return -ENOMEM;
    }
    im->spec = *spec;
    im->rng = spec->seed;
    im->deliver[TW_IMPAIR_IN] = in;
    im->ud[TW_IMPAIR_IN] = in_ud;
    im->deliver[TW_IMPAIR_OUT] = out_fn;
    im->ud[TW_IMPAIR_OUT] = out_ud;
    *out = im;
    return 0;
}

void tw_impair_free(tw_impair *im)
{
    if (im == NULL) {
        return;
    }
    for (size_t i = 0; i < im->n; i++) {
        free(im->q[i].data);
    }
    free(im->q);
    free(im);
}

void tw_impair_packet(tw_impair *im, int dir, const uint8_t *pkt, size_t len, tw_time now)
{
    tw_impair_stats *s = &im->stats[dir];
    s->packets++;
    if (chance(im, im->spec.loss)) {
        s->dropped++;
        return;
    }
    int copies = chance(im, im->spec.dup) ? 2 : 1;
    s->duplicated += (uint64_t)(copies - 1);
    bool flip = chance(im, im->spec.corrupt) && len > 0; /* (an empty packet has no bit) */
    uint64_t bit = flip ? next_rand(im) % (len * 8) : 0;
    s->corrupted += flip;
    for (int c = 0; c < copies; c++) {
        tw_time at = now + im->spec.delay;
        if (im->spec.jitter) {
            /* uniform in [delay - jitter, delay + jitter] */
            at = at - im->spec.jitter + next_rand(im) % (2 * im->spec.jitter + 1);
        }
        bool now_ok = at <= now && im->n == 0; /* (nothing held: no overtaking) */
        if (now_ok && !flip) {
            im->deliver[dir](pkt, len, im->ud[dir]);
            continue;
        }
        if (!now_ok && im->n == TW_IMPAIR_LIMIT) {
            s->dropped++;
            continue;
        }
        uint8_t *copy = malloc(len);
        if (copy == NULL) {
            s->dropped++;
            continue;
        }
        memcpy(copy, pkt, len);
        if (flip) {
            copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        if (now_ok) {
            im->deliver[dir](copy, len, im->ud[dir]);
            free(copy);
            continue;
        }
        heap_push(im, (held){.at = at, .order = im->order++, .dir = dir, .len = len,
                             .data = copy});
    }
}

tw_time tw_impair_next(const tw_impair *im)
{
    return im->n ? im->q[0].at : TW_TIME_NEVER;
}

void tw_impair_release(tw_impair *im, tw_time now)
{
    while (im->n && im->q[0].at <= now) {
        held h = heap_pop(im);
        im->deliver[h.dir](h.data, h.len, im->ud[h.dir]);
        free(h.data);
    }
}

tw_impair_stats tw_impair_get_stats(const tw_impair *im, int dir)
{
    return im->stats[dir];
}

const tw_impair_spec *tw_impair_get_spec(const tw_impair *im)
{
    return &im->spec;
}
