#!/usr/bin/env python3
#     unshare -n python3 tests/oracle/t_listener_close.py
# A listener with one half-open entry (SYN in, SYN+ACK out) is closed: does Linux send a RST?
# Then the peer's ACK (and a SYN again on the same tuple to a new listener).
import os
import socket
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kpd import Conn, setup, listener  # noqa: E402
fd = setup()
lsn = listener()
c = Conn(fd, 40000, 8080)
c.xchg('S', 0, win=8192, opts=[('mss', 1000)], wait=0.2)
print('close listener'); lsn.close()
c.recv(0.5)
print('new listener, SYN again')
lsn = listener()
c.kiss = None
c.xchg('S', 0, win=8192, opts=[('mss', 1000)], wait=0.3)
