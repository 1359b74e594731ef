// vigil::DdsHeartbeat against real Cyclone DDS readers on loopback: what a reader sees on the
// wire (topic, type, liveliness QoS, samples), and that silence is reported by DDS itself.
#include <dds/dds.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vigil/dds.hpp>

#include "dds_test_support.hpp"
#include "ros2_messages.h"

namespace vigil {
namespace {

using namespace dds_testing;

// A reader on rt/vigil/heartbeat as vigild creates one (best effort, keep last 1), plus the
// liveliness status a reader keeps per writer.
class HeartbeatReader {
 public:
  explicit HeartbeatReader(dds_entity_t participant) {
    topic_ = dds_create_topic(participant, &vigil_msgs_msg_dds__Heartbeat__desc,
                              "rt/vigil/heartbeat", nullptr, nullptr);
    dds_qos_t* qos = dds_create_qos();
    dds_qset_reliability(qos, DDS_RELIABILITY_BEST_EFFORT, 0);
    dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, 1);
    reader_ = dds_create_reader(participant, topic_, qos, nullptr);
    dds_delete_qos(qos);
  }
  dds_entity_t get() const { return reader_; }

  // Takes one sample if there is one: (component, count).
  bool take(std::string& component, std::uint64_t& count) {
    void* samples[1] = {};
    dds_sample_info_t infos[1];
    const dds_return_t n = dds_take(reader_, samples, infos, 1, 1);
    if (n != 1) return false;
    const bool valid = infos[0].valid_data;
    if (valid) {
      const auto* beat = static_cast<vigil_msgs_msg_dds__Heartbeat_*>(samples[0]);
      component = beat->component;
      count = beat->count;
    }
    dds_return_loan(reader_, samples, n);
    return valid;
  }

  dds_liveliness_changed_status_t liveliness() const {
    dds_liveliness_changed_status_t status{};
    dds_get_liveliness_changed_status(reader_, &status);
    return status;
  }

  // The one matched writer's discovery data, or nullptr (free with
  // dds_builtintopic_free_endpoint).
  dds_builtintopic_endpoint_t* matched_writer() const {
    dds_instance_handle_t handles[4];
    if (dds_get_matched_publications(reader_, handles, 4) != 1) return nullptr;
    return dds_get_matched_publication_data(reader_, handles[0]);
  }

 private:
  dds_entity_t topic_ = 0;
  dds_entity_t reader_ = 0;
};

class DdsHeartbeatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    use_loopback_dds();
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    ::unsetenv("VIGIL_COMPONENT");
    ::unsetenv("ROS_DOMAIN_ID");
  }
  const std::uint32_t domain_ = private_domain();
};

TEST_F(DdsHeartbeatTest, SamplesArriveWithTheTopicTypeAndLivelinessQos) {
  Participant test(domain_);
  ASSERT_GT(test.get(), 0);
  HeartbeatReader reader(test.get());
  ASSERT_GT(reader.get(), 0);

  DdsHeartbeatOptions options;
  options.domain = domain_;
  options.component = "lidar";
  options.lease = 600ms;
  options.period = 50ms;
  DdsHeartbeat heartbeat(options);
  ASSERT_TRUE(heartbeat.status()) << heartbeat.status_detail();
  EXPECT_TRUE(heartbeat.running());

  std::string component;
  std::uint64_t first = 0, later = 0;
  ASSERT_TRUE(poll_until([&] { return reader.take(component, first); }));
  EXPECT_EQ(component, "lidar");
  ASSERT_TRUE(poll_until([&] { return reader.take(component, later) && later > first; }));

  dds_builtintopic_endpoint_t* writer = reader.matched_writer();
  ASSERT_NE(writer, nullptr);
  EXPECT_STREQ(writer->topic_name, "rt/vigil/heartbeat");
  EXPECT_STREQ(writer->type_name, "vigil_msgs::msg::dds_::Heartbeat_");
  dds_liveliness_kind_t kind{};
  dds_duration_t lease = 0;
  ASSERT_TRUE(dds_qget_liveliness(writer->qos, &kind, &lease));
  EXPECT_EQ(kind, DDS_LIVELINESS_MANUAL_BY_TOPIC);
  EXPECT_EQ(lease, DDS_MSECS(600));
  dds_reliability_kind_t reliability{};
  dds_duration_t blocking = 0;
  ASSERT_TRUE(dds_qget_reliability(writer->qos, &reliability, &blocking));
  EXPECT_EQ(reliability, DDS_RELIABILITY_BEST_EFFORT);
  dds_builtintopic_free_endpoint(writer);
  EXPECT_GE(heartbeat.beats_sent(), 2u);
}

TEST_F(DdsHeartbeatTest, LeaseIsTheWatchdogTimeoutUnlessGivenAndOneSecondWithout) {
  {
    DdsHeartbeatOptions options;
    options.domain = domain_;
    options.own_thread = false;
    DdsHeartbeat without_watchdog(options);
    EXPECT_EQ(without_watchdog.lease(), 1s);
    EXPECT_EQ(without_watchdog.period(), std::chrono::microseconds(333'333));
    EXPECT_FALSE(without_watchdog.running());
  }
  ::setenv("WATCHDOG_USEC", "750000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  {
    Participant test(domain_);
    HeartbeatReader reader(test.get());
    DdsHeartbeatOptions options;
    options.domain = domain_;
    options.own_thread = false;
    DdsHeartbeat from_watchdog(options);
    ASSERT_TRUE(from_watchdog.status()) << from_watchdog.status_detail();
    EXPECT_EQ(from_watchdog.lease(), 750ms);
    EXPECT_EQ(from_watchdog.period(), 250ms);
    // What readers are offered, not only what the object says.
    dds_builtintopic_endpoint_t* writer = nullptr;
    ASSERT_TRUE(poll_until([&] { return (writer = reader.matched_writer()) != nullptr; }));
    dds_liveliness_kind_t kind{};
    dds_duration_t lease = 0;
    ASSERT_TRUE(dds_qget_liveliness(writer->qos, &kind, &lease));
    EXPECT_EQ(lease, DDS_MSECS(750));
    dds_builtintopic_free_endpoint(writer);
  }
  {
    DdsHeartbeatOptions options;
    options.domain = domain_;
    options.own_thread = false;
    options.lease = 2s;
    DdsHeartbeat explicit_lease(options);
    EXPECT_EQ(explicit_lease.lease(), 2s);
  }
  // A WATCHDOG_USEC meant for another process (inherited) is not ours.
  ::setenv("WATCHDOG_PID", "1", 1);
  DdsHeartbeatOptions options;
  options.domain = domain_;
  options.own_thread = false;
  EXPECT_EQ(DdsHeartbeat(options).lease(), 1s);
}

TEST_F(DdsHeartbeatTest, DomainAndComponentDefaultToWhatRos2AndVigildSet) {
  ::setenv("ROS_DOMAIN_ID", std::to_string(domain_).c_str(), 1);
  ::setenv("VIGIL_COMPONENT", "camera", 1);
  Participant test(domain_);
  HeartbeatReader reader(test.get());
  DdsHeartbeatOptions options;
  options.own_thread = false;
  DdsHeartbeat heartbeat(options);
  ASSERT_TRUE(heartbeat.status()) << heartbeat.status_detail();
  EXPECT_EQ(heartbeat.domain(), domain_);
  EXPECT_EQ(heartbeat.component(), "camera");
  ASSERT_TRUE(poll_until([&] { return reader.matched_writer() != nullptr; }))
      << "no writer matched on ROS_DOMAIN_ID " << domain_;
  std::string component;
  std::uint64_t count = 0;
  // Best effort: beat until one arrives.
  ASSERT_TRUE(poll_until([&] {
    EXPECT_TRUE(heartbeat.beat());
    return reader.take(component, count);
  }));
  EXPECT_EQ(component, "camera");
}

// The point of MANUAL_BY_TOPIC: a reader learns from DDS itself that a writer went silent.
TEST_F(DdsHeartbeatTest, AWriterThatStopsBeatingIsReportedNotAliveWithinItsLease) {
  Participant test(domain_);
  HeartbeatReader reader(test.get());
  DdsHeartbeatOptions options;
  options.domain = domain_;
  options.lease = 500ms;
  options.own_thread = false;
  DdsHeartbeat heartbeat(options);
  ASSERT_TRUE(heartbeat.status()) << heartbeat.status_detail();
  ASSERT_TRUE(poll_until([&] {
    (void)heartbeat.beat();
    return reader.liveliness().alive_count == 1;
  })) << "the writer never became alive for the reader";
  ASSERT_TRUE(heartbeat.beat());
  const auto last_beat = std::chrono::steady_clock::now();
  ASSERT_TRUE(poll_until([&] { return reader.liveliness().alive_count == 0; }, 10s));
  const auto silent_for = std::chrono::steady_clock::now() - last_beat;
  const auto status = reader.liveliness();
  EXPECT_EQ(status.not_alive_count, 1u);
  EXPECT_GE(silent_for, 400ms);           // not before the lease (less scheduling slack)
  EXPECT_LE(silent_for, 500ms + 2500ms);  // lease + generous slack
  // Beating again brings it back.
  ASSERT_TRUE(poll_until([&] {
    (void)heartbeat.beat();
    return reader.liveliness().alive_count == 1;
  }));
}

TEST_F(DdsHeartbeatTest, AnUnhealthyProgramDoesNotBeat) {
  DdsHeartbeatOptions options;
  options.domain = domain_;
  options.own_thread = false;
  bool healthy = false;
  options.healthy = [&] { return healthy; };
  DdsHeartbeat heartbeat(options);
  ASSERT_TRUE(heartbeat.status());
  EXPECT_EQ(heartbeat.beat().error(), EAGAIN);
  EXPECT_EQ(heartbeat.beats_sent(), 0u);
  healthy = true;
  EXPECT_TRUE(heartbeat.beat());
  options.healthy = []() -> bool { throw std::runtime_error("cannot tell"); };
  DdsHeartbeat throwing(options);
  EXPECT_EQ(throwing.beat().error(), EAGAIN);
}

TEST_F(DdsHeartbeatTest, UsesTheCallersParticipantAndLeavesItAlive) {
  Participant own(domain_);
  HeartbeatReader reader(own.get());
  {
    DdsHeartbeatOptions options;
    options.participant = own.get();
    options.domain = domain_ + 1;  // the participant's domain wins
    options.own_thread = false;
    DdsHeartbeat heartbeat(options);
    ASSERT_TRUE(heartbeat.status()) << heartbeat.status_detail();
    EXPECT_EQ(heartbeat.participant(), own.get());
    EXPECT_EQ(heartbeat.domain(), domain_);
    EXPECT_EQ(dds_get_participant(heartbeat.writer()), own.get());
    ASSERT_TRUE(poll_until([&] { return reader.matched_writer() != nullptr; }));
  }
  // The writer is gone, the participant (and our reader in it) are not.
  dds_domainid_t domain = 0;
  EXPECT_EQ(dds_get_domainid(own.get(), &domain), DDS_RETCODE_OK);
  EXPECT_TRUE(poll_until([&] {
    dds_instance_handle_t handles[4];
    return dds_get_matched_publications(reader.get(), handles, 4) == 0;
  }));
}

TEST_F(DdsHeartbeatTest, InvalidOptionsGiveAnInactiveHeartbeatAndAnError) {
  DdsHeartbeatOptions options;
  options.domain = domain_;
  options.lease = 100ms;
  options.period = 100ms;  // not shorter than the lease
  DdsHeartbeat too_slow(options);
  EXPECT_EQ(too_slow.status().error(), EINVAL);
  EXPECT_FALSE(too_slow.running());
  EXPECT_EQ(too_slow.beat().error(), EINVAL);
  EXPECT_EQ(too_slow.writer(), 0);

  DdsHeartbeatOptions bogus;
  bogus.participant = 12345;  // not an entity
  DdsHeartbeat no_participant(bogus);
  EXPECT_EQ(no_participant.status().error(), EINVAL);
  EXPECT_FALSE(no_participant.status_detail().empty());

  DdsHeartbeat moved_to(std::move(no_participant));
  EXPECT_EQ(no_participant.status().error(), EINVAL);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(no_participant.beat().error(), EINVAL);    // NOLINT(bugprone-use-after-move)
}

TEST_F(DdsHeartbeatTest, StopsPromptly) {
  DdsHeartbeatOptions options;
  options.domain = domain_;
  options.lease = 30s;  // a 10 s period: stop must not wait for it
  DdsHeartbeat heartbeat(options);
  ASSERT_TRUE(poll_until([&] { return heartbeat.beats_sent() >= 1; }));
  const auto before = std::chrono::steady_clock::now();
  heartbeat.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
  EXPECT_FALSE(heartbeat.running());
  EXPECT_TRUE(heartbeat.beat());  // on demand still works
}

}  // namespace
}  // namespace vigil
