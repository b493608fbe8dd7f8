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
    case TCP_ESTABLISHED:
        return TW_STATE_ESTABLISHED;
    case TCP_SYN_SENT:
        return TW_STATE_SYN_SENT;
    case TCP_SYN_RECV:
        return TW_STATE_SYN_RCVD;
    case TCP_FIN_WAIT1:
        return TW_STATE_FIN_WAIT_1;
    case TCP_FIN_WAIT2:
        return TW_STATE_FIN_WAIT_2;
    case TCP_TIME_WAIT:
        return TW_STATE_TIME_WAIT;
    case TCP_CLOSE:
        return TW_STATE_CLOSED;
    case TCP_CLOSE_WAIT:
        return TW_STATE_CLOSE_WAIT;
    case TCP_LAST_ACK:
        return TW_STATE_LAST_ACK;
    case TCP_LISTEN:
        return TW_STATE_LISTEN;
    case TCP_CLOSING:
        return TW_STATE_CLOSING;
    case 12:
        return TW_STATE_SYN_RCVD; /* TCP_NEW_SYN_RECV: a request socket */
    default:
        return -EPROTO;
    }
}

/* An exact lookup (no NLM_F_DUMP): the kernel finds the socket through its hash tables
   (inet_diag_find_one_icsk), where a dump would walk every bucket of a table sized for
   the machine's memory -- milliseconds per call, too slow to sample after every packet.
   A lookup that finds no connection falls back to a listener on the port; that is not
   the connection asked for, so it counts as "no such socket". */
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
    req.nh.nlmsg_flags = NLM_F_REQUEST;
    req.r.sdiag_family = AF_INET;
    req.r.sdiag_protocol = IPPROTO_TCP;
    req.r.idiag_states = ~0u;
    req.r.id.idiag_sport = htons(lport);
    req.r.id.idiag_dport = htons(rport);
    req.r.id.idiag_src[0] = htonl(laddr);
    req.r.id.idiag_dst[0] = htonl(raddr);
    req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    char buf[8192] __attribute__((aligned(8)));
    ssize_t n;
    do {
        n = recv(fd, buf, sizeof buf, 0);
    } while (n < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    if (n < 0) {
        return -e;
    }
    size_t len = (size_t)n;
    const struct nlmsghdr *nh = (const struct nlmsghdr *)(const void *)buf;
    if (!NLMSG_OK(nh, len)) {
        return -EPROTO;
    }
    if (nh->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *err = NLMSG_DATA(nh);
        return err->error < 0 ? err->error : -EPROTO;
    }
    const struct inet_diag_msg *m = NLMSG_DATA(nh);
    if (m->id.idiag_dport != req.r.id.idiag_dport || m->id.idiag_dst[0] != req.r.id.idiag_dst[0]) {
        return -ENOENT; /* a listener, not this connection */
    }
    return map_state(m->idiag_state);
}
