#include "watchdog/notify_message.hpp"

#include <gtest/gtest.h>

namespace vigil::watchdog {
namespace {

TEST(NotifyMessage, UnderstandsEverySystemdKeyVigilUses) {
  auto m = parse_notify_message(
      "READY=1\nSTATUS=Processing requests\nWATCHDOG=1\nWATCHDOG_USEC=2000000\n"
      "EXTEND_TIMEOUT_USEC=5000000\nERRNO=5\nMAINPID=42\nSTOPPING=1\n");
  EXPECT_TRUE(m.ready);
  EXPECT_TRUE(m.watchdog_ping);
  EXPECT_TRUE(m.stopping);
  EXPECT_EQ(m.status, "Processing requests");
  EXPECT_EQ(m.watchdog_usec, 2000000u);
  EXPECT_EQ(m.extend_timeout_usec, 5000000u);
  EXPECT_EQ(m.error_number, 5);
  EXPECT_EQ(m.main_pid, 42u);
  EXPECT_EQ(m.ignored_lines, 0);
}

TEST(NotifyMessage, TriggerIsAHangReport) {
  auto m = parse_notify_message("WATCHDOG=trigger");
  EXPECT_TRUE(m.watchdog_trigger);
  EXPECT_FALSE(m.watchdog_ping);
}

TEST(NotifyMessage, UnknownKeysAndBadValuesAreIgnoredAndCounted) {
  auto m = parse_notify_message(
      "FDSTORE=1\nREADY=2\nWATCHDOG_USEC=-5\nERRNO=abc\nnonsense\n\n"
      "MAINPID=0\nX-CUSTOM=1");
  EXPECT_FALSE(m.ready);
  EXPECT_FALSE(m.watchdog_usec);
  EXPECT_FALSE(m.error_number);
  EXPECT_FALSE(m.main_pid);
  EXPECT_EQ(m.ignored_lines, 7);
}

TEST(NotifyMessage, StatusIsSanitisedAndBounded) {
  auto m = parse_notify_message("STATUS=ok\x1b[31mred\x01\nREADY=1");
  EXPECT_EQ(m.status, "ok?[31mred?");
  EXPECT_TRUE(m.ready);
  auto long_status = parse_notify_message("STATUS=" + std::string(10000, 'x'));
  EXPECT_EQ(long_status.status->size(), 512u);
}

TEST(NotifyMessage, EmbeddedNulAndEmptyInputDoNotConfuseIt) {
  EXPECT_EQ(parse_notify_message("").ignored_lines, 0);
  auto m = parse_notify_message(std::string("READY=1\0WATCHDOG=1", 18));
  EXPECT_FALSE(m.ready);  // "1\0WATCHDOG=1" is not "1"
  EXPECT_EQ(m.ignored_lines, 1);
}

}  // namespace
}  // namespace vigil::watchdog

namespace vigil::watchdog {
namespace {

TEST(NotifyMessage, WatchedLoopExtension) {
  auto beat = parse_notify_message("WATCHDOG=1\nVIGIL_LOOP=planner");
  EXPECT_TRUE(beat.watchdog_ping);
  EXPECT_EQ(beat.loop, "planner");
  EXPECT_FALSE(beat.loop_usec);
  auto declare = parse_notify_message("VIGIL_LOOP=planner\nVIGIL_LOOP_USEC=500000\n");
  EXPECT_EQ(declare.loop_usec, 500000u);
  EXPECT_EQ(declare.ignored_lines, 0);
  auto bad =
      parse_notify_message("VIGIL_LOOP=\nVIGIL_LOOP_USEC=-1\nVIGIL_LOOP=" + std::string(65, 'x'));
  EXPECT_FALSE(bad.loop);
  EXPECT_FALSE(bad.loop_usec);
  EXPECT_EQ(bad.ignored_lines, 3);
}

}  // namespace
}  // namespace vigil::watchdog
