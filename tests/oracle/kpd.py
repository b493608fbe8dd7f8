#!/usr/bin/env python3
# Kernel oracle: plays the peer against the Linux TCP stack of this machine, to check what
# Linux does before a packet script claims it (the "checked against Linux 6.18 over TUN"
# notes in tests/scripts). Run a test inside a private network namespace as root:
#     unshare -n python3 tests/oracle/t_example.py
# The kernel is 10.9.0.1 on tun kt0, the peer (us) 10.9.0.2; sequence numbers print
# relative to each side's ISN, as packet scripts write them. Not part of make test.
import os, fcntl, struct, socket, select, time, subprocess, sys

TUNSETIFF = 0x400454ca
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
TUNSETOFFLOAD = 0x400454d0
TUN_F_CSUM, TUN_F_TSO4 = 0x01, 0x02
# KPD_GSO=1: the device takes checksum and TSO offload (as packetdrill's does), so the
# kernel hands over its skbs whole (a virtio_net_hdr in front of each packet, whose
# gso_size says the segment size), and recv() reports one line per skb ("gso N").
GSO = os.environ.get('KPD_GSO') == '1'
VNET = 10
K = '10.9.0.1'
P = '10.9.0.2'


def sh(c):
    subprocess.run(c, shell=True, check=True)


def sysctl(k, v):
    with open('/proc/sys/' + k.replace('.', '/'), 'w') as f:
        f.write(str(v))


def tun_open():
    fd = os.open('/dev/net/tun', os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', b'kt0', IFF_TUN | IFF_NO_PI |
                                            (IFF_VNET_HDR if GSO else 0)))
    if GSO:
        fcntl.ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4)
    sh('ip link set lo up; ip addr add 10.9.0.1/24 dev kt0; ip link set kt0 up')
    return fd


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


FL = {'F': 1, 'S': 2, 'R': 4, 'P': 8, '.': 16, 'U': 32, 'E': 64, 'W': 128}


def opts_bytes(opts):
    b = b''
    for o in opts:
        if o[0] == 'nop':
            b += b'\x01'
        elif o[0] == 'mss':
            b += struct.pack('!BBH', 2, 4, o[1])
        elif o[0] == 'ws':
            b += struct.pack('!BBB', 3, 3, o[1])
        elif o[0] == 'sackOK':
            b += b'\x04\x02'
        elif o[0] == 'ts':
            b += struct.pack('!BBII', 8, 10, o[1], o[2])
        elif o[0] == 'sack':
            bl = o[1]
            b += struct.pack('!BB', 5, 2 + 8 * len(bl)) + b''.join(struct.pack('!II', x, y) for x, y in bl)
    while len(b) % 4:
        b += b'\x00'
    return b


class Conn:
    def __init__(self, fd, sport, dport, iss=0):
        self.fd, self.sport, self.dport = fd, sport, dport
        self.iss = iss      # our (peer) ISN: relative 0 -> absolute iss
        self.kiss = None    # kernel ISN
        self.t0 = time.time()

    def send(self, flags, seq, ack=0, win=8192, data=b'', opts=(), urg=0, raw_seq=False):
        fl = sum(FL[c] for c in flags)
        ob = opts_bytes(opts)
        aseq = (seq if raw_seq else self.iss + seq) & 0xffffffff
        aack = ((self.kiss or 0) + ack) & 0xffffffff if (fl & 16) else 0
        th = struct.pack('!HHIIBBHHH', self.sport, self.dport, aseq, aack, (5 + len(ob) // 4) << 4, fl,
                         win, 0, urg) + ob + data
        ph = struct.pack('!4s4sBBH', socket.inet_aton(P), socket.inet_aton(K), 0, 6, len(th))
        c = csum(ph + th)
        th = th[:16] + struct.pack('!H', c) + th[18:]
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(th), 0, 0x4000, 64, 6, 0, socket.inet_aton(P),
                         socket.inet_aton(K))
        ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
        os.write(self.fd, (b'\0' * VNET if GSO else b'') + ip + th)
        self.log('<', fl, seq, ack, win, len(data), opts, urg)

    def xchg(self, *args, wait=0.5, **kw):
        """send() a segment, then recv() for `wait` seconds: one step of a script."""
        self.send(*args, **kw)
        return self.recv(wait)

    def log(self, d, fl, seq, ack, win, n, opts, urg=0):
        f = ''.join(c for c in 'SFRPUEW' if fl & FL[c]) + ('.' if fl & 16 else '')
        print('%7.3f %s %s %d:%d(%d) ack %d win %d %s%s' % (time.time() - self.t0, d, f, seq, seq + n, n,
                                                          ack, win, ' urg %d' % urg if urg else '',
                                                          ' <%s>' % ','.join(str(x) for x in opts) if opts else ''),
              flush=True)

    def recv(self, timeout=0.5):
        out = []
        end = time.time() + timeout
        while True:
            r, _, _ = select.select([self.fd], [], [], max(0, end - time.time()))
            if not r:
                return out
            pkt = os.read(self.fd, 65535 + VNET)
            gso = 0
            if GSO:
                gso = struct.unpack('<H', pkt[4:6])[0] if pkt[1] else 0  # gso_type, gso_size
                pkt = pkt[VNET:]
                self.gso = gso
            if pkt[9] != 6:
                continue
            ihl = (pkt[0] & 15) * 4
            t = pkt[ihl:]
            sp, dp, seq, ack, off, fl, win, _, urg = struct.unpack('!HHIIBBHHH', t[:20])
            doff = (off >> 4) * 4
            ob = t[20:doff]
            data = t[doff:]
            if self.kiss is None and fl & 2:
                self.kiss = seq
            opts = []
            i = 0
            while i < len(ob):
                k = ob[i]
                if k == 0:
                    break
                if k == 1:
                    opts.append('nop'); i += 1; continue
                ln = ob[i + 1]
                v = ob[i + 2:i + ln]
                if k == 2:
                    opts.append('mss %d' % struct.unpack('!H', v)[0])
                elif k == 3:
                    opts.append('ws %d' % v[0])
                elif k == 4:
                    opts.append('sackOK')
                elif k == 8:
                    a, b = struct.unpack('!II', v); opts.append('TS val %d ecr %d' % (a, b))
                elif k == 5:
                    bl = [struct.unpack('!II', v[j:j + 8]) for j in range(0, len(v), 8)]
                    opts.append('sack ' + ' '.join('%d:%d' % ((x - self.iss) & 0xffffffff,
                                                               (y - self.iss) & 0xffffffff) for x, y in bl))
                else:
                    opts.append('opt%d' % k)
                i += ln
            rseq = (seq - self.kiss) & 0xffffffff if self.kiss is not None else seq
            rack = (ack - self.iss) & 0xffffffff
            self.log('>', fl, rseq, rack, win, len(data), opts, urg)
            out.append((fl, rseq, rack, win, data, opts))


def listener(port=8080, backlog=1):
    """A kernel socket listening on K:port (SO_REUSEADDR, so runs can follow each other)."""
    lsn = socket.socket()
    lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsn.bind((K, port))
    lsn.listen(backlog)
    return lsn


def setup():
    sysctl('net.ipv4.tcp_timestamps', 0)
    sysctl('net.ipv4.tcp_window_scaling', 0)
    return tun_open()
