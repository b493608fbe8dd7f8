#!/usr/bin/env bash
# `tcpwave sim`: seeded two-stack transfers over the simulated link must all pass with
# loss, duplication and reordering (D1, S10-S15, no leak), and a run that cannot finish
# must fail with a repro line and exit 1.
set -u
TW=${1:?usage: $0 PATH_TO_TCPWAVE}
fail() { echo "FAIL: tool_sim: $*" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT

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
echo "tool_sim: ok"
