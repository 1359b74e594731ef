// The pieces of a network fault that need no privileges: which UDP ports a process holds
// (this test process, with real sockets), the nftables script, and the counters read back
// from nft's JSON. The faults themselves run in tests/integration/network_fault_test.cpp.
#include "daemon/network_fault.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "common/unique_fd.hpp"

namespace vigil::daemon {
namespace {

std::uint16_t bound_udp_port(const UniqueFd& fd, int family) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&address);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    length = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_any;
    length = sizeof(sockaddr_in6);
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0) return 0;
  length = sizeof(address);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&address)->sin_port
                                 : reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
}

TEST(NetworkFaultParts, FindsTheUdpPortsOfAProcessSocketsBothFamilies) {
  UniqueFd v4(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  UniqueFd v6(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  UniqueFd tcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const auto port4 = bound_udp_port(v4, AF_INET);
  const auto port6 = bound_udp_port(v6, AF_INET6);
  ASSERT_NE(port4, 0);
  ASSERT_NE(port6, 0);
  const auto ports = udp_ports_of({::getpid()});
  EXPECT_NE(std::find(ports.begin(), ports.end(), port4), ports.end());
  EXPECT_NE(std::find(ports.begin(), ports.end(), port6), ports.end());
  EXPECT_TRUE(std::is_sorted(ports.begin(), ports.end()));
  // A process that does not exist holds nothing.
  EXPECT_TRUE(udp_ports_of({999'999'999}).empty());
}

TEST(NetworkFaultParts, TheSessionOfALeaderStartsWithIt) {
  const auto members = session_members(::getsid(0));
  ASSERT_FALSE(members.empty());
  EXPECT_EQ(members.front(), ::getsid(0));
  EXPECT_NE(std::find(members.begin(), members.end(), ::getpid()), members.end());
}

TEST(NetworkFaultParts, TheScriptDropsBothDirectionsOnceAndCountsWhatItSaw) {
  const std::string partition = nft_drop_script("vigil_chaos_1", {7410, 7411}, 100);
  EXPECT_NE(partition.find("table inet vigil_chaos_1 {"), std::string::npos) << partition;
  EXPECT_NE(partition.find("elements = { 7410, 7411 }"), std::string::npos) << partition;
  EXPECT_NE(partition.find("udp sport @ports goto fault"), std::string::npos) << partition;
  EXPECT_NE(partition.find("udp dport @ports goto fault"), std::string::npos) << partition;
  EXPECT_NE(partition.find("    counter drop"), std::string::npos) << partition;
  EXPECT_EQ(partition.find("numgen"), std::string::npos) << partition;
  const std::string loss = nft_drop_script("t", {7410}, 20);
  EXPECT_NE(loss.find("numgen random mod 10000 < 2000 counter drop"), std::string::npos) << loss;
  EXPECT_NE(nft_drop_script("t", {7410}, 0.5).find("< 50 counter"), std::string::npos);
}

TEST(NetworkFaultParts, ReadsTheCountersFromNftJson) {
  // As nft 1.0.6 prints `nft --json list table inet t` (trimmed).
  const std::string listed = R"({"nftables": [{"metainfo": {"version": "1.0.6"}},
    {"table": {"family": "inet", "name": "t", "handle": 1}},
    {"rule": {"family": "inet", "table": "t", "chain": "input", "handle": 4, "expr": [
      {"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "sport"}},
       "right": "@ports"}}, {"goto": {"target": "fault"}}]}},
    {"rule": {"family": "inet", "table": "t", "chain": "fault", "handle": 6,
      "expr": [{"counter": {"packets": 682, "bytes": 90000}}]}},
    {"rule": {"family": "inet", "table": "t", "chain": "fault", "handle": 7, "expr": [
      {"match": {"op": "<", "left": {"numgen": {"mode": "random", "mod": 10000}}, "right": 2000}},
      {"counter": {"packets": 151, "bytes": 20000}}, {"drop": null}]}}]})";
  auto counters = parse_drop_counters(listed);
  ASSERT_TRUE(counters.ok()) << counters.error();
  EXPECT_EQ(counters->seen, 682u);
  EXPECT_EQ(counters->dropped, 151u);
  EXPECT_FALSE(parse_drop_counters("Error: No such file or directory").ok());
  EXPECT_FALSE(parse_drop_counters(R"({"nftables": []})").ok());
}

}  // namespace
}  // namespace vigil::daemon
