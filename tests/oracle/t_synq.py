#!/usr/bin/env python3
# SYN queue entries (s03_synack_on_half_open, r03_syn_in_window_syn_received,
# states/syn_received_syn_fin): a SYN+ACK or SYN+FIN+ACK at the peer's ISN (an ACK, the
# entry stays), SYN+ACK in the window (Linux: RST, entry freed), a bad ACK (Linux: RST).
#     unshare -n python3 tests/oracle/t_synq.py
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kpd import *
fd = setup()
l = socket.socket(); l.bind((K, 8080)); l.listen(5); l.setblocking(False)
print('# SF. at IRS ack ok')
c = Conn(fd, 40000, 8080)
c.send('S', 0, win=8192, opts=[('mss', 1000)]); c.recv(0.01)
c.send('SF.', 0, 1, win=8192); c.recv(0.05)
c.send('.', 1, 1); c.recv(0.05)
print('# S. at IRS twice, then ACK with data')
c = Conn(fd, 40001, 8080)
c.send('S', 0, win=8192, opts=[('mss', 1000)]); c.recv(0.01)
c.send('S.', 0, 1, win=8192); c.recv(0.05)
c.send('S.', 0, 1, win=8192); c.recv(0.05)
c.send('.', 0, 1, win=8192); c.recv(0.05)
c.send('.', 1, 1); c.recv(0.05)
try:
    a, _ = l.accept(); print('accepted')
except Exception as e: print('accept', e)
print('# S. in window (seq 1) ack ok')
c = Conn(fd, 40002, 8080)
c.send('S', 0, win=8192, opts=[('mss', 1000)]); c.recv(0.01)
c.send('S.', 1, 1, win=8192); c.recv(0.05)
c.send('.', 1, 1); c.recv(0.05)
print('# S. in window (seq 5) bad ack')
c = Conn(fd, 40003, 8080)
c.send('S', 0, win=8192, opts=[('mss', 1000)]); c.recv(0.01)
c.send('S.', 5, 7, win=8192); c.recv(0.05)
c.send('.', 1, 1); c.recv(0.05)
print('# another SYN: in the window (Linux: RST, entry freed), far out of it (an ACK)')
for port, seq in ((40004, 100), (40005, 1000000)):
    c = Conn(fd, port, 8080)
    c.send('S', 0, win=8192, opts=[('mss', 1000)]); c.recv(0.01)
    c.send('S', seq, win=8192, opts=[('mss', 1000)]); c.recv(0.05)
    c.send('.', 1, 1); c.recv(0.05)
