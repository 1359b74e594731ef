#pragma once
// A component's captured stdout+stderr: a size-rotated file (NAME.log, NAME.log.1, ...) and
// the last lines in memory, attached to failure events and served to `vigil logs`.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.hpp"
#include "config/spec.hpp"

namespace vigil::process {

class OutputLog {
 public:
  static constexpr std::size_t kMaxLineBytes = 4096;
  static constexpr std::size_t kRememberedLines = 200;

  OutputLog(std::string path, config::OutputSpec spec);
  void set_spec(const config::OutputSpec& spec) { spec_ = spec; }

  void append(std::string_view data);
  // The last n complete lines (and a trailing partial one), oldest first.
  std::vector<std::string> tail(std::size_t n) const;

  using Listener = std::function<void(std::string_view chunk)>;
  int subscribe(Listener listener);
  void unsubscribe(int id);
  const std::string& path() const { return path_; }

 private:
  void open_file();
  void rotate();
  void remember(std::string_view data);

  std::string path_;
  config::OutputSpec spec_;
  UniqueFd file_;
  std::uint64_t file_size_ = 0;
  std::deque<std::string> lines_;
  std::string partial_;
  std::map<int, Listener> listeners_;
  int next_listener_ = 1;
};

}  // namespace vigil::process
