#include "diagnostics/event_log.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <fstream>

#include "common/sqlite_statement.hpp"

namespace vigil::diagnostics {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  wall_us INTEGER NOT NULL,
  mono_us INTEGER NOT NULL,
  boot_id TEXT NOT NULL,
  component TEXT NOT NULL,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  failure TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS events_by_component ON events(component, id);
CREATE INDEX IF NOT EXISTS events_by_time ON events(wall_us);
CREATE TABLE IF NOT EXISTS processes(
  component TEXT PRIMARY KEY,
  pid INTEGER NOT NULL,
  start_time INTEGER NOT NULL,
  boot_id TEXT NOT NULL,
  fingerprint TEXT NOT NULL DEFAULT '');
)sql";

using Statement = SqliteStatement;

// `quiet`: the caller reports the failure itself (a write that fails on a full disk would
// otherwise log at every retry).
bool exec(sqlite3* db, const char* sql, bool quiet = false) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    if (!quiet) spdlog::error("event log: {}: {}", sql, err != nullptr ? err : "?");
    sqlite3_free(err);
    return false;
  }
  return true;
}

// Brings a log written by an older vigild up to the current schema.
bool migrate(sqlite3* db) {
  bool has_fingerprint = false;
  Statement columns(db, "PRAGMA table_info(processes)");
  while (columns && sqlite3_step(columns.get()) == SQLITE_ROW) {
    has_fingerprint |= columns.text(1) == "fingerprint";
  }
  return has_fingerprint ||
         exec(db, "ALTER TABLE processes ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';");
}

}  // namespace

std::string read_boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

Result<std::unique_ptr<EventLog>> EventLog::open(const std::string& path,
                                                 config::EventLogSpec retention, bool read_only) {
  sqlite3* db = nullptr;
  const int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return make_error(fmt::format("open event log {}: {}", path, msg));
  }
  sqlite3_busy_timeout(db, 2000);
  std::unique_ptr<EventLog> log(new EventLog(db, retention));
  if (!read_only) {
    if (!exec(db, "PRAGMA journal_mode=WAL;") || !exec(db, "PRAGMA synchronous=NORMAL;") ||
        !exec(db, kSchema) || !migrate(db)) {
      return make_error(fmt::format("initialise event log {}: {}", path, sqlite3_errmsg(db)));
    }
  }
  return log;
}

EventLog::~EventLog() {
  sqlite3_close(db_);
}

Result<void> EventLog::store(std::vector<health::Event>& batch) {
  if (batch.empty()) return {};
  if (simulate_full_) {
    ++write_errors_;
    return make_error("database or disk is full (injected by vigil chaos state-dir-full)");
  }
  if (!exec(db_, "BEGIN IMMEDIATE;", /*quiet=*/true)) {
    ++write_errors_;
    return make_error(fmt::format("cannot begin a write: {}", sqlite3_errmsg(db_)));
  }
  Statement insert(db_,
                   "INSERT INTO events(wall_us, mono_us, boot_id, component, kind, state, failure, "
                   "reason, detail) VALUES(?,?,?,?,?,?,?,?,?)");
  Statement upsert(db_,
                   "INSERT OR REPLACE INTO processes(component, pid, start_time, boot_id, "
                   "fingerprint) VALUES(?,?,?,?,?)");
  Statement remove(db_, "DELETE FROM processes WHERE component = ? AND pid = ?");
  bool ok = insert && upsert && remove;
  for (auto& e : batch) {
    if (!ok) break;
    insert.bind(1, e.wall_us);
    insert.bind(2, e.mono_us);
    insert.bind(3, e.boot_id);
    insert.bind(4, e.component);
    insert.bind(5, std::string(health::to_string(e.kind)));
    insert.bind(6, e.state);
    insert.bind(7, std::string(health::to_string(e.failure)));
    insert.bind(8, e.reason);
    insert.bind(9, e.detail.dump());
    ok = sqlite3_step(insert.get()) == SQLITE_DONE;
    sqlite3_reset(insert.get());
    e.id = sqlite3_last_insert_rowid(db_);
    // The live-process table follows the events: it is what a restarted vigild adopts.
    const auto pid = e.detail.is_object() ? e.detail.value("pid", 0) : 0;
    if (ok && pid > 0 &&
        (e.kind == health::EventKind::spawned || e.kind == health::EventKind::adopted)) {
      upsert.bind(1, e.component);
      upsert.bind(2, pid);
      upsert.bind(3, e.detail.value("start_time", std::int64_t{0}));
      upsert.bind(4, e.boot_id);
      upsert.bind(5, e.detail.value("fingerprint", std::string()));
      ok = sqlite3_step(upsert.get()) == SQLITE_DONE;
      sqlite3_reset(upsert.get());
    } else if (ok && pid > 0 && e.kind == health::EventKind::exited) {
      remove.bind(1, e.component);
      remove.bind(2, pid);
      ok = sqlite3_step(remove.get()) == SQLITE_DONE;
      sqlite3_reset(remove.get());
    }
  }
  if (ok) ok = exec(db_, "COMMIT;", /*quiet=*/true);
  if (ok) return {};
  ++write_errors_;
  std::string why = sqlite3_errmsg(db_);
  exec(db_, "ROLLBACK;", /*quiet=*/true);
  for (auto& e : batch) e.id = 0;
  return make_error(why);
}

namespace {

std::vector<health::Event> read_events(sqlite3_stmt* stmt) {
  std::vector<health::Event> out;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    auto text = [stmt](int col) {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
      return p == nullptr ? std::string() : std::string(p);
    };
    health::Event e;
    e.id = sqlite3_column_int64(stmt, 0);
    e.wall_us = sqlite3_column_int64(stmt, 1);
    e.mono_us = sqlite3_column_int64(stmt, 2);
    e.boot_id = text(3);
    e.component = text(4);
    health::event_kind_from_string(text(5), e.kind);
    e.state = text(6);
    e.failure = health::failure_kind_from_string(text(7));
    e.reason = text(8);
    e.detail = nlohmann::json::parse(text(9), nullptr, false);
    if (e.detail.is_discarded()) e.detail = nlohmann::json::object();
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

std::vector<health::Event> EventLog::query(const EventQuery& q) const {
  Statement s(db_,
              "SELECT * FROM (SELECT id, wall_us, mono_us, boot_id, component, kind, state, "
              "failure, reason, detail FROM events WHERE (?1 = '' OR component = ?1) AND "
              "wall_us >= ?2 AND id > ?3 AND (?5 = 0 OR id < ?5) ORDER BY id DESC LIMIT ?4) "
              "ORDER BY id ASC");
  if (!s) return {};
  s.bind(1, q.component);
  s.bind(2, q.since_wall_us);
  s.bind(3, q.after_id);
  s.bind(4, static_cast<std::int64_t>(q.limit));
  s.bind(5, q.before_id);
  return read_events(s.get());
}

std::vector<health::Event> EventLog::state_before(std::int64_t wall_us) const {
  Statement s(db_,
              "SELECT id, wall_us, mono_us, boot_id, component, kind, state, failure, reason, "
              "detail FROM events WHERE id IN (SELECT MAX(id) FROM events WHERE wall_us < ?1 "
              "AND component != '' AND (failure != '' OR kind IN ('ready', 'adopted')) "
              "GROUP BY component) ORDER BY id ASC");
  if (!s) return {};
  s.bind(1, wall_us);
  return read_events(s.get());
}

std::vector<ProcessRow> EventLog::processes() const {
  std::vector<ProcessRow> out;
  Statement s(db_, "SELECT component, pid, start_time, boot_id, fingerprint FROM processes");
  if (!s) return out;
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    out.push_back({s.text(0), static_cast<pid_t>(sqlite3_column_int64(s.get(), 1)),
                   static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 2)), s.text(3),
                   s.text(4)});
  }
  return out;
}

std::int64_t EventLog::prune(std::int64_t now_wall_us) {
  const std::int64_t before = count();
  Statement by_age(db_, "DELETE FROM events WHERE wall_us < ?");
  by_age.bind(
      1, now_wall_us -
             std::chrono::duration_cast<std::chrono::microseconds>(retention_.max_age).count());
  sqlite3_step(by_age.get());
  Statement by_count(db_, "DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?");
  by_count.bind(1, retention_.max_events);
  sqlite3_step(by_count.get());
  return before - count();
}

std::int64_t EventLog::count() const {
  Statement s(db_, "SELECT COUNT(*) FROM events");
  if (!s || sqlite3_step(s.get()) != SQLITE_ROW) return 0;
  return sqlite3_column_int64(s.get(), 0);
}

}  // namespace vigil::diagnostics
