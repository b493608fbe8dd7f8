#!/usr/bin/env python3
# connect() over a TIME-WAIT 4-tuple from a port bound with SO_REUSEADDR: reused with
# timestamps, EADDRNOTAVAIL without (s17_connect_over_time_wait_ts, test_time_wait).
#     unshare -n python3 tests/oracle/t_tw_reuse.py
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kpd import *
fd = setup()
def run(ts, reuse_second=True, port=40000):
    sysctl('net.ipv4.tcp_timestamps', 1 if ts else 0)
    print('# timestamps', ts)
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((K, 50000)); s.setblocking(False)
    try: s.connect((P, port))
    except BlockingIOError: pass
    c = Conn(fd, port, 50000)
    r = c.recv(0.1)
    kiss = c.kiss
    opts = [('mss', 1000)] + ([('ts', 3001, 0)] if ts else [])
    ek = None
    for o in r[0][5]:
        if o.startswith('TS val'): ek = int(o.split()[2])
    c.xchg('S.', 0, 1, opts=[('mss', 1000)] + ([('ts', 3001, ek)] if ts else []), wait=0.1)
    s.close(); r = c.recv(0.1)
    for o in r[-1][5]:
        if o.startswith('TS val'): ek = int(o.split()[2])
    c.xchg('F.', 1, 2, opts=[('nop',), ('nop',), ('ts', 3002, ek)] if ts else [], wait=0.1)
    s2 = socket.socket(); s2.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1 if reuse_second else 0)
    try:
        s2.bind((K, 50000))
    except OSError as e:
        print('bind', e); return
    s2.setblocking(False)
    try: s2.connect((P, port)); print('connect ok')
    except BlockingIOError: print('connect in progress')
    except OSError as e: print('connect', e)
    c2 = Conn(fd, port, 50000); c2.recv(0.1)
run(True)
run(False, port=40001)
