#!/usr/bin/env python3
# TCP_CORK and MSG_MORE on Linux (d04_cork_*.pkt, d04_msg_more*.pkt):
#     unshare -n python3 tests/oracle/t_cork.py CASE      (HS=0.1: a 100 ms handshake)
# CASE: small small_wait full uncork nodelay_set nodelay_first nodelay_set_twice more
# more_wait more_ack cork_ack close shutdown more_shutdown zerowin retrans inherit
# user_timeout dup_ack peer_data.
# What 6.18 showed: corked short bytes go one RTO (max(RTO, 200 ms): the probe timer,
# tcp_check_probe_timer) after they began to wait with nothing in flight (HS=0.1 moves
# it), with PSH, and the RTO runs meanwhile for data in flight; full segments go at once;
# clearing the cork sends under Nagle's rule; setting TCP_NODELAY sends once while
# corked and the cork stays; MSG_MORE holds only its own call's push (an ACK that
# empties the flight sends the bytes, without PSH); a FIN takes the corked bytes at once;
# a window that opens restarts the wait (tcp_ack_probe); a timeout resends the full
# segment alone; a corked listener's child is corked.
import os
import socket
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kpd import K, Conn, setup  # noqa: E402

case = sys.argv[1] if len(sys.argv) > 1 else 'small'
fd = setup()
with open('/proc/sys/net/ipv4/tcp_autocorking') as f:
    print('autocorking', f.read().strip())
lsn = socket.socket()
lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsn.bind((K, 8080))
if case == 'inherit':
    lsn.setsockopt(socket.SOL_TCP, socket.TCP_CORK, 1)
lsn.listen(1)
c = Conn(fd, 40000, 8080)
c.xchg('S', 0, win=8192, opts=[('mss', 1000)], wait=0.01)
time.sleep(float(os.environ.get('HS', '0.01')))
c.send('.', 1, 1)
a, _ = lsn.accept()
CORK = socket.TCP_CORK
ND = socket.TCP_NODELAY
MORE = socket.MSG_MORE


def ack(n, win=8192):
    c.send('.', 1, n, win=win)


if case == 'small':        # cork, small writes, wait: when does it go?
    a.setsockopt(socket.SOL_TCP, CORK, 1)
    a.send(b'a' * 10); a.send(b'b' * 10); a.send(b'c' * 10)
    c.recv(1.5)
elif case == 'small_wait':  # cork, small write; the RTO-ish timer?
    a.setsockopt(socket.SOL_TCP, CORK, 1)
    a.send(b'a' * 10)
    c.recv(0.5)
    a.send(b'b' * 10)
    c.recv(1.0)
elif case == 'full':       # cork, writes reaching a full MSS and beyond
    a.setsockopt(socket.SOL_TCP, CORK, 1)
    a.send(b'a' * 600); a.send(b'b' * 600)
    c.recv(0.05)
    a.send(b'c' * 2500)
    c.recv(0.05)
    a.setsockopt(socket.SOL_TCP, CORK, 0)
    c.recv(0.3)
elif case == 'uncork':
    a.setsockopt(socket.SOL_TCP, CORK, 1)
    a.send(b'a' * 10); a.send(b'b' * 10)
    c.recv(0.05)
    a.setsockopt(socket.SOL_TCP, CORK, 0)
    c.recv(0.05)
    print('getsockopt', a.getsockopt(socket.SOL_TCP, CORK))
    a.send(b'c' * 10)
    c.recv(0.05)
    a.send(b'c' * 10)    # Nagle: held behind unacked
    c.recv(0.05)
    ack(21)
    c.recv(0.2)
elif case == 'nodelay_set':   # corked, then TCP_NODELAY set: flush? later writes?
    a.setsockopt(socket.SOL_TCP, CORK, 1)
    a.send(b'a' * 10)
    c.recv(0.05)
    a.setsockopt(socket.SOL_TCP, ND, 1)
    c.recv(0.05)
    a.send(b'b' * 10)
    c.recv(0.05)
    a.send(b'c' * 10)
    c.recv(0.05)
    ack(11)
    c.recv(0.5)
elif case == 'nodelay_first':   # nodelay on, then cork: cork wins; uncork flush
    a.setsockopt(socket.SOL_TCP, ND, 1)
    a.setsockopt(socket.SOL_TCP, CORK, 1)
    a.send(b'a' * 10)
    c.recv(0.05)
    a.send(b'b' * 10)
    c.recv(0.05)
    a.setsockopt(socket.SOL_TCP, CORK, 0)
    c.recv(0.05)
    a.send(b'c' * 10)
    c.recv(0.05)
    print('getsockopt cork', a.getsockopt(socket.SOL_TCP, CORK), 'nd', a.getsockopt(socket.SOL_TCP, ND))
elif case == 'nodelay_set_twice':  # NODELAY already on and set again while corked
    a.setsockopt(socket.SOL_TCP, ND, 1)
    a.setsockopt(socket.SOL_TCP, CORK, 1)
    a.send(b'a' * 10)
    c.recv(0.05)
    a.setsockopt(socket.SOL_TCP, ND, 1)
    c.recv(0.05)
    a.send(b'b' * 10)
    c.recv(0.3)
elif case == 'more':       # MSG_MORE then plain send
    a.send(b'a' * 10, MORE)
    c.recv(0.05)
    a.send(b'b' * 10, MORE)
    c.recv(0.05)
    a.send(b'c' * 10)
    c.recv(0.3)
elif case == 'more_wait':  # MSG_MORE alone: when?
    a.send(b'a' * 40, MORE)
    c.recv(1.0)
elif case == 'more_ack':   # MSG_MORE data held; an ACK arrives for earlier data
    a.send(b'x' * 10)
    c.recv(0.05)
    a.send(b'a' * 10, MORE)
    c.recv(0.05)
    ack(11)
    c.recv(0.5)
elif case == 'cork_ack':   # cork; partial held behind in-flight data; ACK of all
    a.send(b'x' * 10)
    c.recv(0.05)
    a.setsockopt(socket.SOL_TCP, CORK, 1)
    a.send(b'a' * 10)
    c.recv(0.05)
    ack(11)
    c.recv(0.6)
elif case == 'close':      # corked close: FIN with the data
    a.setsockopt(socket.SOL_TCP, CORK, 1)
    a.send(b'a' * 10)
    c.recv(0.05)
    a.close()
    c.recv(0.1)
elif case == 'shutdown':
    a.setsockopt(socket.SOL_TCP, CORK, 1)
    a.send(b'a' * 10)
    c.recv(0.05)
    a.shutdown(socket.SHUT_WR)
    c.recv(0.1)
elif case == 'more_shutdown':
    a.send(b'a' * 10, MORE)
    c.recv(0.05)
    a.shutdown(socket.SHUT_WR)
    c.recv(0.1)
elif case == 'zerowin':    # window closed, corked data: persist probes as usual
    a.setsockopt(socket.SOL_TCP, CORK, 1)
    a.send(b'a' * 1000)
    c.recv(0.05)
    ack(1001, win=0)
    a.send(b'b' * 10)
    c.recv(0.7)
    ack(1001, win=8192)
    c.recv(0.6)
elif case == 'retrans':    # full segment lost while corked; RTO retransmits it
    a.setsockopt(socket.SOL_TCP, CORK, 1)
    a.send(b'a' * 1000 + b'b' * 10)
    c.recv(0.3)
    ack(1001)
    c.recv(1.0)
elif case == 'inherit':   # a corked listener's child
    print('child cork', a.getsockopt(socket.SOL_TCP, CORK))
    a.send(b'a' * 10)
    c.recv(0.4)
elif case == 'user_timeout':  # TCP_USER_TIMEOUT below the wait: no abort
    a.setsockopt(socket.SOL_TCP, 18, 100)
    a.setsockopt(socket.SOL_TCP, CORK, 1)
    a.send(b'a' * 10)
    c.recv(0.4)
    ack(11)
    c.recv(0.1)
    a.send(b'b' * 10)
    print('state ok' if a.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 else 'error')
elif case == 'dup_ack':    # a pure ACK while corked bytes wait, nothing in flight
    a.setsockopt(socket.SOL_TCP, CORK, 1)
    a.send(b'a' * 10)
    c.recv(0.1)
    ack(1)
    c.recv(0.5)
elif case == 'peer_data':  # the peer's data while corked bytes wait, nothing in flight
    a.setsockopt(socket.SOL_TCP, CORK, 1)
    a.send(b'a' * 10)
    c.recv(0.1)
    c.xchg('P.', 1, 1, data=b'x' * 10, wait=0.5)
