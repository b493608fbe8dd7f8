#!/usr/bin/env bash
# Install the Debian packages tcpwave needs for a target, or say exactly what to run.
# usage: scripts/deps.sh build|test|demo|bench|fuzz
set -u
target=${1:-test}
pkgs="cmake gcc make pkg-config libcmocka-dev libpcap-dev"
case "$target" in
    build|demo) pkgs="$pkgs iproute2" ;;
    test) pkgs="$pkgs iproute2 nftables curl socat tcpdump tshark python3 clang libclang-rt-14-dev" ;;
    bench) pkgs="$pkgs liblwip-dev valgrind" ;;
    fuzz) pkgs="$pkgs clang libclang-rt-14-dev" ;;
esac
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "tcpwave: missing packages:$missing" >&2
    echo "run: sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "tcpwave: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null || {
    echo "tcpwave: apt-get install$missing failed" >&2; exit 1; }
