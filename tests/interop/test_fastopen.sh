#!/usr/bin/env bash
# TCP Fast Open (RFC 7413) against the Linux kernel, both ways, with
# net.ipv4.tcp_fastopen=3 (client and server) set in the test's own namespace (a
# per-namespace sysctl):
#  A. the kernel client (python, sendto with MSG_FASTOPEN, 3 connections of 300 bytes)
#     against `tcpwave --fastopen echo`: the first SYN asks for a cookie, the next ones
#     carry their data, which tcpwave's SYN+ACK acknowledges and the echo returns;
#  C. curl --tcp-fastopen, 3 times, against `tcpwave --fastopen http`, each page fetched
#     whole: the kernel still holds A's cookie for 10.7.0.2, so even the first SYN carries
#     data, but this is a new tcpwave process with a new secret: that cookie is invalid,
#     its SYN+ACK acknowledges the SYN alone and gives a new cookie (RFC 7413 4.2.2,
#     curl's request sent again), and the next two SYNs' data is taken;
#  B. `tcpwave --fastopen connect --repeat 3` against a kernel listener with TCP_FASTOPEN
#     (python): tcpwave's first SYN asks for a cookie, its next ones carry the 500-byte
#     request, which the kernel's SYN+ACK acknowledges; the kernel answers each with the
#     request's SHA-256.
# The capture must show SYNs with data from each side, after the first connection, each
# acknowledged by the SYN+ACK that answers it (data on the SYN really delivered there).
NEEDS="python3 curl"
. "$(dirname "$0")/lib.sh" "$@"

nsx sysctl -qw net.ipv4.tcp_fastopen=3 2>"$WORK/sysctl.err" ||
    skip "cannot set net.ipv4.tcp_fastopen in the namespace: $(cat "$WORK/sysctl.err")"
start_capture

# A. kernel client, tcpwave server
tw_serve echo --fastopen echo 7
ECHO_PID=$TW_PID
peer tfo-client --port 7 --count 3 --size 300 >"$WORK/peer-a.log" 2>&1 ||
    fail "kernel client: $(cat "$WORK/peer-a.log")"
note "A: $(cat "$WORK/peer-a.log")"
kill -TERM "$ECHO_PID" 2>/dev/null
wait_exit "$ECHO_PID" 10 # (the TUN device goes with it, for B's)

# C. curl, tcpwave's HTTP server
tw_serve http --fastopen http 8080
HTTP_PID=$TW_PID
for i in 1 2 3; do
    nsx curl -s --tcp-fastopen --max-time 10 -o "$WORK/page$i.html" "http://$STACK:8080/" ||
        fail "curl --tcp-fastopen: fetch $i failed"
    [ -s "$WORK/page$i.html" ] || fail "curl --tcp-fastopen: fetch $i empty"
done
kill -TERM "$HTTP_PID" 2>/dev/null
wait_exit "$HTTP_PID" 10
note "C: 3 pages fetched by curl --tcp-fastopen"

# B. tcpwave client, kernel server
ip netns exec "$NS" python3 "$(dirname "$0")/peer.py" tfo-server --port 7001 --count 3 \
    --mark "$WORK/listening" >"$WORK/peer-b.log" 2>&1 &
PEER=$!
PIDS="$PIDS $PEER"
wait_for 10 test -e "$WORK/listening" || fail "kernel server did not start"
head -c 500 /dev/urandom >"$WORK/req.bin"
TW_STDIN="$WORK/req.bin" tw_start connect -v --fastopen connect --repeat 3 "$GW" 7001
CONNECT_PID=$TW_PID
wait_exit "$CONNECT_PID" 60
[ "$RC" = 0 ] || fail "tcpwave connect exit status $RC: $(cat "$WORK/connect.err")"
wait_exit "$PEER" 30
[ "$RC" = 0 ] || fail "kernel server: $(cat "$WORK/peer-b.log")"
want=$(hash_of "$WORK/req.bin")
got=$(sort -u "$WORK/connect.out")
[ "$got" = "$want" ] && [ "$(wc -l <"$WORK/connect.out")" = 3 ] ||
    fail "kernel server's answers differ from the request's hash: $(cat "$WORK/connect.out")"
on_syn=$(grep -c "bytes on the SYN" "$WORK/connect.err")
note "B: $(cat "$WORK/peer-b.log"); tcpwave: $(grep "bytes on the SYN" "$WORK/connect.err" | tr '\n' ' ')"

judge
# SYNs with data, and SYN+ACKs acknowledging more than the SYN (relative numbers: a SYN's
# data ends at 1 + len)
syn_data_a=$(count "syn && !ack && src == \"$GW\" && dport == 7 && len > 0")
syn_data_b=$(count "syn && !ack && src == \"$STACK\" && dport == 7001 && len > 0")
synack_data_a=$(count "syn && ack && src == \"$STACK\" && sport == 7 && ackno > 1")
synack_data_b=$(count "syn && ack && src == \"$GW\" && sport == 7001 && ackno > 1")
syn_data_c=$(count "syn && !ack && src == \"$GW\" && dport == 8080 && len > 0")
synack_data_c=$(count "syn && ack && src == \"$STACK\" && sport == 8080 && ackno > 1")
[ "$syn_data_a" -ge 2 ] || fail "A: $syn_data_a kernel SYNs with data, expected 2"
[ "$synack_data_a" -ge 2 ] || fail "A: $synack_data_a tcpwave SYN+ACKs acknowledging SYN data, expected 2"
[ "$syn_data_c" -ge 2 ] || fail "C: $syn_data_c curl SYNs with data, expected 2"
[ "$synack_data_c" -ge 2 ] || fail "C: $synack_data_c tcpwave SYN+ACKs acknowledging curl's SYN data, expected 2"
[ "$syn_data_b" -ge 2 ] || fail "B: $syn_data_b tcpwave SYNs with data, expected 2"
[ "$synack_data_b" -ge 2 ] || fail "B: $synack_data_b kernel SYN+ACKs acknowledging SYN data, expected 2"
note "ok: kernel -> tcpwave: $syn_data_a SYNs with data, $synack_data_a acknowledged by the SYN+ACK; curl -> tcpwave http: $syn_data_c and $synack_data_c; tcpwave -> kernel: $syn_data_b and $synack_data_b ($on_syn connects reported)"
