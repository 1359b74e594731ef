#include "chaos/soak_runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

namespace vigil::chaos {

namespace {

std::int64_t wall_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void collect_components(const nlohmann::json& node, std::vector<nlohmann::json>& out) {
  if (node.value("type", "") == "component") {
    out.push_back(node);
    return;
  }
  if (auto c = node.find("children"); c != node.end() && c->is_array()) {
    for (const auto& child : *c) collect_components(child, out);
  }
}

struct Robot {
  std::vector<std::string> running;   // and no fault in effect
  std::vector<std::string> eligible;  // running, no fault, and up for the scenario's min_uptime
  std::vector<std::string> all;
};

Result<Robot> look(const Request& request, Duration min_uptime) {
  auto status = request({{"cmd", "status"}});
  if (!status) return make_error(status.error());
  std::set<std::string> faulted;
  for (const auto& f : status->value("chaos", nlohmann::json::array())) {
    faulted.insert(f.value("name", f.value("component", std::string())));
  }
  std::vector<nlohmann::json> components;
  collect_components(status->value("tree", nlohmann::json::object()), components);
  Robot robot;
  for (const auto& c : components) {
    const std::string name = c.value("name", "");
    robot.all.push_back(name);
    if (c.value("state", "") != "running" || faulted.count(name)) continue;
    robot.running.push_back(name);
    const auto up_ms = c.value("for_ms", std::int64_t{0});
    if (up_ms >= std::chrono::duration_cast<std::chrono::milliseconds>(min_uptime).count()) {
      robot.eligible.push_back(name);
    }
  }
  return robot;
}

std::vector<std::string> among(const std::vector<std::string>& names,
                               const std::vector<std::string>& targets) {
  if (targets.empty()) return names;
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (std::find(targets.begin(), targets.end(), n) != targets.end()) out.push_back(n);
  }
  return out;
}

}  // namespace

Result<SoakReport> report_window(std::int64_t start_us, std::int64_t end_us, const Request& request,
                                 std::string initial_mode) {
  auto events = request(
      {{"cmd", "events"}, {"since_us", wall_now_us() - start_us + 1'000'000}, {"limit", 100000}});
  if (!events) return make_error(events.error());
  std::vector<health::Event> log;
  bool mode_changed_since = false;
  for (const auto& e : events->value("events", nlohmann::json::array())) {
    auto event = health::Event::from_json(e);
    if (event.wall_us > end_us && event.kind == health::EventKind::mode_changed) {
      mode_changed_since = true;
    }
    if (event.wall_us >= start_us && event.wall_us <= end_us) log.push_back(std::move(event));
  }
  if (initial_mode.empty() && !mode_changed_since) {
    // No change after the window: a window without a change was in today's mode throughout;
    // otherwise its first change says what it left.
    if (auto status = request({{"cmd", "status"}}); status && status->contains("mode")) {
      initial_mode = (*status)["mode"].value("name", std::string());
    }
  }
  SoakOptions options;
  options.initial_mode = initial_mode;
  return compute_soak_report(log, start_us, end_us, options);
}

Result<RunResult> run_soak(const Scenario& scenario, const RunOptions& options,
                           const Request& request) {
  auto say = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  auto robot = look(request, scenario.min_uptime);
  if (!robot) return make_error(robot.error());
  for (const auto& t : scenario.targets) {
    if (std::find(robot->all.begin(), robot->all.end(), t) == robot->all.end()) {
      return make_error(fmt::format("target '{}' is not a component of this robot", t));
    }
  }
  RunResult result;
  SoakOptions report_options;
  if (auto status = request({{"cmd", "status"}}); status && status->contains("mode")) {
    report_options.initial_mode = (*status)["mode"].value("name", std::string());
  }
  Planner planner(scenario, options.seed);
  const std::int64_t start_us = wall_now_us();
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + options.duration;
  for (;;) {
    const auto at = std::chrono::steady_clock::now() + planner.next_delay();
    if (at > end) break;
    std::this_thread::sleep_until(at);
    auto now = look(request, scenario.min_uptime);
    if (!now) return make_error(now.error());
    auto pick = planner.next(now->eligible);
    if (!pick) {
      ++result.injections_skipped;
      say("no target is running without a fault (and up for min_uptime): skipped");
      continue;
    }
    const auto& [fault, target] = *pick;
    auto reply = request(injection_request(*fault, target));
    if (!reply) {
      ++result.injections_refused;
      say(fmt::format("{} {}: refused: {}", fault->fault, target, reply.error()));
      continue;
    }
    say(fmt::format("{} {}", fault->fault, target));
  }
  std::this_thread::sleep_until(end);
  // Time for the last recoveries: until every target runs again, or `settle` has passed.
  const auto settle_end = std::chrono::steady_clock::now() + scenario.settle;
  for (;;) {
    auto now = look(request, scenario.min_uptime);
    if (!now) return make_error(now.error());
    const auto wanted = among(now->all, scenario.targets);
    const auto up = among(now->running, scenario.targets);
    if (up.size() == wanted.size() || std::chrono::steady_clock::now() >= settle_end) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  auto report = report_window(start_us, wall_now_us(), request, report_options.initial_mode);
  if (!report) return make_error(report.error());
  result.report = std::move(*report);
  return result;
}

}  // namespace vigil::chaos
