# history: sources and tests of this part (target_sources on vigil_core, vigil_unit_tests or
# vigil_integration_tests; paths from ${PROJECT_SOURCE_DIR}).
