// The metric history at its design load: 100 components x 6 series recorded every second
// for an hour of simulated ticks (plus the host's 4 series), one flush per tick, as vigild
// does. Prints the cost of a tick (record + flush) and the size of the database.
//
//   history_bench [DIR] [TICKS] [IDLE_MS]
//
// Defaults: a temporary directory, 3600 ticks, 0 ms idle between ticks. Back to back, the
// WAL checkpoint thread never finds the writer idle, so the writer checkpoints itself now and
// then (the worst case); with IDLE_MS > 0 the ticks are paced more like vigild's (1 s apart).
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "history/metric_history.hpp"

namespace fs = std::filesystem;
using namespace std::chrono;
using vigil::history::MetricHistory;
using vigil::history::SeriesKey;

namespace {

std::uintmax_t size_of(const fs::path& dir) {
  std::uintmax_t total = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path dir =
      argc > 1 ? fs::path(argv[1])
               : fs::temp_directory_path() / ("vigil-history-bench-" + std::to_string(::getpid()));
  const int ticks = argc > 2 ? std::stoi(argv[2]) : 3600;
  const int idle_ms = argc > 3 ? std::stoi(argv[3]) : 0;
  fs::create_directories(dir);
  fs::remove(dir / "metrics.db");
  fs::remove(dir / "metrics.db-wal");
  fs::remove(dir / "metrics.db-shm");

  auto opened = MetricHistory::open((dir / "metrics.db").string(), vigil::config::HistorySpec{});
  if (!opened) {
    std::fprintf(stderr, "%s\n", opened.error().c_str());
    return 1;
  }
  auto& history = **opened;
  const char* names[] = {"cpu_percent",           "rss_bytes", "threads", "fds",
                         "heartbeat_interval_ms", "phi"};
  std::vector<SeriesKey> keys;
  for (int c = 0; c < 100; ++c) {
    for (const char* n : names) keys.push_back({"component_" + std::to_string(c), n});
  }
  for (const char* n :
       {"cpu_percent", "memory_available_percent", "disk_available_percent", "load"}) {
    keys.push_back({"host", n});
  }

  // Simulated wall time, starting on a whole second plus some jitter like a real timer.
  const std::int64_t start_us = 1'800'000'000'000'000;
  auto thread_cpu_us = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
  };
  std::vector<double> tick_us;
  tick_us.reserve(ticks);
  double cpu_us = 0;
  for (int t = 0; t < ticks; ++t) {
    const std::int64_t now = start_us + std::int64_t{t} * 1'000'000 + 1'500;
    if (idle_ms > 0) std::this_thread::sleep_for(milliseconds(idle_ms));
    const auto begin = steady_clock::now();
    const double cpu_begin = thread_cpu_us();
    for (std::size_t k = 0; k < keys.size(); ++k) {
      // Realistic-looking values: integral (RSS, fds) and fractional (cpu, phi).
      const double v = (k % 6 == 1) ? 100e6 + 4096.0 * ((t * 7 + k) % 1000)
                                    : std::round((std::sin(t * 0.01 + k) + 1) * 500) / 10;
      history.record(keys[k], now, v);
    }
    if (auto r = history.flush(now); !r) {
      std::fprintf(stderr, "%s\n", r.error().c_str());
      return 1;
    }
    tick_us.push_back(duration<double, std::micro>(steady_clock::now() - begin).count());
    cpu_us += thread_cpu_us() - cpu_begin;
  }
  const auto prune_begin = steady_clock::now();
  if (auto r = history.prune(start_us + std::int64_t{ticks} * 1'000'000); !r) {
    std::fprintf(stderr, "%s\n", r.error().c_str());
    return 1;
  }
  const double prune_ms = duration<double, std::milli>(steady_clock::now() - prune_begin).count();

  const auto query_begin = steady_clock::now();
  auto q = history.query("component_42", "rss_bytes", start_us, 0, 600);
  const double query_ms = duration<double, std::milli>(steady_clock::now() - query_begin).count();

  std::vector<double> sorted = tick_us;
  std::sort(sorted.begin(), sorted.end());
  double sum = 0;
  for (double v : tick_us) sum += v;
  std::printf("series: %zu, ticks: %d (1 s of simulated time each), %d ms idle between\n",
              keys.size(), ticks, idle_ms);
  std::printf(
      "tick (record + flush), wall: mean %.0f us, median %.0f us, p99 %.0f us, max %.0f us; "
      "CPU of the calling thread: mean %.0f us\n",
      sum / ticks, sorted[sorted.size() / 2], sorted[sorted.size() * 99 / 100], sorted.back(),
      cpu_us / ticks);
  std::printf("prune: %.1f ms; query 1 h of one series at 600 points: %.2f ms (%zu points)\n",
              prune_ms, query_ms, q ? q->points.size() : 0);
  auto mib = [&](const char* name) {
    std::error_code ec;
    const auto size = fs::file_size(dir / name, ec);
    return ec ? 0.0 : static_cast<double>(size) / (1024.0 * 1024.0);
  };
  std::printf("metrics.db %.1f MiB + WAL %.1f MiB (all files: %.1f MiB) in %s\n", mib("metrics.db"),
              mib("metrics.db-wal"), static_cast<double>(size_of(dir)) / (1024.0 * 1024.0),
              dir.c_str());
  if (argc <= 1) fs::remove_all(dir);
  return 0;
}
