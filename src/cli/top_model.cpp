#include "cli/top_model.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "cli/format.hpp"

namespace vigil::cli::top {
namespace {

using nlohmann::json;

constexpr int kMarkerWidth = 2;  // "> " in front of the selected row
constexpr int kMinNameWidth = 8;
constexpr int kMaxNameWidth = 28;
constexpr int kMinEventWidth = 16;  // below this the last-event column is not worth keeping
constexpr int kIndent = 2;          // per supervision-tree level

// Fixed widths of the optional columns, each followed by one space.
constexpr int kStateWidth = 9;  // "starting ", "given_up"
constexpr int kLevelWidth = 5;
constexpr int kPidWidth = 7;
constexpr int kUptimeWidth = 7;  // "100d23h"
constexpr int kRestartsWidth = 8;
constexpr int kCpuWidth = 6;  // "100.0%"
constexpr int kRssWidth = 8;  // "1023MiB", "12.3GiB"
constexpr int kPhiWidth = 5;

bool continuation_byte(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// Columns of a UTF-8 string (one per code point: good enough for names and reasons).
int columns(const std::string& s) {
  int n = 0;
  for (unsigned char c : s) n += continuation_byte(c) ? 0 : 1;
  return n;
}

void walk(const json& node, int depth, std::vector<Row>& rows) {
  if (!node.is_object()) return;
  Row row;
  row.depth = depth;
  row.name = node.value("name", "?");
  row.group = node.value("type", "") == "group";
  if (!row.group) {
    row.state = node.value("state", "?");
    row.level = node.value("level", "");
    row.pid = node.value("pid", 0);
    row.for_ms = node.value("for_ms", std::int64_t{0});
    row.restarts = node.value("restarts", 0);
    if (node.contains("resources") && node["resources"].is_object()) {
      const auto& r = node["resources"];
      if (r.contains("cpu_percent") && r["cpu_percent"].is_number())
        row.cpu_percent = r["cpu_percent"].get<double>();
      if (r.contains("rss_bytes") && r["rss_bytes"].is_number())
        row.rss_bytes = r["rss_bytes"].get<double>();
    }
    if (node.contains("phi") && node["phi"].is_number()) row.phi = node["phi"].get<double>();
  }
  rows.push_back(std::move(row));
  if (rows.back().group && node.contains("children") && node["children"].is_array()) {
    for (const auto& child : node["children"]) walk(child, depth + 1, rows);
  }
}

int row_name_columns(const Row& row) {
  return row.depth * kIndent + columns(row.name);
}

// Total width of the columns before the last-event column, with their separators.
int fixed_width(const Layout& l) {
  int w = kMarkerWidth + l.name_width + 1 + kStateWidth + 1;
  if (l.level) w += kLevelWidth + 1;
  if (l.pid) w += kPidWidth + 1;
  if (l.uptime) w += kUptimeWidth + 1;
  if (l.restarts) w += kRestartsWidth + 1;
  if (l.cpu) w += kCpuWidth + 1;
  if (l.rss) w += kRssWidth + 1;
  if (l.phi) w += kPhiWidth + 1;
  return w;
}

// Adds a cell at `x` cut to the line's width; returns where the next column starts.
int put(Line& line, int x, int column_width, const std::string& text, Paint paint, int width,
        bool right_align = false) {
  const int room = std::min(column_width, width - x);
  if (room > 0 && !text.empty()) {
    std::string shown = fit(text, room);
    int at = x;
    if (right_align) at += room - columns(shown);
    line.push_back({at, std::move(shown), paint});
  }
  return x + column_width + 1;
}

// Event reasons may hold newlines (captured output, stacks); a table line must not.
std::string one_line(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

}  // namespace

std::vector<Row> flatten_status(const json& tree) {
  std::vector<Row> rows;
  if (!tree.is_object()) return rows;
  if (tree.value("type", "") == "group" && tree.contains("children") &&
      tree["children"].is_array()) {
    for (const auto& child : tree["children"]) walk(child, 0, rows);
  } else {
    walk(tree, 0, rows);
  }
  return rows;
}

Paint state_paint(const std::string& state) {
  if (state == "running") return Paint::ok;
  if (state == "starting" || state == "stopping") return Paint::warn;
  if (state == "stopped") return Paint::dim;
  return Paint::error;  // backoff, failed, given_up, anything new
}

Paint level_paint(const std::string& level) {
  if (level == "WARN") return Paint::warn;
  if (level == "ERROR") return Paint::error;
  return Paint::plain;
}

std::string fit(const std::string& text, int width) {
  if (width <= 0) return "";
  if (columns(text) <= width) return text;
  // Keep width - 1 code points, then mark the cut.
  std::size_t end = 0;
  int kept = 0;
  while (end < text.size()) {
    if (!continuation_byte(static_cast<unsigned char>(text[end]))) {
      if (kept == width - 1) break;
      ++kept;
    }
    ++end;
  }
  return text.substr(0, end) + "~";
}

Layout compute_layout(const std::vector<Row>& rows, int width) {
  Layout l;
  int longest = columns("NAME");
  for (const auto& r : rows) longest = std::max(longest, row_name_columns(r));
  l.name_width = std::clamp(longest, kMinNameWidth, kMaxNameWidth);
  // Least useful first: phi and memory are there when someone looks closer; state and name
  // are what a glance needs.
  bool* optional_columns[] = {&l.phi, &l.rss, &l.cpu, &l.level, &l.pid, &l.uptime, &l.restarts};
  for (bool* column : optional_columns) {
    if (fixed_width(l) + kMinEventWidth <= width) break;
    *column = false;
  }
  // Still too wide: shorten the names (the rest is cut at the edge).
  if (fixed_width(l) > width) {
    l.name_width = std::max(kMinNameWidth, l.name_width - (fixed_width(l) - width));
  }
  l.event_x = fixed_width(l);
  return l;
}

Line heading_line(const Layout& l, int width) {
  Line line;
  int x = kMarkerWidth;
  x = put(line, x, l.name_width, "NAME", Paint::heading, width);
  x = put(line, x, kStateWidth, "STATE", Paint::heading, width);
  if (l.level) x = put(line, x, kLevelWidth, "LEVEL", Paint::heading, width);
  if (l.pid) x = put(line, x, kPidWidth, "PID", Paint::heading, width);
  if (l.uptime) x = put(line, x, kUptimeWidth, "UPTIME", Paint::heading, width);
  if (l.restarts) x = put(line, x, kRestartsWidth, "RESTARTS", Paint::heading, width);
  if (l.cpu) x = put(line, x, kCpuWidth, "CPU%", Paint::heading, width, true);
  if (l.rss) x = put(line, x, kRssWidth, "RSS", Paint::heading, width, true);
  if (l.phi) x = put(line, x, kPhiWidth, "PHI", Paint::heading, width, true);
  put(line, x, width, "LAST EVENT", Paint::heading, width);
  return line;
}

Line row_line(const Row& row, const std::string& last_event, bool marker, const Layout& l,
              int width) {
  Line line;
  if (marker) put(line, 0, kMarkerWidth - 1, ">", Paint::selected_marker, width);
  int x = kMarkerWidth;
  const std::string name = std::string(static_cast<std::size_t>(row.depth * kIndent), ' ') +
                           (row.group ? row.name + "/" : row.name);
  x = put(line, x, l.name_width, name, row.group ? Paint::heading : Paint::plain, width);
  if (row.group) {
    // A group has no process of its own: only its name and what last happened to it.
    x = l.event_x;
  } else {
    x = put(line, x, kStateWidth, row.state, state_paint(row.state), width);
    if (l.level) x = put(line, x, kLevelWidth, row.level, level_paint(row.level), width);
    if (l.pid)
      x = put(line, x, kPidWidth, row.pid > 0 ? std::to_string(row.pid) : "-", Paint::plain, width);
    if (l.uptime) {
      x = put(line, x, kUptimeWidth, row.state == "running" ? format_uptime(row.for_ms) : "-",
              Paint::plain, width);
    }
    if (l.restarts) {
      x = put(line, x, kRestartsWidth, std::to_string(row.restarts),
              row.restarts > 0 ? Paint::warn : Paint::plain, width);
    }
    if (l.cpu) {
      x = put(line, x, kCpuWidth, row.cpu_percent ? fmt::format("{:.1f}%", *row.cpu_percent) : "",
              Paint::plain, width, true);
    }
    if (l.rss) {
      x = put(line, x, kRssWidth, row.rss_bytes ? format_bytes(*row.rss_bytes) : "", Paint::plain,
              width, true);
    }
    if (l.phi) {
      x = put(line, x, kPhiWidth, row.phi ? fmt::format("{:.1f}", *row.phi) : "", Paint::plain,
              width, true);
    }
  }
  put(line, x, width, one_line(last_event), Paint::dim, width);
  return line;
}

std::string count_by_state(const std::vector<Row>& rows) {
  // In the order an operator cares about: what is up, then what is not.
  static const char* const kOrder[] = {"running", "starting", "stopping", "backoff",
                                       "failed",  "given_up", "stopped"};
  std::map<std::string, int> counts;
  int components = 0;
  for (const auto& r : rows) {
    if (r.group) continue;
    ++components;
    ++counts[r.state];
  }
  std::string out = fmt::format("{} component{}", components, components == 1 ? "" : "s");
  std::string parts;
  auto add = [&](const std::string& state, int n) {
    parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", n, state);
  };
  for (const char* state : kOrder) {
    if (auto it = counts.find(state); it != counts.end()) {
      add(state, it->second);
      counts.erase(it);
    }
  }
  for (const auto& [state, n] : counts) add(state, n);
  return parts.empty() ? out : out + ": " + parts;
}

std::string host_summary(const json& host) {
  if (!host.is_object()) return "";
  double load1 = 0;
  if (host.contains("load") && host["load"].is_array() && !host["load"].empty() &&
      host["load"][0].is_number()) {
    load1 = host["load"][0].get<double>();
  }
  return fmt::format("host {}  cpu {:.1f}%  load {:.2f}  mem {}/{} free  disk {}/{} free",
                     host.value("level", "OK"), host.value("cpu_percent", 0.0), load1,
                     format_bytes(host.value("mem_available_bytes", 0.0)),
                     format_bytes(host.value("mem_total_bytes", 0.0)),
                     format_bytes(host.value("disk_available_bytes", 0.0)),
                     format_bytes(host.value("disk_total_bytes", 0.0)));
}

void Model::on_status(const json& reply) {
  const auto previous = selected();
  rows_ = flatten_status(reply.contains("tree") ? reply["tree"] : json());
  host_ = reply.contains("host") ? reply["host"] : json();
  daemon_pid_ = 0;
  if (reply.contains("daemon") && reply["daemon"].is_object()) {
    daemon_pid_ = reply["daemon"].value("pid", 0);
  }
  reachable_ = true;
  unreachable_reason_.clear();
  keep_selection(previous.value_or(""));
}

void Model::on_event(const json& event) {
  if (!event.is_object()) return;
  const std::string component = event.value("component", "");
  if (component.empty()) return;  // vigild's own events belong to no row
  const std::string reason = event.value("reason", "");
  last_events_[component] = reason.empty() ? event.value("kind", "") : reason;
}

void Model::on_unreachable(const std::string& why) {
  reachable_ = false;
  unreachable_reason_ = why;
  // Stale rows would look alive; an empty table says plainly that nothing is known.
  rows_.clear();
  host_ = json();
  daemon_pid_ = 0;
}

void Model::keep_selection(const std::string& previous_name) {
  // The selection follows the component, not the line, when rows come and go.
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i].name == previous_name) {
      selected_ = static_cast<int>(i);
      return;
    }
  }
  selected_ = std::clamp(selected_, 0, std::max(0, static_cast<int>(rows_.size()) - 1));
}

void Model::select_next() {
  if (selected_ + 1 < static_cast<int>(rows_.size())) ++selected_;
}

void Model::select_previous() {
  if (selected_ > 0) --selected_;
}

std::optional<std::string> Model::selected() const {
  if (selected_ < 0 || selected_ >= static_cast<int>(rows_.size())) return std::nullopt;
  return rows_[static_cast<std::size_t>(selected_)].name;
}

std::string Model::last_event(const std::string& name) const {
  auto it = last_events_.find(name);
  return it == last_events_.end() ? "" : it->second;
}

Line Model::header_line(int width) const {
  Line line;
  if (!reachable_) {
    put(line, 0, width, "vigild not reachable: " + one_line(unreachable_reason_) + " (retrying)",
        Paint::error, width);
    return line;
  }
  int x = put(line, 0, 6, "vigild", Paint::heading, width);
  const std::string pid = daemon_pid_ > 0 ? fmt::format("pid {}", daemon_pid_) : "pid ?";
  x = put(line, x, columns(pid) + 1, pid, Paint::plain, width);
  const std::string counts = count_by_state(rows_);
  x = put(line, x, columns(counts) + 1, counts, Paint::plain, width);
  const std::string host = host_summary(host_);
  if (!host.empty()) {
    const std::string level = host_.value("level", "OK");
    put(line, x, width, host, level == "OK" ? Paint::plain : level_paint(level), width);
  }
  return line;
}

std::vector<Line> Model::table_lines(int width) const {
  std::vector<Line> lines;
  const Layout layout = compute_layout(rows_, width);
  lines.push_back(heading_line(layout, width));
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    lines.push_back(row_line(rows_[i], last_event(rows_[i].name), static_cast<int>(i) == selected_,
                             layout, width));
  }
  return lines;
}

}  // namespace vigil::cli::top
