#include "detection/topic_monitor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace vigil::detection {
namespace {

double ms(Duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

ThresholdParameters rate_limit(double limit, bool low_is_bad, Duration hold) {
  ThresholdParameters p;
  p.warn = limit;
  p.warn_clear = low_is_bad ? limit * 1.02 : limit * 0.98;
  p.hold = hold;
  p.low_is_bad = low_is_bad;
  return p;
}

}  // namespace

nlohmann::json TopicFigures::to_json() const {
  auto round1 = [](double v) { return std::round(v * 10) / 10; };
  return {{"messages", messages},           {"rate_hz", std::round(rate_hz * 100) / 100},
          {"jitter_ms", round1(jitter_ms)}, {"largest_gap_ms", round1(largest_gap_ms)},
          {"age_ms", round1(age_ms)},       {"any", any}};
}

TopicMonitor::TopicMonitor(config::TopicMonitorSpec spec, TimePoint watching_since)
    : spec_(std::move(spec)), since_(watching_since) {
  if (spec_.min_rate) too_slow_.emplace(rate_limit(*spec_.min_rate, true, spec_.hold));
  if (spec_.max_rate) too_fast_.emplace(rate_limit(*spec_.max_rate, false, spec_.hold));
}

void TopicMonitor::on_message(TimePoint at) {
  ++messages_;
  last_ = at;
  arrivals_.push_back(at);
  if (arrivals_.size() > kMaxArrivals) arrivals_.pop_front();
}

void TopicMonitor::forget_before(TimePoint now) {
  // Keeps one arrival before the window: it opens the window's first interval.
  const TimePoint start = now - spec_.window;
  while (arrivals_.size() >= 2 && arrivals_[1] < start) arrivals_.pop_front();
}

TopicFigures TopicMonitor::figures(TimePoint now) const {
  TopicFigures f;
  f.messages = messages_;
  f.any = last_.has_value();
  f.age_ms = ms(now - (last_ ? *last_ : since_));
  const TimePoint start = now - spec_.window;
  double sum = 0;
  double sum_squares = 0;
  double largest = 0;
  std::size_t intervals = 0;
  std::optional<TimePoint> first;
  for (std::size_t i = 1; i < arrivals_.size(); ++i) {
    if (arrivals_[i] < start) continue;
    const double dt = ms(arrivals_[i] - arrivals_[i - 1]);
    if (!first) first = arrivals_[i - 1];
    sum += dt;
    sum_squares += dt * dt;
    largest = std::max(largest, dt);
    ++intervals;
  }
  const double open = last_ ? ms(now - *last_) : ms(now - since_);
  f.largest_gap_ms = std::max(largest, open);
  if (intervals == 0) return f;
  const double mean = sum / static_cast<double>(intervals);
  f.jitter_ms =
      std::sqrt(std::max(0.0, sum_squares / static_cast<double>(intervals) - mean * mean));
  // While the publisher is silent for longer than a usual interval, the silence counts.
  const double span = std::max(sum, sum + open - mean);
  f.rate_hz = static_cast<double>(intervals) * 1000.0 / span;
  return f;
}

std::string TopicMonitor::describe_rate(const TopicFigures& f) const {
  return fmt::format("{:.2f}Hz (jitter {:.1f}ms, largest gap {:.0f}ms over {})", f.rate_hz,
                     f.jitter_ms, f.largest_gap_ms, format_duration(spec_.window));
}

std::optional<TimePoint> TopicMonitor::stale_at() const {
  if (!spec_.stale_after) return std::nullopt;
  return (last_ ? *last_ : since_) + *spec_.stale_after;
}

std::optional<TopicChange> TopicMonitor::evaluate(TimePoint now) {
  forget_before(now);
  const TopicFigures f = figures(now);
  MonitorLevel rate_level = MonitorLevel::ok;
  // A rate needs a whole window of watching behind it.
  if (now - since_ >= spec_.window) {
    if (too_slow_) {
      too_slow_->sample(f.rate_hz, now);
      if (too_slow_->level() != MonitorLevel::ok) {
        rate_level = MonitorLevel::warn;
        rate_reason_ =
            fmt::format("{} at {}, below {:g}Hz", spec_.topic, describe_rate(f), *spec_.min_rate);
      }
    }
    if (too_fast_) {
      too_fast_->sample(f.rate_hz, now);
      if (too_fast_->level() != MonitorLevel::ok) {
        rate_level = MonitorLevel::warn;
        rate_reason_ =
            fmt::format("{} at {}, above {:g}Hz", spec_.topic, describe_rate(f), *spec_.max_rate);
      }
    }
  }
  const bool stale = spec_.stale_after && now >= *stale_at();
  const MonitorLevel next = stale ? MonitorLevel::fail : rate_level;
  if (next == level_) return std::nullopt;
  TopicChange change;
  change.from = level_;
  change.to = next;
  level_ = next;
  change.evidence = f.to_json();
  change.evidence["topic"] = spec_.topic;
  change.evidence["dds_topic"] = spec_.dds_topic;
  if (next == MonitorLevel::fail) {
    change.reason = f.any ? fmt::format("{}: no message for {:.0f}ms (stale after {})", spec_.topic,
                                        f.age_ms, format_duration(*spec_.stale_after))
                          : fmt::format("{}: no message at all in {:.0f}ms (stale after {})",
                                        spec_.topic, f.age_ms, format_duration(*spec_.stale_after));
    change.evidence["stale_after_ms"] = ms(*spec_.stale_after);
  } else if (next == MonitorLevel::warn) {
    change.reason = rate_reason_;
  } else {
    change.reason = fmt::format("{} is back: {}", spec_.topic, describe_rate(f));
  }
  return change;
}

nlohmann::json TopicMonitor::describe(TimePoint now) const {
  nlohmann::json j = figures(now).to_json();
  j["topic"] = spec_.topic;
  j["dds_topic"] = spec_.dds_topic;
  j["level"] = level_ == MonitorLevel::ok ? "OK" : level_ == MonitorLevel::warn ? "WARN" : "ERROR";
  if (spec_.min_rate) j["min_rate_hz"] = *spec_.min_rate;
  if (spec_.max_rate) j["max_rate_hz"] = *spec_.max_rate;
  if (spec_.stale_after) j["stale_after_ms"] = ms(*spec_.stale_after);
  return j;
}

}  // namespace vigil::detection
