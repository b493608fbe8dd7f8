/*
 * tunstack.c -- one tcpwave stack on a TUN device: the kernel's end of the TUN gets the
 * gateway address, the stack answers for its own address on the same prefix, and the
 * epoll loop moves packets between the two. This is all a program needs to talk TCP with
 * the Linux kernel (and anything routed through it) from user space.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "host/host.h"

/* Packets read per wakeup before timers and the application get a turn; bounded so a
   flood on the TUN cannot starve them. */
#define TW_HOST_RX_BATCH 64

void tw_host_opts_init(tw_host_opts *o)
{
    memset(o, 0, sizeof *o);
    o->tun = "tw0";
    o->addr = 0x0a070002u;    /* 10.7.0.2 */
    o->gateway = 0x0a070001u; /* 10.7.0.1 */
    o->prefix = 24;
    o->mtu = 1500;
}

/* A packet onto the wire: the TUN's write, now or when the impairment lets it go. */
static void tun_write(const uint8_t *pkt, size_t len, void *ud)
{
    tw_host *h = ud;
    ssize_t n = write(h->tun_fd, pkt, len);
    if (n != (ssize_t)len) {
        h->tx_errors++;
        return;
    }
    h->tx_packets++;
    if (h->o.after_tx != NULL) {
        h->o.after_tx(pkt, len, h->o.hook_ud);
    }
}

static int tun_transmit(const uint8_t *pkt, size_t len, void *ud)
{
    tw_host *h = ud;
    if (h->pcap != NULL) {
        tw_pcap_write(h->pcap, pkt, len, tw_host_wall_ns());
    }
    if (h->impair != NULL) {
        tw_impair_packet(h->impair, TW_IMPAIR_OUT, pkt, len, tw_host_now());
        return 0;
    }
    uint64_t errs = h->tx_errors;
    tun_write(pkt, len, h);
    return h->tx_errors == errs ? 0 : -1;
}

/* A packet into the stack, as it arrives (after the impairment, if any). */
static void stack_deliver(const uint8_t *pkt, size_t len, void *ud)
{
    tw_host *h = ud;
    if (h->o.before_rx != NULL) {
        h->o.before_rx(pkt, len, h->o.hook_ud);
    }
    if (h->pcap != NULL) {
        tw_pcap_write(h->pcap, pkt, len, tw_host_wall_ns());
    }
    tw_stack_input(h->st, pkt, len, tw_host_now());
}

/* The impairment's way into the stack. A held packet it releases goes in at the loop
   turn's time, the one the stack's due timers then run at (loop.c): read from the clock
   afterwards, it would put the stack ahead of that turn, and the timers' call would be a
   step back in time (counted as TIME_BACKWARDS and ignored). */
static void impair_deliver(const uint8_t *pkt, size_t len, void *ud)
{
    tw_host *h = ud;
    if (h->release_now == 0) {
        stack_deliver(pkt, len, h);
        return;
    }
    if (h->o.before_rx != NULL) {
        h->o.before_rx(pkt, len, h->o.hook_ud);
    }
    if (h->pcap != NULL) {
        tw_pcap_write(h->pcap, pkt, len, tw_host_wall_ns());
    }
    tw_stack_input(h->st, pkt, len, h->release_now);
}

static void tun_readable(int fd, uint32_t events, void *ud)
{
    tw_host *h = ud;
    (void)events;
    uint8_t buf[65536];
    for (int i = 0; i < TW_HOST_RX_BATCH; i++) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) {
            return; /* EAGAIN: drained */
        }
        h->rx_packets++;
        if (h->impair != NULL) {
            tw_impair_packet(h->impair, TW_IMPAIR_IN, buf, (size_t)n, tw_host_now());
        } else {
            stack_deliver(buf, (size_t)n, h);
        }
    }
}

static tw_time impair_next(void *ud)
{
    return tw_impair_next(((tw_host *)ud)->impair);
}

static void impair_run(void *ud, tw_time now)
{
    tw_host *h = ud;
    h->release_now = now ? now : 1;
    tw_impair_release(h->impair, now);
    h->release_now = 0;
}

static int fail(char *err, size_t errlen, int rc, const char *what, const char *name)
{
    if (err != NULL) {
        snprintf(err, errlen, "%s %s: %s", what, name, strerror(-rc));
    }
    return rc;
}

int tw_host_open(tw_host *h, const tw_host_opts *o, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    h->tun_fd = -1;
    h->o = *o;
    int rc = tw_tun_open(o->tun, h->ifname);
    if (rc < 0) {
        fail(err, errlen, rc, "cannot create TUN device", o->tun);
        /* the two a user meets: a second tcpwave on the same name, and root in a user
           namespace that does not own the network namespace (unshare -U -r) */
        const char *hint = rc == -EBUSY ? " (another process has it: --tun NAME picks another)"
                           : rc == -EPERM ? " (needs CAP_NET_ADMIN in the user namespace "
                                            "that owns this network namespace)"
                           : rc == -EINVAL ? " (a device of that name that is not a TUN "
                                             "device exists: --tun NAME picks another)"
                                          : "";
        if (err != NULL && strlen(err) + strlen(hint) < errlen) {
            strcat(err, hint);
        }
        return rc;
    }
    h->tun_fd = rc;
    tw_if_disable_ipv6(h->ifname); /* best effort */
    rc = tw_if_configure(h->ifname, o->gateway, o->prefix, o->mtu);
    if (rc < 0) {
        tw_host_close(h);
        return fail(err, errlen, rc, "cannot configure", o->tun);
    }
    if (o->pcap != NULL) {
        rc = tw_pcap_open(&h->pcap, o->pcap);
        if (rc < 0) {
            tw_host_close(h);
            return fail(err, errlen, rc, "cannot write capture", o->pcap);
        }
    }
    tw_config cfg;
    if (o->base != NULL) {
        cfg = *o->base;
    } else {
        tw_config_init(&cfg);
    }
    cfg.addr = o->addr;
    if (o->msl != 0) {
        cfg.msl = o->msl;
    }
    if (o->fastopen != 0) {
        cfg.fastopen = o->fastopen;
    }
    if (o->ecn != 0) {
        cfg.ecn = o->ecn;
    }
    rc = tw_host_entropy(cfg.entropy, sizeof cfg.entropy);
    if (rc < 0) {
        tw_host_close(h);
        return fail(err, errlen, rc, "getrandom", "");
    }
    tw_netdev dev = {.transmit = tun_transmit, .ud = h, .mtu = (uint16_t)o->mtu};
    int trc = tw_stack_new(&h->st, &cfg, &dev, tw_host_now());
    if (trc != TW_OK) {
        tw_host_close(h);
        if (err != NULL) {
            snprintf(err, errlen, "cannot create stack: %s", tw_strerror(trc));
        }
        return -EINVAL;
    }
    rc = tw_loop_new(&h->loop);
    if (rc == 0) {
        rc = tw_loop_add(h->loop, h->tun_fd, EPOLLIN, tun_readable, h);
    }
    if (rc < 0) {
        tw_host_close(h);
        return fail(err, errlen, rc, "epoll", "");
    }
    tw_loop_set_stack(h->loop, h->st);
    if (o->impair != NULL) {
        rc = tw_impair_new(&h->impair, o->impair, impair_deliver, h, tun_write, h);
        if (rc < 0) {
            tw_host_close(h);
            return fail(err, errlen, rc, "impairment", "");
        }
        tw_loop_set_timer(h->loop, impair_next, impair_run, h);
    }
    return 0;
}

void tw_host_close(tw_host *h)
{
    tw_impair_free(h->impair);
    h->impair = NULL;
    tw_loop_free(h->loop);
    h->loop = NULL;
    tw_stack_free(h->st);
    h->st = NULL;
    tw_pcap_close(h->pcap);
    h->pcap = NULL;
    if (h->tun_fd >= 0) {
        close(h->tun_fd);
        h->tun_fd = -1;
    }
}

void tw_host_drain(tw_host *h)
{
    /* Bounded like any read turn: a peer that keeps sending cannot hold the stop. */
    tun_readable(h->tun_fd, 0, h);
}

int tw_host_run_once(tw_host *h, tw_time max_wait)
{
    return tw_loop_run_once(h->loop, max_wait);
}
