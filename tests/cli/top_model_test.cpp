// `vigil top` without a terminal: the status reply as rows, the figures, the line layout.
#include "cli/top_model.hpp"

#include <gtest/gtest.h>

#include "cli/format.hpp"

namespace vigil::cli::top {
namespace {

using nlohmann::json;

json status_reply() {
  return json::parse(R"({
    "ok": true,
    "daemon": {"pid": 4242},
    "host": {"level": "WARN", "cpu_percent": 12.5, "load": [0.52, 0.4, 0.3],
             "mem_available_bytes": 1288490188, "mem_total_bytes": 8160437862,
             "disk_available_bytes": 42949672960, "disk_total_bytes": 128849018880},
    "tree": {"type": "group", "name": "root", "children": [
      {"type": "component", "name": "lidar", "state": "running", "level": "OK", "pid": 101,
       "for_ms": 65000, "restarts": 0,
       "resources": {"cpu_percent": 3.25, "rss_bytes": 2830336}, "phi": 0.42},
      {"type": "group", "name": "nav", "children": [
        {"type": "component", "name": "planner", "state": "backoff", "level": "ERROR", "pid": 0,
         "for_ms": 1200, "restarts": 3}
      ]},
      {"type": "component", "name": "camera", "state": "stopped", "level": "OK", "pid": 0,
       "for_ms": 0, "restarts": 0}
    ]}})");
}

std::string text_of(const Line& line) {
  std::string out;
  for (const auto& cell : line) {
    if (static_cast<int>(out.size()) < cell.x) out.resize(static_cast<std::size_t>(cell.x), ' ');
    out.replace(static_cast<std::size_t>(cell.x), cell.text.size(), cell.text);
  }
  return out;
}

int right_edge(const Line& line) {
  int edge = 0;
  for (const auto& cell : line) edge = std::max(edge, cell.x + static_cast<int>(cell.text.size()));
  return edge;
}

TEST(TopFormat, BytesAreShortAndBinary) {
  EXPECT_EQ(format_bytes(0), "0B");
  EXPECT_EQ(format_bytes(512), "512B");
  EXPECT_EQ(format_bytes(1536), "1.5KiB");
  EXPECT_EQ(format_bytes(2830336), "2.7MiB");
  EXPECT_EQ(format_bytes(300.0 * 1024 * 1024), "300MiB");
  EXPECT_EQ(format_bytes(1.25 * 1024 * 1024 * 1024), "1.2GiB");
  EXPECT_EQ(format_bytes(-1), "-");
}

TEST(TopFormat, UptimeCountsWholeSeconds) {
  EXPECT_EQ(format_uptime(0), "0s");
  EXPECT_EQ(format_uptime(999), "0s");
  EXPECT_EQ(format_uptime(59'999), "59s");
  EXPECT_EQ(format_uptime(65'000), "1m05s");
  EXPECT_EQ(format_uptime(2 * 3600'000 + 3 * 60'000), "2h03m");
  EXPECT_EQ(format_uptime(3 * 86400'000LL + 4 * 3600'000), "3d04h");
  EXPECT_EQ(format_uptime(-5), "-");
}

TEST(TopFormat, FitCutsAtTheWidthAndMarksTheCut) {
  EXPECT_EQ(fit("planner", 10), "planner");
  EXPECT_EQ(fit("planner", 7), "planner");
  EXPECT_EQ(fit("planner", 5), "plan~");
  EXPECT_EQ(fit("planner", 1), "~");
  EXPECT_EQ(fit("planner", 0), "");
  // Never inside a UTF-8 sequence: "é" is two bytes, one column.
  EXPECT_EQ(fit("caméra-avant", 5), "camé~");
}

TEST(TopModel, FlattensTheTreeWithGroupsAndDepth) {
  const auto rows = flatten_status(status_reply()["tree"]);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].name, "lidar");
  EXPECT_EQ(rows[0].depth, 0);
  EXPECT_EQ(rows[0].pid, 101);
  ASSERT_TRUE(rows[0].cpu_percent.has_value());
  EXPECT_DOUBLE_EQ(*rows[0].cpu_percent, 3.25);
  ASSERT_TRUE(rows[0].phi.has_value());
  EXPECT_TRUE(rows[1].group);
  EXPECT_EQ(rows[1].name, "nav");
  EXPECT_EQ(rows[2].name, "planner");
  EXPECT_EQ(rows[2].depth, 1);
  EXPECT_EQ(rows[2].restarts, 3);
  EXPECT_FALSE(rows[2].rss_bytes.has_value());
  EXPECT_FALSE(rows[2].phi.has_value());
  EXPECT_EQ(rows[3].state, "stopped");
}

TEST(TopModel, CountsComponentsByStateAndSummarisesTheHost) {
  const auto reply = status_reply();
  EXPECT_EQ(count_by_state(flatten_status(reply["tree"])),
            "3 components: 1 running, 1 backoff, 1 stopped");
  EXPECT_EQ(count_by_state({}), "0 components");
  EXPECT_EQ(host_summary(reply["host"]),
            "host WARN  cpu 12.5%  load 0.52  mem 1.2GiB/7.6GiB free  disk 40.0GiB/120GiB free");
  EXPECT_EQ(host_summary(json()), "");
}

TEST(TopModel, StatesAndLevelsHaveTheirColours) {
  EXPECT_EQ(state_paint("running"), Paint::ok);
  EXPECT_EQ(state_paint("starting"), Paint::warn);
  EXPECT_EQ(state_paint("stopping"), Paint::warn);
  EXPECT_EQ(state_paint("backoff"), Paint::error);
  EXPECT_EQ(state_paint("failed"), Paint::error);
  EXPECT_EQ(state_paint("stopped"), Paint::dim);
  EXPECT_EQ(level_paint("WARN"), Paint::warn);
  EXPECT_EQ(level_paint("ERROR"), Paint::error);
  EXPECT_EQ(level_paint("OK"), Paint::plain);
}

TEST(TopModel, WideRowShowsEveryColumn) {
  Model model;
  model.on_status(status_reply());
  model.on_event({{"component", "lidar"}, {"kind", "ready"}, {"reason", "READY=1"}});
  const auto lines = model.table_lines(160);
  ASSERT_EQ(lines.size(), 5u);  // heading + 4 rows
  const std::string heading = text_of(lines[0]);
  for (const char* column : {"NAME", "STATE", "LEVEL", "PID", "UPTIME", "RESTARTS", "CPU%", "RSS",
                             "PHI", "LAST EVENT"}) {
    EXPECT_NE(heading.find(column), std::string::npos) << column << " in: " << heading;
  }
  const std::string lidar = text_of(lines[1]);
  EXPECT_EQ(lidar.rfind("> lidar", 0), 0u) << "the first row starts selected: " << lidar;
  for (const char* figure : {"running", "OK", "101", "1m05s", "3.2%", "2.7MiB", "0.4", "READY=1"}) {
    EXPECT_NE(lidar.find(figure), std::string::npos) << figure << " in: " << lidar;
  }
  const std::string nav = text_of(lines[2]);
  EXPECT_EQ(nav.rfind("  nav/", 0), 0u) << nav;
  const std::string planner = text_of(lines[3]);
  EXPECT_EQ(planner.rfind("    planner", 0), 0u) << "indented under nav: " << planner;
  EXPECT_NE(planner.find("backoff"), std::string::npos);
  // Not running: no uptime, no pid.
  EXPECT_EQ(planner.find("1s"), std::string::npos) << planner;
  for (const auto& line : lines) EXPECT_LE(right_edge(line), 160);
}

TEST(TopModel, NarrowTerminalsDropColumnsThenCutTheLine) {
  Model model;
  model.on_status(status_reply());
  model.on_event({{"component", "planner"},
                  {"kind", "exited"},
                  {"reason", "a very long reason that cannot fit in a narrow terminal\nline 2"}});
  for (int width : {120, 80, 60, 40, 24, 10, 3}) {
    for (const auto& line : model.table_lines(width)) {
      EXPECT_LE(right_edge(line), width) << "width " << width << ": " << text_of(line);
      EXPECT_EQ(text_of(line).find('\n'), std::string::npos);
    }
    EXPECT_LE(right_edge(model.header_line(width)), width);
  }
  // At 60 columns phi, RSS and CPU give way; name and state stay.
  const auto layout = compute_layout(model.rows(), 60);
  EXPECT_FALSE(layout.phi);
  EXPECT_FALSE(layout.rss);
  EXPECT_TRUE(layout.restarts);
  const auto narrow = model.table_lines(40);
  const std::string planner = text_of(narrow[3]);
  EXPECT_NE(planner.find("planner"), std::string::npos) << planner;
  EXPECT_NE(planner.find("backoff"), std::string::npos) << planner;
  // The long reason is cut, and the cut shows.
  const std::string at80 = text_of(model.table_lines(80)[3]);
  EXPECT_EQ(at80.back(), '~') << at80;
}

TEST(TopModel, SelectionFollowsTheComponentAcrossRefreshes) {
  Model model;
  model.on_status(status_reply());
  model.select_next();
  model.select_next();
  EXPECT_EQ(model.selected(), "planner");
  model.select_next();
  model.select_next();  // stays on the last row
  EXPECT_EQ(model.selected(), "camera");
  model.select_previous();
  EXPECT_EQ(model.selected(), "planner");
  // lidar disappears (reload): planner stays selected although its line moved up.
  auto reply = status_reply();
  reply["tree"]["children"].erase(0);
  model.on_status(reply);
  EXPECT_EQ(model.selected(), "planner");
  EXPECT_EQ(model.selected_index(), 1);
}

TEST(TopModel, UnreachableClearsTheRowsAndSaysSo) {
  Model model;
  model.on_status(status_reply());
  EXPECT_TRUE(model.reachable());
  model.on_unreachable("/x/control.sock: Connection refused");
  EXPECT_FALSE(model.reachable());
  EXPECT_TRUE(model.rows().empty());
  EXPECT_FALSE(model.selected().has_value());
  const std::string header = text_of(model.header_line(120));
  EXPECT_NE(header.find("vigild not reachable"), std::string::npos) << header;
  model.on_status(status_reply());
  EXPECT_NE(text_of(model.header_line(160)).find("vigild pid 4242  3 components"),
            std::string::npos)
      << text_of(model.header_line(160));
}

TEST(TopModel, LastEventIsTheNewestReasonOfEachComponent) {
  Model model;
  model.on_event({{"component", "planner"}, {"kind", "exited"}, {"reason", "killed by SIGKILL"}});
  model.on_event({{"component", "planner"}, {"kind", "spawned"}, {"reason", "spawned pid 7"}});
  model.on_event({{"component", "lidar"}, {"kind", "ready"}, {"reason", ""}});
  model.on_event({{"component", ""}, {"kind", "daemon_started"}, {"reason", "vigild started"}});
  EXPECT_EQ(model.last_event("planner"), "spawned pid 7");
  EXPECT_EQ(model.last_event("lidar"), "ready");  // no reason: the kind says enough
  EXPECT_EQ(model.last_event(""), "");
}

}  // namespace
}  // namespace vigil::cli::top
