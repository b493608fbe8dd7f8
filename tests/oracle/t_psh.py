#!/usr/bin/env python3
# Where Linux puts PSH on the segments of a burst (tests/scripts/d50_psh_*.pkt):
#     unshare -n python3 tests/oracle/t_psh.py [key=value ...]
# keys: w=30000[,400e,...] (write sizes, in order; a suffix e sends with MSG_EOR, m with
#       MSG_MORE, n after TCP_NODELAY), mss=1000, win=32792 (the SYN's), awin=257 (the
#       ACKs'), ws=-1 (the peer's window scale; -1: none), per=1 (ACK every `per`
#       segments received), gap=0 (seconds between writes), nagle=1, t=2 (seconds).
# Prints each data segment (sequence relative, length, P) and a one-line summary of the
# segment ends that carried PSH. This machine's kernel is Linux 6.18; the TUN device has
# no offloads (unless KPD_GSO=1), so GSO splits each skb in software and keeps PSH on its
# last segment only.
#
# What 6.18 showed (mss 1000, a 100 or 50 ms handshake RTT: tcp_tso_autosize's floor of
# two segments is the skb size; the window does not matter, 8000 to 256000 bytes):
#   w=30000             -> ". P. . P. ..." (PSH at 2000 4000 ... 30000), ACK per 1 or not
#   w=5000              -> ". P. . P. P." (the write's last skb, one segment, tcp_push)
#   w=2002 mss=974      -> ". P. P."
#   w=14000 per=1       -> PSH at 2000 4000 ... 14000 (ten at once, then two per ACK)
#   w=1000,30000 gap=.2 -> the second write's skbs count from its own start (PSH at 3000..)
#   w=3000,3000,3000 gap=0.001 -> PSH at 2000 3000 6000 9000 (see GSO below: the later
#                          writes are one 3000-byte skb each)
#   w=1500,1500,...     -> a write appended to an unsent skb clears that skb's PSH
#   win=257 (no scale)  -> every segment PSH (one-segment skbs, max_window/2 forced push)
#   hs=0.002 (2 ms RTT) -> larger skbs (5, 8, 10 segments: the pacing rate), fewer PSH
# With KPD_GSO=1 (kpd.py: the device takes TSO, so each skb arrives whole) the skbs show
# directly: w=30000 -> fifteen 2000-byte skbs, each with PSH; w=3000,3000,3000 gap=0.001
# -> P2000 P1000 P3000 P3000 (the later writes' skbs are larger: size_goal follows the
# pacing rate, which the short RTT raised, and every skb still carries PSH). So: every skb
# a write builds leaves with PSH (on its last segment once segmented), unless a later
# write appended to it before it left; size_goal sets how often.
# tcpwave (tcp_out.c push_segs) counts from each burst's start rather than the write's:
# the same wherever a burst is a whole number of two-segment skbs.
import os
import socket
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kpd import Conn, setup, sysctl, listener  # noqa: E402

a = dict(w='30000', mss='1000', win='32792', awin='', ws='-1', per='1', gap='0', nagle='1',
         t='2', hs='0.05')
for x in sys.argv[1:]:
    k, v = x.split('=', 1)
    a[k] = v
fd = setup()
ws = int(a['ws'])
if ws >= 0:
    sysctl('net.ipv4.tcp_window_scaling', 1)
lsn = listener()
c = Conn(fd, 40000, 8080)
opts = [('mss', int(a['mss'])), ('sackOK',), ('nop',), ('nop',)]
if ws >= 0:
    opts += [('nop',), ('ws', ws)]
c.xchg('S', 0, win=int(a['win']), opts=opts, wait=float(a['hs']))
awin = int(a['awin'] or (a['win'] if ws < 0 else 257))
c.send('.', 1, 1, win=awin)
s, _ = lsn.accept()
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 200000)
if a['nagle'] == '0':
    s.setsockopt(socket.SOL_TCP, socket.TCP_NODELAY, 1)
s.setblocking(False)
total = 0
segs = []
per = int(a['per'])
pending = 0
acked = 0


def pump(dt):
    global pending, acked
    for (fl, seq, ack, win, data, o) in c.recv(dt):
        if not data:
            continue
        segs.append((seq, len(data), bool(fl & 8)))
        pending += 1
        if pending >= per:
            pending = 0
            acked = max(acked, seq + len(data))
            c.send('.', 1, acked, win=awin)


for w in a['w'].split(','):
    fl = 0
    if w.endswith('e'):
        fl = socket.MSG_EOR; w = w[:-1]
    elif w.endswith('m'):
        fl = socket.MSG_MORE; w = w[:-1]
    elif w.endswith('n'):
        s.setsockopt(socket.SOL_TCP, socket.TCP_NODELAY, 1); w = w[:-1]
    n = int(w)
    sent = s.send(b'x' * n, fl)
    total += sent
    print('write %d flags %d = %d' % (n, fl, sent), flush=True)
    if float(a['gap']):
        pump(float(a['gap']))
end = time.time() + float(a['t'])
while time.time() < end:
    pump(0.05)
    if segs and acked >= total:
        break
    if pending and per > 1:  # the peer's delayed ACK for a short tail
        pump(0.04)
        if pending:
            last = max(q + n for q, n, _ in segs)
            pending = 0
            acked = max(acked, last)
            c.send('.', 1, acked, win=awin)
print('PSH at:', ' '.join(str(q + n - 1) for q, n, p in segs if p))
print('segs:', ' '.join(('P' if p else '') + str(n) for q, n, p in segs))
