#include "daemon/topic_watcher.hpp"

#include <set>

#include "dds/topic_taps.hpp"
#include "supervisor/supervisor.hpp"

namespace vigil::daemon {

using detection::MonitorLevel;

namespace {
constexpr auto kRatePeriod = std::chrono::milliseconds(100);

std::string source_of(const detection::TopicMonitor& m) {
  return "topic:" + m.spec().topic;
}
}  // namespace

TopicWatcher::TopicWatcher(Scheduler& scheduler, supervisor::Supervisor& supervisor,
                           dds::TopicTaps& taps, RunHook run_hook)
    : scheduler_(scheduler),
      supervisor_(supervisor),
      taps_(taps),
      run_hook_(std::move(run_hook)),
      tick_timer_(scheduler),
      stale_timer_(scheduler) {}

TopicWatcher::~TopicWatcher() = default;

void TopicWatcher::start(const config::SystemSpec& spec) {
  reconcile(spec);
  tick_timer_.arm_after(kRatePeriod, [this] { tick(); });
}

void TopicWatcher::stop() {
  tick_timer_.cancel();
  stale_timer_.cancel();
}

void TopicWatcher::on_discovery() {
  taps_.subscribe_discovered();
}

void TopicWatcher::reconcile(const config::SystemSpec& spec) {
  std::set<std::string> topics;
  config::for_each_component(spec.root, [&](const config::ComponentSpec& c) {
    for (const auto& t : c.topics) topics.insert(t.dds_topic);
  });
  taps_.set_topics(topics);
}

void TopicWatcher::tick() {
  drain_and_judge();
  tick_timer_.arm_after(kRatePeriod, [this] { tick(); });
}

bool TopicWatcher::mute(const std::string& component, TimePoint until) {
  for (const auto& target : supervisor_.monitor_targets()) {
    if (target.name == component && !target.spec->topics.empty()) {
      muted_[component] = until;
      return true;
    }
  }
  return false;
}

void TopicWatcher::drain_and_judge() {
  const TimePoint now = scheduler_.now();
  judged_at_ = now;
  auto arrivals = taps_.drain();
  std::map<std::string, Watched> next;
  for (const auto& target : supervisor_.monitor_targets()) {
    if (target.spec->topics.empty()) continue;
    auto it = watched_.find(target.name);
    Watched w = it != watched_.end() ? std::move(it->second) : Watched{};
    bool same_spec = w.monitors.size() == target.spec->topics.size();
    for (std::size_t i = 0; same_spec && i < w.monitors.size(); ++i) {
      same_spec = w.monitors[i].spec() == target.spec->topics[i];
    }
    // A new process or new monitors after a reload: watching starts over, once judged.
    if (w.pid != target.pid || !same_spec || !target.judged) {
      w.monitors.clear();
      w.pid = target.pid;
      if (!target.judged) {
        next.emplace(target.name, std::move(w));
        continue;
      }
      for (const auto& spec : target.spec->topics) w.monitors.emplace_back(spec, now);
    }
    const auto mute = muted_.find(target.name);
    const bool muted = mute != muted_.end() && now < mute->second;
    for (auto& m : w.monitors) {
      if (auto a = arrivals.find(m.spec().dds_topic); !muted && a != arrivals.end()) {
        for (const TimePoint at : a->second) m.on_message(at);
      }
      auto change = m.evaluate(now);
      if (!change) continue;
      const int level = change->to == MonitorLevel::ok     ? 0
                        : change->to == MonitorLevel::warn ? 1
                                                           : 2;
      change->evidence["publishers"] = taps_.publishers(m.spec().dds_topic);
      if (level == 2 && m.spec().action == config::MonitorAction::hook && run_hook_) {
        resources::MonitorOutcome outcome;
        outcome.source = source_of(m);
        outcome.from = change->from;
        outcome.to = change->to;
        outcome.reason = change->reason;
        outcome.action = m.spec().action;
        outcome.hook = m.spec().hook;
        run_hook_(target.name, outcome);
      }
      supervisor_.on_monitor(target.name, target.pid, source_of(m), level, change->reason,
                             std::move(change->evidence), m.spec().action,
                             health::FailureKind::topic);
    }
    next.emplace(target.name, std::move(w));
  }
  watched_ = std::move(next);
  arm_stale_timer();
}

void TopicWatcher::arm_stale_timer() {
  std::optional<TimePoint> earliest;
  for (const auto& [name, w] : watched_) {
    for (const auto& m : w.monitors) {
      if (m.level() == MonitorLevel::fail) continue;  // already stale
      if (auto at = m.stale_at(); at && (!earliest || *at < *earliest)) earliest = at;
    }
  }
  if (!earliest) {
    stale_timer_.cancel();
    return;
  }
  stale_timer_.arm_at(*earliest, [this] { drain_and_judge(); });
}

nlohmann::json TopicWatcher::topics_of(const std::string& component) const {
  auto it = watched_.find(component);
  if (it == watched_.end() || it->second.monitors.empty()) return nullptr;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : it->second.monitors) {
    nlohmann::json j = m.describe(judged_at_);
    j.update(taps_.describe(m.spec().dds_topic));
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace vigil::daemon
