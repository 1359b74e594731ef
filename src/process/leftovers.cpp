#include "process/leftovers.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <memory>
#include <string_view>

#include "common/unique_fd.hpp"
#include "process/proc_stat.hpp"

namespace vigil::process {

namespace {

std::string read_small_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return {};
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0 || out.size() > (1u << 20)) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

std::vector<Leftover> find_leftovers(const std::string& notify_socket) {
  std::vector<Leftover> out;
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
  if (!proc) return out;
  const std::string wanted_socket = "NOTIFY_SOCKET=" + notify_socket;
  constexpr std::string_view kComponent = "VIGIL_COMPONENT=";
  while (const dirent* d = ::readdir(proc.get())) {
    pid_t pid = 0;
    const std::string_view name = d->d_name;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc{} || end != name.data() + name.size() || pid <= 0 || pid == ::getpid()) {
      continue;
    }
    const auto stat = read_proc_stat(pid);
    if (!stat || stat->session != pid || stat->state == 'Z') continue;
    const std::string env = read_small_file("/proc/" + std::to_string(pid) + "/environ");
    bool ours = false;
    std::string component;
    for (std::size_t at = 0; at < env.size();) {
      std::size_t nul = env.find('\0', at);
      if (nul == std::string::npos) nul = env.size();
      const std::string_view entry(env.data() + at, nul - at);
      if (entry == wanted_socket) ours = true;
      if (entry.substr(0, kComponent.size()) == kComponent) {
        component = std::string(entry.substr(kComponent.size()));
      }
      at = nul + 1;
    }
    if (ours && !component.empty()) out.push_back({component, pid, stat->start_time});
  }
  return out;
}

}  // namespace vigil::process
