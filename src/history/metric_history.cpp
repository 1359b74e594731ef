#include "history/metric_history.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "common/sqlite_statement.hpp"

namespace vigil::history {
namespace {

constexpr int kSchemaVersion = 1;
constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kNoEnd = std::numeric_limits<std::int64_t>::max();

// `recent` holds one row per tier and bucket start: the points of every series that completed
// that bucket (a blob: see encode), so that a flush appends one row, not one per series.
constexpr const char* kSchema = R"sql(
CREATE TABLE series(
  id INTEGER PRIMARY KEY,
  component TEXT NOT NULL,
  name TEXT NOT NULL,
  UNIQUE(component, name));
CREATE TABLE recent(
  resolution_s INTEGER NOT NULL,
  t_s INTEGER NOT NULL,
  points BLOB NOT NULL,
  PRIMARY KEY(resolution_s, t_s)) WITHOUT ROWID;
CREATE TABLE chunks(
  resolution_s INTEGER NOT NULL,
  chunk_s INTEGER NOT NULL,
  series_id INTEGER NOT NULL,
  points BLOB NOT NULL,
  PRIMARY KEY(resolution_s, chunk_s, series_id));
CREATE TABLE tiers(
  resolution_s INTEGER PRIMARY KEY,
  keep_s INTEGER NOT NULL,
  chunk_s INTEGER NOT NULL);
)sql";

constexpr const char* kInsertRecent =
    "INSERT INTO recent(resolution_s, t_s, points) VALUES(?,?,?) ON CONFLICT DO NOTHING";
constexpr const char* kReadRecent = "SELECT points FROM recent WHERE resolution_s = ? AND t_s = ?";

constexpr const char* kInsertSeries =
    "INSERT INTO series(component, name) VALUES(?, ?)"
    " ON CONFLICT(component, name) DO UPDATE SET name = excluded.name RETURNING id";

constexpr const char* kInsertChunk =
    "INSERT INTO chunks(resolution_s, chunk_s, series_id, points) VALUES(?,?,?,?)"
    " ON CONFLICT DO NOTHING";

constexpr const char* kReadChunk =
    "SELECT points FROM chunks WHERE resolution_s = ? AND chunk_s = ? AND series_id = ?";

using Statement = SqliteStatement;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::int64_t floor_to(std::int64_t a, std::int64_t step) {
  return floor_div(a, step) * step;
}

// Runs statements; the message of the first failure, or empty.
std::string exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) == SQLITE_OK) return {};
  std::string message = err != nullptr ? err : sqlite3_errmsg(db);
  sqlite3_free(err);
  return message;
}

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

std::string column_text(sqlite3_stmt* s, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
  return p == nullptr ? std::string() : std::string(p);
}

// Merges two aggregates of one bucket.
void merge(Point& into, const Point& p) {
  const auto n = into.count + p.count;
  if (n > 0) {
    into.avg = (into.avg * static_cast<double>(into.count) + p.avg * static_cast<double>(p.count)) /
               static_cast<double>(n);
  }
  into.min = std::min(into.min, p.min);
  into.max = std::max(into.max, p.max);
  into.count = n;
}

// Adds a point to a list kept in time order, merging a bucket that is already there. Points
// come in order but for clock steps and restarts.
void insert_sorted(std::vector<Point>& points, const Point& p) {
  if (points.empty() || points.back().t_us < p.t_us) {
    points.push_back(p);
    return;
  }
  auto it = std::lower_bound(points.begin(), points.end(), p.t_us,
                             [](const Point& a, std::int64_t t) { return a.t_us < t; });
  if (it != points.end() && it->t_us == p.t_us) {
    merge(*it, p);
  } else {
    points.insert(it, p);
  }
}

// Points packed in a blob, in the host's byte order (the file stays on this machine): per
// point u32 slot, u8 kind, f64 avg, then for kind 1 (several samples) f64 min, f64 max,
// u32 count, for kind 2 (several equal samples) u32 count. Kind 0 (one sample: min = max =
// avg) is 13 bytes: at 1 s resolution and 1 s sampling, most points. The slot is the bucket's index
// in a chunk row, the series id in a `recent` row.
}  // namespace
namespace detail {
struct Slotted {
  std::uint32_t slot = 0;
  Point point;
};
}  // namespace detail
namespace {
using detail::Slotted;

template <typename T>
void put(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  out.append(bytes, sizeof(T));
}

std::string encode(const std::vector<Slotted>& points) {
  std::string out;
  out.reserve(points.size() * 13);
  for (const auto& [slot, p] : points) {
    put(out, slot);
    const bool single = p.count == 1;
    const bool constant = !single && p.min == p.max;
    put(out, static_cast<std::uint8_t>(single ? 0 : constant ? 2 : 1));
    put(out, p.avg);
    if (!single && !constant) {
      put(out, p.min);
      put(out, p.max);
    }
    if (!single) put(out, static_cast<std::uint32_t>(std::min<std::int64_t>(p.count, UINT32_MAX)));
  }
  return out;
}

// Stops at the first malformed point: a damaged blob costs its own points, nothing else.
// Times are left to the caller (t_us = 0).
std::vector<Slotted> decode(const void* data, std::size_t size) {
  std::vector<Slotted> out;
  const auto* p = static_cast<const char*>(data);
  std::size_t at = 0;
  auto get = [&](auto& v) {
    if (at + sizeof(v) > size) return false;
    std::memcpy(&v, p + at, sizeof(v));
    at += sizeof(v);
    return true;
  };
  while (at < size) {
    Slotted s;
    std::uint8_t kind = 0;
    if (!get(s.slot) || !get(kind) || !get(s.point.avg) || kind > 2) break;
    s.point.min = s.point.max = s.point.avg;
    s.point.count = 1;
    if (kind == 1 && (!get(s.point.min) || !get(s.point.max))) break;
    if (kind != 0) {
      std::uint32_t n = 0;
      if (!get(n)) break;
      s.point.count = n;
    }
    out.push_back(s);
  }
  return out;
}

std::vector<Point> decode_chunk(const void* data, std::size_t size, std::int64_t chunk_us,
                                std::int64_t resolution_us) {
  std::vector<Point> out;
  for (auto& [slot, p] : decode(data, size)) {
    p.t_us = chunk_us + static_cast<std::int64_t>(slot) * resolution_us;
    out.push_back(p);
  }
  return out;
}

std::string encode_chunk(const std::vector<Point>& points, std::int64_t chunk_us,
                         std::int64_t resolution_us) {
  std::vector<Slotted> slotted;
  slotted.reserve(points.size());
  for (const auto& p : points) {
    slotted.push_back({static_cast<std::uint32_t>((p.t_us - chunk_us) / resolution_us), p});
  }
  return encode(slotted);
}

}  // namespace

// Copies the WAL back into the database on a thread of its own, with its own connection, once
// the WAL holds kWalPages pages. SQLite would otherwise do it inside a commit on the event loop,
// and a checkpoint waits for fdatasync: tens of milliseconds on an SD card, now and then.
// PASSIVE checkpoints never block the writer.
class MetricHistory::Checkpointer {
 public:
  static constexpr int kWalPages = 1000;  // SQLite's own default threshold

  static std::unique_ptr<Checkpointer> start(const std::string& path) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      sqlite3_close(db);
      return nullptr;
    }
    sqlite3_busy_timeout(db, 2000);
    return std::unique_ptr<Checkpointer>(new Checkpointer(db));
  }
  ~Checkpointer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
    sqlite3_close(db_);
  }
  void request() {
    {
      std::lock_guard lock(mutex_);
      requested_ = true;
    }
    wake_.notify_one();
  }

 private:
  explicit Checkpointer(sqlite3* db) : db_(db), thread_([this] { run(); }) {}
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return requested_ || stopping_; });
      if (stopping_) return;
      requested_ = false;
      lock.unlock();
      int wal = 0;
      int copied = 0;
      if (sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal, &copied) !=
          SQLITE_OK) {
        spdlog::warn("metric history: checkpoint: {}", sqlite3_errmsg(db_));
      }
      lock.lock();
    }
  }

  sqlite3* db_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

MetricHistory::MetricHistory(sqlite3* db, std::string path, const config::HistorySpec& spec,
                             HistoryOptions options)
    : db_(db), path_(std::move(path)), options_(options) {
  for (const auto& tier : spec.tiers) {
    resolution_us_.push_back(
        std::chrono::duration_cast<std::chrono::microseconds>(tier.resolution).count());
    keep_us_.push_back(std::chrono::duration_cast<std::chrono::microseconds>(tier.keep).count());
  }
  packed_until_us_.assign(resolution_us_.size(), std::numeric_limits<std::int64_t>::min());
}

std::string MetricHistory::sqlite_error(const char* what) const {
  return fmt::format("metric history {}: {}: {}", path_, what, sqlite3_errmsg(db_));
}

Result<std::unique_ptr<MetricHistory>> MetricHistory::open(const std::string& path,
                                                           const config::HistorySpec& spec,
                                                           HistoryOptions options) {
  if (spec.tiers.empty()) return make_error(fmt::format("metric history {}: no tiers", path));
  std::optional<std::int64_t> previous;
  for (const auto& tier : spec.tiers) {
    const auto res = std::chrono::duration_cast<std::chrono::microseconds>(tier.resolution).count();
    if (res < kMicrosPerSecond || res % kMicrosPerSecond != 0 || tier.keep < tier.resolution ||
        (previous && (res <= *previous || res % *previous != 0))) {
      return make_error(fmt::format(
          "metric history {}: tiers need whole-second resolutions, each a multiple of the "
          "previous one, and keep >= resolution",
          path));
    }
    previous = res;
  }
  options.points_per_chunk = std::clamp(options.points_per_chunk, 1, 65535);

  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return make_error(fmt::format("open metric history {}: {}", path, msg));
  }
  sqlite3_busy_timeout(db, 2000);
  std::unique_ptr<MetricHistory> h(new MetricHistory(db, path, spec, options));
  auto fail = [&](const std::string& what, const std::string& msg) {
    return make_error(fmt::format("open metric history {}: {}: {}", path, what, msg));
  };

  // The first read is where SQLite notices a file that is not a database.
  int version = 0;
  {
    Statement v(db, "PRAGMA user_version");
    if (!v || sqlite3_step(v.get()) != SQLITE_ROW) return fail("read", sqlite3_errmsg(db));
    version = sqlite3_column_int(v.get(), 0);
  }
  if (version > kSchemaVersion) {
    return fail("schema", fmt::format("version {} was written by a newer vigild (this one "
                                      "reads version {}); move the file away to start afresh",
                                      version, kSchemaVersion));
  }
  if (version == 0) {
    Statement tables(db, "SELECT count(*) FROM sqlite_master");
    if (!tables || sqlite3_step(tables.get()) != SQLITE_ROW) {
      return fail("read", sqlite3_errmsg(db));
    }
    if (sqlite3_column_int(tables.get(), 0) != 0) {
      return fail("schema", "the file is an SQLite database of something else");
    }
  }
  if (auto e = exec(db, "PRAGMA journal_mode=WAL;"); !e.empty()) return fail("WAL mode", e);
  if (auto e = exec(db, "PRAGMA synchronous=NORMAL;"); !e.empty()) return fail("synchronous", e);
  if (version == 0) {
    const std::string create = fmt::format("BEGIN IMMEDIATE; {} PRAGMA user_version = {}; COMMIT;",
                                           kSchema, kSchemaVersion);
    if (auto e = exec(db, create.c_str()); !e.empty()) {
      exec(db, "ROLLBACK;");
      return fail("create schema", e);
    }
  }

  // Points of tiers no longer configured (or chunked differently) would never be pruned nor
  // read: drop them when the tiers change (a full scan, so only then).
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> stored;
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> configured;
  {
    Statement t(db, "SELECT resolution_s, keep_s, chunk_s FROM tiers");
    if (!t) return fail("read tiers", sqlite3_errmsg(db));
    while (sqlite3_step(t.get()) == SQLITE_ROW) {
      stored.insert({sqlite3_column_int64(t.get(), 0), sqlite3_column_int64(t.get(), 1),
                     sqlite3_column_int64(t.get(), 2)});
    }
  }
  std::string kept;
  for (std::size_t i = 0; i < h->resolution_us_.size(); ++i) {
    configured.insert({h->resolution_us_[i] / kMicrosPerSecond, h->keep_us_[i] / kMicrosPerSecond,
                       h->chunk_us(i) / kMicrosPerSecond});
  }
  if (stored != configured) {
    std::set<std::int64_t> same;  // resolutions whose chunking is unchanged keep their points
    for (const auto& [r, k, c] : configured) {
      for (const auto& [r2, k2, c2] : stored) {
        if (r == r2 && c == c2) same.insert(r);
      }
    }
    for (auto r : same) kept += fmt::format("{}{}", kept.empty() ? "" : ",", r);
    std::string sql = fmt::format(
        "BEGIN IMMEDIATE; DELETE FROM chunks WHERE resolution_s NOT IN ({0});"
        " DELETE FROM recent WHERE resolution_s NOT IN ({0}); DELETE FROM tiers;",
        kept);
    for (const auto& [r, k, c] : configured) {
      sql += fmt::format(" INSERT INTO tiers VALUES({}, {}, {});", r, k, c);
    }
    sql += " COMMIT;";
    if (auto e = exec(db, sql.c_str()); !e.empty()) {
      exec(db, "ROLLBACK;");
      return fail("update tiers", e);
    }
  }

  for (auto [sql, stmt] :
       {std::pair{kInsertSeries, &h->insert_series_}, std::pair{kInsertRecent, &h->insert_recent_},
        std::pair{kReadRecent, &h->read_recent_}, std::pair{kInsertChunk, &h->insert_chunk_},
        std::pair{kReadChunk, &h->read_chunk_}}) {
    if (sqlite3_prepare_v2(db, sql, -1, stmt, nullptr) != SQLITE_OK) {
      return fail("prepare", sqlite3_errmsg(db));
    }
  }
  if (auto r = h->load(); !r) return make_error(r.error());
  // Without the thread (it could not open the file), SQLite checkpoints inside commits.
  h->checkpointer_ = Checkpointer::start(path);
  if (h->checkpointer_) {
    sqlite3_wal_hook(
        db,
        [](void* checkpointer, sqlite3* self, const char*, int pages) {
          if (pages >= Checkpointer::kWalPages) static_cast<Checkpointer*>(checkpointer)->request();
          // The WAL starts over only once a checkpoint has caught up with the writer; if the
          // thread never does (commits back to back), the writer checkpoints itself so that
          // the WAL stays bounded.
          if (pages >= 4 * Checkpointer::kWalPages) {
            sqlite3_wal_checkpoint_v2(self, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
          }
          return SQLITE_OK;
        },
        h->checkpointer_.get());
  }
  return h;
}

MetricHistory::Series& MetricHistory::series_of(const SeriesKey& key) {
  auto it = series_.find(key);
  if (it == series_.end()) {
    it = series_.emplace(key, Series{}).first;
    it->second.key = &it->first;
    it->second.open.assign(resolution_us_.size(), Bucket{});
    it->second.unpacked.resize(resolution_us_.size());
  }
  return it->second;
}

// The known series, and the points of the chunks not yet packed (after a restart).
Result<void> MetricHistory::load() {
  std::unordered_map<std::int64_t, Series*> by_id;
  {
    Statement s(db_, "SELECT id, component, name FROM series");
    if (!s) return make_error(sqlite_error("read series"));
    int rc = 0;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      Series& series = series_of(SeriesKey{column_text(s.get(), 1), column_text(s.get(), 2)});
      series.id = sqlite3_column_int64(s.get(), 0);
      by_id[series.id] = &series;
    }
    if (rc != SQLITE_DONE) return make_error(sqlite_error("read series"));
  }
  Statement r(db_, "SELECT resolution_s, t_s, points FROM recent");
  if (!r) return make_error(sqlite_error("read recent points"));
  int rc = 0;
  while ((rc = sqlite3_step(r.get())) == SQLITE_ROW) {
    const auto resolution_us = sqlite3_column_int64(r.get(), 0) * kMicrosPerSecond;
    const auto tier = std::find(resolution_us_.begin(), resolution_us_.end(), resolution_us);
    if (tier == resolution_us_.end()) continue;
    const std::int64_t t_us = sqlite3_column_int64(r.get(), 1) * kMicrosPerSecond;
    for (auto& [slot, p] : decode(sqlite3_column_blob(r.get(), 2),
                                  static_cast<std::size_t>(sqlite3_column_bytes(r.get(), 2)))) {
      auto series = by_id.find(slot);
      if (series == by_id.end()) continue;
      p.t_us = t_us;
      insert_sorted(series->second->unpacked[tier - resolution_us_.begin()], p);
    }
  }
  if (rc != SQLITE_DONE) return make_error(sqlite_error("read recent points"));
  return {};
}

MetricHistory::~MetricHistory() {
  // A clean close keeps the partially filled buckets too; kill -9 loses only those.
  for (auto& [key, s] : series_) {
    for (std::size_t i = 0; i < s.open.size(); ++i) {
      const Bucket& b = s.open[i];
      if (b.count > 0) {
        complete_.push_back(
            {&s, i, {b.start_us, b.sum / static_cast<double>(b.count), b.min, b.max, b.count}});
      }
    }
  }
  if (!complete_.empty()) {
    if (auto r = write(0, /*pack=*/false); !r) spdlog::warn("{}", r.error());
  }
  sqlite3_wal_hook(db_, nullptr, nullptr);
  checkpointer_.reset();
  for (auto* s : {insert_series_, insert_recent_, read_recent_, insert_chunk_, read_chunk_}) {
    sqlite3_finalize(s);
  }
  sqlite3_close(db_);
}

void MetricHistory::record(const SeriesKey& key, std::int64_t wall_us, double value) {
  if (!std::isfinite(value)) return;
  Series& s = series_of(key);
  for (std::size_t i = 0; i < resolution_us_.size(); ++i) {
    const std::int64_t start = floor_to(wall_us, resolution_us_[i]);
    Bucket& b = s.open[i];
    // A sample in another bucket (later, or earlier after a clock step) completes this one.
    if (b.count > 0 && b.start_us != start) {
      complete_.push_back(
          {&s, i, {b.start_us, b.sum / static_cast<double>(b.count), b.min, b.max, b.count}});
      b = Bucket{};
    }
    if (b.count == 0) {
      b.start_us = start;
      b.min = value;
      b.max = value;
    }
    b.sum += value;
    b.min = std::min(b.min, value);
    b.max = std::max(b.max, value);
    ++b.count;
  }
}

Result<void> MetricHistory::flush(std::int64_t now_us) {
  // Buckets whose time is over though no later sample came (the component stopped).
  for (auto& [key, s] : series_) {
    for (std::size_t i = 0; i < s.open.size(); ++i) {
      const Bucket& b = s.open[i];
      if (b.count > 0 && b.start_us + resolution_us_[i] <= now_us) {
        complete_.push_back(
            {&s, i, {b.start_us, b.sum / static_cast<double>(b.count), b.min, b.max, b.count}});
        s.open[i] = Bucket{};
      }
    }
  }
  bool pack = false;
  for (std::size_t i = 0; i < resolution_us_.size(); ++i) {
    pack |= floor_to(now_us, chunk_us(i)) > packed_until_us_[i];
  }
  if (complete_.empty() && !pack) return {};
  return write(now_us, pack);
}

Result<void> MetricHistory::write(std::int64_t now_us, bool pack) {
  // Memory first: a failed transaction leaves points visible that the file lacks until the
  // next restart, which a chart survives; the file itself stays consistent.
  for (const auto& c : complete_) insert_sorted(c.series->unpacked[c.tier], c.point);
  std::vector<Complete> buckets;
  buckets.swap(complete_);

  if (auto e = exec(db_, "BEGIN IMMEDIATE;"); !e.empty()) {
    return make_error(fmt::format("metric history {}: begin: {}", path_, e));
  }
  std::vector<Series*> assigned;  // ids given in this transaction: void again on rollback
  std::map<std::pair<std::size_t, std::int64_t>, std::vector<Slotted>> by_bucket;
  auto rollback = [&](const std::string& error) {
    exec(db_, "ROLLBACK;");
    for (auto* s : assigned) s->id = 0;
    return make_error(error);
  };
  for (const auto& c : buckets) {
    if (c.series->id == 0) {
      sqlite3_reset(insert_series_);
      bind_text(insert_series_, 1, c.series->key->component);
      bind_text(insert_series_, 2, c.series->key->name);
      if (sqlite3_step(insert_series_) != SQLITE_ROW) return rollback(sqlite_error("add series"));
      c.series->id = sqlite3_column_int64(insert_series_, 0);
      sqlite3_reset(insert_series_);
      assigned.push_back(c.series);
    }
    by_bucket[{c.tier, c.point.t_us}].push_back(
        {static_cast<std::uint32_t>(c.series->id), c.point});
  }
  for (const auto& [bucket, points] : by_bucket) {
    if (auto r = write_recent(bucket.first, bucket.second, points); !r) return rollback(r.error());
  }

  std::vector<std::pair<std::size_t, std::int64_t>> packed;  // tier, boundary
  if (pack) {
    for (std::size_t i = 0; i < resolution_us_.size(); ++i) {
      const std::int64_t boundary = floor_to(now_us, chunk_us(i));
      if (boundary <= packed_until_us_[i]) continue;
      if (auto r = pack_locked(i, boundary); !r) return rollback(r.error());
      packed.emplace_back(i, boundary);
    }
    if (auto r = prune_locked(now_us); !r) return rollback(r.error());
  }
  if (auto e = exec(db_, "COMMIT;"); !e.empty()) {
    return rollback(fmt::format("metric history {}: commit: {}", path_, e));
  }
  for (const auto& [tier, boundary] : packed) {
    packed_until_us_[tier] = boundary;
    for (auto& [key, s] : series_) {
      auto& points = s.unpacked[tier];
      auto end = std::lower_bound(points.begin(), points.end(), boundary,
                                  [](const Point& a, std::int64_t t) { return a.t_us < t; });
      points.erase(points.begin(), end);
    }
  }
  return {};
}

// One row for the points of every series that completed one bucket.
Result<void> MetricHistory::write_recent(std::size_t tier, std::int64_t t_us,
                                         const std::vector<Slotted>& points) {
  const std::int64_t resolution_s = resolution_us_[tier] / kMicrosPerSecond;
  const std::int64_t t_s = floor_div(t_us, kMicrosPerSecond);
  std::string blob = encode(points);
  sqlite3_stmt* s = insert_recent_;
  sqlite3_reset(s);
  sqlite3_bind_int64(s, 1, resolution_s);
  sqlite3_bind_int64(s, 2, t_s);
  sqlite3_bind_blob(s, 3, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
  const bool ok = sqlite3_step(s) == SQLITE_DONE;
  const bool inserted = ok && sqlite3_changes(db_) > 0;
  sqlite3_reset(s);
  if (!ok) return make_error(sqlite_error("write points"));
  if (inserted) return {};

  // The row exists (more series completing this bucket later, a restart, a clock step):
  // merge into it.
  std::map<std::uint32_t, Point> merged;
  sqlite3_reset(read_recent_);
  sqlite3_bind_int64(read_recent_, 1, resolution_s);
  sqlite3_bind_int64(read_recent_, 2, t_s);
  if (sqlite3_step(read_recent_) == SQLITE_ROW) {
    for (const auto& [slot, p] :
         decode(sqlite3_column_blob(read_recent_, 0),
                static_cast<std::size_t>(sqlite3_column_bytes(read_recent_, 0)))) {
      merged.emplace(slot, p);
    }
  }
  sqlite3_reset(read_recent_);
  for (const auto& [slot, p] : points) {
    auto [it, added] = merged.emplace(slot, p);
    if (!added) merge(it->second, p);
  }
  std::vector<Slotted> all;
  for (const auto& [slot, p] : merged) all.push_back({slot, p});
  blob = encode(all);
  Statement update(db_, "UPDATE recent SET points = ? WHERE resolution_s = ? AND t_s = ?");
  if (!update) return make_error(sqlite_error("merge points"));
  sqlite3_bind_blob(update.get(), 1, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
  sqlite3_bind_int64(update.get(), 2, resolution_s);
  sqlite3_bind_int64(update.get(), 3, t_s);
  if (sqlite3_step(update.get()) != SQLITE_DONE) return make_error(sqlite_error("merge points"));
  return {};
}

// Packs every series' points before `boundary` into chunk rows, and empties `recent` of them.
Result<void> MetricHistory::pack_locked(std::size_t tier, std::int64_t boundary) {
  const std::int64_t chunk = chunk_us(tier);
  for (auto& [key, s] : series_) {
    const auto& points = s.unpacked[tier];
    if (s.id == 0 || points.empty() || points.front().t_us >= boundary) continue;
    std::vector<Point> part;
    std::int64_t part_chunk = floor_to(points.front().t_us, chunk);
    for (const auto& p : points) {
      if (p.t_us >= boundary) break;
      const std::int64_t c = floor_to(p.t_us, chunk);
      if (c != part_chunk && !part.empty()) {
        if (auto r = write_chunk(tier, part_chunk, s.id, part); !r) return r;
        part.clear();
      }
      part_chunk = c;
      part.push_back(p);
    }
    if (!part.empty()) {
      if (auto r = write_chunk(tier, part_chunk, s.id, part); !r) return r;
    }
  }
  Statement drop(db_, "DELETE FROM recent WHERE resolution_s = ? AND t_s < ?");
  if (!drop) return make_error(sqlite_error("pack"));
  sqlite3_bind_int64(drop.get(), 1, resolution_us_[tier] / kMicrosPerSecond);
  sqlite3_bind_int64(drop.get(), 2, floor_div(boundary, kMicrosPerSecond));
  if (sqlite3_step(drop.get()) != SQLITE_DONE) return make_error(sqlite_error("pack"));
  return {};
}

Result<void> MetricHistory::write_chunk(std::size_t tier, std::int64_t chunk_start_us,
                                        std::int64_t series_id, const std::vector<Point>& points) {
  const std::int64_t resolution_s = resolution_us_[tier] / kMicrosPerSecond;
  const std::int64_t chunk_s = floor_div(chunk_start_us, kMicrosPerSecond);
  std::string blob = encode_chunk(points, chunk_start_us, resolution_us_[tier]);
  sqlite3_stmt* s = insert_chunk_;
  sqlite3_reset(s);
  sqlite3_bind_int64(s, 1, resolution_s);
  sqlite3_bind_int64(s, 2, chunk_s);
  sqlite3_bind_int64(s, 3, series_id);
  sqlite3_bind_blob(s, 4, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
  const bool ok = sqlite3_step(s) == SQLITE_DONE;
  const bool inserted = ok && sqlite3_changes(db_) > 0;
  sqlite3_reset(s);
  if (!ok) return make_error(sqlite_error("write chunk"));
  if (inserted) return {};

  // The chunk exists already (the clock went back, or points of a packed period came late):
  // merge into it. Rare, so not prepared.
  std::vector<Point> merged;
  sqlite3_reset(read_chunk_);
  sqlite3_bind_int64(read_chunk_, 1, resolution_s);
  sqlite3_bind_int64(read_chunk_, 2, chunk_s);
  sqlite3_bind_int64(read_chunk_, 3, series_id);
  if (sqlite3_step(read_chunk_) == SQLITE_ROW) {
    merged = decode_chunk(sqlite3_column_blob(read_chunk_, 0),
                          static_cast<std::size_t>(sqlite3_column_bytes(read_chunk_, 0)),
                          chunk_start_us, resolution_us_[tier]);
  }
  sqlite3_reset(read_chunk_);
  for (const auto& p : points) insert_sorted(merged, p);
  blob = encode_chunk(merged, chunk_start_us, resolution_us_[tier]);
  Statement update(db_,
                   "UPDATE chunks SET points = ? WHERE resolution_s = ? AND chunk_s = ? AND "
                   "series_id = ?");
  if (!update) return make_error(sqlite_error("merge chunk"));
  sqlite3_bind_blob(update.get(), 1, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
  sqlite3_bind_int64(update.get(), 2, resolution_s);
  sqlite3_bind_int64(update.get(), 3, chunk_s);
  sqlite3_bind_int64(update.get(), 4, series_id);
  if (sqlite3_step(update.get()) != SQLITE_DONE) return make_error(sqlite_error("merge chunk"));
  return {};
}

// Whole chunks past `keep`, and unpacked points past it: ranges at the front of each key.
Result<void> MetricHistory::prune_locked(std::int64_t now_us) {
  Statement chunks(db_, "DELETE FROM chunks WHERE resolution_s = ? AND chunk_s <= ?");
  Statement recent(db_, "DELETE FROM recent WHERE resolution_s = ? AND t_s < ?");
  if (!chunks || !recent) return make_error(sqlite_error("prune"));
  for (std::size_t i = 0; i < resolution_us_.size(); ++i) {
    const std::int64_t cutoff = now_us - keep_us_[i];
    const std::int64_t resolution_s = resolution_us_[i] / kMicrosPerSecond;
    sqlite3_bind_int64(chunks.get(), 1, resolution_s);
    sqlite3_bind_int64(chunks.get(), 2, floor_div(cutoff - chunk_us(i), kMicrosPerSecond));
    sqlite3_bind_int64(recent.get(), 1, resolution_s);
    sqlite3_bind_int64(recent.get(), 2, floor_div(cutoff, kMicrosPerSecond));
    for (auto* s : {chunks.get(), recent.get()}) {
      if (sqlite3_step(s) != SQLITE_DONE) return make_error(sqlite_error("prune"));
      sqlite3_reset(s);
    }
  }
  for (auto& [key, s] : series_) {
    for (std::size_t i = 0; i < resolution_us_.size(); ++i) {
      auto& points = s.unpacked[i];
      auto end = std::lower_bound(points.begin(), points.end(), now_us - keep_us_[i],
                                  [](const Point& a, std::int64_t t) { return a.t_us < t; });
      points.erase(points.begin(), end);
    }
  }
  return {};
}

Result<void> MetricHistory::prune(std::int64_t now_us) {
  if (auto e = exec(db_, "BEGIN IMMEDIATE;"); !e.empty()) {
    return make_error(fmt::format("metric history {}: begin: {}", path_, e));
  }
  if (auto r = prune_locked(now_us); !r) {
    exec(db_, "ROLLBACK;");
    return r;
  }
  if (auto e = exec(db_, "COMMIT;"); !e.empty()) {
    exec(db_, "ROLLBACK;");
    return make_error(fmt::format("metric history {}: commit: {}", path_, e));
  }
  return {};
}

Result<std::vector<Point>> MetricHistory::read_tier(const Series& s, std::size_t tier,
                                                    std::int64_t since_us,
                                                    std::int64_t until_us) const {
  std::vector<Point> out;
  const std::int64_t resolution_s = resolution_us_[tier] / kMicrosPerSecond;
  const std::int64_t chunk = chunk_us(tier);
  if (s.id != 0) {
    // Chunk starts are known in advance: one lookup by key per chunk, between the first and
    // the last chunk stored for this tier.
    std::optional<std::int64_t> first;
    std::optional<std::int64_t> last;
    for (auto [sql, into] :
         {std::pair{"SELECT chunk_s FROM chunks WHERE resolution_s = ? ORDER BY chunk_s LIMIT 1",
                    &first},
          std::pair{
              "SELECT chunk_s FROM chunks WHERE resolution_s = ? ORDER BY chunk_s DESC LIMIT 1",
              &last}}) {
      Statement q(db_, sql);
      if (!q) return make_error(sqlite_error("query"));
      sqlite3_bind_int64(q.get(), 1, resolution_s);
      const int rc = sqlite3_step(q.get());
      if (rc == SQLITE_ROW) {
        *into = sqlite3_column_int64(q.get(), 0) * kMicrosPerSecond;
      } else if (rc != SQLITE_DONE) {
        return make_error(sqlite_error("query"));
      }
    }
    if (first && last) {
      const std::int64_t from = std::max(floor_to(since_us, chunk), *first);
      const std::int64_t to = until_us == kNoEnd ? *last : std::min(until_us, *last);
      for (std::int64_t c = from; c <= to; c += chunk) {
        sqlite3_reset(read_chunk_);
        sqlite3_bind_int64(read_chunk_, 1, resolution_s);
        sqlite3_bind_int64(read_chunk_, 2, floor_div(c, kMicrosPerSecond));
        sqlite3_bind_int64(read_chunk_, 3, s.id);
        const int rc = sqlite3_step(read_chunk_);
        if (rc == SQLITE_ROW) {
          for (const auto& p :
               decode_chunk(sqlite3_column_blob(read_chunk_, 0),
                            static_cast<std::size_t>(sqlite3_column_bytes(read_chunk_, 0)), c,
                            resolution_us_[tier])) {
            if (p.t_us >= since_us && p.t_us < until_us) insert_sorted(out, p);
          }
        } else if (rc != SQLITE_DONE) {
          sqlite3_reset(read_chunk_);
          return make_error(sqlite_error("query"));
        }
      }
      sqlite3_reset(read_chunk_);
    }
  }
  for (const auto& p : s.unpacked[tier]) {
    if (p.t_us >= since_us && p.t_us < until_us) insert_sorted(out, p);
  }
  return out;
}

Result<std::vector<Point>> MetricHistory::tier_points(const SeriesKey& key, std::size_t tier,
                                                      std::int64_t since_us,
                                                      std::int64_t until_us) const {
  auto it = series_.find(key);
  if (it == series_.end() || tier >= resolution_us_.size()) return std::vector<Point>{};
  return read_tier(it->second, tier, since_us, until_us <= 0 ? kNoEnd : until_us);
}

Result<QueryResult> MetricHistory::query(const std::string& component, const std::string& series,
                                         std::int64_t since_us, std::int64_t until_us,
                                         std::size_t max_points) const {
  QueryResult result;
  result.resolution_us = resolution_us_.front();
  auto it = series_.find(SeriesKey{component, series});
  if (it == series_.end()) return result;
  std::int64_t until = until_us <= 0 ? kNoEnd : until_us;
  // Finest first; each coarser tier fills only what is older than the oldest finer point,
  // with buckets that end by then (no sample counted twice, no bucket claiming a time
  // before its samples).
  std::vector<std::vector<Point>> parts;
  for (std::size_t i = 0; i < resolution_us_.size() && since_us < until; ++i) {
    const std::int64_t before =
        parts.empty() || until == kNoEnd ? until : until - resolution_us_[i] + 1;
    auto part = read_tier(it->second, i, since_us, before);
    if (!part) return make_error(part.error());
    if (part->empty()) continue;
    until = part->front().t_us;
    result.resolution_us = resolution_us_[i];
    parts.push_back(std::move(*part));
  }
  for (auto p = parts.rbegin(); p != parts.rend(); ++p) {
    result.points.insert(result.points.end(), p->begin(), p->end());
  }
  if (max_points == 0 || result.points.size() <= max_points) return result;

  // Thinning: equal-width buckets from the first point, a whole number of finest resolutions
  // wide, so that at most max_points remain.
  const std::int64_t first = result.points.front().t_us;
  const std::int64_t span = result.points.back().t_us - first + 1;
  const auto n = static_cast<std::int64_t>(max_points);
  const std::int64_t unit = resolution_us_.front();
  std::int64_t width = (span + n - 1) / n;
  width = (width + unit - 1) / unit * unit;
  std::vector<Point> thinned;
  for (const auto& p : result.points) {
    const std::int64_t start = first + (p.t_us - first) / width * width;
    if (!thinned.empty() && thinned.back().t_us == start) {
      merge(thinned.back(), p);
    } else {
      thinned.push_back(p);
      thinned.back().t_us = start;
    }
  }
  result.points = std::move(thinned);
  result.resolution_us = std::max(result.resolution_us, width);
  return result;
}

std::vector<std::string> MetricHistory::series(const std::string& component) const {
  std::vector<std::string> names;
  for (auto it = series_.lower_bound(SeriesKey{component, ""});
       it != series_.end() && it->first.component == component; ++it) {
    names.push_back(it->first.name);
  }
  return names;
}

}  // namespace vigil::history
