#pragma once
// The last link of the watchdog chain: vigild keeps a hardware watchdog alive only while the
// robot is healthy (as F Prime's health component strokes its watchdog only while every
// component answers its pings). The device resets the machine when the keepalives stop: when
// vigild hangs or dies, or when a required component stays down for the device's timeout.
//
// The Linux watchdog API: opening the device arms it; any write is a keepalive; writing 'V'
// just before closing disarms it (unless the driver has nowayout). The timeout is set with
// WDIOC_SETTIMEOUT where the device supports it.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/result.hpp"
#include "common/scheduler.hpp"
#include "common/unique_fd.hpp"
#include "config/spec.hpp"

namespace vigil::supervisor {
class Supervisor;
}

namespace vigil::daemon {

class HardwareWatchdog {
 public:
  // Told when keepalives stop (`healthy` false, with the reason) and when they resume.
  using OnChange = std::function<void(bool healthy, const std::string& reason)>;

  HardwareWatchdog(Scheduler& scheduler, const supervisor::Supervisor& supervisor,
                   config::HardwareWatchdogSpec spec, OnChange on_change);
  ~HardwareWatchdog();
  HardwareWatchdog(const HardwareWatchdog&) = delete;
  HardwareWatchdog& operator=(const HardwareWatchdog&) = delete;

  // Opens (arms) the device and sets its timeout; keepalives start at once.
  Result<void> start();
  // vigild stops cleanly: disarm (magic close).
  void disarm();
  // {device, timeout_ms, interval_ms, healthy, reason, keepalives, timeout_set}
  nlohmann::json status() const;

 private:
  void tick();
  // Empty when every required node is healthy; otherwise why not.
  std::string unhealthy_reason() const;

  Scheduler& scheduler_;
  const supervisor::Supervisor& supervisor_;
  config::HardwareWatchdogSpec spec_;
  OnChange on_change_;
  UniqueFd device_;
  Timer timer_;
  bool healthy_ = true;
  bool timeout_set_ = false;
  std::string reason_;
  std::uint64_t keepalives_ = 0;
};

}  // namespace vigil::daemon
