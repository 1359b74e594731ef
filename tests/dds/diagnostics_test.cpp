// /diagnostics as ROS 2 sees it: a real vigild publishes through Cyclone DDS on loopback, and a
// real Cyclone participant of the test's own reads the raw bytes and checks them against an
// encoding written out here from the ROS 2 / XCDR1 rules, independent of Cyclone's serialiser.
#include "dds/diagnostics.hpp"

#include <dds/dds.h>
#include <dds/ddsi/ddsi_serdata.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "integration/harness.hpp"
#include "ros2_messages.h"
#include "support/dds_env.hpp"

namespace vigil::testing {
namespace {

// XCDR1, little endian, as ROS 2 (rmw_cyclonedds_cpp) writes it: a 4-byte encapsulation
// header {0x00, 0x01, options 0x00 0x00}; then each primitive aligned to its size relative to
// the end of the header; strings as uint32 length including the NUL, the bytes, the NUL;
// sequences as uint32 count then the elements; octets unaligned.
class CdrWriter {
 public:
  CdrWriter() : bytes_{0x00, 0x01, 0x00, 0x00} {}
  void u8(std::uint8_t v) { bytes_.push_back(v); }
  void u32(std::uint32_t v) {
    align(4);
    for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }
  void str(const char* s) {
    const auto n = std::strlen(s);
    u32(static_cast<std::uint32_t>(n + 1));
    bytes_.insert(bytes_.end(), s, s + n);
    bytes_.push_back(0);
  }
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }

 private:
  void align(std::size_t n) {
    while ((bytes_.size() - 4) % n != 0) bytes_.push_back(0);
  }
  std::vector<std::uint8_t> bytes_;
};

std::vector<std::uint8_t> encode_by_hand(const diagnostic_msgs_msg_dds__DiagnosticArray_& a) {
  CdrWriter w;
  w.i32(a.header.stamp.sec);
  w.u32(a.header.stamp.nanosec);
  w.str(a.header.frame_id);
  w.u32(a.status._length);
  for (std::uint32_t i = 0; i < a.status._length; ++i) {
    const auto& s = a.status._buffer[i];
    w.u8(s.level);
    w.str(s.name);
    w.str(s.message);
    w.str(s.hardware_id);
    w.u32(s.values._length);
    for (std::uint32_t k = 0; k < s.values._length; ++k) {
      w.str(s.values._buffer[k].key);
      w.str(s.values._buffer[k].value);
    }
  }
  return w.bytes();
}

struct Received {
  std::vector<std::uint8_t> raw;
  json decoded;  // name -> {level, message, values}
};

class DiagnosticsReader {
 public:
  explicit DiagnosticsReader(int domain) {
    participant_ = dds_create_participant(static_cast<dds_domainid_t>(domain), nullptr, nullptr);
    EXPECT_GT(participant_, 0) << dds_strretcode(participant_);
    topic_ = dds_create_topic(participant_, &diagnostic_msgs_msg_dds__DiagnosticArray__desc,
                              "rt/diagnostics", nullptr, nullptr);
    EXPECT_GT(topic_, 0) << dds_strretcode(topic_);
    dds_qos_t* qos = dds_create_qos();
    dds_qset_reliability(qos, DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
    dds_qset_history(qos, DDS_HISTORY_KEEP_ALL, 0);
    reader_ = dds_create_reader(participant_, topic_, qos, nullptr);
    dds_delete_qos(qos);
    EXPECT_GT(reader_, 0) << dds_strretcode(reader_);
    dds_set_status_mask(reader_, DDS_DATA_AVAILABLE_STATUS);
    waitset_ = dds_create_waitset(participant_);
    dds_waitset_attach(waitset_, reader_, reader_);
  }
  ~DiagnosticsReader() { dds_delete(participant_); }
  dds_entity_t participant() const { return participant_; }

  // The next sample, raw and decoded, waiting up to `timeout` for it.
  std::optional<Received> next(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      ddsi_serdata* serdata = nullptr;
      dds_sample_info_t info{};
      if (dds_readcdr(reader_, &serdata, 1, &info, DDS_NOT_READ_SAMPLE_STATE) == 1) {
        Received r;
        r.raw.resize(ddsi_serdata_size(serdata));
        ddsi_serdata_to_ser(serdata, 0, r.raw.size(), r.raw.data());
        ddsi_serdata_unref(serdata);
        void* samples[1] = {nullptr};
        dds_sample_info_t infos[1];
        EXPECT_EQ(dds_take(reader_, samples, infos, 1, 1), 1);
        const auto* a = static_cast<diagnostic_msgs_msg_dds__DiagnosticArray_*>(samples[0]);
        EXPECT_EQ(r.raw, encode_by_hand(*a)) << "wire bytes differ from the ROS 2 encoding";
        for (std::uint32_t i = 0; i < a->status._length; ++i) {
          const auto& s = a->status._buffer[i];
          json values = json::object();
          for (std::uint32_t k = 0; k < s.values._length; ++k) {
            values[s.values._buffer[k].key] = s.values._buffer[k].value;
          }
          r.decoded[s.name] = {{"level", s.level},
                               {"message", s.message},
                               {"hardware_id", s.hardware_id},
                               {"values", values}};
        }
        dds_return_loan(reader_, samples, 1);
        return r;
      }
      dds_waitset_wait(waitset_, nullptr, 0, DDS_MSECS(100));
    }
    return std::nullopt;
  }

 private:
  dds_entity_t participant_ = 0;
  dds_entity_t topic_ = 0;
  dds_entity_t reader_ = 0;
  dds_entity_t waitset_ = 0;
};

std::string config(int domain) {
  return R"(
dds: {domain: )" +
         std::to_string(domain) +
         R"(, diagnostics_period: 200ms}
root:
  children:
    - name: lidar
      command: [@BIN@/robot_sim]
      ready: notify
      backoff: {initial: 500ms, jitter: 0}
    - name: drive
      children:
        - name: motor
          command: [@BIN@/robot_sim]
          ready: notify
)";
}

TEST(Diagnostics, PublishesEachComponentAsROS2DoesByteForByte) {
  use_loopback_dds();
  const int domain = private_domain();
  DiagnosticsReader reader(domain);
  Vigild v(config(domain));
  v.start();
  v.wait_for("lidar", "ready");
  v.wait_for("motor", "ready");
  const int lidar_pid = v.component("lidar")["pid"];

  // Wait for a sample that shows both running (the first may predate readiness).
  std::optional<Received> r;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    r = reader.next(5s);
    ASSERT_TRUE(r) << "no /diagnostics sample";
    if (r->decoded.contains("vigil/lidar") && r->decoded.contains("vigil/drive/motor") &&
        r->decoded["vigil/lidar"]["values"].value("state", "") == "running" &&
        r->decoded["vigil/drive/motor"]["values"].value("state", "") == "running") {
      break;
    }
  }
  ASSERT_TRUE(r);
  const auto& lidar = r->decoded["vigil/lidar"];
  EXPECT_EQ(lidar["level"], 0);  // OK
  EXPECT_EQ(lidar["values"]["pid"], std::to_string(lidar_pid));
  EXPECT_EQ(lidar["values"]["restarts"], "0");
  EXPECT_TRUE(lidar["values"].contains("uptime_s"));
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  EXPECT_EQ(lidar["hardware_id"], host);
  EXPECT_TRUE(r->decoded.contains("vigil/host"));

  // A crash reaches /diagnostics as ERROR with the reason, without waiting for the period.
  ASSERT_EQ(::kill(lidar_pid, SIGKILL), 0);
  bool saw_error = false;
  while (!saw_error && std::chrono::steady_clock::now() < deadline + 10s) {
    auto next = reader.next(5s);
    ASSERT_TRUE(next);
    const auto& l = next->decoded["vigil/lidar"];
    if (l["level"] == 2) {
      saw_error = true;
      EXPECT_NE(l["message"].get<std::string>().find("SIGKILL"), std::string::npos) << l.dump();
    }
  }
  EXPECT_TRUE(saw_error);
}

TEST(Diagnostics, TopicAndTypeNamesAndQosAreROS2s) {
  use_loopback_dds();
  const int domain = private_domain();
  DiagnosticsReader reader(domain);
  Vigild v(config(domain));
  v.start();
  ASSERT_TRUE(reader.next(20s)) << "no /diagnostics sample";
  // Discovery data, as `ros2 topic info -v` reads it.
  const dds_entity_t publications =
      dds_create_reader(reader.participant(), DDS_BUILTIN_TOPIC_DCPSPUBLICATION, nullptr, nullptr);
  ASSERT_GT(publications, 0);
  bool found = false;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!found && std::chrono::steady_clock::now() < deadline) {
    void* samples[16] = {};
    dds_sample_info_t infos[16];
    const int n = dds_read(publications, samples, infos, 16, 16);
    for (int i = 0; i < n; ++i) {
      if (!infos[i].valid_data) continue;
      const auto* ep = static_cast<dds_builtintopic_endpoint_t*>(samples[i]);
      if (std::string(ep->topic_name) != "rt/diagnostics") continue;
      found = true;
      EXPECT_STREQ(ep->type_name, "diagnostic_msgs::msg::dds_::DiagnosticArray_");
      dds_reliability_kind_t reliability{};
      dds_duration_t blocking = 0;
      ASSERT_TRUE(dds_qget_reliability(ep->qos, &reliability, &blocking));
      EXPECT_EQ(reliability, DDS_RELIABILITY_RELIABLE);
      dds_durability_kind_t durability{};
      ASSERT_TRUE(dds_qget_durability(ep->qos, &durability));
      EXPECT_EQ(durability, DDS_DURABILITY_VOLATILE);
    }
    if (n > 0) dds_return_loan(publications, samples, n);
    if (!found) std::this_thread::sleep_for(100ms);  // polling discovery data, not syncing
  }
  EXPECT_TRUE(found) << "vigild's writer of rt/diagnostics was not discovered";
}

TEST(SystemModeTopic, ALateJoinerGetsTheCurrentModeAtOnce) {
  use_loopback_dds();
  const int domain = private_domain();
  Vigild v(config(domain));
  v.start();
  v.wait_for("lidar", "ready");
  // Joins after vigild published: transient-local durability hands it the current mode.
  const dds_entity_t participant =
      dds_create_participant(static_cast<dds_domainid_t>(domain), nullptr, nullptr);
  ASSERT_GT(participant, 0);
  const dds_entity_t topic = dds_create_topic(participant, &vigil_msgs_msg_dds__SystemMode__desc,
                                              "rt/vigil/mode", nullptr, nullptr);
  ASSERT_GT(topic, 0);
  dds_qos_t* qos = dds_create_qos();
  dds_qset_reliability(qos, DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
  dds_qset_durability(qos, DDS_DURABILITY_TRANSIENT_LOCAL);
  dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, 1);
  const dds_entity_t reader = dds_create_reader(participant, topic, qos, nullptr);
  dds_delete_qos(qos);
  ASSERT_GT(reader, 0);
  dds_set_status_mask(reader, DDS_DATA_AVAILABLE_STATUS);
  const dds_entity_t waitset = dds_create_waitset(participant);
  dds_waitset_attach(waitset, reader, reader);
  ASSERT_GT(dds_waitset_wait(waitset, nullptr, 0, DDS_SECS(15)), 0) << "no mode received";
  void* samples[1] = {nullptr};
  dds_sample_info_t infos[1];
  ASSERT_EQ(dds_take(reader, samples, infos, 1, 1), 1);
  const auto* mode = static_cast<vigil_msgs_msg_dds__SystemMode_*>(samples[0]);
  EXPECT_STREQ(mode->mode, "nominal");
  EXPECT_GT(mode->stamp.sec, 0);
  dds_return_loan(reader, samples, 1);
  dds_delete(participant);
}

// A component that beats only over DDS: vigild counts its heartbeats (attributed to its
// process through the participant's __Pid), and catches it when they stop.
TEST(DdsHeartbeats, KeepAComponentAliveAndTheirSilenceIsAHang) {
  use_loopback_dds();
  const int domain = private_domain();
  Vigild v(R"(
dds: {domain: )" +
           std::to_string(domain) + R"(}
root:
  children:
    - name: beater
      command: [@BIN@/dds_heartbeat, --name, beater, --period, 100ms, --stop-after, 3000]
      env: {CYCLONEDDS_URI: "file://)" VIGIL_SOURCE_DIR R"(/dds/cyclonedds-loopback.xml",
            ROS_DOMAIN_ID: ")" +
           std::to_string(domain) + R"("}
      ready: notify
      watchdog: {timeout: 1s}
      backoff: {initial: 5s, jitter: 0}
)");
  v.start();
  auto ready = v.wait_for("beater", "ready", 20s);
  // The watchdog would fire after 1 s without beats; DDS heartbeats keep it quiet for the
  // three seconds the component beats.
  ASSERT_TRUE(v.poll_until([&] { return v.component("beater").value("heartbeats", 0) >= 10; }, 10s))
      << v.component("beater").dump();
  auto hang = v.wait_for("beater", "hang_detected", 15s, ready["id"]);
  const auto silent_ms = hang["detail"].value("since_heartbeat_ms", 0.0);
  EXPECT_GE(silent_ms, 900.0) << hang.dump();
  EXPECT_LT(silent_ms, 1500.0) << hang.dump();
  EXPECT_GE(v.status()["daemon"]["dds"]["heartbeats"].get<int>(), 10);
}

// Someone else's heartbeats do not keep a component alive: the test process writes
// heartbeats naming the component, and vigild drops them (not from its processes).
TEST(DdsHeartbeats, AreAcceptedOnlyFromTheComponentsOwnProcesses) {
  use_loopback_dds();
  const int domain = private_domain();
  Vigild v(R"(
dds: {domain: )" +
           std::to_string(domain) + R"(}
root:
  children:
    - name: quiet
      command: [@BIN@/robot_sim, --no-heartbeat]
      ready: notify
      watchdog: {timeout: 1s}
      backoff: {initial: 5s, jitter: 0}
)");
  v.start();
  auto ready = v.wait_for("quiet", "ready");
  const dds_entity_t participant =
      dds_create_participant(static_cast<dds_domainid_t>(domain), nullptr, nullptr);
  ASSERT_GT(participant, 0);
  const dds_entity_t topic = dds_create_topic(participant, &vigil_msgs_msg_dds__Heartbeat__desc,
                                              "rt/vigil/heartbeat", nullptr, nullptr);
  const dds_entity_t writer = dds_create_writer(participant, topic, nullptr, nullptr);
  ASSERT_GT(writer, 0);
  std::atomic<bool> stop{false};
  std::thread forger([&] {
    vigil_msgs_msg_dds__Heartbeat_ beat{};
    beat.component = const_cast<char*>("quiet");
    while (!stop) {
      ++beat.count;
      dds_write(writer, &beat);
      std::this_thread::sleep_for(50ms);  // the forger's pace, not a synchronisation
    }
  });
  auto hang = v.wait_for("quiet", "hang_detected", 10s, ready["id"]);
  stop = true;
  forger.join();
  EXPECT_EQ(v.component("quiet").value("heartbeats", 0), 0);
  EXPECT_GT(v.status()["daemon"]["notify_dropped"].get<int>(), 0);
  dds_delete(participant);
}

TEST(DiagnosticsFromStatus, NamesLevelsAndValues) {
  const json tree = json::parse(R"({"type":"group","name":"root","children":[
    {"type":"component","name":"lidar","state":"running","level":"OK","reason":"ready",
     "pid":42,"restarts":1,"for_ms":12500,
     "resources":{"cpu_percent":3.25,"rss_bytes":1048576},
     "liveness":{"since_heartbeat_ms":80.5},"phi":0.42},
    {"type":"group","name":"drive","children":[
      {"type":"component","name":"motor","state":"backoff","level":"ERROR",
       "reason":"pid 7 killed by SIGKILL","pid":0,"restarts":3,"for_ms":100,
       "recovery":{"step":2,"of":5,"action":"restart_group drive"},
       "replaced_by":"motor_spare"}]}]})");
  const json host = {{"type", "host"},
                     {"level", "WARN"},
                     {"warnings", {{"cpu", "CPU 97 % for 1 min"}}},
                     {"cpu_percent", 97.0}};
  auto a = dds::diagnostics_from_status(tree, host, 1'700'000'000'250'000, "robot1");
  EXPECT_EQ(a.sec, 1'700'000'000);
  EXPECT_EQ(a.nanosec, 250'000'000u);
  ASSERT_EQ(a.status.size(), 3u);
  EXPECT_EQ(a.status[0].name, "vigil/lidar");
  EXPECT_EQ(a.status[0].level, 0);
  EXPECT_EQ(a.status[0].hardware_id, "robot1");
  const std::vector<std::pair<std::string, std::string>> lidar_values{{"pid", "42"},
                                                                      {"state", "running"},
                                                                      {"restarts", "1"},
                                                                      {"uptime_s", "12.5"},
                                                                      {"cpu_percent", "3.25"},
                                                                      {"rss_bytes", "1048576"},
                                                                      {"heartbeat_age_ms", "80.50"},
                                                                      {"phi", "0.42"}};
  EXPECT_EQ(a.status[0].values, lidar_values);
  EXPECT_EQ(a.status[1].name, "vigil/drive/motor");
  EXPECT_EQ(a.status[1].level, 2);
  EXPECT_EQ(a.status[1].message, "pid 7 killed by SIGKILL");
  const std::vector<std::pair<std::string, std::string>> motor_values{
      {"pid", "0"},
      {"state", "backoff"},
      {"restarts", "3"},
      {"uptime_s", "0.0"},
      {"recovery_step", "2/5 restart_group drive"},
      {"replaced_by", "motor_spare"}};
  EXPECT_EQ(a.status[1].values, motor_values);
  EXPECT_EQ(a.status[2].name, "vigil/host");
  EXPECT_EQ(a.status[2].level, 1);
  EXPECT_EQ(a.status[2].message, "CPU 97 % for 1 min");
  EXPECT_EQ(dds::diagnostic_level("STALE"), 3);
  EXPECT_EQ(dds::diagnostic_level("nonsense"), 3);
}

}  // namespace
}  // namespace vigil::testing
