#!/bin/sh
# ctest driver: compile tests/libvigil/consumer/main.cpp with `pkg-config --cflags --libs vigil`
# against an installed libvigil in PREFIX, then run it.
set -eu
prefix=$1 build=$2 cxx=$3
here=$(cd "$(dirname "$0")" && pwd)
pc=$(find "$prefix" -name vigil.pc -print | head -n 1)
[ -n "$pc" ] || { echo "no vigil.pc under $prefix" >&2; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")"
rm -rf "$build" && mkdir -p "$build"
flags=$(pkg-config --cflags --libs vigil)
echo "pkg-config --cflags --libs vigil: $flags"
# shellcheck disable=SC2086
"$cxx" -std=c++17 "$here/main.cpp" -o "$build/consumer" $flags
"$build/consumer"
