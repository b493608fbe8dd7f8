#!/usr/bin/env bash
# The options negotiated with Linux, read from the capture (S4, RFC 9293 3.7.1,
# RFC 7323, RFC 2018): MSS, window scale, SACK-permitted and timestamps in tcpwave's
# SYN+ACK (to the kernel's SYN) and in its own SYN; timestamps then on every segment it
# sends; and with --mtu 1280 the MSS it announces and the segments it sends fit the MTU.
NEEDS="curl socat ss"
. "$(dirname "$0")/lib.sh" "$@"
start_capture

# Passive: the kernel's SYN to tcpwave, tcpwave's SYN+ACK; active: tcpwave's SYN to the
# kernel.
both_handshakes hi

# Small MTU: MSS 1240 and no segment beyond it.
head -c 300000 /dev/urandom >"$WORK/blob.bin"
mkdir -p "$WORK/www"
cp "$WORK/blob.bin" "$WORK/www/"
tw_serve http1280 --mtu 1280 http 8081 "$WORK/www"
nsx timeout 30 curl -sS --fail "http://$STACK:8081/blob.bin" -o "$WORK/blob.got" || fail "curl (mtu 1280) failed"
same_file "$WORK/blob.bin" "$WORK/blob.got" "300 kB at MTU 1280"
kill -TERM "$TW_PID"
wait_exit "$TW_PID" 10
judge

check_syn() { # name awk-condition mss
    local line mss ws sack ts
    line=$(rows "$2" | head -n 1)
    [ -n "$line" ] || fail "$1: not in the capture"
    mss=$(echo "$line" | cut -f18)
    ws=$(echo "$line" | cut -f19)
    sack=$(echo "$line" | cut -f20)
    ts=$(echo "$line" | cut -f21)
    [ "$mss" = "$3" ] || fail "$1: MSS '$mss', expected $3"
    [ -n "$ws" ] || fail "$1: no window scale option"
    [ -n "$sack" ] || fail "$1: no SACK-permitted option"
    [ -n "$ts" ] || fail "$1: no timestamp option"
    note "$1: mss $mss, wscale $ws, sackOK, TS"
}
S="src == \"$STACK\""
K="src == \"$GW\""
check_syn "kernel SYN" "$K && dport == 8080 && syn && !ack" 1460
check_syn "tcpwave SYN+ACK" "$S && sport == 8080 && syn && ack" 1460
check_syn "tcpwave SYN" "$S && dport == 7001 && syn && !ack" 1460
check_syn "kernel SYN+ACK" "$K && sport == 7001 && syn && ack" 1460
check_syn "tcpwave SYN+ACK (mtu 1280)" "$S && sport == 8081 && syn" 1240

# Timestamps were agreed, so every segment tcpwave sends carries one (RFC 7323 3.2),
# except RSTs, which may omit it; and after the handshake it echoes the peer's
# timestamps, so TSecr is never 0 and moves on (4.3: TS.Recent follows the peer).
no_ts=$(count "$S && tcp && !rst && tsval == \"\"")
[ "$no_ts" = 0 ] || fail "$no_ts segments from tcpwave without a timestamp"
zero_ecr=$(count "$S && tcp && !rst && ack && tsecr == \"0\"")
[ "$zero_ecr" = 0 ] || fail "$zero_ecr segments from tcpwave with ACK and TSecr 0"
ecrs=$(rows "$S && sport == 8081 && !syn" | cut -f22 | sort -u | wc -l)
[ "$ecrs" -gt 1 ] || fail "tcpwave's TSecr never changed during a 300 kB transfer"
# Segments fit the MTU: at most 1240 bytes of payload, and full-sized ones were used.
max=$(rows "$S && sport == 8081" | cut -f10 | sort -n | tail -n 1)
[ "$max" -le 1240 ] || fail "tcpwave sent $max payload bytes at MTU 1280"
[ "$max" -ge 1200 ] || fail "tcpwave never sent a full segment at MTU 1280 (largest $max)"
bigip=$(count "$S && sport == 8081 && iplen > 1280")
[ "$bigip" = 0 ] || fail "$bigip packets above the 1280-byte MTU"
note "ok: options agreed both ways, timestamps on every segment, largest segment $max at MTU 1280"
