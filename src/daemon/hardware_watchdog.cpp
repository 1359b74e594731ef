#include "daemon/hardware_watchdog.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/watchdog.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "common/units.hpp"
#include "supervisor/supervisor.hpp"

namespace vigil::daemon {

namespace {

std::int64_t ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Every component node under `node` whose name is `name` or that is under a group so named.
void collect(const nlohmann::json& node, const std::set<std::string>& wanted, bool inside,
             std::vector<const nlohmann::json*>& out) {
  const bool here = inside || wanted.count(node.value("name", "")) > 0;
  if (node.value("type", "") == "component") {
    if (here) out.push_back(&node);
    return;
  }
  // By reference: `out` keeps pointers into the tree.
  if (auto children = node.find("children"); children != node.end() && children->is_array()) {
    for (const auto& child : *children) collect(child, wanted, here, out);
  }
}

}  // namespace

HardwareWatchdog::HardwareWatchdog(Scheduler& scheduler, const supervisor::Supervisor& supervisor,
                                   config::HardwareWatchdogSpec spec, OnChange on_change)
    : scheduler_(scheduler),
      supervisor_(supervisor),
      spec_(std::move(spec)),
      on_change_(std::move(on_change)),
      timer_(scheduler) {}

HardwareWatchdog::~HardwareWatchdog() = default;

Result<void> HardwareWatchdog::start() {
  device_.reset(::open(spec_.device.c_str(), O_WRONLY | O_CLOEXEC));
  if (!device_.valid()) {
    return make_error(fmt::format("hardware watchdog {}: {}", spec_.device, std::strerror(errno)));
  }
  int seconds = static_cast<int>(std::chrono::ceil<std::chrono::seconds>(spec_.timeout).count());
  timeout_set_ = ::ioctl(device_.get(), WDIOC_SETTIMEOUT, &seconds) == 0;
  if (!timeout_set_ && errno != ENOTTY) {
    spdlog::warn("hardware watchdog {}: cannot set its timeout to {}s: {}", spec_.device, seconds,
                 std::strerror(errno));
  }
  spdlog::info("hardware watchdog {}: armed, timeout {}{}", spec_.device,
               format_duration(spec_.timeout), timeout_set_ ? "" : " (the device's own)");
  tick();
  return {};
}

std::string HardwareWatchdog::unhealthy_reason() const {
  const nlohmann::json tree = supervisor_.status();
  std::set<std::string> wanted(spec_.require.begin(), spec_.require.end());
  std::vector<const nlohmann::json*> nodes;
  collect(tree, wanted, wanted.empty(), nodes);
  for (const auto* c : nodes) {
    const std::string state = c->value("state", "");
    if (state == "running") continue;
    // A component in its first start is on its way up, not down.
    if (state == "starting" && c->value("restarts", 0) == 0) continue;
    return fmt::format("{} is {}: {}", c->value("name", ""), state, c->value("reason", ""));
  }
  return {};
}

void HardwareWatchdog::tick() {
  const std::string why = unhealthy_reason();
  const bool healthy = why.empty();
  if (healthy) {
    // Any write is a keepalive; the byte is not 'V', which would allow a disarm.
    if (::write(device_.get(), "\0", 1) == 1) {
      ++keepalives_;
    } else {
      spdlog::error("hardware watchdog {}: keepalive failed: {}", spec_.device,
                    std::strerror(errno));
    }
  }
  if (healthy != healthy_) {
    healthy_ = healthy;
    reason_ = healthy ? "" : why;
    const std::string reason =
        healthy ? fmt::format("hardware watchdog {}: keepalives resumed", spec_.device)
                : fmt::format(
                      "hardware watchdog {}: keepalives stopped ({}); the machine resets "
                      "{} after the last one unless it recovers",
                      spec_.device, why, format_duration(spec_.timeout));
    spdlog::warn("{}", reason);
    if (on_change_) on_change_(healthy, reason);
  } else if (!healthy) {
    reason_ = why;
  }
  timer_.arm_after(spec_.interval.value_or(spec_.timeout / 4), [this] { tick(); });
}

void HardwareWatchdog::disarm() {
  timer_.cancel();
  if (!device_.valid()) return;
  if (::write(device_.get(), "V", 1) != 1) {
    spdlog::error("hardware watchdog {}: cannot disarm: {}", spec_.device, std::strerror(errno));
  }
  device_.reset();
  spdlog::info("hardware watchdog {}: disarmed", spec_.device);
}

nlohmann::json HardwareWatchdog::status() const {
  nlohmann::json j = {{"device", spec_.device},
                      {"timeout_ms", ms(spec_.timeout)},
                      {"interval_ms", ms(spec_.interval.value_or(spec_.timeout / 4))},
                      {"armed", device_.valid()},
                      {"healthy", healthy_},
                      {"keepalives", keepalives_},
                      {"timeout_set", timeout_set_}};
  if (!reason_.empty()) j["reason"] = reason_;
  return j;
}

}  // namespace vigil::daemon
