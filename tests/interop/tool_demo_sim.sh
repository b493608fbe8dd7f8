#!/usr/bin/env bash
# `tcpwave demo --sim`: the seed article's picture from two in-memory stacks. The ladder
# must show, in this order, the handshake with the request on the third segment (S1-S3,
# S5), the client's FIN (S10), its ACK (S11), data from the half-closed server (S12), the
# server's FIN (S13), the last ACK (S14) and TIME-WAIT ending after 2*MSL (S15), with
# both ends' states. Checked in UTF-8 and in the ASCII fallback.
set -u
TW=${1:?usage: $0 PATH_TO_TCPWAVE}
fail() { echo "FAIL: tool_demo_sim: $*" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT

check() { # locale arrow
    LC_ALL=$1 "$TW" --msl 0.5 demo --sim >"$out" 2>&1 || fail "exit status $? ($1)"
    local A=$2
    # Each pattern must match a line after the previous match.
    awk -v A="$A" '
        BEGIN {
            n = split("CLOSED" A "SYN-SENT.*SYN seq=x .*LISTEN" A "SYN-RECEIVED|" \
                      "SYN-SENT" A "ESTABLISHED.*SYN,ACK seq=y ack=x\\+1|" \
                      "ACK seq=x\\+1 ack=y\\+1 len=45.*SYN-RECEIVED" A "ESTABLISHED|" \
                      "ESTABLISHED" A "FIN-WAIT-1.*FIN,ACK seq=u ack=v.*ESTABLISHED" A "CLOSE-WAIT|" \
                      "FIN-WAIT-1" A "FIN-WAIT-2.*ACK seq=v ack=u\\+1 .*CLOSE-WAIT|" \
                      "FIN-WAIT-2.*seq=v ack=u\\+1 len=1448.*CLOSE-WAIT|" \
                      "FIN-WAIT-2" A "TIME-WAIT.*FIN,ACK seq=w ack=u\\+1.*CLOSE-WAIT" A "LAST-ACK|" \
                      "TIME-WAIT .*ACK seq=u\\+1 ack=w\\+1.*LAST-ACK" A "CLOSED|" \
                      "TIME-WAIT" A "CLOSED.*2.*MSL elapsed|" \
                      "0 connections, 0 TIME-WAIT records left", pat, "|")
            k = 1
        }
        k <= n && $0 ~ pat[k] { k++ }
        END {
            if (k <= n) { print "missing, in order: " pat[k]; exit 1 }
        }' "$out" || fail "$1: $(cat "$out")"
    # TIME-WAIT lasted 2*MSL = 1 s of virtual time.
    local t_tw t_end
    t_tw=$(grep "ACK seq=u+1 ack=w+1" "$out" | awk '{print $1}')
    t_end=$(grep "MSL elapsed" "$out" | awk '{print $1}')
    awk -v a="$t_tw" -v b="$t_end" 'BEGIN { d = b - a; exit !(d > 0.99 && d < 1.01) }' ||
        fail "$1: TIME-WAIT from $t_tw to $t_end, expected 1 s"
}
check C.UTF-8 " → "
check C " -> "
echo "tool_demo_sim: ok"
