# lib.sh -- shared set-up for the interop tests (sourced, not run).
#
# Each test runs tcpwave against the Linux kernel's TCP inside a network namespace it
# creates and removes itself: tcpwave makes the TUN device tw0 there (the kernel side is
# 10.7.0.1, the stack 10.7.0.2), the kernel's tools (curl, socat, python) talk to it, and
# tcpdump captures every packet so tshark can judge them independently afterwards.
#
#   . "$(dirname "$0")/lib.sh" "$@"      # $1 = path to the tcpwave binary
#
# Exit status: 0 pass, 1 fail (the capture and logs are kept and their path printed),
# 77 skip (no root, no /dev/net/tun, no namespaces, or a tool is missing).

set -u
TW=${1:?usage: $0 PATH_TO_TCPWAVE}
TEST=$(basename "$0" .sh)
STACK=10.7.0.2
GW=10.7.0.1

skip() {
    echo "SKIP: $TEST: $*"
    exit 77
}

fail() {
    echo "FAIL: $TEST: $*" >&2
    exit 1
}

note() {
    echo "$TEST: $*"
}

[ -x "$TW" ] || fail "no tcpwave binary at $TW"
[ "$(id -u)" = 0 ] || skip "needs root (network namespace and TUN device)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for t in ip tcpdump tshark timeout sha256sum ${NEEDS:-}; do
    command -v "$t" >/dev/null 2>&1 || skip "missing '$t' (scripts/deps.sh test installs it)"
done

WORK=$(mktemp -d "/tmp/tw-interop-$TEST.XXXXXX")
NS="tw-$TEST-$$"
PIDS=""
CAP_PID=""
ip netns add "$NS" 2>"$WORK/netns.err" || skip "cannot create a network namespace: $(cat "$WORK/netns.err")"

cleanup() {
    local rc=$?
    for p in $PIDS $CAP_PID; do
        kill "$p" 2>/dev/null
    done
    for p in $PIDS $CAP_PID; do
        wait "$p" 2>/dev/null
    done
    ip netns del "$NS" 2>/dev/null
    if [ "$rc" = 0 ] || [ "$rc" = 77 ]; then
        rm -rf "$WORK"
    else
        echo "$TEST: capture and logs kept in $WORK" >&2
        for f in "$WORK"/*.err "$WORK"/*.log; do
            [ -s "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
        done
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

nsx() {
    ip netns exec "$NS" "$@"
}
nsx ip link set lo up

# Bounded wait: wait_for SECONDS COMMAND... (polls every 0.05 s).
wait_for() {
    local n=$(($1 * 20))
    shift
    while [ "$n" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.05
        n=$((n - 1))
    done
    return 1
}

# Start the capture on every interface of the namespace (tw0 may not exist yet).
# start_capture [SNAPLEN]
start_capture() {
    # Cut packets keep whole headers; only the application dissectors would then see
    # truncated payloads (and call them malformed), so they are left out of the judge.
    if [ "${1:-0}" != 0 ]; then
        TSH_EXTRA="--disable-protocol http"
    fi
    # Started directly (not through the nsx function) so $! is tcpdump itself: `ip netns
    # exec` execs the command without forking, a backgrounded function would be a subshell.
    ip netns exec "$NS" tcpdump -i any -n -B 65536 -s "${1:-0}" -w "$WORK/cap.pcap" \
        2>"$WORK/tcpdump.err" &
    CAP_PID=$!
    wait_for 10 grep -q "listening on" "$WORK/tcpdump.err" || fail "tcpdump did not start"
}

stop_capture() {
    [ -n "$CAP_PID" ] || return 0
    # The kernel hands tcpdump packets in blocks, retired at the latest after 1 s
    # (libpcap's default timeout): wait for the last one before stopping it.
    sleep 1.2
    kill -INT "$CAP_PID" 2>/dev/null
    wait "$CAP_PID" 2>/dev/null
    CAP_PID=""
    CAP_DROPPED=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$WORK/tcpdump.err")
    CAP_DROPPED=${CAP_DROPPED:-0}
}

# Run tcpwave in the namespace in the background: tw_start NAME ARGS...
# Its stdin is $TW_STDIN (default /dev/null), its output goes to $WORK/NAME.out /
# NAME.err, its pid to TW_PID.
tw_start() {
    local name=$1
    shift
    # A background command's stdin is /dev/null unless redirected on the command itself.
    ip netns exec "$NS" "$TW" "$@" <"${TW_STDIN:-/dev/null}" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    TW_PID=$!
    PIDS="$PIDS $TW_PID"
}

# tw_start with -v and wait for "listening on" (the listener exists before any client).
tw_serve() {
    local name=$1
    shift
    tw_start "$name" -v "$@"
    wait_for 10 grep -q "listening on" "$WORK/$name.err" || fail "tcpwave $* did not start listening: $(cat "$WORK/$name.err")"
}

# Both handshakes with the kernel for the capture to judge: a kernel client (curl) fetches
# from `tcpwave http` on 8080 (its SYN, tcpwave's SYN+ACK), then `tcpwave [OPTS] connect`
# sends MSG to a kernel sink on 7001 (tcpwave's SYN), its output in $WORK/connect.out.
#   both_handshakes MSG [TCPWAVE_OPTS...]
both_handshakes() {
    local msg=$1
    shift
    tw_serve http http 8080
    nsx timeout 30 curl -sS --fail "http://$STACK:8080/" -o /dev/null || fail "curl failed"
    kill -TERM "$TW_PID"
    wait_exit "$TW_PID" 10
    ip netns exec "$NS" timeout 30 socat -u TCP-LISTEN:7001,reuseaddr OPEN:/dev/null,wronly &
    local sink=$!
    PIDS="$PIDS $sink"
    wait_listen 7001
    echo "$msg" | nsx timeout 30 "$TW" "$@" connect $GW 7001 >"$WORK/connect.out" \
        2>"$WORK/connect.err" || fail "tcpwave connect: $(cat "$WORK/connect.err")"
    wait_exit "$sink" 10
}

# True once a child has exited (a zombie until waited for, so kill -0 is no test).
exited() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
    case "$st" in Z*) return 0 ;; esac
    return 1
}

# Wait for a background child with a bound; sets RC to its exit status ("timeout" if it
# had to be killed). Not in $(...): a subshell cannot wait for our children.
wait_exit() {
    local pid=$1 secs=$2
    if ! wait_for "$secs" exited "$pid"; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        RC=timeout
        return
    fi
    wait "$pid"
    RC=$?
}

# Wait until a kernel socket listens on PORT in the namespace.
wait_listen() {
    wait_for 10 sh -c "ip netns exec $NS ss -Hltn 'sport = :$1' | grep -q ." ||
        fail "nothing listens on port $1"
}

# Kernel-side helper (peer.py) in the namespace, in the foreground.
peer() {
    nsx python3 "$(dirname "$0")/peer.py" "$@"
}

hash_of() {
    sha256sum "$1" | cut -d' ' -f1
}

same_file() {
    [ "$(hash_of "$1")" = "$(hash_of "$2")" ] || fail "$3: sha256 differs ($(stat -c %s "$1") vs $(stat -c %s "$2") bytes)"
}

# tshark over the capture: prints matching frames (one line each).
tsh() {
    tshark -r "$WORK/cap.pcap" -n -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
        -o tcp.desegment_tcp_streams:FALSE ${TSH_EXTRA:-} "$@" 2>>"$WORK/tshark.err"
}

# One tshark pass over the capture into $WORK/fields.tsv (tshark is slow; every check
# after that is awk on this table). Columns, in the order of FIELD_NAMES:
FIELD_NAMES="frame src dst sport dport syn ack fin rst len ipck tcpck acklost malformed
    icmptype icmpck iplen mss wscale sackok tsval tsecr cksum cksumcalc stream seq nxtseq ackno
    protos"
fields() {
    [ -s "$WORK/fields.tsv" ] && return 0
    tsh -T fields -E separator=/t -e frame.number -e ip.src -e ip.dst -e tcp.srcport \
        -e tcp.dstport -e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.fin -e tcp.flags.reset \
        -e tcp.len -e ip.checksum.status -e tcp.checksum.status \
        -e tcp.analysis.ack_lost_segment -e _ws.malformed -e icmp.type -e icmp.checksum.status \
        -e ip.len -e tcp.options.mss_val -e tcp.options.wscale.shift -e tcp.options.sack_perm \
        -e tcp.options.timestamp.tsval -e tcp.options.timestamp.tsecr -e tcp.checksum \
        -e tcp.checksum_calculated -e tcp.stream -e tcp.seq -e tcp.nxtseq -e tcp.ack \
        -e frame.protocols >"$WORK/fields.tsv" ||
        fail "tshark could not read the capture"
}

# rows 'AWK CONDITION' : the rows of fields.tsv matching, with the columns named as in
# FIELD_NAMES (e.g. rows 'src == "10.7.0.2" && syn && !ack').
rows() {
    fields
    awk -F'\t' -v names="$FIELD_NAMES" '
        BEGIN { n = split(names, nm, /[ \n]+/) }
        { for (i = 1; i <= n; i++) v[nm[i]] = $i
          frame = v["frame"]; src = v["src"]; dst = v["dst"]; sport = v["sport"] + 0
          dport = v["dport"] + 0; syn = v["syn"] + 0; ack = v["ack"] + 0; fin = v["fin"] + 0
          rst = v["rst"] + 0; len = v["len"] + 0; ipck = v["ipck"]; tcpck = v["tcpck"]
          acklost = v["acklost"] != ""
          # Malformed only counts in the layers judged here: the guesses tshark makes at the
          # application protocol in random payload (Q.931 over TPKT, say) can fail on
          # bytes that are perfectly good TCP data.
          protos = v["protos"]; sub(/:_ws\.malformed$/, "", protos)
          malformed = v["malformed"] != "" && protos ~ /:(ip|icmp|tcp|tcp:data)$/
          icmptype = v["icmptype"]; icmpck = v["icmpck"]; iplen = v["iplen"] + 0
          mss = v["mss"]; wscale = v["wscale"]; sackok = v["sackok"] != ""
          tsval = v["tsval"]; tsecr = v["tsecr"]; tcp = v["sport"] != ""
          cksum = v["cksum"]; cksumcalc = v["cksumcalc"]; stream = v["stream"]
          seq = v["seq"] + 0; nxtseq = v["nxtseq"] + 0; ackno = v["ackno"] + 0
          if ('"$1"') print }' "$WORK/fields.tsv"
}

count() {
    rows "$1" | wc -l
}

# The independent judge: no malformed packet, no bad IP or TCP checksum, and no ACK for
# a segment that was never sent ("ACKed unseen segment"; only meaningful when the capture
# itself lost nothing). Checksum status 0 is tshark's "Bad".
#
# Two refinements, each printed when it applies, never silent:
#  - A kernel segment whose checksum is 0xffff where 0x0000 was computed is the same
#    number in one's complement; tshark calls it bad after RFC 1624 (an incremental
#    update artefact of the sender). Tolerated from the kernel, a failure from tcpwave.
#  - tshark's "ACKed unseen" only follows segments that start at the highest sequence
#    seen, so an ACK for bytes first sent inside a retransmission that reaches past the
#    old maximum is flagged although the bytes are in the capture. Each flagged ACK is
#    checked against the highest sequence number really seen from the other side.
judge() {
    stop_capture
    [ -s "$WORK/cap.pcap" ] || fail "empty capture"
    fields
    local n bad
    n=$(count 'tcp')
    [ "$n" -gt 0 ] || fail "no TCP segment in the capture"
    local neg0="tcpck == \"0\" && src != \"$STACK\" && cksum == \"0xffff\" && cksumcalc == \"0x0000\""
    bad=$(rows "malformed || ipck == \"0\" || icmpck == \"0\" || (tcpck == \"0\" && !($neg0))")
    [ -z "$bad" ] || fail "tshark: malformed packets or bad checksums (frame src dst ...):
$(echo "$bad" | head -n 20)"
    local tolerated
    tolerated=$(count "$neg0")
    [ "$tolerated" = 0 ] || note "kernel sent $tolerated segments with checksum 0xffff for 0x0000 (RFC 1624 -0), tolerated"
    if [ "$CAP_DROPPED" = 0 ]; then
        fields
        bad=$(awk -F'\t' '
            $4 != "" { k = $25 "," $2; if ($27 + 0 > max[k]) max[k] = $27 + 0 }
            $13 != "" { o = $25 "," $3; if ($28 + 0 > max[o]) { print; next } seen++ }
            END { if (seen) print "seen " seen > "/dev/stderr" }' "$WORK/fields.tsv" 2>"$WORK/acklost.txt")
        [ -z "$bad" ] || fail "ACK for a segment never sent (frame src dst ...):
$(echo "$bad" | head -n 20)"
        if [ -s "$WORK/acklost.txt" ]; then
            note "tshark flagged $(cut -d' ' -f2 "$WORK/acklost.txt") ACKs as 'ACKed unseen'; the bytes they acknowledge were all sent earlier in the capture"
        fi
    else
        ACKED_NOTE=" (tcpdump dropped $CAP_DROPPED packets: ACKed-unseen check skipped)"
    fi
    note "tshark: $n TCP segments, none malformed, no bad checksum${ACKED_NOTE:-, nothing ACKed unseen}"
}

# RSTs that answer a segment arriving after the sender's connection ended cleanly: the
# sender's FIN was acknowledged earlier in the capture, the RST has no ACK bit and
# carries the sequence number just past that FIN (RFC 9293 3.10.7.1: a segment for no
# connection). On a starved machine the TUN queue drops ACKs, a retransmission timer
# resends what the other side already has, and the duplicate ACK (or the segment) it
# draws can arrive after the last ACK closed the other end: those RSTs are correct, from
# tcpwave or from the kernel. Prints "late other" counts.
late_rsts() {
    fields
    awk -F'\t' '
        $8 == 1 { finend[$25 "," $2] = $27 }
        { peerfin = $25 "," $3 }
        (peerfin in finend) && $7 == 1 && $28 + 0 >= finend[peerfin] + 0 { finacked[peerfin] = 1 }
        $9 == 1 {
            k = $25 "," $2
            if ((k in finacked) && $7 == 0 && $26 + 0 == finend[k] + 0) late++
            else other++
        }
        END { print late + 0, other + 0 }' "$WORK/fields.tsv"
}

# No RST in the capture but late ones (late_rsts), which are noted.
no_rst_but_late() {
    local rsts late other
    rsts=$(count 'rst')
    [ "$rsts" = 0 ] && return 0
    read -r late other <<<"$(late_rsts)"
    [ "$other" = 0 ] || fail "$rsts RSTs in the capture, $other of them not after a clean close: $(rows 'rst' | head -n 3)"
    note "$late RSTs answered segments that arrived after the sender's connection had closed cleanly (its FIN acknowledged): duplicates drawn by retransmissions that lost ACKs caused"
}

# `tcpwave echo` on port 7 (started by the caller with tw_serve), N parallel kernel
# connections through peer.py echo-many (extra arguments passed on), every byte compared;
# then every connection fully closed, tcpwave stopped, and its summary checked.
# echo_many_clean N [PEER ARGS...]; sets ECHO_OUT to peer.py's report. ECHO_SIZE (bytes
# each way, default 65536) and ECHO_WAIT (seconds for the closes, default 30) adjust it.
echo_many_clean() {
    local n=$1
    shift
    SECONDS=0
    ECHO_OUT=$(peer echo-many --port 7 --count "$n" --size "${ECHO_SIZE:-65536}" "$@" 2>&1) ||
        fail "$ECHO_OUT"
    ECHO_OUT="$ECHO_OUT ($SECONDS s)"
    # Every connection must be fully closed by tcpwave too before we stop it.
    wait_for "${ECHO_WAIT:-30}" sh -c "! ip netns exec $NS ss -Htn 'dport = :7' | grep -vq TIME-WAIT" ||
        fail "kernel connections to the echo server still open: $(ip netns exec "$NS" ss -Htn 'dport = :7' | head -5)"
    kill -TERM "$TW_PID"
    wait_exit "$TW_PID" 10
    [ "$RC" = 0 ] || fail "tcpwave echo exit status $RC"
    grep -q "$n connections accepted, $n closed cleanly, 0 failed" "$WORK/echo.err" ||
        fail "server summary: $(tail -n 1 "$WORK/echo.err")"
}

# `tcpwave listen` (with the tcpwave options given) sends BYTES random bytes to a kernel
# socat client while the client sends it as many; both directions checked by sha256
# within TIMEOUT seconds. exchange_both_ways BYTES TIMEOUT WHAT [TCPWAVE OPTIONS...]
exchange_both_ways() {
    local bytes=$1 secs=$2 what=$3
    shift 3
    head -c "$bytes" /dev/urandom >"$WORK/a.bin"
    head -c "$bytes" /dev/urandom >"$WORK/b.bin"
    SECONDS=0
    TW_STDIN="$WORK/a.bin" tw_serve listen "$@" listen 7000
    nsx timeout "$secs" socat -t $((secs / 2)) TCP:$STACK:7000 \
        "OPEN:$WORK/b.bin,rdonly!!OPEN:$WORK/b.got,creat,trunc,wronly" 2>"$WORK/socat.err" ||
        fail "socat client failed: $(cat "$WORK/socat.err")"
    wait_exit "$TW_PID" $((secs / 2))
    [ "$RC" = 0 ] || fail "tcpwave listen exit status $RC: $(cat "$WORK/listen.err")"
    same_file "$WORK/b.bin" "$WORK/listen.out" "kernel -> tcpwave $what"
    same_file "$WORK/a.bin" "$WORK/b.got" "tcpwave -> kernel $what"
}
