// Network faults for DDS traffic (`vigil chaos partition|packet-loss`), in a network namespace
// the test creates: the test process unshares its network namespace before it starts vigild,
// so vigild, the components, their Cyclone DDS participants and the nftables rules vigild
// adds all live in a namespace with nothing but a loopback interface, apart from the machine
// and from the other tests running in parallel. Needs root (CAP_NET_ADMIN) and nftables
// (scripts/install-deps.sh).
//
// Shown here: a DDS heartbeat partitioned for longer than its lease is detected (by the lease,
// well before the watchdog timeout); 20 % packet loss with a lease of 10 heartbeat periods
// raises no false alarm; a vigild killed during a partition leaves no partition behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/unique_fd.hpp"
#include "integration/harness.hpp"
#include "support/dds_env.hpp"

namespace vigil::testing {
namespace {

using namespace std::chrono_literals;

// The calling thread (and so every process it starts) in a network namespace of its own with
// loopback up; restored to the original one on destruction.
class OwnNetworkNamespace {
 public:
  OwnNetworkNamespace() : original_(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) {
    if (::unshare(CLONE_NEWNET) != 0) {
      error_ = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno) +
               " (the network fault tests need root)";
      return;
    }
    // `ip link set lo up`, without depending on where ip is installed.
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq request{};
    std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    if (sock.get() < 0 || ::ioctl(sock.get(), SIOCGIFFLAGS, &request) != 0) {
      error_ = std::string("SIOCGIFFLAGS lo: ") + std::strerror(errno);
      return;
    }
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
    if (::ioctl(sock.get(), SIOCSIFFLAGS, &request) != 0) {
      error_ = std::string("SIOCSIFFLAGS lo up: ") + std::strerror(errno);
    }
  }
  ~OwnNetworkNamespace() {
    if (original_.get() >= 0) (void)::setns(original_.get(), CLONE_NEWNET);
  }
  const std::string& error() const { return error_; }

 private:
  UniqueFd original_;
  std::string error_;
};

CommandResult chaos(Vigild& v, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {bin("vigil"), "--socket", v.state_dir() + "/control.sock",
                                   "chaos"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

// A component that beats over DDS only (vigil_msgs/Heartbeat, MANUAL_BY_TOPIC liveliness).
std::string beater_config(int domain, const std::string& period, const std::string& lease,
                          const std::string& watchdog) {
  return R"(
dds: {domain: )" +
         std::to_string(domain) + R"(}
root:
  intensity: {restarts: 50, within: 1m}
  children:
    - name: beater
      command: [@BIN@/dds_heartbeat, --name, beater, --lease, )" +
         lease + ", --period, " + period + R"(]
      env: {ROS_DOMAIN_ID: ")" +
         std::to_string(domain) + R"("}
      watchdog: {timeout: )" +
         watchdog + R"(, stacks: false}
      backoff: {initial: 10ms, jitter: 0}
)";
}

std::string nft_tables() {
  return run_command({"/usr/sbin/nft", "list", "tables"}).output;
}

TEST(NetworkFault, APartitionLongerThanTheLeaseIsDetectedByTheLease) {
  OwnNetworkNamespace ns;
  ASSERT_EQ(ns.error(), "");
  use_loopback_dds();
  const int domain = private_domain();
  // Lease 500 ms, watchdog 5 s: a detection within a second is the lease's.
  Vigild v(beater_config(domain, "100ms", "500ms", "5s"));
  v.start();
  auto ready = v.wait_for("beater", "ready");
  ASSERT_TRUE(v.poll_until([&] { return v.component("beater")["heartbeats"] > 5; }, 15s))
      << "no DDS heartbeats reached vigild";
  const pid_t pid = v.component("beater")["pid"];

  auto out = chaos(v, {"partition", "beater", "--for", "3s"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  auto injected = v.wait_for("beater", "fault_injected", 10s, ready["id"]);
  EXPECT_EQ(injected["detail"]["fault"], "partition");
  ASSERT_FALSE(injected["detail"]["ports"].empty()) << injected.dump();
  EXPECT_NE(nft_tables().find("vigil_chaos_"), std::string::npos) << nft_tables();

  auto hang = v.wait_for("beater", "hang_detected", 10s, injected["id"]);
  const double after_ms = static_cast<double>(hang["mono_us"].get<std::int64_t>() -
                                              injected["mono_us"].get<std::int64_t>()) /
                          1000.0;
  std::printf("partition detected %.1f ms after the injection (lease 500 ms, period 100 ms)\n",
              after_ms);
  RecordProperty("partition_detection_ms", std::to_string(after_ms));
  EXPECT_EQ(hang["detail"].value("source", ""), "dds_liveliness") << hang.dump();
  EXPECT_EQ(hang["detail"]["pid"], pid) << hang.dump();
  // The last beat that got through was at most one period before the cut.
  EXPECT_GE(after_ms, 500.0 - 110.0) << hang.dump();
  EXPECT_LE(after_ms, 2000.0) << hang.dump();

  // The restart replaces the process: the fault ends there (the new process may reuse the
  // ports), with what it dropped, and the rules are gone.
  auto cleared = v.wait_for("beater", "fault_cleared", 10s, injected["id"]);
  EXPECT_EQ(cleared["detail"]["undone"], true) << cleared.dump();
  EXPECT_GT(cleared["detail"]["datagrams_dropped"].get<std::int64_t>(), 0) << cleared.dump();
  EXPECT_EQ(cleared["detail"]["datagrams_seen"], cleared["detail"]["datagrams_dropped"])
      << "a partition lets nothing through";
  EXPECT_EQ(nft_tables().find("vigil_chaos_"), std::string::npos) << nft_tables();
  auto back = v.wait_for("beater", "ready", 15s, hang["id"]);
  const int beats = v.component("beater")["heartbeats"];
  EXPECT_TRUE(v.poll_until([&] { return v.component("beater")["heartbeats"] > beats + 5; }, 15s))
      << "the restarted beater's heartbeats do not arrive";
}

TEST(NetworkFault, TwentyPercentLossWithALeaseOfTenPeriodsRaisesNoFalseAlarm) {
  OwnNetworkNamespace ns;
  ASSERT_EQ(ns.error(), "");
  use_loopback_dds();
  const int domain = private_domain();
  // Beats every 100 ms; lease and watchdog 1 s, ten periods.
  Vigild v(beater_config(domain, "100ms", "1s", "1s"));
  v.start();
  auto ready = v.wait_for("beater", "ready");
  ASSERT_TRUE(v.poll_until([&] { return v.component("beater")["heartbeats"] > 5; }, 15s))
      << "no DDS heartbeats reached vigild";
  const int beats_before = v.component("beater")["heartbeats"];

  auto out =
      chaos(v, {"packet-loss", "beater", "--for", "30s", "--loss", "20%", "--expect", "none"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  auto injected = v.wait_for("beater", "fault_injected", 10s, ready["id"]);
  EXPECT_EQ(injected["detail"]["loss_percent"], 20.0);
  EXPECT_EQ(injected["detail"]["expect"], "none") << "for the soak report: to be ridden out";
  auto cleared = v.wait_for("beater", "fault_cleared", 45s, injected["id"]);

  // The loss was real: about a fifth of the component's datagrams were dropped...
  const auto dropped = cleared["detail"]["datagrams_dropped"].get<double>();
  const auto seen = cleared["detail"]["datagrams_seen"].get<double>();
  std::printf("30 s of 20%% loss: %.0f of %.0f datagrams dropped\n", dropped, seen);
  ASSERT_GT(seen, 200.0) << cleared.dump();
  EXPECT_GT(dropped / seen, 0.10) << cleared.dump();
  EXPECT_LT(dropped / seen, 0.30) << cleared.dump();
  EXPECT_EQ(cleared["detail"]["undone"], true);
  // ... and nothing was taken for a failure: no hang, no warning, the same process.
  for (const auto& e : v.events()) {
    if (e["id"] <= injected["id"] || e["id"] >= cleared["id"]) continue;
    EXPECT_TRUE(e["kind"] != "hang_detected" && e["kind"] != "failed" && e["kind"] != "warning" &&
                e["kind"] != "exited")
        << "false alarm under 20 % loss: " << e.dump();
  }
  EXPECT_EQ(v.component("beater")["pid"], injected["detail"]["pid"]);
  EXPECT_EQ(v.component("beater")["restarts"], 0);
  EXPECT_GT(v.component("beater")["heartbeats"].get<int>(), beats_before + 200);
}

TEST(NetworkFault, AVigildKilledDuringAPartitionLeavesNoPartitionBehind) {
  OwnNetworkNamespace ns;
  ASSERT_EQ(ns.error(), "");
  use_loopback_dds();
  const int domain = private_domain();
  Vigild v(beater_config(domain, "100ms", "10s", "10s"));
  v.start();
  v.wait_for("beater", "ready");
  ASSERT_TRUE(v.poll_until([&] { return v.component("beater")["heartbeats"] > 5; }, 15s));
  auto out = chaos(v, {"partition", "beater", "--for", "1h"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  ASSERT_NE(nft_tables().find("vigil_chaos_"), std::string::npos);

  v.kill9();
  v.start();
  auto removed = v.wait_for(
      [](const json& e) {
        return e["kind"] == "warning" && e["detail"].value("source", "") == "chaos";
      },
      10s);
  EXPECT_EQ(removed["detail"]["removed_tables"], 1) << removed.dump();
  EXPECT_EQ(nft_tables().find("vigil_chaos_"), std::string::npos) << nft_tables();
}

TEST(NetworkFault, AComponentWithoutSocketsIsRefused) {
  OwnNetworkNamespace ns;
  ASSERT_EQ(ns.error(), "");
  Vigild v(R"(
root:
  children:
    - name: sleeper
      command: [/bin/sleep, "3600"]
)");
  v.start();
  v.wait_for("sleeper", "spawned");
  auto reply = v.request(
      {{"cmd", "chaos"}, {"fault", "partition"}, {"name", "sleeper"}, {"duration_ms", 1000}});
  EXPECT_FALSE(reply.value("ok", true));
  const std::string error = reply.value("error", "");
  EXPECT_NE(error.find("holds no UDP sockets"), std::string::npos) << error;
  EXPECT_TRUE(v.events_of("sleeper", "fault_injected").empty());
}

}  // namespace
}  // namespace vigil::testing
