# mode_rule: the expression language of system-mode rules (src/health/mode_rule.*), its unit
# tests, and a libFuzzer target built only with -DVIGIL_FUZZ=ON (clang; see fuzz/run.sh).
target_sources(vigil_core PRIVATE ${PROJECT_SOURCE_DIR}/src/health/mode_rule.cpp)
if(VIGIL_TESTS)
  target_sources(vigil_unit_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/health/mode_rule_test.cpp)
endif()
if(VIGIL_FUZZ)
  # Self-contained (fuzz/CMakeLists.txt is processed later and its vigil_parsers library does
  # not hold the health sources): the rule parser needs only state.cpp, fmt and nlohmann-json.
  set(MODE_RULE_FUZZ_FLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
  add_executable(fuzz_mode_rule
    ${PROJECT_SOURCE_DIR}/fuzz/mode_rule_fuzz.cpp
    ${PROJECT_SOURCE_DIR}/src/health/mode_rule.cpp
    ${PROJECT_SOURCE_DIR}/src/health/state.cpp
  )
  target_include_directories(fuzz_mode_rule PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(fuzz_mode_rule PRIVATE ${MODE_RULE_FUZZ_FLAGS})
  target_link_options(fuzz_mode_rule PRIVATE ${MODE_RULE_FUZZ_FLAGS})
  target_link_libraries(fuzz_mode_rule PRIVATE fmt::fmt nlohmann_json::nlohmann_json)
endif()
