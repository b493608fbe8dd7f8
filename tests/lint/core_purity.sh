#!/usr/bin/env bash
# Core purity (STYLE 7.14): the sans-I/O core calls no clock, makes no syscall and has no
# writable globals. Checked on the built archive libtwcore.a and on the sources.
# usage: core_purity.sh <libtwcore.a> <source dir>
set -u
lib=$1
src=$2
fail=0
if [ ! -f "$lib" ]; then
    echo "core_purity: $lib not found" >&2
    exit 1
fi
# 1. Undefined symbols must come from an allow-list: memory functions, assert, the
#    toolchain's helpers (and sanitizer hooks in sanitized builds). __cpu_model and
#    __cpu_features2 are the toolchain's CPU description that __builtin_cpu_supports reads
#    (cksum.c picks its AVX2 loop with it): read-only data filled in before main, no call.
allowed='^(memcpy|memmove|memset|memcmp|strcmp|strlen|malloc|free|__assert_fail|__stack_chk_fail|__memcpy_chk|__memset_chk|__memmove_chk|_GLOBAL_OFFSET_TABLE_|__cpu_model|__cpu_features2|__asan_.*|__ubsan_.*|__sanitizer_.*|__tsan_.*)$'
defined=$(nm --defined-only "$lib" | awk 'NF == 3 {print $3}' | sort -u)
undef=$(nm -u "$lib" | awk 'NF >= 2 {print $2}' | sort -u | comm -23 - <(echo "$defined"))
bad=$(echo "$undef" | grep -vE "$allowed" | grep -v '^$' || true)
if [ -n "$bad" ]; then
    echo "core_purity: core calls outside the allow-list:" >&2
    echo "$bad" | sed 's/^/  /' >&2
    fail=1
fi
# 2. No writable data symbols (B/b = bss, D/d = data); read-only tables (R/r) are fine.
#    Sanitizer builds add their own instrumentation data, so this check needs a plain build.
#    Tables of const pointers land in .data.rel.ro (relocated once, then read-only): fine.
if ! nm "$lib" | grep -q '__asan_'; then
    writable=$(objdump -t "$lib" | awk '$0 ~ /[ \t](\.data|\.bss)[^ \t]*[ \t]/ && $0 !~ /\.data\.rel\.ro/ && $NF !~ /^\./ {print $NF}' | sort -u || true)
    if [ -n "$writable" ]; then
        echo "core_purity: writable globals in core:" >&2
        echo "$writable" | sed 's/^/  /' >&2
        fail=1
    fi
fi
# 3. Only standard C headers in src/core and src/api.
hdrs=$(grep -hoE '#include *<[^>]+>' "$src"/core/*.[ch] "$src"/api/*.[ch] | sed -E 's/#include *<([^>]+)>/\1/' | sort -u)
for h in $hdrs; do
    case "$h" in
        stdint.h|stddef.h|stdbool.h|string.h|limits.h|assert.h|stdlib.h) ;;
        *) echo "core_purity: src/core or src/api includes <$h>" >&2; fail=1 ;;
    esac
done
# stdlib.h only for the default allocator.
other=$(grep -lE '#include *<stdlib.h>' "$src"/core/*.[ch] "$src"/api/*.[ch] | grep -v '/core/mem.c$' || true)
if [ -n "$other" ]; then
    echo "core_purity: <stdlib.h> outside core/mem.c: $other" >&2
    fail=1
fi
if [ $fail = 0 ]; then
    echo "core_purity: ok (external symbols: $(echo $undef))"
fi
exit $fail
