#!/usr/bin/env bash
# Install libtcpwave into a temporary prefix and build examples/hello.c against the
# installed library with pkg-config, as a user would; then run it.
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pc=$(find "$tmp/prefix" -name tcpwave.pc -print -quit)
export PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(pkg-config --variable=libdir tcpwave)
cc -std=c11 -Wall -Wextra -Werror "$src/examples/hello.c" $(pkg-config --cflags --libs tcpwave) \
    -Wl,-rpath,"$libdir" -o "$tmp/hello"
"$tmp/hello"
# The static library alone must link too.
cc -std=c11 "$src/examples/hello.c" $(pkg-config --cflags tcpwave) "$libdir/libtcpwave.a" -o "$tmp/hello_static"
"$tmp/hello_static" >/dev/null
echo "install_example: ok"
