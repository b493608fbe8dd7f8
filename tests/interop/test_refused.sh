#!/usr/bin/env bash
# A connection to a port nobody listens on is refused on each side (R3, RFC 9293 3.10.7.1):
#  A. `tcpwave connect` to a closed kernel port: the kernel answers RST, tcpwave exits 1
#     saying "refused";
#  B. a kernel client to a closed tcpwave port: tcpwave answers RST, connect() gives
#     ECONNREFUSED.
. "$(dirname "$0")/lib.sh" "$@"
start_capture

nsx timeout 30 "$TW" connect $GW 9 </dev/null >"$WORK/connect.out" 2>"$WORK/connect.err"
rc=$?
[ "$rc" = 1 ] || fail "tcpwave connect to a closed port: exit status $rc, expected 1"
grep -q "refused" "$WORK/connect.err" || fail "tcpwave did not say refused: $(cat "$WORK/connect.err")"
note "A ok: $(cat "$WORK/connect.err")"

tw_serve echo echo 7
out=$(peer refused --port 8) || fail "kernel client: $out"
[ "$out" = refused ] || fail "kernel client: $out"
kill -TERM "$TW_PID"
wait_exit "$TW_PID" 10
[ "$RC" = 0 ] || fail "tcpwave echo exit status $RC"
note "B ok: kernel connect() to tcpwave port 8: ECONNREFUSED"

judge
rst_k=$(count "rst && src == \"$GW\" && sport == 9")
rst_t=$(count "rst && src == \"$STACK\" && sport == 8")
[ "$rst_k" -ge 1 ] || fail "no RST from the kernel's port 9"
[ "$rst_t" -ge 1 ] || fail "no RST from tcpwave's port 8"
