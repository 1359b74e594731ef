// The metric history on a real SQLite file in a temporary directory.
#include "history/metric_history.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

namespace vigil::history {
namespace {

using namespace std::chrono_literals;
constexpr std::int64_t kSecond = 1'000'000;

config::HistorySpec tiers(std::initializer_list<config::HistoryTier> list) {
  config::HistorySpec spec;
  spec.tiers = list;
  return spec;
}

// The flushed points of one tier.
std::vector<Point> stored(MetricHistory& h, const SeriesKey& key, std::size_t tier) {
  auto points = h.tier_points(key, tier, 0, 0);
  EXPECT_TRUE(points.ok()) << points.error();
  return points.ok() ? *points : std::vector<Point>{};
}

class MetricHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil-history-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string db() const { return (dir_ / "metrics.db").string(); }

  // Rows in the file for one tier (resolution in seconds), chunks and unpacked points, read
  // through a second, read-only connection (as an operator's sqlite3 would).
  int rows_on_disk(std::int64_t resolution_s) const {
    sqlite3* c = nullptr;
    EXPECT_EQ(sqlite3_open_v2(db().c_str(), &c, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    const char* sql =
        "SELECT (SELECT count(*) FROM recent WHERE resolution_s = ?1) +"
        " (SELECT count(*) FROM chunks WHERE resolution_s = ?1)";
    EXPECT_EQ(sqlite3_prepare_v2(c, sql, -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(c);
    sqlite3_bind_int64(s, 1, resolution_s);
    int rows = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    sqlite3_finalize(s);
    sqlite3_close(c);
    return rows;
  }

  std::filesystem::path dir_;
};

TEST_F(MetricHistoryTest, AggregatesAverageMinAndMaxPerBucketAtEachTier) {
  auto h = MetricHistory::open(db(), tiers({{1s, 1h}, {10s, 1h}}));
  ASSERT_TRUE(h.ok()) << h.error();
  const SeriesKey key{"lidar", "cpu_percent"};
  (*h)->record(key, 100 * kSecond, 1);
  (*h)->record(key, 100 * kSecond + 500'000, 3);
  (*h)->record(key, 101 * kSecond + 200'000, 10);
  (*h)->record(key, 105 * kSecond, 20);
  (*h)->record(key, 112 * kSecond, 5);
  ASSERT_TRUE((*h)->flush(112 * kSecond + 500'000).ok());

  const auto fine = stored(**h, key, 0);
  ASSERT_EQ(fine.size(), 3u) << "the bucket at 112 s is still filling";
  EXPECT_EQ(fine[0].t_us, 100 * kSecond);
  EXPECT_DOUBLE_EQ(fine[0].avg, 2);
  EXPECT_DOUBLE_EQ(fine[0].min, 1);
  EXPECT_DOUBLE_EQ(fine[0].max, 3);
  EXPECT_EQ(fine[0].count, 2);
  EXPECT_EQ(fine[1].t_us, 101 * kSecond);
  EXPECT_DOUBLE_EQ(fine[1].avg, 10);
  EXPECT_EQ(fine[2].t_us, 105 * kSecond);
  EXPECT_EQ(rows_on_disk(1), 3);

  const auto coarse = stored(**h, key, 1);
  ASSERT_EQ(coarse.size(), 1u);
  EXPECT_EQ(coarse[0].t_us, 100 * kSecond);
  EXPECT_DOUBLE_EQ(coarse[0].avg, 8.5);
  EXPECT_DOUBLE_EQ(coarse[0].min, 1);
  EXPECT_DOUBLE_EQ(coarse[0].max, 20);
  EXPECT_EQ(coarse[0].count, 4);
  EXPECT_EQ(rows_on_disk(10), 1);

  auto q = (*h)->query("lidar", "cpu_percent", 100 * kSecond, 0, 100);
  ASSERT_TRUE(q.ok()) << q.error();
  ASSERT_EQ(q->points.size(), 3u);
  EXPECT_EQ(q->resolution_us, kSecond);
  EXPECT_EQ(q->points[0].t_us, 100 * kSecond);
  EXPECT_DOUBLE_EQ(q->points[0].avg, 2);
  EXPECT_DOUBLE_EQ(q->points[0].min, 1);
  EXPECT_DOUBLE_EQ(q->points[0].max, 3);
}

TEST_F(MetricHistoryTest, WritesABucketOnlyOnceItIsComplete) {
  auto h = MetricHistory::open(db(), tiers({{1s, 1h}}));
  ASSERT_TRUE(h.ok()) << h.error();
  (*h)->record({"host", "load"}, 50 * kSecond + 200'000, 0.5);
  ASSERT_TRUE((*h)->flush(50 * kSecond + 900'000).ok());
  EXPECT_EQ(rows_on_disk(1), 0);
  EXPECT_TRUE(stored(**h, {"host", "load"}, 0).empty());
  // No later sample (the component stopped), but the bucket's second is over.
  ASSERT_TRUE((*h)->flush(51 * kSecond).ok());
  EXPECT_EQ(rows_on_disk(1), 1);
  ASSERT_EQ(stored(**h, {"host", "load"}, 0).size(), 1u);
  EXPECT_DOUBLE_EQ(stored(**h, {"host", "load"}, 0)[0].avg, 0.5);
}

TEST_F(MetricHistoryTest, QueryStitchesCoarseTierBeforeTheFineOne) {
  // Chunks of 5 points: pruning (a whole chunk at a time) is then exact to 5 s.
  auto h = MetricHistory::open(db(), tiers({{1s, 20s}, {10s, 1h}}), {.points_per_chunk = 5});
  ASSERT_TRUE(h.ok()) << h.error();
  for (int t = 0; t < 100; ++t) {
    (*h)->record({"mapper", "rss_bytes"}, t * kSecond, t);
    ASSERT_TRUE((*h)->flush(t * kSecond).ok());
  }
  ASSERT_TRUE((*h)->flush(100 * kSecond).ok());
  ASSERT_TRUE((*h)->prune(100 * kSecond).ok());
  EXPECT_EQ(stored(**h, {"mapper", "rss_bytes"}, 0).front().t_us, 80 * kSecond)
      << "the fine tier keeps 20 s";

  auto q = (*h)->query("mapper", "rss_bytes", 0, 0, 1000);
  ASSERT_TRUE(q.ok()) << q.error();
  ASSERT_EQ(q->points.size(), 8u + 20u) << "coarse 0..70 s, then fine 80..99 s";
  for (std::size_t i = 1; i < q->points.size(); ++i) {
    EXPECT_LT(q->points[i - 1].t_us, q->points[i].t_us) << "oldest first, no overlap";
  }
  EXPECT_EQ(q->points[0].t_us, 0);
  EXPECT_DOUBLE_EQ(q->points[0].avg, 4.5);
  EXPECT_DOUBLE_EQ(q->points[0].min, 0);
  EXPECT_DOUBLE_EQ(q->points[0].max, 9);
  EXPECT_EQ(q->points[7].t_us, 70 * kSecond);
  EXPECT_EQ(q->points[8].t_us, 80 * kSecond);
  EXPECT_DOUBLE_EQ(q->points[8].avg, 80);
  EXPECT_EQ(q->points.back().t_us, 99 * kSecond);
  EXPECT_EQ(q->resolution_us, 10 * kSecond);

  // A recent range is served by the fine tier alone.
  auto recent = (*h)->query("mapper", "rss_bytes", 90 * kSecond, 0, 1000);
  ASSERT_TRUE(recent.ok());
  EXPECT_EQ(recent->points.size(), 10u);
  EXPECT_EQ(recent->resolution_us, kSecond);
  // until is exclusive.
  auto window = (*h)->query("mapper", "rss_bytes", 90 * kSecond, 95 * kSecond, 1000);
  ASSERT_TRUE(window.ok());
  EXPECT_EQ(window->points.size(), 5u);
}

TEST_F(MetricHistoryTest, ThinsToMaxPointsKeepingAverageMinAndMax) {
  auto h = MetricHistory::open(db(), tiers({{1s, 1h}}));
  ASSERT_TRUE(h.ok()) << h.error();
  for (int t = 0; t < 100; ++t) (*h)->record({"a", "phi"}, t * kSecond, t);
  ASSERT_TRUE((*h)->flush(100 * kSecond).ok());
  auto q = (*h)->query("a", "phi", 0, 0, 10);
  ASSERT_TRUE(q.ok()) << q.error();
  ASSERT_EQ(q->points.size(), 10u);
  EXPECT_EQ(q->resolution_us, 10 * kSecond);
  EXPECT_EQ(q->points[3].t_us, 30 * kSecond);
  EXPECT_DOUBLE_EQ(q->points[3].avg, 34.5);
  EXPECT_DOUBLE_EQ(q->points[3].min, 30);
  EXPECT_DOUBLE_EQ(q->points[3].max, 39);
  EXPECT_EQ(q->points[3].count, 10);

  auto odd = (*h)->query("a", "phi", 0, 0, 7);
  ASSERT_TRUE(odd.ok());
  EXPECT_LE(odd->points.size(), 7u);
  EXPECT_GE(odd->points.size(), 6u);
  double min = 1e9, max = -1e9;
  std::int64_t count = 0;
  for (const auto& p : odd->points) {
    min = std::min(min, p.min);
    max = std::max(max, p.max);
    count += p.count;
  }
  EXPECT_EQ(min, 0);
  EXPECT_EQ(max, 99);
  EXPECT_EQ(count, 100) << "every sample is in exactly one thinned point";
}

TEST_F(MetricHistoryTest, PruneDropsPointsOlderThanEachTiersKeep) {
  // Chunks of 5 points (5 s fine, 50 s coarse): pruning drops whole chunks.
  auto h = MetricHistory::open(db(), tiers({{1s, 10s}, {10s, 60s}}), {.points_per_chunk = 5});
  ASSERT_TRUE(h.ok()) << h.error();
  const SeriesKey key{"a", "fds"};
  for (int t = 0; t < 200; ++t) {
    (*h)->record(key, t * kSecond, 5);
    ASSERT_TRUE((*h)->flush(t * kSecond).ok());
  }
  // A flush that packs a chunk also prunes.
  ASSERT_TRUE((*h)->flush(200 * kSecond).ok());
  const auto fine = stored(**h, key, 0);
  ASSERT_EQ(fine.size(), 10u);
  EXPECT_EQ(fine.front().t_us, 190 * kSecond);
  const auto coarse = stored(**h, key, 1);
  ASSERT_FALSE(coarse.empty());
  EXPECT_GE(coarse.front().t_us, (140 - 50) * kSecond) << "at most one chunk beyond keep";
  EXPECT_LE(coarse.front().t_us, 140 * kSecond) << "everything within keep is kept";
  EXPECT_EQ(coarse.back().t_us, 190 * kSecond);

  // vigild's hourly prune, without new samples.
  ASSERT_TRUE((*h)->prune(230 * kSecond).ok());
  EXPECT_TRUE(stored(**h, key, 0).empty());
  EXPECT_EQ(rows_on_disk(1), 0);
  const auto left = stored(**h, key, 1);
  ASSERT_EQ(left.size(), 5u);
  EXPECT_EQ(left.front().t_us, 150 * kSecond);
  EXPECT_EQ(rows_on_disk(10), 1) << "one chunk row";
}

TEST_F(MetricHistoryTest, PointsSurviveCloseAndReopen) {
  {
    auto h = MetricHistory::open(db(), tiers({{1s, 1h}, {60s, 24h}}));
    ASSERT_TRUE(h.ok()) << h.error();
    for (int t = 0; t < 30; ++t) {
      (*h)->record({"lidar", "cpu_percent"}, t * kSecond, t);
      (*h)->record({"lidar", "rss_bytes"}, t * kSecond, 1000);
      ASSERT_TRUE((*h)->flush(t * kSecond).ok());
    }
    // Half of second 30, still filling when vigild stops cleanly: written on close.
    (*h)->record({"lidar", "cpu_percent"}, 30 * kSecond + 200'000, 1);
  }
  auto h = MetricHistory::open(db(), tiers({{1s, 1h}, {60s, 24h}}));
  ASSERT_TRUE(h.ok()) << h.error();
  EXPECT_EQ((*h)->series("lidar"), (std::vector<std::string>{"cpu_percent", "rss_bytes"}));
  EXPECT_TRUE((*h)->series("nobody").empty());
  // The other half of second 30, after the restart: one bucket.
  (*h)->record({"lidar", "cpu_percent"}, 30 * kSecond + 700'000, 3);
  (*h)->record({"lidar", "cpu_percent"}, 31 * kSecond, 31);
  ASSERT_TRUE((*h)->flush(32 * kSecond).ok());
  auto q = (*h)->query("lidar", "cpu_percent", 0, 0, 1000);
  ASSERT_TRUE(q.ok()) << q.error();
  ASSERT_EQ(q->points.size(), 32u);
  EXPECT_DOUBLE_EQ(q->points[29].avg, 29);
  EXPECT_EQ(q->points[30].t_us, 30 * kSecond);
  EXPECT_DOUBLE_EQ(q->points[30].avg, 2);
  EXPECT_DOUBLE_EQ(q->points[30].min, 1);
  EXPECT_DOUBLE_EQ(q->points[30].max, 3);
  EXPECT_EQ(q->points[30].count, 2);
  EXPECT_DOUBLE_EQ(q->points[31].avg, 31);
}

TEST_F(MetricHistoryTest, PackedChunksKeepEveryKindOfBucketAcrossReopen) {
  const SeriesKey key{"lidar", "threads"};
  {
    auto h = MetricHistory::open(db(), tiers({{1s, 1h}}), {.points_per_chunk = 5});
    ASSERT_TRUE(h.ok()) << h.error();
    for (int us : {100'000, 400'000, 700'000}) (*h)->record(key, us, 7);   // equal samples
    (*h)->record(key, kSecond, 2);                                         // a single one
    for (int v : {1, 5, 3}) (*h)->record(key, 2 * kSecond + v * 1000, v);  // different ones
    // Past the first 5 s chunk: packed into its chunk row, `recent` emptied of it.
    ASSERT_TRUE((*h)->flush(6 * kSecond).ok());
    EXPECT_EQ(rows_on_disk(1), 1) << "one chunk row, no recent rows";
  }
  auto h = MetricHistory::open(db(), tiers({{1s, 1h}}), {.points_per_chunk = 5});
  ASSERT_TRUE(h.ok()) << h.error();
  const auto points = stored(**h, key, 0);
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].t_us, 0);
  EXPECT_DOUBLE_EQ(points[0].avg, 7);
  EXPECT_DOUBLE_EQ(points[0].min, 7);
  EXPECT_DOUBLE_EQ(points[0].max, 7);
  EXPECT_EQ(points[0].count, 3);
  EXPECT_EQ(points[1].t_us, kSecond);
  EXPECT_EQ(points[1].count, 1);
  EXPECT_EQ(points[2].t_us, 2 * kSecond);
  EXPECT_DOUBLE_EQ(points[2].avg, 3);
  EXPECT_DOUBLE_EQ(points[2].min, 1);
  EXPECT_DOUBLE_EQ(points[2].max, 5);
  EXPECT_EQ(points[2].count, 3);
}

TEST_F(MetricHistoryTest, IgnoresNonFiniteValuesAndUnknownSeries) {
  auto h = MetricHistory::open(db(), tiers({{1s, 1h}}));
  ASSERT_TRUE(h.ok()) << h.error();
  (*h)->record({"a", "phi"}, 0, std::nan(""));
  (*h)->record({"a", "phi"}, 0, std::numeric_limits<double>::infinity());
  (*h)->record({"a", "phi"}, 0, 1.5);
  ASSERT_TRUE((*h)->flush(kSecond).ok());
  auto q = (*h)->query("a", "phi", 0, 0, 10);
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->points.size(), 1u);
  EXPECT_DOUBLE_EQ(q->points[0].avg, 1.5);
  auto none = (*h)->query("b", "phi", 0, 0, 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->points.empty());
}

TEST_F(MetricHistoryTest, DropsPointsOfTiersNoLongerConfigured) {
  {
    auto h = MetricHistory::open(db(), tiers({{1s, 1h}, {10s, 1h}}));
    ASSERT_TRUE(h.ok()) << h.error();
    for (int t = 0; t < 30; ++t) (*h)->record({"a", "fds"}, t * kSecond, 1);
    ASSERT_TRUE((*h)->flush(30 * kSecond).ok());
  }
  EXPECT_EQ(rows_on_disk(10), 3);
  auto h = MetricHistory::open(db(), tiers({{1s, 1h}, {60s, 1h}}));
  ASSERT_TRUE(h.ok()) << h.error();
  EXPECT_EQ(rows_on_disk(10), 0);
  EXPECT_EQ(stored(**h, {"a", "fds"}, 0).size(), 30u) << "the unchanged tier keeps its points";
}

TEST_F(MetricHistoryTest, UnwritablePathIsAnErrorNotACrash) {
  // A path below a regular file: cannot be created, even by root.
  std::ofstream(dir_ / "file") << "x";
  const auto path = (dir_ / "file" / "metrics.db").string();
  auto h = MetricHistory::open(path, config::HistorySpec{});
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().find(path), std::string::npos) << h.error();
  EXPECT_NE(h.error().find("unable to open"), std::string::npos) << h.error();
}

TEST_F(MetricHistoryTest, CorruptFileIsAClearError) {
  {
    std::ofstream garbage(db(), std::ios::binary);
    for (int i = 0; i < 8192; ++i) garbage.put(static_cast<char>((i * 7919) % 251));
  }
  auto h = MetricHistory::open(db(), config::HistorySpec{});
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().find(db()), std::string::npos) << h.error();
  EXPECT_NE(h.error().find("not a database"), std::string::npos) << h.error();
}

TEST_F(MetricHistoryTest, RefusesSomeOtherDatabaseAndANewerSchema) {
  sqlite3* c = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &c), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(c, "CREATE TABLE recipes(x);", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(c);
  auto other = MetricHistory::open(db(), config::HistorySpec{});
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().find("something else"), std::string::npos) << other.error();

  std::filesystem::remove(db());
  { ASSERT_TRUE(MetricHistory::open(db(), config::HistorySpec{}).ok()); }
  ASSERT_EQ(sqlite3_open(db().c_str(), &c), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(c, "PRAGMA user_version = 99;", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(c);
  auto newer = MetricHistory::open(db(), config::HistorySpec{});
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.error().find("newer vigild"), std::string::npos) << newer.error();
}

}  // namespace
}  // namespace vigil::history
