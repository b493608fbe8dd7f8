#!/usr/bin/env bash
# The command line: usage errors exit 2 with a usage line (like nc/socat), --help and
# --version exit 0, unknown commands and options are named. No root needed.
set -u
TW=${1:?usage: $0 PATH_TO_TCPWAVE}
fail() { echo "FAIL: tool_cli: $*" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Every case must be refused before a TUN device exists. Should one not be, it must not
# touch this machine's network nor hang: as root each runs in a network namespace of its
# own (unshare -n), and each is bounded.
iso=""
[ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null && iso="unshare -n"

expect() { # status pattern args...
    local want=$1 pat=$2
    shift 2
    timeout 20 $iso "$TW" "$@" >"$out" 2>&1 </dev/null
    local rc=$?
    [ "$rc" = "$want" ] || fail "tcpwave $*: exit $rc, expected $want: $(head -n 3 "$out")"
    grep -q -- "$pat" "$out" || fail "tcpwave $*: output lacks '$pat': $(head -n 3 "$out")"
}

expect 0 "listen PORT" --help
expect 0 "listen PORT" -h
# the help is written as it is (fputs), so a printf escape in it would show
"$TW" --help 2>&1 | grep -q "%%" && fail "--help shows a doubled %"
expect 0 "tcpwave [0-9]" --version
expect 2 "no command given"
expect 2 "unknown command 'frob'" frob
expect 2 "unknown option '--frob'" --frob demo
expect 2 "needs a value" --tun
expect 2 "bad --mtu" --mtu 100 listen 7
expect 2 "bad --prefix" --prefix 31 listen 7
expect 2 "bad IPv4 address" --addr 10.7.0 listen 7
expect 2 "bad --msl" --msl -1 listen 7
expect 2 "must differ and share the /24 prefix" --addr 10.8.0.2 listen 7
expect 2 "must differ and share the /24 prefix" --addr 10.7.0.1 listen 7
expect 2 "bad --impair 'loss=2': bad value '2' for loss" --impair loss=2 listen 7
expect 2 "unknown key 'frob'" --impair frob=1 listen 7
expect 2 "jitter larger than delay" --impair jitter=5ms listen 7
expect 2 "does not apply to sim" --impair loss=1% sim --runs 1
expect 2 "does not apply to demo" --impair loss=1% demo
expect 2 "does not apply to demo" demo --sim --impair dup=1%
expect 2 "expected PORT" listen
expect 2 "bad port '0'" listen 0
expect 2 "bad port '70000'" listen 70000
expect 2 "expected IP PORT" connect 10.7.0.1
expect 2 "bad IPv4 address '10.7.0.300'" connect 10.7.0.300 80
expect 2 "bad IPv4 address '010.7.0.1'" connect 010.7.0.1 80
expect 2 "expected PORT" echo
expect 2 "expected PORT \[DIR\]" http
expect 2 "is not a directory" http 80 /nonexistent/dir
expect 2 "unknown option '--frob'" listen 7 --frob
expect 2 "unexpected argument" demo extra
expect 0 "usage: tcpwave \[OPTIONS\] listen PORT" listen --help
expect 0 "usage: tcpwave sim" sim --help
expect 2 "--loss: bad value '2' (expected a probability from 0 to 1)" sim --loss 2
expect 2 "--seed: bad value '99999999999999999999999'" sim --seed 99999999999999999999999
expect 2 "unknown option" sim --frob
expect 2 "unexpected argument" sim extra
expect 2 "do not apply to sim" --tun tw9 sim --runs 1
expect 2 "unknown option '--mtu'" sim --runs 1 --mtu 1400
# A capture path that cannot be written is a bad argument: status 2 before anything runs.
expect 2 "cannot write capture '/nonexistent/dir/x.pcap'" sim --runs 1 --pcap /nonexistent/dir/x.pcap
expect 2 "cannot write capture '/nonexistent/dir/x.pcap'" --pcap /nonexistent/dir/x.pcap listen 7
expect 2 "cannot write capture '/': is a directory" --pcap / connect 10.7.0.1 80
expect 2 "cannot write capture '': empty path" --pcap '' echo 7
# Malformed --impair specs: empty items, a key twice, a negative or overflowing seed.
expect 2 "bad --impair ',': empty item" --impair , listen 7
expect 2 "bad --impair '': empty item" --impair '' listen 7
expect 2 "empty item" --impair loss=1%,,dup=1% listen 7
expect 2 "empty item" --impair loss=1%, listen 7
expect 2 "loss given twice" --impair loss=1%,loss=2% listen 7
expect 2 "bad value '-1' for seed" --impair seed=-1 listen 7
expect 2 "bad value '99999999999999999999999' for seed" --impair seed=99999999999999999999999 listen 7
expect 2 "bad value 'nan' for loss" --impair loss=nan listen 7
# Ports and addresses out of range, operands missing or extra, numbers that are not.
expect 2 "bad port 'abc'" listen abc
expect 2 "bad port '65536'" listen 65536
expect 2 "bad port '0'" connect 10.7.0.1 0
expect 2 "bad port 'abc'" connect 10.7.0.1 abc
expect 2 "bad IPv4 address 'abc'" connect abc 80
expect 2 "bad IPv4 address '1.2.3.4.5'" connect 1.2.3.4.5 80
expect 2 "expected IP PORT" connect 10.7.0.1 80 extra
expect 2 "bad --mtu '575'" --mtu 575 listen 7
expect 2 "bad --mtu '65536'" --mtu 65536 listen 7
expect 2 "bad --mtu 'abc'" --mtu abc listen 7
expect 2 "bad --msl 'nan'" --msl nan listen 7
expect 2 "bad --msl '-0.5'" --msl -0.5 listen 7
expect 2 "bad --prefix '33'" --prefix 33 listen 7
expect 2 "bad --tun name ''" --tun '' listen 7
expect 2 "bad --tun name 'a b'" --tun 'a b' listen 7
expect 2 "bad --tun name 'tw:0'" --tun tw:0 listen 7
expect 2 "bad --tun name '..'" --tun .. listen 7
expect 2 "needs a value" sim --loss
expect 2 "--cc: bad value 'frob' (expected cubic or newreno)" sim --cc frob
# Options that would be dropped or misread: --ecn after sim was taken as --ecn-mark (a
# getopt abbreviation: every packet marked CE), --ecn/--fastopen before sim and any option
# before script were ignored without a word.
expect 2 "sim: --ecn and --fastopen do not apply to sim: use --set ecn=N" sim --ecn 1 --runs 1
expect 2 "sim: --ecn and --fastopen do not apply to sim" sim --ecn=1 --runs 1
expect 2 "sim: --ecn and --fastopen do not apply to sim" sim --fastopen --runs 1
expect 2 "--fastopen and --ecn do not apply to sim: use --set" --ecn 1 sim --runs 1
expect 2 "--fastopen and --ecn do not apply to sim" --fastopen sim --runs 1
expect 2 "options before 'script' do not apply to it" --mtu 9000 script /dev/null
expect 2 "options before 'script' do not apply to it" -v script /dev/null
# Addresses no host on the TUN can have (the prefix's network and broadcast addresses,
# loopback, multicast, reserved, 0.0.0.0/8): a usage error, not a stack that listens at
# an address the kernel never routes to it, nor "cannot configure tw0: Invalid argument".
expect 2 "--addr 10.7.0.0 is the network address of 10.7.0.0/24" --addr 10.7.0.0 listen 7
expect 2 "--addr 10.7.0.255 is the broadcast address of 10.7.0.0/24" --addr 10.7.0.255 echo 7
expect 2 "--gateway 10.7.0.255 is the broadcast address" --gateway 10.7.0.255 http 80
expect 2 "--addr 10.7.0.3 is the broadcast address of 10.7.0.0/30" --prefix 30 --addr 10.7.0.3 echo 7
expect 2 "--addr 127.0.0.2 is a loopback address" --addr 127.0.0.2 --gateway 127.0.0.1 echo 7
expect 2 "--addr 224.0.0.2 is a multicast address" --addr 224.0.0.2 --gateway 224.0.0.1 echo 7
expect 2 "--addr 240.0.0.2 is a reserved address" --addr 240.0.0.2 --gateway 240.0.0.1 echo 7
expect 2 "--addr 0.0.0.2 is in 0.0.0.0/8" --addr 0.0.0.2 --gateway 0.0.0.1 echo 7
# connect to an address that is no peer: the stack's own, a broadcast, multicast or
# loopback address (the engine refused these only as "connect: invalid argument", exit 1).
expect 2 "10.7.0.2 is the stack's own address" connect 10.7.0.2 80
expect 2 "cannot connect to 255.255.255.255: the broadcast address" connect 255.255.255.255 80
expect 2 "cannot connect to 10.7.0.255: the broadcast address of 10.7.0.0/24" connect 10.7.0.255 80
expect 2 "cannot connect to 224.1.2.3: a multicast address" connect 224.1.2.3 80
expect 2 "cannot connect to 127.0.0.1: a loopback address" connect 127.0.0.1 80
# Why a TUN device cannot be made, in words a user can act on (root only: each in a
# network namespace of its own). A second tcpwave on the same --tun name; root in a user
# namespace that does not own the network namespace (unshare -U -r).
if [ -n "$iso" ] && [ -c /dev/net/tun ] && command -v ip >/dev/null 2>&1; then
    unshare -n bash -c '
        timeout 20 "$1" echo 7 >/dev/null 2>&1 & p=$!
        for i in $(seq 200); do ip link show tw0 >/dev/null 2>&1 && break; sleep 0.05; done
        timeout 5 "$1" echo 8 </dev/null
        echo "rc=$?"
        kill "$p"; wait "$p"' _ "$TW" >"$out" 2>&1
    grep -q "rc=1" "$out" && grep -q "tw0: Device or resource busy (another process has it: --tun NAME" "$out" ||
        fail "a second tcpwave on tw0: $(cat "$out")"
    unshare -n timeout 5 "$TW" --tun lo echo 7 </dev/null >"$out" 2>&1
    rc=$?
    [ "$rc" = 1 ] && grep -q "lo: Invalid argument (a device of that name that is not a TUN" "$out" ||
        fail "--tun lo: exit $rc: $(cat "$out")"
    if unshare -n unshare -U -r true 2>/dev/null; then
        unshare -n unshare -U -r timeout 5 "$TW" echo 7 </dev/null >"$out" 2>&1
        rc=$?
        [ "$rc" = 1 ] && grep -q "needs CAP_NET_ADMIN in the user namespace that owns" "$out" ||
            fail "root in a user namespace: exit $rc: $(cat "$out")"
    fi
fi
echo "tool_cli: ok"
