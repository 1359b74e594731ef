// System modes with a real vigild and real components: the rules follow the health model, the
// most severe mode whose rule holds wins, a mode holds its components stopped, it is left only
// after exit_after and dwell, and every change reaches components through DDS and the mode file.
#include <dds/dds.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "integration/harness.hpp"
#include "ros2_messages.h"
#include "support/dds_env.hpp"
#include "vigil/mode_file.hpp"

namespace vigil::testing {
namespace {

using namespace std::chrono_literals;

std::string config(int domain) {
  return R"(
dds: {domain: )" +
         std::to_string(domain) +
         R"(}
modes:
  nominal: {}
  degraded: {when: "lidar != ok and camera == ok", publish: {max_speed: 0.3},
             exit_after: 500ms, dwell: 1s}
  safe_stop: {when: "lidar != ok and camera != ok", publish: {max_speed: 0.0},
              stop: [planner], exit_after: 500ms, dwell: 1s}
root:
  children:
    - name: sensors
      children:
        - {name: lidar, command: [@BIN@/robot_sim], ready: notify,
           backoff: {initial: 2s, jitter: 0}}
        - {name: camera, command: [@BIN@/robot_sim], ready: notify,
           backoff: {initial: 2s, jitter: 0}}
    - {name: planner, command: [/bin/sleep, "3600"]}
)";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Reads rt/vigil/mode as a component would (transient-local: the current mode at once).
class ModeReader {
 public:
  explicit ModeReader(int domain) {
    participant_ = dds_create_participant(static_cast<dds_domainid_t>(domain), nullptr, nullptr);
    const dds_entity_t topic = dds_create_topic(participant_, &vigil_msgs_msg_dds__SystemMode__desc,
                                                "rt/vigil/mode", nullptr, nullptr);
    dds_qos_t* qos = dds_create_qos();
    dds_qset_reliability(qos, DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
    dds_qset_durability(qos, DDS_DURABILITY_TRANSIENT_LOCAL);
    dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, 8);
    reader_ = dds_create_reader(participant_, topic, qos, nullptr);
    dds_delete_qos(qos);
    dds_set_status_mask(reader_, DDS_DATA_AVAILABLE_STATUS);
    waitset_ = dds_create_waitset(participant_);
    dds_waitset_attach(waitset_, reader_, reader_);
  }
  ~ModeReader() { dds_delete(participant_); }

  // The next mode published, with its max_speed value ("" when none).
  std::optional<std::pair<std::string, std::string>> next(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      void* samples[1] = {nullptr};
      dds_sample_info_t infos[1];
      if (dds_take(reader_, samples, infos, 1, 1) == 1) {
        std::optional<std::pair<std::string, std::string>> out;
        const auto* m = static_cast<vigil_msgs_msg_dds__SystemMode_*>(samples[0]);
        if (infos[0].valid_data) {
          std::string speed;
          for (std::uint32_t i = 0; i < m->values._length; ++i) {
            if (std::string(m->values._buffer[i].key) == "max_speed") {
              speed = m->values._buffer[i].value;
            }
          }
          out = std::make_pair(std::string(m->mode), speed);
        }
        dds_return_loan(reader_, samples, 1);
        if (out) return out;
        continue;
      }
      dds_waitset_wait(waitset_, nullptr, 0, DDS_MSECS(200));
    }
    return std::nullopt;
  }

 private:
  dds_entity_t participant_ = 0;
  dds_entity_t reader_ = 0;
  dds_entity_t waitset_ = 0;
};

TEST(SystemModes, FollowTheHealthOfTheSensorsAndReachComponents) {
  use_loopback_dds();
  const int domain = private_domain();
  Vigild v(config(domain));
  v.start();
  v.wait_for("lidar", "ready");
  v.wait_for("camera", "ready");
  ModeReader reader(domain);
  auto first = reader.next(15s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->first, "nominal");
  EXPECT_EQ(v.status()["mode"].value("name", ""), "nominal");

  // Lidar down, camera fine: degraded, with max_speed 0.3 on DDS and in the mode file.
  ASSERT_EQ(::kill(v.component("lidar")["pid"].get<pid_t>(), SIGKILL), 0);
  auto degraded = v.wait_for("system", "mode_changed");
  EXPECT_EQ(degraded.value("state", ""), "degraded") << degraded.dump();
  EXPECT_EQ(degraded["detail"].value("rule", ""), "lidar != ok and camera == ok");
  EXPECT_EQ(degraded["detail"].value("from", ""), "nominal");
  EXPECT_NE(degraded.value("reason", "").find("lidar: "), std::string::npos) << degraded.dump();
  auto published = reader.next(10s);
  ASSERT_TRUE(published);
  EXPECT_EQ(published->first, "degraded");
  EXPECT_EQ(published->second, "0.3");
  // `vigil status` says it, with the values and why.
  auto cli = run_command({bin("vigil"), "-c", v.config_path(), "status"});
  EXPECT_NE(cli.output.find("mode degraded max_speed=0.3 (nominal -> degraded: lidar != ok"),
            std::string::npos)
      << "exit " << cli.exit_code << ": " << cli.output;
  // The mode file, read as libvigil's listener for components without DDS reads it.
  const auto parsed = vigil::file::parse_mode_file(read_file(v.state_dir() + "/mode"));
  ASSERT_TRUE(parsed.ok) << parsed.error;
  EXPECT_EQ(parsed.mode.name, "degraded");
  EXPECT_EQ(parsed.mode.values.at("max_speed"), "0.3");
  EXPECT_NE(parsed.mode.reason.find("lidar != ok and camera == ok holds"), std::string::npos);

  // The lidar is back (after its 2 s backoff): nominal again, after exit_after and dwell.
  auto lidar_ready = v.wait_for("lidar", "ready", 10s, degraded["id"]);
  auto nominal = v.wait_for("system", "mode_changed", 10s, degraded["id"]);
  EXPECT_EQ(nominal.value("state", ""), "nominal");
  EXPECT_GE(
      nominal.value("mono_us", std::int64_t{0}) - lidar_ready.value("mono_us", std::int64_t{0}),
      500'000)  // exit_after
      << nominal.dump();
  EXPECT_GE(nominal.value("mono_us", std::int64_t{0}) - degraded.value("mono_us", std::int64_t{0}),
            1'000'000)  // dwell
      << nominal.dump();

  // Both sensors down: safe_stop, which holds the planner stopped; then everything comes back.
  ASSERT_EQ(::kill(v.component("lidar")["pid"].get<pid_t>(), SIGKILL), 0);
  ASSERT_EQ(::kill(v.component("camera")["pid"].get<pid_t>(), SIGKILL), 0);
  auto safe = v.wait_for(
      [](const json& e) {
        return e.value("kind", "") == "mode_changed" && e.value("state", "") == "safe_stop";
      },
      10s, nominal["id"]);
  auto planner_stopped = v.wait_for("planner", "stopped", 10s, safe["id"]);
  EXPECT_EQ(planner_stopped.value("reason", ""), "stopped by mode safe_stop");
  // On the way back the camera may recover first (degraded) before nominal; the planner is
  // released as soon as safe_stop is left.
  auto left = v.wait_for("system", "mode_changed", 20s, safe["id"]);
  EXPECT_EQ(left["detail"].value("from", ""), "safe_stop") << left.dump();
  v.wait_for("planner", "spawned", 10s, left["id"]);
  auto back = v.wait_for(
      [](const json& e) {
        return e.value("kind", "") == "mode_changed" && e.value("state", "") == "nominal";
      },
      20s, safe["id"]);
  EXPECT_EQ(v.status()["mode"].value("name", ""), "nominal") << back.dump();
}

TEST(SystemModes, NoModesMeansNominalForComponents) {
  Vigild v(R"(
root:
  children:
    - {name: a, command: [/bin/sleep, "3600"]}
)");
  v.start();
  v.wait_for("a", "ready");
  EXPECT_EQ(v.status()["mode"].value("name", ""), "nominal");
  const std::string file = read_file(v.state_dir() + "/mode");
  EXPECT_NE(file.find("mode=nominal\n"), std::string::npos) << file;
  std::ifstream environ("/proc/" + std::to_string(v.component("a")["pid"].get<int>()) + "/environ");
  std::string env((std::istreambuf_iterator<char>(environ)), std::istreambuf_iterator<char>());
  EXPECT_NE(env.find("VIGIL_MODE_FILE=" + v.state_dir() + "/mode"), std::string::npos);
}

// A reload keeps the robot in its mode: no mode_changed, new values reach components at once,
// and the mode is left as usual when its rule stops holding.
TEST(SystemModes, AReloadKeepsTheModeAndAnnouncesNewValues) {
  auto config = [](const std::string& speed) {
    return R"(
modes:
  nominal: {}
  degraded: {when: "lidar == stopped", publish: {max_speed: )" +
           speed + R"(}, exit_after: 200ms, dwell: 500ms}
root:
  children:
    - {name: lidar, command: [/bin/sleep, "3600"]}
    - {name: planner, command: [/bin/sleep, "3600"]}
)";
  };
  Vigild v(config("0.3"));
  v.start();
  v.wait_for("lidar", "spawned", 10s);
  ASSERT_TRUE(v.request({{"cmd", "stop"}, {"name", "lidar"}}).value("ok", false));
  const json degraded = v.wait_for("system", "mode_changed", 10s);
  ASSERT_EQ(degraded.value("state", ""), "degraded");

  v.write_config(config("0.5"));
  const json reloaded = v.request({{"cmd", "reload"}});
  ASSERT_TRUE(reloaded.value("ok", false)) << reloaded.dump();
  ASSERT_TRUE(v.poll_until(
      [&] {
        const auto parsed = vigil::file::parse_mode_file(read_file(v.state_dir() + "/mode"));
        return parsed.ok && parsed.mode.values.count("max_speed") &&
               parsed.mode.values.at("max_speed") == "0.5";
      },
      10s));
  const auto parsed = vigil::file::parse_mode_file(read_file(v.state_dir() + "/mode"));
  EXPECT_EQ(parsed.mode.name, "degraded");
  EXPECT_EQ(v.status()["mode"].value("name", ""), "degraded");
  EXPECT_EQ(v.events_of("system", "mode_changed").size(), 1u) << "the reload changed no mode";

  ASSERT_TRUE(v.request({{"cmd", "start"}, {"name", "lidar"}}).value("ok", false));
  const json back = v.wait_for("system", "mode_changed", 10s, degraded["id"]);
  EXPECT_EQ(back.value("state", ""), "nominal");
}

}  // namespace
}  // namespace vigil::testing
