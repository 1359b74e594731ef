// A component that beats over DDS instead of the notify socket, with vigil::DdsHeartbeat: it
// writes vigil_msgs/Heartbeat on rt/vigil/heartbeat (MANUAL_BY_TOPIC liveliness, lease = its
// watchdog timeout), says READY=1 with libvigil, and can be told to stop beating while staying
// alive (to show how vigild and any DDS reader notice the silence).
//   dds_heartbeat [--name NAME] [--period DURATION] [--lease DURATION] [--stop-after DURATION]
// DURATION: a number with a unit (us, ms, s), or a bare number of milliseconds.
// Defaults: name VIGIL_COMPONENT (or "component"), lease WATCHDOG_USEC (or 1 s), period a
// third of the lease, never stop; the domain is ROS_DOMAIN_ID (or 0).
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vigil/dds.hpp>
#include <vigil/vigil.hpp>

namespace {

std::optional<std::chrono::microseconds> parse_duration(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double number = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || errno != 0 || number < 0) return std::nullopt;
  const std::string unit(end);
  double usec_per_unit = 0;
  if (unit.empty() || unit == "ms") {
    usec_per_unit = 1e3;
  } else if (unit == "us") {
    usec_per_unit = 1;
  } else if (unit == "s") {
    usec_per_unit = 1e6;
  } else {
    return std::nullopt;
  }
  const double usec = number * usec_per_unit;
  if (usec > 1e12) return std::nullopt;
  return std::chrono::microseconds(static_cast<std::int64_t>(usec));
}

int usage(const char* problem) {
  std::fprintf(stderr,
               "dds_heartbeat: %s\nusage: dds_heartbeat [--name NAME] [--period DURATION] "
               "[--lease DURATION] [--stop-after DURATION]\n",
               problem);
  return 2;
}

long long to_ms(std::chrono::microseconds d) {
  return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace

int main(int argc, char** argv) {
  vigil::DdsHeartbeatOptions options;
  if (std::getenv("VIGIL_COMPONENT") == nullptr) options.component = "component";
  std::optional<std::chrono::microseconds> stop_after;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return usage(("missing value after " + flag).c_str());
    const std::string value = argv[i + 1];
    if (flag == "--name") {
      options.component = value;
      continue;
    }
    const auto duration = parse_duration(value);
    if (flag != "--period" && flag != "--lease" && flag != "--stop-after") {
      return usage(("unknown option " + flag).c_str());
    }
    if (!duration) return usage(("not a duration for " + flag + ": " + value).c_str());
    if (flag == "--period") options.period = *duration;
    if (flag == "--lease") options.lease = *duration;
    if (flag == "--stop-after") stop_after = *duration;
  }
  // Stopping is modelled as the health predicate turning false: alive but no longer beating.
  const auto start = std::chrono::steady_clock::now();
  if (stop_after) {
    options.healthy = [start, limit = *stop_after] {
      return std::chrono::steady_clock::now() - start < limit;
    };
  }
  // SIGTERM/SIGINT end the program through main's return, so the heartbeat's destructor
  // deletes the DDS entities (readers see the writer leave at once).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts: all inherit it

  vigil::DdsHeartbeat heartbeat(std::move(options));
  if (!heartbeat.status()) {
    std::fprintf(stderr, "dds_heartbeat: %s (%s)\n", heartbeat.status_detail().c_str(),
                 heartbeat.status().message().c_str());
    return 1;
  }
  (void)vigil::notify_ready();
  std::printf("dds_heartbeat %s: domain %u, beating every %lld ms, lease %lld ms\n",
              heartbeat.component().c_str(), heartbeat.domain(), to_ms(heartbeat.period()),
              to_ms(heartbeat.lease()));
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  (void)vigil::notify_stopping();
  return 0;
}
