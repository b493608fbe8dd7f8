#!/usr/bin/env bash
# run.sh -- run the benchmark work on tcpwave, lwIP and Linux and print the table.
# usage: QUICK=0|1 BENCH_BIN=<dir with the harness binaries> bench/run.sh
#
# Wall-clock figures are the median of several runs with their range; instruction counts
# (callgrind) are single runs, being deterministic. Every harness checks its own work
# (bytes delivered, connections closed, TIME_WAIT records held) and fails loudly; a failed
# or missing stack shows as n/a and the run goes on.
set -u
QUICK=${QUICK:-0}
BIN=${BENCH_BIN:?BENCH_BIN must name the directory of the harness binaries}
case "$QUICK" in 0 | 1) ;; *) echo "usage: QUICK=0|1 BENCH_BIN=dir $0" >&2; exit 2 ;; esac
[ $# -eq 0 ] || { echo "usage: QUICK=0|1 BENCH_BIN=dir $0" >&2; exit 2; }

OUT=$BIN/results
mkdir -p "$OUT" "$BIN/callgrind"
VALS=$OUT/values.txt   # "figure stack value" per run
NOTES=$OUT/notes.txt   # "figure stack text" (sizes used, partial runs)
PART=$OUT/partial.txt  # "figure stack": some run of it was cut by its time limit
: >"$VALS"
: >"$NOTES"
: >"$PART"
LOG=$OUT/log.txt
: >"$LOG"
T0=$(date +%s)

have() { [ -x "$BIN/$1" ]; }
val() { echo "$1 $2 $3" >>"$VALS"; }
note() { echo "$1 $2 $3" >>"$NOTES"; }
# kv KEY LINE: the value of KEY=... in LINE
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
label() { # 1000 -> 1k, 100000 -> 100k, 1000000 -> 1m
    awk -v n="$1" 'BEGIN { if (n % 1000000 == 0) printf "%dm", n / 1000000;
        else if (n % 1000 == 0) printf "%dk", n / 1000; else printf "%d", n }'
}

# run STACK BINARY ARGS...: one harness run; its output lines go to $LOG and stdout var R.
run() {
    local stack=$1 bin=$2
    shift 2
    if ! have "$bin"; then
        R=""
        return 1
    fi
    echo "+ $(($(date +%s) - T0))s $bin $*" >>"$LOG"
    if ! R=$("$BIN/$bin" "$@" 2>>"$LOG"); then
        echo "bench: $stack: $bin $* failed (see $LOG)" >&2
        note all "$stack" "failed: $bin $*"
        R=""
        return 1
    fi
    echo "$R" >>"$LOG"
}

lifecycle() { # STACK BIN REPS LIMIT N CP...
    local stack=$1 bin=$2 reps=$3 limit=$4
    shift 4
    for ((r = 0; r < reps; r++)); do
        run "$stack" "$bin" --time-limit "$limit" lifecycle "$@" || return
        while read -r line; do
            case "$line" in
            checkpoint*)
                local n l
                n=$(kv n "$line")
                l=$(label "$n")
                val "lifecycle_$l" "$stack" "$(kv rate "$line")"
                val "scale_tw_$l" "$stack" "$(kv window_ns "$line")"
                ;;
            lifecycle*)
                local t
                t=$(label "$(kv target "$line")")
                if [ "$(kv partial "$line")" = 1 ]; then
                    # Cut by the time limit: the rate over the cycles done stands in for the
                    # figure, marked with * (a lower bound for a stack that slows down).
                    note "lifecycle_$t" "$stack" \
                        "stopped by the ${limit}s limit after $(kv cycles "$line") cycles at $(kv rate "$line")/s"
                    val "lifecycle_$t" "$stack" "$(kv rate "$line")"
                    echo "lifecycle_$t $stack" >>"$PART"
                    echo "lifecycle_cpu_$t $stack" >>"$PART"
                fi
                [ "$stack" != linux ] && val pkts_per_lifecycle "$stack" "$(kv pkts_per_cycle "$line")"
                # Cycles per CPU second over the whole run: robust when the machine is shared.
                val "lifecycle_cpu_$t" "$stack" \
                    "$(awk -v n="$(kv cycles "$line")" -v c="$(kv cpu "$line")" 'BEGIN { printf "%.1f", n / c }')"
                [ "$stack" = linux ] && note lifecycle "$stack" \
                    "TIME_WAIT held at the end: $(kv time_wait "$line") (tcp_max_tw_buckets $(kv tw_max "$line"), netns $(kv netns "$line"))"
                ;;
            esac
        done <<<"$R"
    done
}

# The lifecycle run again with transparent huge pages for every stack (--hugepages, as in
# hold_huge): every lifecycle leaves a TIME_WAIT record for the rest of the run, ~60 bytes
# of memory touched for the first time, and on this VM a 4 KiB first-touch fault (~10 us)
# is a large share of a cycle that takes ~1 us. Rates only; the rows above stay on 4 KiB pages.
lifecycle_huge() { # STACK BIN REPS LIMIT N CP...
    local stack=$1 bin=$2 reps=$3 limit=$4
    shift 4
    for ((r = 0; r < reps; r++)); do
        run "$stack" "$bin" --time-limit "$limit" --hugepages lifecycle "$@" || return
        while read -r line; do
            case "$line" in
            checkpoint*) val "lifecycle_huge_$(label "$(kv n "$line")")" "$stack" "$(kv rate "$line")" ;;
            lifecycle*)
                if [ "$(kv partial "$line")" = 1 ]; then
                    local t
                    t=$(label "$(kv target "$line")")
                    note "lifecycle_huge_$t" "$stack" \
                        "stopped by the ${limit}s limit after $(kv cycles "$line") cycles at $(kv rate "$line")/s"
                    val "lifecycle_huge_$t" "$stack" "$(kv rate "$line")"
                    echo "lifecycle_huge_$t $stack" >>"$PART"
                fi
                ;;
            esac
        done <<<"$R"
    done
}

bulk() { # STACK BIN REPS BYTES
    local stack=$1 bin=$2 reps=$3 bytes=$4
    for ((r = 0; r < reps; r++)); do
        run "$stack" "$bin" bulk "$bytes" || return
        while read -r line; do
            local v st=$stack
            v=$(kv variant "$line")
            [ "$v" = lo-default ] && st=linux_lodefault
            val bulk_gbps "$st" "$(kv gbps "$line")"
            val bulk_gbps_cpu "$st" "$(awk -v c="$(kv cpu "$line")" -v b="$(kv bytes "$line")" \
                'BEGIN { printf "%.3f", b * 8 / c / 1e9 }')"
            val bulk_cpu_s_per_gib "$st" "$(awk -v c="$(kv cpu "$line")" -v b="$(kv bytes "$line")" \
                'BEGIN { printf "%.4f", c * 1073741824 / b }')"
            [ -n "$v" ] && [ "$v" != lo-default ] && note bulk_gbps linux "variant $v, mss $(kv mss "$line")"
        done <<<"$R"
    done
}

mem() { # STACK BIN REPS N (tcpwave and lwIP count exactly; Linux slab readings are noisy)
    local r line
    for ((r = 0; r < $3; r++)); do
        run "$1" "$2" mem "$4" || return
        line=$R
        val mem_established "$1" "$(kv est_per_end "$line")"
        val mem_time_wait "$1" "$(kv tw_per_conn "$line")"
        val mem_syn_rcvd "$1" "$(kv synrcvd_per_entry "$line")"
    done
    note mem "$1" "n=$(kv n "$line")"
    case "$1" in
    tcpwave) note mem_syn_rcvd tcpwave "$(kv synrcvd_entries "$line") entries held (SYN queue), the rest SYN cookies" ;;
    lwip) note mem lwip "sizeof(struct tcp_pcb)=$(kv sizeof_tcp_pcb "$line"), tcp_seg=$(kv memp_tcp_seg "$line")" ;;
    linux) note mem linux "established n=$(kv n_est "$line") (descriptor limit); all slab caches, median of $3 runs; last run per cache: TCP $(kv tcp_slab_per_end "$line")/end, tw_sock $(kv tw_slab_per_conn "$line")/TW, request_sock objsize $(kv req_objsize "$line") ($(kv req_objs "$line") held, SYN_RCVD via TCP_DEFER_ACCEPT)" ;;
    esac
}

hold() { # STACK BIN REPS LIMIT N W (W: lifecycles after the set-up; live() below times them)
    local r line n
    for ((r = 0; r < $3; r++)); do
        run "$1" "$2" --time-limit "$4" hold "$5" "$6" || return
        line=$R
        n=$(kv n "$line")
        val hold_setup_per_s "$1" "$(awk -v n="$n" -v s="$(kv setup_s "$line")" 'BEGIN { printf "%.1f", n / s }')"
        val hold_bytes_per_conn "$1" "$(awk -v n="$n" -v p="$(kv heap_peak "$line")" 'BEGIN { printf "%.1f", p / n }')"
        note hold "$1" "n=$n of $(kv target "$line") (setup $(kv setup_s "$line") s, rss $(kv rss_kb "$line") KiB)$([ "$(kv partial "$line")" = 1 ] && echo ", capped")"
    done
}

# scale_live_N: ns per lifecycle while N idle established connections are held open (hold
# mode: N set up, then W lifecycles timed beside them). Flat means the connection table's
# lookups do not grow with the connections it holds. A run that could not hold all N (the
# descriptor limit, the time limit) gives no figure for N, only a note.
live() { # STACK BIN REPS LIMIT W N...
    local stack=$1 bin=$2 reps=$3 limit=$4 w=$5 r n line
    shift 5
    for n in "$@"; do
        for ((r = 0; r < reps; r++)); do
            run "$stack" "$bin" --time-limit "$limit" hold "$n" "$w" || return
            line=$R
            if [ "$(kv n "$line")" != "$n" ] || [ "$(kv partial "$line")" = 1 ]; then
                note "scale_live_$(label "$n")" "$stack" "held $(kv n "$line") of $n, $(kv w "$line") of $w lifecycles: no figure"
                break
            fi
            val "scale_live_$(label "$n")" "$stack" "$(kv lifecycle_ns "$line")"
        done
    done
}

# The same set-up with transparent huge pages for every stack (--hugepages: glibc's malloc
# with glibc.malloc.hugetlb=1 in every harness, tcpwave's stacks on tw_host_hugemem; the
# kernel's sockets are not affected). Whether the kernel has huge pages to give varies
# from run to run, hence a figure of its own next to hold_setup_per_s.
hold_huge() { # STACK BIN REPS LIMIT N
    local r line n
    for ((r = 0; r < $3; r++)); do
        run "$1" "$2" --time-limit "$4" --hugepages hold "$5" 1 || return
        line=$R
        n=$(kv n "$line")
        val hold_huge_setup_per_s "$1" "$(awk -v n="$n" -v s="$(kv setup_s "$line")" 'BEGIN { printf "%.1f", n / s }')"
        note hold_huge "$1" "n=$n of $(kv target "$line") (setup $(kv setup_s "$line") s, rss $(kv rss_kb "$line") KiB)$([ "$(kv partial "$line")" = 1 ] && echo ", capped")"
    done
}

# callgrind STACK BIN FIGURE DIVISOR ARGS...: instructions in the measured part / DIVISOR.
callgrind() {
    local stack=$1 bin=$2 fig=$3 div=$4
    shift 4
    have "$bin" || return
    command -v valgrind >/dev/null || { note "$fig" "$stack" "valgrind missing"; return; }
    local f=$BIN/callgrind/$stack.$fig
    rm -f "$f" "$f".*
    echo "+ valgrind $bin --callgrind $*" >>"$LOG"
    # glibc's memcpy switches to `rep movsb` above a few KiB, which callgrind counts once
    # per byte; forcing the vector loop for every size keeps large copies (tcpwave copies
    # 64 KiB sends into its ring in one go) from being charged 30x their real cost.
    if ! GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=1000000000 \
        valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$f" \
        "$BIN/$bin" --callgrind "$@" >>"$LOG" 2>&1; then
        note "$fig" "$stack" "callgrind run failed"
        return
    fi
    local ir
    ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$f".1 2>/dev/null | head -1)
    [ -n "$ir" ] && val "$fig" "$stack" "$(awk -v i="$ir" -v d="$div" 'BEGIN { printf "%.1f", i / d }')"
}

# ---- the plan ------------------------------------------------------------------------------
if [ "$QUICK" = 1 ]; then
    # Runs are cut at 1.5 s (hold: 1 s per phase) so that a slow stack or a loaded machine
    # cannot push the whole past a minute; cut runs are marked with * in the table.
    REPS=3
    lifecycle tcpwave tw_bench $REPS 1.5 100000 1000 10000
    lifecycle lwip lwip_bench $REPS 1.5 10000 1000
    lifecycle linux linux_bench $REPS 1.5 10000 1000
    lifecycle_huge tcpwave tw_bench $REPS 1.5 100000 1000 10000
    lifecycle_huge lwip lwip_bench 1 1.5 10000 1000
    lifecycle_huge linux linux_bench 1 1.5 10000 1000
    for s in "tcpwave tw_bench" "lwip lwip_bench" "linux linux_bench"; do bulk $s $REPS 64m; done
    mem tcpwave tw_bench_mem 1 10000
    mem lwip lwip_bench_mem 1 5000
    mem linux linux_bench 3 30000
    hold tcpwave tw_bench_mem 1 1 50000 1
    hold lwip lwip_bench_mem 1 1 5000 1
    hold linux linux_bench 1 1 3000 1
    hold_huge tcpwave tw_bench_mem 1 1 50000
    hold_huge lwip lwip_bench_mem 1 1 5000
    hold_huge linux linux_bench 1 1 3000
    live tcpwave tw_bench 1 1 10000 1000 10000
    live lwip lwip_bench 1 1 500 1000
    live linux linux_bench 1 1 500 1000
    CG_LC=1000 CG_BULK=16
else
    REPS=5
    lifecycle tcpwave tw_bench $REPS 60 1000000 1000 10000 100000
    # lwIP's TIME_WAIT lookups are linear: 100k cycles take about a minute, 1M would take
    # hours, so one 1M run is cut by the time limit and reported as partial.
    lifecycle lwip lwip_bench 3 120 100000 1000 10000
    lifecycle lwip lwip_bench 1 120 1000000 1000 10000 100000
    lifecycle linux linux_bench 3 120 100000 1000 10000
    lifecycle linux linux_bench 1 120 1000000 1000 10000 100000
    lifecycle_huge tcpwave tw_bench $REPS 60 1000000 1000 10000 100000
    lifecycle_huge lwip lwip_bench 1 30 100000 1000 10000
    lifecycle_huge linux linux_bench 1 120 100000 1000 10000
    for s in "tcpwave tw_bench" "lwip lwip_bench" "linux linux_bench"; do bulk $s $REPS 1g; done
    mem tcpwave tw_bench_mem 1 100000
    mem lwip lwip_bench_mem 1 20000
    mem linux linux_bench 5 50000
    # Set-up time depends on how fast the kernel hands out fresh pages on this VM, which
    # varies from run to run: three runs each, median and range.
    hold tcpwave tw_bench_mem 3 120 1000000 1
    hold lwip lwip_bench_mem 3 120 20000 1
    hold linux linux_bench 3 120 9000 1
    hold_huge tcpwave tw_bench_mem 3 120 1000000
    hold_huge lwip lwip_bench_mem 3 120 20000
    hold_huge linux linux_bench 3 120 9000
    live tcpwave tw_bench $REPS 120 100000 1000 10000 100000 1000000
    live lwip lwip_bench 3 120 1000 1000 10000
    live linux linux_bench 3 120 10000 1000
    CG_LC=10000 CG_BULK=256
fi
callgrind tcpwave tw_bench instr_lifecycle $CG_LC lifecycle $CG_LC
callgrind lwip lwip_bench instr_lifecycle $CG_LC lifecycle $CG_LC
callgrind tcpwave tw_bench instr_bulk_kib $((CG_BULK * 1024)) bulk ${CG_BULK}m
callgrind lwip lwip_bench instr_bulk_kib $((CG_BULK * 1024)) bulk ${CG_BULK}m
# Instructions per lifecycle with 1,000 and with 1,000,000 connections held (lwIP: 1,000 and
# 10,000, as far as its linear lists go in reasonable time): flat in instructions, any rise
# of scale_live_N is memory latency. Full run only (the 1M set-up takes a minute here).
if [ "$QUICK" != 1 ]; then
    callgrind tcpwave tw_bench instr_live_1k 10000 hold 1000 10000
    callgrind tcpwave tw_bench instr_live_1m 10000 hold 1000000 10000
    callgrind lwip lwip_bench instr_live_1k 1000 hold 1000 1000
    callgrind lwip lwip_bench instr_live_10k 1000 hold 10000 1000
fi

# ---- the table -------------------------------------------------------------------------------
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo
echo "tcpwave benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs ($CPU), QUICK=$QUICK, $(($(date +%s) - T0)) s"
echo "lwIP: Debian liblwip $(dpkg-query -W -f='${Version}' liblwip-dev 2>/dev/null || echo '?'); Linux $(uname -r)"
echo "wall-clock figures: median [min-max] of the runs; ratio = how many times better tcpwave is (>1: tcpwave ahead)"
echo
awk -v quick="$QUICK" '
FILENAME == ARGV[1] { k = $1 SUBSEP $2; vals[k] = vals[k] " " $3; n[k]++; figs[$1] = 1; next }
FILENAME == ARGV[3] { part[$1 SUBSEP $2] = 1; anypart = 1; next }
FILENAME == ARGV[2] {
    t = $3; for (i = 4; i <= NF; i++) t = t " " $i
    k = $1 SUBSEP $2
    if (index(nt[k], t) == 0) nt[k] = nt[k] (nt[k] ? "; " : "") t
    next
}
function med(k,   a, m, i, j, x) {
    m = split(substr(vals[k], 2), a, " ")
    for (i = 2; i <= m; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > x + 0; j--) a[j + 1] = a[j]; a[j + 1] = x }
    lo[k] = a[1]; hi[k] = a[m]
    return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
function fmt(v) {
    if (v == "") return "n/a"
    v += 0
    if (v >= 1e6) return sprintf("%.3gM", v / 1e6)
    if (v >= 1e4) return sprintf("%.3gk", v / 1e3)
    if (v >= 100) return sprintf("%d", v + 0.5)
    return sprintf("%.3g", v)
}
function raw(v, k) {
    if (v == "") return "n/a"
    v += 0
    return (v >= 100 ? sprintf("%d", v + 0.5) : sprintf("%.3g", v)) ((k in part) ? "*" : "")
}
function cell(k,   m) {
    if (!(k in n)) return "n/a"
    m = med(k); md[k] = m
    return (n[k] > 1 && lo[k] != hi[k] ? fmt(m) " [" fmt(lo[k]) "-" fmt(hi[k]) "]" : fmt(m)) ((k in part) ? "*" : "")
}
function ratio(f, s,   a, b) {
    if (!((f SUBSEP "tcpwave") in md) || !((f SUBSEP s) in md)) return "n/a"
    a = md[f SUBSEP "tcpwave"]; b = md[f SUBSEP s]
    if (a <= 0 || b <= 0) return "n/a"
    return sprintf("%.2f", higher[f] ? a / b : b / a)
}
END {
    split("lifecycle_1k lifecycle_10k lifecycle_100k lifecycle_1m lifecycle_cpu_10k lifecycle_cpu_100k " \
          "lifecycle_cpu_1m lifecycle_huge_1k lifecycle_huge_10k lifecycle_huge_100k lifecycle_huge_1m " \
          "scale_tw_1k scale_tw_10k scale_tw_100k scale_tw_1m " \
          "scale_live_1k scale_live_10k scale_live_100k scale_live_1m pkts_per_lifecycle bulk_gbps bulk_gbps_cpu bulk_cpu_s_per_gib mem_established mem_time_wait mem_syn_rcvd " \
          "hold_setup_per_s hold_huge_setup_per_s hold_bytes_per_conn instr_lifecycle instr_live_1k instr_live_10k instr_live_1m instr_bulk_kib", order, " ")
    unit["lifecycle"] = "cycles/s"; unit["lifecycle_huge"] = "cycles/s"; unit["lifecycle_cpu"] = "cycles/CPU-s"; unit["bulk_gbps_cpu"] = "Gbit/CPU-s"; unit["scale_tw"] = "ns/cycle"; unit["scale_live"] = "ns/cycle"
    unit["pkts_per_lifecycle"] = "packets"; unit["bulk_gbps"] = "Gbit/s"; unit["bulk_cpu_s_per_gib"] = "CPU s/GiB"
    unit["mem_established"] = "B/end"; unit["mem_time_wait"] = "B/conn"; unit["mem_syn_rcvd"] = "B/entry"
    unit["hold_setup_per_s"] = "conns/s"; unit["hold_huge_setup_per_s"] = "conns/s"; unit["hold_bytes_per_conn"] = "B/conn (2 ends)"
    unit["instr_lifecycle"] = "instr/cycle"; unit["instr_live"] = "instr/cycle"; unit["instr_bulk_kib"] = "instr/KiB"
    for (f in figs) { higher[f] = (f ~ /^lifecycle_|^bulk_gbps|^hold_setup|^hold_huge_setup/) }
    printf "%-20s %-16s %-26s %-26s %-26s %8s %8s\n", "figure", "unit", "tcpwave", "lwIP", "Linux", "vs lwIP", "vs Linux"
    for (i = 1; order[i] != ""; i++) {
        f = order[i]
        if (!(f in figs)) continue
        u = f; sub(/_[0-9]+[km]$/, "", u); u = unit[u] ? unit[u] : unit[f]
        c1 = cell(f SUBSEP "tcpwave"); c2 = cell(f SUBSEP "lwip"); c3 = cell(f SUBSEP "linux")
        printf "%-20s %-16s %-26s %-26s %-26s %8s %8s\n", f, u, c1, c2, c3, ratio(f, "lwip"), ratio(f, "linux")
        if ((f SUBSEP "linux_lodefault") in n)
            printf "%-20s %-16s %-26s %-26s %-26s %8s %8s\n", "  (Linux lo default)", u, "", "", cell(f SUBSEP "linux_lodefault"), "", ratio(f, "linux_lodefault")
    }
    if (anypart) print "* some runs were stopped by their time limit before N cycles: rate over the cycles done (notes)"
    print ""
    print "notes:"
    for (k in nt) { split(k, p, SUBSEP); printf "  %s %s: %s\n", p[1], p[2], nt[k] }
    print ""
    for (i = 1; order[i] != ""; i++) {
        f = order[i]
        if (!(f in figs)) continue
        printf "%s tcpwave=%s lwip=%s linux=%s ratio_lwip=%s ratio_linux=%s\n", f, \
            raw(md[f SUBSEP "tcpwave"], f SUBSEP "tcpwave"), raw(md[f SUBSEP "lwip"], f SUBSEP "lwip"), \
            raw(md[f SUBSEP "linux"], f SUBSEP "linux"), ratio(f, "lwip"), ratio(f, "linux")
    }
}' "$VALS" "$NOTES" "$PART"
