// `vigil top` as an operator sees it: run in a detached tmux session against a real vigild and
// read back from the pane; and `vigil token`.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "integration/harness.hpp"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;

const char* kRobot = R"(
root:
  children:
    - name: lidar
      command: [@BIN@/robot_sim, --status, scanning]
      ready: notify
    - name: nav
      children:
        - name: planner
          command: [@BIN@/robot_sim]
          ready: notify
          backoff: {initial: 10ms}
    - name: camera
      command: [@BIN@/robot_sim]
      ready: notify
)";

std::string find_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const fs::path candidate = fs::path(dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// A tmux server of the test's own (-L, no user config) with one session, "top", running `vigil
// top` and then printing its exit status, so that the pane shows how top ended.
class TmuxTop {
 public:
  TmuxTop(const std::string& tmux, const std::string& config)
      : tmux_(tmux), server_(next_server_name()) {
    const std::string command = shell_quote(bin("vigil")) + " top -c " + shell_quote(config) +
                                "; echo \"vigil top exited with status $?\"; sleep 600";
    auto r = run({"new-session", "-d", "-x", "160", "-y", "40", "-s", "top", command});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const auto socket = words(run({"display-message", "-p", "#{socket_path}"}).output);
    if (!socket.empty()) socket_path_ = socket.front();
  }
  ~TmuxTop() {
    run({"kill-server"});
    // tmux leaves its socket file behind; one per test run would pile up in /tmp.
    if (!socket_path_.empty()) ::unlink(socket_path_.c_str());
  }

  CommandResult run(std::vector<std::string> args) const {
    args.insert(args.begin(), {tmux_, "-L", server_, "-f", "/dev/null"});
    return run_command(args);
  }
  std::string pane() const { return run({"capture-pane", "-p", "-t", "top"}).output; }
  void keys(const std::string& key) const {
    auto r = run({"send-keys", "-t", "top", key});
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }

  // Polls the pane until `pred` holds (generous: CI machines are slow); returns the last pane.
  std::string wait_for(const std::function<bool(const std::string&)>& pred,
                       std::chrono::milliseconds timeout = 20s) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string text = pane();
    while (!pred(text) && std::chrono::steady_clock::now() < deadline) {
      ::poll(nullptr, 0, 100);
      text = pane();
    }
    last_ = text;
    return text;
  }
  bool wait_for_text(const std::string& needle, std::chrono::milliseconds timeout = 20s) const {
    const auto text = wait_for(
        [&](const std::string& t) { return t.find(needle) != std::string::npos; }, timeout);
    return text.find(needle) != std::string::npos;
  }
  const std::string& last_pane() const { return last_; }

 private:
  static std::string next_server_name() {
    static std::atomic<int> counter{0};
    return "vigil-top-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  }

  std::string tmux_;
  std::string server_;
  std::string socket_path_;
  mutable std::string last_;
};

// The words of the table row of `name` (a leading "> " selection marker is dropped):
// NAME STATE LEVEL PID UPTIME RESTARTS ...; empty if the row is not shown.
std::vector<std::string> row_of(const std::string& pane, const std::string& name) {
  std::istringstream lines(pane);
  for (std::string line; std::getline(lines, line);) {
    auto w = words(line);
    if (!w.empty() && w[0] == ">") w.erase(w.begin());
    if (!w.empty() && w[0] == name) return w;
  }
  return {};
}

std::string selected_row(const std::string& pane) {
  std::istringstream lines(pane);
  for (std::string line; std::getline(lines, line);) {
    const auto w = words(line);
    if (w.size() >= 2 && w[0] == ">") return w[1];
  }
  return "";
}

std::string first_line(const std::string& pane) {
  return pane.substr(0, pane.find('\n'));
}

TEST(CliTop, ShowsComponentsFollowsRestartsAndRestartsOnRequest) {
  const std::string tmux = find_in_path("tmux");
  ASSERT_FALSE(tmux.empty()) << "tmux is not installed: scripts/setup-deps.sh installs it";
  Vigild v(kRobot);
  v.start();
  for (const char* name : {"lidar", "planner", "camera"}) v.wait_for(name, "ready");

  TmuxTop top(tmux, v.config_path());
  auto running = [](const std::string& pane, const std::string& name) {
    const auto row = row_of(pane, name);
    return row.size() > 1 && row[1] == "running";
  };
  top.wait_for([&](const std::string& pane) {
    return running(pane, "lidar") && running(pane, "planner") && running(pane, "camera");
  });
  const std::string& pane = top.last_pane();
  ASSERT_TRUE(running(pane, "lidar") && running(pane, "planner") && running(pane, "camera"))
      << pane;
  EXPECT_FALSE(row_of(pane, "nav/").empty()) << "the group has its row:\n" << pane;
  const std::string header = first_line(pane);
  EXPECT_NE(header.find("vigild pid " + std::to_string(v.pid())), std::string::npos) << header;
  EXPECT_NE(header.find("3 components: 3 running"), std::string::npos) << header;
  EXPECT_NE(header.find("host "), std::string::npos) << header;
  for (const char* column : {"NAME", "STATE", "RESTARTS", "CPU%", "RSS", "LAST EVENT"}) {
    EXPECT_NE(pane.find(column), std::string::npos) << column << "\n" << pane;
  }
  EXPECT_NE(pane.find("q quit"), std::string::npos) << "key help in the footer:\n" << pane;
  ASSERT_EQ(row_of(pane, "planner").size() >= 6, true) << pane;
  EXPECT_EQ(row_of(pane, "planner")[5], "0") << pane;

  // A crash behind vigild's back: the restart count in the pane goes up.
  const int planner_pid = v.component("planner")["pid"].get<int>();
  ASSERT_GT(planner_pid, 1);
  ASSERT_EQ(::kill(planner_pid, SIGKILL), 0);
  auto exited = v.wait_for([&](const json& e) {
    return e["component"] == "planner" && e["kind"] == "exited" && e.value("failure", "") != "";
  });
  v.wait_for("planner", "ready", 10s, exited["id"]);
  top.wait_for([&](const std::string& p) {
    const auto row = row_of(p, "planner");
    return row.size() >= 6 && row[1] == "running" && row[5] == "1";
  });
  {
    const auto row = row_of(top.last_pane(), "planner");
    ASSERT_GE(row.size(), 6u) << top.last_pane();
    EXPECT_EQ(row[5], "1") << top.last_pane();
    EXPECT_NE(row[3], std::to_string(planner_pid)) << "a new process:\n" << top.last_pane();
  }

  // Select planner (lidar, nav/, planner, camera) with both kinds of key.
  EXPECT_EQ(selected_row(top.last_pane()), "lidar") << top.last_pane();
  top.keys("j");
  top.keys("Down");
  ASSERT_EQ(
      selected_row(top.wait_for([](const std::string& p) { return selected_row(p) == "planner"; })),
      "planner")
      << top.last_pane();

  // r asks first; y sends the restart, and vigild records it as an operator command.
  top.keys("r");
  ASSERT_TRUE(top.wait_for_text("restart planner? [y/n]")) << top.last_pane();
  EXPECT_TRUE(v.events_of("planner", "operator_command").empty()) << "nothing sent before y";
  top.keys("y");
  auto op = v.wait_for(
      [](const json& e) {
        return e["component"] == "planner" && e["kind"] == "operator_command" &&
               e["reason"] == "operator: restart planner";
      },
      20s);
  v.wait_for("planner", "ready", 20s, op["id"]);
  EXPECT_TRUE(top.wait_for_text("restart planner: ok")) << top.last_pane();

  // A narrower terminal: the layout gives up columns instead of wrapping.
  auto resized = top.run({"resize-window", "-t", "top", "-x", "70", "-y", "20"});
  EXPECT_EQ(resized.exit_code, 0) << resized.output;
  top.wait_for([](const std::string& p) {
    return p.find("RSS") == std::string::npos && !row_of(p, "planner").empty();
  });
  EXPECT_EQ(top.last_pane().find("RSS"), std::string::npos) << top.last_pane();
  EXPECT_FALSE(row_of(top.last_pane(), "planner").empty()) << top.last_pane();
  {
    std::istringstream lines(top.last_pane());
    for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 70u) << line;
  }

  top.keys("q");
  EXPECT_TRUE(top.wait_for_text("vigil top exited with status 0")) << top.last_pane();
}

TEST(CliTop, WaitsForVigildAndShowsItOnceItIsUp) {
  const std::string tmux = find_in_path("tmux");
  ASSERT_FALSE(tmux.empty()) << "tmux is not installed: scripts/setup-deps.sh installs it";
  Vigild v(kRobot);  // not started yet
  TmuxTop top(tmux, v.config_path());
  ASSERT_TRUE(top.wait_for_text("vigild not reachable")) << top.last_pane();

  v.start();
  top.wait_for([](const std::string& p) {
    const auto row = row_of(p, "camera");
    return row.size() > 1 && row[1] == "running";
  });
  EXPECT_EQ(row_of(top.last_pane(), "camera").at(1), "running") << top.last_pane();
  EXPECT_EQ(top.last_pane().find("not reachable"), std::string::npos) << top.last_pane();

  // vigild goes away: top stays and says so, rather than exiting.
  EXPECT_EQ(v.stop(), 0);
  EXPECT_TRUE(top.wait_for_text("vigild not reachable")) << top.last_pane();
  EXPECT_EQ(top.last_pane().find("exited with status"), std::string::npos) << top.last_pane();
  top.keys("q");
  EXPECT_TRUE(top.wait_for_text("vigil top exited with status 0")) << top.last_pane();
}

TEST(CliTop, RefusesToRunWithoutATerminal) {
  auto r = run_command({bin("vigil"), "--socket", "/nonexistent/control.sock", "top"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("needs a terminal"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("vigil status"), std::string::npos) << r.output;
}

TEST(CliToken, PrintsTheTokenFromStateDirOrSaysWhyNot) {
  Vigild v(kRobot);  // only its config and directories: the token file is written by hand
  const std::string token_file = v.state_dir() + "/token";
  auto missing = run_command({bin("vigil"), "-c", v.config_path(), "token"});
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(
      missing.output.find("vigild has not created a token yet: is it running with http enabled?"),
      std::string::npos)
      << missing.output;

  fs::create_directories(v.state_dir());
  std::ofstream(token_file) << "3f9a0c1e2b7d4c55a1e0f6b2c9d8e7a1\n";
  fs::permissions(token_file, fs::perms::owner_read | fs::perms::owner_write);
  auto present = run_command({bin("vigil"), "-c", v.config_path(), "token"});
  EXPECT_EQ(present.exit_code, 0) << present.output;
  EXPECT_EQ(present.output, "3f9a0c1e2b7d4c55a1e0f6b2c9d8e7a1\n");
  // The socket option names the same state_dir.
  auto by_socket =
      run_command({bin("vigil"), "--socket", v.state_dir() + "/control.sock", "token"});
  EXPECT_EQ(by_socket.output, "3f9a0c1e2b7d4c55a1e0f6b2c9d8e7a1\n");
}

}  // namespace
}  // namespace vigil::testing
