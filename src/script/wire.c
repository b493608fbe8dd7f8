/*
 * wire.c -- build and parse IPv4/TCP packets for the script runner (see wire.h).
 *
 * RFC 791 (IPv4 header), RFC 9293 3.1 (TCP header, pseudo-header checksum),
 * RFC 1071 (Internet checksum). Bounds are checked byte by byte: the packets parsed here
 * come from the stack under test and may be wrong.
 */
#include "script/wire.h"

#include <stdio.h>
#include <string.h>

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

uint32_t tw_wire_sum(const uint8_t *p, size_t len, uint32_t init)
{
    uint32_t sum = init;
    size_t i = 0;
    for (; i + 1 < len; i += 2) {
        sum += get16(p + i);
        sum = (sum & 0xffffu) + (sum >> 16);
    }
    if (i < len) {
        sum += (uint32_t)p[i] << 8;
        sum = (sum & 0xffffu) + (sum >> 16);
    }
    return sum;
}

uint16_t tw_wire_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffffu) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* The TCP pseudo-header (RFC 9293 3.1): source, destination, zero, protocol, length. */
static uint32_t pseudo_sum(uint32_t saddr, uint32_t daddr, size_t tcp_len)
{
    uint8_t ph[12];
    put32(ph, saddr);
    put32(ph + 4, daddr);
    ph[8] = 0;
    ph[9] = 6;
    put16(ph + 10, (uint16_t)tcp_len);
    return tw_wire_sum(ph, sizeof(ph), 0);
}

size_t tw_wire_build(const tw_wire_tcp *t, uint8_t *buf, size_t cap)
{
    if (t->opts_len > TW_WIRE_MAX_OPTS) {
        return 0;
    }
    size_t opt_pad = (t->opts_len + 3u) & ~(size_t)3u;
    size_t tcp_hlen = 20 + opt_pad;
    size_t total = 20 + tcp_hlen + t->payload_len;
    if (total > cap || total > 65535) {
        return 0;
    }
    memset(buf, 0, 20 + tcp_hlen);
    uint8_t *ip = buf;
    ip[0] = 0x45;
    ip[1] = t->tos;
    put16(ip + 2, (uint16_t)total);
    put16(ip + 4, t->ip_id);
    put16(ip + 6, t->frag);
    ip[8] = t->ttl;
    ip[9] = 6;
    put32(ip + 12, t->saddr);
    put32(ip + 16, t->daddr);
    uint8_t *tcp = buf + 20;
    put16(tcp, t->sport);
    put16(tcp + 2, t->dport);
    put32(tcp + 4, t->seq);
    put32(tcp + 8, t->ack);
    tcp[12] = (uint8_t)((tcp_hlen / 4) << 4);
    tcp[13] = t->flags;
    put16(tcp + 14, t->win);
    put16(tcp + 18, t->urg);
    memcpy(tcp + 20, t->opts, t->opts_len); /* padding stays zero: EOL */
    if (t->payload_len > 0) {
        if (t->payload != NULL) {
            memcpy(tcp + tcp_hlen, t->payload, t->payload_len);
        } else {
            memset(tcp + tcp_hlen, 0, t->payload_len);
        }
    }
    tw_wire_fix_ip_csum(buf, total);
    tw_wire_fix_tcp_csum(buf, total);
    return total;
}

void tw_wire_fix_ip_csum(uint8_t *pkt, size_t len)
{
    if (len < 20) {
        return;
    }
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
    if (ihl < 20 || ihl > len) {
        ihl = 20;
    }
    put16(pkt + 10, 0);
    put16(pkt + 10, tw_wire_fold(tw_wire_sum(pkt, ihl, 0)));
}

void tw_wire_fix_tcp_csum(uint8_t *pkt, size_t len)
{
    if (len < 20) {
        return;
    }
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
    size_t total = get16(pkt + 2);
    if (ihl < 20 || ihl > len) {
        ihl = 20;
    }
    if (total > len || total < ihl) {
        total = len;
    }
    size_t tcp_len = total - ihl;
    if (tcp_len < 18) {
        return;
    }
    uint8_t *tcp = pkt + ihl;
    put16(tcp + 16, 0);
    uint32_t s = pseudo_sum(get32(pkt + 12), get32(pkt + 16), tcp_len);
    put16(tcp + 16, tw_wire_fold(tw_wire_sum(tcp, tcp_len, s)));
}

int tw_wire_parse(const uint8_t *pkt, size_t len, tw_wire_tcp *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof(*out));
    if (len < 20) {
        snprintf(why, whylen, "packet of %zu bytes is shorter than an IPv4 header", len);
        return -1;
    }
    if ((pkt[0] >> 4) != 4) {
        snprintf(why, whylen, "IP version %u, not 4", pkt[0] >> 4);
        return -1;
    }
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
    size_t total = get16(pkt + 2);
    if (ihl < 20 || ihl > len) {
        snprintf(why, whylen, "bad IPv4 header length %zu", ihl);
        return -1;
    }
    if (total != len) {
        snprintf(why, whylen, "IPv4 total length %zu but %zu bytes sent", total, len);
        return -1;
    }
    if (tw_wire_fold(tw_wire_sum(pkt, ihl, 0)) != 0) {
        snprintf(why, whylen, "bad IPv4 header checksum");
        return -1;
    }
    if (pkt[9] != 6) {
        snprintf(why, whylen, "IP protocol %u, not TCP", pkt[9]);
        return -1;
    }
    out->ihl = (uint8_t)(ihl / 4);
    out->tos = pkt[1];
    out->ip_id = get16(pkt + 4);
    out->frag = get16(pkt + 6);
    out->ttl = pkt[8];
    out->saddr = get32(pkt + 12);
    out->daddr = get32(pkt + 16);
    if ((out->frag & 0x3fffu) != 0) {
        snprintf(why, whylen, "stack sent an IP fragment");
        return -1;
    }
    const uint8_t *tcp = pkt + ihl;
    size_t tcp_len = total - ihl;
    if (tcp_len < 20) {
        snprintf(why, whylen, "TCP segment of %zu bytes is shorter than its header", tcp_len);
        return -1;
    }
    size_t doff = (size_t)(tcp[12] >> 4) * 4;
    if (doff < 20 || doff > tcp_len) {
        snprintf(why, whylen, "bad TCP data offset %zu", doff);
        return -1;
    }
    uint32_t s = pseudo_sum(out->saddr, out->daddr, tcp_len);
    if (tw_wire_fold(tw_wire_sum(tcp, tcp_len, s)) != 0) {
        snprintf(why, whylen, "bad TCP checksum");
        return -1;
    }
    out->sport = get16(tcp);
    out->dport = get16(tcp + 2);
    out->seq = get32(tcp + 4);
    out->ack = get32(tcp + 8);
    out->doff = (uint8_t)(doff / 4);
    out->flags = tcp[13];
    out->win = get16(tcp + 14);
    out->urg = get16(tcp + 18);
    if ((tcp[12] & 0x0f) != 0) {
        snprintf(why, whylen, "reserved TCP header bits set (0x%x)", tcp[12] & 0x0f);
        return -1;
    }
    out->opts_len = doff - 20;
    memcpy(out->opts, tcp + 20, out->opts_len);
    out->payload = tcp + doff;
    out->payload_len = tcp_len - doff;
    return 0;
}

int tw_wire_opts_decode(const uint8_t *opts, size_t len, tw_wire_opt *out, size_t max)
{
    size_t i = 0;
    int n = 0;
    while (i < len) {
        if ((size_t)n == max) {
            return -1;
        }
        uint8_t kind = opts[i];
        if (kind == 0 || kind == 1) {
            out[n].kind = kind;
            out[n].len = 1;
            out[n].data = opts + i + 1;
            n++;
            i++;
            continue;
        }
        if (i + 1 >= len) {
            return -1;
        }
        uint8_t l = opts[i + 1];
        if (l < 2 || i + l > len) {
            return -1;
        }
        out[n].kind = kind;
        out[n].len = l;
        out[n].data = opts + i + 2;
        n++;
        i += l;
    }
    return n;
}

int tw_wire_parse_addr(const char *s, uint32_t *out)
{
    unsigned a, b, c, d;
    char extra;
    if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) != 4 || a > 255 || b > 255 ||
        c > 255 || d > 255) {
        return -1;
    }
    *out = (a << 24) | (b << 16) | (c << 8) | d;
    return 0;
}

void tw_wire_format_addr(uint32_t a, char *buf, size_t cap)
{
    snprintf(buf, cap, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xffu, (a >> 8) & 0xffu,
             a & 0xffu);
}
