#pragma once
// The robot's current system mode for components that do not use DDS: vigild writes the mode
// to a file whenever it changes and passes its path in the environment variable
// VIGIL_MODE_FILE; vigil::file::ModeListener follows that file. It mirrors the DDS listener
// (vigil::ModeListener in <vigil/mode_listener.hpp>, libvigil_dds), in its own namespace so
// that both libraries can be linked into one program. Switching between them is one line:
//
//   #include <vigil/mode_file.hpp>   // DDS: <vigil/mode_listener.hpp>
//   namespace modes = vigil::file;   // DDS: namespace modes = vigil;
//   modes::ModeListenerOptions options;
//   options.on_change = [](const modes::SystemMode& m) { ... };
//   modes::ModeListener listener(std::move(options));
//   auto max_speed = listener.value<double>("max_speed");
//
// File format (UTF-8, one key=value per line, each line ending in '\n'):
//   seq=N                 increases with every write (decimal, unsigned 64-bit)
//   mode=NAME             the mode's name, non-empty, taken literally
//   reason=TEXT           why (may be empty)
//   since_us=MICROSECONDS when vigild set it, its wall clock (signed 64-bit)
//   value.KEY=VALUE       one line per value the mode sets, e.g. value.max_speed=0.3
// In TEXT and VALUE a backslash is written "\\" and a newline "\n"; no other escape exists.
// All four header keys are required, a key may not repeat, and lines with unknown keys are
// ignored (forward compatibility). vigild replaces the file atomically (temp file in the same
// directory, fsync, rename), so a reader never sees half a file; a file that does not parse
// anyway is reported and ignored (the previous mode stays).
//
// Threads: the listener runs one thread of its own ("the listener thread"). It watches the
// file's directory with inotify (rename replaces the inode, so the file itself cannot be
// watched) and calls on_change there, and only there, including for the mode read at start.
// Callbacks never overlap. Keep them short, synchronise what they touch, and use the mode they
// are given. Destroying the listener from inside on_change is allowed (the thread is then
// detached and ends by itself). All methods may be called from any thread. Linux only
// (inotify).
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "vigil/status.hpp"
#include "vigil/system_mode.hpp"

namespace vigil::file {

using SystemMode = vigil::SystemMode;  // vigil/system_mode.hpp

// ---- the file format, usable on strings (unit tests, fuzzing, vigild's writer) ----------

struct ParsedModeFile {
  bool ok = false;
  std::string error;  // when !ok: "line N: what" (or what is missing)
  std::uint64_t seq = 0;
  SystemMode mode;  // valid when ok
};

// Parses the whole text of a mode file. Never throws for bad input (only std::bad_alloc).
ParsedModeFile parse_mode_file(std::string_view text);
// The text of a mode file for `mode` (the inverse of parse_mode_file for a mode whose name
// has no newline and is not empty, and whose value keys have no '=' or newline).
std::string format_mode_file(std::uint64_t seq, const SystemMode& mode);
// "\\" for a backslash, "\n" for a newline; everything else as is.
std::string escape_mode_text(std::string_view text);
// The inverse; nullopt for any other backslash sequence or a trailing lone backslash.
std::optional<std::string> unescape_mode_text(std::string_view text);

// ---- the listener ---------------------------------------------------------------------

struct ModeListenerOptions {
  // The mode file. nullopt: $VIGIL_MODE_FILE; when that is unset or empty too (not running
  // under vigild), the listener is inactive: no thread, no mode, status() ENOENT. A relative
  // path is relative to the working directory at construction.
  std::optional<std::string> path;
  // Called with the new mode when it first becomes known and each time its name, reason or
  // values change (a rewrite with only a new seq or stamp is not a change). On the listener
  // thread; see the note at the top.
  std::function<void(const SystemMode&)> on_change;
};

class ModeListener {
 public:
  // Reads the file at once (current() has the mode when the constructor returns, if the file
  // exists and is valid) and starts the listener thread. A missing file, or even a missing
  // directory, is not an error: the listener waits for it to appear.
  explicit ModeListener(ModeListenerOptions options = {});
  ModeListener(ModeListener&&) noexcept;  // a moved-from listener is inactive
  ModeListener& operator=(ModeListener&&) noexcept;
  ModeListener(const ModeListener&) = delete;
  ModeListener& operator=(const ModeListener&) = delete;
  // Wakes the thread (it does not finish any wait), joins it, closes the inotify fd. Returns
  // promptly, after a running callback has returned.
  ~ModeListener();

  // Ok when the listener is following a file (whether or not that file exists yet); ENOENT
  // when there is no path (VIGIL_MODE_FILE unset: not under vigild); EINVAL for a path that
  // names a directory ("x/") or has a NUL byte; another errno when inotify or the thread could not
  // be set up.
  Status status() const;
  bool active() const { return status().ok(); }
  // For humans: "ok", why the listener is inactive, "waiting for PATH to appear", or the
  // problem with the last version of the file (e.g. "PATH: line 3: ...; keeping mode 'x'").
  std::string status_detail() const;
  // The last read of the file: ok, ENOENT (not there yet), EBADMSG (did not parse: the
  // previous mode stays), EFBIG (larger than 1 MiB), or the errno of open/read.
  Status last_read() const;
  const std::string& path() const;  // "" when inactive

  // The last valid mode read, or nullopt before the first.
  std::optional<SystemMode> current() const;
  // Waits up to `timeout` until a mode is known (and, with a predicate, until the current
  // mode satisfies it); returns that mode, or nullopt on timeout or an inactive listener.
  // The predicate runs with an internal lock held: it must not call back into the listener.
  std::optional<SystemMode> wait_for(
      std::chrono::milliseconds timeout,
      const std::function<bool(const SystemMode&)>& predicate = {}) const;
  // current()->value<T>(key), nullopt when no mode is known yet.
  template <typename T>
  std::optional<T> value(std::string_view key) const {
    auto mode = current();
    return mode ? mode->value<T>(key) : std::nullopt;
  }
  // Valid versions of the file read (distinct seq values), changes or not.
  std::uint64_t samples_received() const;
  // The seq of the current mode (0 before the first).
  std::uint64_t sequence() const;

 private:
  struct State;
  void stop() noexcept;
  std::shared_ptr<State> state_;  // shared with the thread, which may outlive us (see top)
};

}  // namespace vigil::file
