#include "resources/process_tree_sampler.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>

namespace vigil::resources {
namespace {

constexpr int kUnresolved = -2;
constexpr int kResolving = -3;  // on the chain being walked: seeing it again means a cycle
constexpr int kNoTree = -1;

// getdents64 records; glibc 2.36 has no wrapper for Debian 12's compilers to rely on.
struct LinuxDirent64 {
  ino64_t d_ino;
  off64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

long getdents64(int fd, char* buffer, std::size_t size) {
  return ::syscall(SYS_getdents64, fd, buffer, size);
}

bool parse_pid(const char* name, pid_t& pid) {
  const char* end = name + std::strlen(name);
  if (name == end || *name < '1' || *name > '9') return false;
  const auto [ptr, ec] = std::from_chars(name, end, pid);
  return ec == std::errc() && ptr == end;
}

// Reads a whole small /proc file with one open/read/close; false if it vanished or is
// unreadable. /proc files are generated at read time, so a short first read is the whole file.
bool read_small_file(int dir_fd, const char* path, std::vector<char>& buffer, std::size_t& size) {
  const int fd = ::openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  UniqueFd owner(fd);
  size = 0;
  for (;;) {
    if (size == buffer.size()) buffer.resize(buffer.size() * 2);
    const ssize_t n = ::read(fd, buffer.data() + size, buffer.size() - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;  // ESRCH: exited between open and read
    }
    if (n == 0) return true;
    size += static_cast<std::size_t>(n);
  }
}

class FieldCursor {
 public:
  explicit FieldCursor(std::string_view text) : text_(text) {}

  std::string_view next() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != ' ' && text_[pos_] != '\n') ++pos_;
    return text_.substr(start, pos_ - start);
  }
  void skip(int fields) {
    for (int i = 0; i < fields; ++i) next();
  }
  template <typename T>
  bool next_number(T& out) {
    const std::string_view field = next();
    if (field.empty()) return false;
    // Counters printed as signed (cutime is a clock_t) are never negative in practice; a
    // negative one is read as 0 rather than wrapping.
    if constexpr (std::is_unsigned_v<T>) {
      if (field.front() == '-') {
        out = 0;
        return true;
      }
    }
    const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), out);
    return ec == std::errc() && ptr == field.data() + field.size();
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

std::uint64_t io_counter(std::string_view text, std::string_view key) {
  std::size_t at = 0;
  while ((at = text.find(key, at)) != std::string_view::npos) {
    if (at == 0 || text[at - 1] == '\n') {
      std::size_t p = at + key.size();
      while (p < text.size() && text[p] == ' ') ++p;
      std::uint64_t value = 0;
      std::from_chars(text.data() + p, text.data() + text.size(), value);
      return value;
    }
    at += key.size();
  }
  return 0;
}

}  // namespace

std::optional<StatFields> parse_stat(std::string_view text) {
  StatFields out;
  const std::size_t open = text.find(" (");
  const std::size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  const auto [pid_end, pid_ec] = std::from_chars(text.data(), text.data() + open, out.pid);
  if (pid_ec != std::errc() || pid_end != text.data() + open) return std::nullopt;

  // Field numbers as in proc(5); the cursor starts at field 3 (state).
  FieldCursor fields(text.substr(close + 1));
  const std::string_view state = fields.next();
  if (state.size() != 1) return std::nullopt;
  out.state = state.front();
  bool ok = fields.next_number(out.ppid);  // 4
  fields.skip(1);                          // 5 pgrp
  ok = ok && fields.next_number(out.session);
  fields.skip(7);  // 7 tty_nr .. 13 cmajflt
  ok = ok && fields.next_number(out.utime) && fields.next_number(out.stime) &&
       fields.next_number(out.cutime) && fields.next_number(out.cstime);
  fields.skip(2);  // 18 priority, 19 nice
  ok = ok && fields.next_number(out.num_threads);
  fields.skip(1);  // 21 itrealvalue
  ok = ok && fields.next_number(out.start_time);
  fields.skip(1);  // 23 vsize
  ok = ok && fields.next_number(out.rss_pages);
  if (!ok) return std::nullopt;
  return out;
}

ProcessTreeSampler::ProcessTreeSampler(SamplerOptions options)
    : options_(options),
      proc_dir_(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)),
      ticks_per_second_(::sysconf(_SC_CLK_TCK)),
      page_size_(static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE))),
      dirents_(32 * 1024),
      file_buffer_(4096) {
  // Since Linux 6.2, stat() of /proc/PID/fd reports the number of open fds as its size, which
  // saves listing the directory. Our own process always has fds open, so a size of 0 here
  // means the kernel predates it.
  struct stat st {};
  fd_count_from_stat_ = ::stat("/proc/self/fd", &st) == 0 && st.st_size > 0;
  if (ticks_per_second_ <= 0) ticks_per_second_ = 100;
  rlimit files{};
  fd_budget_ = options_.max_cached_fds;
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    fd_budget_ = static_cast<int>(
        std::min<rlim_t>(static_cast<rlim_t>(std::max(0, fd_budget_)), files.rlim_cur / 4));
  }
}

std::uint64_t ProcessTreeSampler::boot_ticks_now() const {
  // The same clock as /proc/PID/stat's starttime (boot time, time-namespace adjusted).
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  const auto tps = static_cast<std::uint64_t>(ticks_per_second_);
  return static_cast<std::uint64_t>(ts.tv_sec) * tps +
         static_cast<std::uint64_t>(ts.tv_nsec) * tps / 1'000'000'000u;
}

void ProcessTreeSampler::scan_proc() {
  // Entries of the previous scan hand their fds to this one's; those of processes that are
  // gone close when previous_processes_ is cleared.
  processes_.swap(previous_processes_);
  processes_.clear();
  cached_fds_ = 0;
  if (!proc_dir_.valid()) return;
  ::lseek(proc_dir_.get(), 0, SEEK_SET);
  std::size_t carried = 0;
  for (;;) {
    const long n = getdents64(proc_dir_.get(), dirents_.data(), dirents_.size());
    if (n <= 0) break;
    for (long offset = 0; offset < n;) {
      const auto* entry = reinterpret_cast<const LinuxDirent64*>(dirents_.data() + offset);
      offset += entry->d_reclen;
      Process process;
      if (entry->d_type != DT_DIR || !parse_pid(entry->d_name, process.stat.pid)) continue;
      // Both lists ascend (the kernel lists pids in order), so one cursor merges them.
      const pid_t pid = process.stat.pid;
      while (carried < previous_processes_.size() && previous_processes_[carried].stat.pid < pid) {
        ++carried;
      }
      if (carried < previous_processes_.size() && previous_processes_[carried].stat.pid == pid) {
        Process& before = previous_processes_[carried];
        process.stat_fd = std::move(before.stat_fd);
        process.io_fd = std::move(before.io_fd);
        process.fd_dir = std::move(before.fd_dir);
      }
      const auto open_fds = [&process] {
        return process.stat_fd.valid() + process.io_fd.valid() + process.fd_dir.valid();
      };
      cached_fds_ += open_fds();
      if (!read_stat(process)) {
        cached_fds_ -= open_fds();  // closed with `process`
        continue;
      }
      processes_.push_back(std::move(process));
    }
  }
  previous_processes_.clear();
  const auto by_pid = [](const Process& a, const Process& b) { return a.stat.pid < b.stat.pid; };
  if (!std::is_sorted(processes_.begin(), processes_.end(), by_pid)) {
    std::sort(processes_.begin(), processes_.end(), by_pid);
  }
}

bool ProcessTreeSampler::read_cached(UniqueFd& fd, pid_t pid, const char* name, std::size_t& size) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!fd.valid()) {
      char path[32];
      std::snprintf(path, sizeof path, "%d/%s", pid, name);
      if (cached_fds_ >= fd_budget_)
        return read_small_file(proc_dir_.get(), path, file_buffer_, size);
      fd.reset(::openat(proc_dir_.get(), path, O_RDONLY | O_CLOEXEC | O_NOCTTY));
      if (!fd.valid()) return false;  // ENOENT: gone; EACCES: not ours
      ++cached_fds_;
    }
    // A seq_file read at offset 0 regenerates the whole text; a result that fills the buffer
    // may be cut short, so it is retried with a larger one.
    ssize_t n;
    while ((n = ::pread(fd.get(), file_buffer_.data(), file_buffer_.size(), 0)) ==
           static_cast<ssize_t>(file_buffer_.size())) {
      file_buffer_.resize(file_buffer_.size() * 2);
    }
    if (n >= 0) {
      size = static_cast<std::size_t>(n);
      return true;
    }
    // ESRCH: the process this fd was opened for is gone. The pid is listed, so it has been
    // reused: open again, once, for the new process.
    fd.reset();
    --cached_fds_;
    if (errno != ESRCH) return false;
  }
  return false;
}

bool ProcessTreeSampler::read_stat(Process& process) {
  std::size_t size = 0;
  if (!read_cached(process.stat_fd, process.stat.pid, "stat", size)) return false;
  const auto stat = parse_stat(std::string_view(file_buffer_.data(), size));
  if (!stat || stat->pid != process.stat.pid) return false;
  process.stat = *stat;
  process.tree = kUnresolved;
  return true;
}

const ProcessTreeSampler::Process* ProcessTreeSampler::find(pid_t pid) const {
  const auto it = std::lower_bound(processes_.begin(), processes_.end(), pid,
                                   [](const Process& p, pid_t v) { return p.stat.pid < v; });
  return it != processes_.end() && it->stat.pid == pid ? &*it : nullptr;
}

int ProcessTreeSampler::count_fds(Process& process) {
  if (!process.fd_dir.valid() && cached_fds_ < fd_budget_) {
    char path[32];
    std::snprintf(path, sizeof path, "%d/fd", process.stat.pid);
    process.fd_dir.reset(::openat(proc_dir_.get(), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!process.fd_dir.valid()) return 0;  // EACCES (not ours), ENOENT (gone)
    ++cached_fds_;
  }
  if (fd_count_from_stat_) {
    struct stat st {};
    if (process.fd_dir.valid()) {
      return ::fstat(process.fd_dir.get(), &st) == 0 ? static_cast<int>(st.st_size) : 0;
    }
    char path[32];
    std::snprintf(path, sizeof path, "%d/fd", process.stat.pid);
    return ::fstatat(proc_dir_.get(), path, &st, 0) == 0 ? static_cast<int>(st.st_size) : 0;
  }
  UniqueFd transient;
  int dir = process.fd_dir.get();
  if (dir < 0) {
    char path[32];
    std::snprintf(path, sizeof path, "%d/fd", process.stat.pid);
    transient.reset(::openat(proc_dir_.get(), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!transient.valid()) return 0;
    dir = transient.get();
  }
  ::lseek(dir, 0, SEEK_SET);
  int count = 0;
  for (;;) {
    const long n = getdents64(dir, dirents_.data(), dirents_.size());
    if (n <= 0) break;
    for (long offset = 0; offset < n;) {
      const auto* entry = reinterpret_cast<const LinuxDirent64*>(dirents_.data() + offset);
      offset += entry->d_reclen;
      if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) ++count;
    }
  }
  return count;
}

void ProcessTreeSampler::read_io(Process& process, std::uint64_t& read_bytes,
                                 std::uint64_t& write_bytes) {
  std::size_t size = 0;
  if (!read_cached(process.io_fd, process.stat.pid, "io", size)) return;
  const std::string_view text(file_buffer_.data(), size);
  read_bytes += io_counter(text, "read_bytes:");
  write_bytes += io_counter(text, "write_bytes:");
}

std::vector<TreeSample> ProcessTreeSampler::sample(
    const std::vector<pid_t>& roots, TimePoint now,
    const std::vector<std::pair<pid_t, pid_t>>& attached) {
  const std::uint64_t scan_start_ticks = boot_ticks_now();
  scan_proc();

  // Roots sorted for lookup; a root listed twice is computed once and copied.
  std::vector<std::pair<pid_t, int>> root_index;
  root_index.reserve(roots.size());
  for (std::size_t i = 0; i < roots.size(); ++i) {
    if (roots[i] > 0) root_index.emplace_back(roots[i], static_cast<int>(i));
  }
  for (const auto& [leader, root] : attached) {
    const auto it = std::find(roots.begin(), roots.end(), root);
    if (leader > 0 && it != roots.end()) {
      root_index.emplace_back(leader, static_cast<int>(it - roots.begin()));
    }
  }
  std::sort(root_index.begin(), root_index.end());
  const auto tree_of_root = [&](pid_t pid) {
    const auto it = std::lower_bound(root_index.begin(), root_index.end(),
                                     std::make_pair(pid, std::numeric_limits<int>::min()));
    return it != root_index.end() && it->first == pid ? it->second : kNoTree;
  };

  // Membership: own session or own pid first, else whatever the parent chain reaches.
  for (std::size_t i = 0; i < processes_.size(); ++i) {
    if (processes_[i].tree != kUnresolved) continue;
    chain_.clear();
    int tree = kNoTree;
    std::size_t at = i;
    for (;;) {
      Process& p = processes_[at];
      if (p.tree == kResolving) break;  // a cycle of stale ppids: give up on this chain
      if (p.tree != kUnresolved) {
        tree = p.tree;
        break;
      }
      tree = tree_of_root(p.stat.session);
      if (tree == kNoTree) tree = tree_of_root(p.stat.pid);
      chain_.push_back(at);
      if (tree != kNoTree) break;
      p.tree = kResolving;
      const Process* parent = p.stat.ppid > 0 ? find(p.stat.ppid) : nullptr;
      if (parent == nullptr) break;
      at = static_cast<std::size_t>(parent - processes_.data());
    }
    for (const std::size_t member : chain_) processes_[member].tree = tree;
  }

  std::vector<TreeSample> out(roots.size());
  for (std::size_t i = 0; i < roots.size(); ++i) out[i].root = roots[i];

  // Per-process CPU, including children a member reaped (cutime/cstime), so that short-lived
  // helpers that never show up in a scan are still counted.
  const auto previous_of = [&](pid_t pid) -> const PreviousCpu* {
    const auto it = std::lower_bound(previous_cpu_.begin(), previous_cpu_.end(), pid,
                                     [](const PreviousCpu& p, pid_t v) { return p.pid < v; });
    return it != previous_cpu_.end() && it->pid == pid ? &*it : nullptr;
  };
  std::vector<std::int64_t> delta_ticks(roots.size(), 0);
  std::vector<std::uint64_t> live_ticks(roots.size(), 0);  // a new root's starting total
  current_cpu_.clear();
  for (Process& p : processes_) {
    if (p.tree < 0) continue;
    TreeSample& tree = out[static_cast<std::size_t>(p.tree)];
    const StatFields& st = p.stat;
    tree.processes += 1;
    tree.threads += st.num_threads;
    tree.rss_bytes += st.rss_pages * page_size_;
    tree.pids.push_back(st.pid);
    if (options_.count_fds) tree.open_fds += count_fds(p);
    if (options_.read_io) read_io(p, tree.read_bytes, tree.write_bytes);

    const std::uint64_t own = st.utime + st.stime;
    const std::uint64_t reaped = st.cutime + st.cstime;
    live_ticks[static_cast<std::size_t>(p.tree)] += own + reaped;
    current_cpu_.push_back(PreviousCpu{st.pid, st.start_time, st.ppid, own, reaped, tree.root});
    const PreviousCpu* before = previous_of(st.pid);
    if (before != nullptr && before->start_time == st.start_time && before->root == tree.root) {
      delta_ticks[static_cast<std::size_t>(p.tree)] +=
          static_cast<std::int64_t>(own + reaped) -
          static_cast<std::int64_t>(before->own_ticks + before->reaped_ticks);
    } else if (st.start_time >= previous_boot_ticks_) {
      // Born since the previous scan began: its whole life falls in the interval.
      delta_ticks[static_cast<std::size_t>(p.tree)] += static_cast<std::int64_t>(own + reaped);
    }
    // Otherwise it existed before but was not counted in this tree (it moved in): only from now.
  }

  // A member that exited and was reaped by another member moved its ticks into the parent's
  // cutime/cstime, whose delta then counts the child's whole life again; remove what the child
  // had already contributed. Bounded by the parent's own increase, since a parent ignoring
  // SIGCHLD never accumulates its children's time.
  const auto current_of = [&](pid_t pid) -> const PreviousCpu* {
    const auto it = std::lower_bound(current_cpu_.begin(), current_cpu_.end(), pid,
                                     [](const PreviousCpu& p, pid_t v) { return p.pid < v; });
    return it != current_cpu_.end() && it->pid == pid ? &*it : nullptr;
  };
  struct Gone {
    pid_t parent;
    pid_t root;
    std::uint64_t counted_ticks;
    bool operator<(const Gone& o) const { return parent < o.parent; }
  };
  std::vector<Gone> gone_children;
  for (const PreviousCpu& gone : previous_cpu_) {
    const PreviousCpu* still = current_of(gone.pid);
    if (still != nullptr && still->start_time == gone.start_time) continue;
    gone_children.push_back(Gone{gone.ppid, gone.root, gone.own_ticks + gone.reaped_ticks});
  }
  std::sort(gone_children.begin(), gone_children.end());
  for (std::size_t i = 0; i < gone_children.size();) {
    const pid_t parent_pid = gone_children[i].parent;
    const pid_t gone_root = gone_children[i].root;
    std::uint64_t already_counted = 0;
    for (; i < gone_children.size() && gone_children[i].parent == parent_pid; ++i) {
      // Children of one parent were all in the parent's tree (one tree per parent).
      if (gone_children[i].root == gone_root) already_counted += gone_children[i].counted_ticks;
    }
    const PreviousCpu* parent_now = current_of(parent_pid);
    const PreviousCpu* parent_before = previous_of(parent_pid);
    if (parent_now == nullptr || parent_before == nullptr ||
        parent_now->start_time != parent_before->start_time ||
        parent_now->root != parent_before->root || parent_now->root != gone_root) {
      continue;
    }
    const std::uint64_t parent_increase =
        parent_now->reaped_ticks > parent_before->reaped_ticks
            ? parent_now->reaped_ticks - parent_before->reaped_ticks
            : 0;
    const Process* parent = find(parent_pid);
    delta_ticks[static_cast<std::size_t>(parent->tree)] -=
        static_cast<std::int64_t>(std::min(already_counted, parent_increase));
  }

  // Totals and rates per root.
  const double elapsed_s =
      previous_time_ ? std::chrono::duration<double>(now - *previous_time_).count() : 0.0;
  current_roots_.clear();
  for (const auto& [root, index] : root_index) {
    if (!current_roots_.empty() && current_roots_.back().root == root) continue;  // duplicate
    TreeSample& tree = out[static_cast<std::size_t>(index)];
    const auto before = std::lower_bound(previous_roots_.begin(), previous_roots_.end(), root,
                                         [](const RootTotals& r, pid_t v) { return r.root < v; });
    const auto slot = static_cast<std::size_t>(index);
    const std::uint64_t delta =
        static_cast<std::uint64_t>(std::max<std::int64_t>(0, delta_ticks[slot]));
    if (before != previous_roots_.end() && before->root == root) {
      tree.cpu_ticks_total = before->cpu_ticks_total + delta;
      if (elapsed_s > 0) {
        tree.cpu_percent = 100.0 * static_cast<double>(delta) /
                           (elapsed_s * static_cast<double>(ticks_per_second_));
      }
    } else {
      tree.cpu_ticks_total = live_ticks[slot];
    }
    current_roots_.push_back(RootTotals{root, tree.cpu_ticks_total});
  }
  for (std::size_t i = 0; i < roots.size(); ++i) {
    const int first = tree_of_root(roots[i]);
    if (first >= 0 && static_cast<std::size_t>(first) != i) {
      out[i] = out[static_cast<std::size_t>(first)];
    }
  }

  previous_cpu_.swap(current_cpu_);
  previous_roots_.swap(current_roots_);
  previous_time_ = now;
  previous_boot_ticks_ = scan_start_ticks;
  return out;
}

}  // namespace vigil::resources
