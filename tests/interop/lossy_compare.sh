#!/usr/bin/env bash
# lossy_compare.sh -- how long one bulk transfer takes under random loss, tcpwave's sender
# and receiver beside the kernel's, on paths made alike (not part of `make test`: it only
# measures, it asserts no time).
#
#   sudo tests/interop/lossy_compare.sh [-l PERCENT] [-b BYTES] [-n RUNS] [-t SECS]
#        [-s SETUPS] PATH_TO_TCPWAVE
#
# Every setup sends BYTES random bytes one way (sha256 checked), with PERCENT % of the
# packets lost each way, independently, and times from the sender's start until the
# receiver has everything and has seen the close. The setups (-s, comma-separated):
#   tw2k    tcpwave -> kernel on the TUN path (tcpwave connect, a socat sink), the loss
#           applied by tcpwave's --impair between the TUN and the stack, each way
#   k2tw    kernel -> tcpwave on the same TUN path (socat sender, tcpwave listen), the
#           same --impair loss
#   k2k     kernel -> kernel over a veth pair between two namespaces, MTU 1500, one
#           segment per packet (gso_max_segs 1), nftables dropping in each namespace's
#           input hook (a real loss: the packet was on the wire)
#   tw2k-nft tcpwave -> kernel with the loss made by nftables on tw0 (input hook: tcpwave's
#           data; output hook: the kernel's ACKs, which a drop there loses for good), the
#           method of test_lossy.sh
#   lo      kernel -> kernel over loopback (MTU 65536, GSO: far fewer, bigger packets),
#           nftables in the input hook, for reference (the earlier comparison ran there,
#           with drops in the output hook too, which are not losses: below)
# Default: tw2k,k2tw,k2k. -t SECS bounds each run (default 600): a run past it fails.
#
# Why not nftables for k2tw: a drop in the output (or egress) hook is a local send error
# to the kernel's TCP, which sends the segment again at once, so the kernel's data never
# really gets lost on its way to the TUN (test_lossy.sh says the same). --impair drops
# packet by packet inside tcpwave after the TUN, which is a real loss either way.
#
# The kernel's sender runs CUBIC (TCP_CONGESTION on socat's socket: tcpwave's default; the
# host's may be BBR, which ignores random loss and would compare something else).
# The kernel's nstat counters (retransmissions, timeouts, loss probes, F-RTO ...) and
# tcpwave's -v counters of each run go to the log directory printed at the end.
#
# Output: one line per run, then per setup the median with the range, e.g.
#   k2k 5% 20000000 B: median 39.93 s [38.27-42.41] over 5 runs (0 failed)
set -u
LOSS=5
BYTES=20000000
RUNS=5
TMO=600
SETUPS=tw2k,k2tw,k2k
while getopts "l:b:n:t:s:" o; do
    case $o in
    l) LOSS=$OPTARG ;;
    b) BYTES=$OPTARG ;;
    n) RUNS=$OPTARG ;;
    t) TMO=$OPTARG ;;
    s) SETUPS=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
TW=$(realpath "${1:?usage: $0 [-l PERCENT] [-b BYTES] [-n RUNS] [-t SECS] [-s SETUPS] PATH_TO_TCPWAVE}")
[ "$(id -u)" = 0 ] || { echo "needs root (namespaces, TUN)" >&2; exit 77; }
for t in ip nft socat sha256sum timeout; do
    command -v $t >/dev/null || { echo "missing $t" >&2; exit 77; }
done
PERMILLE=$(awk -v l="$LOSS" 'BEGIN { printf "%d", l * 10 + 0.5 }')
FRAC=$(awk -v l="$LOSS" 'BEGIN { print l / 100 }')
WORK=$(mktemp -d /tmp/lossy_compare.XXXXXX)
NSA="lc-a-$$"
NSB="lc-b-$$"
PIDS=""

cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    ip netns del "$NSA" 2>/dev/null
    ip netns del "$NSB" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM

head -c "$BYTES" /dev/urandom >"$WORK/in.bin"
SUM=$(sha256sum "$WORK/in.bin" | cut -d' ' -f1)

now() { date +%s.%N; }

# socat's sending socket on CUBIC (setsockopt IPPROTO_TCP=6, TCP_CONGESTION=13).
CUBIC="setsockopt-string=6:13:cubic"

ns_new() { # ns_new NAME: a namespace with lo up
    ip netns add "$1"
    ip netns exec "$1" ip link set lo up
}

wait_port() { # wait_port NS PORT
    local i
    for i in $(seq 200); do
        ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q . && return 0
        sleep 0.05
    done
    return 1
}

wait_tun() { # tw0 up in $NSA
    local i
    for i in $(seq 200); do
        ip netns exec "$NSA" ip -o addr show dev tw0 2>/dev/null | grep -q 10.7.0.1 && return 0
        sleep 0.05
    done
    return 1
}

nft_loss() { # nft_loss NS HOOKS IFNAME: drop PERMILLE per mille in each hook on IFNAME
    local ns=$1 hooks=$2 ifn=$3 rules="" h dir
    for h in $hooks; do
        dir=iifname
        [ "$h" = output ] && dir=oifname
        rules="$rules
    chain $h { type filter hook $h priority 0; $dir \"$ifn\" numgen random mod 1000 < $PERMILLE counter drop; }"
    done
    printf 'table inet lossy {%s\n}\n' "$rules" | ip netns exec "$ns" nft -f -
}

# One run of a setup; prints "SECONDS" or "FAIL reason". Logs in $WORK/$setup.$i.*
run_one() {
    local s=$1 i=$2 L="$WORK/$1.$2" t0 t1 rc=0 srv
    ip netns del "$NSA" 2>/dev/null
    ip netns del "$NSB" 2>/dev/null
    ns_new "$NSA"
    case $s in
    tw2k | tw2k-nft)
        local imp=""
        [ "$s" = tw2k ] && imp="--impair loss=$FRAC"
        ip netns exec "$NSA" timeout "$TMO" socat -u TCP-LISTEN:7001,reuseaddr "OPEN:$L.out,creat,trunc,wronly" 2>"$L.sink.err" &
        srv=$!
        wait_port "$NSA" 7001 || { echo "FAIL no sink"; return; }
        # tcpwave makes tw0 itself; the nft rules need it first, so a short ping-only run
        # is not possible: put the table in before (iifname matches by name, later too).
        [ "$s" = tw2k-nft ] && nft_loss "$NSA" "input output" tw0
        t0=$(now)
        ip netns exec "$NSA" timeout "$TMO" "$TW" -v $imp connect 10.7.0.1 7001 <"$WORK/in.bin" >/dev/null 2>"$L.tw.err" || rc=$?
        wait "$srv" || rc=$((rc + 100))
        t1=$(now)
        ;;
    k2tw)
        ip netns exec "$NSA" timeout "$TMO" "$TW" -v --impair "loss=$FRAC" listen 7000 </dev/null >"$L.out" 2>"$L.tw.err" &
        srv=$!
        wait_tun || { echo "FAIL no tun"; return; }
        local k
        for k in $(seq 200); do grep -q "listening on" "$L.tw.err" && break; sleep 0.05; done
        t0=$(now)
        ip netns exec "$NSA" timeout "$TMO" socat -u "OPEN:$WORK/in.bin,rdonly" TCP:10.7.0.2:7000,$CUBIC 2>"$L.src.err" || rc=$?
        wait "$srv" || rc=$((rc + 100))
        t1=$(now)
        ;;
    k2k)
        ns_new "$NSB"
        ip link add lca$$ netns "$NSA" type veth peer name lcb$$ netns "$NSB"
        ip netns exec "$NSA" ip link set lca$$ up mtu 1500 gso_max_segs 1 gso_max_size 1500
        ip netns exec "$NSB" ip link set lcb$$ up mtu 1500 gso_max_segs 1 gso_max_size 1500
        ip netns exec "$NSA" ip addr add 10.8.0.1/24 dev lca$$
        ip netns exec "$NSB" ip addr add 10.8.0.2/24 dev lcb$$
        nft_loss "$NSA" input lca$$
        nft_loss "$NSB" input lcb$$
        ip netns exec "$NSB" timeout "$TMO" socat -u TCP-LISTEN:7001,reuseaddr "OPEN:$L.out,creat,trunc,wronly" 2>"$L.sink.err" &
        srv=$!
        wait_port "$NSB" 7001 || { echo "FAIL no sink"; return; }
        t0=$(now)
        ip netns exec "$NSA" timeout "$TMO" socat -u "OPEN:$WORK/in.bin,rdonly" TCP:10.8.0.2:7001,$CUBIC 2>"$L.src.err" || rc=$?
        wait "$srv" || rc=$((rc + 100))
        t1=$(now)
        ip netns exec "$NSB" nft list ruleset >"$L.nftB" 2>&1
        ;;
    lo)
        nft_loss "$NSA" input lo
        ip netns exec "$NSA" timeout "$TMO" socat -u TCP-LISTEN:7001,reuseaddr "OPEN:$L.out,creat,trunc,wronly" 2>"$L.sink.err" &
        srv=$!
        wait_port "$NSA" 7001 || { echo "FAIL no sink"; return; }
        t0=$(now)
        ip netns exec "$NSA" timeout "$TMO" socat -u "OPEN:$WORK/in.bin,rdonly" TCP:127.0.0.1:7001,$CUBIC 2>"$L.src.err" || rc=$?
        wait "$srv" || rc=$((rc + 100))
        t1=$(now)
        ;;
    *)
        echo "FAIL unknown setup $s"
        return
        ;;
    esac
    ip netns exec "$NSA" nstat -az >"$L.nstatA" 2>/dev/null
    ip netns exec "$NSA" nft list ruleset >"$L.nftA" 2>&1
    if [ "$rc" != 0 ]; then
        echo "FAIL exit status $rc"
    elif [ "$(sha256sum "$L.out" | cut -d' ' -f1)" != "$SUM" ]; then
        echo "FAIL sha256 differs ($(stat -c %s "$L.out") bytes)"
    else
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
    fi
    rm -f "$L.out"
}

IFS=, read -r -a LIST <<<"$SETUPS"
SUMMARY=""
for s in "${LIST[@]}"; do
    times=""
    failed=0
    for i in $(seq "$RUNS"); do
        r=$(run_one "$s" "$i")
        echo "$s run $i: $r"
        case $r in
        FAIL*) failed=$((failed + 1)) ;;
        *) times="$times $r" ;;
        esac
    done
    line=$(echo "$times" | tr ' ' '\n' | grep . | sort -g | awk -v s="$s" -v l="$LOSS" -v b="$BYTES" -v f="$failed" '
        { t[NR] = $1 }
        END {
            if (NR == 0) { printf "%s %s%% %s B: no run passed (%d failed)\n", s, l, b, f; exit }
            m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
            printf "%s %s%% %s B: median %.2f s [%.2f-%.2f] over %d runs (%d failed)\n", s, l, b, m, t[1], t[NR], NR, f
        }')
    SUMMARY="$SUMMARY$line
"
done
echo "---"
printf "%s" "$SUMMARY"
echo "logs (nstat, tcpwave -v counters): $WORK"
