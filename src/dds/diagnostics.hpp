#pragma once
// vigil's health tree as a ROS 2 diagnostic_msgs/DiagnosticArray: one DiagnosticStatus per
// component, named vigil/<groups below the root>/<name>, level from the health model, message
// = the reason, values = pid, state, restarts, uptime, CPU, RSS, heartbeat age. Plain data
// here; the DDS writer (dds_bridge) turns it into the wire type.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace vigil::dds {

struct DiagnosticStatus {
  std::uint8_t level = 0;  // diagnostic_msgs/DiagnosticStatus: OK 0, WARN 1, ERROR 2, STALE 3
  std::string name;
  std::string message;
  std::string hardware_id;
  std::vector<std::pair<std::string, std::string>> values;
};

struct DiagnosticArray {
  std::int32_t sec = 0;
  std::uint32_t nanosec = 0;
  std::string frame_id;
  std::vector<DiagnosticStatus> status;
};

// The robot's system mode as published on /vigil/mode (transient-local: a late joiner gets
// the current one at once).
struct SystemMode {
  std::int32_t sec = 0;
  std::uint32_t nanosec = 0;
  std::string mode;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> values;
};

// `tree` is the supervision tree as in the status reply; `host` the host node (a status of its
// own, vigil/host), `wall_us` the stamp, `hardware_id` this robot (its hostname).
DiagnosticArray diagnostics_from_status(const nlohmann::json& tree, const nlohmann::json& host,
                                        std::int64_t wall_us, const std::string& hardware_id);

std::uint8_t diagnostic_level(const std::string& level);

}  // namespace vigil::dds
