#pragma once
// Resource use of whole process trees (one per component), from one scan of /proc.
//
// Membership: every component's main process runs in its own session (setsid), so a process
// belongs to the tree of root R when its session is R, or when its parent chain reaches a
// process that already belongs to R (a descendant that called setsid itself). A descendant
// that called setsid and whose parent then exited is re-parented to vigild (the subreaper):
// it has left both the session and the chain and is not found. Only cgroups can follow it.
//
// Processes can vanish at any point of a scan; a process that disappears between reading the
// directory and reading its files is simply not counted.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/scheduler.hpp"
#include "common/unique_fd.hpp"

namespace vigil::resources {

struct SamplerOptions {
  bool count_fds = true;  // /proc/PID/fd per member (a directory listing on old kernels)
  bool read_io = true;    // /proc/PID/io per member
  // The sampler keeps /proc/PID/{stat,io,fd} open between samples (see ProcessTreeSampler);
  // at most this many, and at most a quarter of the RLIMIT_NOFILE in force when the sampler is
  // constructed. Past that, files are opened and closed at each sample.
  int max_cached_fds = 8192;
};

struct TreeSample {
  pid_t root = 0;
  int processes = 0;  // live processes (zombies included) in the tree
  int threads = 0;
  // Sum of the members' resident sets: a page shared by several members (libraries, memory
  // inherited through fork) counts once per member, as when adding up `ps` output.
  std::uint64_t rss_bytes = 0;
  // Share of one core over the interval since the previous sample() that included this root;
  // 0 on the first. Includes children that ran and were reaped within the interval.
  double cpu_percent = 0;
  // CPU ticks (1/sysconf(_SC_CLK_TCK) s) consumed by the tree since this root was first
  // sampled, plus what its live processes had used before that. Never decreases.
  std::uint64_t cpu_ticks_total = 0;
  int open_fds = 0;               // 0 unless SamplerOptions::count_fds
  std::uint64_t read_bytes = 0;   // storage bytes of live members, /proc/PID/io; 0 if unreadable
  std::uint64_t write_bytes = 0;  // (cumulative per process: falls when a member exits)
  std::vector<pid_t> pids;        // ascending
};

// The fields of /proc/PID/stat the sampler needs.
struct StatFields {
  pid_t pid = 0;
  char state = '?';
  pid_t ppid = 0;
  pid_t session = 0;
  std::uint64_t utime = 0;  // ticks, this process (all its threads, live and exited)
  std::uint64_t stime = 0;
  std::uint64_t cutime = 0;  // ticks of children it has waited for
  std::uint64_t cstime = 0;
  int num_threads = 0;
  std::uint64_t start_time = 0;  // ticks after boot: with the pid, names a process uniquely
  std::uint64_t rss_pages = 0;
};

// Parses the text of /proc/PID/stat. The command name (field 2) may contain spaces and
// parentheses, so fields are counted from the last ')'.
std::optional<StatFields> parse_stat(std::string_view text);

// Cost: opening a /proc file is most of the price of reading it (path lookup and a fresh
// inode), so the files of every process are opened once and re-read with pread() at offset 0,
// which regenerates them. An open /proc/PID file is bound to the process, not to the number:
// once the process is gone it reads ESRCH, even if the pid has been reused, so a reused pid
// is never mistaken for its predecessor.
class ProcessTreeSampler {
 public:
  explicit ProcessTreeSampler(SamplerOptions options = {});
  ProcessTreeSampler(const ProcessTreeSampler&) = delete;
  ProcessTreeSampler& operator=(const ProcessTreeSampler&) = delete;

  // One TreeSample per root, in the order given. A root that is gone yields the processes
  // still left in its session (often none). `now` is the monotonic time of the call.
  // Rates are computed against the previous call, so one sampler serves one periodic caller
  // that passes all its roots every time.
  // `attached`: {session leader, root} pairs: the processes of that session count in that
  // root's tree too (a helper vigild started on a component's behalf, such as a chaos hog).
  std::vector<TreeSample> sample(const std::vector<pid_t>& roots, TimePoint now,
                                 const std::vector<std::pair<pid_t, pid_t>>& attached = {});

 private:
  struct Process {
    StatFields stat;
    int tree = -1;  // index into roots, -1: not in any tree, -2: not yet resolved
    UniqueFd stat_fd;
    UniqueFd io_fd;
    UniqueFd fd_dir;
  };
  // What the previous sample knew of one member process, for CPU deltas.
  struct PreviousCpu {
    pid_t pid;
    std::uint64_t start_time;
    pid_t ppid;
    std::uint64_t own_ticks;     // utime + stime
    std::uint64_t reaped_ticks;  // cutime + cstime
    pid_t root;
  };
  struct RootTotals {
    pid_t root;
    std::uint64_t cpu_ticks_total;
  };

  void scan_proc();
  bool read_stat(Process& process);
  // Re-reads a cached /proc file, opening (and caching, within budget) it first if needed.
  bool read_cached(UniqueFd& fd, pid_t pid, const char* name, std::size_t& size);
  const Process* find(pid_t pid) const;
  int count_fds(Process& process);
  void read_io(Process& process, std::uint64_t& read_bytes, std::uint64_t& write_bytes);
  std::uint64_t boot_ticks_now() const;

  SamplerOptions options_;
  UniqueFd proc_dir_;
  bool fd_count_from_stat_ = false;  // Linux >= 6.2 reports the fd count as st_size
  long ticks_per_second_;
  std::uint64_t page_size_;

  // Reused from sample to sample so that a steady state allocates nothing.
  std::vector<char> dirents_;
  std::vector<char> file_buffer_;
  std::vector<Process> processes_;           // sorted by pid
  std::vector<Process> previous_processes_;  // the last scan's, for their open fds
  int fd_budget_ = 0;
  int cached_fds_ = 0;  // open in processes_ (recounted at every scan)
  std::vector<std::size_t> chain_;
  std::vector<PreviousCpu> previous_cpu_;  // sorted by pid
  std::vector<PreviousCpu> current_cpu_;
  std::vector<RootTotals> previous_roots_;  // sorted by root
  std::vector<RootTotals> current_roots_;
  std::optional<TimePoint> previous_time_;
  std::uint64_t previous_boot_ticks_ = 0;
};

}  // namespace vigil::resources
