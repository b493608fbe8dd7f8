#!/usr/bin/env bash
# `tcpwave demo` live: tcpwave and the Linux kernel over TUN in the private network
# namespace the demo makes for itself (and which disappears with it). The ladder must
# show both connections of the story with the kernel's states read from sock_diag:
#  1. Linux client -> tcpwave: handshake, request/response, Linux half-closes, tcpwave
#     keeps sending in CLOSE-WAIT, then closes (LAST-ACK -> CLOSED; Linux in TIME-WAIT);
#  2. tcpwave client -> Linux, request on the third segment, tcpwave closes first and
#     leaves TIME-WAIT after 2*MSL.
set -u
TW=${1:?usage: $0 PATH_TO_TCPWAVE}
[ "$(id -u)" = 0 ] || { echo "SKIP: tool_demo: needs root (network namespace, TUN)"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: tool_demo: no /dev/net/tun"; exit 77; }
fail() { echo "FAIL: tool_demo: $*" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT

LC_ALL=C timeout 60 "$TW" --msl 0.5 demo >"$out" 2>&1 || fail "exit status $?: $(cat "$out")"
grep -q "in-memory demo instead" "$out" && { echo "SKIP: tool_demo: $(head -n 1 "$out")"; exit 77; }
A=" -> "
awk -v A="$A" '
    BEGIN {
        n = split("^1\\. Linux connects|" \
                  "client linux 10.7.0.1:[0-9]+ +server tcpwave 10.7.0.2:80|" \
                  "CLOSED" A "SYN-SENT +-- SYN seq=x .*LISTEN" A "SYN-RECEIVED|" \
                  "SYN-SENT" A "ESTABLISHED +<-.*SYN,ACK seq=y ack=x\\+1|" \
                  "ACK seq=x\\+1 ack=y\\+1 -.*SYN-RECEIVED" A "ESTABLISHED|" \
                  "seq=x\\+1 ack=y\\+1 len=[0-9]+|" \
                  "ESTABLISHED" A "FIN-WAIT-1 +-- FIN,ACK seq=u ack=v .*ESTABLISHED" A "CLOSE-WAIT|" \
                  "FIN-WAIT-1" A "FIN-WAIT-2 +<-.*ACK seq=v ack=u\\+1 |" \
                  "FIN-WAIT-2 +<-.*seq=v ack=u\\+1 len=[0-9]+ .*CLOSE-WAIT|" \
                  "FIN-WAIT-2" A "TIME-WAIT +<-.*FIN,ACK seq=w ack=u\\+1.*CLOSE-WAIT" A "LAST-ACK|" \
                  "TIME-WAIT +-- ACK seq=u\\+1 ack=w\\+1 .*LAST-ACK" A "CLOSED|" \
                  "^2\\. tcpwave connects|" \
                  "client tcpwave 10.7.0.2:[0-9]+ +server linux 10.7.0.1:8080|" \
                  "CLOSED" A "SYN-SENT +-- SYN seq=x .*LISTEN" A "SYN-RECEIVED|" \
                  "SYN-SENT" A "ESTABLISHED +<-.*SYN,ACK seq=y ack=x\\+1|" \
                  "ESTABLISHED +-- .*ACK seq=x\\+1 ack=y\\+1 len=45 .*SYN-RECEIVED" A "ESTABLISHED|" \
                  "ESTABLISHED" A "FIN-WAIT-1 +-- FIN,ACK seq=u ack=v .*ESTABLISHED" A "CLOSE-WAIT|" \
                  "FIN-WAIT-1" A "FIN-WAIT-2 +<-.*ACK seq=v ack=u\\+1|" \
                  "FIN-WAIT-2" A "TIME-WAIT +<-.*FIN,ACK seq=w ack=u\\+1.*CLOSE-WAIT" A "LAST-ACK|" \
                  "TIME-WAIT +-- ACK seq=u\\+1 ack=w\\+1 .*LAST-ACK" A "CLOSED|" \
                  "TIME-WAIT" A "CLOSED .*2\\*MSL elapsed|" \
                  "0 connections, 0 TIME-WAIT records left", pat, "|")
        k = 1
    }
    k <= n && $0 ~ pat[k] { k++ }
    END { if (k <= n) { print "missing, in order: " pat[k]; exit 1 } }' "$out" ||
    fail "$(cat "$out")"
echo "tool_demo: ok"
