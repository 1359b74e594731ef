#pragma once
// A watched loop: progress-based liveness for one loop of the program. Declaring it tells
// vigild "this loop turns at least once per `deadline`"; if a turn is late, vigild declares a
// hang naming the loop, even if the main heartbeat still arrives.
//
//   vigil::WatchedLoop loop("plan", 500ms);  // VIGIL_LOOP=plan\nVIGIL_LOOP_USEC=500000
//   while (running) { plan(); loop.beat(); } // WATCHDOG=1\nVIGIL_LOOP=plan
//
// The destructor retires the loop (VIGIL_LOOP_USEC=0) so a finished loop is no hang.
// Thread safety: beat() may be called from any thread; moving or destroying the object must
// not race with beat().
#include <chrono>
#include <string>
#include <string_view>

#include "vigil/status.hpp"

namespace vigil {

class WatchedLoop {
 public:
  // Declares the loop (counts as its first turn). An invalid name (see is_valid_loop_name) or
  // a non-positive deadline sends nothing: declare_status() and every beat() are EINVAL.
  WatchedLoop(std::string name, std::chrono::microseconds deadline);
  WatchedLoop(WatchedLoop&& other) noexcept;
  WatchedLoop& operator=(WatchedLoop&& other) noexcept;
  WatchedLoop(const WatchedLoop&) = delete;
  WatchedLoop& operator=(const WatchedLoop&) = delete;
  ~WatchedLoop();

  Status beat() const;  // one turn of the loop
  Status retire();      // VIGIL_LOOP_USEC=0; later beats are EINVAL
  Status declare_status() const { return declared_; }
  const std::string& name() const { return name_; }
  std::chrono::microseconds deadline() const { return deadline_; }

 private:
  std::string name_;
  std::chrono::microseconds deadline_{0};
  Status declared_;
  bool active_ = false;
};

}  // namespace vigil
