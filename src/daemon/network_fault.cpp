#include "daemon/network_fault.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/unique_fd.hpp"
#include "process/proc_stat.hpp"

extern char** environ;

namespace vigil::daemon {
namespace {

// The socket inodes among the open files of `pid` ("socket:[12345]").
void socket_inodes(pid_t pid, const std::string& proc, std::set<std::uint64_t>& out) {
  const std::string dir = fmt::format("{}/{}/fd", proc, pid);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char target[64];
    const std::string link = dir + "/" + e->d_name;
    const ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    std::uint64_t inode = 0;
    if (std::sscanf(target, "socket:[%lu]", &inode) == 1) out.insert(inode);
  }
  ::closedir(d);
}

// Adds the local ports of the rows of a /proc/net/udp{,6} table whose inode is in `inodes`.
void ports_from_table(const std::string& path, const std::set<std::uint64_t>& inodes,
                      std::set<std::uint16_t>& out) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
    std::uint64_t inode = 0;
    if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode)) {
      continue;
    }
    if (!inodes.count(inode)) continue;
    const auto colon = local.rfind(':');
    if (colon == std::string::npos) continue;
    const unsigned long port = std::strtoul(local.c_str() + colon + 1, nullptr, 16);
    if (port > 0 && port <= 0xffff) out.insert(static_cast<std::uint16_t>(port));
  }
}

Result<std::string> read_all(int fd) {
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n > 0) {
      out.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0) {
      return out;
    } else if (errno != EINTR) {
      return make_error(fmt::format("read: {}", std::strerror(errno)));
    }
  }
}

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.size() > 300 ? line.substr(0, 300) : line;
}

}  // namespace

std::vector<pid_t> session_members(pid_t leader) {
  std::vector<pid_t> members{leader};
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return members;
  while (dirent* e = ::readdir(d)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0 || pid == leader) continue;
    if (auto st = process::read_proc_stat(pid); st && st->session == leader) members.push_back(pid);
  }
  ::closedir(d);
  return members;
}

std::vector<std::uint16_t> udp_ports_of(const std::vector<pid_t>& pids, const std::string& proc) {
  std::set<std::uint64_t> inodes;
  for (pid_t pid : pids) socket_inodes(pid, proc, inodes);
  std::set<std::uint16_t> ports;
  if (!inodes.empty() && !pids.empty()) {
    // The tables of the first process's network namespace, which its sockets are in.
    for (const char* table : {"udp", "udp6"}) {
      ports_from_table(fmt::format("{}/{}/net/{}", proc, pids.front(), table), inodes, ports);
    }
  }
  return {ports.begin(), ports.end()};
}

std::string nft_drop_script(const std::string& table, const std::vector<std::uint16_t>& ports,
                            double percent) {
  std::string elements;
  for (auto port : ports) elements += (elements.empty() ? "" : ", ") + std::to_string(port);
  // numgen draws per datagram; in ten-thousandths so that 0.5 % is expressible.
  const auto threshold = static_cast<long>(std::clamp(percent, 0.0, 100.0) * 100.0 + 0.5);
  const std::string drop =
      threshold >= 10'000 ? "counter drop"
                          : fmt::format("numgen random mod 10000 < {} counter drop", threshold);
  // `goto`, not `jump`: a datagram between two of the component's own sockets is judged once.
  return fmt::format(
      "table inet {0} {{\n"
      "  set ports {{ type inet_service; elements = {{ {1} }} }}\n"
      "  chain input {{\n"
      "    type filter hook input priority -10; policy accept;\n"
      "    udp sport @ports goto fault\n"
      "    udp dport @ports goto fault\n"
      "  }}\n"
      "  chain fault {{\n"
      "    counter\n"
      "    {2}\n"
      "  }}\n"
      "}}\n",
      table, elements, drop);
}

Result<DropCounters> parse_drop_counters(const std::string& nft_json) {
  const auto doc = nlohmann::json::parse(nft_json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.contains("nftables") || !doc["nftables"].is_array()) {
    return make_error("nft did not answer in JSON");
  }
  DropCounters counters;
  bool found = false;
  for (const auto& item : doc["nftables"]) {
    const auto rule = item.find("rule");
    if (rule == item.end() || rule->value("chain", "") != "fault") continue;
    std::uint64_t packets = 0;
    bool drops = false;
    for (const auto& expr : rule->value("expr", nlohmann::json::array())) {
      if (auto c = expr.find("counter"); c != expr.end() && c->is_object()) {
        packets = c->value("packets", std::uint64_t{0});
        found = true;
      }
      if (expr.contains("drop")) drops = true;
    }
    (drops ? counters.dropped : counters.seen) = packets;
  }
  if (!found) return make_error("no counters in the fault's nft table");
  return counters;
}

Result<std::string> run_nft(const std::vector<std::string>& args, const std::string& input) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) return make_error("pipe: " + std::string(strerror(errno)));
  UniqueFd in_read(in_pipe[0]), in_write(in_pipe[1]);
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return make_error("pipe: " + std::string(strerror(errno)));
  UniqueFd out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return make_error("pipe: " + std::string(strerror(errno)));
  UniqueFd err_read(err_pipe[0]), err_write(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_read.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
  std::vector<std::string> argv_storage{"nft"};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  // nft lives in /usr/sbin, which a PATH outside systemd may lack.
  int rc = ::posix_spawnp(&pid, "nft", &actions, nullptr, argv.data(), environ);
  if (rc == ENOENT)
    rc = ::posix_spawn(&pid, "/usr/sbin/nft", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return make_error(fmt::format("cannot run nft: {} (install nftables)", std::strerror(rc)));
  }
  in_read.reset();
  out_write.reset();
  err_write.reset();
  // The scripts are far below a pipe's capacity, so writing all before reading cannot block.
  std::size_t written = 0;
  while (written < input.size()) {
    const ssize_t n = ::write(in_write.get(), input.data() + written, input.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  in_write.reset();
  auto out = read_all(out_read.get());
  auto err = read_all(err_read.get());
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string why = err && !err->empty() ? first_line(*err) : "failed";
    return make_error(fmt::format("nft {}: {}", args.empty() ? "" : args.front(), why));
  }
  if (!out) return make_error(out.error());
  return *out;
}

Result<NftTable> NftTable::create(const std::string& name, const std::string& script) {
  if (auto r = run_nft({"-f", "-"}, script); !r) return make_error(r.error());
  return NftTable(name);
}

NftTable::~NftTable() {
  if (!name_.empty()) (void)run_nft({"delete", "table", "inet", name_});
}

Result<DropCounters> NftTable::counters() const {
  auto listed = run_nft({"--json", "list", "table", "inet", name_});
  if (!listed) return make_error(listed.error());
  return parse_drop_counters(*listed);
}

int remove_nft_tables_with_prefix(const std::string& prefix) {
  auto listed = run_nft({"list", "tables", "inet"});
  if (!listed) return 0;
  int removed = 0;
  std::istringstream lines(*listed);
  std::string word, family, name;
  while (lines >> word >> family >> name) {  // "table inet NAME"
    if (word == "table" && name.rfind(prefix, 0) == 0 &&
        run_nft({"delete", "table", family, name})) {
      ++removed;
    }
  }
  return removed;
}

}  // namespace vigil::daemon
