#pragma once
// Downsampled metric series kept in state_dir/metrics.db (SQLite, WAL, synchronous=NORMAL), so
// that charts survive a page reload and a vigild restart.
//
// A series is (component or "host", name). Each configured tier (resolution, keep) aggregates
// the recorded values into buckets of its resolution (avg, min, max, count), in memory; a
// bucket is written once it is complete (a later sample fell into a newer bucket, or `now`
// passed its end). kill -9 loses the partially filled buckets and nothing else; a clean close
// writes them too, and a later bucket with the same start merges into the stored one.
//
// Storage is laid out for the design load (hundreds of series at 1 Hz on a robot's flash) so
// that every write appends instead of touching one page per series:
// - `recent`: one row per tier and bucket start with the points of every series that
//   completed it, clustered by time: a flush appends a row or two. It is the durable copy of
//   the chunk being filled; the same points are kept in memory for queries.
// - `chunks`: once a chunk period is over (points_per_chunk buckets of a tier: 1 min at 1 s),
//   one row per series holds the period's points packed in a blob, clustered by (tier, chunk
//   start, series): appended too, and a query reads one row per chunk by its key. Pruning
//   drops whole chunks at the front, also a range of the key.
#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "config/spec.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace vigil::history {

namespace detail {
struct Slotted;
}

struct SeriesKey {
  std::string component;  // a component's name, or "host"
  std::string name;       // cpu_percent, rss_bytes, heartbeat_interval_ms, phi, ...
  auto operator<=>(const SeriesKey&) const = default;
};

struct Point {
  std::int64_t t_us = 0;  // start of the bucket (wall clock)
  double avg = 0;
  double min = 0;
  double max = 0;
  std::int64_t count = 0;  // samples aggregated
};

struct QueryResult {
  // The spacing of the returned points: the coarsest tier used, or the thinning bucket width.
  std::int64_t resolution_us = 0;
  std::vector<Point> points;  // oldest first
};

struct HistoryOptions {
  // Buckets per chunk row. Points are pruned a whole chunk at a time: a tier keeps between
  // `keep` and `keep` + one chunk.
  int points_per_chunk = 60;
};

class MetricHistory {
 public:
  // Opens (creating on first use) the database at `path`. A file that is not a vigil metric
  // database, is corrupt, of a newer schema or cannot be written is an error naming it.
  static Result<std::unique_ptr<MetricHistory>> open(const std::string& path,
                                                     const config::HistorySpec& spec,
                                                     HistoryOptions options = {});
  ~MetricHistory();
  MetricHistory(const MetricHistory&) = delete;
  MetricHistory& operator=(const MetricHistory&) = delete;

  // Adds one sample. Non-finite values are ignored. Nothing is written here.
  void record(const SeriesKey& key, std::int64_t wall_us, double value);
  // Writes every complete bucket (as of `now_us`) in one transaction, packing finished chunk
  // periods and dropping chunks past `keep` as it goes. Call once per tick. On an error the
  // buckets of this flush are dropped (a full disk must not grow memory without bound).
  Result<void> flush(std::int64_t now_us);
  // Drops points older than each tier's `keep` (whole chunks).
  Result<void> prune(std::int64_t now_us);

  // Points of one series with bucket start in [since_us, until_us) (until_us <= 0: no end):
  // from the finest tier that has them, older ranges from coarser tiers, stitched, oldest
  // first; then bucketed further so that at most `max_points` remain (0: no limit). Reads
  // what has been flushed.
  Result<QueryResult> query(const std::string& component, const std::string& series,
                            std::int64_t since_us, std::int64_t until_us,
                            std::size_t max_points) const;
  // The flushed points of one tier alone (0: finest), oldest first.
  Result<std::vector<Point>> tier_points(const SeriesKey& key, std::size_t tier,
                                         std::int64_t since_us, std::int64_t until_us) const;
  // The names of the series of a component (stored or being recorded), sorted.
  std::vector<std::string> series(const std::string& component) const;

  const std::string& path() const { return path_; }
  std::size_t tiers() const { return resolution_us_.size(); }

 private:
  struct Bucket {
    std::int64_t start_us = 0;
    double sum = 0;
    double min = 0;
    double max = 0;
    std::int64_t count = 0;  // 0: no open bucket
  };
  struct Series {
    const SeriesKey* key = nullptr;            // its key in series_ (map nodes do not move)
    std::int64_t id = 0;                       // row in `series`; 0 until first written
    std::vector<Bucket> open;                  // per tier: the bucket being filled
    std::vector<std::vector<Point>> unpacked;  // per tier: written to `recent`, by time
  };
  struct Complete {
    Series* series;
    std::size_t tier;
    Point point;
  };

  class Checkpointer;
  MetricHistory(sqlite3* db, std::string path, const config::HistorySpec& spec,
                HistoryOptions options);
  Result<void> load();
  Result<void> write(std::int64_t now_us, bool pack);
  Result<void> write_recent(std::size_t tier, std::int64_t t_us,
                            const std::vector<detail::Slotted>& points);
  Result<void> pack_locked(std::size_t tier, std::int64_t boundary_us);
  Result<void> write_chunk(std::size_t tier, std::int64_t chunk_us, std::int64_t series_id,
                           const std::vector<Point>& points);
  Result<void> prune_locked(std::int64_t now_us);
  Result<std::vector<Point>> read_tier(const Series& s, std::size_t tier, std::int64_t since_us,
                                       std::int64_t until_us) const;
  Series& series_of(const SeriesKey& key);
  std::int64_t chunk_us(std::size_t tier) const {
    return resolution_us_[tier] * options_.points_per_chunk;
  }
  std::string sqlite_error(const char* what) const;

  sqlite3* db_;
  std::string path_;
  std::vector<std::int64_t> resolution_us_;  // per tier, finest first
  std::vector<std::int64_t> keep_us_;
  std::vector<std::int64_t> packed_until_us_;  // per tier: chunks before this are packed
  HistoryOptions options_;
  std::map<SeriesKey, Series> series_;
  std::vector<Complete> complete_;  // waiting for the next flush
  // Prepared once: a flush runs every tick.
  sqlite3_stmt* insert_series_ = nullptr;
  sqlite3_stmt* insert_recent_ = nullptr;
  sqlite3_stmt* read_recent_ = nullptr;
  sqlite3_stmt* insert_chunk_ = nullptr;
  sqlite3_stmt* read_chunk_ = nullptr;
  std::unique_ptr<Checkpointer> checkpointer_;
};

}  // namespace vigil::history
