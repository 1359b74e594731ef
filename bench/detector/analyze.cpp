// Replays recorded heartbeat traces through vigil's detectors (the same code vigild runs) and
// measures their quality as Chen, Toueg and Aguilera define it, for a range of thresholds:
//   T_D   detection time: from a crash right after a heartbeat to the (permanent) suspicion;
//         here, for every heartbeat, from that heartbeat to the detector's deadline;
//   T_MR  mistake recurrence time: mean time between two wrong suspicions of a live process;
//   T_M   mistake duration: how long a wrong suspicion lasts (until the late beat arrives).
// Usage: detector_analyze [--json FILE] TRACE...
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "detection/phi_accrual.hpp"

using namespace std::chrono_literals;
using vigil::Duration;
using vigil::TimePoint;

namespace {

struct Quality {
  std::string detector;
  double threshold = 0;
  std::uint64_t heartbeats = 0;
  std::uint64_t mistakes = 0;
  double observed_s = 0;
  std::vector<double> detection_ms;
  std::vector<double> mistake_ms;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double k = (static_cast<double>(v.size()) - 1) * p / 100.0;
  const auto lo = static_cast<std::size_t>(k);
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (k - static_cast<double>(lo));
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

TimePoint at(std::int64_t ns) {
  return TimePoint(std::chrono::nanoseconds(ns));
}

// `deadline(previous_index)` gives when the detector would suspect after beat i.
template <typename Deadline, typename Learn>
void replay(const std::vector<std::int64_t>& trace, Quality& q, Deadline deadline, Learn learn) {
  for (std::size_t i = 0; i + 1 < trace.size(); ++i) {
    const TimePoint d = deadline(i);
    const TimePoint next = at(trace[i + 1]);
    q.detection_ms.push_back(std::chrono::duration<double, std::milli>(d - at(trace[i])).count());
    if (next > d) {
      ++q.mistakes;
      q.mistake_ms.push_back(std::chrono::duration<double, std::milli>(next - d).count());
    }
    learn(i + 1);
    ++q.heartbeats;
  }
  if (trace.size() > 1) q.observed_s += static_cast<double>(trace.back() - trace.front()) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  std::string json_path;
  std::vector<std::vector<std::int64_t>> traces;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json" && i + 1 < argc) {
      json_path = argv[++i];
      continue;
    }
    std::ifstream in(a, std::ios::binary);
    std::vector<std::int64_t> t;
    std::int64_t v = 0;
    while (in.read(reinterpret_cast<char*>(&v), sizeof v)) t.push_back(v);
    if (t.size() > 1) traces.push_back(std::move(t));
  }
  if (traces.empty()) {
    std::fprintf(stderr, "usage: detector_analyze [--json FILE] TRACE...\n");
    return 64;
  }
  std::vector<Quality> results;
  for (double timeout_ms : {150.0, 200.0, 300.0, 500.0, 1000.0}) {
    Quality q{"fixed", timeout_ms};
    for (const auto& t : traces) {
      const Duration timeout = std::chrono::duration_cast<Duration>(
          std::chrono::duration<double, std::milli>(timeout_ms));
      replay(
          t, q, [&](std::size_t i) { return at(t[i]) + timeout; }, [](std::size_t) {});
    }
    results.push_back(std::move(q));
  }
  for (double phi : {1.0, 2.0, 3.0, 5.0, 8.0, 10.0, 12.0, 16.0}) {
    Quality q{"phi", phi};
    for (const auto& t : traces) {
      // vigild's defaults for a 10 Hz component: window 1000, min_std 50ms.
      vigil::detection::PhiAccrualDetector d(
          {.window = 1000, .min_std = 50ms, .expected_interval = 100ms});
      d.reset(at(t[0]));
      replay(
          t, q, [&](std::size_t) { return d.when_phi_reaches(phi); },
          [&](std::size_t i) { d.heartbeat(at(t[i])); });
    }
    results.push_back(std::move(q));
  }
  std::vector<double> intervals;
  for (const auto& t : traces) {
    for (std::size_t i = 1; i < t.size(); ++i) intervals.push_back((t[i] - t[i - 1]) / 1e6);
  }
  std::uint64_t beats = 0;
  for (const auto& t : traces) beats += t.size();
  fmt::print(
      "{} traces, {} heartbeats; inter-arrival ms: p50 {:.1f}, p99 {:.1f}, p99.99 {:.1f}, "
      "max {:.1f}\n\n",
      traces.size(), beats, percentile(intervals, 50), percentile(intervals, 99),
      percentile(intervals, 99.99), *std::max_element(intervals.begin(), intervals.end()));
  fmt::print("{:<8} {:>9} {:>10} {:>10} {:>10} {:>9} {:>14} {:>10}\n", "detector", "threshold",
             "T_D mean", "T_D p99", "T_D max", "mistakes", "T_MR", "T_M mean");
  nlohmann::json out = nlohmann::json::array();
  for (const auto& q : results) {
    const double tmr = q.mistakes == 0 ? 0 : q.observed_s / static_cast<double>(q.mistakes);
    fmt::print(
        "{:<8} {:>9} {:>8.0f}ms {:>8.0f}ms {:>8.0f}ms {:>9} {:>14} {:>8.1f}ms\n", q.detector,
        q.detector == "fixed" ? fmt::format("{:g}ms", q.threshold)
                              : fmt::format("{:g}", q.threshold),
        mean(q.detection_ms), percentile(q.detection_ms, 99),
        q.detection_ms.empty() ? 0.0
                               : *std::max_element(q.detection_ms.begin(), q.detection_ms.end()),
        q.mistakes,
        q.mistakes == 0 ? fmt::format("> {:.0f}s", q.observed_s) : fmt::format("{:.1f}s", tmr),
        mean(q.mistake_ms));
    out.push_back({{"detector", q.detector},
                   {"threshold", q.threshold},
                   {"heartbeats", q.heartbeats},
                   {"td_mean_ms", mean(q.detection_ms)},
                   {"td_p99_ms", percentile(q.detection_ms, 99)},
                   {"mistakes", q.mistakes},
                   {"observed_s", q.observed_s},
                   {"tmr_s", tmr},
                   {"tm_mean_ms", mean(q.mistake_ms)}});
  }
  if (!json_path.empty()) std::ofstream(json_path) << out.dump(2) << "\n";
  return 0;
}
