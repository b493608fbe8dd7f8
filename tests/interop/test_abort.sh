#!/usr/bin/env bash
# Aborts (R4): a close with SO_LINGER 0 sends RST and the other side reports a reset.
#  A. the kernel client aborts: `tcpwave listen` exits 1 saying "reset";
#  B. tcpwave aborts (SIGTERM makes `tcpwave connect` abort its connection): the kernel
#     server's recv() fails with ECONNRESET;
#  C. tcpwave's stdout fails (EPIPE): `tcpwave connect` exits 1 and resets, the same.
. "$(dirname "$0")/lib.sh" "$@"
start_capture
mkfifo "$WORK/fifo"
exec 3<>"$WORK/fifo" # stdin that stays open: tcpwave must not half-close on its own

TW_STDIN="$WORK/fifo" tw_serve listen listen 7000 3>&-
out=$(peer client-abort --port 7000 3>&-) || fail "kernel client: $out"
wait_exit "$TW_PID" 10
[ "$RC" = 1 ] || fail "tcpwave listen after the peer's RST: exit status $RC, expected 1"
grep -q "reset" "$WORK/listen.err" || fail "tcpwave did not report the reset: $(cat "$WORK/listen.err")"
note "A ok: $(tail -n 1 "$WORK/listen.err")"

ip netns exec "$NS" python3 "$(dirname "$0")/peer.py" server-expect-reset --host 0.0.0.0 \
    --port 7001 --mark "$WORK/accepted" >"$WORK/peer-b.log" 2>&1 3>&- &
PEER=$!
PIDS="$PIDS $PEER"
wait_listen 7001
TW_STDIN="$WORK/fifo" tw_start connect -v connect $GW 7001 3>&-
wait_for 10 test -e "$WORK/accepted" || fail "kernel server never accepted"
kill -TERM "$TW_PID"
wait_exit "$TW_PID" 10
[ "$RC" = 1 ] || fail "tcpwave connect after SIGTERM: exit status $RC, expected 1"
wait_exit "$PEER" 10
[ "$RC" = 0 ] || fail "kernel server: $(cat "$WORK/peer-b.log")"
grep -q "^reset" "$WORK/peer-b.log" || fail "kernel server: $(cat "$WORK/peer-b.log")"
note "B ok: tcpwave aborted, the kernel saw ECONNRESET"

# C. tcpwave's stdout goes away (a reader that quit: EPIPE): `tcpwave connect` fails and
#    must reset the connection (R4), as a process that exits with unread data does, not
#    vanish with its TUN and leave the kernel's side open, retransmitting to no one.
head -c 200000 /dev/urandom >"$WORK/c.bin"
ip netns exec "$NS" python3 "$(dirname "$0")/peer.py" server-expect-reset --host 0.0.0.0 \
    --port 7002 --send "$WORK/c.bin" >"$WORK/peer-c.log" 2>&1 3>&- &
PEER=$!
PIDS="$PIDS $PEER"
wait_listen 7002
ip netns exec "$NS" bash -c '"$0" -v connect "$1" 7002 <"$2" 2>"$3" | true
    exit "${PIPESTATUS[0]}"' "$TW" "$GW" "$WORK/fifo" "$WORK/epipe.err" 3>&- &
TW_PID=$!
PIDS="$PIDS $TW_PID"
wait_exit "$TW_PID" 20
[ "$RC" = 1 ] || fail "tcpwave connect with its stdout gone: exit status $RC, expected 1"
grep -q "stdout: Broken pipe" "$WORK/epipe.err" || fail "tcpwave: $(cat "$WORK/epipe.err")"
wait_exit "$PEER" 40
[ "$RC" = 0 ] && grep -q "^reset" "$WORK/peer-c.log" ||
    fail "kernel server after tcpwave's stdout failed: $(cat "$WORK/peer-c.log")"
note "C ok: stdout gone, tcpwave reset the connection"
exec 3>&-

judge
rst_k=$(count "rst && src == \"$GW\" && dport == 7000")
rst_t=$(count "rst && src == \"$STACK\" && dport == 7001")
[ "$rst_k" -ge 1 ] || fail "no RST from the kernel client"
[ "$rst_t" -ge 1 ] || fail "no RST from tcpwave"
rst_c=$(count "rst && src == \"$STACK\" && dport == 7002")
[ "$rst_c" -ge 1 ] || fail "no RST from tcpwave when its stdout failed"
