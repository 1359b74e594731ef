#include "chaos/hog.hpp"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace vigil::chaos {
namespace {

[[noreturn]] void spin() {
  std::atomic<std::uint64_t> counter{0};
  for (;;) counter.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

int run_hog(const std::vector<std::string>& args) {
  // Dies with the vigild that started it: a hog left behind by a killed vigild would spin or
  // hold memory for good, outside any component.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (const char* parent = std::getenv("VIGIL_CHAOS_PARENT");
      parent == nullptr || std::to_string(::getppid()) != parent) {
    return 1;  // the parent is already gone (or this was not started by vigild)
  }
  if (args.size() != 2) {
    std::fprintf(stderr, "usage: vigild --chaos-hog cpu THREADS | memory BYTES\n");
    return 2;
  }
  char* end = nullptr;
  const unsigned long long amount = std::strtoull(args[1].c_str(), &end, 10);
  if (end == args[1].c_str() || *end != '\0' || amount == 0) return 2;
  if (args[0] == "cpu") {
    if (amount > 256) return 2;
    for (unsigned long long i = 1; i < amount; ++i) std::thread(spin).detach();
    spin();
  }
  if (args[0] != "memory") return 2;
  void* block = ::mmap(nullptr, amount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (block == MAP_FAILED) {
    std::fprintf(stderr, "chaos hog: mmap %llu bytes: %s\n", amount, std::strerror(errno));
    return 1;
  }
  // Touched, so that it is resident: what a leak looks like to the resource monitors.
  std::memset(block, 0x5a, amount);
  for (;;) ::pause();
}

}  // namespace vigil::chaos
