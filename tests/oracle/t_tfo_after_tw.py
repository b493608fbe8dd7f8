#!/usr/bin/env python3
#     unshare -n python3 tests/oracle/t_tfo_after_tw.py
# A server's connection ends in TIME-WAIT (it closed first); the peer's new SYN on the same
# 4-tuple, above the old sequence space, carries Fast Open data (tcp_fastopen 0x603: every
# listener, no cookie needed). Does Linux take the data at the SYN (SYN+ACK ack 1011) as at
# any other SYN (packetdrill fastopen/server simple1-3 expect it)?
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kpd import Conn, setup, listener, sysctl  # noqa: E402
fd = setup()
sysctl('net.ipv4.tcp_fastopen', 0x603)
lsn = listener()
c = Conn(fd, 40000, 8080)
c.xchg('S', 0, win=8192, opts=[('mss', 1000)], wait=0.2)
c.xchg('.', 1, 1, wait=0.1)
a, _ = lsn.accept()
print('server closes'); a.close()
c.recv(0.2)
c.xchg('F.', 1, 2, wait=0.2)
print('new SYN with data, same 4-tuple')
c.kiss = None
c.xchg('S', 1000, win=8192, data=b'y' * 10, opts=[('mss', 1000)], wait=0.3)
