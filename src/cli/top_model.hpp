#pragma once
// The data behind `vigil top`, kept apart from ncurses so that it can be tested: the status
// reply flattened into rows, the last event of each row, the selection, and the text of every
// line (cut to the terminal's width). The ncurses part (top.cpp) only paints these lines.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vigil::cli::top {

struct Row {
  int depth = 0;  // 0 for the root group's children
  bool group = false;
  std::string name;
  std::string state;  // empty for groups
  std::string level;  // OK, WARN, ERROR; empty for groups
  int pid = 0;
  std::int64_t for_ms = 0;
  int restarts = 0;
  std::optional<double> cpu_percent;
  std::optional<double> rss_bytes;
  std::optional<double> phi;
};

// Depth-first, in the tree's order. The root group itself is not a row (it is the header).
std::vector<Row> flatten_status(const nlohmann::json& tree);

// What colour a piece of a line should have; top.cpp maps these to curses attributes.
enum class Paint { plain, heading, ok, warn, error, dim, selected_marker };
Paint state_paint(const std::string& state);  // running ok, starting/stopping warn, stopped dim
Paint level_paint(const std::string& level);

// One coloured piece of a screen line, starting at column `x`.
struct Cell {
  int x = 0;
  std::string text;
  Paint paint = Paint::plain;
};
using Line = std::vector<Cell>;

// The table's columns. Which ones are shown depends on the width: on a narrow terminal the
// least useful columns are left out first (phi, RSS, CPU, level, pid, uptime, restarts), the
// name is shortened, and whatever remains is cut at the right edge.
struct Layout {
  int name_width = 0;
  bool level = true, pid = true, uptime = true, restarts = true, cpu = true, rss = true, phi = true;
  int event_x = 0;  // where the last-event column starts; >= width when it does not fit
};
Layout compute_layout(const std::vector<Row>& rows, int width);
Line heading_line(const Layout& layout, int width);
// `marker`: the row is the selected one ("> " in front, for terminals without colour too).
Line row_line(const Row& row, const std::string& last_event, bool marker, const Layout& layout,
              int width);

// "3 components: 2 running, 1 backoff", counting component rows only.
std::string count_by_state(const std::vector<Row>& rows);
// "host OK  cpu 3.1%  load 0.52  mem 1.2GiB/7.6GiB free  disk 40GiB/120GiB free"; "" if absent.
std::string host_summary(const nlohmann::json& host);

// Cuts `text` to at most `width` columns; a cut string ends in '~' so that it reads as cut.
std::string fit(const std::string& text, int width);

// What top shows and lets the operator act on; updated from status replies and events.
class Model {
 public:
  void on_status(const nlohmann::json& reply);  // a `status` reply ({"ok":true,"tree":...})
  void on_event(const nlohmann::json& event);   // one event of the follow stream
  void on_unreachable(const std::string& why);  // vigild's socket cannot be reached

  void select_next();
  void select_previous();
  // The selected row's name, if any row exists.
  std::optional<std::string> selected() const;
  int selected_index() const { return selected_; }

  bool reachable() const { return reachable_; }
  const std::string& unreachable_reason() const { return unreachable_reason_; }
  const std::vector<Row>& rows() const { return rows_; }
  std::string last_event(const std::string& name) const;
  int daemon_pid() const { return daemon_pid_; }

  // Header, heading and one line per row, for a terminal `width` columns wide.
  Line header_line(int width) const;
  std::vector<Line> table_lines(int width) const;  // the heading first, then the rows

 private:
  void keep_selection(const std::string& previous_name);

  std::vector<Row> rows_;
  nlohmann::json host_;
  int daemon_pid_ = 0;
  bool reachable_ = false;
  std::string unreachable_reason_ = "connecting to vigild";
  int selected_ = 0;
  std::map<std::string, std::string> last_events_;
};

}  // namespace vigil::cli::top
