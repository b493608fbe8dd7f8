/*
 * link.c -- the in-memory network of sim.h: packets in flight in a time-ordered heap,
 * seeded impairments, and a loop that runs stacks on virtual time.
 *
 * Determinism: the only randomness is the simulator's own generator (xoshiro256**,
 * seeded through splitmix64), and packets due at the same instant are delivered in the
 * order they were sent.
 */
#include "sim/sim.h"

#include <stdlib.h>
#include <string.h>

#define SIM_MAX_STACKS 16

typedef struct sim_pkt {
    tw_time at;
    uint64_t order;
    int from, to;
    size_t len;
    uint8_t *data;
} sim_pkt;

typedef struct sim_node {
    tw_sim *sim;
    int idx;
    tw_stack *st;
    uint32_t addr;
} sim_node;

struct tw_sim {
    tw_time now;
    uint64_t rng[4];
    uint64_t order;
    sim_node nodes[SIM_MAX_STACKS];
    int nnodes;
    sim_pkt *heap;
    size_t nheap, capheap;
    tw_sim_impair imp;
    tw_sim_filter_fn filter;
    void *filter_ud;
    tw_sim_tap_fn tap;
    void *tap_ud;
    uint64_t sent, dropped, queue_drops, corrupted, ce_marked;
    bool bad[SIM_MAX_STACKS];                    /* Gilbert-Elliott state per sender */
    tw_time busy[SIM_MAX_STACKS][SIM_MAX_STACKS]; /* bottleneck busy until, per direction */
};

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t tw_sim_rand(tw_sim *sim)
{
    uint64_t *s = sim->rng;
    uint64_t r = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

static double rand01(tw_sim *sim)
{
    return (double)(tw_sim_rand(sim) >> 11) * (1.0 / 9007199254740992.0);
}

int tw_sim_new(tw_sim **out, uint64_t seed, tw_time start)
{
    tw_sim *sim = calloc(1, sizeof(*sim));
    if (!sim) {
        return TW_ERR_NOMEM;
    }
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        sim->rng[i] = splitmix(&x);
    }
    sim->now = start;
    *out = sim;
    return 0;
}

void tw_sim_free(tw_sim *sim)
{
    if (!sim) {
        return;
    }
    for (int i = 0; i < sim->nnodes; i++) {
        tw_stack_free(sim->nodes[i].st);
    }
    for (size_t i = 0; i < sim->nheap; i++) {
        free(sim->heap[i].data);
    }
    free(sim->heap);
    free(sim);
}

static bool pkt_before(const sim_pkt *a, const sim_pkt *b)
{
    return a->at < b->at || (a->at == b->at && a->order < b->order);
}

static int heap_push(tw_sim *sim, sim_pkt p)
{
    if (sim->nheap == sim->capheap) {
        size_t ncap = sim->capheap ? sim->capheap * 2 : 256;
        sim_pkt *nh = realloc(sim->heap, ncap * sizeof(*nh));
        if (!nh) {
            return -1;
        }
        sim->heap = nh;
        sim->capheap = ncap;
    }
    size_t i = sim->nheap++;
    sim->heap[i] = p;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!pkt_before(&sim->heap[i], &sim->heap[parent])) {
            break;
        }
        sim_pkt t = sim->heap[i];
        sim->heap[i] = sim->heap[parent];
        sim->heap[parent] = t;
        i = parent;
    }
    return 0;
}

static sim_pkt heap_pop(tw_sim *sim)
{
    sim_pkt top = sim->heap[0];
    sim->heap[0] = sim->heap[--sim->nheap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < sim->nheap && pkt_before(&sim->heap[l], &sim->heap[m])) {
            m = l;
        }
        if (r < sim->nheap && pkt_before(&sim->heap[r], &sim->heap[m])) {
            m = r;
        }
        if (m == i) {
            break;
        }
        sim_pkt t = sim->heap[i];
        sim->heap[i] = sim->heap[m];
        sim->heap[m] = t;
        i = m;
    }
    return top;
}

static int node_by_addr(const tw_sim *sim, uint32_t addr)
{
    for (int i = 0; i < sim->nnodes; i++) {
        if (sim->nodes[i].addr == addr) {
            return i;
        }
    }
    return -1;
}

static void enqueue(tw_sim *sim, const uint8_t *pkt, size_t len, int from, int to, tw_time at)
{
    sim_pkt p = {at, sim->order++, from, to, len, malloc(len ? len : 1)};
    if (!p.data) {
        sim->dropped++;
        return;
    }
    memcpy(p.data, pkt, len);
    if (heap_push(sim, p) != 0) {
        free(p.data);
        sim->dropped++;
    }
}

static int sim_transmit(const uint8_t *pkt, size_t len, void *ud)
{
    sim_node *n = ud;
    tw_sim *sim = n->sim;
    sim->sent++;
    if (len < 20) {
        sim->dropped++;
        return 0;
    }
    uint32_t dst = (uint32_t)pkt[16] << 24 | (uint32_t)pkt[17] << 16 | (uint32_t)pkt[18] << 8 |
                   pkt[19];
    int to = node_by_addr(sim, dst);
    if (to < 0) {
        sim->dropped++; /* nobody has that address: the packet goes nowhere */
        return 0;
    }
    if (sim->filter && sim->filter(pkt, len, n->idx, to, sim->filter_ud)) {
        sim->dropped++;
        return 0;
    }
    const tw_sim_impair *imp = &sim->imp;
    /* ECN (RFC 3168 5): an ECT packet (ECN field 01 or 10) may be marked CE in place of
       a drop. */
    bool ect = imp->ecn_mark > 0 && ((pkt[1] & 3u) == 1u || (pkt[1] & 3u) == 2u);
    bool mark = false;
    if (imp->loss > 0 && rand01(sim) < imp->loss) {
        if (!ect) {
            sim->dropped++;
            return 0;
        }
        mark = true;
    }
    if (imp->burst_loss > 0) {
        bool *bad = &sim->bad[n->idx];
        *bad = *bad ? rand01(sim) >= 0.3 : rand01(sim) < imp->burst_loss;
        if (*bad && rand01(sim) < 0.5) {
            if (!ect) {
                sim->dropped++;
                return 0;
            }
            mark = true;
        }
    }
    tw_time depart = sim->now;
    if (imp->rate_bps) {
        /* A bottleneck: packets leave one after another at the link rate; the queue in
           front of it holds queue_pkts full-sized packets, the rest is tail-dropped. */
        tw_time *busy = &sim->busy[n->idx][to];
        tw_time start = *busy > sim->now ? *busy : sim->now;
        uint64_t backlog = (uint64_t)((double)(start - sim->now) * (double)imp->rate_bps / 8e9);
        uint32_t qmax = imp->queue_pkts ? imp->queue_pkts : 100;
        if (backlog > (uint64_t)qmax * 1500u) {
            if (!ect) {
                sim->queue_drops++;
                sim->dropped++;
                return 0;
            }
            mark = true; /* (an ECN queue marks; the packet still takes its place) */
        }
        depart = start + (tw_time)((double)len * 8e9 / (double)imp->rate_bps);
        *busy = depart;
    }
    int copies = (imp->dup > 0 && rand01(sim) < imp->dup) ? 2 : 1;
    uint8_t flipped[65536];
    if (ect && !mark && rand01(sim) < imp->ecn_mark) {
        mark = true;
    }
    if (mark && len <= sizeof flipped && len >= 20) {
        /* CE, and the IPv4 header checksum adjusted for the changed word (RFC 1624 3). */
        memcpy(flipped, pkt, len);
        uint32_t old = (uint32_t)flipped[0] << 8 | flipped[1];
        flipped[1] |= 3u;
        uint32_t nw = (uint32_t)flipped[0] << 8 | flipped[1];
        uint32_t hc = (uint32_t)flipped[10] << 8 | flipped[11];
        uint32_t s = (~hc & 0xffffu) + (~old & 0xffffu) + nw;
        s = (s & 0xffffu) + (s >> 16);
        s = (s & 0xffffu) + (s >> 16);
        hc = ~s & 0xffffu;
        flipped[10] = (uint8_t)(hc >> 8);
        flipped[11] = (uint8_t)hc;
        pkt = flipped;
        sim->ce_marked++;
    }
    if (imp->corrupt > 0 && len <= sizeof flipped && rand01(sim) < imp->corrupt) {
        if (pkt != flipped) {
            memcpy(flipped, pkt, len);
        }
        uint64_t bit = tw_sim_rand(sim) % (len * 8);
        flipped[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        pkt = flipped;
        sim->corrupted++;
    }
    for (int i = 0; i < copies; i++) {
        tw_time at = depart + imp->delay;
        if (imp->jitter) {
            at += tw_sim_rand(sim) % (imp->jitter + 1);
        }
        if (imp->reorder > 0 && rand01(sim) < imp->reorder) {
            at += imp->reorder_delay ? imp->reorder_delay : TW_MS(1);
        }
        enqueue(sim, pkt, len, n->idx, to, at);
    }
    return 0;
}

int tw_sim_add_stack(tw_sim *sim, const tw_config *cfg, uint16_t mtu, tw_stack **out)
{
    if (!sim || !cfg || sim->nnodes == SIM_MAX_STACKS || node_by_addr(sim, cfg->addr) >= 0) {
        return TW_ERR_INVAL;
    }
    sim_node *n = &sim->nodes[sim->nnodes];
    n->sim = sim;
    n->idx = sim->nnodes;
    n->addr = cfg->addr;
    tw_config c = *cfg;
    static const uint8_t zero[32];
    if (memcmp(c.entropy, zero, sizeof(zero)) == 0) {
        for (int i = 0; i < 32; i += 8) {
            uint64_t r = tw_sim_rand(sim);
            memcpy(c.entropy + i, &r, 8);
        }
    }
    tw_netdev dev = {sim_transmit, n, mtu ? mtu : 1500};
    int rc = tw_stack_new(&n->st, &c, &dev, sim->now);
    if (rc) {
        return rc;
    }
    if (out) {
        *out = n->st;
    }
    return sim->nnodes++;
}

tw_stack *tw_sim_stack(const tw_sim *sim, int idx)
{
    return idx >= 0 && idx < sim->nnodes ? sim->nodes[idx].st : NULL;
}

void tw_sim_set_impair(tw_sim *sim, const tw_sim_impair *imp)
{
    if (imp) {
        sim->imp = *imp;
    } else {
        memset(&sim->imp, 0, sizeof(sim->imp));
    }
}

void tw_sim_set_filter(tw_sim *sim, tw_sim_filter_fn fn, void *ud)
{
    sim->filter = fn;
    sim->filter_ud = ud;
}

void tw_sim_set_tap(tw_sim *sim, tw_sim_tap_fn fn, void *ud)
{
    sim->tap = fn;
    sim->tap_ud = ud;
}

tw_time tw_sim_now(const tw_sim *sim)
{
    return sim->now;
}

/* The next instant anything happens: a packet arrives or a stack's deadline. */
static tw_time next_event(const tw_sim *sim)
{
    tw_time t = sim->nheap ? sim->heap[0].at : TW_TIME_NEVER;
    for (int i = 0; i < sim->nnodes; i++) {
        tw_time d = tw_stack_next_deadline(sim->nodes[i].st);
        if (d < t) {
            t = d;
        }
    }
    return t < sim->now ? sim->now : t;
}

static void step(tw_sim *sim)
{
    while (sim->nheap && sim->heap[0].at <= sim->now) {
        sim_pkt p = heap_pop(sim);
        if (sim->tap) {
            sim->tap(p.data, p.len, sim->now, p.from, p.to, sim->tap_ud);
        }
        tw_stack_input(sim->nodes[p.to].st, p.data, p.len, sim->now);
        free(p.data);
    }
    for (int i = 0; i < sim->nnodes; i++) {
        if (tw_stack_next_deadline(sim->nodes[i].st) <= sim->now) {
            tw_stack_on_timeout(sim->nodes[i].st, sim->now);
        }
    }
}

void tw_sim_run_until(tw_sim *sim, tw_time until)
{
    for (;;) {
        tw_time t = next_event(sim);
        if (t > until) {
            break;
        }
        sim->now = t;
        step(sim);
    }
    if (until > sim->now) {
        sim->now = until;
    }
}

tw_time tw_sim_run_idle(tw_sim *sim, tw_time limit)
{
    for (;;) {
        tw_time t = next_event(sim);
        if (t > limit || t == TW_TIME_NEVER) {
            break;
        }
        sim->now = t;
        step(sim);
    }
    return sim->now;
}

size_t tw_sim_in_flight(const tw_sim *sim)
{
    return sim->nheap;
}

uint64_t tw_sim_sent(const tw_sim *sim)
{
    return sim->sent;
}

uint64_t tw_sim_dropped(const tw_sim *sim)
{
    return sim->dropped;
}

uint64_t tw_sim_queue_drops(const tw_sim *sim)
{
    return sim->queue_drops;
}

uint64_t tw_sim_ce_marked(const tw_sim *sim)
{
    return sim->ce_marked;
}

uint64_t tw_sim_corrupted(const tw_sim *sim)
{
    return sim->corrupted;
}
