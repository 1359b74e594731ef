// The hardware watchdog link: vigild keeps the device alive while the required components are
// healthy, stops when one stays down (and says so), resumes when it is back, and disarms on a
// clean stop. The device here is a FIFO the test reads: a real /dev/watchdog (softdog) would
// reset the machine running the tests. vigild uses it exactly as a watchdog device (open,
// one-byte writes, 'V' before close); only the WDIOC_SETTIMEOUT ioctl fails (ENOTTY), which
// vigild reports as `timeout_set: false`.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "common/unique_fd.hpp"
#include "integration/harness.hpp"

namespace vigil::testing {
namespace {

using Clock = std::chrono::steady_clock;

// What the device received during `duration`.
std::string read_device(int fd, std::chrono::milliseconds duration) {
  std::string got;
  const auto deadline = Clock::now() + duration;
  for (auto now = Clock::now(); now < deadline; now = Clock::now()) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[256];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
    if (n == 0) ::poll(nullptr, 0, 10);  // no writer at the moment
  }
  return got;
}

TEST(HardwareWatchdog, KeptAliveOnlyWhileTheRequiredComponentIsUpAndDisarmedOnAStop) {
  Vigild v(R"(
hardware_watchdog: {device: @DIR@/watchdog, timeout: 2s, interval: 100ms, require: [critical]}
root:
  children:
    - name: critical
      command: [/bin/sleep, "3600"]
      restart: temporary
    - name: other
      command: [/bin/sleep, "3600"]
      restart: temporary
)");
  const std::string device = v.dir() + "/watchdog";
  ASSERT_EQ(::mkfifo(device.c_str(), 0600), 0);
  // Open for reading first, so that vigild's open for writing does not wait for a reader.
  UniqueFd reader(::open(device.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  ASSERT_TRUE(reader.valid());
  v.start();
  v.wait_for("critical", "ready");

  const std::string alive = read_device(reader.get(), std::chrono::milliseconds(1000));
  EXPECT_GE(alive.size(), 5u) << "keepalives every 100 ms";
  EXPECT_EQ(alive.find('V'), std::string::npos) << "never the disarming byte while running";
  const json status = v.status()["daemon"]["hardware_watchdog"];
  EXPECT_EQ(status.value("healthy", false), true) << status.dump();
  EXPECT_EQ(status.value("timeout_set", true), false) << "a FIFO has no WDIOC_SETTIMEOUT";

  // Another component failing changes nothing; the required one failing stops the keepalives.
  ::kill(v.component("other").value("pid", 0), SIGKILL);
  v.wait_for("other", "stopped", 10s);
  EXPECT_GE(read_device(reader.get(), std::chrono::milliseconds(500)).size(), 2u);
  const std::int64_t before = v.events().back()["id"].get<std::int64_t>();
  ::kill(v.component("critical").value("pid", 0), SIGKILL);
  const json stopped = v.wait_for(
      [](const json& e) {
        return e.value("kind", "") == "warning" &&
               e["detail"].value("source", "") == "hardware_watchdog";
      },
      10s, before);
  EXPECT_NE(stopped.value("reason", "").find("critical is failed"), std::string::npos)
      << stopped.dump();
  read_device(reader.get(), std::chrono::milliseconds(150));  // one already on its way
  EXPECT_EQ(read_device(reader.get(), std::chrono::milliseconds(600)), "")
      << "no keepalive while critical is down";

  // Back up: keepalives resume.
  ASSERT_TRUE(v.request({{"cmd", "start"}, {"name", "critical"}}).value("ok", false));
  v.wait_for(
      [](const json& e) {
        return e.value("kind", "") == "warning_cleared" &&
               e["detail"].value("source", "") == "hardware_watchdog";
      },
      10s, stopped["id"]);
  EXPECT_GE(read_device(reader.get(), std::chrono::milliseconds(500)).size(), 2u);

  // A clean stop disarms: the last byte the device sees is 'V'.
  EXPECT_EQ(v.stop(), 0);
  const std::string last = read_device(reader.get(), std::chrono::milliseconds(300));
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(last.back(), 'V');
}

}  // namespace
}  // namespace vigil::testing
