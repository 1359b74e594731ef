#include "config/loader.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <unordered_map>

#include "common/edit_distance.hpp"
#include "health/mode_rule.hpp"

namespace vigil::config {
namespace {

namespace fs = std::filesystem;

std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& choices) {
  std::string_view best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (auto choice : choices) {
    const std::size_t d = edit_distance(word, choice);
    if (d < best_distance) {
      best_distance = d;
      best = choice;
    }
  }
  if (best.empty()) return "";
  return fmt::format(" (did you mean '{}'?)", best);
}

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (auto w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' ||
                              c == '-' || c == '.';
                     }) &&
         name != "." && name != "..";
}

const char* type_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
      return "empty";
    default:
      return "undefined";
  }
}

class Loader {
 public:
  Loader(std::string file, fs::path base_dir, LoadOptions options)
      : file_(std::move(file)), base_dir_(std::move(base_dir)), options_(options) {}

  LoadResult load(std::string_view text) {
    YAML::Node doc;
    try {
      doc = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      // yaml-cpp says "bad file" when its nesting limit stops a pathological document.
      std::string msg =
          e.msg == "bad file" ? "the YAML is nested too deeply to be a config" : e.msg;
      errors_.push_back(
          {{file_, std::max(1, e.mark.line + 1), std::max(1, e.mark.column + 1)}, std::move(msg)});
      return finish(std::nullopt);
    }
    SystemSpec spec;
    spec.source_file = file_;
    if (!doc.IsMap()) {
      error(doc, fmt::format("the config must be a mapping with a 'root' group, not {}",
                             type_name(doc)));
      return finish(std::nullopt);
    }
    check_keys(doc,
               {"state_dir", "root", "final_action", "event_log", "monitoring", "http", "history",
                "alerts", "dds", "modes", "hardware_watchdog"},
               "top level");
    if (auto n = doc["monitoring"]) parse_monitoring(n, spec.monitoring);
    if (auto n = doc["http"]) parse_http(n, spec.http);
    if (auto n = doc["history"]) parse_history(n, spec.history);
    if (auto n = doc["alerts"]) parse_alerts(n, spec.alerts);
    if (auto n = doc["dds"]) parse_dds(n, spec.dds);
    spec.state_dir = (base_dir_ / ".vigil").lexically_normal().string();
    if (auto n = doc["state_dir"]) {
      if (auto s = scalar(n, "state_dir")) spec.state_dir = absolute(*s).string();
    }
    if (auto n = doc["final_action"]) {
      if (auto s = scalar(n, "final_action")) {
        if (*s == "stop") {
          spec.final_action = FinalAction::stop;
        } else if (*s == "retry") {
          spec.final_action = FinalAction::retry;
        } else {
          error(n, fmt::format("final_action must be stop or retry, not '{}'{}", *s,
                               did_you_mean(*s, {"stop", "retry"})));
        }
      }
    }
    if (auto n = doc["event_log"]) {
      if (expect_map(n, "event_log")) {
        check_keys(n, {"max_events", "max_age"}, "event_log");
        if (auto m = n["max_events"]) {
          if (auto v = integer(m, "event_log.max_events", 100, 1'000'000'000)) {
            spec.event_log.max_events = *v;
          }
        }
        if (auto m = n["max_age"]) {
          if (auto d = duration(m, "event_log.max_age")) spec.event_log.max_age = *d;
        }
      }
    }
    auto root = doc["root"];
    if (!root) {
      error(doc, "missing key 'root': the supervision tree's top group");
      return finish(std::nullopt);
    }
    if (!expect_map(root, "root")) return finish(std::nullopt);
    spec.root = parse_group(root, "root", /*is_root=*/true);
    check_tree(spec.root);
    check_bonds(spec);
    if (auto n = doc["modes"]) parse_modes(n, spec);
    check_recovery(spec);
    if (auto n = doc["hardware_watchdog"]) parse_hardware_watchdog(n, spec.hardware_watchdog);
    return finish(std::move(spec));
  }

 private:
  LoadResult finish(std::optional<SystemSpec> spec) {
    std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
      return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
    });
    LoadResult result;
    result.errors = std::move(errors_);
    if (result.errors.empty()) result.spec = std::move(spec);
    return result;
  }

  SourceLocation at(const YAML::Node& node) const {
    const auto mark = node.Mark();
    if (mark.line < 0) return {file_, 1, 1};
    return {file_, mark.line + 1, mark.column + 1};
  }

  void error(const YAML::Node& node, std::string message) {
    errors_.push_back({at(node), std::move(message)});
  }

  bool expect_map(const YAML::Node& node, std::string_view what) {
    if (node.IsMap()) return true;
    error(node, fmt::format("{} must be a mapping, not {}", what, type_name(node)));
    return false;
  }

  void check_keys(const YAML::Node& map, const std::vector<std::string_view>& allowed,
                  std::string_view where) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) {
        error(it->first, fmt::format("keys in {} must be plain words", where));
        continue;
      }
      const auto key = it->first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string hint = did_you_mean(key, allowed);
      if (hint.empty()) hint = fmt::format(" (expected one of: {})", join(allowed));
      error(it->first, fmt::format("unknown key '{}' in {}{}", key, where, hint));
    }
  }

  std::optional<std::string> scalar(const YAML::Node& node, std::string_view what) {
    if (node.IsScalar()) return node.Scalar();
    error(node, fmt::format("{} must be a single value, not {}", what, type_name(node)));
    return std::nullopt;
  }

  std::optional<Duration> duration(const YAML::Node& node, std::string_view what) {
    auto s = scalar(node, what);
    if (!s) return std::nullopt;
    auto d = parse_duration(*s);
    if (!d) {
      error(node, fmt::format("{}: '{}' is not a duration (write it with a unit: 250ms, 5s, 2m)",
                              what, *s));
    } else if (d->count() < 0) {
      error(node, fmt::format("{} must not be negative", what));
      return std::nullopt;
    }
    return d;
  }

  std::optional<std::uint64_t> size(const YAML::Node& node, std::string_view what) {
    auto s = scalar(node, what);
    if (!s) return std::nullopt;
    auto v = parse_size(*s);
    if (!v) {
      error(node, fmt::format("{}: '{}' is not a size (write it with a unit: 512KiB, 200MiB, 1GiB)",
                              what, *s));
    }
    return v;
  }

  std::optional<std::int64_t> integer(const YAML::Node& node, std::string_view what,
                                      std::int64_t lo, std::int64_t hi) {
    const auto s = scalar(node, what);
    if (!s) return std::nullopt;
    const std::string_view text = *s;
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || ptr != text.data() + text.size()) {
      error(node, fmt::format("{} must be a whole number, not '{}'", what, text));
      return std::nullopt;
    }
    if (v < lo || v > hi) {
      error(node, fmt::format("{} must be between {} and {}, not {}", what, lo, hi, v));
      return std::nullopt;
    }
    return v;
  }

  std::optional<double> real(const YAML::Node& node, std::string_view what, double lo, double hi) {
    auto s = scalar(node, what);
    if (!s) return std::nullopt;
    try {
      std::size_t used = 0;
      const double v = std::stod(*s, &used);
      if (used != s->size()) throw std::invalid_argument("trailing");
      if (!(v >= lo && v <= hi)) {
        error(node, fmt::format("{} must be between {} and {}, not {}", what, lo, hi, *s));
        return std::nullopt;
      }
      return v;
    } catch (const std::exception&) {
      error(node, fmt::format("{} must be a number, not '{}'", what, *s));
      return std::nullopt;
    }
  }

  std::optional<int> signal(const YAML::Node& node, std::string_view what) {
    auto s = scalar(node, what);
    if (!s) return std::nullopt;
    auto sig = parse_signal(*s);
    if (!sig) error(node, fmt::format("{}: '{}' is not a signal (e.g. SIGTERM, SIGINT)", what, *s));
    return sig;
  }

  std::vector<std::string> string_list(const YAML::Node& node, std::string_view what) {
    std::vector<std::string> out;
    if (!node.IsSequence()) {
      error(node, fmt::format("{} must be a list, not {}", what, type_name(node)));
      return out;
    }
    for (const auto& item : node) {
      if (auto s = scalar(item, fmt::format("each entry of {}", what))) out.push_back(*s);
    }
    return out;
  }

  fs::path absolute(const std::string& p) const {
    fs::path path(p);
    if (path.is_relative()) path = base_dir_ / path;
    return path.lexically_normal();
  }

  void parse_backoff(const YAML::Node& node, BackoffSpec& backoff) {
    if (!expect_map(node, "backoff")) return;
    check_keys(node, {"initial", "max", "factor", "jitter", "reset_after"}, "backoff");
    if (auto n = node["initial"]) {
      if (auto d = duration(n, "backoff.initial")) backoff.initial = *d;
    }
    if (auto n = node["max"]) {
      if (auto d = duration(n, "backoff.max")) backoff.max = *d;
    }
    if (auto n = node["factor"]) {
      if (auto v = real(n, "backoff.factor", 1.0, 100.0)) backoff.factor = *v;
    }
    if (auto n = node["jitter"]) {
      if (auto v = real(n, "backoff.jitter", 0.0, 1.0)) backoff.jitter = *v;
    }
    if (auto n = node["reset_after"]) {
      if (auto d = duration(n, "backoff.reset_after")) backoff.reset_after = *d;
    }
    if (backoff.max < backoff.initial) {
      error(node, fmt::format("backoff.max ({}) is shorter than backoff.initial ({})",
                              format_duration(backoff.max), format_duration(backoff.initial)));
    }
  }

  void parse_name(const YAML::Node& map, std::string& name, bool required) {
    auto n = map["name"];
    if (!n) {
      if (required) error(map, "missing key 'name'");
      return;
    }
    auto s = scalar(n, "name");
    if (!s) return;
    if (!valid_name(*s)) {
      error(n, fmt::format("name '{}' must be 1-64 letters, digits, '_', '-' or '.'", *s));
      return;
    }
    if (*s == "host" || *s == "system" || *s == "vigild") {
      // Names vigild itself speaks as: the machine's node, the robot's mode, the daemon.
      error(n, fmt::format("name '{}' is reserved (host, system and vigild are vigild's own)", *s));
      return;
    }
    name = *s;
    auto [it, inserted] = names_.emplace(name, at(n));
    if (!inserted) {
      error(n, fmt::format("duplicate name '{}' (first used at line {})", name, it->second.line));
    }
  }

  void parse_after(const YAML::Node& map, const std::string& owner,
                   std::vector<std::string>& after) {
    auto n = map["after"];
    if (!n) return;
    if (!n.IsSequence()) {
      error(n, fmt::format("after must be a list of names, not {}", type_name(n)));
      return;
    }
    for (const auto& item : n) {
      if (auto s = scalar(item, "each entry of after")) {
        after.push_back(*s);
        after_refs_.push_back({owner, *s, at(item)});
      }
    }
  }

  GroupSpec parse_group(const YAML::Node& node, std::string_view what, bool is_root) {
    GroupSpec group;
    group.location = at(node);
    check_keys(node, {"name", "strategy", "intensity", "backoff", "after", "children"},
               fmt::format("group {}", what));
    if (is_root) {
      group.name = "root";
      if (node["name"]) parse_name(node, group.name, false);
      names_.emplace(group.name, at(node));
    } else {
      parse_name(node, group.name, true);
    }
    if (auto n = node["strategy"]) {
      if (auto s = scalar(n, "strategy")) {
        if (*s == "one_for_one") {
          group.strategy = Strategy::one_for_one;
        } else if (*s == "one_for_all") {
          group.strategy = Strategy::one_for_all;
        } else if (*s == "rest_for_one") {
          group.strategy = Strategy::rest_for_one;
        } else {
          error(n,
                fmt::format("unknown strategy '{}'{}; expected one_for_one, one_for_all or "
                            "rest_for_one",
                            *s, did_you_mean(*s, {"one_for_one", "one_for_all", "rest_for_one"})));
        }
      }
    }
    if (auto n = node["intensity"]) {
      if (expect_map(n, "intensity")) {
        check_keys(n, {"restarts", "within"}, "intensity");
        if (auto m = n["restarts"]) {
          if (auto v = integer(m, "intensity.restarts", 0, 1'000'000)) {
            group.intensity.restarts = static_cast<int>(*v);
          }
        }
        if (auto m = n["within"]) {
          if (auto d = duration(m, "intensity.within")) {
            if (d->count() == 0) {
              error(m, "intensity.within must be longer than 0");
            } else {
              group.intensity.within = *d;
            }
          }
        }
      }
    }
    if (auto n = node["backoff"]) parse_backoff(n, group.backoff);
    if (!is_root)
      parse_after(node, group.name, group.after);
    else if (node["after"])
      error(node["after"], "the root group cannot wait for anything");
    auto children = node["children"];
    if (!children) {
      error(node, fmt::format("group '{}' has no 'children'", group.name));
      return group;
    }
    if (!children.IsSequence()) {
      error(children, fmt::format("children must be a list, not {}", type_name(children)));
      return group;
    }
    if (children.size() == 0)
      error(children, fmt::format("group '{}' has no children", group.name));
    for (const auto& child : children) {
      if (!child.IsMap()) {
        error(child,
              fmt::format("each child must be a mapping with a name, not {}", type_name(child)));
        continue;
      }
      if (child["children"]) {
        group.children.push_back({parse_group(child, "child", false)});
      } else {
        group.children.push_back({parse_component(child)});
      }
    }
    return group;
  }

  void parse_ready(const YAML::Node& node, ReadySpec& ready) {
    auto parse_tcp = [&](const YAML::Node& n, const std::string& target) {
      const auto colon = target.rfind(':');
      int port = 0;
      if (colon == std::string::npos || colon == 0) {
        error(n, fmt::format("ready tcp target '{}' must be HOST:PORT", target));
        return;
      }
      const std::string port_text = target.substr(colon + 1);
      auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
      if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || port < 1 ||
          port > 65535) {
        error(n, fmt::format("ready tcp port '{}' must be a number from 1 to 65535", port_text));
        return;
      }
      ready.kind = ReadySpec::Kind::tcp;
      ready.host = target.substr(0, colon);
      ready.port = static_cast<std::uint16_t>(port);
    };
    if (node.IsScalar()) {
      const auto& s = node.Scalar();
      if (s == "none") {
        ready.kind = ReadySpec::Kind::none;
      } else if (s == "notify") {
        ready.kind = ReadySpec::Kind::notify;
      } else if (s.rfind("tcp:", 0) == 0) {
        parse_tcp(node, s.substr(4));
      } else {
        error(node, fmt::format("ready must be none, notify, tcp:HOST:PORT or {{exec: [...]}}, "
                                "not '{}'{}",
                                s, did_you_mean(s, {"none", "notify"})));
      }
      return;
    }
    if (!expect_map(node, "ready")) return;
    check_keys(node, {"exec", "tcp", "period", "timeout", "failure_threshold"}, "ready");
    if (node["exec"] && node["tcp"]) {
      error(node, "ready takes either exec or tcp, not both");
    } else if (auto e = node["exec"]) {
      ready.kind = ReadySpec::Kind::exec;
      ready.exec = string_list(e, "ready.exec");
      if (ready.exec.empty() && e.IsSequence()) error(e, "ready.exec must not be empty");
      if (!ready.exec.empty()) resolve_executable(e, ready.exec[0], "");
    } else if (auto t = node["tcp"]) {
      if (auto s = scalar(t, "ready.tcp")) parse_tcp(t, *s);
    } else {
      error(node, "ready as a mapping needs exec: [argv] or tcp: HOST:PORT");
    }
    if (auto n = node["period"]) {
      if (auto d = duration(n, "ready.period")) {
        if (d->count() == 0)
          error(n, "ready.period must be longer than 0");
        else
          ready.period = *d;
      }
    }
    if (auto n = node["timeout"]) {
      if (auto d = duration(n, "ready.timeout")) {
        if (d->count() == 0)
          error(n, "ready.timeout must be longer than 0");
        else
          ready.timeout = *d;
      }
    }
    if (auto n = node["failure_threshold"]) {
      if (auto v = integer(n, "ready.failure_threshold", 1, 1000)) {
        ready.failure_threshold = static_cast<int>(*v);
      }
    }
  }

  // Resolves command[0] the way execvp would, relative paths against the config's directory
  // (or the component's cwd), and reports a missing or non-executable program now rather
  // than as a crash loop later.
  void resolve_executable(const YAML::Node& node, std::string& program, const std::string& cwd) {
    if (program.empty()) {
      error(node, "the program name is empty");
      return;
    }
    const fs::path dir = cwd.empty() ? base_dir_ : fs::path(cwd);
    if (program.find('/') != std::string::npos) {
      fs::path p(program);
      if (p.is_relative()) p = dir / p;
      program = p.lexically_normal().string();
      if (options_.check_executables) check_executable(node, program);
      return;
    }
    const char* path_env = ::getenv("PATH");
    std::string search = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
    std::stringstream ss(search);
    std::string entry;
    while (std::getline(ss, entry, ':')) {
      if (entry.empty()) continue;
      const fs::path candidate = fs::path(entry) / program;
      if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) {
        program = candidate.string();
        return;
      }
    }
    if (options_.check_executables) {
      error(node, fmt::format("program '{}' not found in PATH", program));
    }
  }

  void check_executable(const YAML::Node& node, const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      error(node, fmt::format("program '{}' does not exist", path));
    } else if (S_ISDIR(st.st_mode)) {
      error(node, fmt::format("program '{}' is a directory", path));
    } else if (::access(path.c_str(), X_OK) != 0) {
      error(node, fmt::format("program '{}' is not executable", path));
    }
  }

  // "80%" or "80" -> 80.
  std::optional<double> percent(const YAML::Node& node, std::string_view what, double hi) {
    auto s = scalar(node, what);
    if (!s) return std::nullopt;
    std::string text = *s;
    if (!text.empty() && text.back() == '%') text.pop_back();
    try {
      std::size_t used = 0;
      const double v = std::stod(text, &used);
      if (used != text.size() || !(v >= 0 && v <= hi)) throw std::invalid_argument("range");
      return v;
    } catch (const std::exception&) {
      error(node, fmt::format("{} must be a percentage from 0% to {}%, not '{}'", what, hi, *s));
      return std::nullopt;
    }
  }

  std::optional<MonitorAction> monitor_action(const YAML::Node& node, std::string_view what) {
    auto s = scalar(node, what);
    if (!s) return std::nullopt;
    if (*s == "warn") return MonitorAction::warn;
    if (*s == "restart") return MonitorAction::restart;
    if (*s == "hook") return MonitorAction::hook;
    error(node, fmt::format("{} must be warn, restart or hook, not '{}'{}", what, *s,
                            did_you_mean(*s, {"warn", "restart", "hook"})));
    return std::nullopt;
  }

  // The figure's own unit for `warn`, `fail` and `clear`.
  using ValueParser = std::function<std::optional<double>(const YAML::Node&, std::string_view)>;

  void parse_hook(const YAML::Node& node, const YAML::Node& hook, const std::string& what,
                  MonitorAction action, std::vector<std::string>& out) {
    if (hook) {
      out = string_list(hook, what + ".hook");
      if (out.empty() && hook.IsSequence()) error(hook, what + ".hook must not be empty");
      if (!out.empty()) resolve_executable(hook, out[0], "");
      if (action != MonitorAction::hook) {
        error(hook, fmt::format("{}.hook is only run with action: hook", what));
      }
    } else if (action == MonitorAction::hook) {
      error(node, fmt::format("{} has action: hook but no hook: [argv]", what));
    }
  }

  // ---- modes: declared from the least to the most severe ----

  void parse_modes(const YAML::Node& node, SystemSpec& spec) {
    if (!expect_map(node, "modes")) return;
    if (node.size() == 0) {
      error(node, "modes must list at least the default mode, e.g. modes: {nominal: {}}");
      return;
    }
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      ModeSpec m;
      m.location = at(it->first);
      auto name = scalar(it->first, "mode name");
      if (!name) continue;
      if (!valid_name(*name)) {
        error(it->first,
              fmt::format("mode name '{}' must be 1-64 letters, digits, '_', '-' or '.'", *name));
        continue;
      }
      if (!seen.insert(*name).second) {
        error(it->first, fmt::format("mode '{}' is declared twice", *name));
        continue;
      }
      m.name = *name;
      const std::string what = "modes." + m.name;
      const YAML::Node body = it->second;
      const bool is_default = spec.modes.empty();
      if (body.IsNull()) {
        if (!is_default) error(it->first, fmt::format("{} needs a rule: when: \"...\"", what));
        spec.modes.push_back(std::move(m));
        continue;
      }
      if (!expect_map(body, what)) continue;
      const std::size_t errors_before = errors_.size();
      check_keys(body,
                 {"when", "publish", "start", "stop", "hook", "enter_after", "exit_after", "dwell"},
                 what);
      const bool unknown_keys = errors_.size() > errors_before;
      if (auto w = body["when"]) {
        if (is_default) {
          error(w, fmt::format("{} is the default mode (the first one): it is active when no "
                               "other rule holds and has no when:",
                               what));
        } else if (auto text = scalar(w, what + ".when")) {
          m.when = *text;
          m.when_at = at(w);
          // A quoted rule starts one column after its quote.
          if (w.Tag() == "!") m.when_at.column += 1;
        }
      } else if (!is_default && !unknown_keys) {
        error(body, fmt::format("{} needs a rule: when: \"...\" (only the first mode, the "
                                "default, has none)",
                                what));
      }
      if (auto p = body["publish"]) {
        if (expect_map(p, what + ".publish")) {
          for (auto kv = p.begin(); kv != p.end(); ++kv) {
            auto key = scalar(kv->first, what + ".publish key");
            if (!kv->second.IsScalar()) {
              error(kv->second, fmt::format("{}.publish.{} must be a number, a word or a string",
                                            what, key.value_or("?")));
              continue;
            }
            if (key) m.publish[*key] = kv->second.Scalar();
          }
        }
      }
      if (auto s = body["start"]) m.start = string_list(s, what + ".start");
      if (auto s = body["stop"]) m.stop = string_list(s, what + ".stop");
      for (const auto& [list, key] : {std::pair{&m.start, "start"}, std::pair{&m.stop, "stop"}}) {
        for (const auto& target : *list) {
          if (names_.count(target) == 0) {
            error(body[key], fmt::format("{}.{}: no component or group named '{}'{}", what, key,
                                         target, did_you_mean(target, known_names())));
          }
        }
      }
      if (auto h = body["hook"]) {
        m.hook = string_list(h, what + ".hook");
        if (m.hook.empty() && h.IsSequence()) error(h, what + ".hook must not be empty");
        if (!m.hook.empty()) resolve_executable(h, m.hook[0], "");
      }
      for (const auto& [key, field] :
           {std::pair{"enter_after", &m.enter_after}, std::pair{"exit_after", &m.exit_after},
            std::pair{"dwell", &m.dwell}}) {
        if (auto d = body[key]) {
          if (auto v = duration(d, what + "." + key)) *field = *v;
        }
      }
      spec.modes.push_back(std::move(m));
    }
    check_mode_rules(spec);
  }

  // Each rule parsed against the tree; its errors point into the rule's own text.
  void check_mode_rules(const SystemSpec& spec) {
    health::KnownNodes known;
    std::function<void(const GroupSpec&)> collect = [&](const GroupSpec& g) {
      for (const auto& child : g.children) {
        if (const auto* c = std::get_if<ComponentSpec>(&child.node)) {
          known.emplace(c->name, health::NodeKind::component);
        } else {
          const auto& sub = std::get<GroupSpec>(child.node);
          known.emplace(sub.name, health::NodeKind::group);
          collect(sub);
        }
      }
    };
    collect(spec.root);
    for (const auto& m : spec.modes) {
      if (m.when.empty()) continue;
      auto parsed = health::ModeRule::parse(m.when, known);
      if (const auto* e = std::get_if<health::RuleError>(&parsed)) {
        SourceLocation where = m.when_at;
        // Rules are one line; in a folded or multi-line scalar the column is approximate.
        if (m.when.find('\n') == std::string::npos) {
          where.column += static_cast<int>(e->offset);
        }
        errors_.push_back({where, fmt::format("modes.{}.when: {}", m.name, e->message)});
      }
    }
  }

  std::vector<std::string_view> known_names() const {
    std::vector<std::string_view> out;
    for (const auto& [name, where] : names_) out.push_back(name);
    return out;
  }

  // A rate such as 8Hz, 8 Hz, 0.5Hz or 2kHz.
  std::optional<double> rate(const YAML::Node& node, std::string_view what) {
    auto s = scalar(node, what);
    if (!s) return std::nullopt;
    std::string text = *s;
    std::erase(text, ' ');
    double scale = 0;
    for (const auto& [suffix, factor] : {std::pair{"kHz", 1000.0}, std::pair{"Hz", 1.0}}) {
      const std::string_view sv(suffix);
      if (text.size() > sv.size() && text.ends_with(sv)) {
        text.resize(text.size() - sv.size());
        scale = factor;
        break;
      }
    }
    try {
      std::size_t used = 0;
      const double v = std::stod(text, &used);
      if (scale == 0 || used != text.size() || !(v > 0) || v * scale > 1e6) throw std::exception();
      return v * scale;
    } catch (const std::exception&) {
      error(node, fmt::format("{} must be a rate such as 10Hz (above 0, at most 1MHz), not '{}'",
                              what, *s));
      return std::nullopt;
    }
  }

  // `monitors:` entries. Today they watch DDS topics; resource figures are under `resources:`.
  void parse_monitors(const YAML::Node& node, std::vector<TopicMonitorSpec>& out) {
    if (!node.IsSequence()) {
      error(node, fmt::format("monitors must be a list of {{topic: ...}} entries, not {}",
                              type_name(node)));
      return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      const YAML::Node m = node[i];
      const std::string what = fmt::format("monitors[{}]", i);
      if (!expect_map(m, what)) continue;
      for (const char* figure : {"rss", "cpu", "threads", "fds", "processes", "leak"}) {
        if (m[figure]) {
          error(m, fmt::format("{}: resource monitors go under resources: (resources.{}), not "
                               "monitors:",
                               what, figure));
        }
      }
      const std::size_t errors_before = errors_.size();
      check_keys(m,
                 {"topic", "dds_topic", "min_rate", "max_rate", "stale_after", "window", "for",
                  "action", "hook", "rss", "cpu", "threads", "fds", "processes", "leak"},
                 what);
      const bool unknown_keys = errors_.size() > errors_before;
      TopicMonitorSpec t;
      if (m["topic"] && m["dds_topic"]) {
        error(m, fmt::format("{}: give topic (a ROS 2 name) or dds_topic, not both", what));
      } else if (auto n = m["topic"]) {
        if (auto name = scalar(n, what + ".topic")) {
          if (name->size() < 2 || name->front() != '/' || name->back() == '/' ||
              name->find("//") != std::string::npos ||
              name->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789_/") != std::string::npos) {
            error(n, fmt::format("{}.topic must be an absolute ROS 2 topic name such as /scan "
                                 "(letters, digits, _ and /), not '{}'",
                                 what, *name));
          } else {
            t.topic = *name;
            t.dds_topic = "rt" + *name;
          }
        }
      } else if (auto n = m["dds_topic"]) {
        if (auto name = scalar(n, what + ".dds_topic")) {
          if (name->empty() || name->size() > 255) {
            error(n, fmt::format("{}.dds_topic must be 1 to 255 characters", what));
          } else {
            t.topic = *name;
            t.dds_topic = *name;
          }
        }
      } else if (!m["rss"] && !m["cpu"] && !m["threads"] && !m["fds"] && !m["processes"] &&
                 !m["leak"]) {
        error(m, fmt::format("{} needs topic: /name (or dds_topic: NAME)", what));
      }
      if (auto n = m["min_rate"]) t.min_rate = rate(n, what + ".min_rate");
      if (auto n = m["max_rate"]) t.max_rate = rate(n, what + ".max_rate");
      if (auto n = m["stale_after"]) {
        if (auto d = positive_duration(n, what + ".stale_after")) t.stale_after = *d;
      }
      if (auto n = m["window"]) {
        if (auto d = positive_duration(n, what + ".window")) {
          if (*d < std::chrono::milliseconds(100) || *d > std::chrono::minutes(10)) {
            error(n, fmt::format("{}.window must be from 100ms to 10min", what));
          } else {
            t.window = *d;
          }
        }
      }
      if (auto n = m["for"]) {
        if (auto d = duration(n, what + ".for")) t.hold = *d;
      }
      if (auto n = m["action"]) {
        if (auto a = monitor_action(n, what + ".action")) t.action = *a;
      }
      parse_hook(m, m["hook"], what, t.action, t.hook);
      if (t.dds_topic.empty()) continue;
      if (!unknown_keys && !t.min_rate && !t.max_rate && !t.stale_after && !m["min_rate"] &&
          !m["max_rate"] && !m["stale_after"]) {
        error(m, fmt::format("{} ({}) needs min_rate, max_rate, stale_after or several", what,
                             t.topic));
      }
      if (t.min_rate && t.max_rate && *t.min_rate >= *t.max_rate) {
        error(m["max_rate"], fmt::format("{}.max_rate must be above min_rate", what));
      }
      if (t.min_rate && std::chrono::duration<double>(t.window).count() * *t.min_rate < 2.0) {
        // Fewer than two messages per window cannot give a rate.
        error(m["min_rate"],
              fmt::format("{}: at {:g}Hz a window of {} holds fewer than 2 messages; raise "
                          "window",
                          what, *t.min_rate, format_duration(t.window)));
      }
      if (!dds_enabled_) {
        error(m, fmt::format("{} watches a DDS topic: enable DDS with a top-level dds: {{domain: "
                             "N}} section",
                             what));
      }
      for (const auto& other : out) {
        if (other.dds_topic == t.dds_topic) {
          error(m, fmt::format("{}: {} is monitored twice in this component", what, t.topic));
        }
      }
      out.push_back(std::move(t));
    }
  }

  std::optional<ThresholdSpec> parse_threshold(const YAML::Node& node, const std::string& what,
                                               const ValueParser& value, bool low_is_bad,
                                               ThresholdSpec t = {}) {
    if (!expect_map(node, what)) return std::nullopt;
    check_keys(node, {"warn", "fail", "clear", "for", "samples", "action", "hook"}, what);
    if (auto m = node["warn"]) t.warn = value(m, what + ".warn");
    if (auto m = node["fail"]) t.fail = value(m, what + ".fail");
    if (auto m = node["clear"]) t.clear = value(m, what + ".clear");
    if (auto m = node["for"]) {
      if (auto d = duration(m, what + ".for")) t.hold = *d;
    }
    if (auto m = node["samples"]) {
      if (auto v = integer(m, what + ".samples", 1, 10000)) t.samples = static_cast<int>(*v);
    }
    if (auto m = node["action"]) {
      if (auto a = monitor_action(m, what + ".action")) t.action = *a;
    }
    parse_hook(node, node["hook"], what, t.action, t.hook);
    if (!t.warn && !t.fail) {
      // (When they were given but invalid, that error was reported already.)
      if (!node["warn"] && !node["fail"]) {
        error(node, fmt::format("{} needs warn, fail or both", what));
      }
      return std::nullopt;
    }
    if (t.warn && t.fail && (low_is_bad ? *t.warn < *t.fail : *t.warn > *t.fail)) {
      error(node["warn"], fmt::format("{}.warn must be {} fail: warn comes first", what,
                                      low_is_bad ? "above" : "below"));
    }
    if (t.clear) {
      const double lowest = t.warn ? *t.warn : *t.fail;
      if (low_is_bad ? *t.clear < lowest : *t.clear > lowest) {
        error(node["clear"], fmt::format("{}.clear must be on the healthy side of warn/fail "
                                         "(hysteresis)",
                                         what));
      }
    }
    return t;
  }

  void parse_resources(const YAML::Node& node, ResourcesSpec& r) {
    if (!expect_map(node, "resources")) return;
    check_keys(node, {"rss", "cpu", "threads", "fds", "processes", "leak"}, "resources");
    const ValueParser bytes = [this](const YAML::Node& n, std::string_view what) {
      // A bare number is almost always a forgotten unit (150 meaning 150MiB, not bytes).
      if (n.IsScalar() && !n.Scalar().empty() &&
          std::all_of(n.Scalar().begin(), n.Scalar().end(),
                      [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)) != 0; })) {
        error(n, fmt::format("{}: '{}' is not a size (write it with a unit: 512KiB, 200MiB, 1GiB)",
                             what, n.Scalar()));
        return std::optional<double>();
      }
      auto v = size(n, what);
      return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
    };
    const ValueParser cpu = [this](const YAML::Node& n, std::string_view what) {
      return percent(n, what, 100000.0);
    };
    const ValueParser count = [this](const YAML::Node& n, std::string_view what) {
      auto v = integer(n, what, 0, 100'000'000);
      return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
    };
    if (auto n = node["rss"]) r.rss = parse_threshold(n, "resources.rss", bytes, false);
    if (auto n = node["cpu"]) r.cpu = parse_threshold(n, "resources.cpu", cpu, false);
    if (auto n = node["threads"]) {
      r.threads = parse_threshold(n, "resources.threads", count, false);
    }
    if (auto n = node["fds"]) r.fds = parse_threshold(n, "resources.fds", count, false);
    if (auto n = node["processes"]) {
      r.processes = parse_threshold(n, "resources.processes", count, false);
    }
    if (auto n = node["leak"]) {
      if (!expect_map(n, "resources.leak")) return;
      check_keys(n, {"rate", "window", "min_fit", "action", "hook"}, "resources.leak");
      LeakSpec leak;
      if (auto m = n["rate"]) {
        if (auto text = scalar(m, "resources.leak.rate")) {
          const auto slash = text->find('/');
          std::optional<std::uint64_t> amount;
          double per = 0;
          if (slash != std::string::npos) {
            amount = parse_size(text->substr(0, slash));
            const std::string unit = text->substr(slash + 1);
            per = unit == "s" ? 1 : unit == "min" ? 60 : unit == "h" ? 3600 : 0;
          }
          if (!amount || per == 0 || *amount == 0) {
            error(m, fmt::format("resources.leak.rate: '{}' is not a growth rate (write it as "
                                 "SIZE/s, SIZE/min or SIZE/h, e.g. 1MiB/min)",
                                 *text));
          } else {
            leak.bytes_per_second = static_cast<double>(*amount) / per;
          }
        }
      } else {
        error(n, "resources.leak needs rate: SIZE/min");
      }
      if (auto m = n["window"]) {
        if (auto d = positive_duration(m, "resources.leak.window")) leak.window = *d;
      }
      if (auto m = n["min_fit"]) {
        if (auto v = real(m, "resources.leak.min_fit", 0.0, 1.0)) leak.min_fit = *v;
      }
      if (auto m = n["action"]) {
        if (auto a = monitor_action(m, "resources.leak.action")) leak.action = *a;
      }
      parse_hook(n, n["hook"], "resources.leak", leak.action, leak.hook);
      r.leak = leak;
    }
  }

  void parse_limits(const YAML::Node& node, LimitsSpec& l) {
    if (!expect_map(node, "limits")) return;
    check_keys(node, {"address_space", "open_files", "core", "processes", "memory", "cpu", "pids"},
               "limits");
    auto rlimit = [&](const char* key, int resource, bool is_size) {
      auto m = node[key];
      if (!m) return;
      const std::string what = fmt::format("limits.{}", key);
      if (m.IsScalar() && m.Scalar() == "unlimited") {
        if (resource == RLIMIT_NOFILE) {
          error(m, "limits.open_files cannot be unlimited (the kernel has a maximum)");
          return;
        }
        l.rlimits.push_back({resource, 0, true});
        return;
      }
      if (is_size) {
        if (auto v = size(m, what)) l.rlimits.push_back({resource, *v, false});
      } else if (auto v = integer(m, what, resource == RLIMIT_NOFILE ? 16 : 1, 1 << 30)) {
        l.rlimits.push_back({resource, static_cast<std::uint64_t>(*v), false});
      }
    };
    rlimit("address_space", RLIMIT_AS, true);
    rlimit("open_files", RLIMIT_NOFILE, false);
    rlimit("core", RLIMIT_CORE, true);
    rlimit("processes", RLIMIT_NPROC, false);
    if (auto m = node["memory"]) {
      if (auto v = size(m, "limits.memory")) {
        if (*v < (1u << 20))
          error(m, "limits.memory must be at least 1MiB");
        else
          l.memory_max = *v;
      }
    }
    if (auto m = node["cpu"]) {
      if (auto v = real(m, "limits.cpu", 0.01, 1024.0)) l.cpu_max = *v;
    }
    if (auto m = node["pids"]) {
      if (auto v = integer(m, "limits.pids", 1, 4'000'000)) l.pids_max = static_cast<int>(*v);
    }
  }

  // listen: HOST:PORT ("127.0.0.1:8080", "[::1]:8080", "localhost:0") or off.
  void parse_http(const YAML::Node& node, HttpSpec& http) {
    if (!expect_map(node, "http")) return;
    check_keys(node, {"listen"}, "http");
    auto listen = node["listen"];
    if (!listen) return;
    auto s = scalar(listen, "http.listen");
    if (!s) return;
    if (*s == "off" || *s == "false" || *s == "no") {
      http.enabled = false;
      return;
    }
    const auto colon = s->rfind(':');
    if (colon == std::string::npos || colon == 0) {
      error(listen,
            fmt::format("http.listen must be HOST:PORT (127.0.0.1:8080) or off, not '{}'", *s));
      return;
    }
    std::string host = s->substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    const std::string port_text = s->substr(colon + 1);
    int port = -1;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || port < 0 ||
        port > 65535) {
      error(listen, fmt::format("http.listen: '{}' is not a port (0 to 65535)", port_text));
      return;
    }
    in6_addr v6{};
    in_addr v4{};
    if (host != "localhost" && ::inet_pton(AF_INET, host.c_str(), &v4) != 1 &&
        ::inet_pton(AF_INET6, host.c_str(), &v6) != 1) {
      error(listen, fmt::format("http.listen: '{}' is not an IP address or localhost (a name "
                                "would need DNS at boot)",
                                host));
      return;
    }
    http.enabled = true;
    http.host = host;
    http.port = port;
  }

  void parse_dds(const YAML::Node& node, DdsSpec& dds) {
    if (!expect_map(node, "dds")) return;
    check_keys(node, {"domain", "diagnostics_period"}, "dds");
    dds.enabled = true;
    dds_enabled_ = true;
    if (auto n = node["domain"]) {
      // DDS domain ids map to UDP ports; 232 is the highest the RTPS port formula allows.
      if (auto v = integer(n, "dds.domain", 0, 232)) dds.domain = static_cast<int>(*v);
    }
    if (auto n = node["diagnostics_period"]) {
      if (auto d = positive_duration(n, "dds.diagnostics_period")) dds.diagnostics_period = *d;
    }
  }

  // hardware_watchdog: {device: /dev/watchdog, timeout: 60s, interval: 15s, require: [...]}
  void parse_hardware_watchdog(const YAML::Node& node, HardwareWatchdogSpec& w) {
    if (!expect_map(node, "hardware_watchdog")) return;
    check_keys(node, {"device", "timeout", "interval", "require"}, "hardware_watchdog");
    if (auto n = node["device"]) {
      if (auto v = scalar(n, "hardware_watchdog.device")) w.device = absolute(*v).string();
    } else {
      error(node, "hardware_watchdog needs its device, e.g. device: /dev/watchdog");
    }
    if (auto n = node["timeout"]) {
      if (auto d = positive_duration(n, "hardware_watchdog.timeout")) {
        if (*d < std::chrono::seconds(1))
          error(n, "hardware_watchdog.timeout must be at least 1s (devices count in seconds)");
        else
          w.timeout = *d;
      }
    }
    if (auto n = node["interval"]) {
      if (auto d = positive_duration(n, "hardware_watchdog.interval")) {
        if (*d >= w.timeout)
          error(n, "hardware_watchdog.interval must be shorter than its timeout");
        else
          w.interval = *d;
      }
    }
    if (auto n = node["require"]) {
      w.require = string_list(n, "hardware_watchdog.require");
      for (const auto& name : w.require) {
        if (names_.count(name) == 0) {
          error(n, fmt::format("hardware_watchdog.require: no component or group named '{}'{}",
                               name, did_you_mean(name, known_names())));
        }
      }
    }
  }

  void parse_history(const YAML::Node& node, HistorySpec& history) {
    if (!expect_map(node, "history")) return;
    check_keys(node, {"tiers"}, "history");
    auto tiers = node["tiers"];
    if (!tiers) return;
    if (!tiers.IsSequence() || tiers.size() == 0 || tiers.size() > 4) {
      error(tiers, "history.tiers must be a list of 1 to 4 {resolution, keep}");
      return;
    }
    std::vector<HistoryTier> parsed;
    for (std::size_t i = 0; i < tiers.size(); ++i) {
      const auto tier = tiers[i];
      const auto what = fmt::format("history.tiers[{}]", i);
      if (!expect_map(tier, what)) return;
      check_keys(tier, {"resolution", "keep"}, what);
      auto r = tier["resolution"];
      auto k = tier["keep"];
      if (!r || !k) {
        error(tier, fmt::format("{} needs resolution and keep", what));
        return;
      }
      auto res = positive_duration(r, what + ".resolution");
      auto keep = positive_duration(k, what + ".keep");
      if (!res || !keep) return;
      if (*res < 1s) {
        error(r, fmt::format("{}.resolution must be at least 1s", what));
        return;
      }
      if (*keep < *res || *keep / *res > 1'000'000) {
        error(k, fmt::format("{}.keep must hold between 1 and 1000000 points of its resolution",
                             what));
        return;
      }
      if (!parsed.empty() && (*res <= parsed.back().resolution ||
                              res->count() % parsed.back().resolution.count() != 0)) {
        error(r, fmt::format("{}.resolution must be a multiple of the previous tier's, and coarser",
                             what));
        return;
      }
      parsed.push_back({*res, *keep});
    }
    history.tiers = std::move(parsed);
  }

  static bool valid_label_name(std::string_view name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
  }

  // An http:// or https:// URL with a host; the path is kept as written.
  std::optional<std::string> url(const YAML::Node& node, std::string_view what) {
    auto s = scalar(node, what);
    if (!s) return std::nullopt;
    const bool http = s->rfind("http://", 0) == 0;
    const bool https = s->rfind("https://", 0) == 0;
    const auto rest = s->substr(http ? 7 : https ? 8 : 0);
    if ((!http && !https) || rest.empty() || rest.front() == '/' || rest.front() == ':') {
      error(node,
            fmt::format("{} must be an http:// or https:// URL with a host, not '{}'", what, *s));
      return std::nullopt;
    }
    return *s;
  }

  void parse_alerts(const YAML::Node& node, AlertsSpec& alerts) {
    if (!expect_map(node, "alerts")) return;
    check_keys(node, {"alertmanager", "webhook", "exec", "labels", "retry"}, "alerts");
    if (auto n = node["alertmanager"]) {
      if (auto u = url(n, "alerts.alertmanager")) alerts.alertmanager_url = *u;
    }
    if (auto n = node["webhook"]) {
      if (auto u = url(n, "alerts.webhook")) alerts.webhook_url = *u;
    }
    if (auto n = node["exec"]) {
      alerts.exec = string_list(n, "alerts.exec");
      if (alerts.exec.empty() && n.IsSequence()) error(n, "alerts.exec must not be empty");
      if (!alerts.exec.empty()) resolve_executable(n, alerts.exec[0], "");
    }
    if (auto n = node["labels"]) {
      if (expect_map(n, "alerts.labels")) {
        for (auto it = n.begin(); it != n.end(); ++it) {
          const auto key = it->first.Scalar();
          if (!valid_label_name(key)) {
            error(it->first,
                  fmt::format("alerts.labels: '{}' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)",
                              key));
            continue;
          }
          if (auto v = scalar(it->second, "alerts.labels value")) alerts.labels[key] = *v;
        }
      }
    }
    if (auto n = node["retry"]) {
      if (!expect_map(n, "alerts.retry")) return;
      check_keys(n, {"initial", "max", "give_up_after", "resolve_timeout"}, "alerts.retry");
      if (auto m = n["initial"]) {
        if (auto d = positive_duration(m, "alerts.retry.initial")) alerts.retry_initial = *d;
      }
      if (auto m = n["max"]) {
        if (auto d = positive_duration(m, "alerts.retry.max")) alerts.retry_max = *d;
      }
      if (auto m = n["give_up_after"]) {
        if (auto d = positive_duration(m, "alerts.retry.give_up_after")) alerts.give_up_after = *d;
      }
      if (auto m = n["resolve_timeout"]) {
        if (auto d = positive_duration(m, "alerts.retry.resolve_timeout")) {
          alerts.resolve_timeout = *d;
        }
      }
      if (alerts.retry_max < alerts.retry_initial) {
        error(n, "alerts.retry.max must not be shorter than alerts.retry.initial");
      }
    }
  }

  void parse_monitoring(const YAML::Node& node, MonitoringSpec& mon) {
    if (!expect_map(node, "monitoring")) return;
    check_keys(node, {"interval", "host"}, "monitoring");
    if (auto m = node["interval"]) {
      if (auto d = positive_duration(m, "monitoring.interval")) {
        if (*d < std::chrono::milliseconds(100))
          error(m, "monitoring.interval must be at least 100ms");
        else
          mon.interval = *d;
      }
    }
    auto& h = mon.host;
    auto host = node["host"];
    if (!host) return;
    if (!expect_map(host, "monitoring.host")) return;
    check_keys(host, {"cpu", "load", "memory_available", "disk_available", "temperature"},
               "monitoring.host");
    const ValueParser pct = [this](const YAML::Node& n, std::string_view what) {
      return percent(n, what, 100.0);
    };
    const ValueParser number = [this](const YAML::Node& n, std::string_view what) {
      return real(n, what, 0.0, 1e6);
    };
    auto one = [&](const char* key, ThresholdSpec& out, const ValueParser& value, bool low) {
      if (auto m = host[key]) {
        // Given thresholds replace the defaults; unnamed ones are off.
        ThresholdSpec fresh;
        fresh.action = MonitorAction::warn;
        if (auto t =
                parse_threshold(m, fmt::format("monitoring.host.{}", key), value, low, fresh)) {
          out = *t;
        }
      }
    };
    one("cpu", h.cpu, pct, false);
    one("load", h.load, number, false);
    one("memory_available", h.memory_available, pct, true);
    one("disk_available", h.disk_available, pct, true);
    one("temperature", h.temperature, number, false);
    for (auto* t : {&h.cpu, &h.load, &h.memory_available, &h.disk_available, &h.temperature}) {
      if (t->action == MonitorAction::restart) {
        error(host, "monitoring.host monitors can warn or run a hook, not restart");
        break;
      }
    }
  }

  std::optional<bool> boolean(const YAML::Node& node, std::string_view what) {
    auto s = scalar(node, what);
    if (!s) return std::nullopt;
    if (*s == "true" || *s == "yes" || *s == "on") return true;
    if (*s == "false" || *s == "no" || *s == "off") return false;
    error(node, fmt::format("{} must be true or false, not '{}'", what, *s));
    return std::nullopt;
  }

  std::optional<Duration> positive_duration(const YAML::Node& node, std::string_view what) {
    auto d = duration(node, what);
    if (d && d->count() == 0) {
      error(node, fmt::format("{} must be longer than 0", what));
      return std::nullopt;
    }
    return d;
  }

  // `component`: the component's name, the default bond id.
  void parse_watchdog(const YAML::Node& n, WatchdogSpec& w, const std::string& component) {
    if (!expect_map(n, "watchdog")) return;
    check_keys(n,
               {"timeout", "signal", "detector", "threshold", "warn_threshold", "window", "min_std",
                "acceptable_pause", "expected_interval", "warn", "warn_after", "loops",
                "abort_timeout", "stacks", "stack_budget", "bond"},
               "watchdog");
    if (auto m = n["timeout"]) {
      if (auto d = positive_duration(m, "watchdog.timeout")) w.timeout = *d;
    }
    if (auto m = n["bond"]) {
      w.bond = parse_bond(m, component);
      // Nav2's lifecycle nodes break a bond after 4 s without the other side's Status
      // (nav2_util::LifecycleNode's bond heartbeat timeout): the same default here.
      if (w.bond && !w.timeout) w.timeout = std::chrono::seconds(4);
    }
    if (auto m = n["signal"]) {
      if (auto s = signal(m, "watchdog.signal")) w.signal = *s;
    }
    if (auto m = n["detector"]) {
      if (auto s = scalar(m, "watchdog.detector")) {
        if (*s == "fixed") {
          w.detector = DetectorKind::fixed;
        } else if (*s == "phi") {
          w.detector = DetectorKind::phi;
        } else {
          error(m, fmt::format("watchdog.detector must be fixed or phi, not '{}'{}", *s,
                               did_you_mean(*s, {"fixed", "phi"})));
        }
      }
    }
    const bool phi = w.detector == DetectorKind::phi;
    for (const char* key : {"threshold", "warn_threshold", "window", "min_std", "acceptable_pause",
                            "expected_interval"}) {
      if (n[key] && !phi) {
        error(n[key],
              fmt::format("watchdog.{} applies to the phi detector: add detector: phi", key));
      }
    }
    if (auto m = n["threshold"]) {
      if (auto v = real(m, "watchdog.threshold", 0.5, 30.0)) w.phi.threshold = *v;
    }
    if (auto m = n["warn_threshold"]) {
      if (auto v = real(m, "watchdog.warn_threshold", 0.1, 30.0)) {
        if (*v >= w.phi.threshold) {
          error(m, fmt::format("watchdog.warn_threshold ({}) must be below threshold ({})", *v,
                               w.phi.threshold));
        } else {
          w.phi.warn_threshold = *v;
        }
      }
    }
    if (auto m = n["window"]) {
      if (auto v = integer(m, "watchdog.window", 10, 100000)) w.phi.window = static_cast<int>(*v);
    }
    if (auto m = n["min_std"]) {
      if (auto d = positive_duration(m, "watchdog.min_std")) w.phi.min_std = *d;
    }
    if (auto m = n["acceptable_pause"]) {
      if (auto d = duration(m, "watchdog.acceptable_pause")) w.phi.acceptable_pause = *d;
    }
    if (auto m = n["expected_interval"]) {
      if (auto d = positive_duration(m, "watchdog.expected_interval")) {
        w.phi.expected_interval = *d;
      }
    }
    if (auto m = n["warn"]) {
      if (auto b = boolean(m, "watchdog.warn")) w.warn = *b;
    }
    if (auto m = n["warn_after"]) {
      if (phi || !w.timeout) {
        error(m,
              "watchdog.warn_after applies to a fixed timeout: set watchdog.timeout (with the "
              "phi detector use warn_threshold)");
      } else if (auto d = positive_duration(m, "watchdog.warn_after")) {
        if (*d >= *w.timeout) {
          error(m, fmt::format("watchdog.warn_after ({}) must be shorter than timeout ({})",
                               format_duration(*d), format_duration(*w.timeout)));
        } else {
          w.warn_after = *d;
        }
      }
    }
    if (auto m = n["loops"]) {
      if (expect_map(m, "watchdog.loops")) {
        for (auto it = m.begin(); it != m.end(); ++it) {
          auto name = scalar(it->first, "a loop name");
          if (!name) continue;
          if (!valid_loop_name(*name)) {
            error(it->first, fmt::format("loop name '{}' must have 1 to 64 letters, digits, '_', "
                                         "'-', '.' or '/'",
                                         *name));
            continue;
          }
          if (auto d = positive_duration(it->second, fmt::format("watchdog.loops.{}", *name))) {
            w.loops[*name] = *d;
          }
        }
      }
    }
    if (auto m = n["abort_timeout"]) {
      if (auto d = duration(m, "watchdog.abort_timeout")) w.abort_timeout = *d;
    }
    if (auto m = n["stacks"]) {
      if (auto b = boolean(m, "watchdog.stacks")) w.stacks = *b;
    }
    if (auto m = n["stack_budget"]) {
      if (auto d = positive_duration(m, "watchdog.stack_budget")) w.stack_budget = *d;
    }
  }

  // `bond: true` (all defaults) or `bond: {topic: /bond, id: NAME}`; `bond: false` is none.
  std::optional<BondSpec> parse_bond(const YAML::Node& m, const std::string& component) {
    BondSpec bond;
    bond.id = component;
    if (m.IsScalar()) {
      auto on = boolean(m, "watchdog.bond");
      if (!on || !*on) return std::nullopt;
    } else if (m.IsMap()) {
      check_keys(m, {"topic", "id"}, "watchdog.bond");
      if (auto t = m["topic"]) {
        auto topic = scalar(t, "watchdog.bond.topic");
        if (!topic) return std::nullopt;
        if (!valid_ros2_topic(*topic)) {
          error(t, fmt::format("watchdog.bond.topic '{}' must be an absolute ROS 2 topic name "
                               "(e.g. /bond): '/' then letters, digits, '_' and '/'",
                               *topic));
          return std::nullopt;
        }
        bond.topic = *topic;
      }
      if (auto i = m["id"]) {
        auto id = scalar(i, "watchdog.bond.id");
        if (!id) return std::nullopt;
        if (id->empty()) {
          error(i, "watchdog.bond.id must not be empty");
          return std::nullopt;
        }
        bond.id = *id;
      }
    } else {
      error(m, fmt::format("watchdog.bond must be true or a mapping {{topic, id}}, not {}",
                           type_name(m)));
      return std::nullopt;
    }
    bond_locations_.push_back(at(m));
    return bond;
  }

  static bool valid_ros2_topic(const std::string& t) {
    if (t.size() < 2 || t.size() > 255 || t.front() != '/' || t.back() == '/') return false;
    if (t.find("//") != std::string::npos) return false;
    return std::all_of(t.begin(), t.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '/';
    });
  }

  // Bonds are read through vigild's DDS participant, which exists only with `dds:`; and a
  // bond's messages can feed only one component's watchdog.
  void check_bonds(const SystemSpec& spec) {
    if (!spec.dds.enabled) {
      for (const auto& where : bond_locations_) {
        errors_.push_back({where,
                           "watchdog.bond reads ROS 2 bond messages over DDS: add a 'dds' section "
                           "to the config (e.g. dds: {domain: 0})"});
      }
      return;
    }
    std::map<std::pair<std::string, std::string>, std::string> owner;  // (topic, id) -> name
    for_each_component(spec.root, [&](const ComponentSpec& c) {
      if (!c.watchdog.bond) return;
      const auto& b = *c.watchdog.bond;
      auto [it, added] = owner.try_emplace({b.topic, b.id}, c.name);
      if (!added) {
        errors_.push_back(
            {c.location, fmt::format("component '{}': bond '{}' on {} is already the watchdog "
                                     "of component '{}'; give each its own watchdog.bond.id",
                                     c.name, b.id, b.topic, it->second)});
      }
    });
  }

  ComponentSpec parse_component(const YAML::Node& node) {
    ComponentSpec c;
    c.location = at(node);
    check_keys(node,
               {"name", "command", "env", "cwd", "restart", "backoff", "ready", "start_timeout",
                "watchdog", "grace", "stop", "after", "output", "resources", "monitors", "limits",
                "user", "recovery", "standby_for"},
               "component");
    parse_name(node, c.name, true);
    if (auto n = node["cwd"]) {
      if (auto s = scalar(n, "cwd")) {
        c.cwd = absolute(*s).string();
        if (!fs::is_directory(c.cwd)) {
          error(n, fmt::format("cwd '{}' is not a directory", c.cwd));
        }
      }
    } else {
      c.cwd = base_dir_.string();
    }
    auto command = node["command"];
    const bool misspelt = std::any_of(node.begin(), node.end(), [](const auto& kv) {
      return kv.first.IsScalar() && kv.first.Scalar() != "command" &&
             edit_distance(kv.first.Scalar(), "command") <= 2;
    });
    if (!command && misspelt) {
      // The unknown-key error already points at the typo; one error per mistake.
    } else if (!command) {
      error(node,
            fmt::format("component '{}' has no 'command' (or 'children' for a group)", c.name));
    } else if (command.IsScalar()) {
      error(command,
            "command must be a list of arguments, e.g. [prog, --flag, value]; for a "
            "shell command write [sh, -c, \"...\"]");
    } else {
      c.command = string_list(command, "command");
      if (c.command.empty() && command.IsSequence()) error(command, "command must not be empty");
      if (!c.command.empty()) resolve_executable(command[0], c.command[0], c.cwd);
    }
    if (auto n = node["env"]) {
      if (expect_map(n, "env")) {
        for (auto it = n.begin(); it != n.end(); ++it) {
          auto key = scalar(it->first, "an env name");
          auto value = scalar(it->second, "an env value");
          if (!key || !value) continue;
          if (key->empty() || key->find('=') != std::string::npos) {
            error(it->first, fmt::format("env name '{}' must not be empty or contain '='", *key));
            continue;
          }
          c.env[*key] = *value;
        }
      }
    }
    if (auto n = node["restart"]) {
      if (auto s = scalar(n, "restart")) {
        if (*s == "permanent") {
          c.restart = RestartType::permanent;
        } else if (*s == "transient") {
          c.restart = RestartType::transient;
        } else if (*s == "temporary") {
          c.restart = RestartType::temporary;
        } else {
          error(n, fmt::format("restart must be permanent, transient or temporary, not '{}'{}", *s,
                               did_you_mean(*s, {"permanent", "transient", "temporary"})));
        }
      }
    }
    if (auto n = node["backoff"]) parse_backoff(n, c.backoff);
    if (auto n = node["ready"]) parse_ready(n, c.ready);
    if (auto n = node["start_timeout"]) {
      if (auto d = duration(n, "start_timeout")) {
        if (d->count() == 0)
          error(n, "start_timeout must be longer than 0");
        else
          c.start_timeout = *d;
      }
    }
    if (auto n = node["watchdog"]) parse_watchdog(n, c.watchdog, c.name);
    if (auto n = node["grace"]) {
      if (auto d = duration(n, "grace")) c.grace = *d;
    }
    if (auto n = node["stop"]) {
      if (expect_map(n, "stop")) {
        check_keys(n, {"signal", "timeout"}, "stop");
        if (auto m = n["signal"]) {
          if (auto s = signal(m, "stop.signal")) c.stop.signal = *s;
        }
        if (auto m = n["timeout"]) {
          if (auto d = duration(m, "stop.timeout")) c.stop.timeout = *d;
        }
      }
    }
    if (auto n = node["output"]) {
      if (expect_map(n, "output")) {
        check_keys(n, {"max_size", "keep", "tail_lines"}, "output");
        if (auto m = n["max_size"]) {
          if (auto v = size(m, "output.max_size")) {
            if (*v < 4096)
              error(m, "output.max_size must be at least 4KiB");
            else
              c.output.max_size = *v;
          }
        }
        if (auto m = n["keep"]) {
          if (auto v = integer(m, "output.keep", 0, 100)) c.output.keep = static_cast<int>(*v);
        }
        if (auto m = n["tail_lines"]) {
          if (auto v = integer(m, "output.tail_lines", 0, 1000)) {
            c.output.tail_lines = static_cast<int>(*v);
          }
        }
      }
    }
    if (auto n = node["resources"]) parse_resources(n, c.resources);
    if (auto n = node["monitors"]) parse_monitors(n, c.topics);
    if (auto n = node["limits"]) parse_limits(n, c.limits);
    if (auto n = node["user"]) {
      if (auto name = scalar(n, "user")) {
        struct passwd pw {};
        struct passwd* found = nullptr;
        std::vector<char> buffer(16384);
        if (::getpwnam_r(name->c_str(), &pw, buffer.data(), buffer.size(), &found) != 0 ||
            found == nullptr) {
          error(n, fmt::format("user '{}' does not exist on this machine", *name));
        } else {
          c.user = UserSpec{*name, pw.pw_uid, pw.pw_gid};
        }
      }
    }
    if (auto n = node["recovery"]) parse_recovery(n, c);
    if (auto n = node["standby_for"]) parse_standby(n, c);
    parse_after(node, c.name, c.after);
    return c;
  }

  // recovery: [{restart: 3}, {restart_group: sensors}, {standby: lidar_backup},
  //            {mode: degraded}, {safe_stop: {mode: safe_stop}}], each with an optional
  // approval: required | {timeout: 30s, default: deny|approve}.
  void parse_recovery(const YAML::Node& node, ComponentSpec& c) {
    if (!node.IsSequence()) {
      error(node, fmt::format("recovery must be a list of steps, e.g. [{{restart: 3}}, "
                              "{{safe_stop: true}}], not {}",
                              type_name(node)));
      return;
    }
    static const std::vector<std::string_view> kActions = {"restart", "restart_group", "standby",
                                                           "mode", "safe_stop"};
    for (const auto& item : node) {
      if (!expect_map(item, "each recovery step")) continue;
      RecoveryStep step;
      step.location = at(item);
      std::vector<std::string_view> allowed = kActions;
      allowed.push_back("approval");
      const std::size_t errors_before = errors_.size();
      check_keys(item, allowed, "a recovery step");
      const bool unknown_keys = errors_.size() > errors_before;
      int actions = 0;
      for (auto it = item.begin(); it != item.end(); ++it) {
        if (!it->first.IsScalar()) continue;
        const std::string key = it->first.Scalar();
        if (std::find(kActions.begin(), kActions.end(), key) == kActions.end()) continue;
        if (++actions > 1) {
          error(it->first, fmt::format("a recovery step does one thing: '{}' must be a step of "
                                       "its own",
                                       key));
          continue;
        }
        step.location = at(it->first);
        parse_recovery_action(key, it->second, step);
      }
      if (actions == 0) {
        // A misspelt action has its own error already.
        if (!unknown_keys) {
          error(item, fmt::format("a recovery step needs one of: {}", join(kActions)));
        }
        continue;
      }
      if (auto a = item["approval"]) parse_approval(a, step);
      c.recovery.push_back(std::move(step));
    }
    if (c.recovery.empty() && node.IsSequence() && node.size() == 0) {
      error(node, "recovery must list at least one step");
    }
  }

  void parse_recovery_action(const std::string& key, const YAML::Node& value, RecoveryStep& step) {
    using Action = RecoveryStep::Action;
    const std::string what = "recovery." + key;
    if (key == "restart") {
      step.action = Action::restart;
      if (auto v = integer(value, what, 1, 1000)) step.times = static_cast<int>(*v);
    } else if (key == "restart_group") {
      step.action = Action::restart_group;
      if (auto s = scalar(value, what)) step.target = *s == "true" ? "" : *s;
    } else if (key == "standby") {
      step.action = Action::standby;
      if (auto s = scalar(value, what)) step.target = *s;
    } else if (key == "mode") {
      step.action = Action::mode;
      if (auto s = scalar(value, what)) step.target = *s;
    } else {
      step.action = Action::safe_stop;
      if (value.IsMap()) {
        check_keys(value, {"mode"}, what);
        if (auto m = value["mode"]) {
          if (auto s = scalar(m, what + ".mode")) step.target = *s;
        }
      } else if (auto s = scalar(value, what); s && *s != "true") {
        error(value, fmt::format("{} must be true or {{mode: NAME}}, not '{}'", what, *s));
      }
    }
  }

  void parse_approval(const YAML::Node& node, RecoveryStep& step) {
    step.approval = true;
    if (node.IsScalar()) {
      if (node.Scalar() == "required") return;
      if (node.Scalar() == "none" || node.Scalar() == "false") {
        step.approval = false;
        return;
      }
      error(node, fmt::format("approval must be required, none or {{timeout: 60s, default: deny}}, "
                              "not '{}'",
                              node.Scalar()));
      return;
    }
    if (!expect_map(node, "approval")) return;
    check_keys(node, {"timeout", "default"}, "approval");
    if (auto t = node["timeout"]) {
      if (auto d = duration(t, "approval.timeout")) {
        if (d->count() == 0)
          error(t, "approval.timeout must be longer than 0");
        else
          step.approval_timeout = *d;
      }
    }
    if (auto d = node["default"]) {
      if (auto s = scalar(d, "approval.default")) {
        if (*s == "approve") {
          step.approve_on_timeout = true;
        } else if (*s != "deny") {
          error(d, fmt::format("approval.default must be deny or approve, not '{}'{}", *s,
                               did_you_mean(*s, {"deny", "approve"})));
        }
      }
    }
  }

  // standby_for: lidar | {primary: lidar, hot: true, failback: immediate|stay|30s}
  void parse_standby(const YAML::Node& node, ComponentSpec& c) {
    StandbySpec s;
    standby_locations_[c.name] = at(node);
    if (node.IsScalar()) {
      s.primary = node.Scalar();
      c.standby = s;
      return;
    }
    if (!expect_map(node, "standby_for")) return;
    check_keys(node, {"primary", "hot", "failback"}, "standby_for");
    if (auto p = node["primary"]) {
      if (auto v = scalar(p, "standby_for.primary")) s.primary = *v;
    } else {
      error(node, "standby_for needs the primary: standby_for: {primary: NAME}");
    }
    if (auto h = node["hot"]) {
      if (auto v = scalar(h, "standby_for.hot")) {
        if (*v == "true") {
          s.hot = true;
        } else if (*v != "false") {
          error(h, fmt::format("standby_for.hot must be true or false, not '{}'", *v));
        }
      }
    }
    s.failback = s.hot ? StandbySpec::Failback::immediate : StandbySpec::Failback::stay;
    if (auto f = node["failback"]) {
      if (auto v = scalar(f, "standby_for.failback")) {
        if (*v == "immediate") {
          s.failback = StandbySpec::Failback::immediate;
          if (!s.hot) {
            error(f,
                  "failback: immediate needs a hot standby (hot: true); a cold standby "
                  "hands back with failback: DURATION");
          }
        } else if (*v == "stay") {
          s.failback = StandbySpec::Failback::stay;
        } else if (auto d = parse_duration(*v); d && d->count() > 0) {
          s.failback = StandbySpec::Failback::after;
          s.failback_after = *d;
        } else {
          error(f, fmt::format("standby_for.failback must be immediate, stay or a duration "
                               "(30s), not '{}'",
                               *v));
        }
      }
    }
    c.standby = s;
  }

  // Ladders and standbys name components, groups and modes: checked once all are known.
  void check_recovery(const SystemSpec& spec) {
    std::map<std::string, const ComponentSpec*> components;
    for_each_component(spec.root, [&](const ComponentSpec& c) { components[c.name] = &c; });
    std::map<std::string, std::set<std::string>> group_members;  // group -> components
    std::function<void(const GroupSpec&, std::vector<std::string>)> walk =
        [&](const GroupSpec& g, std::vector<std::string> path) {
          path.push_back(g.name);
          for (const auto& child : g.children) {
            if (const auto* c = std::get_if<ComponentSpec>(&child.node)) {
              for (const auto& name : path) group_members[name].insert(c->name);
            } else {
              walk(std::get<GroupSpec>(child.node), path);
            }
          }
        };
    walk(spec.root, {});
    std::map<std::string, std::string> standby_of;  // primary -> its standby
    for (const auto& [name, c] : components) {
      if (!c->standby) continue;
      const auto& where = standby_locations_[name];
      const std::string& primary = c->standby->primary;
      auto p = components.find(primary);
      if (p == components.end()) {
        std::vector<std::string_view> known;
        for (const auto& [n, unused] : components) known.push_back(n);
        errors_.push_back({where, fmt::format("component '{}' is a standby for unknown component "
                                              "'{}'{}",
                                              name, primary, did_you_mean(primary, known))});
        continue;
      }
      if (primary == name) {
        errors_.push_back({where, fmt::format("component '{}' cannot stand by for itself", name)});
        continue;
      }
      if (p->second->standby) {
        errors_.push_back({where, fmt::format("'{}' is itself a standby (for '{}'); a standby "
                                              "stands in for a primary",
                                              primary, p->second->standby->primary)});
        continue;
      }
      auto [it, added] = standby_of.try_emplace(primary, name);
      if (!added) {
        errors_.push_back(
            {where, fmt::format("'{}' already has a standby: '{}'", primary, it->second)});
      }
    }
    std::set<std::string> modes;
    for (std::size_t i = 1; i < spec.modes.size(); ++i) modes.insert(spec.modes[i].name);
    for (const auto& [name, c] : components) {
      if (c->recovery.empty()) continue;
      if (c->restart == RestartType::temporary) {
        errors_.push_back({c->recovery.front().location,
                           fmt::format("component '{}' is temporary (never restarted): a "
                                       "recovery ladder needs restart: permanent or transient",
                                       name)});
      }
      for (std::size_t i = 0; i < c->recovery.size(); ++i) {
        const auto& step = c->recovery[i];
        const auto& where = step.location;
        switch (step.action) {
          case RecoveryStep::Action::restart:
            break;
          case RecoveryStep::Action::restart_group:
            if (auto g = group_members.find(step.target);
                !step.target.empty() && (g == group_members.end() || !g->second.count(name))) {
              const bool is_group = g != group_members.end();
              errors_.push_back(
                  {where, is_group ? fmt::format("recovery.restart_group: group '{}' does not "
                                                 "hold component '{}'",
                                                 step.target, name)
                                   : fmt::format("recovery.restart_group: no group named '{}'",
                                                 step.target)});
            }
            break;
          case RecoveryStep::Action::standby: {
            auto it = standby_of.find(name);
            if (it == standby_of.end()) {
              errors_.push_back({where, fmt::format("recovery.standby: '{}' has no standby; "
                                                    "declare one with standby_for: {}",
                                                    name, name)});
            } else if (it->second != step.target) {
              errors_.push_back({where, fmt::format("recovery.standby: '{}' is not the standby "
                                                    "of '{}' ('{}' is)",
                                                    step.target, name, it->second)});
            }
            break;
          }
          case RecoveryStep::Action::mode:
          case RecoveryStep::Action::safe_stop:
            if (step.action == RecoveryStep::Action::mode || !step.target.empty()) {
              if (!modes.count(step.target)) {
                std::vector<std::string_view> known(modes.begin(), modes.end());
                errors_.push_back(
                    {where,
                     spec.modes.empty()
                         ? fmt::format("recovery: no modes are declared (mode '{}')", step.target)
                     : !spec.modes.empty() && spec.modes.front().name == step.target
                         ? fmt::format("recovery: '{}' is the default mode; a ladder can only "
                                       "force one of the others",
                                       step.target)
                         : fmt::format("recovery: no mode named '{}'{}", step.target,
                                       did_you_mean(step.target, known))});
              }
            }
            if (step.action == RecoveryStep::Action::safe_stop && step.approval) {
              errors_.push_back({where,
                                 "safe_stop needs no approval: it is where every denied "
                                 "or unanswered step leads"});
            }
            if (step.action == RecoveryStep::Action::safe_stop && i + 1 < c->recovery.size()) {
              errors_.push_back({c->recovery[i + 1].location,
                                 "safe_stop ends a ladder: the steps after it are never reached"});
            }
            break;
        }
      }
    }
  }

  // Unknown names, and cycles in "must be ready before" — which includes waiting for one's
  // own group (a group is ready only when all its members are).
  void check_tree(const GroupSpec& root) {
    std::unordered_map<std::string, std::vector<std::string>> members;   // node -> components
    std::unordered_map<std::string, std::vector<std::string>> ancestry;  // component -> nodes
    std::function<std::vector<std::string>(const GroupSpec&, std::vector<std::string>)> walk =
        [&](const GroupSpec& g, std::vector<std::string> path) {
          path.push_back(g.name);
          std::vector<std::string> all;
          for (const auto& child : g.children) {
            if (const auto* c = std::get_if<ComponentSpec>(&child.node)) {
              if (c->name.empty()) continue;
              members[c->name] = {c->name};
              auto p = path;
              p.push_back(c->name);
              ancestry[c->name] = p;
              all.push_back(c->name);
            } else {
              auto sub = walk(std::get<GroupSpec>(child.node), path);
              all.insert(all.end(), sub.begin(), sub.end());
            }
          }
          if (!g.name.empty()) members[g.name] = all;
          return all;
        };
    walk(root, {});
    std::unordered_map<std::string, std::vector<std::pair<std::string, SourceLocation>>> after_of;
    for (const auto& ref : after_refs_) {
      if (!names_.count(ref.target)) {
        std::vector<std::string_view> known;
        for (const auto& [name, loc] : names_) known.push_back(name);
        errors_.push_back(
            {ref.where, fmt::format("'{}' waits for unknown component or group "
                                    "'{}'{}",
                                    ref.owner, ref.target, did_you_mean(ref.target, known))});
        continue;
      }
      if (ref.target == ref.owner) {
        errors_.push_back({ref.where, fmt::format("'{}' cannot wait for itself", ref.owner)});
        continue;
      }
      after_of[ref.owner].push_back({ref.target, ref.where});
    }
    // Component-level edges: c waits for every member of every node named in the `after` of
    // c or of any group containing c.
    std::unordered_map<std::string, std::vector<std::pair<std::string, SourceLocation>>> waits;
    for (const auto& [component, path] : ancestry) {
      for (const auto& node : path) {
        auto it = after_of.find(node);
        if (it == after_of.end()) continue;
        for (const auto& [target, where] : it->second) {
          for (const auto& m : members[target]) waits[component].push_back({m, where});
        }
      }
    }
    enum class Mark { none, active, done };
    std::unordered_map<std::string, Mark> mark;
    std::vector<std::string> stack;
    bool reported = false;
    std::function<void(const std::string&)> visit = [&](const std::string& c) {
      mark[c] = Mark::active;
      stack.push_back(c);
      for (const auto& [next, where] : waits[c]) {
        if (reported) break;
        if (mark[next] == Mark::active) {
          auto start = std::find(stack.begin(), stack.end(), next);
          std::string cycle;
          for (auto it = start; it != stack.end(); ++it) cycle += *it + " -> ";
          cycle += next;
          errors_.push_back({where, fmt::format("dependency cycle: {}", cycle)});
          reported = true;
        } else if (mark[next] == Mark::none) {
          visit(next);
        }
      }
      stack.pop_back();
      mark[c] = Mark::done;
    };
    std::vector<std::string> order;
    for_each_component(root, [&](const ComponentSpec& c) {
      if (!c.name.empty()) order.push_back(c.name);
    });
    for (const auto& c : order) {
      if (!reported && mark[c] == Mark::none) visit(c);
    }
  }

  struct AfterRef {
    std::string owner;
    std::string target;
    SourceLocation where;
  };

  std::string file_;
  fs::path base_dir_;
  bool dds_enabled_ = false;  // parsed before the tree: monitors of DDS topics need it
  LoadOptions options_;
  std::vector<Diagnostic> errors_;
  std::unordered_map<std::string, SourceLocation> names_;
  std::vector<AfterRef> after_refs_;
  std::vector<SourceLocation> bond_locations_;  // every watchdog.bond, for the dds check
  std::map<std::string, SourceLocation> standby_locations_;  // component -> its standby_for
};

}  // namespace

std::string Diagnostic::format() const {
  return fmt::format("{}:{}:{}: error: {}", where.file, where.line, where.column, message);
}

std::string LoadResult::format_errors() const {
  std::string out;
  for (const auto& e : errors) out += e.format() + "\n";
  return out;
}

LoadResult load_config_text(std::string_view text, const std::string& file_name,
                            const LoadOptions& options) {
  fs::path base = fs::path(file_name).parent_path();
  if (base.empty()) base = fs::current_path();
  base = fs::absolute(base).lexically_normal();
  return Loader(file_name, base, options).load(text);
}

LoadResult load_config_file(const std::string& path, const LoadOptions& options) {
  std::ifstream in(path);
  if (!in) {
    LoadResult r;
    r.errors.push_back({{path, 1, 1}, fmt::format("cannot read config: {}", std::strerror(errno))});
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto result = load_config_text(ss.str(), path, options);
  if (result.spec) result.spec->source_file = fs::absolute(path).lexically_normal().string();
  return result;
}

}  // namespace vigil::config
