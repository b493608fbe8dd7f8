/*
 * test_timewait.c -- the TIME-WAIT record table (timewait.h): records made, found, ended
 * by time and by hand in random order, against a plain model. The table moves records
 * (a freed slot takes the last one) and relinks them by index, so after every step all
 * live 4-tuples must still be found, the expiry list must be in order of end, the
 * stack's deadline must be the earliest end, and memory must go back to a fresh stack's.
 */
#include "core/timewait.h"
#include "unit.h"

#include <string.h>

static int tx_drop(const uint8_t *pkt, size_t len, void *ud)
{
    (void)pkt;
    (void)len;
    (void)ud;
    return 0;
}

static tw_stack *new_stack(void)
{
    tw_config cfg;
    tw_config_init(&cfg);
    cfg.addr = 0x0a000001u;
    tw_netdev dev = {.transmit = tx_drop, .mtu = 1500};
    tw_stack *st = NULL;
    assert_int_equal(tw_stack_new(&st, &cfg, &dev, 0), 0);
    return st;
}

enum { N = 3000 };

typedef struct model {
    bool live;
    uint32_t raddr;
    uint16_t rport, lport;
    uint64_t end; /* tick */
} model;

/* A connection that is just enough for tw_timewait_enter. */
static void enter(tw_stack *st, const model *e, uint32_t i)
{
    tw_socket *c = tw_conn_alloc(st, i + 1);
    assert_non_null(c);
    c->raddr = e->raddr;
    c->rport = e->rport;
    c->lport = e->lport;
    c->snd_nxt = tw_seq_make(i);
    c->rcv_nxt = tw_seq_make(~i);
    c->misc_at = e->end * TW_TICK;
    /* As every caller's connection is (tcp_conn.h tw_timewait_enter): an orphan, the
       application's close behind it, and counted, having gone through SYN-SENT or
       SYN-RECEIVED; the record's making takes both counts back down. */
    c->flags |= TW_F_ORPHAN | TW_F_COUNTED;
    st->orphan_room--; /* (one orphan more: stack.h) */
    st->nconns++;
    /* ...and bound (bind, connect, or a listener's child): its port's count becomes the
       record's (timewait.c make_in), let go of when the record goes. */
    tw_port *p = tw_port_ref(st, e->lport);
    assert_non_null(p);
    p->nbound++;
    c->flags |= TW_F_BOUND;
    assert_true(tw_timewait_enter(c));
}

static void check(const tw_stack *st, const model *ms, size_t n)
{
    size_t live = 0;
    uint64_t earliest = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        const tw_tw *t = tw_timewait_find(st, tw_tuple_key(ms[i].raddr, ms[i].rport, ms[i].lport));
        UNIT_EQ(t != NULL, ms[i].live, "record %zu", i);
        if (t) {
            UNIT_EQ(t->snd_nxt, (uint32_t)i, "record %zu found under another's key", i);
            UNIT_EQ(t->expires, ms[i].end * TW_TICK, "end of record %zu", i);
            UNIT_EQ(tw_tw_key(&st->tws, t), tw_tuple_key(ms[i].raddr, ms[i].rport, ms[i].lport),
                    "4-tuple of record %zu from its hash", i);
            earliest = ms[i].end < earliest ? ms[i].end : earliest;
            live++;
        }
    }
    UNIT_EQ(st->tws.count, live, "records");
    /* The buckets' sizes (timewait.c nb_grown, nb_shrunk): 16, 128, 1,024, 8,192, then
       powers of two; up to two records a bucket, and none with no record. */
    if (st->tws.b != &st->tws.none) {
        uint32_t nb = st->tws.mask + 1;
        UNIT_EQ(nb == 16 || nb == 128 || nb == 1024 || (nb >= 8192 && (nb & (nb - 1)) == 0), 1,
                "bucket count %u", nb);
        UNIT_EQ(live <= 2 * (size_t)nb, 1, "%zu records in %u buckets", live, nb);
    } else {
        UNIT_EQ(live, 0, "records without buckets");
    }
    UNIT_EQ(tw_timewait_next(st), earliest, "earliest end");
    UNIT_EQ(st->tws.head_at, live ? earliest * TW_TICK : TW_TIME_NEVER, "earliest end's time");
    /* The expiry list: every record once, ends never decreasing, links consistent. */
    size_t k = 0;
    uint64_t prev_end = 0;
    uint32_t prev = TW_TW_NIL;
    for (uint32_t i = st->tws.head; i != TW_TW_NIL; k++) {
        UNIT_EQ(k < live, 1, "list longer than the table");
        const tw_tw *t = &st->tws.dir[i >> 8][i & 255];
        UNIT_EQ(t->fprev, prev, "back link of list entry %zu", k);
        UNIT_EQ(t->expires >= prev_end, 1, "list out of order at entry %zu", k);
        prev_end = t->expires;
        prev = i;
        i = t->fnext;
    }
    UNIT_EQ(k, live, "list length");
    UNIT_EQ(st->tws.tail, prev, "tail");
    /* the tail's address kept with it (timewait.c tail_set), also after chunk 0 moved */
    const tw_tw *tail_rec = prev == TW_TW_NIL ? NULL : &st->tws.dir[prev >> 8][prev & 255];
    UNIT_EQ(st->tws.tail_rec == tail_rec, 1, "tail's address");
}

static void test_timewait_table_random(void **state)
{
    (void)state;
    unit_rng rng = unit_rng_seeded(__func__);
    tw_stack *st = new_stack();
    size_t base = tw_stack_mem_live(st);
    tw_socket *keep; /* a socket keeps the stack from trimming its free lists meanwhile */
    assert_int_equal(tw_socket_open(st, &keep), 0);
    static model ms[N];
    memset(ms, 0, sizeof(ms));
    uint64_t now = 100000; /* ticks */
    for (uint32_t i = 0; i < N; i++) {
        ms[i].raddr = 0xc0000000u + (uint32_t)unit_below(&rng, 64);
        ms[i].rport = (uint16_t)(1024 + i);
        ms[i].lport = (uint16_t)(80 + unit_below(&rng, 4));
    }
    uint32_t made = 0;
    for (int step = 0; step < 4 * N && (made < N || st->tws.count); step++) {
        uint64_t op = unit_below(&rng, 10);
        if (op < 6 && made < N) {
            /* Mostly "TIME-WAIT began now"; sometimes a close() made the record later
               than TIME-WAIT began, so it ends before the newest ones. */
            ms[made].end = now + 60000 - (unit_below(&rng, 4) == 0 ? unit_below(&rng, 5000) : 0);
            ms[made].live = true;
            enter(st, &ms[made], made);
            made++;
        } else if (op < 8 && made) {
            uint32_t i = (uint32_t)unit_below(&rng, made);
            if (ms[i].live) {
                tw_tw *t = tw_timewait_find(st, tw_tuple_key(ms[i].raddr, ms[i].rport, ms[i].lport));
                assert_non_null(t);
                tw_timewait_free(st, t);
                ms[i].live = false;
            }
        } else {
            now += unit_below(&rng, 400);
            tw_timewait_expire(st, now);
            for (uint32_t i = 0; i < made; i++) {
                if (ms[i].live && ms[i].end <= now) {
                    ms[i].live = false;
                }
            }
        }
        if (step % 97 == 0 || st->tws.count < 8) {
            check(st, ms, made);
        }
    }
    check(st, ms, made);
    tw_timewait_expire(st, UINT64_MAX - 1);
    assert_int_equal(st->tws.count, 0);
    assert_null(st->tws.dir);
    assert_ptr_equal(st->tws.b, &st->tws.none); /* (no buckets: the empty one, htab.h) */
    assert_int_equal(st->tws.mask, 0);
    tw_socket_close(keep, 0);
    assert_int_equal(tw_stack_mem_live(st), base);
    tw_stack_free(st);
}

/* Records left at tw_stack_free go with the stack (ASan reports a leak otherwise). */
/* A record keeps its 4-tuple as the keyed hash (timewait.h): tw_tw_key must undo
   tw_hash_mix for any key and seed, edge words included. */
static void test_timewait_key_from_hash(void **state)
{
    (void)state;
    unit_rng rng = unit_rng_seeded(__func__);
    static const uint64_t edges[] = {0, 1, UINT64_MAX, 0x8000000000000000ull,
                                     0x00000000ffffffffull, 0xffffffff00000000ull};
    tw_twtab T;
    memset(&T, 0, sizeof(T));
    tw_tw t;
    memset(&t, 0, sizeof(t));
    for (int k = 0; k < 20000; k++) {
        uint64_t key = k < 36 ? edges[k % 6] : unit_next(&rng);
        T.seed = k < 36 ? edges[k / 6] : unit_next(&rng);
        t.hash = tw_hash_mix(key, T.seed);
        UNIT_EQ(tw_tw_key(&T, &t), key, "key %016llx seed %016llx", (unsigned long long)key,
                (unsigned long long)T.seed);
    }
}

static void test_timewait_freed_with_stack(void **state)
{
    (void)state;
    tw_stack *st = new_stack();
    for (uint32_t i = 0; i < 600; i++) {
        model e = {true, 0xc0000001u, (uint16_t)(2000 + i), 80, 1000 + i};
        enter(st, &e, i);
    }
    assert_int_equal(tw_stack_time_wait_count(st), 600);
    tw_stack_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timewait_table_random),
        cmocka_unit_test(test_timewait_key_from_hash),
        cmocka_unit_test(test_timewait_freed_with_stack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
