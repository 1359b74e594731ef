# The example warehouse robot (examples/warehouse/): seven small programs, one per ROS 2 node,
# talking ROS 2's wire types over Cyclone DDS and supervised by vigild (robot.yaml). Targets are
# warehouse_<node>; the programs are bin/<node> (lidar, camera, ...), so vigil's logs and
# `ps` name them as the robot's parts.
idlc_generate(TARGET warehouse_types FILES ${PROJECT_SOURCE_DIR}/examples/warehouse/warehouse_msgs.idl
  NO_TYPE_INFO)

set(WAREHOUSE_NODES lidar camera odometry localization planner controller battery)
foreach(node IN LISTS WAREHOUSE_NODES)
  add_executable(warehouse_${node} ${PROJECT_SOURCE_DIR}/examples/warehouse/${node}.cpp)
  set_target_properties(warehouse_${node} PROPERTIES OUTPUT_NAME ${node})
  target_include_directories(warehouse_${node} PRIVATE ${PROJECT_SOURCE_DIR}/examples/warehouse)
  target_link_libraries(warehouse_${node} PRIVATE warehouse_types libvigil_dds)
  list(APPEND WAREHOUSE_TARGETS warehouse_${node})
endforeach()
# `cmake --build build --target warehouse` builds the robot.
add_custom_target(warehouse DEPENDS ${WAREHOUSE_TARGETS})

if(VIGIL_TESTS)
  target_sources(vigil_integration_tests PRIVATE
    ${PROJECT_SOURCE_DIR}/tests/warehouse/warehouse_test.cpp)
  add_dependencies(vigil_integration_tests warehouse)
endif()
