/*
 * ipfrag.c -- IPv4 reassembly and echo-reply fragmenting (ipfrag.h).
 *
 * A datagram in reassembly keeps its fragments in a list sorted by offset, each a copy
 * of its payload. Since none may overlap (an overlap discards the datagram), the
 * datagram is whole exactly when its last fragment has come and the bytes held add up to
 * its length: no hole list to keep (RFC 815's descriptors), one sum.
 */
#include "core/ipfrag.h"
#include "core/cksum.h"
#include "core/ecn.h"
#include "core/stack.h"
#include "core/tcp_conn.h"
#include "core/wr.h"

#include <string.h>

_Static_assert(offsetof(struct tw_socket, timer) == offsetof(tw_fragq, timer) &&
                   offsetof(struct tw_socket, kind) == offsetof(tw_fragq, kind),
               "conn and datagram in reassembly share their header layout");

struct tw_frag {
    tw_frag *next;
    uint32_t off, len;
    uint8_t data[];
};

#define IP_MF 0x2000u
#define IP_OFFSET 0x1fffu

static size_t frag_size(uint32_t len)
{
    return sizeof(tw_frag) + len;
}

static void queue_free(tw_stack *st, tw_fragq *q)
{
    for (tw_frag *f = q->frags, *n; f; f = n) {
        n = f->next;
        tw_mem_free(&st->mem, f, frag_size(f->len));
    }
    st->frag_mem -= q->mem;
    tw_wheel_cancel(&st->wheel, &q->timer);
    tw_hnode **pp = &st->frag_queues;
    while (*pp != &q->h) {
        pp = &(*pp)->next;
    }
    *pp = q->h.next;
    st->frag_nqueues--;
    tw_mem_free(&st->mem, q, sizeof(*q));
}

/* The datagram is discarded, counted under `why`. */
static void queue_drop(tw_stack *st, tw_fragq *q, enum tw_counter why)
{
    tw_drop(st, why, NULL, NULL);
    queue_free(st, q);
}

static tw_fragq *queue_find(tw_stack *st, uint32_t src, uint16_t id, uint8_t proto)
{
    /* RFC 791 3.2: a datagram is named by source, destination (ours), protocol and
       identification. At most TW_FRAG_QUEUES: a walk. */
    for (tw_hnode *h = st->frag_queues; h; h = h->next) {
        tw_fragq *q = (tw_fragq *)h;
        if (q->src == src && q->id == id && q->proto == proto) {
            return q;
        }
    }
    return NULL;
}

static tw_fragq *queue_new(tw_stack *st, const tw_ipv4_hdr *ip)
{
    if (st->frag_nqueues >= TW_FRAG_QUEUES) {
        tw_drop(st, TW_CNT_IP_FRAG_LIMIT, NULL, NULL);
        return NULL;
    }
    tw_fragq *q = tw_mem_zalloc(&st->mem, sizeof(*q));
    if (!q) {
        tw_drop(st, TW_CNT_RX_NOMEM, NULL, NULL);
        return NULL;
    }
    q->kind = TW_OBJ_FRAG;
    q->src = ip->src;
    q->id = ip->id;
    q->proto = ip->proto;
    q->h.next = st->frag_queues;
    st->frag_queues = &q->h;
    st->frag_nqueues++;
    /* RFC 1122 3.3.2: the timer starts with the first fragment to arrive and is not
       restarted by later ones (a trickle of fragments cannot hold memory for ever). */
    tw_wheel_arm(&st->wheel, &q->timer, tw_time_to_tick(st->now + TW_FRAG_TIMEOUT));
    return q;
}

/* Where the fragments held end (the list is sorted and they do not overlap: the last
   one's end). */
static uint32_t held_end(const tw_fragq *q)
{
    uint32_t e = 0;
    for (const tw_frag *f = q->frags; f; f = f->next) {
        e = f->off + f->len;
    }
    return e;
}

/* The whole datagram, or NULL (counted) when its fragments may not make one. */
static uint8_t *assemble(tw_stack *st, tw_fragq *q, size_t *len)
{
    /* RFC 3168 5.3: CE on any fragment is CE on the datagram; a datagram whose fragments
       mix Not-ECT with ECT or CE is discarded (it cannot be told whether the path was
       congested for the ECT part's sake). */
    uint8_t ecn = q->ecn;
    if ((ecn & 1u) && (ecn & ~1u)) {
        queue_drop(st, q, TW_CNT_IP_FRAG_ECN);
        return NULL;
    }
    size_t total = (size_t)q->hdr_len + q->end;
    if (total > 65535u) {
        /* (each fragment was checked against its own header's length; the first one's,
           which the datagram keeps, may be longer) */
        queue_drop(st, q, TW_CNT_IP_FRAG_BAD);
        return NULL;
    }
    uint8_t *d = tw_mem_alloc(&st->mem, total);
    if (!d) {
        queue_drop(st, q, TW_CNT_RX_NOMEM);
        return NULL;
    }
    memcpy(d, q->hdr, q->hdr_len);
    for (tw_frag *f = q->frags; f; f = f->next) {
        memcpy(d + q->hdr_len + f->off, f->data, f->len);
    }
    /* The first fragment's header (its options included) with the datagram's length, no
       fragment fields, and the ECN field the fragments agree on. */
    tw_put16(d + 2, (uint16_t)total);
    tw_put16(d + 6, 0);
    if (ecn & (1u << TW_IP_CE)) {
        d[1] = (uint8_t)((d[1] & ~TW_IP_ECN_MASK) | TW_IP_CE);
    }
    tw_put16(d + 10, 0);
    tw_put16(d + 10, tw_cksum_fin(tw_cksum_add(0, d, q->hdr_len, 0)));
    queue_free(st, q);
    tw_count(st, TW_CNT_IP_FRAG_REASSEMBLED);
    *len = total;
    return d;
}

uint8_t *tw_ipfrag_input(tw_stack *st, const uint8_t *pkt, const tw_ipv4_hdr *ip, size_t *len)
{
    tw_count(st, TW_CNT_IP_RX_FRAGMENT);
    bool more = (ip->frag & IP_MF) != 0;
    uint32_t off = (ip->frag & IP_OFFSET) * 8u;
    uint32_t n = ip->payload_len;
    /* RFC 791 3.2: every fragment but the last carries a multiple of 8 bytes, and none
       reaches past the 65,535 bytes a datagram can have (the "ping of death"). */
    if ((more && (n == 0 || (n & 7u))) || off + n + ip->hdr_len > 65535u) {
        tw_drop(st, TW_CNT_IP_FRAG_BAD, NULL, NULL);
        return NULL;
    }
    tw_fragq *q = queue_find(st, ip->src, ip->id, ip->proto);
    if (!q && !(q = queue_new(st, ip))) {
        return NULL;
    }
    uint32_t end = off + n;
    if (!more) {
        /* The last fragment: the datagram's length. Another with a different end, or
           data already held beyond it, and the fragments cannot be one datagram. */
        if ((q->end && q->end != end) || held_end(q) > end) {
            queue_drop(st, q, TW_CNT_IP_FRAG_BAD);
            return NULL;
        }
        q->end = end;
    } else if (q->end && end > q->end) {
        queue_drop(st, q, TW_CNT_IP_FRAG_BAD);
        return NULL;
    }
    tw_frag **pp = &q->frags;
    for (tw_frag *f; (f = *pp) != NULL && f->off < end; pp = &f->next) {
        if (f->off == off && f->len == n) {
            tw_drop(st, TW_CNT_IP_FRAG_DUP, NULL, NULL); /* sent twice on the way */
            return NULL;
        }
        if (f->off + f->len > off) {
            /* Overlapping fragments: Linux discards the datagram (RFC 5722's rule for
               IPv6; RFC 1858 and 3128 describe the filter evasion they allow). */
            queue_drop(st, q, TW_CNT_IP_FRAG_OVERLAP);
            return NULL;
        }
    }
    q->ecn |= (uint8_t)(1u << (ip->tos & TW_IP_ECN_MASK));
    if (n) {
        if (st->frag_mem + frag_size(n) > TW_FRAG_MEM) {
            tw_drop(st, TW_CNT_IP_FRAG_LIMIT, NULL, NULL);
            return NULL;
        }
        tw_frag *f = tw_mem_alloc(&st->mem, frag_size(n));
        if (!f) {
            tw_drop(st, TW_CNT_RX_NOMEM, NULL, NULL);
            return NULL;
        }
        f->off = off;
        f->len = n;
        memcpy(f->data, ip->payload, n);
        f->next = *pp;
        *pp = f;
        q->have += n;
        q->mem += (uint32_t)frag_size(n);
        st->frag_mem += (uint32_t)frag_size(n);
    }
    if (off == 0) {
        q->hdr_len = ip->hdr_len;
        memcpy(q->hdr, pkt, ip->hdr_len);
    }
    if (q->end && q->have == q->end && q->hdr_len) {
        /* No overlaps and nothing past the end: the bytes add up only when every one is
           there, the first fragment (offset 0) with its header among them. */
        return assemble(st, q, len);
    }
    return NULL;
}

void tw_ipfrag_release(tw_stack *st, uint8_t *dgram, size_t len)
{
    tw_mem_free(&st->mem, dgram, len);
}

void tw_ipfrag_on_timer(tw_stack *st, tw_fragq *q)
{
    /* RFC 1122 3.3.2: on timeout the partial datagram MUST be discarded and, when its
       first fragment came, an ICMP Time Exceeded (code 1) sent to its source, quoting
       the first fragment (RFC 792) — none about an ICMP error message (3.2.2). The
       first fragment is q->frags (offset 0, at least 8 bytes: every fragment but the
       last is a multiple of 8, and the last is not the first). */
    const tw_frag *f = q->frags;
    if (q->hdr_len && !(q->proto == TW_IPPROTO_ICMP && tw_icmp_is_error(f->data[0]))) {
        tw_icmp_send_error(st, TW_ICMP_TIME_EXCEEDED, TW_ICMP_REASSEMBLY_TIMEOUT, q->hdr,
                           q->hdr_len, f->data, f->len, TW_CNT_ICMP_TX_TIME_EXCEEDED);
    }
    queue_drop(st, q, TW_CNT_IP_FRAG_TIMEOUT);
}

void tw_ipfrag_free_all(tw_stack *st)
{
    while (st->frag_queues) {
        queue_free(st, (tw_fragq *)st->frag_queues);
    }
}

void tw_ipfrag_send(tw_stack *st, uint32_t dst, uint8_t proto, uint8_t *buf, size_t len)
{
    /* RFC 791 3.2: fragments of the largest multiple of 8 bytes the MTU holds, one
       identification for all of them, unique while they may live (RFC 6864 4.1: this
       datagram is not atomic). Each fragment's header is written over the 20 bytes
       before its data, where the previous fragment's data, already sent, lay. */
    size_t per = ((size_t)st->dev.mtu - TW_IPV4_HDR_LEN) & ~(size_t)7;
    uint16_t id = (uint16_t)++st->ip_id;
    for (size_t off = 0; off < len; off += per) {
        size_t n = len - off < per ? len - off : per;
        uint8_t *h = buf + off;
        uint16_t frag = (uint16_t)(off / 8u) | (off + n < len ? IP_MF : 0u);
        h[0] = 0x45;
        h[1] = 0;
        tw_put16(h + 2, (uint16_t)(n + TW_IPV4_HDR_LEN));
        tw_put16(h + 4, id);
        tw_put16(h + 6, frag);
        h[8] = 64;
        h[9] = proto;
        tw_put16(h + 10, 0);
        tw_put32(h + 12, st->cfg.addr);
        tw_put32(h + 16, dst);
        tw_put16(h + 10, tw_cksum_fin(tw_cksum_add(0, h, TW_IPV4_HDR_LEN, 0)));
        tw_count(st, TW_CNT_IP_TX_FRAGMENTS);
        tw_stack_transmit(st, h, n + TW_IPV4_HDR_LEN);
    }
}
