// What resource sampling costs vigild: 200 components (each a session leader with one child,
// 400 sleeping processes), sampled with ProcessTreeSampler at 1 Hz with every option on.
// Reports this process's CPU time over the sampling period as a share of one core, and the
// wall time per sample.
//
//   sampling_bench [--components N] [--seconds S] [--interval-ms MS] [--light] [--no-fd-cache]
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "resources/process_tree_sampler.hpp"

namespace {

using namespace std::chrono;

double cpu_seconds_of_self() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// A component as vigild starts it: its own session, plus one child, both asleep.
pid_t start_component(int ready_fd) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::setsid();
  if (::fork() == 0) {
    (void)!::write(ready_fd, "c", 1);
    ::pause();
    ::_exit(0);
  }
  (void)!::write(ready_fd, "m", 1);
  ::pause();
  ::_exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  int components = 200;
  int seconds = 30;
  int interval_ms = 1000;
  vigil::resources::SamplerOptions options;  // fds and io on
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* next = i + 1 < argc ? argv[i + 1] : "0";
    if (arg == "--components") {
      components = std::atoi(next), ++i;
    } else if (arg == "--seconds") {
      seconds = std::atoi(next), ++i;
    } else if (arg == "--interval-ms") {
      interval_ms = std::atoi(next), ++i;
    } else if (arg == "--light") {
      options.count_fds = false;
      options.read_io = false;
    } else if (arg == "--no-fd-cache") {
      options.max_cached_fds = 0;
    } else {
      std::fprintf(
          stderr,
          "usage: %s [--components N] [--seconds S] [--interval-ms MS] [--light] [--no-fd-cache]\n",
          argv[0]);
      return 2;
    }
  }

  // Like vigild, reap whatever is orphaned below us, so the run leaves no process behind.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  int ready[2];
  if (::pipe(ready) != 0) return 1;
  std::vector<pid_t> roots;
  for (int i = 0; i < components; ++i) roots.push_back(start_component(ready[1]));
  char byte;
  for (int i = 0; i < 2 * components; ++i) {
    if (::read(ready[0], &byte, 1) != 1) return 1;
  }

  vigil::resources::ProcessTreeSampler sampler(options);
  std::vector<double> wall_ms;
  int wrong_trees = 0;
  const double cpu_start = cpu_seconds_of_self();
  const auto start = steady_clock::now();
  auto next = start;
  for (int n = 0; n < seconds * 1000 / interval_ms; ++n) {
    const auto before = steady_clock::now();
    const auto samples = sampler.sample(roots, before);
    wall_ms.push_back(duration<double, std::milli>(steady_clock::now() - before).count());
    for (const auto& s : samples) wrong_trees += s.processes != 2;
    next += milliseconds(interval_ms);
    std::this_thread::sleep_until(next);
  }
  const double elapsed = duration<double>(steady_clock::now() - start).count();
  const double cpu = cpu_seconds_of_self() - cpu_start;

  if (wall_ms.size() < 2) return 2;
  // The first sample opens every /proc file the later ones re-read: reported apart.
  const double first_ms = wall_ms.front();
  std::vector<double> steady(wall_ms.begin() + 1, wall_ms.end());
  double total_ms = 0;
  for (const double ms : wall_ms) total_ms += ms;
  double steady_ms = 0;
  for (const double ms : steady) steady_ms += ms;
  std::sort(steady.begin(), steady.end());
  std::printf(
      "%d components (%d processes), %zu samples every %d ms, fds %s, io %s, fd cache %s\n"
      "sampler CPU: %.3f s over %.1f s = %.2f %% of one core\n"
      "per sample (wall): mean %.2f ms, max %.2f ms; first %.2f ms, then mean %.2f ms, "
      "p50 %.2f ms, max %.2f ms\n"
      "trees with a process count other than 2: %d\n",
      components, 2 * components, wall_ms.size(), interval_ms, options.count_fds ? "on" : "off",
      options.read_io ? "on" : "off", options.max_cached_fds > 0 ? "on" : "off", cpu, elapsed,
      100.0 * cpu / elapsed, total_ms / static_cast<double>(wall_ms.size()),
      std::max(first_ms, steady.back()), first_ms, steady_ms / static_cast<double>(steady.size()),
      steady[steady.size() / 2], steady.back(), wrong_trees);

  for (const pid_t root : roots) ::kill(-root, SIGKILL);
  while (::wait(nullptr) > 0) {
  }
  return wrong_trees == 0 ? 0 : 1;
}
