#pragma once
// What every node of the warehouse robot shares: its DDS participant (domain ROS_DOMAIN_ID),
// ROS 2 topics over plain Cyclone DDS, signal handling with a fault switch, and a fixed-rate
// loop with absolute deadlines.
//
// Signals: SIGTERM/SIGINT stop the node (exit 0, within a loop period); SIGUSR1 switches the
// node's fault on, SIGUSR2 off. They are blocked in every thread and taken by one thread of
// ours with sigwait(), so that what a signal does is ordinary code, not a signal handler.
#include <dds/dds.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "warehouse_msgs.h"

namespace warehouse {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// One line on stdout, flushed at once: vigild captures it into the component's log.
template <typename... Args>
void say(const char* format, Args... args) {
  std::printf(format, args...);
  std::printf("\n");
  std::fflush(stdout);
}

[[noreturn]] inline void die(const std::string& what, dds_return_t rc) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), dds_strretcode(rc));
  std::exit(1);
}

// ROS 2 chooses the domain from ROS_DOMAIN_ID; so do we (vigild's config sets it, see
// robot.yaml).
inline dds_domainid_t domain_from_environment() {
  const char* text = std::getenv("ROS_DOMAIN_ID");
  if (text == nullptr || *text == '\0') return 0;
  char* end = nullptr;
  const long id = std::strtol(text, &end, 10);
  if (*end != '\0' || id < 0 || id > 232) {
    std::fprintf(stderr, "ROS_DOMAIN_ID=%s is not a domain (0-232)\n", text);
    std::exit(2);
  }
  return static_cast<dds_domainid_t>(id);
}

// The time stamp of a ROS 2 header: wall clock, as ROS 2 nodes stamp by default.
inline builtin_interfaces_msg_dds__Time_ stamp_now() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count();
  return {static_cast<int32_t>(ns / 1'000'000'000), static_cast<uint32_t>(ns % 1'000'000'000)};
}

// A participant and everything created in it (deleting a participant deletes its children).
class Participant {
 public:
  Participant() {
    entity_ = dds_create_participant(domain_from_environment(), nullptr, nullptr);
    if (entity_ < 0) die("cannot create the DDS participant", entity_);
  }
  ~Participant() { dds_delete(entity_); }
  Participant(const Participant&) = delete;
  Participant& operator=(const Participant&) = delete;
  dds_entity_t get() const { return entity_; }

  // ROS 2 topic /name is DDS topic rt/name. QoS as rclcpp's SensorDataQoS: best effort, keep
  // last 5, volatile. Best effort for every topic because each is a stream whose next sample
  // supersedes the last, and because a reliable writer makes its node linger on exit (up to
  // Cyclone's 1 s WriterLingerDuration) while a stopped reader never acknowledges.
  dds_entity_t writer(const std::string& ros_topic, const dds_topic_descriptor_t* type) {
    return dds_create_writer(entity_, topic(ros_topic, type), qos_, nullptr);
  }
  dds_entity_t reader(const std::string& ros_topic, const dds_topic_descriptor_t* type) {
    return dds_create_reader(entity_, topic(ros_topic, type), qos_, nullptr);
  }

 private:
  dds_entity_t topic(const std::string& ros_topic, const dds_topic_descriptor_t* type) {
    const std::string name = "rt" + ros_topic;
    const dds_entity_t t = dds_create_topic(entity_, type, name.c_str(), nullptr, nullptr);
    if (t < 0) die("cannot create topic " + name, t);
    return t;
  }

  struct Qos {
    Qos() {
      qos = dds_create_qos();
      dds_qset_reliability(qos, DDS_RELIABILITY_BEST_EFFORT, 0);
      dds_qset_durability(qos, DDS_DURABILITY_VOLATILE);
      dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, 5);
    }
    ~Qos() { dds_delete_qos(qos); }
    operator const dds_qos_t*() const { return qos; }
    dds_qos_t* qos;
  };
  dds_entity_t entity_ = 0;
  Qos qos_;
};

// Writes one sample, reporting (not dying on) a failure: a lost sample is no reason to stop.
template <typename Message>
void publish(dds_entity_t writer, const Message& message) {
  if (const dds_return_t rc = dds_write(writer, &message); rc < 0) {
    std::fprintf(stderr, "write failed: %s\n", dds_strretcode(rc));
  }
}

// Takes every sample waiting in `reader` and hands each valid one to `on_sample`; returns how
// many were valid. Cyclone lends the samples (no copy) and gets them back at the end.
template <typename Message, typename OnSample>
int take_all(dds_entity_t reader, OnSample&& on_sample) {
  constexpr int batch = 16;
  int valid = 0;
  for (;;) {
    void* samples[batch] = {};
    dds_sample_info_t infos[batch];
    const dds_return_t n = dds_take(reader, samples, infos, batch, batch);
    if (n <= 0) return valid;
    for (int i = 0; i < n; ++i) {
      if (!infos[i].valid_data) continue;
      on_sample(*static_cast<const Message*>(samples[i]));
      ++valid;
    }
    dds_return_loan(reader, samples, n);
    if (n < batch) return valid;
  }
}

// The node's life: SIGTERM/SIGINT end it, SIGUSR1/SIGUSR2 switch its fault on/off. Construct
// it first in main(), before any other thread exists, so that every thread inherits the
// blocked signals.
class Node {
 public:
  using FaultSwitch = std::function<void(bool on)>;

  // `fault_description` is what SIGUSR1 does to this node, for the log line.
  Node(std::string name, std::string fault_description, FaultSwitch on_fault = {})
      : name_(std::move(name)),
        fault_description_(std::move(fault_description)),
        on_fault_(std::move(on_fault)) {
    sigemptyset(&signals_);
    for (int s : {SIGTERM, SIGINT, SIGUSR1, SIGUSR2}) sigaddset(&signals_, s);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    signal_thread_ = std::thread([this] { take_signals(); });
  }
  ~Node() {
    stop();
    // The signal thread waits in sigwait(): wake it with a signal meant for it alone.
    pthread_kill(signal_thread_.native_handle(), SIGTERM);
    signal_thread_.join();
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& name() const { return name_; }
  bool running() const { return running_.load(); }
  bool fault() const { return fault_.load(); }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      running_ = false;
    }
    wake_.notify_all();
  }

  // Sleeps until `deadline`; returns early (false) when the node stops.
  bool sleep_until(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return !wake_.wait_until(lock, deadline, [this] { return !running_.load(); });
  }
  // Waits while `condition` holds and the node runs, waking on every signal. A stuck loop
  // uses it, so that SIGTERM still ends the node promptly.
  void wait_while(const std::function<bool()>& condition) {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return !running_.load() || !condition(); });
  }

  // Calls `tick` every `period` until the node stops. Deadlines are absolute (start + k *
  // period), so the rate does not drift with the time a tick takes; after a stall longer than
  // a period the missed ticks are skipped, not run in a burst.
  template <typename Tick>
  void run_every(Clock::duration period, Tick&& tick) {
    auto deadline = Clock::now();
    while (running()) {
      tick();
      deadline += period;
      const auto now = Clock::now();
      if (deadline < now) deadline = now + period - (now - deadline) % period;
      if (!sleep_until(deadline)) break;
    }
  }

 private:
  void take_signals() {
    for (;;) {
      int signal = 0;
      if (sigwait(&signals_, &signal) != 0) continue;
      if (signal == SIGTERM || signal == SIGINT) {
        if (running()) say("%s: stopping (%s)", name_.c_str(), strsignal(signal));
        stop();
        return;
      }
      const bool on = signal == SIGUSR1;
      {
        // Under the mutex: a wait_while() between its check and its wait must not miss this.
        std::lock_guard lock(mutex_);
        if (fault_.exchange(on) == on) continue;  // already so: nothing changes
      }
      say("%s: fault %s: %s (%s)", name_.c_str(), on ? "ON" : "off", fault_description_.c_str(),
          on ? "SIGUSR1" : "SIGUSR2");
      if (on_fault_) on_fault_(on);
      wake_.notify_all();
    }
  }

  const std::string name_;
  const std::string fault_description_;
  const FaultSwitch on_fault_;
  sigset_t signals_;
  std::atomic<bool> running_{true};
  std::atomic<bool> fault_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread signal_thread_;
};

}  // namespace warehouse
