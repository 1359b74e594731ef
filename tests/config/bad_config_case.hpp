#pragma once
// A config that must be refused with one precise first error, for parameterized tests.
#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "config/loader.hpp"

namespace vigil::config {

struct BadConfigCase {
  const char* what;
  std::string yaml;
  const char* error;  // the complete first error line
};

inline void expect_first_error(const BadConfigCase& c) {
  auto r = load_config_text(c.yaml, "robot.yaml");
  EXPECT_FALSE(r.ok()) << c.what;
  ASSERT_FALSE(r.errors.empty()) << c.what;
  EXPECT_EQ(r.errors.front().format(), c.error) << c.what << "\nall errors:\n" << r.format_errors();
}

// The test's name from `what`: letters and digits kept, the rest as '_'.
inline std::string bad_config_case_name(const ::testing::TestParamInfo<BadConfigCase>& info) {
  std::string name;
  for (const char* p = info.param.what; *p != '\0'; ++p) {
    name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
  }
  return name;
}

}  // namespace vigil::config
