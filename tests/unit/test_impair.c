/*
 * test_impair.c -- the host layer's impaired path (src/host/impair.c): the spec parser
 * takes what --impair documents and refuses the rest with a reason; with a seed the fates
 * are repeatable; delays deliver in time order (jitter reorders, equal times keep their
 * order); loss, duplication and corruption happen at about their rates and are counted;
 * a flipped packet differs in exactly one bit; nothing is left behind at free.
 */
#include "host/host.h"
#include "unit.h"

#include <string.h>

typedef struct sink {
    size_t n;
    uint32_t ids[20000];
    size_t lens[20000];
    unsigned flipped_bits;
} sink;

static uint8_t orig[64];

static void take(const uint8_t *pkt, size_t len, void *ud)
{
    sink *s = ud;
    uint32_t id;
    memcpy(&id, pkt, 4);
    if (s->n < 20000) {
        s->ids[s->n] = id;
        s->lens[s->n] = len;
    }
    s->n++;
    for (size_t i = 4; i < len; i++) {
        s->flipped_bits += (unsigned)__builtin_popcount((unsigned)(pkt[i] ^ orig[i]));
    }
}

static void test_impair_parse(void **state)
{
    (void)state;
    tw_impair_spec sp;
    char err[128];
    assert_int_equal(tw_impair_parse("loss=2%,dup=0.02,corrupt=1%,delay=10ms,jitter=5,seed=7",
                                     &sp, err, sizeof err),
                     0);
    assert_true(sp.loss > 0.0199 && sp.loss < 0.0201);
    assert_true(sp.dup > 0.0199 && sp.dup < 0.0201);
    assert_true(sp.corrupt > 0.0099 && sp.corrupt < 0.0101);
    UNIT_EQ(sp.delay, TW_MS(10), "delay");
    UNIT_EQ(sp.jitter, TW_MS(5), "jitter in ms by default");
    UNIT_EQ(sp.seed, 7, "seed");
    assert_true(sp.seed_given);
    assert_int_equal(tw_impair_parse("delay=250us", &sp, err, sizeof err), 0);
    UNIT_EQ(sp.delay, TW_US(250), "us");
    static const char *bad[] = {"loss=2",      "loss=-1%",  "dup=x",      "delay=5 ms",
                                "delay=11s",   "jitter=5",  "nope=1",     "loss",
                                "seed=",       "corrupt=101%"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (tw_impair_parse(bad[i], &sp, err, sizeof err) != -1 || err[0] == '\0') {
            fail_msg("'%s' was accepted or refused without a reason", bad[i]);
        }
    }
}

static void send_n(tw_impair *im, int dir, uint32_t n, tw_time t0, tw_time step)
{
    uint8_t pkt[64];
    memcpy(pkt, orig, sizeof pkt);
    for (uint32_t i = 0; i < n; i++) {
        memcpy(pkt, &i, 4);
        tw_impair_packet(im, dir, pkt, sizeof pkt, t0 + i * step);
    }
}

/* No delay, no jitter: everything comes at once and in order, at the rates asked. */
static void test_impair_rates(void **state)
{
    (void)state;
    static sink in, out;
    memset(&in, 0, sizeof in);
    memset(&out, 0, sizeof out);
    for (size_t i = 0; i < sizeof orig; i++) {
        orig[i] = (uint8_t)(i * 37u + 11u);
    }
    tw_impair_spec sp;
    char err[128];
    assert_int_equal(tw_impair_parse("loss=10%,dup=5%,corrupt=2%,seed=42", &sp, err, sizeof err), 0);
    tw_impair *im;
    assert_int_equal(tw_impair_new(&im, &sp, take, &in, take, &out), 0);
    send_n(im, TW_IMPAIR_IN, 10000, 1000, 0);
    UNIT_EQ(tw_impair_next(im), TW_TIME_NEVER, "nothing held without a delay");
    tw_impair_stats st = tw_impair_get_stats(im, TW_IMPAIR_IN);
    UNIT_EQ(st.packets, 10000, "counted");
    assert_true(st.dropped > 850 && st.dropped < 1150);
    assert_true(st.duplicated > 350 && st.duplicated < 600);
    assert_true(st.corrupted > 120 && st.corrupted < 280);
    UNIT_EQ(in.n, 10000 - st.dropped + st.duplicated, "delivered = sent - lost + copies");
    UNIT_EQ(out.n, 0, "the other way saw nothing");
    /* one bit per corrupted packet, two when its duplicate carries the same flip (the id
       bytes are not compared: a flip there shows as a wrong id, at most one per packet) */
    assert_true(in.flipped_bits <= 2 * st.corrupted && in.flipped_bits * 2 >= st.corrupted);
    tw_impair_free(im);

    /* Without corruption the ids are intact: in order, a duplicate right after its
       original. */
    memset(&in, 0, sizeof in);
    assert_int_equal(tw_impair_parse("loss=10%,dup=30%,seed=43", &sp, err, sizeof err), 0);
    assert_int_equal(tw_impair_new(&im, &sp, take, &in, take, &out), 0);
    send_n(im, TW_IMPAIR_IN, 5000, 1000, 0);
    for (size_t i = 1; i < in.n; i++) {
        assert_true(in.ids[i] >= in.ids[i - 1]);
    }
    tw_impair_free(im);
}

/* A delay with jitter: nothing before its time, all by delay + jitter, in time order
   (so some packets overtake others), and the same seed gives the same order. */
static void test_impair_delay_reorders(void **state)
{
    (void)state;
    static sink a, b;
    uint32_t first_order[2000];
    for (int run = 0; run < 2; run++) {
        sink *s = run ? &b : &a;
        memset(s, 0, sizeof *s);
        tw_impair_spec sp;
        char err[128];
        assert_int_equal(tw_impair_parse("delay=10ms,jitter=5ms,seed=9", &sp, err, sizeof err), 0);
        tw_impair *im;
        assert_int_equal(tw_impair_new(&im, &sp, take, s, take, s), 0);
        send_n(im, TW_IMPAIR_OUT, 2000, TW_SEC(1), TW_US(10));
        UNIT_EQ(s->n, 0, "all held");
        assert_true(tw_impair_next(im) >= TW_SEC(1) + TW_MS(5));
        tw_impair_release(im, TW_SEC(1) + TW_MS(5) - 1);
        UNIT_EQ(s->n, 0, "nothing before delay - jitter");
        tw_impair_release(im, TW_SEC(1) + TW_US(10) * 2000 + TW_MS(15));
        UNIT_EQ(s->n, 2000, "all by delay + jitter");
        UNIT_EQ(tw_impair_next(im), TW_TIME_NEVER, "queue empty");
        size_t overtaken = 0;
        for (size_t i = 1; i < s->n; i++) {
            overtaken += s->ids[i] < s->ids[i - 1];
        }
        assert_true(overtaken > 100);
        if (run == 0) {
            memcpy(first_order, s->ids, sizeof first_order);
        } else {
            assert_memory_equal(first_order, s->ids, sizeof first_order);
        }
        tw_impair_free(im);
    }
}

/* Packets held when the impairment is freed are released with it (ASan: no leak). */
static void test_impair_free_held(void **state)
{
    (void)state;
    static sink s;
    memset(&s, 0, sizeof s);
    tw_impair_spec sp;
    char err[128];
    assert_int_equal(tw_impair_parse("delay=1s", &sp, err, sizeof err), 0);
    tw_impair *im;
    assert_int_equal(tw_impair_new(&im, &sp, take, &s, take, &s), 0);
    send_n(im, TW_IMPAIR_IN, 100, 0, 0);
    UNIT_EQ(tw_impair_next(im), TW_SEC(1), "held for the delay");
    tw_impair_free(im);
    UNIT_EQ(s.n, 0, "never delivered");
}

/* An empty packet (nothing a TUN gives, but the function takes any length) has no bit
   to flip: with corruption certain it is still delivered, unchanged. */
static void test_impair_empty_packet(void **state)
{
    (void)state;
    static sink s;
    memset(&s, 0, sizeof s);
    tw_impair_spec sp;
    char err[128];
    assert_int_equal(tw_impair_parse("corrupt=100%,seed=5", &sp, err, sizeof err), 0);
    tw_impair *im;
    assert_int_equal(tw_impair_new(&im, &sp, take, &s, take, &s), 0);
    uint8_t none[4] = {0};
    tw_impair_packet(im, TW_IMPAIR_IN, none, 0, 0);
    UNIT_EQ(s.n, 1, "delivered");
    UNIT_EQ(tw_impair_get_stats(im, TW_IMPAIR_IN).corrupted, 0, "nothing to corrupt");
    tw_impair_free(im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_impair_parse),
        cmocka_unit_test(test_impair_rates),
        cmocka_unit_test(test_impair_delay_reorders),
        cmocka_unit_test(test_impair_free_held),
        cmocka_unit_test(test_impair_empty_packet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
