// A lidar-like publisher for hot-standby pairs: writes sensor_msgs/LaserScan on a ROS 2 topic
// (default /scan, DDS topic rt/scan) with EXCLUSIVE ownership, so that readers take the scans
// of the strongest live writer only. Run two of them as a vigil standby pair (`standby_for:
// {primary: ..., hot: true}`): vigild hands each its strength in VIGIL_OWNERSHIP_STRENGTH, and
// when the primary dies or hangs, its writer's liveliness lease runs out and every reader
// switches to the standby's scans by itself, within the lease.
//   scan_publisher [--topic /scan] [--rate HZ] [--lease DURATION] [--reliability reliable|
//                  best_effort] [--beams N]
// DURATION: a number with a unit (us, ms, s), or a bare number of milliseconds.
// Defaults: /scan, 100 Hz, lease 200 ms, reliable, 360 beams. Environment: ROS_DOMAIN_ID
// (default 0), VIGIL_OWNERSHIP_STRENGTH (default 1), VIGIL_STANDBY_ROLE (default "single"),
// WATCHDOG_USEC (when vigild watches it: WATCHDOG=1 from the publishing loop, so a hung loop
// is a hang for vigild as well as for the readers).
//
// Each scan's header.frame_id is "<role>:<pid>" (e.g. "standby:4242"), so a reader can tell
// which process wrote it; header.stamp is the wall-clock time of the write.
//
// Liveliness is MANUAL_BY_TOPIC: only a write asserts it, so a process that is alive but no
// longer publishing (stopped, deadlocked) loses ownership as surely as a dead one.
//
// Reliability: reliable by default, as ROS 2's default publisher QoS: a reliable writer matches
// both reliable and best-effort subscribers, while a best-effort one matches only best-effort
// subscribers. With KEEP_LAST history the writer never blocks on a slow reader, and on a
// handover both behave alike: the standby has been writing all along, and the reader accepts
// its next sample once the primary's ownership lapses. --reliability best_effort is there for
// sensor-data QoS setups.
#include <dds/dds.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>
#include <vigil/notify.hpp>

#include "standby_msgs.h"

namespace {

using Clock = std::chrono::steady_clock;

// A DDS entity deleted when it goes out of scope (deleting a participant deletes its children;
// deleting the writer first is what tells readers at once that it left).
class DdsEntity {
 public:
  explicit DdsEntity(dds_entity_t entity) : entity_(entity) {}
  DdsEntity(const DdsEntity&) = delete;
  DdsEntity& operator=(const DdsEntity&) = delete;
  ~DdsEntity() { reset(); }
  void reset() {
    if (entity_ > 0) dds_delete(entity_);
    entity_ = 0;
  }
  dds_entity_t get() const { return entity_; }
  bool ok() const { return entity_ > 0; }

 private:
  dds_entity_t entity_;
};

class DdsQos {
 public:
  DdsQos() : qos_(dds_create_qos()) {}
  DdsQos(const DdsQos&) = delete;
  DdsQos& operator=(const DdsQos&) = delete;
  ~DdsQos() { dds_delete_qos(qos_); }
  dds_qos_t* get() const { return qos_; }

 private:
  dds_qos_t* qos_;
};

struct Options {
  std::string topic = "/scan";
  double rate_hz = 100;
  std::chrono::microseconds lease{200'000};
  bool reliable = true;
  int beams = 360;
};

std::optional<std::chrono::microseconds> parse_duration(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double number = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || errno != 0 || !(number > 0)) return std::nullopt;
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
  if (usec < 1 || usec > 1e12) return std::nullopt;
  return std::chrono::microseconds(static_cast<std::int64_t>(usec));
}

std::optional<long> parse_integer(const char* text, long min, long max) {
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || errno != 0 || value < min || value > max) return std::nullopt;
  return value;
}

int usage(const std::string& problem) {
  std::fprintf(stderr,
               "scan_publisher: %s\nusage: scan_publisher [--topic /scan] [--rate HZ] "
               "[--lease DURATION] [--reliability reliable|best_effort] [--beams N]\n",
               problem.c_str());
  return 2;
}

// argv -> Options; an error message when something is wrong.
std::optional<std::string> parse_args(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return "missing value after " + flag;
    const std::string value = argv[i + 1];
    if (flag == "--topic") {
      if (value.size() < 2 || value[0] != '/')
        return "--topic must be a ROS 2 topic name like /scan";
      options.topic = value;
    } else if (flag == "--rate") {
      char* end = nullptr;
      const double hz = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || *end != '\0' || !(hz > 0) || hz > 10'000) {
        return "--rate must be a number of Hz in (0, 10000], not " + value;
      }
      options.rate_hz = hz;
    } else if (flag == "--lease") {
      const auto lease = parse_duration(value);
      if (!lease) return "--lease must be a duration like 200ms, not " + value;
      options.lease = *lease;
    } else if (flag == "--reliability") {
      if (value != "reliable" && value != "best_effort") {
        return "--reliability must be reliable or best_effort, not " + value;
      }
      options.reliable = value == "reliable";
    } else if (flag == "--beams") {
      const auto beams = parse_integer(value.c_str(), 1, 100'000);
      if (!beams) return "--beams must be a number in 1..100000, not " + value;
      options.beams = static_cast<int>(*beams);
    } else {
      return "unknown option " + flag;
    }
  }
  return std::nullopt;
}

builtin_interfaces_msg_dds__Time_ wall_clock_stamp() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return {static_cast<int32_t>(now.tv_sec), static_cast<uint32_t>(now.tv_nsec)};
}

timespec to_timespec(Clock::duration d) {
  if (d < Clock::duration::zero()) d = Clock::duration::zero();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  return {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (auto problem = parse_args(argc, argv, options)) return usage(*problem);

  const char* strength_env = std::getenv("VIGIL_OWNERSHIP_STRENGTH");
  long strength = 1;
  if (strength_env != nullptr && *strength_env != '\0') {
    const auto parsed = parse_integer(strength_env, INT32_MIN, INT32_MAX);
    if (!parsed) {
      return usage(std::string("VIGIL_OWNERSHIP_STRENGTH must be an integer, not ") + strength_env);
    }
    strength = *parsed;
  }
  long domain = 0;
  if (const char* domain_env = std::getenv("ROS_DOMAIN_ID");
      domain_env != nullptr && *domain_env != '\0') {
    const auto parsed = parse_integer(domain_env, 0, 232);  // ROS 2's range of domain ids
    if (!parsed) return usage(std::string("ROS_DOMAIN_ID must be 0..232, not ") + domain_env);
    domain = *parsed;
  }
  const char* role_env = std::getenv("VIGIL_STANDBY_ROLE");
  const std::string role = role_env != nullptr && *role_env != '\0' ? role_env : "single";
  const std::string frame_id = role + ":" + std::to_string(::getpid());

  // SIGTERM/SIGINT are taken synchronously by the publishing loop (sigtimedwait), blocked
  // before Cyclone starts its threads so that none of them receives them instead.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  DdsEntity participant(
      dds_create_participant(static_cast<dds_domainid_t>(domain), nullptr, nullptr));
  if (!participant.ok()) {
    std::fprintf(stderr, "scan_publisher: cannot create a participant on domain %ld: %s\n", domain,
                 dds_strretcode(participant.get()));
    return 1;
  }
  const std::string dds_topic = "rt" + options.topic;
  const dds_entity_t topic =
      dds_create_topic(participant.get(), &sensor_msgs_msg_dds__LaserScan__desc, dds_topic.c_str(),
                       nullptr, nullptr);
  if (topic < 0) {
    std::fprintf(stderr, "scan_publisher: cannot create topic %s: %s\n", dds_topic.c_str(),
                 dds_strretcode(topic));
    return 1;
  }
  DdsQos qos;
  dds_qset_reliability(qos.get(),
                       options.reliable ? DDS_RELIABILITY_RELIABLE : DDS_RELIABILITY_BEST_EFFORT,
                       DDS_MSECS(100));
  dds_qset_durability(qos.get(), DDS_DURABILITY_VOLATILE);
  dds_qset_history(qos.get(), DDS_HISTORY_KEEP_LAST, 5);
  dds_qset_ownership(qos.get(), DDS_OWNERSHIP_EXCLUSIVE);
  dds_qset_ownership_strength(qos.get(), static_cast<int32_t>(strength));
  dds_qset_liveliness(qos.get(), DDS_LIVELINESS_MANUAL_BY_TOPIC, DDS_USECS(options.lease.count()));
  DdsEntity writer(dds_create_writer(participant.get(), topic, qos.get(), nullptr));
  if (!writer.ok()) {
    std::fprintf(stderr, "scan_publisher: cannot create the %s writer: %s\n", dds_topic.c_str(),
                 dds_strretcode(writer.get()));
    return 1;
  }

  constexpr float kPi = 3.14159265f;
  std::vector<float> ranges(static_cast<size_t>(options.beams));
  sensor_msgs_msg_dds__LaserScan_ scan{};
  scan.header.frame_id = const_cast<char*>(frame_id.c_str());
  scan.angle_min = -kPi;
  scan.angle_increment = 2 * kPi / static_cast<float>(options.beams);
  scan.angle_max = kPi - scan.angle_increment;
  scan.scan_time = static_cast<float>(1.0 / options.rate_hz);
  scan.time_increment = scan.scan_time / static_cast<float>(options.beams);
  scan.range_min = 0.1f;
  scan.range_max = 30.0f;
  scan.ranges._buffer = ranges.data();
  scan.ranges._length = scan.ranges._maximum = static_cast<uint32_t>(ranges.size());
  scan.ranges._release = false;

  (void)vigil::notify_ready();
  std::printf("scan_publisher %s: %s on domain %ld, strength %ld, %.0f Hz, lease %lld ms, %s\n",
              frame_id.c_str(), dds_topic.c_str(), domain, strength, options.rate_hz,
              static_cast<long long>(options.lease.count() / 1000),
              options.reliable ? "reliable" : "best effort");
  std::fflush(stdout);

  const auto period = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(1.0 / options.rate_hz));
  const auto watchdog = vigil::watchdog_interval();
  const auto beat_every = watchdog ? *watchdog / 4 : std::chrono::microseconds::max();
  auto next_beat = Clock::now();
  auto next_write = Clock::now();
  unsigned tick = 0;
  for (;;) {
    const auto now = Clock::now();
    if (now >= next_write) {
      // A wall 1.5 m to each side and a pallet ahead that comes and goes.
      const float pallet = 4.0f + 2.0f * std::sin(static_cast<float>(tick++) * 0.05f);
      for (size_t i = 0; i < ranges.size(); ++i) {
        const float angle = scan.angle_min + static_cast<float>(i) * scan.angle_increment;
        const float side =
            std::abs(std::sin(angle)) > 0.05f ? 1.5f / std::abs(std::sin(angle)) : scan.range_max;
        ranges[i] =
            std::min({side, std::abs(angle) < 0.2f ? pallet : scan.range_max, scan.range_max});
      }
      scan.header.stamp = wall_clock_stamp();
      if (const dds_return_t rc = dds_write(writer.get(), &scan); rc < 0) {
        std::fprintf(stderr, "scan_publisher: write failed: %s\n", dds_strretcode(rc));
      }
      next_write += period;
      // Late by more than a period (the process was stopped, or the machine busy): resume the
      // rhythm from now instead of writing a burst of catch-up scans.
      if (next_write + period < now) next_write = now + period;
    }
    if (watchdog && now >= next_beat) {
      (void)vigil::notify_watchdog();
      next_beat = now + beat_every;
    }
    const auto wake = watchdog ? std::min(next_write, next_beat) : next_write;
    const timespec timeout = to_timespec(wake - Clock::now());
    const int signal = ::sigtimedwait(&stop_signals, nullptr, &timeout);
    if (signal == SIGTERM || signal == SIGINT) break;
  }
  (void)vigil::notify_stopping();
  // The writer goes first, explicitly: readers learn at once that it left (no lease to wait
  // for), and ownership passes to the next writer without a gap.
  writer.reset();
  return 0;
}
