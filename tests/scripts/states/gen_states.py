#!/usr/bin/env python3
"""Generate the RFC 9293 3.10.7 state x segment-kind scripts of tests/scripts/states/.

Each (state, kind) pair becomes <state>_<kind>.pkt: a header naming the RFC section, a
preamble that drives the real handshake (and close) to the state, and the segment under
test with the expected answer. Edit this file and run it to change the scripts:
    python3 tests/scripts/states/gen_states.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

LISTEN = """\
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
   +0 bind(3, ..., ...) = 0
   +0 listen(3, 1) = 0
"""
SYN_SENT = """\
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
   +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
   +0 > S 0:0(0) <...>
   +0 state SYN-SENT
"""
SYN_RCVD = LISTEN + """\
   +0 < S 0:0(0) win 8192 <mss 1000>
   +0 > S. 0:0(0) ack 1 <mss 1460>
   +0 state SYN-RECEIVED
"""
ESTAB = LISTEN + """\
   +0 < S 0:0(0) win 8192 <mss 1000>
   +0 > S. 0:0(0) ack 1 <mss 1460>
 +.01 < . 1:1(0) ack 1 win 8192
   +0 accept(3, ..., ...) = 4
   +0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0
   +0 state ESTABLISHED
"""
FW1 = ESTAB + """\
   +0 close(4) = 0
   +0 > F. 1:1(0) ack 1
   +0 state FIN-WAIT-1
"""
FW1_HALF = ESTAB + """\
   +0 shutdown(4, SHUT_WR) = 0
   +0 > F. 1:1(0) ack 1
   +0 state FIN-WAIT-1
"""
FW2 = FW1 + """\
 +.01 < . 1:1(0) ack 2 win 8192
   +0 state FIN-WAIT-2
"""
FW2_HALF = FW1_HALF + """\
 +.01 < . 1:1(0) ack 2 win 8192
   +0 state FIN-WAIT-2
"""
CW = ESTAB + """\
 +.01 < F. 1:1(0) ack 1 win 8192
   +0 > . 1:1(0) ack 2
   +0 state CLOSE-WAIT
"""
CLOSING = FW1 + """\
 +.01 < F. 1:1(0) ack 1 win 8192
   +0 > . 2:2(0) ack 2
   +0 state CLOSING
"""
LAST_ACK = CW + """\
   +0 close(4) = 0
   +0 > F. 1:1(0) ack 2
   +0 state LAST-ACK
"""
TW = FW2 + """\
 +.01 < F. 1:1(0) ack 2 win 8192
   +0 > . 2:2(0) ack 2
   +0 state TIME-WAIT
"""

# state -> (display name, RFC 9293 section, how the preamble gets there)
STATES = {
    "closed": ("CLOSED", "3.10.7.1", "no socket at all: the segment belongs to no connection"),
    "listen": ("LISTEN", "3.10.7.2", "a listening socket"),
    "syn_sent": ("SYN-SENT", "3.10.7.3", "a non-blocking connect() has sent its SYN"),
    "syn_received": ("SYN-RECEIVED", "3.10.7.4", "a listener answered a SYN with SYN+ACK"),
    "established": ("ESTABLISHED", "3.10.7.4", "passive handshake, accepted as fd 4"),
    "fin_wait_1": ("FIN-WAIT-1", "3.10.7.4", "established, then close() sent our FIN"),
    "fin_wait_2": ("FIN-WAIT-2", "3.10.7.4", "FIN-WAIT-1, then the peer acknowledged our FIN"),
    "close_wait": ("CLOSE-WAIT", "3.10.7.4", "established, then the peer's FIN arrived"),
    "closing": ("CLOSING", "3.10.7.4", "FIN-WAIT-1, then the peer's FIN crossed ours"),
    "last_ack": ("LAST-ACK", "3.10.7.4", "CLOSE-WAIT, then close() sent our FIN"),
    "time_wait": ("TIME-WAIT", "3.10.7.4", "FIN-WAIT-2, then the peer's FIN arrived"),
}

# (state, kind) -> (what the RFC says, in our words; preamble; body)
CASES = {}

def case(state, kind, says, pre, body):
    CASES[(state, kind)] = (says, pre, body)

# ---- CLOSED (3.10.7.1): anything but a RST gets a RST; a RST is dropped ----------------
case("closed", "syn", "A SYN for no connection gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.", "", """\
    0 < S 0:0(0) win 8192
   +0 > R. 0:0(0) ack 1
   +0 counter TCP_RX_NO_SOCKET == 1
""")
case("closed", "ack", "A segment with ACK for no connection gets <SEQ=SEG.ACK><CTL=RST>.", "", """\
    0 < . 100:100(0) ack 200 win 8192
   +0 > R 200:200(0)
""")
case("closed", "data", "Data for no connection is discarded; with ACK the answer is\n// <SEQ=SEG.ACK><CTL=RST>, without ACK <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.", "", """\
    0 < P. 1:11(10) ack 1 win 8192
   +0 > R 1:1(0)
 +.01 < P 1:11(10) win 8192
   +0 > R. 0:0(0) ack 11
""")
case("closed", "fin", "A FIN for no connection is answered like any segment: with ACK,\n// <SEQ=SEG.ACK><CTL=RST>; without, RST,ACK acknowledging the FIN (SEG.LEN counts it).", "", """\
    0 < F. 1:1(0) ack 1 win 8192
   +0 > R 1:1(0)
 +.01 < F 5:5(0) win 8192
   +0 > R. 0:0(0) ack 6
""")
case("closed", "rst", "A RST for no connection is discarded: never a RST for a RST.", "", """\
    0 < R 1:1(0) win 0
 +.01 < R. 1:1(0) ack 1 win 0
   +0 counter TCP_RX_RST_NO_SOCKET == 2
   +0 counter TCP_TX_RST == 0
""")

# ---- LISTEN (3.10.7.2) -----------------------------------------------------------------
case("listen", "syn", "First RST, then ACK are checked; a SYN opens a connection in\n// SYN-RECEIVED answered with <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>; the listener stays.", LISTEN, """\
   +0 < S 0:0(0) win 8192 <mss 1000>
   +0 > S. 0:0(0) ack 1 <mss 1460>
   +0 state SYN-RECEIVED
   +0 state 3 LISTEN
   +0 counter TCP_PASSIVE_OPENS == 1
""")
case("listen", "ack", "Any acknowledgment is bad in LISTEN: <SEQ=SEG.ACK><CTL=RST>.", LISTEN, """\
 +.01 < . 1:1(0) ack 1 win 8192
   +0 > R 1:1(0)
   +0 state 3 LISTEN
   +0 counter TCP_RX_LISTEN_ACK == 1
   +0 accept(3, ..., ...) = -1 EAGAIN (Resource temporarily unavailable)
""")
case("listen", "data", "Text without SYN: with ACK it is a bad ACK (RST seq=SEG.ACK); without\n// ACK, SYN or RST the segment is dropped (fourth: other text or control).", LISTEN, """\
 +.01 < P 1:11(10) win 8192
   +0 state 3 LISTEN
 +.01 < P. 1:11(10) ack 1 win 8192
   +0 > R 1:1(0)
   +0 state 3 LISTEN
""")
case("listen", "fin", "A FIN without SYN: with ACK, RST seq=SEG.ACK; without ACK, dropped.", LISTEN, """\
 +.01 < F 1:1(0) win 8192
   +0 counter TCP_RX_LISTEN_NOSYN == 1
 +.01 < F. 1:1(0) ack 1 win 8192
   +0 > R 1:1(0)
   +0 state 3 LISTEN
""")
case("listen", "rst", "An incoming RST is ignored (first: check for a RST); the listener\n// keeps listening and answers the next SYN.", LISTEN, """\
 +.01 < R 1:1(0) win 0
 +.01 < R. 1:1(0) ack 1 win 0
   +0 counter TCP_RX_LISTEN_RST == 2
   +0 state 3 LISTEN
 +.01 < S 0:0(0) win 8192 <mss 1000>
   +0 > S. 0:0(0) ack 1 <mss 1460>
""")

# ---- SYN-SENT (3.10.7.3) ---------------------------------------------------------------
case("syn_sent", "syn", "A SYN without ACK (crossed SYNs): RCV.NXT=SEG.SEQ+1, send\n// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, enter SYN-RECEIVED; an ACK then completes.", SYN_SENT, """\
 +.01 < S 0:0(0) win 8192 <mss 1000>
   +0 > S. 0:0(0) ack 1 <...>
   +0 state SYN-RECEIVED
 +.01 < . 1:1(0) ack 1 win 8192
   +0 state ESTABLISHED
""")
case("syn_sent", "ack", "First, check the ACK: one acknowledging our SYN but without SYN or RST\n// is dropped (fifth); one outside ISS < SEG.ACK =< SND.NXT gets <SEQ=SEG.ACK><CTL=RST>.", SYN_SENT, """\
 +.01 < . 0:0(0) ack 1 win 8192
   +0 state SYN-SENT
 +.01 < . 0:0(0) ack 100 win 8192
   +0 > R 100:100(0)
 +.01 < . 0:0(0) ack 0 win 8192
   +0 > R 0:0(0)
   +0 state SYN-SENT
   +0 counter TCP_RX_BAD_ACK == 2
""")
case("syn_sent", "data", "Text on a segment with neither SYN nor RST is dropped (fifth), even\n// with an acceptable ACK: nothing is sent and nothing is delivered.", SYN_SENT, """\
 +.01 < P. 0:10(10) ack 1 win 8192
   +0 state SYN-SENT
   +0 read(3, ..., 100) = -1 EAGAIN (Resource temporarily unavailable)
""")
case("syn_sent", "fin", "A FIN cannot be processed in SYN-SENT (eighth: RCV.NXT is unknown): the\n// segment has neither SYN nor RST and is dropped.", SYN_SENT, """\
 +.01 < F. 0:0(0) ack 1 win 8192
   +0 state SYN-SENT
""")
case("syn_sent", "rst", "A RST is accepted only if its ACK acknowledges our SYN (RFC 5961 3.2):\n// without ACK, or with a bad ACK, it is dropped (no RST for a RST); with the right ACK\n// the connection is refused and CLOSED.", SYN_SENT, """\
 +.01 < R 0:0(0) win 0
   +0 state SYN-SENT
 +.01 < R. 0:0(0) ack 100 win 0
   +0 state SYN-SENT
 +.01 < R. 0:0(0) ack 1 win 0
   +0 state CLOSED
   +0 counter TCP_CONN_REFUSED == 1
   +0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0
""")

# ---- SYN-RECEIVED (3.10.7.4) -----------------------------------------------------------
case("syn_received", "syn", "A retransmitted SYN (the peer did not get our SYN+ACK) is old: it is\n// answered, as Linux does, by sending the SYN+ACK again; the handshake then completes.", SYN_RCVD, """\
 +.01 < S 0:0(0) win 8192 <mss 1000>
   +0 > S. 0:0(0) ack 1 <mss 1460>
   +0 state SYN-RECEIVED
 +.01 < . 1:1(0) ack 1 win 8192
   +0 state ESTABLISHED
   +0 accept(3, ..., ...) = 4
""")
case("syn_received", "ack", "Fifth: an ACK with SND.UNA < SEG.ACK =< SND.NXT enters ESTABLISHED;\n// an unacceptable one gets <SEQ=SEG.ACK><CTL=RST> and changes nothing.", SYN_RCVD, """\
 +.01 < . 1:1(0) ack 5 win 8192
   +0 > R 5:5(0)
   +0 state SYN-RECEIVED
   +0 accept(3, ..., ...) = -1 EAGAIN (Resource temporarily unavailable)
 +.01 < . 1:1(0) ack 1 win 8192
   +0 state ESTABLISHED
   +0 accept(3, ..., ...) = 4
""")
case("syn_received", "data", "The ACK makes the connection ESTABLISHED (fifth), then the text is\n// processed (seventh): acknowledged and delivered.", SYN_RCVD, """\
 +.01 < P. 1:11(10) ack 1 win 8192
   +0 > . 1:1(0) ack 11
   +0 state ESTABLISHED
   +0 accept(3, ..., ...) = 4
   +0 read(4, ..., 100) = 10
""")
case("syn_received", "fin", "The ACK makes the connection ESTABLISHED (fifth), then the FIN moves it\n// to CLOSE-WAIT (eighth) and is acknowledged.", SYN_RCVD, """\
 +.01 < F. 1:1(0) ack 1 win 8192
   +0 > . 1:1(0) ack 2
   +0 state CLOSE-WAIT
   +0 accept(3, ..., ...) = 4
   +0 read(4, ..., 100) = 0
""")
case("syn_received", "rst", "Second: a RST outside the window is dropped silently; one at RCV.NXT\n// returns a passively opened connection to LISTEN: the half-open connection is freed,\n// nothing is sent, the listener stays and later answers the stray ACK with a RST.", SYN_RCVD, """\
 +.01 < R 1000000:1000000(0) win 0
   +0 state SYN-RECEIVED
 +.01 < R 1:1(0) win 0
   +0 state CLOSED
   +0 state 3 LISTEN
   +0 counter TCP_SYNRCVD_RST == 1
   +0 accept(3, ..., ...) = -1 EAGAIN (Resource temporarily unavailable)
 +.01 < . 1:1(0) ack 1 win 8192
   +0 > R 1:1(0)
""")

# ---- synchronized states: shared wording -----------------------------------------------
SYN_SAYS = "Fourth: a SYN on a synchronized connection, whatever its sequence number,\n// gets a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and is dropped (RFC 5961 4.2)."
RST_SAYS = "Second: a RST at exactly RCV.NXT closes the connection; one in the window\n// but not exact gets a challenge ACK (RFC 5961 3.2); one outside it is dropped."

# ---- ESTABLISHED -----------------------------------------------------------------------
case("established", "syn", SYN_SAYS, ESTAB, """\
 +.01 < S 0:0(0) win 8192 <mss 1000>
   +0 > . 1:1(0) ack 1
   +0 state ESTABLISHED
   +0 counter TCP_RX_SYN_CHALLENGE == 1
""")
case("established", "ack", "Fifth: an ACK in SND.UNA < SEG.ACK =< SND.NXT advances SND.UNA; an older\n// one is a duplicate, ignored; one beyond SND.NXT gets an ACK and is dropped.", ESTAB, """\
   +0 write(4, ..., 10) = 10
   +0 > P. 1:11(10) ack 1
 +.01 < . 1:1(0) ack 11 win 8192
   +0 ioctl(4, SIOCOUTQ, [0]) = 0
 +.01 < . 1:1(0) ack 1 win 8192
   +0 counter TCP_RX_OLD_ACK == 1
 +.01 < . 1:1(0) ack 100 win 8192
   +0 > . 11:11(0) ack 1
   +0 counter TCP_RX_ACK_UNSENT == 1
   +0 state ESTABLISHED
""")
case("established", "data", "Seventh: text at RCV.NXT is delivered and acknowledged; a segment\n// that is entirely old fails the first check and gets an ACK.", ESTAB, """\
 +.01 < P. 1:11(10) ack 1 win 8192
   +0 > . 1:1(0) ack 11
   +0 read(4, ..., 100) = 10
 +.01 < P. 1:11(10) ack 1 win 8192
   +0 > . 1:1(0) ack 11
   +0 read(4, ..., 100) = -1 EAGAIN (Resource temporarily unavailable)
""")
case("established", "fin", "Eighth: the FIN is acknowledged (RCV.NXT = FIN + 1), the connection\n// enters CLOSE-WAIT and the application reads end-of-stream.", ESTAB, """\
 +.01 < F. 1:1(0) ack 1 win 8192
   +0 > . 1:1(0) ack 2
   +0 state CLOSE-WAIT
   +0 read(4, ..., 100) = 0
""")
case("established", "rst", RST_SAYS + "\n// The application sees \"connection reset\".", ESTAB, """\
 +.01 < R 1000000:1000000(0) win 0
   +0 state ESTABLISHED
 +.01 < R 5:5(0) win 0
   +0 > . 1:1(0) ack 1
   +0 state ESTABLISHED
 +.01 < R 1:1(0) win 0
   +0 state CLOSED
   +0 read(4, ..., 100) = -1 ECONNRESET (Connection reset by peer)
""")

# ---- FIN-WAIT-1 ------------------------------------------------------------------------
case("fin_wait_1", "syn", SYN_SAYS, FW1, """\
 +.01 < S 0:0(0) win 8192 <mss 1000>
   +0 > . 2:2(0) ack 1
   +0 state FIN-WAIT-1
""")
case("fin_wait_1", "ack", "Fifth: an ACK that does not cover our FIN leaves FIN-WAIT-1; the one\n// that does moves to FIN-WAIT-2. Nothing is sent.", FW1, """\
 +.01 < . 1:1(0) ack 1 win 8192
   +0 state FIN-WAIT-1
 +.01 < . 1:1(0) ack 2 win 8192
   +0 state FIN-WAIT-2
""")
case("fin_wait_1", "data", "Seventh: after shutdown(SHUT_WR) text is still delivered and\n// acknowledged (half-close, SPEC S12). After close() new text means data is lost: the\n// connection is reset (RFC 9293 3.6.1, RFC 1122 4.2.2.13) as Linux resets it: its reply to\n// the segment (tcp_v4_send_reset), <SEQ=SEG.ACK><CTL=RST> without ACK or options.", FW1_HALF, """\
 +.01 < P. 1:11(10) ack 1 win 8192
   +0 > . 2:2(0) ack 11
   +0 state FIN-WAIT-1
   +0 read(4, ..., 100) = 10
   +0 close(4) = 0
 +.01 < P. 11:21(10) ack 1 win 8192
   +0 > R 1:1(0)
   +0 state CLOSED
   +0 counter TCP_RX_DATA_AFTER_CLOSE == 1
""")
case("fin_wait_1", "fin", "Eighth: a FIN while our FIN is not yet acknowledged is acknowledged and\n// the connection enters CLOSING (simultaneous close, R2).", FW1, """\
 +.01 < F. 1:1(0) ack 1 win 8192
   +0 > . 2:2(0) ack 2
   +0 state CLOSING
""")
case("fin_wait_1", "rst", RST_SAYS, FW1, """\
 +.01 < R 5:5(0) win 0
   +0 > . 2:2(0) ack 1
   +0 state FIN-WAIT-1
 +.01 < R 1:1(0) win 0
   +0 state CLOSED
   +0 counter TCP_CONN_RESET == 1
""")

# ---- FIN-WAIT-2 ------------------------------------------------------------------------
case("fin_wait_2", "syn", SYN_SAYS, FW2, """\
 +.01 < S 0:0(0) win 8192 <mss 1000>
   +0 > . 2:2(0) ack 1
   +0 state FIN-WAIT-2
""")
case("fin_wait_2", "ack", "Fifth: a duplicate ACK is ignored; an ACK beyond SND.NXT gets an ACK and\n// is dropped. FIN-WAIT-2 stays.", FW2, """\
 +.01 < . 1:1(0) ack 2 win 8192
   +0 state FIN-WAIT-2
 +.01 < . 1:1(0) ack 100 win 8192
   +0 > . 2:2(0) ack 1
   +0 state FIN-WAIT-2
""")
case("fin_wait_2", "data", "Seventh: after shutdown(SHUT_WR) text is still delivered and\n// acknowledged (half-close, SPEC S12). After close() new text means data is lost: the\n// connection is reset (RFC 9293 3.6.1, RFC 1122 4.2.2.13) as Linux resets it: its reply to\n// the segment (tcp_v4_send_reset), <SEQ=SEG.ACK><CTL=RST> without ACK or options.", FW2_HALF, """\
 +.01 < P. 1:11(10) ack 2 win 8192
   +0 > . 2:2(0) ack 11
   +0 state FIN-WAIT-2
   +0 read(4, ..., 100) = 10
   +0 close(4) = 0
 +.01 < P. 11:21(10) ack 2 win 8192
   +0 > R 2:2(0)
   +0 state CLOSED
   +0 counter TCP_RX_DATA_AFTER_CLOSE == 1
""")
case("fin_wait_2", "fin", "Eighth: the FIN is acknowledged and the connection enters TIME-WAIT with\n// its 2*MSL timer (60 s).", FW2, """\
 +.01 < F. 1:1(0) ack 2 win 8192
   +0 > . 2:2(0) ack 2
   +0 state TIME-WAIT
   +0 deadline +60
  +60.1 state CLOSED
""")
case("fin_wait_2", "rst", RST_SAYS, FW2, """\
 +.01 < R 5:5(0) win 0
   +0 > . 2:2(0) ack 1
   +0 state FIN-WAIT-2
 +.01 < R 1:1(0) win 0
   +0 state CLOSED
   +0 counter TCP_CONN_RESET == 1
""")

# ---- CLOSE-WAIT ------------------------------------------------------------------------
case("close_wait", "syn", SYN_SAYS, CW, """\
 +.01 < S 0:0(0) win 8192 <mss 1000>
   +0 > . 1:1(0) ack 2
   +0 state CLOSE-WAIT
""")
case("close_wait", "ack", "Fifth: as in ESTABLISHED, an ACK of our data advances SND.UNA.", CW, """\
   +0 write(4, ..., 10) = 10
   +0 > P. 1:11(10) ack 2
 +.01 < . 2:2(0) ack 11 win 8192
   +0 ioctl(4, SIOCOUTQ, [0]) = 0
   +0 state CLOSE-WAIT
""")
case("close_wait", "data", "Seventh: text after the peer's FIN should not occur and is ignored: not\n// acknowledged, not delivered (the application still reads end-of-stream).", CW, """\
 +.01 < P. 2:12(10) ack 1 win 8192
   +0 state CLOSE-WAIT
   +0 counter TCP_RX_DATA_AFTER_FIN == 1
   +0 read(4, ..., 100) = 0
""")
case("close_wait", "fin", "A retransmitted FIN lies before RCV.NXT: it fails the first check and\n// is acknowledged again; CLOSE-WAIT stays.", CW, """\
 +.01 < F. 1:1(0) ack 1 win 8192
   +0 > . 1:1(0) ack 2
   +0 state CLOSE-WAIT
""")
case("close_wait", "rst", RST_SAYS, CW, """\
 +.01 < R 5:5(0) win 0
   +0 > . 1:1(0) ack 2
   +0 state CLOSE-WAIT
 +.01 < R 2:2(0) win 0
   +0 state CLOSED
   +0 counter TCP_CONN_RESET == 1
""")

# ---- CLOSING ---------------------------------------------------------------------------
case("closing", "syn", SYN_SAYS, CLOSING, """\
 +.01 < S 0:0(0) win 8192 <mss 1000>
   +0 > . 2:2(0) ack 2
   +0 state CLOSING
""")
case("closing", "ack", "Fifth: the ACK of our FIN moves CLOSING to TIME-WAIT.", CLOSING, """\
 +.01 < . 2:2(0) ack 2 win 8192
   +0 state TIME-WAIT
""")
case("closing", "data", "Seventh: text after the peer's FIN is ignored: nothing is sent.", CLOSING, """\
 +.01 < P. 2:12(10) ack 1 win 8192
   +0 state CLOSING
""")
case("closing", "fin", "A retransmitted FIN fails the first check and is acknowledged again;\n// CLOSING stays.", CLOSING, """\
 +.01 < F. 1:1(0) ack 1 win 8192
   +0 > . 2:2(0) ack 2
   +0 state CLOSING
""")
case("closing", "rst", "Second: a RST at exactly RCV.NXT enters CLOSED (CLOSING, LAST-ACK,\n// TIME-WAIT); one in the window but not exact gets a challenge ACK (RFC 5961 3.2).", CLOSING, """\
 +.01 < R 5:5(0) win 0
   +0 > . 2:2(0) ack 2
   +0 state CLOSING
 +.01 < R 2:2(0) win 0
   +0 state CLOSED
""")

# ---- LAST-ACK --------------------------------------------------------------------------
case("last_ack", "syn", SYN_SAYS, LAST_ACK, """\
 +.01 < S 0:0(0) win 8192 <mss 1000>
   +0 > . 2:2(0) ack 2
   +0 state LAST-ACK
""")
case("last_ack", "ack", "Fifth: the ACK of our FIN ends the connection: CLOSED, the TCB deleted.", LAST_ACK, """\
 +.01 < . 2:2(0) ack 2 win 8192
   +0 state CLOSED
   +0 deadline none
""")
case("last_ack", "data", "Seventh: text after the peer's FIN is ignored: nothing is sent.", LAST_ACK, """\
 +.01 < P. 2:12(10) ack 1 win 8192
   +0 state LAST-ACK
""")
case("last_ack", "fin", "A retransmitted FIN fails the first check and is acknowledged again;\n// LAST-ACK stays.", LAST_ACK, """\
 +.01 < F. 1:1(0) ack 1 win 8192
   +0 > . 2:2(0) ack 2
   +0 state LAST-ACK
""")
case("last_ack", "rst", "Second: a RST at exactly RCV.NXT enters CLOSED (CLOSING, LAST-ACK,\n// TIME-WAIT); one in the window but not exact gets a challenge ACK (RFC 5961 3.2).", LAST_ACK, """\
 +.01 < R 5:5(0) win 0
   +0 > . 2:2(0) ack 2
   +0 state LAST-ACK
 +.01 < R 2:2(0) win 0
   +0 state CLOSED
""")

# ---- TIME-WAIT -------------------------------------------------------------------------
case("time_wait", "syn", "A SYN that is not newer than the old connection (seq below RCV.NXT)\n// fails the first check and gets an ACK; a SYN with a higher ISN may reopen the 4-tuple\n// (RFC 1122 4.2.2.13, RFC 6191): a new incarnation starting beyond the old numbers.", TW, """\
 +.01 < S 0:0(0) win 8192 <mss 1000>
   +0 > . 2:2(0) ack 2
   +0 state TIME-WAIT
 +.01 < S 1000:1000(0) win 8192 <mss 1000>
   +0 > S. 0:0(0) ack 1001 <mss 1460>
   +0 isn increased
 +.01 < . 1:1(0) ack 1 win 8192
   +0 state ESTABLISHED
   +0 accept(3, ..., ...) = 4
""")
case("time_wait", "ack", "Fifth: only a retransmitted FIN is expected; a bare ACK at RCV.NXT\n// changes nothing and gets no answer.", TW, """\
 +.01 < . 2:2(0) ack 2 win 8192
   +0 state TIME-WAIT
""")
case("time_wait", "data", "Fifth and seventh: text after the peer's FIN is ignored, and acknowledged\n// with 2*MSL restarted (fifth, TIME-WAIT: \"Acknowledge it, and restart the 2 MSL timeout\";\n// Linux and FreeBSD ACK it too).", TW, """\
 +.01 < P. 2:12(10) ack 2 win 8192
   +0 > . 2:2(0) ack 2
   +0 state TIME-WAIT
""")
case("time_wait", "fin", "Fifth and eighth: a retransmitted FIN is acknowledged again and the\n// 2*MSL timer restarts (SPEC S16).", TW, """\
   +1 < F. 1:1(0) ack 2 win 8192
   +0 > . 2:2(0) ack 2
   +0 deadline +60
  +59.9 state TIME-WAIT
   +0.2 state CLOSED
""")
case("time_wait", "rst", "Second: a RST outside the window is dropped; a RST even at exactly\n// RCV.NXT does not end TIME-WAIT early (RFC 1337, required by SPEC S17 and issue 6;\n// Linux with net.ipv4.tcp_rfc1337=1).", TW, """\
 +.01 < R 1000000:1000000(0) win 0
   +0 state TIME-WAIT
 +.01 < R 2:2(0) win 0
   +0 state TIME-WAIT
   +0 counter TCP_RX_TW_RST_IGNORED == 2
""")

KINDS = {"syn": "SYN", "ack": "ACK", "data": "data", "fin": "FIN", "rst": "RST"}

def main():
    for (state, kind), (says, pre, body) in sorted(CASES.items()):
        name, section, how = STATES[state]
        text = (f"// State matrix: {KINDS[kind]} arriving in {name} - RFC 9293 {section}"
                f" (SEGMENT ARRIVES).\n"
                f"// Getting there: {how}.\n"
                f"// {says}\n"
                f"// (generated by gen_states.py)\n") + pre + body
        with open(os.path.join(HERE, f"{state}_{kind}.pkt"), "w") as f:
            f.write(text)
    print(f"{len(CASES)} scripts written")

if __name__ == "__main__":
    main()
