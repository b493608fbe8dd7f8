#!/usr/bin/env bash
# Random loss against the kernel (D1, D3, S10-S14 under loss): nftables in the namespace
# drops 3 % of the packets each way on tw0, then
#  A. 100 parallel connections from the kernel to `tcpwave echo`, 64 KiB each way, every
#     byte compared, every connection closed cleanly (the server's summary says so);
#  B. 1 MB each way between a kernel client (socat) and `tcpwave listen`, by sha256.
#     nftables cannot lose the kernel's data on its way to tcpwave: a packet dropped in the
#     output (or netdev egress) hook is a local send error to the kernel's TCP, which
#     sends it again at once (only its pure ACKs are lost for good). So B also runs
#     tcpwave with --impair loss, which drops packets between the TUN and the stack each
#     way, and checks that tcpwave's receiver really saw holes (TCP_RX_OOO, -v counters).
# Every lost packet must be recovered by retransmission on one side or the other; the
# nftables counters prove that packets were dropped. The kernel runs CUBIC for these
# connections: BBR's rate estimate can collapse under random loss and crawl for minutes.
NEEDS="socat nft"
. "$(dirname "$0")/lib.sh" "$@"
LOSS=30 # per mille, each way
nsx nft -f - >"$WORK/nft.err" 2>&1 <<NFT || skip "nftables cannot filter in the namespace: $(cat "$WORK/nft.err")"
table inet lossy {
    chain in { type filter hook input priority 0; iifname "tw0" numgen random mod 1000 < $LOSS counter drop; }
    chain out { type filter hook output priority 0; oifname "tw0" numgen random mod 1000 < $LOSS counter drop; }
}
NFT

N=100
tw_serve echo echo 7
echo_many_clean $N --cc cubic
note "A: $ECHO_OUT"

exchange_both_ways 1000000 120 "under loss" --impair loss=0.03,seed=4600001
ooo=$(sed -n 's/.* TCP_RX_OOO=\([0-9]*\).*/\1/p' "$WORK/listen.err")
[ "${ooo:-0}" -gt 0 ] ||
    fail "B: tcpwave received no segment out of order: the kernel's data was not lost ($(grep counters: "$WORK/listen.err"))"
note "B: 1000000 bytes each way intact ($SECONDS s), $ooo segments out of order at tcpwave"

drops=$(nsx nft list table inet lossy | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
in=$(echo "$drops" | sed -n 1p)
out=$(echo "$drops" | sed -n 2p)
[ "${in:-0}" -gt 0 ] && [ "${out:-0}" -gt 0 ] ||
    fail "nftables dropped ${in:-?} packets from tcpwave and ${out:-?} to it: the loss was not applied"
note "ok: nftables dropped $in packets from tcpwave and $out to it; all recovered"
