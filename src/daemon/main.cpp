// vigild: the supervisor daemon. Thin: parse arguments, load the config, run.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "chaos/hog.hpp"
#include "config/loader.hpp"
#include "daemon/daemon.hpp"

int main(int argc, char** argv) {
  using namespace vigil;
  if (argc >= 2 && std::string(argv[1]) == chaos::kHogFlag) {
    return chaos::run_hog(std::vector<std::string>(argv + 2, argv + argc));
  }
  CLI::App app{"vigild: launches, watches and restarts a robot's programs"};
  std::string config_path;
  std::string log_level = "info";
  bool check_only = false;
  app.add_option("-c,--config", config_path, "the robot's YAML config")->required();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_flag("--check", check_only, "validate the config and exit (status 2 if invalid)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : daemon::kExitUsage;
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("vigild: %^%l%$: %v");
  try {
    auto loaded = config::load_config_file(config_path);
    if (!loaded.ok()) {
      std::cerr << loaded.format_errors();
      std::cerr << "vigild: the config has " << loaded.errors.size()
                << " error(s); nothing was started\n";
      return daemon::kExitConfig;
    }
    if (check_only) {
      std::cout << config_path << ": ok\n";
      return daemon::kExitOk;
    }
    return daemon::run_daemon(*loaded.spec, {config_path});
  } catch (const std::exception& e) {
    spdlog::critical("internal error: {}", e.what());
    return daemon::kExitInternal;
  }
}
