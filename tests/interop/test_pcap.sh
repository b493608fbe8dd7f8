#!/usr/bin/env bash
# --pcap: tcpwave's own capture (libpcap writer tapping its netdev, both directions) holds
# exactly the TCP segments tcpdump saw on the TUN, in order, and tshark reads it cleanly.
# The in-memory demo's capture (the same writer on the simulated link) is readable too.
NEEDS="curl"
. "$(dirname "$0")/lib.sh" "$@"
start_capture
tw_serve http --pcap "$WORK/own.pcap" http 8080
for i in 1 2 3; do
    nsx timeout 30 curl -sS --fail "http://$STACK:8080/" -o /dev/null || fail "curl $i failed"
done
# curl is gone once it has its answer; its socket's last ACK (for our FIN) is written to
# the TUN when the kernel takes that FIN. Stop tcpwave only after that (every socket to
# 8080 in TIME-WAIT): it then takes in what is queued before it exits.
wait_for 10 sh -c "ip netns exec $NS ss -Htan 'dport = :8080' | grep -qv TIME-WAIT; [ \$? = 1 ]" ||
    fail "curl's connections did not reach TIME-WAIT: $(nsx ss -tan 'dport = :8080')"
kill -TERM "$TW_PID"
wait_exit "$TW_PID" 10
[ "$RC" = 0 ] || fail "tcpwave http exit status $RC"
judge

own() {
    tshark -r "$1" -n -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
        -T fields -e ip.src -e tcp.srcport -e tcp.dstport -e tcp.seq_raw -e tcp.ack_raw \
        -e tcp.flags -e tcp.len -e _ws.malformed -e tcp.checksum.status -e ip.checksum.status \
        2>/dev/null
}
own "$WORK/own.pcap" >"$WORK/own.tsv" || fail "tshark cannot read tcpwave's capture"
[ -s "$WORK/own.tsv" ] || fail "tcpwave's capture is empty"
tshark -r "$WORK/cap.pcap" -n -Y tcp -T fields -e ip.src -e tcp.srcport -e tcp.dstport \
    -e tcp.seq_raw -e tcp.ack_raw -e tcp.flags -e tcp.len 2>/dev/null >"$WORK/tcpdump.tsv"
cut -f1-7 "$WORK/own.tsv" >"$WORK/own7.tsv"
# Each direction in the same order (the two taps sit on either side of the TUN, so the
# interleaving of the directions may differ by a packet or two).
for src in $STACK $GW; do
    grep "^$src	" "$WORK/own7.tsv" >"$WORK/own.$src"
    grep "^$src	" "$WORK/tcpdump.tsv" >"$WORK/dump.$src"
    cmp -s "$WORK/own.$src" "$WORK/dump.$src" ||
        fail "tcpwave's capture differs from tcpdump's ($src): $(diff "$WORK/own.$src" "$WORK/dump.$src" | head -5)"
done
awk -F'\t' '$8 != "" || $9 == "0" || $10 == "0" { bad++ } END { exit bad > 0 }' "$WORK/own.tsv" ||
    fail "malformed or bad checksums in tcpwave's capture"
note "own capture: $(wc -l <"$WORK/own.tsv") segments, identical to tcpdump's"

"$TW" --pcap "$WORK/sim.pcap" demo --sim >"$WORK/sim.out" 2>&1 || fail "demo --sim --pcap failed"
n=$(tshark -r "$WORK/sim.pcap" -n -Y tcp 2>/dev/null | wc -l)
said=$(sed -n 's/.* \([0-9][0-9]*\) packets on the link.*/\1/p' "$WORK/sim.out")
[ -n "$said" ] && [ "$n" -ge 10 ] && [ "$n" = "$said" ] ||
    fail "demo --sim capture has $n TCP segments, the demo reports '${said:-nothing}'"
fins=$(tshark -r "$WORK/sim.pcap" -n -Y 'tcp.flags.fin == 1' 2>/dev/null | wc -l)
[ "$fins" = 2 ] || fail "demo --sim capture has $fins FINs, expected 2"
note "ok: demo --sim capture with $n segments"
