#include "cli/top.hpp"

#include <curses.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <clocale>
#include <cstring>
#include <deque>
#include <optional>

#include "cli/client.hpp"
#include "cli/top_model.hpp"
#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace vigil::cli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kRefreshEvery = 1s;
constexpr auto kRetryEvery = 1s;
// A status reply this late means vigild is stuck (or stopped): say so instead of freezing.
constexpr auto kReplyTimeout = 5s;
constexpr auto kMessageFor = 8s;

volatile sig_atomic_t g_quit_signal = 0;

void on_quit_signal(int) {
  g_quit_signal = 1;
}

// A control-socket connection read without blocking, so that one poll() can wait on the
// keyboard, the status replies and the event stream together.
class LineConnection {
 public:
  static Result<LineConnection> connect(const std::string& path) {
    auto fd = connect_control_socket(path);
    if (!fd) return make_error(fd.error());
    return LineConnection(std::move(*fd));
  }

  int fd() const { return fd_.get(); }

  Result<void> send(const json& request) {
    const std::string line = request.dump() + "\n";
    std::size_t off = 0;
    while (off < line.size()) {
      const ssize_t n = ::send(fd_.get(), line.data() + off, line.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return make_error(fmt::format("write to vigild: {}", std::strerror(errno)));
      off += static_cast<std::size_t>(n);
    }
    return {};
  }

  // Every complete line available now; an error once vigild hung up.
  Result<std::vector<json>> read_available() {
    for (;;) {
      char chunk[65536];
      const ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0) return make_error(fmt::format("read from vigild: {}", std::strerror(errno)));
      if (n == 0) return make_error("vigild closed the connection");
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
    std::vector<json> lines;
    for (auto nl = buffer_.find('\n'); nl != std::string::npos; nl = buffer_.find('\n')) {
      auto j = json::parse(buffer_.substr(0, nl), nullptr, false);
      buffer_.erase(0, nl + 1);
      if (j.is_discarded()) return make_error("vigild sent a reply that is not JSON");
      lines.push_back(std::move(j));
    }
    return lines;
  }

 private:
  explicit LineConnection(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  std::string buffer_;
};

// initscr() in the constructor, endwin() however the view ends, so the terminal is restored.
class Screen {
 public:
  Screen() {
    std::setlocale(LC_ALL, "");  // UTF-8 in names and reasons
    initscr();
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    if (has_colors()) {
      start_color();
      use_default_colors();
      init_pair(1, COLOR_GREEN, -1);
      init_pair(2, COLOR_YELLOW, -1);
      init_pair(3, COLOR_RED, -1);
    }
  }
  ~Screen() { endwin(); }
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;

  static attr_t attribute(top::Paint paint) {
    const bool colour = has_colors();
    switch (paint) {
      case top::Paint::plain:
        return A_NORMAL;
      case top::Paint::heading:
      case top::Paint::selected_marker:
        return A_BOLD;
      case top::Paint::ok:
        return colour ? COLOR_PAIR(1) : A_NORMAL;
      case top::Paint::warn:
        return colour ? COLOR_PAIR(2) : A_BOLD;
      case top::Paint::error:
        return colour ? (COLOR_PAIR(3) | A_BOLD) : A_BOLD;
      case top::Paint::dim:
        return A_DIM;
    }
    return A_NORMAL;
  }

  static void draw(int y, const top::Line& line, attr_t extra = A_NORMAL) {
    for (const auto& cell : line) {
      attrset(attribute(cell.paint) | extra);
      mvaddstr(y, cell.x, cell.text.c_str());
    }
    attrset(A_NORMAL);
  }
};

enum class Command { restart, stop, start };

const char* command_name(Command c) {
  switch (c) {
    case Command::restart:
      return "restart";
    case Command::stop:
      return "stop";
    case Command::start:
      return "start";
  }
  return "?";
}

class Top {
 public:
  explicit Top(std::string socket_path) : socket_path_(std::move(socket_path)) {}

  int run() {
    Screen screen;
    while (!quit_ && g_quit_signal == 0) {
      const auto now = Clock::now();
      if (!control_ && now >= next_connect_at_) connect(now);
      if (control_) request_status_if_due(now);
      draw();
      wait_for_input(now);
      read_keys();
      if (control_) read_control();
      if (events_) read_events();
    }
    return 0;
  }

 private:
  struct Pending {
    bool status = false;
    std::string what;  // for commands: "restart planner"
    Clock::time_point sent;
  };
  enum class Footer { help, confirm, message };

  void connect(Clock::time_point now) {
    next_connect_at_ = now + kRetryEvery;
    auto control = LineConnection::connect(socket_path_);
    if (!control) return model_.on_unreachable(control.error());
    auto events = LineConnection::connect(socket_path_);
    if (!events) return model_.on_unreachable(events.error());
    // A few past events fill the last-event column at once; then the stream follows.
    if (auto sent = events->send({{"cmd", "events"}, {"follow", true}, {"limit", 200}}); !sent) {
      return model_.on_unreachable(sent.error());
    }
    control_.emplace(std::move(*control));
    events_.emplace(std::move(*events));
    status_wanted_ = true;
  }

  void disconnect(const std::string& why) {
    control_.reset();
    events_.reset();
    pending_.clear();
    model_.on_unreachable(why);
    // Try again at once: a restarted vigild should show up without waiting a second.
    next_connect_at_ = Clock::now();
  }

  bool status_pending() const {
    for (const auto& p : pending_) {
      if (p.status) return true;
    }
    return false;
  }

  void request_status_if_due(Clock::time_point now) {
    if (!pending_.empty() && now - pending_.front().sent > kReplyTimeout) {
      return disconnect("vigild does not answer");
    }
    if (status_pending() || (!status_wanted_ && now < next_status_at_)) return;
    if (auto sent = control_->send({{"cmd", "status"}}); !sent) return disconnect(sent.error());
    pending_.push_back({true, "", now});
    status_wanted_ = false;
    next_status_at_ = now + kRefreshEvery;
  }

  void send_command(Command command, const std::string& name) {
    const std::string what = fmt::format("{} {}", command_name(command), name);
    if (!control_) return show_message(what + ": vigild not reachable", top::Paint::error);
    if (auto sent = control_->send({{"cmd", command_name(command)}, {"name", name}}); !sent) {
      show_message(what + ": " + sent.error(), top::Paint::error);
      return disconnect(sent.error());
    }
    pending_.push_back({false, what, Clock::now()});
    show_message(what + ": sent", top::Paint::plain);
  }

  void read_control() {
    auto lines = control_->read_available();
    if (!lines) return disconnect(lines.error());
    // Replies come in the order of the requests on one connection.
    for (const auto& reply : *lines) {
      if (pending_.empty()) continue;
      const Pending request = pending_.front();
      pending_.pop_front();
      const bool ok = reply.value("ok", false);
      const std::string error = reply.value("error", std::string("request failed"));
      if (request.status) {
        if (ok) {
          model_.on_status(reply);
        } else {
          show_message("status: " + error, top::Paint::error);
        }
      } else {
        show_message(request.what + (ok ? ": ok" : ": " + error),
                     ok ? top::Paint::ok : top::Paint::error);
      }
    }
  }

  void read_events() {
    auto lines = events_->read_available();
    if (!lines) return disconnect(lines.error());
    for (const auto& line : *lines) {
      if (line.contains("event")) {
        model_.on_event(line["event"]);
        status_wanted_ = true;  // the states changed: show them now, not within a second
      } else if (line.contains("events") && line["events"].is_array()) {
        for (const auto& e : line["events"]) model_.on_event(e);
      }
    }
  }

  void wait_for_input(Clock::time_point now) {
    pollfd fds[3] = {{STDIN_FILENO, POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLIN, 0}};
    if (control_) fds[1].fd = control_->fd();
    if (events_) fds[2].fd = events_->fd();
    auto next = control_ ? next_status_at_ : next_connect_at_;
    if (status_wanted_ && control_ && !status_pending()) next = now;
    const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(next - now);
    // Wake at least every second: the uptimes tick and messages expire.
    const int ms = static_cast<int>(std::clamp<std::int64_t>(timeout.count(), 0, 1000));
    ::poll(fds, 3, ms);  // EINTR (resize, Ctrl-C) just means: look again
  }

  void read_keys() {
    for (int key = getch(); key != ERR; key = getch()) on_key(key);
  }

  void on_key(int key) {
    if (key == KEY_RESIZE) return;  // the next draw reads the new size
    if (footer_ == Footer::confirm) {
      footer_ = Footer::help;
      if (key == 'y' || key == 'Y') return send_command(pending_command_, pending_name_);
      return show_message(
          fmt::format("{} {}: cancelled", command_name(pending_command_), pending_name_),
          top::Paint::dim);
    }
    switch (key) {
      case 'q':
      case 'Q':
        quit_ = true;
        return;
      case KEY_DOWN:
      case 'j':
        return model_.select_next();
      case KEY_UP:
      case 'k':
        return model_.select_previous();
      case 'r':
        return confirm(Command::restart);
      case 's':
        return confirm(Command::stop);
      case 'S':
        return confirm(Command::start);
      default:
        return;
    }
  }

  void confirm(Command command) {
    auto name = model_.selected();
    if (!name) return show_message("no component selected", top::Paint::error);
    pending_command_ = command;
    pending_name_ = *name;
    footer_ = Footer::confirm;
  }

  void show_message(std::string text, top::Paint paint) {
    footer_ = Footer::message;
    message_ = std::move(text);
    message_paint_ = paint;
    message_until_ = Clock::now() + kMessageFor;
  }

  void draw() {
    int height = 0, width = 0;
    getmaxyx(stdscr, height, width);
    erase();
    if (height < 1 || width < 1) return;
    Screen::draw(0, model_.header_line(width));
    const auto table = model_.table_lines(width);
    const int first_row_y = 2;
    const int footer_y = height - 1;
    const int visible = std::max(0, footer_y - first_row_y);
    if (height > 2 && !table.empty()) Screen::draw(1, table.front(), A_BOLD);
    // Scroll just enough to keep the selected row on screen.
    const int selected = model_.selected_index();
    if (selected < scroll_) scroll_ = selected;
    if (visible > 0 && selected >= scroll_ + visible) scroll_ = selected - visible + 1;
    scroll_ = std::clamp(scroll_, 0, std::max(0, static_cast<int>(table.size()) - 1 - visible));
    for (int i = 0; i < visible; ++i) {
      const int row = scroll_ + i;
      if (row + 1 >= static_cast<int>(table.size())) break;
      const bool is_selected = row == selected;
      if (is_selected) {
        mvhline(first_row_y + i, 0, static_cast<chtype>(' ') | A_REVERSE, width);
      }
      Screen::draw(first_row_y + i, table[static_cast<std::size_t>(row) + 1],
                   is_selected ? A_REVERSE : A_NORMAL);
    }
    if (height > 1) draw_footer(footer_y, width);
    refresh();
  }

  void draw_footer(int y, int width) {
    if (footer_ == Footer::message && Clock::now() > message_until_) footer_ = Footer::help;
    top::Line line;
    switch (footer_) {
      case Footer::help:
        line.push_back(
            {0, top::fit("up/down j/k select   r restart   s stop   S start   q quit", width - 1),
             top::Paint::dim});
        break;
      case Footer::confirm:
        line.push_back(
            {0,
             top::fit(fmt::format("{} {}? [y/n]", command_name(pending_command_), pending_name_),
                      width - 1),
             top::Paint::warn});
        break;
      case Footer::message:
        line.push_back({0, top::fit(message_, width - 1), message_paint_});
        break;
    }
    Screen::draw(y, line);
  }

  std::string socket_path_;
  top::Model model_;
  std::optional<LineConnection> control_;
  std::optional<LineConnection> events_;
  std::deque<Pending> pending_;
  bool status_wanted_ = false;
  Clock::time_point next_status_at_{};
  Clock::time_point next_connect_at_{};
  bool quit_ = false;
  int scroll_ = 0;

  Footer footer_ = Footer::help;
  Command pending_command_ = Command::restart;
  std::string pending_name_;
  std::string message_;
  top::Paint message_paint_ = top::Paint::plain;
  Clock::time_point message_until_{};
};

}  // namespace

int run_top(const std::string& socket_path) {
  // Ctrl-C and SIGTERM end the loop, so that endwin() restores the terminal.
  struct sigaction quit {};
  quit.sa_handler = on_quit_signal;
  ::sigemptyset(&quit.sa_mask);
  ::sigaction(SIGINT, &quit, nullptr);
  ::sigaction(SIGTERM, &quit, nullptr);
  ::sigaction(SIGHUP, &quit, nullptr);
  return Top(socket_path).run();
}

}  // namespace vigil::cli
