// The component side of the sensor-dropout benchmark (bench/modes/run.sh, vigil issue 6): how
// long from a sensor going silent to a component receiving the degraded mode over DDS.
//
//   dropout_probe [--trials N] [--rate HZ] [--publish-for SECONDS] [--stale-after-ms MS]
//                 [--timeout-ms MS] [--topic DDS_TOPIC] [--domain ID]
//
// One process that is the sensor and the listener at once, run by vigild as the component whose
// topic is monitored: it publishes vigil_msgs/Heartbeat samples on DDS topic rt/scan (ROS 2
// /scan) at 20 Hz on absolute CLOCK_MONOTONIC deadlines and listens to vigild's mode with
// vigil::ModeListener. Each trial: publish until the mode is nominal, publish --publish-for
// seconds more, stop; T0 = CLOCK_MONOTONIC right after the last write, T1 = CLOCK_MONOTONIC in
// the on_change callback that delivers "degraded". Both ends are read on this process's clock,
// so the figure covers vigild's detection, its mode rule and the DDS delivery back.
//
// --stale-after-ms is only for the report (the monitor's stale_after, which is vigild's config).
// Prints one line per trial on stderr, and on stdout a JSON summary as the last line. Exit 0
// when every trial saw the degraded mode, 1 when any timed out, 2 on bad arguments.
#include <dds/dds.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ros2_messages.h"
#include "vigil/mode_listener.hpp"
#include "vigil/notify.hpp"

namespace {

struct Options {
  int trials = 20;
  double rate_hz = 20;
  double publish_for_s = 3;
  double stale_after_ms = 500;
  double timeout_ms = 10'000;  // per wait: for nominal, and for degraded after the dropout
  std::string topic = "rt/scan";
  std::optional<int> domain;
};

int usage(const std::string& problem) {
  std::fprintf(stderr,
               "dropout_probe: %s\nusage: dropout_probe [--trials N] [--rate HZ] "
               "[--publish-for SECONDS] [--stale-after-ms MS] [--timeout-ms MS] "
               "[--topic DDS_TOPIC] [--domain ID]\n",
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

std::int64_t now_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

void sleep_until_ns(std::int64_t deadline) {
  const timespec at{static_cast<time_t>(deadline / 1'000'000'000),
                    static_cast<long>(deadline % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
  }
}

// Deleting the participant deletes the topic, the writer and (ModeListener deletes its reader
// first) everything else under it.
struct Participant {
  dds_entity_t handle;
  ~Participant() {
    if (handle > 0) dds_delete(handle);
  }
};

// What the on_change callback saw: each entry into "degraded" with the monotonic time of its
// delivery. Written on a Cyclone thread, read by main.
struct DegradedEntries {
  std::mutex mutex;
  std::condition_variable changed;
  std::uint64_t count = 0;
  std::int64_t last_entry_ns = 0;
  std::string previous_name;
};

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(p / 100.0 * sorted.size())));
  return sorted[std::min(rank, sorted.size()) - 1];
}

std::string summary_json(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  if (values.empty()) return "null";
  char text[200];
  std::snprintf(text, sizeof text, R"({"min": %.1f, "p50": %.1f, "p95": %.1f, "max": %.1f})",
                values.front(), percentile(values, 50), percentile(values, 95), values.back());
  return text;
}

// Paced publishing: one write per period on absolute deadlines, so a late wake-up does not
// shift the next one.
class PacedWriter {
 public:
  PacedWriter(dds_entity_t writer, double rate_hz)
      : writer_(writer), period_ns_(static_cast<std::int64_t>(1e9 / rate_hz)) {}

  void restart_clock() { deadline_ns_ = now_ns(); }
  std::int64_t next_deadline_ns() const { return deadline_ns_; }

  // Writes one sample at the current deadline (sleeping until it) and moves the deadline on.
  // Returns the time right after the write.
  std::int64_t write_next() {
    sleep_until_ns(deadline_ns_);
    sample_.component = const_cast<char*>("dropout_probe");
    sample_.count = written_;
    if (dds_write(writer_, &sample_) == DDS_RETCODE_OK) {
      ++written_;
    } else {
      ++failed_;
    }
    const std::int64_t after = now_ns();
    deadline_ns_ += period_ns_;
    if (after > deadline_ns_) ++late_ticks_;  // more than a period late: counted, not skipped
    return after;
  }

  std::uint64_t written() const { return written_; }
  std::uint64_t failed() const { return failed_; }
  std::uint64_t late_ticks() const { return late_ticks_; }

 private:
  dds_entity_t writer_;
  std::int64_t period_ns_;
  std::int64_t deadline_ns_ = 0;
  vigil_msgs_msg_dds__Heartbeat_ sample_{};
  std::uint64_t written_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t late_ticks_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") return usage("times sensor dropout -> degraded mode");
    if (i + 1 >= argc) return usage("missing value after " + flag);
    const char* value = argv[i + 1];
    if (flag == "--topic") {
      o.topic = value;
      continue;
    }
    std::optional<double> v;
    if (flag == "--trials") {
      if ((v = number(value, 1, 100'000))) o.trials = static_cast<int>(*v);
    } else if (flag == "--rate") {
      if ((v = number(value, 0.1, 10'000))) o.rate_hz = *v;
    } else if (flag == "--publish-for") {
      if ((v = number(value, 0, 3600))) o.publish_for_s = *v;
    } else if (flag == "--stale-after-ms") {
      if ((v = number(value, 0, 3.6e6))) o.stale_after_ms = *v;
    } else if (flag == "--timeout-ms") {
      if ((v = number(value, 1, 3.6e6))) o.timeout_ms = *v;
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
    std::fprintf(stderr, "dropout_probe: cannot create a participant on domain %d: %s\n",
                 o.domain.value_or(0), dds_strretcode(participant.handle));
    return 1;
  }
  // ROS 2's default publisher QoS: reliable, volatile, keep last 10.
  dds_qos_t* qos = dds_create_qos();
  dds_qset_reliability(qos, DDS_RELIABILITY_RELIABLE, DDS_MSECS(100));
  dds_qset_durability(qos, DDS_DURABILITY_VOLATILE);
  dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, 10);
  const dds_entity_t topic = dds_create_topic(
      participant.handle, &vigil_msgs_msg_dds__Heartbeat__desc, o.topic.c_str(), nullptr, nullptr);
  const dds_entity_t writer =
      topic < 0 ? topic : dds_create_writer(participant.handle, topic, qos, nullptr);
  dds_delete_qos(qos);
  if (writer < 0) {
    std::fprintf(stderr, "dropout_probe: cannot publish %s: %s\n", o.topic.c_str(),
                 dds_strretcode(writer));
    return 1;
  }

  DegradedEntries degraded;
  vigil::ModeListenerOptions listener_options;
  listener_options.participant = participant.handle;
  listener_options.on_change = [&degraded](const vigil::SystemMode& mode) {
    // Taken first: the time the mode reached this process, before any bookkeeping.
    const std::int64_t delivered_ns = now_ns();
    std::lock_guard lock(degraded.mutex);
    if (mode.name == "degraded" && degraded.previous_name != "degraded") {
      ++degraded.count;
      degraded.last_entry_ns = delivered_ns;
      degraded.changed.notify_all();
    }
    degraded.previous_name = mode.name;
  };
  vigil::ModeListener listener(std::move(listener_options));
  if (!listener.status()) {
    std::fprintf(stderr, "dropout_probe: cannot listen to the mode: %s\n",
                 listener.status_detail().c_str());
    return 1;
  }
  // Outside vigild (no NOTIFY_SOCKET) this is a no-op; under it, a failure only delays readiness.
  if (const vigil::Status ready = vigil::notify_ready(); !ready) {
    std::fprintf(stderr, "dropout_probe: READY=1 not sent: %s\n", ready.message().c_str());
  }

  const auto is_nominal = [](const vigil::SystemMode& m) { return m.name == "nominal"; };
  const auto publish_ticks = static_cast<std::uint64_t>(o.publish_for_s * o.rate_hz);
  const auto timeout_ns = static_cast<std::int64_t>(o.timeout_ms * 1e6);
  std::vector<double> latencies_ms;
  // T0 and T1 of each measured trial, in CLOCK_MONOTONIC microseconds: vigild stamps its events
  // on the same clock, so run.py can split the latency at vigild's topic_stale and mode_changed.
  std::vector<std::pair<std::int64_t, std::int64_t>> stamps_us;
  int timed_out = 0;
  int degraded_while_publishing = 0;
  PacedWriter paced(writer, o.rate_hz);

  for (int trial = 1; trial <= o.trials; ++trial) {
    // Publish until vigild says nominal again (the topic is fresh, exit_after and dwell passed);
    // between writes, wait on the listener until the next deadline.
    paced.restart_clock();
    const std::int64_t give_up_ns = now_ns() + timeout_ns;
    bool nominal = false;
    while (!nominal && now_ns() < give_up_ns) {
      paced.write_next();
      const auto until_next = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::nanoseconds(std::max<std::int64_t>(0, paced.next_deadline_ns() - now_ns())));
      nominal = listener.wait_for(until_next, is_nominal).has_value();
    }
    if (!nominal) {
      std::fprintf(stderr, "trial %d: the mode never became nominal within %.0f ms\n", trial,
                   o.timeout_ms);
      ++timed_out;
      continue;
    }

    std::uint64_t entries_before;
    {
      std::lock_guard lock(degraded.mutex);
      entries_before = degraded.count;
    }
    std::int64_t last_write_end_ns = 0;
    for (std::uint64_t i = 0; i < publish_ticks; ++i) last_write_end_ns = paced.write_next();
    const std::int64_t t0 = last_write_end_ns;

    std::unique_lock lock(degraded.mutex);
    if (degraded.count != entries_before) {
      // The mode went degraded while the sensor was still publishing: not a dropout measurement.
      ++degraded_while_publishing;
      entries_before = degraded.count;
    }
    const bool seen = degraded.changed.wait_until(
        lock,
        std::chrono::steady_clock::now() + std::chrono::nanoseconds(t0 + timeout_ns - now_ns()),
        [&] { return degraded.count != entries_before; });
    if (!seen) {
      std::fprintf(stderr, "trial %d: no degraded mode within %.0f ms of the dropout\n", trial,
                   o.timeout_ms);
      ++timed_out;
      continue;
    }
    const std::int64_t t1 = degraded.last_entry_ns;
    lock.unlock();
    const double latency_ms = static_cast<double>(t1 - t0) / 1e6;
    latencies_ms.push_back(latency_ms);
    stamps_us.emplace_back(t0 / 1000, t1 / 1000);
    std::fprintf(stderr, "trial %d: dropout -> degraded %.1f ms (stale_after + %.1f ms)\n", trial,
                 latency_ms, latency_ms - o.stale_after_ms);
  }

  std::vector<double> beyond_ms;
  for (double l : latencies_ms) beyond_ms.push_back(l - o.stale_after_ms);
  std::string samples = "[";
  for (std::size_t i = 0; i < latencies_ms.size(); ++i) {
    char text[32];
    std::snprintf(text, sizeof text, "%s%.1f", i ? ", " : "", latencies_ms[i]);
    samples += text;
  }
  samples += "]";
  std::string stamps = "[";
  for (std::size_t i = 0; i < stamps_us.size(); ++i) {
    char text[64];
    std::snprintf(text, sizeof text, "%s[%" PRId64 ", %" PRId64 "]", i ? ", " : "",
                  stamps_us[i].first, stamps_us[i].second);
    stamps += text;
  }
  stamps += "]";
  std::printf(
      R"({"trials": %d, "measured": %zu, "timed_out": %d, "degraded_while_publishing": %d, )"
      R"("stale_after_ms": %.0f, "rate_hz": %g, "latency_ms": %s, "beyond_stale_after_ms": %s, )"
      R"("samples_written": %)" PRIu64 R"(, "failed_writes": %)" PRIu64
      R"(, "late_ticks": %)" PRIu64 R"(, "latencies_ms": %s, "t0_t1_mono_us": %s})"
      "\n",
      o.trials, latencies_ms.size(), timed_out, degraded_while_publishing, o.stale_after_ms,
      o.rate_hz, summary_json(latencies_ms).c_str(), summary_json(beyond_ms).c_str(),
      paced.written(), paced.failed(), paced.late_ticks(), samples.c_str(), stamps.c_str());
  std::fflush(stdout);
  return timed_out == 0 ? 0 : 1;
}
