#!/usr/bin/env bash
# 200 parallel connections from the kernel to `tcpwave echo`, 64 KiB each way per
# connection, every byte compared; then every connection closed cleanly (S10-S14), as the
# server's own summary and the capture (SYNs from 200 ports, 400 FINs) confirm.
. "$(dirname "$0")/lib.sh" "$@"
N=200
start_capture 160
tw_serve echo echo 7
echo_many_clean $N
note "$ECHO_OUT"
judge
syns=$(count 'syn && !ack')
# One SYN per connection, counted by its source port: on a loaded machine the kernel may
# retransmit a SYN (its first RTO is 1 s), which is not a fault of the server.
conns=$(rows 'syn && !ack' | cut -f4 | sort -u | wc -l)
fins=$(count 'fin')
[ "$conns" = $N ] || fail "SYNs from $conns source ports in the capture, expected $N"
[ "$syns" = $N ] || note "$((syns - N)) SYNs retransmitted by the kernel"
[ "$fins" -ge $((2 * N)) ] || fail "$fins FINs in the capture, expected at least $((2 * N))"
no_rst_but_late
note "ok: $N connections, $syns SYNs, $fins FINs, no RST before a clean close"
