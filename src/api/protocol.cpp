#include "api/protocol.hpp"

#include <fmt/format.h>

#include <array>

#include "common/units.hpp"

namespace vigil::api {
namespace {

constexpr std::array<std::pair<Command, std::string_view>, 14> kCommands{{
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
    {Command::chaos, "chaos"},
}};

constexpr std::array<std::pair<ChaosFault, std::string_view>, 11> kChaosFaults{{
    {ChaosFault::list, "list"},
    {ChaosFault::kill, "kill"},
    {ChaosFault::hang, "hang"},
    {ChaosFault::slow, "slow"},
    {ChaosFault::heartbeat_loss, "heartbeat_loss"},
    {ChaosFault::partition, "partition"},
    {ChaosFault::packet_loss, "packet_loss"},
    {ChaosFault::cpu_hog, "cpu_hog"},
    {ChaosFault::memory_hog, "memory_hog"},
    {ChaosFault::topic_dropout, "topic_dropout"},
    {ChaosFault::state_dir_full, "state_dir_full"},
}};

constexpr std::string_view kFaultNames =
    "kill, hang, slow, heartbeat_loss, topic_dropout, partition, packet_loss, cpu_hog, "
    "memory_hog, state_dir_full or list";

// Fields only `chaos` takes; every other command rejects them as unknown.
bool is_chaos_field(std::string_view key) {
  return key == "fault" || key == "duration_ms" || key == "signal" || key == "group" ||
         key == "period_ms" || key == "duty" || key == "loss_percent" || key == "cpus" ||
         key == "bytes" || key == "expect";
}

// A fault is refused unless every parameter given applies to it and is in range: a typo in a
// chaos experiment must not silently inject something else.
Result<ChaosRequest> parse_chaos(const nlohmann::json& j, const std::string& name) {
  ChaosRequest c;
  auto fault = j.find("fault");
  if (fault == j.end()) {
    return make_error(fmt::format("'chaos' needs \"fault\": {}", kFaultNames));
  }
  if (!fault->is_string()) return make_error("\"fault\" must be a string");
  const auto fault_name = fault->get<std::string>();
  bool known = false;
  for (const auto& [f, text] : kChaosFaults) {
    if (text == fault_name) {
      c.fault = f;
      known = true;
    }
  }
  if (!known) {
    return make_error(
        fmt::format("unknown fault '{}' ({})", fault_name.substr(0, 64), kFaultNames));
  }
  const auto applies = [&](std::string_view key) {
    if (key == "fault") return true;
    if (key == "expect") return c.fault != ChaosFault::list;
    if (key == "signal" || key == "group") return c.fault == ChaosFault::kill;
    if (key == "duration_ms") return is_timed(c.fault);
    if (key == "loss_percent") return c.fault == ChaosFault::packet_loss;
    if (key == "cpus") return c.fault == ChaosFault::cpu_hog;
    if (key == "bytes") return c.fault == ChaosFault::memory_hog;
    return c.fault == ChaosFault::slow;  // period_ms, duty
  };
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!is_chaos_field(it.key())) continue;
    if (!applies(it.key())) {
      return make_error(
          fmt::format("\"{}\" does not apply to fault '{}'", it.key(), to_string(c.fault)));
    }
  }
  if (c.fault == ChaosFault::list) {
    if (!name.empty()) return make_error("fault 'list' takes no \"name\"");
    return c;
  }
  if (c.fault == ChaosFault::state_dir_full) {
    // vigild's own: its event log cannot be written, as on a full disk.
    if (!name.empty()) return make_error("fault 'state_dir_full' takes no \"name\"");
  } else if (name.empty()) {
    return make_error(fmt::format("fault '{}' needs \"name\" (a component)", to_string(c.fault)));
  }
  const auto max_ms = kMaxChaosDuration.count();
  if (auto d = j.find("duration_ms"); d != j.end()) {
    if (!d->is_number_integer() || d->get<std::int64_t>() < 1 || d->get<std::int64_t>() > max_ms) {
      return make_error(
          fmt::format("\"duration_ms\" must be an integer from 1 to {} (24 h)", max_ms));
    }
    c.duration = std::chrono::milliseconds(d->get<std::int64_t>());
  } else if (c.fault != ChaosFault::kill) {
    return make_error(
        fmt::format("fault '{}' needs \"duration_ms\" (how long it lasts)", to_string(c.fault)));
  }
  if (auto s = j.find("signal"); s != j.end()) {
    const std::string text = s->is_string() ? s->get<std::string>() : std::string();
    // By name only: signal numbers differ between architectures, names do not.
    auto sig =
        text.empty() || (text[0] >= '0' && text[0] <= '9') ? std::nullopt : parse_signal(text);
    if (!sig) return make_error("\"signal\" must be a signal name such as \"SIGTERM\"");
    c.signal = *sig;
  }
  if (auto g = j.find("group"); g != j.end()) {
    if (!g->is_boolean()) return make_error("\"group\" must be true or false");
    c.group = g->get<bool>();
  }
  if (auto p = j.find("period_ms"); p != j.end()) {
    if (!p->is_number_integer() || p->get<std::int64_t>() < kMinChaosPeriod.count() ||
        p->get<std::int64_t>() > kMaxChaosPeriod.count()) {
      return make_error(fmt::format("\"period_ms\" must be an integer from {} to {}",
                                    kMinChaosPeriod.count(), kMaxChaosPeriod.count()));
    }
    c.period = std::chrono::milliseconds(p->get<std::int64_t>());
  }
  if (auto d = j.find("duty"); d != j.end()) {
    if (!d->is_number() || !(d->get<double>() > 0.0 && d->get<double>() < 1.0)) {
      return make_error("\"duty\" must be a number between 0 and 1 (exclusive)");
    }
    c.duty = d->get<double>();
  }
  if (auto l = j.find("loss_percent"); l != j.end()) {
    if (!l->is_number() || !(l->get<double>() > 0.0 && l->get<double>() <= 100.0)) {
      return make_error("\"loss_percent\" must be a number above 0 and at most 100");
    }
    c.loss_percent = l->get<double>();
  } else if (c.fault == ChaosFault::packet_loss) {
    return make_error("fault 'packet_loss' needs \"loss_percent\" (e.g. 20)");
  }
  if (auto x = j.find("expect"); x != j.end()) {
    if (!x->is_string() || (*x != "failure" && *x != "none")) {
      return make_error("\"expect\" must be \"failure\" or \"none\"");
    }
    c.expect_failure = *x == "failure";
  }
  if (auto n = j.find("cpus"); n != j.end()) {
    if (!n->is_number_integer() || n->get<std::int64_t>() < 1 || n->get<std::int64_t>() > 64) {
      return make_error("\"cpus\" must be an integer from 1 to 64");
    }
    c.cpus = n->get<int>();
  }
  constexpr std::uint64_t kMaxHogBytes = 64ULL << 30;
  if (auto b = j.find("bytes"); b != j.end()) {
    if (!b->is_number_unsigned() || b->get<std::uint64_t>() < 1 ||
        b->get<std::uint64_t>() > kMaxHogBytes) {
      return make_error("\"bytes\" must be an integer from 1 to 68719476736 (64 GiB)");
    }
    c.bytes = b->get<std::uint64_t>();
  } else if (c.fault == ChaosFault::memory_hog) {
    return make_error("fault 'memory_hog' needs \"bytes\" (how much memory to hold)");
  }
  return c;
}

}  // namespace

bool is_timed(ChaosFault f) {
  return f != ChaosFault::kill && f != ChaosFault::list;
}

std::string_view to_string(ChaosFault f) {
  for (const auto& [fault, name] : kChaosFaults) {
    if (fault == f) return name;
  }
  return "?";
}

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
    if (r.command == Command::chaos && is_chaos_field(key)) continue;  // parse_chaos below
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
  if (r.command == Command::chaos) {
    auto chaos = parse_chaos(j, r.name);
    if (!chaos) return make_error(chaos.error());
    r.chaos = *chaos;
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
