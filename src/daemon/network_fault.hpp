#pragma once
// Network faults for one component's DDS traffic (`vigil chaos partition|packet-loss`): an
// nftables table that drops all, or a random share, of the UDP datagrams to and from the
// sockets the component's processes hold, in vigild's network namespace.
//
// Why nftables and the input hook: datagrams on loopback pass the input hook of the receiving
// side once, whichever direction they go, and a drop there is silent. A drop on output would
// fail the sender's sendmsg() with EPERM, which a real network never does. Why the component's
// own ports: Cyclone DDS gives every participant its own unicast ports, so matching them cuts
// one component off while the rest of the robot keeps talking, and the detection can be
// matched to that component. A process started after the injection (a restart) has new
// sockets and is not affected: the fault was about the process that was running.
//
// `sch_netem` (delay) is not used: the kernels this runs on do not all have it, and loss and
// partition need only nf_tables.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace vigil::daemon {

// The local UDP ports of the sockets that `pids` hold (IPv4 and IPv6), ascending, unique.
// `proc` is the procfs root (a test can point it elsewhere).
std::vector<std::uint16_t> udp_ports_of(const std::vector<pid_t>& pids,
                                        const std::string& proc = "/proc");

// The processes of the session led by `leader` (the component's main process and what it
// started), `leader` first.
std::vector<pid_t> session_members(pid_t leader);

// The nft script that creates table `inet <table>` dropping `percent` (0 < percent <= 100) of
// the UDP datagrams from or to `ports`, counting what it saw and what it dropped.
std::string nft_drop_script(const std::string& table, const std::vector<std::uint16_t>& ports,
                            double percent);

struct DropCounters {
  std::uint64_t seen = 0;     // datagrams to or from the ports while the table was in place
  std::uint64_t dropped = 0;  // of those, the ones dropped
};

// Reads the counters out of `nft --json list table inet <table>` output.
Result<DropCounters> parse_drop_counters(const std::string& nft_json);

// One nftables table, removed on destruction. Runs the `nft` program (argv, no shell); each
// call waits for it (a few milliseconds).
class NftTable {
 public:
  static Result<NftTable> create(const std::string& name, const std::string& script);
  NftTable(NftTable&& other) noexcept : name_(std::move(other.name_)) { other.name_.clear(); }
  NftTable& operator=(NftTable&&) = delete;
  NftTable(const NftTable&) = delete;
  ~NftTable();

  const std::string& name() const { return name_; }
  Result<DropCounters> counters() const;

 private:
  explicit NftTable(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

// Deletes the tables of `inet` family whose names start with `prefix`: what a vigild killed
// while a network fault was in effect left behind. Returns how many; nothing if nft is missing.
int remove_nft_tables_with_prefix(const std::string& prefix);

// Runs `nft ARGS...` with `input` on its standard input; its standard output, or its error
// output as the error.
Result<std::string> run_nft(const std::vector<std::string>& args, const std::string& input = {});

}  // namespace vigil::daemon
