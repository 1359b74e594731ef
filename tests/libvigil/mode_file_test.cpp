// vigil::file: the mode file parser on strings, and a ModeListener following a real file that
// the test replaces atomically the way vigild does (temp file, fsync, rename).
#include "vigil/mode_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vigil::file {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// ---- parser ------------------------------------------------------------------------------

TEST(ModeFileParse, FullFileWithEscapesValuesAndUnknownKeys) {
  const auto parsed = parse_mode_file(
      "seq=42\n"
      "mode=degraded\n"
      "reason=lidar lost\\nsee C:\\\\logs\n"
      "since_us=1700000000123456\n"
      "value.max_speed=0.3\n"
      "value.note=two\\nlines \\\\ here\n"
      "value.empty=\n"
      "color=blue\n"  // unknown key: a newer vigild
      "value=x\n"     // unknown too ("value" without the dot)
      "\n");
  ASSERT_TRUE(parsed.ok) << parsed.error;
  EXPECT_EQ(parsed.seq, 42u);
  EXPECT_EQ(parsed.mode.name, "degraded");
  EXPECT_EQ(parsed.mode.reason, "lidar lost\nsee C:\\logs");
  EXPECT_EQ(
      std::chrono::duration_cast<std::chrono::microseconds>(parsed.mode.stamp.time_since_epoch())
          .count(),
      1700000000123456);
  ASSERT_EQ(parsed.mode.values.size(), 3u);
  EXPECT_EQ(parsed.mode.values.at("note"), "two\nlines \\ here");
  EXPECT_EQ(parsed.mode.values.at("empty"), "");
  EXPECT_EQ(parsed.mode.value<double>("max_speed"), 0.3);
  EXPECT_EQ(parsed.mode.value<std::string>("max_speed"), "0.3");
  EXPECT_EQ(parsed.mode.value<int>("max_speed"), std::nullopt);  // not a whole int
  EXPECT_EQ(parsed.mode.value<double>("absent"), std::nullopt);
}

TEST(ModeFileParse, ValueInAnyOrderAndTypedAccess) {
  const auto parsed = parse_mode_file(
      "value.limit=-7\nvalue.armed=true\nvalue.big=300\nseq=1\nreason=\nmode=m\nsince_us=-5\n");
  ASSERT_TRUE(parsed.ok) << parsed.error;
  EXPECT_EQ(parsed.mode.reason, "");
  EXPECT_EQ(parsed.mode.value<int>("limit"), -7);
  EXPECT_EQ(parsed.mode.value<unsigned>("limit"), std::nullopt);
  EXPECT_EQ(parsed.mode.value<bool>("armed"), true);
  EXPECT_EQ(parsed.mode.value<std::uint8_t>("big"), std::nullopt);  // overflow
  EXPECT_EQ(parsed.mode.value<std::uint16_t>("big"), 300);
}

TEST(ModeFileParse, MissingFieldsAreRejectedWithTheirName) {
  const std::string all = "seq=1\nmode=m\nreason=r\nsince_us=0\n";
  ASSERT_TRUE(parse_mode_file(all).ok);
  for (const std::string field : {"seq", "mode", "reason", "since_us"}) {
    std::string text;
    for (const auto* line : {"seq=1\n", "mode=m\n", "reason=r\n", "since_us=0\n"}) {
      if (std::string(line).rfind(field + "=", 0) != 0) text += line;
    }
    const auto parsed = parse_mode_file(text);
    EXPECT_FALSE(parsed.ok) << field;
    EXPECT_EQ(parsed.error, "missing " + field);
  }
}

TEST(ModeFileParse, GarbageIsRejectedWithAReason) {
  const std::vector<std::string> bad = {
      "",                                                             // empty
      "seq=1\nmode=m\nreason=r\nsince_us=0",                          // torn: no final newline
      "seq=1\nmode=m\nreason=r\nsince_us=0\nvalue.x=1\njunk\n",       // a line without '='
      "seq=x\nmode=m\nreason=r\nsince_us=0\n",                        // seq not a number
      "seq=-1\nmode=m\nreason=r\nsince_us=0\n",                       // seq negative
      "seq=+1\nmode=m\nreason=r\nsince_us=0\n",                       // seq with a sign
      "seq=99999999999999999999\nmode=m\nreason=r\nsince_us=0\n",     // seq overflows
      "seq=1\nmode=\nreason=r\nsince_us=0\n",                         // empty mode name
      "seq=1\nmode=m\nreason=bad \\t escape\nsince_us=0\n",           // unknown escape
      "seq=1\nmode=m\nreason=trailing \\\nsince_us=0\n",              // lone backslash
      "seq=1\nmode=m\nreason=r\nsince_us=1.5\n",                      // since_us not an integer
      "seq=1\nmode=m\nreason=r\nsince_us=9223372036854775807\n",      // beyond the clock
      "seq=1\nseq=2\nmode=m\nreason=r\nsince_us=0\n",                 // repeated key
      "seq=1\nmode=m\nreason=r\nsince_us=0\nvalue.a=1\nvalue.a=2\n",  // repeated value
      "seq=1\nmode=m\nreason=r\nsince_us=0\nvalue.=1\n",              // empty value name
      "seq=1\nmode=m\nreason=r\nsince_us=0\nvalue.a=x\\y\n",          // bad escape in a value
      std::string("seq=1\nmode=m\0\nreason=r\nsince_us=0\n", 35),     // NUL byte
      "seq=1\nmode=\xff\xfe\nreason=r\nsince_us=0\n",                 // not UTF-8
      "\x7f\x45\x4c\x46\x02\x01\x01\n",                               // binary
  };
  for (const auto& text : bad) {
    const auto parsed = parse_mode_file(text);
    EXPECT_FALSE(parsed.ok) << text;
    EXPECT_FALSE(parsed.error.empty()) << text;
  }
  EXPECT_EQ(parse_mode_file("seq=1\nmode=m\nbroken\n").error, "line 3: no '=' in the line");
}

TEST(ModeFileParse, FormatRoundTripsAndAcceptsUtf8) {
  SystemMode mode;
  mode.name = "sûr";
  mode.reason = "a\\b\nc\\n";
  mode.values = {{"max_speed", "0.25"}, {"msg", "line1\nline2\\"}};
  mode.stamp = std::chrono::system_clock::time_point(std::chrono::microseconds(1234567));
  const auto text = format_mode_file(9, mode);
  EXPECT_EQ(text,
            "seq=9\nmode=sûr\nreason=a\\\\b\\nc\\\\n\nsince_us=1234567\n"
            "value.max_speed=0.25\nvalue.msg=line1\\nline2\\\\\n");
  const auto parsed = parse_mode_file(text);
  ASSERT_TRUE(parsed.ok) << parsed.error;
  EXPECT_EQ(parsed.seq, 9u);
  EXPECT_TRUE(parsed.mode.same_as(mode));
  EXPECT_EQ(parsed.mode.stamp, mode.stamp);
  EXPECT_EQ(unescape_mode_text(escape_mode_text("\\\n\\n")), "\\\n\\n");
}

// ---- listener ----------------------------------------------------------------------------

struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "libvigil-mode-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

// As vigild does it: temp file in the same directory, fsync, rename over the target.
void write_atomically(const fs::path& target, const std::string& text) {
  const auto temp = target.string() + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ASSERT_EQ(::fsync(fd), 0);
  ::close(fd);
  ASSERT_EQ(::rename(temp.c_str(), target.c_str()), 0) << std::strerror(errno);
}

std::string mode_text(std::uint64_t seq, const std::string& name, const std::string& speed = "1") {
  return "seq=" + std::to_string(seq) + "\nmode=" + name +
         "\nreason=test\nsince_us=" + std::to_string(seq * 1000) + "\nvalue.max_speed=" + speed +
         "\n";
}

// Records the callbacks: names in order and the threads they ran on.
struct Recorder {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::string> names;
  std::vector<std::thread::id> threads;

  std::function<void(const SystemMode&)> callback() {
    return [this](const SystemMode& m) {
      {
        std::lock_guard lock(mutex);
        names.push_back(m.name);
        threads.push_back(std::this_thread::get_id());
      }
      cv.notify_all();
    };
  }
  bool wait_for_count(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, timeout, [&] { return names.size() >= n; });
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mutex);
    return names;
  }
};

template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(ModeFileListener, ReadsAtOnceThenFollowsEveryAtomicRewriteInOrder) {
  TempDir dir;
  const auto file = dir.path / "mode";
  write_atomically(file, mode_text(1, "startup", "0.1"));
  Recorder recorder;
  ModeListenerOptions options;
  options.path = file.string();
  options.on_change = recorder.callback();
  ModeListener listener(std::move(options));
  ASSERT_TRUE(listener.active()) << listener.status_detail();
  // Late-joiner behaviour: the mode is there when the constructor returns.
  ASSERT_TRUE(listener.current());
  EXPECT_EQ(listener.current()->name, "startup");
  EXPECT_EQ(listener.value<double>("max_speed"), 0.1);
  EXPECT_EQ(listener.sequence(), 1u);
  EXPECT_EQ(listener.path(), file.string());

  const std::vector<std::string> names = {"nominal", "degraded", "safe_stop", "nominal"};
  std::uint64_t seq = 1;
  for (const auto& name : names) {
    ++seq;
    write_atomically(file, mode_text(seq, name, std::to_string(seq)));
    const auto seen = listener.wait_for(
        10s, [&](const SystemMode& m) { return m.value<std::uint64_t>("max_speed") == seq; });
    ASSERT_TRUE(seen) << "seq " << seq << ": " << listener.status_detail();
    EXPECT_EQ(seen->name, name);
  }
  ASSERT_TRUE(recorder.wait_for_count(1 + names.size()));
  std::vector<std::string> expected = {"startup"};
  expected.insert(expected.end(), names.begin(), names.end());
  EXPECT_EQ(recorder.snapshot(), expected);
  EXPECT_EQ(listener.samples_received(), 1 + names.size());
  {
    std::lock_guard lock(recorder.mutex);
    for (const auto& id : recorder.threads) EXPECT_NE(id, std::this_thread::get_id());
  }

  // A rewrite of the same mode with a new seq is a sample, not a change.
  ++seq;
  write_atomically(file, mode_text(seq, "nominal", std::to_string(seq - 1)));
  ASSERT_TRUE(eventually([&] { return listener.sequence() == seq; }));
  EXPECT_EQ(listener.samples_received(), 2 + names.size());
  EXPECT_EQ(recorder.snapshot().size(), 1 + names.size());
  EXPECT_EQ(listener.last_read().error(), 0);
  EXPECT_EQ(listener.status_detail(), "ok");
}

TEST(ModeFileListener, RapidRewritesEndAtTheLastModeAndNeverGoBack) {
  TempDir dir;
  const auto file = dir.path / "mode";
  Recorder recorder;
  ModeListenerOptions options;
  options.path = file.string();
  options.on_change = recorder.callback();
  ModeListener listener(std::move(options));
  for (int seq = 1; seq <= 50; ++seq) {
    write_atomically(file, mode_text(seq, "m" + std::to_string(seq)));
  }
  ASSERT_TRUE(listener.wait_for(10s, [](const SystemMode& m) { return m.name == "m50"; }));
  // Some versions may be skipped (replaced before they were read); the order holds.
  int last = 0;
  for (const auto& name : recorder.snapshot()) {
    const int n = std::stoi(name.substr(1));
    EXPECT_GT(n, last);
    last = n;
  }
  EXPECT_EQ(last, 50);
}

TEST(ModeFileListener, StartsBeforeTheFileAndItsDirectoryExist) {
  TempDir dir;
  const auto run_dir = dir.path / "run" / "vigil";
  const auto file = run_dir / "mode";
  Recorder recorder;
  ModeListenerOptions options;
  options.path = file.string();
  options.on_change = recorder.callback();
  ModeListener listener(std::move(options));
  EXPECT_TRUE(listener.active()) << listener.status_detail();  // a missing file is no error
  EXPECT_FALSE(listener.current());
  EXPECT_EQ(listener.last_read().error(), ENOENT);
  EXPECT_NE(listener.status_detail().find("waiting for"), std::string::npos);
  EXPECT_FALSE(listener.wait_for(50ms));

  fs::create_directories(run_dir);
  write_atomically(file, mode_text(3, "nominal"));
  const auto mode = listener.wait_for(10s);
  ASSERT_TRUE(mode) << listener.status_detail();
  EXPECT_EQ(mode->name, "nominal");
  ASSERT_TRUE(recorder.wait_for_count(1));
  EXPECT_EQ(recorder.snapshot(), std::vector<std::string>{"nominal"});

  // vigild restarts: the directory goes away and comes back, seq starts again.
  fs::remove_all(dir.path / "run");
  ASSERT_TRUE(eventually([&] { return listener.last_read().error() == ENOENT; }));
  EXPECT_EQ(listener.current()->name, "nominal");  // the last mode stays known
  fs::create_directories(run_dir);
  write_atomically(file, mode_text(1, "recovering"));
  ASSERT_TRUE(listener.wait_for(10s, [](const SystemMode& m) { return m.name == "recovering"; }))
      << listener.status_detail();
}

TEST(ModeFileListener, ACorruptFileKeepsThePreviousModeAndSaysWhy) {
  TempDir dir;
  const auto file = dir.path / "mode";
  write_atomically(file, mode_text(1, "nominal", "0.5"));
  Recorder recorder;
  ModeListenerOptions options;
  options.path = file.string();
  options.on_change = recorder.callback();
  ModeListener listener(std::move(options));
  ASSERT_TRUE(listener.current());

  write_atomically(file, "seq=2\nmode=degr");  // torn
  ASSERT_TRUE(eventually([&] { return listener.last_read().error() == EBADMSG; }));
  EXPECT_EQ(listener.current()->name, "nominal");
  EXPECT_EQ(listener.value<double>("max_speed"), 0.5);
  const auto detail = listener.status_detail();
  EXPECT_NE(detail.find("newline"), std::string::npos) << detail;
  EXPECT_NE(detail.find("keeping mode 'nominal'"), std::string::npos) << detail;

  write_atomically(file, std::string("\0\1\2garbage\xff", 12));
  ASSERT_TRUE(
      eventually([&] { return listener.status_detail().find("UTF-8") != std::string::npos; }));
  EXPECT_EQ(listener.current()->name, "nominal");

  write_atomically(file, mode_text(3, "degraded", "0.2"));
  ASSERT_TRUE(listener.wait_for(10s, [](const SystemMode& m) { return m.name == "degraded"; }));
  EXPECT_EQ(listener.last_read().error(), 0);
  EXPECT_EQ(listener.status_detail(), "ok");
  ASSERT_TRUE(recorder.wait_for_count(2));
  EXPECT_EQ(recorder.snapshot(), (std::vector<std::string>{"nominal", "degraded"}));
}

TEST(ModeFileListener, WithoutVigilModeFileItIsInactiveAndEmpty) {
  ::unsetenv("VIGIL_MODE_FILE");
  ModeListener listener;
  EXPECT_FALSE(listener.active());
  EXPECT_EQ(listener.status().error(), ENOENT);
  EXPECT_NE(listener.status_detail().find("VIGIL_MODE_FILE"), std::string::npos);
  EXPECT_FALSE(listener.current());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(listener.wait_for(5s));  // returns at once: nothing will ever come
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(listener.path(), "");
}

TEST(ModeFileListener, TakesThePathFromTheEnvironment) {
  TempDir dir;
  const auto file = dir.path / "mode";
  write_atomically(file, mode_text(1, "nominal"));
  ::setenv("VIGIL_MODE_FILE", file.c_str(), 1);
  ModeListener listener;
  ::unsetenv("VIGIL_MODE_FILE");
  ASSERT_TRUE(listener.active()) << listener.status_detail();
  ASSERT_TRUE(listener.current());
  EXPECT_EQ(listener.current()->name, "nominal");
}

TEST(ModeFileListener, DestructorReturnsPromptlyWhileTheThreadWaits) {
  TempDir dir;
  for (const auto& path : {dir.path / "mode", dir.path / "missing" / "mode"}) {
    auto listener = std::make_unique<ModeListener>(ModeListenerOptions{path.string(), {}});
    ASSERT_TRUE(listener->active());
    std::this_thread::sleep_for(50ms);  // let the thread block in poll (not synchronisation)
    const auto start = std::chrono::steady_clock::now();
    listener.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s) << path;
  }
}

TEST(ModeFileListener, MayBeDestroyedFromItsOwnCallback) {
  TempDir dir;
  const auto file = dir.path / "mode";
  write_atomically(file, mode_text(1, "nominal"));
  std::mutex mutex;
  std::condition_variable cv;
  std::unique_ptr<ModeListener> listener;
  bool destroyed = false;
  ModeListenerOptions options;
  options.path = file.string();
  options.on_change = [&](const SystemMode&) {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return listener != nullptr; });
    listener.reset();
    destroyed = true;
    cv.notify_all();
  };
  {
    auto created = std::make_unique<ModeListener>(std::move(options));
    std::lock_guard lock(mutex);
    listener = std::move(created);
  }
  cv.notify_all();
  std::unique_lock lock(mutex);
  EXPECT_TRUE(cv.wait_for(lock, 10s, [&] { return destroyed; }));
}

TEST(ModeFileListener, MovedFromIsInactive) {
  TempDir dir;
  const auto file = dir.path / "mode";
  write_atomically(file, mode_text(1, "nominal"));
  ModeListener first(ModeListenerOptions{file.string(), {}});
  ModeListener second(std::move(first));
  EXPECT_FALSE(first.active());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_FALSE(first.current());
  EXPECT_TRUE(second.active());
  ModeListener third(ModeListenerOptions{file.string(), {}});
  third = std::move(second);
  EXPECT_EQ(third.current()->name, "nominal");
}

}  // namespace
}  // namespace vigil::file
