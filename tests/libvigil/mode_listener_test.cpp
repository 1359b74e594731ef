// vigil::ModeListener against a writer that behaves like vigild's (rt/vigil/mode, reliable,
// transient local, keep last 1) on real Cyclone DDS over loopback.
#include <dds/dds.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#include <vigil/dds.hpp>

#include "dds_test_support.hpp"
#include "ros2_messages.h"

namespace vigil {
namespace {

using namespace dds_testing;

// vigild's side of /vigil/mode.
class ModeWriter {
 public:
  explicit ModeWriter(std::uint32_t domain) : participant_(domain) {
    const dds_entity_t topic =
        dds_create_topic(participant_.get(), &vigil_msgs_msg_dds__SystemMode__desc, "rt/vigil/mode",
                         nullptr, nullptr);
    dds_qos_t* qos = dds_create_qos();
    dds_qset_reliability(qos, DDS_RELIABILITY_RELIABLE, DDS_MSECS(100));
    dds_qset_durability(qos, DDS_DURABILITY_TRANSIENT_LOCAL);
    dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, 1);
    writer_ = dds_create_writer(participant_.get(), topic, qos, nullptr);
    dds_delete_qos(qos);
  }
  dds_entity_t get() const { return writer_; }

  dds_return_t write(const char* mode, const char* reason,
                     const std::vector<std::pair<const char*, const char*>>& values,
                     std::int32_t sec = 1'700'000'000, std::uint32_t nanosec = 250'000'000) {
    std::vector<diagnostic_msgs_msg_dds__KeyValue_> kvs;
    for (const auto& [k, v] : values) kvs.push_back({const_cast<char*>(k), const_cast<char*>(v)});
    vigil_msgs_msg_dds__SystemMode_ sample{};
    sample.stamp.sec = sec;
    sample.stamp.nanosec = nanosec;
    sample.mode = const_cast<char*>(mode);
    sample.reason = const_cast<char*>(reason);
    sample.values._maximum = sample.values._length = static_cast<std::uint32_t>(kvs.size());
    sample.values._buffer = kvs.data();
    sample.values._release = false;
    return dds_write(writer_, &sample);
  }

 private:
  Participant participant_;
  dds_entity_t writer_ = 0;
};

class ModeListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    use_loopback_dds();
    ::unsetenv("ROS_DOMAIN_ID");
  }
  const std::uint32_t domain_ = private_domain();
};

TEST_F(ModeListenerTest, ALateJoinerGetsTheLatchedModeAtOnce) {
  ModeWriter vigild(domain_);
  ASSERT_GT(vigild.get(), 0);
  ASSERT_EQ(vigild.write("degraded", "lidar lost", {{"max_speed", "0.5"}, {"lidar", "off"}}),
            DDS_RETCODE_OK);

  ModeListenerOptions options;
  options.domain = domain_;
  ModeListener listener(options);
  ASSERT_TRUE(listener.status()) << listener.status_detail();
  const auto mode = listener.wait_for(10s);
  ASSERT_TRUE(mode) << "the latched mode never arrived";
  EXPECT_EQ(mode->name, "degraded");
  EXPECT_EQ(mode->reason, "lidar lost");
  const std::map<std::string, std::string> expected{{"max_speed", "0.5"}, {"lidar", "off"}};
  EXPECT_EQ(mode->values, expected);
  EXPECT_EQ(mode->stamp.time_since_epoch(),
            std::chrono::seconds(1'700'000'000) + std::chrono::milliseconds(250));
  EXPECT_EQ(listener.value<double>("max_speed"), 0.5);
  EXPECT_EQ(listener.value<std::string>("lidar"), "off");
  EXPECT_EQ(listener.value<double>("lidar"), std::nullopt);
  EXPECT_EQ(listener.value<double>("absent"), std::nullopt);
  ASSERT_TRUE(listener.current());
  EXPECT_EQ(listener.current()->name, "degraded");
  EXPECT_EQ(listener.samples_received(), 1u);
}

TEST_F(ModeListenerTest, TheCallbackSeesEachChangeButNotARepublication) {
  ModeWriter vigild(domain_);
  ASSERT_EQ(vigild.write("nominal", "", {}), DDS_RETCODE_OK);

  std::mutex mutex;
  std::condition_variable called;
  std::vector<std::string> seen;
  ModeListenerOptions options;
  options.domain = domain_;
  options.on_change = [&](const SystemMode& m) {
    std::lock_guard lock(mutex);
    seen.push_back(m.name);
    called.notify_all();
  };
  ModeListener listener(options);
  ASSERT_TRUE(listener.status()) << listener.status_detail();
  ASSERT_TRUE(listener.wait_for(10s));

  // The writer matches the reader before the change is written: reliable from then on.
  ASSERT_TRUE(poll_until([&] {
    dds_publication_matched_status_t status{};
    dds_get_publication_matched_status(vigild.get(), &status);
    return status.current_count == 1;
  }));
  ASSERT_EQ(vigild.write("safe_stop", "e-stop pressed", {{"max_speed", "0"}}), DDS_RETCODE_OK);
  const auto stopped =
      listener.wait_for(10s, [](const SystemMode& m) { return m.name == "safe_stop"; });
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->reason, "e-stop pressed");
  EXPECT_EQ(listener.value<int>("max_speed"), 0);

  // The same mode again with a new stamp is a sample, not a change.
  ASSERT_EQ(vigild.write("safe_stop", "e-stop pressed", {{"max_speed", "0"}}, 1'700'000'001),
            DDS_RETCODE_OK);
  ASSERT_TRUE(poll_until([&] { return listener.samples_received() >= 3; }));
  std::unique_lock lock(mutex);
  ASSERT_TRUE(called.wait_for(lock, 10s, [&] { return seen.size() >= 2; }));
  EXPECT_EQ(seen, (std::vector<std::string>{"nominal", "safe_stop"}));
}

TEST_F(ModeListenerTest, WaitForTimesOutWhenNobodyPublishes) {
  ModeListenerOptions options;
  options.domain = domain_;
  ModeListener listener(options);
  ASSERT_TRUE(listener.status());
  const auto before = std::chrono::steady_clock::now();
  EXPECT_FALSE(listener.wait_for(200ms));
  EXPECT_GE(std::chrono::steady_clock::now() - before, 200ms);
  EXPECT_FALSE(listener.current());
  EXPECT_EQ(listener.value<double>("max_speed"), std::nullopt);
}

TEST_F(ModeListenerTest, ReadsInTheCallersParticipant) {
  ModeWriter vigild(domain_);
  ASSERT_EQ(vigild.write("nominal", "", {}), DDS_RETCODE_OK);
  Participant own(domain_);
  {
    ModeListenerOptions options;
    options.participant = own.get();
    ModeListener listener(options);
    ASSERT_TRUE(listener.status()) << listener.status_detail();
    EXPECT_EQ(listener.participant(), own.get());
    EXPECT_EQ(listener.domain(), domain_);
    ASSERT_TRUE(listener.wait_for(10s));
    // Moving keeps the reader (and the callback target) valid.
    ModeListener moved(std::move(listener));
    EXPECT_EQ(moved.current()->name, "nominal");
  }
  dds_domainid_t domain = 0;
  EXPECT_EQ(dds_get_domainid(own.get(), &domain), DDS_RETCODE_OK);
  ModeListenerOptions bogus;
  bogus.participant = 4242;
  EXPECT_EQ(ModeListener(bogus).status().error(), EINVAL);
}

TEST(SystemModeValue, ConvertsWholeValuesOnly) {
  SystemMode m;
  m.values = {{"speed", "1.25"}, {"neg", "-3"},    {"big", "300"}, {"flag", "true"},
              {"zero", "0"},     {"junk", "1.5x"}, {"empty", ""},  {"plus", "+2"}};
  EXPECT_EQ(m.value<double>("speed"), 1.25);
  EXPECT_EQ(m.value<float>("speed"), 1.25f);
  EXPECT_EQ(m.value<int>("speed"), std::nullopt);
  EXPECT_EQ(m.value<int>("neg"), -3);
  EXPECT_EQ(m.value<unsigned>("neg"), std::nullopt);
  EXPECT_EQ(m.value<std::uint8_t>("big"), std::nullopt);  // overflow
  EXPECT_EQ(m.value<std::int16_t>("big"), 300);
  EXPECT_EQ(m.value<bool>("flag"), true);
  EXPECT_EQ(m.value<bool>("zero"), false);
  EXPECT_EQ(m.value<bool>("speed"), std::nullopt);
  EXPECT_EQ(m.value<double>("junk"), std::nullopt);
  EXPECT_EQ(m.value<double>("empty"), std::nullopt);
  EXPECT_EQ(m.value<std::string>("empty"), "");
  EXPECT_EQ(m.value<long>("plus"), 2);
  EXPECT_EQ(m.value<double>("missing"), std::nullopt);
}

}  // namespace
}  // namespace vigil
