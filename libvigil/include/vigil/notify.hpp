#pragma once
// The notify protocol (sd_notify(3) datagrams on $NOTIFY_SOCKET), implemented without
// libsystemd. Every function:
//  - returns Status{} (success) and does nothing when NOTIFY_SOCKET is unset or empty, so a
//    component runs unchanged outside vigil;
//  - returns EINVAL if NOTIFY_SOCKET is neither an absolute path nor "@abstract-name", or is
//    too long for a Unix socket address; otherwise the errno of socket(2)/sendto(2)
//    (ECONNREFUSED / ENOENT when vigild is gone, EAGAIN when its queue is full: the datagram
//    is dropped, never blocks);
//  - reads NOTIFY_SOCKET at each call and opens a fresh socket, so it is safe to call from
//    any thread at any time (even from a forked child).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "vigil/status.hpp"

namespace vigil {

// Sends `message` (KEY=VALUE lines) as one datagram.
Status notify(std::string_view message);

Status notify_ready();                        // READY=1: initialisation is done
Status notify_status(std::string_view text);  // STATUS=text (newlines become spaces); "" clears
Status notify_stopping();                     // STOPPING=1
Status notify_watchdog();                     // WATCHDOG=1: one heartbeat
// EXTEND_TIMEOUT_USEC=N: while starting or stopping, more time; while running, no hang is
// declared before now + `extra`. Negative values are sent as 0.
Status extend_timeout(std::chrono::microseconds extra);

// Watched-loop names: 1-64 characters of A-Za-z0-9_-./ (what vigild accepts).
bool is_valid_loop_name(std::string_view name);

// The watchdog interval vigild (or systemd) expects for this process: WATCHDOG_USEC when set
// to a positive number and WATCHDOG_PID is unset or our pid; nullopt otherwise (no watchdog,
// a malformed value, or the variables were inherited from a parent meant to beat).
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace vigil
