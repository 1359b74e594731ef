// The datagrams libvigil sends, received on a real socket of the test's own.
#include "vigil/notify.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "notify_receiver.hpp"
#include "vigil/watched_loop.hpp"

namespace vigil {
namespace {

using namespace std::chrono_literals;

TEST(Notify, SendsTheExactDatagrams) {
  test::NotifyReceiver receiver;
  ASSERT_TRUE(notify_ready());
  EXPECT_EQ(receiver.receive(), "READY=1");
  ASSERT_TRUE(notify_status("planning route 3"));
  EXPECT_EQ(receiver.receive(), "STATUS=planning route 3");
  ASSERT_TRUE(notify_status("two\nlines"));  // a newline must not smuggle in another key
  EXPECT_EQ(receiver.receive(), "STATUS=two lines");
  ASSERT_TRUE(extend_timeout(2500ms));
  EXPECT_EQ(receiver.receive(), "EXTEND_TIMEOUT_USEC=2500000");
  ASSERT_TRUE(notify_watchdog());
  EXPECT_EQ(receiver.receive(), "WATCHDOG=1");
  ASSERT_TRUE(notify_stopping());
  EXPECT_EQ(receiver.receive(), "STOPPING=1");
}

TEST(Notify, WatchedLoopDeclaresBeatsAndRetires) {
  test::NotifyReceiver receiver;
  {
    WatchedLoop loop("plan", 500ms);
    ASSERT_TRUE(loop.declare_status());
    EXPECT_EQ(receiver.receive(), "VIGIL_LOOP=plan\nVIGIL_LOOP_USEC=500000");
    ASSERT_TRUE(loop.beat());
    EXPECT_EQ(receiver.receive(), "WATCHDOG=1\nVIGIL_LOOP=plan");
    WatchedLoop moved = std::move(loop);
    ASSERT_TRUE(moved.beat());
    EXPECT_EQ(receiver.receive(), "WATCHDOG=1\nVIGIL_LOOP=plan");
    EXPECT_FALSE(loop.beat());  // NOLINT: the moved-from loop is inert
  }
  EXPECT_EQ(receiver.receive(), "VIGIL_LOOP=plan\nVIGIL_LOOP_USEC=0");
  EXPECT_EQ(receiver.receive(50ms), std::nullopt) << "retired once, not twice";
}

TEST(Notify, InvalidLoopNamesSendNothing) {
  test::NotifyReceiver receiver;
  EXPECT_TRUE(is_valid_loop_name("sensors/lidar-front_1.scan"));
  EXPECT_TRUE(is_valid_loop_name(std::string(64, 'x')));
  EXPECT_FALSE(is_valid_loop_name(std::string(65, 'x')));
  EXPECT_FALSE(is_valid_loop_name(""));
  EXPECT_FALSE(is_valid_loop_name("plan\nREADY=1"));
  EXPECT_FALSE(is_valid_loop_name("white space"));
  WatchedLoop bad("bad name", 100ms);
  EXPECT_EQ(bad.declare_status().error(), EINVAL);
  EXPECT_EQ(bad.beat().error(), EINVAL);
  WatchedLoop no_deadline("ok", 0ms);
  EXPECT_EQ(no_deadline.declare_status().error(), EINVAL);
  EXPECT_EQ(receiver.receive(50ms), std::nullopt);
}

TEST(Notify, AbstractSocketName) {
  test::NotifyReceiver receiver(/*abstract=*/true);
  ASSERT_EQ(receiver.address()[0], '@');
  ASSERT_TRUE(notify_ready()) << notify_ready().message();
  EXPECT_EQ(receiver.receive(), "READY=1");
}

TEST(Notify, WithoutNotifySocketEveryCallIsASuccessfulNoOp) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(notify_ready());
  EXPECT_TRUE(notify_watchdog());
  EXPECT_TRUE(notify_status("x"));
  EXPECT_TRUE(extend_timeout(1s));
  WatchedLoop loop("plan", 100ms);
  EXPECT_TRUE(loop.declare_status());
  EXPECT_TRUE(loop.beat());
  ::setenv("NOTIFY_SOCKET", "", 1);
  EXPECT_TRUE(notify_ready());
  ::unsetenv("NOTIFY_SOCKET");
}

TEST(Notify, BadSocketAddressesAreErrorsNotCrashes) {
  ::setenv("NOTIFY_SOCKET", "relative/path", 1);
  EXPECT_EQ(notify_ready().error(), EINVAL);
  ::setenv("NOTIFY_SOCKET", ("/" + std::string(200, 'x')).c_str(), 1);
  EXPECT_EQ(notify_ready().error(), EINVAL);
  ::setenv("NOTIFY_SOCKET", "/nonexistent-dir-for-libvigil/notify.sock", 1);
  const Status s = notify_ready();
  EXPECT_FALSE(s);
  EXPECT_EQ(s.error(), ENOENT) << s.message();
  ::unsetenv("NOTIFY_SOCKET");
}

TEST(Notify, WatchdogIntervalHonoursWatchdogPid) {
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  EXPECT_EQ(watchdog_interval(), std::nullopt);
  ::setenv("WATCHDOG_USEC", "400000", 1);
  EXPECT_EQ(watchdog_interval(), std::chrono::microseconds(400000));
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  EXPECT_EQ(watchdog_interval(), std::chrono::microseconds(400000));
  ::setenv("WATCHDOG_PID", "1", 1);  // meant for another process
  EXPECT_EQ(watchdog_interval(), std::nullopt);
  ::unsetenv("WATCHDOG_PID");
  ::setenv("WATCHDOG_USEC", "12abc", 1);
  EXPECT_EQ(watchdog_interval(), std::nullopt);
  ::setenv("WATCHDOG_USEC", "0", 1);
  EXPECT_EQ(watchdog_interval(), std::nullopt);
  ::unsetenv("WATCHDOG_USEC");
}

}  // namespace
}  // namespace vigil
