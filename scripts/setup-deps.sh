#!/usr/bin/env bash
# Installs the Debian packages vigil needs to build and test, only those missing.
# Usage: scripts/setup-deps.sh [--bench]   (--bench adds the peers bench/ compares against)
set -euo pipefail
packages=(
  g++ cmake make pkg-config
  libyaml-cpp-dev libasio-dev libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev
  libsqlite3-dev libsystemd-dev libgtest-dev libgmock-dev
  clang libclang-rt-14-dev sqlite3
  elfutils  # eu-stack: the stacks of a hung component's threads
  libcpp-httplib-dev libncurses-dev ccache
  tmux prometheus prometheus-alertmanager  # tests: vigil top, a real scraper and Alertmanager
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(runit s6 supervisor python3 stress-ng)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup-deps: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
