#!/usr/bin/env bash
# `tcpwave sim`: seeded two-stack transfers over the simulated link must all pass with
# loss, duplication and reordering (D1, S10-S15, no leak), and a run that cannot finish
# must fail with a repro line and exit 1.
set -u
TW=${1:?usage: $0 PATH_TO_TCPWAVE}
fail() { echo "FAIL: tool_sim: $*" >&2; exit 1; }
out=$(mktemp)
cap=$(mktemp)
trap 'rm -f "$out" "$cap"' EXIT

"$TW" sim --runs 20 --bytes 200000 --loss 0.02 --dup 0.01 --reorder 0.02 -q >"$out" 2>&1 ||
    fail "impaired runs: $(cat "$out")"
tail -n 1 "$out" | grep -qx "20 passed, 0 failed" || fail "summary: $(tail -n 3 "$out")"
echo "tool_sim: $(tail -n 1 "$out") (2% loss, 1% dup, 2% reorder)"

"$TW" sim --runs 3 --bytes 50000 --delay 20 >"$out" 2>&1 || fail "clean runs: $(cat "$out")"
[ "$(grep -c ': ok ' "$out")" = 3 ] || fail "clean runs: $(cat "$out")"
grep -q "client CLOSED, server CLOSED" "$out" || fail "final states: $(cat "$out")"

# 10 s one-way delay and 5 s of virtual time: cannot finish, must say so.
"$TW" sim --runs 1 --delay 10000 --time-limit 5 >"$out" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "an impossible run exited $rc"
grep -q "FAIL" "$out" && grep -q "repro: tcpwave sim --runs 1 --seed 0x1 " "$out" &&
    tail -n 1 "$out" | grep -qx "0 passed, 1 failed" || fail "failure report: $(cat "$out")"
# The global options before the command reach it: --msl, --trace and --pcap (two runs,
# one after the other in the capture, each a SYN, ..., a FIN from each side).
"$TW" --msl 0.5 --trace --pcap "$cap" sim --runs 2 --bytes 3000 >"$out" 2>&1 ||
    fail "global options: $(cat "$out")"
grep -q "2·MSL elapsed" "$out" || fail "--trace before sim drew no ladder: $(head -n 5 "$out")"
# A pcap savefile (nanosecond magic 0xa1b23c4d, either byte order) with packets in it.
magic=$(od -An -tx1 -N4 "$cap" | tr -d ' ')
case "$magic" in a1b23c4d | 4d3cb2a1) ;; *) fail "--pcap wrote no capture (magic '$magic')" ;; esac
[ "$(stat -c %s "$cap")" -gt 1000 ] || fail "--pcap: capture of $(stat -c %s "$cap") bytes"
if command -v tshark >/dev/null 2>&1; then
    syns=$(tshark -r "$cap" -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0" 2>/dev/null | wc -l)
    [ "$syns" = 2 ] || fail "--pcap: $syns SYNs in the capture of two runs"
fi
# ECN (RFC 3168): with ecn=1 and a marking queue, the queue's overflow marks CE where
# it would drop, the receivers echo it and the senders reduce, and the runs pass.
"$TW" sim --runs 2 --bytes 2000000 --set ecn=1 --ecn-mark 0.001 --rate 20 --queue 20 \
    --delay 10 --counters >"$out" 2>&1 || fail "--ecn-mark: $(cat "$out")"
ce=$(awk '$1 == "TCP_ECN_CE" {print $2}' "$out")
cwr=$(awk '$1 == "TCP_ECN_CWR" {print $2}' "$out")
[ "${ce:-0}" -gt 0 ] && [ "${cwr:-0}" -gt 0 ] || fail "--ecn-mark: CE $ce, CWR $cwr: $(tail -n 5 "$out")"
echo "tool_sim: ok"
