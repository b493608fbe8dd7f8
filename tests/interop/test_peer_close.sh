#!/usr/bin/env bash
# The kernel ends the connection while tcpwave still has work (S10-S14, R4, D4), each
# on a path with loss, duplication and reordering (--impair):
#  A. the kernel server reads the request, sends 1 MiB and closes first while tcpwave's
#     input stays open: tcpwave (connect) in CLOSE-WAIT takes every byte, sends the
#     rest of its input when it comes, closes, exits 0; the kernel ends in TIME-WAIT.
#  B. the kernel server reads 100 kB through a 4 KiB buffer, stops reading (its window
#     closes) and aborts with SO_LINGER 0: tcpwave (connect), with
#     3 MB still to send, reports the reset and exits 1 within a few seconds.
NEEDS="ss"
. "$(dirname "$0")/lib.sh" "$@"
IMPAIR="--impair loss=5%,dup=2%,delay=5ms,jitter=5ms"

head -c 1048576 /dev/urandom >"$WORK/resp.bin"
printf 'GET /kernel-closes-first HTTP/1.0\n' >"$WORK/req.bin"
head -c 20000 /dev/urandom >"$WORK/tail.bin"
ip netns exec "$NS" python3 "$(dirname "$0")/peer.py" server-reply-close --host 0.0.0.0 \
    --port 7001 --send "$WORK/resp.bin" --out "$WORK/req.got" >"$WORK/peer-a.log" 2>&1 &
PEER=$!
PIDS="$PIDS $PEER"
wait_listen 7001
mkfifo "$WORK/fifo"
exec 3<>"$WORK/fifo"
cat "$WORK/req.bin" >&3
TW_STDIN="$WORK/fifo" tw_start connect -v $IMPAIR connect $GW 7001 3>&-
# The kernel is in FIN-WAIT-2 once tcpwave acknowledged its FIN, with 1 MiB delivered.
wait_for 30 sh -c "ip netns exec $NS ss -Htn state fin-wait-2 'sport = :7001' | grep -q ." ||
    fail "the kernel never reached FIN-WAIT-2: $(nsx ss -Htan 'sport = :7001')"
wait_for 30 sh -c "[ \$(stat -c %s $WORK/connect.out) = 1048576 ]" ||
    fail "tcpwave wrote $(stat -c %s "$WORK/connect.out") of 1048576 bytes"
exited "$TW_PID" && fail "tcpwave connect exited with its input still open: $(cat "$WORK/connect.err")"
cat "$WORK/tail.bin" >&3
exec 3>&-
wait_exit "$TW_PID" 30
[ "$RC" = 0 ] || fail "tcpwave connect exit status $RC: $(cat "$WORK/connect.err")"
wait_exit "$PEER" 30
[ "$RC" = 0 ] || fail "kernel server: $(cat "$WORK/peer-a.log")"
same_file "$WORK/resp.bin" "$WORK/connect.out" "1 MiB sent by the kernel before its FIN"
cat "$WORK/req.bin" "$WORK/tail.bin" >"$WORK/req.all"
same_file "$WORK/req.all" "$WORK/req.got" "tcpwave's input, the rest sent in CLOSE-WAIT"
wait_for 10 sh -c "ip netns exec $NS ss -Htn state time-wait 'sport = :7001' | grep -q ." ||
    fail "the kernel, which closed first, is not in TIME-WAIT: $(nsx ss -Htan 'sport = :7001')"
note "A ok: kernel FIN first, 1 MiB in, 20 kB sent in CLOSE-WAIT, kernel in TIME-WAIT"

head -c 3000000 /dev/urandom >"$WORK/big.bin"
ip netns exec "$NS" python3 "$(dirname "$0")/peer.py" server-stall-abort --host 0.0.0.0 \
    --port 7002 --size 100000 --hold 2 >"$WORK/peer-b.log" 2>&1 &
PEER=$!
PIDS="$PIDS $PEER"
wait_listen 7002
SECONDS=0
TW_STDIN="$WORK/big.bin" tw_start connect2 -v $IMPAIR connect $GW 7002
wait_exit "$PEER" 30
[ "$RC" = 0 ] || fail "kernel server: $(cat "$WORK/peer-b.log")"
wait_exit "$TW_PID" 20
[ "$RC" = 1 ] || fail "tcpwave connect after the kernel's RST: exit status $RC, expected 1: $(cat "$WORK/connect2.err")"
grep -q "reset" "$WORK/connect2.err" || fail "tcpwave did not report the reset: $(cat "$WORK/connect2.err")"
note "B ok: $(cat "$WORK/peer-b.log"); tcpwave: $(grep reset "$WORK/connect2.err") ($SECONDS s)"
