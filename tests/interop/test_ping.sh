#!/usr/bin/env bash
# `ping` of the stack's address works: the core answers ICMP echo (RFC 792) with the
# request's identifier, sequence number and data, and a correct checksum. A 4,000-byte
# request, which the kernel sends in fragments (DF off, MTU 1500), is reassembled (RFC
# 1122 3.3.2) and answered whole, in fragments the kernel reassembles (RFC 1122 3.2.2.6).
# A UDP datagram (the stack has no UDP) gets Protocol Unreachable (RFC 1122 3.2.2.1),
# which the kernel reports to the sending socket.
. "$(dirname "$0")/lib.sh" "$@"
start_capture
tw_serve listen listen 7000
out=$(peer ping --count 3 2>&1) || fail "$out"
note "$out"
out=$(peer ping --count 2 --ping-size 4000 2>&1) || fail "$out"
note "$out"
out=$(peer udp --port 9999 2>&1) || fail "$out"
note "$out"
if command -v ping >/dev/null 2>&1; then
    nsx timeout 10 ping -c 2 -W 2 $STACK >"$WORK/ping.log" 2>&1 || fail "ping: $(cat "$WORK/ping.log")"
    note "ping(8): $(grep -m1 'packets transmitted' "$WORK/ping.log")"
fi
kill -TERM "$TW_PID"
wait_exit "$TW_PID" 10
cnt() { grep -o "$1=[0-9]*" "$WORK/listen.err" | tail -1 | cut -d= -f2; }
[ "$(cnt IP_FRAG_REASSEMBLED)" = 2 ] ||
    fail "tcpwave counted $(cnt IP_FRAG_REASSEMBLED) reassembled requests, expected 2"
[ "$(cnt IP_TX_FRAGMENTS)" = 6 ] ||
    fail "tcpwave sent $(cnt IP_TX_FRAGMENTS) fragments, expected 2 replies in 3 each"
note "tcpwave: 2 fragmented requests reassembled, 6 reply fragments sent"
stop_capture
replies=$(count "icmptype == \"0\" && src == \"$STACK\" && icmpck == \"1\"")
[ "$replies" -ge 3 ] || fail "$replies good echo replies in the capture, expected 3 or more"
bad=$(rows 'malformed || ipck == "0" || icmpck == "0"')
[ -z "$bad" ] || fail "tshark: $bad"
note "ok: $replies echo replies with good checksums"
