#include "process/output_log.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace vigil::process {
namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(OutputLog, KeepsTheLastLinesAndRotatesBySize) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("vigil-output-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "lidar.log").string();
  config::OutputSpec spec;
  spec.max_size = 4096;
  spec.keep = 2;
  OutputLog log(path, spec);
  std::string total;
  for (int i = 0; i < 300; ++i) {
    const std::string line = "line " + std::to_string(i) + " " + std::string(20, 'x') + "\n";
    log.append(line);
    total += line;
  }
  log.append("partial");
  auto tail = log.tail(3);
  ASSERT_EQ(tail.size(), 3u);
  EXPECT_EQ(tail[0].rfind("line 298", 0), 0u);
  EXPECT_EQ(tail[1].rfind("line 299", 0), 0u);
  EXPECT_EQ(tail[2], "partial");
  EXPECT_LE(std::filesystem::file_size(path), 4096u);
  EXPECT_TRUE(std::filesystem::exists(path + ".1"));
  EXPECT_TRUE(std::filesystem::exists(path + ".2"));
  EXPECT_FALSE(std::filesystem::exists(path + ".3"));
  // Nothing lost inside the kept files: .2, .1 and the current file are contiguous.
  const std::string kept = read(path + ".2") + read(path + ".1") + read(path);
  EXPECT_EQ(total + "partial", total.substr(0, total.size() - (kept.size() - 7)) + kept);
  int received = 0;
  const int id =
      log.subscribe([&](std::string_view chunk) { received += static_cast<int>(chunk.size()); });
  log.append("abc\n");
  log.unsubscribe(id);
  log.append("def\n");
  EXPECT_EQ(received, 4);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil::process
