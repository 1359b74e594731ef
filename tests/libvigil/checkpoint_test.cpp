// Checkpoints: round trips, kill -9 in the middle of saves, and corrupt files.
#include "vigil/checkpoint.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace vigil {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "libvigil-ckpt-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

TEST(Checkpoint, Crc32MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);
}

TEST(Checkpoint, RoundTripsAndKeepsTwoGenerations) {
  TempDir dir;
  const auto path = (dir.path / "state").string();
  Checkpoint<std::string> ckpt(path);
  auto nothing = ckpt.load();
  EXPECT_FALSE(nothing);
  EXPECT_EQ(nothing.status.error(), ENOENT);

  ASSERT_TRUE(ckpt.save("first"));
  ASSERT_TRUE(ckpt.save("second"));
  ASSERT_TRUE(ckpt.save(""));  // an empty payload is a value too
  ASSERT_TRUE(ckpt.save("fourth"));
  EXPECT_TRUE(fs::exists(path + ".a"));
  EXPECT_TRUE(fs::exists(path + ".b"));
  EXPECT_FALSE(fs::exists(path + ".a.tmp"));

  // A new object (a restarted process) sees the newest and continues the generations.
  Checkpoint<std::string> reopened(path);
  auto loaded = reopened.load();
  ASSERT_TRUE(loaded) << loaded.detail;
  EXPECT_EQ(*loaded.value, "fourth");
  EXPECT_EQ(loaded.generation, 4u);
  EXPECT_FALSE(loaded.fell_back);
  ASSERT_TRUE(reopened.save("fifth"));
  EXPECT_EQ(reopened.load().generation, 5u);
  EXPECT_EQ(*reopened.load().value, "fifth");
}

TEST(Checkpoint, CustomSerialization) {
  TempDir dir;
  struct Pose {
    double x, y;
    std::string frame;
  };
  Checkpoint<Pose> ckpt(
      (dir.path / "pose").string(),
      [](const Pose& p) { return p.frame + " " + std::to_string(p.x) + " " + std::to_string(p.y); },
      [](std::string_view bytes, Pose& out) {
        char frame[32];
        return std::sscanf(std::string(bytes).c_str(), "%31s %lf %lf", frame, &out.x, &out.y) ==
                   3 &&
               (out.frame = frame, true);
      });
  ASSERT_TRUE(ckpt.save({1.5, -2.0, "map"}));
  auto p = ckpt.load();
  ASSERT_TRUE(p);
  EXPECT_EQ(p.value->frame, "map");
  EXPECT_DOUBLE_EQ(p.value->x, 1.5);
  EXPECT_DOUBLE_EQ(p.value->y, -2.0);
}

TEST(Checkpoint, CorruptNewestFallsBackToThePreviousGeneration) {
  TempDir dir;
  const auto path = (dir.path / "counter").string();
  Checkpoint<std::uint64_t> ckpt(path);
  ASSERT_TRUE(ckpt.save(1));  // generation 1 in .a
  ASSERT_TRUE(ckpt.save(2));  // generation 2 in .b
  const std::string good_b = read_file(path + ".b");

  // A flipped payload byte.
  std::string flipped = good_b;
  flipped[flipped.size() - 1] ^= 0x40;
  write_file(path + ".b", flipped);
  auto loaded = Checkpoint<std::uint64_t>(path).load();
  ASSERT_TRUE(loaded) << loaded.detail;
  EXPECT_EQ(*loaded.value, 1u);
  EXPECT_TRUE(loaded.fell_back);
  EXPECT_NE(loaded.detail.find("payload checksum mismatch"), std::string::npos) << loaded.detail;

  // A flipped header byte (the generation).
  std::string header = good_b;
  header[8] ^= 0x01;
  write_file(path + ".b", header);
  loaded = Checkpoint<std::uint64_t>(path).load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded.value, 1u);
  EXPECT_NE(loaded.detail.find("header checksum"), std::string::npos) << loaded.detail;

  // Truncated (a torn write that somehow got renamed, or a disk that lost the tail).
  for (std::size_t keep : {std::size_t{0}, std::size_t{10}, good_b.size() - 3}) {
    write_file(path + ".b", good_b.substr(0, keep));
    loaded = Checkpoint<std::uint64_t>(path).load();
    ASSERT_TRUE(loaded) << keep;
    EXPECT_EQ(*loaded.value, 1u) << keep;
  }

  // The next save replaces the broken slot, keeping the good one as the previous generation.
  Checkpoint<std::uint64_t> resumed(path);
  ASSERT_TRUE(resumed.load());
  ASSERT_TRUE(resumed.save(3));
  loaded = resumed.load();
  EXPECT_EQ(*loaded.value, 3u);
  EXPECT_EQ(loaded.generation, 2u);
  EXPECT_FALSE(loaded.fell_back);
  EXPECT_EQ(read_file(path + ".a").size(), 40u) << "generation 1 still there as the previous";
}

TEST(Checkpoint, BothCorruptIsNoValueAndAClearError) {
  TempDir dir;
  const auto path = (dir.path / "counter").string();
  Checkpoint<std::uint64_t> ckpt(path);
  ASSERT_TRUE(ckpt.save(1));
  ASSERT_TRUE(ckpt.save(2));
  write_file(path + ".a", "garbage that is long enough to hold a header.....");
  write_file(path + ".b", read_file(path + ".b").substr(0, 20));
  auto loaded = Checkpoint<std::uint64_t>(path).load();
  EXPECT_FALSE(loaded);
  EXPECT_EQ(loaded.status.error(), EBADMSG);
  EXPECT_NE(loaded.detail.find(path + ".a: not a checkpoint"), std::string::npos) << loaded.detail;
  EXPECT_NE(loaded.detail.find(path + ".b: truncated header"), std::string::npos) << loaded.detail;
  // And a save still works afterwards.
  Checkpoint<std::uint64_t> fresh(path);
  ASSERT_TRUE(fresh.save(9));
  EXPECT_EQ(*fresh.load().value, 9u);
}

TEST(Checkpoint, WrongSizeForATriviallyCopyableTypeIsRejected) {
  TempDir dir;
  const auto path = (dir.path / "x").string();
  ASSERT_TRUE(Checkpoint<std::string>(path).save("abc"));
  auto loaded = Checkpoint<std::uint64_t>(path).load();
  EXPECT_FALSE(loaded);
  EXPECT_EQ(loaded.status.error(), EINVAL);
}

TEST(Checkpoint, UnwritableDirectoryIsAnError) {
  Checkpoint<std::string> ckpt("/nonexistent-dir-for-libvigil/state");
  const Status s = ckpt.save("x");
  EXPECT_EQ(s.error(), ENOENT) << s.message();
}

// What the saving child publishes, in memory shared with the test.
struct Progress {
  std::atomic<std::uint64_t> started{0};    // the value whose save began last
  std::atomic<std::uint64_t> completed{0};  // the value whose save returned success last
};

TEST(Checkpoint, SurvivesKillDashNineAtRandomMomentsMidWrite) {
  TempDir dir;
  const auto path = (dir.path / "counter").string();
  void* shared =
      ::mmap(nullptr, sizeof(Progress), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(shared, MAP_FAILED);
  auto* progress = new (shared) Progress;

  std::mt19937 random(20261128);  // deterministic kill moments
  std::uniform_int_distribution<int> delay_us(0, 4000);
  constexpr int kKills = 60;
  std::uint64_t last_loaded = 0;
  int kills_mid_save = 0;
  for (int round = 0; round < kKills; ++round) {
    progress->started = 0;
    progress->completed = 0;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // Restore, then count up as fast as saves go.
      Checkpoint<std::uint64_t> ckpt(path);
      auto restored = ckpt.load();
      std::uint64_t n = restored ? *restored.value : 0;
      for (;;) {
        ++n;
        progress->started.store(n);
        if (!ckpt.save(n)) ::_exit(3);
        progress->completed.store(n);
      }
    }
    // Wait for this round's first completed save (so there is always something to load),
    // then let it run a pseudo-random moment more.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (progress->completed.load() == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
    ASSERT_GT(progress->completed.load(), 0u) << "child made no save in round " << round;
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(random)));
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped on its own: status " << status;
    const std::uint64_t started = progress->started.load();
    const std::uint64_t completed = progress->completed.load();
    if (started != completed) ++kills_mid_save;

    auto loaded = Checkpoint<std::uint64_t>(path).load();
    ASSERT_TRUE(loaded) << "round " << round << ": " << loaded.status.message() << " "
                        << loaded.detail;
    const std::uint64_t value = *loaded.value;
    // Either the save in progress (it got as far as the rename) or the last complete one;
    // never older than a save that returned, never a value nobody saved.
    EXPECT_GE(value, completed) << "round " << round;
    EXPECT_LE(value, started) << "round " << round;
    EXPECT_GT(value, last_loaded) << "round " << round << ": progress across restarts";
    last_loaded = value;
  }
  std::printf("%d kills, %d during a save, counter reached %llu\n", kKills, kills_mid_save,
              static_cast<unsigned long long>(last_loaded));
  EXPECT_GT(kills_mid_save, kKills / 2) << "the kills should mostly land inside a save";
  ::munmap(shared, sizeof(Progress));
}

}  // namespace
}  // namespace vigil
