#!/usr/bin/env python3
# Example: the peer's FIN repeated in CLOSE-WAIT and LAST-ACK with SACK (Linux answers
# each with a D-SACK block covering the FIN: closing/closing_fin_again_dsack.pkt).
#     unshare -n python3 tests/oracle/t_example.py
import os
import socket
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kpd import Conn, setup, listener  # noqa: E402

fd = setup()
lsn = listener()
c = Conn(fd, 40000, 8080)
c.xchg('S', 0, win=8192, opts=[('mss', 1000), ('sackOK',), ('nop',), ('nop',)], wait=0.2)
c.send('.', 1, 1)
a, _ = lsn.accept()
c.xchg('F.', 1, 1, wait=0.3)
c.xchg('F.', 1, 1, wait=0.3)
a.close()
c.recv(0.3)
c.xchg('F.', 1, 1, wait=0.3)
c.xchg('.', 2, 2, wait=0.3)
