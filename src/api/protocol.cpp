#include "api/protocol.hpp"

#include <fmt/format.h>

#include <array>

namespace vigil::api {
namespace {

constexpr std::array<std::pair<Command, std::string_view>, 13> kCommands{{
    {Command::status, "status"},
    {Command::start, "start"},
    {Command::stop, "stop"},
    {Command::restart, "restart"},
    {Command::events, "events"},
    {Command::logs, "logs"},
    {Command::report, "report"},
    {Command::reload, "reload"},
    {Command::shutdown, "shutdown"},
    {Command::ping, "ping"},
    {Command::history, "history"},
    {Command::approve, "approve"},
    {Command::deny, "deny"},
}};

}  // namespace

std::string approval_id_problem(std::string_view id) {
  if (id.empty()) return "an approval id must not be empty (`vigil status` lists them)";
  if (id.size() > kMaxApprovalIdBytes) {
    return fmt::format("an approval id is at most {} characters", kMaxApprovalIdBytes);
  }
  for (const char ch : id) {
    // Ids are echoed into terminals and logs: no control characters, no escapes.
    if (ch <= ' ' || ch > '~') {
      return "an approval id is printable ASCII without spaces (`vigil status` lists them)";
    }
  }
  return {};
}

std::string_view to_string(Command c) {
  for (const auto& [cmd, name] : kCommands) {
    if (cmd == c) return name;
  }
  return "?";
}

Result<Request> parse_request(std::string_view line) {
  if (line.size() > kMaxRequestBytes) {
    return make_error(fmt::format("request longer than {} bytes", kMaxRequestBytes));
  }
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error("request is not valid JSON");
  if (!j.is_object()) return make_error("request must be a JSON object");
  auto cmd = j.find("cmd");
  if (cmd == j.end() || !cmd->is_string()) {
    return make_error("request needs \"cmd\": a string such as \"status\"");
  }
  Request r;
  const auto name = cmd->get<std::string>();
  bool known = false;
  for (const auto& [c, text] : kCommands) {
    if (text == name) {
      r.command = c;
      known = true;
    }
  }
  if (!known) return make_error(fmt::format("unknown command '{}'", name.substr(0, 64)));
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto& key = it.key();
    const auto& v = it.value();
    if (key == "cmd") continue;
    if (key == "name" || key == "component") {
      if (!v.is_string()) return make_error(fmt::format("\"{}\" must be a string", key));
      (key == "name" ? r.name : r.component) = v.get<std::string>();
    } else if (key == "since_us" || key == "after_id") {
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0) {
        return make_error(fmt::format("\"{}\" must be a non-negative integer", key));
      }
      (key == "since_us" ? r.since_us : r.after_id) = v.get<std::int64_t>();
    } else if (key == "limit") {
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 100000) {
        return make_error("\"limit\" must be an integer from 0 to 100000");
      }
      r.limit = v.get<int>();
    } else if (key == "id") {
      if (!v.is_string()) return make_error("\"id\" must be a string");
      r.id = v.get<std::string>();
    } else if (key == "series") {
      if (!v.is_string()) return make_error("\"series\" must be a string");
      r.series = v.get<std::string>();
    } else if (key == "max_points") {
      if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > 100000) {
        return make_error("\"max_points\" must be an integer from 1 to 100000");
      }
      r.max_points = v.get<int>();
    } else if (key == "follow") {
      if (!v.is_boolean()) return make_error("\"follow\" must be true or false");
      r.follow = v.get<bool>();
    } else {
      return make_error(fmt::format("unknown field \"{}\"", key.substr(0, 64)));
    }
  }
  const bool needs_name = r.command == Command::start || r.command == Command::stop ||
                          r.command == Command::restart || r.command == Command::logs;
  if (needs_name && r.name.empty()) {
    return make_error(fmt::format("'{}' needs \"name\"", to_string(r.command)));
  }
  if (r.command == Command::approve || r.command == Command::deny) {
    if (j.find("id") == j.end()) {
      return make_error(
          fmt::format("'{}' needs \"id\" (a pending approval's id)", to_string(r.command)));
    }
    if (auto problem = approval_id_problem(r.id); !problem.empty()) return make_error(problem);
  }
  if (r.command == Command::history && r.component.empty()) {
    return make_error("'history' needs \"component\" (a component's name or \"host\")");
  }
  return r;
}

nlohmann::json ok_response(nlohmann::json fields) {
  fields["ok"] = true;
  return fields;
}

nlohmann::json error_response(const std::string& message) {
  return {{"ok", false}, {"error", message}};
}

}  // namespace vigil::api
