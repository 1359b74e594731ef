#include "chaos/scenario.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <set>

namespace vigil::chaos {

namespace {

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  ScenarioResult parse(const std::string& text) {
    ScenarioResult result;
    YAML::Node doc;
    try {
      doc = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      errors_.push_back(
          fmt::format("{}:{}:{}: error: {}", file_, e.mark.line + 1, e.mark.column + 1, e.msg));
      result.errors = errors_;
      return result;
    }
    if (!doc.IsMap()) {
      error(doc, "a scenario is a mapping with at least `faults:`");
      result.errors = errors_;
      return result;
    }
    Scenario s;
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      const std::string key = it->first.Scalar();
      const YAML::Node& v = it->second;
      if (key == "interval") {
        if (auto d = duration(v, "interval")) s.interval = *d;
      } else if (key == "jitter") {
        if (auto x = number(v, "jitter", 0.0, 0.9)) s.jitter = *x;
      } else if (key == "targets") {
        s.targets = names(v, "targets");
      } else if (key == "settle") {
        if (auto d = duration(v, "settle")) s.settle = *d;
      } else if (key == "min_uptime") {
        if (auto d = duration(v, "min_uptime")) s.min_uptime = *d;
      } else if (key == "faults") {
        faults(v, s.faults);
      } else {
        error(it->first, fmt::format("unknown key '{}' (expected interval, jitter, targets, "
                                     "settle, min_uptime or faults)",
                                     key));
      }
    }
    if (!doc["faults"]) error(doc, "a scenario needs `faults:`, e.g. [{fault: kill}]");
    result.errors = errors_;
    if (errors_.empty()) result.scenario = std::move(s);
    return result;
  }

 private:
  void error(const YAML::Node& at, const std::string& message) {
    const auto mark = at.Mark();
    errors_.push_back(fmt::format("{}:{}:{}: error: {}", file_, std::max(1, mark.line + 1),
                                  std::max(1, mark.column + 1), message));
  }

  std::optional<Duration> duration(const YAML::Node& v, const std::string& what) {
    if (!v.IsScalar()) {
      error(v, what + " must be a duration (10s)");
      return std::nullopt;
    }
    auto d = parse_duration(v.Scalar());
    if (!d || d->count() <= 0) {
      error(v,
            fmt::format("{}: '{}' is not a positive duration (250ms, 10s, 1m)", what, v.Scalar()));
      return std::nullopt;
    }
    return d;
  }

  std::optional<double> number(const YAML::Node& v, const std::string& what, double lo, double hi) {
    try {
      const double x = v.as<double>();
      if (x >= lo && x <= hi) return x;
    } catch (const YAML::Exception&) {
    }
    error(v, fmt::format("{} must be a number from {} to {}", what, lo, hi));
    return std::nullopt;
  }

  // "20%" or 20: a share above 0 and at most 100 %.
  std::optional<double> percent(const YAML::Node& v, const std::string& what) {
    std::string text = v.IsScalar() ? v.Scalar() : "";
    if (!text.empty() && text.back() == '%') text.pop_back();
    char* end = nullptr;
    const double x = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size() && x > 0.0 && x <= 100.0) return x;
    error(v, fmt::format("{} must be a percentage above 0 and at most 100 (e.g. 20%)", what));
    return std::nullopt;
  }

  std::vector<std::string> names(const YAML::Node& v, const std::string& what) {
    std::vector<std::string> out;
    if (!v.IsSequence()) {
      error(v, what + " must be a list of component names");
      return out;
    }
    for (const auto& n : v) {
      if (n.IsScalar() && !n.Scalar().empty())
        out.push_back(n.Scalar());
      else
        error(n, what + " must be a list of component names");
    }
    return out;
  }

  void faults(const YAML::Node& list, std::vector<FaultSpec>& out) {
    if (!list.IsSequence() || list.size() == 0) {
      error(list, "faults must be a list, e.g. [{fault: kill}, {fault: hang, for: 3s}]");
      return;
    }
    for (const auto& item : list) {
      if (!item.IsMap()) {
        error(item, "each fault is a mapping, e.g. {fault: hang, for: 3s}");
        continue;
      }
      FaultSpec f;
      f.line = item.Mark().line + 1;
      bool has_for = false;
      for (auto it = item.begin(); it != item.end(); ++it) {
        const std::string key = it->first.Scalar();
        const YAML::Node& v = it->second;
        if (key == "fault") {
          f.fault = v.IsScalar() ? v.Scalar() : "";
          static const std::set<std::string> known = {
              "kill",      "hang",        "slow",    "heartbeat_loss", "topic_dropout",
              "partition", "packet_loss", "cpu_hog", "memory_hog"};
          if (!known.count(f.fault)) {
            error(v, fmt::format("unknown fault '{}' (kill, hang, slow, heartbeat_loss, "
                                 "topic_dropout, partition, packet_loss, cpu_hog or memory_hog)",
                                 f.fault));
          }
        } else if (key == "weight") {
          if (auto x = number(v, "weight", 0.0, 1e6)) f.weight = *x;
        } else if (key == "targets") {
          f.targets = names(v, "targets");
        } else if (key == "for") {
          has_for = true;
          if (auto d = duration(v, "for")) f.duration = *d;
        } else if (key == "signal") {
          f.signal = v.IsScalar() ? v.Scalar() : "";
          if (!parse_signal(f.signal)) error(v, fmt::format("'{}' is not a signal", f.signal));
        } else if (key == "period") {
          if (auto d = duration(v, "period")) f.period = *d;
        } else if (key == "duty") {
          if (auto x = number(v, "duty", 0.01, 0.99)) f.duty = *x;
        } else if (key == "loss") {
          if (auto x = percent(v, "loss")) f.loss_percent = *x;
        } else if (key == "expect") {
          const std::string text = v.IsScalar() ? v.Scalar() : "";
          if (text == "failure" || text == "none") {
            f.expect_failure = text == "failure";
          } else {
            error(v, "expect must be failure (detected and recovered) or none (ridden out)");
          }
        } else if (key == "cpus") {
          if (auto x = number(v, "cpus", 1, 64)) f.cpus = static_cast<int>(*x);
        } else if (key == "size") {
          auto bytes = v.IsScalar() ? parse_size(v.Scalar()) : std::nullopt;
          if (bytes && *bytes > 0) {
            f.bytes = *bytes;
          } else {
            error(v, "size must be a size such as 200MiB");
          }
        } else {
          error(it->first, fmt::format("unknown key '{}' in a fault (fault, weight, targets, for, "
                                       "signal, period, duty, loss, cpus, size, expect)",
                                       key));
        }
      }
      if (f.fault == "packet_loss" && !item["loss"]) {
        error(item, "a packet_loss fault needs `loss:` (e.g. 20%)");
      }
      if (f.fault == "memory_hog" && !item["size"]) {
        error(item, "a memory_hog fault needs `size:` (e.g. 200MiB)");
      }
      if (f.fault.empty() && !item["fault"]) error(item, "a fault needs `fault:` (its kind)");
      if (f.fault != "kill" && !f.fault.empty() && !has_for) {
        error(item, fmt::format("a {} fault needs `for:` (how long it lasts)", f.fault));
      }
      out.push_back(std::move(f));
    }
  }

  std::string file_;
  std::vector<std::string> errors_;
};

std::int64_t ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

ScenarioResult parse_scenario(const std::string& text, const std::string& file_name) {
  return Parser(file_name).parse(text);
}

nlohmann::json injection_request(const FaultSpec& fault, const std::string& target) {
  nlohmann::json r = {{"cmd", "chaos"}, {"fault", fault.fault}, {"name", target}};
  if (fault.fault == "kill") {
    r["signal"] = fault.signal;
  } else {
    r["duration_ms"] = ms(fault.duration);
  }
  if (fault.fault == "slow") {
    r["period_ms"] = ms(fault.period);
    r["duty"] = fault.duty;
  }
  if (fault.fault == "packet_loss") r["loss_percent"] = fault.loss_percent;
  if (fault.fault == "cpu_hog") r["cpus"] = fault.cpus;
  if (!fault.expect_failure) r["expect"] = "none";
  if (fault.fault == "memory_hog") r["bytes"] = fault.bytes;
  return r;
}

Planner::Planner(const Scenario& scenario, std::uint64_t seed) : scenario_(scenario), rng_(seed) {}

Duration Planner::next_delay() {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const double factor = 1.0 + scenario_.jitter * u(rng_);
  return std::chrono::duration_cast<Duration>(scenario_.interval * factor);
}

std::optional<std::pair<const FaultSpec*, std::string>> Planner::next(
    const std::vector<std::string>& eligible) {
  // Faults that have at least one eligible target, by weight.
  std::vector<const FaultSpec*> usable;
  std::vector<double> weights;
  auto targets_of = [&](const FaultSpec& f) {
    const auto& wanted = f.targets.empty() ? scenario_.targets : f.targets;
    std::vector<std::string> out;
    for (const auto& name : eligible) {
      if (wanted.empty() || std::find(wanted.begin(), wanted.end(), name) != wanted.end()) {
        out.push_back(name);
      }
    }
    return out;
  };
  for (const auto& f : scenario_.faults) {
    if (f.weight > 0 && !targets_of(f).empty()) {
      usable.push_back(&f);
      weights.push_back(f.weight);
    }
  }
  if (usable.empty()) return std::nullopt;
  std::discrete_distribution<std::size_t> pick_fault(weights.begin(), weights.end());
  const FaultSpec* fault = usable[pick_fault(rng_)];
  const auto targets = targets_of(*fault);
  std::uniform_int_distribution<std::size_t> pick_target(0, targets.size() - 1);
  return std::make_pair(fault, targets[pick_target(rng_)]);
}

}  // namespace vigil::chaos
