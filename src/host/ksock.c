/*
 * ksock.c -- read the state of the kernel's own TCP sockets through NETLINK_SOCK_DIAG
 * (the interface `ss` uses). The demo shows both ends of a connection between tcpwave and
 * Linux; tcpwave's side comes from its trace events, the kernel's from here. sock_diag,
 * unlike getsockopt(TCP_INFO), also sees TIME-WAIT and request sockets, which have no
 * file descriptor.
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/host.h"

/* Linux's TCP state numbers (include/net/tcp_states.h) to RFC 9293 states. */
static int map_state(unsigned k)
{
    switch (k) {
    case TCP_ESTABLISHED: return TW_STATE_ESTABLISHED;
    case TCP_SYN_SENT: return TW_STATE_SYN_SENT;
    case TCP_SYN_RECV: return TW_STATE_SYN_RCVD;
    case TCP_FIN_WAIT1: return TW_STATE_FIN_WAIT_1;
    case TCP_FIN_WAIT2: return TW_STATE_FIN_WAIT_2;
    case TCP_TIME_WAIT: return TW_STATE_TIME_WAIT;
    case TCP_CLOSE: return TW_STATE_CLOSED;
    case TCP_CLOSE_WAIT: return TW_STATE_CLOSE_WAIT;
    case TCP_LAST_ACK: return TW_STATE_LAST_ACK;
    case TCP_LISTEN: return TW_STATE_LISTEN;
    case TCP_CLOSING: return TW_STATE_CLOSING;
    case 12: return TW_STATE_SYN_RCVD; /* TCP_NEW_SYN_RECV: a request socket */
    default: return -EPROTO;
    }
}

/* Scan one batch of dump replies. Returns 1 when the dump is done, 0 to read more. */
static int scan(const char *buf, size_t len, const struct inet_diag_sockid *want, int *found)
{
    for (const struct nlmsghdr *nh = (const struct nlmsghdr *)(const void *)buf;
         NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
        if (nh->nlmsg_type == NLMSG_DONE) {
            return 1;
        }
        if (nh->nlmsg_type == NLMSG_ERROR) {
            const struct nlmsgerr *e = NLMSG_DATA(nh);
            *found = e->error < 0 ? e->error : -EPROTO;
            return 1;
        }
        const struct inet_diag_msg *m = NLMSG_DATA(nh);
        if (m->id.idiag_sport == want->idiag_sport && m->id.idiag_dport == want->idiag_dport &&
            m->id.idiag_src[0] == want->idiag_src[0] && m->id.idiag_dst[0] == want->idiag_dst[0]) {
            /* Several sockets can share a tuple briefly (a TIME-WAIT one and a new one):
               prefer any live state over TIME-WAIT / CLOSED. */
            int st = map_state(m->idiag_state);
            if (*found < 0 || *found == TW_STATE_TIME_WAIT || *found == TW_STATE_CLOSED) {
                *found = st;
            }
        }
    }
    return 0;
}

int tw_kernel_tcp_state(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) {
        return -errno;
    }
    struct {
        struct nlmsghdr nh;
        struct inet_diag_req_v2 r;
    } req;
    memset(&req, 0, sizeof req);
    req.nh.nlmsg_len = sizeof req;
    req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.r.sdiag_family = AF_INET;
    req.r.sdiag_protocol = IPPROTO_TCP;
    req.r.idiag_states = ~0u;
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    struct inet_diag_sockid want;
    memset(&want, 0, sizeof want);
    want.idiag_sport = htons(lport);
    want.idiag_dport = htons(rport);
    want.idiag_src[0] = htonl(laddr);
    want.idiag_dst[0] = htonl(raddr);
    int found = -ENOENT;
    /* A fresh namespace has a handful of sockets; bound the reads anyway. */
    for (int i = 0; i < 1000; i++) {
        char buf[16384] __attribute__((aligned(8)));
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            found = n < 0 ? -errno : found;
            break;
        }
        if (scan(buf, (size_t)n, &want, &found)) {
            break;
        }
    }
    close(fd);
    return found;
}
