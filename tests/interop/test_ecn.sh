#!/usr/bin/env bash
# ECN with Linux (RFC 3168), read from the capture. The namespace's kernel has
# net.ipv4.tcp_ecn = 1: it asks for ECN on its SYNs and accepts it.
# Passive: the kernel's ECN-setup SYN (ECE and CWR) gets tcpwave's ECN-setup SYN+ACK
# (ECE alone, not ECT), and then tcpwave's data is ECT(0), its pure ACKs are not.
# Active: tcpwave with --ecn 1 sends an ECN-setup SYN, the kernel agrees, and tcpwave's
# data is ECT(0); the kernel's data (curl's request) is ECT(0) too. No CE is seen on this
# clean path, so no ECE or CWR after the handshakes.
NEEDS="curl socat ss"
. "$(dirname "$0")/lib.sh" "$@"
nsx sysctl -qw net.ipv4.tcp_ecn=1 || skip "cannot set net.ipv4.tcp_ecn in the namespace"
start_capture

# Passive: the kernel (curl) asks, tcpwave (default ecn 2) accepts. Active: tcpwave
# --ecn 1 asks, the kernel accepts; tcpwave's data to it.
both_handshakes from-tcpwave --ecn 1
judge

# frame, src, sport, dport, syn, ack, ece, cwr, ip ECN field, payload length
tsh -T fields -E separator=/t -e frame.number -e ip.src -e tcp.srcport -e tcp.dstport \
    -e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.ece -e tcp.flags.cwr -e ip.dsfield.ecn \
    -e tcp.len -Y tcp >"$WORK/ecn.tsv" || fail "tshark could not read the capture"
one() { # name awk-condition -> the first matching row
    local r
    r=$(awk -F'\t' '{src=$2; sport=$3; dport=$4; syn=($5=="1"||$5=="True"); ack=($6=="1"||$6=="True");
        ece=($7=="1"||$7=="True"); cwr=($8=="1"||$8=="True"); ecn=$9+0; len=$10+0}
        ('"$2"') {print; exit}' "$WORK/ecn.tsv")
    [ -n "$r" ] || fail "$1: no such segment in the capture"
    echo "$r"
}
n() { # awk-condition -> count
    awk -F'\t' '{src=$2; sport=$3; dport=$4; syn=($5=="1"||$5=="True"); ack=($6=="1"||$6=="True");
        ece=($7=="1"||$7=="True"); cwr=($8=="1"||$8=="True"); ecn=$9+0; len=$10+0}
        ('"$1"') {c++} END {print c+0}' "$WORK/ecn.tsv"
}
S="src == \"$STACK\""
K="src == \"$GW\""
one "kernel ECN-setup SYN (ECE, CWR)" "$K && dport == 8080 && syn && !ack && ece && cwr" >/dev/null
one "tcpwave ECN-setup SYN+ACK (ECE, no CWR, not ECT)" \
    "$S && sport == 8080 && syn && ack && ece && !cwr && ecn == 0" >/dev/null
one "tcpwave SYN (ECE, CWR)" "$S && dport == 7001 && syn && !ack && ece && cwr && ecn == 0" >/dev/null
one "kernel SYN+ACK (ECE, no CWR)" "$K && sport == 7001 && syn && ack && ece && !cwr" >/dev/null
# Data: ECT(0) (2) on every data segment tcpwave sent (nothing was retransmitted on this
# path), none on its pure ACKs and SYNs; the kernel's data (curl's request) ECT(0) too.
d=$(n "$S && len > 0")
[ "$d" -gt 0 ] || fail "tcpwave sent no data"
notect=$(n "$S && len > 0 && ecn != 2")
[ "$notect" = 0 ] || fail "$notect of tcpwave's $d data segments not ECT(0)"
ackect=$(n "$S && len == 0 && ecn != 0")
[ "$ackect" = 0 ] || fail "$ackect of tcpwave's segments without data ECT"
kd=$(n "$K && len > 0 && ecn == 2")
[ "$kd" -gt 0 ] || fail "the kernel sent no ECT(0) data (ECN not agreed?)"
ece=$(n "$S && !syn && (ece || cwr)")
[ "$ece" = 0 ] || fail "tcpwave sent ECE or CWR after the handshake with no CE seen"
note "ok: ECN agreed both ways; $d data segments from tcpwave all ECT(0), its ACKs not; kernel's data ECT(0) ($kd)"
