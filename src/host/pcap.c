/*
 * pcap.c -- capture files through libpcap's savefile writer (the format is libpcap's to
 * get right; Wireshark and tshark read what it writes). Link type RAW: each record is an
 * IPv4 packet with no link header, which is what both a TUN device and the simulated link
 * carry. Nanosecond timestamps, so a simulated run's microsecond-scale exchanges keep
 * their order and spacing.
 *
 * Capturing is a tap, not a device: tw_pcap_tap_netdev wraps any tw_netdev's transmit,
 * and whoever feeds tw_stack_input records the received side with tw_pcap_write.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"

struct tw_pcap {
    pcap_t *dead;
    pcap_dumper_t *dump;
    uint64_t count;
};

int tw_pcap_open(tw_pcap **out, const char *path)
{
    tw_pcap *p = calloc(1, sizeof *p);
    if (p == NULL) {
        return -ENOMEM;
    }
    p->dead = pcap_open_dead_with_tstamp_precision(DLT_RAW, 65535, PCAP_TSTAMP_PRECISION_NANO);
    if (p->dead == NULL) {
        free(p);
        return -ENOMEM;
    }
    p->dump = pcap_dump_open(p->dead, path);
    if (p->dump == NULL) {
        /* libpcap reports the reason as text only; the caller prints the errno. */
        int e = errno != 0 ? errno : EIO;
        pcap_close(p->dead);
        free(p);
        return -e;
    }
    *out = p;
    return 0;
}

void tw_pcap_write(tw_pcap *p, const uint8_t *pkt, size_t len, uint64_t unix_ns)
{
    if (p == NULL) {
        return;
    }
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    /* With nanosecond precision libpcap stores tv_usec as nanoseconds. */
    h.ts.tv_sec = (time_t)(unix_ns / 1000000000u);
    h.ts.tv_usec = (suseconds_t)(unix_ns % 1000000000u);
    h.caplen = (bpf_u_int32)len;
    h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)p->dump, &h, pkt);
    pcap_dump_flush(p->dump);
    p->count++;
}

void tw_pcap_close(tw_pcap *p)
{
    if (p == NULL) {
        return;
    }
    pcap_dump_close(p->dump);
    pcap_close(p->dead);
    free(p);
}

uint64_t tw_pcap_count(const tw_pcap *p)
{
    return p == NULL ? 0 : p->count;
}

static int tap_transmit(const uint8_t *pkt, size_t len, void *ud)
{
    tw_pcap_tap *t = ud;
    uint64_t ts = t->clock != NULL ? t->clock(t->clock_ud) : tw_host_wall_ns();
    tw_pcap_write(t->pcap, pkt, len, ts);
    return t->inner.transmit(pkt, len, t->inner.ud);
}

void tw_pcap_tap_netdev(tw_pcap_tap *tap, tw_pcap *p, const tw_netdev *inner,
                        uint64_t (*clock)(void *ud), void *clock_ud, tw_netdev *out)
{
    tap->pcap = p;
    tap->inner = *inner;
    tap->clock = clock;
    tap->clock_ud = clock_ud;
    *out = (tw_netdev){.transmit = tap_transmit, .ud = tap, .mtu = inner->mtu};
}
