#include "cli/format.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>
#include <iterator>

#include "common/units.hpp"

namespace vigil::cli {
namespace {

const char* state_colour(const std::string& state) {
  if (state == "running") return "32";                          // green
  if (state == "starting" || state == "stopping") return "33";  // yellow
  if (state == "stopped") return "2";                           // dim
  return "31";                                                  // red: backoff, failed, given_up
}

// A string field, or empty when absent or of another type (the status may come from an older or
// newer vigild).
std::string text_field(const nlohmann::json& node, const char* key) {
  const auto it = node.find(key);
  return it != node.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string ago(std::int64_t now_us, std::int64_t then_us) {
  return format_duration(std::chrono::microseconds(now_us - then_us)) + " ago";
}

// Display columns of a UTF-8 string (the tree's box-drawing characters are one column each).
std::size_t columns(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

void render(const nlohmann::json& node, const std::string& prefix, bool last, bool top,
            const Style& style, std::int64_t now_us, std::string& out) {
  const std::string branch = top ? "" : (last ? "└─ " : "├─ ");
  const std::string child_prefix = top ? "" : prefix + (last ? "   " : "│  ");
  const std::string name = node.value("name", "?");
  if (node.value("type", "") == "group") {
    const auto& in = node["intensity"];
    out +=
        fmt::format("{}{}{} ({}, {}/{} restarts in {})\n", prefix, branch, style.paint(name, "1"),
                    node.value("strategy", "?"), in.value("recent", 0), in.value("restarts", 0),
                    format_duration(std::chrono::milliseconds(in.value("within_ms", 0))));
    const auto& children = node["children"];
    for (std::size_t i = 0; i < children.size(); ++i) {
      render(children[i], child_prefix, i + 1 == children.size(), false, style, now_us, out);
    }
    return;
  }
  const std::string state = node.value("state", "?");
  // Every tree level indents by 3 columns; pad the name so the state column lines up.
  const std::size_t indent = columns(prefix) + columns(branch);
  const std::size_t width = indent < 24 ? 24 - indent : 1;
  std::string line = fmt::format("{}{}{:<{}} {}", prefix, branch, name, width,
                                 style.paint(fmt::format("{:<9}", state), state_colour(state)));
  const int pid = node.value("pid", 0);
  line += pid != 0 ? fmt::format(" pid {:<7}", pid) : std::string(12, ' ');
  line += fmt::format(" {:<8} {} {}",
                      format_duration(std::chrono::milliseconds(node.value("for_ms", 0))),
                      "restarts", node.value("restarts", 0));
  if (node.contains("resources") && node["resources"].is_object()) {
    const auto& r = node["resources"];
    line += fmt::format("  cpu {:>5.1f}%  rss {:>7.1f}MiB", r.value("cpu_percent", 0.0),
                        r.value("rss_bytes", 0.0) / (1024.0 * 1024.0));
  }
  if (node.contains("phi")) line += fmt::format("  phi {:.1f}", node.value("phi", 0.0));
  out += line + "\n";
  const std::string detail_prefix = child_prefix + "    ";
  if (const auto rec = node.find("recovery"); rec != node.end() && rec->is_object()) {
    out += fmt::format("{}{}\n", detail_prefix,
                       style.paint(fmt::format("recovery step {}/{}: {}", rec->value("step", 0),
                                               rec->value("of", 0), rec->value("action", "?")),
                                   "33"));
  }
  // Who covers for whom: a standby serving now matters more than one merely configured.
  if (!text_field(node, "serving_for").empty()) {
    out += fmt::format("{}{}\n", detail_prefix,
                       style.paint("serving for " + text_field(node, "serving_for"), "33"));
  } else if (!text_field(node, "standby_for").empty()) {
    out += fmt::format("{}standby for {}{}\n", detail_prefix, text_field(node, "standby_for"),
                       node.value("hot", false) ? " (hot)" : "");
  }
  if (!text_field(node, "replaced_by").empty()) {
    out += fmt::format("{}{}\n", detail_prefix,
                       style.paint("replaced by standby " + text_field(node, "replaced_by"), "33"));
  }
  if (state != "running" && !node.value("reason", "").empty()) {
    out += fmt::format("{}{}\n", detail_prefix, style.paint(node.value("reason", ""), "2"));
  }
  if (node.contains("warnings") && node["warnings"].is_object()) {
    for (const auto& [source, reason] : node["warnings"].items()) {
      out += fmt::format(
          "{}{}\n", detail_prefix,
          style.paint(fmt::format("WARN {}: {}", source, reason.get<std::string>()), "33"));
    }
  }
  if (node.contains("status_text")) {
    out += fmt::format("{}status: {}\n", detail_prefix, node.value("status_text", ""));
  }
  if (node.contains("last_failure") && node["last_failure"].is_object()) {
    const auto& f = node["last_failure"];
    out += fmt::format("{}last failure {}: {}: {}\n", detail_prefix,
                       ago(now_us, f.value("wall_us", std::int64_t{0})), f.value("kind", "?"),
                       f.value("reason", ""));
  }
}

}  // namespace

std::string Style::paint(const std::string& text, const char* ansi) const {
  if (!colour) return text;
  return fmt::format("\033[{}m{}\033[0m", ansi, text);
}

std::string format_status(const nlohmann::json& tree, const Style& style, std::int64_t now_us) {
  std::string out;
  render(tree, "", true, true, style, now_us, out);
  return out;
}

std::string format_daemon(const nlohmann::json& daemon, const Style& style) {
  if (!daemon.is_object()) return "";
  std::string out;
  if (const auto fallback = daemon.find("state_dir_fallback");
      fallback != daemon.end() && fallback->is_object()) {
    out += fmt::format(
        "{} {}\n", style.paint("state dir", "1"),
        style.paint(fmt::format("NOT WRITABLE: {}; running from {} (lost at reboot)",
                                fallback->value("error", "?"), daemon.value("state_dir", "?")),
                    "31"));
  }
  if (const auto log = daemon.find("event_log");
      log != daemon.end() && log->is_object() && !log->value("writable", true)) {
    out +=
        fmt::format("{} {}\n", style.paint("event log", "1"),
                    style.paint(fmt::format("NOT WRITABLE: {} ({} events held in memory; "
                                            "supervision goes on)",
                                            log->value("error", "?"), log->value("held_events", 0)),
                                "31"));
  }
  if (const auto http = daemon.find("http"); http != daemon.end() && http->is_object()) {
    if (http->contains("url")) {
      out += fmt::format("{} {}/\n", style.paint("dashboard", "1"), http->value("url", ""));
    } else {
      out += fmt::format("{} {}\n", style.paint("dashboard", "1"),
                         style.paint("off: " + http->value("error", "?"), "31"));
    }
  }
  if (const auto dds = daemon.find("dds"); dds != daemon.end() && dds->is_object()) {
    if (dds->contains("domain")) {
      out += fmt::format("{} domain {}: /diagnostics, /vigil/mode\n", style.paint("dds", "1"),
                         dds->value("domain", 0));
    } else {
      out += fmt::format("{} {}\n", style.paint("dds", "1"),
                         style.paint("off: " + dds->value("error", "?"), "31"));
    }
  }
  return out;
}

std::string format_mode(const nlohmann::json& mode, const Style& style) {
  if (!mode.is_object() || !mode.contains("name")) return "";
  const std::string name = mode.value("name", "");
  const auto modes = mode.value("modes", nlohmann::json::array());
  const bool is_default = modes.empty() || modes.front() == name;
  std::string values;
  const nlohmann::json values_json = mode.value("values", nlohmann::json::object());
  for (const auto& [k, v] : values_json.items()) {
    values += fmt::format(" {}={}", k, v.is_string() ? v.get<std::string>() : v.dump());
  }
  std::string out = fmt::format("{} {}{}", style.paint("mode", "1"),
                                is_default ? name : style.paint(name, "33"), values);
  if (!is_default) out += " (" + mode.value("reason", "") + ")";
  return out + "\n";
}

std::string format_host(const nlohmann::json& host, const Style& style) {
  if (!host.is_object()) return "";
  const auto mib = [&](const char* key) { return host.value(key, 0.0) / (1024.0 * 1024.0); };
  const std::string level = host.value("level", "OK");
  double load1 = 0;
  if (host.contains("load") && host["load"].is_array() && !host["load"].empty()) {
    load1 = host["load"][0].get<double>();
  }
  std::string out = fmt::format(
      "{} {}  cpu {:.1f}%  load {:.2f}  memory {:.0f}/{:.0f}MiB available  disk {:.1f}/{:.1f}GiB "
      "available\n",
      style.paint("host", "1"),
      style.paint(level, level == "OK"     ? "32"
                         : level == "WARN" ? "33"
                                           : "31"),
      host.value("cpu_percent", 0.0), load1, mib("mem_available_bytes"), mib("mem_total_bytes"),
      mib("disk_available_bytes") / 1024.0, mib("disk_total_bytes") / 1024.0);
  if (host.contains("warnings") && host["warnings"].is_object()) {
    for (const auto& [source, reason] : host["warnings"].items()) {
      out += fmt::format(
          "    {}\n", style.paint(fmt::format("{}: {}", source, reason.get<std::string>()), "33"));
    }
  }
  return out;
}

std::string format_event(const nlohmann::json& e, const Style& style) {
  const std::int64_t wall_us = e.value("wall_us", std::int64_t{0});
  const std::time_t secs = static_cast<std::time_t>(wall_us / 1'000'000);
  std::tm tm{};
  ::localtime_r(&secs, &tm);
  const std::string when = fmt::format("{:%Y-%m-%d %H:%M:%S}.{:03}", tm, (wall_us / 1000) % 1000);
  const std::string component = e.value("component", "");
  const std::string failure = e.value("failure", "");
  const std::string kind = e.value("kind", "?");
  std::string kind_text = fmt::format("{:<17}", kind);
  if (!failure.empty()) kind_text = style.paint(kind_text, "31");
  std::string line =
      fmt::format("{} {:<16} {} {:<9} {}", when, component.empty() ? "vigild" : component,
                  kind_text, e.value("state", ""), e.value("reason", ""));
  if (e.contains("detail") && e["detail"].contains("output") && e["detail"]["output"].is_array()) {
    for (const auto& l : e["detail"]["output"]) {
      if (l.is_string()) line += "\n    | " + l.get<std::string>();
    }
  }
  return line;
}

std::string format_approvals(const nlohmann::json& approvals, const Style& style,
                             std::int64_t now_us) {
  if (!approvals.is_array() || approvals.empty()) return "";
  std::string out =
      style.paint(fmt::format("pending approvals ({})", approvals.size()), "1;33") + "\n";
  for (const auto& a : approvals) {
    if (!a.is_object()) continue;
    const std::string id = text_field(a, "id");
    const std::int64_t left_us = a.value("deadline_us", std::int64_t{0}) - now_us;
    const std::string left =
        // Whole seconds, rounded up: "0s left" would read as already too late.
        left_us > 0 ? format_uptime((left_us + 999'999) / 1'000'000 * 1000) + " left" : "due now";
    const std::string fallback = text_field(a, "default");
    out += fmt::format("  [{}] {}: {}\n", style.paint(id, "1"), text_field(a, "component"),
                       style.paint(text_field(a, "action"), "33"));
    if (!text_field(a, "why").empty()) out += fmt::format("      why: {}\n", text_field(a, "why"));
    out += fmt::format(
        "      {}; then the default applies: {}\n", left,
        style.paint(fallback.empty() ? "?" : fallback, fallback == "approve" ? "33" : "2"));
    out += fmt::format("      answer: vigil approve {}  |  vigil deny {}\n", id, id);
  }
  return out;
}

std::string format_bytes(double bytes) {
  if (!(bytes >= 0)) return "-";  // also NaN
  constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t unit = 0;
  while (bytes >= 1024.0 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024.0;
    ++unit;
  }
  if (unit == 0) return fmt::format("{:.0f}B", bytes);
  // One decimal while it is informative; 3 significant digits are enough in a table.
  return bytes < 100.0 ? fmt::format("{:.1f}{}", bytes, kUnits[unit])
                       : fmt::format("{:.0f}{}", bytes, kUnits[unit]);
}

std::string format_uptime(std::int64_t ms) {
  if (ms < 0) return "-";
  const std::int64_t s = ms / 1000;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d{:02}h", s / 86400, (s % 86400) / 3600);
}

}  // namespace vigil::cli
