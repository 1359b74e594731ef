#include "common/units.hpp"

#include <gtest/gtest.h>

#include <csignal>

using namespace vigil;
using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(parse_duration("250ms"), Duration(250ms));
  EXPECT_EQ(parse_duration("5s"), Duration(5s));
  EXPECT_EQ(parse_duration("2m"), Duration(2min));
  EXPECT_EQ(parse_duration("1h"), Duration(1h));
  EXPECT_EQ(parse_duration("1d"), Duration(24h));
  EXPECT_EQ(parse_duration("1.5s"), Duration(1500ms));
  EXPECT_EQ(parse_duration("100us"), Duration(100us));
  EXPECT_EQ(parse_duration("0"), Duration(0));
}

TEST(ParseDuration, RejectsMissingOrUnknownUnits) {
  EXPECT_FALSE(parse_duration("5"));
  EXPECT_FALSE(parse_duration("5 parsecs"));
  EXPECT_FALSE(parse_duration("ms"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("1e30d"));
}

TEST(ParseSize, BinaryAndDecimalUnits) {
  EXPECT_EQ(parse_size("200MiB"), 200ull << 20);
  EXPECT_EQ(parse_size("1GiB"), 1ull << 30);
  EXPECT_EQ(parse_size("64KiB"), 64ull << 10);
  EXPECT_EQ(parse_size("10MB"), 10'000'000ull);
  EXPECT_EQ(parse_size("4096"), 4096ull);
  EXPECT_FALSE(parse_size("12 furlongs"));
  EXPECT_FALSE(parse_size("MiB"));
}

TEST(ParseSignal, NamesAndNumbers) {
  EXPECT_EQ(parse_signal("SIGTERM"), SIGTERM);
  EXPECT_EQ(parse_signal("term"), SIGTERM);
  EXPECT_EQ(parse_signal("SIGKILL"), SIGKILL);
  EXPECT_EQ(parse_signal("9"), 9);
  EXPECT_FALSE(parse_signal("SIGNOPE"));
  EXPECT_FALSE(parse_signal("0"));
  EXPECT_EQ(signal_name(SIGSEGV), "SIGSEGV");
}

TEST(FormatDuration, ShortAndHuman) {
  EXPECT_EQ(format_duration(350ms), "350ms");
  EXPECT_EQ(format_duration(1200ms), "1.2s");
  EXPECT_EQ(format_duration(125s), "2m05s");
  EXPECT_EQ(format_duration(3h + 12min), "3h12m");
}
