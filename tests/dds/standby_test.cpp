// Hot standby over DDS: a primary and its hot standby (examples/standby/scan_publisher, /scan
// with EXCLUSIVE ownership) run under a real vigild, which gives each its ownership strength; a
// real Cyclone reader in the test takes the scans. The handover is Cyclone's: when the
// primary's writer loses liveliness (lease) the reader takes the standby's scans, so the
// largest gap it sees is bounded by the lease. vigild's part is the strengths, the
// standby_activated event and restarting the primary, which outranks the standby again with
// `failback: immediate` and stays below it with `failback: stay`.
#include <dds/dds.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "dds/dds_bridge.hpp"
#include "integration/harness.hpp"
#include "standby_msgs.h"
#include "support/dds_env.hpp"

namespace vigil::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kLease = 200ms;
// Cyclone checks leases on its own timers and the reader's listener runs on a Cyclone thread:
// the handover may lag the lease by a few milliseconds, never by 50 on an idle machine.
constexpr auto kHandoverSlack = 50ms;
// The standby's scans are held back until the primary's lease, counted from its last write
// (at most one 10 ms period before the kill), has run out: a gap much shorter than the lease
// would mean the reader was not holding to the strongest writer at all.
constexpr auto kShortestHandover = kLease - 30ms;

struct Scan {
  Clock::time_point arrived;
  std::string writer;  // header.frame_id: "<role>:<pid>"
};

std::string writer_label(const std::string& role, pid_t pid) {
  return role + ":" + std::to_string(pid);
}

// A ROS 2 subscriber of /scan with EXCLUSIVE ownership: it keeps, in arrival order, which
// writer each scan it was given came from. Arrivals are stamped in the listener, on Cyclone's
// thread, as soon as the data is available.
class ScanReader {
 public:
  explicit ScanReader(int domain)
      : participant_(
            dds_create_participant(static_cast<dds_domainid_t>(domain), nullptr, nullptr)) {
    if (participant_.get() < 0) {
      error_ = std::string("participant: ") + dds_strretcode(participant_.get());
      return;
    }
    const dds_entity_t topic = dds_create_topic(
        participant_.get(), &sensor_msgs_msg_dds__LaserScan__desc, "rt/scan", nullptr, nullptr);
    if (topic < 0) {
      error_ = std::string("topic: ") + dds_strretcode(topic);
      return;
    }
    dds::Qos qos = dds::ros2_default_qos();
    dds_qset_ownership(qos.get(), DDS_OWNERSHIP_EXCLUSIVE);
    dds_listener_t* listener = dds_create_listener(this);
    dds_lset_data_available(listener, &ScanReader::on_data_available);
    reader_ = dds::Entity(dds_create_reader(participant_.get(), topic, qos.get(), listener));
    dds_delete_listener(listener);
    if (reader_.get() < 0) error_ = std::string("reader: ") + dds_strretcode(reader_.get());
  }
  ~ScanReader() {
    // The listener must be gone before the members it uses.
    reader_.reset();
  }

  const std::string& error() const { return error_; }

  size_t count() {
    std::lock_guard lock(mutex_);
    return scans_.size();
  }
  std::vector<Scan> since(size_t first) {
    std::lock_guard lock(mutex_);
    if (first >= scans_.size()) return {};
    return {scans_.begin() + static_cast<std::ptrdiff_t>(first), scans_.end()};
  }

  // Until `n` scans of `writer` have arrived since index `first`.
  bool wait_for_scans_from(const std::string& writer, int n, size_t first,
                           std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, timeout, [&] {
      int seen = 0;
      for (size_t i = first; i < scans_.size(); ++i) seen += scans_[i].writer == writer ? 1 : 0;
      return seen >= n;
    });
  }
  // Until `n` scans in a row, the last ones received, came from `writer`.
  bool wait_for_run_from(const std::string& writer, int n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, timeout, [&] {
      if (scans_.size() < static_cast<size_t>(n)) return false;
      return std::all_of(scans_.end() - n, scans_.end(),
                         [&](const Scan& s) { return s.writer == writer; });
    });
  }
  // Until the reader has matched `n` writers in all (discovery is done). A count of writers
  // ever matched, since a killed writer stays matched until its participant's lease ends.
  bool wait_for_writers_matched(int n, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      dds_subscription_matched_status_t status{};
      if (dds_get_subscription_matched_status(reader_.get(), &status) == DDS_RETCODE_OK &&
          static_cast<int>(status.total_count) >= n) {
        return true;
      }
      std::unique_lock lock(mutex_);
      arrived_.wait_for(lock, 10ms);  // scans keep coming; re-check on each (or every 10 ms)
    }
    return false;
  }

 private:
  static void on_data_available(dds_entity_t reader, void* arg) {
    auto* self = static_cast<ScanReader*>(arg);
    const auto now = Clock::now();
    void* samples[16] = {};
    dds_sample_info_t infos[16];
    for (;;) {
      const int n = dds_take(reader, samples, infos, 16, 16);
      if (n <= 0) break;
      {
        std::lock_guard lock(self->mutex_);
        for (int i = 0; i < n; ++i) {
          if (!infos[i].valid_data) continue;
          const auto* scan = static_cast<const sensor_msgs_msg_dds__LaserScan_*>(samples[i]);
          self->scans_.push_back({now, scan->header.frame_id ? scan->header.frame_id : ""});
        }
      }
      dds_return_loan(reader, samples, n);
    }
    self->arrived_.notify_all();
  }

  dds::Entity participant_;
  dds::Entity reader_;
  std::string error_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<Scan> scans_;
};

// The index of the last scan received: gaps measured from there include the silence between
// the primary's last scan and the next one.
size_t last_scan(ScanReader& reader) {
  const size_t n = reader.count();
  return n > 0 ? n - 1 : 0;
}

// The largest interval between consecutive scans (from any writer) in `scans`.
Clock::duration largest_gap(const std::vector<Scan>& scans) {
  Clock::duration largest{};
  for (size_t i = 1; i < scans.size(); ++i) {
    largest = std::max(largest, scans[i].arrived - scans[i - 1].arrived);
  }
  return largest;
}

double to_ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// The writer of every scan in `scans`, when they all came from one; "" otherwise.
std::string only_writer(const std::vector<Scan>& scans) {
  if (scans.empty()) return "";
  for (const auto& s : scans) {
    if (s.writer != scans.front().writer) return "";
  }
  return scans.front().writer;
}

std::string describe(const std::vector<Scan>& scans) {
  std::string out;
  std::string last;
  int run = 0;
  auto flush = [&] {
    if (run > 0) out += last + " x" + std::to_string(run) + ", ";
  };
  for (const auto& s : scans) {
    if (s.writer != last) {
      flush();
      last = s.writer;
      run = 0;
    }
    ++run;
  }
  flush();
  return out;
}

std::string pair_config(int domain, const std::string& failback) {
  const std::string d = std::to_string(domain);
  const std::string publisher =
      "[@BIN@/scan_publisher, --lease, " + std::to_string(kLease.count()) + "ms, --rate, 100]";
  return R"(
dds: {domain: )" +
         d + R"(}
root:
  children:
    - name: lidar
      command: )" +
         publisher + R"(
      env: {ROS_DOMAIN_ID: ")" +
         d + R"("}
      ready: notify
      backoff: {initial: 1s, jitter: 0}  # the standby serves ~1 s before the primary is back
      stop: {timeout: 2s}
    - name: lidar_backup
      command: )" +
         publisher + R"(
      env: {ROS_DOMAIN_ID: ")" +
         d + R"("}
      ready: notify
      stop: {timeout: 2s}
      standby_for: {primary: lidar, hot: true, failback: )" +
         failback + R"(}
)";
}

struct RunningPair {
  pid_t primary = 0;
  pid_t standby = 0;
};

// Both members ready, the reader matched with both writers and taking the primary's scans.
RunningPair start_pair(Vigild& v, ScanReader& reader) {
  v.start();
  v.wait_for("lidar", "ready", 15s);
  v.wait_for("lidar_backup", "ready", 15s);
  RunningPair pair;
  pair.primary = v.component("lidar").value("pid", 0);
  pair.standby = v.component("lidar_backup").value("pid", 0);
  EXPECT_TRUE(reader.wait_for_writers_matched(2, 10s)) << "the reader never matched both writers";
  // Until discovery settles the reader may have taken a few of the standby's scans; from then
  // on only the primary's.
  EXPECT_TRUE(reader.wait_for_run_from(writer_label("primary", pair.primary), 20, 10s))
      << describe(reader.since(0));
  return pair;
}

// SIGCONT on scope exit, so a failed assertion never leaves a stopped process behind.
struct ContinueOnExit {
  pid_t pid;
  ~ContinueOnExit() { ::kill(pid, SIGCONT); }
};

TEST(DdsStandby, KilledPrimaryHandsOverToTheHotStandbyWithinTheLeaseAndTakesBackOnRestart) {
  use_loopback_dds();
  const int domain = private_domain();
  ScanReader reader(domain);
  ASSERT_EQ(reader.error(), "");
  Vigild v(pair_config(domain, "immediate"));
  const RunningPair pair = start_pair(v, reader);
  ASSERT_GT(pair.primary, 0);
  ASSERT_GT(pair.standby, 0);
  const std::string primary = writer_label("primary", pair.primary);
  const std::string standby = writer_label("standby", pair.standby);
  EXPECT_EQ(v.component("lidar").value("ownership_strength", 0), 2);
  EXPECT_EQ(v.component("lidar_backup").value("ownership_strength", 0), 1);
  EXPECT_EQ(v.component("lidar_backup").value("standby_for", ""), "lidar");

  // Both write at 100 Hz; the reader is given only the primary's scans.
  const size_t steady = reader.count();
  ASSERT_TRUE(reader.wait_for_scans_from(primary, 100, steady, 10s));
  EXPECT_EQ(only_writer(reader.since(steady)), primary) << describe(reader.since(steady));

  const size_t before_kill = last_scan(reader);
  ASSERT_EQ(::kill(pair.primary, SIGKILL), 0);
  ASSERT_TRUE(reader.wait_for_scans_from(standby, 20, before_kill, 10s))
      << describe(reader.since(before_kill));
  const auto handover = reader.since(before_kill);
  const double gap_ms = to_ms(largest_gap(handover));
  RecordProperty("kill9_handover_gap_ms", std::to_string(gap_ms));
  std::printf("kill -9 of the primary: largest gap at the reader %.1f ms (lease %lld ms)\n", gap_ms,
              static_cast<long long>(kLease.count()));
  EXPECT_LE(gap_ms, to_ms(kLease + kHandoverSlack)) << describe(handover);
  EXPECT_GE(gap_ms, to_ms(kShortestHandover)) << describe(handover);
  // Once the standby's scans come, the dead primary's never do again.
  const auto first_standby = std::find_if(handover.begin(), handover.end(),
                                          [&](const Scan& s) { return s.writer == standby; });
  EXPECT_TRUE(std::none_of(first_standby, handover.end(), [&](const Scan& s) {
    return s.writer == primary;
  })) << describe(handover);

  auto activated = v.wait_for("lidar_backup", "standby_activated", 10s);
  EXPECT_EQ(activated["detail"].value("primary", ""), "lidar") << activated.dump();
  EXPECT_EQ(activated["detail"].value("hot", false), true) << activated.dump();
  EXPECT_EQ(activated["detail"].value("failback", ""), "immediate") << activated.dump();
  EXPECT_EQ(activated["detail"].value("ownership_strength", 0), 1) << activated.dump();

  // vigild restarts the primary; it outranks the standby again and the reader goes back to it.
  v.wait_for("lidar", "ready", 15s, activated["id"]);
  const pid_t restarted = v.component("lidar").value("pid", 0);
  ASSERT_GT(restarted, 0);
  ASSERT_NE(restarted, pair.primary);
  EXPECT_EQ(v.component("lidar").value("ownership_strength", 0), 2);
  const std::string back = writer_label("primary", restarted);
  ASSERT_TRUE(reader.wait_for_run_from(back, 20, 10s)) << describe(reader.since(before_kill));
  const size_t after_failback = reader.count();
  ASSERT_TRUE(reader.wait_for_scans_from(back, 50, after_failback, 10s));
  EXPECT_EQ(only_writer(reader.since(after_failback)), back)
      << describe(reader.since(after_failback));
  EXPECT_LE(to_ms(largest_gap(reader.since(before_kill))), to_ms(kLease + kHandoverSlack));
}

TEST(DdsStandby, WithFailbackStayTheRestartedPrimaryComesBackBelowTheServingStandby) {
  use_loopback_dds();
  const int domain = private_domain();
  ScanReader reader(domain);
  ASSERT_EQ(reader.error(), "");
  Vigild v(pair_config(domain, "stay"));
  const RunningPair pair = start_pair(v, reader);
  ASSERT_GT(pair.primary, 0);
  const std::string standby = writer_label("standby", pair.standby);

  const size_t before_kill = last_scan(reader);
  ASSERT_EQ(::kill(pair.primary, SIGKILL), 0);
  ASSERT_TRUE(reader.wait_for_run_from(standby, 20, 10s)) << describe(reader.since(before_kill));
  auto activated = v.wait_for("lidar_backup", "standby_activated", 10s);
  EXPECT_EQ(activated["detail"].value("failback", ""), "stay") << activated.dump();

  v.wait_for("lidar", "ready", 15s, activated["id"]);
  const pid_t restarted = v.component("lidar").value("pid", 0);
  ASSERT_GT(restarted, 0);
  ASSERT_NE(restarted, pair.primary);
  // The status omits a strength of 0: read it as 0.
  const int primary_strength = v.component("lidar").value("ownership_strength", 0);
  const int standby_strength = v.component("lidar_backup").value("ownership_strength", 0);
  EXPECT_LT(primary_strength, standby_strength) << v.component("lidar").dump() << "\n"
                                                << v.component("lidar_backup").dump();

  // Once the reader knows the restarted primary's writer, a second of scans: all the standby's.
  ASSERT_TRUE(reader.wait_for_writers_matched(3, 10s))
      << "the restarted primary's writer never matched";
  const size_t restarted_matched = reader.count();
  ASSERT_TRUE(reader.wait_for_scans_from(standby, 100, restarted_matched, 10s));
  EXPECT_EQ(only_writer(reader.since(restarted_matched)), standby)
      << describe(reader.since(restarted_matched));
  const double gap_ms = to_ms(largest_gap(reader.since(before_kill)));
  RecordProperty("kill9_handover_gap_ms", std::to_string(gap_ms));
  std::printf("kill -9 of the primary (failback stay): largest gap %.1f ms\n", gap_ms);
  EXPECT_LE(gap_ms, to_ms(kLease + kHandoverSlack)) << describe(reader.since(before_kill));
  EXPECT_GE(gap_ms, to_ms(kShortestHandover)) << describe(reader.since(before_kill));
}

TEST(DdsStandby, AStoppedPrimaryLosesOwnershipWithinTheLeaseAndRegainsItWhenContinued) {
  use_loopback_dds();
  const int domain = private_domain();
  ScanReader reader(domain);
  ASSERT_EQ(reader.error(), "");
  Vigild v(pair_config(domain, "immediate"));
  const RunningPair pair = start_pair(v, reader);
  ASSERT_GT(pair.primary, 0);
  const std::string primary = writer_label("primary", pair.primary);
  const std::string standby = writer_label("standby", pair.standby);

  // A hang: the process lives, its participant stays known, but it writes nothing, so its
  // MANUAL_BY_TOPIC liveliness lapses after one lease.
  const size_t before_stop = last_scan(reader);
  ASSERT_EQ(::kill(pair.primary, SIGSTOP), 0);
  ContinueOnExit resume{pair.primary};
  ASSERT_TRUE(reader.wait_for_scans_from(standby, 50, before_stop, 10s))
      << describe(reader.since(before_stop));
  const double gap_ms = to_ms(largest_gap(reader.since(before_stop)));
  RecordProperty("sigstop_handover_gap_ms", std::to_string(gap_ms));
  std::printf("SIGSTOP of the primary: largest gap at the reader %.1f ms (lease %lld ms)\n", gap_ms,
              static_cast<long long>(kLease.count()));
  EXPECT_LE(gap_ms, to_ms(kLease + kHandoverSlack)) << describe(reader.since(before_stop));
  EXPECT_GE(gap_ms, to_ms(kShortestHandover)) << describe(reader.since(before_stop));

  // Continued, it writes again with the higher strength: the reader takes its scans again.
  ASSERT_EQ(::kill(pair.primary, SIGCONT), 0);
  ASSERT_TRUE(reader.wait_for_run_from(primary, 20, 10s)) << describe(reader.since(before_stop));
  EXPECT_TRUE(process_alive(pair.standby));
}

}  // namespace
}  // namespace vigil::testing
