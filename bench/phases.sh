#!/usr/bin/env bash
# phases.sh -- where one lifecycle's instructions go, step by step (callgrind, exact).
# usage: BENCH_BIN=<dir with tw_bench_phases> bench/phases.sh
#
# tw_bench_phases is tw_bench with a callgrind dump after each step of lifecycle 5,000 of
# 10,000 (tw_bench.c, BENCH_PHASES): the client's opening calls, then each packet as it is
# delivered (the receiving stack's work, with the segments it sends back at once), then the
# application's reaction to it (its calls and what they send). Each step's count has the
# cost of a dump taken alone (measured first) removed.
set -u
BIN=${BENCH_BIN:?BENCH_BIN must name the directory of tw_bench_phases}
[ $# -eq 0 ] || { echo "usage: BENCH_BIN=dir $0" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "phases.sh: valgrind is needed" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# (glibc's memcpy as in run.sh: callgrind counts a `rep movsb` once)
GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=1000000000 \
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$dir/cg" \
    "$BIN/tw_bench_phases" --callgrind lifecycle 10000 >"$dir/log" 2>&1 ||
    { echo "phases.sh: the run failed:" >&2; cat "$dir/log" >&2; exit 1; }
for f in $(ls "$dir"/cg.* | awk -F. '{print $NF "\t" $0}' | sort -n | cut -f2); do
    desc=$(sed -n 's/^desc: Trigger: Client Request: //p' "$f" | head -1)
    total=$(sed -n 's/^\(summary\|totals\): *//p' "$f" | head -1)
    printf '%s\t%s\n' "${total:-0}" "$desc"
done | awk -F'\t' '
    $2 == "(before)" || $2 == "(naming)" || $2 == "measured" { next }
    $2 == "(a dump alone)" { base = $1; next }
    { n = $1 - base; if (n < 0) n = 0; sum += n; printf "%8d  %s\n", n, $2 }
    END { printf "%8d  the steps together (instr_lifecycle, the whole loop over cycles, adds the\n          harness between steps: its delivery loop and done checks)\n", sum }'
