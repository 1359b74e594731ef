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
  cyclonedds-dev cyclonedds-tools  # DDS: ROS 2 /diagnostics; idlc, ddsperf
  tmux prometheus prometheus-alertmanager  # tests: vigil top, a real scraper and Alertmanager
  chromium  # the dashboard's end-to-end test (driven by playwright-core)
  iproute2 nftables  # `vigil chaos partition|packet-loss`, and their tests in a network namespace
)
# Node.js for the dashboard's npm packages and its browser test: Debian's, unless a node is
# already installed (e.g. from NodeSource, whose npm Debian's package would conflict with).
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
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

# The dashboard's chart library (web/) and the browser test's driver (tests/e2e/), pinned by
# their lockfiles; installed again only when the lockfile changed.
repo=$(cd "$(dirname "$0")/.." && pwd)
for dir in web tests/e2e; do
  lock="$repo/$dir/package-lock.json"
  stamp="$repo/$dir/node_modules/.package-lock.json"
  if [[ ! -f $stamp || $lock -nt $stamp ]]; then
    echo "setup-deps: npm ci in $dir"
    (cd "$repo/$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
