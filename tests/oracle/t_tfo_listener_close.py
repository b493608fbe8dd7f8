#!/usr/bin/env python3
#     unshare -n python3 tests/oracle/t_tfo_listener_close.py
# A Fast Open listener (tcp_fastopen 0x603: every listener, no cookie needed) takes a SYN
# with data: its child waits unaccepted in SYN-RECEIVED. The listener is closed: which RST
# does Linux send for the child (packetdrill fastopen/server/listener-closed-trigger-rst
# expects R. 1:1(0) ack 11)? Then the same with an ESTABLISHED child (third segment in).
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kpd import Conn, setup, listener, sysctl  # noqa: E402
fd = setup()
sysctl('net.ipv4.tcp_fastopen', 0x603)
lsn = listener()
c = Conn(fd, 40000, 8080)
c.xchg('S', 0, win=8192, data=b'x' * 10, opts=[('mss', 1000)], wait=0.2)
print('close listener (child in SYN-RECEIVED)'); lsn.close()
c.recv(0.5)
lsn = listener()
c = Conn(fd, 40001, 8080)
c.xchg('S', 0, win=8192, opts=[('mss', 1000)], wait=0.2)
c.xchg('.', 1, 1, wait=0.2)
print('close listener (child ESTABLISHED)'); lsn.close()
c.recv(0.5)
