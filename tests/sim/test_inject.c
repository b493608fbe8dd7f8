/*
 * test_inject.c -- RFC 5961 blind in-window attacks (SPEC R3, issue #6): while 50
 * connections carry data, forged RSTs, SYNs and data segments with random sequence and
 * acknowledgment numbers (but the right 4-tuples, as a blind attacker would guess them)
 * are sprayed at the client stack. Only an exact-match RST may reset; in-window ones and
 * SYNs get rate-limited challenge ACKs; no byte of any stream may change.
 *
 *   sim_inject [--forged N] [--conns N] [--seed S]
 */
#include "sim/sim.h"
#include "tw_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SRV 0x0a000002u
#define CLI 0x0a000001u
#define PORT 80
#define BYTES 200000u

/* A forged segment from the server's 4-tuple (built by the test fixture's builder). */
static size_t forge(uint8_t *b, size_t cap, uint16_t dport, uint32_t seq, uint32_t ack,
                    uint8_t flags, uint16_t len)
{
    static const uint8_t junk[100] = {'X'};
    tw_t_seg s = {.src = SRV, .dst = CLI, .sport = PORT, .dport = dport, .seq = seq, .ack = ack,
                  .flags = flags, .win = 65535, .data = junk, .len = len};
    return tw_t_build(&s, b, cap);
}

static uint8_t pattern(uint64_t i, unsigned k)
{
    return (uint8_t)(i * 7u + k * 13u + (i >> 9));
}

typedef struct conn {
    tw_socket *c, *s;
    uint64_t sent, got;
    bool bad, done, sclosed;
} conn;

int main(int argc, char **argv)
{
    unsigned long forged = 200000, nconns = 50;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--forged") && i + 1 < argc) {
            forged = strtoul(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--conns") && i + 1 < argc) {
            nconns = strtoul(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 0);
        } else {
            fprintf(stderr, "usage: sim_inject [--forged N] [--conns N] [--seed S]\n");
            return 2;
        }
    }
    tw_sim *sim;
    tw_sim_new(&sim, seed, TW_SEC(1));
    tw_sim_impair imp = {.delay = TW_MS(5), .rate_bps = 20000000, .queue_pkts = 200};
    tw_sim_set_impair(sim, &imp);
    tw_config cfg;
    tw_config_init(&cfg);
    tw_stack *ss, *cs;
    cfg.addr = SRV;
    tw_sim_add_stack(sim, &cfg, 0, &ss);
    cfg.addr = CLI;
    tw_sim_add_stack(sim, &cfg, 0, &cs);
    tw_socket *l;
    tw_socket_open(ss, &l);
    tw_socket_bind(l, PORT);
    tw_socket_listen(l, 256, tw_sim_now(sim));
    conn *cn = calloc(nconns, sizeof(*cn));
    uint16_t *ports = calloc(nconns, sizeof(*ports));
    tw_time now = tw_sim_now(sim);
    for (unsigned long i = 0; i < nconns; i++) {
        tw_socket_open(cs, &cn[i].c);
        tw_socket_connect(cn[i].c, SRV, PORT, now);
        tw_socket_info inf;
        tw_socket_info_get(cn[i].c, &inf);
        ports[i] = inf.local_port;
    }
    uint64_t rng = seed * 0x2545f4914f6cdd1dull + 7;
    unsigned long sent_forged = 0, done = 0;
    uint8_t pkt[200];
    tw_time limit = now + TW_SEC(300);
    size_t accepted = 0;
    while (now < limit && done < nconns) {
        /* The attack starts once every connection is established (RFC 5961 protects
           synchronized connections; a SYN-SENT one can always be hijacked into a
           simultaneous open, on any stack). */
        for (int k = 0; k < 200 && sent_forged < forged && accepted == nconns;
             k++, sent_forged++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            uint16_t dport = ports[rng % nconns];
            uint32_t seq = (uint32_t)(rng >> 8), ack = (uint32_t)(rng >> 24);
            unsigned kind = (unsigned)(rng >> 60) % 3;
            size_t n = kind == 0   ? forge(pkt, sizeof pkt, dport, seq, ack, TW_RST, 0)
                       : kind == 1 ? forge(pkt, sizeof pkt, dport, seq, 0, TW_SYN, 0)
                                   : forge(pkt, sizeof pkt, dport, seq, ack, TW_PSH | TW_ACK, 100);
            tw_stack_input(cs, pkt, n, now);
        }
        tw_sim_run_until(sim, now + TW_MS(1));
        now = tw_sim_now(sim);
        tw_socket *a;
        while (tw_socket_accept(l, &a, now) == 0 && accepted < nconns) {
            tw_socket_info inf;
            tw_socket_info_get(a, &inf);
            for (unsigned long i = 0; i < nconns; i++) {
                if (ports[i] == inf.remote_port) {
                    cn[i].s = a;
                }
            }
            accepted++;
        }
        for (unsigned long i = 0; i < nconns; i++) {
            conn *x = &cn[i];
            if (x->done) {
                continue;
            }
            if (x->s && !x->sclosed) {
                uint8_t out[8192];
                while (x->sent < BYTES) {
                    size_t n = BYTES - x->sent < sizeof out ? (size_t)(BYTES - x->sent) : sizeof out;
                    for (size_t j = 0; j < n; j++) {
                        out[j] = pattern(x->sent + j, (unsigned)i);
                    }
                    tw_ssize w = tw_socket_send(x->s, out, n, now);
                    if (w <= 0) {
                        break;
                    }
                    x->sent += (uint64_t)w;
                }
                if (x->sent == BYTES) {
                    tw_socket_close(x->s, now);
                    x->sclosed = true;
                }
            }
            uint8_t in[8192];
            tw_ssize r;
            while ((r = tw_socket_recv(x->c, in, sizeof in, now)) > 0) {
                for (tw_ssize j = 0; j < r; j++) {
                    if (in[j] != pattern(x->got + (uint64_t)j, (unsigned)i)) {
                        x->bad = true;
                    }
                }
                x->got += (uint64_t)r;
            }
            if (r == 0 || (r < 0 && r != TW_ERR_AGAIN)) {
                x->done = true;
                done++;
                if (r < 0) {
                    x->bad = true;
                }
                tw_socket_close(x->c, now);
            }
        }
    }
    unsigned long hurt = 0;
    for (unsigned long i = 0; i < nconns; i++) {
        hurt += cn[i].bad || cn[i].got != BYTES || !cn[i].done;
    }
    printf("inject: %lu forged segments at %lu connections; %lu connections hurt\n", sent_forged,
           nconns, hurt);
    printf("inject: RST accepted %llu, RST in window (challenged) %llu, RST out of window %llu\n",
           (unsigned long long)tw_stack_counter(cs, TW_CNT_TCP_RX_RST_ACCEPTED),
           (unsigned long long)tw_stack_counter(cs, TW_CNT_TCP_RX_RST_IN_WINDOW),
           (unsigned long long)tw_stack_counter(cs, TW_CNT_TCP_RX_RST_OUT_OF_WINDOW));
    printf("inject: SYN challenged %llu, challenge ACKs sent %llu, rate-limited %llu, "
           "out-of-window segments %llu, bad ACKs %llu\n",
           (unsigned long long)tw_stack_counter(cs, TW_CNT_TCP_RX_SYN_CHALLENGE),
           (unsigned long long)tw_stack_counter(cs, TW_CNT_TCP_CHALLENGE_ACK_SENT),
           (unsigned long long)tw_stack_counter(cs, TW_CNT_TCP_CHALLENGE_ACK_LIMITED),
           (unsigned long long)tw_stack_counter(cs, TW_CNT_TCP_RX_OUT_OF_WINDOW),
           (unsigned long long)(tw_stack_counter(cs, TW_CNT_TCP_RX_ACK_UNSENT) +
                                tw_stack_counter(cs, TW_CNT_TCP_RX_OLD_ACK)));
    bool pass = hurt == 0 && tw_stack_counter(cs, TW_CNT_TCP_RX_RST_ACCEPTED) == 0;
    printf("%d passed, %d failed\n", pass ? 1 : 0, pass ? 0 : 1);
    tw_socket_close(l, now);
    tw_sim_free(sim);
    free(cn);
    free(ports);
    return pass ? 0 : 1;
}
