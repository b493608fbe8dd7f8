#!/usr/bin/env python3
# Round 47's kernel checks, one scenario per run (each in its own namespace):
#     unshare -n python3 tests/oracle/t_conf47.py SCENARIO
# Scenarios: ka_basic ka_data_resets ka_fw2 ka_inflight ka_ut ut_zwp mss1 mss0 mss60 nomss
# ws15 nots rst_nots oofin oofin_sack oofin_dup oofin_data simclose overflow synack_retries
# shutrd shutrd_close_unread shutrdwr_fw2_data linger0_{cw,fw1,fw2,lastack,lastack_unread,
# closing,tw} synsent_ecr_{future,old,zero,ok} est_ecr_future rst_data rst_unread
# paws_syn_old paws_syn_new paws_rst_old paws_data_old noack_data.
import os
import socket
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kpd import K, Conn, setup, sysctl  # noqa: E402

fd = setup()
lsn = socket.socket()
lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsn.bind((K, 8080))


def hs(c, opts=(('mss', 1000),), win=8192, third_opts=()):
    c.send('S', 0, win=win, opts=list(opts))
    r = c.recv(0.1)
    c.send('.', 1, 1, win=win, opts=list(third_opts))
    a, _ = lsn.accept()
    return a, r


def ts_val(r):
    """The TSval of the first packet received."""
    return int([o for o in r[0][5] if o.startswith('TS')][0].split()[2])


def ts_hs(c):
    """Handshake with timestamps (TSval 700, then 710); returns the kernel's TSval."""
    sysctl('net.ipv4.tcp_timestamps', 1)
    c.send('S', 0, win=8192, opts=[('mss', 1000), ('sackOK',), ('ts', 700, 0)])
    tsv = ts_val(c.recv(0.1))
    c.send('.', 1, 1, opts=[('nop',), ('nop',), ('ts', 710, tsv)])
    return tsv


def ka(a, idle, intvl, cnt, ut=0):
    a.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    a.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
    a.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, intvl)
    a.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, cnt)
    if ut:
        a.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, ut)


def err(a):
    a.setblocking(False)
    try:
        print('recv ->', a.recv(100))
    except OSError as e:
        print('recv ->', e)


def tcpi_snd_mss(a):
    import struct
    b = a.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    # tcpi_snd_mss is the 3rd u32 after 8 u8s
    return struct.unpack('8B24I', b[:104])[8 + 2]


sc = sys.argv[1]
lsn.listen(8)
c = Conn(fd, 40000, 8080)
if sc == 'ka_basic':
    a, _ = hs(c)
    ka(a, 5, 2, 2)
    r = c.recv(5.5)
    c.xchg('.', 1, 1, wait=9)
    err(a)
elif sc == 'ka_data_resets':
    a, _ = hs(c)
    ka(a, 3, 1, 2)
    c.recv(2)
    c.xchg('P.', 1, 1, data=b'x' * 10, wait=7)
    err(a)
elif sc == 'ka_fw2':
    a, _ = hs(c)
    ka(a, 5, 2, 2)
    a.shutdown(socket.SHUT_WR)
    c.recv(0.01)
    c.xchg('.', 1, 2, wait=10)
    err(a)
elif sc == 'ka_inflight':
    a, _ = hs(c)
    ka(a, 2, 1, 2)
    a.send(b'y' * 100)
    c.recv(6.6)
    c.xchg('.', 1, 101, wait=5)
    err(a)
elif sc == 'ka_ut':
    a, _ = hs(c)
    ka(a, 2, 1, 9, 3500)
    c.recv(6)
    err(a)
elif sc in ('mss1', 'mss0', 'mss60', 'nomss'):
    o = {'mss1': [('mss', 1)], 'mss0': [('mss', 0)], 'mss60': [('mss', 60)], 'nomss': []}[sc]
    a, _ = hs(c, o)
    print('tcpi_snd_mss', tcpi_snd_mss(a))
    a.send(b'z' * 1000)
    c.recv(0.3)
elif sc == 'ws15':
    sysctl('net.ipv4.tcp_window_scaling', 1)
    c.xchg('S', 0, win=8192, opts=[('mss', 1000), ('nop',), ('ws', 15)], wait=0.1)
    c.send('.', 1, 1, win=1)
    a, _ = lsn.accept()
    a.send(b'z' * 40000)
    c.recv(0.3)
    c.xchg('.', 1, 10001, win=1, wait=0.3)
elif sc in ('nots', 'rst_nots'):
    tsv = ts_hs(c)
    a, _ = lsn.accept()
    a.setblocking(False)
    if sc == 'nots':
        c.xchg('P.', 1, 1, data=b'a' * 10, wait=0.3)
        try:
            print('read', a.recv(100))
        except OSError as e:
            print('read', e)
        c.xchg('P.', 11, 1, data=b'b' * 10, opts=[('nop',), ('nop',), ('ts', 720, tsv)], wait=0.3)
        try:
            print('read', a.recv(100))
        except OSError as e:
            print('read', e)
        # a bare ACK without TS that updates the window, and a FIN without TS
        c.xchg('F.', 21, 1, wait=0.3)
        try:
            print('read', a.recv(100))
        except OSError as e:
            print('read', e)
    else:
        c.xchg('R.', 1, 1, wait=0.3)
        err(a)
elif sc in ('oofin', 'oofin_sack'):
    o = [('mss', 1000)] + ([('sackOK',)] if sc == 'oofin_sack' else [])
    a, _ = hs(c, o)
    a.setblocking(False)
    c.xchg('F.', 11, 1, wait=0.2)
    c.xchg('P.', 1, 1, data=b'q' * 5, wait=0.2)
    c.xchg('P.', 6, 1, data=b'q' * 5, wait=0.2)
    err(a)
    err(a)
elif sc == 'oofin_dup':
    a, _ = hs(c, [('mss', 1000), ('sackOK',)])
    c.xchg('F.', 11, 1, wait=0.2)
    c.xchg('F.', 11, 1, wait=0.2)
    c.xchg('FP.', 6, 1, data=b'q' * 5, wait=0.2)
    c.xchg('P.', 21, 1, data=b'q' * 5, wait=0.2)
    c.xchg('P.', 1, 1, data=b'q' * 5, wait=0.2)
elif sc == 'oofin_data':
    a, _ = hs(c, [('mss', 1000), ('sackOK',)])
    c.xchg('P.', 21, 1, data=b'q' * 5, wait=0.2)
    c.xchg('FP.', 31, 1, data=b'q' * 5, wait=0.2)
    c.xchg('P.', 11, 1, data=b'q' * 5, wait=0.2)
    c.xchg('P.', 26, 1, data=b'q' * 5, wait=0.2)
    c.xchg('P.', 1, 1, data=b'q' * 10, wait=0.2)
    c.xchg('P.', 16, 1, data=b'q' * 5, wait=0.2)
elif sc == 'ut_zwp':
    a, _ = hs(c)
    a.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, 3000)
    c.send('.', 1, 1, win=0)
    a.send(b'w' * 10)
    t = time.time()
    while time.time() - t < 8:
        for p in c.recv(0.05):
            c.send('.', 1, 1, win=0)
        a.setblocking(False)
        try:
            a.recv(10)
        except BlockingIOError:
            pass
        except OSError as e:
            print('%.3f' % (time.time() - c.t0), 'recv ->', e)
            break
    c.recv(1)
elif sc == 'shutrd':
    a, _ = hs(c)
    a.setblocking(False)
    c.xchg('P.', 1, 1, data=b'a' * 10, wait=0.1)
    a.shutdown(socket.SHUT_RD)
    c.recv(0.1)
    c.xchg('P.', 11, 1, data=b'b' * 10, wait=0.1)
    for i in range(2):
        try:
            print('recv ->', a.recv(100))
        except OSError as e:
            print('recv ->', e)
    c.xchg('P.', 21, 1, data=b'c' * 10, wait=0.1)
    a.send(b'r' * 5)
    c.recv(0.1)
    c.xchg('F.', 31, 6, wait=0.1)
    try:
        print('recv ->', a.recv(100))
    except OSError as e:
        print('recv ->', e)
    a.close()
    c.recv(0.3)
elif sc.startswith('linger0_'):
    import struct
    a, _ = hs(c)
    st = sc[8:]
    if st == 'cw':
        c.send('F.', 1, 1); c.recv(0.1)
    elif st == 'fw1':
        c.send('.', 1, 1, win=0); c.recv(0.05)
        a.send(b'x' * 10); a.shutdown(socket.SHUT_WR); c.recv(0.1)
    elif st == 'fw2':
        a.shutdown(socket.SHUT_WR); c.recv(0.05); c.send('.', 1, 2); c.recv(0.1)
    elif st == 'lastack_unread':
        c.send('FP.', 1, 1, data=b'u' * 5); c.recv(0.05); a.shutdown(socket.SHUT_WR); c.recv(0.1)
        a.close()
        c.recv(0.3)
        os.system('ss -tan state all | grep 40000')
        sys.exit(0)
    elif st == 'lastack':
        c.send('F.', 1, 1); c.recv(0.05); a.shutdown(socket.SHUT_WR); c.recv(0.1)
    elif st == 'closing':
        a.shutdown(socket.SHUT_WR); c.recv(0.05); c.send('F.', 1, 1); c.recv(0.1)
    elif st == 'tw':
        a.shutdown(socket.SHUT_WR); c.recv(0.05); c.send('F.', 1, 2); c.recv(0.1)
    os.system('ss -tan state all | grep 40000')
    a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    a.close()
    c.recv(0.3)
    os.system('ss -tan state all | grep 40000')
elif sc.startswith('synsent_ecr'):
    sysctl('net.ipv4.tcp_timestamps', 1)
    k = socket.socket()
    k.bind((K, 5555))
    k.setblocking(False)
    try:
        k.connect(('10.9.0.2', 80))
    except BlockingIOError:
        pass
    c = Conn(fd, 80, 5555)
    r = c.recv(0.1)
    tsv = ts_val(r)
    ecr = {'synsent_ecr_future': tsv + 100000, 'synsent_ecr_old': tsv - 100000,
           'synsent_ecr_zero': 0, 'synsent_ecr_ok': tsv}[sc]
    c.xchg('S.', 0, 1, opts=[('mss', 1000), ('sackOK',), ('ts', 500, ecr)], wait=0.3)
    try:
        print('getpeername', k.getpeername(), 'err', k.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
    except OSError as e:
        print('getpeername', e, 'err', k.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
    c.recv(1.2)
elif sc == 'est_ecr_future':
    tsv = ts_hs(c)
    a, _ = lsn.accept()
    a.send(b'd' * 10)
    c.recv(0.1)
    c.xchg('.', 1, 11, opts=[('nop',), ('nop',), ('ts', 720, tsv + 1000000)], wait=0.3)
    c.xchg('P.', 1, 11, data=b'e' * 10, opts=[('nop',), ('nop',), ('ts', 730, tsv + 1000000)], wait=0.3)
    a.setblocking(False)
    try:
        print('recv', a.recv(100))
    except OSError as e:
        print('recv', e)
elif sc in ('rst_data', 'paws_syn_old', 'paws_syn_new', 'paws_rst_old', 'noack_data', 'paws_data_old'):
    tsv = ts_hs(c)
    a, _ = lsn.accept()
    a.setblocking(False)
    if sc == 'rst_data':
        c.send('R.', 1, 1, data=b'r' * 10, opts=[('nop',), ('nop',), ('ts', 720, tsv)])
    elif sc == 'paws_syn_old':
        c.send('S', 1, 0, opts=[('nop',), ('nop',), ('ts', 600, tsv)])
    elif sc == 'paws_syn_new':
        c.send('S', 1, 0, opts=[('nop',), ('nop',), ('ts', 800, tsv)])
    elif sc == 'paws_rst_old':
        c.send('R.', 1, 1, opts=[('nop',), ('nop',), ('ts', 600, tsv)])
    elif sc == 'paws_data_old':
        c.send('P.', 1, 1, data=b'p' * 10, opts=[('nop',), ('nop',), ('ts', 600, tsv)])
    elif sc == 'noack_data':
        c.send('P', 1, 0, data=b'n' * 10, opts=[('nop',), ('nop',), ('ts', 720, tsv)])
    c.recv(0.3)
    try:
        print('recv ->', a.recv(100))
    except OSError as e:
        print('recv ->', e)
    os.system('ss -tan state all | grep 40000')
elif sc == 'shutrd_close_unread':
    a, _ = hs(c)
    a.shutdown(socket.SHUT_RD)
    c.xchg('P.', 1, 1, data=b'u' * 10, wait=0.1)
    print('poll', __import__('select').select([a], [], [], 0)[0] != [])
    a.close()
    c.recv(0.3)
elif sc == 'shutrdwr_fw2_data':
    a, _ = hs(c)
    a.shutdown(socket.SHUT_RDWR)
    c.recv(0.05)
    c.xchg('.', 1, 2, wait=0.1)
    c.xchg('P.', 1, 2, data=b'v' * 10, wait=0.3)
    a.setblocking(False)
    try:
        print('recv ->', a.recv(100))
    except OSError as e:
        print('recv ->', e)
    os.system('ss -tan state all | grep 40000')
elif sc == 'rst_unread':
    a, _ = hs(c)
    c.xchg('P.', 1, 1, data=b'k' * 10, wait=0.1)
    c.xchg('R.', 11, 1, wait=0.1)
    err(a)
    err(a)
elif sc == 'simclose':
    a, _ = hs(c)
    a.close()
    c.recv(0.01)
    c.xchg('F.', 1, 1, wait=0.2)
    c.xchg('.', 2, 2, wait=0.2)
    os.system('ss -tan state all | grep 8080')
elif sc == 'overflow':
    lsn.close()
    lsn = socket.socket()
    lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsn.bind((K, 8080))
    lsn.listen(1)
    lsn.setblocking(False)
    A, B, C = Conn(fd, 1001, 8080), Conn(fd, 1002, 8080), Conn(fd, 1003, 8080)
    for x in (A, B, C):
        x.t0 = c.t0
    A.send('S', 0, opts=[('mss', 1000)]); A.recv(0.05)
    B.send('S', 0, opts=[('mss', 1000)]); B.recv(0.05)
    A.send('.', 1, 1); A.recv(0.05)
    C.send('S', 0, opts=[('mss', 1000)]); C.recv(0.05)
    B.send('.', 1, 1); B.recv(0.05)
    C.xchg('.', 1, 1, wait=0.2)
    os.system('nstat -az TcpExtListenOverflows TcpExtListenDrops | tail -2')
    C.send('P.', 1, 1, data=b'd' * 10)   # data on the dropped third segment's heels
    C.recv(1.5)
    print('accept', lsn.accept()[1]); print('accept', lsn.accept()[1])
    C.recv(2)
    C.xchg('.', 1, 1, wait=0.3)
    try:
        print('accept', lsn.accept()[1])
    except OSError as e:
        print('accept', e)
elif sc == 'synack_retries':
    c.xchg('S', 0, opts=[('mss', 1000)], wait=66)
    c.xchg('.', 1, 1, wait=0.3)
