#!/usr/bin/env bash
# Half-close both ways (S10-S14, S12 in particular):
#  A. the kernel client shuts down its write side first; tcpwave (listen), in CLOSE-WAIT,
#     goes on sending 1 MiB, then closes; the kernel reads it all, then EOF.
#  B. tcpwave (connect) sends its request and half-closes at stdin EOF; the kernel server
#     reads to EOF, then sends 1 MiB; tcpwave, in FIN-WAIT-2, reads it all.
# The capture must show data from the passive side after the first FIN.
NEEDS="ss"
. "$(dirname "$0")/lib.sh" "$@"

printf 'GET /after-fin HTTP/1.0\r\n\r\n' >"$WORK/req.bin"
head -c 1048576 /dev/urandom >"$WORK/resp.bin"
start_capture

# A. tcpwave's stdin is a FIFO that we hold open, so tcpwave has nothing to send until
# the kernel's FIN has been acknowledged.
mkfifo "$WORK/fifo"
exec 3<>"$WORK/fifo"
TW_STDIN="$WORK/fifo" tw_serve listen listen 7000 3>&-
peer client-halfclose --port 7000 --send "$WORK/req.bin" --mark "$WORK/shut" \
    --out "$WORK/resp.got" >"$WORK/peer-a.log" 2>&1 3>&- &
PEER=$!
PIDS="$PIDS $PEER"
wait_for 10 test -e "$WORK/shut" || fail "kernel client did not connect"
# The kernel is in FIN-WAIT-2 once tcpwave acknowledged its FIN (S11).
wait_for 10 sh -c "ip netns exec $NS ss -Htn state fin-wait-2 'dport = :7000' | grep -q ." ||
    fail "kernel socket never reached FIN-WAIT-2"
cat "$WORK/resp.bin" >&3
exec 3>&-
wait_exit "$PEER" 30
[ "$RC" = 0 ] || fail "kernel client: $(cat "$WORK/peer-a.log")"
wait_exit "$TW_PID" 20
[ "$RC" = 0 ] || fail "tcpwave listen exit status $RC: $(cat "$WORK/listen.err")"
same_file "$WORK/req.bin" "$WORK/listen.out" "request (before the kernel's FIN)"
same_file "$WORK/resp.bin" "$WORK/resp.got" "1 MiB sent by tcpwave in CLOSE-WAIT"
note "A ok: kernel FIN first, tcpwave sent 1 MiB in CLOSE-WAIT"

# B. tcpwave closes its side first, the kernel keeps sending.
ip netns exec "$NS" python3 "$(dirname "$0")/peer.py" server-after-eof --host 0.0.0.0 \
    --port 7001 --send "$WORK/resp.bin" --out "$WORK/req.got" >"$WORK/peer-b.log" 2>&1 &
PEER=$!
PIDS="$PIDS $PEER"
wait_listen 7001
nsx timeout 60 "$TW" -v connect $GW 7001 <"$WORK/req.bin" >"$WORK/connect.out" 2>"$WORK/connect.err"
rc=$?
[ "$rc" = 0 ] || fail "tcpwave connect exit status $rc: $(cat "$WORK/connect.err")"
wait_exit "$PEER" 20
[ "$RC" = 0 ] || fail "kernel server: $(cat "$WORK/peer-b.log")"
same_file "$WORK/req.bin" "$WORK/req.got" "request (then tcpwave's FIN)"
same_file "$WORK/resp.bin" "$WORK/connect.out" "1 MiB received by tcpwave in FIN-WAIT-2"
note "B ok: tcpwave FIN first, kernel sent 1 MiB to tcpwave in FIN-WAIT-2"

judge
# Data after the first FIN of each connection, from the other side.
for port in 7000 7001; do
    first_fin=$(rows "fin && (sport == $port || dport == $port)" | head -n 1)
    [ -n "$first_fin" ] || fail "no FIN on port $port"
    fin_frame=$(echo "$first_fin" | cut -f1)
    fin_src=$(echo "$first_fin" | cut -f2)
    after=$(count "(sport == $port || dport == $port) && frame > $fin_frame && len > 0 && src != \"$fin_src\"")
    [ "$after" -gt 0 ] || fail "port $port: no data from the passive side after the first FIN"
    note "port $port: first FIN from $fin_src, then $after data segments from the other side"
done
