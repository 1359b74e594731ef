#include "http/request_parsing.hpp"

#include <gtest/gtest.h>

namespace vigil::http {
namespace {

int status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const HttpError& e) {
    return e.status;
  }
  return 200;
}

TEST(RequestParsing, QueryParametersAreCheckedStrictly) {
  const QueryParams ok{{"limit", "20"}, {"since", "15m"}};
  EXPECT_EQ(status_of([&] { allow_params(ok, {"limit", "since"}); }), 200);
  EXPECT_EQ(int_param(ok, "limit", 1, 100, 5), 20);
  EXPECT_EQ(int_param(ok, "after", 0, 100, 7), 7);
  EXPECT_EQ(duration_param(ok, "since", 0), 15LL * 60 * 1'000'000);
  EXPECT_EQ(status_of([&] { allow_params(ok, {"limit"}); }), 400);
  EXPECT_EQ(status_of([&] { allow_params({{"a", "1"}, {"a", "2"}}, {"a"}); }), 400);
  EXPECT_EQ(status_of([&] { (void)int_param({{"n", "12x"}}, "n", 0, 100, 0); }), 400);
  EXPECT_EQ(status_of([&] { (void)int_param({{"n", "101"}}, "n", 0, 100, 0); }), 400);
  EXPECT_EQ(status_of([&] { (void)duration_param({{"d", "0s"}}, "d", 0); }), 400);
  EXPECT_EQ(status_of([&] { (void)text_param({{"c", std::string(300, 'x')}}, "c"); }), 400);
  try {
    allow_params({{"limt", "5"}}, {"limit", "since"});
    FAIL();
  } catch (const HttpError& e) {
    EXPECT_STREQ(e.what(), "unknown query parameter 'limt' (expected: limit, since)");
  }
}

TEST(RequestParsing, CommandBodyIsEmptyOrAReason) {
  EXPECT_EQ(parse_command_body(""), nlohmann::json::object());
  EXPECT_EQ(parse_command_body(R"({"reason":"update"})")["reason"], "update");
  EXPECT_EQ(status_of([] { (void)parse_command_body("{"); }), 400);
  EXPECT_EQ(status_of([] { (void)parse_command_body("[]"); }), 400);
  EXPECT_EQ(status_of([] { (void)parse_command_body(R"({"reason":1})"); }), 400);
  EXPECT_EQ(status_of([] { (void)parse_command_body(R"({"why":"x"})"); }), 400);
  EXPECT_EQ(
      status_of([] { (void)parse_command_body(R"({"reason":")" + std::string(501, 'x') + "\"}"); }),
      400);
}

TEST(RequestParsing, ApprovalIdsFromThePathAreShortPrintableAscii) {
  EXPECT_EQ(checked_approval_id("1"), "1");
  EXPECT_EQ(checked_approval_id("lidar-7"), "lidar-7");
  EXPECT_EQ(status_of([] { (void)checked_approval_id(""); }), 400);
  EXPECT_EQ(status_of([] { (void)checked_approval_id("a b"); }), 400);
  EXPECT_EQ(status_of([] { (void)checked_approval_id("\x1b[2J"); }), 400);
  EXPECT_EQ(status_of([] { (void)checked_approval_id(std::string(65, '1')); }), 400);
  try {
    (void)checked_approval_id("a\nb");
    FAIL();
  } catch (const HttpError& e) {
    EXPECT_STREQ(e.what(),
                 "an approval id is printable ASCII without spaces (`vigil status` lists them)");
  }
}

TEST(RequestParsing, HeadersForRebindingAndResume) {
  EXPECT_EQ(host_of("127.0.0.1:8080"), "127.0.0.1");
  EXPECT_EQ(host_of("[::1]:80"), "::1");
  EXPECT_EQ(host_of("localhost"), "localhost");
  EXPECT_TRUE(is_ip_literal_or_localhost("10.0.0.7"));
  EXPECT_TRUE(is_ip_literal_or_localhost("::1"));
  EXPECT_FALSE(is_ip_literal_or_localhost("evil.example"));
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.8.0.1"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_EQ(parse_last_event_id("42"), 42);
  EXPECT_FALSE(parse_last_event_id("-1"));
  EXPECT_FALSE(parse_last_event_id("4x"));
  EXPECT_FALSE(parse_last_event_id(""));
}

}  // namespace
}  // namespace vigil::http
