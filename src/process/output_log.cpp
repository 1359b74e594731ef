#include "process/output_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace vigil::process {

OutputLog::OutputLog(std::string path, config::OutputSpec spec)
    : path_(std::move(path)), spec_(spec) {
  open_file();
}

void OutputLog::open_file() {
  file_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  struct stat st {};
  file_size_ = (file_.valid() && ::fstat(file_.get(), &st) == 0) ? st.st_size : 0;
}

void OutputLog::rotate() {
  file_.reset();
  if (spec_.keep <= 0) {
    ::unlink(path_.c_str());
  } else {
    for (int i = spec_.keep - 1; i >= 1; --i) {
      const std::string from = path_ + "." + std::to_string(i);
      const std::string to = path_ + "." + std::to_string(i + 1);
      ::rename(from.c_str(), to.c_str());
    }
    ::rename(path_.c_str(), (path_ + ".1").c_str());
  }
  open_file();
}

void OutputLog::append(std::string_view data) {
  if (file_.valid()) {
    // Rotate on line boundaries where possible so a line is not split across files.
    if (file_size_ + data.size() > spec_.max_size && file_size_ > 0) rotate();
    std::size_t off = 0;
    while (off < data.size() && file_.valid()) {
      const ssize_t n = ::write(file_.get(), data.data() + off, data.size() - off);
      if (n <= 0) break;  // disk full: keep the in-memory tail, drop the file copy
      off += static_cast<std::size_t>(n);
    }
    file_size_ += off;
  }
  remember(data);
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    auto current = it++;  // a listener may unsubscribe itself
    current->second(data);
  }
}

void OutputLog::remember(std::string_view data) {
  while (!data.empty()) {
    const auto nl = data.find('\n');
    if (nl == std::string_view::npos) {
      partial_.append(data.substr(0, kMaxLineBytes - std::min(kMaxLineBytes, partial_.size())));
      return;
    }
    partial_.append(
        data.substr(0, std::min(nl, kMaxLineBytes - std::min(kMaxLineBytes, partial_.size()))));
    lines_.push_back(std::move(partial_));
    partial_.clear();
    if (lines_.size() > kRememberedLines) lines_.pop_front();
    data.remove_prefix(nl + 1);
  }
}

std::vector<std::string> OutputLog::tail(std::size_t n) const {
  std::vector<std::string> out;
  const std::size_t want_full = partial_.empty() ? n : (n > 0 ? n - 1 : 0);
  const std::size_t start = lines_.size() > want_full ? lines_.size() - want_full : 0;
  for (std::size_t i = start; i < lines_.size(); ++i) out.push_back(lines_[i]);
  if (!partial_.empty() && n > 0) out.push_back(partial_);
  return out;
}

int OutputLog::subscribe(Listener listener) {
  const int id = next_listener_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void OutputLog::unsubscribe(int id) {
  listeners_.erase(id);
}

}  // namespace vigil::process
