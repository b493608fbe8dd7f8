#!/usr/bin/env bash
# A hostile path against the kernel (D1-D3, S10-S14 under impairment), made by tcpwave's
# own --impair between the TUN and the stack (this kernel has no netem), both ways:
# 2 % loss, 2 % duplication, 1 % of packets with one bit flipped (only the IPv4 or TCP
# checksum can tell), and 10 +- 5 ms of delay, which reorders. Then
#  A. curl downloads 4 MiB from `tcpwave http`, checked by sha256;
#  B. socat sends 2 MiB to `tcpwave listen` and takes 2 MiB back, both by sha256;
#  C. 20 parallel connections from the kernel to `tcpwave echo`, 16 KiB each way, every
#     byte compared, every connection closed cleanly.
# tcpwave's counters must show checksum drops (the corruption reached it and was caught)
# and its -v report what the path did; the seed is printed for a rerun.
NEEDS="curl socat"
. "$(dirname "$0")/lib.sh" "$@"

mkdir -p "$WORK/www"
head -c 4194304 /dev/urandom >"$WORK/www/4M.bin"
IMPAIR="--impair loss=2%,dup=2%,corrupt=1%,delay=10ms,jitter=5ms"
tw_serve http $IMPAIR http 8080 "$WORK/www"
grep -q "impair: loss 0.02" "$WORK/http.err" || fail "no impairment report: $(cat "$WORK/http.err")"
note "$(grep -o "seed [0-9]*" "$WORK/http.err")"
URL="http://$STACK:8080"
SECONDS=0
nsx timeout 300 curl -sS --fail "$URL/4M.bin" -o "$WORK/4M.got" 2>"$WORK/curl.err" ||
    fail "GET 4M.bin failed: $(cat "$WORK/curl.err")"
same_file "$WORK/www/4M.bin" "$WORK/4M.got" "4 MiB body through the impaired path"
note "A: 4 MiB downloaded intact ($SECONDS s)"
nsx timeout 60 curl -sS --fail "$URL/" -o "$WORK/page.html" || fail "GET / failed"
bad=$(grep -o -E "(TCP|IP)_RX_BAD_CSUM</td><td>[0-9]+" "$WORK/page.html" | grep -o -E "[0-9]+$" |
    awk '{ s += $1 } END { print s + 0 }')
[ "${bad:-0}" -gt 0 ] || fail "no checksum drops counted: did the corruption reach tcpwave? $(grep -o -E '[A-Z_]+_CSUM[^<]*</td><td>[0-9]+' "$WORK/page.html")"
note "A: tcpwave dropped $bad corrupted packets by checksum"
# The host's clock only moves forward: a packet the impairment releases is fed to the
# stack at the time of its release, so the stack's timers of that turn must not be run
# with the turn's earlier time (the stack counts that as TIME_BACKWARDS).
back=$(grep -o -E "TIME_BACKWARDS</td><td>[0-9]+" "$WORK/page.html" | grep -o -E "[0-9]+$")
[ "${back:-0}" = 0 ] || fail "the host fed the stack a time older than the one before $back times"
kill -TERM "$TW_PID"
wait_exit "$TW_PID" 10
grep "impair to the stack" "$WORK/http.err" | grep -q " [1-9][0-9]* corrupted" ||
    fail "the path corrupted nothing: $(grep impair "$WORK/http.err")"
note "A: $(grep "impair to the stack" "$WORK/http.err" | sed 's/.*impair //')"

exchange_both_ways 2097152 300 "through the impaired path" $IMPAIR
note "B: 2 MiB each way intact ($SECONDS s)"

tw_serve echo $IMPAIR echo 7
ECHO_SIZE=16384 ECHO_WAIT=60 echo_many_clean 20 --cc cubic
note "C: $ECHO_OUT"
