#include "daemon/daemon.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>

#include "alerts/alert_router.hpp"
#include "api/control_server.hpp"
#include "common/asio_scheduler.hpp"
#include "common/units.hpp"
#include "config/loader.hpp"
#include "config/state_dir.hpp"
#include "daemon/asio_prober.hpp"
#include "daemon/fault_injector.hpp"
#include "daemon/hardware_watchdog.hpp"
#include "daemon/mode_controller.hpp"
#include "daemon/pidfd_runner.hpp"
#include "daemon/resource_watcher.hpp"
#include "daemon/topic_watcher.hpp"
#include "dds/bond_watch.hpp"
#include "dds/dds_bridge.hpp"
#include "dds/topic_taps.hpp"
#include "diagnostics/event_log.hpp"
#include "diagnostics/report.hpp"
#include "health/event_bus.hpp"
#include "history/metric_history.hpp"
#include "history/tick_recorder.hpp"
#include "http/event_stream.hpp"
#include "http/http_server.hpp"
#include "metrics/metrics_registry.hpp"
#include "process/leftovers.hpp"
#include "process/proc_stat.hpp"
#include "process/spawn.hpp"
#include "supervisor/supervisor.hpp"
#include "watchdog/notify_socket.hpp"

namespace vigil::daemon {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Streams committed events to one control client (`vigil events --follow`).
// Calls a function for each committed event.
class CallbackSink final : public health::EventSink {
 public:
  explicit CallbackSink(std::function<void(const health::Event&)> f) : f_(std::move(f)) {}
  void on_event(const health::Event& e) override { f_(e); }

 private:
  std::function<void(const health::Event&)> f_;
};

class FollowSink final : public health::EventSink {
 public:
  FollowSink(std::weak_ptr<api::Session> session, std::string component)
      : session_(std::move(session)), component_(std::move(component)) {}
  void on_event(const health::Event& e) override {
    if (!component_.empty() && e.component != component_) return;
    if (auto s = session_.lock()) s->send(json{{"event", e.to_json()}});
  }

 private:
  std::weak_ptr<api::Session> session_;
  std::string component_;
};

// "vigil_chaos_<state_dir_tag>_": the nftables tables of this vigild's network
// faults, apart from those of another vigild on the host, and the same after a restart.
std::string network_table_prefix(const std::string& state_dir) {
  return "vigil_chaos_" + config::state_dir_tag(state_dir) + "_";
}

// Holds an exclusive lock on state_dir/vigild.lock for vigild's lifetime: two daemons on one
// state_dir would fight over the same processes.
class InstanceLock {
 public:
  Result<void> acquire(const std::string& path) {
    fd_.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd_.valid()) return make_error(fmt::format("open {}: {}", path, std::strerror(errno)));
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
      return make_error(
          fmt::format("another vigild is already running on this state_dir ({})", path));
    }
    return {};
  }

 private:
  UniqueFd fd_;
};

class Daemon final : public http::ApiBackend {
 public:
  Daemon(const config::SystemSpec& spec, DaemonOptions options)
      : spec_(spec),
        options_(std::move(options)),
        scheduler_(io_),
        signals_(io_),
        prune_timer_(scheduler_),
        self_watchdog_(scheduler_),
        drain_timer_(scheduler_),
        dds_timer_(scheduler_) {}

  int run() {
    if (auto why = config::state_dir_unwritable(spec_.state_dir); !why.empty()) {
      // A read-only root file system or a full disk must not keep the robot's software from
      // running: supervise from a directory under /run instead, and say so.
      configured_state_dir_ = spec_.state_dir;
      state_dir_problem_ = why;
      spec_.state_dir = config::fallback_state_dir(spec_.state_dir);
      spdlog::critical(
          "state_dir {} cannot be written ({}); running from {} instead: events, logs and "
          "metric history kept there do not survive a reboot",
          configured_state_dir_, why, spec_.state_dir);
    }
    if (auto r = prepare_state_dir(); !r) {
      spdlog::critical("{}", r.error());
      return kExitSystem;
    }
    process::become_subreaper();
    process::raise_fd_limit();
    ::signal(SIGPIPE, SIG_IGN);

    auto log = diagnostics::EventLog::open(spec_.state_dir + "/events.db", spec_.event_log);
    if (!log) {
      spdlog::critical("{}", log.error());
      return kExitSystem;
    }
    event_log_ = std::move(*log);
    boot_id_ = diagnostics::read_boot_id();
    bus_ = std::make_unique<health::EventBus>(scheduler_, *event_log_, boot_id_);
    bus_->on_store_health([this](const health::StoreHealth& h) { event_log_health_changed(h); });
    // Counts every committed event from the first one on (daemon_started included).
    metrics_ = std::make_unique<metrics::MetricsRegistry>();
    bus_->subscribe(metrics_.get());

    runner_ = std::make_unique<PidfdRunner>(
        io_,
        RunnerOptions{spec_.state_dir + "/logs", spec_.state_dir + "/run",
                      spec_.state_dir + "/notify.sock", spec_.state_dir + "/mode"},
        [this](const std::string& component, pid_t pid, const process::ExitStatus& status) {
          on_orphan(component, pid, status);
        });
    prober_ = std::make_unique<AsioProber>(io_, *runner_);
    std::random_device seed;
    rng_.seed(seed());
    supervisor_ = std::make_unique<supervisor::Supervisor>(
        spec_, supervisor::Dependencies{
                   *runner_, *prober_, scheduler_,
                   [this](health::Event e) { bus_->publish(std::move(e)); },
                   [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); },
                   [this] {
                     if (notify_) notify_->drain();
                   },
                   [this](const std::string& mode, const std::string& by, bool on) {
                     if (modes_) modes_->force(mode, by, on);
                   }});

    faults_ = std::make_unique<FaultInjector>(FaultInjector::Dependencies{
        scheduler_, *supervisor_, *runner_,
        [this](health::Event e) { bus_->publish(std::move(e)); },
        network_table_prefix(spec_.state_dir),
        [this](const std::string& component, pid_t helper, bool on) {
          if (!resources_) return;
          if (on) {
            resources_->attach(component, helper);
          } else {
            resources_->detach(helper);
          }
        },
        [this](const std::string& component, std::optional<TimePoint> until) {
          if (!topic_watcher_) return false;
          if (!until) {
            topic_watcher_->unmute(component);
            return true;
          }
          return topic_watcher_->mute(component, *until);
        },
        [this](bool full) {
          // Written now: the injection's own event before the log fills, the held events as
          // soon as it has room again.
          if (full) bus_->flush();
          event_log_->simulate_full_disk(full);
          if (!full) bus_->flush();
        }});
    resources_ =
        std::make_unique<ResourceWatcher>(scheduler_, *supervisor_, *runner_, spec_,
                                          [this](health::Event e) { bus_->publish(std::move(e)); });
    if (spec_.alerts.any()) start_alerts();
    open_history();

    raise_datagram_queue();
    auto notify =
        watchdog::NotifySocket::bind(io_, spec_.state_dir + "/notify.sock",
                                     [this](pid_t sender, const watchdog::NotifyMessage& m,
                                            TimePoint arrival) { on_notify(sender, m, arrival); });
    if (!notify) {
      spdlog::critical("{}", notify.error());
      return kExitSystem;
    }
    notify_ = std::move(*notify);
    auto control = api::ControlServer::listen(
        io_, spec_.state_dir + "/control.sock",
        [this](const api::Request& r, api::Session& s) { return handle(r, s); });
    if (!control) {
      spdlog::critical("{}", control.error());
      return kExitSystem;
    }
    control_ = std::move(*control);
    start_http();
    start_dds();

    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    signals_.add(SIGHUP);
    wait_signal();

    publish_daemon_event(health::EventKind::daemon_started,
                         fmt::format("vigild {} started with {}", ::getpid(), spec_.source_file),
                         {{"pid", ::getpid()}, {"config", spec_.source_file}});
    if (!configured_state_dir_.empty()) {
      publish_daemon_event(
          health::EventKind::warning,
          fmt::format("state_dir {} cannot be written ({}); running from {}: what is kept there "
                      "does not survive a reboot",
                      configured_state_dir_, state_dir_problem_, spec_.state_dir),
          {{"source", "state_dir"},
           {"configured", configured_state_dir_},
           {"error", state_dir_problem_},
           {"running_from", spec_.state_dir}});
    }
    std::vector<supervisor::ProcessRecord> previous;
    for (const auto& row : event_log_->processes()) {
      if (row.boot_id == boot_id_)
        previous.push_back({row.component, row.pid, row.start_time, row.fingerprint});
    }
    // Processes a previous vigild started but was killed before recording (fork, then kill -9
    // before the commit): adopted too, so that no component ever runs twice.
    for (const auto& leftover : process::find_leftovers(spec_.state_dir + "/notify.sock")) {
      const bool recorded = std::any_of(previous.begin(), previous.end(), [&](const auto& r) {
        return r.pid == leftover.pid && r.start_time == leftover.start_time;
      });
      if (recorded) continue;
      spdlog::warn("found pid {} of component '{}' that no vigild recorded: adopting it",
                   leftover.pid, leftover.component);
      previous.push_back({leftover.component, leftover.pid, leftover.start_time, ""});
    }
    supervisor_->start(previous);
    resources_->start();
    start_modes();
    start_hardware_watchdog();
    schedule_prune();
    tell_systemd_ready();
    spdlog::info("vigild running: {} (state in {})", spec_.source_file, spec_.state_dir);
    io_.run();
    bus_->flush();
    // Alerts still queued get a moment to go out; a dead endpoint does not hold up the exit.
    if (alerts_) alerts_->stop(std::chrono::milliseconds(1500));
    stop_http();
    return exit_code_;
  }

 private:
  Result<void> prepare_state_dir() {
    std::error_code ec;
    fs::create_directories(spec_.state_dir + "/logs", ec);
    if (ec) {
      return make_error(fmt::format("create state_dir {}: {}", spec_.state_dir, ec.message()));
    }
    ::chmod(spec_.state_dir.c_str(), 0700);
    return lock_.acquire(spec_.state_dir + "/vigild.lock");
  }

  // The kernel queues at most net.unix.max_dgram_qlen datagrams on a Unix socket (10 by
  // default); beyond that, senders block. Hundreds of components heartbeating then stall on
  // a busy vigild. systemd raises it to 512 for its own notify socket (sysctl.d/50-default);
  // vigild does the same when it may, before creating its socket.
  static void raise_datagram_queue() {
    constexpr int kWanted = 512;
    const char* path = "/proc/sys/net/unix/max_dgram_qlen";
    int current = 0;
    if (FILE* f = std::fopen(path, "r")) {
      if (std::fscanf(f, "%d", &current) != 1) current = 0;
      std::fclose(f);
    }
    if (current <= 0 || current >= kWanted) return;
    if (FILE* f = std::fopen(path, "w")) {
      std::fprintf(f, "%d\n", kWanted);
      const bool ok = std::fclose(f) == 0;
      if (ok) {
        spdlog::info("raised net.unix.max_dgram_qlen from {} to {} for the notify socket", current,
                     kWanted);
        return;
      }
    }
    spdlog::warn(
        "net.unix.max_dgram_qlen is {}: with many components heartbeating, senders may "
        "block; set it to {} (as systemd does)",
        current, kWanted);
  }

  // The hardware watchdog, kept alive while the required components are healthy. A device
  // that cannot be opened leaves vigild supervising, loudly.
  void start_hardware_watchdog() {
    if (spec_.hardware_watchdog.device.empty()) return;
    hw_watchdog_ = std::make_unique<HardwareWatchdog>(
        scheduler_, *supervisor_, spec_.hardware_watchdog,
        [this](bool healthy, const std::string& reason) {
          publish_daemon_event(
              healthy ? health::EventKind::warning_cleared : health::EventKind::warning, reason,
              {{"source", "hardware_watchdog"}, {"device", spec_.hardware_watchdog.device}});
        });
    if (auto started = hw_watchdog_->start(); !started) {
      spdlog::critical("{}: the machine will not be reset if vigild hangs", started.error());
      publish_daemon_event(
          health::EventKind::warning, started.error() + "; not armed",
          {{"source", "hardware_watchdog"}, {"device", spec_.hardware_watchdog.device}});
    }
  }

  void publish_daemon_event(health::EventKind kind, std::string reason, json detail,
                            std::string component = {}) {
    health::Event e;
    e.component = std::move(component);
    e.wall_us = scheduler_.wall_now_us();
    e.mono_us =
        std::chrono::duration_cast<std::chrono::microseconds>(scheduler_.now().time_since_epoch())
            .count();
    e.kind = kind;
    e.reason = std::move(reason);
    e.detail = std::move(detail);
    bus_->publish(std::move(e));
  }

  void wait_signal() {
    signals_.async_wait([this](const std::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        auto r = reload();
        if (!r.value("ok", false)) spdlog::error("reload failed: {}", r.value("error", ""));
      } else {
        begin_shutdown(fmt::format("received {}", signal_name(sig)));
      }
      wait_signal();
    });
  }

  void begin_shutdown(const std::string& why) {
    if (shutting_down_) return;
    shutting_down_ = true;
    spdlog::info("shutting down: {}", why);
    ::sd_notify(0, "STOPPING=1");
    publish_daemon_event(health::EventKind::daemon_stopping, fmt::format("shutting down: {}", why),
                         {{"why", why}});
    // Stopped (SIGSTOP) processes are continued first: they would not see their SIGTERM.
    faults_->clear_all("vigild is shutting down");
    resources_->stop();
    if (topic_watcher_) topic_watcher_->stop();
    if (modes_) modes_->stop();
    // An operator stopping vigild is not a robot in trouble: no reset while components stop.
    if (hw_watchdog_) hw_watchdog_->disarm();
    dds_timer_.cancel();
    supervisor_->shutdown([this] {
      bus_->flush();
      signals_.cancel();
      prune_timer_.cancel();
      self_watchdog_.cancel();
      // Followers get the last events; a client that does not read gets 2 s.
      drain_timer_.arm_after(std::chrono::seconds(2), [this] { io_.stop(); });
      if (stream_) stream_->close_all();  // after the last events were sent to it
      control_->drain([this] { scheduler_.post([this] { io_.stop(); }); });
    });
  }

  // Attributes a datagram by the kernel-checked sender pid: the main process itself, any
  // process in the component's session, or a descendant of the main process (found through
  // /proc). Anyone else is dropped and counted.
  // Returns the main pid of the component the message was attributed to, or 0.
  pid_t on_notify(pid_t sender, const watchdog::NotifyMessage& m, TimePoint arrival) {
    // The main process: the common case.
    if (supervisor_->on_notify_from(sender, m, arrival)) return sender;
    // A helper process of a component: its session, or an ancestor that is a main process.
    auto st = process::read_proc_stat(sender);
    if (!st) {
      // The sender has exited since (a heartbeat queued just before a crash): nothing to
      // attribute, and nothing foreign either.
      ++notify_late_;
      return 0;
    }
    if (supervisor_->on_notify_from(st->session, m, arrival)) return st->session;
    for (int depth = 0; st && st->ppid > 1 && depth < 32; ++depth) {
      if (supervisor_->on_notify_from(st->ppid, m, arrival)) return st->ppid;
      st = process::read_proc_stat(st->ppid);
    }
    ++notify_dropped_;
    const auto now = scheduler_.now();
    if (now - last_drop_log_ > std::chrono::seconds(10)) {
      last_drop_log_ = now;
      spdlog::warn(
          "dropped notify datagram from pid {}: not part of any component ({} dropped "
          "so far)",
          sender, notify_dropped_);
    }
    return 0;
  }

  void on_orphan(const std::string& component, pid_t pid, const process::ExitStatus& status) {
    publish_daemon_event(health::EventKind::orphan_reaped,
                         fmt::format("reaped orphaned descendant pid {}{}: {}", pid,
                                     component.empty() ? " (unattributed)" : "", status.describe()),
                         {{"orphan_pid", pid}, {"status", status.describe()}}, component);
  }

  std::string effective_state_dir() const {
    return configured_state_dir_.empty() ? spec_.state_dir
                                         : config::fallback_state_dir(configured_state_dir_);
  }

  json reload() {
    auto loaded = config::load_config_file(options_.config_path);
    if (!loaded.ok()) {
      return api::error_response("config has errors; nothing changed:\n" + loaded.format_errors());
    }
    const std::string configured =
        configured_state_dir_.empty() ? spec_.state_dir : configured_state_dir_;
    if (loaded.spec->state_dir != configured) {
      return api::error_response(
          fmt::format("state_dir changed ({} -> {}); that needs a vigild restart; nothing changed",
                      configured, loaded.spec->state_dir));
    }
    spec_ = *loaded.spec;
    spec_.state_dir = effective_state_dir();
    auto changes = supervisor_->reload(spec_);
    resources_->reconfigure(spec_);
    if (topic_watcher_) topic_watcher_->reconcile(spec_);
    if (modes_) modes_->reconfigure(spec_);
    reconfigure_alerts();
    return api::ok_response({{"changes", changes}});
  }

  // Alerts (src/alerts): an EventSink on the bus; its HTTP targets post from worker threads,
  // its exec hook is spawned and reaped here through the runner.
  void start_alerts() {
    alerts_ = std::make_unique<alerts::AlertRouter>(
        alerts::Environment{scheduler_,
                            [this](std::function<void()> fn) { asio::post(io_, std::move(fn)); },
                            alerts::make_process_launcher(scheduler_, *runner_)},
        spec_);
    bus_->subscribe(alerts_.get());
  }

  void reconfigure_alerts() {
    if (alerts_ && !spec_.alerts.any()) {
      bus_->unsubscribe(alerts_.get());
      alerts_->stop(std::chrono::milliseconds(0));
      alerts_.reset();
    } else if (alerts_) {
      alerts_->reconfigure(spec_);  // new targets only if the alerts section changed
    } else if (spec_.alerts.any()) {
      start_alerts();
    }
  }

  // Adds each running component's last resource sample to its node of the status tree.
  json with_resources(json node) const {
    if (node.value("type", "") == "component") {
      auto sample = resources_->resources_of(node.value("name", ""));
      if (!sample.is_null()) node["resources"] = std::move(sample);
      if (topic_watcher_) {
        auto topics = topic_watcher_->topics_of(node.value("name", ""));
        if (!topics.is_null()) node["topics"] = std::move(topics);
      }
      return node;
    }
    for (auto& child : node["children"]) child = with_resources(std::move(child));
    return node;
  }

  std::optional<json> handle(const api::Request& r, api::Session& session) {
    using api::Command;
    switch (r.command) {
      case Command::ping:
        return api::ok_response({{"pid", ::getpid()}});
      case Command::status:
        return api::ok_response(status_json());
      case Command::start:
      case Command::stop:
      case Command::restart: {
        if (shutting_down_) return api::error_response("vigild is shutting down");
        auto result = r.command == Command::start  ? supervisor_->start_node(r.name)
                      : r.command == Command::stop ? supervisor_->stop_node(r.name)
                                                   : supervisor_->restart_node(r.name);
        if (!result) return api::error_response(result.error());
        return api::ok_response({{"name", r.name}});
      }
      case Command::events: {
        bus_->flush();
        diagnostics::EventQuery q;
        q.component = r.component;
        q.after_id = r.after_id;
        q.limit = r.limit;
        if (r.since_us > 0) q.since_wall_us = scheduler_.wall_now_us() - r.since_us;
        json events = json::array();
        for (const auto& e : event_log_->query(q)) events.push_back(e.to_json());
        if (!r.follow) return api::ok_response({{"events", events}});
        session.send(api::ok_response({{"events", events}, {"follow", true}}));
        session.streaming = true;
        auto sink = std::make_shared<FollowSink>(session.weak_from_this(), r.component);
        bus_->subscribe(sink.get());
        session.on_close([this, sink] { bus_->unsubscribe(sink.get()); });
        return std::nullopt;
      }
      case Command::logs: {
        if (!supervisor_->is_component(r.name)) {
          return api::error_response(fmt::format("no component named '{}'", r.name));
        }
        auto* output = runner_->output(r.name);
        json lines = output != nullptr ? json(output->tail(static_cast<std::size_t>(r.limit)))
                                       : json::array();
        json reply = {{"lines", lines}};
        if (output != nullptr) reply["file"] = output->path();
        if (!r.follow) return api::ok_response(reply);
        if (output == nullptr) {
          return api::error_response(fmt::format("'{}' has not run yet", r.name));
        }
        reply["follow"] = true;
        session.send(api::ok_response(reply));
        session.streaming = true;
        std::weak_ptr<api::Session> weak = session.weak_from_this();
        const int id = output->subscribe([weak](std::string_view chunk) {
          if (auto s = weak.lock()) s->send(json{{"chunk", std::string(chunk)}});
        });
        const std::string name = r.name;
        session.on_close([this, name, id] {
          if (auto* o = runner_->output(name)) o->unsubscribe(id);
        });
        return std::nullopt;
      }
      case Command::report:
        return api::ok_response(report(r.since_us));
      case Command::reload: {
        if (shutting_down_) return api::error_response("vigild is shutting down");
        return reload();
      }
      case Command::history: {
        auto reply = history_query(r.component, r.series, r.since_us, r.max_points);
        if (!reply) return api::error_response(reply.error());
        return api::ok_response(std::move(*reply));
      }
      case Command::approve:
      case Command::deny: {
        if (shutting_down_) return api::error_response("vigild is shutting down");
        const bool approve = r.command == Command::approve;
        auto decided = supervisor_->decide(r.id, approve, {{"via", "cli"}});
        if (!decided) return api::error_response(decided.error());
        return api::ok_response(
            {{"id", r.id}, {"decision", approve ? "approved" : "denied"}, {"message", *decided}});
      }
      case Command::chaos: {
        if (r.chaos.fault == api::ChaosFault::list) {
          return api::ok_response({{"faults", faults_->active()}});
        }
        if (shutting_down_) return api::error_response("vigild is shutting down");
        auto injected = faults_->inject(r.name, r.chaos);
        if (!injected) return api::error_response(injected.error());
        return api::ok_response(std::move(*injected));
      }
      case Command::shutdown:
        scheduler_.post([this] { begin_shutdown("operator requested shutdown"); });
        return api::ok_response({{"stopping", true}});
    }
    return api::error_response("unhandled command");
  }

  // The state directory is full or read-only (or the disk failed): supervision goes on, the
  // events are held in memory, and everyone is told: the journal (critical), the event stream
  // and the log once it is writable again, systemd's status line, /metrics and the status.
  void event_log_health_changed(const health::StoreHealth& h) {
    const std::string path = spec_.state_dir + "/events.db";
    if (!h.writable) {
      auto reason = fmt::format(
          "event log {} not writable: {}; supervision goes on, events are held in memory (up "
          "to {}) until it is",
          path, h.error, health::EventBus::kDefaultMaxHeld);
      spdlog::critical("{}", reason);
      ::sd_notify(0, fmt::format("STATUS=EVENT LOG NOT WRITABLE: {}", h.error).c_str());
      publish_daemon_event(health::EventKind::warning, std::move(reason),
                           {{"source", "event_log"}, {"error", h.error}, {"path", path}});
      return;
    }
    auto reason = fmt::format(
        "event log writable again: {} events held in memory written{}", h.written_late,
        h.dropped > 0 ? fmt::format(", {} lost past the bound", h.dropped) : std::string());
    spdlog::warn("{}", reason);
    ::sd_notify(0, fmt::format("STATUS=supervising {}", spec_.source_file).c_str());
    publish_daemon_event(
        health::EventKind::warning_cleared, std::move(reason),
        {{"source", "event_log"}, {"written_late", h.written_late}, {"dropped_events", h.dropped}});
  }

  json status_json() const {
    json daemon = {{"pid", ::getpid()},
                   {"config", spec_.source_file},
                   {"state_dir", spec_.state_dir},
                   {"started_us", started_us_},
                   {"shutting_down", shutting_down_},
                   {"notify_received", notify_->received()},
                   {"notify_dropped", notify_dropped_},
                   {"notify_late", notify_late_},
                   {"event_log_write_errors", event_log_->write_errors()}};
    if (!configured_state_dir_.empty()) {
      daemon["state_dir_fallback"] = {{"configured", configured_state_dir_},
                                      {"error", state_dir_problem_}};
    }
    const auto& log_health = bus_->store_health();
    daemon["event_log"] = {{"writable", log_health.writable},
                           {"held_events", log_health.held},
                           {"dropped_events", log_health.dropped}};
    if (!log_health.writable) {
      daemon["event_log"]["error"] = log_health.error;
      daemon["event_log"]["failing_since_us"] = log_health.failing_since_us;
    }
    if (dds_) {
      daemon["dds"] = {{"domain", spec_.dds.domain},
                       {"write_errors", dds_write_errors_},
                       {"heartbeats", dds_heartbeats_.load()},
                       {"liveliness_lost", dds_liveliness_lost_}};
    } else if (!dds_error_.empty()) {
      daemon["dds"] = {{"error", dds_error_}};
    }
    if (bond_watch_) {
      daemon["dds"]["bonds"] = {{"messages", bond_messages_},
                                {"beats", bond_beats_},
                                {"foreign", bond_foreign_},
                                {"broken", bond_broken_}};
    }
    if (hw_watchdog_) daemon["hardware_watchdog"] = hw_watchdog_->status();
    if (http_) {
      daemon["http"] = {{"url", http_->url()},
                        {"streams", stream_->clients()},
                        {"slow_streams_dropped", stream_->dropped_slow_clients()}};
    } else if (!http_error_.empty()) {
      daemon["http"] = {{"error", http_error_}};
    }
    json out = {{"tree", with_resources(supervisor_->status())},
                {"host", resources_->host_node()},
                {"daemon", std::move(daemon)}};
    if (modes_) out["mode"] = modes_->status();
    out["approvals"] = supervisor_->approvals();
    out["chaos"] = faults_->active();
    return out;
  }

  // ---- DDS: ROS 2 /diagnostics ----

  // A participant that cannot be created leaves vigild supervising without DDS.
  void start_dds() {
    if (!spec_.dds.enabled) return;
    auto bridge = dds::DdsBridge::create(spec_.dds);
    if (!bridge) {
      dds_error_ = bridge.error();
      spdlog::error("{}; vigild keeps supervising without DDS", dds_error_);
      return;
    }
    dds_ = std::move(*bridge);
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    hostname_ = host;
    // On every change of state or level, at most once per loop turn; and periodically.
    dds_changes_ = std::make_unique<CallbackSink>([this](const health::Event& e) {
      if (e.state.empty() && e.kind != health::EventKind::warning &&
          e.kind != health::EventKind::warning_cleared) {
        return;
      }
      if (diagnostics_posted_) return;
      diagnostics_posted_ = true;
      scheduler_.post([this] {
        diagnostics_posted_ = false;
        publish_diagnostics();
      });
    });
    bus_->subscribe(dds_changes_.get());
    publish_diagnostics_periodically();
    // Heartbeats over DDS count exactly like WATCHDOG=1 from the writer's process, with the
    // same attribution (its own process, its session, or a descendant of its main process).
    auto heartbeats = dds_->start_heartbeats(
        [this](dds_instance_handle_t writer, pid_t writer_pid) {
          const TimePoint arrival = MonoClock::now();  // on a Cyclone thread: no loop state
          asio::post(io_, [this, writer, writer_pid, arrival] {
            watchdog::NotifyMessage beat;
            beat.watchdog_ping = true;
            ++dds_heartbeats_;
            const pid_t main_pid = on_notify(writer_pid, beat, arrival);
            if (main_pid != 0) remember_heartbeat_writer(writer, writer_pid, main_pid);
          });
        },
        [this](dds_instance_handle_t writer, dds_duration_t lease) {
          const TimePoint lost = MonoClock::now();
          asio::post(
              io_, [this, writer, lease, lost] { on_heartbeat_writer_lost(writer, lease, lost); });
        });
    if (!heartbeats) spdlog::error("{}", heartbeats.error());
    start_bond_watch();
    start_topic_monitors();
    spdlog::info("dds: publishing /diagnostics on domain {}", spec_.dds.domain);
  }

  // ---- System modes (modes:): rules over health, published to components ----

  void start_modes() {
    ModeController::Outputs outputs;
    outputs.emit = [this](health::Event e) { bus_->publish(std::move(e)); };
    outputs.announce = [this](const ModeAnnouncement& a) {
      if (!dds_) return;
      dds::SystemMode m{static_cast<std::int32_t>(a.since_wall_us / 1'000'000),
                        static_cast<std::uint32_t>((a.since_wall_us % 1'000'000) * 1000),
                        a.mode,
                        a.reason,
                        {a.values.begin(), a.values.end()}};
      if (auto r = dds_->publish(m); !r) spdlog::error("{}", r.error());
    };
    outputs.run_hook = [this](const std::string& mode, const std::vector<std::string>& argv,
                              const std::string& reason) {
      resources::MonitorOutcome o;
      o.source = "mode:" + mode;
      o.to = detection::MonitorLevel::warn;
      o.reason = reason;
      o.hook = argv;
      o.action = config::MonitorAction::hook;
      resources_->run_hook("system", o, reason);
    };
    modes_ = std::make_unique<ModeController>(scheduler_, *supervisor_, spec_,
                                              spec_.state_dir + "/mode", std::move(outputs));
    // Every change of a component's state or level may change which rule holds.
    mode_inputs_ = std::make_unique<CallbackSink>([this](const health::Event& e) {
      if (e.kind == health::EventKind::mode_changed) return;
      if (e.state.empty() && e.kind != health::EventKind::warning &&
          e.kind != health::EventKind::warning_cleared) {
        return;
      }
      modes_->on_health_changed();
    });
    bus_->subscribe(mode_inputs_.get());
    // The robot has started when nothing is in its first start; at the latest after the
    // longest start_timeout (and the backoff of a first failure).
    Duration settle = std::chrono::seconds(5);
    config::for_each_component(spec_.root, [&](const config::ComponentSpec& c) {
      settle = std::max(settle, c.start_timeout + c.backoff.initial);
    });
    modes_->start(settle);
  }

  // ---- DDS heartbeat writers whose liveliness lease expires ----

  struct HeartbeatWriter {
    std::string component;
    pid_t writer_pid = 0;
    pid_t main_pid = 0;
  };

  // Only writers whose beats were accepted for a component can fail it when they go silent:
  // a stranger claiming a component's name cannot fake its hang. The writer's process may be
  // gone by the time its lease expires (kill -9), so it is attributed while it is alive.
  void remember_heartbeat_writer(dds_instance_handle_t writer, pid_t writer_pid, pid_t main_pid) {
    auto& w = heartbeat_writers_[writer];
    if (w.main_pid == main_pid && w.writer_pid == writer_pid) return;
    if (heartbeat_writers_.size() > 4096) {
      heartbeat_writers_.clear();  // writers come and go with restarts; stay small
    }
    heartbeat_writers_[writer] = {supervisor_->component_of(main_pid), writer_pid, main_pid};
  }

  void on_heartbeat_writer_lost(dds_instance_handle_t writer, dds_duration_t lease,
                                TimePoint lost) {
    auto it = heartbeat_writers_.find(writer);
    if (it == heartbeat_writers_.end() || it->second.component.empty()) return;
    const HeartbeatWriter w = it->second;
    heartbeat_writers_.erase(it);
    ++dds_liveliness_lost_;
    const double lease_ms = lease == DDS_INFINITY ? -1 : static_cast<double>(lease) / 1e6;
    const double late_ms =
        std::chrono::duration<double, std::milli>(MonoClock::now() - lost).count();
    supervisor_->report_hang(
        w.component, w.main_pid,
        fmt::format("hang: DDS liveliness lost: the heartbeat writer in pid {} was silent for its "
                    "lease ({}ms)",
                    w.writer_pid, lease_ms),
        {{"source", "dds_liveliness"},
         {"writer_pid", w.writer_pid},
         {"lease_ms", lease_ms},
         {"loop_delay_ms", late_ms}});
  }

  // ---- Topic monitors (monitors: [{topic: ...}]): sensor dropout by configuration ----

  void start_topic_monitors() {
    auto taps = dds::TopicTaps::create(dds_->participant(), [this] {
      // On a Cyclone thread: the loop subscribes.
      asio::post(io_, [this] {
        if (topic_watcher_) topic_watcher_->on_discovery();
      });
    });
    if (!taps) {
      spdlog::error("{}; topic monitors are off", taps.error());
      return;
    }
    topic_taps_ = std::move(*taps);
    topic_watcher_ = std::make_unique<TopicWatcher>(
        scheduler_, *supervisor_, *topic_taps_,
        [this](const std::string& component, const resources::MonitorOutcome& outcome) {
          resources_->run_hook(component, outcome, outcome.reason);
        });
    topic_watcher_->start(spec_);
  }

  // ---- Nav2 bonds (watchdog.bond): a component's bond/msg/Status as its heartbeat ----

  // Bond topics are read as the config was at start (a topic added by a reload is not).
  void start_bond_watch() {
    std::set<std::string> topics;
    config::for_each_component(spec_.root, [&](const config::ComponentSpec& c) {
      if (c.watchdog.bond) topics.insert(c.watchdog.bond->topic);
    });
    if (topics.empty()) return;
    auto watch =
        dds::BondWatch::create(dds_->participant(), topics, [this](const dds::BondStatus& status) {
          const TimePoint arrival = MonoClock::now();  // on a Cyclone thread: no loop state
          asio::post(io_, [this, status, arrival] { on_bond_status(status, arrival); });
        });
    if (!watch) {
      spdlog::error("{}; bonds are not watched", watch.error());
      return;
    }
    bond_watch_ = std::move(*watch);
    for (const auto& topic : topics) spdlog::info("dds: watching bonds on {}", topic);
  }

  // A Status counts for the component whose bond it names only when that component's own
  // processes wrote it (the notify socket's rule: its main process, its session, or a
  // descendant). The other side of the bond (the lifecycle manager) and anyone else are
  // counted as foreign and change nothing.
  void on_bond_status(const dds::BondStatus& s, TimePoint arrival) {
    const config::ComponentSpec* watched = nullptr;
    config::for_each_component(spec_.root, [&](const config::ComponentSpec& c) {
      if (watched == nullptr && c.watchdog.bond && c.watchdog.bond->topic == s.topic &&
          c.watchdog.bond->id == s.id) {
        watched = &c;
      }
    });
    if (watched == nullptr) return;  // a bond no component is watched by
    ++bond_messages_;
    pid_t main_pid = 0;
    for (const auto& target : supervisor_->monitor_targets()) {
      if (target.name == watched->name) main_pid = target.pid;
    }
    if (main_pid == 0) return;  // not running: there is no watchdog to feed
    if (s.writer_pid <= 0 || !process_belongs_to(s.writer_pid, main_pid)) {
      ++bond_foreign_;
      return;
    }
    const std::string& name = watched->name;
    if (!s.active) {
      // Nav2 breaks the bond when the node deactivates or shuts down: worth a warning, not a
      // failure; if the node then stops beating, the watchdog timeout says so.
      ++bond_broken_;
      supervisor_->on_monitor(
          name, main_pid, "bond", 1,
          fmt::format("the node broke its bond '{}' on {} (active=false): it is deactivating or "
                      "shutting down",
                      s.id, s.topic),
          {{"topic", s.topic},
           {"id", s.id},
           {"instance_id", s.instance_id},
           {"writer_pid", s.writer_pid}},
          config::MonitorAction::warn);
      return;
    }
    supervisor_->on_monitor(name, main_pid, "bond", 0,
                            fmt::format("bond '{}' on {} is active again", s.id, s.topic), {},
                            config::MonitorAction::warn);
    watchdog::NotifyMessage beat;
    beat.watchdog_ping = true;
    ++bond_beats_;
    supervisor_->on_notify_from(main_pid, beat, arrival);
  }

  // Whether `pid` is the process `main_pid`, in its session (every component leads a session
  // of its own), or descends from it: the attribution on_notify applies to notify datagrams.
  static bool process_belongs_to(pid_t pid, pid_t main_pid) {
    if (pid == main_pid) return true;
    auto st = process::read_proc_stat(pid);
    if (!st) return false;  // exited since: nothing to attribute
    if (st->session == main_pid) return true;
    for (int depth = 0; st && st->ppid > 1 && depth < 32; ++depth) {
      if (st->ppid == main_pid) return true;
      st = process::read_proc_stat(st->ppid);
    }
    return false;
  }

  void publish_diagnostics_periodically() {
    publish_diagnostics();
    dds_timer_.arm_after(spec_.dds.diagnostics_period,
                         [this] { publish_diagnostics_periodically(); });
  }

  void publish_diagnostics() {
    if (!dds_) return;
    auto diagnostics =
        dds::diagnostics_from_status(with_resources(supervisor_->status()), resources_->host_node(),
                                     scheduler_.wall_now_us(), hostname_);
    if (auto r = dds_->publish(diagnostics); !r) {
      ++dds_write_errors_;
      if (dds_write_errors_ == 1 || dds_write_errors_ % 100 == 0) {
        spdlog::error("{} ({} so far)", r.error(), dds_write_errors_);
      }
    }
  }

  // ---- HTTP (http::ApiBackend): every call arrives on the event loop ----

  // A failure to listen leaves vigild supervising: the robot matters more than its dashboard.
  void start_http() {
    if (!spec_.http.enabled) return;
    const std::string url_file = spec_.state_dir + "/http.url";
    ::unlink(url_file.c_str());
    auto token = http::ApiToken::load_or_create(spec_.state_dir + "/token");
    if (!token) {
      http_error_ = "token: " + token.error();
      spdlog::error("http disabled: {}", http_error_);
      return;
    }
    stream_ = std::make_unique<http::EventStream>(http::EventStream::Options{});
    bus_->subscribe(stream_.get());
    http::HttpServerOptions options;
    options.listen = spec_.http;
    auto server = http::HttpServer::start(io_, *this, std::move(*token), options);
    if (!server) {
      http_error_ = server.error();
      spdlog::error("{}; vigild keeps supervising without its HTTP API", http_error_);
      bus_->unsubscribe(stream_.get());
      stream_.reset();
      return;
    }
    http_ = std::move(*server);
    if (FILE* f = std::fopen(url_file.c_str(), "w")) {
      std::fprintf(f, "%s\n", http_->url().c_str());
      std::fclose(f);
    }
    spdlog::info("http: dashboard and API on {}", http_->url());
  }

  void stop_http() {
    if (!http_) return;
    ::unlink((spec_.state_dir + "/http.url").c_str());
    if (stream_) stream_->close_all();
    http_->stop();
  }

  json components() override { return status_json(); }

  json events(const http::EventsRequest& r) override {
    bus_->flush();
    diagnostics::EventQuery q;
    q.component = r.component;
    q.after_id = r.after_id;
    q.before_id = r.before_id;
    q.limit = r.limit;
    if (r.since_us > 0) q.since_wall_us = scheduler_.wall_now_us() - r.since_us;
    json events = json::array();
    const auto found = event_log_->query(q);
    for (const auto& e : found) events.push_back(e.to_json());
    bool more_before = false;
    if (!found.empty()) {
      auto older = q;
      older.after_id = 0;
      older.before_id = found.front().id;
      older.limit = 1;
      more_before = !event_log_->query(older).empty();
    }
    return {{"events", std::move(events)}, {"more_before", more_before}};
  }

  json report(std::int64_t since_us) override {
    bus_->flush();
    const std::int64_t now = scheduler_.wall_now_us();
    diagnostics::EventQuery q;
    q.since_wall_us = since_us > 0 ? now - since_us : 0;
    q.limit = 10'000'000;
    auto events = event_log_->query(q);
    const std::int64_t start =
        since_us > 0 ? now - since_us : (events.empty() ? now : events.front().wall_us);
    if (since_us > 0) {
      auto before = event_log_->state_before(start);
      events.insert(events.begin(), before.begin(), before.end());
    }
    auto report = diagnostics::compute_report(events, start, now);
    return {{"report", report.to_json()}, {"text", report.to_text()}};
  }

  json logs(const std::string& component, int lines) override {
    if (!supervisor_->is_component(component)) {
      throw http::HttpError(404, fmt::format("no component named '{}'", component));
    }
    auto* output = runner_->output(component);
    json reply = {{"component", component},
                  {"lines", output != nullptr ? json(output->tail(static_cast<std::size_t>(lines)))
                                              : json::array()}};
    if (output != nullptr) reply["file"] = output->path();
    return reply;
  }

  json command(const std::string& verb, const std::string& name, const json& origin) override {
    if (shutting_down_) throw http::HttpError(503, "vigild is shutting down");
    auto result = verb == "start"  ? supervisor_->start_node(name, origin)
                  : verb == "stop" ? supervisor_->stop_node(name, origin)
                                   : supervisor_->restart_node(name, origin);
    if (!result) throw http::HttpError(404, result.error());
    return {{"ok", true}, {"name", name}, {"command", verb}};
  }

  json history(const http::HistoryRequest& r) override {
    if (!history_) {
      throw http::HttpError(503, "metric history is not available: " + history_error_);
    }
    if (r.component != "host" && !supervisor_->is_component(r.component)) {
      throw http::HttpError(404, fmt::format("no component named '{}'", r.component));
    }
    auto reply = history_query(r.component, r.series, r.since_us, r.max_points);
    if (!reply) throw http::HttpError(400, reply.error());
    return std::move(*reply);
  }

  json approvals() override { return {{"approvals", supervisor_->approvals()}}; }

  json decide(const std::string& id, bool approve, const json& origin) override {
    if (shutting_down_) throw http::HttpError(503, "vigild is shutting down");
    auto decided = supervisor_->decide(id, approve, origin);
    if (!decided) throw http::HttpError(404, decided.error());
    return {{"ok", true},
            {"id", id},
            {"decision", approve ? "approved" : "denied"},
            {"message", *decided}};
  }

  std::string metrics() override { return metrics_->render(status_json()); }

  std::shared_ptr<http::StreamClient> open_stream(std::int64_t last_event_id) override {
    // Commit what is pending first: those events reach the log and the current clients, and
    // the new client gets them from the log below, so nothing is lost or sent twice.
    bus_->flush();
    auto client = stream_->add_client();
    if (!client) return nullptr;
    if (last_event_id > 0) {
      diagnostics::EventQuery q;
      q.after_id = last_event_id;
      q.limit = 1000;
      for (const auto& e : event_log_->query(q)) {
        client->push(http::make_frame("event", e.to_json(), e.id));
      }
    }
    client->push(http::make_frame("snapshot", status_json()));
    return client;
  }

  void request_served(const std::string& route, int status) override {
    metrics_->count_http_request(route, status);
  }

  // ---- Metric history (state_dir/metrics.db): the dashboard's charts ----

  // Optional: a file that cannot be opened is logged and vigild supervises without history.
  void open_history() {
    auto opened =
        vigil::history::MetricHistory::open(spec_.state_dir + "/metrics.db", spec_.history);
    if (!opened) {
      history_error_ = opened.error();
      spdlog::error("{}; vigild keeps supervising without metric history", history_error_);
      return;
    }
    history_ = std::move(*opened);
    history_recorder_ = std::make_unique<vigil::history::TickRecorder>(*history_);
    resources_->on_tick(
        [this](std::int64_t wall_us, const std::map<std::string, json>& samples, const json& host) {
          history_recorder_->on_tick(wall_us, samples, host, supervisor_->status());
        });
  }

  // One series of a component (or "host") over the last `since_us` (a duration back from
  // now; 0: one hour), thinned to at most max_points: {component, series, resolution_ms,
  // points: [[t_ms, avg, min, max], ...] oldest first, available: [series names]}.
  Result<json> history_query(const std::string& component, const std::string& series,
                             std::int64_t since_us, int max_points) {
    if (!history_) return make_error("metric history is not available: " + history_error_);
    const std::int64_t now = scheduler_.wall_now_us();
    const std::int64_t back = since_us > 0 ? since_us : std::int64_t{3'600'000'000};
    json reply = {
        {"component", component}, {"series", series}, {"available", history_->series(component)}};
    auto q = history_->query(component, series, now - back, 0,
                             static_cast<std::size_t>(std::max(max_points, 1)));
    if (!q) return make_error(q.error());
    json points = json::array();
    for (const auto& p : q->points) points.push_back({p.t_us / 1000, p.avg, p.min, p.max});
    reply["resolution_ms"] = q->resolution_us / 1000;
    reply["points"] = std::move(points);
    return reply;
  }

  void schedule_prune() {
    if (history_) {
      if (auto r = history_->prune(scheduler_.wall_now_us()); !r) spdlog::error("{}", r.error());
    }
    const auto removed = event_log_->prune(scheduler_.wall_now_us());
    if (removed > 0) spdlog::info("event log retention: removed {} old events", removed);
    prune_timer_.arm_after(std::chrono::hours(1), [this] { schedule_prune(); });
  }

  // Under systemd: READY=1 once started, and WATCHDOG=1 at half the unit's WatchdogSec, sent
  // from the event loop so a stuck loop is exactly what systemd's watchdog catches.
  void tell_systemd_ready() {
    const std::string status =
        configured_state_dir_.empty()
            ? fmt::format("supervising {}", spec_.source_file)
            : fmt::format("STATE DIR NOT WRITABLE ({}), running from {}: supervising {}",
                          state_dir_problem_, spec_.state_dir, spec_.source_file);
    ::sd_notify(0, fmt::format("READY=1\nSTATUS={}\nMAINPID={}", status, ::getpid()).c_str());
    std::uint64_t usec = 0;
    if (::sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
      self_watchdog_interval_ = std::chrono::microseconds(usec / 2);
      ping_systemd_watchdog();
    }
  }

  void ping_systemd_watchdog() {
    ::sd_notify(0, "WATCHDOG=1");
    self_watchdog_.arm_after(self_watchdog_interval_, [this] { ping_systemd_watchdog(); });
  }

  config::SystemSpec spec_;           // state_dir: the one in use (the fallback, if it had to be)
  std::string configured_state_dir_;  // set when the configured state_dir could not be written
  std::string state_dir_problem_;
  DaemonOptions options_;
  asio::io_context io_;
  AsioScheduler scheduler_;
  asio::signal_set signals_;
  InstanceLock lock_;
  std::string boot_id_;
  std::unique_ptr<diagnostics::EventLog> event_log_;
  std::unique_ptr<health::EventBus> bus_;
  std::unique_ptr<metrics::MetricsRegistry> metrics_;  // subscribed to bus_
  std::unique_ptr<PidfdRunner> runner_;
  std::unique_ptr<AsioProber> prober_;
  std::unique_ptr<supervisor::Supervisor> supervisor_;
  std::unique_ptr<ResourceWatcher> resources_;   // uses the supervisor: destroyed before it
  std::unique_ptr<FaultInjector> faults_;        // uses the supervisor and the runner
  std::unique_ptr<alerts::AlertRouter> alerts_;  // subscribed to bus_; uses runner_
  std::unique_ptr<vigil::history::MetricHistory> history_;          // null when it could not open
  std::unique_ptr<vigil::history::TickRecorder> history_recorder_;  // writes to history_
  std::string history_error_;
  std::unique_ptr<watchdog::NotifySocket> notify_;
  std::unique_ptr<api::ControlServer> control_;
  std::unique_ptr<http::EventStream> stream_;
  std::unique_ptr<http::HttpServer> http_;  // after stream_: destroyed first
  std::string http_error_;
  std::mt19937_64 rng_;
  Timer prune_timer_;
  Timer self_watchdog_;
  Timer drain_timer_;
  std::unique_ptr<dds::DdsBridge> dds_;
  std::unique_ptr<CallbackSink> dds_changes_;
  Timer dds_timer_;
  std::string dds_error_;
  std::string hostname_;
  std::uint64_t dds_write_errors_ = 0;
  std::atomic<std::uint64_t> dds_heartbeats_{0};
  std::map<dds_instance_handle_t, HeartbeatWriter> heartbeat_writers_;
  std::uint64_t dds_liveliness_lost_ = 0;
  std::unique_ptr<dds::TopicTaps> topic_taps_;     // after dds_: destroyed before its participant
  std::unique_ptr<TopicWatcher> topic_watcher_;    // uses topic_taps_ and supervisor_
  std::unique_ptr<ModeController> modes_;          // uses supervisor_, dds_, resources_
  std::unique_ptr<HardwareWatchdog> hw_watchdog_;  // reads supervisor_
  std::unique_ptr<CallbackSink> mode_inputs_;      // subscribed to bus_; calls modes_
  // Bonds (watchdog.bond); the reader is after dds_: destroyed before its participant.
  std::unique_ptr<dds::BondWatch> bond_watch_;
  // Status samples naming a watched bond: all, active ones from the component's own
  // processes (beats), those from any other process (the manager's side too), and
  // active=false from the component's own processes.
  std::uint64_t bond_messages_ = 0;
  std::uint64_t bond_beats_ = 0;
  std::uint64_t bond_foreign_ = 0;
  std::uint64_t bond_broken_ = 0;
  bool diagnostics_posted_ = false;
  std::chrono::microseconds self_watchdog_interval_{0};
  std::uint64_t notify_dropped_ = 0;
  std::uint64_t notify_late_ = 0;
  TimePoint last_drop_log_{};
  std::int64_t started_us_ = wall_clock_us();
  bool shutting_down_ = false;
  int exit_code_ = kExitOk;
};

}  // namespace

int run_daemon(const config::SystemSpec& spec, const DaemonOptions& options) {
  Daemon daemon(spec, options);
  return daemon.run();
}

}  // namespace vigil::daemon
