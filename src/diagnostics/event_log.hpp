#pragma once
// The durable event log: state_dir/events.db, SQLite in WAL mode. A committed event survives
// kill -9 of vigild (synchronous=NORMAL keeps the WAL consistent across a process crash; a
// power cut may lose the last commits but never corrupts the file). Retention is bounded by
// count and age. It also keeps the table of live processes used to adopt them after a crash.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "config/spec.hpp"
#include "health/event_bus.hpp"

struct sqlite3;

namespace vigil::diagnostics {

struct EventQuery {
  std::string component;  // empty: all
  std::int64_t since_wall_us = 0;
  std::int64_t after_id = 0;
  std::int64_t before_id = 0;  // 0: no upper bound (paging back through older events)
  int limit = 1000;            // the newest `limit` matching events, returned oldest first
};

struct ProcessRow {
  std::string component;
  pid_t pid = 0;
  std::uint64_t start_time = 0;
  std::string boot_id;
  std::string fingerprint;
};

class EventLog final : public health::EventStore {
 public:
  static Result<std::unique_ptr<EventLog>> open(const std::string& path,
                                                config::EventLogSpec retention,
                                                bool read_only = false);
  ~EventLog() override;

  Result<void> store(std::vector<health::Event>& batch) override;
  std::vector<health::Event> query(const EventQuery& q) const;
  // For each component, its last failure or ready/adopted event before `wall_us`: what a
  // report over a window starting then needs to know about the time before it.
  std::vector<health::Event> state_before(std::int64_t wall_us) const;
  std::vector<ProcessRow> processes() const;
  // Drops events beyond the retention limits; returns how many were removed.
  std::int64_t prune(std::int64_t now_wall_us);
  std::int64_t count() const;
  std::uint64_t write_errors() const { return write_errors_; }
  // Chaos (state_dir_full): every write fails as on a full disk while this is set.
  void simulate_full_disk(bool on) { simulate_full_ = on; }

 private:
  EventLog(sqlite3* db, config::EventLogSpec retention) : db_(db), retention_(retention) {}
  sqlite3* db_;
  config::EventLogSpec retention_;
  std::uint64_t write_errors_ = 0;
  bool simulate_full_ = false;
};

// /proc/sys/kernel/random/boot_id: monotonic times are comparable only within one boot.
std::string read_boot_id();

}  // namespace vigil::diagnostics
