// vigil: the operator's command line for vigild.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "api/protocol.hpp"
#include "chaos/scenario.hpp"
#include "chaos/soak_runner.hpp"
#include "cli/client.hpp"
#include "cli/format.hpp"
#include "cli/top.hpp"
#include "common/scheduler.hpp"
#include "common/units.hpp"
#include "config/loader.hpp"
#include "config/state_dir.hpp"
#include "diagnostics/event_log.hpp"
#include "diagnostics/report.hpp"

namespace {

using namespace vigil;
using nlohmann::json;

enum ExitCode : int {
  kOk = 0,
  kFailed = 1,  // vigild refused the request (unknown name, bad config on reload, ...)
  kInvalidConfig = 2,
  kNotATerminal = 2,  // `vigil top` with its output on a pipe or file
  kUsage = 64,
  kUnavailable = 69,  // vigild cannot be reached
};

struct Target {
  std::string config;
  std::string socket;
};

Result<std::string> find_socket(const Target& t) {
  if (!t.socket.empty()) return t.socket;
  if (!t.config.empty()) {
    auto loaded = config::load_config_file(t.config, {.check_executables = false});
    if (!loaded.ok()) {
      return make_error("cannot find vigild's socket from the config:\n" + loaded.format_errors());
    }
    // A vigild that could not write its state_dir at start runs from the fallback.
    const std::string configured = loaded.spec->state_dir + "/control.sock";
    const std::string fallback =
        config::fallback_state_dir(loaded.spec->state_dir) + "/control.sock";
    std::error_code ec;
    if (!std::filesystem::exists(configured, ec) && std::filesystem::exists(fallback, ec)) {
      return fallback;
    }
    return configured;
  }
  if (const char* env = std::getenv("VIGIL_SOCKET"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  return std::string(".vigil/control.sock");
}

struct Answer {
  std::optional<cli::ControlClient> client;  // empty when answered from the event log
  json reply;
};

// When vigild is down, what happened is still in its event log: status (last known states),
// events and report are answered from STATE_DIR/events.db, read-only.
std::optional<json> answer_offline(const std::string& socket_path, const json& request) {
  const std::string cmd = request.value("cmd", "");
  if (cmd != "status" && cmd != "report" && (cmd != "events" || request.value("follow", false))) {
    return std::nullopt;
  }
  const auto db = std::filesystem::path(socket_path).parent_path() / "events.db";
  if (!std::filesystem::exists(db)) return std::nullopt;
  auto log = diagnostics::EventLog::open(db.string(), {}, /*read_only=*/true);
  if (!log) return std::nullopt;
  const std::int64_t now = wall_clock_us();
  const std::int64_t since_us = request.value("since_us", std::int64_t{0});
  diagnostics::EventQuery q;
  q.component = request.value("component", "");
  q.since_wall_us = since_us > 0 ? now - since_us : 0;
  q.limit = cmd == "events" ? request.value("limit", 100) : 10'000'000;
  const auto events = (*log)->query(q);
  std::cerr << "vigil: vigild is not running; answering from " << db.string() << "\n";
  if (cmd == "events") {
    json out = json::array();
    for (const auto& e : events) out.push_back(e.to_json());
    return json{{"ok", true}, {"events", out}};
  }
  if (cmd == "report") {
    const std::int64_t start =
        since_us > 0 ? q.since_wall_us : (events.empty() ? now : events.front().wall_us);
    auto all = (*log)->state_before(start);
    all.insert(all.end(), events.begin(), events.end());
    auto report = diagnostics::compute_report(all, start, now);
    return json{{"ok", true}, {"report", report.to_json()}, {"text", report.to_text()}};
  }
  // Last known state of each component, from its last event that carried one.
  std::map<std::string, json> last;
  for (const auto& e : events) {
    if (e.component.empty() || e.state.empty() || e.kind == health::EventKind::escalated ||
        e.kind == health::EventKind::restart_scheduled ||
        e.kind == health::EventKind::operator_command) {
      continue;
    }
    auto& node = last[e.component];
    const int restarts = node.is_null() ? 0 : node.value("restarts", 0);
    node = {
        {"type", "component"},
        {"name", e.component},
        {"state", e.state},
        {"reason", "last known: " + e.reason},
        {"pid", 0},
        {"for_ms", (now - e.wall_us) / 1000},
        {"restarts",
         restarts +
             (e.kind == health::EventKind::spawned && e.detail.value("restart", 0) > 0 ? 1 : 0)}};
  }
  json children = json::array();
  for (auto& [name, node] : last) children.push_back(std::move(node));
  return json{{"ok", true},
              {"tree",
               {{"type", "group"},
                {"name", "last known states (vigild is not running)"},
                {"strategy", "-"},
                {"intensity", {{"recent", 0}, {"restarts", 0}, {"within_ms", 0}}},
                {"children", children}}}};
}

// Sends one request; prints an error and returns nullopt when it fails.
std::optional<Answer> ask(const Target& t, const json& request, int& rc) {
  auto socket = find_socket(t);
  if (!socket) {
    std::cerr << "vigil: " << socket.error() << "\n";
    rc = kUsage;
    return std::nullopt;
  }
  auto client = cli::ControlClient::connect(*socket);
  if (!client) {
    if (auto offline = answer_offline(*socket, request)) return Answer{std::nullopt, *offline};
    std::cerr << "vigil: " << client.error() << "\n";
    rc = kUnavailable;
    return std::nullopt;
  }
  if (auto sent = client->send(request); !sent) {
    std::cerr << "vigil: " << sent.error() << "\n";
    rc = kUnavailable;
    return std::nullopt;
  }
  auto reply = client->receive();
  if (!reply) {
    std::cerr << "vigil: " << reply.error() << "\n";
    rc = kUnavailable;
    return std::nullopt;
  }
  if (!reply->value("ok", false)) {
    std::cerr << "vigil: " << reply->value("error", std::string("request failed")) << "\n";
    rc = kFailed;
    return std::nullopt;
  }
  return Answer{std::move(*client), std::move(*reply)};
}

// vigild writes its HTTP API token next to its control socket, in state_dir.
int print_token(const Target& t) {
  auto socket = find_socket(t);
  if (!socket) {
    std::cerr << "vigil: " << socket.error() << "\n";
    return kUsage;
  }
  const auto path = std::filesystem::path(*socket).parent_path() / "token";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::cerr << "vigil: vigild has not created a token yet: is it running with http enabled? (no "
              << path.string() << ")\n";
    return kFailed;
  }
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token)) {
    std::cerr << "vigil: cannot read " << path.string() << ": "
              << (in ? "the file is empty" : std::strerror(errno)) << "\n";
    return kFailed;
  }
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) {
    std::cerr << "vigil: " << path.string() << " is empty\n";
    return kFailed;
  }
  std::cout << token << "\n";
  return kOk;
}

std::optional<std::int64_t> parse_since(const std::string& text, int& rc) {
  if (text.empty()) return 0;
  auto d = parse_duration(text);
  if (!d || d->count() <= 0) {
    std::cerr << "vigil: --since '" << text << "' is not a duration such as 10m, 2h, 1d\n";
    rc = kUsage;
    return std::nullopt;
  }
  return std::chrono::duration_cast<std::chrono::microseconds>(*d).count();
}

// `vigil chaos`: the options of the fault subcommands, turned into a control request.
struct ChaosOptions {
  std::string for_duration;  // --for
  std::string signal = "SIGKILL";
  bool group = false;
  std::string duty;    // --duty: "50%" or "0.5"
  std::string period;  // --period: "100ms"
  std::string loss;    // --loss: "20%" or "20"
  int cpus = 1;        // --cpus
  std::string size;    // --size: "200MiB"
  std::string expect;  // --expect: failure | none
};

std::optional<std::int64_t> chaos_milliseconds(const std::string& option, const std::string& text,
                                               std::int64_t min_ms, std::int64_t max_ms) {
  auto d = parse_duration(text);
  const auto ms = d ? std::chrono::duration_cast<std::chrono::milliseconds>(*d).count() : -1;
  if (!d || ms < min_ms || ms > max_ms) {
    std::cerr << "vigil: " << option << " '" << text << "' must be a duration from "
              << format_duration(std::chrono::milliseconds(min_ms)) << " to "
              << format_duration(std::chrono::milliseconds(max_ms)) << " (e.g. 3s, 500ms)\n";
    return std::nullopt;
  }
  return ms;
}

// "50%" or "0.5": the fraction of each period the process is stopped, strictly inside (0, 1).
std::optional<double> parse_duty(const std::string& text) {
  std::string number = text;
  double scale = 1.0;
  if (!number.empty() && number.back() == '%') {
    number.pop_back();
    scale = 100.0;
  }
  char* end = nullptr;
  const double v = std::strtod(number.c_str(), &end);
  if (number.empty() || end != number.c_str() + number.size() || !(v / scale > 0.0) ||
      !(v / scale < 1.0)) {
    return std::nullopt;
  }
  return v / scale;
}

// Builds the request for `fault` (any but list); nullopt after printing
// what is wrong with the options.
std::optional<json> chaos_request(const std::string& fault, const std::string& name,
                                  const ChaosOptions& o) {
  json request = {{"cmd", "chaos"}, {"fault", fault}, {"name", name}};
  if (!o.expect.empty()) {
    if (o.expect != "failure" && o.expect != "none") {
      std::cerr << "vigil: --expect '" << o.expect
                << "' must be failure (detected and recovered) or none (ridden out)\n";
      return std::nullopt;
    }
    request["expect"] = o.expect;
  }
  if (fault == "kill") {
    // By name, as vigild takes it: numbers differ between architectures.
    auto sig = o.signal.empty() || std::isdigit(static_cast<unsigned char>(o.signal[0])) != 0
                   ? std::nullopt
                   : parse_signal(o.signal);
    if (!sig) {
      std::cerr << "vigil: --signal '" << o.signal << "' is not a signal name such as SIGTERM\n";
      return std::nullopt;
    }
    request["signal"] = signal_name(*sig);
    if (o.group) request["group"] = true;
    return request;
  }
  auto duration = chaos_milliseconds("--for", o.for_duration, 1, api::kMaxChaosDuration.count());
  if (!duration) return std::nullopt;
  request["duration_ms"] = *duration;
  if (fault == "cpu_hog") {
    request["cpus"] = o.cpus;
    return request;
  }
  if (fault == "memory_hog") {
    auto bytes = parse_size(o.size);
    if (!bytes || *bytes == 0) {
      std::cerr << "vigil: --size '" << o.size << "' is not a size (e.g. 200MiB)\n";
      return std::nullopt;
    }
    request["bytes"] = *bytes;
    return request;
  }
  if (fault == "packet_loss") {
    std::string number = o.loss;
    if (!number.empty() && number.back() == '%') number.pop_back();
    char* end = nullptr;
    const double percent = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !(percent > 0.0) ||
        percent > 100.0) {
      std::cerr << "vigil: --loss '" << o.loss
                << "' must be a percentage above 0 and at most 100 (e.g. 20%)\n";
      return std::nullopt;
    }
    request["loss_percent"] = percent;
    return request;
  }
  if (fault != "slow") return request;
  if (!o.duty.empty()) {
    auto duty = parse_duty(o.duty);
    if (!duty) {
      std::cerr << "vigil: --duty '" << o.duty
                << "' must be a fraction of each period, e.g. 50% or 0.5 (more than 0, less "
                   "than 100%)\n";
      return std::nullopt;
    }
    request["duty"] = *duty;
  }
  if (!o.period.empty()) {
    auto period = chaos_milliseconds("--period", o.period, api::kMinChaosPeriod.count(),
                                     api::kMaxChaosPeriod.count());
    if (!period) return std::nullopt;
    request["period_ms"] = *period;
  }
  return request;
}

// One line per running fault, e.g. "#3 hang lidar (pid 4242): 2.1s left".
// Prints the report (Markdown) and writes it to `report_dir` (Markdown, JSON, HTML) if given:
// 0 when every target the run could show was met, 1 when one was not.
int print_report(const chaos::SoakReport& report, const std::string& report_dir) {
  const std::string markdown = report.to_markdown();
  std::cout << markdown;
  if (!report_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(report_dir, ec);
    std::ofstream md(report_dir + "/report.md");
    md << markdown;
    std::ofstream js(report_dir + "/report.json");
    js << report.to_json().dump(2) << "\n";
    std::ofstream html(report_dir + "/report.html");
    html << report.to_html();
    if (!md || !js || !html) {
      std::cerr << "vigil: cannot write the report in " << report_dir << "\n";
    }
  }
  for (const auto& t : report.targets) {
    if (t.met && !*t.met) return kFailed;
  }
  return kOk;
}

chaos::Request control_requester(const std::string& socket) {
  return [socket](const json& r) -> Result<json> {
    auto client = cli::ControlClient::connect(socket);
    if (!client) return make_error(client.error());
    if (auto sent = client->send(r); !sent) return make_error(sent.error());
    auto reply = client->receive();
    if (!reply) return make_error(reply.error());
    if (!reply->value("ok", false))
      return make_error(reply->value("error", std::string("refused")));
    return *reply;
  };
}

// `vigil chaos report --since 70m [--until 10m]`: the report of a past window of the log.
int report_chaos(const Target& target, const std::string& since_text, const std::string& until_text,
                 const std::string& report_dir) {
  auto since = parse_duration(since_text);
  auto until =
      until_text.empty() ? std::optional<Duration>(Duration{}) : parse_duration(until_text);
  if (!since || since->count() <= 0 || !until || until->count() < 0 || *until >= *since) {
    std::cerr << "vigil: --since and --until are durations before now, --since the longer "
                 "(e.g. --since 70m --until 5m)\n";
    return kUsage;
  }
  auto socket = find_socket(target);
  if (!socket) {
    std::cerr << "vigil: " << socket.error() << "\n";
    return kUsage;
  }
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto us = [](Duration d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  };
  auto report =
      chaos::report_window(now_us - us(*since), now_us - us(*until), control_requester(*socket));
  if (!report) {
    std::cerr << "vigil: " << report.error() << "\n";
    return kUnavailable;
  }
  return print_report(*report, report_dir);
}

// `vigil chaos run`: 0 when every target the run could show was met, 1 when one was not.
int run_chaos(const Target& target, const std::string& file, const std::string& duration_text,
              std::uint64_t seed, const std::string& report_dir) {
  std::ifstream in(file);
  if (!in) {
    std::cerr << "vigil: cannot read " << file << "\n";
    return kUsage;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = chaos::parse_scenario(text.str(), file);
  if (!parsed.scenario) {
    for (const auto& e : parsed.errors) std::cerr << e << "\n";
    return kInvalidConfig;
  }
  auto duration = parse_duration(duration_text);
  if (!duration || duration->count() <= 0) {
    std::cerr << "vigil: --duration: '" << duration_text << "' is not a duration (30s, 10m, 1h)\n";
    return kUsage;
  }
  auto socket = find_socket(target);
  if (!socket) {
    std::cerr << "vigil: " << socket.error() << "\n";
    return kUsage;
  }
  const chaos::Request request = control_requester(*socket);
  chaos::RunOptions options;
  options.duration = *duration;
  options.seed = seed;
  options.progress = [](const std::string& line) { std::cerr << "chaos: " << line << "\n"; };
  std::cerr << "chaos: " << format_duration(*duration) << " of faults from " << file << ", seed "
            << seed << "\n";
  auto result = chaos::run_soak(*parsed.scenario, options, request);
  if (!result) {
    std::cerr << "vigil: " << result.error() << "\n";
    return kUnavailable;
  }
  if (result->injections_refused + result->injections_skipped > 0) {
    std::cerr << "chaos: " << result->injections_refused << " injections refused by vigild, "
              << result->injections_skipped << " skipped (no eligible target when due)\n";
  }
  return print_report(result->report, report_dir);
}

void print_chaos_list(const json& faults) {
  if (faults.empty()) {
    std::cout << "no faults running\n";
    return;
  }
  for (const auto& f : faults) {
    std::cout << "#" << f.value("id", 0) << " " << f.value("fault", "") << " "
              << f.value("name", "") << " (pid " << f.value("pid", 0)
              << "): " << format_duration(std::chrono::milliseconds(f.value("remaining_ms", 0)))
              << " left\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vigil: inspect and command vigild"};
  app.require_subcommand(1);
  Target target;
  app.add_option("-c,--config", target.config, "vigild's config (to find its state_dir)");
  app.add_option("--socket", target.socket, "vigild's control socket")->envname("VIGIL_SOCKET");
  const cli::Style style{::isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr};
  int rc = kOk;

  bool json_out = false;
  auto* status = app.add_subcommand("status", "the supervision tree with each component's state");
  status->add_flag("--json", json_out, "machine-readable output");

  std::string name;
  auto* start = app.add_subcommand("start", "start a component or group");
  start->add_option("NAME", name)->required();
  auto* stop = app.add_subcommand("stop", "stop a component or group");
  stop->add_option("NAME", name)->required();
  auto* restart = app.add_subcommand("restart", "restart a component or group");
  restart->add_option("NAME", name)->required();

  std::string component;
  std::string since;
  bool follow = false;
  int limit = 100;
  auto* events = app.add_subcommand("events", "the event log");
  events->add_option("--component", component, "only this component or group");
  events->add_option("--since", since, "only the last DURATION (e.g. 10m, 2h)");
  events->add_option("-n,--limit", limit, "at most this many past events")
      ->check(CLI::Range(0, 100000));
  events->add_flag("-f,--follow", follow, "keep printing new events");
  events->add_flag("--json", json_out, "one JSON object per line");

  int lines = 50;
  auto* logs = app.add_subcommand("logs", "a component's captured output");
  logs->add_option("NAME", name)->required();
  logs->add_option("-n,--lines", lines, "how many past lines")->check(CLI::Range(0, 100000));
  logs->add_flag("-f,--follow", follow, "keep printing new output");

  auto* report = app.add_subcommand("report", "MTBF, MTTR, availability from the event log");
  report->add_option("--since", since, "the window (default: the whole log)");
  report->add_flag("--json", json_out, "machine-readable output");

  std::string approval_id;
  auto* approve =
      app.add_subcommand("approve", "let a recovery step that waits for approval go ahead");
  approve->add_option("ID", approval_id, "the approval's id (`vigil status` lists them)")
      ->required();
  auto* deny = app.add_subcommand("deny", "refuse a recovery step that waits for approval");
  deny->add_option("ID", approval_id, "the approval's id (`vigil status` lists them)")->required();

  auto* reload = app.add_subcommand("reload", "re-read the config; restart only what changed");
  auto* top = app.add_subcommand("top", "a live view of the components (q quits)");
  auto* token = app.add_subcommand("token", "print the HTTP API token (state_dir/token)");
  // Also after the subcommand name (`vigil top -c robot.yaml`), as these are often typed so.
  for (auto* sub : {top, token}) {
    sub->add_option("-c,--config", target.config, "vigild's config (to find its state_dir)");
    sub->add_option("--socket", target.socket, "vigild's control socket");
  }
  ChaosOptions chaos_options;
  auto* chaos = app.add_subcommand(
      "chaos", "inject a fault into a running component, to see it detected and recovered");
  chaos->require_subcommand(1);
  auto* chaos_kill = chaos->add_subcommand("kill", "send a signal to the component's process");
  chaos_kill->add_option("NAME", name, "the component")->required();
  chaos_kill->add_option("--signal", chaos_options.signal, "which signal (default SIGKILL)");
  chaos_kill->add_flag("--group", chaos_options.group, "to its whole process group");
  chaos_kill->add_option("--expect", chaos_options.expect,
                         "failure (default: detected and recovered) or none (to be ridden out)");
  auto* chaos_hang = chaos->add_subcommand(
      "hang", "stop the component's processes (SIGSTOP) for a while, then continue them");
  auto* chaos_slow = chaos->add_subcommand(
      "slow", "stop and continue the component's processes in a duty cycle for a while");
  auto* chaos_heartbeat_loss = chaos->add_subcommand(
      "heartbeat-loss", "drop the component's heartbeats in vigild for a while");
  auto* chaos_topic_dropout = chaos->add_subcommand(
      "topic-dropout", "drop the component's monitored topics in vigild for a while");
  auto* chaos_partition = chaos->add_subcommand(
      "partition", "drop every UDP datagram to or from the component's sockets for a while");
  auto* chaos_packet_loss = chaos->add_subcommand(
      "packet-loss", "drop a share of the UDP datagrams to or from the component's sockets");
  chaos_packet_loss->add_option("--loss", chaos_options.loss, "the share dropped: 20% or 20")
      ->required();
  auto* chaos_cpu_hog = chaos->add_subcommand(
      "cpu-hog", "spin CPUs in a helper counted in the component's process tree for a while");
  chaos_cpu_hog->add_option("--cpus", chaos_options.cpus, "spinning threads (default 1)")
      ->check(CLI::Range(1, 64));
  auto* chaos_memory_hog = chaos->add_subcommand(
      "memory-hog", "hold memory in a helper counted in the component's process tree");
  chaos_memory_hog->add_option("--size", chaos_options.size, "how much: 200MiB")->required();
  for (auto* sub : {chaos_hang, chaos_slow, chaos_heartbeat_loss, chaos_topic_dropout,
                    chaos_partition, chaos_packet_loss, chaos_cpu_hog, chaos_memory_hog}) {
    sub->add_option("NAME", name, "the component")->required();
    sub->add_option("--for", chaos_options.for_duration, "how long (e.g. 3s)")->required();
    sub->add_option("--expect", chaos_options.expect,
                    "failure (default: detected and recovered) or none (to be ridden out)");
  }
  chaos_slow->add_option("--duty", chaos_options.duty,
                         "the part of each period it is stopped: 50% or 0.5 (default 50%)");
  chaos_slow->add_option("--period", chaos_options.period,
                         "one stop/continue cycle (default 100ms)");
  auto* chaos_state_dir_full = chaos->add_subcommand(
      "state-dir-full", "make vigild's event log writes fail for a while, as on a full disk");
  chaos_state_dir_full->add_option("--for", chaos_options.for_duration, "how long (e.g. 30s)")
      ->required();
  auto* chaos_list = chaos->add_subcommand("list", "the faults still running");
  std::string scenario_file;
  std::string run_duration = "10m";
  std::uint64_t run_seed = 1;
  std::string report_dir;
  auto* chaos_run = chaos->add_subcommand(
      "run",
      "inject faults from a scenario file for a while, then report what was detected, "
      "recovered and missed");
  chaos_run->add_option("SCENARIO", scenario_file, "the scenario (YAML)")->required();
  chaos_run->add_option("--duration", run_duration, "how long to inject faults (default 10m)");
  chaos_run->add_option("--seed", run_seed, "the seed the faults are drawn from (default 1)");
  chaos_run->add_option("--report", report_dir,
                        "write report.md, report.json and report.html to this directory");
  std::string report_since;
  std::string report_until;
  auto* chaos_report = chaos->add_subcommand(
      "report", "the report of a past window of the event log (e.g. a run that was interrupted)");
  chaos_report->add_option("--since", report_since, "the window starts this long ago (e.g. 70m)")
      ->required();
  chaos_report->add_option("--until", report_until, "and ends this long ago (default: now)");
  chaos_report->add_option("--report", report_dir,
                           "write report.md, report.json and report.html to this directory");
  auto* shutdown = app.add_subcommand("shutdown", "stop everything and end vigild");
  std::string file;
  auto* validate = app.add_subcommand("validate", "check a config file without running it");
  validate->add_option("FILE", file)->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kOk : kUsage;
  }

  if (*validate) {
    auto loaded = config::load_config_file(file);
    if (!loaded.ok()) {
      std::cerr << loaded.format_errors();
      return kInvalidConfig;
    }
    int components = 0;
    config::for_each_component(loaded.spec->root, [&](const auto&) { ++components; });
    std::cout << file << ": ok (" << components << " components)\n";
    return kOk;
  }
  if (*token) return print_token(target);
  if (*top) {
    if (::isatty(STDOUT_FILENO) != 1 || ::isatty(STDIN_FILENO) != 1) {
      std::cerr << "vigil top: needs a terminal (stdin and stdout); for a one-shot view that can "
                   "be piped, use `vigil status`\n";
      return kNotATerminal;
    }
    auto socket = find_socket(target);
    if (!socket) {
      std::cerr << "vigil: " << socket.error() << "\n";
      return kUsage;
    }
    return cli::run_top(*socket);
  }
  if (*status) {
    auto r = ask(target, {{"cmd", "status"}}, rc);
    if (!r) return rc;
    if (json_out) {
      std::cout << r->reply.dump(2) << "\n";
    } else {
      std::cout << cli::format_status(r->reply["tree"], style, wall_clock_us());
      if (r->reply.contains("approvals")) {
        std::cout << cli::format_approvals(r->reply["approvals"], style, wall_clock_us());
      }
      if (r->reply.contains("host")) std::cout << cli::format_host(r->reply["host"], style);
      if (r->reply.contains("daemon")) std::cout << cli::format_daemon(r->reply["daemon"], style);
      if (r->reply.contains("mode")) std::cout << cli::format_mode(r->reply["mode"], style);
    }
    return kOk;
  }
  const std::pair<CLI::App*, const char*> commands[] = {
      {start, "start"}, {stop, "stop"}, {restart, "restart"}};
  for (const auto& [sub, cmd] : commands) {
    if (*sub) {
      auto r = ask(target, {{"cmd", cmd}, {"name", name}}, rc);
      if (!r) return rc;
      std::cout << cmd << " " << name << ": ok\n";
      return kOk;
    }
  }
  for (auto* sub : {approve, deny}) {
    if (!*sub) continue;
    const std::string cmd = sub == approve ? "approve" : "deny";
    auto r = ask(target, {{"cmd", cmd}, {"id", approval_id}}, rc);
    if (!r) return rc;
    std::cout << r->reply.value("message", cmd + " " + approval_id + ": ok") << "\n";
    return kOk;
  }
  if (*events) {
    auto since_us = parse_since(since, rc);
    if (!since_us) return rc;
    json request = {{"cmd", "events"}, {"limit", limit}, {"follow", follow}};
    if (!component.empty()) request["component"] = component;
    if (*since_us > 0) request["since_us"] = *since_us;
    auto r = ask(target, request, rc);
    if (!r) return rc;
    auto print = [&](const json& e) {
      std::cout << (json_out ? e.dump() : cli::format_event(e, style)) << std::endl;
    };
    for (const auto& e : r->reply["events"]) print(e);
    while (follow) {
      auto next = r->client->receive();
      if (!next) {
        std::cerr << "vigil: " << next.error() << "\n";
        return kUnavailable;
      }
      if (next->contains("event")) print((*next)["event"]);
    }
    return kOk;
  }
  if (*logs) {
    auto r =
        ask(target, {{"cmd", "logs"}, {"name", name}, {"limit", lines}, {"follow", follow}}, rc);
    if (!r) return rc;
    for (const auto& l : r->reply["lines"]) std::cout << l.get<std::string>() << "\n";
    std::cout << std::flush;
    while (follow) {
      auto next = r->client->receive();
      if (!next) {
        std::cerr << "vigil: " << next.error() << "\n";
        return kUnavailable;
      }
      if (next->contains("chunk")) std::cout << (*next)["chunk"].get<std::string>() << std::flush;
    }
    return kOk;
  }
  if (*report) {
    auto since_us = parse_since(since, rc);
    if (!since_us) return rc;
    json request = {{"cmd", "report"}};
    if (*since_us > 0) request["since_us"] = *since_us;
    auto r = ask(target, request, rc);
    if (!r) return rc;
    if (json_out)
      std::cout << r->reply["report"].dump(2) << "\n";
    else
      std::cout << r->reply.value("text", "");
    return kOk;
  }
  if (*reload) {
    auto r = ask(target, {{"cmd", "reload"}}, rc);
    if (!r) return rc;
    const auto& c = r->reply["changes"];
    std::cout << "reloaded: added " << c["added"].dump() << ", removed " << c["removed"].dump()
              << ", changed " << c["changed"].dump() << ", unchanged " << c["unchanged"].size()
              << "\n";
    return kOk;
  }
  if (*chaos) {
    if (*chaos_run) return run_chaos(target, scenario_file, run_duration, run_seed, report_dir);
    if (*chaos_report) return report_chaos(target, report_since, report_until, report_dir);
    if (*chaos_list) {
      auto r = ask(target, {{"cmd", "chaos"}, {"fault", "list"}}, rc);
      if (!r) return rc;
      print_chaos_list(r->reply["faults"]);
      return kOk;
    }
    if (*chaos_state_dir_full) {
      auto request = chaos_request("state_dir_full", "", chaos_options);
      if (!request) return kUsage;
      request->erase("name");
      auto r = ask(target, *request, rc);
      if (!r) return rc;
      std::cout << "injected state_dir_full #" << r->reply.value("id", 0) << ": vigild's event log "
                << "fails its writes for "
                << format_duration(
                       std::chrono::milliseconds((*request)["duration_ms"].get<std::int64_t>()))
                << "\n";
      return kOk;
    }
    const std::string fault = *chaos_kill            ? "kill"
                              : *chaos_hang          ? "hang"
                              : *chaos_slow          ? "slow"
                              : *chaos_partition     ? "partition"
                              : *chaos_packet_loss   ? "packet_loss"
                              : *chaos_cpu_hog       ? "cpu_hog"
                              : *chaos_memory_hog    ? "memory_hog"
                              : *chaos_topic_dropout ? "topic_dropout"
                                                     : "heartbeat_loss";
    auto request = chaos_request(fault, name, chaos_options);
    if (!request) return kUsage;
    auto r = ask(target, *request, rc);
    if (!r) return rc;
    const json& reply = r->reply;
    std::cout << "injected " << fault << " #" << reply.value("id", 0) << " into " << name
              << " (pid " << reply.value("pid", 0) << ")";
    if (fault == "kill") {
      std::cout << ": " << (*request)["signal"].get<std::string>()
                << (chaos_options.group ? " to its group" : "");
    } else {
      std::cout << " for "
                << format_duration(
                       std::chrono::milliseconds((*request)["duration_ms"].get<std::int64_t>()));
    }
    std::cout << "\n";
    return kOk;
  }
  if (*shutdown) {
    auto r = ask(target, {{"cmd", "shutdown"}}, rc);
    if (!r) return rc;
    std::cout << "vigild is stopping everything\n";
    return kOk;
  }
  return kUsage;
}
