#include "detection/liveness.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace vigil::detection {
namespace {

constexpr TimePoint kNever = TimePoint::max();

double to_ms(Duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double round2(double v) {
  return std::round(v * 100.0) / 100.0;
}

}  // namespace

std::string_view to_string(Verdict::Level level) {
  switch (level) {
    case Verdict::Level::ok:
      return "ok";
    case Verdict::Level::warn:
      return "warn";
    case Verdict::Level::hang:
      return "hang";
  }
  return "?";
}

Liveness::Liveness(const config::WatchdogSpec& spec) : spec_(spec), timeout_(spec.timeout) {
  if (spec_.detector == config::DetectorKind::phi) {
    PhiParameters p;
    p.window = spec_.phi.window;
    p.min_std = spec_.phi.min_std;
    p.acceptable_pause = spec_.phi.acceptable_pause;
    // sd_notify(3) advises beating at half the watchdog timeout.
    p.expected_interval = spec_.phi.expected_interval.value_or(
        spec_.timeout ? *spec_.timeout / 2 : Duration(std::chrono::seconds(1)));
    phi_.emplace(p);
  }
}

void Liveness::start(TimePoint at, Duration grace) {
  timeout_ = spec_.timeout;
  last_beat_ = at;
  grace_until_ = at + grace;
  extended_until_ = {};
  extension_since_beat_ = false;
  heartbeats_ = 0;
  if (phi_) phi_->reset(at);
  // Loops the program declared while starting are kept; their deadlines count from now.
  for (auto& [name, loop] : loops_) loop.last = std::max(loop.last, at);
  for (const auto& [name, deadline] : spec_.loops) {
    if (!loops_.count(name)) loops_[name] = Loop{deadline, at, 0, true};
  }
}

void Liveness::forget_process() {
  loops_.clear();
  heartbeats_ = 0;
}

void Liveness::heartbeat(TimePoint at) {
  ++heartbeats_;
  if (at <= last_beat_) return;
  if (phi_) {
    if (extension_since_beat_ || at <= grace_until_)
      phi_->restart_interval(at);
    else
      phi_->heartbeat(at);
  }
  last_beat_ = at;
  extension_since_beat_ = false;
}

bool Liveness::loop_heartbeat(std::string_view loop, TimePoint at) {
  auto it = loops_.find(loop);
  if (it == loops_.end()) return false;
  it->second.last = std::max(it->second.last, at);
  ++it->second.beats;
  return true;
}

Result<void> Liveness::declare_loop(std::string_view loop, Duration deadline, TimePoint at) {
  if (!config::valid_loop_name(loop)) {
    return make_error("a loop name has 1 to 64 letters, digits, '_', '-', '.' or '/'");
  }
  if (deadline <= Duration{0}) return make_error("a loop deadline must be longer than 0");
  auto it = loops_.find(loop);
  if (it == loops_.end()) {
    if (loops_.size() >= kMaxLoops) {
      return make_error(fmt::format("at most {} watched loops per component", kMaxLoops));
    }
    loops_.emplace(std::string(loop), Loop{deadline, at, 1, false});
    return {};
  }
  it->second.deadline = deadline;
  it->second.last = std::max(it->second.last, at);
  ++it->second.beats;
  return {};
}

void Liveness::retire_loop(std::string_view loop) {
  auto it = loops_.find(loop);
  if (it != loops_.end()) loops_.erase(it);
}

void Liveness::set_timeout(std::optional<Duration> timeout, TimePoint at) {
  timeout_ = timeout;
  last_beat_ = std::max(last_beat_, at);
  if (phi_) phi_->restart_interval(at);
}

void Liveness::extend_until(TimePoint until) {
  extended_until_ = std::max(extended_until_, until);
  extension_since_beat_ = true;
}

bool Liveness::active() const {
  return timeout_.has_value() || phi_.has_value() || !loops_.empty();
}

TimePoint Liveness::quiet_until() const {
  return std::max(grace_until_, extended_until_);
}

TimePoint Liveness::hang_deadline_of_heartbeat() const {
  TimePoint d = kNever;
  if (timeout_) d = std::min(d, last_beat_ + *timeout_);
  if (phi_) d = std::min(d, phi_->when_phi_reaches(spec_.phi.threshold));
  return d;
}

TimePoint Liveness::warn_deadline_of_heartbeat() const {
  if (!spec_.warn) return kNever;
  TimePoint d = kNever;
  if (timeout_ && spec_.warn_after) d = std::min(d, last_beat_ + *spec_.warn_after);
  if (phi_) {
    const double warn = spec_.phi.warn_threshold.value_or(std::max(1.0, spec_.phi.threshold - 3));
    d = std::min(d, phi_->when_phi_reaches(warn));
  }
  return d;
}

TimePoint Liveness::next_deadline(Verdict::Level current) const {
  if (current == Verdict::Level::hang) return kNever;
  TimePoint d = hang_deadline_of_heartbeat();
  for (const auto& [name, loop] : loops_) d = std::min(d, loop.last + loop.deadline);
  if (current == Verdict::Level::ok) {
    d = std::min(d, warn_deadline_of_heartbeat());
  }
  return d == kNever ? kNever : std::max(d, quiet_until());
}

Verdict Liveness::evaluate(TimePoint now) const {
  Verdict v;
  if (now < quiet_until()) return v;
  const Duration silence = now - last_beat_;
  auto raise = [&](Verdict::Level level, std::string reason) {
    if (level > v.level) {
      v.level = level;
      v.reason = std::move(reason);
    }
  };
  if (timeout_ && silence >= *timeout_) {
    raise(Verdict::Level::hang, fmt::format("no watchdog heartbeat for {} (timeout {})",
                                            format_duration(silence), format_duration(*timeout_)));
  }
  if (phi_) {
    const double phi = phi_->phi(now);
    const double warn = spec_.phi.warn_threshold.value_or(std::max(1.0, spec_.phi.threshold - 3));
    const std::string figures =
        fmt::format("{} without a heartbeat; mean interval {:.1f}ms, std {:.1f}ms",
                    format_duration(silence), phi_->mean_ms(), phi_->std_ms());
    if (now >= phi_->when_phi_reaches(spec_.phi.threshold)) {
      raise(Verdict::Level::hang,
            fmt::format("phi {:.1f} >= {:g}: {}", phi, spec_.phi.threshold, figures));
    } else if (spec_.warn && now >= phi_->when_phi_reaches(warn)) {
      raise(Verdict::Level::warn, fmt::format("phi {:.1f} >= {:g} (warn): {}", phi, warn, figures));
    }
  }
  if (v.level == Verdict::Level::ok && spec_.warn && timeout_ && spec_.warn_after &&
      now >= last_beat_ + *spec_.warn_after) {
    raise(Verdict::Level::warn, fmt::format("late heartbeat: none for {} (timeout {})",
                                            format_duration(silence), format_duration(*timeout_)));
  }
  for (const auto& [name, loop] : loops_) {
    const Duration age = now - loop.last;
    if (age >= loop.deadline) {
      raise(Verdict::Level::hang,
            fmt::format("watched loop '{}' made no progress for {} (deadline {})", name,
                        format_duration(age), format_duration(loop.deadline)));
    }
  }
  if (v.level != Verdict::Level::ok) v.evidence = evidence(now);
  return v;
}

double Liveness::phi(TimePoint now) const {
  return phi_ ? phi_->phi(now) : 0.0;
}

nlohmann::json Liveness::evidence(TimePoint now) const {
  nlohmann::json e = describe(now);
  if (phi_) {
    auto recent = phi_->recent_intervals_ms(10);
    for (auto& r : recent) r = round2(r);
    e["last_intervals_ms"] = recent;
  }
  return e;
}

nlohmann::json Liveness::describe(TimePoint now) const {
  nlohmann::json j = {{"detector", config::to_string(spec_.detector)},
                      {"heartbeats", heartbeats_},
                      {"since_heartbeat_ms", round2(to_ms(now - last_beat_))}};
  if (timeout_) j["timeout_ms"] = round2(to_ms(*timeout_));
  if (phi_) {
    j["phi"] = round2(std::min(phi_->phi(now), 1e6));
    j["phi_threshold"] = spec_.phi.threshold;
    j["mean_interval_ms"] = round2(phi_->mean_ms());
    j["std_interval_ms"] = round2(phi_->std_ms());
    j["intervals"] = phi_->intervals();
    j["bootstrapping"] = phi_->bootstrapping();
  }
  if (now < quiet_until()) j["quiet_for_ms"] = round2(to_ms(quiet_until() - now));
  if (!loops_.empty()) {
    nlohmann::json loops = nlohmann::json::object();
    for (const auto& [name, loop] : loops_) {
      loops[name] = {{"age_ms", round2(to_ms(now - loop.last))},
                     {"deadline_ms", round2(to_ms(loop.deadline))},
                     {"beats", loop.beats}};
    }
    j["loops"] = std::move(loops);
  }
  return j;
}

}  // namespace vigil::detection
