#!/bin/bash
# The impairment sweep (README, "Impairment sweep"): every point of sim_sweep_points.txt
# (NAME|tcpwave sim arguments; "--runs-cap N" bounds the runs of a costly point) run by
# `tcpwave sim -q` with RUNS seeded runs from SEED, one summary line a point (failures
# with their repro lines indented below it).
#   scripts/sim_sweep.sh [BIN [RUNS [SEED [OUT|- [NAME-REGEX]]]]]
#   e.g. scripts/sim_sweep.sh build-asan/tcpwave 300 1160001 /tmp/sweep-asan.txt 'corrupt|ecn'
BIN=${1:-build/tcpwave}; RUNS=${2:-1000}; SEED=${3:-1150001}; OUT=${4:--}; F=${5:-.}
POINTS=$(dirname "$0")/sim_sweep_points.txt
if [ "$OUT" = - ]; then exec 3>&1; else exec 3>"$OUT"; fi
while IFS='|' read -r name args; do
  [[ -z "$name" || "$name" =~ ^# ]] && continue
  echo "$name" | grep -qE "$F" || continue
  r=$RUNS
  if [[ "$args" == *--runs-cap* ]]; then
    cap=$(echo "$args" | sed 's/.*--runs-cap \([0-9]*\).*/\1/')
    args=$(echo "$args" | sed 's/--runs-cap [0-9]*//')
    (( r > cap )) && r=$cap
  fi
  tl="--time-limit 600"; [[ "$args" == *--time-limit* ]] && tl=""
  # shellcheck disable=SC2086
  out=$(timeout 600 "$BIN" sim --runs "$r" --seed "$SEED" -q $tl $args 2>&1); rc=$?
  sum=$(echo "$out" | grep -E '^[0-9]+ passed' | tail -1)
  med=$(echo "$out" | grep -o 'median [0-9.]* s' | head -1)
  mx=$(echo "$out" | grep -o 'max [0-9.]* s' | head -1)
  printf "%-28s rc=%d %-22s %-16s %-16s | %s\n" "$name" $rc "$sum" "$med" "$mx" "$args" >&3
  if [[ $rc -ne 0 ]]; then echo "$out" | grep -v '^virtual' | head -20 | sed 's/^/    /' >&3; fi
done < "$POINTS"
