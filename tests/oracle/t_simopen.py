#!/usr/bin/env python3
# Simultaneous open (RFC 9293 3.5 figure 8): the kernel's connect() and our SYN cross, the
# kernel answers with SYN+ACK, our SYN+ACK then completes it. Linux 6.18 ACKs that
# SYN+ACK (states/r01_simultaneous_open.pkt expects the same of tcpwave).
#     unshare -n python3 tests/oracle/t_simopen.py
import os
import socket
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kpd import K, P, Conn, setup  # noqa: E402

fd = setup()
s = socket.socket()
s.bind((K, 40000))
s.setblocking(False)
try:
    s.connect((P, 8080))
except BlockingIOError:
    pass
c = Conn(fd, 8080, 40000)
c.recv(0.2)
c.xchg('S', 0, win=8192, opts=[('mss', 1000)], wait=0.3)
c.xchg('S.', 0, 1, win=8192, opts=[('mss', 1000)])
print('connect:', os.strerror(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)))
