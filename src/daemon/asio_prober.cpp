#include "daemon/asio_prober.hpp"

#include <fmt/format.h>

#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include "common/units.hpp"
#include "daemon/pidfd_runner.hpp"
#include "process/spawn.hpp"

namespace vigil::daemon {
namespace {

// State shared with in-flight handlers; `alive` is cleared when the probe is cancelled so
// late completions are ignored.
struct ProbeState {
  supervisor::Prober::Callback done;
  bool alive = true;
  void finish(bool ok, const std::string& detail) {
    if (!alive) return;
    alive = false;
    done(ok, detail);
  }
};

class TcpProbe final : public supervisor::Probe {
 public:
  TcpProbe(asio::io_context& io, const config::ReadySpec& spec, supervisor::Prober::Callback done)
      : socket_(io), timer_(io), state_(std::make_shared<ProbeState>()) {
    state_->done = std::move(done);
    const std::string host = spec.host == "localhost" ? "127.0.0.1" : spec.host;
    std::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    auto state = state_;
    const std::string target = fmt::format("{}:{}", spec.host, spec.port);
    if (ec) {
      asio::post(io, [state, target] {
        state->finish(false, fmt::format("tcp {}: not an IP address", target));
      });
      return;
    }
    timer_.expires_after(spec.timeout);
    timer_.async_wait([state, this, target](const std::error_code& e) {
      if (e || !state->alive) return;
      socket_.close();
      state->finish(false, fmt::format("tcp {}: connect timed out", target));
    });
    socket_.async_connect({address, spec.port}, [state, this, target](const std::error_code& e) {
      if (!state->alive) return;
      timer_.cancel();
      state->finish(!e, e ? fmt::format("tcp {}: {}", target, e.message())
                          : fmt::format("tcp {} accepted a connection", target));
    });
  }
  ~TcpProbe() override {
    state_->alive = false;
    timer_.cancel();
    std::error_code ignored;
    socket_.close(ignored);
  }

 private:
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<ProbeState> state_;
};

class ExecProbe final : public supervisor::Probe {
 public:
  ExecProbe(asio::io_context& io, PidfdRunner& runner, const config::ComponentSpec& spec,
            supervisor::Prober::Callback done)
      : timer_(io), state_(std::make_shared<ProbeState>()) {
    state_->done = std::move(done);
    process::SpawnRequest request;
    request.argv = spec.ready.exec;
    request.cwd = spec.cwd;
    request.env.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
    for (const auto& [k, v] : spec.env) request.env.push_back(fmt::format("{}={}", k, v));
    auto spawned = process::spawn(request);
    auto state = state_;
    if (!spawned.process) {
      asio::post(io, [state, msg = spawned.error.message] {
        state->finish(false, fmt::format("exec probe: {}", msg));
      });
      return;
    }
    pid_ = spawned.process->pid;
    auto finished = std::make_shared<bool>(false);
    finished_ = finished;
    // The runner reaps it (it is vigild's child like any other) and reports its status.
    runner.watch_child(std::move(*spawned.process), "probe:" + spec.name,
                       [state, finished](const process::ExitStatus& status) {
                         *finished = true;
                         state->finish(status.clean(),
                                       fmt::format("exec probe {}", status.describe()));
                       });
    const auto timeout = spec.ready.timeout;
    const pid_t pid = pid_;
    timer_.expires_after(timeout);
    timer_.async_wait([state, pid, timeout, finished](const std::error_code& e) {
      if (e || !state->alive) return;
      if (!*finished) process::signal_group(pid, SIGKILL);
      state->finish(false, fmt::format("exec probe timed out after {}", format_duration(timeout)));
    });
  }
  ~ExecProbe() override {
    state_->alive = false;
    timer_.cancel();
    if (pid_ != 0 && finished_ && !*finished_) process::signal_group(pid_, SIGKILL);
  }

 private:
  asio::steady_timer timer_;
  std::shared_ptr<ProbeState> state_;
  std::shared_ptr<bool> finished_;
  pid_t pid_ = 0;
};

}  // namespace

std::unique_ptr<supervisor::Probe> AsioProber::run(const config::ComponentSpec& spec,
                                                   Callback done) {
  if (spec.ready.kind == config::ReadySpec::Kind::tcp) {
    return std::make_unique<TcpProbe>(io_, spec.ready, std::move(done));
  }
  return std::make_unique<ExecProbe>(io_, runner_, spec, std::move(done));
}

}  // namespace vigil::daemon
