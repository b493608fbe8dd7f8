#!/bin/sh
# run_fuzz.sh -- build the fuzzers with clang, replay the regressions, fuzz briefly.
# usage: run_fuzz.sh <source dir> <output dir> <seconds per fuzzer>
#
# regressions/<target>/*       reproducers of fixed bugs: each must now run clean;
# regressions/<target>/open/*  reproducers of reported, still open bugs: each must still
#                              fail (when one passes, the bug is fixed: move the file up
#                              to regressions/<target>/ and drop its line in known_open);
# known_open                   the harness checks those open bugs trip (FUZZ_IGNORE), so
#                              the short run looks for new bugs rather than known ones.
set -u
if [ $# -ne 3 ]; then
    echo "usage: $0 <source dir> <output dir> <seconds per fuzzer>" >&2
    exit 2
fi
src=$1 out=$2 secs=$3
here=$(cd "$(dirname "$0")" && pwd)
targets="fuzz_input fuzz_opts fuzz_script fuzz_script_run"

command -v clang >/dev/null 2>&1 || { echo "SKIP: clang is not installed (scripts/deps.sh fuzz)"; exit 77; }
mkdir -p "$out"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$out/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined "$out/probe.c" -o "$out/probe" >"$out/probe.log" 2>&1; then
    echo "SKIP: clang cannot link a libFuzzer binary (libclang-rt-14-dev missing?):"
    cat "$out/probe.log"
    exit 77
fi

ignore=$(sed -e 's/#.*//' "$here/known_open" 2>/dev/null | awk 'NF {print $1}' | paste -sd, -)
echo "known open bugs (checks ignored in the fuzz run): ${ignore:-none}"

make -s -C "$src/fuzz" OUT="$out" build -j2 || { echo "FAIL: fuzzers do not build"; exit 1; }
[ -x "$out/fuzz_script" ] || echo "NOTE: fuzz_script not built: src/script/parse.c is not there"

status=0
for t in $targets; do
    [ -x "$out/$t" ] || continue
    fixed=$(find "$here/regressions/$t" -maxdepth 1 -type f ! -name '*.md' 2>/dev/null | sort)
    for f in $fixed; do
        if ! FUZZ_IGNORE="$ignore" "$out/$t" -runs=1 -artifact_prefix="$out/replay-" "$f" >"$out/replay.log" 2>&1; then
            echo "FAIL: regression $t/$(basename "$f") crashes again:"
            grep -E "fuzz_|ERROR|SUMMARY|runtime error" "$out/replay.log" | head -20
            status=1
        fi
    done
    for f in $(find "$here/regressions/$t/open" -type f ! -name '*.md' 2>/dev/null | sort); do
        if "$out/$t" -runs=1 -artifact_prefix="$out/replay-" "$f" >"$out/replay.log" 2>&1; then
            echo "FAIL: open bug $t/open/$(basename "$f") no longer reproduces: if it is" \
                 "fixed, move the file to regressions/$t/ and remove its check from known_open"
            status=1
        else
            echo "open bug still reproduces: $t/open/$(basename "$f")"
        fi
    done
done

# The runner's seeds are the suite's own scripts (flattened: libFuzzer reads one level).
mkdir -p "$out/seed/fuzz_script_run"
find "$src/tests/scripts" -name '*.pkt' | while read -r f; do
    cp "$f" "$out/seed/fuzz_script_run/$(echo "${f#"$src"/tests/scripts/}" | tr / _)"
done

for t in $targets; do
    [ -x "$out/$t" ] || continue
    mkdir -p "$out/corpus/$t" "$out/artifacts/$t"
    seed="$src/fuzz/corpus/$t"
    [ -d "$seed" ] || seed="$out/seed/$t"
    FUZZ_IGNORE="$ignore" "$out/$t" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/$t/" \
        "$out/corpus/$t" "$seed" >"$out/$t.log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log" | tail -1)
    if [ $rc -ne 0 ]; then
        echo "FAIL: $t found a bug after ${execs:-?} executions (log $out/$t.log):"
        grep -E "fuzz_|ERROR|SUMMARY|runtime error|Test unit written" "$out/$t.log" | head -20
        status=1
    else
        echo "$t: ${execs:-?} executions in ${secs}s without a finding"
    fi
done
exit $status
