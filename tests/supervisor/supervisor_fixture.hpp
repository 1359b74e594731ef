#pragma once
// The supervisor in simulated time, for unit tests: a config, a fake runner and a manual
// scheduler; events and forced modes are recorded for assertions.
#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "supervisor/fakes.hpp"
#include "supervisor/supervisor.hpp"

namespace vigil::testing {

using namespace std::chrono_literals;
using health::Event;

class SupervisorTest : public ::testing::Test {
 protected:
  void start(const std::string& yaml) {
    auto loaded = config::load_config_text(yaml, "/tmp/robot.yaml", {.check_executables = false});
    ASSERT_TRUE(loaded.ok()) << loaded.format_errors();
    spec_ = *loaded.spec;
    runner_.scheduler = &sched_;
    sup_ = std::make_unique<supervisor::Supervisor>(
        spec_, supervisor::Dependencies{
                   runner_, prober_, sched_, [this](Event e) { events_.push_back(std::move(e)); },
                   [] { return 0.5; },  // u = 0: no jitter
                   [this] {
                     auto pending = std::move(unread_);
                     unread_.clear();
                     for (auto& fn : pending) fn();
                   },
                   [this](const std::string& mode, const std::string& by, bool on) {
                     forced_.push_back({mode, by, on ? "on" : "off"});
                   }});
    sup_->start();
    sched_.settle();
  }
  std::vector<Event> of(const std::string& component, health::EventKind kind) const {
    std::vector<Event> out;
    for (const auto& e : events_) {
      if (e.component == component && e.kind == kind) out.push_back(e);
    }
    return out;
  }
  // The component's node in the status tree; null when there is none.
  nlohmann::json component(const std::string& name) {
    std::function<nlohmann::json(const nlohmann::json&)> find = [&](const nlohmann::json& n) {
      if (n.value("name", "") == name && n.value("type", "") == "component") return n;
      for (const auto& c : n.value("children", nlohmann::json::array())) {
        auto found = find(c);
        if (!found.is_null()) return found;
      }
      return nlohmann::json();
    };
    return find(sup_->status());
  }
  std::string state(const std::string& name) {
    const auto node = component(name);
    return node.is_null() ? std::string() : node["state"].get<std::string>();
  }
  void crash(const std::string& name) {
    runner_.exit(runner_.pid_of(name), process::ExitStatus::killed_by(SIGSEGV));
    sched_.settle();
  }
  void notify(const std::string& name, const std::string& datagram) {
    sup_->on_notify(name, watchdog::parse_notify_message(datagram));
    sched_.settle();
  }

  // Datagrams the kernel has received but vigild has not read yet (read in batches).
  std::vector<std::function<void()>> unread_;
  ManualScheduler sched_;
  FakeRunner runner_;
  NoProber prober_;
  config::SystemSpec spec_;
  std::unique_ptr<supervisor::Supervisor> sup_;
  std::vector<Event> events_;
  std::vector<std::array<std::string, 3>> forced_;  // {mode, by, on|off}
};

}  // namespace vigil::testing
