#include "detection/threshold_monitor.hpp"

#include <cmath>

namespace vigil::detection {

std::string_view to_string(MonitorLevel level) {
  switch (level) {
    case MonitorLevel::ok:
      return "ok";
    case MonitorLevel::warn:
      return "warn";
    case MonitorLevel::fail:
      return "fail";
  }
  return "?";
}

ThresholdMonitor::ThresholdMonitor(ThresholdParameters parameters) : p_(parameters) {
  if (p_.samples < 1) p_.samples = 1;
  const double factor = p_.low_is_bad ? 1.1 : 0.9;
  if (p_.warn && !p_.warn_clear) p_.warn_clear = *p_.warn * factor;
  if (p_.fail && !p_.fail_clear) p_.fail_clear = *p_.fail * factor;
}

bool ThresholdMonitor::beyond(double value, double threshold) const {
  return p_.low_is_bad ? value <= threshold : value >= threshold;
}

bool ThresholdMonitor::lasted(const Run& run, TimePoint at) const {
  return run.since && run.count >= p_.samples && at - *run.since >= p_.hold;
}

double ThresholdMonitor::clear_of(MonitorLevel level) const {
  return level == MonitorLevel::fail ? *p_.fail_clear : *p_.warn_clear;
}

void ThresholdMonitor::reset() {
  level_ = MonitorLevel::ok;
  above_warn_.clear();
  above_fail_.clear();
  below_clear_.clear();
  recent_.clear();
}

std::optional<ThresholdMonitor::Change> ThresholdMonitor::sample(double value, TimePoint at) {
  recent_.emplace_back(at, value);
  if (recent_.size() > 10) recent_.pop_front();
  if (p_.warn && beyond(value, *p_.warn))
    above_warn_.extend(at);
  else
    above_warn_.clear();
  if (p_.fail && beyond(value, *p_.fail))
    above_fail_.extend(at);
  else
    above_fail_.clear();

  const MonitorLevel from = level_;
  if (level_ != MonitorLevel::fail && lasted(above_fail_, at)) {
    level_ = MonitorLevel::fail;
    below_clear_.clear();
    return Change{from, level_, value, *p_.fail};
  }
  if (level_ == MonitorLevel::ok && lasted(above_warn_, at)) {
    level_ = MonitorLevel::warn;
    below_clear_.clear();
    return Change{from, level_, value, *p_.warn};
  }
  if (level_ == MonitorLevel::ok) return std::nullopt;
  const double clear = clear_of(level_);
  // Strictly past the clear value, on the good side.
  const bool cleared = p_.low_is_bad ? value > clear : value < clear;
  if (!cleared) {
    below_clear_.clear();
    return std::nullopt;
  }
  below_clear_.extend(at);
  if (!lasted(below_clear_, at)) return std::nullopt;
  below_clear_.clear();
  const bool still_warn = level_ == MonitorLevel::fail && p_.warn &&
                          (p_.low_is_bad ? value <= *p_.warn_clear : value >= *p_.warn_clear);
  level_ = still_warn ? MonitorLevel::warn : MonitorLevel::ok;
  return Change{from, level_, value, clear};
}

nlohmann::json ThresholdMonitor::recent(TimePoint now) const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [at, value] : recent_) {
    out.push_back(
        {{"ago_ms", std::chrono::duration_cast<std::chrono::milliseconds>(now - at).count()},
         {"value", value}});
  }
  return out;
}

GrowthRate::GrowthRate(Duration window) : window_(window), spacing_(window / 120) {}

void GrowthRate::sample(double value, TimePoint at) {
  // At most ~120 points per window, whatever the sampling rate.
  if (!points_.empty() && at - points_.back().first < spacing_) return;
  points_.emplace_back(at, value);
  while (!points_.empty() && at - points_.front().first > window_) points_.pop_front();
}

std::optional<GrowthRate::Fit> GrowthRate::fit() const {
  if (points_.size() < 3) return std::nullopt;
  const TimePoint t0 = points_.front().first;
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
  for (const auto& [at, v] : points_) {
    const double x = std::chrono::duration<double>(at - t0).count();
    n += 1;
    sx += x;
    sy += v;
    sxx += x * x;
    sxy += x * v;
    syy += v * v;
  }
  const double cov = n * sxy - sx * sy;
  const double vx = n * sxx - sx * sx;
  const double vy = n * syy - sy * sy;
  if (vx <= 0) return std::nullopt;
  return Fit{cov / vx, vy > 0 ? cov * cov / (vx * vy) : 0.0};
}

std::optional<double> GrowthRate::per_second() const {
  if (points_.size() < 3) return std::nullopt;
  if (points_.back().first - points_.front().first < window_ * 9 / 10) return std::nullopt;
  const auto f = fit();
  return f ? std::optional<double>(f->slope) : std::nullopt;
}

double GrowthRate::r_squared() const {
  const auto f = fit();
  return f ? f->r_squared : 0.0;
}

}  // namespace vigil::detection
