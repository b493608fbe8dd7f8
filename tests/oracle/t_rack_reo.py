#!/usr/bin/env python3
# RACK's reordering timer (RFC 8985 6.2): 4 segments out, the last one SACKed one RTT
# (100 ms) later; the first is resent when RACK.rtt + reo_wnd (min_rtt / 4 = 25 ms) has
# passed since it left. Linux 6.18 here resends 34-36 ms after the SACK (its timer in HZ=250
# jiffies, plus 2 jiffies); google/packetdrill's fr-4pkt-fack-last-mss expects 40 ms and
# tcpwave sends at 25 ms.
#     unshare -n python3 tests/oracle/t_rack_reo.py
import os
import socket
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kpd import Conn, setup, listener  # noqa: E402

fd = setup()
lsn = listener()
c = Conn(fd, 40000, 8080)
c.xchg('S', 0, win=32792, opts=[('mss', 1000), ('sackOK',), ('nop',), ('nop',)], wait=0.1)
c.send('.', 1, 1, win=32000)
a, _ = lsn.accept()
a.send(b'x' * 4000)
c.recv(0.1)
k = c.kiss
c.xchg('.', 1, 1, win=32000, opts=[('nop',), ('nop',), ('sack', [((k + 3001) & 0xffffffff, (k + 4001) & 0xffffffff)])],
       wait=0.3)
