/*
 * tun.c -- create a TUN device and configure interfaces with ioctls, so the library never
 * shells out to `ip`. A TUN device in IFF_TUN | IFF_NO_PI mode hands us bare IPv4
 * packets, exactly what tw_stack_input takes and tw_netdev.transmit produces.
 *
 * The kernel end of the TUN gets the gateway address with a prefix; the kernel then owns
 * a connected route for the whole prefix through the device, and packets it routes to the
 * stack's address come out of our fd. Without IFF_VNET_HDR the kernel never hands us
 * GSO super-packets or packets with checksums left to offload: every packet is complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/host.h"

int tw_tun_open(const char *name, char *actual)
{
    if (name == NULL || strlen(name) >= IFNAMSIZ) {
        return -EINVAL;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (actual != NULL) {
        memcpy(actual, ifr.ifr_name, IFNAMSIZ);
        actual[IFNAMSIZ - 1] = '\0';
    }
    return fd;
}

static void set_sin(struct sockaddr *sa, uint32_t addr)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(addr);
    memcpy(sa, &sin, sizeof sin);
}

static int ifreq_for(struct ifreq *ifr, const char *ifname)
{
    if (ifname == NULL || strlen(ifname) >= IFNAMSIZ) {
        return -EINVAL;
    }
    memset(ifr, 0, sizeof *ifr);
    memcpy(ifr->ifr_name, ifname, strlen(ifname));
    return 0;
}

/* SIOCSIFFLAGS replaces all flags, so read them first. */
static int set_up(int sock, const char *ifname)
{
    struct ifreq ifr;
    int rc = ifreq_for(&ifr, ifname);
    if (rc < 0) {
        return rc;
    }
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
        return -errno;
    }
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) {
        return -errno;
    }
    return 0;
}

int tw_if_configure(const char *ifname, uint32_t addr, unsigned prefix, unsigned mtu)
{
    if (prefix > 32 || (mtu != 0 && (mtu < 576 || mtu > 65535))) {
        return -EINVAL;
    }
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        return -errno;
    }
    struct ifreq ifr;
    int rc = ifreq_for(&ifr, ifname);
    if (rc == 0) {
        set_sin(&ifr.ifr_addr, addr);
        rc = ioctl(sock, SIOCSIFADDR, &ifr) < 0 ? -errno : 0;
    }
    if (rc == 0) {
        uint32_t mask = prefix == 0 ? 0 : ~0u << (32 - prefix);
        ifreq_for(&ifr, ifname);
        set_sin(&ifr.ifr_netmask, mask);
        rc = ioctl(sock, SIOCSIFNETMASK, &ifr) < 0 ? -errno : 0;
    }
    if (rc == 0 && mtu != 0) {
        ifreq_for(&ifr, ifname);
        ifr.ifr_mtu = (int)mtu;
        rc = ioctl(sock, SIOCSIFMTU, &ifr) < 0 ? -errno : 0;
    }
    if (rc == 0) {
        rc = set_up(sock, ifname);
    }
    close(sock);
    return rc;
}

int tw_if_up(const char *ifname)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        return -errno;
    }
    int rc = set_up(sock, ifname);
    close(sock);
    return rc;
}

int tw_if_disable_ipv6(const char *ifname)
{
    char path[96];
    if (ifname == NULL || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/') != NULL) {
        return -EINVAL;
    }
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno; /* ENOENT: no IPv6 in this kernel, nothing to silence */
    }
    int rc = write(fd, "1", 1) == 1 ? 0 : -errno;
    close(fd);
    return rc;
}

static bool has_net_admin(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (f == NULL) {
        return geteuid() == 0;
    }
    char line[256];
    unsigned long long eff = 0;
    bool found = false;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "CapEff: %llx", &eff) == 1) {
            found = true;
            break;
        }
    }
    fclose(f);
    return found ? (eff >> 12) & 1u : geteuid() == 0;
}

const char *tw_tun_unavailable(void)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENODEV || errno == ENXIO) {
            return "no /dev/net/tun (TUN driver missing)";
        }
        return "cannot open /dev/net/tun (needs root or CAP_NET_ADMIN)";
    }
    close(fd);
    /* Opening the node may be allowed to a group; creating a device and configuring
       addresses needs CAP_NET_ADMIN (bit 12 of the effective set). */
    if (!has_net_admin()) {
        return "no CAP_NET_ADMIN (creating a TUN device needs root)";
    }
    return NULL;
}
