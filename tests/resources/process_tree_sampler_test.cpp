#include "resources/process_tree_sampler.hpp"

#include <errno.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "resources/forked_child.hpp"

// Real processes throughout: what is under test is the reading of the kernel's /proc, which a
// fake would only restate.
namespace vigil::resources {
namespace {

using test_support::ForkedChild;
using test_support::wait_for_stop;
using ::testing::Contains;

constexpr std::uint64_t kMiB = 1024 * 1024;

bool stop_requested(int stop_fd) {
  pollfd p{stop_fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

void busy_for(std::chrono::milliseconds how_long) {
  const auto until = std::chrono::steady_clock::now() + how_long;
  volatile unsigned long spins = 0;
  while (std::chrono::steady_clock::now() < until) spins = spins + 1;
}

TEST(ParseStat, CountsFieldsFromTheLastParenthesis) {
  const auto st = parse_stat(
      "4242 (a) b (c) d) S 17 4242 4240 0 -1 4194560 120 0 0 0 7 3 11 5 20 0 4 0 987654 "
      "11111111 2500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n");
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->pid, 4242);
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 17);
  EXPECT_EQ(st->session, 4240);
  EXPECT_EQ(st->utime, 7u);
  EXPECT_EQ(st->stime, 3u);
  EXPECT_EQ(st->cutime, 11u);
  EXPECT_EQ(st->cstime, 5u);
  EXPECT_EQ(st->num_threads, 4);
  EXPECT_EQ(st->start_time, 987654u);
  EXPECT_EQ(st->rss_pages, 2500u);
}

TEST(ParseStat, RejectsTruncatedOrGarbledText) {
  EXPECT_FALSE(parse_stat("").has_value());
  EXPECT_FALSE(parse_stat("12 (x").has_value());
  EXPECT_FALSE(parse_stat("12 (x) S 1 12 12").has_value());
  EXPECT_FALSE(parse_stat("x (y) S 1 12 12 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 1 1").has_value());
}

// The component's main process (a session leader, as vigild spawns it) with two children:
// one allocating 64 MiB, one that starts a session of its own like a daemon would and is
// found through its parent. All three carry a command name full of parentheses and spaces.
TEST(ProcessTreeSampler, FindsTheWholeTreeOfAComponent) {
  ForkedChild tree = ForkedChild::start([](int ready, int stop) {
    ::prctl(PR_SET_NAME, "a) b (c) ", 0, 0, 0);
    pid_t children[2];
    for (int i = 0; i < 2; ++i) {
      children[i] = ::fork();
      if (children[i] == 0) {
        if (i == 0) {
          auto* block = static_cast<char*>(std::malloc(64 * kMiB));
          std::memset(block, 1, 64 * kMiB);            // touch every page so it is resident
          asm volatile("" : : "r"(block) : "memory");  // keep the compiler from eliding it
        } else {
          ::setsid();
        }
        (void)!::write(ready, "r", 1);
        ::pause();
        ::_exit(0);
      }
    }
    wait_for_stop(stop);
    for (const pid_t child : children) {
      ::kill(child, SIGKILL);
      ::waitpid(child, nullptr, 0);
    }
    return 0;
  });
  tree.wait_ready(2);

  ProcessTreeSampler sampler;
  const auto samples = sampler.sample({tree.pid()}, MonoClock::now());
  ASSERT_EQ(samples.size(), 1u);
  const TreeSample& s = samples[0];
  EXPECT_EQ(s.root, tree.pid());
  EXPECT_EQ(s.processes, 3);
  EXPECT_EQ(s.pids.size(), 3u);
  EXPECT_THAT(s.pids, Contains(tree.pid()));
  EXPECT_TRUE(std::is_sorted(s.pids.begin(), s.pids.end()));
  EXPECT_GE(s.rss_bytes, 64 * kMiB);
  EXPECT_GE(s.threads, 3);
  EXPECT_GT(s.open_fds, 0);
  EXPECT_EQ(s.cpu_percent, 0.0);  // first sample: no interval yet
  EXPECT_EQ(tree.stop(), 0);
}

TEST(ProcessTreeSampler, FdCountsMatchTheFdDirectory) {
  // Each process here holds stdin/out/err plus one readiness and one stop pipe end (the
  // child closed everything else): 5 fds in both processes.
  ForkedChild tree = ForkedChild::start([](int ready, int stop) {
    if (::fork() == 0) {
      (void)!::write(ready, "r", 1);
      wait_for_stop(stop);
      ::_exit(0);
    }
    wait_for_stop(stop);
    ::wait(nullptr);
    return 0;
  });
  tree.wait_ready(1);
  ProcessTreeSampler sampler;
  const auto s = sampler.sample({tree.pid()}, MonoClock::now()).at(0);
  EXPECT_EQ(s.processes, 2);
  int expected = 0;
  for (const pid_t pid : s.pids) {
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      (void)entry;
      ++expected;
    }
  }
  EXPECT_EQ(s.open_fds, expected);
}

TEST(ProcessTreeSampler, MeasuresTheCpuShareOfABusyLoop) {
  ForkedChild busy = ForkedChild::start([](int ready, int) {
    (void)!::write(ready, "r", 1);
    volatile unsigned long spins = 0;
    for (;;) spins = spins + 1;
    return 0;
  });
  busy.wait_ready(1);
  ProcessTreeSampler sampler;
  const auto t1 = MonoClock::now();
  const auto first = sampler.sample({busy.pid()}, t1).at(0);
  // The interval is the quantity measured, not a synchronisation.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto t2 = MonoClock::now();
  const auto second = sampler.sample({busy.pid()}, t2).at(0);
  EXPECT_EQ(first.cpu_percent, 0.0);
  // The share is the CPU time the kernel charged over the wall time between the samples. On
  // a loaded machine (other tests, builds) the loop gets less than a core: bound it loosely
  // from below and check the arithmetic exactly.
  EXPECT_GT(second.cpu_percent, 5.0);
  EXPECT_LT(second.cpu_percent, 130.0);  // one thread; a clock tick or two of slack
  ASSERT_GT(second.cpu_ticks_total, first.cpu_ticks_total);
  const double charged_s = static_cast<double>(second.cpu_ticks_total - first.cpu_ticks_total) /
                           static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double wall_s = std::chrono::duration<double>(t2 - t1).count();
  EXPECT_NEAR(second.cpu_percent, 100.0 * charged_s / wall_s, 5.0);
  busy.kill_group();
}

// A component that runs short busy helpers one after the other (a shell script calling
// tools): each lives 20 ms, between two samples, and is only ever seen in its parent's
// cutime/cstime once reaped.
TEST(ProcessTreeSampler, CountsChildrenThatLivedAndDiedBetweenSamples) {
  ForkedChild runner = ForkedChild::start([](int ready, int stop) {
    (void)!::write(ready, "r", 1);
    while (!stop_requested(stop)) {
      const pid_t helper = ::fork();
      if (helper == 0) {
        busy_for(std::chrono::milliseconds(20));
        ::_exit(0);
      }
      ::waitpid(helper, nullptr, 0);
    }
    return 0;
  });
  runner.wait_ready(1);
  ProcessTreeSampler sampler;
  (void)sampler.sample({runner.pid()}, MonoClock::now());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto s = sampler.sample({runner.pid()}, MonoClock::now()).at(0);
  // The runner itself only waits (about 0 %): anything well above that is its reaped helpers.
  // Bounded loosely from below, since on a loaded machine (builds, other tests; load 9 was
  // seen in CI) the helpers get a fraction of a core.
  EXPECT_GT(s.cpu_percent, 10.0);
  EXPECT_LT(s.cpu_percent, 130.0);  // and not double-counted when a seen helper is reaped
  EXPECT_EQ(runner.stop(), 0);
}

TEST(ProcessTreeSampler, KeepsSamplingWhileProcessesVanish) {
  ForkedChild tree = ForkedChild::start([](int ready, int stop) {
    ::signal(SIGCHLD, SIG_IGN);  // children disappear from /proc as soon as they die
    pid_t children[2];
    for (pid_t& child : children) {
      child = ::fork();
      if (child == 0) {
        (void)!::write(ready, "r", 1);
        ::pause();
        ::_exit(0);
      }
    }
    wait_for_stop(stop);
    for (const pid_t child : children) ::kill(child, SIGKILL);
    // With SIGCHLD ignored, wait() returns ECHILD once every child is gone.
    while (::wait(nullptr) > 0 || errno == EINTR) {
    }
    return 0;
  });
  tree.wait_ready(2);
  ProcessTreeSampler sampler;
  const auto before = sampler.sample({tree.pid()}, MonoClock::now()).at(0);
  ASSERT_EQ(before.processes, 3);

  const pid_t victim = before.pids.back() == tree.pid() ? before.pids.front() : before.pids.back();
  ::kill(victim, SIGKILL);
  // Polling /proc is the only way to know that the kernel has finished the auto-reap.
  for (int i = 0; i < 5000 && ::kill(victim, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto after = sampler.sample({tree.pid()}, MonoClock::now()).at(0);
  EXPECT_EQ(after.processes, 2);
  EXPECT_THAT(after.pids, ::testing::Not(Contains(victim)));
  EXPECT_GE(after.cpu_ticks_total, before.cpu_ticks_total);

  const pid_t root = tree.pid();
  EXPECT_EQ(tree.stop(), 0);
  const auto gone = sampler.sample({root}, MonoClock::now()).at(0);
  EXPECT_EQ(gone.root, root);
  EXPECT_EQ(gone.processes, 0);
  EXPECT_TRUE(gone.pids.empty());
  EXPECT_GE(gone.cpu_ticks_total, after.cpu_ticks_total);  // a counter never goes back
}

// Processes start and exit continuously while /proc is scanned: every read may hit a pid
// that has just gone.
TEST(ProcessTreeSampler, ToleratesProcessesExitingMidScan) {
  ForkedChild churn = ForkedChild::start([](int ready, int stop) {
    (void)!::write(ready, "r", 1);
    while (!stop_requested(stop)) {
      const pid_t child = ::fork();
      if (child == 0) ::_exit(0);
      ::waitpid(child, nullptr, 0);
    }
    return 0;
  });
  churn.wait_ready(1);
  ProcessTreeSampler sampler;
  for (int i = 0; i < 100; ++i) {
    const auto s = sampler.sample({churn.pid(), 999'999'999, -1}, MonoClock::now());
    ASSERT_EQ(s.size(), 3u);
    EXPECT_GE(s[0].processes, 1);
    EXPECT_LE(s[0].processes, 2);
    EXPECT_EQ(s[1].processes, 0);
    EXPECT_EQ(s[2].processes, 0);
  }
  EXPECT_EQ(churn.stop(), 0);
}

TEST(ProcessTreeSampler, OptionsSkipTheExpensiveReads) {
  ForkedChild tree = ForkedChild::start([](int ready, int stop) {
    (void)!::write(ready, "r", 1);
    wait_for_stop(stop);
    return 0;
  });
  tree.wait_ready(1);
  ProcessTreeSampler sampler(SamplerOptions{.count_fds = false, .read_io = false});
  const auto s = sampler.sample({tree.pid(), tree.pid()}, MonoClock::now());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].processes, 1);
  EXPECT_EQ(s[0].open_fds, 0);
  EXPECT_EQ(s[1].pids, s[0].pids);  // a root asked twice is reported twice
}

TEST(ProcessTreeSampler, GivesTheSameFiguresWithoutCachedFiles) {
  ForkedChild tree = ForkedChild::start([](int ready, int stop) {
    if (::fork() == 0) {
      (void)!::write(ready, "r", 1);
      wait_for_stop(stop);
      ::_exit(0);
    }
    wait_for_stop(stop);
    ::wait(nullptr);
    return 0;
  });
  tree.wait_ready(1);
  ProcessTreeSampler cached;
  ProcessTreeSampler uncached(SamplerOptions{.max_cached_fds = 0});
  for (int round = 0; round < 2; ++round) {  // the second round re-reads the cached files
    const auto a = cached.sample({tree.pid()}, MonoClock::now()).at(0);
    const auto b = uncached.sample({tree.pid()}, MonoClock::now()).at(0);
    EXPECT_EQ(a.pids, b.pids);
    EXPECT_EQ(a.processes, 2);
    EXPECT_EQ(a.threads, b.threads);
    EXPECT_EQ(a.open_fds, b.open_fds);
    EXPECT_GT(a.open_fds, 0);
  }
}

// The sampler keeps /proc/PID/stat open between samples; when the process dies and its pid
// goes to an unrelated process, the cached file must not be mistaken for the new one. The
// kernel is asked for that very pid through ns_last_pid (root only).
TEST(ProcessTreeSampler, DoesNotConfuseAReusedPidWithItsPredecessor) {
  ForkedChild tree = ForkedChild::start([](int ready, int stop) {
    const pid_t child = ::fork();
    if (child == 0) {
      (void)!::write(ready, "r", 1);
      ::pause();
      ::_exit(0);
    }
    ::waitpid(child, nullptr, 0);  // until the test kills it
    (void)!::write(ready, "d", 1);
    wait_for_stop(stop);
    return 0;
  });
  tree.wait_ready(1);
  ProcessTreeSampler sampler;
  const auto before = sampler.sample({tree.pid()}, MonoClock::now()).at(0);
  ASSERT_EQ(before.processes, 2);
  const pid_t reused = before.pids[0] == tree.pid() ? before.pids[1] : before.pids[0];
  ::kill(reused, SIGKILL);
  tree.wait_ready(1);  // reaped: the pid is free

  // Choosing the next pid needs root (vigil's tests run as root, as vigild does). Another
  // process may take the pid first: try again a few times.
  pid_t stranger = -1;
  for (int attempt = 0; attempt < 20 && stranger != reused; ++attempt) {
    if (stranger > 0) {
      ::kill(stranger, SIGKILL);
      ::waitpid(stranger, nullptr, 0);
    }
    const int last_pid = ::open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
    ASSERT_GE(last_pid, 0) << "writing ns_last_pid needs root";
    const std::string previous = std::to_string(reused - 1);
    const bool written = ::write(last_pid, previous.data(), previous.size()) ==
                         static_cast<ssize_t>(previous.size());
    ::close(last_pid);
    ASSERT_TRUE(written);
    stranger = ::fork();
    if (stranger == 0) {
      ::pause();
      ::_exit(0);
    }
  }
  const auto end_stranger = [stranger] {
    if (stranger > 0) {
      ::kill(stranger, SIGKILL);
      ::waitpid(stranger, nullptr, 0);
    }
  };
  if (stranger != reused) {
    end_stranger();
    FAIL() << "another process took pid " << reused << " first, 20 times";
  }
  const auto after = sampler.sample({tree.pid()}, MonoClock::now()).at(0);
  EXPECT_EQ(after.processes, 1);
  EXPECT_EQ(after.pids, std::vector<pid_t>{tree.pid()});
  const auto others = sampler.sample({stranger}, MonoClock::now()).at(0);
  EXPECT_EQ(others.pids, std::vector<pid_t>{stranger});  // read as itself, not as the dead one
  end_stranger();
}

TEST(ProcessTreeSampler, ReadsStorageIoOfTheTree) {
  // Bytes written and fsync'ed reach the block layer, which is what write_bytes counts; on
  // a tmpfs /tmp nothing would, so this writes next to the test binary's working directory.
  const std::string path = "vigil-io-test-" + std::to_string(::getpid());
  ForkedChild writer = ForkedChild::start([path](int ready, int stop) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::string block(1 << 20, 'x');
    for (int i = 0; i < 4 && fd >= 0; ++i) (void)!::write(fd, block.data(), block.size());
    if (fd >= 0) ::fsync(fd);
    (void)!::write(ready, "r", 1);
    wait_for_stop(stop);
    return 0;
  });
  writer.wait_ready(1);
  ProcessTreeSampler sampler;
  const auto s = sampler.sample({writer.pid()}, MonoClock::now()).at(0);
  ::unlink(path.c_str());
  struct statfs fs {};
  ASSERT_FALSE(::statfs(".", &fs) == 0 && fs.f_type == 0x01021994 /* TMPFS_MAGIC */)
      << "run the tests from a disk-backed build directory: tmpfs has no storage I/O to see";
  EXPECT_GE(s.write_bytes, 4u * kMiB);
}

}  // namespace
}  // namespace vigil::resources
