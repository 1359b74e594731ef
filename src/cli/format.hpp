#pragma once
// Human output of the `vigil` command: the status tree, event lines.
#include <nlohmann/json.hpp>
#include <string>

namespace vigil::cli {

struct Style {
  bool colour = false;
  std::string paint(const std::string& text, const char* ansi) const;
};

std::string format_status(const nlohmann::json& tree, const Style& style, std::int64_t now_us);
// The `host` node: CPU, load, memory and disk available, warnings.
std::string format_host(const nlohmann::json& host, const Style& style);
// Where to look next: the dashboard's address, DDS; or why they are off.
std::string format_daemon(const nlohmann::json& daemon, const Style& style);
// "mode degraded max_speed=0.3 (nominal -> degraded: ...)": the system mode and why.
std::string format_mode(const nlohmann::json& mode, const Style& style);
std::string format_event(const nlohmann::json& event, const Style& style);
// The status's `approvals` array: each pending approval with the time left, what happens when
// nobody answers, and the commands that answer it. Empty when none are pending.
std::string format_approvals(const nlohmann::json& approvals, const Style& style,
                             std::int64_t now_us);

// Compact figures for narrow columns (vigil top): "512B", "2.7MiB", "1.2GiB"; negative: "-".
std::string format_bytes(double bytes);
// An uptime to the second: "0s", "59s", "1m05s", "2h03m", "3d04h"; negative: "-".
std::string format_uptime(std::int64_t ms);

}  // namespace vigil::cli
