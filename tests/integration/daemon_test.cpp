// vigild itself: signals, exclusivity, its own exit status.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cstring>

#include "common/unique_fd.hpp"
#include "integration/harness.hpp"
#include "process/spawn.hpp"

namespace vigil::testing {
namespace {

// Regression: a notify read already queued when vigild tore the socket down ran on a
// destroyed object (SIGSEGV at shutdown under heartbeat load).
TEST(Daemon, ShutsDownCleanlyUnderHeartbeatLoad) {
  std::string yaml = "root:\n  intensity: {restarts: 100, within: 1m}\n  children:\n";
  for (int i = 0; i < 30; ++i) {
    yaml += "    - name: c" + std::to_string(i) +
            "\n      command: [@BIN@/robot_sim, --heartbeat, 2ms]\n      ready: notify\n"
            "      watchdog: {timeout: 2s}\n";
  }
  Vigild v(yaml);
  v.start();
  for (int i = 0; i < 30; ++i) v.wait_for("c" + std::to_string(i), "ready");
  EXPECT_TRUE(v.poll_until([&] { return v.status()["daemon"]["notify_received"] > 3000; }, 20s));
  EXPECT_EQ(v.stop(), 0) << v.vigild_output();
}

TEST(Daemon, ASecondVigildOnTheSameStateDirIsRefused) {
  Vigild v(R"(
root:
  children:
    - name: a
      command: [@BIN@/robot_sim]
      ready: notify
)");
  v.start();
  const auto pid = v.wait_for("a", "ready")["detail"]["pid"];
  auto second = run_command({bin("vigild"), "--config", v.config_path()});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.output.find("another vigild is already running"), std::string::npos)
      << second.output;
  EXPECT_EQ(v.component("a")["pid"], pid) << "the second vigild touched the first one's work";
}

TEST(Daemon, SighupReloadsTheConfig) {
  Vigild v(R"(
root:
  children:
    - name: a
      command: [@BIN@/robot_sim]
      ready: notify
)");
  v.start();
  v.wait_for("a", "ready");
  v.write_config(R"(
root:
  children:
    - name: a
      command: [@BIN@/robot_sim]
      ready: notify
    - name: b
      command: [@BIN@/robot_sim]
      ready: notify
)");
  ASSERT_EQ(::kill(v.pid(), SIGHUP), 0);
  auto reloaded = v.wait_for("", "config_reloaded");
  EXPECT_EQ(reloaded["detail"]["added"], json::array({"b"}));
  v.wait_for("b", "ready", 10s, reloaded["id"]);
}

}  // namespace
}  // namespace vigil::testing

namespace vigil::testing {
namespace {

// vigild under systemd: READY=1 once up, WATCHDOG=1 at half of WATCHDOG_USEC from its loop,
// STOPPING=1 on SIGTERM. Here this test plays systemd's part with a socket of its own.
TEST(Daemon, SpeaksTheNotifyProtocolToItsOwnServiceManager) {
  Vigild v(R"(
root:
  children:
    - name: a
      command: [@BIN@/robot_sim]
      ready: notify
)");
  const std::string path = v.dir() + "/manager.sock";
  UniqueFd manager(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(manager.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  process::SpawnRequest request;
  request.argv = {bin("vigild"), "--config", v.config_path()};
  for (char** e = environ; *e != nullptr; ++e) request.env.emplace_back(*e);
  request.env.push_back("NOTIFY_SOCKET=" + path);
  request.env.push_back("WATCHDOG_USEC=200000");
  auto spawned = process::spawn(request);
  ASSERT_TRUE(spawned.process.has_value()) << spawned.error.message;
  auto next = [&](std::chrono::milliseconds timeout) {
    pollfd pfd{manager.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return std::string();
    char buf[4096];
    const ssize_t n = ::recv(manager.get(), buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  };
  std::string first = next(10s);
  EXPECT_NE(first.find("READY=1"), std::string::npos) << first;
  int pings = 0;
  for (int i = 0; i < 20 && pings < 5; ++i) pings += next(1s) == "WATCHDOG=1" ? 1 : 0;
  EXPECT_GE(pings, 5) << "vigild did not ping its own watchdog every 100 ms";
  ::kill(spawned.process->pid, SIGTERM);
  bool stopping = false;
  for (int i = 0; i < 50 && !stopping; ++i)
    stopping = next(1s).find("STOPPING=1") != std::string::npos;
  EXPECT_TRUE(stopping);
  siginfo_t info{};
  ::waitid(P_PIDFD, static_cast<id_t>(spawned.process->pidfd.get()), &info, WEXITED);
  EXPECT_EQ(info.si_code, CLD_EXITED);
  EXPECT_EQ(info.si_status, 0);
}

}  // namespace
}  // namespace vigil::testing
