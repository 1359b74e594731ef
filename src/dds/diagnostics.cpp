#include "dds/diagnostics.hpp"

#include <fmt/format.h>

#include <cmath>

namespace vigil::dds {
namespace {

using nlohmann::json;

// Values are strings in diagnostic_msgs: integers without a decimal point, others rounded.
std::string text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    return std::isfinite(d) ? fmt::format("{:.2f}", d) : std::string("nan");
  }
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();
}

void add_components(const json& node, const std::string& path, const std::string& hardware_id,
                    std::vector<DiagnosticStatus>& out) {
  if (node.value("type", "") == "component") {
    DiagnosticStatus s;
    s.level = diagnostic_level(node.value("level", "STALE"));
    s.name = path + "/" + node.value("name", "");
    s.message = node.value("reason", "");
    s.hardware_id = hardware_id;
    const std::string state = node.value("state", "");
    s.values.emplace_back("pid", text(node.value("pid", json(0))));
    s.values.emplace_back("state", state);
    s.values.emplace_back("restarts", text(node.value("restarts", json(0))));
    const double uptime_s = state == "running" ? node.value("for_ms", 0.0) / 1000.0 : 0.0;
    s.values.emplace_back("uptime_s", fmt::format("{:.1f}", uptime_s));
    if (const auto r = node.find("resources"); r != node.end() && r->is_object()) {
      if (r->contains("cpu_percent"))
        s.values.emplace_back("cpu_percent", text((*r)["cpu_percent"]));
      if (r->contains("rss_bytes")) s.values.emplace_back("rss_bytes", text((*r)["rss_bytes"]));
    }
    if (const auto l = node.find("liveness");
        l != node.end() && l->contains("since_heartbeat_ms")) {
      s.values.emplace_back("heartbeat_age_ms", text((*l)["since_heartbeat_ms"]));
    }
    if (const auto phi = node.find("phi"); phi != node.end())
      s.values.emplace_back("phi", text(*phi));
    if (const auto r = node.find("recovery"); r != node.end() && r->is_object()) {
      s.values.emplace_back(
          "recovery_step",
          fmt::format("{}/{} {}", text(r->value("step", json(0))), text(r->value("of", json(0))),
                      r->value("action", std::string())));
    }
    for (const char* key : {"replaced_by", "serving_for"}) {
      if (const auto v = node.find(key); v != node.end() && v->is_string())
        s.values.emplace_back(key, v->get<std::string>());
    }
    if (const auto topics = node.find("topics"); topics != node.end() && topics->is_array()) {
      for (const auto& t : *topics) {
        s.values.emplace_back(
            "topic " + t.value("topic", std::string()),
            fmt::format("{} {:.2f}Hz, age {:.0f}ms, largest gap {:.0f}ms, {} publisher(s)",
                        t.value("level", std::string("?")), t.value("rate_hz", 0.0),
                        t.value("age_ms", 0.0), t.value("largest_gap_ms", 0.0),
                        t.value("publishers", 0)));
      }
    }
    out.push_back(std::move(s));
    return;
  }
  // Groups name the path; the root is implicit.
  const bool is_root = path == "vigil" && node.value("name", "") == "root";
  const std::string here = is_root ? path : path + "/" + node.value("name", "");
  if (const auto c = node.find("children"); c != node.end()) {
    for (const auto& child : *c) add_components(child, here, hardware_id, out);
  }
}

}  // namespace

std::uint8_t diagnostic_level(const std::string& level) {
  if (level == "OK") return 0;
  if (level == "WARN") return 1;
  if (level == "ERROR") return 2;
  return 3;  // STALE, and anything unknown: say we do not know
}

DiagnosticArray diagnostics_from_status(const json& tree, const json& host, std::int64_t wall_us,
                                        const std::string& hardware_id) {
  DiagnosticArray a;
  a.sec = static_cast<std::int32_t>(wall_us / 1'000'000);
  a.nanosec = static_cast<std::uint32_t>((wall_us % 1'000'000) * 1000);
  add_components(tree, "vigil", hardware_id, a.status);
  if (host.is_object() && !host.empty()) {
    DiagnosticStatus s;
    s.level = diagnostic_level(host.value("level", "STALE"));
    s.name = "vigil/host";
    s.hardware_id = hardware_id;
    if (const auto w = host.find("warnings"); w != host.end() && w->is_object()) {
      for (auto it = w->begin(); it != w->end(); ++it) {
        if (!s.message.empty()) s.message += "; ";
        s.message += it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
      }
    }
    // The host's figures, whatever the sampler measured on this machine (no temperature
    // sensor in a VM, for instance).
    for (auto it = host.begin(); it != host.end(); ++it) {
      if (it.value().is_number()) s.values.emplace_back(it.key(), text(it.value()));
    }
    a.status.push_back(std::move(s));
  }
  return a;
}

}  // namespace vigil::dds
