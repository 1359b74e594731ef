#!/bin/sh
# ctest driver: compile tests/libvigil/consumer_dds/main.cpp with
# `pkg-config --cflags --libs vigil-dds` against an installed libvigil in PREFIX, then run it
# on loopback DDS.
set -eu
prefix=$1 build=$2 cxx=$3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
pc=$(find "$prefix" -name vigil-dds.pc -print | head -n 1)
[ -n "$pc" ] || { echo "no vigil-dds.pc under $prefix" >&2; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")"
rm -rf "$build" && mkdir -p "$build"
flags=$(pkg-config --cflags --libs vigil-dds)
echo "pkg-config --cflags --libs vigil-dds: $flags"
# shellcheck disable=SC2086
"$cxx" -std=c++17 "$here/main.cpp" -o "$build/consumer_dds" $flags
CYCLONEDDS_URI="file://$repo/dds/cyclonedds-loopback.xml" ROS_DOMAIN_ID=222 "$build/consumer_dds"
