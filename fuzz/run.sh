#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 60).
# CI runs this for a short time; for a real campaign: fuzz/run.sh 3600
# New inputs go to build-fuzz/corpus/TARGET (seeded from fuzz/corpus/TARGET); crashes are
# written to build-fuzz/crashes/ and fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
CXX=clang++ cmake -S . -B build-fuzz -DVIGIL_FUZZ=ON -DVIGIL_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j2 --target fuzz_notify_message fuzz_config_loader fuzz_control_protocol fuzz_http_request \
  fuzz_mode_rule fuzz_mode_file
mkdir -p build-fuzz/crashes
for target in notify_message config_loader control_protocol http_request mode_rule mode_file; do
  corpus=build-fuzz/corpus/$target
  mkdir -p "$corpus"
  cp -n fuzz/corpus/$target/* "$corpus"/ 2>/dev/null || true
  echo "fuzz: $target for ${seconds}s"
  build-fuzz/bin/fuzz_$target "$corpus" -max_total_time="$seconds" -max_len=8192 \
    -timeout=10 -rss_limit_mb=2048 -artifact_prefix=build-fuzz/crashes/$target- \
    -print_final_stats=1 2>&1 | grep -E "^(stat::number_of_executed_units|stat::new_units_added|==|SUMMARY)" || true
  if ls build-fuzz/crashes/$target-* >/dev/null 2>&1; then
    echo "fuzz: $target found a crash: $(ls build-fuzz/crashes/$target-*)" >&2
    exit 1
  fi
done
