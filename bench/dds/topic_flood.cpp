// The load for vigild's topic monitors benchmark (bench/dds/run.sh): one process, one
// participant, N topics each published at R Hz with a small sample (vigil_msgs/Heartbeat, a
// short string and a counter), reliable and volatile with KEEP_LAST 10 as ROS 2's default QoS.
//
//   topic_flood [--topics N] [--rate HZ] [--duration SECONDS] [--domain ID] [--prefix NAME]
//
// Topics are raw DDS names PREFIX_000, PREFIX_001, ... (default prefix bench/topic). The domain
// is --domain, else ROS_DOMAIN_ID, else 0. One thread writes every topic once per tick; the
// ticks are absolute deadlines on CLOCK_MONOTONIC, so a late tick does not shift the next and
// the long-run rate is exact. Runs until SIGTERM/SIGINT or --duration, then prints the number
// of samples written (and ticks missed) on stdout.
#include <dds/dds.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "ros2_messages.h"

namespace {

volatile sig_atomic_t stop_requested = 0;

void request_stop(int) {
  stop_requested = 1;
}

struct Options {
  int topics = 100;
  double rate_hz = 100;
  double duration_s = 0;  // 0: until a signal
  std::optional<int> domain;
  std::string prefix = "bench/topic";
};

int usage(const std::string& problem) {
  std::fprintf(stderr,
               "topic_flood: %s\nusage: topic_flood [--topics N] [--rate HZ] [--duration SECONDS] "
               "[--domain ID] [--prefix NAME]\n",
               problem.c_str());
  return 2;
}

std::optional<double> number(const char* text, double min, double max) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || errno != 0 || !(v >= min && v <= max)) return std::nullopt;
  return v;
}

// Deleting the participant deletes every topic and writer under it.
struct Participant {
  dds_entity_t handle;
  ~Participant() {
    if (handle > 0) dds_delete(handle);
  }
};

std::int64_t to_ns(const timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

timespec from_ns(std::int64_t ns) {
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

std::int64_t now_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return to_ns(t);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") return usage("publishes N topics at R Hz each");
    if (i + 1 >= argc) return usage("missing value after " + flag);
    const char* value = argv[i + 1];
    if (flag == "--prefix") {
      o.prefix = value;
      continue;
    }
    std::optional<double> v;
    if (flag == "--topics") {
      if ((v = number(value, 1, 10'000))) o.topics = static_cast<int>(*v);
    } else if (flag == "--rate") {
      if ((v = number(value, 0.01, 100'000))) o.rate_hz = *v;
    } else if (flag == "--duration") {
      if ((v = number(value, 0, 1e7))) o.duration_s = *v;
    } else if (flag == "--domain") {
      if ((v = number(value, 0, 232))) o.domain = static_cast<int>(*v);
    } else {
      return usage("unknown option " + flag);
    }
    if (!v) return usage(std::string("bad value for ") + flag + ": " + value);
  }
  if (!o.domain) {
    const char* env = std::getenv("ROS_DOMAIN_ID");
    if (env != nullptr && *env != '\0') {
      auto v = number(env, 0, 232);
      if (!v) return usage(std::string("ROS_DOMAIN_ID is not a domain id: ") + env);
      o.domain = static_cast<int>(*v);
    }
  }

  Participant participant{dds_create_participant(o.domain.value_or(0), nullptr, nullptr)};
  if (participant.handle < 0) {
    std::fprintf(stderr, "topic_flood: cannot create a participant on domain %d: %s\n",
                 o.domain.value_or(0), dds_strretcode(participant.handle));
    return 1;
  }
  dds_qos_t* qos = dds_create_qos();
  dds_qset_reliability(qos, DDS_RELIABILITY_RELIABLE, DDS_MSECS(100));
  dds_qset_durability(qos, DDS_DURABILITY_VOLATILE);
  dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, 10);
  std::vector<dds_entity_t> writers;
  std::vector<std::string> names;
  for (int i = 0; i < o.topics; ++i) {
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "_%03d", i);
    names.push_back(o.prefix + suffix);
    const dds_entity_t topic =
        dds_create_topic(participant.handle, &vigil_msgs_msg_dds__Heartbeat__desc,
                         names.back().c_str(), nullptr, nullptr);
    const dds_entity_t writer =
        topic < 0 ? topic : dds_create_writer(participant.handle, topic, qos, nullptr);
    if (writer < 0) {
      std::fprintf(stderr, "topic_flood: cannot publish %s: %s\n", names.back().c_str(),
                   dds_strretcode(writer));
      dds_delete_qos(qos);
      return 1;
    }
    writers.push_back(writer);
  }
  dds_delete_qos(qos);

  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  const auto period_ns = static_cast<std::int64_t>(1e9 / o.rate_hz);
  const std::int64_t start = now_ns();
  const std::int64_t end =
      o.duration_s > 0 ? start + static_cast<std::int64_t>(o.duration_s * 1e9) : INT64_MAX;
  std::fprintf(stderr, "topic_flood: %d topics %s_000.. at %g Hz on domain %d\n", o.topics,
               o.prefix.c_str(), o.rate_hz, o.domain.value_or(0));
  std::uint64_t written = 0;
  std::uint64_t failed = 0;
  std::uint64_t late_ticks = 0;
  std::uint64_t tick = 0;
  std::int64_t deadline = start;
  vigil_msgs_msg_dds__Heartbeat_ sample{};
  while (!stop_requested && deadline < end) {
    for (std::size_t i = 0; i < writers.size(); ++i) {
      sample.component = names[i].data();
      sample.count = tick;
      if (dds_write(writers[i], &sample) == DDS_RETCODE_OK) {
        ++written;
      } else {
        ++failed;
      }
    }
    ++tick;
    deadline += period_ns;
    // A tick that starts more than a period late is counted, not skipped: the writes catch up.
    if (now_ns() > deadline + period_ns) ++late_ticks;
    const timespec at = from_ns(std::min(deadline, end));
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR &&
           !stop_requested) {
    }
  }
  // The rate counts intervals between ticks: N ticks span N - 1 periods.
  const double elapsed = static_cast<double>(now_ns() - start) / 1e9;
  const double ticked = static_cast<double>(deadline - period_ns - start) / 1e9;
  std::printf("topic_flood: wrote %" PRIu64
              " samples on %d topics in %.3f s (%.2f Hz per "
              "topic), %" PRIu64 " failed writes, %" PRIu64 " late ticks\n",
              written, o.topics, elapsed, tick > 1 ? static_cast<double>(tick - 1) / ticked : 0.0,
              failed, late_ticks);
  std::fflush(stdout);
  return failed == 0 ? 0 : 1;
}
