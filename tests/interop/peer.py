#!/usr/bin/env python3
"""peer.py -- the kernel side of the interop tests: small TCP clients and servers on
ordinary sockets whose every step is scripted, so a test knows exactly who sent what and
when (half-close ordering, SO_LINGER 0 aborts, refused connects, many parallel echoes).

usage: peer.py MODE [options]; prints one result line; exit 0 on success, 1 on failure.
"""
import argparse
import asyncio
import errno
import hashlib
import os
import socket
import struct
import sys
import time


def fail(msg):
    print("peer: " + msg, file=sys.stderr)
    sys.exit(1)


def read_all(s, limit_s=60.0):
    """Read to EOF; returns bytes. Bounded by time."""
    chunks = []
    s.settimeout(limit_s)
    while True:
        b = s.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def wait_file(path, limit_s=30.0):
    end = time.monotonic() + limit_s
    while not os.path.exists(path):
        if time.monotonic() > end:
            fail("timed out waiting for " + path)
        time.sleep(0.02)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def connect(host, port, timeout=10.0):
    s = socket.create_connection((host, port), timeout=timeout)
    return s


def mode_client_halfclose(a):
    """Connect, send --send bytes, shutdown(SHUT_WR), touch --mark, read to EOF."""
    s = connect(a.host, a.port)
    data = open(a.send, "rb").read() if a.send else b""
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    if a.mark:
        open(a.mark, "w").close()
    got = read_all(s)
    s.close()
    open(a.out, "wb").write(got)
    print("client: sent %d, received %d bytes" % (len(data), len(got)))


def mode_server_after_eof(a):
    """Accept one, read to EOF (the peer half-closed first), then send --send and close."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(1)
    if a.mark:
        open(a.mark, "w").close()
    ls.settimeout(30)
    s, _ = ls.accept()
    got = read_all(s)
    data = open(a.send, "rb").read()
    s.sendall(data)
    s.close()
    open(a.out, "wb").write(got)
    print("server: received %d, then sent %d bytes" % (len(got), len(data)))


def mode_refused(a):
    """Connect must fail with ECONNREFUSED."""
    try:
        s = connect(a.host, a.port)
    except ConnectionRefusedError:
        print("refused")
        return
    s.close()
    fail("connect to %s:%d succeeded" % (a.host, a.port))


def mode_client_abort(a):
    """Connect, send a little, then close with SO_LINGER 0: RST instead of FIN (R4)."""
    s = connect(a.host, a.port)
    s.sendall(b"about to abort\n")
    time.sleep(0.2)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("aborted")


def mode_server_expect_reset(a):
    """Accept one, touch --mark once connected, send --send if given, then read until
    the peer's RST."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(1)
    ls.settimeout(30)
    s, _ = ls.accept()
    if a.mark:
        open(a.mark, "w").close()
    try:
        if a.send:
            s.sendall(open(a.send, "rb").read())
        read_all(s, 30)
    except ConnectionResetError:
        print("reset")
        return
    fail("connection ended without a reset")


def listen_one(a, rcvbuf=0):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        # Set on the listener so the accepted socket's window is small from the start.
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    ls.bind((a.host, a.port))
    ls.listen(1)
    ls.settimeout(30)
    s, _ = ls.accept()
    s.settimeout(60)
    return s


def mode_server_reply_close(a):
    """Accept one, read a line, send --send and close first (the kernel's FIN before
    the peer's), then read to the peer's EOF into --out."""
    s = listen_one(a)
    req = b""
    while not req.endswith(b"\n"):
        b = s.recv(1)
        if not b:
            break
        req += b
    data = open(a.send, "rb").read()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    rest = read_all(s, 30)
    s.close()
    open(a.out, "wb").write(req + rest)
    print("server: read %d, sent %d bytes and closed first" % (len(req) + len(rest), len(data)))


def mode_server_stall_abort(a):
    """Accept one with a small receive buffer, read --size bytes, stop reading (the
    window closes) for --hold seconds, then close with SO_LINGER 0 (RST)."""
    s = listen_one(a, 4096)
    n = 0
    while n < a.size:
        b = s.recv(65536)
        if not b:
            fail("EOF after %d bytes" % n)
        n += len(b)
    time.sleep(a.hold)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("server: read %d bytes, stalled %.1f s, aborted" % (n, a.hold))


async def echo_one(host, port, i, size, cc=None):
    payload = os.urandom(size)
    if cc:
        # The kernel's congestion control for this connection (the test_lossy case: with
        # BBR, the kernel's rate estimate can collapse under random loss and crawl for
        # minutes, which says nothing about the peer).
        sk = socket.socket()
        sk.setblocking(False)
        try:
            sk.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
        except OSError:
            pass
        await asyncio.get_running_loop().sock_connect(sk, (host, port))
        r, w = await asyncio.open_connection(sock=sk)
    else:
        r, w = await asyncio.open_connection(host, port)
    w.write(payload)
    await w.drain()
    w.write_eof()
    got = await r.read()
    w.close()
    if got != payload:
        raise RuntimeError("connection %d: %d of %d bytes echoed, content %s" %
                           (i, len(got), size, "same" if payload.startswith(got) else "differs"))


async def echo_many(a):
    tasks = [echo_one(a.host, a.port, i, a.size, a.cc) for i in range(a.count)]
    res = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 120)
    bad = [r for r in res if isinstance(r, BaseException)]
    for r in bad[:5]:
        print("peer: " + repr(r), file=sys.stderr)
    if bad:
        fail("%d of %d echo connections failed" % (len(bad), a.count))
    print("echo: %d connections, %d bytes each, all echoed intact" % (a.count, a.size))


def mode_ping(a):
    """ICMP echo to --host through a raw socket (no dependency on iputils)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(2)
    if a.ping_size:
        # DF off (IP_PMTUDISC_DONT): a request larger than the MTU leaves in fragments.
        s.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_MTU_DISCOVER", 10), 0)
    ident = os.getpid() & 0xFFFF
    for seq in range(1, a.count + 1):
        payload = os.urandom(a.ping_size or 16 + seq * 8)
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        csum = inet_csum(hdr + payload)
        pkt = struct.pack("!BBHHH", 8, 0, csum, ident, seq) + payload
        s.sendto(pkt, (a.host, 0))
        end = time.monotonic() + 2
        while True:
            if time.monotonic() > end:
                fail("no echo reply for seq %d" % seq)
            data, src = s.recvfrom(65535)
            ihl = (data[0] & 15) * 4
            icmp = data[ihl:]
            t, code, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
            if src[0] == a.host and t == 0 and rid == ident and rseq == seq:
                if icmp[8:] != payload:
                    fail("echo reply %d carries different data" % seq)
                if inet_csum(icmp) != 0:
                    fail("echo reply %d has a bad checksum" % seq)
                break
    print("ping: %d echo replies%s, payloads and checksums right"
          % (a.count, " of %d bytes" % a.ping_size if a.ping_size else ""))


def mode_udp(a):
    """A UDP datagram to --host:--port on a connected socket: the stack, which has no UDP,
    answers ICMP Protocol Unreachable, which the kernel reports on the socket."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.connect((a.host, a.port))
    s.send(b"hello")
    try:
        s.recv(100)
        fail("udp: a reply came, expected an ICMP error")
    except socket.timeout:
        fail("udp: no ICMP error within 2 s")
    except OSError as e:
        # Linux's icmp_err_convert: Protocol Unreachable is ENOPROTOOPT
        if e.errno != errno.ENOPROTOOPT:
            fail("udp: %s, expected ENOPROTOOPT" % e)
        print("udp: the kernel reports %s (ICMP Protocol Unreachable)" % errno.errorcode[e.errno])


def inet_csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


MSG_FASTOPEN = getattr(socket, "MSG_FASTOPEN", 0x20000000)
TCP_FASTOPEN = getattr(socket, "TCP_FASTOPEN", 23)


def mode_tfo_client(a):
    """TCP Fast Open client (RFC 7413): --count connections, each sendto(MSG_FASTOPEN) of
    --size bytes, the echo read back and compared, then close. The kernel asks for a
    cookie on the first and sends the data on the SYN of the next ones."""
    data = bytes((i * 7 + 3) & 0xFF for i in range(a.size))
    for i in range(a.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # (blocking: without a cookie the kernel completes the handshake, then sends)
        n = s.sendto(data, MSG_FASTOPEN, (a.host, a.port))
        s.settimeout(10.0)
        if n < len(data):
            s.sendall(data[n:])
        got = b""
        while len(got) < len(data):
            b = s.recv(65536)
            if not b:
                break
            got += b
        s.close()
        if got != data:
            fail("tfo-client: connection %d: echo differs (%d of %d bytes)" % (i, len(got), len(data)))
        time.sleep(0.1)
    print("tfo-client: %d connections echoed" % a.count)


def mode_tfo_server(a):
    """TCP Fast Open server (TCP_FASTOPEN on the listener): accept --count connections,
    read each to EOF, answer with the bytes' SHA-256, close."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, 16)
    ls.bind(("0.0.0.0", a.port))
    ls.listen(16)
    ls.settimeout(30.0)
    if a.mark:
        open(a.mark, "w").close()
    for i in range(a.count):
        s, _ = ls.accept()
        got = read_all(s)
        s.sendall(sha(got).encode() + b"\n")
        s.close()
    ls.close()
    print("tfo-server: %d connections" % a.count)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode")
    p.add_argument("--host", default="10.7.0.2")
    p.add_argument("--port", type=int, default=7000)
    p.add_argument("--send")
    p.add_argument("--out")
    p.add_argument("--mark")
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--size", type=int, default=65536)
    p.add_argument("--ping-size", type=int, default=0, help="ping: bytes of data (0: varied)")
    p.add_argument("--hold", type=float, default=2.0)
    p.add_argument("--cc", help="kernel congestion control for echo-many (TCP_CONGESTION)")
    a = p.parse_args()
    modes = {
        "client-halfclose": mode_client_halfclose,
        "server-after-eof": mode_server_after_eof,
        "refused": mode_refused,
        "client-abort": mode_client_abort,
        "server-reply-close": mode_server_reply_close,
        "server-stall-abort": mode_server_stall_abort,
        "server-expect-reset": mode_server_expect_reset,
        "echo-many": lambda a: asyncio.run(echo_many(a)),
        "ping": mode_ping,
        "udp": mode_udp,
        "tfo-client": mode_tfo_client,
        "tfo-server": mode_tfo_server,
    }
    if a.mode not in modes:
        p.error("unknown mode " + a.mode)
    try:
        modes[a.mode](a)
    except (OSError, RuntimeError, asyncio.TimeoutError) as e:
        fail("%s: %r" % (a.mode, e))


if __name__ == "__main__":
    main()
