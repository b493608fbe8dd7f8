#!/usr/bin/env bash
# nc-style transfers in both directions at once, bytes checked by sha256 (D1):
#  A. a kernel client (socat) -> `tcpwave listen`
#  B. `tcpwave connect` -> a kernel server (socat)
# Each side half-closes when its input ends (S10-S14) and both exit cleanly.
NEEDS="socat ss"
. "$(dirname "$0")/lib.sh" "$@"

head -c 3000000 /dev/urandom >"$WORK/a.bin"
head -c 2000000 /dev/urandom >"$WORK/b.bin"
start_capture

# A: kernel client -> tcpwave listen
TW_STDIN="$WORK/a.bin" tw_serve listen listen 7000
nsx timeout 60 socat -t 30 TCP:$STACK:7000 \
    "OPEN:$WORK/b.bin,rdonly!!OPEN:$WORK/b.got,creat,trunc,wronly" 2>"$WORK/socat-a.err" ||
    fail "socat client failed: $(cat "$WORK/socat-a.err")"
wait_exit "$TW_PID" 20
[ "$RC" = 0 ] || fail "tcpwave listen exit status $RC: $(cat "$WORK/listen.err")"
same_file "$WORK/b.bin" "$WORK/listen.out" "kernel -> tcpwave (listen)"
same_file "$WORK/a.bin" "$WORK/b.got" "tcpwave (listen) -> kernel"
note "A ok: kernel client <-> tcpwave listen, 2000000 + 3000000 bytes"

# B: tcpwave connect -> kernel server. The TUN (and 10.7.0.1) exists only while tcpwave
# runs, so the server listens on every address.
ip netns exec "$NS" timeout 60 socat -t 30 TCP-LISTEN:7001,reuseaddr \
    "OPEN:$WORK/a.bin,rdonly!!OPEN:$WORK/a.got,creat,trunc,wronly" 2>"$WORK/socat-b.err" &
SOCAT=$!
PIDS="$PIDS $SOCAT"
wait_listen 7001
nsx timeout 60 "$TW" -v connect $GW 7001 <"$WORK/b.bin" >"$WORK/connect.out" 2>"$WORK/connect.err"
rc=$?
[ "$rc" = 0 ] || fail "tcpwave connect exit status $rc: $(cat "$WORK/connect.err")"
wait_exit "$SOCAT" 20
[ "$RC" = 0 ] || fail "socat server exit status $RC: $(cat "$WORK/socat-b.err")"
same_file "$WORK/b.bin" "$WORK/a.got" "tcpwave (connect) -> kernel"
same_file "$WORK/a.bin" "$WORK/connect.out" "kernel -> tcpwave (connect)"
note "B ok: tcpwave connect <-> kernel server, 2000000 + 3000000 bytes"

judge
# Both connections ended with a FIN from each side, and nobody reset anything.
for port in 7000 7001; do
    for side in $STACK $GW; do
        [ "$(count "fin && src == \"$side\" && (sport == $port || dport == $port)")" -ge 1 ] ||
            fail "no FIN from $side on port $port"
    done
done
no_rst_but_late
