// robot_sim: a stand-in for one of a robot's programs (a lidar driver, a planner, ...).
// It speaks the sd_notify protocol by hand (no library: the protocol is one datagram) and can
// be told to fail in each way vigil detects:
//
//   --ready-delay D      send READY=1 after D (default 0); --never-ready: never
//   --heartbeat D        send WATCHDOG=1 every D (default: WATCHDOG_USEC/3 when set)
//   --crash-after D      abort() after D (SIGABRT, core dumped if allowed)
//   --segv-after D       raise SIGSEGV after D
//   --exit-after D       exit after D with --exit-code N (default 0)
//   --hang-after D       stop heartbeating (and stop answering) after D
//   --ignore-sigterm     ignore SIGTERM (vigil must escalate to SIGKILL)
//   --double-fork D      fork a grandchild that outlives its parent by D, then exit the parent
//   --listen PORT        accept TCP connections on 127.0.0.1:PORT (for ready: tcp:)
//   --print-every D      print a line every D (for vigil logs)
//   --status TEXT        send STATUS=TEXT once ready
//   --pidfile PATH       write the pid of the process that sends heartbeats
//   --once FILE          fail (crash/segv/exit/hang) only if FILE does not exist; create it
//   --no-heartbeat       never send WATCHDOG=1, even when WATCHDOG_USEC is set
//   --loop NAME:EVERY:DEADLINE  a thread declaring watched loop NAME (VIGIL_LOOP) with DEADLINE
//                        and beating it every EVERY (repeatable)
//   --stall-loop NAME    ... whose thread gets stuck after --stall-after D (others go on)
//   --pause-at D         stop heartbeating at D for --pause-for P; with --extend E, first
//                        announce the pause with EXTEND_TIMEOUT_USEC=E (a long map load)
//   --grow-rss MIB       allocate and touch MIB MiB per second (a leak / memory hog) up to
//                        --grow-to MIB (default: without end)
//   --fork-children N    fork N children that sleep (a process leak), report failures
//   --busy               burn CPU in the main loop
// Signals at run time: SIGUSR1 -> hang now, SIGUSR2 -> crash now.
// Durations: 250ms, 2s, 1m.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

volatile sig_atomic_t g_hang = 0;
volatile sig_atomic_t g_crash = 0;
volatile sig_atomic_t g_term = 0;

long parse_ms(const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  const std::string unit = end;
  if (unit == "ms") return static_cast<long>(v);
  if (unit == "s" || unit.empty()) return static_cast<long>(v * 1000);
  if (unit == "m") return static_cast<long>(v * 60000);
  std::fprintf(stderr, "robot_sim: bad duration '%s'\n", text);
  std::exit(64);
}

void notify(const std::string& message) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || *path == '\0') return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
           sizeof addr);
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  long ready_delay = 0, heartbeat = -1, crash_after = -1, segv_after = -1, exit_after = -1;
  long hang_after = -1, double_fork = -1, print_every = -1;
  int exit_code = 0, listen_port = 0;
  bool never_ready = false, ignore_term = false;
  std::string status, pidfile, once;
  bool no_heartbeat = false;
  struct LoopOption {
    std::string name;
    long every = 0, deadline = 0;
  };
  std::vector<LoopOption> loops;
  std::string stall_loop;
  long stall_after = 0, pause_at = -1, pause_for = 0, extend = 0, fork_children = 0;
  double grow_rss = 0, grow_to = 0;
  bool busy = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "robot_sim: %s needs a value\n", a.c_str());
        std::exit(64);
      }
      return argv[++i];
    };
    if (a == "--ready-delay")
      ready_delay = parse_ms(next());
    else if (a == "--never-ready")
      never_ready = true;
    else if (a == "--heartbeat")
      heartbeat = parse_ms(next());
    else if (a == "--crash-after")
      crash_after = parse_ms(next());
    else if (a == "--segv-after")
      segv_after = parse_ms(next());
    else if (a == "--exit-after")
      exit_after = parse_ms(next());
    else if (a == "--exit-code")
      exit_code = std::atoi(next());
    else if (a == "--hang-after")
      hang_after = parse_ms(next());
    else if (a == "--ignore-sigterm")
      ignore_term = true;
    else if (a == "--double-fork")
      double_fork = parse_ms(next());
    else if (a == "--listen")
      listen_port = std::atoi(next());
    else if (a == "--print-every")
      print_every = parse_ms(next());
    else if (a == "--status")
      status = next();
    else if (a == "--pidfile")
      pidfile = next();
    else if (a == "--once")
      once = next();
    else if (a == "--no-heartbeat")
      no_heartbeat = true;
    else if (a == "--loop") {
      const std::string spec = next();
      const auto c1 = spec.find(':'), c2 = spec.rfind(':');
      if (c1 == std::string::npos || c1 == c2) {
        std::fprintf(stderr, "robot_sim: --loop NAME:EVERY:DEADLINE, not %s\n", spec.c_str());
        return 64;
      }
      loops.push_back({spec.substr(0, c1), parse_ms(spec.substr(c1 + 1, c2 - c1 - 1).c_str()),
                       parse_ms(spec.substr(c2 + 1).c_str())});
    } else if (a == "--stall-loop")
      stall_loop = next();
    else if (a == "--stall-after")
      stall_after = parse_ms(next());
    else if (a == "--pause-at")
      pause_at = parse_ms(next());
    else if (a == "--pause-for")
      pause_for = parse_ms(next());
    else if (a == "--extend")
      extend = parse_ms(next());
    else if (a == "--grow-rss")
      grow_rss = std::atof(next());
    else if (a == "--grow-to")
      grow_to = std::atof(next());
    else if (a == "--fork-children")
      fork_children = std::atol(next());
    else if (a == "--busy")
      busy = true;
    else if (a == "--name")
      next();  // for ps listings only
    else {
      std::fprintf(stderr, "robot_sim: unknown option %s\n", a.c_str());
      return 64;
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  ::signal(SIGUSR1, [](int) { g_hang = 1; });
  ::signal(SIGUSR2, [](int) { g_crash = 1; });
  if (ignore_term)
    ::signal(SIGTERM, SIG_IGN);
  else
    ::signal(SIGTERM, [](int) { g_term = 1; });

  if (double_fork >= 0) {
    const pid_t child = ::fork();
    if (child == 0) {
      if (::fork() == 0) {  // the grandchild: orphaned when its parent exits below
        std::printf("grandchild %d running for %ldms\n", ::getpid(), double_fork);
        std::this_thread::sleep_for(Ms(double_fork));
        std::_Exit(0);
      }
      std::_Exit(0);
    }
    ::waitpid(child, nullptr, 0);
  }
  if (heartbeat < 0) {
    if (const char* usec = std::getenv("WATCHDOG_USEC")) heartbeat = std::atol(usec) / 3000;
  }
  if (no_heartbeat) heartbeat = 0;
  if (!once.empty()) {
    if (std::ifstream(once).good()) {
      crash_after = segv_after = exit_after = hang_after = -1;  // failed once already
    } else {
      std::ofstream(once) << ::getpid() << "\n";
    }
  }
  if (!pidfile.empty()) std::ofstream(pidfile) << ::getpid() << "\n";
  int listener = -1;
  if (listen_port > 0) {
    listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(listen_port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener, 16) != 0) {
      std::perror("robot_sim: listen");
      return 1;
    }
  }
  const auto start = Clock::now();
  auto since = [&] { return std::chrono::duration_cast<Ms>(Clock::now() - start).count(); };
  // Watched loops: one thread each, as in a program whose callbacks run on several threads.
  for (const auto& loop : loops) {
    std::thread([loop, stall = loop.name == stall_loop, stall_after, start] {
      notify("VIGIL_LOOP=" + loop.name +
             "\nVIGIL_LOOP_USEC=" + std::to_string(loop.deadline * 1000));
      for (;;) {
        std::this_thread::sleep_for(Ms(loop.every));
        if (stall && Clock::now() - start >= Ms(stall_after)) {
          std::printf("robot_sim %d: loop %s is stuck\n", ::getpid(), loop.name.c_str());
          for (;;) ::pause();  // a deadlocked thread: the process and other loops go on
        }
        notify("WATCHDOG=1\nVIGIL_LOOP=" + loop.name);
      }
    }).detach();
  }
  if (fork_children > 0) {
    int failed = 0;
    for (long n = 0; n < fork_children; ++n) {
      const pid_t child = ::fork();
      if (child == 0) {
        for (;;) ::pause();
      }
      if (child < 0) ++failed;
    }
    std::printf("robot_sim %d: forked %ld children, %d forks failed\n", ::getpid(),
                fork_children - failed, failed);
  }
  std::vector<char*> hoard;
  double hoarded_mib = 0;
  auto last_grow = Clock::now();
  bool ready = false;
  auto last_beat = Clock::now() - Ms(100000);
  auto last_print = Clock::now();
  std::printf("robot_sim %d started\n", ::getpid());
  for (;;) {
    const long t = since();
    if (g_term) {
      std::printf("robot_sim %d: SIGTERM, stopping\n", ::getpid());
      notify("STOPPING=1");
      return 0;
    }
    if (g_crash || (crash_after >= 0 && t >= crash_after)) {
      std::printf("robot_sim %d: crashing (abort)\n", ::getpid());
      ::signal(SIGABRT, SIG_DFL);
      std::abort();
    }
    if (segv_after >= 0 && t >= segv_after) {
      std::printf("robot_sim %d: segfault\n", ::getpid());
      ::signal(SIGSEGV, SIG_DFL);
      ::raise(SIGSEGV);
    }
    if (exit_after >= 0 && t >= exit_after) {
      std::printf("robot_sim %d: exiting with %d\n", ::getpid(), exit_code);
      return exit_code;
    }
    if (hang_after >= 0 && t >= hang_after) g_hang = 1;
    if (g_hang) {
      // Alive but stuck: no heartbeats, no output; only SIGKILL or SIGABRT ends this.
      std::printf("robot_sim %d: hanging\n", ::getpid());
      for (;;) ::pause();
    }
    if (!ready && !never_ready && t >= ready_delay) {
      ready = true;
      notify(status.empty() ? "READY=1" : "READY=1\nSTATUS=" + status);
    }
    const bool paused = pause_at >= 0 && t >= pause_at && t < pause_at + pause_for;
    if (paused && extend > 0) {
      std::printf("robot_sim %d: long operation, EXTEND_TIMEOUT_USEC=%ld\n", ::getpid(),
                  extend * 1000);
      notify("EXTEND_TIMEOUT_USEC=" + std::to_string(extend * 1000));
      extend = 0;
    }
    if (grow_rss > 0 && (grow_to <= 0 || hoarded_mib < grow_to)) {
      const double seconds = std::chrono::duration<double>(Clock::now() - last_grow).count();
      const double mib = grow_rss * seconds;
      if (mib >= 1.0) {
        last_grow = Clock::now();
        const auto bytes = static_cast<std::size_t>(mib * 1024 * 1024);
        char* block = static_cast<char*>(std::malloc(bytes));
        if (block != nullptr) {
          std::memset(block, 1, bytes);  // touched: resident, not just reserved
          hoard.push_back(block);
          hoarded_mib += mib;
        }
      }
    }
    if (busy) {
      const auto until = Clock::now() + Ms(15);
      while (Clock::now() < until) {
      }
    }
    if (!paused && heartbeat > 0 && Clock::now() - last_beat >= Ms(heartbeat)) {
      last_beat = Clock::now();
      notify("WATCHDOG=1");
    }
    if (print_every > 0 && Clock::now() - last_print >= Ms(print_every)) {
      last_print = Clock::now();
      std::printf("robot_sim %d: t=%ldms\n", ::getpid(), t);
    }
    pollfd pfd{listener, POLLIN, 0};
    const int wait_ms =
        heartbeat > 0 ? static_cast<int>(std::max(1L, std::min(heartbeat, 20L))) : 20;
    if (::poll(listener >= 0 ? &pfd : nullptr, listener >= 0 ? 1 : 0, wait_ms) > 0) {
      const int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) ::close(c);
    }
  }
}
