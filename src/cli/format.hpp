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
std::string format_event(const nlohmann::json& event, const Style& style);

}  // namespace vigil::cli
