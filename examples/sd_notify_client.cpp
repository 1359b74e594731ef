// A program written for systemd's watchdog, built against libsystemd's real sd_notify(3), and
// unchanged for vigil: READY=1 when up, WATCHDOG=1 at half of WATCHDOG_USEC, STATUS= lines.
// `--hang-after D` stops the heartbeats after D milliseconds.
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

int main(int argc, char** argv) {
  long hang_after_ms = -1;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--hang-after") == 0) hang_after_ms = std::atol(argv[i + 1]);
  }
  std::uint64_t usec = 0;
  // sd_watchdog_enabled checks WATCHDOG_PID against getpid(), exactly as under systemd.
  const int enabled = sd_watchdog_enabled(0, &usec);
  std::printf("sd_notify_client %d: watchdog %s (%llu us)\n", getpid(),
              enabled > 0 ? "enabled" : "disabled", static_cast<unsigned long long>(usec));
  std::fflush(stdout);
  sd_notify(0, "READY=1\nSTATUS=serving");
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count();
    if (hang_after_ms < 0 || elapsed < hang_after_ms) sd_notify(0, "WATCHDOG=1");
    std::this_thread::sleep_for(std::chrono::microseconds(enabled > 0 ? usec / 2 : 1000000));
  }
}
