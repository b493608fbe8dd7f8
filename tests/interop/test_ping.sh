#!/usr/bin/env bash
# `ping` of the stack's address works: the core answers ICMP echo (RFC 792) with the
# request's identifier, sequence number and data, and a correct checksum.
. "$(dirname "$0")/lib.sh" "$@"
start_capture
tw_serve listen listen 7000
out=$(peer ping --count 3 2>&1) || fail "$out"
note "$out"
if command -v ping >/dev/null 2>&1; then
    nsx timeout 10 ping -c 2 -W 2 $STACK >"$WORK/ping.log" 2>&1 || fail "ping: $(cat "$WORK/ping.log")"
    note "ping(8): $(grep -m1 'packets transmitted' "$WORK/ping.log")"
fi
kill -TERM "$TW_PID"
wait_exit "$TW_PID" 10
stop_capture
replies=$(count "icmptype == \"0\" && src == \"$STACK\" && icmpck == \"1\"")
[ "$replies" -ge 3 ] || fail "$replies good echo replies in the capture, expected 3 or more"
bad=$(rows 'malformed || ipck == "0" || icmpck == "0"')
[ -z "$bad" ] || fail "tshark: $bad"
note "ok: $replies echo replies with good checksums"
