// An example component built on libvigil: it restores a counter from its checkpoint, reports
// READY=1, heartbeats from a background thread (WATCHDOG_USEC from vigild), and counts in a
// watched loop, checkpointing every step. Killed with -9 and restarted, it continues counting
// where it was.
//
//   libvigil_example --checkpoint DIR/counter [--period 20ms-as-usec] [--max N]
#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "vigil/vigil.hpp"

namespace {

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) {
  stop_requested = 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string checkpoint_path;
  long period_ms = 20;
  std::uint64_t max_count = 0;  // 0: forever
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--checkpoint") == 0)
      checkpoint_path = argv[i + 1];
    else if (std::strcmp(argv[i], "--period-ms") == 0)
      period_ms = std::strtol(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--max") == 0)
      max_count = std::strtoull(argv[i + 1], nullptr, 10);
  }
  if (checkpoint_path.empty() || period_ms <= 0) {
    std::fprintf(stderr, "usage: %s --checkpoint PATH [--period-ms N] [--max N]\n", argv[0]);
    return 2;
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);

  vigil::Checkpoint<std::uint64_t> checkpoint(checkpoint_path);
  auto restored = checkpoint.load();
  std::uint64_t counter = 0;
  if (restored) {
    counter = *restored.value;
    std::printf("restored counter %llu (generation %llu)\n",
                static_cast<unsigned long long>(counter),
                static_cast<unsigned long long>(restored.generation));
  } else {
    // ENOENT is a first start; anything else is worth a line in the log, not a crash.
    std::printf("starting from 0: %s %s\n", restored.status.message().c_str(),
                restored.detail.c_str());
  }
  std::fflush(stdout);

  // The heartbeat only beats while the counting loop advances: alive-but-stuck is caught.
  std::atomic<std::uint64_t> progress{counter};
  std::uint64_t last_seen = counter;
  auto healthy = [&] {
    const auto now = progress.load();
    const bool advanced = now != last_seen;
    last_seen = now;
    return advanced;
  };
  vigil::Heartbeat heartbeat = vigil::Heartbeat::from_environment(healthy);
  vigil::WatchedLoop loop("count", std::chrono::milliseconds(period_ms * 25));
  (void)vigil::notify_ready();

  while (!stop_requested && (max_count == 0 || counter < max_count)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(period_ms));
    ++counter;
    if (auto saved = checkpoint.save(counter); !saved)
      std::fprintf(stderr, "checkpoint save failed: %s\n", saved.message().c_str());
    progress.store(counter);
    (void)loop.beat();
    if (counter % 50 == 0) (void)vigil::notify_status("counter " + std::to_string(counter));
  }
  (void)vigil::notify_stopping();
  std::printf("stopping at counter %llu\n", static_cast<unsigned long long>(counter));
  return 0;
}
