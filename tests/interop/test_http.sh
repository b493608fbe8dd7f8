#!/usr/bin/env bash
# curl (the kernel's TCP) -> `tcpwave http`: the generated page, a small file, 1 MiB and
# 100 MiB bodies checked by sha256, HEAD, 404, and keep-alive (several requests on one
# connection, counted from the capture). Issue 4; SPEC S1-S3, S10-S14, D1.
NEEDS="curl socat"
. "$(dirname "$0")/lib.sh" "$@"

mkdir -p "$WORK/www"
printf 'hello from tcpwave\n' >"$WORK/www/small.txt"
head -c 1048576 /dev/urandom >"$WORK/www/1M.bin"
head -c 104857600 /dev/urandom >"$WORK/www/100M.bin"

# Headers are enough for the judge; a 100 MiB capture of whole packets is not needed.
start_capture 160
tw_serve http http 8080 "$WORK/www"
URL="http://$STACK:8080"
C="timeout 120 curl -sS --fail"

nsx $C "$URL/" -o "$WORK/page.html" || fail "GET / failed"
grep -q "tcpwave" "$WORK/page.html" || fail "generated page lacks its title"
grep -q "ESTABLISHED" "$WORK/page.html" || fail "generated page lacks the connection state"

nsx $C "$URL/small.txt" -o "$WORK/small.got" || fail "GET small.txt failed"
same_file "$WORK/www/small.txt" "$WORK/small.got" "small.txt"

nsx $C "$URL/1M.bin" -o "$WORK/1M.got" || fail "GET 1M.bin failed"
same_file "$WORK/www/1M.bin" "$WORK/1M.got" "1 MiB body"

nsx $C "$URL/100M.bin" -o "$WORK/100M.got" || fail "GET 100M.bin failed"
same_file "$WORK/www/100M.bin" "$WORK/100M.got" "100 MiB body"
rm -f "$WORK/100M.got"

# HEAD: the length of the file, no body.
nsx timeout 30 curl -sS -I "$URL/1M.bin" >"$WORK/head.txt" || fail "HEAD failed"
grep -qi "^content-length: 1048576" "$WORK/head.txt" || fail "HEAD: wrong Content-Length: $(cat "$WORK/head.txt")"

# 404 for a missing file, and no escaping the directory.
code=$(nsx timeout 30 curl -sS -o /dev/null -w '%{http_code}' "$URL/nope.txt")
[ "$code" = 404 ] || fail "missing file gave $code, not 404"
code=$(nsx timeout 30 curl -sS --path-as-is -o /dev/null -w '%{http_code}' "$URL/../../etc/passwd")
[ "$code" = 400 ] || fail "path with .. gave $code, not 400"

# Another method: 405 with the Allow header RFC 9110 15.5.6 requires, with or without a
# body (a body it does not read closes the connection; it used to be a 400).
nsx timeout 30 curl -sS -i -X POST "$URL/small.txt" >"$WORK/post.txt"
grep -q "^HTTP/1.1 405" "$WORK/post.txt" && grep -qi "^allow: GET, HEAD" "$WORK/post.txt" ||
    fail "POST: $(head -n 8 "$WORK/post.txt")"
nsx timeout 30 curl -sS -i -X PUT --data abc "$URL/small.txt" >"$WORK/put.txt"
grep -q "^HTTP/1.1 405" "$WORK/put.txt" && grep -qi "^allow: GET, HEAD" "$WORK/put.txt" &&
    grep -qi "^connection: close" "$WORK/put.txt" || fail "PUT with a body: $(head -n 8 "$WORK/put.txt")"

# A request whose lines end in a bare LF, as printf | nc sends it (RFC 9112 2.2 MAY): it
# went unanswered.
printf 'GET /small.txt HTTP/1.0\n\n' | nsx timeout 30 socat -t 5 - TCP:$STACK:8080 >"$WORK/lf.txt"
grep -q "^HTTP/1.1 200" "$WORK/lf.txt" || fail "LF-only request: $(head -n 3 "$WORK/lf.txt")"

# Keep-alive: three requests in one curl run share one connection.
nsx timeout 60 curl -sS --fail -v "$URL/small.txt" -o "$WORK/k1" "$URL/1M.bin" -o "$WORK/k2" \
    "$URL/small.txt" -o "$WORK/k3" 2>"$WORK/keepalive.log" || fail "keep-alive requests failed"
same_file "$WORK/www/small.txt" "$WORK/k1" "keep-alive 1"
same_file "$WORK/www/1M.bin" "$WORK/k2" "keep-alive 2"
same_file "$WORK/www/small.txt" "$WORK/k3" "keep-alive 3"
reused=$(grep -c "Re-using existing connection" "$WORK/keepalive.log")
[ "$reused" = 2 ] || fail "curl re-used the connection $reused times, expected 2"

kill -TERM "$TW_PID"
wait_exit "$TW_PID" 10
[ "$RC" = 0 ] || fail "tcpwave http exit status $RC"
grep -q "13 requests served" "$WORK/http.err" || fail "server summary: $(tail -n 1 "$WORK/http.err")"

judge
# One SYN per client connection: 10 curl runs, the last with three requests, and socat.
syns=$(count 'syn && !ack && dport == 8080')
[ "$syns" = 11 ] || fail "expected 11 connections in the capture, saw $syns"
note "ok: page, small, 1 MiB, 100 MiB (sha256), HEAD, 404, 400, 405, LF-only request, keep-alive x3 on one connection"
