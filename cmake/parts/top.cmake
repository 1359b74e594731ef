# top: sources and tests of this part (target_sources on vigil_core, vigil_unit_tests or
# vigil_integration_tests; paths from ${PROJECT_SOURCE_DIR}).

# The model and formatting of `vigil top` are plain C++ (unit-tested); only the screen part
# needs ncurses, and only the `vigil` executable links it.
target_sources(vigil_core PRIVATE ${PROJECT_SOURCE_DIR}/src/cli/top_model.cpp)

set(CURSES_NEED_NCURSES TRUE)
set(CURSES_NEED_WIDE TRUE)  # UTF-8 names and reasons
find_package(Curses REQUIRED)
target_sources(vigil PRIVATE ${PROJECT_SOURCE_DIR}/src/cli/top.cpp)
target_include_directories(vigil PRIVATE ${CURSES_INCLUDE_DIRS})
target_compile_options(vigil PRIVATE ${CURSES_CFLAGS})
target_link_libraries(vigil PRIVATE ${CURSES_LIBRARIES})

if(VIGIL_TESTS)
  target_sources(vigil_unit_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/cli/top_model_test.cpp)
  # Drives `vigil top` in a detached tmux session against a real vigild.
  target_sources(vigil_integration_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/cli/top_test.cpp)
endif()
