#include "api/protocol.hpp"

#include <gtest/gtest.h>

namespace vigil::api {
namespace {

TEST(Protocol, ParsesEachCommand) {
  auto r = parse_request(
      R"({"cmd":"events","component":"lidar","since_us":60000000,"follow":true,"limit":5})");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->command, Command::events);
  EXPECT_EQ(r->component, "lidar");
  EXPECT_EQ(r->since_us, 60000000);
  EXPECT_TRUE(r->follow);
  EXPECT_EQ(r->limit, 5);
  for (const char* cmd : {"status", "report", "reload", "shutdown", "ping"}) {
    EXPECT_TRUE(parse_request(std::string("{\"cmd\":\"") + cmd + "\"}").ok()) << cmd;
  }
  EXPECT_EQ(parse_request(R"({"cmd":"restart","name":"nav"})")->name, "nav");
}

TEST(Protocol, ParsesHistory) {
  auto r = parse_request(
      R"({"cmd":"history","component":"lidar","series":"rss_bytes","since_us":600000000,"max_points":50})");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->command, Command::history);
  EXPECT_EQ(r->component, "lidar");
  EXPECT_EQ(r->series, "rss_bytes");
  EXPECT_EQ(r->since_us, 600000000);
  EXPECT_EQ(r->max_points, 50);
  auto defaults = parse_request(R"({"cmd":"history","component":"host"})");
  ASSERT_TRUE(defaults.ok()) << defaults.error();
  EXPECT_TRUE(defaults->series.empty()) << "no series: list them";
  EXPECT_EQ(defaults->max_points, 600);
}

TEST(Protocol, RejectsWithAClearMessage) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "request is not valid JSON"},
      {"null", "request must be a JSON object"},
      {R"({"name":"x"})", "request needs \"cmd\": a string such as \"status\""},
      {R"({"cmd":"launch"})", "unknown command 'launch'"},
      {R"({"cmd":"start"})", "'start' needs \"name\""},
      {R"({"cmd":"start","name":5})", "\"name\" must be a string"},
      {R"({"cmd":"events","follow":"yes"})", "\"follow\" must be true or false"},
      {R"({"cmd":"events","since_us":-1})", "\"since_us\" must be a non-negative integer"},
      {R"({"cmd":"events","limit":1e9})", "\"limit\" must be an integer from 0 to 100000"},
      {R"({"cmd":"status","verbose":true})", "unknown field \"verbose\""},
      {R"({"cmd":"history"})", "'history' needs \"component\" (a component's name or \"host\")"},
      {R"({"cmd":"history","component":"a","series":1})", "\"series\" must be a string"},
      {R"({"cmd":"history","component":"a","max_points":0})",
       "\"max_points\" must be an integer from 1 to 100000"},
  };
  for (const auto& [text, error] : cases) {
    auto r = parse_request(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error(), error) << text;
  }
  EXPECT_FALSE(parse_request(std::string(kMaxRequestBytes + 1, ' ')).ok());
}

TEST(Protocol, ParsesApproveAndDeny) {
  auto approve = parse_request(R"({"cmd":"approve","id":"1"})");
  ASSERT_TRUE(approve.ok()) << approve.error();
  EXPECT_EQ(approve->command, Command::approve);
  EXPECT_EQ(approve->id, "1");
  EXPECT_EQ(to_string(approve->command), "approve");
  auto deny = parse_request(R"({"cmd":"deny","id":"lidar-7"})");
  ASSERT_TRUE(deny.ok()) << deny.error();
  EXPECT_EQ(deny->command, Command::deny);
  EXPECT_EQ(deny->id, "lidar-7");
  EXPECT_EQ(to_string(deny->command), "deny");
  EXPECT_TRUE(parse_request(std::string(R"({"cmd":"approve","id":")") +
                            std::string(kMaxApprovalIdBytes, 'a') + "\"}")
                  .ok());
}

TEST(Protocol, RejectsBadApprovalIds) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"cmd":"approve"})", "'approve' needs \"id\" (a pending approval's id)"},
      {R"({"cmd":"deny"})", "'deny' needs \"id\" (a pending approval's id)"},
      {R"({"cmd":"approve","id":7})", "\"id\" must be a string"},
      {R"({"cmd":"approve","id":""})",
       "an approval id must not be empty (`vigil status` lists them)"},
      {R"({"cmd":"deny","id":"a b"})",
       "an approval id is printable ASCII without spaces (`vigil status` lists them)"},
      {R"({"cmd":"deny","id":"\u001b[31m"})",
       "an approval id is printable ASCII without spaces (`vigil status` lists them)"},
      {R"({"cmd":"deny","id":"\u00e9"})",
       "an approval id is printable ASCII without spaces (`vigil status` lists them)"},
      {std::string(R"({"cmd":"approve","id":")") + std::string(kMaxApprovalIdBytes + 1, 'a') +
           "\"}",
       "an approval id is at most 64 characters"},
  };
  for (const auto& [text, error] : cases) {
    auto r = parse_request(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error(), error) << text;
  }
}

}  // namespace
}  // namespace vigil::api
