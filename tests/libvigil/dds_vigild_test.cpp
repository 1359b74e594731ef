// libvigil_dds with a real vigild (tests/integration/harness.hpp) over loopback DDS: the mode
// vigild publishes reaches a ModeListener, and a component built on DdsHeartbeat takes its
// name and lease from the environment vigild gives it. Links vigil_core (vigild's own copy of
// the ROS 2 types) and libvigil_dds (its private, renamed copy) into one program.
#include <dds/dds.h>
#include <gtest/gtest.h>

#include <string>
#include <vigil/dds.hpp>

#include "dds_test_support.hpp"
#include "integration/harness.hpp"
#include "ros2_messages.h"

namespace vigil::testing {
namespace {

using dds_testing::poll_until;
using dds_testing::use_loopback_dds;

std::string dds_env(std::uint32_t domain) {
  return R"(env: {CYCLONEDDS_URI: "file://)" VIGIL_SOURCE_DIR
         R"(/dds/cyclonedds-loopback.xml", ROS_DOMAIN_ID: ")" +
         std::to_string(domain) + R"("})";
}

TEST(LibvigilDdsWithVigild, AModeListenerGetsVigildsMode) {
  use_loopback_dds();
  const auto domain = dds_testing::private_domain();
  Vigild v(R"(
dds: {domain: )" +
           std::to_string(domain) +
           R"(}
root:
  children:
    - name: lidar
      command: [@BIN@/robot_sim]
      ready: notify
)");
  v.start();
  v.wait_for("lidar", "ready");
  ModeListenerOptions options;
  options.domain = domain;
  ModeListener listener(options);
  ASSERT_TRUE(listener.status()) << listener.status_detail();
  const auto mode = listener.wait_for(15s);
  ASSERT_TRUE(mode) << "no mode from vigild on domain " << domain;
  EXPECT_EQ(mode->name, "nominal");
  EXPECT_GT(mode->stamp.time_since_epoch(), std::chrono::hours(24 * 365 * 50));  // after 2020
}

TEST(LibvigilDdsWithVigild, ADdsHeartbeatComponentTakesNameAndLeaseFromVigild) {
  use_loopback_dds();
  const auto domain = dds_testing::private_domain();
  Vigild v(R"(
dds: {domain: )" +
           std::to_string(domain) +
           R"(}
root:
  children:
    - name: beater
      command: [@BIN@/dds_heartbeat]
      )" + dds_env(domain) +
           R"(
      ready: notify
      watchdog: {timeout: 1500ms}
)");
  v.start();
  v.wait_for("beater", "ready", 20s);
  // vigild counts the beats as the component's heartbeats (attributed by process).
  ASSERT_TRUE(poll_until([&] { return v.component("beater").value("heartbeats", 0) >= 3; }, 15s))
      << v.component("beater").dump();

  // A reader of our own sees the name (VIGIL_COMPONENT) and the lease (WATCHDOG_USEC).
  dds_testing::Participant test(domain);
  const dds_entity_t topic = dds_create_topic(test.get(), &vigil_msgs_msg_dds__Heartbeat__desc,
                                              "rt/vigil/heartbeat", nullptr, nullptr);
  const dds_entity_t reader = dds_create_reader(test.get(), topic, nullptr, nullptr);
  ASSERT_GT(reader, 0);
  std::string component;
  ASSERT_TRUE(poll_until(
      [&] {
        void* samples[1] = {};
        dds_sample_info_t infos[1];
        if (dds_take(reader, samples, infos, 1, 1) != 1) return false;
        if (infos[0].valid_data) {
          component = static_cast<vigil_msgs_msg_dds__Heartbeat_*>(samples[0])->component;
        }
        dds_return_loan(reader, samples, 1);
        return !component.empty();
      },
      15s));
  EXPECT_EQ(component, "beater");
  dds_instance_handle_t handles[2];
  ASSERT_EQ(dds_get_matched_publications(reader, handles, 2), 1);
  dds_builtintopic_endpoint_t* writer = dds_get_matched_publication_data(reader, handles[0]);
  ASSERT_NE(writer, nullptr);
  dds_liveliness_kind_t kind{};
  dds_duration_t lease = 0;
  ASSERT_TRUE(dds_qget_liveliness(writer->qos, &kind, &lease));
  EXPECT_EQ(kind, DDS_LIVELINESS_MANUAL_BY_TOPIC);
  EXPECT_EQ(lease, DDS_MSECS(1500));
  dds_builtintopic_free_endpoint(writer);
}

}  // namespace
}  // namespace vigil::testing
