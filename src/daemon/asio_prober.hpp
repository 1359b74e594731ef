#pragma once
// Readiness and liveness probes on the Asio loop: `tcp:HOST:PORT` connects, `exec: [argv]`
// runs a command; each attempt is bounded by ready.timeout.
#include <asio/io_context.hpp>

#include "daemon/pidfd_runner.hpp"
#include "supervisor/process_runner.hpp"

namespace vigil::daemon {

class AsioProber final : public supervisor::Prober {
 public:
  AsioProber(asio::io_context& io, PidfdRunner& runner) : io_(io), runner_(runner) {}
  std::unique_ptr<supervisor::Probe> run(const config::ComponentSpec& spec, Callback done) override;

 private:
  asio::io_context& io_;
  PidfdRunner& runner_;
};

}  // namespace vigil::daemon
