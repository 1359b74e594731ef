#include "vigil/dds_heartbeat.hpp"

#include <dds/dds.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "dds_support.hpp"
#include "ros2_types_private.h"
#include "vigil/notify.hpp"

namespace vigil {

using dds_support::Entity;

struct DdsHeartbeat::State {
  // Resolved options.
  std::uint32_t domain = 0;
  std::string component;
  std::chrono::microseconds lease{0};
  std::chrono::microseconds period{0};
  std::function<bool()> healthy;

  Status status = Status::from_errno(EINVAL);
  std::string status_detail = "not started";
  Entity own_participant;  // declared before the writer: deleted after it
  dds_entity_t participant = 0;
  Entity topic;
  Entity writer;

  std::atomic<std::uint64_t> beats{0};
  std::mutex write_mutex;  // the sample's count, shared by the thread and beat()
  std::uint64_t count = 0;

  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;

  void fail(dds_return_t rc, std::string what) {
    status = Status::from_errno(dds_support::errno_of(rc));
    status_detail = std::move(what);
  }

  bool is_healthy() {
    if (!healthy) return true;
    try {
      return healthy();
    } catch (...) {
      return false;  // a predicate that cannot tell is not evidence of health
    }
  }

  Status beat() {
    if (!status) return status;
    if (!is_healthy()) return Status::from_errno(EAGAIN);
    std::lock_guard lock(write_mutex);
    vigil_msgs_msg_dds__Heartbeat_ sample{};
    sample.component = const_cast<char*>(component.c_str());
    sample.count = count + 1;
    const dds_return_t rc = dds_write(writer.get(), &sample);
    if (rc < 0) return Status::from_errno(dds_support::errno_of(rc));
    count = sample.count;
    beats.fetch_add(1, std::memory_order_relaxed);
    return {};
  }

  void run() {
    auto next = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex);
    while (!stopping) {
      lock.unlock();
      (void)beat();
      lock.lock();
      // A deadline keeps the rate steady however long a beat took; after a long stall, start
      // afresh instead of bursting to catch up (as vigil::Heartbeat does).
      next += period;
      const auto now = std::chrono::steady_clock::now();
      if (next < now) next = now;
      wake.wait_until(lock, next, [&] { return stopping; });
    }
  }

  void create(std::int32_t given_participant) {
    if (lease.count() <= 0 || period.count() <= 0 || period >= lease) {
      status = Status::from_errno(EINVAL);
      status_detail = "lease and period must be positive and the period shorter than the lease";
      return;
    }
    std::string what;
    participant = dds_support::participant_for(given_participant, domain, own_participant, what);
    if (participant < 0) {
      fail(participant, what);
      participant = 0;
      return;
    }
    if (given_participant != 0) {
      dds_domainid_t actual = 0;
      if (dds_get_domainid(participant, &actual) == DDS_RETCODE_OK) domain = actual;
    }
    const dds_entity_t t = dds_create_topic(participant, &vigil_msgs_msg_dds__Heartbeat__desc,
                                            "rt/vigil/heartbeat", nullptr, nullptr);
    if (t < 0) {
      fail(t, std::string("dds_create_topic(rt/vigil/heartbeat): ") + dds_strretcode(t));
      return;
    }
    topic = Entity(t);
    dds_qos_t* qos = dds_create_qos();
    dds_qset_reliability(qos, DDS_RELIABILITY_BEST_EFFORT, 0);
    dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, 1);
    dds_qset_liveliness(qos, DDS_LIVELINESS_MANUAL_BY_TOPIC,
                        std::chrono::duration_cast<std::chrono::nanoseconds>(lease).count());
    const dds_entity_t w = dds_create_writer(participant, t, qos, nullptr);
    dds_delete_qos(qos);
    if (w < 0) {
      fail(w, std::string("dds_create_writer(rt/vigil/heartbeat): ") + dds_strretcode(w));
      return;
    }
    writer = Entity(w);
    status = Status();
    status_detail = "ok";
  }

  ~State() {
    // Children first: the caller's participant stays, ours goes last.
    writer.reset();
    topic.reset();
    own_participant.reset();
  }
};

DdsHeartbeat::DdsHeartbeat(DdsHeartbeatOptions options) : state_(std::make_shared<State>()) {
  State& s = *state_;
  s.domain = options.domain ? *options.domain : dds_support::domain_from_environment();
  if (options.component) {
    s.component = *options.component;
  } else if (const char* env = std::getenv("VIGIL_COMPONENT"); env != nullptr) {
    s.component = env;
  }
  s.lease = options.lease ? *options.lease
                          : watchdog_interval().value_or(std::chrono::microseconds(1'000'000));
  s.period = options.period ? *options.period : s.lease / 3;
  s.healthy = std::move(options.healthy);
  s.create(options.participant);
  if (s.status && options.own_thread) s.thread = std::thread([p = state_.get()] { p->run(); });
}

DdsHeartbeat::DdsHeartbeat(DdsHeartbeat&&) noexcept = default;

DdsHeartbeat& DdsHeartbeat::operator=(DdsHeartbeat&& other) noexcept {
  if (this != &other) {
    stop();
    state_ = std::move(other.state_);
  }
  return *this;
}

DdsHeartbeat::~DdsHeartbeat() {
  stop();
}

void DdsHeartbeat::stop() {
  if (!state_) return;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  if (state_->thread.joinable() && state_->thread.get_id() != std::this_thread::get_id())
    state_->thread.join();
}

Status DdsHeartbeat::status() const {
  return state_ ? state_->status : Status::from_errno(EINVAL);
}
std::string DdsHeartbeat::status_detail() const {
  return state_ ? state_->status_detail : "moved from";
}
Status DdsHeartbeat::beat() {
  return state_ ? state_->beat() : Status::from_errno(EINVAL);
}
bool DdsHeartbeat::running() const {
  if (!state_) return false;
  std::lock_guard lock(state_->mutex);
  return state_->thread.joinable() && !state_->stopping;
}
std::uint64_t DdsHeartbeat::beats_sent() const {
  return state_ ? state_->beats.load(std::memory_order_relaxed) : 0;
}
std::chrono::microseconds DdsHeartbeat::lease() const {
  return state_ ? state_->lease : std::chrono::microseconds(0);
}
std::chrono::microseconds DdsHeartbeat::period() const {
  return state_ ? state_->period : std::chrono::microseconds(0);
}
std::uint32_t DdsHeartbeat::domain() const {
  return state_ ? state_->domain : 0;
}
std::string DdsHeartbeat::component() const {
  return state_ ? state_->component : std::string();
}
std::int32_t DdsHeartbeat::participant() const {
  return state_ && state_->status ? state_->participant : 0;
}
std::int32_t DdsHeartbeat::writer() const {
  return state_ ? state_->writer.get() : 0;
}

}  // namespace vigil
