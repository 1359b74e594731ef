#pragma once
// YAML -> validated SystemSpec. Every problem is reported as FILE:LINE:COL: error: ...;
// a config with any error yields no spec at all, so nothing half-valid ever starts.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/spec.hpp"

namespace vigil::config {

struct Diagnostic {
  SourceLocation where;
  std::string message;
  // "robot.yaml:12:7: error: unknown key 'comand' (did you mean 'command'?)"
  std::string format() const;
};

struct LoadResult {
  std::optional<SystemSpec> spec;
  std::vector<Diagnostic> errors;
  bool ok() const { return spec.has_value(); }
  std::string format_errors() const;  // one line per error
};

struct LoadOptions {
  // Checks that each command names an existing executable. Off only for fuzzing.
  bool check_executables = true;
};

// Relative paths in the config (state_dir, cwd, command[0] with a '/') are relative to the
// config file's directory, so a config means the same wherever vigild is started from.
LoadResult load_config_file(const std::string& path, const LoadOptions& options = {});
LoadResult load_config_text(std::string_view text, const std::string& file_name,
                            const LoadOptions& options = {});

}  // namespace vigil::config
