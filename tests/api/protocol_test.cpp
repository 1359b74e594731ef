#include "api/protocol.hpp"

#include <gtest/gtest.h>

#include <csignal>

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

TEST(Protocol, ParsesChaos) {
  auto hang = parse_request(R"({"cmd":"chaos","fault":"hang","name":"lidar","duration_ms":3000})");
  ASSERT_TRUE(hang.ok()) << hang.error();
  EXPECT_EQ(hang->command, Command::chaos);
  EXPECT_EQ(to_string(hang->command), "chaos");
  EXPECT_EQ(hang->name, "lidar");
  EXPECT_EQ(hang->chaos.fault, ChaosFault::hang);
  EXPECT_EQ(hang->chaos.duration, std::chrono::milliseconds(3000));

  auto kill = parse_request(R"({"cmd":"chaos","fault":"kill","name":"lidar"})");
  ASSERT_TRUE(kill.ok()) << kill.error();
  EXPECT_EQ(kill->chaos.fault, ChaosFault::kill);
  EXPECT_EQ(kill->chaos.signal, SIGKILL) << "SIGKILL unless told otherwise";
  EXPECT_FALSE(kill->chaos.group);
  auto term = parse_request(
      R"({"cmd":"chaos","fault":"kill","name":"lidar","signal":"SIGTERM","group":true})");
  ASSERT_TRUE(term.ok()) << term.error();
  EXPECT_EQ(term->chaos.signal, SIGTERM);
  EXPECT_TRUE(term->chaos.group);

  auto slow = parse_request(
      R"({"cmd":"chaos","fault":"slow","name":"nav","duration_ms":86400000,"period_ms":10,"duty":0.9})");
  ASSERT_TRUE(slow.ok()) << slow.error();
  EXPECT_EQ(slow->chaos.fault, ChaosFault::slow);
  EXPECT_EQ(slow->chaos.duration, kMaxChaosDuration);
  EXPECT_EQ(slow->chaos.period, std::chrono::milliseconds(10));
  EXPECT_DOUBLE_EQ(slow->chaos.duty, 0.9);
  auto slow_defaults =
      parse_request(R"({"cmd":"chaos","fault":"slow","name":"nav","duration_ms":1})");
  ASSERT_TRUE(slow_defaults.ok()) << slow_defaults.error();
  EXPECT_EQ(slow_defaults->chaos.period, std::chrono::milliseconds(100));
  EXPECT_DOUBLE_EQ(slow_defaults->chaos.duty, 0.5);

  auto loss = parse_request(
      R"({"cmd":"chaos","fault":"heartbeat_loss","name":"lidar","duration_ms":2000})");
  ASSERT_TRUE(loss.ok()) << loss.error();
  EXPECT_EQ(loss->chaos.fault, ChaosFault::heartbeat_loss);
  EXPECT_EQ(to_string(loss->chaos.fault), "heartbeat_loss");

  auto loss20 = parse_request(
      R"({"cmd":"chaos","fault":"packet_loss","name":"a","duration_ms":5000,"loss_percent":20})");
  ASSERT_TRUE(loss20.ok()) << loss20.error();
  EXPECT_EQ(loss20->chaos.fault, ChaosFault::packet_loss);
  EXPECT_DOUBLE_EQ(loss20->chaos.loss_percent, 20.0);
  EXPECT_TRUE(loss20->chaos.expect_failure) << "a failure is expected unless told otherwise";
  auto ride = parse_request(
      R"({"cmd":"chaos","fault":"packet_loss","name":"a","duration_ms":5000,"loss_percent":20,)"
      R"("expect":"none"})");
  ASSERT_TRUE(ride.ok()) << ride.error();
  EXPECT_FALSE(ride->chaos.expect_failure);
  auto cut = parse_request(R"({"cmd":"chaos","fault":"partition","name":"a","duration_ms":5000})");
  ASSERT_TRUE(cut.ok()) << cut.error();
  EXPECT_EQ(to_string(cut->chaos.fault), "partition");

  auto list = parse_request(R"({"cmd":"chaos","fault":"list"})");
  ASSERT_TRUE(list.ok()) << list.error();
  EXPECT_EQ(list->chaos.fault, ChaosFault::list);
}

TEST(Protocol, RejectsBadChaosParameters) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"cmd":"chaos"})",
       "'chaos' needs \"fault\": kill, hang, slow, heartbeat_loss, topic_dropout, partition, "
       "packet_loss, "
       "cpu_hog, memory_hog, state_dir_full or list"},
      {R"({"cmd":"chaos","fault":3})", "\"fault\" must be a string"},
      {R"({"cmd":"chaos","fault":"freeze","name":"a"})",
       "unknown fault 'freeze' (kill, hang, slow, heartbeat_loss, topic_dropout, partition, "
       "packet_loss, cpu_hog, "
       "memory_hog, state_dir_full or list)"},
      {R"({"cmd":"chaos","fault":"hang"})", "fault 'hang' needs \"name\" (a component)"},
      {R"({"cmd":"chaos","fault":"list","name":"a"})", "fault 'list' takes no \"name\""},
      {R"({"cmd":"chaos","fault":"hang","name":"a"})",
       "fault 'hang' needs \"duration_ms\" (how long it lasts)"},
      {R"({"cmd":"chaos","fault":"slow","name":"a"})",
       "fault 'slow' needs \"duration_ms\" (how long it lasts)"},
      {R"({"cmd":"chaos","fault":"heartbeat_loss","name":"a"})",
       "fault 'heartbeat_loss' needs \"duration_ms\" (how long it lasts)"},
      {R"({"cmd":"chaos","fault":"hang","name":"a","duration_ms":0})",
       "\"duration_ms\" must be an integer from 1 to 86400000 (24 h)"},
      {R"({"cmd":"chaos","fault":"hang","name":"a","duration_ms":86400001})",
       "\"duration_ms\" must be an integer from 1 to 86400000 (24 h)"},
      {R"({"cmd":"chaos","fault":"hang","name":"a","duration_ms":1.5})",
       "\"duration_ms\" must be an integer from 1 to 86400000 (24 h)"},
      {R"({"cmd":"chaos","fault":"hang","name":"a","duration_ms":"3s"})",
       "\"duration_ms\" must be an integer from 1 to 86400000 (24 h)"},
      {R"({"cmd":"chaos","fault":"kill","name":"a","duration_ms":1000})",
       "\"duration_ms\" does not apply to fault 'kill'"},
      {R"({"cmd":"chaos","fault":"hang","name":"a","duration_ms":1000,"signal":"SIGTERM"})",
       "\"signal\" does not apply to fault 'hang'"},
      {R"({"cmd":"chaos","fault":"hang","name":"a","duration_ms":1000,"duty":0.5})",
       "\"duty\" does not apply to fault 'hang'"},
      {R"({"cmd":"chaos","fault":"list","group":true})",
       "\"group\" does not apply to fault 'list'"},
      {R"({"cmd":"chaos","fault":"kill","name":"a","signal":"SIGNOPE"})",
       "\"signal\" must be a signal name such as \"SIGTERM\""},
      {R"({"cmd":"chaos","fault":"kill","name":"a","signal":"9"})",
       "\"signal\" must be a signal name such as \"SIGTERM\""},
      {R"({"cmd":"chaos","fault":"kill","name":"a","signal":9})",
       "\"signal\" must be a signal name such as \"SIGTERM\""},
      {R"({"cmd":"chaos","fault":"kill","name":"a","group":"yes"})",
       "\"group\" must be true or false"},
      {R"({"cmd":"chaos","fault":"packet_loss","name":"a","duration_ms":1000})",
       "fault 'packet_loss' needs \"loss_percent\" (e.g. 20)"},
      {R"({"cmd":"chaos","fault":"packet_loss","name":"a","duration_ms":1000,"loss_percent":0})",
       "\"loss_percent\" must be a number above 0 and at most 100"},
      {R"({"cmd":"chaos","fault":"packet_loss","name":"a","duration_ms":1000,"loss_percent":101})",
       "\"loss_percent\" must be a number above 0 and at most 100"},
      {R"({"cmd":"chaos","fault":"partition","name":"a","duration_ms":1000,"loss_percent":5})",
       "\"loss_percent\" does not apply to fault 'partition'"},
      {R"({"cmd":"chaos","fault":"kill","name":"a","expect":"maybe"})",
       "\"expect\" must be \"failure\" or \"none\""},
      {R"({"cmd":"chaos","fault":"memory_hog","name":"a","duration_ms":1000})",
       "fault 'memory_hog' needs \"bytes\" (how much memory to hold)"},
      {R"({"cmd":"chaos","fault":"memory_hog","name":"a","duration_ms":1000,"bytes":-5})",
       "\"bytes\" must be an integer from 1 to 68719476736 (64 GiB)"},
      {R"({"cmd":"chaos","fault":"cpu_hog","name":"a","duration_ms":1000,"cpus":0})",
       "\"cpus\" must be an integer from 1 to 64"},
      {R"({"cmd":"chaos","fault":"cpu_hog","name":"a","duration_ms":1000,"bytes":10})",
       "\"bytes\" does not apply to fault 'cpu_hog'"},
      {R"({"cmd":"chaos","fault":"partition","name":"a"})",
       "fault 'partition' needs \"duration_ms\" (how long it lasts)"},
      {R"({"cmd":"chaos","fault":"slow","name":"a","duration_ms":1000,"duty":0})",
       "\"duty\" must be a number between 0 and 1 (exclusive)"},
      {R"({"cmd":"chaos","fault":"slow","name":"a","duration_ms":1000,"duty":1})",
       "\"duty\" must be a number between 0 and 1 (exclusive)"},
      {R"({"cmd":"chaos","fault":"slow","name":"a","duration_ms":1000,"duty":"half"})",
       "\"duty\" must be a number between 0 and 1 (exclusive)"},
      {R"({"cmd":"chaos","fault":"slow","name":"a","duration_ms":1000,"period_ms":9})",
       "\"period_ms\" must be an integer from 10 to 10000"},
      {R"({"cmd":"chaos","fault":"slow","name":"a","duration_ms":1000,"period_ms":10001})",
       "\"period_ms\" must be an integer from 10 to 10000"},
      {R"({"cmd":"status","fault":"hang"})", "unknown field \"fault\""},
      {R"({"cmd":"chaos","fault":"hang","name":"a","duration_ms":1,"speed":2})",
       "unknown field \"speed\""},
  };
  for (const auto& [text, error] : cases) {
    auto r = parse_request(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error(), error) << text;
  }
}

}  // namespace
}  // namespace vigil::api
